//! Recording an entry about a child from a page, for agencies without a system of their own
//! (a GP practice, a school): choose what happened, then answer its form. The people are the
//! child and those in the child's household, chosen from a list (so the entry is about the
//! person chosen, not whoever linkage finds), and anyone not listed by name. The entry goes
//! through the API's own parsing, access rule and write, and is shown at once with any
//! concern it raised.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::NaiveTime;
use maud::{Markup, html};
use safeguard_core::{EntryKind, FieldError, Person, PersonId, access};
use safeguard_store::{KnownParticipant, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{CSRF_FIELD, Caller, OwnEntriesOnly};
use crate::forms::{self, Offered, Values, field_id};
use crate::persons::{load_person, parse_person_id};
use crate::ui::{error_summary, layout};
use crate::{AppState, Error};

/// The source system of entries recorded on a page.
pub(crate) const FORM_SYSTEM: &str = "safeguard-web";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/persons/{id}/record", get(record_page).post(record_submit))
}

/// The kinds, grouped as a practitioner looks for them. A serious incident is recorded on the
/// child's practice review page, step by step.
const GROUPS: &[(&str, &[EntryKind])] = &[
    (
        "Seeing the child and family",
        &[
            EntryKind::HomeVisit,
            EntryKind::FailedContactAttempt,
            EntryKind::WasNotBrought,
            EntryKind::Claim,
            EntryKind::CaseNote,
        ],
    ),
    (
        "Health",
        &[
            EntryKind::GpAppointment,
            EntryKind::HospitalAttendance,
            EntryKind::InjuryObserved,
            EntryKind::AntenatalCare,
            EntryKind::Birth,
        ],
    ),
    (
        "Police, schools and other services",
        &[
            EntryKind::PoliceCallOut,
            EntryKind::BackgroundCheck,
            EntryKind::AdultServiceRecord,
            EntryKind::EducationStatus,
            EntryKind::MissingEpisode,
        ],
    ),
    (
        "Children's social care",
        &[
            EntryKind::Contact,
            EntryKind::Referral,
            EntryKind::ReferralDecision,
            EntryKind::Assessment,
            EntryKind::StrategyDiscussion,
            EntryKind::Section47Enquiry,
            EntryKind::Conference,
            EntryKind::PlanStart,
            EntryKind::PlanEnd,
            EntryKind::CoreGroup,
            EntryKind::ChildInNeedPlan,
            EntryKind::CaseClosure,
        ],
    ),
    (
        "Legal and court",
        &[
            EntryKind::LegalPlanningMeeting,
            EntryKind::CourtApplication,
            EntryKind::CourtDecision,
            EntryKind::Placement,
        ],
    ),
];

/// The parts a person other than the child may play, as the form offers them.
const ROLES: &[(&str, &str)] = &[
    ("parent", "Parent"),
    ("carer", "Carer (not a parent)"),
    ("other_adult_present", "Another adult present or involved"),
    ("other_child", "Another child"),
    ("reporter", "Reported the concern"),
    ("professional", "Professional"),
    ("subject_adult", "The adult this record is about"),
];

#[derive(Deserialize)]
struct KindParam {
    kind: Option<String>,
    /// The entry this form corrects.
    corrects: Option<String>,
}

/// An entry a form corrects: one the caller's agency recorded on these pages about the child,
/// not yet corrected.
struct Corrected {
    id: safeguard_core::EntryId,
    entry: safeguard_core::Entry,
    /// The person of each participant, in order (the child first).
    persons: Vec<PersonId>,
}

