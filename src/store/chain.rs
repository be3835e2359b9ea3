//! The hash chain over the remediation log.
//!
//! `hash(row) = lowercase hex of SHA-256(canonical_bytes(row))`, where `canonical_bytes` is:
//!
//! ```text
//! "pagerpilot.remediation_log.v1"        domain tag, ASCII, no length
//! field(prev_hash)                       64 hex digits; the genesis row uses 64 zeros
//! field(seq)                             decimal, as stored
//! field(ts)                              RFC 3339, UTC, 9 fraction digits, as stored
//! field(operator) field(host) field(incident_id) field(runbook_id)
//! field(step_index)                      decimal
//! field(step_title) field(command)       as stored (after redaction)
//! field(mode) field(decision)            "dry_run" | "real"; "approved" | "skipped" | ...
//! opt(exit_code)                         decimal
//! opt(output) opt(note)
//! -- version 2 rows only (domain tag "pagerpilot.remediation_log.v2") --
//! field(kind)                            "step" | "rollback" | "mode" | "silence"
//! opt(display_name) opt(duration_ms) opt(output_digest) opt(output_bytes) opt(checks)
//!
//! field(s) = 0x01 || u64 big-endian byte length of s || UTF-8 bytes of s
//! opt(None) = 0x00;  opt(Some(s)) = field(s)
//! ```
//!
//! Every field is present, in this order, with its length, so no two different rows encode to
//! the same bytes (moving text between fields, or turning `None` into `""`, changes the hash).

use sha2::{Digest, Sha256};

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN_TAG_V1: &[u8] = b"pagerpilot.remediation_log.v1";
const DOMAIN_TAG_V2: &[u8] = b"pagerpilot.remediation_log.v2";

/// The hash format new rows are written with.
pub const CURRENT_HASH_VERSION: i64 = 2;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A row's hashed content, exactly as stored in SQLite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowText<'a> {
    pub prev_hash: &'a str,
    pub seq: i64,
    pub ts: &'a str,
    pub operator: &'a str,
    pub host: &'a str,
    pub incident_id: &'a str,
    pub runbook_id: &'a str,
    pub step_index: i64,
    pub step_title: &'a str,
    pub command: &'a str,
    pub mode: &'a str,
    pub decision: &'a str,
    pub exit_code: Option<i64>,
    pub output: Option<&'a str>,
    pub note: Option<&'a str>,
    /// 1: rows written before the fields below existed (they must be empty); 2: current.
    pub hash_version: i64,
    pub kind: &'a str,
    pub display_name: Option<&'a str>,
    pub duration_ms: Option<i64>,
    pub output_digest: Option<&'a str>,
    pub output_bytes: Option<i64>,
    /// JSON array of check records, as stored.
    pub checks: Option<&'a str>,
}

/// The canonical serialization described in the module docs.
pub fn canonical_bytes(row: &RowText<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + row.command.len() + row.output.map_or(0, str::len));
    let v2 = row.hash_version >= 2;
    out.extend_from_slice(if v2 { DOMAIN_TAG_V2 } else { DOMAIN_TAG_V1 });
    let field = |out: &mut Vec<u8>, s: &str| {
        out.push(1);
        out.extend_from_slice(&(s.len() as u64).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    let opt = |out: &mut Vec<u8>, s: Option<&str>| match s {
        Some(s) => field(out, s),
        None => out.push(0),
    };
    field(&mut out, row.prev_hash);
    field(&mut out, &row.seq.to_string());
    field(&mut out, row.ts);
    field(&mut out, row.operator);
    field(&mut out, row.host);
    field(&mut out, row.incident_id);
    field(&mut out, row.runbook_id);
    field(&mut out, &row.step_index.to_string());
    field(&mut out, row.step_title);
    field(&mut out, row.command);
    field(&mut out, row.mode);
    field(&mut out, row.decision);
    opt(&mut out, row.exit_code.map(|c| c.to_string()).as_deref());
    opt(&mut out, row.output);
    opt(&mut out, row.note);
    if v2 {
        field(&mut out, row.kind);
        opt(&mut out, row.display_name);
        opt(&mut out, row.duration_ms.map(|d| d.to_string()).as_deref());
        opt(&mut out, row.output_digest);
        opt(&mut out, row.output_bytes.map(|b| b.to_string()).as_deref());
        opt(&mut out, row.checks);
    }
    out
}

/// Lowercase hex SHA-256 of the row's canonical bytes.
pub fn row_hash(row: &RowText<'_>) -> String {
    let digest = Sha256::digest(canonical_bytes(row));
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> RowText<'static> {
        RowText {
            prev_hash: GENESIS_HASH,
            seq: 1,
            ts: "2024-05-01T03:12:00.000000000Z",
            operator: "ana",
            host: "laptop",
            incident_id: "INC-1",
            runbook_id: "rb",
            step_index: 0,
            step_title: "Check",
            command: "echo 'x'",
            mode: "dry_run",
            decision: "approved",
            exit_code: None,
            output: None,
            note: None,
            hash_version: 2,
            kind: "step",
            display_name: None,
            duration_ms: None,
            output_digest: None,
            output_bytes: None,
            checks: None,
        }
    }

    #[test]
    fn hash_is_hex_sha256_and_stable() {
        let h = row_hash(&row());
        assert_eq!(h.len(), 64);
        assert!(h.bytes().all(|b| HEX.contains(&b)));
        assert_eq!(h, row_hash(&row()));
        assert_eq!(GENESIS_HASH.len(), 64);
    }

    #[test]
    fn moving_text_between_fields_or_none_to_empty_changes_the_hash() {
        let base = row_hash(&row());
        let moved = RowText {
            operator: "an",
            host: "alaptop",
            ..row()
        };
        assert_ne!(base, row_hash(&moved));
        let empty = RowText {
            note: Some(""),
            ..row()
        };
        assert_ne!(base, row_hash(&empty));
        let other_seq = RowText { seq: 2, ..row() };
        assert_ne!(base, row_hash(&other_seq));
    }

    #[test]
    fn version_two_fields_are_covered_and_the_version_changes_the_hash() {
        let base = row_hash(&row());
        for changed in [
            RowText {
                kind: "rollback",
                ..row()
            },
            RowText {
                display_name: Some("Ana"),
                ..row()
            },
            RowText {
                duration_ms: Some(5),
                ..row()
            },
            RowText {
                output_digest: Some("ab"),
                ..row()
            },
            RowText {
                output_bytes: Some(0),
                ..row()
            },
            RowText {
                checks: Some("[]"),
                ..row()
            },
            RowText {
                hash_version: 1,
                ..row()
            },
        ] {
            assert_ne!(base, row_hash(&changed), "{changed:?}");
        }
        // A version 1 row ignores the new fields (they are checked to be empty elsewhere).
        let v1 = RowText {
            hash_version: 1,
            ..row()
        };
        let v1_with_kind = RowText {
            hash_version: 1,
            kind: "mode",
            ..row()
        };
        assert_eq!(row_hash(&v1), row_hash(&v1_with_kind));
    }
}
