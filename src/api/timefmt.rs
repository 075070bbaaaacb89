//! Wire formats of instants.

use time::OffsetDateTime;
use time::macros::format_description;

use crate::domain::Timestamp;

/// `2025-01-27T12:00:00.000Z`, as Burn the Secret writes instants.
pub fn iso_millis(at: Timestamp) -> String {
    let nanos = i128::from(at.as_millis()) * 1_000_000;
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "9999-12-31T23:59:59.999Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_seed() {
        assert_eq!(
            iso_millis(Timestamp::from_millis(1_737_979_200_000)),
            "2025-01-27T12:00:00.000Z"
        );
        assert_eq!(
            iso_millis(Timestamp::from_millis(1_737_979_200_123)),
            "2025-01-27T12:00:00.123Z"
        );
    }
}
