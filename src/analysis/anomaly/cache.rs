//! Incremental scoring between analyses: the scorer state of each series is kept, and an
//! analysis steps it only through the points that arrived since the last one.
//!
//! * **Reuse.** A series' points are checked against what its cached scorer has seen: the
//!   points they share (from the series' first timestamp to the cache's last) must be equal,
//!   timestamp for timestamp and value for value (bitwise, so NaN matches NaN). The points
//!   after them are scored; a new point costs one scorer step.
//! * **Rebuild.** Anything else — a changed or missing old value, a series that starts after
//!   the cache ends, or a cache holding more points before the series' window than the window
//!   itself (the series' window slid on) — scores the series from scratch, which keeps each
//!   entry under twice its series' length.
//! * **Same answers.** While a series only grows, results equal [`super::score_series`] on the
//!   same points exactly (scoring is causal). Once its window slides, the cached scorer also
//!   remembers up to one window of older history, which a from-scratch scoring of the window
//!   does not have, until the next rebuild.
use std::collections::HashMap;

use super::{finish, Scorer};
use crate::analysis::SeriesAnomaly;
use crate::domain::Series;

/// Scorer states per series id, kept between analyses.
#[derive(Clone, Default)]
pub struct ScoreCache {
    entries: HashMap<String, Entry>,
}

#[derive(Clone)]
struct Entry {
    ts: Vec<i64>,
    ys: Vec<f64>,
    scorer: Scorer,
}

impl Entry {
    fn build(ts: &[i64], ys: &[f64]) -> Entry {
        let mut entry = Entry {
            ts: ts.to_vec(),
            ys: ys.to_vec(),
            scorer: Scorer::new(ts.len()),
        };
        for i in 0..ts.len() {
            entry.scorer.step(&entry.ts, &entry.ys, i);
        }
        entry
    }

    /// Where `ts`/`ys` start in this entry and how many of their points it already holds, if
    /// the entry can be extended to cover them.
    fn overlap(&self, ts: &[i64], ys: &[f64]) -> Option<(usize, usize)> {
        let first = *ts.first()?;
        let from = self.ts.partition_point(|&t| t < first);
        let shared = self.ts.len() - from;
        if shared == 0 || shared > ts.len() || from > ts.len() {
            return None;
        }
        let same_ts = self.ts[from..] == ts[..shared];
        let same_ys = self.ys[from..]
            .iter()
            .zip(&ys[..shared])
            .all(|(a, b)| a.to_bits() == b.to_bits());
        (same_ts && same_ys).then_some((from, shared))
    }
}

impl ScoreCache {
    pub fn new() -> Self {
        ScoreCache::default()
    }

