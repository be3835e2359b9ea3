//! In-process mining rate of `pagerpilot patterns` on one file (one message per line): mines
//! it `RUNS` times with the same code path as the CLI (`mine_lines`, a fresh miner each run)
//! and prints the median lines per second. Used by `scripts/bench-drain3`, which interleaves
//! it with drain3 on the same input.
//!
//! ```sh
//! cargo run --release --example patterns_rate -- FILE [RUNS]
//! ```

use std::process::ExitCode;
use std::time::Instant;

use pagerpilot::report::patterns::mine_lines;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: patterns_rate FILE [RUNS]");
        return ExitCode::FAILURE;
    };
    let runs = match args.next().map(|r| r.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: RUNS must be a positive whole number");
            return ExitCode::FAILURE;
        }
    };
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut rates: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let mined = mine_lines(&lines);
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            std::hint::black_box(mined);
            lines.len() as f64 / secs
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    println!("{:.0}", rates[rates.len() / 2]);
    ExitCode::SUCCESS
}
