//! Explainable risk rules. Each rule instantiates a template implemented here with parameters
//! from a rules file (`data/rules.toml` ships with Safeguard; a local safeguarding partnership
//! may replace it). Rules are pure functions from a child's chronology, as it was known on a
//! date, to flags; each flag carries its rule, parameters, severity, the entries behind it, the
//! date it first became knowable and a sentence a social worker can read.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError, add_months};
use crate::clocks::{ClockDefinition, ClockStatus, ClocksError, Matcher, evaluate_clocks};
use crate::{Entry, EntryId, PartialDate, PersonId, Seniority};

/// The rules shipped with Safeguard.
pub const DEFAULT_RULES: &str = include_str!("../../../data/rules.toml");

/// Why a rules file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The file is not valid TOML or not the expected shape.
    #[error("rules file: {0}")]
    Syntax(String),
    /// A rule's field is wrong.
    #[error("rule {rule:?}, field {field}: {reason}")]
    Field {
        /// The rule's id.
        rule: String,
        /// The field (`template`, `params.window_days`).
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// How serious a flag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    /// Worth noting.
    Low,
    /// Needs attention.
    Medium,
    /// Needs action now.
    High,
}

/// A concern raised by a rule, with the entries behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flag {
    /// The rule's id.
    pub rule: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's parameters.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub parameters: serde_json::Value,
    /// The entries behind the flag.
    pub entries: Vec<EntryId>,
    /// The first day the record held everything the flag rests on.
    pub first_knowable: NaiveDate,
    /// What it means, for a social worker.
    pub sentence: String,
    /// What the flag is about when one entry can raise it for several things: the clock, or
    /// the adult.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
}

impl Flag {
    /// What identifies a flag across re-evaluations: its rule, what it is about, and the entry
    /// it rests on first. Two flags of one evaluation never share it.
    pub fn key(&self) -> String {
        let about = self
            .about
            .as_deref()
            .map(|a| format!("{a}:"))
            .unwrap_or_default();
        match self.entries.first() {
            Some(first) => format!("{}:{about}{first}", self.rule),
            None => format!("{}:{about}", self.rule),
        }
    }

    /// The same flag, about `what` (a clock's id, an adult's person id).
    pub fn about(self, what: impl ToString) -> Self {
        Self {
            about: Some(what.to_string()),
            ..self
        }
    }
}

/// Flags of one rule saying the same thing about the same thing are one concern: raised once,
/// with every entry behind them, knowable from the earliest.
fn merge_identical(flags: Vec<Flag>) -> Vec<Flag> {
    let mut merged: Vec<Flag> = Vec::with_capacity(flags.len());
    for flag in flags {
        match merged
            .iter_mut()
            .find(|m| m.rule == flag.rule && m.sentence == flag.sentence && m.about == flag.about)
        {
            Some(m) => {
                for e in flag.entries {
                    if !m.entries.contains(&e) {
                        m.entries.push(e);
                    }
                }
                m.first_knowable = m.first_knowable.min(flag.first_knowable);
            }
            None => merged.push(flag),
        }
    }
    merged
}

/// Rules, the clocks they check, and the calendar the clocks count in.
#[derive(Debug, Clone)]
pub struct RuleBook {
    /// The rules.
    pub rules: Vec<Rule>,
    /// The clocks.
    pub clocks: Vec<ClockDefinition>,
    /// The working-day calendar.
    pub calendar: Calendar,
}

impl RuleBook {
    /// A clock's name for people, or its id when the book has no such clock.
    pub fn clock_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.clocks
            .iter()
            .find(|c| c.id == id)
            .map_or(id, |c| c.name.as_str())
    }

    /// Every run of every clock over the child's chronology as it stood on `as_of`: the
    /// running ones with their due dates, and those stopped, on time or late.
    pub fn clock_runs(
        &self,
        child: &Child,
        as_of: NaiveDate,
    ) -> Result<Vec<crate::clocks::ClockRun>, CalendarError> {
        let chronology: Vec<(EntryId, &Entry, &serde_json::Value)> = child
            .chronology
            .iter()
            .map(|i| (i.id, &*i.entry, &*i.details))
            .collect();
        evaluate_clocks(&self.clocks, &chronology, as_of, &self.calendar)
    }

    /// The rules, clocks and bank holidays shipped with Safeguard.
    pub fn shipped() -> Self {
        Self {
            rules: parse_rules(DEFAULT_RULES).expect("the shipped rules are valid"),
            clocks: crate::clocks::parse_clocks(crate::clocks::DEFAULT_CLOCKS)
                .expect("the shipped clocks are valid"),
            calendar: Calendar::england_and_wales(),
        }
    }

    /// Every flag on the child's record as it was known on `as_of`.
    pub fn evaluate(&self, child: &Child, as_of: NaiveDate) -> Result<Vec<Flag>, CalendarError> {
        Ok(self.evaluate_with_horizon(child, as_of)?.flags)
    }

    /// [`RuleBook::evaluate`], with the first day on which the flags could change with time
    /// alone, nothing more being recorded: until then, evaluating again gives the same flags.
    pub fn evaluate_with_horizon(
        &self,
        child: &Child,
        as_of: NaiveDate,
    ) -> Result<Evaluation, CalendarError> {
        let mut horizon = Horizon::new(as_of);
        let flags = evaluate(
            &self.rules,
            &self.clocks,
            child,
            as_of,
            &self.calendar,
            &mut horizon,
        )?;
        Ok(Evaluation {
            flags,
            changes_on: horizon.next,
        })
    }
}

/// A child's flags on a day, and until when they hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The flags.
    pub flags: Vec<Flag>,
    /// The first later day on which they could change with nothing more recorded (a clock
    /// falling due, a stretch unseen growing past its limit, an entry dated later becoming
    /// known); `None` when only a new entry can change them.
    pub changes_on: Option<NaiveDate>,
}

/// Collects the days after `as_of` on which an evaluation's answer could turn: each
/// comparison of a day with `as_of` names the day it would first come out otherwise. Erring
/// early is safe (a child is evaluated again for nothing); late would leave a flag unraised.
#[derive(Debug, Clone, Copy)]
struct Horizon {
    as_of: NaiveDate,
    next: Option<NaiveDate>,
}

impl Horizon {
    fn new(as_of: NaiveDate) -> Self {
        Self { as_of, next: None }
    }

    /// The answer may differ from `day` on.
    fn changes_on(&mut self, day: NaiveDate) {
        if day > self.as_of {
            self.next = Some(self.next.map_or(day, |next| next.min(day)));
        }
    }

    /// The answer to "has `limit` passed?" (`limit < as_of`): it turns on the day after.
    fn passed(&mut self, limit: NaiveDate) -> bool {
        self.changes_on(limit + Duration::days(1));
        limit < self.as_of
    }

    /// The answer to "is `item` known?" (`known_on <= as_of`).
    fn known(&mut self, item: &ChronologyItem) -> bool {
        self.changes_on(item.known_on());
        item.known_on() <= self.as_of
    }

    /// When a clock still running could change state: it falls due soon on the first day
    /// from which `due_soon_working_days` working days reach its due date, and overdue the
    /// day after that date.
    fn running_clock(
        &mut self,
        run: &crate::clocks::ClockRun,
        clock: &ClockDefinition,
        calendar: &Calendar,
    ) {
        self.changes_on(run.due + Duration::days(1));
        if run.status != ClockStatus::Running {
            return;
        }
        let warned = |day: NaiveDate| {
            calendar
                .add_working_days(day, clock.due_soon_working_days)
                .map(|reached| reached >= run.due)
        };
        // Warned on `day` or not is monotone in `day`: search (as_of, due] for the first.
        let (mut low, mut high) = (self.as_of, run.due);
        while high - low > Duration::days(1) {
            let middle = low + (high - low) / 2;
            match warned(middle) {
                Ok(true) => high = middle,
                Ok(false) => low = middle,
                // A day the calendar cannot count: look again tomorrow.
                Err(_) => {
                    high = self.as_of + Duration::days(1);
                    break;
                }
            }
        }
        self.changes_on(high);
    }
}

/// An entry of a child's chronology, with the persons its participants belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChronologyItem {
    /// The entry's identifier.
    pub id: EntryId,
    /// The entry (shared: entries never change, so a decoded entry is reused).
    pub entry: std::sync::Arc<Entry>,
    /// The entry's details as JSON, which rule matchers read (shared with the entry, so that
    /// evaluating a long chronology again does not encode every entry again).
    pub details: std::sync::Arc<serde_json::Value>,
    /// The person of each participant, in order.
    pub person_ids: Vec<PersonId>,
}

/// An entry's details as rule matchers read them.
pub fn details_json(entry: &Entry) -> serde_json::Value {
    serde_json::to_value(&entry.details).unwrap_or_default()
}

