//! Reading `timestamp,value` CSV files for `pagerpilot detect` and `pagerpilot forecast`.
//!
//! Policy (documented in the README and enforced here; every error names the file and line):
//! * The first non-blank line is a header. Columns named `timestamp` and `value` are used when present,
//!   otherwise the first two columns. Blank lines are skipped.
//! * Timestamps: `YYYY-MM-DD HH:MM:SS` (optionally with fractional seconds; read as UTC),
//!   RFC 3339 (`2024-01-01T00:00:00Z`, any offset), or integer unix seconds. All rows must use
//!   the same style.
//! * Timestamps should be strictly increasing. `detect` scores rows in file order whatever their
//!   timestamps and prints a warning naming the first repeated or decreasing one (real exports
//!   repeat timestamps around DST changes). `forecast` rejects a decreasing timestamp and averages
//!   rows that share one (with a warning).
//! * A value that is empty, `NaN`, `null`, `NA` or non-finite (`inf`) is a **missing** point: it is
//!   kept (same row, same order), scores 0 in `detect`, and is interpolated in `forecast`.
//!   Anything else that is not a number is an error.
//! * Gaps (missing rows) are allowed; no row is invented in `detect` output.
//! * A file with no data rows is an error.

use std::path::Path;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDateTime, Utc};

/// How the input wrote its timestamps (forecast output uses the same style).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsStyle {
    /// `YYYY-MM-DD HH:MM:SS`
    Plain,
    /// RFC 3339
    Rfc3339,
    /// Unix seconds
    Unix,
}

impl TsStyle {
    /// Formats unix seconds `t` in this style.
    pub fn format(self, t: i64) -> String {
        let dt = DateTime::<Utc>::from_timestamp(t, 0);
        match (self, dt) {
            (TsStyle::Unix, _) | (_, None) => t.to_string(),
            (TsStyle::Plain, Some(d)) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
            (TsStyle::Rfc3339, Some(d)) => d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }
}

/// One data row as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// 1-based line in the file.
    pub line: u64,
    pub ts_text: String,
    pub value_text: String,
    /// Unix seconds.
    pub t: i64,
    /// NaN when missing.
    pub y: f64,
}

/// A parsed series file.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesFile {
    pub rows: Vec<Row>,
    pub style: TsStyle,
    /// The first repeated or decreasing timestamp, if any.
    pub disorder: Option<Disorder>,
}

/// A timestamp that does not increase.
#[derive(Clone, Debug, PartialEq)]
pub struct Disorder {
    /// Only repeats (no timestamp goes backwards).
    pub duplicate: bool,
    /// "FILE:LINE: duplicate timestamp ..." or "... is earlier than ...".
    pub message: String,
}

impl SeriesFile {
    pub fn timestamps(&self) -> Vec<i64> {
        self.rows.iter().map(|r| r.t).collect()
    }
    pub fn values(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.y).collect()
    }
}

/// Parses one timestamp in any accepted style.
pub fn parse_timestamp(s: &str) -> Option<(i64, TsStyle)> {
    let s = s.trim();
    if !s.is_empty()
        && s.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-'))
    {
        return s.parse::<i64>().ok().map(|t| (t, TsStyle::Unix));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some((d.timestamp(), TsStyle::Rfc3339));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some((d.and_utc().timestamp(), TsStyle::Plain));
        }
    }
    None
}

/// Parses a value: `Some(NaN)` for a missing one, `None` for text that is not a number.
pub fn parse_value(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || ["nan", "null", "na", "none"]
            .iter()
            .any(|m| s.eq_ignore_ascii_case(m))
    {
        return Some(f64::NAN);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        Ok(_) => Some(f64::NAN),
        Err(_) => None,
    }
}

/// Reads `path` and fails on any repeated or decreasing timestamp.
pub fn read_strict(path: &Path) -> anyhow::Result<SeriesFile> {
    let f = read(path)?;
    if let Some(d) = &f.disorder {
        bail!("{}", d.message);
    }
    Ok(f)
}

/// Reads and validates `path` (see the module docs for the policy); repeated or decreasing
/// timestamps are reported in [`SeriesFile::disorder`], not rejected.
pub fn read(path: &Path) -> anyhow::Result<SeriesFile> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read input file {}", path.display()))?;
    parse(&bytes, &path.display().to_string())
}

