//! Screen tests: insta snapshots of every screen and overlay from a fixed-clock fixture App,
//! style checks on the buffer, theme loading, and a property test that rendering never panics.

use std::collections::BTreeMap;

use chrono::Duration;
use proptest::prelude::*;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

use pagerpilot::analysis::Analysis;
use pagerpilot::app::{
    App, Keymap, Overlay, RunMode, Screen, View, LIST_INCIDENTS, LIST_LOG, LIST_PATTERNS,
    LIST_RUNBOOKS,
};
use pagerpilot::ui::fixture::{self, sample_app};
use pagerpilot::ui::theme::{Role, Theme, ThemeError};
use pagerpilot::ui::view;

fn draw(app: &App, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| view(app, theme, f)).expect("draw");
    t
}

fn screen(app: &App, w: u16, h: u16) -> String {
    draw(app, &dark(), w, h).backend().to_string()
}

fn dark() -> Theme {
    Theme::load("dark", None).expect("dark theme")
}

fn with_screen(screen: Screen) -> App {
    let mut app = sample_app();
    if let Screen::List(v) = &screen {
        app.view = *v;
    }
    app.screen = screen;
    app
}

fn detail() -> App {
    with_screen(Screen::Detail {
        incident_id: "INC-3f9a1c".into(),
    })
}

#[test]
fn incident_list() {
    let t = draw(&sample_app(), &dark(), 120, 36);
    insta::assert_snapshot!("incidents_120x36", t.backend());
    let t = draw(&sample_app(), &dark(), 80, 24);
    insta::assert_snapshot!("incidents_80x24", t.backend());
}

#[test]
fn incident_list_empty_states() {
    let waiting = App::new(RunMode::Live, Keymap::embedded(), fixture::now());
    let t = draw(&waiting, &dark(), 120, 36);
    insta::assert_snapshot!("incidents_waiting", t.backend());

    let mut quiet = App::new(RunMode::Live, Keymap::embedded(), fixture::now());
    quiet.analysis = Some(Analysis {
        generated_at: fixture::now(),
        ..Analysis::default()
    });
    assert!(screen(&quiet, 120, 36).contains("No incidents: nothing is firing."));

    let mut filtered = sample_app();
    filtered.filters.insert(LIST_INCIDENTS, "zzz".into());
    let t = draw(&filtered, &dark(), 120, 36);
    insta::assert_snapshot!("incidents_no_match", t.backend());
}

#[test]
fn incident_detail() {
    let t = draw(&detail(), &dark(), 120, 36);
    insta::assert_snapshot!("detail_120x36", t.backend());
    let t = draw(&detail(), &dark(), 80, 24);
    insta::assert_snapshot!("detail_80x24", t.backend());
    let mut app = detail();
    app.chart_series = 1;
    app.selected.insert(LIST_RUNBOOKS, 1);
    let t = draw(&app, &dark(), 120, 36);
    insta::assert_snapshot!("detail_forecast_120x36", t.backend());
    let t = draw(&app, &dark(), 160, 48);
    insta::assert_snapshot!("detail_forecast_160x48", t.backend());
    let gone = with_screen(Screen::Detail {
        incident_id: "INC-gone".into(),
    });
    assert!(screen(&gone, 120, 36).contains("Incident INC-gone is no longer open."));
}

/// The detail with bursts of moderate scores on the charted series, so a higher sensitivity
/// fires more often than the default.
fn detail_with_bursts() -> App {
    let mut app = detail();
    let id = app
        .charted_series()
        .map(str::to_owned)
        .expect("charted series");
    let a = app
        .analysis
        .as_mut()
        .and_then(|a| a.anomalies.get_mut(&id))
        .expect("anomaly of the charted series");
    // 0.42 counts from sensitivity 0.7 on (0.42^(4^-0.2) ≈ 0.52), not at 0.6 (≈ 0.47).
    for at in [10, 40] {
        for x in a.scores.iter_mut().skip(at).take(4) {
            *x = 0.42;
        }
    }
    app
}

