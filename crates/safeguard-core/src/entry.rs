//! Entries: everything an agency records about a child (a contact, a visit, an injury, a
//! meeting, a decision), with its provenance. Entries are immutable; a correction is a new entry
//! that supersedes the old one.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::household::{EvidenceStrength, RelationshipKind};
use crate::process::{
    AdultServiceRecord, AntenatalCare, Assessment, Birth, CaseClosure, ChildInNeedPlan, CoreGroup,
    CourtDecision, EducationStatus, FailedContactAttempt, MissingEpisode, ReferralDecision,
    SeriousIncident, WasNotBrought,
};
use crate::{Address, AgencyId, FieldError, OccurredAt, PersonRecord};

/// Where an entry came from: the sending system and its identifier for the entry. With the
/// agency, this identifies the entry: re-sending it changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceRef {
    /// The agency's system (`niche`, `emis`, `liquidlogic`).
    pub system: String,
    /// That system's identifier for the entry.
    pub id: String,
}

/// Who recorded the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Author {
    /// The professional's name.
    pub name: String,
    /// Their role (`Social worker`, `Health visitor`, `Detective constable`).
    pub role: String,
}

/// The part a person plays in an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ParticipantRole {
    /// The child the entry is about.
    SubjectChild,
    /// Another child involved (a sibling, say).
    OtherChild,
    /// A parent.
    Parent,
    /// A carer who is not a parent.
    Carer,
    /// Another adult present or involved (a partner, a visitor, a relative).
    OtherAdultPresent,
    /// A professional (a clinician, an officer) named in the entry.
    Professional,
    /// The person who reported the concern.
    Reporter,
    /// The adult an agency's record is about (probation, adult services, housing), with what
    /// it says about risk to children.
    SubjectAdult,
}

impl ParticipantRole {
    /// A parent, a carer or another adult present: the adults around a child whose identity
    /// matters to the child's safety (not the professionals or the reporter).
    pub fn is_household_adult(self) -> bool {
        matches!(
            self,
            ParticipantRole::Parent | ParticipantRole::Carer | ParticipantRole::OtherAdultPresent
        )
    }

    /// The stored name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantRole::SubjectChild => "subject_child",
            ParticipantRole::OtherChild => "other_child",
            ParticipantRole::Parent => "parent",
            ParticipantRole::Carer => "carer",
            ParticipantRole::OtherAdultPresent => "other_adult_present",
            ParticipantRole::Professional => "professional",
            ParticipantRole::Reporter => "reporter",
            ParticipantRole::SubjectAdult => "subject_adult",
        }
    }
}

/// A person named in an entry, with the agency's record of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participant {
    /// Their part in the entry.
    pub role: ParticipantRole,
    /// The agency's record of them.
    pub record: PersonRecord,
    /// How the professional knows who they are: the name they gave, or checked (seen
    /// identification, a police check). Absent when not said.
    #[serde(default)]
    pub identity: Option<IdentityEvidence>,
}

/// How a person's identity is established in an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdentityEvidence {
    /// Given by them or another: a name, nothing checked.
    Given,
    /// Checked: identification seen, or confirmed by a check.
    Verified,
}

/// A statement, carried by an entry, that someone lived at an address over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidenceStatement {
    /// `local_id` of a participant of this entry.
    pub person: String,
    /// The address.
    pub address: Address,
    /// First day known; when absent, the day the entry occurred.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last day known; absent while it holds.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// How well it is known.
    pub strength: EvidenceStrength,
}

/// A statement, carried by an entry, that one person stands in a relationship to another:
/// `person` is the `kind` of `other` (the mother of, the partner of).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelationshipStatement {
    /// `local_id` of a participant of this entry.
    pub person: String,
    /// The relationship `person` has to `other`.
    pub kind: RelationshipKind,
    /// `local_id` of another participant of this entry.
    pub other: String,
    /// First day known; when absent, the day the entry occurred.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last day known; absent while it holds.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// How well it is known.
    pub strength: EvidenceStrength,
}

/// One agency's record of one event, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entry {
    /// The recording agency.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "north-police"))]
    pub agency: AgencyId,
    /// The sending system and its identifier for this entry.
    pub source: SourceRef,
    /// Who recorded it.
    pub author: Author,
    /// When it happened, in UK local time, to the precision known.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2006-12-11T14:30"))]
    pub occurred_at: OccurredAt,
    /// When the agency recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The people named, each with their part.
    pub persons: Vec<Participant>,
    /// What happened, in the author's words.
    pub summary: String,
    /// The typed content of the entry.
    pub details: EntryDetails,
    /// Residences this entry states.
    #[serde(default)]
    pub residences: Vec<ResidenceStatement>,
    /// Relationships this entry states.
    #[serde(default)]
    pub relationships: Vec<RelationshipStatement>,
    /// The source id (same agency and system) of an entry this one corrects.
    #[serde(default)]
    pub supersedes: Option<String>,
}

