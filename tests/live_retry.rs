//! Retries within one poll against a loopback server that answers from a script: a GET that
//! fails twice (500, then 429 with `Retry-After`) succeeds on the third try; a server that keeps
//! failing is tried exactly `max_attempts` times; a 4xx and a POST are never repeated; a
//! connection refused is retried; the metrics poll through `PrometheusClient` recovers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use pagerpilot::sources::http::{HttpClient, HttpConfig, RetryPolicy};
use pagerpilot::sources::prometheus::PrometheusClient;
use pagerpilot::sources::{MetricsSource, SourceError, SourceKind};

mod common;
use common::live::free_port;

/// Serves `script` in order (the last entry repeats); counts the requests.
async fn scripted(script: Vec<Reply>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let hits = Arc::new(AtomicUsize::new(0));
    let script = Arc::new(Mutex::new(script));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let reply = {
                let script = script.lock().expect("script lock");
                http(script[n.min(script.len() - 1)])
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (url, hits)
}

/// (status line and extra headers, body) of one scripted answer.
type Reply = (&'static str, &'static str);

const E500: Reply = ("500 Internal Server Error", "boom");
const E429: Reply = ("429 Too Many Requests\r\nRetry-After: 0", "slow");
const E400: Reply = ("400 Bad Request", "bad query");
const OK_BUILD: Reply = (
    "200 OK",
    r#"{"status":"success","data":{"version":"3.0.0-test"}}"#,
);
const OK_MATRIX: Reply = (
    "200 OK",
    r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[60,"1"]]}]}}"#,
);

fn http(reply: Reply) -> String {
    let (head, body) = reply;
    format!(
        "HTTP/1.1 {head}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn client(url: &str) -> HttpClient {
    let mut config = HttpConfig::new(url);
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    };
    HttpClient::new(SourceKind::Prometheus, config).expect("client")
}

#[tokio::test]
async fn a_get_that_fails_twice_succeeds_on_the_third_try() {
    let (url, hits) = scripted(vec![E500, E429, OK_BUILD]).await;
    let (status, body) = client(&url)
        .get("/api/v1/status/buildinfo", &[])
        .await
        .expect("the third try succeeds");
    assert_eq!(status, 200);
    assert_eq!(body, OK_BUILD.1.as_bytes());
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retries_are_bounded_and_only_for_retryable_failures() {
    let (url, hits) = scripted(vec![E500]).await;
    let err = client(&url).get("/x", &[]).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Http { status: 500, .. }),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3, "three tries, no more");

    let (url, hits) = scripted(vec![E400, OK_BUILD]).await;
    let err = client(&url).get("/x", &[]).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Http { status: 400, .. }),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "a 4xx is not retried");

    let (url, hits) = scripted(vec![E500, OK_BUILD]).await;
    let err = client(&url)
        .post_json("/api/v2/silences", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Http { status: 500, .. }),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "a POST is never retried");
}

#[tokio::test]
async fn a_long_retry_after_ends_the_retries() {
    const LONG: Reply = ("429 Too Many Requests\r\nRetry-After: 120", "slow");
    let (url, hits) = scripted(vec![LONG, OK_BUILD]).await;
    let started = Instant::now();
    let err = client(&url).get("/x", &[]).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Http { status: 429, .. }),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let mut config = HttpConfig::new(&url);
    config.retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    };
    let client = HttpClient::new(SourceKind::Prometheus, config).expect("client");
    let err = client.get("/x", &[]).await.unwrap_err();
    assert!(matches!(err, SourceError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn a_metrics_poll_rides_over_a_transient_failure() {
    let (url, hits) = scripted(vec![E500, OK_MATRIX]).await;
    let mut config = HttpConfig::new(&url);
    config.retry.base_delay = Duration::from_millis(10);
    let prometheus = PrometheusClient::new(config).expect("client");
    let series = prometheus
        .query_range("m", 60, 120, 60)
        .await
        .expect("the retry hides the 500");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].values, vec![1.0]);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}
