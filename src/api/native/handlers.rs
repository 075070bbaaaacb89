//! The four operations of `/api/secrets`.

use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::{ApiRequest, ApiResponse, Tags};

use super::download::{FileDownload, merge_shared_statuses};
use super::models::{
    BurnSecretResponse, CreateSecretRequest, CreateSecretResponse, FileInfo, KeyType,
    SecretMetadata, SecretStateName, SecretStatusResponse, ViewSecretRequest, ViewSecretResponse,
};
use super::options::RawOptions;
use super::upload::FileForm;
use super::{ErrorBody, NativeError};
use crate::api::auth::ApiAuth;
use crate::api::content::SecretContent;
use crate::api::dialect_error::error_variants;
use crate::api::optional_json::OptionalJson;
use crate::api::public_url::PublicUrl;
use crate::api::request_id;
use crate::api::schema::KeyParam;
use crate::api::timefmt::iso_millis;
use crate::domain::{AnyKey, Lifecycle, Passphrase, SecretKey, SecretText};
use crate::service::{Caller, KeyKind, NewSecret, Revelation, SecretService, ServiceError};
use crate::telemetry;

#[derive(Tags)]
enum ApiTags {
    /// Burn the Secret API: create, inspect, view and burn secrets.
    Secrets,
}

/// Answers of `POST /api/secrets`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "create_bad_request")]
pub enum CreateResponse {
    /// The secret was stored; share `secretUrl`, keep `metadataUrl`.
    #[oai(status = 200)]
    Ok(Json<CreateSecretResponse>),
    /// Invalid JSON, missing secret, or a parameter out of range.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The API key is not valid, or anonymous creation is off.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The secret is over the size limit (a file is refused as soon as it crosses it).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
    /// The file store cannot be reached, or every passphrase-hashing turn is taken; nothing was
    /// stored. See `Retry-After`.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}
error_variants!(CreateResponse, NativeError, create_bad_request, { 400 => BadRequest, 401 => Unauthorized, 413 => PayloadTooLarge }, 503 => Unavailable);

/// Body of `POST /api/secrets`: JSON for text, a multipart form for a file.
#[derive(ApiRequest)]
pub enum CreateBody {
    /// A text secret.
    Json(Json<CreateSecretRequest>),
    /// A file secret: a `file` part and the same options as text parts.
    Form(FileForm),
}

/// Answers of `GET /api/secrets/{key}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "status_bad_request")]
pub enum StatusResponse {
    /// The state of the secret.
    #[oai(status = 200)]
    Ok(Json<SecretStatusResponse>),
    /// The key is not alphanumeric.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The API key is not valid.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// No secret answers to this key (never existed, or its receipt expired).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}
error_variants!(StatusResponse, NativeError, status_bad_request, { 400 => BadRequest, 401 => Unauthorized, 404 => NotFound });

/// Answers of `POST /api/secrets/{secretKey}`, documented with [`ViewResponse`].
#[derive(ApiResponse)]
#[oai(bad_request_handler = "view_bad_request")]
pub enum ViewAnswer {
    /// The content; one view was counted. A text secret comes as JSON; a file secret as its own
    /// bytes, with its media type, `Content-Disposition: attachment` and `X-Views-Remaining`.
    #[oai(status = 200)]
    Ok(Json<ViewSecretResponse>),
    /// A file secret's bytes.
    #[oai(status = 200)]
    File(FileDownload),
    /// The key is not alphanumeric, or the body is not valid JSON.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing or wrong passphrase; no view was counted.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// No secret answers to this key.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The secret was burned, expired or reached its view limit.
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error (for a file: its stored contents failed their integrity check).
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
    /// The file store cannot be reached, or every passphrase-hashing turn is taken; no view was
    /// counted. See `Retry-After`.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}
error_variants!(ViewAnswer, NativeError, view_bad_request, { 400 => BadRequest, 401 => Unauthorized, 404 => NotFound, 410 => Gone }, 503 => Unavailable);

/// [`ViewAnswer`] with its two 200 answers (JSON and file bytes) documented as one.
pub struct ViewResponse(ViewAnswer);

impl ApiResponse for ViewResponse {
    const BAD_REQUEST_HANDLER: bool = true;

    fn meta() -> MetaResponses {
        merge_shared_statuses(ViewAnswer::meta())
    }

    fn register(registry: &mut Registry) {
        ViewAnswer::register(registry);
    }

