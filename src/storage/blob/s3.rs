//! Blobs in any S3-compatible bucket (aws-sdk-s3): objects `<prefix><name>`. An upload is
//! spooled, sealed, to a local file under the data directory, then sent in one `PutObject` with
//! its length (the object appears whole or not at all); the spool file is removed when the upload
//! finishes, fails or is dropped. One request instead of a multipart upload's three or more: many
//! S3-compatible servers re-read and re-hash every part when a multipart upload completes (the
//! benchmark's `s3s-fs` ran single puts at 1.7× its multipart speed), and nothing is left in the
//! bucket by a client that goes away. Memory per upload stays at the HTTP stack's buffers.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use super::batched::BatchedFile;
use super::{BlobReader, BlobStore, BlobUpload, blob_name, create_temp_file, id_of_blob_name};
use crate::domain::SecretId;
use crate::storage::StoreError;

const BACKEND: &str = "s3";
/// The largest object one `PutObject` may create (S3's limit); configuration keeps files below.
const MAX_OBJECT_LEN: u64 = 5 * 1024 * 1024 * 1024;
/// Bytes read from a spool file at a time while it is sent.
const SEND_BUFFER_LEN: usize = 2 * 1024 * 1024;
/// Object names start with this inside the bucket unless configured otherwise.
pub const DEFAULT_PREFIX: &str = "blobs/";

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
    /// What this node's object names start with, ending in `/` ([`DEFAULT_PREFIX`]): nodes
    /// that share a bucket but not a store need their own, or each one's orphan sweep would
    /// delete the other's files.
    pub prefix: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Blobs in an S3 bucket.
pub struct S3BlobStore {
    client: Client,
    bucket: String,
    /// What object names start with.
    prefix: String,
    /// Where uploads are spooled before they are sent.
    spool: PathBuf,
}

impl S3BlobStore {
    /// A client for `settings` spooling uploads under `data_dir` (`blobs/spool/`, created, and
    /// emptied of what a previous process left); nothing is contacted until the first request.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the spool folder cannot be created or emptied.
    pub fn new(settings: &S3Settings, data_dir: &Path) -> Result<Self, StoreError> {
        let spool = data_dir.join("blobs").join("spool");
        // Whatever is there belongs to uploads of a process that stopped: none will finish.
        match std::fs::remove_dir_all(&spool) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(fail(err)),
        }
        crate::storage::owner_only::create_dir_all(&spool).map_err(fail)?;
        crate::storage::owner_only::narrow(
            &data_dir.join("blobs"),
            crate::storage::owner_only::DIR_MODE,
        )
        .map_err(fail)?;
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
        Ok(Self {
            client: Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
            prefix: settings.prefix.clone(),
            spool,
        })
    }

    fn key(&self, id: &SecretId) -> String {
        format!("{}{}", self.prefix, blob_name(id))
    }

    /// Aborts the multipart uploads under the prefix started before `before`: burnbox versions
    /// before single puts left them when killed mid-upload. Best effort: some S3-compatible stores
    /// cannot list uploads.
    async fn abort_uploads_started_before(&self, before: SystemTime) {
        let listed = self
            .client
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
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
            let (true, Some(key), Some(upload_id)) = (stale, upload.key(), upload.upload_id())
            else {
                continue;
            };
            let aborted = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await;
            if let Err(err) = aborted {
                tracing::warn!(error = %fail(err), "could not abort a stale multipart upload");
            }
        }
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn create(&self, id: SecretId) -> Result<Box<dyn BlobUpload>, StoreError> {
        let (path, file) = create_temp_file(&self.spool, &id).await.map_err(fail)?;
        Ok(Box::new(S3Upload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: self.key(&id),
            file: Some(file),
            path,
            len: 0,
        }))
    }

    async fn open(&self, id: SecretId) -> Result<Option<BlobReader>, StoreError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.key(&id))
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
            .key(self.key(&id))
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
                .prefix(&self.prefix)
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
                    .and_then(|k| k.strip_prefix(self.prefix.as_str()))
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
        let err = match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        // A HEAD answer has no body to name the error: say what its status means.
        let response = err.raw_response();
        let bucket = &self.bucket;
        let region = response
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_owned);
        let said = match (response.map(|r| r.status().as_u16()), region) {
            (Some(301), Some(region)) => format!(
                "the bucket '{bucket}' is in region '{region}', not the one configured (--s3-region)"
            ),
            (Some(403), _) => format!(
                "access to the bucket '{bucket}' is denied (403): check the access key, the secret key and the region"
            ),
            (Some(404), _) => format!("the bucket '{bucket}' does not exist (404)"),
            _ => return Err(fail(err)),
        };
        Err(StoreError::unavailable(BACKEND, said))
    }
}

/// A blob on its way up: spooled to a local file, sent whole when finished.
struct S3Upload {
    client: Client,
    bucket: String,
    key: String,
    /// `None` once finished or failed.
    file: Option<BatchedFile>,
    path: PathBuf,
    len: u64,
}

#[async_trait]
impl BlobUpload for S3Upload {
    async fn write(&mut self, bytes: Bytes) -> Result<(), StoreError> {
        let Some(file) = self.file.as_mut() else {
            return Err(StoreError::unavailable(BACKEND, "upload already closed"));
        };
        if self.len + bytes.len() as u64 > MAX_OBJECT_LEN {
            self.file = None;
            return Err(StoreError::unavailable(
                BACKEND,
                "blob larger than one PutObject allows",
            ));
        }
        let len = bytes.len() as u64;
        if let Err(err) = file.write(bytes).await {
            self.file = None;
            return Err(fail(err));
        }
        self.len += len;
        Ok(())
    }

    /// Sends the spool file in one `PutObject`.
    async fn finish(mut self: Box<Self>) -> Result<(), StoreError> {
        let Some(file) = self.file.take() else {
            return Err(StoreError::unavailable(BACKEND, "upload already closed"));
        };
        // Only handed to the S3 server, which stores it durably before it answers: the spool
        // file itself need not reach the disk.
        drop(file.finish().await.map_err(fail)?);
        let body = ByteStream::read_from()
            .path(&self.path)
            .buffer_size(SEND_BUFFER_LEN)
            .build()
            .await
            .map_err(fail)?;
        let len = i64::try_from(self.len)
            .map_err(|_| StoreError::unavailable(BACKEND, "blob too large"))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_length(len)
            .body(body)
            // Chunks authenticate themselves (AES-GCM, checked on every read): hashing the body
            // again for the signature would only cost CPU.
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .map(drop)
            .map_err(fail)
    }

    async fn abort(self: Box<Self>) {
        // Dropping removes the spool file.
    }
}

impl Drop for S3Upload {
    fn drop(&mut self) {
        // Sent, failed or abandoned: the spool file has served its purpose either way.
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
    }
}
