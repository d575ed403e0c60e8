//! The demo case: "Child A", his mother ("Ms A"), her partner ("Mr H", whom she calls only a
//! friend) and his brother ("Mr J"), over eight months and eight agencies, on the pattern the
//! Serious Case Reviews into the death of Peter Connelly describe. Invented throughout: names,
//! addresses, identifiers and words. Each agency spells people its own way: the partner is
//! "Daniel Marsh" to the hospital, "Danny Marsh" with no date of birth to the police, and only
//! "Dan" to children's services and the family support worker.

use chrono::{Duration, NaiveDate};
use safeguard_core::household::RelationshipKind;
use safeguard_core::*;

/// The demo child's NHS number (999 range: never issued).
pub const CHILD_NHS_NUMBER: &str = "9992345675";
const MOTHER_NHS_NUMBER: &str = "9993456780";
const SISTER_NHS_NUMBER: &str = "9994567896";

/// A person record under construction.
struct R(PersonRecord);

impl R {
    fn new(local_id: &str, given: &[&str], family: Option<&str>) -> Self {
        R(PersonRecord::named(
            local_id,
            PersonName {
                given: given.iter().map(|g| (*g).to_owned()).collect(),
                family: family.map(str::to_owned),
            },
        ))
    }
    fn born(mut self, date: &str) -> Self {
        self.0.date_of_birth = Some(PartialDate::parse(date).expect("demo date"));
        self
    }
    fn nhs(mut self, number: &str) -> Self {
        self.0.nhs_number = Some(NhsNumber::parse(number).expect("demo NHS number"));
        self
    }
    fn sex(mut self, sex: Sex) -> Self {
        self.0.sex = Some(sex);
        self
    }
    fn lives(mut self, address: Address) -> Self {
        self.0.addresses.push(address);
        self
    }
    fn phone(mut self, number: &str) -> Self {
        self.0.phone = Some(Phone::parse(number).expect("demo phone"));
        self
    }
}

fn address(lines: &[&str], postcode: &str) -> Address {
    Address {
        lines: lines.iter().map(|l| (*l).to_owned()).collect(),
        postcode: Some(Postcode::parse(postcode).expect("demo postcode")),
    }
}

fn home() -> Address {
    address(&["14 Ashdown Road", "Northbury"], "NB4 7QX")
}

fn partners_flat() -> Address {
    address(
        &["Flat 6, Carlow House", "Tern Street", "Northbury"],
        "NB2 9LS",
    )
}

