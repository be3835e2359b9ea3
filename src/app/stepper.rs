//! The runbook stepper: one runbook opened for one incident, stepped through in order.

use std::time::Duration;

use crate::domain::runbook::{self, Risk, Runbook, Step};
use crate::domain::Labels;

/// How long a step may run when its runbook does not say.
pub const DEFAULT_TIMEOUT: Duration = runbook::DEFAULT_STEP_TIMEOUT;

/// Labels that name what a step acts on, most specific first; the first one set on the alert
/// is what the operator types to confirm a destructive step.
const TARGET_LABELS: [&str; 7] = [
    "service",
    "deployment",
    "pod",
    "instance",
    "node",
    "job",
    "namespace",
];

#[derive(Clone, Debug, PartialEq)]
pub enum StepStatus {
    Pending,
    /// Sent to the store; not shown as logged until it answers.
    Saving {
        request: u64,
    },
    /// Approved and logged as a dry run (the store's sequence number).
    DryRun {
        seq: i64,
    },
    Skipped {
        seq: i64,
    },
    /// The operator declined to run it (or cancelled a destructive confirmation).
    Rejected {
        seq: i64,
    },
    /// Running for real; the outcome is not known yet.
    Running {
        request: u64,
    },
    /// Ran for real and logged: `ok` is exit 0 within the timeout; `summary` as
    /// "exit 0 in 1.2 s".
    Ran {
        seq: i64,
        ok: bool,
        summary: String,
    },
    /// The store refused the write, or the command could not be started; nothing was logged.
    Failed(String),
}

impl StepStatus {
    /// The step may still be decided.
    pub fn is_open(&self) -> bool {
        matches!(self, StepStatus::Pending | StepStatus::Failed(_))
    }

    /// A write or a run for this step is in flight.
    pub fn is_busy(&self) -> bool {
        matches!(self, StepStatus::Saving { .. } | StepStatus::Running { .. })
    }
}

/// A pre- or post-condition of a step, as the runtime evaluates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepCheck {
    /// `pre` or `post`.
    pub when: &'static str,
    /// `promql` or `logql`.
    pub lang: &'static str,
    pub query: String,
}

/// Where a step's rollback stands.
#[derive(Clone, Debug, PartialEq)]
pub enum RollbackStatus {
    Running { request: u64 },
    Saving { request: u64 },
    Done { seq: i64, summary: String },
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepState {
    pub title: String,
    pub prose: String,
    pub risk: Risk,
    /// The exact command as it would run, or why it cannot be rendered.
    pub command: Result<String, String>,
    /// The rollback command, rendered the same way, when the step has one.
    pub rollback: Option<Result<String, String>>,
    pub timeout: Duration,
    /// Needs the terminal (the TUI is suspended while it runs).
    pub interactive: bool,
    pub checks: Vec<StepCheck>,
    pub status: StepStatus,
    pub rollback_status: Option<RollbackStatus>,
}

impl StepState {
    /// A step as the stepper shows it, with `command` and `rollback` already rendered.
    pub fn new(title: &str, prose: &str, risk: Risk, command: Result<String, String>) -> StepState {
        StepState {
            title: title.to_string(),
            prose: prose.to_string(),
            risk,
            command,
            rollback: None,
            timeout: DEFAULT_TIMEOUT,
            interactive: false,
            checks: Vec::new(),
            status: StepStatus::Pending,
            rollback_status: None,
        }
    }

    fn from_step(step: &Step, labels: &Labels) -> StepState {
        let render = |cmd: &str| runbook::render_command(cmd, labels).map_err(|e| e.to_string());
        let command = match &step.command {
            Some(cmd) => render(cmd),
            None => Err("this step has no command".to_string()),
        };
        let mut state = StepState::new(&step.title, &step.prose, step.risk, command);
        state.rollback = step.rollback.as_deref().map(render);
        state.timeout = step.timeout;
        state.interactive = step.interactive;
        state.checks = step
            .checks
            .iter()
            .map(|c| StepCheck {
                when: c.when.as_str(),
                lang: c.lang.as_str(),
                query: c.query.clone(),
            })
            .collect();
        state
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stepper {
    pub incident_id: String,
    pub runbook_id: String,
    pub runbook_title: String,
    pub steps: Vec<StepState>,
    pub current: usize,
    /// What a destructive step acts on: the value the operator types to confirm it.
    pub target: String,
    /// Passed to every command as `PAGERPILOT_*` environment variables.
    pub env: Vec<(String, String)>,
}

impl Stepper {
    /// Opens `runbook` for an incident, rendering each command with `labels` (the alert the
    /// runbook was matched to). Label values are quoted by the renderer, never spliced raw.
    pub fn open(incident_id: &str, runbook: &Runbook, labels: &Labels) -> Stepper {
        let steps = runbook
            .steps
            .iter()
            .map(|s| StepState::from_step(s, labels))
            .collect();
        let target = TARGET_LABELS
            .iter()
            .find_map(|l| labels.get(*l).filter(|v| is_typeable(v)))
            .cloned()
            .unwrap_or_else(|| runbook.id.clone());
        let env = vec![
            ("PAGERPILOT_INCIDENT".to_string(), incident_id.to_string()),
            ("PAGERPILOT_RUNBOOK".to_string(), runbook.id.clone()),
        ];
        Stepper {
            incident_id: incident_id.to_string(),
            runbook_id: runbook.id.clone(),
            runbook_title: runbook.title.clone(),
            steps,
            current: 0,
            target,
            env,
        }
    }

    pub fn current_step(&self) -> Option<&StepState> {
        self.steps.get(self.current)
    }

    /// True while a write or a run for any step is in flight.
    pub fn is_saving(&self) -> bool {
        self.steps.iter().any(|s| s.status.is_busy())
    }

    /// Moves to the next step that is still pending, if any.
    pub fn advance(&mut self) {
        if let Some(next) = self
            .steps
            .iter()
            .enumerate()
            .skip(self.current + 1)
            .find(|(_, s)| s.status == StepStatus::Pending)
            .map(|(i, _)| i)
        {
            self.current = next;
        }
    }

    pub fn done(&self) -> bool {
        self.steps.iter().all(|s| {
            matches!(
                s.status,
                StepStatus::DryRun { .. }
                    | StepStatus::Skipped { .. }
                    | StepStatus::Rejected { .. }
                    | StepStatus::Ran { .. }
            )
        })
    }
}

/// A value short and plain enough to type as a confirmation.
fn is_typeable(value: &str) -> bool {
    !value.is_empty()
        && value.chars().count() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_the_most_specific_typeable_label() {
        let rb = runbook::parse(
            "+++\ntitle = \"t\"\n+++\n## 1. a\n```sh\necho {{ labels.instance }}\n```\n",
            "t.md",
        )
        .expect("parses");
        let labels: Labels = [
            ("instance", "db-1:5432"),
            ("service", "payments db; rm"),
            ("job", "pg"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        // `service` has characters nobody should have to type, so `instance` is used.
        assert_eq!(Stepper::open("INC-1", &rb, &labels).target, "db-1:5432");
        assert_eq!(Stepper::open("INC-1", &rb, &Labels::new()).target, "t");
    }
}
