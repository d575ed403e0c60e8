//! Field comparisons, each graded into levels from strongest agreement to disagreement, with a
//! level for a missing value (which is neither evidence for nor against).

use crate::names::{Aliases, Nicknames, VERY_CLOSE, jaro_winkler, z_form};
use crate::record::{AddressWord, Checked, Prepared, PreparedName, check_identifier, same};

/// How two names compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameLevel {
    /// Equal once normalised.
    Exact,
    /// One is a nickname of the other (Danny, Daniel; Gaz, Gary), or of a name spelt very like
    /// it (Rob, Rboert).
    Nickname,
    /// Jaro–Winkler at least 0.92 (a typo: Reeve, Reeves).
    VeryClose,
    /// The same Double Metaphone code (Smith, Smyth; Catherine, Kathryn).
    Phonetic,
    /// Jaro–Winkler at least 0.80.
    Close,
    /// One is the other's initial (D, Daniel).
    Initial,
    /// Given and family names swapped between the records (the given name is graded; the
    /// family name then counts as missing, so the pair is not weighed twice).
    Transposed,
    /// Different.
    Different,
    /// Either is missing.
    Missing,
}

impl NameLevel {
    /// Every level but `Missing`, strongest first.
    pub const GRADED: [NameLevel; 8] = [
        NameLevel::Exact,
        NameLevel::Nickname,
        NameLevel::VeryClose,
        NameLevel::Phonetic,
        NameLevel::Close,
        NameLevel::Initial,
        NameLevel::Transposed,
        NameLevel::Different,
    ];
}

/// Compares two given names (or two family names, with no nickname table).
pub fn compare_names(
    a: Option<&PreparedName>,
    b: Option<&PreparedName>,
    nicknames: Option<&Nicknames>,
) -> NameLevel {
    let (Some(a), Some(b)) = (a, b) else {
        return NameLevel::Missing;
    };
    let (ta, tb) = (&a.text, &b.text);
    if a.same_text(b) {
        return NameLevel::Exact;
    }
    // The shipped table's numbers are kept on prepared names; another table looks names up.
    let shipped = nicknames.is_some_and(|n| std::ptr::eq(n, Nicknames::shipped()));
    let related = |n: &Nicknames| {
        if shipped {
            n.related_ids(a.nickname, b.nickname)
        } else {
            n.related(ta, tb)
        }
    };
    if nicknames.is_some_and(related) || (nicknames.is_some() && (z_form(ta, tb) || z_form(tb, ta)))
    {
        return NameLevel::Nickname;
    }
    let (short, long) = if ta.len() <= tb.len() {
        (ta, tb)
    } else {
        (tb, ta)
    };
    if short.chars().nth(1).is_none() {
        return if long.starts_with(short.as_str()) {
            NameLevel::Initial
        } else {
            NameLevel::Different
        };
    }
    let similarity = jaro_winkler(ta, tb);
    if similarity >= VERY_CLOSE {
        NameLevel::VeryClose
    } else if a.sounds_like(b) {
        NameLevel::Phonetic
    } else if similarity >= 0.80 {
        NameLevel::Close
    } else if nicknames.is_some_and(|n| {
        if shipped {
            n.related_misspelt_ids((ta, a.nickname), (tb, b.nickname))
        } else {
            n.related_misspelt(ta, tb)
        }
    }) {
        NameLevel::Nickname
    } else {
        NameLevel::Different
    }
}

/// A date of birth as much as it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BirthDate {
    /// Year.
    pub year: i32,
    /// Month (1–12), if known.
    pub month: Option<u32>,
    /// Day (1–31), if known.
    pub day: Option<u32>,
}

impl BirthDate {
    /// The date as far as it is known: 1 January is often written for an unknown day and
    /// month, and such a date says the year alone.
    pub fn as_known(self) -> BirthDate {
        if self.month == Some(1) && self.day == Some(1) {
            BirthDate {
                month: None,
                day: None,
                ..self
            }
        } else {
            self
        }
    }
}

/// How two dates of birth compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BirthDateLevel {
    /// Equal, to the day.
    Exact,
    /// Day and month swapped (US-style entry: 06/14 and 14/06).
    DayMonthSwapped,
    /// One digit different (a keying error: 1983 and 1988, 14 and 15).
    OneDigitOff,
    /// Consistent as far as both are known (one known only to the month or year).
    Consistent,
    /// The same year only.
    SameYear,
    /// Different.
    Different,
    /// Either is missing.
    Missing,
}

impl BirthDateLevel {
    /// Every level but `Missing`, strongest first.
    pub const GRADED: [BirthDateLevel; 6] = [
        BirthDateLevel::Exact,
        BirthDateLevel::DayMonthSwapped,
        BirthDateLevel::OneDigitOff,
        BirthDateLevel::Consistent,
        BirthDateLevel::SameYear,
        BirthDateLevel::Different,
    ];
}

