//! The statutory process as typed entries (Working Together 2023, ch. 3; the DfE Children in
//! Need census): the referral decision, the child and family assessment, the core group, child
//! in need plans, case closure, and what the reviews found missing from the record: visits that
//! did not see the child, children not brought, contact that failed, and children leaving
//! school. Codes are the census's, so that a return can be built from entries alone.

use serde::{Deserialize, Serialize};

use crate::FieldError;

macro_rules! coded {
    ($(#[$doc:meta])* $name:ident { $(#[doc = $label:literal] $variant:ident = $code:tt,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            // `tt`, not `literal`: a `literal` fragment reaches derive macros wrapped in an
            // invisible group, which utoipa does not read as a rename.
            $(#[doc = $label] #[serde(rename = $code)] $variant,)*
        }

        impl $name {
            /// Every code with its meaning (`("1A", "a family member")`), in census order.
            pub const LABELS: &'static [(&'static str, &'static str)] = &[
                $(($code, strip_code($label)),)*
            ];

            /// The census code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }
        }
    };
}

/// A coded variant's meaning from its documentation, `" 1A: a family member."` less the code
/// and the full stop.
const fn strip_code(doc: &'static str) -> &'static str {
    let bytes = doc.as_bytes();
    let mut start = 0;
    while start < bytes.len() && bytes[start] != b':' {
        start += 1;
    }
    start += 1;
    while start < bytes.len() && bytes[start] == b' ' {
        start += 1;
    }
    let mut end = bytes.len();
    while end > start && (bytes[end - 1] == b'.' || bytes[end - 1] == b' ') {
        end -= 1;
    }
    let (_, rest) = bytes.split_at(start);
    let (meaning, _) = rest.split_at(end - start);
    match std::str::from_utf8(meaning) {
        Ok(text) => text,
        Err(_) => doc,
    }
}

coded! {
    /// Who made a contact: the CIN census referral source (`1A` ... `10`).
    ReferralSource {
        /// 1A: a family member.
        FamilyMember = "1A",
        /// 1B: an acquaintance (a neighbour, a friend).
        Acquaintance = "1B",
        /// 1C: the child.
        SelfReferral = "1C",
        /// 1D: another individual.
        OtherIndividual = "1D",
        /// 2A: a school.
        School = "2A",
        /// 2B: another education service.
        OtherEducation = "2B",
        /// 3A: a GP.
        Gp = "3A",
        /// 3B: a health visitor.
        HealthVisitor = "3B",
        /// 3C: a school nurse.
        SchoolNurse = "3C",
        /// 3D: other primary health services.
        OtherPrimaryHealth = "3D",
        /// 3E: an A&E department.
        AccidentAndEmergency = "3E",
        /// 3F: other health services.
        OtherHealth = "3F",
        /// 4: housing.
        Housing = "4",
        /// 5A: the local authority's own social care.
        LaSocialCare = "5A",
        /// 5B: another local authority's social care.
        OtherLaSocialCare = "5B",
        /// 5C: an external local authority service.
        ExternalLaService = "5C",
        /// 5D: other internal services.
        OtherInternal = "5D",
        /// 6: the police.
        Police = "6",
        /// 7: another legal agency.
        OtherLegalAgency = "7",
        /// 8: other.
        Other = "8",
        /// 9: anonymous.
        Anonymous = "9",
        /// 10: unknown.
        Unknown = "10",
    }
}

coded! {
    /// Why a case closed: the CIN census closure reason (`RC1` ... `RC9`).
    ClosureReason {
        /// RC1: adopted.
        Adopted = "RC1",
        /// RC2: died.
        Died = "RC2",
        /// RC3: a child arrangements order.
        ChildArrangementsOrder = "RC3",
        /// RC4: a special guardianship order.
        SpecialGuardianshipOrder = "RC4",
        /// RC5: transferred to another local authority.
        TransferredToAnotherAuthority = "RC5",
        /// RC6: transferred to adult social care.
        TransferredToAdultServices = "RC6",
        /// RC7: services ceased for another reason, including the child no longer in need.
        ServicesCeased = "RC7",
        /// RC8: closed after assessment, no further action.
        NoFurtherActionAfterAssessment = "RC8",
        /// RC9: closed after assessment, referred to early help.
        EarlyHelpAfterAssessment = "RC9",
    }
}

coded! {
    /// A child's ethnicity: the census (and school census) codes.
    Ethnicity {
        /// WBRI: White British.
        WhiteBritish = "WBRI",
        /// WIRI: White Irish.
        WhiteIrish = "WIRI",
        /// WIRT: Traveller of Irish heritage.
        IrishTraveller = "WIRT",
        /// WOTH: any other White background.
        WhiteOther = "WOTH",
        /// WROM: Gypsy or Roma.
        GypsyRoma = "WROM",
        /// MWBC: White and Black Caribbean.
        WhiteAndBlackCaribbean = "MWBC",
        /// MWBA: White and Black African.
        WhiteAndBlackAfrican = "MWBA",
        /// MWAS: White and Asian.
        WhiteAndAsian = "MWAS",
        /// MOTH: any other mixed background.
        MixedOther = "MOTH",
        /// AIND: Indian.
        Indian = "AIND",
        /// APKN: Pakistani.
        Pakistani = "APKN",
        /// ABAN: Bangladeshi.
        Bangladeshi = "ABAN",
        /// AOTH: any other Asian background.
        AsianOther = "AOTH",
        /// BCRB: Caribbean.
        Caribbean = "BCRB",
        /// BAFR: African.
        African = "BAFR",
        /// BOTH: any other Black background.
        BlackOther = "BOTH",
        /// CHNE: Chinese.
        Chinese = "CHNE",
        /// OOTH: any other ethnic group.
        Other = "OOTH",
        /// REFU: refused.
        Refused = "REFU",
        /// NOBT: information not yet obtained.
        NotObtained = "NOBT",
    }
}

coded! {
    /// A child's disability: the census codes.
    Disability {
        /// NONE: no disability.
        NoDisability = "NONE",
        /// MOB: mobility.
        Mobility = "MOB",
        /// HAND: hand function.
        HandFunction = "HAND",
        /// PC: personal care.
        PersonalCare = "PC",
        /// INC: incontinence.
        Incontinence = "INC",
        /// COMM: communication.
        Communication = "COMM",
        /// LD: learning.
        Learning = "LD",
        /// HEAR: hearing.
        Hearing = "HEAR",
        /// VIS: vision.
        Vision = "VIS",
        /// BEH: behaviour.
        Behaviour = "BEH",
        /// CON: consciousness.
        Consciousness = "CON",
        /// AUT: autism.
        Autism = "AUT",
        /// DDA: other.
        Other = "DDA",
    }
}

coded! {
    /// The child's primary need, as an assessment finds it: the census codes.
    PrimaryNeed {
        /// N1: abuse or neglect.
        AbuseOrNeglect = "N1",
        /// N2: the child's disability.
        ChildDisability = "N2",
        /// N3: parental disability or illness.
        ParentalDisability = "N3",
        /// N4: family in acute stress.
        FamilyInAcuteStress = "N4",
        /// N5: family dysfunction.
        FamilyDysfunction = "N5",
        /// N6: socially unacceptable behaviour.
        SociallyUnacceptableBehaviour = "N6",
        /// N7: low income.
        LowIncome = "N7",
        /// N8: absent parenting.
        AbsentParenting = "N8",
        /// N9: cases other than children in need.
        NotInNeed = "N9",
        /// N0: not stated.
        NotStated = "N0",
    }
}

/// What children's social care decided to do with a contact (within one working day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReferralOutcome {
    /// No further action.
    NoFurtherAction,
    /// Early help.
    EarlyHelp,
    /// A child and family assessment (section 17).
    Assessment,
    /// A strategy discussion (significant harm suspected).
    StrategyDiscussion,
}

