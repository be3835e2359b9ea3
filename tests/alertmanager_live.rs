//! The Alertmanager client against a real Alertmanager (the Debian `prometheus-alertmanager`)
//! started on loopback with a temp storage dir and clustering off. One server, one test: alerts
//! are pushed, read back, silenced, unsilenced; a guard stops the server by its PID.

use std::path::Path;
use std::time::{Duration, Instant};

use pagerpilot::domain::{Alert, AlertState};
use pagerpilot::sources::alertmanager::{AlertmanagerClient, Matcher, SilenceState};
use pagerpilot::sources::http::HttpConfig;
use pagerpilot::sources::{AlertSource, SourceError, SourceKind};
use serde_json::json;

mod common;
use common::live::{free_port, require, Server};

const CONFIG: &str = "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n";

fn start_alertmanager(dir: &Path) -> (Server, String) {
    let binary = require("prometheus-alertmanager", "prometheus-alertmanager");
    let config = dir.join("alertmanager.yml");
    std::fs::write(&config, CONFIG).unwrap();
    let storage = dir.join("data");
    std::fs::create_dir_all(&storage).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let args = [
        "--cluster.listen-address=".to_string(),
        format!("--web.listen-address=127.0.0.1:{port}"),
        format!("--web.external-url={base}"),
        format!("--storage.path={}", storage.display()),
        format!("--config.file={}", config.display()),
    ];
    let log = dir.join("alertmanager.log");
    (Server::spawn("alertmanager", &binary, &args, log), base)
}

fn find<'a>(alerts: &'a [Alert], name: &str) -> Option<&'a Alert> {
    alerts.iter().find(|a| a.name() == name)
}

/// Polls the alerts (up to 10 s) until `name` is in `state`.
async fn wait_state(client: &AlertmanagerClient, name: &str, state: AlertState) -> Vec<Alert> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alerts = client.alerts().await.unwrap();
        if find(&alerts, name).is_some_and(|a| a.state == state) {
            return alerts;
        }
        assert!(
            Instant::now() < deadline,
            "{name} not {state:?} after 10 s: {alerts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn live_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let (mut guard, base) = start_alertmanager(dir.path());
    let client = AlertmanagerClient::new(HttpConfig::new(base)).unwrap();
    guard.wait_ready(client.http()).await;

    // Push two alerts through the shared HTTP layer.
    let now = chrono::Utc::now().to_rfc3339();
    let pushed = json!([
        {
            "labels": {"alertname": "HighLatency", "service": "checkout-api", "severity": "critical"},
            "annotations": {"summary": "p99 above 2 s"},
            "startsAt": now,
            "generatorURL": "http://prometheus.example/graph?g0.expr=latency"
        },
        {
            "labels": {"alertname": "DiskFilling", "service": "db", "severity": "warning"},
            "annotations": {"summary": "disk 90 % full"},
            "startsAt": now
        }
    ]);
    client
        .http()
        .post_json("/api/v2/alerts", &pushed)
        .await
        .unwrap();

    // Both come back firing, with labels, annotations and the server's fingerprints.
    let alerts = wait_state(&client, "DiskFilling", AlertState::Firing).await;
    let alerts = if find(&alerts, "HighLatency").is_some() {
        alerts
    } else {
        wait_state(&client, "HighLatency", AlertState::Firing).await
    };
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let high = find(&alerts, "HighLatency").unwrap();
    assert_eq!(high.state, AlertState::Firing);
    assert_eq!(high.service(), Some("checkout-api"));
    assert_eq!(high.labels["severity"], "critical");
    assert_eq!(high.summary(), "p99 above 2 s");
    assert_eq!(
        high.generator_url.as_deref(),
        Some("http://prometheus.example/graph?g0.expr=latency")
    );
    assert!(high.ends_at.is_none());
    let disk = find(&alerts, "DiskFilling").unwrap();
    assert_eq!(disk.state, AlertState::Firing);
    assert_eq!(disk.labels["service"], "db");
    assert!(!high.fingerprint.is_empty() && !disk.fingerprint.is_empty());
    assert_ne!(high.fingerprint, disk.fingerprint);
    assert_eq!(
        high.fingerprint,
        pagerpilot::domain::alert::fingerprint(&high.labels),
        "the server's fingerprint is the one the domain computes"
    );

    // Silence one of them: it turns suppressed, the other stays firing.
    let id = client
        .create_silence(
            &[
                Matcher::equal("alertname", "HighLatency"),
                Matcher::equal("service", "checkout-api"),
            ],
            Duration::from_secs(3600),
            "pagerpilot-test",
            "live test",
        )
        .await
        .unwrap();
    let alerts = wait_state(&client, "HighLatency", AlertState::Silenced).await;
    assert_eq!(
        find(&alerts, "DiskFilling").map(|a| a.state),
        Some(AlertState::Firing)
    );
    let silences = client.silences().await.unwrap();
    let silence = silences.iter().find(|s| s.id == id).unwrap();
    assert_eq!(silence.state, SilenceState::Active);
    assert_eq!(silence.created_by, "pagerpilot-test");
    assert_eq!(silence.comment, "live test");
    assert_eq!(silence.matchers.len(), 2);
    assert!(silence
        .matchers
        .contains(&Matcher::equal("service", "checkout-api")));
    let span = silence.ends_at - silence.starts_at;
    assert!((span.num_seconds() - 3600).abs() <= 5, "{span:?}");

    // Expire it: the silence is expired and the alert firing again.
    client.expire_silence(&id).await.unwrap();
    let silences = client.silences().await.unwrap();
    let silence = silences.iter().find(|s| s.id == id).unwrap();
    assert_eq!(silence.state, SilenceState::Expired);
    wait_state(&client, "HighLatency", AlertState::Firing).await;

    // An id that is not a UUID is refused before any request: even with no server behind it.
    let nowhere =
        AlertmanagerClient::new(HttpConfig::new(format!("http://127.0.0.1:{}", free_port())))
            .unwrap();
    for bad in ["../status", "", "not-a-uuid", &format!("{id}/x")] {
        match nowhere.expire_silence(bad).await {
            Err(SourceError::Query { kind, detail }) => {
                assert_eq!(kind, SourceKind::Alertmanager);
                assert!(detail.contains("not a UUID"), "{detail}");
            }
            other => panic!("expected a refusal for {bad:?}, got {other:?}"),
        }
    }

    // A closed port is unreachable.
    match nowhere.alerts().await {
        Err(SourceError::Unreachable { kind, .. }) => assert_eq!(kind, SourceKind::Alertmanager),
        other => panic!("expected unreachable, got {other:?}"),
    }

    drop(guard);
}
