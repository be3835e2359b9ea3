//! Metric values as a pure function of (seed, series, timestamp): a daily cosine around the
//! base, the effects that apply at that time, and multiplicative noise, clamped to the bounds.

use super::model::{Effect, SeriesModel, Shape};
use super::rng::{hash, normal, TAG_SERIES};

const DAY_SECS: i64 = 86_400;

/// Contribution of one effect at `rel` seconds from the anchor.
fn effect_at(e: &Effect, rel: i64) -> f64 {
    if rel < e.start || e.end.is_some_and(|end| rel >= end) {
        return 0.0;
    }
    let since = (rel - e.start) as f64;
    match e.shape {
        Shape::Step { magnitude } => magnitude,
        Shape::Ramp { magnitude, secs } => magnitude * (since / secs as f64).min(1.0),
        Shape::Linear { per_hour } => per_hour * since / 3600.0,
        Shape::Spike { magnitude, secs } => magnitude * (1.0 - since / secs as f64).max(0.0),
        Shape::Pulse {
            magnitude,
            period,
            on,
        } => {
            if (rel - e.start).rem_euclid(period) < on {
                magnitude
            } else {
                0.0
            }
        }
    }
}

/// The noiseless level at unix second `t` for an anchor at unix second `anchor`.
pub(crate) fn level(s: &SeriesModel, anchor: i64, t: i64) -> f64 {
    let hour = t.rem_euclid(DAY_SECS) as f64 / 3600.0;
    let phase = 2.0 * std::f64::consts::PI * (hour - s.peak_hour) / 24.0;
    let seasonal = s.base * (1.0 + s.amplitude * phase.cos());
    seasonal
        + s.effects
            .iter()
            .map(|e| effect_at(e, t - anchor))
            .sum::<f64>()
}

/// The value at unix second `t`. Noise is drawn per scenario step, keyed by the series name.
pub(crate) fn value(s: &SeriesModel, seed: u64, step: i64, anchor: i64, t: i64) -> f64 {
    let lvl = level(s, anchor, t);
    let bucket = t.div_euclid(step.max(1)) as u64;
    let z = if s.noise > 0.0 {
        normal(
            hash(&[seed, TAG_SERIES, s.key, bucket, 0]),
            hash(&[seed, TAG_SERIES, s.key, bucket, 1]),
        )
    } else {
        0.0
    };
    (lvl + s.noise * lvl.abs() * z).clamp(s.min, s.max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(shape: Shape, start: i64, end: Option<i64>) -> Effect {
        Effect { shape, start, end }
    }

    #[test]
    fn effect_shapes() {
        let ramp = effect(
            Shape::Ramp {
                magnitude: 10.0,
                secs: 600,
            },
            -600,
            None,
        );
        assert_eq!(effect_at(&ramp, -601), 0.0);
        assert_eq!(effect_at(&ramp, -300), 5.0);
        assert_eq!(effect_at(&ramp, 1_000), 10.0);
        let step = effect(Shape::Step { magnitude: 2.0 }, 0, Some(60));
        assert_eq!(effect_at(&step, 0), 2.0);
        assert_eq!(effect_at(&step, 60), 0.0);
        let lin = effect(Shape::Linear { per_hour: 3.0 }, -7_200, None);
        assert_eq!(effect_at(&lin, 0), 6.0);
        let spike = effect(
            Shape::Spike {
                magnitude: 4.0,
                secs: 300,
            },
            0,
            Some(300),
        );
        assert_eq!(effect_at(&spike, 0), 4.0);
        assert_eq!(effect_at(&spike, 150), 2.0);
        let pulse = effect(
            Shape::Pulse {
                magnitude: 1.0,
                period: 480,
                on: 180,
            },
            0,
            None,
        );
        assert_eq!(effect_at(&pulse, 100), 1.0);
        assert_eq!(effect_at(&pulse, 200), 0.0);
        assert_eq!(effect_at(&pulse, 480 + 10), 1.0);
    }
}
