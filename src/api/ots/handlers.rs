//! The operations of `/api/v1`. Aliases (`create`, `metadata/…`, `receipt/…`) are operations of
//! their own so that generated clients find every path; they share one implementation each.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Tags};

use super::models::{
    BurnedReceipt, GenerateBody, PassphraseBody, ReceiptObject, RevealedSecret, ShareBody,
    SystemStatus,
};
use super::receipt::{ReceiptParts, receipt_object};
use super::{OtsError, OtsErrorBody};
use crate::api::auth::{AccountAuth, ApiAuth};
use crate::api::dialect::error_variants;
use crate::api::native::PublicUrl;
use crate::api::schema::{BoundedInt, KeyParam, Recipients, Seconds};
use crate::crypto::password::{
    DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH, PasswordError, generate_password,
};
use crate::domain::recipient::obscure_list;
use crate::domain::{AnyKey, DomainError, Passphrase, SecretKey, SecretText, Ttl, ViewLimit};
use crate::service::{Caller, NewSecret, SecretOptions, SecretService, ServiceError};
use crate::telemetry;

/// Shortest key the v1 dialect looks up; shorter ones are not found without a lookup.
const MIN_KEY_LEN: usize = 20;

#[derive(Tags)]
enum ApiTags {
    /// Onetime Secret API v1: share, generate, reveal, receipts and burn.
    OnetimeSecretV1,
}

