//! The set of sources one run polls, and how to build it: the embedded demo ([`demo`]) or the
//! configured live servers ([`live`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::rules::{RuleHistory, DEFAULT_RULE_HISTORY_SECS};
use crate::app::RunMode;
use crate::config::Settings;
use crate::demo::Scenario;
use crate::domain::runbook::{self, Runbook};
use crate::domain::Edge;
use crate::sources::alertmanager::AlertmanagerClient;
use crate::sources::loki::LokiClient;
use crate::sources::prometheus::{PrometheusAlerts, PrometheusClient};
use crate::sources::replay::Replay;
use crate::sources::{
    AlertSource, Clock, LogSource, MetricsSource, SourceError, SourceKind, Watch,
};

/// Everything the pollers need, behind the source traits. A source that is not configured is
/// `None`: it is not polled and the status bar says "not configured".
#[derive(Clone)]
pub struct Sources {
    pub mode: RunMode,
    /// Shown with the DEMO marker.
    pub scenario_name: Option<String>,
    pub metrics: Option<Arc<dyn MetricsSource>>,
    pub alerts: Option<Arc<dyn AlertSource>>,
    /// Which server answers for alerts: Alertmanager, or Prometheus's own `/api/v1/alerts`
    /// when only Prometheus is configured.
    pub alerts_via: SourceKind,
    pub logs: Option<Arc<dyn LogSource>>,
    pub watches: Vec<Watch>,
    /// For every firing Prometheus alert, its rule expression is charted (live only).
    pub rule_history: Option<RuleHistory>,
    /// LogQL stream selectors polled for log patterns (the demo's fixed list).
    pub log_selectors: Vec<String>,
    /// Live: stream labels tried in order to find the logs of each service seen in alerts and
    /// series (`{service="checkout-api"}`, then `{app="checkout-api"}` ...).
    pub log_service_labels: Vec<String>,
    /// Services seen by the metrics and alert pollers, read by the log poller (live only).
    pub services: ServiceBook,
    pub topology: Vec<Edge>,
    pub runbooks: Vec<Runbook>,
    /// How much metric history to keep.
    pub history_secs: i64,
    /// How much log history to fetch each poll.
    pub log_window_secs: i64,
    pub log_limit: usize,
}

/// The demo: a replay of `scenario` anchored at `anchor`, moving with `clock`.
pub fn demo(scenario: Scenario, anchor: DateTime<Utc>, clock: Arc<dyn Clock>) -> Sources {
    let scenario = Arc::new(scenario);
    let replay = Arc::new(Replay::new(scenario.clone(), anchor, clock));
    let watches = scenario.watches();
    let mut services: Vec<String> = scenario
        .topology()
        .iter()
        .flat_map(|e| [e.from.clone(), e.to.clone()])
        .collect();
    services.extend(watches.iter().filter_map(|w| service_in_selector(&w.query)));
    services.sort();
    services.dedup();
    Sources {
        mode: RunMode::Demo,
        scenario_name: Some(scenario.name().to_string()),
        metrics: Some(replay.clone()),
        alerts: Some(replay.clone()),
        alerts_via: SourceKind::Alertmanager,
        logs: Some(replay),
        rule_history: None,
        log_service_labels: Vec::new(),
        services: ServiceBook::default(),
        log_selectors: services
            .iter()
            .map(|s| format!("{{service=\"{s}\"}}"))
            .collect(),
        watches,
        topology: scenario.topology(),
        runbooks: runbook::embedded(),
        history_secs: scenario.history_secs(),
        log_window_secs: 2 * 3600,
        log_limit: 5_000,
    }
}

/// The services the pollers have seen, shared between the metrics, alert and log pollers (the
/// only state they share; the lock is never held across an await).
#[derive(Clone, Debug, Default)]
pub struct ServiceBook(Arc<std::sync::Mutex<ServiceSets>>);

#[derive(Debug, Default)]
struct ServiceSets {
    alerts: Vec<String>,
    series: Vec<String>,
}

