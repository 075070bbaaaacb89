//! Generated passwords (Onetime Secret's `generate`): the length checked, the characters drawn
//! from the OS's randomness, as the service's errors.

use super::ServiceError;
use crate::crypto::password::generate_password;
use crate::domain::PasswordLength;

/// `length` as a generated password's length.
///
/// # Errors
/// [`ServiceError::Invalid`] naming the range.
pub fn check_length(length: i64) -> Result<PasswordLength, ServiceError> {
    Ok(PasswordLength::parse(length)?)
}

/// A new password of `length` characters.
///
/// # Errors
/// The randomness error when the OS gives none.
pub fn generate(length: PasswordLength) -> Result<String, ServiceError> {
    Ok(generate_password(length)?)
}
