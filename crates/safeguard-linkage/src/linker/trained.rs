//! A trained model and how it is trained: name frequencies, the model with what it needs to
//! score pairs, u from random pairs, m and h by EM, the priors among all pairs.
use super::*;

/// The generic model, as [`Trained::train_generic`] gives it.
const GENERIC_MODEL: &str = include_str!("../../data/generic-model.json");

/// How common each name is among the records the model was trained on, so that an exact
/// match on "Smith" counts for less than one on "Szczepanski".
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TermFrequencies {
    given: HashMap<String, u32, BuildFx>,
    family: HashMap<String, u32, BuildFx>,
    records: u32,
}

impl TermFrequencies {
    /// Counts the names of the records.
    pub fn count(records: &[Prepared]) -> Self {
        let mut tf = TermFrequencies {
            records: records.len() as u32,
            ..TermFrequencies::default()
        };
        for r in records {
            if let Some(g) = &r.given {
                *tf.given.entry(g.text.clone()).or_default() += 1;
            }
            if let Some(f) = &r.family {
                *tf.family.entry(f.text.clone()).or_default() += 1;
            }
        }
        tf
    }

    fn share(&self, table: &HashMap<String, u32, BuildFx>, name: &str) -> f64 {
        // A name never seen is as rare as one seen once.
        f64::from(table.get(name).copied().unwrap_or(1).max(1)) / f64::from(self.records.max(1))
    }

    /// The frequencies to weigh a pair with: only exact names are adjusted, and none when
    /// nothing was counted.
    pub fn for_pair(&self, a: &Prepared, levels: &Levels) -> Frequencies {
        let mut f = [None; 6];
        if self.records == 0 {
            return f;
        }
        if levels.given_name() == NameLevel::Exact {
            f[0] = a.given.as_ref().map(|g| self.share(&self.given, &g.text));
        }
        if levels.family_name() == NameLevel::Exact {
            f[1] = a.family.as_ref().map(|n| self.share(&self.family, &n.text));
        }
        f
    }
}

/// A model with what it needs to score pairs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Trained {
    /// The weights.
    pub model: Model,
    /// Name frequencies.
    pub frequencies: TermFrequencies,
    /// EM iterations taken.
    pub iterations: usize,
    /// Candidate pairs EM was fitted on.
    pub candidate_pairs: usize,
    /// Records it was trained on: the population its priors are for.
    #[serde(default)]
    pub records: usize,
    /// Given names its records showed to stand for one person's (see [`learn_aliases`]).
    #[serde(default, skip_serializing_if = "Aliases::is_empty")]
    pub aliases: Aliases,
}

impl Trained {
    /// The model a store uses before it has been trained on its own records: the one
    /// [`Trained::train_generic`] gives, shipped as JSON so that no process spends a quarter
    /// of a second training it (a test checks the two agree).
    pub fn generic() -> &'static Trained {
        static GENERIC: std::sync::OnceLock<Trained> = std::sync::OnceLock::new();
        GENERIC.get_or_init(|| {
            serde_json::from_str(GENERIC_MODEL).expect("the shipped generic model is valid")
        })
    }

    /// Trains the generic model: on 10,000 generated UK-style records (see
    /// [`crate::synthetic`]), without term frequencies, since generated names say nothing
    /// about which names are common locally.
    pub fn train_generic() -> Trained {
        let data = crate::synthetic::generate(10_000, 2007);
        let records = prepare(&data.records);
        let settings = Settings {
            random_pairs: 300_000,
            ..Settings::default()
        };
        let (pairs, _) = block(&records, &settings, None);
        let (mut trained, _) = train_and_score(&records, &pairs, None, &settings, None, &quiet);
        trained.frequencies = TermFrequencies::default();
        trained
    }

    /// The model for a population of `records`: the priors are for pairs among the records it
    /// was trained on, and each record has about as many others of its person however many
    /// records there are, so a population ten times larger makes any one pair ten times less
    /// likely one person. Only ever lowered: a smaller population keeps the trained priors,
    /// so that a young store links no more readily than the model was trained to.
    pub fn for_population(&self, records: usize) -> Trained {
        let mut scaled = self.clone();
        if self.records >= 2 && records > self.records {
            let factor = (self.records - 1) as f64 / (records - 1) as f64;
            let p = &mut scaled.model.priors;
            p.same_person *= factor;
            p.same_household *= factor;
            p.unrelated = 1.0 - p.same_person - p.same_household;
        }
        scaled
    }

    /// Why the weights say what they say about two records.
    pub fn explain(&self, a: &Prepared, b: &Prepared) -> crate::model::Explanation {
        let levels = compare_with(a, b, Nicknames::shipped(), &self.aliases);
        self.model
            .explain(&levels, &self.frequencies.for_pair(a, &levels))
    }

    /// Compares and weighs two records.
    pub fn score(&self, a: &Prepared, b: &Prepared) -> Weighed {
        self.weigh(a, &compare_with(a, b, Nicknames::shipped(), &self.aliases))
    }

    /// Weighs a pair's comparison vector (`a` is either record: it gives the names' frequencies).
    pub fn weigh(&self, a: &Prepared, levels: &Levels) -> Weighed {
        self.model
            .weigh(levels, &self.frequencies.for_pair(a, levels))
    }
}

