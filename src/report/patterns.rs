//! `pagerpilot patterns`: mines log templates from a file of messages, one per line.
//!
//! Contract:
//! * Input is read as bytes and split on `\n` (a trailing `\r` is dropped); bytes that are not
//!   UTF-8 become U+FFFD before mining, and a note on stderr says how many lines had them.
//!   `-` reads standard input.
//! * Every non-empty line goes to one [`Miner`] with its default settings. A line's pattern is
//!   its cluster's template **after all lines were read** (templates generalise as lines
//!   arrive), and `pattern_id` is [`pattern_id`]`(None, template)`.
//! * Empty (or whitespace-only) lines are kept in the numbering with an empty `pattern_id` and
//!   `template` (`null` in JSON) and are not counted in any pattern.
//! * CSV: a header `line,pattern_id,template`, then one row per input line, `line` 1-based;
//!   fields holding `"`, `,`, `\r` or `\n` are quoted with `"` doubled (RFC 4180).
//! * JSON: `{"lines": [{"line", "pattern_id"}], "patterns": [{"pattern_id", "template",
//!   "count"}]}`, patterns by count (descending), then by first line.
//! * Lines of any length work: the miner keeps at most `MAX_TOKENS` tokens per line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::analysis::patterns::{pattern_id, Miner, PatternRef};
use crate::cli::PatternsFormat;

/// Maps on the per-line path of [`mine_lines`] (foldhash instead of SipHash).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The result of mining a list of lines: per line the index of its pattern in `patterns`
/// (`None` for an empty line), and the patterns with their final template, id and count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MinedLines {
    pub lines: Vec<Option<usize>>,
    pub patterns: Vec<MinedPattern>,
}

/// One pattern of [`MinedLines`].
#[derive(Clone, Debug, PartialEq)]
pub struct MinedPattern {
    pub id: String,
    pub template: String,
    pub count: u64,
}

impl MinedLines {
    /// The pattern of line `i` (0-based), if the line was not empty.
    pub fn pattern(&self, i: usize) -> Option<&MinedPattern> {
        self.lines
            .get(i)
            .copied()
            .flatten()
            .and_then(|p| self.patterns.get(p))
    }

    /// The pattern id of line `i` (0-based), if the line was not empty.
    pub fn id(&self, i: usize) -> Option<&str> {
        self.pattern(i).map(|p| p.id.as_str())
    }
}

/// Reads `input` (`-` = stdin), mines it and renders it in `format`.
pub fn run(input: &Path, format: PatternsFormat) -> anyhow::Result<String> {
    let (lines, invalid) = if input.as_os_str() == "-" {
        read_lines_counting(std::io::stdin().lock()).context("cannot read standard input")?
    } else {
        let file = std::fs::File::open(input)
            .with_context(|| format!("cannot read input file {}", input.display()))?;
        read_lines_counting(file)
            .with_context(|| format!("cannot read input file {}", input.display()))?
    };
    if invalid > 0 {
        let name = if input.as_os_str() == "-" {
            "standard input".to_string()
        } else {
            input.display().to_string()
        };
        eprintln!(
            "note: {invalid} line(s) of {name} were not valid UTF-8; the invalid bytes were \
             replaced with U+FFFD before mining"
        );
    }
    let mined = mine_lines(&lines);
    Ok(match format {
        PatternsFormat::Csv => to_csv(&mined),
        PatternsFormat::Json => to_json(&mined)? + "\n",
    })
}

/// Splits `reader` into lines on `\n`, dropping one trailing `\r` per line and converting
/// invalid UTF-8 lossily (U+FFFD). A final newline does not start an extra line.
pub fn read_lines(reader: impl Read) -> std::io::Result<Vec<String>> {
    read_lines_counting(reader).map(|(lines, _)| lines)
}

/// [`read_lines`], also counting the lines that were not valid UTF-8.
pub fn read_lines_counting(reader: impl Read) -> std::io::Result<(Vec<String>, usize)> {
    let mut out = Vec::new();
    let mut invalid = 0;
    for bytes in BufReader::new(reader).split(b'\n') {
        let mut bytes = bytes?;
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        out.push(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                invalid += 1;
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        });
    }
    Ok((out, invalid))
}

