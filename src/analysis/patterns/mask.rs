//! Tokenizing and masking: variable parts of a log line become `<*>`.
//!
//! Tokens borrow from the line ([`Piece`]): a masked token is `pre` + `<*>` + `post`, so
//! masking allocates nothing. Only templates (see `miner.rs`) own their text.

use super::scan::{
    flags_of, lead_len, trim_end_bytes, trim_end_class, Words, AT, BACKSLASH, COLON, DIGIT, LEAD,
    SLASH, SPECIAL, SPLIT, TRAIL,
};
use super::{MAX_CORE_BYTES, MAX_TOKENS, WILDCARD};

/// An owned template token: its text and whether the next token follows without whitespace.
/// `group` is the opening bracket (`(` or `[`) of a variable-only group folded into the
/// token (see [`tokenize_into`]), or 0; it does not take part in comparisons.
#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) text: String,
    pub(super) glued: bool,
    pub(super) group: u8,
}

/// One token of a line, borrowed from it: the text verbatim (`pre`) or, when `masked`,
/// `pre` + `<*>` + `post`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Piece<'a> {
    pub(super) pre: &'a str,
    pub(super) post: &'a str,
    pub(super) masked: bool,
    pub(super) glued: bool,
    pub(super) group: u8,
}

impl<'a> Piece<'a> {
    pub(super) fn plain(text: &'a str, glued: bool) -> Self {
        Piece {
            pre: text,
            post: "",
            masked: false,
            glued,
            group: 0,
        }
    }

    /// A masked token; brackets and punctuation longer than [`MAX_FRAME_BYTES`] are dropped
    /// so no token (and no template) grows with the line.
    pub(super) fn masked(pre: &'a str, post: &'a str, glued: bool) -> Self {
        let cap = |s: &'a str| if s.len() > MAX_FRAME_BYTES { "" } else { s };
        Piece {
            pre: cap(pre),
            post: cap(post),
            masked: true,
            glued,
            group: 0,
        }
    }

    /// The token's text length in bytes.
    pub(super) fn text_len(&self) -> usize {
        if self.masked {
            self.pre.len() + WILDCARD.len() + self.post.len()
        } else {
            self.pre.len()
        }
    }

    /// Whether the token's text is `text` (no allocation).
    pub(super) fn text_is(&self, text: &str) -> bool {
        if !self.masked {
            return self.pre == text;
        }
        text.len() == self.text_len()
            && text.starts_with(self.pre)
            && text[self.pre.len()..].starts_with(WILDCARD)
            && text.ends_with(self.post)
    }

    /// Appends the token's text to `out`.
    pub(super) fn push_text(&self, out: &mut String) {
        out.push_str(self.pre);
        if self.masked {
            out.push_str(WILDCARD);
            out.push_str(self.post);
        }
    }

    /// The owned token.
    pub(super) fn to_token(self) -> Token {
        let mut text = String::with_capacity(self.text_len());
        self.push_text(&mut text);
        Token {
            text,
            glued: self.glued,
            group: self.group,
        }
    }

    /// A literal word: not masked and not holding a `<*>`.
    pub(super) fn is_word(&self) -> bool {
        !self.masked && !self.pre.contains(WILDCARD)
    }
}

/// Whether template token `t` and line token `p` are equal (the folded group aside).
pub(super) fn same(t: &Token, p: &Piece) -> bool {
    t.glued == p.glued && p.text_is(&t.text)
}

/// `line` with its variable parts masked to `<*>` and whitespace normalised.
pub fn mask(line: &str) -> String {
    let mut pieces = Vec::new();
    tokenize_into(line, &mut pieces);
    let mut out = String::new();
    render_pieces(&pieces, &mut out);
    out
}

/// [`mask`] into a reused buffer (cleared first).
pub(super) fn mask_into(line: &str, out: &mut String) {
    let mut pieces = Vec::new();
    tokenize_into(line, &mut pieces);
    render_pieces(&pieces, out);
}

/// Renders a folded group (`(<*>)` or `[<*>]`) after a token.
fn push_group(group: u8, out: &mut String) {
    match group {
        b'(' => out.push_str(" (<*>)"),
        b'[' => out.push_str(" [<*>]"),
        _ => {}
    }
}

pub(super) fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        out.push_str(&t.text);
        push_group(t.group, &mut out);
        if !t.glued && i + 1 < tokens.len() {
            out.push(' ');
        }
    }
    out
}

/// Renders pieces into `out` (cleared first), as [`render`] does for tokens.
pub(super) fn render_pieces(pieces: &[Piece], out: &mut String) {
    out.clear();
    for (i, p) in pieces.iter().enumerate() {
        p.push_text(out);
        push_group(p.group, out);
        if !p.glued && i + 1 < pieces.len() {
            out.push(' ');
        }
    }
}

