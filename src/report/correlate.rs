//! `pagerpilot correlate`: reads alerts in Alertmanager's `/api/v2/alerts` shape (and an
//! optional topology file), groups them into incidents, ranks them and names likely causes.
//!
//! Input handling:
//! * the file must hold a JSON array of alerts (a `{"data": [...]}` wrapper, as the v1 API and
//!   some proxies return, is accepted too); any other shape is an error naming the file;
//! * each alert needs `startsAt` (RFC 3339) and `labels` (an object of strings); a bad alert is an
//!   error naming the file, its index and its `alertname` when it has one;
//! * `fingerprint` is used when present, else computed from the labels as Alertmanager does;
//! * "now" is `--at` when given, else the latest `startsAt`/`updatedAt` in the file, so the output
//!   of one file does not change with the wall clock;
//! * the topology file is TOML with `[[topology]]` tables of `from` and `to` (`from` depends on
//!   `to`), the same shape as a context's `topology` in the config file;
//! * with `--db FILE`, the engineer's stored grouping corrections (merge/split rules, as `scan`
//!   applies them) regroup the alerts, and "seen before?" comes from the stored alert history.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::scan::{round3, rounded_evidence};
use crate::analysis::corrections::GroupingRule;
use crate::analysis::correlate::{build_incidents_with_rules, IncidentInput};
use crate::analysis::similarity::{self, SeenBefore};
use crate::domain::alert::WireAlert;
use crate::domain::{Alert, Edge, Evidence, Incident};
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum CorrelateInputError {
    #[error("cannot read {file}: {detail}")]
    Read { file: String, detail: String },
    #[error("{file}: not valid JSON: {detail}")]
    Json { file: String, detail: String },
    #[error(
        "{file}: expected a JSON array of alerts (Alertmanager /api/v2/alerts), found {found}"
    )]
    Shape { file: String, found: String },
    #[error("{file}: alert #{index}{name}: {detail}")]
    Alert {
        file: String,
        index: usize,
        name: String,
        detail: String,
    },
    #[error("{file}: {detail}")]
    Topology { file: String, detail: String },
}

/// Reads and validates an alerts file.
pub fn read_alerts(path: &Path) -> Result<Vec<WireAlert>, CorrelateInputError> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map_err(|e| {
            CorrelateInputError::Read {
                file: "standard input".into(),
                detail: e.to_string(),
            }
        })?;
        return parse_alerts(&text, "standard input");
    }
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CorrelateInputError::Read {
        file: file.clone(),
        detail: e.to_string(),
    })?;
    parse_alerts(&text, &file)
}

