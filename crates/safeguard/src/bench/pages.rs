//! `bench pages`: the pages people wait for, served on loopback to one signed-in client at a
//! time: the demo child's page, the page of a child with 1,000 entries, and a team manager's
//! dashboard over a team of 30 workers. The baseline of the same run is the same child's whole
//! chronology as JSON from the API (the same record through the same access gate and audit,
//! without the page).

use std::time::{Duration, Instant};

use clap::Args;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use safeguard_core::access::Role;
use safeguard_core::{AgencyId, PersonId};
use safeguard_store::{Actor, Store};

use super::load::{Client, Server};
use super::{Databases, Engines, engines, long_case, percentile};
use crate::demo;

/// Options for the pages benchmark.
#[derive(Args)]
pub struct PagesOptions {
    /// Engines to measure, each on a throwaway database.
    #[arg(long, value_enum, default_value_t = Engines::Both)]
    engine: Engines,
    /// Requests timed per page.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Background families seeded (the team's children come from them).
    #[arg(long, default_value_t = 200)]
    families: usize,
    /// Entries of the long child.
    #[arg(long, default_value_t = 1000)]
    long_entries: usize,
}

/// The goal: each page at most this long at p95.
const GOAL_P95: Duration = Duration::from_millis(50);
const TEAM: usize = 30;
const CHILDREN_PER_WORKER: usize = 5;

pub fn run(options: &PagesOptions) -> anyhow::Result<()> {
    let runtime = safeguard_web::runtime()?;
    let mut databases = Databases::new(options.engine)?;
    println!(
        "bench pages: {} requests a page, one client at a time, on loopback; baseline: the same child's chronology as JSON from the API",
        options.iterations
    );
    println!(
        "{:<10} {:<44} {:>9} {:>9} {:>9} {:>8}",
        "engine", "page", "p50", "p95", "baseline", "ratio"
    );
    for engine in engines(options.engine) {
        let store = databases.fresh(engine)?;
        let child = demo::seed(
            &store,
            &demo::Population {
                families: options.families,
                ..demo::Population::default()
            },
        )?;
        let manager = team_of(&store, child)?;
        // A second store whose demo child has grown to 1,000 entries.
        let long = databases.fresh(engine)?;
        let long_child = demo::seed(
            &long,
            &demo::Population {
                families: 10,
                ..demo::Population::default()
            },
        )?;
        let grown = long_case(options.long_entries.max(demo::case_entries().len()));
        for batch in grown[demo::case_entries().len()..].chunks(100) {
            long.append(&Actor::system("bench"), batch)?;
        }
        let long_name = format!("a {}-entry child's page", grown.len());
        let lead = demo::lead_professional();
        // Sessions are made before the clients start: the store's PostgreSQL client is
        // synchronous and may not run on the runtime's threads.
        let mut pages = Vec::new();
        for (name, store, child, user, path) in [
            (
                "the demo child's page",
                &store,
                child,
                lead.as_str(),
                format!("/persons/{child}"),
            ),
            (
                long_name.as_str(),
                &long,
                long_child,
                lead.as_str(),
                format!("/persons/{long_child}"),
            ),
            (
                "the dashboard, a team of 30",
                &store,
                child,
                manager.as_str(),
                "/team".to_owned(),
            ),
        ] {
            pages.push((
                name,
                store,
                child,
                path,
                session_of(store, user)?,
                session_of(store, &lead)?,
            ));
        }
        runtime.block_on(async {
            for (name, store, child, path, session, lead_session) in pages {
                let server = Server::start(store.clone()).await?;
                let mut client = server.client().await?;
                let baseline = time(
                    &mut client,
                    &format!("/api/v1/persons/{child}/chronology?limit=1000"),
                    &lead_session,
                    options.iterations,
                )
                .await?;
                let page = time(&mut client, &path, &session, options.iterations).await?;
                let (p50, p95, base) = (
                    percentile(&page, 0.5),
                    percentile(&page, 0.95),
                    percentile(&baseline, 0.95),
                );
                println!(
                    "{engine:<10} {name:<44} {:>9} {:>9} {:>9} {:>7.2}x  goal p95 <= {} ms: {}",
                    ms(p50),
                    ms(p95),
                    ms(base),
                    p95.as_secs_f64() / base.as_secs_f64(),
                    GOAL_P95.as_millis(),
                    if p95 <= GOAL_P95 { "met" } else { "NOT MET" }
                );
                server.stop().await?;
            }
            anyhow::Ok(())
        })?;
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Thirty workers in the demo lead's agency, each allocated five of the population's
/// children, and their team manager; returns the manager's user id.
fn team_of(store: &Store, demo_child: PersonId) -> anyhow::Result<String> {
    let agency = AgencyId::parse("northbury-childrens-services").expect("valid");
    let children: Vec<PersonId> = store
        .all_subject_children()?
        .into_iter()
        .filter(|c| *c != demo_child)
        .collect();
    anyhow::ensure!(!children.is_empty(), "the population has no children");
    // Each worker's children in turn; a small population's children are shared.
    for n in 0..TEAM {
        let worker = format!("bench-worker-{n}@{agency}");
        store.add_user(
            &worker,
            &agency,
            &format!("Bench Worker {n}"),
            &[Role::Practitioner],
            demo::DEMO_PASSWORD,
        )?;
        for k in 0..CHILDREN_PER_WORKER {
            let i = n * CHILDREN_PER_WORKER + k;
            store.allocate(children[i % children.len()], &worker, i < children.len())?;
        }
    }
    Ok(demo::demo_user(Role::TeamManager, &agency))
}

/// A session for a demo user, as signing in makes it.
fn session_of(store: &Store, user: &str) -> anyhow::Result<String> {
    let (token, _) = store
        .sign_in(user, demo::DEMO_PASSWORD)?
        .map_err(|e| anyhow::anyhow!("{user} cannot sign in: {e:?}"))?;
    Ok(token)
}

/// The sorted times of `n` requests for `path` with the session `token`, after ten unmeasured.
async fn time(
    client: &mut Client,
    path: &str,
    token: &str,
    n: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 10 {
        let request = Request::get(path)
            .header(header::HOST, "localhost")
            .header(
                header::COOKIE,
                format!("{}={token}", safeguard_web::auth::SESSION_COOKIE),
            )
            .body(Full::new(Bytes::new()))?;
        let started = Instant::now();
        let (status, _, body) = client.send(request).await?;
        let took = started.elapsed();
        anyhow::ensure!(
            status == StatusCode::OK,
            "{path} answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        if i >= 10 {
            times.push(took);
        }
    }
    times.sort();
    Ok(times)
}
