//! One poll -> analyse cycle without a terminal (`scan`, `export`).

use chrono::{DateTime, Utc};

use std::collections::BTreeMap;

use super::poll::{poll_source_alerts, poll_source_logs, poll_source_metrics, MetricsCache};
use super::setup::Sources;
use crate::analysis::corrections::GroupingRule;
use crate::analysis::{analyze_reading_runbooks, Analysis, Snapshot};
use crate::domain::Alert;

/// What one cycle saw and concluded.
pub struct Cycle {
    pub alerts: Vec<Alert>,
    pub analysis: Analysis,
}

/// The configured anomaly sensitivities: the global one and each watch's (by watch name).
#[derive(Clone, Copy, Debug)]
pub struct Sensitivities<'a> {
    pub global: f64,
    pub by_watch: &'a BTreeMap<String, f64>,
}

impl<'a> Sensitivities<'a> {
    /// The sensitivities a resolved configuration sets.
    pub fn of(settings: &'a crate::config::Settings) -> Self {
        Sensitivities {
            global: settings.sensitivity,
            by_watch: &settings.watch_sensitivity,
        }
    }
}

/// Polls every source once at `now` and analyses the result, applying the stored grouping
/// corrections `rules` and each series' configured sensitivity. A failing source is an error
/// here: a one-shot report must not silently leave a source out.
pub async fn run_cycle(
    sources: &Sources,
    now: DateTime<Utc>,
    rules: Vec<GroupingRule>,
    sensitivities: Sensitivities<'_>,
) -> anyhow::Result<Cycle> {
    let mut cache = MetricsCache::default();
    // Alerts first: the services they name are the ones whose logs are fetched.
    let alerts = poll_source_alerts(sources).await?;
    let mut series = poll_source_metrics(sources, &mut cache, now.timestamp()).await?;
    let watch_of = cache.watch_of_series();
    for s in &mut series {
        let by_watch = watch_of
            .get(&s.id)
            .and_then(|w| sensitivities.by_watch.get(w));
        s.sensitivity = Some(by_watch.copied().unwrap_or(sensitivities.global));
    }
    let now_ns = now.timestamp_nanos_opt().unwrap_or(i64::MAX);
    let logs = poll_source_logs(sources, &mut BTreeMap::new(), now_ns).await?;
    let snapshot = Snapshot {
        now,
        alerts: alerts.clone(),
        transitions: Vec::new(),
        series,
        logs,
        topology: sources.topology.clone(),
        runbooks: sources.runbooks.clone(),
        grouping_rules: rules,
    };
    let analysis = tokio::task::spawn_blocking(move || analyze_reading_runbooks(snapshot)).await?;
    Ok(Cycle { alerts, analysis })
}
