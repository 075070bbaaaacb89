//! The tier table of the Burn the Secret documentation (requests per hour and per day, largest
//! secret, longest TTL and largest view limit, for anonymous callers, people and programs), and
//! the limits a new secret meets, by caller.

use serde::Deserialize;

use super::Caller;
use crate::domain::{DomainError, Tier, TtlRange, ViewLimit};

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

/// Limits that apply to new secrets.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TTLs accepted by the Burn the Secret dialect (refused outside), before the tier's cap.
    pub ttl: TtlRange,
    /// TTLs of the Onetime Secret dialect for anonymous callers (clamped into it).
    pub ots_ttl: TtlRange,
    /// Server-wide ceiling on a secret's size, in bytes, over every tier.
    pub max_secret_bytes: usize,
    /// The limits of each tier.
    pub tiers: TierTable,
    /// Whether callers without an API key may create secrets.
    pub anonymous_create: bool,
    /// File uploads and text bodies over [`super::slots::LARGE_BODY_BYTES`] served at once.
    pub max_uploads: usize,
}

/// Onetime Secret's longest TTL for callers with an account: 30 days.
const OTS_ACCOUNT_MAX_TTL: u64 = 30 * 86_400;

/// `range` with its longest TTL lowered to `cap` (never below its shortest), its default within.
fn capped(range: TtlRange, cap: u64) -> TtlRange {
    let max = cap.max(range.min);
    TtlRange {
        max,
        default: range.default.min(max),
        ..range
    }
}

impl Limits {
    /// The Burn the Secret TTL range of `caller`'s tier.
    pub fn ttl_for(&self, caller: &Caller) -> TtlRange {
        capped(
            self.ttl,
            self.ttl.max.min(self.tiers.of(caller.tier()).max_ttl_secs),
        )
    }

    /// The Onetime Secret TTL range of `caller`: 7 days anonymous, 30 days with an account.
    pub fn ots_ttl_for(&self, caller: &Caller) -> TtlRange {
        let dialect_max = match caller {
            Caller::Anonymous { .. } => self.ots_ttl.max,
            Caller::Account { .. } => self.ots_ttl.max.max(OTS_ACCOUNT_MAX_TTL),
        };
        // The tier's own cap applies too, so an operator's lower limit holds in both dialects.
        capped(
            self.ots_ttl,
            dialect_max.min(self.tiers.of(caller.tier()).max_ttl_secs),
        )
    }

    /// The largest secret `caller` may store, in bytes.
    pub fn max_secret_bytes_for(&self, caller: &Caller) -> usize {
        self.max_secret_bytes
            .min(self.tiers.of(caller.tier()).max_secret_bytes)
    }

    /// Checks a view limit against `caller`'s tier (unlimited views need the full 999).
    ///
    /// # Errors
    /// [`DomainError::InvalidViewLimit`] naming the tier's maximum.
    pub fn check_views(&self, caller: &Caller, views: ViewLimit) -> Result<ViewLimit, DomainError> {
        let max = self.tiers.of(caller.tier()).max_views.min(ViewLimit::MAX);
        match views {
            ViewLimit::Limited(n) if n <= max => Ok(views),
            ViewLimit::Unlimited if max >= ViewLimit::MAX => Ok(views),
            _ => Err(DomainError::InvalidViewLimit { max }),
        }
    }
}
