//! Person search that forgives, as keys a store can index. A record's name parts are indexed
//! under keys, and a typed name looks up keys, such that they meet when the typed name is
//!
//! - the same name, or one letter wrong, missing, extra, or two letters swapped ("Josua",
//!   "Jsohua", "Reve" for Joshua Reeve): each side's keys hold the name and, for names of four
//!   letters or more, the name with each one letter deleted (the symmetric-delete scheme);
//! - the start of the name ("Jos", "Josh" for Joshua);
//! - a name that sounds the same, for names of five letters or more ("Kathryn" for Catherine,
//!   by Double Metaphone; shorter names' sounds are shared by too many to narrow anything);
//! - a nickname or the name it stands for ("Josh", "Bob" for Robert): the typed name also
//!   looks up the names the nickname table relates to it.
//!
//! Order does not matter: every part of every name is indexed alike. Keys only find
//! candidates; [`name_similarity`] ranks them. Keys are 64-bit FNV-1a hashes (stable across
//! Rust releases, so a stored index stays valid).

use rphonetic::DoubleMetaphone;

use crate::blocking::StableKey;
use crate::names::{Nicknames, jaro_winkler};

/// What a key says of a name part.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    /// The part, or the part with one letter deleted.
    Spelling = 1,
    /// The part's first three or four letters.
    Start = 2,
    /// The part's Double Metaphone code.
    Sound = 3,
    /// A whole postcode, its sector (`N17 6`) or its outward code (`N17`).
    Postcode = 4,
    /// A family name's spelling (or one-letter deletion) with the given name's first letter:
    /// "Olivia Smith" among a million looks up the Smiths whose given name starts with O, not
    /// every Olivia and every Smith.
    FamilyAndInitial = 5,
}

fn key(kind: Kind, text: &str) -> i64 {
    let mut key = StableKey::new(100 + kind as u8);
    key.add(text);
    key.0 as i64
}

/// The shortest name whose one-letter deletions are keys: shorter ones would make keys of
/// two letters, shared by half the population.
const MIN_DELETION_LEN: usize = 4;
/// The shortest name whose sound is a key.
const MIN_SOUND_LEN: usize = 5;

fn deletions(part: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = part.chars().collect();
    let n = if chars.len() >= MIN_DELETION_LEN {
        chars.len()
    } else {
        0
    };
    (0..n).map(move |skip| {
        chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, c)| c)
            .collect()
    })
}

fn sound(part: &str) -> Option<String> {
    (part.chars().count() >= MIN_SOUND_LEN)
        .then(|| {
            DoubleMetaphone::new(Some(6))
                .double_metaphone(part)
                .primary()
        })
        .filter(|code| !code.is_empty())
}

