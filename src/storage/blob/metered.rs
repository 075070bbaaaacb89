//! Metrics around any blob store: latency and failures per operation, bytes in and out.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;

use super::{BlobReader, BlobStore, BlobUpload};
use crate::domain::SecretId;
use crate::storage::StoreError;
use crate::telemetry::{BLOB_BYTES, BLOB_DURATION, BLOB_ERRORS};

/// A blob store with metrics.
pub struct MeteredBlobs {
    inner: Arc<dyn BlobStore>,
}

impl MeteredBlobs {
    /// Wraps `inner`, with its error counters at zero so alerts see them from the start.
    pub fn new(inner: Arc<dyn BlobStore>) -> Self {
        let backend = inner.backend();
        for op in [
            "create", "write", "finish", "open", "read", "delete", "list", "ping",
        ] {
            metrics::counter!(BLOB_ERRORS, "backend" => backend, "op" => op).absolute(0);
        }
        Self { inner }
    }
}

/// Records one operation's latency, and its failure if it failed.
fn record<T>(
    backend: &'static str,
    op: &'static str,
    started: Instant,
    result: &Result<T, StoreError>,
) {
    metrics::histogram!(BLOB_DURATION, "backend" => backend, "op" => op)
        .record(started.elapsed().as_secs_f64());
    if result.is_err() {
        metrics::counter!(BLOB_ERRORS, "backend" => backend, "op" => op).increment(1);
    }
}

#[async_trait]
impl BlobStore for MeteredBlobs {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn create(&self, id: SecretId) -> Result<Box<dyn BlobUpload>, StoreError> {
        let started = Instant::now();
        let result = self.inner.create(id).await;
        record(self.backend(), "create", started, &result);
        result.map(|inner| {
            Box::new(MeteredUpload {
                inner,
                backend: self.backend(),
            }) as Box<dyn BlobUpload>
        })
    }

    async fn open(&self, id: SecretId) -> Result<Option<BlobReader>, StoreError> {
        let started = Instant::now();
        let result = self.inner.open(id).await;
        record(self.backend(), "open", started, &result);
        let backend = self.backend();
        result.map(|found| {
            found.map(|reader| BlobReader {
                len: reader.len,
                bytes: Box::pin(reader.bytes.inspect(move |chunk| {
                    match chunk {
                        Ok(bytes) => metrics::counter!(BLOB_BYTES, "direction" => "out")
                            .increment(bytes.len() as u64),
                        Err(_) => {
                            metrics::counter!(BLOB_ERRORS, "backend" => backend, "op" => "read")
                                .increment(1)
                        }
                    }
                })),
            })
        })
    }

    async fn delete(&self, id: SecretId) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.delete(id).await;
        record(self.backend(), "delete", started, &result);
        result
    }

    async fn written_before(&self, before: SystemTime) -> Result<Vec<SecretId>, StoreError> {
        let started = Instant::now();
        let result = self.inner.written_before(before).await;
        record(self.backend(), "list", started, &result);
        result
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.ping().await;
        record(self.backend(), "ping", started, &result);
        result
    }
}

/// An upload with metrics.
struct MeteredUpload {
    inner: Box<dyn BlobUpload>,
    backend: &'static str,
}

#[async_trait]
impl BlobUpload for MeteredUpload {
    async fn write(&mut self, bytes: Bytes) -> Result<(), StoreError> {
        let len = bytes.len() as u64;
        let started = Instant::now();
        let result = self.inner.write(bytes).await;
        record(self.backend, "write", started, &result);
        if result.is_ok() {
            metrics::counter!(BLOB_BYTES, "direction" => "in").increment(len);
        }
        result
    }

    async fn finish(self: Box<Self>) -> Result<(), StoreError> {
        let started = Instant::now();
        let backend = self.backend;
        let result = self.inner.finish().await;
        record(backend, "finish", started, &result);
        result
    }

    async fn abort(self: Box<Self>) {
        self.inner.abort().await;
    }
}
