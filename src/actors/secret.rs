//! One live secret's actor: its view counter, its expiry timer, its passivation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use super::file_stream::{self, FileStream};
use super::{ActorError, ActorSettings};
use crate::clock;
use crate::crypto::stream::split_file_content;
use crate::crypto::{CryptoError, Keyring};
use crate::domain::{
    Gone, Lifecycle, LockoutPolicy, Operation, Passphrase, SecretId, SecretKey, SecretMeta,
};
use crate::storage::blob::BlobStore;
use crate::storage::{CachedStore, Outcome, SecretStore};

/// What a reveal hands out.
pub enum Content {
    /// A text secret's plaintext; wiped when dropped.
    Text(Zeroizing<Vec<u8>>),
    /// A file secret's plaintext, streamed.
    File(FileStream),
}

/// What a successful reveal hands back.
pub struct Revealed {
    /// The decrypted content.
    pub content: Content,
    /// The record after this view was counted.
    pub meta: SecretMeta,
}

/// Messages a secret's actor serves.
pub enum SecretMsg {
    /// The current record, without counting a view.
    Status(RpcReplyPort<Result<SecretMeta, ActorError>>),
    /// Decrypt, count one view durably, then hand out the plaintext.
    Reveal {
        /// The link key (needed to derive the content key).
        key: SecretKey,
        /// The passphrase the caller gave, if any.
        passphrase: Option<Passphrase>,
        /// Refuse a file secret (with [`ActorError::NotText`], before anything is counted).
        text_only: bool,
        /// Where the answer goes.
        reply: RpcReplyPort<Result<Revealed, ActorError>>,
    },
    /// The record as the receipt's holder sees it before this read, then mark the receipt read.
    ReadReceipt(RpcReplyPort<Result<ReceiptRead, ActorError>>),
    /// Destroy the content now; with a proof, only if it opens the content (Onetime Secret asks
    /// for the passphrase to burn a protected secret).
    Burn {
        /// The key and passphrase the burner must show, if the dialect asks for them.
        proof: Option<Proof>,
        /// Where the answer goes.
        reply: RpcReplyPort<Result<SecretMeta, ActorError>>,
    },
    /// The sweeper found this secret due: expire or purge it.
    Due,
    /// The actor's timer fired: check expiry and idleness.
    TimerFired {
        /// Which timer: only the latest one set counts, an older one that fires is ignored.
        generation: u64,
    },
}

/// What a burner shows to prove they may burn a passphrase-protected secret.
pub struct Proof {
    /// The secret key (the receipt's holder reads it from the receipt).
    pub key: SecretKey,
    /// The passphrase given with the burn.
    pub passphrase: Option<Passphrase>,
}

/// A receipt read.
pub struct ReceiptRead {
    /// The record as it was before this read marked the receipt as read.
    pub meta: SecretMeta,
    /// The secret should be readable but its content is missing (the receipt is orphaned).
    pub content_missing: bool,
}

/// Everything an actor starts from.
pub struct SecretArgs {
    /// Which secret.
    pub id: SecretId,
    /// Its record as loaded from the store.
    pub meta: SecretMeta,
    /// The store it writes through.
    pub store: Arc<CachedStore>,
    /// Keys to open the content.
    pub keyring: Arc<Keyring>,
    /// Where file contents are.
    pub blobs: Arc<dyn BlobStore>,
    /// Passivation delay and passphrase lockout.
    pub settings: ActorSettings,
}

/// State of a resident secret.
pub struct SecretState {
    /// Which secret.
    id: SecretId,
    /// The last record this actor read or wrote: it is the store's single writer on this node.
    meta: SecretMeta,
    /// Store and keys.
    store: Arc<CachedStore>,
    keyring: Arc<Keyring>,
    blobs: Arc<dyn BlobStore>,
    /// Passivation delay.
    idle_timeout: Duration,
    /// When wrong passphrases lock the secret.
    lockout: LockoutPolicy,
    /// When the last request arrived.
    last_used: Instant,
    /// The pending timer, aborted when the actor stops so it does not keep the actor alive.
    timer: Option<JoinHandle<Result<(), ractor::MessagingErr<SecretMsg>>>>,
    /// Generation of the pending timer; ticks of older timers are ignored.
    generation: u64,
    /// The record was deleted (or found missing): nothing to hand back on passivation.
    gone: bool,
    /// The record was read from the store for the request that started this actor, so that
    /// request need not read it again (on a shared store every other request does).
    fresh: bool,
    /// The sealed content, read with the record for the reveal being served (on a shared store,
    /// where both are read fresh): `Some(None)` when the store had none.
    prefetched: Option<Option<Vec<u8>>>,
}

