//! Clustering scored pairs into persons. Human decisions come first: must-links are joined,
//! and no automatic link ever joins two records a person said are different (cannot-link),
//! even through third records. Automatic links are taken strongest first, above a threshold.
//! A cannot-link the weights found (twins' different given names) has a strength, and holds
//! through other records only against links weaker than itself: taken strongest first, the
//! link that would join two clusters is the weakest of the chain, so a record's mistyped date
//! of birth does not keep apart two of its records that agree in every field.

/// A scored pair of records (by index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// One record.
    pub a: usize,
    /// The other.
    pub b: usize,
    /// The model's match probability.
    pub probability: f64,
    /// Its strength against a cannot-link, in bits: at most the log2 odds of `probability`,
    /// less where the evidence is what another person of the household would share too.
    pub bits: f64,
    /// The fields it agrees on (a mask): it crosses only cannot-links of those fields.
    pub agrees: u8,
}

impl Link {
    /// A link as strong as its odds.
    pub fn new(a: usize, b: usize, probability: f64) -> Self {
        Link {
            a,
            b,
            probability,
            bits: odds_bits(probability),
            agrees: 0,
        }
    }
}

/// The log2 odds of a probability: 0 at one half, infinite at 1.
pub fn odds_bits(probability: f64) -> f64 {
    if probability >= 1.0 {
        f64::INFINITY
    } else {
        (probability / (1.0 - probability)).log2()
    }
}

/// Two records that must not be joined, and how strongly: a person's decision, or evidence
/// that tells any two people apart, is infinitely strong; a disagreement the weights found
/// holds only against links weaker than its `bits`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Apart {
    /// One record.
    pub a: usize,
    /// The other.
    pub b: usize,
    /// How strongly, in log2 odds against their being one person.
    pub bits: f64,
    /// The fields that disagree (a mask): only a link that agrees on every one of them and is
    /// stronger than `bits` crosses it.
    pub fields: u8,
}

impl Apart {
    /// A cannot-link nothing overrides.
    pub fn always(a: usize, b: usize) -> Self {
        Apart {
            a,
            b,
            bits: f64::INFINITY,
            fields: u8::MAX,
        }
    }
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
    /// Per cluster (at its root): the records its members must not be joined with, each with
    /// the cannot-link's strength and fields. A cannot-link is kept on both of its records,
    /// so either cluster's list tells whether two may join; no cluster keeps its members.
    forbidden: Vec<Vec<(usize, f64, u8)>>,
}

impl Clusters {
    fn root(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Whether a link may join the clusters of its records: no cannot-link between them
    /// that it does not outweigh on the very fields that disagree.
    fn may_join(&mut self, link: &Link) -> bool {
        let (a, b) = (link.a, link.b);
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
        let allowed = list.iter().all(|&(f, bits, fields)| {
            (bits < link.bits && link.agrees & fields == fields) || self.root(f) != other
        });
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
    cannot_link: &[Apart],
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
    for &Apart { a, b, bits, fields } in cannot_link {
        if reachable.root(a) == reachable.root(b) {
            c.forbidden[a].push((b, bits, fields));
            c.forbidden[b].push((a, bits, fields));
        }
    }
    for &(a, b) in must_link {
        let decided = Link {
            agrees: u8::MAX,
            ..Link::new(a, b, 1.0)
        };
        if !c.may_join(&decided) {
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
        if c.may_join(l) {
            c.join(l.a, l.b);
        }
    }
    Ok((0..n).map(|i| c.root(i)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: usize, b: usize, probability: f64) -> Link {
        Link::new(a, b, probability)
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
        let ids = cluster(3, &links, 0.9, &[], &[Apart::always(0, 1)]).unwrap();
        assert_ne!(ids[0], ids[1], "the twins stay apart");
        assert_eq!(ids[0], ids[2], "the stronger link wins record 2");
        // Found by the weights, and stronger than the links: the same.
        let weighed = Apart {
            a: 0,
            b: 1,
            bits: 12.0,
            fields: 1,
        };
        let ids = cluster(3, &links, 0.9, &[], &[weighed]).unwrap();
        assert_ne!(ids[0], ids[1]);
    }

    #[test]
    fn a_weaker_cannot_link_does_not_hold_through_records_joined_more_strongly() {
        // Record 0 has a mistyped date of birth that disagrees with record 2's (a weak
        // cannot-link, 3 bits); 0 and 1 share an NHS number, 1 and 2 agree in every field.
        const BIRTH_DATE: u8 = 4;
        let agreeing = |a, b, p| Link {
            agrees: BIRTH_DATE,
            ..link(a, b, p)
        };
        let links = [link(0, 1, 0.99999), agreeing(1, 2, 0.9999)];
        let apart = Apart {
            a: 0,
            b: 2,
            bits: 3.0,
            fields: BIRTH_DATE,
        };
        let ids = cluster(3, &links, 0.9, &[], &[apart]).unwrap();
        assert_eq!(ids, vec![0, 0, 0], "links of 13 bits and more outweigh 3");
        // The same cannot-link still holds against a link weaker than itself...
        let weak = [link(0, 1, 0.99999), agreeing(1, 2, 0.8)];
        let ids = cluster(3, &weak, 0.5, &[], &[apart]).unwrap();
        assert_ne!(ids[0], ids[2], "a link of 2 bits does not outweigh 3");
        // ...and against a strong one that says nothing of the date of birth (record 2 has
        // none): it could be another person of the household.
        let silent = [link(0, 1, 0.99999), link(1, 2, 0.9999)];
        let ids = cluster(3, &silent, 0.9, &[], &[apart]).unwrap();
        assert_ne!(ids[0], ids[2]);
        assert!(link(0, 1, 1.0).bits.is_infinite());
    }

    #[test]
    fn must_links_join_whatever_the_score_and_conflicts_are_refused() {
        let ids = cluster(3, &[link(0, 1, 0.1)], 0.9, &[(0, 1)], &[]).unwrap();
        assert_eq!(ids, vec![0, 0, 2]);
        assert_eq!(
            cluster(3, &[], 0.9, &[(0, 1), (1, 2)], &[Apart::always(0, 2)]),
            Err(Conflict { a: 1, b: 2 })
        );
    }
}
