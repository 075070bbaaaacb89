//! Request quotas on sliding windows: each caller's request times within the window are kept, so a
//! request is allowed exactly when fewer than the limit happened in the last window, and a caller
//! recovers as its oldest requests slide out. Two windows per caller (an hour and a day by
//! default). On one node they are kept in memory, bounded by a cache of callers that forgets the
//! idle ones; nodes sharing a store keep them in it ([`RedisQuotas`]), on its clock, so a quota
//! holds for the whole deployment.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::sync::Cache;

use super::tiers::TierLimits;
use crate::domain::Timestamp;
use crate::storage::{RedisQuotas, WindowSpec};

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

/// The limiter of a node: its own windows, or the deployment's.
#[derive(Clone)]
pub struct RateLimiter {
    windows: Windows,
    counts: Counts,
}

/// Where the request times are kept.
#[derive(Clone)]
enum Counts {
    /// In this process.
    Local(Cache<String, Arc<Mutex<Log>>>),
    /// In the store every node shares.
    Shared(Arc<RedisQuotas>),
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
    standing_of(used, log.front().copied(), limit, length, now)
}

/// A window's standing when `used` requests fall in it, the oldest at `oldest`, and whether one
/// more is allowed.
fn standing_of(
    used: u32,
    oldest: Option<Timestamp>,
    limit: u32,
    length: Duration,
    now: Timestamp,
) -> (Standing, bool) {
    let allowed = used < limit;
    let oldest = oldest.unwrap_or(now);
    let reset = oldest.plus_millis(millis(length));
    let standing = Standing {
        limit,
        remaining: limit.saturating_sub(used + u32::from(allowed)),
        reset_unix: reset.as_millis().div_ceil(1000),
    };
    (standing, allowed)
}

impl RateLimiter {
    /// A limiter with these windows, kept in this process.
    pub fn new(windows: Windows) -> Self {
        let callers = Cache::builder()
            .max_capacity(MAX_CALLERS)
            .time_to_idle(windows.long.max(windows.short))
            .build();
        Self {
            windows,
            counts: Counts::Local(callers),
        }
    }

    /// A limiter with these windows, kept in the store every node shares.
    pub fn shared(windows: Windows, quotas: Arc<RedisQuotas>) -> Self {
        Self {
            windows,
            counts: Counts::Shared(quotas),
        }
    }

    /// Counts one request of `caller` under `limits` at `now` (a shared limiter uses the store's
    /// clock instead), or refuses it (refusals count nothing). `Ok(None)` when the tier has no
    /// limits at all, or when the shared store does not answer (the request itself will meet
    /// the same store and be refused there if it needs it).
    ///
    /// # Errors
    /// [`Exceeded`] when the caller is over a limit.
    pub async fn check(
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
        let (short, long, now) = match &self.counts {
            Counts::Local(callers) => {
                let (short, long) = count_locally(callers, caller, limits, self.windows, now);
                (short, long, now)
            }
            Counts::Shared(quotas) => {
                match count_shared(quotas, caller, limits, self.windows).await {
                    Some(counted) => counted,
                    // The shared quotas did not answer: the request is not counted.
                    None => return Ok(None),
                }
            }
        };
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
        Ok(Some(standing))
    }
}

/// A window's standing and whether one more request is allowed in it.
type WindowCheck = Option<(Standing, bool)>;

/// Counts `caller`'s request in this process's windows, if both allow it.
fn count_locally(
    callers: &Cache<String, Arc<Mutex<Log>>>,
    caller: &str,
    limits: &TierLimits,
    windows: Windows,
    now: Timestamp,
) -> (WindowCheck, WindowCheck) {
    let (short_limit, long_limit) = (
        limits.requests_per_hour.limit(),
        limits.requests_per_day.limit(),
    );
    let entry = callers.get_with(caller.to_owned(), || Arc::new(Mutex::new(Log::default())));
    // A poisoned lock means a panic mid-update; the log is still a valid list of times.
    let mut log = entry
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let short = short_limit.map(|limit| window(&mut log.short, limit, windows.short, now));
    let long = long_limit.map(|limit| window(&mut log.long, limit, windows.long, now));
    if short.is_none_or(|(_, ok)| ok) && long.is_none_or(|(_, ok)| ok) {
        if short_limit.is_some() {
            log.short.push_back(now);
        }
        if long_limit.is_some() {
            log.long.push_back(now);
        }
    }
    (short, long)
}

/// Counts `caller`'s request in the windows every node shares, on the store's clock (its "now"
/// is returned); `None` when the store did not answer.
async fn count_shared(
    quotas: &RedisQuotas,
    caller: &str,
    limits: &TierLimits,
    windows: Windows,
) -> Option<(WindowCheck, WindowCheck, Timestamp)> {
    let (short_limit, long_limit) = (
        limits.requests_per_hour.limit(),
        limits.requests_per_day.limit(),
    );
    let spec = |length, limit: Option<u32>| limit.map(|limit| WindowSpec { length, limit });
    let specs = [
        spec(windows.short, short_limit),
        spec(windows.long, long_limit),
    ];
    let counted = match quotas.take(caller, specs).await {
        Ok(counted) => counted,
        Err(err) => {
            tracing::warn!(error = %err, "the shared quotas did not answer; the request is not counted");
            return None;
        }
    };
    let now = Timestamp::from_millis(counted.now_ms);
    let standing = |spec: Option<WindowSpec>, count: Option<crate::storage::WindowCount>| {
        spec.zip(count).map(|(spec, count)| {
            standing_of(
                count.used,
                count.oldest_ms.map(Timestamp::from_millis),
                spec.limit,
                spec.length,
                now,
            )
        })
    };
    Some((
        standing(specs[0], counted.windows[0]),
        standing(specs[1], counted.windows[1]),
        now,
    ))
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

    #[tokio::test]
    async fn exactly_the_limit_then_recovery_as_the_window_slides() {
        let limiter = RateLimiter::new(Windows {
            short: Duration::from_secs(10),
            long: Duration::from_secs(100),
        });
        let t0 = Timestamp::from_millis(1_000_000);
        for n in 0..3 {
            let standing = limiter
                .check("a", &limits(3, 50), t0.plus_secs(n))
                .await
                .expect("allowed")
                .expect("limited");
            assert_eq!((standing.limit, standing.remaining), (3, 2 - n as u32));
        }
        let refused = limiter
            .check("a", &limits(3, 50), t0.plus_secs(5))
            .await
            .expect_err("fourth refused");
        assert_eq!(
            refused.retry_after_secs, 5,
            "the first request leaves the window at +10 s"
        );
        assert!(
            limiter
                .check("b", &limits(3, 50), t0.plus_secs(5))
                .await
                .is_ok(),
            "callers are separate"
        );
        assert!(
            limiter
                .check("a", &limits(3, 50), t0.plus_secs(10))
                .await
                .is_ok(),
            "recovered"
        );
    }

    #[tokio::test]
    async fn the_long_window_binds_too() {
        let limiter = RateLimiter::new(Windows {
            short: Duration::from_secs(10),
            long: Duration::from_secs(100),
        });
        let t0 = Timestamp::from_millis(1_000_000);
        for n in 0..4 {
            assert!(
                limiter
                    .check("a", &limits(3, 4), t0.plus_secs(11 * n))
                    .await
                    .is_ok()
            );
        }
        let refused = limiter
            .check("a", &limits(3, 4), t0.plus_secs(45))
            .await
            .expect_err("day quota used");
        assert_eq!(refused.standing.limit, 4);
    }
}
