//! Accounts, API keys and quotas against the real server: each tier's limits, the headers, wrong
//! and revoked keys, ownership and receipt lists, and the command line.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use burnbox::config::Settings;
use burnbox::service::tiers::{Quota, TierLimits, TierTable};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ApiClient, ServerProcess, TestApp, keys, spawn_app_in, status_and_json};

/// Runs `burnbox` with `args` on `dir`; stdout on success.
pub fn burnbox(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_burnbox"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("BURNBOX_MASTER_KEY")
        .output()
        .expect("binary runs");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// Creates an account with the command line; its first key.
pub fn account(dir: &Path, email: &str, tier: &str) -> String {
    burnbox(dir, &["account", "create", email, "--tier", tier]).expect("account created")
}

/// Small quotas and a 4-second "hour" so limits and recovery are seen in seconds.
fn small_quotas(settings: &mut Settings) {
    let tier = |hour, day| TierLimits {
        requests_per_hour: Quota::Limited(hour),
        requests_per_day: Quota::Limited(day),
        ..TierTable::DOCUMENTED.authenticated
    };
    settings.rate_limits = true;
    settings.tiers = TierTable {
        anonymous: TierLimits {
            max_views: 10,
            max_secret_bytes: 1000,
            ..tier(3, 5)
        },
        authenticated: tier(4, 6),
        api: tier(6, 8),
    };
    settings.rate_windows = burnbox::service::ratelimit::Windows {
        short: Duration::from_secs(4),
        long: Duration::from_secs(60),
    };
}

fn bearer(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.header("authorization", format!("Bearer {token}"))
}

async fn status_with(api: &ApiClient, token: Option<&str>) -> reqwest::Response {
    let request = api.client.get(format!("{}/api/v1/status", api.base));
    match token {
        Some(token) => bearer(request, token),
        None => request,
    }
    .send()
    .await
    .expect("request")
}

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

/// Sends requests until refused; how many were allowed, checking the headers count down.
async fn allowed_until_refused(api: &ApiClient, token: Option<&str>, limit: u64) -> u64 {
    for n in 1..=limit + 1 {
        let response = status_with(api, token).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                header(&response, "retry-after").is_some_and(|s| s >= 1),
                "Retry-After on a 429"
            );
            assert_eq!(header(&response, "x-ratelimit-remaining"), Some(0));
            return n - 1;
        }
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-ratelimit-limit"), Some(limit));
        assert_eq!(
            header(&response, "x-ratelimit-remaining"),
            Some(limit - n),
            "request {n}"
        );
        assert!(header(&response, "x-ratelimit-reset").is_some());
    }
    limit + 1
}

async fn app_with_accounts(tune: impl FnOnce(&mut Settings)) -> (TestApp, String, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let person = account(dir.path(), "person@example.com", "authenticated");
    let program = account(dir.path(), "program@example.com", "api");
    let other = account(dir.path(), "other@example.com", "authenticated");
    (spawn_app_in(dir, tune).await, person, program, other)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tier_hits_its_limit_exactly_and_recovers() {
    let (app, person, program, _) = app_with_accounts(small_quotas).await;
    assert_eq!(allowed_until_refused(&app, None, 3).await, 3, "anonymous");
    assert_eq!(
        allowed_until_refused(&app, Some(&person), 4).await,
        4,
        "authenticated"
    );
    assert_eq!(
        allowed_until_refused(&app, Some(&program), 6).await,
        6,
        "api"
    );
    // Basic credentials count against the same account.
    let response = app
        .client
        .get(format!("{}/api/secrets/{}", app.base, "a".repeat(25)))
        .basic_auth("program@example.com", Some(&program))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "Basic shares the Bearer quota"
    );
    let (_, body) = status_and_json(response).await;
    assert_eq!(body["code"], "RATE_LIMIT_EXCEEDED");
    tokio::time::sleep(Duration::from_millis(4100)).await;
    assert_eq!(
        status_with(&app, None).await.status(),
        StatusCode::OK,
        "the window slid"
    );
    assert_eq!(
        status_with(&app, Some(&person)).await.status(),
        StatusCode::OK
    );
}