/// How far after it was recorded an event may be said to happen (a meeting booked for tomorrow
/// is recorded today; anything later is a plan, not an entry).
const MAX_DAYS_RECORDED_BEFORE_OCCURRING: i64 = 1;

/// The most people one entry may name: a household and the professionals present, with room
/// to spare. (Matching each new record against the others of its entry costs more than
/// linearly in their number; the limit keeps one request from holding the writer.)
pub const MAX_PERSONS_PER_ENTRY: usize = 50;
/// The most residences or relationships one entry may state.
pub const MAX_STATEMENTS_PER_ENTRY: usize = 200;
/// The most entries one batch may hold.
pub const MAX_ENTRIES_PER_BATCH: usize = 200;
/// The most people a whole batch may name.
pub const MAX_PERSONS_PER_BATCH: usize = 500;
/// The longest text anywhere in an entry (a summary, an explanation), in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The longest name part, identifier or address line, in characters.
pub const MAX_LINE_CHARS: usize = 200;
/// How far ahead of Safeguard's clock an agency's `recorded_at` may be (clock skew).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 5 * 60;
/// How far ahead an expected date of birth may be, in days (a pregnancy and some).
pub const MAX_DAYS_EXPECTED_AHEAD: i64 = 300;

/// The earliest date any entry may speak of.
fn earliest_plausible() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date")
}

impl Entry {
    /// Reads one entry from its JSON, as the API, the recording form and every import take
    /// it, naming the first bad field: its shape, then its own consistency, then whether it
    /// is plausible at `now`.
    pub fn from_json(item: serde_json::Value, now: DateTime<Utc>) -> Result<Entry, FieldError> {
        let details = item.get("details").cloned();
        serde_path_to_error::deserialize::<_, Entry>(item)
            .map_err(field_error)
            .map_err(|e| match (&details, e.field.as_str()) {
                // Within the typed details, name the field itself.
                (Some(d), "details") => EntryDetails::locate_error(d)
                    .map(|inner| inner.within("details"))
                    .unwrap_or(e),
                _ => e,
            })
            .and_then(|e| {
                e.validate()
                    .and_then(|()| e.check_plausible(now))
                    .map(|()| e)
            })
    }

