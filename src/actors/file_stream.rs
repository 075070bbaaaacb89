//! A file secret's contents on their way out: the blob is opened and its first chunk checked
//! before a view is counted, then the rest is decrypted chunk by chunk as the client reads it.
//! A chunk that fails its check ends the stream with an error, so the client sees an aborted
//! transfer, never bytes that were not authenticated. When the view was the last, the blob is
//! deleted once the stream is done with it (finished or dropped).

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use zeroize::Zeroizing;

use super::ActorError;
use crate::crypto::stream::{ChunkOpener, FileKey, sealed_len};
use crate::domain::{SecretId, StoredFile};
use crate::storage::blob::{BlobStore, BlobStream};

/// A file ready to be sent: checked up to its first chunk.
pub struct CheckedFile {
    first: Bytes,
    reader: ChunkReader,
}

/// What a reveal of a file secret hands back.
pub struct FileStream {
    /// Size of the file, in bytes (the `Content-Length`).
    pub size: u64,
    /// The text note sent with the file; empty when there was none.
    pub note: Zeroizing<Vec<u8>>,
    /// The file's details as sealed in the record before this view (a last view forgets them).
    pub sealed_details: Vec<u8>,
    /// The plaintext, chunk by chunk; an error means the transfer must be aborted.
    pub body: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

impl std::fmt::Debug for FileStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileStream(<{} bytes>)", self.size)
    }
}

/// Reads sealed chunks off a blob and opens them in order.
struct ChunkReader {
    source: BlobStream,
    opener: ChunkOpener,
    pending: BytesMut,
}

impl ChunkReader {
    /// The next plaintext chunk, `None` after the last.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, ActorError> {
        let Some(need) = self.opener.next_len() else {
            // Past the last chunk: anything more was appended.
            while let Some(bytes) = self.source.next().await {
                if !bytes?.is_empty() {
                    return Err(ActorError::Integrity("bytes after the last chunk"));
                }
            }
            return Ok(None);
        };
        while self.pending.len() < need {
            match self.source.next().await {
                Some(bytes) => self.pending.extend_from_slice(&bytes?),
                None => return Err(ActorError::Integrity("the file ends early")),
            }
        }
        // Opened where it lies: the chunk's bytes are not copied again.
        let mut chunk = self.pending.split_to(need);
        self.opener
            .open(&mut chunk)
            .map_err(|_| ActorError::Integrity("a chunk failed its authentication"))?;
        Ok(Some(chunk.freeze()))
    }
}

/// Opens the blob of `id` and checks its length and first chunk.
///
/// # Errors
/// [`ActorError::Integrity`] when the blob is missing, has the wrong length or its first chunk
/// fails; [`ActorError::Store`] when the blob store cannot be reached.
pub async fn open_checked(
    blobs: &dyn BlobStore,
    id: SecretId,
    key: &FileKey,
    size: u64,
) -> Result<CheckedFile, ActorError> {
    let blob = blobs
        .open(id)
        .await?
        .ok_or(ActorError::Integrity("the file's contents are missing"))?;
    if blob.len != sealed_len(size) {
        return Err(ActorError::Integrity("the file has the wrong length"));
    }
    let mut reader = ChunkReader {
        source: blob.bytes,
        opener: key.opener(*id.as_bytes(), size),
        pending: BytesMut::new(),
    };
    let first = reader
        .next_chunk()
        .await?
        .ok_or(ActorError::Integrity("the file has no chunk"))?;
    Ok(CheckedFile { first, reader })
}

/// Deletes a blob when dropped (after the last view's stream is done with it).
struct DeleteWhenDone {
    blobs: Arc<dyn BlobStore>,
    id: SecretId,
}

impl Drop for DeleteWhenDone {
    fn drop(&mut self) {
        let blobs = Arc::clone(&self.blobs);
        let id = self.id;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = blobs.delete(id).await {
                    // The orphan sweep retries later.
                    tracing::warn!(error = %err, "could not delete a received file's blob");
                }
            });
        }
    }
}

impl CheckedFile {
    /// The whole plaintext as a stream; with `delete_after`, the blob is deleted once the stream
    /// is finished or dropped.
    pub fn into_stream(
        self,
        file: StoredFile,
        note: Zeroizing<Vec<u8>>,
        delete_after: Option<(Arc<dyn BlobStore>, SecretId)>,
    ) -> FileStream {
        let guard = delete_after.map(|(blobs, id)| DeleteWhenDone { blobs, id });
        let rest = futures_util::stream::try_unfold(
            (self.reader, guard),
            |(mut reader, guard)| async move {
                match reader.next_chunk().await {
                    Ok(Some(chunk)) => Ok(Some((chunk, (reader, guard)))),
                    Ok(None) => Ok(None),
                    Err(err) => {
                        tracing::error!(error = %err, "a file transfer was aborted");
                        Err(std::io::Error::other(err.to_string()))
                    }
                }
            },
        );
        let first = futures_util::stream::once(async move { Ok(self.first) });
        FileStream {
            size: file.size,
            note,
            sealed_details: file.sealed_details,
            body: first.chain(rest).boxed(),
        }
    }
}
