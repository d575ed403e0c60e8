//! `bench review`: a practice review of a long chronology with many people, built whole
//! (replay, pseudonyms, the rewriting of every entry, the clocks, the leak check) and rendered
//! as HTML, against reading the same chronology through the store in the same run.

use std::time::{Duration, Instant};

use clap::Args;
use safeguard_core::Entry;
use safeguard_core::pseudonym::Scheme;
use safeguard_core::review::Level;
use safeguard_core::rules::RuleBook;
use safeguard_store::{Actor, ChronologyQuery};
use safeguard_web::review_export::{ReviewOptions, build_review};

use super::{Databases, Engines, engines, long_case, percentile};
use crate::demo;

/// Options for the review benchmark.
#[derive(Args)]
pub struct ReviewBenchOptions {
    /// Engines to measure, each on a throwaway database.
    #[arg(long, value_enum, default_value_t = Engines::Sqlite)]
    engine: Engines,
    /// Reviews built and timed.
    #[arg(long, default_value_t = 10)]
    iterations: usize,
    /// Entries in the child's chronology.
    #[arg(long, default_value_t = 1000)]
    entries: usize,
    /// People named in it, at least (the demo case's and more adults who visit).
    #[arg(long, default_value_t = 20)]
    people: usize,
}

/// The goal: a review at most this long, leak check included.
const GOAL: Duration = Duration::from_secs(1);

/// Adults who come and go in the grown case, to reach the people asked for.
const VISITORS: [(&str, &str); 24] = [
    ("Wayne", "Bennett"),
    ("Tina", "Holloway"),
    ("Craig", "Pemberton"),
    ("Leanne", "Foster"),
    ("Dean", "Whitlock"),
    ("Marie", "Calder"),
    ("Shane", "Morrow"),
    ("Paula", "Gresham"),
    ("Lee", "Stannard"),
    ("Joanne", "Birtles"),
    ("Ryan", "Coupland"),
    ("Stacey", "Ormerod"),
    ("Karl", "Fenwick"),
    ("Donna", "Hepworth"),
    ("Jason", "Tolley"),
    ("Nicola", "Ashdown"),
    ("Gavin", "Rudd"),
    ("Kelly", "Marlow"),
    ("Scott", "Iveson"),
    ("Emma", "Thirlwell"),
    ("Barry", "Keeling"),
    ("Sonia", "Lavery"),
    ("Neil", "Oddie"),
    ("Gail", "Pickles"),
];

/// The demo case grown to `entries`, with a visitor present at some of them, so that at
/// least `people` distinct people are named.
fn grown_case(entries: usize, people: usize) -> Vec<Entry> {
    // As many visitors as people asked for: with the case's own, at least that many.
    let visitors = people.min(VISITORS.len());
    let mut grown = long_case(entries.max(demo::case_entries().len()));
    let start = demo::case_entries().len();
    for (i, entry) in grown[start..].iter_mut().enumerate() {
        if visitors == 0 || i % 3 != 0 {
            continue;
        }
        let (given, family) = VISITORS[(i / 3) % visitors];
        let mut value = serde_json::to_value(&*entry).expect("an entry serialises");
        value["persons"]
            .as_array_mut()
            .expect("an entry names people")
            .push(serde_json::json!({"role": "other_adult_present", "record": {
                "local_id": format!("VIS-{family}"),
                "name": {"given": [given], "family": family},
                "addresses": [{"lines": ["Flat 6, Carlow House", "Tern Street"], "postcode": "NB2 9LS"}]}}));
        *entry = serde_json::from_value(value).expect("still an entry");
    }
    grown
}

pub fn run(options: &ReviewBenchOptions) -> anyhow::Result<()> {
    let mut databases = Databases::new(options.engine)?;
    println!(
        "bench review: {} reviews of a child's {}-entry chronology naming at least {} people, built whole (replay, pseudonyms, clocks, leak check) and rendered as HTML; baseline: the same chronology read through the store",
        options.iterations, options.entries, options.people
    );
    println!(
        "{:<10} {:>8} {:>12} {:>12} {:>12} {:>8}",
        "engine", "people", "review p50", "review max", "read p50", "ratio"
    );
    let book = RuleBook::shipped();
    for engine in engines(options.engine) {
        let store = databases.fresh(engine)?;
        let child = demo::seed(
            &store,
            &demo::Population {
                families: 10,
                ..demo::Population::default()
            },
        )?;
        let grown = grown_case(options.entries, options.people);
        for batch in grown[demo::case_entries().len()..].chunks(100) {
            store.append(&Actor::system("bench"), batch)?;
        }
        let query = ChronologyQuery {
            limit: options.entries.max(1),
            ..ChronologyQuery::default()
        };
        let review_options = ReviewOptions {
            from: None,
            to: None,
            level: Level::Full,
            narrow_dates: false,
            scheme: Scheme::default(),
        };
        let mut reads = Vec::with_capacity(options.iterations);
        let mut reviews = Vec::with_capacity(options.iterations);
        let mut people = 0;
        for _ in 0..options.iterations.max(1) {
            let started = Instant::now();
            let page = std::hint::black_box(store.chronology(child, &query)?);
            reads.push(started.elapsed());
            let mut named: Vec<_> = page
                .entries
                .iter()
                .flat_map(|e| e.person_ids.clone())
                .collect();
            named.sort();
            named.dedup();
            people = named.len();
            let started = Instant::now();
            let built = build_review(&store, &book, child, &review_options)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            std::hint::black_box(built.to_html());
            reviews.push(started.elapsed());
        }
        reads.sort();
        reviews.sort();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        let p50 = percentile(&reviews, 0.5);
        let max = *reviews.last().expect("timed");
        println!(
            "{engine:<10} {people:>8} {:>12} {:>12} {:>12} {:>7.1}x  goal <= {} ms: {}",
            ms(p50),
            ms(max),
            ms(percentile(&reads, 0.5)),
            p50.as_secs_f64() / percentile(&reads, 0.5).as_secs_f64().max(1e-9),
            GOAL.as_millis(),
            if max <= GOAL { "met" } else { "NOT met" }
        );
    }
    Ok(())
}
