//! The linkage pipeline: block, compare, weigh, cluster. In batch over a set of records
//! (deduplication, or linking two sources), and online, one arriving record at a time against
//! an [`Index`], with the same model, so both give the same persons.

use std::collections::HashMap;

use crate::blocking::{BlockingRule, candidate_pairs, pairs_within_blocks};
use crate::cluster::{Apart, Conflict, Link, cluster};
use crate::compare::{Field, Levels, NameLevel, compare};
use crate::model::{Frequencies, Model, Weighed};
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
    /// and confident disagreements hold pairs back (see [`needs_a_person`]). Off, this is the
    /// textbook two-class model, kept to measure what these prevent.
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

    /// Compares and weighs two records.
    pub fn score(&self, a: &Prepared, b: &Prepared) -> Weighed {
        let levels = compare(a, b, Nicknames::shipped());
        self.model
            .weigh(&levels, &self.frequencies.for_pair(a, &levels))
    }
}

/// The NHS number comparison's level for the same valid number.
const SAME_NHS_NUMBER: Option<u8> = Some(0);

/// A field both records hold that disagrees beyond any recording error Safeguard knows of
/// (a date of birth with both day and month different counts, a swapped or mistyped one does
/// not). A person can still join the two after review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disagreement {
    /// Different given names: twins share a family name, a date of birth and a home.
    GivenNames,
    /// Different dates of birth: a son named after his father shares all but the date.
    BirthDates,
    /// Different sex.
    Sex,
    /// Different valid NHS numbers.
    NhsNumbers,
}

impl Disagreement {
    /// Why it holds a pair back, for a reviewer.
    pub fn reason(self) -> &'static str {
        match self {
            Disagreement::GivenNames => "different given names",
            Disagreement::BirthDates => "different dates of birth",
            Disagreement::Sex => "different sex",
            Disagreement::NhsNumbers => "different NHS numbers",
        }
    }

    /// The field that disagrees.
    pub fn field(self) -> Field {
        match self {
            Disagreement::GivenNames => Field::GivenName,
            Disagreement::BirthDates => Field::BirthDate,
            Disagreement::Sex => Field::Sex,
            Disagreement::NhsNumbers => Field::NhsNumber,
        }
    }

    /// Whether what it warns of is another person of the same household (a twin, a namesake
    /// father), rather than another person whoever they are: NHS numbers and sex tell any two
    /// people apart, and hold a pair back whatever the weights say.
    fn warns_of_the_household(self) -> bool {
        matches!(self, Disagreement::GivenNames | Disagreement::BirthDates)
    }
}

/// The personal fields on which a pair agrees, as a mask of [`Field::bit`]: a given name
/// alike (up to [`NameLevel::Close`]), a date of birth alike (up to consistent as far as both
/// are known).
pub fn agreeing_fields(levels: &Levels) -> u8 {
    const CONSISTENT_DATE: u8 = 3;
    let given = levels[0].is_some_and(|l| Some(l) <= NameLevel::Close.level());
    let born = levels[2].is_some_and(|l| l <= CONSISTENT_DATE);
    (if given { Field::GivenName.bit() } else { 0 })
        | (if born { Field::BirthDate.bit() } else { 0 })
}

/// Every confident disagreement of a pair, in the order a reviewer is told them.
pub fn confident_disagreements(levels: &Levels) -> impl Iterator<Item = Disagreement> + '_ {
    const DIFFERENT_NAME: u8 = 7;
    const SAME_YEAR_ONLY: u8 = 4;
    const DIFFERENT_DATE: u8 = 5;
    const DIFFERENT: u8 = 1;
    [
        (levels[0] == Some(DIFFERENT_NAME)).then_some(Disagreement::GivenNames),
        matches!(levels[2], Some(SAME_YEAR_ONLY | DIFFERENT_DATE))
            .then_some(Disagreement::BirthDates),
        (levels[3] == Some(DIFFERENT)).then_some(Disagreement::Sex),
        (levels[5] == Some(DIFFERENT)).then_some(Disagreement::NhsNumbers),
    ]
    .into_iter()
    .flatten()
}

