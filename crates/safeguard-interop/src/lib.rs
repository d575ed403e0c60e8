//! Safeguard's formats: how the field's own files become entries (agency CSV, FHIR R4, past
//! census returns), and what is made from entries (the CIN census, Annex A, FHIR). Parsing
//! and writing only: every reader returns domain values, or errors naming the file, the record
//! and the field (never a person's name or identifier), and leaves storing them to the caller.

pub mod agency_csv;
pub mod annex_a;
pub mod cin_census;
pub mod fhir;

#[cfg(test)]
mod fixture;
