//! Blocking: which pairs of records are worth comparing. Each rule groups records sharing a key
//! (family name and date of birth, say); a pair is a candidate when any rule groups it. Rules
//! are OR-ed so that a typo in one field does not hide a match another rule still finds.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::record::{Prepared, PreparedName};

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
    /// How the family name sounds and the year of birth (catches a misspelt name and a
    /// mistyped day or month together).
    PhoneticFamilyNameAndBirthYear,
    /// Given name, family name and sex (catches a wrong date of birth and a move).
    NamesAndSex,
    /// NHS number.
    NhsNumber,
}

impl BlockingRule {
    /// The rules Safeguard uses by default.
    pub const DEFAULT: [BlockingRule; 6] = [
        BlockingRule::FamilyNameAndBirthDate,
        BlockingRule::GivenNameAndPostcode,
        BlockingRule::BirthDateAndPostcode,
        BlockingRule::FamilyInitialAndBirthDate,
        BlockingRule::PhoneticFamilyNameAndBirthYear,
        BlockingRule::NhsNumber,
    ];

    /// The rules whose pairs the model is fitted on: tight enough that unrelated pairs in
    /// them are few. Looser rules find more matches but would teach EM that "same common
    /// name" is a class of its own.
    pub const TRAINING: [BlockingRule; 4] = [
        BlockingRule::FamilyNameAndBirthDate,
        BlockingRule::BirthDateAndPostcode,
        BlockingRule::GivenNameAndPostcode,
        BlockingRule::NhsNumber,
    ];

    /// The record's key under this rule (a hash of the fields it needs), if it has them all.
    /// Two records with different values rarely share a hash; when they do, the pair is only
    /// compared needlessly.
    pub fn key(self, r: &Prepared) -> Option<u64> {
        fn name(n: &Option<PreparedName>) -> Option<&str> {
            n.as_ref().map(|n| n.text.as_str())
        }
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        match self {
            BlockingRule::FamilyNameAndBirthDate => {
                (name(&r.family)?, r.full_birth_date()?).hash(&mut h)
            }
            BlockingRule::GivenNameAndPostcode => {
                (name(&r.given)?, r.postcode.as_deref()?).hash(&mut h)
            }
            BlockingRule::BirthDateAndPostcode => {
                (r.full_birth_date()?, r.postcode.as_deref()?).hash(&mut h)
            }
            BlockingRule::FamilyInitialAndBirthDate => {
                (name(&r.family)?.chars().next()?, r.full_birth_date()?).hash(&mut h)
            }
            BlockingRule::PhoneticFamilyNameAndBirthYear => {
                let code = r.family.as_ref()?.primary.as_str();
                (!code.is_empty()).then_some(())?;
                (code, r.birth_date?.year).hash(&mut h)
            }
            BlockingRule::NamesAndSex => {
                (name(&r.given)?, name(&r.family)?, r.sex? as u8).hash(&mut h)
            }
            BlockingRule::NhsNumber => r.nhs_number.as_deref()?.hash(&mut h),
        }
        Some(h.finish())
    }
}

/// The records sharing each key of one rule: `(key, record index)` sorted by key.
pub fn keyed(records: &[Prepared], rule: BlockingRule) -> Vec<(u64, u32)> {
    let mut keys: Vec<(u64, u32)> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((rule.key(r)?, i as u32)))
        .collect();
    keys.sort_unstable();
    keys
}

/// Candidate pairs `(i, j)` with `i < j`, each once, from every rule; blocks larger than
/// `max_block` are skipped (a key so common that it says nothing) and counted in the second
/// value returned.
pub fn candidate_pairs(
    records: &[Prepared],
    rules: &[BlockingRule],
    max_block: usize,
) -> (Vec<(u32, u32)>, usize) {
    let mut pairs = Vec::new();
    let mut skipped = 0;
    for rule in rules {
        let keys = keyed(records, *rule);
        for block in keys.chunk_by(|a, b| a.0 == b.0) {
            if block.len() > max_block {
                skipped += 1;
                continue;
            }
            for (n, &(_, i)) in block.iter().enumerate() {
                for &(_, j) in &block[n + 1..] {
                    pairs.push((i.min(j), i.max(j)));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    (pairs, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::BirthDate;
    use crate::record::Record;

    fn record(
        id: &str,
        given: &str,
        family: &str,
        dob: Option<(i32, u32, u32)>,
        postcode: &str,
    ) -> Prepared {
        Prepared::new(&Record {
            id: id.into(),
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            birth_date: dob.map(|(y, m, d)| BirthDate {
                year: y,
                month: Some(m),
                day: Some(d),
            }),
            postcode: Some(postcode.into()),
            ..Record::default()
        })
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
        a.nhs_number = Some("9992345675".into());
        b.nhs_number = Some("9992345675".into());
        let (pairs, _) = candidate_pairs(&[a, b], &[BlockingRule::NhsNumber], 100);
        assert_eq!(pairs, vec![(0, 1)]);
        let crowd: Vec<Prepared> = (0..10)
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
