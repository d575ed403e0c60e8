//! Proof of generalisation: synthetic cases of patterns other than the demo's, each built from
//! published review themes, with the concerns a review panel would expect and the day each
//! could first have been known written down *before* the rules were run on them (the working
//! days are counted by hand in the comments). Each case must raise exactly those concerns, once
//! each; a control case of ordinary, well-run casework must raise none of them.

use std::sync::Arc;

use safeguard_core::rules::{Child, ChronologyItem, RuleBook};
use safeguard_core::{Entry, EntryId, PartialDate, PersonId};
use serde_json::{Value, json};

/// Builds a child's chronology from (day, agency, details), each recorded at 17:00 on its day,
/// naming the child and one parent.
struct Case {
    child: PersonId,
    parent: PersonId,
    born: &'static str,
    items: Vec<ChronologyItem>,
    sibling_items: Vec<ChronologyItem>,
    others: std::collections::BTreeMap<String, PersonId>,
}

impl Case {
    fn new(born: &'static str) -> Self {
        Self {
            child: PersonId(uuid::Uuid::now_v7()),
            parent: PersonId(uuid::Uuid::now_v7()),
            born,
            items: Vec::new(),
            sibling_items: Vec::new(),
            others: Default::default(),
        }
    }

    fn add(&mut self, at: &str, agency: &str, details: Value) -> &mut Self {
        self.add_with(at, agency, details, &[])
    }

    /// An entry naming, besides the child and parent, other people: (local id, role, given
    /// name, identity) each, with a person of their own per local id.
    fn add_with(
        &mut self,
        at: &str,
        agency: &str,
        details: Value,
        others: &[(&str, &str, &str, &str)],
    ) -> &mut Self {
        let day = &at[..10];
        let n = self.items.len();
        let mut persons = vec![
            json!({"role": "subject_child", "record": {"local_id": "C", "date_of_birth": self.born}}),
            json!({"role": "parent", "record": {"local_id": "P"}}),
        ];
        let mut person_ids = vec![self.child, self.parent];
        for (local_id, role, given, identity) in others {
            persons.push(json!({"role": role, "identity": identity,
                "record": {"local_id": local_id, "name": {"given": [given]}}}));
            let id = *self
                .others
                .entry((*local_id).to_owned())
                .or_insert_with(|| PersonId(uuid::Uuid::now_v7()));
            person_ids.push(id);
        }
        let entry: Entry = serde_json::from_value(json!({
            "agency": agency,
            "source": {"system": "case", "id": format!("e{n}")},
            "author": {"name": "A Professional", "role": "Practitioner"},
            "occurred_at": at,
            "recorded_at": format!("{day}T17:00:00Z"),
            "persons": persons,
            "summary": format!("entry {n}"),
            "details": details,
        }))
        .unwrap_or_else(|e| panic!("entry {n} ({at}): {e}"));
        entry
            .validate()
            .unwrap_or_else(|e| panic!("entry {n}: {e:?}"));
        self.items.push(ChronologyItem::new(
            EntryId(uuid::Uuid::now_v7()),
            Arc::new(entry),
            person_ids,
        ));
        self
    }

    /// An entry about a sibling (another child of the same parent), not naming this child.
    fn add_sibling(&mut self, at: &str, agency: &str, sibling: &str, details: Value) -> &mut Self {
        let n = self.items.len() + self.sibling_items.len();
        let entry: Entry = serde_json::from_value(json!({
            "agency": agency,
            "source": {"system": "case", "id": format!("s{n}")},
            "author": {"name": "A Professional", "role": "Practitioner"},
            "occurred_at": at,
            "recorded_at": format!("{}T17:00:00Z", &at[..10]),
            "persons": [
                {"role": "subject_child", "record": {"local_id": sibling}},
                {"role": "parent", "record": {"local_id": "P"}}
            ],
            "summary": format!("sibling entry {n}"),
            "details": details,
        }))
        .unwrap();
        let id = *self
            .others
            .entry(sibling.to_owned())
            .or_insert_with(|| PersonId(uuid::Uuid::now_v7()));
        self.sibling_items.push(ChronologyItem::new(
            EntryId(uuid::Uuid::now_v7()),
            Arc::new(entry),
            vec![id, self.parent],
        ));
        self
    }

