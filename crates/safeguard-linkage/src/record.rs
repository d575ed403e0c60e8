//! A person record as linkage sees it, and the same record prepared once for comparison
//! (normalised names, phonetic codes, cleaned postcode, address tokens) so that comparing a
//! pair does no allocation.

use rphonetic::DoubleMetaphone;

use crate::compare::BirthDate;
use crate::names::normalise;

/// Sex as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
}

/// A person record as one agency holds it. Every field but the id may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The record's identifier.
    pub id: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Date of birth, as far as known.
    pub birth_date: Option<BirthDate>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Address lines (house and street), free text.
    pub address: Option<String>,
    /// NHS number (or another national identifier).
    pub nhs_number: Option<String>,
}

/// A name ready for comparison: normalised, with its Double Metaphone codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreparedName {
    /// Lower case letters only.
    pub text: String,
    /// Primary Double Metaphone code.
    pub primary: String,
    /// Alternate Double Metaphone code.
    pub alternate: String,
    /// Its number in the shipped nickname table, if it is there.
    pub nickname: Option<u32>,
    /// Hashes of the text and of the primary code: two names unequal in either are told apart
    /// without comparing their letters (this runs for every candidate pair).
    pub hashes: (u64, u64),
}

impl PreparedName {
    fn new(raw: Option<&str>) -> Option<Self> {
        let text = normalise(raw?);
        if text.is_empty() {
            return None;
        }
        let codes = DoubleMetaphone::new(Some(6)).double_metaphone(&text);
        let primary = codes.primary();
        Some(PreparedName {
            hashes: (hash(&text), hash(&primary)),
            primary,
            alternate: codes.alternate(),
            nickname: crate::names::Nicknames::shipped().id_of(&text),
            text,
        })
    }

    /// Whether the two names sound alike: their primary Double Metaphone codes agree. (The
    /// alternate codes are left out: George's alternate is Craig's primary.)
    pub fn sounds_like(&self, other: &PreparedName) -> bool {
        !self.primary.is_empty()
            && self.hashes.1 == other.hashes.1
            && same(&self.primary, &other.primary)
    }

    /// Whether two names are the same text.
    pub fn same_text(&self, other: &PreparedName) -> bool {
        self.hashes.0 == other.hashes.0 && same(&self.text, &other.text)
    }
}

/// A word of an address, kept as a hash so that comparing two addresses compares integers
/// and allocates nothing (a collision of two 64-bit hashes among a home's few words is not a
/// risk worth a string comparison), with whether it holds a digit (a house or flat number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddressWord {
    /// The word's hash.
    pub hash: u64,
    /// Whether it holds a digit.
    pub number: bool,
}

/// Whether two short texts are equal, compared as two integers each when they fit in
/// sixteen bytes (names, codes, postcode parts, NHS numbers): a call to compare memory costs
/// more than the comparison, and this runs several times for every candidate pair.
pub(crate) fn same(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    // Byte by byte into an integer: copying into a buffer would call memmove instead.
    let words = |text: &str| {
        text.bytes()
            .enumerate()
            .fold(0u128, |word, (i, b)| word | u128::from(b) << (8 * i))
    };
    words(a) == words(b)
}

/// A text's 64-bit hash (FxHash over its bytes and length): the one a prepared name keeps of
/// its text and its code (see [`PreparedName::hashes`]).
pub(crate) fn hash(text: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::names::FxHasher::default();
    h.write(text.as_bytes());
    h.write_usize(text.len());
    h.finish()
}

impl AddressWord {
    /// A (lower-case) word.
    pub fn new(word: &str) -> Self {
        AddressWord {
            hash: hash(word),
            number: word.bytes().any(|c| c.is_ascii_digit()),
        }
    }
}

/// A record prepared for comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prepared {
    /// Given name.
    pub given: Option<PreparedName>,
    /// Family name.
    pub family: Option<PreparedName>,
    /// Date of birth.
    pub birth_date: Option<BirthDate>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Postcode, upper case without spaces (at least four characters: UK postcodes have five
    /// to seven; four keeps other countries' numeric codes comparable as exact or not).
    pub postcode: Option<String>,
    /// Address tokens, lower case, sorted and distinct (`12`, `high`, `street`).
    pub address: Vec<AddressWord>,
    /// NHS number, ten digits, or another national identifier of six to twelve digits (a
    /// social security number), whose check digit Safeguard cannot test.
    pub nhs_number: Option<String>,
}

/// The Modulus 11 check digit of an NHS number's first nine digits (NHS Data Dictionary), or
/// `None` when the remainder leaves 10, which no valid number has.
pub fn nhs_check_digit(first_nine: &[u32; 9]) -> Option<u32> {
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10).rev())
        .map(|(d, weight)| d * weight)
        .sum();
    let check = (11 - sum % 11) % 11;
    (check < 10).then_some(check)
}

