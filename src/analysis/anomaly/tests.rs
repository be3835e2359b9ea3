//! Unit tests of the anomaly scorer.

use super::*;

/// Deterministic standard-normal noise (LCG + Box–Muller), so tests need no RNG crate.
pub(crate) struct Noise(u64);
impl Noise {
    pub(crate) fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(6364136223846793005).wrapping_add(1))
    }
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub(crate) fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

const T0: i64 = 1_700_000_000 - 1_700_000_000 % DAY;

fn series(values: Vec<f64>) -> Series {
    Series {
        id: "s".into(),
        timestamps: (0..values.len() as i64).map(|i| T0 + 60 * i).collect(),
        values,
        ..Series::default()
    }
}

fn noisy(n: usize, level: f64, sd: f64, seed: u64) -> Vec<f64> {
    let mut rng = Noise::new(seed);
    (0..n).map(|_| level + sd * rng.normal()).collect()
}

#[test]
fn score_map_is_smooth_and_bounded() {
    assert_eq!(score_from_z(1.9), 0.0);
    assert!((score_from_z(-4.0) - 0.5).abs() < 1e-12);
    assert_eq!(score_from_z(6.0), 1.0);
    assert_eq!(score_from_z(f64::INFINITY), 1.0);
    assert_eq!(score_from_z(f64::NAN), 0.0);
    assert!(score_from_z(3.0) < score_from_z(3.5));
}

#[test]
fn quiet_noise_stays_quiet() {
    let a = score_series(&series(noisy(2_000, 100.0, 2.0, 1)));
    assert!(a.onset.is_none(), "{}", a.explanation);
    let hot = a.scores.iter().filter(|s| **s >= ANOMALOUS).count();
    assert!(hot <= 2, "{hot} anomalous points in pure noise");
    assert_eq!(a.explanation, "within its usual range");
    assert_eq!(a.direction, Direction::None);
}

#[test]
fn single_spike_scores_high_but_sets_no_onset() {
    let mut v = noisy(600, 50.0, 1.0, 2);
    v[400] = 80.0;
    let a = score_series(&series(v.clone()));
    assert!(a.scores[400] > 0.99);
    assert!(
        a.scores[401..].iter().all(|s| *s < ANOMALOUS),
        "spike leaked into the baseline"
    );
    assert!(a.onset.is_none());
    // As the very last point it is still only one point: peak yes, onset no.
    let a = score_series(&series(v[..401].to_vec()));
    assert!(
        a.peak_score > 0.99 && a.onset.is_none(),
        "{}",
        a.explanation
    );
    assert!(a.explanation.contains("briefly"), "{}", a.explanation);
}

#[test]
fn level_shift_sets_onset_at_the_shift() {
    let mut v = noisy(620, 100.0, 1.0, 3);
    for x in &mut v[600..] {
        *x += 10.0;
    }
    let a = score_series(&series(v));
    let onset = a.onset.expect("shift should be anomalous now");
    assert!((onset - (T0 + 600 * 60)).abs() <= 3 * 60, "onset {onset}");
    assert_eq!(a.direction, Direction::Up);
    assert!(a.deviation_sigma > 6.0, "{}", a.deviation_sigma);
    assert!(
        a.explanation.contains("above its recent level since"),
        "{}",
        a.explanation
    );
    assert!(
        a.upper[610] < 105.0,
        "band chased the shift: {}",
        a.upper[610]
    );
}

#[test]
fn downward_shift_is_down() {
    let mut v = noisy(500, 100.0, 1.0, 4);
    for x in &mut v[490..] {
        *x -= 12.0;
    }
    let a = score_series(&series(v));
    assert_eq!(a.direction, Direction::Down);
    assert!(a.deviation_sigma < -6.0);
    assert!(a.explanation.contains("below"), "{}", a.explanation);
}

