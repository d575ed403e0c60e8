//! A deterministic synthetic background population: families with ordinary contacts (GP
//! appointments, health visits, the odd minor injury at A&E, school contacts), so that search and
//! lists look like a real area's. The same seed gives the same entries, byte for byte, so
//! seeding twice stores nothing new.

use chrono::{Duration, NaiveDate, NaiveTime};
use safeguard_core::household::RelationshipKind;
use safeguard_core::*;

use super::synthetic_nhs_number;

/// How many families, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Population {
    /// Number of families.
    pub families: usize,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for Population {
    fn default() -> Self {
        Self {
            families: 3000,
            seed: 2007,
        }
    }
}

/// SplitMix64: tiny, fast, and stable across versions (unlike a library's default generator).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub(crate) fn date(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        from + Duration::days(self.below((to - from).num_days() as u64 + 1) as i64)
    }
}

pub(crate) const FEMALE: &[&str] = &[
    "Amelia",
    "Olivia",
    "Emily",
    "Jessica",
    "Sophie",
    "Chloe",
    "Lucy",
    "Grace",
    "Ellie",
    "Hannah",
    "Charlotte",
    "Katie",
    "Megan",
    "Lauren",
    "Rebecca",
    "Holly",
    "Amy",
    "Emma",
    "Sarah",
    "Laura",
    "Gemma",
    "Rachel",
    "Nicola",
    "Claire",
    "Michelle",
    "Lisa",
    "Joanne",
    "Kelly",
    "Donna",
    "Leanne",
    "Aisha",
    "Fatima",
    "Priya",
    "Zainab",
    "Maria",
    "Agnieszka",
    "Ana",
    "Chantelle",
    "Jade",
    "Natalie",
];
pub(crate) const MALE: &[&str] = &[
    "Jack",
    "Thomas",
    "Joshua",
    "Oliver",
    "Harry",
    "James",
    "William",
    "Samuel",
    "Daniel",
    "Charlie",
    "Benjamin",
    "Joseph",
    "Callum",
    "George",
    "Ryan",
    "Liam",
    "Jamie",
    "Luke",
    "Matthew",
    "Lewis",
    "Mark",
    "Paul",
    "Andrew",
    "David",
    "Christopher",
    "Michael",
    "Stephen",
    "Richard",
    "Craig",
    "Wayne",
    "Mohammed",
    "Adam",
    "Kwame",
    "Tomasz",
    "Ahmed",
    "Reece",
    "Kyle",
    "Dean",
    "Scott",
    "Aaron",
];
pub(crate) const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mason",
    "Mitchell",
    "Rose",
    "Davis",
    "Rodriguez",
    "Cox",
    "Alexander",
    "Morris",
    "Ward",
    "Okafor",
    "Begum",
    "Hussain",
    "Nowak",
    "Kowalski",
    "Campbell",
    "Kelly",
    "Murphy",
    "Hughes",
    "Edwards",
    "Turner",
    "Hill",
    "Moore",
    "Cooper",
    "Harris",
    "King",
];
const STREETS: &[&str] = &[
    "Ashdown Road",
    "Beech Grove",
    "Carlow Street",
    "Dene Avenue",
    "Elm Road",
    "Fernhill Lane",
    "Garth Close",
    "Hazel Way",
    "Ivy Crescent",
    "Juniper Street",
    "Kestrel Road",
    "Larch Avenue",
    "Maple Drive",
    "Nightingale Road",
    "Oak Terrace",
    "Poplar Walk",
    "Quarry Lane",
    "Rowan Close",
];
const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// Allocates NHS numbers one after another from a range the demo case does not use, so no two
/// synthetic people ever share one.
struct NhsNumbers(u64);

impl NhsNumbers {
    fn next(&mut self) -> NhsNumber {
        let n = synthetic_nhs_number(self.0);
        // The number used stem `self.0` or, when that had no check digit, the next one.
        let used: u64 = n.as_str()[3..9].parse().expect("six digits");
        self.0 = used + 1;
        n
    }
}

struct Family {
    id: usize,
    address: Address,
    mother: PersonRecord,
    father: Option<PersonRecord>,
    children: Vec<PersonRecord>,
}

