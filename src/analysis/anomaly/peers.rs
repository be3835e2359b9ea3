//! Peer-group outliers: one instance of a metric that behaves unlike its siblings (a pod whose
//! latency left the pack), found with augurs' MAD outlier detector across the group, as
//! Grafana's outlier detection does.
//!
//! * **Groups.** Series with the same metric name and the same labels once the instance-like
//!   labels ([`INSTANCE_LABELS`]) are set aside; a group needs at least [`MIN_PEERS`] members.
//! * **Window.** The last [`WINDOW_POINTS`] timestamps that every member of the group has, with a
//!   finite value in each (at least [`MIN_POINTS`] of them).
//! * **Verdict.** Two of augurs' detectors must agree, as in Grafana's outlier detection:
//!   - *MAD* scores every value against the median of the whole group over the window in robust
//!     standard deviations; a value beyond [`THRESHOLD`] is outlying. A series passes when it is
//!     outlying now — its current outlying run reaches the newest timestamp and is at least
//!     [`MIN_RUN`] points long — and was not outlying at the start of the window, so a member
//!     that is always different by design (a leader, a bigger shard) is not flagged again and
//!     again; what is reported is a change in how it compares with its peers.
//!   - *DBSCAN* clusters the members' values at each timestamp on its own (values within ε of
//!     each other chain into a cluster; the cluster holding at least half the members is the
//!     pack), with ε = [`DBSCAN_EPS`] robust standard deviations of the values around each
//!     timestamp's median over the newest [`MIN_RUN`] timestamps. A series passes when it is outside the pack at the newest
//!     timestamp. MAD's median spans the whole window, so when the whole group moves together
//!     (a traffic peak, a shared dependency slowing down) every member looks outlying to MAD;
//!     DBSCAN, judging each timestamp alone, keeps them one pack.
//!
//! A group where the detector cannot work (all values equal, so the spread is zero) gives
//! nothing.
use std::collections::{BTreeMap, HashMap};

use augurs::outlier::{DbscanDetector, MADDetector, OutlierDetector};

use super::super::stats::MAD_SCALE;
use crate::domain::Series;

/// Labels that tell instances of one metric apart.
pub const INSTANCE_LABELS: [&str; 9] = [
    "instance",
    "pod",
    "pod_name",
    "container",
    "host",
    "hostname",
    "node",
    "replica",
    "shard",
];
/// Smallest group worth comparing.
pub const MIN_PEERS: usize = 3;
/// Timestamps compared (the newest ones every member has).
pub const WINDOW_POINTS: usize = 180;
/// Fewest aligned timestamps for a verdict.
pub const MIN_POINTS: usize = 20;
/// Outlying beyond this many robust standard deviations from the group's median.
pub const THRESHOLD: f64 = 3.5;
/// Shortest outlying run (points) that counts.
pub const MIN_RUN: usize = 5;
/// DBSCAN's ε in robust standard deviations of the values about their timestamp's median.
pub const DBSCAN_EPS: f64 = 2.0;

/// One series that left its peer group.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerOutlier {
    pub series_id: String,
    /// Members of the group, this series included.
    pub group_size: usize,
    /// Unix seconds of the first point of the current outlying run.
    pub since: i64,
    /// The series' newest value and the group's median over the window.
    pub value: f64,
    pub group_median: f64,
}

impl PeerOutlier {
    /// "an outlier among its 4 peers since 14:05 UTC (312 against their median 101; MAD and
    /// DBSCAN)";
    /// `now` (unix seconds) decides whether the date is shown.
    pub fn describe(&self, now: i64) -> String {
        format!(
            "an outlier among its {} peers since {} ({} against their median {}; MAD and DBSCAN)",
            self.group_size.saturating_sub(1),
            super::clock(self.since, now),
            short(self.value),
            short(self.group_median)
        )
    }
}

