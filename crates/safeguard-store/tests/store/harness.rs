//! Stores for tests: a fresh SQLite file, or a fresh database on a shared throwaway PostgreSQL.

use std::ops::Deref;
use std::sync::OnceLock;

use safeguard_core::{Agency, AgencyId, AgencyKind};
use safeguard_store::audit::AuditKey;
use safeguard_store::temp_postgres::TempPostgres;
use safeguard_store::{DatabaseUrl, Store};

/// A store with its backing kept alive for the test.
pub struct TestStore {
    pub store: Store,
    pub url: DatabaseUrl,
    pub key: AuditKey,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl TestStore {
    /// Opens the same database again, as a restarted process would.
    pub fn reopen(&self) -> Store {
        Store::open_with_key(&self.url, self.key.clone()).expect("reopen")
    }
}

pub fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("test.db"));
    with_agencies(url, Some(dir))
}

pub fn postgres() -> TestStore {
    static SERVER: OnceLock<TempPostgres> = OnceLock::new();
    let server = SERVER.get_or_init(|| TempPostgres::start().expect("start PostgreSQL"));
    let url = DatabaseUrl::Postgres(server.create_database().unwrap());
    with_agencies(url, None)
}

pub const AGENCIES: [(&str, AgencyKind); 3] = [
    ("north-hospital", AgencyKind::Hospital),
    ("north-police", AgencyKind::Police),
    ("north-childrens-services", AgencyKind::SocialCare),
];

fn with_agencies(url: DatabaseUrl, dir: Option<tempfile::TempDir>) -> TestStore {
    let key = AuditKey::generate();
    let store = Store::open_with_key(&url, key.clone()).expect("open store");
    for (id, kind) in AGENCIES {
        store
            .put_agency(&Agency {
                id: AgencyId::parse(id).unwrap(),
                name: id.replace('-', " "),
                kind,
            })
            .unwrap();
    }
    TestStore {
        store,
        url,
        key,
        _dir: dir,
    }
}