    /// Checks what depends on the time now and bounds every size, naming the field: nothing
    /// recorded in the future (beyond a few minutes' clock skew) or before 1900, no birth after
    /// today, no expected birth more than 300 days ahead, at most 50 people, no text longer
    /// than the limits, and no character that hides or reorders what people read.
    pub fn check_plausible(&self, now: DateTime<Utc>) -> Result<(), FieldError> {
        let today = now.date_naive();
        let earliest = earliest_plausible();
        if self.recorded_at > now + chrono::Duration::seconds(MAX_CLOCK_SKEW_SECONDS) {
            return Err(FieldError::new(
                "recorded_at",
                "is in the future: an entry is recorded when it is sent, or before",
            ));
        }
        if self.recorded_at.date_naive() < earliest {
            return Err(FieldError::new("recorded_at", "is before 1900"));
        }
        if self.occurred_at.date() < earliest {
            return Err(FieldError::new("occurred_at", "is before 1900"));
        }
        if self.persons.len() > MAX_PERSONS_PER_ENTRY {
            return Err(FieldError::new(
                "persons",
                format!(
                    "names {} people; an entry names at most {MAX_PERSONS_PER_ENTRY}",
                    self.persons.len()
                ),
            ));
        }
        for (field, n) in [
            ("residences", self.residences.len()),
            ("relationships", self.relationships.len()),
        ] {
            if n > MAX_STATEMENTS_PER_ENTRY {
                return Err(FieldError::new(
                    field,
                    format!("holds {n}; an entry states at most {MAX_STATEMENTS_PER_ENTRY}"),
                ));
            }
        }
        let line = |field: String, text: &str| -> Result<(), FieldError> {
            if text.chars().count() > MAX_LINE_CHARS {
                return Err(FieldError::new(
                    field,
                    format!("is longer than {MAX_LINE_CHARS} characters"),
                ));
            }
            crate::text::check_line(&field, text)
        };
        line("source.system".into(), &self.source.system)?;
        line("source.id".into(), &self.source.id)?;
        line("author.name".into(), &self.author.name)?;
        line("author.role".into(), &self.author.role)?;
        for (i, p) in self.persons.iter().enumerate() {
            let field = format!("persons[{i}].record");
            let r = &p.record;
            line(format!("{field}.local_id"), &r.local_id)?;
            for (n, name) in std::iter::once(&r.name).chain(&r.other_names).enumerate() {
                let at = if n == 0 {
                    format!("{field}.name")
                } else {
                    format!("{field}.other_names[{}]", n - 1)
                };
                for (g, given) in name.given.iter().enumerate() {
                    line(format!("{at}.given[{g}]"), given)?;
                }
                if let Some(family) = &name.family {
                    line(format!("{at}.family"), family)?;
                }
            }
            for (a, address) in r.addresses.iter().enumerate() {
                for (l, text) in address.lines.iter().enumerate() {
                    line(format!("{field}.addresses[{a}].lines[{l}]"), text)?;
                }
            }
            if let Some(born) = &r.date_of_birth {
                if born.earliest() > today {
                    return Err(FieldError::new(
                        format!("{field}.date_of_birth"),
                        "is after today: record an unborn child's expected_date_of_birth",
                    ));
                }
                if born.latest() < earliest {
                    return Err(FieldError::new(
                        format!("{field}.date_of_birth"),
                        "is before 1900",
                    ));
                }
            }
            if let Some(expected) = r.expected_date_of_birth
                && (expected > today + chrono::Duration::days(MAX_DAYS_EXPECTED_AHEAD)
                    || expected < earliest)
            {
                return Err(FieldError::new(
                    format!("{field}.expected_date_of_birth"),
                    format!("is not within {MAX_DAYS_EXPECTED_AHEAD} days from now"),
                ));
            }
        }
        // Every other text (the summary, the details' explanations and reasons), wherever it is.
        let value = serde_json::to_value(self).map_err(|e| FieldError::new("", e.to_string()))?;
        check_texts(String::new(), &value)
    }

    /// The entry's kind, as stored and filtered on.
    pub fn kind(&self) -> EntryKind {
        self.details.kind()
    }

