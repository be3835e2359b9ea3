//! Root-cause ranking on the Sock Shop fault-injection cases: runs the same code as
//! `pagerpilot rca` on every `<service>-<fault>/<run>/{normal,anomalous}.csv` and reports AC@1..5
//! and Avg@5 per fault type and overall (definitions in `../shared/bench/README.md`).
//!
//! `cargo run --release --example sockshop -- ../shared/bench/rca`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pagerpilot::report::rca;

fn cases(root: &Path) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "normal.csv") {
                let Some(run_dir) = path.parent() else {
                    continue;
                };
                let Some(case) = run_dir
                    .parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str())
                else {
                    continue;
                };
                if let Some((service, fault)) = case.rsplit_once('-') {
                    out.push((
                        service.to_string(),
                        fault.to_string(),
                        run_dir.to_path_buf(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

fn main() -> ExitCode {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/rca"));
    let all = cases(&root);
    if all.is_empty() {
        eprintln!(
            "no cases (…/<service>-<fault>/<run>/normal.csv) under {}",
            root.display()
        );
        return ExitCode::FAILURE;
    }
    // fault -> ranks of the true service (1-based; usize::MAX when absent).
    let mut ranks: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (service, fault, dir) in &all {
        let result = match rca::run(&dir.join("normal.csv"), &dir.join("anomalous.csv"), None) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        };
        let rank = result
            .ranking
            .iter()
            .position(|s| &s.service == service)
            .map_or(usize::MAX, |p| p + 1);
        ranks.entry(fault.clone()).or_default().push(rank);
        ranks.entry("all".to_string()).or_default().push(rank);
    }
    println!("| Faults | Cases | AC@1 | AC@2 | AC@3 | AC@4 | AC@5 | Avg@5 |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (fault, rs) in &ranks {
        let ac = |k: usize| rs.iter().filter(|r| **r <= k).count() as f64 / rs.len() as f64;
        let avg5 = (1..=5).map(ac).sum::<f64>() / 5.0;
        println!(
            "| {fault} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} |",
            rs.len(),
            ac(1),
            ac(2),
            ac(3),
            ac(4),
            ac(5),
            avg5
        );
    }
    ExitCode::SUCCESS
}
