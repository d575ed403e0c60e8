//! An agency's CSV export as entries. A mapping (TOML, see `data/mappings/`) names the columns
//! that hold each field of an entry and of the people it names, and how the agency's own codes
//! become entry kinds and details. Each row is one entry, built as the API takes one and
//! checked as the API checks one; a row that fails is named by its line and, where it can be,
//! its column, with what is wrong and never the value.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use safeguard_core::{AgencyId, Entry, EntryKind, FieldError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// How an export's columns become entries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The sending system's name: the entries' `source.system`.
    pub system: String,
    /// The column with the row's identifier in that system: the entry's source id, so that
    /// importing the file again changes nothing.
    pub id: String,
    /// When it happened.
    pub occurred: DateColumn,
    /// When the agency recorded it.
    pub recorded: DateColumn,
    /// The column saying what happened.
    pub summary: String,
    /// Who recorded it.
    pub author: AuthorColumns,
    /// What kind of entry each row is.
    pub kind: KindColumn,
    /// The people a row names, the child it is about first.
    #[serde(rename = "person")]
    pub persons: Vec<PersonColumns>,
}

/// A date, or a date and time, in a column (UK local time).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateColumn {
    /// The column.
    pub column: String,
    /// Its layout, as chrono writes it: `%d/%m/%Y`, or `%d/%m/%Y %H:%M` with the time.
    pub format: String,
    /// A column with the time (`%H:%M`), when the date's column has none; optional per row.
    #[serde(default)]
    pub time_column: Option<String>,
}

/// The author's columns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorColumns {
    /// The column with the professional's name.
    pub name: String,
    /// The column with their role, or
    #[serde(default)]
    pub role: Option<String>,
    /// the role of every row's author (`GP`).
    #[serde(default)]
    pub role_value: Option<String>,
}

/// The column with the agency's code for what a row records, and what each code means.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindColumn {
    /// The column.
    pub column: String,
    /// Each code the agency uses.
    pub codes: BTreeMap<String, KindCode>,
}

/// What one of the agency's codes records.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindCode {
    /// The entry kind (`gp_appointment`, `injury_observed`).
    pub kind: String,
    /// Details every row of the code has (`{ department = "emergency" }`).
    #[serde(default)]
    pub details: toml::Table,
    /// Details read from columns (`{ body_site = "Site" }`); an empty cell leaves it out.
    #[serde(default)]
    pub details_from: BTreeMap<String, String>,
}

/// The columns of one person a row names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonColumns {
    /// Their part in the entry (`subject_child`, `parent`, `other_adult_present`).
    pub role: String,
    /// The column with the agency's identifier for them. A row names them only when it is
    /// filled, except the child, whom every row names.
    pub local_id: String,
    /// Given names, space-separated.
    #[serde(default)]
    pub given: Option<String>,
    /// Family name.
    #[serde(default)]
    pub family: Option<String>,
    /// Date of birth.
    #[serde(default)]
    pub date_of_birth: Option<DateColumn>,
    /// NHS number.
    #[serde(default)]
    pub nhs_number: Option<String>,
    /// Sex: F, M or U (or female, male, unknown).
    #[serde(default)]
    pub sex: Option<String>,
    /// Address lines, first line first.
    #[serde(default)]
    pub address: Vec<String>,
    /// Postcode.
    #[serde(default)]
    pub postcode: Option<String>,
}

/// A mapping or file that cannot be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    /// The mapping is not valid TOML of the expected shape, or names something unknown.
    #[error("the mapping: {0}")]
    Mapping(String),
    /// The file's header lacks a column the mapping names.
    #[error("the file has no column {column:?}, which the mapping names for {field}")]
    MissingColumn {
        /// The column.
        column: String,
        /// What the mapping reads from it.
        field: String,
    },
    /// The file is not CSV (or has no header).
    #[error("the file cannot be read as CSV: {0}")]
    Csv(String),
}

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line it starts on (the header is line 1).
    pub line: u64,
    /// The column, when the fault is one column's.
    pub column: Option<String>,
    /// The entry's field (`occurred_at`, `persons[0].record.nhs_number`, `details.kind`).
    pub field: String,
    /// What is wrong, without the value.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(
                f,
                "line {}, column {c:?} ({}): {}",
                self.line, self.field, self.reason
            ),
            None => write!(f, "line {} ({}): {}", self.line, self.field, self.reason),
        }
    }
}

