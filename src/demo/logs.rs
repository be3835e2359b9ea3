//! Log line templates: parsing the placeholder syntax and producing the lines of one minute.
//!
//! Placeholders (everything else is literal text; `{{` and `}}` are literal braces):
//! `{ip}` a private IPv4 address, `{int:LO-HI}` an integer (default 0-999), `{hex:N}` N hex
//! digits (default 8), `{uuid}`, `{ms:LO-HI}` a duration in whole milliseconds (default 1-500),
//! `{float:LO-HI}` a number with two decimals, `{path}` a web shop request path, and
//! `{choice:a|b|c}` one of the listed words.

use super::model::{Emit, StreamModel, TemplateModel};
use super::rng::{hash, int_in, poisson, unit, TAG_LOG_COUNT, TAG_LOG_LINE};
use crate::domain::LogEntry;

const MINUTE_NS: i64 = 60_000_000_000;

const PATHS: [&str; 8] = [
    "/",
    "/cart",
    "/checkout",
    "/product/1042",
    "/product/2210",
    "/search",
    "/account/orders",
    "/static/app.js",
];

/// One piece of a template.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Part {
    Lit(String),
    Ip,
    Int(i64, i64),
    Hex(usize),
    Uuid,
    Ms(i64, i64),
    Float(f64, f64),
    Path,
    Choice(Vec<String>),
}

/// Parses a template; the error says which placeholder is wrong and why.
pub(crate) fn parse_template(text: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("{{") || rest.starts_with("}}") {
            lit.push(c);
            rest = &rest[2..];
        } else if c == '}' {
            return Err("unmatched `}` (write `}}` for a literal brace)".into());
        } else if c == '{' {
            let close = rest
                .find('}')
                .ok_or_else(|| "unclosed `{` (write `{{` for a literal brace)".to_string())?;
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(parse_placeholder(&rest[1..close])?);
            rest = &rest[close + 1..];
        } else {
            lit.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    Ok(parts)
}

fn parse_placeholder(inner: &str) -> Result<Part, String> {
    let (kind, arg) = match inner.split_once(':') {
        Some((k, a)) => (k, Some(a)),
        None => (inner, None),
    };
    let range = |default: (i64, i64)| -> Result<(i64, i64), String> {
        let Some(arg) = arg else { return Ok(default) };
        let bad = || {
            format!("placeholder {{{inner}}}: expected a range LO-HI with LO <= HI, got {arg:?}")
        };
        let (lo, hi) = arg.split_once('-').ok_or_else(bad)?;
        let lo: i64 = lo.trim().parse().map_err(|_| bad())?;
        let hi: i64 = hi.trim().parse().map_err(|_| bad())?;
        if lo <= hi {
            Ok((lo, hi))
        } else {
            Err(bad())
        }
    };
    match kind {
        "ip" | "uuid" | "path" if arg.is_some() => Err(format!("placeholder {{{inner}}}: {kind} takes no argument")),
        "ip" => Ok(Part::Ip),
        "uuid" => Ok(Part::Uuid),
        "path" => Ok(Part::Path),
        "int" => range((0, 999)).map(|(lo, hi)| Part::Int(lo, hi)),
        "ms" => range((1, 500)).map(|(lo, hi)| Part::Ms(lo, hi)),
        "float" => {
            let bad = || format!("placeholder {{{inner}}}: expected LO-HI with LO <= HI");
            let (lo, hi) = arg.and_then(|a| a.split_once('-')).ok_or_else(bad)?;
            let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
            let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
            if lo.is_finite() && hi.is_finite() && lo <= hi { Ok(Part::Float(lo, hi)) } else { Err(bad()) }
        }
        "hex" => {
            let n = match arg {
                None => 8,
                Some(a) => a.trim().parse::<usize>().ok().filter(|n| (1..=64).contains(n)).ok_or_else(|| {
                    format!("placeholder {{{inner}}}: hex length must be 1 to 64, got {a:?}")
                })?,
            };
            Ok(Part::Hex(n))
        }
        "choice" => {
            let words: Vec<String> = arg.unwrap_or("").split('|').map(str::to_string).collect();
            if words.iter().any(String::is_empty) {
                Err(format!("placeholder {{{inner}}}: choice needs non-empty words separated by |"))
            } else {
                Ok(Part::Choice(words))
            }
        }
        other => Err(format!(
            "unknown placeholder {{{other}}}: expected ip, int, hex, uuid, ms, float, path or choice"
        )),
    }
}

fn hex_digits(n: usize, mut draw: impl FnMut(u64) -> u64) -> String {
    let mut out = String::with_capacity(n);
    let mut block = 0u64;
    while out.len() < n {
        out.push_str(&format!("{:016x}", draw(block)));
        block += 1;
    }
    out.truncate(n);
    out
}

/// Renders a template with fill-ins drawn from `base` (one sub-stream per placeholder).
pub(crate) fn render(parts: &[Part], base: u64) -> String {
    let mut out = String::new();
    for (p, part) in parts.iter().enumerate() {
        let h = |extra: u64| hash(&[base, p as u64, extra]);
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Ip => {
                let v = h(0);
                out.push_str(&format!(
                    "10.{}.{}.{}",
                    (v >> 8) % 16,
                    (v >> 16) % 256,
                    2 + (v >> 24) % 250
                ));
            }
            Part::Int(lo, hi) | Part::Ms(lo, hi) => {
                out.push_str(&int_in(*lo, *hi, h(0)).to_string())
            }
            Part::Float(lo, hi) => out.push_str(&format!("{:.2}", lo + (hi - lo) * unit(h(0)))),
            Part::Hex(n) => out.push_str(&hex_digits(*n, h)),
            Part::Uuid => {
                let d = hex_digits(32, h);
                out.push_str(&format!(
                    "{}-{}-4{}-a{}-{}",
                    &d[..8],
                    &d[8..12],
                    &d[13..16],
                    &d[17..20],
                    &d[20..32]
                ));
            }
            Part::Path => out.push_str(PATHS[(h(0) % PATHS.len() as u64) as usize]),
            Part::Choice(words) => {
                if let Some(w) = words.get((h(0) % words.len().max(1) as u64) as usize) {
                    out.push_str(w);
                }
            }
        }
    }
    out
}

