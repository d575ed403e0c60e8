//! A Bundle as entries: every resource read and checked, every fault named by its resource
//! and element and never by its value; all the entries, or all the faults.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use safeguard_core::{
    Address, AgencyId, Author, CaseNote, Entry, EntryDetails, GpAppointment, HospitalAttendance,
    InjuryObserved, InjuryType, MedicalOpinion, NhsNumber, PartialDate, Participant,
    ParticipantRole, PersonName, PersonRecord, Phone, Postcode, Sex, SourceRef,
};
use serde_json::Value;

use super::*;

/// One fault of a bundle: the resource (`Encounter/ed-1`, or `entry[3]` without an id), the
/// element (`class`, `subject`), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirFault {
    /// The resource.
    pub resource: String,
    /// The element.
    pub field: String,
    /// What is wrong, without the value.
    pub reason: String,
}

impl std::fmt::Display for FhirFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.resource, self.field, self.reason)
    }
}

type Faults = Vec<FhirFault>;

/// A resource with where it is.
struct Resource<'a> {
    label: String,
    json: &'a Value,
}

impl<'a> Resource<'a> {
    fn kind(&self) -> &'a str {
        self.json["resourceType"].as_str().unwrap_or("")
    }

    fn fault(&self, faults: &mut Faults, field: &str, reason: impl Into<String>) {
        faults.push(FhirFault {
            resource: self.label.clone(),
            field: field.to_owned(),
            reason: reason.into(),
        });
    }

    fn text(&self, path: &[&str]) -> Option<&'a str> {
        let mut v = self.json;
        for p in path {
            v = match p.parse::<usize>() {
                Ok(i) => v.get(i)?,
                Err(_) => v.get(*p)?,
            };
        }
        v.as_str()
    }

    fn extension(&self, url: &str) -> Option<&'a Value> {
        self.json["extension"]
            .as_array()?
            .iter()
            .find(|e| e["url"] == url)
    }

    /// The value of an identifier of a system.
    fn identifier(&self, system: &str) -> Option<&'a str> {
        self.json["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == system)
            .and_then(|i| i["value"].as_str())
    }
}

/// Reads a Bundle (`transaction`, `batch`, `collection` or `searchset`) sent by `agency` as
/// its entries: each Encounter, Condition and Observation one entry about its subject, the
/// Patient, naming the RelatedPersons it references. A Flag from another system is a note;
/// the Flag Safeguard derives from a child's plans is not read (it shows entries already held).
/// Nothing is returned unless every resource reads.
pub fn read_bundle(
    text: &str,
    agency: &AgencyId,
    now: DateTime<Utc>,
) -> Result<Vec<Entry>, Vec<FhirFault>> {
    let bundle: Value = serde_json::from_str(text)
        .map_err(|e| bundle_fault("", &format!("not JSON (line {})", e.line())))?;
    read_bundle_json(&bundle, agency, now)
}

fn bundle_fault(field: &str, reason: &str) -> Vec<FhirFault> {
    vec![FhirFault {
        resource: "Bundle".into(),
        field: field.into(),
        reason: reason.into(),
    }]
}

