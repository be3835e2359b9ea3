//! LogHub template-mining benchmark: mines each system's `Content` column with the same code
//! path as `pagerpilot patterns` (one default `Miner`, final templates) and scores the groups
//! against the ground-truth `EventId` (grouping accuracy and pairwise F1).
//!
//! ```sh
//! cargo run --release --example loghub -- /work/shared/bench/loghub
//! ```
//!
//! The directory defaults to `../shared/bench/loghub` next to the crate root; each system is a
//! sub-directory `<S>` holding `<S>_2k.log_structured.csv`. Prints a Markdown table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pagerpilot::analysis::patterns::score::{grouping_accuracy, pairwise_f1};
use pagerpilot::report::patterns::mine_lines;

struct Row {
    system: String,
    lines: usize,
    ga: f64,
    precision: f64,
    recall: f64,
    f1: f64,
    mining: Duration,
}

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/loghub"));
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &Path) -> Result<(), String> {
    let mut systems: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    systems.sort();
    let mut rows = Vec::new();
    for system in systems {
        let file = dir
            .join(&system)
            .join(format!("{system}_2k.log_structured.csv"));
        if !file.exists() {
            eprintln!("skipping {system}: no {}", file.display());
            continue;
        }
        rows.push(score_system(&system, &file)?);
    }
    if rows.is_empty() {
        return Err(format!("no LogHub systems under {}", dir.display()));
    }
    print_table(&rows);
    Ok(())
}

fn score_system(system: &str, file: &Path) -> Result<Row, String> {
    let (content, truth) = read_structured(file)?;
    let started = Instant::now();
    let mined = mine_lines(&content);
    let mining = started.elapsed();
    let predicted: Vec<&str> = (0..mined.lines.len())
        .map(|i| mined.id(i).unwrap_or(""))
        .collect();
    let truth: Vec<&str> = truth.iter().map(String::as_str).collect();
    let (precision, recall, f1) = pairwise_f1(&truth, &predicted);
    Ok(Row {
        system: system.to_string(),
        lines: content.len(),
        ga: grouping_accuracy(&truth, &predicted),
        precision,
        recall,
        f1,
        mining,
    })
}

/// The `Content` and `EventId` columns of a structured LogHub CSV.
fn read_structured(file: &Path) -> Result<(Vec<String>, Vec<String>), String> {
    let err = |e: csv::Error| format!("{}: {e}", file.display());
    let mut reader = csv::Reader::from_path(file).map_err(err)?;
    let headers = reader.headers().map_err(err)?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{}: no {name} column", file.display()))
    };
    let (content_at, event_at) = (column("Content")?, column("EventId")?);
    let mut content = Vec::new();
    let mut truth = Vec::new();
    for record in reader.records() {
        let record = record.map_err(err)?;
        content.push(record.get(content_at).unwrap_or("").to_string());
        truth.push(record.get(event_at).unwrap_or("").to_string());
    }
    Ok((content, truth))
}

fn print_table(rows: &[Row]) {
    println!("| System | Lines | GA | Precision | Recall | F1 | Mining lines/s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} |",
            r.system,
            r.lines,
            r.ga,
            r.precision,
            r.recall,
            r.f1,
            rate(r.lines, r.mining)
        );
    }
    let n = rows.len() as f64;
    let mean = |f: fn(&Row) -> f64| rows.iter().map(f).sum::<f64>() / n;
    let lines: usize = rows.iter().map(|r| r.lines).sum();
    let time: Duration = rows.iter().map(|r| r.mining).sum();
    println!(
        "| **Mean ({} systems)** | {} | **{:.3}** | {:.3} | {:.3} | {:.3} | {:.0} |",
        rows.len(),
        lines,
        mean(|r| r.ga),
        mean(|r| r.precision),
        mean(|r| r.recall),
        mean(|r| r.f1),
        rate(lines, time)
    );
    let worst = rows
        .iter()
        .min_by(|a, b| a.ga.total_cmp(&b.ga))
        .map_or(String::new(), |r| format!("{} {:.3}", r.system, r.ga));
    println!();
    println!("Lowest GA: {worst}. Throughput counts only `mine_lines` (masking, clustering, ids).");
}

fn rate(lines: usize, time: Duration) -> f64 {
    lines as f64 / time.as_secs_f64().max(1e-9)
}
