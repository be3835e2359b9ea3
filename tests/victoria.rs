//! A second Prometheus-compatible backend: Debian's `victoria-metrics` (single node) on a free
//! loopback port with a temp dir, fed the demo scenario's history (the same data
//! `scripts/demo-stack` backfills into Prometheus) through its `/api/v1/import/prometheus`
//! endpoint (exposition text with millisecond timestamps). pagerpilot's range and instant
//! queries return exactly that data, its metrics poll works through `setup::live`, and
//! `pagerpilot doctor` passes. The server is stopped by the PID of the child this test started.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use pagerpilot::config::{self, Overrides, Paths};
use pagerpilot::demo::{export, Scenario};
use pagerpilot::runtime::poll::{poll_source_metrics, MetricsCache};
use pagerpilot::runtime::setup;
use pagerpilot::sources::http::HttpConfig;
use pagerpilot::sources::prometheus::PrometheusClient;
use pagerpilot::sources::{MetricsSource, SourceError, SourceKind, SystemClock};

mod common;
use common::live::{free_port, require, Server};
use common::Env;

/// The scenario's OpenMetrics history with timestamps turned into milliseconds (the
/// exposition format VictoriaMetrics imports), without the `# EOF` line.
fn exposition_ms(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len() + openmetrics.len() / 8);
    for line in openmetrics.lines() {
        if line.starts_with('#') {
            continue;
        }
        let (sample, ts) = line
            .rsplit_once(' ')
            .expect("a sample line ends in its timestamp");
        let secs: i64 = ts.parse().expect("whole-second timestamps");
        out.push_str(&format!("{sample} {}\n", secs * 1000));
    }
    out
}

/// Feeds VictoriaMetrics (the library's client only GETs and POSTs JSON, so plain reqwest).
async fn import(base: &str, body: String) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/import/prometheus"))
        .body(body)
        .send()
        .await
        .expect("import request");
    assert!(
        response.status().is_success(),
        "import failed: {}",
        response.status()
    );
    let _ = reqwest::Client::new()
        .get(format!("{base}/internal/force_flush"))
        .send()
        .await;
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn victoria_metrics_answers_the_same_queries() {
    let binary = require("victoria-metrics", "victoria-metrics");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let args = [
        format!("-httpListenAddr=127.0.0.1:{port}"),
        format!("-storageDataPath={}", dir.path().join("data").display()),
        "-retentionPeriod=30d".to_string(),
    ];
    let mut server = Server::spawn(
        "victoria-metrics",
        &binary,
        &args,
        dir.path().join("victoria.log"),
    );
    let client = PrometheusClient::new(HttpConfig::new(&base)).unwrap();
    server.wait_ready(client.http()).await;

    // Three hours of the demo scenario, ending a minute before the anchor (as demo-stack does).
    let scenario = Scenario::embedded().unwrap();
    let now = Utc::now().timestamp();
    let anchor_s = now - now.rem_euclid(60) - 600;
    let anchor = DateTime::from_timestamp(anchor_s, 0).unwrap();
    let first = anchor_s - 3 * 3600;
    let last = anchor_s - 60;
    let text = export::openmetrics(&scenario, anchor, first, last);
    import(&base, exposition_ms(&text)).await;

    let query = r#"http_latency_p99_seconds{service="checkout-api"}"#;
    let want = scenario
        .series_at(anchor, first, last, 60)
        .into_iter()
        .find(|s| s.id.contains("http_latency_p99_seconds") && s.id.contains("checkout-api"))
        .expect("the scenario has the series");
    // Imported rows become searchable within a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    let got = loop {
        let got = client.query_range(query, first, last, 60).await.unwrap();
        if got.first().is_some_and(|s| s.len() == want.len()) {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "data not visible after 30 s: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(got.len(), 1, "{got:?}");
    let s = &got[0];
    assert_eq!(s.labels, want.labels, "the same labels, __name__ included");
    assert_eq!(s.id, want.id);
    assert_eq!(s.timestamps, want.timestamps);
    for ((ts, v), w) in s.timestamps.iter().zip(&s.values).zip(&want.values) {
        assert!(close(*v, *w), "at {ts}: {v} != {w}");
    }

    // A coarser step over part of the range: points at start + k*step, the sample at each.
    let coarse = client
        .query_range(query, first + 3600, first + 7200, 600)
        .await
        .unwrap();
    let expect_ts: Vec<i64> = (0..=6).map(|k| first + 3600 + k * 600).collect();
    assert_eq!(coarse[0].timestamps, expect_ts);
    for (ts, v) in coarse[0].timestamps.iter().zip(&coarse[0].values) {
        let i = usize::try_from((ts - first) / 60).unwrap();
        assert!(close(*v, want.values[i]), "at {ts}");
    }

    // Instant query: every series of a metric, at the last sample.
    let vector = client
        .query("http_requests_per_second", last)
        .await
        .unwrap();
    let services: Vec<&str> = vector
        .iter()
        .filter_map(|(l, _, _)| l.get("service").map(String::as_str))
        .collect();
    assert!(
        services.contains(&"web") && services.contains(&"checkout-api"),
        "{services:?}"
    );
    assert!(vector.iter().all(|(_, ts, _)| *ts == last));

    // A bad query is the server's own error, as a query error.
    match client.query_range("sum(", first, last, 60).await {
        Err(SourceError::Query { kind, detail }) => {
            assert_eq!(kind, SourceKind::Prometheus);
            assert!(!detail.is_empty());
        }
        other => panic!("expected a query error, got {other:?}"),
    }

    // The metrics poll of live mode, through the same setup the TUI uses.
    let env = Env::new();
    let paths = Paths {
        config_dir: env.path().join("config"),
        data_dir: env.path().join("data"),
        state_dir: env.path().join("state"),
    };
    let overrides = Overrides {
        prometheus: Some(base.clone()),
        ..Overrides::default()
    };
    let settings = config::resolve_with_env(&overrides, &paths, &|_| None).unwrap();
    let mut sources = setup::live(&settings, std::sync::Arc::new(SystemClock)).unwrap();
    sources.watches = vec![pagerpilot::sources::Watch {
        name: "latency".into(),
        query: query.into(),
        step: 60,
        capacity: None,
        slo: None,
        service_label: Some("service".into()),
        alert_labels: None,
    }];
    let mut cache = MetricsCache::default();
    let polled = poll_source_metrics(&sources, &mut cache, now)
        .await
        .unwrap();
    let latency = polled
        .iter()
        .find(|s| s.id == want.id)
        .unwrap_or_else(|| panic!("the watch's series: {polled:?}"));
    assert!(
        latency.len() >= 170,
        "about three hours of points: {}",
        latency.len()
    );

    // doctor against it passes.
    let out = env.run(&["--prometheus", &base, "doctor"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "doctor failed:\n{report}");
    assert!(report.contains("verdict       OK"), "{report}");
    assert!(report.contains("version       "), "{report}");
    assert!(
        !report.contains("unknown"),
        "empty build info is not an error:\n{report}"
    );
    drop(server);
}