impl ChronologyItem {
    /// An item of an entry decoded now.
    pub fn new(id: EntryId, entry: std::sync::Arc<Entry>, person_ids: Vec<PersonId>) -> Self {
        let details = std::sync::Arc::new(details_json(&entry));
        Self {
            id,
            entry,
            details,
            person_ids,
        }
    }

    /// The day the record could first have known of this entry: when it happened or, if
    /// later, when it was recorded.
    pub fn known_on(&self) -> NaiveDate {
        self.entry
            .occurred_at
            .date()
            .max(self.entry.recorded_at.date_naive())
    }

    /// The day the entry happened.
    pub fn day(&self) -> NaiveDate {
        self.entry.occurred_at.date()
    }
}

/// What the rules look at: a child and their chronology, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// The child.
    pub person: PersonId,
    /// Their date of birth, as precisely as known.
    pub date_of_birth: Option<PartialDate>,
    /// Their chronology, oldest first.
    pub chronology: Vec<ChronologyItem>,
    /// Entries about their household that do not name them, oldest first: their siblings'
    /// (other children of their parents) and the adults' around them (records whose subject is
    /// an adult: probation, adult services, housing). For the rules that see the household.
    pub household: Vec<ChronologyItem>,
}

impl Child {
    /// Whether the child's latest plan entry started a child protection plan (rather than
    /// ended one).
    pub fn on_plan(&self) -> bool {
        self.chronology
            .iter()
            .rev()
            .find_map(|item| match item.entry.details {
                crate::EntryDetails::PlanStart(_) => Some(true),
                crate::EntryDetails::PlanEnd(_) => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Template {
    CountInWindow {
        matcher: Matcher,
        min_count: usize,
        window_days: i64,
    },
    EntryWhileInState {
        matcher: Matcher,
        state_start: Matcher,
        state_end: Matcher,
    },
    EntryWhileChildYoungerThan {
        matcher: Matcher,
        months: u32,
    },
    DecisionWithoutEvidence {
        matcher: Matcher,
        required_evidence: Vec<String>,
        required_attendee: Option<(String, Seniority)>,
    },
    NoEscalation {
        contacts: Vec<Matcher>,
        escalations: Vec<Matcher>,
        min_contacts: usize,
        min_agencies: usize,
        window_days: i64,
    },
    ClockOverdue,
    ClockDueSoon,
    Contradiction {
        assertions: Vec<String>,
    },
    UnverifiedAdult {
        roles: Vec<String>,
        working_days: u32,
        only_given: bool,
    },
    NewUnrelatedAdult {
        roles: Vec<String>,
    },
    NotSeenAloneWhileInState {
        state_start: Matcher,
        state_end: Matcher,
        seen: Matcher,
        working_days: u32,
    },
    ChangingExplanation {
        window_days: i64,
    },
    NotSeenFor {
        seen: Vec<Matcher>,
        known_from: Vec<Matcher>,
        known_until: Vec<Matcher>,
        working_days: u32,
    },
    DecisionAfterConcerns {
        decision: Matcher,
        concerns: Vec<Matcher>,
        min_concerns: usize,
        window_days: i64,
    },
    AcrossSiblings {
        matches: Vec<Matcher>,
        min_count: usize,
        min_children: usize,
        window_days: i64,
    },
    InHousehold {
        matcher: Matcher,
    },
}

/// A rule: a template with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Stable identifier.
    pub id: String,
    /// Severity of its flags.
    pub severity: Severity,
    /// Where the concern comes from.
    pub source: String,
    /// The sentence its flags carry, `{name}` standing for a parameter.
    pub sentence: String,
    /// The parameters, as written.
    pub parameters: serde_json::Value,
    /// Whether a flag it raises is escalated to team managers.
    pub escalate: bool,
    /// Days within which an escalation (a strategy discussion, an enquiry, a conference...)
    /// answers its concern; a practice review marks a concern none answered in time a missed
    /// opportunity.
    pub escalate_within_days: u32,
    template: Template,
    /// The sentence with the parameters in place, made once: a long chronology raises many
    /// flags on every re-evaluation.
    rendered: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    template: String,
    severity: Severity,
    source: String,
    sentence: String,
    #[serde(default)]
    escalate: bool,
    #[serde(default = "default_escalation_window")]
    escalate_within_days: u32,
    #[serde(default)]
    params: BTreeMap<String, serde_json::Value>,
}

/// Days within which an escalation answers a concern when its rule does not say: a strategy
/// discussion is due within days of a concern of significant harm, so a month without one is a
/// missed chance.
pub const DEFAULT_ESCALATION_WINDOW_DAYS: u32 = 28;

fn default_escalation_window() -> u32 {
    DEFAULT_ESCALATION_WINDOW_DAYS
}

/// Reads the parameters of one rule, naming the rule and field in every error.
struct Params<'a> {
    rule: &'a str,
    values: BTreeMap<String, serde_json::Value>,
}

impl Params<'_> {
    fn error(&self, field: &str, reason: impl Into<String>) -> RulesError {
        RulesError::Field {
            rule: self.rule.to_owned(),
            field: format!("params.{field}"),
            reason: reason.into(),
        }
    }

    fn take(&mut self, field: &str) -> Result<serde_json::Value, RulesError> {
        self.values
            .remove(field)
            .ok_or_else(|| self.error(field, "is missing"))
    }

    fn matcher(&mut self, field: &str) -> Result<Matcher, RulesError> {
        let value = self.take(field)?;
        self.matcher_from(field, value)
    }

    fn matcher_from(&self, field: &str, value: serde_json::Value) -> Result<Matcher, RulesError> {
        let table = serde_json::from_value(value).map_err(|_| {
            self.error(
                field,
                "must be a table such as { kind = \"injury_observed\" }",
            )
        })?;
        Matcher::from_table(self.rule, field, table).map_err(|e| match e {
            ClocksError::Field { field, reason, .. } => self.error(&field, reason),
            ClocksError::Syntax(s) => self.error(field, s),
        })
    }

    fn matchers(&mut self, field: &str) -> Result<Vec<Matcher>, RulesError> {
        match self.take(field)? {
            serde_json::Value::Array(items) if !items.is_empty() => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| self.matcher_from(&format!("{field}[{i}]"), v))
                .collect(),
            _ => Err(self.error(field, "must be a non-empty list of matchers")),
        }
    }

    fn number(&mut self, field: &str) -> Result<u32, RulesError> {
        self.take(field)?
            .as_u64()
            .filter(|n| *n > 0 && *n <= u64::from(u32::MAX))
            .map(|n| n as u32)
            .ok_or_else(|| self.error(field, "must be a whole number above 0"))
    }

    fn strings(&mut self, field: &str) -> Result<Vec<String>, RulesError> {
        match self.take(field)? {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| self.error(field, "must be a list of strings"))
                })
                .collect(),
            _ => Err(self.error(field, "must be a list of strings")),
        }
    }

    /// Refuses parameters the template does not take: a typo must not pass silently.
    fn done(self) -> Result<(), RulesError> {
        match self.values.keys().next() {
            Some(extra) => Err(self.error(extra, "is not a parameter of this template")),
            None => Ok(()),
        }
    }
}

