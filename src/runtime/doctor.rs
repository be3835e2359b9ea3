//! `pagerpilot doctor`: for each configured source, is it reachable, are the credentials
//! accepted, which version answers, and does one sample query work — with timings and a verdict.

use std::future::Future;
use std::time::Instant;

use crate::config::Settings;
use crate::sources::alertmanager::AlertmanagerClient;
use crate::sources::http::redact;
use crate::sources::loki::LokiClient;
use crate::sources::prometheus::PrometheusClient;
use crate::sources::{SourceError, SourceKind};

/// What the checks found for one source.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceCheck {
    pub kind: SourceKind,
    /// The base URL with any password redacted.
    pub url: String,
    /// `None`: could not tell (the client could not even be built).
    pub reachable: Option<bool>,
    /// `None`: not known (unreachable).
    pub auth_ok: Option<bool>,
    pub version: Result<String, String>,
    /// What was asked, and what came back.
    pub sample: (String, Result<String, String>),
    /// Time to the first answer and of the sample query, in milliseconds.
    pub connect_ms: Option<u64>,
    pub sample_ms: Option<u64>,
    /// `Err` says why the source fails.
    pub verdict: Result<(), String>,
    /// How the server's certificate is checked (https or TLS options only).
    pub tls: Option<String>,
}

impl SourceCheck {
    pub fn ok(&self) -> bool {
        self.verdict.is_ok()
    }
}

/// Checks every configured source, in a fixed order.
pub async fn run(settings: &Settings) -> Vec<SourceCheck> {
    let mut out = Vec::new();
    if let Some(p) = &settings.prometheus {
        let url = shown_url(&p.http);
        out.push(match PrometheusClient::new(p.http.clone()) {
            Ok(client) => {
                check(
                    SourceKind::Prometheus,
                    url,
                    client.build_info(),
                    "up".to_string(),
                    async {
                        let now = chrono::Utc::now().timestamp();
                        client
                            .query("up", now)
                            .await
                            .map(|v| format!("{} series", v.len()))
                    },
                )
                .await
            }
            Err(e) => unbuilt(SourceKind::Prometheus, url, e),
        });
        note_tls(&mut out, &p.http);
    }
    if let Some(a) = &settings.alertmanager {
        let url = shown_url(&a.http);
        out.push(match AlertmanagerClient::new(a.http.clone()) {
            Ok(client) => {
                check(
                    SourceKind::Alertmanager,
                    url,
                    async { client.status().await.map(|s| s.version) },
                    "GET /api/v2/status".to_string(),
                    async {
                        client
                            .status()
                            .await
                            .map(|s| format!("cluster {}", empty_dash(&s.cluster)))
                    },
                )
                .await
            }
            Err(e) => unbuilt(SourceKind::Alertmanager, url, e),
        });
        note_tls(&mut out, &a.http);
    }
    if let Some(l) = &settings.loki {
        let url = shown_url(&l.source.http);
        out.push(match LokiClient::new(l.source.http.clone()) {
            Ok(client) => {
                check(
                    SourceKind::Loki,
                    url,
                    async { client.build_info().await.map(|b| b.version) },
                    "labels".to_string(),
                    async { client.labels().await.map(|v| format!("{} labels", v.len())) },
                )
                .await
            }
            Err(e) => unbuilt(SourceKind::Loki, url, e),
        });
        note_tls(&mut out, &l.source.http);
    }
    out
}

/// Sets the TLS line of the check just pushed.
fn note_tls(out: &mut [SourceCheck], http: &crate::sources::http::HttpConfig) {
    if let Some(last) = out.last_mut() {
        last.tls = tls_note(http);
    }
}

/// How the certificate of `http`'s server is checked, for the report; `None` for plain http
/// without TLS options.
pub fn tls_note(http: &crate::sources::http::HttpConfig) -> Option<String> {
    let tls = &http.tls;
    let https = http
        .base_url
        .trim()
        .to_ascii_lowercase()
        .starts_with("https://");
    if !https && *tls == Default::default() {
        return None;
    }
    let mut parts = Vec::new();
    if tls.insecure_skip_verify {
        parts.push("WARNING: certificate NOT verified (insecure_skip_verify)".to_string());
    } else {
        match &tls.ca_file {
            Some(ca) => parts.push(format!("verified (system roots + {})", ca.display())),
            None => parts.push("verified (system roots)".to_string()),
        }
    }
    if let Some(cert) = &tls.client_cert {
        parts.push(format!("client certificate {}", cert.display()));
    }
    if !https {
        parts.push("unused: the URL is plain http".to_string());
    }
    Some(parts.join("; "))
}

fn empty_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

fn shown_url(http: &crate::sources::http::HttpConfig) -> String {
    redact(&http.base_url, &http.secret_values())
}

