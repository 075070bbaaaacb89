//! The data directory holds neither plaintexts nor link keys nor passphrases.

use serde_json::json;

use crate::helpers::{files_under, keys, spawn_app};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_holds_no_plaintext_and_no_keys() {
    let app = spawn_app().await;
    let mut needles: Vec<String> = Vec::new();
    for n in 0..20 {
        let plaintext = format!("PLAINTEXT-MARKER-{n}-correct-horse-battery-staple");
        let passphrase = format!("PASSPHRASE-MARKER-{n}");
        let body = if n % 2 == 0 {
            json!({"secret": plaintext, "maxViews": 3, "passphrase": passphrase})
        } else {
            json!({"secret": plaintext, "maxViews": 3})
        };
        let (secret_key, metadata_key) = keys(&app.create_ok(&body).await);
        if n % 3 == 0 {
            let body = json!({"passphrase": passphrase});
            assert_eq!(
                app.view(&secret_key, Some(&body)).await.status(),
                reqwest::StatusCode::OK
            );
        }
        needles.extend([plaintext, passphrase, secret_key, metadata_key]);
    }
    let dir = app.stop().await;
    let files = files_under(dir.path());
    assert!(
        files.iter().any(|f| f.ends_with("burnbox.redb")),
        "the store is in the data dir"
    );
    for file in files {
        let bytes = std::fs::read(&file).expect("readable");
        for needle in &needles {
            assert!(
                !contains(&bytes, needle.as_bytes()),
                "{} contains {needle}",
                file.display()
            );
        }
    }
}
