//! One analysis run: series -> anomalies and forecasts, logs -> patterns, alerts -> ranked
//! incidents with causes and runbooks. Shared by the TUI and every headless command.

use std::collections::BTreeMap;

use super::correlate::{build_incidents, IncidentInput};
use super::{anomaly, forecast, patterns, Analysis, Snapshot};
use crate::domain::runbook;

pub fn analyze(snapshot: &Snapshot) -> Analysis {
    let anomalies: BTreeMap<_, _> = snapshot
        .series
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| (s.id.clone(), anomaly::score_series(s)))
        .collect();
    let forecasts: BTreeMap<_, _> = snapshot
        .series
        .iter()
        .filter_map(|s| {
            let cap = s.capacity?;
            forecast::capacity_forecast(s, cap).map(|f| (s.id.clone(), f))
        })
        .collect();
    let now_ns = snapshot.now.timestamp_nanos_opt().unwrap_or(i64::MAX);
    let patterns = patterns::summarize(&snapshot.logs, now_ns);
    let mut incidents = build_incidents(&IncidentInput {
        now: snapshot.now,
        alerts: &snapshot.alerts,
        transitions: &snapshot.transitions,
        series: &snapshot.series,
        anomalies: &anomalies,
        patterns: &patterns,
        topology: &snapshot.topology,
    });
    for incident in &mut incidents {
        let members: Vec<_> = snapshot
            .alerts
            .iter()
            .filter(|a| {
                incident
                    .members
                    .iter()
                    .any(|m| m.fingerprint == a.fingerprint)
            })
            .collect();
        incident.runbooks = runbook::suggest(&members, &snapshot.runbooks);
    }
    Analysis {
        generated_at: snapshot.now,
        incidents,
        anomalies,
        forecasts,
        patterns,
    }
}
