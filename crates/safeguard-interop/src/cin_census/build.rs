//! A return from a local authority's entries alone. Each `referral` opens an episode of need
//! that runs to the first `case_closure` after it, or to the next referral; the assessments,
//! plans, enquiries and conferences recorded in between are the episode's. An episode is
//! returned for a year when it was open on any day of it; what happened after 31 March is
//! left out (a case closed in April is still open in the return).

use chrono::NaiveDate;
use safeguard_core::calendar::Calendar;
use safeguard_core::{
    AssessmentStage, ConferenceType, EntryDetails, Ethnicity, PartialDate, PersonRecord, PlanStage,
    ReferralOutcome, ReferralSource, Sex, StageEvent,
};

use super::{
    AssessmentDates, Child, CollectionYear, Episode, Gender, PlanDates, ProtectionPlan, Return,
    Section47Dates, from_code,
};

/// How many working days after the strategy discussion an initial conference is due
/// (Working Together 2023, ch. 3; the census's `InitialCPCtarget`).
pub const ICPC_WORKING_DAYS: u32 = 15;

/// What the authority holds of one child.
#[derive(Debug, Clone)]
pub struct ChildHistory<'a> {
    /// The authority's own record of the child, as it stands now.
    pub record: &'a PersonRecord,
    /// The authority's entries about the child, oldest first: the day each happened, and what.
    pub events: Vec<(NaiveDate, &'a EntryDetails)>,
}

/// Builds the return for `year` of the authority numbered `lea`: every child with an episode
/// open during the year, in the order of their identifiers.
pub fn build(
    year: CollectionYear,
    lea: &str,
    histories: &[ChildHistory],
    calendar: &Calendar,
) -> Return {
    let mut children: Vec<Child> = histories
        .iter()
        .filter_map(|h| child(year, h, calendar))
        .collect();
    children.sort_by(|a, b| a.la_child_id.cmp(&b.la_child_id));
    Return {
        year,
        lea: lea.to_owned(),
        children,
    }
}

/// The child's episodes open on any day from `first` to `last`, as they stood on `last`.
pub(crate) fn episodes_in(
    first: NaiveDate,
    last: NaiveDate,
    history: &ChildHistory,
    calendar: &Calendar,
) -> Vec<Episode> {
    episodes_of(&history.events)
        .into_iter()
        .filter_map(|window| episode(first, last, &history.events, window, calendar))
        .collect()
}

fn child(year: CollectionYear, history: &ChildHistory, calendar: &Calendar) -> Option<Child> {
    let r = history.record;
    let episodes = episodes_in(year.start(), year.end(), history, calendar);
    if episodes.is_empty() {
        return None;
    }
    Some(Child {
        la_child_id: r.local_id.clone(),
        upn: r.upn.clone(),
        // The census takes a whole date only; a birth known to the month is not returned.
        birth_date: match r.date_of_birth {
            Some(PartialDate::Day(d)) => Some(d),
            _ => None,
        },
        expected_birth_date: r.expected_date_of_birth,
        gender: match r.sex {
            Some(Sex::Male) => Gender::Male,
            Some(Sex::Female) => Gender::Female,
            Some(Sex::Unknown) | None => Gender::NotRecorded,
        },
        death_date: r.date_of_death,
        ethnicity: r.ethnicity.unwrap_or(Ethnicity::NotObtained),
        disabilities: r.disabilities.clone(),
        episodes,
    })
}

