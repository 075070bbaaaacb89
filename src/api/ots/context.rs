//! What the operations share: one request's service, link base and caller, and the parsing of
//! the parameters they have in common.

use poem::Request;
use poem_openapi::types::MaybeUndefined;

use super::OtsError;
use super::models::{BurnedReceipt, ReceiptObject, RevealedSecret};
use super::receipt::{ReceiptParts, receipt_object};
use crate::api::public_url::PublicUrl;
use crate::api::schema::Recipients;
use crate::domain::recipient::obscure_list;
use crate::domain::{
    AnyKey, DomainError, Passphrase, PasswordLength, SecretKey, SecretText, Ttl, ViewLimit,
};
use crate::service::{Caller, NewSecret, SecretOptions, SecretService, ServiceError, passwords};
use crate::telemetry;

/// Shortest key the v1 dialect looks up; shorter ones are not found without a lookup.
pub(super) const MIN_KEY_LEN: usize = 20;

/// The request's service, link base and caller.
pub(super) struct Context<'a> {
    service: &'a SecretService,
    base_url: &'a str,
    caller: &'a Caller,
}

impl<'a> Context<'a> {
    pub(super) fn new(
        service: &'a SecretService,
        public_url: &'a PublicUrl,
        caller: &'a Caller,
    ) -> Self {
        Self {
            service,
            base_url: &public_url.0,
            caller,
        }
    }

    pub(super) async fn create(&self, params: NewParams) -> Result<ReceiptObject, OtsError> {
        let limits = self.service.limits();
        let new = NewSecret {
            text: SecretText::parse(params.text, limits.max_secret_bytes_for(self.caller))
                .map_err(ServiceError::from)?,
            options: SecretOptions {
                ttl: Ttl::clamped(params.ttl, limits.ots_ttl_for(self.caller)),
                views: ViewLimit::Limited(1),
                passphrase: parse_passphrase(params.passphrase).map_err(ServiceError::from)?,
                one_click_retrieval: true,
                allow_deletion: false,
                recipients: obscure_list(params.recipient.as_deref().unwrap_or_default())
                    .map_err(ServiceError::from)?,
                end_to_end: false,
            },
        };
        let created = self.service.create(new, self.caller).await?;
        telemetry::secret_event(telemetry::CREATED, "ots");
        Ok(receipt_object(
            ReceiptParts {
                meta: &created.meta,
                metadata_key: created.receipt_key.expose(),
                secret_key: &created.secret_key,
                orphaned: false,
                value: params.generated,
            },
            self.base_url,
        ))
    }

    pub(super) async fn receipt(&self, raw_key: &str) -> Result<ReceiptObject, OtsError> {
        let key = v1_key(raw_key)?.as_receipt();
        let receipt = self.service.read_receipt(&key, self.caller).await?;
        Ok(receipt_object(
            ReceiptParts {
                meta: &receipt.meta,
                metadata_key: raw_key,
                secret_key: &receipt.secret_key,
                orphaned: receipt.orphaned,
                value: None,
            },
            self.base_url,
        ))
    }

    pub(super) async fn burn(
        &self,
        raw_key: &str,
        passphrase: Option<String>,
    ) -> Result<BurnedReceipt, OtsError> {
        let key = v1_key(raw_key)?.as_receipt();
        // A passphrase that could never be right is simply wrong.
        let passphrase = parse_passphrase(passphrase).map_err(|_| OtsError::wrong_passphrase())?;
        let (meta, secret_key) = self.service.burn_with_passphrase(&key, passphrase).await?;
        telemetry::secret_event(telemetry::BURNED, "ots");
        let shortkey = secret_key.expose().chars().take(8).collect();
        let state = receipt_object(
            ReceiptParts {
                meta: &meta,
                metadata_key: raw_key,
                secret_key: &secret_key,
                orphaned: false,
                value: None,
            },
            self.base_url,
        );
        Ok(BurnedReceipt {
            state,
            secret_shortkey: shortkey,
        })
    }

    pub(super) async fn recent(&self) -> Result<Vec<ReceiptObject>, OtsError> {
        let receipts = self.service.recent(self.caller).await?;
        Ok(receipts
            .into_iter()
            .map(|(receipt_key, meta)| {
                let mut object = receipt_object(
                    ReceiptParts {
                        meta: &meta,
                        metadata_key: receipt_key.expose(),
                        // Not shown in lists: the key stays with whoever opened the receipt.
                        secret_key: &SecretKey::generate(0, [0; 16]),
                        orphaned: false,
                        value: None,
                    },
                    self.base_url,
                );
                // "the secret key value will always be null" (the v1 documentation).
                object.secret_key = MaybeUndefined::Null;
                object.secret_identifier = MaybeUndefined::Null;
                object
            })
            .collect())
    }
}

/// What a new v1 secret is made from.
pub(super) struct NewParams {
    pub(super) text: Option<String>,
    pub(super) ttl: Option<i64>,
    pub(super) passphrase: Option<String>,
    pub(super) recipient: Option<String>,
    pub(super) generated: Option<String>,
}

/// The secret in the query string, where clients older than the documented body put it. The
/// document leaves it out, so that it can say the body's `secret` is required.
pub(super) fn secret_in_query(request: &Request) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Query {
        secret: Option<String>,
    }
    request
        .params::<Query>()
        .ok()
        .and_then(|query| query.secret)
}

/// The body's value of a parameter, else the query's; an empty value counts as absent.
pub(super) fn either(body: Option<String>, query: Option<String>) -> Option<String> {
    body.filter(|v| !v.is_empty())
        .or(query.filter(|v| !v.is_empty()))
}

fn parse_passphrase(raw: Option<String>) -> Result<Option<Passphrase>, DomainError> {
    raw.filter(|p| !p.is_empty())
        .map(Passphrase::parse)
        .transpose()
}

/// A v1 key: alphanumeric and at least 20 characters, or not found without a lookup.
fn v1_key(raw: &str) -> Result<AnyKey, OtsError> {
    if raw.len() < MIN_KEY_LEN {
        return Err(OtsError::unknown_secret());
    }
    AnyKey::parse(raw).map_err(|_| OtsError::unknown_secret())
}

pub(super) async fn reveal(
    service: &SecretService,
    raw_key: &str,
    passphrase: Option<String>,
) -> Result<RevealedSecret, OtsError> {
    let key = v1_key(raw_key)?.as_secret();
    let passphrase = parse_passphrase(passphrase).map_err(|_| OtsError::wrong_passphrase())?;
    let (text, _) = service.reveal_text(&key, passphrase).await?;
    telemetry::secret_event(telemetry::REVEALED, "ots");
    Ok(RevealedSecret {
        value: text.expose().to_owned(),
        secret_key: raw_key.to_owned(),
        share_domain: String::new(),
    })
}

/// The body's recipients, else the query's; a malformed list is refused wherever it was sent.
pub(super) fn recipients(body: Recipients, query: Recipients) -> Result<Option<String>, OtsError> {
    for list in [&body.0, &query.0].into_iter().flatten() {
        obscure_list(list).map_err(ServiceError::from)?;
    }
    Ok(either(body.0, query.0))
}

/// A generated password of the asked length (the default when none is asked).
pub(super) fn generated_password(length: Option<i64>) -> Result<String, OtsError> {
    let length = match length {
        Some(length) => passwords::check_length(length)?,
        None => PasswordLength::DEFAULT,
    };
    Ok(passwords::generate(length)?)
}
