//! Pure `update` tests: state in, message in, state and effects out.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;

use pagerpilot::analysis::Analysis;
use pagerpilot::app::update::{ANALYSIS_INTERVAL_SECS, ERROR_NOTICE_SECS, NOTICE_SECS};
use pagerpilot::app::{
    update, Access, App, Effect, Health, Keymap, Msg, Notice, Overlay, PollData, RollbackStatus,
    RunMode, RunReport, Screen, StepStatus, View, LIST_INCIDENTS,
};
use pagerpilot::domain::alert::fingerprint;
use pagerpilot::domain::remediation::{Decision, EntryKind, Mode, StoredEntry};
use pagerpilot::domain::runbook::{Risk, Runbook, Step};
use pagerpilot::domain::{
    Alert, AlertState, CauseCandidate, Incident, Labels, Member, RunbookSuggestion, Series,
    Severity,
};
use pagerpilot::sources::{SourceError, SourceKind};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 14, 0, 0)
        .single()
        .expect("valid date")
}

fn alert(name: &str, service: &str, instance: &str) -> Alert {
    let mut labels = Labels::new();
    labels.insert("alertname".into(), name.into());
    labels.insert("service".into(), service.into());
    labels.insert("instance".into(), instance.into());
    Alert {
        fingerprint: fingerprint(&labels),
        labels,
        annotations: Labels::new(),
        starts_at: t0() - chrono::Duration::minutes(30),
        ends_at: None,
        state: AlertState::Firing,
        generator_url: None,
    }
}

fn incident(id: &str, alerts: &[&Alert], runbook: &str) -> Incident {
    Incident {
        id: id.into(),
        title: format!("{id} title"),
        severity: Severity::Critical,
        score: 0.8,
        rank: 1,
        started_at: t0(),
        members: alerts
            .iter()
            .map(|a| Member {
                fingerprint: a.fingerprint.clone(),
                alertname: a.name().into(),
                service: a.service().map(Into::into),
                severity: Severity::Critical,
                starts_at: a.starts_at,
                reason: "opened the incident".into(),
                flapping: false,
            })
            .collect(),
        services: vec!["db".into()],
        candidates: vec![CauseCandidate {
            service: "db".into(),
            alert: Some(alerts[0].name().into()),
            confidence: 0.7,
            evidence: vec![],
        }],
        score_parts: vec![],
        slo_burns: vec![],
        key_series: vec!["a".into(), "b".into()],
        runbooks: vec![RunbookSuggestion {
            id: runbook.into(),
            title: "Fix it".into(),
            reason: "matches".into(),
            url: None,
        }],
    }
}

fn runbook() -> Runbook {
    let step = |title: &str, cmd: &str| Step {
        title: title.into(),
        prose: String::new(),
        command: Some(cmd.into()),
        rollback: None,
        risk: Risk::Read,
        timeout: pagerpilot::domain::runbook::DEFAULT_STEP_TIMEOUT,
        interactive: false,
        checks: Vec::new(),
        line: 1,
    };
    Runbook {
        id: "fix".into(),
        title: "Fix it".into(),
        source: "test".into(),
        matchers: vec![],
        risk: Risk::Read,
        steps: vec![
            step("Look", "echo {{ labels.instance }}"),
            step("Check", "true"),
        ],
    }
}

