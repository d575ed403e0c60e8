//! A child of a past return as the entries [`super::build`] reads, so that an authority's
//! history seeds Safeguard and its next return says the same. Each entry's source id is the
//! child's identifier, the episode's referral day and its place in the episode: importing the
//! return again changes nothing.
//!
//! What a return does not say is not invented: a completed assessment does not say whether
//! the child was seen (the return does not record it), and a section 47 enquiry that needed no
//! conference is completed on its start day (the return has no completion date). What the
//! entries cannot hold is not kept: a former UPN, the reason a UPN is unknown, an assessment's
//! internal review date, a primary need without a completed assessment, a latest category of
//! abuse without a review conference. Plans before the earliest episode in the return are not
//! invented either; each plan keeps the return's count of the plans before it.

use chrono::{DateTime, NaiveDate, Utc};
use safeguard_core::calendar::Calendar;
use safeguard_core::{
    AgencyId, Assessment, AssessmentStage, Author, CaseClosure, ChildInNeedPlan, Conference,
    ConferenceType, Entry, EntryDetails, OccurredAt, PartialDate, Participant, ParticipantRole,
    PersonRecord, PlanEnd, PlanStage, PlanStart, Referral, ReferralDecision, ReferralOutcome, Sex,
    SourceRef, StageEvent, StrategyDiscussion,
};

use super::build::ICPC_WORKING_DAYS;
use super::{Child, Episode, Gender};

/// The `source.system` of entries imported from a census return.
pub const IMPORT_SYSTEM: &str = safeguard_core::CENSUS_RETURN_SYSTEM;

/// The child's record as the return gives it.
fn record(child: &Child) -> PersonRecord {
    PersonRecord {
        date_of_birth: child.birth_date.map(PartialDate::Day),
        expected_date_of_birth: child.expected_birth_date,
        sex: match child.gender {
            Gender::Male => Some(Sex::Male),
            Gender::Female => Some(Sex::Female),
            Gender::Indeterminate => Some(Sex::Unknown),
            Gender::NotRecorded => None,
        },
        ethnicity: Some(child.ethnicity),
        disabilities: child.disabilities.clone(),
        upn: child.upn.clone(),
        date_of_death: child.death_date,
        ..PersonRecord::named(&child.la_child_id, Default::default())
    }
}