    fn from_parse_request_error(err: poem::Error) -> Self {
        Self(ViewAnswer::from_parse_request_error(err))
    }
}

impl IntoResponse for ViewResponse {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl From<NativeError> for ViewResponse {
    fn from(err: NativeError) -> Self {
        Self(err.into())
    }
}

/// Answers of `DELETE /api/secrets/{metadataKey}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "burn_bad_request")]
pub enum BurnResponse {
    /// The secret was destroyed.
    #[oai(status = 200)]
    Ok(Json<BurnSecretResponse>),
    /// The key is not alphanumeric.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The API key is not valid.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The secret key was sent for a secret not viewed yet (only its recipient, after viewing
    /// it, may delete it so).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No secret answers to this key.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The secret was already burned, expired or viewed its last time.
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}
error_variants!(BurnResponse, NativeError, burn_bad_request, { 400 => BadRequest, 401 => Unauthorized, 403 => Forbidden, 404 => NotFound, 410 => Gone });

/// The Burn the Secret API.
pub struct NativeApi;

fn parse_create(
    service: &SecretService,
    caller: &Caller,
    body: CreateSecretRequest,
) -> Result<NewSecret, ServiceError> {
    let limit = service.limits().max_secret_bytes_for(caller);
    let (text, end_to_end) = match body.secret {
        SecretContent::Missing => (SecretText::parse(None, limit)?, false),
        SecretContent::Text(text) => (SecretText::parse(Some(text), limit)?, false),
        SecretContent::Encrypted(sealed) => (
            SecretText::parse_encrypted(&sealed.ciphertext, &sealed.iv, limit)?,
            true,
        ),
    };
    let options = RawOptions {
        ttl: body.ttl.map(|t| t.0),
        max_views: body.max_views.map_value(|n| n.0),
        passphrase: body.passphrase.0,
        one_click_retrieval: body.one_click_retrieval,
        allow_deletion: body.allow_deletion,
        end_to_end,
    }
    .check(service, caller)?;
    Ok(NewSecret { text, options })
}

#[poem_openapi::OpenApi(tag = "ApiTags::Secrets")]
impl NativeApi {
    /// Create a secret
    ///
    /// Encrypts the content and returns two keys: `secretKey` for the recipient (inside
    /// `secretUrl`) and the metadata `key` for the sender. Neither is stored by the server.
    ///
    /// End-to-end: send `"secret": {"ciphertext": "<base64>", "iv": "<base64 of 12 bytes>"}`,
    /// encrypted by your client as docs/end-to-end.md specifies, and append `#key=<the key>` to
    /// `secretUrl` yourself; the server keeps the object as sent (sealed once more), says
    /// `"encrypted": true`, and a view returns it. A file encrypted so goes as the multipart form
    /// with `encrypted=true`.
    #[oai(path = "/api/secrets", method = "post", operation_id = "createSecret")]
    async fn create(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        body: CreateBody,
    ) -> CreateResponse {
        let created = match body {
            CreateBody::Json(json) => match parse_create(&service, &caller, json.0) {
                Ok(new) => service
                    .create(new, &caller)
                    .await
                    .map_err(NativeError::from),
                Err(err) => Err(err.into()),
            },
            CreateBody::Form(form) => form.create(&service, &caller).await,
        };
        let created = match created {
            Ok(created) => created,
            Err(err) => return err.into(),
        };
        let base = public_url.0.base();
        let meta = &created.meta;
        telemetry::secret_event(telemetry::CREATED, "native");
        CreateResponse::Ok(Json(CreateSecretResponse {
            success: true,
            secret_url: format!("{base}/secret/{}", created.secret_key.expose()),
            metadata_url: format!("{base}/receipt/{}", created.receipt_key.expose()),
            metadata: SecretMetadata {
                key: created.receipt_key.expose().to_owned(),
                secret_key: created.secret_key.expose().to_owned(),
                ttl: meta.ttl.as_secs(),
                expires_at: iso_millis(meta.expires_at),
                created_at: iso_millis(meta.created_at),
                has_passphrase: meta.has_passphrase,
                max_views: meta.view_limit.as_option(),
                view_count: meta.view_count,
                encrypted: meta.end_to_end,
            },
            request_id: request_id::current(),
        }))
    }

