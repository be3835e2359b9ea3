//! One poll of each source, shared by the TUI's pollers and the headless commands.
//! Metrics are fetched incrementally: the cache keeps what was fetched and each poll asks
//! only for the step-aligned range after the last point it holds.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use super::setup::Sources;
use crate::domain::series::series_id;
use crate::domain::{Alert, LogStream, Series};
use crate::sources::{AlertSource, LogSource, MetricsSource, SourceError, Watch};

/// How many range queries run at once.
const METRIC_CONCURRENCY: usize = 4;

/// One metrics poll of `sources`: the watchlist plus the rule expressions of firing alerts
/// (live), fetched incrementally into `cache`; the services seen are shared with the log
/// poller.
pub async fn poll_source_metrics(
    sources: &Sources,
    cache: &mut MetricsCache,
    now: i64,
) -> Result<Vec<Series>, SourceError> {
    let Some(metrics) = &sources.metrics else {
        return Ok(Vec::new());
    };
    let mut watches = sources.watches.clone();
    if let Some(rules) = &sources.rule_history {
        watches.extend(rules.watches().await?);
    }
    let names: Vec<&str> = watches.iter().map(|w| w.name.as_str()).collect();
    cache.retain_watches(&names);
    let series = poll_metrics(metrics.as_ref(), &watches, cache, now, sources.history_secs).await?;
    if !sources.log_service_labels.is_empty() {
        sources
            .services
            .set_from_series(services_of(&[], &series, &sources.log_service_labels));
    }
    Ok(series)
}

/// One alerts poll of `sources`; the services named by active alerts are shared with the log
/// poller.
pub async fn poll_source_alerts(sources: &Sources) -> Result<Vec<Alert>, SourceError> {
    let Some(source) = &sources.alerts else {
        return Ok(Vec::new());
    };
    let alerts = poll_alerts(source.as_ref()).await?;
    if !sources.log_service_labels.is_empty() {
        sources
            .services
            .set_from_alerts(services_of(&alerts, &[], &sources.log_service_labels));
    }
    Ok(alerts)
}

/// One logs poll of `sources`: the fixed selectors (demo) and the logs of every service seen
/// (live).
pub async fn poll_source_logs(
    sources: &Sources,
    found: &mut BTreeMap<String, String>,
    now_ns: i64,
) -> Result<Vec<LogStream>, SourceError> {
    let Some(source) = &sources.logs else {
        return Ok(Vec::new());
    };
    let mut streams = poll_logs(
        source.as_ref(),
        &sources.log_selectors,
        now_ns,
        sources.log_window_secs,
        sources.log_limit,
    )
    .await?;
    if !sources.log_service_labels.is_empty() {
        streams.extend(
            poll_service_logs(
                source.as_ref(),
                &sources.services.all(),
                &sources.log_service_labels,
                found,
                now_ns,
                sources.log_window_secs,
                sources.log_limit,
            )
            .await?,
        );
    }
    Ok(streams)
}

/// Points fetched so far, per watch.
#[derive(Debug, Default)]
pub struct MetricsCache {
    /// watch name -> series returned for it (a watch may return several).
    by_watch: BTreeMap<String, Vec<Series>>,
}

impl MetricsCache {
    /// Every cached series, in watch order.
    pub fn all(&self) -> Vec<Series> {
        self.by_watch.values().flatten().cloned().collect()
    }

    /// Forgets the watches not in `names` (e.g. the history of an alert that resolved).
    pub fn retain_watches(&mut self, names: &[&str]) {
        self.by_watch.retain(|k, _| names.contains(&k.as_str()));
    }

    /// How many points are cached over all watches.
    pub fn points(&self) -> usize {
        self.by_watch.values().flatten().map(Series::len).sum()
    }

    /// Series id -> the watch that returned it (the first, when several did).
    pub fn watch_of_series(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (watch, series) in &self.by_watch {
            for s in series {
                out.entry(s.id.clone()).or_insert_with(|| watch.clone());
            }
        }
        out
    }

    fn last_ts(&self, watch: &str) -> Option<i64> {
        self.by_watch
            .get(watch)?
            .iter()
            .filter_map(Series::last_timestamp)
            .max()
    }
}

