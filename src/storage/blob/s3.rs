//! Blobs in any S3-compatible bucket (aws-sdk-s3): objects `<prefix><name>`. Small blobs go up in
//! one `PutObject`; bigger ones as a multipart upload of [`PART_LEN`] parts, completed at the end
//! (the object appears whole or not at all) and aborted on any failure or when dropped, so no part
//! is left behind. One part is sent in the background while the next one fills, so the client's
//! bytes keep flowing; an upload holds at most two parts in memory.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use tokio::task::JoinHandle;

use super::{BlobReader, BlobStore, BlobUpload, blob_name, id_of_blob_name};
use crate::domain::SecretId;
use crate::storage::StoreError;

const BACKEND: &str = "s3";
/// Size of each part of a multipart upload (S3 wants at least 5 MiB for all but the last). It is
/// also the most an upload holds in memory.
pub const PART_LEN: usize = 8 * 1024 * 1024;
/// Room for one part and the chunk that crosses into the next, so the buffer never reallocates.
const BUFFER_CAPACITY: usize = PART_LEN + 128 * 1024;
/// Object names start with this inside the bucket.
const PREFIX: &str = "blobs/";

fn fail(err: impl std::error::Error) -> StoreError {
    // The SDK's Display is terse ("dispatch failure"); the source chain says what happened.
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    StoreError::unavailable(BACKEND, message)
}

/// Where the bucket is and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// Endpoint URL; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// The bucket (it must exist).
    pub bucket: String,
    /// The region.
    pub region: String,
    /// Address the bucket in the path (`endpoint/bucket/key`), as most self-hosted stores want.
    pub path_style: bool,
    /// Access key id (from `AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// Secret access key (from `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: String,
    /// Session token (from `AWS_SESSION_TOKEN`), for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// Blobs in an S3 bucket.
pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

impl S3BlobStore {
    /// A client for `settings`; nothing is contacted until the first request.
    pub fn new(settings: &S3Settings) -> Self {
        let credentials = Credentials::new(
            settings.access_key_id.clone(),
            settings.secret_access_key.clone(),
            settings.session_token.clone(),
            None,
            "burnbox-settings",
        );
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(settings.path_style)
            // Chunks carry their own authentication; extra checksums only trouble other stores.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .read_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        Self {
            client: Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
        }
    }

    fn key(id: &SecretId) -> String {
        format!("{PREFIX}{}", blob_name(id))
    }

    /// Aborts the multipart uploads under the prefix started before `before` (a process killed
    /// mid-upload). Best effort: some S3-compatible stores cannot list uploads.
    async fn abort_uploads_started_before(&self, before: SystemTime) {
        let listed = self
            .client
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .prefix(PREFIX)
            .send()
            .await;
        let uploads = match listed {
            Ok(listed) => listed,
            Err(err) => {
                tracing::debug!(error = %fail(err), "cannot list unfinished uploads");
                return;
            }
        };
        for upload in uploads.uploads() {
            let stale = upload
                .initiated()
                .and_then(|t| SystemTime::try_from(*t).ok())
                .is_some_and(|t| t < before);
            if let (true, Some(key), Some(upload_id)) = (stale, upload.key(), upload.upload_id()) {
                abort_upload(&self.client, &self.bucket, key, upload_id).await;
            }
        }
    }
}

/// Aborts a multipart upload, so its parts are freed; a failure is logged (the orphan sweep's
/// listing of stale uploads, or the bucket's lifecycle rule, catches it later).
async fn abort_upload(client: &Client, bucket: &str, key: &str, upload_id: &str) {
    let aborted = client
        .abort_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await;
    if let Err(err) = aborted {
        tracing::warn!(error = %fail(err), "could not abort a multipart upload");
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn create(&self, id: SecretId) -> Result<Box<dyn BlobUpload>, StoreError> {
        Ok(Box::new(S3Upload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: Self::key(&id),
            buffer: Vec::new(),
            upload_id: None,
            parts: Vec::new(),
            in_flight: None,
        }))
    }

    async fn open(&self, id: SecretId) -> Result<Option<BlobReader>, StoreError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(Self::key(&id))
            .send()
            .await
        {
            Ok(object) => object,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(err) => return Err(fail(err)),
        };
        let len = object
            .content_length()
            .and_then(|len| u64::try_from(len).ok())
            .ok_or_else(|| StoreError::unavailable(BACKEND, "object without a length"))?;
        let bytes = futures_util::stream::try_unfold(object.body, |mut body| async move {
            match body.next().await {
                Some(Ok(bytes)) => Ok(Some((bytes, body))),
                Some(Err(err)) => Err(fail(err)),
                None => Ok(None),
            }
        });
        Ok(Some(BlobReader {
            len,
            bytes: Box::pin(bytes),
        }))
    }

    async fn delete(&self, id: SecretId) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(Self::key(&id))
            .send()
            .await
            .map(drop)
            .map_err(fail)
    }

    async fn written_before(&self, before: SystemTime) -> Result<Vec<SecretId>, StoreError> {
        self.abort_uploads_started_before(before).await;
        let mut ids = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(PREFIX)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(fail)?;
            for object in page.contents() {
                let old = object
                    .last_modified()
                    .and_then(|t| SystemTime::try_from(*t).ok())
                    .is_some_and(|t| t < before);
                let id = object
                    .key()
                    .and_then(|k| k.strip_prefix(PREFIX))
                    .and_then(id_of_blob_name);
                if let (true, Some(id)) = (old, id) {
                    ids.push(id);
                }
            }
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() || page.is_truncated() != Some(true) {
                return Ok(ids);
            }
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(drop)
            .map_err(fail)
    }
}

