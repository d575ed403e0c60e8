//! Households over time. Who lives with a child on a date is never typed in: it is derived from
//! residences and relationships that entries state, each with its validity and evidence strength.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{Address, EntryId, PersonId};

/// How well a fact is established. Ordered: claimed < observed < verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EvidenceStrength {
    /// Someone said so.
    Claimed,
    /// A professional saw it.
    Observed,
    /// Checked against an authoritative source (tenancy, benefits, police records).
    Verified,
}

impl EvidenceStrength {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceStrength::Claimed => "claimed",
            EvidenceStrength::Observed => "observed",
            EvidenceStrength::Verified => "verified",
        }
    }

    /// The strength with this stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Claimed, Self::Observed, Self::Verified]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// How one person stands to another: `person` is the `kind` of `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RelationshipKind {
    /// Mother of.
    Mother,
    /// Father of.
    Father,
    /// Step-parent of.
    StepParent,
    /// Grandparent of.
    Grandparent,
    /// Sibling of.
    Sibling,
    /// Partner of (an intimate relationship).
    Partner,
    /// Friend of.
    Friend,
    /// Brother or sister of an adult (uncle or aunt of the child is derived, not typed).
    AdultSibling,
    /// Any other relationship.
    Other,
}

impl RelationshipKind {
    /// Every kind.
    pub const ALL: [RelationshipKind; 9] = [
        RelationshipKind::Mother,
        RelationshipKind::Father,
        RelationshipKind::StepParent,
        RelationshipKind::Grandparent,
        RelationshipKind::Sibling,
        RelationshipKind::Partner,
        RelationshipKind::Friend,
        RelationshipKind::AdultSibling,
        RelationshipKind::Other,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RelationshipKind::Mother => "mother",
            RelationshipKind::Father => "father",
            RelationshipKind::StepParent => "step_parent",
            RelationshipKind::Grandparent => "grandparent",
            RelationshipKind::Sibling => "sibling",
            RelationshipKind::Partner => "partner",
            RelationshipKind::Friend => "friend",
            RelationshipKind::AdultSibling => "adult_sibling",
            RelationshipKind::Other => "other",
        }
    }

    /// The kind with this stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A period of days, both ends included; an open end means "still holds".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Validity {
    /// First day.
    pub from: NaiveDate,
    /// Last day, if it has ended.
    pub to: Option<NaiveDate>,
}

impl Validity {
    /// Whether the period includes `date`.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}

/// A stated residence, resolved to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Residence {
    /// Who lived there.
    pub person: PersonId,
    /// Where.
    pub address: Address,
    /// When.
    pub validity: Validity,
    /// How well it is known.
    pub strength: EvidenceStrength,
    /// The entry that stated it.
    pub entry: EntryId,
}

/// A stated relationship, resolved to persons: `person` is the `kind` of `other`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Relationship {
    /// The first person.
    pub person: PersonId,
    /// What they are to the other.
    pub kind: RelationshipKind,
    /// The other person.
    pub other: PersonId,
    /// When.
    pub validity: Validity,
    /// How well it is known.
    pub strength: EvidenceStrength,
    /// The entry that stated it.
    pub entry: EntryId,
}

/// An address a person lived at on a date, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdAddress {
    /// The address as first stated.
    pub address: Address,
    /// The strongest evidence that the subject lived there on the date.
    pub strength: EvidenceStrength,
    /// The entries stating it.
    pub entries: Vec<EntryId>,
}

/// Someone who lived at one of the subject's addresses on the date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdMember {
    /// Who.
    pub person: PersonId,
    /// The strongest evidence that they lived there on the date.
    pub strength: EvidenceStrength,
    /// What they are to the subject, as stated on the date (`partner` of the mother is the
    /// mother's, not listed here).
    pub relationships_to_subject: Vec<RelationshipKind>,
    /// The entries behind their residence and relationships.
    pub entries: Vec<EntryId>,
}

