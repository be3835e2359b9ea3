//! Helpers shared by the CLI and smoke tests: an isolated environment for the real binary.

#![allow(dead_code)]

pub mod live;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const AT: &str = "2026-11-25T14:00:00Z";

/// A temp HOME with its own XDG dirs, so tests never touch the user's files.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("data").join("pp.db")
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagerpilot"));
        self.apply(&mut cmd);
        cmd
    }

    pub fn apply(&self, cmd: &mut Command) {
        let p = self.path();
        cmd.env("HOME", p)
            .env("XDG_CONFIG_HOME", p.join("config"))
            .env("XDG_DATA_HOME", p.join("data"))
            .env("XDG_STATE_HOME", p.join("state"))
            .env_remove("NO_COLOR")
            .env_remove("PAGERPILOT_DB")
            .env_remove("PAGERPILOT_THEME")
            .env_remove("PAGERPILOT_CONFIG")
            .env_remove("PAGERPILOT_CONTEXT")
            .env_remove("PAGERPILOT_PROMETHEUS_URL")
            .env_remove("PAGERPILOT_ALERTMANAGER_URL")
            .env_remove("PAGERPILOT_LOKI_URL");
    }

    /// Runs the binary with `args`; panics with its stderr if it does not exit 0.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "pagerpilot {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run pagerpilot")
    }
}
