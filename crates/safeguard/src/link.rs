//! `safeguard link`: identity resolution over the whole store (batch, honouring reviewers'
//! decisions), over files, so the engine can be judged alone, and a generator of UK-style test
//! data with known truth.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use safeguard_linkage::compare::BirthDate;
use safeguard_linkage::linker::{self, Settings, Stage};
use safeguard_linkage::record::{Record, Sex};
use safeguard_linkage::synthetic;

/// What `link` does: with neither `--input` nor `--link-only`, relink the store.
#[derive(Args)]
pub struct LinkArgs {
    /// The store to relink: `sqlite:PATH` or `postgres://user@host/database`.
    #[arg(long, conflicts_with_all = ["input", "link_only"])]
    database: Option<safeguard_store::DatabaseUrl>,
    #[command(flatten)]
    files: crate::replay::RuleFiles,
    /// Re-evaluate changed persons' flags as the record stood on this day (default: today).
    #[arg(long)]
    at: Option<chrono::NaiveDate>,
    /// People to deduplicate: `id,given_name,surname,date_of_birth,sex,postcode,address,nhs_number`.
    #[arg(long, conflicts_with = "link_only")]
    input: Option<PathBuf>,
    /// Two files to link to each other (records within one file are not compared).
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    link_only: Vec<PathBuf>,
    /// Where to write `id,cluster_id,match_probability`.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Files only: where to write the pairs left for a person to decide, most likely first,
    /// with why and how each field compared.
    #[arg(long, conflicts_with = "database")]
    review: Option<PathBuf>,
    /// Probability at or above which a pair is linked.
    #[arg(long, default_value_t = Settings::default().link_threshold)]
    threshold: f64,
    /// Files only: the textbook two-class model, without the household class and the rules
    /// that keep twins, a father and his namesake son apart. For comparing engines on data
    /// with no households (FEBRL), never for people's records.
    #[arg(long, conflicts_with = "database")]
    textbook: bool,
    #[command(subcommand)]
    command: Option<LinkCommand>,
}

/// `link` subcommands.
#[derive(Subcommand)]
pub enum LinkCommand {
    /// Write a generated UK-style person file with its truth (deterministic by seed).
    Generate {
        /// How many records.
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Seed.
        #[arg(long, default_value_t = 2007)]
        seed: u64,
        /// The person file.
        #[arg(long)]
        output: PathBuf,
        /// The truth: `id,person_id`, and `person_a,person_b,relation` in `<output>.relations.csv`.
        #[arg(long)]
        truth: PathBuf,
    },
}

/// The columns a person file may have; only `id` is required.
pub const COLUMNS: [&str; 8] = [
    "id",
    "given_name",
    "surname",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
    "nhs_number",
];

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line number.
    pub line: usize,
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong.
    pub problem: String,
    /// Whether the row was still read: a field that cannot be read is left out (or, a date
    /// that cannot be, kept digit by digit); a row without an id or of the wrong shape is not.
    pub row_kept: bool,
}

