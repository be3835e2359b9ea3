//! An incident's timeline, assembled from what was observed and what was done, at the
//! original timestamps; rendered as a Markdown postmortem draft or JSON.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use crate::analysis::{Analysis, Transition};
use crate::domain::remediation::{Decision, StoredEntry};
use crate::domain::{Alert, AlertState, EvidenceKind, Incident};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    AlertFiring,
    AlertResolved,
    Anomaly,
    LogPattern,
    Approved,
    Skipped,
    Rejected,
    Note,
}

impl EventKind {
    fn label(self) -> &'static str {
        match self {
            EventKind::AlertFiring => "alert firing",
            EventKind::AlertResolved => "alert resolved",
            EventKind::Anomaly => "anomaly",
            EventKind::LogPattern => "log pattern",
            EventKind::Approved => "approved",
            EventKind::Skipped => "skipped",
            EventKind::Rejected => "rejected",
            EventKind::Note => "note",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    pub generated_at: DateTime<Utc>,
    pub incident: Incident,
    pub events: Vec<TimelineEvent>,
    /// Remediation rows of this incident, oldest first.
    pub actions: Vec<StoredEntry>,
}

/// Collects every event of `incident`: member alerts firing (and resolving, from
/// `transitions`), anomaly onsets of its key series, log patterns of its services first seen in
/// the incident window, and the remediation rows recorded for it.
pub fn build(
    incident: &Incident,
    alerts: &[Alert],
    transitions: &[Transition],
    analysis: &Analysis,
    log: &[StoredEntry],
) -> Timeline {
    let mut events = Vec::new();
    for m in &incident.members {
        events.push(TimelineEvent {
            at: m.starts_at,
            kind: EventKind::AlertFiring,
            text: format!(
                "{} fired on {} ({})",
                m.alertname,
                m.service.as_deref().unwrap_or("-"),
                m.severity.as_str()
            ),
        });
        let resolved = alerts
            .iter()
            .find(|a| a.fingerprint == m.fingerprint)
            .and_then(|a| a.ends_at.filter(|_| a.state == AlertState::Resolved))
            .or_else(|| {
                transitions
                    .iter()
                    .filter(|t| t.fingerprint == m.fingerprint && t.state == AlertState::Resolved)
                    .map(|t| t.at)
                    .max()
            });
        if let Some(at) = resolved {
            events.push(TimelineEvent {
                at,
                kind: EventKind::AlertResolved,
                text: format!("{} resolved", m.alertname),
            });
        }
    }
    for id in &incident.key_series {
        if let Some(a) = analysis.anomalies.get(id) {
            if let Some(at) = a.onset.and_then(|t| Utc.timestamp_opt(t, 0).single()) {
                events.push(TimelineEvent {
                    at,
                    kind: EventKind::Anomaly,
                    text: format!("{id}: {}", a.explanation),
                });
            }
        }
    }
    let window_start = incident.started_at - chrono::Duration::minutes(30);
    for p in &analysis.patterns {
        let ours = p
            .service
            .as_deref()
            .is_some_and(|s| incident.services.iter().any(|x| x == s));
        let first = Utc.timestamp_nanos(p.first_seen_ns);
        if ours && (p.is_new || p.is_surge) && first >= window_start {
            let badge = if p.is_new { "new" } else { "surging" };
            events.push(TimelineEvent {
                at: first,
                kind: EventKind::LogPattern,
                text: format!(
                    "{badge} log pattern on {}: {} ({} line{})",
                    p.service.as_deref().unwrap_or("-"),
                    p.template,
                    p.count,
                    if p.count == 1 { "" } else { "s" }
                ),
            });
        }
    }
    let actions: Vec<StoredEntry> = log
        .iter()
        .filter(|r| r.entry.incident_id == incident.id)
        .cloned()
        .collect();
    for r in &actions {
        let e = &r.entry;
        let kind = match e.decision {
            Decision::Approved => EventKind::Approved,
            Decision::Skipped => EventKind::Skipped,
            Decision::Rejected => EventKind::Rejected,
            Decision::Note => EventKind::Note,
        };
        let mut text = format!(
            "{} step {} \"{}\" of runbook {} ({}, by {})",
            e.decision.as_str(),
            e.step_index + 1,
            e.step_title,
            e.runbook_id,
            e.mode.as_str().replace('_', " "),
            e.operator
        );
        if !e.command.is_empty() {
            text.push_str(&format!(": `{}`", e.command));
        }
        if let Some(note) = &e.note {
            text.push_str(&format!(" — {note}"));
        }
        events.push(TimelineEvent {
            at: e.ts,
            kind,
            text,
        });
    }
    events.sort_by(|a, b| a.at.cmp(&b.at).then(a.kind.cmp(&b.kind)));
    Timeline {
        generated_at: analysis.generated_at,
        incident: incident.clone(),
        events,
        actions,
    }
}

pub fn to_json(t: &Timeline) -> serde_json::Result<String> {
    serde_json::to_string_pretty(t)
}

/// A postmortem draft: summary, impact window, timeline, suspected cause, actions, follow-ups.
pub fn to_markdown(t: &Timeline) -> String {
    let i = &t.incident;
    let fmt = |d: DateTime<Utc>| d.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let mut md = format!("# Postmortem draft: {} — {}\n\n", i.id, md_escape(&i.title));
    md.push_str("## Summary\n\n");
    md.push_str(&format!(
        "- Severity: {}\n- Services: {}\n- Alerts grouped: {}\n- Rank when exported: {} (score {:.2})\n\n",
        i.severity.as_str(),
        i.services.join(", "),
        i.members.len(),
        i.rank,
        i.score
    ));
    md.push_str("## Impact window\n\n");
    let end = t
        .events
        .iter()
        .filter(|e| e.kind == EventKind::AlertResolved)
        .map(|e| e.at)
        .max()
        .filter(|_| {
            t.events
                .iter()
                .filter(|e| e.kind == EventKind::AlertResolved)
                .count()
                >= i.members.len()
        });
    md.push_str(&format!(
        "From {} to {}.\n\n",
        fmt(i.started_at),
        end.map(fmt)
            .unwrap_or_else(|| format!("ongoing at {}", fmt(t.generated_at)))
    ));
    md.push_str("## Timeline\n\n| Time (UTC) | Event | Detail |\n|---|---|---|\n");
    for e in &t.events {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            e.kind.label(),
            md_escape(&e.text)
        ));
    }
    md.push_str("\n## Suspected cause\n\n");
    match i.root_cause() {
        Some(c) => {
            md.push_str(&format!(
                "**{}**{} — confidence {:.0}%.\n\n",
                md_escape(&c.service),
                c.alert
                    .as_deref()
                    .map(|a| format!(" ({})", md_escape(a)))
                    .unwrap_or_default(),
                c.confidence * 100.0
            ));
            for (kind, title) in [
                (EvidenceKind::Fact, "Facts"),
                (EvidenceKind::Guess, "Inferences"),
            ] {
                let lines: Vec<_> = c.evidence.iter().filter(|e| e.kind == kind).collect();
                if !lines.is_empty() {
                    md.push_str(&format!("{title}:\n\n"));
                    for e in lines {
                        md.push_str(&format!("- {}\n", md_escape(&e.text)));
                    }
                    md.push('\n');
                }
            }
            for other in i.candidates.iter().skip(1) {
                md.push_str(&format!(
                    "- Also considered: {} ({:.0}%)\n",
                    md_escape(&other.service),
                    other.confidence * 100.0
                ));
            }
        }
        None => md.push_str("No cause candidate.\n"),
    }
    md.push_str("\n## Actions taken\n\n");
    if t.actions.is_empty() {
        md.push_str("None recorded.\n");
    }
    for r in &t.actions {
        let e = &r.entry;
        md.push_str(&format!(
            "- {} — {} step {} \"{}\" of `{}` ({}, by {} on {}), log #{}{}\n",
            fmt(e.ts),
            e.decision.as_str(),
            e.step_index + 1,
            md_escape(&e.step_title),
            e.runbook_id,
            e.mode.as_str().replace('_', " "),
            md_escape(&e.operator),
            md_escape(&e.host),
            r.seq,
            if e.command.is_empty() {
                String::new()
            } else {
                format!(": `{}`", e.command.replace('`', "'"))
            }
        ));
    }
    md.push_str("\n## Follow-ups\n\n- [ ] Confirm the suspected cause and record the real one.\n");
    md.push_str("- [ ] Decide what would have caught this earlier (alert, dashboard, test).\n");
    for r in &i.runbooks {
        md.push_str(&format!(
            "- [ ] Review runbook `{}` ({}) against what was done.\n",
            r.id,
            md_escape(&r.title)
        ));
    }
    md.push_str(&format!(
        "\n_Generated by pagerpilot at {}._\n",
        fmt(t.generated_at)
    ));
    md
}

/// Escapes characters that would change Markdown structure in running text.
fn md_escape(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
}
