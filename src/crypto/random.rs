//! Randomness, always from the OS RNG.
//!
//! A create needs four or five small values (two keys, nonces); one `getrandom` call per value
//! cost a few percent of a create's CPU. So each thread fetches OS randomness 256 bytes at a time
//! and hands it out in order: every byte still comes from the OS RNG, none is handed out twice,
//! and a byte is wiped from the buffer as it is handed out.

use std::cell::RefCell;

use zeroize::Zeroize;

use super::CryptoError;
use crate::domain::{ApiToken, ReceiptKey, SecretKey};

/// Bytes fetched from the OS per refill.
const POOL_LEN: usize = 256;

/// OS randomness fetched ahead, on one thread.
struct Pool {
    bytes: [u8; POOL_LEN],
    /// Bytes before this index were handed out (and wiped).
    used: usize,
}

impl Pool {
    /// Fills `out` from the pool, refilling it from the OS first when too little is left.
    fn take(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        if out.len() > POOL_LEN - self.used {
            getrandom::fill(&mut self.bytes).map_err(CryptoError::Rng)?;
            self.used = 0;
        }
        let fresh = &mut self.bytes[self.used..self.used + out.len()];
        out.copy_from_slice(fresh);
        fresh.zeroize();
        self.used += out.len();
        Ok(())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

thread_local! {
    /// Starts empty: the first use fills it.
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            bytes: [0; POOL_LEN],
            used: POOL_LEN,
        })
    };
}

/// `N` bytes from the OS RNG.
///
/// # Errors
/// [`CryptoError::Rng`] when the OS cannot provide randomness.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    if N > POOL_LEN / 4 {
        getrandom::fill(&mut buf).map_err(CryptoError::Rng)?;
    } else {
        POOL.with(|pool| pool.borrow_mut().take(&mut buf))?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_drawn_in_a_row_never_repeat_and_span_refills() {
        let mut seen = std::collections::HashSet::new();
        // 16-byte draws: 16 per pool, so this crosses many refills.
        for _ in 0..1000 {
            let value: [u8; 16] = random_bytes().expect("randomness");
            assert!(seen.insert(value), "a value was handed out twice");
        }
    }

    #[test]
    fn a_handed_out_value_is_wiped_from_the_pool() {
        let value: [u8; 32] = random_bytes().expect("randomness");
        POOL.with(|pool| {
            let pool = pool.borrow();
            assert!(pool.bytes[..pool.used].iter().all(|b| *b == 0));
            assert!(!pool.bytes.windows(32).any(|w| w == value));
        });
    }

    #[test]
    fn large_draws_come_straight_from_the_os_and_leave_the_pool_alone() {
        let _: [u8; 16] = random_bytes().expect("randomness");
        let used = POOL.with(|pool| pool.borrow().used);
        let large: [u8; 128] = random_bytes().expect("randomness");
        assert_eq!(POOL.with(|pool| pool.borrow().used), used);
        assert_ne!(large, [0; 128]);
    }
}
