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

/// Flips one bit in the body of every secret record in a stopped server's store (as someone
/// editing a backup would, without the master key): how many were changed.
fn flip_a_bit_in_every_secret_record(dir: &std::path::Path) -> usize {
    use redb::{ReadableTable, TableDefinition};
    const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");
    let db = redb::Database::open(dir.join("burnbox.redb")).expect("the store opens");
    let txn = db.begin_write().expect("write");
    let mut changed = 0;
    {
        let mut records = txn.open_table(RECORDS).expect("records");
        let metas: Vec<(Vec<u8>, Vec<u8>)> = records
            .iter()
            .expect("iterate")
            .map(|entry| entry.expect("entry"))
            .filter(|(key, _)| key.value().get(8) == Some(&b'm'))
            .map(|(key, value)| (key.value().to_vec(), value.value().to_vec()))
            .collect();
        for (key, mut value) in metas {
            // The view count and lockout sit in the body, between the version and the tag.
            let at = value.len() / 2;
            value[at] ^= 0x01;
            records
                .insert(key.as_slice(), value.as_slice())
                .expect("written");
            changed += 1;
        }
    }
    txn.commit().expect("commit");
    drop(db);
    changed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_outside_burnbox_is_refused_and_counted() {
    let app = spawn_app().await;
    let (secret_key, metadata_key) = keys(
        &app.create_ok(&json!({"secret": "three views", "maxViews": 3}))
            .await,
    );
    assert_eq!(
        app.view(&secret_key, None).await.status(),
        reqwest::StatusCode::OK
    );
    let dir = app.stop().await;
    assert_eq!(flip_a_bit_in_every_secret_record(dir.path()), 1);

    let app = crate::helpers::spawn_app_in(dir, |_| {}).await;
    for response in [
        app.status(&metadata_key).await,
        app.view(&secret_key, None).await,
    ] {
        assert_eq!(
            response.status(),
            reqwest::StatusCode::INTERNAL_SERVER_ERROR,
            "a changed record is never served"
        );
    }
    let refused =
        crate::helpers::sample(&app.scrape().await, "burnbox_store_records_refused_total");
    assert!(refused.is_some_and(|n| n >= 2.0), "{refused:?}");
}