// Each agency's records of the people in the case.
fn sc_child() -> PersonRecord {
    R::new("SC-4411", &["Joshua"], Some("Reeve"))
        .born("2006-06-14")
        .sex(Sex::Male)
        .nhs(CHILD_NHS_NUMBER)
        .lives(home())
        .0
}
fn sc_mother() -> PersonRecord {
    R::new("SC-4412", &["Kerry"], Some("Reeve"))
        .born("1983-02-09")
        .sex(Sex::Female)
        .nhs(MOTHER_NHS_NUMBER)
        .lives(home())
        .phone("07700 900461")
        .0
}
fn sc_sister() -> PersonRecord {
    R::new("SC-4413", &["Chloe"], Some("Reeve"))
        .born("2003-04-02")
        .sex(Sex::Female)
        .nhs(SISTER_NHS_NUMBER)
        .lives(home())
        .0
}
fn sc_partner() -> PersonRecord {
    // All children's services ever had: the first name the mother gave.
    R::new("SC-5120", &["Dan"], None).sex(Sex::Male).0
}
fn sc_friend() -> PersonRecord {
    R::new("SC-4470", &["Angela"], Some("Fisher"))
        .born("1969")
        .sex(Sex::Female)
        .lives(address(&["3 Linden Close", "Northbury"], "NB4 2RT"))
        .0
}
fn police_child() -> PersonRecord {
    R::new("PER-88213", &["Joshua"], Some("Reeve"))
        .born("2006-06-14")
        .sex(Sex::Male)
        .lives(home())
        .0
}
fn police_mother() -> PersonRecord {
    R::new("PER-88214", &["Kerry", "Anne"], Some("Reeve"))
        .born("1983-02-09")
        .sex(Sex::Female)
        .lives(home())
        .0
}
fn police_partner() -> PersonRecord {
    // Known to police as Danny; date of birth never taken.
    R::new("PER-90377", &["Danny"], Some("Marsh"))
        .sex(Sex::Male)
        .lives(partners_flat())
        .0
}
fn police_brother() -> PersonRecord {
    R::new("PER-90378", &["Lee"], Some("Marsh"))
        .born("1978-11-03")
        .sex(Sex::Male)
        .lives(partners_flat())
        .0
}
fn gp_child() -> PersonRecord {
    R::new("EMIS-310045", &["Joshua"], Some("Reeve"))
        .born("2006-06-14")
        .sex(Sex::Male)
        .nhs(CHILD_NHS_NUMBER)
        .lives(home())
        .0
}
fn gp_mother() -> PersonRecord {
    R::new("EMIS-310044", &["Kerry"], Some("Reeve"))
        .born("1983-02-09")
        .sex(Sex::Female)
        .nhs(MOTHER_NHS_NUMBER)
        .lives(home())
        .0
}
fn ngh_child() -> PersonRecord {
    R::new("K204511", &["Josh"], Some("Reeve"))
        .born("2006-06-14")
        .sex(Sex::Male)
        .nhs(CHILD_NHS_NUMBER)
        .lives(home())
        .0
}
fn ngh_mother() -> PersonRecord {
    R::new("K204512", &["Kerry"], Some("Reeve"))
        .born("1983-02-09")
        .sex(Sex::Female)
        .lives(home())
        .0
}
fn sah_child() -> PersonRecord {
    // Registered in a hurry at another hospital: surname misspelt, NHS number not traced.
    R::new("SAH-778120", &["Joshua"], Some("Reeves"))
        .born("2006-06-14")
        .sex(Sex::Male)
        .lives(home())
        .0
}
fn sah_mother() -> PersonRecord {
    R::new("SAH-778121", &["Kerry"], Some("Reeves"))
        .born("1983-02-09")
        .sex(Sex::Female)
        .lives(home())
        .0
}
fn sah_partner() -> PersonRecord {
    R::new("SAH-778122", &["Daniel"], Some("Marsh"))
        .born("1975-08-21")
        .sex(Sex::Male)
        .lives(partners_flat())
        .0
}
fn hv_child() -> PersonRecord {
    R::new("S1-55120", &["Joshua"], Some("Reeve"))
        .born("2006-06-14")
        .sex(Sex::Male)
        .nhs(CHILD_NHS_NUMBER)
        .lives(home())
        .0
}
fn hv_mother() -> PersonRecord {
    R::new("S1-55119", &["Kerry"], Some("Reeve"))
        .born("1983-02-09")
        .sex(Sex::Female)
        .nhs(MOTHER_NHS_NUMBER)
        .lives(home())
        .0
}
fn fsp_child() -> PersonRecord {
    R::new("FSP-0192", &["Josh"], Some("Reeve"))
        .sex(Sex::Male)
        .lives(home())
        .0
}
fn fsp_mother() -> PersonRecord {
    R::new("FSP-0191", &["Kerry"], Some("Reeve"))
        .lives(home())
        .phone("07700 900461")
        .0
}
fn fsp_partner() -> PersonRecord {
    R::new("FSP-0207", &["Dan"], None).sex(Sex::Male).0
}
fn fsp_brother() -> PersonRecord {
    R::new("FSP-0215", &["Lee"], None).sex(Sex::Male).0
}
fn legal_child() -> PersonRecord {
    R::new("LEG-2007-118", &["Joshua"], Some("Reeve"))
        .born("2006-06-14")
        .sex(Sex::Male)
        .nhs(CHILD_NHS_NUMBER)
        .0
}

use ParticipantRole::{
    OtherAdultPresent as Adult, OtherChild as Sibling, Parent, SubjectChild as Child,
};

struct Case {
    entries: Vec<Entry>,
}

impl Case {
    /// Adds an entry; its source id is the agency's system prefix and a running number, and it
    /// is recorded three hours after it happened (a day after, for month-precision dates).
    fn add(
        &mut self,
        agency: &str,
        when: &str,
        author: (&str, &str),
        persons: Vec<(ParticipantRole, PersonRecord)>,
        details: EntryDetails,
        summary: &str,
    ) -> &mut Entry {
        let (system, prefix) = match agency {
            "northbury-childrens-services" => ("carefirst", "CF"),
            "northbury-police" => ("niche", "NICHE"),
            "elm-road-surgery" => ("emis", "EMIS"),
            "north-general-hospital" => ("pas-ngh", "NGH"),
            "st-annes-hospital" => ("pas-sah", "SAH"),
            "northbury-health-visiting" => ("systmone", "S1"),
            "family-support-project" => ("fsp-notes", "FSP"),
            "northbury-legal" => ("iken", "IKEN"),
            other => panic!("no system for demo agency {other}"),
        };
        let number = self.entries.len() + 1;
        let occurred_at = OccurredAt::parse(when).expect("demo date");
        let recorded = occurred_at.start() + Duration::hours(3);
        self.entries.push(Entry {
            agency: AgencyId::parse(agency).expect("demo agency"),
            source: SourceRef {
                system: system.to_owned(),
                id: format!("{prefix}-2007-{number:04}"),
            },
            author: Author {
                name: author.0.to_owned(),
                role: author.1.to_owned(),
            },
            occurred_at,
            recorded_at: recorded.and_utc(),
            persons: persons
                .into_iter()
                .map(|(role, record)| Participant {
                    role,
                    record,
                    identity: None,
                })
                .collect(),
            summary: summary.to_owned(),
            details,
            residences: Vec::new(),
            relationships: Vec::new(),
            supersedes: None,
        });
        self.entries.last_mut().expect("just pushed")
    }
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("demo date")
}

