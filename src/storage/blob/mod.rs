//! Blob stores: the encrypted contents of file secrets, kept apart from the records.
//!
//! A blob is named by its secret's id (a keyed hash, never a link key) and holds only sealed
//! chunks (see [`crate::crypto::stream`]). An upload becomes visible under its name only when it
//! is complete, so a reader never sees half a blob; an upload dropped or aborted on the way leaves
//! nothing behind. Backends: [`FsBlobStore`] (files under the data directory, the default) and
//! [`S3BlobStore`] (any S3-compatible service). [`MeteredBlobs`] wraps either with metrics.

mod batched;
mod fs;
mod metered;
mod s3;

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

pub use fs::FsBlobStore;
pub use metered::MeteredBlobs;
pub use s3::{DEFAULT_PREFIX as DEFAULT_S3_PREFIX, S3BlobStore, S3Settings};

use super::StoreError;
use crate::domain::SecretId;
use batched::BatchedFile;

/// The bytes of a blob as they arrive.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes, StoreError>> + Send>>;

/// A blob opened for reading.
pub struct BlobReader {
    /// Its length in bytes.
    pub len: u64,
    /// Its bytes, in order.
    pub bytes: BlobStream,
}

/// Where file contents are kept. Shared behind `Arc<dyn BlobStore>`.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Short name of the backend, for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Starts writing the blob of `id`; nothing is visible under that name until
    /// [`BlobUpload::finish`].
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot be reached.
    async fn create(&self, id: SecretId) -> Result<Box<dyn BlobUpload>, StoreError>;

    /// Opens the blob of `id` for reading; `None` when there is none.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot be reached.
    async fn open(&self, id: SecretId) -> Result<Option<BlobReader>, StoreError>;

    /// Deletes the blob of `id`; deleting a blob that is not there succeeds.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot be reached.
    async fn delete(&self, id: SecretId) -> Result<(), StoreError>;

    /// Every blob last written before `before`, for the orphan sweep; unfinished uploads started
    /// that long ago are removed on the way where the backend can list them.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot be reached.
    async fn written_before(&self, before: SystemTime) -> Result<Vec<SecretId>, StoreError>;

    /// Checks that the backend answers.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Writes, reads back and deletes a small blob under a fresh random name, so that a store
    /// that answers but cannot do the work (wrong credentials, region or bucket; a read-only
    /// folder) is found at start, not at the first upload.
    ///
    /// # Errors
    /// The backend's own error for the step that failed.
    async fn probe(&self) -> Result<(), StoreError> {
        const PROBE: &[u8] = b"burnbox start-up probe";
        self.ping().await?;
        let id = SecretId::from_bytes(
            crate::crypto::random_bytes().map_err(|e| StoreError::backend(self.backend(), e))?,
        );
        let mut upload = self.create(id).await?;
        upload.write(Bytes::from_static(PROBE)).await?;
        upload.finish().await?;
        let mut read = Vec::new();
        if let Some(mut reader) = self.open(id).await? {
            while let Some(bytes) = futures_util::StreamExt::next(&mut reader.bytes).await {
                read.extend_from_slice(&bytes?);
            }
        }
        self.delete(id).await?;
        if read == PROBE {
            Ok(())
        } else {
            Err(StoreError::unavailable(
                self.backend(),
                "a blob written at start read back different",
            ))
        }
    }
}

/// A blob being written. Dropping it before [`Self::finish`] discards what was written.
#[async_trait]
pub trait BlobUpload: Send {
    /// Appends bytes.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend fails; the upload is then discarded.
    async fn write(&mut self, bytes: Bytes) -> Result<(), StoreError>;

    /// Makes the blob durable and visible under its name.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend fails; nothing is left behind.
    async fn finish(self: Box<Self>) -> Result<(), StoreError>;

    /// Discards what was written.
    async fn abort(self: Box<Self>);
}

/// The blobs this node is writing whose record is not stored yet: the orphan sweep leaves them
/// alone, however long an upload takes.
#[derive(Clone, Default)]
pub struct UploadsInFlight(Arc<Mutex<HashSet<SecretId>>>);

impl UploadsInFlight {
    /// Marks `id` as being uploaded until the guard is dropped.
    pub fn enter(&self, id: SecretId) -> InFlightGuard {
        self.lock().insert(id);
        InFlightGuard {
            uploads: self.clone(),
            id,
        }
    }

    /// Whether `id` is being uploaded now.
    pub fn contains(&self, id: &SecretId) -> bool {
        self.lock().contains(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<SecretId>> {
        // The set holds plain ids: a panic elsewhere cannot leave it inconsistent.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Keeps one upload in [`UploadsInFlight`] while it lives.
pub struct InFlightGuard {
    uploads: UploadsInFlight,
    id: SecretId,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.uploads.lock().remove(&self.id);
    }
}

/// Creates a new, uniquely named file in `dir` for a blob of `id` on its way (a random suffix keeps
/// two uploads of one id apart), to be written in batches.
async fn create_temp_file(
    dir: &std::path::Path,
    id: &SecretId,
) -> std::io::Result<(std::path::PathBuf, BatchedFile)> {
    let suffix: [u8; 8] = crate::crypto::random_bytes().map_err(std::io::Error::other)?;
    let path = dir.join(format!("{}.{}", blob_name(id), hex(&suffix)));
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(crate::storage::owner_only::FILE_MODE)
        .open(&path)
        .await?;
    Ok((path, BatchedFile::new(file.into_std().await)))
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A blob's name: the hex of its secret's id.
pub fn blob_name(id: &SecretId) -> String {
    hex(id.as_bytes())
}

/// The id a blob name stands for; `None` for names burnbox did not write.
pub fn id_of_blob_name(name: &str) -> Option<SecretId> {
    if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(name.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(SecretId::from_bytes(bytes))
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn names_round_trip_and_strangers_are_ignored() {
        let id = SecretId::from_bytes([0xab; 32]);
        assert_eq!(id_of_blob_name(&blob_name(&id)), Some(id));
        assert_eq!(id_of_blob_name("notes.txt"), None);
        assert_eq!(id_of_blob_name(&"zz".repeat(32)), None);
    }
}