/// Longest bracket/punctuation run kept around a `<*>`.
const MAX_FRAME_BYTES: usize = 16;
/// Longest piece kept verbatim.
const MAX_PLAIN_BYTES: usize = 4 * MAX_CORE_BYTES;

/// Most words a bracketed group may span to be folded.
const MAX_GROUP_WORDS: usize = 4;

/// Splits `line` into masked tokens (into `out`, cleared first). Besides the word splitting
/// described in the module docs, two folds keep optional or unit-bearing quantities from
/// changing the token count:
/// * a unit of measure right after a masked number joins it (`512 KB` is one `<*> KB` token);
/// * a bracketed group of at most [`MAX_GROUP_WORDS`] words that are all variables (or units
///   after one), such as `(1.16 KB)` or `[worker-3]`, folds into the previous token and renders
///   as ` (<*>)`; a line with the group and one without it then have the same shape.
pub(super) fn tokenize_into<'a>(line: &'a str, out: &mut Vec<Piece<'a>>) {
    out.clear();
    let base = line.as_ptr() as usize;
    let mut words = Words::new(line);
    let mut truncated = false;
    while let Some((word, flags)) = words.next() {
        if out.len() >= MAX_TOKENS {
            truncated = true;
            break;
        }
        // A unit after a masked number (with nothing after the number) joins it.
        if let Some(last) = out.last_mut() {
            if last.masked
                && last.post.is_empty()
                && !last.glued
                && last.group == 0
                && is_unit(word)
                && number_before(line, base, last)
            {
                let from = last.post.as_ptr() as usize - base;
                let to = word.as_ptr() as usize - base + word.len();
                last.post = &line[from..to];
                continue;
            }
        }
        if let Some(open) = group_open(word) {
            if let Some(skip) = variable_group(word, open, words.clone()) {
                if let Some(last) = out.last_mut().filter(|l| !l.glued && l.group == 0) {
                    last.group = open;
                    for _ in 0..skip {
                        words.next();
                    }
                    continue;
                }
            }
        }
        push_word(word, flags, out);
    }
    if out.len() > MAX_TOKENS
        || (out.len() == MAX_TOKENS && (truncated || words.clone().next().is_some()))
    {
        out.truncate(MAX_TOKENS - 1);
        out.push(Piece::masked("", "", false));
    }
}

/// Whether the masked piece `last` ends a number (its core starts with a digit or sign).
fn number_before(line: &str, base: usize, last: &Piece) -> bool {
    // A frame dropped for length (see `Piece::masked`) is a `""` outside the line: no core to
    // look at (this used to underflow, panicking in debug builds and finding nothing in release).
    let Some(start) = (last.pre.as_ptr() as usize).checked_sub(base) else {
        return false;
    };
    line.as_bytes()
        .get(start.saturating_add(last.pre.len()))
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'))
}

fn group_open(word: &str) -> Option<u8> {
    match word.as_bytes().first() {
        Some(b'(') => Some(b'('),
        Some(b'[') => Some(b'['),
        _ => None,
    }
}

/// If `first` opens a group (with `open`) that closes within [`MAX_GROUP_WORDS`] words and
/// holds only variables (and units after them), how many *further* words it spans.
fn variable_group<'a>(
    first: &str,
    open: u8,
    mut rest: impl Iterator<Item = (&'a str, u16)>,
) -> Option<usize> {
    let close = if open == b'(' { ')' } else { ']' };
    let mut word = first;
    let mut prev_variable = false;
    for n in 0..MAX_GROUP_WORDS {
        let inner = if n == 0 { &word[1..] } else { word };
        let end = trim_end_bytes(inner, |b| matches!(b, b',' | b'.' | b';' | b':'));
        let (body, closes) = match end.strip_suffix(close) {
            Some(b) => (b, true),
            None => (end, false),
        };
        if body
            .bytes()
            .any(|b| matches!(b, b'(' | b')' | b'[' | b']' | b'='))
        {
            return None;
        }
        let (_, core, _) = peel(body);
        let variable = !core.is_empty() && is_variable(core);
        if !(variable || (prev_variable && is_unit(core))) {
            return None;
        }
        prev_variable = variable;
        if closes {
            return Some(n);
        }
        word = rest.next()?.0;
    }
    None
}

