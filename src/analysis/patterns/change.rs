//! Change detection on per-interval pattern counts: NEW, SURGE and VANISHED.
//!
//! Input: for each pattern, its line counts per interval, oldest first, all series the same
//! length, the last interval being "now". The rules (pure, no configuration per source):
//! * **NEW**: lines now, none in the baseline (every earlier interval), and the baseline is at
//!   least [`MIN_BASELINE`] intervals long (without history, nothing can be called new).
//! * **SURGE**: a Poisson test against the baseline rate. The baseline rate λ is the *median*
//!   of the earlier intervals when at least half of them have lines (robust to a past burst),
//!   else their mean; λ is floored at [`RATE_FLOOR`]. The interval surges when its count `x`
//!   is at least [`MIN_SURGE_LINES`], at least [`SURGE_FACTOR`] × λ, and its score
//!   z = (x − λ) / √λ is at least [`SURGE_Z`]. NEW patterns are not also SURGE.
//! * **VANISHED**: no lines in the last `r ≥ 1` intervals, after a baseline (the intervals
//!   before those) with lines in at least half of its intervals, whose rate λ makes `r` empty
//!   intervals unlikely: λ·r ≥ [`VANISH_EXPECTED`] (Poisson P(0) = e^(−λr) ≤ 0.25 %).

/// Fewest baseline intervals before anything is judged.
pub const MIN_BASELINE: usize = 5;
/// Least baseline rate (lines per interval) a surge is measured against.
pub const RATE_FLOOR: f64 = 0.5;
/// Fewest lines in the interval for a surge.
pub const MIN_SURGE_LINES: u64 = 5;
/// Least ratio of the interval's count to the baseline rate for a surge.
pub const SURGE_FACTOR: f64 = 3.0;
/// Least Poisson z-score for a surge.
pub const SURGE_Z: f64 = 4.0;
/// Expected lines in the empty tail for a pattern to count as vanished.
pub const VANISH_EXPECTED: f64 = 6.0;

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// One pattern's change in the latest interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    /// Lines in the last interval.
    pub count: u64,
    /// Baseline rate (lines per interval).
    pub expected: f64,
    /// Poisson z-score for a surge; for a vanished pattern the expected lines it missed;
    /// the count for a new one.
    pub score: f64,
}

/// The change of one series (see the module docs), if any.
pub fn detect(counts: &[u64]) -> Option<Change> {
    let (&now, history) = counts.split_last()?;
    if now == 0 {
        return vanished(counts);
    }
    if history.len() < MIN_BASELINE {
        return None;
    }
    if history.iter().all(|&c| c == 0) {
        return Some(Change {
            kind: ChangeKind::New,
            count: now,
            expected: 0.0,
            score: now as f64,
        });
    }
    let lambda = baseline_rate(history).max(RATE_FLOOR);
    let x = now as f64;
    let z = (x - lambda) / lambda.sqrt();
    (now >= MIN_SURGE_LINES && x >= SURGE_FACTOR * lambda && z >= SURGE_Z).then_some(Change {
        kind: ChangeKind::Surge,
        count: now,
        expected: lambda,
        score: z,
    })
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
        count: 0,
        expected: lambda,
        score: missed,
    })
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
    fn a_burst_of_a_steady_pattern_surges() {
        let mut s = steady(10, 30);
        s.push(60);
        let c = detect(&s).expect("surge");
        assert_eq!(c.kind, ChangeKind::Surge);
        assert_eq!(c.count, 60);
        assert!(c.expected >= 9.0 && c.expected <= 11.0, "{c:?}");
        assert!(c.score > 10.0, "{c:?}");
        // A normal interval is nothing.
        let mut calm = steady(10, 30);
        calm.push(13);
        assert_eq!(detect(&calm), None);
    }

    #[test]
    fn the_median_ignores_a_past_burst() {
        let mut s = steady(10, 30);
        s[12] = 500;
        s.push(60);
        assert_eq!(detect(&s).map(|c| c.kind), Some(ChangeKind::Surge));
    }

    #[test]
    fn rare_patterns_need_a_real_burst() {
        // One line every few intervals: 3 lines now is noise, 12 is a surge.
        let mut rare: Vec<u64> = (0..30).map(|i| u64::from(i % 4 == 0)).collect();
        rare.push(3);
        assert_eq!(detect(&rare), None);
        *rare.last_mut().unwrap() = 12;
        assert_eq!(detect(&rare).map(|c| c.kind), Some(ChangeKind::Surge));
    }

    #[test]
    fn a_pattern_absent_from_the_baseline_is_new() {
        let mut s = vec![0; 20];
        s.push(4);
        let c = detect(&s).expect("new");
        assert_eq!(c.kind, ChangeKind::New);
        assert_eq!(c.count, 4);
        // Without enough history it is not judged.
        assert_eq!(detect(&[0, 0, 4]), None);
        assert_eq!(detect(&[]), None);
    }

    #[test]
    fn a_steady_pattern_that_stops_vanishes() {
        let mut s = steady(4, 30);
        s.push(0);
        // One empty interval at ~4 lines per interval: e^-4 is not unlikely enough yet.
        assert_eq!(detect(&s), None);
        s.push(0);
        let c = detect(&s).expect("vanished");
        assert_eq!(c.kind, ChangeKind::Vanished);
        assert!(c.score >= VANISH_EXPECTED);
        // A pattern that was mostly silent does not vanish.
        let mut sparse: Vec<u64> = (0..30).map(|i| u64::from(i % 5 == 0) * 20).collect();
        sparse.extend([0, 0, 0]);
        assert_eq!(detect(&sparse), None);
    }
}
