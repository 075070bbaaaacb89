//! 50 MB files, 4 at a time: uploads and reveals through burnbox against raw S3 `PutObject` and
//! `GetObject` of the same bytes to the same S3 server (`s3s-fs`), in the same run; and the
//! server's peak memory growth while it streams them.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures_util::future::join_all;
use serde_json::Value;

use super::{Server, start_burnbox_with};

/// Part size of the raw multipart upload measured for comparison (what burnbox used before it
/// switched to single puts).
const PART_LEN: usize = 8 * 1024 * 1024;

#[path = "../../tests/api/s3.rs"]
#[allow(dead_code, reason = "shared with the tests, which use all of it")]
mod s3;
use s3::S3Server;

#[path = "../../tests/api/sample.rs"]
mod sample;

/// Bytes per file.
const FILE_LEN: usize = 50_000_000;
/// Files moved at once.
const AT_ONCE: usize = 4;
/// Rounds of each scenario; the median is reported.
const ROUNDS: usize = 3;

/// One scenario's median throughput.
struct Row {
    name: &'static str,
    mb_per_s: f64,
    baseline: Option<f64>,
    peak_growth_mib: Option<f64>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// MB/s for moving every file once in `elapsed`.
fn throughput(elapsed: Duration) -> f64 {
    (AT_ONCE * FILE_LEN) as f64 / 1e6 / elapsed.as_secs_f64()
}

fn raw_client(server: &S3Server) -> Client {
    let settings = server.settings();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region))
        .credentials_provider(Credentials::new(
            settings.access_key_id,
            settings.secret_access_key,
            None,
            None,
            "bench",
        ))
        .force_path_style(true)
        .endpoint_url(server.endpoint())
        .build();
    Client::from_conf(config)
}

/// One multipart upload of `file` in [`PART_LEN`] parts, one part after the other.
async fn multipart_put(client: &Client, key: String, file: Bytes) {
    let started = client
        .create_multipart_upload()
        .bucket(s3::BUCKET)
        .key(&key)
        .send()
        .await
        .expect("start upload");
    let upload_id = started.upload_id().expect("upload id").to_owned();
    let mut parts = Vec::new();
    for (i, offset) in (0..file.len()).step_by(PART_LEN).enumerate() {
        let number = i32::try_from(i + 1).expect("part number");
        let body = file.slice(offset..(offset + PART_LEN).min(file.len()));
        let sent = client
            .upload_part()
            .bucket(s3::BUCKET)
            .key(&key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("part");
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(sent.e_tag().map(str::to_owned))
                .build(),
        );
    }
    client
        .complete_multipart_upload()
        .bucket(s3::BUCKET)
        .key(&key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("complete");
}

/// Raw S3 multipart uploads of every file, `ROUNDS` times: how a stream of unknown length could be
/// sent without spooling it (burnbox sent files this way before it spooled them for one put).
async fn raw_s3_multipart(server: &S3Server, files: &[Bytes]) -> f64 {
    let client = raw_client(server);
    let mut puts = Vec::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        join_all(files.iter().enumerate().map(|(i, file)| {
            multipart_put(&client, format!("multipart/{round}/{i}"), file.clone())
        }))
        .await;
        puts.push(throughput(started.elapsed()));
    }
    median(puts)
}

/// Raw S3: every file put, then every file got, `ROUNDS` times.
async fn raw_s3(server: &S3Server, files: &[Bytes]) -> (f64, f64) {
    let client = raw_client(server);
    let (mut puts, mut gets) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let started = Instant::now();
        join_all(files.iter().enumerate().map(|(i, file)| {
            client
                .put_object()
                .bucket(s3::BUCKET)
                .key(format!("raw/{round}/{i}"))
                .body(ByteStream::from(file.clone()))
                .send()
        }))
        .await
        .into_iter()
        .for_each(|put| {
            put.expect("raw put");
        });
        puts.push(throughput(started.elapsed()));
        let started = Instant::now();
        let got = join_all((0..files.len()).map(|i| {
            let client = client.clone();
            async move {
                let object = client
                    .get_object()
                    .bucket(s3::BUCKET)
                    .key(format!("raw/{round}/{i}"))
                    .send()
                    .await
                    .expect("raw get");
                object
                    .body
                    .collect()
                    .await
                    .expect("raw body")
                    .into_bytes()
                    .len()
            }
        }))
        .await;
        assert!(got.iter().all(|len| *len == FILE_LEN));
        gets.push(throughput(started.elapsed()));
    }
    (median(puts), median(gets))
}

