//! One task per source. Each poll carries a generation so `update` can drop stale replies;
//! failures back off exponentially (with jitter) and the last good data stays on screen.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::poll::{poll_alerts, poll_logs, poll_metrics, MetricsCache};
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
        let s = &self.sources;
        poll_metrics(
            s.metrics.as_ref(),
            &s.watches,
            &mut self.cache,
            now.timestamp(),
            s.history_secs,
        )
        .await
        .map(PollData::Metrics)
    }
}

struct AlertsPoller(Sources);

impl Poller for AlertsPoller {
    async fn poll(&mut self, _now: chrono::DateTime<chrono::Utc>) -> Result<PollData, SourceError> {
        poll_alerts(self.0.alerts.as_ref())
            .await
            .map(PollData::Alerts)
    }
}

struct LogsPoller(Sources);

impl Poller for LogsPoller {
    async fn poll(&mut self, now: chrono::DateTime<chrono::Utc>) -> Result<PollData, SourceError> {
        let s = &self.0;
        let now_ns = now.timestamp_nanos_opt().unwrap_or(i64::MAX);
        poll_logs(
            s.logs.as_ref(),
            &s.log_selectors,
            now_ns,
            s.log_window_secs,
            s.log_limit,
        )
        .await
        .map(PollData::Logs)
    }
}

/// Starts the three pollers; they stop when the receiver is dropped.
pub fn spawn(
    sources: &Sources,
    clock: Arc<dyn Clock>,
    schedule: Schedule,
    tx: UnboundedSender<Msg>,
) -> Vec<JoinHandle<()>> {
    let metrics = MetricsPoller {
        sources: sources.clone(),
        cache: MetricsCache::default(),
    };
    vec![
        tokio::spawn(run_loop(
            SourceKind::Prometheus,
            schedule.metrics,
            schedule,
            clock.clone(),
            tx.clone(),
            metrics,
        )),
        tokio::spawn(run_loop(
            SourceKind::Alertmanager,
            schedule.alerts,
            schedule,
            clock.clone(),
            tx.clone(),
            AlertsPoller(sources.clone()),
        )),
        tokio::spawn(run_loop(
            SourceKind::Loki,
            schedule.logs,
            schedule,
            clock,
            tx,
            LogsPoller(sources.clone()),
        )),
    ]
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
