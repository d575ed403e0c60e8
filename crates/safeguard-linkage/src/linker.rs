//! The linkage pipeline: block, compare, weigh, cluster. In batch over a set of records
//! (deduplication, or linking two sources), and online, one arriving record at a time against
//! an [`Index`], with the same model, so both give the same persons.

use std::collections::HashMap;

use crate::blocking::{BlockingRule, candidate_pairs};
use crate::cluster::{Conflict, Link, cluster};
use crate::compare::{Field, Levels, NameLevel, compare};
use crate::model::{Frequencies, Model};
use crate::names::{BuildFx, Nicknames};
use crate::record::Prepared;
use crate::rng::Rng;

/// The generic model, as [`Trained::train_generic`] gives it.
const GENERIC_MODEL: &str = include_str!("../data/generic-model.json");

/// How linkage runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Blocking rules, OR-ed.
    pub rules: Vec<BlockingRule>,
    /// Blocks larger than this are skipped.
    pub max_block: usize,
    /// Random pairs sampled to estimate u.
    pub random_pairs: usize,
    /// Seed for the random pairs.
    pub seed: u64,
    /// A pair at or above this probability is linked automatically.
    pub link_threshold: f64,
    /// A pair at or above this (and below the link threshold) goes to a person to review.
    pub review_threshold: f64,
    /// Whether the model weighs "another person in the same household" (see [`crate::model`])
    /// and confident disagreements forbid automatic links. Off, this is the textbook
    /// two-class model, kept to measure what these prevent.
    pub household_class: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rules: BlockingRule::DEFAULT.to_vec(),
            max_block: 500,
            random_pairs: 1_000_000,
            seed: 2007,
            link_threshold: 0.95,
            review_threshold: 0.5,
            household_class: true,
        }
    }
}

/// A stage of a long run, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Preparing records.
    Preparing,
    /// Blocking.
    Blocking,
    /// Sampling random pairs for u.
    Sampling,
    /// Fitting m by EM.
    Fitting,
    /// Scoring candidate pairs.
    Scoring,
    /// Clustering.
    Clustering,
}

/// Reports progress: the stage, work done, work in all.
pub type Progress<'a> = &'a (dyn Fn(Stage, u64, u64) + Sync);

/// A progress report that goes nowhere.
pub fn quiet(_: Stage, _: u64, _: u64) {}

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
        if levels[0] == Some(0) {
            f[0] = a.given.as_ref().map(|g| self.share(&self.given, &g.text));
        }
        if levels[1] == Some(0) {
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
        let training = Settings {
            rules: BlockingRule::TRAINING.to_vec(),
            ..settings.clone()
        };
        let (training_pairs, _) = block(&records, &training, None);
        let mut trained = train(&records, None, &training_pairs, &pairs, &settings, &quiet);
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
        let levels = compare(a, b, Nicknames::shipped());
        self.model
            .explain(&levels, &self.frequencies.for_pair(a, &levels))
    }

    /// The comparison vector and match probability of two records.
    pub fn score(&self, a: &Prepared, b: &Prepared) -> (Levels, f64) {
        let levels = compare(a, b, Nicknames::shipped());
        let p = self
            .model
            .probability(&levels, &self.frequencies.for_pair(a, &levels));
        (levels, p)
    }
}

/// Why a pair must not be joined automatically, whatever its weight: a field both records
/// hold that disagrees beyond any recording error Safeguard knows of (a date of birth
/// with both day and month different counts, a swapped or mistyped one does not). Twins share a family
/// name, a date of birth and a home, and a son named after his father shares all but the
/// date; the shared fields add up to a high weight, so a confident disagreement overrides
/// it. A person can still join the two after review.
pub fn confident_disagreement(levels: &Levels) -> Option<&'static str> {
    const DIFFERENT_NAME: u8 = 7;
    const SAME_YEAR_ONLY: u8 = 4;
    const DIFFERENT_DATE: u8 = 5;
    const DIFFERENT: u8 = 1;
    if levels[0] == Some(DIFFERENT_NAME) {
        Some("different given names")
    } else if matches!(levels[2], Some(SAME_YEAR_ONLY | DIFFERENT_DATE)) {
        Some("different dates of birth")
    } else if levels[3] == Some(DIFFERENT) {
        Some("different sex")
    } else if levels[5] == Some(DIFFERENT) {
        Some("different NHS numbers")
    } else {
        None
    }
}

