//! The remediation log's two measured targets (issue #6):
//! - approvals per second sustained with `synchronous=FULL`: one committed append per approval,
//!   the way the TUI writes them (goal ≥ 500/s on this machine);
//! - `log --verify` over 100,000 rows (goal < 1 s).
//!
//! Run with `cargo bench --bench store`. Under `cargo test --benches` (CI) each runs once on a
//! small log, as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};

use pagerpilot::domain::remediation::{Decision, RemediationEntry};
use pagerpilot::store::Store;

fn entry(i: usize) -> RemediationEntry {
    RemediationEntry::new(
        Utc::now(),
        "ana",
        "laptop",
        format!("INC-{}", i % 7),
        "payments-db-pool",
        i % 5,
        "Check pool usage",
        "kubectl -n 'shop' exec deploy/'payments-db' -- psql -Atc 'select 1'",
        Decision::Approved,
    )
}

/// `cargo bench` passes `--bench`; `cargo test --benches` does not.
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn store(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("approvals.db")).expect("open");
    let h = store.handle();
    let mut i = 0usize;
    let mut group = c.benchmark_group("remediation_log");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("append_one_approval_synchronous_full", |b| {
        b.iter(|| {
            i += 1;
            black_box(h.append(entry(i)).expect("append"));
        })
    });

    let rows = if full_run() { 100_000 } else { 1_000 };
    let big = Store::open(&dir.path().join("verify.db")).expect("open");
    let bh = big.handle();
    for chunk in (0..rows).collect::<Vec<_>>().chunks(10_000) {
        bh.append_batch(chunk.iter().map(|&i| entry(i)).collect())
            .expect("batch");
    }
    group.sample_size(10);
    group.bench_function(format!("verify_{rows}_rows"), |b| {
        b.iter(|| {
            let report = bh.verify().expect("verify");
            assert!(report.is_ok() && report.rows == rows);
        })
    });
    group.finish();
    drop(bh);
    big.close().expect("close");
    drop(h);
    store.close().expect("close");
}

criterion_group!(benches, store);
criterion_main!(benches);
