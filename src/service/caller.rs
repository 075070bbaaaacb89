//! Who is calling: an anonymous client (by address) or an account holding an API token.

use std::net::IpAddr;

use crate::domain::{ApiToken, Email, Scope, Tier};

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
        /// What that token may do.
        scope: Scope,
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
    /// An IPv6 client counts by its /64 network, since one host can pick any address in it.
    pub fn rate_key(&self) -> String {
        match self {
            Self::Anonymous { ip: IpAddr::V4(v4) } => format!("ip:{v4}"),
            Self::Anonymous { ip: IpAddr::V6(v6) } => {
                let network = u128::from(*v6) & !((1u128 << 64) - 1);
                format!("ip:{}/64", std::net::Ipv6Addr::from(network))
            }
            Self::Account { email, .. } => format!("account:{}", email.as_str()),
        }
    }

    /// Whether the caller may list its account's secrets and read receipts: anyone but a
    /// send-only key (an anonymous caller reads a receipt by its key alone).
    pub fn reads_receipts(&self) -> bool {
        match self {
            Self::Anonymous { .. } => true,
            Self::Account { scope, .. } => scope.reads_receipts(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> String {
        Caller::Anonymous {
            ip: ip.parse().expect("address"),
        }
        .rate_key()
    }

    #[test]
    fn ipv6_clients_count_by_their_network() {
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("203.0.113.7"), "ip:203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
    }
}
