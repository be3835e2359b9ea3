//! Change detection on per-interval pattern counts: NEW, SURGE and VANISHED.
//!
//! Input: for each pattern, its line counts per interval over the span the loaded logs cover,
//! oldest first, the last interval being "now" ([`assess`]). The rules are pure and have one
//! configuration for every source:
//! * **Baseline rate** λ of a run of intervals: the *median* when at least half of them have
//!   lines (robust to a past burst), else their mean.
//! * **SURGE** (a rate anomaly): an interval `j` among the last [`SURGE_WINDOW`] whose count
//!   `x` is improbable under a Poisson rate λ = max(baseline rate of the intervals before `j`,
//!   [`RATE_FLOOR`]). Its score is the tail probability as `−log10 P(X ≥ x | λ)`; the interval
//!   surges when the score is at least [`SURGE_SCORE`] (p ≤ 10⁻⁶, strict because every
//!   pattern and interval is tested), and, since real log rates are over-dispersed, also
//!   `x ≥ ` [`SURGE_FACTOR`]` × max(λ, q90)` (q90: the 90th percentile of the earlier
//!   intervals, so a periodic batch job is not a surge) and `x ≥ ` [`MIN_SURGE_LINES`]. At least [`MIN_BASELINE`]
//!   earlier intervals are needed. The change is dated at the first surging interval of the
//!   window and scored by the most improbable one.
//! * **NEW**: the pattern's first interval with lines lies within the last [`NEW_WINDOW`]
//!   intervals, after at least [`MIN_ABSENT`] covered intervals without it.
//! * **VANISHED**: no lines in the last `r ≥ 1` intervals, after a baseline (the intervals
//!   before those, at least [`MIN_BASELINE`]) with lines in at least half of its intervals,
//!   whose rate λ makes `r` empty intervals improbable: λ·r ≥ [`VANISH_EXPECTED`] (Poisson
//!   P(0) = e^(−λr) ≤ 0.25 %). A heartbeat that stops is the typical case.
//!
//! One kind per pattern: VANISHED (judged on the last interval) first, then NEW, then SURGE.

/// Fewest earlier intervals before a surge or a vanishing is judged.
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
/// Least ratio of an interval's count to the baseline rate for a surge.
pub const SURGE_FACTOR: f64 = 3.0;
/// Least surge score, `−log10` of the Poisson tail probability.
pub const SURGE_SCORE: f64 = 6.0;
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
    /// Baseline rate (lines per interval) it was measured against (NEW: 0).
    pub expected: f64,
    /// SURGE: `−log10 P(X ≥ count | expected)`; VANISHED: the expected lines it missed;
    /// NEW: the lines since it appeared.
    pub score: f64,
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
    })
}

