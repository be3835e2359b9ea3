//! Capacity forecasts: when does a filling series (disk %, inodes, a queue) reach its limit?
//!
//! * **Window.** The finite points of the last [`WINDOW_SECS`] before the newest one, cut
//!   after the last reset (a cleanup or rotation: a step down of more than 8 robust sd of the
//!   point-to-point changes and 2 % of the capacity that stays down for the next points),
//!   because the fill before a cleanup says nothing about the fill after it.
//! * **Current trend.** Within that, the points since the break of the best two-segment line
//!   when it beats a single line by BIC, so a fill that began an hour ago is not averaged
//!   with the flat hours before it.
//! * **Trend.** Theil–Sen: the median of pairwise slopes (on at most [`MAX_FIT_POINTS`] evenly
//!   thinned points), the intercept is the median of `y − slope·x`. Robust to a few wild
//!   points, unlike least squares.
//! * **Uncertainty.** Residual scatter σ is the scaled MAD of the residuals. The slope and
//!   level standard errors use the least-squares formulas with σ, inflated by
//!   √((1+ρ)/(1−ρ)) for the lag-1 autocorrelation ρ of the residuals (fills are smooth, so
//!   neighbouring points are not independent evidence). The 95 % band at horizon `d` from the
//!   window's centre is `point ± 1.96·√(se_level² + se_slope²·d² + σ²)`.
//! * **ETA.** `eta` is where the fitted line meets the capacity; `eta_earliest` where the
//!   upper band does, `eta_latest` where the lower band does (both bands rise monotonically
//!   once the slope is significant, so each is found by bisection).
//!
//! `None` when: the capacity or data is unusable; fewer than [`MIN_POINTS`] points or less
//! than [`MIN_SPAN_SECS`] of them; the slope is not significantly positive (flat, falling or
//! too noisy to tell); or the fitted line needs more than [`MAX_ETA_SECS`]. A series already
//! at its limit (median of its last 3 points ≥ capacity) returns `Some` with text
//! "at capacity …", `eta` equal to its last timestamp, and an empty forecast curve.
use super::stats::{median_mut, robust_scale_mut};
use super::CapacityForecast;
use crate::domain::Series;

/// Fit window before the newest point.
pub const WINDOW_SECS: i64 = 6 * 3_600;
/// Longest forecast curve.
pub const HORIZON_SECS: i64 = 24 * 3_600;
/// Forecasts further out than this are not worth showing.
pub const MAX_ETA_SECS: i64 = 30 * 86_400;
/// Fewest points to fit.
pub const MIN_POINTS: usize = 10;
/// Shortest time span to fit.
pub const MIN_SPAN_SECS: i64 = 15 * 60;
/// Points used for the O(n²) pairwise slopes.
pub const MAX_FIT_POINTS: usize = 200;

const Z95: f64 = 1.959_964;
const CURVE_POINTS: i64 = 48;
const MIN_CURVE_SECS: i64 = 3_600;
const RESET_SD: f64 = 8.0;
const RESET_CAPACITY_SHARE: f64 = 0.02;
const RESET_CONFIRM: usize = 5;
const MAX_RHO: f64 = 0.9;