/// Whether a pair holds evidence that tells a person from others in their household: a date
/// of birth on both records, or the same NHS number. Without it (a police record with a name
/// and an address only) a father and the son named after him look alike; such a pair is
/// reviewed, never joined automatically.
pub fn has_personal_evidence(levels: &Levels) -> bool {
    levels[2].is_some() || levels[5] == Some(0)
}

/// Why a pair, however likely, is not joined without a person deciding, if it is not: a
/// confident disagreement or no personal evidence (see above). `None` when it may be joined.
pub fn needs_a_person(levels: &Levels, settings: &Settings) -> Option<&'static str> {
    if !settings.household_class {
        return None;
    }
    confident_disagreement(levels).or_else(|| {
        (!has_personal_evidence(levels))
            .then_some("no date of birth or NHS number on both to tell household members apart")
    })
}

/// Whether two records recorded with the same people (the same mother, the same child) could
/// be one person, though their weight alone would not propose them: the given names agree,
/// or nearly (Dan and Danny), and nothing confidently disagrees. The family name may be
/// missing: "Dan", the name a mother gives for her partner, has none.
pub fn could_be_the_same_person(levels: &Levels) -> bool {
    levels[0].is_some_and(|l| Some(l) <= NameLevel::Close.level())
        && levels[1] != NameLevel::Different.level()
        && confident_disagreement(levels).is_none()
}

/// Whether a record is one that weight alone cannot place, so that the company it keeps is
/// worth searching: it lacks a full date of birth or a family name ("Dan"; "Danny Marsh",
/// date of birth not given). A record with both meets its matches through blocking.
pub fn needs_company(record: &Prepared) -> bool {
    record.full_birth_date().is_none() || record.family.is_none()
}

/// Why a likely pair was left for a person: uncertain, held back by [`needs_a_person`], or
/// (strong and safe, yet not joined) likely the same as more than one person.
pub fn review_reason(levels: &Levels, probability: f64, settings: &Settings) -> &'static str {
    if probability < settings.link_threshold {
        "uncertain"
    } else {
        needs_a_person(levels, settings).unwrap_or("likely the same as more than one person")
    }
}

/// Where an arriving record belongs, given its matches against the records already held,
/// each with the person it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement<P> {
    /// The person it joins, with the probability of its best link, or `None` for a new person.
    pub joins: Option<(P, f64)>,
    /// Records (by their place in the matches) a person should look at: likely, but not
    /// joined, each with why not. At most one per person, the most likely.
    pub review: Vec<(usize, &'static str)>,
}

