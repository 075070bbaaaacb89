//! Parameters and bodies of the v1 dialect, field for field as Onetime Secret documents them.

use poem_openapi::payload::{Form, Json};
use poem_openapi::types::{Example, MaybeUndefined};
use poem_openapi::{ApiRequest, Enum, Object};
use serde::Deserialize;

use crate::api::schema::{BoundedInt, Recipients, RequiredText, Seconds, Text};

/// Parameters of `share` (alias `create`).
#[derive(Default, Object, Deserialize)]
#[oai(example)]
pub struct ShareParams {
    /// The secret. Required (older clients may send it in the query string instead).
    #[serde(default)]
    pub secret: RequiredText,
    /// Seconds to live; clamped to 60 s – 7 days (30 days with an account). Default 7 days.
    #[serde(default)]
    pub ttl: Seconds,
    /// Needed to read the secret, if set.
    #[serde(default)]
    pub passphrase: Text,
    /// E-mail address(es) of the recipient, separated by commas, semicolons or spaces (at most
    /// 10); only an obscured copy is kept and nothing is sent.
    #[serde(default)]
    pub recipient: Recipients,
}

/// Parameters of `generate`.
#[derive(Default, Object, Deserialize)]
#[oai(example)]
pub struct GenerateParams {
    /// Length of the generated password: 4 to 128, default 12.
    pub length: Option<BoundedInt<4, 128>>,
    /// Seconds to live, as for `share`.
    #[serde(default)]
    pub ttl: Seconds,
    /// Needed to read the secret, if set.
    #[serde(default)]
    pub passphrase: Text,
    /// E-mail address(es) of the recipient, as for `share`.
    #[serde(default)]
    pub recipient: Recipients,
}

/// Parameters of reveal and burn.
#[derive(Default, Object, Deserialize)]
#[oai(example)]
pub struct PassphraseParams {
    /// The secret's passphrase, when it has one.
    #[serde(default)]
    pub passphrase: Text,
    /// Accepted and ignored (the web form's confirmation flag).
    #[serde(rename = "continue")]
    #[oai(rename = "continue")]
    #[serde(default)]
    pub confirm: Text,
}

/// The passphrase the examples set and give back.
const EXAMPLE_PASSPHRASE: &str = "correct horse battery staple";

impl Example for ShareParams {
    fn example() -> Self {
        Self {
            secret: RequiredText(Some("my-super-secret-password".into())),
            ttl: Seconds(Some(3600)),
            passphrase: Text(Some(EXAMPLE_PASSPHRASE.into())),
            recipient: Recipients(Some("alice@example.com".into())),
        }
    }
}

impl Example for GenerateParams {
    fn example() -> Self {
        Self {
            length: Some(BoundedInt(16)),
            ttl: Seconds(Some(3600)),
            passphrase: Text(Some(EXAMPLE_PASSPHRASE.into())),
            recipient: Recipients(None),
        }
    }
}

impl Example for PassphraseParams {
    fn example() -> Self {
        Self {
            passphrase: Text(Some(EXAMPLE_PASSPHRASE.into())),
            confirm: Text(None),
        }
    }
}