/// The decision on a contact: the type of response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralDecision {
    /// What was decided.
    pub outcome: ReferralOutcome,
    /// Why, in the decision-maker's words.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Where an assessment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AssessmentStage {
    /// Started.
    Started,
    /// Completed and authorised by a manager (the census's authorisation date).
    Completed,
}

/// A child and family assessment (section 17 or 47; Working Together 2023, ch. 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// Started or completed.
    pub stage: AssessmentStage,
    /// Whether the child was seen during the assessment: required once completed.
    #[serde(default)]
    pub child_seen: Option<bool>,
    /// Whether the child was seen alone.
    #[serde(default)]
    pub child_seen_alone: Option<bool>,
    /// Factors identified, by census code (`3B` domestic abuse of the child's parent, `1B`
    /// alcohol and `2B` drug misuse by a parent, `4B` a parent's mental health, `11A` child
    /// sexual exploitation, `24A` criminal exploitation, `21` none).
    #[serde(default)]
    pub factors: Vec<String>,
    /// The outcome, once completed.
    #[serde(default)]
    pub outcome: Option<String>,
    /// The child's primary need as the completed assessment found it (the census's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_need: Option<PrimaryNeed>,
}

/// A case closing, with the census reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseClosure {
    /// Why it closed.
    pub reason: ClosureReason,
}