#[test]
fn sensitivity_proposal_shows_a_backtest() {
    use pagerpilot::app::update::on_action;
    use pagerpilot::app::Action;
    let mut app = detail_with_bursts();
    on_action(&mut app, Action::MoreSensitive);
    let p = app.sensitivity_preview().expect("preview after +");
    assert_eq!((p.proposed, p.current), (0.6, 0.5));
    assert_eq!((p.fires_proposed, p.fires_current), (1, 1));
    on_action(&mut app, Action::MoreSensitive);
    let p = app.sensitivity_preview().expect("preview after ++");
    assert_eq!(p.proposed, 0.7);
    assert_eq!((p.fires_proposed, p.fires_current), (3, 1));
    let t = draw(&app, &dark(), 120, 36);
    insta::assert_snapshot!("detail_sensitivity_120x36", t.backend());
    assert!(screen(&app, 80, 24).contains("sensitivity 0.7 (now 0.5)"));

    // Esc cancels and leaves the detail open.
    on_action(&mut app, Action::Back);
    assert!(app.sensitivity_proposal.is_none());
    assert!(matches!(app.screen, Screen::Detail { .. }));
    let id = app.charted_series().map(str::to_owned).expect("charted");
    assert_eq!(app.sensitivity_for(&id), 0.5);

    // Enter applies for the session; the next proposal starts from the applied value.
    on_action(&mut app, Action::MoreSensitive);
    on_action(&mut app, Action::MoreSensitive);
    let effects = on_action(&mut app, Action::Open);
    assert!(app.sensitivity_proposal.is_none());
    assert_eq!(app.sensitivity_for(&id), 0.7);
    // The analysis runs again with the new sensitivity on that series.
    let analysed = effects.iter().find_map(|e| match e {
        pagerpilot::app::Effect::Analyze { snapshot, .. } => snapshot
            .series
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.sensitivity),
        _ => None,
    });
    assert_eq!(
        analysed,
        Some(Some(0.7)),
        "no analysis with the applied value"
    );
    let notice = app
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(notice.contains("for this session"), "{notice}");
    assert!(
        matches!(app.screen, Screen::Detail { .. }),
        "Enter must not open a runbook"
    );
    on_action(&mut app, Action::LessSensitive);
    let p = app.sensitivity_preview().expect("preview after -");
    assert_eq!((p.proposed, p.current), (0.6, 0.7));
    assert_eq!((p.fires_proposed, p.fires_current), (1, 3));

    // Steps stop at the ends of 0..1.
    for _ in 0..20 {
        on_action(&mut app, Action::MoreSensitive);
    }
    assert_eq!(app.sensitivity_preview().map(|p| p.proposed), Some(1.0));
    for _ in 0..20 {
        on_action(&mut app, Action::LessSensitive);
    }
    assert_eq!(app.sensitivity_preview().map(|p| p.proposed), Some(0.0));
    // Switching series drops the proposal.
    on_action(&mut app, Action::NextSeries);
    assert!(app.sensitivity_proposal.is_none());
}

#[test]
fn sensitivity_comes_from_the_session_then_the_watch_then_the_default() {
    use pagerpilot::app::{update, Msg, PollData};
    use pagerpilot::sources::SourceKind;
    let mut app = detail();
    app.sensitivity_default = 0.4;
    let id = app.charted_series().map(str::to_owned).expect("charted");
    assert_eq!(app.sensitivity_for(&id), 0.4);
    app.watch_sensitivity.insert("checkout p99".into(), 0.8);
    assert_eq!(
        app.sensitivity_for(&id),
        0.4,
        "not returned by that watch yet"
    );
    let series = app.data.series.clone();
    let watch_of: BTreeMap<String, String> = [(id.clone(), "checkout p99".to_string())].into();
    update(
        &mut app,
        Msg::Polled {
            source: SourceKind::Prometheus,
            generation: u64::MAX,
            at: fixture::now(),
            elapsed_ms: 3,
            result: Ok(PollData::WatchedMetrics { series, watch_of }),
        },
    );
    assert_eq!(app.sensitivity_for(&id), 0.8);
    app.sensitivity.insert(id.clone(), 0.2);
    assert_eq!(app.sensitivity_for(&id), 0.2);
    // What the analysis gets: each series with the sensitivity in force for it.
    let snap = update::snapshot(&app);
    let of = |sid: &str| {
        snap.series
            .iter()
            .find(|s| s.id == sid)
            .map(|s| s.sensitivity)
    };
    assert_eq!(of(&id), Some(Some(0.2)));
    assert!(snap.series.len() > 1);
    assert!(snap
        .series
        .iter()
        .filter(|s| s.id != id)
        .all(|s| s.sensitivity == Some(0.4)));
}

