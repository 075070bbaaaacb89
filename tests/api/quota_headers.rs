//! Every answer of the API carries the caller's quota (`X-RateLimit-Limit`, `-Remaining`,
//! `-Reset`): every operation of both dialects and every error path, the framework's own (a
//! path or method that does not exist, a body over the limit, refused credentials) included.

use burnbox::service::tiers::{Quota, TierLimits, TierTable};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{keys, spawn_app_with};

/// One request: method, path, body (JSON unless it is raw bytes), and the status it gets.
struct Case {
    method: Method,
    path: String,
    body: Option<Body>,
    bearer: Option<&'static str>,
    status: StatusCode,
}

enum Body {
    Json(serde_json::Value),
    Raw(Vec<u8>, &'static str),
    Form(Vec<(&'static str, String)>),
}

fn case(method: Method, path: impl Into<String>, body: Option<Body>, status: u16) -> Case {
    Case {
        method,
        path: path.into(),
        body,
        bearer: None,
        status: StatusCode::from_u16(status).expect("status"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_of_both_dialects_carries_the_quota_headers() {
    let app = spawn_app_with(|settings| {
        settings.rate_limits = true;
        let roomy = TierLimits {
            requests_per_hour: Quota::Limited(100_000),
            requests_per_day: Quota::Limited(1_000_000),
            ..TierTable::DOCUMENTED.api
        };
        settings.tiers = TierTable {
            anonymous: roomy,
            authenticated: roomy,
            api: roomy,
        };
    })
    .await;
    let live = app
        .create_ok(&json!({"secret": "s", "maxViews": 5, "passphrase": "pw"}))
        .await;
    let (secret, receipt) = keys(&live);
    let gone = app.create_ok(&json!({"secret": "g"})).await;
    let (gone_secret, gone_receipt) = keys(&gone);
    assert_eq!(app.burn(&gone_receipt).await.status(), StatusCode::OK);
    let (status, shared) = crate::helpers::status_and_json(
        app.v1_post("share", crate::helpers::Encoding::Form, &[("secret", "o")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ots_secret = shared["secret_key"].as_str().expect("key").to_owned();
    let ots_metadata = shared["metadata_key"].as_str().expect("key").to_owned();

    let json_body = |value| Some(Body::Json(value));
    let mut cases = vec![
        // Burn the Secret.
        case(
            Method::POST,
            "/api/secrets",
            json_body(json!({"secret": "x"})),
            200,
        ),
        case(
            Method::POST,
            "/api/secrets",
            Some(Body::Raw(b"{not json".to_vec(), "application/json")),
            400,
        ),
        case(
            Method::POST,
            "/api/secrets",
            json_body(json!({"secret": ""})),
            400,
        ),
        case(
            Method::POST,
            "/api/secrets",
            Some(Body::Raw(
                format!(r#"{{"secret": "{}"}}"#, "a".repeat(53 << 20)).into_bytes(),
                "application/json",
            )),
            413,
        ),
        case(Method::GET, format!("/api/secrets/{secret}"), None, 200),
        case(Method::GET, format!("/api/secrets/{receipt}"), None, 200),
        case(Method::GET, "/api/secrets/abc123", None, 404),
        case(Method::GET, "/api/secrets/not-a-key", None, 400),
        case(
            Method::POST,
            format!("/api/secrets/{secret}"),
            json_body(json!({"passphrase": "no"})),
            401,
        ),
        case(
            Method::POST,
            format!("/api/secrets/{secret}"),
            json_body(json!({"passphrase": "pw"})),
            200,
        ),
        case(
            Method::POST,
            format!("/api/secrets/{gone_secret}"),
            json_body(json!({})),
            410,
        ),
        case(
            Method::DELETE,
            format!("/api/secrets/{gone_receipt}"),
            None,
            410,
        ),
        case(Method::DELETE, format!("/api/secrets/{receipt}"), None, 200),
        case(Method::PUT, "/api/secrets", None, 405),
        case(Method::GET, "/api/nothing/here", None, 404),
        // Onetime Secret.
        case(Method::GET, "/api/v1/status", None, 200),
        case(
            Method::POST,
            "/api/v1/share",
            Some(Body::Form(vec![("secret", "y".into())])),
            200,
        ),
        case(Method::POST, "/api/v1/share", Some(Body::Form(vec![])), 400),
        case(
            Method::POST,
            "/api/v1/generate",
            Some(Body::Form(vec![])),
            200,
        ),
        case(
            Method::POST,
            format!("/api/v1/metadata/{ots_metadata}"),
            Some(Body::Form(vec![])),
            200,
        ),
        case(
            Method::POST,
            format!("/api/v1/secret/{ots_secret}"),
            Some(Body::Form(vec![])),
            200,
        ),
        case(
            Method::POST,
            format!("/api/v1/secret/{ots_secret}"),
            Some(Body::Form(vec![])),
            404,
        ),
        case(
            Method::POST,
            format!("/api/v1/private/{ots_metadata}/burn"),
            Some(Body::Form(vec![])),
            404,
        ),
        case(Method::GET, "/api/v1/private/recent", None, 401),
        case(Method::DELETE, "/api/v1/share", None, 405),
    ];
    let mut refused = case(
        Method::POST,
        "/api/secrets",
        json_body(json!({"secret": "z"})),
        401,
    );
    refused.bearer = Some("ks_live_00000000000000000000000000000000");
    cases.push(refused);

    let mut missing = Vec::new();
    for case in cases {
        let mut request = app
            .client
            .request(case.method.clone(), format!("{}{}", app.base, case.path));
        if let Some(token) = case.bearer {
            request = request.bearer_auth(token);
        }
        request = match case.body {
            Some(Body::Json(value)) => request.json(&value),
            Some(Body::Raw(bytes, content_type)) => {
                request.header("content-type", content_type).body(bytes)
            }
            Some(Body::Form(fields)) => request.form(&fields),
            None => request,
        };
        let response = request.send().await.expect("an answer");
        let label = format!("{} {} → {}", case.method, case.path, response.status());
        assert_eq!(response.status(), case.status, "{label}");
        for header in [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ] {
            if response.headers().get(header).is_none() {
                missing.push(format!("{label}: no {header}"));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