macro_rules! form_or_json {
    ($(#[$doc:meta])* $name:ident, $params:ty) => {
        $(#[$doc])*
        #[derive(ApiRequest)]
        pub enum $name {
            /// `application/x-www-form-urlencoded` (an empty body counts as an empty form).
            Form(Form<$params>),
            /// `application/json`.
            Json(Json<$params>),
        }

        impl $name {
            /// The parameters, whichever encoding carried them.
            pub fn into_params(self) -> $params {
                match self {
                    Self::Form(Form(params)) => params,
                    Self::Json(Json(params)) => params,
                }
            }
        }
    };
}

form_or_json!(
    /// Body of `share`.
    ShareBody,
    ShareParams
);
form_or_json!(
    /// Body of `generate`.
    GenerateBody,
    GenerateParams
);
form_or_json!(
    /// Body of reveal and burn.
    PassphraseBody,
    PassphraseParams
);

/// Where a secret is, as its receipt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ReceiptState {
    /// Created, receipt not read yet.
    New,
    /// The receipt was read; the secret is still readable.
    Viewed,
    /// The recipient read it.
    Received,
    /// The sender burned it.
    Burned,
    /// Its TTL passed.
    Expired,
    /// Its content vanished without a recorded reason.
    Orphaned,
}

/// The receipt (metadata) object.
#[derive(Clone, Object)]
#[oai(example)]
pub struct ReceiptObject {
    /// Who created it: `anon` for anonymous callers.
    pub custid: String,
    /// The receipt key: keep it private.
    pub metadata_key: String,
    /// The secret key to share; absent once received, empty once burned, expired or orphaned,
    /// null in `private/recent` lists.
    #[oai(skip_serializing_if = "MaybeUndefined::is_undefined")]
    pub secret_key: MaybeUndefined<String>,
    /// The state.
    pub state: ReceiptState,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// Last change, Unix seconds.
    pub updated: i64,
    /// When it was received, Unix seconds; only once received.
    #[oai(skip_serializing_if_is_none)]
    pub received: Option<i64>,
    /// The TTL asked for, in seconds.
    pub ttl: i64,
    /// Seconds the receipt has left.
    pub metadata_ttl: i64,
    /// Seconds the secret has left; null once gone, absent once received.
    #[oai(skip_serializing_if = "MaybeUndefined::is_undefined", nullable)]
    pub secret_ttl: MaybeUndefined<i64>,
    /// Link to the receipt page.
    pub metadata_url: String,
    /// Custom share domain (empty: this server).
    pub share_domain: String,
    /// Obscured recipient addresses.
    pub recipient: Vec<String>,
    /// Whether reading needs a passphrase.
    pub passphrase_required: bool,
    /// The generated password (`generate` only).
    #[oai(skip_serializing_if_is_none)]
    pub value: Option<String>,
    /// v0.24 name of `metadata_key`.
    pub identifier: String,
    /// v0.24 name of `secret_key`.
    #[oai(skip_serializing_if = "MaybeUndefined::is_undefined")]
    pub secret_identifier: MaybeUndefined<String>,
    /// v0.24 name of `passphrase_required`.
    pub has_passphrase: bool,
    /// v0.24 name of `recipient`.
    pub recipients: Vec<String>,
    /// v0.24 name of `metadata_ttl`.
    pub receipt_ttl: i64,
    /// v0.24 name of `metadata_url`.
    pub receipt_url: String,
    /// v0.24 name of `value`.
    #[oai(skip_serializing_if_is_none)]
    pub secret_value: Option<String>,
}

impl Example for ReceiptObject {
    fn example() -> Self {
        Self {
            custid: "anon".into(),
            metadata_key: "qk5ubz0d6rgsj0s1hq4t8nrzf".into(),
            secret_key: MaybeUndefined::Value("3nzq8jw1c4x7p0m2v5b9k6hde".into()),
            state: ReceiptState::New,
            created: 1_737_979_200,
            updated: 1_737_979_200,
            received: None,
            ttl: 604_800,
            metadata_ttl: 1_209_600,
            secret_ttl: MaybeUndefined::Value(604_800),
            metadata_url: "https://burnbox.example/receipt/qk5ubz0d6rgsj0s1hq4t8nrzf".into(),
            share_domain: String::new(),
            recipient: vec![],
            passphrase_required: false,
            value: None,
            identifier: "qk5ubz0d6rgsj0s1hq4t8nrzf".into(),
            secret_identifier: MaybeUndefined::Value("3nzq8jw1c4x7p0m2v5b9k6hde".into()),
            has_passphrase: false,
            recipients: vec![],
            receipt_ttl: 1_209_600,
            receipt_url: "https://burnbox.example/receipt/qk5ubz0d6rgsj0s1hq4t8nrzf".into(),
            secret_value: None,
        }
    }
}

/// Answer to `POST /api/v1/secret/{key}`.
#[derive(Object)]
#[oai(example)]
pub struct RevealedSecret {
    /// The secret.
    pub value: String,
    /// The key it was read with.
    pub secret_key: String,
    /// Custom share domain (empty: this server).
    pub share_domain: String,
}

impl Example for RevealedSecret {
    fn example() -> Self {
        Self {
            value: "my-super-secret-password".into(),
            secret_key: "3nzq8jw1c4x7p0m2v5b9k6hde".into(),
            share_domain: String::new(),
        }
    }
}

/// Answer to a burn.
#[derive(Object)]
#[oai(example)]
pub struct BurnedReceipt {
    /// The receipt, now `burned`.
    pub state: ReceiptObject,
    /// The first 8 characters of the secret key.
    pub secret_shortkey: String,
}

/// Answer to `status` and `authcheck`.
#[derive(Object)]
#[oai(example)]
pub struct SystemStatus {
    /// `nominal`.
    pub status: String,
    /// `en`.
    pub locale: String,
}

impl Example for BurnedReceipt {
    fn example() -> Self {
        let mut state = ReceiptObject::example();
        state.state = ReceiptState::Burned;
        Self {
            state,
            secret_shortkey: "3nzq8jw1".into(),
        }
    }
}

impl Example for SystemStatus {
    fn example() -> Self {
        Self::nominal()
    }
}

impl SystemStatus {
    /// The one status burnbox reports when it answers at all.
    pub fn nominal() -> Self {
        Self {
            status: "nominal".into(),
            locale: "en".into(),
        }
    }
}