/// Writes CSV rows to a string.
fn csv_text(rows: impl IntoIterator<Item = Vec<String>>) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(&row)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Reads a date of birth: `YYYY-MM-DD`, `DD/MM/YYYY`, `YYYY-MM` or `YYYY`. A date of that
/// shape that cannot be (month 13, 30 February) is kept as written, with the reason: it is
/// most likely mistyped, and the digits not mistyped still count (one digit different).
pub fn parse_birth_date(text: &str) -> Result<(BirthDate, Option<String>), String> {
    let bad = || format!("{text:?} is not a date (YYYY-MM-DD, DD/MM/YYYY, YYYY-MM or YYYY)");
    let numbers: Vec<u32> = text
        .split(['-', '/'])
        .map(|p| p.trim().parse::<u32>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let (year, month, day) = match (text.contains('/'), numbers.as_slice()) {
        (false, [y]) => (*y, None, None),
        (false, [y, m]) => (*y, Some(*m), None),
        (false, [y, m, d]) => (*y, Some(*m), Some(*d)),
        (true, [d, m, y]) => (*y, Some(*m), Some(*d)),
        _ => return Err(bad()),
    };
    let valid = (1850..=2100).contains(&year)
        && month.is_none_or(|m| (1..=12).contains(&m))
        && match (month, day) {
            (Some(m), Some(d)) => chrono::NaiveDate::from_ymd_opt(year as i32, m, d).is_some(),
            _ => true,
        };
    let date = BirthDate {
        year: year as i32,
        month,
        day,
    };
    let as_written = (1000..=9999).contains(&year)
        && month.is_none_or(|m| m <= 99)
        && day.is_none_or(|d| d <= 99);
    match (valid, as_written) {
        (true, _) => Ok((date, None)),
        (false, true) => Ok((
            date,
            Some(format!(
                "{text:?} is not a real date; compared digit by digit"
            )),
        )),
        (false, false) => Err(format!("{text:?} is not a real date")),
    }
}

/// Reads a person file, reporting each problem with its line and field: a row keeps what can
/// be read of it, unless it has no id or is not a row at all.
pub fn read_people(text: &str) -> anyhow::Result<(Vec<Record>, Vec<RowProblem>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut rows = reader.records();
    let header = rows
        .next()
        .context("the file is empty: it needs a header line")?
        .map_err(|e| anyhow::anyhow!("line 1: {e}"))?;
    let position = |name: &str| header.iter().position(|h| h.trim() == name);
    let id_column = position("id").context("line 1: the header has no `id` column")?;
    if let Some(unknown) = header.iter().find(|h| !COLUMNS.contains(&h.trim())) {
        anyhow::bail!(
            "line 1: unknown column {unknown:?}; expected some of {}",
            COLUMNS.join(",")
        );
    }
    let columns: Vec<Option<usize>> = COLUMNS.iter().map(|c| position(c)).collect();
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    for row in rows {
        let (line_number, fields) = match row {
            Ok(fields) => (fields.position().map_or(0, |p| p.line() as usize), fields),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                rejected.push(RowProblem {
                    line,
                    field: "row",
                    problem: e.to_string(),
                    row_kept: false,
                });
                continue;
            }
        };
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let reject = |field: &'static str, problem: String| RowProblem {
            line: line_number,
            field,
            problem,
            row_kept: false,
        };
        let note = |field: &'static str, problem: String| RowProblem {
            line: line_number,
            field,
            problem,
            row_kept: true,
        };
        if fields.len() != header.len() {
            rejected.push(reject(
                "row",
                format!(
                    "{} fields where the header has {}",
                    fields.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let get = |k: usize| {
            columns[k]
                .map(|i| fields[i].trim())
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        let Some(id) = Some(fields[id_column].trim()).filter(|v| !v.is_empty()) else {
            rejected.push(reject("id", "is empty".into()));
            continue;
        };
        let birth_date = match get(3).map(|d| parse_birth_date(&d)).transpose() {
            Ok(None) => None,
            Ok(Some((date, problem))) => {
                if let Some(problem) = problem {
                    rejected.push(note("date_of_birth", problem));
                }
                Some(date)
            }
            Err(e) => {
                rejected.push(note("date_of_birth", format!("{e}; left out")));
                None
            }
        };
        let sex = match get(4).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("u" | "unknown" | "9" | "0") => None,
            Some("f" | "female" | "2") => Some(Sex::Female),
            Some("m" | "male" | "1") => Some(Sex::Male),
            Some(other) => {
                rejected.push(note(
                    "sex",
                    format!("{other:?} is not F, M or U (female, male, unknown); left out"),
                ));
                None
            }
        };
        records.push(Record {
            id: id.to_string(),
            given_name: get(1),
            family_name: get(2),
            birth_date,
            sex,
            postcode: get(5),
            address: get(6),
            nhs_number: get(7),
        });
    }
    Ok((records, rejected))
}

fn read_file(path: &Path) -> anyhow::Result<Vec<Record>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (records, rejected) =
        read_people(&text).with_context(|| format!("reading {}", path.display()))?;
    for r in &rejected {
        eprintln!(
            "{}: line {}, field {}: {}{}",
            path.display(),
            r.line,
            r.field,
            r.problem,
            if r.row_kept { "" } else { " (row skipped)" }
        );
    }
    if !rejected.is_empty() {
        let skipped = rejected.iter().filter(|r| !r.row_kept).count();
        eprintln!(
            "{}: {} rows skipped, {} read ({} with a field left out or kept as written)",
            path.display(),
            skipped,
            records.len(),
            rejected.len() - skipped
        );
    }
    Ok(records)
}

fn bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(1).with_style(
        indicatif::ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len}")
            .expect("a valid template"),
    );
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar
}

