//! `bench load`: the server on loopback, on each engine, under many clients at once, each on
//! its own keep-alive connection as an agency's system would be.
//!
//! 1. Reads alone: the readers read the demo child's multi-agency chronology as fast as they
//!    can. This is the baseline of the same run.
//! 2. Reads with appends: the same readers, while the remaining clients append batches from
//!    their agencies about a fresh population. Goal: read p99 at most 50 ms, and no errors.
//! 3. Reads while the largest legal request is written, again and again: 200 entries naming
//!    500 people, each a child to re-evaluate.
//! 4. The time to refuse an entry naming 10,000 people.
//! 5. Sign-in answer times for an unknown name, a wrong password and a disabled account, each
//!    attempt from its own address so that the throttle does not answer first.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use safeguard_core::access::Role;
use safeguard_core::{AgencyId, Entry, ParticipantRole, PersonId, PersonName};
use safeguard_store::Store;
use safeguard_web::{AppState, Config};

use super::{Databases, Engines, engines, percentile};
use crate::demo;

/// Options for the load benchmark.
#[derive(Args)]
pub struct LoadOptions {
    /// Engines to measure, each on a throwaway database.
    #[arg(long, value_enum, default_value_t = Engines::Both)]
    engine: Engines,
    /// Clients at once: a quarter append, the rest read.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds each phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Background families seeded before the run.
    #[arg(long, default_value_t = 300)]
    families: usize,
}

/// The goal for chronology reads while others append.
const GOAL_READ_P99: Duration = Duration::from_millis(50);
/// Entries per append of the appending clients.
const APPEND_BATCH: usize = 5;
const SIGN_IN_ATTEMPTS: usize = 50;

