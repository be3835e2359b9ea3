//! Drives the real binary in a real terminal (tmux on a private socket): sees the incident list,
//! opens an incident and its runbook, approves two dry-run steps, quits with `q`, verifies the
//! chain and finds both steps in the exported postmortem draft.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::tmux::{binary_in, quote, Tmux};
use common::Env;

#[test]
fn open_an_incident_approve_two_dry_run_steps_quit_verify_and_export() {
    let env = Env::new();
    let db = env.db();
    let exit_file = env.path().join("exit-code");
    let shell_cmd = format!(
        "{bin} --db {db}; echo $? > {exit}; sleep 30",
        bin = binary_in(&env),
        db = quote(&db),
        exit = quote(&exit_file),
    );
    let tmux = Tmux::start(&env, "smoke", &shell_cmd);

    let list = tmux.wait_for(&["INC-", "DEMO"]);
    assert!(list.contains("Incidents"), "{list}");
    // The first analysis may come before the logs do: wait until the log patterns are on
    // screen (their ids are saved before an analysis is shown), then go back to the list.
    tmux.keys(&["Tab"]);
    tmux.wait_for(&["Template", "NEW"]);
    tmux.keys(&["BTab"]);
    tmux.wait_for(&["INC-", "Likely cause"]);

    tmux.keys(&["Enter"]);
    tmux.wait_for(&["Likely cause"]);

    tmux.keys(&["r"]);
    let stepper = tmux.wait_for(&["DRY RUN", "exactly as it would run"]);
    assert!(
        stepper.contains("exactly as it would run") && stepper.contains("'shop'"),
        "the exact command, with the label value quoted, is shown: {stepper}"
    );

    tmux.keys(&["y"]);
    tmux.wait_for(&["logged #1"]);
    tmux.keys(&["y"]);
    tmux.wait_for(&["logged #2"]);

    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Ok(text) = std::fs::read_to_string(&exit_file) {
            if !text.trim().is_empty() {
                break text.trim().to_string();
            }
        }
        assert!(Instant::now() < deadline, "pagerpilot did not exit after q");
        sleep(Duration::from_millis(100));
    };
    assert_eq!(code, "0", "exit code; screen:\n{}", tmux.screen());

    let rows = env.ok(&[
        "log",
        "--format",
        "json",
        "--db",
        db.to_str().expect("utf-8"),
    ]);
    let rows: serde_json::Value = serde_json::from_str(&rows).expect("log JSON");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for (row, step) in rows.iter().zip([0, 1]) {
        assert_eq!(row["decision"], "approved");
        assert_eq!(row["mode"], "dry_run");
        assert_eq!(row["step_index"], step);
    }
    let verify = env.ok(&["log", "--verify", "--db", db.to_str().expect("utf-8")]);
    assert!(verify.starts_with("chain OK (2 rows;"), "{verify}");

    // The demo's log patterns were recorded, so their ids (and aliases) survive a restart.
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the database");
    let patterns: i64 = conn
        .query_row("SELECT count(*) FROM log_patterns", [], |r| r.get(0))
        .expect("count log patterns");
    assert!(patterns > 0, "no log pattern ids were saved");

    // The exported postmortem draft lists both approved steps.
    let incident = rows[0]["incident_id"].as_str().expect("incident id");
    let md = env.ok(&[
        "export",
        "--demo",
        "--incident",
        incident,
        "--db",
        db.to_str().expect("utf-8"),
    ]);
    for row in rows {
        let title = row["step_title"].as_str().expect("title");
        let line = md
            .lines()
            .find(|l| l.starts_with("- ") && l.contains(title))
            .unwrap_or_else(|| panic!("step {title:?} not in Actions taken:\n{md}"));
        assert!(line.contains("approved (dry run)"), "{line}");
    }
}

/// A runbook whose commands are harmless, under every built-in id so whichever runbook the top
/// incident suggests is this one: step 1 prints, step 2 is interactive (reads a line).
const LOCAL_RUNBOOK: &str = r#"+++
title = "Harmless test runbook"
risk = "read"
+++
Used by the smoke test.

## 1. Say hello
```sh
echo "hello from" {{ labels.alertname }}
```
risk: read

## 2. Ask for a name
```sh
printf 'name? '; read -r name; echo "got $name"
```
risk: read
interactive: true
timeout: 60s
"#;

#[test]
fn in_write_mode_steps_really_run_and_an_interactive_step_gets_the_terminal() {
    let env = Env::new();
    let db = env.db();
    let books = env.path().join("config/pagerpilot/runbooks");
    std::fs::create_dir_all(&books).expect("mkdir");
    for id in [
        "payments-db-pool",
        "checkout-api-latency",
        "web-5xx",
        "node-disk-full",
    ] {
        std::fs::write(books.join(format!("{id}.md")), LOCAL_RUNBOOK).expect("write runbook");
    }
    let exit_file = env.path().join("exit-code");
    let shell_cmd = format!(
        "{bin} --db {db} --write; echo $? > {exit}; sleep 30",
        bin = binary_in(&env),
        db = quote(&db),
        exit = quote(&exit_file),
    );
    let tmux = Tmux::start(&env, "write", &shell_cmd);
    tmux.wait_for(&["INC-", "WRITE"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["Likely cause"]);
    tmux.keys(&["r"]);
    tmux.wait_for(&["WRITE MODE", "Harmless test runbook"]);

    tmux.keys(&["y"]);
    tmux.wait_for(&["ran #3: exit 0"]);

    // Step 2 takes over the terminal; answer its question, and the TUI comes back.
    tmux.keys(&["y"]);
    // The prompt on a line of its own: the TUI also shows it, inside the quoted command.
    tmux.wait_for_line_start("name?");
    tmux.keys(&["ada", "Enter"]);
    tmux.wait_for(&["ran #5: exit 0", "Harmless test runbook"]);

    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::fs::read_to_string(&exit_file).map_or(true, |t| t.trim().is_empty()) {
        assert!(Instant::now() < deadline, "pagerpilot did not exit after q");
        sleep(Duration::from_millis(100));
    }

    let rows = env.ok(&[
        "log",
        "--format",
        "json",
        "--db",
        db.to_str().expect("utf-8"),
    ]);
    let rows: serde_json::Value = serde_json::from_str(&rows).expect("log JSON");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 5, "{rows:#?}");
    assert_eq!(
        rows[0]["kind"], "mode",
        "starting with --write is logged first"
    );
    // Each run: the approval, logged before it ran, then its outcome.
    for pair in rows[1..].chunks(2) {
        let (approval, outcome) = (&pair[0], &pair[1]);
        assert_eq!(approval["mode"], "real");
        assert!(approval["exit_code"].is_null(), "{approval}");
        assert!(
            approval["note"]
                .as_str()
                .is_some_and(|n| n.starts_with("approved to run")),
            "{approval}"
        );
        assert_eq!(outcome["mode"], "real");
        assert_eq!(outcome["exit_code"], 0);
        assert!(outcome["duration_ms"].as_u64().is_some(), "{outcome}");
    }
    let out = rows[2]["output"].as_str().expect("output");
    assert!(out.starts_with("hello from "), "{out}");
    assert_eq!(
        rows[2]["output_digest"].as_str().map(str::len),
        Some(64),
        "{}",
        rows[2]
    );
    assert!(rows[4]["output"]
        .as_str()
        .is_some_and(|o| o.contains("interactive")));
    let verify = env.ok(&["log", "--verify", "--db", db.to_str().expect("utf-8")]);
    assert!(verify.starts_with("chain OK (5 rows;"), "{verify}");
}
