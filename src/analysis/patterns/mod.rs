//! Log template mining (Drain-like) and per-pattern activity.
//!
//! * **Tokens.** A line is split on whitespace; a word is further split after `=` (logfmt),
//!   after `,` and after a JSON key's `":`, remembering which pieces were glued together so a
//!   template renders as `user=<*>` rather than `user= <*>`. At most [`MAX_TOKENS`] tokens are
//!   kept; the rest of a longer line becomes one trailing `<*>`.
//! * **Masking.** Brackets, quotes and trailing punctuation are peeled off, and the core is
//!   replaced by `<*>` when it is a variable: anything starting with a digit (numbers, sizes,
//!   durations such as `12ms`/`3.5s`, dates, times, IPv4 with port), hex ids (`0x…`, or six+
//!   hex characters with a digit), UUIDs, IPv6, `host:port`, URLs, paths, e-mail addresses,
//!   identifiers with numeric or digit-heavy parts (`worker-3`, `api-7d9f8c6b5-x2x9k`),
//!   single-word quoted values after `=` (`user="alice"`), and cores over 64 bytes.
//! * **Folds.** A unit of measure right after a masked number joins it (`512 KB` is one
//!   `<*> KB` token); a bracketed group of at most four words that are all variables (or units
//!   after one), such as `(1.16 KB)` or `[worker-3]`, folds into the token before it and
//!   renders as ` (<*>)`. Lines with and without such an optional group then have the same
//!   token count, so length routing does not split one message (Proxifier's `close` event).
//! * **Speed.** Tokens borrow from the line; words are split and classified in one pass over
//!   the bytes with a 256-entry class table (`scan.rs`), so a plain word is never rescanned.
//!   A line seen verbatim before skips tokenizing (a bounded cache of raw lines), and the
//!   masked line is looked up in a bounded cache of shapes already seen, so an exact repeat
//!   after masking skips clustering (see `miner.rs`; neither cache changes a result). Both
//!   caches hash a key once per line and keep their keys in one arena (`table.rs`);
//!   [`Miner::add_lines`], for lines the caller holds (the `patterns` command), keeps its raw
//!   cache as indices into the caller's lines instead of copies (`batch.rs`). The
//!   tokenizer as it was before the byte-level rewrite is kept, in test builds only, as
//!   `reference.rs`, and differential tests hold the two to identical tokens.
//! * **Memory.** A [`Miner`] keeps at most [`MAX_CLUSTERS`] live patterns and evicts the least
//!   recently used eighth when a new one would pass that; [`summarize`] keeps
//!   [`MAX_EXAMPLES`] lines per pattern. [`ids::PatternIds`] (persisted by the store) is
//!   bounded too. [`change::assess`] flags NEW / SURGE / VANISHED per interval.
//! * **Clustering.** Drain with a shallow tree: masked lines are routed by token count and
//!   first token (at most [`MAX_CHILDREN`] distinct first tokens per count, then a shared
//!   `<*>` branch; a second level, as in Drain, would split `user alice …` from `user bob …`
//!   before similarity could merge them); within
//!   a leaf a line joins the most similar template (share of positions with the same token)
//!   if the similarity is at least [`SIMILARITY`], and the template turns differing positions
//!   into `<*>`. Except where both hold a plain (unmasked) word: a word that takes few values
//!   (`GET`/`POST`, `started`/`stopped`) is part of the message, so such lines start a sibling
//!   template; once more than [`MAX_WORD_SIBLINGS`] siblings differ only there, the word is a
//!   variable and they all merge into one template (earlier refs follow the merge).
//! * **Ids.** `"P"` + the first 8 hex digits of SHA-256 over `service`, a 0x1F separator and
//!   the final template text. [`summarize`] is a pure function of the *set* of lines: it
//!   groups lines by masked text first and feeds the groups to the miner in a fixed order
//!   (most frequent first, then by text), so input order never changes a template or an id.
//!   Across polls an id changes only when the template itself does: masking removes most
//!   variables up front, so that takes a token that varied in one window and not the other.
//!
//! [`summarize`] mines each service separately (so identical text from two services stays two
//! patterns) and describes each pattern relative to `now_ns`:
//! * per-minute counts over the last [`HISTORY`] intervals; interval `k` holds lines in
//!   `(now − (H−k) min, now − (H−k−1) min]`, and lines stamped after `now_ns` land in the last.
//!   `buckets` (for sparklines) are the last [`BUCKETS`] of them;
//! * the intervals the loaded logs cover: those that start at or after the earliest line of
//!   the input (a line limit or a short retention cuts the history; nothing before it is
//!   treated as silence);
//! * `change`: [`change::assess`] on the covered counts: NEW, SURGE (a rate the metric
//!   anomaly model scores at 4σ or more above its expectation, with a Poisson guard against
//!   small counts and the pattern's usual peaks) or VANISHED, with the time it dates from; a
//!   pattern with lines older than the history is never NEW. `is_new` / `is_surge` mirror it,
//!   and `surge_ratio` is the scored interval's count over its baseline rate (NEW: its busiest
//!   interval over [`change::RATE_FLOOR`]; VANISHED: 0; otherwise 1);
//! * `examples`: the latest [`MAX_EXAMPLES`] distinct lines, cut to 300 characters.
//!
//! Sorted NEW or SURGE first, then VANISHED, then the rest; each by count, then by id. Empty
//! lines are skipped.
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use super::{PatternChange, PatternSummary};
use crate::domain::LogStream;
use change::ChangeKind;

