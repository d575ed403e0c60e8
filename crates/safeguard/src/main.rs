//! `safeguard`: the command line. Parses, opens the store (migrating it), and runs the demo,
//! the server or a benchmark.

mod admin;
mod bench;
mod census;
mod demo;
mod import;
mod link;
mod replay;
mod review;
mod sar;

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use safeguard_store::{Actor, DatabaseUrl, Store};
use safeguard_web::AppState;

/// Safeguard: one multi-agency record per child.
#[derive(Parser)]
#[command(name = "safeguard", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How the server decides and marks things.
#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// An agency's established involvement with a child lasts this many days after
    /// Safeguard received its latest entry naming the child (local policy).
    #[arg(long, env = "SAFEGUARD_INVOLVEMENT_DAYS", default_value_t = 180)]
    involvement_days: i64,
    /// Mark cookies Secure: set when served over TLS (directly or behind a proxy).
    #[arg(long, env = "SAFEGUARD_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Certificate authorities (a PEM file) to trust for agencies' https:// webhooks, besides
    /// the system's.
    #[arg(long, env = "SAFEGUARD_WEBHOOK_CA")]
    webhook_ca: Option<std::path::PathBuf>,
    /// The address of the reverse proxy in front of the server: from it (only), the client's
    /// address is read from X-Forwarded-For, for throttling sign-ins per address.
    #[arg(long, env = "SAFEGUARD_TRUSTED_PROXY")]
    trusted_proxy: Option<std::net::IpAddr>,
    /// Requests each caller (a user or an agency's API token) may make per minute; past it,
    /// 429 with Retry-After.
    #[arg(long, env = "SAFEGUARD_REQUESTS_PER_MINUTE", default_value_t = safeguard_web::ratelimit::DEFAULT_REQUESTS_PER_MINUTE)]
    requests_per_minute: u32,
}

impl ServeArgs {
    fn config(&self) -> safeguard_web::Config {
        safeguard_web::Config {
            involvement_days: self.involvement_days,
            secure_cookies: self.secure_cookies,
            webhook_ca: self.webhook_ca.clone(),
            trusted_proxy: self.trusted_proxy,
            requests_per_minute: self.requests_per_minute,
            ..safeguard_web::Config::default()
        }
    }
}

/// Where the data lives.
#[derive(Args, Clone)]
pub(crate) struct DatabaseArgs {
    /// `sqlite:PATH` (created if absent) or `postgres://user@host/database`.
    #[arg(
        long,
        env = "SAFEGUARD_DATABASE",
        default_value = "sqlite:safeguard-data/safeguard.db"
    )]
    database: DatabaseUrl,
    /// The audit key's file (64 hexadecimal digits; created if absent, readable by its owner
    /// only). Default: `SAFEGUARD_AUDIT_KEY` (the key itself), else for SQLite the file
    /// `DATABASE.audit-key` beside the database. PostgreSQL needs one of the two.
    #[arg(long, env = "SAFEGUARD_AUDIT_KEY_FILE")]
    audit_key_file: Option<std::path::PathBuf>,
}