/// An app with two incidents analysed and the demo runbook loaded.
fn app() -> App {
    let mut app = App::new(RunMode::Demo, Keymap::embedded(), t0());
    let a = alert("DbDown", "db", "db-1; rm -rf /tmp/x");
    let b = alert("ApiSlow", "api", "api-1");
    app.data.alerts = vec![a.clone(), b.clone()];
    app.runbooks = vec![runbook()];
    app.analysis = Some(Analysis {
        generated_at: t0(),
        incidents: vec![
            incident("INC-1", &[&a], "fix"),
            incident("INC-2", &[&b], "nope"),
        ],
        ..Analysis::default()
    });
    app
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn stored(
    seq: i64,
    entry: Box<pagerpilot::domain::remediation::RemediationEntry>,
) -> Box<StoredEntry> {
    Box::new(StoredEntry {
        seq,
        entry: *entry,
        prev_hash: "0".repeat(64),
        hash: "1".repeat(64),
    })
}

#[test]
fn navigation_moves_and_clamps_the_selection() {
    let mut app = app();
    update(&mut app, key('j'));
    assert_eq!(app.selected(LIST_INCIDENTS), 1);
    update(&mut app, key('j'));
    assert_eq!(app.selected(LIST_INCIDENTS), 1, "clamped at the last row");
    update(&mut app, key('g'));
    assert_eq!(app.selected(LIST_INCIDENTS), 0);
    update(&mut app, key('G'));
    assert_eq!(app.selected(LIST_INCIDENTS), 1);
    update(&mut app, code(KeyCode::Up));
    assert_eq!(app.selected(LIST_INCIDENTS), 0);
}

#[test]
fn enter_opens_detail_and_esc_goes_back() {
    let mut app = app();
    update(&mut app, key('j'));
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(
        app.screen,
        Screen::Detail {
            incident_id: "INC-2".into()
        }
    );
    update(&mut app, code(KeyCode::Esc));
    assert_eq!(app.screen, Screen::List(View::Incidents));
}

#[test]
fn tab_cycles_views_and_help_toggles() {
    let mut app = app();
    update(&mut app, code(KeyCode::Tab));
    assert_eq!(app.screen, Screen::List(View::Patterns));
    update(&mut app, code(KeyCode::Tab));
    assert_eq!(app.screen, Screen::List(View::Log));
    update(&mut app, code(KeyCode::BackTab));
    assert_eq!(app.screen, Screen::List(View::Patterns));
    update(&mut app, key('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    update(&mut app, key('j'));
    assert_eq!(
        app.overlay,
        Some(Overlay::Help),
        "keys do not leak through help"
    );
    update(&mut app, code(KeyCode::Esc));
    assert_eq!(app.overlay, None);
}

#[test]
fn filter_narrows_the_list_and_esc_clears_it() {
    let mut app = app();
    update(&mut app, key('/'));
    for c in "apislow".chars() {
        update(&mut app, key(c));
    }
    let ids: Vec<_> = app
        .visible_incidents()
        .iter()
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(ids, vec!["INC-2"]);
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(app.overlay, None);
    assert_eq!(app.visible_incidents().len(), 1, "filter stays after Enter");
    update(&mut app, key('/'));
    update(&mut app, code(KeyCode::Esc));
    assert_eq!(app.visible_incidents().len(), 2);
}

#[test]
fn quit_sets_the_flag_and_returns_the_effect() {
    let mut app = app();
    let effects = update(&mut app, key('q'));
    assert!(app.should_quit);
    assert!(matches!(effects.as_slice(), [Effect::Quit]));
}

/// `s`, the reason typed, Enter: the effects of the Enter.
fn skip_with_reason(app: &mut App, reason: &str) -> Vec<Effect> {
    assert!(
        update(app, key('s')).is_empty(),
        "s only asks for the reason"
    );
    assert!(matches!(app.overlay, Some(Overlay::Input { .. })));
    for c in reason.chars() {
        update(app, key(c));
    }
    update(app, code(KeyCode::Enter))
}

fn report(exit: i32) -> RunReport {
    RunReport {
        exit_code: Some(exit),
        timed_out: false,
        duration_ms: 12,
        output: format!("done {exit}\n"),
        output_bytes: 7,
        output_digest: "ab".repeat(32),
        summary: format!("exit {exit} in 0.0 s"),
        checks: vec![],
    }
}

/// Opens INC-1's runbook in the stepper.
fn stepper_app() -> App {
    let mut app = app();
    update(&mut app, code(KeyCode::Enter));
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(app.screen, Screen::Stepper);
    app
}

/// The single Persist effect in `effects`, answered by the store with `seq`.
fn persist_ok(
    app: &mut App,
    effects: Vec<Effect>,
    seq: i64,
) -> pagerpilot::domain::remediation::RemediationEntry {
    let (request, entry) = match effects.as_slice() {
        [Effect::Persist { request, entry }] => (*request, entry.clone()),
        other => panic!("expected one Persist effect, got {other:?}"),
    };
    let out = update(
        app,
        Msg::Persisted {
            request,
            result: Ok(stored(seq, entry.clone())),
        },
    );
    assert!(out.is_empty());
    *entry
}

/// A real run is logged before it starts: `effects` is the approval's Persist; once the store
/// answers (as `seq`), the run starts.
fn started(app: &mut App, effects: Vec<Effect>, seq: i64) -> pagerpilot::app::RunRequest {
    let (request, entry) = match effects.as_slice() {
        [Effect::Persist { request, entry }] => (*request, entry.clone()),
        other => panic!("expected the approval's Persist first, got {other:?}"),
    };
    assert_eq!(
        (entry.decision, entry.mode),
        (Decision::Approved, Mode::Real)
    );
    assert!(
        entry
            .note
            .as_deref()
            .is_some_and(|n| n.starts_with("approved to run")),
        "{entry:?}"
    );
    assert_eq!(entry.exit_code, None);
    let effects = update(
        app,
        Msg::Persisted {
            request,
            result: Ok(stored(seq, entry)),
        },
    );
    match effects.as_slice() {
        [Effect::Execute(run)] => (**run).clone(),
        other => panic!("expected Execute after the approval was logged, got {other:?}"),
    }
}

/// W, y, and the store's answer: write mode on.
fn unlock(app: &mut App) {
    assert!(update(app, key('W')).is_empty(), "W asks first");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    let effects = update(app, key('y'));
    assert_eq!(
        app.access,
        Access::DryRun,
        "not unlocked before it is logged"
    );
    let entry = persist_ok(app, effects, 90);
    assert_eq!(entry.kind, EntryKind::Mode);
    assert_eq!(entry.command, "write mode on");
    assert_eq!(app.access, Access::Write);
}

#[test]
fn write_mode_runs_approved_steps_and_logs_the_outcome() {
    let mut app = stepper_app();
    app.display_name = Some("Ana (SRE)".into());
    unlock(&mut app);
    let effects = update(&mut app, key('y'));
    let run = started(&mut app, effects, 50);
    assert!(
        run.command.starts_with("echo 'db-1; rm -rf /tmp/x'"),
        "{}",
        run.command
    );
    assert!(run
        .env
        .iter()
        .any(|(k, v)| k == "PAGERPILOT_INCIDENT" && v == "INC-1"));
    assert_eq!(
        app.stepper.as_ref().map(|s| s.steps[0].status.clone()),
        Some(StepStatus::Running {
            request: run.request
        })
    );
    let effects = update(
        &mut app,
        Msg::Executed {
            request: run.request,
            result: Ok(Box::new(report(3))),
        },
    );
    let entry = persist_ok(&mut app, effects, 91);
    assert_eq!(entry.mode, Mode::Real);
    assert_eq!(entry.exit_code, Some(3));
    assert_eq!(entry.output.as_deref(), Some("done 3\n"));
    assert_eq!(entry.duration_ms, Some(12));
    assert_eq!(entry.display_name.as_deref(), Some("Ana (SRE)"));
    match &app.stepper.as_ref().expect("stepper").steps[0].status {
        StepStatus::Ran {
            seq: 91,
            ok: false,
            summary,
        } => assert_eq!(summary, "exit 3 in 0.0 s"),
        other => panic!("expected Ran, got {other:?}"),
    }
}

#[test]
fn a_command_that_cannot_start_is_logged_as_not_run() {
    let mut app = stepper_app();
    unlock(&mut app);
    let effects = update(&mut app, key('y'));
    let run = started(&mut app, effects, 50);
    let effects = update(
        &mut app,
        Msg::Executed {
            request: run.request,
            result: Err("no such dir".into()),
        },
    );
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.is_error && n.text.contains("no such dir")));
    let entry = persist_ok(&mut app, effects, 51);
    assert_eq!((entry.mode, entry.exit_code), (Mode::Real, None));
    assert_eq!(entry.note.as_deref(), Some("did not run: no such dir"));
    assert!(matches!(
        app.stepper.as_ref().expect("stepper").steps[0].status,
        StepStatus::Ran { ok: false, .. }
    ));
}

#[test]
fn quitting_while_a_command_runs_asks_twice() {
    let mut app = stepper_app();
    unlock(&mut app);
    let effects = update(&mut app, key('y'));
    started(&mut app, effects, 50);
    assert!(update(&mut app, key('q')).is_empty(), "first q only warns");
    assert!(!app.should_quit);
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.text.contains("still running")));
    assert!(matches!(
        update(&mut app, key('q')).as_slice(),
        [Effect::Quit]
    ));
}

