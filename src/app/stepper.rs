//! The runbook stepper: one runbook opened for one incident, stepped through in order.

use crate::domain::runbook::{self, Risk, Runbook};
use crate::domain::Labels;

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
    /// The store refused the write; nothing was logged.
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepState {
    pub title: String,
    pub prose: String,
    pub risk: Risk,
    /// The exact command as it would run, or why it cannot be rendered.
    pub command: Result<String, String>,
    pub status: StepStatus,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stepper {
    pub incident_id: String,
    pub runbook_id: String,
    pub runbook_title: String,
    pub steps: Vec<StepState>,
    pub current: usize,
}

impl Stepper {
    /// Opens `runbook` for an incident, rendering each command with `labels` (the alert the
    /// runbook was matched to). Label values are quoted by the renderer, never spliced raw.
    pub fn open(incident_id: &str, runbook: &Runbook, labels: &Labels) -> Stepper {
        let steps = runbook
            .steps
            .iter()
            .map(|s| StepState {
                title: s.title.clone(),
                prose: s.prose.clone(),
                risk: s.risk,
                command: match &s.command {
                    Some(cmd) => runbook::render_command(cmd, labels).map_err(|e| e.to_string()),
                    None => Err("this step has no command".to_string()),
                },
                status: StepStatus::Pending,
            })
            .collect();
        Stepper {
            incident_id: incident_id.to_string(),
            runbook_id: runbook.id.clone(),
            runbook_title: runbook.title.clone(),
            steps,
            current: 0,
        }
    }

    pub fn current_step(&self) -> Option<&StepState> {
        self.steps.get(self.current)
    }

    /// True while a write for any step is in flight.
    pub fn is_saving(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.status, StepStatus::Saving { .. }))
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
                StepStatus::DryRun { .. } | StepStatus::Skipped { .. }
            )
        })
    }
}
