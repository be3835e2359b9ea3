//! The logs pane of a log pattern: opened from the pattern list, raw lines with the variable
//! parts highlighted, `/` filter, follow toggle; an insta snapshot of the screen.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use pagerpilot::app::update::update;
use pagerpilot::app::{App, Msg, Screen, View, LIST_LOGLINES, LIST_PATTERNS};
use pagerpilot::domain::{LogEntry, LogStream};
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
fn a_steady_pattern_that_stopped_joins_the_incident_timeline() {
    let mut app = sample_app();
    let Some(analysis) = app.analysis.as_mut() else {
        panic!("fixture has an analysis");
    };
    let incident = analysis.incidents[0].clone();
    let service = incident.services[0].clone();
    let p = &mut analysis.patterns[0];
    p.service = Some(service.clone());
    p.is_new = false;
    p.is_surge = false;
    // 50 intervals of about 6 lines, then 10 empty ones.
    p.buckets = (0..60)
        .map(|i| if i < 50 { 5 + (i % 3) } else { 0 })
        .collect();
    let template = p.template.clone();
    let bucket_secs = p.bucket_secs;
    let analysis = app.analysis.clone().unwrap_or_default();
    let t = pagerpilot::report::timeline::build(&incident, &app.data.alerts, &[], &analysis, &[]);
    let stopped: Vec<_> = t
        .events
        .iter()
        .filter(|e| e.text.starts_with("log pattern stopped"))
        .collect();
    assert_eq!(stopped.len(), 1, "{:?}", t.events);
    assert!(stopped[0].text.contains(&template) && stopped[0].text.contains(&service));
    assert_eq!(
        stopped[0].at,
        analysis.generated_at - chrono::Duration::seconds(10 * bucket_secs)
    );
    // Still flowing: no such event.
    let mut flowing = analysis.clone();
    flowing.patterns[0].buckets = vec![6; 60];
    let t = pagerpilot::report::timeline::build(&incident, &app.data.alerts, &[], &flowing, &[]);
    assert!(t
        .events
        .iter()
        .all(|e| !e.text.starts_with("log pattern stopped")));
}
