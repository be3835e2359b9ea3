//! Interactive runs: the step gets the terminal (stdin, stdout and stderr inherited) and, when
//! stdin is a terminal, becomes its foreground process group, so it can read the keyboard and
//! Ctrl-C reaches the step instead of pagerpilot. The caller has left the alternate screen and raw
//! mode before calling.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use std::os::fd::BorrowedFd;
use std::os::unix::process::CommandExt;

use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{getpgrp, setpgid, tcgetpgrp, tcsetpgrp, Pid};

use super::group::{Group, GroupGuard, KILL_GRACE, POLL_INTERVAL};
use super::{command_head, configure, io_error, output, validate, ExecError, ExecOutcome};
use super::{ExecRequest, SHELL};

/// Runs the step on the terminal and blocks until it ends or the timeout kills its process group.
/// Nothing is captured: `output` is empty and `output_sha256` is the digest of no bytes.
pub fn run_interactive(req: &ExecRequest) -> Result<ExecOutcome, ExecError> {
    validate(req)?;
    let mut cmd = std::process::Command::new(SHELL);
    configure(&mut cmd, req);
    let owner = Owner::of_terminal();
    if owner.is_some() {
        // The step takes the terminal itself before it execs, so even a step that reads at once
        // finds it its own (the parent's hand-over below may come later under load, and a
        // background read fails outright where SIGTTIN is ignored, as in tmux panes).
        // SAFETY: the closure only makes async-signal-safe system calls and allocates nothing.
        unsafe {
            cmd.pre_exec(take_terminal_in_child);
        }
    }

    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|source| ExecError::Spawn {
        command_head: command_head(&req.command),
        source,
    })?;
    let Some(group) = Group::led_by(child.id()) else {
        // Cannot happen for a real child; stop it rather than lose track of it.
        let _ = child.kill();
        let _ = child.wait();
        return Err(io_error(req, "reading the pid of the started shell")(
            std::io::Error::other("the child has no usable pid"),
        ));
    };
    let mut guard = GroupGuard::new(group);
    let terminal = owner.and_then(|owner| Foreground::hand_to(owner, group));

    let deadline = started.checked_add(req.timeout);
    let mut status = wait_until(&mut child, deadline, || true)
        .map_err(io_error(req, "waiting for the command"))?;
    let timed_out = status.is_none();
    if timed_out {
        group.terminate();
        let grace = Instant::now().checked_add(KILL_GRACE);
        status = wait_until(&mut child, grace, || !group.alive())
            .map_err(io_error(req, "waiting for the killed command"))?;
        if status.is_none() || group.alive() {
            group.kill();
        }
        if status.is_none() {
            // SIGKILL cannot be ignored; the shell is gone or about to be.
            status = Some(
                child
                    .wait()
                    .map_err(io_error(req, "waiting for the killed command"))?,
            );
        }
    }
    guard.disarm();
    drop(terminal);

    Ok(ExecOutcome {
        exit_code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        timed_out,
        timeout: req.timeout,
        duration: started.elapsed(),
        output: String::new(),
        truncated: false,
        total_bytes: 0,
        output_sha256: output::empty_sha256(),
    })
}

/// Polls the child until it has exited and `also` holds, or `deadline` passes (`None`: never).
/// Returns the exit status if the child was reaped.
fn wait_until(
    child: &mut std::process::Child,
    deadline: Option<Instant>,
    also: impl Fn() -> bool,
) -> std::io::Result<Option<ExitStatus>> {
    let mut status = None;
    loop {
        if status.is_none() {
            status = child.try_wait()?;
        }
        if status.is_some() && also() {
            return Ok(status);
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(status);
        }
        let nap = deadline.map_or(POLL_INTERVAL, |d| (d - now).min(POLL_INTERVAL));
        std::thread::sleep(nap.max(Duration::from_millis(1)));
    }
}

/// Runs in the forked child, before `exec`: makes the child's own process group the terminal's
/// foreground group and gives SIGTTIN and SIGTTOU their default actions back (an ignored SIGTTIN
/// makes a background read fail with EIO instead of waiting). Failures are left to the parent's
/// hand-over, which does the same from outside.
fn take_terminal_in_child() -> std::io::Result<()> {
    let own = Pid::from_raw(0);
    let _ = setpgid(own, own);
    // SAFETY: fd 0 is open for the lifetime of the child (it is the inherited terminal).
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let mut old = SigSet::empty();
    if sigprocmask(SigmaskHow::SIG_BLOCK, Some(&ttou), Some(&mut old)).is_ok() {
        let _ = tcsetpgrp(stdin, getpgrp());
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
    for sig in [Signal::SIGTTIN, Signal::SIGTTOU] {
        // SAFETY: resetting to the default action installs no handler.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    Ok(())
}

/// The terminal on stdin, when its foreground group is ours (so it is ours to hand over).
struct Owner {
    stdin: std::io::Stdin,
    previous: Pid,
}

impl Owner {
    fn of_terminal() -> Option<Owner> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return None;
        }
        let previous = tcgetpgrp(stdin.as_fd()).ok()?;
        // Not in the foreground ourselves: not ours to give.
        (previous == getpgrp()).then_some(Owner { stdin, previous })
    }
}

/// The step's process group as the terminal's foreground group, handed back on drop.
struct Foreground {
    stdin: std::io::Stdin,
    previous: Pid,
}

impl Foreground {
    /// Hands the terminal to `group` (again, if the child already took it: harmless).
    fn hand_to(owner: Owner, group: Group) -> Option<Foreground> {
        let Owner { stdin, previous } = owner;
        let foreground = Foreground { stdin, previous };
        if let Err(err) = tcsetpgrp(foreground.stdin.as_fd(), group.pgid()) {
            // The child may have taken it and already exited; the drop takes it back either way.
            tracing::debug!(%err, "could not hand the terminal to the step");
        }
        // If the step touched the terminal before it was its own, it was stopped (SIGTTIN or
        // SIGTTOU); let it go on now that it may.
        group.signal(Signal::SIGCONT);
        Some(foreground)
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        // We are a background group now: taking the terminal back raises SIGTTOU unless it is
        // blocked, so block it for this thread around the call.
        let mut ttou = SigSet::empty();
        ttou.add(Signal::SIGTTOU);
        let old_mask = ttou.thread_swap_mask(SigmaskHow::SIG_BLOCK);
        if let Err(err) = tcsetpgrp(self.stdin.as_fd(), self.previous) {
            tracing::warn!(%err, "could not take the terminal back from the step");
        }
        match old_mask {
            Ok(mask) => {
                if let Err(err) = mask.thread_set_mask() {
                    tracing::warn!(%err, "could not restore the signal mask");
                }
            }
            Err(err) => tracing::warn!(%err, "could not block SIGTTOU"),
        }
    }
}
