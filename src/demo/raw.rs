//! The scenario file's schema, as serde reads it. Every table rejects unknown fields, so a
//! typo — or an attempt to smuggle the answer in as a flag such as `root_cause = true` — is an
//! error that names the file and the field.

use serde::Deserialize;

use crate::domain::Labels;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub(super) name: String,
    pub(super) seed: u64,
    pub(super) history_hours: i64,
    pub(super) step_secs: i64,
    #[serde(default)]
    pub(super) common_labels: Labels,
    #[serde(default)]
    pub(super) topology: Vec<RawEdge>,
    #[serde(default)]
    pub(super) series: Vec<RawSeries>,
    #[serde(default)]
    pub(super) alerts: Vec<RawAlert>,
    #[serde(default)]
    pub(super) logs: Vec<RawStream>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEdge {
    pub(super) from: String,
    pub(super) to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeries {
    pub(super) metric: String,
    #[serde(default)]
    pub(super) labels: Labels,
    pub(super) base: f64,
    #[serde(default)]
    pub(super) daily_amplitude: f64,
    #[serde(default)]
    pub(super) peak_hour: f64,
    #[serde(default)]
    pub(super) noise: f64,
    pub(super) capacity: Option<f64>,
    pub(super) slo: Option<f64>,
    pub(super) min: Option<f64>,
    pub(super) max: Option<f64>,
    #[serde(default)]
    pub(super) effects: Vec<RawEffect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEffect {
    pub(super) kind: String,
    pub(super) start_min: i64,
    pub(super) end_min: Option<i64>,
    pub(super) magnitude: Option<f64>,
    pub(super) ramp_mins: Option<i64>,
    pub(super) per_hour: Option<f64>,
    pub(super) period_mins: Option<i64>,
    pub(super) on_mins: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlert {
    pub(super) labels: Labels,
    #[serde(default)]
    pub(super) annotations: Labels,
    pub(super) start_min: i64,
    pub(super) end_min: Option<i64>,
    pub(super) flap: Option<RawFlap>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlap {
    pub(super) period_mins: i64,
    pub(super) firing_mins: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStream {
    pub(super) labels: Labels,
    #[serde(default)]
    pub(super) templates: Vec<RawTemplate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
    pub(super) text: String,
    pub(super) per_min: Option<f64>,
    pub(super) at_min: Option<i64>,
    pub(super) start_min: Option<i64>,
    pub(super) end_min: Option<i64>,
}
