//! The dialect's errors: codes, statuses, messages and hints as the Burn the Secret documentation
//! lists them, and the one mapping from service errors to them.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::{Enum, Object};

use crate::api::dialect_error::{DialectError, describe_request_error, error_response};
use crate::api::request_id;
use crate::domain::{DomainError, Gone, ViewLimit};
use crate::service::ServiceError;

/// Machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Key format is invalid (must be alphanumeric).
    InvalidKey,
    /// Request body is not valid JSON.
    InvalidJson,
    /// No secret content provided in request.
    MissingSecret,
    /// Secret exceeds size limit for your tier.
    ContentTooLarge,
    /// `ttl` outside the accepted range (burnbox extension).
    InvalidTtl,
    /// `maxViews` outside 1–999 (burnbox extension).
    InvalidMaxViews,
    /// Another parameter has an invalid value (burnbox extension).
    InvalidParameter,
    /// Secret doesn't exist or has been deleted.
    NotFound,
    /// Wrong passphrase for protected secret.
    InvalidPassphrase,
    /// The API key is unknown, revoked or malformed (burnbox extension).
    InvalidApiKey,
    /// This needs an API key (burnbox extension).
    AuthenticationRequired,
    /// The API key's account may not do this (burnbox extension).
    Forbidden,
    /// Secret was manually deleted by sender.
    SecretBurned,
    /// Secret has passed its expiration time.
    SecretExpired,
    /// Secret has reached maximum view count.
    MaxViewsReached,
    /// Too many requests, check Retry-After header.
    RateLimitExceeded,
    /// Server error, contact support if persistent.
    InternalError,
    /// A storage service (the file store) is unavailable; nothing was stored or counted
    /// (burnbox extension).
    ServiceUnavailable,
    /// The path does not take this HTTP method (burnbox extension).
    MethodNotAllowed,
}

impl ErrorCode {
    /// Every code, in the order the document lists them.
    pub const ALL: [Self; 19] = [
        Self::InvalidKey,
        Self::InvalidJson,
        Self::MissingSecret,
        Self::ContentTooLarge,
        Self::InvalidTtl,
        Self::InvalidMaxViews,
        Self::InvalidParameter,
        Self::NotFound,
        Self::InvalidPassphrase,
        Self::InvalidApiKey,
        Self::AuthenticationRequired,
        Self::Forbidden,
        Self::SecretBurned,
        Self::SecretExpired,
        Self::MaxViewsReached,
        Self::RateLimitExceeded,
        Self::InternalError,
        Self::ServiceUnavailable,
        Self::MethodNotAllowed,
    ];

    /// The HTTP status, short message and default hint of a code.
    pub fn describe(self) -> (StatusCode, &'static str, &'static str) {
        use ErrorCode::*;
        match self {
            InvalidKey => (
                StatusCode::BAD_REQUEST,
                "Invalid key",
                "Keys contain only letters and digits. Check the link you were given.",
            ),
            InvalidJson => (
                StatusCode::BAD_REQUEST,
                "Invalid JSON",
                "Send a JSON object with the header 'Content-Type: application/json'.",
            ),
            MissingSecret => (
                StatusCode::BAD_REQUEST,
                "Missing secret",
                "Include a non-empty 'secret' string in the request body.",
            ),
            ContentTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Content too large",
                "The secret exceeds the size limit for your tier.",
            ),
            InvalidTtl => (
                StatusCode::BAD_REQUEST,
                "Invalid ttl",
                "'ttl' is in seconds, from 1800 (30 minutes) to 86313600 (999 days).",
            ),
            InvalidMaxViews => (
                StatusCode::BAD_REQUEST,
                "Invalid maxViews",
                "'maxViews' is 1 to 999, or null for unlimited views.",
            ),
            InvalidParameter => (
                StatusCode::BAD_REQUEST,
                "Invalid parameter",
                "Check the request parameters against the API documentation.",
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "Secret not found",
                "The secret doesn't exist or has been deleted. Check the key.",
            ),
            InvalidPassphrase => (
                StatusCode::UNAUTHORIZED,
                "Invalid passphrase",
                "The secret is password-protected. Include the correct 'passphrase' in your request body.",
            ),
            InvalidApiKey => (
                StatusCode::UNAUTHORIZED,
                "Invalid API key",
                "Send a valid key as 'Authorization: Bearer ks_live_...' (or HTTP Basic email:key), or none at all.",
            ),
            AuthenticationRequired => (
                StatusCode::UNAUTHORIZED,
                "Authentication required",
                "This needs an API key: send 'Authorization: Bearer ks_live_...'.",
            ),
            Forbidden => (
                StatusCode::FORBIDDEN,
                "Forbidden",
                "The credentials sent do not allow this request.",
            ),
            SecretBurned => (
                StatusCode::GONE,
                "Secret burned",
                "The sender deleted this secret. Ask them to share it again.",
            ),
            SecretExpired => (
                StatusCode::GONE,
                "Secret expired",
                "The secret passed its expiration time. Ask the sender to share it again.",
            ),
            MaxViewsReached => (
                StatusCode::GONE,
                "Maximum views reached",
                "The secret was viewed as many times as the sender allowed. Ask them to share it again.",
            ),
            RateLimitExceeded => (
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded",
                "Too many requests. Wait for the number of seconds in the Retry-After header.",
            ),
            InternalError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
                "Something went wrong on our side. Retry later; contact the operator if it persists.",
            ),
            ServiceUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "The file store cannot be reached right now; nothing was stored and no view was used. Retry later.",
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "This path does not take this method. The API is described at /docs.",
            ),
        }
    }
}