/// Fetches what is new for every watch and merges it into `cache`; keeps `history_secs`.
/// On error the cache keeps what it had, so the caller can show the last good data.
pub async fn poll_metrics(
    source: &dyn MetricsSource,
    watches: &[Watch],
    cache: &mut MetricsCache,
    now: i64,
    history_secs: i64,
) -> Result<Vec<Series>, SourceError> {
    let requests: Vec<(usize, i64, i64)> = watches
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let step = w.step.max(1);
            let end = now - now.rem_euclid(step);
            let start = match cache.last_ts(&w.name) {
                Some(last) => last + step,
                None => {
                    let s = end - history_secs;
                    s - s.rem_euclid(step)
                }
            };
            (start <= end).then_some((i, start, end))
        })
        .collect();
    let fetched: Vec<(usize, Vec<Series>)> = stream::iter(requests)
        .map(|(i, start, end)| async move {
            let w = &watches[i];
            source
                .query_range(&w.query, start, end, w.step.max(1))
                .await
                .map(|s| (i, s))
        })
        .buffer_unordered(METRIC_CONCURRENCY)
        .try_collect()
        .await?;
    for (i, new_series) in fetched {
        let w = &watches[i];
        let entry = cache.by_watch.entry(w.name.clone()).or_default();
        for mut incoming in new_series {
            if !tie(w, &mut incoming) {
                continue;
            }
            incoming.capacity = incoming.capacity.or(w.capacity);
            incoming.slo = incoming.slo.or(w.slo);
            match entry.iter_mut().find(|s| s.id == incoming.id) {
                Some(existing) => existing.merge_newer(&incoming.timestamps, &incoming.values),
                None => entry.push(incoming),
            }
        }
    }
    let min_ts = now - history_secs;
    for series in cache.by_watch.values_mut().flatten() {
        series.trim_before(min_ts);
    }
    Ok(cache.all())
}

/// Labels copied from an alert to its rule-expression series, so analysis ties them.
const TIE_LABELS: [&str; 7] = [
    "alertname",
    "service",
    "app",
    "job",
    "namespace",
    "instance",
    "container",
];

/// Applies a watch's service label and alert tie to a fetched series. `false`: the series is
/// not the one the watch's alert is about, drop it.
fn tie(watch: &Watch, series: &mut Series) -> bool {
    let mut changed = false;
    if let Some(alert) = &watch.alert_labels {
        let disagrees = series
            .labels
            .iter()
            .any(|(k, v)| k != "__name__" && alert.get(k).is_some_and(|a| a != v));
        if disagrees {
            return false;
        }
        for key in TIE_LABELS {
            if let Some(v) = alert.get(key) {
                if !series.labels.contains_key(key) {
                    series.labels.insert(key.to_string(), v.clone());
                    changed = true;
                }
            }
        }
    }
    if let Some(label) = watch.service_label.as_deref().filter(|l| *l != "service") {
        if let Some(v) = series.labels.get(label).cloned() {
            if !series.labels.contains_key("service") {
                series.labels.insert("service".to_string(), v);
                changed = true;
            }
        }
    }
    if changed {
        series.id = series_id(&series.labels);
    }
    true
}

pub async fn poll_alerts(source: &dyn AlertSource) -> Result<Vec<Alert>, SourceError> {
    source.alerts().await
}

/// Fetches the last `window_secs` of lines for every selector (newest first, up to `limit` each).
pub async fn poll_logs(
    source: &dyn LogSource,
    selectors: &[String],
    now_ns: i64,
    window_secs: i64,
    limit: usize,
) -> Result<Vec<LogStream>, SourceError> {
    let start = now_ns.saturating_sub(window_secs.saturating_mul(1_000_000_000));
    let mut streams = Vec::new();
    for selector in selectors {
        streams.extend(source.query_range(selector, start, now_ns, limit).await?);
    }
    Ok(streams)
}

