//! Pseudonyms for a practice review: every person in it gets one alias for the whole export
//! ("Child A", "Ms A", "Mr B", "Social Worker 1"), addresses become "Address 1", free text is
//! rewritten through the same aliases, identifiers are removed, and a leak check finds any
//! identifier still there before anything is written.
//!
//! No I/O and no name tables here: the caller gives each person's names with the short forms
//! it knows (the nickname table's "Dan" for Daniel), and the identifiers held on them.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use crate::{PersonName, Postcode, Sex};

/// Who someone is in the review, which decides the form of their alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The child the review is about.
    Subject,
    /// Another child.
    Child,
    /// An adult, by sex where it is recorded.
    Adult(Option<Sex>),
    /// A professional, by their role as recorded ("Social Worker", "GP").
    Professional(String),
}

/// One person of the review, in the order aliases are to be given (parents first, then by
/// first appearance, is the convention of published reviews).
#[derive(Debug, Clone, Default)]
pub struct Party {
    /// Their part.
    pub part: Option<Part>,
    /// Every name any agency recorded for them.
    pub names: Vec<PersonName>,
    /// Other forms of their given names (diminutives: Dan, Danny for Daniel).
    pub short_forms: Vec<String>,
    /// What identifies them besides their names.
    pub identifiers: Identifiers,
    /// Shown as they are: the subject of a subject access request. Their names and
    /// identifiers are neither replaced nor checked, nor is a name they share with others (a
    /// family name), which is theirs too.
    pub disclosed: bool,
}

/// What identifies a person besides their names.
#[derive(Debug, Clone, Default)]
pub struct Identifiers {
    /// NHS numbers, ten digits.
    pub nhs_numbers: Vec<String>,
    /// Dates of birth.
    pub dates_of_birth: Vec<NaiveDate>,
    /// Postcodes (`N17 6AA`).
    pub postcodes: Vec<String>,
    /// Address lines before the postcode (`14 Example Road`).
    pub address_lines: Vec<String>,
    /// Telephone numbers as recorded.
    pub phones: Vec<String>,
    /// Email addresses.
    pub emails: Vec<String>,
}

/// The forms aliases take, configurable (`data/pseudonyms.toml`). `{letter}` is the next letter
/// of the adults' sequence (from A) or the children's (from B: the subject is A); `{n}` counts
/// per role or per address; `{role}` is a professional's role.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    /// The subject child.
    pub subject: String,
    /// Another child.
    pub child: String,
    /// A woman.
    pub female: String,
    /// A man.
    pub male: String,
    /// An adult whose sex is not recorded.
    pub adult: String,
    /// A professional.
    pub professional: String,
    /// An address.
    pub address: String,
}

impl Default for Scheme {
    fn default() -> Self {
        Self {
            subject: "Child A".into(),
            child: "Child {letter}".into(),
            female: "Ms {letter}".into(),
            male: "Mr {letter}".into(),
            adult: "Adult {letter}".into(),
            professional: "{role} {n}".into(),
            address: "Address {n}".into(),
        }
    }
}

impl Scheme {
    /// A scheme from TOML; fields not given keep the default.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Partial {
            subject: Option<String>,
            child: Option<String>,
            female: Option<String>,
            male: Option<String>,
            adult: Option<String>,
            professional: Option<String>,
            address: Option<String>,
        }
        let p: Partial = toml::from_str(text).map_err(|e| e.to_string())?;
        let d = Scheme::default();
        Ok(Scheme {
            subject: p.subject.unwrap_or(d.subject),
            child: p.child.unwrap_or(d.child),
            female: p.female.unwrap_or(d.female),
            male: p.male.unwrap_or(d.male),
            adult: p.adult.unwrap_or(d.adult),
            professional: p.professional.unwrap_or(d.professional),
            address: p.address.unwrap_or(d.address),
        })
    }
}

/// What kind of identifier a leak is: said in the message, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierKind {
    /// A name or a form of one.
    Name,
    /// An NHS number.
    NhsNumber,
    /// A date of birth.
    DateOfBirth,
    /// A postcode.
    Postcode,
    /// An address line or street.
    Address,
    /// A telephone number.
    Phone,
    /// An email address.
    Email,
}

impl IdentifierKind {
    /// How it reads in a message.
    pub fn label(self) -> &'static str {
        match self {
            IdentifierKind::Name => "a name",
            IdentifierKind::NhsNumber => "an NHS number",
            IdentifierKind::DateOfBirth => "a date of birth",
            IdentifierKind::Postcode => "a postcode",
            IdentifierKind::Address => "an address",
            IdentifierKind::Phone => "a telephone number",
            IdentifierKind::Email => "an email address",
        }
    }
}

