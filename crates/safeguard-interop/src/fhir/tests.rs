use std::sync::Arc;

use chrono::{DateTime, Utc};
use safeguard_core::rules::ChronologyItem;
use safeguard_core::{
    AgencyId, Entry, EntryDetails, EntryId, InjuryType, LinkedRecord, ParticipantRole, Person,
    PersonId, Precision, RecordId, Sex,
};
use serde_json::{Value, json};

use super::*;

const SAMPLE: &str = include_str!("../../../../data/fhir/ed-attendance-bundle.json");

fn hospital() -> AgencyId {
    AgencyId::parse("north-general-hospital").unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-12-07T12:00:00Z".parse().unwrap()
}

fn id<T: std::str::FromStr>(n: u32) -> T
where
    T::Err: std::fmt::Debug,
{
    format!("00000000-0000-0000-0000-{n:012}").parse().unwrap()
}

/// The entries as the store would hold them: each person an id (the child 1, then in order
/// of first naming), each entry an id.
fn held(entries: &[Entry]) -> (Person, Vec<ChronologyItem>) {
    let mut people: Vec<String> = Vec::new();
    let items = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let ids = e
                .persons
                .iter()
                .map(|p| {
                    let at = people
                        .iter()
                        .position(|l| *l == p.record.local_id)
                        .unwrap_or_else(|| {
                            people.push(p.record.local_id.clone());
                            people.len() - 1
                        });
                    id::<PersonId>(at as u32 + 1)
                })
                .collect();
            ChronologyItem::new(id::<EntryId>(100 + i as u32), Arc::new(e.clone()), ids)
        })
        .collect();
    let child = Person {
        id: id(1),
        records: vec![LinkedRecord {
            id: id::<RecordId>(50),
            agency: entries[0].agency.clone(),
            source_system: entries[0].source.system.clone(),
            record: entries[0].persons[0].record.clone(),
        }],
    };
    (child, items)
}