impl SecretState {
    /// Arms the one timer: at the expiry time or the idle deadline, whichever comes first.
    fn arm(&mut self, myself: &ActorRef<SecretMsg>) {
        if let Some(old) = self.timer.take() {
            old.abort();
        }
        self.generation += 1;
        let generation = self.generation;
        let until_idle = self.idle_timeout.saturating_sub(self.last_used.elapsed());
        let until_expiry = Duration::from_millis(clock::now().millis_until(self.meta.expires_at));
        let delay = if self.meta.lifecycle == Lifecycle::Live {
            until_idle.min(until_expiry)
        } else {
            until_idle
        };
        self.timer = Some(myself.send_after(delay, move || SecretMsg::TimerFired { generation }));
    }

    /// Applies `op` through the store and keeps the local copy in step. `Ok(None)` when the
    /// record is gone. A file secret's blob is deleted when its content ends, except on the last
    /// view: the reveal's stream deletes it once sent.
    async fn apply(&mut self, op: Operation) -> Result<Result<SecretMeta, Gone>, ActorError> {
        let outcome = self.store.apply_resident(self.id, op, clock::now()).await?;
        let ended = match &outcome {
            Outcome::Updated(meta) => meta.is_final() && !self.meta.is_final(),
            Outcome::Purged => true,
            _ => false,
        };
        if ended && self.meta.file.is_some() && op != Operation::TakeView {
            discard_blob(self.blobs.as_ref(), self.id).await;
        }
        match outcome {
            Outcome::Updated(meta) | Outcome::Unchanged(meta) => {
                self.meta = meta.clone();
                Ok(Ok(meta))
            }
            Outcome::Refused(meta, gone) => {
                self.meta = meta;
                Ok(Err(gone))
            }
            Outcome::Missing | Outcome::Purged => {
                self.gone = true;
                Err(ActorError::NotFound)
            }
        }
    }

    /// Expires a live secret whose TTL passed (expiry is checked on every access, not only when
    /// the timer fires). Returns false when the record turned out to be gone.
    async fn catch_up_expiry(&mut self) -> bool {
        let due = self.meta.lifecycle == Lifecycle::Live
            && self.meta.lifecycle_at(clock::now()) == Lifecycle::Expired;
        !due || self.apply(Operation::Sweep).await.is_ok()
    }

    async fn read_receipt(&mut self) -> Result<ReceiptRead, ActorError> {
        self.catch_up_expiry().await;
        let before = self.meta.clone();
        let live = before.gone_at(clock::now()).is_none();
        let content_missing = live && !self.store.has_content(self.id).await?;
        if live && !before.receipt_viewed {
            self.apply(Operation::ViewReceipt)
                .await?
                .map_err(ActorError::Gone)?;
        }
        Ok(ReceiptRead {
            meta: before,
            content_missing,
        })
    }

    async fn burn(&mut self, proof: Option<Proof>) -> Result<SecretMeta, ActorError> {
        if let Some(gone) = self.meta.gone_at(clock::now()) {
            return Err(ActorError::Gone(gone));
        }
        if let Some(Proof { key, passphrase }) = proof
            && self.meta.has_passphrase
        {
            self.refuse_while_locked()?;
            let passphrase = passphrase.ok_or(ActorError::WrongPassphrase { tries_left: None })?;
            let sealed = self
                .store
                .content(self.id)
                .await?
                .ok_or(ActorError::NotFound)?;
            self.unlock(key, Some(passphrase), sealed).await?;
        }
        self.apply(Operation::Burn).await?.map_err(ActorError::Gone)
    }