#[test]
fn runbook_stepper() {
    let t = draw(&with_screen(Screen::Stepper), &dark(), 120, 36);
    insta::assert_snapshot!("stepper_120x36", t.backend());
    let t = draw(&with_screen(Screen::Stepper), &dark(), 80, 24);
    insta::assert_snapshot!("stepper_80x24", t.backend());
    let mut app = with_screen(Screen::Stepper);
    if let Some(s) = app.stepper.as_mut() {
        s.current = 3;
    }
    let t = draw(&app, &dark(), 120, 36);
    insta::assert_snapshot!("stepper_render_error", t.backend());
}

#[test]
fn patterns_and_log() {
    let t = draw(&with_screen(Screen::List(View::Patterns)), &dark(), 120, 36);
    insta::assert_snapshot!("patterns_120x36", t.backend());
    let t = draw(&with_screen(Screen::List(View::Log)), &dark(), 120, 36);
    insta::assert_snapshot!("log_120x36", t.backend());
}

#[test]
fn overlays() {
    let mut app = sample_app();
    app.overlay = Some(Overlay::Help);
    let t = draw(&app, &dark(), 120, 36);
    insta::assert_snapshot!("help_120x36", t.backend());
    let t = draw(&app, &dark(), 80, 24);
    insta::assert_snapshot!("help_80x24", t.backend());
    let mut app = sample_app();
    app.overlay = Some(Overlay::Filter("payments".into()));
    app.filters.insert(LIST_INCIDENTS, "payments".into());
    let t = draw(&app, &dark(), 120, 36);
    insta::assert_snapshot!("filter_120x36", t.backend());
}

#[test]
fn remediation_dialogs() {
    use pagerpilot::app::{Access, Confirm, InputPurpose, PendingAction};
    let mut app = with_screen(Screen::Stepper);
    app.access = Access::Write;
    app.overlay = Some(Overlay::Confirm(Confirm {
        action: PendingAction::Run { index: 2 },
        prompt: "Step 3 is DESTRUCTIVE and will run for real:\npsql -h 'payments-db' -c \"select 1\"\nType payments-db to run it.".into(),
        expected: Some("payments-db".into()),
        typed: "paym".into(),
    }));
    let t = draw(&app, &dark(), 120, 36);
    insta::assert_snapshot!("confirm_destructive_120x36", t.backend());
    app.access = Access::DryRun;
    app.overlay = Some(Overlay::Input {
        purpose: InputPurpose::SkipReason { index: 2 },
        text: "pool already drained by the DBA".into(),
    });
    let t = draw(&app, &dark(), 80, 24);
    insta::assert_snapshot!("skip_reason_80x24", t.backend());
}

#[test]
fn help_lists_every_binding_description() {
    let mut app = sample_app();
    app.overlay = Some(Overlay::Help);
    let t = draw(&app, &dark(), 200, 60);
    let screen = t.backend().to_string();
    let km = Keymap::embedded();
    for layer in pagerpilot::app::Layer::ALL {
        for b in km.bindings(layer) {
            assert!(screen.contains(&b.desc), "help misses {:?}", b.desc);
        }
    }
}

#[test]
fn too_small_terminal_says_so() {
    let t = draw(&sample_app(), &dark(), 60, 20);
    insta::assert_snapshot!("too_small_60x20", t.backend());
    assert!(t
        .backend()
        .to_string()
        .contains("terminal too small: need 80x24, have 60x20"));
}

#[test]
fn monochrome_has_no_colours() {
    let mono = Theme::monochrome();
    let mut screens = vec![
        sample_app(),
        detail(),
        with_screen(Screen::Stepper),
        with_screen(Screen::List(View::Patterns)),
        with_screen(Screen::List(View::Log)),
    ];
    let mut help = sample_app();
    help.overlay = Some(Overlay::Help);
    screens.push(help);
    let mut chart2 = detail();
    chart2.chart_series = 1;
    screens.push(chart2);
    for app in &screens {
        let t = draw(app, &mono, 120, 36);
        for cell in t.backend().buffer().content() {
            assert_eq!(cell.fg, Color::Reset, "{:?} at {:?}", cell, app.screen);
            assert_eq!(cell.bg, Color::Reset, "{:?} at {:?}", cell, app.screen);
        }
    }
}