/// Places an arriving record the way batch clustering would: it joins the one person it links
/// to strongly and safely; when it links strongly to two persons it joins neither; pairs in
/// the uncertain band, or held back by [`needs_a_person`], are proposed for review.
pub fn place<P: Copy + Eq>(matches: &[(P, Levels, f64)], settings: &Settings) -> Placement<P> {
    let strong = |(_, levels, p): &(P, Levels, f64)| {
        *p >= settings.link_threshold && needs_a_person(levels, settings).is_none()
    };
    let mut linked: Vec<(P, f64)> = Vec::new();
    for m in matches.iter().filter(|m| strong(m)) {
        match linked.iter_mut().find(|(person, _)| *person == m.0) {
            Some((_, best)) => *best = best.max(m.2),
            None => linked.push((m.0, m.2)),
        }
    }
    let joins = choose(&linked).and_then(|p| linked.iter().find(|(c, _)| *c == p).copied());
    let mut review: Vec<(usize, &'static str)> = Vec::new();
    let mut reviewed: Vec<P> = Vec::new();
    let mut order: Vec<usize> = (0..matches.len()).collect();
    order.sort_by(|&x, &y| matches[y].2.total_cmp(&matches[x].2));
    for i in order {
        let (person, levels, p) = &matches[i];
        if *p < settings.review_threshold
            || joins.is_some_and(|(j, _)| j == *person)
            || reviewed.contains(person)
        {
            continue;
        }
        let why = review_reason(levels, *p, settings);
        reviewed.push(*person);
        review.push((i, why));
    }
    Placement { joins, review }
}

/// How much likelier (in bits of odds) one person must be than any other for a record that
/// strongly matches both to go with it: 2^10, a thousand to one.
const FAR_LIKELIER_BITS: f64 = 10.0;

/// Of the persons a record links to strongly, each with its best probability: the one it
/// goes with, when there is one or one is far likelier than the rest; `None` when a person
/// must decide.
pub fn choose<P: Copy + PartialEq>(candidates: &[(P, f64)]) -> Option<P> {
    let odds = |p: f64| (p / (1.0 - p).max(f64::MIN_POSITIVE)).log2();
    let mut ranked: Vec<(P, f64)> = candidates.iter().map(|&(c, p)| (c, odds(p))).collect();
    ranked.sort_by(|x, y| y.1.total_cmp(&x.1));
    match ranked.as_slice() {
        [] => None,
        [one] => Some(one.0),
        [best, next, ..] => (best.1 - next.1 >= FAR_LIKELIER_BITS).then_some(best.0),
    }
}

/// A scored candidate pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// One record (index).
    pub a: u32,
    /// The other.
    pub b: u32,
    /// The comparison vector.
    pub levels: Levels,
    /// P(same person).
    pub probability: f64,
}

/// Candidate pairs of a set of records: all pairs, or with `sources` only pairs across
/// sources (linking two files).
pub fn block(
    records: &[Prepared],
    settings: &Settings,
    sources: Option<&[u8]>,
) -> (Vec<(u32, u32)>, usize) {
    let (mut pairs, skipped) = candidate_pairs(records, &settings.rules, settings.max_block);
    if let Some(s) = sources {
        pairs.retain(|&(a, b)| s[a as usize] != s[b as usize]);
    }
    (pairs, skipped)
}

/// Runs `work` over `items` split across the machine's cores, in order.
/// Prepares records for comparison, on every core.
pub fn prepare(records: &[crate::record::Record]) -> Vec<Prepared> {
    parallel(records, |chunk| chunk.iter().map(Prepared::new).collect())
}

fn parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&[T]) -> Vec<R> + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| scope.spawn(|| work(c)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a linkage worker panicked"))
            .collect()
    })
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
    let mut pairs = Vec::new();
    for block in keys.chunk_by(|a, b| a.0 == b.0).filter(|b| b.len() <= 20) {
        for (n, &(_, a)) in block.iter().enumerate() {
            for &(_, b) in &block[n + 1..] {
                if records[a as usize].nhs_number != records[b as usize].nhs_number {
                    pairs.push((a, b));
                }
            }
        }
        if pairs.len() >= limit {
            break;
        }
    }
    pairs
}

fn patterns(records: &[Prepared], pairs: &[(u32, u32)]) -> Vec<(Levels, u64)> {
    let nicknames = Nicknames::shipped();
    let counts: Vec<HashMap<Levels, u64, BuildFx>> = parallel(pairs, |chunk| {
        let mut counts = HashMap::default();
        for &(a, b) in chunk {
            let levels = compare(&records[a as usize], &records[b as usize], nicknames);
            *counts.entry(levels).or_insert(0) += 1;
        }
        vec![counts]
    });
    let mut patterns: HashMap<Levels, u64, BuildFx> = HashMap::default();
    for c in counts {
        for (levels, count) in c {
            *patterns.entry(levels).or_insert(0) += count;
        }
    }
    let mut patterns: Vec<(Levels, u64)> = patterns.into_iter().collect();
    patterns.sort_unstable(); // a fixed order, so that fitting is deterministic
    patterns
}

