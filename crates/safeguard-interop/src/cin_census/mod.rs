//! The DfE Children in Need census: a local authority's annual return of every child it
//! worked with in a collection year (1 April to 31 March), one `<Child>` each with its
//! episodes of need. [`build`] makes the return from the authority's entries alone,
//! [`write`] writes it as the XML the DfE schema takes, [`read`] reads a return back child by
//! child, naming each fault by its XML path, and [`to_entries`] turns a child of a past return
//! into the entries that [`build`] reads, so that an authority's history can seed Safeguard.

mod build;
mod entries;
mod xml;

use chrono::NaiveDate;
use safeguard_core::{
    AbuseCategory, ClosureReason, Disability, Ethnicity, PrimaryNeed, ReferralSource,
};

pub(crate) use build::episodes_in;
pub use build::{ChildHistory, build};
pub use entries::{IMPORT_SYSTEM, to_entries};
pub use xml::{ChildFault, Fault, ReadReturn, ReturnError, read, write};

/// A collection year, named by the year it ends in: `2024` is 1 April 2023 to 31 March 2024,
/// written `2023-24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CollectionYear(i32);

impl CollectionYear {
    /// The year ending on 31 March of `end_year`.
    pub fn ending(end_year: i32) -> Self {
        Self(end_year)
    }

    /// Reads `2023-24` (or `2023-2024`): the second year must follow the first.
    pub fn parse(text: &str) -> Result<Self, String> {
        let wrong = || format!("{text:?} is not a collection year such as 2023-24");
        let (first, second) = text.trim().split_once('-').ok_or_else(wrong)?;
        let first: i32 = first.parse().map_err(|_| wrong())?;
        let second: i32 = second.parse().map_err(|_| wrong())?;
        let end = match second {
            0..=99 => first - first % 100 + second + if second < first % 100 { 100 } else { 0 },
            _ => second,
        };
        if end != first + 1 || !(1990..=2100).contains(&first) {
            return Err(wrong());
        }
        Ok(Self(end))
    }

    /// The year it ends in (the return's `<Year>`).
    pub fn end_year(self) -> i32 {
        self.0
    }

    /// Its first day, 1 April.
    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 - 1, 4, 1).expect("1 April exists")
    }

    /// Its last day, 31 March: the return's reference date.
    pub fn end(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 3, 31).expect("31 March exists")
    }
}

impl std::fmt::Display for CollectionYear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:02}", self.0 - 1, self.0 % 100)
    }
}

/// A return: its header and its children, in the order of their LA child identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    /// The collection year.
    pub year: CollectionYear,
    /// The local authority's three-digit code (its LEA number, `201`).
    pub lea: String,
    /// The children.
    pub children: Vec<Child>,
}

/// A child's sex as the census records it (`GenderCurrent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    /// 1.
    Male,
    /// 2.
    Female,
    /// 0: not recorded, or unborn.
    NotRecorded,
    /// 9: indeterminate.
    Indeterminate,
}

impl Gender {
    /// The census code.
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "1",
            Gender::Female => "2",
            Gender::NotRecorded => "0",
            Gender::Indeterminate => "9",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        [
            Gender::Male,
            Gender::Female,
            Gender::NotRecorded,
            Gender::Indeterminate,
        ]
        .into_iter()
        .find(|g| g.code() == code)
    }
}

/// One child of a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// The local authority's identifier for the child (`LAchildID`): its case system's.
    pub la_child_id: String,
    /// Unique Pupil Number.
    pub upn: Option<String>,
    /// Date of birth.
    pub birth_date: Option<NaiveDate>,
    /// Expected date of birth, for an unborn child.
    pub expected_birth_date: Option<NaiveDate>,
    /// Sex.
    pub gender: Gender,
    /// Date of death.
    pub death_date: Option<NaiveDate>,
    /// Ethnicity (`NOBT` when not yet obtained).
    pub ethnicity: Ethnicity,
    /// Disabilities.
    pub disabilities: Vec<Disability>,
    /// Episodes of need, oldest first (`CINdetails`).
    pub episodes: Vec<Episode>,
}

/// An episode of need: from a referral to the case closing (`CINdetails`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The day of the referral.
    pub referral_date: NaiveDate,
    /// Who referred.
    pub referral_source: ReferralSource,
    /// The child's primary need, once assessed.
    pub primary_need: Option<PrimaryNeed>,
    /// The day the case closed, and why.
    pub closure: Option<(NaiveDate, ClosureReason)>,
    /// The day of the first initial child protection conference of the episode.
    pub initial_cpc: Option<NaiveDate>,
    /// Child and family assessments.
    pub assessments: Vec<AssessmentDates>,
    /// Child in need plans.
    pub cin_plans: Vec<PlanDates>,
    /// Section 47 enquiries.
    pub section47s: Vec<Section47Dates>,
    /// Whether the referral was decided no further action.
    pub referral_nfa: bool,
    /// Child protection plans.
    pub protection_plans: Vec<ProtectionPlan>,
}

/// An assessment's dates and the factors it identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentDates {
    /// When it started.
    pub start: NaiveDate,
    /// When a manager authorised it (completed).
    pub authorised: Option<NaiveDate>,
    /// Factors identified, by census code.
    pub factors: Vec<String>,
}

/// A plan's start and end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDates {
    /// Started.
    pub start: NaiveDate,
    /// Ended.
    pub end: Option<NaiveDate>,
}

/// A section 47 enquiry's dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section47Dates {
    /// When it started.
    pub start: NaiveDate,
    /// When an initial conference was due: 15 working days from the strategy discussion.
    pub icpc_target: Option<NaiveDate>,
    /// When the initial conference that followed was held.
    pub icpc: Option<NaiveDate>,
    /// Whether the enquiry concluded that no conference was needed.
    pub icpc_not_required: bool,
}

/// A child protection plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectionPlan {
    /// Started.
    pub start: NaiveDate,
    /// Ended.
    pub end: Option<NaiveDate>,
    /// The category of abuse it started under.
    pub initial_category: AbuseCategory,
    /// The category at its latest review.
    pub latest_category: AbuseCategory,
    /// How many plans the child had before this one.
    pub previous_plans: u32,
    /// The days of its review conferences.
    pub reviews: Vec<NaiveDate>,
}

/// The census code of a category of abuse.
pub fn category_code(category: AbuseCategory) -> &'static str {
    match category {
        AbuseCategory::Neglect => "NEG",
        AbuseCategory::PhysicalAbuse => "PHY",
        AbuseCategory::SexualAbuse => "SAB",
        AbuseCategory::EmotionalAbuse => "EMO",
        AbuseCategory::Multiple => "MUL",
    }
}

fn parse_category(code: &str) -> Option<AbuseCategory> {
    [
        AbuseCategory::Neglect,
        AbuseCategory::PhysicalAbuse,
        AbuseCategory::SexualAbuse,
        AbuseCategory::EmotionalAbuse,
        AbuseCategory::Multiple,
    ]
    .into_iter()
    .find(|c| category_code(*c) == code)
}

/// A census code read through serde, as the core's coded enums take it (`"1A"`).
fn from_code<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

#[cfg(test)]
mod tests;