/// One row: where it was, as it was, and the entry it makes.
#[derive(Debug, Clone)]
pub struct Row {
    /// The line it starts on.
    pub line: u64,
    /// Its cells, as read.
    pub cells: Vec<String>,
    /// The entry, or what is wrong with the row.
    pub entry: Result<Entry, RowError>,
}

impl Mapping {
    /// Reads and checks a mapping: every kind a code names exists, every part a person plays
    /// exists, the first person is the child, and every layout of a date can be read.
    pub fn parse(text: &str) -> Result<Mapping, FileError> {
        let mapping: Mapping =
            toml::from_str(text).map_err(|e| FileError::Mapping(e.to_string()))?;
        let bad = |what: String| Err(FileError::Mapping(what));
        for (code, c) in &mapping.kind.codes {
            if EntryKind::parse(&c.kind).is_none() {
                return bad(format!("kind.codes.{code}: no entry kind {:?}", c.kind));
            }
        }
        match mapping.persons.first() {
            Some(p) if p.role == "subject_child" => {}
            _ => {
                return bad(
                    "the first [[person]] must be the child: role = \"subject_child\"".into(),
                );
            }
        }
        for (i, p) in mapping.persons.iter().enumerate() {
            if serde_json::from_value::<safeguard_core::ParticipantRole>(json!(p.role)).is_err() {
                return bad(format!("person[{i}].role: no part {:?}", p.role));
            }
        }
        if mapping.author.role.is_none() && mapping.author.role_value.is_none() {
            return bad(
                "author: give a role column (role) or every author's role (role_value)".into(),
            );
        }
        let dates = [
            ("occurred", &mapping.occurred),
            ("recorded", &mapping.recorded),
        ]
        .into_iter()
        .chain(mapping.persons.iter().filter_map(|p| {
            p.date_of_birth
                .as_ref()
                .map(|d| ("person.date_of_birth", d))
        }));
        for (field, d) in dates {
            if chrono::format::StrftimeItems::new(&d.format)
                .any(|i| matches!(i, chrono::format::Item::Error))
            {
                return bad(format!(
                    "{field}.format: {:?} is not a chrono date layout",
                    d.format
                ));
            }
        }
        Ok(mapping)
    }

    /// Every column the mapping reads, with what it reads there.
    fn columns(&self) -> Vec<(&str, String)> {
        let mut out = vec![
            (self.id.as_str(), "source.id".to_owned()),
            (self.occurred.column.as_str(), "occurred_at".to_owned()),
            (self.recorded.column.as_str(), "recorded_at".to_owned()),
            (self.summary.as_str(), "summary".to_owned()),
            (self.author.name.as_str(), "author.name".to_owned()),
            (self.kind.column.as_str(), "details.kind".to_owned()),
        ];
        for d in [&self.occurred, &self.recorded] {
            if let Some(t) = &d.time_column {
                out.push((t.as_str(), "time".to_owned()));
            }
        }
        if let Some(r) = &self.author.role {
            out.push((r.as_str(), "author.role".to_owned()));
        }
        for c in self.kind.codes.values() {
            for (field, column) in &c.details_from {
                out.push((column.as_str(), format!("details.{field}")));
            }
        }
        for (i, p) in self.persons.iter().enumerate() {
            let at = |f: &str| format!("persons[{i}].record.{f}");
            out.push((p.local_id.as_str(), at("local_id")));
            for (column, field) in [
                (&p.given, "name.given"),
                (&p.family, "name.family"),
                (&p.nhs_number, "nhs_number"),
                (&p.sex, "sex"),
                (&p.postcode, "addresses[0].postcode"),
            ] {
                if let Some(c) = column {
                    out.push((c.as_str(), at(field)));
                }
            }
            if let Some(d) = &p.date_of_birth {
                out.push((d.column.as_str(), at("date_of_birth")));
            }
            for line in &p.address {
                out.push((line.as_str(), at("addresses[0].lines")));
            }
        }
        out
    }
}

