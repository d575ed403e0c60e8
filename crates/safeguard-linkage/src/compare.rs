//! Field comparisons, each graded into levels from strongest agreement to disagreement, with a
//! level for a missing value (which is neither evidence for nor against).

use crate::names::{Nicknames, jaro_winkler, normalise};

/// How two names compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameLevel {
    /// Equal once normalised.
    Exact,
    /// One is a nickname of the other (Danny, Daniel).
    Nickname,
    /// Jaro–Winkler at least 0.92 (a typo: Reeve, Reeves).
    VeryClose,
    /// Jaro–Winkler at least 0.80.
    Close,
    /// One is the other's initial (D, Daniel).
    Initial,
    /// Different.
    Different,
    /// Either is missing.
    Missing,
}

/// Compares two given names (or two family names, with no nickname table).
pub fn compare_names(a: Option<&str>, b: Option<&str>, nicknames: Option<&Nicknames>) -> NameLevel {
    let (Some(a), Some(b)) = (a.map(normalise), b.map(normalise)) else {
        return NameLevel::Missing;
    };
    if a.is_empty() || b.is_empty() {
        return NameLevel::Missing;
    }
    if a == b {
        return NameLevel::Exact;
    }
    if nicknames.is_some_and(|n| n.related(&a, &b)) {
        return NameLevel::Nickname;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if short.chars().count() == 1 && long.starts_with(short.as_str()) {
        return NameLevel::Initial;
    }
    match jaro_winkler(&a, &b) {
        s if s >= 0.92 => NameLevel::VeryClose,
        s if s >= 0.80 => NameLevel::Close,
        _ => NameLevel::Different,
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

fn digits(d: &BirthDate) -> Option<String> {
    Some(format!("{:04}{:02}{:02}", d.year, d.month?, d.day?))
}

/// Compares two dates of birth.
pub fn compare_birth_dates(a: Option<BirthDate>, b: Option<BirthDate>) -> BirthDateLevel {
    let (Some(a), Some(b)) = (a, b) else {
        return BirthDateLevel::Missing;
    };
    if let (Some(da), Some(db)) = (digits(&a), digits(&b)) {
        if da == db {
            return BirthDateLevel::Exact;
        }
        if a.year == b.year && a.month == b.day && a.day == b.month {
            return BirthDateLevel::DayMonthSwapped;
        }
        if da.chars().zip(db.chars()).filter(|(x, y)| x != y).count() == 1 {
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
    if a.len() < 5 || b.len() < 5 {
        return PostcodeLevel::Missing;
    }
    let (a_out, a_in) = a.split_at(a.len() - 3);
    let (b_out, b_in) = b.split_at(b.len() - 3);
    if a == b {
        PostcodeLevel::Exact
    } else if a_out == b_out && a_in[..1] == b_in[..1] {
        PostcodeLevel::Sector
    } else if a_out == b_out {
        PostcodeLevel::District
    } else {
        PostcodeLevel::Different
    }
}

/// How two NHS numbers compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NhsNumberLevel {
    /// Equal.
    Exact,
    /// Different.
    Different,
    /// Either is missing.
    Missing,
}

/// Compares two NHS numbers (digits only).
pub fn compare_nhs_numbers(a: Option<&str>, b: Option<&str>) -> NhsNumberLevel {
    let digits = |n: &str| -> String { n.chars().filter(char::is_ascii_digit).collect() };
    match (a.map(digits), b.map(digits)) {
        (Some(a), Some(b)) if a.len() == 10 && b.len() == 10 => {
            if a == b {
                NhsNumberLevel::Exact
            } else {
                NhsNumberLevel::Different
            }
        }
        _ => NhsNumberLevel::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dob(y: i32, m: Option<u32>, d: Option<u32>) -> Option<BirthDate> {
        Some(BirthDate {
            year: y,
            month: m,
            day: d,
        })
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
            compare_names(Some("Jonathon"), Some("Johnathan"), n),
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

    #[test]
    fn each_nhs_number_level() {
        assert_eq!(
            compare_nhs_numbers(Some("943 476 5919"), Some("9434765919")),
            NhsNumberLevel::Exact
        );
        assert_eq!(
            compare_nhs_numbers(Some("9434765919"), Some("9992345675")),
            NhsNumberLevel::Different
        );
        assert_eq!(
            compare_nhs_numbers(Some("943"), Some("9992345675")),
            NhsNumberLevel::Missing
        );
        assert_eq!(compare_nhs_numbers(None, None), NhsNumberLevel::Missing);
    }
}
