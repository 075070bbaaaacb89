//! The one writer thread of a local durable backend: group commit.
//!
//! Every write goes to one thread that drains all queued writes into a single transaction and
//! commits it durably: a caller is answered only after the commit that holds its write reached
//! the disk, so an acknowledged write survives `kill -9`, and concurrent writers share one sync.
//! A backend provides the transaction ([`WriteTables`]) and its commit; the queue, the batching
//! and the dispatch of each write to the record rules ([`super::tables`]) live here once.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::tables::{RecordTables, apply_operation, insert_record};
use super::{Outcome, StoreError};
use crate::domain::{Account, Operation, SecretId, SecretMeta, Timestamp, TokenGrant};
use crate::telemetry;

/// Most writes folded into one commit.
const MAX_BATCH: usize = 512;

/// A write waiting for the writer thread.
#[allow(
    clippy::large_enum_variant,
    reason = "short-lived values; boxing would allocate on every state change"
)]
pub enum Write {
    /// See [`super::SecretStore::insert`].
    Insert {
        /// The secret's id.
        id: SecretId,
        /// Its metadata.
        meta: SecretMeta,
        /// Its sealed content.
        content: Vec<u8>,
    },
    /// See [`super::SecretStore::apply`].
    Apply {
        /// The secret's id.
        id: SecretId,
        /// What to do.
        op: Operation,
        /// When.
        now: Timestamp,
    },
    /// See [`super::SecretStore::put_account`].
    PutAccount(Account),
    /// See [`super::SecretStore::put_token`].
    PutToken {
        /// The token's keyed hash.
        token_hash: [u8; 32],
        /// What it grants.
        grant: TokenGrant,
    },
    /// See [`super::AccountStore::delete_token`].
    DeleteToken {
        /// The token's keyed hash.
        token_hash: [u8; 32],
    },
}

/// The answer to one [`Write`].
#[allow(
    clippy::large_enum_variant,
    reason = "short-lived values; boxing would allocate on every state change"
)]
pub enum WriteReply {
    /// An insert, account or token write is stored.
    Stored,
    /// What an apply did.
    Applied(Outcome),
}

/// The answers to a batch of writes, in order: per-write refusals (a conflict, a corrupt record)
/// are results; a backend failure is the error of the whole batch, and nothing of it is stored.
pub type BatchResult = Result<Vec<Result<WriteReply, StoreError>>, StoreError>;

/// The tables of one write transaction, accounts and tokens included.
pub trait WriteTables: RecordTables {
    /// Creates or replaces an account.
    fn put_account(&mut self, account: &Account) -> Result<(), StoreError>;
    /// Records what an API token grants.
    fn put_token(&mut self, token_hash: &[u8; 32], grant: &TokenGrant) -> Result<(), StoreError>;
    /// Forgets an API token's keyed hash.
    fn delete_token(&mut self, token_hash: &[u8; 32]) -> Result<(), StoreError>;
}

/// Runs `writes` against `tables` in order, stopping at the first backend failure.
///
/// # Errors
/// A [`StoreError::Backend`] or [`StoreError::Closed`] from the tables, which aborts the batch.
pub fn apply_writes(tables: &mut impl WriteTables, writes: Vec<Write>) -> BatchResult {
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        let result = match write {
            Write::Insert { id, meta, content } => {
                insert_record(tables, &id, &meta, content).map(|()| WriteReply::Stored)
            }
            Write::Apply { id, op, now } => {
                apply_operation(tables, &id, op, now).map(WriteReply::Applied)
            }
            Write::PutAccount(account) => tables.put_account(&account).map(|()| WriteReply::Stored),
            Write::PutToken { token_hash, grant } => tables
                .put_token(&token_hash, &grant)
                .map(|()| WriteReply::Stored),
            Write::DeleteToken { token_hash } => tables
                .delete_token(&token_hash)
                .map(|()| WriteReply::Stored),
        };
        if let Err(err @ (StoreError::Backend { .. } | StoreError::Closed)) = result {
            return Err(err);
        }
        results.push(result);
    }
    Ok(results)
}

struct Job {
    write: Write,
    reply: oneshot::Sender<Result<WriteReply, StoreError>>,
}

/// The queue of a backend's writer thread; dropping it waits for the last commit.
pub struct Writer {
    /// `None` once closing.
    queue: Option<mpsc::Sender<Job>>,
    /// Joined on drop so the backend's files are released when the store is.
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread of `backend`; `commit` stores one batch durably.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the thread cannot be started.
    pub fn spawn(
        backend: &'static str,
        mut commit: impl FnMut(Vec<Write>) -> BatchResult + Send + 'static,
    ) -> Result<Self, StoreError> {
        let (queue, jobs) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("burnbox-store-writer".into())
            .spawn(move || write_loop(backend, &jobs, &mut commit))
            .map_err(|err| StoreError::backend(backend, err))?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues an insert, account or token write and waits until the commit holding it is
    /// durable.
    ///
    /// # Errors
    /// See [`Self::write`].
    pub async fn store(&self, write: Write) -> Result<(), StoreError> {
        self.write(write).await.map(|_| ())
    }

    /// Queues `write` and waits until the commit holding it is durable.
    ///
    /// # Errors
    /// The write's own refusal, the batch's backend failure, or [`StoreError::Closed`].
    async fn write(&self, write: Write) -> Result<WriteReply, StoreError> {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue.as_ref().ok_or(StoreError::Closed)?;
        queue
            .send(Job { write, reply })
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Queues an apply and returns what it did.
    ///
    /// # Errors
    /// See [`Self::write`].
    pub async fn apply(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        match self.write(Write::Apply { id, op, now }).await? {
            WriteReply::Applied(outcome) => Ok(outcome),
            WriteReply::Stored => Err(StoreError::Corrupt(
                "the writer answered an apply with an insert".into(),
            )),
        }
    }
}

impl Drop for Writer {
    /// Closes the queue and waits for the writer to finish its last commit.
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves writes until every sender is dropped.
fn write_loop(
    backend: &'static str,
    jobs: &mpsc::Receiver<Job>,
    commit: &mut impl FnMut(Vec<Write>) -> BatchResult,
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(backend, batch, commit);
    }
}

/// Commits a batch and answers every job after the commit.
fn commit_batch(
    backend: &'static str,
    batch: Vec<Job>,
    commit: &mut impl FnMut(Vec<Write>) -> BatchResult,
) {
    let (writes, replies): (Vec<Write>, Vec<_>) =
        batch.into_iter().map(|j| (j.write, j.reply)).unzip();
    telemetry::store_batch(writes.len());
    match commit(writes) {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, writes = replies.len(), "store commit failed");
            for reply in replies {
                let _ = reply.send(Err(StoreError::backend(backend, &err)));
            }
        }
    }
}
