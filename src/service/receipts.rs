//! Receipts: read by their key (marking them read), a burn by the receipt key with the
//! passphrase rule of the Onetime Secret dialect, and an account's list of its recent receipts.

use super::secrets::SecretService;
use super::{Caller, ServiceError};
use crate::actors::{Proof, SecretMsg};
use crate::clock;
use crate::domain::{Passphrase, ReceiptKey, SecretId, SecretKey, SecretMeta, Timestamp};

/// How far back an account's receipt list reaches: 30 days.
const RECENT_WINDOW_SECS: u64 = 30 * 86_400;
/// Most receipts a list returns.
const RECENT_LIMIT: usize = 1000;

/// A receipt as its holder reads it.
#[derive(Debug)]
pub struct Receipt {
    /// The record as it was before this read.
    pub meta: SecretMeta,
    /// The secret key, read back from the receipt's seal.
    pub secret_key: SecretKey,
    /// The secret should be readable but its content is gone.
    pub orphaned: bool,
}

impl SecretService {
    async fn receipt_target(&self, key: &ReceiptKey) -> Result<SecretId, ServiceError> {
        self.find_receipt(key).await?.ok_or(ServiceError::NotFound)
    }

    /// Reads a receipt by its key and marks it read. Never counts a view.
    ///
    /// # Errors
    /// [`ServiceError::SendOnlyKey`] for a send-only API key (before any lookup);
    /// [`ServiceError::NotFound`] when no receipt answers to the key.
    pub async fn read_receipt(
        &self,
        key: &ReceiptKey,
        caller: &Caller,
    ) -> Result<Receipt, ServiceError> {
        if !caller.reads_receipts() {
            return Err(ServiceError::SendOnlyKey);
        }
        let id = self.receipt_target(key).await?;
        let read = self.actors.ask(id, SecretMsg::ReadReceipt).await?;
        let secret_key = self
            .keyring
            .open_secret_key(key, &read.meta.sealed_secret_key)?;
        Ok(Receipt {
            meta: read.meta,
            secret_key,
            orphaned: read.content_missing,
        })
    }

    /// Burns a secret by its receipt key; a passphrase-protected secret burns only with its
    /// passphrase (the Onetime Secret rule). Returns the record after the burn and the secret key.
    /// As with [`Self::burn`], the receipt key is the capability, whatever the credentials.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], [`ServiceError::Gone`], or [`ServiceError::WrongPassphrase`].
    pub async fn burn_with_passphrase(
        &self,
        key: &ReceiptKey,
        passphrase: Option<Passphrase>,
    ) -> Result<(SecretMeta, SecretKey), ServiceError> {
        let id = self.receipt_target(key).await?;
        let meta = self.actors.ask(id, SecretMsg::Status).await?;
        let secret_key = self.keyring.open_secret_key(key, &meta.sealed_secret_key)?;
        let meta = self
            .actors
            .ask(id, |reply| SecretMsg::Burn {
                proof: Some(Proof {
                    key: secret_key.clone(),
                    passphrase: passphrase.clone(),
                }),
                reply,
            })
            .await?;
        Ok((meta, secret_key))
    }

    /// The receipts `caller`'s account created in the last 30 days with the token it presents,
    /// newest first, each with its receipt key. Never counts a view or marks a receipt read.
    ///
    /// # Errors
    /// [`ServiceError::AuthenticationRequired`] for an anonymous caller,
    /// [`ServiceError::SendOnlyKey`] for a send-only API key.
    pub async fn recent(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(ReceiptKey, SecretMeta)>, ServiceError> {
        let Caller::Account {
            email,
            token,
            scope,
            ..
        } = caller
        else {
            return Err(ServiceError::AuthenticationRequired);
        };
        if !scope.reads_receipts() {
            return Err(ServiceError::SendOnlyKey);
        }
        let since = Timestamp::from_millis(
            clock::now()
                .as_millis()
                .saturating_sub(RECENT_WINDOW_SECS * 1000),
        );
        let mut receipts = Vec::new();
        for id in self.store.owned_since(email, since, RECENT_LIMIT).await? {
            let Some(meta) = self.store.load(id).await? else {
                continue;
            };
            // Receipts made with another token of the account cannot be opened with this one.
            let Some(receipt_key) = meta.owner.as_ref().and_then(|owner| {
                self.keyring
                    .open_for_token(token, &id, &owner.sealed_receipt_key)
                    .ok()
            }) else {
                continue;
            };
            receipts.push((receipt_key, meta));
        }
        Ok(receipts)
    }
}
