//! Small text helpers: width-aware truncation, times, numbers and sparklines.

use chrono::{DateTime, Utc};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Display width of `s` in terminal cells.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` with control characters replaced by spaces, cut to at most `max` cells; an ellipsis
/// marks a cut. Never splits a character.
pub fn fit(s: &str, max: usize) -> String {
    let clean = |c: char| if c.is_control() { ' ' } else { c };
    if max == 0 {
        return String::new();
    }
    if s.len() <= max && !s.chars().any(char::is_control) && s.is_ascii() {
        return s.to_string();
    }
    let total: usize = s.chars().map(|c| clean(c).width().unwrap_or(0)).sum();
    if total <= max {
        return s.chars().map(clean).collect();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars().map(clean) {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` padded with spaces (or cut) to exactly `cells` cells.
pub fn pad(s: &str, cells: usize) -> String {
    let mut out = fit(s, cells);
    let w = width(&out);
    out.extend(std::iter::repeat_n(' ', cells.saturating_sub(w)));
    out
}

/// A line cut to `max` cells across its spans, keeping styles.
pub fn fit_line(line: Line<'static>, max: usize) -> Line<'static> {
    let mut left = max;
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let w = width(&span.content);
        if w <= left && !span.content.chars().any(char::is_control) {
            left -= w;
            spans.push(span);
        } else {
            let cut = fit(&span.content, left);
            left = left.saturating_sub(width(&cut));
            spans.push(Span::styled(cut, span.style));
        }
    }
    Line::from(spans).style(line.style)
}

pub fn span(text: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(text.into(), style)
}

fn datetime(ts: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts, 0)
}

/// `HH:MM` (UTC) of a unix timestamp, or `--:--` when out of range.
pub fn hhmm(ts: i64) -> String {
    datetime(ts).map_or_else(|| "--:--".to_string(), |d| d.format("%H:%M").to_string())
}

pub fn hhmm_dt(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

/// Compact age of `then` relative to `now` ("41m", "2h05m").
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    crate::report::age(now.signed_duration_since(then).num_seconds())
}

/// A duration as "45s", "2m", "1h 30m".
pub fn duration_short(d: std::time::Duration) -> String {
    crate::report::duration_short(d)
}

/// `1,204` style integer.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A 0..1 fraction as a whole percentage ("72%"); non-finite values show as "?%".
pub fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{}%", (x * 100.0).round().clamp(-1e9, 1e9) as i64)
    } else {
        "?%".to_string()
    }
}

/// A short number for axis labels: 0.42, 12.3, 850, 1.2k, 3.4M, 5.6e12.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "?".to_string()
    } else if a >= 1e12 {
        format!("{v:.1e}")
    } else if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else if a >= 0.01 {
        format!("{v:.2}")
    } else {
        format!("{v:.1e}")
    }
}

/// A text sparkline of the last `cells` buckets (▁..█).
pub fn sparkline(buckets: &[u64], cells: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &buckets[buckets.len().saturating_sub(cells)..];
    let max = tail.iter().copied().max().unwrap_or(0);
    tail.iter()
        .map(|&b| {
            if max == 0 {
                BARS[0]
            } else {
                let i = (b as f64 / max as f64 * 7.0).round() as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

/// Multi-line text with tabs expanded and other control characters removed.
pub fn clean_multiline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Markdown paragraphs as display lines: lines of one paragraph are joined with a space,
/// blank lines and list items keep their breaks.
pub fn reflow(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_paragraph = false;
    for line in s.lines() {
        let t = line.trim();
        let starts_block = t.starts_with("- ")
            || t.starts_with("* ")
            || t.starts_with('>')
            || t.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if t.is_empty() {
            if in_paragraph {
                out.push_str("\n\n");
            }
            in_paragraph = false;
        } else if in_paragraph && !starts_block {
            out.push(' ');
            out.push_str(t);
        } else {
            if in_paragraph {
                out.push('\n');
            }
            out.push_str(t);
            in_paragraph = true;
        }
    }
    out.trim_end().to_string()
}

/// Rows `s` takes when wrapped at `cols` cells (an estimate: wraps by width, not by word).
pub fn wrapped_rows(s: &str, cols: usize) -> usize {
    let cols = cols.max(1);
    s.split('\n').map(|l| width(l).div_ceil(cols).max(1)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflow_joins_paragraph_lines_and_keeps_lists() {
        let md = "How many connections exist. More than a\nhandful of idle ones\nis bad.\n\n- one\n- two\nstill two\n";
        assert_eq!(
            reflow(md),
            "How many connections exist. More than a handful of idle ones is bad.\n\n- one\n- two still two"
        );
        assert_eq!(reflow(""), "");
        assert_eq!(reflow("1. first\n2. second"), "1. first\n2. second");
    }

    #[test]
    fn fit_respects_width_and_never_splits_chars() {
        assert_eq!(fit("hello", 10), "hello");
        assert_eq!(fit("hello world", 6), "hello…");
        assert_eq!(fit("日本語テキスト", 5), "日本…");
        assert_eq!(fit("a\nb", 5), "a b");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(pad("ab", 4), "ab  ");
    }

    #[test]
    fn numbers() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(percent(0.724), "72%");
        assert_eq!(percent(f64::NAN), "?%");
        assert_eq!(compact(12_345.0), "12.3k");
        assert_eq!(sparkline(&[0, 1, 2, 4], 3), "▃▅█");
    }
}
