//! The demo: a synthetic case modelled on the pattern the published Serious Case Reviews
//! describe, and a deterministic synthetic background population. Nothing here is real: names
//! are invented, postcodes use the non-existent `NB` area, NHS numbers are in the 999 range
//! that the NHS never issues.

mod case;
mod population;

use safeguard_core::access::Role;
use safeguard_core::{Agency, AgencyId, AgencyKind, NhsNumber, PersonId};
use safeguard_store::{Actor, Store};

pub use case::{CHILD_NHS_NUMBER, case_entries};
pub use population::{Population, population_entries};

/// The agencies of the demo area.
pub fn agencies() -> Vec<Agency> {
    [
        (
            "northbury-childrens-services",
            "Northbury Children's Services",
            AgencyKind::SocialCare,
        ),
        (
            "northbury-police",
            "Northbury Police Child Abuse Investigation Team",
            AgencyKind::Police,
        ),
        ("elm-road-surgery", "Elm Road Surgery", AgencyKind::Gp),
        (
            "north-general-hospital",
            "North General Hospital",
            AgencyKind::Hospital,
        ),
        (
            "st-annes-hospital",
            "St Anne's Hospital",
            AgencyKind::Hospital,
        ),
        (
            "northbury-health-visiting",
            "Northbury Health Visiting Service",
            AgencyKind::HealthVisiting,
        ),
        (
            "family-support-project",
            "Northbury Family Support Project",
            AgencyKind::Voluntary,
        ),
        (
            "northbury-legal",
            "Northbury Council Legal Services",
            AgencyKind::Legal,
        ),
        (
            "northbury-schools",
            "Northbury Schools",
            AgencyKind::Education,
        ),
    ]
    .into_iter()
    .map(|(id, name, kind)| Agency {
        id: AgencyId::parse(id).expect("demo agency ids are valid"),
        name: name.to_owned(),
        kind,
    })
    .collect()
}

/// An NHS number from the 999 range (never issued to a patient): `999` then six digits taken
/// from `seed`, then the check digit. Seeds whose number would have no check digit move on.
pub fn synthetic_nhs_number(seed: u64) -> NhsNumber {
    (0..11)
        .find_map(|step| {
            let stem = format!("999{:06}", (seed + step) % 1_000_000);
            let digits: Vec<u8> = stem.bytes().map(|b| b - b'0').collect();
            let check = safeguard_core::check_digit(&digits)?;
            NhsNumber::parse(&format!("{stem}{check}")).ok()
        })
        .expect("of any two consecutive stems, at least one has a check digit")
}

/// The password of every demo user (printed by `safeguard demo`; demo data only).
pub const DEMO_PASSWORD: &str = "safeguard-demo-2007";

/// The demo user for a role in an agency.
pub fn demo_user(role: Role, agency: &AgencyId) -> String {
    format!("{}@{agency}", role.as_str())
}

/// The demo child's lead professional.
pub fn lead_professional() -> String {
    demo_user(
        Role::Practitioner,
        &AgencyId::parse("northbury-childrens-services").expect("valid"),
    )
}

/// Adds a user per role and agency (those missing), and makes the children's services
/// practitioner the demo child's lead professional.
fn seed_users(store: &Store, child: PersonId) -> anyhow::Result<()> {
    use anyhow::Context;
    for agency in agencies() {
        for role in Role::ALL {
            let id = demo_user(role, &agency.id);
            if store.user(&id)?.is_none() {
                let name = format!("{} ({})", role.as_str().replace('_', " "), agency.name);
                store
                    .add_user(&id, &agency.id, &name, &[role], DEMO_PASSWORD)
                    .with_context(|| format!("failed to add demo user {id}"))?;
            }
        }
    }
    store.allocate(child, &lead_professional(), true)?;
    Ok(())
}