impl DatabaseArgs {
    pub(crate) fn open(&self) -> anyhow::Result<Store> {
        let key = safeguard_store::audit::AuditKey::for_database(
            &self.database,
            self.audit_key_file.as_deref(),
        )
        .context("failed to find the audit key")?;
        Store::open_with_key(&self.database, key)
            .with_context(|| format!("failed to open {}", self.database))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Seed a database with the demo case and a synthetic population, then serve it.
    ///
    /// The demo's entries are from 2006 and 2007: it serves with a 20-year involvement period
    /// (`--involvement-days`) so that its agencies count as involved with its children.
    Demo {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Address to serve on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Involvement period in days (see `serve`).
        #[arg(long, default_value_t = 7305)]
        involvement_days: i64,
        /// Seed, print the demo child's address, and exit without serving.
        #[arg(long)]
        seed_only: bool,
        /// Families in the synthetic background population.
        #[arg(long, default_value_t = demo::Population::default().families)]
        families: usize,
    },
    /// Serve an existing database.
    Serve {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        files: replay::RuleFiles,
    },
    /// Register and list agencies.
    Agency {
        #[command(subcommand)]
        command: admin::AgencyCommand,
    },
    /// Manage users: add, list, disable, set roles.
    User {
        #[command(subcommand)]
        command: admin::UserCommand,
    },
    /// Manage agencies' API tokens.
    Token {
        #[command(subcommand)]
        command: admin::TokenCommand,
    },
    /// Allocate a worker to a child (opening their agency's involvement).
    Allocate {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The child's person identifier.
        #[arg(long)]
        person: safeguard_core::PersonId,
        /// The worker's user name.
        #[arg(long)]
        user: String,
        /// Make them the child's lead professional.
        #[arg(long)]
        lead: bool,
    },
    /// A practice review's chronology of one child: every entry from every agency in time
    /// order, people pseudonymised, with the concerns the rules raise on replay and the missed
    /// opportunities; nothing is written if anything identifying is left.
    Review {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        args: review::ReviewArgs,
    },
    /// A local authority's returns, made from its entries: `cin`, the DfE Children in Need
    /// census return of a collection year; `annex-a`, Ofsted's Annex A lists of a period.
    Census {
        #[command(subcommand)]
        command: census::CensusCommand,
    },
    /// An agency's CSV export as entries, through a mapping (see `data/mappings/`), or a
    /// local authority's past Children in Need census return (`--cin`): every row or child
    /// checked first; all or nothing unless `--partial`, which stores the good ones and writes
    /// the rejected ones with their reasons. Importing the same file again changes nothing.
    Import {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        args: import::ImportArgs,
    },
    /// A subject access request: everything held on one person, third parties named by
    /// alias and their identifiers removed; nothing is written if any is left. Audited.
    Sar {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        args: sar::SarArgs,
    },
    /// When could we have known? Replay a child's entries through the rules and print each
    /// flag at the date it would first have been raised, next to the first escalation after.
    Replay {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The child's person identifier.
        #[arg(long)]
        person: safeguard_core::PersonId,
        /// Replay the record as it stood on this day (default: today).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        #[command(flatten)]
        files: replay::RuleFiles,
    },
    /// Check or re-run the rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Check the audit log's hash chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Identity resolution: relink the store (`--database`), or over files (`--input
    /// people.csv --output clusters.csv`, or `--link-only A.csv B.csv`); `link generate`
    /// writes UK-style test data with its truth.
    Link(link::LinkArgs),
    /// Measure the store against a bare-SQL baseline in the same run, on both engines.
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Check the rules, clocks and bank holidays files and list the rules.
    Check {
        #[command(flatten)]
        files: replay::RuleFiles,
        /// Also list the children of this database whose rules could not be evaluated.
        #[arg(long, env = "SAFEGUARD_DATABASE")]
        database: Option<DatabaseUrl>,
    },
    /// Re-evaluate what time alone changes as of a day, as `serve` does at start and each new
    /// day: clocks run on with time alone, so a referral followed by silence goes overdue
    /// without anyone recording anything. Only the children whose flags could have changed
    /// since they were last evaluated are evaluated (every child under another rule book).
    /// Idempotent; for cron and for tests.
    Tick {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        files: replay::RuleFiles,
        /// The day to evaluate as of (default: today).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
    },
    /// Re-evaluate every child's flags (after the rules file changes), storing the difference.
    Rerun {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        files: replay::RuleFiles,
        /// Evaluate the record as it stood on this day (default: today).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the chain under the audit key; name the first event changed, removed,
    /// reordered or cut off. Exits 1 when the log was tampered with.
    Verify {
        #[command(flatten)]
        db: DatabaseArgs,
        /// A checkpoint taken earlier (the text `audit checkpoint` printed, or a file holding
        /// it): the log must still extend it, which also detects a log rewritten or reset.
        #[arg(long)]
        since: Option<String>,
    },
    /// Print a checkpoint of the chain as it is now, signed under the audit key: keep it
    /// elsewhere (another machine, a ticket) and pass it later to `verify --since`.
    Checkpoint {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SAFEGUARD_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo {
            db,
            listen,
            involvement_days,
            seed_only,
            families,
        } => {
            let store = db.open()?;
            let population = demo::Population {
                families,
                ..demo::Population::default()
            };
            let child = demo::seed(&store, &population)?;
            println!(
                "Seeded {} with the demo case and {families} background families ({} entries in all).",
                db.database,
                store.entry_count()?
            );
            println!(
                "Demo users: ROLE@AGENCY for every role ({}) and agency ({}); password {}.",
                safeguard_core::access::Role::ALL
                    .map(|r| r.as_str())
                    .join(", "),
                demo::agencies()
                    .iter()
                    .map(|a| a.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                demo::DEMO_PASSWORD
            );
            println!(
                "The demo child's lead professional: {}",
                demo::lead_professional()
            );
            if seed_only {
                println!("Demo child: http://{listen}/persons/{child}");
                return Ok(());
            }
            let config = safeguard_web::Config {
                involvement_days,
                ..Default::default()
            };
            serve(
                store,
                listen,
                config,
                safeguard_core::rules::RuleBook::shipped(),
                Some(child),
            )
        }
        Command::Serve {
            db,
            serve: args,
            files,
        } => {
            // Checked before serving: a mistake in a local rules file stops the start-up.
            let rules = files.load()?;
            serve(db.open()?, args.listen, args.config(), rules, None)
        }
        Command::Audit {
            command: AuditCommand::Verify { db, since },
        } => {
            let store = db.open()?;
            let verified = match since {
                None => store.verify_audit()?,
                Some(text) => {
                    let text = match std::fs::read_to_string(&text) {
                        Ok(file) => file,
                        Err(_) => text,
                    };
                    let checkpoint = safeguard_store::audit::Checkpoint::parse(&text)
                        .map_err(anyhow::Error::msg)
                        .context("failed to read the checkpoint")?;
                    store.verify_audit_since(&checkpoint)?
                }
            }
            .context("the audit log has been tampered with")?;
            println!(
                "Audit log verified: {} events written (head {}), {} reads (head {})",
                verified.writes.events,
                verified.writes.head_hash,
                verified.reads.events,
                verified.reads.head_hash
            );
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Checkpoint { db },
        } => {
            println!("{}", db.open()?.audit_checkpoint()?);
            Ok(())
        }
        Command::Agency { command } => admin::agency(command),
        Command::User { command } => admin::user(command),
        Command::Token { command } => admin::token(command),
        Command::Allocate {
            db,
            person,
            user,
            lead,
        } => {
            db.open()?.allocate(person, &user, lead)?;
            println!(
                "Allocated {user} to {person}{}.",
                if lead { " as lead professional" } else { "" }
            );
            Ok(())
        }
        Command::Review { db, args } => {
            let (entries, findings) = review::run(&db.open()?, &args)?;
            println!("Wrote the review: {entries} entries, {findings} findings, pseudonymised.");
            Ok(())
        }
        Command::Census {
            command: census::CensusCommand::Cin { db, args },
        } => {
            let children = census::cin(&db.open()?, &args)?;
            println!("Wrote the children in need census return: {children} children.");
            Ok(())
        }
        Command::Census {
            command: census::CensusCommand::AnnexA { db, args },
        } => {
            let rows = census::annex_a(&db.open()?, &args)?;
            let counts: Vec<String> = rows
                .iter()
                .enumerate()
                .map(|(i, n)| format!("list {} {n}", i + 1))
                .collect();
            println!("Wrote Annex A: {}.", counts.join(", "));
            Ok(())
        }
        Command::Import { db, args } => {
            let done = import::run(&db.open()?, &args)?;
            println!(
                "Imported {} {}: {} entries stored, {} already imported unchanged, {} rejected.",
                done.rows, done.unit, done.created, done.unchanged, done.rejected
            );
            Ok(())
        }
        Command::Sar { db, args } => {
            let entries = sar::run(&db.open()?, &args)?;
            println!(
                "Wrote everything held on the person: {entries} entries, third parties redacted."
            );
            Ok(())
        }
        Command::Replay {
            db,
            person,
            at,
            files,
        } => {
            let book = files.load()?;
            let store = db.open()?;
            let child = replay::load_child(&store, person, &Actor::system("replay"))?;
            let as_of = at.unwrap_or_else(|| chrono::Local::now().date_naive());
            replay::print(&replay::replay(&child, &book, as_of)?);
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Check { files, database },
        } => {
            let book = files.load()?;
            if let Some(url) = database {
                let db = DatabaseArgs {
                    database: url,
                    audit_key_file: None,
                };
                let failures = db.open()?.evaluation_failures()?;
                for f in &failures {
                    println!(
                        "cannot evaluate {} since {} ({} attempts): {}",
                        f.person, f.first_failed_at, f.attempts, f.reason
                    );
                }
                println!("{} children cannot be evaluated.", failures.len());
            }
            for rule in &book.rules {
                println!(
                    "{:<32} {:<7} {}",
                    rule.id,
                    format!("{:?}", rule.severity).to_lowercase(),
                    rule.source
                );
            }
            println!(
                "{} rules and {} clocks are valid.",
                book.rules.len(),
                book.clocks.len()
            );
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Rerun { db, files, at },
        } => {
            let book = files.load()?;
            let as_of = at.unwrap_or_else(|| chrono::Local::now().date_naive());
            let totals = replay::rerun(&db.open()?, &book, as_of, &Actor::system("rules-rerun"))?;
            print_reevaluated(&totals);
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Tick { db, files, at },
        } => {
            let book = files.load()?;
            let as_of = at.unwrap_or_else(|| chrono::Local::now().date_naive());
            let totals = replay::tick(&db.open()?, &book, as_of, &Actor::system("rules-tick"))?;
            print_reevaluated(&totals);
            Ok(())
        }
        Command::Link(args) => link::run(&args),
        Command::Bench { which } => bench::run(&which),
    }
}

fn print_reevaluated(t: &safeguard_store::flags::Reevaluated) {
    println!(
        "Re-evaluated {} children: {} flags raised, {} updated, {} resolved; {} could not be evaluated.",
        t.children, t.raised, t.updated, t.resolved, t.failed
    );
}

fn serve(
    store: Store,
    listen: SocketAddr,
    config: safeguard_web::Config,
    rules: safeguard_core::rules::RuleBook,
    demo_child: Option<safeguard_core::PersonId>,
) -> anyhow::Result<()> {
    let runtime = safeguard_web::runtime().context("failed to start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("failed to listen on {listen}"))?;
        let address = listener.local_addr()?;
        println!("Serving on http://{address}/");
        if let Some(child) = demo_child {
            println!("Demo child: http://{address}/persons/{child}");
        }
        safeguard_web::serve(AppState::new(store, config).with_rules(rules), listener)
            .await
            .context("the server stopped")
    })
}
