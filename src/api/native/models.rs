//! Request and response bodies, field for field as Burn the Secret documents them.

use poem_openapi::types::{Example, MaybeUndefined};
use poem_openapi::{Enum, Object};

use crate::api::content::SecretContent;
use crate::api::schema::{BoundedInt, Text};

/// Body of `POST /api/secrets`.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct CreateSecretRequest {
    /// The content to encrypt. Required, non-empty: the text, or `{ciphertext, iv}` already
    /// encrypted in the sender's client (end-to-end: the key stays in the link's fragment,
    /// `#key=…`; see `docs/end-to-end.md`), which is kept and returned as sent.
    pub secret: SecretContent,
    /// Time to live in seconds: 1800 (30 minutes) to 86313600 (999 days). Default 86400.
    pub ttl: Option<BoundedInt<1800, 86_313_600>>,
    /// Views before the secret is destroyed: 1 to 999, or null for unlimited. Default 1.
    #[oai(nullable)]
    pub max_views: MaybeUndefined<BoundedInt<1, 999>>,
    /// Password the recipient must give to view the secret.
    pub passphrase: Text,
    /// Require a click to reveal the content. Default true.
    pub one_click_retrieval: Option<bool>,
    /// Allow the recipient to delete the secret after viewing. Default true.
    pub allow_deletion: Option<bool>,
}

impl Example for CreateSecretRequest {
    fn example() -> Self {
        Self {
            secret: SecretContent::Text("my-super-secret-password".into()),
            ttl: Some(BoundedInt(86_400)),
            max_views: MaybeUndefined::Value(BoundedInt(1)),
            passphrase: Text(Some("optional-password".into())),
            one_click_retrieval: None,
            allow_deletion: None,
        }
    }
}

/// A created secret's metadata.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct SecretMetadata {
    /// The metadata (receipt) key: status and burn. Keep it to yourself.
    pub key: String,
    /// The secret key: share it (through `secretUrl`) with the recipient.
    pub secret_key: String,
    /// Time to live in seconds.
    pub ttl: u64,
    /// When the secret expires.
    pub expires_at: String,
    /// When the secret was created.
    pub created_at: String,
    /// Whether a passphrase is needed to view it.
    pub has_passphrase: bool,
    /// View limit; null when unlimited.
    #[oai(nullable)]
    pub max_views: Option<u16>,
    /// Views taken so far.
    pub view_count: u32,
    /// Whether the content was encrypted end-to-end by the sender's client (burnbox extension).
    pub encrypted: bool,
}

/// Answer to `POST /api/secrets`.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct CreateSecretResponse {
    /// Always true.
    pub success: bool,
    /// The new secret.
    pub metadata: SecretMetadata,
    /// Link for the recipient.
    pub secret_url: String,
    /// Link for the sender's receipt.
    pub metadata_url: String,
    /// The request id.
    pub request_id: String,
}

/// Which key a status request used.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub enum KeyType {
    /// The metadata (receipt) key.
    Metadata,
    /// The secret key.
    Secret,
}

/// Where a secret is in its life (burnbox extension).
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub enum SecretStateName {
    /// Readable.
    Live,
    /// All views taken.
    Received,
    /// Burned by the sender.
    Burned,
    /// TTL passed.
    Expired,
}

