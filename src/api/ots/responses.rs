//! Each operation's answers: the statuses it documents, with their bodies, and the dialect's
//! error mapped onto them.

use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use super::models::{BurnedReceipt, ReceiptObject, RevealedSecret, SystemStatus};
use super::{OtsError, OtsErrorBody};
use crate::api::dialect_error::error_variants;

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
