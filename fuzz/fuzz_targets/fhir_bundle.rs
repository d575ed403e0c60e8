//! Any bytes as a FHIR Bundle from a hospital's system: the reader may refuse it, but must
//! never panic or hang; every fault names a resource and an element; every entry it returns
//! passes the checks every entry passes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safeguard_core::AgencyId;
use safeguard_interop::fhir::read_bundle;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let agency = AgencyId::parse("north-general-hospital").expect("an id");
    let now = chrono::DateTime::from_timestamp(1_717_243_200, 0).expect("a time");
    match read_bundle(text, &agency, now) {
        Ok(entries) => {
            for e in entries {
                e.validate().expect("a returned entry is valid");
                e.check_plausible(now).expect("a returned entry is plausible");
                assert_eq!(e.agency, agency);
            }
        }
        Err(faults) => {
            assert!(!faults.is_empty());
            for f in faults {
                assert!(!f.resource.is_empty());
                assert!(!f.reason.is_empty());
            }
        }
    }
});
