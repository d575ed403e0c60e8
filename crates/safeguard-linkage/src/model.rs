//! Match weights in the Fellegi–Sunter tradition, with one change that matters for
//! safeguarding: a pair of records is weighed against *two* alternatives, not one.
//!
//! The textbook model asks "same person, or two unrelated people?". Twins, siblings, a father
//! and the son named after him all share a family name and a home, so against "unrelated" the
//! shared home counts as strong evidence of one person, and households merge. Here a pair is
//! one of three classes: the same person (M), another person in the same household (H), or
//! unrelated (U). Household fields (family name, home) are as likely under H as under M, so
//! they separate M from U but say nothing between M and H; only personal fields (given name,
//! date of birth, sex, NHS number) can tell a person from their twin. Within each class the
//! fields are taken as independent, which is far closer to true than across classes.
//!
//! u (unrelated) comes from random pairs, with term-frequency adjustment for exact names;
//! h from pairs known to be different people of one household, never below the share of
//! twins and namesakes a household has; m is fitted by EM on the
//! candidate pairs of tight blocking rules. The class priors are among all pairs of records,
//! counted from exact agreement (see [`crate::linker::priors_among_all_pairs`]), not fitted on
//! candidates: blocking chose those for agreeing on the very fields the weights count.

use crate::compare::{Field, Levels, NameLevel};

/// The distributions of one comparison's levels under each class.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    /// Which comparison.
    pub field: Field,
    /// P(level | same person).
    pub m: Vec<f64>,
    /// P(level | another person in the same household). Equal to `m` for household fields.
    pub h: Vec<f64>,
    /// P(level | unrelated people).
    pub u: Vec<f64>,
}

impl Comparison {
    /// Sets what of h follows m once m is fitted: a household field's h is its m (a household
    /// shares it as one person's records do); and a namesake's record has its names swapped
    /// as often as the person's own, so h of "given and family names swapped" is h of the same
    /// given name times the share of one person's records swapped. Left to the household
    /// pairs, whose names are seldom swapped across, it was near zero, and a swapped record
    /// without a date of birth was taken for no namesake's (a mother and the daughter named
    /// after her, at one home, joined).
    fn follow_m(&mut self) {
        if self.field.is_household() {
            self.h = self.m.clone();
        } else if self.field == Field::GivenName {
            let place = |level| {
                NameLevel::GRADED
                    .iter()
                    .position(|l| *l == level)
                    .expect("a graded level")
            };
            let (swapped, different) = (place(NameLevel::Transposed), place(NameLevel::Different));
            let raised = self.h[0] * self.m[swapped] / self.m[0] - self.h[swapped];
            // From "different", the bulk of h, so that the other levels keep their shares.
            self.h[swapped] += raised;
            self.h[different] = clamp(self.h[different] - raised);
        }
    }
}

/// The share of all pairs of records in each class.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Priors {
    /// Same person.
    pub same_person: f64,
    /// Another person in the same household.
    pub same_household: f64,
    /// Unrelated.
    pub unrelated: f64,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Model {
    /// One per field, in [`Field::ALL`] order.
    pub comparisons: Vec<Comparison>,
    /// Class priors.
    pub priors: Priors,
    /// Whether the household class is used. Without it this is the textbook two-class model,
    /// kept to show what the household class prevents.
    pub household_class: bool,
}

/// What one comparison contributed to a pair's score, in bits (log2 of a likelihood ratio).
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// Which comparison.
    pub field: Field,
    /// Its level, or `None` when a record lacks the field (which weighs nothing).
    pub level: Option<u8>,
    /// Weight for "same person" against "unrelated".
    pub against_unrelated: f64,
    /// Weight for "same person" against "another person in the same household".
    pub against_household: f64,
    /// The name's frequency used in place of u, for an exact name.
    pub term_frequency: Option<f64>,
}

