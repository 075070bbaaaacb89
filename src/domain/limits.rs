//! Time to live and view limits, with the ranges they must fall in.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// The TTLs a caller may choose, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlRange {
    /// Shortest TTL accepted.
    pub min: u64,
    /// Longest TTL accepted.
    pub max: u64,
    /// TTL used when the caller sends none.
    pub default: u64,
}

impl TtlRange {
    /// Burn the Secret's range: 30 minutes to 999 days, one day by default.
    pub const BURN_THE_SECRET: TtlRange = TtlRange {
        min: 1800,
        max: 86_313_600,
        default: 86_400,
    };
    /// Onetime Secret's range for anonymous callers: one minute to seven days, seven by default.
    pub const ONETIME_SECRET_ANONYMOUS: TtlRange = TtlRange {
        min: 60,
        max: 604_800,
        default: 604_800,
    };
}

/// How long a secret may be read, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ttl(u64);

impl Ttl {
    /// Checks a requested TTL against `range`; `None` takes the range's default.
    ///
    /// # Errors
    /// [`DomainError::InvalidTtl`] when the value lies outside the range.
    pub fn parse(requested: Option<i64>, range: TtlRange) -> Result<Self, DomainError> {
        let Some(requested) = requested else {
            return Ok(Self(range.default));
        };
        match u64::try_from(requested) {
            Ok(secs) if (range.min..=range.max).contains(&secs) => Ok(Self(secs)),
            _ => Err(DomainError::InvalidTtl {
                min: range.min,
                max: range.max,
            }),
        }
    }

    /// A requested TTL moved into `range` instead of refused (the Onetime Secret rule).
    pub fn clamped(requested: Option<i64>, range: TtlRange) -> Self {
        let secs = requested.map_or(range.default, |r| u64::try_from(r).unwrap_or(0));
        Self(secs.min(range.max).max(range.min))
    }

    /// The TTL in seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }
}

/// How many times a secret may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewLimit {
    /// Read at most this many times (1..=999).
    Limited(u16),
    /// Read any number of times until it expires or is burned.
    Unlimited,
}

impl ViewLimit {
    /// Largest finite view limit.
    pub const MAX: u16 = 999;

    /// Checks a requested limit: `None` is unlimited.
    ///
    /// # Errors
    /// [`DomainError::InvalidViewLimit`] outside 1..=999.
    pub fn parse(requested: Option<i64>) -> Result<Self, DomainError> {
        match requested {
            None => Ok(Self::Unlimited),
            Some(n) => match u16::try_from(n) {
                Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self::Limited(n)),
                _ => Err(DomainError::InvalidViewLimit { max: Self::MAX }),
            },
        }
    }

    /// The limit as a number, `None` when unlimited.
    pub const fn as_option(self) -> Option<u16> {
        match self {
            Self::Limited(n) => Some(n),
            Self::Unlimited => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGE: TtlRange = TtlRange::BURN_THE_SECRET;

    #[test]
    fn ttl_bounds_are_inclusive() {
        assert_eq!(Ttl::parse(Some(1800), RANGE).map(Ttl::as_secs), Ok(1800));
        assert_eq!(
            Ttl::parse(Some(86_313_600), RANGE).map(Ttl::as_secs),
            Ok(86_313_600)
        );
        assert_eq!(Ttl::parse(None, RANGE).map(Ttl::as_secs), Ok(86_400));
        for bad in [1799, 86_313_601, 0, -5, i64::MAX] {
            assert!(Ttl::parse(Some(bad), RANGE).is_err(), "{bad}");
        }
    }

    #[test]
    fn clamping_moves_into_range() {
        assert_eq!(Ttl::clamped(Some(1), RANGE).as_secs(), 1800);
        assert_eq!(Ttl::clamped(Some(-1), RANGE).as_secs(), 1800);
        assert_eq!(Ttl::clamped(Some(i64::MAX), RANGE).as_secs(), 86_313_600);
        assert_eq!(Ttl::clamped(None, RANGE).as_secs(), 86_400);
    }

    #[test]
    fn view_limits() {
        assert_eq!(ViewLimit::parse(Some(1)), Ok(ViewLimit::Limited(1)));
        assert_eq!(ViewLimit::parse(Some(999)), Ok(ViewLimit::Limited(999)));
        assert_eq!(ViewLimit::parse(None), Ok(ViewLimit::Unlimited));
        for bad in [0, 1000, -1, 70_000] {
            assert!(ViewLimit::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