/// Parses the text of an alerts file; `file` names it in errors.
pub fn parse_alerts(text: &str, file: &str) -> Result<Vec<WireAlert>, CorrelateInputError> {
    let value: Value = serde_json::from_str(text).map_err(|e| CorrelateInputError::Json {
        file: file.to_string(),
        detail: e.to_string(),
    })?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) if map.get("data").is_some_and(Value::is_array) => {
            match map.remove("data") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        other => {
            return Err(CorrelateInputError::Shape {
                file: file.to_string(),
                found: kind(&other).to_string(),
            })
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let name = item
                .get("labels")
                .and_then(|l| l.get("alertname"))
                .and_then(Value::as_str)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            if !item.is_object() {
                return Err(CorrelateInputError::Alert {
                    file: file.to_string(),
                    index,
                    name,
                    detail: format!("expected an object, found {}", kind(&item)),
                });
            }
            serde_json::from_value::<WireAlert>(item).map_err(|e| CorrelateInputError::Alert {
                file: file.to_string(),
                index,
                name,
                detail: e.to_string(),
            })
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object without a \"data\" array",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopologyDoc {
    #[serde(default)]
    topology: Vec<TopologyEdge>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopologyEdge {
    from: String,
    to: String,
}

/// Reads `[[topology]]` edges from a TOML file.
pub fn read_topology(path: &Path) -> Result<Vec<Edge>, CorrelateInputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CorrelateInputError::Read {
        file: file.clone(),
        detail: e.to_string(),
    })?;
    parse_topology(&text, &file)
}

/// Parses a topology file's text; `file` names it in errors.
pub fn parse_topology(text: &str, file: &str) -> Result<Vec<Edge>, CorrelateInputError> {
    let doc: TopologyDoc = toml::from_str(text).map_err(|e| CorrelateInputError::Topology {
        file: file.to_string(),
        detail: e.to_string().trim_end().to_string(),
    })?;
    let mut edges: Vec<Edge> = Vec::new();
    for (i, e) in doc.topology.into_iter().enumerate() {
        let (from, to) = (e.from.trim(), e.to.trim());
        if from.is_empty() || to.is_empty() {
            return Err(CorrelateInputError::Topology {
                file: file.to_string(),
                detail: format!("topology[{i}]: from and to must both name a service"),
            });
        }
        if from == to {
            return Err(CorrelateInputError::Topology {
                file: file.to_string(),
                detail: format!("topology[{i}]: {from:?} cannot depend on itself"),
            });
        }
        let edge = Edge {
            from: from.to_string(),
            to: to.to_string(),
        };
        if !edges.contains(&edge) {
            edges.push(edge);
        }
    }
    Ok(edges)
}

/// The instant the file describes: the latest `startsAt` or `updatedAt` in it.
pub fn file_now(alerts: &[WireAlert]) -> Option<DateTime<Utc>> {
    alerts
        .iter()
        .flat_map(|a| std::iter::once(a.starts_at).chain(a.updated_at))
        .max()
}

/// What `correlate` found.
#[derive(Clone, Debug)]
pub struct Correlation {
    pub now: DateTime<Utc>,
    /// Alerts in the file.
    pub alerts: usize,
    /// Active (firing or suppressed) alerts after dedup by fingerprint.
    pub active: usize,
    pub incidents: Vec<Incident>,
    /// Per incident (same order), how often its shape was seen in the stored alert history;
    /// empty without a history database.
    pub seen_before: Vec<SeenBefore>,
}

impl Correlation {
    /// Active alerts per incident (0 when there is none).
    pub fn reduction(&self) -> f64 {
        if self.incidents.is_empty() {
            0.0
        } else {
            self.active as f64 / self.incidents.len() as f64
        }
    }
}

/// Groups, ranks and explains. `now` defaults to [`file_now`]. The engineer's stored grouping
/// corrections `rules` (oldest first) are applied as `scan` does.
pub fn correlate(
    wire: Vec<WireAlert>,
    topology: &[Edge],
    now: Option<DateTime<Utc>>,
    rules: &[GroupingRule],
) -> Correlation {
    let now = now
        .or_else(|| file_now(&wire))
        .unwrap_or(DateTime::UNIX_EPOCH);
    let total = wire.len();
    let alerts: Vec<Alert> = wire.into_iter().map(|w| w.into_alert(now)).collect();
    let mut active: Vec<&str> = alerts
        .iter()
        .filter(|a| a.is_active())
        .map(|a| a.fingerprint.as_str())
        .collect();
    active.sort_unstable();
    active.dedup();
    let anomalies = BTreeMap::new();
    let incidents = build_incidents_with_rules(
        &IncidentInput {
            now,
            alerts: &alerts,
            transitions: &[],
            series: &[],
            anomalies: &anomalies,
            patterns: &[],
            topology,
        },
        rules,
    );
    Correlation {
        now,
        alerts: total,
        active: active.len(),
        incidents,
        seen_before: Vec::new(),
    }
}

/// Runs the whole command on files.
pub fn run(
    input: &Path,
    topology: Option<&Path>,
    now: Option<DateTime<Utc>>,
    rules: &[GroupingRule],
) -> Result<Correlation, CorrelateInputError> {
    let wire = read_alerts(input)?;
    let edges = match topology {
        Some(p) => read_topology(p)?,
        None => Vec::new(),
    };
    Ok(correlate(wire, &edges, now, rules))
}

/// Adds "seen before?" from the alert history in `db` (when the file exists; it is never
/// created here).
pub fn add_history(c: &mut Correlation, db: &Path) -> anyhow::Result<()> {
    if !db.exists() {
        return Ok(());
    }
    let store = Store::open(db)?;
    let history = store
        .handle()
        .alert_history(c.now - chrono::Duration::days(similarity::LOOKBACK_DAYS))?;
    store.close()?;
    c.seen_before = c
        .incidents
        .iter()
        .map(|i| similarity::seen_before(i, &history, c.now))
        .collect();
    Ok(())
}

#[derive(Debug, Serialize)]
struct JsonOut<'a> {
    now: String,
    alerts: usize,
    active_alerts: usize,
    incident_count: usize,
    /// Active alerts per incident.
    reduction: f64,
    incidents: Vec<JsonIncident<'a>>,
}

#[derive(Debug, Serialize)]
struct JsonIncident<'a> {
    id: &'a str,
    rank: usize,
    score: f64,
    /// Named parts of `score` (they sum to it).
    score_parts: BTreeMap<&'a str, f64>,
    severity: &'a str,
    title: &'a str,
    started_at: String,
    services: &'a [String],
    members: Vec<JsonMember<'a>>,
    candidates: Vec<JsonCandidate<'a>>,
    /// From the alert history, when a database is there.
    seen_before: Option<&'a SeenBefore>,
}

#[derive(Debug, Serialize)]
struct JsonMember<'a> {
    fingerprint: &'a str,
    alertname: &'a str,
    service: Option<&'a str>,
    severity: &'a str,
    starts_at: String,
    reason: &'a str,
    flapping: bool,
}

#[derive(Debug, Serialize)]
struct JsonCandidate<'a> {
    service: &'a str,
    alert: Option<&'a str>,
    confidence: f64,
    evidence: Vec<Evidence>,
}

