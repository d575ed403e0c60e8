//! Slowing password guessing without locking anyone out. Failures are counted per account name
//! *and address* (whether or not the name exists, so the count tells nothing), and per address
//! whatever the name. Past the free failures each attempt must wait twice as long as the one
//! before, up to fifteen minutes; after the wait the right password signs in and clears the
//! count. A guesser elsewhere therefore slows only themselves: the real user, from their own
//! computer, is never locked out. Guessing one account from many addresses is left to Argon2
//! and the password policy (zxcvbn), which make each guess expensive and unlikely.
//! Counts live in this process and are forgotten an hour after the last failure.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of one account from one address before attempts must wait.
pub const FREE_FAILURES_PER_ACCOUNT: u32 = 5;
/// Failures from one address, whatever the account, before attempts must wait.
pub const FREE_FAILURES_PER_ADDRESS: u32 = 50;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// How long a count is kept after its last failure.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// The most counts kept; past it the oldest are forgotten first.
const MAX_KEPT: usize = 100_000;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// How long after the last failure the next attempt must wait.
    fn wait(self, free: u32) -> Duration {
        match self.count.checked_sub(free) {
            None => Duration::ZERO,
            Some(over) => Duration::from_secs(1u64 << over.min(20)).min(MAX_WAIT),
        }
    }

    fn remaining(self, free: u32, now: Instant) -> Option<Duration> {
        let until = self.last + self.wait(free);
        (until > now).then(|| until - now)
    }
}

/// Failed sign-ins, by account and address and by address.
#[derive(Default)]
pub struct Throttle {
    by_account: Mutex<HashMap<(String, Option<IpAddr>), Failures>>,
    by_address: Mutex<HashMap<Option<IpAddr>, Failures>>,
}

fn record<K: std::hash::Hash + Eq + Clone>(map: &mut HashMap<K, Failures>, key: K, now: Instant) {
    if map.len() >= MAX_KEPT {
        map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        if map.len() >= MAX_KEPT {
            map.clear();
        }
    }
    let f = map.entry(key).or_insert(Failures {
        count: 0,
        last: now,
    });
    f.count += 1;
    f.last = now;
}

impl Throttle {
    /// How long an attempt for `account` from `address` must still wait at `now`, if at all.
    pub fn wait_at(
        &self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Option<Duration> {
        let pair = (account.to_lowercase(), address);
        let by_account = self
            .by_account
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&pair)
            .and_then(|f| f.remaining(FREE_FAILURES_PER_ACCOUNT, now));
        let by_address = self
            .by_address
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&address)
            .and_then(|f| f.remaining(FREE_FAILURES_PER_ADDRESS, now));
        by_account.max(by_address)
    }

    /// Counts a failed attempt at `now`.
    pub fn failed_at(&self, account: &str, address: Option<IpAddr>, now: Instant) {
        let pair = (account.to_lowercase(), address);
        record(
            &mut self.by_account.lock().unwrap_or_else(|e| e.into_inner()),
            pair,
            now,
        );
        record(
            &mut self.by_address.lock().unwrap_or_else(|e| e.into_inner()),
            address,
            now,
        );
    }

    /// A successful sign-in clears the account's count from that address.
    pub fn succeeded(&self, account: &str, address: Option<IpAddr>) {
        self.by_account
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(account.to_lowercase(), address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(a: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, a]))
    }

    #[test]
    fn past_the_free_failures_each_attempt_waits_twice_as_long() {
        let t = Throttle::default();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES_PER_ACCOUNT {
            assert_eq!(t.wait_at("sw1", at(1), start), None);
            t.failed_at("sw1", at(1), start);
        }
        assert_eq!(t.wait_at("sw1", at(1), start), Some(Duration::from_secs(1)));
        t.failed_at("sw1", at(1), start + Duration::from_secs(1));
        assert_eq!(
            t.wait_at("sw1", at(1), start + Duration::from_secs(1)),
            Some(Duration::from_secs(2))
        );
        for i in 0..30 {
            t.failed_at("sw1", at(1), start + Duration::from_secs(2 + i));
        }
        assert_eq!(
            t.wait_at("sw1", at(1), start + Duration::from_secs(31)),
            Some(MAX_WAIT),
            "never longer than fifteen minutes"
        );
        assert_eq!(
            t.wait_at("sw1", at(1), start + Duration::from_secs(31) + MAX_WAIT),
            None,
            "after the wait, the next attempt is heard"
        );
    }

    #[test]
    fn a_guesser_elsewhere_does_not_slow_the_real_user() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..20 {
            t.failed_at("sw1", at(66), now);
        }
        assert!(t.wait_at("sw1", at(66), now).is_some());
        assert_eq!(
            t.wait_at("sw1", at(1), now),
            None,
            "the user's own computer"
        );
        assert_eq!(t.wait_at("SW1", at(1), now), None);
    }

    #[test]
    fn one_address_trying_many_names_is_slowed_too() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..FREE_FAILURES_PER_ADDRESS {
            t.failed_at(&format!("name{i}"), at(7), now);
        }
        assert!(t.wait_at("anyone-else", at(7), now).is_some());
        assert_eq!(t.wait_at("anyone-else", at(8), now), None);
    }

    #[test]
    fn signing_in_clears_the_accounts_count() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES_PER_ACCOUNT + 2 {
            t.failed_at("sw1", at(1), now);
        }
        t.succeeded("sw1", at(1));
        assert_eq!(t.wait_at("sw1", at(1), now), None);
    }
}
