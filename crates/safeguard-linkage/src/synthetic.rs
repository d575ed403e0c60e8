//! A generator of UK-style person records with known truth, to judge linkage where it is hard:
//! families at one address, twins, a son named after his father, spouses, moves, typos,
//! nicknames, swapped days and months, and NHS numbers only in health records. Deterministic
//! by seed. Every person is invented; postcodes are in areas that do not exist.

use std::collections::HashSet;

use crate::compare::BirthDate;
use crate::record::{Record, Sex};
use crate::rng::Rng;

/// How two different people are related, for counting wrong merges by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// Twins: same family name, date of birth and home.
    Twin,
    /// Brothers and sisters.
    Sibling,
    /// A parent and a child with the same given name.
    ParentChildSameName,
    /// Any other parent and child.
    ParentChild,
    /// Partners living together.
    Spouse,
}

impl Relation {
    /// Every kind.
    pub const ALL: [Relation; 5] = [
        Relation::Twin,
        Relation::Sibling,
        Relation::ParentChildSameName,
        Relation::ParentChild,
        Relation::Spouse,
    ];

    /// How it reads in a report.
    pub fn label(self) -> &'static str {
        match self {
            Relation::Twin => "twins",
            Relation::Sibling => "siblings",
            Relation::ParentChildSameName => "parent and child, same name",
            Relation::ParentChild => "parent and child",
            Relation::Spouse => "spouses",
        }
    }
}

/// Generated records with their truth.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// The records, as agencies hold them.
    pub records: Vec<Record>,
    /// Per record, the person it is about.
    pub person: Vec<u32>,
    /// Pairs of different persons and how they are related.
    pub relations: Vec<(u32, u32, Relation)>,
}

const FEMALE: &[&str] = &[
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Emily",
    "Sophia",
    "Grace",
    "Mia",
    "Poppy",
    "Ella",
    "Lily",
    "Evie",
    "Isabella",
    "Sophie",
    "Ivy",
    "Freya",
    "Harper",
    "Willow",
    "Charlotte",
    "Jessica",
    "Chloe",
    "Lucy",
    "Hannah",
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
    "Nicola",
    "Kerry",
    "Michelle",
    "Claire",
    "Lisa",
    "Joanne",
    "Samantha",
    "Victoria",
    "Jennifer",
    "Elizabeth",
    "Catherine",
    "Katherine",
    "Margaret",
    "Susan",
    "Patricia",
    "Deborah",
    "Jacqueline",
    "Eleanor",
    "Alexandra",
    "Kathleen",
    "Zara",
    "Aisha",
    "Fatima",
    "Maryam",
    "Priya",
    "Anya",
    "Niamh",
    "Siobhan",
    "Bethany",
    "Abigail",
];

const MALE: &[&str] = &[
    "Oliver",
    "George",
    "Harry",
    "Noah",
    "Jack",
    "Leo",
    "Arthur",
    "Muhammad",
    "Oscar",
    "Charlie",
    "Jacob",
    "Thomas",
    "Joshua",
    "James",
    "William",
    "Daniel",
    "Samuel",
    "Joseph",
    "Benjamin",
    "Alexander",
    "Matthew",
    "Michael",
    "David",
    "Christopher",
    "Andrew",
    "Richard",
    "Robert",
    "John",
    "Peter",
    "Stephen",
    "Steven",
    "Anthony",
    "Edward",
    "Nicholas",
    "Jonathan",
    "Paul",
    "Mark",
    "Lee",
    "Craig",
    "Dean",
    "Wayne",
    "Gary",
    "Darren",
    "Liam",
    "Connor",
    "Kyle",
    "Ryan",
    "Jamie",
    "Frederick",
    "Lawrence",
    "Ibrahim",
    "Yusuf",
    "Omar",
    "Arjun",
    "Kofi",
    "Tomasz",
    "Patrick",
    "Sean",
    "Callum",
    "Lewis",
    "Ethan",
    "Mason",
    "Aaron",
];

const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Powell",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
    "Ali",
    "Hunt",
    "Hussain",
    "Campbell",
    "Matthews",
    "Owen",
    "Palmer",
    "Holmes",
    "Mills",
    "Barnes",
    "Knight",
    "Lloyd",
    "Butler",
    "Russell",
    "Barker",
    "Fisher",
    "Stevens",
    "Jenkins",
    "Murray",
    "Dixon",
    "Harvey",
    "Reeves",
    "Marsh",
];

