//! Randomness, always from the OS RNG.

use super::CryptoError;
use crate::domain::{ApiToken, ReceiptKey, SecretKey};

/// `N` bytes from the OS RNG.
///
/// # Errors
/// [`CryptoError::Rng`] when the OS cannot provide randomness.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(CryptoError::Rng)?;
    Ok(buf)
}

/// A fresh secret key (the time now and 128 random bits).
///
/// # Errors
/// [`CryptoError::Rng`] when the OS cannot provide randomness.
pub fn new_secret_key() -> Result<SecretKey, CryptoError> {
    Ok(SecretKey::generate(
        crate::clock::now().as_millis(),
        random_bytes()?,
    ))
}

/// A fresh receipt key (the time now and 128 random bits).
///
/// # Errors
/// [`CryptoError::Rng`] when the OS cannot provide randomness.
pub fn new_receipt_key() -> Result<ReceiptKey, CryptoError> {
    Ok(ReceiptKey::generate(
        crate::clock::now().as_millis(),
        random_bytes()?,
    ))
}

/// A fresh API token (`ks_live_` and 32 random base-36 characters).
///
/// # Errors
/// [`CryptoError::Rng`] when the OS cannot provide randomness.
pub fn new_api_token() -> Result<ApiToken, CryptoError> {
    Ok(ApiToken::from_random_bytes(random_bytes()?))
}
