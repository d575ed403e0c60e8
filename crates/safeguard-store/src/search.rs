//! Person search that forgives: free text read into terms (names, dates of birth as people
//! type them, a postcode whole or in part, an NHS number), candidates found by the keys of
//! [`safeguard_linkage::search`] in exact lookups on either engine, then ranked by how well
//! their names fit.

use chrono::{Datelike, NaiveDate};
use safeguard_core::{NhsNumber, PartialDate, Person, PersonId, PersonRecord, Postcode};
use safeguard_linkage::names::Nicknames;
use safeguard_linkage::search::{
    index_keys, names_score, pair_index_keys, pair_query_keys, postcode_key, query_keys,
};

use crate::StoreError;
use crate::append::{name_parts, parse_id};
use crate::read::persons;
use crate::sql::{Sql, Value, placeholders};

/// Candidates ranked at most, by how many of their keys the query shares: enough that the
/// best fits of a common name ("John Smith" among a million) are among them.
const MAX_CANDIDATES: usize = 300;

/// What a search query asks for, term by term.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SearchTerms {
    names: Vec<String>,
    dates_of_birth: Vec<PartialDate>,
    nhs_number: Option<NhsNumber>,
    /// A whole postcode (`N17 6AA`), a sector (`N17 6`) or a district (`N17`).
    postcode: Option<String>,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A month by name, whole or its first three letters (`June`, `jun`, `Sept`).
fn month(word: &str) -> Option<u32> {
    let word = word.to_lowercase();
    (word.len() >= 3)
        .then(|| {
            MONTHS
                .iter()
                .position(|m| m.starts_with(word.as_str()))
                .map(|i| i as u32 + 1)
        })
        .flatten()
}

