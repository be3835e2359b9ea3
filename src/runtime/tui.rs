//! The interactive loop: terminal events, messages and the frame deadline in one `select!`.
//! Draws only when something changed, at most every ~30 ms; the view never waits on I/O.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use anyhow::Context;

use super::effects::EffectRunner;
use super::execute::{self, Checker};
use super::pollers::{self, Schedule};
use super::setup::Sources;
use crate::app::{update, Access, App, Effect, Keymap, Msg};
use crate::domain::remediation::{Decision, EntryKind, Mode, RemediationEntry};
use crate::sources::alertmanager::AlertmanagerClient;
use crate::sources::Clock;
use crate::store::redact::Redactor;
use crate::store::Store;
use crate::ui::{self, theme::Theme};

const FRAME_INTERVAL: Duration = Duration::from_millis(30);

pub struct TuiOptions {
    pub theme: Theme,
    pub keymap: Keymap,
    pub db_path: PathBuf,
    pub exports_dir: PathBuf,
    pub operator: String,
    pub host: String,
    pub schedule: Schedule,
    /// When the process started, for the first-frame measurement in the log.
    pub started: Instant,
    /// Shown in the status bar at start (e.g. a local runbook that could not be read).
    pub startup_notice: Option<String>,
    /// Read-only, dry run (default) or write mode (`--write`, logged at start).
    pub access: Access,
    /// The configured display name, logged next to the OS user.
    pub display_name: Option<String>,
    /// Secrets and patterns to redact before anything is stored.
    pub redactor: Redactor,
    /// Evaluates runbook checks against the configured sources.
    pub checker: Checker,
    /// Where silences are created, when an Alertmanager is configured.
    pub alertmanager: Option<Arc<AlertmanagerClient>>,
    /// The config's global anomaly sensitivity (the TUI's starting point for `+`/`-`).
    pub sensitivity: f64,
    /// The config's per-watch sensitivities, by watch name.
    pub watch_sensitivity: std::collections::BTreeMap<String, f64>,
}