    /// Get a secret's status
    ///
    /// Works with either key and never counts a view. With the metadata key, also returns the
    /// secret key while the secret can still be viewed (not to a send-only API key).
    #[oai(
        path = "/api/secrets/:key",
        method = "get",
        operation_id = "getSecretStatus"
    )]
    async fn status(
        &self,
        service: Data<&SecretService>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata key or the secret key.
        key: Path<KeyParam<1>>,
    ) -> StatusResponse {
        let status = match AnyKey::parse(key.0.as_str()) {
            Ok(key) => service.status(&key, &caller).await,
            Err(err) => Err(err.into()),
        };
        let status = match status {
            Ok(status) => status,
            Err(err) => return NativeError::from(err).into(),
        };
        let meta = &status.meta;
        let state =
            match SecretService::gone_now(meta).map(|_| meta.lifecycle_at(crate::clock::now())) {
                None => SecretStateName::Live,
                Some(Lifecycle::Received) => SecretStateName::Received,
                Some(Lifecycle::Burned) => SecretStateName::Burned,
                Some(_) => SecretStateName::Expired,
            };
        StatusResponse::Ok(Json(SecretStatusResponse {
            exists: matches!(state, SecretStateName::Live),
            key_type: match status.kind {
                KeyKind::Receipt => KeyType::Metadata,
                KeyKind::Secret => KeyType::Secret,
            },
            viewed: meta.view_count > 0,
            burned: matches!(state, SecretStateName::Burned),
            expires_at: iso_millis(meta.expires_at),
            has_passphrase: meta.has_passphrase,
            secret_key: status.secret_key.map(|k| k.expose().to_owned()),
            max_views: meta.view_limit.as_option(),
            view_count: meta.view_count,
            views_remaining: meta.views_remaining(),
            state,
            file: status.file.map(|details| FileInfo {
                name: details.name.as_str().to_owned(),
                size: meta.file.as_ref().map_or(0, |f| f.size),
                content_type: details.content_type.as_str().to_owned(),
            }),
            encrypted: meta.end_to_end,
            request_id: request_id::current(),
        }))
    }

    /// View a secret
    ///
    /// Returns the content and counts one view; the secret is destroyed when its last view is
    /// taken. Use the secret key. A wrong passphrase costs no view.
    #[oai(
        path = "/api/secrets/:key",
        method = "post",
        operation_id = "viewSecret"
    )]
    async fn view(
        &self,
        service: Data<&SecretService>,
        _auth: ApiAuth,
        /// The secret key.
        #[oai(name = "key")]
        secret_key: Path<KeyParam<1>>,
        body: OptionalJson<ViewSecretRequest>,
    ) -> ViewResponse {
        let passphrase = body
            .0
            .and_then(|b| b.passphrase.0)
            .filter(|p| !p.is_empty());
        let revealed = match (
            SecretKey::parse(secret_key.0.as_str()),
            passphrase.map(Passphrase::parse).transpose(),
        ) {
            (Ok(key), Ok(passphrase)) => service.reveal(&key, passphrase).await,
            (Err(err), _) => Err(err.into()),
            // A passphrase that could never be right is simply wrong, and costs no view.
            (Ok(_), Err(_)) => Err(ServiceError::WrongPassphrase { tries_left: None }),
        };
        if revealed.is_ok() {
            telemetry::secret_event(telemetry::REVEALED, "native");
        }
        match revealed {
            Ok((Revelation::Text(text), meta)) => {
                ViewResponse(ViewAnswer::Ok(Json(ViewSecretResponse {
                    success: true,
                    secret: SecretContent::revealed(text.expose(), meta.end_to_end),
                    one_click_retrieval: meta.one_click_retrieval,
                    views_remaining: meta.views_remaining(),
                    request_id: request_id::current(),
                })))
            }
            Ok((
                Revelation::File {
                    details,
                    note,
                    stream,
                },
                meta,
            )) => ViewResponse(ViewAnswer::File(FileDownload {
                details,
                note: note.map(|n| n.expose().to_owned()),
                views_remaining: meta.views_remaining(),
                stream,
            })),
            Err(err) => NativeError::from(err).into(),
        }
    }

    /// Burn a secret
    ///
    /// Destroys the secret now. Use the metadata key (or the secret key, when the sender allowed
    /// the recipient to delete it, once viewed). The key is what allows it: credentials sent
    /// with it, any account's or none, change nothing.
    #[oai(
        path = "/api/secrets/:key",
        method = "delete",
        operation_id = "burnSecret"
    )]
    async fn burn(
        &self,
        service: Data<&SecretService>,
        _auth: ApiAuth,
        /// The metadata key (or the secret key, when the sender allowed deletion).
        #[oai(name = "key")]
        metadata_key: Path<KeyParam<1>>,
    ) -> BurnResponse {
        let burned = match AnyKey::parse(metadata_key.0.as_str()) {
            Ok(key) => service.burn(&key).await,
            Err(err) => Err(err.into()),
        };
        if burned.is_ok() {
            telemetry::secret_event(telemetry::BURNED, "native");
        }
        match burned {
            Ok(_) => BurnResponse::Ok(Json(BurnSecretResponse {
                success: true,
                message: "Secret burned successfully".into(),
                request_id: request_id::current(),
            })),
            Err(err) => NativeError::from(err).into(),
        }
    }
}