/// Trains a model on the records: u from random pairs; m, h and priors by EM on the pairs of
/// the tight training rules; then the priors again over all candidate pairs.
pub fn train(
    records: &[Prepared],
    sources: Option<&[u8]>,
    training_pairs: &[(u32, u32)],
    pairs: &[(u32, u32)],
    settings: &Settings,
    progress: Progress,
) -> Trained {
    let nicknames = Nicknames::shipped();
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
    let random_levels: Vec<Levels> = parallel(&random, |chunk| {
        chunk
            .iter()
            .map(|&(a, b)| compare(&records[a], &records[b], nicknames))
            .collect()
    });
    progress(Stage::Sampling, samples as u64, samples as u64);
    let household: Vec<Levels> = household_pairs(records, settings.random_pairs)
        .into_iter()
        .map(|(a, b)| compare(&records[a as usize], &records[b as usize], nicknames))
        .collect();
    let mut model = Model::initial(&random_levels, &household, settings.household_class);

    progress(Stage::Fitting, 0, pairs.len() as u64);
    let iterations = model.fit(&patterns(records, training_pairs), 500, 1e-6);
    model.priors = priors_among_all_pairs(records, sources, &model);
    progress(Stage::Fitting, pairs.len() as u64, pairs.len() as u64);
    Trained {
        model,
        frequencies: TermFrequencies::count(records),
        iterations,
        candidate_pairs: pairs.len(),
        records: records.len(),
    }
}

/// The class priors among all pairs of records (across sources, when linking two), not only
/// the candidates. Blocking picks candidates for agreeing on the very fields the weights then
/// count, so priors fitted on candidates count that agreement twice, and at a million records
/// namesakes born days apart came out likelier one person than not.
///
/// One person's pairs are counted by those agreeing exactly on given name, family name and
/// full date of birth, divided by how often one person's pairs agree so (the m of each
/// exact level, times the chance that both records hold all three). A household's pairs
/// likewise by family name and postcode, less the same person's.
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
        let (housed, q) = sharing(&|r| {
            let (family, postcode) = (r.family.as_ref()?, r.postcode.as_deref()?);
            Some(BuildFx::default().hash_one((&family.text, postcode)))
        });
        // The same postcode: a home at "same address" or "same postcode".
        let agree = m(Field::FamilyName, &[0]) * m(Field::Home, &[0, 1]) * q * q;
        if agree > 0.0 {
            (housed / agree - same_person).max(0.0)
        } else {
            0.0
        }
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

/// Scores candidate pairs.
pub fn score(
    records: &[Prepared],
    pairs: &[(u32, u32)],
    trained: &Trained,
    progress: Progress,
) -> Vec<Scored> {
    let total = pairs.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    parallel(pairs, |chunk| {
        let mut out = Vec::with_capacity(chunk.len());
        for (i, &(a, b)) in chunk.iter().enumerate() {
            let (levels, probability) = trained.score(&records[a as usize], &records[b as usize]);
            out.push(Scored {
                a,
                b,
                levels,
                probability,
            });
            if i % 100_000 == 99_999 {
                let d = done.fetch_add(100_000, std::sync::atomic::Ordering::Relaxed);
                progress(Stage::Scoring, d + 100_000, total);
            }
        }
        out
    })
}

/// The persons found: each record's cluster (the smallest record index in it) and the
/// highest probability with which it was linked into that cluster (`None` for a record alone).
#[derive(Debug, Clone, PartialEq)]
pub struct Persons {
    /// Per record, its cluster.
    pub cluster: Vec<usize>,
    /// Per record, its strongest link within its cluster.
    pub probability: Vec<Option<f64>>,
}