/// Reads every row of an export, each into an entry of `agency` or what is wrong with it;
/// `on_row` is called after each (for a progress bar). Fails as a whole only when the file is
/// not CSV or lacks a column the mapping names.
pub fn read_rows<R: std::io::Read>(
    mapping: &Mapping,
    agency: &AgencyId,
    input: R,
    now: DateTime<Utc>,
    mut on_row: impl FnMut(),
) -> Result<(Vec<String>, Vec<Row>), FileError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| FileError::Csv(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let index: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    for (column, field) in mapping.columns() {
        if !index.contains_key(column) {
            return Err(FileError::MissingColumn {
                column: column.to_owned(),
                field,
            });
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            // A row whose quoting is broken: named, and the rest read on.
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rows.push(Row {
                    line,
                    cells: Vec::new(),
                    entry: Err(RowError {
                        line,
                        column: None,
                        field: "row".into(),
                        reason: "not a CSV row (check its quotes)".into(),
                    }),
                });
                on_row();
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        let entry = if cells.len() != header.len() {
            Err(RowError {
                line,
                column: None,
                field: "row".into(),
                reason: format!(
                    "{} cells where the header has {}",
                    cells.len(),
                    header.len()
                ),
            })
        } else {
            let cell = |column: &str| {
                index
                    .get(column)
                    .and_then(|&i| cells.get(i))
                    .map(|c| c.trim())
                    .filter(|c| !c.is_empty())
            };
            entry_of(mapping, agency, &cell, now).map_err(|(column, e)| RowError {
                line,
                column,
                field: e.field,
                reason: redacted(&e.reason),
            })
        };
        rows.push(Row { line, cells, entry });
        on_row();
    }
    Ok((header, rows))
}

/// A fault, with the column it came from when known.
type Fault = (Option<String>, FieldError);

fn fault(column: &str, field: &str, reason: impl Into<String>) -> Fault {
    (Some(column.to_owned()), FieldError::new(field, reason))
}

/// The entry one row makes, or its first fault.
fn entry_of<'a>(
    mapping: &'a Mapping,
    agency: &AgencyId,
    cell: &dyn Fn(&str) -> Option<&'a str>,
    now: DateTime<Utc>,
) -> Result<Entry, Fault> {
    let id = cell(&mapping.id).ok_or_else(|| fault(&mapping.id, "source.id", "is empty"))?;
    let occurred = match local_date_time(&mapping.occurred, cell, "occurred_at")? {
        Some((at, true)) => at.format("%Y-%m-%dT%H:%M").to_string(),
        Some((at, false)) => at.format("%Y-%m-%d").to_string(),
        None => return Err(fault(&mapping.occurred.column, "occurred_at", "is empty")),
    };
    let recorded = local_date_time(&mapping.recorded, cell, "recorded_at")?
        .map(|(at, _)| uk_local_to_utc(at))
        .ok_or_else(|| fault(&mapping.recorded.column, "recorded_at", "is empty"))?;
    let code_column = &mapping.kind.column;
    let code = cell(code_column).ok_or_else(|| fault(code_column, "details.kind", "is empty"))?;
    let kind = mapping.kind.codes.get(code).ok_or_else(|| {
        let known: Vec<&str> = mapping.kind.codes.keys().map(String::as_str).collect();
        fault(
            code_column,
            "details.kind",
            format!(
                "a code the mapping does not know (it knows {})",
                known.join(", ")
            ),
        )
    })?;
    let mut details: Map<String, Value> = serde_json::to_value(&kind.details)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    details.insert("kind".into(), json!(kind.kind));
    let mut columns: Vec<(String, String)> = Vec::new();
    for (field, column) in &kind.details_from {
        if let Some(v) = cell(column) {
            details.insert(field.clone(), json!(v));
            columns.push((format!("details.{field}"), column.clone()));
        }
    }
    let role = match (&mapping.author.role, &mapping.author.role_value) {
        (Some(column), _) => cell(column).unwrap_or("Professional"),
        (None, Some(value)) => value.as_str(),
        (None, None) => "Professional",
    };
    let mut persons = Vec::new();
    for (i, p) in mapping.persons.iter().enumerate() {
        let Some(local_id) = cell(&p.local_id) else {
            if i == 0 {
                return Err(fault(
                    &p.local_id,
                    "persons[0].record.local_id",
                    "is empty: every row names the child",
                ));
            }
            continue;
        };
        let at = |f: &str| format!("persons[{}].record.{f}", persons.len());
        let mut record = Map::new();
        record.insert("local_id".into(), json!(local_id));
        let given: Vec<&str> = p
            .given
            .as_deref()
            .and_then(cell)
            .map(|g| g.split_whitespace().collect())
            .unwrap_or_default();
        record.insert(
            "name".into(),
            json!({"given": given, "family": p.family.as_deref().and_then(cell)}),
        );
        if let Some(d) = &p.date_of_birth
            && let Some(text) = cell(&d.column)
        {
            let day = NaiveDate::parse_from_str(text, &d.format).map_err(|_| {
                fault(
                    &d.column,
                    &at("date_of_birth"),
                    format!("not a date laid out as {}", d.format),
                )
            })?;
            record.insert(
                "date_of_birth".into(),
                json!(day.format("%Y-%m-%d").to_string()),
            );
            columns.push((at("date_of_birth"), d.column.clone()));
        }
        if let Some(column) = &p.nhs_number
            && let Some(n) = cell(column)
        {
            record.insert("nhs_number".into(), json!(n));
            columns.push((at("nhs_number"), column.clone()));
        }
        if let Some(column) = &p.sex
            && let Some(s) = cell(column)
        {
            let sex = match s.to_ascii_lowercase().as_str() {
                "f" | "female" => "female",
                "m" | "male" => "male",
                "u" | "unknown" | "not known" => "unknown",
                _ => return Err(fault(column, &at("sex"), "not F, M or U")),
            };
            record.insert("sex".into(), json!(sex));
        }
        let lines: Vec<&str> = p.address.iter().filter_map(|c| cell(c)).collect();
        let postcode = p.postcode.as_deref().and_then(cell);
        if !lines.is_empty() || postcode.is_some() {
            record.insert(
                "addresses".into(),
                json!([{"lines": lines, "postcode": postcode}]),
            );
            if let Some(column) = &p.postcode {
                columns.push((at("addresses[0].postcode"), column.clone()));
            }
        }
        for (field, column) in [(&p.given, "name.given"), (&p.family, "name.family")] {
            if let Some(c) = field {
                columns.push((at(column), c.clone()));
            }
        }
        columns.push((at("local_id"), p.local_id.clone()));
        persons.push(json!({"role": p.role, "record": record}));
    }
    columns.push(("summary".into(), mapping.summary.clone()));
    columns.push(("author".into(), mapping.author.name.clone()));
    columns.push(("details.kind".into(), code_column.clone()));
    let body = json!({
        "agency": agency.as_str(),
        "source": {"system": mapping.system, "id": id},
        "author": {"name": cell(&mapping.author.name).unwrap_or("Not recorded"), "role": role},
        "occurred_at": occurred,
        "recorded_at": recorded.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "persons": persons,
        "summary": cell(&mapping.summary).unwrap_or(""),
        "details": details,
    });
    Entry::from_json(body, now).map_err(|e| {
        // The column the faulty field came from: the longest field path that starts it.
        let column = columns
            .iter()
            .filter(|(path, _)| e.field.starts_with(path.as_str()))
            .max_by_key(|(path, _)| path.len())
            .map(|(_, c)| c.clone());
        (column, e)
    })
}