/// Syllables for the long tail of rarer surnames (most surnames are rare).
const HEADS: &[&str] = &[
    "Ash", "Brad", "Cal", "Dun", "Elm", "Fair", "Gold", "Hart", "Ing", "Kings", "Lang", "Marl",
    "Nor", "Oak", "Pen", "Rad", "Stan", "Thorn", "Wal", "Whit", "Wood", "Brom", "Cran", "Hol",
];
const TAILS: &[&str] = &[
    "ford", "ley", "ton", "well", "wood", "by", "field", "ham", "worth", "cott", "stead", "more",
    "bury", "dale", "den", "shaw",
];

const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Mill Lane",
    "Park Avenue",
    "Victoria Road",
    "Queens Road",
    "Manor Close",
    "Green Lane",
    "Kings Road",
    "The Crescent",
    "Grove Road",
    "Albert Street",
    "Orchard Way",
    "New Road",
    "School Lane",
    "Brook Street",
    "Castle Road",
    "Springfield Road",
    "Windsor Drive",
];

/// Postcode areas that do not exist in the UK.
const AREAS: &[&str] = &["NB", "QA", "QB", "QC", "XA", "XB", "XC", "ZA", "ZB", "ZC"];
const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

fn nickname(given: &str) -> Option<&'static str> {
    const PAIRS: &[(&str, &str)] = &[
        ("Daniel", "Danny"),
        ("Daniel", "Dan"),
        ("Samuel", "Sam"),
        ("Samantha", "Sam"),
        ("Joshua", "Josh"),
        ("Thomas", "Tom"),
        ("James", "Jamie"),
        ("William", "Will"),
        ("William", "Bill"),
        ("Michael", "Mike"),
        ("Christopher", "Chris"),
        ("Matthew", "Matt"),
        ("Benjamin", "Ben"),
        ("Alexander", "Alex"),
        ("Jonathan", "Jon"),
        ("Anthony", "Tony"),
        ("Robert", "Rob"),
        ("Richard", "Rich"),
        ("Edward", "Eddie"),
        ("Katherine", "Kate"),
        ("Catherine", "Katie"),
        ("Elizabeth", "Liz"),
        ("Elizabeth", "Beth"),
        ("Rebecca", "Becky"),
        ("Jessica", "Jess"),
        ("Jennifer", "Jenny"),
        ("Victoria", "Vicky"),
        ("Margaret", "Maggie"),
        ("Susan", "Sue"),
        ("Nicola", "Nicky"),
        ("Patricia", "Trish"),
        ("Deborah", "Debbie"),
        ("Stephen", "Steve"),
        ("Steven", "Steve"),
        ("Peter", "Pete"),
        ("Joseph", "Joe"),
        ("Eleanor", "Ellie"),
    ];
    PAIRS
        .iter()
        .find(|(name, _)| *name == given)
        .map(|(_, nick)| *nick)
}

