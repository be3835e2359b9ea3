//! M4 hourly harness: forecasts every series of `Hourly-train-dev.csv` 48 steps ahead with the
//! same code as `pagerpilot forecast --season auto --level 95` (hourly step, so periods 24 and
//! 168) and reports sMAPE, MASE (m = 24) and 95 % interval coverage against
//! `Hourly-test-dev.csv`, next to seasonal naive (m = 24).
//!
//! ```sh
//! cargo run --release --example m4 -- ../shared/bench/m4
//! ```
//! `--mstl` also runs augurs MSTL(24,168) + AutoETS trend as a baseline (slow).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::prelude::*;
use pagerpilot::analysis::seasonal::{auto_periods, forecast};

const H: usize = 48;
const M: usize = 24;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mstl = args.iter().any(|a| a == "--mstl");
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/m4"));
    match run(&dir, mstl) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &Path) -> Result<Vec<(String, Vec<f64>)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let mut fields = line.split(',');
        let id = fields
            .next()
            .unwrap_or_default()
            .trim_matches('"')
            .to_string();
        let mut values = Vec::new();
        for f in fields {
            let f = f.trim().trim_matches('"');
            if f.is_empty() {
                continue;
            }
            values.push(
                f.parse::<f64>()
                    .map_err(|_| format!("{}:{}: bad value {f:?}", path.display(), i + 1))?,
            );
        }
        out.push((id, values));
    }
    Ok(out)
}

#[derive(Default)]
struct Acc {
    smape: f64,
    mase: f64,
    covered: usize,
    total: usize,
    series: usize,
    time: Duration,
}

impl Acc {
    fn add(&mut self, train: &[f64], test: &[f64], f: &[f64], band: Option<(&[f64], &[f64])>) {
        let scale = (M..train.len())
            .map(|t| (train[t] - train[t - M]).abs())
            .sum::<f64>()
            / (train.len() - M) as f64;
        let mut s = 0.0;
        let mut a = 0.0;
        for (y, p) in test.iter().zip(f) {
            let d = y.abs() + p.abs();
            s += if d > 0.0 {
                200.0 * (y - p).abs() / d
            } else {
                0.0
            };
            a += (y - p).abs();
        }
        self.smape += s / test.len() as f64;
        self.mase += a / test.len() as f64 / scale.max(1e-12);
        self.series += 1;
        if let Some((lo, hi)) = band {
            for ((y, l), u) in test.iter().zip(lo).zip(hi) {
                self.total += 1;
                if l <= y && y <= u {
                    self.covered += 1;
                }
            }
        }
    }
    fn row(&self, name: &str) {
        let n = self.series.max(1) as f64;
        let cov = if self.total > 0 {
            format!("{:.3}", self.covered as f64 / self.total as f64)
        } else {
            "–".to_string()
        };
        println!(
            "| {name} | {:.2} | {:.3} | {cov} | {:.2?} |",
            self.smape / n,
            self.mase / n,
            self.time
        );
    }
}

fn run(dir: &Path, mstl: bool) -> Result<(), String> {
    let train = read(&dir.join("Hourly-train-dev.csv"))?;
    let test = read(&dir.join("Hourly-test-dev.csv"))?;
    let (mut ours, mut naive, mut base) = (Acc::default(), Acc::default(), Acc::default());
    for ((id, y), (id2, t)) in train.iter().zip(&test) {
        if id != id2 || t.len() < H || y.len() <= M {
            return Err(format!("series {id}/{id2} do not line up"));
        }
        let t = &t[..H];
        let started = Instant::now();
        let periods = auto_periods(3_600, y.len());
        let f = forecast(y, &periods, H, 0.95).ok_or(format!("{id}: no forecast"))?;
        ours.time += started.elapsed();
        ours.add(y, t, &f.point, Some((&f.lower, &f.upper)));
        let sn: Vec<f64> = (0..H).map(|k| y[y.len() - M + k % M]).collect();
        naive.add(y, t, &sn, None);
        if mstl {
            let started = Instant::now();
            let model = MSTLModel::new(vec![24, 168], AutoETS::non_seasonal().into_trend_model());
            let fitted = model.fit(y).map_err(|e| format!("{id}: {e}"))?;
            let p = fitted.predict(H, 0.95).map_err(|e| format!("{id}: {e}"))?;
            base.time += started.elapsed();
            let band = p
                .intervals
                .as_ref()
                .map(|i| (i.lower.as_slice(), i.upper.as_slice()));
            base.add(y, t, &p.point, band);
        }
    }
    println!("M4 hourly, {} series, horizon {H}\n", ours.series);
    println!("| method | sMAPE | MASE | 95 % coverage | time |");
    println!("|---|---:|---:|---:|---:|");
    ours.row("pagerpilot (seasonal ensemble, conformal intervals)");
    naive.row("seasonal naive (m = 24)");
    if mstl {
        base.row("augurs MSTL(24,168) + AutoETS");
    }
    Ok(())
}
