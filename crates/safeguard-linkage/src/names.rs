//! Names: normalisation, Jaro–Winkler similarity and nicknames.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The nickname table written for Safeguard (`name,nickname` per line): British short forms.
pub const NICKNAMES_CSV: &str = include_str!("../../../data/nicknames.csv");

/// The maintained table of English given names and their nicknames from Old Dominion
/// University's `nicknames` project (github.com/carltonnorthern/nicknames, the `nicknames`
/// package on PyPI; Apache License 2.0, `data/nicknames-carltonnorthern.LICENSE`), as
/// `name1,has_nickname,name2` triples, unchanged.
pub const MAINTAINED_NICKNAMES_CSV: &str =
    include_str!("../../../data/nicknames-carltonnorthern.csv");

/// A name as compared: lower case, letters only (`O'Brien` → `obrien`, `Anne-Marie` →
/// `annemarie`).
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `short` is the British "z" short form of the given name `long`: the name's first
/// letters and a "z" ("Gaz" for Gary, "Shaz" for Sharon, "Chaz" for Charles, "Kez" for
/// Kerry), which no table lists in full. Both normalised.
pub fn z_form(short: &str, long: &str) -> bool {
    (3..=4).contains(&short.len())
        && long.len() > short.len()
        && short.ends_with('z')
        && long.starts_with(&short[..short.len() - 1])
}

/// Whether `short` could be what a person with the given name `long` goes by, though no table
/// says so: an initial, the start of the name ("Kier" for Kieran), or the British short form
/// of its first letter or two and a "z" ("Gaz" for Gary, "Kez" for Kieran, "Shaz" for Sharon).
/// Both normalised. Loose on purpose: it proposes a pair for review, never joins one.
pub fn short_form(short: &str, long: &str) -> bool {
    let (s, l) = (short.as_bytes(), long.as_bytes());
    if s.is_empty() || s.len() >= l.len() || s[0] != l[0] {
        return false;
    }
    s.len() == 1
        || (s.len() <= 4
            && (long.starts_with(short)
                || (s[s.len() - 1] == b'z' && long.starts_with(&short[..1]))))
}

/// Jaro similarity, from 0 (nothing in common) to 1 (equal).
pub fn jaro(a: &str, b: &str) -> f64 {
    // Most names are ASCII and short: compared as bytes, with matches marked on the stack,
    // nothing is allocated (this runs for millions of candidate pairs).
    if a.is_ascii() && b.is_ascii() && a.len() <= 64 && b.len() <= 64 {
        let (mut a_matched, mut b_matched) = ([false; 64], [false; 64]);
        return jaro_of(a.as_bytes(), b.as_bytes(), &mut a_matched, &mut b_matched);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    jaro_of(&a, &b, &mut vec![false; a.len()], &mut vec![false; b.len()])
}

fn jaro_of<T: PartialEq>(a: &[T], b: &[T], a_matched: &mut [bool], b_matched: &mut [bool]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let from = i.saturating_sub(window);
        let to = (i + window + 1).min(b.len());
        if let Some(j) = (from..to).find(|&j| !b_matched[j] && b[j] == *ca) {
            a_matched[i] = true;
            b_matched[j] = true;
            matches += 1;
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let a_order = a
        .iter()
        .zip(a_matched.iter())
        .filter(|(_, m)| **m)
        .map(|(c, _)| c);
    let b_order = b
        .iter()
        .zip(b_matched.iter())
        .filter(|(_, m)| **m)
        .map(|(c, _)| c);
    let transpositions = a_order.zip(b_order).filter(|(x, y)| x != y).count() / 2;
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0
}

/// Whether two strings' lengths let their Jaro–Winkler similarity reach `threshold`: at best
/// every character of the shorter matches in order, so Jaro is at most (2 + shorter/longer)/3,
/// and the prefix raises it by at most 0.4 of the rest. A quick refusal before the real thing.
pub fn may_reach(a: &str, b: &str, threshold: f64) -> bool {
    let length = |s: &str| {
        if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        }
    };
    let (la, lb) = (length(a), length(b));
    if la == 0 || lb == 0 {
        return true;
    }
    // (2 + r)/3 raised by 0.4 of the rest reaches t when the length ratio r is at least 5t - 4.
    let (short, long) = (la.min(lb) as f64, la.max(lb) as f64);
    short >= (5.0 * threshold - 4.0) * long
}

/// Jaro–Winkler similarity: Jaro, raised for a common prefix of up to four characters.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let j = jaro(a, b);
    let prefix = a
        .chars()
        .zip(b.chars())
        .take(4)
        .take_while(|(x, y)| x == y)
        .count();
    j + prefix as f64 * 0.1 * (1.0 - j)
}

