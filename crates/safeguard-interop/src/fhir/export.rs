//! A child's record as a FHIR Bundle (`Patient/{id}/$everything`).

use safeguard_core::rules::ChronologyItem;
use safeguard_core::{
    AbuseCategory, AgencyId, Entry, EntryDetails, ParticipantRole, Person, PersonId, PersonRecord,
};
use serde_json::{Value, json};

use super::*;

/// The child's record: the Patient (every agency's identifier for them, the first record's
/// demographics), a RelatedPerson for everyone named with them, a resource for each entry about
/// them (an Encounter, a Condition for an injury, an Observation for a note), and, while they
/// are on a child protection plan, a CP-IS-style Flag. `base` is the server's FHIR base URL,
/// for each resource's full URL.
pub fn everything(base: &str, child: &Person, chronology: &[ChronologyItem]) -> Value {
    let about: Vec<&ChronologyItem> = chronology
        .iter()
        .filter(|item| subject_of(item) == Some(child.id))
        .collect();
    let mut resources = vec![patient(child)];
    // Everyone named with the child, once, as first named.
    let mut related: Vec<PersonId> = Vec::new();
    for item in &about {
        for (p, id) in item.entry.persons.iter().zip(&item.person_ids) {
            if *id != child.id && !related.contains(id) {
                related.push(*id);
                resources.push(related_person(*id, child.id, &p.record, p.role, item));
            }
        }
    }
    for item in &about {
        resources.push(resource(child.id, item));
    }
    if let Some((since, category, agency)) = on_plan(&about) {
        resources.push(flag(child.id, since, category, agency));
    }
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": resources.len(),
        "entry": resources
            .into_iter()
            .map(|r| json!({
                "fullUrl": format!(
                    "{base}/{}/{}",
                    r["resourceType"].as_str().unwrap_or_default(),
                    r["id"].as_str().unwrap_or_default()
                ),
                "resource": r,
                "search": {"mode": "match"},
            }))
            .collect::<Vec<_>>(),
    })
}

fn subject_of(item: &ChronologyItem) -> Option<PersonId> {
    item.entry
        .persons
        .iter()
        .zip(&item.person_ids)
        .find(|(p, _)| p.role == ParticipantRole::SubjectChild)
        .map(|(_, id)| *id)
}

/// The plan the child is on, if the latest plan entry started one: since when, its category
/// (as its latest review conference set it) and the authority that holds it.
fn on_plan<'a>(
    about: &[&'a ChronologyItem],
) -> Option<(chrono::NaiveDate, AbuseCategory, &'a AgencyId)> {
    let mut plan = None;
    for item in about {
        match &item.entry.details {
            EntryDetails::PlanStart(p) => {
                plan = Some((
                    item.entry.occurred_at.date(),
                    p.category,
                    &item.entry.agency,
                ));
            }
            EntryDetails::PlanEnd(_) => plan = None,
            EntryDetails::Conference(c) if c.plan_decided => {
                if let (Some(current), Some(category)) = (plan.as_mut(), c.category) {
                    current.1 = category;
                }
            }
            _ => {}
        }
    }
    plan
}

/// A person's demographics as a Patient's or RelatedPerson's elements.
fn demographics(record: &PersonRecord, identifiers: Vec<Value>) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let mut ids = identifiers;
    if let Some(nhs) = &record.nhs_number {
        ids.push(json!({"system": NHS_NUMBER_SYSTEM, "value": nhs.as_str()}));
    }
    out.insert("identifier".into(), Value::Array(ids));
    let name = |n: &safeguard_core::PersonName, usage: &str| {
        let mut v = json!({"use": usage});
        if !n.given.is_empty() {
            v["given"] = json!(n.given);
        }
        if let Some(f) = &n.family {
            v["family"] = json!(f);
        }
        v
    };
    let mut names = vec![name(&record.name, "official")];
    names.extend(record.other_names.iter().map(|n| name(n, "usual")));
    out.insert("name".into(), Value::Array(names));
    if let Some(sex) = record.sex {
        let gender = match sex {
            safeguard_core::Sex::Male => "male",
            safeguard_core::Sex::Female => "female",
            safeguard_core::Sex::Unknown => "unknown",
        };
        out.insert("gender".into(), json!(gender));
    }
    if let Some(born) = &record.date_of_birth {
        out.insert("birthDate".into(), json!(born.to_string()));
    }
    if let Some(phone) = &record.phone {
        out.insert(
            "telecom".into(),
            json!([{"system": "phone", "value": phone.as_str()}]),
        );
    }
    if !record.addresses.is_empty() {
        let addresses: Vec<Value> = record
            .addresses
            .iter()
            .map(|a| {
                let mut v = json!({});
                if !a.lines.is_empty() {
                    v["line"] = json!(a.lines);
                }
                if let Some(p) = &a.postcode {
                    v["postalCode"] = json!(p.as_str());
                }
                v
            })
            .collect();
        out.insert("address".into(), Value::Array(addresses));
    }
    out
}

