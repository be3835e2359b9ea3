//! `pagerpilot doctor` and `pagerpilot scan` against a real Prometheus and Alertmanager (Debian's
//! packages) on loopback: Prometheus has three hours of backfilled history and scrapes a loopback
//! target whose value breaks an alerting rule with a short `for:`, so an alert really fires and
//! reaches Alertmanager. Servers are stopped by the PID of the child this test started.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use pagerpilot::domain::AlertState;
use pagerpilot::sources::alertmanager::AlertmanagerClient;
use pagerpilot::sources::http::HttpConfig;
use pagerpilot::sources::prometheus::PrometheusClient;
use pagerpilot::sources::AlertSource;

mod common;
use common::live::{free_port, require, Server};
use common::Env;

const STEP: i64 = 60;
const HOURS: i64 = 3;

/// Serves `/metrics` with a latency far above the rule's threshold, forever (the thread ends
/// with the test process).
fn scrape_target() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the scrape target");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "# TYPE demo_latency_seconds gauge\n\
                        demo_latency_seconds{service=\"checkout-api\"} 2.5\n";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn backfill(dir: &Path, target: u16, first: i64) -> std::path::PathBuf {
    let promtool = require("promtool", "prometheus");
    let mut text = String::from("# TYPE demo_latency_seconds gauge\n");
    for i in 0..=(HOURS * 3600 / STEP) {
        let v = 0.2 + 0.01 * (i % 7) as f64;
        text.push_str(&format!(
            "demo_latency_seconds{{instance=\"127.0.0.1:{target}\",job=\"checkout\",service=\"checkout-api\"}} {v} {}\n",
            first + i * STEP
        ));
    }
    text.push_str("# EOF\n");
    let history = dir.join("history.om");
    std::fs::write(&history, text).expect("write history");
    let data = dir.join("prom-data");
    let out = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&history)
        .arg(&data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool backfill failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

struct Stack {
    _prometheus: Server,
    _alertmanager: Server,
    prom_url: String,
    am_url: String,
}

async fn start_stack(dir: &Path) -> Stack {
    let prometheus = require("prometheus", "prometheus");
    let alertmanager = require("prometheus-alertmanager", "prometheus-alertmanager");
    let target = scrape_target();
    let now = chrono::Utc::now().timestamp();
    let last = (now - 600) / STEP * STEP;
    let data = backfill(dir, target, last - HOURS * 3600);

    let am_port = free_port();
    let am_url = format!("http://127.0.0.1:{am_port}");
    let am_config = dir.join("alertmanager.yml");
    std::fs::write(
        &am_config,
        "route:\n  receiver: 'null'\n  group_wait: 1s\nreceivers:\n  - name: 'null'\n",
    )
    .expect("write alertmanager config");
    let am_data = dir.join("am-data");
    std::fs::create_dir_all(&am_data).expect("am data dir");
    let mut am = Server::spawn(
        "alertmanager",
        &alertmanager,
        &[
            "--cluster.listen-address=".to_string(),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            format!("--web.external-url={am_url}"),
            format!("--storage.path={}", am_data.display()),
            format!("--config.file={}", am_config.display()),
        ],
        dir.join("alertmanager.log"),
    );

    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n- name: demo\n  rules:\n  - alert: CheckoutLatencyHigh\n    expr: demo_latency_seconds > 1\n    for: 2s\n    labels:\n      severity: critical\n    annotations:\n      summary: checkout latency above 1 s\n",
    )
    .expect("write rules");
    let prom_port = free_port();
    let prom_url = format!("http://127.0.0.1:{prom_port}");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {rules}\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\nscrape_configs:\n  - job_name: checkout\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n",
            rules = dir.join("rules.yml").display()
        ),
    )
    .expect("write prometheus config");
    let mut prom = Server::spawn(
        "prometheus",
        &prometheus,
        &[
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", data.display()),
            "--storage.tsdb.retention.time=30d".to_string(),
            "--rules.alert.resend-delay=1s".to_string(),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
            format!("--web.external-url={prom_url}"),
        ],
        dir.join("prometheus.log"),
    );
    let am_client = AlertmanagerClient::new(HttpConfig::new(am_url.clone())).expect("client");
    let prom_client = PrometheusClient::new(HttpConfig::new(prom_url.clone())).expect("client");
    am.wait_ready(am_client.http()).await;
    prom.wait_ready(prom_client.http()).await;

    // Wait until the alert fires in Alertmanager (the rule has `for: 2s`).
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let alerts = am_client.alerts().await.unwrap_or_default();
        if alerts
            .iter()
            .any(|a| a.name() == "CheckoutLatencyHigh" && a.state == AlertState::Firing)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the alert did not reach Alertmanager in 45 s: {alerts:?}\n{}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Stack {
        _prometheus: prom,
        _alertmanager: am,
        prom_url,
        am_url,
    }
}

