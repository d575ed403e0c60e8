//! The pairs left for a person to decide: proposed by weight, or by the company records keep,
//! and read back explained, most likely first.

use safeguard_linkage::compare::Field;

use super::*;

/// Proposes for review the records of other persons that were recorded with the same people
/// as a new record (in an entry naming one of `with`) and could be the same person by name:
/// "Dan", whom a mother calls a friend to children's services, and "Danny Marsh", whom police
/// find at her door. Weight alone would not propose them; the company they keep does.
pub(crate) fn propose_associates(
    sql: &mut dyn Sql,
    matcher: &Matcher,
    record: RecordId,
    prepared: &Prepared,
    person: PersonId,
    with: &[PersonId],
    now: i64,
) -> Result<(), StoreError> {
    let company: Vec<Company> = company_of(sql, matcher, with)?
        .into_iter()
        .filter(|c| c.person != person)
        .collect();
    propose_best_per_person(sql, &matcher.trained, record, prepared, &company, now)
}

/// After a merge, the records recorded with the merged person keep new company: proposes
/// those of them that could be one person (the family support project's "Dan", once its
/// records of the mother are hers, meets the police's "Danny Marsh").
pub(crate) fn propose_associates_of(
    sql: &mut dyn Sql,
    matcher: &Matcher,
    person: PersonId,
    now: i64,
) -> Result<(), StoreError> {
    let company = company_of(sql, matcher, &[person])?;
    for (i, c) in company.iter().enumerate() {
        let others: Vec<Company> = company[i + 1..]
            .iter()
            .filter(|o| o.person != c.person)
            .cloned()
            .collect();
        propose_best_per_person(sql, &matcher.trained, c.record, &c.prepared, &others, now)?;
    }
    Ok(())
}

/// A record of another person, recorded in an entry with someone.
#[derive(Clone)]
struct Company {
    record: RecordId,
    person: PersonId,
    prepared: Arc<Prepared>,
}

/// The records of other persons named in an entry with any of `with`, at most 500.
fn company_of(
    sql: &mut dyn Sql,
    matcher: &Matcher,
    with: &[PersonId],
) -> Result<Vec<Company>, StoreError> {
    if with.is_empty() {
        return Ok(Vec::new());
    }
    let list = placeholders(0, with.len());
    let params: Vec<Value> = with.iter().map(|p| Value::from(p.to_string())).collect();
    sql.query(
        &format!(
            "SELECT DISTINCT r.id, r.person_id, r.as_of, r.record FROM person_records o
             JOIN entry_persons together ON together.record_id = o.id
             JOIN entry_persons ep ON ep.entry_id = together.entry_id
             JOIN person_records r ON r.id = ep.record_id
             WHERE o.person_id IN ({list}) AND r.person_id NOT IN ({list})
             ORDER BY r.id LIMIT 500"
        ),
        &params,
    )?
    .iter()
    .map(|row| {
        let record = RecordId(parse_id(row.text(0)?)?);
        Ok(Company {
            record,
            person: PersonId(parse_id(row.text(1)?)?),
            prepared: matcher.prepared(record, row.int(2)?, row.text(3)?)?,
        })
    })
    .collect()
}

/// Proposes `record` with the best-matching compatible record of each person in `company`,
/// skipping persons it is already proposed with.
fn propose_best_per_person(
    sql: &mut dyn Sql,
    trained: &Trained,
    record: RecordId,
    prepared: &Prepared,
    company: &[Company],
    now: i64,
) -> Result<(), StoreError> {
    let mut best: Vec<(PersonId, RecordId, f64)> = Vec::new();
    for c in company {
        let weighed = trained.score(&c.prepared, prepared);
        let probability = weighed.probability;
        if !linker::could_be_the_same_person(&weighed.levels) {
            continue;
        }
        match best.iter_mut().find(|b| b.0 == c.person) {
            Some(b) if b.2 >= probability => {}
            Some(b) => *b = (c.person, c.record, probability),
            None => best.push((c.person, c.record, probability)),
        }
    }
    if best.is_empty() {
        return Ok(());
    }
    let proposed: BTreeSet<PersonId> = sql
        .query(
            "SELECT r.person_id FROM link_reviews v JOIN person_records r
                 ON r.id = CASE WHEN v.record_id = $1 THEN v.other_record_id ELSE v.record_id END
             WHERE v.record_id = $1 OR v.other_record_id = $1",
            &[record.to_string().into()],
        )?
        .iter()
        .map(|r| parse_id(r.text(0)?).map(PersonId))
        .collect::<Result<_, _>>()?;
    for (person, other, probability) in best {
        if !proposed.contains(&person) {
            propose(sql, record, other, probability, ASSOCIATES, now)?;
        }
    }
    Ok(())
}

/// Why an associate is proposed.
pub const ASSOCIATES: &str = "recorded with the same people, with a compatible name";

/// A pair in stored order: the smaller id first.
pub(super) fn ordered(a: RecordId, b: RecordId) -> (String, String) {
    let (a, b) = (a.to_string(), b.to_string());
    if a <= b { (a, b) } else { (b, a) }
}

/// Proposes a pair for review, unless a person has already decided it or it is proposed.
pub(crate) fn propose(
    sql: &mut dyn Sql,
    a: RecordId,
    b: RecordId,
    probability: f64,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (a, b) = ordered(a, b);
    sql.execute(
        "INSERT INTO link_reviews (record_id, other_record_id, probability_ppm, reason, proposed_at)
         SELECT $1, $2, $3, $4, $5
         WHERE NOT EXISTS (SELECT 1 FROM link_decisions WHERE record_id = $1 AND other_record_id = $2)
         ON CONFLICT (record_id, other_record_id) DO NOTHING",
        &[
            a.into(),
            b.into(),
            ((probability * 1e6).round() as i64).into(),
            reason.into(),
            now.into(),
        ],
    )?;
    Ok(())
}

