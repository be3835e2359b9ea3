//! Multi-seasonal point forecasts with calibrated intervals (`pagerpilot forecast`, M4 harness).
//!
//! * **Periods.** `auto` takes the calendar periods a series' step makes possible (one day and one
//!   week, in steps) when the history holds at least two of them; otherwise none.
//! * **Point forecast.** A weighted mean of simple, robust forecasters; for each period: seasonal
//!   naive, a seasonal mean (the average of the same phase over the last [`SEASONAL_MEAN_CYCLES`]
//!   cycles, shifted to the level of the last cycle) and the same with a damped trend (slope
//!   between the last cycle and the oldest one averaged). Without a period: naive and the mean of
//!   the last few points. Weights are the inverse squared mean absolute error of each member over
//!   [`WEIGHT_ORIGINS`] rolling origins at the end of the history, so each series leans on what
//!   has worked for it.
//! * **Intervals.** Split-conformal from rolling origins: the same ensemble is refitted at up to
//!   [`ORIGINS`] earlier origins inside the history, its absolute errors are pooled per horizon
//!   neighbourhood, and the `level` quantile of those errors is the half-width. With no room for
//!   backtests the half-width comes from one-step seasonal differences, growing with √h.
//!
//! Missing values (NaN) are filled by linear interpolation before fitting.

use super::stats::quantile;

/// Cycles averaged by the seasonal mean.
pub const SEASONAL_MEAN_CYCLES: usize = 4;
/// Rolling origins used to weight the ensemble's members.
pub const WEIGHT_ORIGINS: usize = 5;
/// Rolling origins used to calibrate intervals.
pub const ORIGINS: usize = 12;

/// A forecast of `horizon` steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    pub point: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// Periods used (steps).
    pub periods: Vec<usize>,
}

/// Calendar periods (day, week) in steps of `step_secs` that fit twice into `n` points.
pub fn auto_periods(step_secs: i64, n: usize) -> Vec<usize> {
    if step_secs <= 0 {
        return Vec::new();
    }
    [86_400i64, 604_800]
        .iter()
        .filter(|&&p| p % step_secs == 0)
        .map(|&p| (p / step_secs) as usize)
        .filter(|&p| p >= 2 && n >= 2 * p)
        .collect()
}

/// Fills NaN by linear interpolation (edges take the nearest value); `None` if all are NaN.
pub fn fill_missing(y: &[f64]) -> Option<Vec<f64>> {
    let known: Vec<usize> = (0..y.len()).filter(|&i| y[i].is_finite()).collect();
    let (&first, &last) = (known.first()?, known.last()?);
    let mut out = y.to_vec();
    for v in out.iter_mut().take(first) {
        *v = y[first];
    }
    for v in out.iter_mut().skip(last + 1) {
        *v = y[last];
    }
    for w in known.windows(2) {
        let (a, b) = (w[0], w[1]);
        for (i, v) in out.iter_mut().enumerate().take(b).skip(a + 1) {
            let f = (i - a) as f64 / (b - a) as f64;
            *v = y[a] + f * (y[b] - y[a]);
        }
    }
    Some(out)
}

fn seasonal_naive(y: &[f64], p: usize, h: usize) -> Vec<f64> {
    let n = y.len();
    (0..h).map(|k| y[n - p + k % p]).collect()
}

fn seasonal_mean(y: &[f64], p: usize, h: usize, max_cycles: usize) -> Vec<f64> {
    let n = y.len();
    let cycles = (n / p).clamp(1, max_cycles);
    let profile: Vec<f64> = (0..p)
        .map(|j| (1..=cycles).map(|c| y[n - c * p + j]).sum::<f64>() / cycles as f64)
        .collect();
    let last_cycle = y[n - p..].iter().sum::<f64>() / p as f64;
    let profile_mean = profile.iter().sum::<f64>() / p as f64;
    (0..h)
        .map(|k| profile[k % p] + last_cycle - profile_mean)
        .collect()
}