    /// Checks what the field types cannot: references between the entry's parts resolve, texts
    /// are not blank, the event is not recorded before it happened.
    pub fn validate(&self) -> Result<(), FieldError> {
        for (field, value) in [
            ("source.system", &self.source.system),
            ("source.id", &self.source.id),
            ("author.name", &self.author.name),
            ("author.role", &self.author.role),
        ] {
            if value.trim().is_empty() {
                return Err(FieldError::new(field, "is blank"));
            }
        }
        if self.persons.is_empty() {
            return Err(FieldError::new(
                "persons",
                "an entry must name at least one person",
            ));
        }
        let mut local_ids = HashSet::new();
        for (i, p) in self.persons.iter().enumerate() {
            let field = format!("persons[{i}].record");
            p.record.validate(&field)?;
            if !local_ids.insert(p.record.local_id.as_str()) {
                return Err(FieldError::new(
                    format!("{field}.local_id"),
                    "names the same person twice in one entry",
                ));
            }
        }
        let known = |field: String, id: &str| {
            if local_ids.contains(id) {
                Ok(())
            } else {
                Err(FieldError::new(
                    field,
                    format!("{id:?} is not the local_id of a person in this entry"),
                ))
            }
        };
        for (i, r) in self.residences.iter().enumerate() {
            known(format!("residences[{i}].person"), &r.person)?;
            check_interval(&format!("residences[{i}]"), r.from, r.to)?;
        }
        for (i, r) in self.relationships.iter().enumerate() {
            known(format!("relationships[{i}].person"), &r.person)?;
            known(format!("relationships[{i}].other"), &r.other)?;
            if r.person == r.other {
                return Err(FieldError::new(
                    format!("relationships[{i}].other"),
                    "a person cannot be related to themselves",
                ));
            }
            check_interval(&format!("relationships[{i}]"), r.from, r.to)?;
        }
        match &self.details {
            EntryDetails::Claim(c) => {
                known("details.claimant".into(), &c.claimant)?;
                known("details.about".into(), &c.about)?;
            }
            EntryDetails::BackgroundCheck(b) => known("details.subject".into(), &b.subject)?,
            EntryDetails::PoliceCallOut(p) => {
                for (i, c) in p.children_present.iter().enumerate() {
                    known(format!("details.children_present[{i}]"), c)?;
                }
                for (i, c) in p.children_seen.iter().enumerate() {
                    if !p.children_present.contains(c) {
                        return Err(FieldError::new(
                            format!("details.children_seen[{i}]"),
                            "a child seen is among the children present",
                        ));
                    }
                }
                if p.risk.is_some() && !p.domestic_abuse {
                    return Err(FieldError::new(
                        "details.risk",
                        "a DASH risk is assessed for domestic abuse: set domestic_abuse",
                    ));
                }
            }
            EntryDetails::Section47Enquiry(e)
                if e.icpc_required.is_some() && e.stage != StageEvent::Completed =>
            {
                return Err(FieldError::new(
                    "details.icpc_required",
                    "is decided when the enquiry is completed",
                ));
            }
            EntryDetails::Assessment(a) => crate::process::check_assessment(
                a,
                self.source.system == crate::process::CENSUS_RETURN_SYSTEM,
            )?,
            EntryDetails::AdultServiceRecord(_)
                if !self
                    .persons
                    .iter()
                    .any(|p| p.role == ParticipantRole::SubjectAdult) =>
            {
                return Err(FieldError::new(
                    "persons",
                    "an adult service's record names its subject, the adult, as subject_adult",
                ));
            }
            EntryDetails::Birth(b) => {
                known("details.unborn".into(), &b.unborn)?;
                let baby = self.persons.iter().find(|p| {
                    p.role == ParticipantRole::SubjectChild && p.record.local_id != b.unborn
                });
                if baby.is_none_or(|p| p.record.date_of_birth.is_none()) {
                    return Err(FieldError::new(
                        "persons",
                        "a birth names the baby as the subject child, with a date of birth, besides the unborn record",
                    ));
                }
            }
            EntryDetails::HomeVisit(v) => check_visit(v)?,
            _ => {}
        }
        let latest_allowed = self.recorded_at.date_naive()
            + chrono::Duration::days(MAX_DAYS_RECORDED_BEFORE_OCCURRING);
        if self.occurred_at.date() > latest_allowed {
            return Err(FieldError::new(
                "occurred_at",
                "is after recorded_at: an entry records something that has happened",
            ));
        }
        if self.supersedes.as_deref() == Some(self.source.id.as_str()) {
            return Err(FieldError::new(
                "supersedes",
                "an entry cannot supersede itself",
            ));
        }
        Ok(())
    }
}

/// Checks every string in an entry's JSON for its length and for characters that hide text.
fn check_texts(path: String, value: &serde_json::Value) -> Result<(), FieldError> {
    match value {
        serde_json::Value::String(text) => {
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(FieldError::new(
                    path,
                    format!("is longer than {MAX_TEXT_CHARS} characters"),
                ));
            }
            crate::text::check_free_text(&path, text)
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_texts(format!("{path}[{i}]"), v)),
        serde_json::Value::Object(fields) => fields.iter().try_for_each(|(k, v)| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            check_texts(at, v)
        }),
        _ => Ok(()),
    }
}

/// Checks a batch's size: at most [`MAX_ENTRIES_PER_BATCH`] entries naming at most
/// [`MAX_PERSONS_PER_BATCH`] people in all.
pub fn check_batch_size(entries: &[Entry]) -> Result<(), FieldError> {
    if entries.len() > MAX_ENTRIES_PER_BATCH {
        return Err(FieldError::new(
            "",
            format!(
                "the batch holds {} entries; send at most {MAX_ENTRIES_PER_BATCH} at once",
                entries.len()
            ),
        ));
    }
    let persons: usize = entries.iter().map(|e| e.persons.len()).sum();
    if persons > MAX_PERSONS_PER_BATCH {
        return Err(FieldError::new(
            "",
            format!(
                "the batch names {persons} people; a batch names at most {MAX_PERSONS_PER_BATCH}"
            ),
        ));
    }
    Ok(())
}

