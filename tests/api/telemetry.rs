//! Metrics, logs, probes and shutdown, against the real binary: counts equal what was done,
//! promtool accepts the metrics and the alert rules, a real Prometheus scrapes burnbox, no log
//! line carries a secret, and SIGTERM loses no acknowledged create.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{CreateBurst, Encoding, ServerProcess, keys, sample, status_and_json, tool};

async fn scrape(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_was_done_and_carry_no_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("burnbox.log");
    let data = dir.path().join("data");
    let server = ServerProcess::start_logging(
        &data,
        &["--test-min-ttl", "1", "--sweep-interval-ms", "200"],
        Some(&log),
    )
    .await;
    let api = &server.api;
    let mut needles = Vec::new();

    // 3 native creates, 2 v1 shares; 2 native reveals, 1 v1 reveal; 1 native burn, 1 v1 burn;
    // 1 expiry; 5 wrong passphrases lock one secret.
    let mut native = Vec::new();
    for n in 0..3 {
        let text = format!("native-plaintext-{n}");
        let created = api
            .create_ok(&json!({"secret": text, "maxViews": 5, "passphrase": format!("pass-{n}")}))
            .await;
        let (secret_key, metadata_key) = keys(&created);
        needles.extend([
            text,
            format!("pass-{n}"),
            secret_key.clone(),
            metadata_key.clone(),
        ]);
        native.push((secret_key, metadata_key, format!("pass-{n}")));
    }
    let mut v1 = Vec::new();
    for n in 0..2 {
        let text = format!("v1-plaintext-{n}");
        let (code, receipt) = status_and_json(
            api.v1_post("share", Encoding::Form, &[("secret", &text)])
                .await,
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        let (secret_key, metadata_key) = (
            receipt["secret_key"].as_str().expect("key").to_owned(),
            receipt["metadata_key"].as_str().expect("key").to_owned(),
        );
        needles.extend([text, secret_key.clone(), metadata_key.clone()]);
        v1.push((secret_key, metadata_key));
    }
    for (secret_key, _, pass) in &native[..2] {
        assert_eq!(
            api.view(secret_key, Some(&json!({"passphrase": pass})))
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        api.v1_post(&format!("secret/{}", v1[0].0), Encoding::Form, &[])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(api.burn(&native[2].1).await.status(), StatusCode::OK);
    assert_eq!(
        api.v1_post(&format!("private/{}/burn", v1[1].1), Encoding::Form, &[])
            .await
            .status(),
        StatusCode::OK
    );
    let short = api
        .create_ok(&json!({"secret": "short-lived-plaintext", "ttl": 1}))
        .await;
    let (short_key, short_meta) = keys(&short);
    needles.extend(["short-lived-plaintext".to_owned(), short_key, short_meta]);
    for n in 0..5 {
        let guess = format!("wrong-guess-{n}");
        assert_eq!(
            api.view(&native[0].0, Some(&json!({"passphrase": guess})))
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
        needles.push(guess);
    }
    // Paths and methods that are none of burnbox's: each kind shares one series, whatever a
    // client sends (a key in a stray path is not kept either).
    let http = reqwest::Client::new();
    for path in ["/wp-admin/x.php", "/a/b/c/d/e/f/g", "/api/secrets/x/y/z"] {
        let response = http
            .get(format!("{}{path}", api.base))
            .send()
            .await
            .expect("stray path");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let brew = reqwest::Method::from_bytes(b"BREW").expect("method");
    let response = http
        .request(brew, format!("{}/api/secrets", api.base))
        .send()
        .await
        .expect("odd method");
    assert!(response.status().is_client_error(), "{}", response.status());
    let brew_status = response.status().as_u16();
    // The one-second secret expires: the sweeper counts it within a sweep of its expiry.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let text = loop {
        let text = scrape(&api.base).await;
        if sample(&text, "burnbox_secrets_expired_total") == Some(1.0) {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the one-second secret was never counted expired:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        sample(
            &text,
            "burnbox_http_requests_total{route=\"/{unmatched}\",method=\"GET\",status=\"404\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                "burnbox_http_requests_total{{route=\"/api/secrets\",method=\"OTHER\",status=\"{brew_status}\"}}"
            )
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        !text.contains("wp-admin") && !text.contains("BREW"),
        "{text}"
    );
    let expect = [
        ("burnbox_secrets_created_total{dialect=\"native\"}", 4.0),
        ("burnbox_secrets_created_total{dialect=\"ots\"}", 2.0),
        ("burnbox_secrets_revealed_total{dialect=\"native\"}", 2.0),
        ("burnbox_secrets_revealed_total{dialect=\"ots\"}", 1.0),
        ("burnbox_secrets_burned_total{dialect=\"native\"}", 1.0),
        ("burnbox_secrets_burned_total{dialect=\"ots\"}", 1.0),
        ("burnbox_secrets_expired_total", 1.0),
        ("burnbox_secrets_locked_total", 1.0),
        // 6 created; the v1 reveal received one, two burned, one expired: 2 live.
        ("burnbox_live_secrets", 2.0),
        (
            "burnbox_http_requests_total{route=\"/api/secrets\",method=\"POST\",status=\"200\"}",
            4.0,
        ),
        (
            "burnbox_http_requests_total{route=\"/api/secrets/{key}\",method=\"POST\",status=\"401\"}",
            5.0,
        ),
        (
            "burnbox_http_requests_total{route=\"/api/v1/share\",method=\"POST\",status=\"200\"}",
            2.0,
        ),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    // Every write went through a group commit: at least the 6 creates, never more commits than
    // writes.
    let batched = sample(&text, "burnbox_store_commit_batch_size_sum").expect("batch sum");
    let commits = sample(&text, "burnbox_store_commit_batch_size_count").expect("batch count");
    assert!(
        batched >= 6.0 && commits >= 1.0 && commits <= batched,
        "{batched} writes in {commits} commits"
    );
    for name in [
        "burnbox_http_request_duration_seconds_bucket",
        "burnbox_resident_actors",
        "burnbox_build_info",
        "burnbox_store_operation_duration_seconds_count",
        "burnbox_sweeper_runs_total",
    ] {
        assert!(text.contains(name), "{name} exported");
    }

    // promtool accepts the exposition.
    let mut promtool = std::process::Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    std::io::Write::write_all(&mut promtool.stdin.take().expect("stdin"), text.as_bytes())
        .expect("write");
    let checked = promtool.wait_with_output().expect("promtool finishes");
    let complaints = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        checked.status.success() && complaints.trim().is_empty(),
        "promtool: {complaints}"
    );

    drop(server);
    let logs = std::fs::read_to_string(&log).expect("log");
    let request_lines = logs
        .lines()
        .filter(|l| l.contains("\"route\"") && !l.contains("/metrics"))
        .count();
    // 16 requests of the secrets' lives, 4 stray ones.
    assert_eq!(request_lines, 20, "one line per request");
    for needle in needles.iter().chain(std::iter::once(&text)) {
        if needle != &text {
            assert!(!logs.contains(needle.as_str()), "the log shows {needle}");
            assert!(!text.contains(needle.as_str()), "a metric shows {needle}");
        }
    }
}

#[test]
fn alert_rules_pass_promtool() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/prometheus/alerts.yml");
    crate::helpers::promtool_check("rules", &rules);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_burnbox() {
    let dir = tempfile::tempdir().expect("temp dir");
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let server = ServerProcess::start(
        &dir.path().join("data"),
        &["--metrics-listen", &metrics_addr],
    )
    .await;
    for n in 0..3 {
        server
            .api
            .create_ok(&json!({"secret": format!("s{n}")}))
            .await;
    }
    assert_eq!(
        reqwest::get(format!("{}/metrics", server.api.base))
            .await
            .expect("get")
            .status(),
        StatusCode::NOT_FOUND,
        "metrics moved off the main address"
    );

    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: burnbox\n    static_configs:\n      - targets: ['{metrics_addr}']\n"),
    )
    .expect("config");
    let prometheus_port = free_port();
    let _prometheus = tokio::process::Command::new(tool("prometheus"))
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus starts");
    let query = format!(
        "http://127.0.0.1:{prometheus_port}/api/v1/query?query=sum(burnbox_secrets_created_total)"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = reqwest::get(&query).await
            && let Ok(body) = response.json::<Value>().await
            && let Some(value) = body["data"]["result"][0]["value"][1].as_str()
        {
            assert_eq!(value, "3", "Prometheus sees the three creates");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus never scraped burnbox"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(dir.path(), &[]).await;
    let (code, body) = status_and_json(
        reqwest::get(format!("{}/healthz", server.api.base))
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(
        (code, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (code, body) = status_and_json(
        reqwest::get(format!("{}/readyz", server.api.base))
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(
        (code, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let metrics = reqwest::get(format!("{}/metrics", server.api.base))
        .await
        .expect("get");
    let types: Vec<_> = metrics
        .headers()
        .get_all("content-type")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        types,
        ["text/plain; version=0.0.4; charset=utf-8"],
        "one Content-Type, Prometheus's text format"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_loses_no_acknowledged_create() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(dir.path(), &[]).await;
    let burst = CreateBurst::start(&server.api.base);
    burst.wait_for(100).await;
    server.terminate().await;
    let acknowledged = burst.stop().await;
    assert!(
        acknowledged.len() >= 100,
        "the burst ran ({} creates)",
        acknowledged.len()
    );
    let server = ServerProcess::start(dir.path(), &[]).await;
    for (secret_key, text) in &acknowledged {
        let (code, viewed) = status_and_json(server.api.view(secret_key, None).await).await;
        assert_eq!(
            code,
            StatusCode::OK,
            "acknowledged secret lost after SIGTERM"
        );
        assert_eq!(viewed["secret"].as_str(), Some(text.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_logs_written_to_a_file_carry_no_colour_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("burnbox.log");
    let mut server = ServerProcess::start_logging(
        &dir.path().join("data"),
        &["--log-format", "human"],
        Some(&log),
    )
    .await;
    let response = reqwest::get(format!("{}/healthz", server.api.base))
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    server.terminate().await;
    let logs = std::fs::read_to_string(&log).expect("log");
    assert!(
        logs.lines()
            .any(|l| l.contains(" INFO ") && l.contains("/healthz")),
        "a plain request line in\n{logs}"
    );
    assert!(!logs.contains('\u{1b}'), "no escape codes in\n{logs}");
}