fn members(y: &[f64], periods: &[usize], h: usize) -> Vec<Vec<f64>> {
    let n = y.len();
    let usable: Vec<usize> = periods
        .iter()
        .copied()
        .filter(|&p| p >= 2 && p <= n)
        .collect();
    let mut out: Vec<Vec<f64>> = Vec::new();
    for &p in &usable {
        out.push(seasonal_naive(y, p, h));
        out.push(seasonal_mean(y, p, h, SEASONAL_MEAN_CYCLES));
        out.push(seasonal_trend(y, p, h, SEASONAL_MEAN_CYCLES));
    }
    let k = n.min(5);
    let recent = y[n - k..].iter().sum::<f64>() / k as f64;
    if usable.is_empty() {
        out.push(vec![y[n - 1]; h]);
        out.push(vec![recent; h]);
    }
    out
}

/// Weights of the ensemble's members: inverse squared mean absolute error over a few rolling
/// origins at the end of the history (equal weights when there is no room to backtest).
fn member_weights(y: &[f64], periods: &[usize], h: usize) -> Vec<f64> {
    let n = y.len();
    let count = members(y, periods, 1).len();
    let stride = periods.iter().copied().min().unwrap_or(h).max(1);
    let min_history = periods.iter().copied().max().unwrap_or(1).max(2) * 2;
    let mut err = vec![0.0; count];
    let mut used = 0;
    for j in 0..WEIGHT_ORIGINS {
        let Some(origin) = n.checked_sub(h + j * stride) else {
            break;
        };
        if origin < min_history {
            break;
        }
        let ms = members(&y[..origin], periods, h);
        if ms.len() != count {
            break;
        }
        for (e, f) in err.iter_mut().zip(&ms) {
            *e += f
                .iter()
                .zip(&y[origin..])
                .map(|(a, b)| (a - b).abs())
                .sum::<f64>();
        }
        used += 1;
    }
    if used == 0 {
        return vec![1.0; count];
    }
    let floor = err.iter().copied().fold(f64::INFINITY, f64::min).max(1e-12) * 1e-3;
    err.iter().map(|e| 1.0 / (e + floor).powi(2)).collect()
}

/// Seasonal mean plus the damped trend between the last cycle and the one `cycles` back.
fn seasonal_trend(y: &[f64], p: usize, h: usize, max_cycles: usize) -> Vec<f64> {
    let n = y.len();
    let base = seasonal_mean(y, p, h, max_cycles);
    let cycles = (n / p).min(max_cycles);
    if cycles < 2 {
        return base;
    }
    let mean = |c: usize| y[n - c * p..n - (c - 1) * p].iter().sum::<f64>() / p as f64;
    let slope = (mean(1) - mean(cycles)) / ((cycles - 1) * p) as f64;
    let phi: f64 = 0.98;
    let mut acc = 0.0;
    let mut damp = 1.0;
    base.iter()
        .map(|b| {
            damp *= phi;
            acc += damp;
            b + slope * (acc + (p as f64 - 1.0) / 2.0)
        })
        .collect()
}

/// The ensemble's point forecast from history `y` (no NaN).
pub fn point_forecast(y: &[f64], periods: &[usize], h: usize) -> Vec<f64> {
    let ms = members(y, periods, h);
    let w = member_weights(y, periods, h);
    let total: f64 = w.iter().sum();
    (0..h)
        .map(|k| ms.iter().zip(&w).map(|(f, w)| f[k] * w).sum::<f64>() / total)
        .collect()
}

