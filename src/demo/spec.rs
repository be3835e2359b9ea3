//! Validation of the scenario file (see [`super::raw`]) into the model the generators use
//! (see [`super::model`]).

use std::collections::{BTreeMap, BTreeSet};

use super::check::{is_metric_name, Check};
use super::logs::parse_template;
use super::model::{
    AlertModel, Effect, Emit, Model, SeriesModel, Shape, StreamModel, TemplateModel,
};
use super::raw::{RawAlert, RawEffect, RawScenario, RawSeries, RawTemplate};
use super::rng::name_key;
use super::ScenarioError;
use crate::domain::alert::fingerprint;
use crate::domain::series::series_id;
use crate::domain::{Edge, Labels};

pub(crate) fn compile(raw: RawScenario, origin: &str) -> Result<Model, ScenarioError> {
    let c = Check { origin };
    c.ensure(
        !raw.name.trim().is_empty(),
        "scenario",
        "name",
        "\"\"",
        "must not be empty",
    )?;
    c.ensure(
        (1..=24 * 90).contains(&raw.history_hours),
        "scenario",
        "history_hours",
        raw.history_hours,
        "must be between 1 and 2160",
    )?;
    c.ensure(
        (1..=3600).contains(&raw.step_secs),
        "scenario",
        "step_secs",
        raw.step_secs,
        "must be between 1 and 3600",
    )?;
    c.no_answer_keys("scenario", "common_labels", &raw.common_labels)?;
    let common = c.labels("common_labels", &Labels::new(), &raw.common_labels)?;
    let mut topology = Vec::new();
    for (i, e) in raw.topology.iter().enumerate() {
        let place = format!("topology #{}", i + 1);
        c.ensure(
            !e.from.is_empty() && !e.to.is_empty(),
            &place,
            "from/to",
            format!("{:?} -> {:?}", e.from, e.to),
            "service names must not be empty",
        )?;
        c.ensure(
            e.from != e.to,
            &place,
            "to",
            format!("{:?}", e.to),
            "a service cannot depend on itself",
        )?;
        topology.push(Edge {
            from: e.from.clone(),
            to: e.to.clone(),
        });
    }
    let mut ids = BTreeSet::new();
    let mut series = Vec::new();
    for (i, s) in raw.series.iter().enumerate() {
        let model = compile_series(&c, &common, i, s)?;
        c.ensure(
            ids.insert(model.id.clone()),
            &format!("series #{}", i + 1),
            "labels",
            &model.id,
            "duplicates an earlier series",
        )?;
        series.push(model);
    }
    let mut fingerprints = BTreeSet::new();
    let mut alerts = Vec::new();
    for (i, a) in raw.alerts.iter().enumerate() {
        let model = compile_alert(&c, &common, i, a)?;
        let place = format!("alert #{}", i + 1);
        c.ensure(
            fingerprints.insert(model.fingerprint.clone()),
            &place,
            "labels",
            format!("{:?}", model.labels),
            "duplicates an earlier alert's labels",
        )?;
        alerts.push(model);
    }
    let mut streams = Vec::new();
    let mut stream_sets = BTreeSet::new();
    for (i, s) in raw.logs.iter().enumerate() {
        let place = format!("logs #{}", i + 1);
        c.no_answer_keys(&place, "labels", &s.labels)?;
        let labels = c.labels(&place, &common, &s.labels)?;
        c.ensure(
            !labels.is_empty(),
            &place,
            "labels",
            "{}",
            "a log stream needs at least one label",
        )?;
        c.ensure(
            stream_sets.insert(labels.clone()),
            &place,
            "labels",
            format!("{labels:?}"),
            "duplicates an earlier stream",
        )?;
        let key = name_key(&format!("{labels:?}"));
        let mut templates = Vec::new();
        for (j, t) in s.templates.iter().enumerate() {
            templates.push(compile_template(
                &c,
                &format!("{place} template #{}", j + 1),
                t,
            )?);
        }
        streams.push(StreamModel {
            labels,
            key,
            templates,
        });
    }
    Ok(Model {
        name: raw.name,
        seed: raw.seed,
        history_secs: raw.history_hours * 3600,
        step_secs: raw.step_secs,
        topology,
        series,
        alerts,
        streams,
    })
}

