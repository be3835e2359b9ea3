//! The Numenta Anomaly Benchmark's scoring method, reimplemented from its description
//! (`../shared/bench/README.md`, NAB's `sweeper.py` semantics).
//!
//! * A file is a list of per-row scores plus labelled windows given as inclusive row ranges.
//! * The first `min(floor(0.15 n), 750)` rows (the probation period) are ignored.
//! * A detection (score ≥ threshold) inside a window of `width` rows ending at row `right`
//!   earns `σ(pos) · w_tp / σ(−1)` with `pos = −(right − i + 1) / width`; only the best
//!   (earliest) detection of a window counts; an undetected window costs `−w_fn`.
//! * A detection outside every window costs `w_fp · u`: `u = −1` before the first window and
//!   `u = σ(|right_prev − i| / (width_prev − 1))` after one (σ is −1 beyond 3).
//! * One threshold for the whole corpus, chosen per profile to maximise the summed raw score;
//!   [`sweep`] evaluates every distinct score exactly.

/// Cost weights of one NAB profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

/// NAB's three application profiles.
pub const PROFILES: [Profile; 3] = [
    Profile {
        name: "standard",
        tp: 1.0,
        fp: 0.11,
        fn_: 1.0,
    },
    Profile {
        name: "reward_low_FP",
        tp: 1.0,
        fp: 0.22,
        fn_: 1.0,
    },
    Profile {
        name: "reward_low_FN",
        tp: 1.0,
        fp: 0.11,
        fn_: 2.0,
    },
];

/// NAB's scaled sigmoid: `2 / (1 + e^{5x}) − 1`, and −1 for `x > 3`.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// Probation rows of a file of `n` rows: `min(floor(0.15 n), 750)`.
pub fn probation(n: usize) -> usize {
    (n * 15 / 100).min(750)
}

/// One scored file: scores per row and windows as inclusive `(first_row, last_row)`, in order.
#[derive(Clone, Debug, Default)]
pub struct File {
    pub scores: Vec<f64>,
    pub windows: Vec<(usize, usize)>,
}

/// Where a row sits relative to the windows: inside window `w` with its unweighted value, or
/// outside with its false-positive factor `u` (≤ 0).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    In(usize, f64),
    Out(f64),
}

fn slots(n: usize, windows: &[(usize, usize)]) -> Vec<Slot> {
    let mut out = Vec::with_capacity(n);
    let mut prev: Option<(usize, usize)> = None;
    for i in 0..n {
        if let Some((w, &(left, right))) = windows
            .iter()
            .enumerate()
            .find(|(_, (l, r))| *l <= i && i <= *r)
        {
            let width = (right - left + 1) as f64;
            let pos = -((right - i + 1) as f64) / width;
            out.push(Slot::In(w, scaled_sigmoid(pos)));
            continue;
        }
        if let Some(&(left, right)) = windows.iter().rev().find(|(_, r)| *r < i) {
            prev = Some((left, right));
        }
        let u = match prev {
            None => -1.0,
            Some((left, right)) => {
                let width = (right - left + 1) as f64;
                if width <= 1.0 {
                    -1.0
                } else {
                    scaled_sigmoid((i - right) as f64 / (width - 1.0))
                }
            }
        };
        out.push(Slot::Out(u));
    }
    out
}

/// Raw score of one file at one threshold.
pub fn raw_score(file: &File, threshold: f64, profile: &Profile) -> f64 {
    let n = file.scores.len();
    let skip = probation(n);
    let norm = scaled_sigmoid(-1.0);
    let mut best: Vec<Option<f64>> = vec![None; file.windows.len()];
    let mut fp = 0.0;
    for (i, slot) in slots(n, &file.windows).into_iter().enumerate().skip(skip) {
        if file.scores[i].is_nan() || file.scores[i] < threshold {
            continue;
        }
        match slot {
            Slot::In(w, v) => {
                if best[w].is_none() {
                    best[w] = Some(v);
                }
            }
            Slot::Out(u) => fp += profile.fp * u,
        }
    }
    let windows: f64 = best
        .iter()
        .map(|b| match b {
            Some(v) => v * profile.tp / norm,
            None => -profile.fn_,
        })
        .sum();
    windows + fp
}

/// Result of a threshold sweep over a corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub threshold: f64,
    pub raw: f64,
    pub normalized: f64,
    pub windows: usize,
}

