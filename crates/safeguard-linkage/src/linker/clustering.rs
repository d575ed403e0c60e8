//! Persons from scored pairs: clustering under people's decisions and the cannot-links the
//! weights found, and the pairs left for review.
use super::*;

/// The persons found: each record's cluster (the smallest record index in it) and the
/// highest probability with which it was linked into that cluster (`None` for a record alone).
#[derive(Debug, Clone, PartialEq)]
pub struct Persons {
    /// Per record, its cluster.
    pub cluster: Vec<usize>,
    /// Per record, its strongest link within its cluster.
    pub probability: Vec<Option<f64>>,
}

/// Each record's connected component (its root) under the given edges.
fn components(n: usize, edges: impl Iterator<Item = (usize, usize)>) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (a, b) in edges {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    }
    (0..n).map(|x| root(&mut parent, x)).collect()
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
    let joining: Vec<&Scored> = scored
        .iter()
        .filter(|s| joins_automatically(&s.weighed, settings))
        .collect();
    let strengths: Vec<f64> = joining.iter().map(|s| tie_strength(&s.weighed)).collect();
    let links: Vec<Link> = joining
        .iter()
        .map(|s| {
            let link = Link::new(s.a as usize, s.b as usize, s.weighed.probability);
            // Against twins' different given names only what tells a person from another of
            // the household counts, and only a link that agrees on the given name itself: a
            // record without one that shares the twins' family name, birthday and home is
            // either twin's.
            if s.weighed.levels.nhs_number() == NhsNumberLevel::Same {
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
    // Records no chain of links or decisions connects are never clustered together, so a
    // cannot-link between them holds nothing back: only those within a component are kept
    // (at a million records, a few in a hundred of the pairs that disagree).
    let component = components(
        n,
        links
            .iter()
            .map(|l| (l.a, l.b))
            .chain(must_link.iter().copied()),
    );
    // People's decisions that two records are one person: no weight keeps those apart.
    let decided: std::collections::HashSet<(usize, usize), BuildFx> = must_link
        .iter()
        .flat_map(|&(a, b)| [(a, b), (b, a)])
        .collect();
    if settings.household_class {
        cannot_link.par_extend(scored.par_iter().filter_map(|s| {
            keeps_apart(&s.weighed)?;
            let (a, b) = (s.a as usize, s.b as usize);
            if decided.contains(&(a, b)) || component[a] != component[b] {
                return None;
            }
            // Evidence that tells any two people apart holds through any chain; a
            // household's disagreement only against links weaker than the pair's own odds
            // against one person.
            let (mut fields, mut household_only) = (0u8, true);
            for d in confident_disagreements(&s.weighed.levels) {
                fields |= d.field().bit();
                household_only &= d.warns_of_the_household();
            }
            Some(if household_only {
                Apart {
                    a,
                    b,
                    bits: model.separation_bits(&s.weighed.levels, fields),
                    fields,
                }
            } else {
                Apart::always(a, b)
            })
        }));
    }
    let first = cluster(n, &links, threshold, must_link, &cannot_link)?;
    // A record that strongly matches two people known to be different (a police record of
    // "John Smith", no date of birth, at the home of John Smith and his son John) could be
    // either: unless one is far likelier (see [`choose`]), it is left alone for a person to
    // review rather than joined to one by weight.
    let mut strongest: HashMap<usize, Vec<(usize, f64)>, BuildFx> = HashMap::default();
    for (l, strength) in links.iter().zip(&strengths) {
        for (me, other) in [(l.a, l.b), (l.b, l.a)] {
            let into = strongest.entry(me).or_default();
            match into.iter_mut().find(|(c, _)| *c == first[other]) {
                Some((_, p)) => *p = p.max(*strength),
                None => into.push((first[other], *strength)),
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
    let (Some(x), Some(y)) = (&a.given, &b.given) else {
        return false;
    };
    let short = |p: &str, q: &str| crate::names::short_form(p, q);
    levels.family_name() == NameLevel::Exact
        && levels.home() <= HomeLevel::SamePostcode
        && levels.birth_date() == BirthDateLevel::Missing
        && levels.nhs_number() != NhsNumberLevel::Different
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
