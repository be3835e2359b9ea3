//! Crash safety of the remediation log: the real binary in a real terminal is killed with
//! SIGKILL, again and again, while the operator approves steps. Every decision the screen had
//! shown as logged must be in the database afterwards, and the hash chain must verify.

mod common;

use std::collections::BTreeSet;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::tmux::{binary_in, quote, Tmux};
use common::Env;

const ROUNDS: usize = 6;

/// The pid of the process in the pane (the shell `exec`s into pagerpilot, so it is pagerpilot).
fn pane_pid(tmux: &Tmux) -> Option<i32> {
    let out = tmux
        .cmd()
        .args(["list-panes", "-t", tmux.session, "-F", "#{pane_pid}"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Every `logged #N` on the screen.
fn logged_seqs(screen: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let mut rest = screen;
    while let Some(i) = rest.find("logged #") {
        rest = &rest[i + "logged #".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            out.push(n);
        }
    }
    out
}

#[test]
fn kill_9_while_approving_loses_nothing_that_was_shown_as_logged() {
    let env = Env::new();
    let db = env.db();
    let mut shown: BTreeSet<i64> = BTreeSet::new();
    for round in 0..ROUNDS {
        let shell_cmd = format!("exec {} --db {}", binary_in(&env), quote(&db));
        let tmux = Tmux::start(&env, &format!("crash{round}"), &shell_cmd);
        tmux.wait_for(&["INC-", "DEMO"]);
        let pid = pane_pid(&tmux).expect("pane pid");
        tmux.keys(&["Enter"]);
        tmux.wait_for(&["Likely cause"]);
        tmux.keys(&["r"]);
        tmux.wait_for(&["DRY RUN"]);
        // Approve as fast as keys go; each round stops at a different moment.
        let presses = 1 + round % 4;
        for _ in 0..presses {
            tmux.keys(&["y"]);
        }
        sleep(Duration::from_millis(20 * round as u64));
        let screen = tmux.screen();
        // The pid we started, by number; never anything found by name.
        let status = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -9 {pid}");
        shown.extend(logged_seqs(&screen));
        // Wait for the pane to die so the next round starts fresh.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            assert!(Instant::now() < deadline, "pid {pid} survived kill -9");
            sleep(Duration::from_millis(20));
        }
    }
    let rows = env.ok(&[
        "log",
        "--format",
        "json",
        "--db",
        db.to_str().expect("utf-8"),
    ]);
    let rows: serde_json::Value = serde_json::from_str(&rows).expect("log JSON");
    let stored: BTreeSet<i64> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["seq"].as_i64())
        .collect();
    assert!(!shown.is_empty(), "no decision was ever shown as logged");
    let lost: Vec<&i64> = shown.difference(&stored).collect();
    assert!(lost.is_empty(), "shown as logged but not stored: {lost:?}");
    let verify = env.ok(&["log", "--verify", "--db", db.to_str().expect("utf-8")]);
    assert!(verify.starts_with("chain OK"), "{verify}");
}