/// A visit's outcome agrees with whether the child was seen, and alone.
fn check_visit(v: &HomeVisit) -> Result<(), FieldError> {
    if v.child_seen_alone && !v.child_seen {
        return Err(FieldError::new(
            "details.child_seen_alone",
            "the child cannot be seen alone and not seen",
        ));
    }
    let Some(outcome) = v.outcome else {
        return Ok(());
    };
    if outcome.saw_the_child() != v.child_seen {
        return Err(FieldError::new(
            "details.outcome",
            if v.child_seen {
                "says the child was not seen, but child_seen is true (a glimpse on the doorstep is not seeing the child)"
            } else {
                "says the child was seen, but child_seen is false"
            },
        ));
    }
    if (outcome == crate::VisitOutcome::SeenAlone) != v.child_seen_alone {
        return Err(FieldError::new(
            "details.outcome",
            "seen_alone and child_seen_alone must agree",
        ));
    }
    Ok(())
}

fn check_interval(
    field: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(), FieldError> {
    match (from, to) {
        (Some(f), Some(t)) if t < f => {
            Err(FieldError::new(format!("{field}.to"), "is before from"))
        }
        _ => Ok(()),
    }
}

macro_rules! entry_kinds {
    ($($variant:ident($details:ty) = $name:literal, $label:literal;)*) => {
        /// The kind of an entry, without its content.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum EntryKind {
            $(
                #[doc = $label]
                $variant,
            )*
        }

        impl EntryKind {
            /// Every kind.
            pub const ALL: &'static [EntryKind] = &[$(EntryKind::$variant),*];

            /// The stored and exchanged name.
            pub fn as_str(self) -> &'static str {
                match self { $(EntryKind::$variant => $name,)* }
            }

            /// A label for people (`Home visit`).
            pub fn label(self) -> &'static str {
                match self { $(EntryKind::$variant => $label,)* }
            }

            /// The kind with this stored name.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($name => Some(EntryKind::$variant),)* _ => None }
            }
        }

        /// The typed content of an entry; `kind` says which.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum EntryDetails {
            $(
                #[doc = $label]
                $variant($details),
            )*
        }

        impl EntryDetails {
            /// The kind of this content.
            pub fn kind(&self) -> EntryKind {
                match self { $(EntryDetails::$variant(_) => EntryKind::$variant,)* }
            }

            /// Where details that do not read as their kind's go wrong, as the field's path
            /// within the details (`reason`, `factors[0]`) and why: a tagged enum's own error
            /// names only the details as a whole.
            pub fn locate_error(details: &serde_json::Value) -> Option<FieldError> {
                let mut fields = details.as_object()?.clone();
                let kind = fields.remove("kind")?;
                let fields = serde_json::Value::Object(fields);
                let error = |e: serde_path_to_error::Error<serde_json::Error>| {
                    let path = e.path().to_string();
                    let path = if path == "." { String::new() } else { path };
                    FieldError::new(path, e.inner().to_string())
                };
                match kind.as_str()? {
                    $($name => serde_path_to_error::deserialize::<_, $details>(fields).err().map(error),)*
                    _ => None,
                }
            }
        }
    };
}

entry_kinds! {
    Contact(Contact) = "contact", "Contact";
    Referral(Referral) = "referral", "Referral";
    HomeVisit(HomeVisit) = "home_visit", "Home visit";
    HospitalAttendance(HospitalAttendance) = "hospital_attendance", "Hospital attendance";
    GpAppointment(GpAppointment) = "gp_appointment", "GP appointment";
    InjuryObserved(InjuryObserved) = "injury_observed", "Injury observed";
    PoliceCallOut(PoliceCallOut) = "police_call_out", "Police call-out";
    BackgroundCheck(BackgroundCheck) = "background_check", "Background check";
    StrategyDiscussion(StrategyDiscussion) = "strategy_discussion", "Strategy discussion";
    Section47Enquiry(Section47Enquiry) = "section47_enquiry", "Section 47 enquiry";
    Conference(Conference) = "conference", "Child protection conference";
    PlanStart(PlanStart) = "plan_start", "Child protection plan started";
    PlanEnd(PlanEnd) = "plan_end", "Child protection plan ended";
    LegalPlanningMeeting(LegalPlanningMeeting) = "legal_planning_meeting", "Legal planning meeting";
    CourtApplication(CourtApplication) = "court_application", "Court application";
    Placement(Placement) = "placement", "Placement";
    Claim(Claim) = "claim", "Claim";
    CaseNote(CaseNote) = "case_note", "Case note";
    ReferralDecision(ReferralDecision) = "referral_decision", "Referral decision";
    Assessment(Assessment) = "assessment", "Child and family assessment";
    CoreGroup(CoreGroup) = "core_group", "Core group meeting";
    ChildInNeedPlan(ChildInNeedPlan) = "child_in_need_plan", "Child in need plan";
    CaseClosure(CaseClosure) = "case_closure", "Case closed";
    WasNotBrought(WasNotBrought) = "was_not_brought", "Was not brought";
    FailedContactAttempt(FailedContactAttempt) = "failed_contact_attempt", "Failed contact attempt";
    EducationStatus(EducationStatus) = "education_status", "Education status";
    MissingEpisode(MissingEpisode) = "missing_episode", "Missing episode";
    SeriousIncident(SeriousIncident) = "serious_incident", "Serious incident";
    CourtDecision(CourtDecision) = "court_decision", "Court decision";
    AntenatalCare(AntenatalCare) = "antenatal_care", "Antenatal care";
    AdultServiceRecord(AdultServiceRecord) = "adult_service_record", "Adult service record";
    Birth(Birth) = "birth", "Birth";
}

