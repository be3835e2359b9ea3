//! The demo scenario served through the same traits as Prometheus, Alertmanager and Loki.
//!
//! The replay is anchored at a wall-clock instant (scenario minute 0) and moves forward with its
//! clock: nothing later than `clock.now()` is ever returned, and every value is a pure function
//! of the scenario, the anchor and the timestamp.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::FutureExt;

use super::{AlertSource, Clock, LogSource, MetricsSource, SourceError, SourceKind};
use crate::demo::selector::{parse_logql, parse_promql};
use crate::demo::{unix_ns, Scenario};
use crate::domain::{Alert, LogEntry, LogStream, Series};

/// Prometheus refuses range queries with more points per series than this.
pub const MAX_POINTS_PER_QUERY: i64 = 11_000;

pub struct Replay {
    scenario: Arc<Scenario>,
    anchor: DateTime<Utc>,
    clock: Arc<dyn Clock>,
}

impl Replay {
    pub fn new(scenario: Arc<Scenario>, anchor: DateTime<Utc>, clock: Arc<dyn Clock>) -> Replay {
        Replay {
            scenario,
            anchor,
            clock,
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The wall-clock instant of scenario minute 0.
    pub fn anchor(&self) -> DateTime<Utc> {
        self.anchor
    }

    /// A range query answered now (the synchronous core of [`MetricsSource::query_range`]).
    pub fn metrics(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, SourceError> {
        let err = |detail: String| SourceError::Query {
            kind: SourceKind::Prometheus,
            detail: format!("query {query:?}: {detail}"),
        };
        let selector = parse_promql(query).map_err(err)?;
        if step <= 0 {
            return Err(err(format!(
                "step must be a positive number of seconds, got {step}"
            )));
        }
        if end < start {
            return Err(err(format!("end {end} is before start {start}")));
        }
        let points = (i128::from(end) - i128::from(start)) / i128::from(step);
        if points >= i128::from(MAX_POINTS_PER_QUERY) {
            return Err(err(format!(
                "exceeded maximum resolution of {MAX_POINTS_PER_QUERY} points per series; \
                 use a larger step"
            )));
        }
        let end = end.min(self.clock.now().timestamp());
        if end < start {
            return Ok(Vec::new());
        }
        let mut series = self
            .scenario
            .series_where(self.anchor, start, end, step, |l| selector.matches(l));
        series.retain(|s| !s.is_empty());
        for s in &mut series {
            // Prometheus knows no capacities; they come from the watch configuration.
            s.capacity = None;
        }
        Ok(series)
    }

    /// The alerts active at the clock's now.
    pub fn active_alerts(&self) -> Vec<Alert> {
        self.scenario.alerts_at(self.anchor, self.clock.now())
    }

    /// A LogQL query answered now: newest first, at most `limit` lines over all streams.
    pub fn logs(
        &self,
        query: &str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> Result<Vec<LogStream>, SourceError> {
        let q = parse_logql(query).map_err(|detail| SourceError::Query {
            kind: SourceKind::Loki,
            detail: format!("query {query:?}: {detail}"),
        })?;
        let end_ns = end_ns.min(unix_ns(self.clock.now()));
        if end_ns < start_ns || limit == 0 {
            return Ok(Vec::new());
        }
        let streams = self
            .scenario
            .logs_where(self.anchor, start_ns, end_ns, |l| q.selector.matches(l));
        // The newest `limit` lines over all streams, then back into their streams.
        let mut lines: Vec<(i64, usize, &LogEntry)> = streams
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.entries.iter().map(move |e| (e.ts_ns, i, e)))
            .filter(|(_, _, e)| q.keeps_line(&e.line))
            .collect();
        lines.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        lines.truncate(limit);
        let mut out: Vec<LogStream> = streams
            .iter()
            .map(|s| LogStream {
                labels: s.labels.clone(),
                entries: Vec::new(),
            })
            .collect();
        for (_, i, e) in lines {
            if let Some(stream) = out.get_mut(i) {
                stream.entries.push(e.clone());
            }
        }
        out.retain(|s| !s.entries.is_empty());
        Ok(out)
    }
}

impl MetricsSource for Replay {
    fn query_range<'a>(
        &'a self,
        query: &'a str,
        start: i64,
        end: i64,
        step: i64,
    ) -> BoxFuture<'a, Result<Vec<Series>, SourceError>> {
        async move { self.metrics(query, start, end, step) }.boxed()
    }
}

impl AlertSource for Replay {
    fn alerts(&self) -> BoxFuture<'_, Result<Vec<Alert>, SourceError>> {
        async move { Ok(self.active_alerts()) }.boxed()
    }
}

impl LogSource for Replay {
    fn query_range<'a>(
        &'a self,
        query: &'a str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<LogStream>, SourceError>> {
        async move { self.logs(query, start_ns, end_ns, limit) }.boxed()
    }
}
