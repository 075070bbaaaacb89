//! Swagger UI at `/docs` in headless Chromium: it renders under its own content security policy,
//! and its "Try it out" creates a secret and views it, with no console error and no request
//! leaving the origin.

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;
use crate::pages::{Driver, console_errors, visible_text};

/// Clicks `css` once it is there: Swagger UI renders each step after the click before it, so
/// every element is waited for, never assumed.
async fn click_when_shown(browser: &Client, css: &str) {
    browser
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} shows: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Opens operation `operation_id` (tag `Secrets`), switches it to "Try it out", and returns the
/// CSS selector of its block.
async fn try_out(browser: &Client, operation_id: &str) -> String {
    let block = format!("#operations-Secrets-{operation_id}");
    click_when_shown(browser, &format!("{block} .opblock-summary")).await;
    click_when_shown(browser, &format!("{block} .try-out__btn")).await;
    block
}

/// Presses Execute in `block` and returns the answer's status and JSON body as the page shows them.
async fn execute(browser: &Client, block: &str) -> (u16, Value) {
    click_when_shown(browser, &format!("{block} .execute")).await;
    let status = visible_text(
        browser,
        &format!("{block} .live-responses-table tr.response .response-col_status"),
    )
    .await;
    let body = visible_text(
        browser,
        &format!("{block} .live-responses-table tr.response .response-col_description pre"),
    )
    .await;
    let status = status.trim().parse().unwrap_or_else(|_| panic!("{status}"));
    let body = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, body)
}

/// Swagger UI runs under its own content security policy (its inline scripts allowed by hash,
/// nothing else): the document's title and operations render, and the page cannot be framed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_renders_under_its_content_security_policy() {
    let app = spawn_app().await;
    let docs = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .expect("request");
    let policy = docs
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(policy.contains("script-src 'sha256-"), "{policy}");
    assert!(!policy.contains("unsafe-eval") && !policy.contains("script-src 'unsafe-inline'"));
    assert!(policy.contains("connect-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert_eq!(
        docs.headers().get("x-frame-options").map(|v| v.as_bytes()),
        Some(&b"DENY"[..])
    );

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&format!("{}/docs", app.base))
        .await
        .expect("docs page");
    let title = visible_text(&browser, ".swagger-ui .info .title").await;
    assert!(title.starts_with("burnbox"), "{title}");
    let operations = browser
        .find_all(Locator::Css(".opblock"))
        .await
        .expect("operations");
    assert!(
        operations.len() >= 4,
        "{} operations shown",
        operations.len()
    );
    browser.close().await.expect("closed");
}

/// "Try it out" on `POST /api/secrets` sends the document's example and creates a secret; on
/// `POST /api/secrets/{key}` with that secret's key and the example's passphrase it shows the
/// secret. The page logs no error and asks nothing of any other origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_it_out_creates_a_secret_and_views_it() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&format!("{}/docs", app.base))
        .await
        .expect("docs page");
    visible_text(&browser, ".swagger-ui .info .title").await;

    let create = try_out(&browser, "createSecret").await;
    let (status, created) = execute(&browser, &create).await;
    assert_eq!(status, 200, "{created}");
    let secret_key = created["metadata"]["secretKey"]
        .as_str()
        .expect("a secret key")
        .to_owned();
    assert_eq!(created["metadata"]["hasPassphrase"], true, "{created}");

    let view = try_out(&browser, "viewSecret").await;
    let key_input = browser
        .wait()
        .for_element(Locator::Css(&format!(
            "{view} tr[data-param-name='key'] input"
        )))
        .await
        .expect("the key parameter");
    key_input.clear().await.expect("cleared");
    key_input.send_keys(&secret_key).await.expect("typed");
    let (status, viewed) = execute(&browser, &view).await;
    assert_eq!(status, 200, "{viewed}");
    assert_eq!(viewed["secret"], "my-super-secret-password", "{viewed}");

    // The secret is gone: its one view was taken through the page.
    let after = app.view(&secret_key, None).await;
    assert_eq!(after.status(), StatusCode::GONE);

    let errors = console_errors(&browser).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    let requested: Value = browser
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .expect("resource timings");
    let requested: Vec<&str> = requested
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        requested.iter().any(|url| url.ends_with("/api/secrets")),
        "{requested:?}"
    );
    for url in &requested {
        assert!(
            url.starts_with(&format!("{}/", app.base)) || url.starts_with("data:"),
            "a request left the origin: {url}"
        );
    }
    browser.close().await.expect("closed");
}
