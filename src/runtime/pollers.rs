//! One task per source. Each poll carries a generation so `update` can drop stale replies;
//! failures back off exponentially (with jitter) and the last good data stays on screen.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use std::collections::BTreeMap;

use super::poll::{poll_source_alerts, poll_source_logs, poll_source_metrics, MetricsCache};
use super::setup::Sources;
use crate::app::{Msg, PollData};
use crate::sources::{Clock, SourceError, SourceKind};

/// How often each source is polled while healthy, and the per-poll time limit.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub metrics: Duration,
    pub alerts: Duration,
    pub logs: Duration,
    pub timeout: Duration,
    pub max_backoff: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            metrics: Duration::from_secs(15),
            alerts: Duration::from_secs(5),
            logs: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// One source's poll, owned by its task (with any cache it keeps).
trait Poller: Send + 'static {
    fn poll(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> impl std::future::Future<Output = Result<PollData, SourceError>> + Send;
}

struct MetricsPoller {
    sources: Sources,
    cache: MetricsCache,
}

impl Poller for MetricsPoller {
    async fn poll(&mut self, now: chrono::DateTime<chrono::Utc>) -> Result<PollData, SourceError> {
        let series = poll_source_metrics(&self.sources, &mut self.cache, now.timestamp()).await?;
        Ok(PollData::WatchedMetrics {
            series,
            watch_of: self.cache.watch_of_series(),
        })
    }
}

struct AlertsPoller(Sources);

impl Poller for AlertsPoller {
    async fn poll(&mut self, _now: chrono::DateTime<chrono::Utc>) -> Result<PollData, SourceError> {
        poll_source_alerts(&self.0).await.map(PollData::Alerts)
    }
}

struct LogsPoller {
    sources: Sources,
    /// Which stream label found each service's logs.
    found: BTreeMap<String, String>,
}

impl Poller for LogsPoller {
    async fn poll(&mut self, now: chrono::DateTime<chrono::Utc>) -> Result<PollData, SourceError> {
        let now_ns = now.timestamp_nanos_opt().unwrap_or(i64::MAX);
        poll_source_logs(&self.sources, &mut self.found, now_ns)
            .await
            .map(PollData::Logs)
    }
}

/// Starts a poller for each configured source; they stop when the receiver is dropped.
/// A source that is not configured gets no poller (its status says "not configured").
pub fn spawn(
    sources: &Sources,
    clock: Arc<dyn Clock>,
    schedule: Schedule,
    tx: UnboundedSender<Msg>,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    if sources.is_configured(SourceKind::Prometheus) {
        let metrics = MetricsPoller {
            sources: sources.clone(),
            cache: MetricsCache::default(),
        };
        tasks.push(tokio::spawn(run_loop(
            SourceKind::Prometheus,
            schedule.metrics,
            schedule,
            clock.clone(),
            tx.clone(),
            metrics,
        )));
    }
    if sources.is_configured(SourceKind::Alertmanager) {
        tasks.push(tokio::spawn(run_loop(
            SourceKind::Alertmanager,
            schedule.alerts,
            schedule,
            clock.clone(),
            tx.clone(),
            AlertsPoller(sources.clone()),
        )));
    }
    if sources.is_configured(SourceKind::Loki) {
        let logs = LogsPoller {
            sources: sources.clone(),
            found: BTreeMap::new(),
        };
        tasks.push(tokio::spawn(run_loop(
            SourceKind::Loki,
            schedule.logs,
            schedule,
            clock,
            tx,
            logs,
        )));
    }
    tasks
}

async fn run_loop<P: Poller>(
    kind: SourceKind,
    every: Duration,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    tx: UnboundedSender<Msg>,
    mut poller: P,
) {
    let mut generation = 0u64;
    let mut failures = 0u32;
    loop {
        generation += 1;
        let started = Instant::now();
        let now = clock.now();
        let result = match tokio::time::timeout(schedule.timeout, poller.poll(now)).await {
            Ok(r) => r,
            Err(_) => Err(SourceError::Timeout {
                kind,
                secs: schedule.timeout.as_secs(),
            }),
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let wait = match &result {
            Ok(_) => {
                failures = 0;
                every
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(source = %kind, error = %e, "poll failed");
                backoff(every, failures, schedule.max_backoff, generation)
            }
        };
        let msg = Msg::Polled {
            source: kind,
            generation,
            at: now,
            elapsed_ms,
            result,
        };
        if tx.send(msg).is_err() {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// Exponential backoff from `base`, capped, with up to 20 % jitter derived from `salt`.
pub fn backoff(base: Duration, failures: u32, cap: Duration, salt: u64) -> Duration {
    let exp = base.saturating_mul(1u32 << failures.min(10).saturating_sub(1));
    let capped = exp.min(cap);
    let jitter_pct = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59; // 0..=31
    capped + capped * u32::try_from(jitter_pct.min(20)).unwrap_or(0) / 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(5);
        let cap = Duration::from_secs(60);
        let first = backoff(base, 1, cap, 7);
        let third = backoff(base, 3, cap, 7);
        assert!(first >= base && first <= base * 6 / 5, "{first:?}");
        assert!(third >= base * 4, "{third:?}");
        assert!(backoff(base, 30, cap, 7) <= cap * 6 / 5);
    }
}
