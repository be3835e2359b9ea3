//! One analysis run: series -> anomalies and forecasts, logs -> patterns, alerts -> ranked
//! incidents with causes and runbooks. Shared by the TUI and every headless command.

use std::collections::BTreeMap;

use super::anomaly::ScoreCache;
use super::correlate::{build_incidents_with_rules, IncidentInput};
use super::{anomaly, forecast, patterns, Analysis, Snapshot};
use crate::domain::runbook;

/// Like [`analyze`], first reading the runbook files that alerts' `runbook_url`s name (I/O:
/// call it off the render loop).
pub fn analyze_reading_runbooks(snapshot: Snapshot) -> Analysis {
    analyze_reading_runbooks_cached(snapshot, &mut ScoreCache::new())
}

/// [`analyze_reading_runbooks`] with series scorers kept in `cache` between runs, so each run
/// scores only the points that are new (the TUI's analysis loop).
pub fn analyze_reading_runbooks_cached(mut snapshot: Snapshot, cache: &mut ScoreCache) -> Analysis {
    let alerts: Vec<_> = snapshot.alerts.iter().collect();
    let url_runbooks = runbook::runbooks_from_urls(&alerts, &snapshot.runbooks);
    snapshot.runbooks.extend(url_runbooks.iter().cloned());
    let mut analysis = analyze_cached(&snapshot, cache);
    analysis.url_runbooks = url_runbooks;
    analysis
}

/// One analysis run; pure (no I/O).
pub fn analyze(snapshot: &Snapshot) -> Analysis {
    analyze_cached(snapshot, &mut ScoreCache::new())
}

/// [`analyze`] with series scorers kept in `cache` between runs (see [`ScoreCache`]); series
/// that are no longer in the snapshot are forgotten.
pub fn analyze_cached(snapshot: &Snapshot, cache: &mut ScoreCache) -> Analysis {
    let ids: std::collections::HashSet<&str> =
        snapshot.series.iter().map(|s| s.id.as_str()).collect();
    cache.retain(|id| ids.contains(id));
    let mut anomalies: BTreeMap<_, _> = snapshot
        .series
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| (s.id.clone(), cache.score(s)))
        .collect();
    // A series that left its peer group, or that is anomalous because it moved to a new level,
    // says so in its explanation (scores are unchanged).
    let now_s = snapshot.now.timestamp();
    for outlier in anomaly::peers::peer_outliers(&snapshot.series) {
        if let Some(a) = anomalies.get_mut(&outlier.series_id) {
            a.explanation = format!("{}; {}", a.explanation, outlier.describe(now_s));
        }
    }
    for s in &snapshot.series {
        let Some(a) = anomalies.get_mut(&s.id).filter(|a| a.onset.is_some()) else {
            continue;
        };
        if let Some(shift) = anomaly::shift::level_shift(s) {
            a.explanation = format!("{}; {}", a.explanation, shift.describe(now_s));
        }
    }
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
    let mut incidents = build_incidents_with_rules(
        &IncidentInput {
            now: snapshot.now,
            alerts: &snapshot.alerts,
            transitions: &snapshot.transitions,
            series: &snapshot.series,
            anomalies: &anomalies,
            patterns: &patterns,
            topology: &snapshot.topology,
        },
        &snapshot.grouping_rules,
    );
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
        url_runbooks: Vec::new(),
    }
}
