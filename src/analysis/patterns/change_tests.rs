//! Unit tests of pattern change detection (`change.rs`).

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

/// Counts that look Poisson: a fixed, irregular-looking wobble of about ±√rate around `rate`.
fn wobbly(rate: u64, n: usize) -> Vec<u64> {
    let sd = (rate as f64).sqrt();
    let steps = [0.0, 1.1, -0.6, 0.3, -1.4, 0.8, -0.2, 1.6, -1.0, 0.5, -0.4];
    (0..n)
        .map(|i| {
            (rate as f64 + sd * steps[(i * 7) % steps.len()])
                .round()
                .max(0.0) as u64
        })
        .collect()
}

#[test]
fn the_threshold_is_the_models_anomalous_score() {
    use crate::analysis::anomaly::{score_from_z, ANOMALOUS};
    assert!((score_from_z(SURGE_SIGMA) - ANOMALOUS).abs() < 1e-12);
    assert!(score_from_z(SURGE_SIGMA - 0.05) < ANOMALOUS);
}

#[test]
fn a_jump_of_a_steady_pattern_surges_and_says_by_how_many_sigma() {
    let mut s = wobbly(2, 70);
    s.extend([400, 380]);
    let c = assess(&s).expect("surge");
    assert_eq!((c.kind, c.at, c.count), (ChangeKind::Surge, 70, 400));
    assert!((c.expected - 2.0).abs() < 0.6, "{c:?}");
    assert!(c.sigma >= 20.0, "{c:?}");
    // The σ is the model's: the same deviation rate_model reports for that interval.
    let rates = rate_model(&s);
    assert_eq!(c.sigma, rates[70].sigma);
    assert!(rates[70].surges());
    // The model is needed: a series too short for it to score is not judged.
    let mut short = wobbly(2, 8);
    short.push(400);
    assert_eq!(rate_model(&short)[8].score, 0.0);
    assert_eq!(assess(&short), None);
}

#[test]
fn a_pattern_always_bursty_at_that_level_does_not_surge() {
    // About 10 lines a minute with bursts of ~60 in one interval out of eight, irregularly.
    let mut bursty = wobbly(10, 100);
    for i in [3, 9, 20, 26, 31, 44, 52, 57, 66, 75, 81, 90, 97] {
        bursty[i] = 58 + (i as u64 % 5);
    }
    bursty.push(61);
    assert_eq!(assess(&bursty), None);
    // The same interval after a steady history is a surge.
    let mut steady_then = wobbly(10, 100);
    steady_then.push(61);
    assert_eq!(
        assess(&steady_then).map(|c| (c.kind, c.at)),
        Some((ChangeKind::Surge, 100))
    );
}

#[test]
fn a_count_within_the_patterns_usual_swing_does_not_surge() {
    // A pattern whose rate swings between about 50 and 150 lines a minute (traffic-driven).
    let swing = [
        100, 60, 140, 85, 150, 55, 120, 95, 70, 130, 110, 50, 145, 80,
    ];
    let mut s: Vec<u64> = (0..90).map(|i| swing[(i * 5) % swing.len()]).collect();
    // 220 is wildly improbable for Poisson at its busiest rate (~145) ...
    assert!(poisson_tail_score(220, 145.0) >= SURGE_SCORE);
    s.push(220);
    // ... but within 4σ of what this pattern does: the model says no.
    let rates = rate_model(&s);
    assert!(!rates[90].surges(), "{:?}", rates[90]);
    assert_eq!(assess(&s), None);
    // Far beyond its usual swing it surges.
    *s.last_mut().unwrap() = 500;
    assert_eq!(assess(&s).map(|c| c.kind), Some(ChangeKind::Surge));
}

#[test]
fn a_gradual_rise_is_absorbed_and_a_sudden_jump_is_not() {
    // From about 5 to about 30 lines a minute over two hours.
    let wobble = [0i64, 1, -1, 2, 0, -2, 1];
    let ramp: Vec<u64> = (0..120)
        .map(|i| (5 + i as i64 * 25 / 119 + wobble[i % wobble.len()]) as u64)
        .collect();
    assert_eq!(assess(&ramp), None);
    // The model's expectation follows the rise: the last interval is not anomalous there.
    let last = rate_model(&ramp)[119];
    assert!(last.sigma < SURGE_SIGMA && last.expected > 20.0, "{last:?}");
    // The same rise at once, three intervals ago: a surge dated at the jump.
    let mut jump: Vec<u64> = ramp[..117].iter().map(|_| 5).collect();
    jump.extend([30, 31, 29]);
    let c = assess(&jump).expect("surge");
    assert_eq!((c.kind, c.at), (ChangeKind::Surge, 117));
    assert!(c.sigma >= SURGE_SIGMA, "{c:?}");
}

#[test]
fn small_counts_do_not_surge_however_many_sigma() {
    // One line a minute, every minute: the model's σ is tiny.
    let mut s = vec![1u64; 60];
    s.push(3);
    assert!(rate_model(&s)[60].surges(), "the model alone would flag it");
    assert_eq!(assess(&s), None);
    // Past the line floor, the Poisson guard still says 6 lines at a rate of 1 is noise
    // (p ≈ 6e-4).
    *s.last_mut().unwrap() = 6;
    assert!(rate_model(&s)[60].surges());
    assert!(poisson_tail_score(6, 1.0) < SURGE_SCORE);
    assert_eq!(assess(&s), None);
    // 14 lines is not.
    *s.last_mut().unwrap() = 14;
    assert_eq!(assess(&s).map(|c| c.count), Some(14));
}

#[test]
fn a_periodic_batch_job_does_not_surge() {
    // 20 lines every five minutes, otherwise silent, for two hours; its next run now.
    let mut batch: Vec<u64> = (0..120).map(|i| u64::from(i % 5 == 0) * 20).collect();
    assert_eq!(batch[115], 20);
    assert_eq!(assess(&batch), None);
    // A run twice the usual size is still within what Poisson allows at its usual peak ...
    batch[115] = 35;
    assert_eq!(assess(&batch), None);
    // ... a run of 80 is not.
    batch[115] = 80;
    assert_eq!(
        assess(&batch).map(|c| (c.kind, c.at)),
        Some((ChangeKind::Surge, 115))
    );
}

#[test]
fn a_rare_batch_job_does_not_surge_once_it_has_run_twice() {
    // 40 lines every 15 minutes (too rare for the 90th percentile to see), one line a minute
    // otherwise, for two hours; its next run now.
    let mut batch: Vec<u64> = (0..120).map(|i| if i % 15 == 0 { 40 } else { 1 }).collect();
    assert_eq!(batch[105], 40);
    batch.truncate(106);
    assert_eq!(assess(&batch), None);
    // A run three times its usual size is a surge.
    *batch.last_mut().unwrap() = 120;
    assert_eq!(
        assess(&batch).map(|c| (c.kind, c.at)),
        Some((ChangeKind::Surge, 105))
    );
    // The first two runs have no precedent: they surge.
    let first: Vec<u64> = (0..16).map(|i| if i == 15 { 40 } else { 1 }).collect();
    assert_eq!(assess(&first).map(|c| c.kind), Some(ChangeKind::Surge));
}