fn template(
    rule: &str,
    name: &str,
    params: BTreeMap<String, serde_json::Value>,
) -> Result<Template, RulesError> {
    let mut p = Params {
        rule,
        values: params,
    };
    let t = match name {
        "count_in_window" => Template::CountInWindow {
            matcher: p.matcher("match")?,
            min_count: p.number("min_count")? as usize,
            window_days: i64::from(p.number("window_days")?),
        },
        "entry_while_in_state" => Template::EntryWhileInState {
            matcher: p.matcher("match")?,
            state_start: p.matcher("state_start")?,
            state_end: p.matcher("state_end")?,
        },
        "entry_while_child_younger_than" => Template::EntryWhileChildYoungerThan {
            matcher: p.matcher("match")?,
            months: p.number("months")?,
        },
        "decision_without_evidence" => {
            let matcher = p.matcher("match")?;
            let required_evidence = p.strings("required_evidence")?;
            let required_attendee = match p.values.remove("required_attendee") {
                None => None,
                Some(v) => {
                    let role = v.get("role").and_then(|r| r.as_str()).map(str::to_owned);
                    let seniority = v
                        .get("min_seniority")
                        .cloned()
                        .and_then(|s| serde_json::from_value::<Seniority>(s).ok());
                    match (role, seniority) {
                        (Some(r), Some(s)) => Some((r, s)),
                        _ => {
                            return Err(p.error(
                                "required_attendee",
                                "must be { role = \"...\", min_seniority = \"junior\" | \"qualified\" | \"senior\" }",
                            ));
                        }
                    }
                }
            };
            Template::DecisionWithoutEvidence {
                matcher,
                required_evidence,
                required_attendee,
            }
        }
        "no_escalation" => Template::NoEscalation {
            contacts: p.matchers("contacts")?,
            escalations: p.matchers("escalations")?,
            min_contacts: p.number("min_contacts")? as usize,
            min_agencies: p.number("min_agencies")? as usize,
            window_days: i64::from(p.number("window_days")?),
        },
        "clock_overdue" => Template::ClockOverdue,
        "clock_due_soon" => Template::ClockDueSoon,
        "contradiction" => Template::Contradiction {
            assertions: p.strings("assertions")?,
        },
        "unverified_adult" => Template::UnverifiedAdult {
            roles: p.strings("roles")?,
            working_days: p.number("working_days")?,
            only_given: false,
        },
        "identity_only_given" => Template::UnverifiedAdult {
            roles: p.strings("roles")?,
            working_days: p.number("working_days")?,
            only_given: true,
        },
        "new_unrelated_adult" => Template::NewUnrelatedAdult {
            roles: p.strings("roles")?,
        },
        "not_seen_alone_while_in_state" => Template::NotSeenAloneWhileInState {
            state_start: p.matcher("state_start")?,
            state_end: p.matcher("state_end")?,
            seen: p.matcher("seen")?,
            working_days: p.number("working_days")?,
        },
        "changing_explanation" => Template::ChangingExplanation {
            window_days: i64::from(p.number("window_days")?),
        },
        "not_seen_for" => Template::NotSeenFor {
            seen: p.matchers("seen")?,
            known_from: p.matchers("known_from")?,
            known_until: p.matchers("known_until")?,
            working_days: p.number("working_days")?,
        },
        "in_household" => Template::InHousehold {
            matcher: p.matcher("match")?,
        },
        "across_siblings" => Template::AcrossSiblings {
            matches: p.matchers("matches")?,
            min_count: p.number("min_count")? as usize,
            min_children: p.number("min_children")? as usize,
            window_days: i64::from(p.number("window_days")?),
        },
        "decision_after_concerns" => Template::DecisionAfterConcerns {
            decision: p.matcher("decision")?,
            concerns: p.matchers("concerns")?,
            min_concerns: p.number("min_concerns")? as usize,
            window_days: i64::from(p.number("window_days")?),
        },
        other => {
            return Err(RulesError::Field {
                rule: rule.to_owned(),
                field: "template".into(),
                reason: format!(
                    "{other:?} is not a template: use count_in_window, entry_while_in_state, \
                     entry_while_child_younger_than, decision_without_evidence, no_escalation, \
                     clock_overdue, clock_due_soon, contradiction, unverified_adult, new_unrelated_adult, \
                     not_seen_alone_while_in_state, changing_explanation, not_seen_for, \
                     decision_after_concerns, identity_only_given, across_siblings or in_household"
                ),
            });
        }
    };
    p.done()?;
    Ok(t)
}

/// Reads and checks a rules file.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, RulesError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::Syntax(e.to_string()))?;
    let mut seen = BTreeSet::new();
    raw.rule
        .into_iter()
        .map(|r| {
            if !seen.insert(r.id.clone()) {
                return Err(RulesError::Field {
                    rule: r.id,
                    field: "id".into(),
                    reason: "is used by another rule".into(),
                });
            }
            let parameters = serde_json::to_value(&r.params).unwrap_or_default();
            let rendered = render(&r.sentence, &parameters);
            Ok(Rule {
                template: template(&r.id, &r.template, r.params)?,
                id: r.id,
                severity: r.severity,
                source: r.source,
                sentence: r.sentence,
                parameters,
                escalate: r.escalate,
                escalate_within_days: r.escalate_within_days,
                rendered,
            })
        })
        .collect()
}

/// A rule's sentence with its parameters in place of their `{name}`s.
fn render(sentence: &str, parameters: &serde_json::Value) -> String {
    let mut sentence = sentence.to_owned();
    for (k, v) in parameters.as_object().into_iter().flatten() {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        sentence = sentence.replace(&format!("{{{k}}}"), &text);
    }
    sentence
}

impl Rule {
    fn flag(
        &self,
        entries: Vec<EntryId>,
        first_knowable: NaiveDate,
        extra: &[(&str, String)],
    ) -> Flag {
        let mut sentence = self.rendered.clone();
        for (k, v) in extra {
            sentence = sentence.replace(&format!("{{{k}}}"), v);
        }
        Flag {
            rule: self.id.clone(),
            severity: self.severity,
            // Given once the identical flags are merged (a long chronology raises many).
            parameters: serde_json::Value::Null,
            entries,
            first_knowable,
            sentence,
            about: None,
        }
    }
}