/// The aliases of one review, and the rewriting of its text through them.
#[derive(Debug, Clone)]
pub struct Pseudonyms {
    aliases: Vec<String>,
    /// Name phrases (lower-case words) with the alias that replaces them; a phrase two people
    /// share (a family name alone) is replaced by a neutral word.
    phrases: Vec<(Vec<String>, String)>,
    /// Address lines and streets (lower-case words) to their address alias.
    addresses: Vec<(Vec<String>, String)>,
    identifiers: Vec<(IdentifierKind, String)>,
    dates_of_birth: Vec<NaiveDate>,
    /// Given names (first given names and short forms, lower case) that are names however
    /// they are written: none is also an English word (see [`WORDS_THAT_ARE_NAMES`]).
    given_in_any_case: std::collections::HashSet<String>,
}

/// English words that are also given names: written in lower case they are taken for the
/// word ("a good will", "with grace"), not the person. Any other given name counts as a name
/// in lower case too ("kerry said"). Family names are not in lower case: too many are words
/// ("a brown bruise").
const WORDS_THAT_ARE_NAMES: &[&str] = &[
    "amber", "angel", "april", "art", "august", "autumn", "basil", "bill", "bob", "brook", "buck",
    "candy", "carol", "chance", "cherry", "chip", "chuck", "clay", "cliff", "crystal", "daisy",
    "dale", "dawn", "dean", "dell", "destiny", "dick", "dolly", "dot", "drew", "earl", "eve",
    "faith", "fern", "frank", "gene", "ginger", "glen", "grace", "grant", "guy", "hazel", "heath",
    "heather", "holly", "honey", "hope", "iris", "ivy", "jack", "jade", "jasmine", "jay", "jewel",
    "joy", "june", "kit", "lance", "lily", "mark", "mason", "max", "may", "mike", "miles", "misty",
    "nick", "norm", "olive", "opal", "pat", "patience", "pearl", "penny", "pepper", "peony",
    "petal", "pip", "poppy", "primrose", "ray", "reed", "rich", "river", "robin", "rocky", "rose",
    "ruby", "rusty", "sage", "sandy", "scarlett", "sky", "skye", "sonny", "star", "sterling",
    "storm", "sue", "summer", "sunny", "tad", "ted", "terry", "tiger", "tony", "victor", "violet",
    "wade", "ward", "will", "willow", "winter", "wren", "rob", "don", "nan", "van", "bud", "tom",
    "gay", "hank", "lee", "bea", "sal", "mo", "gus", "norman", "marina", "reed", "hunter", "colt",
    "nigh", "ash", "bay", "tan",
];

/// What replaces a name two people of the review share, said alone (a family name).
const SHARED_NAME: &str = "[name]";
/// The titles dropped before a name: the alias carries its own.
const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr", "master"];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn letter(n: usize) -> String {
    // A..Z, then AA, AB, ...: a review with more than 26 adults still gets one each.
    let mut n = n;
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (n % 26) as u8) as char);
        if n < 26 {
            return s;
        }
        n = n / 26 - 1;
    }
}

