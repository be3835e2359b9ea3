//! The demo scenario's series as text a real Prometheus reads: OpenMetrics history for
//! `promtool tsdb create-blocks-from openmetrics` (timestamps in seconds, ending in `# EOF`),
//! and the current values in the text exposition format for a live scrape target. Pure: the
//! caller writes or serves the text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::Scenario;
use crate::domain::{Labels, Series};

/// Every series of `scenario` (anchored at `anchor`) over `[start, end]` (unix seconds), one
/// sample per scenario step, as OpenMetrics: one gauge family per metric name, each series'
/// samples in time order, timestamps in seconds, `# EOF` last.
pub fn openmetrics(scenario: &Scenario, anchor: DateTime<Utc>, start: i64, end: i64) -> String {
    let series = scenario.series_at(anchor, start, end, scenario.step_secs());
    let mut out = String::new();
    for (name, members) in by_metric(&series) {
        let _ = writeln!(out, "# TYPE {name} gauge");
        for s in members {
            let labels = label_text(&s.labels);
            for (ts, value) in s.timestamps.iter().zip(&s.values) {
                let _ = writeln!(out, "{name}{labels} {} {ts}", number(*value));
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// The value of every series at unix second `now`, in the Prometheus text exposition format
/// (no timestamps: the scraper stamps them).
pub fn exposition(scenario: &Scenario, anchor: DateTime<Utc>, now: i64) -> String {
    let series = scenario.series_at(anchor, now, now, 1);
    let mut out = String::new();
    for (name, members) in by_metric(&series) {
        let _ = writeln!(out, "# TYPE {name} gauge");
        for s in members {
            if let Some(value) = s.values.last() {
                let _ = writeln!(out, "{name}{} {}", label_text(&s.labels), number(*value));
            }
        }
    }
    out
}

/// Series grouped by metric name (families must not interleave), in name order.
fn by_metric(series: &[Series]) -> BTreeMap<&str, Vec<&Series>> {
    let mut families: BTreeMap<&str, Vec<&Series>> = BTreeMap::new();
    for s in series {
        let name = s
            .labels
            .get("__name__")
            .map_or("demo_series", String::as_str);
        families.entry(name).or_default().push(s);
    }
    families
}

/// `{a="x",b="y"}` without `__name__`, values escaped as in a series id; empty when there
/// are no labels.
fn label_text(labels: &Labels) -> String {
    let mut rest = labels.clone();
    rest.remove("__name__");
    let text = crate::domain::series::series_id(&rest);
    if text == "{}" {
        String::new()
    } else {
        text
    }
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        Scenario::embedded().unwrap()
    }

    #[test]
    fn openmetrics_groups_families_and_ends_with_eof() {
        let s = scenario();
        let anchor = DateTime::parse_from_rfc3339("2026-11-25T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = anchor.timestamp();
        let text = openmetrics(&s, anchor, a - 600, a - 60);
        assert!(text.ends_with("# EOF\n"));
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .collect();
        let mut sorted = families.clone();
        sorted.dedup();
        assert_eq!(families, sorted, "a family appears once");
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        // Ten points a series (a-600 .. a-60 every minute), for every series.
        assert_eq!(samples.len(), 10 * s.series_ids().len());
        let want = s.series_at(anchor, a - 60, a - 60, 60);
        let first = &want[0];
        let name = &first.labels["__name__"];
        let line = format!(
            "{name}{} {} {}",
            label_text(&first.labels),
            first.values[0],
            a - 60
        );
        assert!(text.lines().any(|l| l == line), "{line} not in output");
        // Every sample line: name{labels} value seconds.
        for l in samples {
            let ts: i64 = l.rsplit(' ').next().unwrap().parse().unwrap();
            assert!((a - 600..=a - 60).contains(&ts), "{l}");
        }
    }

    #[test]
    fn exposition_has_one_value_per_series() {
        let s = scenario();
        let anchor = Utc::now();
        let text = exposition(&s, anchor, anchor.timestamp() + 17);
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(samples.len(), s.series_ids().len());
        assert!(samples.iter().all(|l| l.split(' ').count() == 2), "{text}");
    }

    #[test]
    fn labels_are_escaped() {
        let labels: Labels = [("__name__", "m"), ("a", "x\"y\\z")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(label_text(&labels), r#"{a="x\"y\\z"}"#);
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(0.25), "0.25");
    }
}