fn patient(child: &Person) -> Value {
    let none = PersonRecord::named("", safeguard_core::PersonName::default());
    let first = child.records.first().map_or(&none, |r| &r.record);
    let identifiers = child
        .records
        .iter()
        .map(|r| {
            json!({"system": format!("{PERSON_SYSTEM}{}", r.agency), "value": r.record.local_id})
        })
        .collect();
    let mut p = demographics(first, identifiers);
    // Every other NHS number any agency holds for the child.
    if let Some(Value::Array(ids)) = p.get_mut("identifier") {
        for r in child.records.iter().skip(1) {
            if let Some(n) = &r.record.nhs_number
                && first.nhs_number.as_ref() != Some(n)
            {
                ids.push(json!({"system": NHS_NUMBER_SYSTEM, "value": n.as_str()}));
            }
        }
    }
    p.insert("resourceType".into(), json!("Patient"));
    p.insert("id".into(), json!(child.id.to_string()));
    Value::Object(p)
}

fn related_person(
    id: PersonId,
    child: PersonId,
    record: &PersonRecord,
    role: ParticipantRole,
    item: &ChronologyItem,
) -> Value {
    let identifiers = vec![
        json!({"system": format!("{PERSON_SYSTEM}{}", item.entry.agency), "value": record.local_id}),
    ];
    let mut p = demographics(record, identifiers);
    p.insert("resourceType".into(), json!("RelatedPerson"));
    p.insert("id".into(), json!(id.to_string()));
    p.insert(
        "patient".into(),
        json!({"reference": format!("Patient/{child}")}),
    );
    let mut codings = vec![json!({"system": ROLE_SYSTEM, "code": role.as_str()})];
    if let Some(code) = role_code(role) {
        codings.push(json!({"system": ROLE_CODE_SYSTEM, "code": code}));
    }
    p.insert("relationship".into(), json!([{"coding": codings}]));
    Value::Object(p)
}

/// The extensions every exported entry carries: its summary and author.
fn extensions(entry: &Entry) -> Vec<Value> {
    vec![
        json!({"url": SUMMARY_EXTENSION, "valueString": entry.summary}),
        json!({"url": AUTHOR_EXTENSION, "extension": [
            {"url": "name", "valueString": entry.author.name},
            {"url": "role", "valueString": entry.author.role},
        ]}),
    ]
}

