//! Blocking: which pairs of records are worth comparing. Each rule groups records sharing a key
//! (family name and date of birth, say); a pair is a candidate when any rule groups it. Rules
//! are OR-ed so that a typo in one field does not hide a match another rule still finds.

use rayon::prelude::*;

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
    /// mistyped day or month together). Not among the defaults: at a million records its
    /// blocks made nine in ten candidate pairs and found no more matches than the rule with
    /// the given name's first letter added.
    PhoneticFamilyNameAndBirthYear,
    /// Given name, family name and sex (catches a wrong date of birth and a move).
    NamesAndSex,
    /// NHS number.
    NhsNumber,
    /// Family name and postcode: the people of one household, so that a record with no date
    /// of birth ("Danny Marsh", known to police) meets the others of its home ("Daniel
    /// Marsh", born 1975). The household class keeps the household's people apart.
    FamilyNameAndPostcode,
    /// How the family name sounds, the given name's first letter and the year of birth: a
    /// misspelt family name and a mistyped day or month together, in blocks a tenth the size
    /// of the family name's sound and the year alone.
    PhoneticFamilyNameInitialAndBirthYear,
    /// Given name and full date of birth (catches a changed or missing family name, and a
    /// move: a child taking a stepfather's name, a mother her maiden name).
    GivenNameAndBirthDate,
}

impl BlockingRule {
    /// The rules Safeguard uses by default.
    pub const DEFAULT: [BlockingRule; 8] = [
        BlockingRule::FamilyNameAndBirthDate,
        BlockingRule::GivenNameAndPostcode,
        BlockingRule::BirthDateAndPostcode,
        BlockingRule::FamilyInitialAndBirthDate,
        BlockingRule::PhoneticFamilyNameInitialAndBirthYear,
        BlockingRule::NhsNumber,
        BlockingRule::FamilyNameAndPostcode,
        BlockingRule::GivenNameAndBirthDate,
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

    /// The comparisons whose agreement the rule demands of its pairs, as a mask of
    /// [`Field::bit`]: EM on the rule's pairs learns nothing of how often one person's records
    /// agree on them (they all do), so training estimates m for them from other rules' pairs.
    pub fn fields(self) -> u8 {
        use crate::compare::Field;
        let birth_and_home = Field::BirthDate.bit() | Field::Home.bit();
        match self {
            BlockingRule::FamilyNameAndBirthDate | BlockingRule::FamilyInitialAndBirthDate => {
                Field::FamilyName.bit() | Field::BirthDate.bit()
            }
            BlockingRule::GivenNameAndPostcode => Field::GivenName.bit() | Field::Home.bit(),
            BlockingRule::BirthDateAndPostcode => birth_and_home,
            BlockingRule::PhoneticFamilyNameAndBirthYear
            | BlockingRule::PhoneticFamilyNameInitialAndBirthYear => {
                Field::FamilyName.bit() | Field::BirthDate.bit()
            }
            BlockingRule::NamesAndSex => {
                Field::GivenName.bit() | Field::FamilyName.bit() | Field::Sex.bit()
            }
            BlockingRule::NhsNumber => Field::NhsNumber.bit(),
            BlockingRule::FamilyNameAndPostcode => Field::FamilyName.bit() | Field::Home.bit(),
            BlockingRule::GivenNameAndBirthDate => Field::GivenName.bit() | Field::BirthDate.bit(),
        }
    }

    /// The record's key under this rule (a hash of the fields it needs), if it has them all.
    /// Two records with different values rarely share a hash; when they do, the pair is only
    /// compared needlessly. The hash is FNV-1a over the fields' bytes, so that keys stored in
    /// a database stay valid across Rust releases (the standard hasher's may change).
    pub fn key(self, r: &Prepared) -> Option<u64> {
        fn name(n: &Option<PreparedName>) -> Option<&str> {
            n.as_ref().map(|n| n.text.as_str())
        }
        let date = || r.full_birth_date();
        let postcode = || r.postcode.as_deref();
        let mut key = StableKey::new(self as u8);
        match self {
            BlockingRule::FamilyNameAndBirthDate => key.add(name(&r.family)?).add(&date()?),
            BlockingRule::GivenNameAndPostcode => key.add(name(&r.given)?).add(postcode()?),
            BlockingRule::BirthDateAndPostcode => key.add(&date()?).add(postcode()?),
            BlockingRule::FamilyInitialAndBirthDate => {
                let family = name(&r.family)?;
                let initial = &family[..family.chars().next()?.len_utf8()];
                key.add(initial).add(&date()?)
            }
            BlockingRule::PhoneticFamilyNameAndBirthYear => {
                let code = r.family.as_ref()?.primary.as_str();
                (!code.is_empty()).then_some(())?;
                key.add(code).add(&r.birth_date?.year.to_string())
            }
            BlockingRule::PhoneticFamilyNameInitialAndBirthYear => {
                let code = r.family.as_ref()?.primary.as_str();
                (!code.is_empty()).then_some(())?;
                let given = name(&r.given)?;
                let initial = &given[..given.chars().next()?.len_utf8()];
                key.add(code)
                    .add(initial)
                    .add(&r.birth_date?.year.to_string())
            }
            BlockingRule::NamesAndSex => key
                .add(name(&r.given)?)
                .add(name(&r.family)?)
                .add(&(r.sex? as u8).to_string()),
            BlockingRule::NhsNumber => key.add(r.nhs_number.as_deref()?),
            BlockingRule::FamilyNameAndPostcode => key.add(name(&r.family)?).add(postcode()?),
            BlockingRule::GivenNameAndBirthDate => key.add(name(&r.given)?).add(&date()?),
        };
        Some(key.0)
    }
}

/// FNV-1a (64 bit) over a rule tag and its fields, each field ended by a byte no text holds.
pub(crate) struct StableKey(pub(crate) u64);

impl StableKey {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub(crate) fn new(tag: u8) -> Self {
        let mut key = StableKey(0xcbf2_9ce4_8422_2325);
        key.byte(tag);
        key
    }

    fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
    }

    pub(crate) fn add(&mut self, field: &str) -> &mut Self {
        for b in field.bytes() {
            self.byte(b);
        }
        self.byte(0xff);
        self
    }
}

/// The records sharing each key of one rule: `(key, record index)` sorted by key.
pub fn keyed(records: &[Prepared], rule: BlockingRule) -> Vec<(u64, u32)> {
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(records.len());
    keys.extend(
        records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((rule.key(r)?, i as u32))),
    );
    keys.sort_unstable();
    keys
}

/// The pairs of records sharing a key, from keys sorted by `(key, record)`: each `(i, j)` with
/// `i < j` that `keep` accepts, block by block, until `limit` are found (the block that reaches
/// it is finished). Blocks of more than `max_block` records say little and are left out; how
/// many were is returned too.
pub(crate) fn pairs_within_blocks(
    keys: &[(u64, u32)],
    max_block: usize,
    limit: usize,
    keep: impl Fn(u32, u32) -> bool,
) -> (Vec<(u32, u32)>, usize) {
    let mut pairs = Vec::new();
    let mut skipped = 0;
    for block in keys.chunk_by(|a, b| a.0 == b.0) {
        if block.len() > max_block {
            skipped += 1;
            continue;
        }
        for (n, &(_, i)) in block.iter().enumerate() {
            for &(_, j) in &block[n + 1..] {
                if keep(i, j) {
                    pairs.push((i, j));
                }
            }
        }
        if pairs.len() >= limit {
            break;
        }
    }
    (pairs, skipped)
}