/// A value with about 4 significant digits, trailing zeros dropped: 312, 0.2134, 1.5.
pub(super) fn short(x: f64) -> String {
    if !x.is_finite() {
        return "?".into();
    }
    let magnitude = if x == 0.0 {
        0
    } else {
        x.abs().log10().floor() as i32
    };
    let decimals = (3 - magnitude).clamp(0, 6) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Every series of `series` that is an outlier among its peers now, sorted by series id.
pub fn peer_outliers(series: &[Series]) -> Vec<PeerOutlier> {
    let mut groups: BTreeMap<String, Vec<&Series>> = BTreeMap::new();
    for s in series.iter().filter(|s| !s.is_empty()) {
        groups.entry(group_key(s)).or_default().push(s);
    }
    let mut out: Vec<PeerOutlier> = groups
        .values()
        .filter(|g| g.len() >= MIN_PEERS)
        .flat_map(|g| group_outliers(g))
        .collect();
    out.sort_by(|a, b| a.series_id.cmp(&b.series_id));
    out
}

/// The metric name and the labels that are not instance-like.
fn group_key(s: &Series) -> String {
    let mut key = s.metric().to_string();
    for (k, v) in &s.labels {
        if k != "__name__" && !INSTANCE_LABELS.contains(&k.as_str()) {
            key.push('\u{1f}');
            key.push_str(k);
            key.push('=');
            key.push_str(v);
        }
    }
    key
}

fn group_outliers(group: &[&Series]) -> Vec<PeerOutlier> {
    // The newest timestamps that every member has with a finite value.
    let maps: Vec<HashMap<i64, f64>> = group
        .iter()
        .map(|s| {
            s.timestamps
                .iter()
                .copied()
                .zip(s.values.iter().copied())
                .filter(|(_, v)| v.is_finite())
                .collect()
        })
        .collect();
    let Some((first, rest)) = maps.split_first() else {
        return Vec::new();
    };
    let mut times: Vec<i64> = first
        .keys()
        .copied()
        .filter(|t| rest.iter().all(|m| m.contains_key(t)))
        .collect();
    times.sort_unstable();
    let times = &times[times.len().saturating_sub(WINDOW_POINTS)..];
    if times.len() < MIN_POINTS {
        return Vec::new();
    }
    let rows: Vec<Vec<f64>> = maps
        .iter()
        .map(|m| {
            times
                .iter()
                .map(|t| m.get(t).copied().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
    let detector = MADDetector::with_threshold(THRESHOLD);
    let Ok(output) = detector
        .preprocess(&refs)
        .and_then(|data| detector.detect(&data))
    else {
        return Vec::new();
    };
    let mut all: Vec<f64> = rows.iter().flatten().copied().collect();
    let group_median = super::super::stats::median_mut(&mut all).unwrap_or(f64::NAN);
    let apart = apart_from_the_pack(&rows, &refs);
    let last = times.len() - 1;
    output
        .series_results
        .iter()
        .zip(group)
        .zip(&rows)
        .zip(&apart)
        .filter_map(|(((result, s), row), &apart)| {
            let run = result.outlier_intervals.intervals.last()?;
            let outlying_now = run.end.is_none() && last + 1 - run.start >= MIN_RUN;
            let new_divergence = run.start > 0;
            (outlying_now && new_divergence && apart).then(|| PeerOutlier {
                series_id: s.id.clone(),
                group_size: group.len(),
                since: times[run.start],
                value: row[last],
                group_median,
            })
        })
        .collect()
}

/// Per member: whether DBSCAN puts it outside the pack at the newest timestamp (see the
/// module docs). All false when DBSCAN cannot judge (no spread at all, or an error).
fn apart_from_the_pack(rows: &[Vec<f64>], refs: &[&[f64]]) -> Vec<bool> {
    // The spread is measured where the verdict is read: the newest MIN_RUN timestamps.
    let width = rows.first().map_or(0, Vec::len);
    let mut deviations = Vec::with_capacity(rows.len() * MIN_RUN);
    let mut column = Vec::with_capacity(rows.len());
    for t in width.saturating_sub(MIN_RUN)..width {
        column.clear();
        column.extend(rows.iter().map(|r| r[t]));
        if let Some(m) = super::super::stats::median_mut(&mut column) {
            deviations.extend(rows.iter().map(|r| (r[t] - m).abs()));
        }
    }
    let scale = super::super::stats::median_mut(&mut deviations).unwrap_or(0.0) * MAD_SCALE;
    let epsilon = DBSCAN_EPS * scale;
    let none = vec![false; rows.len()];
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return none;
    }
    let detector = DbscanDetector::with_epsilon(epsilon);
    let Ok(output) = detector
        .preprocess(refs)
        .and_then(|data| detector.detect(&data))
    else {
        return none;
    };
    output
        .series_results
        .iter()
        .map(|r| {
            r.outlier_intervals
                .intervals
                .last()
                .is_some_and(|run| run.end.is_none())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Labels;

    fn pod(name: &str, values: Vec<f64>) -> Series {
        let mut labels = Labels::new();
        labels.insert("__name__".into(), "latency".into());
        labels.insert("service".into(), "api".into());
        labels.insert("pod".into(), name.into());
        Series {
            id: format!("latency{{pod=\"{name}\"}}"),
            labels,
            timestamps: (0..values.len() as i64).map(|i| 1_000 + 60 * i).collect(),
            values,
            capacity: None,
            slo: None,
            sensitivity: None,
        }
    }

    /// Deterministic small wiggle around `level`.
    fn steady(level: f64, n: usize, phase: usize) -> Vec<f64> {
        (0..n)
            .map(|i| level * (1.0 + 0.02 * (((i * 7 + phase * 3) % 11) as f64 - 5.0) / 5.0))
            .collect()
    }

    #[test]
    fn a_pod_that_leaves_the_pack_is_an_outlier_since_it_left() {
        let n = 120;
        let mut bad = steady(100.0, n, 4);
        for v in &mut bad[100..] {
            *v = 300.0;
        }
        let series = vec![
            pod("a", steady(100.0, n, 0)),
            pod("b", steady(100.0, n, 1)),
            pod("c", steady(100.0, n, 2)),
            pod("d", steady(100.0, n, 3)),
            pod("e", bad),
        ];
        let out = peer_outliers(&series);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].series_id, "latency{pod=\"e\"}");
        assert_eq!(out[0].group_size, 5);
        assert_eq!(out[0].since, 1_000 + 60 * 100);
        assert_eq!(out[0].value, 300.0);
        assert!((out[0].group_median - 100.0).abs() < 3.0, "{out:?}");
        let text = out[0].describe(1_000 + 60 * 119);
        assert!(
            text.starts_with(
                "an outlier among its 4 peers since 01:56 UTC (300 against their median 10"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_analysis_explains_a_peer_outlier_on_its_series() {
        let n = 120;
        let mut bad = steady(100.0, n, 4);
        for v in &mut bad[100..] {
            *v = 300.0;
        }
        let snapshot = crate::analysis::Snapshot {
            now: chrono::DateTime::from_timestamp(1_000 + 60 * 119, 0).expect("valid time"),
            series: vec![
                pod("a", steady(100.0, n, 0)),
                pod("b", steady(100.0, n, 1)),
                pod("e", bad),
            ],
            ..Default::default()
        };
        let analysis = crate::analysis::analyze(&snapshot);
        let e = &analysis.anomalies["latency{pod=\"e\"}"].explanation;
        assert!(
            e.contains("; an outlier among its 2 peers since 01:56 UTC"),
            "{e}"
        );
        let a = &analysis.anomalies["latency{pod=\"a\"}"].explanation;
        assert!(!a.contains("outlier"), "{a}");
    }

    #[test]
    fn a_group_that_moves_together_has_no_outlier() {
        let n = 120;
        let series: Vec<Series> = ["a", "b", "c", "d", "e"]
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let mut v = steady(100.0, n, k);
                for x in &mut v[100..] {
                    *x *= 3.0;
                }
                pod(name, v)
            })
            .collect();
        let out = peer_outliers(&series);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn values_are_short() {
        assert_eq!(short(312.0), "312");
        assert_eq!(short(0.213_456), "0.2135");
        assert_eq!(short(1.5), "1.5");
        assert_eq!(short(123_456.7), "123457");
        assert_eq!(short(f64::NAN), "?");
    }

    #[test]
    fn no_verdict_for_small_groups_a_past_excursion_or_an_always_different_member() {
        let n = 120;
        // A spike that ended.
        let mut past = steady(100.0, n, 4);
        for v in &mut past[50..70] {
            *v = 300.0;
        }
        // Always three times the others (a leader).
        let leader = steady(300.0, n, 5);
        let series = vec![
            pod("a", steady(100.0, n, 0)),
            pod("b", steady(100.0, n, 1)),
            pod("c", steady(100.0, n, 2)),
            pod("past", past),
            pod("leader", leader),
        ];
        assert!(peer_outliers(&series).is_empty());

        let mut bad = steady(100.0, n, 4);
        for v in &mut bad[100..] {
            *v = 300.0;
        }
        let two = vec![pod("a", steady(100.0, n, 0)), pod("e", bad)];
        assert!(peer_outliers(&two).is_empty());
    }

    #[test]
    fn groups_are_by_metric_and_non_instance_labels_and_missing_points_are_skipped() {
        let n = 60;
        let mut bad = steady(100.0, n, 4);
        for v in &mut bad[40..] {
            *v = 400.0;
        }
        bad[45] = f64::NAN;
        let mut other_service = pod("x", steady(100.0, n, 0));
        other_service.labels.insert("service".into(), "web".into());
        let series = vec![
            pod("a", steady(100.0, n, 0)),
            pod("b", steady(100.0, n, 1)),
            pod("e", bad),
            other_service,
        ];
        let out = peer_outliers(&series);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].group_size, 3);
        // Identical values everywhere: no spread, no verdict, no panic.
        let flat = vec![
            pod("a", vec![1.0; n]),
            pod("b", vec![1.0; n]),
            pod("c", vec![1.0; n]),
        ];
        assert!(peer_outliers(&flat).is_empty());
    }
}