fn family(rng: &mut Rng, id: usize, nhs: &mut NhsNumbers) -> Family {
    let surname = *rng.pick(SURNAMES);
    let postcode = format!(
        "NB{} {}{}{}",
        1 + rng.below(9),
        rng.below(10),
        *rng.pick(LETTERS) as char,
        *rng.pick(LETTERS) as char
    );
    let address = Address {
        lines: vec![
            format!("{} {}", 1 + rng.below(180), rng.pick(STREETS)),
            "Northbury".into(),
        ],
        postcode: Some(Postcode::parse(&postcode).expect("generated postcodes are valid")),
    };
    let person = |role: &str, given: &str, sex: Sex, born: NaiveDate, nhs: &mut NhsNumbers| {
        let mut r =
            PersonRecord::named(&format!("NB-{id}-{role}"), PersonName::new(given, surname));
        r.date_of_birth = Some(PartialDate::Day(born));
        r.sex = Some(sex);
        r.nhs_number = Some(nhs.next());
        r.addresses.push(address.clone());
        r
    };
    let d = |y: i32, m: u32, day: u32| NaiveDate::from_ymd_opt(y, m, day).expect("valid");
    let mother_given = *rng.pick(FEMALE);
    let mother_born = rng.date(d(1966, 1, 1), d(1989, 12, 31));
    let mother = person("M", mother_given, Sex::Female, mother_born, nhs);
    let father = if rng.chance(65) {
        let given = *rng.pick(MALE);
        let born = rng.date(d(1962, 1, 1), d(1987, 12, 31));
        Some(person("F", given, Sex::Male, born, nhs))
    } else {
        None
    };
    let children = (0..1 + rng.below(3))
        .map(|i| {
            let (given, sex) = if rng.chance(50) {
                (*rng.pick(FEMALE), Sex::Female)
            } else {
                (*rng.pick(MALE), Sex::Male)
            };
            let born = rng.date(d(2000, 1, 1), d(2007, 3, 31));
            person(&format!("C{i}"), given, sex, born, nhs)
        })
        .collect();
    Family {
        id,
        address,
        mother,
        father,
        children,
    }
}

/// Every entry of the background population, family by family.
pub fn population_entries(population: &Population) -> Vec<Entry> {
    let mut rng = Rng::new(population.seed);
    let mut nhs = NhsNumbers(500_000);
    let mut entries = Vec::new();
    for id in 0..population.families {
        let f = family(&mut rng, id, &mut nhs);
        family_entries(&mut rng, &f, &mut entries);
    }
    entries
}

/// Makes a family's entries, numbering their source ids.
struct Maker {
    family: usize,
    made: usize,
}

impl Maker {
    #[allow(clippy::too_many_arguments)]
    fn make(
        &mut self,
        rng: &mut Rng,
        (agency, system): (&str, &str),
        when: NaiveDate,
        (author, role): (&str, &str),
        persons: Vec<(ParticipantRole, PersonRecord)>,
        details: EntryDetails,
        summary: String,
    ) -> Entry {
        self.made += 1;
        let time = NaiveTime::from_hms_opt(9 + rng.below(8) as u32, 10 * rng.below(6) as u32, 0)
            .expect("valid time");
        let at = when.and_time(time);
        Entry {
            agency: AgencyId::parse(agency).expect("demo agency"),
            source: SourceRef {
                system: system.into(),
                id: format!("BG-{}-{}", self.family, self.made),
            },
            author: Author {
                name: author.into(),
                role: role.into(),
            },
            occurred_at: OccurredAt::at(at),
            recorded_at: (at + Duration::hours(2)).and_utc(),
            persons: persons
                .into_iter()
                .map(|(role, record)| Participant {
                    role,
                    record,
                    identity: None,
                })
                .collect(),
            summary,
            details,
            residences: Vec::new(),
            relationships: Vec::new(),
            supersedes: None,
        }
    }
}

const GP: (&str, &str) = ("elm-road-surgery", "emis");
const GP_AUTHOR: (&str, &str) = ("GP 2", "General practitioner");

fn lives(
    person: &PersonRecord,
    address: &Address,
    strength: EvidenceStrength,
) -> ResidenceStatement {
    ResidenceStatement {
        person: person.local_id.clone(),
        address: address.clone(),
        from: None,
        to: None,
        strength,
    }
}

fn parent_of(
    parent: &PersonRecord,
    kind: RelationshipKind,
    child: &PersonRecord,
    strength: EvidenceStrength,
) -> RelationshipStatement {
    RelationshipStatement {
        person: parent.local_id.clone(),
        kind,
        other: child.local_id.clone(),
        from: None,
        to: None,
        strength,
    }
}

