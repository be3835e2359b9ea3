//! Per-series anomaly scoring.
//!
//! Every point is scored causally: its expectation, band and score use only earlier points, so
//! appending new data never changes old scores.
//!
//! * **Season.** Refitted on a schedule, not per point: at every [`REFIT_SECS`] boundary of
//!   data time the season length is detected from the values of the last [`MAX_DAYS`] days
//!   before it ([`season`]: augurs' periodogram proposes, a seasonal-strength test verifies).
//!   Until something is detected the calendar day is assumed. A detected season is also
//!   decomposed with augurs' MSTL at the refit ([`season::mstl_profile`]), giving its usual
//!   shape per phase.
//! * **Expectation.** Under a detected season with an MSTL shape, the baseline is that shape at
//!   the point's phase plus the level correction below. Otherwise, when the series holds at
//!   least one season of history before a point, the baseline is seasonal: for each of up to
//!   [`MAX_DAYS`] previous cycles, the median of the values within ±5 min (at most 1/48 of the
//!   season, at least half a step) of the same phase, then the median across cycles. A level
//!   correction (median of the last [`WINDOW`] values minus their seasonal baseline) follows
//!   today's level, and the seasonal baseline is used once that correction has half a window
//!   of data. Before that the baseline is the rolling median of the last [`WINDOW`] points; it
//!   lags a ramp, and the scale below absorbs a steady lag. Under the assumed day the cycles'
//!   values are the remembered ones (see Memory); under a detected season they are the
//!   observed ones, since the data has shown that the shape recurs.
//! * **Scale.** A robust standard deviation of the last [`SCALE_WINDOW`] residuals about zero
//!   (scaled median |residual|, falling back to the mean |residual| for sparse series), floored
//!   at 0.5 % of the expected level so a near-constant series does not explode.
//! * **Score.** `|z|` mapped to 0..1 with a smoothstep: 0 at 2σ or less, 0.5 at 4σ, 1 at 6σ.
//!   The band is expected ± 3σ.
//! * **Memory.** Values outside the band enter the history clipped to the band edge, so one
//!   spike does not move the baseline and a level shift is absorbed gradually (about 3σ per
//!   half window) instead of at once.
//! * **Current state.** `onset` needs a run of at least [`MIN_RUN`] points with score ≥ 0.5
//!   reaching the last point, with gaps of at most [`MAX_GAP`] normal or missing points.
//!
//! Non-finite values (NaN, ±∞) count as missing: they get an expectation and a band but a
//! score of 0, and they never enter the history.
use chrono::{DateTime, Utc};

mod cache;
pub mod detect;
pub mod peers;
pub mod season;
pub mod shift;

pub use cache::ScoreCache;

use super::stats::{median_mut, SortedWindow, MAD_SCALE, MEAN_AD_SCALE};
use super::{Direction, SeriesAnomaly};
use crate::domain::Series;

/// Points in the rolling baseline and level-correction windows.
pub const WINDOW: usize = 60;
/// Residuals used for the scale estimate.
pub const SCALE_WINDOW: usize = 360;
/// Previous cycles (days under the calendar prior) consulted by the seasonal baseline, and
/// days of history the season detection looks at.
pub const MAX_DAYS: i64 = 7;
/// Shortest anomalous run (in points with score ≥ 0.5) that sets `onset`.
pub const MIN_RUN: usize = 3;
/// Longest gap of normal or missing points allowed inside (and at the end of) a run.
pub const MAX_GAP: usize = 2;
/// Score at or above which a point counts as anomalous (|z| ≥ 4).
pub const ANOMALOUS: f64 = 0.5;

const DAY: i64 = 86_400;
/// Data time between season refits (aligned to multiples of it).
pub const REFIT_SECS: i64 = 6 * 3_600;
const SEASONAL_HALF_WINDOW: i64 = 300;
const MAX_SEASONAL_SPACING: i64 = 3_600;
const MIN_BASELINE: usize = 3;
const MIN_LEVEL_POINTS: usize = WINDOW / 2;
const MIN_SCORING_RESIDUALS: usize = 10;
/// Half-width of the band in σ (`upper = expected + BAND_Z · σ` where a point is scored).
pub const BAND_Z: f64 = 3.0;
const REL_FLOOR: f64 = 0.005;
const ABS_FLOOR: f64 = 1e-9;
const PEAK_WINDOW_SECS: i64 = 3_600;
const DEVIATION_WINDOW_SECS: i64 = 900;