#[test]
fn a_hospital_bundle_becomes_the_entries_it_records_in_uk_local_time() {
    let entries = read_bundle(SAMPLE, &hospital(), now()).unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind().as_str()).collect();
    assert_eq!(
        kinds,
        ["hospital_attendance", "injury_observed", "case_note"]
    );
    let attendance = &entries[0];
    // 22:40 British Summer Time, sent with its offset.
    assert_eq!(attendance.occurred_at.to_string(), "2024-06-14T22:40");
    assert_eq!(attendance.occurred_at.precision(), Precision::Minute);
    assert_eq!(attendance.source.system, "fhir");
    assert_eq!(
        attendance.source.id,
        "https://north-general.example/ed-attendance|ED-20240614-0031"
    );
    assert_eq!(
        (
            attendance.author.name.as_str(),
            attendance.author.role.as_str()
        ),
        ("Dr R Okafor", "Emergency doctor")
    );
    let child = &attendance.persons[0];
    assert_eq!(child.role, ParticipantRole::SubjectChild);
    assert_eq!(child.record.local_id, "Patient/pat-4411");
    assert_eq!(
        child.record.nhs_number.as_ref().unwrap().as_str(),
        "9434765919"
    );
    assert_eq!(child.record.sex, Some(Sex::Male));
    assert_eq!(
        child.record.addresses[0]
            .postcode
            .as_ref()
            .unwrap()
            .as_str(),
        "N17 6AA"
    );
    let roles: Vec<ParticipantRole> = attendance.persons.iter().map(|p| p.role).collect();
    assert_eq!(
        roles,
        [
            ParticipantRole::SubjectChild,
            ParticipantRole::Parent,
            ParticipantRole::OtherAdultPresent
        ],
        "the mother by her v3 code, her partner by none"
    );
    match &attendance.details {
        EntryDetails::HospitalAttendance(h) => {
            assert_eq!(h.department, "emergency department");
            assert_eq!(
                h.presenting_complaint.as_deref(),
                Some("bruising to the cheek")
            );
        }
        other => panic!("{other:?}"),
    }
    // The injury: 21:55 UTC is 22:55 in June; the mother's explanation, from her.
    let injury = &entries[1];
    assert_eq!(injury.occurred_at.to_string(), "2024-06-14T22:55");
    match &injury.details {
        EntryDetails::InjuryObserved(i) => {
            assert_eq!(i.injury_type, InjuryType::Bruise);
            assert_eq!(i.body_site, "left cheek");
            assert_eq!(
                i.explanation_given.as_deref(),
                Some("Mother says he rolled off the sofa.")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(injury.persons[1].role, ParticipantRole::Parent);
    assert!(entries[2].summary.starts_with("A baby of nine months"));
}

#[test]
fn every_fault_of_a_bundle_is_named_by_resource_and_element_never_by_value() {
    let mut bundle: Value = serde_json::from_str(SAMPLE).unwrap();
    let entries = bundle["entry"].as_array_mut().unwrap();
    entries[0]["resource"]["birthDate"] = json!("2023-02-30");
    entries[3]["resource"]["class"]["code"] = json!("VR");
    entries[4]["resource"]["bodySite"] = json!([]);
    entries[5]["resource"]["subject"]["reference"] = json!("Patient/nobody");
    entries[5]["resource"]["identifier"] =
        json!([{"system": "urn:safeguard:entry:northbury-police:niche", "value": "P-1"}]);
    let faults = read_bundle(&bundle.to_string(), &hospital(), now()).unwrap_err();
    let listed: Vec<String> = faults.iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        [
            "Patient/pat-4411 (birthDate): is not a date (YYYY, YYYY-MM or YYYY-MM-DD)",
            "Encounter/ed-20240614-1 (class): is not AMB (an appointment), EMER or IMP (a hospital attendance)",
            "Condition/inj-20240614-1 (bodySite): is missing: where on the body the injury is",
            "Observation/obs-20240614-1 (subject): does not reference a Patient in the bundle",
            "Observation/obs-20240614-1 (identifier): names an entry another agency recorded: an agency sends only its own",
        ]
    );
    for text in &listed {
        for value in ["2023-02-30", "VR", "nobody", "Brennan", "P-1"] {
            assert!(!text.contains(value), "{text} shows {value}");
        }
    }
    assert_eq!(
        read_bundle("{\"resourceType\": \"Patient\"}", &hospital(), now()).unwrap_err()[0]
            .to_string(),
        "Bundle (resourceType): is not Bundle"
    );
}

#[test]
fn a_record_exported_and_imported_again_is_the_same_record() {
    let entries = read_bundle(SAMPLE, &hospital(), now()).unwrap();
    let (child, items) = held(&entries);
    let exported = everything("https://safeguard.example/fhir", &child, &items);
    assert_eq!(exported["type"], "searchset");
    if let Some(path) = std::env::var_os("SAFEGUARD_PEEK") {
        std::fs::write(path, serde_json::to_string_pretty(&exported).unwrap()).unwrap();
    }
    let patient = &exported["entry"][0]["resource"];
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(
        patient["identifier"][1],
        json!({"system": NHS_NUMBER_SYSTEM, "value": "9434765919"})
    );
    let again = read_bundle(&exported.to_string(), &hospital(), now()).unwrap();
    assert_eq!(again, entries);
    // Another agency cannot send the hospital's entries as its own.
    let police = AgencyId::parse("northbury-police").unwrap();
    let faults = read_bundle(&exported.to_string(), &police, now()).unwrap_err();
    assert!(faults.iter().all(|f| f.field == "identifier"), "{faults:?}");
}

/// A plan started by children's social care, for the child of the sample.
fn plan_entry(entries: &[Entry], details: Value, day: &str, n: u32) -> Entry {
    let mut e = entries[0].clone();
    e.agency = AgencyId::parse("northbury-childrens-services").unwrap();
    e.source = safeguard_core::SourceRef {
        system: "lcs".into(),
        id: format!("CP-{n}"),
    };
    e.occurred_at = safeguard_core::OccurredAt::parse(day).unwrap();
    e.persons.truncate(1);
    e.details = serde_json::from_value(details).unwrap();
    e
}

#[test]
fn a_child_on_a_plan_carries_a_cp_is_flag_until_the_plan_ends_and_it_is_never_imported() {
    let mut entries = read_bundle(SAMPLE, &hospital(), now()).unwrap();
    entries.push(plan_entry(
        &entries,
        json!({"kind": "plan_start", "category": "physical_abuse"}),
        "2024-07-02",
        1,
    ));
    let (child, items) = held(&entries);
    let exported = everything("https://safeguard.example/fhir", &child, &items);
    let flags: Vec<&Value> = exported["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Flag")
        .collect();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0]["status"], "active");
    assert_eq!(flags[0]["period"]["start"], "2024-07-02");
    assert_eq!(
        flags[0]["code"]["text"],
        "Subject to a child protection plan (category: physical abuse)"
    );
    assert_eq!(
        flags[0]["author"]["display"],
        "northbury-childrens-services"
    );
    // The hospital sends its own part back: the flag is a view, not a record to import.
    let hospital_part: Value = {
        let mut b = exported.clone();
        b["entry"] = Value::Array(
            exported["entry"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| {
                    !e["resource"]["identifier"][0]["system"]
                        .as_str()
                        .unwrap_or("")
                        .contains("childrens-services")
                })
                .cloned()
                .collect(),
        );
        b
    };
    let again = read_bundle(&hospital_part.to_string(), &hospital(), now()).unwrap();
    assert_eq!(again, entries[..3]);
    entries.push(plan_entry(
        &entries,
        json!({"kind": "plan_end"}),
        "2024-12-02",
        2,
    ));
    let (child, items) = held(&entries);
    let ended = everything("https://safeguard.example/fhir", &child, &items);
    assert!(
        ended["entry"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["resource"]["resourceType"] != "Flag")
    );
}

