//! End-to-end secrets in a real browser (headless Chromium): made in one browser, opened in
//! another, never sent in clear (a recording proxy sits in front of the server), files of 20 MB,
//! links crossing between the pages and the command-line client, the QR code read back by
//! zbarimg, and screenshots of every page on a desktop, a phone and in dark mode.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::end_to_end::{
    RecordingProxy, assert_server_never_held, client, links, path_key, stderr, stdout,
};
use crate::helpers::spawn_app;
use crate::pages::{Driver, click, visible_text};
use burnbox_testkit::sample::sample_file;

/// Waits up to `secs` for `css` to be shown; its text.
async fn shown_within(browser: &Client, css: &str, secs: u64) -> String {
    let selector = css
        .split(' ')
        .map(|part| format!("{part}:not([hidden])"))
        .collect::<Vec<_>>()
        .join(" ");
    browser
        .wait()
        .at_most(Duration::from_secs(secs))
        .for_element(Locator::Css(&selector))
        .await
        .unwrap_or_else(|e| panic!("{css} shows: {e}"))
        .text()
        .await
        .expect("text")
}

async fn type_into(browser: &Client, id: &str, text: &str) {
    let field = browser
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"));
    field.clear().await.expect("cleared");
    field.send_keys(text).await.expect("typed");
}

