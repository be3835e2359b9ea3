//! The Drain-style miner: routes masked lines to leaves and merges similar templates.
//!
//! Hot path, per line: tokens borrow from the line (no per-token allocation); the masked
//! line is rendered into a reused buffer and looked up in a cache of masked lines already
//! seen, so an exact repeat (after masking) costs one hash lookup and no clustering. Only a
//! new masked shape walks the leaf and compares templates. Before all that, the raw line is
//! looked up in a cache of raw lines whose masked shape is in the shape cache: a line seen
//! verbatim before is not even tokenized. The two caches are kept consistent (a raw entry
//! exists only while its shape's entry does, pointing to the same cluster), so the short-cut
//! never changes which pattern a line gets. Each cache hashes its key once per line (the
//! lookup's hash serves the insert) and stores keys in one arena (`table.rs`), so a new line
//! costs no allocation; a batch of lines held by the caller uses indices into it for its raw
//! cache instead (`batch.rs`).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::mask::{is_unit, peel, render, render_pieces, same, tokenize_into, Piece, Token};
use super::table::StrTable;

#[path = "batch.rs"]
mod batch;
use super::{MAX_CHILDREN, MAX_CLUSTERS, MAX_WORD_SIBLINGS, SIMILARITY, WILDCARD};

/// Masked lines remembered for the exact-repeat short-cut; the cache is emptied when full.
const CACHE_ENTRIES: usize = 8_192;
/// Longer masked (or raw) lines are not cached (so each cache stays under ~8 MB).
const CACHE_KEY_BYTES: usize = 1_024;

