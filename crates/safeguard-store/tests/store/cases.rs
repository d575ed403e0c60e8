//! The store's behaviour, engine by engine (see `main.rs`).

use chrono::NaiveDate;
use safeguard_core::{Entry, EntryKind, EvidenceStrength, PersonId};
use safeguard_store::audit::{AuditEvent, Tampering};
use safeguard_store::linkage::{LinkDecision, Verdict};
use safeguard_store::{Actor, ChronologyQuery, Outcome, Store, StoreError};
use serde_json::{Value, json};

use crate::harness::TestStore;

fn actor() -> Actor {
    Actor::system("test")
}

/// An entry from `agency` about the child `C1` (and their mother `M1`), as that agency records
/// them. `details` defaults to a case note.
fn entry(agency: &str, source_id: &str, occurred: &str) -> Value {
    json!({
        "agency": agency,
        "source": {"system": "sys", "id": source_id},
        "author": {"name": "A Professional", "role": "Practitioner"},
        "occurred_at": occurred,
        "recorded_at": "2007-12-31T12:00:00Z",
        "persons": [
            {"role": "subject_child", "record": {
                "local_id": "C1", "name": {"given": ["Sam"], "family": "Example"},
                "date_of_birth": "2006-06-14", "nhs_number": "9434765919",
                "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]}},
            {"role": "parent", "record": {
                "local_id": "M1", "name": {"given": ["Alex"], "family": "Example"},
                "date_of_birth": "1985"}}
        ],
        "summary": format!("entry {source_id}"),
        "details": {"kind": "case_note"}
    })
}

fn parse(v: Value) -> Entry {
    serde_json::from_value(v).expect("test entry parses")
}

fn append(store: &TestStore, entries: Vec<Value>) -> Vec<safeguard_store::Appended> {
    let entries: Vec<Entry> = entries.into_iter().map(parse).collect();
    store.append(&actor(), &entries).expect("append")
}

/// The person holding `local_id` for `agency`, found through search on the child's surname.
fn person_of(store: &TestStore, agency: &str, local_id: &str) -> PersonId {
    store
        .search_persons("example", 50)
        .unwrap()
        .into_iter()
        .find(|p| {
            p.records
                .iter()
                .any(|r| r.agency.as_str() == agency && r.record.local_id == local_id)
        })
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("no person for {agency}/{local_id}"))
}

fn all(store: &TestStore, person: PersonId) -> Vec<String> {
    store
        .chronology(person, &ChronologyQuery::default())
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.entry.decode().unwrap().source.id)
        .collect()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn a_chronology_lists_every_entry_naming_the_person_in_time_order(store: &TestStore) {
    // Arrange: sent out of order, at three precisions.
    append(
        store,
        vec![
            entry("north-police", "e3", "2007-03-01T09:15"),
            entry("north-police", "e1", "2006-12"),
            entry("north-police", "e2", "2006-12-11"),
        ],
    );
    let child = person_of(store, "north-police", "C1");
    let mother = person_of(store, "north-police", "M1");

    // Act
    let page = store
        .chronology(child, &ChronologyQuery::default())
        .unwrap();

    // Assert
    let ids: Vec<String> = page
        .entries
        .iter()
        .map(|e| e.entry.decode().unwrap().source.id)
        .collect();
    assert_eq!(ids, ["e1", "e2", "e3"]);
    assert_eq!(page.next, None);
    assert_eq!(page.entries[0].person_ids, vec![child, mother]);
    assert_eq!(
        page.entries[2]
            .entry
            .decode()
            .unwrap()
            .occurred_at
            .to_string(),
        "2007-03-01T09:15"
    );
    assert_eq!(
        all(store, mother),
        ["e1", "e2", "e3"],
        "the mother's chronology too"
    );
}

pub fn re_sending_an_entry_changes_nothing_and_says_so(store: &TestStore) {
    let first = append(store, vec![entry("north-police", "e1", "2006-12-11")]);
    assert_eq!(first[0].outcome, Outcome::Created);

    let again = append(store, vec![entry("north-police", "e1", "2006-12-11")]);
    assert_eq!(again[0].outcome, Outcome::AlreadyRecorded);
    assert_eq!(again[0].id, first[0].id);

    // The same source id with other content is refused whole, naming the field, with the
    // batch's other (new) entry unwritten.
    let mut changed = entry("north-police", "e1", "2006-12-11");
    changed["summary"] = "something else".into();
    let entries: Vec<Entry> = [entry("north-police", "e9", "2006-12-12"), changed]
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    match store.append(&Actor::system("test"), &entries) {
        Err(StoreError::Conflict { index, error }) => {
            assert_eq!(index, Some(1));
            assert_eq!(error.field, "summary");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    assert_eq!(store.entry_count().unwrap(), 1);
    let child = person_of(store, "north-police", "C1");
    let page = store
        .chronology(child, &ChronologyQuery::default())
        .unwrap();
    assert_eq!(
        page.entries[0].entry.decode().unwrap().summary,
        "entry e1",
        "the first version stands"
    );
}

pub fn a_batch_with_one_bad_entry_writes_nothing(store: &TestStore) {
    let mut bad = entry("north-police", "e2", "2006-12-12");
    bad["relationships"] =
        json!([{"person": "M1", "kind": "mother", "other": "X9", "strength": "claimed"}]);
    let entries = vec![parse(entry("north-police", "e1", "2006-12-11")), parse(bad)];

    let err = store.append(&actor(), &entries).unwrap_err();

    match err {
        StoreError::Invalid { index, error } => {
            assert_eq!(index, Some(1));
            assert_eq!(error.field, "relationships[0].other");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(store.entry_count().unwrap(), 0);
    assert!(store.search_persons("example", 10).unwrap().is_empty());
}

pub fn an_unknown_agency_is_named_and_nothing_is_written(store: &TestStore) {
    let entries = vec![
        parse(entry("north-police", "e1", "2006-12-11")),
        parse(entry("south-police", "e2", "2006-12-11")),
    ];
    let err = store.append(&actor(), &entries).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { index: Some(1), error } if error.field == "agency"),
        "{err:?}"
    );
    assert!(err.to_string().contains("south-police"));
    assert_eq!(store.entry_count().unwrap(), 0);
}

pub fn a_chronology_filters_by_agency_kind_and_date_range(store: &TestStore) {
    let mut visit = entry("north-childrens-services", "v1", "2007-02-10");
    visit["details"] = json!({"kind": "home_visit", "child_seen": true, "child_seen_alone": false});
    append(
        store,
        vec![
            entry("north-police", "p1", "2007-01-05"),
            entry("north-police", "p2", "2007-03-05"),
            visit,
        ],
    );
    // Both agencies' records of the child carry one NHS number: one person, one chronology.
    let child = person_of(store, "north-police", "C1");
    let police_only = ChronologyQuery {
        agencies: vec![safeguard_core::AgencyId::parse("north-police").unwrap()],
        ..ChronologyQuery::default()
    };
    let ids = |q: &ChronologyQuery, p: PersonId| -> Vec<String> {
        store
            .chronology(p, q)
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.entry.decode().unwrap().source.id)
            .collect()
    };
    assert_eq!(ids(&police_only, child), ["p1", "p2"]);
    assert_eq!(ids(&ChronologyQuery::default(), child), ["p1", "v1", "p2"]);

    let visits = ChronologyQuery {
        kinds: vec![EntryKind::HomeVisit],
        ..ChronologyQuery::default()
    };
    assert_eq!(ids(&visits, child), ["v1"]);

    let january = ChronologyQuery {
        from: Some(day(2007, 1, 5)),
        to: Some(day(2007, 1, 5)),
        ..ChronologyQuery::default()
    };
    assert_eq!(
        ids(&january, child),
        ["p1"],
        "both ends of the range are included"
    );
    let none = ChronologyQuery {
        from: Some(day(2007, 1, 6)),
        to: Some(day(2007, 2, 9)),
        ..ChronologyQuery::default()
    };
    assert!(ids(&none, child).is_empty());
}

pub fn pages_cover_the_chronology_exactly_once(store: &TestStore) {
    // Several entries share an occurrence time, so the cursor must break ties.
    let entries: Vec<Value> = (0..23)
        .map(|i| {
            entry(
                "north-police",
                &format!("e{i:02}"),
                &format!("2007-01-{:02}", 1 + i / 3),
            )
        })
        .collect();
    append(store, entries);
    let child = person_of(store, "north-police", "C1");

    let mut seen = Vec::new();
    let mut query = ChronologyQuery {
        limit: 5,
        ..ChronologyQuery::default()
    };
    let mut pages = 0;
    loop {
        let page = store.chronology(child, &query).unwrap();
        assert!(page.entries.len() <= 5);
        seen.extend(
            page.entries
                .into_iter()
                .map(|e| e.entry.decode().unwrap().source.id),
        );
        pages += 1;
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let expected: Vec<String> = (0..23).map(|i| format!("e{i:02}")).collect();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "every entry exactly once");
    assert_eq!(seen.len(), 23);
}

pub fn a_correction_hides_the_entry_it_supersedes(store: &TestStore) {
    let first = append(store, vec![entry("north-police", "e1", "2006-12-11")]);
    let mut correction = entry("north-police", "e1-corrected", "2006-12-11");
    correction["supersedes"] = "e1".into();
    correction["summary"] = "corrected".into();
    let second = append(store, vec![correction]);
    let child = person_of(store, "north-police", "C1");

    assert_eq!(all(store, child), ["e1-corrected"]);
    let everything = store
        .chronology(
            child,
            &ChronologyQuery {
                include_superseded: true,
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    assert_eq!(everything.entries.len(), 2);
    let original = everything
        .entries
        .iter()
        .find(|e| e.id == first[0].id)
        .unwrap();
    assert_eq!(original.superseded_by, Some(second[0].id));
    assert_eq!(
        original.entry.decode().unwrap().summary,
        "entry e1",
        "the original is kept, not updated"
    );
}

pub fn superseding_an_unknown_entry_is_refused(store: &TestStore) {
    let mut correction = entry("north-police", "e2", "2006-12-11");
    correction["supersedes"] = "nope".into();
    let err = store.append(&actor(), &[parse(correction)]).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { index: Some(0), error } if error.field == "supersedes"),
        "{err:?}"
    );
    assert_eq!(store.entry_count().unwrap(), 0);
}

pub fn the_household_at_a_date_comes_from_stored_residences(store: &TestStore) {
    let mut visit = entry("north-childrens-services", "v1", "2007-06-04");
    visit["persons"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "other_adult_present",
        "record": {"local_id": "H1", "name": {"given": ["Daniel"]}}}));
    visit["residences"] = json!([
        {"person": "C1", "address": {"lines": ["1 Example Road"], "postcode": "N17 6AA"},
         "from": "2006-06-14", "strength": "verified"},
        {"person": "M1", "address": {"lines": ["1 example road"], "postcode": "n176aa"},
         "from": "2006-06-14", "strength": "verified"},
        {"person": "H1", "address": {"lines": ["1 Example Road"], "postcode": "N17 6AA"},
         "strength": "observed"}
    ]);
    visit["relationships"] = json!([
        {"person": "M1", "kind": "mother", "other": "C1", "from": "2006-06-14", "strength": "verified"},
        {"person": "H1", "kind": "partner", "other": "M1", "strength": "claimed"}
    ]);
    append(store, vec![visit]);
    let child = person_of(store, "north-childrens-services", "C1");
    let mother = person_of(store, "north-childrens-services", "M1");

    let before = store.household(child, day(2007, 6, 3), 90).unwrap();
    assert_eq!(
        before.members.iter().map(|m| m.person).collect::<Vec<_>>(),
        vec![mother]
    );
    assert_eq!(
        before.members[0].relationships_to_subject,
        vec![safeguard_core::household::RelationshipKind::Mother]
    );

    let after = store.household(child, day(2007, 6, 4), 90).unwrap();
    assert_eq!(
        after.members.len(),
        2,
        "the adult observed from the visit onwards"
    );
    let adult = after.members.iter().find(|m| m.person != mother).unwrap();
    assert_eq!(adult.strength, EvidenceStrength::Observed);
    assert!(
        after
            .relationships
            .iter()
            .any(|r| r.kind == safeguard_core::household::RelationshipKind::Partner)
    );
    assert_eq!(after.addresses.len(), 1);
    assert_eq!(after.addresses[0].strength, EvidenceStrength::Verified);
    assert!(
        before.around.is_empty(),
        "nobody seen with the child before the visit"
    );
    let around: Vec<PersonId> = after.around.iter().map(|a| a.person).collect();
    assert!(
        around.contains(&adult.person) && around.contains(&mother),
        "{around:?}"
    );
}

