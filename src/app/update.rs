//! `update(&mut App, Msg) -> Vec<Effect>`: pure state transitions.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::intake::on_polled;
use super::keymap::{Action, KeySpec};
use super::msg::{Effect, Msg};
use super::sensitivity::{apply_sensitivity, propose_sensitivity};
use super::stepper::Stepper;
use super::{remediate, silence};
use super::{
    App, Notice, Overlay, Screen, View, LIST_INCIDENTS, LIST_LOG, LIST_PATTERNS, LIST_RUNBOOKS,
};
use crate::analysis::Snapshot;
use crate::domain::{Alert, AlertEvent, HistoryState, Series};

/// A poll slower than this marks its source as slow.
pub const SLOW_POLL_MS: u64 = 3_000;
/// How long alert transitions are remembered for flap detection.
pub(super) const TRANSITION_MEMORY_MINS: i64 = 120;
pub(super) const TRANSITION_CAP: usize = 10_000;

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(app, key),
        Msg::Tick(now) => {
            app.now = now;
            let expired = app.notice.as_ref().is_some_and(|n| {
                let keep = if n.is_error {
                    ERROR_NOTICE_SECS
                } else {
                    NOTICE_SECS
                };
                (now - n.at).num_seconds() >= keep
            });
            if expired {
                app.notice = None;
            }
            if app.analysis_dirty && !app.analysis_running {
                request_analysis(app, false)
            } else {
                Vec::new()
            }
        }
        Msg::Resize(..) => Vec::new(),
        Msg::Polled {
            source,
            generation,
            at,
            elapsed_ms,
            result,
        } => on_polled(app, source, generation, at, elapsed_ms, result),
        Msg::Analyzed {
            generation,
            analysis,
        } => {
            if generation < app.analysis_generation {
                return Vec::new();
            }
            app.analysis = Some(*analysis);
            app.analysis_running = false;
            clamp_selections(app);
            if app.analysis_dirty {
                let urgent = app.analysis_urgent;
                request_analysis(app, urgent)
            } else {
                Vec::new()
            }
        }
        Msg::Persisted { request, result } => remediate::on_persisted(app, request, result),
        Msg::Executed { request, result } => remediate::on_executed(app, request, result),
        Msg::SilenceDone { request, result } => silence::on_done(app, request, result),
        Msg::GroupingRuleSaved(result) => super::grouping::on_saved(app, result),
        Msg::AcksLoaded(Ok(acks)) => {
            // Acks made in this session win; an ack whose alert is no longer active goes at the
            // next alerts poll, as any other.
            for ack in acks {
                app.acks.entry(ack.fingerprint.clone()).or_insert(ack);
            }
            Vec::new()
        }
        Msg::AcksLoaded(Err(e)) => {
            notify(app, format!("acks not restored: {e}"), true);
            Vec::new()
        }
        Msg::SeenBefore { generation, seen } => {
            if generation == app.analysis_generation {
                app.seen_before = seen;
            }
            Vec::new()
        }
        Msg::GroupingRulesLoaded(result) => super::grouping::on_loaded(app, result),
        Msg::LogLoaded(Ok(rows)) => {
            app.log = rows;
            Vec::new()
        }
        Msg::LogLoaded(Err(e)) => {
            notify(
                app,
                format!("could not read the remediation log: {e}"),
                true,
            );
            Vec::new()
        }
        Msg::Exported(Ok(path)) => {
            notify(app, format!("timeline exported to {path}"), false);
            Vec::new()
        }
        Msg::Exported(Err(e)) => {
            notify(app, format!("export failed: {e}"), true);
            Vec::new()
        }
    }
}

pub(super) fn notify(app: &mut App, text: String, is_error: bool) {
    app.notice = Some(Notice {
        text,
        is_error,
        at: app.now,
    });
}

/// How long a status-bar notice stays: information, then errors (which may need reading).
pub const NOTICE_SECS: i64 = 15;
pub const ERROR_NOTICE_SECS: i64 = 120;

/// Routine data (new points, new log lines) starts an analysis at most this often.
pub const ANALYSIS_INTERVAL_SECS: i64 = 10;