/// `bench online`: how long placing one arriving record takes when `records` are held. The
/// held records and the arrivals come from one generated set, so arrivals have their matches
/// (and their households) among the held. Each arrival is timed twice: looking up its
/// candidates by blocking key alone (the baseline), and the whole placement (lookup,
/// comparing and weighing every candidate, deciding). Uses the generic model, as a store does
/// before it is trained.
pub fn bench_online(records: usize, queries: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        queries > 0 && records > 0,
        "give at least one record and one query"
    );
    let bar = bar();
    bar.set_message("generating");
    let data = synthetic::generate(records + queries, 2007);
    bar.set_message("preparing");
    let prepared = linker::prepare(&data.records);
    let settings = Settings::default();
    let trained = linker::Trained::generic();
    let mut index = linker::Index::new();
    bar.set_length(records as u64);
    bar.set_message("indexing");
    for (i, r) in prepared[..records].iter().enumerate() {
        index.insert(r.clone(), &settings.rules);
        if i % 10_000 == 0 {
            bar.set_position(i as u64);
        }
    }
    bar.finish_and_clear();
    let arrivals = &prepared[records..];
    let mut lookup = Vec::with_capacity(arrivals.len());
    let mut placement = Vec::with_capacity(arrivals.len());
    let mut candidates = 0usize;
    for r in arrivals {
        let started = Instant::now();
        let found = index.candidates(r, &settings);
        lookup.push(started.elapsed());
        candidates += found.len();
        let started = Instant::now();
        let matches = index.matches(r, trained, &settings);
        let placed = linker::place(&matches, &settings);
        placement.push(started.elapsed());
        std::hint::black_box(placed);
    }
    let quantile = |times: &mut Vec<std::time::Duration>, q: f64| {
        times.sort_unstable();
        let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1e3
    };
    let (l50, l99) = (quantile(&mut lookup, 0.5), quantile(&mut lookup, 0.99));
    let (p50, p99) = (
        quantile(&mut placement, 0.5),
        quantile(&mut placement, 0.99),
    );
    let max = placement.last().map_or(0.0, |d| d.as_secs_f64() * 1e3);
    println!(
        "bench online: {queries} arriving records placed among {records} held ({:.1} candidates each on average)",
        candidates as f64 / arrivals.len() as f64
    );
    println!("{:<28} {:>9} {:>9} {:>9}", "", "p50 ms", "p99 ms", "max ms");
    println!(
        "{:<28} {l50:>9.3} {l99:>9.3}",
        "candidate lookup (baseline)"
    );
    println!("{:<28} {p50:>9.3} {p99:>9.3} {max:>9.3}", "placement");
    println!(
        "placement p99 = {:.1} x the lookup's; goal p99 <= 5 ms: {}",
        p99 / l99.max(1e-9),
        if p99 <= 5.0 { "met" } else { "NOT MET" }
    );
    Ok(())
}

/// Relinks every record in the store, with a progress bar, and says what changed.
pub fn relink_store(
    store: &safeguard_store::Store,
    book: &safeguard_core::rules::RuleBook,
    as_of: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let bar = bar();
    let progress = |stage: Stage, done: u64, total: u64| {
        bar.set_message(format!("{stage:?}").to_lowercase());
        bar.set_length(total.max(1));
        bar.set_position(done);
    };
    let run = store.relink(
        &safeguard_store::Actor::system("link"),
        book,
        as_of,
        &progress,
    )?;
    bar.finish_and_clear();
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    eprintln!(
        "Linked {} into {} in {:.1} s with {}: {} moved, {} merged, {} by reviewers kept, {} review.",
        count(run.records, "record", "records"),
        count(run.persons, "person", "persons"),
        started.elapsed().as_secs_f64(),
        if run.trained {
            "a model trained on this store"
        } else {
            "the generic model (too few records to train on)"
        },
        count(run.moved, "record", "records"),
        count(run.merged, "person", "persons"),
        count(run.decisions, "decision", "decisions"),
        count(
            run.open_reviews,
            "pair of records awaits",
            "pairs of records await"
        ),
    );
    Ok(())
}

/// Writes `id,cluster_id,match_probability`.
fn write_clusters(records: &[Record], persons: &linker::Persons) -> anyhow::Result<String> {
    let header = ["id", "cluster_id", "match_probability"].map(String::from);
    csv_text(
        std::iter::once(header.to_vec()).chain(records.iter().enumerate().map(|(i, r)| {
            let p = persons.probability[i].map_or(String::new(), |p| format!("{p:.4}"));
            vec![r.id.clone(), records[persons.cluster[i]].id.clone(), p]
        })),
    )
}

