//! The demo scenario: a TOML description of a small system (series, alerts, log streams,
//! topology) turned into data as pure functions of time.
//!
//! Times in the file are minutes relative to an *anchor* (the wall-clock instant of scenario
//! minute 0; negative = before). Every value, alert and log line is a deterministic function of
//! the seed, its own name and its timestamp, so any window can be produced on its own, in any
//! order, and the replay can keep moving forward with the clock.

mod check;
pub mod export;
mod logs;
mod model;
mod raw;
mod rng;
pub mod selector;
mod spec;
mod values;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{Alert, AlertState, Edge, Labels, LogEntry, LogStream, Series};
use crate::sources::Watch;
use model::Model;
use raw::RawScenario;

/// Where the embedded scenario comes from, as named in error messages.
pub const EMBEDDED_ORIGIN: &str = "embedded:assets/demo/scenario.toml";

/// At most this many points per series are produced by one call (a guard against absurd
/// windows; Prometheus itself refuses more than 11,000 per query).
pub const MAX_POINTS_PER_SERIES: usize = 1_000_000;

const NS_PER_SEC: i64 = 1_000_000_000;

/// A scenario file that could not be read. Every message names the file (`origin`).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not valid TOML, a wrong type, a missing or an unknown field.
    #[error("{origin}: {detail}")]
    Parse { origin: String, detail: String },
    /// Valid TOML, but a value is out of range or inconsistent.
    #[error("{origin}: {place}: `{field}` = {value}: {problem}")]
    Invalid {
        origin: String,
        place: String,
        field: String,
        value: String,
        problem: String,
    },
}

/// A validated scenario, ready to generate data.
#[derive(Clone, Debug)]
pub struct Scenario {
    model: Model,
}

impl Scenario {
    /// The scenario shipped in the binary (`assets/demo/scenario.toml`).
    pub fn embedded() -> Result<Scenario, ScenarioError> {
        Scenario::from_toml(
            include_str!("../../assets/demo/scenario.toml"),
            EMBEDDED_ORIGIN,
        )
    }

