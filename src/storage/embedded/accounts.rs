//! Accounts and API tokens in the embedded store: the `accounts` table by address, the `tokens`
//! table by a token's keyed hash; written through the writer thread like every record.

use async_trait::async_trait;
use redb::ReadableTable;

use super::{ACCOUNTS, EmbeddedStore, RedbTables, TOKENS, fail};
use crate::domain::{Account, Email, TokenGrant};
use crate::storage::codec::{decode, decode_grant, encode, encode_grant};
use crate::storage::writer::{Write, WriteTables};
use crate::storage::{AccountStore, StoreError};

impl WriteTables for RedbTables<'_> {
    fn put_account(&mut self, account: &Account) -> Result<(), StoreError> {
        self.accounts
            .insert(account.email.as_str(), encode(account)?.as_slice())
            .map_err(fail)?;
        Ok(())
    }
    fn put_token(&mut self, token_hash: &[u8; 32], grant: &TokenGrant) -> Result<(), StoreError> {
        self.tokens
            .insert(token_hash.as_slice(), encode_grant(grant).as_str())
            .map_err(fail)?;
        Ok(())
    }
    fn delete_token(&mut self, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        self.tokens.remove(token_hash.as_slice()).map_err(fail)?;
        Ok(())
    }
}

#[async_trait]
impl AccountStore for EmbeddedStore {
    async fn put_account(&self, account: Account) -> Result<(), StoreError> {
        self.writer.store(Write::PutAccount(account)).await
    }

    async fn account(&self, email: &Email) -> Result<Option<Account>, StoreError> {
        let email = email.clone();
        self.read(move |txn| {
            let table = txn.open_table(ACCOUNTS).map_err(fail)?;
            match table.get(email.as_str()).map_err(fail)? {
                Some(bytes) => decode(bytes.value()).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.read_blocking(|txn| {
            let table = txn.open_table(ACCOUNTS).map_err(fail)?;
            let mut accounts = Vec::new();
            for entry in table.iter().map_err(fail)? {
                let (_, bytes) = entry.map_err(fail)?;
                accounts.push(decode(bytes.value())?);
            }
            Ok(accounts)
        })
        .await
    }

    async fn put_token(&self, token_hash: [u8; 32], grant: TokenGrant) -> Result<(), StoreError> {
        self.writer
            .store(Write::PutToken { token_hash, grant })
            .await
    }

    async fn token_grant(&self, token_hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError> {
        self.read(move |txn| {
            let table = txn.open_table(TOKENS).map_err(fail)?;
            match table.get(token_hash.as_slice()).map_err(fail)? {
                Some(stored) => decode_grant(stored.value()).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn delete_token(&self, token_hash: [u8; 32]) -> Result<(), StoreError> {
        self.writer.store(Write::DeleteToken { token_hash }).await
    }

    async fn token_grants(&self) -> Result<Vec<TokenGrant>, StoreError> {
        self.read_blocking(move |txn| {
            let table = txn.open_table(TOKENS).map_err(fail)?;
            let mut grants = Vec::new();
            for entry in table.iter().map_err(fail)? {
                let (_, stored) = entry.map_err(fail)?;
                grants.push(decode_grant(stored.value())?);
            }
            Ok(grants)
        })
        .await
    }
}
