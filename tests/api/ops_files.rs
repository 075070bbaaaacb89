//! The deployment files in `ops/` are well-formed and speak of metrics burnbox exports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use burnbox::telemetry;

fn ops(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ops")
        .join(relative)
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(ops(relative)).unwrap_or_else(|e| panic!("ops/{relative}: {e}"))
}

/// Every `burnbox_*` series name in `text`, without histogram suffixes.
fn series_named(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("burnbox_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .fold(name, |n, suffix| n.strip_suffix(suffix).unwrap_or(n));
        names.insert(base.to_owned());
        rest = &tail[end..];
    }
    names
}

fn exported() -> BTreeSet<String> {
    [
        telemetry::HTTP_REQUESTS,
        telemetry::HTTP_DURATION,
        telemetry::CREATED,
        telemetry::REVEALED,
        telemetry::BURNED,
        telemetry::EXPIRED,
        telemetry::LOCKED,
        telemetry::LIVE,
        telemetry::RESIDENT,
        telemetry::STORE_DURATION,
        telemetry::STORE_ERRORS,
        telemetry::RECORDS_REFUSED,
        telemetry::STORE_BATCH,
        telemetry::CACHE,
        telemetry::SWEEPS,
        telemetry::SWEEP_LAG,
        telemetry::SWEPT,
        telemetry::RATE_LIMITED,
        telemetry::BLOB_DURATION,
        telemetry::BLOB_ERRORS,
        telemetry::BLOB_BYTES,
        telemetry::BLOB_ORPHANS,
        telemetry::BUILD_INFO,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

#[test]
fn dashboard_and_alerts_use_only_exported_series() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("grafana/burnbox-dashboard.json")).expect("dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8);
    let exported = exported();
    for (file, text) in [
        ("dashboard", read("grafana/burnbox-dashboard.json")),
        ("alerts", read("prometheus/alerts.yml")),
    ] {
        let used = series_named(&text);
        assert!(!used.is_empty(), "{file} uses burnbox series");
        let unknown: Vec<_> = used.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "{file} uses series burnbox does not export: {unknown:?}"
        );
    }
    let alerting: BTreeSet<_> = series_named(&read("prometheus/alerts.yml"));
    for needed in [
        telemetry::HTTP_REQUESTS,
        telemetry::HTTP_DURATION,
        telemetry::SWEEP_LAG,
        telemetry::STORE_ERRORS,
        telemetry::BLOB_ERRORS,
    ] {
        assert!(alerting.contains(needed), "an alert watches {needed}");
    }
}

#[test]
fn prometheus_config_passes_promtool() {
    crate::helpers::promtool_check("config", &ops("prometheus/prometheus.yml"));
}

#[test]
fn manifests_parse_and_run_burnbox_as_documented() {
    let documents: Vec<serde_yaml::Value> =
        serde_yaml::Deserializer::from_str(&read("kubernetes/burnbox.yaml"))
            .map(|document| serde::Deserialize::deserialize(document).expect("valid YAML"))
            .collect();
    let kinds: Vec<_> = documents
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["Secret", "StatefulSet", "Service"]);
    let container = &documents[1]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    let several: Vec<serde_yaml::Value> =
        serde_yaml::Deserializer::from_str(&read("kubernetes/burnbox-several-nodes.yaml"))
            .map(|document| serde::Deserialize::deserialize(document).expect("valid YAML"))
            .collect();
    let kinds: Vec<_> = several.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "Secret",
            "StatefulSet",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "Service"
        ]
    );
    let nodes = &several[3]["spec"];
    assert!(nodes["replicas"].as_u64().is_some_and(|n| n > 1));
    let env = nodes["template"]["spec"]["containers"][0]["env"]
        .as_sequence()
        .expect("env");
    let value_of = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .map(str::to_owned)
    };
    assert!(value_of("BURNBOX_STORE").is_some_and(|store| {
        store
            .parse::<burnbox::storage::EngineKind>()
            .is_ok_and(|k| k.is_shared())
    }));
    assert_eq!(value_of("BURNBOX_BLOBS").as_deref(), Some("s3"));
    let mut compose: serde_yaml::Value =
        serde_yaml::from_str(&read("container/compose.yaml")).expect("compose is YAML");
    compose.apply_merge().expect("merge keys resolve");
    assert!(
        compose["services"]["burnbox"].is_mapping()
            && compose["services"]["prometheus"].is_mapping()
    );
    for node in ["node-a", "node-b", "node-c"] {
        assert!(
            compose["services"][node]["environment"]["BURNBOX_STORE"]
                .as_str()
                .is_some_and(|store| store.starts_with("redis://")),
            "{node} is on the shared Redis"
        );
    }
    let unit = read("systemd/burnbox.service");
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "DynamicUser=yes",
        "KillSignal=SIGTERM",
    ] {
        assert!(unit.contains(hardening), "the unit sets {hardening}");
    }
    let dockerfile = read("container/Dockerfile");
    assert!(
        dockerfile.contains("USER 10001") && dockerfile.matches("FROM ").count() == 2,
        "multi-stage, non-root"
    );
}