/// A LogQL stream selector `{label="value"}` with the value escaped.
pub fn selector(label: &str, value: &str) -> String {
    let v = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{{{label}=\"{v}\"}}")
}

/// Logs of each service: the stream labels are tried in order and the first that finds
/// streams wins (`found` remembers it per service, so later polls ask once).
pub async fn poll_service_logs(
    source: &dyn LogSource,
    services: &[String],
    labels: &[String],
    found: &mut BTreeMap<String, String>,
    now_ns: i64,
    window_secs: i64,
    limit: usize,
) -> Result<Vec<LogStream>, SourceError> {
    let start = now_ns.saturating_sub(window_secs.saturating_mul(1_000_000_000));
    let mut streams = Vec::new();
    for service in services {
        let known = found.get(service).cloned();
        let order: Vec<&String> = match &known {
            Some(l) => vec![l],
            None => labels.iter().collect(),
        };
        for label in order {
            let got = source
                .query_range(&selector(label, service), start, now_ns, limit)
                .await?;
            if !got.is_empty() {
                found.insert(service.clone(), label.clone());
                streams.extend(got);
                break;
            }
        }
    }
    Ok(streams)
}

/// The services named by alerts and series, by the given label names (first match each).
pub fn services_of(alerts: &[Alert], series: &[Series], labels: &[String]) -> Vec<String> {
    let mut out: Vec<String> = alerts
        .iter()
        .filter(|a| a.is_active())
        .map(|a| &a.labels)
        .chain(series.iter().map(|s| &s.labels))
        .filter_map(|l| labels.iter().find_map(|k| l.get(k)).cloned())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)]) -> Series {
        let labels: crate::domain::Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Series {
            id: series_id(&labels),
            labels,
            ..Series::default()
        }
    }

    fn watch() -> Watch {
        Watch {
            name: "w".into(),
            query: "q".into(),
            step: 60,
            capacity: None,
            slo: None,
            service_label: None,
            alert_labels: None,
        }
    }

    #[test]
    fn alert_tie_drops_other_series_and_adds_labels() {
        let mut w = watch();
        w.alert_labels = Some(
            [("alertname", "Slow"), ("instance", "a"), ("service", "web")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let mut other = series(&[("__name__", "m"), ("instance", "b")]);
        assert!(!tie(&w, &mut other));
        let mut mine = series(&[("__name__", "m"), ("instance", "a")]);
        assert!(tie(&w, &mut mine));
        assert_eq!(mine.labels["service"], "web");
        assert_eq!(mine.id, r#"m{alertname="Slow",instance="a",service="web"}"#);
    }

    #[test]
    fn service_label_is_copied() {
        let mut w = watch();
        w.service_label = Some("app".into());
        let mut s = series(&[("__name__", "m"), ("app", "shop")]);
        assert!(tie(&w, &mut s));
        assert_eq!(s.service(), Some("shop"));
        let mut plain = series(&[("__name__", "m"), ("app", "shop")]);
        assert!(tie(&watch(), &mut plain));
        assert_eq!(plain.id, r#"m{app="shop"}"#);
    }

    /// Records each range asked for and answers one point per step (or fails when told).
    struct Recorder {
        asked: std::sync::Mutex<Vec<(i64, i64)>>,
        fail: std::sync::atomic::AtomicBool,
    }

    impl MetricsSource for Recorder {
        fn query_range<'a>(
            &'a self,
            _query: &'a str,
            start: i64,
            end: i64,
            step: i64,
        ) -> futures::future::BoxFuture<'a, Result<Vec<Series>, SourceError>> {
            if let Ok(mut asked) = self.asked.lock() {
                asked.push((start, end));
            }
            let failing = self.fail.load(std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                if failing {
                    return Err(SourceError::Timeout {
                        kind: crate::sources::SourceKind::Prometheus,
                        secs: 1,
                    });
                }
                let mut s = series(&[("__name__", "m")]);
                s.timestamps = (start..=end).step_by(step as usize).collect();
                s.values = s.timestamps.iter().map(|t| *t as f64).collect();
                Ok(vec![s])
            })
        }
    }

    #[tokio::test]
    async fn metrics_are_fetched_incrementally_and_kept_on_failure() {
        let source = Recorder {
            asked: std::sync::Mutex::new(Vec::new()),
            fail: std::sync::atomic::AtomicBool::new(false),
        };
        let watches = [watch()];
        let mut cache = MetricsCache::default();
        let t = 1_000_000 * 60 + 17;
        let got = poll_metrics(&source, &watches, &mut cache, t, 3600)
            .await
            .unwrap();
        // An hour at one point a minute, the first one just older than an hour dropped.
        assert_eq!(got[0].len(), 60);
        let got = poll_metrics(&source, &watches, &mut cache, t + 125, 3600)
            .await
            .unwrap();
        let aligned = t - 17;
        assert_eq!(
            *source.asked.lock().unwrap(),
            vec![(aligned - 3600, aligned), (aligned + 60, aligned + 120)],
            "the second poll asks only for the new step-aligned range"
        );
        // Points older than an hour before now are dropped.
        assert_eq!(got[0].len(), 60, "bounded history window");
        assert_eq!(got[0].last_timestamp(), Some(aligned + 120));
        source.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(poll_metrics(&source, &watches, &mut cache, t + 300, 3600)
            .await
            .is_err());
        assert_eq!(cache.points(), 60, "a failed poll keeps the cache");
        let watch_of = cache.watch_of_series();
        assert_eq!(watch_of.get(&got[0].id).map(String::as_str), Some("w"));
        assert_eq!(watch_of.len(), 1);
    }

    #[test]
    fn selectors_escape_values() {
        assert_eq!(selector("app", "web"), r#"{app="web"}"#);
        assert_eq!(selector("app", r#"a"b\c"#), r#"{app="a\"b\\c"}"#);
    }
}
