//! NAB harness: scores every series under `<dir>/data` with the same code as `pagerpilot detect`
//! (one default `Detector`, causal) and reports NAB's standard, reward-low-FP and reward-low-FN
//! scores with one corpus-wide threshold per profile.
//!
//! ```sh
//! cargo run --release --example nab -- ../shared/bench/nab
//! ```
//! `--per-file` also prints each file's raw standard score at the chosen threshold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use pagerpilot::analysis::anomaly::detect::detect_scores;
use pagerpilot::analysis::nab::{raw_score, sweep, File, PROFILES};
use pagerpilot::report::series_csv::{self, parse_timestamp};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let per_file = args.iter().any(|a| a == "--per-file");
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/nab"));
    match run(&dir, per_file) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &Path, per_file: bool) -> anyhow::Result<()> {
    let labels_path = dir.join("labels/combined_windows.json");
    let labels: BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_slice(&std::fs::read(&labels_path)?)?;
    let mut names = Vec::new();
    let mut files = Vec::new();
    let started = Instant::now();
    let mut points = 0usize;
    for (name, windows) in &labels {
        let path = dir.join("data").join(name);
        if !path.exists() {
            continue;
        }
        let series = series_csv::read(&path)?;
        let ts = series.timestamps();
        let scores = detect_scores(&ts, &series.values());
        points += ts.len();
        let mut rows = Vec::new();
        for (a, b) in windows {
            let (Some((ta, _)), Some((tb, _))) = (parse_timestamp(a), parse_timestamp(b)) else {
                anyhow::bail!("{name}: bad window {a:?}..{b:?}");
            };
            let left = ts.partition_point(|&t| t < ta);
            let right = ts.partition_point(|&t| t <= tb);
            if right > left {
                rows.push((left, right - 1));
            }
        }
        names.push(name.clone());
        files.push(File {
            scores,
            windows: rows,
        });
    }
    let elapsed = started.elapsed();
    println!(
        "NAB: {} files, {} windows, {points} points scored in {:.2?}\n",
        files.len(),
        files.iter().map(|f| f.windows.len()).sum::<usize>(),
        elapsed
    );
    // Split check against overfitting: files at even / odd positions in name order, each swept
    // with its own threshold.
    let half = |odd: usize| -> Vec<File> {
        files
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == odd)
            .map(|(_, f)| f.clone())
            .collect()
    };
    let (even, odd) = (half(0), half(1));
    println!("| profile | score | threshold | raw | even half | odd half |");
    println!("|---|---:|---:|---:|---:|---:|");
    for p in &PROFILES {
        let s = sweep(&files, p);
        println!(
            "| {} | {:.1} | {:.4} | {:.2} | {:.1} | {:.1} |",
            p.name,
            s.normalized,
            s.threshold,
            s.raw,
            sweep(&even, p).normalized,
            sweep(&odd, p).normalized
        );
        if per_file && p.name == "standard" {
            for (n, f) in names.iter().zip(&files) {
                let hits = f.scores.iter().filter(|x| **x >= s.threshold).count();
                eprintln!(
                    "{n}: raw {:.2}, {} windows, {hits} detections",
                    raw_score(f, s.threshold, p),
                    f.windows.len()
                );
            }
        }
    }
    Ok(())
}