impl ServiceBook {
    fn with<T>(&self, f: impl FnOnce(&mut ServiceSets) -> T) -> T {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    pub fn set_from_alerts(&self, services: Vec<String>) {
        self.with(|s| s.alerts = services);
    }

    pub fn set_from_series(&self, services: Vec<String>) {
        self.with(|s| s.series = services);
    }

    /// Every service seen, sorted, alerts' first among equals.
    pub fn all(&self) -> Vec<String> {
        let mut out = self.with(|s| {
            let mut v = s.alerts.clone();
            v.extend(s.series.iter().cloned());
            v
        });
        out.sort();
        out.dedup();
        out
    }
}

impl Sources {
    /// Whether a poller runs for this status slot.
    pub fn is_configured(&self, kind: SourceKind) -> bool {
        match kind {
            SourceKind::Prometheus => self.metrics.is_some(),
            SourceKind::Alertmanager => self.alerts.is_some(),
            SourceKind::Loki => self.logs.is_some(),
        }
    }
}

/// Live clients for the configured sources. Prometheus is the metrics source (the watchlist
/// plus the rule expressions of firing alerts); Alertmanager the alert source, or Prometheus's
/// own alerts when only Prometheus is configured; Loki the log source, asked for the logs of
/// every service seen in alerts and series.
pub fn live(settings: &Settings, _clock: Arc<dyn Clock>) -> Result<Sources, SourceError> {
    let prometheus = match &settings.prometheus {
        Some(p) => Some(Arc::new(PrometheusClient::new(p.http.clone())?)),
        None => None,
    };
    let (alerts, alerts_via): (Option<Arc<dyn AlertSource>>, SourceKind) =
        match (&settings.alertmanager, &prometheus) {
            (Some(am), _) => (
                Some(Arc::new(AlertmanagerClient::new(am.http.clone())?)),
                SourceKind::Alertmanager,
            ),
            (None, Some(p)) => (
                Some(Arc::new(PrometheusAlerts(p.clone()))),
                SourceKind::Prometheus,
            ),
            (None, None) => (None, SourceKind::Alertmanager),
        };
    let (logs, log_service_labels): (Option<Arc<dyn LogSource>>, Vec<String>) = match &settings.loki
    {
        Some(l) => (
            Some(Arc::new(LokiClient::new(l.source.http.clone())?)),
            l.service_labels.clone(),
        ),
        None => (None, Vec::new()),
    };
    let watches = match &prometheus {
        Some(_) => settings.watch.iter().map(live_watch).collect(),
        None => Vec::new(),
    };
    Ok(Sources {
        mode: RunMode::Live,
        scenario_name: None,
        metrics: prometheus.clone().map(|p| p as Arc<dyn MetricsSource>),
        alerts,
        alerts_via,
        logs,
        watches,
        rule_history: prometheus.map(RuleHistory::new),
        log_selectors: Vec::new(),
        log_service_labels,
        services: ServiceBook::default(),
        topology: settings
            .topology
            .iter()
            .map(|(from, to)| Edge {
                from: from.clone(),
                to: to.clone(),
            })
            .collect(),
        runbooks: runbook::embedded(),
        history_secs: DEFAULT_RULE_HISTORY_SECS,
        log_window_secs: 3600,
        log_limit: 1_000,
    })
}

fn live_watch(w: &crate::config::Watch) -> Watch {
    Watch {
        name: w.name.clone(),
        query: w.query.clone(),
        step: i64::try_from(w.step.as_secs()).unwrap_or(i64::MAX).max(1),
        capacity: w.capacity,
        slo: w.slo,
        service_label: Some(w.service_label.clone()),
        alert_labels: None,
    }
}

/// The value of `service="..."` in a selector, if any.
fn service_in_selector(query: &str) -> Option<String> {
    let rest = &query[query.find("service=\"")? + "service=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_is_read_from_a_selector() {
        assert_eq!(
            service_in_selector(r#"http_requests{namespace="shop",service="web"}"#),
            Some("web".to_string())
        );
        assert_eq!(service_in_selector("up"), None);
        assert_eq!(service_in_selector(r#"x{service="unterminated}"#), None);
    }
}
