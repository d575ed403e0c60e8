//! The Fellegi–Sunter model. Each comparison of a pair of records falls into a level; the
//! model holds, per level, the probability of that level among true matches (m) and among
//! non-matches (u). A level's weight is log2(m/u); a pair's weight is the prior's plus the sum
//! of its levels' weights, and every weight is shown (the explanation). u is estimated from
//! random pairs (almost all non-matches); m and the prior by expectation–maximisation.

/// A pair's comparison vector: for each comparison, its level, or `None` when a value is
/// missing (which counts neither for nor against).
pub type Levels = Vec<Option<usize>>;

/// One comparison of the model: a name and its number of levels (level 0 agrees most).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What is compared (`given_name`, `date_of_birth`).
    pub name: String,
    /// m: the probability of each level among matches.
    pub m: Vec<f64>,
    /// u: the probability of each level among non-matches.
    pub u: Vec<f64>,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The comparisons, in the order of a pair's levels.
    pub comparisons: Vec<Comparison>,
    /// The prior probability that a compared pair is a match.
    pub prior: f64,
}

/// Why a pair scored as it did: the prior's weight and each comparison's.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// log2 of the prior odds.
    pub prior_weight: f64,
    /// Each comparison's name, level (if present) and weight.
    pub contributions: Vec<(String, Option<usize>, f64)>,
    /// The total weight: the prior's plus every comparison's.
    pub total: f64,
    /// The match probability the total weight stands for.
    pub probability: f64,
}

/// Probabilities are kept away from 0 and 1, so that no single level decides alone.
const FLOOR: f64 = 1e-6;

fn clamp(p: f64) -> f64 {
    p.clamp(FLOOR, 1.0 - FLOOR)
}

impl Model {
    /// The weight of a pair, with the contribution of each comparison.
    pub fn explain(&self, levels: &[Option<usize>]) -> Explanation {
        let prior = clamp(self.prior);
        let prior_weight = (prior / (1.0 - prior)).log2();
        let contributions: Vec<(String, Option<usize>, f64)> = self
            .comparisons
            .iter()
            .zip(levels)
            .map(|(c, level)| {
                let weight = level.map_or(0.0, |l| (clamp(c.m[l]) / clamp(c.u[l])).log2());
                (c.name.clone(), *level, weight)
            })
            .collect();
        let total = prior_weight + contributions.iter().map(|(_, _, w)| w).sum::<f64>();
        let odds = total.exp2();
        Explanation {
            prior_weight,
            contributions,
            total,
            probability: odds / (1.0 + odds),
        }
    }

    /// Sets u from the level frequencies among random pairs (which are almost all non-matches).
    pub fn estimate_u(&mut self, random_pairs: &[Levels]) {
        for (k, c) in self.comparisons.iter_mut().enumerate() {
            let mut counts = vec![1.0; c.u.len()]; // add-one smoothing: no level is impossible
            for pair in random_pairs {
                if let Some(l) = pair[k] {
                    counts[l] += 1.0;
                }
            }
            let total: f64 = counts.iter().sum();
            c.u = counts.into_iter().map(|n| n / total).collect();
        }
    }

