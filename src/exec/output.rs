//! The bounded output buffer: every byte goes through the SHA-256 hasher and the byte counter, but
//! only the first `limit` bytes are kept, so 50 MB of output costs `limit` bytes of memory.

use sha2::{Digest, Sha256};

/// First allocation of the kept buffer; it doubles from there up to the limit.
const INITIAL_CAPACITY: usize = 16 * 1024;

/// What a finished capture hands back to [`super::ExecOutcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Captured {
    pub output: String,
    pub truncated: bool,
    pub total_bytes: u64,
    pub sha256: String,
}

/// Streams output into a kept prefix, a byte counter and a hasher.
pub(crate) struct OutputCapture {
    kept: Vec<u8>,
    limit: usize,
    total: u64,
    hasher: Sha256,
}

impl OutputCapture {
    pub fn new(limit: usize) -> OutputCapture {
        OutputCapture {
            // Grown on demand (a huge limit must not allocate up front), never past `limit`.
            kept: Vec::with_capacity(limit.min(INITIAL_CAPACITY)),
            limit,
            total: 0,
            hasher: Sha256::new(),
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.total = self.total.saturating_add(chunk.len() as u64);
        let room = self.limit.saturating_sub(self.kept.len());
        let take = room.min(chunk.len());
        let needed = self.kept.len() + take;
        if needed > self.kept.capacity() {
            // Double, but never beyond the limit: `reserve_exact` keeps the bound tight.
            let target = needed
                .max(self.kept.capacity().saturating_mul(2))
                .min(self.limit);
            self.kept.reserve_exact(target - self.kept.len());
        }
        self.kept.extend_from_slice(&chunk[..take]);
    }

    #[cfg(test)]
    fn kept_capacity(&self) -> usize {
        self.kept.capacity()
    }

    pub fn finish(self) -> Captured {
        let truncated = self.total > self.kept.len() as u64;
        let output = render_output(&self.kept, self.total, truncated);
        Captured {
            output,
            truncated,
            total_bytes: self.total,
            sha256: format!("{:x}", self.hasher.finalize()),
        }
    }
}

/// Lowercase hex SHA-256 of no bytes at all (what an interactive run reports).
pub(crate) fn empty_sha256() -> String {
    format!("{:x}", Sha256::digest([]))
}

/// The kept bytes as text. When the output was cut, a UTF-8 sequence split by the cut is dropped
/// and the marker line is appended. Invalid UTF-8 becomes U+FFFD (so the text can be a little
/// longer than the raw bytes it stands for).
pub(crate) fn render_output(kept: &[u8], total: u64, truncated: bool) -> String {
    if !truncated {
        return String::from_utf8_lossy(kept).into_owned();
    }
    let cut = char_boundary_prefix(kept);
    let mut text = String::from_utf8_lossy(&kept[..cut]).into_owned();
    text.push_str(&truncation_marker(total, cut));
    text
}

pub(crate) fn truncation_marker(total: u64, kept: usize) -> String {
    format!("\n[pagerpilot: output truncated: {total} bytes total, {kept} kept]\n")
}

/// Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence which the
/// cut left incomplete. Bytes that were invalid anyway are kept (the lossy decoder marks them).
pub(crate) fn char_boundary_prefix(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // A UTF-8 sequence is at most 4 bytes, so its lead byte is among the last 4.
    for start in (len.saturating_sub(4)..len).rev() {
        let byte = bytes[start];
        if byte & 0xC0 == 0x80 {
            continue; // continuation byte: keep looking for the lead
        }
        let needed = match byte {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 1, // ASCII or a byte that can never start a sequence
        };
        return if len - start < needed { start } else { len };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_keeps_complete_text() {
        assert_eq!(char_boundary_prefix(b""), 0);
        assert_eq!(char_boundary_prefix(b"abc"), 3);
        assert_eq!(char_boundary_prefix("abcé".as_bytes()), 5);
        assert_eq!(char_boundary_prefix("a€".as_bytes()), 4);
        assert_eq!(char_boundary_prefix("a🚨".as_bytes()), 5);
    }

    #[test]
    fn prefix_drops_a_split_sequence() {
        let e_acute = "é".as_bytes(); // 2 bytes
        let euro = "€".as_bytes(); // 3 bytes
        let siren = "🚨".as_bytes(); // 4 bytes
        assert_eq!(char_boundary_prefix(&[b'a', e_acute[0]]), 1);
        assert_eq!(char_boundary_prefix(&[b'a', euro[0], euro[1]]), 1);
        assert_eq!(char_boundary_prefix(&[b'a', euro[0]]), 1);
        assert_eq!(
            char_boundary_prefix(&[b'a', siren[0], siren[1], siren[2]]),
            1
        );
        assert_eq!(char_boundary_prefix(&[siren[0]]), 0);
    }

    #[test]
    fn prefix_keeps_bytes_that_were_invalid_anyway() {
        assert_eq!(char_boundary_prefix(&[b'a', 0xFF]), 2);
        assert_eq!(char_boundary_prefix(&[b'a', 0x80, 0x80, 0x80, 0x80]), 5);
    }

    #[test]
    fn short_output_is_kept_whole_without_marker() {
        let mut capture = OutputCapture::new(16);
        capture.push(b"hello ");
        capture.push(b"world\n");
        let done = capture.finish();
        assert_eq!(done.output, "hello world\n");
        assert!(!done.truncated);
        assert_eq!(done.total_bytes, 12);
        assert_eq!(
            done.sha256,
            format!("{:x}", Sha256::digest(b"hello world\n"))
        );
    }

    #[test]
    fn output_exactly_at_the_limit_is_not_truncated() {
        let mut capture = OutputCapture::new(4);
        capture.push(b"abcd");
        let done = capture.finish();
        assert_eq!(done.output, "abcd");
        assert!(!done.truncated);
    }

    #[test]
    fn cut_inside_a_character_drops_it_and_reports_kept_bytes() {
        let mut capture = OutputCapture::new(5);
        capture.push("abcdéf".as_bytes()); // 7 bytes; the limit splits 'é'
        let done = capture.finish();
        assert!(done.truncated);
        assert_eq!(done.total_bytes, 7);
        assert_eq!(
            done.output,
            "abcd\n[pagerpilot: output truncated: 7 bytes total, 4 kept]\n"
        );
        assert_eq!(
            done.sha256,
            format!("{:x}", Sha256::digest("abcdéf".as_bytes()))
        );
    }

    #[test]
    fn memory_stays_at_the_limit_for_large_output() {
        let limit = 100_000; // above INITIAL_CAPACITY, so the buffer has to grow
        let mut capture = OutputCapture::new(limit);
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..160 {
            capture.push(&chunk); // 10 MiB in total
        }
        assert!(capture.kept_capacity() <= limit);
        let done = capture.finish();
        assert_eq!(done.total_bytes, 160 * 64 * 1024);
        assert!(done.output.starts_with(&"x".repeat(limit)));
        assert_eq!(
            done.output.len(),
            limit + truncation_marker(done.total_bytes, limit).len()
        );
    }

    #[test]
    fn zero_limit_keeps_only_the_marker() {
        let mut capture = OutputCapture::new(0);
        capture.push(b"abc");
        let done = capture.finish();
        assert_eq!(done.output, truncation_marker(3, 0));
        assert!(done.truncated);
    }

    #[test]
    fn empty_digest_is_the_well_known_value() {
        assert_eq!(
            empty_sha256(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