    /// An agency's record whose subject is an adult (`local_id` as named in the child's
    /// entries), not naming the child.
    fn add_adult_record(
        &mut self,
        at: &str,
        agency: &str,
        adult: &str,
        details: Value,
    ) -> &mut Self {
        let n = self.items.len() + self.sibling_items.len();
        let entry: Entry = serde_json::from_value(json!({
            "agency": agency,
            "source": {"system": "case", "id": format!("a{n}")},
            "author": {"name": "A Probation Officer", "role": "Probation officer"},
            "occurred_at": at,
            "recorded_at": format!("{}T17:00:00Z", &at[..10]),
            "persons": [{"role": "subject_adult", "record": {"local_id": adult}}],
            "summary": format!("adult record {n}"),
            "details": details,
        }))
        .unwrap();
        entry.validate().unwrap();
        let id = *self
            .others
            .entry(adult.to_owned())
            .or_insert_with(|| PersonId(uuid::Uuid::now_v7()));
        self.sibling_items.push(ChronologyItem::new(
            EntryId(uuid::Uuid::now_v7()),
            Arc::new(entry),
            vec![id],
        ));
        self
    }

    fn child(&self) -> Child {
        Child {
            person: self.child,
            date_of_birth: Some(PartialDate::parse(self.born).unwrap()),
            chronology: self.items.clone(),
            household: self.sibling_items.clone(),
        }
    }

    /// Evaluated on every day from the first entry to a year after the last, the flags are
    /// the same on each day before the day each evaluation says they could change: the daily
    /// tick skips a child until then.
    fn assert_horizons_hold(&self) {
        let book = RuleBook::shipped();
        let child = self.child();
        let days = || {
            self.items
                .iter()
                .chain(&self.sibling_items)
                .map(|i| i.known_on())
        };
        let (first, last) = (days().min().unwrap(), days().max().unwrap());
        let mut held: Option<(Vec<safeguard_core::rules::Flag>, Option<chrono::NaiveDate>)> = None;
        let mut changes = 0;
        let mut day = first - chrono::Duration::days(1);
        while day <= last + chrono::Duration::days(366) {
            let evaluation = book.evaluate_with_horizon(&child, day).unwrap();
            if let Some(next) = evaluation.changes_on {
                assert!(next > day, "{day}: a horizon after the day evaluated");
            }
            match held.as_mut() {
                Some((flags, until)) if until.is_none_or(|u| day < u) => {
                    assert_eq!(
                        *flags, evaluation.flags,
                        "{day}: the flags changed before the day the evaluation said"
                    );
                    *until = match (*until, evaluation.changes_on) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    };
                }
                _ => {
                    changes += 1;
                    held = Some((evaluation.flags, evaluation.changes_on));
                }
            }
            day += chrono::Duration::days(1);
        }
        assert!(changes > 1, "the case's flags change over time");
    }

    /// Every flag as (rule, first knowable day), sorted.
    fn flags(&self, as_of: &str) -> Vec<(String, String)> {
        let child = self.child();
        let mut flags: Vec<(String, String)> = RuleBook::shipped()
            .evaluate(&child, as_of.parse().unwrap())
            .unwrap()
            .into_iter()
            .map(|f| (f.rule, f.first_knowable.to_string()))
            .collect();
        flags.sort();
        flags
    }
}

fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(r, d)| ((*r).to_owned(), (*d).to_owned()))
        .collect();
    v.sort();
    v
}

const SCHOOL: &str = "north-school";
const CSC: &str = "north-childrens-services";
const GP: &str = "north-gp";
const POLICE: &str = "north-police";