/// A date (or a date and time) column's value in UK local time, and whether it has a time;
/// `None` when empty.
fn local_date_time<'a>(
    d: &DateColumn,
    cell: &dyn Fn(&str) -> Option<&'a str>,
    field: &str,
) -> Result<Option<(NaiveDateTime, bool)>, Fault> {
    let Some(text) = cell(&d.column) else {
        return Ok(None);
    };
    let time = match &d.time_column {
        Some(column) => cell(column)
            .map(|t| {
                NaiveTime::parse_from_str(t, "%H:%M")
                    .map_err(|_| fault(column, field, "not a time laid out as %H:%M"))
            })
            .transpose()?,
        None => None,
    };
    match NaiveDateTime::parse_from_str(text, &d.format) {
        Ok(at) => Ok(Some((at, true))),
        Err(_) => NaiveDate::parse_from_str(text, &d.format)
            .map(|day| Some((day.and_time(time.unwrap_or(NaiveTime::MIN)), time.is_some())))
            .map_err(|_| {
                fault(
                    &d.column,
                    field,
                    format!("not a date laid out as {}", d.format),
                )
            }),
    }
}

/// A UK local time as UTC: British Summer Time, an hour ahead, runs from 01:00 UTC on the last
/// Sunday of March to 01:00 UTC on the last Sunday of October (the Summer Time Order 2002).
pub fn uk_local_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    let last_sunday = |month: u32| {
        let next_month = NaiveDate::from_ymd_opt(local.year(), month + 1, 1).expect("a month");
        let last = next_month.pred_opt().expect("a day");
        last - chrono::Duration::days(i64::from(last.weekday().num_days_from_sunday()))
    };
    let one_am = NaiveTime::from_hms_opt(1, 0, 0).expect("a time");
    let starts = last_sunday(3).and_time(one_am);
    let ends = last_sunday(10).and_time(one_am);
    // Local times count from the change as the clocks show it: 02:00 BST is 01:00 UTC.
    let as_utc = |t: NaiveDateTime| Utc.from_utc_datetime(&t);
    let summer = local - chrono::Duration::hours(1);
    if summer >= starts && summer < ends {
        as_utc(summer)
    } else {
        as_utc(local)
    }
}