/// Validates a bundle with the `fhir.resources` package (FHIR R4), as `scripts/test` installs
/// it: `SAFEGUARD_FHIR_PYTHON` names the Python that has it.
fn validate(bundle: &Value) -> Result<(), String> {
    let python = std::env::var("SAFEGUARD_FHIR_PYTHON").unwrap_or_else(|_| "python3".into());
    let file = std::env::temp_dir().join(format!(
        "fhir-{}-{}.json",
        std::process::id(),
        bundle.to_string().len()
    ));
    std::fs::write(&file, bundle.to_string()).unwrap();
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import json, sys\nfrom fhir.resources.bundle import Bundle\nBundle.parse_obj(json.load(open(sys.argv[1])))",
        ])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    let complaints = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !complaints.contains("No module named 'fhir'"),
        "{python} has no fhir.resources: run ./scripts/test, which installs it, or set SAFEGUARD_FHIR_PYTHON"
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(complaints)
    }
}

#[test]
fn the_sample_and_every_export_validate_as_fhir_r4_with_fhir_resources() {
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    validate(&sample).unwrap();
    let mut entries = read_bundle(SAMPLE, &hospital(), now()).unwrap();
    entries.push(plan_entry(
        &entries,
        json!({"kind": "plan_start", "category": "neglect"}),
        "2024-07-02",
        1,
    ));
    entries.push(plan_entry(
        &entries,
        json!({"kind": "home_visit", "child_seen": true, "child_seen_alone": false}),
        "2024-07-03T10:15",
        2,
    ));
    let (child, items) = held(&entries);
    let exported = everything("https://safeguard.example/fhir", &child, &items);
    crate::fixture::assert_golden(
        "fhir-everything.json",
        &(serde_json::to_string_pretty(&exported).unwrap() + "\n"),
    );
    validate(&exported).unwrap();
    // And the validator refuses what is not FHIR: it would catch a broken export.
    let mut broken = exported.clone();
    broken["entry"][0]["resource"]["birthDate"] = json!("14/06/2023");
    assert!(validate(&broken).is_err());
}
