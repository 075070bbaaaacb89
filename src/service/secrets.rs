//! The secret operations.

use std::sync::Arc;

use super::ServiceError;
use crate::actors::{Actors, Proof, SecretMsg};
use crate::clock;
use crate::crypto::{self, Keyring};
use crate::domain::{
    AnyKey, Gone, Lifecycle, Passphrase, ReceiptKey, SecretId, SecretKey, SecretMeta, SecretText,
    Ttl, TtlRange, ViewLimit,
};
use crate::storage::SecretStore;

/// Limits that apply to new secrets.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TTLs accepted by the Burn the Secret dialect (refused outside).
    pub ttl: TtlRange,
    /// TTLs of the Onetime Secret dialect (clamped into it).
    pub ots_ttl: TtlRange,
    /// Largest secret text, in bytes.
    pub max_secret_bytes: usize,
}

/// A validated request to create a secret.
#[derive(Debug)]
pub struct NewSecret {
    /// The content.
    pub text: SecretText,
    /// How long it may be read.
    pub ttl: Ttl,
    /// How many times it may be read.
    pub views: ViewLimit,
    /// Needed to read it, if set.
    pub passphrase: Option<Passphrase>,
    /// Page option: reveal on click.
    pub one_click_retrieval: bool,
    /// The recipient may delete it.
    pub allow_deletion: bool,
    /// Who it is for, obscured (Onetime Secret's `recipient`); nothing is sent to them.
    pub recipients: Vec<String>,
}

/// A created secret: the two keys, shown once, and its record.
#[derive(Debug)]
pub struct Created {
    /// For the recipient.
    pub secret_key: SecretKey,
    /// For the sender.
    pub receipt_key: ReceiptKey,
    /// The stored record.
    pub meta: SecretMeta,
}

/// Which kind of key a status or burn request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The sender's receipt (metadata) key.
    Receipt,
    /// The recipient's secret key.
    Secret,
}

/// A secret's state as its key holder may see it.
#[derive(Debug)]
pub struct Status {
    /// Which key was used.
    pub kind: KeyKind,
    /// The record.
    pub meta: SecretMeta,
    /// The secret key, shown to the receipt holder while the secret is readable.
    pub secret_key: Option<SecretKey>,
}

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

/// The service: shared by every API dialect.
#[derive(Clone)]
pub struct SecretService {
    store: Arc<dyn SecretStore>,
    keyring: Arc<Keyring>,
    actors: Actors,
    limits: Limits,
}

impl SecretService {
    /// Builds the service over a running actor system.
    pub fn new(
        store: Arc<dyn SecretStore>,
        keyring: Arc<Keyring>,
        actors: Actors,
        limits: Limits,
    ) -> Self {
        Self {
            store,
            keyring,
            actors,
            limits,
        }
    }

    /// The limits new secrets are checked against.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The store, for health checks.
    pub fn store(&self) -> &Arc<dyn SecretStore> {
        &self.store
    }