/// Clusters scored pairs into persons, honouring people's decisions.
pub fn persons(
    n: usize,
    scored: &[Scored],
    settings: &Settings,
    must_link: &[(usize, usize)],
    cannot_link: &[(usize, usize)],
) -> Result<Persons, Conflict> {
    let threshold = settings.link_threshold;
    let mut cannot_link = cannot_link.to_vec();
    cannot_link.extend(
        scored
            .iter()
            .filter(|s| settings.household_class && confident_disagreement(&s.levels).is_some())
            .map(|s| (s.a as usize, s.b as usize))
            .filter(|pair| !must_link.contains(pair) && !must_link.contains(&(pair.1, pair.0))),
    );
    let links: Vec<Link> = scored
        .iter()
        .filter(|s| s.probability >= threshold && needs_a_person(&s.levels, settings).is_none())
        .map(|s| Link {
            a: s.a as usize,
            b: s.b as usize,
            probability: s.probability,
        })
        .collect();
    let first = cluster(n, &links, threshold, must_link, &cannot_link)?;
    // A record that strongly matches two people known to be different (a police record of
    // "John Smith", no date of birth, at the home of John Smith and his son John) could be
    // either: unless one is far likelier (see [`choose`]), it is left alone for a person to
    // review rather than joined to one by weight.
    let mut strongest: HashMap<usize, Vec<(usize, f64)>, BuildFx> = HashMap::default();
    for l in &links {
        for (me, other) in [(l.a, l.b), (l.b, l.a)] {
            let into = strongest.entry(me).or_default();
            match into.iter_mut().find(|(c, _)| *c == first[other]) {
                Some((_, p)) => *p = p.max(l.probability),
                None => into.push((first[other], l.probability)),
            }
        }
    }
    // Per record linking into more than one cluster: the one it goes with, if any.
    let goes_with: HashMap<usize, Option<usize>, BuildFx> = strongest
        .into_iter()
        .filter(|(_, clusters)| clusters.len() > 1)
        .map(|(me, clusters)| (me, choose(&clusters)))
        .collect();
    let keeps = |me: usize, other: usize| match goes_with.get(&me) {
        None => true,
        Some(c) => *c == Some(first[other]),
    };
    let links: Vec<Link> = links
        .into_iter()
        .filter(|l| keeps(l.a, l.b) && keeps(l.b, l.a))
        .collect();
    let cluster = if !goes_with.is_empty() {
        cluster(n, &links, threshold, must_link, &cannot_link)?
    } else {
        first
    };
    let mut probability = vec![None; n];
    for s in scored {
        let (a, b) = (s.a as usize, s.b as usize);
        if cluster[a] == cluster[b] {
            for r in [a, b] {
                let best: &mut Option<f64> = &mut probability[r];
                *best = Some(best.map_or(s.probability, |p: f64| p.max(s.probability)));
            }
        }
    }
    for &(a, b) in must_link {
        probability[a] = Some(1.0);
        probability[b] = Some(1.0);
    }
    Ok(Persons {
        cluster,
        probability,
    })
}

/// Everything a batch run produced.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The model, as trained on these records.
    pub trained: Trained,
    /// Every candidate pair, scored.
    pub scored: Vec<Scored>,
    /// Blocks skipped as too large.
    pub skipped_blocks: usize,
    /// The persons.
    pub persons: Persons,
}

/// Links a set of records in batch: trains on them, scores and clusters. With `sources`, only
/// records from different sources are compared.
pub fn link(
    records: &[Prepared],
    sources: Option<&[u8]>,
    settings: &Settings,
    progress: Progress,
) -> Batch {
    progress(Stage::Blocking, 0, records.len() as u64);
    let (pairs, skipped_blocks) = block(records, settings, sources);
    let training = Settings {
        rules: BlockingRule::TRAINING.to_vec(),
        ..settings.clone()
    };
    let (training_pairs, _) = block(records, &training, sources);
    progress(Stage::Blocking, records.len() as u64, records.len() as u64);
    let trained = train(
        records,
        sources,
        &training_pairs,
        &pairs,
        settings,
        progress,
    );
    let scored = score(records, &pairs, &trained, progress);
    progress(Stage::Clustering, 0, 1);
    let persons =
        persons(records.len(), &scored, settings, &[], &[]).expect("no decisions, no conflict");
    progress(Stage::Clustering, 1, 1);
    Batch {
        trained,
        scored,
        skipped_blocks,
        persons,
    }
}

