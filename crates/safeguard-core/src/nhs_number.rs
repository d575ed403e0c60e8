//! NHS numbers: ten digits whose last is a Modulus 11 check digit (NHS Data Dictionary).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an NHS number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    /// Not ten digits once spaces and hyphens are removed.
    #[error("an NHS number has 10 digits, this has {0} characters after removing spaces")]
    WrongLength(usize),
    /// A character other than a digit, space or hyphen.
    #[error("an NHS number has only digits, found {0:?}")]
    NotADigit(char),
    /// The Modulus 11 check gives 10, which no valid number has.
    #[error("not a valid NHS number: no check digit is possible for the first nine digits")]
    NoCheckDigitPossible,
    /// The last digit is not the one the first nine require.
    #[error("not a valid NHS number: the check digit should be {expected}, found {found}")]
    CheckDigitMismatch {
        /// The digit the first nine digits require.
        expected: u8,
        /// The digit given.
        found: u8,
    },
}

/// A valid NHS number, held as its ten digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Parses an NHS number written with or without spaces or hyphens (`943 476 5919`).
    pub fn parse(text: &str) -> Result<Self, NhsNumberError> {
        let mut digits = Vec::with_capacity(10);
        for c in text.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let d = c.to_digit(10).ok_or(NhsNumberError::NotADigit(c))?;
            digits.push(d as u8);
        }
        if digits.len() != 10 {
            return Err(NhsNumberError::WrongLength(digits.len()));
        }
        let expected = check_digit(&digits[..9]).ok_or(NhsNumberError::NoCheckDigitPossible)?;
        if digits[9] != expected {
            return Err(NhsNumberError::CheckDigitMismatch {
                expected,
                found: digits[9],
            });
        }
        Ok(Self(digits.iter().map(|d| char::from(b'0' + d)).collect()))
    }

    /// The ten digits with no separators, as systems exchange them.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Modulus 11 check digit for nine digits, or `None` when the remainder leaves 10.
pub fn check_digit(first_nine: &[u8]) -> Option<u8> {
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c as u8),
    }
}

/// Shown 3-3-4, as the NHS displays it.
impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

text_value!(NhsNumber, NhsNumberError, |value| value.0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_dictionary_example_is_valid_and_shown_three_three_four() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert_eq!(n.as_str(), "9434765919");
        assert_eq!(n.to_string(), "943 476 5919");
    }

    #[test]
    fn it_is_exchanged_as_ten_digits_and_validated_when_read() {
        let n = NhsNumber::parse("943 476 5919").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"9434765919\"");
        assert_eq!(
            serde_json::from_str::<NhsNumber>("\"943 476 5919\"").unwrap(),
            n
        );
        assert!(serde_json::from_str::<NhsNumber>("\"9434765918\"").is_err());
    }

    #[test]
    fn spaces_and_hyphens_are_ignored() {
        assert_eq!(
            NhsNumber::parse("943-476-5919").unwrap(),
            NhsNumber::parse(" 943 476 5919 ").unwrap()
        );
    }

    #[test]
    fn a_wrong_check_digit_is_rejected_with_the_expected_digit() {
        assert_eq!(
            NhsNumber::parse("9434765918"),
            Err(NhsNumberError::CheckDigitMismatch {
                expected: 9,
                found: 8
            })
        );
    }

    #[test]
    fn a_remainder_of_eleven_gives_check_digit_zero() {
        // 0000000000: sum 0, 11 - 0 = 11 -> 0.
        assert!(NhsNumber::parse("0000000000").is_ok());
        assert_eq!(check_digit(&[0; 9]), Some(0));
    }

    #[test]
    fn nine_digits_whose_check_would_be_ten_are_never_valid() {
        // 1,0,0,0,0,0,0,0,1 weighted: 10 + 2 = 12, 12 mod 11 = 1, 11 - 1 = 10.
        let first_nine = [1, 0, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(check_digit(&first_nine), None);
        for last in 0..=9 {
            let text = format!("100000001{last}");
            assert_eq!(
                NhsNumber::parse(&text),
                Err(NhsNumberError::NoCheckDigitPossible)
            );
        }
    }

    #[test]
    fn wrong_lengths_and_letters_are_rejected() {
        assert_eq!(
            NhsNumber::parse("943476591"),
            Err(NhsNumberError::WrongLength(9))
        );
        assert_eq!(
            NhsNumber::parse("94347659190"),
            Err(NhsNumberError::WrongLength(11))
        );
        assert_eq!(
            NhsNumber::parse("94347659I9"),
            Err(NhsNumberError::NotADigit('I'))
        );
    }

    #[test]
    fn exactly_one_last_digit_completes_any_nine_digits_that_allow_one() {
        for seed in [123456789u32, 400000000, 987654321, 555555555] {
            let stem = format!("{seed:09}");
            let valid: Vec<u8> = (0..=9)
                .filter(|d| NhsNumber::parse(&format!("{stem}{d}")).is_ok())
                .collect();
            assert!(valid.len() <= 1, "{stem}: {valid:?}");
        }
    }
}
