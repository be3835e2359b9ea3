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
//! * **Speed.** Tokens borrow from the line; the masked line is looked up in a bounded cache of
//!   shapes already seen, so an exact repeat after masking skips clustering (see `miner.rs`).
//! * **Memory.** A [`Miner`] keeps at most [`MAX_CLUSTERS`] live patterns and evicts the least
//!   recently used eighth when a new one would pass that; [`summarize`] keeps
//!   [`MAX_EXAMPLES`] lines per pattern. [`ids::PatternIds`] (persisted by the store) is
//!   bounded too. [`change::detect`] flags NEW / SURGE / VANISHED per interval.
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
//! * `buckets`: counts per minute over the last hour, oldest first; bucket `k` holds lines in
//!   `(now − (60−k) min, now − (59−k) min]`, and lines stamped after `now_ns` land in the last;
//! * baseline: lines older than [`BASELINE_CUTOFF_SECS`]; it exists only when the input
//!   reaches at least [`MIN_BASELINE_SECS`] further back than the cutoff, otherwise nothing
//!   is new or surging and `surge_ratio` is 1;
//! * `is_new`: first seen within the last [`NEW_WINDOW_SECS`], in input that reaches at least
//!   [`MIN_ABSENT_SECS`] further back without it (so an incident that began before the
//!   baseline cutoff still shows its new messages as new); `is_surge`: at least [`MIN_SURGE_COUNT`] lines in
//!   `(now − RECENT_SECS, now]` (or later) and a rate at least [`SURGE_RATIO`] × the baseline rate, which is
//!   floored at half a line per baseline span so new patterns get a finite ratio;
//! * `examples`: the latest [`MAX_EXAMPLES`] distinct lines, cut to 300 characters.
//!
//! Sorted new or surging first, then by count, then by id. Empty lines are skipped.
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use super::PatternSummary;
use crate::domain::LogStream;

/// Width of one activity bucket.
pub const BUCKET_SECS: i64 = 60;
/// Buckets kept (the last hour).
pub const BUCKETS: usize = 60;
/// Window for the "now" rate.
pub const RECENT_SECS: i64 = 600;
/// Lines older than this before `now` form the baseline.
pub const BASELINE_CUTOFF_SECS: i64 = 1_800;
/// Least baseline coverage needed to call anything new or surging.
/// A pattern first seen this recently (and absent before, see the module docs) is new.
pub const NEW_WINDOW_SECS: i64 = 3_600;
/// How long the input must show a pattern absent before it can count as new.
pub const MIN_ABSENT_SECS: i64 = 1_800;
/// Input must reach this far back (before the cutoff, or before a new pattern) to judge.
pub const MIN_BASELINE_SECS: i64 = 300;
/// Recent rate over baseline rate that counts as a surge.
pub const SURGE_RATIO: f64 = 5.0;
/// Fewest recent lines for a surge.
pub const MIN_SURGE_COUNT: u64 = 10;
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
const NS: i128 = 1_000_000_000;

pub mod change;
pub mod ids;
mod mask;
mod miner;
pub mod score;
#[cfg(test)]
mod tests;

pub use mask::mask;
pub use miner::{pattern_id, Miner, PatternRef};

/// Activity of a set of lines relative to `now`.
#[derive(Clone)]
struct Activity {
    count: u64,
    first_seen_ns: i64,
    baseline: u64,
    recent: u64,
    buckets: Vec<u64>,
    /// (ts, line), latest first, distinct lines.
    examples: Vec<(i64, String)>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            count: 0,
            first_seen_ns: i64::MAX,
            baseline: 0,
            recent: 0,
            buckets: vec![0; BUCKETS],
            examples: Vec::new(),
        }
    }
}

impl Activity {
    fn add(&mut self, ts_ns: i64, line: &str, w: &Windows) {
        self.count += 1;
        self.first_seen_ns = self.first_seen_ns.min(ts_ns);
        let ts = i128::from(ts_ns);
        if ts < w.cutoff {
            self.baseline += 1;
        }
        if ts > w.recent_from {
            self.recent += 1;
        }
        if ts > w.bucket_start {
            let width = i128::from(BUCKET_SECS) * NS;
            let idx = ((ts - w.bucket_start - 1) / width).min(BUCKETS as i128 - 1);
            if let Some(b) = usize::try_from(idx)
                .ok()
                .and_then(|i| self.buckets.get_mut(i))
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
        self.baseline += other.baseline;
        self.recent += other.recent;
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        for (ts, line) in &other.examples {
            self.offer_example(*ts, line);
        }
    }
}

/// Window boundaries in nanoseconds (i128, so no arithmetic near `i64::MAX` can overflow).
struct Windows {
    cutoff: i128,
    recent_from: i128,
    bucket_start: i128,
}

/// Mines patterns from every stream and flags new and surging ones relative to `now_ns`;
/// see the module docs for every rule.
pub fn summarize(logs: &[LogStream], now_ns: i64) -> Vec<PatternSummary> {
    let now = i128::from(now_ns);
    let w = Windows {
        cutoff: now - i128::from(BASELINE_CUTOFF_SECS) * NS,
        recent_from: now - i128::from(RECENT_SECS) * NS,
        bucket_start: now - i128::from(BUCKET_SECS) * BUCKETS as i128 * NS,
    };
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
                Some(a) => a.add(entry.ts_ns, &entry.line, &w),
                None => {
                    let mut a = Activity::default();
                    a.add(entry.ts_ns, &entry.line, &w);
                    per_service.insert(key.clone(), a);
                }
            }
        }
    }
    let baseline_ns = w.cutoff.saturating_sub(earliest);
    let has_baseline = baseline_ns >= i128::from(MIN_BASELINE_SECS) * NS;
    let baseline_secs = baseline_ns as f64 / NS as f64;
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
            let (is_surge, surge_ratio) = if has_baseline {
                let recent_rate = a.recent as f64 / RECENT_SECS as f64;
                let base_rate = (a.baseline as f64).max(0.5) / baseline_secs;
                let ratio = recent_rate / base_rate;
                (a.recent >= MIN_SURGE_COUNT && ratio >= SURGE_RATIO, ratio)
            } else {
                (false, 1.0)
            };
            let first = i128::from(a.first_seen_ns);
            let is_new = first > now - i128::from(NEW_WINDOW_SECS) * NS
                && first - earliest >= i128::from(MIN_ABSENT_SECS) * NS;
            out.push(PatternSummary {
                id: pattern_id(service.as_deref(), &template),
                template,
                service: service.clone(),
                count: a.count,
                buckets: a.buckets,
                bucket_secs: BUCKET_SECS,
                first_seen_ns: a.first_seen_ns,
                is_new,
                is_surge,
                surge_ratio,
                examples: a.examples.into_iter().map(|(_, l)| shorten(&l)).collect(),
            });
        }
    }
    out.sort_by(|a, b| {
        let calm = |p: &PatternSummary| !(p.is_new || p.is_surge);
        calm(a)
            .cmp(&calm(b))
            .then(b.count.cmp(&a.count))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(MAX_EXAMPLE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}
