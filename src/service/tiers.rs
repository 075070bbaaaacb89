//! The tier table of the Burn the Secret documentation: requests per hour and per day, largest
//! secret, longest TTL and largest view limit, for anonymous callers, people and programs.

use serde::Deserialize;

use crate::domain::Tier;

/// A request quota: a number, or no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Quota {
    /// At most this many requests per window.
    Limited(u32),
    /// No limit (`"unlimited"` in the configuration file).
    Unlimited(UnlimitedWord),
}

/// The word `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnlimitedWord {
    /// No limit.
    Unlimited,
}

impl Quota {
    /// The limit, `None` when unlimited.
    pub fn limit(self) -> Option<u32> {
        match self {
            Self::Limited(n) => Some(n),
            Self::Unlimited(_) => None,
        }
    }
}

/// The limits of one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierLimits {
    /// Requests per short window (an hour by default).
    pub requests_per_hour: Quota,
    /// Requests per long window (a day by default).
    pub requests_per_day: Quota,
    /// Largest secret, in bytes.
    pub max_secret_bytes: usize,
    /// Longest TTL, in seconds.
    pub max_ttl_secs: u64,
    /// Largest view limit (unlimited views count as above any limit below 999).
    pub max_views: u16,
}

/// The limits of every tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierTable {
    /// No credentials.
    pub anonymous: TierLimits,
    /// Accounts of people.
    pub authenticated: TierLimits,
    /// Accounts of programs.
    pub api: TierLimits,
}

impl TierTable {
    /// The documented table.
    pub const DOCUMENTED: TierTable = TierTable {
        anonymous: TierLimits {
            requests_per_hour: Quota::Limited(10),
            requests_per_day: Quota::Limited(50),
            max_secret_bytes: 1_000_000,
            max_ttl_secs: 7 * 86_400,
            max_views: 10,
        },
        authenticated: TierLimits {
            requests_per_hour: Quota::Limited(100),
            requests_per_day: Quota::Limited(1000),
            max_secret_bytes: 52_428_800,
            max_ttl_secs: 86_313_600,
            max_views: 999,
        },
        api: TierLimits {
            requests_per_hour: Quota::Limited(1000),
            requests_per_day: Quota::Unlimited(UnlimitedWord::Unlimited),
            max_secret_bytes: 52_428_800,
            max_ttl_secs: 86_313_600,
            max_views: 999,
        },
    };

    /// The limits of `tier`.
    pub fn of(&self, tier: Tier) -> &TierLimits {
        match tier {
            Tier::Anonymous => &self.anonymous,
            Tier::Authenticated => &self.authenticated,
            Tier::Api => &self.api,
        }
    }
}