fn number(word: &str) -> Option<u32> {
    (!word.is_empty() && word.len() <= 4 && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

/// A date of birth typed as one word: `2006-06-14`, `2006-06`, `2006`, or day, month and
/// year with `/`, `-` or `.` between them and one or two digits each (`14/6/2006`).
fn date_word(word: &str) -> Option<PartialDate> {
    if let Ok(d) = PartialDate::parse(word) {
        return Some(d);
    }
    let parts: Vec<&str> = word.split(['/', '-', '.']).collect();
    match parts.as_slice() {
        [d, m, y] if y.len() == 4 => NaiveDate::from_ymd_opt(
            number(y)? as i32,
            number(m).or_else(|| month(m))?,
            number(d)?,
        )
        .map(PartialDate::Day),
        [m, y] if y.len() == 4 => {
            let (m, y) = (number(m).or_else(|| month(m))?, number(y)?);
            (1..=12)
                .contains(&m)
                .then_some(PartialDate::Month(y as i32, m))
        }
        _ => None,
    }
}

impl SearchTerms {
    /// Reads a free-text query: an NHS number, a postcode whole (with or without its space)
    /// or in part, dates as people type them (`2006-06-14`, `14/6/2006`, `14 June 2006`,
    /// `June 2006`, `2006`) and name parts, in any order.
    pub(crate) fn parse(query: &str) -> Self {
        let mut terms = SearchTerms::default();
        if let Ok(n) = NhsNumber::parse(query) {
            terms.nhs_number = Some(n);
            return terms;
        }
        let words: Vec<&str> = query
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        let mut used = vec![false; words.len()];
        // A postcode is one word (N176AA) or two (N17 6AA); a sector two (N17 6), a district
        // one (N17).
        for i in 0..words.len() {
            let next = words.get(i + 1);
            let two = next.map(|next| format!("{} {next}", words[i]));
            if let Some(p) = two.as_deref().and_then(|t| Postcode::parse(t).ok()) {
                terms.postcode = Some(p.as_str().to_owned());
                (used[i], used[i + 1]) = (true, true);
                break;
            }
            if let Ok(p) = Postcode::parse(words[i]) {
                terms.postcode = Some(p.as_str().to_owned());
                used[i] = true;
                break;
            }
            if let Some(district) = Postcode::parse_district(words[i]) {
                match next.filter(|n| n.len() == 1 && n.bytes().all(|b| b.is_ascii_digit())) {
                    Some(sector) => {
                        terms.postcode = Some(format!("{district} {sector}"));
                        used[i + 1] = true;
                    }
                    None => terms.postcode = Some(district),
                }
                used[i] = true;
                break;
            }
        }
        // Dates of three words (14 June 2006) and two (June 2006), then of one.
        let mut i = 0;
        while i < words.len() {
            let free = |j: usize| j < words.len() && !used[j];
            if free(i) && free(i + 1) && free(i + 2) {
                let (d, m, y) = (words[i], words[i + 1], words[i + 2]);
                if let (Some(d), Some(m), Some(y)) = (number(d), month(m), number(y))
                    && y >= 1000
                    && let Some(day) = NaiveDate::from_ymd_opt(y as i32, m, d)
                {
                    terms.dates_of_birth.push(PartialDate::Day(day));
                    used[i..i + 3].fill(true);
                    i += 3;
                    continue;
                }
            }
            if free(i)
                && free(i + 1)
                && let (Some(m), Some(y)) = (month(words[i]), number(words[i + 1]))
                && y >= 1000
            {
                terms.dates_of_birth.push(PartialDate::Month(y as i32, m));
                used[i..i + 2].fill(true);
                i += 2;
                continue;
            }
            i += 1;
        }
        for (w, _) in words.iter().zip(&used).filter(|(_, used)| !**used) {
            if let Some(d) = date_word(w) {
                terms.dates_of_birth.push(d);
            } else {
                terms.names.extend(name_parts(w));
            }
        }
        terms
    }

    fn is_empty(&self) -> bool {
        self == &SearchTerms::default()
    }
}

/// The keys a record is found by: each name part's, and its current postcode's whole, sector
/// and district.
pub(crate) fn record_keys(record: &PersonRecord) -> Vec<i64> {
    let mut keys = Vec::new();
    for name in std::iter::once(&record.name).chain(&record.other_names) {
        for part in name.given.iter().chain(&name.family) {
            for part in name_parts(part) {
                keys.extend(index_keys(&part));
            }
        }
        let given = name.given.first().and_then(|g| name_parts(g).next());
        if let Some(given) = given {
            for family in name.family.iter().flat_map(|f| name_parts(f)) {
                keys.extend(pair_index_keys(&family, &given));
            }
        }
    }
    if let Some(p) = record.current_postcode() {
        keys.extend([p.as_str(), p.sector(), p.district()].map(postcode_key));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Stores a new record's search keys, in one statement.
pub(crate) fn insert_keys(
    sql: &mut dyn Sql,
    record_id: &str,
    record: &PersonRecord,
) -> Result<(), StoreError> {
    let keys: Vec<(i64, &str)> = record_keys(record)
        .into_iter()
        .map(|k| (k, record_id))
        .collect();
    insert_key_rows(sql, &keys)
}

/// Stores `(key, record)` rows, in as few statements as the engines' parameter limits allow.
fn insert_key_rows(sql: &mut dyn Sql, keys: &[(i64, &str)]) -> Result<(), StoreError> {
    const ROWS_PER_INSERT: usize = 800;
    for keys in keys.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = (0..keys.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let values: Vec<Value> = keys
            .iter()
            .flat_map(|&(key, id)| [key.into(), id.into()])
            .collect();
        sql.execute(
            &format!(
                "INSERT INTO person_search_keys (search_key, record_id) VALUES {}",
                rows.join(", ")
            ),
            &values,
        )?;
    }
    Ok(())
}

/// Replaces a record's search keys with those of what it says now.
pub(crate) fn replace_keys(
    sql: &mut dyn Sql,
    record_id: &str,
    record: &PersonRecord,
) -> Result<(), StoreError> {
    sql.execute(
        "DELETE FROM person_search_keys WHERE record_id = $1",
        &[record_id.into()],
    )?;
    insert_keys(sql, record_id, record)
}

/// Makes the keys of the records stored before search had keys, once (see migration 0016).
pub(crate) fn backfill_keys(sql: &mut dyn Sql) -> Result<(), StoreError> {
    if sql
        .query("SELECT pending FROM person_search_backfill", &[])?
        .is_empty()
    {
        return Ok(());
    }
    for row in sql.query("SELECT id, record FROM person_records", &[])? {
        let record: PersonRecord = serde_json::from_str(row.text(1)?)
            .map_err(|e| StoreError::Corrupt(format!("person record: {e}")))?;
        insert_keys(sql, row.text(0)?, &record)?;
    }
    sql.execute("DELETE FROM person_search_backfill", &[])?;
    Ok(())
}

impl crate::Store {
    /// Stores person records of one agency as a search finds them, each a person of its own,
    /// with no linkage, flags or audit, in one transaction: for benchmarks that need a million
    /// people to search among. Returns the persons, in the order of `records`.
    pub fn load_people_to_search(
        &self,
        agency: &safeguard_core::AgencyId,
        records: &[PersonRecord],
    ) -> Result<Vec<PersonId>, StoreError> {
        const ROWS: usize = 200;
        let now = chrono::Utc::now().timestamp_micros();
        self.write(|sql| {
            let mut persons = Vec::with_capacity(records.len());
            for chunk in records.chunks(ROWS) {
                let ids: Vec<(PersonId, String)> = chunk
                    .iter()
                    .map(|_| {
                        (
                            PersonId(uuid::Uuid::now_v7()),
                            uuid::Uuid::now_v7().to_string(),
                        )
                    })
                    .collect();
                let mut values: Vec<Value> = Vec::new();
                let rows: Vec<String> = ids
                    .iter()
                    .map(|(person, _)| {
                        values.extend([person.to_string().into(), now.into()]);
                        format!("(${}, ${})", values.len() - 1, values.len())
                    })
                    .collect();
                sql.execute(
                    &format!(
                        "INSERT INTO persons (id, created_at) VALUES {}",
                        rows.join(", ")
                    ),
                    &values,
                )?;
                let mut values: Vec<Value> = Vec::new();
                let mut rows = Vec::with_capacity(chunk.len());
                for ((person, id), record) in ids.iter().zip(chunk) {
                    let keys = crate::append::SearchKeys::of(record);
                    let json = serde_json::to_string(record)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let start = values.len();
                    values.extend([
                        id.as_str().into(),
                        person.to_string().into(),
                        agency.as_str().into(),
                        "bench".into(),
                        record.local_id.as_str().into(),
                        now.into(),
                        keys.search_names.into(),
                        keys.date_of_birth.into(),
                        keys.nhs_number.into(),
                        keys.postcode.into(),
                        json.into(),
                    ]);
                    // `first_seen_at` is `as_of`, the sixth value.
                    rows.push(format!(
                        "({}, ${}, {})",
                        placeholders(start, 6),
                        start + 6,
                        placeholders(start + 6, 5)
                    ));
                }
                sql.execute(
                    &format!(
                        "INSERT INTO person_records (id, person_id, agency_id, source_system,
                             local_id, as_of, first_seen_at, search_names, date_of_birth,
                             nhs_number, postcode, record) VALUES {}",
                        rows.join(", ")
                    ),
                    &values,
                )?;
                let keys: Vec<(i64, &str)> = ids
                    .iter()
                    .zip(chunk)
                    .flat_map(|((_, id), record)| {
                        record_keys(record)
                            .into_iter()
                            .map(move |k| (k, id.as_str()))
                    })
                    .collect();
                insert_key_rows(sql, &keys)?;
                persons.extend(ids.into_iter().map(|(person, _)| person));
            }
            Ok(persons)
        })
    }
}

/// The persons a free-text query finds, best fit first, at most `limit`.
///
/// With two names or more, the candidates are first those whose family name and given
/// name's initial fit a pair of the typed names, in either order: a common name's few
/// instead of every record sharing either name. When they are fewer than `limit`, the
/// candidates matching every typed name on its own are added.
pub(crate) fn search_persons(
    sql: &mut dyn Sql,
    query: &str,
    limit: usize,
) -> Result<Vec<Person>, StoreError> {
    let terms = SearchTerms::parse(query);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let nicknames = Nicknames::shipped();
    let mut ranked = Ranked::default();
    if terms.names.len() >= 2 {
        let mut pairs: Vec<i64> = Vec::new();
        for (i, given) in terms.names.iter().enumerate() {
            for (j, family) in terms.names.iter().enumerate() {
                if i != j {
                    pairs.extend(pair_query_keys(given, family, nicknames));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        ranked.add(&terms, candidates(sql, &terms, &[pairs])?)?;
    }
    if ranked.best.len() < limit {
        let mut branches: Vec<Vec<i64>> = terms
            .names
            .iter()
            .map(|name| query_keys(name, nicknames))
            .collect();
        if branches.is_empty()
            && let Some(p) = &terms.postcode
        {
            branches.push(vec![postcode_key(p)]);
        }
        ranked.add(&terms, candidates(sql, &terms, &branches)?)?;
    }
    let ids = ranked.best_first(limit);
    let mut found = persons(sql, &ids)?;
    // `persons` keeps the order of `ids`; a person merged meanwhile is skipped.
    found.retain(|p| ids.contains(&p.id));
    Ok(found)
}

/// Candidates' records (id, person, names), at most [`MAX_CANDIDATES`]: those indexed under a
/// key of every branch, the most keys shared first, that meet the query's dates of birth,
/// NHS number and postcode. With no branch, those meeting the dates and the NHS number.
fn candidates(
    sql: &mut dyn Sql,
    terms: &SearchTerms,
    branches: &[Vec<i64>],
) -> Result<Vec<crate::sql::Row>, StoreError> {
    let mut values: Vec<Value> = Vec::new();
    let mut conditions: Vec<String> = Vec::new();
    if let Some(n) = &terms.nhs_number {
        values.push(n.as_str().into());
        conditions.push(format!("r.nhs_number = ${}", values.len()));
    }
    for d in &terms.dates_of_birth {
        conditions.push(date_condition(d, &mut values));
    }
    if let Some(p) = &terms.postcode
        && !terms.names.is_empty()
    {
        values.push(postcode_key(p).into());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM person_search_keys p
                     WHERE p.search_key = ${} AND p.record_id = r.id)",
            values.len()
        ));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    if branches.is_empty() {
        // Dates of birth or an NHS number alone: the columns' own indexes.
        values.push((MAX_CANDIDATES as i64).into());
        return sql.query(
            &format!(
                "SELECT r.id, r.person_id, r.search_names FROM person_records r {filter}
                 ORDER BY r.search_names, r.id LIMIT ${}",
                values.len()
            ),
            &values,
        );
    }
    // Each branch's matches; a candidate matches every branch. Those sharing the most keys
    // with the query come first: an exact name shares them all.
    let selects: Vec<String> = branches
        .iter()
        .map(|keys| {
            let list = placeholders(values.len(), keys.len());
            values.extend(keys.iter().map(|&k| Value::from(k)));
            format!(
                "SELECT record_id, COUNT(*) AS hits FROM person_search_keys
                 WHERE search_key IN ({list}) GROUP BY record_id"
            )
        })
        .collect();
    values.push((branches.len() as i64).into());
    let every_branch = values.len();
    values.push((MAX_CANDIDATES as i64).into());
    sql.query(
        &format!(
            "SELECT r.id, r.person_id, r.search_names FROM (
                 SELECT m.record_id, SUM(m.hits) AS hits FROM ({}) m
                 GROUP BY m.record_id HAVING COUNT(*) = ${every_branch}
             ) c JOIN person_records r ON r.id = c.record_id {filter}
             ORDER BY c.hits DESC, r.id LIMIT ${}",
            selects.join(" UNION ALL "),
            values.len()
        ),
        &values,
    )
}

/// Each person found by their best-fitting record.
#[derive(Default)]
struct Ranked {
    best: std::collections::HashMap<PersonId, (f64, String)>,
}

impl Ranked {
    fn add(&mut self, terms: &SearchTerms, rows: Vec<crate::sql::Row>) -> Result<(), StoreError> {
        for row in &rows {
            let names = row.text(2)?;
            let parts: Vec<&str> = names.split_whitespace().collect();
            let Some(score) = names_score(&terms.names, &parts, Nicknames::shipped()) else {
                continue;
            };
            let person = PersonId(parse_id(row.text(1)?)?);
            let entry = self
                .best
                .entry(person)
                .or_insert((f64::MIN, names.to_owned()));
            if score > entry.0 {
                *entry = (score, names.to_owned());
            }
        }
        Ok(())
    }

    fn best_first(self, limit: usize) -> Vec<PersonId> {
        let mut ranked: Vec<(PersonId, (f64, String))> = self.best.into_iter().collect();
        ranked.sort_by(|(a_id, (a, a_names)), (b_id, (b, b_names))| {
            b.total_cmp(a)
                .then_with(|| a_names.cmp(b_names))
                .then_with(|| a_id.cmp(b_id))
        });
        ranked.truncate(limit);
        ranked.into_iter().map(|(id, _)| id).collect()
    }
}

/// A date of birth term as a condition: a record known only to the month or year matches any
/// day it could be, and searching a month or year finds every day in it.
fn date_condition(d: &PartialDate, values: &mut Vec<Value>) -> String {
    let candidates = match d {
        PartialDate::Day(day) => vec![
            d.to_string(),
            PartialDate::Month(day.year(), day.month()).to_string(),
            PartialDate::Year(d.year()).to_string(),
        ],
        PartialDate::Month(y, _) => vec![d.to_string(), PartialDate::Year(*y).to_string()],
        PartialDate::Year(_) => vec![d.to_string()],
    };
    let mut alternatives = vec![format!(
        "r.date_of_birth IN ({})",
        placeholders(values.len(), candidates.len())
    )];
    values.extend(candidates.into_iter().map(Value::from));
    if !matches!(d, PartialDate::Day(_)) {
        values.push(format!("{d}-%").into());
        alternatives.push(format!("r.date_of_birth LIKE ${}", values.len()));
    }
    format!("({})", alternatives.join(" OR "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> PartialDate {
        PartialDate::parse(text).unwrap()
    }

    #[test]
    fn a_search_reads_names_dates_and_postcodes_in_any_order() {
        let t = SearchTerms::parse("Harker n17 6aa 14/03/1982");
        assert_eq!(t.names, vec!["harker"]);
        assert_eq!(t.postcode.as_deref(), Some("N17 6AA"));
        assert_eq!(t.dates_of_birth, vec![day("1982-03-14")]);
    }

    #[test]
    fn dates_are_read_as_people_type_them() {
        for typed in [
            "14/6/2006",
            "14/06/2006",
            "14-6-2006",
            "14.06.2006",
            "2006-06-14",
            "14 June 2006",
            "14 jun 2006",
        ] {
            let t = SearchTerms::parse(&format!("reeve {typed}"));
            assert_eq!(t.dates_of_birth, vec![day("2006-06-14")], "{typed}");
            assert_eq!(t.names, vec!["reeve"], "{typed}");
        }
        assert_eq!(
            SearchTerms::parse("June 2006").dates_of_birth,
            vec![PartialDate::Month(2006, 6)]
        );
        assert_eq!(
            SearchTerms::parse("6/2006").dates_of_birth,
            vec![PartialDate::Month(2006, 6)]
        );
        // Not a date: a day that does not exist, a name that starts like a month.
        let t = SearchTerms::parse("31/2/2006 Mayer");
        assert!(t.dates_of_birth.is_empty());
        assert!(t.names.contains(&"mayer".to_owned()));
    }

    #[test]
    fn a_postcode_is_read_whole_or_in_part() {
        assert_eq!(
            SearchTerms::parse("sam N176AA").postcode.as_deref(),
            Some("N17 6AA")
        );
        let t = SearchTerms::parse("sam n17 6");
        assert_eq!(t.postcode.as_deref(), Some("N17 6"));
        assert_eq!(t.names, vec!["sam"]);
        let t = SearchTerms::parse("N17 sam");
        assert_eq!(t.postcode.as_deref(), Some("N17"));
        assert_eq!(t.names, vec!["sam"]);
    }

    #[test]
    fn an_nhs_number_with_spaces_is_one_term() {
        let t = SearchTerms::parse("943 476 5919");
        assert_eq!(t.nhs_number.unwrap().as_str(), "9434765919");
        assert!(t.names.is_empty());
    }
}
