//! Clustering scored pairs into persons. Human decisions come first: must-links are joined,
//! and no automatic link ever joins two records a person said are different (cannot-link),
//! even through third records. Automatic links are taken strongest first, above a threshold.

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
    /// Per cluster (at its root): the records its members must never be joined with. A
    /// cannot-link is kept on both of its records, so either cluster's list tells whether two
    /// may join; no cluster keeps its members.
    forbidden: Vec<Vec<usize>>,
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
        if ra == rb {
            return true;
        }
        let (owner, other) = if self.forbidden[ra].len() <= self.forbidden[rb].len() {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let list = std::mem::take(&mut self.forbidden[owner]);
        let allowed = list.iter().all(|&f| self.root(f) != other);
        self.forbidden[owner] = list;
        allowed
    }

    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra == rb {
            return;
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[gone] = keep;
        let mut moved = std::mem::take(&mut self.forbidden[gone]);
        if moved.len() > self.forbidden[keep].len() {
            std::mem::swap(&mut moved, &mut self.forbidden[keep]);
        }
        self.forbidden[keep].extend(moved);
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
    let mut candidates: Vec<&Link> = links
        .iter()
        .filter(|l| l.probability >= threshold)
        .collect();
    // A cannot-link between records that no chain of links could join never binds; at a
    // million records most are such, and checking them dominated clustering.
    let mut reachable = Clusters {
        parent: (0..n).collect(),
        forbidden: Vec::new(),
    };
    for (a, b) in must_link
        .iter()
        .copied()
        .chain(candidates.iter().map(|l| (l.a, l.b)))
    {
        let (ra, rb) = (reachable.root(a), reachable.root(b));
        reachable.parent[ra.max(rb)] = ra.min(rb);
    }
    let mut c = Clusters {
        parent: (0..n).collect(),
        forbidden: vec![Vec::new(); n],
    };
    for &(a, b) in cannot_link {
        if reachable.root(a) == reachable.root(b) {
            c.forbidden[a].push(b);
            c.forbidden[b].push(a);
        }
    }
    for &(a, b) in must_link {
        if !c.may_join(a, b) {
            return Err(Conflict { a, b });
        }
        c.join(a, b);
    }
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
