//! The secret operations.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::slots::UploadSlots;
use super::{Caller, Limits, ServiceError};
use crate::actors::{Actors, Content, FileStream, Revealed, SecretMsg};
use crate::clock;
use crate::crypto::{self, Keyring};
use crate::domain::{
    AnyKey, FileDetails, Gone, Lifecycle, Ownership, Passphrase, ReceiptKey, SecretId, SecretKey,
    SecretMeta, SecretText, StoredFile, Ttl, ViewLimit,
};
use crate::storage::SecretStore;
use crate::storage::blob::{BlobStore, UploadsInFlight};

/// A validated request to create a text secret.
#[derive(Debug)]
pub struct NewSecret {
    /// The content.
    pub text: SecretText,
    /// How it may be read.
    pub options: SecretOptions,
}

/// How a new secret may be read: the same for text and files.
#[derive(Debug)]
pub struct SecretOptions {
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
    /// The sender's client encrypted the content (`docs/end-to-end.md`); kept and returned as
    /// sent.
    pub end_to_end: bool,
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
    /// A file secret's name and media type.
    pub file: Option<FileDetails>,
}

/// What a reveal hands out.
#[derive(Debug)]
pub enum Revelation {
    /// A text secret.
    Text(SecretText),
    /// A file secret, streamed, with its details.
    File {
        /// Name and media type.
        details: FileDetails,
        /// The note sent with it, if any.
        note: Option<SecretText>,
        /// The bytes.
        stream: FileStream,
    },
}

/// The service: shared by every API dialect.
#[derive(Clone)]
pub struct SecretService {
    pub(super) store: Arc<dyn SecretStore>,
    pub(super) blobs: Arc<dyn BlobStore>,
    pub(super) uploads: UploadsInFlight,
    /// One slot per file upload or large text body served at once.
    pub(super) upload_slots: UploadSlots,
    pub(super) keyring: Arc<Keyring>,
    pub(super) actors: Actors,
    limits: Limits,
}