fn compile_series(
    c: &Check,
    common: &Labels,
    i: usize,
    s: &RawSeries,
) -> Result<SeriesModel, ScenarioError> {
    let place = format!("series #{} ({})", i + 1, s.metric);
    c.ensure(
        is_metric_name(&s.metric),
        &place,
        "metric",
        format!("{:?}", s.metric),
        "metric names are [a-zA-Z_:][a-zA-Z0-9_:]*",
    )?;
    c.no_answer_keys(&place, "labels", &s.labels)?;
    let mut labels = c.labels(&place, common, &s.labels)?;
    labels.insert("__name__".into(), s.metric.clone());
    c.ensure(
        s.base.is_finite(),
        &place,
        "base",
        s.base,
        "must be a finite number",
    )?;
    c.ensure(
        (0.0..1.0).contains(&s.daily_amplitude),
        &place,
        "daily_amplitude",
        s.daily_amplitude,
        "must be in [0, 1) (relative to base)",
    )?;
    c.ensure(
        (0.0..24.0).contains(&s.peak_hour),
        &place,
        "peak_hour",
        s.peak_hour,
        "must be an hour of the day in [0, 24)",
    )?;
    c.ensure(
        (0.0..=1.0).contains(&s.noise),
        &place,
        "noise",
        s.noise,
        "must be in [0, 1] (relative standard deviation)",
    )?;
    if let Some(cap) = s.capacity {
        c.ensure(
            cap.is_finite() && cap > 0.0,
            &place,
            "capacity",
            cap,
            "must be a positive number",
        )?;
    }
    if let Some(slo) = s.slo {
        c.ensure(
            crate::config::check_slo(slo).is_ok(),
            &place,
            "slo",
            slo,
            "must be a ratio strictly between 0 and 1, such as 0.999",
        )?;
    }
    let min = s.min.unwrap_or(0.0);
    let max = s.max.unwrap_or(f64::INFINITY);
    c.ensure(
        !min.is_nan() && !max.is_nan() && min < max,
        &place,
        "min/max",
        format!("{min}/{max}"),
        "min must be below max",
    )?;
    let effects = s
        .effects
        .iter()
        .enumerate()
        .map(|(j, e)| compile_effect(c, &format!("{place} effect #{}", j + 1), e))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SeriesModel {
        id: series_id(&labels),
        key: name_key(&series_id(&labels)),
        labels,
        base: s.base,
        amplitude: s.daily_amplitude,
        peak_hour: s.peak_hour,
        noise: s.noise,
        capacity: s.capacity,
        slo: s.slo,
        min,
        max,
        effects,
    })
}

fn compile_effect(c: &Check, place: &str, e: &RawEffect) -> Result<Effect, ScenarioError> {
    let need_f = |field: &str, v: Option<f64>| -> Result<f64, ScenarioError> {
        match v {
            Some(x) if x.is_finite() => Ok(x),
            Some(x) => c.fail(place, field, x, "must be a finite number"),
            None => c.fail(
                place,
                field,
                "(missing)",
                &format!("kind {:?} needs it", e.kind),
            ),
        }
    };
    let need_mins = |field: &str, v: Option<i64>| -> Result<i64, ScenarioError> {
        match v {
            Some(x) if x > 0 => Ok(x * 60),
            Some(x) => c.fail(place, field, x, "must be a positive number of minutes"),
            None => c.fail(
                place,
                field,
                "(missing)",
                &format!("kind {:?} needs it", e.kind),
            ),
        }
    };
    for (field, v) in [
        ("start_min", Some(e.start_min)),
        ("end_min", e.end_min),
        ("ramp_mins", e.ramp_mins),
        ("period_mins", e.period_mins),
        ("on_mins", e.on_mins),
    ] {
        c.minutes(place, field, v)?;
    }
    if let Some(end) = e.end_min {
        c.ensure(
            end > e.start_min,
            place,
            "end_min",
            end,
            "must be after start_min",
        )?;
    }
    let shape = match e.kind.as_str() {
        "step" => Shape::Step {
            magnitude: need_f("magnitude", e.magnitude)?,
        },
        "ramp" => Shape::Ramp {
            magnitude: need_f("magnitude", e.magnitude)?,
            secs: need_mins("ramp_mins", e.ramp_mins)?,
        },
        "linear" => Shape::Linear {
            per_hour: need_f("per_hour", e.per_hour)?,
        },
        "spike" => Shape::Spike {
            magnitude: need_f("magnitude", e.magnitude)?,
            secs: (e.end_min.unwrap_or(e.start_min + 5) - e.start_min) * 60,
        },
        "pulse" => {
            let period = need_mins("period_mins", e.period_mins)?;
            let on = need_mins("on_mins", e.on_mins)?;
            c.ensure(
                on < period,
                place,
                "on_mins",
                on / 60,
                "must be shorter than period_mins",
            )?;
            Shape::Pulse {
                magnitude: need_f("magnitude", e.magnitude)?,
                period,
                on,
            }
        }
        other => {
            return c.fail(
                place,
                "kind",
                format!("{other:?}"),
                "expected one of step, ramp, linear, spike, pulse",
            )
        }
    };
    Ok(Effect {
        shape,
        start: e.start_min * 60,
        end: e.end_min.map(|m| m * 60),
    })
}

