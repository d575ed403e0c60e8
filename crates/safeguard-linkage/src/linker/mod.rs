//! The linkage pipeline: block, compare, weigh, cluster. In batch over a set of records
//! (deduplication, or linking two sources), and online, one arriving record at a time against
//! an [`Index`], with the same model, so both give the same persons.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::blocking::{BlockingRule, candidate_pairs, is_candidate, pairs_within_blocks};
use crate::cluster::{Apart, Conflict, Link, cluster};
use crate::compare::{
    BirthDateLevel, ComparisonVector, Field, HomeLevel, Levels, NameLevel, NhsNumberLevel,
    SexLevel, compare, compare_with,
};
use crate::model::{Frequencies, Model, Weighed};
use crate::names::{Aliases, BuildFx, Nicknames, could_be_a_short_form};
use crate::record::Prepared;
use crate::rng::Rng;

mod clustering;
mod index;
mod policy;
mod trained;

pub use clustering::*;
pub use index::*;
pub use policy::*;
pub use trained::*;

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
    /// Comparing candidate pairs field by field.
    Comparing,
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

/// Prepares records for comparison, on every core.
pub fn prepare(records: &[crate::record::Record]) -> Vec<Prepared> {
    records.par_iter().map(Prepared::new).collect()
}

/// Compares candidate pairs (given names also by `aliases`), each as a [`Scored`] whose
/// weights [`weigh`] puts once a model is trained: one comparison of each pair serves both
/// training and scoring.
pub fn compare_pairs(
    records: &[Prepared],
    pairs: &[(u32, u32)],
    aliases: &Aliases,
    progress: Progress,
) -> Vec<Scored> {
    let nicknames = Nicknames::shipped();
    let total = pairs.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    // In chunks, so that progress is counted once a chunk rather than once a pair.
    const CHUNK: usize = 100_000;
    pairs
        .par_chunks(CHUNK)
        .flat_map_iter(|chunk| {
            let compared: Vec<Scored> = chunk
                .iter()
                .map(|&(a, b)| Scored {
                    a,
                    b,
                    weighed: Weighed {
                        levels: compare_with(
                            &records[a as usize],
                            &records[b as usize],
                            nicknames,
                            aliases,
                        ),
                        probability: 0.0,
                        against_household: None,
                    },
                })
                .collect();
            let d = done.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
            progress(Stage::Comparing, d + chunk.len() as u64, total);
            compared
        })
        .collect()
}

/// Puts a trained model's weights on compared pairs (see [`compare_pairs`]).
pub fn weigh(records: &[Prepared], compared: &mut [Scored], trained: &Trained, progress: Progress) {
    let total = compared.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    const CHUNK: usize = 100_000;
    compared.par_chunks_mut(CHUNK).for_each(|chunk| {
        for s in chunk.iter_mut() {
            s.weighed = trained.weigh(&records[s.a as usize], &s.weighed.levels);
        }
        let d = done.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        progress(Stage::Scoring, d + chunk.len() as u64, total);
    });
}