/// The documented JSON contract.
pub fn to_json(c: &Correlation) -> serde_json::Result<String> {
    let out = JsonOut {
        now: c.now.to_rfc3339(),
        alerts: c.alerts,
        active_alerts: c.active,
        incident_count: c.incidents.len(),
        reduction: round3(c.reduction()),
        incidents: c
            .incidents
            .iter()
            .enumerate()
            .map(|(k, i)| JsonIncident {
                seen_before: c.seen_before.get(k),
                id: &i.id,
                rank: i.rank,
                score: round3(i.score),
                score_parts: i
                    .score_parts
                    .iter()
                    .map(|(n, v)| (n.as_str(), round3(*v)))
                    .collect(),
                severity: i.severity.as_str(),
                title: &i.title,
                started_at: i.started_at.to_rfc3339(),
                services: &i.services,
                members: i
                    .members
                    .iter()
                    .map(|m| JsonMember {
                        fingerprint: &m.fingerprint,
                        alertname: &m.alertname,
                        service: m.service.as_deref(),
                        severity: m.severity.as_str(),
                        starts_at: m.starts_at.to_rfc3339(),
                        reason: &m.reason,
                        flapping: m.flapping,
                    })
                    .collect(),
                candidates: i
                    .candidates
                    .iter()
                    .map(|c| JsonCandidate {
                        service: &c.service,
                        alert: c.alert.as_deref(),
                        confidence: round3(c.confidence),
                        evidence: rounded_evidence(&c.evidence),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&out)
}

/// A plain-text report: one block per incident, members with their reasons, candidates with
/// their evidence (facts and guesses marked apart).
pub fn to_table(c: &Correlation) -> String {
    let mut out = format!(
        "{} alerts, {} active, {} incidents ({:.1} alerts per incident) at {}\n",
        c.alerts,
        c.active,
        c.incidents.len(),
        c.reduction(),
        c.now.format("%Y-%m-%d %H:%M:%S UTC")
    );
    for i in &c.incidents {
        out.push_str(&format!(
            "\n#{} {} [{}] score {:.2}: {}\n",
            i.rank,
            i.id,
            i.severity.as_str(),
            i.score,
            i.title
        ));
        if let Some(seen) = c
            .seen_before
            .iter()
            .zip(&c.incidents)
            .find(|(_, x)| x.id == i.id)
        {
            out.push_str(&format!(
                "  seen before: {:?}, {}\n",
                seen.0.tag, seen.0.text
            ));
        }
        let parts: Vec<String> = i
            .score_parts
            .iter()
            .map(|(n, v)| format!("{n} {v:.2}"))
            .collect();
        out.push_str(&format!("  score: {}\n", parts.join(", ")));
        out.push_str("  members:\n");
        for m in &i.members {
            out.push_str(&format!(
                "    {} {:<28} {:<18} {}{}\n",
                m.fingerprint,
                m.alertname,
                m.service.as_deref().unwrap_or("-"),
                if m.flapping { "[FLAP] " } else { "" },
                m.reason
            ));
        }
        if !i.candidates.is_empty() {
            out.push_str("  likely cause:\n");
        }
        for (k, cand) in i.candidates.iter().enumerate() {
            out.push_str(&format!(
                "    {}. {} {:.0}%{}\n",
                k + 1,
                cand.service,
                cand.confidence * 100.0,
                cand.alert
                    .as_deref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default()
            ));
            for e in &cand.evidence {
                let tag = match e.kind {
                    crate::domain::EvidenceKind::Fact => "fact ",
                    crate::domain::EvidenceKind::Guess => "guess",
                };
                out.push_str(&format!("       {tag} {}\n", e.text));
            }
        }
    }
    if c.incidents.is_empty() {
        out.push_str("no active incidents\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_checked_and_named() {
        let e = parse_alerts("{\"a\":1}", "x.json").expect_err("object");
        assert!(e.to_string().contains("x.json"), "{e}");
        assert!(e.to_string().contains("expected a JSON array"), "{e}");
        let e =
            parse_alerts("[{\"labels\":{\"alertname\":\"A\"}}]", "x.json").expect_err("no start");
        assert!(e.to_string().contains("alert #0 (A)"), "{e}");
        assert!(e.to_string().contains("startsAt"), "{e}");
        let ok = parse_alerts(
            "{\"data\":[{\"labels\":{},\"startsAt\":\"2026-01-01T00:00:00Z\"}]}",
            "x.json",
        )
        .expect("wrapped");
        assert_eq!(ok.len(), 1);
        let e =
            parse_topology("[[topology]]\nfrom = \"a\"\nto = \"a\"\n", "t.toml").expect_err("self");
        assert!(e.to_string().contains("cannot depend on itself"), "{e}");
        let e = parse_topology("[[topology]]\nfrom = \"a\"\n", "t.toml").expect_err("missing to");
        assert!(e.to_string().starts_with("t.toml:"), "{e}");
    }
}