#[test]
fn daily_peak_does_not_fire_but_an_off_hours_peak_does() {
    let mut rng = Noise::new(5);
    let day = |i: usize| 100.0 + 50.0 * (2.0 * std::f64::consts::PI * i as f64 / 1440.0).sin();
    let mut v: Vec<f64> = (0..3 * 1440).map(|i| day(i) + 2.0 * rng.normal()).collect();
    let a = score_series(&series(v.clone()));
    // Around each daily peak (06:00) nothing stands out; elsewhere at most a stray 4σ
    // noise point or two (4,320 Gaussian draws do reach 4σ now and then).
    for d in 0..3 {
        let peak = &a.scores[d * 1440 + 300..d * 1440 + 420];
        let worst = peak.iter().cloned().fold(0.0, f64::max);
        assert!(worst < 0.35, "day {d} peak scored {worst}");
    }
    let hot = a.scores.iter().filter(|s| **s >= ANOMALOUS).count();
    assert!(hot <= 2, "{hot} anomalous points");
    assert!(a.onset.is_none());
    assert!(a.explanation.contains("within"), "{}", a.explanation);
    // The same +40 bump at night, when the daily pattern is low, must fire.
    let n = v.len();
    for x in &mut v[n - 10..] {
        *x += 40.0;
    }
    let a = score_series(&series(v));
    assert!(a.onset.is_some(), "{}", a.explanation);
    assert!(
        a.explanation.contains("for this time of day"),
        "{}",
        a.explanation
    );
}

#[test]
fn slow_ramp_is_tracked() {
    let mut rng = Noise::new(6);
    let v: Vec<f64> = (0..1_500)
        .map(|i| 20.0 + 0.05 * i as f64 + rng.normal())
        .collect();
    let a = score_series(&series(v));
    assert!(a.onset.is_none(), "{}", a.explanation);
    let hot = a.scores.iter().filter(|s| **s >= ANOMALOUS).count();
    assert!(hot <= 2, "{hot}");
    let truth = 20.0 + 0.05 * 1_499.0;
    assert!(
        (a.expected[1_499] - truth).abs() < 1.5,
        "{}",
        a.expected[1_499]
    );
}

#[test]
fn missing_values_and_gaps_do_not_break_scoring() {
    let mut v = noisy(400, 10.0, 0.5, 7);
    for i in (0..400).step_by(7) {
        v[i] = f64::NAN;
    }
    v[100] = f64::INFINITY;
    let mut s = series(v);
    s.timestamps[200..].iter_mut().for_each(|t| *t += 3_600);
    for i in 380..400 {
        s.values[i] = if i % 7 == 0 { f64::NAN } else { 20.0 };
    }
    let a = score_series(&s);
    assert_eq!(a.scores.len(), 400);
    assert_eq!(a.scores[7], 0.0);
    assert!(a
        .expected
        .iter()
        .chain(&a.lower)
        .chain(&a.upper)
        .all(|x| x.is_finite()));
    let onset = a.onset.expect("shift despite NaNs");
    assert!((onset - s.timestamps[380]).abs() <= 180);
    assert!(serde_json::to_string(&a).is_ok());
}

#[test]
fn degenerate_series_do_not_panic() {
    let a = score_series(&series(vec![]));
    assert!(a.scores.is_empty() && a.onset.is_none());
    assert_eq!(a.explanation, "no data");
    let a = score_series(&series(vec![3.0]));
    assert_eq!(a.scores, vec![0.0]);
    assert!(
        a.explanation.contains("not enough history"),
        "{}",
        a.explanation
    );
    let a = score_series(&series(vec![f64::NAN; 50]));
    assert!(a.scores.iter().all(|s| *s == 0.0));
    // Constant, then a small step: the floor keeps z finite and sane.
    let mut flat = vec![5.0; 300];
    let a = score_series(&series(flat.clone()));
    assert!(a.scores.iter().all(|s| *s == 0.0));
    flat.extend([5.01; 5]);
    assert!(score_series(&series(flat.clone())).onset.is_none());
    flat.extend([6.0; 5]);
    assert!(score_series(&series(flat)).onset.is_some());
    // Huge alternating values.
    let huge: Vec<f64> = (0..200)
        .map(|i| if i % 2 == 0 { 1e308 } else { -1e308 })
        .collect();
    let a = score_series(&series(huge));
    assert!(a.expected.iter().chain(&a.upper).all(|x| x.is_finite()));
    assert!(a.scores.iter().all(|s| (0.0..=1.0).contains(s)));
    // Mismatched lengths are truncated, not indexed out of bounds.
    let mut odd = series(vec![1.0; 10]);
    odd.values.truncate(4);
    assert_eq!(score_series(&odd).scores.len(), 4);
}

