//! `pagerpilot rca`: reads a normal and an anomalous CSV (`time,<service>_<metric>,...`), ranks
//! services with [`crate::analysis::rca`] and prints JSON or a table.
//!
//! Input handling: the first column is taken as time when it is named `time` (or `timestamp`)
//! and ignored; columns present in only one file are skipped and listed; a cell that is not a
//! number counts as missing; a row with the wrong number of cells is an error naming the file and
//! the line.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::Serialize;

use crate::analysis::rca::{default_service, rank, Column, RcaResult};

#[derive(Debug, thiserror::Error)]
pub enum RcaInputError {
    #[error("cannot read {file}: {detail}")]
    Read { file: String, detail: String },
    #[error("{file}: line {line}: {detail}")]
    Row {
        file: String,
        line: u64,
        detail: String,
    },
    #[error("{file}: no metric columns (expected a header like time,<service>_<metric>,...)")]
    NoColumns { file: String },
    #[error("the two files share no metric column ({normal}: {a}; {anomalous}: {b})")]
    NoCommonColumns {
        normal: String,
        anomalous: String,
        a: String,
        b: String,
    },
    #[error("--service-of {pattern:?}: {detail}")]
    BadPattern { pattern: String, detail: String },
}

/// Column name -> values, in header order.
type Table = Vec<(String, Vec<f64>)>;

fn read_table(path: &Path) -> Result<Table, RcaInputError> {
    let file = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| RcaInputError::Read {
            file: file.clone(),
            detail: e.to_string(),
        })?;
    let headers = reader
        .headers()
        .map_err(|e| RcaInputError::Read {
            file: file.clone(),
            detail: e.to_string(),
        })?
        .clone();
    let skip_first = headers
        .get(0)
        .is_some_and(|h| h.eq_ignore_ascii_case("time") || h.eq_ignore_ascii_case("timestamp"));
    let mut table: Table = headers
        .iter()
        .skip(usize::from(skip_first))
        .map(|h| (h.to_string(), Vec::new()))
        .collect();
    if table.is_empty() {
        return Err(RcaInputError::NoColumns { file });
    }
    for record in reader.records() {
        let record = record.map_err(|e| RcaInputError::Row {
            file: file.clone(),
            line: e.position().map_or(0, |p| p.line()),
            detail: e.to_string(),
        })?;
        for (cell, (_, values)) in record
            .iter()
            .skip(usize::from(skip_first))
            .zip(table.iter_mut())
        {
            values.push(cell.parse::<f64>().unwrap_or(f64::NAN));
        }
    }
    Ok(table)
}

/// Reads both files and ranks their services. `service_of`: a regex whose first capture group is
/// the service (default: [`default_service`]).
pub fn run(
    normal: &Path,
    anomalous: &Path,
    service_of: Option<&str>,
) -> Result<RcaResult, RcaInputError> {
    let pattern = service_of
        .map(|p| {
            let re = Regex::new(p).map_err(|e| RcaInputError::BadPattern {
                pattern: p.to_string(),
                detail: e.to_string(),
            })?;
            if re.captures_len() < 2 {
                return Err(RcaInputError::BadPattern {
                    pattern: p.to_string(),
                    detail: "needs a capture group for the service".to_string(),
                });
            }
            Ok(re)
        })
        .transpose()?;
    let service = |column: &str| -> String {
        pattern
            .as_ref()
            .and_then(|re| re.captures(column))
            .and_then(|c| c.get(1))
            .map_or_else(|| default_service(column), |m| m.as_str().to_string())
    };
    let a = read_table(normal)?;
    let b = read_table(anomalous)?;
    let b_map: BTreeMap<&str, &Vec<f64>> = b.iter().map(|(n, v)| (n.as_str(), v)).collect();
    let columns: Vec<Column> = a
        .iter()
        .filter_map(|(name, values)| {
            Some(Column {
                name: name.clone(),
                service: service(name),
                normal: values.clone(),
                anomalous: (*b_map.get(name.as_str())?).clone(),
            })
        })
        .collect();
    if columns.is_empty() {
        let names = |t: &Table| {
            t.iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        return Err(RcaInputError::NoCommonColumns {
            normal: normal.display().to_string(),
            anomalous: anomalous.display().to_string(),
            a: names(&a),
            b: names(&b),
        });
    }
    let mut result = rank(&columns);
    let in_a: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    for (name, _) in &a {
        if !b_map.contains_key(name.as_str()) {
            result
                .skipped
                .push((name.clone(), "only in the normal file".to_string()));
        }
    }
    for (name, _) in &b {
        if !in_a.contains(&name.as_str()) {
            result
                .skipped
                .push((name.clone(), "only in the anomalous file".to_string()));
        }
    }
    Ok(result)
}

#[derive(Serialize)]
struct JsonOut<'a> {
    ranking: Vec<&'a str>,
    evidence: Vec<Evidence<'a>>,
    skipped: Vec<Skipped<'a>>,
}

#[derive(Serialize)]
struct Evidence<'a> {
    service: &'a str,
    score: f64,
    column: &'a str,
    normal_median: f64,
    peak: f64,
    text: String,
}

#[derive(Serialize)]
struct Skipped<'a> {
    column: &'a str,
    why: &'a str,
}

fn sentence(s: &crate::analysis::rca::ServiceScore) -> String {
    let t = &s.top;
    let dir = if t.peak >= t.normal_median {
        "above"
    } else {
        "below"
    };
    format!(
        "{} reached {:.4} against a normal median of {:.4}: {:.1} normal spreads {dir}",
        t.column, t.peak, t.normal_median, t.score
    )
}

pub fn to_json(r: &RcaResult) -> serde_json::Result<String> {
    let out = JsonOut {
        ranking: r.ranking.iter().map(|s| s.service.as_str()).collect(),
        evidence: r
            .ranking
            .iter()
            .map(|s| Evidence {
                service: &s.service,
                score: (s.score * 1000.0).round() / 1000.0,
                column: &s.top.column,
                normal_median: s.top.normal_median,
                peak: s.top.peak,
                text: sentence(s),
            })
            .collect(),
        skipped: r
            .skipped
            .iter()
            .map(|(c, w)| Skipped { column: c, why: w })
            .collect(),
    };
    serde_json::to_string_pretty(&out)
}

pub fn to_table(r: &RcaResult) -> String {
    let mut out = format!("{:<5} {:<16} {:>9}  EVIDENCE\n", "RANK", "SERVICE", "SCORE");
    for (i, s) in r.ranking.iter().enumerate() {
        out.push_str(&format!(
            "{:<5} {:<16} {:>9.2}  {}\n",
            i + 1,
            s.service,
            s.score,
            sentence(s)
        ));
    }
    for (c, why) in &r.skipped {
        out.push_str(&format!("skipped {c}: {why}\n"));
    }
    out
}
