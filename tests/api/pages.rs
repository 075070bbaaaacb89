//! The pages in a real browser: Debian's headless Chromium driven through ChromeDriver. A secret
//! is created on `/`, its link opened (which counts nothing) and revealed with a click, and a
//! receipt shows and burns its secret.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{TestApp, keys, spawn_app};

/// ChromeDriver on a loopback port, killed when dropped.
pub struct Driver {
    process: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Driver {
    pub async fn start() -> Self {
        let path = std::env::var("BURNBOX_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new(&path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{path} does not start ({e}): ops/test.sh installs chromium-driver")
            });
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            process,
            url,
            _profile: tempfile::tempdir().expect("profile dir"),
        }
    }

    pub async fn browser(&self) -> Client {
        self.browser_with(&[]).await
    }

    /// Where the browser saves downloads.
    pub fn downloads(&self) -> std::path::PathBuf {
        self._profile.path().join("downloads")
    }

    /// A browser with `extra` command-line flags (a window size, a colour scheme).
    pub async fn browser_with(&self, extra: &[&str]) -> Client {
        self.session(extra, None).await
    }

    /// A browser that presents itself as a phone: a 390 × 844 screen at twice the pixels, touch.
    pub async fn phone_browser(&self) -> Client {
        let phone = json!({
            "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": true},
        });
        self.session(&[], Some(phone)).await
    }

    async fn session(&self, extra: &[&str], mobile_emulation: Option<Value>) -> Client {
        let chromium =
            std::env::var("BURNBOX_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let profile = self._profile.path().display().to_string();
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--user-data-dir={profile}"),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let capabilities = json!({
            // The page's console, for `console_errors`.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
                "prefs": {
                    "download.default_directory": self.downloads().display().to_string(),
                    "download.prompt_for_download": false,
                },
            }
        });
        let mut capabilities = capabilities;
        if let Some(emulation) = mobile_emulation {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = emulation;
        }
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a browser session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.start_kill();
    }
}

/// ChromeDriver's read of the browser's log (its console and the errors it reports itself, such
/// as a blocked script or request), which the WebDriver standard has no command for.
#[derive(Debug)]
struct ReadBrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for ReadBrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The console's errors (level SEVERE) since the last call.
pub async fn console_errors(browser: &Client) -> Vec<String> {
    let log = browser
        .issue_cmd(ReadBrowserLog)
        .await
        .expect("browser log");
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["level"] == "SEVERE")
        .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The text of `css` once it and every element around it are shown (not `hidden`).
pub async fn visible_text(browser: &Client, css: &str) -> String {
    let selector = css
        .split(' ')
        .map(|part| format!("{part}:not([hidden])"))
        .collect::<Vec<_>>()
        .join(" ");
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&selector))
        .await
        .unwrap_or_else(|e| panic!("{selector} shows: {e}"))
        .text()
        .await
        .expect("text")
}

pub async fn click(browser: &Client, id: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click #{id}: {e}"));
}

