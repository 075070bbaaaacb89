//! Request quotas on sliding windows: each caller's request times within the window are kept, so a
//! request is allowed exactly when fewer than the limit happened in the last window, and a caller
//! recovers as its oldest requests slide out. Two windows per caller (an hour and a day by
//! default); memory is bounded by a cache of callers that forgets the idle ones.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::sync::Cache;

use super::tiers::TierLimits;
use crate::domain::Timestamp;

/// Callers whose counters are kept at once.
const MAX_CALLERS: u64 = 200_000;

/// The two window lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The "per hour" window.
    pub short: Duration,
    /// The "per day" window.
    pub long: Duration,
}

impl Windows {
    /// An hour and a day.
    pub const DOCUMENTED: Windows = Windows {
        short: Duration::from_secs(3600),
        long: Duration::from_secs(86_400),
    };
}

/// Where a caller stands after a request: what the `X-RateLimit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The binding limit (the window with fewer requests left).
    pub limit: u32,
    /// Requests left in that window.
    pub remaining: u32,
    /// When that window next frees a request, Unix seconds.
    pub reset_unix: u64,
}

/// A refused request: over the limit until `retry_after_secs` pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// What the headers say.
    pub standing: Standing,
    /// Seconds until a request is allowed again.
    pub retry_after_secs: u64,
}

#[derive(Default)]
struct Log {
    short: VecDeque<Timestamp>,
    long: VecDeque<Timestamp>,
}

/// The limiter of one node.
#[derive(Clone)]
pub struct RateLimiter {
    windows: Windows,
    callers: Cache<String, Arc<Mutex<Log>>>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One window's check: drops expired entries, then the standing if one more request were taken.
fn window(
    log: &mut VecDeque<Timestamp>,
    limit: u32,
    length: Duration,
    now: Timestamp,
) -> (Standing, bool) {
    let horizon = Timestamp::from_millis(now.as_millis().saturating_sub(millis(length)));
    while log.front().is_some_and(|at| *at <= horizon) {
        log.pop_front();
    }
    let used = u32::try_from(log.len()).unwrap_or(u32::MAX);
    let allowed = used < limit;
    let oldest = log.front().copied().unwrap_or(now);
    let reset = oldest.plus_millis(millis(length));
    let standing = Standing {
        limit,
        remaining: limit.saturating_sub(used + u32::from(allowed)),
        reset_unix: reset.as_millis().div_ceil(1000),
    };
    (standing, allowed)
}

impl RateLimiter {
    /// A limiter with these windows.
    pub fn new(windows: Windows) -> Self {
        let callers = Cache::builder()
            .max_capacity(MAX_CALLERS)
            .time_to_idle(windows.long.max(windows.short))
            .build();
        Self { windows, callers }
    }

    /// Counts one request of `caller` under `limits` at `now`, or refuses it (refusals count
    /// nothing). `Ok(None)` when the tier has no limits at all.
    ///
    /// # Errors
    /// [`Exceeded`] when the caller is over a limit.
    pub fn check(
        &self,
        caller: &str,
        limits: &TierLimits,
        now: Timestamp,
    ) -> Result<Option<Standing>, Exceeded> {
        let (short_limit, long_limit) = (
            limits.requests_per_hour.limit(),
            limits.requests_per_day.limit(),
        );
        if short_limit.is_none() && long_limit.is_none() {
            return Ok(None);
        }
        let entry = self
            .callers
            .get_with(caller.to_owned(), || Arc::new(Mutex::new(Log::default())));
        // A poisoned lock means a panic mid-update; the log is still a valid list of times.
        let mut log = entry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let short = short_limit.map(|limit| window(&mut log.short, limit, self.windows.short, now));
        let long = long_limit.map(|limit| window(&mut log.long, limit, self.windows.long, now));
        let allowed = short.is_none_or(|(_, ok)| ok) && long.is_none_or(|(_, ok)| ok);
        // The binding window: the one refusing, else the one with fewer requests left.
        let binding = [short, long]
            .into_iter()
            .flatten()
            .min_by_key(|(standing, ok)| (*ok, standing.remaining))
            .map(|(standing, _)| standing);
        let Some(standing) = binding else {
            return Ok(None);
        };
        if !allowed {
            let retry_after_secs = standing.reset_unix.saturating_sub(now.as_secs()).max(1);
            return Err(Exceeded {
                standing,
                retry_after_secs,
            });
        }
        if short_limit.is_some() {
            log.short.push_back(now);
        }
        if long_limit.is_some() {
            log.long.push_back(now);
        }
        Ok(Some(standing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::tiers::{Quota, TierTable};

    fn limits(hour: u32, day: u32) -> TierLimits {
        TierLimits {
            requests_per_hour: Quota::Limited(hour),
            requests_per_day: Quota::Limited(day),
            ..TierTable::DOCUMENTED.anonymous
        }
    }

    #[test]
    fn exactly_the_limit_then_recovery_as_the_window_slides() {
        let limiter = RateLimiter::new(Windows {
            short: Duration::from_secs(10),
            long: Duration::from_secs(100),
        });
        let t0 = Timestamp::from_millis(1_000_000);
        for n in 0..3 {
            let standing = limiter
                .check("a", &limits(3, 50), t0.plus_secs(n))
                .expect("allowed")
                .expect("limited");
            assert_eq!((standing.limit, standing.remaining), (3, 2 - n as u32));
        }
        let refused = limiter
            .check("a", &limits(3, 50), t0.plus_secs(5))
            .expect_err("fourth refused");
        assert_eq!(
            refused.retry_after_secs, 5,
            "the first request leaves the window at +10 s"
        );
        assert!(
            limiter.check("b", &limits(3, 50), t0.plus_secs(5)).is_ok(),
            "callers are separate"
        );
        assert!(
            limiter.check("a", &limits(3, 50), t0.plus_secs(10)).is_ok(),
            "recovered"
        );
    }

    #[test]
    fn the_long_window_binds_too() {
        let limiter = RateLimiter::new(Windows {
            short: Duration::from_secs(10),
            long: Duration::from_secs(100),
        });
        let t0 = Timestamp::from_millis(1_000_000);
        for n in 0..4 {
            assert!(
                limiter
                    .check("a", &limits(3, 4), t0.plus_secs(11 * n))
                    .is_ok()
            );
        }
        let refused = limiter
            .check("a", &limits(3, 4), t0.plus_secs(45))
            .expect_err("day quota used");
        assert_eq!(refused.standing.limit, 4);
    }
}