#[test]
fn colours_follow_roles() {
    let theme = dark();
    let t = draw(&detail(), &theme, 120, 36);
    let cells = t.backend().buffer().content();
    for role in [Role::ChartSeries, Role::ChartBand, Role::ChartAnomaly] {
        let fg = theme.style(role).fg.expect("role has a colour");
        assert!(
            cells.iter().any(|c| c.fg == fg && c.symbol() != " "),
            "nothing drawn in {role:?}"
        );
    }
    let t = draw(&sample_app(), &theme, 120, 36);
    let buf = t.backend().buffer();
    let crit = theme.style(Role::Critical).fg;
    let row = (0..36).find(|y| text_row(buf, *y).contains("CRIT"));
    let y = row.expect("a critical row");
    let x = text_row(buf, y).find("CRIT").expect("CRIT") as u16;
    assert_eq!(buf[(x, y)].fg, crit.expect("critical colour"));
    let demo = text_row(buf, 34).find("DEMO").expect("DEMO marker") as u16;
    assert!(buf[(demo, 34)].modifier.contains(Modifier::REVERSED));
}

fn text_row(buf: &ratatui::buffer::Buffer, y: u16) -> String {
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

#[test]
fn builtin_themes_load() {
    assert_eq!(Theme::builtin_names(), ["dark", "light", "high-contrast"]);
    for name in Theme::builtin_names() {
        let theme = Theme::load(name, None).expect("builtin theme");
        assert_eq!(theme.name(), *name);
        assert_ne!(theme.style(Role::Critical), theme.style(Role::Text));
    }
    assert_ne!(
        Theme::load("light", None).expect("light").style(Role::Text),
        dark().style(Role::Text)
    );
}

#[test]
fn user_theme_overrides_one_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("dark.toml"),
        "[roles]\ncritical = { fg = \"#010203\", bold = true }\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("mine.toml"), "[roles.ok]\nfg = \"red\"\n").expect("write");
    let base = dark();
    let theme = Theme::load("dark", Some(dir.path())).expect("user dark");
    assert_eq!(theme.style(Role::Critical).fg, Some(Color::Rgb(1, 2, 3)));
    assert_eq!(theme.style(Role::Warning), base.style(Role::Warning));
    let mine = Theme::load("mine", Some(dir.path())).expect("user theme");
    assert_eq!(mine.style(Role::Ok).fg, Some(Color::Red));
    assert_eq!(mine.style(Role::Title), base.style(Role::Title));
    assert!(Theme::available(Some(dir.path())).contains(&"mine".to_string()));
}

#[test]
fn theme_errors_name_the_problem() {
    let err = Theme::load("solarized", None).expect_err("unknown theme");
    let msg = err.to_string();
    assert!(matches!(err, ThemeError::Unknown { .. }));
    for name in Theme::builtin_names() {
        assert!(msg.contains(name), "{msg}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.toml"),
        "[roles]\nok = { fg = \"#12345\" }\n",
    )
    .expect("write");
    let msg = Theme::load("bad", Some(dir.path()))
        .expect_err("bad colour")
        .to_string();
    assert!(
        msg.contains("bad.toml") && msg.contains("roles.ok.fg"),
        "{msg}"
    );
    std::fs::write(dir.path().join("broken.toml"), "[roles\n").expect("write");
    let msg = Theme::load("broken", Some(dir.path()))
        .expect_err("bad toml")
        .to_string();
    assert!(msg.contains("broken.toml"), "{msg}");
    std::fs::write(dir.path().join("extra.toml"), "[roles.ok]\nblink = true\n").expect("write");
    let msg = Theme::load("extra", Some(dir.path()))
        .expect_err("unknown field")
        .to_string();
    assert!(msg.contains("extra.toml") && msg.contains("blink"), "{msg}");
}

// ---- property test: any state, any size, no panic ----

fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(0.0),
        -1e6..1e6f64,
        any::<f64>(),
    ]
}

fn wild_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "\\PC{0,12}",
        "[a-z日本語🚀\u{301}\t\n ]{0,300}",
    ]
}

#[derive(Debug, Clone)]
struct Wild {
    size: (u16, u16),
    screen: u8,
    overlay: u8,
    text: String,
    values: Vec<f64>,
    sel: usize,
    chart: usize,
    drop_analysis: bool,
    secs: i64,
}