/// A core group meeting of a child on a protection plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoreGroup {
    /// Agencies present (their identifiers).
    #[serde(default)]
    pub agencies_present: Vec<String>,
}

/// A child in need plan (section 17) starting or ending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildInNeedPlan {
    /// Started or ended.
    pub stage: PlanStage,
}

/// Start or end of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanStage {
    /// Started.
    Started,
    /// Ended.
    Ended,
}

/// What a visit to the child found: whether the child was seen, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum VisitOutcome {
    /// The child was seen (with carers).
    Seen,
    /// The child was seen alone.
    SeenAlone,
    /// The child was glimpsed on the doorstep only: not a visit that saw the child.
    DoorstepOnly,
    /// The child was heard but not seen.
    HeardNotSeen,
    /// The child was not available: asleep, out, or said to be elsewhere.
    NotAvailable,
    /// The family refused entry.
    RefusedEntry,
    /// Nobody answered.
    NoAnswer,
}

impl VisitOutcome {
    /// Whether the visit saw the child.
    pub fn saw_the_child(self) -> bool {
        matches!(self, VisitOutcome::Seen | VisitOutcome::SeenAlone)
    }
}

/// The service a child was not brought to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Service {
    /// A health appointment (GP, clinic, dentist, health visitor).
    Health,
    /// An education appointment (a meeting at school, an assessment).
    Education,
    /// Anything else (a contact session, a group).
    Other,
}

/// A child not brought to an appointment ("was not brought", not "did not attend": the child
/// depends on an adult to take them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WasNotBrought {
    /// Which service.
    pub service: Service,
    /// What the appointment was for.
    #[serde(default)]
    pub appointment: Option<String>,
}

/// An attempt to reach the family that failed (a call unanswered, a letter returned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedContactAttempt {
    /// How (`telephone`, `letter`, `email`).
    #[serde(default)]
    pub method: Option<String>,
}

/// A change in a child's schooling that takes them out of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EducationChange {
    /// Withdrawn from school for elective home education.
    ElectiveHomeEducation,
    /// Missing education: not on a school roll and not home educated.
    MissingEducation,
    /// Back on a school roll.
    OnRoll,
}

/// A change in the child's education status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EducationStatus {
    /// What changed.
    pub status: EducationChange,
}

/// A child missing from home, care or school and found, as the police or a carer records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissingEpisode {
    /// How long the child was missing, in hours.
    #[serde(default)]
    pub hours: Option<u32>,
    /// Where the child was found (`another town`, `an adult's flat`).
    #[serde(default)]
    pub found_at: Option<String>,
    /// Whether a return interview was offered within 72 hours.
    #[serde(default)]
    pub return_interview: Option<bool>,
}

/// Where a serious incident stands (Working Together 2023, ch. 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IncidentStage {
    /// The local authority learned of it: a child died or was seriously harmed, abuse or
    /// neglect known or suspected.
    Known,
    /// The Child Safeguarding Practice Review Panel was notified.
    Notified,
    /// The rapid review was held, and decided whether a local review follows.
    RapidReview,
    /// The local child safeguarding practice review was published.
    ReviewPublished,
}

/// A serious incident and its review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriousIncident {
    /// Where it stands.
    pub stage: IncidentStage,
    /// At the rapid review: whether a local child safeguarding practice review follows.
    #[serde(default)]
    pub local_review: Option<bool>,
    /// The review panel's members (user names) who are to read the child's record, named by
    /// the safeguarding lead who opens the review; a later entry naming them replaces the
    /// list. None named: every review panel member.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub panel: Vec<String>,
}

