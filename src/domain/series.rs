//! A metric series: labels plus columnar points (unix seconds, value).

use serde::{Deserialize, Serialize};

use super::Labels;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Stable display id, e.g. `checkout_api_latency_p99{service="checkout-api"}`.
    pub id: String,
    pub labels: Labels,
    /// Unix seconds, strictly increasing.
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// An upper limit the value can reach (e.g. 100 for a percentage of a disk); enables
    /// capacity forecasts. Comes from the watch configuration, never from the data.
    pub capacity: Option<f64>,
    /// For an error-ratio series (bad / all events of its service), the service's SLO objective
    /// (0.999 for 99.9 %). Comes from the watch configuration, never from the data.
    pub slo: Option<f64>,
    /// The anomaly sensitivity (0..1) that decides what counts as anomalous in this series
    /// (`analysis::anomaly::apply_sensitivity`); `None` is the default 0.5. Comes from the
    /// configuration or the TUI, never from the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<f64>,
}

impl Series {
    pub fn metric(&self) -> &str {
        self.labels
            .get("__name__")
            .map(String::as_str)
            .unwrap_or(&self.id)
    }

    /// The service this series belongs to, by the usual label names.
    pub fn service(&self) -> Option<&str> {
        const KEYS: [&str; 4] = ["service", "app", "job", "instance"];
        KEYS.iter()
            .find_map(|k| self.labels.get(*k))
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    pub fn last_timestamp(&self) -> Option<i64> {
        self.timestamps.last().copied()
    }

    /// Appends points newer than the last one; older or duplicate timestamps are ignored.
    pub fn merge_newer(&mut self, timestamps: &[i64], values: &[f64]) {
        let last = self.last_timestamp().unwrap_or(i64::MIN);
        for (t, v) in timestamps.iter().zip(values) {
            if *t > last && self.last_timestamp().is_none_or(|l| *t > l) {
                self.timestamps.push(*t);
                self.values.push(*v);
            }
        }
    }

    /// Drops points older than `min_ts`.
    pub fn trim_before(&mut self, min_ts: i64) {
        let cut = self.timestamps.partition_point(|t| *t < min_ts);
        if cut > 0 {
            self.timestamps.drain(..cut);
            self.values.drain(..cut);
        }
    }
}

/// The display id of a series: `metric{k="v",...}` with the labels sorted, `__name__` left out of
/// the braces and values escaped as in PromQL. The demo replay and the Prometheus client both use
/// it, so a watch's id is the same whichever source answers.
pub fn series_id(labels: &Labels) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let inner: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{name}{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_order_and_skips_old_points() {
        let mut s = Series {
            timestamps: vec![60, 120],
            values: vec![1.0, 2.0],
            ..Series::default()
        };
        s.merge_newer(&[120, 180, 240], &[9.0, 3.0, 4.0]);
        assert_eq!(s.timestamps, vec![60, 120, 180, 240]);
        assert_eq!(s.values, vec![1.0, 2.0, 3.0, 4.0]);
        s.trim_before(180);
        assert_eq!(s.timestamps, vec![180, 240]);
    }
}
