//! Streaming point detector behind `pagerpilot detect` and the NAB harness.
//!
//! [`Detector::push`] takes one `(timestamp, value)` and returns that point's score in [0, 1]
//! using only the points before it (causal), in O(log W) time:
//!
//! 1. **Residual.** The value minus the median of the last [`BASE_WINDOW`] values, divided by a
//!    robust scale of recent residuals (scaled median |residual| over [`SCALE_WINDOW`] points,
//!    sampled every [`SCALE_SAMPLE`]th, floored so
//!    that a flat series does not explode). Values far outside the band enter the baseline clipped,
//!    so one spike does not drag it.
//! 2. **Surprise.** The residual's tail is judged against the series' own history of residuals,
//!    as Numenta's anomaly likelihood does: the mean |z| (softened beyond [`SOFT_Z`]: it grows
//!    logarithmically there) over the last [`SHORT`] points is compared
//!    with the mean and spread of |z| over the series' history (exponentially weighted, about
//!    [`LONG`] points), giving a Gaussian tail probability `q`. Novelty (a value beyond everything in the last [`LONG`] points) adds to it.
//! 3. **Seasonality.** When the timestamps' step divides a day (5 min, 1 h ...), a second channel
//!    compares each value with the median of the values one, two and three days earlier (same
//!    phase, by position) and judges that residual the same way. The series counts as seasonal
//!    while the mean |seasonal residual| is under [`SEASONAL_RATIO`] of the mean |level
//!    residual| (over the same sampled windows) and the channel has scored
//!    [`SEASONAL_WARMUP`] days of its own; then the seasonal surprise replaces the level one, so
//!    a usual daily peak does not fire and a day that lost its peak does.
//! 4. **Calibration.** The surprise counts only by how far it exceeds the series' own usual
//!    surprise (mean + [`USUAL_SURPRISE_SDS`] standard deviations of its earlier surprises,
//!    exponentially weighted over about [`LONG`] points), so one threshold fits quiet and noisy
//!    series alike.
//! 5. **Score.** `surprise + NOVELTY_WEIGHT · novelty`, clamped to [0, 1], then
//!    suppressed: a point keeps its score only if it beats every score of the previous
//!    [`SUPPRESS`] points (otherwise 0), so one event gives one detection rather than a burst.
//!
//! The constants were chosen by a coarse sweep on the shared NAB series (BENCHMARKS.md shows the
//! sensitivity); they are the same for every series.
use std::collections::VecDeque;

use crate::analysis::stats::{SortedWindow, MAD_SCALE, MEAN_AD_SCALE};

/// A surprise counts by how far it exceeds the series' usual surprise: the mean plus this many
/// standard deviations of its earlier surprises.
pub const USUAL_SURPRISE_SDS: f64 = 2.0;
/// Where |z| starts to count logarithmically in the surprise (see `soften`).
pub const SOFT_Z: f64 = 10.0;
/// Points in the rolling median baseline.
pub const BASE_WINDOW: usize = 100;
/// Residuals used for the robust scale.
pub const SCALE_WINDOW: usize = 2_000;
/// Points averaged for the short-term surprise.
pub const SHORT: usize = 5;
/// Points of history the surprise is judged against.
pub const LONG: usize = 5_000;
/// Points a detection suppresses after it.
pub const SUPPRESS: usize = 100;
/// Every this many residuals, one enters the scale window (so it spans [`SCALE_WINDOW`] points
/// with a quarter of the memory and work).
pub const SCALE_SAMPLE: usize = 4;
/// Points needed before anything is scored.
pub const WARMUP: usize = 30;

/// Days compared for the seasonal expectation (the median of the same phase on each).
pub const SEASONAL_DAYS: usize = 3;
/// Days of history before the seasonal channel scores anything.
pub const SEASONAL_START: usize = 2;
/// Days the seasonal channel must have scored before it may speak for the series.
pub const SEASONAL_WARMUP: usize = 2;
/// The series is seasonal while its mean |seasonal residual| is below this share of its mean
/// |level residual| (the day's shape removes at least 30 % of the spread).
pub const SEASONAL_RATIO: f64 = 0.7;
/// Longest period (points per day) the seasonal channel keeps: one-minute data.
pub const MAX_PERIOD: usize = 1_440;
/// Timestamp steps looked at to find the series' step.
const STEP_PROBE: usize = 16;
/// Seasonal residuals needed before their scale is trusted.
const SEASONAL_MIN_RESIDUALS: usize = 50;