/// How many people's records (NHS numbers) must show two given names for one person before
/// they are learnt as aliases: one person's could be a slip (a sibling's name on a record).
pub const ALIAS_LEAST_PEOPLE: usize = 2;

/// Learns the given names that stand for one person's from the records themselves: two names the
/// tables do not relate, on records of one NHS number (not one failing its check, which may be a
/// shared mistake), one date of birth and a family name alike, for at least [`ALIAS_LEAST_PEOPLE`]
/// people, where one could be a short form of the other ([`could_be_a_short_form`]). "Tel" and
/// "Terence", "Kasia" and "Katarzyna": without them a person's records that carry no NHS number
/// stay apart as twins' would. Twins have numbers of their own, and a mother's number on her baby's
/// record comes with another date of birth, so neither teaches an alias. With `sources`, only pairs
/// across them.
pub fn learn_aliases(records: &[Prepared], sources: Option<&[u8]>) -> Aliases {
    let nicknames = Nicknames::shipped();
    let keys = crate::blocking::keyed(records, BlockingRule::NhsNumber);
    let (pairs, _) = pairs_within_blocks(&keys, 20, usize::MAX, |a, b| {
        sources.is_none_or(|s| s[a as usize] != s[b as usize])
    });
    let mut seen: Vec<(&str, &str, &str)> = pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let (a, b) = (&records[a as usize], &records[b as usize]);
            let levels = compare(a, b, nicknames);
            let one_person = levels.nhs_number() == NhsNumberLevel::Same
                && levels.given_name() == NameLevel::Different
                && levels.birth_date() == BirthDateLevel::Exact
                && levels.family_name() <= NameLevel::Close;
            let (x, y) = (&a.given.as_ref()?.text, &b.given.as_ref()?.text);
            let number = a.nhs_number.as_deref()?;
            (one_person && could_be_a_short_form(x, y)).then(|| {
                let (x, y) = if x <= y { (x, y) } else { (y, x) };
                (x.as_str(), y.as_str(), number)
            })
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let learnt: Vec<(String, String)> = seen
        .chunk_by(|p, q| (p.0, p.1) == (q.0, q.1))
        .filter(|people| people.len() >= ALIAS_LEAST_PEOPLE)
        .map(|people| (people[0].0.to_owned(), people[0].1.to_owned()))
        .collect();
    Aliases::from(learnt)
}

/// Pairs of records known to be different people of one household: the same family name and
/// postcode, and different valid NHS numbers. At most `limit`.
fn household_pairs(records: &[Prepared], limit: usize) -> Vec<(u32, u32)> {
    let mut keys: Vec<(u64, u32)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.nhs_number
                .as_deref()
                .is_some_and(crate::record::is_valid_nhs_number)
        })
        .filter_map(|(i, r)| {
            let mut h = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(&(&r.family.as_ref()?.text, r.postcode.as_deref()?), &mut h);
            Some((std::hash::Hasher::finish(&h), i as u32))
        })
        .collect();
    keys.sort_unstable();
    pairs_within_blocks(&keys, 20, limit, |a, b| {
        records[a as usize].nhs_number != records[b as usize].nhs_number
    })
    .0
}

