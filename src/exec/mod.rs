//! Runs an approved runbook step: `/bin/sh -c <command>` in its own process group, with a
//! timeout, bounded captured output and a digest of all of it.
//!
//! Design:
//! - The rendered command is passed to `sh` as one argv element, never spliced into another
//!   string. The renderer has already quoted the label values inside it.
//! - stdout and stderr share **one pipe** (both descriptors of the child are the write end of the
//!   same `std::io::pipe`), so the kernel keeps the exact order of the command's writes: no
//!   reordering between two readers, and the command text is not altered (no `exec 2>&1`). The
//!   cost is that the two streams cannot be told apart afterwards, which a runbook log does not
//!   need.
//! - The child leads its own process group (`process_group(0)`). On timeout the whole group gets
//!   SIGTERM (+ SIGCONT), then SIGKILL if anything is left after [`group::KILL_GRACE`]. Nothing is
//!   ever killed by name.
//! - When the shell exits but a background child still holds the pipe, the pipe is read on until
//!   the timeout and then the group is killed the same way; the outcome keeps the shell's exit
//!   code and says `timed_out`.
//! - Output is streamed into [`output::OutputCapture`]: the first `output_limit` bytes are kept,
//!   every byte is hashed and counted.

mod group;
mod interactive;
mod output;

use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;

use group::{Group, GroupGuard, DRAIN_AFTER_KILL, KILL_GRACE, POLL_INTERVAL};
use output::OutputCapture;

pub use interactive::run_interactive;

/// Bytes of combined output kept by default.
pub const DEFAULT_OUTPUT_LIMIT: usize = 64 * 1024;
/// The shell every step runs under.
pub const SHELL: &str = "/bin/sh";
/// Set to `1` in every step's environment.
pub const MARKER_ENV: &str = "PAGERPILOT";

const READ_CHUNK: usize = 64 * 1024;
const COMMAND_HEAD_CHARS: usize = 60;

/// One step to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// Run as `/bin/sh -c <command>`.
    pub command: String,
    /// Extra environment variables, on top of the inherited environment.
    pub env: Vec<(String, String)>,
    /// Working directory; the parent's when `None`.
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
    /// Bytes of combined output kept in [`ExecOutcome::output`].
    pub output_limit: usize,
}

impl ExecRequest {
    /// A request with no extra environment, the parent's directory and the default output limit.
    pub fn new(command: impl Into<String>, timeout: Duration) -> ExecRequest {
        ExecRequest {
            command: command.into(),
            env: Vec::new(),
            cwd: None,
            timeout,
            output_limit: DEFAULT_OUTPUT_LIMIT,
        }
    }
}

/// What happened when a step ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    /// The shell's exit code; `None` when it was killed by a signal.
    pub exit_code: Option<i32>,
    /// The signal that killed the shell.
    pub signal: Option<i32>,
    /// The timeout ran out: either the shell was still running, or it had exited but background
    /// processes still held its output open. Either way the process group was killed.
    pub timed_out: bool,
    /// The timeout that applied (for [`ExecOutcome::summary`]).
    pub timeout: Duration,
    /// From spawn until the run was over (kill sequence included).
    pub duration: Duration,
    /// stdout and stderr in arrival order: the first `output_limit` bytes, cut back to a
    /// character boundary, decoded lossily, then a marker line when cut.
    pub output: String,
    pub truncated: bool,
    /// All output bytes, including those past the limit.
    pub total_bytes: u64,
    /// Lowercase hex SHA-256 of all output bytes.
    pub output_sha256: String,
}

impl ExecOutcome {
    /// Exit code 0 within the timeout.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }

    /// One line for the timeline, e.g. `exit 0 in 1.2 s` or `killed after timeout 30 s`.
    pub fn summary(&self) -> String {
        let took = seconds(self.duration);
        let limit = seconds(self.timeout);
        match (self.timed_out, self.exit_code, self.signal) {
            (true, Some(code), _) => {
                format!("exit {code}, background processes killed after timeout {limit}")
            }
            (true, None, _) => format!("killed after timeout {limit}"),
            (false, Some(code), _) => format!("exit {code} in {took}"),
            (false, None, Some(signal)) => format!("killed by signal {signal} in {took}"),
            (false, None, None) => format!("ended without an exit status in {took}"),
        }
    }
}