/// Writes `record_a,record_b,match_probability,reason` and how each field compared.
fn write_proposals(records: &[Record], proposals: &[linker::Proposal]) -> anyhow::Result<String> {
    use safeguard_linkage::compare::Field;
    let header = ["record_a", "record_b", "match_probability", "reason"]
        .map(String::from)
        .into_iter()
        .chain(
            Field::ALL
                .iter()
                .map(|f| f.name().replace(' ', "_").to_lowercase()),
        );
    csv_text(
        std::iter::once(header.collect()).chain(proposals.iter().map(|p| {
            let fields = Field::ALL
                .iter()
                .zip(p.weighed.levels)
                .map(|(field, level)| {
                    level
                        .map_or("missing", |l| field.levels()[usize::from(l)])
                        .to_string()
                });
            [
                records[p.a as usize].id.clone(),
                records[p.b as usize].id.clone(),
                format!("{:.4}", p.weighed.probability),
                p.reason.to_string(),
            ]
            .into_iter()
            .chain(fields)
            .collect()
        })),
    )
}

/// Runs `link` in file mode.
pub fn run(args: &LinkArgs) -> anyhow::Result<()> {
    if let Some(LinkCommand::Generate {
        records,
        seed,
        output,
        truth,
    }) = &args.command
    {
        return generate(*records, *seed, output, truth);
    }
    let (records, sources) = match (&args.input, args.link_only.as_slice()) {
        (None, []) => {
            let url = args
                .database
                .clone()
                .unwrap_or_else(safeguard_store::DatabaseUrl::default_embedded);
            let store = safeguard_store::Store::open(&url)
                .with_context(|| format!("failed to open {url}"))?;
            let as_of = args.at.unwrap_or_else(|| chrono::Local::now().date_naive());
            return relink_store(&store, &args.files.load()?, as_of);
        }
        (Some(input), []) => (read_file(input)?, None),
        (None, [a, b]) => {
            let a = read_file(a)?;
            let b = read_file(b)?;
            let sources: Vec<u8> = std::iter::repeat_n(0, a.len())
                .chain(std::iter::repeat_n(1, b.len()))
                .collect();
            (a.into_iter().chain(b).collect(), Some(sources))
        }
        _ => anyhow::bail!("give --input FILE, or --link-only A B"),
    };
    let output = args
        .output
        .as_ref()
        .context("give --output FILE for the clusters")?;
    let started = Instant::now();
    let settings = Settings {
        link_threshold: args.threshold,
        household_class: !args.textbook,
        ..Settings::default()
    };
    let bar = bar();
    // When each stage began, to say where the time went.
    let stages = std::sync::Mutex::new(vec![(Stage::Preparing, Instant::now())]);
    let progress = |stage: Stage, done: u64, total: u64| {
        let mut stages = stages.lock().unwrap_or_else(|e| e.into_inner());
        if stages.last().is_some_and(|(last, _)| *last != stage) {
            stages.push((stage, Instant::now()));
        }
        bar.set_message(format!("{stage:?}").to_lowercase());
        bar.set_length(total.max(1));
        bar.set_position(done);
    };
    bar.set_message("preparing");
    let prepared = linker::prepare(&records);
    let batch = linker::link(&prepared, sources.as_deref(), &settings, &progress);
    bar.finish_and_clear();
    let stages = stages.into_inner().unwrap_or_else(|e| e.into_inner());
    let ended = Instant::now();
    let timings: Vec<String> = stages
        .iter()
        .zip(stages.iter().skip(1).map(|(_, t)| *t).chain([ended]))
        .map(|((stage, began), until)| {
            format!(
                "{} {:.1} s",
                format!("{stage:?}").to_lowercase(),
                (until - *began).as_secs_f64()
            )
        })
        .collect();
    std::fs::write(output, write_clusters(&records, &batch.persons)?)
        .with_context(|| format!("writing {}", output.display()))?;
    let proposals = linker::proposals(&prepared, &batch.scored, &batch.persons, &settings);
    if let Some(review) = &args.review {
        std::fs::write(review, write_proposals(&records, &proposals)?)
            .with_context(|| format!("writing {}", review.display()))?;
    }
    let persons = {
        let mut c = batch.persons.cluster.clone();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    eprintln!(
        "{} records, {} candidate pairs ({} blocks too large, skipped), EM {} iterations, {} given-name aliases learnt: {} persons, {} pairs for review ({:.1} per 1,000 records) in {:.1} s ({})",
        records.len(),
        batch.scored.len(),
        batch.skipped_blocks,
        batch.trained.iterations,
        batch.trained.aliases.pairs().len(),
        persons,
        proposals.len(),
        proposals.len() as f64 * 1000.0 / records.len().max(1) as f64,
        started.elapsed().as_secs_f64(),
        timings.join(", ")
    );
    Ok(())
}

fn generate(records: usize, seed: u64, output: &Path, truth: &Path) -> anyhow::Result<()> {
    let data = synthetic::generate(records, seed);
    let text = |f: &Option<String>| f.clone().unwrap_or_default();
    let people = csv_text(std::iter::once(COLUMNS.map(String::from).to_vec()).chain(
        data.records.iter().map(|r| {
            let date = r
                .birth_date
                .map_or(String::new(), |d| match (d.month, d.day) {
                    (Some(m), Some(day)) => format!("{:04}-{m:02}-{day:02}", d.year),
                    (Some(m), None) => format!("{:04}-{m:02}", d.year),
                    _ => format!("{:04}", d.year),
                });
            let sex = match r.sex {
                Some(Sex::Female) => "F",
                Some(Sex::Male) => "M",
                None => "",
            };
            vec![
                r.id.clone(),
                text(&r.given_name),
                text(&r.family_name),
                date,
                sex.into(),
                text(&r.postcode),
                text(&r.address),
                text(&r.nhs_number),
            ]
        }),
    ))?;
    let truth_csv = csv_text(
        std::iter::once(vec!["id".into(), "person_id".into()]).chain(
            data.records
                .iter()
                .zip(&data.person)
                .map(|(r, person)| vec![r.id.clone(), format!("p{person}")]),
        ),
    )?;
    let relations = csv_text(
        std::iter::once(
            ["person_a", "person_b", "relation"]
                .map(String::from)
                .to_vec(),
        )
        .chain(
            data.relations
                .iter()
                .map(|(a, b, kind)| vec![format!("p{a}"), format!("p{b}"), kind.label().into()]),
        ),
    )?;
    std::fs::write(output, people).with_context(|| format!("writing {}", output.display()))?;
    std::fs::write(truth, truth_csv).with_context(|| format!("writing {}", truth.display()))?;
    let relations_path = PathBuf::from(format!("{}.relations.csv", truth.display()));
    std::fs::write(&relations_path, relations)
        .with_context(|| format!("writing {}", relations_path.display()))?;
    eprintln!(
        "{} records of {} persons written to {}",
        data.records.len(),
        data.person.last().map_or(0, |p| p + 1),
        output.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_file_keeps_good_rows_and_names_the_line_and_field_of_bad_ones() {
        let text = "id,given_name,surname,date_of_birth,sex,postcode,address,nhs_number\n\
                    a1,Daniel,Marsh,1975-08-21,M,NB2 9LS,\"12 High St, Northbury\",\n\
                    a2,Danny,Marsh,21/08/1975,m,,,\n\
                    a3,Dan,Marsh,1975-02-30,M,,,\n\
                    ,Nobody,Here,,,,,\n\
                    a5,Sam,Reeve,,X,,,\n\
                    a6,too,few\n\
                    a7,,,1975,,,,9992345675\n";
        let (records, rejected) = read_people(text).expect("a header");
        assert_eq!(
            records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a1", "a2", "a3", "a5", "a7"]
        );
        assert_eq!(records[0].address.as_deref(), Some("12 High St, Northbury"));
        assert_eq!(records[0].birth_date, records[1].birth_date);
        assert_eq!(records[1].sex, Some(Sex::Male));
        assert_eq!(
            records[2].birth_date.map(|d| (d.year, d.month, d.day)),
            Some((1975, Some(2), Some(30))),
            "30 February, kept as written for its digits"
        );
        assert_eq!(records[3].sex, None, "X is left out, the row kept");
        assert_eq!(records[4].given_name, None);
        assert_eq!(
            records[4].birth_date.map(|d| (d.year, d.month)),
            Some((1975, None))
        );
        let at: Vec<(usize, &str, bool)> = rejected
            .iter()
            .map(|r| (r.line, r.field, r.row_kept))
            .collect();
        assert_eq!(
            at,
            [
                (4, "date_of_birth", true),
                (5, "id", false),
                (6, "sex", true),
                (7, "row", false)
            ]
        );
        assert!(rejected[0].problem.contains("not a real date"));
        assert!(
            parse_birth_date("20/20/20").is_err(),
            "not a date of any shape"
        );
    }

    #[test]
    fn a_header_without_an_id_or_with_an_unknown_column_is_refused() {
        assert!(read_people("name,surname\nx,y\n").is_err());
        let e = read_people("id,favourite_colour\n1,blue\n").unwrap_err();
        assert!(e.to_string().contains("favourite_colour"));
    }
}
