//! Tokenizing and masking: variable parts of a log line become `<*>`.

use super::{MAX_CORE_BYTES, MAX_TOKENS, WILDCARD};

/// One token: its text and whether the next token follows without whitespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Token {
    pub(super) text: String,
    pub(super) glued: bool,
}

/// `line` with its variable parts masked to `<*>` and whitespace normalised.
pub fn mask(line: &str) -> String {
    render(&tokenize(line))
}

pub(super) fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        out.push_str(&t.text);
        if !t.glued && i + 1 < tokens.len() {
            out.push(' ');
        }
    }
    out
}

pub(super) fn tokenize(line: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut words = line.split_whitespace();
    for word in words.by_ref() {
        push_word(word, &mut out);
        if out.len() >= MAX_TOKENS {
            break;
        }
    }
    if out.len() > MAX_TOKENS || (out.len() == MAX_TOKENS && words.next().is_some()) {
        out.truncate(MAX_TOKENS - 1);
        out.push(Token {
            text: WILDCARD.to_string(),
            glued: false,
        });
    }
    out
}

pub(super) fn push_word(word: &str, out: &mut Vec<Token>) {
    // Most words have nothing to split on: one piece, masked once.
    if !word.bytes().any(|b| matches!(b, b'=' | b',' | b':')) {
        out.push(Token {
            text: mask_piece(word, false),
            glued: false,
        });
        return;
    }
    let (lead, core, trail) = peel(word);
    if !core.is_empty() && is_variable(core) {
        out.push(Token {
            text: format!("{lead}{WILDCARD}{trail}"),
            glued: false,
        });
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
            let piece = &word[start..=i];
            out.push(Token {
                text: mask_piece(piece, after_eq),
                glued: true,
            });
            after_eq = b == b'=';
            start = i + 1;
        }
    }
    out.push(Token {
        text: mask_piece(&word[start..], after_eq),
        glued: false,
    });
}

/// Masks one piece (keeping its punctuation and trailing `=`, `,` or `:`).
pub(super) fn mask_piece(piece: &str, after_eq: bool) -> String {
    let body = piece.trim_end_matches(['=', ',', ':']);
    let delim = &piece[body.len()..];
    let (lead, core, trail) = peel(body);
    let quoted = (lead.ends_with('"') && trail.starts_with('"'))
        || (lead.ends_with('\'') && trail.starts_with('\''));
    if core.is_empty() && !quoted {
        return piece.to_string();
    }
    if (quoted && after_eq) || core.len() > MAX_CORE_BYTES || is_variable(core) {
        format!("{lead}{WILDCARD}{trail}{delim}")
    } else {
        piece.to_string()
    }
}

/// Splits `s` into leading brackets/quotes, the core, and trailing brackets/quotes/punctuation.
pub(super) fn peel(s: &str) -> (&str, &str, &str) {
    let rest = s.trim_start_matches(['(', '[', '{', '<', '"', '\'']);
    let lead = &s[..s.len() - rest.len()];
    let core = rest.trim_end_matches([')', ']', '}', '>', '"', '\'', '.', ',', ';', ':', '!', '?']);
    let trail = &rest[core.len()..];
    (lead, core, trail)
}

pub(super) fn is_variable(core: &str) -> bool {
    let b = core.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    let unsigned = if matches!(first, b'-' | b'+') {
        &b[1..]
    } else {
        b
    };
    core == WILDCARD
        || unsigned.first().is_some_and(u8::is_ascii_digit)
        || is_hex_id(core)
        || is_uuid(core)
        || is_ipv6(core)
        || is_host_port(core)
        || core.contains("://")
        || is_path(core)
        || is_email(core)
        || has_numeric_part(core)
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
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|c| c.is_ascii_hexdigit()))
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
        || (s.split('/').count() >= 3 && s.split('/').all(segment_ok))
}

pub(super) fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !domain.starts_with('.')
    })
}

/// `worker-3`, `v1.2.3`, `api-7d9f8c6b5-x2x9k`: a purely numeric part in a compound name, or
/// a part of five or more characters with at least two digits.
pub(super) fn has_numeric_part(s: &str) -> bool {
    let parts: Vec<&str> = s.split(['-', '_', '.']).collect();
    parts.iter().any(|p| {
        let digits = p.bytes().filter(u8::is_ascii_digit).count();
        (parts.len() > 1 && !p.is_empty() && digits == p.len())
            || (p.len() >= 5 && digits >= 2 && p.bytes().all(|c| c.is_ascii_alphanumeric()))
    })
}