/// A contact to children's social care (a call, an email, a visit to the front door).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// How the contact came (`telephone`, `email`, `in person`).
    #[serde(default)]
    pub channel: Option<String>,
    /// Who made it: the census referral source (`2A` school, `9` anonymous).
    #[serde(default)]
    pub referral_source: Option<crate::ReferralSource>,
}

/// A referral: a request for children's social care to act.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referral {
    /// Why the referral was made.
    #[serde(default)]
    pub reason: Option<String>,
    /// DfE CIN census referral source code (`6` police, `3A` GP, `3E` A&E).
    #[serde(default)]
    pub source_code: Option<String>,
    /// The decision on the type of response, once made.
    #[serde(default)]
    pub decision: Option<String>,
}

/// A visit to the child's home.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HomeVisit {
    /// Whether the child was seen.
    pub child_seen: bool,
    /// Whether the child was seen alone, away from carers.
    pub child_seen_alone: bool,
    /// Whether the family knew the visit was coming.
    #[serde(default)]
    pub announced: Option<bool>,
    /// What the visit found: seen, seen alone, or why not (no answer, refused entry, seen on
    /// the doorstep only, heard not seen).
    #[serde(default)]
    pub outcome: Option<crate::VisitOutcome>,
}

/// An attendance at a hospital (emergency department, clinic, ward).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HospitalAttendance {
    /// Department (`emergency`, `paediatric clinic`).
    pub department: String,
    /// Why the child was brought.
    #[serde(default)]
    pub presenting_complaint: Option<String>,
}

/// A GP appointment, attended or not ("was not brought").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GpAppointment {
    /// Whether the child was brought.
    pub attended: bool,
    /// Why the appointment was made.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Kinds of injury (NICE CG89 groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum InjuryType {
    /// Bruise.
    Bruise,
    /// Burn or scald.
    Burn,
    /// Fracture.
    Fracture,
    /// Head injury.
    HeadInjury,
    /// Cut, graze or laceration.
    Laceration,
    /// Bite mark.
    Bite,
    /// Scratch.
    Scratch,
    /// Anything else.
    Other,
}

/// A clinician's view of whether the explanation fits the injury.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MedicalOpinion {
    /// Consistent with the explanation given.
    Consistent,
    /// Not consistent with the explanation given.
    Inconsistent,
    /// No view could be formed.
    Unclear,
}

/// An injury seen by a professional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InjuryObserved {
    /// Where on the body (`face`, `left ear`, `buttocks`).
    pub body_site: String,
    /// What kind of injury.
    pub injury_type: InjuryType,
    /// How many, when several alike.
    #[serde(default)]
    pub count: Option<u32>,
    /// The explanation given, and by whom, in their words.
    #[serde(default)]
    pub explanation_given: Option<String>,
    /// Whether a clinician found the explanation consistent.
    #[serde(default)]
    pub medical_opinion: Option<MedicalOpinion>,
}

/// A police attendance or action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoliceCallOut {
    /// Why police were called.
    #[serde(default)]
    pub reason: Option<String>,
    /// Whether anyone was arrested.
    #[serde(default)]
    pub arrest_made: bool,
    /// What followed (`released on bail`, `no further action`).
    #[serde(default)]
    pub outcome: Option<String>,
    /// `local_id`s of the children present.
    #[serde(default)]
    pub children_present: Vec<String>,
    /// `local_id`s of the children officers saw (among those present).
    #[serde(default)]
    pub children_seen: Vec<String>,
    /// Whether it was a domestic abuse incident.
    #[serde(default)]
    pub domestic_abuse: bool,
    /// The risk assessed (DASH), for domestic abuse.
    #[serde(default)]
    pub risk: Option<RiskLevel>,
}