pub fn persons_are_found_by_name_date_of_birth_nhs_number_and_postcode(store: &TestStore) {
    append(store, vec![entry("north-hospital", "h1", "2006-12-11")]);
    let child = person_of(store, "north-hospital", "C1");
    let mother = person_of(store, "north-hospital", "M1");
    let found = |q: &str| -> Vec<PersonId> {
        store
            .search_persons(q, 10)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(found("sam"), vec![child], "a given-name prefix");
    assert_eq!(found("SAM EXAMPLE"), vec![child]);
    assert_eq!(found("943 476 5919"), vec![child]);
    assert_eq!(found("n176aa"), vec![child]);
    assert_eq!(found("example 14/06/2006"), vec![child]);
    assert_eq!(
        found("example 2006-06"),
        vec![child],
        "a month finds the days in it"
    );
    assert_eq!(
        found("example 1985-03-02"),
        vec![mother],
        "a day finds a record known to the year"
    );
    assert!(found("sam 1985").is_empty());
    assert!(found("nobody").is_empty());
    assert!(found("").is_empty());
}

pub fn a_record_keeps_the_demographics_of_its_latest_entry(store: &TestStore) {
    let mut newer = entry("north-police", "e2", "2007-01-10");
    newer["recorded_at"] = "2007-01-10T10:00:00Z".into();
    newer["persons"][0]["record"]["name"]["given"] = json!(["Samuel"]);
    let mut older = entry("north-police", "e1", "2006-12-11");
    older["recorded_at"] = "2006-12-11T10:00:00Z".into();
    // The newer entry arrives first; the older one must not overwrite it.
    append(store, vec![newer]);
    append(store, vec![older]);

    let child = person_of(store, "north-police", "C1");
    let person = store.person(child).unwrap().unwrap();
    assert_eq!(person.records.len(), 1);
    assert_eq!(person.records[0].record.name.given, vec!["Samuel"]);
    assert_eq!(
        all(store, child),
        ["e1", "e2"],
        "both entries still name the child"
    );
}

pub fn arriving_records_are_linked_online_and_the_unsafe_ones_wait_for_review(store: &TestStore) {
    append(
        store,
        vec![
            entry("north-police", "p1", "2007-01-01"),
            entry("north-hospital", "h1", "2007-01-02"),
        ],
    );
    // The child's records share an NHS number; the mother's, a name and a year of birth.
    let police_child = person_of(store, "north-police", "C1");
    assert_eq!(police_child, person_of(store, "north-hospital", "C1"));
    assert_eq!(
        store.person(police_child).unwrap().unwrap().records.len(),
        2
    );
    assert_eq!(
        all(store, police_child),
        ["p1", "h1"],
        "one chronology across agencies"
    );
    let mother = person_of(store, "north-police", "M1");
    assert_eq!(mother, person_of(store, "north-hospital", "M1"));
    assert_ne!(mother, police_child);

    // Children's services know a "Sam Example" at the child's address, with no date of
    // birth or NHS number: perhaps the child, perhaps another Sam of that home (a father
    // after whom he was named). Not joined; proposed.
    let mut c1 = entry("north-childrens-services", "c1", "2007-01-03");
    c1["persons"][0]["record"] = json!({
        "local_id": "SC-C1", "name": {"given": ["Sam"], "family": "Example"},
        "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]});
    append(store, vec![c1]);
    let unsure = person_of(store, "north-childrens-services", "SC-C1");
    assert_ne!(unsure, police_child);
    let reviews = store.link_reviews(10).unwrap();
    assert_eq!(reviews.len(), 1, "one proposal per person, not per record");
    let review = &reviews[0];
    assert_eq!(
        [review.a.person, review.b.person]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        [police_child, unsure].into_iter().collect()
    );
    // Without a date of birth "another Sam of this household" is about as likely as "the
    // same Sam": uncertain, or held back for want of personal evidence.
    assert!(
        review.probability >= 0.5
            && (review.reason == "uncertain" || review.reason.contains("no date of birth")),
        "{} {}",
        review.probability,
        review.reason
    );
    let date = review
        .evidence
        .iter()
        .find(|e| e.comparison == safeguard_linkage::compare::Field::BirthDate)
        .unwrap();
    assert_eq!(date.level_name(), "missing");
    assert_eq!(
        date.against_unrelated, 0.0,
        "a missing field weighs nothing"
    );
    let sum: f64 = review.prior_against_unrelated
        + review
            .evidence
            .iter()
            .map(|e| e.against_unrelated)
            .sum::<f64>();
    assert!((sum - review.total_against_unrelated).abs() < 1e-9);
    assert!(store.person(PersonId(uuid::Uuid::nil())).unwrap().is_none());
}

/// Two agencies' records of one man: the hospital's, with his date of birth, and the police's,
/// under a nickname and without one.
fn partner_entries() -> Vec<Value> {
    let with = |agency: &str, id: &str, when: &str, partner: Value| {
        let mut e = entry(agency, id, when);
        e["persons"]
            .as_array_mut()
            .unwrap()
            .push(json!({"role": "other_adult_present", "record": partner}));
        e
    };
    vec![
        with(
            "north-hospital",
            "h-partner",
            "2007-04-09",
            json!({"local_id": "SAH-2", "name": {"given": ["Daniel"], "family": "Marsh"},
                   "date_of_birth": "1975-08-21", "sex": "male",
                   "addresses": [{"lines": ["Flat 6, Carlow House", "Tern Street"], "postcode": "NB2 9LS"}]}),
        ),
        with(
            "north-police",
            "p-partner",
            "2007-03-02",
            json!({"local_id": "PER-7", "name": {"given": ["Danny"], "family": "Marsh"},
                   "sex": "male",
                   "addresses": [{"lines": ["Flat 6 Carlow House", "Tern St"], "postcode": "NB2 9LS"}]}),
        ),
    ]
}

fn record_of(
    store: &TestStore,
    agency: &str,
    local_id: &str,
) -> (safeguard_core::RecordId, PersonId) {
    store
        .find_record(agency, "sys", local_id)
        .unwrap()
        .unwrap_or_else(|| panic!("no record {agency}/{local_id}"))
}

fn audited_actions(store: &TestStore, action: &str) -> Vec<(String, String)> {
    store
        .bare_read(|sql| {
            sql.query(
                "SELECT subject, reason FROM audit_log WHERE action = $1 ORDER BY seq",
                &[action.into()],
            )
        })
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.text(0).unwrap().to_owned(),
                r.opt_text(1).unwrap().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn decide(
    store: &TestStore,
    a: safeguard_core::RecordId,
    b: safeguard_core::RecordId,
    verdict: Verdict,
    reason: &str,
) -> Result<safeguard_store::linkage::Decided, StoreError> {
    let decision = LinkDecision {
        a,
        b,
        verdict,
        reason: reason.into(),
    };
    store.decide_link(
        &Actor::system("reviewer"),
        &decision,
        &safeguard_core::rules::RuleBook::shipped(),
        day(2007, 12, 31),
    )
}

fn relink(store: &TestStore) -> safeguard_store::linkage::Relinked {
    store
        .relink(
            &actor(),
            &safeguard_core::rules::RuleBook::shipped(),
            day(2007, 12, 31),
            &|_, _, _| {},
        )
        .unwrap()
}

pub fn a_reviewers_decisions_merge_and_split_persons_and_later_runs_keep_them(store: &TestStore) {
    append(store, partner_entries());
    let (hospital, hospital_person) = record_of(store, "north-hospital", "SAH-2");
    let (police, police_person) = record_of(store, "north-police", "PER-7");
    assert_ne!(
        hospital_person, police_person,
        "no date of birth: not joined by weight"
    );
    let proposed = store.link_reviews(10).unwrap();
    let review = proposed
        .iter()
        .find(|r| [r.a.record, r.b.record].contains(&hospital))
        .expect("the pair is proposed");
    assert!(review.probability > 0.5, "{}", review.probability);
    assert!(
        review.evidence.iter().any(|e| e.comparison
            == safeguard_linkage::compare::Field::GivenName
            && e.level_name() == "nickname"),
        "{:?}",
        review.evidence
    );

    // Confirmed: one person, one chronology; the retired person points to the survivor.
    let decided = decide(
        store,
        police,
        hospital,
        Verdict::SamePerson,
        "same flat, seen together",
    )
    .unwrap();
    assert_eq!(decided.persons.len(), 1);
    let joined = decided.persons[0];
    assert_eq!(decided.merged.len(), 1);
    assert_eq!(store.merged_into(decided.merged[0]).unwrap(), Some(joined));
    assert_eq!(record_of(store, "north-police", "PER-7").1, joined);
    assert_eq!(record_of(store, "north-hospital", "SAH-2").1, joined);
    assert_eq!(all(store, joined), ["p-partner", "h-partner"]);
    assert!(
        !store
            .link_reviews(10)
            .unwrap()
            .iter()
            .any(|r| [r.a.record, r.b.record].contains(&police)),
        "a decided pair leaves the queue"
    );
    let decided_events = audited_actions(store, "link_decided");
    assert_eq!(decided_events.len(), 1);
    assert!(decided_events[0].1.starts_with("same person: same flat"));

    // A batch run would not join them by weight, but keeps the reviewer's decision.
    let run = relink(store);
    assert_eq!(run.decisions, 1);
    assert_eq!(record_of(store, "north-police", "PER-7").1, joined);
    assert_eq!(record_of(store, "north-hospital", "SAH-2").1, joined);

    // Changed mind: different people. Split, and kept apart by the next run, not re-proposed.
    let split = decide(
        store,
        hospital,
        police,
        Verdict::DifferentPeople,
        "different men: checked",
    )
    .unwrap();
    assert_eq!(split.persons.len(), 2);
    relink(store);
    assert_ne!(
        record_of(store, "north-police", "PER-7").1,
        record_of(store, "north-hospital", "SAH-2").1
    );
    assert!(
        !store
            .link_reviews(10)
            .unwrap()
            .iter()
            .any(|r| [r.a.record, r.b.record].contains(&police)
                && [r.a.record, r.b.record].contains(&hospital)),
        "a decision is never proposed again"
    );
    assert_eq!(audited_actions(store, "linkage_run").len(), 2);

    let refused = decide(store, police, police, Verdict::SamePerson, "x");
    assert!(matches!(refused, Err(StoreError::Invalid { .. })));
    let unexplained = decide(store, police, hospital, Verdict::SamePerson, " ");
    assert!(
        matches!(&unexplained, Err(StoreError::Invalid { error, .. }) if error.field == "reason"),
        "{unexplained:?}"
    );
}

pub fn an_adult_recorded_with_the_same_family_is_proposed_as_the_one_a_parent_named(
    store: &TestStore,
) {
    // Children's services: the mother speaks of "Dan", no family name, no date of birth.
    let mut sc = entry("north-childrens-services", "sc-claim", "2007-01-05");
    sc["persons"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "other_adult_present",
        "record": {"local_id": "SC-5120", "name": {"given": ["Dan"]}, "sex": "male"}}));
    append(store, vec![sc]);
    // Police, at the family's home with the same mother and child: Danny Marsh and Lee Marsh.
    let mut police = entry("north-police", "p-callout", "2007-03-25");
    let persons = police["persons"].as_array_mut().unwrap();
    persons.push(json!({"role": "other_adult_present",
        "record": {"local_id": "PER-7", "name": {"given": ["Danny"], "family": "Marsh"}, "sex": "male"}}));
    persons.push(json!({"role": "other_adult_present",
        "record": {"local_id": "PER-8", "name": {"given": ["Lee"], "family": "Marsh"}, "sex": "male"}}));
    append(store, vec![police]);

    let (dan, _) = record_of(store, "north-childrens-services", "SC-5120");
    let (danny, _) = record_of(store, "north-police", "PER-7");
    let (lee, _) = record_of(store, "north-police", "PER-8");
    let reviews = store.link_reviews(50).unwrap();
    let pair = |x, y| {
        reviews.iter().find(|r| {
            [r.a.record, r.b.record].contains(&x) && [r.a.record, r.b.record].contains(&y)
        })
    };
    let proposed = pair(dan, danny).expect("Dan and Danny Marsh, seen with the same family");
    assert_eq!(proposed.reason, safeguard_store::linkage::ASSOCIATES);
    assert!(pair(dan, lee).is_none(), "another name: not proposed");
    assert_ne!(
        record_of(store, "north-childrens-services", "SC-5120").1,
        record_of(store, "north-police", "PER-7").1,
        "proposed, never joined without a person deciding"
    );
}

pub fn a_merge_moves_flags_to_the_survivor_and_audits_those_it_resolves(store: &TestStore) {
    let book = safeguard_core::rules::RuleBook::shipped();
    let today = day(2007, 12, 31);
    // Sam, known to police and hospital (one person by NHS number)...
    append(
        store,
        vec![
            entry("north-police", "p1", "2007-01-01"),
            entry("north-hospital", "h1", "2007-01-02"),
        ],
    );
    let sam = person_of(store, "north-police", "C1");
    // ...and a "Sam Example" with no date of birth whom children's services saw injured twice.
    let injured = |id: &str, when: &str| {
        let mut e = entry("north-childrens-services", id, when);
        e["persons"][0]["record"] = json!({
            "local_id": "SC-C1", "name": {"given": ["Sam"], "family": "Example"},
            "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]});
        e["details"] =
            json!({"kind": "injury_observed", "body_site": "face", "injury_type": "bruise"});
        e
    };
    append(
        store,
        vec![injured("i1", "2007-02-01"), injured("i2", "2007-02-20")],
    );
    let (unsure_record, unsure) = record_of(store, "north-childrens-services", "SC-C1");
    assert_ne!(unsure, sam);
    let raised = store.refresh_flags(&actor(), unsure, &book, today).unwrap();
    assert!(
        raised.raised.iter().any(|f| f.rule == "repeated_injuries"),
        "{raised:?}"
    );

    let (police_record, _) = record_of(store, "north-police", "C1");
    let decided = decide(
        store,
        unsure_record,
        police_record,
        Verdict::SamePerson,
        "same child: checked with the school",
    )
    .unwrap();
    assert_eq!(
        decided.persons,
        vec![sam],
        "the person with more records keeps its id"
    );
    assert_eq!(decided.merged, vec![unsure]);
    assert!(
        store.flags(unsure).unwrap().is_empty(),
        "the retired person has no open flags"
    );
    assert!(
        audited_actions(store, "flag_resolved")
            .iter()
            .any(|(subject, key)| *subject == unsure.to_string()
                && key.starts_with("repeated_injuries")),
        "resolving them is audited"
    );
    assert!(
        store
            .flags(sam)
            .unwrap()
            .iter()
            .any(|f| f.flag.rule == "repeated_injuries"),
        "the injuries now count on Sam"
    );
}

pub fn a_batch_run_links_what_arrived_before_and_keeps_twins_apart(store: &TestStore) {
    // Records stored with their keys removed (as in a store from before online matching)
    // are linked by the batch run.
    append(store, partner_entries());
    let mut twin = entry("north-hospital", "h-twin", "2007-01-05");
    twin["persons"][0]["record"] = json!({
        "local_id": "C2", "name": {"given": ["Jamie"], "family": "Example"},
        "date_of_birth": "2006-06-14",
        "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]});
    let mut child_again = entry("north-police", "p-child", "2007-01-06");
    child_again["persons"][0]["record"] = json!({
        "local_id": "C9", "name": {"given": ["Sam"], "family": "Example"},
        "date_of_birth": "2006-06-14",
        "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]});
    store
        .bare_write(|sql| sql.execute("DELETE FROM person_record_keys", &[]))
        .unwrap();
    append(
        store,
        vec![entry("north-hospital", "h1", "2007-01-02"), twin],
    );
    store
        .bare_write(|sql| sql.execute("DELETE FROM person_record_keys", &[]))
        .unwrap();
    append(store, vec![child_again]);
    let sam = record_of(store, "north-hospital", "C1").1;
    assert_ne!(
        sam,
        record_of(store, "north-police", "C9").1,
        "no keys, no match"
    );

    let run = relink(store);
    assert!(
        !run.trained,
        "too few records to train on: the generic model"
    );
    assert!(run.moved >= 1 && run.merged >= 1, "{run:?}");
    let sam_now = record_of(store, "north-hospital", "C1").1;
    assert_eq!(sam_now, record_of(store, "north-police", "C9").1);
    assert_ne!(
        sam_now,
        record_of(store, "north-hospital", "C2").1,
        "twins: same date of birth, family name and home, different given names"
    );
    assert!(!audited_actions(store, "record_relinked").is_empty());

    // A second run changes nothing.
    let again = relink(store);
    assert_eq!((again.moved, again.merged), (0, 0), "{again:?}");
}

pub fn data_survives_reopening_the_store(store: &TestStore) {
    append(store, vec![entry("north-police", "e1", "2006-12-11")]);
    let reopened = store.reopen();
    assert_eq!(reopened.entry_count().unwrap(), 1);
    assert_eq!(
        reopened.agencies().unwrap().len(),
        crate::harness::AGENCIES.len()
    );
}

pub fn every_stored_entry_is_audited(store: &TestStore) {
    let appended = append(
        store,
        vec![
            entry("north-police", "e1", "2006-12-11"),
            entry("north-police", "e1", "2006-12-11"),
        ],
    );
    let audited = store
        .bare_read(|sql| {
            sql.query(
                "SELECT actor, action, subject FROM audit_log ORDER BY seq",
                &[],
            )
        })
        .unwrap();
    assert_eq!(audited.len(), 1, "the duplicate in the batch wrote nothing");
    assert_eq!(audited[0].text(0).unwrap(), "system:test");
    assert_eq!(audited[0].text(1).unwrap(), "append_entry");
    assert_eq!(audited[0].text(2).unwrap(), appended[0].id.to_string());
}

/// Five audited writes (five appends), and two audited reads in the chain of reads.
fn audited_chain(store: &TestStore) {
    append(
        store,
        (1..=5)
            .map(|n| entry("north-police", &format!("e{n}"), "2006-12-11"))
            .collect(),
    );
    let reader = Actor::user(
        "sw1",
        &safeguard_core::AgencyId::parse("north-childrens-services").unwrap(),
        "practitioner",
    );
    store
        .record_access(
            &reader,
            &[
                AuditEvent::new("read_chronology", "p1"),
                AuditEvent::new("read_household", "p1"),
            ],
        )
        .unwrap();
    let verified = store
        .verify_audit()
        .unwrap()
        .expect("an untouched chain verifies");
    assert_eq!(verified.writes.events, 5);
    assert_eq!(verified.reads.events, 2);
}

/// What an insider with write access to the database does first: the append-only triggers
/// are theirs to drop.
fn drop_append_only_triggers(store: &TestStore) {
    let drops: &[&str] = if store.engine_name() == "sqlite" {
        &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ]
    } else {
        &[
            "DROP TRIGGER audit_log_no_change ON audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
        ]
    };
    store
        .bare_write(|sql| {
            for d in drops {
                sql.execute_batch(d)?;
            }
            Ok(())
        })
        .unwrap();
}

fn tamper(store: &TestStore, statements: &[&str]) -> Tampering {
    drop_append_only_triggers(store);
    store
        .bare_write(|sql| {
            for s in statements {
                sql.execute(s, &[])?;
            }
            Ok(())
        })
        .unwrap();
    store
        .verify_audit()
        .unwrap()
        .expect_err("tampering is detected")
}

pub fn audit_verify_names_an_edited_event(store: &TestStore) {
    audited_chain(store);
    let found = tamper(
        store,
        &["UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4"],
    );
    assert_eq!(found, Tampering::Changed { seq: 4 });
}

pub fn audit_verify_names_a_deleted_event(store: &TestStore) {
    audited_chain(store);
    let found = tamper(store, &["DELETE FROM audit_log WHERE seq = 2"]);
    assert_eq!(found, Tampering::Removed { from: 2, to: 2 });
}

pub fn audit_verify_names_reordered_events(store: &TestStore) {
    audited_chain(store);
    let found = tamper(
        store,
        &[
            "UPDATE audit_log SET seq = -1 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 4",
            "UPDATE audit_log SET seq = 4 WHERE seq = -1",
        ],
    );
    assert_eq!(found, Tampering::Changed { seq: 2 });
}

pub fn audit_verify_names_a_truncated_log(store: &TestStore) {
    audited_chain(store);
    let found = tamper(store, &["DELETE FROM audit_log WHERE seq > 3"]);
    assert_eq!(found, Tampering::Truncated { last: 3, head: 5 });
}

pub fn the_audit_log_refuses_updates_and_deletes(store: &TestStore) {
    audited_chain(store);
    for statement in [
        "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4",
        "DELETE FROM audit_log WHERE seq = 4",
    ] {
        let refused = store.bare_write(|sql| sql.execute(statement, &[]));
        assert!(
            matches!(&refused, Err(StoreError::Database(m)) if m.contains("append-only")),
            "{statement}: {refused:?}"
        );
    }
    if store.engine_name() == "postgres" {
        let refused = store.bare_write(|sql| sql.execute_batch("TRUNCATE audit_log"));
        assert!(refused.is_err(), "TRUNCATE too");
    }
    assert_eq!(store.verify_audit().unwrap().unwrap().writes.events, 5);
}

/// The chain as stored, for an attacker's rewrite.
fn stored_events(store: &TestStore) -> Vec<safeguard_store::audit::ChainedEvent> {
    store
        .bare_read(|sql| {
            sql.query(
                "SELECT seq, at, actor, agency, role, action, subject, reason, prev_hash, hash
                 FROM audit_log ORDER BY seq",
                &[],
            )
        })
        .unwrap()
        .iter()
        .map(|r| safeguard_store::audit::ChainedEvent {
            seq: r.int(0).unwrap(),
            at: r.int(1).unwrap(),
            actor: r.text(2).unwrap().to_owned(),
            agency: r.opt_text(3).unwrap().map(str::to_owned),
            role: r.opt_text(4).unwrap().map(str::to_owned),
            action: r.text(5).unwrap().to_owned(),
            subject: r.text(6).unwrap().to_owned(),
            reason: r.opt_text(7).unwrap().map(str::to_owned),
            prev_hash: r.text(8).unwrap().to_owned(),
            hash: r.text(9).unwrap().to_owned(),
        })
        .collect()
}

pub fn reads_are_audited_while_a_long_write_holds_the_writer(store: &TestStore) {
    audited_chain(store);
    let (held, release) = std::sync::mpsc::channel::<()>();
    let (started, wait_started) = std::sync::mpsc::channel::<()>();
    let writer = store.store.clone();
    // A write that holds the one writer (SQLite) or the head of the writes (PostgreSQL).
    let long_write = std::thread::spawn(move || {
        writer
            .bare_write(|sql| {
                sql.execute("UPDATE audit_head SET seq = seq WHERE id = 1", &[])?;
                started.send(()).unwrap();
                release.recv().unwrap();
                Ok(())
            })
            .unwrap();
    });
    wait_started.recv().unwrap();
    let reader = Actor::user(
        "sw1",
        &safeguard_core::AgencyId::parse("north-childrens-services").unwrap(),
        "practitioner",
    );

    // Act: a read is audited while the write is held (it would deadlock if it waited).
    let (audited, done) = std::sync::mpsc::channel();
    let store2 = store.store.clone();
    std::thread::spawn(move || {
        let r = store2.record_access(&reader, &[AuditEvent::new("read_chronology", "p2")]);
        audited.send(r).unwrap();
    });
    let result = done.recv_timeout(std::time::Duration::from_secs(5));

    held.send(()).unwrap();
    long_write.join().unwrap();
    assert!(
        matches!(result, Ok(Ok(()))),
        "the read was audited without waiting for the write: {result:?}"
    );
    let verified = store.verify_audit().unwrap().unwrap();
    assert_eq!(verified.reads.events, 3);
    assert!(
        store
            .access_log("p2")
            .unwrap()
            .iter()
            .any(|e| e.action == "read_chronology"),
        "and it is in the subject's access log"
    );
}

pub fn an_edited_read_is_detected_in_the_chain_of_reads(store: &TestStore) {
    audited_chain(store);
    let drops: &[&str] = if store.engine_name() == "sqlite" {
        &["DROP TRIGGER read_log_no_update"]
    } else {
        &["DROP TRIGGER read_log_no_change ON read_log"]
    };
    store
        .bare_write_reads(|sql| {
            for d in drops {
                sql.execute_batch(d)?;
            }
            sql.execute(
                "UPDATE read_log SET actor = 'someone-else' WHERE seq = 2",
                &[],
            )
        })
        .unwrap();

    let found = store.verify_audit().unwrap();

    assert_eq!(
        found,
        Err(Tampering::InReads(Box::new(Tampering::Changed { seq: 2 })))
    );
}

pub fn deleting_an_event_and_re_chaining_without_the_key_is_detected(store: &TestStore) {
    audited_chain(store);
    let mut events = stored_events(store);
    // Remove the third event, renumber the rest, re-hash every event under a key of the
    // attacker's own, and reset the head.
    events.retain(|e| e.seq != 3);
    let mut prev = safeguard_store::audit::GENESIS.to_owned();
    let guess = safeguard_store::audit::AuditKey::generate();
    for (n, e) in events.iter_mut().enumerate() {
        e.seq = n as i64 + 1;
        e.prev_hash = prev.clone();
        e.hash = e.expected_hash(Some(&guess));
        prev = e.hash.clone();
    }
    drop_append_only_triggers(store);
    store
        .bare_write(|sql| {
            sql.execute("DELETE FROM audit_log", &[])?;
            for e in &events {
                sql.execute(
                    "INSERT INTO audit_log (seq, at, actor, agency, role, action, subject, reason, prev_hash, hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[
                        e.seq.into(), e.at.into(), e.actor.as_str().into(), e.agency.clone().into(),
                        e.role.clone().into(), e.action.as_str().into(), e.subject.as_str().into(),
                        e.reason.clone().into(), e.prev_hash.as_str().into(), e.hash.as_str().into(),
                    ],
                )?;
            }
            sql.execute(
                "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
                &[(events.len() as i64).into(), prev.as_str().into()],
            )
        })
        .unwrap();

    let found = store.verify_audit().unwrap();

    assert_eq!(found, Err(Tampering::Changed { seq: 1 }));
}

pub fn a_checkpoint_survives_a_growing_log_and_catches_a_reset_one(store: &TestStore) {
    audited_chain(store);
    let checkpoint = store.audit_checkpoint().unwrap();
    let text = checkpoint.to_string();
    // The live log grows: still extends the checkpoint.
    append(store, vec![entry("north-police", "e6", "2006-12-14")]);
    let later = safeguard_store::audit::Checkpoint::parse(&text).unwrap();
    let verified = store.verify_audit_since(&later).unwrap().unwrap();
    assert!(verified.writes.events > 5);

    // Reset to empty: the plain verification passes as "0 events", the checkpoint does not.
    drop_append_only_triggers(store);
    store
        .bare_write(|sql| {
            sql.execute("DELETE FROM audit_log", &[])?;
            sql.execute(
                "UPDATE audit_head SET seq = 0, hash = $1 WHERE id = 1",
                &[safeguard_store::audit::GENESIS.into()],
            )
        })
        .unwrap();
    assert_eq!(store.verify_audit().unwrap().unwrap().writes.events, 0);
    assert_eq!(
        store.verify_audit_since(&later).unwrap(),
        Err(Tampering::CheckpointLost { seq: 5 })
    );
}

fn agency_id(id: &str) -> safeguard_core::AgencyId {
    safeguard_core::AgencyId::parse(id).unwrap()
}

const PASSWORD: &str = "correct horse battery";

pub fn sign_in_opens_a_session_that_sign_out_closes(store: &TestStore) {
    use safeguard_core::access::Role;
    store
        .add_user(
            "sw1",
            &agency_id("north-childrens-services"),
            "Social Worker 1",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();

    let (token, session) = store.sign_in("sw1", PASSWORD).unwrap().expect("signed in");
    assert_eq!(session.user.roles, vec![Role::Practitioner]);
    assert_eq!(store.session(&token).unwrap().unwrap().user.id, "sw1");
    assert!(store.session("not-a-token").unwrap().is_none());

    store.sign_out(&session).unwrap();
    assert!(
        store.session(&token).unwrap().is_none(),
        "the token no longer works"
    );
}

pub fn failures_never_lock_an_account_and_every_refusal_is_alike(store: &TestStore) {
    use safeguard_core::access::Role;
    use safeguard_store::accounts::SignInFailure;
    store
        .add_user(
            "sw1",
            &agency_id("north-childrens-services"),
            "Social Worker 1",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();
    store
        .add_user(
            "gone",
            &agency_id("north-childrens-services"),
            "Gone Worker",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();
    store.set_user_disabled("gone", true).unwrap();
    for _ in 0..20 {
        assert_eq!(
            store
                .sign_in("sw1", "wrong password!")
                .unwrap()
                .unwrap_err(),
            SignInFailure::Refused
        );
    }
    assert!(
        store.sign_in("sw1", PASSWORD).unwrap().is_ok(),
        "twenty failures elsewhere do not lock the real user out"
    );
    for (name, password) in [
        ("nobody", PASSWORD),
        ("sw1", "wrong password!"),
        ("gone", PASSWORD),
    ] {
        assert_eq!(
            store.sign_in(name, password).unwrap().unwrap_err(),
            SignInFailure::Refused,
            "{name}"
        );
    }
    let failed = audited_actions(store, "sign_in_failed");
    assert!(
        failed.iter().any(|(subject, _)| subject == "nobody"),
        "{failed:?}"
    );
}

pub fn weak_passwords_are_refused_by_name(store: &TestStore) {
    use safeguard_core::access::Role;
    for weak in [
        "            ",
        "password1234",
        "qwertyuiop123",
        "Social Worker 1!",
        "sw1-sw1-sw1-sw1",
    ] {
        let refused = store.add_user(
            "sw1",
            &agency_id("north-childrens-services"),
            "Social Worker",
            &[Role::Practitioner],
            weak,
        );
        assert!(
            matches!(&refused, Err(StoreError::Invalid { error, .. }) if error.field == "password"),
            "{weak:?}: {refused:?}"
        );
    }
}

pub fn an_idle_session_ends_and_a_token_expires_and_rotates(store: &TestStore) {
    use safeguard_core::access::Role;
    store
        .add_user(
            "sw1",
            &agency_id("north-childrens-services"),
            "Social Worker 1",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();
    let (token, _) = store.sign_in("sw1", PASSWORD).unwrap().unwrap();
    assert!(store.session(&token).unwrap().is_some());
    store
        .bare_write(|sql| {
            sql.execute(
                "UPDATE sessions SET last_seen_at = last_seen_at - 31 * 60000000",
                &[],
            )
        })
        .unwrap();
    assert!(store.session(&token).unwrap().is_none(), "31 idle minutes");

    let old = store
        .add_api_token_for("police-niche", &agency_id("north-police"), 30)
        .unwrap();
    let new = store.rotate_api_token("police-niche", 30).unwrap();
    assert!(
        store.api_token(&old).unwrap().is_some(),
        "the old one works for a day"
    );
    assert!(store.api_token(&new).unwrap().is_some());
    store
        .bare_write(|sql| {
            sql.execute(
                "UPDATE api_tokens SET expires_at = expires_at - 2 * 86400000000 WHERE token_hash = $1",
                &[safeguard_store::accounts::token_hash(&old).into()],
            )
        })
        .unwrap();
    assert!(store.api_token(&old).unwrap().is_none(), "expired");
    assert!(store.api_token(&new).unwrap().is_some());
}

pub fn a_disabled_user_cannot_sign_in_and_loses_sessions(store: &TestStore) {
    use safeguard_core::access::Role;
    store
        .add_user(
            "sw1",
            &agency_id("north-childrens-services"),
            "Social Worker 1",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();
    let (token, _) = store.sign_in("sw1", PASSWORD).unwrap().unwrap();
    store.set_user_disabled("sw1", true).unwrap();
    assert!(store.session(&token).unwrap().is_none());
    assert!(store.sign_in("sw1", PASSWORD).unwrap().is_err());
    store.set_user_roles("sw1", &[Role::TeamManager]).unwrap();
    assert_eq!(
        store.user("sw1").unwrap().unwrap().roles,
        vec![Role::TeamManager]
    );
}

pub fn api_tokens_work_until_revoked(store: &TestStore) {
    let token = store
        .add_api_token("police-niche", &agency_id("north-police"))
        .unwrap();
    let principal = store.api_token(&token).unwrap().expect("a live token");
    assert_eq!(principal.agency().as_str(), "north-police");
    store.revoke_api_token("police-niche").unwrap();
    assert!(store.api_token(&token).unwrap().is_none());
}

pub fn involvement_comes_from_recent_entries_and_allocations(store: &TestStore) {
    use safeguard_core::access::Role;
    // Recorded (by the agency's clock) in 2007, received now: the period counts from receipt.
    append(store, vec![entry("north-police", "e1", "2007-01-01")]);
    append(store, vec![entry("north-hospital", "h1", "2007-01-02")]);
    let child = person_of(store, "north-police", "C1");
    store
        .add_user(
            "sw1",
            &agency_id("north-childrens-services"),
            "Social Worker 1",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();
    store.allocate(child, "sw1", true).unwrap();

    let involvement = store.involvement(child).unwrap();

    assert_eq!(
        involvement.established_agencies,
        vec![agency_id("north-police")],
        "the police recorded first and hold the child"
    );
    assert_eq!(
        involvement.pending_agencies,
        vec![agency_id("north-hospital")],
        "the hospital recorded about a child the police held: it asks"
    );
    assert_eq!(involvement.allocated_users, vec!["sw1".to_owned()]);
    assert_eq!(involvement.lead_professional.as_deref(), Some("sw1"));

    // A period of one day, checked a day later, has lapsed for everyone.
    store.set_involvement_days(1);
    store
        .bare_write(|sql| {
            sql.execute(
                "UPDATE involvements SET last_entry_at = last_entry_at - 2 * 86400000000",
                &[],
            )
        })
        .unwrap();
    let lapsed = store.involvement(child).unwrap();
    assert!(lapsed.established_agencies.is_empty(), "{lapsed:?}");
    assert!(lapsed.pending_agencies.is_empty(), "{lapsed:?}");
    // Recording again after the lapse asks again: the child is held by others (allocated).
    append(store, vec![entry("north-police", "e2", "2007-01-03")]);
    assert_eq!(
        store.involvement(child).unwrap().pending_agencies,
        vec![agency_id("north-police")]
    );
}

pub fn a_confirmation_opens_the_record_and_a_decline_lasts_until_the_agency_records_again(
    store: &TestStore,
) {
    use safeguard_core::access::Role;
    append(store, vec![entry("north-police", "e1", "2007-01-01")]);
    append(store, vec![entry("north-hospital", "h1", "2007-01-02")]);
    let child = person_of(store, "north-police", "C1");
    let hospital = agency_id("north-hospital");
    store
        .add_user(
            "sw1",
            &agency_id("north-childrens-services"),
            "Social Worker 1",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();
    store.allocate(child, "sw1", true).unwrap();
    let pending = store.pending_involvements(Some("sw1")).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].person, child);
    assert_eq!(pending[0].agency, hospital);
    assert!(
        store
            .pending_involvements(Some("someone-else"))
            .unwrap()
            .is_empty(),
        "only the lead professional's children"
    );
    let sw1 = store.user("sw1").unwrap().unwrap().actor();

    store
        .decide_involvement(
            &sw1,
            child,
            &hospital,
            true,
            "The hospital treats the child",
        )
        .unwrap();

    let involvement = store.involvement(child).unwrap();
    assert!(involvement.established_agencies.contains(&hospital));
    let waiting_for = |store: &TestStore| -> usize {
        let all = store.pending_involvements(None).unwrap();
        all.iter().filter(|p| p.person == child).count()
    };
    assert_eq!(waiting_for(store), 0, "the child's request is decided");
    let status = store.child_status(child).unwrap();
    let shown = status
        .agencies
        .iter()
        .find(|a| a.agency == hospital)
        .unwrap();
    assert_eq!(
        shown.standing,
        safeguard_store::involvement::Standing::Confirmed
    );
    assert_eq!(
        status.lead_professional.as_ref().map(|l| l.name.as_str()),
        Some("Social Worker 1")
    );
    assert!(
        store
            .access_log(&child.to_string())
            .unwrap()
            .iter()
            .any(|e| e.action == "confirm_involvement"
                && e.reason.as_deref() == Some("north-hospital: The hospital treats the child")),
        "audited with its reason"
    );

    // Declining withdraws it; recording again asks again.
    store
        .decide_involvement(&sw1, child, &hospital, false, "Treatment ended last month")
        .unwrap();
    assert!(
        !store
            .involvement(child)
            .unwrap()
            .established_agencies
            .contains(&hospital)
    );
    assert_eq!(waiting_for(store), 0, "a decline is not a request");
    append(store, vec![entry("north-hospital", "h2", "2007-02-02")]);
    assert_eq!(waiting_for(store), 1);
    // Nothing to decide for an agency that never asked.
    assert!(matches!(
        store.decide_involvement(
            &sw1,
            child,
            &agency_id("north-childrens-services"),
            true,
            "No request was made here"
        ),
        Err(StoreError::Invalid { .. })
    ));
}

pub fn an_entry_recorded_in_the_future_or_naming_too_many_people_is_refused(store: &TestStore) {
    let mut future = entry("north-police", "e1", "2007-01-01");
    future["recorded_at"] = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339()
        .into();
    let err = store
        .append(
            &Actor::system("test"),
            &[serde_json::from_value(future).unwrap()],
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { error, .. } if error.field == "recorded_at"),
        "{err:?}"
    );
    let mut crowd = entry("north-police", "e2", "2007-01-01");
    let persons: Vec<serde_json::Value> = (0..51)
        .map(|i| serde_json::json!({"role": "other_adult_present", "record": {"local_id": format!("P{i}")}}))
        .collect();
    crowd["persons"] = persons.into();
    crowd["residences"] = serde_json::json!([]);
    crowd["relationships"] = serde_json::json!([]);
    let err = store
        .append(
            &Actor::system("test"),
            &[serde_json::from_value(crowd).unwrap()],
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { error, .. } if error.field == "persons"),
        "{err:?}"
    );
    assert_eq!(store.entry_count().unwrap(), 0);
}

pub fn breaking_glass_is_granted_for_the_session_and_audited_with_its_reason(store: &TestStore) {
    use safeguard_core::access::Role;
    append(store, vec![entry("north-police", "e1", "2007-01-01")]);
    let child = person_of(store, "north-police", "C1");
    store
        .add_user(
            "gp1",
            &agency_id("north-hospital"),
            "Doctor 1",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();
    let (_, session) = store.sign_in("gp1", PASSWORD).unwrap().unwrap();

    assert!(
        store.break_glass(&session, child, "short").is_err(),
        "a reason is a sentence"
    );
    assert!(!store.has_broken_glass(&session.token_hash, child).unwrap());
    store
        .break_glass(&session, child, "Child brought to A&E unconscious")
        .unwrap();
    assert!(store.has_broken_glass(&session.token_hash, child).unwrap());

    let log = store.access_log(&child.to_string()).unwrap();
    assert_eq!(log[0].action, "break_glass");
    assert_eq!(log[0].actor, "gp1");
    assert_eq!(
        log[0].reason.as_deref(),
        Some("Child brought to A&E unconscious")
    );
    assert_eq!(
        store
            .break_glass_by_agency(&agency_id("north-hospital"))
            .unwrap()
            .len(),
        1
    );
    assert!(store.verify_audit().unwrap().is_ok());
}

pub fn flags_are_stored_by_difference_and_each_change_is_audited(store: &TestStore) {
    use safeguard_core::rules::RuleBook;
    let book = RuleBook::shipped();
    let today = day(2007, 12, 31);
    let mut injury = entry("north-hospital", "h1", "2006-12-11");
    injury["details"] =
        json!({"kind": "injury_observed", "body_site": "face", "injury_type": "bruise"});
    injury["recorded_at"] = "2006-12-11T18:00:00Z".into();
    let appended = append(store, vec![injury]);
    let child = person_of(store, "north-hospital", "C1");
    assert_eq!(
        store.subject_children(&[appended[0].id]).unwrap(),
        vec![child]
    );
    assert_eq!(store.all_subject_children().unwrap(), vec![child]);

    let first = store.refresh_flags(&actor(), child, &book, today).unwrap();
    assert_eq!(
        first
            .raised
            .iter()
            .map(|f| f.rule.as_str())
            .collect::<Vec<_>>(),
        ["injury_to_non_mobile_baby"]
    );
    let stored = store.flags(child).unwrap();
    assert_eq!(stored[0].flag.entries, vec![appended[0].id]);
    assert_eq!(stored[0].flag.first_knowable, day(2006, 12, 11));

    let again = store.refresh_flags(&actor(), child, &book, today).unwrap();
    assert_eq!(
        again,
        Default::default(),
        "nothing changed, nothing written"
    );

    let mut correction = entry("north-hospital", "h1-corrected", "2006-12-11");
    correction["supersedes"] = "h1".into();
    append(store, vec![correction]);
    let corrected = store.refresh_flags(&actor(), child, &book, today).unwrap();
    assert_eq!(corrected.resolved.len(), 1);
    assert!(store.flags(child).unwrap().is_empty());

    let log: Vec<String> = store
        .access_log(&child.to_string())
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(log, ["flag_resolved", "flag_raised"], "newest first");
    assert!(store.verify_audit().unwrap().is_ok());
}

/// A small deterministic generator (SplitMix64), so failures replay exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random entry about the child `C1`, sometimes with an adult `H1` present.
fn random_entry(rng: &mut Rng, n: usize) -> Value {
    let agencies = ["north-hospital", "north-police", "north-childrens-services"];
    let agency = agencies[rng.below(3) as usize];
    let day = chrono::NaiveDate::from_ymd_opt(2006, 9, 1).unwrap()
        + chrono::Duration::days(rng.below(420) as i64);
    let mut e = entry(agency, &format!("r{n}"), &day.to_string());
    e["recorded_at"] = format!("{day}T20:00:00Z").into();
    e["details"] = match rng.below(9) {
        0 | 1 => json!({"kind": "injury_observed", "body_site": "face", "injury_type": "bruise",
                        "explanation_given": (["fell", "the dog", "his sister"][rng.below(3) as usize])}),
        2 => json!({"kind": "gp_appointment", "attended": rng.below(2) == 0}),
        3 => json!({"kind": "plan_start", "category": "neglect"}),
        4 => json!({"kind": "plan_end"}),
        5 => {
            json!({"kind": "home_visit", "child_seen": true, "child_seen_alone": rng.below(2) == 0})
        }
        6 => json!({"kind": "strategy_discussion", "section47_decided": true}),
        7 => {
            json!({"kind": "conference", "conference_type": (["initial", "review"][rng.below(2) as usize]), "plan_decided": true})
        }
        _ => {
            json!({"kind": "legal_planning_meeting", "stage": (["requested", "held"][rng.below(2) as usize])})
        }
    };
    if rng.below(3) == 0 {
        e["persons"]
            .as_array_mut()
            .unwrap()
            .push(json!({"role": "other_adult_present",
            "record": {"local_id": "H1", "name": {"given": ["Dan"]}}}));
    }
    e
}

pub fn incremental_flags_equal_a_full_re_evaluation_on_random_chronologies(store: &TestStore) {
    use safeguard_core::rules::RuleBook;
    let book = RuleBook::shipped();
    let today = day(2026, 11, 25);
    let (mut updated, mut resolved) = (0, 0);
    for seed in 0..12u64 {
        // A fresh agency per run keeps the children apart in one database.
        let mut rng = Rng(seed);
        let agency_suffix = format!("-{seed}");
        let mut entries = Vec::new();
        for n in 0..(4 + rng.below(10) as usize) {
            let mut e = random_entry(&mut rng, n);
            let agency = format!("{}{agency_suffix}", e["agency"].as_str().unwrap());
            store
                .put_agency(&safeguard_core::Agency {
                    id: safeguard_core::AgencyId::parse(&agency).unwrap(),
                    name: agency.clone(),
                    kind: safeguard_core::AgencyKind::Police,
                })
                .unwrap();
            e["agency"] = agency.into();
            // One NHS number per run links every agency's record of the child.
            e["persons"][0]["record"]["nhs_number"] = valid_nhs(seed).into();
            entries.push(e);
        }
        // Incremental: each entry arrives on its own and the child is re-evaluated.
        let mut child = None;
        for e in &entries {
            let appended = append(store, vec![e.clone()]);
            for c in store.subject_children(&[appended[0].id]).unwrap() {
                let changes = store.refresh_flags(&actor(), c, &book, today).unwrap();
                updated += changes.updated.len();
                resolved += changes.resolved.len();
                child = Some(c);
            }
        }
        let child = child.unwrap();
        let incremental: Vec<_> = store
            .flags(child)
            .unwrap()
            .into_iter()
            .map(|f| f.flag)
            .collect();
        // Full: the same chronology evaluated at once.
        let mut full = book
            .evaluate(&store.child(child).unwrap().unwrap(), today)
            .unwrap();
        let mut incremental_sorted = incremental.clone();
        let key = |f: &safeguard_core::rules::Flag| (f.key(), f.first_knowable);
        full.sort_by_key(key);
        full.dedup_by_key(|f| f.key());
        incremental_sorted.sort_by_key(key);
        assert_eq!(
            incremental_sorted,
            full,
            "seed {seed}: {} entries",
            entries.len()
        );
    }
    assert!(
        updated > 0 && resolved > 0,
        "the runs exercised updates ({updated}) and resolutions ({resolved})"
    );
}

/// A valid NHS number in the 999 range for a seed.
fn valid_nhs(seed: u64) -> String {
    (0..11u64)
        .find_map(|step| {
            let stem = format!("999{:06}", 100_000 + seed * 13 + step);
            let digits: Vec<u8> = stem.bytes().map(|b| b - b'0').collect();
            safeguard_core::check_digit(&digits).map(|c| format!("{stem}{c}"))
        })
        .unwrap()
}

pub fn a_missed_timescale_is_escalated_to_the_team_managers_of_the_agencies_holding_the_child(
    store: &TestStore,
) {
    use safeguard_core::access::Role;
    use safeguard_core::rules::RuleBook;
    let sc = agency_id("north-childrens-services");
    let mut discussion = entry("north-childrens-services", "sd1", "2007-01-02");
    discussion["details"] = json!({"kind": "strategy_discussion", "section47_decided": true});
    discussion["recorded_at"] = "2007-01-02T17:00:00Z".into();
    append(store, vec![discussion]);
    let child = person_of(store, "north-childrens-services", "C1");
    store
        .add_user("sw1", &sc, "Worker", &[Role::Practitioner], PASSWORD)
        .unwrap();
    store
        .add_user("tm1", &sc, "Manager", &[Role::TeamManager], PASSWORD)
        .unwrap();
    store
        .add_user(
            "tm-police",
            &agency_id("north-police"),
            "Other manager",
            &[Role::TeamManager],
            PASSWORD,
        )
        .unwrap();
    store.allocate(child, "sw1", true).unwrap();

    let changes = store
        .refresh_flags(&actor(), child, &RuleBook::shipped(), day(2007, 1, 24))
        .unwrap();

    assert!(
        changes
            .raised
            .iter()
            .any(|f| f.rule == "statutory_timescale_missed")
    );
    let alerts = store.alerts("tm1").unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("Escalated: A timescale was missed")
    );
    assert!(
        store.alerts("tm-police").unwrap().is_empty(),
        "another agency's manager"
    );
    assert!(
        store.alerts("sw1").unwrap().is_empty(),
        "the practitioner is not a manager"
    );
}

pub fn an_entry_that_cannot_be_evaluated_is_stored_and_its_failure_waits_until_mended(
    store: &TestStore,
) {
    use safeguard_core::calendar::Calendar;
    use safeguard_core::rules::RuleBook;
    // A calendar that knows 2006 only: the ICPC clock started in 2007 cannot count.
    let lacking = RuleBook {
        calendar: Calendar::from_csv("date,title\n2006-12-25,Christmas Day\n").unwrap(),
        ..RuleBook::shipped()
    };
    let mut discussion = entry("north-childrens-services", "sd1", "2007-01-02");
    discussion["details"] = json!({"kind": "strategy_discussion", "section47_decided": true});
    discussion["recorded_at"] = "2007-01-02T17:00:00Z".into();

    let stored = store
        .append_and_refresh(&actor(), &[parse(discussion)], &lacking, day(2007, 1, 24))
        .expect("recording does not wait on evaluation");

    assert_eq!(stored[0].outcome, Outcome::Created);
    let failures = store.evaluation_failures().unwrap();
    let child = person_of(store, "north-childrens-services", "C1");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].person, child);
    assert!(
        failures[0].reason.contains("2007"),
        "{}",
        failures[0].reason
    );
    assert!(!audited_actions(store, "evaluation_failed").is_empty());

    // Mended (the full calendar): the next evaluation succeeds and clears the failure.
    let changes = store
        .refresh_flags(&actor(), child, &RuleBook::shipped(), day(2007, 1, 24))
        .unwrap();
    assert!(!changes.failed);
    assert!(store.evaluation_failures().unwrap().is_empty());
}

pub fn two_clocks_started_by_one_entry_and_both_late_are_two_flags(store: &TestStore) {
    use safeguard_core::rules::RuleBook;
    let mut discussion = entry("north-childrens-services", "sd1", "2007-01-02");
    discussion["details"] = json!({"kind": "strategy_discussion", "section47_decided": true});
    discussion["recorded_at"] = "2007-01-02T17:00:00Z".into();
    append(store, vec![discussion]);
    let child = person_of(store, "north-childrens-services", "C1");

    // Both the ICPC (15 working days) and the section 47 enquiry (45) are overdue by April.
    let changes = store
        .refresh_flags(&actor(), child, &RuleBook::shipped(), day(2007, 4, 30))
        .unwrap();

    let missed: Vec<&str> = changes
        .raised
        .iter()
        .filter(|f| f.rule == "statutory_timescale_missed")
        .map(|f| f.about.as_deref().unwrap())
        .collect();
    assert_eq!(
        missed,
        [
            "icpc_after_strategy_discussion",
            "section47_after_strategy_discussion"
        ]
    );
    let stored = store.flags(child).unwrap();
    assert_eq!(
        stored
            .iter()
            .filter(|f| f.flag.rule == "statutory_timescale_missed")
            .count(),
        2
    );
    assert!(
        stored
            .iter()
            .any(|f| f.flag.about.as_deref() == Some("icpc_after_strategy_discussion"))
    );
}

pub fn an_identity_decision_re_evaluates_the_children_it_touches_and_alerts_their_lead(
    store: &TestStore,
) {
    use safeguard_core::access::Role;
    use safeguard_core::rules::RuleBook;
    // Children's services see "Dan" at the home; the police check "Daniel Marsh" the same week.
    let mut visit = entry("north-childrens-services", "v1", "2007-01-02");
    visit["recorded_at"] = "2007-01-02T17:00:00Z".into();
    visit["details"] = json!({"kind": "home_visit", "child_seen": true, "child_seen_alone": false});
    visit["persons"][1] = json!({"role": "other_adult_present", "record": {"local_id": "D1",
        "name": {"given": ["Dan"]}}});
    let mut check = entry("north-police", "c1", "2007-01-05");
    check["recorded_at"] = "2007-01-05T17:00:00Z".into();
    check["details"] = json!({"kind": "background_check", "subject": "P1", "status": "completed",
        "result": "no trace"});
    check["persons"][1] = json!({"role": "other_adult_present", "record": {"local_id": "P1",
        "name": {"given": ["Daniel"], "family": "Marsh"}, "date_of_birth": "1980-03-01"}});
    append(store, vec![visit, check]);
    let child = person_of(store, "north-childrens-services", "C1");
    store
        .add_user(
            "sw1",
            &agency_id("north-childrens-services"),
            "Worker",
            &[Role::Practitioner],
            PASSWORD,
        )
        .unwrap();
    store.allocate(child, "sw1", true).unwrap();
    let book = RuleBook::shipped();
    let as_of = day(2007, 2, 1);
    store.refresh_flags(&actor(), child, &book, as_of).unwrap();
    let unchecked = |store: &TestStore| {
        store
            .flags(child)
            .unwrap()
            .iter()
            .filter(|f| f.flag.rule == "unverified_adult")
            .count()
    };
    assert_eq!(unchecked(store), 1, "Dan has had no check");
    let (dan, _) = store
        .find_record("north-childrens-services", "sys", "D1")
        .unwrap()
        .unwrap();
    let (daniel, _) = store
        .find_record("north-police", "sys", "P1")
        .unwrap()
        .unwrap();
    let decide = |verdict| LinkDecision {
        a: dan,
        b: daniel,
        verdict,
        reason: "Same man: named by the mother, checked by the police".into(),
    };

    // The chronology names each participant by the person their record belongs to now,
    // though what each entry names is read once and kept.
    let visit_names_dan_as_he_is_now = |store: &TestStore| {
        let page = store
            .chronology(child, &ChronologyQuery::default())
            .unwrap();
        let (_, dan_now) = store
            .find_record("north-childrens-services", "sys", "D1")
            .unwrap()
            .unwrap();
        assert_eq!(page.entries[0].person_ids, vec![child, dan_now]);
        dan_now
    };
    visit_names_dan_as_he_is_now(store);

    // Act: a lead confirms the two adult records are one man.
    store
        .decide_link(&actor(), &decide(Verdict::SamePerson), &book, as_of)
        .unwrap();
    let (_, daniel_now) = store
        .find_record("north-police", "sys", "P1")
        .unwrap()
        .unwrap();
    assert_eq!(visit_names_dan_as_he_is_now(store), daniel_now);

    // Assert: the child's flag, not only the adult's, is re-evaluated: the check counts.
    assert_eq!(unchecked(store), 0, "the police checked him");
    let before = store.alerts("sw1").unwrap().len();

    // And a split raises it again, alerting the lead professional.
    store
        .decide_link(&actor(), &decide(Verdict::DifferentPeople), &book, as_of)
        .unwrap();
    assert_eq!(unchecked(store), 1);
    let dan_after_split = visit_names_dan_as_he_is_now(store);
    assert_ne!(
        dan_after_split,
        store
            .find_record("north-police", "sys", "P1")
            .unwrap()
            .unwrap()
            .1
    );
    let alerts = store.alerts("sw1").unwrap();
    assert_eq!(alerts.len(), before + 1);
    assert!(
        alerts[0]
            .reason
            .as_deref()
            .unwrap_or_default()
            .starts_with("New concern after an identity decision"),
        "{:?}",
        alerts[0].reason
    );
}

pub fn a_birth_turns_the_unborn_childs_record_into_the_babys(store: &TestStore) {
    // The maternity service books an unborn baby, the police record a call-out with the
    // expectant mother, and at the birth the maternity service records the baby.
    let unborn = json!({"role": "subject_child", "record": {"local_id": "U1",
        "name": {"family": "Example"}, "expected_date_of_birth": "2024-05-01"}});
    let mother = json!({"role": "parent", "record": {"local_id": "M1",
        "name": {"given": ["Alex"], "family": "Example"}, "date_of_birth": "1995-02-03"}});
    let mut booking = entry("north-hospital", "a1", "2023-10-02");
    booking["recorded_at"] = "2023-10-02T12:00:00Z".into();
    booking["persons"] = json!([unborn.clone(), mother.clone()]);
    booking["details"] =
        json!({"kind": "antenatal_care", "stage": "booking", "gestation_weeks": 10});
    let mut missed = entry("north-hospital", "a2", "2024-01-08");
    missed["recorded_at"] = "2024-01-08T12:00:00Z".into();
    missed["persons"] = json!([unborn.clone(), mother.clone()]);
    missed["details"] = json!({"kind": "antenatal_care", "stage": "missed"});
    append(store, vec![booking, missed]);
    let mut birth = entry("north-hospital", "b1", "2024-04-28");
    birth["recorded_at"] = "2024-04-28T12:00:00Z".into();
    birth["persons"] = json!([
        {"role": "subject_child", "record": {"local_id": "B1",
            "name": {"given": ["Robin"], "family": "Example"}, "date_of_birth": "2024-04-28",
            "nhs_number": "9434765919"}},
        unborn,
        mother
    ]);
    birth["details"] = json!({"kind": "birth", "unborn": "U1"});

    append(store, vec![birth]);

    let (_, baby) = store
        .find_record("north-hospital", "sys", "B1")
        .unwrap()
        .unwrap();
    let (_, was_unborn) = store
        .find_record("north-hospital", "sys", "U1")
        .unwrap()
        .unwrap();
    assert_eq!(baby, was_unborn, "one child");
    let kinds: Vec<String> = store
        .chronology(baby, &ChronologyQuery::default())
        .unwrap()
        .entries
        .iter()
        .map(|e| e.entry.decode().unwrap().source.id)
        .collect();
    assert_eq!(
        kinds,
        ["a1", "a2", "b1"],
        "the antenatal history is the baby's"
    );
    assert!(
        !audited_actions(store, "link_decided").is_empty(),
        "joined as an audited same-person decision"
    );
}

pub fn a_record_its_agency_updates_is_matched_again(store: &TestStore) {
    // The hospital knows Sam (his NHS number). The police first record a "Sam Example" with
    // a mistyped date of birth at an old address: not Sam by the weights, a person of its own.
    append(store, vec![entry("north-hospital", "h1", "2007-01-02")]);
    let police_sam = json!({"local_id": "P-SAM", "name": {"given": ["Sam"], "family": "Example"},
        "date_of_birth": "2003-11-02",
        "addresses": [{"lines": ["9 Old Lane"], "postcode": "E5 0AA"}]});
    let mut first = entry("north-police", "p1", "2007-01-05");
    first["recorded_at"] = "2007-01-05T12:00:00Z".into();
    first["persons"] = json!([{"role": "subject_child", "record": police_sam.clone()}]);
    append(store, vec![first]);
    let sam = person_of(store, "north-hospital", "C1");
    let (record, alone) = store
        .find_record("north-police", "sys", "P-SAM")
        .unwrap()
        .unwrap();
    assert_ne!(alone, sam, "apart before the correction");

    // The police correct the record: his date of birth and home as the hospital has them.
    let mut corrected = police_sam;
    corrected["date_of_birth"] = "2006-06-14".into();
    corrected["addresses"] = json!([{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]);
    let mut second = entry("north-police", "p2", "2007-02-01");
    second["recorded_at"] = "2007-02-01T12:00:00Z".into();
    second["persons"] = json!([{"role": "subject_child", "record": corrected}]);
    append(store, vec![second]);

    let (same_record, now) = store
        .find_record("north-police", "sys", "P-SAM")
        .unwrap()
        .unwrap();
    assert_eq!(same_record, record);
    assert_eq!(now, sam, "matched again in the update's transaction");
    assert_eq!(
        store.merged_into(alone).unwrap(),
        Some(sam),
        "the emptied person leads to Sam"
    );
    assert_eq!(
        all(store, sam),
        ["h1", "p1", "p2"],
        "the police's earlier entry is in Sam's chronology"
    );
    let relinked = audited_actions(store, "record_relinked");
    assert!(
        relinked
            .iter()
            .any(|(subject, _)| *subject == record.to_string()),
        "{relinked:?}"
    );
    // An update that changes nothing of who he is moves nothing.
    let mut third = entry("north-police", "p3", "2007-03-01");
    third["recorded_at"] = "2007-03-01T12:00:00Z".into();
    third["persons"] = json!([{"role": "subject_child", "record": {"local_id": "P-SAM",
        "name": {"given": ["Sam"], "family": "Example"}, "date_of_birth": "2006-06-14",
        "addresses": [{"lines": ["1 Example Road", "Tottenham"], "postcode": "N17 6AA"}]}}]);
    append(store, vec![third]);
    assert_eq!(person_of(store, "north-police", "P-SAM"), sam);
    assert_eq!(
        audited_actions(store, "record_relinked").len(),
        relinked.len()
    );
}

pub fn an_unborn_childs_expected_date_is_compared_with_the_babys_birth_year(store: &TestStore) {
    // A maternity booking names the unborn child by family name and expected date alone; the
    // GP registers the baby, born ten days early, at the same home. One child.
    let mut booking = entry("north-hospital", "a1", "2024-01-10");
    booking["recorded_at"] = "2024-01-10T12:00:00Z".into();
    booking["persons"] = json!([{"role": "subject_child", "record": {"local_id": "U1",
        "name": {"family": "Example"}, "expected_date_of_birth": "2024-06-20",
        "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]}}]);
    booking["details"] =
        json!({"kind": "antenatal_care", "stage": "booking", "gestation_weeks": 10});
    append(store, vec![booking]);
    let mut registered = entry("north-police", "g1", "2024-06-20");
    registered["recorded_at"] = "2024-06-20T12:00:00Z".into();
    registered["persons"] = json!([{"role": "subject_child", "record": {"local_id": "B1",
        "name": {"given": ["Robin"], "family": "Example"}, "date_of_birth": "2024-06-10",
        "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]}}]);
    append(store, vec![registered]);
    let (unborn, _) = store
        .find_record("north-hospital", "sys", "U1")
        .unwrap()
        .unwrap();
    let (baby, _) = store
        .find_record("north-police", "sys", "B1")
        .unwrap()
        .unwrap();
    let reviews = store.link_reviews(10).unwrap();
    let paired = |r: &&safeguard_store::linkage::LinkReview| {
        [r.a.record, r.b.record] == [unborn, baby] || [r.a.record, r.b.record] == [baby, unborn]
    };
    let joined = person_of(store, "north-hospital", "U1") == person_of(store, "north-police", "B1");
    assert!(
        joined || reviews.iter().any(|r| paired(&r)),
        "the expected date counts as the birth year: joined or proposed"
    );
}

pub fn an_entry_about_one_child_re_evaluates_their_siblings(store: &TestStore) {
    use safeguard_core::rules::RuleBook;
    // Sam and Kit, two children of Alex Example, each not brought once to the GP.
    let mut sam = entry("north-hospital", "w1", "2024-03-05");
    sam["recorded_at"] = "2024-03-05T12:00:00Z".into();
    sam["details"] = json!({"kind": "was_not_brought", "service": "health"});
    let mut kit = entry("north-hospital", "w2", "2024-04-09");
    kit["recorded_at"] = "2024-04-09T12:00:00Z".into();
    kit["details"] = json!({"kind": "was_not_brought", "service": "health"});
    kit["persons"][0] = json!({"role": "subject_child", "record": {"local_id": "K1",
        "name": {"given": ["Kit"], "family": "Example"}, "date_of_birth": "2020-01-09"}});
    let book = RuleBook::shipped();
    store
        .append_and_refresh(&actor(), &[parse(sam)], &book, day(2024, 7, 1))
        .unwrap();

    // Act: the entry about Kit.
    store
        .append_and_refresh(&actor(), &[parse(kit)], &book, day(2024, 7, 1))
        .unwrap();

    // Assert: Sam's record, which the entry does not name, shows the household's pattern.
    let sam = person_of(store, "north-hospital", "C1");
    let kit = person_of(store, "north-hospital", "K1");
    assert_ne!(sam, kit);
    for child in [sam, kit] {
        assert!(
            store
                .flags(child)
                .unwrap()
                .iter()
                .any(|f| f.flag.rule == "not_brought_across_siblings"),
            "{child}"
        );
    }
}

pub fn an_adult_services_record_reaches_the_children_around_the_adult(store: &TestStore) {
    use safeguard_core::rules::RuleBook;
    let ray = |local_id: &str| {
        json!({"local_id": local_id, "name": {"given": ["Ray"], "family": "Stone"},
               "date_of_birth": "1980-03-01", "nhs_number": "9434765870"})
    };
    let mut visit = entry("north-hospital", "v1", "2024-05-07");
    visit["recorded_at"] = "2024-05-07T12:00:00Z".into();
    visit["details"] = json!({"kind": "home_visit", "child_seen": true, "child_seen_alone": false});
    visit["persons"][1] = json!({"role": "other_adult_present", "record": ray("R1")});
    let book = RuleBook::shipped();
    store
        .append_and_refresh(&actor(), &[parse(visit)], &book, day(2024, 7, 1))
        .unwrap();
    let child = person_of(store, "north-hospital", "C1");

    // Act: probation records its assessment of Ray, naming no child.
    let mut probation = entry("north-police", "p1", "2024-05-20");
    probation["recorded_at"] = "2024-05-20T12:00:00Z".into();
    probation["persons"] = json!([{"role": "subject_adult", "record": ray("PR-7")}]);
    probation["details"] = json!({"kind": "adult_service_record", "service": "probation",
        "risk_to_children": "high"});
    store
        .append_and_refresh(&actor(), &[parse(probation)], &book, day(2024, 7, 1))
        .unwrap();

    // Assert
    let flags = store.flags(child).unwrap();
    assert!(
        flags
            .iter()
            .any(|f| f.flag.rule == "adult_service_risk_to_children"),
        "{:?}",
        flags.iter().map(|f| &f.flag.rule).collect::<Vec<_>>()
    );
}

/// Agencies' systems send at once: entries naming the same agency record of a person, and
/// the same entry resent by two at once, are all stored once, none refused (on PostgreSQL
/// two writes at once once both missed the record and one failed on its unique key).
pub fn concurrent_appends_naming_the_same_person_are_all_stored(store: &TestStore) {
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.store.clone();
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                for i in 0..10 {
                    let entries = vec![
                        parse(entry("north-police", &format!("t{t}-{i}"), "2006-12-11")),
                        parse(entry("north-police", &format!("shared-{i}"), "2006-12-12")),
                    ];
                    let appended = store
                        .append(&Actor::system("test"), &entries)
                        .unwrap_or_else(|e| panic!("thread {t}, append {i}: {e}"));
                    outcomes.extend(appended.into_iter().map(|a| a.outcome));
                }
                outcomes
            })
        })
        .collect();
    let outcomes: Vec<Outcome> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();

    assert_eq!(
        outcomes.iter().filter(|o| **o == Outcome::Created).count(),
        8 * 10 + 10,
        "each thread's own entries and each shared entry once"
    );
    assert_eq!(store.entry_count().unwrap(), 90);
    let child = person_of(store, "north-police", "C1");
    let page = store
        .chronology(
            child,
            &ChronologyQuery {
                limit: 1000,
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    assert_eq!(page.entries.len(), 90, "one person holds them all");
    assert!(store.verify_audit().unwrap().is_ok());
}

/// Bodies are served from a cache once read: a second read, and a process with nothing
/// cached, give the same chronology, each entry with its own body and its participants'
/// persons in order; an entry appended since is there with its own body.
pub fn a_chronology_read_again_or_by_another_process_is_the_same(store: &TestStore) {
    append(
        store,
        (1..=6)
            .map(|n| {
                entry(
                    "north-police",
                    &format!("e{n}"),
                    &format!("2006-12-{:02}", 10 + n),
                )
            })
            .collect(),
    );
    let child = person_of(store, "north-police", "C1");
    let query = ChronologyQuery {
        limit: 4,
        ..ChronologyQuery::default()
    };
    let as_json = |store: &Store| {
        let page = store.chronology(child, &query).unwrap();
        let sources: Vec<String> = page
            .entries
            .iter()
            .map(|e| e.entry.decode().unwrap().source.id)
            .collect();
        (
            serde_json::to_value(&page.entries).unwrap(),
            sources,
            page.next,
        )
    };
    let cold = as_json(&store.store);
    assert_eq!(cold.1, ["e1", "e2", "e3", "e4"]);
    assert!(cold.2.is_some(), "a page follows");
    assert_eq!(as_json(&store.store), cold, "read again, from the cache");
    let other = store.reopen();
    assert_eq!(as_json(&other), cold, "another process, nothing cached");

    append(store, vec![entry("north-police", "e0", "2006-12-01")]);
    let (_, sources, _) = as_json(&other);
    assert_eq!(
        sources,
        ["e0", "e1", "e2", "e3"],
        "the new entry, with its own body"
    );
    let page = other.chronology(child, &query).unwrap();
    for e in &page.entries {
        assert_eq!(e.person_ids.len(), 2, "the child and the parent, in order");
        assert_eq!(e.person_ids[0], child);
    }
}

/// Reads recorded at once are chained together, in order, whatever their number: a batch
/// larger than one insert carries is split and still verifies.
pub fn many_reads_recorded_at_once_chain_in_order(store: &TestStore) {
    let reader = Actor::user(
        "sw1",
        &safeguard_core::AgencyId::parse("north-childrens-services").unwrap(),
        "practitioner",
    );
    let events: Vec<AuditEvent> = (0..100)
        .map(|n| AuditEvent::new("read_chronology", format!("p{n}")))
        .collect();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (store, reader, events) = (store.store.clone(), reader.clone(), events.clone());
            std::thread::spawn(move || {
                for chunk in [&events[..1], &events[..3], &events[..]] {
                    store.record_access(&reader, chunk).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let verified = store
        .verify_audit()
        .unwrap()
        .expect("the chain of reads verifies");
    assert_eq!(verified.reads.events, 8 * 104);
}

/// The daily tick evaluates only the children whose flags time could have changed since
/// they were last evaluated, and leaves them as a full evaluation on that day would; a tick
/// for a day gone by, and another rule book, evaluate again what they must.
pub fn the_daily_tick_evaluates_only_the_children_whose_day_has_come(store: &TestStore) {
    use safeguard_core::rules::RuleBook;
    let book = RuleBook::shipped();
    let mut discussion = entry("north-childrens-services", "sd1", "2007-01-02");
    discussion["details"] = json!({"kind": "strategy_discussion", "section47_decided": true});
    discussion["recorded_at"] = "2007-01-02T17:00:00Z".into();
    let mut note = entry("north-police", "n1", "2007-01-03");
    note["recorded_at"] = "2007-01-03T17:00:00Z".into();
    note["persons"][0]["record"] = json!({"local_id": "C2",
        "name": {"given": ["Kim"], "family": "Other"}, "date_of_birth": "2005-01-01"});
    append(store, vec![discussion, note]);
    let waiting = person_of(store, "north-childrens-services", "C1");
    let tick = |day: NaiveDate| store.tick(&actor(), &book, day, |_, _| {}).unwrap();
    let open = |person| {
        let mut rules: Vec<String> = store
            .flags(person)
            .unwrap()
            .into_iter()
            .map(|f| f.flag.rule)
            .collect();
        rules.sort();
        rules
    };
    let full = |person, day| {
        let mut rules: Vec<String> = book
            .evaluate(&store.child(person).unwrap().unwrap(), day)
            .unwrap()
            .into_iter()
            .map(|f| f.rule)
            .collect();
        rules.sort();
        rules
    };

    assert_eq!(
        tick(day(2007, 1, 4)).children,
        2,
        "the first pass: every child"
    );
    if store.engine_name() == "sqlite" {
        let sampled = store
            .bare_read(|sql| {
                sql.query(
                    "SELECT tbl FROM sqlite_stat1 WHERE tbl = 'involvements'",
                    &[],
                )
            })
            .unwrap();
        assert!(
            !sampled.is_empty(),
            "the tick refreshed the planner's statistics"
        );
    }
    assert_eq!(
        tick(day(2007, 1, 4)).children,
        0,
        "again the same day: nothing"
    );
    assert_eq!(open(waiting), full(waiting, day(2007, 1, 4)));

    let later = tick(day(2007, 1, 24));
    assert_eq!(
        later.children, 1,
        "the child whose clock ran on, not the other"
    );
    assert!(later.raised >= 1);
    assert!(open(waiting).contains(&"statutory_timescale_missed".to_owned()));
    assert_eq!(open(waiting), full(waiting, day(2007, 1, 24)));
    assert_eq!(tick(day(2007, 1, 24)).children, 0);

    let gone_by = tick(day(2007, 1, 5));
    assert_eq!(gone_by.children, 1, "flags worked out for a later day");
    assert_eq!(open(waiting), full(waiting, day(2007, 1, 5)));

    let mut other_book = book.clone();
    other_book
        .rules
        .retain(|r| r.id != "statutory_timescale_missed");
    let all = store
        .tick(&actor(), &other_book, day(2007, 1, 5), |_, _| {})
        .unwrap();
    assert_eq!(all.children, 2, "another rule book: every child");
}

pub fn a_caseload_lists_each_workers_children_and_the_held_children_nobody_has(store: &TestStore) {
    use safeguard_core::access::Role;
    use safeguard_core::rules::RuleBook;
    // Two children recorded by the hospital, which therefore holds both.
    // Sam, six months old, bruised: a concern for any agency.
    let mut injury = entry("north-hospital", "i1", "2006-12-11");
    injury["recorded_at"] = "2006-12-11T12:00:00Z".into();
    injury["details"] =
        json!({"kind": "injury_observed", "body_site": "left ear", "injury_type": "bruise"});
    let mut kit = entry("north-hospital", "k1", "2007-01-10");
    kit["recorded_at"] = "2007-01-10T12:00:00Z".into();
    kit["persons"][0] = json!({"role": "subject_child", "record": {"local_id": "K1",
        "name": {"given": ["Kit"], "family": "Example"}, "date_of_birth": "2005-01-09"}});
    let book = RuleBook::shipped();
    store
        .append_and_refresh(
            &actor(),
            &[parse(injury), parse(kit)],
            &book,
            day(2007, 7, 1),
        )
        .unwrap();
    let sam = person_of(store, "north-hospital", "C1");
    let kit = person_of(store, "north-hospital", "K1");
    let hospital = agency_id("north-hospital");
    for (id, name, roles) in [
        ("nurse", "A Nurse", vec![Role::Practitioner]),
        ("manager", "The Manager", vec![Role::TeamManager]),
        ("clerk", "A Clerk", vec![Role::Auditor]),
    ] {
        store
            .add_user(id, &hospital, name, &roles, PASSWORD)
            .unwrap();
    }
    store.allocate(sam, "nurse", true).unwrap();

    let caseload = store.caseload(&hospital).unwrap();

    let workers: Vec<(&str, &[safeguard_core::PersonId])> = caseload
        .workers
        .iter()
        .map(|w| (w.name.as_str(), w.children.as_slice()))
        .collect();
    assert_eq!(
        workers,
        vec![("A Nurse", &[sam][..]), ("The Manager", &[][..])],
        "those who work cases, by name; not the auditor"
    );
    assert_eq!(
        caseload.unallocated,
        vec![kit],
        "held, and nobody allocated"
    );
    let open = store.flags(sam).unwrap();
    assert!(
        open.iter()
            .any(|f| f.flag.rule == "injury_to_non_mobile_baby"),
        "{open:?}"
    );
    assert_eq!(
        caseload
            .flags
            .iter()
            .filter(|(child, _)| *child == sam)
            .count(),
        open.len(),
        "every concern open on the worker's child"
    );
    let per_child: Vec<_> = caseload
        .flags
        .iter()
        .filter(|(child, _)| *child == sam)
        .map(|(_, f)| f.clone())
        .collect();
    assert_eq!(
        per_child, open,
        "the same flags, in the same order, as one child's read"
    );
    let unknown = safeguard_core::PersonId(uuid::Uuid::from_u128(7));
    let named: Vec<_> = store
        .persons(&[kit, unknown, sam])
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        named,
        [kit, sam],
        "in the order asked, the unknown left out"
    );
    let allocations = store.allocations(sam).unwrap();
    assert_eq!(allocations.len(), 1);
    assert!(allocations[0].lead && allocations[0].name == "A Nurse");
    assert!(
        store
            .caseload(&agency_id("north-police"))
            .unwrap()
            .unallocated
            .is_empty(),
        "another agency holds neither child"
    );
}

pub fn a_person_chosen_on_a_form_is_the_person_the_entry_names(store: &TestStore) {
    use safeguard_core::rules::RuleBook;
    use safeguard_store::KnownParticipant;
    let book = RuleBook::shipped();
    append(store, vec![entry("north-hospital", "h1", "2006-12-11")]);
    let sam = person_of(store, "north-hospital", "C1");
    // The police officer picks Sam from the household. Their form names the child only as
    // "Sammy": alone, linkage could not say who that is.
    let form_entry = |source_id: &str, local_id: &str| {
        let mut e = entry("north-police", source_id, "2007-01-02");
        e["source"]["system"] = "safeguard-web".into();
        e["persons"] = json!([{"role": "subject_child",
            "record": {"local_id": local_id, "name": {"given": ["Sammy"]}}}]);
        parse(e)
    };
    let known = |local_id: &str, person: PersonId| {
        vec![KnownParticipant {
            local_id: local_id.to_owned(),
            person,
        }]
    };
    let local = sam.to_string();
    for source_id in ["f1", "f2"] {
        store
            .append_known_and_refresh(
                &actor(),
                &[form_entry(source_id, &local)],
                &known(&local, sam),
                &book,
                day(2007, 1, 3),
            )
            .unwrap();
    }
    let chronology = store.chronology(sam, &ChronologyQuery::default()).unwrap();
    assert_eq!(
        chronology.entries.len(),
        3,
        "both forms are in Sam's chronology"
    );
    let police_records = store
        .person(sam)
        .unwrap()
        .unwrap()
        .records
        .iter()
        .filter(|r| r.agency.as_str() == "north-police")
        .count();
    assert_eq!(police_records, 1, "the second form reuses the record");

    let entries_before = store.entry_count().unwrap();
    let nobody = PersonId(uuid::Uuid::now_v7());
    let err = store
        .append_known_and_refresh(
            &actor(),
            &[form_entry("f3", &nobody.to_string())],
            &known(&nobody.to_string(), nobody),
            &book,
            day(2007, 1, 3),
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { error, .. } if error.field == "persons[0].record.local_id"),
        "{err:?}"
    );
    // The record the police hold for Sam cannot be claimed for another person.
    append(store, vec![entry("north-police", "p1", "2007-01-04")]);
    let mut other = entry("north-police", "p2", "2007-01-04");
    other["persons"][0]["record"] = json!({"local_id": "K9", "name": {"given": ["Kit"], "family": "Other"}, "date_of_birth": "2001-03-03"});
    append(store, vec![other]);
    let kit = person_of_name(store, "other");
    let err = store
        .append_known_and_refresh(
            &actor(),
            &[form_entry("f4", &local)],
            &known(&local, kit),
            &book,
            day(2007, 1, 5),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(
        store.entry_count().unwrap(),
        entries_before + 2,
        "nothing of a refused form is stored"
    );
}

fn person_of_name(store: &TestStore, name: &str) -> PersonId {
    store.search_persons(name, 5).unwrap()[0].id
}

pub fn acting_on_a_concern_is_kept_audited_and_refused_when_it_is_not_the_records(
    store: &TestStore,
) {
    use safeguard_core::access::Role;
    use safeguard_store::flag_actions::FlagAction;
    let book = safeguard_core::rules::RuleBook::shipped();
    let mut injury = entry("north-hospital", "h1", "2006-12-11");
    injury["details"] =
        json!({"kind": "injury_observed", "body_site": "face", "injury_type": "bruise"});
    append(
        store,
        vec![injury, entry("north-hospital", "other", "2007-01-01")],
    );
    let child = person_of(store, "north-hospital", "C1");
    store
        .refresh_flags(&actor(), child, &book, day(2007, 12, 31))
        .unwrap();
    let key = store.flags(child).unwrap()[0].flag.key();
    let hospital = agency_id("north-hospital");
    let police = agency_id("north-police");
    for (id, agency) in [("doctor", &hospital), ("nurse", &hospital), ("pc", &police)] {
        store
            .add_user(
                id,
                agency,
                &format!("Worker {id}"),
                &[Role::Practitioner],
                PASSWORD,
            )
            .unwrap();
    }
    let doctor = Actor::user("doctor", &hospital, "team_manager");
    let acknowledge = |reason: &str| FlagAction::Acknowledge {
        reason: reason.to_owned(),
    };

    let done = store
        .act_on_flag(
            &doctor,
            &hospital,
            child,
            &key,
            &acknowledge("Seen at the strategy discussion; skeletal survey booked."),
        )
        .unwrap();
    assert_eq!(done.action, "acknowledged");
    assert_eq!(done.user_name, "Worker doctor");
    let assigned = store
        .act_on_flag(
            &doctor,
            &hospital,
            child,
            &key,
            &FlagAction::Assign { to: "nurse".into() },
        )
        .unwrap();
    assert_eq!(assigned.assignee_name.as_deref(), Some("Worker nurse"));
    let kept = store.flag_actions(child).unwrap();
    assert_eq!(kept, vec![done, assigned], "oldest first");

    // Refused, and nothing written: a worker of another agency, a disabled one, an unknown
    // concern, a reason that says nothing.
    let refused = [
        store.act_on_flag(
            &doctor,
            &hospital,
            child,
            &key,
            &FlagAction::Assign { to: "pc".into() },
        ),
        store.act_on_flag(
            &doctor,
            &hospital,
            child,
            "no-such-key",
            &acknowledge("Seen and discussed with the team."),
        ),
        store.act_on_flag(
            &doctor,
            &hospital,
            child,
            &key,
            &acknowledge("aaaaaaaaaaaa"),
        ),
    ];
    let fields: Vec<String> = refused
        .into_iter()
        .map(|r| match r {
            Err(StoreError::Invalid { error, .. }) => error.field,
            other => panic!("not refused: {other:?}"),
        })
        .collect();
    assert_eq!(fields, ["assignee", "flag", "reason"]);
    store
        .add_user("checker", &hospital, "Checker", &[Role::Auditor], PASSWORD)
        .unwrap();
    assert!(
        store
            .act_on_flag(
                &doctor,
                &hospital,
                child,
                &key,
                &FlagAction::Assign {
                    to: "checker".into()
                }
            )
            .is_err(),
        "an auditor works no cases"
    );
    store.set_user_disabled("nurse", true).unwrap();
    assert!(
        store
            .act_on_flag(
                &doctor,
                &hospital,
                child,
                &key,
                &FlagAction::Assign { to: "nurse".into() }
            )
            .is_err(),
        "a disabled worker"
    );
    // Another child's concern is not this child's: the key is looked up on this record.
    let mut sibling = entry("north-hospital", "h2", "2007-02-01");
    sibling["persons"][0]["record"] = json!({"local_id": "C2",
        "name": {"given": ["Jo"], "family": "Example"}, "date_of_birth": "2007-01-20"});
    sibling["details"] =
        json!({"kind": "injury_observed", "body_site": "arm", "injury_type": "fracture"});
    append(store, vec![sibling]);
    let second = person_of(store, "north-hospital", "C2");
    store
        .refresh_flags(&actor(), second, &book, day(2007, 12, 31))
        .unwrap();
    let their_key = store.flags(second).unwrap()[0].flag.key();
    assert_ne!(their_key, key);
    assert!(matches!(
        store.act_on_flag(
            &doctor,
            &hospital,
            child,
            &their_key,
            &acknowledge("Seen and discussed with the team.")
        ),
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(
        store.flag_actions(child).unwrap().len(),
        2,
        "nothing written"
    );
    assert!(store.flag_actions(second).unwrap().is_empty());

    let log: Vec<(String, Option<String>)> = store
        .access_log(&child.to_string())
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("flag_a"))
        .map(|e| (e.action, e.reason))
        .collect();
    assert_eq!(
        log,
        [
            (
                "flag_assigned".to_owned(),
                Some(format!("injury_to_non_mobile_baby ({key}) to nurse"))
            ),
            (
                "flag_acknowledged".to_owned(),
                Some(format!(
                    "injury_to_non_mobile_baby ({key}): Seen at the strategy discussion; skeletal survey booked."
                ))
            ),
        ],
        "newest first"
    );
    assert!(store.verify_audit().unwrap().is_ok());
}

pub fn a_practice_review_opens_with_the_local_authoritys_notification_and_closes_when_ruled_out(
    store: &TestStore,
) {
    let incident = |agency: &str, id: &str, day: &str, details: Value| {
        let mut e = entry(agency, id, day);
        e["details"] = details;
        e
    };
    append(
        store,
        vec![
            entry("north-hospital", "h1", "2007-01-01"),
            child_entry("x1", "K1", ("Kit", "Stranger"), "2004-02-02", "E5 9QT"),
        ],
    );
    let child = person_of(store, "north-hospital", "C1");
    let parent = person_of(store, "north-hospital", "M1");
    let stranger = person_of_name(store, "stranger");
    let under_review = |person| {
        store
            .read_standing(person, None)
            .unwrap()
            .involvement
            .under_review
    };
    let open = || under_review(child);
    append(
        store,
        vec![incident(
            "north-hospital",
            "h2",
            "2007-08-04",
            json!({"kind": "serious_incident", "stage": "notified"}),
        )],
    );
    assert!(!open(), "another agency's word opens no review");
    assert!(store.children_under_review().unwrap().is_empty());
    append(
        store,
        vec![incident(
            "north-childrens-services",
            "s1",
            "2007-08-06",
            json!({"kind": "serious_incident", "stage": "notified"}),
        )],
    );
    assert!(open());
    assert!(
        under_review(parent),
        "the people in the child's record are the review's too"
    );
    assert!(!under_review(stranger), "and nobody else");
    let listed = store.children_under_review().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].person, child);
    assert_eq!(listed[0].stage, safeguard_core::IncidentStage::Notified);
    append(
        store,
        vec![incident(
            "north-childrens-services",
            "s2",
            "2007-08-20",
            json!({"kind": "serious_incident", "stage": "rapid_review", "local_review": false}),
        )],
    );
    assert!(!open(), "the rapid review ruled a local review out");
    assert!(!under_review(parent));
    assert!(store.children_under_review().unwrap().is_empty());
}

pub fn an_entry_sent_again_with_other_content_is_found_before_anything_is_written(
    store: &TestStore,
) {
    append(store, vec![entry("north-hospital", "h1", "2007-01-01")]);
    let same = parse(entry("north-hospital", "h1", "2007-01-01"));
    let mut other = entry("north-hospital", "h1", "2007-01-01");
    other["summary"] = "entry h1, corrected".into();
    let new = parse(entry("north-hospital", "h2", "2007-01-02"));
    let before = store.entry_count().unwrap();
    let changed = store.changed_resends(&[same, parse(other), new]).unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].0, 1);
    assert_eq!(changed[0].1.field, "summary");
    assert_eq!(store.entry_count().unwrap(), before, "nothing written");
}

/// An import's single transaction, past the point where the append refreshes statistics
/// (ANALYZE within the transaction, on both engines): everything is stored, once.
pub fn a_large_append_in_one_transaction_refreshes_the_planners_statistics_and_stores_all(
    store: &TestStore,
) {
    let entries: Vec<Entry> = (0..2_050)
        .map(|i| parse(entry("north-hospital", &format!("bulk-{i}"), "2007-01-01")))
        .collect();
    let appended = store.append(&actor(), &entries).expect("append");
    assert_eq!(appended.len(), 2_050);
    assert!(appended.iter().all(|a| a.outcome == Outcome::Created));
    assert_eq!(store.entry_count().unwrap(), 2_050);
    let again = store.append(&actor(), &entries).expect("append again");
    assert!(again.iter().all(|a| a.outcome == Outcome::AlreadyRecorded));
}

/// A child of `agency` named `given family`, born `born`, living at `postcode`.
fn child_entry(
    source_id: &str,
    local_id: &str,
    name: (&str, &str),
    born: &str,
    postcode: &str,
) -> Value {
    let mut e = entry("north-childrens-services", source_id, "2007-01-10");
    e["persons"] = json!([{"role": "subject_child", "record": {
        "local_id": local_id, "name": {"given": [name.0], "family": name.1},
        "date_of_birth": born,
        "addresses": [{"lines": ["1 Example Road"], "postcode": postcode}]}}]);
    e
}

pub fn search_forgives_typos_nicknames_name_order_typed_dates_and_partial_postcodes(
    store: &TestStore,
) {
    // Arrange: Joshua Reeve, his sister, a namesake elsewhere, a boy of the same birthday.
    append(
        store,
        vec![
            child_entry("s1", "J1", ("Joshua", "Reeve"), "2006-06-14", "N17 6AA"),
            child_entry("s2", "J2", ("Jessica", "Reeve"), "2008-02-01", "N17 6AA"),
            child_entry("s3", "J3", ("Joshua", "Rivers"), "2006-06-14", "E5 9QT"),
            child_entry("s4", "J4", ("Samuel", "Oakes"), "2006-06-14", "N17 7BB"),
        ],
    );
    let joshua = person_of_name(store, "Joshua Reeve");
    let names = |q: &str| -> Vec<String> {
        store
            .search_persons(q, 10)
            .unwrap()
            .iter()
            .map(|p| {
                let name = &p.records[0].record.name;
                format!(
                    "{} {}",
                    name.given.join(" "),
                    name.family.as_deref().unwrap_or("")
                )
            })
            .collect()
    };

    // Act and assert: each way of typing him finds him first.
    for typed in [
        "Joshua Reeve",
        "Josua Reev",
        "Reeve Joshua",
        "Josh Reeve",
        "Joshua Reve",
        "Jsohua Reeve",
        "jos reev",
        "Reeve 14/6/2006",
        "reeve 14 June 2006",
        "Joshua N17",
        "joshua n17 6",
    ] {
        let found = store.search_persons(typed, 10).unwrap();
        assert_eq!(
            found.first().map(|p| p.id),
            Some(joshua),
            "{typed}: {:?}",
            names(typed)
        );
    }
    // The household by its surname and postcode; his sister by her name, not by his.
    assert_eq!(names("Reeve N176AA"), vec!["Jessica Reeve", "Joshua Reeve"]);
    assert_eq!(names("Jess Reeve"), vec!["Jessica Reeve"]);
    assert!(!names("Josua Reev").contains(&"Jessica Reeve".to_owned()));
    // The typed date narrows: another day of birth is not him.
    assert!(names("Reeve 15/6/2006").is_empty());
    assert_eq!(names("14/6/2006 N17").len(), 2, "Joshua and Samuel");
    // A district that is not his, and a name nobody has.
    assert!(names("Joshua E17").is_empty());
    assert!(names("Zebedee").is_empty());
    // Of two Joshuas born that day, the typed surname ranks.
    assert_eq!(
        names("Joshua Rivers 14/6/2006").first().map(String::as_str),
        Some("Joshua Rivers")
    );

    // A record renamed by its agency is found by its new name, not its old.
    let mut renamed = child_entry("s5", "J4", ("Samuel", "Oakley"), "2006-06-14", "N17 7BB");
    renamed["recorded_at"] = "2008-01-02T12:00:00Z".into();
    append(store, vec![renamed]);
    assert_eq!(names("Sam Oakley"), vec!["Samuel Oakley"]);
    assert!(names("Oakes").is_empty());

    // Records stored before search had its keys get them when the store is next opened.
    store
        .bare_write(|sql| {
            sql.execute("DELETE FROM person_search_keys", &[])?;
            sql.execute(
                "INSERT INTO person_search_backfill (pending) VALUES (1)",
                &[],
            )
        })
        .unwrap();
    assert!(names("Josua Reev").is_empty());
    let reopened = store.reopen();
    assert_eq!(
        reopened.search_persons("Josua Reev", 10).unwrap()[0].id,
        joshua
    );
}
