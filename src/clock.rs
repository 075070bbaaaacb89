//! The wall clock, read in one place. Nodes sharing a store follow the store's clock: the
//! difference to it is measured now and then ([`follow`]) and added to every reading, so the
//! nodes agree on when a secret expires or a lock ends, whatever their own clocks say.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::Timestamp;

/// Milliseconds added to this host's clock (0 unless following a shared store's).
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// This host's clock, in milliseconds since the Unix epoch.
pub fn system() -> Timestamp {
    // A clock before 1970 is a broken host; treat it as the epoch rather than failing requests.
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Timestamp::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// Now, in milliseconds since the Unix epoch: this host's clock, moved to the followed one.
pub fn now() -> Timestamp {
    shifted(system(), OFFSET_MS.load(Ordering::Relaxed))
}

fn shifted(time: Timestamp, offset_ms: i64) -> Timestamp {
    Timestamp::from_millis(time.as_millis().saturating_add_signed(offset_ms))
}

/// The difference to a reference clock that read `reference` between the local readings `sent`
/// and `received`, taken at their midpoint, in milliseconds.
fn offset_of(reference: Timestamp, sent: Timestamp, received: Timestamp) -> i64 {
    let midpoint = sent.as_millis() / 2 + received.as_millis() / 2;
    i64::try_from(reference.as_millis())
        .unwrap_or(i64::MAX)
        .saturating_sub(i64::try_from(midpoint).unwrap_or(i64::MAX))
}

/// Follows a reference clock that read `reference` between the local readings `sent` and
/// `received` (of [`system`]): from now on [`now`] is this host's clock plus the difference to
/// the reference. Returns that difference, in milliseconds.
pub fn follow(reference: Timestamp, sent: Timestamp, received: Timestamp) -> i64 {
    let offset = offset_of(reference, sent, received);
    OFFSET_MS.store(offset, Ordering::Relaxed);
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_is_taken_at_the_round_trips_midpoint_and_added() {
        let at = |ms| Timestamp::from_millis(ms);
        assert_eq!(offset_of(at(15_000), at(10_000), at(10_002)), 4_999);
        assert_eq!(offset_of(at(9_000), at(10_000), at(10_000)), -1_000);
        assert_eq!(shifted(at(10_000), 4_999), at(14_999));
        assert_eq!(shifted(at(10_000), -1_000), at(9_000));
        assert_eq!(shifted(at(10), -1_000), at(0), "never before the epoch");
    }
}