    /// Reads a scenario from TOML text; `origin` (a path or `embedded:...`) names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            origin: origin.to_string(),
            detail: e.to_string().trim_end().to_string(),
        })?;
        Ok(Scenario {
            model: spec::compile(raw, origin)?,
        })
    }

    /// Reads a scenario file from disk.
    pub fn from_path(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Parse {
            origin: origin.clone(),
            detail: format!("cannot read the file: {e}"),
        })?;
        Scenario::from_toml(&text, &origin)
    }

    pub fn name(&self) -> &str {
        &self.model.name
    }

    /// Dependency edges: `from` calls `to`.
    pub fn topology(&self) -> Vec<Edge> {
        self.model.topology.clone()
    }

    /// One watch per series: the exact selector of that series, the scenario step and the
    /// series' capacity and SLO objective.
    pub fn watches(&self) -> Vec<Watch> {
        self.model
            .series
            .iter()
            .map(|s| Watch {
                name: s.id.clone(),
                query: s.id.clone(),
                step: self.model.step_secs,
                capacity: s.capacity,
                slo: s.slo,
                service_label: None,
                alert_labels: None,
            })
            .collect()
    }

    /// Ids (exact selectors) of every series, in file order.
    pub fn series_ids(&self) -> Vec<String> {
        self.model.series.iter().map(|s| s.id.clone()).collect()
    }

    /// How much history (before the anchor) the scenario holds, in seconds.
    pub fn history_secs(&self) -> i64 {
        self.model.history_secs
    }

    /// The resolution of the scenario's series (and of their noise), in seconds.
    pub fn step_secs(&self) -> i64 {
        self.model.step_secs
    }

    /// Every series over `[start, end]` (unix seconds) at timestamps that are multiples of
    /// `step` (the scenario step when `step <= 0`). Nothing exists before `anchor - history`;
    /// the caller decides how far into the future to look. `capacity` is the scenario's.
    pub fn series_at(&self, anchor: DateTime<Utc>, start: i64, end: i64, step: i64) -> Vec<Series> {
        self.series_where(anchor, start, end, step, |_| true)
    }

    /// Like [`Scenario::series_at`], but only for the series whose labels pass `keep`
    /// (so a selector does not pay for generating every series).
    pub fn series_where(
        &self,
        anchor: DateTime<Utc>,
        start: i64,
        end: i64,
        step: i64,
        keep: impl Fn(&Labels) -> bool,
    ) -> Vec<Series> {
        let m = &self.model;
        let step = if step > 0 { step } else { m.step_secs };
        let anchor_s = anchor.timestamp();
        let first = start.max(anchor_s.saturating_sub(m.history_secs));
        let Some(first) = align_up(first, step) else {
            return Vec::new();
        };
        let count = if end < first {
            0
        } else {
            let span = (i128::from(end) - i128::from(first)) / i128::from(step) + 1;
            usize::try_from(span).map_or(MAX_POINTS_PER_SERIES, |n| n.min(MAX_POINTS_PER_SERIES))
        };
        let timestamps: Vec<i64> = (0..count as i64).map(|i| first + i * step).collect();
        m.series
            .iter()
            .filter(|s| keep(&s.labels))
            .map(|s| Series {
                id: s.id.clone(),
                labels: s.labels.clone(),
                values: timestamps
                    .iter()
                    .map(|t| values::value(s, m.seed, m.step_secs, anchor_s, *t))
                    .collect(),
                timestamps: timestamps.clone(),
                capacity: s.capacity,
                slo: s.slo,
                sensitivity: None,
            })
            .collect()
    }

    /// The alerts active (firing) at `now`, in Alertmanager's shape. A flapping alert's
    /// `starts_at` is the start of its current firing spell.
    pub fn alerts_at(&self, anchor: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Alert> {
        let rel = (now - anchor).num_seconds();
        self.model
            .alerts
            .iter()
            .filter_map(|a| {
                let since = rel.checked_sub(a.start)?;
                if since < 0 || a.end.is_some_and(|e| rel >= e) {
                    return None;
                }
                let spell_start = match a.flap {
                    Some((period, firing)) => {
                        let into = since.rem_euclid(period);
                        if into >= firing {
                            return None;
                        }
                        rel - into
                    }
                    None => a.start,
                };
                let starts_at = anchor.checked_add_signed(TimeDelta::try_seconds(spell_start)?)?;
                Some(Alert {
                    fingerprint: a.fingerprint.clone(),
                    labels: a.labels.clone(),
                    annotations: a.annotations.clone(),
                    starts_at,
                    ends_at: None,
                    state: AlertState::Firing,
                    generator_url: None,
                })
            })
            .collect()
    }

    /// Every log stream's lines in `[start_ns, end_ns]` (unix nanoseconds), newest first.
    /// Streams without lines in the window are left out, as Loki does.
    pub fn logs_at(&self, anchor: DateTime<Utc>, start_ns: i64, end_ns: i64) -> Vec<LogStream> {
        self.logs_where(anchor, start_ns, end_ns, |_| true)
    }

    /// Like [`Scenario::logs_at`], only for the streams whose labels pass `keep`.
    pub fn logs_where(
        &self,
        anchor: DateTime<Utc>,
        start_ns: i64,
        end_ns: i64,
        keep: impl Fn(&Labels) -> bool,
    ) -> Vec<LogStream> {
        let m = &self.model;
        let anchor_ns = unix_ns(anchor);
        let start_ns =
            start_ns.max(anchor_ns.saturating_sub(m.history_secs.saturating_mul(NS_PER_SEC)));
        if end_ns < start_ns {
            return Vec::new();
        }
        let (k0, k1) = (
            logs::minute_of(anchor_ns, start_ns),
            logs::minute_of(anchor_ns, end_ns),
        );
        m.streams
            .iter()
            .filter(|s| keep(&s.labels))
            .filter_map(|s| {
                let mut entries: Vec<LogEntry> = (k0..=k1)
                    .flat_map(|k| logs::minute_lines(m.seed, s, anchor_ns, k))
                    .filter(|e| (start_ns..=end_ns).contains(&e.ts_ns))
                    .collect();
                entries.sort_by(|a, b| b.ts_ns.cmp(&a.ts_ns).then_with(|| a.line.cmp(&b.line)));
                (!entries.is_empty()).then(|| LogStream {
                    labels: s.labels.clone(),
                    entries,
                })
            })
            .collect()
    }
}

/// The smallest multiple of `step` that is `>= t`.
fn align_up(t: i64, step: i64) -> Option<i64> {
    let r = t.rem_euclid(step);
    if r == 0 {
        Some(t)
    } else {
        t.checked_add(step - r)
    }
}

/// Unix nanoseconds of `t`, saturating outside the representable range.
pub(crate) fn unix_ns(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_up_rounds_to_the_next_multiple() {
        assert_eq!(align_up(120, 60), Some(120));
        assert_eq!(align_up(121, 60), Some(180));
        assert_eq!(align_up(-59, 60), Some(0));
        assert_eq!(align_up(i64::MAX, 60), None);
    }

    #[test]
    fn embedded_scenario_loads() {
        let s = Scenario::embedded().expect("the embedded scenario is valid");
        assert!(s.watches().len() >= 20);
        assert_eq!(s.step_secs(), 60);
    }
}