#[tokio::test]
async fn doctor_and_scan_against_a_real_stack() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = start_stack(dir.path()).await;
    let env = Env::new();

    // doctor: both sources reachable, versions, sample queries, exit 0.
    let out = env.run(&[
        "doctor",
        "--prometheus",
        &stack.prom_url,
        "--alertmanager",
        &stack.am_url,
    ]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("prometheus  {}", stack.prom_url)),
        "{text}"
    );
    assert!(
        text.contains(&format!("alertmanager  {}", stack.am_url)),
        "{text}"
    );
    assert_eq!(text.matches("reachable     yes").count(), 2, "{text}");
    assert_eq!(text.matches("auth          accepted").count(), 2, "{text}");
    assert_eq!(
        text.matches("version       0.").count(),
        1,
        "alertmanager 0.x: {text}"
    );
    assert_eq!(
        text.matches("version       2.").count(),
        1,
        "prometheus 2.x: {text}"
    );
    assert!(text.contains("sample query  up: "), "{text}");
    assert!(
        text.contains("sample query  GET /api/v2/status: cluster"),
        "{text}"
    );
    assert_eq!(text.matches("verdict       OK").count(), 2, "{text}");
    assert!(text.ends_with("all configured sources OK\n"), "{text}");

    // scan: the firing alert is an incident, and the backfilled history of its rule's
    // expression reached the analysis as a key series.
    let out = env.run(&[
        "scan",
        "--prometheus",
        &stack.prom_url,
        "--alertmanager",
        &stack.am_url,
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let incidents: Vec<Value> = serde_json::from_slice(&out.stdout).expect("scan JSON");
    let incident = incidents
        .iter()
        .find(|i| {
            i["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|m| m["name"] == "CheckoutLatencyHigh"))
        })
        .unwrap_or_else(|| panic!("no incident with the firing alert: {incidents:#?}"));
    assert_eq!(incident["severity"], "critical", "{incident:#}");
    assert!(
        incident["services"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "checkout-api")),
        "{incident:#}"
    );
    let key = incident["key_series"]
        .as_array()
        .and_then(|k| {
            k.iter().find(|s| {
                s["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("demo_latency_seconds{"))
            })
        })
        .unwrap_or_else(|| panic!("no key series from the rule expression: {incident:#}"));
    let points = key["points"].as_u64().unwrap_or(0);
    // Three hours of backfill at one point a minute, plus the live minutes.
    assert!(
        points >= 150,
        "only {points} points reached the analysis: {key}"
    );
    assert!(
        key["id"]
            .as_str()
            .is_some_and(|id| id.contains("alertname=\"CheckoutLatencyHigh\"")),
        "the series is tied to its alert: {key}"
    );

    // Prometheus alone: its own alerts stand in for Alertmanager.
    let out = env.run(&["scan", "--prometheus", &stack.prom_url, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CheckoutLatencyHigh"), "{text}");
}

#[test]
fn doctor_reports_a_refused_port_and_fails() {
    let env = Env::new();
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = env.run(&["doctor", "--prometheus", &url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("prometheus  {url}")), "{text}");
    assert!(text.contains("reachable     no"), "{text}");
    assert!(
        text.contains("verdict       FAIL: prometheus unreachable:")
            && text.contains("could not connect"),
        "{text}"
    );
    assert!(
        text.ends_with("1 of 1 sources failed: prometheus\n"),
        "{text}"
    );
}

#[test]
fn doctor_without_sources_says_the_demo_runs() {
    let env = Env::new();
    let out = env.run(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with("no sources configured: the demo runs"),
        "{text}"
    );
}