/// The miner's maps: `foldhash`'s fast hasher, seeded per map from a random per-process seed
/// (much faster than SipHash on log text, and a hostile source cannot pick collisions in
/// advance; the maps are bounded either way).
pub(super) type FxMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A pattern held by a [`Miner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatternRef(pub(super) usize);

impl PatternRef {
    /// A small number for the pattern, unique within its [`Miner`] (the patterns it ever
    /// created are numbered from 0), so callers can index a `Vec` by pattern instead of
    /// hashing refs.
    pub fn index(self) -> usize {
        self.0
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Live,
    /// Merged into another cluster (followed to the live one).
    Merged(usize),
    /// Dropped to bound memory; its template is gone.
    Evicted,
}

struct Cluster {
    template: Vec<Token>,
    count: u64,
    /// Clock of the last line assigned.
    last: u64,
    state: State,
}

/// Clusters with one token count: per first token (at most [`MAX_CHILDREN`]), and the rest.
#[derive(Default)]
struct Level {
    by_first: FxMap<String, Vec<usize>>,
    wildcard: Vec<usize>,
}

/// An online Drain-style template miner (see the module docs). Templates only ever
/// generalise, so a [`PatternRef`] stays valid while its template text may gain `<*>`s; a
/// pattern evicted to bound memory (see [`Miner::set_max_clusters`]) has no template any more.
pub struct Miner {
    clusters: Vec<Cluster>,
    levels: FxMap<usize, Level>,
    live: usize,
    max_clusters: usize,
    evicted: u64,
    clock: u64,
    /// Masked line → cluster that took it.
    cache: StrTable,
    /// Raw line → cluster, only for lines whose masked shape is in `cache` (same cluster).
    lines: StrTable,
    /// Bumped whenever a shape-cache entry is dropped or replaced: raw-line caches outside
    /// the miner (see `batch.rs`) must then forget their entries.
    epoch: u64,
    /// Reused buffers (no allocation per line once warm).
    key: String,
    pieces: Vec<Piece<'static>>,
}

impl Default for Miner {
    fn default() -> Self {
        Miner {
            clusters: Vec::new(),
            levels: FxMap::default(),
            live: 0,
            max_clusters: MAX_CLUSTERS,
            evicted: 0,
            clock: 0,
            cache: StrTable::default(),
            lines: StrTable::default(),
            epoch: 0,
            key: String::new(),
            pieces: Vec::new(),
        }
    }
}

/// An empty vector of another lifetime that keeps `v`'s allocation (in-place collect; the
/// `filter_map` is what lets the element lifetime change).
#[allow(clippy::unnecessary_filter_map)]
fn recycle<'a, 'b>(mut v: Vec<Piece<'a>>) -> Vec<Piece<'b>> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

impl Miner {
    /// An empty miner that keeps at most [`MAX_CLUSTERS`] patterns.
    pub fn new() -> Self {
        Self::default()
    }

    /// Caps the number of live patterns (at least 1). When a new pattern would exceed it, the
    /// least recently used eighth of the patterns is evicted: their templates are dropped and
    /// their [`PatternRef`]s answer `None`; a later line of the same shape starts afresh.
    pub fn set_max_clusters(&mut self, max: usize) {
        self.max_clusters = max.max(1);
    }

    /// Patterns evicted so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Masks `line`, assigns it to a pattern (creating or generalising one) and returns it.
    pub fn add(&mut self, line: &str) -> PatternRef {
        self.add_weighted(line, 1)
    }

    /// As [`Miner::add`], counting the line `weight` times.
    pub fn add_weighted(&mut self, line: &str, weight: u64) -> PatternRef {
        self.add_with(line, weight, true)
    }

    /// As [`Miner::add_weighted`]; `raw_cache: false` skips the raw-line short-cut (tests
    /// check that it never changes the result).
    pub(super) fn add_with(&mut self, line: &str, weight: u64, raw_cache: bool) -> PatternRef {
        self.clock += 1;
        // A line seen verbatim before: the shape cache would give the same cluster. The
        // line's hash serves the lookup and the insert below.
        let line_hash = self.lines.hash(line);
        if raw_cache {
            if let Some(r) = self.raw_hit(self.lines.get(line_hash, line), weight) {
                return r;
            }
        }
        let (r, cacheable) = self.add_shape(line, weight);
        // The shape is cached now (unless too long): remember the raw line too.
        if cacheable {
            if self.lines.len() >= CACHE_ENTRIES {
                self.lines.clear();
            }
            self.lines.insert(line_hash, line, r.0);
        }
        r
    }

    /// Counts a line for `cached`, the cluster a raw-line cache gave, if it is still live.
    fn raw_hit(&mut self, cached: Option<usize>, weight: u64) -> Option<PatternRef> {
        let c = self.live_slot(cached?);
        let cluster = self
            .clusters
            .get_mut(c)
            .filter(|k| k.state == State::Live)?;
        cluster.count += weight;
        cluster.last = self.clock;
        Some(PatternRef(c))
    }

    /// Assigns `line` by its masked shape (the shape cache, else the tree) and tells whether
    /// a raw-line cache may remember it: its shape is cached, pointing to the returned
    /// cluster, and the line is not too long.
    fn add_shape(&mut self, line: &str, weight: u64) -> (PatternRef, bool) {
        let mut pieces: Vec<Piece> = recycle(std::mem::take(&mut self.pieces));
        tokenize_into(line, &mut pieces);
        render_pieces(&pieces, &mut self.key);
        let key_hash = self.cache.hash(&self.key);
        let hit = self
            .cache
            .get(key_hash, &self.key)
            .map(|c| self.live_slot(c));
        let r = match hit {
            Some(c) if self.clusters[c].state == State::Live => {
                let cluster = &mut self.clusters[c];
                cluster.count += weight;
                cluster.last = self.clock;
                PatternRef(c)
            }
            _ => {
                let r = self.add_pieces(&pieces, weight);
                if self.key.len() <= CACHE_KEY_BYTES {
                    if self.cache.len() >= CACHE_ENTRIES {
                        self.cache.clear();
                        self.lines.clear();
                        self.epoch += 1;
                    } else if hit.is_some() {
                        // The key's entry is replaced (its cluster was evicted).
                        self.epoch += 1;
                    }
                    self.cache.insert(key_hash, &self.key, r.0);
                }
                r
            }
        };
        self.pieces = recycle(pieces);
        let cacheable = self.key.len() <= CACHE_KEY_BYTES && line.len() <= CACHE_KEY_BYTES;
        (r, cacheable)
    }

    /// The template of `r` with `<*>` for variable parts (`None` if unknown or evicted).
    pub fn template(&self, r: PatternRef) -> Option<String> {
        self.clusters
            .get(self.live_slot(r.0))
            .filter(|c| c.state == State::Live)
            .map(|c| render(&c.template))
    }

    /// Lines assigned to `r` so far (with every pattern merged into it).
    pub fn count(&self, r: PatternRef) -> u64 {
        self.clusters
            .get(self.live_slot(r.0))
            .filter(|c| c.state == State::Live)
            .map_or(0, |c| c.count)
    }

    /// The pattern `r` lives on as after merges.
    pub fn resolve(&self, r: PatternRef) -> PatternRef {
        PatternRef(self.live_slot(r.0))
    }

    /// The slot `i` lives on as after merges.
    fn live_slot(&self, mut i: usize) -> usize {
        while let Some(State::Merged(next)) = self.clusters.get(i).map(|c| c.state) {
            i = next;
        }
        i
    }

    /// The current id of `r` (see [`pattern_id`]), without a service.
    pub fn id(&self, r: PatternRef) -> Option<String> {
        self.template(r).map(|t| pattern_id(None, &t))
    }

    /// Number of live patterns.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no line was added yet.
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// Every live pattern, in creation order.
    pub fn patterns(&self) -> impl Iterator<Item = PatternRef> + '_ {
        self.clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state == State::Live)
            .map(|(i, _)| PatternRef(i))
    }

    fn add_pieces(&mut self, tokens: &[Piece], weight: u64) -> PatternRef {
        let clock = self.clock;
        let leaf = leaf_mut(&mut self.levels, tokens);
        let mut best: Option<(usize, f64)> = None;
        for &c in leaf.iter() {
            let sim = similarity(&self.clusters[c].template, tokens);
            if best.is_none_or(|(_, b)| sim > b) {
                best = Some((c, sim));
            }
        }
        let Some((c, _)) = best.filter(|(_, s)| *s >= SIMILARITY) else {
            return self.push(tokens, weight);
        };
        // Positions where the template and the line hold different plain words.
        let template = &self.clusters[c].template;
        let words: Vec<usize> = template
            .iter()
            .zip(tokens)
            .enumerate()
            .filter(|(i, (t, l))| {
                if same(t, l) || t.text.contains(WILDCARD) || !l.is_word() {
                    return false;
                }
                let after_number = i
                    .checked_sub(1)
                    .and_then(|p| template.get(p))
                    .is_some_and(|p| p.text.contains(WILDCARD));
                !(after_number && is_unit(&t.text) && is_unit(l.pre))
            })
            .map(|(i, _)| i)
            .collect();
        if words.is_empty() {
            let cluster = &mut self.clusters[c];
            absorb(&mut cluster.template, tokens);
            cluster.count += weight;
            cluster.last = clock;
            return PatternRef(c);
        }
        // A word that takes few values ("GET"/"POST", "started"/"stopped") is part of the
        // message; one that keeps taking new values is a variable. Lines that differ from
        // their siblings only there stay apart until there are too many siblings to be
        // constants, then they all merge into one template.
        let siblings: Vec<usize> = leaf
            .iter()
            .copied()
            .filter(|&k| same_except(&self.clusters[k].template, tokens, &words))
            .collect();
        if siblings.len() < MAX_WORD_SIBLINGS {
            return self.push(tokens, weight);
        }
        let target = siblings[0];
        leaf.retain(|k| !siblings[1..].contains(k));
        absorb(&mut self.clusters[target].template, tokens);
        self.clusters[target].count += weight;
        self.clusters[target].last = clock;
        for &k in &siblings[1..] {
            let other = std::mem::take(&mut self.clusters[k].template);
            absorb_tokens(&mut self.clusters[target].template, &other);
            self.clusters[target].count += self.clusters[k].count;
            self.clusters[k].state = State::Merged(target);
            self.live -= 1;
        }
        PatternRef(target)
    }

    fn push(&mut self, tokens: &[Piece], weight: u64) -> PatternRef {
        if self.live >= self.max_clusters {
            self.evict();
        }
        let id = self.clusters.len();
        self.clusters.push(Cluster {
            template: tokens.iter().map(|p| p.to_token()).collect(),
            count: weight,
            last: self.clock,
            state: State::Live,
        });
        self.live += 1;
        leaf_mut(&mut self.levels, tokens).push(id);
        PatternRef(id)
    }

    /// Drops the least recently used eighth of the live clusters (at least one).
    fn evict(&mut self) {
        let mut by_age: Vec<(u64, usize)> = self
            .clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state == State::Live)
            .map(|(i, c)| (c.last, i))
            .collect();
        by_age.sort_unstable();
        let n = (self.max_clusters / 8).max(1).min(by_age.len());
        for &(_, i) in &by_age[..n] {
            let c = &mut self.clusters[i];
            c.state = State::Evicted;
            c.template = Vec::new();
        }
        self.live -= n;
        self.evicted += n as u64;
        let clusters = &self.clusters;
        let alive = |i: &usize| clusters[*i].state == State::Live;
        for level in self.levels.values_mut() {
            level.wildcard.retain(alive);
            for leaf in level.by_first.values_mut() {
                leaf.retain(alive);
            }
            level.by_first.retain(|_, leaf| !leaf.is_empty());
        }
        self.levels
            .retain(|_, l| !l.wildcard.is_empty() || !l.by_first.is_empty());
        let live_slot = |mut i: usize| {
            while let State::Merged(next) = clusters[i].state {
                i = next;
            }
            i
        };
        self.cache.retain(|c| alive(&live_slot(c)));
        self.lines.retain(|c| alive(&live_slot(c)));
        self.epoch += 1;
    }
}

/// The leaf for `tokens`: token count, then the first token (capped at [`MAX_CHILDREN`]
/// distinct first tokens per count; a masked first token or one past the cap shares the
/// `<*>` leaf).
fn leaf_mut<'m>(levels: &'m mut FxMap<usize, Level>, tokens: &[Piece]) -> &'m mut Vec<usize> {
    let level = levels.entry(tokens.len()).or_default();
    let first = match tokens.first() {
        Some(p) if !p.masked && !p.pre.contains(WILDCARD) => p.pre,
        Some(_) => return &mut level.wildcard,
        None => "",
    };
    if level.by_first.contains_key(first) {
        return level.by_first.get_mut(first).expect("checked above");
    }
    if level.by_first.len() < MAX_CHILDREN {
        return level.by_first.entry(first.to_string()).or_default();
    }
    &mut level.wildcard
}

/// Generalises every position of `template` where `line` differs.
fn absorb(template: &mut [Token], line: &[Piece]) {
    let mut text = String::new();
    for (t, l) in template.iter_mut().zip(line) {
        if t.group == 0 {
            t.group = l.group;
        }
        if !same(t, l) && t.text != WILDCARD {
            text.clear();
            l.push_text(&mut text);
            t.text = generalize(&t.text, &text);
        }
    }
}

/// As [`absorb`], with another template.
fn absorb_tokens(template: &mut [Token], other: &[Token]) {
    for (t, o) in template.iter_mut().zip(other) {
        if t.group == 0 {
            t.group = o.group;
        }
        if (t.text != o.text || t.glued != o.glued) && t.text != WILDCARD {
            t.text = generalize(&t.text, &o.text);
        }
    }
}

/// `a` and `b` agree everywhere except (possibly) at `skip`.
fn same_except(a: &[Token], b: &[Piece], skip: &[usize]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .enumerate()
            .all(|(i, (x, y))| skip.contains(&i) || same(x, y))
}

/// Share of positions where the template and the line have the same token (1 when both are
/// empty). A generalised `<*>` position only matches a masked `<*>` in the line, as in Drain,
/// so templates do not snowball into all-wildcard ones.
fn similarity(template: &[Token], line: &[Piece]) -> f64 {
    if template.len() != line.len() {
        return 0.0;
    }
    if line.is_empty() {
        return 1.0;
    }
    let equal = template
        .iter()
        .zip(line)
        .filter(|(t, l)| same(t, l))
        .count();
    equal as f64 / line.len() as f64
}

/// The `<*>` two differing tokens share: `"<*>",` for `"t1",` and `"t2",` (same punctuation
/// around the core); otherwise the punctuation both share at the start and at the end
/// (`<*>,` for `<*> B,` and `<*> KB,`), or plain `<*>`.
pub(super) fn generalize(a: &str, b: &str) -> String {
    let (Some(fa), Some(fb)) = (frame(a), frame(b)) else {
        return WILDCARD.to_string();
    };
    if fa == fb {
        return format!("{}{WILDCARD}{}", fa.0, fa.1);
    }
    let punct = |c: char| !c.is_alphanumeric() && !c.is_whitespace() && c != '<' && c != '>';
    let lead: String =
        fa.0.chars()
            .zip(fb.0.chars())
            .take_while(|(x, y)| x == y && punct(*x))
            .map(|(x, _)| x)
            .collect();
    let mut trail: Vec<char> =
        fa.1.chars()
            .rev()
            .zip(fb.1.chars().rev())
            .take_while(|(x, y)| x == y && punct(*x))
            .map(|(x, _)| x)
            .collect();
    trail.reverse();
    let trail: String = trail.into_iter().collect();
    format!("{lead}{WILDCARD}{trail}")
}

/// The punctuation around a token's core (or around its `<*>`), if it has a core.
pub(super) fn frame(token: &str) -> Option<(&str, &str)> {
    if let Some(at) = token.find(WILDCARD) {
        return Some((&token[..at], &token[at + WILDCARD.len()..]));
    }
    let body = token.trim_end_matches(['=', ',', ':']);
    let (lead, core, _) = peel(body);
    if core.is_empty() {
        return None;
    }
    Some((lead, &token[lead.len() + core.len()..]))
}

/// `"P"` + 8 hex digits of SHA-256 over the service, a 0x1F separator and the template.
pub fn pattern_id(service: Option<&str>, template: &str) -> String {
    let mut h = Sha256::new();
    h.update(service.unwrap_or("").as_bytes());
    h.update([0x1f]);
    h.update(template.as_bytes());
    let digest = h.finalize();
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("P{hex}")
}
