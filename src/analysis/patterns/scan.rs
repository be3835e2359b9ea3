//! Byte-level scanning for the tokenizer in `mask.rs`: one 256-entry class table answers, for
//! each byte, every question the masker asks (digit? punctuation? a character that a URL, a
//! path, an e-mail address or `host:port` needs? a split point? peelable?), so a word is
//! classified by OR-ing table entries in one branch-free pass; and [`Words`] splits a line on
//! whitespace exactly as [`str::split_whitespace`] does, without decoding ASCII.

/// An ASCII digit.
pub(super) const DIGIT: u16 = 1;
/// Neither an ASCII letter nor a digit (every byte of a non-ASCII character counts).
pub(super) const SPECIAL: u16 = 1 << 1;
/// `:`
pub(super) const COLON: u16 = 1 << 2;
/// `/`
pub(super) const SLASH: u16 = 1 << 3;
/// `\`
pub(super) const BACKSLASH: u16 = 1 << 4;
/// `@`
pub(super) const AT: u16 = 1 << 5;
/// A bracket or quote peeled off the start of a word: `( [ { < " '`.
pub(super) const LEAD: u16 = 1 << 6;
/// Peeled off the end of a core: `) ] } > " ' . , ; : ! ?`.
pub(super) const TRAIL: u16 = 1 << 7;
/// A byte a word may be split after: `= , :`.
pub(super) const SPLIT: u16 = 1 << 8;
/// ASCII whitespace, or the lead byte of a non-ASCII whitespace character (0xC2, 0xE1, 0xE2,
/// 0xE3; which of those characters really is whitespace is decided by decoding it).
pub(super) const SPACE: u16 = 1 << 9;

const fn class(b: u8) -> u16 {
    let mut c = 0;
    if b.is_ascii_digit() {
        c |= DIGIT;
    } else if !b.is_ascii_alphabetic() {
        c |= SPECIAL;
    }
    c |= match b {
        b':' => COLON | TRAIL | SPLIT,
        b'/' => SLASH,
        b'\\' => BACKSLASH,
        b'@' => AT,
        b'(' | b'[' | b'{' | b'<' => LEAD,
        b'"' | b'\'' => LEAD | TRAIL,
        b')' | b']' | b'}' | b'>' | b'.' | b';' | b'!' | b'?' => TRAIL,
        b',' => TRAIL | SPLIT,
        b'=' => SPLIT,
        b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | 0xC2 | 0xE1 | 0xE2 | 0xE3 => SPACE,
        _ => 0,
    };
    c
}

const CLASS: [u16; 256] = {
    let mut t = [0; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = class(i as u8);
        i += 1;
    }
    t
};

/// The class bits of one byte.
#[inline]
pub(super) fn class_of(b: u8) -> u16 {
    CLASS[usize::from(b)]
}

/// The union of the class bits of `bytes`.
#[inline]
pub(super) fn flags_of(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0, |f, &b| f | class_of(b))
}

/// Leading bytes of class [`LEAD`] (brackets and quotes).
#[inline]
pub(super) fn lead_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|&&b| class_of(b) & LEAD != 0)
        .count()
}

/// `s` without its trailing bytes of class `bit` (all ASCII, so the cut is a boundary).
#[inline]
pub(super) fn trim_end_class(s: &str, bit: u16) -> &str {
    trim_end_bytes(s, |b| class_of(b) & bit != 0)
}

/// `s` without its trailing ASCII bytes that match `strip` (as `trim_end_matches` with ASCII
/// characters: a byte of a multi-byte character is never ASCII, so the cut is a boundary).
#[inline]
pub(super) fn trim_end_bytes(s: &str, strip: impl Fn(u8) -> bool) -> &str {
    let b = s.as_bytes();
    let mut end = b.len();
    while end > 0 && strip(b[end - 1]) {
        end -= 1;
    }
    s.get(..end).unwrap_or(s)
}

