//! Shared HTTP plumbing for the live clients (Loki today; Prometheus and Alertmanager can reuse
//! it): configuration, credentials that never print, one `GET` that maps every failure to a
//! [`SourceError`], a response size cap, and a URL join that keeps a path prefix.

use std::error::Error as _;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{SourceError, SourceKind};

/// Responses larger than this are refused (a runaway query must not eat the terminal's memory).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Request timeout when the configuration does not say otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of an error body is quoted in [`SourceError::Http`].
pub const ERROR_BODY_CHARS: usize = 500;
/// How much of an error body is read at all before it is cut.
const ERROR_BODY_READ_BYTES: usize = 64 * 1024;
/// Header names whose values are treated as secrets too.
const SENSITIVE_HEADER_HINTS: [&str; 6] = ["auth", "token", "key", "secret", "cookie", "password"];

/// A credential. `Debug` and `Display` print `***`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The real value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a live source lives and how to authenticate to it.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// e.g. `http://loki:3100` or `https://gw.example.com/loki` (a path prefix is kept).
    pub base_url: String,
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer <token>`.
    pub bearer_token: Option<Secret>,
    /// Sent as HTTP basic auth (user, password).
    pub basic: Option<(String, Secret)>,
    /// Extra headers sent with every request.
    pub headers: Vec<(String, String)>,
    /// Tenant(s) for multi-tenant Loki/Mimir, sent as `X-Scope-OrgID` (several joined with `|`).
    pub tenant: Option<String>,
    /// Responses larger than this are refused with a decode error.
    pub max_response_bytes: usize,
    /// CA file, client certificate, `insecure_skip_verify`.
    pub tls: TlsConfig,
    /// Retries of idempotent requests within one poll.
    pub retry: RetryPolicy,
}

/// TLS options of one source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM file of CA certificates trusted in addition to the system's.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (chain), sent when the server asks for one; needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert`.
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate. Dangerous; a warning is shown wherever it is used.
    pub insecure_skip_verify: bool,
}

impl HttpConfig {
    pub fn new(base_url: impl Into<String>) -> HttpConfig {
        HttpConfig {
            base_url: base_url.into(),
            timeout: DEFAULT_TIMEOUT,
            bearer_token: None,
            basic: None,
            headers: Vec::new(),
            tenant: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            tls: TlsConfig::default(),
            retry: RetryPolicy::default(),
        }
    }

    /// Every value that must never be shown: tokens, passwords, sensitive header values, and
    /// the password of a `user:pass@` base URL.
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(token) = &self.bearer_token {
            out.push(token.expose().to_owned());
        }
        if let Some((_, password)) = &self.basic {
            out.push(password.expose().to_owned());
        }
        for (name, value) in &self.headers {
            let name = name.to_ascii_lowercase();
            if SENSITIVE_HEADER_HINTS.iter().any(|h| name.contains(h)) {
                out.push(value.clone());
            }
        }
        if let Ok(url) = reqwest::Url::parse(&self.base_url) {
            if let Some(password) = url.password() {
                out.push(password.to_owned());
            }
        }
        out.retain(|s| !s.is_empty());
        // Longest first, so a secret containing another is replaced whole.
        out.sort_by_key(|s| std::cmp::Reverse(s.len()));
        out
    }
}