/// The outcome of a run is logged even when the operator opened another runbook meanwhile.
#[test]
fn an_outcome_is_logged_after_the_stepper_moved_on() {
    let mut app = stepper_app();
    unlock(&mut app);
    let effects = update(&mut app, key('y'));
    let run = started(&mut app, effects, 50);
    update(&mut app, code(KeyCode::Esc)); // back to the detail
    app.stepper = None;
    let effects = update(
        &mut app,
        Msg::Executed {
            request: run.request,
            result: Ok(Box::new(report(0))),
        },
    );
    let entry = persist_ok(&mut app, effects, 51);
    assert_eq!(
        (
            entry.incident_id.as_str(),
            entry.step_index,
            entry.exit_code
        ),
        ("INC-1", 0, Some(0))
    );
    assert_eq!(app.log.len(), 3, "unlock, approval and outcome");
}

#[test]
fn a_destructive_step_needs_the_target_typed_and_a_mismatch_is_logged_as_rejected() {
    let mut app = stepper_app();
    if let Some(s) = app.stepper.as_mut() {
        s.steps[0].risk = Risk::Destructive;
    }
    unlock(&mut app);
    assert!(
        update(&mut app, key('y')).is_empty(),
        "asks for the target first"
    );
    let Some(Overlay::Confirm(confirm)) = app.overlay.clone() else {
        panic!("expected a confirmation, got {:?}", app.overlay);
    };
    assert_eq!(
        confirm.expected.as_deref(),
        Some("db"),
        "the service label is the target"
    );
    // y alone does not confirm a destructive step: it is just a typed letter.
    assert!(update(&mut app, key('y')).is_empty());
    for c in "b".chars() {
        update(&mut app, key(c));
    }
    let effects = update(&mut app, code(KeyCode::Enter));
    let entry = persist_ok(&mut app, effects, 92);
    assert_eq!(entry.decision, Decision::Rejected);
    assert!(
        entry
            .note
            .as_deref()
            .is_some_and(|n| n.contains("did not match")),
        "{:?}",
        entry.note
    );
    assert!(matches!(
        app.stepper.as_ref().expect("stepper").steps[0].status,
        StepStatus::Rejected { seq: 92 }
    ));

    // The same on the next step, typed right: it runs.
    if let Some(s) = app.stepper.as_mut() {
        s.current = 1;
        s.steps[1].risk = Risk::Destructive;
    }
    update(&mut app, key('y'));
    for c in "db".chars() {
        update(&mut app, key(c));
    }
    let effects = update(&mut app, code(KeyCode::Enter));
    let run = started(&mut app, effects, 93);
    assert!(run.command.starts_with("true"), "{}", run.command);
}

