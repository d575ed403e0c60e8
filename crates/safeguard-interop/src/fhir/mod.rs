//! FHIR R4 (UK Core): a transaction Bundle of Patient, RelatedPerson, Encounter, Condition,
//! Observation and Flag from an agency's system as entries ([`read_bundle`]), and a child's
//! record as a Bundle with the child protection status as a CP-IS-style Flag
//! ([`everything`]). The NHS number is the identifier of system
//! `https://fhir.nhs.uk/Id/nhs-number`.
//!
//! What the resources carry as FHIR has it: an Encounter is a hospital attendance (class
//! `EMER` or `IMP`) or an appointment (`AMB`, cancelled when the child was not brought), a
//! Condition an injury (its body site, the explanation given as a note), an Observation a
//! note. What FHIR has no element for (an entry's summary, its author, a clinician's view of
//! the explanation) travels in extensions (`urn:safeguard:extension:*`), so that a record
//! exported and imported again is the same record.

mod export;
mod import;

pub use export::everything;
pub use import::{FhirFault, read_bundle, read_bundle_json};

use chrono::{DateTime, NaiveDateTime, Utc};
use safeguard_core::{OccurredAt, ParticipantRole, Precision};

/// The NHS number's identifier system.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// An agency's own identifier of a person: `urn:safeguard:person:AGENCY`, the value its
/// local id.
const PERSON_SYSTEM: &str = "urn:safeguard:person:";
/// An entry's identifier: `urn:safeguard:entry:AGENCY:SYSTEM`, the value its source id.
const ENTRY_SYSTEM: &str = "urn:safeguard:entry:";
/// The identifier of the Flag Safeguard derives from a child's plans: a view of entries
/// already held, never imported.
const CP_STATUS_SYSTEM: &str = "urn:safeguard:cp-status";
/// A participant's part in an entry, as a coding.
const ROLE_SYSTEM: &str = "urn:safeguard:participant-role";
/// An injury's kind, as a coding.
const INJURY_SYSTEM: &str = "urn:safeguard:injury-type";
/// The kind of an entry exported as an Encounter.
const KIND_SYSTEM: &str = "urn:safeguard:entry-kind";
const SUMMARY_EXTENSION: &str = "urn:safeguard:extension:summary";
const AUTHOR_EXTENSION: &str = "urn:safeguard:extension:author";
const OPINION_EXTENSION: &str = "urn:safeguard:extension:medical-opinion";
const COUNT_EXTENSION: &str = "urn:safeguard:extension:injury-count";
const ACT_CODE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const ROLE_CODE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";

/// The v3 RoleCode of a parent, for systems that read no Safeguard coding.
fn role_code(role: ParticipantRole) -> Option<&'static str> {
    (role == ParticipantRole::Parent).then_some("PRN")
}

/// A v3 RoleCode's part in a child's entry: parents (natural, step, adoptive) are parents,
/// guardians and foster parents carers, anyone else another adult.
fn role_of_code(code: &str) -> ParticipantRole {
    match code {
        "PRN" | "MTH" | "FTH" | "NPRN" | "NMTH" | "NFTH" | "STPPRN" | "STPMTH" | "STPFTH"
        | "ADOPTP" | "ADOPTM" | "ADOPTF" => ParticipantRole::Parent,
        "GUARD" | "FOSTERPARENT" | "FOSTPRN" => ParticipantRole::Carer,
        "SIB" | "BRO" | "SIS" | "HSIB" | "STPSIB" => ParticipantRole::OtherChild,
        _ => ParticipantRole::OtherAdultPresent,
    }
}

fn role_named(name: &str) -> Option<ParticipantRole> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// An entry's time as a FHIR dateTime: a date, or a UTC time (FHIR requires a time zone with
/// a time; entries hold UK local time).
fn fhir_date_time(at: &OccurredAt) -> String {
    match at.precision() {
        Precision::Month => at.start().format("%Y-%m").to_string(),
        Precision::Day => at.date().format("%Y-%m-%d").to_string(),
        Precision::Minute | Precision::Second => {
            let utc = crate::agency_csv::uk_local_to_utc(at.start());
            let format = if at.precision() == Precision::Minute {
                "%Y-%m-%dT%H:%M:00Z"
            } else {
                "%Y-%m-%dT%H:%M:%SZ"
            };
            utc.format(format).to_string()
        }
    }
}

/// A FHIR dateTime as an entry's time, in UK local time (a time with no seconds is known to
/// the minute).
fn occurred_at(text: &str) -> Option<OccurredAt> {
    if text.len() <= 10 {
        return OccurredAt::parse(text).ok();
    }
    let utc = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    let local = utc_to_uk_local(utc);
    let shape = if local.format("%S").to_string() == "00" {
        "%Y-%m-%dT%H:%M"
    } else {
        "%Y-%m-%dT%H:%M:%S"
    };
    OccurredAt::parse(&local.format(shape).to_string()).ok()
}

/// UK local time of a UTC time: British Summer Time from 01:00 UTC on the last Sunday of March
/// to 01:00 UTC on the last Sunday of October.
fn utc_to_uk_local(utc: DateTime<Utc>) -> NaiveDateTime {
    let naive = utc.naive_utc();
    let summer = naive + chrono::Duration::hours(1);
    if crate::agency_csv::uk_local_to_utc(summer).naive_utc() == naive {
        summer
    } else {
        naive
    }
}

#[cfg(test)]
mod tests;