/// Names known to stand for each other (Daniel, Dan, Danny). Each name is numbered once, and
/// keeps the sorted numbers of the names it stands with, so that comparing two names is two
/// lookups and a merge of short lists, not hashing strings over again.
#[derive(Debug, Clone, Default)]
pub struct Nicknames {
    ids: HashMap<String, u32, BuildFx>,
    /// Per number, the name.
    names: Vec<String>,
    /// Per name (by number): the names in the table with it either way, sorted.
    related: Vec<Vec<u32>>,
    /// Per name (by number): the names it is a nickname of in the written table, sorted.
    stands_for: Vec<Vec<u32>>,
}

impl Nicknames {
    /// The table shipped with Safeguard.
    pub fn shipped() -> &'static Nicknames {
        static TABLE: OnceLock<Nicknames> = OnceLock::new();
        TABLE.get_or_init(|| {
            let mut table = Nicknames::from_csv(&[NICKNAMES_CSV]);
            table.add_direct(MAINTAINED_NICKNAMES_CSV);
            table
        })
    }

    fn id(&mut self, name: String) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(name.clone()).or_insert_with(|| {
            self.related.push(Vec::new());
            self.stands_for.push(Vec::new());
            self.names.push(name);
            next
        })
    }

    /// A table from tables of `name,nickname` lines, or `name,has_nickname,nickname` triples,
    /// each after a header: a name and its nickname stand for each other, and so do two
    /// nicknames of one name.
    pub fn from_csv(tables: &[&str]) -> Self {
        let mut table = Nicknames::default();
        for (name, nick) in tables.iter().flat_map(|t| pairs(t)) {
            let (name, nick) = table.add(name, nick);
            table.stands_for[nick as usize].push(name);
        }
        table.sort();
        table
    }

    /// Adds a table's pairs as direct relations only: a name and its nickname. The maintained
    /// table is looser than the written one (Joe for Joshua as well as Joseph), so two of its
    /// nicknames of one name are not taken for one name: twins Joe and Josh stay two people.
    pub fn add_direct(&mut self, table: &str) {
        for (name, nick) in pairs(table) {
            self.add(name, nick);
        }
        self.sort();
    }

    fn add(&mut self, name: String, nick: String) -> (u32, u32) {
        let name = self.id(name);
        let nick = self.id(nick);
        self.related[name as usize].push(nick);
        self.related[nick as usize].push(name);
        (name, nick)
    }

    fn sort(&mut self) {
        for list in self.related.iter_mut().chain(&mut self.stands_for) {
            list.sort_unstable();
            list.dedup();
        }
    }

    /// Whether two (normalised) names stand for each other: one is a nickname of the other,
    /// or both are nicknames of one name (Dan and Danny). Two names that merely share a
    /// nickname are not (Aaron and Ronald are both "Ron"; so are two brothers).
    pub fn related(&self, a: &str, b: &str) -> bool {
        self.related_ids(self.id_of(a), self.id_of(b))
    }

    /// A (normalised) name's number in the table, if it is there: a prepared name keeps it,
    /// so that comparing two names does not hash them again.
    pub fn id_of(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// [`Nicknames::related`] of two names by their numbers.
    pub fn related_ids(&self, a: Option<u32>, b: Option<u32>) -> bool {
        let (Some(ia), Some(ib)) = (a, b) else {
            return false;
        };
        self.related[ia as usize].binary_search(&ib).is_ok()
            || shares_any(&self.stands_for[ia as usize], &self.stands_for[ib as usize])
    }

    /// The names the table relates to a (normalised) name: those it stands for or that stand
    /// for it, and the other nicknames of a name it stands for (Dan: Daniel, Danny).
    pub fn names_for<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let own = self.ids.get(name).copied();
        let nicknames_of = |n: u32| {
            self.related[n as usize]
                .iter()
                .copied()
                .filter(move |&r| self.stands_for[r as usize].binary_search(&n).is_ok())
        };
        let mut related: Vec<u32> = own
            .map(|i| {
                self.related[i as usize]
                    .iter()
                    .copied()
                    .chain(
                        self.stands_for[i as usize]
                            .iter()
                            .flat_map(|&n| nicknames_of(n)),
                    )
                    .filter(|&r| r != i)
                    .collect()
            })
            .unwrap_or_default();
        related.sort_unstable();
        related.dedup();
        related.into_iter().map(|r| self.names[r as usize].as_str())
    }

    /// Whether one name stands for a name spelt very like the other: "Rob" and "Rboert", a
    /// misspelt Robert. Without it a nickname and a typo together count as different names,
    /// which keeps one person's records apart as if they were twins. The other must not be a
    /// name of the table itself: Josh is spelt like Joseph, for whom Joe stands, but Joe and
    /// Josh are two brothers' names, not one misspelt.
    pub fn related_misspelt(&self, a: &str, b: &str) -> bool {
        self.related_misspelt_ids((a, self.id_of(a)), (b, self.id_of(b)))
    }

    /// [`Nicknames::related_misspelt`] of two names with their numbers in the table.
    pub fn related_misspelt_ids(&self, a: (&str, Option<u32>), b: (&str, Option<u32>)) -> bool {
        let stands_for = |known: Option<u32>, other: (&str, Option<u32>)| {
            other.1.is_none()
                && known.is_some_and(|i| {
                    self.related[i as usize].iter().any(|&r| {
                        let name = &self.names[r as usize];
                        may_reach(name, other.0, VERY_CLOSE)
                            && jaro_winkler(name, other.0) >= VERY_CLOSE
                    })
                })
        };
        stands_for(a.1, b) || stands_for(b.1, a)
    }
}

