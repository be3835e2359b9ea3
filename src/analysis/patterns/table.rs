//! A bounded text → cluster map for the miner's two short-cut caches (raw lines and masked
//! shapes), built for the per-line path:
//! * a key is hashed **once** per line: [`StrTable::hash`] gives the hash, and both the lookup
//!   and a later insert of the same key take it (a `HashMap<String, _>` hashes again to insert);
//! * keys live in one arena (`bytes`), not one heap allocation each, so filling the table and
//!   emptying it costs no `malloc`/`free` per line.
//!
//! The probing is `hashbrown`'s `HashTable`, which takes a precomputed hash and an equality
//! closure, so an entry can name its key by position in the arena (or, in [`LineTable`], by
//! index in the caller's lines). The hash is `foldhash`'s fast hash with a random per-table
//! seed, as for the miner's other maps. The table never grows past the entries its owner allows
//! (it checks [`StrTable::len`]).

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry as Slot, HashTable};

/// Entries held before the first growth (a fresh miner does not rehash on its first lines).
const INITIAL_ENTRIES: usize = 512;

/// One key: its place in the arena, its hash and its value.
#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    start: usize,
    len: usize,
    value: usize,
}

/// Text → `usize`, see the module docs.
pub(super) struct StrTable {
    seed: foldhash::fast::RandomState,
    table: HashTable<Entry>,
    bytes: String,
}

impl Default for StrTable {
    fn default() -> Self {
        StrTable {
            seed: foldhash::fast::RandomState::default(),
            table: HashTable::with_capacity(INITIAL_ENTRIES),
            bytes: String::new(),
        }
    }
}

/// The key text of `e` in `bytes`.
fn key_of<'b>(bytes: &'b str, e: &Entry) -> &'b str {
    bytes.get(e.start..e.start + e.len).unwrap_or("")
}

impl StrTable {
    /// The hash of `key` for [`StrTable::get`] and [`StrTable::insert`].
    #[inline]
    pub(super) fn hash(&self, key: &str) -> u64 {
        self.seed.hash_one(key)
    }

    /// Keys held.
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    /// Bytes of key text held (the arena's length).
    #[cfg(test)]
    pub(super) fn key_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Forgets every key (keeping the allocations).
    pub(super) fn clear(&mut self) {
        self.table.clear();
        self.bytes.clear();
    }

    /// The value of `key`, whose hash is `hash` (from [`StrTable::hash`]).
    #[inline]
    pub(super) fn get(&self, hash: u64, key: &str) -> Option<usize> {
        let bytes = &self.bytes;
        self.table
            .find(hash, |e| e.hash == hash && key_of(bytes, e) == key)
            .map(|e| e.value)
    }

    /// Sets the value of `key` (hash `hash`, from [`StrTable::hash`]).
    pub(super) fn insert(&mut self, hash: u64, key: &str, value: usize) {
        let bytes = &self.bytes;
        let slot = self.table.entry(
            hash,
            |e| e.hash == hash && key_of(bytes, e) == key,
            |e| e.hash,
        );
        match slot {
            Slot::Occupied(mut o) => o.get_mut().value = value,
            Slot::Vacant(v) => {
                let start = self.bytes.len();
                self.bytes.push_str(key);
                v.insert(Entry {
                    hash,
                    start,
                    len: key.len(),
                    value,
                });
            }
        }
    }

    /// Keeps only the keys whose value passes `keep` (compacting the arena).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(usize) -> bool) {
        self.table.retain(|e| keep(e.value));
        let old = std::mem::take(&mut self.bytes);
        for e in self.table.iter_mut() {
            let start = self.bytes.len();
            self.bytes.push_str(key_of(&old, e));
            e.start = start;
        }
    }
}

/// A raw-line cache for one batch of lines held by the caller (see `batch.rs`): line text →
/// value, where an entry holds the line's **index** in the caller's slice instead of a copy.
/// Sized up front and emptied rather than grown past its capacity.
pub(super) struct LineTable {
    seed: foldhash::fast::RandomState,
    /// (hash, line index, value).
    table: HashTable<(u64, usize, usize)>,
    capacity: usize,
}

