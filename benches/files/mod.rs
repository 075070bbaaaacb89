//! 50 MB files, 4 at a time: uploads and reveals through burnbox against raw S3 `PutObject` and
//! `GetObject` of the same bytes to the same S3 server (`s3s-fs`), in the same run, the scenarios
//! taking turns round by round; the CPU time each process spends per GB moved; and the servers'
//! peak memory growth while they stream the files.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures_util::future::join_all;
use serde_json::Value;

use super::{Server, cpu_seconds_of, start_burnbox_with};

/// Part size of the raw multipart upload measured for comparison (what burnbox used before it
/// switched to single puts).
const PART_LEN: usize = 8 * 1024 * 1024;

use burnbox_testkit::s3::{self, S3Server};
use burnbox_testkit::sample;

/// Bytes per file.
const FILE_LEN: usize = 50_000_000;
/// Files moved at once.
const AT_ONCE: usize = 4;
/// Rounds; in each, every scenario moves every file once. The median round is reported.
const ROUNDS: usize = 5;

/// What one scenario measured over the rounds.
#[derive(Default)]
struct Tally {
    mb_per_s: Vec<f64>,
    /// CPU seconds of burnbox's server, the S3 server and this load generator, summed.
    cpu: [f64; 3],
    /// Bytes moved, summed.
    bytes: f64,
}

impl Tally {
    fn median(&self) -> f64 {
        let mut values = self.mb_per_s.clone();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(0.0)
    }

    /// `burnbox / S3 server / client` CPU seconds per GB moved.
    fn cpu_per_gb(&self, with_burnbox: bool) -> String {
        let per_gb = |seconds: f64| seconds / (self.bytes / 1e9);
        let burnbox = if with_burnbox {
            format!("{:.2}", per_gb(self.cpu[0]))
        } else {
            "-".to_owned()
        };
        format!(
            "{burnbox} / {:.2} / {:.2}",
            per_gb(self.cpu[1]),
            per_gb(self.cpu[2])
        )
    }
}

/// The processes a scenario's CPU time is read from.
struct Meters<'a> {
    s3_pid: String,
    burnbox: Option<&'a Server>,
}

impl Meters<'_> {
    fn read(&self) -> [f64; 3] {
        [
            self.burnbox.map_or(0.0, Server::cpu_seconds),
            cpu_seconds_of(&self.s3_pid),
            cpu_seconds_of("self"),
        ]
    }

    /// Runs `work` (which moves every file once) and adds its throughput and CPU to `tally`.
    async fn measure<T>(&self, tally: &mut Tally, work: impl Future<Output = T>) -> T {
        let before = self.read();
        let started = Instant::now();
        let out = work.await;
        let elapsed = started.elapsed();
        let after = self.read();
        for (sum, (a, b)) in tally.cpu.iter_mut().zip(after.iter().zip(before)) {
            *sum += a - b;
        }
        tally.bytes += (AT_ONCE * FILE_LEN) as f64;
        tally.mb_per_s.push(throughput(elapsed));
        out
    }
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

/// Every file put at once, under `raw/{round}/`.
async fn raw_puts(client: &Client, files: &[Bytes], round: usize) {
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
}

/// Every file of [`raw_puts`] got back at once.
async fn raw_gets(client: &Client, round: usize) {
    let got = join_all((0..AT_ONCE).map(|i| async move {
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
    }))
    .await;
    assert!(got.iter().all(|len| *len == FILE_LEN));
}