#[test]
fn read_only_mode_refuses_write_mode_and_logs_approvals_as_dry_runs() {
    let mut app = stepper_app();
    app.access = Access::ReadOnly;
    assert!(update(&mut app, key('W')).is_empty());
    assert!(app.overlay.is_none());
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.is_error && n.text.contains("read-only")));
    let effects = update(&mut app, key('y'));
    let entry = persist_ok(&mut app, effects, 5);
    assert_eq!(entry.mode, Mode::DryRun);
    assert!(entry
        .note
        .as_deref()
        .is_some_and(|n| n.contains("read-only")));
}

#[test]
fn skips_need_a_reason_and_notes_are_logged() {
    let mut app = stepper_app();
    update(&mut app, key('s'));
    let effects = update(&mut app, code(KeyCode::Enter));
    assert!(effects.is_empty(), "an empty reason logs nothing");
    assert!(
        matches!(app.overlay, Some(Overlay::Input { .. })),
        "still asking"
    );
    update(&mut app, code(KeyCode::Esc));
    assert!(app.overlay.is_none());

    let effects = skip_with_reason(&mut app, "db already restarted");
    let entry = persist_ok(&mut app, effects, 8);
    assert_eq!(entry.decision, Decision::Skipped);
    assert_eq!(entry.note.as_deref(), Some("db already restarted"));

    update(&mut app, key('n'));
    for c in "paged the DBA".chars() {
        update(&mut app, key(c));
    }
    let effects = update(&mut app, code(KeyCode::Enter));
    let entry = persist_ok(&mut app, effects, 9);
    assert_eq!(entry.decision, Decision::Note);
    assert_eq!(entry.note.as_deref(), Some("paged the DBA"));
    assert_eq!(app.log.len(), 2);
}

