//! Blobs as files under the data directory: `blobs/<name>`, written under `blobs/partial/` and
//! renamed into place once complete and synced, so a crash never leaves half a blob under a name.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncReadExt;

use super::batched::BatchedFile;
use super::{BlobReader, BlobStore, BlobUpload, blob_name, create_temp_file, id_of_blob_name};
use crate::domain::SecretId;
use crate::storage::StoreError;

const BACKEND: &str = "fs";
/// Bytes read from a blob file at a time.
const READ_LEN: usize = 256 * 1024;

fn fail(err: impl std::fmt::Display) -> StoreError {
    StoreError::unavailable(BACKEND, err)
}

/// Blobs in a directory of the local file system.
pub struct FsBlobStore {
    dir: PathBuf,
    partial: PathBuf,
}

impl FsBlobStore {
    /// Uses (and creates) `blobs/` under `data_dir`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the folders cannot be created.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let dir = data_dir.join("blobs");
        let partial = dir.join("partial");
        crate::storage::owner_only::create_dir_all(&partial).map_err(fail)?;
        crate::storage::owner_only::narrow(&dir, crate::storage::owner_only::DIR_MODE)
            .map_err(fail)?;
        Ok(Self { dir, partial })
    }

    fn path(&self, id: &SecretId) -> PathBuf {
        self.dir.join(blob_name(id))
    }
}

/// Removes files in `dir` last modified before `before`; returns the names of the others too old
/// to keep when `collect` (a file that vanished meanwhile is skipped).
async fn modified_before(dir: &Path, before: SystemTime) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    let mut entries = tokio::fs::read_dir(dir).await.map_err(fail)?;
    while let Some(entry) = entries.next_entry().await.map_err(fail)? {
        let Ok(meta) = entry.metadata().await else {
            continue;
        };
        if meta.is_file() && meta.modified().is_ok_and(|m| m < before) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(names)
}

#[async_trait]
impl BlobStore for FsBlobStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn create(&self, id: SecretId) -> Result<Box<dyn BlobUpload>, StoreError> {
        let (temp, file) = create_temp_file(&self.partial, &id).await.map_err(fail)?;
        Ok(Box::new(FsUpload {
            file: Some(file),
            temp,
            target: self.path(&id),
            dir: self.dir.clone(),
        }))
    }

    async fn open(&self, id: SecretId) -> Result<Option<BlobReader>, StoreError> {
        let file = match tokio::fs::File::open(self.path(&id)).await {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(fail(err)),
        };
        let len = file.metadata().await.map_err(fail)?.len();
        let bytes = futures_util::stream::try_unfold(file, |mut file| async move {
            let mut buffer = vec![0u8; READ_LEN];
            let read = file.read(&mut buffer).await.map_err(fail)?;
            if read == 0 {
                return Ok(None);
            }
            buffer.truncate(read);
            Ok(Some((Bytes::from(buffer), file)))
        });
        Ok(Some(BlobReader {
            len,
            bytes: Box::pin(bytes),
        }))
    }

    async fn delete(&self, id: SecretId) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(&id)).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(fail(err)),
        }
    }

    async fn written_before(&self, before: SystemTime) -> Result<Vec<SecretId>, StoreError> {
        for stale in modified_before(&self.partial, before).await? {
            let _ = tokio::fs::remove_file(self.partial.join(stale)).await;
        }
        Ok(modified_before(&self.dir, before)
            .await?
            .iter()
            .filter_map(|name| id_of_blob_name(name))
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        tokio::fs::metadata(&self.dir).await.map_err(fail).map(drop)
    }
}

/// A blob being written to its temporary file.
struct FsUpload {
    /// `None` once finished or aborted.
    file: Option<BatchedFile>,
    temp: PathBuf,
    target: PathBuf,
    dir: PathBuf,
}

impl FsUpload {
    async fn complete(&mut self) -> Result<(), StoreError> {
        let Some(file) = self.file.take() else {
            return Err(fail("upload already closed"));
        };
        let file = file.finish().await.map_err(fail)?;
        let (temp, target, dir) = (self.temp.clone(), self.target.clone(), self.dir.clone());
        tokio::task::spawn_blocking(move || {
            file.sync_all()?;
            drop(file);
            std::fs::rename(temp, target)?;
            // The rename is durable once the directory is synced.
            std::fs::File::open(dir)?.sync_all()
        })
        .await
        .map_err(fail)?
        .map_err(fail)
    }
}

#[async_trait]
impl BlobUpload for FsUpload {
    async fn write(&mut self, bytes: Bytes) -> Result<(), StoreError> {
        let Some(file) = self.file.as_mut() else {
            return Err(fail("upload already closed"));
        };
        if let Err(err) = file.write(bytes).await {
            self.file = None;
            let _ = std::fs::remove_file(&self.temp);
            return Err(fail(err));
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<(), StoreError> {
        let result = self.complete().await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&self.temp).await;
        }
        result
    }

    async fn abort(self: Box<Self>) {
        // Dropping removes the temporary file.
    }
}

impl Drop for FsUpload {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            // Unfinished: what was written must not stay on disk.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