/// Points of history before novelty counts.
pub const NOVELTY_MIN: usize = 100;
/// Weight of novelty (distance beyond the range of the last [`LONG`] values, in ranges).
pub const NOVELTY_WEIGHT: f64 = 5.0;

const CLIP_Z: f64 = 4.0;

/// A bounded FIFO paired with a sorted copy, for sliding medians.
#[derive(Clone, Debug, Default)]
struct Rolling {
    cap: usize,
    fifo: VecDeque<f64>,
    sorted: SortedWindow,
    sum: f64,
}

impl Rolling {
    fn new(cap: usize) -> Self {
        Rolling {
            cap,
            fifo: VecDeque::with_capacity(cap + 1),
            sorted: SortedWindow::with_capacity(cap + 1),
            sum: 0.0,
        }
    }
    fn push(&mut self, x: f64) {
        // Drop the oldest first, so a full window (also a freshly cloned one) never grows.
        if self.fifo.len() >= self.cap {
            if let Some(old) = self.fifo.pop_front() {
                self.sorted.remove(old);
                self.sum -= old;
            }
        }
        self.fifo.push_back(x);
        self.sorted.insert(x);
        self.sum += x;
    }
    /// Mean of the window (running sum; 0 when empty).
    fn mean(&self) -> f64 {
        match self.fifo.len() {
            0 => 0.0,
            n => self.sum / n as f64,
        }
    }
}

/// Running sum over a bounded FIFO.
#[derive(Clone, Debug, Default)]
struct Summed {
    cap: usize,
    fifo: VecDeque<f64>,
    sum: f64,
}

impl Summed {
    fn new(cap: usize) -> Self {
        Summed {
            cap,
            fifo: VecDeque::with_capacity(cap + 1),
            sum: 0.0,
        }
    }
    fn push(&mut self, x: f64) {
        self.fifo.push_back(x);
        self.sum += x;
        if self.fifo.len() > self.cap {
            if let Some(old) = self.fifo.pop_front() {
                self.sum -= old;
            }
        }
    }
    fn mean(&self) -> f64 {
        if self.fifo.is_empty() {
            0.0
        } else {
            self.sum / self.fifo.len() as f64
        }
    }
}

/// Mean and variance over all points so far while fewer than [`LONG`], then exponentially
/// weighted with weight `1 / LONG` (no buffer: O(1) memory).
#[derive(Clone, Debug, Default)]
struct Ewma {
    count: usize,
    mean: f64,
    var: f64,
}

impl Ewma {
    fn push(&mut self, x: f64) {
        self.count += 1;
        let a = 1.0 / self.count.min(LONG) as f64;
        let d = x - self.mean;
        self.mean += a * d;
        self.var = (1.0 - a) * (self.var + a * d * d);
    }
    fn mean(&self) -> f64 {
        self.mean
    }
    fn sd(&self) -> f64 {
        self.var.max(0.0).sqrt()
    }
}

/// Sliding maximum (monotonic deque of (index, value)).
#[derive(Clone, Debug, Default)]
struct SlidingMax {
    width: usize,
    q: VecDeque<(usize, f64)>,
}

impl SlidingMax {
    fn push(&mut self, i: usize, x: f64) {
        while self.q.back().is_some_and(|&(_, v)| v <= x) {
            self.q.pop_back();
        }
        self.q.push_back((i, x));
        while self.q.front().is_some_and(|&(j, _)| j + self.width <= i) {
            self.q.pop_front();
        }
    }
    fn max(&self) -> f64 {
        self.q.front().map_or(0.0, |&(_, v)| v)
    }
}

/// Surprise of a stream of |z| values: the mean of the last [`SHORT`] against the exponentially
/// weighted mean and spread of all earlier ones, as `-log10` of a Gaussian tail, divided by 10.
#[derive(Clone, Debug)]
struct Surprise {
    short: Summed,
    zs: Ewma,
}

impl Surprise {
    fn new() -> Self {
        Surprise {
            short: Summed::new(SHORT),
            zs: Ewma::default(),
        }
    }
    /// Learns `az` and returns the surprise of the window that it ends.
    fn push(&mut self, az: f64) -> f64 {
        let az = soften(az);
        let (mu, sd) = (self.zs.mean(), self.zs.sd());
        self.short.push(az);
        self.zs.push(az);
        let s = self.short.mean();
        let sd = sd.max(0.25);
        let tail = 0.5 * erfc((s - mu) / sd / std::f64::consts::SQRT_2);
        (-tail.max(1e-300).log10()).max(0.0) / 10.0
    }
    /// How many values it has learnt.
    fn count(&self) -> usize {
        self.zs.count
    }
}

