//! `bench import`: an agency's CSV export of 100,000 consultations imported whole (read,
//! checked, rows changed since an earlier import looked for, stored in one transaction with
//! their children evaluated), in rows per second, against the store's ingest of the same
//! entries (appended in batches, as `bench ingest` appends) in the same run.

use std::fmt::Write as _;
use std::time::Instant;

use clap::Args;
use safeguard_core::{Agency, AgencyId, AgencyKind, NhsNumber, Postcode};
use safeguard_interop::agency_csv::{Mapping, read_rows};
use safeguard_store::Actor;

use super::{BATCH, Databases, Engines, engines, progress};

/// The GP system's mapping shipped in `data/mappings/`, which the generated export follows.
const MAPPING: &str = include_str!("../../../../data/mappings/gp-consultations.toml");

/// Options for the import benchmark.
#[derive(Args)]
pub struct ImportBenchOptions {
    /// Engines to measure, each on a throwaway database.
    #[arg(long, value_enum, default_value_t = Engines::Both)]
    engine: Engines,
    /// Rows in the export.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
}

/// A GP export of `rows` consultations of generated UK-style people: a consultation, a child
/// not brought, or an injury seen, on days through 2023 and 2024.
fn export(rows: usize) -> String {
    let people = safeguard_linkage::synthetic::generate(rows, 2007);
    let mut csv = String::from(
        "ConsultationID,PatientID,Forenames,Surname,DOB,Sex,NHSNumber,Address1,Address2,Postcode,ParentID,ParentForenames,ParentSurname,ConsultationDate,ConsultationTime,EnteredAt,Clinician,ClinicianRole,Type,Reason,InjurySite,InjuryType,Explanation,Summary\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 2).expect("a date");
    for (i, r) in people.records.iter().enumerate() {
        let dob = r
            .birth_date
            .and_then(|b| {
                Some(
                    chrono::NaiveDate::from_ymd_opt(b.year, b.month?, b.day?)?
                        .format("%d/%m/%Y")
                        .to_string(),
                )
            })
            .unwrap_or_default();
        let nhs = r
            .nhs_number
            .clone()
            .filter(|n| NhsNumber::parse(n).is_ok())
            .unwrap_or_default();
        let postcode = r
            .postcode
            .clone()
            .filter(|p| Postcode::parse(p).is_ok())
            .unwrap_or_default();
        let sex = match r.sex {
            Some(safeguard_linkage::record::Sex::Female) => "F",
            Some(safeguard_linkage::record::Sex::Male) => "M",
            None => "",
        };
        let day = (start + chrono::Duration::days((i % 700) as i64)).format("%d/%m/%Y");
        let (code, extra, summary) = match i % 20 {
            0 => ("DNA", ",,,,", "Not brought to the appointment."),
            1 => (
                "INJ",
                ",arm,bruise,fell over,",
                "Bruise to the arm; says the child fell over.",
            ),
            _ => ("CONS", "review,,,,", "Seen; no concerns."),
        };
        let _ = writeln!(
            csv,
            "C-{i},P-{},{},{},{dob},{sex},{nhs},\"{}\",Northbury,{postcode},,,,{day},10:{:02},{day} 11:00,Dr A Okafor,GP,{code},{extra}{summary}",
            r.id,
            r.given_name.as_deref().unwrap_or("Unknown"),
            r.family_name.as_deref().unwrap_or(""),
            r.address.as_deref().unwrap_or(""),
            i % 60,
        );
    }
    csv
}

pub fn run(options: &ImportBenchOptions) -> anyhow::Result<()> {
    let mut databases = Databases::new(options.engine)?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("export.csv");
    std::fs::write(&input, export(options.rows))?;
    let agency = AgencyId::parse("elm-road-surgery").expect("a valid id");
    let mapping = Mapping::parse(MAPPING).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "bench import: a GP export of {} rows through data/mappings/gp-consultations.toml; baseline: the same entries appended through the store in batches of {BATCH}, as bench ingest appends",
        options.rows
    );
    println!(
        "{:<10} {:>8} {:>8} {:>14} {:>14} {:>7}",
        "engine", "rows", "stored", "import rows/s", "ingest rows/s", "ratio"
    );
    for engine in engines(options.engine) {
        let prepare = |databases: &mut Databases| -> anyhow::Result<safeguard_store::Store> {
            let store = databases.fresh(engine)?;
            store.put_agency(&Agency {
                id: agency.clone(),
                name: "Elm Road Surgery".into(),
                kind: AgencyKind::Gp,
            })?;
            Ok(store)
        };
        let store = prepare(&mut databases)?;
        let mapping_file = dir.path().join("gp.toml");
        std::fs::write(&mapping_file, MAPPING)?;
        let args = crate::import::ImportArgs {
            agency: agency.as_str().to_owned(),
            mapping: Some(mapping_file),
            input: Some(input.clone()),
            cin: None,
            fhir: None,
            partial: false,
            rejected: None,
            files: crate::replay::RuleFiles::default(),
        };
        let started = Instant::now();
        let imported = crate::import::run(&store, &args)?;
        let import_time = started.elapsed();

        // The same entries, appended as bench ingest appends them (not timed: reading them).
        let (_, rows) = read_rows(
            &mapping,
            &agency,
            std::fs::read(&input)?.as_slice(),
            chrono::Utc::now(),
            || {},
        )?;
        let entries: Vec<_> = rows.into_iter().filter_map(|r| r.entry.ok()).collect();
        let baseline = prepare(&mut databases)?;
        let actor = Actor::system("bench");
        let bar = progress(entries.len(), format!("{engine}: ingest baseline"));
        let started = Instant::now();
        for batch in entries.chunks(BATCH) {
            baseline.append(&actor, batch)?;
            bar.inc(batch.len() as u64);
        }
        let ingest_time = started.elapsed();
        bar.finish_and_clear();
        let rate = |n: usize, d: std::time::Duration| n as f64 / d.as_secs_f64();
        let (import_rate, ingest_rate) = (
            rate(imported.rows, import_time),
            rate(entries.len(), ingest_time),
        );
        println!(
            "{engine:<10} {:>8} {:>8} {import_rate:>14.0} {ingest_rate:>14.0} {:>7.2}",
            imported.rows,
            imported.created,
            import_rate / ingest_rate
        );
    }
    Ok(())
}
