//! Level shifts: whether an anomalous series moved to a new level (a deploy, a config change)
//! rather than spiking, found with augurs' Bayesian online changepoint detector (BOCPD).
//!
//! * **Input.** The newest [`WINDOW_POINTS`] finite values, standardised by their median and
//!   robust spread (BOCPD's default prior expects values of order one).
//! * **Verdict.** The changepoints cut the window into segments. Going from the newest, a
//!   segment of at least [`MIN_SEGMENT`] points is a candidate new level; segments shorter than
//!   that before it are the transition (a ramp of a few points); the long segment before those
//!   is the old level. It is a level shift when the two medians differ by at least
//!   [`MIN_SHIFT_SIGMA`] robust standard deviations of the old level, and the old level was
//!   flat (its first and last thirds differ by less than a third of the shift). So a spike of a
//!   few points is not a level shift, nor is drift within the noise, nor a steady trend.
//!
//! BOCPD costs about 0.1 ms per point, so the pipeline runs it only for series that are
//! anomalous now.
use augurs::changepoint::{Detector, NormalGammaDetector};

use crate::analysis::stats::{median_mut, MAD_SCALE};
use crate::domain::Series;

/// Values looked at (the newest ones).
pub const WINDOW_POINTS: usize = 180;
/// Fewest points on each side of a shift.
pub const MIN_SEGMENT: usize = 10;
/// Smallest shift, in robust standard deviations of the segment before it.
pub const MIN_SHIFT_SIGMA: f64 = 3.0;

/// A change of level.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelShift {
    /// Unix seconds of the first point at the new level.
    pub at: i64,
    /// Median before and after.
    pub before: f64,
    pub after: f64,
}

impl LevelShift {
    /// "a level shift at 14:05 UTC from 101 to 312 (changepoint)"; `now` decides whether the
    /// date is shown.
    pub fn describe(&self, now: i64) -> String {
        format!(
            "a level shift at {} from {} to {} (changepoint)",
            super::clock(self.at, now),
            super::peers::short(self.before),
            super::peers::short(self.after)
        )
    }
}

/// The newest level shift of `series`, if there is one (see the module notes).
pub fn level_shift(series: &Series) -> Option<LevelShift> {
    let points: Vec<(i64, f64)> = series
        .timestamps
        .iter()
        .copied()
        .zip(series.values.iter().copied())
        .filter(|(_, v)| v.is_finite())
        .collect();
    let points = &points[points.len().saturating_sub(WINDOW_POINTS)..];
    if points.len() < 2 * MIN_SEGMENT {
        return None;
    }
    let values: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
    let center = median(&values)?;
    // The median absolute deviation is zero when most values are equal (a counter that
    // stepped once): fall back to the mean absolute deviation.
    let mean_ad = values.iter().map(|v| (v - center).abs()).sum::<f64>() / values.len() as f64;
    let scale = robust_sd(&values, center)
        .filter(|s| *s > 0.0)
        .or_else(|| Some(mean_ad * 1.2533).filter(|s| *s > 0.0))?;
    let z: Vec<f64> = values.iter().map(|v| (v - center) / scale).collect();
    let mut detector = NormalGammaDetector::default();
    // BOCPD gives the last index before each change: the new level starts one later.
    let starts: Vec<usize> = detector
        .detect_changepoints(&z)
        .into_iter()
        .map(|cp| cp + 1)
        .filter(|s| *s > 0 && *s < values.len())
        .collect();
    // Segment bounds: 0, each start, len.
    let mut bounds = vec![0];
    bounds.extend(starts.iter().copied().filter(|s| *s > 0));
    bounds.push(values.len());
    bounds.dedup();
    // Newest first: a long segment (the new level), then, going back over short segments (the
    // transition, e.g. a ramp of a few points), the long segment before it (the old level).
    for j in (1..bounds.len() - 1).rev() {
        let after = &values[bounds[j]..bounds[j + 1]];
        if after.len() < MIN_SEGMENT {
            continue;
        }
        let mut k = j;
        while k > 0 && bounds[k] - bounds[k - 1] < MIN_SEGMENT {
            k -= 1;
        }
        if k == 0 {
            continue;
        }
        let before = &values[bounds[k - 1]..bounds[k]];
        let (Some(b), Some(a)) = (median(before), median(after)) else {
            continue;
        };
        let shift = (a - b).abs();
        let spread = robust_sd(before, b)
            .unwrap_or(0.0)
            .max(0.005 * b.abs())
            .max(1e-9);
        // A trend is not a shift: the old level must have been flat compared with the move.
        let third = before.len() / 3;
        let drift = match (
            median(&before[..third]),
            median(&before[before.len() - third..]),
        ) {
            (Some(x), Some(y)) => (y - x).abs(),
            _ => f64::INFINITY,
        };
        if shift >= MIN_SHIFT_SIGMA * spread && drift < shift / 3.0 {
            return Some(LevelShift {
                at: points[bounds[k]].0,
                before: b,
                after: a,
            });
        }
    }
    None
}