/// A blob on its way up: buffered up to one part, then sent part by part.
struct S3Upload {
    client: Client,
    bucket: String,
    key: String,
    buffer: Vec<u8>,
    /// Set once the first full part was sent.
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    /// The part being sent while the buffer fills.
    in_flight: Option<JoinHandle<Result<CompletedPart, StoreError>>>,
}

impl S3Upload {
    /// Waits for the part in flight, if any, and records it.
    async fn settle(&mut self) -> Result<(), StoreError> {
        if let Some(task) = self.in_flight.take() {
            let part = task
                .await
                .map_err(|e| StoreError::unavailable(BACKEND, e))??;
            self.parts.push(part);
        }
        Ok(())
    }

    /// Starts sending the buffer as the next part (after the previous one is through), starting
    /// the multipart upload first if needed.
    async fn send_part(&mut self) -> Result<(), StoreError> {
        self.settle().await?;
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let started = self
                    .client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .send()
                    .await
                    .map_err(fail)?;
                let id = started
                    .upload_id()
                    .ok_or_else(|| StoreError::unavailable(BACKEND, "no upload id"))?
                    .to_owned();
                self.upload_id = Some(id.clone());
                id
            }
        };
        let number = i32::try_from(self.parts.len() + 1)
            .map_err(|_| StoreError::unavailable(BACKEND, "too many parts"))?;
        let body = std::mem::replace(&mut self.buffer, Vec::with_capacity(BUFFER_CAPACITY));
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            // Chunks authenticate themselves (AES-GCM, checked on every read): hashing the body
            // again for the signature would only cost CPU.
            .customize()
            .disable_payload_signing();
        self.in_flight = Some(tokio::spawn(async move {
            let sent = request.send().await.map_err(fail)?;
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(sent.e_tag().map(str::to_owned))
                .build())
        }));
        Ok(())
    }

    async fn complete(&mut self) -> Result<(), StoreError> {
        let Some(upload_id) = self.upload_id.clone() else {
            let body = std::mem::take(&mut self.buffer);
            return self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .body(ByteStream::from(body))
                .customize()
                .disable_payload_signing()
                .send()
                .await
                .map(drop)
                .map_err(fail);
        };
        if !self.buffer.is_empty() {
            self.send_part().await?;
        }
        self.settle().await?;
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(std::mem::take(&mut self.parts)))
                    .build(),
            )
            .send()
            .await
            .map_err(fail)?;
        self.upload_id = None;
        Ok(())
    }

    /// Aborts the multipart upload, if one was started.
    async fn discard(&mut self) {
        if let Some(task) = self.in_flight.take() {
            task.abort();
        }
        if let Some(upload_id) = self.upload_id.take() {
            abort_upload(&self.client, &self.bucket, &self.key, &upload_id).await;
        }
    }
}

#[async_trait]
impl BlobUpload for S3Upload {
    async fn write(&mut self, bytes: Bytes) -> Result<(), StoreError> {
        if self.buffer.capacity() == 0 {
            // Address space only: pages become resident as they are written.
            self.buffer.reserve_exact(BUFFER_CAPACITY);
        }
        self.buffer.extend_from_slice(&bytes);
        if self.buffer.len() >= PART_LEN
            && let Err(err) = self.send_part().await
        {
            self.discard().await;
            return Err(err);
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<(), StoreError> {
        let result = self.complete().await;
        if result.is_err() {
            self.discard().await;
        }
        result
    }

    async fn abort(mut self: Box<Self>) {
        self.discard().await;
    }
}

impl Drop for S3Upload {
    fn drop(&mut self) {
        // Dropped mid-way (the client went away): abort in the background.
        if let Some(task) = self.in_flight.take() {
            task.abort();
        }
        if let Some(upload_id) = self.upload_id.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (client, bucket, key) =
                (self.client.clone(), self.bucket.clone(), self.key.clone());
            runtime.spawn(async move { abort_upload(&client, &bucket, &key, &upload_id).await });
        }
    }
}
