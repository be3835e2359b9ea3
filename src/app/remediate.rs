//! Deciding runbook steps: dry runs, real runs, skips with a reason, rejections, notes,
//! rollbacks and the write-mode switch. Every decision becomes a remediation-log entry and is
//! shown as done only after the store confirmed it.

use crossterm::event::{KeyCode, KeyEvent};

use super::msg::{Effect, RunReport, RunRequest};
use super::stepper::{RollbackStatus, StepStatus};
use super::update::notify;
use super::{Access, App, Confirm, InputPurpose, Overlay, PendingAction, Screen};
use crate::domain::remediation::{
    CheckRecord, Decision, EntryKind, Mode, RemediationEntry, StoredEntry,
};

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

/// A real run from approval to outcome. The approval is logged before anything runs
/// (write-ahead), so a crash or a kill during the run still leaves who approved what.
#[derive(Clone, Debug, PartialEq)]
pub struct RunContext {
    pub incident_id: String,
    pub runbook_id: String,
    pub step_index: usize,
    pub step_title: String,
    pub rollback: bool,
    /// Request of the approval's log write; the run starts when it is stored.
    pub approval: u64,
    pub started: bool,
    pub score_before: Option<f64>,
    pub run: RunRequest,
}

/// Logs the approval of a real run; the run starts once the store confirmed it.
fn start_run(app: &mut App, action: PendingAction) -> Vec<Effect> {
    if app.access != Access::Write {
        notify(app, "write mode is locked; nothing was run".into(), true);
        return Vec::new();
    }
    let (index, rollback) = match action {
        PendingAction::Run { index } => (index, false),
        PendingAction::Rollback { index } => (index, true),
        PendingAction::SetWrite { .. } | PendingAction::Silence => return Vec::new(),
    };
    let run_request = take_request(app);
    let approval = take_request(app);
    let score_before = key_score(app);
    let Some(stepper) = app.stepper.as_mut() else {
        return Vec::new();
    };
    let mut env = stepper.env.clone();
    let (incident_id, runbook_id) = (stepper.incident_id.clone(), stepper.runbook_id.clone());
    let Some(step) = stepper.steps.get_mut(index) else {
        return Vec::new();
    };
    let command = if rollback {
        step.rollback.clone().and_then(Result::ok)
    } else {
        step.command.clone().ok()
    };
    let Some(command) = command else {
        return Vec::new();
    };
    env.push(("PAGERPILOT_STEP".to_string(), (index + 1).to_string()));
    let run = RunRequest {
        request: run_request,
        command: command.clone(),
        timeout: step.timeout,
        interactive: step.interactive && !rollback,
        env,
        checks: if rollback {
            Vec::new()
        } else {
            step.checks.clone()
        },
    };
    if rollback {
        step.rollback_status = Some(RollbackStatus::Saving { request: approval });
    } else {
        step.status = StepStatus::Saving { request: approval };
    }
    let ctx = RunContext {
        incident_id,
        runbook_id,
        step_index: index,
        step_title: step.title.clone(),
        rollback,
        approval,
        started: false,
        score_before,
        run,
    };
    let mut entry = step_entry(app, index, command, Decision::Approved);
    entry.mode = Mode::Real;
    if rollback {
        entry.kind = EntryKind::Rollback;
    }
    entry.note = Some(format!(
        "{APPROVED_TO_RUN} (timeout {})",
        crate::report::duration_short(ctx.run.timeout)
    ));
    app.runs.insert(run_request, ctx);
    vec![Effect::Persist {
        request: approval,
        entry: Box::new(entry),
    }]
}

/// The note of a logged approval whose run has not ended yet.
pub const APPROVED_TO_RUN: &str = "approved to run";

