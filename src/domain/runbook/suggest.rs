//! Which runbooks fit an incident's alerts, best first, each with the reason.

use std::cmp::Reverse;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::Runbook;
use crate::domain::{Alert, Labels, RunbookSuggestion, Severity};

/// A runbook file named by a `runbook_url` larger than this is not read.
const MAX_RUNBOOK_BYTES: u64 = 1 << 20;

/// Suggests runbooks for an incident's alerts.
///
/// 1. Each alert's `runbook_url` annotation (most severe alert first):
///    * an http(s) URL becomes a link-only suggestion (`url` set, `id` = the URL);
///    * a `file:///abs/path.md` URL or a local path ending in `.md` suggests the runbook read
///      from that file, else the runbook whose id is the URL's file stem. `suggest` reads no
///      files: the runtime reads the files URLs name with [`runbooks_from_urls`] and passes
///      them in with the others.
/// 2. Loaded runbooks whose every matcher matches one alert's labels (anchored regexes), ranked
///    by number of matchers (more specific first), then by that alert's severity, then by id.
///    The reason names the matching alert's label values (`matches alertname=X, service=y`).
///
/// A runbook appears once, at its best place.
pub fn suggest(alerts: &[&Alert], runbooks: &[Runbook]) -> Vec<RunbookSuggestion> {
    let mut out: Vec<RunbookSuggestion> = Vec::new();
    let mut by_severity: Vec<&Alert> = alerts.to_vec();
    // Stable: equal severities keep the incident's order.
    by_severity.sort_by_key(|a| Reverse(a.severity()));

    for alert in &by_severity {
        let Some(url) = alert.runbook_url().map(str::trim).filter(|u| !u.is_empty()) else {
            continue;
        };
        let reason = format!("runbook_url of {}", alert.name());
        let suggestion = if is_http(url) {
            let summary = alert.summary().trim();
            RunbookSuggestion {
                id: url.to_string(),
                title: if summary.is_empty() {
                    format!("runbook for {}", alert.name())
                } else {
                    summary.to_string()
                },
                reason,
                url: Some(url.to_string()),
            }
        } else if let Some(rb) = by_url(url, runbooks) {
            let from_file = local_path(url).is_some_and(|p| Path::new(&rb.source) == p);
            RunbookSuggestion {
                id: rb.id.clone(),
                title: rb.title.clone(),
                reason: if from_file {
                    format!("{reason} (read from {})", rb.source)
                } else {
                    reason
                },
                url: None,
            }
        } else {
            tracing::debug!(
                url,
                alert = alert.name(),
                "runbook_url names no loaded runbook"
            );
            continue;
        };
        push_unique(&mut out, suggestion);
    }

    let mut matched: Vec<(usize, Severity, &Runbook, &Alert)> = runbooks
        .iter()
        .filter(|rb| !rb.matchers.is_empty())
        .filter_map(|rb| {
            let compiled = compile(rb)?;
            // The most severe matching alert; the first of equals (max_by_key keeps the last).
            let best = alerts
                .iter()
                .filter(|a| {
                    compiled
                        .iter()
                        .all(|(label, re)| a.labels.get(*label).is_some_and(|v| re.is_match(v)))
                })
                .rev()
                .max_by_key(|a| a.severity())?;
            Some((rb.matchers.len(), best.severity(), rb, *best))
        })
        .collect();
    matched.sort_by(|a, b| {
        (b.0, b.1)
            .cmp(&(a.0, a.1))
            .then_with(|| a.2.id.cmp(&b.2.id))
    });
    for (_, _, rb, alert) in matched {
        push_unique(
            &mut out,
            RunbookSuggestion {
                id: rb.id.clone(),
                title: rb.title.clone(),
                reason: format!("matches {}", describe(&rb.matchers, &alert.labels)),
                url: None,
            },
        );
    }
    out
}

/// The runbooks that the alerts' `runbook_url`s name on disk (`file:///abs/x.md` or a local path
/// ending in `.md`) and that are not among `loaded` (by file stem or id). Files that are
/// missing, too large or do not parse are skipped; the latter two with a warning naming the file.
/// Each file is returned once.
pub fn runbooks_from_urls(alerts: &[&Alert], loaded: &[Runbook]) -> Vec<Runbook> {
    let mut out: Vec<Runbook> = Vec::new();
    for alert in alerts {
        let Some(url) = alert.runbook_url().map(str::trim).filter(|u| !u.is_empty()) else {
            continue;
        };
        if is_http(url) || stem_of(url).is_some_and(|s| loaded.iter().any(|r| r.id == s)) {
            continue;
        }
        if let Some(rb) = load_local(url) {
            let known = loaded.iter().chain(out.iter()).any(|r| r.id == rb.id);
            if !known {
                out.push(rb);
            }
        }
    }
    out
}

/// The runbook a `runbook_url` names: the file it was read from, else the one whose id is the
/// URL's file stem.
fn by_url<'a>(url: &str, runbooks: &'a [Runbook]) -> Option<&'a Runbook> {
    let path = local_path(url);
    runbooks
        .iter()
        .find(|r| path.as_deref().is_some_and(|p| Path::new(&r.source) == p))
        .or_else(|| stem_of(url).and_then(|s| runbooks.iter().find(|r| r.id == s)))
}

