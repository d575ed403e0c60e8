//! Ofsted's Annex A: the child-level lists a local authority gives inspectors of its
//! children's services, for a period (usually the six months before the inspection). Lists 1
//! to 8 (contacts, early help, referrals, assessments, section 47 enquiries and conferences,
//! children in need, child protection plans, children looked after), each with the published
//! columns and codes (as `liiatools` ships them: `data/schemas/annex-a/`), built from children's
//! social care's entries alone and written as a spreadsheet, a sheet per list.
//!
//! What Safeguard does not hold is left blank, never guessed: the allocated team and worker,
//! the organisation completing an early help assessment, and most of list 8 (legal status,
//! placement codes, health and dental checks).

use chrono::{Datelike, Duration, NaiveDate};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use safeguard_core::calendar::Calendar;
use safeguard_core::{
    AbuseCategory, ClosureReason, ConferenceType, Disability, EntryDetails, Ethnicity, PartialDate,
    PrimaryNeed, ReferralOutcome, ReferralSource, Sex, StageEvent,
};

use crate::cin_census::{ChildHistory, Episode, episodes_in};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, or a code as the list writes it (`a) WBRI`).
    Text(String),
    /// A date.
    Date(NaiveDate),
    /// A count or an age.
    Number(i64),
    /// Not known to Safeguard.
    Blank,
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_owned())
    }
}

impl From<Option<NaiveDate>> for Cell {
    fn from(date: Option<NaiveDate>) -> Self {
        date.map_or(Cell::Blank, Cell::Date)
    }
}

/// One list: its sheet's name, its published columns and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    /// The sheet's name (`List 1`).
    pub name: &'static str,
    /// The columns, as published.
    pub columns: &'static [&'static str],
    /// A row per contact, referral, plan...
    pub rows: Vec<Vec<Cell>>,
}

/// The lists of a period.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnexA {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// Lists 1 to 8.
    pub lists: Vec<List>,
}

/// Each list's columns, as published.
pub const COLUMNS: [&[&str]; 8] = [
    &[
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age",
        "Date of Contact",
        "Contact Source",
    ],
    &[
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age",
        "Assessment start date",
        "Assessment completion date",
        "Organisation completing assessment",
    ],
    &[
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age",
        "Date of Referral",
        "Referral Source",
        "Referral NFA?",
        "Number of Referrals in Last 12 Months",
        "Allocated Team",
        "Allocated Worker",
    ],
    &[
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age",
        "Does the Child have a Disability",
        "Continuous Assessment Start Date",
        "Child Seen During Continuous Assessment",
        "Continuous Assessment Date of Authorisation",
        "Was the child assessed as requiring LA children's social care support?",
        "Allocated Team",
        "Allocated Worker",
    ],
    &[
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age",
        "Does the Child have a Disability",
        "Strategy discussion initiating Section 47 Enquiry Start Date",
        "Was an Initial Child Protection Conference deemed unnecessary?",
        "Date of Initial Child Protection Conference",
        "Did the Initial Child Protection Conference Result in a Child Protection Plan",
        "Number of Section 47 Enquiries in the last 12 months",
        "Number of ICPCs in the last 12 months",
        "Allocated Team",
        "Allocated Worker",
    ],
    &[
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age",
        "Does the Child have a Disability",
        "CIN Start Date",
        "Primary Need Code",
        "Date Child Was Last Seen",
        "CIN Closure Date",
        "Reason for Closure",
        "Case Status",
        "Allocated Team",
        "Allocated Worker",
    ],
    &[
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age",
        "Does the Child have a Disability",
        "Child Protection Plan Start Date",
        "Initial Category of Abuse",
        "Latest Category of Abuse",
        "Date of the Last Statutory Visit",
        "Was the Child Seen Alone?",
        "Date of latest review conference",
        "Child Protection Plan End Date",
        "Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)",
        "Number of Previous Child Protection Plans",
        "Allocated Team",
        "Allocated Worker",
    ],
    &[
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age",
        // Sic: the published column has the second parenthesis.
        "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N))",
        "Does the Child have a Disability",
        "Date Started to be Looked After",
        "Child's Category of Need",
        "Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)",
        "Start date of current legal status",
        "Child's Legal Status",
        "Date of Latest Statutory Review",
        "Date of Last Social Work Visit",
        "What is the permanence plan for this child?",
        "Date of Last IRO Visit / Contact to the Child",
        "Date of Last Health Assessment",
        "Date of Last Dental Check",
        "Number of Placements in the Last 12 months",
        "Date Ceased to be Looked After",
        "Reason Ceased to be Looked After",
        "Start Date of Most Recent Placement",
        "Placement Type",
        "Placement Provider",
        "Placement postcode",
        "URN of Placement",
        "Placement Location",
        "LA of Placement",
        "Number of Episodes the Child has been \u{2018}Missing\u{2019} from their Placement in the last 12 months",
        "Number of Episodes the Child has been \u{2018}Absent\u{2019} from their Placement in the last 12 months",
        "Was the child offered a Return Interview after their last missing episode (Y/N)?",
        "Did the child accept a Return Interview after their last missing episode (Y/N)?",
        "Allocated Team",
        "Allocated Worker",
    ],
];