/// Answers of `share`, `create` and `generate`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "create_bad_request")]
pub enum CreateResponse {
    /// The receipt of the new secret.
    #[oai(status = 200)]
    Ok(Json<Box<ReceiptObject>>),
    /// A parameter is missing or invalid.
    #[oai(status = 400)]
    BadRequest(Json<OtsErrorBody>),
    /// Credentials were sent and are not valid.
    #[oai(status = 401)]
    Unauthorized(Json<OtsErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<OtsErrorBody>),
    /// Every passphrase-hashing turn is taken; nothing was stored and no view was used. See
    /// `Retry-After`.
    #[oai(status = 503)]
    Unavailable(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
}
error_variants!(CreateResponse, OtsError, create_bad_request, { 400 => BadRequest, 401 => Unauthorized }, 503 => Unavailable);

/// Answers of a receipt read.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "receipt_bad_request")]
pub enum ReceiptResponse {
    /// The receipt.
    #[oai(status = 200)]
    Ok(Json<Box<ReceiptObject>>),
    /// Credentials were sent and are not valid.
    #[oai(status = 401)]
    Unauthorized(Json<OtsErrorBody>),
    /// The API key sent may only send secrets: it cannot read receipts (the receipt key alone,
    /// without credentials, or a full key can).
    #[oai(status = 403)]
    Forbidden(Json<OtsErrorBody>),
    /// No receipt answers to this key.
    #[oai(status = 404)]
    NotFound(Json<OtsErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<OtsErrorBody>),
}
error_variants!(ReceiptResponse, OtsError, receipt_bad_request, { 401 => Unauthorized, 403 => Forbidden, 404 => NotFound });

/// Answers of `secret/{key}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "reveal_bad_request")]
pub enum RevealResponse {
    /// The secret; it is gone from the server now.
    #[oai(status = 200)]
    Ok(Json<RevealedSecret>),
    /// The request could not be read.
    #[oai(status = 400)]
    BadRequest(Json<OtsErrorBody>),
    /// Credentials were sent and are not valid.
    #[oai(status = 401)]
    Unauthorized(Json<OtsErrorBody>),
    /// Unknown secret: never existed, already received, burned or expired.
    #[oai(status = 404)]
    NotFound(Json<OtsErrorBody>),
    /// Wrong or missing passphrase; the secret is still there.
    #[oai(status = 422)]
    WrongPassphrase(Json<OtsErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<OtsErrorBody>),
    /// Every passphrase-hashing turn is taken; nothing was stored and no view was used. See
    /// `Retry-After`.
    #[oai(status = 503)]
    Unavailable(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
}
error_variants!(RevealResponse, OtsError, reveal_bad_request, {
    400 => BadRequest, 401 => Unauthorized, 404 => NotFound, 422 => WrongPassphrase,
}, 503 => Unavailable);

/// Answers of a burn.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "burn_bad_request")]
pub enum BurnResponse {
    /// The burned receipt.
    #[oai(status = 200)]
    Ok(Json<Box<BurnedReceipt>>),
    /// The request could not be read.
    #[oai(status = 400)]
    BadRequest(Json<OtsErrorBody>),
    /// Credentials were sent and are not valid.
    #[oai(status = 401)]
    Unauthorized(Json<OtsErrorBody>),
    /// Unknown receipt, or the secret was already received, burned or expired.
    #[oai(status = 404)]
    NotFound(Json<OtsErrorBody>),
    /// Wrong or missing passphrase for a protected secret.
    #[oai(status = 422)]
    WrongPassphrase(Json<OtsErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<OtsErrorBody>),
    /// Every passphrase-hashing turn is taken; nothing was stored and no view was used. See
    /// `Retry-After`.
    #[oai(status = 503)]
    Unavailable(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
}
error_variants!(BurnResponse, OtsError, burn_bad_request, {
    400 => BadRequest, 401 => Unauthorized, 404 => NotFound, 422 => WrongPassphrase,
}, 503 => Unavailable);

/// Answers of `private/recent`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "recent_bad_request")]
pub enum RecentResponse {
    /// The caller's receipts of the last 30 days, without secret keys.
    #[oai(status = 200)]
    Ok(Json<Vec<ReceiptObject>>),
    /// Anonymous callers have no receipts list; credentials are required.
    #[oai(status = 401)]
    Unauthorized(Json<OtsErrorBody>),
    /// The API key sent may only send secrets: listing needs a full key.
    #[oai(status = 403)]
    Forbidden(Json<OtsErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<OtsErrorBody>),
}
error_variants!(RecentResponse, OtsError, recent_bad_request, { 401 => Unauthorized, 403 => Forbidden });

/// Answers of `status`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "status_bad_request")]
pub enum StatusResponse {
    /// The server answers.
    #[oai(status = 200)]
    Ok(Json<SystemStatus>),
    /// Credentials were sent and are not valid.
    #[oai(status = 401)]
    Unauthorized(Json<OtsErrorBody>),
    /// Over the caller's request quota; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<OtsErrorBody>),
}
error_variants!(StatusResponse, OtsError, status_bad_request, { 401 => Unauthorized });

/// Answers of `authcheck`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "authcheck_bad_request")]
pub enum AuthcheckResponse {
    /// The credentials are valid.
    #[oai(status = 200)]
    Ok(Json<SystemStatus>),
    /// No credentials, or wrong ones.
    #[oai(status = 401)]
    Unauthorized(Json<OtsErrorBody>),
    /// Over the caller's request quota, or too many wrong passphrases; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<OtsErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Server error.
    #[oai(status = 500)]
    InternalError(Json<OtsErrorBody>),
}
error_variants!(AuthcheckResponse, OtsError, authcheck_bad_request, { 401 => Unauthorized });

/// The request's service, link base and caller.
struct Context<'a> {
    service: &'a SecretService,
    base_url: &'a str,
    caller: &'a Caller,
}

impl<'a> Context<'a> {
    fn new(service: &'a SecretService, public_url: &'a PublicUrl, caller: &'a Caller) -> Self {
        Self {
            service,
            base_url: &public_url.0,
            caller,
        }
    }

    async fn create(&self, params: NewParams) -> Result<ReceiptObject, OtsError> {
        let limits = self.service.limits();
        let new = NewSecret {
            text: SecretText::parse(params.text, limits.max_secret_bytes_for(self.caller))
                .map_err(ServiceError::from)?,
            options: SecretOptions {
                ttl: Ttl::clamped(params.ttl, limits.ots_ttl_for(self.caller)),
                views: ViewLimit::Limited(1),
                passphrase: parse_passphrase(params.passphrase).map_err(ServiceError::from)?,
                one_click_retrieval: true,
                allow_deletion: false,
                recipients: obscure_list(params.recipient.as_deref().unwrap_or_default())
                    .map_err(ServiceError::from)?,
                end_to_end: false,
            },
        };
        let created = self.service.create(new, self.caller).await?;
        telemetry::secret_event(telemetry::CREATED, "ots");
        Ok(receipt_object(
            ReceiptParts {
                meta: &created.meta,
                metadata_key: created.receipt_key.expose(),
                secret_key: &created.secret_key,
                orphaned: false,
                value: params.generated,
            },
            self.base_url,
        ))
    }

