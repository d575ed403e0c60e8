//! UK postcodes: an outward code (area and district) and an inward code (sector digit and unit).
//!
//! A valid format does not mean the postcode exists; that needs the ONS directory.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a UK postcode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a UK postcode: {0:?} (expected an outward and inward code such as \"N17 6AA\")")]
pub struct PostcodeError(pub String);

/// A UK postcode in its normal form: upper case, one space before the inward code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(String);

impl Postcode {
    /// Parses a postcode in any case and spacing (`n176aa`, `N17  6AA`).
    pub fn parse(text: &str) -> Result<Self, PostcodeError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.len() < 5 || compact.len() > 7 || !compact.is_ascii() {
            return Err(PostcodeError(text.to_owned()));
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        if !(is_outward(outward) && is_inward(inward)) {
            return Err(PostcodeError(text.to_owned()));
        }
        Ok(Self(format!("{outward} {inward}")))
    }

    /// A postcode district typed alone (`n17` → `N17`), as a search narrows by.
    pub fn parse_district(text: &str) -> Option<String> {
        let code = text.trim().to_ascii_uppercase();
        (code.is_ascii() && is_outward(&code)).then_some(code)
    }

    /// The whole postcode, normalised (`N17 6AA`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outward code, which names the postal district (`N17`).
    pub fn district(&self) -> &str {
        self.0.split(' ').next().unwrap_or_default()
    }

    /// The district plus the sector digit (`N17 6`), a few thousand addresses.
    pub fn sector(&self) -> &str {
        &self.0[..self.0.len() - 2]
    }
}

/// Outward codes: A9, A99, AA9, AA99, A9A, AA9A (and the special GIR of `GIR 0AA`).
fn is_outward(code: &str) -> bool {
    let b = code.as_bytes();
    let alpha = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphabetic);
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if code == "GIR" {
        return true;
    }
    match b.len() {
        2 => alpha(0) && digit(1),
        3 => alpha(0) && ((digit(1) && (digit(2) || alpha(2))) || (alpha(1) && digit(2))),
        4 => alpha(0) && alpha(1) && digit(2) && (digit(3) || alpha(3)),
        _ => false,
    }
}

/// Inward codes: a digit and two letters (`6AA`).
fn is_inward(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 3
        && b[0].is_ascii_digit()
        && b[1].is_ascii_alphabetic()
        && b[2].is_ascii_alphabetic()
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

text_value!(Postcode, PostcodeError, |value| value.0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outward_shape_is_accepted_and_normalised() {
        for (input, normal) in [
            ("m1 1aa", "M1 1AA"),
            ("M601NW", "M60 1NW"),
            ("cr2 6xh", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("w1a1hq", "W1A 1HQ"),
            ("EC1A  1BB", "EC1A 1BB"),
            ("n17 6aa", "N17 6AA"),
            ("GIR 0AA", "GIR 0AA"),
        ] {
            assert_eq!(Postcode::parse(input).unwrap().as_str(), normal, "{input}");
        }
    }

    #[test]
    fn malformed_postcodes_are_rejected() {
        for input in [
            "", "N17", "17 6AA", "N17 AAA", "N17 6A1", "NNN1 6AA", "N17 6AAA", "N1É 6AA",
        ] {
            assert!(
                Postcode::parse(input).is_err(),
                "{input:?} should be rejected"
            );
        }
    }

    #[test]
    fn district_and_sector_are_the_leading_parts() {
        let p = Postcode::parse("sw1a 2aa").unwrap();
        assert_eq!(p.district(), "SW1A");
        assert_eq!(p.sector(), "SW1A 2");
    }
}
