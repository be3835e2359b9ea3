//! `scripts/demo-stack up|status|down` end to end: the real Prometheus and Alertmanager come up on
//! loopback with the demo history backfilled, `pagerpilot doctor` passes against them, the
//! history reaches pagerpilot's range queries, the rules fire into Alertmanager, and `down`
//! stops exactly the PIDs `up` wrote down.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use pagerpilot::sources::alertmanager::AlertmanagerClient;
use pagerpilot::sources::http::HttpConfig;
use pagerpilot::sources::prometheus::PrometheusClient;
use pagerpilot::sources::{AlertSource, MetricsSource};

mod common;
use common::live::require;
use common::Env;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo-stack")
}

fn run_script(dir: &Path, arg: &str) -> Output {
    Command::new("bash")
        .arg(script())
        .arg(arg)
        .env("DEMO_STACK_DIR", dir.join("state"))
        .env("TMPDIR", dir)
        .env("PAGERPILOT_BIN", env!("CARGO_BIN_EXE_pagerpilot"))
        .output()
        .expect("run scripts/demo-stack")
}

/// The `KEY=value` lines of the state file.
fn state(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("state/state")).expect("the state file");
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// Running and not a zombie.
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(
            stat.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next()),
            Some("Z" | "X")
        ),
        Err(_) => false,
    }
}

/// Runs `down` if the test fails half-way, so no server outlives it.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = run_script(self.0, "down");
    }
}

#[tokio::test]
async fn demo_stack_up_doctor_alerts_down() {
    require("prometheus", "prometheus");
    require("promtool", "prometheus");
    require("prometheus-alertmanager", "prometheus-alertmanager");
    let dir = tempfile::tempdir().unwrap();
    let _down = Down(dir.path());

    let up = run_script(dir.path(), "up");
    let stdout = String::from_utf8_lossy(&up.stdout).into_owned();
    assert!(
        up.status.success(),
        "up failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let st = state(dir.path());
    let prom = format!("http://127.0.0.1:{}", st["PROM_PORT"]);
    let am = format!("http://127.0.0.1:{}", st["AM_PORT"]);
    assert!(
        stdout.contains(&format!(
            "pagerpilot --prometheus {prom} --alertmanager {am}"
        )),
        "up prints the command to use:\n{stdout}"
    );
    let pids = [&st["PROM_PID"], &st["AM_PID"], &st["TARGET_PID"]];
    assert!(pids.iter().all(|p| alive(p)), "{st:?}");

    // `up` again finds it running and starts nothing new.
    let again = run_script(dir.path(), "up");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already running"));
    assert_eq!(state(dir.path())["PROM_PID"], st["PROM_PID"]);

    let env = Env::new();
    let out = env.run(&["--prometheus", &prom, "--alertmanager", &am, "doctor"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "doctor failed:\n{report}");
    assert!(report.contains("all configured sources OK"), "{report}");

    // Backfilled history: two hours ago, well before the stack started.
    let client = PrometheusClient::new(HttpConfig::new(&prom)).unwrap();
    let now = chrono::Utc::now().timestamp();
    let series = client
        .query_range(
            r#"http_requests_per_second{service="web"}"#,
            now - 3 * 3600,
            now - 2 * 3600,
            300,
        )
        .await
        .unwrap();
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0].len(), 13, "a point every 5 minutes for an hour");
    assert!(series[0].values.iter().all(|v| *v > 10.0), "{series:?}");

    // The rules fire and reach Alertmanager.
    let alertmanager = AlertmanagerClient::new(HttpConfig::new(&am)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let names = loop {
        let alerts = alertmanager.alerts().await.unwrap();
        let names: Vec<String> = alerts
            .iter()
            .filter_map(|a| a.labels.get("alertname").cloned())
            .collect();
        if names.iter().any(|n| n == "CheckoutApiHighLatency") {
            break names;
        }
        assert!(
            Instant::now() < deadline,
            "no alert reached Alertmanager in 90 s: {names:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert!(names.iter().all(|n| !n.is_empty()));

    let status = run_script(dir.path(), "status");
    assert!(status.status.success());

    let down = run_script(dir.path(), "down");
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while pids.iter().any(|p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        pids.iter().all(|p| !alive(p)),
        "down left a process running: {pids:?}"
    );
    assert!(!dir.path().join("state/state").exists());
    assert!(
        !Path::new(&st["WORK"]).exists(),
        "down removes the temp dir"
    );
    let status = run_script(dir.path(), "status");
    assert!(
        !status.status.success(),
        "status after down says not running"
    );
}

#[test]
fn demo_openmetrics_prints_the_history_and_names_a_bad_anchor() {
    let env = Env::new();
    let text = env.ok(&[
        "demo",
        "openmetrics",
        "--anchor",
        "2026-11-25T14:00:00Z",
        "--hours",
        "1",
    ]);
    assert!(
        text.ends_with("# EOF\n"),
        "{}",
        &text[text.len().saturating_sub(200)..]
    );
    let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let series = pagerpilot::demo::Scenario::embedded()
        .unwrap()
        .series_ids()
        .len();
    // 13:00 .. 13:59, one a minute (the anchor minute itself is the live target's).
    assert_eq!(samples.len(), 60 * series);
    let anchor = chrono::DateTime::parse_from_rfc3339("2026-11-25T14:00:00Z")
        .unwrap()
        .timestamp();
    let stamps: Vec<i64> = samples
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(stamps.iter().min(), Some(&(anchor - 3600)));
    assert_eq!(stamps.iter().max(), Some(&(anchor - 60)));

    let out = env.run(&["demo", "openmetrics", "--anchor", "yesterday"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"yesterday\"") && err.contains("RFC 3339"),
        "{err}"
    );

    let out = env.run(&["demo", "serve-metrics", "--listen", "not-an-address"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"not-an-address\""), "{err}");
}