/// Why a pair scored what it did. Each column sums exactly to its total.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// Prior odds of "same person" against "unrelated", in bits.
    pub prior_against_unrelated: f64,
    /// Prior odds of "same person" against "same household", in bits.
    pub prior_against_household: f64,
    /// Per comparison.
    pub contributions: Vec<Contribution>,
    /// Total weight against "unrelated".
    pub total_against_unrelated: f64,
    /// Total weight against "same household" (not shown when the class is off).
    pub total_against_household: Option<f64>,
    /// P(same person).
    pub probability: f64,
}

/// A pair's comparison vector and what the weights make of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weighed {
    /// The comparison vector.
    pub levels: Levels,
    /// P(same person).
    pub probability: f64,
    /// Odds of "same person" against "another person in the same household", in bits, prior
    /// included; `None` without the household class.
    pub against_household: Option<f64>,
}

/// Term frequencies for a pair: for an exact given or family name, how common the name is.
pub type Frequencies = [Option<f64>; 6];

const FLOOR: f64 = 1e-6;

fn clamp(p: f64) -> f64 {
    p.clamp(FLOOR, 1.0 - FLOOR)
}

/// Priors are among all pairs of records, so tiny (of a million records' pairs, about one in a
/// million is one person's), far below the floor that keeps a level's probability off zero.
const PRIOR_FLOOR: f64 = 1e-15;

fn clamp_prior(p: f64) -> f64 {
    p.clamp(PRIOR_FLOOR, 1.0 - PRIOR_FLOOR)
}

fn normalised(counts: Vec<f64>) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts.into_iter().map(|c| clamp(c / total)).collect()
}

/// The least share of pairs of one household's people born on the same day, whatever the
/// records say: about 1.5 % of maternities in England and Wales are of twins or more (ONS,
/// Births in England and Wales); a family of two parents and two children has six pairs of
/// people, and about one such family in seventy has twins, so twins are some 1 in 400 to 1
/// in 200 of a household's pairs, more in larger families. Records without NHS numbers
/// cannot show household pairs apart from one person's, and h would fall back to u, which
/// takes a shared birthday in a household for a one-in-thirty-thousand coincidence.
const TWINS_IN_A_HOUSEHOLD: f64 = 0.005;

/// Likewise the least share of a household's pairs with the same given name: a son named
/// after his father, a daughter after her mother.
const NAMESAKES_IN_A_HOUSEHOLD: f64 = 0.01;

/// h for a personal field, raised where a household is known to share it more often than
/// its records may show (see [`TWINS_IN_A_HOUSEHOLD`]).
fn with_household_floor(field: Field, mut h: Vec<f64>) -> Vec<f64> {
    let floor = match field {
        Field::BirthDate => TWINS_IN_A_HOUSEHOLD,
        Field::GivenName => NAMESAKES_IN_A_HOUSEHOLD,
        _ => return h,
    };
    if h[0] >= floor {
        return h;
    }
    // The exact level takes the floor; the others keep their proportions in the rest.
    let rest: f64 = h[1..].iter().sum();
    h[0] = floor;
    for p in &mut h[1..] {
        *p *= (1.0 - floor) / rest;
    }
    h
}

/// P(same person) from the two total weights.
fn probability(against_unrelated: f64, against_household: Option<f64>) -> f64 {
    let rest = (-against_unrelated).exp2() + against_household.map_or(0.0, |h| (-h).exp2());
    1.0 / (1.0 + rest)
}

impl Model {
    /// Whether the model has this release's comparisons and levels: a model stored by an
    /// earlier release may not, and must be trained again rather than read out of bounds.
    pub fn fits_the_comparisons(&self) -> bool {
        self.comparisons.len() == Field::ALL.len()
            && self.comparisons.iter().zip(Field::ALL).all(|(c, field)| {
                let n = field.levels().len();
                c.field == field && c.m.len() == n && c.h.len() == n && c.u.len() == n
            })
    }

