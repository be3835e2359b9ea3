//! Alerts in the shape Alertmanager's `/api/v2/alerts` returns, and the fingerprint it uses.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Label or annotation set. Ordered so output and fingerprints are stable.
pub type Labels = BTreeMap<String, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// Reads the conventional `severity` label; unknown or missing values count as warning.
    pub fn from_label(value: Option<&str>) -> Self {
        match value.map(|v| v.to_ascii_lowercase()) {
            Some(v) if v == "critical" || v == "page" || v == "error" || v == "high" => {
                Severity::Critical
            }
            Some(v) if v == "info" || v == "none" || v == "low" => Severity::Info,
            _ => Severity::Warning,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Numeric weight used by ranking (critical counts most).
    pub fn weight(self) -> f64 {
        match self {
            Severity::Info => 0.2,
            Severity::Warning => 0.6,
            Severity::Critical => 1.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// `active` in Alertmanager's words.
    Firing,
    /// Suppressed without naming a silence or an inhibiting alert (old stored data, other
    /// Alertmanager-compatible servers).
    Suppressed,
    /// Suppressed by a silence (`status.silencedBy` is not empty).
    Silenced,
    /// Suppressed by another alert through an inhibit rule (`status.inhibitedBy`), no silence.
    Inhibited,
    Resolved,
}

impl AlertState {
    /// Firing, or suppressed in any way (silenced, inhibited): the alert's problem is still on.
    pub fn is_active(self) -> bool {
        self != AlertState::Resolved
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub fingerprint: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: DateTime<Utc>,
    /// When the alert resolved (only set for resolved alerts).
    pub ends_at: Option<DateTime<Utc>>,
    pub state: AlertState,
    pub generator_url: Option<String>,
}

impl Alert {
    pub fn name(&self) -> &str {
        self.labels
            .get("alertname")
            .map(String::as_str)
            .unwrap_or("(unnamed)")
    }

    pub fn severity(&self) -> Severity {
        Severity::from_label(self.labels.get("severity").map(String::as_str))
    }

    /// The service the alert is about, read from the usual label names in order.
    pub fn service(&self) -> Option<&str> {
        const KEYS: [&str; 5] = ["service", "app", "job", "container", "instance"];
        KEYS.iter()
            .find_map(|k| self.labels.get(*k))
            .map(String::as_str)
    }

    pub fn summary(&self) -> &str {
        self.annotations
            .get("summary")
            .or_else(|| self.annotations.get("description"))
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn runbook_url(&self) -> Option<&str> {
        self.annotations.get("runbook_url").map(String::as_str)
    }

    pub fn is_active(&self) -> bool {
        self.state != AlertState::Resolved
    }
}

/// Alertmanager's fingerprint: FNV-1a 64 over the sorted label names and values, each followed
/// by a 0xff separator byte, printed as 16 hex digits.
pub fn fingerprint(labels: &Labels) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (name, value) in labels {
        feed(name.as_bytes());
        feed(&[0xff]);
        feed(value.as_bytes());
        feed(&[0xff]);
    }
    format!("{hash:016x}")
}

/// One alert as Alertmanager's v2 API encodes it (`GET /api/v2/alerts`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAlert {
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    pub starts_at: DateTime<Utc>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub fingerprint: Option<String>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    #[serde(default)]
    pub status: Option<WireStatus>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireStatus {
    pub state: String,
    #[serde(default)]
    pub silenced_by: Vec<String>,
    #[serde(default)]
    pub inhibited_by: Vec<String>,
}

impl WireAlert {
    /// Converts to the domain type. `now` decides whether an `endsAt` in the past means resolved.
    pub fn into_alert(self, now: DateTime<Utc>) -> Alert {
        let fingerprint = self
            .fingerprint
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| fingerprint(&self.labels));
        let status = self.status.as_ref().map(|s| s.state.as_str());
        let ended = self.ends_at.filter(|e| *e <= now && e.timestamp() > 0);
        let silenced = self
            .status
            .as_ref()
            .is_some_and(|s| !s.silenced_by.is_empty());
        let inhibited = self
            .status
            .as_ref()
            .is_some_and(|s| !s.inhibited_by.is_empty());
        let state = match (status, ended) {
            // A silence is the engineer's own decision: it names the state when both apply.
            (Some("suppressed"), _) if silenced => AlertState::Silenced,
            (Some("suppressed"), _) if inhibited => AlertState::Inhibited,
            (Some("suppressed"), _) => AlertState::Suppressed,
            (Some("unprocessed") | Some("active"), None) | (None, None) => AlertState::Firing,
            _ => AlertState::Resolved,
        };
        Alert {
            fingerprint,
            labels: self.labels,
            annotations: self.annotations,
            starts_at: self.starts_at,
            ends_at: if state == AlertState::Resolved {
                ended.or(self.ends_at)
            } else {
                None
            },
            state,
            generator_url: self.generator_url,
        }
    }
}

/// A state an alert was observed in, as the alert history stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryState {
    Firing,
    Resolved,
    /// Silenced or inhibited, not told apart (rows stored before the two were, or a server
    /// that names neither a silence nor an inhibiting alert).
    Suppressed,
    Silenced,
    Inhibited,
    /// An engineer acknowledged it (holds until it resolves).
    Acked,
}

impl HistoryState {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryState::Firing => "firing",
            HistoryState::Resolved => "resolved",
            HistoryState::Suppressed => "suppressed",
            HistoryState::Silenced => "silenced",
            HistoryState::Inhibited => "inhibited",
            HistoryState::Acked => "acked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "firing" => HistoryState::Firing,
            "resolved" => HistoryState::Resolved,
            "suppressed" => HistoryState::Suppressed,
            "silenced" => HistoryState::Silenced,
            "inhibited" => HistoryState::Inhibited,
            "acked" => HistoryState::Acked,
            _ => return None,
        })
    }
}

