//! A flood of passphrase requests against the real server: argon2id work waits its turn, every
//! request gets its answer or a 503 in its dialect's shape, and a refused view costs nothing.
//! What the bound saves in memory is the benchmark's figure (`cargo bench --bench load --
//! passphrase-flood`, `benches/results/passphrase-flood.md`).

use futures_util::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ApiClient, Encoding, ServerProcess, keys, sample, status_and_json};

/// Requests in each flood.
const FLOOD: usize = 200;
/// One argon2id run (~19 MiB) at a time, waiting at most a second for a turn.
const FLAGS: &[&str] = &[
    "--passphrase-workers",
    "1",
    "--passphrase-wait-secs",
    "1",
    "--max-connections-per-client",
    "1024",
];
/// Checks a refusal: 503, a Retry-After, and the dialect's error body.
fn assert_refused_in_shape(status: StatusCode, retry_after: Option<&str>, body: &Value, ots: bool) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry_after, Some("1"), "{body}");
    if ots {
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert!(
            body["error_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("req_")),
            "{body}"
        );
    } else {
        assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{body}");
    }
}

/// The body of a 200, or `None` for a refusal (checked to be in the dialect's shape).
async fn answered_or_refused(response: Response, ots: bool) -> Option<Value> {
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = status_and_json(response).await;
    if status == StatusCode::OK {
        return Some(body);
    }
    assert_refused_in_shape(status, retry_after.as_deref(), &body, ots);
    None
}

/// Sends one passphrase create in either dialect; the secret key when it was stored.
async fn create(api: &ApiClient, i: usize) -> Option<(String, bool)> {
    let ots = i % 2 == 1;
    let secret = format!("flooded {i}");
    let response = if ots {
        api.v1_post(
            "share",
            Encoding::Form,
            &[("secret", &secret), ("passphrase", "open sesame")],
        )
        .await
    } else {
        api.create(&json!({"secret": secret, "passphrase": "open sesame"}))
            .await
    };
    let body = answered_or_refused(response, ots).await?;
    let key = if ots {
        body["secret_key"].as_str().expect("secret_key").to_owned()
    } else {
        keys(&body).0
    };
    Some((key, ots))
}

/// Reveals one secret with its passphrase: `Some(text)` when shown, `None` when refused.
async fn reveal(api: &ApiClient, key: &str, ots: bool) -> Option<String> {
    let response = if ots {
        api.v1_post(
            &format!("secret/{key}"),
            Encoding::Form,
            &[("passphrase", "open sesame")],
        )
        .await
    } else {
        api.view(key, Some(&json!({"passphrase": "open sesame"})))
            .await
    };
    let body = answered_or_refused(response, ots).await?;
    let field = if ots { "value" } else { "secret" };
    Some(body[field].as_str().expect("the secret").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_flood_waits_its_turn_and_a_refused_view_costs_nothing() {
    let data = tempfile::tempdir().expect("data dir");
    let server = ServerProcess::start(data.path(), FLAGS).await;
    let api = &server.api;
    // A lone passphrase create and view get their turn.
    let (warm, _) = create(api, 0).await.expect("a lone create gets its turn");
    assert_eq!(
        reveal(api, &warm, false).await.as_deref(),
        Some("flooded 0")
    );

    let created: Vec<_> = join_all((0..FLOOD).map(|i| create(api, i))).await;
    let stored: Vec<(String, bool)> = created.into_iter().flatten().collect();
    assert!(!stored.is_empty(), "some creates got their turn");
    assert!(
        stored.len() < FLOOD,
        "one turn a second cannot serve {FLOOD} at once"
    );

    let shown: Vec<_> = join_all(stored.iter().map(|(key, ots)| reveal(api, key, *ots))).await;
    // A refused view used nothing: asked again, one at a time, every secret still shows.
    for ((key, ots), first) in stored.iter().zip(shown) {
        let text = match first {
            Some(text) => text,
            None => reveal(api, key, *ots)
                .await
                .expect("alone it gets its turn"),
        };
        assert!(text.starts_with("flooded "), "{text}");
    }
    let metrics = api.scrape().await;
    let refused = sample(&metrics, "burnbox_passphrase_hashing_refused_total").expect("refusals");
    assert!(refused >= (FLOOD - stored.len()) as f64, "{refused}");
    assert_eq!(sample(&metrics, "burnbox_passphrase_hashing"), Some(0.0));
}