/// Reads and parses the local runbook `url` names, if it names one that exists.
fn load_local(url: &str) -> Option<Runbook> {
    let path = local_path(url)?;
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let source = path.display().to_string();
    if meta.len() > MAX_RUNBOOK_BYTES {
        tracing::warn!(file = %source, bytes = meta.len(), "runbook_url file too large; skipped");
        return None;
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            tracing::warn!(file = %source, error = %e, "cannot read runbook_url file; skipped");
            return None;
        }
    };
    match super::parse(&text, &source) {
        Ok(rb) => Some(rb),
        Err(e) => {
            tracing::warn!(file = %source, error = %e, "runbook_url file does not parse; skipped");
            None
        }
    }
}

/// `file:///abs/x.md` -> `/abs/x.md`; `books/x.md#step-2` -> `books/x.md`; anything else
/// (another scheme, not `.md`) -> `None`.
fn local_path(url: &str) -> Option<PathBuf> {
    let path = url.split(['#', '?']).next().unwrap_or(url);
    let path = match path.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("file://") => {
            let rest = &path[7..];
            // Only `file:///path` and `file://localhost/path`: no remote hosts.
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            if !rest.starts_with('/') {
                return None;
            }
            rest
        }
        _ => path,
    };
    if path.contains("://") {
        return None;
    }
    let is_md = Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    is_md.then(|| PathBuf::from(path))
}

fn push_unique(out: &mut Vec<RunbookSuggestion>, s: RunbookSuggestion) {
    if !out.iter().any(|o| o.id == s.id) {
        out.push(s);
    }
}

fn is_http(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// `runbooks/payments-db-pool.md#step-2` -> `payments-db-pool`.
fn stem_of(url: &str) -> Option<&str> {
    let path = url.split(['#', '?']).next().unwrap_or(url);
    let path = path.strip_prefix("file://").unwrap_or(path);
    Path::new(path).file_stem().and_then(|s| s.to_str())
}

/// The runbook's matchers as anchored regexes; `None` (with a warning) if one does not compile.
fn compile(rb: &Runbook) -> Option<Vec<(&str, Regex)>> {
    rb.matchers
        .iter()
        .map(
            |(label, pattern)| match Regex::new(&format!("^(?:{pattern})$")) {
                Ok(re) => Some((label.as_str(), re)),
                Err(e) => {
                    tracing::warn!(runbook = %rb.id, label, pattern, error = %e, "bad matcher");
                    None
                }
            },
        )
        .collect()
}

/// `alertname=PaymentsDbPoolSaturated, service=payments-db`: the matched labels with the alert's
/// values (control characters escaped, so a hostile value cannot mess up the screen).
fn describe(matchers: &[(String, String)], labels: &Labels) -> String {
    matchers
        .iter()
        .map(|(label, _)| {
            let value = labels.get(label).map(String::as_str).unwrap_or("");
            let shown: String = value
                .chars()
                .flat_map(|c| {
                    let escaped: Vec<char> = if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        vec![c]
                    };
                    escaped
                })
                .collect();
            format!("{label}={shown}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AlertState, Labels};
    use chrono::Utc;

    fn alert(labels: &[(&str, &str)], runbook_url: Option<&str>) -> Alert {
        let labels: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut annotations = Labels::new();
        if let Some(u) = runbook_url {
            annotations.insert("runbook_url".into(), u.into());
        }
        Alert {
            fingerprint: crate::domain::alert::fingerprint(&labels),
            labels,
            annotations,
            starts_at: Utc::now(),
            ends_at: None,
            state: AlertState::Firing,
            generator_url: None,
        }
    }

    fn runbook(id: &str, matchers: &[(&str, &str)]) -> Runbook {
        Runbook {
            id: id.into(),
            title: format!("{id} title"),
            source: format!("test:{id}.md"),
            matchers: matchers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            risk: super::super::Risk::Read,
            steps: Vec::new(),
        }
    }

    #[test]
    fn url_then_matchers_deduplicated() {
        let a = alert(
            &[("alertname", "PaymentsDbPool"), ("service", "payments-db")],
            Some("runbooks/payments-db-pool.md"),
        );
        let books = [
            runbook("payments-db-pool", &[("alertname", "PaymentsDb.*")]),
            runbook("generic", &[("service", "payments-db")]),
            runbook(
                "specific",
                &[("alertname", "PaymentsDb.*"), ("service", "payments-db")],
            ),
            runbook("other", &[("service", "web")]),
            runbook("bad", &[("service", "(")]),
        ];
        let got = suggest(&[&a], &books);
        let ids: Vec<_> = got.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["payments-db-pool", "specific", "generic"]);
        assert_eq!(got[0].reason, "runbook_url of PaymentsDbPool");
        assert_eq!(
            got[1].reason,
            "matches alertname=PaymentsDbPool, service=payments-db"
        );
        assert_eq!(got[2].reason, "matches service=payments-db");
    }

    #[test]
    fn matchers_must_all_fit_one_alert_and_are_anchored() {
        let a = alert(&[("alertname", "X"), ("service", "web-edge")], None);
        let b = alert(&[("alertname", "Y"), ("service", "api")], None);
        let books = [
            runbook("web", &[("service", "web")]),
            runbook("xy", &[("alertname", "X"), ("service", "api")]),
        ];
        assert!(suggest(&[&a, &b], &books).is_empty());
    }
}