/// The entries for one child of a return, recorded by `agency`, in the order they happened.
/// `now` bounds their recording time (an entry is recorded at noon of its day, or now).
pub fn to_entries(
    child: &Child,
    agency: &AgencyId,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Vec<Entry> {
    let person = record(child);
    let mut out = Vec::new();
    for episode in &child.episodes {
        let first = out.len();
        let mut add = |day: NaiveDate, what: &str, summary: String, details: EntryDetails| {
            let n = out.len() - first;
            let recorded_at = day
                .and_hms_opt(12, 0, 0)
                .expect("noon exists")
                .and_utc()
                .min(now);
            out.push(Entry {
                agency: agency.clone(),
                source: SourceRef {
                    system: IMPORT_SYSTEM.to_owned(),
                    id: format!("{}/{}/{what}/{n}", child.la_child_id, episode.referral_date),
                },
                author: Author {
                    name: "Children in need census return".to_owned(),
                    role: "Local authority return".to_owned(),
                },
                occurred_at: OccurredAt::on(day),
                recorded_at,
                persons: vec![Participant {
                    role: ParticipantRole::SubjectChild,
                    record: person.clone(),
                    identity: None,
                }],
                summary,
                details,
                residences: Vec::new(),
                relationships: Vec::new(),
                supersedes: None,
            });
        };
        episode_entries(episode, calendar, &mut add);
    }
    // In time order; a stable sort keeps a day's entries in the order written (an enquiry
    // started before it concluded, a conference before the plan it made).
    out.sort_by_key(|e| e.occurred_at.date());
    out
}

type Add<'a> = dyn FnMut(NaiveDate, &str, String, EntryDetails) + 'a;

fn episode_entries(e: &Episode, calendar: &Calendar, add: &mut Add) {
    let from_return = "from the children in need census return";
    add(
        e.referral_date,
        "referral",
        format!(
            "Referral (source {}), {from_return}.",
            e.referral_source.code()
        ),
        EntryDetails::Referral(Referral {
            reason: None,
            source_code: Some(e.referral_source.code().to_owned()),
            decision: None,
        }),
    );
    if e.referral_nfa {
        add(
            e.referral_date,
            "nfa",
            format!("Referral decided no further action, {from_return}."),
            EntryDetails::ReferralDecision(ReferralDecision {
                outcome: ReferralOutcome::NoFurtherAction,
                reason: None,
            }),
        );
    }
    let last_completed = e.assessments.iter().rposition(|a| a.authorised.is_some());
    for (i, a) in e.assessments.iter().enumerate() {
        add(
            a.start,
            "assessment",
            format!("Child and family assessment started, {from_return}."),
            EntryDetails::Assessment(Assessment {
                stage: AssessmentStage::Started,
                child_seen: None,
                child_seen_alone: None,
                factors: Vec::new(),
                outcome: None,
                primary_need: None,
            }),
        );
        if let Some(day) = a.authorised {
            add(
                day,
                "assessment",
                format!(
                    "Child and family assessment authorised, {from_return} (which does not say whether the child was seen)."
                ),
                EntryDetails::Assessment(Assessment {
                    stage: AssessmentStage::Completed,
                    child_seen: None,
                    child_seen_alone: None,
                    factors: a.factors.clone(),
                    outcome: None,
                    primary_need: if Some(i) == last_completed {
                        e.primary_need
                    } else {
                        None
                    },
                }),
            );
        }
    }
    for p in &e.cin_plans {
        add(
            p.start,
            "cin-plan",
            format!("Child in need plan started, {from_return}."),
            EntryDetails::ChildInNeedPlan(ChildInNeedPlan {
                stage: PlanStage::Started,
            }),
        );
        if let Some(end) = p.end {
            add(
                end,
                "cin-plan",
                format!("Child in need plan ended, {from_return}."),
                EntryDetails::ChildInNeedPlan(ChildInNeedPlan {
                    stage: PlanStage::Ended,
                }),
            );
        }
    }
    let plan_starting = |day: NaiveDate| e.protection_plans.iter().find(|p| p.start == day);
    let mut conferences: Vec<NaiveDate> = Vec::new();
    let mut initial_conference = |day: NaiveDate, add: &mut Add| {
        if conferences.contains(&day) {
            return;
        }
        conferences.push(day);
        let plan = plan_starting(day);
        add(
            day,
            "icpc",
            format!("Initial child protection conference, {from_return}."),
            EntryDetails::Conference(Conference {
                conference_type: ConferenceType::Initial,
                plan_decided: plan.is_some(),
                category: plan.map(|p| p.initial_category),
            }),
        );
    };
    for s in &e.section47s {
        // The target is 15 working days from the strategy discussion: the discussion's day.
        if let Some(discussed) = s
            .icpc_target
            .and_then(|t| calendar.sub_working_days(t, ICPC_WORKING_DAYS).ok())
            .filter(|d| *d <= s.start && *d >= e.referral_date)
        {
            add(
                discussed,
                "strategy",
                format!("Strategy discussion decided a section 47 enquiry, {from_return}."),
                EntryDetails::StrategyDiscussion(StrategyDiscussion {
                    section47_decided: true,
                    agencies_present: Vec::new(),
                }),
            );
        }
        add(
            s.start,
            "s47",
            format!("Section 47 enquiry started, {from_return}."),
            EntryDetails::Section47Enquiry(safeguard_core::Section47Enquiry {
                stage: StageEvent::Started,
                outcome: None,
                icpc_required: None,
            }),
        );
        if s.icpc_not_required {
            add(
                s.start,
                "s47",
                format!(
                    "Section 47 enquiry concluded no conference was needed, {from_return} (completion date not in the return)."
                ),
                EntryDetails::Section47Enquiry(safeguard_core::Section47Enquiry {
                    stage: StageEvent::Completed,
                    outcome: None,
                    icpc_required: Some(false),
                }),
            );
        }
        if let Some(day) = s.icpc {
            initial_conference(day, add);
        }
    }
    if let Some(day) = e.initial_cpc {
        initial_conference(day, add);
    }
    for p in &e.protection_plans {
        add(
            p.start,
            "cpp",
            format!("Child protection plan started, {from_return}."),
            EntryDetails::PlanStart(PlanStart {
                category: p.initial_category,
                previous_plans: Some(p.previous_plans),
            }),
        );
        for (i, review) in p.reviews.iter().enumerate() {
            let last = i + 1 == p.reviews.len();
            add(
                *review,
                "cpp-review",
                format!("Child protection review conference, {from_return}."),
                EntryDetails::Conference(Conference {
                    conference_type: ConferenceType::Review,
                    plan_decided: true,
                    category: last.then_some(p.latest_category),
                }),
            );
        }
        if let Some(end) = p.end {
            add(
                end,
                "cpp",
                format!("Child protection plan ended, {from_return}."),
                EntryDetails::PlanEnd(PlanEnd { reason: None }),
            );
        }
    }
    if let Some((day, reason)) = e.closure {
        add(
            day,
            "closure",
            format!("Case closed ({}), {from_return}.", reason.code()),
            EntryDetails::CaseClosure(CaseClosure { reason }),
        );
    }
}