/// The approval of a real run is stored: start the run.
fn on_approval_logged(app: &mut App, run_request: u64, stored: Box<StoredEntry>) -> Vec<Effect> {
    let text = format!(
        "logged #{}: approved step {}; running…",
        stored.seq,
        stored.entry.step_index + 1
    );
    app.log.push(*stored);
    notify(app, text, false);
    let Some(ctx) = app.runs.get_mut(&run_request) else {
        return Vec::new();
    };
    ctx.started = true;
    let (index, rollback, approval) = (ctx.step_index, ctx.rollback, ctx.approval);
    let run = ctx.run.clone();
    if let Some(step) = app.stepper.as_mut().and_then(|s| s.steps.get_mut(index)) {
        if rollback && step.rollback_status == Some(RollbackStatus::Saving { request: approval }) {
            step.rollback_status = Some(RollbackStatus::Running {
                request: run_request,
            });
        } else if !rollback && step.status == (StepStatus::Saving { request: approval }) {
            step.status = StepStatus::Running {
                request: run_request,
            };
        }
    }
    vec![Effect::Execute(Box::new(run))]
}

/// The runtime finished (or could not start) a command: log the outcome. The log entry is
/// built from the run's own context, so it is written even if the stepper moved on.
pub(super) fn on_executed(
    app: &mut App,
    request: u64,
    result: Result<Box<RunReport>, String>,
) -> Vec<Effect> {
    let Some(ctx) = app.runs.remove(&request) else {
        return Vec::new();
    };
    let after = key_score(app);
    let mut entry = RemediationEntry::new(
        app.now,
        app.operator.clone(),
        app.host.clone(),
        ctx.incident_id.clone(),
        ctx.runbook_id.clone(),
        ctx.step_index,
        ctx.step_title.clone(),
        ctx.run.command.clone(),
        Decision::Approved,
    );
    entry.display_name = app.display_name.clone();
    entry.mode = Mode::Real;
    if ctx.rollback {
        entry.kind = EntryKind::Rollback;
    }
    match result {
        Ok(report) => {
            entry.exit_code = report.exit_code;
            entry.duration_ms = Some(report.duration_ms);
            entry.output_digest = Some(report.output_digest.clone());
            entry.output_bytes = Some(report.output_bytes);
            entry.output = Some(report.output.clone());
            entry.note = Some(report.summary.clone());
            entry.checks = report.checks.clone();
        }
        Err(e) => {
            notify(
                app,
                format!("step {} did not run: {e}", ctx.step_index + 1),
                true,
            );
            entry.duration_ms = Some(0);
            entry.note = Some(format!("did not run: {e}"));
        }
    }
    let same_stepper = app
        .stepper
        .as_ref()
        .is_some_and(|s| s.incident_id == ctx.incident_id && s.runbook_id == ctx.runbook_id);
    if let (true, Some((series, _))) = (same_stepper, app.stepper_key_series()) {
        let fmt = |s: Option<f64>| s.map_or("n/a".to_string(), |v| format!("{v:.2}"));
        entry.checks.push(CheckRecord {
            when: "score".to_string(),
            query: series,
            result: format!(
                "anomaly score {} before, {} at the end of the run",
                fmt(ctx.score_before),
                fmt(after)
            ),
        });
    }
    let save = take_request(app);
    if let Some(step) = app
        .stepper
        .as_mut()
        .filter(|_| same_stepper)
        .and_then(|s| s.steps.get_mut(ctx.step_index))
    {
        if ctx.rollback {
            step.rollback_status = Some(RollbackStatus::Saving { request: save });
        } else if step.status == (StepStatus::Running { request }) {
            step.status = StepStatus::Saving { request: save };
        }
    }
    vec![Effect::Persist {
        request: save,
        entry: Box::new(entry),
    }]
}