async fn value_of(browser: &Client, id: &str) -> String {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// Makes a text secret on the page at `base` (end-to-end, the default): the secret and receipt
/// links.
async fn create_on_page(
    browser: &Client,
    base: &str,
    text: &str,
    passphrase: Option<&str>,
) -> (String, String) {
    browser
        .goto(&format!("{base}/"))
        .await
        .expect("create page");
    type_into(browser, "secret", text).await;
    if let Some(passphrase) = passphrase {
        type_into(browser, "passphrase", passphrase).await;
    }
    click(browser, "create-button").await;
    shown_within(browser, "#created", 30).await;
    (
        value_of(browser, "secret-url").await,
        value_of(browser, "receipt-url").await,
    )
}

/// Reveals the secret at `link` in `browser`: the text shown.
async fn reveal_on_page(browser: &Client, link: &str, passphrase: Option<&str>) -> String {
    browser.goto(link).await.expect("secret page");
    shown_within(browser, "#reveal", 10).await;
    if let Some(passphrase) = passphrase {
        type_into(browser, "passphrase", passphrase).await;
    }
    click(browser, "reveal-button").await;
    shown_within(browser, "#revealed #secret-text", 30).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_made_in_one_browser_opens_in_another_and_the_server_never_sees_it() {
    let app = spawn_app().await;
    let proxy = RecordingProxy::start(&app.base).await;
    let sender_driver = Driver::start().await;
    let recipient_driver = Driver::start().await;
    // Tall enough that the QR code is inside the window, where a screenshot sees it.
    let sender = sender_driver
        .browser_with(&["--window-size=1280,2000"])
        .await;
    let recipient = recipient_driver.browser().await;

    let text = "the launch code is 0000 ✓";
    let passphrase = "between us";
    let (link, receipt) = create_on_page(&sender, &proxy.url, text, Some(passphrase)).await;
    let fragment = link
        .split("#key=")
        .nth(1)
        .expect("a key in the fragment")
        .to_owned();
    assert_eq!(
        receipt.split('#').nth(1),
        Some(format!("key={fragment}").as_str())
    );

    // The QR code drawn in the page reads back as the link.
    let png = sender
        .find(Locator::Css("#qr svg"))
        .await
        .expect("a QR code")
        .screenshot()
        .await
        .expect("screenshot");
    let scratch = tempfile::tempdir().expect("temp dir");
    let image = scratch.path().join("qr.png");
    std::fs::write(&image, &png).expect("written");
    std::fs::write(screenshot_dir().join("qr.png"), &png).expect("kept");
    let read = std::process::Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&image)
        .output()
        .expect("zbarimg runs (ops/test.sh installs zbar-tools)");
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), link);

    // The recipient: the key leaves the address bar, a wrong passphrase costs nothing.
    recipient.goto(&link).await.expect("secret page");
    shown_within(&recipient, "#reveal", 10).await;
    let address = recipient.current_url().await.expect("address");
    assert!(address.fragment().is_none(), "{address}");
    type_into(&recipient, "passphrase", "wrong").await;
    click(&recipient, "reveal-button").await;
    assert!(
        shown_within(&recipient, "#error", 30)
            .await
            .contains("4 more wrong passphrases will lock it"),
        "a wrong passphrase says how many tries remain"
    );
    type_into(&recipient, "passphrase", passphrase).await;
    click(&recipient, "reveal-button").await;
    assert_eq!(
        shown_within(&recipient, "#revealed #secret-text", 30).await,
        text
    );
    recipient.refresh().await.expect("reloaded");
    assert!(
        visible_text(&recipient, "#error")
            .await
            .contains("no longer available")
    );

    // What the server was sent, and what it keeps, hold neither the text nor the key.
    assert_server_never_held(
        &proxy,
        app.data_dir.path(),
        text,
        &[
            ("text", text.as_bytes()),
            ("passphrase", passphrase.as_bytes()),
            ("link key", fragment.as_bytes()),
        ],
    );
    sender.close().await.expect("closed");
    recipient.close().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_mb_file_encrypted_in_the_page_downloads_intact_in_another_browser() {
    let app = spawn_app().await;
    let sender_driver = Driver::start().await;
    let recipient_driver = Driver::start().await;
    let sender = sender_driver.browser().await;
    let recipient = recipient_driver.browser().await;
    let scratch = tempfile::tempdir().expect("temp dir");
    let path = scratch.path().join("twenty.bin");
    let file = sample_file(20 << 20, 3);
    std::fs::write(&path, &file).expect("written");

    sender
        .goto(&format!("{}/", app.base))
        .await
        .expect("create page");
    click(&sender, "kind-file").await;
    sender
        .find(Locator::Id("file"))
        .await
        .expect("file input")
        .send_keys(&path.display().to_string())
        .await
        .expect("chosen");
    click(&sender, "create-button").await;
    shown_within(&sender, "#created", 120).await;
    let link = value_of(&sender, "secret-url").await;
    let (_, status) = crate::helpers::status_and_json(app.status(&path_key(&link)).await).await;
    assert_eq!(status["encrypted"], true, "{status}");
    assert_eq!(
        status["file"]["name"], "encrypted.bin",
        "the name is inside"
    );

    recipient.goto(&link).await.expect("secret page");
    shown_within(&recipient, "#reveal", 10).await;
    click(&recipient, "reveal-button").await;
    let offered = shown_within(&recipient, "#revealed #file-link", 120).await;
    assert_eq!(offered, format!("Save twenty.bin ({} bytes)", file.len()));
    // Saved as a person saves it: a click on the link, into the browser's download folder.
    click(&recipient, "file-link").await;
    let saved_path = recipient_driver.downloads().join("twenty.bin");
    let mut saved = Vec::new();
    for _ in 0..600 {
        if let Ok(bytes) = std::fs::read(&saved_path)
            && bytes.len() == file.len()
        {
            saved = bytes;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(saved.len(), file.len(), "the download completes");
    assert_eq!(Sha256::digest(&saved), Sha256::digest(&file));
    sender.close().await.expect("closed");
    recipient.close().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_cross_between_the_command_line_and_the_browser_and_bad_keys_are_told() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    let work = tempfile::tempdir().expect("temp dir");

    // Command line → browser.
    let sent = client(
        &app.base,
        &["send", "--json", "--passphrase", "cli pass"],
        Some("from the terminal ✓".as_bytes()),
        work.path(),
    )
    .await;
    let (link, _) = links(&sent);
    assert_eq!(
        reveal_on_page(&browser, &link, Some("cli pass")).await,
        "from the terminal ✓"
    );

    // Browser → command line.
    let (link, _) = create_on_page(&browser, &app.base, "from the page ✓", None).await;
    let opened = client(&app.base, &["open", &link], None, work.path()).await;
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert_eq!(stdout(&opened), "from the page ✓");

    // A link without its key, with a mangled one, or with another secret's key.
    let (link, receipt) = create_on_page(&browser, &app.base, "keyed", None).await;
    let bare = link.split('#').next().expect("link").to_owned();
    browser.goto(&bare).await.expect("page");
    assert!(
        visible_text(&browser, "#error")
            .await
            .contains("incomplete")
    );
    browser.goto("about:blank").await.expect("blank");
    browser
        .goto(&format!("{bare}#key=abc"))
        .await
        .expect("page");
    assert!(visible_text(&browser, "#error").await.contains("damaged"));
    let (_, status) = crate::helpers::status_and_json(app.status(&path_key(&receipt)).await).await;
    assert_eq!(status["viewCount"], 0, "nothing was spent: {status}");
    let (other, _) = create_on_page(&browser, &app.base, "another", None).await;
    let wrong_key = other.split('#').nth(1).expect("fragment");
    browser.goto("about:blank").await.expect("blank");
    browser
        .goto(&format!("{bare}#{wrong_key}"))
        .await
        .expect("page");
    shown_within(&browser, "#reveal", 10).await;
    click(&browser, "reveal-button").await;
    assert!(
        shown_within(&browser, "#error", 30)
            .await
            .contains("does not open")
    );
    browser.close().await.expect("closed");
}

/// Where the screenshots go: under the cargo target directory, kept after the run.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_on_a_desktop_a_phone_and_in_dark_mode() {
    let app = spawn_app().await;
    let dir = screenshot_dir();
    let looks: [(&str, &[&str]); 3] = [
        ("desktop", &["--window-size=1280,900"]),
        ("phone", &[]),
        (
            "dark",
            &[
                "--window-size=1280,900",
                "--force-dark-mode",
                "--blink-settings=preferredColorScheme=0",
            ],
        ),
    ];
    for (look, flags) in looks {
        let driver = Driver::start().await;
        let browser = if look == "phone" {
            driver.phone_browser().await
        } else {
            driver.browser_with(flags).await
        };
        let (link, receipt) = create_on_page(&browser, &app.base, "screenshot me", None).await;
        let mut shots: Vec<(&str, Vec<u8>)> = Vec::new();
        shots.push(("created", browser.screenshot().await.expect("shot")));
        browser
            .goto(&format!("{}/", app.base))
            .await
            .expect("create page");
        shown_within(&browser, "#create", 10).await;
        shots.push(("create", browser.screenshot().await.expect("shot")));
        browser.goto(&link).await.expect("secret page");
        shown_within(&browser, "#reveal", 10).await;
        shots.push(("secret", browser.screenshot().await.expect("shot")));
        click(&browser, "reveal-button").await;
        shown_within(&browser, "#revealed", 30).await;
        shots.push(("revealed", browser.screenshot().await.expect("shot")));
        browser.goto(&receipt).await.expect("receipt page");
        shown_within(&browser, "#status", 10).await;
        shots.push(("receipt", browser.screenshot().await.expect("shot")));

        let dark = browser
            .execute(
                "return [matchMedia('(prefers-color-scheme: dark)').matches, getComputedStyle(document.body).backgroundColor]",
                vec![],
            )
            .await
            .expect("style");
        let expected = if look == "dark" {
            json!([true, "rgb(22, 22, 20)"])
        } else {
            json!([false, "rgb(246, 246, 244)"])
        };
        assert_eq!(dark, expected, "{look}");
        let width: Value = browser
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth",
                vec![],
            )
            .await
            .expect("width");
        assert_eq!(width, json!(true), "{look}: the page scrolls sideways");
        if look == "phone" {
            let viewport = browser
                .execute("return window.innerWidth", vec![])
                .await
                .expect("width");
            assert_eq!(viewport, json!(390), "a phone's width");
        }
        for (page, png) in shots {
            assert!(png.starts_with(b"\x89PNG"), "{look} {page}");
            std::fs::write(dir.join(format!("{page}-{look}.png")), png).expect("saved");
        }
        browser.close().await.expect("closed");
    }
}
