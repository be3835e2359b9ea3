//! How live mode shows its sources: no DEMO marker, "not configured" for an absent source,
//! "alerts via prometheus" when Prometheus answers for alerts, an auth error apart from other
//! failures, and the last good data kept and marked stale.

use chrono::Duration;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use pagerpilot::app::{update, App, Health, Keymap, Msg, PollData, RunMode};
use pagerpilot::domain::Series;
use pagerpilot::sources::{SourceError, SourceKind};
use pagerpilot::ui::fixture;
use pagerpilot::ui::theme::Theme;
use pagerpilot::ui::view;

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(160, 30)).expect("test terminal");
    let theme = Theme::load("dark", None).expect("dark theme");
    t.draw(|f| view(app, &theme, f)).expect("draw");
    t.backend().to_string()
}

fn polled(
    kind: SourceKind,
    generation: u64,
    secs: i64,
    result: Result<PollData, SourceError>,
) -> Msg {
    Msg::Polled {
        source: kind,
        generation,
        at: fixture::now() + Duration::seconds(secs),
        elapsed_ms: 12,
        result,
    }
}

fn one_series() -> Vec<Series> {
    vec![fixture::series("m{service=\"web\"}", "web", 10, |i| {
        i as f64
    })]
}

#[test]
fn live_status_bar_shows_each_source_state() {
    let mut app = App::new(RunMode::Live, Keymap::embedded(), fixture::now());
    app.configure_source(SourceKind::Prometheus, true, None);
    app.configure_source(SourceKind::Alertmanager, true, Some(SourceKind::Prometheus));
    app.configure_source(SourceKind::Loki, false, None);
    let text = screen(&app);
    assert!(!text.contains("DEMO"), "{text}");
    assert!(text.contains("loki not configured"), "{text}");
    assert!(text.contains("alerts via prometheus"), "{text}");
    assert!(
        text.contains("still waiting for: prometheus, alertmanager\n")
            || text.contains("still waiting for: prometheus, alertmanager "),
        "an unconfigured source is not waited for: {text}"
    );
}

#[test]
fn auth_error_is_shown_as_such_and_keeps_the_data_stale() {
    let mut app = App::new(RunMode::Live, Keymap::embedded(), fixture::now());
    update(
        &mut app,
        polled(
            SourceKind::Prometheus,
            1,
            0,
            Ok(PollData::Metrics(one_series())),
        ),
    );
    assert_eq!(app.data.series.len(), 1);
    let auth = SourceError::Auth {
        kind: SourceKind::Prometheus,
        status: 401,
    };
    update(
        &mut app,
        polled(SourceKind::Prometheus, 2, 60, Err(auth.clone())),
    );
    update(&mut app, polled(SourceKind::Prometheus, 3, 120, Err(auth)));
    let status = app.source(SourceKind::Prometheus).expect("prometheus slot");
    assert!(status.is_stale());
    match &status.health {
        Health::AuthError { since, error } => {
            assert_eq!(
                *since,
                fixture::now() + Duration::seconds(60),
                "since the first"
            );
            assert!(
                error.contains("prometheus rejected the credentials (HTTP 401)"),
                "{error}"
            );
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert_eq!(app.data.series, one_series(), "last good data kept");
    app.now = fixture::now() + Duration::seconds(180);
    let text = screen(&app);
    assert!(text.contains("auth error"), "{text}");
    assert!(text.contains("STALE since"), "{text}");
    assert!(
        text.contains("prometheus rejected the credentials"),
        "{text}"
    );

    // Recovery clears the marker.
    update(
        &mut app,
        polled(
            SourceKind::Prometheus,
            4,
            200,
            Ok(PollData::Metrics(one_series())),
        ),
    );
    assert_eq!(
        app.source(SourceKind::Prometheus).map(|s| s.health.clone()),
        Some(Health::Ok)
    );
}