/// The confident disagreement that keeps two records apart, if any. The shared fields of
/// twins, or of a father and his namesake son, add up to a high weight, so a disagreement that
/// warns of the household keeps the pair apart unless the weights or the same NHS number
/// rule the household out (see [`needs_a_person`]); the others always do. Kept apart, a pair
/// is not joined automatically, directly or through other records (see [`persons`]).
pub fn keeps_apart(weighed: &Weighed) -> Option<Disagreement> {
    // The same valid NHS number rules out a twin or a namesake: they have numbers of their own.
    let ruled_out = household_ruled_out(weighed) || weighed.levels[5] == SAME_NHS_NUMBER;
    confident_disagreements(&weighed.levels).find(|d| !(ruled_out && d.warns_of_the_household()))
}

/// Whether a pair holds evidence that tells a person from others in their household: a date
/// of birth on both records, or the same NHS number. Without it (a police record with a name
/// and an address only) a father and the son named after him look alike; such a pair is
/// reviewed, never joined automatically.
pub fn has_personal_evidence(levels: &Levels) -> bool {
    levels[2].is_some() || levels[5] == Some(0)
}

/// Why a pair, however likely, is not joined without a person deciding, if it is not: a
/// confident disagreement that keeps it apart, or no personal evidence (see above). Different
/// given names, different dates of birth and no personal evidence all guard against one
/// mistake, taking another person of the household (a twin, a namesake father) for the same
/// person, so none holds a pair back when the weights make "same person" at least
/// 2^[`HOUSEHOLD_RULED_OUT_BITS`] times likelier than "another person in the same
/// household" (2^[`NO_PERSONAL_EVIDENCE_BITS`] without personal evidence): in a population
/// with few households (the priors count them) the pair is then one person whose record was
/// mistyped, or lacks a date of birth. `None` when it may be joined.
pub fn needs_a_person(weighed: &Weighed, settings: &Settings) -> Option<&'static str> {
    if !settings.household_class {
        return None;
    }
    keeps_apart(weighed).map(Disagreement::reason).or_else(|| {
        let ruled_out = weighed
            .against_household
            .is_none_or(|bits| bits >= NO_PERSONAL_EVIDENCE_BITS);
        (!has_personal_evidence(&weighed.levels) && !ruled_out)
            .then_some("no date of birth or NHS number on both to tell household members apart")
    })
}

/// A thousand to one: the margin by which the weights must put "same person" above "another
/// person in the same household" for a confident disagreement not to hold a pair back. Among
/// a million generated records, twins otherwise alike (a mistyped postcode, say) came to 8
/// bits; without households (FEBRL) a replaced given name comes to 12 or more.
pub const HOUSEHOLD_RULED_OUT_BITS: f64 = 10.0;

/// Sixty-four to one: the margin for a pair with no personal evidence (a police record with a
/// name and an address, no date of birth). Nothing in it argues for another person, as a
/// different given name does; only a namesake in the household could be one, and the weights
/// count how common namesakes are. The largest group of true pairs left apart on UK-style data
/// is of this shape. Set by a sweep of 4 to 10 on both generators (`bench/linkage`): at 6 the
/// project's generator, where one son in forty is his father's namesake, joined none of them
/// wrongly; below 5 it joined 3.5 % of namesake pairs.
pub const NO_PERSONAL_EVIDENCE_BITS: f64 = 6.0;

/// Whether the weights rule out "another person in the same household" for a pair (see
/// [`needs_a_person`]).
pub fn household_ruled_out(weighed: &Weighed) -> bool {
    weighed
        .against_household
        .is_none_or(|bits| bits >= HOUSEHOLD_RULED_OUT_BITS)
}

/// Whether a pair is joined without a person: likely enough, and nothing holds it back.
pub fn joins_automatically(weighed: &Weighed, settings: &Settings) -> bool {
    likely_enough(weighed, settings) && needs_a_person(weighed, settings).is_none()
}

/// Whether a pair is likely enough to join: at the link threshold, or, sharing a valid NHS
/// number, at the review threshold. The same number is all but conclusive (two people have it
/// only by a mistake such as a mother's number on her baby's record, which the names and the
/// date of birth then contradict), so a mistyped birthday or a name the tables do not know
/// does not keep one person's records apart.
fn likely_enough(weighed: &Weighed, settings: &Settings) -> bool {
    weighed.probability >= settings.link_threshold
        || (settings.household_class
            && weighed.levels[5] == SAME_NHS_NUMBER
            && weighed.probability >= settings.review_threshold)
}