fn contact(source: &str) -> Value {
    json!({"kind": "contact", "referral_source": source})
}
fn decision(outcome: &str) -> Value {
    json!({"kind": "referral_decision", "outcome": outcome})
}
fn visit(outcome: &str) -> Value {
    let seen = matches!(outcome, "seen" | "seen_alone");
    json!({"kind": "home_visit", "child_seen": seen,
           "child_seen_alone": outcome == "seen_alone", "outcome": outcome})
}

/// Chronic neglect with no access to the child (Ofsted/CQC/HMICFRS JTAI of neglect, 2018;
/// NSPCC neglect themes): an eight-year-old arriving at school hungry and unkempt, contacts
/// closed one at a time, visits that never see her, health appointments missed, and at last
/// withdrawal "to home education" before an assessment closes without her being seen.
#[test]
fn chronic_neglect_with_no_access_raises_what_a_panel_would_expect_on_the_days_it_could() {
    let mut ava = Case::new("2015-03-10");
    ava.add("2023-09-12", SCHOOL, contact("2A"))
        .add("2023-09-13", CSC, decision("no_further_action"))
        .add("2023-10-03", SCHOOL, contact("2A"))
        .add("2023-10-04T09:00", CSC, json!({"kind": "referral", "reason": "neglect"}))
        .add("2023-10-04T10:00", CSC, decision("assessment"))
        .add("2023-10-10", CSC, visit("no_answer"))
        .add("2023-10-24", CSC, visit("refused_entry"))
        .add("2023-11-07", GP, json!({"kind": "was_not_brought", "service": "health"}))
        .add("2023-11-21", GP, json!({"kind": "was_not_brought", "service": "health"}))
        .add("2023-11-28", CSC, visit("doorstep_only"))
        .add("2023-12-05", POLICE, contact("6"))
        .add("2023-12-06", CSC, decision("no_further_action"))
        .add("2024-01-15", SCHOOL, json!({"kind": "education_status", "status": "elective_home_education"}))
        .add("2024-01-31", CSC, json!({"kind": "assessment", "stage": "completed", "child_seen": false, "factors": ["9A"]}));

    ava.assert_horizons_hold();
    let flags = ava.flags("2024-02-29");

    assert_eq!(
        flags,
        expected(&[
            // Known from 12 Sep; 20 working days on (13 Sep ... 10 Oct) nobody had seen her.
            ("child_not_seen", "2023-10-11"),
            // The second visit in 90 days that did not see her.
            ("repeated_no_access_visits", "2023-10-24"),
            // The second appointment she was not brought to.
            ("repeatedly_not_brought", "2023-11-21"),
            // After the assessment decision: two visits (CSC) and two missed appointments (GP)
            // in 60 days, from two agencies, with no escalation.
            ("many_contacts_no_escalation", "2023-11-21"),
            // The third contact in a year.
            ("repeated_contacts", "2023-12-05"),
            // The second "no further action", with nine concerns in the year before it.
            ("no_further_action_despite_earlier_concerns", "2023-12-06"),
            // Referral 4 Oct + 45 working days = 6 Dec; the assessment closed on 31 Jan.
            ("statutory_timescale_missed", "2023-12-07"),
            // Withdrawn from school with concerns open.
            ("left_school_while_known", "2024-01-15"),
            ("assessment_without_child_seen", "2024-01-31"),
        ])
    );
}

