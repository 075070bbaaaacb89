//! A file written on the blocking pool in batches: the chunks handed to it gather until
//! [`BATCH_LEN`] bytes, which go out in one vectored write on a blocking thread while the next
//! batch gathers. One hand-off to the pool per MiB instead of one per chunk (the hand-offs, thread
//! wake-ups included, were a quarter of an upload's CPU), and the chunks are not copied on the way.

use std::io::{IoSlice, Write};

use bytes::Bytes;
use tokio::task::JoinHandle;

/// Bytes gathered before they are written.
pub const BATCH_LEN: usize = 1024 * 1024;

/// A write under way on the blocking pool; it hands the file back.
type Writing = JoinHandle<(std::fs::File, std::io::Result<()>)>;

/// A file being written in batches. Dropping it mid-write lets the write under way finish on its
/// own thread; the file is closed when it does.
pub struct BatchedFile {
    /// The file, while no write is under way.
    idle: Option<std::fs::File>,
    writing: Option<Writing>,
    batch: Vec<Bytes>,
    batch_len: usize,
}

impl BatchedFile {
    /// Writes to `file` from its current position.
    pub fn new(file: std::fs::File) -> Self {
        Self {
            idle: Some(file),
            writing: None,
            batch: Vec::new(),
            batch_len: 0,
        }
    }

    /// Appends `bytes`, writing the batch out once it is full.
    ///
    /// # Errors
    /// The error of the last batch written, or of one that could not be handed out; the file is
    /// then unusable.
    pub async fn write(&mut self, bytes: Bytes) -> std::io::Result<()> {
        if bytes.is_empty() {
            // Nothing to write, and an empty buffer would make a vectored write return 0.
            return Ok(());
        }
        self.batch_len += bytes.len();
        self.batch.push(bytes);
        if self.batch_len >= BATCH_LEN {
            self.write_batch().await?;
        }
        Ok(())
    }

    /// Writes what has gathered and waits for every write; the file back, written up to here.
    ///
    /// # Errors
    /// The first write that failed.
    pub async fn finish(mut self) -> std::io::Result<std::fs::File> {
        self.write_batch().await?;
        self.settle().await
    }

    /// Hands the gathered batch to a blocking thread once the write before it has finished.
    async fn write_batch(&mut self) -> std::io::Result<()> {
        let file = self.settle().await?;
        let batch = std::mem::take(&mut self.batch);
        self.batch_len = 0;
        self.writing = Some(tokio::task::spawn_blocking(move || {
            let written = write_all_vectored(&file, &batch);
            (file, written)
        }));
        Ok(())
    }

    /// Waits for the write under way and takes the file.
    async fn settle(&mut self) -> std::io::Result<std::fs::File> {
        if let Some(writing) = self.writing.take() {
            let (file, written) = writing.await.map_err(std::io::Error::other)?;
            written?;
            self.idle = Some(file);
        }
        self.idle
            .take()
            .ok_or_else(|| std::io::Error::other("an earlier write to the file failed"))
    }
}

/// Writes every buffer of `batch`, in order, in as few calls as the kernel allows.
fn write_all_vectored(mut file: &std::fs::File, batch: &[Bytes]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = batch.iter().map(|b| IoSlice::new(b)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut rest, written),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunks of `len` bytes, each filled with its own index.
    fn chunks(count: usize, len: usize) -> Vec<Bytes> {
        (0..count)
            .map(|i| Bytes::from(vec![u8::try_from(i % 251).unwrap(); len]))
            .collect()
    }

    async fn write_through(chunks: &[Bytes]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let mut file = BatchedFile::new(std::fs::File::create(&path).unwrap());
        for chunk in chunks {
            file.write(chunk.clone()).await.unwrap();
        }
        drop(file.finish().await.unwrap());
        std::fs::read(&path).unwrap()
    }

    #[tokio::test]
    async fn the_file_holds_every_chunk_in_order_across_batches() {
        // 40 chunks of 65,552 bytes: two full batches and a part of one, odd sizes throughout.
        let chunks = chunks(40, 65_552);
        let written = write_through(&chunks).await;
        assert_eq!(written, chunks.concat());
    }

    #[tokio::test]
    async fn empty_chunks_and_no_chunks_write_nothing() {
        assert!(write_through(&[]).await.is_empty());
        assert!(
            write_through(&[Bytes::new(), Bytes::new()])
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_failed_write_is_reported_and_the_file_is_not_used_again() {
        // A file opened for reading only: the first batch written fails.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"").unwrap();
        let mut file = BatchedFile::new(std::fs::File::open(&path).unwrap());
        let mut failed = false;
        for chunk in chunks(40, 65_552) {
            if file.write(chunk).await.is_err() {
                failed = true;
                break;
            }
        }
        let finished = file.finish().await;
        assert!(failed || finished.is_err(), "the write error must surface");
        assert!(std::fs::read(&path).unwrap().is_empty());
    }
}
