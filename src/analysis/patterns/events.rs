//! What a pattern's change means elsewhere: its kind on the summary, the cause evidence of a
//! service's changed patterns, and the incident-timeline line of one pattern.
use super::change::ChangeKind;
use crate::analysis::anomaly::sigma_text;
use crate::analysis::cause::short;
use crate::analysis::correlate::clock;
use crate::analysis::{PatternChange, PatternSummary};

impl PatternSummary {
    /// NEW, SURGE or VANISHED, if the pattern changed.
    pub fn change_kind(&self) -> Option<ChangeKind> {
        self.change.as_ref().map(|c| c.kind)
    }

    /// The pattern stopped (a steady message that is no longer logged).
    pub fn is_vanished(&self) -> bool {
        self.change_kind() == Some(ChangeKind::Vanished)
    }

    /// NEW, SURGE or VANISHED: worth a badge, a timeline event and cause evidence.
    pub fn is_notable(&self) -> bool {
        self.is_new || self.is_surge || self.is_vanished()
    }
}

/// Cause evidence from one service's notable patterns: the text (its example says how a
/// surging pattern surges, or when a stopped one was last seen) and `k` = new + ½ × surging
/// + ½ × vanished (the cause score turns it into `k / (k + 1)`). `None` when there is none.
pub fn cause_evidence(patterns: &[&PatternSummary]) -> Option<(String, f64)> {
    let notable: Vec<&PatternSummary> = patterns
        .iter()
        .copied()
        .filter(|p| p.is_notable())
        .collect();
    if notable.is_empty() {
        return None;
    }
    let new = notable.iter().filter(|p| p.is_new).count();
    let vanished = notable
        .iter()
        .filter(|p| !p.is_new && p.is_vanished())
        .count();
    let surging = notable.len() - new - vanished;
    let k = new as f64 + 0.5 * (surging + vanished) as f64;
    let mut parts = Vec::new();
    if new > 0 {
        parts.push(format!("{new} new log pattern{}", plural(new)));
    }
    if surging > 0 {
        parts.push(format!("{surging} surging"));
    }
    if vanished > 0 {
        parts.push(format!("{vanished} stopped"));
    }
    // The example: a new one first, then the busiest surge, then a stopped one.
    let rank = |p: &PatternSummary| match (p.is_new, p.is_surge) {
        (true, _) => 2,
        (false, true) => 1,
        _ => 0,
    };
    let example = notable
        .iter()
        .max_by(|a, b| {
            (rank(a), a.count)
                .cmp(&(rank(b), b.count))
                .then(b.id.cmp(&a.id))
        })
        .map(|p| {
            let mut t = format!("'{}'", short(&p.template, 60));
            match (&p.change, rank(p)) {
                (Some(c), 1) if c.kind == ChangeKind::Surge => {
                    t.push_str(&format!(", {}", surge_text(c, p.bucket_secs)));
                }
                (Some(c), 0) => t.push_str(&format!(
                    ", last seen {}",
                    clock(c.at_ns.div_euclid(1_000_000_000))
                )),
                _ => {}
            }
            t
        })
        .unwrap_or_default();
    Some((format!("{}, e.g. {example}", parts.join(", ")), k))
}

/// The incident-timeline line of a notable pattern and the time it dates from (unix ns):
/// NEW at its first line, SURGE at its first surging interval, VANISHED at its last line.
pub fn timeline_event(p: &PatternSummary) -> Option<(i64, String)> {
    let service = p.service.as_deref().unwrap_or("-");
    let lines = |n: u64| format!("{n} line{}", plural(n as usize));
    match &p.change {
        Some(c) => {
            let text = match c.kind {
                ChangeKind::New => format!(
                    "new log pattern on {service}: {} ({})",
                    p.template,
                    lines(p.count)
                ),
                ChangeKind::Surge => format!(
                    "surging log pattern on {service}: {} ({})",
                    p.template,
                    surge_text(c, p.bucket_secs)
                ),
                ChangeKind::Vanished => format!(
                    "log pattern stopped on {service}: {} (was about {:.1} per {} s; last line at this time)",
                    p.template, c.expected, p.bucket_secs
                ),
            };
            Some((c.at_ns, text))
        }
        // Summaries without a dated change (older data): new or surging from the first line.
        None if p.is_new || p.is_surge => {
            let badge = if p.is_new { "new" } else { "surging" };
            Some((
                p.first_seen_ns,
                format!(
                    "{badge} log pattern on {service}: {} ({})",
                    p.template,
                    lines(p.count)
                ),
            ))
        }
        None => None,
    }
}

/// Why a pattern surges, in the model's terms: "from about 2/min to 400/min, 9.1σ above its
/// usual rate" (the expectation it was measured against, the scored interval's count, and
/// that interval's deviation in the anomaly model's σ; the σ part is left out when the change
/// does not carry one).
pub fn surge_text(c: &PatternChange, interval_secs: i64) -> String {
    let per = if interval_secs == 60 {
        "/min".to_string()
    } else {
        format!(" per {interval_secs} s")
    };
    let from = if c.expected < 1.0 {
        format!("under 1{per}")
    } else {
        format!("about {}{per}", rate(c.expected))
    };
    let mut out = format!("from {from} to {}{per}", c.count);
    if c.sigma > 0.0 {
        out.push_str(&format!(", {} above its usual rate", sigma_text(c.sigma)));
    }
    out
}

/// A rate for people: one decimal below 10 (without a trailing `.0`), whole numbers above.
fn rate(v: f64) -> String {
    if v < 10.0 {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    } else {
        format!("{v:.0}")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