/// Refused credentials are answered with the rate-limit headers and cost the client address's
/// anonymous quota, so keys cannot be guessed faster than anonymous use allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_cost_the_anonymous_quota() {
    let (app, _, _, _) = app_with_accounts(small_quotas).await;
    let wrong = "ks_live_0000000000000000000000000000000000000000000";
    for n in 1..=3 {
        let response = status_with(&app, Some(wrong)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {n}");
        assert_eq!(header(&response, "x-ratelimit-limit"), Some(3), "guess {n}");
        assert_eq!(
            header(&response, "x-ratelimit-remaining"),
            Some(3 - n),
            "guess {n}"
        );
    }
    let response = status_with(&app, Some(wrong)).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the fourth guess"
    );
    assert!(header(&response, "retry-after").is_some_and(|s| s >= 1));
    let response = app
        .client
        .get(format!("{}/api/v1/status", app.base))
        .basic_auth("person@example.com", Some("not-the-key"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "Basic guesses share the address's quota"
    );
    assert_eq!(
        status_with(&app, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "and so does anonymous use"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_binds_after_the_hourly_one_recovers() {
    let (app, _, _, _) = app_with_accounts(small_quotas).await;
    assert_eq!(allowed_until_refused(&app, None, 3).await, 3);
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let fourth = status_with(&app, None).await;
    assert_eq!(fourth.status(), StatusCode::OK);
    assert_eq!(
        header(&fourth, "x-ratelimit-limit"),
        Some(5),
        "the day quota binds now"
    );
    assert_eq!(header(&fourth, "x-ratelimit-remaining"), Some(1));
    assert_eq!(
        status_with(&app, None).await.status(),
        StatusCode::OK,
        "the fifth of the day"
    );
    assert_eq!(
        status_with(&app, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the hour has room, the day not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_and_revoked_keys_are_refused_in_both_dialects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = account(dir.path(), "leaver@example.com", "api");
    let spare = burnbox(dir.path(), &["key", "create", "leaver@example.com"]).expect("second key");
    assert_ne!(token, spare);
    burnbox(dir.path(), &["account", "revoke", "leaver@example.com"]).expect("revoked");
    let listed = burnbox(dir.path(), &["account", "list"]).expect("list");
    assert_eq!(listed, "leaver@example.com\tapi\trevoked");
    let app = spawn_app_in(dir, |_| {}).await;
    let native = format!("{}/api/secrets", app.base);
    let v1 = format!("{}/api/v1/share", app.base);
    let attempts = [
        ("revoked key", bearer(app.client.post(&native), &token)),
        (
            "revoked second key",
            bearer(app.client.post(&native), &spare),
        ),
        (
            "unknown key",
            bearer(
                app.client.post(&native),
                "ks_live_00000000000000000000000000000000",
            ),
        ),
        ("not a key", bearer(app.client.post(&native), "hunter2")),
        (
            "bad scheme",
            app.client
                .post(&native)
                .header("authorization", "Digest abc"),
        ),
        (
            "v1 revoked",
            app.client
                .post(&v1)
                .basic_auth("leaver@example.com", Some(&token)),
        ),
        ("v1 bearer revoked", bearer(app.client.post(&v1), &token)),
    ];
    for (what, request) in attempts {
        let response = request
            .json(&json!({"secret": "s"}))
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert!(
            body.get("code").is_some_and(|c| c == "INVALID_API_KEY")
                || body["message"] == "Not authorized",
            "{what}"
        );
    }
    let dir = app.stop().await;
    assert_eq!(
        crate::helpers::stored_records(dir.path()).await,
        0,
        "nothing stored for refused callers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_works_as_bearer_and_as_basic_in_both_dialects() {
    let (app, person, _, _) = app_with_accounts(|_| {}).await;
    let response = bearer(
        app.client.post(format!("{}/api/secrets", app.base)),
        &person,
    )
    .json(&json!({"secret": "by bearer", "ttl": 30 * 86400, "maxViews": null}))
    .send()
    .await
    .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "accounts get 999 days and unlimited views"
    );
    let response = app
        .client
        .post(format!("{}/api/v1/share", app.base))
        .basic_auth("Person@Example.com", Some(&person))
        .form(&[("secret", "by basic"), ("ttl", "2592000")])
        .send()
        .await
        .expect("request");
    let (code, receipt) = status_and_json(response).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(receipt["custid"], "person@example.com");
    assert_eq!(receipt["ttl"], 2_592_000, "30 days with an account");
    let authcheck = app
        .client
        .get(format!("{}/api/v1/authcheck", app.base))
        .basic_auth("person@example.com", Some(&person));
    assert_eq!(
        authcheck.send().await.expect("request").status(),
        StatusCode::OK
    );
    let wrong_user = app
        .client
        .get(format!("{}/api/v1/authcheck", app.base))
        .basic_auth("other@example.com", Some(&person));
    assert_eq!(
        wrong_user.send().await.expect("request").status(),
        StatusCode::UNAUTHORIZED,
        "key of another account"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_get_the_anonymous_tier() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.tiers.anonymous = TierTable::DOCUMENTED.anonymous;
    })
    .await;
    for (body, code) in [
        (json!({"secret": "s", "maxViews": 11}), "INVALID_MAX_VIEWS"),
        (
            json!({"secret": "s", "maxViews": null}),
            "INVALID_MAX_VIEWS",
        ),
        (json!({"secret": "s", "ttl": 7 * 86400 + 1}), "INVALID_TTL"),
        (
            json!({"secret": "x".repeat(1_000_001)}),
            "CONTENT_TOO_LARGE",
        ),
    ] {
        let (status, error) = status_and_json(app.create(&body).await).await;
        assert!(status.is_client_error(), "{body}");
        assert_eq!(error["code"], code);
    }
    app.create_ok(&json!({"secret": "s", "maxViews": 10, "ttl": 7 * 86400}))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_creation_can_be_turned_off() {
    let (app, person, _, _) = app_with_accounts(|s| s.anonymous_create = false).await;
    let (code, body) = status_and_json(app.create(&json!({"secret": "s"})).await).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("AUTHENTICATION_REQUIRED"))
    );
    let (code, _) = status_and_json(
        app.v1_post("share", crate::helpers::Encoding::Form, &[("secret", "s")])
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let response = bearer(
        app.client.post(format!("{}/api/secrets", app.base)),
        &person,
    )
    .json(&json!({"secret": "s"}))
    .send()
    .await
    .expect("request");
    let created: Value = response.json().await.expect("json");
    let (secret_key, _) = keys(&created);
    assert_eq!(
        app.view(&secret_key, None).await.status(),
        StatusCode::OK,
        "anonymous recipients still read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_belong_to_their_account() {
    let (app, person, _, other) = app_with_accounts(|_| {}).await;
    let share = |token: &str, text: &str| {
        app.client
            .post(format!("{}/api/v1/share", app.base))
            .basic_auth(
                if token == person {
                    "person@example.com"
                } else {
                    "other@example.com"
                },
                Some(token),
            )
            .form(&[("secret", text.to_owned())])
            .send()
    };
    let mine: Value = share(&person, "mine 1")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let _: Value = share(&person, "mine 2")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let theirs: Value = share(&other, "theirs")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let native = bearer(
        app.client.post(format!("{}/api/secrets", app.base)),
        &person,
    )
    .json(&json!({"secret": "mine 3"}))
    .send()
    .await
    .expect("request");
    assert_eq!(native.status(), StatusCode::OK);

    let recent = |token: &str, email: &str| {
        app.client
            .get(format!("{}/api/v1/private/recent", app.base))
            .basic_auth(email, Some(token))
            .send()
    };
    let list: Value = recent(&person, "person@example.com")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let list = list.as_array().expect("a list");
    assert_eq!(
        list.len(),
        3,
        "both dialects' secrets of this account: {list:?}"
    );
    assert!(
        list.iter().all(|r| r["custid"] == "person@example.com"
            && r.get("secret_key") == Some(&Value::Null)
            && r.get("secret_identifier") == Some(&Value::Null)),
        "the secret key is null in lists, as the v1 documentation says: {list:?}"
    );
    assert!(
        list.iter()
            .any(|r| r["metadata_key"] == mine["metadata_key"])
    );
    let receipt_path = format!("private/{}", mine["metadata_key"].as_str().expect("key"));
    let (_, read_anonymously) = status_and_json(app.v1_get(&receipt_path).await).await;
    assert_eq!(
        read_anonymously["custid"], "person@example.com",
        "custid names the owner, whoever reads"
    );
    let theirs_list: Value = recent(&other, "other@example.com")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(theirs_list.as_array().map(Vec::len), Some(1));
    assert_eq!(theirs_list[0]["metadata_key"], theirs["metadata_key"]);
}

/// Who sends a burn request, for the table of who may burn.
#[derive(Debug, Clone, Copy)]
enum Burner {
    Owner,
    OtherAccount,
    NoCredentials,
}

/// The receipt key is the capability in both dialects: whatever credentials come with it (the
/// owner's, another account's, none), it burns; without it nothing does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receipt_key_alone_decides_who_burns_in_both_dialects() {
    let (app, person, _, other) = app_with_accounts(|_| {}).await;
    for burner in [Burner::Owner, Burner::OtherAccount, Burner::NoCredentials] {
        for ots in [false, true] {
            let created = bearer(
                app.client.post(format!("{}/api/secrets", app.base)),
                &person,
            )
            .json(&json!({"secret": "owned"}))
            .send()
            .await
            .expect("request");
            let (status, created) = status_and_json(created).await;
            assert_eq!(status, StatusCode::OK, "{created}");
            let (secret_key, receipt_key) = keys(&created);
            let request = if ots {
                app.client
                    .post(format!("{}/api/v1/private/{receipt_key}/burn", app.base))
            } else {
                app.client
                    .delete(format!("{}/api/secrets/{receipt_key}", app.base))
            };
            let request = match burner {
                Burner::Owner => request.basic_auth("person@example.com", Some(&person)),
                Burner::OtherAccount => request.basic_auth("other@example.com", Some(&other)),
                Burner::NoCredentials => request,
            };
            let burned = request.send().await.expect("request");
            assert_eq!(
                burned.status(),
                StatusCode::OK,
                "{burner:?} burns with the receipt key (v1: {ots})"
            );
            let (_, status) = status_and_json(app.status(&receipt_key).await).await;
            assert_eq!(status["state"], "burned", "{burner:?}, v1: {ots}");
            assert_eq!(
                app.view(&secret_key, None).await.status(),
                StatusCode::GONE,
                "burned for the recipient too"
            );
        }
    }
}

/// A key made with `--scope send` creates secrets and checks or burns them by their keys, but
/// cannot list the account's secrets or read a receipt, and its status answers leave out the
/// secret key: a leaked one reaches no secret it was not handed. A full key still can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_only_key_cannot_list_or_read_receipts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let full = account(dir.path(), "ci@example.com", "api");
    let send = burnbox(
        dir.path(),
        &["key", "create", "ci@example.com", "--scope", "send"],
    )
    .expect("send key created");
    assert!(
        burnbox(
            dir.path(),
            &["key", "create", "ci@example.com", "--scope", "all"]
        )
        .expect_err("unknown scope")
        .contains("known: send, full")
    );
    let app = spawn_app_in(dir, |_| {}).await;

    // Sending works in both dialects.
    let created = bearer(app.client.post(format!("{}/api/secrets", app.base)), &send)
        .json(&json!({"secret": "from the pipeline"}))
        .send()
        .await
        .expect("request");
    let (status, created) = status_and_json(created).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (secret_key, receipt_key) = keys(&created);
    let shared = app
        .client
        .post(format!("{}/api/v1/share", app.base))
        .basic_auth("ci@example.com", Some(&send))
        .form(&[("secret", "also from the pipeline")])
        .send()
        .await
        .expect("request");
    let (status, shared) = status_and_json(shared).await;
    assert_eq!(status, StatusCode::OK, "{shared}");
    let shared_receipt = shared["metadata_key"].as_str().expect("key").to_owned();

    // Status by the receipt key: the state, but not the secret key.
    let status_as = |token: &str| {
        bearer(
            app.client
                .get(format!("{}/api/secrets/{receipt_key}", app.base)),
            token,
        )
        .send()
    };
    let (status, by_send) = status_and_json(status_as(&send).await.expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_send["state"], "live");
    assert_eq!(by_send["secretKey"], Value::Null, "{by_send}");
    let (_, by_full) = status_and_json(status_as(&full).await.expect("request")).await;
    assert_eq!(by_full["secretKey"], secret_key.as_str());

    // No list, no receipt, in the dialect's error shape.
    for path in ["private/recent", "metadata/recent", "receipt/recent"] {
        let listed = app
            .client
            .get(format!("{}/api/v1/{path}", app.base))
            .basic_auth("ci@example.com", Some(&send))
            .send()
            .await
            .expect("request");
        let (status, body) = status_and_json(listed).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("full key")),
            "{body}"
        );
    }
    let receipt = app
        .client
        .get(format!("{}/api/v1/private/{shared_receipt}", app.base))
        .basic_auth("ci@example.com", Some(&send))
        .send()
        .await
        .expect("request");
    let (status, body) = status_and_json(receipt).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.get("secret_key").is_none());
    let listed = app
        .client
        .get(format!("{}/api/v1/private/recent", app.base))
        .basic_auth("ci@example.com", Some(&full))
        .send()
        .await
        .expect("request");
    let (status, list) = status_and_json(listed).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(0),
        "secrets of another key's seal are not listed"
    );

    // Burning by the receipt key works with it.
    let burned = bearer(
        app.client
            .delete(format!("{}/api/secrets/{receipt_key}", app.base)),
        &send,
    )
    .send()
    .await
    .expect("request");
    assert_eq!(burned.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_behind_trusted_proxies() {
    let app = spawn_app_in(tempfile::tempdir().expect("temp dir"), |s| {
        small_quotas(s);
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    let from = |ip: &str| {
        app.client
            .get(format!("{}/api/v1/status", app.base))
            .header("x-forwarded-for", format!("{ip}, 127.0.0.1"))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            from("203.0.113.7").await.expect("request").status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        from("203.0.113.7").await.expect("request").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        from("198.51.100.9").await.expect("request").status(),
        StatusCode::OK,
        "another client behind the proxy"
    );

    // A proxy that writes the client as `ip:port` (or `[v6]:port`): the entries the client put
    // in front of it are not believed, so a new spoofed address per request gains nothing.
    let behind_port_proxy = spawn_app_in(tempfile::tempdir().expect("temp dir"), |s| {
        small_quotas(s);
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    for (real, shape) in [
        ("203.0.113.7:5555", "ip:port"),
        ("[2001:db8::7]:443", "[v6]:port"),
    ] {
        let statuses: Vec<StatusCode> = futures_util::future::join_all((0..4).map(|n| {
            behind_port_proxy
                .client
                .get(format!("{}/api/v1/status", behind_port_proxy.base))
                .header("x-forwarded-for", format!("192.0.2.{n}, {real}"))
                .send()
        }))
        .await
        .into_iter()
        .map(|r| r.expect("request").status())
        .collect();
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
                .count(),
            1,
            "{shape}: one client, one quota of 3: {statuses:?}"
        );
    }
    // A hop that does not parse stops the walk: the spoofed entries left of it count as the
    // proxy, one quota between them.
    let behind_odd_proxy = spawn_app_in(tempfile::tempdir().expect("temp dir"), |s| {
        small_quotas(s);
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    for n in 0..4 {
        let response = behind_odd_proxy
            .client
            .get(format!("{}/api/v1/status", behind_odd_proxy.base))
            .header("x-forwarded-for", format!("192.0.2.{n}, unknown"))
            .send()
            .await
            .expect("request");
        let expected = if n < 3 {
            StatusCode::OK
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(response.status(), expected, "request {n}");
    }

    let untrusted = spawn_app_in(tempfile::tempdir().expect("temp dir"), small_quotas).await;
    for n in 0..4 {
        let response = untrusted
            .client
            .get(format!("{}/api/v1/status", untrusted.base))
            .header("x-forwarded-for", format!("192.0.2.{n}"))
            .send()
            .await
            .expect("request");
        let expected = if n < 3 {
            StatusCode::OK
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(
            response.status(),
            expected,
            "a forged X-Forwarded-For changes nothing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_commands_say_what_to_do_while_a_server_holds_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(dir.path(), &[]).await;
    let refused =
        burnbox(dir.path(), &["account", "create", "late@example.com"]).expect_err("store in use");
    assert!(
        refused.contains("in use by a running burnbox server"),
        "{refused}"
    );
    assert_eq!(refused.lines().count(), 1);
    server.kill_hard().await;
    let bad =
        burnbox(dir.path(), &["account", "create", "not-an-address"]).expect_err("bad address");
    assert!(bad.contains("e-mail"), "{bad}");
}
