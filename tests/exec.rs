//! The step executor against real `/bin/sh` processes.

use std::path::Path;
use std::time::{Duration, Instant};

use pagerpilot::exec::{run, run_interactive, ExecError, ExecRequest, DEFAULT_OUTPUT_LIMIT};
use sha2::{Digest, Sha256};

fn request(command: &str, timeout: Duration) -> ExecRequest {
    ExecRequest::new(command, timeout)
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Whether `pid` is a live process (a zombie counts as gone: it has exited, only its parent has
/// not collected it yet).
fn process_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state is the first field after the parenthesised command name.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z") | Some("X") | None)
}

/// Waits up to `limit` for `pid` to be gone.
fn gone_within(pid: i32, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    !process_alive(pid)
}

fn read_pid(path: &Path) -> i32 {
    let text = std::fs::read_to_string(path).expect("the command wrote its background pid");
    text.trim().parse().expect("pidfile holds a pid")
}

/// Ends a process this test started (by its pid) if the executor left it behind.
fn reap_leftover(pid: i32) {
    if process_alive(pid) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

#[tokio::test]
async fn exit_zero_keeps_the_output() {
    let done = run(request(
        "printf 'hello\\n'; echo world",
        Duration::from_secs(10),
    ))
    .await
    .expect("runs");
    assert_eq!(done.exit_code, Some(0));
    assert_eq!(done.signal, None);
    assert!(!done.timed_out);
    assert!(done.succeeded());
    assert_eq!(done.output, "hello\nworld\n");
    assert!(!done.truncated);
    assert_eq!(done.total_bytes, 12);
    assert_eq!(done.output_sha256, sha256_hex(b"hello\nworld\n"));
    assert!(
        done.summary().starts_with("exit 0 in "),
        "{}",
        done.summary()
    );
}

#[tokio::test]
async fn nonzero_exit_code_is_kept() {
    let done = run(request("echo before; exit 3", Duration::from_secs(10)))
        .await
        .expect("runs");
    assert_eq!(done.exit_code, Some(3));
    assert_eq!(done.signal, None);
    assert!(!done.succeeded());
    assert_eq!(done.output, "before\n");
}

#[tokio::test]
async fn stderr_is_interleaved_with_stdout_in_order() {
    let command = "echo one; echo two >&2; echo three; echo four >&2; printf five >&2";
    let done = run(request(command, Duration::from_secs(10)))
        .await
        .expect("runs");
    assert_eq!(done.output, "one\ntwo\nthree\nfour\nfive");
}

#[tokio::test]
async fn signal_death_is_reported() {
    let done = run(request("echo bye; kill -9 $$", Duration::from_secs(10)))
        .await
        .expect("runs");
    assert_eq!(done.exit_code, None);
    assert_eq!(done.signal, Some(9));
    assert!(!done.timed_out);
    assert!(done.summary().starts_with("killed by signal 9 in "));
    assert_eq!(done.output, "bye\n");
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("bg.pid");
    let command = format!(
        "sleep 30 & echo $! > '{}'; echo started; sleep 30",
        pidfile.display()
    );
    let started = Instant::now();
    let done = run(request(&command, Duration::from_millis(500)))
        .await
        .expect("runs");
    let background = read_pid(&pidfile);
    let killed = gone_within(background, Duration::from_secs(3));
    reap_leftover(background);

    assert!(done.timed_out);
    assert_eq!(done.exit_code, None);
    assert_eq!(done.signal, Some(15), "SIGTERM ends the shell");
    assert_eq!(done.output, "started\n");
    assert_eq!(done.summary(), "killed after timeout 0.5 s");
    assert!(!done.succeeded());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(killed, "background sleep {background} survived the timeout");
}

#[tokio::test]
async fn sigterm_is_followed_by_sigkill() {
    // The shell ignores SIGTERM, so only the SIGKILL after the grace period ends it.
    let done = run(request(
        "trap '' TERM; sleep 30",
        Duration::from_millis(300),
    ))
    .await
    .expect("runs");
    assert!(done.timed_out);
    assert_eq!(done.signal, Some(9));
    assert!(
        done.duration >= Duration::from_secs(2),
        "{:?}",
        done.duration
    );
    assert!(
        done.duration < Duration::from_secs(6),
        "{:?}",
        done.duration
    );
}

#[tokio::test]
async fn background_child_holding_the_pipe_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("bg.pid");
    let command = format!("sleep 30 & echo $! > '{}'; echo done", pidfile.display());
    let done = run(request(&command, Duration::from_millis(500)))
        .await
        .expect("runs");
    let background = read_pid(&pidfile);
    let killed = gone_within(background, Duration::from_secs(3));
    reap_leftover(background);

    assert_eq!(done.exit_code, Some(0), "the shell itself exited normally");
    assert!(
        done.timed_out,
        "but its output stayed open past the timeout"
    );
    assert!(!done.succeeded());
    assert_eq!(done.output, "done\n");
    assert!(
        done.duration < Duration::from_secs(5),
        "{:?}",
        done.duration
    );
    assert!(killed, "background sleep {background} survived");
}

#[tokio::test]
async fn background_child_without_the_pipe_does_not_hold_up_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("bg.pid");
    let command = format!(
        "sleep 30 >/dev/null 2>&1 & echo $! > '{}'; echo done",
        pidfile.display()
    );
    let done = run(request(&command, Duration::from_secs(20)))
        .await
        .expect("runs");
    let background = read_pid(&pidfile);
    reap_leftover(background);

    assert!(done.succeeded(), "{}", done.summary());
    assert_eq!(done.output, "done\n");
    assert!(
        done.duration < Duration::from_secs(5),
        "{:?}",
        done.duration
    );
}

