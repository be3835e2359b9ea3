//! Unit tests of the streaming detector (`detect.rs`).

use super::*;
use crate::analysis::anomaly::tests::Noise;

fn noisy(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Noise::new(seed);
    (0..n).map(|_| 100.0 + 2.0 * rng.normal()).collect()
}

fn scores(ys: &[f64]) -> Vec<f64> {
    let ts: Vec<i64> = (0..ys.len() as i64).map(|i| i * 300).collect();
    detect_scores(&ts, ys)
}

fn argmax(xs: &[f64]) -> usize {
    (0..xs.len())
        .max_by(|a, b| xs[*a].total_cmp(&xs[*b]))
        .unwrap_or(0)
}

#[test]
fn a_spike_is_the_top_score_and_fires_once() {
    let mut ys = noisy(2_000, 1);
    ys[1_500] += 40.0;
    let s = scores(&ys);
    assert_eq!(argmax(&s), 1_500);
    let after = s[1_501..1_500 + SUPPRESS]
        .iter()
        .fold(0.0, |a: f64, b| a.max(*b));
    assert!(after < s[1_500], "suppressed after the detection");
    let before = s[WARMUP..1_500].iter().fold(0.0, |a: f64, b| a.max(*b));
    assert!(s[1_500] > before + 0.3, "{} vs {before}", s[1_500]);
}

#[test]
fn a_level_shift_is_caught_within_a_few_points() {
    let mut ys = noisy(2_000, 2);
    for y in ys.iter_mut().skip(1_200) {
        *y += 15.0;
    }
    let s = scores(&ys);
    let top = argmax(&s);
    assert!((1_200..1_205).contains(&top), "top at {top}");
}

#[test]
fn a_slow_ramp_stays_quiet_and_missing_points_score_zero() {
    let mut rng = Noise::new(4);
    let mut ys: Vec<f64> = (0..3_000)
        .map(|i| 100.0 + 0.01 * i as f64 + rng.normal())
        .collect();
    ys[1_000] = f64::NAN;
    let s = scores(&ys);
    assert_eq!(s[1_000], 0.0);
    let high = s.iter().filter(|x| **x >= 0.5).count();
    assert!(high <= 3, "{high} high scores on a slow ramp");
    assert!(s.iter().all(|x| (0.0..=1.0).contains(x)));
}

#[test]
fn scores_are_causal() {
    let ys = noisy(1_000, 5);
    let full = scores(&ys);
    let part = scores(&ys[..600]);
    assert_eq!(&full[..600], &part[..]);
}

/// Eight days of five-minute points with a two-hour daily peak of +30 over noise of σ 2.
fn daily_peaks(skip_day: Option<usize>) -> Vec<f64> {
    let mut rng = Noise::new(6);
    (0..8 * 288)
        .map(|i| {
            let (day, phase) = (i / 288, i % 288);
            let peak = (120..144).contains(&phase) && Some(day) != skip_day;
            100.0 + 2.0 * rng.normal() + if peak { 30.0 } else { 0.0 }
        })
        .collect()
}

#[test]
fn a_series_that_is_often_surprised_is_judged_against_that() {
    // Every 37th point jumps 4–5σ: usual for this series, so, once learnt, not a detection.
    let mut rng = Noise::new(8);
    let ys: Vec<f64> = (0..4_000)
        .map(|i| {
            let jump = if i % 37 == 0 {
                8.0 + rng.normal().abs()
            } else {
                0.0
            };
            100.0 + 2.0 * rng.normal() + jump
        })
        .collect();
    let s = scores(&ys);
    // Without the calibration about 40 of the ~80 later jumps score ≥ 0.05.
    let loud = s[1_000..].iter().filter(|x| **x >= 0.05).count();
    assert!(loud <= 5, "{loud} of the series' usual jumps still score");
    // A jump far beyond the usual ones still scores.
    let mut ys = ys;
    for y in &mut ys[3_500..3_505] {
        *y += 40.0;
    }
    let s = scores(&ys);
    assert_eq!(argmax(&s), 3_500);
    assert!(s[3_500] >= 0.5, "{}", s[3_500]);
}

#[test]
fn the_day_fixes_the_period() {
    assert_eq!(day_period(300), 288);
    assert_eq!(day_period(3_600), 24);
    assert_eq!(day_period(60), 1_440);
    assert_eq!(day_period(30), 0, "too many points per day to keep");
    assert_eq!(day_period(7), 0, "does not divide a day");
    assert_eq!(day_period(86_400), 0, "fewer than 4 points per day");
    assert_eq!(day_period(0), 0);
    assert_eq!(day_period(-300), 0);
}

#[test]
fn a_usual_daily_peak_stays_quiet_once_the_days_are_learnt() {
    let s = scores(&daily_peaks(None));
    // From day 5 on the seasonal channel speaks (2 days before it scores, 2 of warm-up).
    let late = s[5 * 288..].iter().fold(0.0, |a: f64, b| a.max(*b));
    assert!(late < 0.2, "a usual peak scored {late}");
    // The first peak, before any day was learnt, is a surprise to the level channel.
    let first = s[120..144].iter().fold(0.0, |a: f64, b| a.max(*b));
    assert!(first > late, "first peak {first}, late peaks {late}");
}

#[test]
fn a_day_without_its_peak_fires_where_the_peak_should_be() {
    let s = scores(&daily_peaks(Some(6)));
    let top = argmax(&s[5 * 288..]) + 5 * 288;
    assert!(
        (6 * 288 + 120..6 * 288 + 144).contains(&top),
        "top score at {top} (day {}, phase {})",
        top / 288,
        top % 288
    );
    assert!(s[top] >= 0.3, "missing peak scored {}", s[top]);
}

#[test]
fn softening_keeps_the_order_and_tames_only_the_far_tail() {
    let xs = [0.0, 1.0, 3.0, 10.0, 30.0, 50.0];
    let soft: Vec<f64> = xs.iter().map(|x| soften(*x)).collect();
    assert!(soft.windows(2).all(|w| w[0] < w[1]), "{soft:?}");
    assert!(
        (soft[1] - 1.0).abs() < 0.06,
        "small |z| nearly unchanged: {}",
        soft[1]
    );
    assert!(soft[5] < 20.0, "50σ counts as {}", soft[5]);
}

#[test]
fn erfc_matches_known_values() {
    assert!((erfc(0.0) - 1.0).abs() < 1e-6);
    assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-6);
    assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-6);
}