#[test]
fn rollback_is_logged_as_a_dry_run_or_run_after_a_confirmation() {
    let mut app = stepper_app();
    if let Some(s) = app.stepper.as_mut() {
        s.steps[0].rollback = Some(Ok("echo undo".into()));
    }
    let effects = update(&mut app, key('u'));
    let entry = persist_ok(&mut app, effects, 3);
    assert_eq!(
        (entry.kind, entry.mode),
        (EntryKind::Rollback, Mode::DryRun)
    );
    assert_eq!(entry.command, "echo undo");

    unlock(&mut app);
    assert!(
        update(&mut app, key('u')).is_empty(),
        "asks first in write mode"
    );
    let effects = update(&mut app, key('y'));
    let run = started(&mut app, effects, 50);
    assert_eq!(run.command, "echo undo");
    let effects = update(
        &mut app,
        Msg::Executed {
            request: run.request,
            result: Ok(Box::new(report(0))),
        },
    );
    let entry = persist_ok(&mut app, effects, 4);
    assert_eq!(
        (entry.kind, entry.mode, entry.exit_code),
        (EntryKind::Rollback, Mode::Real, Some(0))
    );
    let step = &app.stepper.as_ref().expect("stepper").steps[0];
    assert_eq!(
        step.status,
        StepStatus::Pending,
        "a rollback does not decide the step"
    );
    assert!(matches!(
        step.rollback_status,
        Some(RollbackStatus::Done { seq: 4, .. })
    ));

    // A step without a rollback says so.
    if let Some(s) = app.stepper.as_mut() {
        s.current = 1;
    }
    assert!(update(&mut app, key('u')).is_empty());
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.text.contains("no rollback")));
}

#[test]
fn approving_a_step_persists_first_and_shows_it_logged_only_after_the_store_answers() {
    let mut app = app();
    update(&mut app, code(KeyCode::Enter)); // detail of INC-1
    update(&mut app, code(KeyCode::Enter)); // open its runbook
    assert_eq!(app.screen, Screen::Stepper);
    let stepper = app.stepper.as_ref().expect("stepper open");
    // The hostile label value is a single quoted word in the rendered command.
    let cmd = stepper.steps[0].command.clone().expect("renders");
    assert!(cmd.starts_with("echo "), "{cmd}");
    assert!(cmd.contains("db-1; rm -rf /tmp/x"), "{cmd}");

    let effects = update(&mut app, key('y'));
    let (request, entry) = match effects.as_slice() {
        [Effect::Persist { request, entry }] => (*request, entry.clone()),
        other => panic!("expected one Persist effect, got {other:?}"),
    };
    assert_eq!(entry.decision, Decision::Approved);
    assert_eq!(entry.incident_id, "INC-1");
    assert_eq!(entry.command, cmd);
    let stepper = app.stepper.as_ref().expect("stepper open");
    assert_eq!(stepper.steps[0].status, StepStatus::Saving { request });
    assert!(
        app.log.is_empty(),
        "nothing shown as logged before the store says so"
    );

    update(
        &mut app,
        Msg::Persisted {
            request,
            result: Ok(stored(7, entry)),
        },
    );
    let stepper = app.stepper.as_ref().expect("stepper open");
    assert_eq!(stepper.steps[0].status, StepStatus::DryRun { seq: 7 });
    assert_eq!(stepper.current, 1, "moves to the next pending step");
    assert_eq!(app.log.len(), 1);
}

#[test]
fn a_failed_write_is_not_shown_as_logged_and_can_be_retried() {
    let mut app = app();
    update(&mut app, code(KeyCode::Enter));
    update(&mut app, code(KeyCode::Enter));
    let effects = skip_with_reason(&mut app, "not needed");
    let (request, entry) = match effects.as_slice() {
        [Effect::Persist { request, entry }] => (*request, entry.clone()),
        other => panic!("expected Persist, got {other:?}"),
    };
    assert_eq!(entry.decision, Decision::Skipped);
    update(
        &mut app,
        Msg::Persisted {
            request,
            result: Err("disk full".into()),
        },
    );
    let stepper = app.stepper.as_ref().expect("stepper open");
    assert!(matches!(stepper.steps[0].status, StepStatus::Failed(_)));
    assert!(app.log.is_empty());
    assert!(app.notice.as_ref().is_some_and(|n| n.is_error));
    let again = skip_with_reason(&mut app, "still not needed");
    assert_eq!(again.len(), 1, "a failed step can be decided again");
}