/// A full date's eight digits (YYYYMMDD), compared digit by digit without allocating.
fn digits(d: &BirthDate) -> Option<[u8; 8]> {
    let (y, m, day) = (d.year.clamp(0, 9999) as u32, d.month?, d.day?);
    let digit = |n: u32, place: u32| (n / place % 10) as u8;
    Some([
        digit(y, 1000),
        digit(y, 100),
        digit(y, 10),
        digit(y, 1),
        digit(m, 10),
        digit(m, 1),
        digit(day, 10),
        digit(day, 1),
    ])
}

/// Compares two dates of birth.
pub fn compare_birth_dates(a: Option<BirthDate>, b: Option<BirthDate>) -> BirthDateLevel {
    let (Some(a), Some(b)) = (a, b) else {
        return BirthDateLevel::Missing;
    };
    // A 1 January written for an unknown birthday says the year, and two of them agree on
    // the year alone (two children of one year, each registered without a birthday, are not
    // one child by it).
    let (a, b) = (a.as_known(), b.as_known());
    if let (Some(da), Some(db)) = (digits(&a), digits(&b)) {
        if da == db {
            return BirthDateLevel::Exact;
        }
        if a.year == b.year && a.month == b.day && a.day == b.month {
            return BirthDateLevel::DayMonthSwapped;
        }
        if da.iter().zip(&db).filter(|(x, y)| x != y).count() == 1 {
            return BirthDateLevel::OneDigitOff;
        }
    } else if a.year == b.year
        && (a.month.is_none() || b.month.is_none() || a.month == b.month)
        && (a.day.is_none() || b.day.is_none() || a.day == b.day)
    {
        return BirthDateLevel::Consistent;
    }
    if a.year == b.year {
        BirthDateLevel::SameYear
    } else {
        BirthDateLevel::Different
    }
}

/// How two UK postcodes compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PostcodeLevel {
    /// The same postcode (about fifteen addresses).
    Exact,
    /// The same sector (`N17 6`, a few thousand addresses).
    Sector,
    /// The same district (`N17`).
    District,
    /// Different.
    Different,
    /// Either is missing.
    Missing,
}

/// Compares two postcodes in any case and spacing.
pub fn compare_postcodes(a: Option<&str>, b: Option<&str>) -> PostcodeLevel {
    let clean = |p: &str| -> String {
        p.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect()
    };
    let (Some(a), Some(b)) = (a.map(clean), b.map(clean)) else {
        return PostcodeLevel::Missing;
    };
    compare_clean_postcodes(&a, &b)
}

/// A cleaned postcode's outward code (its district, `SW1A`) and inward code (`1AA`): the
/// last three characters are the inward code; `None` for one too short to have both.
pub(crate) fn postcode_parts(postcode: &str) -> Option<(&str, &str)> {
    (postcode.len() >= 4).then(|| postcode.split_at(postcode.len() - 3))
}

/// Compares two postcodes already upper case without spaces (as [`Prepared`] keeps them),
/// allocating nothing.
fn compare_clean_postcodes(a: &str, b: &str) -> PostcodeLevel {
    let (Some((a_out, a_in)), Some((b_out, b_in))) = (postcode_parts(a), postcode_parts(b)) else {
        return PostcodeLevel::Missing;
    };
    // Compared as integers: a postcode's parts are a few bytes, and a call to compare memory
    // for each costs more than the comparison (this runs for every candidate pair).
    let same_out = same(a_out, b_out);
    if same_out && same(a_in, b_in) {
        PostcodeLevel::Exact
    } else if same_out && a_in.as_bytes()[0] == b_in.as_bytes()[0] {
        PostcodeLevel::Sector
    } else if same_out {
        PostcodeLevel::District
    } else {
        PostcodeLevel::Different
    }
}

/// How two homes compare, postcode and address together: one home is one piece of evidence,
/// however many fields record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HomeLevel {
    /// The same address (its words agree, and the postcodes agree or one is missing).
    SameAddress,
    /// The same postcode, the address different or unknown.
    SamePostcode,
    /// The same postcode sector.
    SameSector,
    /// The same postcode district.
    SameDistrict,
    /// Different.
    Different,
    /// Neither postcode nor address on one side.
    Missing,
}

impl HomeLevel {
    /// Every level but `Missing`, strongest first.
    pub const GRADED: [HomeLevel; 5] = [
        HomeLevel::SameAddress,
        HomeLevel::SamePostcode,
        HomeLevel::SameSector,
        HomeLevel::SameDistrict,
        HomeLevel::Different,
    ];
}

