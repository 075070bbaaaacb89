//! The rules of burnbox in one place: creating, reading, revealing and burning secrets, whatever
//! dialect asked. The API layers translate HTTP to these calls and back; this layer knows nothing
//! of HTTP.

pub mod accounts;
mod caller;
mod error;
pub mod passwords;
pub mod ratelimit;
mod receipts;
mod secrets;
pub mod slots;
pub mod tiers;
mod upload;

pub use crate::actors::FileStream;
pub use caller::Caller;
pub use error::ServiceError;
pub use receipts::Receipt;
pub use secrets::{Created, KeyKind, NewSecret, Revelation, SecretOptions, SecretService, Status};
pub use tiers::Limits;
pub use upload::FileUpload;
