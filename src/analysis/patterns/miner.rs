//! The Drain-style miner: routes masked lines to leaves and merges similar templates.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::mask::{peel, render, tokenize, Token};
use super::{MAX_CHILDREN, MAX_WORD_SIBLINGS, SIMILARITY, WILDCARD};

/// A pattern held by a [`Miner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatternRef(pub(super) usize);

pub(super) struct Cluster {
    template: Vec<Token>,
    count: u64,
}

pub(super) type LeafKey = (usize, String);

/// An online Drain-style template miner (see the module docs). Templates only ever
/// generalise, so a [`PatternRef`] stays valid while its template text may gain `<*>`s.
#[derive(Default)]
pub struct Miner {
    clusters: Vec<Cluster>,
    /// Live (not merged away) clusters per leaf.
    leaves: HashMap<LeafKey, Vec<usize>>,
    children: HashMap<usize, HashSet<String>>,
    /// `merged[i]`: the cluster `i` was merged into, if any (followed to the live one).
    merged: Vec<Option<usize>>,
}

impl Miner {
    /// An empty miner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Masks `line`, assigns it to a pattern (creating or generalising one) and returns it.
    pub fn add(&mut self, line: &str) -> PatternRef {
        self.add_masked(tokenize(line), 1)
    }

    /// The template of `r` with `<*>` for variable parts.
    pub fn template(&self, r: PatternRef) -> Option<String> {
        self.clusters
            .get(self.live(r.0))
            .map(|c| render(&c.template))
    }

    /// Lines assigned to `r` so far (with every pattern merged into it).
    pub fn count(&self, r: PatternRef) -> u64 {
        self.clusters.get(self.live(r.0)).map_or(0, |c| c.count)
    }

    /// The cluster `i` lives on as after merges.
    fn live(&self, mut i: usize) -> usize {
        while let Some(Some(next)) = self.merged.get(i) {
            i = *next;
        }
        i
    }

    /// The current id of `r` (see [`pattern_id`]), without a service.
    pub fn id(&self, r: PatternRef) -> Option<String> {
        self.template(r).map(|t| pattern_id(None, &t))
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.merged.iter().filter(|m| m.is_none()).count()
    }

    /// Whether no line was added yet.
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// Every pattern, in creation order.
    pub fn patterns(&self) -> impl Iterator<Item = PatternRef> + '_ {
        (0..self.clusters.len())
            .filter(|i| self.merged.get(*i).is_some_and(Option::is_none))
            .map(PatternRef)
    }

    pub(super) fn add_masked(&mut self, tokens: Vec<Token>, weight: u64) -> PatternRef {
        let key = self.route(&tokens);
        let leaf: Vec<usize> = self.leaves.get(&key).cloned().unwrap_or_default();
        let mut best: Option<(usize, f64)> = None;
        for &c in &leaf {
            let Some(cluster) = self.clusters.get(c) else {
                continue;
            };
            let sim = similarity(&cluster.template, &tokens);
            if best.is_none_or(|(_, b)| sim > b) {
                best = Some((c, sim));
            }
        }
        let Some((c, _)) = best.filter(|(_, s)| *s >= SIMILARITY) else {
            return self.push(key, tokens, weight);
        };
        // Positions where the template and the line hold different plain words.
        let template = &self.clusters[c].template;
        let words: Vec<usize> = template
            .iter()
            .zip(&tokens)
            .enumerate()
            .filter(|(i, (t, l))| {
                let after_number = i
                    .checked_sub(1)
                    .and_then(|p| template.get(p))
                    .is_some_and(|p| p.text.contains(WILDCARD));
                let units = after_number && is_unit(&t.text) && is_unit(&l.text);
                t != l && is_word(t) && is_word(l) && !units
            })
            .map(|(i, _)| i)
            .collect();
        if words.is_empty() {
            absorb(&mut self.clusters[c].template, &tokens);
            self.clusters[c].count += weight;
            return PatternRef(c);
        }
        // A word that takes few values ("GET"/"POST", "started"/"stopped") is part of the
        // message; one that keeps taking new values is a variable. Lines that differ from
        // their siblings only there stay apart until there are too many siblings to be
        // constants, then they all merge into one template.
        let siblings: Vec<usize> = leaf
            .iter()
            .copied()
            .filter(|&k| same_except(&self.clusters[k].template, &tokens, &words))
            .collect();
        if siblings.len() < MAX_WORD_SIBLINGS {
            return self.push(key, tokens, weight);
        }
        let target = siblings[0];
        absorb(&mut self.clusters[target].template, &tokens);
        self.clusters[target].count += weight;
        for &k in &siblings[1..] {
            let other = std::mem::take(&mut self.clusters[k].template);
            absorb(&mut self.clusters[target].template, &other);
            self.clusters[target].count += self.clusters[k].count;
            self.clusters[k].template = other;
            self.merged[k] = Some(target);
        }
        if let Some(live) = self.leaves.get_mut(&key) {
            live.retain(|k| !siblings[1..].contains(k));
        }
        PatternRef(target)
    }

    fn push(&mut self, key: LeafKey, tokens: Vec<Token>, weight: u64) -> PatternRef {
        let id = self.clusters.len();
        self.clusters.push(Cluster {
            template: tokens,
            count: weight,
        });
        self.merged.push(None);
        self.leaves.entry(key).or_default().push(id);
        PatternRef(id)
    }

    /// Leaf of the prefix tree: token count, then the first token (capped).
    fn route(&mut self, tokens: &[Token]) -> LeafKey {
        let len = tokens.len();
        (len, self.child(len, tokens.first()))
    }

    fn child(&mut self, len: usize, token: Option<&Token>) -> String {
        let Some(token) = token else {
            return String::new();
        };
        if token.text.contains(WILDCARD) {
            return WILDCARD.to_string();
        }
        let seen = self.children.entry(len).or_default();
        if seen.contains(&token.text) || seen.len() < MAX_CHILDREN {
            seen.insert(token.text.clone());
            token.text.clone()
        } else {
            WILDCARD.to_string()
        }
    }
}

