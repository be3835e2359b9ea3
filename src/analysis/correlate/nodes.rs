//! The active alerts grouping works on, each with what grouping needs to know about it
//! (service id, flapping state, anomaly onset near its start), looked up once.
use super::fasthash::FastMap;
use super::world::{Svc, World};
use super::{
    IncidentInput, ANOMALY_LOOKBACK_SECS, CONFIRM_AFTER_SECS, CONFIRM_BEFORE_SECS,
    LINK_WINDOW_SECS, SPECIFIC_LABELS,
};
use crate::analysis::flap::{flap_status, FlapStatus};
use crate::domain::Alert;

/// One active alert with what grouping needs to know about it.
pub(crate) struct Node<'a> {
    pub alert: &'a Alert,
    /// The alert's name (looked up once).
    pub name: &'a str,
    pub start: i64,
    pub service: Option<&'a str>,
    /// The interned service.
    pub svc: Option<Svc>,
    /// Flapping state from the alert's recent state changes.
    pub flap: FlapStatus,
    /// Earliest anomaly onset among the service's series near the alert's start.
    pub onset: Option<i64>,
    /// Whether the metrics back the alert: its service has no series at all (nothing to go
    /// by), or one of them turned anomalous within [`CONFIRM_BEFORE_SECS`] before to
    /// [`CONFIRM_AFTER_SECS`] after the alert began.
    pub confirmed: bool,
    /// The service is watched and one of its series did turn anomalous around the start.
    pub backed: bool,
    /// The alert's non-empty [`SPECIFIC_LABELS`] values, in that order (looked up once).
    pub specific: [Option<&'a str>; 3],
}

impl Node<'_> {
    pub fn flapping(&self) -> bool {
        self.flap.flapping
    }
}

/// Active alerts, one per fingerprint, sorted by (start, fingerprint).
pub(crate) fn active_nodes<'a>(
    input: &IncidentInput<'a>,
    world: &World<'a>,
    services: &[Option<&'a str>],
) -> Vec<Node<'a>> {
    let mut alerts: Vec<usize> = (0..input.alerts.len())
        .filter(|&i| input.alerts[i].state.is_active())
        .collect();
    // By (start, fingerprint); among alerts sharing a fingerprint the first (earliest start,
    // then smallest labels) stays.
    let key = |i: usize| {
        let a = &input.alerts[i];
        (a.starts_at, &a.fingerprint, &a.labels)
    };
    alerts.sort_by(|&a, &b| key(a).cmp(&key(b)));
    let mut seen: FastMap<&str, ()> = FastMap::default();
    seen.reserve(alerts.len());
    alerts.retain(|&i| {
        seen.insert(input.alerts[i].fingerprint.as_str(), ())
            .is_none()
    });
    let now = input.now.timestamp();
    let mut changes: FastMap<&str, Vec<i64>> = FastMap::default();
    for t in input.transitions {
        changes
            .entry(t.fingerprint.as_str())
            .or_default()
            .push(t.at.timestamp());
    }
    // Anomaly onsets of a service's series, in input order.
    let onsets = |s: Svc| {
        world
            .rows(s)
            .iter()
            .filter_map(|r| r.anomaly.and_then(|a| a.onset))
    };
    alerts
        .into_iter()
        .map(|i| {
            let alert = &input.alerts[i];
            let start = alert.starts_at.timestamp();
            let service = services[i];
            let svc = world.alert_svc(i);
            let flap = if changes.is_empty() {
                FlapStatus::default()
            } else {
                changes
                    .get(alert.fingerprint.as_str())
                    .map(|times| flap_status(times, now))
                    .unwrap_or_default()
            };
            let from = start.saturating_sub(ANOMALY_LOOKBACK_SECS);
            let to = start.saturating_add(LINK_WINDOW_SECS);
            // The onset nearest the alert's start: a service hit twice has two.
            let onset = svc.and_then(|s| {
                onsets(s)
                    .filter(|o| *o >= from && *o <= to)
                    .min_by_key(|o| (o.abs_diff(start), *o))
            });
            let backed = svc.is_some_and(|s| {
                onsets(s).any(|o| {
                    o >= start.saturating_sub(CONFIRM_BEFORE_SECS)
                        && o <= start.saturating_add(CONFIRM_AFTER_SECS)
                })
            });
            let confirmed = backed || svc.is_none_or(|s| !world.watched(s));
            let specific = SPECIFIC_LABELS.map(|k| {
                alert
                    .labels
                    .get(k)
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
            });
            Node {
                specific,
                alert,
                name: alert.name(),
                start,
                service,
                svc,
                flap,
                onset,
                confirmed,
                backed,
            }
        })
        .collect()
}
