//! Safeguard's domain: agencies, person records and persons, typed entries with provenance,
//! residences and relationships over time, and the households derived from them.
//!
//! Pure: no I/O, no async. Storage and HTTP are thin edges around these types.

mod agency;
mod dates;
mod entry;
pub mod household;
mod nhs_number;
mod person;
mod postcode;
mod stored;

pub use agency::{Agency, AgencyId, AgencyIdError, AgencyKind};
pub use dates::{DateError, OccurredAt, PartialDate, Precision};
pub use entry::*;
pub use household::{EvidenceStrength, Household};
pub use nhs_number::{NhsNumber, NhsNumberError, check_digit};
pub use person::{
    Address, EntryId, FieldError, PersonId, PersonName, PersonRecord, Phone, PhoneError, RecordId,
    Sex,
};
pub use postcode::{Postcode, PostcodeError};
pub use stored::{LinkedRecord, Person};