impl LineTable {
    /// A table for up to `entries` lines before it starts afresh.
    pub(super) fn with_capacity(entries: usize) -> Self {
        let capacity = entries.max(8);
        LineTable {
            seed: foldhash::fast::RandomState::default(),
            table: HashTable::with_capacity(capacity),
            capacity,
        }
    }

    #[inline]
    pub(super) fn hash(&self, line: &str) -> u64 {
        self.seed.hash_one(line)
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn clear(&mut self) {
        self.table.clear();
    }

    /// The value of `line` (hash `hash`), whose earlier occurrences `text` gives by index.
    #[inline]
    pub(super) fn get<'t>(
        &self,
        hash: u64,
        line: &str,
        text: impl Fn(usize) -> Option<&'t str>,
    ) -> Option<usize> {
        self.table
            .find(hash, |&(h, k, _)| h == hash && text(k) == Some(line))
            .map(|&(_, _, value)| value)
    }

    /// Remembers the line at `index` (hash `hash`) with `value`. The caller looked the line up
    /// first; were it there anyway, the older entry would keep answering (a cache may miss).
    /// A table filled to its capacity is emptied first (it never grows).
    pub(super) fn insert(&mut self, hash: u64, index: usize, value: usize) {
        if self.table.len() >= self.capacity {
            self.clear();
        }
        self.table
            .insert_unique(hash, (hash, index, value), |&(h, _, _)| h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_their_latest_value_through_growth_retain_and_clear() {
        let mut t = StrTable::default();
        let keys: Vec<String> = (0..5_000).map(|i| format!("key {i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            let h = t.hash(k);
            assert_eq!(t.get(h, k), None);
            t.insert(h, k, i);
        }
        assert_eq!(t.len(), keys.len());
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.get(t.hash(k), k), Some(i));
        }
        let h = t.hash("key 7");
        t.insert(h, "key 7", 70);
        assert_eq!(t.get(h, "key 7"), Some(70));
        assert_eq!(t.len(), keys.len());
        t.retain(|v| v % 2 == 0);
        for (i, k) in keys.iter().enumerate() {
            let want = match i {
                7 => Some(70),
                _ if i % 2 == 0 => Some(i),
                _ => None,
            };
            assert_eq!(t.get(t.hash(k), k), want, "{k}");
        }
        assert_eq!(t.get(t.hash(""), ""), None);
        t.insert(t.hash(""), "", 1);
        assert_eq!(t.get(t.hash(""), ""), Some(1));
        t.clear();
        assert_eq!((t.len(), t.key_bytes()), (0, 0));
        assert_eq!(t.get(t.hash("key 0"), "key 0"), None);
    }

    #[test]
    fn line_tables_find_lines_by_their_text_through_indices() {
        let lines: Vec<String> = (0..300).map(|i| format!("line {}", i % 100)).collect();
        let text = |k: usize| lines.get(k).map(String::as_str);
        let mut t = LineTable::with_capacity(100);
        for (i, l) in lines.iter().enumerate().take(100) {
            let h = t.hash(l);
            assert_eq!(t.get(h, l, text), None);
            t.insert(h, i, i * 10);
        }
        // Later copies of a line find the first one's value.
        for (i, l) in lines.iter().enumerate() {
            assert_eq!(t.get(t.hash(l), l, text), Some(i % 100 * 10), "{l}");
        }
        assert_eq!(t.get(t.hash("line 100"), "line 100", text), None);
        // Past its capacity's load the table starts afresh instead of growing.
        for (i, l) in lines.iter().enumerate().take(150).skip(100) {
            t.insert(t.hash(l), i, 0);
        }
        assert!(t.len() <= 100);
        t.clear();
        assert_eq!(t.get(t.hash("line 1"), "line 1", text), None);
    }

    #[test]
    fn equal_hashes_are_told_apart_by_the_key() {
        // Force every key onto one hash: lookups must still compare the text.
        let mut t = StrTable::default();
        for (i, k) in ["a", "b", "c", "ab"].iter().enumerate() {
            t.insert(42, k, i);
        }
        for (i, k) in ["a", "b", "c", "ab"].iter().enumerate() {
            assert_eq!(t.get(42, k), Some(i));
        }
        assert_eq!(t.get(42, "abc"), None);
    }
}
