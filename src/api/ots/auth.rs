//! Who is calling: HTTP Basic `username:apitoken`, or anonymous (`custid` "anon").
//!
//! Accounts and API tokens come later; until then no credentials are valid, so a caller who sends
//! any is refused rather than quietly treated as anonymous.

use poem::Request;
use poem::http::header::AUTHORIZATION;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Basic;

use super::OtsError;

/// HTTP Basic: the account's e-mail as user name, its API token as password.
#[derive(SecurityScheme)]
#[oai(ty = "basic")]
pub struct OtsBasic(
    #[expect(
        dead_code,
        reason = "no accounts exist until the accounts issue: every credential is refused"
    )]
    Basic,
);

/// Basic credentials, or none at all (anonymous).
#[derive(SecurityScheme)]
pub enum OtsAuth {
    /// Credentials were sent.
    Basic(#[expect(dead_code, reason = "no accounts exist until the accounts issue")] OtsBasic),
    /// No credentials: an anonymous caller.
    #[oai(fallback)]
    Anonymous,
}

/// An authenticated caller of the v1 dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials; `custid` is `anon`.
    Anonymous,
}

impl Caller {
    /// The `custid` of receipts this caller creates.
    pub fn custid(&self) -> &'static str {
        match self {
            Self::Anonymous => "anon",
        }
    }
}

/// Checks the credentials of a request.
///
/// # Errors
/// [`OtsError::unauthorized`] when credentials were sent and are not valid (including a malformed
/// `Authorization` header, which the framework would otherwise treat as none).
pub fn authenticate(auth: &OtsAuth, req: &Request) -> Result<Caller, OtsError> {
    match auth {
        OtsAuth::Basic(_) => Err(OtsError::unauthorized()),
        OtsAuth::Anonymous if req.headers().contains_key(AUTHORIZATION) => {
            Err(OtsError::unauthorized())
        }
        OtsAuth::Anonymous => Ok(Caller::Anonymous),
    }
}
