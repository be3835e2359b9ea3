//! Retries of idempotent requests within one poll: which failures may be tried again, and the
//! jittered exponential backoff between tries (a pure schedule, unit-tested here).

use std::time::Duration;

use reqwest::header::HeaderMap;

/// How many times an idempotent request is tried within one poll, and how long to wait between
/// tries. The poller's own backoff between polls comes on top of this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1: no retry).
    pub max_attempts: u32,
    /// The wait before the first retry (before jitter); doubled for each further retry.
    pub base_delay: Duration,
    /// The longest wait between two tries; a `Retry-After` longer than this ends the retries
    /// (the next poll tries again).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

/// Whether a failed try may be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// No: the answer will not change (4xx, auth, a bad body, a request that is not idempotent).
    No,
    /// Yes, after the policy's backoff (connect error, timeout, 5xx, 429 without a hint).
    Backoff,
    /// Yes, after the server's `Retry-After`.
    After(Duration),
}

impl RetryPolicy {
    /// The wait before try `attempt + 1` after try `attempt` (1-based) failed with `retry`, or
    /// `None` when there is no further try. `unit` in `[0, 1)` is the jitter: the backoff
    /// `base * 2^(attempt-1)`, capped at `max_delay`, is scaled into `[1/2, 1]` of itself, so
    /// clients that failed together do not come back together.
    pub fn wait_after(&self, attempt: u32, retry: Retry, unit: f64) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        match retry {
            Retry::No => None,
            Retry::After(wait) => (wait <= self.max_delay).then_some(wait),
            Retry::Backoff => {
                let doubled = self
                    .base_delay
                    .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
                let capped = doubled.min(self.max_delay);
                Some(capped.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0)))
            }
        }
    }
}

/// `Retry-After` as a duration: delay-seconds, or an HTTP date (a date in the past is zero).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// A number in `[0, 1)` that differs between calls and between processes (jitter only; not
/// for anything that needs real randomness).
pub(super) fn jitter_unit() -> f64 {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let hash = std::collections::hash_map::RandomState::new().hash_one(n);
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_schedule_grows_is_capped_and_jittered() {
        let policy = RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        let at = |attempt, unit| policy.wait_after(attempt, Retry::Backoff, unit);
        // The backoff doubles (100, 200, 400, 800 ms) up to the cap; the jitter keeps each
        // wait within [half, all] of it.
        for (attempt, backoff_ms) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000)] {
            let backoff = Duration::from_millis(backoff_ms);
            assert_eq!(at(attempt, 0.0), Some(backoff / 2), "attempt {attempt}");
            let high = at(attempt, 0.999_999).unwrap();
            assert!(high <= backoff && high > backoff * 99 / 100, "{high:?}");
            let mid = at(attempt, 0.5).unwrap();
            assert!(mid > backoff / 2 && mid < high, "{mid:?}");
        }
        // Bounded: no wait after the last try.
        assert_eq!(at(6, 0.5), None);
        assert_eq!(at(60, 0.5), None);
        // Retry-After is honoured when it fits, otherwise the retries stop.
        let after = |d| policy.wait_after(1, Retry::After(d), 0.5);
        assert_eq!(
            after(Duration::from_millis(700)),
            Some(Duration::from_millis(700))
        );
        assert_eq!(after(Duration::from_secs(30)), None);
        assert_eq!(policy.wait_after(1, Retry::No, 0.5), None);
        let once = RetryPolicy {
            max_attempts: 1,
            ..policy
        };
        assert_eq!(once.wait_after(1, Retry::Backoff, 0.5), None);
    }

    #[test]
    fn retry_after_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&headers), None);
        let units: Vec<f64> = (0..100).map(|_| jitter_unit()).collect();
        assert!(units.iter().all(|u| (0.0..1.0).contains(u)));
        assert!(units.windows(2).any(|w| w[0] != w[1]));
    }
}
