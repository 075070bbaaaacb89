//! The one TLS provider of the process. Two are compiled in (aws-lc-rs, which the S3 client uses,
//! and ring, which the HTTP client of the command line brings), and rustls then picks no default:
//! whatever builds a TLS configuration from the default (the Redis client, the command line's
//! HTTP client) first makes aws-lc-rs the default.

/// Makes aws-lc-rs the process's TLS provider, unless one already is.
pub fn use_one_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed one first, which is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}
