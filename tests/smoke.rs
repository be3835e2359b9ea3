//! Drives the real binary in a real terminal (tmux on a private socket): sees the incident list,
//! opens an incident, approves a dry-run step, quits with `q`, and finds the decision in SQLite.

mod common;

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::Env;

struct Tmux {
    socket: String,
    session: &'static str,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    fn start(env: &Env, shell_cmd: &str) -> Tmux {
        let socket = format!("pp-smoke-{}", std::process::id());
        let t = Tmux {
            socket,
            session: "smoke",
        };
        let status = t
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                t.session,
                "-x",
                "120",
                "-y",
                "36",
            ])
            .arg(shell_cmd)
            .current_dir(env.path())
            .status()
            .expect("tmux must be installed (./scripts/test installs it)");
        assert!(status.success(), "tmux new-session failed");
        t
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", self.session])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Waits until every needle is on screen; panics with the screen if it never is.
    fn wait_for(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {needles:?}; screen was:\n{screen}");
            }
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Only our private server: never anything found by name.
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn open_an_incident_approve_a_dry_run_step_and_quit() {
    let env = Env::new();
    let db = env.db();
    let exit_file = env.path().join("exit-code");
    let p = env.path();
    let shell_cmd = format!(
        "env -u NO_COLOR HOME={home} XDG_CONFIG_HOME={cfg} XDG_DATA_HOME={data} \
         XDG_STATE_HOME={state} TERM=xterm-256color {bin} --db {db}; echo $? > {exit}; sleep 30",
        home = quote(p),
        cfg = quote(&p.join("config")),
        data = quote(&p.join("data")),
        state = quote(&p.join("state")),
        bin = quote(Path::new(env!("CARGO_BIN_EXE_pagerpilot"))),
        db = quote(&db),
        exit = quote(&exit_file),
    );
    let tmux = Tmux::start(&env, &shell_cmd);

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
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["decision"], "approved");
    assert_eq!(rows[0]["mode"], "dry_run");
    let verify = env.ok(&["log", "--verify", "--db", db.to_str().expect("utf-8")]);
    assert!(verify.starts_with("ok: 1 rows"), "{verify}");
}