/// The panel members named for the review the incidents leave open: those of the latest
/// entry that names any, since the review opened. Empty when the review names nobody, or is
/// not open.
pub fn review_panel<'a>(incidents: impl IntoIterator<Item = &'a SeriousIncident>) -> Vec<String> {
    ReviewProgress::of(incidents.into_iter().map(|i| ((), i))).panel
}

/// Whether a child's serious incident entries, oldest first, leave a practice review open:
/// from the notification to the Child Safeguarding Practice Review Panel until a local review
/// is published, or until the rapid review decides that none follows (Working Together 2023,
/// chapter 5). Knowing of an incident alone opens nothing.
pub fn review_open<'a>(incidents: impl IntoIterator<Item = &'a SeriousIncident>) -> bool {
    ReviewProgress::of(incidents.into_iter().map(|i| ((), i))).open
}

/// Where a child's latest practice review stands, from children's social care's serious
/// incident entries oldest first, each on its day `D` (a date; `()` where only whether it is
/// open, and who reads, matter). A review that ended (published, or ruled out at the rapid
/// review) gives way to the next incident's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewProgress<D = chrono::NaiveDate> {
    /// When the local authority learned of the incident.
    pub known: Option<D>,
    /// When it notified the national panel: the review opened.
    pub notified: Option<D>,
    /// When the rapid review was held.
    pub rapid_review: Option<D>,
    /// The rapid review's decision: whether a local review follows.
    pub local_review: Option<bool>,
    /// When the local review was published: the review closed.
    pub published: Option<D>,
    /// Whether the panel reads the child's record by the review.
    pub open: bool,
    /// The members named last since it opened (none: every review panel member); empty
    /// when it is not open.
    pub panel: Vec<String>,
}

impl<D> Default for ReviewProgress<D> {
    fn default() -> Self {
        Self {
            known: None,
            notified: None,
            rapid_review: None,
            local_review: None,
            published: None,
            open: false,
            panel: Vec::new(),
        }
    }
}

/// What a practice review waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStep {
    /// A serious incident to be recorded: none is, or the last review ended.
    Incident,
    /// The notification to the national panel (within 5 working days of learning of it).
    Notification,
    /// The rapid review and its decision (within 15 working days of the notification).
    RapidReview,
    /// The local review's publication (within 6 months of the rapid review).
    Publication,
}

impl<D> ReviewProgress<D> {
    /// The progress the incidents, oldest first, leave.
    pub fn of<'a>(incidents: impl IntoIterator<Item = (D, &'a SeriousIncident)>) -> Self {
        let mut progress = Self::default();
        for (day, incident) in incidents {
            progress.step(day, incident);
        }
        progress
    }

    fn step(&mut self, day: D, incident: &SeriousIncident) {
        let was_open = self.open;
        if !was_open
            && self.ended()
            && matches!(
                incident.stage,
                IncidentStage::Known | IncidentStage::Notified
            )
        {
            *self = Self::default();
        }
        self.open = still_open(was_open, incident);
        if !was_open && self.open {
            self.panel.clear();
        }
        if self.open && !incident.panel.is_empty() {
            self.panel.clone_from(&incident.panel);
        }
        if !self.open {
            self.panel.clear();
        }
        match incident.stage {
            IncidentStage::Known => {
                self.known.get_or_insert(day);
            }
            // A notification naming another panel keeps the day the review opened.
            IncidentStage::Notified => {
                self.notified.get_or_insert(day);
            }
            IncidentStage::RapidReview => {
                self.rapid_review = Some(day);
                self.local_review = incident.local_review;
            }
            IncidentStage::ReviewPublished => self.published = Some(day),
        }
    }

    /// Whether the review ended: published, or no local review follows the rapid review.
    pub fn ended(&self) -> bool {
        self.published.is_some() || self.local_review == Some(false)
    }

    /// What the review waits for next.
    pub fn next_step(&self) -> ReviewStep {
        if self.open {
            if self.rapid_review.is_none() || self.local_review.is_none() {
                ReviewStep::RapidReview
            } else {
                ReviewStep::Publication
            }
        } else if self.known.is_some() && self.notified.is_none() && !self.ended() {
            ReviewStep::Notification
        } else {
            ReviewStep::Incident
        }
    }
}