#[test]
fn stale_generations_are_dropped_and_failures_keep_the_last_good_data() {
    let mut app = app();
    let good = Msg::Polled {
        source: SourceKind::Alertmanager,
        generation: 2,
        at: t0(),
        elapsed_ms: 5,
        result: Ok(PollData::Alerts(vec![alert("X", "x", "x-1")])),
    };
    let effects = update(&mut app, good);
    assert!(matches!(effects.as_slice(), [Effect::Analyze { .. }]));
    assert_eq!(app.data.alerts.len(), 1);

    let stale = Msg::Polled {
        source: SourceKind::Alertmanager,
        generation: 1,
        at: t0(),
        elapsed_ms: 5,
        result: Ok(PollData::Alerts(vec![])),
    };
    assert!(update(&mut app, stale).is_empty());
    assert_eq!(
        app.data.alerts.len(),
        1,
        "an older reply does not overwrite newer data"
    );

    let failed = Msg::Polled {
        source: SourceKind::Alertmanager,
        generation: 3,
        at: t0() + chrono::Duration::seconds(5),
        elapsed_ms: 5,
        result: Err(SourceError::Http {
            kind: SourceKind::Alertmanager,
            status: 500,
            body: "boom".into(),
        }),
    };
    update(&mut app, failed);
    let status = app.source(SourceKind::Alertmanager).expect("known source");
    assert!(status.is_stale());
    assert!(matches!(&status.health, Health::Failing { error, .. } if error.contains("500")));
    assert_eq!(app.data.alerts.len(), 1, "last good data kept");
}

#[test]
fn only_one_analysis_runs_at_a_time_and_new_data_queues_another() {
    let mut app = app();
    let poll = |generation| Msg::Polled {
        source: SourceKind::Prometheus,
        generation,
        at: t0(),
        elapsed_ms: 1,
        result: Ok(PollData::Metrics(vec![])),
    };
    assert_eq!(update(&mut app, poll(1)).len(), 1);
    let alerts = Msg::Polled {
        source: SourceKind::Alertmanager,
        generation: 1,
        at: t0(),
        elapsed_ms: 1,
        result: Ok(PollData::Alerts(vec![alert("New", "svc", "i")])),
    };
    assert!(update(&mut app, alerts).is_empty(), "one in flight");
    let gen = app.analysis_generation;
    let effects = update(
        &mut app,
        Msg::Analyzed {
            generation: gen,
            analysis: Box::new(Analysis::default()),
        },
    );
    assert!(
        matches!(effects.as_slice(), [Effect::Analyze { .. }]),
        "the queued run starts at once: the alerts changed"
    );
}

#[test]
fn routine_data_is_analysed_at_most_every_interval_and_unchanged_data_not_at_all() {
    let mut app = app();
    let series = |n: usize| {
        vec![Series {
            id: "x".into(),
            timestamps: (0..n as i64).collect(),
            values: vec![1.0; n],
            ..Series::default()
        }]
    };
    let poll = |generation: u64, n: usize| Msg::Polled {
        source: SourceKind::Prometheus,
        generation,
        at: t0(),
        elapsed_ms: 1,
        result: Ok(PollData::Metrics(series(n))),
    };
    let done = |app: &mut App| {
        let generation = app.analysis_generation;
        update(
            app,
            Msg::Analyzed {
                generation,
                analysis: Box::new(Analysis::default()),
            },
        )
    };
    assert_eq!(
        update(&mut app, poll(1, 10)).len(),
        1,
        "first data: at once"
    );
    assert!(done(&mut app).is_empty());
    assert!(
        update(&mut app, poll(2, 10)).is_empty(),
        "unchanged: nothing to do"
    );
    assert!(!app.analysis_dirty);
    assert!(
        update(&mut app, poll(3, 11)).is_empty(),
        "new points within the interval wait"
    );
    assert!(app.analysis_dirty);
    let soon = t0() + chrono::Duration::seconds(ANALYSIS_INTERVAL_SECS - 1);
    assert!(update(&mut app, Msg::Tick(soon)).is_empty());
    let later = t0() + chrono::Duration::seconds(ANALYSIS_INTERVAL_SECS);
    assert!(
        matches!(
            update(&mut app, Msg::Tick(later)).as_slice(),
            [Effect::Analyze { .. }]
        ),
        "the interval passed: the waiting data is analysed"
    );
}

