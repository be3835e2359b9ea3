//! Faults of a live source, end to end through `setup::live`, the poll functions the pollers use
//! and `update`: connection refused, HTTP 500, an answer slower than the timeout, malformed JSON,
//! a 50 MB answer and 401. Each gives an error naming the source and the problem, and the App
//! keeps the last good data marked stale. A tiny loopback server plays the faulty server.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use pagerpilot::app::{update, App, Health, Keymap, Msg, PollData, RunMode};
use pagerpilot::config::{self, Overrides, Paths};
use pagerpilot::domain::Series;
use pagerpilot::runtime::poll::{poll_source_alerts, poll_source_metrics, MetricsCache};
use pagerpilot::runtime::setup::{self, Sources};
use pagerpilot::sources::http::Secret;
use pagerpilot::sources::{SourceError, SourceKind, SystemClock};

mod common;
use common::live::free_port;

const TOKEN: &str = "s3cret-token-value";

#[derive(Clone, Copy, Debug)]
enum Fault {
    Status500,
    Slow,
    Malformed,
    Huge,
    Unauthorized,
}

/// Answers every request with `fault`; returns its base URL.
async fn faulty_server(fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = stream.read(&mut buf).await;
                let head = |status: &str, len: Option<usize>| {
                    let len = len
                        .map(|n| format!("Content-Length: {n}\r\n"))
                        .unwrap_or_default();
                    format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{len}Connection: close\r\n\r\n"
                    )
                };
                match fault {
                    Fault::Status500 => {
                        let body = "boom: storage is on fire";
                        let _ = stream
                            .write_all(
                                format!(
                                    "{}{body}",
                                    head("500 Internal Server Error", Some(body.len()))
                                )
                                .as_bytes(),
                            )
                            .await;
                    }
                    Fault::Slow => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        let body = r#"{"status":"success","data":{"alerts":[]}}"#;
                        let _ = stream
                            .write_all(
                                format!("{}{body}", head("200 OK", Some(body.len()))).as_bytes(),
                            )
                            .await;
                    }
                    Fault::Malformed => {
                        let body = r#"{"status":"success","data":{"alerts":[{"#;
                        let _ = stream
                            .write_all(
                                format!("{}{body}", head("200 OK", Some(body.len()))).as_bytes(),
                            )
                            .await;
                    }
                    Fault::Huge => {
                        // 50 MB without a Content-Length: the client must stop reading itself.
                        if stream
                            .write_all(head("200 OK", None).as_bytes())
                            .await
                            .is_err()
                        {
                            return;
                        }
                        let chunk = vec![b' '; 1024 * 1024];
                        for _ in 0..50 {
                            if stream.write_all(&chunk).await.is_err() {
                                return;
                            }
                        }
                    }
                    Fault::Unauthorized => {
                        let body = "unauthorized";
                        let _ = stream
                            .write_all(
                                format!("{}{body}", head("401 Unauthorized", Some(body.len())))
                                    .as_bytes(),
                            )
                            .await;
                    }
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}

/// Live sources for `--prometheus URL` (and `--alertmanager URL`), a 1 s timeout, a token.
fn sources(prometheus: &str, alertmanager: Option<&str>) -> Sources {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = Paths {
        config_dir: dir.path().join("config"),
        data_dir: dir.path().join("data"),
        state_dir: dir.path().join("state"),
    };
    let overrides = Overrides {
        prometheus: Some(prometheus.to_string()),
        alertmanager: alertmanager.map(str::to_string),
        ..Overrides::default()
    };
    let mut settings =
        config::resolve_with_env(&overrides, &paths, &|_| None).expect("settings from flags");
    for s in [settings.prometheus.as_mut(), settings.alertmanager.as_mut()]
        .into_iter()
        .flatten()
    {
        s.http.timeout = Duration::from_secs(1);
        s.http.bearer_token = Some(Secret::new(TOKEN));
    }
    settings.watch.push(config::Watch {
        name: "latency".into(),
        query: "demo_latency_seconds".into(),
        step: Duration::from_secs(60),
        service_label: "service".into(),
        capacity: None,
        slo: None,
    });
    setup::live(&settings, std::sync::Arc::new(SystemClock)).expect("live sources")
}

fn good_series() -> Vec<Series> {
    vec![pagerpilot::ui::fixture::series(
        "demo_latency_seconds{service=\"web\"}",
        "web",
        30,
        |i| i as f64,
    )]
}

