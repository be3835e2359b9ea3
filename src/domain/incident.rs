//! Incidents: groups of alerts with a rank, a reason per member and ranked cause candidates.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Severity;

/// One alert inside an incident, with the reason it was put there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub fingerprint: String,
    pub alertname: String,
    pub service: Option<String>,
    pub severity: Severity,
    pub starts_at: DateTime<Utc>,
    /// One line: why this alert belongs to the incident.
    pub reason: String,
    /// Flapping alerts are shown with a badge.
    pub flapping: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceKind {
    /// Observed directly (an onset time, a measured change).
    Fact,
    /// Inferred (a dependency direction, a likely mechanism).
    Guess,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub text: String,
    /// How much this piece contributed to the candidate's score, 0..1.
    pub weight: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CauseCandidate {
    pub service: String,
    /// The alert on that service that fired first, if any.
    pub alert: Option<String>,
    /// 0..1; candidates of one incident sum to at most 1.
    pub confidence: f64,
    pub evidence: Vec<Evidence>,
}

/// How fast one service burns its error budget (from an error-ratio watch with an `slo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SloBurn {
    pub service: String,
    /// The error-ratio series it was computed from.
    pub series: String,
    /// The SLO objective, e.g. 0.999.
    pub objective: f64,
    /// Burn rate over the last hour: mean error ratio / (1 - objective).
    pub long: f64,
    /// Burn rate over the last 5 minutes.
    pub short: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunbookSuggestion {
    pub id: String,
    pub title: String,
    /// Why it was suggested ("runbook_url of PaymentsDbPoolSaturated", "matches service=...").
    pub reason: String,
    /// An http(s) runbook_url that is shown as a link only.
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id derived from the first member's fingerprint, e.g. `INC-3f9a1c`.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// Ranking score, 0..1; higher is more urgent.
    pub score: f64,
    /// 1-based rank among the current incidents.
    pub rank: usize,
    pub started_at: DateTime<Utc>,
    pub members: Vec<Member>,
    pub services: Vec<String>,
    /// Ranked, best first.
    pub candidates: Vec<CauseCandidate>,
    /// Named components of `score` with their contribution, for the "why ranked" panel.
    pub score_parts: Vec<(String, f64)>,
    /// Error-budget burn of the incident's services that have an SLO, fastest first.
    #[serde(default)]
    pub slo_burns: Vec<SloBurn>,
    /// Ids of series that belong to the incident's services, most anomalous first.
    pub key_series: Vec<String>,
    pub runbooks: Vec<RunbookSuggestion>,
}

impl Incident {
    pub fn root_cause(&self) -> Option<&CauseCandidate> {
        self.candidates.first()
    }

    pub fn alert_count(&self) -> usize {
        self.members.len()
    }
}

/// Builds the stable incident id from the fingerprint of the alert that opened it.
pub fn incident_id(opener_fingerprint: &str) -> String {
    let short = opener_fingerprint
        .char_indices()
        .nth(6)
        .map_or(opener_fingerprint, |(end, _)| &opener_fingerprint[..end]);
    let mut id = String::with_capacity(4 + short.len());
    id.push_str("INC-");
    id.push_str(short);
    id
}

/// A dependency edge between services: `from` calls (depends on) `to`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
}
