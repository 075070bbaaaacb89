//! The dialect's errors: `{error, message, field, error_id}` with the statuses of the Onetime
//! Secret documentation, and the one mapping from service errors to them. `message` is always
//! present: Onetime Secret clients show it.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use poem_openapi::types::Example;

use crate::api::dialect_error::{DialectError, describe_request_error, error_response};
use crate::api::request_id;
use crate::domain::DomainError;
use crate::service::ServiceError;

/// The error body of every failed v1 request.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct OtsErrorBody {
    /// Error type identifier: `FormError`, `NotFound`, `Unauthorized`, `RateLimited` or
    /// `ServerError`.
    pub error: String,
    /// Human-readable message.
    pub message: String,
    /// The parameter that caused the error, if one did.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    /// The request id, also in the `X-Request-Id` header.
    pub error_id: String,
}

impl Example for OtsErrorBody {
    fn example() -> Self {
        Self {
            error: "FormError".into(),
            message: "You did not provide anything to share".into(),
            field: Some("secret".into()),
            error_id: "req_m4kbz6_mno345".into(),
        }
    }
}

/// A v1 error with its status.
#[derive(Debug, Clone)]
pub struct OtsError {
    status: StatusCode,
    body: OtsErrorBody,
    retry_after: Option<u64>,
}

impl OtsError {
    fn new(
        status: StatusCode,
        error: &str,
        message: impl Into<String>,
        field: Option<&str>,
    ) -> Self {
        Self {
            status,
            body: OtsErrorBody {
                error: error.to_owned(),
                message: message.into(),
                field: field.map(str::to_owned),
                error_id: request_id::current(),
            },
            retry_after: None,
        }
    }

    /// 429: over a quota, or too many wrong passphrases.
    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "RateLimited", message, None)
        }
    }

    /// 503: every passphrase-hashing turn is taken; nothing was stored or counted.
    pub fn overloaded(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The server is checking as many passphrases as it can; nothing was stored and no view was used. Retry in a moment.",
                None,
            )
        }
    }

    /// 503: as many large secrets as the server takes at once (or as this caller may send) are
    /// arriving; nothing was stored.
    pub fn busy() -> Self {
        Self {
            retry_after: Some(60),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The server is receiving as many large secrets as it takes at once; nothing was stored. Retry in a minute.",
                None,
            )
        }
    }

    /// 403: the request needs more than the caller's credentials allow.
    pub fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message, None)
    }

    /// 400: a parameter is missing or invalid.
    pub fn form(message: impl Into<String>, field: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "FormError", message, Some(field))
    }

    /// 401: credentials missing (where required) or wrong.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Not authorized",
            None,
        )
    }

    /// 404: no such secret or receipt, or no longer readable.
    pub fn unknown_secret() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", "Unknown secret", None)
    }

    /// 404 for a path nothing serves, 405 for a method its route does not take.
    pub fn no_route(method_not_allowed: bool) -> Self {
        if method_not_allowed {
            Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "This path does not take this method",
                None,
            )
        } else {
            Self::new(StatusCode::NOT_FOUND, "NotFound", "Not found", None)
        }
    }

    /// 422: wrong or missing passphrase.
    pub fn wrong_passphrase() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "FormError",
            "Double check that passphrase",
            Some("passphrase"),
        )
    }

    /// 400: a request body over the server's limit; `field` names what made it large.
    pub fn body_too_large(max_bytes: usize, field: &str) -> Self {
        Self::form(
            format!("The request is too large ({max_bytes} bytes at most)"),
            field,
        )
    }
}

impl DialectError for OtsError {
    fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    type Body = OtsErrorBody;

    fn status_u16(&self) -> u16 {
        self.status.as_u16()
    }

    fn into_body(self) -> OtsErrorBody {
        self.body
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServerError",
            "An unexpected error occurred",
            None,
        )
    }

    fn from_request_error(err: &poem::Error) -> Self {
        if err.is::<poem_openapi::error::AuthorizationError>() {
            return Self::unauthorized();
        }
        Self::new(
            StatusCode::BAD_REQUEST,
            "FormError",
            format!(
                "The request could not be read: {}",
                describe_request_error(err)
            ),
            None,
        )
    }
}

impl From<ServiceError> for OtsError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid(invalid) => match invalid {
                DomainError::MissingSecret => {
                    Self::form("You did not provide anything to share", "secret")
                }
                DomainError::ContentTooLarge { limit, .. } => Self::form(
                    format!("The secret is too large ({limit} bytes at most)"),
                    "secret",
                ),
                DomainError::InvalidKey => Self::unknown_secret(),
                DomainError::InvalidEmail | DomainError::InvalidToken => Self::unauthorized(),
                other @ DomainError::MalformedEncrypted(_) => {
                    Self::form(other.to_string(), "secret")
                }
                DomainError::InvalidRecipient => {
                    Self::form("Recipient must be a valid e-mail address", "recipient")
                }
                other @ DomainError::InvalidLength { .. } => {
                    Self::form(format!("Generated password {other}"), "length")
                }
                other @ DomainError::InvalidPassphrase { .. } => {
                    Self::form(other.to_string(), "passphrase")
                }
                other @ (DomainError::InvalidTtl { .. } | DomainError::InvalidViewLimit { .. }) => {
                    Self::form(other.to_string(), "ttl")
                }
            },
            ServiceError::NotFound | ServiceError::Gone(_) => Self::unknown_secret(),
            ServiceError::WrongPassphrase { .. } => Self::wrong_passphrase(),
            ServiceError::Unauthorized | ServiceError::AuthenticationRequired => {
                Self::unauthorized()
            }
            ServiceError::SendOnlyKey => Self::forbidden(
                "This API key may only send secrets: listing and reading receipts need a full key (a receipt also opens with its key alone, without credentials)",
            ),
            ServiceError::NotViewedYet => {
                Self::forbidden("The recipient may delete a secret only after viewing it")
            }
            ServiceError::AccountExists => Self::internal(),
            ServiceError::RateLimited { retry_after_secs } => Self::too_many(
                format!("Rate limit exceeded; retry in {retry_after_secs} seconds"),
                retry_after_secs,
            ),
            ServiceError::Locked { retry_after_secs } => Self::too_many(
                format!("Too many wrong passphrases; retry in {retry_after_secs} seconds"),
                retry_after_secs,
            ),
            ServiceError::NotText => Self::form(
                "This secret is a file, which the v1 API cannot return: view it with POST /api/secrets/{key} (the Burn the Secret API). No view was used.",
                "key",
            ),
            ServiceError::Integrity(what) => {
                tracing::error!(error = what, "a stored file failed its integrity check");
                Self::internal()
            }
            ServiceError::Busy => Self::busy(),
            ServiceError::Overloaded { retry_after_secs } => Self::overloaded(retry_after_secs),
            ServiceError::Unavailable(message) | ServiceError::Internal(message) => {
                tracing::error!(error = %message, "request failed");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for OtsError {
    fn into_response(self) -> Response {
        error_response(self.status, &self.body, self.retry_after)
    }
}
