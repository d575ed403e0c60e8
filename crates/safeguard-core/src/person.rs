//! People as agencies record them. A **person record** is one agency's record of someone; a
//! **person** is the cluster of records that identity resolution says are the same human being.
//! Every query goes through the person, so linking records later changes no caller.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{NhsNumber, PartialDate, Postcode};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A person: a cluster of person records believed to be one human being.
    PersonId
);
uuid_id!(
    /// One agency's record of a person.
    RecordId
);
uuid_id!(
    /// An entry in the multi-agency record.
    EntryId
);

/// A name as written in a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonName {
    /// Given names in order (first name first).
    #[serde(default)]
    pub given: Vec<String>,
    /// Family name (surname), when known.
    #[serde(default)]
    pub family: Option<String>,
}

impl PersonName {
    /// A name from a first name and a family name.
    pub fn new(given: &str, family: &str) -> Self {
        Self {
            given: vec![given.to_owned()],
            family: Some(family.to_owned()),
        }
    }

    /// The name for reading: given names then family name, or a placeholder when none is known.
    pub fn display(&self) -> String {
        let parts: Vec<&str> = self
            .given
            .iter()
            .map(String::as_str)
            .chain(self.family.as_deref())
            .collect();
        if parts.is_empty() {
            "(name not recorded)".to_owned()
        } else {
            parts.join(" ")
        }
    }

    /// Whether any part of the name is known.
    pub fn is_empty(&self) -> bool {
        self.given.is_empty() && self.family.is_none()
    }

    fn validate(&self, field: &str) -> Result<(), FieldError> {
        for (i, g) in self.given.iter().enumerate() {
            if g.trim().is_empty() {
                return Err(FieldError::new(format!("{field}.given[{i}]"), "is blank"));
            }
        }
        if self.family.as_deref().is_some_and(|f| f.trim().is_empty()) {
            return Err(FieldError::new(format!("{field}.family"), "is blank"));
        }
        Ok(())
    }
}

/// Sex as recorded (NHS Data Dictionary "person stated gender" codes reduced to what agencies share).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Recorded as not known.
    Unknown,
}

/// A postal address; the postcode, when present, is valid in form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    /// Lines before the postcode, first line first (`Flat 2`, `14 Example Road`, `London`).
    #[serde(default)]
    pub lines: Vec<String>,
    /// Postcode.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "N17 6AA"))]
    pub postcode: Option<Postcode>,
}

impl Address {
    /// A key under which records of the same dwelling meet: the postcode and the first line with
    /// case, punctuation and spacing removed. Two flats in one building stay apart.
    pub fn key(&self) -> String {
        let first_line = self
            .lines
            .first()
            .map(|l| {
                l.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect::<String>()
            })
            .unwrap_or_default();
        let postcode = self.postcode.as_ref().map(Postcode::as_str).unwrap_or("");
        format!("{postcode}|{first_line}")
    }

    /// The address on one line, for reading.
    pub fn display(&self) -> String {
        self.lines
            .iter()
            .map(String::as_str)
            .chain(self.postcode.as_ref().map(Postcode::as_str))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn validate(&self, field: &str) -> Result<(), FieldError> {
        if self.lines.iter().all(|l| l.trim().is_empty()) && self.postcode.is_none() {
            return Err(FieldError::new(
                field,
                "an address needs at least a first line or a postcode",
            ));
        }
        Ok(())
    }
}

/// Why a string is not a telephone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a telephone number: {0:?} (expected 10 to 15 digits, optionally after a +)")]
pub struct PhoneError(pub String);

/// A telephone number, kept as its digits with an optional leading `+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses a number written with spaces, hyphens or brackets (`020 7946 0000`).
    pub fn parse(text: &str) -> Result<Self, PhoneError> {
        let trimmed = text.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                _ => return Err(PhoneError(text.to_owned())),
            }
        }
        if !(10..=15).contains(&digits.len()) {
            return Err(PhoneError(text.to_owned()));
        }
        Ok(Self(format!("{plus}{digits}")))
    }

    /// The number as digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One agency's record of a person, as sent with an entry. `local_id` is the agency's own
/// identifier for the person within its source system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRecord {
    /// The sending system's identifier for this person.
    pub local_id: String,
    /// The name the agency uses.
    #[serde(default)]
    pub name: PersonName,
    /// Other names recorded: aliases, nicknames, previous names.
    #[serde(default)]
    pub other_names: Vec<PersonName>,
    /// Date of birth, to the precision known.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "2006-06"))]
    pub date_of_birth: Option<PartialDate>,
    /// Expected date of delivery, for an unborn child.
    #[serde(default)]
    pub expected_date_of_birth: Option<NaiveDate>,
    /// Sex as recorded.
    #[serde(default)]
    pub sex: Option<Sex>,
    /// NHS number, validated by its check digit.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "9434765919"))]
    pub nhs_number: Option<NhsNumber>,
    /// Addresses, current first.
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Telephone number.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone: Option<Phone>,
    /// Ethnicity, by census code, as the agency recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity: Option<crate::Ethnicity>,
    /// Disabilities, by census code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabilities: Vec<crate::Disability>,
    /// Unique Pupil Number: a check letter then twelve characters (`A123456789012`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Date of death.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_death: Option<NaiveDate>,
}

