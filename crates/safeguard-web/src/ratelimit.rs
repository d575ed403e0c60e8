//! Requests per caller (a signed-in user or an agency's API token), so that no one caller,
//! by mistake or on purpose, takes the service from the others: a GCRA limiter (governor) with
//! a burst of ten seconds' worth. Over the limit a request is answered 429 with `Retry-After`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// Requests a caller may make per minute, unless configured.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;

/// The limiter, keyed by caller.
pub struct RateLimits {
    limiter: RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>,
    clock: DefaultClock,
}

impl RateLimits {
    /// `per_minute` requests a minute for each caller, in bursts of up to a sixth of that.
    pub fn new(per_minute: u32) -> Self {
        let rate = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        let burst = NonZeroU32::new((per_minute / 6).max(10)).expect("at least ten");
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts a request by `caller`; `Err` holds how long to wait when over the limit.
    pub fn check(&self, caller: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&caller.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::new(DEFAULT_REQUESTS_PER_MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_past_the_burst_waits_and_others_do_not() {
        let limits = RateLimits::new(60);
        for _ in 0..10 {
            assert_eq!(limits.check("token:police"), Ok(()));
        }
        let wait = limits.check("token:police").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(
            limits.check("user:sw1"),
            Ok(()),
            "another caller is not slowed"
        );
    }
}
