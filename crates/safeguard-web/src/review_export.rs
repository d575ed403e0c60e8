//! A practice review's chronology of one child, built from the store: the people of the record
//! in alias order, the entries, the concerns on replay and the timescales, pseudonymised and
//! checked for leaks (see `safeguard_core::review`). Shared by `safeguard review` and the
//! review panel's page.

use chrono::NaiveDate;
use safeguard_core::pseudonym::{Identifiers, Part, Party, Pseudonyms, Scheme};
use safeguard_core::review::{self, Concern, Level, Review, Source, Timescale};
use safeguard_core::rules::{DEFAULT_ESCALATION_WINDOW_DAYS, RuleBook};
use safeguard_core::{ParticipantRole, Person, PersonId, PersonName};
use safeguard_linkage::names::{Nicknames, normalise};
use safeguard_store::{Store, StoreError};

/// What a review covers.
#[derive(Debug, Clone)]
pub struct ReviewOptions {
    /// Entries from this day.
    pub from: Option<NaiveDate>,
    /// Entries up to this day, and the replay and timescales as of it (the latest entry's day when
    /// absent).
    pub to: Option<NaiveDate>,
    /// Full or summary.
    pub level: Level,
    /// Dates narrowed to the month.
    pub narrow_dates: bool,
    /// The alias scheme.
    pub scheme: Scheme,
}

/// Why a review could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No such person.
    #[error("no person {0}")]
    NoPerson(PersonId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The calendar could not count the timescales.
    #[error("{0}")]
    Calendar(String),
    /// Identifiers are left: where, and of what kind (never the value).
    #[error("the review still identifies someone, so nothing was written:\n{}\nCorrect the entries (or add the name to the person's record) and export again.", .0.join("\n"))]
    Leaks(Vec<String>),
}

/// The people of the review in alias order: the child, the adults who are parents, the other
/// adults and children by first appearance, then the professionals who recorded.
struct People {
    parties: Vec<Party>,
    of_person: std::collections::HashMap<PersonId, usize>,
    of_author: std::collections::HashMap<(String, String), usize>,
}

fn short_forms(names: &[PersonName]) -> Vec<String> {
    let nicknames = Nicknames::shipped();
    let mut forms: Vec<String> = names
        .iter()
        .flat_map(|n| n.given.iter())
        .flat_map(|g| {
            nicknames
                .names_for(&normalise(g))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    forms.sort();
    forms.dedup();
    forms
}

/// A person of the record as a party of the pseudonyms: every name any agency recorded, the
/// short forms of their given names, and what identifies them.
pub fn party_of(person: &Person, part: Part) -> Party {
    let records: Vec<_> = person.records.iter().map(|r| &r.record).collect();
    let names: Vec<PersonName> = records
        .iter()
        .flat_map(|r| std::iter::once(r.name.clone()).chain(r.other_names.iter().cloned()))
        .collect();
    let identifiers = Identifiers {
        nhs_numbers: records
            .iter()
            .filter_map(|r| r.nhs_number.as_ref().map(|n| n.as_str().to_owned()))
            .collect(),
        dates_of_birth: records
            .iter()
            .filter_map(|r| match r.date_of_birth {
                Some(safeguard_core::PartialDate::Day(d)) => Some(d),
                _ => None,
            })
            .collect(),
        postcodes: records
            .iter()
            .flat_map(|r| r.addresses.iter().filter_map(|a| a.postcode.as_ref()))
            .map(|p| p.as_str().to_owned())
            .collect(),
        address_lines: records
            .iter()
            .flat_map(|r| r.addresses.iter().filter_map(|a| a.lines.first().cloned()))
            .collect(),
        phones: records
            .iter()
            .filter_map(|r| r.phone.as_ref().map(|p| p.as_str().to_owned()))
            .collect(),
        emails: Vec::new(),
    };
    Party {
        part: Some(part),
        short_forms: short_forms(&names),
        names,
        identifiers,
        disclosed: false,
    }
}

fn people(
    store: &Store,
    child: &safeguard_core::rules::Child,
    items: &[&safeguard_core::rules::ChronologyItem],
) -> Result<People, ReviewError> {
    // Each person by their first part in the record.
    let mut order: Vec<(PersonId, ParticipantRole)> =
        vec![(child.person, ParticipantRole::SubjectChild)];
    for item in items {
        for (p, id) in item.entry.persons.iter().zip(&item.person_ids) {
            if !order.iter().any(|(o, _)| o == id) {
                order.push((*id, p.role));
            }
        }
    }
    // Parents first, as published reviews name them.
    order[1..].sort_by_key(|(_, role)| *role != ParticipantRole::Parent);
    let ids: Vec<PersonId> = order.iter().map(|(id, _)| *id).collect();
    let persons = store.persons(&ids)?;
    let mut people = People {
        parties: Vec::new(),
        of_person: Default::default(),
        of_author: Default::default(),
    };
    for (id, role) in &order {
        let person = persons
            .iter()
            .find(|p| p.id == *id)
            .ok_or(ReviewError::NoPerson(*id))?;
        let sex = person.records.iter().find_map(|r| r.record.sex);
        let part = match role {
            _ if *id == child.person => Part::Subject,
            ParticipantRole::SubjectChild | ParticipantRole::OtherChild => Part::Child,
            ParticipantRole::Professional => Part::Professional("Professional".into()),
            _ => Part::Adult(sex),
        };
        people.of_person.insert(*id, people.parties.len());
        people.parties.push(party_of(person, part));
    }
    for item in items {
        let author = &item.entry.author;
        let key = (author.name.clone(), author.role.clone());
        if people.of_author.contains_key(&key) {
            continue;
        }
        let name = author_name(&author.name);
        people.of_author.insert(key, people.parties.len());
        people.parties.push(Party {
            part: Some(Part::Professional(author.role.clone())),
            short_forms: short_forms(std::slice::from_ref(&name)),
            names: vec![name],
            identifiers: Identifiers::default(),
            disclosed: false,
        });
    }
    Ok(people)
}

/// Words that end the name of a team or a service, not a person's.
const NOT_A_SURNAME: &[&str] = &[
    "services",
    "service",
    "team",
    "council",
    "hospital",
    "police",
    "surgery",
    "school",
    "practice",
    "department",
    "unit",
    "centre",
    "center",
    "trust",
    "office",
    "desk",
    "worker",
    "officer",
    "manager",
    "visitor",
    "nurse",
    "doctor",
    "lead",
    "panel",
    "practitioner",
];

/// An author's name as a person's name, when it reads as one: two to four capitalised words of
/// letters ("Priya Shah", "Mary-Anne O'Neill"). A role and a number ("GP 1") or a service
/// ("Children's services", "Duty desk") names nobody, and is not a name to find in the text.
fn author_name(text: &str) -> PersonName {
    let words: Vec<&str> = text.split_whitespace().collect();
    let personal = (2..=4).contains(&words.len())
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars()
                    .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
        })
        && !words
            .last()
            .is_some_and(|w| NOT_A_SURNAME.contains(&w.to_lowercase().as_str()));
    if !personal {
        return PersonName::default();
    }
    let (family, given) = words.split_last().expect("two words or more");
    PersonName {
        given: given.iter().map(|w| (*w).to_owned()).collect(),
        family: Some((*family).to_owned()),
    }
}

