//! An incident's timeline, assembled from what was observed and what was done, at the
//! original timestamps; rendered as a Markdown postmortem draft or JSON.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use crate::analysis::{Analysis, PatternSummary, Transition};
use crate::domain::remediation::{Decision, EntryKind, Mode, RemediationEntry, StoredEntry};
use crate::domain::{Alert, AlertState, EvidenceKind, Incident};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    AlertFiring,
    AlertResolved,
    Anomaly,
    LogPattern,
    Approved,
    /// A step that ran for real, with its outcome.
    Ran,
    Rollback,
    Skipped,
    Rejected,
    Note,
    /// Write mode unlocked or locked.
    Mode,
    Silence,
}

impl EventKind {
    fn label(self) -> &'static str {
        match self {
            EventKind::AlertFiring => "alert firing",
            EventKind::AlertResolved => "alert resolved",
            EventKind::Anomaly => "anomaly",
            EventKind::LogPattern => "log pattern",
            EventKind::Approved => "approved",
            EventKind::Ran => "ran",
            EventKind::Rollback => "rollback",
            EventKind::Mode => "write mode",
            EventKind::Silence => "silence",
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
/// `transitions`), anomaly onsets of its key series, log patterns of its services that are new, surging or
/// stopped within the incident window, and the remediation rows recorded for it.
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
    for (at, _, text) in pattern_events(analysis, incident) {
        events.push(TimelineEvent {
            at,
            kind: EventKind::LogPattern,
            text,
        });
    }
    let actions: Vec<StoredEntry> = log
        .iter()
        .filter(|r| r.entry.incident_id == incident.id)
        .cloned()
        .collect();
    for r in &actions {
        events.push(TimelineEvent {
            at: r.entry.ts,
            kind: action_kind(&r.entry),
            text: action_text(&r.entry),
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

/// The write-ahead row of a real run: approved, logged before it ran (its outcome is a later row).
fn is_approval_to_run(e: &RemediationEntry) -> bool {
    matches!(e.kind, EntryKind::Step | EntryKind::Rollback)
        && e.decision == Decision::Approved
        && e.mode == Mode::Real
        && e.duration_ms.is_none()
}

fn action_kind(e: &RemediationEntry) -> EventKind {
    if is_approval_to_run(e) {
        return EventKind::Approved;
    }
    match (e.kind, e.decision, e.mode) {
        (EntryKind::Mode, ..) => EventKind::Mode,
        (EntryKind::Silence, ..) => EventKind::Silence,
        (EntryKind::Rollback, ..) => EventKind::Rollback,
        (_, Decision::Approved, Mode::Real) => EventKind::Ran,
        (_, Decision::Approved, Mode::DryRun) => EventKind::Approved,
        (_, Decision::Skipped, _) => EventKind::Skipped,
        (_, Decision::Rejected, _) => EventKind::Rejected,
        (_, Decision::Note, _) => EventKind::Note,
    }
}

/// "exit 0 in 1.2 s" for a real run, else nothing.
fn outcome(e: &RemediationEntry) -> Option<String> {
    if e.mode != Mode::Real || !matches!(e.kind, EntryKind::Step | EntryKind::Rollback) {
        return None;
    }
    if e.decision != Decision::Approved || is_approval_to_run(e) {
        return None;
    }
    let secs = e
        .duration_ms
        .map(|ms| format!(" in {:.1} s", ms as f64 / 1000.0))
        .unwrap_or_default();
    Some(match e.exit_code {
        Some(code) => format!("exit {code}{secs}"),
        None => format!("killed{secs}"),
    })
}

/// One line for a remediation row: what, which step, how it went, by whom.
fn action_text(e: &RemediationEntry) -> String {
    if matches!(e.kind, EntryKind::Mode | EntryKind::Silence) {
        let mut text = format!("{} (by {})", e.command, e.who());
        if let Some(note) = &e.note {
            text.push_str(&format!(" — {note}"));
        }
        return text;
    }
    let verb = match (e.kind, e.decision, e.mode) {
        _ if is_approval_to_run(e) && e.kind == EntryKind::Rollback => {
            "approved to run the rollback of"
        }
        _ if is_approval_to_run(e) => "approved to run",
        (EntryKind::Rollback, _, Mode::Real) => "rolled back",
        (EntryKind::Rollback, ..) => "rollback approved (dry run) for",
        (_, Decision::Approved, Mode::Real) => "ran",
        (_, Decision::Approved, _) => "approved (dry run)",
        (_, Decision::Note, _) => "note on",
        (_, d, _) => d.as_str(),
    };
    let mut text = format!(
        "{verb} step {} \"{}\" of runbook {} (by {})",
        e.step_index + 1,
        e.step_title,
        e.runbook_id,
        e.who()
    );
    if !e.command.is_empty() {
        text.push_str(&format!(": `{}`", e.command));
    }
    let outcome = outcome(e);
    if let Some(o) = &outcome {
        text.push_str(&format!(" → {o}"));
    }
    for c in &e.checks {
        text.push_str(&format!("; {} check `{}`: {}", c.when, c.query, c.result));
    }
    // A real run's note is its outcome summary, and an approval's says "approved to run":
    // both already shown.
    if let Some(note) = e
        .note
        .as_ref()
        .filter(|_| outcome.is_none() && !is_approval_to_run(e))
    {
        text.push_str(&format!(" — {note}"));
    }
    text
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
            "- {} — {} (on {}), log #{}\n",
            fmt(e.ts),
            md_escape(&action_text(e)),
            md_escape(&e.host),
            r.seq,
        ));
        if let (Some(output), Mode::Real) = (e.output.as_deref(), e.mode) {
            let total = output.lines().count();
            md.push_str("\n  ```text\n");
            for line in output.lines().take(MD_OUTPUT_LINES) {
                md.push_str(&format!("  {}\n", line.replace("```", "` ` `")));
            }
            if total > MD_OUTPUT_LINES {
                md.push_str(&format!(
                    "  … ({} more lines in log #{})\n",
                    total - MD_OUTPUT_LINES,
                    r.seq
                ));
            }
            md.push_str("  ```\n\n");
            if let Some(digest) = &e.output_digest {
                md.push_str(&format!(
                    "  Output: {} bytes, SHA-256 `{digest}`.\n\n",
                    e.output_bytes.unwrap_or(0)
                ));
            }
        }
    }
    md.push_str("\n## Follow-ups\n\n");
    for item in follow_ups(t) {
        md.push_str(&format!("- [ ] {}\n", md_escape(&item)));
    }
    md.push_str(&format!(
        "\n_Generated by pagerpilot at {}._\n",
        fmt(t.generated_at)
    ));
    md
}

/// Open questions and unfinished actions, as plain text (each format escapes it).
fn follow_ups(t: &Timeline) -> Vec<String> {
    let mut out = vec![
        "Confirm the suspected cause and record the real one.".to_string(),
        "Decide what would have caught this earlier (alert, dashboard, test).".to_string(),
    ];
    for (i, r) in t.actions.iter().enumerate() {
        let e = &r.entry;
        let todo = match (e.kind, e.decision, e.mode) {
            _ if is_approval_to_run(e) => {
                let ended = t.actions[i + 1..].iter().any(|later| {
                    let l = &later.entry;
                    l.kind == e.kind
                        && l.runbook_id == e.runbook_id
                        && l.step_index == e.step_index
                        && l.mode == Mode::Real
                        && l.duration_ms.is_some()
                });
                (!ended).then(|| {
                    "was approved to run but no outcome was recorded (did pagerpilot stop during the run?)"
                        .to_string()
                })
            }
            (EntryKind::Step, Decision::Approved, Mode::Real) if e.exit_code != Some(0) => {
                Some(format!("failed ({})", outcome(e).unwrap_or_default()))
            }
            (EntryKind::Step, Decision::Skipped, _) => Some("was skipped".to_string()),
            (EntryKind::Step, Decision::Rejected, _) => Some("was rejected".to_string()),
            _ => None,
        };
        if let Some(todo) = todo {
            out.push(format!(
                "Step {} \"{}\" of runbook {} {todo}: follow up (log #{}).",
                e.step_index + 1,
                e.step_title,
                e.runbook_id,
                r.seq
            ));
        }
    }
    for r in &t.incident.runbooks {
        out.push(format!(
            "Review runbook {} ({}) against what was done.",
            r.id, r.title
        ));
    }
    out
}

/// Lines of a step's output quoted in the Markdown (the log keeps the bounded whole).
const MD_OUTPUT_LINES: usize = 20;

/// A self-contained HTML page (no scripts, no external resources) with the same sections as
/// the Markdown draft. Every text is HTML-escaped.
pub fn to_html(t: &Timeline) -> String {
    let i = &t.incident;
    let fmt = |d: DateTime<Utc>| d.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let mut h =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<title>Postmortem draft: {} — {}</title>\n",
        html_escape(&i.id),
        html_escape(&i.title)
    ));
    h.push_str(
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}\
         table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.25rem .5rem;\
         text-align:left;vertical-align:top}pre{background:#f4f4f4;padding:.5rem;overflow-x:auto}</style>\n\
         </head>\n<body>\n",
    );
    h.push_str(&format!(
        "<h1>Postmortem draft: {} — {}</h1>\n<h2>Summary</h2>\n<ul><li>Severity: {}</li>\
         <li>Services: {}</li><li>Alerts grouped: {}</li><li>Rank when exported: {} (score {:.2})</li></ul>\n",
        html_escape(&i.id),
        html_escape(&i.title),
        i.severity.as_str(),
        html_escape(&i.services.join(", ")),
        i.members.len(),
        i.rank,
        i.score
    ));
    h.push_str(&format!(
        "<h2>Impact window</h2>\n<p>Started {}; exported {}.</p>\n",
        fmt(i.started_at),
        fmt(t.generated_at)
    ));
    h.push_str(
        "<h2>Timeline</h2>\n<table>\n<tr><th>Time (UTC)</th><th>Event</th><th>Detail</th></tr>\n",
    );
    for e in &t.events {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            e.kind.label(),
            html_escape(&e.text)
        ));
    }
    h.push_str("</table>\n<h2>Suspected cause</h2>\n");
    match i.root_cause() {
        Some(c) => {
            h.push_str(&format!(
                "<p><strong>{}</strong>{} — confidence {:.0}%.</p>\n<ul>\n",
                html_escape(&c.service),
                c.alert
                    .as_deref()
                    .map(|a| format!(" ({})", html_escape(a)))
                    .unwrap_or_default(),
                c.confidence * 100.0
            ));
            for e in &c.evidence {
                let kind = if e.kind == EvidenceKind::Fact {
                    "fact"
                } else {
                    "inference"
                };
                h.push_str(&format!("<li>{kind}: {}</li>\n", html_escape(&e.text)));
            }
            h.push_str("</ul>\n");
        }
        None => h.push_str("<p>No cause candidate.</p>\n"),
    }
    h.push_str("<h2>Actions taken</h2>\n");
    if t.actions.is_empty() {
        h.push_str("<p>None recorded.</p>\n");
    }
    for r in &t.actions {
        let e = &r.entry;
        h.push_str(&format!(
            "<p>{} — {} (on {}), log #{}</p>\n",
            fmt(e.ts),
            html_escape(&action_text(e)),
            html_escape(&e.host),
            r.seq
        ));
        if let (Some(output), Mode::Real) = (e.output.as_deref(), e.mode) {
            h.push_str(&format!("<pre>{}</pre>\n", html_escape(output)));
        }
    }
    h.push_str("<h2>Follow-ups</h2>\n<ul>\n");
    for item in follow_ups(t) {
        h.push_str(&format!("<li>{}</li>\n", html_escape(&item)));
    }
    h.push_str("</ul>\n");
    h.push_str(&format!(
        "<p><em>Generated by pagerpilot at {}.</em></p>\n</body>\n</html>\n",
        fmt(t.generated_at)
    ));
    h
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes characters that would change Markdown structure in running text.
fn md_escape(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
}

/// Log patterns of the incident's services that are new, surging or stopped (a heartbeat that
/// went quiet), dated by `patterns::change`, from 30 minutes before the incident began: when,
/// which, and the one-line description. In pattern order.
pub(crate) fn pattern_events<'a>(
    analysis: &'a Analysis,
    incident: &Incident,
) -> Vec<(DateTime<Utc>, &'a PatternSummary, String)> {
    let window_start = incident.started_at - chrono::Duration::minutes(30);
    analysis
        .patterns
        .iter()
        .filter(|p| {
            p.service
                .as_deref()
                .is_some_and(|s| incident.services.iter().any(|x| x == s))
        })
        .filter_map(|p| {
            let (at_ns, text) = crate::analysis::patterns::timeline_event(p)?;
            let at = Utc.timestamp_nanos(at_ns);
            (at >= window_start).then_some((at, p, text))
        })
        .collect()
}
