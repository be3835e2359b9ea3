//! Season length for the per-series scorer: which cycle a value is compared with.
//!
//! * **Candidates.** The remembered history is resampled to buckets of [`MIN_BUCKET_SECS`] (or
//!   the series' step, if longer), at most [`MAX_BUCKETS`] of them, and augurs' periodogram
//!   detector (`seasons`, Welch's method) proposes the periods at the strongest peaks. Its
//!   periods are approximate (a day at 5-minute buckets comes back as 256 or 341), so each is
//!   snapped to the nearest calendar period in [`CALENDAR`] when within [`SNAP`] of it.
//! * **Verification.** A periodogram always has a highest peak, even on noise, so a candidate
//!   counts only if folding the series on it explains the data: after removing a one-period
//!   moving average, the per-phase mean profile must account for at least [`MIN_STRENGTH`] of
//!   the remaining variance (the usual seasonal-strength measure, `1 − var(rest)/var(detrended)`).
//!   Among the verified candidates the shortest whose strength is within 10 % of the best wins,
//!   so a multiple of the true period does not win by fitting noise.
//! * **Data needed.** Welch's method needs about four cycles, so a daily season is found from
//!   four days of history on; with less, [`detect`] says nothing and the scorer keeps its prior
//!   (the calendar day).
//! * **Shape.** For a detected season, [`mstl_profile`] decomposes the same history with augurs'
//!   MSTL (resampled to the series' step, or coarser so a cycle has at most
//!   [`MAX_PHASES`] points and the history at most [`MAX_MSTL_POINTS`]) and keeps the seasonal
//!   component's per-phase median over its last [`PROFILE_CYCLES`] cycles: the season's usual
//!   shape, which the scorer adds to the series' current level.
use augurs::mstl::MSTLModel;
use augurs::prelude::*;
use augurs::seasons::PeriodogramDetector;

use crate::analysis::seasonal::fill_missing;

/// Shortest bucket the history is resampled to.
pub const MIN_BUCKET_SECS: i64 = 300;
/// Most buckets handed to the periodogram (the newest ones).
pub const MAX_BUCKETS: usize = 2_048;
/// Least seasonal strength for a detected period.
pub const MIN_STRENGTH: f64 = 0.5;
/// Fewest cycles of a period in the history for it to be verified (the seasonal strength of
/// noise folded on a period is about 1 / cycles).
pub const MIN_CYCLES: usize = 4;
/// Relative distance within which a detected period snaps to a calendar one.
pub const SNAP: f64 = 0.2;
/// Calendar periods a detected one snaps to (seconds): 30 min to a week.
pub const CALENDAR: [i64; 10] = [
    1_800, 3_600, 7_200, 10_800, 14_400, 21_600, 28_800, 43_200, 86_400, 604_800,
];
/// Most phases per cycle in an MSTL profile.
pub const MAX_PHASES: i64 = 1_440;
/// Most points handed to MSTL.
pub const MAX_MSTL_POINTS: usize = 10_080;
/// Cycles of the seasonal component the profile is the median of.
pub const PROFILE_CYCLES: usize = 3;
/// Peaks of the periodogram considered (strongest first).
const CANDIDATES: usize = 4;
/// Fewest buckets for a periodogram.
const MIN_SERIES: usize = 32;

/// The verified season length of `(ts, ys)` in seconds, or `None` when the data does not show
/// one clearly (too short, too noisy, no repeating shape). `ts` must be ascending; non-finite
/// values count as missing.
pub fn detect(ts: &[i64], ys: &[f64]) -> Option<i64> {
    let n = ts.len().min(ys.len());
    let step = median_step(&ts[..n])?;
    let bucket = step.max(MIN_BUCKET_SECS);
    let (_, data) = resample(&ts[..n], &ys[..n], bucket, MAX_BUCKETS)?;
    if data.len() < MIN_SERIES {
        return None;
    }
    let detector = PeriodogramDetector::builder().min_period(4).build();
    let periodogram = detector.periodogram(&data);
    let mut peaks: Vec<_> = periodogram.peaks(0.1).collect();
    // `peaks` ascends by power.
    peaks.reverse();
    let mut verified: Vec<(i64, f64)> = Vec::new();
    for peak in peaks.iter().take(CANDIDATES) {
        let secs = snap(i64::from(peak.period).saturating_mul(bucket));
        let Ok(period) = usize::try_from(secs / bucket) else {
            continue;
        };
        if period < 4 || data.len() < MIN_CYCLES * period {
            continue;
        }
        if let Some(s) = strength(&data, period).filter(|s| *s >= MIN_STRENGTH) {
            if !verified.iter().any(|(p, _)| *p == secs) {
                verified.push((secs, s));
            }
        }
    }
    let best = verified.iter().map(|(_, s)| *s).fold(f64::NAN, f64::max);
    verified
        .iter()
        .filter(|(_, s)| *s >= 0.9 * best)
        .map(|(p, _)| *p)
        .min()
}