/// [`read_bundle`] of a bundle already parsed as JSON (the API parses the body itself, to
/// answer 400 for what is not JSON).
pub fn read_bundle_json(
    bundle: &Value,
    agency: &AgencyId,
    now: DateTime<Utc>,
) -> Result<Vec<Entry>, Vec<FhirFault>> {
    if bundle["resourceType"] != "Bundle" {
        return Err(bundle_fault("resourceType", "is not Bundle"));
    }
    if !matches!(
        bundle["type"].as_str(),
        Some("transaction" | "batch" | "collection" | "searchset")
    ) {
        return Err(bundle_fault(
            "type",
            "is not transaction, batch, collection or searchset",
        ));
    }
    let Some(items) = bundle["entry"].as_array() else {
        return Err(bundle_fault("entry", "is missing"));
    };
    let mut faults = Faults::new();
    let mut resources = Vec::new();
    let mut by_reference: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let json = &item["resource"];
        let kind = json["resourceType"].as_str().unwrap_or("");
        let label = match json["id"].as_str() {
            Some(id) if !kind.is_empty() => format!("{kind}/{id}"),
            _ => format!("entry[{i}]"),
        };
        let r = Resource { label, json };
        if !matches!(
            kind,
            "Patient" | "RelatedPerson" | "Encounter" | "Condition" | "Observation" | "Flag"
        ) {
            r.fault(
                &mut faults,
                "resourceType",
                "is not Patient, RelatedPerson, Encounter, Condition, Observation or Flag",
            );
            continue;
        }
        if let Some(url) = item["fullUrl"].as_str() {
            by_reference.insert(url.to_owned(), resources.len());
        }
        if let Some(id) = json["id"].as_str() {
            by_reference.insert(format!("{kind}/{id}"), resources.len());
        }
        resources.push(r);
    }
    // People first: each Patient and RelatedPerson as a record.
    let mut records: HashMap<usize, PersonRecord> = HashMap::new();
    for (i, r) in resources.iter().enumerate() {
        if matches!(r.kind(), "Patient" | "RelatedPerson") {
            if let Some(record) = person(r, agency, &mut faults) {
                records.insert(i, record);
            }
        }
    }
    let resolve = |reference: Option<&str>| reference.and_then(|t| by_reference.get(t).copied());
    let mut entries = Vec::new();
    for r in &resources {
        if matches!(r.kind(), "Patient" | "RelatedPerson") {
            continue;
        }
        if r.kind() == "Flag" && r.identifier(CP_STATUS_SYSTEM).is_some() {
            continue;
        }
        if let Some(entry) = entry(r, agency, now, &records, &resources, &resolve, &mut faults) {
            entries.push(entry);
        }
    }
    if faults.is_empty() {
        Ok(entries)
    } else {
        Err(faults)
    }
}