/// Evaluates every rule over the child's chronology as it was known on `as_of`.
fn evaluate(
    rules: &[Rule],
    clocks: &[ClockDefinition],
    child: &Child,
    as_of: NaiveDate,
    calendar: &Calendar,
    horizon: &mut Horizon,
) -> Result<Vec<Flag>, CalendarError> {
    let known: Vec<(&ChronologyItem, &serde_json::Value)> = child
        .chronology
        .iter()
        .filter(|i| horizon.known(i))
        .map(|i| (i, &*i.details))
        .collect();
    let household: Vec<&ChronologyItem> = child
        .household
        .iter()
        .filter(|i| horizon.known(i))
        .collect();
    let mut flags = Vec::new();
    // The clock templates share one run of the clocks, made only if a rule needs it.
    let mut clock_runs: Option<Vec<crate::clocks::ClockRun>> = None;
    let runs = |clock_runs: &mut Option<Vec<crate::clocks::ClockRun>>,
                horizon: &mut Horizon|
     -> Result<Vec<crate::clocks::ClockRun>, CalendarError> {
        if clock_runs.is_none() {
            let chronology: Vec<(EntryId, &Entry, &serde_json::Value)> =
                known.iter().map(|(i, d)| (i.id, &*i.entry, *d)).collect();
            // Clocks count entries by the day they happened: one dated later turns up then.
            for (_, entry, _) in &chronology {
                horizon.changes_on(entry.occurred_at.date());
            }
            let evaluated = evaluate_clocks(clocks, &chronology, as_of, calendar)?;
            for run in evaluated.iter().filter(|r| r.stopped.is_none()) {
                if let Some(clock) = clocks.iter().find(|c| c.id == run.clock) {
                    horizon.running_clock(run, clock, calendar);
                }
            }
            *clock_runs = Some(evaluated);
        }
        Ok(clock_runs.clone().unwrap_or_default())
    };
    for rule in rules {
        match &rule.template {
            Template::CountInWindow {
                matcher,
                min_count,
                window_days,
            } => {
                let hits: Vec<&ChronologyItem> = known
                    .iter()
                    .filter(|(i, d)| matcher.matches_details(&i.entry, d))
                    .map(|(i, _)| *i)
                    .collect();
                // The first window holding enough entries raises the flag; later entries
                // within the window of the one before join it.
                let mut flagged: Vec<&ChronologyItem> = Vec::new();
                for (n, hit) in hits.iter().enumerate() {
                    if flagged.is_empty() {
                        let window: Vec<&ChronologyItem> = hits[..=n]
                            .iter()
                            .filter(|h| hit.day() - h.day() <= Duration::days(*window_days))
                            .copied()
                            .collect();
                        if window.len() >= *min_count {
                            flagged = window;
                        }
                    } else if flagged
                        .last()
                        .is_some_and(|l| hit.day() - l.day() <= Duration::days(*window_days))
                    {
                        flagged.push(hit);
                    }
                }
                if flagged.len() >= *min_count {
                    let knowable = flagged[..*min_count]
                        .iter()
                        .map(|i| i.known_on())
                        .max()
                        .expect("not empty");
                    flags.push(rule.flag(flagged.iter().map(|i| i.id).collect(), knowable, &[]));
                }
            }
            Template::EntryWhileInState {
                matcher,
                state_start,
                state_end,
            } => {
                let mut open: Option<&ChronologyItem> = None;
                for (item, details) in &known {
                    if open.is_some() && state_end.matches_details(&item.entry, details) {
                        open = None;
                    }
                    if open.is_none() && state_start.matches_details(&item.entry, details) {
                        open = Some(item);
                        continue;
                    }
                    if let Some(start) = open
                        && matcher.matches_details(&item.entry, details)
                    {
                        flags.push(rule.flag(
                            vec![item.id, start.id],
                            item.known_on().max(start.known_on()),
                            &[],
                        ));
                    }
                }
            }
            Template::EntryWhileChildYoungerThan { matcher, months } => {
                // With a partial date of birth, the latest possible day: when unsure, assume
                // the younger child.
                let Some(dob) = child.date_of_birth else {
                    continue;
                };
                let limit = add_months(dob.latest(), *months);
                for (item, details) in &known {
                    if item.day() < limit && matcher.matches_details(&item.entry, details) {
                        flags.push(rule.flag(vec![item.id], item.known_on(), &[]));
                    }
                }
            }
            Template::DecisionWithoutEvidence {
                matcher,
                required_evidence,
                required_attendee,
            } => {
                for (item, details) in &known {
                    if !matcher.matches_details(&item.entry, details) {
                        continue;
                    }
                    let present: Vec<&str> = details["evidence_present"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                        .unwrap_or_default();
                    let evidence_missing = required_evidence
                        .iter()
                        .any(|e| !present.contains(&e.as_str()));
                    let attendee_missing = required_attendee.as_ref().is_some_and(|(role, min)| {
                        !details["attendees"].as_array().is_some_and(|a| {
                            a.iter().any(|att| {
                                att["role"].as_str() == Some(role.as_str())
                                    && serde_json::from_value::<Seniority>(att["seniority"].clone())
                                        .is_ok_and(|s| s >= *min)
                            })
                        })
                    });
                    if evidence_missing || attendee_missing {
                        flags.push(rule.flag(vec![item.id], item.known_on(), &[]));
                    }
                }
            }
            Template::NoEscalation {
                contacts,
                escalations,
                min_contacts,
                min_agencies,
                window_days,
            } => {
                let mut window: Vec<&ChronologyItem> = Vec::new();
                for (item, details) in &known {
                    if escalations
                        .iter()
                        .any(|m| m.matches_details(&item.entry, details))
                    {
                        window.clear();
                        continue;
                    }
                    if !contacts
                        .iter()
                        .any(|m| m.matches_details(&item.entry, details))
                    {
                        continue;
                    }
                    window.retain(|w| item.day() - w.day() <= Duration::days(*window_days));
                    window.push(item);
                    let agencies: BTreeSet<&str> =
                        window.iter().map(|w| w.entry.agency.as_str()).collect();
                    if window.len() >= *min_contacts && agencies.len() >= *min_agencies {
                        flags.push(rule.flag(
                            window.iter().map(|w| w.id).collect(),
                            item.known_on(),
                            &[],
                        ));
                        window.clear();
                    }
                }
            }
            Template::Contradiction { assertions } => {
                contradictions(rule, assertions, &known, &mut flags)
            }
            Template::UnverifiedAdult {
                roles,
                working_days,
                only_given,
            } => unverified_adults(
                rule,
                roles,
                (*working_days, *only_given),
                &known,
                horizon,
                calendar,
                &mut flags,
            )?,
            Template::NewUnrelatedAdult { roles } => {
                new_unrelated_adults(rule, roles, child, &known, &mut flags)
            }
            Template::NotSeenAloneWhileInState {
                state_start,
                state_end,
                seen,
                working_days,
            } => {
                let mut last_seen: Option<(&ChronologyItem, NaiveDate)> = None;
                // Closed by a later entry on `until`, or still open today (`None`).
                let close = |from: Option<(&ChronologyItem, NaiveDate)>,
                             until: Option<NaiveDate>,
                             horizon: &mut Horizon,
                             flags: &mut Vec<Flag>|
                 -> Result<(), CalendarError> {
                    if let Some((item, since)) = from {
                        let due = calendar.add_working_days(since, *working_days)?;
                        let passed = match until {
                            Some(until) => due < until,
                            None => horizon.passed(due),
                        };
                        if passed {
                            flags.push(rule.flag(vec![item.id], due + Duration::days(1), &[]));
                        }
                    }
                    Ok(())
                };
                for (item, details) in &known {
                    let day = item.day();
                    if last_seen.is_some() && state_end.matches_details(&item.entry, details) {
                        close(last_seen.take(), Some(day), horizon, &mut flags)?;
                    } else if last_seen.is_none()
                        && state_start.matches_details(&item.entry, details)
                    {
                        last_seen = Some((item, day));
                    } else if last_seen.is_some() && seen.matches_details(&item.entry, details) {
                        close(last_seen.take(), Some(day), horizon, &mut flags)?;
                        last_seen = Some((item, day));
                    }
                }
                close(last_seen, None, horizon, &mut flags)?;
            }
            Template::ChangingExplanation { window_days } => {
                let explained: Vec<(&ChronologyItem, String)> = known
                    .iter()
                    .filter_map(|(i, d)| {
                        d["explanation_given"].as_str().map(|e| (*i, normalise(e)))
                    })
                    .collect();
                for (n, (item, explanation)) in explained.iter().enumerate() {
                    let earlier = explained[..n].iter().find(|(e, other)| {
                        item.day() - e.day() <= Duration::days(*window_days) && other != explanation
                    });
                    if let Some((first, _)) = earlier {
                        flags.push(rule.flag(vec![first.id, item.id], item.known_on(), &[]));
                        break;
                    }
                }
            }
            Template::NotSeenFor {
                seen,
                known_from,
                known_until,
                working_days,
            } => {
                // From the first entry that makes the child known (a contact, a referral) until
                // one that closes the case: each stretch without any agency seeing the child
                // for longer than the limit is a concern, resting on the last sighting (or the
                // entry that made the child known) and the attempts that did not see them.
                let any = |ms: &[Matcher], item: &ChronologyItem, d: &serde_json::Value| {
                    ms.iter().any(|m| m.matches_details(&item.entry, d))
                };
                let mut open = false;
                let mut anchor: Option<&ChronologyItem> = None;
                let mut between: Vec<EntryId> = Vec::new();
                // Ended by a later entry on `until`, or still open today (`None`).
                let gap = |anchor: &ChronologyItem,
                           until: Option<NaiveDate>,
                           between: &[EntryId],
                           horizon: &mut Horizon,
                           flags: &mut Vec<Flag>|
                 -> Result<(), CalendarError> {
                    let due = calendar.add_working_days(anchor.day(), *working_days)?;
                    let passed = match until {
                        Some(until) => due < until,
                        None => horizon.passed(due),
                    };
                    if passed {
                        let mut entries = vec![anchor.id];
                        entries.extend_from_slice(between);
                        flags.push(rule.flag(entries, due + Duration::days(1), &[]));
                    }
                    Ok(())
                };
                for (item, details) in &known {
                    if open && any(known_until, item, details) {
                        if let Some(a) = anchor.take() {
                            gap(a, Some(item.day()), &between, horizon, &mut flags)?;
                        }
                        open = false;
                        between.clear();
                        continue;
                    }
                    if !open {
                        if any(known_from, item, details) {
                            open = true;
                            anchor = Some(item);
                        }
                        continue;
                    }
                    if any(seen, item, details) {
                        if let Some(a) = anchor {
                            gap(a, Some(item.day()), &between, horizon, &mut flags)?;
                        }
                        anchor = Some(item);
                        between.clear();
                    } else if item.entry.kind() != crate::EntryKind::CaseNote {
                        between.push(item.id);
                    }
                }
                if let Some(a) = anchor.filter(|_| open) {
                    gap(a, None, &between, horizon, &mut flags)?;
                }
            }
            Template::InHousehold { matcher } => {
                // What another agency's record of an adult around the child says about risk to
                // children is the child's concern too.
                for item in &household {
                    if subject_of(item).is_none()
                        && matcher.matches_details(&item.entry, &item.details)
                    {
                        flags.push(rule.flag(vec![item.id], item.known_on(), &[]));
                    }
                }
            }
            Template::AcrossSiblings {
                matches,
                min_count,
                min_children,
                window_days,
            } => {
                // The child's own entries and their siblings', in time order: a concern that
                // each child's record shows once is a pattern in the household.
                let mut hits: Vec<(&ChronologyItem, Option<PersonId>)> = known
                    .iter()
                    .map(|(i, d)| (*i, *d))
                    .chain(household.iter().map(|i| (*i, &*i.details)))
                    .filter(|(i, d)| matches.iter().any(|m| m.matches_details(&i.entry, d)))
                    .map(|(i, _)| (i, subject_of(i)))
                    .collect();
                hits.sort_by_key(|(i, _)| (i.entry.occurred_at.sort_key(), i.id));
                for (n, (hit, _)) in hits.iter().enumerate() {
                    let window: Vec<&(&ChronologyItem, Option<PersonId>)> = hits[..=n]
                        .iter()
                        .filter(|(h, _)| hit.day() - h.day() <= Duration::days(*window_days))
                        .collect();
                    let children: BTreeSet<PersonId> =
                        window.iter().filter_map(|(_, c)| *c).collect();
                    if window.len() >= *min_count && children.len() >= *min_children {
                        let knowable = window
                            .iter()
                            .map(|(i, _)| i.known_on())
                            .max()
                            .expect("not empty");
                        flags.push(rule.flag(
                            window.iter().map(|(i, _)| i.id).collect(),
                            knowable,
                            &[],
                        ));
                        break;
                    }
                }
            }
            Template::DecisionAfterConcerns {
                decision,
                concerns,
                min_concerns,
                window_days,
            } => {
                for (item, details) in &known {
                    if !decision.matches_details(&item.entry, details) {
                        continue;
                    }
                    let earlier: Vec<&ChronologyItem> = known
                        .iter()
                        .filter(|(c, cd)| {
                            c.id != item.id
                                && c.day() <= item.day()
                                && item.day() - c.day() <= Duration::days(*window_days)
                                && concerns.iter().any(|m| m.matches_details(&c.entry, cd))
                        })
                        .map(|(c, _)| *c)
                        .collect();
                    if earlier.len() >= *min_concerns {
                        let mut entries = vec![item.id];
                        entries.extend(earlier.iter().map(|c| c.id));
                        flags.push(rule.flag(entries, item.known_on(), &[]));
                    }
                }
            }
            Template::ClockDueSoon => {
                for run in runs(&mut clock_runs, horizon)? {
                    if run.status == ClockStatus::DueSoon {
                        let clock = clocks
                            .iter()
                            .find(|c| c.id == run.clock)
                            .expect("its own clock");
                        let warned_from =
                            calendar.sub_working_days(run.due, clock.due_soon_working_days)?;
                        let extra = [
                            ("clock", clock.name.clone()),
                            ("due", run.due.format("%-d %B %Y").to_string()),
                        ];
                        flags.push(
                            rule.flag(vec![run.started_by], warned_from.max(run.started), &extra)
                                .about(&run.clock),
                        );
                    }
                }
            }
            Template::ClockOverdue => {
                for run in runs(&mut clock_runs, horizon)? {
                    if matches!(run.status, ClockStatus::Overdue | ClockStatus::MetLate) {
                        let name = clocks
                            .iter()
                            .find(|c| c.id == run.clock)
                            .map_or(run.clock.clone(), |c| c.name.clone());
                        let mut entries = vec![run.started_by];
                        entries.extend(run.stopped.map(|(id, _)| id));
                        let due_passed = run.due + Duration::days(1);
                        flags.push(
                            rule.flag(entries, due_passed, &[("clock", name)])
                                .about(&run.clock),
                        );
                    }
                }
            }
        }
    }
    let mut flags = merge_identical(flags);
    for flag in &mut flags {
        if let Some(rule) = rules.iter().find(|r| r.id == flag.rule) {
            flag.parameters = rule.parameters.clone();
        }
    }
    Ok(flags)
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The child an entry is about: its first subject child's person.
fn subject_of(item: &ChronologyItem) -> Option<PersonId> {
    item.entry
        .persons
        .iter()
        .position(|p| p.role == crate::ParticipantRole::SubjectChild)
        .and_then(|i| item.person_ids.get(i).copied())
}

/// The person a participant local id stands for in an entry.
fn person_of(item: &ChronologyItem, local_id: &str) -> Option<PersonId> {
    item.entry
        .persons
        .iter()
        .position(|p| p.record.local_id == local_id)
        .and_then(|i| item.person_ids.get(i).copied())
}

/// Claims contradicted by what a professional observed: "does not live here" against an
/// observed or verified residence at the child's address; "is only a friend" against a stated
/// partnership; "never alone with the child" against an entry with the two and no parent.
fn contradictions(
    rule: &Rule,
    assertions: &[String],
    known: &[(&ChronologyItem, &serde_json::Value)],
    flags: &mut Vec<Flag>,
) {
    use crate::{ClaimAssertion, EntryDetails, EvidenceStrength, ParticipantRole};
    let child_addresses: BTreeSet<String> = known
        .iter()
        .flat_map(|(i, _)| {
            i.entry.residences.iter().filter(|r| {
                i.entry.persons.iter().any(|p| {
                    p.record.local_id == r.person && p.role == ParticipantRole::SubjectChild
                })
            })
        })
        .map(|r| r.address.key())
        .collect();
    for (claim_item, _) in known {
        let EntryDetails::Claim(claim) = &claim_item.entry.details else {
            continue;
        };
        let assertion = match &claim.assertion {
            ClaimAssertion::DoesNotLiveHere => "does_not_live_here",
            ClaimAssertion::IsOnlyAFriend => "is_only_a_friend",
            ClaimAssertion::NeverAloneWithChild => "never_alone_with_child",
            _ => continue,
        };
        if !assertions.iter().any(|a| a == assertion) {
            continue;
        }
        let Some(about) = person_of(claim_item, &claim.about) else {
            continue;
        };
        let contradicting = known.iter().find(|(item, _)| {
            let observed = |s: EvidenceStrength| s >= EvidenceStrength::Observed;
            match assertion {
                "does_not_live_here" => item.entry.residences.iter().any(|r| {
                    observed(r.strength)
                        && person_of(item, &r.person) == Some(about)
                        && child_addresses.contains(&r.address.key())
                }),
                "is_only_a_friend" => {
                    item.id != claim_item.id
                        && item.entry.relationships.iter().any(|r| {
                            r.kind == crate::household::RelationshipKind::Partner
                                && (person_of(item, &r.person) == Some(about)
                                    || person_of(item, &r.other) == Some(about))
                        })
                }
                _ => {
                    let has =
                        |role: ParticipantRole| item.entry.persons.iter().any(|p| p.role == role);
                    item.person_ids.contains(&about)
                        && has(ParticipantRole::SubjectChild)
                        && !has(ParticipantRole::Parent)
                        && !matches!(item.entry.details, EntryDetails::Claim(_))
                }
            }
        });
        if let Some((observation, _)) = contradicting {
            let knowable = claim_item.known_on().max(observation.known_on());
            flags.push(rule.flag(vec![claim_item.id, observation.id], knowable, &[]));
        }
    }
}

fn role_name(role: crate::ParticipantRole) -> &'static str {
    role.as_str()
}

/// Adults seen with the child (in `roles`) whom nobody checked within `working_days`: no
/// completed background check and no entry marking their identity verified. With
/// `only_given`, only adults whose identity an entry marked as given (a name they gave, not
/// checked): the "Mr H" of the reviews.
fn unverified_adults(
    rule: &Rule,
    roles: &[String],
    (working_days, only_given): (u32, bool),
    known: &[(&ChronologyItem, &serde_json::Value)],
    horizon: &mut Horizon,
    calendar: &Calendar,
    flags: &mut Vec<Flag>,
) -> Result<(), CalendarError> {
    let checks = adult_checks(known.iter().map(|(item, _)| *item), |p| {
        (!only_given || p.identity == Some(crate::IdentityEvidence::Given))
            && roles.iter().any(|r| r == role_name(p.role))
    });
    for (person, seen) in checks.first_seen {
        let due = calendar.add_working_days(seen.day(), working_days)?;
        let done_in_time = checks.checked.get(&person).is_some_and(|d| *d <= due);
        if !done_in_time && horizon.passed(due) {
            flags.push(
                rule.flag(vec![seen.id], due + Duration::days(1), &[])
                    .about(person),
            );
        }
    }
    Ok(())
}

/// Who was named in a chronology in the parts `counted`, first where, and when each person's
/// identity was first checked (identification seen, or a completed background check).
struct AdultChecks<'a> {
    first_seen: BTreeMap<PersonId, &'a ChronologyItem>,
    checked: BTreeMap<PersonId, NaiveDate>,
}