/// The share of address words two addresses have in common (Jaccard), over sorted distinct
/// words.
fn address_overlap(a: &[AddressWord], b: &[AddressWord]) -> f64 {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// Whether two addresses' numbers (house, flat) could be of one home: those of one are all
/// among those of the other ("14 Mill Lane" and "Flat 2, 14 Mill Lane"), or one has none.
/// "Flat 4, 38 Grove Road" and "Flat 4, 88 Grove Road" share most words but are two homes.
fn numbers_agree(a: &[AddressWord], b: &[AddressWord]) -> bool {
    let count = |words: &[AddressWord]| words.iter().filter(|w| w.number).count();
    let (fewer, more) = if count(a) <= count(b) { (a, b) } else { (b, a) };
    fewer
        .iter()
        .filter(|w| w.number)
        .all(|w| more.binary_search(w).is_ok())
}

/// Compares two homes.
pub fn compare_homes(a: &Prepared, b: &Prepared) -> HomeLevel {
    let postcode = match (a.postcode.as_deref(), b.postcode.as_deref()) {
        (Some(x), Some(y)) => compare_clean_postcodes(x, y),
        _ => PostcodeLevel::Missing,
    };
    let addresses_known = !a.address.is_empty() && !b.address.is_empty();
    // The address agreeing, its postcode the same, missing, or one slip from the other (a
    // digit or letter wrong, two swapped): one home with its postcode mistyped.
    let postcode_fits = match postcode {
        PostcodeLevel::Exact | PostcodeLevel::Missing => true,
        _ => a
            .postcode
            .as_deref()
            .zip(b.postcode.as_deref())
            .is_some_and(|(x, y)| one_slip_apart(x.as_bytes(), y.as_bytes())),
    };
    if addresses_known
        && postcode_fits
        && address_overlap(&a.address, &b.address) >= 0.6
        && numbers_agree(&a.address, &b.address)
    {
        return HomeLevel::SameAddress;
    }
    match postcode {
        PostcodeLevel::Exact => HomeLevel::SamePostcode,
        PostcodeLevel::Sector => HomeLevel::SameSector,
        PostcodeLevel::District => HomeLevel::SameDistrict,
        PostcodeLevel::Different => HomeLevel::Different,
        PostcodeLevel::Missing if addresses_known => HomeLevel::Different,
        PostcodeLevel::Missing => HomeLevel::Missing,
    }
}

/// The comparisons Safeguard makes, in the order of a comparison vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Field {
    /// Given name.
    GivenName,
    /// Family name.
    FamilyName,
    /// Date of birth.
    BirthDate,
    /// Sex.
    Sex,
    /// Postcode and address together.
    Home,
    /// NHS number.
    NhsNumber,
}

impl Field {
    /// Every comparison, in vector order.
    pub const ALL: [Field; 6] = [
        Field::GivenName,
        Field::FamilyName,
        Field::BirthDate,
        Field::Sex,
        Field::Home,
        Field::NhsNumber,
    ];

    /// The comparison's name in explanations.
    pub fn name(self) -> &'static str {
        match self {
            Field::GivenName => "given name",
            Field::FamilyName => "family name",
            Field::BirthDate => "date of birth",
            Field::Sex => "sex",
            Field::Home => "home",
            Field::NhsNumber => "NHS number",
        }
    }

    /// Its bit in a mask of fields: 1 for the given name, 2 the family name, 4 the date of
    /// birth, and on in [`Field::ALL`] order.
    pub fn bit(self) -> u8 {
        1 << Field::ALL.iter().position(|f| *f == self).unwrap_or(7)
    }

    /// Whether people who live together tend to share it (a family name, a home): such a
    /// field says "same household", not "same person".
    pub fn is_household(self) -> bool {
        matches!(self, Field::FamilyName | Field::Home)
    }

    /// The names of its levels, strongest first.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::GivenName | Field::FamilyName => &[
                "exact",
                "nickname",
                "very close spelling",
                "sounds alike",
                "close spelling",
                "initial",
                "given and family names swapped",
                "different",
            ],
            Field::BirthDate => &[
                "exact",
                "day and month swapped",
                "one digit different",
                "consistent as far as known",
                "same year",
                "different",
            ],
            Field::Sex => &["same", "different"],
            Field::Home => &[
                "same address",
                "same postcode",
                "same postcode sector",
                "same postcode district",
                "different",
            ],
            Field::NhsNumber => &[
                "same",
                "different",
                "different, one invalid or without a check digit",
                "one digit wrong or two swapped",
            ],
        }
    }
}

/// How two records' sexes compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SexLevel {
    /// The same.
    Same,
    /// Different.
    Different,
    /// Either is missing.
    Missing,
}

impl SexLevel {
    /// Every level but `Missing`, strongest first.
    pub const GRADED: [SexLevel; 2] = [SexLevel::Same, SexLevel::Different];
}

/// How two NHS numbers compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NhsNumberLevel {
    /// The same valid number (or the same number without a check): one person's.
    Same,
    /// Two different valid numbers: two people.
    Different,
    /// Different by more than one slip, one of them failing its check digit or without one:
    /// a wrong or made-up number more often than another person's.
    Unchecked,
    /// One slip apart (a digit wrong, two adjacent digits swapped, one left out or added),
    /// one of them failing its check digit or neither checkable: one number mistyped.
    Mistyped,
    /// Either is missing, or both hold the same invalid number (a shared placeholder).
    Missing,
}

