//! Safeguard's domain: agencies, person records and persons, typed entries with provenance,
//! residences and relationships over time, and the households derived from them.
//!
//! Pure: no I/O, no async. Storage and HTTP are thin edges around these types.

/// Serde glue for a value exchanged as text: parsed (and so validated) on the way in by
/// `Type::parse`, written as `$text` on the way out; and `FromStr` for command lines.
macro_rules! text_value {
    ($type:ty, $error:ty, |$value:ident| $text:expr) => {
        impl TryFrom<String> for $type {
            type Error = $error;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$type> for String {
            fn from($value: $type) -> Self {
                $text
            }
        }

        impl std::str::FromStr for $type {
            type Err = $error;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }
    };
}

pub mod access;
mod agency;
pub mod calendar;
pub mod clocks;
mod dates;
mod entry;
pub mod household;
mod nhs_number;
mod person;
mod postcode;
pub mod process;
pub mod pseudonym;
pub mod review;
pub mod rules;
mod stored;
pub mod text;

pub use agency::{Agency, AgencyId, AgencyIdError, AgencyKind};
pub use dates::{DateError, OccurredAt, PartialDate, Precision};
pub use entry::*;
pub use household::{EvidenceStrength, Household};
pub use nhs_number::{NhsNumber, NhsNumberError, check_digit};
pub use person::{
    Address, EntryId, FieldError, PersonId, PersonName, PersonRecord, Phone, PhoneError, RecordId,
    Sex, is_upn,
};
pub use postcode::{Postcode, PostcodeError};
pub use process::*;
pub use stored::{LinkedRecord, Person};
