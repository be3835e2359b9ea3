//! The Loki client against a loopback server that answers from real Loki 2.7.5 responses
//! (tests/fixtures/loki, copied from the shared capture) and records what was sent.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pagerpilot::domain::{Labels, LogStream};
use pagerpilot::sources::http::{HttpConfig, Secret};
use pagerpilot::sources::loki::LokiClient;
use pagerpilot::sources::{LogSource, SourceError, SourceKind};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
struct Req {
    path: String,
    query: Vec<(String, String)>,
    /// Names lowercased.
    headers: Vec<(String, String)>,
}

fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Req {
    fn param(&self, name: &str) -> Option<&str> {
        find(&self.query, name)
    }

    fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

/// Status and body.
type Reply = (u16, Vec<u8>);

type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    fn client(&self) -> LokiClient {
        client_at(&self.url, |_| {})
    }

    /// A log query through the `LogSource` trait over a fixed window.
    async fn logs(&self, query: &str) -> Result<Vec<LogStream>, SourceError> {
        self.client().query_range(query, START, END, 5).await
    }

    fn requests(&self) -> Vec<Req> {
        self.requests.lock().expect("lock").clone()
    }
}

fn client_at(url: &str, tweak: impl FnOnce(&mut HttpConfig)) -> LokiClient {
    let mut config = HttpConfig::new(url);
    tweak(&mut config);
    LokiClient::new(config).expect("client")
}

/// A fixture as a reply; `.txt` captures end with an `http_status=NNN` line giving the status.
fn fixture_reply(name: &str) -> Reply {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/loki")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    match text.trim_end().rsplit_once("\nhttp_status=") {
        Some((head, status)) => (status.parse().expect("status"), format!("{head}\n").into()),
        None => (200, text.into_bytes()),
    }
}

/// Answers like the captured Loki did, by path and query.
fn loki(req: &Req) -> Reply {
    match req.path.as_str() {
        "/loki/api/v1/query_range" => {
            let q = req.param("query").unwrap_or_default();
            if !q.contains('}') {
                fixture_reply("error_bad_logql.txt")
            } else if q.contains("count_over_time") {
                fixture_reply("query_range_matrix.json")
            } else if q.contains("| json") {
                fixture_reply("query_range_json_parser.json")
            } else {
                fixture_reply("query_range_streams.json")
            }
        }
        "/loki/api/v1/labels" => fixture_reply("labels.json"),
        "/loki/api/v1/label/app/values" => fixture_reply("label_values_app.json"),
        "/loki/api/v1/series" => fixture_reply("series.json"),
        "/loki/api/v1/status/buildinfo" => fixture_reply("buildinfo.json"),
        _ => (404, b"404 page not found\n".to_vec()),
    }
}

/// Form-urlencoded → text.
fn decode(s: &str) -> String {
    let (bytes, mut out, mut i) = (s.as_bytes(), Vec::new(), 0);
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8 query")
}

fn parse_request(head: &str) -> Req {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().expect("request line");
    let target = request_line.split(' ').nth(1).expect("target");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Req {
        path: path.to_owned(),
        query,
        headers,
    }
}

async fn serve(handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let handler = handler.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let req = parse_request(&String::from_utf8_lossy(&buf));
                log.lock().expect("lock").push(req.clone());
                let (status, body) = handler(&req);
                let n = body.len();
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n"
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    let url = format!("http://{addr}");
    Server { url, requests }
}

async fn loki_server() -> Server {
    serve(Arc::new(loki)).await
}

/// A server that answers every request the same way.
async fn fixed(status: u16, body: &str) -> Server {
    let body = body.as_bytes().to_vec();
    serve(Arc::new(move |_: &Req| (status, body.clone()))).await
}

/// A label's value, or "" when missing.
fn label<'a>(labels: &'a Labels, name: &str) -> &'a str {
    labels.get(name).map_or("", String::as_str)
}

const SELECTOR: &str = "{app=\"checkout-api\"} |= \"error\"";
const SHOP: &str = "{namespace=\"shop\"}";
const START: i64 = 1_795_570_000_000_000_000;
const END: i64 = 1_795_573_900_000_000_000;

