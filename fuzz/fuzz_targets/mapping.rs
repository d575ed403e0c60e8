//! Any text as a mapping, then the GP sample read through it when it parses: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safeguard_core::AgencyId;
use safeguard_interop::agency_csv::{Mapping, read_rows};

const SAMPLE: &str = include_str!("../../data/mappings/gp-consultations.csv");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mapping) = Mapping::parse(text) else {
        return;
    };
    let agency = AgencyId::parse("elm-road-surgery").expect("an id");
    let now = chrono::DateTime::from_timestamp(1_717_243_200, 0).expect("a time");
    let _ = read_rows(&mapping, &agency, SAMPLE.as_bytes(), now, || {});
});