/// Compares and weighs candidate pairs: with `model`, by it; without, by a model trained on
/// the records first (aliases learnt, then each pair compared once for training and scoring
/// alike). The one sequence of batch linking, for files and the store.
pub fn train_and_score(
    records: &[Prepared],
    pairs: &[(u32, u32)],
    sources: Option<&[u8]>,
    settings: &Settings,
    model: Option<&Trained>,
    progress: Progress,
) -> (Trained, Vec<Scored>) {
    let aliases = match model {
        Some(trained) => trained.aliases.clone(),
        None => learn_aliases(records, sources),
    };
    let mut compared = compare_pairs(records, pairs, &aliases, progress);
    let trained = match model {
        Some(trained) => trained.clone(),
        None => train(records, sources, &compared, aliases, settings, progress),
    };
    weigh(records, &mut compared, &trained, progress);
    (trained, compared)
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
    progress(Stage::Blocking, records.len() as u64, records.len() as u64);
    let (trained, scored) = train_and_score(records, &pairs, sources, settings, None, progress);
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

    /// Every pair of `records` scored by the generic model.
    fn all_pairs(records: &[Prepared]) -> Vec<Scored> {
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
        scored
    }

    /// Every pair of `records` scored by the generic model and clustered.
    fn clustered(records: &[Prepared]) -> Vec<usize> {
        let model = &Trained::generic().model;
        persons(
            records.len(),
            &all_pairs(records),
            model,
            &Settings::default(),
            &[],
            &[],
        )
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
        let scored = all_pairs(&records);
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

    /// A valid NHS number from nine digits.
    fn nhs(first_nine: u32) -> String {
        (0..10)
            .map(|check| format!("{first_nine:09}{check}"))
            .find(|n| crate::record::is_valid_nhs_number(n))
            .unwrap_or_else(|| nhs(first_nine + 1))
    }

    #[test]
    fn names_one_number_shows_for_several_people_are_learnt_as_aliases_and_no_others() {
        let born = |day| Some((1978, 9, day));
        let records = [
            // Terence, twice over: "Tel" and "Terence" on one number and one birthday.
            household_member("Tel", born(2), &nhs(999_023_787)),
            household_member("Terence", born(2), &nhs(999_023_787)),
            household_member("Tel", born(3), &nhs(999_111_222)),
            household_member("Terence", born(3), &nhs(999_111_222)),
            // "Kez" and "Kieran" for one person only: perhaps a slip.
            household_member("Kez", born(4), &nhs(999_333_444)),
            household_member("Kieran", born(4), &nhs(999_333_444)),
            // Twins' records with each other's number, twice: names of a length are no
            // short forms.
            household_member("Tom", born(5), &nhs(999_555_666)),
            household_member("Tim", born(5), &nhs(999_555_666)),
            household_member("Tom", born(6), &nhs(999_777_888)),
            household_member("Tim", born(6), &nhs(999_777_888)),
            // A mother's number on her babies' records: another date of birth.
            household_member("Sam", born(7), &nhs(999_888_999)),
            household_member("Samantha", Some((1950, 1, 1)), &nhs(999_888_999)),
            household_member("Sam", born(8), &nhs(999_999_111)),
            household_member("Samantha", Some((1951, 1, 1)), &nhs(999_999_111)),
        ];
        let aliases = learn_aliases(&records, None);
        assert_eq!(aliases.pairs(), [("tel".to_owned(), "terence".to_owned())]);
        // Linking two files, only pairs across them teach.
        let sources: Vec<u8> = (0..records.len()).map(|i| u8::from(i >= 2)).collect();
        assert!(learn_aliases(&records, Some(&sources)).is_empty());

        // Learnt, "Tel" is Terence's nickname in comparisons, and stays so in a stored model.
        let tel = household_member("Tel", born(2), "");
        let terence = household_member("Terence", born(2), "");
        let nicknames = Nicknames::shipped();
        assert_eq!(
            compare(&tel, &terence, nicknames).given_name(),
            NameLevel::Different
        );
        assert_eq!(
            compare_with(&tel, &terence, nicknames, &aliases).given_name(),
            NameLevel::Nickname
        );
        let trained = Trained {
            aliases,
            ..Trained::generic().clone()
        };
        let back: Trained =
            serde_json::from_str(&serde_json::to_string(&trained).expect("serialises"))
                .expect("deserialises");
        assert_eq!(
            back.score(&tel, &terence).levels.given_name(),
            NameLevel::Nickname
        );
        assert_eq!(
            Trained::generic().score(&tel, &terence).levels.given_name(),
            NameLevel::Different
        );
    }

    #[test]
    fn a_record_goes_with_the_person_of_its_nhs_number_and_swapped_names_agree() {
        // Terence White's GP records as "Tel" and "Terence" with one NHS number; a police
        // record "White Terence" with the names swapped and none. "Tel" is not in the tables,
        // so Tel and the police record disagree on the given name. Terence's record links to
        // both, equally strongly: before, it was torn between them and joined neither. The
        // number ties it to Tel, and the swapped names agree with Terence's across the
        // disagreement.
        let record = |given: &str, family: &str, nhs: &str| {
            Prepared::new(&crate::record::Record {
                id: given.into(),
                given_name: Some(given.into()),
                family_name: Some(family.into()),
                birth_date: Some(crate::compare::BirthDate {
                    year: 1978,
                    month: Some(9),
                    day: Some(2),
                }),
                sex: Some(crate::record::Sex::Male),
                postcode: Some("QE5 5AE".into()),
                address: Some("120 Springfield Avenue".into()),
                nhs_number: (!nhs.is_empty()).then(|| nhs.into()),
            })
        };
        let records = [
            record("Tel", "White", "9990237875"),
            record("Terence", "White", "9990237875"),
            record("White", "Terence", ""),
        ];
        let weighed = Trained::generic().score(&records[0], &records[2]);
        assert_eq!(keeps_apart(&weighed), Some(Disagreement::GivenNames));
        assert_eq!(clustered(&records), [0, 0, 0]);
    }

    #[test]
    fn a_namesakes_record_with_the_names_swapped_is_still_a_namesakes() {
        // Olivia Smith, born 1987, and her mother Olivia Smith, at one home; the mother's
        // police record has no date of birth, the daughter's school record has her names
        // swapped. Swapped names are a recording slip, as likely on a namesake's record as on
        // the person's own: the pair is reviewed, never joined.
        let trained = Trained::generic();
        let record = |given: &str, family: &str, birth_date| {
            Prepared::new(&crate::record::Record {
                id: given.into(),
                given_name: Some(given.into()),
                family_name: Some(family.into()),
                birth_date,
                sex: Some(crate::record::Sex::Female),
                postcode: Some("NB2 9LS".into()),
                address: Some("27 The Crescent".into()),
                nhs_number: None,
            })
        };
        let born = Some(crate::compare::BirthDate {
            year: 1987,
            month: Some(1),
            day: Some(16),
        });
        let mother = record("Olivia", "Smith", None);
        let daughter_swapped = record("Smith", "Olivia", born);
        let daughter = record("Olivia", "Smith", born);
        let swapped = trained.score(&mother, &daughter_swapped);
        assert_eq!(swapped.levels.given_name(), NameLevel::Transposed);
        let plain = trained.score(&mother, &daughter);
        let settings = Settings::default();
        assert!(needs_a_person(&plain, &settings).is_some());
        assert!(
            needs_a_person(&swapped, &settings).is_some(),
            "swapped, the household is no less likely: {swapped:?}"
        );
        let household = |w: &Weighed| w.against_household.expect("household class");
        assert!((household(&swapped) - household(&plain)).abs() < 1.0);
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
