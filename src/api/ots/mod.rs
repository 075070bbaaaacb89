//! The Onetime Secret v1 dialect (`/api/v1`): form, JSON or query parameters, HTTP Basic or
//! anonymous callers, the receipt object with its v0.24 alias fields, and errors as
//! `{error, message, field, error_id}`.

mod context;
mod error;
mod handlers;
mod models;
mod receipt;
mod responses;
mod strict_text;

pub use error::{OtsError, OtsErrorBody};
pub use handlers::OtsApi;
pub use strict_text::refuse_non_text;
