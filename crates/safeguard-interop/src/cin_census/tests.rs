use std::path::{Path, PathBuf};

use chrono::Utc;
use safeguard_core::calendar::Calendar;
use safeguard_core::{
    AbuseCategory, AgencyId, ClosureReason, Ethnicity, PersonRecord, PrimaryNeed, ReferralSource,
};

use super::*;
use crate::fixture::{Fixture, assert_golden, day};

fn year() -> CollectionYear {
    CollectionYear::parse("2023-24").unwrap()
}

fn fixture_return() -> Return {
    let f = Fixture::new();
    build(
        year(),
        "201",
        &f.histories(),
        &Calendar::england_and_wales(),
    )
}

#[test]
fn a_collection_year_runs_from_april_to_march_and_reads_as_the_field_writes_it() {
    let y = year();
    assert_eq!((y.start(), y.end()), (day("2023-04-01"), day("2024-03-31")));
    assert_eq!(y.to_string(), "2023-24");
    assert_eq!(CollectionYear::parse("2023-2024"), Ok(y));
    assert_eq!(CollectionYear::parse("1999-00").unwrap().end_year(), 2000);
    for wrong in ["2023-25", "2023", "24-23", "2023-xx"] {
        assert!(CollectionYear::parse(wrong).is_err(), "{wrong}");
    }
}

#[test]
fn the_return_holds_every_episode_open_in_the_year_built_from_entries_alone() {
    let r = fixture_return();
    let ids: Vec<&str> = r.children.iter().map(|c| c.la_child_id.as_str()).collect();
    assert_eq!(
        ids,
        ["LA-0001", "LA-0002"],
        "a contact is not a referral; a referral after 31 March is next year's"
    );
    let ava = &r.children[0];
    assert_eq!(
        ava.episodes.len(),
        1,
        "the episode closed in 2022 is not returned"
    );
    let e = &ava.episodes[0];
    assert_eq!(e.referral_date, day("2023-05-03"));
    assert_eq!(
        e.referral_source,
        ReferralSource::Police,
        "the source of the contact the referral came from"
    );
    assert!(!e.referral_nfa);
    assert_eq!(e.primary_need, Some(PrimaryNeed::AbuseOrNeglect));
    assert_eq!(e.initial_cpc, Some(day("2023-05-25")));
    assert_eq!(e.closure, None, "closed after the year: open in the return");
    assert_eq!(
        e.assessments,
        [AssessmentDates {
            start: day("2023-05-05"),
            authorised: Some(day("2023-06-20")),
            factors: vec!["3B".into(), "2B".into()],
        }]
    );
    assert_eq!(
        e.section47s,
        [Section47Dates {
            start: day("2023-05-05"),
            // 15 working days from Thursday 4 May 2023, past the coronation bank holiday (8 May).
            icpc_target: Some(day("2023-05-26")),
            icpc: Some(day("2023-05-25")),
            icpc_not_required: false,
        }]
    );
    assert_eq!(
        e.protection_plans,
        [ProtectionPlan {
            start: day("2023-05-25"),
            end: None,
            initial_category: AbuseCategory::PhysicalAbuse,
            latest_category: AbuseCategory::Multiple,
            previous_plans: 0,
            reviews: vec![day("2023-08-24"), day("2024-02-20")],
        }]
    );
    let ben = &r.children[1];
    assert_eq!(ben.episodes.len(), 2);
    let (nfa, open) = (&ben.episodes[0], &ben.episodes[1]);
    assert!(nfa.referral_nfa);
    assert_eq!(
        nfa.closure,
        Some((
            day("2023-10-03"),
            ClosureReason::NoFurtherActionAfterAssessment
        ))
    );
    assert_eq!(open.referral_source, ReferralSource::School);
    assert_eq!(open.assessments[0].authorised, None);
    assert_eq!(
        open.cin_plans,
        [PlanDates {
            start: day("2024-02-12"),
            end: None
        }]
    );
    assert_eq!(
        open.section47s[0].icpc_target,
        Some(day("2024-04-12")),
        "15 working days past Good Friday and Easter Monday 2024"
    );
    assert!(open.section47s[0].icpc_not_required);
    assert_eq!(
        open.protection_plans[0].previous_plans, 1,
        "the plan of 2021, in an episode not returned, is counted"
    );
    assert_eq!(
        ben.ethnicity,
        Ethnicity::NotObtained,
        "not recorded: not yet obtained"
    );
}