/// Forecasts `h` steps of `y` with `level` (e.g. 0.95) intervals; `None` without data.
pub fn forecast(y: &[f64], periods: &[usize], h: usize, level: f64) -> Option<Forecast> {
    let y = fill_missing(y)?;
    let n = y.len();
    let periods: Vec<usize> = periods
        .iter()
        .copied()
        .filter(|&p| p >= 2 && 2 * p <= n)
        .collect();
    let point = point_forecast(&y, &periods, h);
    let half = half_widths(&y, &periods, h, level);
    let lower = point.iter().zip(&half).map(|(p, w)| p - w).collect();
    let upper = point.iter().zip(&half).map(|(p, w)| p + w).collect();
    Some(Forecast {
        point,
        lower,
        upper,
        periods,
    })
}

fn half_widths(y: &[f64], periods: &[usize], h: usize, level: f64) -> Vec<f64> {
    let n = y.len();
    let min_history = periods.iter().copied().max().unwrap_or(1).max(2) * 2;
    let span = h.max(1);
    let stride = periods.iter().copied().min().unwrap_or(span).max(1);
    // errors[k] = |errors| at horizon k+1 across origins.
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); span];
    for j in 0..ORIGINS {
        let Some(origin) = n.checked_sub(span + j * stride) else {
            break;
        };
        if origin < min_history {
            break;
        }
        let f = point_forecast(&y[..origin], periods, span);
        for k in 0..span {
            errors[k].push((y[origin + k] - f[k]).abs());
        }
    }
    if errors[0].len() >= 3 {
        let nb = (span / 8).max(1);
        return (0..h)
            .map(|k| {
                let k = k.min(span - 1);
                let (a, b) = (k.saturating_sub(nb), (k + nb).min(span - 1));
                let pool: Vec<f64> = errors[a..=b].iter().flatten().copied().collect();
                quantile(&pool, level).unwrap_or(0.0)
            })
            .collect();
    }
    // Fallback: spread of one-step (or seasonal) differences, growing with √h.
    let lag = periods.iter().copied().min().unwrap_or(1);
    let diffs: Vec<f64> = (lag..n).map(|i| (y[i] - y[i - lag]).abs()).collect();
    let q = quantile(&diffs, level).unwrap_or(0.0);
    (0..h)
        .map(|k| {
            if periods.is_empty() {
                q * ((k + 1) as f64).sqrt()
            } else {
                q
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_series_is_continued() {
        let y: Vec<f64> = (0..24 * 10).map(|i| 10.0 + (i % 24) as f64).collect();
        let f = forecast(&y, &[24], 48, 0.95).unwrap();
        for (k, p) in f.point.iter().enumerate() {
            assert!((p - (10.0 + (k % 24) as f64)).abs() < 1e-9, "{k}: {p}");
        }
        assert!(f.lower.iter().zip(&f.point).all(|(l, p)| l <= p));
    }

    #[test]
    fn gaps_are_filled_and_periods_snap_to_the_step() {
        assert_eq!(
            fill_missing(&[f64::NAN, 1.0, f64::NAN, 3.0, f64::NAN]),
            Some(vec![1.0, 1.0, 2.0, 3.0, 3.0])
        );
        assert_eq!(fill_missing(&[f64::NAN]), None);
        assert_eq!(auto_periods(3_600, 400), vec![24, 168]);
        assert_eq!(auto_periods(3_600, 100), vec![24]);
        assert_eq!(auto_periods(7, 100_000), Vec::<usize>::new());
    }

    #[test]
    fn intervals_cover_noise_roughly_at_their_level() {
        let mut rng = crate::analysis::anomaly::tests::Noise::new(3);
        let y: Vec<f64> = (0..24 * 30)
            .map(|i| {
                50.0 + 10.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + rng.normal()
            })
            .collect();
        let (train, test) = y.split_at(y.len() - 48);
        let f = forecast(train, &[24], 48, 0.95).unwrap();
        let inside = test
            .iter()
            .zip(f.lower.iter().zip(&f.upper))
            .filter(|&(v, (l, u))| l <= v && v <= u)
            .count();
        assert!(inside >= 40, "{inside}/48 inside");
        let width = f.upper[0] - f.lower[0];
        assert!(width > 1.0 && width < 10.0, "{width}");
    }
}