impl NhsNumberLevel {
    /// Every level but `Missing`, strongest first.
    /// `Mistyped` is last so that a level stored before it was told apart from `Unchecked`
    /// keeps its place.
    pub const GRADED: [NhsNumberLevel; 4] = [
        NhsNumberLevel::Same,
        NhsNumberLevel::Different,
        NhsNumberLevel::Unchecked,
        NhsNumberLevel::Mistyped,
    ];
}

/// A comparison vector: the level of each field (its index in [`Field::levels`]), or `None`
/// when either record lacks it. It is an array because the model keeps its weights by field
/// and level; read it by name through [`ComparisonVector`].
pub type Levels = [Option<u8>; 6];

/// A comparison vector read field by field as the levels the comparisons grade, so that
/// the decision policy says `NameLevel::Different`, never "level 7 of field 0".
pub trait ComparisonVector {
    /// The given names.
    fn given_name(&self) -> NameLevel;
    /// The family names.
    fn family_name(&self) -> NameLevel;
    /// The dates of birth.
    fn birth_date(&self) -> BirthDateLevel;
    /// The sexes.
    fn sex(&self) -> SexLevel;
    /// The homes.
    fn home(&self) -> HomeLevel;
    /// The NHS numbers.
    fn nhs_number(&self) -> NhsNumberLevel;
}

impl ComparisonVector for Levels {
    fn given_name(&self) -> NameLevel {
        ungraded(self[0], &NameLevel::GRADED, NameLevel::Missing)
    }
    fn family_name(&self) -> NameLevel {
        ungraded(self[1], &NameLevel::GRADED, NameLevel::Missing)
    }
    fn birth_date(&self) -> BirthDateLevel {
        ungraded(self[2], &BirthDateLevel::GRADED, BirthDateLevel::Missing)
    }
    fn sex(&self) -> SexLevel {
        ungraded(self[3], &SexLevel::GRADED, SexLevel::Missing)
    }
    fn home(&self) -> HomeLevel {
        ungraded(self[4], &HomeLevel::GRADED, HomeLevel::Missing)
    }
    fn nhs_number(&self) -> NhsNumberLevel {
        ungraded(self[5], &NhsNumberLevel::GRADED, NhsNumberLevel::Missing)
    }
}

/// A field's vector entry for a level: its place among the graded levels, `None` for missing.
fn graded<T: PartialEq>(level: T, order: &[T]) -> Option<u8> {
    order.iter().position(|l| *l == level).map(|i| i as u8)
}

/// The level of a field's vector entry (the inverse of [`graded`]).
fn ungraded<T: Copy>(entry: Option<u8>, order: &[T], missing: T) -> T {
    entry
        .and_then(|i| order.get(usize::from(i)).copied())
        .unwrap_or(missing)
}

/// Builds a comparison vector from each field's level.
pub fn vector(
    given: NameLevel,
    family: NameLevel,
    birth: BirthDateLevel,
    sex: SexLevel,
    home: HomeLevel,
    nhs: NhsNumberLevel,
) -> Levels {
    [
        graded(given, &NameLevel::GRADED),
        graded(family, &NameLevel::GRADED),
        graded(birth, &BirthDateLevel::GRADED),
        graded(sex, &SexLevel::GRADED),
        graded(home, &HomeLevel::GRADED),
        graded(nhs, &NhsNumberLevel::GRADED),
    ]
}

/// Compares two prepared records field by field, with the nickname table alone.
pub fn compare(a: &Prepared, b: &Prepared, nicknames: &Nicknames) -> Levels {
    compare_with(a, b, nicknames, Aliases::none())
}