impl From<AlertState> for HistoryState {
    fn from(s: AlertState) -> Self {
        match s {
            AlertState::Firing => HistoryState::Firing,
            AlertState::Resolved => HistoryState::Resolved,
            AlertState::Suppressed => HistoryState::Suppressed,
            AlertState::Silenced => HistoryState::Silenced,
            AlertState::Inhibited => HistoryState::Inhibited,
        }
    }
}

/// One stored change of an alert's state (or an ack).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub at: DateTime<Utc>,
    pub fingerprint: String,
    pub alertname: String,
    pub service: Option<String>,
    pub severity: Severity,
    pub state: HistoryState,
    pub starts_at: DateTime<Utc>,
    pub labels: Labels,
    /// Who acked, or what resolved it (e.g. `runbook payments-db-pool`).
    pub note: Option<String>,
}

impl AlertEvent {
    /// The event for `alert` entering `state` at `at`.
    pub fn of(alert: &Alert, state: HistoryState, at: DateTime<Utc>) -> Self {
        AlertEvent {
            at,
            fingerprint: alert.fingerprint.clone(),
            alertname: alert.name().to_string(),
            service: alert.service().map(str::to_string),
            severity: alert.severity(),
            state,
            starts_at: alert.starts_at,
            labels: alert.labels.clone(),
            note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_label_sensitive() {
        let mut a = Labels::new();
        a.insert("alertname".into(), "HighLatency".into());
        a.insert("service".into(), "checkout-api".into());
        let f1 = fingerprint(&a);
        assert_eq!(f1.len(), 16);
        assert_eq!(f1, fingerprint(&a.clone()));
        a.insert("service".into(), "web".into());
        assert_ne!(f1, fingerprint(&a));
    }

    #[test]
    fn wire_alert_states() {
        let now = Utc::now();
        let json = r#"{"labels":{"alertname":"X","severity":"critical"},"annotations":{},
            "startsAt":"2024-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z",
            "status":{"state":"suppressed","silencedBy":["abc"],"inhibitedBy":[]}}"#;
        let wire: WireAlert = serde_json::from_str(json).expect("valid test json");
        let alert = wire.into_alert(now);
        assert_eq!(alert.state, AlertState::Silenced);
        assert_eq!(alert.severity(), Severity::Critical);
        assert_eq!(alert.fingerprint.len(), 16);
    }

    #[test]
    fn silenced_and_inhibited_are_told_apart_and_stored_apart() {
        let now = Utc::now();
        let state = |status: &str| {
            let json = format!(
                r#"{{"labels":{{"alertname":"X"}},"startsAt":"2024-01-01T00:00:00Z",
                "endsAt":"2099-01-01T00:00:00Z","status":{status}}}"#
            );
            let wire: WireAlert = serde_json::from_str(&json).expect("valid test json");
            wire.into_alert(now).state
        };
        let cases = [
            (
                r#"{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":[]}"#,
                AlertState::Silenced,
                "silenced",
            ),
            (
                r#"{"state":"suppressed","silencedBy":[],"inhibitedBy":["fp1"]}"#,
                AlertState::Inhibited,
                "inhibited",
            ),
            (
                r#"{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":["fp1"]}"#,
                AlertState::Silenced,
                "silenced",
            ),
            (
                r#"{"state":"suppressed"}"#,
                AlertState::Suppressed,
                "suppressed",
            ),
            (
                r#"{"state":"active","silencedBy":[],"inhibitedBy":[]}"#,
                AlertState::Firing,
                "firing",
            ),
        ];
        for (status, want, stored) in cases {
            let got = state(status);
            assert_eq!(got, want, "{status}");
            assert!(got.is_active(), "{status}");
            assert_eq!(HistoryState::from(got).as_str(), stored, "{status}");
            // What is stored reads back as the same state (old `suppressed` rows included).
            assert_eq!(HistoryState::parse(stored), Some(HistoryState::from(got)));
        }
    }
}