/// The events of each episode, as index ranges: from a referral to the next referral on a
/// later day (a second referral on the same day is the same episode). What was recorded
/// earlier on a referral's day (a case closed that morning) stays with the episode before.
fn episodes_of(events: &[(NaiveDate, &EntryDetails)]) -> Vec<std::ops::Range<usize>> {
    let mut starts: Vec<usize> = Vec::new();
    for (i, (day, details)) in events.iter().enumerate() {
        if matches!(details, EntryDetails::Referral(_))
            && starts.last().is_none_or(|&s| events[s].0 < *day)
        {
            starts.push(i);
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| s..starts.get(k + 1).copied().unwrap_or(events.len()))
        .collect()
}

fn episode(
    first: NaiveDate,
    last: NaiveDate,
    all: &[(NaiveDate, &EntryDetails)],
    window: std::ops::Range<usize>,
    calendar: &Calendar,
) -> Option<Episode> {
    let events = &all[window.clone()];
    let (referral_date, referral) = events.iter().find_map(|(d, e)| match e {
        EntryDetails::Referral(r) => Some((*d, r)),
        _ => None,
    })?;
    if referral_date > last {
        return None;
    }
    let closed_at = events
        .iter()
        .position(|(d, e)| matches!(e, EntryDetails::CaseClosure(_)) && *d >= referral_date);
    let closure = closed_at.and_then(|i| match events[i].1 {
        EntryDetails::CaseClosure(c) => Some((events[i].0, c.reason)),
        _ => None,
    });
    // The episode ends with its closure: what follows it on the same day is not its own.
    let window = window.start..closed_at.map_or(window.end, |i| window.start + i + 1);
    let events = &all[window.clone()];
    if closure.is_some_and(|(d, _)| d < first) {
        return None;
    }
    let last_day = closure.map_or(last, |(d, _)| d).min(last);
    let closure = closure.filter(|(d, _)| *d <= last);
    let within = || {
        events
            .iter()
            .filter(move |(d, _)| *d >= referral_date && *d <= last_day)
    };
    let referral_source = referral
        .source_code
        .as_deref()
        .and_then(from_code)
        .or_else(|| {
            // Who made the contact the referral came from.
            all[..window.start].iter().rev().find_map(|(d, e)| match e {
                EntryDetails::Contact(c) if *d <= referral_date => c.referral_source,
                _ => None,
            })
        })
        .unwrap_or(ReferralSource::Unknown);
    // The decision on the referral: the first after it, or one recorded just before it on
    // the same day (a contact decided, then the referral written).
    let decision = |(_, e): &(NaiveDate, &EntryDetails)| match e {
        EntryDetails::ReferralDecision(d) => Some(d.outcome == ReferralOutcome::NoFurtherAction),
        _ => None,
    };
    let referral_nfa = within()
        .find_map(decision)
        .or_else(|| {
            all[..window.start]
                .iter()
                .rev()
                .take_while(|(d, _)| *d == referral_date)
                .find_map(decision)
        })
        .unwrap_or(false);

    let mut out = Episode {
        referral_date,
        referral_source,
        primary_need: None,
        closure,
        initial_cpc: None,
        assessments: Vec::new(),
        cin_plans: Vec::new(),
        section47s: Vec::new(),
        referral_nfa,
        protection_plans: Vec::new(),
    };
    let mut section47_done: Vec<bool> = Vec::new();
    for (index, (day, details)) in all.iter().enumerate().skip(window.start).take(window.len()) {
        let day = *day;
        if day < referral_date || day > last_day {
            continue;
        }
        match details {
            EntryDetails::Assessment(a) => match a.stage {
                AssessmentStage::Started => out.assessments.push(AssessmentDates {
                    start: day,
                    authorised: None,
                    factors: Vec::new(),
                }),
                AssessmentStage::Completed => {
                    let open = out
                        .assessments
                        .iter_mut()
                        .rev()
                        .find(|x| x.authorised.is_none());
                    let factors = a.factors.clone();
                    match open {
                        Some(x) => {
                            x.authorised = Some(day);
                            x.factors = factors;
                        }
                        None => out.assessments.push(AssessmentDates {
                            start: day,
                            authorised: Some(day),
                            factors,
                        }),
                    }
                    out.primary_need = a.primary_need.or(out.primary_need);
                }
            },
            EntryDetails::ChildInNeedPlan(p) => match p.stage {
                PlanStage::Started => out.cin_plans.push(PlanDates {
                    start: day,
                    end: None,
                }),
                PlanStage::Ended => {
                    if let Some(open) = out.cin_plans.iter_mut().rev().find(|x| x.end.is_none()) {
                        open.end = Some(day);
                    }
                }
            },
            EntryDetails::Section47Enquiry(s) => match s.stage {
                StageEvent::Started => {
                    // Due 15 working days from the strategy discussion that decided it.
                    let discussed = all[..=index]
                        .iter()
                        .rev()
                        .find_map(|(d, e)| match e {
                            EntryDetails::StrategyDiscussion(sd) if sd.section47_decided => {
                                Some(*d)
                            }
                            _ => None,
                        })
                        .filter(|d| *d >= referral_date)
                        .unwrap_or(day);
                    out.section47s.push(Section47Dates {
                        start: day,
                        icpc_target: calendar.add_working_days(discussed, ICPC_WORKING_DAYS).ok(),
                        icpc: None,
                        icpc_not_required: false,
                    });
                    section47_done.push(false);
                }
                StageEvent::Completed => {
                    if let Some(k) = section47_done.iter().rposition(|done| !done) {
                        section47_done[k] = true;
                        out.section47s[k].icpc_not_required = s.icpc_required == Some(false);
                    }
                }
            },
            EntryDetails::Conference(c) => match c.conference_type {
                ConferenceType::Initial => {
                    out.initial_cpc = out.initial_cpc.or(Some(day));
                    if let Some(s) = out
                        .section47s
                        .iter_mut()
                        .rev()
                        .find(|s| s.icpc.is_none() && s.start <= day)
                    {
                        s.icpc = Some(day);
                    }
                }
                ConferenceType::Review => {
                    if let Some(plan) = out
                        .protection_plans
                        .iter_mut()
                        .rev()
                        .find(|p| p.end.is_none())
                    {
                        plan.reviews.push(day);
                        if let (true, Some(category)) = (c.plan_decided, c.category) {
                            plan.latest_category = category;
                        }
                    }
                }
            },
            EntryDetails::PlanStart(p) => {
                let held = all[..index]
                    .iter()
                    .filter(|(_, e)| matches!(e, EntryDetails::PlanStart(_)))
                    .count() as u32;
                out.protection_plans.push(ProtectionPlan {
                    start: day,
                    end: None,
                    initial_category: p.category,
                    latest_category: p.category,
                    previous_plans: held.max(p.previous_plans.unwrap_or(0)),
                    reviews: Vec::new(),
                });
            }
            EntryDetails::PlanEnd(_) => {
                if let Some(open) = out
                    .protection_plans
                    .iter_mut()
                    .rev()
                    .find(|p| p.end.is_none())
                {
                    open.end = Some(day);
                }
            }
            _ => {}
        }
    }
    Some(out)
}