    async fn receipt(&self, raw_key: &str) -> Result<ReceiptObject, OtsError> {
        let key = v1_key(raw_key)?.as_receipt();
        let receipt = self.service.read_receipt(&key, self.caller).await?;
        Ok(receipt_object(
            ReceiptParts {
                meta: &receipt.meta,
                metadata_key: raw_key,
                secret_key: &receipt.secret_key,
                orphaned: receipt.orphaned,
                value: None,
            },
            self.base_url,
        ))
    }

    async fn burn(
        &self,
        raw_key: &str,
        passphrase: Option<String>,
    ) -> Result<BurnedReceipt, OtsError> {
        let key = v1_key(raw_key)?.as_receipt();
        // A passphrase that could never be right is simply wrong.
        let passphrase = parse_passphrase(passphrase).map_err(|_| OtsError::wrong_passphrase())?;
        let (meta, secret_key) = self.service.burn_with_passphrase(&key, passphrase).await?;
        telemetry::secret_event(telemetry::BURNED, "ots");
        let shortkey = secret_key.expose().chars().take(8).collect();
        let state = receipt_object(
            ReceiptParts {
                meta: &meta,
                metadata_key: raw_key,
                secret_key: &secret_key,
                orphaned: false,
                value: None,
            },
            self.base_url,
        );
        Ok(BurnedReceipt {
            state,
            secret_shortkey: shortkey,
        })
    }

    async fn recent(&self) -> Result<Vec<ReceiptObject>, OtsError> {
        let receipts = self.service.recent(self.caller).await?;
        Ok(receipts
            .into_iter()
            .map(|(receipt_key, meta)| {
                let mut object = receipt_object(
                    ReceiptParts {
                        meta: &meta,
                        metadata_key: receipt_key.expose(),
                        // Not shown in lists: the key stays with whoever opened the receipt.
                        secret_key: &SecretKey::generate(0, [0; 16]),
                        orphaned: false,
                        value: None,
                    },
                    self.base_url,
                );
                // "the secret key value will always be null" (the v1 documentation).
                object.secret_key = MaybeUndefined::Null;
                object.secret_identifier = MaybeUndefined::Null;
                object
            })
            .collect())
    }
}

/// What a new v1 secret is made from.
struct NewParams {
    text: Option<String>,
    ttl: Option<i64>,
    passphrase: Option<String>,
    recipient: Option<String>,
    generated: Option<String>,
}

/// The secret in the query string, where clients older than the documented body put it. The
/// document leaves it out, so that it can say the body's `secret` is required.
fn secret_in_query(request: &Request) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Query {
        secret: Option<String>,
    }
    request
        .params::<Query>()
        .ok()
        .and_then(|query| query.secret)
}

/// The body's value of a parameter, else the query's; an empty value counts as absent.
fn either(body: Option<String>, query: Option<String>) -> Option<String> {
    body.filter(|v| !v.is_empty())
        .or(query.filter(|v| !v.is_empty()))
}

fn parse_passphrase(raw: Option<String>) -> Result<Option<Passphrase>, DomainError> {
    raw.filter(|p| !p.is_empty())
        .map(Passphrase::parse)
        .transpose()
}

/// A v1 key: alphanumeric and at least 20 characters, or not found without a lookup.
fn v1_key(raw: &str) -> Result<AnyKey, OtsError> {
    if raw.len() < MIN_KEY_LEN {
        return Err(OtsError::unknown_secret());
    }
    AnyKey::parse(raw).map_err(|_| OtsError::unknown_secret())
}

async fn reveal(
    service: &SecretService,
    raw_key: &str,
    passphrase: Option<String>,
) -> Result<RevealedSecret, OtsError> {
    let key = v1_key(raw_key)?.as_secret();
    let passphrase = parse_passphrase(passphrase).map_err(|_| OtsError::wrong_passphrase())?;
    let (text, _) = service.reveal_text(&key, passphrase).await?;
    telemetry::secret_event(telemetry::REVEALED, "ots");
    Ok(RevealedSecret {
        value: text.expose().to_owned(),
        secret_key: raw_key.to_owned(),
        share_domain: String::new(),
    })
}

/// Refuses a password length out of the generator's range.
fn check_length(length: i64) -> Result<(), OtsError> {
    let in_range =
        usize::try_from(length).is_ok_and(|length| (MIN_LENGTH..=MAX_LENGTH).contains(&length));
    if in_range {
        Ok(())
    } else {
        let invalid = DomainError::InvalidLength {
            min: MIN_LENGTH,
            max: MAX_LENGTH,
        };
        Err(ServiceError::from(invalid).into())
    }
}

/// The body's recipients, else the query's; a malformed list is refused wherever it was sent.
fn recipients(body: Recipients, query: Recipients) -> Result<Option<String>, OtsError> {
    for list in [&body.0, &query.0].into_iter().flatten() {
        obscure_list(list).map_err(ServiceError::from)?;
    }
    Ok(either(body.0, query.0))
}

fn generated_password(length: Option<i64>) -> Result<String, OtsError> {
    let length = length
        .map_or(Ok(DEFAULT_LENGTH), usize::try_from)
        .unwrap_or(0);
    generate_password(length).map_err(|err| match err {
        PasswordError::Length(invalid) => ServiceError::from(invalid).into(),
        PasswordError::Rng(rng) => ServiceError::from(rng).into(),
    })
}

/// The Onetime Secret v1 API.
pub struct OtsApi;

#[allow(clippy::too_many_arguments)]
#[poem_openapi::OpenApi(tag = "ApiTags::OnetimeSecretV1")]
impl OtsApi {
    /// Service status
    ///
    /// Always `{"status":"nominal","locale":"en"}` while the server answers.
    #[oai(path = "/api/v1/status", method = "get", operation_id = "otsStatus")]
    async fn status(&self, _auth: ApiAuth) -> StatusResponse {
        StatusResponse::Ok(Json(SystemStatus::nominal()))
    }