/// Who reads by the reviews `reviews` (each child's own): whether any is open, and the panel
/// members named (empty: every review panel member, as when any open review names nobody).
pub fn reading_by_reviews<'a, D: 'a>(
    reviews: impl IntoIterator<Item = &'a ReviewProgress<D>>,
) -> (bool, Vec<String>) {
    let open: Vec<&ReviewProgress<D>> = reviews.into_iter().filter(|r| r.open).collect();
    if open.is_empty() || open.iter().any(|r| r.panel.is_empty()) {
        return (!open.is_empty(), Vec::new());
    }
    let mut panel: Vec<String> = open.iter().flat_map(|r| r.panel.iter().cloned()).collect();
    panel.sort();
    panel.dedup();
    (true, panel)
}

/// Whether a review is open after `incident`, given whether it was before.
fn still_open(open: bool, incident: &SeriousIncident) -> bool {
    match incident.stage {
        IncidentStage::Known => open,
        IncidentStage::Notified => true,
        // A rapid review that does not say keeps the review open.
        IncidentStage::RapidReview => incident.local_review != Some(false),
        IncidentStage::ReviewPublished => false,
    }
}

/// A court's decision on an application (the end of care proceedings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CourtDecision {
    /// The order made, if any (`care order`, `supervision order`, `no order`).
    #[serde(default)]
    pub order: Option<String>,
}

/// A service working with an adult.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AdultService {
    /// Probation.
    Probation,
    /// Adult social care.
    AdultSocialCare,
    /// Adult mental health services.
    MentalHealth,
    /// Drug and alcohol services.
    SubstanceMisuse,
    /// Housing.
    Housing,
}

/// An agency's record about an adult (the entry's `subject_adult`), and what it says about
/// risk to children: read in the record of every child the adult is around.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdultServiceRecord {
    /// The service.
    pub service: AdultService,
    /// The risk the service assesses the adult poses to children, if it has assessed it.
    #[serde(default)]
    pub risk_to_children: Option<crate::RiskLevel>,
}

/// Antenatal care of an unborn child (the subject child, with an expected date of birth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AntenatalStage {
    /// The booking appointment (NICE NG201: by 10 weeks of pregnancy).
    Booking,
    /// An antenatal appointment attended.
    Appointment,
    /// An antenatal appointment missed.
    Missed,
}

/// An antenatal contact for an unborn child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AntenatalCare {
    /// Booking, an appointment, or a missed appointment.
    pub stage: AntenatalStage,
    /// Weeks of pregnancy, when known.
    #[serde(default)]
    pub gestation_weeks: Option<u32>,
}

/// A birth: the baby (the subject child) is the unborn child recorded before, whose record
/// (`unborn`, a participant's `local_id`) is joined to the baby's as one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Birth {
    /// `local_id` of the participant who is the unborn child's record.
    pub unborn: String,
}

/// Checks that an assessment's fields agree, naming the field at fault.
/// The `source.system` of the history a local authority imports from its past children in
/// need census returns, which do not record everything a practitioner records now.
pub const CENSUS_RETURN_SYSTEM: &str = "cin-census-return";

/// Checks an assessment. `from_census_return`: history imported from a census return, which
/// does not record whether the child was seen, and is not asked to say.
pub(crate) fn check_assessment(a: &Assessment, from_census_return: bool) -> Result<(), FieldError> {
    if a.stage == AssessmentStage::Completed && a.child_seen.is_none() && !from_census_return {
        return Err(FieldError::new(
            "details.child_seen",
            "a completed assessment says whether the child was seen",
        ));
    }
    if a.child_seen_alone == Some(true) && a.child_seen == Some(false) {
        return Err(FieldError::new(
            "details.child_seen_alone",
            "the child cannot be seen alone and not seen",
        ));
    }
    for (i, f) in a.factors.iter().enumerate() {
        if !is_factor_code(f) {
            return Err(FieldError::new(
                format!("details.factors[{i}]"),
                format!("{f:?} is not a census factor code (1A to 24A: 3B, 4B, 21)"),
            ));
        }
    }
    Ok(())
}

/// The census's factors identified at assessment (2023-24 onwards): `1A` alcohol misuse by
/// the child ... `24A` child criminal exploitation, `20` other, `21` no factors.
pub const FACTOR_CODES: [&str; 42] = [
    "1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C", "6A",
    "6B", "6C", "7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A", "13A", "14A", "15A",
    "16A", "17A", "18B", "18C", "19B", "19C", "20", "21", "22A", "23A", "24A",
];