fn adult_checks<'a>(
    items: impl Iterator<Item = &'a ChronologyItem>,
    counted: impl Fn(&crate::Participant) -> bool,
) -> AdultChecks<'a> {
    use crate::{CheckStatus, EntryDetails};
    let mut checks = AdultChecks {
        first_seen: BTreeMap::new(),
        checked: BTreeMap::new(),
    };
    for item in items {
        for (p, person) in item.entry.persons.iter().zip(&item.person_ids) {
            if p.identity == Some(crate::IdentityEvidence::Verified) {
                checks.checked.entry(*person).or_insert(item.day());
            }
            if counted(p) {
                checks.first_seen.entry(*person).or_insert(item);
            }
        }
        if let EntryDetails::BackgroundCheck(check) = &item.entry.details
            && check.status == CheckStatus::Completed
            && let Some(subject) = person_of(item, &check.subject)
        {
            checks.checked.entry(subject).or_insert(item.day());
        }
    }
    checks
}

/// The adults around a child (parents, carers, other adults present) whose identity no entry
/// has checked: neither identification seen nor a completed background check. Each with the
/// entry that first named them.
pub fn adults_not_checked(child: &Child) -> Vec<(PersonId, EntryId)> {
    let checks = adult_checks(child.chronology.iter(), |p| p.role.is_household_adult());
    checks
        .first_seen
        .into_iter()
        .filter(|(person, _)| !checks.checked.contains_key(person))
        .map(|(person, item)| (person, item.id))
        .collect()
}