/// The error body every failed request gets.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ErrorBody {
    /// Short human-readable message.
    pub error: String,
    /// Machine-readable code.
    pub code: ErrorCode,
    /// What to do about it.
    pub hint: String,
    /// The request id, also in the `X-Request-Id` header.
    pub request_id: String,
    /// For `INVALID_PASSPHRASE` once a wrong passphrase was counted: how many more wrong ones
    /// lock the secret (0: it is locked now) (burnbox extension).
    #[oai(skip_serializing_if_is_none)]
    pub tries_left: Option<u32>,
}

impl poem_openapi::types::Example for ErrorBody {
    fn example() -> Self {
        let (_, error, hint) = ErrorCode::InvalidPassphrase.describe();
        Self {
            error: error.to_owned(),
            code: ErrorCode::InvalidPassphrase,
            hint: hint.to_owned(),
            request_id: "req_m4kbz6_mno345".to_owned(),
            tries_left: Some(4),
        }
    }
}

/// An error with its status, ready to become any operation's response.
#[derive(Debug, Clone)]
pub struct NativeError {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body.
    pub body: ErrorBody,
    /// `Retry-After` seconds, for a 429.
    pub retry_after: Option<u64>,
}

impl NativeError {
    /// The error for `code` with its default hint.
    pub fn new(code: ErrorCode) -> Self {
        let (status, error, hint) = code.describe();
        Self::with_hint(code, status, error, hint.to_owned())
    }

    /// The answer to a request no route takes: a path nothing serves (404), or a method its
    /// route does not take (405).
    pub fn no_route(method_not_allowed: bool) -> Self {
        if method_not_allowed {
            return Self::new(ErrorCode::MethodNotAllowed);
        }
        let (status, _, _) = ErrorCode::NotFound.describe();
        Self::with_hint(
            ErrorCode::NotFound,
            status,
            "Not found",
            "No such endpoint. The API is described at /docs.".to_owned(),
        )
    }

    fn with_hint(code: ErrorCode, status: StatusCode, error: &str, hint: String) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: error.to_owned(),
                code,
                hint,
                request_id: request_id::current(),
                tries_left: None,
            },
            retry_after: None,
        }
    }

    /// A 429 with its `Retry-After`.
    pub fn too_many(hint: String, retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::hinted(ErrorCode::RateLimitExceeded, hint)
        }
    }

    /// The error for `code` with a specific hint.
    pub fn hinted(code: ErrorCode, hint: String) -> Self {
        let (status, error, _) = code.describe();
        Self::with_hint(code, status, error, hint)
    }

    /// A request body over the server's limit.
    pub fn body_too_large(max_bytes: usize) -> Self {
        Self::hinted(
            ErrorCode::ContentTooLarge,
            format!("Request bodies are limited to {max_bytes} bytes."),
        )
    }

    /// A request body that could not be read.
    pub fn unreadable_body(err: &std::io::Error) -> Self {
        Self::hinted(
            ErrorCode::InvalidJson,
            format!("The request body could not be read: {err}."),
        )
    }

    /// A request the framework could not parse (bad JSON, wrong content type, wrong field type).
    pub fn from_request_error(err: &poem::Error) -> Self {
        let reason = describe_request_error(err);
        Self::hinted(
            ErrorCode::InvalidJson,
            format!(
                "Send a JSON object with the header 'Content-Type: application/json' ({reason})."
            ),
        )
    }
}

impl DialectError for NativeError {
    type Body = ErrorBody;

    fn status_u16(&self) -> u16 {
        self.status.as_u16()
    }

    fn into_body(self) -> ErrorBody {
        self.body
    }

