//! `pagerpilot detect`: scores every row of a `timestamp,value` CSV causally.
//!
//! Output: a header `timestamp,value,anomaly_score`, then one row per input data row, in the
//! same order, echoing the input's timestamp and value text. Input policy: [`super::series_csv`].

use std::path::Path;

use anyhow::bail;

use crate::analysis::anomaly::detect::detect_scores;

/// Sensitivity used when none is given, and the mapping of a sensitivity onto scores: the
/// same as the TUI's backtest uses (`analysis::anomaly`).
pub use crate::analysis::anomaly::{apply_sensitivity, DEFAULT_SENSITIVITY};

/// Checks a `--sensitivity` value.
pub fn check_sensitivity(s: f64) -> anyhow::Result<f64> {
    if !(0.0..=1.0).contains(&s) {
        bail!("--sensitivity must be between 0 and 1 (got {s})");
    }
    Ok(s)
}

/// Reads `input`, scores it and renders the output CSV; also returns warnings for stderr.
pub fn run(input: &Path, sensitivity: f64) -> anyhow::Result<(String, Vec<String>)> {
    let sensitivity = check_sensitivity(sensitivity)?;
    let file = super::series_csv::read(input)?;
    let warnings: Vec<String> = file
        .disorder
        .iter()
        .map(|d| format!("{}; rows are scored in file order", d.message))
        .collect();
    let scores = detect_scores(&file.timestamps(), &file.values());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["timestamp", "value", "anomaly_score"])?;
    for (row, s) in file.rows.iter().zip(scores) {
        let s = apply_sensitivity(s, sensitivity);
        w.write_record([
            row.ts_text.as_str(),
            row.value_text.as_str(),
            &format!("{s:.6}"),
        ])?;
    }
    Ok((String::from_utf8(w.into_inner()?)?, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitivity_is_monotone_and_neutral_at_default() {
        assert_eq!(apply_sensitivity(0.3, 0.5), 0.3);
        assert!(apply_sensitivity(0.3, 0.9) > 0.3);
        assert!(apply_sensitivity(0.3, 0.1) < 0.3);
        assert_eq!(apply_sensitivity(1.0, 0.0), 1.0);
        assert_eq!(apply_sensitivity(0.0, 1.0), 0.0);
        assert!(check_sensitivity(1.5).is_err());
        assert!(check_sensitivity(f64::NAN).is_err());
    }
}
