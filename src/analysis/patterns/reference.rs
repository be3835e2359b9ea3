//! The tokenizer and masker as they were before the one-pass rewrite of `mask.rs`, kept
//! (test builds only) as the reference the new one must agree with token for token: see the
//! differential tests in `tests.rs`. Not used by the product; do not optimise it.

#![allow(dead_code)]

use super::mask::Piece;
use super::{MAX_CORE_BYTES, MAX_TOKENS, WILDCARD};

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
    let mut words = line.split_whitespace().peekable();
    let mut truncated = false;
    while let Some(word) = words.next() {
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
        push_word(word, out);
    }
    if out.len() > MAX_TOKENS || (out.len() == MAX_TOKENS && (truncated || words.peek().is_some()))
    {
        out.truncate(MAX_TOKENS - 1);
        out.push(masked_piece("", "", false));
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
    mut rest: impl Iterator<Item = &'a str>,
) -> Option<usize> {
    let close = if open == b'(' { ')' } else { ']' };
    let mut word = first;
    let mut prev_variable = false;
    for n in 0..MAX_GROUP_WORDS {
        let inner = if n == 0 { &word[1..] } else { word };
        let end = inner.trim_end_matches([',', '.', ';', ':']);
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
        word = rest.next()?;
    }
    None
}

/// A unit of measure (`B`, `KB`, `ms`, `sec`, `%` …), with trailing punctuation allowed.
fn is_unit(text: &str) -> bool {
    const UNITS: [&str; 24] = [
        "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "bytes", "ns", "us", "µs", "ms",
        "s", "sec", "secs", "seconds", "min", "mins", "minutes", "h", "hours", "%",
    ];
    let core = text.trim_end_matches([',', ')', ']', ';', '.']);
    core.len() <= 7 && UNITS.iter().any(|u| core.eq_ignore_ascii_case(u))
}

fn push_word<'a>(word: &'a str, out: &mut Vec<Piece<'a>>) {
    // Most words have nothing to split on: one piece, masked once.
    if !word.bytes().any(|b| matches!(b, b'=' | b',' | b':')) {
        out.push(mask_piece(word, false, false));
        return;
    }
    let (lead, core, _) = peel(word);
    if !core.is_empty() && is_variable(core) {
        out.push(masked_piece(lead, &word[lead.len() + core.len()..], false));
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
            out.push(mask_piece(&word[start..=i], after_eq, true));
            after_eq = b == b'=';
            start = i + 1;
        }
    }
    out.push(mask_piece(&word[start..], after_eq, false));
}

/// Masks one piece (keeping its punctuation and trailing `=`, `,` or `:`).
fn mask_piece(piece: &str, after_eq: bool, glued: bool) -> Piece<'_> {
    let body = piece.trim_end_matches(['=', ',', ':']);
    let (lead, core, trail) = peel(body);
    let quoted = (lead.ends_with('"') && trail.starts_with('"'))
        || (lead.ends_with('\'') && trail.starts_with('\''));
    if piece.len() > MAX_PLAIN_BYTES {
        // Only long runs of punctuation get here (a longer core is masked below anyway).
        return masked_piece("", "", glued);
    }
    if core.is_empty() && !quoted {
        return plain_piece(piece, glued);
    }
    if (quoted && after_eq) || core.len() > MAX_CORE_BYTES || is_variable(core) {
        masked_piece(lead, &piece[lead.len() + core.len()..], glued)
    } else {
        plain_piece(piece, glued)
    }
}

/// Splits `s` into leading brackets/quotes, the core, and trailing brackets/quotes/punctuation.
fn peel(s: &str) -> (&str, &str, &str) {
    let rest = s.trim_start_matches(['(', '[', '{', '<', '"', '\'']);
    let lead = &s[..s.len() - rest.len()];
    let core = rest.trim_end_matches([')', ']', '}', '>', '"', '\'', '.', ',', ';', ':', '!', '?']);
    let trail = &rest[core.len()..];
    (lead, core, trail)
}

/// Whether a token core is a variable. Byte scans only; the cheap rejections come first so
/// ordinary words cost one pass.
fn is_variable(core: &str) -> bool {
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
    // One pass over the bytes decides which of the rarer shapes are possible at all.
    let mut digits = 0usize;
    let mut specials = false;
    for &c in b {
        if c.is_ascii_digit() {
            digits += 1;
        } else if !c.is_ascii_alphabetic() {
            specials = true;
        }
    }
    if !specials && digits == 0 {
        // Letters only (the most common word): a variable only if it is hex with a digit,
        // which needs a digit, or a `0x` prefix, which needs one too.
        return false;
    }
    is_hex_id(core)
        || (specials
            && (is_uuid(core)
                || is_ipv6(core)
                || is_host_port(core)
                || core.contains("://")
                || is_path(core)
                || is_email(core)))
        || (digits > 0 && has_numeric_part(core))
}

fn is_hex_id(s: &str) -> bool {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit());
    }
    s.len() >= 6
        && s.bytes().all(|c| c.is_ascii_hexdigit())
        && s.bytes().any(|c| c.is_ascii_digit())
}

fn is_uuid(s: &str) -> bool {
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

fn is_ipv6(s: &str) -> bool {
    s.bytes().filter(|c| *c == b':').count() >= 2
        && s.bytes()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.' | b'[' | b']'))
}

fn is_host_port(s: &str) -> bool {
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

fn is_path(s: &str) -> bool {
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

fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !domain.starts_with('.')
    })
}

/// `worker-3`, `v1.2.3`, `api-7d9f8c6b5-x2x9k`: a purely numeric part in a compound name, or
/// a part of five or more characters with at least two digits.
fn has_numeric_part(s: &str) -> bool {
    let compound = s.bytes().any(|c| matches!(c, b'-' | b'_' | b'.'));
    s.split(['-', '_', '.']).any(|p| {
        let digits = p.bytes().filter(u8::is_ascii_digit).count();
        (compound && !p.is_empty() && digits == p.len())
            || (p.len() >= 5 && digits >= 2 && p.bytes().all(|c| c.is_ascii_alphanumeric()))
    })
}

fn plain_piece(text: &str, glued: bool) -> Piece<'_> {
    Piece {
        pre: text,
        post: "",
        masked: false,
        glued,
        group: 0,
    }
}

/// As the old `Piece::masked`: frames longer than [`MAX_FRAME_BYTES`] are dropped.
fn masked_piece<'a>(pre: &'a str, post: &'a str, glued: bool) -> Piece<'a> {
    let cap = |s: &'a str| if s.len() > MAX_FRAME_BYTES { "" } else { s };
    Piece {
        pre: cap(pre),
        post: cap(post),
        masked: true,
        glued,
        group: 0,
    }
}
