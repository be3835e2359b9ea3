//! Robust statistics on plain slices.
//!
//! Every function ignores non-finite values (NaN, ±∞) and returns `None` when nothing is left,
//! so callers never have to pre-clean their data and nothing here panics. The `*_mut` variants
//! work in place on a caller-owned scratch buffer to keep hot loops allocation-free; they expect
//! finite values only (NaN would not panic, but would sort to the ends and bias the answer).

/// Scales a median absolute deviation to a standard deviation for normally distributed data.
pub const MAD_SCALE: f64 = 1.4826;

/// Scales a mean absolute deviation to a standard deviation for normally distributed data
/// (√(π/2)); the fallback when more than half the values equal the median.
pub const MEAN_AD_SCALE: f64 = 1.2533;

/// The finite values of `xs`, in order.
pub fn finite(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|x| x.is_finite()).collect()
}

/// Median of the finite values of `xs`.
pub fn median(xs: &[f64]) -> Option<f64> {
    median_mut(&mut finite(xs))
}

/// Median of `buf` (finite values), reordering it. `None` when empty.
pub fn median_mut(buf: &mut [f64]) -> Option<f64> {
    let n = buf.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (left, upper, _) = buf.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // Halve before adding so two huge values cannot overflow.
    Some(lower / 2.0 + upper / 2.0)
}

/// Median absolute deviation of the finite values of `xs`, scaled by [`MAD_SCALE`] so it
/// estimates a standard deviation.
pub fn mad(xs: &[f64]) -> Option<f64> {
    let mut buf = finite(xs);
    let center = median_mut(&mut buf)?;
    mad_about_mut(&mut buf, center)
}

/// Scaled MAD of `buf` (finite values) about `center`; overwrites `buf` with the deviations.
pub fn mad_about_mut(buf: &mut [f64], center: f64) -> Option<f64> {
    for x in buf.iter_mut() {
        *x = (*x - center).abs();
    }
    median_mut(buf).map(|m| m * MAD_SCALE)
}

/// A robust standard deviation of `buf` (finite values) about `center`: the scaled MAD, or,
/// when that is zero because most values sit on the center (sparse counts), the scaled mean
/// absolute deviation. Zero only when every value equals `center`. Overwrites `buf`.
pub fn robust_scale_mut(buf: &mut [f64], center: f64) -> Option<f64> {
    let scaled_mad = mad_about_mut(buf, center)?;
    if scaled_mad > 0.0 {
        return Some(scaled_mad);
    }
    // `buf` now holds absolute deviations.
    mean(buf).map(|m| m * MEAN_AD_SCALE)
}

/// The `q`-quantile (0..=1, clamped) of the finite values of `xs`, interpolating linearly
/// between order statistics (the usual "type 7" definition).
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    let mut buf = finite(xs);
    if buf.is_empty() || q.is_nan() {
        return None;
    }
    buf.sort_unstable_by(f64::total_cmp);
    let q = q.clamp(0.0, 1.0);
    let pos = q * (buf.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (*buf.get(lo)?, *buf.get(hi)?);
    let frac = pos - lo as f64;
    Some(a + (b - a) * frac)
}

/// Robust z-score of `x` given a center and a robust scale; 0 when the score is undefined
/// (non-finite input or a non-positive scale).
pub fn robust_z(x: f64, center: f64, scale: f64) -> f64 {
    if scale.is_nan() || scale <= 0.0 {
        return 0.0;
    }
    let z = (x - center) / scale;
    if z.is_nan() {
        0.0
    } else {
        z
    }
}

/// Mean of the finite values of `xs` (Welford's running mean, so large sums do not overflow).
pub fn mean(xs: &[f64]) -> Option<f64> {
    mean_sd(xs).map(|(m, _)| m)
}

/// Sample standard deviation (n − 1) of the finite values; `None` with fewer than two.
pub fn std_dev(xs: &[f64]) -> Option<f64> {
    let n = xs.iter().filter(|x| x.is_finite()).count();
    if n < 2 {
        return None;
    }
    mean_sd(xs).map(|(_, sd)| sd)
}

/// Mean and sample standard deviation of the finite values (sd is 0 for a single value).
pub fn mean_sd(xs: &[f64]) -> Option<(f64, f64)> {
    let mut n = 0.0_f64;
    let mut mean = 0.0_f64;
    let mut m2 = 0.0_f64;
    for &x in xs.iter().filter(|x| x.is_finite()) {
        n += 1.0;
        let delta = x - mean;
        mean += delta / n;
        m2 += delta * (x - mean);
    }
    if n == 0.0 {
        return None;
    }
    let sd = if n > 1.0 {
        (m2 / (n - 1.0)).max(0.0).sqrt()
    } else {
        0.0
    };
    Some((mean, sd))
}

/// A multiset of finite values kept sorted, for sliding-window medians: insert and remove
/// cost a binary search and a short memmove, the median is O(1). Non-finite values are ignored
/// on insert and remove, so callers can push raw data.
#[derive(Clone, Debug, Default)]
pub struct SortedWindow {
    sorted: Vec<f64>,
}

