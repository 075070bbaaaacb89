//! What every dialect's error type provides, and the macro that turns it into any operation's
//! response enum, so each dialect maps errors to HTTP in one place.

use poem::http::StatusCode;
use poem::http::header::RETRY_AFTER;
use poem::{IntoResponse, Response};
use poem_openapi::types::ToJSON;

/// An error response: `body` as JSON with `status`, and `Retry-After` when given.
pub fn error_response(
    status: StatusCode,
    body: &impl ToJSON,
    retry_after: Option<u64>,
) -> Response {
    let json = body.to_json().unwrap_or_default();
    let mut response = poem::web::Json(json).with_status(status).into_response();
    if let Some(secs) = retry_after {
        response.headers_mut().insert(RETRY_AFTER, secs.into());
    }
    response
}

/// What was wrong with a request the framework could not parse, naming the parameter when there
/// is one but never echoing the client's value (it may be a secret).
pub fn describe_request_error(err: &poem::Error) -> String {
    use poem_openapi::error::{
        ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    };
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        format!("parameter '{}' has an invalid value", param.name)
    } else if let Some(path) = err.downcast_ref::<ParsePathError>() {
        format!("path parameter '{}' has an invalid value", path.name)
    } else if err.downcast_ref::<ContentTypeError>().is_some() {
        "the Content-Type is missing or not supported here".to_owned()
    } else if err.downcast_ref::<ParseRequestPayloadError>().is_some() {
        "the body is not valid or a field has the wrong type".to_owned()
    } else {
        "the request could not be read".to_owned()
    }
}

/// An error of one dialect: a status and that dialect's documented body.
pub trait DialectError: Sized {
    /// The JSON body the dialect documents for errors.
    type Body;
    /// The HTTP status as a number.
    fn status_u16(&self) -> u16;
    /// The body.
    fn into_body(self) -> Self::Body;
    /// The dialect's 500.
    fn internal() -> Self;
    /// The dialect's answer to a request the framework could not parse.
    fn from_request_error(err: &poem::Error) -> Self;
    /// Seconds the client should wait (for a 429 or a 503).
    fn retry_after(&self) -> Option<u64>;
}

/// `Retry-After` of a 503 whose cause does not say when to come back (a store that cannot be
/// reached): long enough not to hammer it, short enough for a blip.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Implements `From<$error>` for an operation's response enum, mapping each status it declares to
/// its variant, 429 to its `TooManyRequests` variant and 503 to the variant named after
/// `503 =>` (both with `Retry-After`), 500 to its
/// `InternalError` variant with its own body, and anything else to `InternalError` with the
/// dialect's generic body; and defines the function poem-openapi calls when it cannot parse the
/// request (`#[oai(bad_request_handler = ...)]`).
macro_rules! error_variants {
    ($response:ident, $error:ty, $bad_request:ident, { $($status:literal => $variant:ident),* $(,)? } $(, 503 => $unavailable:ident)?) => {
        impl From<$error> for $response {
            fn from(err: $error) -> Self {
                use $crate::api::dialect_error::DialectError as _;
                match err.status_u16() {
                    429 => {
                        let retry_after = err.retry_after().unwrap_or(1);
                        Self::TooManyRequests(poem_openapi::payload::Json(err.into_body()), retry_after)
                    }
                    $(503 => {
                        let retry_after = err
                            .retry_after()
                            .unwrap_or($crate::api::dialect_error::UNAVAILABLE_RETRY_AFTER_SECS);
                        Self::$unavailable(poem_openapi::payload::Json(err.into_body()), retry_after)
                    })?
                    $($status => Self::$variant(poem_openapi::payload::Json(err.into_body())),)*
                    // A 500 keeps its own body (a hint may say what failed, never a secret).
                    500 => Self::InternalError(poem_openapi::payload::Json(err.into_body())),
                    _ => Self::InternalError(poem_openapi::payload::Json(
                        <$error as $crate::api::dialect_error::DialectError>::internal().into_body(),
                    )),
                }
            }
        }

        fn $bad_request(err: poem::Error) -> $response {
            <$error as $crate::api::dialect_error::DialectError>::from_request_error(&err).into()
        }
    };
}
pub(crate) use error_variants;