impl PersonRecord {
    /// A record with only a local identifier and a name.
    pub fn named(local_id: &str, name: PersonName) -> Self {
        Self {
            local_id: local_id.to_owned(),
            name,
            other_names: Vec::new(),
            date_of_birth: None,
            expected_date_of_birth: None,
            sex: None,
            nhs_number: None,
            addresses: Vec::new(),
            phone: None,
            ethnicity: None,
            disabilities: Vec::new(),
            upn: None,
            date_of_death: None,
        }
    }

    /// Checks what field types cannot: identifiers and names are not blank, addresses say
    /// something. `field` is the path of this record in the request, for the error.
    pub fn validate(&self, field: &str) -> Result<(), FieldError> {
        if self.local_id.trim().is_empty() {
            return Err(FieldError::new(format!("{field}.local_id"), "is blank"));
        }
        self.name.validate(&format!("{field}.name"))?;
        for (i, n) in self.other_names.iter().enumerate() {
            n.validate(&format!("{field}.other_names[{i}]"))?;
        }
        for (i, a) in self.addresses.iter().enumerate() {
            a.validate(&format!("{field}.addresses[{i}]"))?;
        }
        if let Some(upn) = &self.upn
            && !is_upn(upn)
        {
            return Err(FieldError::new(
                format!("{field}.upn"),
                "is not a Unique Pupil Number: a letter, eleven digits, then a digit or a letter",
            ));
        }
        if let (Some(born), Some(died)) = (&self.date_of_birth, self.date_of_death)
            && died < born.earliest()
        {
            return Err(FieldError::new(
                format!("{field}.date_of_death"),
                "is before the date of birth",
            ));
        }
        Ok(())
    }

    /// The postcode of the current (first) address.
    pub fn current_postcode(&self) -> Option<&Postcode> {
        self.addresses.first().and_then(|a| a.postcode.as_ref())
    }
}

/// Whether a text is a Unique Pupil Number in form (DfE: a letter, eleven digits, and a digit
/// or, for a temporary number, a letter).
pub fn is_upn(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 13
        && b[0].is_ascii_uppercase()
        && b[1..12].iter().all(u8::is_ascii_digit)
        && (b[12].is_ascii_digit() || b[12].is_ascii_uppercase())
}

/// A bad value in a request or record: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// Path of the field (`persons[0].record.nhs_number`).
    pub field: String,
    /// Why the value was refused.
    pub reason: String,
}

impl FieldError {
    /// An error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error with `prefix.` before its field path.
    pub fn within(self, prefix: &str) -> Self {
        let field = if self.field.is_empty() || self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        Self { field, ..self }
    }
}

text_value!(Phone, PhoneError, |value| value.0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_keys_ignore_case_punctuation_and_spacing_but_not_the_flat() {
        let a = Address {
            lines: vec!["Flat 2, 14 Example Road".into()],
            postcode: Some(Postcode::parse("n17 6aa").unwrap()),
        };
        let b = Address {
            lines: vec!["FLAT 2 14 example road".into(), "London".into()],
            postcode: Some(Postcode::parse("N176AA").unwrap()),
        };
        let c = Address {
            lines: vec!["Flat 3, 14 Example Road".into()],
            postcode: Some(Postcode::parse("N17 6AA").unwrap()),
        };
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
    }

    #[test]
    fn phones_keep_digits_and_a_leading_plus() {
        assert_eq!(
            Phone::parse("020 7946 0000").unwrap().as_str(),
            "02079460000"
        );
        assert_eq!(
            Phone::parse("+44 20-7946 0000").unwrap().as_str(),
            "+442079460000"
        );
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("0207 ext 5").is_err());
    }

    #[test]
    fn a_blank_name_part_is_named_in_the_error() {
        let mut r = PersonRecord::named("P1", PersonName::new("Daniel", " "));
        assert_eq!(
            r.validate("persons[0].record").unwrap_err().field,
            "persons[0].record.name.family"
        );
        r.name.family = Some("Harker".into());
        r.addresses.push(Address::default());
        assert_eq!(
            r.validate("r").unwrap_err().field,
            "r.addresses[0]",
            "an empty address is refused"
        );
    }

    #[test]
    fn unknown_fields_in_a_record_are_refused() {
        let err = serde_json::from_str::<PersonRecord>(r#"{"local_id":"1","nhs":"x"}"#);
        assert!(err.unwrap_err().to_string().contains("unknown field `nhs`"));
    }
}
