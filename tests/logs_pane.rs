//! The logs pane of a log pattern: opened from the pattern list, raw lines with the variable
//! parts highlighted, `/` filter, follow toggle; an insta snapshot of the screen.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use pagerpilot::analysis::Snapshot;
use pagerpilot::app::update::update;
use pagerpilot::app::{App, Msg, Screen, View, LIST_LOGLINES, LIST_PATTERNS};
use pagerpilot::domain::{Alert, AlertState, LogEntry, LogStream};
use pagerpilot::ui::fixture::{now, sample_app};
use pagerpilot::ui::theme::{Role, Theme};
use pagerpilot::ui::view;

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let theme = Theme::load("dark", None).expect("dark theme");
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| view(app, &theme, f)).expect("draw");
    t
}

/// The fixture app with raw lines for its first pattern (payments-db), plus lines that do
/// not fit the template and a line of another service.
fn app_with_logs() -> App {
    let mut app = sample_app();
    let base = now().timestamp_nanos_opt().unwrap_or(0) - 600 * 1_000_000_000;
    let users = ["alice", "bob", "carol", "bob", "dave", "erin"];
    let mut entries: Vec<LogEntry> = users
        .iter()
        .enumerate()
        .map(|(i, u)| LogEntry {
            ts_ns: base + i as i64 * 61 * 1_000_000_000,
            line: format!(
                "FATAL: connection pool exhausted (max={}) for user {u}",
                20 + i
            ),
        })
        .collect();
    entries.push(LogEntry {
        ts_ns: base,
        line: "checkpoint complete".into(),
    });
    app.data.logs = vec![
        LogStream {
            labels: [("service".to_string(), "payments-db".to_string())].into(),
            entries,
        },
        LogStream {
            labels: [("service".to_string(), "checkout-api".to_string())].into(),
            entries: vec![LogEntry {
                ts_ns: base,
                line: "FATAL: connection pool exhausted (max=1) for user zed".into(),
            }],
        },
    ];
    app.view = View::Patterns;
    app.screen = Screen::List(View::Patterns);
    app
}

#[test]
fn enter_opens_the_pane_and_it_lists_the_patterns_raw_lines() {
    let mut app = app_with_logs();
    let id = app.visible_patterns()[app.selected(LIST_PATTERNS)]
        .id
        .clone();
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(
        app.screen,
        Screen::Logs {
            pattern_id: id.clone()
        }
    );
    let lines = app.pattern_lines();
    assert_eq!(lines.len(), 6, "only payments-db lines that fit: {lines:?}");
    let (_, text, spans) = &lines[0];
    let vars: Vec<&str> = spans.iter().map(|(a, b)| &text[*a..*b]).collect();
    assert_eq!(vars, ["20", "alice"]);
    // Variable parts are drawn in their own role.
    let theme = Theme::load("dark", None).expect("dark theme");
    let t = draw(&app, 120, 30);
    let buf = t.backend().buffer();
    let row = (0..buf.area.height)
        .find(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, *y)].symbol())
                .collect::<String>()
                .contains("user alice")
        })
        .expect("alice's line on screen");
    let styles: Vec<_> = (0..buf.area.width).map(|x| buf[(x, row)].style()).collect();
    let guess = theme.style(Role::Guess);
    assert!(
        styles.iter().any(|s| s.fg == guess.fg),
        "a highlighted part"
    );
    insta::assert_snapshot!("logs_pane_120x30", t.backend());
    // Esc goes back to the list.
    update(&mut app, code(KeyCode::Esc));
    assert_eq!(app.screen, Screen::List(View::Patterns));
}

#[test]
fn filter_and_follow() {
    let mut app = app_with_logs();
    update(&mut app, code(KeyCode::Enter));
    assert!(app.follow, "follow is on by default");
    update(&mut app, key('f'));
    assert!(!app.follow);
    update(&mut app, key('f'));
    assert!(app.follow);
    update(&mut app, key('/'));
    for c in "bob".chars() {
        update(&mut app, key(c));
    }
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(app.filter(LIST_LOGLINES), "bob");
    assert_eq!(app.pattern_lines().len(), 2);
    let shown = draw(&app, 120, 30).backend().to_string();
    assert!(shown.contains("Raw lines (2)"), "{shown}");
    assert!(!shown.contains("user alice"), "{shown}");
    // With follow off, the cursor moves through the lines.
    update(&mut app, key('f'));
    update(&mut app, key('j'));
    assert_eq!(app.selected(LIST_LOGLINES), 1);
}

#[test]
fn a_pattern_gone_from_the_analysis_says_so() {
    let mut app = app_with_logs();
    app.screen = Screen::Logs {
        pattern_id: "Pgone".into(),
    };
    let shown = draw(&app, 100, 30).backend().to_string();
    assert!(shown.contains("no longer in the analysis"), "{shown}");
    assert!(app.pattern_lines().is_empty());
}