/// Starts an analysis of the current data, or marks one as due: after the running one, or
/// (for routine data) once the interval since the last one has passed (checked on `Tick`).
pub(super) fn request_analysis(app: &mut App, urgent: bool) -> Vec<Effect> {
    let recent = app
        .last_analysis_at
        .is_some_and(|t| (app.now - t).num_seconds() < ANALYSIS_INTERVAL_SECS);
    if app.analysis_running || (recent && !urgent) {
        app.analysis_dirty = true;
        app.analysis_urgent |= urgent;
        return Vec::new();
    }
    app.analysis_running = true;
    app.analysis_dirty = false;
    app.analysis_urgent = false;
    app.last_analysis_at = Some(app.now);
    app.analysis_generation += 1;
    vec![Effect::Analyze {
        generation: app.analysis_generation,
        snapshot: Box::new(snapshot(app)),
    }]
}

/// The owned input of one analysis run. Each series carries the sensitivity in force for it
/// (applied in this session, else its watch's, else the global one).
pub fn snapshot(app: &App) -> Snapshot {
    let series = app
        .data
        .series
        .iter()
        .map(|s| Series {
            sensitivity: Some(app.sensitivity_for(&s.id)),
            ..s.clone()
        })
        .collect();
    Snapshot {
        now: app.now,
        alerts: app.data.alerts.clone(),
        transitions: app.data.transitions.clone(),
        series,
        logs: app.data.logs.clone(),
        topology: app.topology.clone(),
        runbooks: app.runbooks.clone(),
        grouping_rules: app.grouping_rules.clone(),
    }
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if let Some(Overlay::Filter(text)) = &mut app.overlay {
        let list = list_key(&app.screen);
        match key.code {
            KeyCode::Esc => {
                app.overlay = None;
                app.filters.remove(list);
            }
            KeyCode::Enter => app.overlay = None,
            KeyCode::Backspace => {
                text.pop();
                let t = text.clone();
                app.filters.insert(list, t);
            }
            KeyCode::Char(c) if !c.is_control() && text.chars().count() < 200 => {
                text.push(c);
                let t = text.clone();
                app.filters.insert(list, t);
            }
            _ => {}
        }
        app.selected.insert(list, 0);
        return Vec::new();
    }
    if matches!(
        app.overlay,
        Some(Overlay::Confirm(_) | Overlay::Input { .. })
    ) {
        return remediate::on_overlay_key(app, key);
    }
    let Some(spec) = KeySpec::from_event(&key) else {
        return Vec::new();
    };
    let Some(action) = app.keymap.lookup(app.layer(), &spec) else {
        return Vec::new();
    };
    if app.overlay == Some(Overlay::Help) {
        return match action {
            Action::Quit => quit(app),
            Action::Help | Action::Back => {
                app.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        };
    }
    on_action(app, action)
}

fn quit(app: &mut App) -> Vec<Effect> {
    let running = app.runs.values().filter(|r| r.started).count();
    if running > 0 && !app.quit_warned {
        app.quit_warned = true;
        let text = format!(
            "{running} command(s) still running; their outcome is logged when they end. \
             Quit again to quit anyway: they are killed and their outcome is not logged"
        );
        notify(app, text, true);
        return Vec::new();
    }
    app.should_quit = true;
    vec![Effect::Quit]
}

/// Which selection/filter key the current screen's list uses.
fn list_key(screen: &Screen) -> &'static str {
    match screen {
        Screen::List(View::Incidents) => LIST_INCIDENTS,
        Screen::List(View::Patterns) => LIST_PATTERNS,
        Screen::List(View::Log) => LIST_LOG,
        Screen::Detail { .. } | Screen::Stepper => LIST_RUNBOOKS,
        Screen::Logs { .. } => crate::app::LIST_LOGLINES,
    }
}

/// How many rows the current screen's list has.
fn list_len(app: &App) -> usize {
    match &app.screen {
        Screen::List(View::Incidents) => app.visible_incidents().len(),
        Screen::List(View::Patterns) => app.visible_patterns().len(),
        Screen::List(View::Log) => app.visible_log().len(),
        Screen::Detail { .. } => app.open_incident().map_or(0, |i| i.runbooks.len()),
        Screen::Stepper => app.stepper.as_ref().map_or(0, |s| s.steps.len()),
        Screen::Logs { .. } => app.pattern_lines().len(),
    }
}