/// The list's letter for a code among codes in their published order (`a)`, `b)`, ...).
fn lettered(index: usize, code: &str) -> String {
    format!("{}) {code}", char::from(b'a' + index as u8))
}

fn gender(sex: Option<Sex>) -> &'static str {
    match sex {
        Some(Sex::Male) => "a) Male",
        Some(Sex::Female) => "b) Female",
        _ => "c) Not stated/recorded",
    }
}

fn ethnicity(e: Ethnicity) -> String {
    let index = Ethnicity::LABELS
        .iter()
        .position(|(code, _)| *code == e.code())
        .unwrap_or(0);
    // Refused and not obtained share the list's last letter.
    lettered(index.min(18), e.code())
}

fn yes_no(value: bool) -> &'static str {
    if value { "Yes" } else { "No" }
}

fn coded_yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "a) Yes",
        Some(false) => "b) No",
        None => "c) Unknown",
    }
}

/// A referral source as the lists write it: `q) 6: Police`. The lists predate `5D` (early
/// help), which has no letter.
fn source(s: ReferralSource) -> String {
    let code = s.code();
    let kind = match code {
        "1A" | "1B" | "1C" | "1D" => "Individual",
        "2A" => "Schools",
        "2B" => "Education services",
        "4" => "Housing",
        "6" => "Police",
        "7" => "Other legal agency",
        "8" => "Other",
        "9" => "Anonymous",
        "10" => "Unknown",
        _ if code.starts_with('3') => "Health services",
        _ => "LA services",
    };
    let index = ReferralSource::LABELS
        .iter()
        .position(|(c, _)| *c == code)
        .unwrap_or(0);
    match index {
        16 => format!("{code}: {kind}"),
        i if i > 16 => lettered(i - 1, &format!("{code}: {kind}")),
        i => lettered(i, &format!("{code}: {kind}")),
    }
}

fn need(n: PrimaryNeed) -> String {
    let meaning = match n {
        PrimaryNeed::AbuseOrNeglect => "Abuse or neglect",
        PrimaryNeed::ChildDisability => "Child's disability",
        PrimaryNeed::ParentalDisability => "Parental disability or illness",
        PrimaryNeed::FamilyInAcuteStress => "Family in acute stress",
        PrimaryNeed::FamilyDysfunction => "Family dysfunction",
        PrimaryNeed::SociallyUnacceptableBehaviour => "Socially unacceptable behaviour",
        PrimaryNeed::LowIncome => "Low income",
        PrimaryNeed::AbsentParenting => "Absent parenting",
        PrimaryNeed::NotInNeed => "Cases other than children in need",
        PrimaryNeed::NotStated => "Not stated",
    };
    format!("{} - {meaning}", n.code())
}