    async fn reveal(
        &mut self,
        key: SecretKey,
        passphrase: Option<Passphrase>,
        text_only: bool,
        reply: &RpcReplyPort<Result<Revealed, ActorError>>,
    ) -> Result<Revealed, ActorError> {
        if let Some(gone) = self.meta.gone_at(clock::now()) {
            return Err(ActorError::Gone(gone));
        }
        if text_only && self.meta.file.is_some() {
            return Err(ActorError::NotText);
        }
        if self.meta.has_passphrase {
            self.refuse_while_locked()?;
            if passphrase.is_none() {
                return Err(ActorError::WrongPassphrase { tries_left: None });
            }
        }
        let sealed = match self.prefetched.take() {
            Some(prefetched) => prefetched,
            None => self.store.content(self.id).await?,
        };
        let Some(sealed) = sealed else {
            // Another node took the last view or burned it: read what happened.
            self.apply(Operation::Sweep)
                .await?
                .map_err(ActorError::Gone)?;
            return Err(ActorError::Gone(
                self.meta.gone_at(clock::now()).unwrap_or(Gone::Expired),
            ));
        };
        // A passphrase sent for a secret that has none is ignored, as the dialects document.
        let passphrase = passphrase.filter(|_| self.meta.has_passphrase);
        let plaintext = self.unlock(key, passphrase, sealed).await?;
        // A file is checked up to its first chunk before the view is counted.
        let checked = match &self.meta.file {
            None => None,
            Some(file) => {
                let (file_key, note) = split_file_content(&plaintext)?;
                let checked =
                    file_stream::open_checked(self.blobs.as_ref(), self.id, &file_key, file.size)
                        .await?;
                Some((checked, file.clone(), Zeroizing::new(note.to_vec())))
            }
        };
        if reply.is_closed() {
            // The caller gave up: counting a view nobody receives would lose it.
            return Err(ActorError::Unavailable("caller went away".into()));
        }
        let meta = self
            .apply(Operation::TakeView)
            .await?
            .map_err(ActorError::Gone)?;
        let content = match checked {
            None => Content::Text(plaintext),
            Some((checked, file, note)) => {
                let delete_after = meta.is_final().then(|| (Arc::clone(&self.blobs), self.id));
                Content::File(checked.into_stream(file, note, delete_after))
            }
        };
        Ok(Revealed { content, meta })
    }

    /// Refuses passphrase attempts while the secret is locked.
    fn refuse_while_locked(&self) -> Result<(), ActorError> {
        let now = clock::now();
        match self.meta.locked_at(now) {
            Some(until) => Err(ActorError::Locked {
                retry_after_secs: now.millis_until(until).div_ceil(1000),
            }),
            None => Ok(()),
        }
    }

    /// Opens the content; a wrong passphrase is counted durably (and may lock the secret).
    async fn unlock(
        &mut self,
        key: SecretKey,
        passphrase: Option<Passphrase>,
        sealed: Vec<u8>,
    ) -> Result<Zeroizing<Vec<u8>>, ActorError> {
        match self.open(key, passphrase, sealed).await {
            Err(ActorError::WrongPassphrase { .. }) if self.meta.has_passphrase => {
                let meta = self
                    .apply(Operation::FailPassphrase(self.lockout))
                    .await?
                    .map_err(ActorError::Gone)?;
                let now = clock::now();
                if meta.locked_at(now).is_some() {
                    metrics::counter!(crate::telemetry::LOCKED).increment(1);
                }
                Err(ActorError::WrongPassphrase {
                    tries_left: Some(meta.passphrase_tries_left(self.lockout, now)),
                })
            }
            other => other,
        }
    }

    async fn open(
        &self,
        key: SecretKey,
        passphrase: Option<Passphrase>,
        sealed: Vec<u8>,
    ) -> Result<Zeroizing<Vec<u8>>, ActorError> {
        let keyring = Arc::clone(&self.keyring);
        let id = self.id;
        let work = move || keyring.open_content(&id, &key, passphrase.as_ref(), &sealed);
        // argon2id takes tens of milliseconds and ~19 MiB: it waits its turn off the workers.
        let opened = if self.meta.has_passphrase {
            self.keyring.hashing().run(work).await
        } else {
            work()
        };
        opened.map_err(|e| match e {
            CryptoError::Authentication => ActorError::WrongPassphrase { tries_left: None },
            other => ActorError::Crypto(other),
        })
    }
}

/// Deletes a file secret's blob; a failure is left to the orphan sweep.
pub async fn discard_blob(blobs: &dyn BlobStore, id: SecretId) {
    if let Err(err) = blobs.delete(id).await {
        tracing::warn!(error = %err, "could not delete a file's blob; the orphan sweep will");
    }
}

/// Answers a request with [`ActorError::NotFound`].
fn answer_not_found(msg: SecretMsg) {
    match msg {
        SecretMsg::Status(reply) | SecretMsg::Burn { reply, .. } => {
            let _ = reply.send(Err(ActorError::NotFound));
        }
        SecretMsg::ReadReceipt(reply) => {
            let _ = reply.send(Err(ActorError::NotFound));
        }
        SecretMsg::Reveal { reply, .. } => {
            let _ = reply.send(Err(ActorError::NotFound));
        }
        SecretMsg::Due | SecretMsg::TimerFired { .. } => {}
    }
}