fn lives(
    person: &PersonRecord,
    address: Address,
    from: &str,
    strength: EvidenceStrength,
) -> ResidenceStatement {
    ResidenceStatement {
        person: person.local_id.clone(),
        address,
        from: Some(day(from)),
        to: None,
        strength,
    }
}

fn related(
    person: &PersonRecord,
    kind: RelationshipKind,
    other: &PersonRecord,
    strength: EvidenceStrength,
) -> RelationshipStatement {
    RelationshipStatement {
        person: person.local_id.clone(),
        kind,
        other: other.local_id.clone(),
        from: None,
        to: None,
        strength,
    }
}

fn note() -> EntryDetails {
    EntryDetails::CaseNote(CaseNote {})
}

fn visit(seen: bool, alone: bool) -> EntryDetails {
    EntryDetails::HomeVisit(HomeVisit {
        child_seen: seen,
        child_seen_alone: alone,
        announced: Some(true),
        outcome: Some(if alone {
            safeguard_core::VisitOutcome::SeenAlone
        } else {
            safeguard_core::VisitOutcome::Seen
        }),
    })
}

/// A visit that did not see the child, and why.
fn visit_not_seeing(outcome: safeguard_core::VisitOutcome) -> EntryDetails {
    EntryDetails::HomeVisit(HomeVisit {
        child_seen: false,
        child_seen_alone: false,
        announced: Some(true),
        outcome: Some(outcome),
    })
}

fn injury(
    site: &str,
    kind: InjuryType,
    explanation: &str,
    opinion: Option<MedicalOpinion>,
) -> EntryDetails {
    EntryDetails::InjuryObserved(InjuryObserved {
        body_site: site.to_owned(),
        injury_type: kind,
        count: None,
        explanation_given: Some(explanation.to_owned()),
        medical_opinion: opinion,
    })
}

fn gp(attended: bool, reason: &str) -> EntryDetails {
    EntryDetails::GpAppointment(GpAppointment {
        attended,
        reason: Some(reason.to_owned()),
    })
}

