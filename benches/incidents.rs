//! Speed of grouping + ranking 10,000 alerts (goal < 100 ms) and of `rca` on 60 columns ×
//! 1,000 rows (goal < 10 ms).
//!
//! The alerts come from the labelled scenario generator of `tests/incidents_gen/mod.rs`:
//! scenarios with different seeds get their own service names (a prefix) and start 3.6 minutes
//! apart, so 10,000 alerts from ~400 scenarios span a day, with each scenario's series and
//! anomaly results, transitions and topology edges.

#[path = "../tests/incidents_gen/mod.rs"]
mod incidents_gen;

use std::collections::BTreeMap;

use chrono::Duration;
use criterion::{criterion_group, criterion_main, Criterion};
use pagerpilot::analysis::correlate::{build_incidents, IncidentInput};
use pagerpilot::analysis::rca::{rank, Column};
use pagerpilot::analysis::{SeriesAnomaly, Transition};
use pagerpilot::domain::alert::fingerprint;
use pagerpilot::domain::{Alert, Edge, Series};

struct World {
    now: chrono::DateTime<chrono::Utc>,
    alerts: Vec<Alert>,
    transitions: Vec<Transition>,
    series: Vec<Series>,
    anomalies: BTreeMap<String, SeriesAnomaly>,
    edges: Vec<Edge>,
}

fn world(target: usize) -> World {
    let mut w = World {
        now: chrono::DateTime::UNIX_EPOCH,
        alerts: Vec::new(),
        transitions: Vec::new(),
        series: Vec::new(),
        anomalies: BTreeMap::new(),
        edges: Vec::new(),
    };
    let mut seed = 1u64;
    while w.alerts.len() < target {
        let s = incidents_gen::generate(seed);
        let shift = Duration::seconds(seed as i64 * 216);
        let p = |svc: &str| format!("s{seed}-{svc}");
        let mut renamed: BTreeMap<String, String> = BTreeMap::new();
        for a in s.alerts.into_iter().take(target - w.alerts.len()) {
            let mut a = a;
            if let Some(svc) = a.labels.get_mut("service") {
                *svc = p(svc);
            }
            let fp = fingerprint(&a.labels);
            renamed.insert(a.fingerprint.clone(), fp.clone());
            a.fingerprint = fp;
            a.starts_at += shift;
            w.alerts.push(a);
        }
        for t in s.transitions {
            if let Some(fp) = renamed.get(&t.fingerprint) {
                w.transitions.push(Transition {
                    fingerprint: fp.clone(),
                    at: t.at + shift,
                    state: t.state,
                });
            }
        }
        for mut series in s.series {
            let old = series.id.clone();
            if let Some(svc) = series.labels.get_mut("service") {
                *svc = p(svc);
            }
            series.id = format!("{}-{old}", seed);
            if let Some(mut a) = s.anomalies.get(&old).cloned() {
                a.series_id = series.id.clone();
                a.onset = a.onset.map(|o| o + shift.num_seconds());
                w.anomalies.insert(series.id.clone(), a);
            }
            w.series.push(series);
        }
        w.edges.extend(s.model.edges.iter().map(|e| Edge {
            from: p(&e.from),
            to: p(&e.to),
        }));
        w.now = s.now + shift;
        seed += 1;
    }
    w
}

fn rca_columns() -> Vec<Column> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 10_000) as f64 / 100.0
    };
    (0..60)
        .map(|c| {
            let shift = if c == 17 { 50.0 } else { 0.0 };
            Column {
                name: format!("svc{}_metric{}", c / 3, c % 3),
                service: format!("svc{}", c / 3),
                normal: (0..1000).map(|_| next()).collect(),
                anomalous: (0..1000).map(|_| next() + shift).collect(),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let w = world(10_000);
    let input = IncidentInput {
        now: w.now,
        alerts: &w.alerts,
        transitions: &w.transitions,
        series: &w.series,
        anomalies: &w.anomalies,
        patterns: &[],
        topology: &w.edges,
    };
    c.bench_function("group_and_rank_10k_alerts", |b| {
        b.iter(|| build_incidents(std::hint::black_box(&input)))
    });
    let columns = rca_columns();
    c.bench_function("rca_60_columns_x_1000_rows", |b| {
        b.iter(|| rank(std::hint::black_box(&columns)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
