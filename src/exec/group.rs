//! Process-group signalling. Every command runs as the leader of its own process group (pgid =
//! its pid), so one `killpg` reaches the shell and everything it started, and nothing else.

use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How long the group gets between SIGTERM and SIGKILL.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(2);
/// How often the group is checked while waiting for it to go away.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// After SIGKILL, how long the output pipe may still be drained before it is abandoned (a process
/// that left the group with `setsid` could hold it open for ever).
pub(crate) const DRAIN_AFTER_KILL: Duration = Duration::from_millis(500);

/// The process group led by a child we spawned with `process_group(0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group(Pid);

impl Group {
    /// The group led by the child with this pid; `None` if the pid does not fit a `pid_t`.
    pub fn led_by(child_pid: u32) -> Option<Group> {
        i32::try_from(child_pid)
            .ok()
            .filter(|&pid| pid > 1)
            .map(|pid| Group(Pid::from_raw(pid)))
    }

    /// Sends `signal` to every process in the group. A group that is already gone is fine; any
    /// other failure is logged, because the caller goes on to the next step of the kill sequence.
    pub fn signal(self, signal: Signal) {
        match killpg(self.0, signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(err) => tracing::warn!(pgid = self.0.as_raw(), %signal, %err, "killpg failed"),
        }
    }

    /// SIGTERM, plus SIGCONT so that a stopped member can act on it.
    pub fn terminate(self) {
        self.signal(Signal::SIGTERM);
        self.signal(Signal::SIGCONT);
    }

    pub fn kill(self) {
        self.signal(Signal::SIGKILL);
    }

    /// Whether any process (zombies included) is still in the group.
    pub fn alive(self) -> bool {
        match killpg(self.0, None) {
            Err(Errno::ESRCH) => false,
            // EPERM: something is there that we may not signal; count it as alive.
            Ok(()) | Err(_) => true,
        }
    }

    pub fn pgid(self) -> Pid {
        self.0
    }
}

/// Kills the group with SIGKILL when dropped while armed: a cancelled `run` future or an early
/// error return must not leave the command's background processes behind.
pub(crate) struct GroupGuard {
    group: Group,
    armed: bool,
}

impl GroupGuard {
    pub fn new(group: Group) -> GroupGuard {
        GroupGuard { group, armed: true }
    }

    /// The run finished and dealt with the group itself.
    pub fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            self.group.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_that_are_not_a_child_group_are_refused() {
        assert_eq!(Group::led_by(0), None);
        assert_eq!(Group::led_by(1), None);
        assert_eq!(Group::led_by(u32::MAX), None);
        assert_eq!(Group::led_by(4242).map(|g| g.pgid().as_raw()), Some(4242));
    }
}