async fn views_of(app: &TestApp, metadata_key: &str) -> Value {
    app.status(metadata_key).await.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_made_on_the_page_is_revealed_once_with_a_click() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;

    browser
        .goto(&format!("{}/", app.base))
        .await
        .expect("create page");
    let text = "hunter2 ✓ <b>not markup</b>";
    browser
        .find(Locator::Id("secret"))
        .await
        .expect("secret box")
        .send_keys(text)
        .await
        .expect("typed");
    click(&browser, "create-button").await;
    visible_text(&browser, "#created").await;
    let secret_url = browser
        .find(Locator::Id("secret-url"))
        .await
        .expect("link")
        .prop("value")
        .await
        .expect("value")
        .expect("a link");
    let receipt_url = browser
        .find(Locator::Id("receipt-url"))
        .await
        .expect("receipt link")
        .prop("value")
        .await
        .expect("value")
        .expect("a receipt link");
    assert!(
        secret_url.starts_with(&format!("{}/secret/", app.base)),
        "{secret_url}"
    );
    let metadata_key = receipt_url
        .split('#')
        .next()
        .and_then(|link| link.rsplit('/').next())
        .expect("key")
        .to_owned();

    // Opening the link, as a chat preview would, counts nothing.
    browser.goto(&secret_url).await.expect("secret page");
    visible_text(&browser, "#reveal").await;
    assert_eq!(views_of(&app, &metadata_key).await["viewCount"], 0);

    click(&browser, "reveal-button").await;
    assert_eq!(
        visible_text(&browser, "#revealed #secret-text").await,
        text,
        "shown as text, not markup"
    );
    assert!(
        visible_text(&browser, "#revealed #remaining")
            .await
            .contains("last view")
    );
    let status = views_of(&app, &metadata_key).await;
    assert_eq!(
        (status["viewCount"].as_u64(), status["state"].as_str()),
        (Some(1), Some("received")),
        "{status}"
    );

    // The key left the address bar once read; a reload shows the secret is gone.
    let address = browser.current_url().await.expect("address");
    assert!(address.fragment().is_none(), "{address}");
    browser.refresh().await.expect("reloaded");
    assert!(
        visible_text(&browser, "#error")
            .await
            .contains("no longer available")
    );
    assert!(
        browser
            .find(Locator::Css("#reveal:not([hidden])"))
            .await
            .is_err(),
        "no second reveal"
    );

    browser.goto(&receipt_url).await.expect("receipt page");
    assert_eq!(visible_text(&browser, "#status #state").await, "received");
    assert_eq!(visible_text(&browser, "#status #views").await, "1 of 1");
    browser.close().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_is_asked_for_and_a_receipt_burns_its_secret() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;

    let created = app
        .create_ok(&json!({"secret": "guarded", "passphrase": "open sesame"}))
        .await;
    let secret_url = created["secretUrl"].as_str().expect("url").to_owned();
    browser.goto(&secret_url).await.expect("secret page");
    // The page shows the passphrase row once its script has read the secret's status: wait for it.
    let passphrase = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#passphrase-row:not([hidden]) #passphrase"))
        .await;
    passphrase
        .expect("asked for")
        .send_keys("wrong")
        .await
        .expect("typed");
    click(&browser, "reveal-button").await;
    assert!(
        visible_text(&browser, "#error")
            .await
            .contains("Invalid passphrase")
    );
    let field = browser
        .find(Locator::Id("passphrase"))
        .await
        .expect("field");
    field.clear().await.expect("cleared");
    field.send_keys("open sesame").await.expect("typed");
    click(&browser, "reveal-button").await;
    assert_eq!(
        visible_text(&browser, "#revealed #secret-text").await,
        "guarded"
    );

    let created = app
        .create_ok(&json!({"secret": "to be burned", "maxViews": 3}))
        .await;
    let (_, metadata_key) = keys(&created);
    browser
        .goto(created["metadataUrl"].as_str().expect("url"))
        .await
        .expect("receipt page");
    assert_eq!(visible_text(&browser, "#status #state").await, "live");
    assert_eq!(visible_text(&browser, "#status #views").await, "0 of 3");
    click(&browser, "burn-button").await;
    click(&browser, "burn-confirm").await;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//dd[@id='state' and text()='burned']"))
        .await
        .expect("shown burned");
    assert_eq!(views_of(&app, &metadata_key).await["state"], "burned");
    browser
        .goto(created["secretUrl"].as_str().expect("url"))
        .await
        .expect("secret page");
    assert!(
        visible_text(&browser, "#error")
            .await
            .contains("no longer available")
    );

    // A file is offered for saving, under its own name.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"%PDF-1.7 eleven".to_vec()).file_name("report.pdf"),
    );
    let created: Value = app
        .client
        .post(format!("{}/api/secrets", app.base))
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    browser
        .goto(created["secretUrl"].as_str().expect("url"))
        .await
        .expect("secret page");
    visible_text(&browser, "#reveal").await;
    click(&browser, "reveal-button").await;
    assert_eq!(
        visible_text(&browser, "#revealed #file-link").await,
        "Save report.pdf (15 bytes)"
    );
    let link = browser.find(Locator::Id("file-link")).await.expect("link");
    assert_eq!(
        link.attr("download").await.expect("attr").as_deref(),
        Some("report.pdf")
    );
    assert!(
        link.attr("href")
            .await
            .expect("attr")
            .is_some_and(|href| href.starts_with("blob:"))
    );
    browser.close().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_html_file_never_runs_as_script_on_burnboxs_origin() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;

    let page = b"<!doctype html><title>harmless</title>\
        <script>document.title = 'script ran'; localStorage.setItem('ran', 'yes');</script>";
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(page.to_vec())
            .file_name("invoice.html")
            .mime_str("text/html")
            .expect("mime"),
    );
    let created: Value = app
        .client
        .post(format!("{}/api/secrets", app.base))
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    browser
        .goto(created["secretUrl"].as_str().expect("url"))
        .await
        .expect("secret page");
    visible_text(&browser, "#reveal").await;
    click(&browser, "reveal-button").await;
    visible_text(&browser, "#revealed #file-link").await;
    let href = browser
        .find(Locator::Id("file-link"))
        .await
        .expect("link")
        .attr("href")
        .await
        .expect("attr")
        .expect("an address");

    // Loading the saved file's address, as "open in new tab" does, must not render it here.
    let _ = browser.goto(&href).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let title = browser
        .execute("return document.title", vec![])
        .await
        .expect("title");
    assert_ne!(title, json!("script ran"), "the file's script ran");
    browser.goto(&format!("{}/", app.base)).await.expect("home");
    let ran = browser
        .execute("return localStorage.getItem('ran')", vec![])
        .await
        .expect("storage");
    assert_eq!(
        ran,
        Value::Null,
        "the file's script ran on burnbox's origin"
    );
    browser.close().await.expect("closed");
}