    /// Fits m and the prior to `pairs` by expectation–maximisation, keeping u; stops when no
    /// parameter moves more than `tolerance`, or after `max_iterations`. Returns the iterations.
    pub fn estimate_m(&mut self, pairs: &[Levels], max_iterations: usize, tolerance: f64) -> usize {
        for iteration in 1..=max_iterations {
            // Expectation: each pair's probability of being a match under the current model.
            let probabilities: Vec<f64> =
                pairs.iter().map(|p| self.explain(p).probability).collect();
            // Maximisation: m as the match-weighted level frequencies; the prior as the mean.
            let mut moved: f64 = 0.0;
            for (k, c) in self.comparisons.iter_mut().enumerate() {
                let mut weighted = vec![0.0; c.m.len()];
                let mut total = 0.0;
                for (pair, p) in pairs.iter().zip(&probabilities) {
                    if let Some(l) = pair[k] {
                        weighted[l] += p;
                        total += p;
                    }
                }
                if total > 0.0 {
                    for (old, new) in c.m.iter_mut().zip(weighted) {
                        let new = clamp(new / total);
                        moved = moved.max((new - *old).abs());
                        *old = new;
                    }
                }
            }
            let prior = clamp(probabilities.iter().sum::<f64>() / pairs.len().max(1) as f64);
            moved = moved.max((prior - self.prior).abs());
            self.prior = prior;
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

    /// SplitMix64, for deterministic samples.
    struct Rng(u64);
    impl Rng {
        fn unit(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        fn pick(&mut self, probabilities: &[f64]) -> usize {
            let mut x = self.unit();
            for (i, p) in probabilities.iter().enumerate() {
                if x < *p {
                    return i;
                }
                x -= p;
            }
            probabilities.len() - 1
        }
    }

    fn truth() -> Model {
        Model {
            comparisons: vec![
                Comparison {
                    name: "given_name".into(),
                    m: vec![0.85, 0.10, 0.05],
                    u: vec![0.02, 0.08, 0.90],
                },
                Comparison {
                    name: "date_of_birth".into(),
                    m: vec![0.90, 0.07, 0.03],
                    u: vec![0.01, 0.09, 0.90],
                },
                Comparison {
                    name: "postcode".into(),
                    m: vec![0.70, 0.20, 0.10],
                    u: vec![0.05, 0.15, 0.80],
                },
            ],
            prior: 0.2,
        }
    }

    fn sample(model: &Model, rng: &mut Rng, n: usize, matches: Option<bool>) -> Vec<Levels> {
        (0..n)
            .map(|_| {
                let is_match = matches.unwrap_or_else(|| rng.unit() < model.prior);
                model
                    .comparisons
                    .iter()
                    .map(|c| {
                        // One value in twenty is missing.
                        (rng.unit() >= 0.05).then(|| rng.pick(if is_match { &c.m } else { &c.u }))
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn em_recovers_m_and_the_prior_of_a_generated_dataset() {
        let truth = truth();
        let mut rng = Rng(7);
        let pairs = sample(&truth, &mut rng, 40_000, None);
        let random = sample(&truth, &mut rng, 40_000, Some(false));
        let mut model = Model {
            comparisons: truth
                .comparisons
                .iter()
                .map(|c| Comparison {
                    name: c.name.clone(),
                    m: vec![0.6, 0.3, 0.1],
                    u: vec![1.0 / 3.0; 3],
                })
                .collect(),
            prior: 0.5,
        };

        model.estimate_u(&random);
        let iterations = model.estimate_m(&pairs, 200, 1e-6);

        assert!(iterations < 200, "converged");
        assert!(
            (model.prior - truth.prior).abs() < 0.01,
            "prior {}",
            model.prior
        );
        for (fitted, real) in model.comparisons.iter().zip(&truth.comparisons) {
            for (a, b) in fitted.m.iter().zip(&real.m) {
                assert!(
                    (a - b).abs() < 0.02,
                    "{} m {:?} vs {:?}",
                    real.name,
                    fitted.m,
                    real.m
                );
            }
            for (a, b) in fitted.u.iter().zip(&real.u) {
                assert!(
                    (a - b).abs() < 0.01,
                    "{} u {:?} vs {:?}",
                    real.name,
                    fitted.u,
                    real.u
                );
            }
        }
    }

    #[test]
    fn an_explanation_sums_to_its_total_and_missing_values_weigh_nothing() {
        let model = truth();
        let e = model.explain(&[Some(0), None, Some(2)]);
        let sum = e.prior_weight + e.contributions.iter().map(|(_, _, w)| w).sum::<f64>();
        assert!((sum - e.total).abs() < 1e-12);
        assert_eq!(e.contributions[1], ("date_of_birth".into(), None, 0.0));
        assert!((e.contributions[0].2 - (0.85f64 / 0.02).log2()).abs() < 1e-12);
        assert!(
            e.contributions[2].2 < 0.0,
            "a disagreeing postcode counts against"
        );
        assert!((e.probability - e.total.exp2() / (1.0 + e.total.exp2())).abs() < 1e-12);
        let strong = model.explain(&[Some(0), Some(0), Some(0)]);
        let weak = model.explain(&[Some(2), Some(2), Some(2)]);
        assert!(strong.probability > 0.99 && weak.probability < 0.01);
    }
}