/// A teenager at risk of criminal exploitation going missing (DfE, Children who run away or go
/// missing, 2014; NSPCC exploitation themes): seen getting into cars, missing three times in five
/// weeks, found far from home, a police contact closed with no further action, then missing
/// from education.
#[test]
fn a_teenager_going_missing_at_risk_of_exploitation_raises_what_a_panel_would_expect() {
    let mut leo = Case::new("2009-05-02");
    leo.add("2024-02-05", SCHOOL, contact("2A"))
        .add("2024-02-06", CSC, decision("no_further_action"))
        .add("2024-02-12", POLICE, json!({"kind": "missing_episode", "hours": 20, "found_at": "another town", "return_interview": false}))
        .add("2024-02-26", POLICE, json!({"kind": "missing_episode", "hours": 9, "return_interview": true}))
        .add("2024-03-04", POLICE, contact("6"))
        .add("2024-03-05", CSC, decision("no_further_action"))
        .add("2024-03-11", POLICE, json!({"kind": "missing_episode", "hours": 30, "found_at": "an adult's flat"}))
        .add("2024-03-18", SCHOOL, json!({"kind": "education_status", "status": "missing_education"}))
        .add("2024-03-25", SCHOOL, contact("2A"))
        .add("2024-03-26T09:00", CSC, json!({"kind": "referral", "reason": "exploitation"}))
        .add("2024-03-26T10:00", CSC, decision("assessment"))
        .add("2024-04-02", CSC, visit("not_available"));

    leo.assert_horizons_hold();
    let flags = leo.flags("2024-04-30");

    assert_eq!(
        flags,
        expected(&[
            ("missing_without_return_interview", "2024-02-12"),
            // School contact, two missing episodes and a police contact: four in 28 days from
            // two agencies, nothing done.
            ("many_contacts_no_escalation", "2024-03-04"),
            // Known from 5 Feb; 20 working days on (6 Feb ... 4 Mar) nobody had seen him.
            ("child_not_seen", "2024-03-05"),
            // Closed again, with the school's contact and two missing episodes before it.
            ("no_further_action_despite_earlier_concerns", "2024-03-05"),
            ("missing_repeatedly", "2024-03-11"),
            ("left_school_while_known", "2024-03-18"),
            ("repeated_contacts", "2024-03-25"),
        ])
    );
}

/// Ordinary, well-run section 17 work: a school contact decided the next day, an assessment
/// seeing the child every ten working days and completed in time, the case closed.
#[test]
fn ordinary_casework_that_sees_the_child_raises_none_of_them() {
    let mut mia = Case::new("2016-01-20");
    mia.add("2023-09-12", SCHOOL, contact("2A"))
        .add("2023-09-13T09:00", CSC, decision("assessment"))
        .add("2023-09-13T10:00", CSC, json!({"kind": "referral", "reason": "parental mental health"}))
        .add("2023-09-20", CSC, visit("seen"))
        .add("2023-10-04", CSC, visit("seen_alone"))
        .add("2023-10-18", CSC, visit("seen"))
        .add("2023-11-01", CSC, visit("seen_alone"))
        .add("2023-11-14", CSC, json!({"kind": "assessment", "stage": "completed", "child_seen": true, "child_seen_alone": true, "factors": ["4B"]}))
        .add("2023-11-21", CSC, json!({"kind": "case_closure", "reason": "RC7"}));

    mia.assert_horizons_hold();
    assert_eq!(mia.flags("2024-02-29"), expected(&[]));
}

/// Domestic abuse with a new partner known only by the name he gave (Domestic Abuse Act 2021;
/// the Haringey reviews' "Mr H"): a toddler present at two call-outs, the second high risk.
#[test]
fn domestic_abuse_with_an_adult_known_only_by_name_raises_what_a_panel_would_expect() {
    let mut zoe = Case::new("2021-06-01");
    let call_out = |risk: &str| {
        json!({"kind": "police_call_out", "reason": "shouting, a woman screaming",
               "domestic_abuse": true, "risk": risk,
               "children_present": ["C"], "children_seen": ["C"]})
    };
    // 6 May 2024 is the Early May bank holiday: the count starts on Tuesday 7 May.
    zoe.add_with(
        "2024-05-06T22:10",
        POLICE,
        call_out("medium"),
        &[("J", "other_adult_present", "Jay", "given")],
    )
    .add_with(
        "2024-06-10T23:30",
        POLICE,
        call_out("high"),
        &[("J", "other_adult_present", "Jay", "given")],
    );

    zoe.assert_horizons_hold();
    let flags = zoe.flags("2024-07-01");

    assert_eq!(
        flags,
        expected(&[
            // Both incidents are one concern, with the two call-outs behind it.
            ("domestic_abuse_in_household", "2024-05-06"),
            // 7 May ... 20 May are ten working days; on the 21st Jay was still unchecked.
            ("identity_only_given", "2024-05-21"),
            ("unverified_adult", "2024-05-21"),
            ("repeated_domestic_abuse", "2024-06-10"),
            ("high_risk_domestic_abuse", "2024-06-10"),
        ])
    );
}

