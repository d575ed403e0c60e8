//! Blocking: which pairs of records are worth comparing. Each rule groups records sharing a key
//! (family name and date of birth, say); a pair is a candidate when any rule groups it. Rules
//! are OR-ed so that a typo in one field does not hide a match another rule still finds.

use rayon::prelude::*;

use crate::record::{Checked, Prepared, PreparedName, check_identifier};

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
    /// of the family name's sound and the year alone. No longer among the defaults (see
    /// [`BlockingRule::PhoneticFamilyNameInitialAndBirthMonth`]).
    PhoneticFamilyNameInitialAndBirthYear,
    /// Given name and full date of birth (catches a changed or missing family name, and a
    /// move: a child taking a stepfather's name, a mother her maiden name).
    GivenNameAndBirthDate,
    /// Given and family name in either order, and the postcode district: "Collins Mary" for
    /// Mary Collins, and one person's records whose date of birth is missing or mistyped and
    /// whose postcode's last part is mistyped or of a move nearby.
    NamesInEitherOrderAndPostcodeDistrict,
    /// NHS numbers one slip apart (a digit wrong, two swapped, one left out): the number and
    /// each of it with one digit deleted are keys, and two numbers one slip apart share one.
    /// Pairs with the same number are left to [`BlockingRule::NhsNumber`].
    NhsNumberOneSlipApart,
    /// How the family name sounds, the given name's first letter, and the year and month of
    /// birth: a misspelt family name with a mistyped day. With the next it does the work of
    /// [`BlockingRule::PhoneticFamilyNameInitialAndBirthYear`], whose blocks made two thirds of
    /// a million records' candidate pairs (second generator) for one link in three thousand
    /// found by it alone. (The year and day, for a mistyped month, found 55 links alone among
    /// 1.8 million pairs there, and is left out.)
    PhoneticFamilyNameInitialAndBirthMonth,
    /// The same with the year, and the day and month in either order: a misspelt family name
    /// with the day and month swapped.
    PhoneticFamilyNameInitialAndBirthDayMonth,
}