pub fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    if app.sensitivity_proposal.is_some() {
        match action {
            Action::Open => return apply_sensitivity(app),
            Action::Back => {
                app.sensitivity_proposal = None;
                return Vec::new();
            }
            Action::MoreSensitive | Action::LessSensitive | Action::Help | Action::Quit => {}
            _ => app.sensitivity_proposal = None,
        }
    }
    match action {
        Action::Quit => return quit(app),
        Action::Help => app.overlay = Some(Overlay::Help),
        Action::NextView | Action::PrevView => {
            let views = View::ALL;
            let pos = views.iter().position(|v| *v == app.view).unwrap_or(0);
            let next = if action == Action::NextView {
                (pos + 1) % views.len()
            } else {
                (pos + views.len() - 1) % views.len()
            };
            app.view = views[next];
            app.screen = Screen::List(app.view);
        }
        Action::Down | Action::Up | Action::Top | Action::Bottom => move_cursor(app, action),
        Action::Back => match &app.screen {
            Screen::Stepper => {
                let id = app.stepper.as_ref().map(|s| s.incident_id.clone());
                app.screen = match id {
                    Some(incident_id) => Screen::Detail { incident_id },
                    None => Screen::List(app.view),
                };
            }
            Screen::Detail { .. } | Screen::Logs { .. } => app.screen = Screen::List(app.view),
            Screen::List(_) => {
                let key = list_key(&app.screen);
                app.filters.remove(key);
                app.merge_mark = None;
            }
        },
        Action::Open => return open(app),
        Action::Filter => {
            if matches!(app.screen, Screen::List(_) | Screen::Logs { .. }) {
                let current = app.filter(list_key(&app.screen)).to_string();
                app.overlay = Some(Overlay::Filter(current));
            }
        }
        Action::OpenRunbook => {
            if matches!(app.screen, Screen::Detail { .. }) {
                app.selected.insert(LIST_RUNBOOKS, 0);
                return open(app);
            }
        }
        Action::NextSeries | Action::PrevSeries => {
            let n = app.open_incident().map_or(0, |i| i.key_series.len());
            if n > 0 {
                app.chart_series = if action == Action::NextSeries {
                    (app.chart_series + 1) % n
                } else {
                    (app.chart_series + n - 1) % n
                };
            }
        }
        Action::Approve => return remediate::approve(app),
        Action::Skip => return remediate::skip(app),
        Action::Reject => return remediate::reject(app),
        Action::Note => return remediate::note(app),
        Action::Rollback => return remediate::rollback(app),
        Action::ToggleWrite => return remediate::toggle_write(app),
        Action::Silence => return silence::propose(app),
        Action::ExpireSilence => return silence::propose_expire(app),
        Action::Ack => return ack(app),
        Action::MoreSensitive | Action::LessSensitive => propose_sensitivity(app, action),
        Action::Merge => return super::grouping::merge(app),
        Action::Split => return super::grouping::propose_split(app),
        Action::ToggleFollow => {
            if matches!(app.screen, Screen::Logs { .. }) {
                app.follow = !app.follow;
            }
        }
        Action::Export => {
            if let Some(incident) = app.open_incident() {
                return vec![Effect::Export {
                    incident_id: incident.id.clone(),
                }];
            }
        }
    }
    Vec::new()
}

/// Acknowledges every alert of the open (or selected) incident that is not acked yet; each ack
/// is stored in the alert history and holds until its alert resolves.
fn ack(app: &mut App) -> Vec<Effect> {
    let incident = match &app.screen {
        Screen::Detail { .. } => app.open_incident(),
        Screen::List(View::Incidents) => app.selected_incident(),
        _ => None,
    };
    let Some(fps) = incident.map(|i| {
        i.members
            .iter()
            .map(|m| m.fingerprint.clone())
            .collect::<Vec<_>>()
    }) else {
        return Vec::new();
    };
    let mut n = 0;
    for fp in fps {
        if app.acks.contains_key(&fp) {
            continue;
        }
        let Some(alert) = app.data.alerts.iter().find(|a| a.fingerprint == fp) else {
            continue;
        };
        let mut event = AlertEvent::of(alert, HistoryState::Acked, app.now);
        event.note = Some(app.operator.clone());
        app.data.history_outbox.push(event);
        app.acks.insert(
            fp.clone(),
            crate::analysis::flap::Ack {
                fingerprint: fp,
                at: app.now,
                by: app.operator.clone(),
            },
        );
        n += 1;
    }
    let text = match n {
        0 => "already acknowledged".to_string(),
        1 => "acknowledged 1 alert until it resolves".to_string(),
        n => format!("acknowledged {n} alerts until they resolve"),
    };
    app.notice = Some(super::Notice {
        text,
        is_error: false,
        at: app.now,
    });
    Vec::new()
}