    /// A starting model. u comes from random pairs. h, for personal fields, comes from pairs of
    /// records known to be of different people in one household (same family name and
    /// postcode, different NHS numbers), smoothed towards u; with none, it is u. m starts from
    /// the usual shape of agreement among one person's records, for EM to fit.
    pub fn initial(
        random_pairs: &[Levels],
        household_pairs: &[Levels],
        household_class: bool,
    ) -> Self {
        let distribution = |k: usize, pairs: &[Levels], prior: Option<&[f64]>, n: usize| {
            let mut counts: Vec<f64> = match prior {
                Some(u) => u.iter().map(|p| p * 20.0).collect(),
                None => vec![1.0; n], // add-one smoothing: no level is impossible
            };
            for pair in pairs {
                if let Some(l) = pair[k] {
                    counts[usize::from(l)] += 1.0;
                }
            }
            normalised(counts)
        };
        let comparisons = Field::ALL
            .iter()
            .enumerate()
            .map(|(k, &field)| {
                let n = field.levels().len();
                let u = distribution(k, random_pairs, None, n);
                let m = normalised((0..n).map(|l| 0.1f64.powi(l as i32 + 1) * 9.0).collect());
                let h = if field.is_household() {
                    m.clone() // a household shares it as one person's records do
                } else if field == Field::NhsNumber {
                    u.clone() // the household pairs were chosen by their NHS numbers
                } else {
                    with_household_floor(field, distribution(k, household_pairs, Some(&u), n))
                };
                let mut comparison = Comparison { field, m, h, u };
                comparison.follow_m();
                comparison
            })
            .collect();
        Model {
            comparisons,
            priors: Priors {
                same_person: 0.3,
                same_household: if household_class { 0.1 } else { 0.0 },
                unrelated: if household_class { 0.6 } else { 0.7 },
            },
            household_class,
        }
    }

    /// Explains a pair's levels.
    pub fn explain(&self, levels: &Levels, frequencies: &Frequencies) -> Explanation {
        let p = &self.priors;
        let prior_against_unrelated =
            (clamp_prior(p.same_person) / clamp_prior(p.unrelated)).log2();
        let prior_against_household =
            (clamp_prior(p.same_person) / clamp_prior(p.same_household)).log2();
        let contributions: Vec<Contribution> = self
            .comparisons
            .iter()
            .zip(levels.iter().zip(frequencies))
            .map(|(c, (level, frequency))| {
                let Some(l) = level.map(usize::from) else {
                    return Contribution {
                        field: c.field,
                        level: None,
                        against_unrelated: 0.0,
                        against_household: 0.0,
                        term_frequency: None,
                    };
                };
                let term_frequency = frequency.filter(|_| l == 0);
                let u = term_frequency.map_or(c.u[l], clamp);
                Contribution {
                    field: c.field,
                    level: Some(l as u8),
                    against_unrelated: (c.m[l] / u).log2(),
                    against_household: (c.m[l] / c.h[l]).log2(),
                    term_frequency,
                }
            })
            .collect();
        let total_against_unrelated = prior_against_unrelated
            + contributions
                .iter()
                .map(|c| c.against_unrelated)
                .sum::<f64>();
        let total_against_household = self.household_class.then(|| {
            prior_against_household
                + contributions
                    .iter()
                    .map(|c| c.against_household)
                    .sum::<f64>()
        });
        Explanation {
            prior_against_unrelated,
            prior_against_household,
            contributions,
            total_against_unrelated,
            total_against_household,
            probability: probability(total_against_unrelated, total_against_household),
        }
    }

    /// How strongly the levels of the given fields (a mask of [`Field::bit`]; say, a given name
    /// that differs) tell a person from another person of their household, in bits: the fields the
    /// household shares say nothing here, so a cannot-link of twins is as strong as their different
    /// given names, whatever else they share.
    pub fn separation_bits(&self, levels: &Levels, fields: u8) -> f64 {
        self.comparisons
            .iter()
            .zip(levels)
            .filter(|(c, _)| fields & c.field.bit() != 0)
            .filter_map(|(c, level)| {
                let l = usize::from((*level)?);
                let other = if self.household_class { c.h[l] } else { c.u[l] };
                Some((other / c.m[l]).log2())
            })
            .sum()
    }

