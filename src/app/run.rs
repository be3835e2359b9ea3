//! A real run of a runbook step, from the logged approval to the logged outcome.

use super::msg::{Effect, RunReport, RunRequest};
use super::remediate::{key_score, step_entry, take_request};
use super::stepper::{RollbackStatus, StepStatus};
use super::update::notify;
use super::{Access, App, PendingAction};
use crate::domain::remediation::{
    CheckRecord, Decision, EntryKind, Mode, RemediationEntry, StoredEntry,
};

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
pub(super) fn start_run(app: &mut App, action: PendingAction) -> Vec<Effect> {
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
