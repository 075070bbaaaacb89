//! The Onetime Secret v1 dialect against the real server: every endpoint and alias, every
//! encoding, the receipt's state machine, TTL clamping, errors, and both dialects on one engine.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    ENCODINGS, Encoding, TestApp, spawn_app, spawn_app_for_races, spawn_app_with, status_and_json,
};

const ALIASES: [&str; 3] = ["private", "metadata", "receipt"];

/// `share` through `encoding`; asserts success and returns the receipt.
const FORM: &str = "application/x-www-form-urlencoded";

async fn share(app: &TestApp, encoding: Encoding, params: &[(&str, &str)]) -> Value {
    let (code, receipt) = status_and_json(app.v1_post("share", encoding, params).await).await;
    assert_eq!(code, StatusCode::OK, "{encoding:?}: {receipt}");
    receipt
}

fn key_of(receipt: &Value, field: &str) -> String {
    receipt[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {receipt}"))
        .to_owned()
}

/// Asserts a v1 error: status, `message` present, `error_id` present.
fn assert_v1_error(code: StatusCode, body: &Value, expected: StatusCode, what: &str) {
    assert_eq!(code, expected, "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: message in {body}"
    );
    assert!(
        body["error_id"]
            .as_str()
            .is_some_and(|m| m.starts_with("req_")),
        "{what}: error_id in {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_authcheck() {
    let app = spawn_app().await;
    let (code, body) = status_and_json(app.v1_get("status").await).await;
    assert_eq!(
        (code, body),
        (StatusCode::OK, json!({"status": "nominal", "locale": "en"}))
    );
    let (code, body) = status_and_json(app.v1_get("authcheck").await).await;
    assert_v1_error(
        code,
        &body,
        StatusCode::UNAUTHORIZED,
        "authcheck without credentials",
    );
    let response = app
        .client
        .get(format!("{}/api/v1/authcheck", app.base))
        .basic_auth("someone@example.com", Some("not-a-token"))
        .send()
        .await
        .expect("request");
    let (code, body) = status_and_json(response).await;
    assert_v1_error(
        code,
        &body,
        StatusCode::UNAUTHORIZED,
        "authcheck with wrong credentials",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_and_reveal_in_every_encoding() {
    let app = spawn_app().await;
    for (n, encoding) in ENCODINGS.into_iter().enumerate() {
        let text = format!("shared through {encoding:?}");
        let alias = if n % 2 == 0 { "share" } else { "create" };
        let (code, receipt) = status_and_json(
            app.v1_post(
                alias,
                encoding,
                &[
                    ("secret", &text),
                    ("ttl", "3600"),
                    ("recipient", "alice@example.com"),
                ],
            )
            .await,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{alias} {encoding:?}: {receipt}");
        assert_eq!(receipt["custid"], "anon");
        assert_eq!(receipt["state"], "new");
        assert_eq!(receipt["ttl"], 3600);
        assert!(
            receipt["metadata_ttl"]
                .as_i64()
                .is_some_and(|t| (7198..=7200).contains(&t)),
            "the receipt lives twice the TTL: {receipt}"
        );
        assert!(
            receipt["secret_ttl"]
                .as_i64()
                .is_some_and(|t| (3598..=3600).contains(&t))
        );
        assert_eq!(receipt["recipient"], json!(["a***@example.com"]));
        assert_eq!(receipt["recipients"], receipt["recipient"]);
        assert_eq!(receipt["passphrase_required"], false);
        assert_eq!(receipt["has_passphrase"], false);
        assert_eq!(receipt["share_domain"], "");
        assert_eq!(receipt["identifier"], receipt["metadata_key"]);
        assert_eq!(receipt["secret_identifier"], receipt["secret_key"]);
        assert_eq!(receipt["receipt_ttl"], receipt["metadata_ttl"]);
        assert_eq!(receipt["receipt_url"], receipt["metadata_url"]);
        assert!(receipt.get("value").is_none() && receipt.get("received").is_none());
        assert!(receipt["created"].as_i64().is_some() && receipt["updated"].as_i64().is_some());
        let secret_key = key_of(&receipt, "secret_key");
        let (code, revealed) = status_and_json(
            app.v1_post(&format!("secret/{secret_key}"), encoding, &[])
                .await,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "reveal {encoding:?}: {revealed}");
        assert_eq!(
            revealed,
            json!({"value": text, "secret_key": secret_key, "share_domain": ""})
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_in_every_encoding() {
    let app = spawn_app().await;
    for encoding in ENCODINGS {
        let (code, receipt) = status_and_json(
            app.v1_post(
                "generate",
                encoding,
                &[("length", "20"), ("passphrase", "pw")],
            )
            .await,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{encoding:?}: {receipt}");
        let value = key_of(&receipt, "value");
        assert_eq!(value.len(), 20);
        assert!(
            !value.contains(['0', 'O', 'o', '1', 'l', 'I', 'i']),
            "no look-alikes: {value}"
        );
        assert_eq!(receipt["secret_value"], value.as_str());
        assert_eq!(receipt["passphrase_required"], true);
        let secret_key = key_of(&receipt, "secret_key");
        let (_, revealed) = status_and_json(
            app.v1_post(
                &format!("secret/{secret_key}"),
                encoding,
                &[("passphrase", "pw")],
            )
            .await,
        )
        .await;
        assert_eq!(revealed["value"], value.as_str());
    }
    let (_, receipt) = status_and_json(app.v1_post("generate", Encoding::Form, &[]).await).await;
    assert_eq!(key_of(&receipt, "value").len(), 12, "default length");
    for bad in ["129", "2", "many"] {
        let (code, body) = status_and_json(
            app.v1_post("generate", Encoding::Form, &[("length", bad)])
                .await,
        )
        .await;
        assert_v1_error(
            code,
            &body,
            StatusCode::BAD_REQUEST,
            &format!("length {bad}"),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipt_aliases_read_without_counting_a_view() {
    let app = spawn_app().await;
    let receipt = share(&app, Encoding::Form, &[("secret", "watched")]).await;
    let metadata_key = key_of(&receipt, "metadata_key");
    let secret_key = key_of(&receipt, "secret_key");
    // The first read shows the state it found; from then on the receipt is `viewed`.
    let (code, first) = status_and_json(app.v1_get(&format!("private/{metadata_key}")).await).await;
    assert_eq!(
        (code, first["state"].as_str()),
        (StatusCode::OK, Some("new"))
    );
    for alias in ALIASES {
        for read in [
            app.v1_get(&format!("{alias}/{metadata_key}")).await,
            app.v1_post(&format!("{alias}/{metadata_key}"), Encoding::Form, &[])
                .await,
        ] {
            let (code, body) = status_and_json(read).await;
            assert_eq!(code, StatusCode::OK, "{alias}: {body}");
            assert_eq!(body["state"], "viewed", "{alias}");
            assert_eq!(body["secret_key"], secret_key.as_str());
        }
    }
    let (code, revealed) = status_and_json(
        app.v1_post(&format!("secret/{secret_key}"), Encoding::Form, &[])
            .await,
    )
    .await;
    assert_eq!(
        (code, revealed["value"].as_str()),
        (StatusCode::OK, Some("watched")),
        "still readable"
    );
    // Receipts never answer to the secret key.
    let (code, body) = status_and_json(app.v1_get(&format!("private/{secret_key}")).await).await;
    assert_v1_error(code, &body, StatusCode::NOT_FOUND, "receipt by secret key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_machine_read_through_the_receipt() {
    let app = spawn_app_with(|s| {
        s.ots_ttl.min = 1;
        s.sweep_interval = Duration::from_millis(200);
    })
    .await;
    // new -> received
    let receipt = share(&app, Encoding::Form, &[("secret", "to be received")]).await;
    let (metadata_key, secret_key) = (
        key_of(&receipt, "metadata_key"),
        key_of(&receipt, "secret_key"),
    );
    app.v1_post(&format!("secret/{secret_key}"), Encoding::Form, &[])
        .await;
    let (_, received) = status_and_json(app.v1_get(&format!("private/{metadata_key}")).await).await;
    assert_eq!(received["state"], "received");
    assert!(
        received.get("secret_key").is_none() && received.get("secret_ttl").is_none(),
        "{received}"
    );
    assert!(
        received["received"]
            .as_i64()
            .is_some_and(|t| t >= received["created"].as_i64().unwrap_or(i64::MAX))
    );

    // new -> burned
    let receipt = share(&app, Encoding::Form, &[("secret", "to be burned")]).await;
    let (metadata_key, secret_key) = (
        key_of(&receipt, "metadata_key"),
        key_of(&receipt, "secret_key"),
    );
    let (code, burned) = status_and_json(
        app.v1_post(&format!("private/{metadata_key}/burn"), Encoding::Form, &[])
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{burned}");
    assert_eq!(burned["state"]["state"], "burned");
    assert_eq!(burned["state"]["secret_key"], "");
    assert_eq!(burned["secret_shortkey"], &secret_key[..8]);
    let (code, body) = status_and_json(
        app.v1_post(&format!("secret/{secret_key}"), Encoding::Form, &[])
            .await,
    )
    .await;
    assert_v1_error(code, &body, StatusCode::NOT_FOUND, "reveal after burn");
    assert_eq!(body["message"], "Unknown secret");
    let (code, body) = status_and_json(
        app.v1_post(&format!("private/{metadata_key}/burn"), Encoding::Form, &[])
            .await,
    )
    .await;
    assert_v1_error(code, &body, StatusCode::NOT_FOUND, "second burn");

    // new -> expired
    let receipt = share(
        &app,
        Encoding::Form,
        &[("secret", "to expire"), ("ttl", "1")],
    )
    .await;
    let metadata_key = key_of(&receipt, "metadata_key");
    // Polled: the receipt reads "new", then "viewed" (it was read) until the TTL passes, then
    // "expired".
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let expired = loop {
        let (_, receipt) =
            status_and_json(app.v1_get(&format!("private/{metadata_key}")).await).await;
        if receipt["state"] == "expired" {
            break receipt;
        }
        assert!(
            receipt["state"] == "new" || receipt["state"] == "viewed",
            "{receipt}"
        );
        assert!(tokio::time::Instant::now() < deadline, "{receipt}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(expired["state"], "expired", "{expired}");
    assert_eq!(expired["secret_key"], "");
    assert!(expired["secret_ttl"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_whose_secret_vanished_is_orphaned() {
    let app = spawn_app().await;
    let receipt = share(&app, Encoding::Form, &[("secret", "will vanish")]).await;
    let (metadata_key, secret_key) = (
        key_of(&receipt, "metadata_key"),
        key_of(&receipt, "secret_key"),
    );
    let dir = app.stop().await;
    // Lose the ciphertext behind burnbox's back, as a damaged disk or a bad restore would.
    {
        let master = burnbox::crypto::MasterKeys::load_or_create(
            None,
            &dir.path().join(burnbox::crypto::master_key::KEY_FILE_NAME),
        )
        .expect("master key");
        let key = burnbox::domain::SecretKey::parse(&secret_key).expect("key");
        let id = burnbox::crypto::Keyring::from_keys(&master).secret_id(&key);
        let db = redb::Database::create(dir.path().join("burnbox.redb")).expect("open database");
        let txn = db.begin_write().expect("write");
        {
            // The store's record tree: the sealed content sits under the id with its first 8
            // bytes, then `c`, then the rest.
            let table: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("records");
            let mut records = txn.open_table(table).expect("record table");
            let key = [&id.as_bytes()[..8], b"c", &id.as_bytes()[8..]].concat();
            assert!(records.remove(key.as_slice()).expect("remove").is_some());
        }
        txn.commit().expect("commit");
    }
    let app = crate::helpers::spawn_app_in(dir, |_| {}).await;
    let (code, orphaned) =
        status_and_json(app.v1_get(&format!("private/{metadata_key}")).await).await;
    assert_eq!(
        (code, orphaned["state"].as_str()),
        (StatusCode::OK, Some("orphaned")),
        "{orphaned}"
    );
    assert_eq!(orphaned["secret_key"], "");
    let (code, body) = status_and_json(
        app.v1_post(&format!("secret/{secret_key}"), Encoding::Form, &[])
            .await,
    )
    .await;
    assert_v1_error(code, &body, StatusCode::NOT_FOUND, "reveal of an orphan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_is_clamped_at_both_ends() {
    let app = spawn_app().await;
    for (asked, kept) in [
        ("1", 60),
        ("-5", 60),
        ("0", 60),
        ("604801", 604_800),
        ("999999999", 604_800),
        ("86400", 86_400),
    ] {
        let receipt = share(&app, Encoding::Form, &[("secret", "s"), ("ttl", asked)]).await;
        assert_eq!(receipt["ttl"], kept, "ttl {asked}");
    }
    let receipt = share(&app, Encoding::Form, &[("secret", "s")]).await;
    assert_eq!(receipt["ttl"], 604_800, "default is 7 days");
}

/// An empty ttl takes the default, one past any integer is clamped, and a JSON client's string or
/// huge number is read as the seconds it says, in every encoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_values_that_are_empty_huge_or_strings_are_defaulted_or_clamped() {
    let app = spawn_app().await;
    for encoding in ENCODINGS {
        for (asked, kept) in [
            ("", 604_800),
            ("99999999999999999999", 604_800),
            ("-99999999999999999999", 60),
            (" 3600 ", 3600),
        ] {
            let receipt = share(&app, encoding, &[("secret", "s"), ("ttl", asked)]).await;
            assert_eq!(receipt["ttl"], kept, "{encoding:?}: ttl {asked:?}");
        }
        let (code, body) = status_and_json(
            app.v1_post("share", encoding, &[("secret", "s"), ("ttl", "soon")])
                .await,
        )
        .await;
        assert_v1_error(code, &body, StatusCode::BAD_REQUEST, "ttl soon");
    }
    for (body, kept) in [
        (r#"{"secret": "s", "ttl": "3600"}"#, 3600),
        (r#"{"secret": "s", "ttl": 99999999999999999999}"#, 604_800),
        (r#"{"secret": "s", "ttl": 3600.5}"#, 3600),
        (r#"{"secret": "s", "ttl": null}"#, 604_800),
    ] {
        let response = app
            .post_raw("/api/v1/share", "application/json", body)
            .await;
        let (code, receipt) = status_and_json(response).await;
        assert_eq!(code, StatusCode::OK, "{body}: {receipt}");
        assert_eq!(receipt["ttl"], kept, "{body}");
    }
}

/// A JSON client that sends no parameters sends an empty body: it reveals and burns as an
/// empty form does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_json_body_is_no_parameters() {
    let app = spawn_app().await;
    let api = &app.api;
    let post_empty_json = |path: String| async move {
        status_and_json(api.post_raw(&path, "application/json", "").await).await
    };
    let first = share(&app, Encoding::Form, &[("secret", "first")]).await;
    let second = share(&app, Encoding::Form, &[("secret", "second")]).await;
    let (code, revealed) =
        post_empty_json(format!("/api/v1/secret/{}", key_of(&first, "secret_key"))).await;
    assert_eq!(code, StatusCode::OK, "{revealed}");
    assert_eq!(revealed["value"], "first");
    let burn = format!("/api/v1/private/{}/burn", key_of(&second, "metadata_key"));
    let (code, burned) = post_empty_json(burn).await;
    assert_eq!(code, StatusCode::OK, "{burned}");
    assert_eq!(burned["state"]["state"], "burned", "{burned}");

    let (code, body) = post_empty_json("/api/v1/share".to_owned()).await;
    assert_v1_error(
        code,
        &body,
        StatusCode::BAD_REQUEST,
        "share without a secret",
    );
    assert_eq!(body["field"], "secret", "{body}");
}

/// A parameter whose escapes decode to bytes that are not UTF-8 is refused with its name, in a
/// form body or the query string; nothing is stored and no view is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_that_are_not_utf8_text_are_refused() {
    let app = spawn_app().await;
    let (code, body) =
        status_and_json(app.post_raw("/api/v1/share", FORM, "secret=caf%E9").await).await;
    assert_v1_error(
        code,
        &body,
        StatusCode::BAD_REQUEST,
        "a secret of Latin-1 bytes",
    );
    assert_eq!(body["field"], "secret", "{body}");
    let response = app
        .client
        .post(format!("{}/api/v1/share?secret=caf%E9", app.base))
        .send()
        .await
        .expect("request");
    let (code, body) = status_and_json(response).await;
    assert_v1_error(
        code,
        &body,
        StatusCode::BAD_REQUEST,
        "the same in the query",
    );
    assert_eq!(body["field"], "secret", "{body}");
    let dir = app.stop().await;
    assert_eq!(
        crate::helpers::stored_records(dir.path()).await,
        0,
        "nothing stored"
    );

    let app = crate::helpers::spawn_app_in(dir, |_| {}).await;
    let receipt = share(
        &app,
        Encoding::Form,
        &[("secret", "s"), ("passphrase", "päss")],
    )
    .await;
    let secret_path = format!("secret/{}", key_of(&receipt, "secret_key"));
    let response = app
        .post_raw(&format!("/api/v1/{secret_path}"), FORM, "passphrase=p%E4ss")
        .await;
    let (code, body) = status_and_json(response).await;
    assert_v1_error(code, &body, StatusCode::BAD_REQUEST, "a Latin-1 passphrase");
    assert_eq!(body["field"], "passphrase", "{body}");
    let (code, revealed) = status_and_json(
        app.v1_post(&secret_path, Encoding::Form, &[("passphrase", "päss")])
            .await,
    )
    .await;
    assert_eq!(
        (code, revealed["value"].as_str()),
        (StatusCode::OK, Some("s")),
        "{revealed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passphrases_on_reveal_and_burn() {
    let app = spawn_app().await;
    let receipt = share(
        &app,
        Encoding::Form,
        &[("secret", "guarded"), ("passphrase", "open sesame")],
    )
    .await;
    assert_eq!(receipt["passphrase_required"], true);
    let (metadata_key, secret_key) = (
        key_of(&receipt, "metadata_key"),
        key_of(&receipt, "secret_key"),
    );
    for (what, params) in [
        ("missing", vec![]),
        ("wrong", vec![("passphrase", "close sesame")]),
    ] {
        let (code, body) = status_and_json(
            app.v1_post(&format!("secret/{secret_key}"), Encoding::Form, &params)
                .await,
        )
        .await;
        assert_v1_error(
            code,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{what} passphrase on reveal"),
        );
        assert_eq!(body["field"], "passphrase");
        let (code, body) = status_and_json(
            app.v1_post(
                &format!("metadata/{metadata_key}/burn"),
                Encoding::Json,
                &params,
            )
            .await,
        )
        .await;
        assert_v1_error(
            code,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{what} passphrase on burn"),
        );
    }
    let (_, still) = status_and_json(app.v1_get(&format!("private/{metadata_key}")).await).await;
    assert_eq!(still["state"], "new", "wrong passphrases consumed nothing");
    let (code, burned) = status_and_json(
        app.v1_post(
            &format!("receipt/{metadata_key}/burn"),
            Encoding::Query,
            &[("passphrase", "open sesame")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (code, burned["state"]["state"].as_str()),
        (StatusCode::OK, Some("burned"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burn_through_every_alias_and_encoding() {
    let app = spawn_app().await;
    for alias in ALIASES {
        for encoding in ENCODINGS {
            let receipt = share(&app, Encoding::Form, &[("secret", "burn me")]).await;
            let metadata_key = key_of(&receipt, "metadata_key");
            let (code, burned) = status_and_json(
                app.v1_post(
                    &format!("{alias}/{metadata_key}/burn"),
                    encoding,
                    &[("continue", "true")],
                )
                .await,
            )
            .await;
            assert_eq!(
                (code, burned["state"]["state"].as_str()),
                (StatusCode::OK, Some("burned")),
                "{alias} {encoding:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_dialects_share_one_engine() {
    let app = spawn_app().await;
    // v1 -> Burn the Secret
    let receipt = share(
        &app,
        Encoding::Form,
        &[("secret", "from v1"), ("passphrase", "pw")],
    )
    .await;
    let (metadata_key, secret_key) = (
        key_of(&receipt, "metadata_key"),
        key_of(&receipt, "secret_key"),
    );
    let (code, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(
        (
            code,
            status["hasPassphrase"].as_bool(),
            status["maxViews"].as_u64()
        ),
        (StatusCode::OK, Some(true), Some(1))
    );
    let (code, viewed) = status_and_json(
        app.view(&secret_key, Some(&json!({"passphrase": "pw"})))
            .await,
    )
    .await;
    assert_eq!(
        (code, viewed["secret"].as_str()),
        (StatusCode::OK, Some("from v1"))
    );
    let (_, after) = status_and_json(app.v1_get(&format!("private/{metadata_key}")).await).await;
    assert_eq!(after["state"], "received");

    // Burn the Secret -> v1
    let created = app
        .create_ok(&json!({"secret": "from native", "maxViews": 2}))
        .await;
    let (secret_key, metadata_key) = crate::helpers::keys(&created);
    let (_, receipt) = status_and_json(app.v1_get(&format!("private/{metadata_key}")).await).await;
    assert_eq!(receipt["state"], "new");
    for _ in 0..2 {
        let (code, revealed) = status_and_json(
            app.v1_post(&format!("secret/{secret_key}"), Encoding::Form, &[])
                .await,
        )
        .await;
        assert_eq!(
            (code, revealed["value"].as_str()),
            (StatusCode::OK, Some("from native"))
        );
    }
    let (code, error) = status_and_json(app.view(&secret_key, None).await).await;
    assert_eq!(
        (code, error["code"].as_str()),
        (StatusCode::GONE, Some("MAX_VIEWS_REACHED"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_a_message_and_the_documented_status() {
    let app = spawn_app_with(|s| s.max_secret_bytes = 100).await;
    let long_unknown = "a".repeat(25);
    let cases: Vec<(&str, reqwest::Response, StatusCode)> = vec![
        (
            "missing secret",
            app.v1_post("share", Encoding::Form, &[("ttl", "60")]).await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "empty secret",
            app.v1_post("share", Encoding::Json, &[("secret", "")])
                .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "secret too large",
            app.v1_post("share", Encoding::Form, &[("secret", &"x".repeat(101))])
                .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "body too large",
            app.v1_post("share", Encoding::Form, &[("secret", &"x".repeat(10_000))])
                .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad recipient",
            app.v1_post(
                "share",
                Encoding::Form,
                &[("secret", "s"), ("recipient", "nobody")],
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "ttl not a number",
            app.v1_post(
                "share",
                Encoding::Query,
                &[("secret", "s"), ("ttl", "soon")],
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid JSON",
            app.client
                .post(format!("{}/api/v1/share", app.base))
                .header("content-type", "application/json")
                .body("{")
                .send()
                .await
                .expect("request"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown secret",
            app.v1_post(&format!("secret/{long_unknown}"), Encoding::Form, &[])
                .await,
            StatusCode::NOT_FOUND,
        ),
        (
            "short key",
            app.v1_post("secret/abc123", Encoding::Form, &[]).await,
            StatusCode::NOT_FOUND,
        ),
        (
            "non-alphanumeric key",
            app.v1_post("secret/aaaaaaaaaaaaaaaaaaaa-aaaa", Encoding::Form, &[])
                .await,
            StatusCode::NOT_FOUND,
        ),
        (
            "unknown receipt",
            app.v1_get(&format!("private/{long_unknown}")).await,
            StatusCode::NOT_FOUND,
        ),
        (
            "unknown burn",
            app.v1_post(&format!("private/{long_unknown}/burn"), Encoding::Form, &[])
                .await,
            StatusCode::NOT_FOUND,
        ),
        (
            "recent without credentials",
            app.v1_get("private/recent").await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "recent alias",
            app.v1_get("metadata/recent").await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "recent alias",
            app.v1_get("receipt/recent").await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "wrong credentials on an anonymous endpoint",
            app.client
                .post(format!("{}/api/v1/share", app.base))
                .basic_auth("a@b.c", Some("wrong"))
                .form(&[("secret", "s")])
                .send()
                .await
                .expect("request"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "malformed credentials",
            app.client
                .post(format!("{}/api/v1/share", app.base))
                .header("authorization", "Basic !!!")
                .form(&[("secret", "s")])
                .send()
                .await
                .expect("request"),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (what, response, expected) in cases {
        let (code, body) = status_and_json(response).await;
        assert_v1_error(code, &body, expected, what);
    }
    let dir = app.stop().await;
    assert_eq!(
        crate::helpers::stored_records(dir.path()).await,
        0,
        "no refused request stored anything"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_racing_reveals_give_one_value() {
    let app = Arc::new(spawn_app_for_races().await);
    let receipt = share(&app, Encoding::Form, &[("secret", "exactly once")]).await;
    let secret_key = key_of(&receipt, "secret_key");
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let app = Arc::clone(&app);
            let path = format!("secret/{secret_key}");
            tokio::spawn(async move {
                status_and_json(app.v1_post(&path, Encoding::Form, &[]).await).await
            })
        })
        .collect();
    let mut values = 0;
    for task in tasks {
        let (code, body) = task.await.expect("task");
        match code {
            StatusCode::OK => {
                assert_eq!(body["value"], "exactly once");
                values += 1;
            }
            StatusCode::NOT_FOUND => assert_eq!(body["message"], "Unknown secret"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(values, 1);
}

/// A reveal's body carries a passphrase at most: one over 64 KiB is refused naming the body, not
/// the secret, and counts no view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_reveal_body_names_the_body() {
    let app = spawn_app().await;
    let receipt = share(&app, Encoding::Form, &[("secret", "s")]).await;
    let secret_path = format!("secret/{}", key_of(&receipt, "secret_key"));
    let huge = "p".repeat(100_000);
    let (code, body) = status_and_json(
        app.v1_post(&secret_path, Encoding::Form, &[("passphrase", &huge)])
            .await,
    )
    .await;
    assert_v1_error(
        code,
        &body,
        StatusCode::BAD_REQUEST,
        "oversized reveal body",
    );
    assert_eq!(body["field"], "body", "{body}");
    let (code, revealed) =
        status_and_json(app.v1_post(&secret_path, Encoding::Form, &[]).await).await;
    assert_eq!(
        (code, revealed["value"].as_str()),
        (StatusCode::OK, Some("s"))
    );
}
