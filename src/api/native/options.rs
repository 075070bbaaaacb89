//! The options every new secret takes (TTL, views, passphrase, page flags), checked once for the
//! JSON body and the multipart form alike.

use poem_openapi::types::MaybeUndefined;

use crate::domain::{Passphrase, Ttl, ViewLimit};
use crate::service::{Caller, SecretOptions, SecretService, ServiceError};

/// The options as they came off the wire.
#[derive(Default, Clone)]
pub struct RawOptions {
    /// `ttl`, in seconds.
    pub ttl: Option<i64>,
    /// `maxViews`: absent (1), null (unlimited) or a number.
    pub max_views: MaybeUndefined<i64>,
    /// `passphrase`; empty means none.
    pub passphrase: Option<String>,
    /// `oneClickRetrieval` (default true).
    pub one_click_retrieval: Option<bool>,
    /// `allowDeletion` (default true).
    pub allow_deletion: Option<bool>,
    /// The content came encrypted by the sender's client (`{ciphertext, iv}`, or a form's
    /// `encrypted` flag).
    pub end_to_end: bool,
}

impl std::fmt::Debug for RawOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawOptions")
            .field("ttl", &self.ttl)
            .field("max_views", &self.max_views)
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field("one_click_retrieval", &self.one_click_retrieval)
            .field("allow_deletion", &self.allow_deletion)
            .field("end_to_end", &self.end_to_end)
            .finish()
    }
}

impl RawOptions {
    /// Checks the options against `caller`'s tier.
    ///
    /// # Errors
    /// The domain's refusal of a TTL, view limit or passphrase.
    pub fn check(
        self,
        service: &SecretService,
        caller: &Caller,
    ) -> Result<SecretOptions, ServiceError> {
        let limits = service.limits();
        let ttl = Ttl::parse(self.ttl, limits.ttl_for(caller))?;
        let views = match self.max_views {
            MaybeUndefined::Undefined => ViewLimit::Limited(1),
            MaybeUndefined::Null => ViewLimit::Unlimited,
            MaybeUndefined::Value(n) => ViewLimit::parse(Some(n))?,
        };
        let views = limits.check_views(caller, views)?;
        let passphrase = self
            .passphrase
            .filter(|p| !p.is_empty())
            .map(Passphrase::parse)
            .transpose()?;
        Ok(SecretOptions {
            ttl,
            views,
            passphrase,
            one_click_retrieval: self.one_click_retrieval.unwrap_or(true),
            allow_deletion: self.allow_deletion.unwrap_or(true),
            recipients: Vec::new(),
            end_to_end: self.end_to_end,
        })
    }
}