/// Feeds a good poll, then `err`; checks the stale marker and returns the shown error.
fn app_after(kind: SourceKind, good: PollData, err: SourceError) -> (App, String) {
    let now = pagerpilot::ui::fixture::now();
    let mut app = App::new(RunMode::Live, Keymap::embedded(), now);
    let msg = |generation, secs, result| Msg::Polled {
        source: kind,
        generation,
        at: now + chrono::Duration::seconds(secs),
        elapsed_ms: 10,
        result,
    };
    update(&mut app, msg(1, 0, Ok(good)));
    update(&mut app, msg(2, 15, Err(err)));
    let status = app.source(kind).expect("slot").clone();
    assert!(status.is_stale(), "{status:?}");
    assert_eq!(
        status.last_ok,
        Some(now),
        "the last good poll is remembered"
    );
    let error = status.error().expect("an error is shown").to_string();
    (app, error)
}

async fn metrics_error(sources: &Sources) -> SourceError {
    let mut cache = MetricsCache::default();
    let now = chrono::Utc::now().timestamp();
    match poll_source_metrics(sources, &mut cache, now).await {
        Err(e) => e,
        Ok(series) => panic!("expected an error, got {} series", series.len()),
    }
}

async fn check_prometheus(fault: Option<Fault>, want: &[&str]) -> App {
    let url = match fault {
        Some(f) => faulty_server(f).await,
        None => format!("http://127.0.0.1:{}", free_port()),
    };
    let sources = sources(&url, None);
    let err = metrics_error(&sources).await;
    assert_eq!(err.kind(), SourceKind::Prometheus);
    let (app, shown) = app_after(
        SourceKind::Prometheus,
        PollData::Metrics(good_series()),
        err,
    );
    assert!(
        shown.starts_with("prometheus "),
        "names the source: {shown}"
    );
    for w in want {
        assert!(shown.contains(w), "{fault:?}: {shown:?} lacks {w:?}");
    }
    assert!(!shown.contains(TOKEN), "no secret in errors: {shown}");
    assert_eq!(app.data.series, good_series(), "last good data kept");
    app
}

#[tokio::test]
async fn connection_refused() {
    let app = check_prometheus(None, &["unreachable", "could not connect", "127.0.0.1"]).await;
    assert!(matches!(
        app.source(SourceKind::Prometheus).map(|s| &s.health),
        Some(Health::Failing { .. })
    ));
}

#[tokio::test]
async fn http_500_quotes_the_body() {
    check_prometheus(
        Some(Fault::Status500),
        &["HTTP 500", "boom: storage is on fire"],
    )
    .await;
}

#[tokio::test]
async fn slower_than_the_timeout() {
    let started = std::time::Instant::now();
    check_prometheus(Some(Fault::Slow), &["timed out after 1s"]).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the client gave up at its timeout, not when the server answered"
    );
}

#[tokio::test]
async fn malformed_json() {
    check_prometheus(
        Some(Fault::Malformed),
        &["could not be read", "invalid JSON"],
    )
    .await;
}

#[tokio::test]
async fn a_50_mb_answer_is_refused() {
    check_prometheus(Some(Fault::Huge), &["larger than the 32 MB limit"]).await;
}

#[tokio::test]
async fn unauthorized_is_an_auth_error() {
    let app = check_prometheus(
        Some(Fault::Unauthorized),
        &["rejected the credentials (HTTP 401)"],
    )
    .await;
    assert!(matches!(
        app.source(SourceKind::Prometheus).map(|s| &s.health),
        Some(Health::AuthError { .. })
    ));
}

#[tokio::test]
async fn alertmanager_faults_name_alertmanager() {
    let prom = format!("http://127.0.0.1:{}", free_port());
    for (fault, want) in [
        (Fault::Status500, "alertmanager answered HTTP 500"),
        (
            Fault::Unauthorized,
            "alertmanager rejected the credentials (HTTP 401)",
        ),
        (
            Fault::Malformed,
            "alertmanager sent a response that could not be read",
        ),
    ] {
        let am = faulty_server(fault).await;
        let sources = sources(&prom, Some(&am));
        let err = match poll_source_alerts(&sources).await {
            Err(e) => e,
            Ok(a) => panic!("expected an error, got {a:?}"),
        };
        let (app, shown) = app_after(SourceKind::Alertmanager, PollData::Alerts(Vec::new()), err);
        assert!(shown.contains(want), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(app
            .source(SourceKind::Alertmanager)
            .is_some_and(|s| s.is_stale()));
    }
}
