//! Deciding runbook steps: dry runs, real runs, skips with a reason, rejections, notes,
//! rollbacks and the write-mode switch. Every decision becomes a remediation-log entry and is
//! shown as done only after the store confirmed it.

use crossterm::event::{KeyCode, KeyEvent};

use super::msg::Effect;
use super::run::start_run;
pub use super::run::RunContext;
pub(super) use super::run::{on_executed, on_persisted};
use super::stepper::{RollbackStatus, StepStatus};
use super::update::notify;
use super::{Access, App, Confirm, InputPurpose, Overlay, PendingAction, Screen};
use crate::domain::remediation::{Decision, EntryKind, Mode, RemediationEntry};

/// Longest skip reason or note accepted from the keyboard.
const MAX_INPUT_CHARS: usize = 500;

pub(super) const READ_ONLY: &str =
    "read-only mode (--readonly or readonly = true in the config): nothing runs and no silences";

/// `y` on the current step.
pub(super) fn approve(app: &mut App) -> Vec<Effect> {
    let Some((index, command)) = open_step_command(app, "approve") else {
        return Vec::new();
    };
    if app.access != Access::Write {
        let mut entry = step_entry(app, index, command, Decision::Approved);
        if app.access == Access::ReadOnly {
            entry.note = Some("read-only mode: logged as a dry run".to_string());
        }
        return persist_step(app, index, entry);
    }
    let Some(stepper) = app.stepper.as_ref() else {
        return Vec::new();
    };
    let Some(step) = stepper.steps.get(index) else {
        return Vec::new();
    };
    if step.risk.is_destructive() {
        let target = stepper.target.clone();
        app.overlay = Some(Overlay::Confirm(Confirm {
            action: PendingAction::Run { index },
            prompt: format!(
                "Step {} is DESTRUCTIVE and will run for real:\n{command}\nType {target} to run it.",
                index + 1
            ),
            expected: Some(target),
            typed: String::new(),
        }));
        return Vec::new();
    }
    start_run(app, PendingAction::Run { index })
}

/// `s`: ask for the reason, then log the skip.
pub(super) fn skip(app: &mut App) -> Vec<Effect> {
    if let Some((index, _)) = open_step(app, "skip") {
        app.overlay = Some(Overlay::Input {
            purpose: InputPurpose::SkipReason { index },
            text: String::new(),
        });
    }
    Vec::new()
}

/// `x`: the operator will not run this step.
pub(super) fn reject(app: &mut App) -> Vec<Effect> {
    let Some((index, command)) = open_step(app, "reject") else {
        return Vec::new();
    };
    let mut entry = step_entry(app, index, command, Decision::Rejected);
    entry.note = Some("rejected by the operator".to_string());
    persist_step(app, index, entry)
}

/// `n`: a note on the current step (any status).
pub(super) fn note(app: &mut App) -> Vec<Effect> {
    if app.screen != Screen::Stepper {
        return Vec::new();
    }
    if let Some(index) = app.stepper.as_ref().map(|s| s.current) {
        app.overlay = Some(Overlay::Input {
            purpose: InputPurpose::Note { index },
            text: String::new(),
        });
    }
    Vec::new()
}

/// `u`: the current step's rollback block (dry run, or for real after a confirmation).
pub(super) fn rollback(app: &mut App) -> Vec<Effect> {
    if app.screen != Screen::Stepper {
        return Vec::new();
    }
    let Some(stepper) = app.stepper.as_ref() else {
        return Vec::new();
    };
    let index = stepper.current;
    let Some(step) = stepper.steps.get(index) else {
        return Vec::new();
    };
    let command = match &step.rollback {
        None => {
            notify(app, format!("step {} has no rollback", index + 1), true);
            return Vec::new();
        }
        Some(Err(why)) => {
            notify(
                app,
                format!("cannot roll back step {}: {why}", index + 1),
                true,
            );
            return Vec::new();
        }
        Some(Ok(cmd)) => cmd.clone(),
    };
    if matches!(
        step.rollback_status,
        Some(RollbackStatus::Running { .. } | RollbackStatus::Saving { .. })
    ) {
        notify(
            app,
            format!("the rollback of step {} is in progress", index + 1),
            false,
        );
        return Vec::new();
    }
    if app.access != Access::Write {
        let request = take_request(app);
        let mut entry = step_entry(app, index, command, Decision::Approved);
        entry.kind = EntryKind::Rollback;
        if let Some(step) = app.stepper.as_mut().and_then(|s| s.steps.get_mut(index)) {
            step.rollback_status = Some(RollbackStatus::Saving { request });
        }
        return vec![Effect::Persist {
            request,
            entry: Box::new(entry),
        }];
    }
    app.overlay = Some(Overlay::Confirm(Confirm {
        action: PendingAction::Rollback { index },
        prompt: format!(
            "Run the rollback of step {} for real?\n{command}",
            index + 1
        ),
        expected: None,
        typed: String::new(),
    }));
    Vec::new()
}