    /// Weighs a pair, without building an explanation.
    pub fn weigh(&self, levels: &Levels, frequencies: &Frequencies) -> Weighed {
        let p = &self.priors;
        let mut against_unrelated = (clamp_prior(p.same_person) / clamp_prior(p.unrelated)).log2();
        let mut against_household =
            (clamp_prior(p.same_person) / clamp_prior(p.same_household)).log2();
        for ((c, level), frequency) in self.comparisons.iter().zip(levels).zip(frequencies) {
            if let Some(l) = level.map(usize::from) {
                let u = match frequency {
                    Some(f) if l == 0 => clamp(*f),
                    _ => c.u[l],
                };
                against_unrelated += (c.m[l] / u).log2();
                against_household += (c.m[l] / c.h[l]).log2();
            }
        }
        let against_household = self.household_class.then_some(against_household);
        Weighed {
            levels: *levels,
            probability: probability(against_unrelated, against_household),
            against_household,
        }
    }

    /// The class likelihoods of a pattern, prior included: (M, H, U).
    fn joint(&self, levels: &Levels) -> (f64, f64, f64) {
        let p = &self.priors;
        let (mut lm, mut lh, mut lu) = (p.same_person, p.same_household, p.unrelated);
        for (c, level) in self.comparisons.iter().zip(levels) {
            if let Some(l) = level.map(usize::from) {
                lm *= c.m[l];
                lh *= c.h[l];
                lu *= c.u[l];
            }
        }
        (lm, lh, lu)
    }

    /// Takes each comparison's m from the EM sessions whose blocking rule did not block on it
    /// (`sessions`: each rule's [`crate::blocking::BlockingRule::fields`] and the model fitted
    /// on its pairs): the mean of their estimates. A comparison every session blocked on keeps
    /// its own. A household comparison's h follows its m, as in fitting.
    pub fn take_m_from_sessions(&mut self, sessions: &[(u8, Model)]) {
        for (k, c) in self.comparisons.iter_mut().enumerate() {
            let estimates: Vec<&[f64]> = sessions
                .iter()
                .filter(|(blocked, _)| blocked & c.field.bit() == 0)
                .map(|(_, session)| session.comparisons[k].m.as_slice())
                .collect();
            if estimates.is_empty() {
                continue;
            }
            let mean: Vec<f64> = (0..c.m.len())
                .map(|l| estimates.iter().map(|m| m[l]).sum::<f64>() / estimates.len() as f64)
                .collect();
            c.m = normalised(mean);
            c.follow_m();
        }
    }

