//! Reading and writing `remediation_log` rows on the store thread's connection.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::chain::{row_hash, RowText, CURRENT_HASH_VERSION, GENESIS_HASH};
use super::redact::Redactor;
use super::{StoreError, VerifyReport};
use crate::domain::remediation::{
    CheckRecord, Decision, EntryKind, Mode, RemediationEntry, StoredEntry,
};

const COLUMNS: &str = "seq, ts, operator, host, incident_id, runbook_id, step_index, step_title, \
                       command, mode, decision, exit_code, output, note, prev_hash, hash, \
                       hash_version, kind, display_name, duration_ms, output_digest, output_bytes, \
                       checks";

/// One row as stored, all text (what the hash covers).
struct RawRow {
    seq: i64,
    ts: String,
    operator: String,
    host: String,
    incident_id: String,
    runbook_id: String,
    step_index: i64,
    step_title: String,
    command: String,
    mode: String,
    decision: String,
    exit_code: Option<i64>,
    output: Option<String>,
    note: Option<String>,
    prev_hash: String,
    hash: String,
    hash_version: i64,
    kind: String,
    display_name: Option<String>,
    duration_ms: Option<i64>,
    output_digest: Option<String>,
    output_bytes: Option<i64>,
    checks: Option<String>,
}

impl RawRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            seq: r.get(0)?,
            ts: r.get(1)?,
            operator: r.get(2)?,
            host: r.get(3)?,
            incident_id: r.get(4)?,
            runbook_id: r.get(5)?,
            step_index: r.get(6)?,
            step_title: r.get(7)?,
            command: r.get(8)?,
            mode: r.get(9)?,
            decision: r.get(10)?,
            exit_code: r.get(11)?,
            output: r.get(12)?,
            note: r.get(13)?,
            prev_hash: r.get(14)?,
            hash: r.get(15)?,
            hash_version: r.get(16)?,
            kind: r.get(17)?,
            display_name: r.get(18)?,
            duration_ms: r.get(19)?,
            output_digest: r.get(20)?,
            output_bytes: r.get(21)?,
            checks: r.get(22)?,
        })
    }

    fn text(&self) -> RowText<'_> {
        RowText {
            prev_hash: &self.prev_hash,
            seq: self.seq,
            ts: &self.ts,
            operator: &self.operator,
            host: &self.host,
            incident_id: &self.incident_id,
            runbook_id: &self.runbook_id,
            step_index: self.step_index,
            step_title: &self.step_title,
            command: &self.command,
            mode: &self.mode,
            decision: &self.decision,
            exit_code: self.exit_code,
            output: self.output.as_deref(),
            note: self.note.as_deref(),
            hash_version: self.hash_version,
            kind: &self.kind,
            display_name: self.display_name.as_deref(),
            duration_ms: self.duration_ms,
            output_digest: self.output_digest.as_deref(),
            output_bytes: self.output_bytes,
            checks: self.checks.as_deref(),
        }
    }

    /// A version 1 hash does not cover the later columns, so they must be at their defaults.
    fn v1_extras_empty(&self) -> bool {
        self.kind == "step"
            && self.display_name.is_none()
            && self.duration_ms.is_none()
            && self.output_digest.is_none()
            && self.output_bytes.is_none()
            && self.checks.is_none()
    }

    fn into_entry(self, path: &Path) -> Result<StoredEntry, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            seq: self.seq,
            what,
        };
        let ts = DateTime::parse_from_rfc3339(&self.ts)
            .map_err(|e| corrupt(format!("ts {:?}: {e}", self.ts)))?
            .with_timezone(&Utc);
        let step_index = usize::try_from(self.step_index)
            .map_err(|_| corrupt(format!("step_index {}", self.step_index)))?;
        let exit_code = self
            .exit_code
            .map(i32::try_from)
            .transpose()
            .map_err(|_| corrupt(format!("exit_code {:?}", self.exit_code)))?;
        let mode = match self.mode.as_str() {
            "dry_run" => Mode::DryRun,
            "real" => Mode::Real,
            other => return Err(corrupt(format!("mode {other:?}"))),
        };
        let decision = match self.decision.as_str() {
            "approved" => Decision::Approved,
            "skipped" => Decision::Skipped,
            "rejected" => Decision::Rejected,
            "note" => Decision::Note,
            other => return Err(corrupt(format!("decision {other:?}"))),
        };
        let kind =
            EntryKind::parse(&self.kind).ok_or_else(|| corrupt(format!("kind {:?}", self.kind)))?;
        let duration_ms = self
            .duration_ms
            .map(u64::try_from)
            .transpose()
            .map_err(|_| corrupt(format!("duration_ms {:?}", self.duration_ms)))?;
        let output_bytes = self
            .output_bytes
            .map(u64::try_from)
            .transpose()
            .map_err(|_| corrupt(format!("output_bytes {:?}", self.output_bytes)))?;
        let checks: Vec<CheckRecord> = match self.checks.as_deref() {
            None => Vec::new(),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| corrupt(format!("checks are not valid JSON: {e}")))?,
        };
        Ok(StoredEntry {
            seq: self.seq,
            entry: RemediationEntry {
                ts,
                operator: self.operator,
                host: self.host,
                incident_id: self.incident_id,
                runbook_id: self.runbook_id,
                step_index,
                step_title: self.step_title,
                command: self.command,
                mode,
                decision,
                exit_code,
                output: self.output,
                note: self.note,
                kind,
                display_name: self.display_name,
                duration_ms,
                output_digest: self.output_digest,
                output_bytes,
                checks,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

pub(super) fn sql_error(path: &Path, what: &str) -> impl Fn(rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |source| StoreError::Sqlite {
        path: path.clone(),
        what: what.clone(),
        source,
    }
}

/// Redacts, chains and inserts `entry` in one immediate transaction; returns the committed row.
pub fn append(
    conn: &mut Connection,
    path: &Path,
    redactor: &Redactor,
    entry: RemediationEntry,
) -> Result<StoredEntry, StoreError> {
    let mut out = append_batch(conn, path, redactor, vec![entry])?;
    out.pop().ok_or_else(|| StoreError::Invalid {
        path: path.to_path_buf(),
        what: "the append returned no row".into(),
    })
}

/// Appends `entries` in order in one immediate transaction (all or none); returns the rows.
pub fn append_batch(
    conn: &mut Connection,
    path: &Path,
    redactor: &Redactor,
    entries: Vec<RemediationEntry>,
) -> Result<Vec<StoredEntry>, StoreError> {
    let fail = sql_error(path, "appending to remediation_log");
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&fail)?;
    let mut last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM remediation_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(&fail)?;
    let mut raws = Vec::with_capacity(entries.len());
    for entry in entries {
        let raw = insert(&tx, path, redactor, entry, last.take())?;
        last = Some((raw.seq, raw.hash.clone()));
        raws.push(raw);
    }
    tx.commit().map_err(&fail)?;
    raws.into_iter().map(|r| r.into_entry(path)).collect()
}

/// Redacts, chains after `last` and inserts one row inside the caller's transaction.
fn insert(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    redactor: &Redactor,
    entry: RemediationEntry,
    last: Option<(i64, String)>,
) -> Result<RawRow, StoreError> {
    let fail = sql_error(path, "appending to remediation_log");
    let step_index = i64::try_from(entry.step_index).map_err(|_| StoreError::Invalid {
        path: path.to_path_buf(),
        what: format!("step_index {} is too large", entry.step_index),
    })?;
    let to_i64 = |what: &str, v: u64| {
        i64::try_from(v).map_err(|_| StoreError::Invalid {
            path: path.to_path_buf(),
            what: format!("{what} {v} is too large"),
        })
    };
    let duration_ms = entry
        .duration_ms
        .map(|d| to_i64("duration_ms", d))
        .transpose()?;
    let output_bytes = entry
        .output_bytes
        .map(|b| to_i64("output_bytes", b))
        .transpose()?;
    let checks = if entry.checks.is_empty() {
        None
    } else {
        let redacted: Vec<CheckRecord> = entry
            .checks
            .iter()
            .map(|c| CheckRecord {
                when: c.when.clone(),
                query: redactor.redact(&c.query),
                result: redactor.redact(&c.result),
            })
            .collect();
        Some(
            serde_json::to_string(&redacted).map_err(|e| StoreError::Invalid {
                path: path.to_path_buf(),
                what: format!("checks cannot be serialised: {e}"),
            })?,
        )
    };
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut raw = RawRow {
        seq,
        ts: entry.ts.to_rfc3339_opts(SecondsFormat::Nanos, true),
        operator: entry.operator,
        host: entry.host,
        incident_id: entry.incident_id,
        runbook_id: entry.runbook_id,
        step_index,
        step_title: entry.step_title,
        command: redactor.redact(&entry.command),
        mode: entry.mode.as_str().to_string(),
        decision: entry.decision.as_str().to_string(),
        exit_code: entry.exit_code.map(i64::from),
        output: entry.output.as_deref().map(|o| redactor.redact(o)),
        note: entry.note.as_deref().map(|n| redactor.redact(n)),
        prev_hash,
        hash: String::new(),
        hash_version: CURRENT_HASH_VERSION,
        kind: entry.kind.as_str().to_string(),
        display_name: entry.display_name.as_deref().map(|d| redactor.redact(d)),
        duration_ms,
        output_digest: entry.output_digest,
        output_bytes,
        checks,
    };
    raw.hash = row_hash(&raw.text());
    tx.execute(
        &format!("INSERT INTO remediation_log ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"),
        params![
            raw.seq,
            raw.ts,
            raw.operator,
            raw.host,
            raw.incident_id,
            raw.runbook_id,
            raw.step_index,
            raw.step_title,
            raw.command,
            raw.mode,
            raw.decision,
            raw.exit_code,
            raw.output,
            raw.note,
            raw.prev_hash,
            raw.hash,
            raw.hash_version,
            raw.kind,
            raw.display_name,
            raw.duration_ms,
            raw.output_digest,
            raw.output_bytes,
            raw.checks,
        ],
    )
    .map_err(&fail)?;
    Ok(raw)
}

/// All rows (or one incident's), oldest first.
pub fn list(
    conn: &Connection,
    path: &Path,
    incident_id: Option<&str>,
) -> Result<Vec<StoredEntry>, StoreError> {
    let fail = sql_error(path, "reading remediation_log");
    let sql = match incident_id {
        Some(_) => {
            format!("SELECT {COLUMNS} FROM remediation_log WHERE incident_id = ?1 ORDER BY seq")
        }
        None => format!("SELECT {COLUMNS} FROM remediation_log ORDER BY seq"),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(&fail)?;
    let rows = match incident_id {
        Some(id) => stmt.query_map([id], RawRow::from_row),
        None => stmt.query_map([], RawRow::from_row),
    }
    .map_err(&fail)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(&fail)?.into_entry(path)?);
    }
    Ok(out)
}

/// Walks the whole chain in `seq` order and reports the first row that does not fit.
pub fn verify(conn: &Connection, path: &Path) -> Result<VerifyReport, StoreError> {
    let fail = sql_error(path, "verifying remediation_log");
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM remediation_log ORDER BY seq"
        ))
        .map_err(&fail)?;
    let rows = stmt.query_map([], RawRow::from_row).map_err(&fail)?;
    let mut report = VerifyReport {
        rows: 0,
        first_bad: None,
        head: None,
    };
    let mut previous: Option<(i64, String)> = None;
    for row in rows {
        let row = row.map_err(&fail)?;
        report.rows += 1;
        if report.first_bad.is_none() {
            report.first_bad = check(&row, previous.as_ref()).map(|what| (row.seq, what));
        }
        previous = Some((row.seq, row.hash));
    }
    report.head = previous.map(|(_, hash)| hash);
    Ok(report)
}