/// Runs the TUI until the user quits. The terminal is restored on every exit path (the panic
/// hook installed by `ratatui::try_init` covers panics).
pub async fn run(sources: Sources, clock: Arc<dyn Clock>, opts: TuiOptions) -> anyhow::Result<()> {
    let started = opts.started;
    // Open the store before touching the terminal so its errors print plainly.
    let store = Store::open_with(&opts.db_path, opts.redactor.clone())?;
    if opts.access == Access::Write {
        // Starting in write mode is as consequential as unlocking it: it is logged first.
        let mut entry = RemediationEntry::new(
            clock.now(),
            opts.operator.clone(),
            opts.host.clone(),
            "-",
            "-",
            0,
            "start in write mode",
            "write mode on (--write)",
            Decision::Approved,
        );
        entry.kind = EntryKind::Mode;
        entry.mode = Mode::Real;
        entry.display_name = opts.display_name.clone();
        store
            .handle()
            .append(entry)
            .context("cannot log the start in write mode; not starting")?;
    }
    let mut app = App::new(sources.mode, opts.keymap.clone(), clock.now());
    app.scenario = sources.scenario_name.clone();
    for kind in crate::sources::SourceKind::ALL {
        let via = (kind == crate::sources::SourceKind::Alertmanager).then_some(sources.alerts_via);
        app.configure_source(kind, sources.is_configured(kind), via);
    }
    app.topology = sources.topology.clone();
    app.runbooks = sources.runbooks.clone();
    app.operator = opts.operator.clone();
    app.display_name = opts.display_name.clone();
    app.access = opts.access.clone();
    app.can_silence = opts.alertmanager.is_some();
    app.sensitivity_default = opts.sensitivity;
    app.watch_sensitivity = opts.watch_sensitivity.clone();
    app.host = opts.host.clone();
    app.db_path = opts.db_path.display().to_string();
    app.notice = opts.startup_notice.clone().map(|text| crate::app::Notice {
        text,
        is_error: true,
        at: app.now,
    });

    let terminal = ratatui::try_init();
    let result = match terminal {
        Ok(mut terminal) => {
            event_loop(
                &mut terminal,
                &mut app,
                &sources,
                clock,
                &opts,
                &store,
                started,
            )
            .await
        }
        Err(e) => Err(anyhow::anyhow!("cannot set up the terminal: {e}")),
    };
    ratatui::restore();
    if let Err(e) = store.close() {
        tracing::error!(error = %e, "closing the store");
    }
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    sources: &Sources,
    clock: Arc<dyn Clock>,
    opts: &TuiOptions,
    store: &Store,
    started: Instant,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let runner = EffectRunner {
        tx: tx.clone(),
        store: store.handle(),
        exports_dir: opts.exports_dir.clone(),
        checker: opts.checker.clone(),
        alertmanager: opts.alertmanager.clone(),
        pattern_ids: Default::default(),
        scores: Default::default(),
    };
    let pollers = pollers::spawn(sources, clock.clone(), opts.schedule, tx.clone());
    runner.run(Effect::LoadLog, app);
    runner.run(Effect::LoadGroupingRules, app);
    runner.run(Effect::LoadAcks, app);

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut analysis_drawn = false;
    let mut pending: Vec<Msg> = Vec::new();

    let outcome = loop {
        let since_draw = last_draw.map_or(FRAME_INTERVAL, |t| t.elapsed());
        if dirty && since_draw >= FRAME_INTERVAL {
            terminal.draw(|f| ui::view(app, &opts.theme, f))?;
            if last_draw.is_none() {
                tracing::info!(
                    ms = started.elapsed().as_millis() as u64,
                    "first frame drawn"
                );
            }
            if app.analysis.is_some() && !analysis_drawn {
                analysis_drawn = true;
                tracing::info!(
                    ms = started.elapsed().as_millis() as u64,
                    "first analysis drawn"
                );
            }
            last_draw = Some(Instant::now());
            dirty = false;
        }
        let frame_wait =
            FRAME_INTERVAL.saturating_sub(last_draw.map_or(FRAME_INTERVAL, |t| t.elapsed()));
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) => pending.push(Msg::Key(key)),
                Some(Ok(Event::Resize(w, h))) => pending.push(Msg::Resize(w, h)),
                Some(Ok(_)) => {}
                Some(Err(e)) => break Err(anyhow::anyhow!("reading terminal events: {e}")),
                None => break Ok(()),
            },
            Some(msg) = rx.recv() => pending.push(msg),
            _ = tick.tick() => pending.push(Msg::Tick(clock.now())),
            _ = tokio::time::sleep(frame_wait), if dirty => {}
        }
        // Drain everything that is already queued, then draw once.
        while let Ok(msg) = rx.try_recv() {
            pending.push(msg);
        }
        let mut interactive = Vec::new();
        for msg in pending.drain(..) {
            dirty = true;
            for effect in update(app, msg) {
                match effect {
                    Effect::Execute(run) if run.interactive => interactive.push(*run),
                    other => runner.run(other, app),
                }
            }
        }
        if !app.data.history_outbox.is_empty() {
            runner.record_history(std::mem::take(&mut app.data.history_outbox));
        }
        for run in interactive {
            // Hand the terminal over: stop reading its events, leave the alternate screen and
            // raw mode, run, then take it back and redraw everything.
            drop(events);
            ratatui::restore();
            println!(
                "pagerpilot: running an interactive runbook step (timeout {} s); exit it to return.\n$ {}",
                run.timeout.as_secs(),
                run.command
            );
            let request = run.request;
            let result = execute::run_interactive(run, opts.checker.clone())
                .await
                .map(Box::new);
            crossterm::terminal::enable_raw_mode()?;
            crossterm::execute!(
                std::io::stdout(),
                crossterm::terminal::EnterAlternateScreen,
                crossterm::terminal::Clear(crossterm::terminal::ClearType::All),
                crossterm::cursor::Hide
            )?;
            // A fresh terminal has no previous frame, so the next draw repaints everything.
            // (`Terminal::clear` would ask the terminal for the cursor position, and the
            // reply can be lost right after the hand-back.)
            *terminal =
                ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
            events = EventStream::new();
            let _ = tx.send(Msg::Executed { request, result });
            dirty = true;
        }
        if app.should_quit {
            break Ok(());
        }
    };
    for p in pollers {
        p.abort();
    }
    outcome
}