/// Given names learnt from the records themselves to stand for one person's: names written on
/// records of one NHS number and one date of birth ("Tel" and "Terence", "Kasia" and
/// "Katarzyna") for more than one person, that the tables do not know. Kept as the pairs of
/// names (sorted), so that a stored model reads back whatever the hasher; looked up by the
/// prepared names' hashes.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "Vec<(String, String)>", into = "Vec<(String, String)>")]
pub struct Aliases {
    pairs: Vec<(String, String)>,
    hashes: std::collections::HashSet<(u64, u64), BuildFx>,
}

impl Aliases {
    /// None learnt.
    pub fn none() -> &'static Aliases {
        static NONE: OnceLock<Aliases> = OnceLock::new();
        NONE.get_or_init(Aliases::default)
    }

    /// Whether none were learnt.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs learnt, each sorted, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Whether two prepared names were learnt to stand for each other.
    pub fn related(
        &self,
        a: &crate::record::PreparedName,
        b: &crate::record::PreparedName,
    ) -> bool {
        !self.hashes.is_empty() && {
            let (x, y) = (a.hashes.0, b.hashes.0);
            self.hashes.contains(&(x.min(y), x.max(y)))
        }
    }
}

impl From<Vec<(String, String)>> for Aliases {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(a, b)| if a <= b { (a, b) } else { (b, a) })
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let hashes = pairs
            .iter()
            .map(|(a, b)| {
                let (x, y) = (crate::record::hash(a), crate::record::hash(b));
                (x.min(y), x.max(y))
            })
            .collect();
        Aliases { pairs, hashes }
    }
}

