//! Change detection on per-interval pattern counts: NEW, SURGE and VANISHED.
//!
//! Input: for each pattern, its line counts per interval over the span the loaded logs cover,
//! oldest first, the last interval being "now" ([`assess`]). The rules are pure and have one
//! configuration for every source:
//! * **Baseline rate** λ of a run of intervals (VANISHED): the *median* when at least half of
//!   them have lines (robust to a past burst), else their mean.
//! * **SURGE** (a rate anomaly): the counts, as a series with one point per interval, go through
//!   the metric anomaly model, [`anomaly::score_series`]: each interval's expectation is the
//!   median of the (up to 60) intervals before it, where earlier bursts were kept clipped to
//!   the band so one does not lift it; its σ is a robust spread of the series' own earlier
//!   residuals (scaled median |residual| over up to 360 intervals, or the scaled mean |residual|
//!   when most are zero; at least 0.5 % of the expectation), so a pattern whose rate usually
//!   wobbles a lot needs a bigger jump; the first dozen or so intervals are not scored. An interval `j` among the last
//!   [`SURGE_WINDOW`] surges when all of these hold:
//!   1. *anomalous under the model:* its score is at least [`anomaly::ANOMALOUS`] (0.5, which
//!      `score_from_z` gives at [`SURGE_SIGMA`] = 4σ) and its count `x` is above the
//!      expectation (direction up: a drop is never a surge);
//!   2. *not noise, and not its usual peak:* `x ≥ ` [`MIN_SURGE_LINES`], and `x` is
//!      improbable even at the pattern's usual busy rate: with λ = max(the model's
//!      expectation, [`RATE_FLOOR`]) and q90 the 90th percentile of all earlier intervals, the
//!      Poisson tail score `−log10 P(X ≥ x | max(λ, q90))` ([`poisson_tail_score`]) is at least
//!      [`SURGE_SCORE`] (p ≤ 10⁻⁶, strict because every pattern and interval is tested).
//!      The model's σ of a quiet pattern can be tiny (for one line every minute it is the
//!      floor, so 3 lines are hundreds of σ): the line floor and the Poisson guard are what
//!      keep small counts from surging. And the model's robust σ deliberately ignores bursts in fewer than half
//!      of the intervals, so it is q90 that keeps a pattern that is regularly bursty at that
//!      level (a batch job every few minutes: q90 is its batch size) from surging;
//!   3. *not a level it keeps reaching:* fewer than [`PRECEDENTS`] earlier intervals had at
//!      least half of `x` lines, so a batch job too rare for q90 to see (every 15 minutes)
//!      surges on its first two runs only, and after that only when a run is more than twice
//!      the size of its usual ones.
//!
//!   Over-dispersion (real log rates swing more than Poisson) is the model's part: its σ is
//!   the pattern's own usual swing, so a count the Poisson guard finds improbable but that is
//!   within 4σ of what this pattern usually does is not a surge. (Before the model, a fixed
//!   `x ≥ 3 × max(λ, q90)` stood in for that.)
//!
//!   At least [`MIN_BASELINE`] earlier intervals are needed. The change is dated at the first
//!   surging interval of the window and described by the one furthest above its expectation
//!   (in σ): its count, λ, σ and Poisson score. The model runs only for a pattern with an
//!   interval in the window that passes rule 2 with [`RATE_FLOOR`] in place of λ (a
//!   necessary condition that needs no model), so a pattern without a candidate costs nothing.
//!
//!   *Why this model and not the streaming detector* (`anomaly::detect`): the detector judges
//!   the mean |z| of the last five points against the series' whole history and counts novelty
//!   only after 100 points; on a two-hour per-minute count series that dilutes a one-minute
//!   burst five-fold, so a pattern jumping from about 2 to 400 lines a minute after 70 minutes
//!   scored 0.02 of 1 there, against 268σ (score 1) here.
//!   `score_series` is causal, scores from about a dozen intervals on, gives a signed
//!   deviation in σ that the explanation can quote, and has no suppression window that would
//!   hide a second surge behind an earlier one.
//! * **NEW**: the pattern's first interval with lines lies within the last [`NEW_WINDOW`]
//!   intervals, after at least [`MIN_ABSENT`] covered intervals without it.
//! * **VANISHED**: no lines in the last `r ≥ 1` intervals, after a baseline (the intervals
//!   before those, at least [`MIN_BASELINE`]) with lines in at least half of its intervals,
//!   whose rate λ makes `r` empty intervals improbable: λ·r ≥ [`VANISH_EXPECTED`] (Poisson
//!   P(0) = e^(−λr) ≤ 0.25 %). A heartbeat that stops is the typical case.
//!
//! One kind per pattern: VANISHED (judged on the last interval) first, then NEW, then SURGE.
use crate::analysis::anomaly;
use crate::domain::Series;