/// The DfE schema as shipped, and with `NumberOfPreviousCPP` read as a count that may be 0
/// (see `data/schemas/cin-census/README.md`).
fn schemas() -> (PathBuf, PathBuf) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/schemas/cin-census/CIN_schema_2024.xsd");
    let text = std::fs::read_to_string(&shipped).unwrap();
    let from = r#"<xs:element name="NumberOfPreviousCPP" type="xs:positiveInteger""#;
    assert!(
        text.contains(from),
        "the schema's one deviation is where it was"
    );
    let patched = std::env::temp_dir().join(format!("cin-schema-{}.xsd", std::process::id()));
    std::fs::write(
        &patched,
        text.replace(
            from,
            r#"<xs:element name="NumberOfPreviousCPP" type="xs:nonNegativeInteger""#,
        ),
    )
    .unwrap();
    (shipped, patched)
}

/// `xmllint --schema`: Ok, or its complaints.
fn validate(xml: &str, schema: &Path) -> Result<(), String> {
    let file = std::env::temp_dir().join(format!("cin-{}-{}.xml", std::process::id(), xml.len()));
    std::fs::write(&file, xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schema)
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian's libxml2-utils; .ci/run installs it)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn the_written_return_is_the_golden_file_and_valid_against_the_dfe_schema() {
    let xml = write(&fixture_return());
    assert_golden("cin-census-2023-24.xml", &xml);
    let (shipped, patched) = schemas();
    validate(&xml, &patched).unwrap();
    // Against the schema as shipped, only the first plans' count of 0 is refused.
    let complaints = validate(&xml, &shipped).unwrap_err();
    let faults: Vec<&str> = complaints
        .lines()
        .filter(|l| l.contains("Schemas validity error"))
        .collect();
    assert!(!faults.is_empty(), "{complaints}");
    assert!(
        faults
            .iter()
            .all(|l| l.contains("NumberOfPreviousCPP") && l.contains("'0'")),
        "{complaints}"
    );
    assert_eq!(
        faults.len(),
        1,
        "Ava's plan is her first; Ben's is his second"
    );
}

#[test]
fn a_written_return_reads_back_as_it_was_and_imports_as_entries_that_build_it_again() {
    let built = fixture_return();
    let read = read(&write(&built)).unwrap();
    assert_eq!(
        (read.year, read.lea.as_deref()),
        (Some(year()), Some("201"))
    );
    let children: Vec<Child> = read.children.into_iter().map(Result::unwrap).collect();
    assert_eq!(children, built.children);

    // Import: each child's entries pass the checks every entry passes, and build the same.
    let agency = AgencyId::parse("north-csc").unwrap();
    let calendar = Calendar::england_and_wales();
    let entries: Vec<Vec<safeguard_core::Entry>> = children
        .iter()
        .map(|c| to_entries(c, &agency, &calendar, Utc::now()))
        .collect();
    for e in entries.iter().flatten() {
        e.validate()
            .unwrap_or_else(|err| panic!("{}: {err}", e.source.id));
        e.check_plausible(Utc::now()).unwrap();
        assert_eq!(e.source.system, IMPORT_SYSTEM);
    }
    let ids: std::collections::HashSet<&str> = entries
        .iter()
        .flatten()
        .map(|e| e.source.id.as_str())
        .collect();
    assert_eq!(
        ids.len(),
        entries.iter().flatten().count(),
        "source ids are unique"
    );
    let records: Vec<PersonRecord> = entries
        .iter()
        .map(|e| e[0].persons[0].record.clone())
        .collect();
    let histories: Vec<ChildHistory> = records
        .iter()
        .zip(&entries)
        .map(|(record, es)| ChildHistory {
            record,
            events: es
                .iter()
                .map(|e| (e.occurred_at.date(), &e.details))
                .collect(),
        })
        .collect();
    let again = build(year(), "201", &histories, &calendar);
    assert_eq!(again, built);
    assert_eq!(write(&again), write(&built));
    // The same child imported again gives the same entries.
    assert_eq!(
        to_entries(&children[1], &agency, &calendar, Utc::now()),
        entries[1]
    );
}