/// Whether ten digits are a valid NHS number: a typo in one digit, or two swapped, fails.
pub fn is_valid_nhs_number(digits: &str) -> bool {
    // Without allocating: it runs for every candidate pair that has two numbers.
    let b = digits.as_bytes();
    b.len() == 10
        && b.iter().all(u8::is_ascii_digit)
        && nhs_check_digit(&std::array::from_fn(|i| u32::from(b[i] - b'0')))
            == Some(u32::from(b[9] - b'0'))
}

/// What a number's check digit says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// A valid NHS number.
    Valid,
    /// Ten digits that fail the NHS number's check: mistyped.
    Invalid,
    /// Another identifier, with no check Safeguard knows.
    Unchecked,
}

/// Checks an identifier's digits.
pub fn check_identifier(digits: &str) -> Checked {
    match (digits.len(), is_valid_nhs_number(digits)) {
        (10, true) => Checked::Valid,
        (10, false) => Checked::Invalid,
        _ => Checked::Unchecked,
    }
}

impl Prepared {
    /// Prepares a record.
    pub fn new(r: &Record) -> Self {
        let postcode = r
            .postcode
            .as_deref()
            .map(|p| {
                p.chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .map(|c| c.to_ascii_uppercase())
                    .collect::<String>()
            })
            .filter(|p| p.len() >= 4);
        let mut address: Vec<AddressWord> = r
            .address
            .as_deref()
            .unwrap_or_default()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(|t| AddressWord::new(&t.to_lowercase()))
            .collect();
        address.sort_unstable();
        address.dedup();
        let nhs_number = r
            .nhs_number
            .as_deref()
            .map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>())
            // A placeholder (0000000000, 9999999999) is no one's number.
            .filter(|n| (6..=12).contains(&n.len()) && n.bytes().any(|d| d != n.as_bytes()[0]));
        Prepared {
            given: PreparedName::new(r.given_name.as_deref()),
            family: PreparedName::new(r.family_name.as_deref()),
            birth_date: r.birth_date,
            sex: r.sex,
            postcode,
            address,
            nhs_number,
        }
    }

    /// The date of birth as `YYYYMMDD` when known to the day.
    pub fn full_birth_date(&self) -> Option<String> {
        let d = self.birth_date?;
        Some(format!("{:04}{:02}{:02}", d.year, d.month?, d.day?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_checked_by_modulus_11() {
        assert!(is_valid_nhs_number("9434765919"));
        assert!(is_valid_nhs_number("9992345675"));
        assert!(!is_valid_nhs_number("9434765918"), "one digit mistyped");
        assert!(!is_valid_nhs_number("9434765991"), "two digits swapped");
        assert!(!is_valid_nhs_number("943476591"), "nine digits");
        assert!(!is_valid_nhs_number("94347659x9"));
        // 1000000010: the first nine digits leave a remainder of 10, so no check digit works.
        assert_eq!(nhs_check_digit(&[1, 0, 0, 0, 0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn preparing_normalises_every_field() {
        let p = Prepared::new(&Record {
            id: "r1".into(),
            given_name: Some("  Daniel ".into()),
            family_name: Some("O'Marsh".into()),
            postcode: Some("nb2 9ls".into()),
            address: Some("12 High Street, 12 high".into()),
            nhs_number: Some("999 234 5675".into()),
            ..Record::default()
        });
        assert_eq!(p.given.as_ref().map(|n| n.text.as_str()), Some("daniel"));
        assert_eq!(p.family.as_ref().map(|n| n.text.as_str()), Some("omarsh"));
        assert_eq!(p.postcode.as_deref(), Some("NB29LS"));
        let mut words: Vec<AddressWord> = ["12", "high", "street"]
            .into_iter()
            .map(AddressWord::new)
            .collect();
        words.sort_unstable();
        assert_eq!(p.address, words);
        assert_eq!(p.address.iter().filter(|w| w.number).count(), 1);
        assert_eq!(p.nhs_number.as_deref(), Some("9992345675"));
        let placeholder = Prepared::new(&Record {
            nhs_number: Some("999 999 9999".into()),
            ..Record::default()
        });
        assert_eq!(placeholder.nhs_number, None);
        let short = Prepared::new(&Record {
            postcode: Some("NB2".into()),
            nhs_number: Some("12345".into()),
            given_name: Some("--".into()),
            ..Record::default()
        });
        assert_eq!(
            (short.postcode, short.nhs_number, short.given),
            (None, None, None)
        );
    }

    #[test]
    fn names_that_sound_alike_share_a_double_metaphone_code() {
        let name = |s: &str| PreparedName::new(Some(s)).expect("a name");
        assert!(name("Smith").sounds_like(&name("Smyth")));
        assert!(name("Catherine").sounds_like(&name("Kathryn")));
        assert!(name("Stephen").sounds_like(&name("Steven")));
        assert!(!name("Marsh").sounds_like(&name("Reeves")));
        assert!(!name("George").sounds_like(&name("Craig")));
    }
}
