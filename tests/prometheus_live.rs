//! The Prometheus client against a real Prometheus (the Debian package) started on loopback over
//! a temp dir backfilled with `promtool`. One server for the whole file: the checks run in
//! sequence inside one test, and a guard stops the server by its PID when the test ends.

use std::path::Path;
use std::process::Command;

use pagerpilot::sources::http::HttpConfig;
use pagerpilot::sources::prometheus::PrometheusClient;
use pagerpilot::sources::{MetricsSource, SourceError, SourceKind};

mod common;
use common::live::{free_port, require, Server};

const HOURS: i64 = 3;
const STEP: i64 = 60;

fn disk(i: i64) -> f64 {
    20.0 + 0.25 * i as f64
}

fn queue(i: i64) -> f64 {
    (i % 10) as f64
}

/// Writes the OpenMetrics history: one sample a minute from `first` for `HOURS` hours.
fn write_history(file: &Path, first: i64) {
    let n = HOURS * 3600 / STEP;
    let mut text = String::from("# TYPE demo_disk_used_percent gauge\n");
    for i in 0..=n {
        let ts = first + i * STEP;
        text.push_str(&format!(
            "demo_disk_used_percent{{instance=\"node-1\"}} {} {ts}\n",
            disk(i)
        ));
    }
    text.push_str("# TYPE demo_queue_depth gauge\n");
    for i in 0..=n {
        let ts = first + i * STEP;
        text.push_str(&format!(
            "demo_queue_depth{{instance=\"node-1\"}} {} {ts}\n",
            queue(i)
        ));
    }
    text.push_str("# EOF\n");
    std::fs::write(file, text).unwrap();
}

fn start_prometheus(dir: &Path, first: i64) -> (Server, String) {
    let prometheus = require("prometheus", "prometheus");
    let promtool = require("promtool", "prometheus");
    let history = dir.join("history.om");
    let data = dir.join("data");
    write_history(&history, first);
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&history)
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool backfill failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1s\n").unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", data.display()),
        "--storage.tsdb.retention.time=30d".to_string(),
        format!("--web.listen-address=127.0.0.1:{port}"),
        format!("--web.external-url={base}"),
    ];
    let log = dir.join("prometheus.log");
    (Server::spawn("prometheus", &prometheus, &args, log), base)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test]