/// Forecasts when `series` reaches `capacity`, from its recent trend; see the module docs for
/// the model and for when this is `None`.
pub fn capacity_forecast(series: &Series, capacity: f64) -> Option<CapacityForecast> {
    if !capacity.is_finite() {
        return None;
    }
    let (ts, ys) = recent_points(series, capacity)?;
    let t_last = *ts.last()?;
    let span = t_last.saturating_sub(*ts.first()?);
    if ts.len() < MIN_POINTS || span < MIN_SPAN_SECS {
        return None;
    }
    let mut tail: Vec<f64> = ys[ys.len().saturating_sub(3)..].to_vec();
    let now_level = median_mut(&mut tail)?;
    if now_level >= capacity {
        return Some(at_capacity(series, capacity, now_level, t_last));
    }
    let fit = Fit::new(&ts, &ys)?;
    if fit.slope <= 0.0 || fit.slope <= Z95 * fit.se_slope {
        return None;
    }
    let d_last = (t_last as f64) - fit.t_center;
    let d_eta = ((capacity - fit.level) / fit.slope).max(d_last);
    let to_eta = d_eta - d_last;
    if !to_eta.is_finite() || to_eta > MAX_ETA_SECS as f64 {
        return None;
    }
    let upper = |d: f64| fit.point(d) + Z95 * fit.sd(d);
    let lower = |d: f64| fit.point(d) - Z95 * fit.sd(d);
    let d_early = first_crossing(upper, capacity, d_last, d_eta);
    let d_late = upper_bound(lower, capacity, d_eta.max(d_last + 60.0))
        .map(|hi| first_crossing(lower, capacity, d_last, hi));
    // Offsets from the newest point (float-to-int `as` saturates), so ETAs never precede it.
    let at = |d: f64| t_last.saturating_add((d - d_last).max(0.0).round() as i64);
    let (eta, earliest, latest) = (at(d_eta), at(d_early), d_late.map(at));
    let curve_end = latest
        .unwrap_or(i64::MAX)
        .saturating_sub(t_last)
        .clamp(MIN_CURVE_SECS, HORIZON_SECS);
    let step = (curve_end / CURVE_POINTS).max(1);
    let timestamps: Vec<i64> = (1..=CURVE_POINTS)
        .map(|k| t_last.saturating_add(k * step))
        .collect();
    let ds = timestamps.iter().map(|t| *t as f64 - fit.t_center);
    let latest_text = latest.map_or_else(
        || "beyond any horizon".to_string(),
        |l| duration_text(l.saturating_sub(t_last)),
    );
    Some(CapacityForecast {
        series_id: series.id.clone(),
        capacity,
        point: ds.clone().map(|d| fit.point(d)).collect(),
        lower95: ds.clone().map(lower).collect(),
        upper95: ds.map(upper).collect(),
        timestamps,
        eta: Some(eta),
        eta_earliest: Some(earliest),
        eta_latest: latest,
        text: format!(
            "full in {} (95 %: {} – {})",
            duration_text(eta.saturating_sub(t_last)),
            duration_text(earliest.saturating_sub(t_last)),
            latest_text
        ),
    })
}

/// Finite points of the fit window, after the last reset (see the module docs).
fn recent_points(series: &Series, capacity: f64) -> Option<(Vec<i64>, Vec<f64>)> {
    let n = series.timestamps.len().min(series.values.len());
    let pairs = series.timestamps[..n].iter().zip(&series.values[..n]);
    let last = pairs
        .clone()
        .filter(|(_, v)| v.is_finite())
        .map(|(t, _)| *t)
        .next_back()?;
    let from = last.saturating_sub(WINDOW_SECS);
    let (mut ts, mut ys): (Vec<i64>, Vec<f64>) = pairs
        .filter(|(t, v)| **t >= from && v.is_finite())
        .map(|(t, v)| (*t, *v))
        .unzip();
    let mut diffs: Vec<f64> = ys.windows(2).map(|w| w[1] - w[0]).collect();
    let center = median_mut(&mut diffs.clone()).unwrap_or(0.0);
    let sd = robust_scale_mut(&mut diffs, center).unwrap_or(0.0);
    let drop = (RESET_SD * sd).max(RESET_CAPACITY_SHARE * capacity.abs());
    if let Some(k) = (0..ys.len().saturating_sub(1))
        .rev()
        .find(|&k| is_reset(&ys, k, drop))
    {
        ts.drain(..=k);
        ys.drain(..=k);
    }
    let start = trend_start(&ts, &ys);
    ts.drain(..start);
    ys.drain(..start);
    Some((ts, ys))
}