/// Mines `lines` with one [`Miner`] and returns, per line, its final pattern (see
/// [`MinedLines`]). The miner keeps every pattern here (no eviction): the lines are in memory
/// anyway. The CLI, the LogHub harness and the bench use this.
pub fn mine_lines<S: AsRef<str>>(lines: &[S]) -> MinedLines {
    let mut miner = Miner::new();
    miner.set_max_clusters(usize::MAX);
    let refs: Vec<Option<PatternRef>> = miner.add_lines(lines);
    // Final pattern per ref, found once per ref (a `Vec` by ref index: no hashing per line),
    // and patterns by id (merged templates can coincide).
    const UNSET: usize = usize::MAX;
    let mut by_ref: Vec<usize> = Vec::new();
    let mut index: FastMap<PatternRef, usize> = FastMap::default();
    let mut by_id: FastMap<String, usize> = FastMap::default();
    let mut patterns: Vec<MinedPattern> = Vec::new();
    let lines = refs
        .into_iter()
        .map(|r| {
            let r = r?;
            let i = r.index();
            if i >= by_ref.len() {
                by_ref.resize(i + 1, UNSET);
            }
            let p = match by_ref[i] {
                UNSET => {
                    let r = miner.resolve(r);
                    let p = *index.entry(r).or_insert_with(|| {
                        let template = miner.template(r).unwrap_or_default();
                        let id = pattern_id(None, &template);
                        *by_id.entry(id.clone()).or_insert_with(|| {
                            patterns.push(MinedPattern {
                                id,
                                template,
                                count: 0,
                            });
                            patterns.len() - 1
                        })
                    });
                    by_ref[i] = p;
                    p
                }
                p => p,
            };
            if let Some(pat) = patterns.get_mut(p) {
                pat.count += 1;
            }
            Some(p)
        })
        .collect();
    MinedLines { lines, patterns }
}

/// `line,pattern_id,template` with a header row.
pub fn to_csv(mined: &MinedLines) -> String {
    let mut out = String::from("line,pattern_id,template\n");
    // Quote each pattern's fields once.
    let fields: Vec<(String, String)> = mined
        .patterns
        .iter()
        .map(|p| (csv_field(&p.id), csv_field(&p.template)))
        .collect();
    for (i, p) in mined.lines.iter().enumerate() {
        let (id, template) = p
            .and_then(|p| fields.get(p))
            .map_or(("", ""), |(a, b)| (a.as_str(), b.as_str()));
        out.push_str(&format!("{},{id},{template}\n", i + 1));
    }
    out
}

/// `s` as one CSV field: quoted (with `"` doubled) when it holds `"`, `,`, `\r` or `\n`.
pub fn csv_field(s: &str) -> String {
    if s.contains(['"', ',', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[derive(Serialize)]
struct JsonLine<'a> {
    line: usize,
    pattern_id: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonPattern<'a> {
    pattern_id: &'a str,
    template: &'a str,
    count: u64,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    lines: Vec<JsonLine<'a>>,
    patterns: Vec<JsonPattern<'a>>,
}

/// The JSON form (see the module docs).
pub fn to_json(mined: &MinedLines) -> serde_json::Result<String> {
    let lines = mined
        .lines
        .iter()
        .enumerate()
        .map(|(i, _)| JsonLine {
            line: i + 1,
            pattern_id: mined.id(i),
        })
        .collect();
    // Patterns are numbered in order of their first line, so a stable sort by count keeps
    // "then by first line" for ties.
    let mut patterns: Vec<JsonPattern> = mined
        .patterns
        .iter()
        .map(|p| JsonPattern {
            pattern_id: &p.id,
            template: &p.template,
            count: p.count,
        })
        .collect();
    patterns.sort_by_key(|p| std::cmp::Reverse(p.count));
    let report = JsonReport { lines, patterns };
    serde_json::to_string_pretty(&report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain <*>"), "plain <*>");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn lines_split_on_newlines_and_convert_lossily() {
        let lines = read_lines(&b"one\r\ntwo \xff\n\nlast"[..]).unwrap_or_default();
        assert_eq!(lines, vec!["one", "two \u{fffd}", "", "last"]);
        let lines = read_lines(&b"a\n"[..]).unwrap_or_default();
        assert_eq!(lines, vec!["a"]);
    }

    #[test]
    fn final_templates_are_assigned_to_every_line() {
        // Five user names: more than a handful of values, so a variable, and the lines read
        // before the merge get the merged template too.
        let lines: Vec<String> = [
            "user alice logged in",
            "user bob logged in",
            "",
            "disk full",
            "user carol logged in",
            "user dave logged in",
            "user erin logged in",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mined = mine_lines(&lines);
        assert_eq!(
            mined.lines[0], mined.lines[1],
            "the first line gets the generalised template"
        );
        assert_eq!(mined.lines[0], mined.lines[6]);
        assert_eq!(
            mined.pattern(0).map(|p| p.template.as_str()),
            Some("user <*> logged in")
        );
        assert_eq!(mined.lines[2], None);
        assert_eq!(mined.id(2), None);
        assert_ne!(mined.id(3), mined.id(0));
        let json: serde_json::Value =
            serde_json::from_str(&to_json(&mined).unwrap_or_default()).unwrap_or_default();
        assert_eq!(json["patterns"][0]["count"], 5);
        assert_eq!(json["lines"][2]["pattern_id"], serde_json::Value::Null);
    }
}
