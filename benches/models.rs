//! Model speed: per-poll incremental anomaly scoring of 1,000 series (one new point each, after
//! five days of minute points), a full
//! rescore of 1,000 series × 1,440 points, a forecast of one 10,080-point series, and the plain
//! augurs MSTL + AutoETS baseline on one 1,440-point series, all in the same run; and one whole
//! analysis pass over the embedded demo.
//!
//! Under `cargo test --benches` (no `--bench` flag) the sizes shrink so the run stays quick.

use std::hint::black_box;

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::prelude::*;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pagerpilot::analysis::anomaly::detect::{detect_scores, Detector};
use pagerpilot::analysis::anomaly::{season, ScoreCache};
use pagerpilot::analysis::seasonal::{auto_periods, forecast};
use pagerpilot::analysis::{analyze, analyze_cached, Snapshot};
use pagerpilot::demo::Scenario;

const STEP: i64 = 60;

fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// A deterministic minute series: daily shape, noise from a xorshift, a few spikes.
fn series(seed: u64, n: usize) -> (Vec<i64>, Vec<f64>) {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut noise = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % 10_000) as f64 / 10_000.0 - 0.5
    };
    let ts = (0..n as i64).map(|i| 1_700_000_000 + STEP * i).collect();
    let ys = (0..n)
        .map(|i| {
            let phase = (i % 1_440) as f64 / 1_440.0 * std::f64::consts::TAU;
            let spike = if i % 997 == 500 { 30.0 } else { 0.0 };
            100.0 + 20.0 * phase.sin() + 4.0 * noise() + spike
        })
        .collect();
    (ts, ys)
}

/// What one TUI analysis pass gets from the embedded demo: every series over its history (22
/// series, 72 h at 1 min), the last hour of logs, the active alerts and the topology.
fn demo_snapshot() -> Snapshot {
    let scenario = Scenario::embedded().expect("the embedded demo parses");
    let anchor = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default();
    let now = anchor;
    let end = now.timestamp();
    let start = end - scenario.history_secs();
    let end_ns = end.saturating_mul(1_000_000_000);
    Snapshot {
        now,
        alerts: scenario.alerts_at(anchor, now),
        series: scenario.series_at(anchor, start, end, 0),
        logs: scenario.logs_at(anchor, end_ns - 3_600 * 1_000_000_000, end_ns),
        topology: scenario.topology(),
        ..Snapshot::default()
    }
}

fn bench(c: &mut Criterion) {
    let full = full_run();
    // `warm`: points each detector has seen before the poll; five days, so the daily seasonal
    // channel (two days of history, two of warm-up) is scoring and speaking.
    let (count, points, long, warm) = if full {
        (1_000, 1_440, 10_080, 5 * 1_440)
    } else {
        (5, 200, 2_000, 300)
    };
    let data: Vec<(Vec<i64>, Vec<f64>)> = (0..count)
        .map(|k| series(k as u64, warm.max(points) + 1))
        .collect();

    let mut warmed: Vec<Detector> = data
        .iter()
        .map(|(ts, ys)| {
            let mut d = Detector::new();
            for (t, y) in ts.iter().zip(ys).take(warm) {
                d.push(*t, *y);
            }
            d
        })
        .collect();
    c.bench_function(
        &format!("detect: poll of {count} series, one new point each"),
        |b| {
            b.iter_batched(
                || warmed.clone(),
                |mut ds| {
                    let mut sum = 0.0;
                    for (d, (ts, ys)) in ds.iter_mut().zip(&data) {
                        sum += d.push(ts[warm], ys[warm]);
                    }
                    // Returned, so criterion drops the detectors outside the timed region.
                    (black_box(sum), ds)
                },
                BatchSize::LargeInput,
            )
        },
    );
    warmed.clear();

    let mut g = c.benchmark_group("refit");
    g.sample_size(10);
    g.bench_function(
        format!("detect: rescore {count} series x {points} points"),
        |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for (ts, ys) in &data {
                    sum += detect_scores(&ts[..points], &ys[..points])
                        .iter()
                        .sum::<f64>();
                }
                black_box(sum)
            })
        },
    );
    g.finish();

    // The whole analysis pass the TUI runs (at most every 10 s): anomaly scoring of every
    // series, peer outliers, level shifts, capacity forecasts, log patterns, grouping, ranking.
    let snapshot = demo_snapshot();
    assert!(snapshot.series.len() >= 20 && !snapshot.alerts.is_empty());
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.bench_function(
        "analyze: the embedded demo (22 series x 4,320 points)",
        |b| b.iter(|| black_box(analyze(black_box(&snapshot)))),
    );
    // The same pass as the TUI runs it: scorers kept from the previous analysis, one new
    // point per series since then (the cache is primed outside the timing).
    let mut earlier = snapshot.clone();
    for s in &mut earlier.series {
        s.timestamps.pop();
        s.values.pop();
    }
    let mut primed = ScoreCache::new();
    black_box(analyze_cached(&earlier, &mut primed));
    g.bench_function(
        "analyze_cached: the demo, one new point per series since the last pass",
        |b| {
            b.iter_batched(
                || primed.clone(),
                |mut cache| black_box(analyze_cached(black_box(&snapshot), &mut cache)),
                BatchSize::LargeInput,
            )
        },
    );
    g.finish();

    let (ts, ys) = series(7, long);
    c.bench_function(
        &format!("season: detect the season of one {long}-point series"),
        |b| b.iter(|| black_box(season::detect(black_box(&ts), black_box(&ys)))),
    );
    let periods = auto_periods(STEP, ys.len());
    c.bench_function(
        &format!("forecast: one {long}-point series, 60 steps, 95 %"),
        |b| b.iter(|| black_box(forecast(black_box(&ys), &periods, 60, 0.95))),
    );

    let (_, base) = series(9, points);
    let mut g = c.benchmark_group("baseline");
    g.sample_size(10);
    g.bench_function(
        format!("augurs MSTL(60)+AutoETS: one {points}-point series, 60 steps"),
        |b| {
            b.iter(|| {
                // One day of minutes holds no second daily cycle, so the hourly period only.
                let model = MSTLModel::new(vec![60], AutoETS::non_seasonal().into_trend_model());
                let fitted = model.fit(&base).ok();
                black_box(fitted.and_then(|f| f.predict(60, 0.95).ok()))
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