#[test]
fn resolved_alerts_become_transitions() {
    let mut app = App::new(RunMode::Demo, Keymap::embedded(), t0());
    let a = alert("Flappy", "svc", "i");
    let poll = |generation, alerts| Msg::Polled {
        source: SourceKind::Alertmanager,
        generation,
        at: t0() + chrono::Duration::seconds(generation as i64 * 5),
        elapsed_ms: 1,
        result: Ok(PollData::Alerts(alerts)),
    };
    update(&mut app, poll(1, vec![a.clone()]));
    update(&mut app, poll(2, vec![]));
    update(&mut app, poll(3, vec![a.clone()]));
    let states: Vec<_> = app.data.transitions.iter().map(|t| t.state).collect();
    assert_eq!(
        states,
        vec![AlertState::Firing, AlertState::Resolved, AlertState::Firing]
    );
}

fn arb_key() -> impl Strategy<Value = Msg> {
    let codes = prop_oneof![
        any::<char>().prop_map(KeyCode::Char),
        Just(KeyCode::Enter),
        Just(KeyCode::Esc),
        Just(KeyCode::Tab),
        Just(KeyCode::BackTab),
        Just(KeyCode::Up),
        Just(KeyCode::Down),
        Just(KeyCode::Home),
        Just(KeyCode::End),
        Just(KeyCode::Backspace),
        Just(KeyCode::F(5)),
    ];
    let keys = "jkgGyqs?/[]rexnuWabSZ\t".chars().collect::<Vec<_>>();
    prop_oneof![
        3 => proptest::sample::select(keys).prop_map(KeyCode::Char),
        1 => codes,
    ]
    .prop_map(|c| Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// No key sequence panics `update` or leaves a selection outside its list.
    #[test]
    fn random_key_sequences_never_panic(keys in proptest::collection::vec(arb_key(), 0..80)) {
        let mut app = app();
        app.can_silence = true;
        for k in keys {
            let effects = update(&mut app, k);
            // Answer persists like the store would, so the stepper keeps moving.
            let mut queue = effects;
            while let Some(e) = queue.pop() {
                match e {
                    Effect::Persist { request, entry } => {
                        let seq = app.log.len() as i64 + 1;
                        queue.extend(update(&mut app, Msg::Persisted { request, result: Ok(stored(seq, entry)) }));
                    }
                    Effect::Silence(a) => {
                        queue.extend(update(&mut app, Msg::SilenceDone { request: a.request(), result: Ok("3f0f6f2e-9a59-4d2b-8a43-0c6a9a3b7c11".into()) }));
                    }
                    Effect::Execute(run) => {
                        queue.extend(update(&mut app, Msg::Executed { request: run.request, result: Ok(Box::new(report(0))) }));
                    }
                    _ => {}
                }
            }
            if app.should_quit {
                break;
            }
            let n = app.visible_incidents().len();
            prop_assert!(n == 0 || app.selected(LIST_INCIDENTS) < n);
            if let Some(s) = &app.stepper {
                prop_assert!(s.current < s.steps.len());
            }
        }
    }
}

#[test]
fn notices_expire_errors_later_than_information() {
    let mut app = app();
    let at = t0();
    app.notice = Some(Notice {
        text: "logged #1".into(),
        is_error: false,
        at,
    });
    update(
        &mut app,
        Msg::Tick(at + chrono::Duration::seconds(NOTICE_SECS - 1)),
    );
    assert!(app.notice.is_some());
    update(
        &mut app,
        Msg::Tick(at + chrono::Duration::seconds(NOTICE_SECS)),
    );
    assert!(app.notice.is_none());
    app.notice = Some(Notice {
        text: "not logged: disk full".into(),
        is_error: true,
        at,
    });
    update(
        &mut app,
        Msg::Tick(at + chrono::Duration::seconds(NOTICE_SECS)),
    );
    assert!(app.notice.is_some(), "errors stay longer");
    update(
        &mut app,
        Msg::Tick(at + chrono::Duration::seconds(ERROR_NOTICE_SECS)),
    );
    assert!(app.notice.is_none());
}

#[test]
fn silences_need_an_alertmanager_and_are_refused_in_read_only_mode() {
    let mut app = app();
    update(&mut app, code(KeyCode::Enter)); // detail of INC-1
    assert!(update(&mut app, key('S')).is_empty());
    assert!(app.overlay.is_none());
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.is_error && n.text.contains("no Alertmanager")));
    app.can_silence = true;
    app.access = Access::ReadOnly;
    assert!(update(&mut app, key('S')).is_empty());
    assert!(app.overlay.is_none());
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.text.contains("read-only")));
}