/// Every entry of the demo case, in the order the agencies recorded them.
pub fn case_entries() -> Vec<Entry> {
    use EvidenceStrength::{Claimed, Observed, Verified};
    const SC: &str = "northbury-childrens-services";
    const POLICE: &str = "northbury-police";
    const GP: &str = "elm-road-surgery";
    const NGH: &str = "north-general-hospital";
    const SAH: &str = "st-annes-hospital";
    const HV: &str = "northbury-health-visiting";
    const FSP: &str = "family-support-project";
    const LEGAL: &str = "northbury-legal";
    let sw1 = ("Social Worker 1", "Social worker");
    let sw2 = ("Social Worker 2", "Senior social worker");
    let tm = ("Team Manager 1", "Team manager");
    let dc = ("Detective Constable 1", "Detective constable");
    let pc = ("Police Constable 2", "Response officer");
    let gpdr = ("GP 1", "General practitioner");
    let edr = ("Emergency Doctor 1", "Emergency department doctor");
    let paed = ("Paediatrician 1", "Consultant paediatrician");
    let paed2 = ("Paediatrician 2", "Locum consultant paediatrician");
    let hv = ("Health Visitor 1", "Health visitor");
    let fsw = ("Family Support Worker 1", "Family support worker");
    let lawyer = ("Lawyer 1", "Local authority solicitor");

    let mut c = Case {
        entries: Vec::new(),
    };

    // November 2006: routine contacts.
    c.add(HV, "2006-11-20", hv, vec![(Child, hv_child()), (Parent, hv_mother())], visit(true, false),
        "Routine visit at five months. Weight on the 50th centile. Mother says she lives alone with the two children.");
    c.add(GP, "2006-11-28T10:10", gpdr, vec![(Child, gp_child()), (Parent, gp_mother())], gp(true, "cold and cough"),
        "Seen with a cough. Small bruise noted on the left cheek; mother says his sister fell on him.");

    // December 2006: the first injuries, referral, enquiry, arrest.
    c.add(GP, "2006-12-11T09:40", gpdr, vec![(Child, gp_child()), (Parent, gp_mother())], injury("face and chest", InjuryType::Bruise, "bruises easily; was handled roughly by his sister", None),
        "Bruising to the face and chest. Referred to North General Hospital for a paediatric opinion.");
    let e = c.add(NGH, "2006-12-11T13:05", edr, vec![(Child, ngh_child()), (Parent, ngh_mother())],
        EntryDetails::HospitalAttendance(HospitalAttendance { department: "emergency".into(), presenting_complaint: Some("bruising, referred by GP".into()) }),
        "Brought by mother on GP referral. Bruising to the forehead, left cheek and chest; a swelling on the head.");
    e.residences
        .push(lives(&ngh_child(), home(), "2006-06-14", Claimed));
    c.add(NGH, "2006-12-11T15:20", paed, vec![(Child, ngh_child()), (Parent, ngh_mother())],
        injury("forehead and left cheek", InjuryType::Bruise, "fell from the sofa onto a toy", Some(MedicalOpinion::Inconsistent)),
        "Multiple bruises of different ages on the face. The explanation does not account for them. Skeletal survey requested.");
    c.add(
        NGH,
        "2006-12-11T15:25",
        paed,
        vec![(Child, ngh_child()), (Parent, ngh_mother())],
        injury(
            "head",
            InjuryType::HeadInjury,
            "fell from the sofa onto a toy",
            Some(MedicalOpinion::Inconsistent),
        ),
        "Soft swelling on the right side of the head. Admitted for observation.",
    );
    c.add(
        NGH,
        "2006-12-11T16:00",
        paed,
        vec![(Child, ngh_child()), (Parent, ngh_mother())],
        EntryDetails::Referral(Referral {
            reason: Some("injuries in a six-month-old inconsistent with the account".into()),
            source_code: Some("3E".into()),
            decision: None,
        }),
        "Referral to children's services: non-accidental injury suspected.",
    );
    let e = c.add(
        SC,
        "2006-12-11T17:10",
        sw1,
        vec![
            (Child, sc_child()),
            (Parent, sc_mother()),
            (Sibling, sc_sister()),
        ],
        EntryDetails::Referral(Referral {
            reason: Some("hospital referral: suspected non-accidental injury".into()),
            source_code: Some("3E".into()),
            decision: Some("strategy discussion".into()),
        }),
        "Referral received from North General Hospital. Decision: strategy discussion today.",
    );
    e.residences = vec![
        lives(&sc_child(), home(), "2006-06-14", Verified),
        lives(&sc_mother(), home(), "2005-09-01", Verified),
        lives(&sc_sister(), home(), "2005-09-01", Verified),
    ];
    e.relationships = vec![
        related(
            &sc_mother(),
            RelationshipKind::Mother,
            &sc_child(),
            Verified,
        ),
        related(
            &sc_mother(),
            RelationshipKind::Mother,
            &sc_sister(),
            Verified,
        ),
        related(
            &sc_sister(),
            RelationshipKind::Sibling,
            &sc_child(),
            Verified,
        ),
    ];
    c.add(SC, "2006-12-11T18:00", tm, vec![(Child, sc_child()), (Parent, sc_mother())],
        EntryDetails::StrategyDiscussion(StrategyDiscussion {
            section47_decided: true,
            agencies_present: vec![SC.into(), POLICE.into(), NGH.into()],
        }),
        "Strategy discussion with police and hospital by telephone. Section 47 enquiry to start; joint investigation with police.");
    c.add(
        SC,
        "2006-12-12",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        EntryDetails::Section47Enquiry(Section47Enquiry {
            stage: StageEvent::Started,
            outcome: None,
            icpc_required: None,
        }),
        "Section 47 enquiry started. Mother seen at the hospital.",
    );
    c.add(NGH, "2006-12-13", paed, vec![(Child, ngh_child())], note(),
        "Skeletal survey: no fractures. Bruising consistent with non-accidental injury cannot be excluded.");
    c.add(
        POLICE,
        "2006-12-15T10:30",
        dc,
        vec![(Child, police_child()), (Parent, police_mother())],
        EntryDetails::PoliceCallOut(PoliceCallOut {
            reason: Some("suspected assault on a child".into()),
            arrest_made: true,
            outcome: Some("interviewed under caution".into()),
            ..PoliceCallOut::default()
        }),
        "Mother arrested on suspicion of assault on a child and interviewed.",
    );
    c.add(POLICE, "2006-12-15T19:45", dc, vec![(Parent, police_mother()), (Child, police_child())], note(),
        "Mother released on police bail pending enquiries. Bail conditions: not to be alone with the children.");
    let e = c.add(
        SC,
        "2006-12-15",
        sw1,
        vec![
            (Child, sc_child()),
            (Sibling, sc_sister()),
            (Adult, sc_friend()),
        ],
        EntryDetails::Placement(Placement {
            placement_type: "family friend, informal safety plan".into(),
        }),
        "Children to stay with a family friend while the enquiry continues.",
    );
    e.residences.push(ResidenceStatement {
        person: "SC-4411".into(),
        address: address(&["3 Linden Close", "Northbury"], "NB4 2RT"),
        from: Some(day("2006-12-15")),
        to: Some(day("2007-01-26")),
        strength: Verified,
    });
    c.add(
        SC,
        "2006-12-20",
        sw1,
        vec![
            (Child, sc_child()),
            (Sibling, sc_sister()),
            (Adult, sc_friend()),
        ],
        visit(true, false),
        "Visit to the children at the friend's home. Both well.",
    );

    // January 2007: the mother's account; conference; plan.
    let e = c.add(
        SC,
        "2007-01-05T11:00",
        sw1,
        vec![
            (Parent, sc_mother()),
            (Adult, sc_partner()),
            (Child, sc_child()),
        ],
        EntryDetails::Claim(Claim {
            claimant: "SC-4412".into(),
            about: "SC-5120".into(),
            assertion: ClaimAssertion::IsOnlyAFriend,
        }),
        "Mother says a man called Dan, who has visited, is only a friend.",
    );
    e.relationships.push(related(
        &sc_partner(),
        RelationshipKind::Friend,
        &sc_mother(),
        Claimed,
    ));
    c.add(
        SC,
        "2007-01-05T11:05",
        sw1,
        vec![
            (Parent, sc_mother()),
            (Adult, sc_partner()),
            (Child, sc_child()),
        ],
        EntryDetails::Claim(Claim {
            claimant: "SC-4412".into(),
            about: "SC-5120".into(),
            assertion: ClaimAssertion::DoesNotLiveHere,
        }),
        "Mother says Dan does not live at the address and is never left alone with the children.",
    );
    c.add(
        SC,
        "2007-01-05T11:06",
        sw1,
        vec![
            (Parent, sc_mother()),
            (Adult, sc_partner()),
            (Child, sc_child()),
        ],
        EntryDetails::Claim(Claim {
            claimant: "SC-4412".into(),
            about: "SC-5120".into(),
            assertion: ClaimAssertion::NeverAloneWithChild,
        }),
        "Mother says Dan is never alone with Joshua.",
    );
    c.add(SC, "2007-01-12", sw1, vec![(Child, sc_child()), (Parent, sc_mother())],
        EntryDetails::Section47Enquiry(Section47Enquiry { stage: StageEvent::Completed, outcome: Some("concerns substantiated; initial conference".into()), icpc_required: Some(true) }),
        "Section 47 enquiry completed: concerns substantiated. Initial child protection conference to be convened.");
    c.add(SC, "2007-01-22T10:00", tm, vec![(Child, sc_child()), (Parent, sc_mother()), (Sibling, sc_sister())],
        EntryDetails::Conference(Conference { conference_type: ConferenceType::Initial, plan_decided: true, category: Some(AbuseCategory::Multiple) }),
        "Initial child protection conference. Both children to be subject to child protection plans: physical abuse and neglect.");
    c.add(
        SC,
        "2007-01-22T12:00",
        tm,
        vec![(Child, sc_child())],
        EntryDetails::PlanStart(PlanStart {
            category: AbuseCategory::Multiple,
            previous_plans: None,
        }),
        "Child protection plan started.",
    );
    c.add(
        SC,
        "2007-01-26",
        sw1,
        vec![
            (Child, sc_child()),
            (Parent, sc_mother()),
            (Sibling, sc_sister()),
        ],
        note(),
        "Children returned to their mother's care under the plan.",
    );
    c.add(SC, "2007-01-30T14:00", sw1, vec![(Child, sc_child()), (Parent, sc_mother())], visit(true, false),
        "Home visit. Joshua seen in his mother's arms. Mother says no other adults stay at the house.");

    c.add(
        SC,
        "2007-02-01T10:00",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        EntryDetails::CoreGroup(CoreGroup {
            agencies_present: vec![SC.into(), HV.into(), GP.into()],
        }),
        "First core group meeting. The plan's actions agreed: weekly visits, health checks, nursery place.",
    );

    // February to March 2007: visits under the plan.
    c.add(
        SC,
        "2007-02-05",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        note(),
        "First core group meeting. Plan reviewed; mother engaging well.",
    );
    c.add(
        HV,
        "2007-02-09",
        hv,
        vec![(Child, hv_child()), (Parent, hv_mother())],
        visit(true, false),
        "Health visitor visit. Weight has dropped to the 25th centile. Nappy rash.",
    );
    c.add(
        GP,
        "2007-02-14T11:20",
        gpdr,
        vec![(Child, gp_child()), (Parent, gp_mother())],
        gp(true, "nappy rash"),
        "Nappy rash treated. No bruising seen.",
    );
    c.add(
        SC,
        "2007-02-19",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        visit(true, false),
        "Home visit. Child seen with his mother; he was asleep for most of the visit.",
    );
    c.add(
        FSP,
        "2007-02-27",
        fsw,
        vec![(Child, fsp_child()), (Parent, fsp_mother())],
        visit(true, false),
        "Family support session: routines and home conditions. House untidy.",
    );
    c.add(
        GP,
        "2007-03-05T09:00",
        gpdr,
        vec![(Child, gp_child()), (Parent, gp_mother())],
        gp(false, "follow-up of bruising and weight"),
        "Was not brought to the follow-up appointment.",
    );
    c.add(
        SC,
        "2007-03-08",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        visit(true, false),
        "Home visit. Small bruise on the forehead; mother says he fell against the coffee table.",
    );
    c.add(
        FSP,
        "2007-03-12",
        fsw,
        vec![(Child, fsp_child()), (Parent, fsp_mother())],
        visit(true, false),
        "Family support session. Mother tired; says she has no help at home.",
    );
    c.add(
        SC,
        "2007-03-20",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        visit_not_seeing(safeguard_core::VisitOutcome::NoAnswer),
        "Announced visit. Nobody answered the door.",
    );
    let e = c.add(POLICE, "2007-03-25T23:40", pc, vec![(Adult, police_partner()), (Parent, police_mother()), (Child, police_child())],
        EntryDetails::PoliceCallOut(PoliceCallOut { reason: Some("neighbour reports shouting".into()), arrest_made: false, outcome: Some("words of advice".into()), ..PoliceCallOut::default() }),
        "Called to 14 Ashdown Road by a neighbour. A man giving his name as Danny Marsh, who said he was Kerry's boyfriend and was staying there, answered the door. Date of birth not given. Baby heard crying; not seen.");
    e.residences
        .push(lives(&police_partner(), home(), "2007-03-25", Observed));
    e.relationships.push(related(
        &police_partner(),
        RelationshipKind::Partner,
        &police_mother(),
        Observed,
    ));

    // April 2007: new injuries while on the plan.
    let e = c.add(SAH, "2007-04-09T20:15", edr, vec![(Child, sah_child()), (Parent, sah_mother()), (Adult, sah_partner())],
        EntryDetails::HospitalAttendance(HospitalAttendance { department: "emergency".into(), presenting_complaint: Some("scratches and bruising to the face".into()) }),
        "Brought by mother and her boyfriend, Daniel Marsh. Scratches and bruises to the face and head.");
    e.relationships.push(related(
        &sah_partner(),
        RelationshipKind::Partner,
        &sah_mother(),
        Claimed,
    ));
    c.add(
        SAH,
        "2007-04-09T20:40",
        edr,
        vec![
            (Child, sah_child()),
            (Parent, sah_mother()),
            (Adult, sah_partner()),
        ],
        injury(
            "face",
            InjuryType::Scratch,
            "scratched by a dog at a friend's house",
            Some(MedicalOpinion::Unclear),
        ),
        "Linear scratches on both cheeks.",
    );
    c.add(SAH, "2007-04-09T20:45", edr, vec![(Child, sah_child()), (Parent, sah_mother()), (Adult, sah_partner())],
        injury("head", InjuryType::Bruise, "pushed over by another child at a play session", Some(MedicalOpinion::Inconsistent)),
        "Bruising over the left side of the head, a different explanation from the one given for the scratches.");
    c.add(
        SAH,
        "2007-04-10T09:00",
        paed2,
        vec![(Child, sah_child()), (Parent, sah_mother())],
        EntryDetails::Referral(Referral {
            reason: Some("injuries in a child on a protection plan".into()),
            source_code: Some("3E".into()),
            decision: None,
        }),
        "Children's services informed of the attendance.",
    );
    c.add(
        SC,
        "2007-04-11",
        tm,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        EntryDetails::StrategyDiscussion(StrategyDiscussion {
            section47_decided: false,
            agencies_present: vec![SC.into(), POLICE.into()],
        }),
        "Strategy discussion. Injuries accepted as accidental; plan to continue. No new enquiry.",
    );
    c.add(
        SC,
        "2007-04-19T10:00",
        tm,
        vec![
            (Child, sc_child()),
            (Parent, sc_mother()),
            (Sibling, sc_sister()),
        ],
        EntryDetails::Conference(Conference {
            conference_type: ConferenceType::Review,
            plan_decided: true,
            category: Some(AbuseCategory::Multiple),
        }),
        "Review child protection conference. Plans continue.",
    );
    c.add(
        SC,
        "2007-04-26",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        visit(true, false),
        "Home visit. Scratches healing. Mother says the dog belongs to a friend.",
    );

    // May to June 2007: the partner is seen; the legal meeting is asked for.
    c.add(
        HV,
        "2007-05-03",
        hv,
        vec![(Child, hv_child()), (Parent, hv_mother())],
        visit_not_seeing(safeguard_core::VisitOutcome::NotAvailable),
        "Visit. Child asleep upstairs; mother asked not to wake him. Not seen.",
    );
    c.add(
        GP,
        "2007-05-10T16:30",
        gpdr,
        vec![(Child, gp_child()), (Parent, gp_mother())],
        injury("left ear", InjuryType::Bruise, "fell in the garden", None),
        "Seen for an ear infection. Bruising to the left ear noted; no referral made.",
    );
    c.add(
        SC,
        "2007-05-15",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        visit(true, false),
        "Home visit. Bruises on the chin; mother says he fell while learning to stand.",
    );
    c.add(
        NGH,
        "2007-05-18T09:30",
        paed,
        vec![(Child, ngh_child()), (Parent, ngh_mother())],
        EntryDetails::WasNotBrought(WasNotBrought {
            service: Service::Health,
            appointment: Some("paediatric follow-up".into()),
        }),
        "Not brought to the paediatric follow-up clinic. A new appointment was sent by post.",
    );
    c.add(
        FSP,
        "2007-05-22",
        fsw,
        vec![(Child, fsp_child()), (Parent, fsp_mother())],
        visit_not_seeing(safeguard_core::VisitOutcome::NotAvailable),
        "Session. Child said to be at his grandmother's. Not seen.",
    );
    c.add(
        SC,
        "2007-06-01",
        sw1,
        vec![(Parent, sc_mother()), (Child, sc_child())],
        note(),
        "Telephone call. Mother says Dan has moved away.",
    );
    c.add(FSP, "2007-06-04T10:30", fsw, vec![(Child, fsp_child()), (Parent, fsp_mother()), (Adult, fsp_partner())], visit(true, false),
        "Session. A man introduced as Dan was in the living room and left soon after I arrived. Child seen in his cot.");
    c.add(
        SC,
        "2007-06-06",
        tm,
        vec![(Child, sc_child())],
        EntryDetails::LegalPlanningMeeting(LegalPlanningMeeting {
            stage: MeetingStage::Requested,
            attendees: vec![],
            evidence_present: vec![],
            threshold_met: None,
        }),
        "Legal planning meeting requested to consider care proceedings.",
    );
    c.add(SC, "2007-06-13T15:00", sw2, vec![(Child, sc_child()), (Parent, sc_mother())], visit(true, false),
        "Home visit. Child's face smeared with chocolate; mother was about to wash him. Child not examined.");
    c.add(
        GP,
        "2007-06-20T10:00",
        gpdr,
        vec![(Child, gp_child()), (Parent, gp_mother())],
        gp(false, "developmental check"),
        "Was not brought to the developmental check.",
    );
    c.add(
        FSP,
        "2007-06-22",
        fsw,
        vec![(Parent, fsp_mother()), (Adult, fsp_brother())],
        note(),
        "Mother mentions that Dan's brother Lee sometimes stays over.",
    );
    let e = c.add(POLICE, "2007-06-28T22:10", pc, vec![(Adult, police_partner()), (Adult, police_brother()), (Parent, police_mother())],
        EntryDetails::PoliceCallOut(PoliceCallOut { reason: Some("disturbance reported".into()), arrest_made: false, outcome: Some("no offences disclosed".into()), ..PoliceCallOut::default() }),
        "Called to 14 Ashdown Road. Danny Marsh and his brother Lee Marsh present with Kerry Reeve. No children seen.");
    e.relationships.push(related(
        &police_brother(),
        RelationshipKind::AdultSibling,
        &police_partner(),
        Verified,
    ));
    e.residences
        .push(lives(&police_brother(), home(), "2007-06-28", Observed));

    // July to August 2007.
    c.add(
        HV,
        "2007-07-02",
        hv,
        vec![(Child, hv_child()), (Parent, hv_mother())],
        injury(
            "forehead",
            InjuryType::Bruise,
            "fell against the fireguard",
            None,
        ),
        "Visit. Bruise on the forehead; mother's explanation accepted.",
    );
    c.add(
        SC,
        "2007-07-10",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        visit(true, false),
        "Home visit. Child seen; quiet and withdrawn. Mother says he is teething.",
    );
    c.add(
        SC,
        "2007-07-16T11:00",
        sw1,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        EntryDetails::FailedContactAttempt(FailedContactAttempt {
            method: Some("telephone".into()),
        }),
        "Telephoned the mother to arrange the next visit. No answer; message left.",
    );
    c.add(
        FSP,
        "2007-07-18",
        fsw,
        vec![(Child, fsp_child()), (Parent, fsp_mother())],
        visit(true, false),
        "Session. Child had a cream on his face; mother says a rash.",
    );
    c.add(LEGAL, "2007-07-25T14:00", lawyer, vec![(Child, legal_child())],
        EntryDetails::LegalPlanningMeeting(LegalPlanningMeeting {
            stage: MeetingStage::Held,
            attendees: vec![
                Attendee { role: "lawyer".into(), seniority: Seniority::Junior },
                Attendee { role: "social worker".into(), seniority: Seniority::Qualified },
            ],
            evidence_present: vec![EvidenceKind::Assessment, EvidenceKind::Chronology],
            threshold_met: Some(false),
        }),
        "Legal planning meeting held. No medical report available. Threshold for care proceedings judged not met.");
    c.add(
        SAH,
        "2007-08-01T11:00",
        paed2,
        vec![(Child, sah_child()), (Parent, sah_mother())],
        EntryDetails::HospitalAttendance(HospitalAttendance {
            department: "paediatric clinic".into(),
            presenting_complaint: Some("developmental assessment".into()),
        }),
        "Child miserable and cranky; examination limited. No injuries noted.",
    );
    c.add(POLICE, "2007-08-01", dc, vec![(Parent, police_mother()), (Child, police_child())], note(),
        "Crown Prosecution Service advises no further action on the December assault; mother informed.");
    c.add(
        SC,
        "2007-08-02",
        sw2,
        vec![(Child, sc_child()), (Parent, sc_mother())],
        visit(true, false),
        "Home visit. Child seen in his buggy; face smeared with chocolate. Mother says he is well.",
    );
    c.add(
        NGH,
        "2007-08-03T11:35",
        edr,
        vec![(Child, ngh_child()), (Parent, ngh_mother())],
        EntryDetails::HospitalAttendance(HospitalAttendance {
            department: "emergency".into(),
            presenting_complaint: Some("brought by ambulance".into()),
        }),
        "Brought by ambulance with serious injuries.",
    );
    c.add(
        SC,
        "2007-08-03T16:00",
        tm,
        vec![(Child, sc_child())],
        note(),
        "Serious incident. Notification to be made to the national panel.",
    );
    c.entries
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_entry_of_the_case_is_valid() {
        for e in case_entries() {
            e.validate()
                .unwrap_or_else(|err| panic!("{}: {err}", e.source.id));
        }
    }

    #[test]
    fn the_case_spans_eight_months_and_at_least_six_agencies() {
        let entries = case_entries();
        assert!(
            (55..=70).contains(&entries.len()),
            "{} entries",
            entries.len()
        );
        let agencies: HashSet<_> = entries.iter().map(|e| e.agency.clone()).collect();
        assert!(agencies.len() >= 6);
        let first = entries.iter().map(|e| e.occurred_at.date()).min().unwrap();
        let last = entries.iter().map(|e| e.occurred_at.date()).max().unwrap();
        assert!((last - first).num_days() >= 240, "{first} to {last}");
    }

    #[test]
    fn the_legal_planning_meeting_is_held_seven_weeks_after_it_was_asked_for() {
        let meetings: Vec<_> = case_entries()
            .into_iter()
            .filter(|e| e.kind() == EntryKind::LegalPlanningMeeting)
            .map(|e| e.occurred_at.date())
            .collect();
        assert_eq!(meetings.len(), 2);
        assert_eq!((meetings[1] - meetings[0]).num_weeks(), 7);
    }

    #[test]
    fn the_partner_is_spelt_differently_by_each_agency() {
        let names: HashSet<String> = case_entries()
            .iter()
            .flat_map(|e| e.persons.iter())
            .filter(|p| {
                ["SC-5120", "PER-90377", "SAH-778122", "FSP-0207"]
                    .contains(&p.record.local_id.as_str())
            })
            .map(|p| p.record.name.display())
            .collect();
        assert_eq!(
            names,
            HashSet::from([
                "Dan".to_owned(),
                "Danny Marsh".to_owned(),
                "Daniel Marsh".to_owned()
            ])
        );
    }
}