/// Generalises every position of `template` where `line` differs.
fn absorb(template: &mut [Token], line: &[Token]) {
    for (t, l) in template.iter_mut().zip(line) {
        if t != l && t.text != WILDCARD {
            t.text = generalize(&t.text, &l.text);
        }
    }
}

/// A token that is a literal word (not masked, not generalised).
fn is_word(t: &Token) -> bool {
    !t.text.contains(WILDCARD)
}

/// A unit of measure: after a number it varies with the number's size (`512 B`, `1.2 MB`), so
/// it is generalised like the number rather than kept as a constant word.
fn is_unit(text: &str) -> bool {
    const UNITS: [&str; 24] = [
        "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "bytes", "ns", "us", "µs", "ms",
        "s", "sec", "secs", "seconds", "min", "mins", "minutes", "h", "hours", "%",
    ];
    let core = text.trim_end_matches([',', ')', ']', ';', '.']);
    UNITS.iter().any(|u| core.eq_ignore_ascii_case(u))
}

/// `a` and `b` agree everywhere except (possibly) at `skip`.
fn same_except(a: &[Token], b: &[Token], skip: &[usize]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .enumerate()
            .all(|(i, (x, y))| x == y || skip.contains(&i))
}

/// Share of positions where the template and the line have the same token (1 when both are
/// empty). A generalised `<*>` position only matches a masked `<*>` in the line, as in Drain,
/// so templates do not snowball into all-wildcard ones.
pub(super) fn similarity(template: &[Token], line: &[Token]) -> f64 {
    if template.len() != line.len() {
        return 0.0;
    }
    if line.is_empty() {
        return 1.0;
    }
    let same = template.iter().zip(line).filter(|(t, l)| t == l).count();
    same as f64 / line.len() as f64
}

/// The `<*>` two differing tokens share: `"<*>",` for `"t1",` and `"t2",` (same punctuation
/// around the core), plain `<*>` otherwise.
pub(super) fn generalize(a: &str, b: &str) -> String {
    match (frame(a), frame(b)) {
        (Some(fa), Some(fb)) if fa == fb => format!("{}{WILDCARD}{}", fa.0, fa.1),
        _ => WILDCARD.to_string(),
    }
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