/// |z| for people: beyond 20σ the number says more about how quiet the series was than about
/// the change, so it is shown as "over 20σ".
pub fn sigma_text(z: f64) -> String {
    let a = z.abs();
    if !a.is_finite() || a >= 20.0 {
        "over 20σ".to_string()
    } else {
        format!("{a:.1}σ")
    }
}

/// Maps |z| to 0..1: 0 up to 2σ, 0.5 at 4σ, 1 from 6σ on (smoothstep in between).
pub fn score_from_z(z: f64) -> f64 {
    if z.is_nan() {
        return 0.0;
    }
    let u = ((z.abs() - 2.0) / 4.0).clamp(0.0, 1.0);
    u * u * (3.0 - 2.0 * u)
}

/// Sensitivity that leaves scores as they are (the config default).
pub const DEFAULT_SENSITIVITY: f64 = 0.5;

/// Applies a sensitivity in [0, 1] to a score in [0, 1]: 0.5 leaves it unchanged, higher
/// raises every score, lower lowers it (`score^(4^(0.5 - s))`), so the fixed [`ANOMALOUS`]
/// threshold moves: a point counts from score 0.25 at sensitivity 1 and from about 0.71 at
/// sensitivity 0. Order is preserved. A non-finite sensitivity counts as the default.
pub fn apply_sensitivity(score: f64, sensitivity: f64) -> f64 {
    let s = if sensitivity.is_finite() {
        sensitivity.clamp(0.0, 1.0)
    } else {
        DEFAULT_SENSITIVITY
    };
    let score = if score.is_nan() {
        0.0
    } else {
        score.clamp(0.0, 1.0)
    };
    score.powf(4f64.powf(DEFAULT_SENSITIVITY - s))
}

/// How many times an alert on these scores would have fired at `sensitivity`: the number of
/// anomalous runs, delimited as [`score_series`] delimits `onset` (points at or above
/// [`ANOMALOUS`] after [`apply_sensitivity`], gaps of at most [`MAX_GAP`] other points), that
/// reach [`MIN_RUN`] anomalous points. Each run fires once, when it reaches `MIN_RUN`.
///
/// Raising the sensitivity only adds anomalous points, so runs grow and new ones appear; in
/// rare cases two runs less than `MAX_GAP + 1` points apart merge into one and the count
/// drops by one.
pub fn backtest(scores: &[f64], sensitivity: f64) -> usize {
    let (mut fires, mut run, mut gap, mut fired) = (0usize, 0usize, MAX_GAP + 1, false);
    for &score in scores {
        if apply_sensitivity(score, sensitivity) >= ANOMALOUS {
            if gap > MAX_GAP {
                run = 0;
                fired = false;
            }
            run += 1;
            gap = 0;
            if run >= MIN_RUN && !fired {
                fires += 1;
                fired = true;
            }
        } else {
            gap = gap.saturating_add(1);
        }
    }
    fires
}

/// Scores every point of `series` causally; see the module docs. [`ScoreCache::score`] gives
/// the same result while scoring only the points it has not seen.
pub fn score_series(series: &Series) -> SeriesAnomaly {
    let n = series.timestamps.len().min(series.values.len());
    let ts = &series.timestamps[..n];
    let ys = &series.values[..n];
    let mut s = Scorer::new(n);
    for i in 0..n {
        s.step(ts, ys, i);
    }
    finish(series, ts, ys, &s, 0)
}

/// The result for the points `from..` of a scorer that has stepped through `ts`/`ys`.
fn finish(series: &Series, ts: &[i64], ys: &[f64], s: &Scorer, from: usize) -> SeriesAnomaly {
    let (ts, ys) = (&ts[from..], &ys[from..]);
    let scores = &s.scores[from..];
    let z = &s.z[from..];
    // The sensitivity moves what counts as anomalous (onset, peak); the scores kept for the
    // chart and the backtest stay as the model gave them.
    let sensitivity = series.sensitivity.unwrap_or(DEFAULT_SENSITIVITY);
    let summary = if sensitivity == DEFAULT_SENSITIVITY {
        summarize(ts, ys, s, z, scores)
    } else {
        let adjusted: Vec<f64> = scores
            .iter()
            .map(|x| apply_sensitivity(*x, sensitivity))
            .collect();
        summarize(ts, ys, s, z, &adjusted)
    };
    SeriesAnomaly {
        series_id: series.id.clone(),
        expected: s.expected[from..].to_vec(),
        lower: s.lower[from..].to_vec(),
        upper: s.upper[from..].to_vec(),
        scores: scores.to_vec(),
        onset: summary.onset,
        peak_score: summary.peak_score,
        deviation_sigma: summary.deviation_sigma,
        direction: summary.direction,
        explanation: summary.explanation,
    }
}