/// Width of one activity interval.
pub const BUCKET_SECS: i64 = 60;
/// Intervals shown as a sparkline (the last hour).
pub const BUCKETS: usize = 60;
/// Intervals counted for change detection (two hours, the live log window).
pub const HISTORY: usize = 120;
/// Raw lines kept per pattern.
pub const MAX_EXAMPLES: usize = 3;
/// Least share of equal tokens for a line to join a template.
pub const SIMILARITY: f64 = 0.6;
/// Tokens kept per line.
pub const MAX_TOKENS: usize = 96;
/// Distinct first tokens per token count before new ones share the `<*>` branch.
pub const MAX_CHILDREN: usize = 64;
/// Templates that differ only in plain words stay apart while there are at most this many.
pub const MAX_WORD_SIBLINGS: usize = 4;
/// Live patterns one [`Miner`] keeps by default before evicting the least recently used.
pub const MAX_CLUSTERS: usize = 20_000;

const WILDCARD: &str = "<*>";
const MAX_CORE_BYTES: usize = 64;
const MAX_EXAMPLE_CHARS: usize = 300;
const WIDTH_NS: i128 = BUCKET_SECS as i128 * 1_000_000_000;

pub mod change;
mod events;
pub mod ids;
mod mask;
#[cfg(test)]
mod mask_tests;
mod miner;
#[cfg(test)]
mod reference;
mod scan;
pub mod score;
mod table;
#[cfg(test)]
mod tests;

pub use events::{cause_evidence, surge_text, timeline_event};
pub use mask::mask;
pub use miner::{pattern_id, Miner, PatternRef};

/// Activity of a set of lines relative to `now`.
#[derive(Clone)]
struct Activity {
    count: u64,
    first_seen_ns: i64,
    last_seen_ns: i64,
    /// Lines per interval over the last [`HISTORY`] intervals, oldest first.
    history: Vec<u64>,
    /// (ts, line), latest first, distinct lines.
    examples: Vec<(i64, String)>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            count: 0,
            first_seen_ns: i64::MAX,
            last_seen_ns: i64::MIN,
            history: vec![0; HISTORY],
            examples: Vec::new(),
        }
    }
}

impl Activity {
    fn add(&mut self, ts_ns: i64, line: &str, history_start: i128) {
        self.count += 1;
        self.first_seen_ns = self.first_seen_ns.min(ts_ns);
        self.last_seen_ns = self.last_seen_ns.max(ts_ns);
        let ts = i128::from(ts_ns);
        if ts > history_start {
            let idx = ((ts - history_start - 1) / WIDTH_NS).min(HISTORY as i128 - 1);
            if let Some(b) = usize::try_from(idx)
                .ok()
                .and_then(|i| self.history.get_mut(i))
            {
                *b += 1;
            }
        }
        self.offer_example(ts_ns, line);
    }

    /// Keeps the [`MAX_EXAMPLES`] distinct lines with the latest timestamps (ties: by text),
    /// whatever the order they are offered in.
    fn offer_example(&mut self, ts_ns: i64, line: &str) {
        let later = |e: &(i64, String)| (e.0, Reverse(e.1.as_str())) > (ts_ns, Reverse(line));
        if let Some(dup) = self.examples.iter().position(|(_, l)| l == line) {
            if later(&self.examples[dup]) || self.examples[dup].0 == ts_ns {
                return;
            }
            self.examples.remove(dup);
        }
        let at = self
            .examples
            .iter()
            .position(|e| !later(e))
            .unwrap_or(self.examples.len());
        if at < MAX_EXAMPLES {
            self.examples.insert(at, (ts_ns, line.to_string()));
            self.examples.truncate(MAX_EXAMPLES);
        }
    }

    fn merge(&mut self, other: &Activity) {
        self.count += other.count;
        self.first_seen_ns = self.first_seen_ns.min(other.first_seen_ns);
        self.last_seen_ns = self.last_seen_ns.max(other.last_seen_ns);
        for (a, b) in self.history.iter_mut().zip(&other.history) {
            *a += b;
        }
        for (ts, line) in &other.examples {
            self.offer_example(*ts, line);
        }
    }
}