impl SortedWindow {
    /// An empty window with room for `capacity` values.
    pub fn with_capacity(capacity: usize) -> Self {
        SortedWindow {
            sorted: Vec::with_capacity(capacity),
        }
    }

    /// Adds `x` (ignored when non-finite).
    pub fn insert(&mut self, x: f64) {
        if x.is_finite() {
            let at = self.sorted.partition_point(|v| v.total_cmp(&x).is_lt());
            self.sorted.insert(at, x);
        }
    }

    /// Removes one copy of `x`; returns whether it was present.
    pub fn remove(&mut self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        let at = self.sorted.partition_point(|v| v.total_cmp(&x).is_lt());
        if self.sorted.get(at).is_some_and(|v| v.total_cmp(&x).is_eq()) {
            self.sorted.remove(at);
            return true;
        }
        false
    }

    /// Number of values held.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether the window holds no value.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Median of the values held.
    pub fn median(&self) -> Option<f64> {
        let n = self.sorted.len();
        let upper = *self.sorted.get(n / 2)?;
        if n % 2 == 1 {
            return Some(upper);
        }
        let lower = *self.sorted.get(n / 2 - 1)?;
        Some(lower / 2.0 + upper / 2.0)
    }

    /// Mean of the values held.
    pub fn mean(&self) -> Option<f64> {
        mean(&self.sorted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_and_nan() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 5.0, f64::INFINITY, 1.0]), Some(3.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(median(&[f64::MAX, f64::MAX]), Some(f64::MAX));
    }

    #[test]
    fn mad_is_scaled_and_robust() {
        // Deviations from 3 are 2,1,0,1,2 -> median 1.
        let m = mad(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!((m - MAD_SCALE).abs() < 1e-12);
        // One wild value does not move it.
        let m2 = mad(&[1.0, 2.0, 3.0, 4.0, 1e9]).unwrap();
        assert!((m2 - MAD_SCALE).abs() < 1e-12);
        assert_eq!(mad(&[7.0; 10]), Some(0.0));
        assert_eq!(mad(&[f64::NAN]), None);
    }

    #[test]
    fn robust_scale_falls_back_when_mad_is_zero() {
        let mut sparse = vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0];
        let s = robust_scale_mut(&mut sparse, 0.0).unwrap();
        assert!((s - 3.0 / 8.0 * MEAN_AD_SCALE).abs() < 1e-12);
        let mut flat = vec![2.0; 5];
        assert_eq!(robust_scale_mut(&mut flat, 2.0), Some(0.0));
        assert_eq!(robust_scale_mut(&mut [], 0.0), None);
    }

    #[test]
    fn quantiles_interpolate() {
        let xs = [4.0, 1.0, 3.0, 2.0, f64::NAN];
        assert_eq!(quantile(&xs, 0.0), Some(1.0));
        assert_eq!(quantile(&xs, 1.0), Some(4.0));
        assert_eq!(quantile(&xs, 0.5), Some(2.5));
        assert!((quantile(&xs, 0.9).unwrap() - 3.7).abs() < 1e-12);
        assert_eq!(quantile(&xs, 7.0), Some(4.0));
        assert_eq!(quantile(&xs, f64::NAN), None);
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn robust_z_handles_degenerate_scale() {
        assert_eq!(robust_z(5.0, 1.0, 2.0), 2.0);
        assert_eq!(robust_z(5.0, 1.0, 0.0), 0.0);
        assert_eq!(robust_z(f64::NAN, 1.0, 1.0), 0.0);
        assert_eq!(robust_z(1.0, 1.0, f64::NAN), 0.0);
    }

    #[test]
    fn sorted_window_matches_median() {
        let mut w = SortedWindow::with_capacity(8);
        assert_eq!(w.median(), None);
        for x in [5.0, 1.0, f64::NAN, 4.0, 1.0, 9.0] {
            w.insert(x);
        }
        assert_eq!(w.len(), 5);
        assert_eq!(w.median(), median(&[5.0, 1.0, 4.0, 1.0, 9.0]));
        assert!(w.remove(1.0));
        assert!(!w.remove(7.0));
        assert!(!w.remove(f64::NAN));
        assert_eq!(w.median(), Some(4.5));
        assert_eq!(w.mean(), Some(4.75));
        for x in [5.0, 1.0, 4.0, 9.0] {
            assert!(w.remove(x));
        }
        assert!(w.is_empty());
    }

    #[test]
    fn mean_and_sd() {
        let (m, sd) = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!((m - 5.0).abs() < 1e-12);
        assert!((sd - (32.0_f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean(&[f64::NAN, 3.0]), Some(3.0));
        assert_eq!(std_dev(&[3.0]), None);
        assert_eq!(mean_sd(&[3.0]), Some((3.0, 0.0)));
        assert_eq!(mean(&[]), None);
        assert!(mean(&[f64::MAX, f64::MAX]).unwrap().is_finite());
    }
}
