//! Accounts and API tokens on Redis: an account per key plus the set of addresses, a token's
//! grant under its keyed hash (every token key in one hash slot, so one script lists them).

use async_trait::async_trait;

use super::keys::{ACCOUNT_LIST, TOKEN_PATTERN, account_key, token_key};
use super::{RedisStore, fail, scripts};
use crate::domain::{Account, Email, TokenGrant};
use crate::storage::codec::{decode, decode_grant, encode, encode_grant};
use crate::storage::{AccountStore, StoreError};

#[async_trait]
impl AccountStore for RedisStore {
    async fn put_account(&self, account: Account) -> Result<(), StoreError> {
        let encoded = encode(&account)?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(account_key(&account.email))
            .arg(encoded.as_slice())
            .ignore()
            .cmd("SADD")
            .arg(ACCOUNT_LIST)
            .arg(account.email.as_str())
            .ignore();
        self.connection.pipeline::<()>(&pipe).await.map_err(fail)
    }

    async fn account(&self, email: &Email) -> Result<Option<Account>, StoreError> {
        let stored: Option<Vec<u8>> = self
            .connection
            .query(redis::cmd("GET").arg(account_key(email)))
            .await
            .map_err(fail)?;
        stored.map(|bytes| decode(&bytes)).transpose()
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let mut emails: Vec<String> = self
            .connection
            .query(redis::cmd("SMEMBERS").arg(ACCOUNT_LIST))
            .await
            .map_err(fail)?;
        emails.sort();
        let mut accounts = Vec::with_capacity(emails.len());
        for email in emails {
            let email =
                Email::parse(&email).map_err(|_| StoreError::Corrupt("account list".into()))?;
            if let Some(account) = self.account(&email).await? {
                accounts.push(account);
            }
        }
        Ok(accounts)
    }

    async fn put_token(&self, token_hash: [u8; 32], grant: TokenGrant) -> Result<(), StoreError> {
        self.connection
            .query::<()>(
                redis::cmd("SET")
                    .arg(token_key(&token_hash))
                    .arg(encode_grant(&grant)),
            )
            .await
            .map_err(fail)
    }

    async fn token_grant(&self, token_hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError> {
        let stored: Option<String> = self
            .connection
            .query(redis::cmd("GET").arg(token_key(&token_hash)))
            .await
            .map_err(fail)?;
        stored.map(|text| decode_grant(&text)).transpose()
    }

    async fn delete_token(&self, token_hash: [u8; 32]) -> Result<(), StoreError> {
        self.connection
            .query::<()>(redis::cmd("DEL").arg(token_key(&token_hash)))
            .await
            .map_err(fail)
    }

    async fn token_grants(&self) -> Result<Vec<TokenGrant>, StoreError> {
        let script = scripts::token_grants();
        let mut invocation = script.prepare_invoke();
        invocation.key(token_key(&[0; 32])).arg(TOKEN_PATTERN);
        let grants: Vec<String> = self.connection.invoke(&invocation).await.map_err(fail)?;
        grants.iter().map(|grant| decode_grant(grant)).collect()
    }
}
