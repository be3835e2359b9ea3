//! A bounded text → cluster map for the miner's two short-cut caches (raw lines and masked
//! shapes), built for the per-line path:
//! * a key is hashed **once** per line: [`StrTable::hash`] gives the hash, and both the lookup
//!   and a later insert of the same key take it (a `HashMap<String, _>` hashes again to insert);
//! * keys live in one arena (`bytes`), not one heap allocation each, so filling the table and
//!   emptying it costs no `malloc`/`free` per line;
//! * open addressing with linear probing over a power-of-two slot array kept at most half full,
//!   each slot holding the entry's index and the low bits of its hash' upper half, so a probe
//!   compares key bytes only when those bits match.
//!
//! The hash is `foldhash`'s fast hash with a random per-table seed, as for the miner's other
//! maps. The table never grows past the entries its owner allows (it checks [`StrTable::len`]).

use std::hash::BuildHasher;

/// Slots before the first growth (a fresh miner does not rehash on its first lines).
const INITIAL_SLOTS: usize = 1 << 10;

/// One key: its place in the arena, its hash and its value.
#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    start: usize,
    len: usize,
    value: usize,
}

/// Text → `usize`, see the module docs.
#[derive(Default)]
pub(super) struct StrTable {
    seed: foldhash::fast::RandomState,
    /// `0` for an empty slot, else `1 + entry index` in the low 32 bits and 32 bits of the
    /// entry's hash in the high ones.
    slots: Vec<u64>,
    entries: Vec<Entry>,
    bytes: String,
}

impl StrTable {
    /// The hash of `key` for [`StrTable::get`] and [`StrTable::insert`].
    #[inline]
    pub(super) fn hash(&self, key: &str) -> u64 {
        self.seed.hash_one(key)
    }

    /// Keys held.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Bytes of key text held (the arena's length).
    #[cfg(test)]
    pub(super) fn key_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Forgets every key (keeping the allocations).
    pub(super) fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = 0);
        self.entries.clear();
        self.bytes.clear();
    }

    fn key(&self, e: &Entry) -> &str {
        self.bytes.get(e.start..e.start + e.len).unwrap_or("")
    }

    /// The slot of `key` (with `hash`): `Ok` where it is, or `Err` the empty slot it would take.
    /// Needs a non-empty slot array with at least one empty slot.
    fn find(&self, hash: u64, key: &str) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let tag = hash >> 32;
        let mut i = (hash as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return Err(i);
            }
            if s >> 32 == tag {
                let e = &self.entries[(s & 0xFFFF_FFFF) as usize - 1];
                if e.hash == hash && self.key(e) == key {
                    return Ok(i);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The value of `key`, whose hash is `hash` (from [`StrTable::hash`]).
    #[inline]
    pub(super) fn get(&self, hash: u64, key: &str) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let s = self.find(hash, key).ok()?;
        let e = self.slots[s] & 0xFFFF_FFFF;
        Some(self.entries[e as usize - 1].value)
    }

    /// Sets the value of `key` (hash `hash`, from [`StrTable::hash`]).
    pub(super) fn insert(&mut self, hash: u64, key: &str, value: usize) {
        if self.slots.is_empty() || (self.entries.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        match self.find(hash, key) {
            Ok(s) => {
                let e = (self.slots[s] & 0xFFFF_FFFF) as usize - 1;
                self.entries[e].value = value;
            }
            Err(s) => {
                let start = self.bytes.len();
                self.bytes.push_str(key);
                self.entries.push(Entry {
                    hash,
                    start,
                    len: key.len(),
                    value,
                });
                self.slots[s] = slot(hash, self.entries.len());
            }
        }
    }

    /// Keeps only the keys whose value passes `keep` (compacting the arena).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let old = std::mem::take(&mut self.entries);
        let text = std::mem::take(&mut self.bytes);
        for e in old.into_iter().filter(|e| keep(e.value)) {
            let start = self.bytes.len();
            self.bytes
                .push_str(text.get(e.start..e.start + e.len).unwrap_or(""));
            self.entries.push(Entry { start, ..e });
        }
        self.rebuild(self.slots.len());
    }

    /// Doubles the slot array (or creates it).
    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(INITIAL_SLOTS);
        self.rebuild(n);
    }

    /// Re-places every entry in a slot array of `n` slots (a power of two, or 0 for none).
    fn rebuild(&mut self, n: usize) {
        self.slots.clear();
        self.slots.resize(n, 0);
        if n == 0 {
            return;
        }
        let mask = n - 1;
        for (k, e) in self.entries.iter().enumerate() {
            let mut i = (e.hash as usize) & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot(e.hash, k + 1);
        }
    }
}

/// A raw-line cache for one batch of lines held by the caller (see `batch.rs`): line text →
/// value, where an entry holds the line's **index** in the caller's slice instead of a copy.
/// Same probing as [`StrTable`]; sized up front and never grown past its capacity's load.
pub(super) struct LineTable {
    seed: foldhash::fast::RandomState,
    /// As in [`StrTable`]: `0` empty, else `1 + entry index` and 32 bits of the hash.
    slots: Vec<u64>,
    /// (line index, value).
    entries: Vec<(usize, usize)>,
}

impl LineTable {
    /// A table for up to `entries` lines before it grows.
    pub(super) fn with_capacity(entries: usize) -> Self {
        let n = entries.saturating_mul(2).next_power_of_two().max(16);
        LineTable {
            seed: foldhash::fast::RandomState::default(),
            slots: vec![0; n],
            entries: Vec::with_capacity(entries),
        }
    }

    #[inline]
    pub(super) fn hash(&self, line: &str) -> u64 {
        self.seed.hash_one(line)
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = 0);
        self.entries.clear();
    }

    /// The slot of `line` (`Ok`), or the empty slot it would take (`Err`); `text` gives the
    /// line at an index.
    fn find<'t>(
        &self,
        hash: u64,
        line: &str,
        text: impl Fn(usize) -> Option<&'t str>,
    ) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let tag = hash >> 32;
        let mut i = (hash as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return Err(i);
            }
            if s >> 32 == tag {
                let (k, _) = self.entries[(s & 0xFFFF_FFFF) as usize - 1];
                if text(k) == Some(line) {
                    return Ok(i);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The value of `line` (hash `hash`), whose earlier occurrences `text` gives by index.
    #[inline]
    pub(super) fn get<'t>(
        &self,
        hash: u64,
        line: &str,
        text: impl Fn(usize) -> Option<&'t str>,
    ) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let s = self.find(hash, line, text).ok()?;
        Some(self.entries[(self.slots[s] & 0xFFFF_FFFF) as usize - 1].1)
    }

    /// Remembers the line at `index` (hash `hash`) with `value`. The caller looked the line up
    /// first; were it there anyway, the older entry would keep answering (a cache may miss).
    /// A table filled to its capacity's load is emptied first (it never grows).
    pub(super) fn insert(&mut self, hash: u64, index: usize, value: usize) {
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            self.clear();
        }
        self.entries.push((index, value));
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot(hash, self.entries.len());
    }
}

/// A slot for entry number `index` (1-based) with `hash`.
#[inline]
fn slot(hash: u64, index: usize) -> u64 {
    (hash >> 32) << 32 | (index as u64 & 0xFFFF_FFFF)
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
        assert!(t.len() <= 128);
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
