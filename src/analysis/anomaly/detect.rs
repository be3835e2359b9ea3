//! Streaming point detector behind `pagerpilot detect` and the NAB harness.
//!
//! [`Detector::push`] takes one `(timestamp, value)` and returns that point's score in [0, 1]
//! using only the points before it (causal), in O(log W) time:
//!
//! 1. **Residual.** The value minus the median of the last [`BASE_WINDOW`] values, divided by a
//!    robust scale of recent residuals (scaled median |residual| over [`SCALE_WINDOW`], floored so
//!    that a flat series does not explode). Values far outside the band enter the baseline clipped,
//!    so one spike does not drag it.
//! 2. **Surprise.** The residual's tail is judged against the series' own history of residuals,
//!    as Numenta's anomaly likelihood does: the mean |z| over the last [`SHORT`] points is compared
//!    with the mean and spread of |z| over the last [`LONG`] points, giving a Gaussian tail
//!    probability `q`. Novelty (a value beyond everything in the last [`LONG`] points) adds to it.
//! 3. **Score.** `-log10(q)` mapped to [0, 1] (1 at q = 1e-10), then suppressed: a point scores
//!    fully only if it beats every score of the previous [`SUPPRESS`] points, so one event gives
//!    one detection rather than a burst.
use std::collections::VecDeque;

use crate::analysis::stats::{SortedWindow, MAD_SCALE, MEAN_AD_SCALE};

/// Points in the rolling median baseline.
pub const BASE_WINDOW: usize = 30;
/// Residuals used for the robust scale.
pub const SCALE_WINDOW: usize = 400;
/// Points averaged for the short-term surprise.
pub const SHORT: usize = 5;
/// Points of history the surprise is judged against.
pub const LONG: usize = 800;
/// Points a detection suppresses after it.
pub const SUPPRESS: usize = 200;
/// Points needed before anything is scored.
pub const WARMUP: usize = 30;

const CLIP_Z: f64 = 4.0;

/// A bounded FIFO paired with a sorted copy, for sliding medians.
#[derive(Clone, Debug, Default)]
struct Rolling {
    cap: usize,
    fifo: VecDeque<f64>,
    sorted: SortedWindow,
}

impl Rolling {
    fn new(cap: usize) -> Self {
        Rolling {
            cap,
            fifo: VecDeque::with_capacity(cap + 1),
            sorted: SortedWindow::with_capacity(cap + 1),
        }
    }
    fn push(&mut self, x: f64) {
        self.fifo.push_back(x);
        self.sorted.insert(x);
        if self.fifo.len() > self.cap {
            if let Some(old) = self.fifo.pop_front() {
                self.sorted.remove(old);
            }
        }
    }
}

/// Running sum over a bounded FIFO.
#[derive(Clone, Debug, Default)]
struct Summed {
    cap: usize,
    fifo: VecDeque<f64>,
    sum: f64,
    sumsq: f64,
}

impl Summed {
    fn new(cap: usize) -> Self {
        Summed {
            cap,
            fifo: VecDeque::with_capacity(cap + 1),
            sum: 0.0,
            sumsq: 0.0,
        }
    }
    fn push(&mut self, x: f64) {
        self.fifo.push_back(x);
        self.sum += x;
        self.sumsq += x * x;
        if self.fifo.len() > self.cap {
            if let Some(old) = self.fifo.pop_front() {
                self.sum -= old;
                self.sumsq -= old * old;
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
    fn sd(&self) -> f64 {
        let n = self.fifo.len() as f64;
        if n < 2.0 {
            return 0.0;
        }
        let m = self.sum / n;
        ((self.sumsq / n - m * m).max(0.0) * n / (n - 1.0)).sqrt()
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

/// Streaming state for one series; see the module docs.
#[derive(Clone, Debug)]
pub struct Detector {
    n: usize,
    base: Rolling,
    resid: Rolling,
    values: Rolling,
    zs: Summed,
    short: Summed,
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
            resid: Rolling::new(SCALE_WINDOW),
            values: Rolling::new(LONG),
            zs: Summed::new(LONG),
            short: Summed::new(SHORT),
            recent_scores: SlidingMax {
                width: SUPPRESS,
                q: VecDeque::new(),
            },
        }
    }

    /// Scores one point (non-finite values score 0 and are not learnt).
    pub fn push(&mut self, _t: i64, y: f64) -> f64 {
        if !y.is_finite() {
            return 0.0;
        }
        let i = self.n;
        self.n += 1;
        let Some(center) = self.base.sorted.median() else {
            self.base.push(y);
            self.values.push(y);
            return 0.0;
        };
        let level = self.values.sorted.median().unwrap_or(center).abs();
        let mad = self.resid.sorted.median().unwrap_or(0.0) * MAD_SCALE;
        let scale = if mad > 0.0 {
            mad
        } else {
            self.resid.sorted.mean().unwrap_or(0.0) * MEAN_AD_SCALE
        };
        let scale = scale.max(1e-3 * level).max(1e-9);
        let z = (y - center) / scale;
        let az = z.abs().min(50.0);
        // Learn (clipped) before scoring the next point.
        let clipped = center + z.clamp(-CLIP_Z, CLIP_Z) * scale;
        let novelty = match (self.values.sorted.len(), self.values.fifo.len() >= WARMUP) {
            (_, true) => {
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
        self.resid.push((y - center).abs());
        self.values.push(y);
        let (mu, sd) = (self.zs.mean(), self.zs.sd());
        self.short.push(az);
        self.zs.push(az);
        if i < WARMUP {
            return 0.0;
        }
        let s = self.short.mean();
        let sd = sd.max(0.25);
        let tail = 0.5 * erfc((s - mu) / sd / std::f64::consts::SQRT_2);
        let mut surprise = (-tail.max(1e-300).log10()).max(0.0) / 10.0;
        surprise += novelty;
        let raw = surprise.clamp(0.0, 1.0);
        let prev_max = self.recent_scores.max();
        self.recent_scores.push(i, raw);
        if raw > prev_max {
            raw
        } else {
            raw * 0.5
        }
    }

    fn min_value(&self) -> f64 {
        self.values.sorted.min().unwrap_or(0.0)
    }
    fn max_value(&self) -> f64 {
        self.values.sorted.max().unwrap_or(0.0)
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
