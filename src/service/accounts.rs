//! Accounts and their API tokens: creation and revocation (from the command line), and the
//! check of a request's credentials. A token is shown once and stored only as a keyed hash;
//! checking costs the same whether the account is unknown or the token is wrong.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::{Caller, ServiceError};
use crate::clock;
use crate::crypto::{self, Keyring};
use crate::domain::{Account, ApiToken, Email, Scope, Tier, TokenGrant};
use crate::storage::AccountStore;

/// Credentials as a request carries them (no `Debug`: they are secrets).
pub enum Credentials {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic` with a user name and a password (the token).
    Basic {
        /// The account's address.
        username: String,
        /// The token.
        password: String,
    },
}

/// Account operations over the store.
#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn AccountStore>,
    keyring: Arc<Keyring>,
}

impl Accounts {
    /// Accounts in `store`, tokens hashed with `keyring`.
    pub fn new(store: Arc<dyn AccountStore>, keyring: Arc<Keyring>) -> Self {
        Self { store, keyring }
    }

    /// Creates an account and its first token.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] for a bad address, [`ServiceError::AccountExists`] if it exists.
    pub async fn create(
        &self,
        email: &str,
        tier: Tier,
    ) -> Result<(Account, ApiToken), ServiceError> {
        let email = Email::parse(email)?;
        if self.store.account(&email).await?.is_some() {
            return Err(ServiceError::AccountExists);
        }
        let account = Account {
            email: email.clone(),
            tier,
            created_at: clock::now(),
            revoked_at: None,
        };
        self.store.put_account(account.clone()).await?;
        let token = self.new_token(&email, Scope::Full).await?;
        Ok((account, token))
    }

    /// A new token of `scope` for an existing, active account.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for an unknown or revoked account.
    pub async fn create_token(&self, email: &str, scope: Scope) -> Result<ApiToken, ServiceError> {
        let email = Email::parse(email)?;
        match self.store.account(&email).await? {
            Some(account) if account.revoked_at.is_none() => self.new_token(&email, scope).await,
            _ => Err(ServiceError::NotFound),
        }
    }

    async fn new_token(&self, email: &Email, scope: Scope) -> Result<ApiToken, ServiceError> {
        let token = crypto::new_api_token()?;
        let (key_id, hash) = self.keyring.token_hash(&token);
        let grant = TokenGrant {
            owner: email.clone(),
            scope,
            key_id,
        };
        self.store.put_token(hash, grant).await?;
        Ok(token)
    }

    /// Moves a token's grant from an older master key's hash to the sealing key's, on its first
    /// use after a rotation, so the older key stops being needed for it: stored under the new hash
    /// first, so a failure between the two steps leaves it usable.
    async fn move_token(
        &self,
        old_hash: [u8; 32],
        new_hash: [u8; 32],
        grant: TokenGrant,
    ) -> Result<(), ServiceError> {
        self.store.put_token(new_hash, grant).await?;
        self.store.delete_token(old_hash).await?;
        Ok(())
    }

    /// Revokes an account: its tokens are refused from now on.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for an unknown account.
    pub async fn revoke(&self, email: &str) -> Result<Account, ServiceError> {
        let email = Email::parse(email)?;
        let mut account = self
            .store
            .account(&email)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if account.revoked_at.is_none() {
            account.revoked_at = Some(clock::now());
            self.store.put_account(account.clone()).await?;
        }
        Ok(account)
    }

    /// Every account.
    ///
    /// # Errors
    /// The store's error.
    pub async fn list(&self) -> Result<Vec<Account>, ServiceError> {
        Ok(self.store.accounts().await?)
    }

    /// The account behind `credentials`.
    ///
    /// # Errors
    /// [`ServiceError::Unauthorized`] for anything but an active account's token (and, with
    /// Basic, that account's address as the user name).
    pub async fn authenticate(&self, credentials: Credentials) -> Result<Caller, ServiceError> {
        let (claimed, raw_token) = match credentials {
            Credentials::Bearer(token) => (None, token),
            Credentials::Basic { username, password } => (Some(username), password),
        };
        // A malformed token is hashed and looked up like any other, so its refusal takes as long.
        let token = ApiToken::parse(&raw_token).ok();
        let hashes = self.keyring.token_hashes(
            &token
                .clone()
                .unwrap_or_else(|| ApiToken::from_random_bytes([0; 32])),
        );
        // A token made before a master-key rotation is stored under an older key's hash.
        let sealing = hashes.first().copied();
        let mut grant = None;
        let mut found_under = None;
        for (key_id, hash) in hashes {
            grant = self.store.token_grant(hash).await?;
            if grant.is_some() {
                found_under = Some((key_id, hash));
                break;
            }
        }
        let owner_bytes = grant
            .as_ref()
            .map_or(&[][..], |g| g.owner.as_str().as_bytes());
        let claimed_ok = match &claimed {
            Some(name) => {
                let normalized = name.trim().to_ascii_lowercase();
                bool::from(normalized.as_bytes().ct_eq(owner_bytes))
            }
            None => true,
        };
        let (Some(token), Some(grant), true) = (token, grant, claimed_ok) else {
            return Err(ServiceError::Unauthorized);
        };
        let account = match self.store.account(&grant.owner).await? {
            Some(account) if account.revoked_at.is_none() => account,
            _ => return Err(ServiceError::Unauthorized),
        };
        if let (Some(old), Some((key_id, new_hash))) = (found_under, sealing)
            && old != (key_id, new_hash)
        {
            let moved = TokenGrant {
                key_id,
                ..grant.clone()
            };
            self.move_token(old.1, new_hash, moved).await?;
        }
        Ok(Caller::Account {
            email: grant.owner,
            tier: account.tier,
            token,
            scope: grant.scope,
        })
    }
}