/// What is wrong with `row` given the row before it, if anything.
fn check(row: &RawRow, previous: Option<&(i64, String)>) -> Option<String> {
    let (expected_seq, expected_prev) = match previous {
        Some((seq, hash)) => (seq + 1, hash.as_str()),
        None => (1, GENESIS_HASH),
    };
    if row.seq != expected_seq {
        let missing = if row.seq - expected_seq == 1 {
            format!("seq {expected_seq} is missing")
        } else {
            format!("seq {expected_seq}..={} are missing", row.seq - 1)
        };
        return Some(format!("gap in the chain: {missing} (rows were deleted)"));
    }
    if row.prev_hash != expected_prev {
        let of = previous.map_or("the genesis hash".to_string(), |(s, _)| {
            format!("the hash of seq {s}")
        });
        return Some(format!(
            "prev_hash {} does not match {of} ({})",
            short(&row.prev_hash),
            short(expected_prev)
        ));
    }
    if row.hash_version == 1 && !row.v1_extras_empty() {
        return Some(
            "a row written with hash version 1 has later columns filled in; the row was changed after it was written"
                .to_string(),
        );
    }
    let computed = row_hash(&row.text());
    if computed != row.hash {
        return Some(format!(
            "hash mismatch: stored {}, content hashes to {}; the row was changed after it was written",
            short(&row.hash),
            short(&computed)
        ));
    }
    None
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
