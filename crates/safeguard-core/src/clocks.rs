//! Statutory clocks: timescales started and stopped by entries (DOMAIN.md, section 2). The
//! clocks are data: a TOML file ships with Safeguard (`data/clocks.toml`) and a local
//! safeguarding partnership may replace it; loading names the clock and field at fault.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use crate::calendar::{Calendar, CalendarError, add_months};
use crate::{Entry, EntryId, EntryKind};

/// The clocks shipped with Safeguard.
pub const DEFAULT_CLOCKS: &str = include_str!("../../../data/clocks.toml");

/// Why a clocks file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClocksError {
    /// The file is not valid TOML or not the expected shape.
    #[error("clocks file: {0}")]
    Syntax(String),
    /// A clock's field is wrong.
    #[error("clock {clock:?}, field {field}: {reason}")]
    Field {
        /// The clock's id.
        clock: String,
        /// The field (`start.kind`, `limit`).
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// How long a clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Working days after the start.
    WorkingDays(u32),
    /// Calendar days after the start.
    Days(u32),
    /// Weeks after the start.
    Weeks(u32),
    /// Calendar months after the start.
    Months(u32),
}

impl Limit {
    /// The last day on which the clock is met, for a start on `start`.
    pub fn due(self, start: NaiveDate, calendar: &Calendar) -> Result<NaiveDate, CalendarError> {
        Ok(match self {
            Limit::WorkingDays(n) => calendar.add_working_days(start, n)?,
            Limit::Days(n) => start + Duration::days(i64::from(n)),
            Limit::Weeks(n) => start + Duration::weeks(i64::from(n)),
            Limit::Months(n) => add_months(start, n),
        })
    }
}

/// Which entries start or stop a clock: a kind, and values its details must have.
#[derive(Debug, Clone, PartialEq)]
pub struct Matcher {
    /// The entry kind.
    pub kind: EntryKind,
    /// Fields of the details and the value each must have.
    pub fields: BTreeMap<String, serde_json::Value>,
}

impl Matcher {
    /// Whether `entry` (with `details` its details as JSON) matches: each field has the value
    /// given, or one of the values of a list.
    fn matches(&self, entry: &Entry, details: &serde_json::Value) -> bool {
        entry.kind() == self.kind
            && self.fields.iter().all(|(k, v)| match (v, details.get(k)) {
                (serde_json::Value::Array(any), Some(actual)) if !actual.is_array() => {
                    any.contains(actual)
                }
                (expected, actual) => actual == Some(expected),
            })
    }
}

