//! Opening the database file: checks, pragmas and migrations.
//!
//! A pagerpilot database carries `PRAGMA application_id = APPLICATION_ID`; `PRAGMA user_version`
//! is the number of migrations applied. Each migration runs in its own transaction together
//! with the `user_version` bump.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::StoreError;

/// `PRAGMA application_id` of a pagerpilot database: ASCII "PGPL".
pub const APPLICATION_ID: i64 = 0x5047_504C;

/// Migrations in order; `user_version` = how many have run.
const MIGRATIONS: &[&str] = &[V1, V2, ALERT_HISTORY, LOG_PATTERNS];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const V1: &str = r#"
CREATE TABLE remediation_log (
    seq         INTEGER PRIMARY KEY,
    ts          TEXT    NOT NULL,
    operator    TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    incident_id TEXT    NOT NULL,
    runbook_id  TEXT    NOT NULL,
    step_index  INTEGER NOT NULL CHECK (step_index >= 0),
    step_title  TEXT    NOT NULL,
    command     TEXT    NOT NULL,
    mode        TEXT    NOT NULL CHECK (mode IN ('dry_run', 'real')),
    decision    TEXT    NOT NULL CHECK (decision IN ('approved', 'skipped', 'rejected', 'note')),
    exit_code   INTEGER,
    output      TEXT,
    note        TEXT,
    prev_hash   TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash        TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64)
) STRICT;

CREATE INDEX remediation_log_by_incident ON remediation_log (incident_id, seq);

CREATE TRIGGER remediation_log_no_update BEFORE UPDATE ON remediation_log
BEGIN
    SELECT RAISE(ABORT, 'remediation_log is append-only: UPDATE refused');
END;

CREATE TRIGGER remediation_log_no_delete BEFORE DELETE ON remediation_log
BEGIN
    SELECT RAISE(ABORT, 'remediation_log is append-only: DELETE refused');
END;

-- Incident history derived from the log: one row per incident with its first and last logged
-- decision. A dedicated alert table can come with a later migration.
CREATE VIEW incident_history AS
SELECT incident_id,
       min(ts)  AS first_ts,
       max(ts)  AS last_ts,
       count(*) AS entries,
       group_concat(DISTINCT runbook_id) AS runbooks
FROM remediation_log
GROUP BY incident_id;
"#;

/// Run details and the kind of action. Rows written before have `hash_version` 1 and these
/// columns empty (`verify` checks that, since a version 1 hash does not cover them).
const V2: &str = r#"
ALTER TABLE remediation_log ADD COLUMN hash_version  INTEGER NOT NULL DEFAULT 1 CHECK (hash_version IN (1, 2));
ALTER TABLE remediation_log ADD COLUMN kind          TEXT    NOT NULL DEFAULT 'step'
    CHECK (kind IN ('step', 'rollback', 'mode', 'silence'));
ALTER TABLE remediation_log ADD COLUMN display_name  TEXT;
ALTER TABLE remediation_log ADD COLUMN duration_ms   INTEGER CHECK (duration_ms >= 0);
ALTER TABLE remediation_log ADD COLUMN output_digest TEXT    CHECK (length(output_digest) = 64);
ALTER TABLE remediation_log ADD COLUMN output_bytes  INTEGER CHECK (output_bytes >= 0);
ALTER TABLE remediation_log ADD COLUMN checks        TEXT;
"#;

/// Alert history (every observed state change and every ack) and grouping corrections, apart
/// from the hash-chained remediation log. Both are append-only.
const ALERT_HISTORY: &str = r#"
CREATE TABLE alert_history (
    id          INTEGER PRIMARY KEY,
    ts          TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    alertname   TEXT    NOT NULL,
    service     TEXT,
    severity    TEXT    NOT NULL,
    state       TEXT    NOT NULL
        CHECK (state IN ('firing', 'resolved', 'suppressed', 'silenced', 'inhibited', 'acked')),
    starts_at   TEXT    NOT NULL,
    labels      TEXT    NOT NULL,
    note        TEXT
) STRICT;

CREATE INDEX alert_history_by_ts ON alert_history (ts);
CREATE INDEX alert_history_by_fingerprint ON alert_history (fingerprint, ts);

CREATE TRIGGER alert_history_no_update BEFORE UPDATE ON alert_history
BEGIN
    SELECT RAISE(ABORT, 'alert_history is append-only: UPDATE refused');
END;

CREATE TABLE grouping_rules (
    id       INTEGER PRIMARY KEY,
    ts       TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('merge', 'split')),
    a        TEXT NOT NULL,
    b        TEXT NOT NULL,
    operator TEXT NOT NULL,
    retired  TEXT
) STRICT;
"#;

/// Log pattern ids that survive restarts (`store::patterns`): known templates and the
/// aliases of ids whose template generalised.
const LOG_PATTERNS: &str = r#"
CREATE TABLE log_patterns (
    id            TEXT    PRIMARY KEY,
    service       TEXT,
    template      TEXT    NOT NULL,
    first_seen_ns INTEGER NOT NULL,
    last_seen_ns  INTEGER NOT NULL
) STRICT;

CREATE TABLE log_pattern_aliases (
    old_id TEXT PRIMARY KEY,
    new_id TEXT NOT NULL
) STRICT;
"#;

/// Opens `path`, creating parent directories and the schema as needed.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let conn = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let sql = |what: &'static str| move |source| classify(path, what, source);
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(sql("setting busy_timeout"))?;

    // The first read of the header: a file that is not SQLite fails here.
    let app_id: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(sql("reading application_id"))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql("reading user_version"))?;
    if app_id != APPLICATION_ID {
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(sql("reading sqlite_master"))?;
        if app_id != 0 || version != 0 || objects != 0 {
            return Err(StoreError::Foreign {
                path: path.to_path_buf(),
                detail: format!(
                    "application_id {app_id:#x}, user_version {version}, {objects} schema objects"
                ),
            });
        }
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }

    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
        .map_err(sql("enabling WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal {
            path: path.to_path_buf(),
            mode,
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sql("setting synchronous"))?;
    migrate(conn, path, version)
}

fn migrate(mut conn: Connection, path: &Path, from: i64) -> Result<Connection, StoreError> {
    for (index, migration) in MIGRATIONS.iter().enumerate() {
        let target = index as i64 + 1;
        if target <= from {
            continue;
        }
        let fail = |source| classify(path, "migrating the schema", source);
        let tx = conn.transaction().map_err(fail)?;
        tx.execute_batch(migration).map_err(fail)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(fail)?;
        tx.pragma_update(None, "user_version", target)
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        tracing::info!(path = %path.display(), version = target, "remediation log migrated");
    }
    Ok(conn)
}

/// Turns "file is not a database" into its own error; everything else names what failed.
fn classify(path: &Path, what: &str, source: rusqlite::Error) -> StoreError {
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
            path: path.to_path_buf(),
        },
        _ => StoreError::Sqlite {
            path: path.to_path_buf(),
            what: what.to_string(),
            source,
        },
    }
}