/// Whether two records recorded with the same people (the same mother, the same child) could
/// be one person, though their weight alone would not propose them: the given names agree,
/// or nearly (Dan and Danny), and nothing confidently disagrees. The family name may be
/// missing: "Dan", the name a mother gives for her partner, has none.
pub fn could_be_the_same_person(levels: &Levels) -> bool {
    levels[0].is_some_and(|l| Some(l) <= NameLevel::Close.level())
        && levels[1] != NameLevel::Different.level()
        && confident_disagreements(levels).next().is_none()
}

/// Whether a record is one that weight alone cannot place, so that the company it keeps is
/// worth searching: it lacks a full date of birth or a family name ("Dan"; "Danny Marsh",
/// date of birth not given). A record with both meets its matches through blocking.
pub fn needs_company(record: &Prepared) -> bool {
    record.full_birth_date().is_none() || record.family.is_none()
}

/// Why a likely pair was left for a person: uncertain, held back by [`needs_a_person`], or
/// (strong and safe, yet not joined) likely the same as more than one person.
pub fn review_reason(weighed: &Weighed, settings: &Settings) -> &'static str {
    if weighed.probability < settings.link_threshold {
        "uncertain"
    } else {
        needs_a_person(weighed, settings).unwrap_or(MORE_THAN_ONE_PERSON)
    }
}

