//! Accounts, their API tokens and the tiers that set their limits.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{DomainError, Timestamp, base36_fixed};

/// Prefix of every API token.
pub const TOKEN_PREFIX: &str = "ks_live_";
/// Random characters after the prefix (32 base-36 characters: over 160 bits).
const TOKEN_RANDOM_LEN: usize = 32;

/// An account's e-mail address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// Checks and normalises an address.
    ///
    /// # Errors
    /// [`DomainError::InvalidEmail`] when it does not look like `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let email = raw.trim().to_ascii_lowercase();
        let valid = email.len() <= 254
            && !email.contains(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if valid {
            Ok(Self(email))
        } else {
            Err(DomainError::InvalidEmail)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who a caller is, for limits: the three columns of the tier table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// No credentials.
    Anonymous,
    /// An account used by a person.
    Authenticated,
    /// An account used by a program.
    Api,
}

impl Tier {
    /// The tier's name in configuration, metrics and the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Authenticated => "authenticated",
            Self::Api => "api",
        }
    }

    /// Reads an account tier (`authenticated` or `api`).
    ///
    /// # Errors
    /// A message naming the accepted values.
    pub fn parse_account_tier(raw: &str) -> Result<Self, String> {
        match raw {
            "authenticated" => Ok(Self::Authenticated),
            "api" => Ok(Self::Api),
            other => Err(format!(
                "unknown tier '{other}' (known: authenticated, api)"
            )),
        }
    }
}

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Its address, also its name.
    pub email: Email,
    /// Its tier.
    pub tier: Tier,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked; a revoked account's tokens are refused.
    pub revoked_at: Option<Timestamp>,
}

/// What an API key may do. A leaked `Send` key can create secrets and check or burn the ones
/// it is given the keys of, but cannot list the account's secrets or read their receipts, so it
/// cannot reach secrets it was not handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Create secrets; status (without the secret key) and burn by their keys.
    Send,
    /// Everything the account may do, listing recent secrets and reading receipts included.
    Full,
}

impl Scope {
    /// The scope's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Full => "full",
        }
    }

    /// Reads a scope name (`send` or `full`).
    ///
    /// # Errors
    /// A message naming the accepted values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "send" => Ok(Self::Send),
            "full" => Ok(Self::Full),
            other => Err(format!("unknown scope '{other}' (known: send, full)")),
        }
    }

    /// Whether a key of this scope may list the account's secrets and read their receipts.
    pub fn reads_receipts(self) -> bool {
        self == Self::Full
    }
}

/// What an API token grants, as stored under its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The account the token belongs to.
    pub owner: Email,
    /// What the token may do.
    pub scope: Scope,
    /// The id of the master key its hash was made under ([`crate::domain::UNKNOWN_KEY_ID`] for a
    /// token stored before grants kept it).
    pub key_id: u32,
}

/// An API token (`ks_live_…`): shown once when created, stored only as a keyed hash.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(Zeroizing<String>);

impl ApiToken {
    /// The token for 32 random bytes (drawn from the OS RNG by the caller).
    ///
    /// The bytes are read as two 128-bit numbers written in base 36 (25 digits, then the lowest
    /// 7 of the second: about 165 bits), so every character is as likely as any other, which a
    /// byte taken modulo 36 is not.
    pub fn from_random_bytes(bytes: [u8; 32]) -> Self {
        let (high, low) = bytes.split_at(16);
        let number = |half: &[u8]| {
            let mut word = [0u8; 16];
            word.copy_from_slice(half);
            u128::from_be_bytes(word)
        };
        const FIRST: usize = 25;
        let random = Zeroizing::new(format!(
            "{}{}",
            base36_fixed(number(high), FIRST),
            base36_fixed(number(low), TOKEN_RANDOM_LEN - FIRST)
        ));
        Self(Zeroizing::new(format!("{TOKEN_PREFIX}{}", random.as_str())))
    }

    /// Parses a token sent by a client.
    ///
    /// # Errors
    /// [`DomainError::InvalidToken`] when it does not have the token's shape.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let random = raw
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(DomainError::InvalidToken)?;
        if random.is_empty()
            || random.len() > 128
            || !random.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(DomainError::InvalidToken);
        }
        Ok(Self(Zeroizing::new(raw.to_owned())))
    }

    /// The token, to show once or to hash.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").map(|e| e.as_str().to_owned()),
            Ok("alice@example.com".into())
        );
        for bad in ["alice", "a@b", "@b.c", "a b@c.d", "a@b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_have_their_shape() {
        for bytes in [[0; 32], [0xff; 32]] {
            let token = ApiToken::from_random_bytes(bytes);
            assert_eq!(ApiToken::parse(token.expose()).as_ref(), Ok(&token));
        }
        // Different bytes give different tokens, in either half.
        let mut other = [7; 32];
        other[31] = 8;
        assert_ne!(
            ApiToken::from_random_bytes([7; 32]),
            ApiToken::from_random_bytes(other)
        );
        let token = ApiToken::from_random_bytes([7; 32]);
        assert!(token.expose().starts_with("ks_live_"));
        assert_eq!(token.expose().len(), TOKEN_PREFIX.len() + 32);
        assert_eq!(ApiToken::parse(token.expose()).as_ref(), Ok(&token));
        for bad in ["", "ks_live_", "ks_test_abc", "ks_live_ab-c", "bearer"] {
            assert!(ApiToken::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{token:?}").contains("ks_live"));
    }
}