fn median(values: &[f64]) -> Option<f64> {
    let mut buf = values.to_vec();
    median_mut(&mut buf)
}

/// Scaled median absolute deviation about `center`.
fn robust_sd(values: &[f64], center: f64) -> Option<f64> {
    let mut dev: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median_mut(&mut dev).map(|m| m * MAD_SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: Vec<f64>) -> Series {
        Series {
            id: "s".into(),
            timestamps: (0..values.len() as i64).map(|i| 60 * i).collect(),
            values,
            ..Series::default()
        }
    }

    /// Deterministic noise of about ±2 % around `level`.
    fn noisy(level: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| level * (1.0 + 0.02 * (((i * 7) % 11) as f64 - 5.0) / 5.0))
            .collect()
    }

    #[test]
    fn a_step_is_a_level_shift_at_the_step() {
        let mut v = noisy(100.0, 120);
        v.extend(noisy(200.0, 40));
        let shift = level_shift(&series(v)).expect("a level shift");
        assert!((shift.at - 60 * 120).abs() <= 120, "{shift:?}");
        assert!((shift.before - 100.0).abs() < 3.0 && (shift.after - 200.0).abs() < 5.0);
        assert!(shift
            .describe(60 * 160)
            .starts_with("a level shift at 02:0"));
    }

    #[test]
    fn a_spike_noise_or_too_little_data_is_not_a_level_shift() {
        let mut spike = noisy(100.0, 150);
        for v in &mut spike[100..103] {
            *v = 400.0;
        }
        assert_eq!(level_shift(&series(spike)), None);
        assert_eq!(level_shift(&series(noisy(100.0, 150))), None);
        let mut short = noisy(100.0, 10);
        short.extend(noisy(200.0, 5));
        assert_eq!(level_shift(&series(short)), None);
        assert_eq!(level_shift(&series(vec![5.0; 100])), None);
        let mut gaps = noisy(100.0, 100);
        gaps.extend([f64::NAN, f64::INFINITY]);
        gaps.extend(noisy(300.0, 30));
        let shift = level_shift(&series(gaps)).expect("a level shift across missing points");
        assert!((shift.at - 60 * 102).abs() <= 120, "{shift:?}");
    }

    #[test]
    fn a_short_ramp_is_a_shift_from_its_start_and_a_steady_trend_is_none() {
        let mut v = noisy(100.0, 120);
        v.extend((1..=6).map(|i| 100.0 + 50.0 * f64::from(i)));
        v.extend(noisy(400.0, 40));
        let shift = level_shift(&series(v)).expect("a level shift");
        assert!((shift.at - 60 * 120).abs() <= 180, "{shift:?}");
        assert!((shift.after - 400.0).abs() < 10.0, "{shift:?}");
        let trend: Vec<f64> = (0..180).map(|i| 50.0 + 0.2 * f64::from(i)).collect();
        assert_eq!(level_shift(&series(trend)), None);
        // A generation counter that stepped once, with no noise at all.
        let mut generation = vec![41.0; 150];
        generation.extend(vec![42.0; 30]);
        let shift = level_shift(&series(generation)).expect("a level shift");
        assert_eq!(
            (shift.at, shift.before, shift.after),
            (60 * 150, 41.0, 42.0)
        );
    }
}
