//! The remediation log on a real SQLite file: round trip, WAL, append-only triggers, tamper
//! detection, reopening, redaction and clear errors.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use pagerpilot::domain::remediation::{Decision, Mode, RemediationEntry};
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