/// |z| beyond about [`SOFT_Z`] counts logarithmically: `c · ln(1 + |z| / c)`, so that one huge
/// outlier on a spiky series (where the scale says little about the tail) does not dominate the
/// short mean.
fn soften(az: f64) -> f64 {
    SOFT_Z * (az / SOFT_Z).ln_1p()
}

/// The daily seasonal channel (module docs, step 3).
#[derive(Clone, Debug)]
struct Seasonal {
    /// First timestamps, until the step is known.
    probe: Vec<i64>,
    /// Points per day; 0 while unknown or when the step does not divide a day.
    period: usize,
    /// The last `SEASONAL_DAYS · period` finite values.
    ring: VecDeque<f64>,
    resid: Rolling,
    surprise: Surprise,
}

/// Points per day for a sampling step in seconds, when the step divides a day into at least 4
/// and at most [`MAX_PERIOD`] points.
fn day_period(step: i64) -> usize {
    const DAY: i64 = 86_400;
    if step <= 0 || DAY % step != 0 {
        return 0;
    }
    let per = (DAY / step) as usize;
    if (4..=MAX_PERIOD).contains(&per) {
        per
    } else {
        0
    }
}

impl Seasonal {
    fn new() -> Self {
        Seasonal {
            probe: Vec::with_capacity(STEP_PROBE + 1),
            period: 0,
            ring: VecDeque::new(),
            resid: Rolling::new(SCALE_WINDOW / SCALE_SAMPLE),
            surprise: Surprise::new(),
        }
    }

    /// Notes a timestamp; after [`STEP_PROBE`] steps the median step fixes the period.
    fn learn_time(&mut self, t: i64) {
        if self.probe.len() > STEP_PROBE {
            return;
        }
        self.probe.push(t);
        if self.probe.len() == STEP_PROBE + 1 {
            let mut steps: Vec<i64> = self.probe.windows(2).map(|w| w[1] - w[0]).collect();
            steps.sort_unstable();
            self.period = day_period(steps[steps.len() / 2]);
            if self.period == 0 {
                self.ring = VecDeque::new();
            } else {
                self.ring.reserve(SEASONAL_DAYS * self.period + 1);
            }
        }
    }

    /// Scores `y` against the same phase on earlier days and learns it. Returns the surprise and
    /// the mean |seasonal residual| of the window, or `None` while the channel cannot judge yet.
    fn push(&mut self, i: usize, y: f64, floor: f64) -> Option<(f64, f64)> {
        let per = self.period;
        if per == 0 {
            // Keep the first values while the step is being found.
            if self.probe.len() <= STEP_PROBE {
                self.ring.push_back(y);
            }
            return None;
        }
        let mut out = None;
        if self.ring.len() >= SEASONAL_START * per {
            let mut prev = [0.0; SEASONAL_DAYS];
            let mut m = 0;
            for k in 1..=SEASONAL_DAYS {
                if let Some(j) = self.ring.len().checked_sub(k * per) {
                    prev[m] = self.ring[j];
                    m += 1;
                }
            }
            let prev = &mut prev[..m];
            prev.sort_unstable_by(f64::total_cmp);
            let expected = if m % 2 == 1 {
                prev[m / 2]
            } else {
                prev[m / 2 - 1] / 2.0 + prev[m / 2] / 2.0
            };
            let r = y - expected;
            let scale = robust_scale(&self.resid).max(floor);
            if i.is_multiple_of(SCALE_SAMPLE) {
                self.resid.push(r.abs());
            }
            if self.resid.fifo.len() >= SEASONAL_MIN_RESIDUALS {
                let s = self.surprise.push((r.abs() / scale).min(50.0));
                out = Some((s, self.resid.mean()));
            }
        }
        if self.ring.len() >= SEASONAL_DAYS * per {
            self.ring.pop_front();
        }
        self.ring.push_back(y);
        out
    }

    /// Whether the channel has scored enough days to speak for the series.
    fn warm(&self) -> bool {
        self.period > 0 && self.surprise.count() >= SEASONAL_WARMUP * self.period
    }
}

/// Scaled median |residual| of a window, falling back to the scaled mean for sparse series.
fn robust_scale(resid: &Rolling) -> f64 {
    let mad = resid.sorted.median().unwrap_or(0.0) * MAD_SCALE;
    if mad > 0.0 {
        mad
    } else {
        resid.sorted.mean().unwrap_or(0.0) * MEAN_AD_SCALE
    }
}