/// `W`: unlock write mode (or lock it again). Refused in read-only mode.
pub(super) fn toggle_write(app: &mut App) -> Vec<Effect> {
    match app.access {
        Access::ReadOnly => notify(app, format!("cannot unlock write mode: {READ_ONLY}"), true),
        Access::DryRun => {
            app.overlay = Some(Overlay::Confirm(Confirm {
                action: PendingAction::SetWrite { on: true },
                prompt: "Unlock write mode? Approved steps will then RUN on this machine.\n\
                         The unlock is written to the remediation log."
                    .to_string(),
                expected: None,
                typed: String::new(),
            }))
        }
        Access::Write => return set_write(app, false),
    }
    Vec::new()
}

/// Keys while a confirmation or a text input is open.
pub(super) fn on_overlay_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    match app.overlay.take() {
        Some(Overlay::Confirm(mut confirm)) => match (&confirm.expected, key.code) {
            (_, KeyCode::Esc) | (None, KeyCode::Char('n' | 'N')) => cancel(app, confirm),
            (None, KeyCode::Char('y' | 'Y')) => confirmed(app, confirm.action),
            (Some(expected), KeyCode::Enter) => {
                if confirm.typed == *expected {
                    confirmed(app, confirm.action)
                } else {
                    let text = format!(
                        "confirmation did not match: typed {:?}, expected {expected:?}",
                        confirm.typed
                    );
                    cancel_with(app, confirm.action, text)
                }
            }
            (Some(_), KeyCode::Backspace) => {
                confirm.typed.pop();
                app.overlay = Some(Overlay::Confirm(confirm));
                Vec::new()
            }
            (Some(_), KeyCode::Char(c)) if !c.is_control() && confirm.typed.len() < 100 => {
                confirm.typed.push(c);
                app.overlay = Some(Overlay::Confirm(confirm));
                Vec::new()
            }
            _ => {
                app.overlay = Some(Overlay::Confirm(confirm));
                Vec::new()
            }
        },
        Some(Overlay::Input { purpose, mut text }) => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter => submit_input(app, purpose, text),
            KeyCode::Backspace => {
                text.pop();
                app.overlay = Some(Overlay::Input { purpose, text });
                Vec::new()
            }
            KeyCode::Char(c) if !c.is_control() && text.chars().count() < MAX_INPUT_CHARS => {
                text.push(c);
                app.overlay = Some(Overlay::Input { purpose, text });
                Vec::new()
            }
            _ => {
                app.overlay = Some(Overlay::Input { purpose, text });
                Vec::new()
            }
        },
        other => {
            app.overlay = other;
            Vec::new()
        }
    }
}

fn submit_input(app: &mut App, purpose: InputPurpose, text: String) -> Vec<Effect> {
    let text = text.trim().to_string();
    match purpose {
        InputPurpose::SkipReason { index } => {
            if text.is_empty() {
                notify(
                    app,
                    "a skip needs a reason; nothing was logged".into(),
                    true,
                );
                app.overlay = Some(Overlay::Input { purpose, text });
                return Vec::new();
            }
            let Some(command) = command_text(app, index) else {
                return Vec::new();
            };
            if !app
                .stepper
                .as_ref()
                .and_then(|s| s.steps.get(index))
                .is_some_and(|s| s.status.is_open())
            {
                return Vec::new();
            }
            let mut entry = step_entry(app, index, command, Decision::Skipped);
            entry.note = Some(text);
            persist_step(app, index, entry)
        }
        InputPurpose::SilenceComment => super::silence::confirm_create(app, &text),
        InputPurpose::SplitAlert => super::grouping::submit_split(app, &text),
        InputPurpose::Note { index } => {
            if text.is_empty() {
                return Vec::new();
            }
            let Some(command) = command_text(app, index) else {
                return Vec::new();
            };
            let mut entry = step_entry(app, index, command, Decision::Note);
            entry.note = Some(text);
            let request = take_request(app);
            vec![Effect::Persist {
                request,
                entry: Box::new(entry),
            }]
        }
    }
}

fn confirmed(app: &mut App, action: PendingAction) -> Vec<Effect> {
    match action {
        PendingAction::SetWrite { on } => set_write(app, on),
        PendingAction::Silence => super::silence::approved(app),
        PendingAction::Run { .. } | PendingAction::Rollback { .. } => start_run(app, action),
    }
}

fn cancel(app: &mut App, confirm: Confirm) -> Vec<Effect> {
    let text = match confirm.action {
        PendingAction::Run { index } => {
            format!("step {} not run: confirmation cancelled", index + 1)
        }
        PendingAction::Rollback { index } => {
            format!("rollback of step {} not run: cancelled", index + 1)
        }
        PendingAction::SetWrite { .. } => "write mode unchanged".to_string(),
        PendingAction::Silence => {
            app.pending_silence = None;
            "silence not changed".to_string()
        }
    };
    cancel_with(app, confirm.action, text)
}

