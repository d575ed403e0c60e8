//! Users, sessions, API tokens, allocations and break-glass grants: the facts access control
//! decides on. Passwords are kept as Argon2id hashes; session and API tokens as SHA-256 hashes,
//! so that a copy of the database lets nobody sign in.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use safeguard_core::access::{Principal, Role};
use safeguard_core::{AgencyId, PersonId};
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditEvent, ChainedEvent};
use crate::migrate::hex;
use crate::sql::{Row, SqlExt, Value};
use crate::{Actor, Store, StoreError};

/// How long a session lasts without signing in again, in seconds.
pub const SESSION_SECONDS: i64 = 8 * 60 * 60;
/// How long a session lasts unused, in seconds: a screen left signed in is closed.
pub const IDLE_SECONDS: i64 = 30 * 60;
/// How often a session's last use is written (a write per request would queue reads).
const SEEN_EVERY_SECONDS: i64 = 60;
/// How long an agency's API token lasts unless told otherwise, in days.
pub const TOKEN_DAYS: i64 = 90;
/// How long a rotated token keeps working beside its successor, in seconds.
pub const ROTATION_OVERLAP_SECONDS: i64 = 24 * 60 * 60;
/// How long a break-glass grant lasts, in seconds.
pub const BREAK_GLASS_SECONDS: i64 = 60 * 60;

/// A user as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Sign-in name.
    pub id: String,
    /// Their agency.
    pub agency: AgencyId,
    /// Their name, for people.
    pub display_name: String,
    /// Their roles.
    pub roles: Vec<Role>,
    /// Whether they may no longer sign in.
    pub disabled: bool,
}

impl User {
    /// The principal this user acts as.
    pub fn principal(&self) -> Principal {
        Principal::User {
            id: self.id.clone(),
            agency: self.agency.clone(),
            roles: self.roles.clone(),
        }
    }

    /// The actor recorded in the audit log.
    pub fn actor(&self) -> Actor {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        Actor::user(&self.id, &self.agency, &roles.join(","))
    }
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The token forms must echo back.
    pub csrf_token: String,
    /// The hash of the session token (the session's identity in the database).
    pub token_hash: String,
}

/// Why a sign-in failed. Deliberately vague to the person signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInFailure {
    /// An unknown name, a wrong password, or an account that may not sign in.
    Refused,
}

/// An Argon2 hash of no one's password, checked for unknown names so that they cost what a
/// real check costs.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        Argon2::default()
            .hash_password(
                b"no user has this password",
                &SaltString::generate(&mut OsRng),
            )
            .map(|h| h.to_string())
            .expect("hashing a constant succeeds")
    })
}

/// The weakest password score accepted (zxcvbn: 3, "safely unguessable" against an online
/// attack and a slow hash offline).
pub const MIN_PASSWORD_SCORE: u8 = 3;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Checks a new password: long enough, not built from the user's own name or id, and not
/// guessable by zxcvbn's lists of common passwords, words, names and patterns.
pub fn check_password(id: &str, display_name: &str, password: &str) -> Result<(), StoreError> {
    let refuse = |why: String| Err(StoreError::invalid(None, "password", why));
    if password.chars().count() < MIN_PASSWORD_CHARS
        || password.trim().chars().count() < MIN_PASSWORD_CHARS
    {
        return refuse(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters, not counting spaces at either end"
        ));
    }
    let lower = password.to_lowercase();
    let mut own: Vec<&str> = vec![id];
    own.extend(display_name.split_whitespace());
    own.extend(id.split(|c: char| !c.is_alphanumeric()));
    if own
        .iter()
        .any(|part| part.chars().count() >= 4 && lower.contains(&part.to_lowercase()))
    {
        return refuse("a password may not contain the user's name or user name".into());
    }
    let entropy = zxcvbn::zxcvbn(password, &own);
    if u8::from(entropy.score()) < MIN_PASSWORD_SCORE {
        let hint = entropy
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "add more words or characters that do not follow a pattern".into());
        return refuse(format!("the password is too easy to guess: {hint}"));
    }
    Ok(())
}