    /// Encrypts and stores a new secret durably; the keys exist only in the answer.
    ///
    /// # Errors
    /// [`ServiceError::Internal`] when randomness, encryption or the store fails.
    pub async fn create(&self, new: NewSecret) -> Result<Created, ServiceError> {
        let secret_key = crypto::new_secret_key()?;
        let receipt_key = crypto::new_receipt_key()?;
        let id = self.keyring.secret_id(&secret_key);
        let keyring = Arc::clone(&self.keyring);
        let key_for_seal = secret_key.clone();
        let NewSecret {
            text,
            ttl,
            views,
            passphrase,
            one_click_retrieval,
            allow_deletion,
            recipients,
        } = new;
        let has_passphrase = passphrase.is_some();
        // argon2id takes tens of milliseconds: keep it off the async workers.
        let content = tokio::task::spawn_blocking(move || {
            keyring.seal_content(
                &id,
                &key_for_seal,
                passphrase.as_ref(),
                text.expose().as_bytes(),
            )
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
        let now = clock::now();
        let meta = SecretMeta {
            receipt_id: self.keyring.receipt_id(&receipt_key),
            created_at: now,
            updated_at: now,
            ttl,
            expires_at: now.plus_secs(ttl.as_secs()),
            purge_at: now.plus_secs(ttl.as_secs().saturating_mul(2)),
            view_limit: views,
            view_count: 0,
            lifecycle: Lifecycle::Live,
            received_at: None,
            has_passphrase,
            one_click_retrieval,
            allow_deletion,
            sealed_secret_key: self.keyring.seal_secret_key(&receipt_key, &secret_key)?,
            receipt_viewed: false,
            recipients,
        };
        self.store.insert(id, meta.clone(), content).await?;
        Ok(Created {
            secret_key,
            receipt_key,
            meta,
        })
    }

    /// Finds the record a key opens, receipt keys first.
    async fn resolve(&self, key: &AnyKey) -> Result<(KeyKind, SecretId), ServiceError> {
        let receipt_key = key.as_receipt();
        if let Some(id) = self
            .store
            .resolve_receipt(self.keyring.receipt_id(&receipt_key))
            .await?
        {
            return Ok((KeyKind::Receipt, id));
        }
        Ok((KeyKind::Secret, self.keyring.secret_id(&key.as_secret())))
    }

    /// The state of a secret by either key. Never counts a view.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when no record answers to the key.
    pub async fn status(&self, key: &AnyKey) -> Result<Status, ServiceError> {
        let (kind, id) = self.resolve(key).await?;
        let meta = self.actors.ask(id, SecretMsg::Status).await?;
        let secret_key = match kind {
            KeyKind::Receipt if meta.gone_at(clock::now()).is_none() => Some(
                self.keyring
                    .open_secret_key(&key.as_receipt(), &meta.sealed_secret_key)?,
            ),
            _ => None,
        };
        Ok(Status {
            kind,
            meta,
            secret_key,
        })
    }

    /// Reveals a secret: checks the passphrase, counts one view durably, then returns the
    /// plaintext.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], [`ServiceError::Gone`] or [`ServiceError::WrongPassphrase`]
    /// (which costs no view).
    pub async fn reveal(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
    ) -> Result<(SecretText, SecretMeta), ServiceError> {
        let id = self.keyring.secret_id(key);
        let revealed = self
            .actors
            .ask(id, |reply| SecretMsg::Reveal {
                key: key.clone(),
                passphrase: passphrase.clone(),
                reply,
            })
            .await?;
        let text = SecretText::from_decrypted(revealed.plaintext)
            .ok_or_else(|| ServiceError::Internal("stored text is not UTF-8".into()))?;
        Ok((text, revealed.meta))
    }

    /// Burns a secret by its receipt key, or by its secret key when the sender allowed the
    /// recipient to delete it.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for an unknown key or a secret key without that permission;
    /// [`ServiceError::Gone`] when it was already received, burned or expired.
    pub async fn burn(&self, key: &AnyKey) -> Result<SecretMeta, ServiceError> {
        let (kind, id) = self.resolve(key).await?;
        if kind == KeyKind::Secret {
            let meta = self.actors.ask(id, SecretMsg::Status).await?;
            if !meta.allow_deletion {
                return Err(ServiceError::NotFound);
            }
        }
        self.actors
            .ask(id, |reply| SecretMsg::Burn { proof: None, reply })
            .await
            .map_err(Into::into)
    }

    async fn receipt_target(&self, key: &ReceiptKey) -> Result<SecretId, ServiceError> {
        self.store
            .resolve_receipt(self.keyring.receipt_id(key))
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Reads a receipt by its key and marks it read. Never counts a view.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when no receipt answers to the key.
    pub async fn read_receipt(&self, key: &ReceiptKey) -> Result<Receipt, ServiceError> {
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

    /// Why a record can no longer be read at this moment, if it cannot.
    pub fn gone_now(meta: &SecretMeta) -> Option<Gone> {
        meta.gone_at(clock::now())
    }
}
