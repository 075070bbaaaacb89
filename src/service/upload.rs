//! File uploads: the bytes are sealed chunk by chunk and written to the blob store as they
//! arrive, never held whole; the record is stored only once the blob is complete. A file over
//! the caller's limit is refused as soon as the limit is crossed, and an upload that fails or is
//! dropped leaves nothing behind.

use bytes::Bytes;
use zeroize::Zeroizing;

use super::secrets::{Created, SecretOptions, SecretService};
use super::slots::UploadSlot;
use super::{Caller, ServiceError};
use crate::crypto::stream::{CHUNK_LEN, ChunkSealer, FileKey, SEALED_CHUNK_LEN, file_content};
use crate::crypto::{self};
use crate::domain::{DomainError, FileDetails, SecretId, SecretKey, SecretText, StoredFile};
use crate::storage::blob::{BlobUpload, InFlightGuard};

/// A file on its way into the blob store.
pub struct FileUpload {
    service: SecretService,
    secret_key: SecretKey,
    id: SecretId,
    file_key: FileKey,
    sealer: ChunkSealer,
    /// Plaintext not sealed yet: at most one chunk.
    pending: Zeroizing<Vec<u8>>,
    size: u64,
    max_bytes: u64,
    blob: Box<dyn BlobUpload>,
    /// Keeps the orphan sweep away until the record is stored (or the upload is dropped).
    _in_flight: InFlightGuard,
    /// This upload's place among those served at once.
    _slot: UploadSlot,
}

impl std::fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileUpload(<{} bytes so far>)", self.size)
    }
}

impl SecretService {
    /// Starts a file upload for `caller`, limited to their tier's largest secret.
    ///
    /// # Errors
    /// [`ServiceError::AuthenticationRequired`] when anonymous creation is off;
    /// [`ServiceError::Busy`] when as many uploads as allowed are under way;
    /// [`ServiceError::Unavailable`] when the blob store cannot be reached.
    pub async fn begin_file(&self, caller: &Caller) -> Result<FileUpload, ServiceError> {
        self.check_may_create(caller)?;
        let slot = self.upload_slots.acquire(caller)?;
        let secret_key = crypto::new_secret_key()?;
        let id = self.keyring.secret_id(&secret_key);
        let file_key = FileKey::generate()?;
        let sealer = file_key.sealer(*id.as_bytes());
        let in_flight = self.uploads.enter(id);
        let blob = self.blobs.create(id).await?;
        Ok(FileUpload {
            service: self.clone(),
            secret_key,
            id,
            file_key,
            sealer,
            pending: Zeroizing::new(Vec::with_capacity(SEALED_CHUNK_LEN)),
            size: 0,
            max_bytes: self.limits().max_secret_bytes_for(caller) as u64,
            blob,
            _in_flight: in_flight,
            _slot: slot,
        })
    }
}

impl FileUpload {
    /// The largest file this upload accepts, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Takes the next bytes of the file.
    ///
    /// # Errors
    /// [`DomainError::ContentTooLarge`] as soon as the file crosses the limit;
    /// [`ServiceError::Unavailable`] when the blob store fails. Either way the upload is over:
    /// drop it (that discards what was written).
    pub async fn write(&mut self, mut bytes: &[u8]) -> Result<(), ServiceError> {
        let size = self.size + bytes.len() as u64;
        if size > self.max_bytes {
            return Err(DomainError::ContentTooLarge {
                size: usize::try_from(size).unwrap_or(usize::MAX),
                limit: usize::try_from(self.max_bytes).unwrap_or(usize::MAX),
            }
            .into());
        }
        self.size = size;
        while !bytes.is_empty() {
            if self.pending.len() == CHUNK_LEN {
                // More bytes follow, so this full chunk is not the last.
                self.flush(false).await?;
            }
            let take = (CHUNK_LEN - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        Ok(())
    }

    /// Seals the pending chunk and writes it out.
    async fn flush(&mut self, last: bool) -> Result<(), ServiceError> {
        let mut chunk = std::mem::replace(&mut *self.pending, Vec::with_capacity(SEALED_CHUNK_LEN));
        self.sealer.seal(&mut chunk, last)?;
        self.blob.write(Bytes::from(chunk)).await?;
        Ok(())
    }

    /// Completes the blob, then stores the record: the file is a secret from here on.
    ///
    /// # Errors
    /// [`ServiceError::Unavailable`] when the blob store fails (nothing is left behind); store
    /// errors (the blob is deleted again).
    pub async fn finish(
        mut self,
        details: FileDetails,
        note: Option<SecretText>,
        options: SecretOptions,
        caller: &Caller,
    ) -> Result<Created, ServiceError> {
        self.flush(true).await?;
        let Self {
            service,
            secret_key,
            id,
            file_key,
            size,
            blob,
            _in_flight,
            _slot,
            ..
        } = self;
        blob.finish().await?;
        let stored = async {
            let details_bytes = postcard::to_allocvec(&details)
                .map_err(|e| ServiceError::Internal(format!("file details: {e}")))?;
            let file = StoredFile {
                size,
                sealed_details: service
                    .keyring
                    .seal_details(&id, &secret_key, &details_bytes)?,
            };
            let note = note.as_ref().map_or(&b""[..], |n| n.expose().as_bytes());
            let content = file_content(&file_key, note);
            service
                .seal_and_store(secret_key, content, Some(file), options, caller)
                .await
        }
        .await;
        if stored.is_err() {
            // The record did not make it: its blob must not stay.
            crate::actors::discard_blob(service.blobs.as_ref(), id).await;
        }
        stored
    }
}