#[test]
fn a_silence_is_created_after_approval_logged_and_can_be_expired() {
    use pagerpilot::app::SilenceAction;
    let mut app = app();
    app.can_silence = true;
    update(&mut app, code(KeyCode::Enter)); // detail of INC-1
    update(&mut app, key('S'));
    assert!(matches!(app.overlay, Some(Overlay::Input { .. })));
    for c in "30m db failover in progress".chars() {
        update(&mut app, key(c));
    }
    assert!(
        update(&mut app, code(KeyCode::Enter)).is_empty(),
        "asks first"
    );
    let Some(Overlay::Confirm(confirm)) = app.overlay.clone() else {
        panic!("expected a confirmation, got {:?}", app.overlay);
    };
    assert!(
        confirm.prompt.contains("alertname=\"DbDown\""),
        "{}",
        confirm.prompt
    );
    assert!(
        confirm.prompt.contains("30m: db failover in progress"),
        "{}",
        confirm.prompt
    );
    let action = match update(&mut app, key('y')).as_slice() {
        [Effect::Silence(a)] => (**a).clone(),
        other => panic!("expected a Silence effect, got {other:?}"),
    };
    let SilenceAction::Create {
        request,
        matchers,
        duration,
        ..
    } = action
    else {
        panic!("expected Create, got {action:?}");
    };
    assert_eq!(duration, std::time::Duration::from_secs(1800));
    // Every label of the single member alert, the hostile instance value included, as data.
    assert!(matchers
        .iter()
        .any(|m| m.name == "instance" && m.value == "db-1; rm -rf /tmp/x"));
    let id = "3f0f6f2e-9a59-4d2b-8a43-0c6a9a3b7c11";
    let effects = update(
        &mut app,
        Msg::SilenceDone {
            request,
            result: Ok(id.into()),
        },
    );
    let entry = persist_ok(&mut app, effects, 11);
    assert_eq!((entry.kind, entry.mode), (EntryKind::Silence, Mode::Real));
    assert_eq!(entry.incident_id, "INC-1");
    assert_eq!(
        entry.note.as_deref(),
        Some(format!("silence id {id}").as_str())
    );

    update(&mut app, key('Z'));
    let expire = match update(&mut app, key('y')).as_slice() {
        [Effect::Silence(a)] => (**a).clone(),
        other => panic!("expected a Silence effect, got {other:?}"),
    };
    assert!(
        matches!(&expire, SilenceAction::Expire { id: x, .. } if x == id),
        "{expire:?}"
    );
    let effects = update(
        &mut app,
        Msg::SilenceDone {
            request: expire.request(),
            result: Ok(id.into()),
        },
    );
    let entry = persist_ok(&mut app, effects, 12);
    assert_eq!(entry.command, format!("expire silence {id}"));
    // Nothing left to expire.
    assert!(update(&mut app, key('Z')).is_empty());
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.text.contains("no silence")));
}

#[test]
fn a_refused_silence_is_logged_as_failed_and_shown() {
    let mut app = app();
    app.can_silence = true;
    update(&mut app, code(KeyCode::Enter));
    update(&mut app, key('S'));
    for c in "known issue".chars() {
        update(&mut app, key(c));
    }
    update(&mut app, code(KeyCode::Enter));
    let request = match update(&mut app, key('y')).as_slice() {
        [Effect::Silence(a)] => a.request(),
        other => panic!("expected a Silence effect, got {other:?}"),
    };
    let effects = update(
        &mut app,
        Msg::SilenceDone {
            request,
            result: Err("HTTP 400: bad matcher".into()),
        },
    );
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.is_error && n.text.contains("bad matcher")));
    let entry = persist_ok(&mut app, effects, 13);
    assert_eq!(entry.exit_code, Some(1));
    assert!(entry
        .note
        .as_deref()
        .is_some_and(|n| n.contains("bad matcher")));
}

/// A runbook the runtime read from a `runbook_url` file (not among the loaded ones) opens too.
#[test]
fn a_runbook_read_from_a_runbook_url_file_opens_in_the_stepper() {
    let mut app = app();
    let mut from_file = runbook();
    from_file.id = "on-disk".into();
    from_file.source = "/srv/runbooks/on-disk.md".into();
    if let Some(a) = app.analysis.as_mut() {
        a.url_runbooks = vec![from_file];
        a.incidents[0].runbooks[0].id = "on-disk".into();
    }
    update(&mut app, code(KeyCode::Enter));
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(app.screen, Screen::Stepper);
    assert_eq!(
        app.stepper.as_ref().map(|s| s.runbook_id.as_str()),
        Some("on-disk")
    );
}
