//! Pattern ids that stay put across polls and restarts.
//!
//! An id is a hash of the service and the template ([`pattern_id`]), so the same template
//! always gets the same id, in any poll and after a restart. A template can still change when
//! a word that was constant so far turns out to vary (`user alice logged in` becomes
//! `user <*> logged in`). [`PatternIds`] remembers the templates it has seen and, when a new
//! template *generalises* a known one of the same service (the known template matches the new
//! one with each `<*>` standing for any text), records an alias old id → new id, so anything
//! that stored the old id (timeline events, a selection) follows it.
//!
//! Bounded: at most [`MAX_KNOWN`] templates and as many aliases; the least recently seen go.
//! The store persists it (`store::patterns`).

use std::collections::BTreeMap;

use super::{pattern_id, PatternSummary, WILDCARD};

/// Templates remembered.
pub const MAX_KNOWN: usize = 10_000;

/// A template the registry has seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownPattern {
    pub id: String,
    pub service: Option<String>,
    pub template: String,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
}

/// Known templates and the aliases between their ids (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct PatternIds {
    limit: usize,
    known: BTreeMap<String, KnownPattern>,
    /// old id → newer id (one step; [`PatternIds::resolve`] follows chains).
    aliases: BTreeMap<String, String>,
}

impl Default for PatternIds {
    fn default() -> Self {
        PatternIds {
            limit: MAX_KNOWN,
            known: BTreeMap::new(),
            aliases: BTreeMap::new(),
        }
    }
}

impl PatternIds {
    /// An empty registry keeping at most [`MAX_KNOWN`] templates.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry keeping at most `limit` templates (at least 1).
    pub fn with_limit(limit: usize) -> Self {
        PatternIds {
            limit: limit.max(1),
            ..Self::default()
        }
    }

    /// Rebuilds a registry from stored parts (the store's load).
    pub fn from_parts(
        known: impl IntoIterator<Item = KnownPattern>,
        aliases: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut ids = PatternIds {
            limit: MAX_KNOWN,
            known: known.into_iter().map(|k| (k.id.clone(), k)).collect(),
            aliases: aliases.into_iter().filter(|(a, b)| a != b).collect(),
        };
        ids.trim();
        ids
    }

    /// Every known template, by id.
    pub fn known(&self) -> impl Iterator<Item = &KnownPattern> {
        self.known.values()
    }

    /// Every alias (old id, new id).
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.aliases.iter().map(|(a, b)| (a.as_str(), b.as_str()))
    }

    /// The id `id` now goes by (itself when it was never generalised).
    pub fn resolve<'a>(&'a self, mut id: &'a str) -> &'a str {
        // Aliases only point from a template to a strictly more general one, so chains end;
        // the bound guards against a corrupted store.
        for _ in 0..64 {
            match self.aliases.get(id) {
                Some(next) => id = next,
                None => break,
            }
        }
        id
    }

    /// Records the patterns of one poll seen at `now_ns` and returns the aliases it added
    /// (old id, new id).
    pub fn observe(&mut self, patterns: &[PatternSummary], now_ns: i64) -> Vec<(String, String)> {
        let mut added = Vec::new();
        for p in patterns {
            let id = pattern_id(p.service.as_deref(), &p.template);
            if let Some(k) = self.known.get_mut(&id) {
                k.last_seen_ns = k.last_seen_ns.max(now_ns);
                continue;
            }
            let older: Vec<String> = self
                .known
                .values()
                .filter(|k| {
                    k.service == p.service
                        && !self.aliases.contains_key(&k.id)
                        && generalizes(&p.template, &k.template)
                })
                .map(|k| k.id.clone())
                .collect();
            let first_seen = older
                .iter()
                .filter_map(|o| self.known.get(o).map(|k| k.first_seen_ns))
                .chain([p.first_seen_ns.min(now_ns)])
                .min()
                .unwrap_or(now_ns);
            for old in older {
                self.aliases.insert(old.clone(), id.clone());
                added.push((old, id.clone()));
            }
            self.known.insert(
                id.clone(),
                KnownPattern {
                    id,
                    service: p.service.clone(),
                    template: p.template.clone(),
                    first_seen_ns: first_seen,
                    last_seen_ns: now_ns,
                },
            );
        }
        self.trim();
        added
    }

    /// Keeps the `limit` most recently seen templates and aliases into them.
    fn trim(&mut self) {
        let limit = self.limit;
        if self.known.len() > limit {
            let mut ages: Vec<(i64, String)> = self
                .known
                .values()
                .map(|k| (k.last_seen_ns, k.id.clone()))
                .collect();
            ages.sort();
            for (_, id) in ages.into_iter().take(self.known.len() - limit) {
                self.known.remove(&id);
            }
        }
        if self.aliases.len() > limit {
            let known = &self.known;
            self.aliases.retain(|_, new| known.contains_key(new));
        }
    }
}