fn size() -> impl Strategy<Value = (u16, u16)> {
    prop_oneof![
        Just((0u16, 0u16)),
        Just((1, 1)),
        Just((80, 24)),
        (0u16..300, 0u16..120),
    ]
}

fn wild_app(w: &Wild) -> App {
    let mut app = sample_app();
    let t = w.text.clone();
    app.screen = match w.screen {
        0 => Screen::List(View::Incidents),
        1 => Screen::List(View::Patterns),
        2 => Screen::List(View::Log),
        3 => Screen::Detail {
            incident_id: "INC-3f9a1c".into(),
        },
        4 => Screen::Detail {
            incident_id: t.clone(),
        },
        _ => Screen::Stepper,
    };
    app.overlay = match w.overlay {
        1 => Some(Overlay::Help),
        2 => Some(Overlay::Filter(t.clone())),
        _ => None,
    };
    let mut sel = BTreeMap::new();
    for k in [LIST_INCIDENTS, LIST_PATTERNS, LIST_LOG, LIST_RUNBOOKS] {
        sel.insert(k, w.sel);
    }
    app.selected = sel;
    app.chart_series = w.chart;
    app.scenario = Some(t.clone());
    app.db_path = t.clone();
    let shift = Duration::try_seconds(w.secs).unwrap_or_default();
    app.now = app.now.checked_add_signed(shift).unwrap_or(app.now);
    for s in &mut app.data.series {
        for (i, v) in s.values.iter_mut().enumerate() {
            if let Some(x) = w.values.get(i % w.values.len().max(1)) {
                *v = *x;
            }
        }
        if w.values.len() == 1 {
            s.timestamps.iter_mut().for_each(|t| *t = i64::MAX);
        }
    }
    if let Some(a) = app.analysis.as_mut() {
        for inc in &mut a.incidents {
            inc.title.push_str(&t);
            inc.score = w.values.first().copied().unwrap_or(f64::NAN);
            for m in &mut inc.members {
                m.reason = t.clone();
                m.alertname = t.clone();
            }
            for c in &mut inc.candidates {
                c.service = t.clone();
                c.confidence = w.values.last().copied().unwrap_or(0.0);
            }
        }
        for an in a.anomalies.values_mut() {
            an.upper.truncate(w.values.len());
            an.scores = w.values.clone();
            an.explanation = t.clone();
        }
        for f in a.forecasts.values_mut() {
            f.point = w.values.clone();
            f.text = t.clone();
            f.capacity = w.values.first().copied().unwrap_or(f64::NAN);
        }
        for p in &mut a.patterns {
            p.template = t.clone();
            p.surge_ratio = w.values.first().copied().unwrap_or(1.0);
            p.buckets = vec![u64::MAX, 0, 1];
            p.count = u64::MAX;
        }
        if w.sel == 0 {
            a.incidents.clear();
            a.patterns.clear();
        }
    }
    if let Some(s) = app.stepper.as_mut() {
        s.current = w.sel;
        s.runbook_title = t.clone();
        if let Some(step) = s.steps.first_mut() {
            step.prose = t.clone();
            step.command = Err(t.clone());
        }
        if w.sel == 0 {
            s.steps.clear();
        }
    }
    if w.drop_analysis {
        app.analysis = None;
        app.stepper = None;
        app.log.clear();
    }
    if let Some(n) = app.notice.as_mut() {
        n.text = t;
        n.is_error = w.drop_analysis;
    }
    app
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn rendering_never_panics(
        size in size(),
        screen in 0u8..6,
        overlay in 0u8..3,
        text in wild_text(),
        values in prop::collection::vec(wild_f64(), 0..40),
        sel in prop_oneof![Just(usize::MAX), 0usize..8],
        chart in prop_oneof![Just(usize::MAX), 0usize..5],
        drop_analysis in any::<bool>(),
        secs in prop_oneof![Just(i64::MAX), Just(i64::MIN), -1_000_000i64..1_000_000],
    ) {
        let w = Wild { size, screen, overlay, text, values, sel, chart, drop_analysis, secs };
        let app = wild_app(&w);
        let (width, height) = w.size;
        for theme in [dark(), Theme::monochrome()] {
            let mut t = Terminal::new(TestBackend::new(width, height)).expect("terminal");
            t.draw(|f| view(&app, &theme, f)).expect("draw");
        }
    }
}
