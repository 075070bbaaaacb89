//! The wall clock, read in one place.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::Timestamp;

/// Now, in milliseconds since the Unix epoch.
pub fn now() -> Timestamp {
    // A clock before 1970 is a broken host; treat it as the epoch rather than failing requests.
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Timestamp::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}