/// Streaming state for one series; see the module docs.
#[derive(Clone, Debug)]
pub struct Detector {
    n: usize,
    base: Rolling,
    resid: Rolling,
    /// Running max of the values and of their negation over the last [`LONG`] points.
    hi: SlidingMax,
    lo: SlidingMax,
    /// Values of the last [`LONG`] points (for their mean level).
    values: Ewma,
    level: Surprise,
    seasonal: Seasonal,
    /// The surprises given so far (after warm-up), for the series' usual surprise.
    surprises: Ewma,
    recent_scores: SlidingMax,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector {
    pub fn new() -> Self {
        Detector {
            n: 0,
            base: Rolling::new(BASE_WINDOW),
            resid: Rolling::new(SCALE_WINDOW / SCALE_SAMPLE),
            hi: SlidingMax {
                width: LONG,
                q: VecDeque::new(),
            },
            lo: SlidingMax {
                width: LONG,
                q: VecDeque::new(),
            },
            values: Ewma::default(),
            level: Surprise::new(),
            seasonal: Seasonal::new(),
            surprises: Ewma::default(),
            recent_scores: SlidingMax {
                width: SUPPRESS,
                q: VecDeque::new(),
            },
        }
    }

    /// Scores one point (non-finite values score 0 and are not learnt).
    pub fn push(&mut self, t: i64, y: f64) -> f64 {
        if !y.is_finite() {
            return 0.0;
        }
        self.seasonal.learn_time(t);
        let i = self.n;
        self.n += 1;
        let Some(center) = self.base.sorted.median() else {
            self.base.push(y);
            self.seasonal.push(i, y, 1e-9);
            self.learn_value(i, y);
            return 0.0;
        };
        let level = self.values.mean().abs();
        let floor = (1e-3 * level).max(1e-9);
        let scale = robust_scale(&self.resid).max(floor);
        let z = (y - center) / scale;
        let az = z.abs().min(50.0);
        // Learn (clipped) before scoring the next point.
        let clipped = center + z.clamp(-CLIP_Z, CLIP_Z) * scale;
        // Novelty needs a history long enough for its range to mean something.
        let novelty = match i >= NOVELTY_MIN {
            true => {
                let (lo, hi) = (self.min_value(), self.max_value());
                let range = (hi - lo).max(scale);
                if y > hi {
                    (y - hi) / range
                } else if y < lo {
                    (lo - y) / range
                } else {
                    0.0
                }
            }
            _ => 0.0,
        };
        self.base.push(clipped);
        if i.is_multiple_of(SCALE_SAMPLE) {
            self.resid.push((y - center).abs());
        }
        self.learn_value(i, y);
        let level_surprise = self.level.push(az);
        let warm = self.seasonal.warm();
        let seasonal = self.seasonal.push(i, y, floor);
        if i < WARMUP {
            return 0.0;
        }
        let surprise = match seasonal {
            Some((s, seasonal_spread))
                if warm && seasonal_spread < SEASONAL_RATIO * self.resid.mean() =>
            {
                s
            }
            _ => level_surprise,
        };
        // Judged against this series' own usual surprise: what exceeds its mean by
        // USUAL_SURPRISE_SDS spreads counts (noisy series are surprised more often).
        let usual = self.surprises.mean() + USUAL_SURPRISE_SDS * self.surprises.sd();
        self.surprises.push(surprise);
        let surprise = (surprise - usual).max(0.0);
        let raw = (surprise + NOVELTY_WEIGHT * novelty).clamp(0.0, 1.0);
        let prev_max = self.recent_scores.max();
        self.recent_scores.push(i, raw);
        if raw > prev_max {
            raw
        } else {
            0.0
        }
    }

    fn learn_value(&mut self, i: usize, y: f64) {
        self.values.push(y);
        self.hi.push(i, y);
        self.lo.push(i, -y);
    }
    fn min_value(&self) -> f64 {
        -self.lo.max()
    }
    fn max_value(&self) -> f64 {
        self.hi.max()
    }
}

/// Scores a whole series with a fresh [`Detector`] (what `pagerpilot detect` prints).
pub fn detect_scores(ts: &[i64], ys: &[f64]) -> Vec<f64> {
    let mut d = Detector::new();
    ts.iter().zip(ys).map(|(&t, &y)| d.push(t, y)).collect()
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