fn unbuilt(kind: SourceKind, url: String, e: SourceError) -> SourceCheck {
    SourceCheck {
        kind,
        url,
        reachable: None,
        auth_ok: None,
        version: Err("not asked".to_string()),
        sample: (String::new(), Err("not asked".to_string())),
        connect_ms: None,
        sample_ms: None,
        verdict: Err(e.to_string()),
        tls: None,
    }
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The version call decides reachability and auth; the sample query decides the verdict.
async fn check(
    kind: SourceKind,
    url: String,
    version: impl Future<Output = Result<String, SourceError>>,
    sample_name: String,
    sample: impl Future<Output = Result<String, SourceError>>,
) -> SourceCheck {
    let started = Instant::now();
    let version = version.await;
    let connect_ms = Some(ms(started));
    let mut result = SourceCheck {
        kind,
        url,
        reachable: Some(true),
        auth_ok: Some(true),
        version: Ok(String::new()),
        sample: (sample_name, Err("not asked".to_string())),
        connect_ms,
        sample_ms: None,
        verdict: Ok(()),
        tls: None,
    };
    match version {
        Ok(v) => result.version = Ok(v),
        Err(e @ (SourceError::Unreachable { .. } | SourceError::Timeout { .. })) => {
            result.reachable = Some(false);
            result.auth_ok = None;
            result.version = Err("not asked".to_string());
            result.verdict = Err(e.to_string());
            return result;
        }
        Err(e @ SourceError::Auth { .. }) => {
            result.auth_ok = Some(false);
            result.version = Err("not asked".to_string());
            result.verdict = Err(e.to_string());
            return result;
        }
        // Some compatible servers have no build info; the sample query decides.
        Err(e) => result.version = Err(e.to_string()),
    }
    let started = Instant::now();
    let sample = sample.await;
    result.sample_ms = Some(ms(started));
    match sample {
        Ok(text) => result.sample.1 = Ok(text),
        Err(e) => {
            if matches!(e, SourceError::Auth { .. }) {
                result.auth_ok = Some(false);
            }
            result.sample.1 = Err(e.to_string());
            result.verdict = Err(e.to_string());
        }
    }
    result
}

/// The report as text: one block per source, then a summary line.
pub fn render(checks: &[SourceCheck]) -> String {
    if checks.is_empty() {
        return "no sources configured: the demo runs (configure Prometheus, Alertmanager or \
                Loki with --prometheus/--alertmanager/--loki or a config file)\n"
            .to_string();
    }
    let mut out = String::new();
    for c in checks {
        out.push_str(&format!("{}  {}\n", c.kind, c.url));
        let yes_no = |b: Option<bool>, yes: &str, no: &str| match b {
            Some(true) => yes.to_string(),
            Some(false) => no.to_string(),
            None => "unknown".to_string(),
        };
        let timing = c
            .connect_ms
            .map(|m| format!(" ({m} ms)"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  reachable     {}{timing}\n",
            yes_no(c.reachable, "yes", "no")
        ));
        if let Some(tls) = &c.tls {
            out.push_str(&format!("  tls           {tls}\n"));
        }
        out.push_str(&format!(
            "  auth          {}\n",
            yes_no(c.auth_ok, "accepted", "REJECTED")
        ));
        out.push_str(&format!(
            "  version       {}\n",
            match &c.version {
                Ok(v) if v.is_empty() => "(not reported)".to_string(),
                Ok(v) => v.clone(),
                Err(e) => format!("unknown: {e}"),
            }
        ));
        let sample_timing = c
            .sample_ms
            .map(|m| format!(" ({m} ms)"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  sample query  {}: {}{sample_timing}\n",
            if c.sample.0.is_empty() {
                "-"
            } else {
                &c.sample.0
            },
            match &c.sample.1 {
                Ok(v) => v.clone(),
                Err(e) => e.clone(),
            }
        ));
        match &c.verdict {
            Ok(()) => out.push_str("  verdict       OK\n"),
            Err(e) => out.push_str(&format!("  verdict       FAIL: {e}\n")),
        }
    }
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.ok())
        .map(|c| c.kind.as_str())
        .collect();
    if failed.is_empty() {
        out.push_str("all configured sources OK\n");
    } else {
        out.push_str(&format!(
            "{} of {} sources failed: {}\n",
            failed.len(),
            checks.len(),
            failed.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::http::HttpConfig;

    #[test]
    fn tls_line_says_how_certificates_are_checked() {
        assert_eq!(tls_note(&HttpConfig::new("http://h:9090")), None);
        let mut https = HttpConfig::new("https://h");
        assert_eq!(tls_note(&https).as_deref(), Some("verified (system roots)"));
        https.tls.ca_file = Some("/etc/ca.pem".into());
        https.tls.client_cert = Some("/etc/me.pem".into());
        assert_eq!(
            tls_note(&https).as_deref(),
            Some("verified (system roots + /etc/ca.pem); client certificate /etc/me.pem")
        );
        https.tls.insecure_skip_verify = true;
        let note = tls_note(&https).unwrap_or_default();
        assert!(
            note.starts_with("WARNING: certificate NOT verified"),
            "{note}"
        );
        let mut plain = HttpConfig::new("http://h");
        plain.tls.insecure_skip_verify = true;
        let note = tls_note(&plain).unwrap_or_default();
        assert!(note.contains("unused: the URL is plain http"), "{note}");
    }
}