#[test]
fn a_malformed_child_is_refused_with_every_fault_by_path_and_the_others_are_read() {
    let good = write(&fixture_return());
    let bad = good
        .replacen("<LAchildID>LA-0002</LAchildID>", "", 1)
        .replacen(
            "<CINreferralDate>2024-01-08<",
            "<CINreferralDate>2024-13-08<",
            1,
        )
        .replacen(
            "<ReferralSource>2A</ReferralSource>",
            "<ReferralSource>2Z</ReferralSource>",
            1,
        )
        .replacen(
            "<GenderCurrent>1</GenderCurrent>",
            "<GenderCurrent>1</GenderCurrent><Nickname>Benny</Nickname>",
            1,
        );
    let read = read(&bad).unwrap();
    assert!(read.children[0].is_ok(), "the first child is read");
    let fault = read.children[1].as_ref().unwrap_err();
    assert_eq!(fault.index, 2);
    let listed: Vec<String> = fault.faults.iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        [
            "/Message/Children/Child[2]/CINdetails[2]/CINreferralDate: is not a date (YYYY-MM-DD)",
            "/Message/Children/Child[2]/CINdetails[2]/ReferralSource: is not a census code for ReferralSource",
            "/Message/Children/Child[2]/ChildIdentifiers/Nickname: is not an element the schema knows here",
            "/Message/Children/Child[2]/ChildIdentifiers/LAchildID: is missing",
        ]
    );
    for text in &listed {
        for value in ["Benny", "2Z", "2024-13-08", "LA-0002"] {
            assert!(!text.contains(value), "{text} shows a value");
        }
    }
}

#[test]
fn an_identifier_holding_a_control_or_hiding_character_is_refused_not_carried() {
    let good = write(&fixture_return());
    for hidden in ["&#13;", "\u{202E}"] {
        let bad = good.replacen("LA-0001<", &format!("LA-{hidden}0001<"), 1);
        let read = read(&bad).unwrap();
        let fault = read.children[0].as_ref().unwrap_err();
        assert_eq!(
            fault.faults[0].path,
            "/Message/Children/Child[1]/ChildIdentifiers/LAchildID"
        );
    }
}

#[test]
fn a_case_closed_on_the_day_of_a_new_referral_closes_the_episode_before() {
    let record = PersonRecord::named("LA-0009", safeguard_core::PersonName::new("Cy", "Day"));
    let e = |d: &str, v: serde_json::Value| (day(d), serde_json::from_value(v).unwrap());
    let events: Vec<(chrono::NaiveDate, safeguard_core::EntryDetails)> = vec![
        e(
            "2023-06-01",
            serde_json::json!({"kind": "referral", "source_code": "2A"}),
        ),
        e(
            "2023-09-04",
            serde_json::json!({"kind": "case_closure", "reason": "RC7"}),
        ),
        e(
            "2023-09-04",
            serde_json::json!({"kind": "contact", "referral_source": "6"}),
        ),
        e(
            "2023-09-04",
            serde_json::json!({"kind": "referral_decision", "outcome": "no_further_action"}),
        ),
        e("2023-09-04", serde_json::json!({"kind": "referral"})),
    ];
    let history = ChildHistory {
        record: &record,
        events: events.iter().map(|(d, x)| (*d, x)).collect(),
    };
    let r = build(year(), "201", &[history], &Calendar::england_and_wales());
    let episodes = &r.children[0].episodes;
    assert_eq!(episodes.len(), 2);
    assert_eq!(
        episodes[0].closure,
        Some((day("2023-09-04"), ClosureReason::ServicesCeased))
    );
    assert!(!episodes[0].referral_nfa);
    assert_eq!(episodes[1].closure, None, "the new referral is open");
    assert_eq!(episodes[1].referral_source, ReferralSource::Police);
    assert!(
        episodes[1].referral_nfa,
        "decided just before the referral was written, the same day"
    );
}

#[test]
fn a_file_that_is_not_a_return_is_refused_whole() {
    assert!(matches!(
        read("<Message><Children>"),
        Err(ReturnError::NotXml { line: 1, .. })
    ));
    assert_eq!(
        read("<Return/>").unwrap_err().to_string(),
        "/: the root element is not Message"
    );
    assert_eq!(
        read("<Message><Header/></Message>")
            .unwrap_err()
            .to_string(),
        "/Message/Children: is missing"
    );
}