/// Running state of one pass over a series. Per-point vectors have the series' length; the
/// sliding windows and scratch buffers are reused, so the pass allocates nothing per point
/// (season refits, every [`REFIT_SECS`] of data, do).
#[derive(Clone)]
struct Scorer {
    expected: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    scores: Vec<f64>,
    /// Signed z per point (NaN where not scored).
    z: Vec<f64>,
    /// Values as remembered by the baseline (clipped to the band; NaN when missing).
    cleaned: Vec<f64>,
    /// Remembered value minus seasonal baseline per point (NaN without a day of history).
    deseasoned: Vec<f64>,
    /// |value − baseline| per point (NaN when not available).
    abs_resid: Vec<f64>,
    /// The last [`WINDOW`] remembered values.
    recent: SortedWindow,
    /// The last [`WINDOW`] deseasoned values (for the level correction).
    level: SortedWindow,
    /// The last [`SCALE_WINDOW`] absolute residuals.
    errors: SortedWindow,
    /// Whether the last point used the seasonal baseline.
    last_seasonal: bool,
    /// Season length in use (seconds): detected at the last refit, else the calendar day.
    period: i64,
    /// Whether `period` was detected in the data (rather than assumed).
    detected: bool,
    /// Data time of the next season refit.
    next_refit: Option<i64>,
    /// MSTL shape of the detected season (none under the day prior, or when MSTL failed).
    profile: Option<season::Profile>,
    scratch: Vec<f64>,
    days: Vec<f64>,
}

impl Scorer {
    fn new(n: usize) -> Self {
        Scorer {
            expected: Vec::with_capacity(n),
            lower: Vec::with_capacity(n),
            upper: Vec::with_capacity(n),
            scores: Vec::with_capacity(n),
            z: Vec::with_capacity(n),
            cleaned: Vec::with_capacity(n),
            deseasoned: Vec::with_capacity(n),
            abs_resid: Vec::with_capacity(n),
            recent: SortedWindow::with_capacity(WINDOW + 1),
            level: SortedWindow::with_capacity(WINDOW + 1),
            errors: SortedWindow::with_capacity(SCALE_WINDOW + 1),
            last_seasonal: false,
            period: DAY,
            detected: false,
            next_refit: None,
            profile: None,
            scratch: Vec::with_capacity(32),
            days: Vec::with_capacity(MAX_DAYS as usize),
        }
    }

    fn step(&mut self, ts: &[i64], ys: &[f64], i: usize) {
        self.refit_season(ts, ys, i);
        let y = ys.get(i).copied().filter(|v| v.is_finite());
        let seasonal = self.seasonal_baseline(ts, ys, i);
        let seasonal_expected = seasonal
            .zip(self.level_correction())
            .map(|(sv, lv)| tame(sv + lv));
        self.last_seasonal = seasonal_expected.is_some();
        let baseline = seasonal_expected.or_else(|| self.rolling_baseline());
        let expected = baseline
            .or(y)
            .or_else(|| self.expected.last().copied())
            .unwrap_or(0.0);
        let sd = self.scale().max(REL_FLOOR * expected.abs()).max(ABS_FLOOR);
        let scoring = baseline.is_some() && self.errors.len() >= MIN_SCORING_RESIDUALS;
        let half = if scoring { BAND_Z * sd } else { 0.0 };
        let lower = tame(expected - half);
        let upper = tame(expected + half);
        self.expected.push(expected);
        self.lower.push(lower);
        self.upper.push(upper);
        let cleaned = match (y, scoring) {
            (Some(v), true) => {
                let z = (v - expected) / sd;
                self.z.push(if z.is_nan() { 0.0 } else { z });
                self.scores.push(score_from_z(z));
                v.max(lower).min(upper)
            }
            _ => {
                self.z.push(f64::NAN);
                self.scores.push(0.0);
                y.unwrap_or(f64::NAN)
            }
        };
        let abs_resid = match (y, baseline) {
            (Some(v), Some(b)) => (v - b).abs(),
            _ => f64::NAN,
        };
        let deseasoned = seasonal.map_or(f64::NAN, |sv| cleaned - sv);
        self.cleaned.push(cleaned);
        self.deseasoned.push(deseasoned);
        self.abs_resid.push(abs_resid);
        self.recent.insert(cleaned);
        self.level.insert(deseasoned);
        self.errors.insert(abs_resid);
        if let Some(old) = i.checked_sub(WINDOW) {
            self.recent.remove(self.cleaned[old]);
            self.level.remove(self.deseasoned[old]);
        }
        if let Some(old) = i.checked_sub(SCALE_WINDOW) {
            self.errors.remove(self.abs_resid[old]);
        }
    }