/// A unit of measure (`B`, `KB`, `ms`, `sec`, `%` …), with trailing punctuation allowed.
pub(super) fn is_unit(text: &str) -> bool {
    const UNITS: [&str; 24] = [
        "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "bytes", "ns", "us", "µs", "ms",
        "s", "sec", "secs", "seconds", "min", "mins", "minutes", "h", "hours", "%",
    ];
    // Every unit starts with one of these (`µ` with its UTF-8 lead byte 0xC2), none of which
    // is trimmed below, so the first byte of `text` decides most words at once.
    let starts = |b: u8| {
        matches!(
            b.to_ascii_lowercase(),
            b'b' | b'k' | b'm' | b'g' | b't' | b'n' | b'u' | 0xC2 | b's' | b'h' | b'%'
        )
    };
    if !text.as_bytes().first().is_some_and(|&b| starts(b)) {
        return false;
    }
    let core = trim_end_bytes(text, |b| matches!(b, b',' | b')' | b']' | b';' | b'.'));
    core.len() <= 7 && UNITS.iter().any(|u| core.eq_ignore_ascii_case(u))
}

/// Pushes the pieces of `word`, whose bytes' classes are `flags` (see [`flags_of`]).
///
/// Every path pushes its piece itself rather than returning one to push: a piece returned
/// through memory and reloaded whole stalls on store forwarding (its flags are written byte
/// by byte), which cost more than the masking of a plain word.
#[inline]
pub(super) fn push_word<'a>(word: &'a str, flags: u16, out: &mut Vec<Piece<'a>>) {
    // Most words have nothing to split on: one piece, masked once.
    if flags & SPLIT != 0 {
        push_split_word(word, out);
    } else if flags & (LEAD | TRAIL) != 0 || word.len() > MAX_PLAIN_BYTES {
        push_piece(word, false, false, out);
    } else if flags & (DIGIT | SPECIAL) == 0 {
        // Letters only (the most common word): a variable only when too long (hex ids and
        // numbers need a digit, every other shape a non-letter).
        if word.len() > MAX_CORE_BYTES {
            out.push(Piece::masked(&word[..0], &word[word.len()..], false));
        } else {
            out.push(Piece::plain(word, false));
        }
    } else if word.len() > MAX_CORE_BYTES || is_variable_with(word, Some(flags)) {
        // A word without brackets, quotes or trailing punctuation is its own core (no `=`,
        // `,` or `:` to trim, nothing to peel, so not quoted), and its classes are known.
        // Empty frames sliced from the word: the unit fold locates the core by pointer.
        out.push(Piece::masked(&word[..0], &word[word.len()..], false));
    } else {
        out.push(Piece::plain(word, false));
    }
}

/// [`push_word`] for a word holding `=`, `,` or `:` (kept out of line: the common words stay
/// in the caller's loop).
#[inline(never)]
fn push_split_word<'a>(word: &'a str, out: &mut Vec<Piece<'a>>) {
    let (lead, core, _) = peel(word);
    if !core.is_empty() && is_variable(core) {
        out.push(Piece::masked(lead, &word[lead.len() + core.len()..], false));
        return;
    }
    let mut start = 0;
    let mut after_eq = false;
    let bytes = word.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if out.len() >= MAX_TOKENS {
            break;
        }
        let json_key = b == b':' && i > 0 && bytes.get(i - 1) == Some(&b'"');
        // `name:123`: a label glued to a number (`onExtend:1514038550000`, `retry:3`).
        let key_number = b == b':' && i > 0 && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if (b == b'=' || b == b',' || json_key || key_number) && i + 1 < bytes.len() {
            // The cut is after an ASCII byte, so it is a char boundary.
            push_piece(&word[start..=i], after_eq, true, out);
            after_eq = b == b'=';
            start = i + 1;
        }
    }
    push_piece(&word[start..], after_eq, false, out);
}

/// Masks one piece (keeping its punctuation and trailing `=`, `,` or `:`) and pushes it.
fn push_piece<'a>(piece: &'a str, after_eq: bool, glued: bool, out: &mut Vec<Piece<'a>>) {
    let body = trim_end_bytes(piece, |b| matches!(b, b'=' | b',' | b':'));
    let (lead, core, trail) = peel(body);
    let quoted = (lead.ends_with('"') && trail.starts_with('"'))
        || (lead.ends_with('\'') && trail.starts_with('\''));
    if piece.len() > MAX_PLAIN_BYTES {
        // Only long runs of punctuation get here (a longer core is masked below anyway).
        out.push(Piece::masked("", "", glued));
    } else if core.is_empty() && !quoted {
        out.push(Piece::plain(piece, glued));
    } else if (quoted && after_eq) || core.len() > MAX_CORE_BYTES || is_variable(core) {
        out.push(Piece::masked(
            lead,
            &piece[lead.len() + core.len()..],
            glued,
        ));
    } else {
        out.push(Piece::plain(piece, glued));
    }
}