/// Where the current trend began: the break of the best two-segment linear fit when it explains
/// the window clearly better than one line (BIC, three extra parameters: the break, a level and
/// a slope), else 0. A disk that sat flat for hours and then started to fill is forecast from
/// the fill alone, not from a slope averaged with the flat part.
fn trend_start(ts: &[i64], ys: &[f64]) -> usize {
    let n = ts.len().min(ys.len());
    let min_seg = MIN_POINTS.max(30);
    if n < 2 * min_seg {
        return 0;
    }
    let t0 = ts[0];
    // Prefix sums of x (hours since the first point), y, x², xy and y².
    let mut pre = vec![[0.0f64; 5]; n + 1];
    for i in 0..n {
        let x = (ts[i] - t0) as f64 / 3_600.0;
        let y = ys[i];
        let p = pre[i];
        pre[i + 1] = [p[0] + x, p[1] + y, p[2] + x * x, p[3] + x * y, p[4] + y * y];
    }
    let sse = |a: usize, b: usize| -> f64 {
        let m = (b - a) as f64;
        let d: Vec<f64> = (0..5).map(|j| pre[b][j] - pre[a][j]).collect();
        let sxx = d[2] - d[0] * d[0] / m;
        let sxy = d[3] - d[0] * d[1] / m;
        let syy = d[4] - d[1] * d[1] / m;
        let r = if sxx > 1e-12 {
            syy - sxy * sxy / sxx
        } else {
            syy
        };
        r.max(0.0)
    };
    let one = sse(0, n);
    let Some((k, two)) = (min_seg..=n - min_seg)
        .map(|k| (k, sse(0, k) + sse(k, n)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
    else {
        return 0;
    };
    // Autocorrelated noise makes neighbouring points weak evidence; judge the break with the
    // effective number of points of the two-segment residuals.
    let line = |a: usize, b: usize| -> (f64, f64) {
        let m = (b - a) as f64;
        let d: Vec<f64> = (0..5).map(|j| pre[b][j] - pre[a][j]).collect();
        let sxx = d[2] - d[0] * d[0] / m;
        let slope = if sxx > 1e-12 {
            (d[3] - d[0] * d[1] / m) / sxx
        } else {
            0.0
        };
        (slope, (d[1] - slope * d[0]) / m)
    };
    let (s1, c1) = line(0, k);
    let (s2, c2) = line(k, n);
    let resid: Vec<f64> = (0..n)
        .map(|i| {
            let x = (ts[i] - t0) as f64 / 3_600.0;
            let (s, c) = if i < k { (s1, c1) } else { (s2, c2) };
            ys[i] - (c + s * x)
        })
        .collect();
    let rho = lag1_autocorrelation(&resid).clamp(0.0, MAX_RHO);
    let nf = n as f64;
    let n_eff = (nf * (1.0 - rho) / (1.0 + rho)).max(2.0);
    let floor = 1e-12 * (1.0 + one);
    let bic = |rss: f64, params: f64| n_eff * ((rss + floor) / nf).ln() + params * n_eff.ln();
    let span_ok = ts[n - 1].saturating_sub(ts[k]) >= MIN_SPAN_SECS;
    if span_ok && bic(two, 5.0) < bic(one, 2.0) {
        k
    } else {
        0
    }
}

/// Whether the level drops by more than `drop` between point `k` and `k + 1` and stays down:
/// the medians of up to [`RESET_CONFIRM`] points before and after differ by that much, with at
/// least 3 points on each side. A lone spike or a lone dip is not a reset.
fn is_reset(ys: &[f64], k: usize, drop: f64) -> bool {
    let jump = match (ys.get(k), ys.get(k + 1)) {
        (Some(a), Some(b)) => b - a,
        _ => return false,
    };
    if jump >= -drop {
        return false;
    }
    let before = &ys[(k + 1).saturating_sub(RESET_CONFIRM)..=k];
    let after = &ys[k + 1..ys.len().min(k + 1 + RESET_CONFIRM)];
    if before.len() < 3 || after.len() < 3 {
        return false;
    }
    let (Some(b), Some(a)) = (
        median_mut(&mut before.to_vec()),
        median_mut(&mut after.to_vec()),
    ) else {
        return false;
    };
    b - a > drop
}

/// A Theil–Sen line with its uncertainty, in seconds relative to the window's mean time.
struct Fit {
    t_center: f64,
    /// Fitted value at `t_center`.
    level: f64,
    /// Per second.
    slope: f64,
    se_level: f64,
    se_slope: f64,
    sigma: f64,
}

impl Fit {
    fn new(ts: &[i64], ys: &[f64]) -> Option<Fit> {
        let n = ts.len();
        let t0 = *ts.first()?;
        let rel: Vec<f64> = ts.iter().map(|t| t.saturating_sub(t0) as f64).collect();
        let t_mean = rel.iter().sum::<f64>() / n as f64;
        let xs: Vec<f64> = rel.iter().map(|r| r - t_mean).collect();
        let stride = n.div_ceil(MAX_FIT_POINTS).max(1);
        let thin: Vec<(f64, f64)> = xs
            .iter()
            .zip(ys)
            .step_by(stride)
            .map(|(x, y)| (*x, *y))
            .collect();
        let mut slopes = Vec::with_capacity(thin.len() * thin.len() / 2);
        for (i, (xi, yi)) in thin.iter().enumerate() {
            for (xj, yj) in &thin[i + 1..] {
                let s = (yj - yi) / (xj - xi);
                if s.is_finite() {
                    slopes.push(s);
                }
            }
        }
        let slope = median_mut(&mut slopes)?;
        let mut offsets: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| y - slope * x).collect();
        let level = median_mut(&mut offsets)?;
        let resid: Vec<f64> = xs
            .iter()
            .zip(ys)
            .map(|(x, y)| y - level - slope * x)
            .collect();
        let center = median_mut(&mut resid.clone()).unwrap_or(0.0);
        let floor = 1e-9 * level.abs().max(1.0);
        let sigma = robust_scale_mut(&mut resid.clone(), center)?.max(floor);
        let rho = lag1_autocorrelation(&resid);
        let inflation = ((1.0 + rho) / (1.0 - rho)).sqrt();
        let sxx: f64 = xs.iter().map(|x| x * x).sum();
        if sxx <= 0.0 || !sxx.is_finite() {
            return None;
        }
        let fit = Fit {
            t_center: t0 as f64 + t_mean,
            level,
            slope,
            se_level: inflation * sigma / (n as f64).sqrt(),
            se_slope: inflation * sigma / sxx.sqrt(),
            sigma,
        };
        let usable = [fit.level, fit.slope, fit.se_level, fit.se_slope, fit.sigma];
        usable.iter().all(|v| v.is_finite()).then_some(fit)
    }

    fn point(&self, d: f64) -> f64 {
        self.level + self.slope * d
    }

    fn sd(&self, d: f64) -> f64 {
        (self.se_level.powi(2) + (self.se_slope * d).powi(2) + self.sigma.powi(2)).sqrt()
    }
}

/// Lag-1 autocorrelation of `r`, clamped to 0..=[`MAX_RHO`] (negative values would narrow
/// the interval, which we never want).
fn lag1_autocorrelation(r: &[f64]) -> f64 {
    let mean = r.iter().sum::<f64>() / r.len().max(1) as f64;
    let var: f64 = r.iter().map(|x| (x - mean).powi(2)).sum();
    let cov: f64 = r.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    let rho = cov / var;
    if rho.is_finite() {
        rho.clamp(0.0, MAX_RHO)
    } else {
        0.0
    }
}

/// Smallest `d` in `[lo, hi]` with `f(d) >= target`, for `f` increasing; `lo` if already
/// there, `hi` if never (callers pass an `hi` where `f(hi) >= target`).
fn first_crossing(f: impl Fn(f64) -> f64, target: f64, lo: f64, hi: f64) -> f64 {
    if f(lo) >= target {
        return lo;
    }
    let (mut lo, mut hi) = (lo, hi.max(lo));
    for _ in 0..100 {
        let mid = lo / 2.0 + hi / 2.0;
        if f(mid) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
        if hi - lo < 1.0 {
            break;
        }
    }
    hi
}

/// A `d` at or after `start` where `f(d) >= target`, found by doubling; `None` if none is
/// found within a few years.
fn upper_bound(f: impl Fn(f64) -> f64, target: f64, start: f64) -> Option<f64> {
    let mut d = start.max(1.0);
    for _ in 0..40 {
        if f(d) >= target {
            return Some(d);
        }
        d *= 2.0;
        if d > 10.0 * 365.0 * 86_400.0 {
            break;
        }
    }
    None
}

fn at_capacity(series: &Series, capacity: f64, level: f64, t_last: i64) -> CapacityForecast {
    CapacityForecast {
        series_id: series.id.clone(),
        capacity,
        timestamps: Vec::new(),
        point: Vec::new(),
        lower95: Vec::new(),
        upper95: Vec::new(),
        eta: Some(t_last),
        eta_earliest: Some(t_last),
        eta_latest: Some(t_last),
        text: format!(
            "at capacity ({} of {})",
            short_number(level),
            short_number(capacity)
        ),
    }
}

fn short_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// "now", "< 1 m", "42 m", "5 h 10 m", "3 d 4 h".
pub fn duration_text(secs: i64) -> String {
    match secs {
        i64::MIN..=0 => "now".to_string(),
        1..=59 => "< 1 m".to_string(),
        60..=3_599 => format!("{} m", secs / 60),
        3_600..=86_399 => format!("{} h {} m", secs / 3_600, secs % 3_600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::anomaly::tests::Noise;

    const T0: i64 = 1_700_000_000;

    /// `minutes` points, one a minute, from `f(minute)`.
    fn series(minutes: usize, f: impl FnMut(usize) -> f64) -> Series {
        Series {
            id: "disk".into(),
            timestamps: (0..minutes as i64).map(|i| T0 + 60 * i).collect(),
            values: (0..minutes).map(f).collect(),
            capacity: Some(100.0),
            ..Series::default()
        }
    }

    fn t_end(s: &Series) -> i64 {
        *s.timestamps.last().unwrap()
    }

    #[test]
    fn a_fill_that_began_after_a_flat_stretch_is_forecast_from_the_fill() {
        // Flat at 60 % for 3 h, then 5 %/h for 3 h: 75 % now, full in 5 h.
        let mut rng = Noise::new(7);
        let s = series(361, |i| {
            let ramp = (i as f64 - 180.0).max(0.0) * 5.0 / 60.0;
            60.0 + ramp + 0.3 * rng.normal()
        });
        let f = capacity_forecast(&s, 100.0).expect("a clear fill");
        let truth = t_end(&s) + 5 * 3_600;
        let (e, lo, hi) = (
            f.eta.unwrap(),
            f.eta_earliest.unwrap(),
            f.eta_latest.unwrap(),
        );
        assert!(lo <= truth && truth <= hi, "{lo} {truth} {hi}: {}", f.text);
        assert!(
            (e - truth).abs() < 20 * 60,
            "eta off by {} s: {}",
            e - truth,
            f.text
        );
    }

    #[test]
    fn a_straight_fill_keeps_its_whole_window() {
        let mut rng = Noise::new(3);
        let ys: Vec<f64> = (0..361)
            .map(|i| 40.0 + 5.0 * i as f64 / 60.0 + 0.3 * rng.normal())
            .collect();
        let ts: Vec<i64> = (0..361).map(|i| T0 + 60 * i).collect();
        assert_eq!(trend_start(&ts, &ys), 0);
    }

    #[test]
    fn linear_fill_has_the_true_eta_inside_a_narrow_interval() {
        // 40 % -> 70 % over 6 h at 5 %/h: 30 % left is exactly 6 h.
        let mut rng = Noise::new(1);
        let s = series(361, |i| 40.0 + 5.0 * i as f64 / 60.0 + 0.3 * rng.normal());
        let f = capacity_forecast(&s, 100.0).expect("a clear fill");
        let truth = t_end(&s) + 6 * 3_600;
        let (e, lo, hi) = (
            f.eta.unwrap(),
            f.eta_earliest.unwrap(),
            f.eta_latest.unwrap(),
        );
        assert!(lo <= truth && truth <= hi, "{lo} {truth} {hi}");
        assert!((e - truth).abs() < 10 * 60, "eta off by {} s", e - truth);
        assert!(hi - lo < 90 * 60, "interval {} min wide", (hi - lo) / 60);
        assert!(
            f.text.starts_with("full in 5 h") || f.text.starts_with("full in 6 h"),
            "{}",
            f.text
        );
        assert!(f.text.contains("(95 %: "), "{}", f.text);
        assert_eq!(f.timestamps.len(), f.point.len());
        assert!(f.timestamps.windows(2).all(|w| w[0] < w[1]));
        assert!(*f.timestamps.last().unwrap() <= t_end(&s) + HORIZON_SECS);
        for k in 0..f.point.len() {
            assert!(f.lower95[k] <= f.point[k] && f.point[k] <= f.upper95[k]);
        }
        // The band widens with the horizon.
        let width = |k: usize| f.upper95[k] - f.lower95[k];
        assert!(width(47) > width(0));
    }

    #[test]
    fn noisy_autocorrelated_fill_stays_honest() {
        // Trend 3 %/h plus AR(1) wander: about 90 % of runs must contain the truth.
        let mut inside = 0;
        for seed in 0..40 {
            let mut rng = Noise::new(100 + seed);
            let mut ar = 0.0;
            let s = series(361, |i| {
                ar = 0.8 * ar + 0.6 * rng.normal();
                30.0 + 3.0 * i as f64 / 60.0 + ar
            });
            let truth = t_end(&s) + 3_600 * 52 / 3;
            if let Some(f) = capacity_forecast(&s, 100.0) {
                let (lo, hi) = (f.eta_earliest.unwrap(), f.eta_latest.unwrap());
                if lo <= truth && truth <= hi {
                    inside += 1;
                }
            }
        }
        assert!(inside >= 34, "only {inside}/40 intervals held the true ETA");
    }

    #[test]
    fn flat_falling_short_and_unusable_series_give_none() {
        let mut rng = Noise::new(2);
        assert!(capacity_forecast(&series(360, |_| 50.0 + rng.normal()), 100.0).is_none());
        assert!(capacity_forecast(&series(360, |_| 50.0), 100.0).is_none());
        assert!(capacity_forecast(&series(360, |i| 80.0 - i as f64 / 60.0), 100.0).is_none());
        assert!(capacity_forecast(&series(5, |i| 50.0 + i as f64), 100.0).is_none());
        assert!(capacity_forecast(&series(360, |_| f64::NAN), 100.0).is_none());
        assert!(capacity_forecast(&series(0, |_| 1.0), 100.0).is_none());
        assert!(capacity_forecast(&series(360, |i| i as f64), f64::NAN).is_none());
        // 0.01 %/h from 10 %: years away.
        assert!(capacity_forecast(&series(360, |i| 10.0 + i as f64 / 6_000.0), 100.0).is_none());
    }

    #[test]
    fn at_capacity_is_reported_not_forecast() {
        let f = capacity_forecast(&series(60, |i| 90.0 + i as f64), 100.0).unwrap();
        assert!(f.text.starts_with("at capacity"), "{}", f.text);
        assert_eq!(f.eta, Some(T0 + 59 * 60));
        assert!(f.timestamps.is_empty());
    }

    #[test]
    fn fit_restarts_after_a_cleanup() {
        // Fills at 2 %/h, drops from ~76 % to 40 % at minute 240, then fills at 6 %/h.
        let s = series(361, |i| {
            if i < 240 {
                70.0 + 2.0 * i as f64 / 60.0
            } else {
                40.0 + 6.0 * (i - 240) as f64 / 60.0
            }
        });
        let f = capacity_forecast(&s, 100.0).unwrap();
        let truth = t_end(&s) + 3_600 * 48 / 6;
        assert!((f.eta.unwrap() - truth).abs() < 5 * 60, "{}", f.text);
    }

    #[test]
    fn outliers_and_gaps_do_not_derail_the_fit() {
        let mut rng = Noise::new(3);
        let mut s = series(361, |i| 40.0 + 5.0 * i as f64 / 60.0 + 0.3 * rng.normal());
        for i in (0..361).step_by(37) {
            s.values[i] = 99.0;
        }
        s.values[100] = f64::NAN;
        s.values[359] = 0.0;
        let (ts, _) = recent_points(&s, 100.0).unwrap();
        assert_eq!(ts.len(), 360, "a spike or a dip was taken for a cleanup");
        let f = capacity_forecast(&s, 100.0).unwrap();
        let truth = t_end(&s) + 6 * 3_600;
        assert!(
            f.eta_earliest.unwrap() <= truth && truth <= f.eta_latest.unwrap(),
            "{}",
            f.text
        );
        let huge = series(100, |i| 1e300 * i as f64);
        let _ = capacity_forecast(&huge, f64::MAX);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(0), "now");
        assert_eq!(duration_text(30), "< 1 m");
        assert_eq!(duration_text(42 * 60), "42 m");
        assert_eq!(duration_text(5 * 3_600 + 10 * 60), "5 h 10 m");
        assert_eq!(duration_text(3 * 86_400 + 4 * 3_600), "3 d 4 h");
    }
}