#[tokio::test]
async fn dropping_the_run_kills_the_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("bg.pid");
    let command = format!("sleep 30 & echo $! > '{}'; sleep 30", pidfile.display());
    let cancelled = tokio::time::timeout(
        Duration::from_millis(500),
        run(request(&command, Duration::from_secs(60))),
    )
    .await;
    assert!(cancelled.is_err(), "the run should still have been going");
    let background = read_pid(&pidfile);
    let killed = gone_within(background, Duration::from_secs(3));
    reap_leftover(background);
    assert!(
        killed,
        "background sleep {background} survived the cancelled run"
    );
}

#[tokio::test]
async fn big_output_is_truncated_with_marker_and_full_digest() {
    let total: usize = 50_000_000;
    let done = run(request(
        &format!("yes | head -c {total}"),
        Duration::from_secs(60),
    ))
    .await
    .expect("runs");

    let mut expected = Sha256::new();
    let chunk = b"y\n".repeat(8 * 1024);
    for _ in 0..total / chunk.len() {
        expected.update(&chunk);
    }
    expected.update(&chunk[..total % chunk.len()]);

    let marker = format!(
        "\n[pagerpilot: output truncated: {total} bytes total, {DEFAULT_OUTPUT_LIMIT} kept]\n"
    );
    assert!(done.succeeded(), "{}", done.summary());
    assert!(done.truncated);
    assert_eq!(done.total_bytes, total as u64);
    assert_eq!(done.output_sha256, format!("{:x}", expected.finalize()));
    assert!(done.output.ends_with(&marker), "{:?}", &done.output[..40]);
    assert!(done.output.len() <= DEFAULT_OUTPUT_LIMIT + marker.len());
    let kept = &done.output[..done.output.len() - marker.len()];
    assert_eq!(kept, "y\n".repeat(DEFAULT_OUTPUT_LIMIT / 2));
}

#[tokio::test]
async fn small_limit_cuts_at_a_char_boundary() {
    let mut req = request("printf 'abcd\\303\\251f'", Duration::from_secs(10)); // "abcdéf"
    req.output_limit = 5;
    let done = run(req).await.expect("runs");
    assert!(done.truncated);
    assert_eq!(
        done.output,
        "abcd\n[pagerpilot: output truncated: 7 bytes total, 4 kept]\n"
    );
    assert_eq!(done.output_sha256, sha256_hex("abcdéf".as_bytes()));
}

#[tokio::test]
async fn missing_command_is_exit_127_not_an_error() {
    let done = run(request(
        "pagerpilot-no-such-command-xyz",
        Duration::from_secs(10),
    ))
    .await
    .expect("the shell starts even if the command does not exist");
    assert_eq!(done.exit_code, Some(127));
    assert!(done.output.contains("not found"), "{}", done.output);
}