async fn live_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now().timestamp();
    // History ends ~10 minutes before now, on a whole minute.
    let last = (now - 600) / STEP * STEP;
    let first = last - HOURS * 3600;
    let (mut guard, base) = start_prometheus(dir.path(), first);
    let client = PrometheusClient::new(HttpConfig::new(base)).unwrap();
    guard.wait_ready(client.http()).await;

    // Range query: the backfilled points, at start + k*step.
    let start = first + 1800;
    let end = first + 3600;
    let series = client
        .query_range("demo_disk_used_percent", start, end, 300)
        .await
        .unwrap();
    assert_eq!(series.len(), 1, "{series:?}");
    let s = &series[0];
    assert_eq!(s.id, r#"demo_disk_used_percent{instance="node-1"}"#);
    assert_eq!(s.labels["__name__"], "demo_disk_used_percent");
    assert_eq!(s.labels["instance"], "node-1");
    assert_eq!(s.labels.len(), 2, "{:?}", s.labels);
    let want_ts: Vec<i64> = (0..=6).map(|k| start + k * 300).collect();
    assert_eq!(s.timestamps, want_ts);
    for (ts, v) in s.timestamps.iter().zip(&s.values) {
        let i = (ts - first) / STEP;
        assert!(close(*v, disk(i)), "at {ts}: {v} != {}", disk(i));
    }

    // Series, label names and label values over the backfilled history.
    let found = client
        .series(&["demo_disk_used_percent", "demo_queue_depth"], first, last)
        .await
        .unwrap();
    let mut names: Vec<&str> = found.iter().map(|l| l["__name__"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["demo_disk_used_percent", "demo_queue_depth"]);
    assert!(found.iter().all(|l| l["instance"] == "node-1"), "{found:?}");
    assert!(client.series(&[], first, last).await.is_err());
    let labels = client.labels().await.unwrap();
    assert!(labels.iter().any(|l| l == "instance"), "{labels:?}");
    let values = client.label_values("__name__").await.unwrap();
    assert!(values.iter().any(|v| v == "demo_queue_depth"), "{values:?}");
    let bad = client.label_values("../../admin").await.unwrap_err();
    assert!(bad.to_string().contains("not a valid label name"), "{bad}");

    // A start off the minute: evaluation times follow the start, values the latest sample.
    let series = client
        .query_range("demo_disk_used_percent", start + 30, start + 150, 60)
        .await
        .unwrap();
    assert_eq!(
        series[0].timestamps,
        vec![start + 30, start + 90, start + 150]
    );
    let i0 = (start - first) / STEP;
    for (k, v) in series[0].values.iter().enumerate() {
        assert!(close(*v, disk(i0 + k as i64)), "{:?}", series[0].values);
    }

    // The whole history at 1 minute, the last point included.
    let all = client
        .query_range("demo_disk_used_percent", first, last, STEP)
        .await
        .unwrap();
    assert_eq!(all[0].len() as i64, HOURS * 3600 / STEP + 1);
    assert!(close(*all[0].values.last().unwrap(), disk(HOURS * 60)));

    // NaN and infinities: queue/0 is NaN where the queue is 0, +Inf elsewhere.
    let div = client
        .query_range("demo_queue_depth / 0", first, first + 9 * STEP, STEP)
        .await
        .unwrap();
    assert_eq!(div.len(), 1);
    assert_eq!(
        div[0].id, r#"{instance="node-1"}"#,
        "division drops the name"
    );
    assert!(div[0].values[0].is_nan(), "{:?}", div[0].values);
    assert!(div[0].values[1..].iter().all(|v| *v == f64::INFINITY));
    let neg = client
        .query_range("-demo_queue_depth / 0", first + STEP, first + STEP, STEP)
        .await
        .unwrap();
    assert_eq!(neg[0].values, vec![f64::NEG_INFINITY]);

    // Instant queries: scalar NaN and a vector sample.
    let scalar = client.query("0/0", last).await.unwrap();
    assert_eq!(scalar.len(), 1);
    assert!(scalar[0].0.is_empty());
    assert_eq!(scalar[0].1, last);
    assert!(scalar[0].2.is_nan());
    let vector = client.query("demo_disk_used_percent", last).await.unwrap();
    assert_eq!(vector.len(), 1, "{vector:?}");
    assert_eq!(vector[0].0["instance"], "node-1");
    assert_eq!(vector[0].1, last);
    assert!(close(vector[0].2, disk(HOURS * 60)));

    // Bad PromQL: the server's own message, as a query error.
    match client.query_range("sum(", start, end, 60).await {
        Err(SourceError::Query { kind, detail }) => {
            assert_eq!(kind, SourceKind::Prometheus);
            assert!(detail.starts_with("bad_data: "), "{detail}");
            assert!(detail.contains("parse error"), "{detail}");
        }
        other => panic!("expected a query error, got {other:?}"),
    }
    match client.query("rate(demo_disk_used_percent)", last).await {
        Err(SourceError::Query { detail, .. }) => assert!(detail.contains("bad_data"), "{detail}"),
        other => panic!("expected a query error, got {other:?}"),
    }

    // Build info and alerts (no rules: none).
    let version = client.build_info().await.unwrap();
    assert!(
        version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{version}"
    );
    assert!(client.alerts().await.unwrap().is_empty());

    // A closed port is unreachable.
    let closed =
        PrometheusClient::new(HttpConfig::new(format!("http://127.0.0.1:{}", free_port())))
            .unwrap();
    match closed.query_range("up", start, end, 60).await {
        Err(SourceError::Unreachable { kind, .. }) => assert_eq!(kind, SourceKind::Prometheus),
        other => panic!("expected unreachable, got {other:?}"),
    }

    drop(guard);
}