fn closure(r: ClosureReason) -> String {
    let meaning = match r {
        ClosureReason::Adopted => "Adopted",
        ClosureReason::Died => "Died",
        ClosureReason::ChildArrangementsOrder => "Child arrangements order",
        ClosureReason::SpecialGuardianshipOrder => "Special guardianship order",
        ClosureReason::TransferredToAnotherAuthority => {
            "Transferred to services of another local authority"
        }
        ClosureReason::TransferredToAdultServices => "Transferred to adult social care services",
        ClosureReason::ServicesCeased => {
            "Services ceased for any other reason, including child no longer in need"
        }
        ClosureReason::NoFurtherActionAfterAssessment => {
            "Case closed after assessment, no further action"
        }
        ClosureReason::EarlyHelpAfterAssessment => {
            "Case closed after assessment, referred to early help"
        }
    };
    format!("{} - {meaning}", r.code())
}

fn category(c: AbuseCategory) -> &'static str {
    match c {
        AbuseCategory::Neglect => "a) Neglect",
        AbuseCategory::PhysicalAbuse => "b) Physical abuse",
        AbuseCategory::SexualAbuse => "c) Sexual abuse",
        AbuseCategory::EmotionalAbuse => "d) Emotional abuse",
        AbuseCategory::Multiple => "e) Multiple/not recommended",
    }
}

/// Whole years from `born` to `on`.
fn age(born: NaiveDate, on: NaiveDate) -> i64 {
    let mut years = i64::from(on.year() - born.year());
    if (on.month(), on.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years.max(0)
}

/// Builds lists 1 to 8 of `from` to `to` from each child's history.
pub fn build(
    from: NaiveDate,
    to: NaiveDate,
    histories: &[ChildHistory],
    calendar: &Calendar,
) -> AnnexA {
    let mut lists: Vec<List> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, columns)| List {
            name: [
                "List 1", "List 2", "List 3", "List 4", "List 5", "List 6", "List 7", "List 8",
            ][i],
            columns,
            rows: Vec::new(),
        })
        .collect();
    let mut sorted: Vec<&ChildHistory> = histories.iter().collect();
    sorted.sort_by(|a, b| a.record.local_id.cmp(&b.record.local_id));
    for h in sorted {
        let episodes = episodes_in(from, to, h, calendar);
        let rows = rows_of(from, to, h, &episodes);
        for (list, mut new) in lists.iter_mut().zip(rows) {
            list.rows.append(&mut new);
        }
    }
    for list in &mut lists {
        debug_assert!(list.rows.iter().all(|r| r.len() == list.columns.len()));
    }
    AnnexA { from, to, lists }
}

