//! Agencies' webhooks: alerts posted to an agency's system, signed with HMAC-SHA256 over the
//! body with a secret shared once. Deliveries wait in the database until accepted, so a
//! restart loses none; each failure doubles the wait before the next attempt (up to an hour).

use chrono::Utc;
use hmac::{Hmac, Mac};
use safeguard_core::AgencyId;
use sha2::Sha256;

use crate::accounts::new_token;
use crate::migrate::hex;
use crate::sql::SqlExt;
use crate::{Store, StoreError};

/// The header carrying the signature: `sha256=` and the hex HMAC of the body.
pub const SIGNATURE_HEADER: &str = "x-safeguard-signature";

/// The signature of a body under a secret.
pub fn sign(secret: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// A delivery waiting to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its identifier.
    pub id: String,
    /// Where to post it.
    pub url: String,
    /// The agency's secret.
    pub secret: String,
    /// The JSON body.
    pub body: String,
    /// Attempts so far.
    pub attempts: i64,
}

const MAX_BACKOFF_SECONDS: i64 = 3600;

impl Store {
    /// Sets an agency's webhook; returns the new signing secret (shown once).
    pub fn set_webhook(&self, agency: &AgencyId, url: &str) -> Result<String, StoreError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(StoreError::invalid(
                None,
                "url",
                "a webhook URL starts with http:// or https://",
            ));
        }
        let secret = new_token();
        self.write(|sql| {
            sql.execute(
                "INSERT INTO agency_webhooks (agency_id, url, secret, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (agency_id) DO UPDATE SET url = excluded.url, secret = excluded.secret",
                &[agency.as_str().into(), url.into(), secret.as_str().into(), Utc::now().timestamp_micros().into()],
            )
        })?;
        Ok(secret)
    }

    /// Deliveries due now, oldest first.
    pub fn due_deliveries(&self, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        self.read(|sql| {
            sql.query(
                "SELECT d.id, w.url, w.secret, d.body, d.attempts FROM webhook_deliveries d
                 JOIN agency_webhooks w ON w.agency_id = d.agency_id
                 WHERE d.delivered_at IS NULL AND d.next_attempt_at <= $1
                 ORDER BY d.next_attempt_at, d.id LIMIT $2",
                &[Utc::now().timestamp_micros().into(), limit.into()],
            )?
            .iter()
            .map(|r| {
                Ok(Delivery {
                    id: r.text(0)?.to_owned(),
                    url: r.text(1)?.to_owned(),
                    secret: r.text(2)?.to_owned(),
                    body: r.text(3)?.to_owned(),
                    attempts: r.int(4)?,
                })
            })
            .collect()
        })
    }

    /// Records the outcome of an attempt: delivered, or retried later.
    pub fn delivery_attempted(
        &self,
        delivery: &Delivery,
        outcome: Result<(), String>,
    ) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_micros();
        self.write(|sql| {
            match outcome {
                Ok(()) => sql.execute(
                    "UPDATE webhook_deliveries SET delivered_at = $2, attempts = attempts + 1 WHERE id = $1",
                    &[delivery.id.as_str().into(), now.into()],
                )?,
                Err(error) => {
                    let wait = (1i64 << delivery.attempts.clamp(0, 12)).min(MAX_BACKOFF_SECONDS);
                    sql.execute(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $2,
                             next_attempt_at = $3 WHERE id = $1",
                        &[delivery.id.as_str().into(), error.into(), (now + wait * 1_000_000).into()],
                    )?
                }
            };
            Ok(())
        })
    }

    /// Deliveries not yet accepted (for tools and tests).
    pub fn pending_deliveries(&self) -> Result<i64, StoreError> {
        self.read(|sql| {
            sql.query_opt(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE delivered_at IS NULL",
                &[],
            )?
            .map_or(Ok(0), |r| r.int(0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