/// Mines patterns from every stream and flags new, surging and vanished ones relative to
/// `now_ns`; see the module docs for every rule.
pub fn summarize(logs: &[LogStream], now_ns: i64) -> Vec<PatternSummary> {
    let history_start = i128::from(now_ns) - WIDTH_NS * HISTORY as i128;
    // Per service: masked line -> activity of the lines with that shape.
    let mut groups: BTreeMap<Option<String>, HashMap<String, Activity>> = BTreeMap::new();
    let mut earliest = i128::MAX;
    let mut key = String::new();
    for stream in logs {
        let per_service = groups
            .entry(stream.service().map(str::to_string))
            .or_default();
        for entry in &stream.entries {
            if entry.line.trim().is_empty() {
                continue;
            }
            mask::mask_into(&entry.line, &mut key);
            earliest = earliest.min(i128::from(entry.ts_ns));
            match per_service.get_mut(key.as_str()) {
                Some(a) => a.add(entry.ts_ns, &entry.line, history_start),
                None => {
                    let mut a = Activity::default();
                    a.add(entry.ts_ns, &entry.line, history_start);
                    per_service.insert(key.clone(), a);
                }
            }
        }
    }
    // The first interval that starts at or after the earliest line.
    let covered_from = if earliest <= history_start {
        0
    } else {
        usize::try_from(
            earliest
                .saturating_sub(history_start)
                .saturating_add(WIDTH_NS - 1)
                / WIDTH_NS,
        )
        .map_or(HISTORY, |k| k.min(HISTORY))
    };
    let mut out = Vec::new();
    for (service, by_text) in groups {
        let mut ordered: Vec<(String, Activity)> = by_text.into_iter().collect();
        ordered.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
        let mut miner = Miner::new();
        miner.set_max_clusters(usize::MAX);
        let mut per_cluster: BTreeMap<PatternRef, Activity> = BTreeMap::new();
        for (_, activity) in ordered {
            // Any line of the group has its shape; the latest example is chosen
            // independently of input order.
            let Some((_, line)) = activity.examples.first() else {
                continue;
            };
            let r = miner.add_weighted(line, activity.count);
            per_cluster.entry(r).or_default().merge(&activity);
        }
        let mut per_template: BTreeMap<String, Activity> = BTreeMap::new();
        for (r, activity) in per_cluster {
            let template = miner.template(miner.resolve(r)).unwrap_or_default();
            per_template.entry(template).or_default().merge(&activity);
        }
        for (template, a) in per_template {
            let change = describe_change(&a, covered_from, history_start);
            let kind = change.as_ref().map(|c| c.kind);
            let surge_ratio = match &change {
                Some(c) if c.kind == ChangeKind::New => {
                    a.history.iter().copied().max().unwrap_or(0) as f64 / change::RATE_FLOOR
                }
                Some(c) if c.kind == ChangeKind::Surge => c.count as f64 / c.expected,
                Some(_) => 0.0,
                None => 1.0,
            };
            out.push(PatternSummary {
                id: pattern_id(service.as_deref(), &template),
                template,
                service: service.clone(),
                count: a.count,
                buckets: a.history[HISTORY - BUCKETS..].to_vec(),
                bucket_secs: BUCKET_SECS,
                first_seen_ns: a.first_seen_ns,
                last_seen_ns: a.last_seen_ns,
                is_new: kind == Some(ChangeKind::New),
                is_surge: kind == Some(ChangeKind::Surge),
                surge_ratio,
                change,
                examples: a.examples.into_iter().map(|(_, l)| shorten(&l)).collect(),
            });
        }
    }
    let rank = |p: &PatternSummary| match p.change.as_ref().map(|c| c.kind) {
        Some(ChangeKind::New | ChangeKind::Surge) => 0,
        Some(ChangeKind::Vanished) => 1,
        None => 2,
    };
    out.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.count.cmp(&a.count))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// [`change::assess`] on the covered intervals of `a`, dated in nanoseconds.
fn describe_change(
    a: &Activity,
    covered_from: usize,
    history_start: i128,
) -> Option<PatternChange> {
    let covered = a.history.get(covered_from..)?;
    let c = change::assess(covered)?;
    let older_lines = i128::from(a.first_seen_ns) <= history_start;
    if c.kind == ChangeKind::New && older_lines {
        return None;
    }
    let at_ns = match c.kind {
        ChangeKind::New => a.first_seen_ns,
        ChangeKind::Vanished => a.last_seen_ns,
        ChangeKind::Surge => {
            let start = history_start + WIDTH_NS * (covered_from + c.at) as i128;
            i64::try_from(start).unwrap_or(i64::MAX)
        }
    };
    Some(PatternChange {
        kind: c.kind,
        at_ns,
        count: c.count,
        expected: c.expected,
        score: c.score,
        sigma: c.sigma,
    })
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(MAX_EXAMPLE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}