/// Why a strong, safe pair was not joined: the record is as like another person.
pub const MORE_THAN_ONE_PERSON: &str = "likely the same as more than one person";

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
pub fn place<P: Copy + Eq>(matches: &[(P, Weighed)], settings: &Settings) -> Placement<P> {
    let mut linked: Vec<(P, f64)> = Vec::new();
    for (person, w) in matches
        .iter()
        .filter(|(_, w)| joins_automatically(w, settings))
    {
        match linked.iter_mut().find(|(p, _)| p == person) {
            Some((_, best)) => *best = best.max(w.probability),
            None => linked.push((*person, w.probability)),
        }
    }
    let joins = choose(&linked).and_then(|p| linked.iter().find(|(c, _)| *c == p).copied());
    let mut review: Vec<(usize, &'static str)> = Vec::new();
    let mut reviewed: Vec<P> = Vec::new();
    let mut order: Vec<usize> = (0..matches.len()).collect();
    order.sort_by(|&x, &y| {
        matches[y]
            .1
            .probability
            .total_cmp(&matches[x].1.probability)
    });
    for i in order {
        let (person, w) = &matches[i];
        if w.probability < settings.review_threshold
            || joins.is_some_and(|(j, _)| j == *person)
            || reviewed.contains(person)
        {
            continue;
        }
        let why = review_reason(w, settings);
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
    /// What the weights make of them.
    pub weighed: Weighed,
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
    pairs_within_blocks(&keys, 20, limit, |a, b| {
        records[a as usize].nhs_number != records[b as usize].nhs_number
    })
    .0
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
    const SAME_ADDRESS: u8 = 0;
    let home_at = Field::ALL
        .iter()
        .position(|f| *f == Field::Home)
        .expect("a home comparison");
    let could_share_a_home = |a: &Prepared, b: &Prepared, levels: &Levels| {
        levels[home_at] == Some(SAME_ADDRESS) || a.address.is_empty() || b.address.is_empty()
    };
    // Per pair that could share a home, how much likelier its personal fields are for two
    // people of one household than for one person.
    let household_over_person: Vec<f64> = parallel(&pairs, |chunk| {
        chunk
            .iter()
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
                    .filter_map(|(c, level)| {
                        level.map(|l| c.h[usize::from(l)] / c.m[usize::from(l)])
                    })
                    .product()
            })
            .collect()
    });
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
            out.push(Scored {
                a,
                b,
                weighed: trained.score(&records[a as usize], &records[b as usize]),
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
    model: &Model,
    settings: &Settings,
    must_link: &[(usize, usize)],
    cannot_link: &[(usize, usize)],
) -> Result<Persons, Conflict> {
    // The links are those that join automatically; a shared NHS number joins from the review
    // threshold (see [`likely_enough`]).
    let threshold = settings.link_threshold.min(settings.review_threshold);
    let mut cannot_link: Vec<Apart> = cannot_link
        .iter()
        .map(|&(a, b)| Apart::always(a, b))
        .collect();
    cannot_link.extend(
        scored
            .iter()
            .filter(|_| settings.household_class)
            .filter_map(|s| {
                keeps_apart(&s.weighed)?;
                let (a, b) = (s.a as usize, s.b as usize);
                let decided = must_link.contains(&(a, b)) || must_link.contains(&(b, a));
                // Evidence that tells any two people apart holds through any chain; a
                // household's disagreement only against links weaker than the pair's own
                // odds against one person.
                let disagreements: Vec<Disagreement> =
                    confident_disagreements(&s.weighed.levels).collect();
                let apart = if disagreements.iter().all(|d| d.warns_of_the_household()) {
                    let fields: Vec<Field> = disagreements.iter().map(|d| d.field()).collect();
                    Apart {
                        a,
                        b,
                        bits: model.separation_bits(&s.weighed.levels, &fields),
                        fields: fields.iter().fold(0, |mask, f| mask | f.bit()),
                    }
                } else {
                    Apart::always(a, b)
                };
                (!decided).then_some(apart)
            }),
    );
    let links: Vec<Link> = scored
        .iter()
        .filter(|s| joins_automatically(&s.weighed, settings))
        .map(|s| {
            let link = Link::new(s.a as usize, s.b as usize, s.weighed.probability);
            // Against twins' different given names only what tells a person from another of
            // the household counts, and only a link that agrees on the given name itself: a
            // record without one that shares the twins' family name, birthday and home is
            // either twin's.
            if s.weighed.levels[5] == SAME_NHS_NUMBER {
                // As a different number tells any two people apart, the same one tells a
                // person from the rest of the household, whatever their other fields say.
                return Link {
                    bits: f64::INFINITY,
                    agrees: u8::MAX,
                    ..link
                };
            }
            Link {
                bits: link
                    .bits
                    .min(s.weighed.against_household.unwrap_or(f64::INFINITY)),
                agrees: agreeing_fields(&s.weighed.levels),
                ..link
            }
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
    let best = |me: usize| {
        strongest
            .get(&me)
            .map_or(0.0, |c| c.iter().map(|(_, p)| *p).fold(0.0, f64::max))
    };
    let torn = |me: usize| strongest.get(&me).is_some_and(|c| c.len() > 1);
    // A record is torn only by its own links: one whose links into other clusters all lead to
    // a torn record weaker than itself (Oliver's record, linked to the nameless record that
    // either twin could be) is not, and keeps its own person.
    let mut crossing: HashMap<usize, Vec<usize>, BuildFx> = HashMap::default();
    for l in &links {
        if first[l.a] != first[l.b] {
            crossing.entry(l.a).or_default().push(l.b);
            crossing.entry(l.b).or_default().push(l.a);
        }
    }
    let excused = |me: usize| {
        crossing
            .get(&me)
            .is_some_and(|others| others.iter().all(|&o| torn(o) && best(o) < best(me)))
    };
    // Per record linking into more than one cluster: the one it goes with, if any.
    let goes_with: HashMap<usize, Option<usize>, BuildFx> = strongest
        .iter()
        .filter(|(me, clusters)| clusters.len() > 1 && !excused(**me))
        .map(|(me, clusters)| (*me, choose(clusters)))
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
                *best =
                    Some(best.map_or(s.weighed.probability, |p: f64| p.max(s.weighed.probability)));
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

/// A pair of records left for a person to decide: not joined, and not clearly apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proposal {
    /// One record (index).
    pub a: u32,
    /// The other.
    pub b: u32,
    /// What the weights make of them.
    pub weighed: Weighed,
    /// Why a person must decide.
    pub reason: &'static str,
}

/// Why an adult known only by a short form or an initial ("Kez", "K.") at the home of one with
/// a compatible full name ("Kieran Walsh") is proposed, though the weights would not.
pub const SHORT_FORM_AT_HOME: &str = "a short form or initial of the name, at the same home";

/// Whether a pair is such a short form at home: the same family name, the same address or
/// postcode, a date of birth on neither or only one, no different NHS numbers, and one given
/// name a short form of the other ([`crate::names::short_form`]).
pub fn short_form_at_home(a: &Prepared, b: &Prepared, levels: &Levels) -> bool {
    const SAME_POSTCODE: u8 = 1;
    let (Some(x), Some(y)) = (&a.given, &b.given) else {
        return false;
    };
    let short = |p: &str, q: &str| crate::names::short_form(p, q);
    levels[1] == Some(0)
        && levels[4].is_some_and(|l| l <= SAME_POSTCODE)
        && levels[2].is_none()
        && levels[5] != Some(1)
        && (short(&x.text, &y.text) || short(&y.text, &x.text))
}

/// The pairs a person should look at after a batch run, most likely first, at most one per
/// pair of persons: those at or above the review threshold that were not joined and that no
/// confident disagreement keeps apart (twins' different names are not proposed), and the short
/// forms at home whatever their weight.
pub fn proposals(
    records: &[Prepared],
    scored: &[Scored],
    persons: &Persons,
    settings: &Settings,
) -> Vec<Proposal> {
    let mut best: HashMap<(usize, usize), Proposal, BuildFx> = HashMap::default();
    for s in scored {
        let (ca, cb) = (persons.cluster[s.a as usize], persons.cluster[s.b as usize]);
        if ca == cb {
            continue;
        }
        let w = &s.weighed;
        let reason = if w.probability >= settings.review_threshold && keeps_apart(w).is_none() {
            review_reason(w, settings)
        } else if settings.household_class
            && short_form_at_home(&records[s.a as usize], &records[s.b as usize], &w.levels)
        {
            SHORT_FORM_AT_HOME
        } else {
            continue;
        };
        let proposal = Proposal {
            a: s.a,
            b: s.b,
            weighed: *w,
            reason,
        };
        best.entry((ca.min(cb), ca.max(cb)))
            .and_modify(|p| {
                if w.probability > p.weighed.probability {
                    *p = proposal;
                }
            })
            .or_insert(proposal);
    }
    let mut out: Vec<Proposal> = best.into_values().collect();
    out.sort_by(|x, y| {
        y.weighed
            .probability
            .total_cmp(&x.weighed.probability)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    out
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
    let persons = persons(records.len(), &scored, &trained.model, settings, &[], &[])
        .expect("no decisions, no conflict");
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
    ) -> Vec<(u32, Weighed)> {
        let mut scored: Vec<(u32, Weighed)> = self
            .candidates(record, settings)
            .into_iter()
            .map(|i| (i, trained.score(&self.records[i as usize], record)))
            .collect();
        scored.sort_by(|x, y| {
            (y.1.probability)
                .total_cmp(&x.1.probability)
                .then(x.0.cmp(&y.0))
        });
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
        let p = generic.score(&records[0], &records[1]).probability;
        let q = larger.score(&records[0], &records[1]).probability;
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

    /// A pair weighed: its levels, probability, and odds against the household in bits.
    fn weighed(levels: Levels, probability: f64, against_household: f64) -> Weighed {
        Weighed {
            levels,
            probability,
            against_household: Some(against_household),
        }
    }

    #[test]
    fn without_nhs_numbers_to_learn_households_from_twins_still_stay_apart() {
        // Police and school records carry no NHS numbers, so no pair is known to be two
        // people of one household, and h rests on u and the floors for twins and namesakes.
        // (At this size the margins hold even without the floors; the floors themselves are
        // tested in the model.)
        let mut data = generate(6_000, 5);
        for r in &mut data.records {
            r.nhs_number = None;
        }
        let records = prepare(&data.records);
        let batch = link(&records, None, &Settings::default(), &quiet);
        let merges = wrong_merges(&batch.persons.cluster, &data.person, &data.relations);
        for (kind, total, merged) in &merges {
            assert_eq!(*merged, 0, "{} merged, of {total}", kind.label());
        }
        assert!(
            merges
                .iter()
                .any(|(kind, total, _)| *kind == Relation::Twin && *total > 0),
            "twins present: {merges:?}"
        );
    }

    #[test]
    fn records_that_cannot_show_households_are_taken_to_have_them() {
        // Without postcodes, or without any home, no pair can be seen to share one: the
        // households are not counted, and must not be taken to be none.
        for strip_addresses in [false, true] {
            let mut data = generate(6_000, 5);
            for r in &mut data.records {
                r.postcode = None;
                if strip_addresses {
                    r.address = None;
                }
            }
            let records = prepare(&data.records);
            let batch = link(&records, None, &Settings::default(), &quiet);
            let priors = batch.trained.model.priors;
            assert!(
                priors.same_household > priors.same_person,
                "{strip_addresses}: {priors:?}"
            );
            let merges = wrong_merges(&batch.persons.cluster, &data.person, &data.relations);
            for (kind, total, merged) in &merges {
                assert_eq!(*merged, 0, "{} merged, of {total}", kind.label());
            }
        }
    }

    #[test]
    fn where_records_show_no_households_a_replaced_given_name_or_birth_date_is_a_mistyping() {
        // One person of each household, so that no two people share a home: a record whose
        // given name or date of birth was replaced by another (as FEBRL's corruption does)
        // is then the same person, not a twin or a namesake father.
        let data = generate(6_000, 5);
        let mut related: HashMap<u32, Vec<u32>> = HashMap::new();
        for &(a, b, _) in &data.relations {
            related.entry(a).or_default().push(b);
            related.entry(b).or_default().push(a);
        }
        let mut kept_persons: Vec<u32> = Vec::new();
        for &p in &data.person {
            let lives_with_a_kept = related
                .get(&p)
                .is_some_and(|r| r.iter().any(|q| kept_persons.contains(q)));
            if !kept_persons.contains(&p) && !lives_with_a_kept {
                kept_persons.push(p);
            }
        }
        let mut records = Vec::new();
        let mut person = Vec::new();
        for (r, p) in data.records.iter().zip(&data.person) {
            if kept_persons.contains(p) {
                records.push(r.clone());
                person.push(*p);
            }
        }
        // In every fifth person's second record, the given name or the date of birth replaced.
        let mut replaced = Vec::new();
        for (n, &p) in kept_persons.iter().enumerate().filter(|(n, _)| n % 5 == 0) {
            let mine: Vec<usize> = (0..records.len()).filter(|&i| person[i] == p).collect();
            let [first, second, ..] = mine[..] else {
                continue;
            };
            let other = &records[(second + 97) % records.len()];
            if n % 2 == 0 {
                records[second].given_name = other.given_name.clone();
            } else {
                records[second].birth_date = other.birth_date;
            }
            replaced.push((first, second));
        }
        let prepared = prepare(&records);
        let batch = link(&prepared, None, &Settings::default(), &quiet);
        let priors = batch.trained.model.priors;
        assert!(
            priors.same_household < priors.same_person * 1e-6,
            "no households counted: {priors:?}"
        );
        let joined = replaced
            .iter()
            .filter(|&&(a, b)| batch.persons.cluster[a] == batch.persons.cluster[b])
            .count();
        assert!(replaced.len() > 100, "{}", replaced.len());
        assert!(
            joined * 10 >= replaced.len() * 7,
            "{joined} of {} joined",
            replaced.len()
        );
        let q = quality(&batch.persons.cluster, &person);
        // With no households, the household class and its rules cost nothing.
        let textbook = link(
            &prepared,
            None,
            &Settings {
                household_class: false,
                ..Settings::default()
            },
            &quiet,
        );
        // Every pair the textbook model joins the household class joins too (and those that
        // share an NHS number whatever else was replaced).
        let mut batch_cluster_of: HashMap<usize, usize> = HashMap::new();
        for (t, b) in textbook.persons.cluster.iter().zip(&batch.persons.cluster) {
            assert_eq!(*batch_cluster_of.entry(*t).or_insert(*b), *b);
        }
        assert!(q.precision > 0.99, "{q:?}");
        assert!(q.recall >= quality(&textbook.persons.cluster, &person).recall);
    }

    #[test]
    fn an_arriving_record_joins_one_safe_strong_match_and_a_person_reviews_the_rest() {
        let settings = Settings::default();
        // Exact names, date of birth, sex and home; NHS number missing.
        let full = |p| weighed([Some(0), Some(0), Some(0), Some(0), Some(0), None], p, 3.0);
        let no_date = weighed([Some(1), Some(0), None, Some(0), Some(0), None], 0.99, 3.0);
        let twin = weighed(
            [Some(7), Some(0), Some(0), Some(0), Some(0), None],
            0.96,
            3.0,
        );

        let one = place(&[('p', full(0.99)), ('p', full(0.97))], &settings);
        assert_eq!(one.joins, Some(('p', 0.99)));
        assert!(one.review.is_empty(), "{one:?}");

        let two = place(&[('p', full(0.99)), ('q', full(0.98))], &settings);
        assert_eq!(two.joins, None, "strongly like two persons: neither");
        assert_eq!(
            two.review,
            vec![
                (0, "likely the same as more than one person"),
                (1, "likely the same as more than one person")
            ]
        );

        let unsafe_ = place(&[('p', no_date), ('q', twin)], &settings);
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
            &[('p', full(0.7)), ('p', full(0.6)), ('q', full(0.49))],
            &settings,
        );
        assert_eq!(band.joins, None);
        assert_eq!(
            band.review,
            vec![(0, "uncertain")],
            "one review per person, none below the band"
        );

        let joined_and_reviewed = place(&[('p', full(0.99)), ('q', full(0.8))], &settings);
        assert_eq!(joined_and_reviewed.joins, Some(('p', 0.99)));
        assert_eq!(joined_and_reviewed.review, vec![(1, "uncertain")]);
    }

    #[test]
    fn a_disagreement_that_warns_of_the_household_holds_back_only_while_the_household_is_likely() {
        let settings = Settings::default();
        let twin_shaped = [Some(7), Some(0), Some(0), Some(0), Some(0), None];
        let namesake_shaped = [Some(0), Some(0), Some(5), Some(0), Some(0), None];
        let no_date = [Some(0), Some(0), None, Some(0), Some(0), None];
        for (levels, margin) in [
            (twin_shaped, HOUSEHOLD_RULED_OUT_BITS),
            (namesake_shaped, HOUSEHOLD_RULED_OUT_BITS),
            (no_date, NO_PERSONAL_EVIDENCE_BITS),
        ] {
            let likely = weighed(levels, 0.99, margin - 0.1);
            assert!(needs_a_person(&likely, &settings).is_some(), "{levels:?}");
            assert!(!joins_automatically(&likely, &settings));
            let ruled_out = weighed(levels, 0.99, margin);
            assert_eq!(needs_a_person(&ruled_out, &settings), None, "{levels:?}");
            assert!(joins_automatically(&ruled_out, &settings));
            assert_eq!(keeps_apart(&ruled_out), None);
        }
        assert_eq!(
            keeps_apart(&weighed(twin_shaped, 0.6, 3.0)),
            Some(Disagreement::GivenNames),
            "kept apart in clustering too, however unlikely"
        );
        // Different NHS numbers or sex tell any two people apart, household or not.
        let nhs = weighed(
            [Some(0), Some(0), Some(0), Some(0), Some(0), Some(1)],
            0.99,
            40.0,
        );
        assert_eq!(
            needs_a_person(&nhs, &settings),
            Some("different NHS numbers")
        );
        let sex = weighed(
            [Some(0), Some(0), Some(0), Some(1), Some(0), None],
            0.99,
            40.0,
        );
        assert_eq!(keeps_apart(&sex), Some(Disagreement::Sex));
        // Both kinds: the one that still holds is given.
        let both = weighed(
            [Some(7), Some(0), Some(0), Some(0), Some(0), Some(1)],
            0.99,
            40.0,
        );
        assert_eq!(keeps_apart(&both), Some(Disagreement::NhsNumbers));
        // Without the household class nothing holds a pair back.
        let textbook = Settings {
            household_class: false,
            ..Settings::default()
        };
        assert_eq!(
            needs_a_person(&weighed(twin_shaped, 0.99, 0.0), &textbook),
            None
        );
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

    /// A record for the shapes below: the household's family name and home, an NHS number
    /// where given.
    fn household_member(given: &str, birth: Option<(i32, u32, u32)>, nhs: &str) -> Prepared {
        Prepared::new(&crate::record::Record {
            id: given.into(),
            given_name: (!given.is_empty()).then(|| given.into()),
            family_name: Some("Wilson".into()),
            birth_date: birth.map(|(year, month, day)| crate::compare::BirthDate {
                year,
                month: Some(month),
                day: Some(day),
            }),
            sex: Some(crate::record::Sex::Male),
            postcode: Some("NB2 9LS".into()),
            address: Some("2 Victoria Crescent".into()),
            nhs_number: (!nhs.is_empty()).then(|| nhs.into()),
        })
    }

    /// Every pair of `records` scored by the generic model and clustered.
    fn clustered(records: &[Prepared]) -> Vec<usize> {
        let trained = Trained::generic();
        let mut scored = Vec::new();
        for a in 0..records.len() {
            for b in a + 1..records.len() {
                scored.push(Scored {
                    a: a as u32,
                    b: b as u32,
                    weighed: trained.score(&records[a], &records[b]),
                });
            }
        }
        let settings = Settings::default();
        persons(records.len(), &scored, &trained.model, &settings, &[], &[])
            .expect("no decisions")
            .cluster
    }

    #[test]
    fn the_same_valid_nhs_number_outweighs_a_given_name_the_tables_do_not_know() {
        let born = Some((1997, 2, 14));
        let records = [
            household_member("Gaz", born, "999 234 5675"),
            household_member("Gary", born, "9992345675"),
            household_member("Gary", born, ""),
        ];
        let weighed = Trained::generic().score(&records[0], &records[1]);
        assert_eq!(
            keeps_apart(&weighed),
            None,
            "twins have numbers of their own"
        );
        assert_eq!(
            clustered(&records),
            [0, 0, 0],
            "one person, whatever he is called"
        );
        // Twins: different valid numbers keep them apart, and a record with neither a given
        // name nor a number, that either could be, joins neither.
        let twins = [
            household_member("Noah", born, "9992345675"),
            household_member("Noah", born, ""),
            household_member("Oliver", born, "9434765919"),
            household_member("Oliver", born, ""),
            household_member("", born, ""),
        ];
        let c = clustered(&twins);
        assert_eq!((c[0], c[1], c[2], c[3]), (0, 0, 2, 2));
        assert!(c[4] == 4, "the nameless record joins neither twin: {c:?}");
    }

    #[test]
    fn a_short_form_at_home_is_proposed_and_twins_are_not() {
        let born = Some((1990, 5, 1));
        let records = [
            household_member("Kieran", None, ""),
            household_member("Kez", None, ""),
            household_member("Noah", born, ""),
            household_member("Oliver", born, ""),
        ];
        let trained = Trained::generic();
        let mut scored = Vec::new();
        for a in 0..records.len() {
            for b in a + 1..records.len() {
                scored.push(Scored {
                    a: a as u32,
                    b: b as u32,
                    weighed: trained.score(&records[a], &records[b]),
                });
            }
        }
        let settings = Settings::default();
        let found = persons(records.len(), &scored, &trained.model, &settings, &[], &[])
            .expect("no decisions");
        assert_eq!(found.cluster, [0, 1, 2, 3], "none joined");
        let proposed = proposals(&records, &scored, &found, &settings);
        let pairs: Vec<(u32, u32, &str)> = proposed.iter().map(|p| (p.a, p.b, p.reason)).collect();
        assert_eq!(
            pairs,
            [(0, 1, SHORT_FORM_AT_HOME)],
            "not the twins, nor Kez and Noah"
        );
        // With a date of birth on both, "Kez" is no longer a short form to guess at.
        let dated = [
            household_member("Kieran", born, ""),
            household_member("Kez", born, ""),
        ];
        let w = trained.score(&dated[0], &dated[1]);
        assert!(!short_form_at_home(&dated[0], &dated[1], &w.levels));
    }

    #[test]
    fn a_defaulted_date_of_birth_keeps_no_records_of_its_person_apart() {
        // Hamza's maternity record has 1 January for his birthday, and his NHS number; his
        // school record agrees with his GP records in every field but has no NHS number.
        let records = [
            household_member("Hamza", Some((2021, 7, 22)), "9992345675"),
            household_member("Hamza", Some((2021, 7, 22)), "9992345675"),
            household_member("Hamza", Some((2021, 1, 1)), "9992345675"),
            household_member("Hamza", Some((2021, 7, 22)), ""),
        ];
        assert_eq!(clustered(&records), [0, 0, 0, 0]);
        // A real disagreement in that third record (born in March) is a typo the NHS number
        // outweighs, and it no longer keeps the school record out through the others.
        let mistyped = [
            records[0].clone(),
            records[1].clone(),
            household_member("Hamza", Some((2021, 3, 9)), "9992345675"),
            records[3].clone(),
        ];
        assert_eq!(clustered(&mistyped), [0, 0, 0, 0]);
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
        assert!(trained.score(&daniel, &danny).probability > 0.95);
        assert_eq!(
            needs_a_person(&trained.score(&daniel, &son), &Settings::default()),
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
            for (i, weighed) in index.matches(r, &batch.trained, &settings) {
                scored.push(Scored {
                    a: i,
                    b: index.len() as u32,
                    weighed,
                });
            }
            index.insert(r.clone(), &settings.rules);
        }
        let online = persons(
            records.len(),
            &scored,
            &batch.trained.model,
            &settings,
            &[],
            &[],
        )
        .expect("no decisions");
        assert_eq!(online.cluster, batch.persons.cluster);
        assert!(
            online.cluster.iter().enumerate().any(|(i, c)| *c != i),
            "some records were linked"
        );
    }
}