impl BlockingRule {
    /// The rules Safeguard uses by default.
    pub const DEFAULT: [BlockingRule; 11] = [
        BlockingRule::FamilyNameAndBirthDate,
        BlockingRule::GivenNameAndPostcode,
        BlockingRule::BirthDateAndPostcode,
        BlockingRule::FamilyInitialAndBirthDate,
        BlockingRule::PhoneticFamilyNameInitialAndBirthMonth,
        BlockingRule::PhoneticFamilyNameInitialAndBirthDayMonth,
        BlockingRule::NhsNumber,
        BlockingRule::FamilyNameAndPostcode,
        BlockingRule::GivenNameAndBirthDate,
        BlockingRule::NamesInEitherOrderAndPostcodeDistrict,
        BlockingRule::NhsNumberOneSlipApart,
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
            | BlockingRule::PhoneticFamilyNameInitialAndBirthYear
            | BlockingRule::PhoneticFamilyNameInitialAndBirthMonth
            | BlockingRule::PhoneticFamilyNameInitialAndBirthDayMonth => {
                Field::FamilyName.bit() | Field::BirthDate.bit()
            }
            BlockingRule::NamesAndSex => {
                Field::GivenName.bit() | Field::FamilyName.bit() | Field::Sex.bit()
            }
            BlockingRule::NhsNumber => Field::NhsNumber.bit(),
            BlockingRule::FamilyNameAndPostcode => Field::FamilyName.bit() | Field::Home.bit(),
            BlockingRule::GivenNameAndBirthDate => Field::GivenName.bit() | Field::BirthDate.bit(),
            BlockingRule::NamesInEitherOrderAndPostcodeDistrict => {
                Field::GivenName.bit() | Field::FamilyName.bit()
            }
            // Its pairs' numbers differ by construction.
            BlockingRule::NhsNumberOneSlipApart => 0,
        }
    }

    /// Each of the record's keys under this rule (a hash of the fields it needs), none if it lacks
    /// one of them; a record has one key under every rule but
    /// [`BlockingRule::NhsNumberOneSlipApart`] and, for a date known to the year only,
    /// [`BlockingRule::PhoneticFamilyNameInitialAndBirthMonth`]. Two records with different values
    /// rarely share a hash; when they do, the pair is only compared needlessly. The hash is FNV-1a
    /// over the fields' bytes, so that keys stored in a database stay valid across Rust releases
    /// (the standard hasher's may change).
    pub fn each_key(self, r: &Prepared, mut key: impl FnMut(u64)) {
        match self {
            // Known to the year only (or 1 January, written for an unknown birthday): a key
            // for each month, so that it meets the year's full dates as a rule on the year
            // alone would, in blocks a twelfth the size.
            BlockingRule::PhoneticFamilyNameInitialAndBirthMonth
                if r.birth_date
                    .is_some_and(|born| born.as_known().month.is_none()) =>
            {
                for month in 1..=12 {
                    if let Some(mut k) = self.sound_initial_and_year(r) {
                        key(k.add(&month.to_string()).0);
                    }
                }
            }
            // The number, and the number with each digit left out in turn.
            BlockingRule::NhsNumberOneSlipApart => {
                let Some(digits) = r.nhs_number.as_deref() else {
                    return;
                };
                key(StableKey::new(self as u8).add(digits).0);
                for left_out in 0..digits.len() {
                    let mut k = StableKey::new(self as u8);
                    for (i, b) in digits.bytes().enumerate() {
                        if i != left_out {
                            k.byte(b);
                        }
                    }
                    k.byte(0xff);
                    key(k.0);
                }
            }
            _ => {
                if let Some(k) = self.key(r) {
                    key(k);
                }
            }
        }
    }

    /// Whether a pair sharing a key of this rule is a candidate: all are, but under
    /// [`BlockingRule::NhsNumberOneSlipApart`] only numbers truly one slip apart, one of them
    /// not a valid NHS number. Its keys also join numbers with one digit moved (`12345` and
    /// `13452` without their 2), and two valid numbers: where numbers are issued densely, as
    /// NHS numbers are, they made a third of a million records' candidate pairs, and two valid
    /// numbers are two people's. The same number is [`BlockingRule::NhsNumber`]'s.
    pub fn keeps(self, a: &Prepared, b: &Prepared) -> bool {
        if self != BlockingRule::NhsNumberOneSlipApart {
            return true;
        }
        let (Some(x), Some(y)) = (a.nhs_number.as_deref(), b.nhs_number.as_deref()) else {
            return false;
        };
        !(check_identifier(x) == Checked::Valid && check_identifier(y) == Checked::Valid)
            && crate::compare::one_slip_apart(x.as_bytes(), y.as_bytes())
    }

    /// Whether the rule makes a candidate of two records: they share a key it keeps.
    pub fn meets(self, a: &Prepared, b: &Prepared) -> bool {
        let mut keys = Vec::new();
        self.each_key(a, |k| keys.push(k));
        let mut shared = false;
        self.each_key(b, |k| shared |= keys.contains(&k));
        shared && self.keeps(a, b)
    }

    /// The start of a key of the rules on the family name's sound: the sound, the given
    /// name's first letter and the year of birth.
    fn sound_initial_and_year(self, r: &Prepared) -> Option<StableKey> {
        let code = r.family.as_ref()?.primary.as_str();
        (!code.is_empty()).then_some(())?;
        let given = r.given.as_ref()?.text.as_str();
        let initial = &given[..given.chars().next()?.len_utf8()];
        let mut key = StableKey::new(self as u8);
        key.add(code)
            .add(initial)
            .add(&r.birth_date?.year.to_string());
        Some(key)
    }

    /// The record's one key under a rule with one key per record.
    fn key(self, r: &Prepared) -> Option<u64> {
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
            BlockingRule::PhoneticFamilyNameInitialAndBirthYear
            | BlockingRule::PhoneticFamilyNameInitialAndBirthMonth
            | BlockingRule::PhoneticFamilyNameInitialAndBirthDayMonth => {
                key = self.sound_initial_and_year(r)?;
                let (month, day) = (r.birth_date?.month, r.birth_date?.day);
                match self {
                    BlockingRule::PhoneticFamilyNameInitialAndBirthMonth => {
                        key.add(&month?.to_string())
                    }
                    BlockingRule::PhoneticFamilyNameInitialAndBirthDayMonth => {
                        let (day, month) = (day?, month?);
                        key.add(&day.min(month).to_string())
                            .add(&day.max(month).to_string())
                    }
                    _ => &mut key,
                }
            }
            BlockingRule::NamesAndSex => key
                .add(name(&r.given)?)
                .add(name(&r.family)?)
                .add(&(r.sex? as u8).to_string()),
            BlockingRule::NhsNumber => key.add(r.nhs_number.as_deref()?),
            BlockingRule::NhsNumberOneSlipApart => return None, // keys: see each_key
            BlockingRule::FamilyNameAndPostcode => key.add(name(&r.family)?).add(postcode()?),
            BlockingRule::GivenNameAndBirthDate => key.add(name(&r.given)?).add(&date()?),
            BlockingRule::NamesInEitherOrderAndPostcodeDistrict => {
                let (given, family) = (name(&r.given)?, name(&r.family)?);
                key.add(given.min(family))
                    .add(given.max(family))
                    .add(crate::compare::postcode_parts(postcode()?)?.0)
            }
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

/// Whether any of the rules makes a candidate of two records: for matching online, where the
/// records sharing a key are fetched by the key alone.
pub fn is_candidate(a: &Prepared, b: &Prepared, rules: &[BlockingRule]) -> bool {
    rules.iter().any(|rule| rule.meets(a, b))
}

/// The records sharing each key of one rule: `(key, record index)` sorted by key.
pub fn keyed(records: &[Prepared], rule: BlockingRule) -> Vec<(u64, u32)> {
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        rule.each_key(r, |k| keys.push((k, i as u32)));
    }
    keys.sort_unstable();
    // One record may give one key twice (`1123` without either 1).
    keys.dedup();
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
    // Which records hold a valid NHS number, once: two valid numbers are never one slip
    // apart, and the slip rule's keys join millions of such pairs (see `keeps`).
    let valid: Vec<bool> = if rules.contains(&BlockingRule::NhsNumberOneSlipApart) {
        records
            .par_iter()
            .map(|r| {
                r.nhs_number
                    .as_deref()
                    .is_some_and(|n| check_identifier(n) == Checked::Valid)
            })
            .collect()
    } else {
        Vec::new()
    };
    // Each rule's pairs apart, on the cores there are.
    let one_rule = |rule: BlockingRule| {
        let keep = |i: u32, j: u32| {
            rule != BlockingRule::NhsNumberOneSlipApart
                || (!(valid[i as usize] && valid[j as usize])
                    && rule.keeps(&records[i as usize], &records[j as usize]))
        };
        let (mut pairs, skipped) =
            pairs_within_blocks(&keyed(records, rule), max_block, usize::MAX, keep);
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
    use crate::linker::Index;
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

    #[test]
    fn swapped_names_meet_in_the_same_postcode_district() {
        let records = [
            record("a", "Mary", "Collins", Some((1990, 3, 1)), "NB4 7QX"),
            // Given and family name swapped, the birthday mistyped, the postcode's end wrong.
            record("b", "Collins", "Mary", Some((1990, 1, 3)), "NB4 2AB"),
            // The same names in another district: another person, or a move, met otherwise.
            record("c", "Mary", "Collins", Some((1985, 6, 9)), "ZZ1 1ZZ"),
        ];
        let rules = [BlockingRule::NamesInEitherOrderAndPostcodeDistrict];
        let (pairs, _) = candidate_pairs(&records, &rules, 100);
        assert_eq!(pairs, vec![(0, 1)]);
        // Without it, nothing else among the defaults meets them.
        let others: Vec<BlockingRule> = BlockingRule::DEFAULT
            .into_iter()
            .filter(|r| !rules.contains(r))
            .collect();
        assert!(!candidate_pairs(&records, &others, 100).0.contains(&(0, 1)));
    }

    #[test]
    fn nhs_numbers_one_slip_apart_meet_and_the_same_number_is_left_to_its_own_rule() {
        let with = |id: &str, nhs: &str| Prepared {
            nhs_number: Some(nhs.into()),
            ..record(id, id, id, None, "")
        };
        let records = [
            with("a", "9434765919"),
            with("b", "9434765991"), // the last two swapped
            with("c", "9434705919"), // one digit wrong
            with("d", "943476591"),  // the last left out
            with("e", "9434765919"), // the same as a
            with("f", "1234567890"), // another
            with("g", "9434765000"), // the last three wrong: no slip of any
        ];
        let rules = [BlockingRule::NhsNumberOneSlipApart];
        let (pairs, _) = candidate_pairs(&records, &rules, 100);
        for pair in [(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4), (1, 3)] {
            assert!(pairs.contains(&pair), "{pair:?} one slip apart");
        }
        assert!(
            !pairs.contains(&(0, 4)),
            "the same number: NhsNumber's pair"
        );
        for other in 0..7 {
            assert!(!pairs.contains(&(other, 5)), "1234567890 is no slip of any");
            assert!(!pairs.contains(&(other, 6)), "9434765000 is no slip of any");
        }
        // Online matching finds the same.
        let mut index = Index::new();
        for r in &records[1..] {
            index.insert(r.clone(), &rules);
        }
        let settings = crate::linker::Settings {
            rules: rules.to_vec(),
            ..Default::default()
        };
        let found = index.candidates(&records[0], &settings);
        assert_eq!(
            found,
            vec![0, 1, 2],
            "b, c and d; e, the same number, is NhsNumber's"
        );
        assert!(is_candidate(&records[0], &records[1], &rules));
        assert!(!is_candidate(&records[0], &records[5], &rules));
    }

    #[test]
    fn a_misspelt_family_name_meets_its_own_with_a_mistyped_day_a_swap_or_only_a_year() {
        let mut records = vec![
            record("a", "Joshua", "Reeve", Some((2006, 6, 14)), "NB4 7QX"),
            // Misspelt, moved, the day mistyped.
            record("b", "Josh", "Reave", Some((2006, 6, 16)), "ZZ1 1ZZ"),
            // Misspelt, moved, day and month swapped.
            record("c", "Josh", "Reave", Some((2006, 14, 6)), "ZZ2 2ZZ"),
            // Misspelt, moved, 1 January written for an unknown birthday.
            record("d", "Josh", "Reave", Some((2006, 1, 1)), "ZZ3 3ZZ"),
            // Another Josh of that sound, born in another month of the year.
            record("e", "Josh", "Reave", Some((2006, 2, 20)), "ZZ4 4ZZ"),
        ];
        // Misspelt, moved, born in 2006 as far as known.
        let mut year_only = record("f", "Josh", "Reave", None, "ZZ5 5ZZ");
        year_only.birth_date = Some(BirthDate {
            year: 2006,
            month: None,
            day: None,
        });
        records.push(year_only);
        let (pairs, _) = candidate_pairs(&records, &BlockingRule::DEFAULT, 100);
        for (pair, why) in [
            ((0, 1), "a mistyped day"),
            ((0, 2), "day and month swapped"),
            ((0, 3), "1 January for an unknown birthday"),
            ((0, 5), "a year only"),
        ] {
            assert!(pairs.contains(&pair), "{why}");
        }
        assert!(!pairs.contains(&(0, 4)), "another month: not met by these");
        let month = BlockingRule::PhoneticFamilyNameInitialAndBirthMonth;
        assert!(month.meets(&records[0], &records[5]) && month.meets(&records[5], &records[4]));
        assert!(!month.meets(&records[0], &records[4]));
    }
}