#[test]
fn a_heartbeat_that_stopped_joins_the_timeline_and_the_cause_evidence() {
    // Two hours of payments-db logs: a request line every minute, and a heartbeat every
    // minute that stopped 12 minutes before an alert analysis at `now`.
    let now = now();
    let now_ns = now.timestamp_nanos_opt().unwrap_or(0);
    let min = 60_000_000_000i64;
    let mut entries = Vec::new();
    for m in 0..120 {
        entries.push(LogEntry {
            ts_ns: now_ns - m * min,
            line: format!("query ok in {m} ms"),
        });
        if m >= 12 {
            entries.push(LogEntry {
                ts_ns: now_ns - m * min - 2_000_000_000,
                line: format!("replication heartbeat seq={m} lag=0"),
            });
        }
    }
    let stopped_at =
        chrono::TimeZone::timestamp_nanos(&chrono::Utc, now_ns - 12 * min - 2_000_000_000);
    let alert = Alert {
        fingerprint: "f1".into(),
        labels: [
            ("alertname".to_string(), "ReplicationBroken".to_string()),
            ("service".to_string(), "payments-db".to_string()),
            ("severity".to_string(), "critical".to_string()),
        ]
        .into(),
        annotations: Default::default(),
        starts_at: now - chrono::Duration::minutes(8),
        ends_at: None,
        state: AlertState::Firing,
        generator_url: None,
    };
    let snapshot = Snapshot {
        now,
        alerts: vec![alert.clone()],
        logs: vec![LogStream {
            labels: [("service".to_string(), "payments-db".to_string())].into(),
            entries,
        }],
        ..Default::default()
    };
    let analysis = pagerpilot::analysis::pipeline::analyze(&snapshot);
    let beat = analysis
        .patterns
        .iter()
        .find(|p| p.template.starts_with("replication heartbeat"))
        .expect("heartbeat pattern");
    assert!(beat.is_vanished(), "{beat:?}");
    let incident = analysis
        .incidents
        .iter()
        .find(|i| i.services.iter().any(|s| s == "payments-db"))
        .expect("an incident on payments-db");
    // Cause evidence, through the cause scorer.
    let cause = incident.root_cause().expect("a cause");
    assert_eq!(cause.service, "payments-db");
    assert!(
        cause.evidence.iter().any(
            |e| e.text.starts_with("1 stopped, e.g. 'replication heartbeat")
                && e.text.contains("last seen")
                && e.weight > 0.0
        ),
        "{:?}",
        cause.evidence
    );
    // The timeline (and so the export): dated at the heartbeat's last line.
    let t = pagerpilot::report::timeline::build(incident, &snapshot.alerts, &[], &analysis, &[]);
    let stopped: Vec<_> = t
        .events
        .iter()
        .filter(|e| e.text.starts_with("log pattern stopped"))
        .collect();
    assert_eq!(stopped.len(), 1, "{:?}", t.events);
    assert!(stopped[0]
        .text
        .contains("payments-db: replication heartbeat"));
    assert_eq!(stopped[0].at, stopped_at);
    // The request line still flows: no event for it.
    assert!(t.events.iter().all(|e| !e.text.contains("query ok")));

    // The pattern list shows it dimmed with its last-seen time, the pane with its badge.
    let mut app = sample_app();
    if let Some(a) = app.analysis.as_mut() {
        a.patterns.push(beat.clone());
    }
    app.view = View::Patterns;
    app.screen = Screen::List(View::Patterns);
    let theme = Theme::load("dark", None).expect("dark theme");
    let t = draw(&app, 120, 30);
    let buf = t.backend().buffer();
    let shown = t.backend().to_string();
    let row = (0..buf.area.height)
        .find(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, *y)].symbol())
                .collect::<String>()
                .contains("replication heartbeat")
        })
        .expect("the stopped pattern is listed");
    let line: String = (0..buf.area.width)
        .map(|x| buf[(x, row)].symbol())
        .collect();
    assert!(
        line.contains("VANISHED") && line.contains(&format!("@{}", stopped_at.format("%H:%M"))),
        "{line}"
    );
    let col = line.find("replication").unwrap_or(0) as u16;
    assert_eq!(
        buf[(col, row)].style().fg,
        theme.style(Role::Muted).fg,
        "dimmed"
    );
    assert!(shown.contains("VANISHED"));
    app.screen = Screen::Logs {
        pattern_id: beat.id.clone(),
    };
    let t = draw(&app, 120, 30);
    insta::assert_snapshot!("logs_pane_vanished_120x30", t.backend());
}
