//! The validated scenario the generators work from. Times are seconds relative to the anchor.

use super::logs::Part;
use crate::domain::{Edge, Labels};

/// The validated scenario. Times are seconds relative to the anchor.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub name: String,
    pub seed: u64,
    pub history_secs: i64,
    pub step_secs: i64,
    pub topology: Vec<Edge>,
    pub series: Vec<SeriesModel>,
    pub alerts: Vec<AlertModel>,
    pub streams: Vec<StreamModel>,
}

#[derive(Clone, Debug)]
pub(crate) struct SeriesModel {
    pub id: String,
    /// Includes `__name__`.
    pub labels: Labels,
    /// Keys the noise draws by name, so adding a series leaves the others unchanged.
    pub key: u64,
    pub base: f64,
    pub amplitude: f64,
    pub peak_hour: f64,
    pub noise: f64,
    pub capacity: Option<f64>,
    /// SLO objective of an error-ratio series.
    pub slo: Option<f64>,
    pub min: f64,
    pub max: f64,
    pub effects: Vec<Effect>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    Step {
        magnitude: f64,
    },
    Ramp {
        magnitude: f64,
        secs: i64,
    },
    Linear {
        per_hour: f64,
    },
    Spike {
        magnitude: f64,
        secs: i64,
    },
    Pulse {
        magnitude: f64,
        period: i64,
        on: i64,
    },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Effect {
    pub shape: Shape,
    pub start: i64,
    pub end: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct AlertModel {
    pub labels: Labels,
    pub annotations: Labels,
    pub fingerprint: String,
    pub start: i64,
    pub end: Option<i64>,
    /// (period, firing) in seconds.
    pub flap: Option<(i64, i64)>,
}

#[derive(Clone, Debug)]
pub(crate) struct StreamModel {
    pub labels: Labels,
    pub key: u64,
    pub templates: Vec<TemplateModel>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Emit {
    /// Poisson with this mean per minute, inside `[start, end)` minutes when given.
    Rate {
        per_min: f64,
        start: Option<i64>,
        end: Option<i64>,
    },
    /// Exactly one line during this minute.
    Once { at_min: i64 },
}

#[derive(Clone, Debug)]
pub(crate) struct TemplateModel {
    pub parts: Vec<Part>,
    pub key: u64,
    pub emit: Emit,
}