/// Per rule, the comparison vectors (with their counts) of the compared pairs it blocks
/// together: those whose records share its key, in a block of at most `max_block` records, as
/// blocking on the rule alone would pair them. Sorted, so that fitting is deterministic.
fn patterns_by_rule(
    records: &[Prepared],
    compared: &[Scored],
    rules: &[BlockingRule],
    max_block: usize,
) -> Vec<Vec<(Levels, u64)>> {
    let keys: Vec<Vec<Option<u64>>> = rules
        .par_iter()
        .map(|&rule| {
            let mut per_record = vec![None; records.len()];
            for block in crate::blocking::keyed(records, rule).chunk_by(|x, y| x.0 == y.0) {
                if block.len() <= max_block {
                    for &(key, i) in block {
                        per_record[i as usize] = Some(key);
                    }
                }
            }
            per_record
        })
        .collect();
    type Counts = HashMap<Levels, u64, BuildFx>;
    let counts: Vec<Counts> = compared
        .par_iter()
        .fold(
            || vec![Counts::default(); rules.len()],
            |mut counts, s| {
                for (rule, keys) in keys.iter().enumerate() {
                    if keys[s.a as usize].is_some() && keys[s.a as usize] == keys[s.b as usize] {
                        *counts[rule].entry(s.weighed.levels).or_insert(0) += 1;
                    }
                }
                counts
            },
        )
        .reduce(
            || vec![Counts::default(); rules.len()],
            |mut all, part| {
                for (into, from) in all.iter_mut().zip(part) {
                    for (levels, count) in from {
                        *into.entry(levels).or_insert(0) += count;
                    }
                }
                all
            },
        );
    counts
        .into_iter()
        .map(|c| {
            let mut patterns: Vec<(Levels, u64)> = c.into_iter().collect();
            patterns.sort_unstable();
            patterns
        })
        .collect()
}

/// Trains a model on the records: u from random pairs; m by EM in sessions, one per tight
/// training rule ([`BlockingRule::TRAINING`]), each session's estimates kept only for the
/// comparisons its rule does not block on (every pair of a rule on the family name agrees on
/// it, so its m says nothing of how often one person's records do), and averaged across the
/// sessions, as Splink trains; then the priors over all pairs. `candidate_pairs` is how many
/// pairs the prediction rules make, kept with the model.
pub fn train(
    records: &[Prepared],
    sources: Option<&[u8]>,
    compared: &[Scored],
    aliases: Aliases,
    settings: &Settings,
    progress: Progress,
) -> Trained {
    let nicknames = Nicknames::shipped();
    let compare = |a: &Prepared, b: &Prepared| compare_with(a, b, nicknames, &aliases);
    let n = records.len();
    let mut rng = Rng::new(settings.seed);
    let samples = if n < 2 {
        0
    } else {
        settings.random_pairs.min(n * (n - 1) / 2)
    };
    progress(Stage::Sampling, 0, samples as u64);
    let random: Vec<(usize, usize)> = (0..samples)
        .map(|_| {
            let a = rng.below(n);
            let b = (a + 1 + rng.below(n - 1)) % n;
            (a, b)
        })
        .collect();
    let random_levels: Vec<Levels> = random
        .par_iter()
        .map(|&(a, b)| compare(&records[a], &records[b]))
        .collect();
    progress(Stage::Sampling, samples as u64, samples as u64);
    let household: Vec<Levels> = household_pairs(records, settings.random_pairs)
        .into_iter()
        .map(|(a, b)| compare(&records[a as usize], &records[b as usize]))
        .collect();
    let mut model = Model::initial(&random_levels, &household, settings.household_class);

    let rules = BlockingRule::TRAINING;
    progress(Stage::Fitting, 0, rules.len() as u64);
    let mut iterations = 0;
    let mut sessions: Vec<(u8, Model)> = Vec::with_capacity(rules.len());
    let mut all_patterns: HashMap<Levels, u64, BuildFx> = HashMap::default();
    let per_rule = patterns_by_rule(records, compared, &rules, settings.max_block);
    for (done, (&rule, patterns)) in rules.iter().zip(per_rule).enumerate() {
        if !patterns.is_empty() {
            for (levels, count) in &patterns {
                *all_patterns.entry(*levels).or_default() += count;
            }
            let mut session = model.clone();
            iterations += session.fit(&patterns, 500, 1e-6);
            sessions.push((rule.fields(), session));
        }
        progress(Stage::Fitting, done as u64 + 1, rules.len() as u64);
    }
    // Every rule's pairs together: m for a comparison that every session blocked on.
    let mut all_patterns: Vec<(Levels, u64)> = all_patterns.into_iter().collect();
    all_patterns.sort_unstable();
    iterations += model.fit(&all_patterns, 500, 1e-6);
    model.take_m_from_sessions(&sessions);
    model.priors = priors_among_all_pairs(records, sources, &model);
    Trained {
        model,
        frequencies: TermFrequencies::count(records),
        iterations,
        candidate_pairs: compared.len(),
        records: records.len(),
        aliases,
    }
}