/// Finds the corpus-wide threshold that maximises the summed raw score (every distinct score is
/// tried, plus "never fires"), and normalises it: `100 (raw − null) / (perfect − null)`.
pub fn sweep(files: &[File], profile: &Profile) -> Sweep {
    let norm = scaled_sigmoid(-1.0);
    let windows: usize = files.iter().map(|f| f.windows.len()).sum();
    let null = -(windows as f64) * profile.fn_;
    let perfect = windows as f64 * profile.tp;
    // Events: (score, file, delta applied when the threshold drops to `score`).
    struct Ev {
        score: f64,
        row: usize,
        file: usize,
        slot: Slot,
    }
    let mut evs = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let n = f.scores.len();
        for (i, slot) in slots(n, &f.windows)
            .into_iter()
            .enumerate()
            .skip(probation(n))
        {
            let s = f.scores[i];
            if s.is_finite() {
                evs.push(Ev {
                    score: s,
                    row: i,
                    file: fi,
                    slot,
                });
            }
        }
    }
    evs.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
    // Per window: earliest detected row and its value.
    let mut best: Vec<Vec<Option<(usize, f64)>>> =
        files.iter().map(|f| vec![None; f.windows.len()]).collect();
    let mut total = null;
    let mut out = Sweep {
        threshold: f64::INFINITY,
        raw: null,
        normalized: 0.0,
        windows,
    };
    let mut k = 0;
    while k < evs.len() {
        let s = evs[k].score;
        while k < evs.len() && evs[k].score == s {
            let e = &evs[k];
            match e.slot {
                Slot::In(w, v) => {
                    let cur = &mut best[e.file][w];
                    let gain = v * profile.tp / norm;
                    match *cur {
                        None => {
                            total += gain + profile.fn_;
                            *cur = Some((e.row, gain));
                        }
                        Some((row, old)) if e.row < row => {
                            total += gain - old;
                            *cur = Some((e.row, gain));
                        }
                        _ => {}
                    }
                }
                Slot::Out(u) => total += profile.fp * u,
            }
            k += 1;
        }
        if total > out.raw + 1e-12 {
            out.raw = total;
            out.threshold = s;
        }
    }
    out.normalized = if perfect > null {
        100.0 * (out.raw - null) / (perfect - null)
    } else {
        0.0
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STD: Profile = PROFILES[0];

    #[test]
    fn sigmoid_matches_nab() {
        assert!((scaled_sigmoid(0.0) - 0.0).abs() < 1e-12);
        assert!((scaled_sigmoid(-1.0) - 0.986_614_298_151_430_3).abs() < 1e-12);
        assert_eq!(scaled_sigmoid(3.5), -1.0);
        assert!(scaled_sigmoid(0.5) < 0.0);
        assert_eq!(probation(100), 15);
        assert_eq!(probation(10_000), 750);
    }

    /// 20 rows (probation 3), one window rows 10..=13 (width 4).
    fn file(detect: &[usize]) -> File {
        let mut scores = vec![0.0; 20];
        for &i in detect {
            scores[i] = 1.0;
        }
        File {
            scores,
            windows: vec![(10, 13)],
        }
    }

    #[test]
    fn detection_at_window_start_earns_one() {
        let f = file(&[10]);
        assert!((raw_score(&f, 0.5, &STD) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn later_detection_earns_less_and_only_the_first_counts() {
        // Row 12: pos = -(13 - 12 + 1) / 4 = -0.5; σ(-0.5) = 2/(1+e^-2.5) - 1.
        let expect = (2.0 / (1.0 + (-2.5f64).exp()) - 1.0) / scaled_sigmoid(-1.0);
        assert!((raw_score(&file(&[12]), 0.5, &STD) - expect).abs() < 1e-12);
        assert!((raw_score(&file(&[12, 13]), 0.5, &STD) - expect).abs() < 1e-12);
        assert!((raw_score(&file(&[10, 12]), 0.5, &STD) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn missed_window_and_false_positives() {
        assert!((raw_score(&file(&[]), 0.5, &STD) + 1.0).abs() < 1e-12);
        // Row 5 is before the first window: −0.11; row 1 is in probation: ignored.
        assert!((raw_score(&file(&[1, 5]), 0.5, &STD) + 1.11).abs() < 1e-12);
        // Row 16 after the window: u = σ(3/3) = σ(1) = 2/(1+e^5) − 1.
        let u = 2.0 / (1.0 + 5f64.exp()) - 1.0;
        let got = raw_score(&file(&[10, 16]), 0.5, &STD);
        assert!((got - (1.0 + 0.11 * u)).abs() < 1e-12, "{got}");
        // Low-FP profile doubles the cost.
        let lowfp = raw_score(&file(&[5]), 0.5, &PROFILES[1]);
        assert!((lowfp - (-1.0 - 0.22)).abs() < 1e-12);
    }

    #[test]
    fn sweep_picks_the_best_threshold_and_normalises() {
        // Window hit with score 0.9 at its start, false positive of 0.95 before it.
        let mut a = file(&[]);
        a.scores[10] = 0.9;
        a.scores[5] = 0.95;
        let mut b = file(&[]);
        b.scores[11] = 0.8;
        let s = sweep(&[a.clone(), b.clone()], &STD);
        // Best: threshold 0.8 -> a: 1 - 0.11, b: σ(-0.75)/σ(-1).
        let b_gain = scaled_sigmoid(-0.75) / scaled_sigmoid(-1.0);
        assert!((s.raw - (1.0 - 0.11 + b_gain)).abs() < 1e-12, "{s:?}");
        assert_eq!(s.threshold, 0.8);
        let direct = raw_score(&a, 0.8, &STD) + raw_score(&b, 0.8, &STD);
        assert!((s.raw - direct).abs() < 1e-12);
        assert!((s.normalized - 100.0 * (s.raw + 2.0) / 4.0).abs() < 1e-9);
        // Only false positives: never firing is best, which scores 0.
        let mut fp_only = file(&[]);
        fp_only.scores = vec![f64::NAN; 20];
        fp_only.scores[5] = 1.0;
        let none = sweep(&[fp_only.clone(), fp_only], &STD);
        assert_eq!(none.normalized, 0.0);
        assert_eq!(none.threshold, f64::INFINITY);
    }
}
