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

    tmux.keys(&["Enter"]);
    tmux.wait_for(&["Likely cause"]);

    tmux.keys(&["r"]);
    let stepper = tmux.wait_for(&["DRY RUN"]);
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