/// Answer to `GET /api/secrets/{key}`.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct SecretStatusResponse {
    /// Whether the content can still be viewed.
    pub exists: bool,
    /// Which key was used.
    #[oai(rename = "type")]
    pub key_type: KeyType,
    /// Whether it was viewed at least once.
    pub viewed: bool,
    /// Whether the sender burned it.
    pub burned: bool,
    /// When it expires (or expired).
    pub expires_at: String,
    /// Whether a passphrase is needed to view it.
    pub has_passphrase: bool,
    /// The secret key: only for the metadata key's holder, while it can be viewed.
    #[oai(skip_serializing_if_is_none)]
    pub secret_key: Option<String>,
    /// View limit; null when unlimited.
    #[oai(nullable)]
    pub max_views: Option<u16>,
    /// Views taken so far.
    pub view_count: u32,
    /// Views left; null when unlimited.
    #[oai(nullable)]
    pub views_remaining: Option<u32>,
    /// Where it is in its life (burnbox extension).
    pub state: SecretStateName,
    /// For a file secret: its name, size and media type.
    #[oai(skip_serializing_if_is_none)]
    pub file: Option<FileInfo>,
    /// Whether the content was encrypted end-to-end by the sender's client: a view returns it
    /// as sent, to decrypt with the key in the link's fragment (burnbox extension).
    pub encrypted: bool,
    /// The request id.
    pub request_id: String,
}

/// What a status shows of a file secret.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct FileInfo {
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its media type.
    pub content_type: String,
}

/// Body of `POST /api/secrets/{secretKey}`; may be omitted when there is no passphrase.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ViewSecretRequest {
    /// Required if the secret is password-protected.
    pub passphrase: Text,
}

/// Answer to `POST /api/secrets/{secretKey}`.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ViewSecretResponse {
    /// Always true.
    pub success: bool,
    /// The decrypted content; for an end-to-end secret, the `{ciphertext, iv}` object it was
    /// created with, for the client to decrypt with the key in its link's fragment.
    pub secret: SecretContent,
    /// The sender's reveal-on-click option.
    pub one_click_retrieval: bool,
    /// Views left after this one; null when unlimited.
    #[oai(nullable)]
    pub views_remaining: Option<u32>,
    /// The request id.
    pub request_id: String,
}

/// Answer to `DELETE /api/secrets/{metadataKey}`.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct BurnSecretResponse {
    /// Always true.
    pub success: bool,
    /// `Secret burned successfully`.
    pub message: String,
    /// The request id.
    pub request_id: String,
}

impl Example for CreateSecretResponse {
    fn example() -> Self {
        Self {
            success: true,
            metadata: SecretMetadata {
                key: "abc123xyz".into(),
                secret_key: "def456uvw".into(),
                ttl: 86_400,
                expires_at: "2025-01-27T12:00:00.000Z".into(),
                created_at: "2025-01-26T12:00:00.000Z".into(),
                has_passphrase: true,
                max_views: Some(1),
                view_count: 0,
                encrypted: false,
            },
            secret_url: "https://burnbox.example/secret/def456uvw".into(),
            metadata_url: "https://burnbox.example/receipt/abc123xyz".into(),
            request_id: "req_m4k7x2_abc123".into(),
        }
    }
}

impl Example for SecretStatusResponse {
    fn example() -> Self {
        Self {
            exists: true,
            key_type: KeyType::Metadata,
            viewed: false,
            burned: false,
            expires_at: "2025-01-27T12:00:00.000Z".into(),
            has_passphrase: true,
            secret_key: Some("def456uvw".into()),
            max_views: Some(1),
            view_count: 0,
            views_remaining: Some(1),
            state: SecretStateName::Live,
            file: None,
            encrypted: false,
            request_id: "req_m4k9z4_ghi789".into(),
        }
    }
}

impl Example for ViewSecretResponse {
    fn example() -> Self {
        Self {
            success: true,
            secret: SecretContent::Text("my-super-secret-password".into()),
            one_click_retrieval: true,
            views_remaining: Some(0),
            request_id: "req_m4k8y3_def456".into(),
        }
    }
}

impl Example for BurnSecretResponse {
    fn example() -> Self {
        Self {
            success: true,
            message: "Secret burned successfully".into(),
            request_id: "req_m4kaz5_jkl012".into(),
        }
    }
}

impl Example for ViewSecretRequest {
    fn example() -> Self {
        Self {
            passphrase: Text(Some("optional-password".into())),
        }
    }
}