/// Who lived with a person on a date, and the relationships in force around them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Household {
    /// The subject.
    pub subject: PersonId,
    /// The date.
    pub date: NaiveDate,
    /// Where the subject lived on the date (more than one when evidence disagrees).
    pub addresses: Vec<HouseholdAddress>,
    /// Everyone else living at those addresses on the date.
    pub members: Vec<HouseholdMember>,
    /// Relationships in force on the date between the subject or a member and anyone.
    pub relationships: Vec<Relationship>,
    /// People seen with the subject in the weeks up to the date, whether or not they live there.
    pub around: Vec<AroundPerson>,
}

/// Someone recorded with a person at an entry: present, in a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Presence {
    /// Who was there.
    pub person: PersonId,
    /// Their part in the entry.
    pub role: crate::ParticipantRole,
    /// The day of the entry.
    pub date: NaiveDate,
    /// The entry.
    pub entry: EntryId,
}

/// Someone seen with the subject, and the evidence: the entries that recorded them there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AroundPerson {
    /// Who.
    pub person: PersonId,
    /// The parts they were recorded in.
    pub roles: Vec<crate::ParticipantRole>,
    /// The first and last days they were seen in the window.
    pub first_seen: NaiveDate,
    /// The last day they were seen in the window.
    pub last_seen: NaiveDate,
    /// Whether they also live with the subject on the date.
    pub lives_here: bool,
    /// A professional recorded them: observed, not merely claimed.
    pub strength: EvidenceStrength,
    /// The entries that recorded them.
    pub entries: Vec<EntryId>,
}

/// Adds to a household everyone seen with its subject in the `window_days` days up to its date.
/// Professionals and reporters are not "around" the child.
pub fn with_people_around(
    mut household: Household,
    presences: &[Presence],
    window_days: i64,
) -> Household {
    use crate::ParticipantRole::{Carer, OtherAdultPresent, OtherChild, Parent};
    let from = household.date - chrono::Duration::days(window_days);
    let mut around: BTreeMap<PersonId, AroundPerson> = BTreeMap::new();
    let mut seen: Vec<&Presence> = presences
        .iter()
        .filter(|p| p.person != household.subject && from <= p.date && p.date <= household.date)
        .filter(|p| matches!(p.role, Parent | Carer | OtherAdultPresent | OtherChild))
        .collect();
    seen.sort_by_key(|p| p.date);
    for p in seen {
        let lives_here = household.members.iter().any(|m| m.person == p.person);
        let a = around.entry(p.person).or_insert_with(|| AroundPerson {
            person: p.person,
            roles: Vec::new(),
            first_seen: p.date,
            last_seen: p.date,
            lives_here,
            strength: EvidenceStrength::Observed,
            entries: Vec::new(),
        });
        a.last_seen = p.date;
        push_unique(&mut a.roles, p.role);
        push_unique(&mut a.entries, p.entry);
    }
    household.around = around.into_values().collect();
    household
}

