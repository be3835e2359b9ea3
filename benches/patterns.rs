//! Log pattern mining throughput: lines per second through `report::patterns::mine_lines` (the
//! path `pagerpilot patterns` and the LogHub harness use) on a deterministic synthetic corpus of
//! 50,000 lines from 40 message shapes with ids, numbers, durations, IPs and paths, and on each
//! LogHub system's 2,000 `Content` lines (group `loghub`, one benchmark per system, a fresh miner
//! per iteration). The LogHub files are read from `../shared/bench/loghub` next to the crate (or
//! `PAGERPILOT_LOGHUB`); the group is skipped with a note when they are absent.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pagerpilot::report::patterns::mine_lines;

const LINES: usize = 50_000;

/// A small deterministic generator (xorshift), so the corpus is the same on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn corpus() -> Vec<String> {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let verbs = ["GET", "POST", "PUT", "DELETE"];
    let states = ["started", "stopped", "paused", "resumed"];
    let users = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    (0..LINES)
        .map(|i| {
            let n = g.next() % 100_000;
            let m = g.next() % 1_000;
            match i % 40 {
                0..=9 => format!(
                    "10.0.{}.{} - - \"{} /api/v1/orders/{n} HTTP/1.1\" {} {m} {}ms",
                    m % 255,
                    n % 255,
                    g.pick(&verbs),
                    [200, 201, 404, 500][(n % 4) as usize],
                    m / 3
                ),
                10..=14 => format!(
                    "[instance: {n:08x}-1f2e-4d3c-9b8a-{m:012x}] VM {} (Lifecycle Event)",
                    g.pick(&states)
                ),
                15..=19 => format!("user {} logged in from 192.168.{}.{}", g.pick(&users), m % 255, n % 255),
                20..=24 => format!(
                    "Block rdd_{n}_{m} stored as bytes in memory (estimated size {m}.{} KB, free {n}.{} MB)",
                    n % 10,
                    m % 10
                ),
                25..=29 => format!("connection pool payments: {m} in use, {} waiting, timeout after {n}ms", m % 17),
                30..=34 => format!("wrote /var/lib/data/segment-{n}.log ({m} bytes) in {}.{}s", m % 9, n % 100),
                _ => format!("job {n} finished with exit code {} after {m} retries", m % 3),
            }
        })
        .collect()
}

fn mining(c: &mut Criterion) {
    let lines = corpus();
    let mut group = c.benchmark_group("patterns");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.sample_size(10);
    group.bench_function("mine_50k_lines", |b| b.iter(|| mine_lines(&lines)));
    group.finish();
}

/// The LogHub directory, if present.
fn loghub_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PAGERPILOT_LOGHUB")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/loghub"));
    dir.is_dir().then_some(dir)
}

/// `(system, Content lines)` for every system with a readable structured CSV, sorted by name.
fn loghub_systems(dir: &Path) -> Vec<(String, Vec<String>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut systems: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    systems.sort();
    systems
        .into_iter()
        .filter_map(|s| {
            let file = dir.join(&s).join(format!("{s}_2k.log_structured.csv"));
            let mut reader = csv::Reader::from_path(&file).ok()?;
            let at = reader.headers().ok()?.iter().position(|h| h == "Content")?;
            let lines: Vec<String> = reader
                .records()
                .filter_map(Result::ok)
                .map(|r| r.get(at).unwrap_or("").to_string())
                .collect();
            (!lines.is_empty()).then_some((s, lines))
        })
        .collect()
}

fn loghub(c: &mut Criterion) {
    let Some(dir) = loghub_dir() else {
        eprintln!("patterns/loghub: skipped (no LogHub data at ../shared/bench/loghub)");
        return;
    };
    let systems = loghub_systems(&dir);
    if systems.is_empty() {
        eprintln!(
            "patterns/loghub: skipped (no readable systems in {})",
            dir.display()
        );
        return;
    }
    let mut group = c.benchmark_group("loghub");
    for (system, lines) in &systems {
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(system), lines, |b, lines| {
            b.iter(|| mine_lines(lines))
        });
    }
    group.finish();
}

criterion_group!(benches, mining, loghub);
criterion_main!(benches);