/// Parses CSV bytes; `name` is used in messages.
pub fn parse(bytes: &[u8], name: &str) -> anyhow::Result<SeriesFile> {
    let text = String::from_utf8_lossy(bytes);
    // (1-based line, fields); blank lines skipped. Fields may be wrapped in double quotes.
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let fields: Vec<&str> = l.split(',').map(|f| f.trim().trim_matches('"')).collect();
            (i, fields)
        });
    let Some((_, header)) = lines.next() else {
        bail!("{name}: empty file (expected a header and `timestamp,value` rows)");
    };
    let find = |want: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(want))
    };
    let (tc, vc) = (find("timestamp").unwrap_or(0), find("value").unwrap_or(1));
    if tc == vc {
        bail!("{name}: the header names the same column for timestamp and value");
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut style: Option<TsStyle> = None;
    let mut disorder: Option<Disorder> = None;
    let mut unsorted = false;
    for (line, rec) in lines {
        let (Some(&ts_text), Some(&value_text)) = (rec.get(tc), rec.get(vc)) else {
            bail!(
                "{name}:{line}: expected at least {} columns (timestamp, value), found {}",
                tc.max(vc) + 1,
                rec.len()
            );
        };
        let Some((t, st)) = parse_timestamp(ts_text) else {
            bail!(
                "{name}:{line}: {:?} is not a timestamp (use YYYY-MM-DD HH:MM:SS, RFC 3339 or unix seconds)",
                ts_text
            );
        };
        match style {
            None => style = Some(st),
            Some(s) if s != st => {
                bail!("{name}:{line}: timestamp {ts_text:?} is written in a different style from the first row's")
            }
            _ => {}
        }
        let Some(y) = parse_value(value_text) else {
            bail!("{name}:{line}: value {value_text:?} is not a number (empty or NaN marks a missing value)");
        };
        if let Some(prev) = rows.last() {
            if t <= prev.t && disorder.is_none() {
                let what = if t == prev.t {
                    format!(
                        "{name}:{line}: duplicate timestamp {ts_text:?} (also on line {})",
                        prev.line
                    )
                } else {
                    format!(
                        "{name}:{line}: timestamp {ts_text:?} is earlier than line {}'s {:?}; rows must be sorted by time",
                        prev.line, prev.ts_text
                    )
                };
                disorder = Some(Disorder {
                    duplicate: t == prev.t,
                    message: what,
                });
            }
            if t < prev.t {
                unsorted = true;
            }
        }
        rows.push(Row {
            line,
            ts_text: ts_text.to_string(),
            value_text: value_text.to_string(),
            t,
            y,
        });
    }
    let Some(style) = style else {
        bail!("{name}: no data rows after the header");
    };
    if unsorted {
        if let Some(d) = disorder.as_mut().filter(|d| d.duplicate) {
            // Report the decrease rather than an earlier duplicate: it is the worse problem.
            d.duplicate = false;
        }
    }
    Ok(SeriesFile {
        rows,
        style,
        disorder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_three_styles() {
        assert_eq!(
            parse_timestamp("2014-04-01 00:05:00"),
            Some((1_396_310_700, TsStyle::Plain))
        );
        assert_eq!(
            parse_timestamp("2014-04-01T02:05:00+02:00"),
            Some((1_396_310_700, TsStyle::Rfc3339))
        );
        assert_eq!(
            parse_timestamp("1396310700"),
            Some((1_396_310_700, TsStyle::Unix))
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(TsStyle::Plain.format(1_396_310_700), "2014-04-01 00:05:00");
        assert_eq!(
            TsStyle::Rfc3339.format(1_396_310_700),
            "2014-04-01T00:05:00Z"
        );
    }

    #[test]
    fn missing_values_and_errors() {
        let f = parse(b"timestamp,value\n1,1.5\n2,\n3,NaN\n\n4,7\n", "x.csv").unwrap();
        assert_eq!(f.rows.len(), 4);
        assert!(f.rows[1].y.is_nan() && f.rows[2].y.is_nan());
        assert_eq!(f.rows[3].line, 6);
        let err = |b: &[u8]| match parse(b, "x.csv") {
            Err(e) => format!("{e:#}"),
            Ok(f) => f.disorder.map(|d| d.message).unwrap_or_default(),
        };
        assert!(err(b"").contains("x.csv: empty file"));
        assert!(err(b"timestamp,value\n").contains("no data rows"));
        assert!(err(b"timestamp,value\n1,1\n1,2\n").contains("x.csv:3: duplicate"));
        assert!(err(b"timestamp,value\n2,1\n1,2\n").contains("x.csv:3: timestamp \"1\" is earlier"));
        assert!(err(b"timestamp,value\n1,abc\n").contains("x.csv:2: value \"abc\""));
        assert!(err(b"timestamp,value\nnoon,1\n").contains("x.csv:2: \"noon\" is not a timestamp"));
    }

    #[test]
    fn columns_by_name() {
        let f = parse(b"value,timestamp\n3,10\n4,20\n", "x.csv").unwrap();
        assert_eq!(f.timestamps(), vec![10, 20]);
        assert_eq!(f.values(), vec![3.0, 4.0]);
    }
}