/// The whitespace-separated words of a line, exactly as [`str::split_whitespace`] yields them
/// (Unicode `White_Space`), scanned byte by byte: an ASCII byte is classified directly, and
/// only the lead bytes of the few non-ASCII whitespace characters (U+0085, U+00A0, U+1680,
/// U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) decode a character.
#[derive(Clone)]
pub(super) struct Words<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Words<'a> {
    pub(super) fn new(line: &'a str) -> Self {
        Words { line, at: 0 }
    }

    /// The byte length of the whitespace character starting at `at`, or 0 if there is none.
    #[inline]
    fn space_len(&self, at: usize) -> usize {
        let Some(&b) = self.line.as_bytes().get(at) else {
            return 0;
        };
        if b < 0x80 {
            return usize::from((b as char).is_whitespace());
        }
        if !matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3) {
            return 0;
        }
        match self.line.get(at..).and_then(|rest| rest.chars().next()) {
            Some(c) if c.is_whitespace() => c.len_utf8(),
            _ => 0,
        }
    }
}

impl<'a> Iterator for Words<'a> {
    /// A word and the union of its bytes' classes (see [`flags_of`]).
    type Item = (&'a str, u16);

    #[inline]
    fn next(&mut self) -> Option<(&'a str, u16)> {
        let bytes = self.line.as_bytes();
        let mut at = self.at;
        // An ASCII byte of class SPACE is whitespace; a non-ASCII one only leads a character
        // that may be (decoded to tell).
        while let Some(&b) = bytes.get(at) {
            if class_of(b) & SPACE == 0 {
                break;
            }
            match if b < 0x80 { 1 } else { self.space_len(at) } {
                0 => break,
                n => at += n,
            }
        }
        let start = at;
        // A byte that cannot start a space moves on by one (continuation bytes included).
        let mut flags = 0;
        while let Some(&b) = bytes.get(at) {
            let c = class_of(b);
            if c & SPACE != 0 && (b < 0x80 || self.space_len(at) != 0) {
                break;
            }
            flags |= c;
            at += 1;
        }
        self.at = at;
        if at == start {
            return None;
        }
        // Only SPACE-class lead bytes that were not spaces were OR-ed in: drop that bit.
        self.line.get(start..at).map(|w| (w, flags & !SPACE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_as_split_whitespace_for_every_character() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let line = format!("a{c}b {c}{c} x{c}");
            let ours: Vec<&str> = Words::new(&line).map(|(w, _)| w).collect();
            for (w, flags) in Words::new(&line) {
                assert_eq!(flags, flags_of(w.as_bytes()) & !SPACE);
            }
            let std: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(ours, std, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn ascii_words_match_the_byte_scan() {
        // Every ASCII byte at every offset of an eight-byte chunk, inside and around words of
        // several lengths, against `split_whitespace` and `flags_of`.
        for b in 0..128u8 {
            for len in [1, 5, 7, 8, 9, 15, 16, 17, 30] {
                for at in 0..len {
                    let mut word = vec![b'a'; len];
                    word[at] = b;
                    let Ok(mut line) = String::from_utf8(word) else {
                        continue;
                    };
                    line.push_str(" xy\tZ9 q");
                    let ours: Vec<(&str, u16)> = Words::new(&line).collect();
                    let std: Vec<(&str, u16)> = line
                        .split_whitespace()
                        .map(|w| (w, flags_of(w.as_bytes()) & !SPACE))
                        .collect();
                    assert_eq!(ours, std, "byte {b:#x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn classes_match_their_definitions() {
        for b in 0..=255u8 {
            let c = class_of(b);
            assert_eq!(c & DIGIT != 0, b.is_ascii_digit());
            assert_eq!(c & SPECIAL != 0, !b.is_ascii_alphanumeric());
            assert_eq!(c & LEAD != 0, b"([{<\"'".contains(&b));
            assert_eq!(c & TRAIL != 0, b")]}>\"'.,;:!?".contains(&b));
            assert_eq!(c & SPLIT != 0, b"=,:".contains(&b));
            let space_lead = matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3);
            assert_eq!(
                c & SPACE != 0,
                (b as char).is_ascii_whitespace() || b == 0x0B || space_lead
            );
        }
    }
}