/// `1.2 s`, or `30 s` for whole seconds.
fn seconds(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// Why a step could not be run (a command that runs and fails is an [`ExecOutcome`], not this).
#[derive(thiserror::Error, Debug)]
pub enum ExecError {
    #[error("could not start {SHELL} for `{command_head}`: {source}")]
    Spawn {
        command_head: String,
        source: std::io::Error,
    },
    #[error("working directory {} cannot be used: {source}", dir.display())]
    Cwd {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("working directory {} is not a directory", dir.display())]
    CwdNotDirectory { dir: PathBuf },
    #[error("environment variable {name:?} cannot be set: {problem}")]
    Env { name: String, problem: &'static str },
    #[error("command `{command_head}` contains a NUL byte")]
    NulInCommand { command_head: String },
    #[error("{what} for `{command_head}`: {source}")]
    Io {
        what: &'static str,
        command_head: String,
        source: std::io::Error,
    },
}

/// The start of a command, for error messages: its first line, at most 60 characters.
pub fn command_head(command: &str) -> String {
    let first_line = command.lines().next().unwrap_or("");
    let mut head: String = first_line.chars().take(COMMAND_HEAD_CHARS).collect();
    if head.len() < command.len() {
        head.push('…');
    }
    head
}

/// Checks what the OS would report less clearly (a missing cwd is a bare ENOENT from spawn).
fn validate(req: &ExecRequest) -> Result<(), ExecError> {
    if req.command.contains('\0') {
        return Err(ExecError::NulInCommand {
            command_head: command_head(&req.command),
        });
    }
    for (name, value) in &req.env {
        let problem = if name.is_empty() {
            Some("the name is empty")
        } else if name.contains('=') {
            Some("the name contains '='")
        } else if name.contains('\0') {
            Some("the name contains a NUL byte")
        } else if value.contains('\0') {
            Some("the value contains a NUL byte")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(ExecError::Env {
                name: name.clone(),
                problem,
            });
        }
    }
    if let Some(dir) = &req.cwd {
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(ExecError::CwdNotDirectory { dir: dir.clone() }),
            Err(source) => {
                return Err(ExecError::Cwd {
                    dir: dir.clone(),
                    source,
                })
            }
        }
    }
    Ok(())
}

/// Applies the parts common to captured and interactive runs.
fn configure(cmd: &mut std::process::Command, req: &ExecRequest) {
    cmd.arg("-c").arg(&req.command);
    for (name, value) in &req.env {
        cmd.env(name, value);
    }
    cmd.env(MARKER_ENV, "1");
    if let Some(dir) = &req.cwd {
        cmd.current_dir(dir);
    }
    std::os::unix::process::CommandExt::process_group(cmd, 0);
}

fn io_error(req: &ExecRequest, what: &'static str) -> impl FnOnce(std::io::Error) -> ExecError {
    let command_head = command_head(&req.command);
    move |source| ExecError::Io {
        what,
        command_head,
        source,
    }
}

/// Runs the step with its output captured (stdin is `/dev/null`).
pub async fn run(req: ExecRequest) -> Result<ExecOutcome, ExecError> {
    validate(&req)?;
    let (reader, writer) = std::io::pipe().map_err(io_error(&req, "creating the output pipe"))?;
    let writer_for_stderr = writer
        .try_clone()
        .map_err(io_error(&req, "duplicating the output pipe"))?;

    let mut std_cmd = std::process::Command::new(SHELL);
    configure(&mut std_cmd, &req);
    std_cmd
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_for_stderr);
    let mut cmd = tokio::process::Command::from(std_cmd);
    cmd.kill_on_drop(true);

    let started = Instant::now();
    let spawned = cmd.spawn();
    // The command holds our copies of the write end; drop them now or the pipe never ends.
    drop(cmd);
    let child = spawned.map_err(|source| ExecError::Spawn {
        command_head: command_head(&req.command),
        source,
    })?;
    let group = child.id().and_then(Group::led_by).ok_or_else(|| {
        io_error(&req, "reading the pid of the started shell")(std::io::Error::other(
            "the child has no usable pid",
        ))
    })?;
    let mut guard = GroupGuard::new(group);
    let pipe = pipe::Receiver::from_owned_fd(OwnedFd::from(reader))
        .map_err(io_error(&req, "reading the output pipe"))?;

    let mut pump = Pump {
        child,
        pipe,
        pipe_open: true,
        status: None,
        capture: OutputCapture::new(req.output_limit),
        buf: vec![0; READ_CHUNK],
    };
    let deadline = deadline_after(req.timeout);
    let finished = pump
        .until(deadline, |p| p.status.is_some() && !p.pipe_open)
        .await
        .map_err(io_error(&req, "reading the command's output"))?;

    let timed_out = !finished;
    if timed_out {
        group.terminate();
        let grace = deadline_after(KILL_GRACE);
        let gone = pump
            .until(grace, |p| p.status.is_some() && !group.alive())
            .await
            .map_err(io_error(&req, "waiting for the killed command"))?;
        if !gone {
            group.kill();
        }
        // Collect what was written before the end and reap the shell, within a bound.
        pump.until(deadline_after(DRAIN_AFTER_KILL), |p| {
            p.status.is_some() && !p.pipe_open
        })
        .await
        .map_err(io_error(&req, "waiting for the killed command"))?;
    }
    guard.disarm();

    let status = match pump.status {
        Some(status) => Some(status),
        None => pump
            .child
            .try_wait()
            .map_err(io_error(&req, "waiting for the command"))?,
    };
    let captured = pump.capture.finish();
    Ok(ExecOutcome {
        exit_code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        timed_out,
        timeout: req.timeout,
        duration: started.elapsed(),
        output: captured.output,
        truncated: captured.truncated,
        total_bytes: captured.total_bytes,
        output_sha256: captured.sha256,
    })
}

