//! The remediation log on a real SQLite file: round trip, WAL, append-only triggers, tamper
//! detection, reopening, redaction and clear errors.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use pagerpilot::domain::remediation::{Decision, EntryKind, Mode, RemediationEntry};
use pagerpilot::store::{Store, StoreError, GENESIS_HASH};
use rusqlite::Connection;

fn entry(incident: &str, step: usize, command: &str) -> RemediationEntry {
    RemediationEntry {
        ts: Utc
            .with_ymd_and_hms(2024, 5, 1, 3, 12, step as u32)
            .single()
            .expect("valid time"),
        operator: "ana".into(),
        host: "laptop".into(),
        incident_id: incident.into(),
        runbook_id: "payments-db-pool".into(),
        step_index: step,
        step_title: format!("step {step}"),
        command: command.into(),
        mode: Mode::DryRun,
        decision: Decision::Approved,
        exit_code: None,
        output: None,
        note: None,
        kind: EntryKind::Step,
        display_name: None,
        duration_ms: None,
        output_digest: None,
        output_bytes: None,
        checks: Vec::new(),
    }
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/dir/pagerpilot.db");
    (dir, path)
}

/// Opens the store, appends `n` entries, closes it.
fn fill(path: &Path, n: usize) {
    let store = Store::open(path).expect("open");
    let h = store.handle();
    for i in 0..n {
        h.append(entry("INC-1", i, &format!("echo {i}")))
            .expect("append");
    }
    store.close().expect("close");
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).expect("raw connection")
}

#[test]
fn append_and_list_round_trip() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open creates parent dirs");
    let h = store.handle();
    let mut e1 = entry("INC-1", 0, "kubectl -n 'shop' get pods");
    e1.exit_code = Some(0);
    e1.output = Some("pod-a Running\n".into());
    e1.note = Some("looked fine".into());
    e1.mode = Mode::Real;
    let s1 = h.append(e1.clone()).expect("append 1");
    let s2 = h.append(entry("INC-2", 1, "echo two")).expect("append 2");
    let mut e3 = entry("INC-1", 2, "echo three");
    e3.decision = Decision::Skipped;
    let s3 = h.append(e3.clone()).expect("append 3");

    assert_eq!((s1.seq, s2.seq, s3.seq), (1, 2, 3));
    assert_eq!(s1.prev_hash, GENESIS_HASH);
    assert_eq!(s2.prev_hash, s1.hash);
    assert_eq!(s3.prev_hash, s2.hash);
    assert_eq!(s1.entry, e1);
    assert_eq!(s3.entry, e3);

    let all = h.list(None).expect("list");
    assert_eq!(all, vec![s1.clone(), s2.clone(), s3.clone()]);
    let inc1 = h.list(Some("INC-1")).expect("list INC-1");
    assert_eq!(inc1, vec![s1, s3]);
    assert!(h.list(Some("INC-404")).expect("list none").is_empty());

    let report = h.verify().expect("verify");
    assert_eq!(report.rows, 3);
    assert_eq!(report.first_bad, None);
    store.close().expect("close");
}

#[test]
fn wal_mode_and_schema_version_are_set() {
    let (_dir, path) = temp_db();
    fill(&path, 1);
    let conn = raw(&path);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode.to_lowercase(), "wal");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, pagerpilot::store::SCHEMA_VERSION);
}

#[test]
fn update_and_delete_are_refused_by_triggers() {
    let (_dir, path) = temp_db();
    fill(&path, 2);
    let conn = raw(&path);
    let err = conn
        .execute("UPDATE remediation_log SET command = 'x' WHERE seq = 1", [])
        .expect_err("update refused");
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn
        .execute("DELETE FROM remediation_log WHERE seq = 1", [])
        .expect_err("delete refused");
    assert!(err.to_string().contains("append-only"), "{err}");
    let count: i64 = conn
        .query_row("SELECT count(*) FROM remediation_log", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count, 2);
}

#[test]
fn an_edited_row_is_found_by_verify() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    let h = store.handle();
    for i in 0..5 {
        let mut e = entry("INC-1", i, "echo hi");
        e.output = Some(format!("out {i}"));
        h.append(e).expect("append");
    }
    {
        let conn = raw(&path);
        conn.execute_batch("DROP TRIGGER remediation_log_no_update")
            .expect("drop trigger");
        conn.execute(
            "UPDATE remediation_log SET output = 'all good' WHERE seq = 3",
            [],
        )
        .expect("tamper");
    }
    let report = h.verify().expect("verify");
    assert_eq!(report.rows, 5);
    let (seq, what) = report.first_bad.expect("tampering detected");
    assert_eq!(seq, 3);
    assert!(what.contains("hash mismatch"), "{what}");
    store.close().expect("close");
}

