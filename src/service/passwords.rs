//! Generated passwords (Onetime Secret's `generate`): a length checked against the generator's
//! range, characters drawn from the OS's randomness, as the service's errors.

use super::ServiceError;
use crate::crypto::password::{MAX_LENGTH, MIN_LENGTH, PasswordError, generate_password};
use crate::domain::DomainError;

pub use crate::crypto::password::DEFAULT_LENGTH;

/// Refuses a password length out of the generator's range.
///
/// # Errors
/// [`ServiceError::Invalid`] naming the range.
pub fn check_length(length: i64) -> Result<(), ServiceError> {
    let in_range =
        usize::try_from(length).is_ok_and(|length| (MIN_LENGTH..=MAX_LENGTH).contains(&length));
    if in_range {
        return Ok(());
    }
    Err(DomainError::InvalidLength {
        min: MIN_LENGTH,
        max: MAX_LENGTH,
    }
    .into())
}

/// A new password of `length` characters.
///
/// # Errors
/// [`ServiceError::Invalid`] for a length out of range; the randomness error when the OS gives
/// none.
pub fn generate(length: usize) -> Result<String, ServiceError> {
    generate_password(length).map_err(|err| match err {
        PasswordError::Length(invalid) => invalid.into(),
        PasswordError::Rng(rng) => rng.into(),
    })
}