fn compile_alert(
    c: &Check,
    common: &Labels,
    i: usize,
    a: &RawAlert,
) -> Result<AlertModel, ScenarioError> {
    let name = a.labels.get("alertname").cloned().unwrap_or_default();
    let place = format!("alert #{} ({name})", i + 1);
    c.ensure(
        !name.is_empty(),
        &place,
        "labels.alertname",
        "(missing)",
        "every alert needs an alertname label",
    )?;
    for (field, v) in [
        ("start_min", Some(a.start_min)),
        ("end_min", a.end_min),
        ("flap.period_mins", a.flap.as_ref().map(|f| f.period_mins)),
        ("flap.firing_mins", a.flap.as_ref().map(|f| f.firing_mins)),
    ] {
        c.minutes(&place, field, v)?;
    }
    c.no_answer_keys(&place, "labels", &a.labels)?;
    c.no_answer_keys(&place, "annotations", &a.annotations)?;
    let severity = a
        .labels
        .get("severity")
        .map(String::as_str)
        .unwrap_or("(missing)");
    c.ensure(
        ["critical", "warning", "info"].contains(&severity),
        &place,
        "labels.severity",
        format!("{severity:?}"),
        "must be critical, warning or info",
    )?;
    let labels = c.labels(&place, common, &a.labels)?;
    if let Some(end) = a.end_min {
        c.ensure(
            end > a.start_min,
            &place,
            "end_min",
            end,
            "must be after start_min",
        )?;
    }
    let flap = match &a.flap {
        Some(f) => {
            c.ensure(
                f.period_mins > 0,
                &place,
                "flap.period_mins",
                f.period_mins,
                "must be positive",
            )?;
            c.ensure(
                f.firing_mins > 0 && f.firing_mins < f.period_mins,
                &place,
                "flap.firing_mins",
                f.firing_mins,
                "must be positive and shorter than period_mins",
            )?;
            Some((f.period_mins * 60, f.firing_mins * 60))
        }
        None => None,
    };
    let annotations: BTreeMap<_, _> = a.annotations.clone();
    Ok(AlertModel {
        fingerprint: fingerprint(&labels),
        labels,
        annotations,
        start: a.start_min * 60,
        end: a.end_min.map(|m| m * 60),
        flap,
    })
}

fn compile_template(
    c: &Check,
    place: &str,
    t: &RawTemplate,
) -> Result<TemplateModel, ScenarioError> {
    let parts = match parse_template(&t.text) {
        Ok(parts) => parts,
        Err(problem) => return c.fail(place, "text", format!("{:?}", t.text), &problem),
    };
    for (field, v) in [
        ("at_min", t.at_min),
        ("start_min", t.start_min),
        ("end_min", t.end_min),
    ] {
        c.minutes(place, field, v)?;
    }
    let emit = match (t.per_min, t.at_min) {
        (Some(rate), None) => {
            c.ensure(
                rate > 0.0 && rate <= 600.0,
                place,
                "per_min",
                rate,
                "must be in (0, 600]",
            )?;
            if let (Some(s), Some(e)) = (t.start_min, t.end_min) {
                c.ensure(e > s, place, "end_min", e, "must be after start_min")?;
            }
            Emit::Rate {
                per_min: rate,
                start: t.start_min,
                end: t.end_min,
            }
        }
        (None, Some(at_min)) => {
            c.ensure(
                t.start_min.is_none() && t.end_min.is_none(),
                place,
                "start_min/end_min",
                "(set)",
                "a one-off line (at_min) takes no window",
            )?;
            Emit::Once { at_min }
        }
        (Some(_), Some(_)) => {
            return c.fail(
                place,
                "per_min/at_min",
                "(both set)",
                "give either a rate (per_min) or a one-off minute (at_min)",
            )
        }
        (None, None) => {
            return c.fail(
                place,
                "per_min/at_min",
                "(missing)",
                "give either a rate (per_min) or a one-off minute (at_min)",
            )
        }
    };
    Ok(TemplateModel {
        parts,
        key: name_key(&t.text),
        emit,
    })
}