    /// At each [`REFIT_SECS`] boundary of data time, detects the season length from the
    /// observed values of the last [`MAX_DAYS`] days before point `i` (so scores stay causal;
    /// observed rather than remembered, because clipping a recurring shape before it is known
    /// would hide it); keeps the calendar day when nothing is detected.
    fn refit_season(&mut self, ts: &[i64], ys: &[f64], i: usize) {
        let Some(&t) = ts.get(i) else { return };
        let due = self.next_refit.get_or_insert_with(|| next_boundary(t));
        if t < *due {
            return;
        }
        *due = next_boundary(t);
        let from = ts[..i].partition_point(|&x| x < t.saturating_sub(MAX_DAYS * DAY));
        let found = ys
            .get(from..i)
            .and_then(|values| season::detect(&ts[from..i], values));
        self.period = found.unwrap_or(DAY);
        self.detected = found.is_some();
        self.profile = found.and_then(|p| season::mstl_profile(&ts[from..i], &ys[from..i], p));
    }

    /// Median over previous cycles (days, unless another season was detected) of the values
    /// near the same phase: the remembered (clipped) values under the calendar-day prior, the
    /// observed ones once a season is detected — the data has shown the shape recurs, so a
    /// batch job that looked anomalous when first seen becomes its phase's usual level.
    fn seasonal_baseline(&mut self, ts: &[i64], ys: &[f64], i: usize) -> Option<f64> {
        let t = *ts.get(i)?;
        if let Some(profile) = &self.profile {
            return Some(profile.at(t));
        }
        let prev = *ts.get(i.checked_sub(1)?)?;
        let first = *ts.first()?;
        let spacing = t.saturating_sub(prev).clamp(0, MAX_SEASONAL_SPACING);
        let half = SEASONAL_HALF_WINDOW.min(self.period / 48).max(spacing / 2);
        let past = &ts[..i];
        self.days.clear();
        for k in 1..=MAX_DAYS {
            let target = t.saturating_sub(k * self.period);
            if target < first.saturating_sub(half) {
                break;
            }
            let lo = past.partition_point(|&x| x < target.saturating_sub(half));
            let hi = past.partition_point(|&x| x <= target.saturating_add(half));
            self.scratch.clear();
            let memory = if self.detected { ys } else { &self.cleaned };
            if let Some(window) = memory.get(lo..hi) {
                self.scratch
                    .extend(window.iter().copied().filter(|v| v.is_finite()));
            }
            if let Some(m) = median_mut(&mut self.scratch) {
                self.days.push(m);
            }
        }
        median_mut(&mut self.days)
    }

    /// Median of recent values minus their seasonal baseline (today's level vs. past days');
    /// `None` until [`MIN_LEVEL_POINTS`] exist (the first half hour of day two).
    fn level_correction(&self) -> Option<f64> {
        if self.level.len() < MIN_LEVEL_POINTS {
            return None;
        }
        self.level.median()
    }

    /// Rolling median of the last [`WINDOW`] remembered values.
    fn rolling_baseline(&self) -> Option<f64> {
        if self.recent.len() < MIN_BASELINE {
            return None;
        }
        self.recent.median()
    }

    /// Robust sd of recent residuals about zero, not about their median: a steady bias (the
    /// rolling median lagging a ramp, a poorly fitting profile) is part of how wrong we
    /// usually are. Falls back to the mean absolute residual when most residuals are zero.
    fn scale(&self) -> f64 {
        let mad = self.errors.median().unwrap_or(0.0) * MAD_SCALE;
        let s = if mad > 0.0 {
            mad
        } else {
            self.errors.mean().unwrap_or(0.0) * MEAN_AD_SCALE
        };
        if s.is_finite() {
            s
        } else {
            f64::MAX
        }
    }
}

/// The first [`REFIT_SECS`] boundary after `t`.
fn next_boundary(t: i64) -> i64 {
    t.saturating_sub(t.rem_euclid(REFIT_SECS))
        .saturating_add(REFIT_SECS)
}

/// "1 day", "1 week", "2 h", "30 min".
pub fn period_text(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs > 0 && secs % (7 * DAY) == 0 {
        plural(secs / (7 * DAY), "week")
    } else if secs > 0 && secs % DAY == 0 {
        plural(secs / DAY, "day")
    } else if secs >= 3_600 && secs % 3_600 == 0 {
        format!("{} h", secs / 3_600)
    } else {
        format!("{} min", secs / 60)
    }
}

