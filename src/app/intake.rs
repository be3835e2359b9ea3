//! Poll results into the app: source health, data, and alert state changes recorded as history.

use std::collections::BTreeMap;

use chrono::Duration;

use super::msg::{Effect, PollData};
use super::update::{request_analysis, SLOW_POLL_MS, TRANSITION_CAP, TRANSITION_MEMORY_MINS};
use super::{App, Health};
use crate::analysis::Transition;
use crate::domain::{Alert, AlertEvent, AlertState, HistoryState};
use crate::sources::SourceKind;

pub(super) fn on_polled(
    app: &mut App,
    source: SourceKind,
    generation: u64,
    at: chrono::DateTime<chrono::Utc>,
    elapsed_ms: u64,
    result: Result<PollData, crate::sources::SourceError>,
) -> Vec<Effect> {
    let Some(status) = app.sources.iter_mut().find(|s| s.kind == source) else {
        return Vec::new();
    };
    if generation <= status.generation {
        return Vec::new();
    }
    status.generation = generation;
    status.last_poll_ms = Some(elapsed_ms);
    match result {
        Err(e) => {
            let since = match &status.health {
                Health::Failing { since, .. } | Health::AuthError { since, .. } => *since,
                _ => at,
            };
            let error = e.to_string();
            status.health = if matches!(e, crate::sources::SourceError::Auth { .. }) {
                Health::AuthError { since, error }
            } else {
                Health::Failing { since, error }
            };
            Vec::new()
        }
        Ok(data) => {
            status.health = if elapsed_ms > SLOW_POLL_MS {
                Health::Slow
            } else {
                Health::Ok
            };
            let first = status.last_ok.is_none();
            status.last_ok = Some(at);
            // Unchanged data needs no new analysis; changed alerts need one at once; new
            // points and log lines are analysed at most every ANALYSIS_INTERVAL_SECS.
            let urgent = match data {
                PollData::Metrics(series) if !first && series == app.data.series => {
                    return Vec::new()
                }
                PollData::WatchedMetrics { series, watch_of }
                    if !first && series == app.data.series && watch_of == app.data.series_watch =>
                {
                    return Vec::new()
                }
                PollData::Logs(logs) if !first && logs == app.data.logs => return Vec::new(),
                PollData::Alerts(alerts) if !first && alerts == app.data.alerts => {
                    return Vec::new()
                }
                PollData::Metrics(series) => {
                    app.data.series = series;
                    false
                }
                PollData::WatchedMetrics { series, watch_of } => {
                    app.data.series = series;
                    app.data.series_watch = watch_of;
                    false
                }
                PollData::Logs(logs) => {
                    app.data.logs = logs;
                    false
                }
                PollData::Alerts(alerts) => {
                    record_transitions(app, &alerts, at);
                    app.data.alerts = alerts;
                    true
                }
            };
            request_analysis(app, urgent || first || app.analysis.is_none())
        }
    }
}

/// What resolved the incident holding `fingerprint`, as the history notes it (`runbook ID`): the
/// runbook of the newest step approved for that incident in the remediation log.
fn resolved_by(
    analysis: Option<&crate::analysis::Analysis>,
    log: &[crate::domain::remediation::StoredEntry],
    fingerprint: &str,
) -> Option<String> {
    let incident = analysis?
        .incidents
        .iter()
        .find(|i| i.members.iter().any(|m| m.fingerprint == fingerprint))?;
    log.iter()
        .rev()
        .find(|r| {
            r.entry.incident_id == incident.id
                && r.entry.decision == crate::domain::remediation::Decision::Approved
                && !r.entry.runbook_id.is_empty()
        })
        .map(|r| format!("runbook {}", r.entry.runbook_id))
}

/// Compares the new alert list with the previous one and remembers what changed.
fn record_transitions(app: &mut App, alerts: &[Alert], at: chrono::DateTime<chrono::Utc>) {
    let before: BTreeMap<&str, AlertState> = app
        .data
        .alerts
        .iter()
        .map(|a| (a.fingerprint.as_str(), a.state))
        .collect();
    let mut seen = Vec::new();
    for alert in alerts {
        seen.push(alert.fingerprint.as_str());
        if before.get(alert.fingerprint.as_str()) != Some(&alert.state) {
            let when = if before.is_empty() {
                alert.starts_at
            } else {
                at
            };
            let mut event = AlertEvent::of(alert, alert.state.into(), when);
            if alert.state == AlertState::Resolved {
                event.note = resolved_by(app.analysis.as_ref(), &app.log, &alert.fingerprint);
            }
            app.data.history_outbox.push(event);
            app.data.transitions.push(Transition {
                fingerprint: alert.fingerprint.clone(),
                at: if before.is_empty() {
                    alert.starts_at
                } else {
                    at
                },
                state: alert.state,
            });
        }
    }
    for (fp, state) in &before {
        if *state != AlertState::Resolved && !seen.contains(fp) {
            if let Some(gone) = app.data.alerts.iter().find(|a| a.fingerprint == *fp) {
                let mut event = AlertEvent::of(gone, HistoryState::Resolved, at);
                event.note = resolved_by(app.analysis.as_ref(), &app.log, fp);
                app.data.history_outbox.push(event);
            }
            app.data.transitions.push(Transition {
                fingerprint: (*fp).to_string(),
                at,
                state: AlertState::Resolved,
            });
        }
    }
    // An ack lasts until its alert resolves (or disappears).
    let active: Vec<&str> = alerts
        .iter()
        .filter(|a| a.is_active())
        .map(|a| a.fingerprint.as_str())
        .collect();
    app.acks.retain(|fp, _| active.contains(&fp.as_str()));
    let cutoff = at - Duration::minutes(TRANSITION_MEMORY_MINS);
    app.data.transitions.retain(|t| t.at >= cutoff);
    let excess = app.data.transitions.len().saturating_sub(TRANSITION_CAP);
    app.data.transitions.drain(..excess);
    // The runtime drains the outbox after every update; without a runtime it stays bounded.
    let excess = app.data.history_outbox.len().saturating_sub(TRANSITION_CAP);
    app.data.history_outbox.drain(..excess);
}
