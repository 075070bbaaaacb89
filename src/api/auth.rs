//! The security schemes both dialects document: an API token as a Bearer token or as the password
//! of HTTP Basic (`email:token`), or nothing (anonymous) where an operation allows it. The guard does the checking; handlers
//! take [`ApiAuth`] only so that the OpenAPI document shows the schemes on every operation.

use poem_openapi::SecurityScheme;
use poem_openapi::auth::{Basic, Bearer};

/// `Authorization: Bearer ks_live_…`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "ks_live_<32 characters>")]
pub struct ApiKey(
    #[expect(
        dead_code,
        reason = "checked by the guard; here for the OpenAPI document"
    )]
    Bearer,
);

/// HTTP Basic: the account's e-mail as user name, an API token as password.
#[derive(SecurityScheme)]
#[oai(ty = "basic")]
pub struct ApiToken(
    #[expect(
        dead_code,
        reason = "checked by the guard; here for the OpenAPI document"
    )]
    Basic,
);

/// Any one of the schemes, or none (an anonymous caller).
#[derive(SecurityScheme)]
pub enum ApiAuth {
    /// A Bearer API key.
    ApiKey(ApiKey),
    /// HTTP Basic with an API token.
    ApiToken(ApiToken),
    /// No credentials.
    #[oai(fallback)]
    Anonymous,
}

/// One of the schemes, required: operations for account holders only. Without credentials the
/// operation answers 401 before its handler runs.
#[derive(SecurityScheme)]
pub enum AccountAuth {
    /// A Bearer API key.
    ApiKey(ApiKey),
    /// HTTP Basic with an API token.
    ApiToken(ApiToken),
}