/// Whether `general` matches `specific` with each `<*>` in `general` standing for any text
/// (possibly empty), and they differ. Whitespace runs compare as one space.
/// A folded variable-only group (` (<*>)`, ` [<*>]`) may also stand for nothing.
pub fn generalizes(general: &str, specific: &str) -> bool {
    if !general.contains(WILDCARD) {
        return false;
    }
    // Cheap rejection: the literal text before the first `<*>` must start both.
    let head = general.split(WILDCARD).next().unwrap_or("");
    let head = head.split_whitespace().next().unwrap_or("");
    if !specific.trim_start().starts_with(head) {
        return false;
    }
    let g = general.split_whitespace().collect::<Vec<_>>().join(" ");
    let s = specific.split_whitespace().collect::<Vec<_>>().join(" ");
    if g == s {
        return false;
    }
    glob(&g, &s) || {
        let bare = g.replace(" (<*>)", "").replace(" [<*>]", "");
        bare != g && glob(&bare, &s)
    }
}

/// Whether raw `line` is an instance of `template`, and if so the line with whitespace runs
/// as single spaces and the byte ranges in it that the template's `<*>`s stand for (for
/// highlighting). A folded group (` (<*>)`) may be absent from the line.
pub fn variable_spans(template: &str, line: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let t = template.split_whitespace().collect::<Vec<_>>().join(" ");
    let l = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let spans = glob_spans(&t, &l).or_else(|| {
        let bare = t.replace(" (<*>)", "").replace(" [<*>]", "");
        (bare != t).then(|| glob_spans(&bare, &l)).flatten()
    })?;
    Some((l, spans))
}

/// [`glob`], returning what each wildcard matched (leftmost, shortest for the middle ones).
fn glob_spans(pattern: &str, text: &str) -> Option<Vec<(usize, usize)>> {
    let parts: Vec<&str> = pattern.split(WILDCARD).collect();
    let (first, rest) = parts.split_first()?;
    if !text.starts_with(first) {
        return None;
    }
    let mut at = first.len();
    let Some((last, middle)) = rest.split_last() else {
        return (at == text.len()).then(Vec::new);
    };
    let mut spans = Vec::new();
    for part in middle {
        // An empty part between two wildcards: the first takes nothing more.
        let found = text.get(at..)?.find(part)?;
        spans.push((at, at + found));
        at += found + part.len();
    }
    let end = text.len().checked_sub(last.len())?;
    if end < at || !text.ends_with(last) {
        return None;
    }
    spans.push((at, end));
    Some(spans)
}