/// Compares two prepared records field by field, given names also by the aliases learnt from
/// the records (see [`Aliases`]).
pub fn compare_with(
    a: &Prepared,
    b: &Prepared,
    nicknames: &Nicknames,
    aliases: &Aliases,
) -> Levels {
    let mut given = compare_names(a.given.as_ref(), b.given.as_ref(), Some(nicknames));
    if given == NameLevel::Different
        && a.given
            .as_ref()
            .zip(b.given.as_ref())
            .is_some_and(|(x, y)| aliases.related(x, y))
    {
        given = NameLevel::Nickname;
    }
    let mut family = compare_names(a.family.as_ref(), b.family.as_ref(), None);
    // Swapped names need each given name like the other's family name; with the family
    // names alike as well, all four would be alike and the given names could not differ, so
    // the check (two more name comparisons, for most pairs of different people) is skipped.
    if given > NameLevel::Initial && given != NameLevel::Missing && family > NameLevel::VeryClose {
        let crossed = |x: Option<&PreparedName>, y: Option<&PreparedName>| {
            compare_names(x, y, Some(nicknames)) <= NameLevel::VeryClose
        };
        if crossed(a.given.as_ref(), b.family.as_ref())
            && crossed(a.family.as_ref(), b.given.as_ref())
        {
            given = NameLevel::Transposed;
            family = NameLevel::Missing;
        }
    }
    if family == NameLevel::Different
        && a.family
            .as_ref()
            .zip(b.family.as_ref())
            .is_some_and(|(x, y)| part_of_surname(&x.text, &y.text))
    {
        // One half of a double-barrelled surname: Evans for Evans-Jones.
        family = NameLevel::Close;
    }
    let birth = compare_birth_dates(a.birth_date, b.birth_date);
    let home = compare_homes(a, b);
    if family == NameLevel::Different
        && given <= NameLevel::Nickname
        && birth == BirthDateLevel::Exact
        && home <= HomeLevel::SamePostcode
    {
        // The same given name, birthday and home under another surname: a surname changed
        // (by marriage, or back), not another person; the surname then says nothing.
        family = NameLevel::Missing;
    }
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) if x == y => SexLevel::Same,
        (Some(_), Some(_)) => SexLevel::Different,
        _ => SexLevel::Missing,
    };
    let nhs = match (&a.nhs_number, &b.nhs_number) {
        // The same valid number is one person's (twins have different numbers); the same
        // invalid one is a shared mistake or a placeholder, and says nothing.
        (Some(x), Some(y)) if same(x, y) => {
            if check_identifier(x) == Checked::Invalid {
                NhsNumberLevel::Missing
            } else {
                NhsNumberLevel::Same
            }
        }
        (Some(x), Some(y))
            if check_identifier(x) == Checked::Valid && check_identifier(y) == Checked::Valid =>
        {
            NhsNumberLevel::Different
        }
        // Not a different person's number but a mistyped one: Modulus 11 catches any one digit
        // wrong and any two adjacent digits swapped. An identifier without a check may be
        // mistyped either way; one slip apart it almost surely was.
        (Some(x), Some(y)) if one_slip_apart(x.as_bytes(), y.as_bytes()) => {
            NhsNumberLevel::Mistyped
        }
        (Some(_), Some(_)) => NhsNumberLevel::Unchecked,
        _ => NhsNumberLevel::Missing,
    };
    vector(given, family, birth, sex, home, nhs)
}

/// Whether two different strings are one typing slip apart: one character wrong, two adjacent
/// characters swapped, or one left out (Damerau–Levenshtein distance 1), without allocating.
pub(crate) fn one_slip_apart(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let start = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    let (x, y) = (&short[start..], &long[start..]);
    match y.len() - x.len() {
        // Equal after the first difference but for it, or for it and its neighbour swapped.
        0 => {
            !x.is_empty()
                && (x[1..] == y[1..]
                    || (x.len() >= 2 && x[0] == y[1] && x[1] == y[0] && x[2..] == y[2..]))
        }
        1 => *x == y[1..],
        _ => false,
    }
}

