//! Judging a linkage against known truth: pairwise precision, recall and F1, and how often
//! different people who are related (twins, a father and son) were wrongly made one.

use std::collections::HashMap;

use crate::synthetic::Relation;

/// Pairwise quality of a clustering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Of the pairs put together, the share that are one person.
    pub precision: f64,
    /// Of the pairs that are one person, the share put together.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Compares predicted clusters with true persons, record by record.
pub fn quality<P: Eq + std::hash::Hash + Copy, T: Eq + std::hash::Hash + Copy>(
    predicted: &[P],
    truth: &[T],
) -> Quality {
    let mut both: HashMap<(P, T), u64> = HashMap::new();
    let mut by_prediction: HashMap<P, u64> = HashMap::new();
    let mut by_truth: HashMap<T, u64> = HashMap::new();
    for (p, t) in predicted.iter().zip(truth) {
        *both.entry((*p, *t)).or_default() += 1;
        *by_prediction.entry(*p).or_default() += 1;
        *by_truth.entry(*t).or_default() += 1;
    }
    let agreed: u64 = both.values().map(|n| pairs(*n)).sum();
    let predicted_pairs: u64 = by_prediction.values().map(|n| pairs(*n)).sum();
    let true_pairs: u64 = by_truth.values().map(|n| pairs(*n)).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let precision = ratio(agreed, predicted_pairs);
    let recall = ratio(agreed, true_pairs);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Quality {
        precision,
        recall,
        f1,
    }
}

/// For each kind of relation: (related pairs of persons, of which wrongly merged), where a
/// merge is any record of one in a cluster with any record of the other.
pub fn wrong_merges<P: Eq + std::hash::Hash + Copy>(
    predicted: &[P],
    person: &[u32],
    relations: &[(u32, u32, Relation)],
) -> Vec<(Relation, u64, u64)> {
    let mut clusters_of: HashMap<u32, Vec<P>> = HashMap::new();
    for (p, t) in predicted.iter().zip(person) {
        clusters_of.entry(*t).or_default().push(*p);
    }
    Relation::ALL
        .iter()
        .map(|&kind| {
            let mut total = 0;
            let mut merged = 0;
            for &(a, b, k) in relations {
                if k != kind {
                    continue;
                }
                let (Some(ca), Some(cb)) = (clusters_of.get(&a), clusters_of.get(&b)) else {
                    continue;
                };
                total += 1;
                if ca.iter().any(|c| cb.contains(c)) {
                    merged += 1;
                }
            }
            (kind, total, merged)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_quality_counts_pairs_not_records() {
        // Truth: {0,1,2} {3}. Predicted: {0,1} {2,3}.
        let q = quality(&[0, 0, 1, 1], &[7, 7, 7, 8]);
        assert!((q.precision - 0.5).abs() < 1e-12, "1 of 2 predicted pairs");
        assert!((q.recall - 1.0 / 3.0).abs() < 1e-12, "1 of 3 true pairs");
        assert!((q.f1 - 0.4).abs() < 1e-12);
        let perfect = quality(&[5, 5, 6], &[1, 1, 2]);
        assert_eq!(
            (perfect.precision, perfect.recall, perfect.f1),
            (1.0, 1.0, 1.0)
        );
    }

    #[test]
    fn a_merge_of_related_people_is_counted_by_kind() {
        let person = [0, 1, 2, 2];
        let relations = [(0, 1, Relation::Twin), (1, 2, Relation::Sibling)];
        let merges = wrong_merges(&[9, 9, 3, 4], &person, &relations);
        assert!(merges.contains(&(Relation::Twin, 1, 1)));
        assert!(merges.contains(&(Relation::Sibling, 1, 0)));
        assert!(merges.contains(&(Relation::Spouse, 0, 0)));
    }
}