/// Splits `s` into leading brackets/quotes, the core, and trailing brackets/quotes/punctuation.
pub(super) fn peel(s: &str) -> (&str, &str, &str) {
    let (lead, rest) = s.split_at(lead_len(s.as_bytes()));
    let core = trim_end_class(rest, TRAIL);
    (lead, core, &rest[core.len()..])
}

/// Whether a token core is a variable. Byte scans only; the cheap rejections come first so
/// ordinary words cost one pass.
pub(super) fn is_variable(core: &str) -> bool {
    is_variable_with(core, None)
}

/// [`is_variable`] with the classes of `core`'s bytes (see [`flags_of`]) when already known
/// (otherwise they are computed here, unless the first bytes decide).
fn is_variable_with(core: &str, known: Option<u16>) -> bool {
    let b = core.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    let unsigned = if matches!(first, b'-' | b'+') {
        &b[1..]
    } else {
        b
    };
    if unsigned.first().is_some_and(u8::is_ascii_digit) || core == WILDCARD {
        return true;
    }
    // One pass over the bytes decides which of the rarer shapes are possible at all: each
    // test below runs only if the characters it needs are there.
    let flags = known.unwrap_or_else(|| flags_of(b));
    let has = |bit: u16| flags & bit != 0;
    let (digits, specials) = (has(DIGIT), has(SPECIAL));
    if !specials && !digits {
        // Letters only (the most common word): a variable only if it is hex with a digit,
        // which needs a digit, or a `0x` prefix, which needs one too.
        return false;
    }
    is_hex_id(core)
        || (specials
            && ((core.len() == 36 && is_uuid(core))
                || (has(COLON) && (is_ipv6(core) || is_host_port(core)))
                || (has(COLON) && has(SLASH) && core.contains("://"))
                || (has(SLASH | BACKSLASH) && is_path(core))
                || (has(AT) && is_email(core))))
        || (digits && has_numeric_part(core))
}

pub(super) fn is_hex_id(s: &str) -> bool {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit());
    }
    s.len() >= 6
        && s.bytes().all(|c| c.is_ascii_hexdigit())
        && s.bytes().any(|c| c.is_ascii_digit())
}

pub(super) fn is_uuid(s: &str) -> bool {
    const LENS: [usize; 5] = [8, 4, 4, 4, 12];
    if s.len() != 36 {
        return false;
    }
    let mut n = 0;
    for g in s.split('-') {
        if n >= LENS.len() || g.len() != LENS[n] || !g.bytes().all(|c| c.is_ascii_hexdigit()) {
            return false;
        }
        n += 1;
    }
    n == LENS.len()
}

pub(super) fn is_ipv6(s: &str) -> bool {
    s.bytes().filter(|c| *c == b':').count() >= 2
        && s.bytes()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.' | b'[' | b']'))
}

pub(super) fn is_host_port(s: &str) -> bool {
    let Some((host, port)) = s.rsplit_once(':') else {
        return false;
    };
    !host.is_empty()
        && (1..=5).contains(&port.len())
        && port.bytes().all(|c| c.is_ascii_digit())
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

pub(super) fn is_path(s: &str) -> bool {
    let segment_ok = |seg: &str| {
        !seg.is_empty()
            && seg
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
    };
    (s.len() > 1 && s.starts_with('/'))
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with("~/")
        || (s.contains('\\') && s.contains(':'))
        || (s.split('/').nth(2).is_some() && s.split('/').all(segment_ok))
}

pub(super) fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !domain.starts_with('.')
    })
}

/// `worker-3`, `v1.2.3`, `api-7d9f8c6b5-x2x9k`: a purely numeric part in a compound name, or
/// a part of five or more characters with at least two digits.
pub(super) fn has_numeric_part(s: &str) -> bool {
    // One pass over the bytes (the separators are ASCII, so byte parts are the `str` parts).
    let bytes = s.as_bytes();
    let compound = bytes.iter().any(|c| matches!(c, b'-' | b'_' | b'.'));
    let (mut len, mut digits, mut alnum) = (0usize, 0usize, true);
    for &c in bytes.iter().chain(std::iter::once(&b'.')) {
        if matches!(c, b'-' | b'_' | b'.') {
            if (compound && len > 0 && digits == len) || (len >= 5 && digits >= 2 && alnum) {
                return true;
            }
            (len, digits, alnum) = (0, 0, true);
        } else {
            len += 1;
            digits += usize::from(c.is_ascii_digit());
            alnum &= c.is_ascii_alphanumeric();
        }
    }
    false
}