#[test]
fn a_deleted_row_is_reported_as_a_gap() {
    let (_dir, path) = temp_db();
    fill(&path, 5);
    {
        let conn = raw(&path);
        conn.execute_batch("DROP TRIGGER remediation_log_no_delete")
            .expect("drop trigger");
        conn.execute("DELETE FROM remediation_log WHERE seq = 3", [])
            .expect("tamper");
    }
    let store = Store::open(&path).expect("reopen");
    let report = store.handle().verify().expect("verify");
    assert_eq!(report.rows, 4);
    let (seq, what) = report.first_bad.expect("gap detected");
    assert_eq!(seq, 4);
    assert!(what.contains("gap") && what.contains("seq 3"), "{what}");
    store.close().expect("close");
}

#[test]
fn reopening_continues_the_chain() {
    let (_dir, path) = temp_db();
    fill(&path, 2);
    let store = Store::open(&path).expect("reopen");
    let h = store.handle();
    let before = h.list(None).expect("list");
    let third = h.append(entry("INC-1", 2, "echo 3")).expect("append");
    assert_eq!(third.seq, 3);
    assert_eq!(third.prev_hash, before[1].hash);
    assert!(h.verify().expect("verify").is_ok());
    store.close().expect("close");
}

#[test]
fn secrets_are_redacted_before_storing_and_hashing() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    let h = store.handle();
    let mut e = entry(
        "INC-1",
        0,
        "curl -H 'Authorization: Bearer eyJhbGciOi.abc' 'https://x/api?token=t0k3n' && psql password=hunter2 && mysql --password s3cret",
    );
    e.output = Some("using AKIAIOSFODNN7EXAMPLE".into());
    e.note = Some("PGPASSWORD=hunter2 was set".into());
    let stored = h.append(e).expect("append");
    let all = h.list(None).expect("list");
    for text in [
        stored.entry.command.as_str(),
        all[0].entry.command.as_str(),
        all[0].entry.output.as_deref().unwrap_or_default(),
        all[0].entry.note.as_deref().unwrap_or_default(),
    ] {
        for secret in [
            "eyJhbGciOi",
            "t0k3n",
            "hunter2",
            "s3cret",
            "AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        assert!(text.contains("[REDACTED]"), "{text}");
    }
    assert!(h.verify().expect("verify").is_ok());
    store.close().expect("close");
    // Nothing secret is anywhere in the database file or its WAL.
    for file in [path.clone(), path.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("hunter2"), "{}", file.display());
        }
    }
}

#[test]
fn a_file_that_is_not_sqlite_gives_a_clear_error() {
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, "this is a text file, not a database\n".repeat(200)).expect("write");
    let err = Store::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("not a SQLite database"), "{msg}");
}

#[test]
fn another_applications_database_is_refused() {
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    raw(&path)
        .execute_batch("CREATE TABLE notes (body TEXT)")
        .expect("foreign db");
    let err = Store::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::Foreign { .. }), "{err:?}");
    assert!(err.to_string().contains("not a pagerpilot remediation log"));
}