/// Whether one surname is a part of the other, the start or the end of a double-barrelled one
/// written without its hyphen (`jones` of `evansjones`), at least three letters.
fn part_of_surname(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 3
        && short.len() < long.len()
        && (long.starts_with(short) || long.ends_with(short))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Record, Sex};

    #[test]
    fn short_texts_compared_as_integers_are_equal_exactly_when_they_are() {
        let texts = [
            "",
            "N",
            "N1",
            "N17",
            "N176",
            "N17 6AA",
            "NB29LS",
            "ABCDEFGH",
            "ABCDEFGHI",
            "ABCDEFGHJ",
            "9434765919",
            "9434765991",
            "ABCDEFGHIJKLMNOP",
            "ABCDEFGHIJKLMNOQ",
            "ABCDEFGHIJKLMNOPQ",
            "ABCDEFGHIJKLMNOPR",
            "N17\0",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
        assert_eq!(
            compare_postcodes(Some("N17 6AA"), Some("n176ab")),
            PostcodeLevel::Sector
        );
        assert_eq!(
            compare_postcodes(Some("N17 6AA"), Some("N17 9AA")),
            PostcodeLevel::District
        );
        assert_eq!(
            compare_postcodes(Some("N17 6AA"), Some("E17 6AA")),
            PostcodeLevel::Different
        );
    }

    fn dob(y: i32, m: Option<u32>, d: Option<u32>) -> Option<BirthDate> {
        Some(BirthDate {
            year: y,
            month: m,
            day: d,
        })
    }

    fn compare_names(a: Option<&str>, b: Option<&str>, n: Option<&Nicknames>) -> NameLevel {
        let prepare = |x: Option<&str>| {
            Prepared::new(&crate::record::Record {
                given_name: x.map(String::from),
                ..Default::default()
            })
            .given
        };
        super::compare_names(prepare(a).as_ref(), prepare(b).as_ref(), n)
    }

    #[test]
    fn each_name_level() {
        let n = Some(Nicknames::shipped());
        assert_eq!(
            compare_names(Some("Daniel"), Some("daniel"), n),
            NameLevel::Exact
        );
        assert_eq!(
            compare_names(Some("Danny"), Some("Daniel"), n),
            NameLevel::Nickname
        );
        assert_eq!(
            compare_names(Some("Reeves"), Some("Reeve"), None),
            NameLevel::VeryClose
        );
        assert_eq!(
            compare_names(Some("Marsh"), Some("Marshe"), None),
            NameLevel::VeryClose
        );
        assert_eq!(
            compare_names(Some("Jonathon"), Some("Johnathan"), None),
            NameLevel::Phonetic
        );
        // The maintained table knows both spellings as one name's.
        assert_eq!(
            compare_names(Some("Jonathon"), Some("Johnathan"), n),
            NameLevel::Nickname
        );
        assert_eq!(
            compare_names(Some("Kirsty"), Some("Kirsten"), n),
            NameLevel::Close
        );
        assert_eq!(
            compare_names(Some("D"), Some("Daniel"), n),
            NameLevel::Initial
        );
        assert_eq!(
            compare_names(Some("Daniel"), Some("Lee"), n),
            NameLevel::Different
        );
        assert_eq!(compare_names(None, Some("Lee"), n), NameLevel::Missing);
        assert_eq!(compare_names(Some("-"), Some("Lee"), n), NameLevel::Missing);
        assert_eq!(
            compare_names(Some("Danny"), Some("Daniel"), None),
            NameLevel::Different,
            "without the table, spelling alone misses it"
        );
        assert_eq!(
            compare_names(Some("Rob"), Some("Rboert"), n),
            NameLevel::Nickname,
            "a nickname of a misspelt name"
        );
        assert_eq!(
            compare_names(Some("Danile"), Some("Danny"), n),
            NameLevel::Nickname,
            "either way round"
        );
        assert_eq!(
            compare_names(Some("Gaz"), Some("Gary"), n),
            NameLevel::Nickname,
            "the British z form, in no table"
        );
        assert_eq!(
            compare_names(Some("Bob"), Some("Herbert"), n),
            NameLevel::Different,
            "Herbert is a name of its own, not Robert misspelt"
        );
        assert_eq!(
            compare_names(Some("Joe"), Some("Josh"), n),
            NameLevel::Different,
            "Josh is spelt like Joseph, but is a name of its own: twins Joe and Josh"
        );
    }

    #[test]
    fn each_birth_date_level() {
        let full = dob(2006, Some(6), Some(14));
        assert_eq!(compare_birth_dates(full, full), BirthDateLevel::Exact);
        assert_eq!(
            compare_birth_dates(dob(2006, Some(6), Some(4)), dob(2006, Some(4), Some(6))),
            BirthDateLevel::DayMonthSwapped
        );
        assert_eq!(
            compare_birth_dates(full, dob(2006, Some(6), Some(15))),
            BirthDateLevel::OneDigitOff
        );
        assert_eq!(
            compare_birth_dates(dob(1983, Some(2), Some(9)), dob(1988, Some(2), Some(9))),
            BirthDateLevel::OneDigitOff
        );
        assert_eq!(
            compare_birth_dates(full, dob(2006, Some(6), None)),
            BirthDateLevel::Consistent
        );
        assert_eq!(
            compare_birth_dates(full, dob(2006, None, None)),
            BirthDateLevel::Consistent
        );
        assert_eq!(
            compare_birth_dates(full, dob(2006, Some(5), None)),
            BirthDateLevel::SameYear
        );
        assert_eq!(
            compare_birth_dates(full, dob(2006, Some(11), Some(30))),
            BirthDateLevel::SameYear
        );
        assert_eq!(
            compare_birth_dates(full, dob(1975, Some(8), Some(21))),
            BirthDateLevel::Different
        );
        assert_eq!(compare_birth_dates(full, None), BirthDateLevel::Missing);
        // 1 January written for an unknown day and month: the year agrees, nothing more.
        let defaulted = dob(2006, Some(1), Some(1));
        assert_eq!(
            compare_birth_dates(full, defaulted),
            BirthDateLevel::Consistent
        );
        assert_eq!(
            compare_birth_dates(defaulted, defaulted),
            BirthDateLevel::Consistent,
            "two children of 2006 registered without a birthday are not one child by it"
        );
        assert_eq!(
            compare_birth_dates(defaulted, dob(2007, Some(1), Some(1))),
            BirthDateLevel::Different
        );
        assert_eq!(
            compare_birth_dates(dob(2005, Some(6), Some(14)), defaulted),
            BirthDateLevel::Different
        );
    }

    #[test]
    fn each_postcode_level() {
        assert_eq!(
            compare_postcodes(Some("NB4 7QX"), Some("nb47qx")),
            PostcodeLevel::Exact
        );
        assert_eq!(
            compare_postcodes(Some("NB4 7QX"), Some("NB4 7AB")),
            PostcodeLevel::Sector
        );
        assert_eq!(
            compare_postcodes(Some("NB4 7QX"), Some("NB4 2RT")),
            PostcodeLevel::District
        );
        assert_eq!(
            compare_postcodes(Some("NB4 7QX"), Some("NB2 9LS")),
            PostcodeLevel::Different
        );
        assert_eq!(
            compare_postcodes(Some("NB4"), Some("NB2 9LS")),
            PostcodeLevel::Missing
        );
        assert_eq!(
            compare_postcodes(None, Some("NB2 9LS")),
            PostcodeLevel::Missing
        );
    }

    fn record(given: &str, family: &str, postcode: &str, address: &str) -> Record {
        Record {
            id: given.into(),
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            postcode: Some(postcode.into()),
            address: Some(address.into()),
            ..Record::default()
        }
    }

    #[test]
    fn one_home_is_graded_once_from_postcode_and_address_together() {
        let home = |a: &Record, b: &Record| compare_homes(&Prepared::new(a), &Prepared::new(b));
        let flat = record("A", "B", "NB4 7QX", "Flat 2, 14 Mill Lane");
        assert_eq!(
            home(&flat, &record("A", "B", "nb47qx", "14 Mill Lane Flat 2")),
            HomeLevel::SameAddress
        );
        assert_eq!(
            home(&flat, &record("A", "B", "", "Flat 2 14 Mill Lane")),
            HomeLevel::SameAddress,
            "the address alone, with no postcode"
        );
        assert_eq!(
            home(&flat, &record("A", "B", "NB4 7QX", "3 Mill Lane")),
            HomeLevel::SamePostcode
        );
        assert_eq!(
            home(&flat, &record("A", "B", "", "14 Mill Lane")),
            HomeLevel::SameAddress,
            "a flat's number left out"
        );
        assert_eq!(
            home(&flat, &record("A", "B", "", "Flat 2, 41 Mill Lane")),
            HomeLevel::Different,
            "most words shared, but another house number and no postcode to say otherwise"
        );
        assert_eq!(
            home(&flat, &record("A", "B", "NB4 7QX", "Flat 3, 14 Mill Lane")),
            HomeLevel::SamePostcode,
            "another flat in the same house"
        );
        assert_eq!(
            home(&flat, &record("A", "B", "NB4 7AB", "")),
            HomeLevel::SameSector
        );
        assert_eq!(
            home(&flat, &record("A", "B", "NB4 2AB", "")),
            HomeLevel::SameDistrict
        );
        assert_eq!(
            home(&flat, &record("A", "B", "NB9 2AB", "Flat 2, 14 Mill Lane")),
            HomeLevel::Different,
            "the same words under another postcode are another street"
        );
        assert_eq!(
            home(&flat, &record("A", "B", "NB4 7XQ", "Flat 2, 14 Mill Lane")),
            HomeLevel::SameAddress,
            "the same address, its postcode's last two letters swapped"
        );
        assert_eq!(
            home(&flat, &record("A", "B", "NB4 7QY", "Flat 2, 14 Mill Lane")),
            HomeLevel::SameAddress,
            "the same address, one letter of its postcode mistyped"
        );
        assert_eq!(
            home(&flat, &record("A", "B", "NB4 7YY", "Flat 2, 14 Mill Lane")),
            HomeLevel::SameSector,
            "two letters different: another postcode, where the same street may run on"
        );
        assert_eq!(home(&flat, &record("A", "B", "", "")), HomeLevel::Missing);
    }

    #[test]
    fn a_changed_or_double_barrelled_surname_is_not_another_persons() {
        let n = Nicknames::shipped();
        let born = Some(BirthDate {
            year: 1988,
            month: Some(3),
            day: Some(9),
        });
        let person = |family: &str, postcode: &str| Record {
            birth_date: born,
            ..record("Mary", family, postcode, "2 Mill Lane")
        };
        let married = compare(
            &Prepared::new(&person("Collins", "NB4 7QX")),
            &Prepared::new(&person("Okafor", "NB4 7QX")),
            n,
        );
        assert_eq!(
            married[1], None,
            "the same name, birthday and home: a changed surname"
        );
        let elsewhere = compare(
            &Prepared::new(&person("Collins", "NB4 7QX")),
            &Prepared::new(&person("Okafor", "ZZ1 1ZZ")),
            n,
        );
        assert_eq!(
            elsewhere.family_name(),
            NameLevel::Different,
            "not at another home"
        );
        let barrelled = compare(
            &Prepared::new(&person("Evans-Jones", "ZZ1 1ZZ")),
            &Prepared::new(&person("Jones", "NB4 7QX")),
            n,
        );
        assert_eq!(
            barrelled.family_name(),
            NameLevel::Close,
            "one half of the name"
        );
    }

    #[test]
    fn a_comparison_vector_grades_every_field_and_swapped_names_count_once() {
        let n = Nicknames::shipped();
        let mut a = record("Daniel", "Marsh", "NB2 9LS", "");
        let mut b = record("Marsh", "Daniel", "NB2 9LS", "");
        a.sex = Some(Sex::Male);
        b.sex = Some(Sex::Female);
        a.nhs_number = Some("999 234 5675".into());
        b.nhs_number = Some("9992345675".into());
        let levels = compare(&Prepared::new(&a), &Prepared::new(&b), n);
        assert_eq!(
            levels,
            [Some(6), None, None, Some(1), Some(1), Some(0)],
            "swapped names, family name not counted again, no dates, sex differs, same postcode, same NHS number"
        );
        for (field, level) in Field::ALL.iter().zip(levels) {
            if let Some(l) = level {
                assert!(usize::from(l) < field.levels().len());
            }
        }
        assert_eq!(
            Field::GivenName.levels()[6],
            "given and family names swapped"
        );
        b.given_name = Some("Danny".into());
        b.family_name = Some("Marsh".into());
        b.nhs_number = Some("9434765919".into());
        let levels = compare(&Prepared::new(&a), &Prepared::new(&b), n);
        assert_eq!(
            (levels.given_name(), levels.family_name()),
            (NameLevel::Nickname, NameLevel::Exact),
            "a nickname, the same family name"
        );
        assert_eq!(
            levels.nhs_number(),
            NhsNumberLevel::Different,
            "different NHS numbers"
        );
        b.nhs_number = Some("9992345657".into());
        let levels = compare(&Prepared::new(&a), &Prepared::new(&b), n);
        assert_eq!(
            levels.nhs_number(),
            NhsNumberLevel::Mistyped,
            "9992345675 with two digits swapped is no valid NHS number: a typo, not another person's"
        );
        // Another country's identifier (FEBRL's seven-digit social security numbers): the same
        // agrees, a different one may be mistyped; the same mistyped NHS number says nothing.
        a.nhs_number = Some("1234567".into());
        b.nhs_number = Some("1234567".into());
        assert_eq!(
            compare(&Prepared::new(&a), &Prepared::new(&b), n).nhs_number(),
            NhsNumberLevel::Same
        );
        b.nhs_number = Some("1234576".into());
        assert_eq!(
            compare(&Prepared::new(&a), &Prepared::new(&b), n).nhs_number(),
            NhsNumberLevel::Mistyped
        );
        // Far apart, with no check to say both are real: not a slip.
        b.nhs_number = Some("7654321".into());
        assert_eq!(
            compare(&Prepared::new(&a), &Prepared::new(&b), n).nhs_number(),
            NhsNumberLevel::Unchecked
        );
        // A valid NHS number and an invalid one far from it: a wrong number, not a slip.
        a.nhs_number = Some("9434765919".into());
        b.nhs_number = Some("1234567890".into());
        assert_eq!(
            compare(&Prepared::new(&a), &Prepared::new(&b), n).nhs_number(),
            NhsNumberLevel::Unchecked
        );
        a.nhs_number = Some("9992345657".into());
        b.nhs_number = Some("9992345657".into());
        assert_eq!(
            compare(&Prepared::new(&a), &Prepared::new(&b), n).nhs_number(),
            NhsNumberLevel::Missing
        );
    }

    #[test]
    fn a_vector_reads_back_the_levels_it_was_built_from_and_names_each() {
        for given in NameLevel::GRADED.into_iter().chain([NameLevel::Missing]) {
            for birth in BirthDateLevel::GRADED
                .into_iter()
                .chain([BirthDateLevel::Missing])
            {
                for home in HomeLevel::GRADED.into_iter().chain([HomeLevel::Missing]) {
                    for nhs in NhsNumberLevel::GRADED
                        .into_iter()
                        .chain([NhsNumberLevel::Missing])
                    {
                        let v = vector(given, given, birth, SexLevel::Different, home, nhs);
                        assert_eq!(
                            (
                                v.given_name(),
                                v.family_name(),
                                v.birth_date(),
                                v.sex(),
                                v.home(),
                                v.nhs_number()
                            ),
                            (given, given, birth, SexLevel::Different, home, nhs)
                        );
                    }
                }
            }
        }
        // Every graded level has its name for a reviewer, and no name is left without one.
        let graded = [
            NameLevel::GRADED.len(),
            NameLevel::GRADED.len(),
            BirthDateLevel::GRADED.len(),
            SexLevel::GRADED.len(),
            HomeLevel::GRADED.len(),
            NhsNumberLevel::GRADED.len(),
        ];
        for (field, count) in Field::ALL.iter().zip(graded) {
            assert_eq!(field.levels().len(), count, "{field:?}");
        }
    }

    #[test]
    fn one_slip_is_one_character_wrong_swapped_left_out_or_added() {
        let slip = |a: &str, b: &str| one_slip_apart(a.as_bytes(), b.as_bytes());
        assert!(slip("2519978", "2519977"), "the last digit wrong");
        assert!(slip("1583941", "1583491"), "two adjacent digits swapped");
        assert!(slip("9564208", "9564028"), "two adjacent digits swapped");
        assert!(slip("123456", "1234567"), "one added at the end");
        assert!(slip("1234567", "124567"), "one left out");
        assert!(slip("1234567", "0234567"), "the first digit wrong");
        assert!(!slip("1234567", "1234567"), "the same is no slip");
        assert!(slip("4086030", "4086300"), "two adjacent digits swapped");
        assert!(!slip("4086030", "4086311"), "two digits wrong");
        assert!(!slip("1234567", "2134576"), "two swaps");
        assert!(!slip("1234567", "12345"), "two left out");
        assert!(!slip("1234567", "1324657"), "two swaps");
        assert!(!slip("", "12"), "two added");
    }
}
