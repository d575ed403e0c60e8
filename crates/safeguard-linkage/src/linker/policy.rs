//! The decision policy: which disagreements keep two records apart, which pairs join without a
//! person, where an arriving record belongs, and why a pair waits for review.
use super::*;

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
    pub(crate) fn warns_of_the_household(self) -> bool {
        matches!(self, Disagreement::GivenNames | Disagreement::BirthDates)
    }
}

/// The personal fields on which a pair agrees, as a mask of [`Field::bit`]: a given name
/// alike (up to [`NameLevel::Close`], or swapped with the family name), a date of birth alike
/// (up to consistent as far as both are known).
pub fn agreeing_fields(levels: &Levels) -> u8 {
    // Swapped with the family name, the given names agree.
    let given =
        levels.given_name() <= NameLevel::Close || levels.given_name() == NameLevel::Transposed;
    let born = levels.birth_date() <= BirthDateLevel::Consistent;
    (if given { Field::GivenName.bit() } else { 0 })
        | (if born { Field::BirthDate.bit() } else { 0 })
}

/// Every confident disagreement of a pair, in the order a reviewer is told them.
pub fn confident_disagreements(levels: &Levels) -> impl Iterator<Item = Disagreement> + '_ {
    [
        (levels.given_name() == NameLevel::Different).then_some(Disagreement::GivenNames),
        matches!(
            levels.birth_date(),
            BirthDateLevel::SameYear | BirthDateLevel::Different
        )
        .then_some(Disagreement::BirthDates),
        (levels.sex() == SexLevel::Different).then_some(Disagreement::Sex),
        (levels.nhs_number() == NhsNumberLevel::Different).then_some(Disagreement::NhsNumbers),
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
    let ruled_out =
        household_ruled_out(weighed) || weighed.levels.nhs_number() == NhsNumberLevel::Same;
    confident_disagreements(&weighed.levels).find(|d| !(ruled_out && d.warns_of_the_household()))
}

/// Whether a pair holds evidence that tells a person from others in their household: a date
/// of birth on both records, or the same NHS number. Without it (a police record with a name
/// and an address only) a father and the son named after him look alike; such a pair is
/// reviewed, never joined automatically.
pub fn has_personal_evidence(levels: &Levels) -> bool {
    levels.birth_date() != BirthDateLevel::Missing || levels.nhs_number() == NhsNumberLevel::Same
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
            && weighed.levels.nhs_number() == NhsNumberLevel::Same
            && weighed.probability >= settings.review_threshold)
}

/// Whether two records recorded with the same people (the same mother, the same child) could
/// be one person, though their weight alone would not propose them: the given names agree,
/// or nearly (Dan and Danny), and nothing confidently disagrees. The family name may be
/// missing: "Dan", the name a mother gives for her partner, has none.
pub fn could_be_the_same_person(levels: &Levels) -> bool {
    levels.given_name() <= NameLevel::Close
        && levels.family_name() != NameLevel::Different
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
    // Per person: the best probability, and the strength it is chosen by.
    let mut linked: Vec<(P, f64, f64)> = Vec::new();
    for (person, w) in matches
        .iter()
        .filter(|(_, w)| joins_automatically(w, settings))
    {
        match linked.iter_mut().find(|(p, _, _)| p == person) {
            Some((_, best, strongest)) => {
                *best = best.max(w.probability);
                *strongest = strongest.max(tie_strength(w));
            }
            None => linked.push((*person, w.probability, tie_strength(w))),
        }
    }
    let strengths: Vec<(P, f64)> = linked.iter().map(|&(p, _, s)| (p, s)).collect();
    let joins = choose(&strengths)
        .and_then(|p| linked.iter().find(|(c, _, _)| *c == p))
        .map(|&(p, best, _)| (p, best));
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

/// How strongly a link ties a record to the other record's person when it links to more
/// than one (see [`choose`]): its probability, or certainty for the same valid NHS number,
/// which no resemblance to another person outweighs. Terence White's GP record goes with his
/// "Tel White" record of the same number, not with a "White Terence" it resembles as much.
pub fn tie_strength(weighed: &Weighed) -> f64 {
    if weighed.levels.nhs_number() == NhsNumberLevel::Same {
        1.0
    } else {
        weighed.probability
    }
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