/// The class priors among all pairs of records (across sources, when linking two), not only
/// the candidates. Blocking picks candidates for agreeing on the very fields the weights then
/// count, so priors fitted on candidates count that agreement twice, and at a million records
/// namesakes born days apart came out likelier one person than not.
///
/// One person's pairs are counted by those agreeing exactly on given name, family name and
/// full date of birth, divided by how often one person's pairs agree so (the m of each
/// exact level, times the chance that both records hold all three). A household's pairs are
/// so many for each of one person's (see [`households_per_person`]).
pub fn priors_among_all_pairs(
    records: &[Prepared],
    sources: Option<&[u8]>,
    model: &Model,
) -> crate::model::Priors {
    use std::hash::BuildHasher;
    let pairs = |n: f64| n * (n - 1.0) / 2.0;
    // Pairs among records sharing a key (across sources only, when there are sources), and
    // the share of records with a key.
    let sharing = |key: &dyn Fn(&Prepared) -> Option<u64>| -> (f64, f64) {
        let mut all: HashMap<u64, f64, BuildFx> = HashMap::default();
        let mut within_source: HashMap<(u64, u8), f64, BuildFx> = HashMap::default();
        for (i, r) in records.iter().enumerate() {
            if let Some(k) = key(r) {
                *all.entry(k).or_default() += 1.0;
                if let Some(s) = sources {
                    *within_source.entry((k, s[i])).or_default() += 1.0;
                }
            }
        }
        let keyed: f64 = all.values().sum();
        let shared = all.values().map(|&n| pairs(n)).sum::<f64>()
            - within_source.values().map(|&n| pairs(n)).sum::<f64>();
        (shared, keyed / records.len().max(1) as f64)
    };
    let all_pairs = pairs(records.len() as f64)
        - sources.map_or(0.0, |s| {
            let mut per_source: HashMap<u8, f64, BuildFx> = HashMap::default();
            for &source in s {
                *per_source.entry(source).or_default() += 1.0;
            }
            per_source.values().map(|&n| pairs(n)).sum()
        });
    let m = |field: Field, levels: &[usize]| -> f64 {
        let c = &model.comparisons[Field::ALL
            .iter()
            .position(|f| *f == field)
            .expect("a field")];
        levels.iter().map(|&l| c.m[l]).sum()
    };
    let (exact, q) = sharing(&|r| {
        let (given, family, born) = (r.given.as_ref()?, r.family.as_ref()?, r.birth_date?);
        let (month, day) = (born.month?, born.day?);
        Some(BuildFx::default().hash_one((&given.text, &family.text, born.year, month, day)))
    });
    let agree_exactly =
        m(Field::GivenName, &[0]) * m(Field::FamilyName, &[0]) * m(Field::BirthDate, &[0]) * q * q;
    // With nothing to count, about one other record of each person.
    let same_person = if exact > 0.0 && agree_exactly > 0.0 {
        exact / agree_exactly
    } else {
        records.len() as f64 / 2.0
    };
    let same_household = if model.household_class {
        same_person * households_per_person(records, sources, model)
    } else {
        0.0
    };
    let all_pairs = all_pairs.max(1.0);
    let same_person = (same_person / all_pairs).min(0.5);
    let same_household = (same_household / all_pairs).min(0.5);
    crate::model::Priors {
        same_person,
        same_household,
        unrelated: 1.0 - same_person - same_household,
    }
}