#[test]
fn handles_work_from_many_threads() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let h = store.handle();
            std::thread::spawn(move || {
                for i in 0..10 {
                    h.append(entry(&format!("INC-{t}"), i, "echo"))
                        .expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let h = store.handle();
    let report = h.verify().expect("verify");
    assert_eq!((report.rows, report.first_bad), (40, None));
    assert_eq!(h.list(Some("INC-2")).expect("list").len(), 10);
    store.close().expect("close");
}

#[test]
fn run_details_round_trip_and_are_covered_by_the_chain() {
    use pagerpilot::domain::remediation::CheckRecord;
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    let h = store.handle();
    let mut e = entry("INC-1", 0, "systemctl restart app");
    e.mode = Mode::Real;
    e.kind = EntryKind::Rollback;
    e.display_name = Some("Ana (SRE)".into());
    e.exit_code = Some(3);
    e.duration_ms = Some(1250);
    e.output_digest = Some("ab".repeat(32));
    e.output_bytes = Some(70_000);
    e.checks = vec![CheckRecord {
        when: "post".into(),
        query: "up{job=\"app\"} == 1".into(),
        result: "holds (1 series)".into(),
    }];
    let stored = h.append(e.clone()).expect("append");
    assert_eq!(stored.entry, e);
    assert_eq!(h.list(None).expect("list"), vec![stored]);
    assert!(h.verify().expect("verify").is_ok());

    for (column, value) in [
        ("duration_ms", "1"),
        ("output_bytes", "1"),
        ("checks", "'[]'"),
        ("display_name", "'Bob'"),
        ("kind", "'step'"),
    ] {
        let conn = raw(&path);
        conn.execute_batch("DROP TRIGGER IF EXISTS remediation_log_no_update")
            .expect("drop trigger");
        let before: String = conn
            .query_row(
                &format!("SELECT quote({column}) FROM remediation_log WHERE seq = 1"),
                [],
                |r| r.get(0),
            )
            .expect("read");
        conn.execute(
            &format!("UPDATE remediation_log SET {column} = {value} WHERE seq = 1"),
            [],
        )
        .expect("tamper");
        let (seq, what) = h.verify().expect("verify").first_bad.expect("detected");
        assert_eq!(seq, 1, "{column}");
        assert!(what.contains("hash mismatch"), "{column}: {what}");
        conn.execute(
            &format!("UPDATE remediation_log SET {column} = {before} WHERE seq = 1"),
            [],
        )
        .expect("restore");
        assert!(h.verify().expect("verify").is_ok(), "{column} restored");
    }
    store.close().expect("close");
}

/// A log written before run details existed (schema 1, hash version 1) is migrated in place:
/// its rows still verify, new rows continue the chain, and filling a later column into an old
/// row is caught even though the old hash does not cover it.
#[test]
fn a_version_one_log_is_migrated_and_still_verifies() {
    use pagerpilot::store::chain::{row_hash, RowText};
    let (_dir, path) = temp_db();
    // The table as schema 1 created it (a frozen copy of that release's DDL).
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let conn = raw(&path);
    conn.execute_batch(
        "CREATE TABLE remediation_log (
            seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, operator TEXT NOT NULL, host TEXT NOT NULL,
            incident_id TEXT NOT NULL, runbook_id TEXT NOT NULL,
            step_index INTEGER NOT NULL CHECK (step_index >= 0), step_title TEXT NOT NULL,
            command TEXT NOT NULL, mode TEXT NOT NULL, decision TEXT NOT NULL, exit_code INTEGER,
            output TEXT, note TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE
         ) STRICT;
         CREATE TRIGGER remediation_log_no_update BEFORE UPDATE ON remediation_log
         BEGIN SELECT RAISE(ABORT, 'remediation_log is append-only: UPDATE refused'); END;
         PRAGMA application_id = 1346850892;
         PRAGMA user_version = 1;",
    )
    .expect("schema 1");
    let row = RowText {
        prev_hash: GENESIS_HASH,
        seq: 1,
        ts: "2024-05-01T03:12:00.000000000Z",
        operator: "ana",
        host: "laptop",
        incident_id: "INC-1",
        runbook_id: "rb",
        step_index: 0,
        step_title: "Check",
        command: "echo hi",
        mode: "dry_run",
        decision: "approved",
        exit_code: None,
        output: None,
        note: None,
        hash_version: 1,
        kind: "step",
        display_name: None,
        duration_ms: None,
        output_digest: None,
        output_bytes: None,
        checks: None,
    };
    let hash = row_hash(&row);
    conn.execute(
        "INSERT INTO remediation_log (seq, ts, operator, host, incident_id, runbook_id, step_index, \
         step_title, command, mode, decision, prev_hash, hash) \
         VALUES (1, ?1, 'ana', 'laptop', 'INC-1', 'rb', 0, 'Check', 'echo hi', 'dry_run', 'approved', ?2, ?3)",
        rusqlite::params![row.ts, GENESIS_HASH, hash],
    )
    .expect("insert v1 row");
    drop(conn);

    let store = Store::open(&path).expect("reopen migrates");
    let h = store.handle();
    h.append(entry("INC-1", 1, "echo two"))
        .expect("append v2 row");
    let report = h.verify().expect("verify");
    assert_eq!((report.rows, report.first_bad.clone()), (2, None));

    let conn = raw(&path);
    conn.execute_batch("DROP TRIGGER remediation_log_no_update")
        .expect("drop trigger");
    conn.execute(
        "UPDATE remediation_log SET duration_ms = 5 WHERE seq = 1",
        [],
    )
    .expect("tamper");
    let (seq, what) = h.verify().expect("verify").first_bad.expect("detected");
    assert_eq!(seq, 1);
    assert!(what.contains("hash version 1"), "{what}");
    store.close().expect("close");
}

#[test]
fn a_batch_is_chained_in_order_and_all_or_nothing() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    let h = store.handle();
    h.append(entry("INC-1", 0, "echo zero")).expect("append");
    let rows = h
        .append_batch((1..4).map(|i| entry("INC-1", i, "echo n")).collect())
        .expect("batch");
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert_eq!(rows[1].prev_hash, rows[0].hash);
    assert!(h.verify().expect("verify").is_ok());
    // A row the schema refuses (duration over i64) fails the whole batch: nothing is added.
    let mut bad = entry("INC-1", 9, "echo bad");
    bad.duration_ms = Some(u64::MAX);
    let err = h
        .append_batch(vec![entry("INC-1", 8, "echo ok"), bad])
        .expect_err("refused");
    assert!(err.to_string().contains("duration_ms"), "{err}");
    assert_eq!(h.list(None).expect("list").len(), 4);
    store.close().expect("close");
}