/// A refused destructive confirmation is logged as a rejection; other cancels only notify.
fn cancel_with(app: &mut App, action: PendingAction, text: String) -> Vec<Effect> {
    if let PendingAction::Run { index } = action {
        let is_destructive = app
            .stepper
            .as_ref()
            .and_then(|s| s.steps.get(index))
            .is_some_and(|s| s.risk.is_destructive());
        if let (true, Some(command)) = (is_destructive, command_text(app, index)) {
            let mut entry = step_entry(app, index, command, Decision::Rejected);
            entry.note = Some(text);
            return persist_step(app, index, entry);
        }
    }
    notify(app, text, false);
    Vec::new()
}

fn set_write(app: &mut App, on: bool) -> Vec<Effect> {
    if app.access == Access::ReadOnly {
        notify(app, format!("cannot unlock write mode: {READ_ONLY}"), true);
        return Vec::new();
    }
    let request = take_request(app);
    let incident = app
        .stepper
        .as_ref()
        .map_or_else(|| "-".to_string(), |s| s.incident_id.clone());
    let mut entry = RemediationEntry::new(
        app.now,
        app.operator.clone(),
        app.host.clone(),
        incident,
        "-",
        0,
        if on {
            "unlock write mode"
        } else {
            "lock write mode"
        },
        if on {
            "write mode on"
        } else {
            "write mode off"
        },
        Decision::Approved,
    );
    entry.kind = EntryKind::Mode;
    entry.mode = if on { Mode::Real } else { Mode::DryRun };
    entry.display_name = app.display_name.clone();
    app.pending_access = Some((request, if on { Access::Write } else { Access::DryRun }));
    vec![Effect::Persist {
        request,
        entry: Box::new(entry),
    }]
}

/// The current step's index and command, if it can still be decided.
fn open_step(app: &mut App, verb: &str) -> Option<(usize, String)> {
    if app.screen != Screen::Stepper {
        return None;
    }
    let stepper = app.stepper.as_ref()?;
    let index = stepper.current;
    let step = stepper.steps.get(index)?;
    if !step.status.is_open() {
        let text = format!("cannot {verb} step {}: it is already decided", index + 1);
        notify(app, text, false);
        return None;
    }
    let command = step.command.clone().unwrap_or_default();
    Some((index, command))
}

/// Like [`open_step`], but the command must have rendered.
fn open_step_command(app: &mut App, verb: &str) -> Option<(usize, String)> {
    let (index, _) = open_step(app, verb)?;
    let step = app.stepper.as_ref()?.steps.get(index)?;
    match &step.command {
        Ok(cmd) => Some((index, cmd.clone())),
        Err(why) => {
            let text = format!("cannot {verb} step {}: {why}", index + 1);
            notify(app, text, true);
            None
        }
    }
}

fn command_text(app: &App, index: usize) -> Option<String> {
    let step = app.stepper.as_ref()?.steps.get(index)?;
    Some(step.command.clone().unwrap_or_default())
}

pub(super) fn take_request(app: &mut App) -> u64 {
    let request = app.next_request;
    app.next_request += 1;
    request
}

/// A step entry with the app's identity and the current mode filled in.
pub(super) fn step_entry(
    app: &App,
    index: usize,
    command: String,
    decision: Decision,
) -> RemediationEntry {
    let (incident, runbook, title) = app
        .stepper
        .as_ref()
        .map(|s| {
            let title = s.steps.get(index).map(|st| st.title.clone());
            (
                s.incident_id.clone(),
                s.runbook_id.clone(),
                title.unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let mut entry = RemediationEntry::new(
        app.now,
        app.operator.clone(),
        app.host.clone(),
        incident,
        runbook,
        index,
        title,
        command,
        decision,
    );
    entry.display_name = app.display_name.clone();
    entry
}

fn persist_step(app: &mut App, index: usize, entry: RemediationEntry) -> Vec<Effect> {
    let request = take_request(app);
    if let Some(step) = app.stepper.as_mut().and_then(|s| s.steps.get_mut(index)) {
        step.status = StepStatus::Saving { request };
    }
    vec![Effect::Persist {
        request,
        entry: Box::new(entry),
    }]
}

/// The latest anomaly score of the stepper's incident's first key series.
pub(super) fn key_score(app: &App) -> Option<f64> {
    app.stepper_key_series().and_then(|(_, score)| score)
}

impl App {
    /// The stepper's incident's first key series and its latest anomaly score.
    pub fn stepper_key_series(&self) -> Option<(String, Option<f64>)> {
        let id = &self.stepper.as_ref()?.incident_id;
        let analysis = self.analysis.as_ref()?;
        let incident = analysis.incidents.iter().find(|i| &i.id == id)?;
        let series = incident.key_series.first()?;
        let score = analysis
            .anomalies
            .get(series)
            .and_then(|a| a.scores.last().copied());
        Some((series.clone(), score))
    }
}
