//! `pagerpilot forecast`: forecasts a `timestamp,value` CSV.
//!
//! * The step is the median difference between consecutive timestamps. Rows are placed on that
//!   grid (each at its nearest slot; rows sharing a slot are averaged); empty slots (gaps) and
//!   missing values are filled by linear interpolation before fitting.
//! * `--season auto` uses the day and the week in steps when the history holds two of each;
//!   `--season 24,168` sets them explicitly (a period longer than half the history is dropped).
//! * CSV output: `h,timestamp,point,lo,hi`, `h` from 1, timestamps continuing from the last row at
//!   the step, in the input's timestamp style. JSON: `{"step_secs", "level", "periods",
//!   "forecast": [{"h", "timestamp", "point", "lo", "hi"}]}`.
//! * Input policy (errors, missing values): [`super::series_csv`].

use anyhow::{bail, Context};
use serde::Serialize;

use crate::analysis::seasonal::{auto_periods, forecast};
use crate::cli::{ForecastArgs, ForecastFormat};

/// Longest grid accepted (points).
pub const MAX_GRID: usize = 5_000_000;
/// Longest horizon accepted.
pub const MAX_HORIZON: usize = 1_000_000;

#[derive(Serialize)]
struct Step {
    h: usize,
    timestamp: String,
    point: f64,
    lo: f64,
    hi: f64,
}

#[derive(Serialize)]
struct Out {
    step_secs: i64,
    level: f64,
    periods: Vec<usize>,
    forecast: Vec<Step>,
}

/// Parses `auto` or `N[,N...]`.
pub fn parse_season(s: &str) -> anyhow::Result<Option<Vec<usize>>> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        let p: usize = part
            .trim()
            .parse()
            .ok()
            .filter(|p| *p >= 2)
            .with_context(|| {
                format!(
                    "--season: {part:?} is not a period of at least 2 steps (use auto or N[,N])"
                )
            })?;
        out.push(p);
    }
    Ok(Some(out))
}

/// Runs the command and renders its output; also returns warnings for stderr.
pub fn run(args: &ForecastArgs) -> anyhow::Result<(String, Vec<String>)> {
    if args.horizon == 0 || args.horizon > MAX_HORIZON {
        bail!(
            "--horizon must be between 1 and {MAX_HORIZON} (got {})",
            args.horizon
        );
    }
    if !(50.0..100.0).contains(&args.level) {
        bail!(
            "--level must be a percentage from 50 to below 100 (got {})",
            args.level
        );
    }
    let season = parse_season(&args.season)?;
    let name = args.input.display().to_string();
    let file = super::series_csv::read(&args.input)?;
    let mut warnings = Vec::new();
    match &file.disorder {
        Some(d) if !d.duplicate => bail!("{}", d.message),
        Some(d) => warnings.push(format!(
            "{}; rows sharing a timestamp are averaged",
            d.message
        )),
        None => {}
    }
    let ts = file.timestamps();
    if ts.len() < 3 {
        bail!(
            "{name}: at least 3 rows are needed to forecast (found {})",
            ts.len()
        );
    }
    let mut diffs: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    diffs.sort_unstable();
    let step = diffs[diffs.len() / 2].max(1);
    let (t0, tn) = (ts[0], ts[ts.len() - 1]);
    let slots = ((tn - t0) / step) as usize + 1;
    if slots > MAX_GRID {
        bail!("{name}: {slots} points at a {step} s step is more than {MAX_GRID}; resample first");
    }
    let mut sum = vec![0.0; slots];
    let mut count = vec![0u32; slots];
    for r in &file.rows {
        if r.y.is_finite() {
            let k = (((r.t - t0) as f64 / step as f64).round() as usize).min(slots - 1);
            sum[k] += r.y;
            count[k] += 1;
        }
    }
    let y: Vec<f64> = sum
        .iter()
        .zip(&count)
        .map(|(s, c)| if *c > 0 { s / *c as f64 } else { f64::NAN })
        .collect();
    let periods = season.unwrap_or_else(|| auto_periods(step, y.len()));
    let Some(f) = forecast(&y, &periods, args.horizon, args.level / 100.0) else {
        bail!("{name}: every value is missing; nothing to forecast");
    };
    let last = t0 + (slots as i64 - 1) * step;
    let steps: Vec<Step> = (0..args.horizon)
        .map(|k| Step {
            h: k + 1,
            timestamp: file
                .style
                .format(last.saturating_add((k as i64 + 1).saturating_mul(step))),
            point: f.point[k],
            lo: f.lower[k],
            hi: f.upper[k],
        })
        .collect();
    let text = match args.format {
        ForecastFormat::Json => {
            serde_json::to_string_pretty(&Out {
                step_secs: step,
                level: args.level,
                periods: f.periods,
                forecast: steps,
            })? + "\n"
        }
        ForecastFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["h", "timestamp", "point", "lo", "hi"])?;
            for s in &steps {
                w.write_record([
                    s.h.to_string(),
                    s.timestamp.clone(),
                    fmt(s.point),
                    fmt(s.lo),
                    fmt(s.hi),
                ])?;
            }
            String::from_utf8(w.into_inner()?)?
        }
    };
    Ok((text, warnings))
}

fn fmt(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasons_parse() {
        assert_eq!(parse_season("auto").unwrap(), None);
        assert_eq!(parse_season("24, 168").unwrap(), Some(vec![24, 168]));
        assert!(parse_season("1").is_err());
        assert!(parse_season("day").is_err());
        assert_eq!(fmt(1.5), "1.5");
        assert_eq!(fmt(2.0), "2");
    }
}
