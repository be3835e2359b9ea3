//! Snapshots of the exported postmortem draft (Markdown, HTML, JSON) for the sample incident
//! with one of every kind of remediation row: a dry run, a skip with its reason, a real run
//! (approval, then the outcome with output and checks), a rollback, a note, a silence, and an
//! approval whose outcome never came.

use chrono::Duration;

use pagerpilot::domain::remediation::{
    CheckRecord, Decision, EntryKind, Mode, RemediationEntry, StoredEntry,
};
use pagerpilot::report::timeline;
use pagerpilot::ui::fixture::{now, sample_app};

fn rows(incident: &str) -> Vec<StoredEntry> {
    let at = |m: i64| now() - Duration::minutes(m);
    let base = |m: i64, step: usize, title: &str, cmd: &str, d: Decision| {
        let mut e = RemediationEntry::new(
            at(m),
            "alice",
            "laptop",
            incident,
            "payments-db-pool",
            step,
            title,
            cmd,
            d,
        );
        e.display_name = Some("Alice (SRE)".into());
        e
    };
    let mut entries = vec![base(
        30,
        0,
        "Check pool usage",
        "psql -c 'select 1'",
        Decision::Approved,
    )];
    let mut skip = base(
        28,
        1,
        "Find long-running queries",
        "psql -f long.sql",
        Decision::Skipped,
    );
    skip.note = Some("DBA already looking".into());
    entries.push(skip);
    let mut mode = base(
        27,
        0,
        "unlock write mode",
        "write mode on",
        Decision::Approved,
    );
    (mode.kind, mode.mode, mode.runbook_id) = (EntryKind::Mode, Mode::Real, "-".into());
    entries.push(mode);
    let cmd = "kubectl -n 'shop' set env deployment/payments-api DB_POOL_MAX=50";
    let mut approval = base(26, 3, "Raise the pool size", cmd, Decision::Approved);
    approval.mode = Mode::Real;
    approval.note = Some("approved to run (timeout 60s)".into());
    entries.push(approval);
    let mut ran = base(25, 3, "Raise the pool size", cmd, Decision::Approved);
    ran.mode = Mode::Real;
    ran.exit_code = Some(0);
    ran.duration_ms = Some(2300);
    ran.output = Some("deployment.apps/payments-api env updated\n".into());
    ran.output_bytes = Some(41);
    ran.output_digest = Some("5".repeat(64));
    ran.note = Some("exit 0 in 2.3 s".into());
    ran.checks = vec![
        CheckRecord {
            when: "post".into(),
            query: "db_connections_waiting{service=\"payments-db\"} < 1".into(),
            result: "holds (1 series)".into(),
        },
        CheckRecord {
            when: "score".into(),
            query: "payments-db/pool".into(),
            result: "anomaly score 0.97 before, 0.41 at the end of the run".into(),
        },
    ];
    entries.push(ran);
    let mut rollback = base(
        20,
        3,
        "Raise the pool size",
        "kubectl -n 'shop' rollout undo deployment/payments-api",
        Decision::Approved,
    );
    rollback.kind = EntryKind::Rollback;
    entries.push(rollback);
    let mut note = base(19, 3, "Raise the pool size", cmd, Decision::Note);
    note.note = Some("latency back to normal".into());
    entries.push(note);
    let mut silence = base(
        18,
        0,
        "create silence",
        "silence {alertname=\"PaymentsDbPoolSaturated\"} for 2h: pool fixed, watching",
        Decision::Approved,
    );
    (silence.kind, silence.mode, silence.runbook_id) = (EntryKind::Silence, Mode::Real, "-".into());
    silence.exit_code = Some(0);
    silence.note = Some("silence id 3f0f6f2e-9a59-4d2b-8a43-0c6a9a3b7c11".into());
    entries.push(silence);
    // Approved to run, but no outcome follows (pagerpilot was killed during the run).
    let mut orphan = base(
        17,
        4,
        "Restart the pool",
        "kubectl -n 'shop' rollout restart deploy/payments-api",
        Decision::Approved,
    );
    orphan.mode = Mode::Real;
    orphan.note = Some("approved to run (timeout 60s)".into());
    entries.push(orphan);
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| StoredEntry {
            seq: i as i64 + 1,
            entry,
            prev_hash: format!("{i:064}"),
            hash: format!("{:064}", i + 1),
        })
        .collect()
}

fn sample() -> timeline::Timeline {
    let app = sample_app();
    let analysis = app.analysis.as_ref().expect("sample analysis");
    let incident = &analysis.incidents[0];
    timeline::build(
        incident,
        &app.data.alerts,
        &app.data.transitions,
        analysis,
        &rows(&incident.id),
    )
}

#[test]
fn markdown_postmortem_draft() {
    insta::assert_snapshot!("export_markdown", timeline::to_markdown(&sample()));
}

#[test]
fn html_postmortem_draft() {
    insta::assert_snapshot!("export_html", timeline::to_html(&sample()));
}

#[test]
fn json_timeline() {
    let json = timeline::to_json(&sample()).expect("serialises");
    insta::assert_snapshot!("export_json", json);
}