/// `*`-style matching with `<*>` as the wildcard (greedy with backtracking to the last star).
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split(WILDCARD).collect();
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    let Some(mut text) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return text.is_empty();
    };
    for part in middle {
        match text.find(part) {
            Some(at) => text = &text[at + part.len()..],
            None => return false,
        }
    }
    text.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(service: &str, template: &str, first: i64) -> PatternSummary {
        PatternSummary {
            id: pattern_id(Some(service), template),
            template: template.to_string(),
            service: Some(service.to_string()),
            count: 1,
            buckets: Vec::new(),
            bucket_secs: 60,
            first_seen_ns: first,
            last_seen_ns: first,
            is_new: false,
            is_surge: false,
            surge_ratio: 1.0,
            change: None,
            examples: Vec::new(),
        }
    }

    #[test]
    fn variable_parts_of_a_raw_line() {
        let (l, spans) = variable_spans(
            "user <*> logged in from <*>",
            "user  alice logged in from 10.0.0.1",
        )
        .expect("matches");
        assert_eq!(l, "user alice logged in from 10.0.0.1");
        let parts: Vec<&str> = spans.iter().map(|(a, b)| &l[*a..*b]).collect();
        assert_eq!(parts, ["alice", "10.0.0.1"]);
        let (l, spans) =
            variable_spans("<*> bytes (<*>) sent", "474 bytes sent").expect("optional");
        assert_eq!(&l[spans[0].0..spans[0].1], "474");
        assert_eq!(
            variable_spans("user <*> logged in", "user bob logged out"),
            None
        );
        assert_eq!(
            variable_spans("disk full", "disk full").map(|x| x.1),
            Some(vec![])
        );
        assert_eq!(variable_spans("disk full", "disk fuller"), None);
    }

    #[test]
    fn glob_matching() {
        assert!(generalizes("user <*> logged in", "user alice logged in"));
        assert!(generalizes("<*> bytes (<*>) sent", "<*> bytes sent"));
        assert!(generalizes("a <*> c <*>", "a b c d e"));
        assert!(!generalizes("user <*> logged in", "user alice logged out"));
        assert!(!generalizes("user <*> logged in", "user <*> logged in"));
        assert!(!generalizes("plain", "plainer"));
        assert!(!generalizes("x <*>", "y z"));
    }

    #[test]
    fn the_same_template_keeps_its_id_and_a_generalised_one_aliases_it() {
        let mut ids = PatternIds::new();
        let alice = summary("api", "user alice logged in", 5);
        let disk = summary("api", "disk full", 7);
        assert!(ids.observe(&[alice.clone(), disk.clone()], 10).is_empty());
        // Next poll, same templates: nothing changes but the last-seen time.
        assert!(ids.observe(std::slice::from_ref(&alice), 20).is_empty());
        assert_eq!(ids.known().count(), 2);
        assert_eq!(ids.resolve(&alice.id), alice.id);
        // The word turns out to vary.
        let any = summary("api", "user <*> logged in", 15);
        let added = ids.observe(std::slice::from_ref(&any), 30);
        assert_eq!(added, vec![(alice.id.clone(), any.id.clone())]);
        assert_eq!(ids.resolve(&alice.id), any.id);
        assert_eq!(ids.resolve(&disk.id), disk.id);
        let k = ids.known().find(|k| k.id == any.id).cloned().unwrap();
        assert_eq!(
            k.first_seen_ns, 5,
            "keeps the first sighting of what it replaces"
        );
        // Another service's template is never aliased.
        let other = summary("web", "user bob logged in", 1);
        ids.observe(std::slice::from_ref(&other), 40);
        let more = summary("api", "user <*> logged <*>", 1);
        ids.observe(std::slice::from_ref(&more), 50);
        assert_eq!(ids.resolve(&alice.id), more.id, "chains are followed");
        assert_eq!(ids.resolve(&other.id), other.id);
        // Rebuilt from its parts (as after a restart), it answers the same.
        let known: Vec<KnownPattern> = ids.known().cloned().collect();
        let aliases: Vec<(String, String)> = ids
            .aliases()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let again = PatternIds::from_parts(known, aliases);
        assert_eq!(again, ids);
    }

    #[test]
    fn memory_is_bounded() {
        let mut ids = PatternIds::with_limit(100);
        let batch: Vec<PatternSummary> = (0..105)
            .map(|i| summary("s", &format!("event number{i}x"), 0))
            .collect();
        for (t, chunk) in batch.chunks(10).enumerate() {
            ids.observe(chunk, t as i64);
        }
        assert_eq!(ids.known().count(), 100);
        // The 5 dropped were among the least recently seen (the first poll).
        assert_eq!(ids.known().filter(|k| k.last_seen_ns == 0).count(), 5);
    }
}