#[test]
fn sparse_counts_use_the_fallback_scale() {
    let mut rng = Noise::new(8);
    let v: Vec<f64> = (0..800)
        .map(|_| if rng.uniform() < 0.1 { 1.0 } else { 0.0 })
        .collect();
    let a = score_series(&series(v));
    assert!(a.onset.is_none(), "{}", a.explanation);
}

proptest::proptest! {
    #[test]
    fn arbitrary_input_never_panics(
        start in -4_000_000_000i64..4_000_000_000,
        gaps in proptest::collection::vec(1i64..7_200, 0..400),
        values in proptest::collection::vec(proptest::num::f64::ANY, 0..400),
    ) {
        let mut t = start;
        let timestamps = gaps.iter().map(|g| { t += g; t }).collect();
        let s = Series { timestamps, values, capacity: Some(100.0), ..Series::default() };
        let a = score_series(&s);
        proptest::prop_assert!(a.scores.iter().all(|x| (0.0..=1.0).contains(x)));
        let bands = a.expected.iter().chain(&a.lower).chain(&a.upper);
        proptest::prop_assert!(bands.into_iter().all(|x| x.is_finite()));
        if let Some(f) = crate::analysis::forecast::capacity_forecast(&s, 100.0) {
            let latest = f.eta_latest.unwrap_or(i64::MAX);
            proptest::prop_assert!(f.eta_earliest <= f.eta && f.eta <= Some(latest));
        }
    }
}

#[test]
fn scores_are_causal() {
    let mut rng = Noise::new(9);
    let v: Vec<f64> = (0..2 * 1440 + 200)
        .map(|i| 30.0 + 10.0 * (i as f64 / 229.0).sin() + rng.normal())
        .collect();
    let full = score_series(&series(v.clone()));
    for cut in [1, 50, 1440, 1441, 2 * 1440 + 37] {
        let part = score_series(&series(v[..cut].to_vec()));
        assert_eq!(part.scores[..], full.scores[..cut], "cut {cut}");
        assert_eq!(part.expected[..], full.expected[..cut], "cut {cut}");
    }
}

#[test]
fn huge_deviations_are_described_without_absurd_numbers() {
    assert_eq!(sigma_text(3.44), "3.4σ");
    assert_eq!(sigma_text(-5.0), "5.0σ");
    assert_eq!(sigma_text(336.0), "over 20σ");
    assert_eq!(sigma_text(f64::NAN), "over 20σ");
}

#[test]
fn sensitivity_moves_the_threshold() {
    assert_eq!(apply_sensitivity(0.3, DEFAULT_SENSITIVITY), 0.3);
    // s = 1: sqrt(score) ≥ 0.5 from 0.25; s = 0: score² ≥ 0.5 from √0.5 ≈ 0.707.
    assert!(apply_sensitivity(0.26, 1.0) >= ANOMALOUS);
    assert!(apply_sensitivity(0.24, 1.0) < ANOMALOUS);
    assert!(apply_sensitivity(0.72, 0.0) >= ANOMALOUS);
    assert!(apply_sensitivity(0.70, 0.0) < ANOMALOUS);
    assert_eq!(apply_sensitivity(f64::NAN, 0.9), 0.0);
    assert_eq!(apply_sensitivity(0.3, f64::NAN), 0.3);
}

#[test]
fn backtest_counts_runs_like_onset() {
    // Run A: three points at 0.6, fires at every sensitivity ≥ 0.5.
    // Then three quiet points (a gap longer than MAX_GAP ends a run).
    // Run B: two points only: never fires alone.
    // Run C: 0.6 _ 0.6 _ 0.6: gaps of one are allowed, fires.
    // Run D: three points at 0.3: fire only when 0.3 counts (sensitivity 1: from 0.25).
    let quiet = [0.0; 3];
    let mut scores = vec![0.6, 0.6, 0.6];
    scores.extend(quiet);
    scores.extend([0.6, 0.6]);
    scores.extend(quiet);
    scores.extend([0.6, 0.1, 0.6, 0.0, 0.6]);
    scores.extend(quiet);
    scores.extend([0.3, 0.3, 0.3]);
    assert_eq!(backtest(&scores, 0.5), 2);
    assert_eq!(backtest(&scores, 1.0), 3);
    // At sensitivity 0 only scores ≥ 0.71 count: nothing fires.
    assert_eq!(backtest(&scores, 0.0), 0);
    assert_eq!(backtest(&[], 0.5), 0);
    // A run fires once, however long it lasts.
    assert_eq!(backtest(&[0.9; 50], 0.5), 1);
}