impl From<Aliases> for Vec<(String, String)> {
    fn from(aliases: Aliases) -> Self {
        aliases.pairs
    }
}

impl PartialEq for Aliases {
    fn eq(&self, other: &Self) -> bool {
        self.pairs == other.pairs
    }
}

/// Whether one name could be a short form of the other, as learnt aliases must be: shorter,
/// and either within the longer ("Emeka" of "Chukwuemeka") or beginning with its letter
/// ("Kasia" for "Katarzyna"). Two names of a length ("Tom" and "Tim", "Harry" and "Henry"),
/// which twins' records mixed up would teach, are never learnt.
pub fn could_be_a_short_form(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() < long.len()
        && short.len() >= 2
        && (long.contains(short) || short.as_bytes()[0] == long.as_bytes()[0])
}

/// A table's `(name, nickname)` pairs, normalised: `name,nickname` lines or
/// `name,has_nickname,nickname` triples after a header; other relationships are left out.
fn pairs(table: &str) -> impl Iterator<Item = (String, String)> + '_ {
    table.lines().skip(1).filter_map(|line| {
        let (name, nick) = match line.split(',').collect::<Vec<_>>()[..] {
            [name, nick] | [name, "has_nickname", nick] => (normalise(name), normalise(nick)),
            _ => return None,
        };
        (!name.is_empty() && !nick.is_empty() && name != nick).then_some((name, nick))
    })
}

/// Jaro–Winkler similarity at which two spellings are taken for one name mistyped.
pub const VERY_CLOSE: f64 = 0.92;