#[tokio::test]
async fn streams_parse_newest_first_with_exact_ns() {
    let server = loki_server().await;
    let streams = server.logs(SELECTOR).await.expect("streams");
    assert_eq!(streams.len(), 1);
    let s = &streams[0];
    assert_eq!(
        (label(&s.labels, "app"), label(&s.labels, "namespace")),
        ("checkout-api", "shop")
    );
    assert_eq!(s.entries.len(), 5);
    assert_eq!(s.entries[0].ts_ns, 1_795_573_829_849_099_935);
    assert_eq!(s.entries[4].ts_ns, 1_795_573_789_849_099_935);
    assert!(s.entries.windows(2).all(|w| w[0].ts_ns > w[1].ts_ns));
    assert!(s.entries[0].line.contains("trace_id=fc173498b87e4e2b"));

    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/loki/api/v1/query_range");
    let sent: Vec<_> = ["query", "direction", "limit", "start", "end"]
        .map(|k| reqs[0].param(k))
        .into();
    // Loki's end is exclusive; the trait's is inclusive, hence the +1.
    let want = [
        SELECTOR,
        "backward",
        "5",
        "1795570000000000000",
        "1795573900000000001",
    ];
    assert_eq!(sent, want.map(Some));

    // `| json` turns extracted fields into stream labels: one stream per distinct set.
    let streams = server
        .logs("{app=\"payments-db\"} | json")
        .await
        .expect("streams");
    assert_eq!(streams.len(), 3);
    assert_eq!(label(&streams[0].labels, "in_use"), "91");
}

#[tokio::test]
async fn matrix_for_a_log_query_is_a_query_error() {
    let server = loki_server().await;
    let q = "sum by (app) (count_over_time({namespace=\"shop\"}[1m]))";
    let err = server.logs(q).await.unwrap_err();
    let SourceError::Query { kind, detail } = err else {
        panic!("expected Query, got {err:?}")
    };
    assert_eq!(kind, SourceKind::Loki);
    assert!(
        detail.contains("matrix") && detail.contains("stream selector"),
        "{detail}"
    );
}

#[tokio::test]
async fn plain_text_400_is_http_error_with_body() {
    let server = loki_server().await;
    let err = server.logs("{app=\"x\"").await.unwrap_err();
    let SourceError::Http { status, body, .. } = err else {
        panic!("expected Http, got {err:?}")
    };
    assert_eq!(status, 400);
    assert!(body.contains("parse error at line 1, col 20"), "{body}");
}

#[tokio::test]
async fn labels_values_series_buildinfo_parse() {
    let server = loki_server().await;
    let client = server.client();
    let labels = client.labels().await.expect("labels");
    assert_eq!(labels, ["app", "namespace", "pod"]);
    let values = client.label_values("app").await.expect("values");
    assert_eq!(values, ["checkout-api", "payments-db"]);
    let series = client.series(&[SHOP]).await.expect("series");
    assert_eq!(series.len(), 2);
    assert_eq!(label(&series[0], "pod"), "payments-db-0");
    let info = client.build_info().await.expect("buildinfo");
    assert_eq!(info.version, "");
    let reqs = server.requests();
    assert_eq!(reqs[2].param("match[]"), Some(SHOP));
    assert!(client.label_values("bad/name").await.is_err());
}