async fn corrected(
    state: &AppState,
    caller: &Caller,
    child: PersonId,
    id: &str,
    kind: EntryKind,
) -> Result<Corrected, Error> {
    let missing = || Error::NotFound("no such entry on this child's record".into());
    let id = safeguard_core::EntryId(Uuid::parse_str(id).map_err(|_| missing())?);
    let query = safeguard_store::ChronologyQuery {
        entry: Some(id),
        include_superseded: true,
        limit: 1,
        ..Default::default()
    };
    let page = state
        .blocking(move |store| store.chronology_of_known(child, &query))
        .await?
        .ok_or_else(missing)?;
    let found = page.entries.into_iter().next().ok_or_else(missing)?;
    let entry = found.entry.decode()?;
    if entry.agency != *caller.principal().agency() || entry.source.system != FORM_SYSTEM {
        return Err(Error::Forbidden(
            "an entry is corrected here by the agency that recorded it on these pages; an agency's own system corrects what it sent".into(),
        ));
    }
    if found.superseded_by.is_some() {
        return Err(Error::NotFound(
            "this entry has been corrected already: correct its correction".into(),
        ));
    }
    if entry.kind() != kind {
        return Err(missing());
    }
    Ok(Corrected {
        id,
        entry,
        persons: found.person_ids,
    })
}

/// The answers of the form that recorded `entry`, to correct it.
fn answers_of(corrected: &Corrected, source_id: String) -> (Vec<(String, String)>, Vec<PersonId>) {
    let entry = &corrected.entry;
    let start = entry.occurred_at.start();
    let mut pairs = vec![
        ("source_id".to_owned(), source_id),
        ("corrects".to_owned(), corrected.id.to_string()),
        ("occurred".to_owned(), start.format("%-d").to_string()),
        ("occurred-month".to_owned(), start.format("%-m").to_string()),
        ("occurred-year".to_owned(), start.format("%Y").to_string()),
        ("summary".to_owned(), entry.summary.clone()),
    ];
    if entry.occurred_at.precision() >= safeguard_core::Precision::Minute {
        pairs.push((
            "occurred-time".to_owned(),
            start.format("%H:%M").to_string(),
        ));
    }
    let details = serde_json::to_value(&entry.details).unwrap_or_default();
    pairs.extend(forms::encode(
        forms::spec(entry.kind()),
        &details,
        "details",
    ));
    let mut people = Vec::new();
    for (p, person) in entry.persons.iter().zip(&corrected.persons).skip(1) {
        pairs.push((format!("person.{person}.role"), p.role.as_str().to_owned()));
        if p.identity == Some(safeguard_core::IdentityEvidence::Verified) {
            pairs.push((format!("person.{person}.identity"), "verified".to_owned()));
        }
        people.push(*person);
    }
    (pairs, people)
}

/// Someone the form offers: a person already known, with a word on how.
struct Known {
    person: PersonId,
    name: String,
    note: String,
    record: Value,
    /// Found by a search on the form (kept with it), not offered from the household.
    found: bool,
}

/// The most people a search on the form adds.
const MAX_FOUND: usize = 10;

/// Everything a form shows besides the answers.
struct Context {
    child: PersonId,
    child_name: String,
    child_record: Value,
    known: Vec<Known>,
    /// The caller's agency is not yet involved with the child, or its involvement awaits
    /// confirmation: the form names the child alone, as a search shows them.
    record_hidden: bool,
    /// A search just made on the form: what was typed and how many were found.
    searched: Option<(String, usize)>,
    agencies: Vec<(String, String)>,
    csrf: String,
}

/// The record of a person as a form's entry names them: their fullest name and date of
/// birth, under their person identifier.
pub(crate) fn record_of(person: &Person) -> Value {
    let best =
        person.records.iter().rev().max_by_key(|r| {
            r.record.name.given.len() + usize::from(r.record.name.family.is_some())
        });
    json!({
        "local_id": person.id.to_string(),
        "name": best.map(|r| r.record.name.clone()).unwrap_or_default(),
        "date_of_birth": best.and_then(|r| r.record.date_of_birth),
    })
}

/// The record of a child as a recorder who may not read the record names them: what a search
/// showed them (the name and the month of birth), so that their own entry, which they may
/// read, holds nothing more of the child than they knew.
fn searched_record_of(person: &Person) -> Value {
    let mut record = record_of(person);
    let month = person
        .records
        .iter()
        .find_map(|r| r.record.date_of_birth)
        .map(|d| match d {
            safeguard_core::PartialDate::Year(_) => d,
            d => {
                let day = d.earliest();
                safeguard_core::PartialDate::Month(
                    chrono::Datelike::year(&day),
                    chrono::Datelike::month(&day),
                )
            }
        });
    record["date_of_birth"] = json!(month);
    record
}

