//! Blocking: which pairs of records are worth comparing. Each rule groups records sharing a key
//! (family name and date of birth, say); a pair is a candidate when any rule groups it. Rules
//! are OR-ed so that a typo in one field does not hide a match another rule still finds.

use std::collections::{BTreeSet, HashMap};

use crate::compare::BirthDate;
use crate::names::normalise;

/// A person record as linkage sees it.
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
    /// Postcode.
    pub postcode: Option<String>,
    /// NHS number.
    pub nhs_number: Option<String>,
}

/// A blocking rule: the fields whose values must all be equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockingRule {
    /// Family name and full date of birth.
    FamilyNameAndBirthDate,
    /// Given name and postcode.
    GivenNameAndPostcode,
    /// Full date of birth and postcode (catches changed or misspelt names).
    BirthDateAndPostcode,
    /// First letter of the family name and full date of birth (catches a surname typo).
    FamilyInitialAndBirthDate,
    /// NHS number.
    NhsNumber,
}

impl BlockingRule {
    /// The rules Safeguard uses by default.
    pub const DEFAULT: [BlockingRule; 5] = [
        BlockingRule::FamilyNameAndBirthDate,
        BlockingRule::GivenNameAndPostcode,
        BlockingRule::BirthDateAndPostcode,
        BlockingRule::FamilyInitialAndBirthDate,
        BlockingRule::NhsNumber,
    ];

    /// The record's key under this rule, if it has every field the rule needs.
    pub fn key(self, r: &Record) -> Option<String> {
        let name = |n: &Option<String>| n.as_deref().map(normalise).filter(|n| !n.is_empty());
        let full_date = r
            .birth_date
            .and_then(|d| Some(format!("{:04}{:02}{:02}", d.year, d.month?, d.day?)));
        let postcode = r
            .postcode
            .as_deref()
            .map(|p| {
                p.chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_uppercase)
                    .collect::<String>()
            })
            .filter(|p| !p.is_empty());
        Some(match self {
            BlockingRule::FamilyNameAndBirthDate => {
                format!("{}|{}", name(&r.family_name)?, full_date?)
            }
            BlockingRule::GivenNameAndPostcode => format!("{}|{}", name(&r.given_name)?, postcode?),
            BlockingRule::BirthDateAndPostcode => format!("{}|{}", full_date?, postcode?),
            BlockingRule::FamilyInitialAndBirthDate => {
                format!("{}|{}", name(&r.family_name)?.chars().next()?, full_date?)
            }
            BlockingRule::NhsNumber => r
                .nhs_number
                .as_deref()?
                .chars()
                .filter(char::is_ascii_digit)
                .collect(),
        })
    }
}

/// Candidate pairs `(i, j)` with `i < j`, each once, from every rule; blocks larger than
/// `max_block` are skipped (a key so common that it says nothing) and counted in the second
/// value returned.
pub fn candidate_pairs(
    records: &[Record],
    rules: &[BlockingRule],
    max_block: usize,
) -> (Vec<(usize, usize)>, usize) {
    let mut pairs = BTreeSet::new();
    let mut skipped = 0;
    for rule in rules {
        let mut blocks: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            if let Some(key) = rule.key(r) {
                blocks.entry(key).or_default().push(i);
            }
        }
        for members in blocks.values() {
            if members.len() > max_block {
                skipped += 1;
                continue;
            }
            for (n, &i) in members.iter().enumerate() {
                for &j in &members[n + 1..] {
                    pairs.insert((i.min(j), i.max(j)));
                }
            }
        }
    }
    (pairs.into_iter().collect(), skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        id: &str,
        given: &str,
        family: &str,
        dob: Option<(i32, u32, u32)>,
        postcode: &str,
    ) -> Record {
        Record {
            id: id.into(),
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            birth_date: dob.map(|(y, m, d)| BirthDate {
                year: y,
                month: Some(m),
                day: Some(d),
            }),
            postcode: Some(postcode.into()),
            nhs_number: None,
        }
    }

    #[test]
    fn a_typo_in_one_field_is_caught_by_another_rule() {
        let records = [
            record("a", "Joshua", "Reeve", Some((2006, 6, 14)), "NB4 7QX"),
            record("b", "Joshua", "Reeves", Some((2006, 6, 14)), "NB4 7QX"),
            record("c", "Daniel", "Marsh", Some((1975, 8, 21)), "NB2 9LS"),
            record("d", "Danny", "Marsh", None, "NB2 9LS"),
            record("e", "Chloe", "Reeve", Some((2003, 4, 2)), "NB4 7QX"),
        ];
        let (pairs, skipped) = candidate_pairs(&records, &BlockingRule::DEFAULT, 100);
        assert!(
            pairs.contains(&(0, 1)),
            "same date of birth and postcode despite the surname"
        );
        assert!(
            !pairs.contains(&(2, 3)),
            "no shared key: nickname, no date of birth"
        );
        assert!(!pairs.contains(&(0, 4)), "siblings share only the address");
        assert_eq!(skipped, 0);
        assert!(
            pairs.windows(2).all(|w| w[0] < w[1]),
            "each pair once, ordered"
        );
    }

    #[test]
    fn the_nhs_number_blocks_whatever_the_names_and_oversized_blocks_are_skipped() {
        let mut a = record("a", "Josh", "Reeve", None, "NB4 7QX");
        let mut b = record("b", "Joshua", "Reeves", None, "ZZ1 1ZZ");
        a.nhs_number = Some("999 234 5675".into());
        b.nhs_number = Some("9992345675".into());
        let (pairs, _) = candidate_pairs(&[a, b], &[BlockingRule::NhsNumber], 100);
        assert_eq!(pairs, vec![(0, 1)]);
        let crowd: Vec<Record> = (0..10)
            .map(|i| {
                record(
                    &i.to_string(),
                    "Sam",
                    "Smith",
                    Some((2000, 1, 1)),
                    "NB1 1AA",
                )
            })
            .collect();
        let (pairs, skipped) = candidate_pairs(&crowd, &[BlockingRule::FamilyNameAndBirthDate], 5);
        assert!(pairs.is_empty());
        assert_eq!(skipped, 1);
    }
}