/// A Patient or RelatedPerson as the agency's record of them.
fn person(r: &Resource, agency: &AgencyId, faults: &mut Faults) -> Option<PersonRecord> {
    let local_id = r
        .identifier(&format!("{PERSON_SYSTEM}{agency}"))
        .map(str::to_owned)
        .or_else(|| r.json["id"].as_str().map(|id| format!("{}/{id}", r.kind())));
    let Some(local_id) = local_id else {
        r.fault(
            faults,
            "id",
            "a person needs an id or the agency's identifier, so that sending them again is the same person",
        );
        return None;
    };
    let mut record = PersonRecord::named(&local_id, PersonName::default());
    let names: Vec<PersonName> = r.json["name"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .map(|n| PersonName {
                    given: n["given"]
                        .as_array()
                        .map(|g| {
                            g.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    family: n["family"].as_str().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut names = names.into_iter();
    record.name = names.next().unwrap_or_default();
    record.other_names = names.collect();
    if let Some(born) = r.json["birthDate"].as_str() {
        match PartialDate::parse(born) {
            Ok(d) => record.date_of_birth = Some(d),
            Err(_) => r.fault(
                faults,
                "birthDate",
                "is not a date (YYYY, YYYY-MM or YYYY-MM-DD)",
            ),
        }
    }
    record.sex = match r.json["gender"].as_str() {
        Some("male") => Some(Sex::Male),
        Some("female") => Some(Sex::Female),
        Some("unknown" | "other") => Some(Sex::Unknown),
        None => None,
        Some(_) => {
            r.fault(faults, "gender", "is not male, female, other or unknown");
            None
        }
    };
    if let Some(nhs) = r.identifier(NHS_NUMBER_SYSTEM) {
        match NhsNumber::parse(nhs) {
            Ok(n) => record.nhs_number = Some(n),
            Err(_) => r.fault(
                faults,
                "identifier",
                "the NHS number fails its check digit or is not ten digits",
            ),
        }
    }
    for (i, a) in r.json["address"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let postcode = match a["postalCode"].as_str().map(Postcode::parse) {
            Some(Ok(p)) => Some(p),
            Some(Err(_)) => {
                r.fault(
                    faults,
                    &format!("address[{i}].postalCode"),
                    "is not a UK postcode",
                );
                None
            }
            None => None,
        };
        record.addresses.push(Address {
            lines: a["line"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            postcode,
        });
    }
    if let Some(phone) = r.json["telecom"]
        .as_array()
        .and_then(|t| t.iter().find(|x| x["system"] == "phone"))
        .and_then(|x| x["value"].as_str())
    {
        match Phone::parse(phone) {
            Ok(p) => record.phone = Some(p),
            Err(_) => r.fault(faults, "telecom", "is not a telephone number"),
        }
    }
    record
        .validate(r.kind())
        .map_err(|e| r.fault(faults, &e.field, e.reason))
        .ok()?;
    Some(record)
}

/// The part a RelatedPerson plays: a Safeguard coding, else the v3 RoleCode of their
/// relationship to the child.
fn relationship_role(r: &Resource) -> ParticipantRole {
    let codings = r.json["relationship"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["coding"].as_array().into_iter().flatten());
    let mut fallback = ParticipantRole::OtherAdultPresent;
    for c in codings {
        match (c["system"].as_str(), c["code"].as_str()) {
            (Some(ROLE_SYSTEM), Some(code)) => {
                if let Some(role) = role_named(code) {
                    return role;
                }
            }
            (Some(ROLE_CODE_SYSTEM), Some(code)) => fallback = role_of_code(code),
            _ => {}
        }
    }
    fallback
}

#[allow(clippy::too_many_arguments)]
fn entry(
    r: &Resource,
    agency: &AgencyId,
    now: DateTime<Utc>,
    records: &HashMap<usize, PersonRecord>,
    resources: &[Resource],
    resolve: &dyn Fn(Option<&str>) -> Option<usize>,
    faults: &mut Faults,
) -> Option<Entry> {
    let before = faults.len();
    // The child.
    let subject = resolve(r.text(&["subject", "reference"]))
        .filter(|i| resources[*i].kind() == "Patient")
        .and_then(|i| records.get(&i));
    if subject.is_none() {
        r.fault(
            faults,
            "subject",
            "does not reference a Patient in the bundle",
        );
    }
    // Where it came from: Safeguard's own identifier, the sender's, or the resource's id.
    let own = format!("{ENTRY_SYSTEM}{agency}:");
    let safeguard = r.json["identifier"].as_array().and_then(|ids| {
        ids.iter().find(|i| {
            i["system"]
                .as_str()
                .is_some_and(|s| s.starts_with(ENTRY_SYSTEM))
        })
    });
    let source = match safeguard {
        Some(id) => {
            let system = id["system"].as_str().unwrap_or("");
            match (system.strip_prefix(&own), id["value"].as_str()) {
                (Some(system), Some(value)) => Some(SourceRef {
                    system: system.to_owned(),
                    id: value.to_owned(),
                }),
                _ => {
                    r.fault(
                        faults,
                        "identifier",
                        "names an entry another agency recorded: an agency sends only its own",
                    );
                    None
                }
            }
        }
        // One system for everything a sender sends as FHIR, so that a person named in two
        // resources is one record; the resource's identifier in FHIR's `system|value` form.
        None => match r.json["identifier"].as_array().and_then(|i| i.first()) {
            Some(id) if id["value"].is_string() => Some(SourceRef {
                system: "fhir".to_owned(),
                id: format!(
                    "{}|{}",
                    id["system"].as_str().unwrap_or(""),
                    id["value"].as_str().unwrap_or("")
                ),
            }),
            _ => r.json["id"].as_str().map(|id| SourceRef {
                system: "fhir".to_owned(),
                id: format!("{}/{id}", r.kind()),
            }),
        },
    };
    if source.is_none() && faults.len() == before {
        r.fault(
            faults,
            "id",
            "a resource needs an id or an identifier, so that sending it again changes nothing",
        );
    }
    let when_field = match r.kind() {
        "Encounter" | "Flag" => "period.start",
        "Condition" => "onsetDateTime",
        _ => "effectiveDateTime",
    };
    let when = match r.kind() {
        "Encounter" | "Flag" => r.text(&["period", "start"]),
        "Condition" => r.text(&["onsetDateTime"]).or(r.text(&["recordedDate"])),
        _ => r.text(&["effectiveDateTime"]).or(r.text(&["issued"])),
    };
    let occurred = match when.map(occurred_at) {
        Some(Some(at)) => Some(at),
        Some(None) => {
            r.fault(faults, when_field, "is not a FHIR dateTime");
            None
        }
        None => {
            r.fault(faults, when_field, "is missing: when it happened");
            None
        }
    };
    // Who else it names: the RelatedPersons it references.
    let references: Vec<(Option<&str>, Option<ParticipantRole>)> = match r.kind() {
        "Encounter" => r.json["participant"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let role = p["type"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|t| t["coding"].as_array().into_iter().flatten())
                    .find(|c| c["system"] == ROLE_SYSTEM)
                    .and_then(|c| c["code"].as_str())
                    .and_then(role_named);
                (p["individual"]["reference"].as_str(), role)
            })
            .collect(),
        "Condition" => vec![(r.text(&["asserter", "reference"]), None)],
        _ => Vec::new(),
    };
    let mut persons = Vec::new();
    if let Some(child) = subject {
        persons.push(Participant {
            role: ParticipantRole::SubjectChild,
            record: child.clone(),
            identity: None,
        });
    }
    for (reference, role) in references {
        let Some(reference) = reference else { continue };
        match resolve(Some(reference)).filter(|i| resources[*i].kind() == "RelatedPerson") {
            Some(i) => {
                if let Some(record) = records.get(&i) {
                    persons.push(Participant {
                        role: role.unwrap_or_else(|| relationship_role(&resources[i])),
                        record: record.clone(),
                        identity: None,
                    });
                }
            }
            None => r.fault(
                faults,
                "participant",
                "references a person who is not a RelatedPerson in the bundle",
            ),
        }
    }
    let details = details(r, faults);
    let author = r
        .extension(AUTHOR_EXTENSION)
        .map(|e| {
            let part = |url: &str| {
                e["extension"]
                    .as_array()
                    .and_then(|x| x.iter().find(|p| p["url"] == url))
                    .and_then(|p| p["valueString"].as_str())
                    .map(str::to_owned)
            };
            Author {
                name: part("name").unwrap_or_default(),
                role: part("role").unwrap_or_default(),
            }
        })
        .unwrap_or_else(|| Author {
            name: r
                .text(&["participant", "0", "individual", "display"])
                .or(r.text(&["recorder", "display"]))
                .or(r.text(&["performer", "0", "display"]))
                .or(r.text(&["author", "display"]))
                .unwrap_or("Not stated in the FHIR record")
                .to_owned(),
            role: r
                .text(&["participant", "0", "type", "0", "text"])
                .unwrap_or("Not stated")
                .to_owned(),
        });
    let summary = r
        .extension(SUMMARY_EXTENSION)
        .and_then(|e| e["valueString"].as_str())
        .map(str::to_owned)
        .or_else(|| match &details {
            Some(EntryDetails::CaseNote(_)) if r.kind() == "Observation" => {
                r.text(&["valueString"]).map(str::to_owned)
            }
            _ => None,
        })
        .unwrap_or_else(|| derived_summary(r));
    if faults.len() > before {
        return None;
    }
    let occurred = occurred?;
    let recorded_at = r
        .text(&["meta", "lastUpdated"])
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| crate::agency_csv::uk_local_to_utc(occurred.start()))
        .min(now);
    let entry = Entry {
        agency: agency.clone(),
        source: source?,
        author,
        occurred_at: occurred,
        recorded_at,
        persons,
        summary,
        details: details?,
        residences: Vec::new(),
        relationships: Vec::new(),
        supersedes: None,
    };
    match entry.validate().and_then(|()| entry.check_plausible(now)) {
        Ok(()) => Some(entry),
        Err(e) => {
            r.fault(faults, &e.field, e.reason);
            None
        }
    }
}

/// A summary for a resource that carries none.
fn derived_summary(r: &Resource) -> String {
    let what = r
        .text(&["code", "text"])
        .or(r.text(&["reasonCode", "0", "text"]))
        .or(r.text(&["serviceType", "text"]))
        .unwrap_or("");
    let kind = match r.kind() {
        "Encounter" => "Encounter",
        "Condition" => "Condition",
        "Flag" => "Flag",
        _ => "Observation",
    };
    if what.is_empty() {
        format!("{kind} (from the agency's FHIR record).")
    } else {
        format!("{kind}: {what} (from the agency's FHIR record).")
    }
}

/// The entry's typed details.
fn details(r: &Resource, faults: &mut Faults) -> Option<EntryDetails> {
    match r.kind() {
        "Encounter" => {
            let kind = r.json["type"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|t| t["coding"].as_array().into_iter().flatten())
                .find(|c| c["system"] == KIND_SYSTEM)
                .and_then(|c| c["code"].as_str());
            if let Some(kind) = kind
                && !matches!(kind, "hospital_attendance" | "gp_appointment")
            {
                r.fault(
                    faults,
                    "type",
                    "is an entry Safeguard does not take as FHIR: send it to the entries API",
                );
                return None;
            }
            let reason = r.text(&["reasonCode", "0", "text"]).map(str::to_owned);
            match r.text(&["class", "code"]) {
                Some(class @ ("EMER" | "IMP" | "ACUTE")) => {
                    Some(EntryDetails::HospitalAttendance(HospitalAttendance {
                        department: r.text(&["serviceType", "text"]).map_or_else(
                            || {
                                if class == "EMER" {
                                    "emergency"
                                } else {
                                    "inpatient"
                                }
                                .to_owned()
                            },
                            str::to_owned,
                        ),
                        presenting_complaint: reason,
                    }))
                }
                Some("AMB") => Some(EntryDetails::GpAppointment(GpAppointment {
                    attended: !matches!(
                        r.json["status"].as_str(),
                        Some("cancelled" | "planned" | "entered-in-error")
                    ),
                    reason,
                })),
                _ => {
                    r.fault(
                        faults,
                        "class",
                        "is not AMB (an appointment), EMER or IMP (a hospital attendance)",
                    );
                    None
                }
            }
        }
        "Condition" => {
            let body_site = r
                .text(&["bodySite", "0", "text"])
                .or(r.text(&["bodySite", "0", "coding", "0", "display"]));
            let Some(body_site) = body_site else {
                r.fault(
                    faults,
                    "bodySite",
                    "is missing: where on the body the injury is",
                );
                return None;
            };
            let coded = r.json["code"]["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["system"] == INJURY_SYSTEM)
                .and_then(|c| c["code"].as_str())
                .and_then(|c| serde_json::from_value(Value::String(c.to_owned())).ok());
            let words = [
                r.text(&["code", "text"]),
                r.text(&["code", "coding", "0", "display"]),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
            let injury_type = coded.unwrap_or_else(|| {
                [
                    ("fractur", InjuryType::Fracture),
                    ("bruis", InjuryType::Bruise),
                    ("burn", InjuryType::Burn),
                    ("scald", InjuryType::Burn),
                    ("head", InjuryType::HeadInjury),
                    ("lacerat", InjuryType::Laceration),
                    ("cut", InjuryType::Laceration),
                    ("bite", InjuryType::Bite),
                    ("scratch", InjuryType::Scratch),
                ]
                .into_iter()
                .find(|(word, _)| words.contains(word))
                .map_or(InjuryType::Other, |(_, t)| t)
            });
            let opinion = r
                .extension(OPINION_EXTENSION)
                .and_then(|e| e["valueCode"].as_str());
            let medical_opinion = match opinion {
                None => None,
                Some(code) => {
                    match serde_json::from_value::<MedicalOpinion>(Value::String(code.to_owned())) {
                        Ok(o) => Some(o),
                        Err(_) => {
                            r.fault(
                                faults,
                                "extension",
                                "the medical opinion is not consistent, inconsistent or unclear",
                            );
                            return None;
                        }
                    }
                }
            };
            Some(EntryDetails::InjuryObserved(InjuryObserved {
                body_site: body_site.to_owned(),
                injury_type,
                count: r
                    .extension(COUNT_EXTENSION)
                    .and_then(|e| e["valueInteger"].as_u64())
                    .and_then(|n| u32::try_from(n).ok()),
                explanation_given: r.text(&["note", "0", "text"]).map(str::to_owned),
                medical_opinion,
            }))
        }
        _ => Some(EntryDetails::CaseNote(CaseNote {})),
    }
}