/// The store answered an append.
pub(super) fn on_persisted(
    app: &mut App,
    request: u64,
    result: Result<Box<StoredEntry>, String>,
) -> Vec<Effect> {
    if let Some((pending, access)) = app.pending_access.clone() {
        if pending == request {
            app.pending_access = None;
            match &result {
                Ok(stored) => {
                    app.access = access;
                    let text = if app.access == Access::Write {
                        format!(
                            "WRITE MODE: approved steps now run (logged #{})",
                            stored.seq
                        )
                    } else {
                        format!("write mode locked (logged #{})", stored.seq)
                    };
                    app.log.push((**stored).clone());
                    notify(app, text, false);
                }
                Err(e) => notify(app, format!("write mode unchanged, not logged: {e}"), true),
            }
            return Vec::new();
        }
    }
    if let Some(run_request) = app
        .runs
        .iter()
        .find(|(_, c)| c.approval == request && !c.started)
        .map(|(r, _)| *r)
    {
        return match result {
            Ok(stored) => on_approval_logged(app, run_request, stored),
            Err(e) => {
                if let Some(ctx) = app.runs.remove(&run_request) {
                    if let Some(step) = app
                        .stepper
                        .as_mut()
                        .and_then(|s| s.steps.get_mut(ctx.step_index))
                    {
                        let why = format!("not logged, so not run: {e}");
                        if ctx.rollback {
                            step.rollback_status = Some(RollbackStatus::Failed(why));
                        } else {
                            step.status = StepStatus::Failed(why);
                        }
                    }
                }
                notify(app, format!("not logged, so nothing ran: {e}"), true);
                Vec::new()
            }
        };
    }
    let step = app.stepper.as_mut().and_then(|s| {
        let i = s.steps.iter().position(|st| {
            st.status == (StepStatus::Saving { request })
                || st.rollback_status == Some(RollbackStatus::Saving { request })
        })?;
        Some((s, i))
    });
    match result {
        Ok(stored) => {
            if let Some((stepper, i)) = step {
                let e = &stored.entry;
                let seq = stored.seq;
                let summary = e.note.clone().unwrap_or_default();
                let st = &mut stepper.steps[i];
                if e.kind == EntryKind::Rollback {
                    st.rollback_status = Some(RollbackStatus::Done { seq, summary });
                } else {
                    st.status = match (e.decision, e.mode) {
                        (Decision::Skipped, _) => StepStatus::Skipped { seq },
                        (Decision::Rejected, _) => StepStatus::Rejected { seq },
                        (_, Mode::Real) => StepStatus::Ran {
                            seq,
                            ok: e.exit_code == Some(0),
                            summary,
                        },
                        _ => StepStatus::DryRun { seq },
                    };
                    if stepper.current == i {
                        stepper.advance();
                    }
                }
            }
            let e = &stored.entry;
            let text = match e.kind {
                EntryKind::Silence | EntryKind::Mode => {
                    format!(
                        "logged #{}: {} ({})",
                        stored.seq,
                        e.step_title,
                        e.note.as_deref().unwrap_or("done")
                    )
                }
                EntryKind::Rollback => format!(
                    "logged #{}: rollback of step {} ({})",
                    stored.seq,
                    e.step_index + 1,
                    e.mode.as_str()
                ),
                EntryKind::Step => format!(
                    "logged #{}: {} step {} ({})",
                    stored.seq,
                    e.decision.as_str(),
                    e.step_index + 1,
                    e.mode.as_str()
                ),
            };
            app.log.push(*stored);
            notify(app, text, false);
        }
        Err(e) => {
            if let Some((stepper, i)) = step {
                let st = &mut stepper.steps[i];
                if matches!(st.rollback_status, Some(RollbackStatus::Saving { .. })) {
                    st.rollback_status = Some(RollbackStatus::Failed(e.clone()));
                } else {
                    st.status = StepStatus::Failed(e.clone());
                }
            }
            notify(app, format!("not logged: {e}"), true);
        }
    }
    Vec::new()
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
fn step_entry(app: &App, index: usize, command: String, decision: Decision) -> RemediationEntry {
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
fn key_score(app: &App) -> Option<f64> {
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
