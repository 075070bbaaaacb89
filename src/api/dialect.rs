//! What every API dialect's error type provides, and the macro that turns it into any operation's
//! response enum, so each dialect maps errors to HTTP in one place.

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
}

/// Implements `From<$error>` for an operation's response enum, mapping each status it declares to
/// its variant (anything else is answered as its `InternalError` variant), and defines the function
/// poem-openapi calls when it cannot parse the request (`#[oai(bad_request_handler = ...)]`).
macro_rules! error_variants {
    ($response:ident, $error:ty, $bad_request:ident, { $($status:literal => $variant:ident),* $(,)? }) => {
        impl From<$error> for $response {
            fn from(err: $error) -> Self {
                use $crate::api::dialect::DialectError as _;
                match err.status_u16() {
                    $($status => Self::$variant(poem_openapi::payload::Json(err.into_body())),)*
                    _ => Self::InternalError(poem_openapi::payload::Json(
                        <$error as $crate::api::dialect::DialectError>::internal().into_body(),
                    )),
                }
            }
        }

        fn $bad_request(err: poem::Error) -> $response {
            <$error as $crate::api::dialect::DialectError>::from_request_error(&err).into()
        }
    };
}
pub(crate) use error_variants;