/// A Zipf-like pick: the first items much more often than the last.
fn skewed<'a>(rng: &mut Rng, items: &'a [&'a str]) -> &'a str {
    let x = rng.unit();
    items[((x * x) * items.len() as f64) as usize]
}

fn surname(rng: &mut Rng) -> String {
    if rng.chance(0.55) {
        skewed(rng, SURNAMES).to_string()
    } else {
        format!("{}{}", rng.choose(HEADS), rng.choose(TAILS))
    }
}

#[derive(Debug, Clone)]
struct Home {
    postcode: String,
    address: String,
}

fn home(rng: &mut Rng) -> Home {
    let area = rng.choose(AREAS);
    let district = 1 + rng.below(40);
    let sector = rng.below(10);
    let unit = format!(
        "{}{}",
        LETTERS[rng.below(LETTERS.len())] as char,
        LETTERS[rng.below(LETTERS.len())] as char
    );
    let number = 1 + rng.below(120);
    let flat = if rng.chance(0.2) {
        format!("Flat {}, ", 1 + rng.below(8))
    } else {
        String::new()
    };
    Home {
        postcode: format!("{area}{district} {sector}{unit}"),
        address: format!("{flat}{number} {}", rng.choose(STREETS)),
    }
}

#[derive(Debug, Clone)]
struct Person {
    given: String,
    family: String,
    born: (i32, u32, u32),
    sex: Sex,
    nhs: String,
    homes: Vec<Home>,
}

fn birth(rng: &mut Rng, from: i32, to: i32) -> (i32, u32, u32) {
    let year = from + rng.below((to - from + 1) as usize) as i32;
    let month = 1 + rng.below(12) as u32;
    let day = 1 + rng.below(28) as u32;
    (year, month, day)
}

/// A 10-digit number in the 999 range (never issued), with a valid Modulus 11 check digit.
fn nhs_number(rng: &mut Rng) -> String {
    loop {
        let body: [u32; 9] = std::array::from_fn(|i| if i < 3 { 9 } else { rng.below(10) as u32 });
        if let Some(check) = crate::record::nhs_check_digit(&body) {
            return body
                .iter()
                .chain(std::iter::once(&check))
                .map(|d| char::from_digit(*d, 10).expect("a digit"))
                .collect();
        }
    }
}

fn typo(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() < 3 {
        return s.to_string();
    }
    let i = 1 + rng.below(chars.len() - 1);
    match rng.below(4) {
        0 => {
            chars.remove(i);
        }
        1 => chars.insert(i, chars[i - 1]),
        2 => chars.swap(i - 1, i),
        _ => chars[i] = (b'a' + rng.below(26) as u8) as char,
    }
    chars.into_iter().collect()
}

/// Which agency a record comes from decides what it holds.
#[derive(Debug, Clone, Copy)]
enum Agency {
    Health,
    Police,
    ChildrensServices,
    School,
}

fn corrupt(rng: &mut Rng, p: &Person, agency: Agency) -> Record {
    let mut given = p.given.clone();
    if rng.chance(match agency {
        Agency::Police => 0.25,
        _ => 0.08,
    }) && let Some(n) = nickname(&given)
    {
        given = n.to_string();
    }
    if rng.chance(0.06) {
        given = typo(rng, &given);
    }
    if rng.chance(0.02) {
        given = given.chars().take(1).collect();
    }
    let mut family = p.family.clone();
    if rng.chance(0.06) {
        family = typo(rng, &family);
    }
    let (mut given, mut family) = (Some(given), Some(family));
    if rng.chance(0.01) {
        std::mem::swap(&mut given, &mut family);
    }
    if rng.chance(0.01) {
        given = None;
    }
    let (y, m, d) = p.born;
    let birth_date = match rng.below(100) {
        _ if matches!(agency, Agency::Police) && rng.chance(0.2) => None,
        0..=2 if d <= 12 => Some(BirthDate {
            year: y,
            month: Some(d),
            day: Some(m),
        }),
        3..=5 => Some(BirthDate {
            year: y,
            month: Some(m),
            day: Some(if d % 10 == 9 { d - 1 } else { d + 1 }),
        }),
        6..=7 => Some(BirthDate {
            year: y + if y % 10 == 9 { -1 } else { 1 },
            month: Some(m),
            day: Some(d),
        }),
        8..=9 => Some(BirthDate {
            year: y,
            month: None,
            day: None,
        }),
        10..=12 => None,
        _ => Some(BirthDate {
            year: y,
            month: Some(m),
            day: Some(d),
        }),
    };
    let sex = if rng.chance(0.03) { None } else { Some(p.sex) };
    // Most records hold the current home; some an earlier one.
    let home = if p.homes.len() > 1 && rng.chance(0.3) {
        &p.homes[1 + rng.below(p.homes.len() - 1)]
    } else {
        &p.homes[0]
    };
    let postcode = match rng.below(100) {
        0..=7 => None,
        8..=10 => Some(typo(rng, &home.postcode)),
        _ => Some(home.postcode.clone()),
    };
    let address = match rng.below(100) {
        0..=24 => None,
        25..=34 => Some(home.address.replace("Road", "Rd").replace("Street", "St")),
        _ => Some(home.address.clone()),
    };
    let nhs_share = match agency {
        Agency::Health => 0.95,
        Agency::Police => 0.0,
        Agency::ChildrensServices => 0.5,
        Agency::School => 0.1,
    };
    let nhs_number = rng.chance(nhs_share).then(|| {
        if rng.chance(0.01) {
            let mut digits: Vec<char> = p.nhs.chars().collect();
            let i = 3 + rng.below(7);
            digits[i] = if digits[i] == '0' { '1' } else { '0' };
            digits.into_iter().collect()
        } else {
            p.nhs.clone()
        }
    });
    Record {
        id: String::new(),
        given_name: given,
        family_name: family,
        birth_date,
        sex,
        postcode,
        address,
        nhs_number,
    }
}

fn household(rng: &mut Rng) -> (Vec<Person>, Vec<(usize, usize, Relation)>) {
    let current = home(rng);
    let mut homes = vec![current];
    if rng.chance(0.25) {
        homes.push(home(rng));
    }
    let family = surname(rng);
    let mut people = Vec::new();
    let mut relations = Vec::new();
    let person = |rng: &mut Rng, given: &str, family: &str, born, sex| Person {
        given: given.to_string(),
        family: family.to_string(),
        born,
        sex,
        nhs: nhs_number(rng),
        homes: homes.clone(),
    };
    let mother_born = birth(rng, 1955, 2000);
    let mother_given = skewed(rng, FEMALE);
    people.push(person(rng, mother_given, &family, mother_born, Sex::Female));
    let father = if rng.chance(0.6) {
        let partner_family = if rng.chance(0.7) {
            family.clone()
        } else {
            surname(rng)
        };
        let born = birth(rng, mother_born.0 - 6, mother_born.0 + 3);
        let father_given = skewed(rng, MALE);
        people.push(person(rng, father_given, &partner_family, born, Sex::Male));
        relations.push((0, 1, Relation::Spouse));
        Some(1)
    } else {
        None
    };
    let adults = people.len();
    if rng.chance(0.75) {
        let children = 1 + rng.below(4);
        let mut born_from = mother_born.0 + 18;
        let mut made = 0;
        while made < children && born_from <= 2024 {
            let born = birth(rng, born_from, (born_from + 4).min(2024));
            born_from = born.0 + 1;
            let twins = rng.chance(0.03);
            for k in 0..if twins { 2 } else { 1 } {
                let sex = if rng.chance(0.5) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                let given = match (sex, father) {
                    (Sex::Male, Some(f)) if rng.chance(0.05) => people[f].given.clone(),
                    (Sex::Female, _) if rng.chance(0.02) => people[0].given.clone(),
                    (Sex::Male, _) => skewed(rng, MALE).to_string(),
                    (Sex::Female, _) => skewed(rng, FEMALE).to_string(),
                };
                let child = people.len();
                let twin_of = (k == 1).then(|| child - 1);
                // Twins never share a given name.
                let mut given = given;
                while twin_of.is_some_and(|t| people[t].given == given) {
                    given = match sex {
                        Sex::Male => skewed(rng, MALE),
                        Sex::Female => skewed(rng, FEMALE),
                    }
                    .to_string();
                }
                people.push(person(rng, &given, &family, born, sex));
                for parent in 0..adults {
                    let kind = if people[parent].given == people[child].given {
                        Relation::ParentChildSameName
                    } else {
                        Relation::ParentChild
                    };
                    relations.push((parent, child, kind));
                }
                for sibling in adults..child {
                    let kind = if Some(sibling) == twin_of {
                        Relation::Twin
                    } else {
                        Relation::Sibling
                    };
                    relations.push((sibling, child, kind));
                }
                made += 1;
            }
        }
    }
    (people, relations)
}

/// Generates about `records` records (exactly that many) from `seed`.
pub fn generate(records: usize, seed: u64) -> Generated {
    let mut rng = Rng::new(seed);
    let mut out = Generated::default();
    let mut persons = 0u32;
    // NHS numbers are one per person: a number drawn twice is drawn again, while the 999
    // range (about 909,000 valid numbers) lasts.
    let mut issued: HashSet<String> = HashSet::new();
    while out.records.len() < records {
        let (mut people, relations) = household(&mut rng);
        for p in &mut people {
            while issued.len() < 900_000 && !issued.insert(p.nhs.clone()) {
                p.nhs = nhs_number(&mut rng);
            }
        }
        for (a, b, kind) in relations {
            out.relations
                .push((persons + a as u32, persons + b as u32, kind));
        }
        for p in &people {
            let copies = match rng.below(100) {
                0..=44 => 1,
                45..=74 => 2,
                75..=89 => 3,
                _ => 4,
            };
            for _ in 0..copies {
                let agency = match rng.below(10) {
                    0..=3 => Agency::Health,
                    4..=5 => Agency::Police,
                    6..=7 => Agency::ChildrensServices,
                    _ => Agency::School,
                };
                let mut record = corrupt(&mut rng, p, agency);
                record.id = format!("r{}", out.records.len() + 1);
                out.records.push(record);
                out.person.push(persons);
            }
            persons += 1;
        }
    }
    out.records.truncate(records);
    out.person.truncate(records);
    out.relations
        .retain(|&(a, b, _)| a < persons && b < persons);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_by_seed_and_holds_every_hard_case() {
        let a = generate(5_000, 11);
        let b = generate(5_000, 11);
        assert_eq!(a.records, b.records);
        assert_eq!(a.records.len(), 5_000);
        assert_ne!(a.records, generate(5_000, 12).records);
        for kind in Relation::ALL {
            assert!(
                a.relations.iter().any(|r| r.2 == kind),
                "{} present",
                kind.label()
            );
        }
        let with_nhs = a.records.iter().filter(|r| r.nhs_number.is_some()).count();
        assert!(with_nhs > 1_000 && with_nhs < 4_000, "{with_nhs}");
    }
}
