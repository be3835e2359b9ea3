//! One poll of each source, shared by the TUI's pollers and the headless commands.
//! Metrics are fetched incrementally: the cache keeps what was fetched and each poll asks
//! only for the step-aligned range after the last point it holds.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::domain::{Alert, LogStream, Series};
use crate::sources::{AlertSource, LogSource, MetricsSource, SourceError, Watch};

/// How many range queries run at once.
const METRIC_CONCURRENCY: usize = 4;

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
            incoming.capacity = incoming.capacity.or(w.capacity);
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