/// Median spacing of ascending timestamps (positive), `None` for fewer than two.
fn median_step(ts: &[i64]) -> Option<i64> {
    let mut steps: Vec<i64> = ts
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .filter(|d| *d > 0)
        .collect();
    if steps.is_empty() {
        return None;
    }
    let mid = steps.len() / 2;
    Some(*steps.select_nth_unstable(mid).1)
}

/// The usual shape of a season: one value per phase, the phase of `t` being
/// `(t − anchor) / bucket` modulo the number of phases.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    anchor: i64,
    bucket: i64,
    values: Vec<f64>,
}

impl Profile {
    /// The season's usual deviation from the level at time `t`.
    pub fn at(&self, t: i64) -> f64 {
        let phases = self.values.len() as i64;
        if phases == 0 || self.bucket <= 0 {
            return 0.0;
        }
        let k = t.saturating_sub(self.anchor).div_euclid(self.bucket);
        self.values[k.rem_euclid(phases) as usize]
    }
}

/// The usual shape of a season of `period_secs` in `(ts, ys)` from an MSTL decomposition (see
/// the module docs); `None` when the history holds fewer than two cycles or MSTL fails.
pub fn mstl_profile(ts: &[i64], ys: &[f64], period_secs: i64) -> Option<Profile> {
    let n = ts.len().min(ys.len());
    let step = median_step(&ts[..n])?;
    let bucket = phase_bucket(step, period_secs);
    let phases = (period_secs / bucket).max(1);
    let (anchor, data) = resample(&ts[..n], &ys[..n], bucket, MAX_MSTL_POINTS)?;
    let phases = usize::try_from(phases).ok()?;
    // MSTL computes in f32: values beyond its range would turn into infinities.
    let in_range = data.iter().all(|v| v.abs() < f64::from(f32::MAX) / 4.0);
    if phases < 2 || data.len() < 2 * phases || !in_range {
        return None;
    }
    let fitted = MSTLModel::naive(vec![phases]).fit(&data).ok()?;
    let seasonal = fitted.fit().seasonal().first()?;
    let cycles = (seasonal.len() / phases).clamp(1, PROFILE_CYCLES);
    let from = seasonal.len() - cycles * phases;
    let mut values = vec![f64::NAN; phases];
    let mut scratch = Vec::with_capacity(cycles);
    for k in 0..phases {
        scratch.clear();
        let mut i = from + k;
        while i < seasonal.len() {
            scratch.push(f64::from(seasonal[i]));
            i += phases;
        }
        // Bucket `i` starts at `anchor + i × bucket`, so it is phase `i mod phases`.
        values[(from + k) % phases] = crate::analysis::stats::median_mut(&mut scratch)?;
    }
    values.iter().all(|v| v.is_finite()).then_some(Profile {
        anchor,
        bucket,
        values,
    })
}

/// The shortest bucket of at least one `step` (and at least 1/[`MAX_PHASES`] of the period)
/// that divides `period` exactly, so a phase means the same time in every cycle; the period
/// itself when none does.
fn phase_bucket(step: i64, period: i64) -> i64 {
    let wanted = step.max(period / MAX_PHASES).max(1);
    (wanted..period)
        .find(|b| period % b == 0)
        .unwrap_or(period.max(1))
}