/// A risk assessed (DASH for domestic abuse; an adult service's to children).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RiskLevel {
    /// Standard.
    Standard,
    /// Medium.
    Medium,
    /// High: a MARAC referral.
    High,
}

/// Whether a check has been asked for or has come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CheckStatus {
    /// Asked for.
    Requested,
    /// Come back.
    Completed,
}

/// A background check on an adult (police national computer, previous local authority).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackgroundCheck {
    /// `local_id` of the participant checked.
    pub subject: String,
    /// Asked for or come back.
    pub status: CheckStatus,
    /// What it found.
    #[serde(default)]
    pub result: Option<String>,
}

/// A strategy discussion (Working Together 2023, ch. 3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StrategyDiscussion {
    /// Whether it decided to start a section 47 enquiry.
    pub section47_decided: bool,
    /// Agencies present (their identifiers).
    #[serde(default)]
    pub agencies_present: Vec<String>,
}

/// Start or end of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StageEvent {
    /// Started.
    Started,
    /// Completed.
    Completed,
}

/// A section 47 enquiry (Children Act 1989 s47).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Section47Enquiry {
    /// Started or completed.
    pub stage: StageEvent,
    /// The outcome, when completed.
    #[serde(default)]
    pub outcome: Option<String>,
    /// When completed: whether an initial child protection conference is required (the
    /// census's "ICPC not required" when false).
    #[serde(default)]
    pub icpc_required: Option<bool>,
}

/// Which child protection conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConferenceType {
    /// Initial child protection conference.
    Initial,
    /// Review conference.
    Review,
}

/// Categories of abuse on a plan (DfE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AbuseCategory {
    /// Neglect.
    Neglect,
    /// Physical abuse.
    PhysicalAbuse,
    /// Sexual abuse.
    SexualAbuse,
    /// Emotional abuse.
    EmotionalAbuse,
    /// More than one category.
    Multiple,
}

/// A child protection conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conference {
    /// Initial or review.
    pub conference_type: ConferenceType,
    /// Whether the child is (or remains) subject to a plan.
    pub plan_decided: bool,
    /// Category of abuse, when a plan is decided.
    #[serde(default)]
    pub category: Option<AbuseCategory>,
}

/// A child protection plan starting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanStart {
    /// Category of abuse.
    pub category: AbuseCategory,
    /// How many plans the child had before this one, when another source knows of plans
    /// Safeguard does not hold (a past census return); the census counts the larger of this
    /// and the plans held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_plans: Option<u32>,
}

/// A child protection plan ending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanEnd {
    /// Why it ended.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Requested or held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MeetingStage {
    /// Asked for.
    Requested,
    /// Took place.
    Held,
}

/// How experienced an attendee is in their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Seniority {
    /// Newly qualified or junior.
    Junior,
    /// Qualified and experienced.
    Qualified,
    /// Senior (team manager, senior lawyer).
    Senior,
}

/// Someone at a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attendee {
    /// Their role (`lawyer`, `team manager`, `social worker`).
    pub role: String,
    /// Their seniority.
    pub seniority: Seniority,
}

/// Evidence a decision can rest on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EvidenceKind {
    /// A paediatrician's or other medical report.
    MedicalReport,
    /// A police report.
    PoliceReport,
    /// A social work assessment.
    Assessment,
    /// A multi-agency chronology.
    Chronology,
}

/// A legal planning (gateway) meeting: is the threshold for proceedings met?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegalPlanningMeeting {
    /// Requested or held.
    pub stage: MeetingStage,
    /// Who attended (when held).
    #[serde(default)]
    pub attendees: Vec<Attendee>,
    /// Evidence before the meeting.
    #[serde(default)]
    pub evidence_present: Vec<EvidenceKind>,
    /// Whether the threshold for proceedings was judged met.
    #[serde(default)]
    pub threshold_met: Option<bool>,
}

/// An application to court.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CourtApplication {
    /// The order sought (`care order`, `emergency protection order`).
    pub order: String,
}

/// A child placed away from home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Placement {
    /// Kind of placement (`foster care`, `kinship care`).
    pub placement_type: String,
}

/// What a claim asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClaimAssertion {
    /// `about` lives in the household.
    LivesHere,
    /// `about` does not live in the household.
    DoesNotLiveHere,
    /// `about` is only a friend, not a partner.
    IsOnlyAFriend,
    /// `about` is never alone with the child.
    NeverAloneWithChild,
    /// An injury was caused as described.
    InjuryCausedBy {
        /// The cause given.
        cause: String,
    },
    /// Anything else, in the claimant's words.
    Other {
        /// The claim.
        text: String,
    },
}