pub fn run(options: &LoadOptions) -> anyhow::Result<()> {
    anyhow::ensure!(
        options.clients >= 2,
        "at least two clients: one reads, one appends"
    );
    let appenders = (options.clients / 4).max(1);
    let readers = options.clients - appenders;
    // The server's own runtime: the clients share it, as they share the machine.
    let runtime = safeguard_web::runtime()?;
    let mut databases = Databases::new(options.engine)?;
    let population = demo::Population {
        families: options.families,
        ..demo::Population::default()
    };
    println!(
        "bench load: the server on loopback; {readers} clients read the demo child's chronology, {appenders} append batches of {APPEND_BATCH}; {} s a phase",
        options.seconds
    );
    for engine in engines(options.engine) {
        let store = databases.fresh(engine)?;
        println!(
            "{engine}: seeding the demo and {} families",
            options.families
        );
        let child = demo::seed(&store, &population)?;
        let fixture = Fixture::new(&store, child)?;
        add_sign_in_users(&store)?;
        let phase = Duration::from_secs(options.seconds);
        runtime.block_on(async {
            let server = Server::start(store.clone()).await?;
            fixture.check(&server).await?;

            let alone = server.phase(&fixture, readers, Work::none(), phase).await?;
            let appends = Work::new(appenders, fixture.append_batches(2008)?);
            let mixed = server.phase(&fixture, readers, appends, phase).await?;
            let largest = Work::new(1, fixture.largest_batches(2009)?);
            let under_largest = server
                .phase(&fixture, options.clients - 1, largest, phase)
                .await?;

            println!(
                "{engine:<10} {:<34} {:>8} {:>9} {:>9} {:>9} {:>7} {:>7}",
                "phase", "reads", "p50", "p99", "max", "writes", "errors"
            );
            for (name, result) in [
                ("reads alone (baseline)", &alone),
                ("reads with appends", &mixed),
                ("reads with the largest request", &under_largest),
            ] {
                result.print(engine, name);
            }
            let p99 = mixed.read_p99();
            let verdict = if p99 <= GOAL_READ_P99 && mixed.errors == 0 && alone.errors == 0 {
                "meets"
            } else {
                "MISSES"
            };
            println!(
                "{engine:<10} reads with appends: p99 {} against {} alone (x{:.2}); goal p99 <= {} ms and 0 errors: {verdict}",
                ms(p99),
                ms(alone.read_p99()),
                p99.as_secs_f64() / alone.read_p99().as_secs_f64(),
                GOAL_READ_P99.as_millis()
            );
            if let Some(write) = under_largest.writes.iter().max() {
                println!(
                    "{engine:<10} the largest legal request (200 entries, 500 people) took up to {} to write; reads meanwhile p99 {}",
                    ms(*write),
                    ms(under_largest.read_p99())
                );
            }

            let refusals = server.refuse_huge_entry(&fixture).await?;
            println!(
                "{engine:<10} an entry naming 10,000 people ({} kB) refused in p50 {}, max {}",
                fixture.huge_entry.len() / 1024,
                ms(percentile(&refusals, 0.5)),
                ms(*refusals.last().expect("timed"))
            );

            server.sign_in_times().await?.print(engine);
            server.stop().await?;
            anyhow::Ok(())
        })?;
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// What the clients send: tokens per agency, and the bodies built before the clock starts.
struct Fixture {
    child: PersonId,
    tokens: BTreeMap<AgencyId, String>,
    /// The token of the demo child's lead agency, which holds the child.
    reader_token: String,
    huge_entry: Bytes,
}

impl Fixture {
    fn new(store: &Store, child: PersonId) -> anyhow::Result<Self> {
        let mut tokens = BTreeMap::new();
        for agency in demo::agencies() {
            let token = store.add_api_token(&format!("bench-{}", agency.id), &agency.id)?;
            tokens.insert(agency.id, token);
        }
        let lead = store
            .user(&demo::lead_professional())?
            .context("the demo lead professional is missing")?;
        let reader_token = tokens
            .get(&lead.agency)
            .context("the lead's agency has no token")?
            .clone();
        let mut huge = demo::case_entries()
            .into_iter()
            .next()
            .context("the demo case is empty")?;
        huge.source.id = "bench-huge".to_owned();
        pad_people(&mut huge, 10_000, "huge");
        Ok(Self {
            child,
            tokens,
            reader_token,
            huge_entry: Bytes::from(serde_json::to_vec(&huge)?),
        })
    }

    fn chronology_path(&self) -> String {
        format!("/api/v1/persons/{}/chronology", self.child)
    }

    /// A fresh population's entries (another seed than the seeded one), as batches of one
    /// agency each, with that agency's token.
    fn append_batches(&self, seed: u64) -> anyhow::Result<Vec<(String, Bytes)>> {
        let entries = fresh_population(seed);
        let mut batches = Vec::new();
        for (agency, entries) in by_agency(entries) {
            for batch in entries.chunks(APPEND_BATCH) {
                batches.push((
                    self.token(&agency)?,
                    Bytes::from(serde_json::to_vec(batch)?),
                ));
            }
        }
        // Appended from the end, so agencies interleave.
        batches.reverse();
        Ok(batches)
    }

    /// Batches at every limit: 200 entries of one agency naming 500 people in all, each
    /// padded person a child to re-evaluate.
    fn largest_batches(&self, seed: u64) -> anyhow::Result<Vec<(String, Bytes)>> {
        use safeguard_core::{MAX_ENTRIES_PER_BATCH, MAX_PERSONS_PER_BATCH};
        let entries = fresh_population(seed);
        let mut batches = Vec::new();
        for (agency, entries) in by_agency(entries) {
            for (n, chunk) in entries.chunks_exact(MAX_ENTRIES_PER_BATCH).enumerate() {
                let mut batch = chunk.to_vec();
                let mut named: usize = batch.iter().map(|e| e.persons.len()).sum();
                for (i, e) in batch.iter_mut().enumerate() {
                    let room = safeguard_core::MAX_PERSONS_PER_ENTRY - e.persons.len();
                    let add = room.min(MAX_PERSONS_PER_BATCH.saturating_sub(named));
                    pad_people(e, e.persons.len() + add, &format!("{seed}-{n}-{i}"));
                    named += add;
                }
                anyhow::ensure!(
                    named == MAX_PERSONS_PER_BATCH,
                    "a largest batch names {named} people"
                );
                batches.push((
                    self.token(&agency)?,
                    Bytes::from(serde_json::to_vec(&batch)?),
                ));
            }
        }
        anyhow::ensure!(!batches.is_empty(), "no agency has 200 entries to send");
        Ok(batches)
    }

    fn token(&self, agency: &AgencyId) -> anyhow::Result<String> {
        self.tokens
            .get(agency)
            .cloned()
            .with_context(|| format!("no token for {agency}"))
    }

    /// Every path the phases use answers as expected before anything is timed.
    async fn check(&self, server: &Server) -> anyhow::Result<()> {
        let mut client = server.client().await?;
        let (status, body) = client
            .get(&self.chronology_path(), &self.reader_token)
            .await?;
        anyhow::ensure!(
            status == StatusCode::OK,
            "the reader is refused the chronology: {status} {}",
            String::from_utf8_lossy(&body)
        );
        Ok(())
    }
}

/// A population generated with `seed`, its source and local ids made its own: the generator
/// numbers families alike under every seed, and a source id resent with other content is
/// refused (409).
fn fresh_population(seed: u64) -> Vec<Entry> {
    let mut entries = demo::population_entries(&demo::Population {
        families: 3000,
        seed,
    });
    for e in &mut entries {
        e.source.id = format!("s{seed}-{}", e.source.id);
        let own = |id: &mut String| *id = format!("s{seed}-{id}");
        for p in &mut e.persons {
            own(&mut p.record.local_id);
        }
        for r in &mut e.residences {
            own(&mut r.person);
        }
        for r in &mut e.relationships {
            own(&mut r.person);
            own(&mut r.other);
        }
    }
    entries
}

/// Entries grouped by the agency that sends them, each group in order.
fn by_agency(entries: Vec<Entry>) -> BTreeMap<AgencyId, Vec<Entry>> {
    let mut groups: BTreeMap<AgencyId, Vec<Entry>> = BTreeMap::new();
    for e in entries {
        groups.entry(e.agency.clone()).or_default().push(e);
    }
    groups
}

/// Adds children (a copy of the entry's first person under another name and local id) until
/// the entry names `total` people.
fn pad_people(entry: &mut Entry, total: usize, tag: &str) {
    const GIVEN: [&str; 10] = [
        "Amy", "Ben", "Cara", "Dev", "Ella", "Finn", "Gus", "Hana", "Ivy", "Jon",
    ];
    const FAMILY: [&str; 10] = [
        "Archer", "Brook", "Carter", "Dale", "Eden", "Frost", "Grant", "Hale", "Irwin", "Joyce",
    ];
    let template = entry.persons[0].clone();
    let mut j = 0;
    while entry.persons.len() < total {
        let mut p = template.clone();
        p.role = ParticipantRole::SubjectChild;
        p.record.local_id = format!("pad-{tag}-{j}");
        p.record.name = PersonName::new(GIVEN[j % 10], FAMILY[(j / 10) % 10]);
        p.record.other_names.clear();
        p.record.nhs_number = None;
        p.record.phone = None;
        entry.persons.push(p);
        j += 1;
    }
}

/// What the clients other than the readers do in a phase: `writers` clients send these
/// batches (token and body), one a request, taking them from the end.
struct Work {
    writers: usize,
    queue: Arc<Mutex<Vec<(String, Bytes)>>>,
}

impl Work {
    fn none() -> Self {
        Self::new(0, Vec::new())
    }

    fn new(writers: usize, batches: Vec<(String, Bytes)>) -> Self {
        Self {
            writers,
            queue: Arc::new(Mutex::new(batches)),
        }
    }
}

#[derive(Default)]
struct PhaseResult {
    reads: Vec<Duration>,
    writes: Vec<Duration>,
    errors: usize,
}

impl PhaseResult {
    fn read_p99(&self) -> Duration {
        percentile(&self.reads, 0.99)
    }

    fn print(&self, engine: &str, name: &str) {
        println!(
            "{engine:<10} {name:<34} {:>8} {:>9} {:>9} {:>9} {:>7} {:>7}",
            self.reads.len(),
            ms(percentile(&self.reads, 0.5)),
            ms(self.read_p99()),
            ms(*self.reads.last().expect("read")),
            self.writes.len(),
            self.errors
        );
    }
}

pub(super) struct Server {
    address: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub(super) async fn start(store: Store) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let config = Config {
            // Demo entries are from 2006–2007: their involvements must not have lapsed.
            involvement_days: 365 * 30,
            requests_per_minute: 1_000_000_000,
            // Sign-in attempts name their address, so the throttle sees each as new.
            trusted_proxy: Some(address.ip()),
            ..Config::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(safeguard_web::serve_connections(
            AppState::new(store, config),
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        Ok(Self {
            address,
            stop,
            task,
        })
    }

    pub(super) async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        Ok(self.task.await??)
    }

    pub(super) async fn client(&self) -> anyhow::Result<Client> {
        Client::connect(self.address).await
    }

    /// `readers` clients read the chronology for `length` while the others do `work`.
    async fn phase(
        &self,
        fixture: &Fixture,
        readers: usize,
        work: Work,
        length: Duration,
    ) -> anyhow::Result<PhaseResult> {
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(AtomicUsize::new(0));
        let mut read_tasks = Vec::new();
        for _ in 0..readers {
            let mut client = self.client().await?;
            let (stop, errors) = (stop.clone(), errors.clone());
            let path = fixture.chronology_path();
            let token = fixture.reader_token.clone();
            read_tasks.push(tokio::spawn(async move {
                let mut times = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    match client.get(&path, &token).await {
                        Ok((StatusCode::OK, _)) => times.push(started.elapsed()),
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                times
            }));
        }
        let mut write_tasks = Vec::new();
        for _ in 0..work.writers {
            let mut client = self.client().await?;
            let (stop, errors) = (stop.clone(), errors.clone());
            let queue = work.queue.clone();
            write_tasks.push(tokio::spawn(async move {
                let mut times = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let Some((token, body)) = queue.lock().expect("not poisoned").pop() else {
                        break;
                    };
                    let started = Instant::now();
                    match client.post("/api/v1/entries", &token, body).await {
                        Ok((StatusCode::CREATED, _)) => times.push(started.elapsed()),
                        Ok((status, body)) => {
                            tracing::warn!(%status, body = %String::from_utf8_lossy(&body), "append refused");
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "append failed");
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                times
            }));
        }
        tokio::time::sleep(length).await;
        stop.store(true, Ordering::Relaxed);
        let mut result = PhaseResult::default();
        for task in read_tasks {
            result.reads.extend(task.await?);
        }
        for task in write_tasks {
            result.writes.extend(task.await?);
        }
        result.reads.sort();
        result.writes.sort();
        result.errors = errors.load(Ordering::Relaxed);
        anyhow::ensure!(!result.reads.is_empty(), "no read succeeded");
        Ok(result)
    }
}

impl Server {
    /// Sends the 10,000-person entry ten times; each must be refused (422).
    async fn refuse_huge_entry(&self, fixture: &Fixture) -> anyhow::Result<Vec<Duration>> {
        let mut client = self.client().await?;
        let mut times = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            let (status, body) = client
                .post(
                    "/api/v1/entries",
                    &fixture.reader_token,
                    fixture.huge_entry.clone(),
                )
                .await?;
            times.push(started.elapsed());
            anyhow::ensure!(
                status == StatusCode::UNPROCESSABLE_ENTITY,
                "the 10,000-person entry was answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        times.sort();
        Ok(times)
    }

    /// Times sign-in attempts of each case, interleaved, each from a new address.
    async fn sign_in_times(&self) -> anyhow::Result<SignInTimes> {
        let cases = [
            ("unknown name", "bench-nobody", PASSWORD),
            (
                "wrong password",
                "bench-active",
                "Quiet harbour lanterns drift at dusk",
            ),
            ("disabled account", "bench-disabled", PASSWORD),
            ("right password (reference)", "bench-active", PASSWORD),
        ];
        let mut client = self.client().await?;
        let mut times = vec![Vec::new(); cases.len()];
        let mut attempt = 0u32;
        for _ in 0..SIGN_IN_ATTEMPTS {
            for (i, (name, user, password)) in cases.iter().enumerate() {
                attempt += 1;
                let address = format!(
                    "10.{}.{}.{}",
                    attempt >> 16,
                    (attempt >> 8) & 255,
                    attempt & 255
                );
                let (csrf_status, csrf) = client.sign_in_form(&address).await?;
                anyhow::ensure!(
                    csrf_status == StatusCode::OK,
                    "the sign-in page answered {csrf_status}"
                );
                let started = Instant::now();
                let status = client.sign_in(&address, &csrf, user, password).await?;
                times[i].push(started.elapsed());
                let expected = if i == 3 {
                    StatusCode::SEE_OTHER
                } else {
                    StatusCode::UNAUTHORIZED
                };
                anyhow::ensure!(status == expected, "sign-in ({name}) answered {status}");
            }
        }
        for t in &mut times {
            t.sort();
        }
        Ok(SignInTimes {
            cases: cases.iter().map(|c| c.0).zip(times).collect(),
        })
    }
}

/// The password of the sign-in users.
const PASSWORD: &str = "Quiet harbour lanterns drift at dawn";

/// An active and a disabled user to sign in as (the store blocks: not from async code).
fn add_sign_in_users(store: &Store) -> anyhow::Result<()> {
    let agency = demo::agencies()
        .into_iter()
        .next()
        .context("no demo agency")?
        .id;
    for id in ["bench-active", "bench-disabled"] {
        store.add_user(id, &agency, "Bench User", &[Role::Practitioner], PASSWORD)?;
    }
    store.set_user_disabled("bench-disabled", true)?;
    Ok(())
}

struct SignInTimes {
    cases: Vec<(&'static str, Vec<Duration>)>,
}

impl SignInTimes {
    fn print(&self, engine: &str) {
        for (name, times) in &self.cases {
            println!(
                "{engine:<10} sign-in, {name:<28} p50 {:>9}  p99 {:>9}  ({} attempts)",
                ms(percentile(times, 0.5)),
                ms(percentile(times, 0.99)),
                times.len()
            );
        }
        let refused: Vec<f64> = self.cases[..3]
            .iter()
            .map(|(_, t)| percentile(t, 0.5).as_secs_f64())
            .collect();
        let spread = refused.iter().cloned().fold(f64::MIN, f64::max)
            / refused.iter().cloned().fold(f64::MAX, f64::min);
        println!(
            "{engine:<10} sign-in refusals: slowest p50 / fastest p50 = {spread:.2} (the same answer and time: near 1)"
        );
    }
}

/// One keep-alive HTTP/1.1 connection.
pub(super) struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(address: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self { sender })
    }

    pub(super) async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> anyhow::Result<(StatusCode, hyper::HeaderMap, Bytes)> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, headers, body))
    }

    async fn get(&mut self, path: &str, token: &str) -> anyhow::Result<(StatusCode, Bytes)> {
        let request = Request::get(path)
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Full::new(Bytes::new()))?;
        let (status, _, body) = self.send(request).await?;
        Ok((status, body))
    }

    async fn post(
        &mut self,
        path: &str,
        token: &str,
        body: Bytes,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let request = Request::post(path)
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        let (status, _, body) = self.send(request).await?;
        Ok((status, body))
    }

    /// The sign-in page's CSRF token (the cookie, which the form repeats).
    async fn sign_in_form(&mut self, address: &str) -> anyhow::Result<(StatusCode, String)> {
        let request = Request::get("/sign-in")
            .header(header::HOST, "localhost")
            .header("x-forwarded-for", address)
            .body(Full::new(Bytes::new()))?;
        let (status, headers, _) = self.send(request).await?;
        let prefix = format!("{}=", safeguard_web::auth::SIGN_IN_CSRF_COOKIE);
        let csrf = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&prefix))
            .and_then(|v| v.split(';').next())
            .context("the sign-in page set no CSRF cookie")?
            .to_owned();
        Ok((status, csrf))
    }

    async fn sign_in(
        &mut self,
        address: &str,
        csrf: &str,
        user: &str,
        password: &str,
    ) -> anyhow::Result<StatusCode> {
        let form = serde_urlencoded::to_string([
            (safeguard_web::auth::CSRF_FIELD, csrf),
            ("user", user),
            ("password", password),
        ])?;
        let request = Request::post("/sign-in")
            .header(header::HOST, "localhost")
            .header("x-forwarded-for", address)
            .header(
                header::COOKIE,
                format!("{}={csrf}", safeguard_web::auth::SIGN_IN_CSRF_COOKIE),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))?;
        let (status, _, _) = self.send(request).await?;
        Ok(status)
    }
}
