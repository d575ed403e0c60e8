//! Clustering scored pairs into persons. Human decisions come first: must-links are joined,
//! and no automatic link ever joins two records a person said are different (cannot-link),
//! even through third records. Automatic links are taken strongest first, above a threshold.

use std::collections::{BTreeSet, HashMap};

/// A scored pair of records (by index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// One record.
    pub a: usize,
    /// The other.
    pub b: usize,
    /// The model's match probability.
    pub probability: f64,
}

/// Why a set of human decisions cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("records {a} and {b} are both said to be the same person and not the same person")]
pub struct Conflict {
    /// One record.
    pub a: usize,
    /// The other.
    pub b: usize,
}

struct Clusters {
    parent: Vec<usize>,
    members: HashMap<usize, BTreeSet<usize>>,
    forbidden: HashMap<usize, BTreeSet<usize>>,
}

impl Clusters {
    fn root(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Whether joining the clusters of `a` and `b` would join a cannot-link pair.
    fn may_join(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.root(a), self.root(b));
        ra == rb || self.forbidden[&ra].is_disjoint(&self.members[&rb])
    }

    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra == rb {
            return;
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[gone] = keep;
        let members = self.members.remove(&gone).unwrap_or_default();
        self.members.entry(keep).or_default().extend(members);
        let forbidden = self.forbidden.remove(&gone).unwrap_or_default();
        self.forbidden.entry(keep).or_default().extend(forbidden);
    }
}

/// Assigns each of `n` records a cluster (the smallest record index in it).
pub fn cluster(
    n: usize,
    links: &[Link],
    threshold: f64,
    must_link: &[(usize, usize)],
    cannot_link: &[(usize, usize)],
) -> Result<Vec<usize>, Conflict> {
    let mut c = Clusters {
        parent: (0..n).collect(),
        members: (0..n).map(|i| (i, BTreeSet::from([i]))).collect(),
        forbidden: (0..n).map(|i| (i, BTreeSet::new())).collect(),
    };
    for &(a, b) in cannot_link {
        c.forbidden.get_mut(&a).expect("in range").insert(b);
        c.forbidden.get_mut(&b).expect("in range").insert(a);
    }
    for &(a, b) in must_link {
        if !c.may_join(a, b) {
            return Err(Conflict { a, b });
        }
        c.join(a, b);
    }
    let mut candidates: Vec<&Link> = links
        .iter()
        .filter(|l| l.probability >= threshold)
        .collect();
    candidates.sort_by(|x, y| {
        y.probability
            .total_cmp(&x.probability)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    for l in candidates {
        if c.may_join(l.a, l.b) {
            c.join(l.a, l.b);
        }
    }
    Ok((0..n).map(|i| c.root(i)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: usize, b: usize, probability: f64) -> Link {
        Link { a, b, probability }
    }

    #[test]
    fn links_above_the_threshold_join_records_transitively() {
        let ids = cluster(
            5,
            &[link(0, 1, 0.99), link(1, 2, 0.95), link(3, 4, 0.40)],
            0.9,
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(ids, vec![0, 0, 0, 3, 4]);
    }

    #[test]
    fn a_cannot_link_is_never_crossed_even_through_a_third_record() {
        // Twins 0 and 1 each look like record 2 (their mother's note naming "the baby").
        let links = [link(0, 2, 0.97), link(1, 2, 0.96), link(0, 1, 0.95)];
        let ids = cluster(3, &links, 0.9, &[], &[(0, 1)]).unwrap();
        assert_ne!(ids[0], ids[1], "the twins stay apart");
        assert_eq!(ids[0], ids[2], "the stronger link wins record 2");
    }

    #[test]
    fn must_links_join_whatever_the_score_and_conflicts_are_refused() {
        let ids = cluster(3, &[link(0, 1, 0.1)], 0.9, &[(0, 1)], &[]).unwrap();
        assert_eq!(ids, vec![0, 0, 2]);
        assert_eq!(
            cluster(3, &[], 0.9, &[(0, 1), (1, 2)], &[(0, 2)]),
            Err(Conflict { a: 1, b: 2 })
        );
    }
}