/// Every file uploaded to burnbox at once; their secret keys.
async fn uploads(client: &reqwest::Client, server: &Server, files: &[Bytes]) -> Vec<String> {
    join_all(files.iter().map(|file| {
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
    .await
}

/// Every uploaded file viewed (its last view) at once.
async fn views(client: &reqwest::Client, server: &Server, keys: &[String]) {
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
}

/// Deletes what round `round` left in the bucket, so the disk does not fill (not measured).
async fn clear_round(client: &Client, round: usize) {
    for prefix in ["raw", "multipart"] {
        for i in 0..AT_ONCE {
            client
                .delete_object()
                .bucket(s3::BUCKET)
                .key(format!("{prefix}/{round}/{i}"))
                .send()
                .await
                .expect("delete");
        }
    }
}

/// The scenarios, in the report's order.
#[derive(Clone, Copy)]
enum Scenario {
    RawPut,
    RawGet,
    RawMultipart,
    S3Upload,
    S3View,
    FsUpload,
    FsView,
}

impl Scenario {
    const ALL: [Self; 7] = [
        Self::RawPut,
        Self::RawGet,
        Self::RawMultipart,
        Self::S3Upload,
        Self::S3View,
        Self::FsUpload,
        Self::FsView,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::RawPut => "raw S3 PutObject",
            Self::RawGet => "raw S3 GetObject",
            Self::RawMultipart => "raw S3 multipart upload (8 MiB parts)",
            Self::S3Upload => "burnbox upload, S3 blobs",
            Self::S3View => "burnbox view, S3 blobs",
            Self::FsUpload => "burnbox upload, fs blobs",
            Self::FsView => "burnbox view, fs blobs",
        }
    }

    /// The raw S3 scenario it is compared with.
    fn baseline(self) -> Option<Self> {
        match self {
            Self::RawPut | Self::RawGet => None,
            Self::RawMultipart | Self::S3Upload | Self::FsUpload => Some(Self::RawPut),
            Self::S3View | Self::FsView => Some(Self::RawGet),
        }
    }
}

/// Runs every file scenario and returns its report.
pub async fn section(scratch: &Path) -> String {
    let files: Vec<Bytes> = (0..AT_ONCE)
        .map(|i| Bytes::from(sample::sample_file(FILE_LEN, i as u8)))
        .collect();
    let s3 = S3Server::start().await;
    let raw = raw_client(&s3);
    let on_s3 = start_burnbox_with(&scratch.join("files-s3"), &s3.flags(), &s3.env()).await;
    let on_fs = start_burnbox_with(&scratch.join("files-fs"), &[], &[]).await;
    let web = reqwest::Client::new();
    let rss_before = [on_s3.rss_mib(), on_fs.rss_mib()];
    let s3_pid = s3.pid().expect("s3s-fs runs").to_string();
    let meters = |burnbox| Meters {
        s3_pid: s3_pid.clone(),
        burnbox,
    };
    let (bare, via_s3, via_fs) = (meters(None), meters(Some(&on_s3)), meters(Some(&on_fs)));
    let mut tallies: Vec<Tally> = Scenario::ALL.iter().map(|_| Tally::default()).collect();
    for round in 0..ROUNDS {
        // The uploads take turns in an order that shifts each round, so none always runs right
        // after another (whose writes the disk may still be flushing); each view follows its
        // own upload.
        let mut order = [Scenario::RawPut, Scenario::S3Upload, Scenario::FsUpload];
        let turns = order.len();
        order.rotate_left(round % turns);
        for upload in order {
            let tally = &mut tallies[upload as usize];
            match upload {
                Scenario::RawPut => {
                    bare.measure(tally, raw_puts(&raw, &files, round)).await;
                    let tally = &mut tallies[Scenario::RawGet as usize];
                    bare.measure(tally, raw_gets(&raw, round)).await;
                }
                Scenario::S3Upload => {
                    let keys = via_s3.measure(tally, uploads(&web, &on_s3, &files)).await;
                    let tally = &mut tallies[Scenario::S3View as usize];
                    via_s3.measure(tally, views(&web, &on_s3, &keys)).await;
                }
                _ => {
                    let keys = via_fs.measure(tally, uploads(&web, &on_fs, &files)).await;
                    let tally = &mut tallies[Scenario::FsView as usize];
                    via_fs.measure(tally, views(&web, &on_fs, &keys)).await;
                }
            }
        }
        let tally = &mut tallies[Scenario::RawMultipart as usize];
        let multipart =
            join_all(files.iter().enumerate().map(|(i, file)| {
                multipart_put(&raw, format!("multipart/{round}/{i}"), file.clone())
            }));
        bare.measure(tally, multipart).await;
        clear_round(&raw, round).await;
    }
    let growth = [
        on_s3.peak_rss_mib() - rss_before[0],
        on_fs.peak_rss_mib() - rss_before[1],
    ];
    drop((on_s3, on_fs));

    let mut out = format!(
        "# Files\n\nWritten by `cargo bench --bench load` (or alone with `BURNBOX_BENCH_ONLY_FILES=1`).\n\n{}\n{AT_ONCE} files of {FILE_LEN} bytes at once; raw S3 is the same bytes put to and got from the same `s3s-fs` with aws-sdk-s3 (its default settings: payload signed, CRC32 checksum). {ROUNDS} rounds, in each every scenario moves every file once, the uploads in an order that shifts each round (each view right after its upload); MB/s is the median round, `x raw S3` its ratio to the raw scenario's median. CPU is each process's user + system time over all rounds per GB moved (burnbox's server, `s3s-fs`, the load generator). Peak RSS growth is a burnbox server's `VmHWM` after all rounds over its RSS before them (target: under {} MiB, 64 MiB per concurrent file).\n\n| scenario | MB/s | x raw S3 | CPU s per GB: burnbox / S3 server / client | server peak RSS growth MiB |\n| --- | --- | --- | --- | --- |\n",
        super::machine(),
        64 * AT_ONCE
    );
    for scenario in Scenario::ALL {
        let tally = &tallies[scenario as usize];
        let ratio = scenario.baseline().map_or_else(
            || "1.00".to_owned(),
            |b| format!("{:.2}", tally.median() / tallies[b as usize].median()),
        );
        let peak_growth = match scenario {
            Scenario::S3Upload => format!("{:.0}", growth[0]),
            Scenario::FsUpload => format!("{:.0}", growth[1]),
            _ => String::new(),
        };
        let with_burnbox = !matches!(
            scenario,
            Scenario::RawPut | Scenario::RawGet | Scenario::RawMultipart
        );
        out.push_str(&format!(
            "| {} | {:.0} | {ratio} | {} | {peak_growth} |\n",
            scenario.name(),
            tally.median(),
            tally.cpu_per_gb(with_burnbox),
        ));
    }
    println!("\n{out}");
    out
}
