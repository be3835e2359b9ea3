//! Real servers for live tests (Debian's `prometheus`, `prometheus-alertmanager`): found on PATH
//! or a failure saying how to get them, started on a free loopback port, stopped by the PID of
//! the child we started (never by name).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pagerpilot::sources::http::HttpClient;

/// The binary on PATH, or a failure naming the Debian package `./scripts/test` installs.
pub fn require(binary: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{binary}` is not installed; the live tests need it. \
                 ./scripts/test installs it (apt-get install {package})"
            )
        })
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// A running server; dropping it kills the child by its PID and reaps it.
pub struct Server {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Starts `binary args…`, stderr to `log`.
    pub fn spawn(name: &str, binary: &Path, args: &[String], log: PathBuf) -> Server {
        let file = std::fs::File::create(&log).expect("create the server log");
        let child = Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Server {
            name: name.to_string(),
            child,
            log,
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (up to 30 s) until `GET /-/ready` answers 2xx; fails early if the server exits.
    pub async fn wait_ready(&mut self, http: &HttpClient) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before it was ready:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            if http.get("/-/ready", &[]).await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after 30 s:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
