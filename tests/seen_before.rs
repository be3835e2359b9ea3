//! "Seen before?" in the TUI: a resolved alert's history row names the runbook that was worked
//! for its incident, and the incident detail shows the New / Rare / Frequent tag the runtime
//! computed from the stored history.

mod common;

use chrono::Duration;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use pagerpilot::analysis::similarity::seen_before;
use pagerpilot::app::msg::{Msg, PollData};
use pagerpilot::app::{update, Screen};
use pagerpilot::domain::{Alert, AlertEvent, HistoryState};
use pagerpilot::sources::SourceKind;
use pagerpilot::ui::fixture::sample_app;
use pagerpilot::ui::theme::Theme;
use pagerpilot::ui::view;

#[test]
fn a_resolved_alert_records_the_runbook_worked_for_its_incident() {
    let mut app = sample_app();
    let inc = app
        .analysis
        .as_ref()
        .and_then(|a| a.incidents.first().cloned())
        .expect("fixture incident");
    let runbook = app
        .log
        .iter()
        .find(|r| r.entry.incident_id == inc.id)
        .map(|r| r.entry.runbook_id.clone())
        .expect("the fixture log has a step for the first incident");
    app.data.history_outbox.clear();
    let gone = inc.members[0].fingerprint.clone();
    let remaining: Vec<Alert> = app
        .data
        .alerts
        .iter()
        .filter(|a| a.fingerprint != gone)
        .cloned()
        .collect();
    let now = app.now;
    update(
        &mut app,
        Msg::Polled {
            source: SourceKind::Alertmanager,
            generation: 99,
            at: now,
            elapsed_ms: 1,
            result: Ok(PollData::Alerts(remaining)),
        },
    );
    let resolved = app
        .data
        .history_outbox
        .iter()
        .find(|e| e.fingerprint == gone && e.state == HistoryState::Resolved)
        .expect("a resolved row");
    assert_eq!(resolved.note, Some(format!("runbook {runbook}")));
}

#[test]
fn the_detail_header_shows_how_often_the_incident_was_seen() {
    let mut app = sample_app();
    let inc = app
        .analysis
        .as_ref()
        .and_then(|a| a.incidents.first().cloned())
        .expect("fixture incident");
    // Two earlier episodes of the same alerts, days apart, the last one resolved by a runbook.
    let mut history = Vec::new();
    for days in [9, 3] {
        let at = inc.started_at - Duration::days(days);
        for m in &inc.members {
            let alert = app
                .data
                .alerts
                .iter()
                .find(|a| a.fingerprint == m.fingerprint)
                .expect("member alert");
            // The fixture's alerts carry no service label; the member does.
            let mut fired = AlertEvent::of(alert, HistoryState::Firing, at);
            fired.service = m.service.clone();
            let mut done =
                AlertEvent::of(alert, HistoryState::Resolved, at + Duration::minutes(20));
            done.service = m.service.clone();
            done.note = Some("runbook payments-db-pool".into());
            history.push(fired);
            history.push(done);
        }
    }
    let seen = seen_before(&inc, &history, app.now);
    assert_eq!(seen.times, 2, "{seen:?}");
    let generation = app.analysis_generation;
    update(
        &mut app,
        Msg::SeenBefore {
            generation,
            seen: [(inc.id.clone(), seen)].into_iter().collect(),
        },
    );
    app.screen = Screen::Detail {
        incident_id: inc.id.clone(),
    };
    let theme = Theme::load("dark", None).expect("theme");
    let mut t = Terminal::new(TestBackend::new(160, 40)).expect("terminal");
    t.draw(|f| view(&app, &theme, f)).expect("draw");
    let text = t.backend().to_string();
    assert!(
        text.contains("RARE seen 2 times in 30 days; last resolved by runbook payments-db-pool"),
        "{text}"
    );

    // An answer for an older analysis is dropped.
    update(
        &mut app,
        Msg::SeenBefore {
            generation: generation + 7,
            seen: Default::default(),
        },
    );
    assert!(app.seen_before.contains_key(&inc.id));
}

/// An ack is stored and comes back after a restart (it lasts until the alert resolves).
#[test]
fn an_ack_survives_a_restart() {
    use common::tmux::{binary_in, quote, Tmux};
    let env = common::Env::new();
    let db = env.db();
    let run = |tag: &str| {
        let cmd = format!("{} --db {}; sleep 30", binary_in(&env), quote(&db));
        Tmux::start(&env, tag, &cmd)
    };
    {
        let first = run("ack1");
        first.wait_for(&["INC-", "DEMO"]);
        first.keys(&["A"]);
        first.wait_for(&["ACK"]);
        first.keys(&["q"]);
        // Wait for the exit so the history write is done before the next start.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while !first.screen().trim_end().ends_with("$") && std::time::Instant::now() < deadline {
            if !first.screen().contains("INC-") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let second = run("ack2");
    let screen = second.wait_for(&["INC-", "ACK"]);
    assert!(screen.contains("ACK"), "{screen}");
}