/// Whether a text is a census assessment factor code.
pub fn is_factor_code(code: &str) -> bool {
    FACTOR_CODES.contains(&code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_review_is_open_from_the_notification_until_published_or_ruled_out() {
        use IncidentStage::*;
        let at = |stage, local_review| SeriousIncident {
            stage,
            local_review,
            panel: Vec::new(),
        };
        let open = |stages: &[SeriousIncident]| review_open(stages);
        assert!(!open(&[]));
        assert!(!open(&[at(Known, None)]), "known, not yet notified");
        assert!(open(&[at(Known, None), at(Notified, None)]));
        assert!(open(&[at(Notified, None), at(RapidReview, Some(true))]));
        assert!(
            open(&[at(Notified, None), at(RapidReview, None)]),
            "undecided stays open"
        );
        assert!(
            !open(&[at(Notified, None), at(RapidReview, Some(false))]),
            "no local review"
        );
        assert!(!open(&[
            at(Notified, None),
            at(RapidReview, Some(true)),
            at(ReviewPublished, None)
        ]));
        assert!(
            open(&[
                at(Notified, None),
                at(ReviewPublished, None),
                at(Notified, None)
            ]),
            "a second incident opens another"
        );
    }

    #[test]
    fn the_panel_named_last_for_the_open_review_reads() {
        use IncidentStage::*;
        let at = |stage, panel: &[&str]| SeriousIncident {
            stage,
            local_review: None,
            panel: panel.iter().map(|p| (*p).to_owned()).collect(),
        };
        assert!(review_panel(&[at(Notified, &[])]).is_empty(), "none named");
        assert_eq!(
            review_panel(&[at(Notified, &["ann", "raj"])]),
            ["ann", "raj"]
        );
        assert_eq!(
            review_panel(&[at(Notified, &["ann"]), at(RapidReview, &["raj"])]),
            ["raj"],
            "a later entry replaces the list"
        );
        assert_eq!(
            review_panel(&[at(Notified, &["ann"]), at(RapidReview, &[])]),
            ["ann"],
            "an entry naming nobody keeps it"
        );
        assert!(
            review_panel(&[
                at(Notified, &["ann"]),
                at(ReviewPublished, &[]),
                at(Notified, &[])
            ])
            .is_empty(),
            "a new review starts with its own panel"
        );
        assert!(review_panel(&[at(Notified, &["ann"]), at(ReviewPublished, &[])]).is_empty());
    }

    #[test]
    fn a_review_goes_from_the_incident_to_its_publication_and_then_gives_way() {
        use IncidentStage::*;
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 8, d).unwrap();
        let at = |stage, local_review, panel: &[&str]| SeriousIncident {
            stage,
            local_review,
            panel: panel.iter().map(|p| (*p).to_owned()).collect(),
        };
        let progress = |steps: &[(u32, SeriousIncident)]| {
            ReviewProgress::of(steps.iter().map(|(d, i)| (day(*d), i)))
        };
        assert_eq!(progress(&[]).next_step(), ReviewStep::Incident);

        let known = progress(&[(1, at(Known, None, &["ann"]))]);
        assert_eq!(known.next_step(), ReviewStep::Notification);
        assert!(
            !known.open && known.panel.is_empty(),
            "a panel reads only once notified"
        );

        let notified = progress(&[(1, at(Known, None, &[])), (5, at(Notified, None, &["ann"]))]);
        assert_eq!(
            (notified.known, notified.notified),
            (Some(day(1)), Some(day(5)))
        );
        assert!(notified.open);
        assert_eq!(notified.panel, ["ann"]);
        assert_eq!(notified.next_step(), ReviewStep::RapidReview);

        let renamed = progress(&[
            (5, at(Notified, None, &["ann"])),
            (7, at(Notified, None, &["raj"])),
        ]);
        assert_eq!(
            renamed.notified,
            Some(day(5)),
            "the review opened on the first"
        );
        assert_eq!(renamed.panel, ["raj"]);

        let undecided = progress(&[
            (5, at(Notified, None, &[])),
            (20, at(RapidReview, None, &[])),
        ]);
        assert_eq!(
            undecided.next_step(),
            ReviewStep::RapidReview,
            "the decision is still wanted"
        );

        let local = progress(&[
            (5, at(Notified, None, &[])),
            (20, at(RapidReview, Some(true), &["raj"])),
        ]);
        assert_eq!(local.next_step(), ReviewStep::Publication);
        assert_eq!(local.panel, ["raj"]);

        let published = progress(&[
            (5, at(Notified, None, &["ann"])),
            (20, at(RapidReview, Some(true), &[])),
            (28, at(ReviewPublished, None, &[])),
        ]);
        assert!(!published.open && published.ended() && published.panel.is_empty());
        assert_eq!(published.published, Some(day(28)));
        assert_eq!(published.next_step(), ReviewStep::Incident);

        let ruled_out = progress(&[
            (5, at(Notified, None, &[])),
            (20, at(RapidReview, Some(false), &[])),
        ]);
        assert!(!ruled_out.open && ruled_out.ended());
        assert_eq!(ruled_out.next_step(), ReviewStep::Incident);

        let again = progress(&[
            (5, at(Notified, None, &[])),
            (20, at(RapidReview, Some(false), &[])),
            (27, at(Known, None, &[])),
        ]);
        assert_eq!(
            again.known,
            Some(day(27)),
            "the next incident's own progress"
        );
        assert_eq!((again.notified, again.rapid_review), (None, None));
        assert_eq!(again.next_step(), ReviewStep::Notification);
    }

    #[test]
    fn the_reviews_a_person_is_in_open_their_record_to_each_review_s_panel() {
        let review = |open: bool, panel: &[&str]| ReviewProgress::<()> {
            open,
            panel: panel.iter().map(|p| (*p).to_owned()).collect(),
            ..ReviewProgress::default()
        };
        assert_eq!(reading_by_reviews([&review(false, &[])]), (false, vec![]));
        assert_eq!(
            reading_by_reviews([&review(true, &["raj"]), &review(true, &["ann", "raj"])]),
            (true, vec!["ann".to_owned(), "raj".to_owned()])
        );
        assert_eq!(
            reading_by_reviews([&review(true, &["raj"]), &review(true, &[])]),
            (true, vec![]),
            "a review naming nobody is every member's"
        );
        assert_eq!(
            reading_by_reviews([&review(false, &["ann"]), &review(true, &["raj"])]),
            (true, vec!["raj".to_owned()]),
            "a closed review's panel reads no more"
        );
    }

    use super::*;

    #[test]
    fn a_coded_value_is_labelled_by_its_meaning() {
        assert_eq!(ReferralSource::LABELS[0], ("1A", "a family member"));
        assert_eq!(
            ClosureReason::LABELS.last(),
            Some(&("RC9", "closed after assessment, referred to early help"))
        );
        assert_eq!(ReferralSource::LABELS.len(), 22);
    }

    #[test]
    fn census_codes_are_read_and_written_as_the_census_spells_them() {
        let source: ReferralSource = serde_json::from_str("\"3E\"").unwrap();
        assert_eq!(source, ReferralSource::AccidentAndEmergency);
        assert_eq!(ReferralSource::Anonymous.code(), "9");
        assert!(serde_json::from_str::<ReferralSource>("\"3G\"").is_err());
        let reason: ClosureReason = serde_json::from_str("\"RC8\"").unwrap();
        assert_eq!(reason.code(), "RC8");
        assert!(serde_json::from_str::<ClosureReason>("\"RC10\"").is_err());
    }

    #[test]
    fn a_completed_assessment_must_say_whether_the_child_was_seen() {
        let mut a = Assessment {
            stage: AssessmentStage::Completed,
            child_seen: None,
            child_seen_alone: None,
            factors: vec!["2A".into(), "21".into()],
            outcome: None,
            primary_need: None,
        };
        assert_eq!(
            check_assessment(&a, false).unwrap_err().field,
            "details.child_seen"
        );
        a.child_seen = Some(false);
        assert!(check_assessment(&a, false).is_ok());
        a.child_seen_alone = Some(true);
        assert_eq!(
            check_assessment(&a, false).unwrap_err().field,
            "details.child_seen_alone"
        );
        a.child_seen_alone = None;
        a.factors.push("2Z".into());
        assert_eq!(
            check_assessment(&a, false).unwrap_err().field,
            "details.factors[2]"
        );
    }
}