/// Joins a base URL and an API path, keeping any path prefix of the base:
/// `http://h/prefix` + `/loki/api/v1/labels` → `http://h/prefix/loki/api/v1/labels`.
pub fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Replaces every occurrence of every secret with `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), "***");
    }
    out
}

/// The first `max` characters of `text` (not bytes: never splits a character), marked when cut.
pub fn first_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A configured HTTP client for one source.
pub struct HttpClient {
    kind: SourceKind,
    config: HttpConfig,
    secrets: Vec<String>,
    client: reqwest::Client,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("kind", &self.kind)
            .field("base_url", &redact(&self.config.base_url, &self.secrets))
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Validates the configuration and builds the client. Configuration mistakes (bad URL, bad
    /// header) come back as [`SourceError::Query`] naming what is wrong.
    pub fn new(kind: SourceKind, config: HttpConfig) -> Result<HttpClient, SourceError> {
        let secrets = config.secret_values();
        let bad_config = |detail: String| SourceError::Query {
            kind,
            detail: format!("configuration: {}", redact(&detail, &secrets)),
        };
        let url = reqwest::Url::parse(&config.base_url)
            .map_err(|e| bad_config(format!("base URL {:?} is invalid: {e}", config.base_url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad_config(format!(
                "base URL {:?} must start with http:// or https://",
                config.base_url
            )));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| bad_config(format!("header name {name:?} is not valid")))?;
            let mut header_value = HeaderValue::from_str(value)
                .map_err(|_| bad_config(format!("value of header {name:?} is not valid")))?;
            let lower = name.to_ascii_lowercase();
            header_value.set_sensitive(SENSITIVE_HEADER_HINTS.iter().any(|h| lower.contains(h)));
            headers.insert(header, header_value);
        }
        if let Some(tenant) = &config.tenant {
            let value = HeaderValue::from_str(tenant).map_err(|_| {
                bad_config(format!("tenant {tenant:?} is not a valid header value"))
            })?;
            headers.insert(HeaderName::from_static("x-scope-orgid"), value);
        }
        // The TLS backend needs a process-wide crypto provider; a second install is refused,
        // which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .default_headers(headers);
        let builder = apply_tls(builder, &config.tls).map_err(bad_config)?;
        if config.tls.insecure_skip_verify {
            tracing::warn!(
                source = %kind,
                "insecure_skip_verify is on: TLS certificates of {} are NOT checked",
                redact(&config.base_url, &secrets)
            );
        }
        let client = builder.build().map_err(|e| {
            let files = match (&config.tls.client_cert, &config.tls.client_key) {
                (Some(cert), Some(key)) => format!(
                    " with client_cert {} and client_key {}",
                    cert.display(),
                    key.display()
                ),
                _ => String::new(),
            };
            bad_config(format!(
                "could not build the HTTP client{files}: {}",
                causes(&e)
            ))
        })?;
        Ok(HttpClient {
            kind,
            config,
            secrets,
            client,
        })
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The full URL for an API path.
    pub fn url(&self, path: &str) -> String {
        join_url(&self.config.base_url, path)
    }

    /// `GET path?query`: the status and body of a 2xx answer, or the matching error. A GET is
    /// idempotent, so a retryable failure (connect error, timeout, 5xx, 429) is tried again
    /// after a jittered exponential backoff, up to [`RetryPolicy::max_attempts`] in all.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), SourceError> {
        let mut attempt = 1u32;
        loop {
            let request = self.client.get(self.url(path)).query(query);
            let failure = match self.execute(path, request).await {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            let Some(wait) = self
                .config
                .retry
                .wait_after(attempt, failure.retry, jitter_unit())
            else {
                return Err(failure.error);
            };
            tracing::debug!(
                source = %self.kind,
                path,
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %failure.error,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// `POST path` with `body` as JSON: the status and body of a 2xx answer, or the matching
    /// error (the same mapping as [`HttpClient::get`]). Never retried: it may not be idempotent.
    pub async fn post_json<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<(u16, Vec<u8>), SourceError> {
        let request = self.client.post(self.url(path)).json(body);
        self.execute(path, request).await.map_err(|f| f.error)
    }

    /// `DELETE path`: the status and body of a 2xx answer, or the matching error (not retried).
    pub async fn delete(&self, path: &str) -> Result<(u16, Vec<u8>), SourceError> {
        let request = self.client.delete(self.url(path));
        self.execute(path, request).await.map_err(|f| f.error)
    }

    /// Adds credentials, sends, and maps the answer: 401/403 → auth, other non-2xx → HTTP error
    /// quoting the (redacted, cut) body, 2xx → the body within the size cap. A failure says
    /// whether trying again could help.
    async fn execute(
        &self,
        path: &str,
        mut request: reqwest::RequestBuilder,
    ) -> Result<(u16, Vec<u8>), Failure> {
        if let Some(token) = &self.config.bearer_token {
            request = request.bearer_auth(token.expose());
        }
        if let Some((user, password)) = &self.config.basic {
            request = request.basic_auth(user, Some(password.expose()));
        }
        let mut response = request.send().await.map_err(|e| Failure {
            // A refused certificate will be refused again: no retry.
            retry: if (e.is_connect() || e.is_timeout()) && !is_certificate_error(&e) {
                Retry::Backoff
            } else {
                Retry::No
            },
            error: self.transport(path, &e),
        })?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(Failure::final_(SourceError::Auth {
                kind: self.kind,
                status,
            }));
        }
        if !response.status().is_success() {
            let retry = match status {
                429 | 503 => retry_after(response.headers()).map_or(Retry::Backoff, Retry::After),
                500..=599 => Retry::Backoff,
                _ => Retry::No,
            };
            let body = self
                .read_body(path, &mut response, ERROR_BODY_READ_BYTES, false)
                .await
                .unwrap_or_default();
            let text = redact(String::from_utf8_lossy(&body).trim(), &self.secrets);
            return Err(Failure {
                error: SourceError::Http {
                    kind: self.kind,
                    status,
                    body: first_chars(&text, ERROR_BODY_CHARS),
                },
                retry,
            });
        }
        let limit = self.config.max_response_bytes;
        if let Some(len) = response.content_length() {
            if len > limit as u64 {
                return Err(Failure::final_(self.too_large(path, limit)));
            }
        }
        let body = self
            .read_body(path, &mut response, limit, true)
            .await
            .map_err(Failure::final_)?;
        Ok((status, body))
    }

    /// Reads at most `limit` bytes; beyond that either stops quietly or fails (`strict`).
    async fn read_body(
        &self,
        path: &str,
        response: &mut reqwest::Response,
        limit: usize,
        strict: bool,
    ) -> Result<Vec<u8>, SourceError> {
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport(path, &e))?
        {
            if body.len() + chunk.len() > limit {
                if strict {
                    return Err(self.too_large(path, limit));
                }
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..room]);
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn too_large(&self, path: &str, limit: usize) -> SourceError {
        SourceError::Decode {
            kind: self.kind,
            detail: format!(
                "{path}: response is larger than the {} limit",
                human_bytes(limit)
            ),
        }
    }

    /// Maps a reqwest failure (no HTTP status) to the matching error.
    fn transport(&self, path: &str, err: &reqwest::Error) -> SourceError {
        let detail = redact(
            &format!("{}: {}", self.url(path), chain(err)),
            &self.secrets,
        );
        if err.is_timeout() {
            let ms = self.config.timeout.as_millis();
            SourceError::Timeout {
                kind: self.kind,
                secs: u64::try_from(ms.div_ceil(1000)).unwrap_or(u64::MAX),
            }
        } else if err.is_body() || err.is_decode() {
            SourceError::Decode {
                kind: self.kind,
                detail,
            }
        } else {
            SourceError::Unreachable {
                kind: self.kind,
                detail,
            }
        }
    }
}

/// How many times an idempotent request is tried within one poll, and how long to wait between
/// tries. The poller's own backoff between polls comes on top of this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1: no retry).
    pub max_attempts: u32,
    /// The wait before the first retry (before jitter); doubled for each further retry.
    pub base_delay: Duration,
    /// The longest wait between two tries; a `Retry-After` longer than this ends the retries
    /// (the next poll tries again).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

/// Whether a failed try may be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// No: the answer will not change (4xx, auth, a bad body, a request that is not idempotent).
    No,
    /// Yes, after the policy's backoff (connect error, timeout, 5xx, 429 without a hint).
    Backoff,
    /// Yes, after the server's `Retry-After`.
    After(Duration),
}

impl RetryPolicy {
    /// The wait before try `attempt + 1` after try `attempt` (1-based) failed with `retry`, or
    /// `None` when there is no further try. `unit` in `[0, 1)` is the jitter: the backoff
    /// `base * 2^(attempt-1)`, capped at `max_delay`, is scaled into `[1/2, 1]` of itself, so
    /// clients that failed together do not come back together.
    pub fn wait_after(&self, attempt: u32, retry: Retry, unit: f64) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        match retry {
            Retry::No => None,
            Retry::After(wait) => (wait <= self.max_delay).then_some(wait),
            Retry::Backoff => {
                let doubled = self
                    .base_delay
                    .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
                let capped = doubled.min(self.max_delay);
                Some(capped.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0)))
            }
        }
    }
}

/// A failed try: the error, and whether another try could help.
struct Failure {
    error: SourceError,
    retry: Retry,
}

impl Failure {
    fn final_(error: SourceError) -> Failure {
        Failure {
            error,
            retry: Retry::No,
        }
    }
}

/// `Retry-After` as a duration: delay-seconds, or an HTTP date (a date in the past is zero).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// A number in `[0, 1)` that differs between calls and between processes (jitter only; not
/// for anything that needs real randomness).
fn jitter_unit() -> f64 {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let hash = std::collections::hash_map::RandomState::new().hash_one(n);
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// Reads a PEM file named by `key` (`ca_file`, `client_cert`, ...) that must hold a `want`
/// block (`CERTIFICATE`, `PRIVATE KEY`), naming the file on failure.
fn read_pem(key: &str, path: &Path, want: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{key} {}: cannot read it: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    if !text.contains("-----BEGIN ") {
        return Err(format!(
            "{key} {}: not a PEM file (no \"-----BEGIN\" line)",
            path.display()
        ));
    }
    let found = text
        .lines()
        .any(|l| l.starts_with("-----BEGIN ") && l.contains(want));
    if !found {
        return Err(format!("{key} {}: holds no {want} block", path.display()));
    }
    Ok(bytes)
}

/// Adds the CA file, the client identity and `insecure_skip_verify` to the client builder.
/// Errors name the file and what is wrong with it.
fn apply_tls(
    mut builder: reqwest::ClientBuilder,
    tls: &TlsConfig,
) -> Result<reqwest::ClientBuilder, String> {
    if let Some(path) = &tls.ca_file {
        let pem = read_pem("ca_file", path, "CERTIFICATE")?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            format!(
                "ca_file {}: not a PEM certificate bundle: {}",
                path.display(),
                causes(&e)
            )
        })?;
        if certs.is_empty() {
            return Err(format!(
                "ca_file {}: holds no CERTIFICATE block",
                path.display()
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let mut pem = read_pem("client_cert", cert, "CERTIFICATE")?;
            pem.push(b'\n');
            pem.extend(read_pem("client_key", key, "PRIVATE KEY")?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                format!(
                    "client_cert {} with client_key {}: not a usable certificate and key: {}",
                    cert.display(),
                    key.display(),
                    causes(&e)
                )
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => return Err("client_cert and client_key must be set together".to_owned()),
    }
    if tls.insecure_skip_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

/// An error and all its causes, joined with `: `.
fn causes(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// Whether a connection failed on a certificate (the server's, or ours refused).
fn is_certificate_error(err: &reqwest::Error) -> bool {
    causes(err).to_ascii_lowercase().contains("certificate")
}

/// An error and its causes on one line, without the URL reqwest would add.
fn chain(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // hyper's wrapper ("client error (Connect)") says nothing its cause does not.
        if !text.starts_with("client error (") && !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    let head = if err.is_connect() {
        "could not connect".to_owned()
    } else if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_body() {
        "could not read the response body".to_owned()
    } else {
        "request failed".to_owned()
    };
    let hint = if err.is_connect() && is_certificate_error(err) {
        " (TLS: set ca_file to the CA that signed the server's certificate, client_cert and \
         client_key if the server asks for one, or insecure_skip_verify only for testing)"
    } else {
        ""
    };
    if parts.is_empty() {
        format!("{head}{hint}")
    } else {
        format!("{head}: {}{hint}", parts.join(": "))
    }
}

fn human_bytes(n: usize) -> String {
    const MB: usize = 1024 * 1024;
    if n >= MB && n.is_multiple_of(MB) {
        format!("{} MB", n / MB)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        let mut config = HttpConfig::new("http://u:pw123@h");
        config.bearer_token = Some(s);
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(config.secret_values(), vec!["hunter2", "pw123"]);
    }

    #[test]
    fn retry_schedule_grows_is_capped_and_jittered() {
        let policy = RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        let at = |attempt, unit| policy.wait_after(attempt, Retry::Backoff, unit);
        // The backoff doubles (100, 200, 400, 800 ms) up to the cap; the jitter keeps each
        // wait within [half, all] of it.
        for (attempt, backoff_ms) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000)] {
            let backoff = Duration::from_millis(backoff_ms);
            assert_eq!(at(attempt, 0.0), Some(backoff / 2), "attempt {attempt}");
            let high = at(attempt, 0.999_999).unwrap();
            assert!(high <= backoff && high > backoff * 99 / 100, "{high:?}");
            let mid = at(attempt, 0.5).unwrap();
            assert!(mid > backoff / 2 && mid < high, "{mid:?}");
        }
        // Bounded: no wait after the last try.
        assert_eq!(at(6, 0.5), None);
        assert_eq!(at(60, 0.5), None);
        // Retry-After is honoured when it fits, otherwise the retries stop.
        let after = |d| policy.wait_after(1, Retry::After(d), 0.5);
        assert_eq!(
            after(Duration::from_millis(700)),
            Some(Duration::from_millis(700))
        );
        assert_eq!(after(Duration::from_secs(30)), None);
        assert_eq!(policy.wait_after(1, Retry::No, 0.5), None);
        let once = RetryPolicy {
            max_attempts: 1,
            ..policy
        };
        assert_eq!(once.wait_after(1, Retry::Backoff, 0.5), None);
    }

    #[test]
    fn retry_after_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&headers), None);
        let units: Vec<f64> = (0..100).map(|_| jitter_unit()).collect();
        assert!(units.iter().all(|u| (0.0..1.0).contains(u)));
        assert!(units.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn join_keeps_prefix() {
        assert_eq!(join_url("http://h/p/", "/a/b"), "http://h/p/a/b");
        assert_eq!(join_url("http://h:3100", "a"), "http://h:3100/a");
    }

    #[test]
    fn redacts_and_cuts() {
        let secrets = vec!["tok".to_owned()];
        assert_eq!(redact("a tok b tok", &secrets), "a *** b ***");
        assert_eq!(first_chars("héllo", 2), "hé…");
        assert_eq!(first_chars("hé", 2), "hé");
    }
}