/// Seeds the store with the demo agencies, the case, the background population and the demo
/// users, showing progress. Safe to run again: every entry is re-sent with the same provenance,
/// so nothing is duplicated. Returns the demo child's person id.
pub fn seed(store: &Store, population: &Population) -> anyhow::Result<PersonId> {
    use anyhow::Context;
    for agency in agencies() {
        store
            .put_agency(&agency)
            .context("failed to register the demo agencies")?;
    }
    let actor = Actor::system("demo-seed");
    store
        .append(&actor, &case_entries())
        .context("failed to store the demo case")?;
    confirm_identities(store)?;
    let entries = population_entries(population);
    let bar = indicatif::ProgressBar::new(entries.len() as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>24} [{bar:40}] {pos}/{len} entries ({per_sec}, {eta} left)",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message("background population");
    for batch in entries.chunks(500) {
        store
            .append(&actor, batch)
            .context("failed to store the background population")?;
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    store
        .analyze()
        .context("failed to refresh planner statistics")?;
    crate::link::relink_store(
        store,
        &safeguard_core::rules::RuleBook::shipped(),
        chrono::Local::now().date_naive(),
    )?;
    let child = demo_child(store)?.context("the demo child is missing after seeding")?;
    seed_users(store, child)?;
    confirm_involvements(store, child)?;
    crate::replay::rerun(
        store,
        &safeguard_core::rules::RuleBook::shipped(),
        chrono::Local::now().date_naive(),
        &actor,
    )?;
    Ok(child)
}

/// Confirms, as the lead professional would on reading each agency's first entry, every
/// agency that asked to be involved with the demo child or the people in the child's
/// chronology: the case's agencies all work with the family.
fn confirm_involvements(store: &Store, child: PersonId) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut people = std::collections::BTreeSet::from([child]);
    let mut query = safeguard_store::ChronologyQuery {
        limit: safeguard_store::MAX_PAGE,
        ..Default::default()
    };
    loop {
        let page = store.chronology(child, &query)?;
        people.extend(
            page.entries
                .iter()
                .flat_map(|e| e.person_ids.iter().copied()),
        );
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    let lead = store
        .user(&lead_professional())?
        .context("the demo lead professional is missing")?
        .actor();
    for request in store.pending_involvements(None)? {
        if people.contains(&request.person) {
            store.decide_involvement(
                &lead,
                request.person,
                &request.agency,
                true,
                "Demo: this agency works with the family, confirmed on reading its entry",
            )?;
        }
    }
    Ok(())
}

/// The identities a review would establish in the demo case, as a reviewer confirms them in
/// the review queue: "Dan" (children's services, family support), "Danny Marsh" (police) and
/// "Daniel Marsh" (hospital) are one man, and the family support project's records (no dates
/// of birth) are the child's and the mother's. Each pair must have been proposed by the
/// linkage engine, so the demo fails loudly if the engine stops finding Mr H. Lee Marsh's
/// records are left in the queue for a demo user to decide.
fn confirm_identities(store: &Store) -> anyhow::Result<()> {
    use anyhow::Context;
    use safeguard_store::linkage::{LinkDecision, Verdict};
    const SC: (&str, &str) = ("northbury-childrens-services", "carefirst");
    const POLICE: (&str, &str) = ("northbury-police", "niche");
    const SAH: (&str, &str) = ("st-annes-hospital", "pas-sah");
    const FSP: (&str, &str) = ("family-support-project", "fsp-notes");
    let same = [
        (
            (FSP, "FSP-0191"),
            (SC, "SC-4412"),
            "Kerry Reeve at 14 Ashdown Road, with the same telephone number.",
        ),
        (
            (FSP, "FSP-0192"),
            (SC, "SC-4411"),
            "Josh is Joshua Reeve, at 14 Ashdown Road with his mother.",
        ),
        (
            (SC, "SC-5120"),
            (POLICE, "PER-90377"),
            "The mother named her partner as Dan; police found Danny Marsh at her home, saying he was her boyfriend and lived there.",
        ),
        (
            (POLICE, "PER-90377"),
            (SAH, "SAH-778122"),
            "Danny is Daniel: both with Kerry Reeve as her boyfriend, both at Flat 6, Carlow House.",
        ),
        // Proposed once the project's records of the mother are hers: then its "Dan" keeps
        // known company.
        (
            (FSP, "FSP-0207"),
            (SC, "SC-5120"),
            "The family support worker's Dan is the Dan the mother named to children's services.",
        ),
    ];
    let reviewer = Actor::system("demo-review-panel");
    for (((agency_a, system_a), a), ((agency_b, system_b), b), reason) in same {
        let find = |agency, system, id| {
            store
                .find_record(agency, system, id)?
                .with_context(|| format!("demo record {id} is missing"))
        };
        let (ra, person_a) = find(agency_a, system_a, a)?;
        let (_, person_b) = find(agency_b, system_b, b)?;
        if person_a == person_b {
            continue; // seeded before
        }
        // The engine proposes one pair per person: `a` against whichever of the person's
        // records matched best. The reviewer decides the pair proposed.
        let proposed = store
            .link_reviews_of(ra)?
            .into_iter()
            .find(|r| r.a.person == person_b || r.b.person == person_b);
        let (ra, rb) = match proposed {
            Some(r) => (r.a.record, r.b.record),
            None => anyhow::bail!("the linkage engine did not propose {a} and {b} for review"),
        };
        store.decide_link(
            &reviewer,
            &LinkDecision {
                a: ra,
                b: rb,
                verdict: Verdict::SamePerson,
                reason: reason.to_owned(),
            },
            &safeguard_core::rules::RuleBook::shipped(),
            chrono::Local::now().date_naive(),
        )?;
    }
    Ok(())
}

/// The demo child's person, found by the NHS number on their records.
pub fn demo_child(store: &Store) -> anyhow::Result<Option<PersonId>> {
    let found = store.search_persons(CHILD_NHS_NUMBER, 1)?;
    Ok(found.first().map(|p| p.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_nhs_numbers_are_valid_and_in_the_999_range() {
        for seed in 0..200 {
            let n = synthetic_nhs_number(seed * 7919);
            assert!(n.as_str().starts_with("999"), "{n}");
        }
    }
}