/// burnbox: every file uploaded, then every file viewed, `ROUNDS` times; and the peak RSS growth.
async fn through_burnbox(server: &Server, files: &[Bytes]) -> (f64, f64, f64) {
    let client = reqwest::Client::new();
    let baseline = server.rss_mib();
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let keys = join_all(files.iter().map(|file| {
            let form = reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::stream(reqwest::Body::from(file.clone()))
                    .file_name("bench.bin"),
            );
            let request = client
                .post(format!("{}/api/secrets", server.base))
                .multipart(form);
            async move {
                let body: Value = request
                    .send()
                    .await
                    .expect("upload")
                    .json()
                    .await
                    .expect("json");
                body["metadata"]["secretKey"]
                    .as_str()
                    .expect("uploaded")
                    .to_owned()
            }
        }))
        .await;
        ups.push(throughput(started.elapsed()));
        let started = Instant::now();
        let lens = join_all(keys.iter().map(|key| {
            let request = client.post(format!("{}/api/secrets/{key}", server.base));
            async move {
                request
                    .send()
                    .await
                    .expect("view")
                    .bytes()
                    .await
                    .expect("whole file")
                    .len()
            }
        }))
        .await;
        assert!(lens.iter().all(|len| *len == FILE_LEN));
        downs.push(throughput(started.elapsed()));
    }
    let growth = server.peak_rss_mib() - baseline;
    (median(ups), median(downs), growth)
}

/// Runs every file scenario and returns the report's section.
pub async fn section(scratch: &Path) -> String {
    let files: Vec<Bytes> = (0..AT_ONCE)
        .map(|i| Bytes::from(sample::sample_file(FILE_LEN, i as u8)))
        .collect();
    let s3 = S3Server::start().await;
    let (raw_put, raw_get) = raw_s3(&s3, &files).await;
    let raw_multipart = raw_s3_multipart(&s3, &files).await;

    let on_s3 = start_burnbox_with(&scratch.join("files-s3"), &s3.flags(), &s3.env()).await;
    let (s3_up, s3_down, s3_growth) = through_burnbox(&on_s3, &files).await;
    drop(on_s3);
    let on_fs = start_burnbox_with(&scratch.join("files-fs"), &[], &[]).await;
    let (fs_up, fs_down, fs_growth) = through_burnbox(&on_fs, &files).await;
    drop(on_fs);

    let rows = [
        Row {
            name: "raw S3 PutObject",
            mb_per_s: raw_put,
            baseline: None,
            peak_growth_mib: None,
        },
        Row {
            name: "raw S3 GetObject",
            mb_per_s: raw_get,
            baseline: None,
            peak_growth_mib: None,
        },
        Row {
            name: "raw S3 multipart upload (8 MiB parts)",
            mb_per_s: raw_multipart,
            baseline: Some(raw_put),
            peak_growth_mib: None,
        },
        Row {
            name: "burnbox upload, S3 blobs",
            mb_per_s: s3_up,
            baseline: Some(raw_put),
            peak_growth_mib: Some(s3_growth),
        },
        Row {
            name: "burnbox view, S3 blobs",
            mb_per_s: s3_down,
            baseline: Some(raw_get),
            peak_growth_mib: None,
        },
        Row {
            name: "burnbox upload, fs blobs",
            mb_per_s: fs_up,
            baseline: Some(raw_put),
            peak_growth_mib: Some(fs_growth),
        },
        Row {
            name: "burnbox view, fs blobs",
            mb_per_s: fs_down,
            baseline: Some(raw_get),
            peak_growth_mib: None,
        },
    ];
    let mut out = format!(
        "## Files\n\n{AT_ONCE} files of {FILE_LEN} bytes at once, median of {ROUNDS} rounds; raw S3 is the same bytes put to and got from the same `s3s-fs` with aws-sdk-s3. Peak RSS growth is the server's `VmHWM` after all rounds of uploads and views over its RSS before them (target: under {} MiB, 64 MiB per concurrent file).\n\n| scenario | MB/s | x raw S3 | server peak RSS growth MiB |\n| --- | --- | --- | --- |\n",
        64 * AT_ONCE
    );
    for row in rows {
        let ratio = row
            .baseline
            .map_or_else(|| "1.00".to_owned(), |b| format!("{:.2}", row.mb_per_s / b));
        let growth = row
            .peak_growth_mib
            .map_or_else(String::new, |g| format!("{g:.0}"));
        out.push_str(&format!(
            "| {} | {:.0} | {ratio} | {growth} |\n",
            row.name, row.mb_per_s
        ));
    }
    println!("\n{out}");
    out
}