    /// Series with a cached scorer.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every series whose id `keep` rejects (series that left the watch list).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.entries.retain(|id, _| keep(id));
    }

    /// Scores `series` like [`super::score_series`], stepping the cached scorer through new
    /// points only (see the module docs).
    pub fn score(&mut self, series: &Series) -> SeriesAnomaly {
        let n = series.timestamps.len().min(series.values.len());
        let (ts, ys) = (&series.timestamps[..n], &series.values[..n]);
        let reuse = self
            .entries
            .get(&series.id)
            .and_then(|entry| entry.overlap(ts, ys));
        let (entry, from) = match (reuse, self.entries.get_mut(&series.id)) {
            (Some((from, shared)), Some(entry)) => {
                for j in shared..n {
                    entry.ts.push(ts[j]);
                    entry.ys.push(ys[j]);
                    let i = entry.ts.len() - 1;
                    entry.scorer.step(&entry.ts, &entry.ys, i);
                }
                (entry, from)
            }
            _ => {
                let entry = self
                    .entries
                    .entry(series.id.clone())
                    .insert_entry(Entry::build(ts, ys))
                    .into_mut();
                (entry, 0)
            }
        };
        finish(series, &entry.ts, &entry.ys, &entry.scorer, from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::anomaly::score_series;
    use crate::analysis::anomaly::tests::Noise;

    const T0: i64 = 1_700_000_000;

    fn series(id: &str, ts: &[i64], ys: &[f64]) -> Series {
        Series {
            id: id.into(),
            timestamps: ts.to_vec(),
            values: ys.to_vec(),
            ..Series::default()
        }
    }

    /// Two days of a daily cycle with noise and an hour-long shift at the end.
    fn data(n: usize) -> (Vec<i64>, Vec<f64>) {
        let mut noise = Noise::new(9);
        let ts: Vec<i64> = (0..n as i64).map(|i| T0 + 60 * i).collect();
        let ys = (0..n)
            .map(|i| {
                let day = (i as f64 / 1_440.0 * std::f64::consts::TAU).sin();
                let shift = if i + 60 > n { 25.0 } else { 0.0 };
                100.0 + 30.0 * day + noise.normal() + shift
            })
            .collect();
        (ts, ys)
    }

    fn assert_same(a: &SeriesAnomaly, b: &SeriesAnomaly) {
        assert_eq!(a.scores, b.scores);
        assert_eq!(a.expected, b.expected);
        assert_eq!(a.lower, b.lower);
        assert_eq!(a.upper, b.upper);
        assert_eq!(a.onset, b.onset);
        assert_eq!(a.explanation, b.explanation);
    }

    #[test]
    fn growing_a_series_point_by_point_matches_scoring_it_whole() {
        let (ts, ys) = data(2 * 1_440 + 200);
        let mut cache = ScoreCache::new();
        for end in [10, 500, 501, 1_440, 2_000, 2_001, 2_002, ts.len()] {
            let s = series("cpu", &ts[..end], &ys[..end]);
            assert_same(&cache.score(&s), &score_series(&s));
        }
        let last = cache.score(&series("cpu", &ts, &ys));
        assert!(last.onset.is_some(), "{}", last.explanation);
    }

    #[test]
    fn a_changed_old_value_rescores_from_scratch() {
        let (ts, mut ys) = data(1_000);
        let mut cache = ScoreCache::new();
        cache.score(&series("cpu", &ts, &ys));
        ys[10] = f64::NAN;
        let s = series("cpu", &ts, &ys);
        assert_same(&cache.score(&s), &score_series(&s));
        // A shorter series (points vanished at its end) also rescores.
        let s = series("cpu", &ts[..900], &ys[..900]);
        assert_same(&cache.score(&s), &score_series(&s));
    }

    #[test]
    fn a_sliding_window_keeps_results_aligned_and_memory_bounded() {
        let (ts, ys) = data(3_000);
        let mut cache = ScoreCache::new();
        let window = 1_000;
        for end in (window..=ts.len()).step_by(50) {
            let s = series("cpu", &ts[end - window..end], &ys[end - window..end]);
            let a = cache.score(&s);
            assert_eq!(a.scores.len(), window);
            assert_eq!(a.expected.len(), window);
            let entry = &cache.entries["cpu"];
            assert!(entry.ts.len() <= 2 * window + 50, "{}", entry.ts.len());
            assert_eq!(entry.ts.last(), ts.get(end - 1));
        }
    }

    fn bits(xs: &[f64]) -> Vec<u64> {
        xs.iter().map(|x| x.to_bits()).collect()
    }

    proptest::proptest! {
        #[test]
        fn growing_in_arbitrary_steps_matches_scoring_whole(
            gaps in proptest::collection::vec(1i64..4_000, 1..600),
            values in proptest::collection::vec(proptest::num::f64::ANY, 600),
            cuts in proptest::collection::vec(0usize..600, 0..6),
        ) {
            let mut t = T0;
            let ts: Vec<i64> = gaps.iter().map(|g| { t += g; t }).collect();
            let ys = &values[..ts.len()];
            let mut ends: Vec<usize> = cuts.iter().map(|c| c % ts.len() + 1).collect();
            ends.sort_unstable();
            ends.push(ts.len());
            let mut cache = ScoreCache::new();
            for end in ends {
                let s = series("x", &ts[..end], &ys[..end]);
                let (a, b) = (cache.score(&s), score_series(&s));
                proptest::prop_assert_eq!(bits(&a.scores), bits(&b.scores));
                proptest::prop_assert_eq!(bits(&a.expected), bits(&b.expected));
                proptest::prop_assert_eq!(bits(&a.upper), bits(&b.upper));
                proptest::prop_assert_eq!(a.onset, b.onset);
                proptest::prop_assert_eq!(a.explanation, b.explanation);
            }
        }
    }

    #[test]
    fn series_are_cached_by_id_and_forgotten_on_request() {
        let (ts, ys) = data(300);
        let mut cache = ScoreCache::new();
        cache.score(&series("a", &ts, &ys));
        cache.score(&series("b", &ts[..100], &ys[..100]));
        assert_eq!(cache.len(), 2);
        cache.retain(|id| id == "b");
        assert_eq!(cache.len(), 1);
        let empty = series("e", &[], &[]);
        assert!(cache.score(&empty).scores.is_empty());
    }
}
