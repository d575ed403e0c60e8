//! Any bytes as an agency's export, read through the shipped GP mapping: the reader may refuse
//! the file or any row, but must never panic or hang, and must name every row it refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safeguard_core::AgencyId;
use safeguard_interop::agency_csv::{Mapping, read_rows};

const MAPPING: &str = include_str!("../../data/mappings/gp-consultations.toml");
const HEADER: &str = "ConsultationID,PatientID,Forenames,Surname,DOB,Sex,NHSNumber,Address1,Address2,Postcode,ParentID,ParentForenames,ParentSurname,ConsultationDate,ConsultationTime,EnteredAt,Clinician,ClinicianRole,Type,Reason,InjurySite,InjuryType,Explanation,Summary\n";

fuzz_target!(|data: &[u8]| {
    let mapping = Mapping::parse(MAPPING).expect("the shipped mapping");
    let agency = AgencyId::parse("elm-road-surgery").expect("an id");
    let now = chrono::DateTime::from_timestamp(1_717_243_200, 0).expect("a time");
    // Behind the real header, so that the rows themselves are explored.
    let mut input = HEADER.as_bytes().to_vec();
    input.extend_from_slice(data);
    if let Ok((_, rows)) = read_rows(&mapping, &agency, input.as_slice(), now, || {}) {
        for row in rows {
            if let Err(e) = row.entry {
                assert!(!e.field.is_empty());
                assert!(!e.reason.is_empty());
            }
        }
    }
});