/// A new random token: 32 bytes from the operating system, as hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// [`Store::has_broken_glass`] within a transaction.
pub(crate) fn broken_glass_in(
    sql: &mut dyn crate::sql::Sql,
    session_hash: &str,
    person: PersonId,
) -> Result<bool, StoreError> {
    Ok(sql
        .query_opt(
            "SELECT 1 FROM break_glass WHERE session_hash = $1 AND person_id = $2 AND expires_at > $3",
            &[session_hash.into(), person.to_string().into(), now().into()],
        )?
        .is_some())
}

fn now() -> i64 {
    Utc::now().timestamp_micros()
}

fn seconds(s: i64) -> i64 {
    s * 1_000_000
}

fn user_from(row: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: row.text(0)?.to_owned(),
        agency: AgencyId::parse(row.text(1)?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        display_name: row.text(2)?.to_owned(),
        roles: row
            .text(3)?
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| Role::parse(r).ok_or_else(|| StoreError::Corrupt(format!("role {r:?}"))))
            .collect::<Result<_, _>>()?,
        disabled: row.int(4)? != 0,
    })
}

const USER_COLUMNS: &str = "id, agency_id, display_name, roles, disabled";

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Adds a user with a password (hashed with Argon2id).
    pub fn add_user(
        &self,
        id: &str,
        agency: &AgencyId,
        display_name: &str,
        roles: &[Role],
        password: &str,
    ) -> Result<User, StoreError> {
        if id.trim().is_empty() || id.contains(char::is_whitespace) {
            return Err(StoreError::invalid(
                None,
                "id",
                "a user name has no spaces and is not blank",
            ));
        }
        check_password(id, display_name, password)?;
        if roles.is_empty() {
            return Err(StoreError::invalid(
                None,
                "roles",
                "a user needs at least one role",
            ));
        }
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| StoreError::Corrupt(format!("hashing failed: {e}")))?
            .to_string();
        self.write(|sql| {
            if sql
                .query_opt("SELECT 1 FROM users WHERE id = $1", &[id.into()])?
                .is_some()
            {
                return Err(StoreError::invalid(
                    None,
                    "id",
                    format!("user {id:?} already exists"),
                ));
            }
            if sql
                .query_opt(
                    "SELECT 1 FROM agencies WHERE id = $1",
                    &[agency.as_str().into()],
                )?
                .is_none()
            {
                return Err(StoreError::invalid(
                    None,
                    "agency",
                    format!("{agency:?} is not a registered agency"),
                ));
            }
            sql.execute(
                "INSERT INTO users (id, agency_id, display_name, password_hash, roles, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    id.into(),
                    agency.as_str().into(),
                    display_name.into(),
                    hash.into(),
                    roles_text(roles).into(),
                    now().into(),
                ],
            )?;
            audit::append_events(
                sql,
                &Actor::system("accounts"),
                now(),
                &[AuditEvent::new("add_user", id)],
            )
        })?;
        Ok(User {
            id: id.to_owned(),
            agency: agency.clone(),
            display_name: display_name.to_owned(),
            roles: roles.to_vec(),
            disabled: false,
        })
    }

    /// Every user, by agency and name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(|sql| {
            sql.query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY agency_id, id"),
                &[],
            )?
            .iter()
            .map(user_from)
            .collect()
        })
    }

    /// One user.
    pub fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read(|sql| {
            sql.query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
                &[id.into()],
            )?
            .map(|r| user_from(&r))
            .transpose()
        })
    }

    /// Disables (or re-enables) a user; disabling ends their sessions.
    pub fn set_user_disabled(&self, id: &str, disabled: bool) -> Result<(), StoreError> {
        self.write(|sql| {
            let n = sql.execute(
                "UPDATE users SET disabled = $2 WHERE id = $1",
                &[id.into(), i64::from(disabled).into()],
            )?;
            if n == 0 {
                return Err(StoreError::invalid(None, "id", format!("no user {id:?}")));
            }
            if disabled {
                sql.execute("DELETE FROM sessions WHERE user_id = $1", &[id.into()])?;
            }
            let action = if disabled {
                "disable_user"
            } else {
                "enable_user"
            };
            audit::append_events(
                sql,
                &Actor::system("accounts"),
                now(),
                &[AuditEvent::new(action, id)],
            )
        })
    }

    /// Replaces a user's roles.
    pub fn set_user_roles(&self, id: &str, roles: &[Role]) -> Result<(), StoreError> {
        if roles.is_empty() {
            return Err(StoreError::invalid(
                None,
                "roles",
                "a user needs at least one role",
            ));
        }
        self.write(|sql| {
            let n = sql.execute(
                "UPDATE users SET roles = $2 WHERE id = $1",
                &[id.into(), roles_text(roles).into()],
            )?;
            if n == 0 {
                return Err(StoreError::invalid(None, "id", format!("no user {id:?}")));
            }
            let event = AuditEvent {
                reason: Some(roles_text(roles)),
                ..AuditEvent::new("set_roles", id)
            };
            audit::append_events(sql, &Actor::system("accounts"), now(), &[event])
        })
    }

    /// Checks a password and opens a session: the session token (for the cookie) and the
    /// session. An unknown name, a wrong password and an account that may not sign in get
    /// the same answer after the same work (one Argon2 check and one audited write), so that
    /// neither the answer nor its time tells which. Slowing repeated guesses is the caller's
    /// (see the web crate's throttle): nothing here locks an account.
    pub fn sign_in(
        &self,
        id: &str,
        password: &str,
    ) -> Result<Result<(String, Session), SignInFailure>, StoreError> {
        let at = now();
        let row = self.read(|sql| {
            sql.query_opt(
                &format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE id = $1"),
                &[id.into()],
            )
        })?;
        let (user, stored) = match &row {
            Some(row) => (Some(user_from(row)?), row.text(5)?.to_owned()),
            None => (None, dummy_hash().to_owned()),
        };
        let hash = PasswordHash::new(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let valid = Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok();
        let user = match user {
            Some(user) if valid && !user.disabled => user,
            other => {
                let actor = match &other {
                    Some(user) => user.actor(),
                    None => Actor::system("sign-in"),
                };
                self.write(|sql| {
                    audit::append_events(sql, &actor, at, &[AuditEvent::new("sign_in_failed", id)])
                })?;
                return Ok(Err(SignInFailure::Refused));
            }
        };
        let token = new_token();
        let session = Session {
            user,
            csrf_token: new_token(),
            token_hash: token_hash(&token),
        };
        self.write(|sql| {
            sql.execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at)
                 VALUES ($1, $2, $3, $4, $5, $4)",
                &[
                    session.token_hash.as_str().into(),
                    id.into(),
                    session.csrf_token.as_str().into(),
                    at.into(),
                    (at + seconds(SESSION_SECONDS)).into(),
                ],
            )?;
            audit::append_events(
                sql,
                &session.user.actor(),
                at,
                &[AuditEvent::new("sign_in", id)],
            )
        })?;
        Ok(Ok((token, session)))
    }

    /// The live session for a token, if any: not expired, used within the idle period, its
    /// user not disabled. Its last use is written at most once a minute.
    pub fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let hash = token_hash(token);
        let at = now();
        let found = self
            .query_alone(
                "SELECT u.id, u.agency_id, u.display_name, u.roles, u.disabled, s.csrf_token,
                        s.last_seen_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0
                   AND s.last_seen_at > $3",
                &[
                    hash.as_str().into(),
                    at.into(),
                    (at - seconds(IDLE_SECONDS)).into(),
                ],
            )?
            .map(|r| {
                Ok::<_, StoreError>((
                    Session {
                        user: user_from(&r)?,
                        csrf_token: r.text(5)?.to_owned(),
                        token_hash: hash.clone(),
                    },
                    r.int(6)?,
                ))
            })
            .transpose()?;
        let Some((session, last_seen)) = found else {
            return Ok(None);
        };
        if at - last_seen > seconds(SEEN_EVERY_SECONDS) {
            self.write(|sql| {
                sql.execute(
                    "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
                    &[hash.as_str().into(), at.into()],
                )
            })?;
        }
        Ok(Some(session))
    }

    /// Ends a session on the server: its token no longer works.
    pub fn sign_out(&self, session: &Session) -> Result<(), StoreError> {
        self.write(|sql| {
            sql.execute(
                "DELETE FROM sessions WHERE token_hash = $1",
                &[session.token_hash.as_str().into()],
            )?;
            sql.execute(
                "DELETE FROM break_glass WHERE session_hash = $1",
                &[session.token_hash.as_str().into()],
            )?;
            audit::append_events(
                sql,
                &session.user.actor(),
                now(),
                &[AuditEvent::new("sign_out", session.user.id.as_str())],
            )
        })
    }

    /// Creates an API token for an agency's system, lasting `days`; the token is shown once,
    /// only its hash kept.
    pub fn add_api_token(&self, name: &str, agency: &AgencyId) -> Result<String, StoreError> {
        self.add_api_token_for(name, agency, TOKEN_DAYS)
    }

    /// [`Store::add_api_token`] with its lifetime in days.
    pub fn add_api_token_for(
        &self,
        name: &str,
        agency: &AgencyId,
        days: i64,
    ) -> Result<String, StoreError> {
        if days < 1 {
            return Err(StoreError::invalid(
                None,
                "days",
                "a token lasts at least a day",
            ));
        }
        let token = new_token();
        let at = now();
        self.write(|sql| {
            if sql.query_opt("SELECT 1 FROM api_tokens WHERE name = $1 AND revoked_at IS NULL AND expires_at > $2", &[name.into(), at.into()])?.is_some() {
                return Err(StoreError::invalid(None, "name", format!("a live token named {name:?} exists: rotate it")));
            }
            sql.execute(
                "INSERT INTO api_tokens (token_hash, name, agency_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[token_hash(&token).into(), name.into(), agency.as_str().into(), at.into(), (at + seconds(days * 86_400)).into()],
            )?;
            audit::append_events(sql, &Actor::system("accounts"), at, &[AuditEvent::new("add_api_token", name)])
        })?;
        Ok(token)
    }

    /// Replaces a live token with a new one of the same name and agency lasting `days`; the
    /// old one keeps working for a day, so that the agency's system can switch over.
    pub fn rotate_api_token(&self, name: &str, days: i64) -> Result<String, StoreError> {
        let token = new_token();
        let at = now();
        self.write(|sql| {
            let live = sql.query(
                "SELECT token_hash, agency_id FROM api_tokens
                 WHERE name = $1 AND revoked_at IS NULL AND expires_at > $2",
                &[name.into(), at.into()],
            )?;
            let Some(agency) = live.first().map(|r| r.text(1).map(str::to_owned)).transpose()? else {
                return Err(StoreError::invalid(None, "name", format!("no live token named {name:?}")));
            };
            sql.execute(
                "UPDATE api_tokens SET expires_at = $3
                 WHERE name = $1 AND revoked_at IS NULL AND expires_at > $3 AND expires_at > $2",
                &[name.into(), at.into(), (at + seconds(ROTATION_OVERLAP_SECONDS)).into()],
            )?;
            sql.execute(
                "INSERT INTO api_tokens (token_hash, name, agency_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[token_hash(&token).into(), name.into(), agency.into(), at.into(), (at + seconds(days.max(1) * 86_400)).into()],
            )?;
            audit::append_events(sql, &Actor::system("accounts"), at, &[AuditEvent::new("rotate_api_token", name)])
        })?;
        Ok(token)
    }

    /// Revokes an agency's API token by name.
    pub fn revoke_api_token(&self, name: &str) -> Result<(), StoreError> {
        self.write(|sql| {
            let n = sql.execute(
                "UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                &[name.into(), now().into()],
            )?;
            if n == 0 {
                return Err(StoreError::invalid(
                    None,
                    "name",
                    format!("no live token named {name:?}"),
                ));
            }
            audit::append_events(
                sql,
                &Actor::system("accounts"),
                now(),
                &[AuditEvent::new("revoke_api_token", name)],
            )
        })
    }

    /// The agency system holding a live API token (not revoked, not expired), if any.
    pub fn api_token(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        self.query_alone(
            "SELECT name, agency_id FROM api_tokens
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
            &[token_hash(token).into(), now().into()],
        )?
        .map(|r| {
            Ok(Principal::AgencySystem {
                token: r.text(0)?.to_owned(),
                agency: AgencyId::parse(r.text(1)?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            })
        })
        .transpose()
    }

    /// Allocates a worker to a child (as the lead professional, or not).
    pub fn allocate(&self, person: PersonId, user: &str, lead: bool) -> Result<(), StoreError> {
        self.write(|sql| {
            if lead {
                sql.execute(
                    "UPDATE allocations SET lead = 0 WHERE person_id = $1 AND ended_at IS NULL",
                    &[person.to_string().into()],
                )?;
            }
            sql.execute(
                "INSERT INTO allocations (person_id, user_id, lead, allocated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (person_id, user_id) DO UPDATE SET lead = excluded.lead, ended_at = NULL",
                &[person.to_string().into(), user.into(), i64::from(lead).into(), now().into()],
            )?;
            let action = if lead { "allocate_lead" } else { "allocate" };
            audit::append_events(sql, &Actor::system("accounts"), now(), &[AuditEvent { reason: Some(user.to_owned()), ..AuditEvent::new(action, person.to_string()) }])
        })
    }

    /// Records a break-glass grant for this session and child, with its reason, in the audit log.
    pub fn break_glass(
        &self,
        session: &Session,
        person: PersonId,
        reason: &str,
    ) -> Result<(), StoreError> {
        let reason = safeguard_core::text::reason("reason", reason)
            .map_err(|error| StoreError::Invalid { index: None, error })?;
        let reason = reason.as_str();
        let at = now();
        self.write(|sql| {
            sql.execute(
                "INSERT INTO break_glass (session_hash, person_id, user_id, reason, granted_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (session_hash, person_id) DO UPDATE
                 SET reason = excluded.reason, granted_at = excluded.granted_at, expires_at = excluded.expires_at",
                &[
                    session.token_hash.as_str().into(),
                    person.to_string().into(),
                    session.user.id.as_str().into(),
                    reason.trim().into(),
                    at.into(),
                    (at + seconds(BREAK_GLASS_SECONDS)).into(),
                ],
            )?;
            let event = AuditEvent { reason: Some(reason.trim().to_owned()), ..AuditEvent::new("break_glass", person.to_string()) };
            audit::append_events(sql, &session.user.actor(), at, &[event])
        })
    }

    /// Whether this session holds a live break-glass grant for the child.
    pub fn has_broken_glass(
        &self,
        session_hash: &str,
        person: PersonId,
    ) -> Result<bool, StoreError> {
        self.read(|sql| broken_glass_in(sql, session_hash, person))
    }

    /// Every audited event about a subject (a person's id), newest first.
    pub fn access_log(&self, subject: &str) -> Result<Vec<ChainedEvent>, StoreError> {
        let mut events = self.read(|sql| audit::events_about(sql, audit::Log::Writes, subject))?;
        events.extend(self.read_reads_of(subject)?);
        events.sort_by_key(|e| std::cmp::Reverse(e.at));
        Ok(events)
    }

    /// Break-glass events by users of an agency, and on children the agency holds, newest
    /// first: for its safeguarding lead.
    pub fn break_glass_by_agency(
        &self,
        agency: &AgencyId,
    ) -> Result<Vec<ChainedEvent>, StoreError> {
        self.read(|sql| audit::break_glass_by(sql, agency.as_str()))
    }
}

impl Row {
    /// Integer in column `i`, `None` for NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.0.get(i) {
            Some(Value::Null) => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
}