/// Pairs of records looked at to count households, at most.
const HOUSEHOLD_SAMPLE: usize = 500_000;

/// Pairs that could share a home needed to count households by; with fewer (records without
/// postcodes or addresses), the records cannot show their households, and are taken to have
/// as many as the generated UK-style population of the generic model.
const HOUSEHOLD_PAIRS_NEEDED: usize = 100;

/// How many pairs of records of different people of one household there are for each pair of
/// one person's records. Both kinds of pair share a family name and a home; among the pairs
/// that could (the same family name and postcode, and not addresses known to be two houses),
/// the share of each is fitted by EM on the personal fields alone (given name, date of birth,
/// sex, NHS number), with their m and h held.
/// Two families of one name in one street are not a household, and records with no
/// households give a share near nothing, rather than the error of subtracting one estimate
/// from another. Records that cannot show a shared home are not taken to have no households
/// (see [`HOUSEHOLD_PAIRS_NEEDED`]).
fn households_per_person(records: &[Prepared], sources: Option<&[u8]>, model: &Model) -> f64 {
    use std::hash::BuildHasher;
    // Pairs sharing a family name and a postcode, or a family name and an address's words.
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(2 * records.len());
    for (i, r) in records.iter().enumerate() {
        let Some(family) = r.family.as_ref() else {
            continue;
        };
        if let Some(postcode) = r.postcode.as_deref() {
            keyed.push((
                BuildFx::default().hash_one((&family.text, postcode)),
                i as u32,
            ));
        }
        if !r.address.is_empty() {
            keyed.push((
                BuildFx::default().hash_one((&family.text, &r.address)),
                i as u32,
            ));
        }
    }
    keyed.sort_unstable();
    let (mut pairs, _) = pairs_within_blocks(&keyed, 100, HOUSEHOLD_SAMPLE, |a, b| {
        sources.is_none_or(|s| s[a as usize] != s[b as usize])
    });
    pairs.sort_unstable();
    pairs.dedup();
    let nicknames = Nicknames::shipped();
    let could_share_a_home = |a: &Prepared, b: &Prepared, levels: &Levels| {
        levels.home() == HomeLevel::SameAddress || a.address.is_empty() || b.address.is_empty()
    };
    // Per pair that could share a home, how much likelier its personal fields are for two
    // people of one household than for one person.
    let household_over_person: Vec<f64> = pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let (a, b) = (&records[a as usize], &records[b as usize]);
            let levels = compare(a, b, nicknames);
            could_share_a_home(a, b, &levels).then_some(levels)
        })
        .map(|levels| {
            model
                .comparisons
                .iter()
                .zip(levels)
                .filter(|(c, _)| !c.field.is_household())
                .filter_map(|(c, level)| level.map(|l| c.h[usize::from(l)] / c.m[usize::from(l)]))
                .product()
        })
        .collect();
    if household_over_person.len() < HOUSEHOLD_PAIRS_NEEDED {
        let generic = Trained::generic().model.priors;
        return generic.same_household / generic.same_person;
    }
    let mut household_share = 0.5;
    for _ in 0..1_000 {
        let next = household_over_person
            .iter()
            .map(|r| household_share * r / (household_share * r + 1.0 - household_share))
            .sum::<f64>()
            / household_over_person.len() as f64;
        let moved = (next - household_share).abs();
        household_share = next;
        if moved < 1e-9 {
            break;
        }
    }
    // Both kinds share a family name and a home equally often (see [`crate::model`]), so
    // the shares among these pairs are the shares among all.
    let household_share = household_share.min(0.999);
    household_share / (1.0 - household_share)
}
