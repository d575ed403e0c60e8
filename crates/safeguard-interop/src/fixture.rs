//! Two children of one authority, with what comes before, in and after 2023-24, and a
//! third known only from a contact: the tests of the census and of Annex A read them.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use safeguard_core::{Disability, EntryDetails, Ethnicity, PersonName, PersonRecord, Sex};
use serde_json::json;

use crate::cin_census::ChildHistory;

pub(crate) fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn details(v: serde_json::Value) -> EntryDetails {
    serde_json::from_value(v).unwrap()
}

/// Two children of one authority, with what comes before, in and after 2023-24.
pub(crate) struct Fixture {
    records: Vec<PersonRecord>,
    events: Vec<Vec<(NaiveDate, EntryDetails)>>,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let mut first = PersonRecord::named("LA-0001", PersonName::new("Ava", "Example"));
        first.sex = Some(Sex::Female);
        first.date_of_birth = Some(safeguard_core::PartialDate::Day(day("2019-05-14")));
        first.ethnicity = Some(Ethnicity::WhiteBritish);
        let mut second = PersonRecord::named("LA-0002", PersonName::new("Ben", "Sample"));
        second.sex = Some(Sex::Male);
        second.date_of_birth = Some(safeguard_core::PartialDate::Day(day("2010-01-02")));
        second.disabilities = vec![Disability::Autism];
        second.upn = Some("A123456789012".into());
        let contact_only = PersonRecord::named("LA-0003", PersonName::new("Cal", "Other"));
        let next_year = PersonRecord::named("LA-0004", PersonName::new("Dee", "Later"));
        let e = |d: &str, v: serde_json::Value| (day(d), details(v));
        let events = vec![
            vec![
                // Closed before the year: not returned.
                e(
                    "2022-06-01",
                    json!({"kind": "referral", "source_code": "3A"}),
                ),
                e(
                    "2022-06-01",
                    json!({"kind": "referral_decision", "outcome": "no_further_action"}),
                ),
                e(
                    "2022-06-02",
                    json!({"kind": "case_closure", "reason": "RC8"}),
                ),
                // The police's contact, then the referral, the enquiry and the plan.
                e(
                    "2023-05-02",
                    json!({"kind": "contact", "referral_source": "6"}),
                ),
                e("2023-05-03", json!({"kind": "referral"})),
                e(
                    "2023-05-04",
                    json!({"kind": "referral_decision", "outcome": "strategy_discussion"}),
                ),
                e(
                    "2023-05-04",
                    json!({"kind": "strategy_discussion", "section47_decided": true}),
                ),
                e(
                    "2023-05-05",
                    json!({"kind": "section47_enquiry", "stage": "started"}),
                ),
                e(
                    "2023-05-05",
                    json!({"kind": "assessment", "stage": "started"}),
                ),
                e(
                    "2023-05-24",
                    json!({"kind": "section47_enquiry", "stage": "completed", "icpc_required": true}),
                ),
                e(
                    "2023-05-25",
                    json!({"kind": "conference", "conference_type": "initial", "plan_decided": true, "category": "physical_abuse"}),
                ),
                e(
                    "2023-05-25",
                    json!({"kind": "plan_start", "category": "physical_abuse"}),
                ),
                e(
                    "2023-06-01",
                    json!({"kind": "home_visit", "child_seen": true, "child_seen_alone": true}),
                ),
                e(
                    "2023-06-20",
                    json!({"kind": "assessment", "stage": "completed", "child_seen": true, "factors": ["3B", "2B"], "primary_need": "N1"}),
                ),
                e(
                    "2023-08-24",
                    json!({"kind": "conference", "conference_type": "review", "plan_decided": true, "category": "multiple"}),
                ),
                e(
                    "2024-02-20",
                    json!({"kind": "conference", "conference_type": "review", "plan_decided": true}),
                ),
                // After 31 March 2024: not in the return, so the plan is still open in it.
                e("2024-04-10", json!({"kind": "plan_end"})),
            ],
            vec![
                e(
                    "2021-11-01",
                    json!({"kind": "referral", "source_code": "2A"}),
                ),
                e(
                    "2021-11-20",
                    json!({"kind": "plan_start", "category": "neglect"}),
                ),
                e("2022-03-01", json!({"kind": "plan_end"})),
                e(
                    "2022-03-01",
                    json!({"kind": "case_closure", "reason": "RC7"}),
                ),
                e(
                    "2023-10-02",
                    json!({"kind": "referral", "source_code": "1A"}),
                ),
                e(
                    "2023-10-02",
                    json!({"kind": "referral_decision", "outcome": "no_further_action"}),
                ),
                e(
                    "2023-10-03",
                    json!({"kind": "case_closure", "reason": "RC8"}),
                ),
                e(
                    "2024-01-08",
                    json!({"kind": "referral", "source_code": "2A"}),
                ),
                e(
                    "2024-01-09",
                    json!({"kind": "assessment", "stage": "started"}),
                ),
                e(
                    "2024-02-12",
                    json!({"kind": "child_in_need_plan", "stage": "started"}),
                ),
                e(
                    "2024-03-20",
                    json!({"kind": "section47_enquiry", "stage": "started"}),
                ),
                e(
                    "2024-03-25",
                    json!({"kind": "plan_start", "category": "emotional_abuse"}),
                ),
                e(
                    "2024-03-28",
                    json!({"kind": "section47_enquiry", "stage": "completed", "icpc_required": false}),
                ),
                e(
                    "2024-03-29",
                    json!({"kind": "placement", "placement_type": "foster care"}),
                ),
                e("2024-03-30", json!({"kind": "missing_episode", "hours": 6})),
            ],
            vec![
                e(
                    "2023-11-15",
                    json!({"kind": "contact", "referral_source": "9"}),
                ),
                e(
                    "2023-11-16",
                    json!({"kind": "referral_decision", "outcome": "early_help"}),
                ),
            ],
            vec![e(
                "2024-04-02",
                json!({"kind": "referral", "source_code": "6"}),
            )],
        ];
        Fixture {
            records: vec![first, second, contact_only, next_year],
            events,
        }
    }

    pub(crate) fn histories(&self) -> Vec<ChildHistory<'_>> {
        self.records
            .iter()
            .zip(&self.events)
            .map(|(record, events)| ChildHistory {
                record,
                events: events.iter().map(|(d, e)| (*d, e)).collect(),
            })
            .collect()
    }
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares a written file with its golden copy; `SAFEGUARD_WRITE_GOLDEN=1` rewrites it.
pub(crate) fn assert_golden(name: &str, text: &str) {
    let path = golden(name);
    if std::env::var_os("SAFEGUARD_WRITE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (SAFEGUARD_WRITE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    assert_eq!(text, expected, "{name} differs from its golden copy");
}