impl SecretService {
    /// Builds the service over a running actor system.
    pub fn new(
        store: Arc<dyn SecretStore>,
        blobs: Arc<dyn BlobStore>,
        keyring: Arc<Keyring>,
        actors: Actors,
        limits: Limits,
    ) -> Self {
        Self {
            store,
            blobs,
            uploads: UploadsInFlight::default(),
            upload_slots: UploadSlots::new(limits.max_uploads),
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

    /// The blob store, for health checks.
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// The slots that file uploads and large text bodies hold while they arrive.
    pub fn upload_slots(&self) -> &UploadSlots {
        &self.upload_slots
    }

    /// The uploads in progress on this node, for the orphan sweep.
    pub fn uploads(&self) -> &UploadsInFlight {
        &self.uploads
    }

    /// Refuses anonymous callers when anonymous creation is off.
    pub(super) fn check_may_create(&self, caller: &Caller) -> Result<(), ServiceError> {
        if caller.email().is_none() && !self.limits.anonymous_create {
            return Err(ServiceError::AuthenticationRequired);
        }
        Ok(())
    }

    /// Encrypts and stores a new secret for `caller`, durably; the keys exist only in the answer.
    ///
    /// # Errors
    /// [`ServiceError::AuthenticationRequired`] for an anonymous caller when anonymous creation
    /// is off; [`ServiceError::Internal`] when randomness, encryption or the store fails.
    pub async fn create(&self, new: NewSecret, caller: &Caller) -> Result<Created, ServiceError> {
        self.check_may_create(caller)?;
        let secret_key = crypto::new_secret_key()?;
        let NewSecret { text, options } = new;
        self.seal_and_store(
            secret_key,
            Zeroizing::new(text.expose().as_bytes().to_vec()),
            None,
            options,
            caller,
        )
        .await
    }

    /// Seals `content` under the secret's key (and passphrase) and stores the record, durably;
    /// `file` is set for a file secret whose blob is already complete.
    pub(super) async fn seal_and_store(
        &self,
        secret_key: SecretKey,
        content: Zeroizing<Vec<u8>>,
        file: Option<StoredFile>,
        options: SecretOptions,
        caller: &Caller,
    ) -> Result<Created, ServiceError> {
        let receipt_key = crypto::new_receipt_key()?;
        let id = self.keyring.secret_id(&secret_key);
        let keyring = Arc::clone(&self.keyring);
        let key_for_seal = secret_key.clone();
        let SecretOptions {
            ttl,
            views,
            passphrase,
            one_click_retrieval,
            allow_deletion,
            recipients,
            end_to_end,
        } = options;
        let has_passphrase = passphrase.is_some();
        let seal = move || keyring.seal_content(&id, &key_for_seal, passphrase.as_ref(), &content);
        // argon2id takes tens of milliseconds and ~19 MiB: it waits its turn and runs off the
        // async workers. Without a passphrase sealing takes microseconds, less than a hand-off.
        let content = if has_passphrase {
            self.keyring.hashing().run(seal).await?
        } else {
            seal()?
        };
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
            owner: match caller {
                Caller::Account { email, token, .. } => Some(Ownership {
                    email: email.clone(),
                    sealed_receipt_key: self.keyring.seal_for_token(token, &id, &receipt_key)?,
                }),
                Caller::Anonymous { .. } => None,
            },
            passphrase_failures: Vec::new(),
            locked_until: None,
            file,
            end_to_end,
            key_id: self
                .keyring
                .key_id_of(&id, &secret_key)
                .unwrap_or(crate::domain::UNKNOWN_KEY_ID),
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
        if let Some(id) = self.find_receipt(&key.as_receipt()).await? {
            return Ok((KeyKind::Receipt, id));
        }
        Ok((KeyKind::Secret, self.secret_record(&key.as_secret()).await?))
    }

    /// The secret a receipt key leads to, under whichever master key made the receipt.
    pub(super) async fn find_receipt(
        &self,
        key: &ReceiptKey,
    ) -> Result<Option<SecretId>, ServiceError> {
        for receipt_id in self.keyring.receipt_ids(key) {
            if let Some(id) = self.store.resolve_receipt(receipt_id).await? {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The store id of the record `key` opens: the sealing master key's, unless the record was
    /// made under an older key of the set. The last candidate is returned unchecked (the record's
    /// actor then finds it or answers not found), so with one master key nothing is looked up here.
    async fn secret_record(&self, key: &SecretKey) -> Result<SecretId, ServiceError> {
        let ids = self.keyring.secret_ids(key);
        let Some((last, earlier)) = ids.split_last() else {
            return Err(ServiceError::NotFound);
        };
        for id in earlier {
            if self.store.load(*id).await?.is_some() {
                return Ok(*id);
            }
        }
        Ok(*last)
    }

    /// The state of a secret by either key. Never counts a view. By its receipt key, the secret
    /// key too while the secret is live, unless the caller holds a send-only API key.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when no record answers to the key.
    pub async fn status(&self, key: &AnyKey, caller: &Caller) -> Result<Status, ServiceError> {
        let (kind, id) = self.resolve(key).await?;
        let meta = self.actors.ask(id, SecretMsg::Status).await?;
        let opened_key = match kind {
            KeyKind::Receipt => self
                .keyring
                .open_secret_key(&key.as_receipt(), &meta.sealed_secret_key)?,
            KeyKind::Secret => key.as_secret(),
        };
        let file = self.file_details(&opened_key, &meta)?;
        let secret_key = (kind == KeyKind::Receipt
            && caller.reads_receipts()
            && meta.gone_at(clock::now()).is_none())
        .then_some(opened_key);
        Ok(Status {
            kind,
            meta,
            secret_key,
            file,
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
    ) -> Result<(Revelation, SecretMeta), ServiceError> {
        let revealed = self.ask_reveal(key, passphrase, false).await?;
        let revelation = match revealed.content {
            Content::Text(plaintext) => Revelation::Text(decrypted_text(plaintext)?),
            Content::File(mut stream) => {
                let details = self
                    .open_details(key, &stream.sealed_details)?
                    .ok_or_else(|| {
                        ServiceError::Internal("a file was revealed without its details".into())
                    })?;
                let note = std::mem::take(&mut stream.note);
                let note = if note.is_empty() {
                    None
                } else {
                    Some(decrypted_text(note)?)
                };
                Revelation::File {
                    details,
                    note,
                    stream,
                }
            }
        };
        Ok((revelation, revealed.meta))
    }

    /// Reveals a text secret; a file secret is refused with [`ServiceError::NotText`] and
    /// costs no view (for the dialect that knows only text).
    ///
    /// # Errors
    /// As [`Self::reveal`], and [`ServiceError::NotText`].
    pub async fn reveal_text(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
    ) -> Result<(SecretText, SecretMeta), ServiceError> {
        let revealed = self.ask_reveal(key, passphrase, true).await?;
        match revealed.content {
            Content::Text(plaintext) => Ok((decrypted_text(plaintext)?, revealed.meta)),
            Content::File(_) => Err(ServiceError::NotText),
        }
    }

    async fn ask_reveal(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
        text_only: bool,
    ) -> Result<Revealed, ServiceError> {
        let id = self.secret_record(key).await?;
        Ok(self
            .actors
            .ask(id, |reply| SecretMsg::Reveal {
                key: key.clone(),
                passphrase: passphrase.clone(),
                text_only,
                reply,
            })
            .await?)
    }

    /// The name and media type of a file secret, read with its secret key; `None` for text and
    /// for a file whose content is gone (its details went with it).
    ///
    /// # Errors
    /// [`ServiceError::Internal`] when the sealed details do not open.
    pub fn file_details(
        &self,
        key: &SecretKey,
        meta: &SecretMeta,
    ) -> Result<Option<FileDetails>, ServiceError> {
        match &meta.file {
            Some(file) => self.open_details(key, &file.sealed_details),
            None => Ok(None),
        }
    }

    fn open_details(
        &self,
        key: &SecretKey,
        sealed: &[u8],
    ) -> Result<Option<FileDetails>, ServiceError> {
        if sealed.is_empty() {
            return Ok(None);
        }
        // The details are bound to the record's id, which depends on the master key that made
        // it: the one id of the candidates they open under is it.
        let bytes = self
            .keyring
            .secret_ids(key)
            .iter()
            .find_map(|id| self.keyring.open_details(id, key, sealed).ok())
            .ok_or(crypto::CryptoError::Authentication)?;
        postcard::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| ServiceError::Internal(format!("file details: {e}")))
    }

    /// Burns a secret by its receipt key, or by its secret key when the sender allowed the
    /// recipient to delete it after viewing it ("allow recipient to delete after viewing").
    /// The key is the capability: whatever credentials come with it (another account's, a
    /// send-only key's, none) neither add nor take away the right to burn.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for an unknown key or a secret key without that permission;
    /// [`ServiceError::NotViewedYet`] for a secret key of a secret not viewed yet (so a link's
    /// holder cannot destroy it unread, nor without its passphrase);
    /// [`ServiceError::Gone`] when it was already received, burned or expired.
    pub async fn burn(&self, key: &AnyKey) -> Result<SecretMeta, ServiceError> {
        let (kind, id) = self.resolve(key).await?;
        let meta = self.actors.ask(id, SecretMsg::Status).await?;
        if kind == KeyKind::Secret {
            if !meta.allow_deletion {
                return Err(ServiceError::NotFound);
            }
            if meta.view_count == 0 && !meta.is_final() {
                return Err(ServiceError::NotViewedYet);
            }
        }
        self.actors
            .ask(id, |reply| SecretMsg::Burn { proof: None, reply })
            .await
            .map_err(Into::into)
    }

    /// Why a record can no longer be read at this moment, if it cannot.
    pub fn gone_now(meta: &SecretMeta) -> Option<Gone> {
        meta.gone_at(clock::now())
    }
}

/// Plaintext that must be text.
fn decrypted_text(plaintext: Zeroizing<Vec<u8>>) -> Result<SecretText, ServiceError> {
    SecretText::from_decrypted(plaintext)
        .ok_or_else(|| ServiceError::Internal("stored text is not UTF-8".into()))
}