fn may_record(caller: &Caller) -> Result<(), Error> {
    let principal = caller.principal();
    if caller.session().is_some() && access::may_write_entry(&principal, principal.agency()) {
        Ok(())
    } else {
        Err(Error::Forbidden("your role does not record entries".into()))
    }
}

/// The kind a form records: any but a serious incident, which the practice review's page
/// records.
fn form_kind(name: &str) -> Result<EntryKind, Error> {
    match EntryKind::parse(name) {
        Some(EntryKind::SeriousIncident) => Err(Error::Forbidden(
            "a serious incident is recorded on the child's practice review page, by a safeguarding lead of children's social care".into(),
        )),
        Some(kind) => Ok(kind),
        None => Err(Error::NotFound(format!("no kind of entry {name:?}"))),
    }
}

async fn context(
    state: &AppState,
    caller: &Caller,
    child: PersonId,
    record_hidden: bool,
    found: Vec<PersonId>,
) -> Result<Context, Error> {
    let person = load_person(state, child).await?;
    let today = chrono::Local::now().date_naive();
    let principal = caller.principal();
    let session_hash = caller.session().map(|s| s.token_hash.clone());
    let (known, agencies) = state
        .blocking(move |store| {
            let agencies = store
                .agencies()?
                .into_iter()
                .map(|a| (a.id.as_str().to_owned(), a.name))
                .collect();
            // Those found by a search on the form (or named by the entry corrected), named as
            // the search showed them unless the recorder may read their record: their own
            // entry must not hold more of them than they may see.
            let mut known = Vec::new();
            let mut seen = std::collections::HashSet::from([child]);
            for p in store.persons(&found)? {
                if seen.insert(p.id) {
                    let decision = crate::auth::read_decision(
                        store,
                        &principal,
                        session_hash.as_deref(),
                        p.id,
                    )?;
                    let record = if matches!(decision, access::ReadDecision::Allowed(_)) {
                        record_of(&p)
                    } else {
                        searched_record_of(&p)
                    };
                    known.push(Known {
                        person: p.id,
                        name: p.display_name(),
                        note: "found by your search".to_owned(),
                        record,
                        found: true,
                    });
                }
            }
            if record_hidden {
                return Ok((known, agencies));
            }
            // The household as the record last knew it (the overview's), and whoever was
            // seen around the child in the year before.
            let on = match store.child(child)? {
                Some(c) => c.chronology.last().map_or(today, |i| i.day().min(today)),
                None => today,
            };
            let household = store.household(child, on, 365)?;
            let members = household.members.iter().map(|m| {
                (
                    m.person,
                    format!("lives with the child ({})", m.strength.as_str()),
                )
            });
            let around = household.around.iter().map(|a| {
                let roles: Vec<String> = a
                    .roles
                    .iter()
                    .map(|r| r.as_str().replace('_', " "))
                    .collect();
                (
                    a.person,
                    format!("seen around the child as {}", roles.join(", ")),
                )
            });
            for (id, note) in members.chain(around) {
                if !seen.insert(id) {
                    continue;
                }
                if let Some(p) = store.person(id)? {
                    known.push(Known {
                        person: id,
                        name: p.display_name(),
                        note,
                        record: record_of(&p),
                        found: false,
                    });
                }
            }
            Ok((known, agencies))
        })
        .await?;
    Ok(Context {
        child,
        child_name: person.display_name(),
        child_record: if record_hidden {
            searched_record_of(&person)
        } else {
            record_of(&person)
        },
        known,
        record_hidden,
        searched: None,
        agencies,
        csrf: caller
            .session()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default(),
    })
}

async fn record_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    own_only: Option<Extension<OwnEntriesOnly>>,
    Path(id): Path<String>,
    Query(param): Query<KindParam>,
) -> Result<Response, Error> {
    let child = parse_person_id(&id)?;
    may_record(&caller)?;
    let record_hidden = own_only.is_some();
    let Some(kind) = param.kind else {
        let person = load_person(&state, child).await?;
        return Ok(chooser(&caller, child, &person.display_name(), record_hidden).into_response());
    };
    let kind = form_kind(&kind)?;
    let source_id = Uuid::now_v7().to_string();
    let (pairs, people) = match param.corrects.as_deref() {
        Some(id) => {
            let corrected = corrected(&state, &caller, child, id, kind).await?;
            answers_of(&corrected, source_id)
        }
        None => (vec![("source_id".to_owned(), source_id)], Vec::new()),
    };
    let context = context(&state, &caller, child, record_hidden, people).await?;
    let values = Values::from_pairs(&pairs);
    Ok(form_page(&caller, &context, kind, &values, &[]).into_response())
}