/// The keys a record's name part (normalised: lower case, letters and digits) is indexed under.
pub fn index_keys(part: &str) -> Vec<i64> {
    let mut keys = vec![key(Kind::Spelling, part)];
    keys.extend(deletions(part).map(|d| key(Kind::Spelling, &d)));
    let chars: Vec<char> = part.chars().collect();
    for len in [3, 4] {
        if chars.len() > len {
            keys.push(key(Kind::Start, &chars[..len].iter().collect::<String>()));
        }
    }
    keys.extend(sound(part).map(|s| key(Kind::Sound, &s)));
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The keys a typed name part (normalised) looks up: a record indexed under any of them is a
/// candidate for it.
pub fn query_keys(term: &str, nicknames: &Nicknames) -> Vec<i64> {
    let mut keys = vec![key(Kind::Spelling, term)];
    keys.extend(deletions(term).map(|d| key(Kind::Spelling, &d)));
    if (3..=4).contains(&term.chars().count()) {
        keys.push(key(Kind::Start, term));
    }
    keys.extend(sound(term).map(|s| key(Kind::Sound, &s)));
    keys.extend(
        nicknames
            .names_for(term)
            .map(|name| key(Kind::Spelling, name)),
    );
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn spellings(part: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(part.to_owned()).chain(deletions(part))
}

fn family_and_initial(family: &str, initial: char) -> i64 {
    key(Kind::FamilyAndInitial, &format!("{family} {initial}"))
}

/// The keys a record's family name part is indexed under together with its first given name.
pub fn pair_index_keys(family: &str, given: &str) -> Vec<i64> {
    let Some(initial) = given.chars().next() else {
        return Vec::new();
    };
    let mut keys: Vec<i64> = spellings(family)
        .map(|f| family_and_initial(&f, initial))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The keys two typed name parts look up taken as a given name and a family name (a record
/// indexed under any of them is a candidate): the family name's spellings with the given
/// name's first letter, or the first letter of a name the nickname table relates to it (Bob
/// for Robert).
pub fn pair_query_keys(given: &str, family: &str, nicknames: &Nicknames) -> Vec<i64> {
    let mut initials: Vec<char> = std::iter::once(given)
        .chain(nicknames.names_for(given))
        .filter_map(|name| name.chars().next())
        .collect();
    initials.sort_unstable();
    initials.dedup();
    let mut keys: Vec<i64> = spellings(family)
        .flat_map(|f| {
            initials
                .iter()
                .map(move |&initial| family_and_initial(&f, initial))
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The key of a postcode or a part of one (`N17 6AA`, its sector `N17 6`, its district
/// `N17`), upper case: a record is indexed under all three, a typed one looks up what it is.
pub fn postcode_key(postcode: &str) -> i64 {
    key(Kind::Postcode, postcode)
}

/// How well a typed name part fits a record's name part, from 0 to 1: 1 the same, 0.95 a
/// nickname or the name it stands for, 0.9 the start of the name, else Jaro–Winkler, and at
/// least 0.85 for names that sound the same (Kathryn, Catherine).
pub fn name_similarity(term: &str, part: &str, nicknames: &Nicknames) -> f64 {
    if term == part {
        1.0
    } else if nicknames.related(term, part) {
        0.95
    } else if term.chars().count() >= 3 && part.starts_with(term) {
        0.9
    } else {
        let sound_alike = sound(term).is_some_and(|s| sound(part) == Some(s));
        jaro_winkler(term, part).max(if sound_alike { SOUND_ALIKE } else { 0.0 })
    }
}

/// How well typed name parts fit a record's name parts, from 0 to 1: each typed part's best
/// fit, averaged, and a little more when the typed order is the record's (given name first),
/// so that "Joshua Reeve" ranks Joshua Reeve above Reeve Joshua. None when a typed part fits
/// none of the record's (see [`MIN_FIT`]).
pub fn names_score(terms: &[String], parts: &[&str], nicknames: &Nicknames) -> Option<f64> {
    if terms.is_empty() {
        return Some(0.0);
    }
    let mut total = 0.0;
    let mut positions = Vec::with_capacity(terms.len());
    for term in terms {
        let (best, at) = parts
            .iter()
            .enumerate()
            .map(|(i, part)| (name_similarity(term, part, nicknames), i))
            .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
        if best < MIN_FIT {
            return None;
        }
        total += best;
        positions.push(at);
    }
    let in_order = positions.windows(2).all(|w| w[0] < w[1]);
    Some(total / terms.len() as f64 + if in_order { 0.01 } else { 0.0 })
}

/// The least fit of a typed name part to a record's best part for the record to be shown:
/// keys that meet by chance ("Oscar" for Olivia, through the family name and the initial)
/// find candidates that no one typing the name meant.
pub const MIN_FIT: f64 = 0.8;

const SOUND_ALIKE: f64 = 0.85;

#[cfg(test)]
mod tests {
    use super::*;

    fn meets(typed: &str, indexed: &str) -> bool {
        let index = index_keys(indexed);
        query_keys(typed, Nicknames::shipped())
            .iter()
            .any(|k| index.binary_search(k).is_ok())
    }

    #[test]
    fn a_name_with_one_letter_wrong_missing_extra_or_swapped_meets_the_record() {
        for typed in ["joshua", "josua", "joshuah", "joshue", "jsohua", "jashua"] {
            assert!(meets(typed, "joshua"), "{typed}");
        }
        for typed in ["reev", "reve", "reeve", "reeev", "reeve"] {
            assert!(meets(typed, "reeve"), "{typed}");
        }
    }

    #[test]
    fn the_start_of_a_name_nicknames_and_sounds_meet_the_record() {
        assert!(meets("jos", "joshua"));
        assert!(meets("josh", "joshua"));
        assert!(meets("bob", "robert"));
        assert!(meets("robert", "bob"));
        assert!(meets("kathryn", "catherine"));
    }

    #[test]
    fn unrelated_names_do_not_meet() {
        for (typed, indexed) in [
            ("joshua", "jessica"),
            ("reeve", "rivers"),
            ("dan", "ann"),
            ("jo", "joshua"),
            ("sam", "pam"),
        ] {
            assert!(!meets(typed, indexed), "{typed} / {indexed}");
        }
    }

    #[test]
    fn a_given_and_family_name_pair_meets_through_typos_nicknames_and_either_order() {
        let nicknames = Nicknames::shipped();
        let index = pair_index_keys("reeve", "joshua");
        let meets = |given: &str, family: &str| {
            pair_query_keys(given, family, nicknames)
                .iter()
                .any(|k| index.binary_search(k).is_ok())
        };
        assert!(meets("joshua", "reeve"));
        assert!(meets("josua", "reev"));
        assert!(meets("jos", "reve"));
        // The other order is looked up as the pair the other way round.
        assert!(!meets("reeve", "joshua"));
        assert!(!meets("joshua", "rivers"));
        assert!(!meets("sam", "reeve"));
        let robert = pair_index_keys("smith", "robert");
        assert!(
            pair_query_keys("bob", "smith", nicknames)
                .iter()
                .any(|k| robert.binary_search(k).is_ok())
        );
    }

    #[test]
    fn postcode_keys_differ_from_name_keys_of_the_same_text() {
        assert_ne!(postcode_key("sam"), key(Kind::Spelling, "sam"));
        assert_ne!(postcode_key("N17"), postcode_key("N1"));
    }

    #[test]
    fn the_closer_name_ranks_first_and_the_typed_order_breaks_ties() {
        let nicknames = Nicknames::shipped();
        let score = |typed: &str, parts: &[&str]| {
            let terms: Vec<String> = typed.split(' ').map(str::to_owned).collect();
            names_score(&terms, parts, nicknames).unwrap_or(0.0)
        };
        let typed = "josua reeve";
        assert!(score(typed, &["joshua", "reeve"]) > score(typed, &["jessica", "reeve"]));
        let typed = "josh reeve";
        assert!(score(typed, &["josh", "reeve"]) > score(typed, &["joshua", "reeve"]));
        assert!(score(typed, &["joshua", "reeve"]) > score(typed, &["john", "reeve"]));
        let typed = "joshua reeve";
        assert!(score(typed, &["joshua", "reeve"]) > score(typed, &["reeve", "joshua"]));
        assert!(score(typed, &["reeve", "joshua"]) > score(typed, &["joshua", "reeves"]));
        let terms = ["olivia".to_owned(), "smith".to_owned()];
        assert_eq!(names_score(&terms, &["oscar", "smith"], nicknames), None);
        assert!(names_score(&["kathryn".to_owned()], &["catherine"], nicknames).is_some());
    }
}