#[tokio::test]
async fn missing_cwd_is_an_error_naming_the_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-dir");
    let mut req = request("true", Duration::from_secs(10));
    req.cwd = Some(missing.clone());
    let err = run(req).await.expect_err("a missing cwd cannot run");
    assert!(matches!(err, ExecError::Cwd { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn cwd_that_is_a_file_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").expect("write");
    let mut req = request("true", Duration::from_secs(10));
    req.cwd = Some(file.clone());
    let err = run(req).await.expect_err("a file is not a directory");
    assert!(matches!(err, ExecError::CwdNotDirectory { .. }), "{err:?}");
    assert!(err.to_string().contains(&file.display().to_string()));
}

#[tokio::test]
async fn cwd_is_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().canonicalize().expect("canonical tempdir");
    let mut req = request("pwd -P", Duration::from_secs(10));
    req.cwd = Some(dir.path().to_path_buf());
    let done = run(req).await.expect("runs");
    assert_eq!(done.output.trim_end(), real.display().to_string());
}

#[tokio::test]
async fn env_is_passed_through_with_the_marker() {
    let mut req = request(
        "printf '%s|%s|%s' \"$PP_INCIDENT\" \"$PAGERPILOT\" \"${PATH:+inherited}\"",
        Duration::from_secs(10),
    );
    req.env
        .push(("PP_INCIDENT".into(), "inc-42 'quoted'".into()));
    let done = run(req).await.expect("runs");
    assert_eq!(done.output, "inc-42 'quoted'|1|inherited");
}

#[tokio::test]
async fn bad_env_name_is_an_error_naming_it() {
    let mut req = request("true", Duration::from_secs(10));
    req.env.push(("PP=INCIDENT".into(), "x".into()));
    let err = run(req).await.expect_err("bad name");
    assert!(err.to_string().contains("PP=INCIDENT"), "{err}");
}

#[tokio::test]
async fn invalid_utf8_is_decoded_lossily() {
    let done = run(request("printf 'a\\377b\\n'", Duration::from_secs(10)))
        .await
        .expect("runs");
    assert_eq!(done.output, "a\u{FFFD}b\n");
    assert_eq!(done.total_bytes, 4);
    assert_eq!(done.output_sha256, sha256_hex(b"a\xffb\n"));
}

#[tokio::test]
async fn stdin_is_empty_for_captured_runs() {
    let done = run(request("wc -c", Duration::from_secs(10)))
        .await
        .expect("runs");
    assert_eq!(done.output.trim(), "0");
}

#[test]
fn interactive_run_returns_the_exit_code() {
    let empty = sha256_hex(b"");
    let ok = run_interactive(&request("true", Duration::from_secs(10))).expect("runs");
    assert_eq!(ok.exit_code, Some(0));
    assert!(ok.succeeded());
    assert_eq!(ok.output, "");
    assert!(!ok.truncated);
    assert_eq!(ok.output_sha256, empty);

    let failed = run_interactive(&request("exit 4", Duration::from_secs(10))).expect("runs");
    assert_eq!(failed.exit_code, Some(4));
    assert!(!failed.succeeded());
    assert_eq!(failed.output_sha256, empty);
}

#[test]
fn interactive_run_times_out_and_kills_the_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("bg.pid");
    let command = format!(
        "sleep 30 >/dev/null & echo $! > '{}'; sleep 30",
        pidfile.display()
    );
    let done = run_interactive(&request(&command, Duration::from_millis(500))).expect("runs");
    let background = read_pid(&pidfile);
    let killed = gone_within(background, Duration::from_secs(3));
    reap_leftover(background);

    assert!(done.timed_out);
    assert_eq!(done.exit_code, None);
    assert_eq!(done.signal, Some(15));
    assert!(
        done.duration < Duration::from_secs(5),
        "{:?}",
        done.duration
    );
    assert!(killed, "background sleep {background} survived");
}

#[test]
fn interactive_run_reports_a_missing_cwd() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("gone");
    let mut req = request("true", Duration::from_secs(10));
    req.cwd = Some(missing.clone());
    let err = run_interactive(&req).expect_err("missing cwd");
    assert!(err.to_string().contains(&missing.display().to_string()));
}

/// Set in the environment of the copy of this test binary that runs under `script(1)`.
const TTY_PROBE_ENV: &str = "PP_EXEC_TTY_PROBE";

/// On a terminal the step must become the foreground process group (otherwise `stty`, like any
/// terminal read or mode change, stops it with SIGTTOU until the timeout), and pagerpilot must get
/// the terminal back afterwards. `script(1)` provides the terminal: this test re-runs itself
/// under it.
#[test]
fn interactive_run_gets_the_terminal_as_foreground() {
    if std::env::var_os(TTY_PROBE_ENV).is_some() {
        use std::io::IsTerminal;
        assert!(std::io::stdin().is_terminal(), "script(1) gives a terminal");
        let done = run_interactive(&request(
            "stty -echo && stty echo && echo tty-probe-step-ran",
            Duration::from_secs(3),
        ))
        .expect("runs");
        assert!(done.succeeded(), "{}", done.summary());
        let foreground = nix::unistd::tcgetpgrp(std::io::stdin()).expect("tcgetpgrp");
        assert_eq!(foreground, nix::unistd::getpgrp(), "terminal handed back");
        println!("tty-probe-ok");
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let inner = format!(
        "'{}' --exact interactive_run_gets_the_terminal_as_foreground --nocapture",
        exe.display()
    );
    let out = match std::process::Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .env(TTY_PROBE_ENV, "1")
        .stdin(std::process::Stdio::null())
        .output()
    {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: script(1) from util-linux is not installed");
            return;
        }
        other => other.expect("script(1) starts"),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("tty-probe-ok"),
        "under a terminal: {}\n{text}",
        out.status
    );
}