    /// Check credentials
    ///
    /// 200 with valid HTTP Basic credentials, 401 without or with wrong ones.
    #[oai(
        path = "/api/v1/authcheck",
        method = "get",
        operation_id = "otsAuthcheck"
    )]
    async fn authcheck(&self, caller: Data<&Caller>, _auth: AccountAuth) -> AuthcheckResponse {
        match *caller {
            Caller::Account { .. } => AuthcheckResponse::Ok(Json(SystemStatus::nominal())),
            Caller::Anonymous { .. } => OtsError::unauthorized().into(),
        }
    }

    /// Share a secret
    ///
    /// Stores `secret` for one reading and returns its receipt. Parameters may come as a form, as
    /// JSON or in the query string. The TTL is clamped to the caller's range.
    #[oai(path = "/api/v1/share", method = "post", operation_id = "otsShare")]
    async fn share(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        request: &Request,
        /// Seconds to live (when not in the body).
        ttl: Query<Seconds>,
        /// Passphrase (when not in the body).
        passphrase: Query<Option<String>>,
        /// Recipient address(es) (when not in the body).
        recipient: Query<Recipients>,
        body: ShareBody,
    ) -> CreateResponse {
        let body = body.into_params();
        let result = async {
            let params = NewParams {
                text: either(body.secret.0, secret_in_query(request)),
                ttl: body.ttl.0.or(ttl.0.0),
                passphrase: either(body.passphrase.0, passphrase.0),
                recipient: recipients(body.recipient, recipient.0)?,
                generated: None,
            };
            Context::new(&service, &public_url, &caller)
                .create(params)
                .await
        };
        result
            .await
            .map_or_else(Into::into, |r| CreateResponse::Ok(Json(Box::new(r))))
    }

    /// Share a secret (alias of `share`)
    #[oai(path = "/api/v1/create", method = "post", operation_id = "otsCreate")]
    async fn create(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        request: &Request,
        /// Seconds to live (when not in the body).
        ttl: Query<Seconds>,
        /// Passphrase (when not in the body).
        passphrase: Query<Option<String>>,
        /// Recipient address(es) (when not in the body).
        recipient: Query<Recipients>,
        body: ShareBody,
    ) -> CreateResponse {
        self.share(
            service, public_url, caller, _auth, request, ttl, passphrase, recipient, body,
        )
        .await
    }

    /// Generate a password and share it
    ///
    /// The server makes a random password of `length` characters (default 12, at most 128, no
    /// look-alike characters), stores it as a secret and returns the receipt with `value`.
    #[oai(
        path = "/api/v1/generate",
        method = "post",
        operation_id = "otsGenerate"
    )]
    async fn generate(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// Password length (when not in the body).
        length: Query<Option<BoundedInt<4, 128>>>,
        /// Seconds to live (when not in the body).
        ttl: Query<Seconds>,
        /// Passphrase (when not in the body).
        passphrase: Query<Option<String>>,
        /// Recipient address(es) (when not in the body).
        recipient: Query<Recipients>,
        body: GenerateBody,
    ) -> CreateResponse {
        let body = body.into_params();
        let result = async {
            let ctx = Context::new(&service, &public_url, &caller);
            // A length out of range is refused wherever it was sent, though the body's wins.
            if let Some(query_length) = length.0 {
                check_length(query_length.0)?;
            }
            let password = generated_password(body.length.or(length.0).map(|l| l.0))?;
            let params = NewParams {
                text: Some(password.clone()),
                ttl: body.ttl.0.or(ttl.0.0),
                passphrase: either(body.passphrase.0, passphrase.0),
                recipient: recipients(body.recipient, recipient.0)?,
                generated: Some(password),
            };
            ctx.create(params).await
        };
        result
            .await
            .map_or_else(Into::into, |r| CreateResponse::Ok(Json(Box::new(r))))
    }

    /// Reveal a secret
    ///
    /// Returns the secret and destroys it. Give `passphrase` when it has one; a wrong one answers
    /// 422 and leaves the secret in place. A secret created end-to-end through `/api/secrets`
    /// comes as its object's JSON text in `value`, e.g.
    /// `{"ciphertext":"3q2+7w…","iv":"AAECAwQFBgcICQoL"}`, for the client to decrypt with the key
    /// in its link's fragment (docs/end-to-end.md).
    #[oai(
        path = "/api/v1/secret/:key",
        method = "post",
        operation_id = "otsRevealSecret"
    )]
    async fn reveal(
        &self,
        service: Data<&SecretService>,
        _auth: ApiAuth,
        /// The secret key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
        /// Passphrase (when not in the body).
        passphrase: Query<Option<String>>,
        body: PassphraseBody,
    ) -> RevealResponse {
        let passphrase = either(body.into_params().passphrase.0, passphrase.0);
        let result = reveal(&service, &key.0.0, passphrase).await;
        result.map_or_else(Into::into, |r| RevealResponse::Ok(Json(r)))
    }

    /// Read a receipt
    ///
    /// The receipt (metadata) of a secret. Never counts a view.
    #[oai(
        path = "/api/v1/private/:key",
        method = "get",
        operation_id = "otsReadPrivate"
    )]
    async fn read_private(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
    ) -> ReceiptResponse {
        let result = Context::new(&service, &public_url, &caller)
            .receipt(&key.0.0)
            .await;
        result.map_or_else(Into::into, |r| ReceiptResponse::Ok(Json(Box::new(r))))
    }

    /// Read a receipt (`private/{key}` by POST)
    #[oai(
        path = "/api/v1/private/:key",
        method = "post",
        operation_id = "otsReadPrivateByPost"
    )]
    async fn read_private_by_post(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
    ) -> ReceiptResponse {
        self.read_private(service, public_url, caller, _auth, key)
            .await
    }

    /// Read a receipt (alias of `private/{key}`)
    #[oai(
        path = "/api/v1/metadata/:key",
        method = "get",
        operation_id = "otsReadMetadata"
    )]
    async fn read_metadata(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
    ) -> ReceiptResponse {
        self.read_private(service, public_url, caller, _auth, key)
            .await
    }

    /// Read a receipt (alias of `private/{key}`, by POST)
    #[oai(
        path = "/api/v1/metadata/:key",
        method = "post",
        operation_id = "otsReadMetadataByPost"
    )]
    async fn read_metadata_by_post(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
    ) -> ReceiptResponse {
        self.read_private(service, public_url, caller, _auth, key)
            .await
    }

    /// Read a receipt (alias of `private/{key}`)
    #[oai(
        path = "/api/v1/receipt/:key",
        method = "get",
        operation_id = "otsReadReceipt"
    )]
    async fn read_receipt(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
    ) -> ReceiptResponse {
        self.read_private(service, public_url, caller, _auth, key)
            .await
    }

    /// Read a receipt (alias of `private/{key}`, by POST)
    #[oai(
        path = "/api/v1/receipt/:key",
        method = "post",
        operation_id = "otsReadReceiptByPost"
    )]
    async fn read_receipt_by_post(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
    ) -> ReceiptResponse {
        self.read_private(service, public_url, caller, _auth, key)
            .await
    }

    /// Burn a secret
    ///
    /// Destroys a secret that has not been read yet, by its metadata key. A secret with a
    /// passphrase burns only with its passphrase.
    #[oai(
        path = "/api/v1/private/:key/burn",
        method = "post",
        operation_id = "otsBurnPrivate"
    )]
    async fn burn_private(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
        /// Passphrase (when not in the body).
        passphrase: Query<Option<String>>,
        body: PassphraseBody,
    ) -> BurnResponse {
        let passphrase = either(body.into_params().passphrase.0, passphrase.0);
        let result = Context::new(&service, &public_url, &caller)
            .burn(&key.0.0, passphrase)
            .await;
        result.map_or_else(Into::into, |r| BurnResponse::Ok(Json(Box::new(r))))
    }

    /// Burn a secret (alias of `private/{key}/burn`)
    #[oai(
        path = "/api/v1/metadata/:key/burn",
        method = "post",
        operation_id = "otsBurnMetadata"
    )]
    async fn burn_metadata(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
        /// Passphrase (when not in the body).
        passphrase: Query<Option<String>>,
        body: PassphraseBody,
    ) -> BurnResponse {
        self.burn_private(service, public_url, caller, _auth, key, passphrase, body)
            .await
    }

    /// Burn a secret (alias of `private/{key}/burn`)
    #[oai(
        path = "/api/v1/receipt/:key/burn",
        method = "post",
        operation_id = "otsBurnReceipt"
    )]
    async fn burn_receipt(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: ApiAuth,
        /// The metadata (receipt) key.
        key: Path<KeyParam<MIN_KEY_LEN>>,
        /// Passphrase (when not in the body).
        passphrase: Query<Option<String>>,
        body: PassphraseBody,
    ) -> BurnResponse {
        self.burn_private(service, public_url, caller, _auth, key, passphrase, body)
            .await
    }

    /// Recent receipts
    ///
    /// The caller's receipts of the last 30 days, without secret keys. Needs credentials.
    #[oai(
        path = "/api/v1/private/recent",
        method = "get",
        operation_id = "otsRecentPrivate"
    )]
    async fn recent_private(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: AccountAuth,
    ) -> RecentResponse {
        let result = Context::new(&service, &public_url, &caller).recent().await;
        result.map_or_else(Into::into, |r| RecentResponse::Ok(Json(r)))
    }

    /// Recent receipts (alias of `private/recent`)
    #[oai(
        path = "/api/v1/metadata/recent",
        method = "get",
        operation_id = "otsRecentMetadata"
    )]
    async fn recent_metadata(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: AccountAuth,
    ) -> RecentResponse {
        self.recent_private(service, public_url, caller, _auth)
            .await
    }

    /// Recent receipts (alias of `private/recent`)
    #[oai(
        path = "/api/v1/receipt/recent",
        method = "get",
        operation_id = "otsRecentReceipt"
    )]
    async fn recent_receipt(
        &self,
        service: Data<&SecretService>,
        public_url: Data<&PublicUrl>,
        caller: Data<&Caller>,
        _auth: AccountAuth,
    ) -> RecentResponse {
        self.recent_private(service, public_url, caller, _auth)
            .await
    }
}