/// Answers a request with the store's failure.
fn answer_unavailable(msg: SecretMsg, backend: &'static str, err: &crate::storage::StoreError) {
    let unavailable = || ActorError::Store(crate::storage::StoreError::unavailable(backend, err));
    match msg {
        SecretMsg::Status(reply) | SecretMsg::Burn { reply, .. } => {
            let _ = reply.send(Err(unavailable()));
        }
        SecretMsg::ReadReceipt(reply) => {
            let _ = reply.send(Err(unavailable()));
        }
        SecretMsg::Reveal { reply, .. } => {
            let _ = reply.send(Err(unavailable()));
        }
        SecretMsg::Due | SecretMsg::TimerFired { .. } => {}
    }
}

/// The behaviour of a secret's actor.
pub struct SecretActor;

impl Actor for SecretActor {
    type Msg = SecretMsg;
    type State = SecretState;
    type Arguments = SecretArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<SecretMsg>,
        args: SecretArgs,
    ) -> Result<SecretState, ActorProcessingErr> {
        let mut state = SecretState {
            id: args.id,
            meta: args.meta,
            store: args.store,
            keyring: args.keyring,
            blobs: args.blobs,
            idle_timeout: args.settings.idle_timeout,
            lockout: args.settings.lockout,
            last_used: Instant::now(),
            timer: None,
            generation: 0,
            gone: false,
            fresh: true,
            prefetched: None,
        };
        state.arm(&myself);
        Ok(state)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<SecretMsg>,
        state: &mut SecretState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(timer) = state.timer.take() {
            timer.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<SecretMsg>,
        msg: SecretMsg,
        state: &mut SecretState,
    ) -> Result<(), ActorProcessingErr> {
        if !matches!(msg, SecretMsg::TimerFired { .. }) {
            state.last_used = Instant::now();
        }
        if clock::now() >= state.meta.purge_at {
            // The receipt's life is over: the record goes, and every request is answered as for a
            // secret that never existed.
            let _ = state.apply(Operation::Sweep).await;
            answer_not_found(msg);
            myself.stop(None);
            return Ok(());
        }
        let fresh = std::mem::take(&mut state.fresh);
        if state.store.is_shared() && !fresh && !matches!(msg, SecretMsg::TimerFired { .. }) {
            // Other nodes write this record too: start from what the store holds now (a reveal
            // reads the content with it).
            let read = if matches!(msg, SecretMsg::Reveal { .. }) {
                state.store.load_with_content(state.id).await.map(|read| {
                    read.map(|(meta, content)| {
                        state.prefetched = Some(content);
                        meta
                    })
                })
            } else {
                state.store.load(state.id).await
            };
            match read {
                Ok(Some(meta)) => state.meta = meta,
                Ok(None) => {
                    state.gone = true;
                    answer_not_found(msg);
                    myself.stop(None);
                    return Ok(());
                }
                Err(err) => {
                    answer_unavailable(msg, state.store.backend(), &err);
                    return Ok(());
                }
            }
        }
        let mut stop = false;
        match msg {
            SecretMsg::Status(reply) => {
                state.catch_up_expiry().await;
                let _ = reply.send(Ok(state.meta.clone()));
            }
            SecretMsg::ReadReceipt(reply) => {
                let result = state.read_receipt().await;
                let _ = reply.send(result);
            }
            SecretMsg::Reveal {
                key,
                passphrase,
                text_only,
                reply,
            } => {
                let result = state.reveal(key, passphrase, text_only, &reply).await;
                stop = matches!(result, Err(ActorError::NotFound));
                let _ = reply.send(result);
            }
            SecretMsg::Burn { proof, reply } => {
                let result = state.burn(proof).await;
                stop = matches!(result, Err(ActorError::NotFound));
                let _ = reply.send(result);
            }
            SecretMsg::Due => stop = state.apply(Operation::Sweep).await.is_err(),
            SecretMsg::TimerFired { generation } if generation == state.generation => {
                stop = !state.catch_up_expiry().await;
                if !stop && state.last_used.elapsed() >= state.idle_timeout {
                    // Handed back while this actor still runs, so no other actor of this secret
                    // can have written it since.
                    if !state.gone {
                        state.store.passivated(state.id, state.meta.clone()).await;
                    }
                    stop = true;
                } else if !stop {
                    state.arm(&myself);
                }
            }
            SecretMsg::TimerFired { .. } => {}
        }
        // Read for this request only (and it may be large).
        state.prefetched = None;
        // A final secret's actor stays until it is idle: racing requests queued behind the last
        // view are answered from memory instead of being dropped with the mailbox.
        if stop {
            myself.stop(None);
        }
        Ok(())
    }
}