/// A child's rows of each list.
fn rows_of(
    from: NaiveDate,
    to: NaiveDate,
    h: &ChildHistory,
    episodes: &[Episode],
) -> [Vec<Vec<Cell>>; 8] {
    let r = h.record;
    let born = match r.date_of_birth {
        Some(PartialDate::Day(d)) => Some(d),
        _ => None,
    };
    let child = || -> Vec<Cell> {
        vec![
            Cell::Text(r.local_id.clone()),
            gender(r.sex).into(),
            Cell::Text(ethnicity(r.ethnicity.unwrap_or(Ethnicity::NotObtained))),
            born.into(),
            born.map_or(Cell::Blank, |b| Cell::Number(age(b, to))),
        ]
    };
    let disabled = if r.disabilities.is_empty() {
        None
    } else {
        Some(
            r.disabilities
                .iter()
                .any(|d| *d != Disability::NoDisability),
        )
    };
    let disability = || Cell::from(coded_yes_no(disabled));
    let blank = |n: usize| std::iter::repeat_n(Cell::Blank, n);
    let events = &h.events;
    let in_period = |d: NaiveDate| d >= from && d <= to;
    let year_before = |d: NaiveDate, pick: &dyn Fn(&EntryDetails) -> bool| {
        events
            .iter()
            .filter(|(e_day, e)| *e_day < d && *e_day > d - Duration::days(365) && pick(e))
            .count() as i64
    };
    let mut lists: [Vec<Vec<Cell>>; 8] = Default::default();
    for (day, details) in events.iter().filter(|(d, _)| in_period(*d)) {
        match details {
            EntryDetails::Contact(c) => {
                let mut row = child();
                row.push(Cell::Date(*day));
                row.push(Cell::Text(source(
                    c.referral_source.unwrap_or(ReferralSource::Unknown),
                )));
                lists[0].push(row);
            }
            EntryDetails::ReferralDecision(d) if d.outcome == ReferralOutcome::EarlyHelp => {
                let mut row = child();
                row.push(Cell::Date(*day));
                row.extend(blank(2));
                lists[1].push(row);
            }
            _ => {}
        }
    }
    for e in episodes {
        if in_period(e.referral_date) {
            let mut row = child();
            row.push(Cell::Date(e.referral_date));
            row.push(Cell::Text(source(e.referral_source)));
            row.push(yes_no(e.referral_nfa).into());
            row.push(Cell::Number(year_before(e.referral_date, &|d| {
                matches!(d, EntryDetails::Referral(_))
            })));
            row.extend(blank(2));
            lists[2].push(row);
        }
        for a in e
            .assessments
            .iter()
            .filter(|a| a.start <= to && a.authorised.is_none_or(|d| d >= from))
        {
            let seen = a.authorised.and_then(|day| {
                events.iter().find_map(|(d, e)| match e {
                    EntryDetails::Assessment(x) if *d == day && x.child_seen.is_some() => {
                        x.child_seen
                    }
                    _ => None,
                })
            });
            let support = a.authorised.and_then(|done| {
                let planned = e.cin_plans.iter().any(|p| p.start >= done)
                    || e.protection_plans.iter().any(|p| p.start >= done);
                let closed_after = e.closure.is_some_and(|(_, reason)| {
                    matches!(
                        reason,
                        ClosureReason::NoFurtherActionAfterAssessment
                            | ClosureReason::EarlyHelpAfterAssessment
                    )
                });
                if planned {
                    Some(true)
                } else if closed_after {
                    Some(false)
                } else {
                    None
                }
            });
            let mut row = child();
            row.push(disability());
            row.push(Cell::Date(a.start));
            row.push(seen.map_or(Cell::Blank, |s| yes_no(s).into()));
            row.push(a.authorised.into());
            row.push(support.map_or(Cell::Blank, |s| yes_no(s).into()));
            row.extend(blank(2));
            lists[3].push(row);
        }
        for s in e.section47s.iter().filter(|s| in_period(s.start)) {
            let discussed = events
                .iter()
                .rev()
                .find_map(|(d, x)| match x {
                    EntryDetails::StrategyDiscussion(sd)
                        if sd.section47_decided && *d <= s.start && *d >= e.referral_date =>
                    {
                        Some(*d)
                    }
                    _ => None,
                })
                .unwrap_or(s.start);
            let made_plan = s
                .icpc
                .map(|day| e.protection_plans.iter().any(|p| p.start == day));
            let mut row = child();
            row.push(disability());
            row.push(Cell::Date(discussed));
            row.push(yes_no(s.icpc_not_required).into());
            row.push(s.icpc.into());
            row.push(made_plan.map_or(Cell::Blank, |m| yes_no(m).into()));
            row.push(Cell::Number(year_before(s.start, &|d| {
                matches!(d, EntryDetails::Section47Enquiry(x) if x.stage == StageEvent::Started)
            })));
            row.push(Cell::Number(year_before(s.start + Duration::days(1), &|d| {
                matches!(d, EntryDetails::Conference(c) if c.conference_type == ConferenceType::Initial)
            })));
            row.extend(blank(2));
            lists[4].push(row);
        }
        // List 6: the episode, with where it stood at the end of the period.
        let last_seen = events.iter().rev().find_map(|(d, x)| match x {
            EntryDetails::HomeVisit(v) if v.child_seen && *d <= to => Some(*d),
            _ => None,
        });
        let status = if e.closure.is_some() {
            Some("e) Closed episode")
        } else if e.protection_plans.iter().any(|p| p.end.is_none()) {
            Some("b) Child Protection plan")
        } else if e.cin_plans.iter().any(|p| p.end.is_none()) {
            Some("c) Child in need plan")
        } else if e.assessments.iter().any(|a| a.authorised.is_none()) {
            Some("d) Open assessment")
        } else {
            None
        };
        let mut row = child();
        row.push(disability());
        row.push(Cell::Date(e.referral_date));
        row.push(e.primary_need.map_or(Cell::Blank, |n| Cell::Text(need(n))));
        row.push(last_seen.into());
        row.push(e.closure.map(|(d, _)| d).into());
        row.push(
            e.closure
                .map_or(Cell::Blank, |(_, r)| Cell::Text(closure(r))),
        );
        row.push(status.map_or(Cell::Blank, Cell::from));
        row.extend(blank(2));
        lists[5].push(row);
        for p in e
            .protection_plans
            .iter()
            .filter(|p| p.start <= to && p.end.is_none_or(|d| d >= from))
        {
            let until = p.end.unwrap_or(to).min(to);
            let visit = events.iter().rev().find_map(|(d, x)| match x {
                EntryDetails::HomeVisit(v) if v.child_seen && *d >= p.start && *d <= until => {
                    Some((*d, v.child_seen_alone))
                }
                _ => None,
            });
            let protected = events.iter().any(|(d, x)| {
                matches!(x, EntryDetails::CourtApplication(c)
                    if c.order.to_lowercase().contains("emergency protection"))
                    && *d <= to
                    && *d > to - Duration::days(183)
            });
            let mut row = child();
            row.push(disability());
            row.push(Cell::Date(p.start));
            row.push(category(p.initial_category).into());
            row.push(category(p.latest_category).into());
            row.push(visit.map(|(d, _)| d).into());
            row.push(visit.map_or(Cell::Blank, |(_, alone)| coded_yes_no(Some(alone)).into()));
            row.push(p.reviews.last().copied().into());
            row.push(p.end.into());
            row.push(coded_yes_no(Some(protected)).into());
            row.push(Cell::Number(i64::from(p.previous_plans)));
            row.extend(blank(2));
            lists[6].push(row);
        }
    }
    // List 8: a child placed away from home by the end of the period.
    let placements: Vec<NaiveDate> = events
        .iter()
        .filter(|(d, x)| *d <= to && matches!(x, EntryDetails::Placement(_)))
        .map(|(d, _)| *d)
        .collect();
    if let (Some(first), Some(latest)) = (placements.first(), placements.last()) {
        let missing = events
            .iter()
            .filter(|(d, x)| {
                matches!(x, EntryDetails::MissingEpisode(_))
                    && *d <= to
                    && *d > to - Duration::days(365)
            })
            .count() as i64;
        let mut row = child();
        row.push(Cell::Blank);
        row.push(disability());
        row.push(Cell::Date(*first));
        row.extend(blank(10));
        row.push(Cell::Number(
            placements
                .iter()
                .filter(|d| **d > to - Duration::days(365))
                .count() as i64,
        ));
        row.extend(blank(2));
        row.push(Cell::Date(*latest));
        row.extend(blank(6));
        row.push(Cell::Number(missing));
        row.extend(blank(5));
        lists[7].push(row);
    }
    lists
}

/// Writes the lists as a workbook: a sheet per list, its columns in bold in the first row,
/// dates as dates (`dd/mm/yyyy`).
pub fn write(annex: &AnnexA) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for list in &annex.lists {
        let sheet = book.add_worksheet();
        sheet.set_name(list.name)?;
        for (c, name) in list.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &bold)?;
        }
        for (r, row) in list.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) => {
                        sheet.write_string(r, c, t)?;
                    }
                    Cell::Date(d) => {
                        sheet.write_date_with_format(r, c, d, &date)?;
                    }
                    Cell::Number(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Blank => {}
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofit();
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests;