/// Replaces ±∞ by the largest finite values and NaN by 0 so outputs always serialise.
fn tame(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}

struct Summary {
    onset: Option<i64>,
    peak_score: f64,
    deviation_sigma: f64,
    direction: Direction,
    explanation: String,
}

fn summarize(ts: &[i64], ys: &[f64], s: &Scorer, z: &[f64], scores: &[f64]) -> Summary {
    let mut out = Summary {
        onset: None,
        peak_score: 0.0,
        deviation_sigma: 0.0,
        direction: Direction::None,
        explanation: String::new(),
    };
    let Some(&last_t) = ts.last() else {
        out.explanation = "no data".to_string();
        return out;
    };
    if !ys.iter().any(|v| v.is_finite()) {
        out.explanation = "no data (every value is missing)".to_string();
        return out;
    }
    if z.iter().all(|z| z.is_nan()) {
        out.explanation = format!("not enough history to judge yet ({} points)", ts.len());
        return out;
    }
    // Peak over the last hour, remembering where it was.
    let hour_start = ts.partition_point(|&t| t < last_t.saturating_sub(PEAK_WINDOW_SECS));
    let mut peak_at = None;
    for (i, sc) in scores.iter().enumerate().skip(hour_start) {
        if *sc > out.peak_score {
            out.peak_score = *sc;
            peak_at = Some(i);
        }
    }
    // Current anomalous run, walking back from the end.
    let (mut run, mut gap, mut start) = (0usize, 0usize, None);
    for i in (0..ts.len()).rev() {
        if scores[i] >= ANOMALOUS {
            run += 1;
            gap = 0;
            start = Some(i);
        } else {
            gap += 1;
            if gap > MAX_GAP {
                break;
            }
        }
    }
    let run_start = start.filter(|_| run >= MIN_RUN);
    out.onset = run_start.and_then(|i| ts.get(i).copied());
    // Signed median z over the last 15 minutes (only the run's points when anomalous now).
    let recent = ts.partition_point(|&t| t <= last_t.saturating_sub(DEVIATION_WINDOW_SECS));
    let from = run_start.map_or(recent, |r| r.max(recent));
    let mut zs: Vec<f64> = z[from..]
        .iter()
        .copied()
        .filter(|z| z.is_finite())
        .collect();
    out.deviation_sigma = median_mut(&mut zs).unwrap_or(0.0);
    let usual = match (s.last_seasonal, s.detected) {
        (false, _) => "its recent level".to_string(),
        (true, false) => "its usual level for this time of day".to_string(),
        (true, true) => {
            let how = if s.profile.is_some() {
                "MSTL"
            } else {
                "detected"
            };
            let p = period_text(s.period);
            if s.period == DAY {
                format!("its usual level for this time of day (season {p}, {how})")
            } else {
                format!("its usual level at this point of its {p} cycle (season {p}, {how})")
            }
        }
    };
    if let Some(onset) = out.onset {
        out.direction = direction_of(out.deviation_sigma);
        out.explanation = format!(
            "{} {} {usual} since {}",
            sigma_text(out.deviation_sigma),
            side(out.deviation_sigma),
            clock(onset, last_t)
        );
    } else if let Some(i) = peak_at.filter(|_| out.peak_score >= ANOMALOUS) {
        let z = z[i];
        out.explanation = format!(
            "within its usual range now; briefly {} {} {usual} at {}",
            sigma_text(z),
            side(z),
            clock(ts[i], last_t)
        );
    } else {
        out.explanation = "within its usual range".to_string();
    }
    out
}

fn direction_of(z: f64) -> Direction {
    if z > 0.0 {
        Direction::Up
    } else if z < 0.0 {
        Direction::Down
    } else {
        Direction::None
    }
}

fn side(z: f64) -> &'static str {
    if z < 0.0 {
        "below"
    } else {
        "above"
    }
}

/// "14:05 UTC", with the date when `t` is more than a day before `now`.
fn clock(t: i64, now: i64) -> String {
    let Some(dt) = DateTime::<Utc>::from_timestamp(t, 0) else {
        return format!("t={t}");
    };
    if now.saturating_sub(t) > DAY {
        dt.format("%Y-%m-%d %H:%M UTC").to_string()
    } else {
        dt.format("%H:%M UTC").to_string()
    }
}

#[cfg(test)]
pub(crate) mod tests;