#[test]
fn higher_sensitivity_never_fires_fewer_times() {
    let mut rng = Noise::new(21);
    let mut v = noisy(3_000, 50.0, 3.0, 5);
    // Incidents of various sizes, from barely visible to obvious.
    for (k, at) in [400usize, 900, 1_400, 1_900, 2_400, 2_800]
        .iter()
        .enumerate()
    {
        for x in v.iter_mut().skip(*at).take(5 + k) {
            *x += 3.0 * (2.0 + k as f64) + rng.normal();
        }
    }
    let a = score_series(&series(v));
    let counts: Vec<usize> = (0..=10)
        .map(|i| backtest(&a.scores, i as f64 / 10.0))
        .collect();
    assert!(counts[10] > counts[0], "{counts:?}");
    for w in counts.windows(2) {
        assert!(w[0] <= w[1], "not monotone: {counts:?}");
    }
}

#[test]
fn a_series_sensitivity_decides_what_counts_as_anomalous_but_keeps_its_scores() {
    // A modest shift (about 3σ): below the default threshold, above it at sensitivity 1.
    let mut v = noisy(620, 100.0, 1.0, 3);
    for x in &mut v[600..] {
        *x += 3.6;
    }
    let default = score_series(&series(v.clone()));
    assert!(default.onset.is_none(), "{}", default.explanation);
    let keen = score_series(&Series {
        sensitivity: Some(1.0),
        ..series(v.clone())
    });
    let onset = keen.onset.expect("anomalous at sensitivity 1");
    assert!(onset >= T0 + 600 * 60, "onset {onset} before the shift");
    assert!(keen.peak_score > default.peak_score);
    assert_eq!(keen.scores, default.scores, "the model's scores are kept");
    let calm = score_series(&Series {
        sensitivity: Some(0.0),
        ..series(v)
    });
    assert!(calm.onset.is_none());
    assert!(calm.peak_score < default.peak_score);
}

/// An hourly batch job (5 minutes at +60 every hour) on a quiet series.
fn hourly_job(hours: usize, seed: u64) -> Vec<f64> {
    let mut rng = Noise::new(seed);
    (0..hours * 60)
        .map(|m| {
            let job = if m % 60 < 5 { 60.0 } else { 0.0 };
            20.0 + job + rng.normal()
        })
        .collect()
}

#[test]
fn a_detected_hourly_season_stops_an_hourly_job_from_firing_on_day_one() {
    let values = hourly_job(20, 4);
    let a = score_series(&series(values.clone()));
    // From the first refit (6 h of data) on, the job is what this hour usually does: at most
    // the odd noise point, as in pure noise (without the season all 65 job minutes fire).
    let late_hot = a.scores[7 * 60..]
        .iter()
        .filter(|s| **s >= ANOMALOUS)
        .count();
    assert!(
        late_hot <= 2,
        "the hourly job kept firing: {late_hot} points"
    );
    assert!(a.onset.is_none(), "{}", a.explanation);
    // Before the season is known the job looks anomalous: the detection is what helps.
    let early_hot = a.scores[60..6 * 60]
        .iter()
        .filter(|s| **s >= ANOMALOUS)
        .count();
    assert!(early_hot > 0);
    // A job that runs long now is anomalous against its hourly cycle, and says so.
    let mut long = values;
    let n = long.len();
    for v in &mut long[n - 20..] {
        *v = 80.0;
    }
    let a = score_series(&series(long));
    assert!(a.onset.is_some(), "{}", a.explanation);
    assert!(
        a.explanation.contains("1 h cycle (season 1 h, MSTL)"),
        "{}",
        a.explanation
    );
}

#[test]
fn period_texts_read_naturally() {
    assert_eq!(period_text(86_400), "1 day");
    assert_eq!(period_text(604_800), "1 week");
    assert_eq!(period_text(2 * 86_400), "2 days");
    assert_eq!(period_text(7_200), "2 h");
    assert_eq!(period_text(1_800), "30 min");
}
