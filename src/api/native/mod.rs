//! The Burn the Secret dialect (`/api/secrets`): JSON bodies, camelCase fields, errors as
//! `{error, code, hint, requestId}`.

mod download;
mod error;
mod handlers;
mod models;
mod options;
mod upload;

pub use error::{ErrorBody, ErrorCode, NativeError};
pub use handlers::NativeApi;
pub use upload::{FORM_SCHEMA, is_multipart_form};
