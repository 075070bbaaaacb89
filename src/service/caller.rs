//! Who is calling: an anonymous client (by address) or an account holding an API token.

use std::net::IpAddr;

use crate::domain::{ApiToken, Email, Tier};

/// The caller of one request, as the guard established it.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No credentials.
    Anonymous {
        /// The client's address (after trusted proxies).
        ip: IpAddr,
    },
    /// An account, by one of its tokens.
    Account {
        /// The account.
        email: Email,
        /// Its tier.
        tier: Tier,
        /// The token it presented (to seal and open its receipt list).
        token: ApiToken,
    },
}

impl Caller {
    /// The caller's tier.
    pub fn tier(&self) -> Tier {
        match self {
            Self::Anonymous { .. } => Tier::Anonymous,
            Self::Account { tier, .. } => *tier,
        }
    }

    /// The key its request counters are kept under (an address or an account, never a token).
    pub fn rate_key(&self) -> String {
        match self {
            Self::Anonymous { ip } => format!("ip:{ip}"),
            Self::Account { email, .. } => format!("account:{}", email.as_str()),
        }
    }

    /// The account's address, if there is one.
    pub fn email(&self) -> Option<&Email> {
        match self {
            Self::Anonymous { .. } => None,
            Self::Account { email, .. } => Some(email),
        }
    }
}