    /// Fits m by expectation–maximisation over candidate pairs, given as distinct comparison
    /// vectors with their counts; u stays as estimated from random pairs. The priors fitted
    /// with it are the candidates' and serve only the fit. Returns the iterations taken.
    pub fn fit(
        &mut self,
        patterns: &[(Levels, u64)],
        max_iterations: usize,
        tolerance: f64,
    ) -> usize {
        for iteration in 1..=max_iterations {
            let mut m_counts: Vec<Vec<f64>> = self
                .comparisons
                .iter()
                .map(|c| vec![0.0; c.m.len()])
                .collect();
            let (mut sm, mut sh, mut su) = (0.0, 0.0, 0.0);
            for (levels, count) in patterns {
                let (lm, lh, lu) = self.joint(levels);
                let total = lm + lh + lu;
                if total <= 0.0 {
                    continue;
                }
                let n = *count as f64;
                let (rm, rh, ru) = (n * lm / total, n * lh / total, n * lu / total);
                sm += rm;
                sh += rh;
                su += ru;
                for (k, level) in levels.iter().enumerate() {
                    if let Some(l) = level.map(usize::from) {
                        m_counts[k][l] += rm;
                    }
                }
            }
            let mut moved: f64 = 0.0;
            for (k, c) in self.comparisons.iter_mut().enumerate() {
                let m_new = m_counts[k].clone();
                if m_new.iter().sum::<f64>() > 0.0 {
                    let m_new = normalised(m_new);
                    for (old, new) in c.m.iter().zip(&m_new) {
                        moved = moved.max((old - new).abs());
                    }
                    c.m = m_new;
                }
                c.follow_m();
            }
            let total = sm + sh + su;
            if total > 0.0 {
                let priors = Priors {
                    same_person: clamp(sm / total),
                    same_household: if self.household_class {
                        clamp(sh / total)
                    } else {
                        0.0
                    },
                    unrelated: clamp(su / total),
                };
                moved = moved
                    .max((priors.same_person - self.priors.same_person).abs())
                    .max((priors.same_household - self.priors.same_household).abs());
                self.priors = priors;
            }
            if moved < tolerance {
                return iteration;
            }
        }
        max_iterations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn each_comparison_takes_m_from_the_sessions_not_blocked_on_it() {
        let random: Vec<Levels> = (0..100)
            .map(|_| [Some(7), Some(7), Some(5), Some(1), Some(4), None])
            .collect();
        let start = Model::initial(&random, &[], true);
        // A session blocked on the family name and date of birth sees them always agree.
        let session = |given_exact: f64, family_exact: f64, born_exact: f64| {
            let mut m = start.clone();
            let set = |m: &mut Model, field: Field, exact: f64| {
                let c = &mut m.comparisons[field as usize];
                let rest = (1.0 - exact) / (c.m.len() - 1) as f64;
                c.m = (0..c.m.len())
                    .map(|l| if l == 0 { exact } else { rest })
                    .collect();
            };
            set(&mut m, Field::GivenName, given_exact);
            set(&mut m, Field::FamilyName, family_exact);
            set(&mut m, Field::BirthDate, born_exact);
            m
        };
        let by_surname_and_birth = Field::FamilyName.bit() | Field::BirthDate.bit();
        let by_given_and_home = Field::GivenName.bit() | Field::Home.bit();
        let mut model = start.clone();
        model.take_m_from_sessions(&[
            (by_surname_and_birth, session(0.8, 1.0, 1.0)),
            (by_given_and_home, session(1.0, 0.9, 0.7)),
        ]);
        let exact = |m: &Model, field: Field| m.comparisons[field as usize].m[0];
        assert!((exact(&model, Field::GivenName) - 0.8).abs() < 1e-12);
        assert!((exact(&model, Field::FamilyName) - 0.9).abs() < 1e-12);
        assert!((exact(&model, Field::BirthDate) - 0.7).abs() < 1e-12);
        let family = &model.comparisons[Field::FamilyName as usize];
        assert_eq!(family.h, family.m, "a household shares its family name");
        // With no session free of a comparison, it keeps its own.
        let mut lone = start.clone();
        lone.take_m_from_sessions(&[(by_surname_and_birth, session(0.8, 1.0, 1.0))]);
        assert_eq!(
            lone.comparisons[Field::FamilyName as usize].m,
            start.comparisons[Field::FamilyName as usize].m
        );
    }

    #[test]
    fn without_known_household_pairs_twins_and_namesakes_keep_their_least_share() {
        // Random pairs that never share a birthday or a given name: u says a shared one is
        // a coincidence, but in a household it is a twin or a namesake.
        let random: Vec<Levels> = (0..1_000)
            .map(|_| [Some(7), Some(7), Some(5), Some(1), Some(4), None])
            .collect();
        let model = Model::initial(&random, &[], true);
        let h = |field: Field| &model.comparisons[field as usize].h;
        assert!((h(Field::BirthDate)[0] - TWINS_IN_A_HOUSEHOLD).abs() < 1e-12);
        assert!((h(Field::GivenName)[0] - NAMESAKES_IN_A_HOUSEHOLD).abs() < 1e-12);
        for field in [Field::BirthDate, Field::GivenName] {
            assert!((h(field).iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert!(
                model.comparisons[field as usize].u[0] < 0.01,
                "u stays as counted"
            );
        }
        // Learnt from household pairs, a larger share stands.
        let twins: Vec<Levels> = (0..100)
            .map(|_| [Some(7), Some(0), Some(0), Some(0), Some(0), Some(1)])
            .collect();
        let learnt = Model::initial(&random, &twins, true);
        assert!(learnt.comparisons[Field::BirthDate as usize].h[0] > 0.5);
    }

    #[test]
    fn a_model_with_other_levels_does_not_fit_the_comparisons() {
        let generic = &crate::linker::Trained::generic().model;
        assert!(generic.fits_the_comparisons());
        // As stored before NHS numbers had a level for a mistyped one.
        let mut older = generic.clone();
        let nhs = older.comparisons.last_mut().expect("six comparisons");
        for levels in [&mut nhs.m, &mut nhs.h, &mut nhs.u] {
            levels.pop();
        }
        assert!(!older.fits_the_comparisons());
        let mut reordered = generic.clone();
        reordered.comparisons.swap(0, 1);
        assert!(!reordered.fits_the_comparisons());
    }

    /// A known model to generate pairs from.
    fn truth() -> Model {
        let c = |field: Field, m: &[f64], h: &[f64], u: &[f64]| Comparison {
            field,
            m: m.to_vec(),
            h: if field.is_household() {
                m.to_vec()
            } else {
                h.to_vec()
            },
            u: u.to_vec(),
        };
        let gm = [0.80, 0.06, 0.05, 0.02, 0.02, 0.02, 0.01, 0.02];
        let gh = [0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.001, 0.899];
        let gu = [0.02, 0.001, 0.004, 0.005, 0.02, 0.01, 0.001, 0.939];
        let fm = [0.85, 0.001, 0.06, 0.02, 0.02, 0.01, 0.001, 0.038];
        let fu = [0.01, 0.001, 0.002, 0.005, 0.02, 0.03, 0.001, 0.931];
        Model {
            comparisons: vec![
                c(Field::GivenName, &gm, &gh, &gu),
                c(Field::FamilyName, &fm, &fm, &fu),
                c(
                    Field::BirthDate,
                    &[0.80, 0.04, 0.06, 0.04, 0.03, 0.03],
                    &[0.30, 0.02, 0.03, 0.05, 0.10, 0.50],
                    &[0.02, 0.01, 0.02, 0.05, 0.10, 0.80],
                ),
                c(Field::Sex, &[0.98, 0.02], &[0.5, 0.5], &[0.5, 0.5]),
                c(
                    Field::Home,
                    &[0.5, 0.2, 0.1, 0.05, 0.15],
                    &[],
                    &[0.05, 0.05, 0.1, 0.2, 0.6],
                ),
                c(
                    Field::NhsNumber,
                    &[0.97, 0.03],
                    &[0.02, 0.98],
                    &[0.01, 0.99],
                ),
            ],
            priors: Priors {
                same_person: 0.3,
                same_household: 0.15,
                unrelated: 0.55,
            },
            household_class: true,
        }
    }

    fn sample(model: &Model, rng: &mut Rng, n: usize, unrelated_only: bool) -> Vec<Levels> {
        (0..n)
            .map(|_| {
                let p = &model.priors;
                let x = rng.unit();
                let class = if unrelated_only || x >= p.same_person + p.same_household {
                    2
                } else if x < p.same_person {
                    0
                } else {
                    1
                };
                let mut levels = [None; 6];
                for (slot, c) in levels.iter_mut().zip(&model.comparisons) {
                    let dist = [&c.m, &c.h, &c.u][class];
                    *slot = (rng.unit() >= 0.1).then(|| rng.pick(dist) as u8);
                }
                levels
            })
            .collect()
    }

    fn patterns(pairs: &[Levels]) -> Vec<(Levels, u64)> {
        let mut counts = std::collections::HashMap::new();
        for p in pairs {
            *counts.entry(*p).or_insert(0u64) += 1;
        }
        counts.into_iter().collect()
    }

    #[test]
    fn em_recovers_m_and_the_priors_of_a_generated_dataset() {
        let truth = truth();
        let mut rng = Rng::new(7);
        let pairs = sample(&truth, &mut rng, 200_000, false);
        let random = sample(&truth, &mut rng, 200_000, true);
        let household: Vec<Levels> = (0..50_000)
            .map(|_| {
                let mut levels = [None; 6];
                for (slot, c) in levels.iter_mut().zip(&truth.comparisons) {
                    *slot = Some(rng.pick(&c.h) as u8);
                }
                levels
            })
            .collect();
        let mut model = Model::initial(&random, &household, true);

        let iterations = model.fit(&patterns(&pairs), 2_000, 1e-7);

        assert!(iterations < 2_000, "converged");
        let p = model.priors;
        assert!((p.same_person - 0.3).abs() < 0.02, "{p:?}");
        // h is smoothed towards u, so the household share comes out a little low.
        assert!((p.same_household - 0.15).abs() < 0.04, "{p:?}");
        for (fitted, real) in model.comparisons.iter().zip(&truth.comparisons) {
            let h = [("h", &fitted.h, &real.h)];
            let h = if matches!(real.field, Field::NhsNumber | Field::Home) {
                &h[..0]
            } else {
                &h[..]
            };
            for (name, a, b) in [("m", &fitted.m, &real.m)].iter().chain(h) {
                for (x, y) in a.iter().zip(b.iter()) {
                    assert!(
                        (x - y).abs() < 0.03,
                        "{:?} {name} {a:?} vs {b:?}",
                        real.field
                    );
                }
            }
            for (x, y) in fitted.u.iter().zip(&real.u) {
                assert!((x - y).abs() < 0.01, "{:?} u", real.field);
            }
        }
    }

    #[test]
    fn an_explanation_sums_to_its_totals_and_missing_values_weigh_nothing() {
        let model = truth();
        let levels = [Some(0), Some(0), None, Some(0), Some(0), None];
        let e = model.explain(&levels, &[Some(0.001), None, None, None, None, None]);
        let unrelated: f64 = e.contributions.iter().map(|c| c.against_unrelated).sum();
        let household: f64 = e.contributions.iter().map(|c| c.against_household).sum();
        assert!((e.prior_against_unrelated + unrelated - e.total_against_unrelated).abs() < 1e-12);
        assert!(
            (e.prior_against_household + household - e.total_against_household.unwrap()).abs()
                < 1e-12
        );
        assert_eq!(e.contributions[2].against_unrelated, 0.0);
        assert!(
            (e.contributions[0].against_unrelated - (0.8f64 / 0.001).log2()).abs() < 1e-12,
            "the name's frequency replaces u"
        );
        assert_eq!(e.contributions[0].term_frequency, Some(0.001));
        assert_eq!(
            e.contributions[1].against_household, 0.0,
            "a shared family name says nothing between a person and their household"
        );
        assert_eq!(
            e.contributions[4].against_household, 0.0,
            "nor does a shared home"
        );
        assert!(
            (e.probability
                - model
                    .weigh(&levels, &[Some(0.001), None, None, None, None, None])
                    .probability)
                .abs()
                < 1e-12
        );
    }

    #[test]
    fn a_confident_disagreement_outweighs_a_shared_home_only_with_the_household_class() {
        // Twins: same family name, date of birth, sex and home; different given names.
        let twins = [Some(7), Some(0), Some(0), Some(0), Some(0), None];
        let with = truth();
        let mut without = truth();
        without.household_class = false;
        without.priors.unrelated += without.priors.same_household;
        without.priors.same_household = 0.0;
        let none = [None; 6];
        assert!(
            with.weigh(&twins, &none).probability < 0.5,
            "{}",
            with.weigh(&twins, &none).probability
        );
        assert!(
            without.weigh(&twins, &none).probability > 0.9,
            "the textbook model merges them"
        );
        let same = [Some(1), Some(0), Some(0), Some(0), Some(0), None];
        assert!(
            with.weigh(&same, &none).probability > 0.9,
            "a nickname is not a disagreement"
        );
    }
}