/// An adult with no stated family relationship to the child appearing with a child who has
/// one parent on record.
fn new_unrelated_adults(
    rule: &Rule,
    roles: &[String],
    child: &Child,
    known: &[(&ChronologyItem, &serde_json::Value)],
    flags: &mut Vec<Flag>,
) {
    use crate::household::RelationshipKind::{Father, Grandparent, Mother, Sibling, StepParent};
    let mut parents: BTreeSet<PersonId> = BTreeSet::new();
    let mut family: BTreeSet<PersonId> = BTreeSet::new();
    let mut flagged: BTreeSet<PersonId> = BTreeSet::new();
    for (item, _) in known {
        for r in &item.entry.relationships {
            let (Some(a), Some(b)) = (person_of(item, &r.person), person_of(item, &r.other)) else {
                continue;
            };
            if b == child.person
                && matches!(r.kind, Mother | Father | StepParent | Grandparent | Sibling)
            {
                family.insert(a);
                if matches!(r.kind, Mother | Father) {
                    parents.insert(a);
                }
            }
        }
        if parents.len() != 1 {
            continue;
        }
        for (p, person) in item.entry.persons.iter().zip(&item.person_ids) {
            if roles.iter().any(|r| r == role_name(p.role))
                && !family.contains(person)
                && flagged.insert(*person)
            {
                flags.push(
                    rule.flag(vec![item.id], item.known_on(), &[])
                        .about(*person),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clocks::{DEFAULT_CLOCKS, parse_clocks};
    use crate::*;

    fn item(n: u128, day: &str, agency: &str, details: EntryDetails) -> ChronologyItem {
        let occurred_at = OccurredAt::parse(day).unwrap();
        ChronologyItem::new(
            EntryId(uuid::Uuid::from_u128(n)),
            std::sync::Arc::new(Entry {
                agency: AgencyId::parse(agency).unwrap(),
                source: SourceRef {
                    system: "s".into(),
                    id: n.to_string(),
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
            }),
            vec![PersonId(uuid::Uuid::from_u128(1))],
        )
    }

    fn injury() -> EntryDetails {
        EntryDetails::InjuryObserved(InjuryObserved {
            body_site: "face".into(),
            injury_type: InjuryType::Bruise,
            count: None,
            explanation_given: None,
            medical_opinion: None,
        })
    }

    fn missed() -> EntryDetails {
        EntryDetails::GpAppointment(GpAppointment {
            attended: false,
            reason: None,
        })
    }

    fn child(dob: Option<&str>, chronology: Vec<ChronologyItem>) -> Child {
        Child {
            person: PersonId(uuid::Uuid::from_u128(1)),
            date_of_birth: dob.map(|d| PartialDate::parse(d).unwrap()),
            chronology,
            household: Vec::new(),
        }
    }

    fn flags_of(rule: &str, c: &Child, as_of: &str) -> Vec<Flag> {
        let rules = parse_rules(DEFAULT_RULES).unwrap();
        let clocks = parse_clocks(DEFAULT_CLOCKS).unwrap();
        let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
        evaluate(
            &rules,
            &clocks,
            c,
            as_of,
            &Calendar::england_and_wales(),
            &mut Horizon::new(as_of),
        )
        .unwrap()
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_misspelt_field_or_value_in_a_rule_names_the_rule_and_the_field() {
        for (right, wrong, rule) in [
            (
                "attended = false",
                "atended = false",
                "missed_health_appointments",
            ),
            (
                "medical_opinion = \"inconsistent\"",
                "medical_opinion = \"inconsistant\"",
                "explanation_inconsistent",
            ),
            (
                "\"no_answer\"",
                "\"no_anwser\"",
                "repeated_no_access_visits",
            ),
        ] {
            let bad = DEFAULT_RULES.replacen(right, wrong, 1);
            assert_ne!(bad, DEFAULT_RULES, "{right} is in the shipped rules");
            match parse_rules(&bad) {
                Err(RulesError::Field { rule: r, field, .. }) => {
                    assert_eq!(r, rule);
                    assert!(field.starts_with("params.match."), "{field}");
                }
                other => panic!("{wrong}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_shipped_rules_load() {
        let rules = parse_rules(DEFAULT_RULES).unwrap();
        assert!(rules.len() >= 7);
        assert!(
            rules
                .iter()
                .all(|r| !r.source.is_empty() && !r.sentence.is_empty())
        );
    }

    #[test]
    fn count_in_window_fires_at_the_threshold_inside_the_window_only() {
        let two_in_90 = child(
            None,
            vec![
                item(1, "2007-01-01", "gp", injury()),
                item(2, "2007-04-01", "hospital", injury()),
            ],
        );
        let f = flags_of("repeated_injuries", &two_in_90, "2007-12-31");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].first_knowable, day("2007-04-01"));
        assert_eq!(
            f[0].sentence,
            "2 or more injuries were recorded within 90 days."
        );
        assert_eq!(f[0].parameters["min_count"], 2, "the rule's parameters");
        assert_eq!(f[0].parameters["window_days"], 90);
        // 1 January to 2 April is 91 days: outside the window.
        let apart = child(
            None,
            vec![
                item(1, "2007-01-01", "gp", injury()),
                item(2, "2007-04-02", "hospital", injury()),
            ],
        );
        assert!(flags_of("repeated_injuries", &apart, "2007-12-31").is_empty());
        assert!(
            flags_of("repeated_injuries", &two_in_90, "2007-03-31").is_empty(),
            "not yet knowable"
        );
    }

    #[test]
    fn count_in_window_reads_detail_fields() {
        let attended = EntryDetails::GpAppointment(GpAppointment {
            attended: true,
            reason: None,
        });
        let c = child(
            None,
            vec![
                item(1, "2007-01-01", "gp", missed()),
                item(2, "2007-02-01", "gp", attended),
                item(3, "2007-03-01", "gp", missed()),
            ],
        );
        let f = flags_of("missed_health_appointments", &c, "2007-12-31");
        assert_eq!(
            f[0].entries,
            vec![
                EntryId(uuid::Uuid::from_u128(1)),
                EntryId(uuid::Uuid::from_u128(3))
            ]
        );
    }

    #[test]
    fn entry_while_in_state_fires_only_between_start_and_end() {
        let plan = |n, d| {
            item(
                n,
                d,
                "social-care",
                EntryDetails::PlanStart(PlanStart {
                    category: AbuseCategory::Neglect,
                    previous_plans: None,
                }),
            )
        };
        let end = |n, d| {
            item(
                n,
                d,
                "social-care",
                EntryDetails::PlanEnd(PlanEnd { reason: None }),
            )
        };
        let c = child(
            None,
            vec![
                item(1, "2007-01-01", "gp", injury()),
                plan(2, "2007-01-22"),
                item(3, "2007-04-09", "hospital", injury()),
                end(4, "2007-05-01"),
                item(5, "2007-06-01", "gp", injury()),
            ],
        );
        let f = flags_of("injury_while_on_plan", &c, "2007-12-31");
        assert_eq!(f.len(), 1);
        assert!(!c.on_plan(), "the plan ended on 1 May");
        let mut on = c.clone();
        on.chronology
            .retain(|i| i.entry.kind() != crate::EntryKind::PlanEnd);
        assert!(on.on_plan());
        on.chronology
            .retain(|i| i.entry.kind() != crate::EntryKind::PlanStart);
        assert!(!on.on_plan(), "never on a plan");
        assert_eq!(
            f[0].entries,
            vec![
                EntryId(uuid::Uuid::from_u128(3)),
                EntryId(uuid::Uuid::from_u128(2))
            ]
        );
        assert_eq!(f[0].first_knowable, day("2007-04-09"));
    }

    #[test]
    fn a_young_babys_injury_is_flagged_until_six_months_and_not_after() {
        let c = child(
            Some("2006-06-14"),
            vec![
                item(1, "2006-12-13", "gp", injury()),
                item(2, "2006-12-14", "gp", injury()),
            ],
        );
        let f = flags_of("injury_to_non_mobile_baby", &c, "2007-12-31");
        assert_eq!(
            f.len(),
            1,
            "13 December is before six months; 14 December is not"
        );
        assert_eq!(f[0].entries, vec![EntryId(uuid::Uuid::from_u128(1))]);
        assert_eq!(
            f[0].sentence,
            "An injury was seen on a baby under 6 months old, not yet mobile: any bruise is a sentinel injury.",
            "the rule's parameter in its place"
        );
        let unknown_day = child(Some("2006-06"), vec![item(2, "2006-12-20", "gp", injury())]);
        assert_eq!(
            flags_of("injury_to_non_mobile_baby", &unknown_day, "2007-12-31").len(),
            1,
            "born as late as 30 June"
        );
        assert!(
            flags_of(
                "injury_to_non_mobile_baby",
                &child(None, c.chronology.clone()),
                "2007-12-31"
            )
            .is_empty()
        );
    }

    #[test]
    fn a_legal_meeting_needs_its_medical_report_and_a_qualified_lawyer() {
        let meeting = |evidence: Vec<EvidenceKind>, seniority| {
            EntryDetails::LegalPlanningMeeting(LegalPlanningMeeting {
                stage: MeetingStage::Held,
                attendees: vec![Attendee {
                    role: "lawyer".into(),
                    seniority,
                }],
                evidence_present: evidence,
                threshold_met: None,
            })
        };
        let flagged = |d| {
            !flags_of(
                "legal_meeting_without_evidence",
                &child(None, vec![item(1, "2007-07-25", "legal", d)]),
                "2007-12-31",
            )
            .is_empty()
        };
        assert!(
            flagged(meeting(vec![EvidenceKind::Assessment], Seniority::Senior)),
            "no medical report"
        );
        assert!(
            flagged(meeting(
                vec![EvidenceKind::MedicalReport],
                Seniority::Junior
            )),
            "a junior lawyer"
        );
        assert!(!flagged(meeting(
            vec![EvidenceKind::MedicalReport],
            Seniority::Qualified
        )));
    }

    #[test]
    fn many_contacts_across_agencies_without_escalation_are_flagged_and_escalation_resets() {
        let attendance = || {
            EntryDetails::HospitalAttendance(HospitalAttendance {
                department: "emergency".into(),
                presenting_complaint: None,
            })
        };
        let contacts = vec![
            item(1, "2007-01-01", "hospital", attendance()),
            item(2, "2007-01-10", "gp", injury()),
            item(3, "2007-01-20", "hospital", attendance()),
            item(
                4,
                "2007-02-01",
                "police",
                EntryDetails::PoliceCallOut(PoliceCallOut::default()),
            ),
        ];
        let f = flags_of(
            "many_contacts_no_escalation",
            &child(None, contacts.clone()),
            "2007-12-31",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].first_knowable, day("2007-02-01"));
        let mut escalated = contacts;
        escalated.insert(
            2,
            item(
                9,
                "2007-01-15",
                "social-care",
                EntryDetails::StrategyDiscussion(StrategyDiscussion {
                    section47_decided: true,
                    agencies_present: vec![],
                }),
            ),
        );
        assert!(
            flags_of(
                "many_contacts_no_escalation",
                &child(None, escalated),
                "2007-12-31"
            )
            .is_empty()
        );
    }

    #[test]
    fn a_timescale_is_due_soon_from_three_working_days_before_it_is_due() {
        let c = child(
            None,
            vec![item(
                1,
                "2007-01-02",
                "social-care",
                EntryDetails::StrategyDiscussion(StrategyDiscussion {
                    section47_decided: true,
                    agencies_present: vec![],
                }),
            )],
        );
        // Due 23 January 2007; three working days before is 18 January.
        assert!(flags_of("statutory_timescale_due_soon", &c, "2007-01-17").is_empty());
        let f = flags_of("statutory_timescale_due_soon", &c, "2007-01-18");
        let icpc = f
            .iter()
            .find(|f| f.sentence.contains("Initial child protection conference"))
            .expect("due soon");
        assert_eq!(icpc.first_knowable, day("2007-01-18"));
        assert!(
            icpc.sentence.contains("23 January 2007"),
            "{}",
            icpc.sentence
        );
        assert_eq!(
            flags_of("statutory_timescale_due_soon", &c, "2007-01-23")
                .first()
                .map(|f| f.first_knowable),
            Some(day("2007-01-18")),
            "stable while due soon"
        );
        assert!(
            flags_of("statutory_timescale_due_soon", &c, "2007-01-24")
                .iter()
                .all(|f| !f.sentence.contains("Initial")),
            "overdue instead"
        );
    }

    #[test]
    fn a_missed_timescale_is_flagged_the_day_after_it_was_due() {
        let c = child(
            None,
            vec![item(
                1,
                "2007-01-02",
                "social-care",
                EntryDetails::StrategyDiscussion(StrategyDiscussion {
                    section47_decided: true,
                    agencies_present: vec![],
                }),
            )],
        );
        assert!(
            flags_of("statutory_timescale_missed", &c, "2007-01-23")
                .iter()
                .all(|f| !f.sentence.contains("Initial child protection conference"))
        );
        let f = flags_of("statutory_timescale_missed", &c, "2007-01-24");
        let icpc = f
            .iter()
            .find(|f| f.sentence.contains("Initial child protection conference"))
            .expect("overdue");
        assert_eq!(icpc.first_knowable, day("2007-01-24"));
    }

    /// An entry naming the child (person 1, local id `c`) and others: (role, local id, person).
    fn with_people(
        n: u128,
        day: &str,
        details: EntryDetails,
        people: &[(ParticipantRole, &str, u128)],
    ) -> ChronologyItem {
        let mut i = item(n, day, "social-care", details);
        for (role, local_id, person) in people {
            std::sync::Arc::make_mut(&mut i.entry)
                .persons
                .push(Participant {
                    role: *role,
                    record: PersonRecord::named(local_id, PersonName::new("Someone", "Else")),
                    identity: None,
                });
            i.person_ids.push(PersonId(uuid::Uuid::from_u128(*person)));
        }
        i
    }

    const MOTHER: u128 = 2;
    const PARTNER: u128 = 3;

    fn claim(n: u128, day: &str, assertion: ClaimAssertion) -> ChronologyItem {
        with_people(
            n,
            day,
            EntryDetails::Claim(Claim {
                claimant: "m".into(),
                about: "h".into(),
                assertion,
            }),
            &[
                (ParticipantRole::Parent, "m", MOTHER),
                (ParticipantRole::OtherAdultPresent, "h", PARTNER),
            ],
        )
    }

    fn home() -> Address {
        Address {
            lines: vec!["14 Ashdown Road".into()],
            postcode: Some(Postcode::parse("NB4 7QX").unwrap()),
        }
    }

    fn lives(person: &str, strength: EvidenceStrength) -> ResidenceStatement {
        ResidenceStatement {
            person: person.into(),
            address: home(),
            from: None,
            to: None,
            strength,
        }
    }

    fn note() -> EntryDetails {
        EntryDetails::CaseNote(CaseNote {})
    }

    #[test]
    fn a_claim_is_contradicted_by_an_observation_of_the_same_person_not_by_another_claim() {
        let mut registration = with_people(
            1,
            "2007-01-01",
            note(),
            &[(ParticipantRole::Parent, "m", MOTHER)],
        );
        std::sync::Arc::make_mut(&mut registration.entry)
            .residences
            .push(lives("c", EvidenceStrength::Verified));
        let mut seen_there = with_people(
            3,
            "2007-03-25",
            note(),
            &[(ParticipantRole::OtherAdultPresent, "h", PARTNER)],
        );
        std::sync::Arc::make_mut(&mut seen_there.entry)
            .residences
            .push(lives("h", EvidenceStrength::Observed));
        let c = child(
            None,
            vec![
                registration.clone(),
                claim(2, "2007-01-05", ClaimAssertion::DoesNotLiveHere),
                seen_there.clone(),
            ],
        );
        let f = flags_of("claim_contradicted", &c, "2007-12-31");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].first_knowable, day("2007-03-25"));

        let mut only_claimed = seen_there.clone();
        std::sync::Arc::make_mut(&mut only_claimed.entry).residences[0].strength =
            EvidenceStrength::Claimed;
        let c = child(
            None,
            vec![
                registration.clone(),
                claim(2, "2007-01-05", ClaimAssertion::DoesNotLiveHere),
                only_claimed,
            ],
        );
        assert!(
            flags_of("claim_contradicted", &c, "2007-12-31").is_empty(),
            "a claim does not contradict a claim"
        );

        let mut someone_else = seen_there;
        someone_else.person_ids[1] = PersonId(uuid::Uuid::from_u128(9));
        let c = child(
            None,
            vec![
                registration,
                claim(2, "2007-01-05", ClaimAssertion::DoesNotLiveHere),
                someone_else,
            ],
        );
        assert!(
            flags_of("claim_contradicted", &c, "2007-12-31").is_empty(),
            "another adult living there is not him"
        );
    }

    #[test]
    fn only_a_friend_is_contradicted_by_a_stated_partnership() {
        let mut hospital = with_people(
            3,
            "2007-04-09",
            note(),
            &[
                (ParticipantRole::Parent, "m", MOTHER),
                (ParticipantRole::OtherAdultPresent, "h", PARTNER),
            ],
        );
        std::sync::Arc::make_mut(&mut hospital.entry)
            .relationships
            .push(RelationshipStatement {
                person: "h".into(),
                kind: household::RelationshipKind::Partner,
                other: "m".into(),
                from: None,
                to: None,
                strength: EvidenceStrength::Claimed,
            });
        let c = child(
            None,
            vec![
                claim(2, "2007-01-05", ClaimAssertion::IsOnlyAFriend),
                hospital,
            ],
        );
        assert_eq!(
            flags_of("claim_contradicted", &c, "2007-12-31")[0].first_knowable,
            day("2007-04-09")
        );
    }

    #[test]
    fn an_adult_seen_with_the_child_needs_a_background_check_within_ten_working_days() {
        let seen = with_people(
            1,
            "2007-04-09",
            note(),
            &[(ParticipantRole::OtherAdultPresent, "h", PARTNER)],
        );
        let c = child(None, vec![seen.clone()]);
        // 9 April 2007 + 10 working days = 23 April.
        assert!(flags_of("unverified_adult", &c, "2007-04-23").is_empty());
        let f = flags_of("unverified_adult", &c, "2007-04-24");
        assert_eq!(f[0].first_knowable, day("2007-04-24"));
        let check = with_people(
            2,
            "2007-04-20",
            EntryDetails::BackgroundCheck(BackgroundCheck {
                subject: "h".into(),
                status: CheckStatus::Completed,
                result: None,
            }),
            &[(ParticipantRole::OtherAdultPresent, "h", PARTNER)],
        );
        assert!(
            flags_of(
                "unverified_adult",
                &child(None, vec![seen, check]),
                "2007-12-31"
            )
            .is_empty()
        );
    }

    #[test]
    fn adults_not_checked_are_those_with_neither_identification_nor_a_check() {
        let seen = with_people(
            1,
            "2007-04-09",
            note(),
            &[
                (ParticipantRole::OtherAdultPresent, "h", PARTNER),
                (ParticipantRole::Parent, "m", MOTHER),
                (ParticipantRole::Professional, "sw", 9),
            ],
        );
        let c = child(None, vec![seen.clone()]);
        let unchecked: Vec<PersonId> = adults_not_checked(&c).into_iter().map(|(p, _)| p).collect();
        let person = |n: u128| PersonId(uuid::Uuid::from_u128(n));
        assert_eq!(
            unchecked,
            vec![person(MOTHER), person(PARTNER)],
            "not the professional"
        );
        let mut shown_id = with_people(
            2,
            "2007-04-10",
            note(),
            &[(ParticipantRole::Parent, "m", MOTHER)],
        );
        std::sync::Arc::make_mut(&mut shown_id.entry).persons[1].identity =
            Some(crate::IdentityEvidence::Verified);
        let check = with_people(
            3,
            "2007-04-20",
            EntryDetails::BackgroundCheck(BackgroundCheck {
                subject: "h".into(),
                status: CheckStatus::Completed,
                result: None,
            }),
            &[(ParticipantRole::OtherAdultPresent, "h", PARTNER)],
        );
        assert_eq!(
            adults_not_checked(&child(None, vec![seen.clone(), shown_id.clone()])),
            vec![(person(PARTNER), seen.id)]
        );
        assert!(adults_not_checked(&child(None, vec![seen, shown_id, check])).is_empty());
    }

    #[test]
    fn an_unrelated_adult_in_a_single_parent_household_is_flagged_once() {
        let mut family = with_people(
            1,
            "2007-01-01",
            note(),
            &[(ParticipantRole::Parent, "m", MOTHER)],
        );
        std::sync::Arc::make_mut(&mut family.entry)
            .relationships
            .push(RelationshipStatement {
                person: "m".into(),
                kind: household::RelationshipKind::Mother,
                other: "c".into(),
                from: None,
                to: None,
                strength: EvidenceStrength::Verified,
            });
        let visit = |n, d| {
            with_people(
                n,
                d,
                note(),
                &[(ParticipantRole::OtherAdultPresent, "h", PARTNER)],
            )
        };
        let c = child(
            None,
            vec![
                family.clone(),
                visit(2, "2007-03-01"),
                visit(3, "2007-06-04"),
            ],
        );
        let f = flags_of("new_unrelated_adult", &c, "2007-12-31");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].first_knowable, day("2007-03-01"));
        let mut two_parents = family;
        std::sync::Arc::make_mut(&mut two_parents.entry)
            .persons
            .push(Participant {
                role: ParticipantRole::Parent,
                record: PersonRecord::named("f", PersonName::new("A", "B")),
                identity: None,
            });
        two_parents
            .person_ids
            .push(PersonId(uuid::Uuid::from_u128(7)));
        std::sync::Arc::make_mut(&mut two_parents.entry)
            .relationships
            .push(RelationshipStatement {
                person: "f".into(),
                kind: household::RelationshipKind::Father,
                other: "c".into(),
                from: None,
                to: None,
                strength: EvidenceStrength::Verified,
            });
        assert!(
            flags_of(
                "new_unrelated_adult",
                &child(None, vec![two_parents, visit(2, "2007-03-01")]),
                "2007-12-31"
            )
            .is_empty()
        );
    }

    #[test]
    fn a_child_on_a_plan_not_seen_alone_for_twenty_working_days_is_flagged() {
        let plan = item(
            1,
            "2007-01-22",
            "social-care",
            EntryDetails::PlanStart(PlanStart {
                category: AbuseCategory::Multiple,
                previous_plans: None,
            }),
        );
        let alone = |n, d| {
            item(
                n,
                d,
                "social-care",
                EntryDetails::HomeVisit(HomeVisit {
                    child_seen: true,
                    child_seen_alone: true,
                    announced: None,
                    outcome: None,
                }),
            )
        };
        let not_alone = |n, d| {
            item(
                n,
                d,
                "social-care",
                EntryDetails::HomeVisit(HomeVisit {
                    child_seen: true,
                    child_seen_alone: false,
                    announced: None,
                    outcome: None,
                }),
            )
        };
        // 22 January + 20 working days = 19 February.
        let seen_in_time = child(None, vec![plan.clone(), alone(2, "2007-02-19")]);
        assert!(flags_of("not_seen_alone_on_plan", &seen_in_time, "2007-03-01").is_empty());
        let f = flags_of(
            "not_seen_alone_on_plan",
            &child(None, vec![plan.clone(), not_alone(2, "2007-02-19")]),
            "2007-03-01",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].first_knowable, day("2007-02-20"));
        assert!(
            flags_of(
                "not_seen_alone_on_plan",
                &child(None, vec![plan]),
                "2007-02-19"
            )
            .is_empty(),
            "not yet due"
        );
    }

    #[test]
    fn explanations_that_change_or_that_a_clinician_doubts_are_flagged() {
        let explained = |n, d, e: &str, opinion| {
            item(
                n,
                d,
                "hospital",
                EntryDetails::InjuryObserved(InjuryObserved {
                    body_site: "face".into(),
                    injury_type: InjuryType::Bruise,
                    count: None,
                    explanation_given: Some(e.into()),
                    medical_opinion: opinion,
                }),
            )
        };
        let same = child(
            None,
            vec![
                explained(1, "2007-04-09", "Fell  over", None),
                explained(2, "2007-04-10", "fell over", None),
            ],
        );
        assert!(flags_of("explanation_changed", &same, "2007-12-31").is_empty());
        let changed = child(
            None,
            vec![
                explained(1, "2007-04-09", "scratched by a dog", None),
                explained(2, "2007-04-09", "pushed over", None),
            ],
        );
        assert_eq!(
            flags_of("explanation_changed", &changed, "2007-12-31").len(),
            1
        );
        let doubted = child(
            None,
            vec![explained(
                1,
                "2006-12-11",
                "fell from the sofa",
                Some(MedicalOpinion::Inconsistent),
            )],
        );
        assert_eq!(
            flags_of("explanation_inconsistent", &doubted, "2007-12-31").len(),
            1
        );
    }

    #[test]
    fn a_rules_file_with_a_mistake_names_the_rule_and_field() {
        let cases = [
            (
                DEFAULT_RULES.replacen("window_days = 90", "window_days = 0", 1),
                "repeated_injuries",
                "params.window_days",
            ),
            (
                DEFAULT_RULES.replacen(
                    "min_count = 2, window_days = 90",
                    "min_count = 2, window_days = 90, windw = 3",
                    1,
                ),
                "repeated_injuries",
                "params.windw",
            ),
            (
                DEFAULT_RULES.replacen(
                    "template = \"count_in_window\"",
                    "template = \"count_in_windw\"",
                    1,
                ),
                "repeated_injuries",
                "template",
            ),
            (
                DEFAULT_RULES.replacen("kind = \"plan_start\"", "kind = \"plan_begins\"", 1),
                "injury_while_on_plan",
                "params.state_start.kind",
            ),
            (
                DEFAULT_RULES.replacen(
                    "min_seniority = \"qualified\"",
                    "min_seniority = \"expert\"",
                    1,
                ),
                "legal_meeting_without_evidence",
                "params.required_attendee",
            ),
        ];
        for (text, rule, field) in cases {
            match parse_rules(&text) {
                Err(RulesError::Field {
                    rule: r, field: f, ..
                }) => assert_eq!((r.as_str(), f.as_str()), (rule, field)),
                other => panic!("{rule}/{field}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_rules("[[rule]]\nid = 3"),
            Err(RulesError::Syntax(_))
        ));
    }
}
