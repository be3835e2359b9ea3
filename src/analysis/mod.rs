//! Pure analysis: anomaly scores, forecasts, log patterns, grouping, ranking and likely cause.
//! No tokio, reqwest or rusqlite in here: everything works on plain vectors and is synchronous.

pub mod anomaly;
pub mod cause;
pub mod corrections;
pub mod correlate;
pub mod flap;
pub mod forecast;
pub mod nab;
pub mod patterns;
pub mod pipeline;
pub mod rank;
pub mod rca;
pub mod seasonal;
pub mod similarity;
pub mod slo;
pub mod stats;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::runbook::Runbook;
use crate::domain::{Alert, AlertState, Edge, Incident, LogStream, Series};

pub use pipeline::{
    analyze, analyze_cached, analyze_reading_runbooks, analyze_reading_runbooks_cached,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
    None,
}

/// Per-point anomaly result for one series (same length as the series).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesAnomaly {
    pub series_id: String,
    pub expected: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// 0..1 per point, causal, as the model gives them (before the series' sensitivity; the
    /// chart and the backtest apply it themselves).
    pub scores: Vec<f64>,
    /// Start (unix seconds) of the current anomalous run, if the series is anomalous now
    /// (judged after the series' sensitivity).
    pub onset: Option<i64>,
    /// Highest score over the recent window, after the series' sensitivity.
    pub peak_score: f64,
    /// Size of the recent deviation in robust standard deviations (signed).
    pub deviation_sigma: f64,
    pub direction: Direction,
    /// One line for an engineer, e.g. "3.4σ above its usual level since 14:05".
    pub explanation: String,
}

/// A capacity forecast: when a series reaches its limit, with an interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapacityForecast {
    pub series_id: String,
    pub capacity: f64,
    /// Future timestamps (unix seconds) and the forecast at each.
    pub timestamps: Vec<i64>,
    pub point: Vec<f64>,
    pub lower95: Vec<f64>,
    pub upper95: Vec<f64>,
    /// Estimated time the limit is reached (unix seconds) with a 95 % interval.
    pub eta: Option<i64>,
    pub eta_earliest: Option<i64>,
    pub eta_latest: Option<i64>,
    /// e.g. "full in 5 h 10 m (95 %: 4 h 20 m – 6 h 30 m)".
    pub text: String,
}

/// One mined log pattern with its recent history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatternSummary {
    pub id: String,
    /// Template with `<*>` for variable parts.
    pub template: String,
    pub service: Option<String>,
    pub count: u64,
    /// Counts per bucket, oldest first (for sparklines).
    pub buckets: Vec<u64>,
    pub bucket_secs: i64,
    /// Unix nanoseconds of the first line seen.
    pub first_seen_ns: i64,
    /// Unix nanoseconds of the last line seen.
    #[serde(default)]
    pub last_seen_ns: i64,
    /// Absent from the baseline window.
    pub is_new: bool,
    /// Rate now well above its baseline rate.
    pub is_surge: bool,
    /// Recent rate / baseline rate (baseline floored so new patterns stay finite).
    pub surge_ratio: f64,
    /// NEW, SURGE or VANISHED, from `patterns::change` (`is_new` / `is_surge` mirror it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<PatternChange>,
    /// A few raw lines.
    pub examples: Vec<String>,
}

/// A log pattern's change (see `patterns::change`), dated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatternChange {
    pub kind: patterns::change::ChangeKind,
    /// Unix nanoseconds it dates from: NEW its first line, SURGE the start of its first
    /// surging interval, VANISHED its last line.
    pub at_ns: i64,
    /// Lines in the interval that scored (VANISHED: 0).
    pub count: u64,
    /// Baseline lines per interval it was measured against (SURGE: the anomaly model's
    /// expectation for the scored interval, at least `patterns::change::RATE_FLOOR`).
    pub expected: f64,
    /// SURGE: `−log10` of the Poisson tail probability at the pattern's usual peak rate;
    /// VANISHED: expected lines missed; NEW: lines since it appeared.
    pub score: f64,
    /// SURGE: how far the scored interval is above the anomaly model's expectation, in the
    /// model's σ; 0 otherwise (and for summaries stored before it was recorded).
    #[serde(default)]
    pub sigma: f64,
}

/// A change of state of one alert, as the app observed it across polls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub fingerprint: String,
    pub at: DateTime<Utc>,
    pub state: AlertState,
}

/// Everything one analysis run looks at. Owned, so it can move to a blocking task.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub now: DateTime<Utc>,
    pub alerts: Vec<Alert>,
    pub transitions: Vec<Transition>,
    pub series: Vec<Series>,
    pub logs: Vec<LogStream>,
    pub topology: Vec<Edge>,
    pub runbooks: Vec<Runbook>,
    /// Grouping corrections the engineer made (`analysis::corrections`), oldest first.
    pub grouping_rules: Vec<corrections::GroupingRule>,
}

/// What one analysis run produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub generated_at: DateTime<Utc>,
    /// Ranked, most urgent first.
    pub incidents: Vec<Incident>,
    pub anomalies: BTreeMap<String, SeriesAnomaly>,
    pub forecasts: BTreeMap<String, CapacityForecast>,
    pub patterns: Vec<PatternSummary>,
    /// Runbooks read from files that alerts' `runbook_url`s name (not among the loaded ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub url_runbooks: Vec<Runbook>,
}