fn surge(counts: &[u64]) -> Option<Change> {
    let from = counts.len().saturating_sub(SURGE_WINDOW).max(MIN_BASELINE);
    let mut found: Option<Change> = None;
    for j in from..counts.len() {
        let x = counts[j];
        let lambda = baseline_rate(&counts[..j]).max(RATE_FLOOR);
        let usual_peak = quantile(&counts[..j], 0.9) as f64;
        if x < MIN_SURGE_LINES || (x as f64) < SURGE_FACTOR * lambda.max(usual_peak) {
            continue;
        }
        let score = poisson_tail_score(x, lambda);
        if score < SURGE_SCORE {
            continue;
        }
        match &mut found {
            None => {
                found = Some(Change {
                    kind: ChangeKind::Surge,
                    at: j,
                    count: x,
                    expected: lambda,
                    score,
                })
            }
            Some(c) if score > c.score => {
                c.count = x;
                c.expected = lambda;
                c.score = score;
            }
            Some(_) => {}
        }
    }
    found
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
mod tests {
    use super::*;

    /// A steady series with Poisson-like wobble around `rate`, `n` intervals long.
    fn steady(rate: u64, n: usize) -> Vec<u64> {
        (0..n)
            .map(|i| rate + [0, 1, 0, 2, 1][i % 5] - (rate > 2) as u64)
            .collect()
    }

    #[test]
    fn the_tail_score_matches_hand_computed_poisson_tails() {
        // P(X >= 1 | 1) = 1 - e^-1; P(X >= 3 | 0.5) = 1 - e^-0.5 (1 + 0.5 + 0.125).
        let p1 = 1.0 - (-1.0f64).exp();
        assert!((poisson_tail_score(1, 0.5) - -(1.0 - (-0.5f64).exp()).log10()).abs() < 1e-9);
        let p3 = 1.0 - (-0.5f64).exp() * 1.625;
        assert!((poisson_tail_score(3, 0.5) - -p3.log10()).abs() < 1e-9);
        // x <= lambda carries no evidence of a rise.
        assert_eq!(poisson_tail_score(1, 1.0), 0.0);
        assert!(p1 > 0.0);
        // Large counts stay finite and grow: P(X >= 60 | 10) is about 1e-23.
        // P(X >= 60 | 10) = 10^-26.1856 (summed exactly elsewhere).
        let big = poisson_tail_score(60, 10.0);
        assert!((big - 26.185_625_6).abs() < 1e-6, "{big}");
        assert!(poisson_tail_score(61, 10.0) > big);
        let huge = poisson_tail_score(1_000_000, 3.0);
        assert!(huge.is_finite() && huge > 1e6, "{huge}");
        assert_eq!(poisson_tail_score(5, 0.0), 0.0);
        assert_eq!(poisson_tail_score(5, f64::NAN), 0.0);
        // Stirling's series agrees with the exact sum where they meet.
        let exact: f64 = (2..=25u64).map(|k| (k as f64).ln()).sum();
        assert!((ln_factorial(25) - exact).abs() < 1e-9);
    }

    #[test]
    fn a_burst_of_a_steady_pattern_surges() {
        let mut s = steady(10, 30);
        s.push(60);
        let c = assess(&s).expect("surge");
        assert_eq!(c.kind, ChangeKind::Surge);
        assert_eq!((c.count, c.at), (60, 30));
        assert!(c.expected >= 9.0 && c.expected <= 11.0, "{c:?}");
        assert!(c.score > 20.0, "{c:?}");
        // A normal interval is nothing.
        let mut calm = steady(10, 30);
        calm.push(13);
        assert_eq!(assess(&calm), None);
        // 2.5 times the rate: neither improbable enough nor past the factor that
        // over-dispersed real logs need.
        let mut double = steady(10, 30);
        double.push(25);
        assert_eq!(assess(&double), None);
    }

    #[test]
    fn a_surge_is_reported_through_its_window_and_dated_at_its_start() {
        let mut s = steady(10, 30);
        s.extend([80, 120, 15]);
        let c = assess(&s).expect("surge");
        assert_eq!(c.kind, ChangeKind::Surge);
        assert_eq!(c.at, 30);
        assert_eq!(
            c.count, 120,
            "scored by the most improbable interval: {c:?}"
        );
        s.extend(std::iter::repeat_n(10, SURGE_WINDOW - 3));
        assert_eq!(assess(&s).map(|c| c.at), Some(30));
        // Once the first burst interval leaves the window, the second one dates it.
        s.push(10);
        assert_eq!(assess(&s).map(|c| (c.at, c.count)), Some((31, 120)));
        s.push(10);
        assert_eq!(assess(&s), None);
    }

    #[test]
    fn the_median_ignores_a_past_burst() {
        let mut s = steady(10, 30);
        s[12] = 500;
        s.push(60);
        assert_eq!(assess(&s).map(|c| c.kind), Some(ChangeKind::Surge));
    }

    #[test]
    fn rare_patterns_need_a_real_burst() {
        // One line every few intervals: 3 lines now is noise, 12 is a surge.
        let mut rare: Vec<u64> = (0..30).map(|i| u64::from(i % 4 == 0)).collect();
        rare.push(3);
        assert_eq!(assess(&rare), None);
        *rare.last_mut().unwrap() = 12;
        assert_eq!(assess(&rare).map(|c| c.kind), Some(ChangeKind::Surge));
    }

    #[test]
    fn a_pattern_absent_from_the_baseline_is_new() {
        let mut s = vec![0; MIN_ABSENT + 10];
        s.push(4);
        let c = assess(&s).expect("new");
        assert_eq!(c.kind, ChangeKind::New);
        assert_eq!((c.count, c.at), (4, MIN_ABSENT + 10));
        // It stays new while it keeps going, within the window, even when it grows.
        s.extend([40, 400]);
        assert_eq!(
            assess(&s).map(|c| (c.kind, c.at)),
            Some((ChangeKind::New, 40))
        );
        // Without enough history before it, it is not judged.
        let mut short = vec![0; MIN_ABSENT - 1];
        short.push(4);
        assert_eq!(assess(&short), None);
        assert_eq!(assess(&[]), None);
        // First seen longer ago than the window: no longer new.
        let mut old = vec![0; MIN_ABSENT];
        old.extend(std::iter::repeat_n(3, NEW_WINDOW + 1));
        assert_eq!(assess(&old), None);
    }

    #[test]
    fn a_steady_pattern_that_stops_vanishes() {
        let mut s = steady(4, 30);
        s.push(0);
        // One empty interval at ~4 lines per interval: e^-4 is not unlikely enough yet.
        assert_eq!(assess(&s), None);
        s.push(0);
        let c = assess(&s).expect("vanished");
        assert_eq!(c.kind, ChangeKind::Vanished);
        assert_eq!(c.at, 29);
        assert!(c.score >= VANISH_EXPECTED);
        // A heartbeat of one line per interval vanishes after six silent intervals.
        let mut beat = vec![1; 40];
        beat.extend([0; 5]);
        assert_eq!(assess(&beat), None);
        beat.push(0);
        assert_eq!(assess(&beat).map(|c| c.kind), Some(ChangeKind::Vanished));
        // A pattern that was mostly silent does not vanish, and its regular batches of
        // 20 lines every five intervals are not surges either.
        let mut sparse: Vec<u64> = (0..30).map(|i| u64::from(i % 5 == 0) * 20).collect();
        sparse.extend([0, 0, 0]);
        assert_eq!(assess(&sparse), None);
    }
}