/// Fewest earlier intervals before a surge or a vanishing is judged (a surge also needs the
/// anomaly model to score its interval, which takes about a dozen).
pub const MIN_BASELINE: usize = 5;
/// Covered intervals without the pattern before it can be NEW.
pub const MIN_ABSENT: usize = 30;
/// A pattern first seen within this many last intervals is NEW (given [`MIN_ABSENT`]).
pub const NEW_WINDOW: usize = 60;
/// Intervals (counting "now") in which a surge is still reported.
pub const SURGE_WINDOW: usize = 10;
/// Least baseline rate (lines per interval) a surge is measured against.
pub const RATE_FLOOR: f64 = 0.5;
/// Fewest lines in an interval for a surge.
pub const MIN_SURGE_LINES: u64 = 5;
/// Earlier intervals with at least half a candidate's lines that make it a usual level, not a
/// surge.
pub const PRECEDENTS: usize = 2;
/// Least surge score, `−log10` of the Poisson tail probability.
pub const SURGE_SCORE: f64 = 6.0;
/// Deviation (in the anomaly model's σ) at which the model's score reaches
/// [`anomaly::ANOMALOUS`]: the least rise of a surging interval above its expectation.
pub const SURGE_SIGMA: f64 = 4.0;
/// Seconds between the points of the series handed to the model (one interval; the model only
/// uses the spacing for its daily channel, which two hours of history never reach).
const INTERVAL_SECS: i64 = 60;
/// Expected lines in the empty tail for a pattern to count as vanished.
pub const VANISH_EXPECTED: f64 = 6.0;

/// What changed.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    New,
    Surge,
    Vanished,
}

impl ChangeKind {
    /// The badge text (`NEW`, `SURGE`, `VANISHED`).
    pub fn badge(self) -> &'static str {
        match self {
            ChangeKind::New => "NEW",
            ChangeKind::Surge => "SURGE",
            ChangeKind::Vanished => "VANISHED",
        }
    }
}

/// One pattern's change.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    /// The interval it dates from: NEW its first interval with lines, SURGE the first
    /// surging interval in the window, VANISHED the last interval with lines.
    pub at: usize,
    /// Lines in the interval that scored (NEW: in its first interval; VANISHED: 0).
    pub count: u64,
    /// Baseline rate (lines per interval) it was measured against (SURGE: the anomaly model's
    /// expectation, at least [`RATE_FLOOR`]; NEW: 0).
    pub expected: f64,
    /// SURGE: `−log10 P(X ≥ count)` at the usual peak rate, `max(expected, q90)` (module
    /// docs); VANISHED: the expected lines it missed; NEW: the lines since it appeared.
    pub score: f64,
    /// SURGE: how far `count` is above the model's expectation, in the model's σ; else 0.
    pub sigma: f64,
}

/// The change of one series (see the module docs), if any.
pub fn assess(counts: &[u64]) -> Option<Change> {
    if counts.last() == Some(&0) {
        if let Some(c) = vanished(counts) {
            return Some(c);
        }
    }
    new(counts).or_else(|| surge(counts))
}

fn new(counts: &[u64]) -> Option<Change> {
    let first = counts.iter().position(|&c| c > 0)?;
    (first >= MIN_ABSENT && counts.len() - first <= NEW_WINDOW).then(|| Change {
        kind: ChangeKind::New,
        at: first,
        count: counts[first],
        expected: 0.0,
        score: counts[first..].iter().sum::<u64>() as f64,
        sigma: 0.0,
    })
}