/// A statement someone made about residence, relationship, presence or an injury, which
/// observations from any agency can later confirm or contradict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Claim {
    /// `local_id` of the participant who said it.
    pub claimant: String,
    /// `local_id` of the participant it is about.
    pub about: String,
    /// What was asserted.
    pub assertion: ClaimAssertion,
}

/// A case note: anything recorded that has no kind of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseNote {}

/// Turns a deserialisation error into the path of the field and the reason. serde reports a
/// missing field at the path of the object that lacks it; the field's name is added.
fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let reason = e.inner().to_string();
    let reason = reason
        .split(" at line ")
        .next()
        .unwrap_or(&reason)
        .to_owned();
    let missing = reason
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'));
    let field = match missing {
        Some(name) if path.is_empty() => name.to_owned(),
        Some(name) => format!("{path}.{name}"),
        None => path,
    };
    FieldError::new(field, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hospital_entry() -> serde_json::Value {
        serde_json::json!({
            "agency": "north-hospital",
            "source": {"system": "pas", "id": "ED-1"},
            "author": {"name": "Dr Example", "role": "Emergency doctor"},
            "occurred_at": "2006-12-11T14:30",
            "recorded_at": "2006-12-11T15:00:00Z",
            "persons": [
                {"role": "subject_child", "record": {"local_id": "H1", "name": {"given": ["Sam"], "family": "Example"}, "date_of_birth": "2006-06"}},
                {"role": "other_adult_present", "record": {"local_id": "H2", "name": {"given": ["Daniel"]}}}
            ],
            "summary": "Brought with bruising to the face.",
            "details": {"kind": "injury_observed", "body_site": "face", "injury_type": "bruise",
                        "medical_opinion": "inconsistent"},
            "relationships": [{"person": "H2", "kind": "friend", "other": "H1", "strength": "claimed"}]
        })
    }

    fn parse(v: serde_json::Value) -> Entry {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_typed_entry_round_trips_through_json() {
        let entry = parse(hospital_entry());
        assert_eq!(entry.kind(), EntryKind::InjuryObserved);
        assert!(entry.validate().is_ok());
        let again: Entry = serde_json::from_str(&serde_json::to_string(&entry).unwrap()).unwrap();
        assert_eq!(again, entry);
    }

    #[test]
    fn an_unknown_field_inside_the_details_is_refused() {
        let mut v = hospital_entry();
        v["details"]["bodysite"] = "arm".into();
        let err = serde_json::from_value::<Entry>(v).unwrap_err().to_string();
        assert!(err.contains("bodysite"), "{err}");
    }

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
    }

    #[test]
    fn a_relationship_to_someone_not_in_the_entry_names_the_field() {
        let mut v = hospital_entry();
        v["relationships"][0]["other"] = "H9".into();
        let err = parse(v).validate().unwrap_err();
        assert_eq!(err.field, "relationships[0].other");
    }

    #[test]
    fn the_same_person_twice_is_refused() {
        let mut v = hospital_entry();
        v["persons"][1]["record"]["local_id"] = "H1".into();
        let err = parse(v).validate().unwrap_err();
        assert_eq!(err.field, "persons[1].record.local_id");
    }

    #[test]
    fn an_event_recorded_before_it_happened_is_refused() {
        let mut v = hospital_entry();
        v["occurred_at"] = "2006-12-13".into();
        assert_eq!(
            parse(v.clone()).validate().unwrap_err().field,
            "occurred_at"
        );
        v["occurred_at"] = "2006-12-12".into();
        assert!(parse(v).validate().is_ok(), "the next day is allowed");
    }

    #[test]
    fn an_entry_naming_nobody_is_refused() {
        let mut v = hospital_entry();
        v["persons"] = serde_json::json!([]);
        v["relationships"] = serde_json::json!([]);
        assert_eq!(parse(v).validate().unwrap_err().field, "persons");
    }

    #[test]
    fn a_claim_must_be_about_a_participant() {
        let mut v = hospital_entry();
        v["relationships"] = serde_json::json!([]);
        v["details"] = serde_json::json!({"kind": "claim", "claimant": "H1", "about": "X",
            "assertion": {"type": "is_only_a_friend"}});
        assert_eq!(parse(v).validate().unwrap_err().field, "details.about");
    }
}