/// Candidate pairs `(i, j)` with `i < j`, each once, from every rule; blocks larger than
/// `max_block` are skipped (a key so common that it says nothing) and counted in the second
/// value returned.
pub fn candidate_pairs(
    records: &[Prepared],
    rules: &[BlockingRule],
    max_block: usize,
) -> (Vec<(u32, u32)>, usize) {
    // Each rule's pairs apart, on the cores there are.
    let one_rule = |rule: BlockingRule| {
        let (mut pairs, skipped) =
            pairs_within_blocks(&keyed(records, rule), max_block, usize::MAX, |_, _| true);
        pairs.sort_unstable();
        (pairs, skipped)
    };
    let per_rule: Vec<(Vec<(u32, u32)>, usize)> =
        rules.par_iter().map(|&rule| one_rule(rule)).collect();
    let skipped = per_rule.iter().map(|(_, s)| s).sum();
    let mut pairs: Vec<(u32, u32)> =
        Vec::with_capacity(per_rule.iter().map(|(p, _)| p.len()).sum());
    for (rule_pairs, _) in per_rule {
        pairs.extend(rule_pairs);
    }
    // Each rule's pairs are sorted already: a stable sort merges such runs.
    pairs.sort();
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
    fn keys_are_fnv_1a_of_the_fields_so_that_stored_keys_stay_valid() {
        // FNV-1a by hand: the offset basis, then each byte xor-ed in and multiplied.
        let fnv = |bytes: &[u8]| {
            bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        };
        let r = record("a", "Joshua", "Reeve", Some((2006, 6, 14)), "NB4 7QX");
        let nhs = Prepared {
            nhs_number: Some("9992345675".into()),
            ..Prepared::default()
        };
        assert_eq!(
            BlockingRule::NhsNumber.key(&nhs),
            Some(fnv(b"\x069992345675\xff"))
        );
        let mut expected = vec![BlockingRule::GivenNameAndPostcode as u8];
        expected.extend(b"joshua\xff");
        expected.extend(r.postcode.as_deref().unwrap().as_bytes());
        expected.push(0xff);
        assert_eq!(
            BlockingRule::GivenNameAndPostcode.key(&r),
            Some(fnv(&expected))
        );
        assert_ne!(
            BlockingRule::FamilyNameAndBirthDate.key(&r),
            BlockingRule::FamilyInitialAndBirthDate.key(&r)
        );
    }

    #[test]
    fn a_typo_in_one_field_is_caught_by_another_rule() {
        let records = [
            record("a", "Joshua", "Reeve", Some((2006, 6, 14)), "NB4 7QX"),
            record("b", "Joshua", "Reeves", Some((2006, 6, 14)), "NB4 7QX"),
            record("c", "Daniel", "Marsh", Some((1975, 8, 21)), "NB2 9LS"),
            record("d", "Danny", "Marsh", None, "NB2 9LS"),
            record("e", "Chloe", "Reeve", Some((2003, 4, 2)), "NB4 7QX"),
            // Misspelt family name, mistyped day, and moved: only the sound of the family
            // name, the given name's initial and the year of birth are left to meet by.
            record("f", "Josh", "Reaves", Some((2006, 6, 16)), "ZZ1 1ZZ"),
            record("g", "Kyle", "Reaves", Some((2006, 6, 16)), "ZZ1 1ZZ"),
        ];
        let (pairs, skipped) = candidate_pairs(&records, &BlockingRule::DEFAULT, 100);
        assert!(pairs.contains(&(1, 5)), "Joshua Reeves and Josh Reaves");
        assert!(
            !pairs.contains(&(1, 6)),
            "Kyle Reaves: another initial, another block"
        );
        assert!(
            pairs.contains(&(0, 1)),
            "same date of birth and postcode despite the surname"
        );
        assert!(
            pairs.contains(&(2, 3)),
            "a nickname and no date of birth: met through the household's family name and postcode"
        );
        assert!(
            pairs.contains(&(0, 4)),
            "siblings are compared too: the household class, not blocking, keeps them apart"
        );
        assert!(!pairs.contains(&(2, 4)), "nothing shared");
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