fn surge(counts: &[u64]) -> Option<Change> {
    let from = counts.len().saturating_sub(SURGE_WINDOW).max(MIN_BASELINE);
    // The cheap guards first (minimum lines, improbable at the usual peak), so the model runs
    // only for a pattern with a candidate interval.
    let candidates: Vec<(usize, f64)> = (from..counts.len())
        .filter_map(|j| {
            let x = counts[j];
            // max(λ, q90) ≥ this, so passing here is necessary for passing rule 2.
            let usual_peak = (quantile(&counts[..j], 0.9) as f64).max(RATE_FLOOR);
            let plausible = x < MIN_SURGE_LINES || poisson_tail_score(x, usual_peak) < SURGE_SCORE;
            (!plausible && !reached_before(&counts[..j], x)).then_some((j, usual_peak))
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let rates = rate_model(counts);
    let mut found: Option<Change> = None;
    for (j, usual_peak) in candidates {
        let (x, Some(rate)) = (counts[j], rates.get(j)) else {
            continue;
        };
        if !rate.surges() {
            continue;
        }
        let lambda = rate.expected.max(RATE_FLOOR);
        let score = poisson_tail_score(x, lambda.max(usual_peak));
        if score < SURGE_SCORE {
            continue;
        }
        let this = Change {
            kind: ChangeKind::Surge,
            at: j,
            count: x,
            expected: lambda,
            score,
            sigma: rate.sigma,
        };
        match &mut found {
            None => found = Some(this),
            // Dated at the first surging interval, described by the most anomalous one.
            Some(c) if this.sigma > c.sigma => *c = Change { at: c.at, ..this },
            Some(_) => {}
        }
    }
    found
}

/// Whether `earlier` holds at least [`PRECEDENTS`] intervals with at least half of `x` lines:
/// a level the pattern keeps reaching (a batch job too rare for the 90th percentile) is not
/// a surge.
fn reached_before(earlier: &[u64], x: u64) -> bool {
    earlier
        .iter()
        .filter(|&&c| c.saturating_mul(2) >= x)
        .take(PRECEDENTS)
        .count()
        >= PRECEDENTS
}

/// One interval as the anomaly model sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rate {
    /// The model's expected count (from earlier intervals only).
    pub expected: f64,
    /// Signed deviation from the expectation in the model's σ (0 where it does not score).
    pub sigma: f64,
    /// The model's anomaly score in [0, 1].
    pub score: f64,
}

impl Rate {
    /// Anomalous under the model, and above its expectation.
    pub fn surges(&self) -> bool {
        self.score >= anomaly::ANOMALOUS && self.sigma > 0.0
    }
}

/// Every interval of `counts` scored by [`anomaly::score_series`] (see the module docs).
pub(crate) fn rate_model(counts: &[u64]) -> Vec<Rate> {
    let series = Series {
        id: String::new(),
        labels: Default::default(),
        timestamps: (0..counts.len() as i64)
            .map(|i| i * INTERVAL_SECS)
            .collect(),
        values: counts.iter().map(|&c| c as f64).collect(),
        capacity: None,
        slo: None,
        sensitivity: None,
    };
    let a = anomaly::score_series(&series);
    counts
        .iter()
        .enumerate()
        .map(|(j, &x)| {
            let expected = a.expected.get(j).copied().unwrap_or(0.0);
            // Where the model scores, the band is expected ± BAND_Z σ; elsewhere it is empty.
            let half = a.upper.get(j).copied().unwrap_or(expected) - expected;
            let sigma = if half > 0.0 && half.is_finite() {
                (x as f64 - expected) * anomaly::BAND_Z / half
            } else {
                0.0
            };
            Rate {
                expected,
                sigma,
                score: a.scores.get(j).copied().unwrap_or(0.0),
            }
        })
        .collect()
}

fn vanished(counts: &[u64]) -> Option<Change> {
    let zeros = counts.iter().rev().take_while(|&&c| c == 0).count();
    let baseline = &counts[..counts.len() - zeros];
    if zeros == 0 || baseline.len() < MIN_BASELINE {
        return None;
    }
    let active = baseline.iter().filter(|&&c| c > 0).count();
    if active * 2 < baseline.len() {
        return None;
    }
    let lambda = baseline_rate(baseline);
    let missed = lambda * zeros as f64;
    (missed >= VANISH_EXPECTED).then_some(Change {
        kind: ChangeKind::Vanished,
        at: baseline.len() - 1,
        count: 0,
        expected: lambda,
        score: missed,
        sigma: 0.0,
    })
}

/// The `q` quantile (nearest rank) of the intervals; 0 for none.
fn quantile(history: &[u64], q: f64) -> u64 {
    let mut sorted = history.to_vec();
    sorted.sort_unstable();
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(0)
}

/// Median of the intervals when at least half have lines, else the mean.
fn baseline_rate(history: &[u64]) -> f64 {
    if history.is_empty() {
        return 0.0;
    }
    let active = history.iter().filter(|&&c| c > 0).count();
    if active * 2 >= history.len() {
        let mut sorted = history.to_vec();
        sorted.sort_unstable();
        let mid = sorted.len() / 2;
        if sorted.len().is_multiple_of(2) {
            (sorted[mid - 1] + sorted[mid]) as f64 / 2.0
        } else {
            sorted[mid] as f64
        }
    } else {
        history.iter().sum::<u64>() as f64 / history.len() as f64
    }
}

/// `−log10 P(X ≥ x)` for `X ~ Poisson(lambda)`; 0 when `x ≤ lambda` (no evidence of a rise).
pub fn poisson_tail_score(x: u64, lambda: f64) -> f64 {
    if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() || (x as f64) <= lambda {
        return 0.0;
    }
    // ln P(X = x), then the tail Σ_{k ≥ x} P(X = k) = P(X = x) · Σ Π λ/(k+1): the ratios are
    // below one from here on, so the series converges.
    let ln_pmf = -lambda + x as f64 * lambda.ln() - ln_factorial(x);
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut k = x as f64;
    for _ in 0..100_000 {
        term *= lambda / (k + 1.0);
        k += 1.0;
        sum += term;
        if term < sum * 1e-16 {
            break;
        }
    }
    let ln_tail = (ln_pmf + sum.ln()).min(0.0);
    -ln_tail / std::f64::consts::LN_10
}

/// `ln(n!)`: exact below 20, Stirling's series (error < 1e-12 there) above.
fn ln_factorial(n: u64) -> f64 {
    if n < 20 {
        return (2..=n).map(|k| (k as f64).ln()).sum();
    }
    let n = n as f64;
    let inv = 1.0 / n;
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + inv / 12.0 - inv.powi(3) / 360.0
        + inv.powi(5) / 1260.0
}

#[cfg(test)]
#[path = "change_tests.rs"]
mod tests;
