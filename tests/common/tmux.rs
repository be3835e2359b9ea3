//! A real terminal for the real binary: tmux on a private socket, killed by its own socket.

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::Env;

pub struct Tmux {
    pub socket: String,
    pub session: &'static str,
}

impl Tmux {
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// Starts `shell_cmd` in a detached 120x36 session on a private socket named after `tag`.
    pub fn start(env: &Env, tag: &str, shell_cmd: &str) -> Tmux {
        let socket = format!("pp-{tag}-{}", std::process::id());
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

    pub fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", self.session])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Waits until a screen line starts with `prefix` (text that the TUI might also show
    /// elsewhere on a line, such as a prompt quoted in a command); panics if it never does.
    pub fn wait_for_line_start(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.lines().any(|l| l.starts_with(prefix)) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for a line starting {prefix:?}; screen was:\n{screen}");
            }
            sleep(Duration::from_millis(100));
        }
    }

    /// Waits until every needle is on screen; panics with the screen if it never is.
    pub fn wait_for(&self, needles: &[&str]) -> String {
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

/// `env ... pagerpilot` with the isolated HOME and XDG dirs of `env`, as a shell command prefix.
pub fn binary_in(env: &Env) -> String {
    let p = env.path();
    format!(
        "env -u NO_COLOR HOME={home} XDG_CONFIG_HOME={cfg} XDG_DATA_HOME={data} \
         XDG_STATE_HOME={state} TERM=xterm-256color {bin}",
        home = quote(p),
        cfg = quote(&p.join("config")),
        data = quote(&p.join("data")),
        state = quote(&p.join("state")),
        bin = quote(Path::new(env!("CARGO_BIN_EXE_pagerpilot"))),
    )
}

/// A path as one single-quoted shell word.
pub fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}
