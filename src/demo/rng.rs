//! Counter-based randomness: every draw is a pure function of its coordinates, so any point,
//! line or fill-in can be produced on its own, in any order, forever.

/// Domain tags keep the draws of different generators apart.
pub(crate) const TAG_SERIES: u64 = 0x5345_5249_4553;
pub(crate) const TAG_LOG_COUNT: u64 = 0x4c4f_4743_4e54;
pub(crate) const TAG_LOG_LINE: u64 = 0x4c4f_474c_494e;

/// The splitmix64 finaliser: a bijective 64-bit mix with good avalanche.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a list of coordinates into one 64-bit value (order matters).
pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x6a09_e667_f3bc_c908, |acc, p| {
        splitmix64(acc ^ splitmix64(*p))
    })
}

/// FNV-1a over text, for keying draws by a name rather than a position.
pub(crate) fn name_key(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A uniform draw in `[0, 1)` from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal draw (Box–Muller) from two independent hashes.
pub(crate) fn normal(h1: u64, h2: u64) -> f64 {
    let u1 = 1.0 - unit(h1); // (0, 1], so the logarithm is finite
    let u2 = unit(h2);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A Poisson draw with mean `lambda` (inverse CDF; `lambda` is validated to be at most a
/// few hundred, far from where `exp(-lambda)` underflows).
pub(crate) fn poisson(lambda: f64, h: u64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    let u = unit(h);
    let mut p = (-lambda).exp();
    let mut cdf = p;
    let mut k = 0u64;
    // The loop ends: the CDF tends to 1 and the cap stops rounding stalls.
    while u >= cdf && k < 10_000 {
        k += 1;
        p *= lambda / k as f64;
        cdf += p;
        if p < 1e-300 {
            break;
        }
    }
    k
}

/// A uniform integer in `[lo, hi]` (inclusive) from a hash.
pub(crate) fn int_in(lo: i64, hi: i64, h: u64) -> i64 {
    let span = hi.abs_diff(lo).saturating_add(1);
    lo.saturating_add_unsigned(h % span.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_part_and_order() {
        assert_eq!(hash(&[1, 2, 3]), hash(&[1, 2, 3]));
        assert_ne!(hash(&[1, 2, 3]), hash(&[1, 2, 4]));
        assert_ne!(hash(&[1, 2, 3]), hash(&[3, 2, 1]));
    }

    #[test]
    fn normal_draws_have_unit_variance() {
        let n = 20_000u64;
        let xs: Vec<f64> = (0..n)
            .map(|i| normal(hash(&[7, i, 0]), hash(&[7, i, 1])))
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }

    #[test]
    fn poisson_mean_matches_lambda_and_ints_stay_in_range() {
        let n = 20_000u64;
        let total: u64 = (0..n).map(|i| poisson(3.5, hash(&[9, i]))).sum();
        let mean = total as f64 / n as f64;
        assert!((mean - 3.5).abs() < 0.1, "mean {mean}");
        assert_eq!(poisson(0.0, 42), 0);
        for i in 0..1_000 {
            let v = int_in(100, 999, hash(&[i]));
            assert!((100..=999).contains(&v));
        }
        assert_eq!(int_in(5, 5, 123), 5);
    }
}
