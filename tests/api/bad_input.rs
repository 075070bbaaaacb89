//! Bad input: the documented code and status, never a 500, nothing stored.

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_app_with, stored_records};

struct Row {
    what: &'static str,
    content_type: Option<&'static str>,
    body: String,
    status: StatusCode,
    code: &'static str,
}

fn row(what: &'static str, body: &str, status: StatusCode, code: &'static str) -> Row {
    Row {
        what,
        content_type: Some("application/json"),
        body: body.to_owned(),
        status,
        code,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_creates_are_refused_and_store_nothing() {
    let limit = 1000;
    let app = spawn_app_with(|s| s.max_secret_bytes = limit).await;
    let bad = StatusCode::BAD_REQUEST;
    let rows = vec![
        row("invalid JSON", "{\"secret\": ", bad, "INVALID_JSON"),
        row("not an object", "[1,2,3]", bad, "INVALID_JSON"),
        row(
            "secret of the wrong type",
            r#"{"secret": ["hunter2"]}"#,
            bad,
            "INVALID_JSON",
        ),
        row(
            "passphrase of the wrong type",
            r#"{"secret": "s", "passphrase": {"hunter2": 1}}"#,
            bad,
            "INVALID_JSON",
        ),
        row(
            "ttl of the wrong type",
            r#"{"secret": "s", "ttl": "soon"}"#,
            bad,
            "INVALID_JSON",
        ),
        row(
            "ttl past any integer",
            r#"{"secret": "s", "ttl": 9223372036854775808}"#,
            bad,
            "INVALID_TTL",
        ),
        row(
            "ttl in exponent notation past any integer",
            r#"{"secret": "s", "ttl": 1e30}"#,
            bad,
            "INVALID_TTL",
        ),
        row(
            "maxViews with a fraction",
            r#"{"secret": "s", "maxViews": 1.5}"#,
            bad,
            "INVALID_MAX_VIEWS",
        ),
        row("missing secret", r#"{"ttl": 3600}"#, bad, "MISSING_SECRET"),
        row("empty body", "", bad, "INVALID_JSON"),
        row("empty secret", r#"{"secret": ""}"#, bad, "MISSING_SECRET"),
        row(
            "ttl too short",
            r#"{"secret": "s", "ttl": 1799}"#,
            bad,
            "INVALID_TTL",
        ),
        row(
            "ttl too long",
            r#"{"secret": "s", "ttl": 86313601}"#,
            bad,
            "INVALID_TTL",
        ),
        row(
            "ttl negative",
            r#"{"secret": "s", "ttl": -1}"#,
            bad,
            "INVALID_TTL",
        ),
        row(
            "maxViews 0",
            r#"{"secret": "s", "maxViews": 0}"#,
            bad,
            "INVALID_MAX_VIEWS",
        ),
        row(
            "maxViews 1000",
            r#"{"secret": "s", "maxViews": 1000}"#,
            bad,
            "INVALID_MAX_VIEWS",
        ),
        row(
            "passphrase too long",
            &format!(r#"{{"secret": "s", "passphrase": "{}"}}"#, "p".repeat(2000)),
            bad,
            "INVALID_PARAMETER",
        ),
        row(
            "secret over the limit",
            &format!(r#"{{"secret": "{}"}}"#, "x".repeat(limit + 1)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "CONTENT_TOO_LARGE",
        ),
        row(
            "body over the limit",
            &format!(r#"{{"secret": "{}"}}"#, "x".repeat(10 * limit)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "CONTENT_TOO_LARGE",
        ),
        Row {
            what: "form body",
            content_type: Some("application/x-www-form-urlencoded"),
            body: "secret=s".into(),
            status: bad,
            code: "INVALID_JSON",
        },
        Row {
            what: "text body",
            content_type: Some("text/plain"),
            body: r#"{"secret": "s"}"#.into(),
            status: bad,
            code: "INVALID_JSON",
        },
        Row {
            what: "no content type",
            content_type: None,
            body: r#"{"secret": "s"}"#.into(),
            status: bad,
            code: "INVALID_JSON",
        },
    ];
    for row in rows {
        let mut request = app
            .client
            .post(format!("{}/api/secrets", app.base))
            .body(row.body.clone());
        if let Some(content_type) = row.content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{}: JSON error body: {e}", row.what));
        assert_eq!(status, row.status, "{}: {body}", row.what);
        assert_eq!(body["code"], row.code, "{}", row.what);
        assert!(
            !body.to_string().contains("hunter2"),
            "{}: the answer echoes the client's value",
            row.what
        );
        for field in ["error", "hint", "requestId"] {
            assert!(
                body[field].as_str().is_some_and(|s| !s.is_empty()),
                "{}: {field} present",
                row.what
            );
        }
    }
    let chunked = chunked_create(&app.base, 10 * limit).await;
    assert!(
        chunked.starts_with("HTTP/1.1 413"),
        "chunked body over the limit: {chunked}"
    );
    assert!(chunked.contains("CONTENT_TOO_LARGE"));

    let dir = app.stop().await;
    assert_eq!(stored_records(dir.path()).await, 0, "nothing was stored");
}

/// Sends a create with a chunked body (no Content-Length) of `size` bytes; returns the raw answer.
async fn chunked_create(base: &str, size: usize) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/secrets HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let payload = format!(r#"{{"secret": "{}"}}"#, "y".repeat(size));
    for chunk in payload.as_bytes().chunks(4096) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if stream.write_all(&framed).await.is_err() {
            break; // the server may answer and close before reading everything
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_keys_are_invalid_key() {
    let app = spawn_app_with(|_| {}).await;
    for key in ["abc-def", "abc_def", "%C3%A9t%C3%A9", "abc%20def", "a.b"] {
        for response in [
            app.status(key).await,
            app.view(key, None).await,
            app.burn(key).await,
        ] {
            let status = response.status();
            let body: Value = response.json().await.expect("json");
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some("INVALID_KEY")),
                "{key}"
            );
        }
    }
    let long = "a".repeat(65);
    assert_eq!(app.status(&long).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_gets_its_413_every_time_on_a_kept_alive_connection() {
    let app = spawn_app_with(|_| {}).await;
    let created = app.create_ok(&serde_json::json!({"secret": "s"})).await;
    let (secret_key, metadata_key) = crate::helpers::keys(&created);
    // A client still sending a body the server has refused must still read the refusal.
    let huge = serde_json::json!({"passphrase": "p".repeat(1_000_000)});
    for _ in 0..20 {
        let response = app.view(&secret_key, Some(&huge)).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    let status: Value = app.status(&metadata_key).await.json().await.expect("json");
    assert_eq!(status["viewCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_view_bodies_are_refused_without_a_view() {
    let app = spawn_app_with(|_| {}).await;
    let created = app.create_ok(&serde_json::json!({"secret": "s"})).await;
    let (secret_key, metadata_key) = crate::helpers::keys(&created);
    let response = app
        .client
        .post(format!("{}/api/secrets/{secret_key}", app.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], "INVALID_JSON");
    // A view's body is a passphrase at most: a megabyte is refused before it is read.
    let huge = serde_json::json!({"passphrase": "p".repeat(1_000_000)});
    let response = app.view(&secret_key, Some(&huge)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], "CONTENT_TOO_LARGE");
    let status: Value = app.status(&metadata_key).await.json().await.expect("json");
    assert_eq!(status["viewCount"], 0);
}

/// A path no route serves, or a method its route does not take, is answered in the dialect of
/// its path (JSON with the documented fields), not as framework text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_methods_get_the_dialects_error_body() {
    let app = spawn_app_with(|_| {}).await;
    let native = [
        (
            "GET",
            "/api/secrets",
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        ),
        (
            "PUT",
            "/api/secrets/abc123",
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        ),
        (
            "GET",
            "/api/nothing-here",
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            "POST",
            "/api/secrets/abc123/more",
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
    ];
    for (method, path, status, code) in native {
        let (got, request_id, body) = app.bodiless_json(method, path).await;
        assert_eq!(got, status, "{method} {path}");
        assert_eq!(body["code"], code, "{method} {path}: {body}");
        assert!(
            body["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{body}"
        );
        assert_eq!(body["requestId"], request_id.as_str(), "{body}");
    }
    let ots = [
        (
            "GET",
            "/api/v1/secret/abc123",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        ("GET", "/api/v1/nothing-here", StatusCode::NOT_FOUND),
        ("DELETE", "/api/v1/share", StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (method, path, status) in ots {
        let (got, request_id, body) = app.bodiless_json(method, path).await;
        assert_eq!(got, status, "{method} {path}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert_eq!(body["error_id"], request_id.as_str(), "{body}");
    }
    // Outside the API (pages, probes) the router's own answer stays.
    let response = app
        .client
        .get(format!("{}/no-such-page", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// A method a path does not take is answered 405 with the `Allow` header RFC 9110 requires,
/// listing what the path takes, on the API, the probes and the pages alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_405_says_which_methods_the_path_takes() {
    let app = spawn_app_with(|_| {}).await;
    let cases = [
        ("TRACE", "/api/secrets", "POST"),
        ("PUT", "/api/secrets/abc123", "GET, HEAD, POST, DELETE"),
        ("TRACE", "/api/v1/status", "GET, HEAD"),
        ("DELETE", "/api/v1/private/abc123", "GET, HEAD, POST"),
        ("GET", "/api/v1/share", "POST"),
        ("TRACE", "/healthz", "GET, HEAD"),
        ("POST", "/", "GET, HEAD"),
        ("PUT", "/assets/app.js", "GET, HEAD"),
        ("DELETE", "/docs", "GET, HEAD"),
    ];
    for (method, path, allow) in cases {
        let response = app
            .client
            .request(
                method.parse().expect("method"),
                format!("{}{path}", app.base),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let header = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().expect("text"));
        assert_eq!(header, Some(allow), "{method} {path}");
    }
}

/// A secret within the size limit is taken however its body encodes it: JSON's `\uXXXX` escapes
/// (as Python's `json` writes non-ASCII text) and form percent-encoding take up to three bytes per
/// byte of UTF-8 text. One byte more than the limit is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_within_the_limit_is_taken_in_any_encoding() {
    let limit = 200_000;
    let app = spawn_app_with(|s| s.max_secret_bytes = limit).await;
    // 'ж' is two bytes of UTF-8, six in a JSON escape or percent-encoded.
    let text = "ж".repeat(limit / 2);
    let escaped = "\\u0436".repeat(limit / 2);
    let response = app
        .post_raw(
            "/api/secrets",
            "application/json",
            format!(r#"{{"secret": "{escaped}"}}"#),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: Value = response.json().await.expect("json");
    let (secret_key, _) = crate::helpers::keys(&created);
    let viewed: Value = app
        .view(&secret_key, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(viewed["secret"].as_str(), Some(text.as_str()));

    let response = app
        .v1_post(
            "share",
            crate::helpers::Encoding::Form,
            &[("secret", &text)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let over = format!(r#"{{"secret": "{escaped}x"}}"#);
    let response = app.post_raw("/api/secrets", "application/json", over).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], "CONTENT_TOO_LARGE");
}