/// How many lines a template emits in minute `k` (relative to the anchor).
fn count(seed: u64, stream: &StreamModel, t: &TemplateModel, k: i64) -> u64 {
    match t.emit {
        Emit::Once { at_min } => u64::from(at_min == k),
        Emit::Rate {
            per_min,
            start,
            end,
        } => {
            let active = start.is_none_or(|s| k >= s) && end.is_none_or(|e| k < e);
            if active {
                poisson(
                    per_min,
                    hash(&[seed, TAG_LOG_COUNT, stream.key, t.key, k as u64]),
                )
            } else {
                0
            }
        }
    }
}

/// Every line of `stream` in minute `k` (which covers `[anchor + k min, anchor + (k+1) min)`),
/// unsorted. A pure function of its arguments.
pub(crate) fn minute_lines(
    seed: u64,
    stream: &StreamModel,
    anchor_ns: i64,
    k: i64,
) -> Vec<LogEntry> {
    let minute_start = anchor_ns.saturating_add(k.saturating_mul(MINUTE_NS));
    let mut out = Vec::new();
    for t in &stream.templates {
        for i in 0..count(seed, stream, t, k) {
            let base = hash(&[seed, TAG_LOG_LINE, stream.key, t.key, k as u64, i]);
            let offset = (hash(&[base, u64::MAX]) % MINUTE_NS as u64) as i64;
            out.push(LogEntry {
                ts_ns: minute_start.saturating_add(offset),
                line: render(&t.parts, base),
            });
        }
    }
    out
}

/// The minute index (relative to the anchor) that holds `ts_ns`.
pub(crate) fn minute_of(anchor_ns: i64, ts_ns: i64) -> i64 {
    let k = (i128::from(ts_ns) - i128::from(anchor_ns)).div_euclid(i128::from(MINUTE_NS));
    k.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_render_every_placeholder() {
        let parts = parse_template(
            "a={ip} b={int:100-999} c={hex:6} d={uuid} e={ms}ms f={float:0.5-1.5} g={path} h={choice:x|y} {{lit}}",
        )
        .expect("valid template");
        let line = render(&parts, 42);
        assert_eq!(line, render(&parts, 42), "rendering is deterministic");
        assert_ne!(line, render(&parts, 43));
        assert!(line.starts_with("a=10."), "{line}");
        assert!(line.ends_with(" {lit}"), "{line}");
        let b: i64 = line
            .split("b=")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .expect("b is a number");
        assert!((100..=999).contains(&b));
        let d = line
            .split("d=")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .expect("uuid");
        assert_eq!(d.len(), 36, "{d}");
        let h = line
            .split("h=")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .expect("choice");
        assert!(h == "x" || h == "y");
    }

    #[test]
    fn bad_placeholders_are_named() {
        for (text, needle) in [
            ("x {nope}", "{nope}"),
            ("x {int:9-1}", "\"9-1\""),
            ("x {hex:0}", "\"0\""),
            ("x {ip", "unclosed"),
            ("x }", "unmatched"),
            ("x {choice:a||b}", "choice"),
        ] {
            let err = parse_template(text).expect_err(text);
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