impl Pseudonyms {
    /// Aliases for `parties`, in their order.
    pub fn new(scheme: &Scheme, parties: &[Party]) -> Self {
        let (mut adults, mut children) = (0usize, 1usize);
        let mut per_role: HashMap<String, usize> = HashMap::new();
        let mut aliases = Vec::with_capacity(parties.len());
        for party in parties {
            let alias = match party.part.clone().unwrap_or(Part::Adult(None)) {
                Part::Subject => scheme.subject.clone(),
                Part::Child => {
                    children += 1;
                    scheme.child.replace("{letter}", &letter(children - 1))
                }
                Part::Adult(sex) => {
                    adults += 1;
                    let form = match sex {
                        Some(Sex::Female) => &scheme.female,
                        Some(Sex::Male) => &scheme.male,
                        _ => &scheme.adult,
                    };
                    form.replace("{letter}", &letter(adults - 1))
                }
                Part::Professional(role) => {
                    let n = per_role.entry(role.to_lowercase()).or_default();
                    *n += 1;
                    scheme
                        .professional
                        .replace("{role}", &role)
                        .replace("{n}", &n.to_string())
                }
            };
            aliases.push(alias);
        }
        let mut owners: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
        let mut identifiers = Vec::new();
        let mut dates_of_birth = Vec::new();
        let mut addresses: Vec<(Vec<String>, String)> = Vec::new();
        let disclosed: std::collections::HashSet<Vec<String>> = parties
            .iter()
            .filter(|p| p.disclosed)
            .flat_map(name_phrases)
            .collect();
        for (i, party) in parties.iter().enumerate() {
            if party.disclosed {
                continue;
            }
            for phrase in name_phrases(party) {
                if disclosed.contains(&phrase) {
                    continue;
                }
                let list = owners.entry(phrase).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
            let ids = &party.identifiers;
            identifiers.extend(
                ids.nhs_numbers
                    .iter()
                    .map(|n| (IdentifierKind::NhsNumber, digits(n))),
            );
            identifiers.extend(
                ids.postcodes
                    .iter()
                    .map(|p| (IdentifierKind::Postcode, compact(p))),
            );
            identifiers.extend(
                ids.phones
                    .iter()
                    .map(|p| (IdentifierKind::Phone, digits(p))),
            );
            identifiers.extend(
                ids.emails
                    .iter()
                    .map(|e| (IdentifierKind::Email, e.to_lowercase())),
            );
            dates_of_birth.extend(&ids.dates_of_birth);
            for line in &ids.address_lines {
                let line_words = words(line);
                if line_words.is_empty() || addresses.iter().any(|(w, _)| *w == line_words) {
                    continue;
                }
                let alias = scheme
                    .address
                    .replace("{n}", &(addresses.len() + 1).to_string());
                // The street alone ("Example Road" of "14 Example Road") is the same address.
                let street: Vec<String> = line_words
                    .iter()
                    .skip_while(|w| w.chars().any(|c| c.is_ascii_digit()))
                    .cloned()
                    .collect();
                addresses.push((line_words, alias.clone()));
                if street.len() >= 2 && !addresses.iter().any(|(w, _)| *w == street) {
                    addresses.push((street, alias));
                }
            }
        }
        // Longest first, so "14 Example Road" is matched before "Example Road".
        addresses.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        let phrases: Vec<(Vec<String>, String)> = owners
            .into_iter()
            .map(|(phrase, who)| {
                let alias = match who.as_slice() {
                    [one] => aliases[*one].clone(),
                    _ => SHARED_NAME.to_owned(),
                };
                (phrase, alias)
            })
            .collect();
        let given_in_any_case = parties
            .iter()
            .filter(|p| !p.disclosed)
            .flat_map(|p| {
                p.names
                    .iter()
                    .filter_map(|n| n.given.first())
                    .chain(&p.short_forms)
                    .flat_map(|g| words(g))
            })
            .filter(|w| w.chars().count() >= 3 && !WORDS_THAT_ARE_NAMES.contains(&w.as_str()))
            .filter(|w| phrases.iter().any(|(p, _)| p.len() == 1 && p[0] == *w))
            .collect();
        Self {
            aliases,
            phrases,
            addresses,
            identifiers,
            dates_of_birth,
            given_in_any_case,
        }
    }

    /// Whether a word names someone alone: written as a name, or a given name in any case.
    fn names_alone(&self, word: &str) -> bool {
        looks_like_a_name(word) || self.given_in_any_case.contains(&word.to_lowercase())
    }

    /// The alias of the party at `index` (the order given).
    pub fn alias(&self, index: usize) -> &str {
        &self.aliases[index]
    }

    /// `text` with every name of the review replaced by its alias (whole names, given or
    /// family names alone, short forms, in any case, across line breaks, with a title before
    /// them dropped and a possessive kept), addresses by theirs, and NHS numbers, telephone
    /// numbers, emails, postcodes and dates of birth removed.
    pub fn rewrite(&self, text: &str) -> String {
        let text = remove_emails(text);
        let text = remove_long_numbers(&text);
        let text = self.remove_dates_of_birth(&text);
        let text = remove_postcodes(&text);
        let tokens = tokenize(&text);
        let text = self.replace_phrases(&tokens, &self.addresses, false);
        let tokens = tokenize(&text);
        self.replace_phrases(&tokens, &self.phrases, true)
    }

    fn remove_dates_of_birth(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for date in &self.dates_of_birth {
            for form in date_forms(*date) {
                text = replace_ignoring_case(&text, &form, "[date of birth]");
            }
        }
        text
    }

    /// Replaces the longest phrase starting at each word (words compared in lower case,
    /// separated by whitespace only, line breaks included).
    fn replace_phrases(
        &self,
        tokens: &[Token<'_>],
        phrases: &[(Vec<String>, String)],
        names: bool,
    ) -> String {
        let longest = phrases.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
        let by_phrase: HashMap<&[String], &str> = phrases
            .iter()
            .map(|(p, a)| (p.as_slice(), a.as_str()))
            .collect();
        let mut out = String::with_capacity(tokens.iter().map(|t| t.text.len()).sum());
        let mut i = 0;
        while i < tokens.len() {
            let token = &tokens[i];
            if !token.is_word() {
                out.push_str(token.text);
                i += 1;
                continue;
            }
            // A name alone is a name when written as one; a whole name in any case.
            let least = if names && !self.names_alone(token.text) {
                2
            } else {
                1
            };
            // The words that follow, across whitespace only.
            let mut span = vec![i];
            let mut j = i + 1;
            while span.len() < longest
                && j + 1 < tokens.len()
                && tokens[j].is_space()
                && tokens[j + 1].is_word()
            {
                span.push(j + 1);
                j += 2;
            }
            let mut matched = None;
            for n in (least..=span.len()).rev() {
                let key: Vec<String> = span[..n]
                    .iter()
                    .map(|&k| tokens[k].text.to_lowercase())
                    .collect();
                if let Some(alias) = by_phrase.get(key.as_slice()) {
                    matched = Some((span[n - 1], *alias));
                    break;
                }
            }
            match matched {
                Some((last, alias)) => {
                    if names {
                        drop_title(&mut out);
                    }
                    out.push_str(alias);
                    i = last + 1;
                }
                None => {
                    out.push_str(token.text);
                    i += 1;
                }
            }
        }
        out
    }

    /// What identifying is left in `text`: each kind found, at most once, never the value.
    pub fn leaks(&self, text: &str) -> Vec<IdentifierKind> {
        // The aliases are the review's own words ("Clerk 1" for a ward clerk named Clerk).
        let mut text = text.to_owned();
        for alias in &self.aliases {
            text = text.replace(alias.as_str(), " ");
        }
        let text = text.as_str();
        let mut found = Vec::new();
        let tokens = tokenize(text);
        let words_in: Vec<String> = tokens
            .iter()
            .filter(|t| t.is_word() && self.names_alone(t.text))
            .map(|t| t.text.to_lowercase())
            .collect();
        let all_words: Vec<String> = words(text);
        let contains = |haystack: &[String], phrase: &[String]| {
            !phrase.is_empty() && haystack.windows(phrase.len()).any(|w| w == phrase)
        };
        if self.phrases.iter().any(|(p, _)| {
            if p.len() == 1 {
                contains(&words_in, p)
            } else {
                contains(&all_words, p)
            }
        }) {
            found.push(IdentifierKind::Name);
        }
        if self.addresses.iter().any(|(p, _)| contains(&all_words, p)) {
            found.push(IdentifierKind::Address);
        }
        let runs = digit_runs(text);
        let squeezed = compact(text);
        let lower = text.to_lowercase();
        for (kind, value) in &self.identifiers {
            let hit = match kind {
                IdentifierKind::NhsNumber => {
                    !value.is_empty() && runs.iter().any(|r| r.contains(value.as_str()))
                }
                // A number written without its country or area code is still the number:
                // its last eight digits (the subscriber's number in most of the UK).
                IdentifierKind::Phone => {
                    let tail = &value[value.len().saturating_sub(8)..];
                    tail.len() >= 6 && runs.iter().any(|r| r.contains(tail))
                }
                IdentifierKind::Postcode => !value.is_empty() && squeezed.contains(value.as_str()),
                IdentifierKind::Email => !value.is_empty() && lower.contains(value.as_str()),
                _ => false,
            };
            if hit && !found.contains(kind) {
                found.push(*kind);
            }
        }
        let normalised = normalise_spaces(&lower);
        if self.dates_of_birth.iter().any(|d| {
            date_forms(*d)
                .iter()
                .any(|f| normalised.contains(&normalise_spaces(&f.to_lowercase())))
        }) {
            found.push(IdentifierKind::DateOfBirth);
        }
        found.sort();
        found
    }
}

/// A person's age on a day, as a review gives it instead of a date of birth: "2 years 3
/// months", "7 months", "3 weeks".
pub fn age_on(born: NaiveDate, on: NaiveDate) -> String {
    if on < born {
        return "not yet born".into();
    }
    let mut months = (on.year() - born.year()) * 12 + on.month() as i32 - born.month() as i32;
    if on.day() < born.day() {
        months -= 1;
    }
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match months {
        0 => plural((on - born).num_weeks(), "week"),
        m if m < 24 => plural(i64::from(m), "month"),
        m => {
            let (years, rest) = (m / 12, m % 12);
            if rest == 0 {
                plural(i64::from(years), "year")
            } else {
                format!(
                    "{} {}",
                    plural(i64::from(years), "year"),
                    plural(i64::from(rest), "month")
                )
            }
        }
    }
}

/// Every phrase naming the party: each full name, the first given name with the family name,
/// each given name, short form and family name alone, and each short form with the family name.
fn name_phrases(party: &Party) -> Vec<Vec<String>> {
    let mut phrases = Vec::new();
    let shorts: Vec<Vec<String>> = party.short_forms.iter().map(|s| words(s)).collect();
    for name in &party.names {
        let given: Vec<Vec<String>> = name.given.iter().map(|g| words(g)).collect();
        let family = name.family.as_deref().map(words).unwrap_or_default();
        let all_given: Vec<String> = given.iter().flatten().cloned().collect();
        if !family.is_empty() {
            phrases.push(family.clone());
            phrases.push([all_given.clone(), family.clone()].concat());
            for g in given.iter().chain(&shorts) {
                phrases.push([g.clone(), family.clone()].concat());
            }
        }
        if !all_given.is_empty() {
            phrases.push(all_given);
        }
        // The first given name alone, and the parts of a hyphenated one and of the family
        // name; a middle name only within the whole name ("Anne" of Kerry Anne Reeve is St
        // Anne's Hospital too).
        for part in name.given.first().into_iter().chain(&name.family) {
            phrases.push(words(part));
            phrases.extend(words(part).into_iter().map(|w| vec![w]));
        }
    }
    phrases.extend(shorts);
    phrases.retain(|p| !p.is_empty());
    phrases.sort();
    phrases.dedup();
    phrases
}

/// Whether a word could be a name as people write one: capitalised or in capitals. (A given
/// name that is no English word counts in lower case too: [`Pseudonyms::names_alone`].)
fn looks_like_a_name(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

fn drop_title(out: &mut String) {
    let trimmed = out.trim_end_matches([' ', '\t']);
    let before_space = trimmed.len();
    if before_space == out.len() {
        return;
    }
    let start = trimmed
        .rfind(|c: char| !c.is_alphabetic() && c != '.')
        .map_or(0, |i| {
            i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
        });
    let word = trimmed[start..].trim_end_matches('.').to_lowercase();
    if TITLES.contains(&word.as_str()) {
        out.truncate(start);
    }
}

#[derive(Debug)]
struct Token<'a> {
    text: &'a str,
    kind: TokenKind,
}

#[derive(Debug, PartialEq, Eq)]
enum TokenKind {
    Word,
    Space,
    Other,
}

impl Token<'_> {
    fn is_word(&self) -> bool {
        self.kind == TokenKind::Word
    }
    fn is_space(&self) -> bool {
        self.kind == TokenKind::Space
    }
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let kind_of = |c: char| {
        if c.is_alphanumeric() {
            TokenKind::Word
        } else if c.is_whitespace() {
            TokenKind::Space
        } else {
            TokenKind::Other
        }
    };
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut current: Option<TokenKind> = None;
    for (i, c) in text.char_indices() {
        let kind = kind_of(c);
        // Other characters are tokens of their own: an apostrophe ends a name ("Dan's").
        let continues = current.as_ref() == Some(&kind) && kind != TokenKind::Other;
        if !continues {
            if let Some(k) = current.take() {
                tokens.push(Token {
                    text: &text[start..i],
                    kind: k,
                });
            }
            start = i;
        }
        current = Some(kind);
    }
    if let Some(k) = current {
        tokens.push(Token {
            text: &text[start..],
            kind: k,
        });
    }
    tokens
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Upper case, letters and digits only: how postcodes are compared.
fn compact(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn normalise_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs of digits with the spaces, hyphens, dots and brackets people put between them, as
/// digits alone.
fn digit_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut run = String::new();
    let mut gap = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
            gap = 0;
        } else if !run.is_empty() && matches!(c, ' ' | '-' | '.' | '(' | ')' | '+') && gap < 2 {
            gap += 1;
        } else {
            if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
            gap = 0;
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// Numbers of ten digits or more (NHS numbers, telephone numbers), however spaced, removed.
fn remove_long_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit()
            || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let mut j = i;
            let (mut count, mut last_digit) = (0, i);
            while j < chars.len()
                && (chars[j].is_ascii_digit() || matches!(chars[j], ' ' | '-' | '(' | ')' | '+'))
            {
                if chars[j].is_ascii_digit() {
                    count += 1;
                    last_digit = j;
                }
                j += 1;
            }
            if count >= 10 {
                out.push_str("[number removed]");
                i = last_digit + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn remove_emails(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|w| {
            let word = w.trim_end();
            let core = word
                .trim_matches(|c: char| matches!(c, '(' | ')' | ',' | ';' | '.' | '<' | '>' | '"'));
            if core.contains('@') && core.contains('.') && !core.starts_with('@') {
                w.replace(core, "[email removed]")
            } else {
                w.to_owned()
            }
        })
        .collect()
}

/// Postcodes, written with their space or without, removed.
fn remove_postcodes(text: &str) -> String {
    let parts: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let bare = |s: &str| {
        s.trim()
            .trim_matches(|c: char| matches!(c, ',' | '.' | ';' | '(' | ')'))
            .to_owned()
    };
    while i < parts.len() {
        let one = bare(parts[i]);
        if i + 1 < parts.len() {
            let two = format!("{one} {}", bare(parts[i + 1]));
            if one.len() <= 4 && Postcode::parse(&two).is_ok() {
                out.push_str(&parts[i].replace(&one, "[postcode]"));
                out.push_str(&parts[i + 1].replace(&bare(parts[i + 1]), ""));
                i += 2;
                continue;
            }
        }
        if one.len() >= 5
            && Postcode::parse(&one).is_ok()
            && one.chars().any(|c| c.is_ascii_digit())
        {
            out.push_str(&parts[i].replace(&one, "[postcode]"));
        } else {
            out.push_str(parts[i]);
        }
        i += 1;
    }
    out
}

fn replace_ignoring_case(text: &str, needle: &str, with: &str) -> String {
    // Compared a character at a time (each by its first lower-case character), so that a
    // letter whose lower case is longer (İ) does not shift what follows.
    let fold = |c: char| c.to_lowercase().next().unwrap_or(c);
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().copied().map(fold).collect();
    let needle: Vec<char> = needle.chars().map(fold).collect();
    if needle.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if folded[i..].starts_with(&needle) {
            out.push_str(with);
            i += needle.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The ways a date is commonly written in case notes.
fn date_forms(d: NaiveDate) -> Vec<String> {
    let month = d.format("%B").to_string();
    let short = d.format("%b").to_string();
    let day = d.day();
    let suffix = match day {
        1 | 21 | 31 => "st",
        2 | 22 => "nd",
        3 | 23 => "rd",
        _ => "th",
    };
    let y = d.year();
    let (m, dd) = (d.month(), day);
    vec![
        format!("{dd:02}/{m:02}/{y}"),
        format!("{dd}/{m}/{y}"),
        format!("{dd:02}-{m:02}-{y}"),
        format!("{dd}-{m}-{y}"),
        format!("{dd:02}.{m:02}.{y}"),
        format!("{dd}.{m}.{y}"),
        format!("{y}-{m:02}-{dd:02}"),
        format!("{dd:02}/{m:02}/{:02}", y % 100),
        format!("{dd}/{m}/{:02}", y % 100),
        format!("{dd} {month} {y}"),
        format!("{dd}{suffix} {month} {y}"),
        format!("{dd} {short} {y}"),
        format!("{dd}{suffix} {short} {y}"),
        format!("{month} {dd} {y}"),
        format!("{month} {dd}, {y}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(given: &[&str], family: &str) -> PersonName {
        PersonName {
            given: given.iter().map(|s| (*s).to_owned()).collect(),
            family: Some(family.to_owned()),
        }
    }

    fn review() -> (Pseudonyms, Vec<Party>) {
        let parties = vec![
            Party {
                part: Some(Part::Subject),
                names: vec![name(&["Joshua"], "Reeve")],
                short_forms: vec!["Josh".into()],
                identifiers: Identifiers {
                    nhs_numbers: vec!["9434765919".into()],
                    dates_of_birth: vec![NaiveDate::from_ymd_opt(2006, 3, 1).unwrap()],
                    postcodes: vec!["NB7 3QX".into()],
                    address_lines: vec!["14 Larch Road".into()],
                    ..Identifiers::default()
                },
                disclosed: false,
            },
            Party {
                part: Some(Part::Adult(Some(Sex::Female))),
                names: vec![name(&["Kerry", "Anne"], "Reeve")],
                short_forms: vec!["Kez".into()],
                identifiers: Identifiers {
                    phones: vec!["07700 900123".into(), "020 7946 0000".into()],
                    emails: vec!["kerry.reeve@example.org".into()],
                    ..Identifiers::default()
                },
                disclosed: false,
            },
            Party {
                part: Some(Part::Adult(Some(Sex::Male))),
                names: vec![name(&["Daniel"], "Marsh"), name(&["Danny"], "Marsh")],
                short_forms: vec!["Dan".into()],
                identifiers: Identifiers::default(),
                disclosed: false,
            },
            Party {
                part: Some(Part::Professional("Social Worker".into())),
                names: vec![name(&["Priya"], "Shah")],
                ..Party::default()
            },
            Party {
                part: Some(Part::Professional("Social Worker".into())),
                names: vec![name(&["Tom"], "Elliott")],
                ..Party::default()
            },
        ];
        (Pseudonyms::new(&Scheme::default(), &parties), parties)
    }

    #[test]
    fn each_person_has_one_alias_by_part_and_order() {
        let (p, _) = review();
        let aliases: Vec<&str> = (0..5).map(|i| p.alias(i)).collect();
        assert_eq!(
            aliases,
            [
                "Child A",
                "Ms A",
                "Mr B",
                "Social Worker 1",
                "Social Worker 2"
            ]
        );
    }

    #[test]
    fn names_are_replaced_whole_alone_in_capitals_possessive_and_across_lines() {
        let (p, _) = review();
        let text = "Mr Daniel Marsh came to the door. DAN said Josh was asleep.\nDan's car was outside; \
                    Kerry Anne\nReeve said Danny Marsh does not live there. Kez told SW Priya Shah.";
        let out = p.rewrite(text);
        assert_eq!(
            out,
            "Mr B came to the door. Mr B said Child A was asleep.\nMr B's car was outside; \
             Ms A said Mr B does not live there. Ms A told SW Social Worker 1."
        );
        assert!(p.leaks(&out).is_empty(), "{:?}", p.leaks(&out));
    }

    #[test]
    fn a_family_name_two_people_share_is_not_given_to_either() {
        let (p, _) = review();
        assert_eq!(p.rewrite("The Reeve household."), "The [name] household.");
    }

    #[test]
    fn identifiers_in_free_text_are_removed() {
        let (p, _) = review();
        let text = "NHS no 943 476 5919, born 01/03/2006 (1st March 2006), lives at 14 Larch Road, \
                    NB7 3QX; mother on 07700 900123 or kerry.reeve@example.org. Larch Road again, nb73qx.";
        let out = p.rewrite(text);
        assert!(p.leaks(&out).is_empty(), "{out} {:?}", p.leaks(&out));
        assert!(out.contains("Address 1"), "{out}");
        assert!(
            out.contains("[postcode]") && out.contains("[date of birth]"),
            "{out}"
        );
    }

    #[test]
    fn the_leak_check_names_each_kind_never_the_value() {
        let (p, _) = review();
        let planted = "Seen with joshua reeve (DOB 1 March 2006) at nb7 3qx, NHS 9434765919.";
        let leaks = p.leaks(planted);
        assert_eq!(
            leaks,
            [
                IdentifierKind::Name,
                IdentifierKind::NhsNumber,
                IdentifierKind::DateOfBirth,
                IdentifierKind::Postcode
            ]
        );
        // Words that are also names, in lower case, are not names.
        assert!(p.leaks("He will grace the meeting.").is_empty());
        // A given name that is no word is a name in lower case too: rewritten, and caught
        // where it was planted; a family name in lower case is a word ("reeve" is one).
        assert_eq!(p.leaks("then kerry said so"), [IdentifierKind::Name]);
        let out = p.rewrite("then kerry said so, and joshua's nan agreed");
        assert!(!out.contains("kerry") && !out.contains("joshua"), "{out}");
        assert!(p.leaks(&out).is_empty(), "{out}");
        assert_eq!(
            p.rewrite("the reeve of the manor"),
            "the reeve of the manor"
        );
    }

    #[test]
    fn a_date_of_birth_is_removed_beside_letters_whose_lower_case_is_longer() {
        let (p, _) = review();
        let out = p.rewrite("İlknur said he was born 01/03/2006.");
        assert_eq!(out, "İlknur said he was born [date of birth].");
    }

    #[test]
    fn a_telephone_number_without_its_area_code_is_still_found() {
        let (p, _) = review();
        assert_eq!(p.leaks("Call her on 7946 0000."), [IdentifierKind::Phone]);
        assert!(p.leaks("Weight 9001 grams.").is_empty());
    }

    #[test]
    fn a_disclosed_subject_keeps_their_name_and_the_family_name_they_share() {
        let (_, mut parties) = review();
        parties[0].disclosed = true;
        let p = Pseudonyms::new(&Scheme::default(), &parties);
        let out = p.rewrite("Joshua Reeve (NHS 943 476 5919) was with Kerry Reeve and Dan.");
        assert_eq!(
            out,
            "Joshua Reeve (NHS [number removed]) was with Ms A and Mr B."
        );
        assert!(p.leaks("Joshua Reeve, born 01/03/2006").is_empty());
        assert_eq!(p.leaks("Kerry was there"), [IdentifierKind::Name]);
    }

    #[test]
    fn an_age_replaces_a_date_of_birth() {
        let born = NaiveDate::from_ymd_opt(2006, 3, 1).unwrap();
        let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(age_on(born, on(2006, 3, 20)), "2 weeks");
        assert_eq!(age_on(born, on(2007, 8, 3)), "17 months");
        assert_eq!(age_on(born, on(2009, 2, 28)), "2 years 11 months");
        assert_eq!(age_on(born, on(2010, 3, 1)), "4 years");
        assert_eq!(age_on(born, on(2005, 1, 1)), "not yet born");
    }

    #[test]
    fn the_shipped_scheme_file_is_the_default() {
        let shipped = include_str!("../../../data/pseudonyms.toml");
        assert_eq!(Scheme::from_toml(shipped).unwrap(), Scheme::default());
    }

    #[test]
    fn the_scheme_is_configurable_and_letters_go_on_past_z() {
        let scheme =
            Scheme::from_toml("female = \"Woman {letter}\"\nsubject = \"Child P\"").unwrap();
        let parties = vec![
            Party {
                part: Some(Part::Subject),
                ..Party::default()
            },
            Party {
                part: Some(Part::Adult(Some(Sex::Female))),
                ..Party::default()
            },
        ];
        let p = Pseudonyms::new(&scheme, &parties);
        assert_eq!((p.alias(0), p.alias(1)), ("Child P", "Woman A"));
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert!(Scheme::from_toml("unknown = 1").is_err());
    }

    /// Generated people and notes: whatever the names and however the note writes them, the
    /// rewritten note leaks none of them.
    #[test]
    fn generated_notes_never_leak_a_generated_name() {
        const GIVEN: &[&str] = &[
            "Aisha", "Ben", "Carys", "Dmitri", "Eleanor", "Farid", "Gwen", "Hamish", "Ines",
            "Jasper",
        ];
        const FAMILY: &[&str] = &[
            "Okafor",
            "Llewellyn",
            "Nowak",
            "Pritchard",
            "Quayle",
            "Rossi",
            "Szabo",
            "Tennant",
        ];
        let mut seed: u64 = 2007;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n
        };
        for _ in 0..300 {
            let people: Vec<(String, String)> = (0..3)
                .map(|_| {
                    (
                        GIVEN[next(GIVEN.len())].to_owned(),
                        FAMILY[next(FAMILY.len())].to_owned(),
                    )
                })
                .collect();
            let parties: Vec<Party> = people
                .iter()
                .enumerate()
                .map(|(i, (g, f))| Party {
                    part: Some(if i == 0 {
                        Part::Subject
                    } else {
                        Part::Adult(None)
                    }),
                    names: vec![name(&[g], f)],
                    ..Party::default()
                })
                .collect();
            let p = Pseudonyms::new(&Scheme::default(), &parties);
            let mut note = String::new();
            for _ in 0..6 {
                let (g, f) = &people[next(people.len())];
                let form = match next(6) {
                    0 => format!("{g} {f}"),
                    1 => g.to_uppercase(),
                    2 => format!("{g}'s"),
                    3 => format!("{g}\n{f}"),
                    4 => format!("Mr {f}"),
                    _ => f.to_uppercase(),
                };
                note.push_str(&form);
                note.push_str([" said that ", ". Then ", ", and ", "\n"][next(4)]);
            }
            let out = p.rewrite(&note);
            assert!(p.leaks(&out).is_empty(), "{note:?} -> {out:?}");
        }
    }
}