/// Whether two sorted lists share an element.
fn shares_any(a: &[u32], b: &[u32]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The Firefox/rustc hash (FxHash): a multiply and a rotate per word. Not resistant to chosen
/// keys, which is fine for a table of names fixed at start-up.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type BuildFx = std::hash::BuildHasherDefault<FxHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_bound_never_refuses_a_pair_that_reaches_the_threshold() {
        let names = [
            "dan",
            "daniel",
            "danny",
            "danielle",
            "kez",
            "kieran",
            "jo",
            "joanne",
            "reeve",
            "reeves",
            "catherine",
            "kathryn",
            "al",
            "alexander",
            "sam",
            "samantha",
            "mo",
            "mohammed",
            "muhammad",
            "bob",
            "robert",
            "rboert",
            "x",
        ];
        let mut refused = 0;
        for a in names {
            for b in names {
                for threshold in [VERY_CLOSE, 0.80] {
                    if jaro_winkler(a, b) >= threshold {
                        assert!(may_reach(a, b, threshold), "{a} {b} {threshold}");
                    } else if !may_reach(a, b, threshold) {
                        refused += 1;
                    }
                }
            }
        }
        assert!(
            refused > 100,
            "the bound refuses most pairs of unlike lengths: {refused}"
        );
    }

    #[test]
    fn a_z_form_is_the_names_first_letters_and_a_z() {
        for (short, long) in [
            ("gaz", "gary"),
            ("shaz", "sharon"),
            ("chaz", "charles"),
            ("kez", "kerry"),
        ] {
            assert!(z_form(short, long), "{short} for {long}");
        }
        for (short, long) in [
            ("kez", "kieran"),
            ("gaz", "grace"),
            ("ga", "gary"),
            ("gary", "gaz"),
        ] {
            assert!(!z_form(short, long), "{short} for {long}");
        }
    }

    #[test]
    fn a_short_form_is_an_initial_the_start_of_the_name_or_its_british_z_form() {
        for (short, long) in [
            ("k", "kieran"),
            ("kez", "kieran"),
            ("gaz", "gary"),
            ("shaz", "sharon"),
            ("kier", "kieran"),
        ] {
            assert!(short_form(short, long), "{short} for {long}");
        }
        for (short, long) in [
            ("kez", "gary"),
            ("kieran", "kieran"),
            ("bob", "robert"),
            ("kevi", "kieran"),
            ("", "kieran"),
        ] {
            assert!(!short_form(short, long), "{short} for {long}");
        }
    }

    fn close(x: f64, y: f64) -> bool {
        (x - y).abs() < 0.001
    }

    #[test]
    fn jaro_winkler_matches_the_published_examples() {
        // Winkler (1990): MARTHA/MARHTA 0.961, DWAYNE/DUANE 0.84, DIXON/DICKSONX 0.813.
        assert!(
            close(jaro_winkler("martha", "marhta"), 0.961),
            "{}",
            jaro_winkler("martha", "marhta")
        );
        assert!(
            close(jaro_winkler("dwayne", "duane"), 0.840),
            "{}",
            jaro_winkler("dwayne", "duane")
        );
        assert!(
            close(jaro_winkler("dixon", "dicksonx"), 0.813),
            "{}",
            jaro_winkler("dixon", "dicksonx")
        );
        assert_eq!(jaro_winkler("reeve", "reeve"), 1.0);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("a", ""), 0.0);
    }

    #[test]
    fn jaro_is_the_same_for_short_ascii_names_and_any_others() {
        for (a, b) in [
            ("martha", "marhta"),
            ("dwayne", "duane"),
            ("dixon", "dicksonx"),
        ] {
            let general = jaro_of(
                a.as_bytes(),
                b.as_bytes(),
                &mut vec![false; a.len()],
                &mut vec![false; b.len()],
            );
            assert_eq!(jaro(a, b), general, "{a} {b}");
        }
        // Letters beyond ASCII, and names longer than 64, take the general path.
        assert!(close(
            jaro_winkler("zoë", "zoe"),
            jaro_winkler("zoa", "zoe")
        ));
        let long = "a".repeat(70);
        assert_eq!(jaro(&long, &long), 1.0);
        assert!(jaro(&long, &"a".repeat(69)) > 0.99);
    }

    #[test]
    fn names_are_normalised_to_lower_case_letters() {
        assert_eq!(normalise("O'Brien"), "obrien");
        assert_eq!(normalise(" Anne-Marie "), "annemarie");
    }

    #[test]
    fn nicknames_relate_both_ways_and_through_their_name() {
        let n = Nicknames::shipped();
        assert!(n.related("daniel", "danny"));
        assert!(n.related("danny", "daniel"));
        assert!(n.related("dan", "danny"), "both stand for Daniel");
        assert!(n.related("kate", "katherine") && n.related("kate", "catherine"));
        assert!(!n.related("daniel", "david"));
        assert!(!n.related("zebedee", "daniel"));
        // From the maintained table: names the written one lacks...
        assert!(n.related("william", "billy") && n.related("margaret", "peggy"));
        // ...and two names that only share a nickname are two people's: Aaron and Ronald
        // are both "Ron".
        assert!(n.related("aaron", "ron") && n.related("ronald", "ron"));
        assert!(!n.related("aaron", "ronald"));
        let for_daniel: Vec<&str> = n.names_for("daniel").collect();
        assert!(for_daniel.contains(&"danny") && !for_daniel.contains(&"daniel"));
    }

    #[test]
    fn a_table_reads_pairs_and_has_nickname_triples() {
        let mut n = Nicknames::from_csv(&[
            "name,nickname\nrobert,bob\n",
            "name1,relationship,name2\nrobert,has_nickname,robbie\nx,is_translation_of,y\n",
        ]);
        assert!(n.related("bob", "robbie"), "both stand for Robert");
        assert!(!n.related("x", "y"), "only has_nickname is read");
        n.add_direct(
            "name1,relationship,name2\njoshua,has_nickname,joe\njoshua,has_nickname,josh\n",
        );
        assert!(n.related("joshua", "joe") && n.related("joshua", "josh"));
        assert!(
            !n.related("joe", "josh"),
            "a loose table's two nicknames of one name"
        );
    }
}
