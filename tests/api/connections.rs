//! Slow and idle clients against the real server: half-open sockets cannot exhaust its file
//! descriptors, a request head must arrive within the header-read timeout once it starts, an idle
//! kept-alive connection lives its idle timeout and no longer, and a body that stalls is refused
//! in the dialect's shape.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::helpers::{ServerProcess, sample, spawn_app_with};

/// Another loopback address than the one the flood comes from.
const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn address_of(base: &str) -> SocketAddr {
    base.trim_start_matches("http://")
        .parse()
        .expect("socket address")
}

/// Whether the server closes `stream` within `within` (end of stream or a reset).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Reads one HTTP/1.1 response with a `Content-Length` from `stream`: its status line and body.
async fn read_response(stream: &mut TcpStream) -> (String, String) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "closed before a response");
        seen.extend_from_slice(&buf[..n]);
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("a content length");
    while seen.len() < head_end + length {
        let n = stream.read(&mut buf).await.expect("read body");
        assert!(n > 0, "closed inside the body");
        seen.extend_from_slice(&buf[..n]);
    }
    let status = head.lines().next().unwrap_or_default().to_owned();
    (
        status,
        String::from_utf8_lossy(&seen[head_end..]).to_string(),
    )
}

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the server's descriptors")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_half_open_sockets_leave_healthz_answering() {
    let data = tempfile::tempdir().expect("data dir");
    let server = ServerProcess::start(data.path(), &["--header-read-timeout-secs", "2"]).await;
    let address = address_of(&server.api.base);
    // Room for the server's own descriptors and one address's cap of connections (64), not
    // for 200 sockets.
    let limit = open_descriptors(server.pid()) + 64 + 16;
    let limited = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", server.pid()))
        .arg(format!("--nofile={limit}:{limit}"))
        .status()
        .expect("prlimit runs");
    assert!(limited.success(), "the descriptor limit is set");

    let mut flood = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        // Half a request line, never finished.
        let _ = stream.write_all(b"GET /healthz HT").await;
        flood.push(stream);
    }

    let other = reqwest::Client::builder()
        .local_address(OTHER_CLIENT)
        .build()
        .expect("client");
    let answered = timeout(
        Duration::from_secs(1),
        other.get(format!("{}/healthz", server.api.base)).send(),
    )
    .await
    .expect("/healthz answers within a second")
    .expect("/healthz answers");
    assert_eq!(answered.status(), StatusCode::OK);

    // Every half-open socket is closed: at once beyond the address's cap, after the
    // header-read timeout within it.
    for (i, stream) in flood.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(6)).await,
            "socket {i} is still open"
        );
    }
    let metrics = server.api.scrape().await;
    let count = |reason: &str| {
        sample(
            &metrics,
            &format!("burnbox_connections_refused_total{{reason=\"{reason}\"}}"),
        )
        .unwrap_or_else(|| panic!("{reason} counted in\n{metrics}"))
    };
    assert!(count("per_client_cap") >= 136.0, "{metrics}");
    assert!(count("header_read_timeout") >= 64.0, "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_head_is_cut_and_an_idle_connection_lives_its_idle_timeout() {
    let app = spawn_app_with(|settings| {
        settings.connections.header_read = Duration::from_secs(2);
        settings.connections.idle = Duration::from_secs(4);
    })
    .await;
    let address = address_of(&app.base);

    // A head that keeps arriving, a header every 300 ms, is cut at its deadline all the same.
    let mut trickle = TcpStream::connect(address).await.expect("connect");
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < Duration::from_secs(8) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if trickle
            .write_all(b"X-Slow: still coming\r\n")
            .await
            .is_err()
        {
            cut = true;
            break;
        }
        let mut probe = [0u8; 64];
        if let Ok(Ok(0) | Err(_)) =
            timeout(Duration::from_millis(1), trickle.read(&mut probe)).await
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "a trickled head was not cut within 8 s");

    // Between requests, only the idle timeout counts: a pause longer than the header-read
    // timeout keeps the connection, a pause longer than the idle timeout ends it.
    let mut kept = TcpStream::connect(address).await.expect("connect");
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    kept.write_all(request).await.expect("first request");
    assert!(read_response(&mut kept).await.0.contains("200"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    kept.write_all(request).await.expect("second request");
    assert!(read_response(&mut kept).await.0.contains("200"));
    assert!(
        closed_within(&mut kept, Duration::from_secs(8)).await,
        "an idle connection outlived its idle timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_refused_in_each_dialects_shape() {
    let app = spawn_app_with(|settings| {
        settings.connections.body_read = Duration::from_secs(1);
    })
    .await;
    let address = address_of(&app.base);
    for (path, content_type, start) in [
        (
            "/api/secrets",
            "application/json",
            &b"{\"secret\": \"par"[..],
        ),
        (
            "/api/v1/share",
            "application/x-www-form-urlencoded",
            &b"secret=par"[..],
        ),
    ] {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: 100\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        stream.write_all(start).await.expect("part of the body");
        let (status, body) = timeout(Duration::from_secs(10), read_response(&mut stream))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer to a stalled body"));
        assert!(status.starts_with("HTTP/1.1 400"), "{path}: {status}");
        let error: Value = serde_json::from_str(&body).expect("a JSON error");
        let message = if path.starts_with("/api/v1") {
            error["message"].as_str()
        } else {
            error["hint"].as_str()
        };
        assert!(
            message.is_some_and(|m| m.contains("did not arrive within 1 s")),
            "{path}: {error}"
        );
    }
}
