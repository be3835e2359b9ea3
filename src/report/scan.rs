//! `pagerpilot scan` output: the ranked incidents as JSON or a table.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::domain::{Evidence, Incident};

#[derive(Debug, Serialize)]
pub struct ScanAlert {
    pub fingerprint: String,
    pub name: String,
    pub service: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct ScanCause {
    pub alert: Option<String>,
    pub service: String,
    pub confidence: f64,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Serialize)]
pub struct ScanRunbook {
    pub id: String,
    pub title: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One service's error-budget burn (rates rounded to 3 decimals).
#[derive(Debug, Serialize)]
pub struct ScanSloBurn {
    pub service: String,
    pub series: String,
    pub objective: f64,
    /// Burn rate over the last hour (mean error ratio / error budget).
    pub burn_1h: f64,
    /// Burn rate over the last 5 minutes.
    pub burn_5m: f64,
}

/// A key series of an incident and how many points of it the analysis saw.
#[derive(Debug, Serialize)]
pub struct ScanSeries {
    pub id: String,
    pub points: usize,
}

/// A log pattern of the incident's services that changed (see `timeline::pattern_events`).
#[derive(Debug, Serialize)]
pub struct ScanPattern {
    pub id: String,
    pub service: Option<String>,
    pub template: String,
    /// `new`, `surge` or `vanished`.
    pub change: String,
    /// When the change dates from (RFC 3339): first line, start of the surge, last line.
    pub at: String,
    /// Lines of the pattern in the loaded logs.
    pub count: u64,
    /// The one-line description the timeline and the TUI use.
    pub text: String,
}

/// One incident as `scan --format json` prints it (the documented contract).
#[derive(Debug, Serialize)]
pub struct ScanIncident {
    pub id: String,
    pub rank: usize,
    pub title: String,
    pub severity: String,
    pub score: f64,
    /// The named parts of `score` (they sum to it, before rounding).
    pub score_parts: BTreeMap<String, f64>,
    /// Error-budget burn of the incident's services that have an SLO, fastest first.
    pub slo_burns: Vec<ScanSloBurn>,
    pub started_at: String,
    pub services: Vec<String>,
    pub alerts: Vec<ScanAlert>,
    pub root_cause: Option<ScanCause>,
    pub runbooks: Vec<ScanRunbook>,
    /// The incident's key series, most telling first.
    pub key_series: Vec<ScanSeries>,
    /// Log patterns of its services that are new, surging or stopped, oldest change first.
    pub log_patterns: Vec<ScanPattern>,
}

impl From<&Incident> for ScanIncident {
    fn from(i: &Incident) -> Self {
        ScanIncident {
            id: i.id.clone(),
            rank: i.rank,
            title: i.title.clone(),
            severity: i.severity.as_str().to_string(),
            score: round3(i.score),
            score_parts: i
                .score_parts
                .iter()
                .map(|(k, v)| (k.clone(), round3(*v)))
                .collect(),
            slo_burns: i
                .slo_burns
                .iter()
                .map(|b| ScanSloBurn {
                    service: b.service.clone(),
                    series: b.series.clone(),
                    objective: b.objective,
                    burn_1h: round3(b.long),
                    burn_5m: round3(b.short),
                })
                .collect(),
            started_at: i.started_at.to_rfc3339(),
            services: i.services.clone(),
            alerts: i
                .members
                .iter()
                .map(|m| ScanAlert {
                    fingerprint: m.fingerprint.clone(),
                    name: m.alertname.clone(),
                    service: m.service.clone(),
                    reason: m.reason.clone(),
                })
                .collect(),
            root_cause: i.root_cause().map(|c| ScanCause {
                alert: c.alert.clone(),
                service: c.service.clone(),
                confidence: round3(c.confidence),
                evidence: rounded_evidence(&c.evidence),
            }),
            runbooks: i
                .runbooks
                .iter()
                .map(|r| ScanRunbook {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    reason: r.reason.clone(),
                    url: r.url.clone(),
                })
                .collect(),
            key_series: Vec::new(),
            log_patterns: Vec::new(),
        }
    }
}

/// `x` to three decimals, as the JSON outputs print scores and weights.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Cause evidence with its weights rounded for JSON output.
pub(crate) fn rounded_evidence(evidence: &[Evidence]) -> Vec<Evidence> {
    evidence
        .iter()
        .map(|e| Evidence {
            weight: round3(e.weight),
            ..e.clone()
        })
        .collect()
}

pub fn to_json(analysis: &Analysis) -> serde_json::Result<String> {
    let incidents: Vec<ScanIncident> = analysis
        .incidents
        .iter()
        .map(|i| {
            let mut out = ScanIncident::from(i);
            out.key_series = i
                .key_series
                .iter()
                .map(|id| ScanSeries {
                    id: id.clone(),
                    points: analysis.anomalies.get(id).map_or(0, |a| a.scores.len()),
                })
                .collect();
            let mut events = super::timeline::pattern_events(analysis, i);
            events.sort_by_key(|(at, _, _)| *at);
            out.log_patterns = events
                .into_iter()
                .map(|(at, p, text)| ScanPattern {
                    id: p.id.clone(),
                    service: p.service.clone(),
                    template: p.template.clone(),
                    change: p
                        .change
                        .as_ref()
                        .map_or(if p.is_new { "new" } else { "surge" }, |c| c.kind.badge())
                        .to_lowercase(),
                    at: at.to_rfc3339(),
                    count: p.count,
                    text,
                })
                .collect();
            out
        })
        .collect();
    serde_json::to_string_pretty(&incidents)
}

/// A plain table for a terminal or a chat message.
pub fn to_table(analysis: &Analysis) -> String {
    let now = analysis.generated_at;
    let mut out = format!(
        "{:<4} {:<9} {:<12} {:>6} {:>6} {:<7} {:<22} TITLE\n",
        "RANK", "SEVERITY", "ID", "SCORE", "ALERTS", "AGE", "LIKELY CAUSE"
    );
    for i in &analysis.incidents {
        let cause = i
            .root_cause()
            .map(|c| format!("{} {:.0}%", c.service, c.confidence * 100.0))
            .unwrap_or_else(|| "-".to_string());
        out.push_str(&format!(
            "{:<4} {:<9} {:<12} {:>6.2} {:>6} {:<7} {:<22} {}\n",
            i.rank,
            i.severity.as_str(),
            i.id,
            i.score,
            i.alert_count(),
            super::age((now - i.started_at).num_seconds()),
            truncate(&cause, 22),
            i.title
        ));
    }
    if analysis.incidents.is_empty() {
        out.push_str("no active incidents\n");
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
