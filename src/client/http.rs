//! The calls the client makes to a burnbox server, over its Burn the Secret API
//! (`/api/secrets`), and the answers it reads.

use std::time::Duration;

use serde::Deserialize;

use super::ClientError;

/// A server and the credentials to use with it.
pub struct Api {
    client: reqwest::Client,
    base: String,
    api_key: Option<String>,
}

/// What `POST /api/secrets` answers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAnswer {
    /// The recipient's link (without any fragment).
    pub secret_url: String,
    /// The sender's receipt link.
    pub metadata_url: String,
    /// The new secret.
    pub metadata: CreatedMetadata,
}

/// The new secret as the create answers it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedMetadata {
    /// When it expires.
    pub expires_at: String,
    /// Its view limit, `None` when unlimited.
    pub max_views: Option<u32>,
}

/// What `GET /api/secrets/{key}` answers.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusAnswer {
    /// `secret` or `metadata`.
    #[serde(rename = "type")]
    pub key_type: String,
    /// `live`, `received`, `burned` or `expired`.
    pub state: String,
    /// When it expires.
    pub expires_at: String,
    /// Whether a passphrase is needed.
    pub has_passphrase: bool,
    /// The view limit, `None` when unlimited.
    pub max_views: Option<u32>,
    /// Views taken.
    pub view_count: u32,
    /// Views left, `None` when unlimited.
    pub views_remaining: Option<u32>,
    /// Whether the content was encrypted end-to-end.
    #[serde(default)]
    pub encrypted: bool,
    /// A file secret's name, size and type.
    pub file: Option<FileAnswer>,
}

/// A file secret as a status shows it.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileAnswer {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The error body of the dialect.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorAnswer {
    error: Option<String>,
    code: Option<String>,
    hint: Option<String>,
    tries_left: Option<u32>,
}

/// What a count of passphrase tries left means, as a sentence.
fn tries_left_sentence(left: u32) -> String {
    match left {
        0 => "The secret is locked for a while after too many wrong passphrases.".into(),
        1 => "One more wrong passphrase will lock it.".into(),
        n => format!("{n} more wrong passphrases will lock it."),
    }
}

impl Api {
    /// A client of `base` (e.g. `https://secrets.example`), sending `api_key` as a Bearer token
    /// when given.
    ///
    /// # Errors
    /// [`ClientError::Network`] when the HTTP client cannot be built (no TLS roots).
    pub fn new(base: &str, api_key: Option<String>) -> Result<Self, ClientError> {
        crate::tls::use_one_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .user_agent(concat!("burnbox-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            api_key,
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}/api/secrets{path}", self.base));
        match &self.api_key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// Sends `request`, turning a refusal into the error it means.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Network(describe(&e)))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body: Option<ErrorAnswer> = response.json().await.ok();
        let code = body
            .as_ref()
            .and_then(|b| b.code.clone())
            .unwrap_or_default();
        let message = body
            .map(|b| {
                let message = match (b.error, b.hint) {
                    (Some(error), Some(hint)) => format!("{error}: {hint}"),
                    (Some(error), None) => error,
                    (None, _) => status.to_string(),
                };
                match b.tries_left {
                    Some(left) => format!("{message} {}", tries_left_sentence(left)),
                    None => message,
                }
            })
            .unwrap_or_else(|| status.to_string());
        Err(ClientError::from_answer(
            status.as_u16(),
            &code,
            message,
            retry_after,
        ))
    }

    /// Creates a text secret from a JSON body.
    ///
    /// # Errors
    /// The server's refusal, or a network failure.
    pub async fn create_json(&self, body: &serde_json::Value) -> Result<CreateAnswer, ClientError> {
        let response = self
            .send(self.request(reqwest::Method::POST, "").json(body))
            .await?;
        response
            .json()
            .await
            .map_err(|e| ClientError::Network(describe(&e)))
    }

    /// Creates a file secret from a multipart form.
    ///
    /// # Errors
    /// The server's refusal, or a network failure.
    pub async fn create_form(
        &self,
        form: reqwest::multipart::Form,
    ) -> Result<CreateAnswer, ClientError> {
        let response = self
            .send(self.request(reqwest::Method::POST, "").multipart(form))
            .await?;
        response
            .json()
            .await
            .map_err(|e| ClientError::Network(describe(&e)))
    }

    /// The status of `key` (either key); counts nothing.
    ///
    /// # Errors
    /// The server's refusal, or a network failure.
    pub async fn status(&self, key: &str) -> Result<StatusAnswer, ClientError> {
        let response = self
            .send(self.request(reqwest::Method::GET, &format!("/{key}")))
            .await?;
        response
            .json()
            .await
            .map_err(|e| ClientError::Network(describe(&e)))
    }

    /// Views `key`, counting one view: the response, JSON for a text, bytes for a file.
    ///
    /// # Errors
    /// The server's refusal, or a network failure.
    pub async fn view(
        &self,
        key: &str,
        passphrase: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let body = match passphrase {
            Some(passphrase) => serde_json::json!({ "passphrase": passphrase }),
            None => serde_json::json!({}),
        };
        self.send(
            self.request(reqwest::Method::POST, &format!("/{key}"))
                .json(&body),
        )
        .await
    }

    /// Burns the secret of receipt `key`.
    ///
    /// # Errors
    /// The server's refusal, or a network failure.
    pub async fn burn(&self, key: &str) -> Result<(), ClientError> {
        self.send(self.request(reqwest::Method::DELETE, &format!("/{key}")))
            .await
            .map(drop)
    }
}

/// A network error in one line, with its cause (reqwest's own text stops at "error sending
/// request").
pub fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