fn resource(child: PersonId, item: &ChronologyItem) -> Value {
    let e = &item.entry;
    let identifier = json!([{
        "system": format!("{ENTRY_SYSTEM}{}:{}", e.agency, e.source.system),
        "value": e.source.id,
    }]);
    let subject = json!({"reference": format!("Patient/{child}")});
    let when = fhir_date_time(&e.occurred_at);
    let others: Vec<(PersonId, ParticipantRole)> = e
        .persons
        .iter()
        .zip(&item.person_ids)
        .filter(|(p, _)| p.role != ParticipantRole::SubjectChild)
        .map(|(p, id)| (*id, p.role))
        .collect();
    let meta =
        json!({"lastUpdated": e.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
    let mut r = match &e.details {
        EntryDetails::InjuryObserved(i) => {
            let mut ext = extensions(e);
            if let Some(o) = i.medical_opinion {
                ext.push(json!({"url": OPINION_EXTENSION, "valueCode": o}));
            }
            if let Some(n) = i.count {
                ext.push(json!({"url": COUNT_EXTENSION, "valueInteger": n}));
            }
            let code = serde_json::to_value(i.injury_type).unwrap_or_default();
            let mut c = json!({
                "resourceType": "Condition",
                "extension": ext,
                "category": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                    "code": "encounter-diagnosis",
                }]}],
                "code": {"coding": [{"system": INJURY_SYSTEM, "code": code}],
                         "text": code.as_str().unwrap_or("").replace('_', " ")},
                "bodySite": [{"text": i.body_site}],
                "subject": subject,
                "onsetDateTime": when,
                "recorder": {"display": e.author.name},
            });
            if let Some((id, _)) = others.first() {
                c["asserter"] = json!({"reference": format!("RelatedPerson/{id}")});
            }
            if let Some(x) = &i.explanation_given {
                c["note"] = json!([{"text": x}]);
            }
            c
        }
        EntryDetails::CaseNote(_) => json!({
            "resourceType": "Observation",
            "extension": extensions(e),
            "status": "final",
            "code": {"text": "Case note"},
            "subject": subject,
            "effectiveDateTime": when,
            "performer": [{"display": e.author.name}],
            "valueString": e.summary,
        }),
        details => {
            let (class, extra) = match details {
                EntryDetails::HospitalAttendance(h) => {
                    let class = if h.department.to_lowercase().contains("emerg") {
                        "EMER"
                    } else {
                        "IMP"
                    };
                    let mut x = json!({"serviceType": {"text": h.department}});
                    if let Some(c) = &h.presenting_complaint {
                        x["reasonCode"] = json!([{"text": c}]);
                    }
                    (class, x)
                }
                EntryDetails::GpAppointment(g) => {
                    let mut x = json!({});
                    if let Some(reason) = &g.reason {
                        x["reasonCode"] = json!([{"text": reason}]);
                    }
                    if !g.attended {
                        x["status"] = json!("cancelled");
                    }
                    ("AMB", x)
                }
                EntryDetails::HomeVisit(_) => ("HH", json!({})),
                _ => ("FLD", json!({})),
            };
            let kind = e.kind();
            let mut participants = vec![json!({
                "type": [{"text": e.author.role}],
                "individual": {"display": e.author.name},
            })];
            participants.extend(others.iter().map(|(id, role)| {
                json!({
                    "type": [{"coding": [{"system": ROLE_SYSTEM, "code": role.as_str()}]}],
                    "individual": {"reference": format!("RelatedPerson/{id}")},
                })
            }));
            let mut enc = json!({
                "resourceType": "Encounter",
                "extension": extensions(e),
                "status": "finished",
                "class": {"system": ACT_CODE_SYSTEM, "code": class},
                "type": [{"coding": [{"system": KIND_SYSTEM, "code": kind.as_str(), "display": kind.label()}]}],
                "subject": subject,
                "participant": participants,
                "period": {"start": when},
                "serviceProvider": {"display": e.agency.as_str()},
            });
            if let Value::Object(x) = extra {
                for (k, v) in x {
                    enc[k] = v;
                }
            }
            enc
        }
    };
    r["id"] = json!(item.id.to_string());
    r["identifier"] = identifier;
    r["meta"] = meta;
    r
}

/// The child protection status as CP-IS shows it to unscheduled care: a Flag, active while
/// the plan lasts, naming the authority that holds it.
fn flag(
    child: PersonId,
    since: chrono::NaiveDate,
    category: AbuseCategory,
    agency: &AgencyId,
) -> Value {
    let category = serde_json::to_value(category)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default();
    json!({
        "resourceType": "Flag",
        "id": format!("cp-{child}"),
        "identifier": [{"system": CP_STATUS_SYSTEM, "value": child.to_string()}],
        "status": "active",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/flag-category",
            "code": "safety",
            "display": "Safety",
        }]}],
        "code": {"text": format!("Subject to a child protection plan (category: {category})")},
        "subject": {"reference": format!("Patient/{child}")},
        "period": {"start": since.format("%Y-%m-%d").to_string()},
        "author": {"display": agency.as_str()},
    })
}