/// The review of `person`'s record: built, pseudonymised and checked. Nothing identifying is
/// in an `Ok`.
pub fn build_review(
    store: &Store,
    book: &RuleBook,
    person: PersonId,
    args: &ReviewOptions,
) -> Result<Review, ReviewError> {
    let child = store.child(person)?.ok_or(ReviewError::NoPerson(person))?;
    let scheme = &args.scheme;
    // Without an end, the review stands on the day of the record's latest entry: a review
    // written years after the case is of the case, not of how overdue it would be today.
    let today = chrono::Local::now().date_naive();
    let as_of = args.to.unwrap_or_else(|| {
        child
            .chronology
            .last()
            .map_or(today, |i| i.day().min(today))
    });
    let replayed =
        review::replay(&child, book, as_of).map_err(|e| ReviewError::Calendar(e.to_string()))?;
    let within = |d: NaiveDate| args.from.is_none_or(|f| d >= f) && args.to.is_none_or(|t| d <= t);
    let items: Vec<_> = child
        .chronology
        .iter()
        .filter(|i| within(i.entry.occurred_at.date()))
        .collect();
    let people = people(store, &child, &items)?;
    let pseudonyms = Pseudonyms::new(scheme, &people.parties);
    let agencies: std::collections::HashMap<String, String> = store
        .agencies()?
        .into_iter()
        .map(|a| (a.id.as_str().to_owned(), a.name))
        .collect();
    let sources: Vec<Source<'_>> = items
        .iter()
        .map(|i| Source {
            entry: &i.entry,
            parties: i.person_ids.iter().map(|p| people.of_person[p]).collect(),
            author: people.of_author[&(i.entry.author.name.clone(), i.entry.author.role.clone())],
            agency: agencies
                .get(i.entry.agency.as_str())
                .map_or(i.entry.agency.as_str(), String::as_str),
        })
        .collect();
    let concerns: Vec<Concern<'_>> = replayed
        .iter()
        .filter(|(f, _)| within(f.first_knowable))
        .map(|(f, escalation)| Concern {
            knowable: f.first_knowable,
            sentence: &f.sentence,
            escalation: escalation.map(|(d, kind)| (d, kind.label())),
            window_days: book
                .rules
                .iter()
                .find(|r| r.id == f.rule)
                .map_or(DEFAULT_ESCALATION_WINDOW_DAYS, |r| r.escalate_within_days),
        })
        .collect();
    let chronology: Vec<(
        safeguard_core::EntryId,
        &safeguard_core::Entry,
        &serde_json::Value,
    )> = child
        .chronology
        .iter()
        .map(|i| (i.id, i.entry.as_ref(), i.details.as_ref()))
        .collect();
    let runs =
        safeguard_core::clocks::evaluate_clocks(&book.clocks, &chronology, as_of, &book.calendar)
            .map_err(|e| ReviewError::Calendar(e.to_string()))?;
    let mut runs: Vec<_> = runs.iter().filter(|r| within(r.started)).collect();
    runs.sort_by_key(|r| (r.started, r.due));
    let timescales: Vec<Timescale<'_>> = runs
        .into_iter()
        .map(|r| Timescale {
            name: book.clock_name(&r.clock),
            started: r.started,
            due: r.due,
            done: r.stopped.map(|(_, d)| d),
        })
        .collect();
    let level = args.level;
    let built = review::build(
        &pseudonyms,
        &sources,
        &concerns,
        &timescales,
        as_of,
        level,
        args.narrow_dates,
    );
    let leaks = review::leaks(&pseudonyms, &built);
    if !leaks.is_empty() {
        let places: Vec<String> = leaks
            .iter()
            .map(|l| format!("  {}: {}", l.place, l.kind.label()))
            .collect();
        return Err(ReviewError::Leaks(places));
    }
    Ok(built)
}