/// `now + after`, or a date far enough away when that overflows (a "no timeout" request).
fn deadline_after(after: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Reads the output pipe and waits for the shell at the same time.
struct Pump {
    child: tokio::process::Child,
    pipe: pipe::Receiver,
    pipe_open: bool,
    status: Option<ExitStatus>,
    capture: OutputCapture,
    buf: Vec<u8>,
}

impl Pump {
    /// Pumps until `done` holds (true) or `deadline` passes (false). `done` is re-checked after
    /// every event and at least every [`POLL_INTERVAL`].
    async fn until(
        &mut self,
        deadline: tokio::time::Instant,
        done: impl Fn(&Pump) -> bool,
    ) -> std::io::Result<bool> {
        let expired = tokio::time::sleep_until(deadline);
        tokio::pin!(expired);
        loop {
            if done(self) {
                return Ok(true);
            }
            tokio::select! {
                read = self.pipe.read(&mut self.buf), if self.pipe_open => match read {
                    Ok(0) => self.pipe_open = false,
                    Ok(n) => self.capture.push(&self.buf[..n]),
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err),
                },
                status = self.child.wait(), if self.status.is_none() => {
                    self.status = Some(status?);
                }
                () = &mut expired => return Ok(done(self)),
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(
        exit_code: Option<i32>,
        signal: Option<i32>,
        timed_out: bool,
        duration_ms: u64,
    ) -> ExecOutcome {
        ExecOutcome {
            exit_code,
            signal,
            timed_out,
            timeout: Duration::from_secs(30),
            duration: Duration::from_millis(duration_ms),
            output: String::new(),
            truncated: false,
            total_bytes: 0,
            output_sha256: output::empty_sha256(),
        }
    }

    #[test]
    fn summary_of_a_normal_exit() {
        let done = outcome(Some(0), None, false, 1234);
        assert_eq!(done.summary(), "exit 0 in 1.2 s");
        assert!(done.succeeded());
        let failed = outcome(Some(3), None, false, 50);
        assert_eq!(failed.summary(), "exit 3 in 0.1 s");
        assert!(!failed.succeeded());
    }

    #[test]
    fn summary_of_a_timeout() {
        let killed = outcome(None, Some(15), true, 32_000);
        assert_eq!(killed.summary(), "killed after timeout 30 s");
        assert!(!killed.succeeded());
        let mut short = outcome(None, Some(15), true, 600);
        short.timeout = Duration::from_millis(500);
        assert_eq!(short.summary(), "killed after timeout 0.5 s");
    }

    #[test]
    fn summary_of_an_exit_whose_background_outlived_the_timeout() {
        let lingering = outcome(Some(0), None, true, 30_100);
        assert_eq!(
            lingering.summary(),
            "exit 0, background processes killed after timeout 30 s"
        );
        assert!(!lingering.succeeded());
    }

    #[test]
    fn summary_of_a_signal() {
        let done = outcome(None, Some(9), false, 300);
        assert_eq!(done.summary(), "killed by signal 9 in 0.3 s");
        assert!(!done.succeeded());
    }

    #[test]
    fn command_head_is_the_first_line_cut_to_60_chars() {
        assert_eq!(command_head("echo hi"), "echo hi");
        assert_eq!(command_head("echo a\necho b"), "echo a…");
        let long = "é".repeat(80);
        assert_eq!(command_head(&long), format!("{}…", "é".repeat(60)));
        assert_eq!(command_head(""), "");
    }

    #[test]
    fn invalid_requests_name_the_bad_input() {
        let mut req = ExecRequest::new("true", Duration::from_secs(1));
        req.env.push(("BAD=NAME".into(), "x".into()));
        let err = validate(&req).map(|()| "accepted").unwrap_err();
        assert!(err.to_string().contains("\"BAD=NAME\""), "{err}");

        let req = ExecRequest::new("echo a\0b", Duration::from_secs(1));
        assert!(matches!(
            validate(&req),
            Err(ExecError::NulInCommand { .. })
        ));
    }
}