fn move_cursor(app: &mut App, action: Action) {
    let len = list_len(app);
    if let (Screen::Stepper, Some(stepper)) = (&app.screen, app.stepper.as_mut()) {
        stepper.current = step_index(stepper.current, len, action);
        return;
    }
    let key = list_key(&app.screen);
    let cur = app.selected(key);
    app.selected.insert(key, step_index(cur, len, action));
    if key == LIST_INCIDENTS {
        app.chart_series = 0;
    }
}

fn step_index(cur: usize, len: usize, action: Action) -> usize {
    if len == 0 {
        return 0;
    }
    match action {
        Action::Down => (cur + 1).min(len - 1),
        Action::Up => cur.saturating_sub(1),
        Action::Top => 0,
        Action::Bottom => len - 1,
        _ => cur.min(len - 1),
    }
}

fn open(app: &mut App) -> Vec<Effect> {
    match &app.screen {
        Screen::List(View::Incidents) => {
            if let Some(id) = app.selected_incident().map(|i| i.id.clone()) {
                app.screen = Screen::Detail { incident_id: id };
                app.chart_series = 0;
                app.selected.insert(LIST_RUNBOOKS, 0);
            }
        }
        Screen::Detail { .. } => open_runbook(app),
        Screen::List(View::Patterns) => {
            let selected = app
                .visible_patterns()
                .get(app.selected(LIST_PATTERNS))
                .map(|p| p.id.clone());
            if let Some(pattern_id) = selected {
                app.screen = Screen::Logs { pattern_id };
                app.filters.remove(crate::app::LIST_LOGLINES);
                app.selected.insert(crate::app::LIST_LOGLINES, 0);
            }
        }
        _ => {}
    }
    Vec::new()
}

fn open_runbook(app: &mut App) {
    let Some(incident) = app.open_incident() else {
        return;
    };
    let Some(suggestion) = incident.runbooks.get(app.selected(LIST_RUNBOOKS)) else {
        notify(app, "no runbook suggested for this incident".into(), true);
        return;
    };
    if let Some(url) = &suggestion.url {
        let text = format!("external runbook (open it in a browser): {url}");
        notify(app, text, false);
        return;
    }
    let url_runbooks = app.analysis.iter().flat_map(|a| a.url_runbooks.iter());
    let Some(runbook) = app
        .runbooks
        .iter()
        .chain(url_runbooks)
        .find(|r| r.id == suggestion.id)
    else {
        let text = format!("runbook {:?} is not loaded", suggestion.id);
        notify(app, text, true);
        return;
    };
    // Render with the labels of the member alert the runbook is for: the one whose
    // runbook_url names it, else the likely cause's alert, else the first member.
    let members: Vec<&Alert> = app
        .data
        .alerts
        .iter()
        .filter(|a| {
            incident
                .members
                .iter()
                .any(|m| m.fingerprint == a.fingerprint)
        })
        .collect();
    let by_url = members.iter().find(|a| {
        a.runbook_url()
            .is_some_and(|u| u.trim_end_matches(".md").ends_with(runbook.id.as_str()))
    });
    let by_cause = incident.root_cause().and_then(|c| {
        members
            .iter()
            .find(|a| Some(a.name()) == c.alert.as_deref())
    });
    let labels = by_url
        .or(by_cause)
        .or(members.first())
        .map(|a| a.labels.clone())
        .unwrap_or_default();
    app.stepper = Some(Stepper::open(&incident.id, runbook, &labels));
    app.screen = Screen::Stepper;
}

/// Keeps every selection inside its list after the data changed.
fn clamp_selections(app: &mut App) {
    let lens = [
        (LIST_INCIDENTS, app.visible_incidents().len()),
        (LIST_PATTERNS, app.visible_patterns().len()),
        (LIST_LOG, app.visible_log().len()),
    ];
    for (key, len) in lens {
        let cur = app.selected(key);
        app.selected.insert(key, cur.min(len.saturating_sub(1)));
    }
}
