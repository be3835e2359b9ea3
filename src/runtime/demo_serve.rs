//! `pagerpilot demo serve-metrics`: a scrape target that serves the demo scenario's current
//! values at `/metrics`, so a real Prometheus (scripts/demo-stack) keeps the backfilled history
//! going live. One tiny HTTP/1.1 answer per connection; runs until the process is stopped.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::demo::{export, Scenario};

/// Binds `listen` and serves until the process ends. Errors: the address cannot be bound.
pub async fn serve(scenario: Scenario, anchor: DateTime<Utc>, listen: &str) -> anyhow::Result<()> {
    let addr: SocketAddr = listen.parse().map_err(|e| {
        anyhow::anyhow!("--listen {listen:?} is not an address such as 127.0.0.1:9101: {e}")
    })?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let scenario = Arc::new(scenario);
    eprintln!(
        "serving the demo metrics at http://{}/metrics",
        listener.local_addr().unwrap_or(addr)
    );
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let scenario = scenario.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &scenario, anchor).await {
                tracing::debug!(error = %e, "scrape connection failed");
            }
        });
    }
}

async fn answer(
    mut stream: TcpStream,
    scenario: &Scenario,
    anchor: DateTime<Utc>,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&request);
    let path = head.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = if head.starts_with("GET ") && path.split('?').next() == Some("/metrics") {
        (
            "200 OK",
            export::exposition(scenario, anchor, Utc::now().timestamp()),
        )
    } else {
        ("404 Not Found", "only GET /metrics is served\n".to_string())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