/// A reason without the value that failed: serde quotes it (``unknown variant `X` ``,
/// `invalid type: string "X"`), and a value may be a name or an identifier. What follows it
/// (the values expected) is kept.
fn redacted(reason: &str) -> String {
    if !(reason.contains("unknown variant") || reason.contains("invalid ")) {
        return reason.to_owned();
    }
    let Some(at) = reason.find(['`', '"']) else {
        return reason.to_owned();
    };
    let quote = &reason[at..=at];
    match reason[at + 1..].find(quote) {
        Some(end) => format!(
            "{}(value left out){}",
            &reason[..at],
            &reason[at + 1 + end + 1..]
        ),
        None => reason[..at].to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: [(&str, &str, &str); 3] = [
        (
            include_str!("../../../data/mappings/gp-consultations.toml"),
            include_str!("../../../data/mappings/gp-consultations.csv"),
            "elm-road-surgery",
        ),
        (
            include_str!("../../../data/mappings/ed-attendances.toml"),
            include_str!("../../../data/mappings/ed-attendances.csv"),
            "north-general-hospital",
        ),
        (
            include_str!("../../../data/mappings/police-incidents.toml"),
            include_str!("../../../data/mappings/police-incidents.csv"),
            "northbury-police",
        ),
    ];

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
    }

    fn read(mapping: &str, csv: &str) -> Result<Vec<Row>, FileError> {
        let mapping = Mapping::parse(mapping)?;
        let agency = AgencyId::parse("elm-road-surgery").unwrap();
        read_rows(&mapping, &agency, csv.as_bytes(), now(), || {}).map(|(_, rows)| rows)
    }

    #[test]
    fn every_shipped_mapping_reads_every_row_of_its_sample() {
        for (mapping, csv, _) in SAMPLES {
            let rows = read(mapping, csv).unwrap();
            assert!(rows.len() >= 2);
            for row in &rows {
                assert!(row.entry.is_ok(), "line {}: {:?}", row.line, row.entry);
            }
        }
    }

    #[test]
    fn each_sample_reads_as_its_golden_entries() {
        for (mapping, csv, name) in SAMPLES {
            let mapping = Mapping::parse(mapping).unwrap();
            let agency = AgencyId::parse(name).unwrap();
            let (_, rows) = read_rows(&mapping, &agency, csv.as_bytes(), now(), || {}).unwrap();
            let entries: Vec<Entry> = rows.into_iter().map(|r| r.entry.unwrap()).collect();
            crate::fixture::assert_golden(
                &format!("agency-csv-{name}.json"),
                &(serde_json::to_string_pretty(&entries).unwrap() + "\n"),
            );
        }
    }

    #[test]
    fn a_row_becomes_the_entry_the_api_would_take() {
        let (mapping, csv, _) = SAMPLES[0];
        let rows = read(mapping, csv).unwrap();
        let injury = rows[2].entry.as_ref().unwrap();
        assert_eq!(rows[2].line, 4, "the header is line 1");
        assert_eq!(injury.kind(), EntryKind::InjuryObserved);
        assert_eq!(injury.source.id, "C-1003");
        assert_eq!(injury.occurred_at.to_string(), "2024-01-08T11:15");
        // Entered at 11:50 in January: GMT, so UTC as written.
        assert_eq!(injury.recorded_at.to_rfc3339(), "2024-01-08T11:50:00+00:00");
        assert_eq!(injury.persons.len(), 2, "the child and the parent");
        let child = &injury.persons[0].record;
        assert_eq!(child.nhs_number.as_ref().unwrap().as_str(), "9434765919");
        assert_eq!(child.addresses[0].lines, ["12 Oak Lane", "Northbury"]);
        let details = serde_json::to_value(&injury.details).unwrap();
        assert_eq!(details["body_site"], "left ear");
        assert_eq!(details["injury_type"], "bruise");
        // A row whose parent columns are empty names the child alone.
        assert_eq!(rows[3].entry.as_ref().unwrap().persons.len(), 1);
    }

    #[test]
    fn each_bad_row_is_named_by_line_column_and_field_never_by_its_value() {
        let (mapping, csv, _) = SAMPLES[0];
        let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
        let good = lines[1].clone();
        let bad = |from: &str, to: &str| good.replacen(from, to, 1);
        lines.truncate(1);
        lines.extend([
            bad("03/10/2023,09:40", "31/02/2023,09:40"),
            bad(",CONS,", ",XRAY,"),
            bad("C-1001,P-501,", "C-1001,,"),
            bad("9434765919", "9434765918"),
            bad(",M,", ",Z,"),
            bad("Tyler", "Tyler,extra"),
        ]);
        let rows = read(mapping, &(lines.join("\n") + "\n")).unwrap();
        let errors: Vec<RowError> = rows.into_iter().map(|r| r.entry.unwrap_err()).collect();
        let at = |e: &RowError| {
            (
                e.line,
                e.column.clone().unwrap_or_default(),
                e.field.clone(),
            )
        };
        assert_eq!(
            at(&errors[0]),
            (2, "ConsultationDate".into(), "occurred_at".into())
        );
        assert_eq!(at(&errors[1]), (3, "Type".into(), "details.kind".into()));
        assert!(
            errors[1].reason.contains("CONS, DNA, INJ"),
            "{}",
            errors[1].reason
        );
        assert_eq!(
            at(&errors[2]),
            (4, "PatientID".into(), "persons[0].record.local_id".into())
        );
        assert_eq!(
            at(&errors[3]),
            (5, "NHSNumber".into(), "persons[0].record.nhs_number".into())
        );
        assert_eq!(
            at(&errors[4]),
            (6, "Sex".into(), "persons[0].record.sex".into())
        );
        assert_eq!(errors[5].field, "row", "{}", errors[5]);
        for e in &errors {
            let text = e.to_string();
            for value in ["31/02/2023", "XRAY", "9434765918", "Tyler", "Brennan"] {
                assert!(!text.contains(value), "{text}");
            }
        }
    }

    #[test]
    fn a_column_the_mapping_names_and_the_file_lacks_fails_the_file() {
        let (mapping, csv, _) = SAMPLES[0];
        let csv = csv.replacen("NHSNumber", "NHS_No", 1);
        assert_eq!(
            read(mapping, &csv).unwrap_err(),
            FileError::MissingColumn {
                column: "NHSNumber".into(),
                field: "persons[0].record.nhs_number".into()
            }
        );
    }

    #[test]
    fn a_mapping_is_checked_before_any_row_is_read() {
        let (mapping, _, _) = SAMPLES[0];
        let wrong_kind = mapping.replacen("kind = \"gp_appointment\"", "kind = \"gp_visit\"", 1);
        let err = Mapping::parse(&wrong_kind).unwrap_err().to_string();
        assert!(
            err.contains("kind.codes.CONS") && err.contains("gp_visit"),
            "{err}"
        );
        let parent_first = mapping.replacen("role = \"subject_child\"", "role = \"parent\"", 1);
        assert!(
            Mapping::parse(&parent_first)
                .unwrap_err()
                .to_string()
                .contains("the child")
        );
        let bad_layout = mapping.replacen("%d/%m/%Y %H:%M", "%d/%m/%Q", 1);
        assert!(
            Mapping::parse(&bad_layout)
                .unwrap_err()
                .to_string()
                .contains("recorded.format")
        );
        let unknown = format!("{mapping}\nsheet = 2\n");
        assert!(
            Mapping::parse(&unknown).is_err(),
            "an unknown key is refused"
        );
    }

    #[test]
    fn uk_local_time_is_british_summer_time_between_the_last_sundays_of_march_and_october() {
        let at = |y, m, d, h, min| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap()
        };
        let utc = |t| uk_local_to_utc(t).format("%Y-%m-%d %H:%M").to_string();
        assert_eq!(utc(at(2024, 1, 8, 11, 50)), "2024-01-08 11:50");
        assert_eq!(utc(at(2024, 7, 1, 12, 0)), "2024-07-01 11:00");
        // 2024: summer time from 31 March to 27 October.
        assert_eq!(utc(at(2024, 3, 31, 0, 30)), "2024-03-31 00:30");
        assert_eq!(utc(at(2024, 3, 31, 2, 30)), "2024-03-31 01:30");
        assert_eq!(utc(at(2024, 10, 27, 1, 30)), "2024-10-27 00:30");
        assert_eq!(utc(at(2024, 10, 27, 2, 30)), "2024-10-27 02:30");
    }

    #[test]
    fn a_reason_leaves_out_the_value_and_keeps_what_was_expected() {
        assert_eq!(
            redacted("unknown variant `bruse`, expected one of `bruise`, `burn`"),
            "unknown variant (value left out), expected one of `bruise`, `burn`"
        );
        assert_eq!(
            redacted("invalid type: string \"Smith\", expected a number"),
            "invalid type: string (value left out), expected a number"
        );
        assert_eq!(redacted("missing field `kind`"), "missing field `kind`");
    }
}