/// Records held for online matching, indexed by every blocking key.
#[derive(Debug, Clone, Default)]
pub struct Index {
    records: Vec<Prepared>,
    keys: HashMap<u64, Vec<u32>, BuildFx>,
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Index::default()
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Adds a record; returns its index.
    pub fn insert(&mut self, record: Prepared, rules: &[BlockingRule]) -> u32 {
        let id = self.records.len() as u32;
        for rule in rules {
            if let Some(key) = rule.key(&record) {
                self.keys.entry(key).or_default().push(id);
            }
        }
        self.records.push(record);
        id
    }

    /// The record at an index.
    pub fn record(&self, i: u32) -> &Prepared {
        &self.records[i as usize]
    }

    /// Every held record that shares a blocking key with `record` (keys held by `max_block`
    /// records or more are left out), each once, in index order.
    pub fn candidates(&self, record: &Prepared, settings: &Settings) -> Vec<u32> {
        let mut candidates: Vec<u32> = Vec::new();
        for rule in &settings.rules {
            if let Some(ids) = rule.key(record).and_then(|k| self.keys.get(&k))
                && ids.len() < settings.max_block
            {
                candidates.extend(ids);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// Every held record that shares a blocking key with `record`, scored, best first.
    pub fn matches(
        &self,
        record: &Prepared,
        trained: &Trained,
        settings: &Settings,
    ) -> Vec<(u32, Levels, f64)> {
        let mut scored: Vec<(u32, Levels, f64)> = self
            .candidates(record, settings)
            .into_iter()
            .map(|i| {
                let (levels, p) = trained.score(&self.records[i as usize], record);
                (i, levels, p)
            })
            .collect();
        scored.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)));
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{quality, wrong_merges};
    use crate::synthetic::{Relation, generate};

    #[test]
    fn a_larger_population_lowers_the_priors_in_proportion_and_a_smaller_keeps_them() {
        let generic = Trained::generic();
        assert_eq!(generic.records, 10_000);
        let priors = |t: &Trained| t.model.priors;
        let larger = generic.for_population(10 * (generic.records - 1) + 1);
        assert!((priors(&larger).same_person * 10.0 - priors(generic).same_person).abs() < 1e-15);
        assert!(
            (priors(&larger).same_household * 10.0 - priors(generic).same_household).abs() < 1e-15
        );
        let sum = priors(&larger).same_person
            + priors(&larger).same_household
            + priors(&larger).unrelated;
        assert!((sum - 1.0).abs() < 1e-12);
        assert_eq!(priors(&generic.for_population(500)), priors(generic));
        // The same pair, less likely one person among more records.
        let records = prepare(&generate(200, 3).records);
        let (_, p) = generic.score(&records[0], &records[1]);
        let (_, q) = larger.score(&records[0], &records[1]);
        assert!(q <= p, "{q} > {p}");
    }

    #[test]
    fn priors_are_estimated_among_all_pairs_close_to_the_truth() {
        let data = generate(6_000, 11);
        let records = prepare(&data.records);
        let batch = link(&records, None, &Settings::default(), &quiet);
        let mut per_person: HashMap<u32, f64, BuildFx> = HashMap::default();
        for p in &data.person {
            *per_person.entry(*p).or_default() += 1.0;
        }
        let n = records.len() as f64;
        let all_pairs = n * (n - 1.0) / 2.0;
        let true_share = per_person
            .values()
            .map(|k| k * (k - 1.0) / 2.0)
            .sum::<f64>()
            / all_pairs;
        let estimated = batch.trained.model.priors.same_person;
        assert!(
            (0.5..2.0).contains(&(estimated / true_share)),
            "estimated {estimated:e}, truly {true_share:e}"
        );

        // Linking two sources counts only pairs across them.
        let sources: Vec<u8> = (0..records.len()).map(|i| (i % 2) as u8).collect();
        let across = priors_among_all_pairs(&records, Some(&sources), &batch.trained.model);
        let within = priors_among_all_pairs(&records, None, &batch.trained.model);
        assert!(across.same_person > 0.0 && across.same_person != within.same_person);
    }

    #[test]
    fn a_generated_population_links_well_and_never_merges_twins() {
        let data = generate(6_000, 5);
        let records = prepare(&data.records);
        let settings = Settings::default();
        let batch = link(&records, None, &settings, &quiet);
        let q = quality(&batch.persons.cluster, &data.person);
        assert!(q.f1 > 0.91 && q.precision > 0.99, "{q:?}");
        let merges = wrong_merges(&batch.persons.cluster, &data.person, &data.relations);
        for (kind, total, merged) in &merges {
            assert!(
                *total > 0 || *kind == Relation::Twin,
                "{} present",
                kind.label()
            );
            assert_eq!(*merged, 0, "{} merged", kind.label());
        }

        let textbook = Settings {
            household_class: false,
            ..settings
        };
        let naive = link(&records, None, &textbook, &quiet);
        let naive_merges = wrong_merges(&naive.persons.cluster, &data.person, &data.relations);
        let households = |m: &[(Relation, u64, u64)]| m.iter().map(|x| x.2).sum::<u64>();
        assert!(
            households(&naive_merges) > 20,
            "the textbook model merges households: {naive_merges:?}"
        );
    }

    #[test]
    fn an_arriving_record_joins_one_safe_strong_match_and_a_person_reviews_the_rest() {
        let settings = Settings::default();
        // Exact names, date of birth, sex and home; NHS number missing.
        let full: Levels = [Some(0), Some(0), Some(0), Some(0), Some(0), None];
        let no_date: Levels = [Some(1), Some(0), None, Some(0), Some(0), None];
        let twin: Levels = [Some(7), Some(0), Some(0), Some(0), Some(0), None];

        let one = place(&[('p', full, 0.99), ('p', full, 0.97)], &settings);
        assert_eq!(one.joins, Some(('p', 0.99)));
        assert!(one.review.is_empty(), "{one:?}");

        let two = place(&[('p', full, 0.99), ('q', full, 0.98)], &settings);
        assert_eq!(two.joins, None, "strongly like two persons: neither");
        assert_eq!(
            two.review,
            vec![
                (0, "likely the same as more than one person"),
                (1, "likely the same as more than one person")
            ]
        );

        let unsafe_ = place(&[('p', no_date, 0.99), ('q', twin, 0.96)], &settings);
        assert_eq!(unsafe_.joins, None);
        assert_eq!(
            unsafe_.review,
            vec![
                (
                    0,
                    "no date of birth or NHS number on both to tell household members apart"
                ),
                (1, "different given names")
            ]
        );

        let band = place(
            &[('p', full, 0.7), ('p', full, 0.6), ('q', full, 0.49)],
            &settings,
        );
        assert_eq!(band.joins, None);
        assert_eq!(
            band.review,
            vec![(0, "uncertain")],
            "one review per person, none below the band"
        );

        let joined_and_reviewed = place(&[('p', full, 0.99), ('q', full, 0.8)], &settings);
        assert_eq!(joined_and_reviewed.joins, Some(('p', 0.99)));
        assert_eq!(joined_and_reviewed.review, vec![(1, "uncertain")]);
    }

    #[test]
    fn a_record_like_two_persons_goes_with_one_only_if_it_is_a_thousand_times_likelier() {
        assert_eq!(choose(&[('p', 0.99)]), Some('p'));
        assert_eq!(choose::<char>(&[]), None);
        // 99:1 against 49:1: one bit apart.
        assert_eq!(choose(&[('p', 0.99), ('q', 0.98)]), None);
        // 999,999:1 against 99:1: about 13 bits.
        assert_eq!(choose(&[('q', 0.99), ('p', 0.999_999)]), Some('p'));
        // Certain on both sides: neither.
        assert_eq!(choose(&[('p', 1.0), ('q', 1.0)]), None);
    }

    #[test]
    fn people_recorded_together_could_be_one_person_only_by_compatible_names() {
        let name = |given: &str, family: Option<&str>| {
            Prepared::new(&crate::record::Record {
                id: given.into(),
                given_name: Some(given.into()),
                family_name: family.map(str::to_owned),
                sex: Some(crate::record::Sex::Male),
                ..crate::record::Record::default()
            })
        };
        let nicknames = Nicknames::shipped();
        let could =
            |a: &Prepared, b: &Prepared| could_be_the_same_person(&compare(a, b, nicknames));
        let dan = name("Dan", None);
        assert!(
            could(&dan, &name("Danny", Some("Marsh"))),
            "a nickname, no family name"
        );
        assert!(!could(&dan, &name("Lee", Some("Marsh"))), "another man");
        assert!(
            !could(&name("Dan", Some("Reeve")), &name("Danny", Some("Marsh"))),
            "different family names"
        );
        let mut woman = name("Danny", Some("Marsh"));
        woman.sex = Some(crate::record::Sex::Female);
        assert!(!could(&dan, &woman), "a different sex");
    }

    #[test]
    fn the_shipped_generic_model_is_the_one_training_gives() {
        let trained = Trained::train_generic();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/generic-model.json");
        if std::env::var_os("SAFEGUARD_WRITE_GENERIC_MODEL").is_some() {
            let json = serde_json::to_string_pretty(&trained).expect("serialises");
            std::fs::write(path, json + "\n").expect("written");
        }
        assert_eq!(
            Trained::generic().model,
            trained.model,
            "{path} is stale: run this test with SAFEGUARD_WRITE_GENERIC_MODEL=1"
        );
    }

    #[test]
    fn the_generic_model_links_a_nickname_and_keeps_a_father_and_son_apart() {
        let trained = Trained::generic();
        let dob = |y, m, d| {
            Some(crate::compare::BirthDate {
                year: y,
                month: Some(m),
                day: Some(d),
            })
        };
        let person = |given: &str, birth_date| {
            Prepared::new(&crate::record::Record {
                id: given.into(),
                given_name: Some(given.into()),
                family_name: Some("Marsh".into()),
                birth_date,
                sex: Some(crate::record::Sex::Male),
                postcode: Some("NB2 9LS".into()),
                address: Some("Flat 6 Carlow House Tern Street".into()),
                nhs_number: None,
            })
        };
        let daniel = person("Daniel", dob(1975, 8, 21));
        let danny = person("Danny", dob(1975, 8, 21));
        let son = person("Daniel", dob(2001, 3, 2));
        assert!(trained.score(&daniel, &danny).1 > 0.95);
        let (levels, _) = trained.score(&daniel, &son);
        assert_eq!(
            needs_a_person(&levels, &Settings::default()),
            Some("different dates of birth")
        );
        let explained = trained.explain(&daniel, &danny);
        let sum: f64 = explained
            .contributions
            .iter()
            .map(|c| c.against_unrelated)
            .sum::<f64>()
            + explained.prior_against_unrelated;
        assert!((sum - explained.total_against_unrelated).abs() < 1e-9);
        let json = serde_json::to_string(trained).expect("serialises");
        let back: Trained = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back.model, trained.model);
    }

    #[test]
    fn online_matching_finds_the_same_persons_as_batch() {
        let data = generate(3_000, 9);
        let records = prepare(&data.records);
        let settings = Settings::default();
        let batch = link(&records, None, &settings, &quiet);

        // Online: each record, as it arrives, is scored against those already held, with the
        // model the batch trained.
        let mut index = Index::new();
        let mut scored = Vec::new();
        for r in &records {
            for (i, levels, probability) in index.matches(r, &batch.trained, &settings) {
                scored.push(Scored {
                    a: i,
                    b: index.len() as u32,
                    levels,
                    probability,
                });
            }
            index.insert(r.clone(), &settings.rules);
        }
        let online = persons(records.len(), &scored, &settings, &[], &[]).expect("no decisions");
        assert_eq!(online.cluster, batch.persons.cluster);
        assert!(
            online.cluster.iter().enumerate().any(|(i, c)| *c != i),
            "some records were linked"
        );
    }
}
