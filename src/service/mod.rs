//! The rules of burnbox in one place: creating, reading, revealing and burning secrets, whatever
//! dialect asked. The API layers translate HTTP to these calls and back; this layer knows nothing
//! of HTTP.

mod error;
mod secrets;

pub use error::ServiceError;
pub use secrets::{Created, KeyKind, Limits, NewSecret, Receipt, SecretService, Status};
