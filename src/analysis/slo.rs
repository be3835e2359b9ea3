//! Error-budget burn of an incident's services, for ranking.
//!
//! A watch whose query is a per-service error ratio (bad / all events, 0..1) can name the
//! service's SLO objective `o` (`slo = 0.999`). The error budget is `1 - o`; the burn rate over a
//! window is the mean error ratio in that window divided by the budget. A burn rate of 1 spends
//! the budget exactly over the SLO period; [`FAST_BURN`] (14.4) spends 2 % of a 30-day budget in
//! one hour, the usual threshold for paging. As in multiwindow burn-rate alerting, a burn counts
//! only as much as both windows agree on — the last hour and the last 5 minutes — so an error
//! spike that has already stopped no longer pushes its incident up.
use chrono::{DateTime, Utc};

use crate::domain::{Series, SloBurn};

/// The long window: one hour.
pub const LONG_WINDOW_SECS: i64 = 3600;
/// The short window: five minutes.
pub const SHORT_WINDOW_SECS: i64 = 300;
/// The burn rate that scores the full SLO part of the ranking.
pub const FAST_BURN: f64 = 14.4;

/// The burn both windows agree on (the smaller of the two).
pub fn agreed(burn: &SloBurn) -> f64 {
    burn.long.min(burn.short)
}

/// 0..1: the agreed burn against [`FAST_BURN`].
pub fn score(burn: &SloBurn) -> f64 {
    let x = agreed(burn) / FAST_BURN;
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// The series that carry an SLO objective (the only ones [`burns`] looks at).
pub fn slo_series(series: &[Series]) -> Vec<&Series> {
    series.iter().filter(|s| s.slo.is_some()).collect()
}

/// The burn of every SLO series of `services` at `now`, fastest (agreed) first. A series with no
/// point in the last hour gives nothing (its data is too old to say); when the short window holds
/// no point (a step over 5 minutes), the newest point of the hour stands for it.
pub fn burns(slo_series: &[&Series], services: &[String], now: DateTime<Utc>) -> Vec<SloBurn> {
    let now = now.timestamp();
    let mut out: Vec<SloBurn> = slo_series
        .iter()
        .filter_map(|s| {
            let objective = s.slo.filter(|o| *o > 0.0 && *o < 1.0)?;
            let service = s
                .service()
                .filter(|svc| services.iter().any(|x| x == svc))?;
            let budget = 1.0 - objective;
            let window = |secs: i64| -> Vec<f64> {
                s.timestamps
                    .iter()
                    .zip(&s.values)
                    .filter(|(t, v)| **t > now - secs && **t <= now && v.is_finite())
                    .map(|(_, v)| v.clamp(0.0, 1.0))
                    .collect()
            };
            let long = window(LONG_WINDOW_SECS);
            let newest = *long.last()?;
            let short = window(SHORT_WINDOW_SECS);
            let short_mean = if short.is_empty() {
                newest
            } else {
                mean(&short)
            };
            Some(SloBurn {
                service: service.to_string(),
                series: s.id.clone(),
                objective,
                long: mean(&long) / budget,
                short: short_mean / budget,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        agreed(b)
            .total_cmp(&agreed(a))
            .then_with(|| a.series.cmp(&b.series))
    });
    out
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// One line for the detail view: "checkout-api 99.5 %: 18.2× over 1 h, 21.0× over 5 min".
pub fn describe(burn: &SloBurn) -> String {
    format!(
        "{} {}: {:.1}× over 1 h, {:.1}× over 5 min",
        burn.service,
        percent(burn.objective),
        burn.long,
        burn.short
    )
}

/// 0.999 → "99.9 %", 0.995 → "99.5 %", 0.9999 → "99.99 %".
fn percent(objective: f64) -> String {
    let p = objective * 100.0;
    let mut text = format!("{p:.3}");
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    format!("{text} %")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Labels;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid time")
    }

    /// Error ratios at a 60 s step for the last `values.len()` minutes.
    fn ratio(service: &str, slo: Option<f64>, values: &[f64]) -> Series {
        let end = now().timestamp();
        let n = values.len() as i64;
        let mut labels = Labels::new();
        labels.insert("service".into(), service.into());
        Series {
            id: format!("errors{{service=\"{service}\"}}"),
            labels,
            timestamps: (0..n).map(|i| end - 60 * (n - 1 - i)).collect(),
            values: values.to_vec(),
            capacity: None,
            slo,
            sensitivity: None,
        }
    }

    fn services(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn burn_is_the_window_mean_over_the_budget() {
        // 120 minutes: the first hour at 0.1 % errors, the last hour at 1 %.
        let mut v = vec![0.001; 60];
        v.extend(vec![0.01; 60]);
        let s = ratio("api", Some(0.999), &v);
        let all = slo_series(std::slice::from_ref(&s));
        let b = burns(&all, &services(&["api"]), now());
        assert_eq!(b.len(), 1);
        assert!((b[0].long - 10.0).abs() < 1e-9, "{:?}", b[0]);
        assert!((b[0].short - 10.0).abs() < 1e-9);
        assert!((score(&b[0]) - 10.0 / FAST_BURN).abs() < 1e-9);
        assert_eq!(
            describe(&b[0]),
            "api 99.9 %: 10.0× over 1 h, 10.0× over 5 min"
        );
    }

    #[test]
    fn a_spike_that_stopped_counts_only_as_the_short_window_burns() {
        // 55 minutes at 5 % errors, then 5 minutes clean: the hour burns, the last 5 min do not.
        let mut v = vec![0.05; 55];
        v.extend(vec![0.0; 5]);
        let s = ratio("api", Some(0.99), &v);
        let b = burns(
            &slo_series(std::slice::from_ref(&s)),
            &services(&["api"]),
            now(),
        );
        assert!(b[0].long > 4.0 && b[0].short == 0.0, "{:?}", b[0]);
        assert_eq!(score(&b[0]), 0.0);
    }

    #[test]
    fn only_slo_series_of_the_incident_services_with_recent_data_count() {
        let mut stale = ratio("api", Some(0.999), &[0.5; 10]);
        for t in &mut stale.timestamps {
            *t -= 2 * LONG_WINDOW_SECS;
        }
        let series = vec![
            ratio("api", None, &[0.5; 10]),
            ratio("other", Some(0.999), &[0.5; 10]),
            stale,
            ratio("db", Some(0.99), &[0.02, 0.02, f64::NAN, 7.0]),
        ];
        let slo = slo_series(&series);
        assert_eq!(slo.len(), 3);
        assert!(burns(&slo, &services(&["api"]), now()).is_empty());
        let b = burns(&slo, &services(&["api", "db"]), now());
        assert_eq!(b.len(), 1);
        // NaN dropped, 7.0 clamped to a ratio of 1: mean (0.02 + 0.02 + 1) / 3 over 0.01.
        assert!((b[0].long - 1.04 / 3.0 / 0.01).abs() < 1e-9, "{:?}", b[0]);
        assert_eq!(score(&b[0]), 1.0);
    }

    #[test]
    fn fastest_burn_first_and_percent_formatting() {
        let series = vec![
            ratio("a", Some(0.995), &[0.01; 30]),
            ratio("b", Some(0.9999), &[0.01; 30]),
        ];
        let b = burns(&slo_series(&series), &services(&["a", "b"]), now());
        assert_eq!(b[0].service, "b");
        assert!(
            describe(&b[0]).starts_with("b 99.99 %: 100.0×"),
            "{}",
            describe(&b[0])
        );
        assert!(
            describe(&b[1]).starts_with("a 99.5 %: 2.0×"),
            "{}",
            describe(&b[1])
        );
    }
}