/// Whether `value` is a value the field `name` of an entry of `kind` can hold: the details
/// are read with the field alone, and only a missing other field is forgiven. So a misspelt
/// field (`atended`) or value (`"inital"`, `"inconsistant"`) is an error, never a matcher that
/// silently matches nothing.
fn check_field(kind: EntryKind, name: &str, value: &serde_json::Value) -> Result<(), String> {
    let probe = serde_json::json!({ "kind": kind.as_str(), name: value });
    match serde_json::from_value::<crate::EntryDetails>(probe) {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().starts_with("missing field") => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// A timescale.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockDefinition {
    /// Stable identifier (`icpc_after_strategy_discussion`).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// Where the timescale comes from.
    pub source: String,
    /// Set by local procedure rather than statute.
    pub local: bool,
    /// What starts it.
    pub start: Matcher,
    /// What stops it.
    pub stop: Matcher,
    /// How long it runs.
    pub limit: Limit,
    /// Warn this many working days before it is due.
    pub due_soon_working_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    clock: Vec<RawClock>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClock {
    id: String,
    name: String,
    source: String,
    #[serde(default)]
    local: bool,
    start: BTreeMap<String, serde_json::Value>,
    stop: BTreeMap<String, serde_json::Value>,
    limit: BTreeMap<String, u32>,
    #[serde(default = "default_due_soon")]
    due_soon_working_days: u32,
}

fn default_due_soon() -> u32 {
    3
}

fn field_error(clock: &str, field: &str, reason: impl Into<String>) -> ClocksError {
    ClocksError::Field {
        clock: clock.to_owned(),
        field: field.to_owned(),
        reason: reason.into(),
    }
}

impl Matcher {
    /// Reads a matcher from its table (`{ kind = "...", field = value, ... }`); `owner` and
    /// `field` name it in errors.
    pub fn from_table(
        owner: &str,
        field: &str,
        raw: BTreeMap<String, serde_json::Value>,
    ) -> Result<Self, ClocksError> {
        matcher(owner, field, raw)
    }

    /// Whether `entry` matches, given its details as JSON.
    pub fn matches_details(&self, entry: &Entry, details: &serde_json::Value) -> bool {
        self.matches(entry, details)
    }
}

fn matcher(
    clock: &str,
    field: &str,
    mut raw: BTreeMap<String, serde_json::Value>,
) -> Result<Matcher, ClocksError> {
    let kind = match raw.remove("kind") {
        Some(serde_json::Value::String(k)) => EntryKind::parse(&k).ok_or_else(|| {
            field_error(
                clock,
                &format!("{field}.kind"),
                format!("{k:?} is not an entry kind"),
            )
        })?,
        _ => return Err(field_error(clock, &format!("{field}.kind"), "is missing")),
    };
    for (name, value) in &raw {
        let at = format!("{field}.{name}");
        let alternatives: Vec<&serde_json::Value> = match value {
            serde_json::Value::Array(any) if !any.is_empty() => any.iter().collect(),
            one => vec![one],
        };
        for v in alternatives {
            if v.is_object() || v.is_array() {
                return Err(field_error(
                    clock,
                    &at,
                    "must be a string, number, true/false, or a list of them (any of)",
                ));
            }
            check_field(kind, name, v).map_err(|reason| {
                field_error(
                    clock,
                    &at,
                    format!("not a {} field and value: {reason}", kind.as_str()),
                )
            })?;
        }
    }
    Ok(Matcher { kind, fields: raw })
}

/// Reads and checks a clocks file.
pub fn parse_clocks(text: &str) -> Result<Vec<ClockDefinition>, ClocksError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| ClocksError::Syntax(e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    raw.clock
        .into_iter()
        .map(|c| {
            if !seen.insert(c.id.clone()) {
                return Err(field_error(&c.id, "id", "is used by another clock"));
            }
            let limit = match c.limit.iter().collect::<Vec<_>>()[..] {
                [(unit, &n)] if n > 0 => match unit.as_str() {
                    "working_days" => Limit::WorkingDays(n),
                    "days" => Limit::Days(n),
                    "weeks" => Limit::Weeks(n),
                    "months" => Limit::Months(n),
                    other => {
                        return Err(field_error(
                            &c.id,
                            &format!("limit.{other}"),
                            "use working_days, days, weeks or months",
                        ));
                    }
                },
                _ => {
                    return Err(field_error(
                        &c.id,
                        "limit",
                        "give exactly one of working_days, days, weeks or months, above 0",
                    ));
                }
            };
            Ok(ClockDefinition {
                start: matcher(&c.id, "start", c.start)?,
                stop: matcher(&c.id, "stop", c.stop)?,
                id: c.id,
                name: c.name,
                source: c.source,
                local: c.local,
                limit,
                due_soon_working_days: c.due_soon_working_days,
            })
        })
        .collect()
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStatus {
    /// Running, not yet near its due date.
    Running,
    /// Running, due within the warning period.
    DueSoon,
    /// Running past its due date.
    Overdue,
    /// Stopped on or before its due date.
    Met,
    /// Stopped after its due date.
    MetLate,
}

/// One run of a clock: from an entry that started it to the one that stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockRun {
    /// The clock's id.
    pub clock: String,
    /// The entry that started it.
    pub started_by: EntryId,
    /// The day it started.
    pub started: NaiveDate,
    /// The last day on which it is met.
    pub due: NaiveDate,
    /// The entry that stopped it, and the day.
    pub stopped: Option<(EntryId, NaiveDate)>,
    /// Where it stands on the day evaluated.
    pub status: ClockStatus,
}

/// Runs every clock over a chronology (oldest first) as it stood on `as_of`: entries after
/// `as_of` are not yet known. A stop matches only after its start; one run of a clock is open
/// at a time, and an entry can stop one run and start the next. Each entry comes with its
/// details as JSON ([`crate::rules::details_json`]), which a caller keeps rather than encodes
/// on every run.
pub fn evaluate_clocks(
    clocks: &[ClockDefinition],
    chronology: &[(EntryId, &Entry, &serde_json::Value)],
    as_of: NaiveDate,
    calendar: &Calendar,
) -> Result<Vec<ClockRun>, CalendarError> {
    let known: Vec<&(EntryId, &Entry, &serde_json::Value)> = chronology
        .iter()
        .filter(|(_, e, _)| e.occurred_at.date() <= as_of)
        .collect();
    let mut runs = Vec::new();
    for clock in clocks {
        let mut open: Option<ClockRun> = None;
        for &&(id, entry, details) in &known {
            let day = entry.occurred_at.date();
            if let Some(run) = open.as_mut()
                && clock.stop.matches(entry, details)
                && id != run.started_by
            {
                run.stopped = Some((id, day));
                run.status = if day <= run.due {
                    ClockStatus::Met
                } else {
                    ClockStatus::MetLate
                };
                runs.extend(open.take());
            }
            if open.is_none() && clock.start.matches(entry, details) {
                open = Some(ClockRun {
                    clock: clock.id.clone(),
                    started_by: id,
                    started: day,
                    due: clock.limit.due(day, calendar)?,
                    stopped: None,
                    status: ClockStatus::Running,
                });
            }
        }
        if let Some(mut run) = open {
            let warn_from = calendar
                .add_working_days(as_of, clock.due_soon_working_days)
                .unwrap_or(as_of);
            run.status = if as_of > run.due {
                ClockStatus::Overdue
            } else if warn_from >= run.due {
                ClockStatus::DueSoon
            } else {
                ClockStatus::Running
            };
            runs.push(run);
        }
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        AgencyId, Author, Conference, ConferenceType, EntryDetails, OccurredAt, Participant,
        ParticipantRole, PersonName, PersonRecord, SourceRef, StrategyDiscussion,
    };

    fn entry(day: &str, details: EntryDetails) -> Entry {
        let occurred_at = OccurredAt::parse(day).unwrap();
        Entry {
            agency: AgencyId::parse("social-care").unwrap(),
            source: SourceRef {
                system: "s".into(),
                id: day.into(),
            },
            author: Author {
                name: "a".into(),
                role: "b".into(),
            },
            occurred_at,
            recorded_at: occurred_at.start().and_utc(),
            persons: vec![Participant {
                role: ParticipantRole::SubjectChild,
                record: PersonRecord::named("c", PersonName::new("Sam", "Example")),
                identity: None,
            }],
            summary: String::new(),
            details,
            residences: vec![],
            relationships: vec![],
            supersedes: None,
        }
    }

    fn strategy() -> EntryDetails {
        EntryDetails::StrategyDiscussion(StrategyDiscussion {
            section47_decided: true,
            agencies_present: vec![],
        })
    }

    fn conference(t: ConferenceType) -> EntryDetails {
        EntryDetails::Conference(Conference {
            conference_type: t,
            plan_decided: true,
            category: None,
        })
    }

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn run(entries: &[Entry], as_of: &str, clock: &str) -> Vec<ClockRun> {
        let clocks = parse_clocks(DEFAULT_CLOCKS).unwrap();
        let details: Vec<serde_json::Value> =
            entries.iter().map(crate::rules::details_json).collect();
        let chronology: Vec<(EntryId, &Entry, &serde_json::Value)> = entries
            .iter()
            .zip(&details)
            .enumerate()
            .map(|(i, (e, d))| (EntryId(uuid::Uuid::from_u128(i as u128 + 1)), e, d))
            .collect();
        evaluate_clocks(
            &clocks,
            &chronology,
            d(as_of),
            &Calendar::england_and_wales(),
        )
        .unwrap()
        .into_iter()
        .filter(|r| r.clock == clock)
        .collect()
    }

    const ICPC: &str = "icpc_after_strategy_discussion";

    #[test]
    fn the_shipped_clocks_load() {
        let clocks = parse_clocks(DEFAULT_CLOCKS).unwrap();
        assert!(
            clocks
                .iter()
                .any(|c| c.id == ICPC && c.limit == Limit::WorkingDays(15))
        );
        assert!(clocks.iter().all(|c| !c.source.is_empty()));
    }

    #[test]
    fn a_conference_on_the_fifteenth_working_day_is_met_and_the_day_after_is_late() {
        // 2 January 2007 + 15 working days = 23 January.
        let on_time = [
            entry("2007-01-02", strategy()),
            entry("2007-01-23", conference(ConferenceType::Initial)),
        ];
        let r = run(&on_time, "2007-03-01", ICPC);
        assert_eq!((r[0].due, r[0].status), (d("2007-01-23"), ClockStatus::Met));
        let late = [
            entry("2007-01-02", strategy()),
            entry("2007-01-24", conference(ConferenceType::Initial)),
        ];
        assert_eq!(
            run(&late, "2007-03-01", ICPC)[0].status,
            ClockStatus::MetLate
        );
    }

    #[test]
    fn a_serious_incident_is_notified_in_5_working_days_and_reviewed_in_15_more() {
        use crate::{IncidentStage, SeriousIncident};
        let incident = |day: &str, stage| {
            entry(
                day,
                EntryDetails::SeriousIncident(SeriousIncident {
                    stage,
                    local_review: None,
                    panel: Vec::new(),
                }),
            )
        };
        // Known on Monday 3 June 2024: 4, 5, 6, 7 and 10 June are the five working days.
        let late = [
            incident("2024-06-03", IncidentStage::Known),
            incident("2024-06-11", IncidentStage::Notified),
            incident("2024-07-02", IncidentStage::RapidReview),
        ];
        let notified = run(&late, "2024-08-01", "serious_incident_notified");
        assert_eq!(
            (notified[0].due, notified[0].status),
            (d("2024-06-10"), ClockStatus::MetLate)
        );
        // Notified 11 June: 15 working days to 2 July.
        let reviewed = run(&late, "2024-08-01", "rapid_review_held");
        assert_eq!(
            (reviewed[0].due, reviewed[0].status),
            (d("2024-07-02"), ClockStatus::Met)
        );
        assert_eq!(
            run(&late[..2], "2024-07-03", "rapid_review_held")[0].status,
            ClockStatus::Overdue,
            "still running past its due date"
        );
    }

    #[test]
    fn care_proceedings_are_decided_within_26_weeks() {
        use crate::{CourtApplication, CourtDecision};
        let applied = entry(
            "2024-01-08",
            EntryDetails::CourtApplication(CourtApplication {
                order: "care order".into(),
            }),
        );
        let decided = |day: &str| entry(day, EntryDetails::CourtDecision(CourtDecision::default()));
        let in_time = run(
            &[applied.clone(), decided("2024-07-08")],
            "2024-08-01",
            "care_proceedings_decided",
        );
        assert_eq!(
            (in_time[0].due, in_time[0].status),
            (d("2024-07-08"), ClockStatus::Met)
        );
        let late = run(
            &[applied, decided("2024-07-09")],
            "2024-08-01",
            "care_proceedings_decided",
        );
        assert_eq!(late[0].status, ClockStatus::MetLate);
    }

    #[test]
    fn a_running_clock_is_due_soon_then_overdue() {
        let started = [entry("2007-01-02", strategy())];
        assert_eq!(
            run(&started, "2007-01-03", ICPC)[0].status,
            ClockStatus::Running
        );
        assert_eq!(
            run(&started, "2007-01-19", ICPC)[0].status,
            ClockStatus::DueSoon
        );
        assert_eq!(
            run(&started, "2007-01-23", ICPC)[0].status,
            ClockStatus::DueSoon
        );
        assert_eq!(
            run(&started, "2007-01-24", ICPC)[0].status,
            ClockStatus::Overdue
        );
    }

    #[test]
    fn entries_after_the_evaluation_date_are_not_yet_known() {
        let entries = [
            entry("2007-01-02", strategy()),
            entry("2007-01-10", conference(ConferenceType::Initial)),
        ];
        assert_eq!(run(&entries, "2007-01-05", ICPC)[0].stopped, None);
        assert!(run(&entries, "2006-12-31", ICPC).is_empty());
    }

    #[test]
    fn one_review_stops_a_run_and_starts_the_next() {
        let entries = [
            entry("2007-01-22", conference(ConferenceType::Initial)),
            entry("2007-04-19", conference(ConferenceType::Review)),
            entry("2007-11-01", conference(ConferenceType::Review)),
        ];
        let first = run(&entries, "2008-01-01", "first_review_conference");
        assert_eq!(
            (first[0].due, first[0].status),
            (d("2007-04-22"), ClockStatus::Met)
        );
        let further = run(&entries, "2008-01-01", "further_review_conference");
        assert_eq!(further.len(), 2);
        assert_eq!(
            (further[0].due, further[0].status),
            (d("2007-10-19"), ClockStatus::MetLate)
        );
        assert_eq!(further[1].status, ClockStatus::Running);
    }

    #[test]
    fn a_clocks_file_with_a_mistake_names_the_clock_and_field() {
        let bad_kind = DEFAULT_CLOCKS.replacen("kind = \"conference\"", "kind = \"conferance\"", 1);
        assert_eq!(
            parse_clocks(&bad_kind).unwrap_err(),
            ClocksError::Field {
                clock: "first_core_group".into(),
                field: "start.kind".into(),
                reason: "\"conferance\" is not an entry kind".into()
            }
        );
        // A misspelt field or value is an error too, not a clock that never starts.
        for (typo, field) in [
            (
                "conference_type = \"initial\"",
                "conference_type = \"inital\"",
            ),
            ("plan_decided = true", "plan_decide = true"),
            ("section47_decided = true", "section47_decided = \"yes\""),
        ] {
            let bad = DEFAULT_CLOCKS.replacen(typo, field, 1);
            assert!(
                matches!(parse_clocks(&bad), Err(ClocksError::Field { .. })),
                "{field}: {:?}",
                parse_clocks(&bad).map(|c| c.len())
            );
        }
        let two_limits = DEFAULT_CLOCKS.replacen(
            "limit = { working_days = 15 }",
            "limit = { working_days = 15, days = 3 }",
            1,
        );
        assert!(
            matches!(parse_clocks(&two_limits), Err(ClocksError::Field { field, .. }) if field == "limit")
        );
        let unknown_unit = DEFAULT_CLOCKS.replacen(
            "limit = { working_days = 15 }",
            "limit = { fortnights = 1 }",
            1,
        );
        assert!(
            matches!(parse_clocks(&unknown_unit), Err(ClocksError::Field { field, .. }) if field == "limit.fortnights")
        );
        assert!(matches!(
            parse_clocks("[[clock]]\nid = 1"),
            Err(ClocksError::Syntax(_))
        ));
    }
}
