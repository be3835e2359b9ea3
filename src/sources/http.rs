//! Shared HTTP plumbing for the live clients (Prometheus, Alertmanager, Loki): configuration,
//! credentials that never print, one `GET` that maps every failure to a [`SourceError`] and is
//! retried when that can help ([`super::retry`]), TLS options ([`super::tls`]), a response size
//! cap, and a URL join that keeps a path prefix.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::retry::{jitter_unit, retry_after};
pub use super::retry::{Retry, RetryPolicy};
use super::tls::apply_tls;
pub use super::tls::TlsConfig;
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

/// An error and all its causes, joined with `: `.
pub(super) fn causes(err: &dyn std::error::Error) -> String {
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
