//! A throwaway PostgreSQL server for tests and benchmarks, started from the system's `initdb` and
//! `postgres` binaries in a temporary directory, reached over a Unix socket (no port to clash).
//!
//! The server stops, and its directory is removed, when it is dropped or when the process that
//! started it exits: a small shell watchdog polls for both, so a test binary that never drops its
//! server (a shared static) leaves nothing running.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A running throwaway server.
pub struct TempPostgres {
    root: PathBuf,
    watchdog: Child,
}

/// Databases created so far in this process, for unique names.
static DATABASES: AtomicUsize = AtomicUsize::new(0);

impl TempPostgres {
    /// Initialises a cluster in a new temporary directory and starts a server on it.
    ///
    /// Run as root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
    /// Set `SAFEGUARD_PG_BIN` to choose the directory holding `initdb` and `postgres`.
    pub fn start() -> Result<Self, String> {
        let bin = find_bin_dir()?;
        let root = tempfile::Builder::new()
            .prefix("safeguard-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?
            .keep();
        let data = root.join("data");
        let run_as = if is_root()? {
            Some(user_ids("postgres")?)
        } else {
            None
        };
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))
                .map_err(|e| format!("cannot hand {} to postgres: {e}", root.display()))?;
        }
        let command = |program: &Path| {
            let mut c = Command::new(program);
            if let Some((uid, gid)) = run_as {
                use std::os::unix::process::CommandExt;
                c.uid(uid).gid(gid);
            }
            c
        };
        let init = command(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !init.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ));
        }
        // The watchdog runs the server until this process exits, then stops it and cleans up.
        let script = r#"
            "$1" -D "$2" -k "$3" -c listen_addresses= -c fsync=off -c full_page_writes=off \
                -c max_connections=100 >"$3/server.log" 2>&1 &
            pg=$!
            while [ -d "/proc/$4" ] && [ ! -e "$3/stop" ] && kill -0 "$pg" 2>/dev/null; do
                sleep 0.2
            done
            kill -INT "$pg" 2>/dev/null
            wait "$pg"
            rm -rf "$3"
        "#;
        let watchdog = command(Path::new("/bin/sh"))
            .arg("-c")
            .arg(script)
            .arg("safeguard-pg-watchdog")
            .arg(bin.join("postgres"))
            .arg(&data)
            .arg(&root)
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let server = Self { root, watchdog };
        server.wait_until_ready()?;
        Ok(server)
    }

    /// The connection URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres@localhost/{name}?host={}",
            self.root.display()
        )
    }

    /// Creates a new empty database and returns its URL.
    pub fn create_database(&self) -> Result<String, String> {
        let name = format!(
            "safeguard_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .map_err(|e| format!("cannot connect to the temporary server: {e}"))?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("cannot create database {name}: {e}"))?;
        Ok(self.url(&name))
    }

    fn wait_until_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match postgres::Client::connect(&self.url("postgres"), postgres::NoTls) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    let log =
                        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
                    return Err(format!("postgres did not start: {e}\n{log}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        // The watchdog sees the stop file, stops the server and removes the directory.
        let _ = std::fs::write(self.root.join("stop"), b"");
        let _ = self.watchdog.wait();
    }
}

fn find_bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("SAFEGUARD_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    // Debian keeps the server binaries out of PATH, one directory per major version.
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists() && p.join("postgres").exists())
        .collect();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(dir) = candidates.pop() {
        return Ok(dir);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|p| p.join("initdb").exists() && p.join("postgres").exists())
        .ok_or_else(|| {
            "PostgreSQL server binaries (initdb, postgres) not found: install them \
             (apt-get install -y postgresql) or set SAFEGUARD_PG_BIN"
                .to_owned()
        })
}

fn is_root() -> Result<bool, String> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id")
            .args([flag, user])
            .output()
            .map_err(|e| format!("cannot run id: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| format!("no {user} user to run PostgreSQL as (install postgresql)"))
    };
    Ok((id("-u")?, id("-g")?))
}
