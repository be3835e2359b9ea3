//! Mining a whole batch of lines that the caller holds in memory ([`Miner::add_lines`], used by
//! `pagerpilot patterns`, the LogHub harness and the benches).
//!
//! Same results as calling [`Miner::add`] on each line, with a cheaper raw-line short-cut: the
//! miner's own raw-line cache copies every line it remembers (it must outlive the caller's
//! text), while here the lines stay in the caller's slice and the cache holds their index
//! ([`LineTable`]), so a line that is not a verbatim repeat costs no copy and the batch touches
//! far less fresh memory. The cache keeps the miner's rule: an entry exists only while the
//! line's shape is in the shape cache, pointing to the same cluster; whenever a shape entry is
//! dropped or replaced the miner bumps its epoch, and the whole batch cache is emptied.

use super::super::table::LineTable;
use super::{Miner, PatternRef, CACHE_ENTRIES};

impl Miner {
    /// Adds every line of `lines` in order and returns each one's pattern; an empty or
    /// whitespace-only line is skipped (`None`). Equivalent to [`Miner::add`] per line.
    pub fn add_lines<S: AsRef<str>>(&mut self, lines: &[S]) -> Vec<Option<PatternRef>> {
        let mut seen = LineTable::with_capacity(lines.len().min(CACHE_ENTRIES));
        let mut epoch = self.epoch;
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let line = line.as_ref();
                if line.trim_start().is_empty() {
                    return None;
                }
                self.clock += 1;
                let hash = seen.hash(line);
                let cached = seen.get(hash, line, |k| lines.get(k).map(AsRef::as_ref));
                if let Some(r) = self.raw_hit(cached, 1) {
                    return Some(r);
                }
                let (r, cacheable) = self.add_shape(line, 1);
                if self.epoch != epoch {
                    seen.clear();
                    epoch = self.epoch;
                }
                if cacheable {
                    if seen.len() >= CACHE_ENTRIES {
                        seen.clear();
                    }
                    seen.insert(hash, i, r.0);
                }
                Some(r)
            })
            .collect()
    }
}