/// Means per `bucket` seconds over the newest `max` buckets, and the time the first bucket
/// starts (a multiple of `bucket`); empty buckets are interpolated. `None` when nothing is
/// finite.
fn resample(ts: &[i64], ys: &[f64], bucket: i64, max: usize) -> Option<(i64, Vec<f64>)> {
    let (&first, &last) = (ts.first()?, ts.last()?);
    let span = usize::try_from(last.saturating_sub(first) / bucket).ok()? + 1;
    let count = span.min(max);
    let start = last.saturating_sub((count as i64 - 1).saturating_mul(bucket));
    let start = start - start.rem_euclid(bucket);
    let mut sums = vec![0.0; count + 1];
    let mut counts = vec![0u32; count + 1];
    let from = ts.partition_point(|&t| t < start);
    for (&t, &y) in ts[from..].iter().zip(&ys[from..]) {
        if !y.is_finite() {
            continue;
        }
        let k = usize::try_from((t - start) / bucket).unwrap_or(usize::MAX);
        if let (Some(s), Some(c)) = (sums.get_mut(k), counts.get_mut(k)) {
            *s += y;
            *c += 1;
        }
    }
    let means: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| if c > 0 { s / f64::from(c) } else { f64::NAN })
        .collect();
    // Trim empty edges so interpolation does not invent flat stretches.
    let lo = means.iter().position(|v| v.is_finite())?;
    let hi = means.iter().rposition(|v| v.is_finite())?;
    let anchor = start.saturating_add((lo as i64).saturating_mul(bucket));
    Some((anchor, fill_missing(&means[lo..=hi])?))
}

/// Snaps `secs` to the nearest calendar period within [`SNAP`], else leaves it.
fn snap(secs: i64) -> i64 {
    CALENDAR
        .iter()
        .copied()
        .filter(|&c| ((secs - c).abs() as f64) <= SNAP * c as f64)
        .min_by_key(|&c| (secs - c).abs())
        .unwrap_or(secs)
}