/// One side of a proposed or decided link, as a reviewer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkSide {
    /// The record.
    pub record: RecordId,
    /// The person it belongs to now.
    pub person: PersonId,
    /// The agency holding it.
    pub agency: String,
    /// The record as the agency sent it.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: PersonRecord,
}

/// What one comparison contributed, for a reviewer. Written with the comparison and the level
/// by name (`{"comparison": "given name", "level": "nickname", ...}`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// The comparison (`given name`, `date of birth`, ...).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub comparison: Field,
    /// How the two records compare on it, by its index in [`Field::levels`] (`nickname`, `day
    /// and month swapped`, ...); `None`, written `missing`, when either lacks it.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub level: Option<u8>,
    /// Weight, in bits, for "same person" against "unrelated people".
    pub against_unrelated: f64,
    /// Weight, in bits, for "same person" against "another person in the same household".
    pub against_household: f64,
}

impl Evidence {
    /// How the two records compare, as a reviewer reads it (`missing` when either lacks it).
    pub fn level_name(&self) -> &'static str {
        self.level
            .and_then(|l| self.comparison.levels().get(usize::from(l)).copied())
            .unwrap_or("missing")
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut row = s.serialize_struct("Evidence", 4)?;
        row.serialize_field("comparison", self.comparison.name())?;
        row.serialize_field("level", self.level_name())?;
        row.serialize_field("against_unrelated", &self.against_unrelated)?;
        row.serialize_field("against_household", &self.against_household)?;
        row.end()
    }
}

/// A proposed link, with the evidence for and against it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkReview {
    /// One record.
    pub a: LinkSide,
    /// The other.
    pub b: LinkSide,
    /// P(same person), by the current model.
    pub probability: f64,
    /// Why it was not linked automatically.
    pub reason: String,
    /// When it was proposed (microseconds since 1970, UTC).
    pub proposed_at: i64,
    /// Prior weight (bits) against "unrelated", then per comparison.
    pub prior_against_unrelated: f64,
    /// Prior weight (bits) against "same household".
    pub prior_against_household: f64,
    /// What each comparison contributed; with the priors, each column sums to its total.
    pub evidence: Vec<Evidence>,
    /// Total weight against "unrelated".
    pub total_against_unrelated: f64,
    /// Total weight against "same household".
    pub total_against_household: Option<f64>,
}

fn side(sql: &mut dyn Sql, id: RecordId) -> Result<LinkSide, StoreError> {
    let row = sql
        .query_opt(
            "SELECT person_id, agency_id, record FROM person_records WHERE id = $1",
            &[id.to_string().into()],
        )?
        .ok_or_else(|| no_record(id))?;
    Ok(LinkSide {
        record: id,
        person: PersonId(parse_id(row.text(0)?)?),
        agency: row.text(1)?.to_owned(),
        details: serde_json::from_str(row.text(2)?)
            .map_err(|e| StoreError::Corrupt(format!("record {id}: {e}")))?,
    })
}

fn explained(
    sql: &mut dyn Sql,
    trained: &Trained,
    a: RecordId,
    b: RecordId,
    reason: String,
    proposed_at: i64,
) -> Result<LinkReview, StoreError> {
    let (a, b) = (side(sql, a)?, side(sql, b)?);
    let prepare = |s: &LinkSide| Prepared::new(&linkage_record(s.record, &s.details));
    let x: Explanation = trained.explain(&prepare(&a), &prepare(&b));
    Ok(LinkReview {
        a,
        b,
        probability: x.probability,
        reason,
        proposed_at,
        prior_against_unrelated: x.prior_against_unrelated,
        prior_against_household: x.prior_against_household,
        evidence: x
            .contributions
            .iter()
            .map(|c| Evidence {
                comparison: c.field,
                level: c.level,
                against_unrelated: c.against_unrelated,
                against_household: c.against_household,
            })
            .collect(),
        total_against_unrelated: x.total_against_unrelated,
        total_against_household: x.total_against_household,
    })
}

impl Store {
    /// Pairs awaiting a person's decision, most likely first, each explained by the current
    /// model.
    pub fn link_reviews(&self, limit: usize) -> Result<Vec<LinkReview>, StoreError> {
        self.open_reviews("", &[], Some(limit))
    }

    /// The pairs awaiting a decision that involve one record, most likely first.
    pub fn link_reviews_of(&self, record: RecordId) -> Result<Vec<LinkReview>, StoreError> {
        self.open_reviews(
            "WHERE record_id = $2 OR other_record_id = $2",
            &[record.to_string().into()],
            None,
        )
    }

    /// Open reviews matching `filter` (its parameters from `$2`), at most `limit`, explained.
    fn open_reviews(
        &self,
        filter: &str,
        params: &[Value],
        limit: Option<usize>,
    ) -> Result<Vec<LinkReview>, StoreError> {
        self.read(|sql| {
            let trained = self.model_in(sql)?;
            let limit = limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
            let mut values: Vec<Value> = vec![limit.into()];
            values.extend_from_slice(params);
            let rows = sql.query(
                &format!(
                    "SELECT record_id, other_record_id, reason, proposed_at FROM link_reviews {filter}
                     ORDER BY probability_ppm DESC, record_id, other_record_id LIMIT $1"
                ),
                &values,
            )?;
            rows.iter()
                .map(|row| {
                    explained(
                        sql,
                        &trained,
                        RecordId(parse_id(row.text(0)?)?),
                        RecordId(parse_id(row.text(1)?)?),
                        row.text(2)?.to_owned(),
                        row.int(3)?,
                    )
                })
                .collect()
        })
    }
}