fn family_entries(rng: &mut Rng, f: &Family, out: &mut Vec<Entry>) {
    let start = NaiveDate::from_ymd_opt(2006, 9, 1).expect("valid");
    let end = NaiveDate::from_ymd_opt(2007, 10, 31).expect("valid");
    let mut maker = Maker {
        family: f.id,
        made: 0,
    };
    for child in &f.children {
        let with_mother = vec![
            (ParticipantRole::SubjectChild, child.clone()),
            (ParticipantRole::Parent, f.mother.clone()),
        ];
        // Registration at the GP states the household.
        let when = rng.date(start, start + Duration::days(60));
        let mut registration = maker.make(
            rng,
            GP,
            when,
            GP_AUTHOR,
            with_mother.clone(),
            EntryDetails::GpAppointment(GpAppointment {
                attended: true,
                reason: Some("registration check".into()),
            }),
            "Registration health check.".into(),
        );
        registration
            .residences
            .push(lives(child, &f.address, EvidenceStrength::Verified));
        registration
            .residences
            .push(lives(&f.mother, &f.address, EvidenceStrength::Verified));
        registration.relationships.push(parent_of(
            &f.mother,
            RelationshipKind::Mother,
            child,
            EvidenceStrength::Verified,
        ));
        if let Some(father) = &f.father {
            registration.persons.push(Participant {
                role: ParticipantRole::Parent,
                record: father.clone(),
                identity: None,
            });
            registration
                .residences
                .push(lives(father, &f.address, EvidenceStrength::Claimed));
            registration.relationships.push(parent_of(
                father,
                RelationshipKind::Father,
                child,
                EvidenceStrength::Claimed,
            ));
        }
        out.push(registration);
        for _ in 0..rng.below(4) {
            let attended = rng.chance(92);
            let reason = *rng.pick(&[
                "cough",
                "ear infection",
                "rash",
                "immunisations",
                "fever",
                "asthma review",
            ]);
            let summary = if attended {
                format!("Seen for {reason}.")
            } else {
                "Was not brought to the appointment.".to_owned()
            };
            let when = rng.date(start, end);
            out.push(maker.make(
                rng,
                GP,
                when,
                GP_AUTHOR,
                with_mother.clone(),
                EntryDetails::GpAppointment(GpAppointment {
                    attended,
                    reason: Some(reason.into()),
                }),
                summary,
            ));
        }
        let under_five = child.date_of_birth.is_some_and(|d| d.year() >= 2002);
        if under_five {
            for _ in 0..1 + rng.below(2) {
                let when = rng.date(start, end);
                out.push(maker.make(
                    rng,
                    ("northbury-health-visiting", "systmone"),
                    when,
                    ("Health Visitor 2", "Health visitor"),
                    with_mother.clone(),
                    EntryDetails::HomeVisit(HomeVisit {
                        child_seen: true,
                        child_seen_alone: false,
                        announced: Some(true),
                        outcome: Some(safeguard_core::VisitOutcome::Seen),
                    }),
                    "Developmental review; growth and development as expected.".into(),
                ));
            }
        } else if rng.chance(30) {
            let when = rng.date(start, end);
            out.push(maker.make(
                rng,
                ("northbury-schools", "sims"),
                when,
                ("Designated Safeguarding Lead 1", "Teacher"),
                with_mother.clone(),
                EntryDetails::Contact(Contact {
                    channel: Some("in person".into()),
                    referral_source: Some(safeguard_core::ReferralSource::School),
                }),
                "Attendance below 90% this term; parent contacted.".into(),
            ));
        }
        if rng.chance(12) {
            let when = rng.date(start, end);
            out.push(maker.make(
                rng,
                ("north-general-hospital", "pas-ngh"),
                when,
                ("Emergency Doctor 2", "Emergency department doctor"),
                with_mother.clone(),
                EntryDetails::InjuryObserved(InjuryObserved {
                    body_site: "knee".into(),
                    injury_type: InjuryType::Laceration,
                    count: None,
                    explanation_given: Some("fell in the playground".into()),
                    medical_opinion: Some(MedicalOpinion::Consistent),
                }),
                "Cut to the knee, cleaned and closed with strips.".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_population() {
        let p = Population {
            families: 40,
            seed: 9,
        };
        assert_eq!(population_entries(&p), population_entries(&p));
        assert_ne!(
            population_entries(&p),
            population_entries(&Population { seed: 10, ..p })
        );
    }

    #[test]
    fn every_generated_entry_is_valid_and_uniquely_sourced() {
        let entries = population_entries(&Population {
            families: 300,
            seed: 1,
        });
        let mut sources = HashSet::new();
        for e in &entries {
            e.validate()
                .unwrap_or_else(|err| panic!("{}: {err}", e.source.id));
            assert!(sources.insert((e.agency.clone(), e.source.id.clone())));
        }
        assert!(entries.len() > 300);
    }

    #[test]
    fn no_two_generated_people_share_an_nhs_number() {
        let entries = population_entries(&Population {
            families: 500,
            seed: 3,
        });
        let mut owner = std::collections::HashMap::new();
        for p in entries.iter().flat_map(|e| &e.persons) {
            let n = p.record.nhs_number.clone().unwrap();
            let previous = owner.insert(n.clone(), p.record.local_id.clone());
            assert!(
                previous.is_none_or(|id| id == p.record.local_id),
                "{n} shared"
            );
        }
    }
}