#[tokio::test]
async fn tenant_and_bearer_are_sent_but_token_never_shown() {
    const TOKEN: &str = "s3cr3t-t0ken";
    let server = fixed(500, &format!("internal error: bad token {TOKEN}")).await;
    let client = client_at(&server.url, |c| {
        c.tenant = Some("a|b".to_owned());
        c.bearer_token = Some(Secret::new(TOKEN));
    });
    assert!(!format!("{client:?}").contains(TOKEN));
    let err = client.query_range(SELECTOR, 0, 1, 1).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Http { status: 500, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("bad token ***"), "{shown}");
    let reqs = server.requests();
    assert_eq!(reqs[0].header("x-scope-orgid"), Some("a|b"));
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn unauthorized_is_auth() {
    let server = fixed(401, "no org id\n").await;
    let err = server.client().labels().await.unwrap_err();
    assert!(
        matches!(err, SourceError::Auth { status: 401, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = client_at(&format!("http://{addr}"), |_| {});
    let err = client.labels().await.unwrap_err();
    assert!(matches!(err, SourceError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[tokio::test]
async fn silent_server_is_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = client_at(&format!("http://{addr}"), |c| {
        c.timeout = Duration::from_millis(300)
    });
    let started = std::time::Instant::now();
    let err = client.labels().await.unwrap_err();
    assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn malformed_json_is_decode() {
    let server = fixed(200, "{\"status\":\"success\",\"data\":[").await;
    let err = server.client().labels().await.unwrap_err();
    assert!(matches!(err, SourceError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("/loki/api/v1/labels"), "{err}");
}

#[tokio::test]
async fn oversized_response_is_decode_naming_the_limit() {
    let server = loki_server().await;
    let client = client_at(&server.url, |c| c.max_response_bytes = 100);
    let err = client.query_range(SELECTOR, 0, 1, 5).await.unwrap_err();
    assert!(matches!(err, SourceError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("100 bytes limit"), "{err}");
}

#[tokio::test]
async fn path_prefix_is_kept() {
    let server = fixed(200, r#"{"status":"success","data":["app"]}"#).await;
    let client = client_at(&format!("{}/gw/loki/", server.url), |_| {});
    assert_eq!(client.labels().await.expect("labels"), ["app"]);
    assert_eq!(server.requests()[0].path, "/gw/loki/loki/api/v1/labels");
}

/// 23 lines over two streams; lines 4 and 5 share a timestamp, straddling the first page.
fn paging_data() -> Vec<(usize, i64, String)> {
    let step = |i: i64| if i == 5 { 4 } else { i };
    let line = |i: i64| ((i % 2) as usize, 1_000 - 10 * step(i), format!("line {i}"));
    (0..23).map(line).collect()
}

/// Loki's semantics: `start <= ts < end`, newest first, `limit` lines over all streams.
fn paging_handler(req: &Req) -> Reply {
    let num = |k: &str| -> i64 { req.param(k).and_then(|v| v.parse().ok()).expect(k) };
    let (start, end, limit) = (num("start"), num("end"), num("limit") as usize);
    let mut lines: Vec<_> = paging_data()
        .into_iter()
        .filter(|(_, ts, _)| *ts >= start && *ts < end)
        .collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.1));
    lines.truncate(limit);
    let result: Vec<serde_json::Value> = (0..2)
        .map(|s| {
            let values: Vec<_> = lines
                .iter()
                .filter(|(i, _, _)| *i == s)
                .map(|(_, ts, l)| json!([ts.to_string(), l]))
                .collect();
            json!({"stream": {"app": "pay", "shard": s.to_string()}, "values": values})
        })
        .filter(|v| v["values"].as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    let body = json!({"status": "success", "data": {"resultType": "streams", "result": result}});
    (200, body.to_string().into_bytes())
}

/// Every line of every stream, newest first.
fn all_lines(streams: &[LogStream]) -> Vec<(i64, String)> {
    let mut out: Vec<_> = streams
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| (e.ts_ns, e.line.clone())))
        .collect();
    out.sort_by(|a, b| b.cmp(a));
    out
}

#[tokio::test]
async fn paging_joins_pages_without_duplicates() {
    let server = serve(Arc::new(paging_handler)).await;
    let client = server.client();
    let streams = client
        .query_range_all("{app=\"pay\"}", 0, 2_000, 5, 1_000)
        .await
        .expect("pages");
    let mut want: Vec<(i64, String)> = paging_data().into_iter().map(|(_, t, l)| (t, l)).collect();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(all_lines(&streams), want);
    assert_eq!(streams.len(), 2);
    for s in &streams {
        assert!(s.entries.windows(2).all(|w| w[0].ts_ns >= w[1].ts_ns));
    }
    let reqs = server.requests();
    // The second page ends at the oldest line seen (inclusive, so Loki's exclusive end is +1).
    assert_eq!(reqs[1].param("end"), Some("961"));
    // 5 new lines, then 4 new + 1 repeat per page, until the short sixth page.
    assert_eq!(reqs.len(), 6);

    let capped = client
        .query_range_all("{app=\"pay\"}", 0, 2_000, 5, 12)
        .await
        .expect("capped");
    assert_eq!(all_lines(&capped), want[..12]);
}