#[cfg(test)]
mod clock_tests {
    use chrono::NaiveDate;
    use safeguard_core::EntryId;
    use safeguard_core::calendar::Calendar;
    use safeguard_core::clocks::{ClockStatus, DEFAULT_CLOCKS, evaluate_clocks, parse_clocks};

    use super::case_entries;

    #[test]
    fn on_the_demo_case_the_conference_and_the_legal_planning_meeting_come_late() {
        let entries = case_entries();
        let details: Vec<serde_json::Value> = entries
            .iter()
            .map(safeguard_core::rules::details_json)
            .collect();
        let mut chronology: Vec<(EntryId, &safeguard_core::Entry, &serde_json::Value)> = entries
            .iter()
            .zip(&details)
            .enumerate()
            .map(|(i, (e, d))| (EntryId(uuid::Uuid::from_u128(i as u128 + 1)), e, d))
            .collect();
        chronology.sort_by_key(|(_, e, _)| e.occurred_at.start());
        let runs = evaluate_clocks(
            &parse_clocks(DEFAULT_CLOCKS).unwrap(),
            &chronology,
            NaiveDate::from_ymd_opt(2007, 8, 3).unwrap(),
            &Calendar::england_and_wales(),
        )
        .unwrap();
        let status = |id: &str| {
            runs.iter()
                .find(|r| r.clock == id)
                .map(|r| (r.status, r.due.to_string()))
        };
        assert_eq!(
            status("icpc_after_strategy_discussion"),
            Some((ClockStatus::MetLate, "2007-01-04".to_owned())),
            "strategy discussion 11 December 2006, conference 22 January 2007"
        );
        assert_eq!(
            status("legal_planning_meeting_held"),
            Some((ClockStatus::MetLate, "2007-06-20".to_owned())),
            "requested 6 June, held 25 July"
        );
        assert_eq!(
            status("first_review_conference").map(|s| s.0),
            Some(ClockStatus::Met)
        );
    }
}