/// What an agency not yet involved with the child is told on the form.
fn not_yet_involved() -> Markup {
    html! {
        div class="govuk-inset-text" {
            "Your agency does not yet share this child's record. You can record what you know; "
            "the child's lead professional is told, and once your agency's involvement is "
            "confirmed you will see the whole record. Until then you see only what your agency "
            "recorded."
        }
    }
}

fn chooser(caller: &Caller, child: PersonId, name: &str, record_hidden: bool) -> Html<String> {
    layout(
        "What are you recording?",
        caller.session(),
        html! {
            @if record_hidden {
                a class="govuk-back-link" href="/" { "Back to search" }
            } @else {
                a class="govuk-back-link" href={ "/persons/" (child) } { "Back to " (name) }
            }
            span class="govuk-caption-l" { (name) }
            h1 class="govuk-heading-l" { "What are you recording?" }
            @if record_hidden {
                (not_yet_involved())
            }
            div class="govuk-grid-row" {
                @for (group, kinds) in GROUPS {
                    div class="govuk-grid-column-one-half" {
                        h2 class="govuk-heading-s" { (group) }
                        ul class="govuk-list govuk-list--spaced" {
                            @for kind in *kinds {
                                li { a class="govuk-link" href={ "/persons/" (child) "/record?kind=" (kind.as_str()) } { (kind.label()) } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A form's answer as sent: `person.{id}.role`, `person.{id}.identity`, `new.*`.
fn people_of(
    context: &Context,
    values: &Values,
    source_id: &str,
) -> (Vec<Value>, Vec<KnownParticipant>, Vec<FieldError>) {
    let mut persons = vec![json!({"role": "subject_child", "record": context.child_record})];
    let mut known = vec![KnownParticipant {
        local_id: context.child.to_string(),
        person: context.child,
    }];
    let mut errors = Vec::new();
    let identity = |name: &str| {
        if values.one(name) == "verified" {
            "verified"
        } else {
            "given"
        }
    };
    for k in &context.known {
        let role = values.one(&format!("person.{}.role", k.person));
        if role.is_empty() {
            continue;
        }
        if !ROLES.iter().any(|(r, _)| *r == role) {
            errors.push(FieldError::new(
                format!("person.{}.role", k.person),
                "Select their part from the list",
            ));
            continue;
        }
        persons.push(json!({"role": role, "record": k.record,
            "identity": identity(&format!("person.{}.identity", k.person))}));
        known.push(KnownParticipant {
            local_id: k.person.to_string(),
            person: k.person,
        });
    }
    let (given, family, role) = (
        values.one("new.given"),
        values.one("new.family"),
        values.one("new.role"),
    );
    if !given.is_empty() || !family.is_empty() || !role.is_empty() {
        if given.is_empty() && family.is_empty() {
            errors.push(FieldError::new(
                "new.given",
                "Enter their name, or clear their part",
            ));
        }
        if !ROLES.iter().any(|(r, _)| *r == role) {
            errors.push(FieldError::new(
                "new.role",
                "Select their part in this entry",
            ));
        }
        let given: Vec<&str> = given.split_whitespace().collect();
        persons.push(
            json!({"role": role, "record": {"local_id": new_local_id(source_id),
            "name": {"given": given, "family": (!family.is_empty()).then_some(family)}},
            "identity": identity("new.identity")}),
        );
    }
    (persons, known, errors)
}

/// The local identifier of the person a form names by hand: one per form, so that two forms
/// naming strangers never share a record (linkage decides whether they are one person).
fn new_local_id(source_id: &str) -> String {
    format!("new-{source_id}")
}

/// When it happened, from the date input and an optional time.
fn occurred_at(values: &Values) -> Result<String, FieldError> {
    let date = crate::ui::date_from_parts(
        "occurred",
        "The date it happened",
        [
            values.one("occurred"),
            values.one("occurred-month"),
            values.one("occurred-year"),
        ],
    )?
    .ok_or_else(|| FieldError::new("occurred", "Enter the date it happened"))?;
    let time = values.one("occurred-time");
    if time.is_empty() {
        return Ok(date.format("%Y-%m-%d").to_string());
    }
    let time = NaiveTime::parse_from_str(time, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H.%M"))
        .map_err(|_| {
            FieldError::new(
                "occurred-time",
                "Enter the time as hours and minutes, like 14:30",
            )
        })?;
    Ok(format!(
        "{}T{}",
        date.format("%Y-%m-%d"),
        time.format("%H:%M")
    ))
}

/// An API field error as the form shows it: on its question, in the form's words.
fn form_error(e: &FieldError) -> FieldError {
    let name = form_name(&e.field);
    let reason = if name.starts_with("details") && e.reason.contains("local_id") {
        "Choose someone who is part of this entry: give them a part under Who was involved"
            .to_owned()
    } else {
        crate::ui::capitalised(&e.reason)
    };
    FieldError::new(name, reason)
}

/// The form name an API field error belongs to.
fn form_name(field: &str) -> String {
    if field.starts_with("details") {
        field.to_owned()
    } else if field.starts_with("occurred_at") {
        "occurred".to_owned()
    } else if field.starts_with("summary") {
        "summary".to_owned()
    } else {
        "people".to_owned()
    }
}

async fn record_submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    own_only: Option<Extension<OwnEntriesOnly>>,
    Path(id): Path<String>,
    Query(param): Query<KindParam>,
    body: Bytes,
) -> Result<Response, Error> {
    let values = Values::from_form(&body).map_err(|e| Error::BadRequest(vec![e]))?;
    let child = parse_person_id(&id)?;
    may_record(&caller)?;
    let kind_name = param.kind.unwrap_or_default();
    let kind = form_kind(&kind_name)?;
    let source_id = values.one("source_id").to_owned();
    if Uuid::parse_str(&source_id).is_err() {
        return Err(Error::BadRequest(vec![FieldError::new(
            "source_id",
            "the form is not one this service made; start again",
        )]));
    }
    // Persons found by searches on the form so far, and a new search if one was asked for.
    let mut found: Vec<PersonId> = values
        .all("found")
        .iter()
        .filter_map(|id| id.parse().ok())
        .take(MAX_FOUND)
        .collect();
    // Enter in any field sends the form's first button, Find: with nothing to find, it is
    // the form sent.
    let finding = values.one("find") == "1" && !values.one("find.q").trim().is_empty();
    let mut searched = None;
    if finding {
        let q = safeguard_core::text::visible(values.one("find.q"));
        let hits = crate::persons::search(&state, &caller, q.clone()).await?;
        let new: Vec<PersonId> = hits
            .iter()
            .map(|h| h.id)
            .filter(|id| *id != child && !found.contains(id))
            .collect();
        searched = Some((q, hits.len()));
        found.extend(new);
        found.truncate(MAX_FOUND);
    }
    let corrects = match values.one("corrects") {
        "" => None,
        id => Some(corrected(&state, &caller, child, id, kind).await?),
    };
    let mut context = context(&state, &caller, child, own_only.is_some(), found).await?;
    if let Some(searched) = searched {
        context.searched = Some(searched);
        return Ok(form_page(&caller, &context, kind, &values, &[]).into_response());
    }
    let spec = forms::spec(kind);
    // Every mistake at once, in the order the page asks.
    let mut errors = Vec::new();
    let occurred = occurred_at(&values).map_err(|e| errors.push(e)).ok();
    let summary = values.one("summary");
    if summary.is_empty() {
        errors.push(FieldError::new("summary", "Enter what happened"));
    }
    let (persons, known, people_errors) = people_of(&context, &values, &source_id);
    errors.extend(people_errors);
    let (details, details_errors) = forms::decode(spec, &values, "details");
    errors.extend(details_errors);
    if !errors.is_empty() {
        return Ok(form_page(&caller, &context, kind, &values, &errors).into_response());
    }
    let recorded = record_on_page(
        &state,
        &caller,
        vec![PageEntry {
            source_id,
            occurred_at: occurred,
            persons,
            summary: summary.to_owned(),
            details,
            supersedes: corrects.as_ref().map(|c| c.entry.source.id.clone()),
        }],
        known,
    )
    .await?;
    match recorded {
        Ok(appended) => {
            let entry = appended
                .first()
                .map(|a| a.id.to_string())
                .unwrap_or_default();
            Ok(
                Redirect::to(&format!("/persons/{child}?recorded={entry}#recorded"))
                    .into_response(),
            )
        }
        Err(error) => {
            Ok(form_page(&caller, &context, kind, &values, &[form_error(&error)]).into_response())
        }
    }
}

/// An entry a page records for the signed-in user's agency.
pub(crate) struct PageEntry {
    /// The form's own identifier for it (a resend is the entry it made then).
    pub(crate) source_id: String,
    /// When it happened (`2007-08-03` or `2007-08-03T14:30`).
    pub(crate) occurred_at: Option<String>,
    /// The participants, as the API takes them.
    pub(crate) persons: Vec<Value>,
    pub(crate) summary: String,
    /// The kind's details, as the API takes them.
    pub(crate) details: Value,
    /// The source id of the entry it corrects.
    pub(crate) supersedes: Option<String>,
}

/// Records entries from a page as the signed-in user, through the API's own parsing, access
/// rule and write, in one transaction; `known` joins the first entry's chosen participants
/// to their persons. A refusal the page shows (a field the parsing or the write refused, or
/// a form sent again after it was recorded) comes back as a value naming the field as the
/// API does; anything else is an error.
pub(crate) async fn record_on_page(
    state: &AppState,
    caller: &Caller,
    entries: Vec<PageEntry>,
    known: Vec<KnownParticipant>,
) -> Result<Result<Vec<safeguard_store::Appended>, FieldError>, Error> {
    let session = caller
        .session()
        .ok_or_else(|| Error::Forbidden("sign in to record".into()))?;
    let now = chrono::Utc::now();
    let role = session
        .user
        .roles
        .first()
        .map_or("Professional".to_owned(), |r| {
            crate::ui::capitalised(&r.as_str().replace('_', " "))
        });
    let mut parsed = Vec::with_capacity(entries.len());
    for entry in entries {
        // Sent again (a double click, the back button), the form is the entry it made then.
        let (agency, sent) = (session.user.agency.clone(), entry.source_id.clone());
        let recorded_at = state
            .blocking(move |store| store.recorded_at_of(&agency, FORM_SYSTEM, &sent))
            .await?
            // Whole seconds: what is stored is what a resend compares with.
            .unwrap_or_else(|| chrono::SubsecRound::trunc_subsecs(now, 0));
        let body = json!({
            "agency": session.user.agency.as_str(),
            "source": {"system": FORM_SYSTEM, "id": entry.source_id},
            "author": {"name": session.user.display_name, "role": role},
            "occurred_at": entry.occurred_at,
            "recorded_at": recorded_at,
            "persons": entry.persons,
            "summary": entry.summary,
            "details": entry.details,
            "supersedes": entry.supersedes,
        });
        match safeguard_core::Entry::from_json(body, now) {
            Ok(entry) => parsed.push(entry),
            Err(e) => return Ok(Err(e)),
        }
    }
    let actor = caller.actor();
    let rules = state.rules.clone();
    let stored = state
        .blocking(move |store| {
            let today = chrono::Local::now().date_naive();
            // The refusals a page shows come back as values, the rest as errors.
            Ok(store.append_known_and_refresh(&actor, &parsed, &known, &rules, today))
        })
        .await?;
    match stored {
        Ok(appended) => Ok(Ok(appended)),
        Err(StoreError::Invalid { error, .. }) => Ok(Err(error)),
        Err(StoreError::Conflict { .. }) => Ok(Err(FieldError::new(
            "summary",
            "This form was recorded already. To add another entry, start a new form; to correct one, ask your agency's system administrator",
        ))),
        Err(e) => Err(e.into()),
    }
}

fn form_page(
    caller: &Caller,
    context: &Context,
    kind: EntryKind,
    values: &Values,
    errors: &[FieldError],
) -> Response {
    let by_name: HashMap<String, String> = errors
        .iter()
        .map(|e| (e.field.clone(), e.reason.clone()))
        .collect();
    let mut people: Vec<(String, String)> = vec![(
        context.child.to_string(),
        format!("{} (the child)", context.child_name),
    )];
    people.extend(
        context
            .known
            .iter()
            .map(|k| (k.person.to_string(), k.name.clone())),
    );
    let source_id = values.one("source_id");
    people.push((
        new_local_id(source_id),
        "The person not listed, named below".to_owned(),
    ));
    let offered = Offered {
        people: &people,
        agencies: &context.agencies,
    };
    let title = format!("{} for {}", kind.label(), context.child_name);
    let title = if errors.is_empty() {
        title
    } else {
        format!("Error: {title}")
    };
    let error_of = |name: &str| by_name.get(name);
    let group = |name: &str| {
        if error_of(name).is_some() {
            "govuk-form-group govuk-form-group--error"
        } else {
            "govuk-form-group"
        }
    };
    let message = |name: &str| {
        html! {
            @if let Some(e) = error_of(name) {
                (crate::ui::error_message(&field_id(name), e))
            }
        }
    };
    let page = layout(
        &title,
        caller.session(),
        html! {
            a class="govuk-back-link" href={ "/persons/" (context.child) "/record" } { "Back" }
            @if !errors.is_empty() {
                (error_summary(&errors.iter().map(|e| (field_id(&e.field), e.reason.clone())).collect::<Vec<_>>()))
            }
            span class="govuk-caption-l" { (context.child_name) }
            @if values.one("corrects").is_empty() {
                h1 class="govuk-heading-l" { (kind.label()) }
            } @else {
                h1 class="govuk-heading-l" { "Correct this " (kind.label().to_lowercase()) }
                div class="govuk-inset-text" {
                    "Change what was wrong and record it again. The entry you correct stays in the record, marked as corrected, and everyone who reads the record sees the correction instead."
                }
            }
            @if context.record_hidden {
                (not_yet_involved())
            }
            form method="post" action={ "/persons/" (context.child) "/record?kind=" (kind.as_str()) } novalidate {
                input type="hidden" name=(CSRF_FIELD) value=(context.csrf);
                input type="hidden" name="source_id" value=(source_id);
                @if !values.one("corrects").is_empty() {
                    input type="hidden" name="corrects" value=(values.one("corrects"));
                }
                (crate::ui::date_input(
                    "occurred",
                    ["occurred", "occurred-month", "occurred-year"],
                    [values.one("occurred"), values.one("occurred-month"), values.one("occurred-year")],
                    html! { legend class="govuk-fieldset__legend govuk-fieldset__legend--m" { "When did it happen?" } },
                    "For example, 27 3 2007",
                    error_of("occurred").map(String::as_str),
                ))
                div class=(group("occurred-time")) {
                    label class="govuk-label govuk-label--s" for="occurred-time" { "Time (optional)" }
                    div class="govuk-hint" id="occurred-time-hint" { "For example, 14:30" }
                    (message("occurred-time"))
                    input class="govuk-input govuk-input--width-5" id="occurred-time" name="occurred-time" type="text" value=(values.one("occurred-time")) aria-describedby="occurred-time-hint";
                }
                div class=(group("summary")) {
                    label class="govuk-label govuk-label--m" for="summary" { "What happened?" }
                    div class="govuk-hint" id="summary-hint" { "In your own words, as you would write it in your notes" }
                    (message("summary"))
                    textarea class={ "govuk-textarea" @if error_of("summary").is_some() { " govuk-textarea--error" } } id="summary" name="summary" rows="5" aria-describedby="summary-hint" { (values.one("summary")) }
                }
                h2 class="govuk-heading-m" id="people" { "Who was involved" }
                (message("people"))
                @if context.record_hidden {
                    p class="govuk-body" { "The entry is about " strong { (context.child_name) } ". Add anyone else it names below." }
                } @else {
                    p class="govuk-body" { "The entry is about " strong { (context.child_name) } ". Choose the part of anyone else it names." }
                }
                @for k in &context.known {
                    @let role_name = format!("person.{}.role", k.person);
                    @let identity_name = format!("person.{}.identity", k.person);
                    div class=(group(&role_name)) {
                        fieldset class="govuk-fieldset" {
                            legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (k.name) }
                            div class="govuk-hint" { (crate::ui::sentence(&k.note)) }
                            (message(&role_name))
                            (role_select(&role_name, values.one(&role_name)))
                            (identity_checkbox(&identity_name, values.one(&identity_name) == "verified"))
                        }
                    }
                }
                @for k in context.known.iter().filter(|k| k.found) {
                    input type="hidden" name="found" value=(k.person);
                }
                div class="govuk-form-group" id="find" {
                    label class="govuk-label govuk-label--s" for="find-q" { "Someone already known, not listed (optional)" }
                    div class="govuk-hint" id="find-q-hint" { "Search by name, date of birth or postcode to add them above" }
                    @if let Some((q, n)) = &context.searched {
                        @if *n == 0 {
                            p class="govuk-body" role="status" { "No one found for “" (q) "”. Check the spelling, or name them below." }
                        } @else {
                            p class="govuk-body" role="status" { (n) " found for “" (q) "”: choose their part above." }
                        }
                    }
                    div class="govuk-input__wrapper" {
                        input class="govuk-input govuk-!-width-one-half" id="find-q" name="find.q" type="search" spellcheck="false" autocomplete="off" aria-describedby="find-q-hint" value=(values.one("find.q"));
                    }
                    button class="govuk-button govuk-button--secondary govuk-!-margin-top-2" type="submit" name="find" value="1" formaction={ "/persons/" (context.child) "/record?kind=" (kind.as_str()) "#find" } data-module="govuk-button" { "Find" }
                }
                div class="govuk-form-group" {
                    fieldset class="govuk-fieldset" {
                        legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { "Someone not listed (optional)" }
                        div class="govuk-hint" { "Name anyone else the entry is about, as they gave their name" }
                        @for (name, label, width) in [("new.given", "First names", "govuk-!-width-one-half"), ("new.family", "Last name", "govuk-!-width-one-half")] {
                            div class=(group(name)) {
                                label class="govuk-label" for=(field_id(name)) { (label) }
                                (message(name))
                                input class={ "govuk-input " (width) @if error_of(name).is_some() { " govuk-input--error" } } id=(field_id(name)) name=(name) type="text" spellcheck="false" autocomplete="off" value=(values.one(name));
                            }
                        }
                        div class=(group("new.role")) {
                            (message("new.role"))
                            (role_select("new.role", values.one("new.role")))
                        }
                        (identity_checkbox("new.identity", values.one("new.identity") == "verified"))
                    }
                }
                h2 class="govuk-heading-m" { "Details" }
                (forms::render(forms::spec(kind), values, &by_name, &offered, "details"))
                button class="govuk-button" type="submit" data-module="govuk-button" data-prevent-double-click="true" { "Record " (kind.label().to_lowercase()) }
            }
        },
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, page).into_response()
}

fn role_select(name: &str, chosen: &str) -> Markup {
    let id = field_id(name);
    html! {
        label class="govuk-label" for=(id) { "Their part in this entry" }
        select class="govuk-select" id=(id) name=(name) {
            option value="" selected[chosen.is_empty()] { "Not part of this entry" }
            @for (value, label) in ROLES {
                option value=(value) selected[chosen == *value] { (label) }
            }
        }
    }
}

fn identity_checkbox(name: &str, checked: bool) -> Markup {
    let id = field_id(name);
    html! {
        div class="govuk-checkboxes govuk-checkboxes--small govuk-!-margin-top-2" data-module="govuk-checkboxes" {
            div class="govuk-checkboxes__item" {
                input class="govuk-checkboxes__input" id=(id) name=(name) type="checkbox" value="verified" checked[checked];
                label class="govuk-label govuk-checkboxes__label" for=(id) { "Identity checked (identification seen, or confirmed by a check)" }
            }
        }
    }
}