/// The same call-out with the partner's identity checked by the officers at the scene: the
/// abuse is a concern, who he is is not.
#[test]
fn an_adult_whose_identity_was_verified_is_not_flagged_as_unknown() {
    let mut zoe = Case::new("2021-06-01");
    zoe.add_with(
        "2024-05-07",
        POLICE,
        json!({"kind": "police_call_out", "domestic_abuse": true, "risk": "standard",
               "children_present": ["C"], "children_seen": []}),
        &[("J", "other_adult_present", "Jay", "verified")],
    );

    zoe.assert_horizons_hold();
    assert_eq!(
        zoe.flags("2024-07-01"),
        expected(&[("domestic_abuse_in_household", "2024-05-07")])
    );
}

/// Two children of one mother, each not brought once to a health appointment and each bruised
/// once (NSPCC, neglect and "was not brought"; the reviews: siblings' records read apart): no
/// child's own record holds two, the household holds both patterns.
#[test]
fn concerns_spread_across_siblings_are_seen_as_the_households() {
    let mut amy = Case::new("2019-04-01");
    amy.add(
        "2024-03-05",
        GP,
        json!({"kind": "was_not_brought", "service": "health"}),
    )
    .add(
        "2024-05-14",
        GP,
        json!({"kind": "injury_observed", "body_site": "forearm", "injury_type": "bruise"}),
    )
    .add_sibling(
        "2024-04-09",
        GP,
        "B",
        json!({"kind": "was_not_brought", "service": "health"}),
    )
    .add_sibling(
        "2024-06-18",
        GP,
        "B",
        json!({"kind": "injury_observed", "body_site": "cheek", "injury_type": "bruise"}),
    );

    amy.assert_horizons_hold();
    assert_eq!(
        amy.flags("2024-07-01"),
        expected(&[
            ("not_brought_across_siblings", "2024-04-09"),
            ("injuries_across_siblings", "2024-06-18"),
        ])
    );

    // One child's own two missed appointments are that child's pattern, not the household's.
    let mut ben = Case::new("2019-04-01");
    ben.add(
        "2024-03-05",
        GP,
        json!({"kind": "was_not_brought", "service": "health"}),
    )
    .add(
        "2024-04-09",
        GP,
        json!({"kind": "was_not_brought", "service": "health"}),
    );
    ben.assert_horizons_hold();
    assert_eq!(
        ben.flags("2024-07-01"),
        expected(&[("repeatedly_not_brought", "2024-04-09")])
    );
}

/// Probation assesses the mother's new partner as a high risk to children; the child's record
/// holds only a health visit at which he was present, verified. The risk reaches the child.
#[test]
fn an_adult_services_high_risk_to_children_reaches_the_children_around_the_adult() {
    let mut eli = Case::new("2023-02-01");
    eli.add_with(
        "2024-05-07",
        "north-health-visiting",
        visit("seen"),
        &[("R", "other_adult_present", "Ray", "verified")],
    )
    .add_adult_record(
        "2024-05-20",
        "north-probation",
        "R",
        json!({"kind": "adult_service_record", "service": "probation", "risk_to_children": "high"}),
    );
    eli.assert_horizons_hold();
    assert_eq!(
        eli.flags("2024-07-01"),
        expected(&[("adult_service_risk_to_children", "2024-05-20")])
    );

    let mut low = Case::new("2023-02-01");
    low.add_with("2024-05-07", "north-health-visiting", visit("seen"), &[("R", "other_adult_present", "Ray", "verified")])
        .add_adult_record("2024-05-20", "north-probation", "R",
            json!({"kind": "adult_service_record", "service": "probation", "risk_to_children": "standard"}));
    low.assert_horizons_hold();
    assert_eq!(low.flags("2024-07-01"), expected(&[]));
}
