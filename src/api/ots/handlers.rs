//! The operations of `/api/v1`. Aliases (`create`, `metadata/…`, `receipt/…`) are operations of
//! their own so that generated clients find every path; they share one implementation each.

use poem::Request;
use poem::web::Data;
use poem_openapi::Tags;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use super::OtsError;
use super::models::{GenerateBody, PassphraseBody, ShareBody, SystemStatus};
use crate::api::auth::{AccountAuth, ApiAuth};
use crate::api::public_url::PublicUrl;
use crate::api::schema::{BoundedInt, KeyParam, Recipients, Seconds};
use crate::service::{Caller, SecretService, passwords};

use super::context::{
    Context, MIN_KEY_LEN, NewParams, either, generated_password, recipients, reveal,
    secret_in_query,
};
use super::responses::{
    AuthcheckResponse, BurnResponse, CreateResponse, ReceiptResponse, RecentResponse,
    RevealResponse, StatusResponse,
};

#[derive(Tags)]
enum ApiTags {
    /// Onetime Secret API v1: share, generate, reveal, receipts and burn.
    OnetimeSecretV1,
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
                passwords::check_length(query_length.0).map_err(OtsError::from)?;
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
        let result = reveal(&service, key.0.as_str(), passphrase).await;
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
            .receipt(key.0.as_str())
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
            .burn(key.0.as_str(), passphrase)
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
