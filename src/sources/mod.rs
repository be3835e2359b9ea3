//! Data sources behind traits: the real HTTP clients and the embedded demo replay implement
//! the same traits, so the runtime and the headless commands do not care which one they poll.

pub mod alertmanager;
pub mod http;
pub mod loki;
pub mod prometheus;
pub mod replay;
pub mod retry;
pub mod tls;

use std::fmt;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub use crate::domain::Edge;
use crate::domain::{Alert, LogStream, Series};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Prometheus,
    Alertmanager,
    Loki,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [
        SourceKind::Prometheus,
        SourceKind::Alertmanager,
        SourceKind::Loki,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Prometheus => "prometheus",
            SourceKind::Alertmanager => "alertmanager",
            SourceKind::Loki => "loki",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors a source can report. Messages quote what the server said; never secrets.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SourceError {
    #[error("{kind} unreachable: {detail}")]
    Unreachable { kind: SourceKind, detail: String },
    #[error("{kind} timed out after {secs}s")]
    Timeout { kind: SourceKind, secs: u64 },
    #[error("{kind} answered HTTP {status}: {body}")]
    Http {
        kind: SourceKind,
        status: u16,
        body: String,
    },
    #[error("{kind} rejected the credentials (HTTP {status})")]
    Auth { kind: SourceKind, status: u16 },
    #[error("{kind} sent a response that could not be read: {detail}")]
    Decode { kind: SourceKind, detail: String },
    #[error("{kind} query error: {detail}")]
    Query { kind: SourceKind, detail: String },
}

/// One watched query: what the metrics poller asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    pub name: String,
    /// PromQL (a selector such as `metric{service="x"}` for the demo).
    pub query: String,
    /// Step in seconds.
    pub step: i64,
    /// Capacity limit for forecasts (e.g. 100 for a percentage), if the watch has one.
    #[serde(default)]
    pub capacity: Option<f64>,
    /// SLO objective when the query is a per-service error ratio (ranking scores its burn).
    #[serde(default)]
    pub slo: Option<f64>,
    /// The label of the returned series that names the service (live watches); when it is not
    /// `service`, its value is copied to a `service` label so analysis can tie the series.
    #[serde(default)]
    pub service_label: Option<String>,
    /// The firing alert this watch was made for (rule-expression history): series whose labels
    /// disagree with it are dropped, the rest get its `alertname` and service labels.
    #[serde(default)]
    pub alert_labels: Option<crate::domain::Labels>,
}

pub trait MetricsSource: Send + Sync {
    /// Range query over `[start, end]` (unix seconds), step-aligned.
    fn query_range<'a>(
        &'a self,
        query: &'a str,
        start: i64,
        end: i64,
        step: i64,
    ) -> BoxFuture<'a, Result<Vec<Series>, SourceError>>;
}

pub trait AlertSource: Send + Sync {
    /// Active (firing and suppressed) alerts, as Alertmanager reports them.
    fn alerts(&self) -> BoxFuture<'_, Result<Vec<Alert>, SourceError>>;
}

pub trait LogSource: Send + Sync {
    /// LogQL range query over `[start_ns, end_ns]`, newest first up to `limit` lines.
    fn query_range<'a>(
        &'a self,
        query: &'a str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<LogStream>, SourceError>>;
}

/// A clock, so replay and tests can run at a fixed or moving time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock frozen at one instant (tests, `--at`).
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

impl SourceError {
    pub fn kind(&self) -> SourceKind {
        match self {
            SourceError::Unreachable { kind, .. }
            | SourceError::Timeout { kind, .. }
            | SourceError::Http { kind, .. }
            | SourceError::Auth { kind, .. }
            | SourceError::Decode { kind, .. }
            | SourceError::Query { kind, .. } => *kind,
        }
    }
}

/// Whether `name` is a valid Prometheus/Loki label name (`[a-zA-Z_][a-zA-Z0-9_]*`), so it can be
/// put into a request path (`/label/NAME/values`) without changing the path.
pub fn is_label_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