    fn internal() -> Self {
        Self::new(ErrorCode::InternalError)
    }

    fn from_request_error(err: &poem::Error) -> Self {
        NativeError::from_request_error(err)
    }

    fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }
}

impl From<ServiceError> for NativeError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid(invalid) => match invalid {
                DomainError::InvalidKey => Self::new(ErrorCode::InvalidKey),
                DomainError::InvalidEmail | DomainError::InvalidToken => {
                    Self::new(ErrorCode::InvalidApiKey)
                }
                DomainError::MissingSecret => Self::new(ErrorCode::MissingSecret),
                DomainError::ContentTooLarge { limit, .. } => Self::hinted(
                    ErrorCode::ContentTooLarge,
                    format!("Secrets are limited to {limit} bytes for your tier."),
                ),
                DomainError::InvalidTtl { min, max } => Self::hinted(
                    ErrorCode::InvalidTtl,
                    format!("'ttl' is in seconds, from {min} to {max}."),
                ),
                DomainError::InvalidViewLimit { max } => Self::hinted(
                    ErrorCode::InvalidMaxViews,
                    if max >= ViewLimit::MAX {
                        format!("'maxViews' is 1 to {max}, or null for unlimited views.")
                    } else {
                        format!(
                            "'maxViews' is 1 to {max} for your tier (unlimited views need an API key)."
                        )
                    },
                ),
                other @ (DomainError::InvalidPassphrase { .. }
                | DomainError::InvalidRecipient
                | DomainError::InvalidLength { .. }
                | DomainError::MalformedEncrypted(_)) => {
                    Self::hinted(ErrorCode::InvalidParameter, format!("{other}."))
                }
            },
            ServiceError::NotFound => Self::new(ErrorCode::NotFound),
            ServiceError::Gone(Gone::Burned) => Self::new(ErrorCode::SecretBurned),
            ServiceError::Gone(Gone::Expired) => Self::new(ErrorCode::SecretExpired),
            ServiceError::Gone(Gone::MaxViewsReached) => Self::new(ErrorCode::MaxViewsReached),
            ServiceError::WrongPassphrase { tries_left } => {
                let mut error = Self::new(ErrorCode::InvalidPassphrase);
                error.body.tries_left = tries_left;
                error
            }
            ServiceError::Unauthorized => Self::new(ErrorCode::InvalidApiKey),
            ServiceError::AuthenticationRequired => Self::new(ErrorCode::AuthenticationRequired),
            ServiceError::SendOnlyKey => Self::hinted(
                ErrorCode::Forbidden,
                "This API key may only send secrets: listing and reading receipts need a full key.".to_owned(),
            ),
            ServiceError::AccountExists => Self::new(ErrorCode::InternalError),
            ServiceError::NotViewedYet => Self::hinted(
                ErrorCode::Forbidden,
                "The recipient may delete a secret only after viewing it; the sender can burn it with the metadata key.".to_owned(),
            ),
            ServiceError::RateLimited { retry_after_secs } => Self::too_many(
                format!("Too many requests for your tier. Retry in {retry_after_secs} seconds."),
                retry_after_secs,
            ),
            ServiceError::Locked { retry_after_secs } => Self::too_many(
                format!(
                    "Too many wrong passphrases for this secret. Retry in {retry_after_secs} seconds; no view was used."
                ),
                retry_after_secs,
            ),
            ServiceError::Busy => Self {
                retry_after: Some(60),
                ..Self::hinted(
                    ErrorCode::ServiceUnavailable,
                    "The server is receiving as many files as it takes at once; nothing was stored. Retry in a minute.".into(),
                )
            },
            ServiceError::Overloaded { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::hinted(
                    ErrorCode::ServiceUnavailable,
                    "The server is checking as many passphrases as it can; nothing was stored and no view was used. Retry in a moment.".into(),
                )
            },
            ServiceError::Unavailable(message) => {
                tracing::error!(error = %message, "a storage service is unavailable");
                Self::new(ErrorCode::ServiceUnavailable)
            }
            ServiceError::Integrity(what) => {
                tracing::error!(error = what, "a stored file failed its integrity check");
                Self::hinted(
                    ErrorCode::InternalError,
                    "The stored file failed its integrity check and cannot be returned; no view was used. Contact the operator.".into(),
                )
            }
            ServiceError::NotText => Self::new(ErrorCode::InternalError),
            ServiceError::Internal(message) => {
                tracing::error!(error = %message, "request failed");
                Self::new(ErrorCode::InternalError)
            }
        }
    }
}

impl IntoResponse for NativeError {
    fn into_response(self) -> Response {
        error_response(self.status, &self.body, self.retry_after)
    }
}