/// Derives the household of `subject` on `date` from residences and relationships.
///
/// `residences` must include the subject's residences and those of everyone at the same
/// addresses; extra facts are ignored. Facts not in force on `date` count for nothing.
pub fn household_at(
    subject: PersonId,
    date: NaiveDate,
    residences: &[Residence],
    relationships: &[Relationship],
) -> Household {
    let in_force: Vec<&Residence> = residences
        .iter()
        .filter(|r| r.validity.contains(date))
        .collect();

    let mut addresses: BTreeMap<String, HouseholdAddress> = BTreeMap::new();
    for r in in_force.iter().filter(|r| r.person == subject) {
        let a = addresses
            .entry(r.address.key())
            .or_insert_with(|| HouseholdAddress {
                address: r.address.clone(),
                strength: r.strength,
                entries: Vec::new(),
            });
        a.strength = a.strength.max(r.strength);
        push_unique(&mut a.entries, r.entry);
    }

    let mut members: BTreeMap<PersonId, HouseholdMember> = BTreeMap::new();
    for r in in_force
        .iter()
        .filter(|r| r.person != subject && addresses.contains_key(&r.address.key()))
    {
        let m = members.entry(r.person).or_insert_with(|| HouseholdMember {
            person: r.person,
            strength: r.strength,
            relationships_to_subject: Vec::new(),
            entries: Vec::new(),
        });
        m.strength = m.strength.max(r.strength);
        push_unique(&mut m.entries, r.entry);
    }

    let relationships: Vec<Relationship> = relationships
        .iter()
        .filter(|r| r.validity.contains(date))
        .filter(|r| {
            let involved = |p: PersonId| p == subject || members.contains_key(&p);
            involved(r.person) || involved(r.other)
        })
        .cloned()
        .collect();
    for r in &relationships {
        if r.other == subject
            && let Some(m) = members.get_mut(&r.person)
        {
            if !m.relationships_to_subject.contains(&r.kind) {
                m.relationships_to_subject.push(r.kind);
            }
            push_unique(&mut m.entries, r.entry);
        }
    }

    Household {
        subject,
        date,
        addresses: addresses.into_values().collect(),
        members: members.into_values().collect(),
        relationships,
        around: Vec::new(),
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, item: T) {
    if !v.contains(&item) {
        v.push(item);
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::Postcode;

    fn person(n: u128) -> PersonId {
        PersonId(Uuid::from_u128(n))
    }
    fn entry(n: u128) -> EntryId {
        EntryId(Uuid::from_u128(1000 + n))
    }
    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2007, m, d).unwrap()
    }
    fn home(line: &str) -> Address {
        Address {
            lines: vec![line.into()],
            postcode: Some(Postcode::parse("N17 6AA").unwrap()),
        }
    }
    fn lived(
        p: PersonId,
        line: &str,
        from: NaiveDate,
        to: Option<NaiveDate>,
        strength: EvidenceStrength,
        e: EntryId,
    ) -> Residence {
        Residence {
            person: p,
            address: home(line),
            validity: Validity { from, to },
            strength,
            entry: e,
        }
    }

    const CHILD: u128 = 1;
    const MOTHER: u128 = 2;
    const PARTNER: u128 = 3;
    const NEIGHBOUR: u128 = 4;

    fn facts() -> (Vec<Residence>, Vec<Relationship>) {
        use EvidenceStrength::*;
        let residences = vec![
            lived(
                person(CHILD),
                "1 Example Road",
                day(1, 1),
                None,
                Verified,
                entry(1),
            ),
            lived(
                person(MOTHER),
                "1 Example Road",
                day(1, 1),
                None,
                Verified,
                entry(1),
            ),
            // The partner is claimed not to live there, then seen there in June.
            lived(
                person(PARTNER),
                "1 example road",
                day(6, 1),
                Some(day(6, 30)),
                Observed,
                entry(2),
            ),
            lived(
                person(NEIGHBOUR),
                "2 Example Road",
                day(1, 1),
                None,
                Verified,
                entry(3),
            ),
        ];
        let relationships = vec![
            Relationship {
                person: person(MOTHER),
                kind: RelationshipKind::Mother,
                other: person(CHILD),
                validity: Validity {
                    from: day(1, 1),
                    to: None,
                },
                strength: Verified,
                entry: entry(1),
            },
            Relationship {
                person: person(PARTNER),
                kind: RelationshipKind::Partner,
                other: person(MOTHER),
                validity: Validity {
                    from: day(6, 1),
                    to: None,
                },
                strength: Claimed,
                entry: entry(4),
            },
        ];
        (residences, relationships)
    }

    #[test]
    fn a_household_holds_only_those_living_at_the_subjects_address_that_day() {
        let (res, rel) = facts();
        let may = household_at(person(CHILD), day(5, 15), &res, &rel);
        let members: Vec<PersonId> = may.members.iter().map(|m| m.person).collect();
        assert_eq!(members, vec![person(MOTHER)]);
        assert_eq!(may.addresses.len(), 1);
        assert_eq!(
            may.members[0].relationships_to_subject,
            vec![RelationshipKind::Mother]
        );

        let june = household_at(person(CHILD), day(6, 15), &res, &rel);
        let members: Vec<PersonId> = june.members.iter().map(|m| m.person).collect();
        assert_eq!(members, vec![person(MOTHER), person(PARTNER)]);
        let partner = &june.members[1];
        assert_eq!(partner.strength, EvidenceStrength::Observed);
        assert_eq!(partner.entries, vec![entry(2)]);
        assert!(
            june.relationships
                .iter()
                .any(|r| r.kind == RelationshipKind::Partner),
            "the partner's relationship to the mother is in force around the child"
        );
    }

    #[test]
    fn validity_includes_both_ends() {
        let (res, rel) = facts();
        for (date, expected) in [
            (day(5, 31), 1),
            (day(6, 1), 2),
            (day(6, 30), 2),
            (day(7, 1), 1),
        ] {
            let h = household_at(person(CHILD), date, &res, &rel);
            assert_eq!(h.members.len(), expected, "{date}");
        }
    }

    #[test]
    fn a_person_with_no_residence_that_day_has_an_empty_household() {
        let (res, rel) = facts();
        let h = household_at(
            person(CHILD),
            NaiveDate::from_ymd_opt(2006, 12, 1).unwrap(),
            &res,
            &rel,
        );
        assert!(h.addresses.is_empty());
        assert!(h.members.is_empty());
    }

    #[test]
    fn the_strongest_evidence_wins_and_every_entry_is_kept() {
        let (mut res, rel) = facts();
        res.push(lived(
            person(MOTHER),
            "1 Example Road",
            day(3, 1),
            None,
            EvidenceStrength::Claimed,
            entry(9),
        ));
        let h = household_at(person(CHILD), day(3, 2), &res, &rel);
        assert_eq!(h.members[0].strength, EvidenceStrength::Verified);
        assert_eq!(h.members[0].entries, vec![entry(1), entry(9)]);
    }

    #[test]
    fn people_seen_with_the_child_in_the_window_are_around_whether_or_not_they_live_there() {
        use crate::ParticipantRole::{OtherAdultPresent, Parent, Professional};
        let (res, rel) = facts();
        let seen = |p: PersonId, m: u32, d: u32, role, e: u128| Presence {
            person: p,
            role,
            date: day(m, d),
            entry: entry(e),
        };
        let presences = vec![
            seen(person(PARTNER), 4, 9, OtherAdultPresent, 20),
            seen(person(PARTNER), 6, 4, OtherAdultPresent, 21),
            seen(person(MOTHER), 6, 4, Parent, 21),
            seen(person(NEIGHBOUR), 3, 1, OtherAdultPresent, 22),
            seen(person(99), 6, 1, Professional, 23),
        ];
        let h = with_people_around(
            household_at(person(CHILD), day(6, 10), &res, &rel),
            &presences,
            90,
        );
        let around: Vec<PersonId> = h.around.iter().map(|a| a.person).collect();
        assert_eq!(
            around,
            vec![person(MOTHER), person(PARTNER)],
            "the neighbour was seen before the window; professionals are not around"
        );
        let partner = &h.around[1];
        assert_eq!(
            (partner.first_seen, partner.last_seen),
            (day(4, 9), day(6, 4))
        );
        assert_eq!(partner.entries, vec![entry(20), entry(21)]);
        assert!(partner.lives_here, "observed living there from 1 June");
        let may = with_people_around(
            household_at(person(CHILD), day(5, 1), &res, &rel),
            &presences,
            90,
        );
        assert!(
            !may.around
                .iter()
                .find(|a| a.person == person(PARTNER))
                .unwrap()
                .lives_here,
            "around, not living there, in May"
        );
    }

    #[test]
    fn evidence_strength_is_ordered_claimed_observed_verified() {
        assert!(EvidenceStrength::Claimed < EvidenceStrength::Observed);
        assert!(EvidenceStrength::Observed < EvidenceStrength::Verified);
    }
}