/// Seasonal strength of `x` at `period` (in samples): `1 − var(rest)/var(detrended)`, with
/// the trend a centred one-period moving average and the seasonal part the per-phase mean of
/// the detrended values. `None` when undefined (too short, no variance).
pub fn strength(x: &[f64], period: usize) -> Option<f64> {
    if period < 2 || x.len() < 2 * period {
        return None;
    }
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0.0);
    for v in x {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + v);
    }
    let half = period / 2;
    let (from, to) = (half, x.len() - (period - half));
    let mut sums = vec![0.0; period];
    let mut counts = vec![0usize; period];
    let mut detrended = Vec::with_capacity(to.saturating_sub(from));
    for i in from..to {
        let trend = (prefix[i - half + period] - prefix[i - half]) / period as f64;
        let d = x[i] - trend;
        sums[i % period] += d;
        counts[i % period] += 1;
        detrended.push((i % period, d));
    }
    if detrended.len() < period {
        return None;
    }
    let profile: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
        .collect();
    let m = detrended.iter().map(|(_, d)| d).sum::<f64>() / detrended.len() as f64;
    let var_d: f64 = detrended.iter().map(|(_, d)| (d - m).powi(2)).sum();
    let var_r: f64 = detrended
        .iter()
        .map(|(p, d)| (d - profile[*p] - m).powi(2))
        .sum();
    if var_d.is_nan() || var_d <= 0.0 || !var_d.is_finite() {
        return None;
    }
    Some((1.0 - var_r / var_d).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::anomaly::tests::Noise;

    const T0: i64 = 1_700_000_000;

    fn minutes(n: usize, mut f: impl FnMut(i64) -> f64) -> (Vec<i64>, Vec<f64>) {
        let ts: Vec<i64> = (0..n as i64).map(|i| T0 + 60 * i).collect();
        let ys = ts.iter().map(|&t| f(t - T0)).collect();
        (ts, ys)
    }

    #[test]
    fn a_daily_cycle_is_found_from_four_days_on() {
        let mut noise = Noise::new(7);
        let (ts, ys) = minutes(5 * 1_440, |t| {
            let phase = t as f64 / 86_400.0 * std::f64::consts::TAU;
            100.0 + 40.0 * phase.sin() + 3.0 * noise.normal()
        });
        assert_eq!(detect(&ts, &ys), Some(86_400));
        // Two days are not enough for Welch's method: no claim.
        assert_eq!(detect(&ts[..2 * 1_440], &ys[..2 * 1_440]), None);
    }

    #[test]
    fn an_hourly_batch_job_is_found() {
        let mut noise = Noise::new(3);
        let (ts, ys) = minutes(12 * 60, |t| {
            let minute = (t / 60) % 60;
            let job = if minute < 5 { 80.0 } else { 0.0 };
            20.0 + job + 2.0 * noise.normal()
        });
        assert_eq!(detect(&ts, &ys), Some(3_600));
    }

    #[test]
    fn noise_and_a_ramp_have_no_season() {
        let mut noise = Noise::new(11);
        let (ts, ys) = minutes(5 * 1_440, |_| 50.0 + 5.0 * noise.normal());
        assert_eq!(detect(&ts, &ys), None);
        let (ts, ys) = minutes(5 * 1_440, |t| t as f64 / 60.0);
        assert_eq!(detect(&ts, &ys), None);
        let (ts, ys) = minutes(5 * 1_440, |_| 7.0);
        assert_eq!(detect(&ts, &ys), None);
    }

    #[test]
    fn bad_input_gives_no_season_rather_than_a_panic() {
        assert_eq!(detect(&[], &[]), None);
        assert_eq!(detect(&[T0], &[1.0]), None);
        let (ts, _) = minutes(3_000, |_| 0.0);
        assert_eq!(detect(&ts, &vec![f64::NAN; 3_000]), None);
        let same = vec![T0; 100];
        assert_eq!(detect(&same, &vec![1.0; 100]), None);
    }

    #[test]
    fn strength_is_high_for_a_clean_cycle_and_low_for_noise() {
        let cycle: Vec<f64> = (0..400).map(|i| ((i % 20) as f64 - 10.0).abs()).collect();
        assert!(strength(&cycle, 20).is_some_and(|s| s > 0.99));
        let mut noise = Noise::new(5);
        let white: Vec<f64> = (0..400).map(|_| noise.normal()).collect();
        assert!(strength(&white, 20).is_some_and(|s| s < 0.2));
        assert_eq!(strength(&cycle[..30], 20), None);
    }

    #[test]
    fn the_mstl_profile_follows_the_season_and_its_phase() {
        let mut noise = Noise::new(13);
        // A 5-minute job at the top of every hour; the data starts at minute 43 of an hour.
        let start = T0 - T0.rem_euclid(3_600) + 43 * 60;
        let ts: Vec<i64> = (0..10 * 60).map(|i| start + 60 * i).collect();
        let ys: Vec<f64> = ts
            .iter()
            .map(|t| {
                let job = if (t / 60) % 60 < 5 { 60.0 } else { 0.0 };
                20.0 + job + noise.normal()
            })
            .collect();
        let p = mstl_profile(&ts, &ys, 3_600).expect("a profile");
        let top = start - 43 * 60 + 3 * 3_600;
        for minute in 0..5 {
            let v = p.at(top + 60 * minute);
            assert!((v - 45.0).abs() < 15.0, "minute {minute}: {v}");
        }
        for minute in [10, 30, 50] {
            let v = p.at(top + 60 * minute);
            assert!(v.abs() < 10.0, "minute {minute}: {v}");
            assert!(v < p.at(top) - 30.0);
        }
        // Values MSTL's f32 cannot hold: no profile rather than infinities.
        let huge: Vec<f64> = ys.iter().map(|v| v * 1e300).collect();
        assert_eq!(mstl_profile(&ts, &huge, 3_600), None);
        // Too little history for two cycles: no profile.
        assert_eq!(mstl_profile(&ts[..90], &ys[..90], 3_600), None);
        assert_eq!(mstl_profile(&[], &[], 3_600), None);
    }

    #[test]
    fn profile_buckets_divide_the_period() {
        assert_eq!(phase_bucket(60, 3_600), 60);
        // 3,600 s in 7 s buckets would drift 2 s a cycle: 8 s buckets divide it.
        assert_eq!(phase_bucket(7, 3_600), 8);
        // At most 1,440 phases: a week of one-second points gets 420 s buckets.
        assert_eq!(phase_bucket(1, 604_800), 420);
        // A step longer than the period leaves one phase (no profile).
        assert_eq!(phase_bucket(7_200, 3_600), 3_600);
        assert_eq!(phase_bucket(0, 0), 1);
    }

    #[test]
    fn detected_periods_snap_to_the_calendar() {
        assert_eq!(snap(82_000), 86_400);
        assert_eq!(snap(3_500), 3_600);
        assert_eq!(snap(5_000), 5_000);
    }
}
