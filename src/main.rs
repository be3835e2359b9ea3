//! The `pagerpilot` binary: parses the command line and hands over to the TUI or a headless
//! command. Everything it calls lives in the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Parser;

use pagerpilot::app::{Access, Keymap};
use pagerpilot::cli::{
    Cli, Command, Common, CorrelateFormat, ExportFormat, LogFormat, RcaFormat, RunbookCommand,
    ScanFormat,
};
use pagerpilot::config::{self, Paths};
use pagerpilot::demo::Scenario;
use pagerpilot::domain::runbook;
use pagerpilot::report::{correlate, history, patterns, rca, runbook_check, scan, timeline};
use pagerpilot::runtime::doctor;
use pagerpilot::runtime::execute::Checker;
use pagerpilot::runtime::headless::{run_cycle, Sensitivities};
use pagerpilot::runtime::pollers::Schedule;
use pagerpilot::runtime::setup::{self, Sources};
use pagerpilot::runtime::tui::{self, TuiOptions};
use pagerpilot::sources::alertmanager::AlertmanagerClient;
use pagerpilot::sources::loki::LokiClient;
use pagerpilot::sources::prometheus::PrometheusClient;
use pagerpilot::sources::{Clock, FixedClock, SystemClock};
use pagerpilot::store::redact::Redactor;
use pagerpilot::store::Store;
use pagerpilot::ui::theme::Theme;

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    let paths = Paths::resolve();
    let _log_guard = init_tracing(&cli.common, &paths);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli, paths, started)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "exiting with an error");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli, paths: Paths, started: Instant) -> anyhow::Result<ExitCode> {
    let (clock, now) = clock(&cli.common)?;
    let db = cli.common.db.clone().unwrap_or_else(|| paths.default_db());
    match cli.command {
        None => {
            let settings = config::resolve(&cli.common.overrides(), &paths)?;
            let access = match (settings.readonly, cli.tui.write) {
                (true, _) => Access::ReadOnly,
                (false, true) => Access::Write,
                (false, false) => Access::DryRun,
            };
            let mut notices: Vec<String> = settings.warnings.clone();
            if settings.readonly && cli.tui.write {
                notices.push("--write ignored: read-only mode is on".to_string());
            }
            let mut opts = TuiOptions {
                theme: theme(&cli.tui.theme, &paths)?,
                keymap: keymap(&paths)?,
                db_path: db,
                exports_dir: paths.exports_dir(),
                operator: config::os_user(),
                host: config::host_name(),
                schedule: schedule(&settings),
                started,
                startup_notice: None,
                access,
                display_name: cli.tui.operator.clone().or(settings.operator.clone()),
                redactor: redactor(&settings),
                checker: checker(&settings, &mut notices),
                alertmanager: settings.alertmanager.as_ref().and_then(|a| {
                    AlertmanagerClient::new(a.http.clone())
                        .map_err(|e| notices.push(format!("alertmanager: {e}")))
                        .ok()
                        .map(Arc::new)
                }),
                sensitivity: settings.sensitivity,
                watch_sensitivity: settings.watch_sensitivity.clone(),
            };
            let mut sources = sources(&cli.common, &settings, None, now, clock.clone())?;
            notices.extend(add_local_runbooks(
                &mut sources,
                &paths,
                &settings.runbook_dirs,
            ));
            // Unchecked TLS certificates are the notice that must be seen first.
            notices.sort_by_key(|n| !n.contains("insecure_skip_verify"));
            for n in &notices {
                tracing::warn!(notice = %n, "startup");
            }
            opts.startup_notice = notices.first().map(|p| {
                let more = notices.len() - 1;
                if more > 0 {
                    format!("{p} (and {more} more; see the log)")
                } else {
                    p.clone()
                }
            });
            tui::run(sources, clock, opts).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Scan(args)) => {
            let settings = config::resolve(&cli.common.overrides(), &paths)?;
            warn_all(&settings.warnings);
            let mut sources =
                sources(&cli.common, &settings, args.scenario.as_deref(), now, clock)?;
            warn_all(&add_local_runbooks(
                &mut sources,
                &paths,
                &settings.runbook_dirs,
            ));
            let sensitivities = Sensitivities::of(&settings);
            let cycle = run_cycle(&sources, now, read_rules(&db)?, sensitivities).await?;
            let text = match args.format {
                ScanFormat::Json => scan::to_json(&cycle.analysis)? + "\n",
                ScanFormat::Table => scan::to_table(&cycle.analysis),
            };
            print_out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Export(args)) => {
            let settings = config::resolve(&cli.common.overrides(), &paths)?;
            warn_all(&settings.warnings);
            let mut sources = sources(&cli.common, &settings, None, now, clock)?;
            warn_all(&add_local_runbooks(
                &mut sources,
                &paths,
                &settings.runbook_dirs,
            ));
            let sensitivities = Sensitivities::of(&settings);
            let cycle = run_cycle(&sources, now, read_rules(&db)?, sensitivities).await?;
            let Some(incident) = cycle
                .analysis
                .incidents
                .iter()
                .find(|i| i.id.eq_ignore_ascii_case(&args.incident))
            else {
                let known: Vec<&str> = cycle
                    .analysis
                    .incidents
                    .iter()
                    .map(|i| i.id.as_str())
                    .collect();
                anyhow::bail!(
                    "no active incident {:?}; active incidents: {}",
                    args.incident,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            };
            let actions = read_log(&db, Some(&incident.id))?;
            let t = timeline::build(incident, &cycle.alerts, &[], &cycle.analysis, &actions);
            let text = match args.format {
                ExportFormat::Md => timeline::to_markdown(&t),
                ExportFormat::Json => timeline::to_json(&t)? + "\n",
                ExportFormat::Html => timeline::to_html(&t),
            };
            match &args.output {
                Some(path) => std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print_out(&text)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Log(args)) => {
            let store = Store::open(&db)?;
            let handle = store.handle();
            let code = if args.verify {
                let report = handle.verify()?;
                match report.first_bad {
                    None => {
                        let head = report
                            .head
                            .as_deref()
                            .map(|h| format!("; head {h}"))
                            .unwrap_or_default();
                        print_out(&format!(
                            "chain OK ({} rows{head}) {}\n",
                            report.rows,
                            db.display()
                        ))?;
                        ExitCode::SUCCESS
                    }
                    Some((seq, what)) => {
                        eprintln!(
                            "TAMPERED: {} rows checked; first bad row #{seq}: {what} ({})",
                            report.rows,
                            db.display()
                        );
                        ExitCode::from(2)
                    }
                }
            } else {
                let rows = handle.list(args.incident.as_deref())?;
                let text = match args.format {
                    LogFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
                    LogFormat::Table => log_table(&rows),
                };
                print_out(&text)?;
                ExitCode::SUCCESS
            };
            drop(handle);
            store.close()?;
            Ok(code)
        }
        Some(Command::Rca(args)) => {
            let result = rca::run(&args.normal, &args.anomalous, args.service_of.as_deref())?;
            let text = match args.format {
                RcaFormat::Json => rca::to_json(&result)? + "\n",
                RcaFormat::Table => rca::to_table(&result),
            };
            print_out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Correlate(args)) => {
            let at = cli.common.at.is_some().then_some(now);
            let rules = read_rules(&db)?;
            let mut result = correlate::run(&args.input, args.topology.as_deref(), at, &rules)?;
            correlate::add_history(&mut result, &db)?;
            let text = match args.format {
                CorrelateFormat::Json => correlate::to_json(&result)? + "\n",
                CorrelateFormat::Table => correlate::to_table(&result),
            };
            print_out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::History(args)) => {
            print_out(&history::run(&db, &args, now)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Runbook {
            command: RunbookCommand::Check(args),
        }) => {
            let report = runbook_check::run(&args.paths);
            for problem in &report.unreadable {
                eprintln!("error: {problem}");
            }
            print_out(&runbook_check::render(&report))?;
            Ok(ExitCode::from(report.exit_code()))
        }
        Some(Command::Detect(args)) => {
            let (text, warnings) = pagerpilot::report::detect::run(&args.input, args.sensitivity)?;
            warn_all(&warnings);
            match &args.output {
                Some(path) => std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print_out(&text)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Forecast(args)) => {
            let (text, warnings) = pagerpilot::report::forecast_cli::run(&args)?;
            warn_all(&warnings);
            print_out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Patterns(args)) => {
            print_out(&patterns::run(&args.input, args.format)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Doctor) => {
            let settings = config::resolve(&cli.common.overrides(), &paths)?;
            warn_all(&settings.warnings);
            let checks = doctor::run(&settings).await;
            print_out(&doctor::render(&checks))?;
            Ok(if checks.iter().all(|c| c.ok()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Some(Command::Demo { command }) => demo_command(command).await,
        Some(Command::Themes) => {
            let mut names: Vec<String> = Theme::builtin_names()
                .iter()
                .map(|s| s.to_string())
                .collect();
            if let Ok(dir) = std::fs::read_dir(paths.config_dir.join("themes")) {
                for entry in dir.flatten() {
                    let p = entry.path();
                    if p.extension().is_some_and(|e| e == "toml") {
                        if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                            if !names.iter().any(|n| n == stem) {
                                names.push(format!("{stem} (user)"));
                            }
                        }
                    }
                }
            }
            print_out(&(names.join("\n") + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `pagerpilot demo openmetrics|serve-metrics` (hidden; used by scripts/demo-stack).
async fn demo_command(command: pagerpilot::cli::DemoCommand) -> anyhow::Result<ExitCode> {
    use pagerpilot::cli::DemoCommand;
    let anchor = |text: &Option<String>| -> anyhow::Result<DateTime<Utc>> {
        match text {
            Some(t) => Ok(DateTime::parse_from_rfc3339(t)
                .with_context(|| format!("--anchor {t:?} is not an RFC 3339 time"))?
                .with_timezone(&Utc)),
            None => {
                let now = Utc::now().timestamp();
                DateTime::from_timestamp(now - now.rem_euclid(60), 0)
                    .context("the system clock is out of range")
            }
        }
    };
    let scenario = Scenario::embedded().context("the embedded demo scenario")?;
    match command {
        DemoCommand::Openmetrics(args) => {
            let anchor = anchor(&args.anchor)?;
            let history = match args.hours {
                Some(h) => (i64::from(h) * 3600).min(scenario.history_secs()),
                None => scenario.history_secs(),
            };
            let a = anchor.timestamp();
            let step = scenario.step_secs();
            // Up to one step before the anchor: from the anchor on, the live target answers.
            let text =
                pagerpilot::demo::export::openmetrics(&scenario, anchor, a - history, a - step);
            print_out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        DemoCommand::ServeMetrics(args) => {
            let anchor = anchor(&args.anchor)?;
            pagerpilot::runtime::demo_serve::serve(scenario, anchor, &args.listen).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The clock and the demo's anchor: fixed with `--at`, the system clock otherwise.
fn clock(common: &Common) -> anyhow::Result<(Arc<dyn Clock>, DateTime<Utc>)> {
    match &common.at {
        Some(text) => {
            let at = DateTime::parse_from_rfc3339(text)
                .with_context(|| format!("--at {text:?} is not an RFC 3339 time"))?
                .with_timezone(&Utc);
            Ok((Arc::new(FixedClock(at)), at))
        }
        None => Ok((Arc::new(SystemClock), Utc::now())),
    }
}

/// The configured live sources; the demo when none is configured, with `--demo`, or with a
/// scenario file.
fn sources(
    common: &Common,
    settings: &config::Settings,
    scenario: Option<&Path>,
    anchor: DateTime<Utc>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Sources> {
    if settings.is_live() && !common.demo && scenario.is_none() {
        return setup::live(settings, clock).context("cannot set up the configured sources");
    }
    demo_sources(scenario, anchor, clock)
}

/// How often each source is polled: the config's `poll_interval` (alerts at least every 5 s).
fn schedule(settings: &config::Settings) -> Schedule {
    let every = settings
        .poll_interval
        .max(std::time::Duration::from_secs(1));
    Schedule {
        metrics: every,
        alerts: every.min(std::time::Duration::from_secs(5)),
        logs: every,
        ..Schedule::default()
    }
}

/// The embedded demo (or a scenario file), replayed from `anchor`.
fn demo_sources(
    file: Option<&Path>,
    anchor: DateTime<Utc>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Sources> {
    let scenario = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read scenario {}", path.display()))?;
            Scenario::from_toml(&text, &path.display().to_string())?
        }
        None => Scenario::embedded()?,
    };
    Ok(setup::demo(scenario, anchor, clock))
}

/// Adds the user's Markdown runbooks (`$XDG_CONFIG_HOME/pagerpilot/runbooks/*.md`, then the
/// config's `runbook_dirs` in order); one with the id of an earlier runbook replaces it.
/// Returns the problems found (a broken file is skipped, the others still load).
fn add_local_runbooks(sources: &mut Sources, paths: &Paths, extra: &[PathBuf]) -> Vec<String> {
    let mut problems = Vec::new();
    let dirs = std::iter::once(paths.runbooks_dir()).chain(extra.iter().cloned());
    for (i, dir) in dirs.enumerate() {
        if i > 0 && !dir.is_dir() {
            problems.push(format!(
                "runbook_dirs: {} is not a directory",
                dir.display()
            ));
            continue;
        }
        let (local, errors) = runbook::load_dir(&dir);
        for rb in local {
            sources.runbooks.retain(|r| r.id != rb.id);
            sources.runbooks.push(rb);
        }
        problems.extend(errors.iter().map(|e| format!("runbook skipped: {e}")));
    }
    problems
}

/// Built-in rules, the configured sources' secrets, and the config's `redact` patterns.
fn redactor(settings: &config::Settings) -> Redactor {
    let sources = [
        settings.prometheus.as_ref(),
        settings.alertmanager.as_ref(),
        settings.loki.as_ref().map(|l| &l.source),
    ];
    let secrets = sources
        .into_iter()
        .flatten()
        .flat_map(|s| s.http.secret_values());
    Redactor::new(secrets, settings.redact.clone())
}

/// Clients for runbook checks: Prometheus for `promql`, Loki for `logql`, when configured.
fn checker(settings: &config::Settings, notices: &mut Vec<String>) -> Checker {
    let mut checker = Checker {
        missing_reason: (!settings.is_live())
            .then(|| "the demo has no Prometheus or Loki; configure one to evaluate checks".into()),
        ..Checker::default()
    };
    if let Some(p) = &settings.prometheus {
        match PrometheusClient::new(p.http.clone()) {
            Ok(c) => checker.prometheus = Some(Arc::new(c)),
            Err(e) => notices.push(format!("prometheus: {e}")),
        }
    }
    if let Some(l) = &settings.loki {
        match LokiClient::new(l.source.http.clone()) {
            Ok(c) => checker.loki = Some(Arc::new(c)),
            Err(e) => notices.push(format!("loki: {e}")),
        }
    }
    checker
}

fn warn_all(problems: &[String]) {
    for p in problems {
        eprintln!("warning: {p}");
    }
}

fn theme(name: &str, paths: &Paths) -> anyhow::Result<Theme> {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return Ok(Theme::monochrome());
    }
    Ok(Theme::load(name, Some(&paths.config_dir.join("themes")))?)
}

fn keymap(paths: &Paths) -> anyhow::Result<Keymap> {
    let mut keymap = Keymap::embedded();
    let path = paths.user_keymap();
    if let Some(text) = config::read_optional(&path)? {
        let user = Keymap::parse(&text, &path.display().to_string()).map_err(anyhow::Error::msg)?;
        keymap.overlay(user);
    }
    Ok(keymap)
}

/// The stored grouping corrections (the TUI's `m` and `X`); an absent database has none.
fn read_rules(db: &Path) -> anyhow::Result<Vec<pagerpilot::analysis::corrections::GroupingRule>> {
    if !db.exists() {
        return Ok(Vec::new());
    }
    let store = Store::open(db)?;
    let rules = store.handle().grouping_rules()?;
    store.close()?;
    Ok(rules)
}

/// The remediation rows of an incident; an absent database simply has none.
fn read_log(
    db: &Path,
    incident: Option<&str>,
) -> anyhow::Result<Vec<pagerpilot::domain::remediation::StoredEntry>> {
    if !db.exists() {
        return Ok(Vec::new());
    }
    let store = Store::open(db)?;
    let rows = store.handle().list(incident)?;
    store.close()?;
    Ok(rows)
}

fn log_table(rows: &[pagerpilot::domain::remediation::StoredEntry]) -> String {
    let mut out = format!(
        "{:>5} {:<20} {:<16} {:<12} {:<8} {:<9} {:<7} {:<14} COMMAND\n",
        "SEQ", "TIME (UTC)", "OPERATOR", "INCIDENT", "KIND", "DECISION", "MODE", "OUTCOME"
    );
    for r in rows {
        let e = &r.entry;
        let outcome = match (e.exit_code, e.duration_ms) {
            (Some(code), Some(ms)) => format!("exit {code} {:.1}s", ms as f64 / 1000.0),
            (Some(code), None) => format!("exit {code}"),
            (None, Some(ms)) => format!("killed {:.1}s", ms as f64 / 1000.0),
            (None, None) => "-".to_string(),
        };
        out.push_str(&format!(
            "{:>5} {:<20} {:<16} {:<12} {:<8} {:<9} {:<7} {:<14} {}\n",
            r.seq,
            e.ts.format("%Y-%m-%d %H:%M:%S"),
            e.who(),
            e.incident_id,
            e.kind.as_str(),
            e.decision.as_str(),
            if e.mode == pagerpilot::domain::remediation::Mode::Real {
                "real"
            } else {
                "dry_run"
            },
            outcome,
            e.command.replace('\n', " ⏎ ")
        ));
    }
    if rows.is_empty() {
        out.push_str("no remediation decisions recorded\n");
    }
    out
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print_out(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// Logs go to a file, never to the terminal. Without a writable location, nothing is logged.
fn init_tracing(
    common: &Common,
    paths: &Paths,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let file: PathBuf = common
        .log_file
        .clone()
        .unwrap_or_else(|| paths.default_log_file());
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty())?;
    std::fs::create_dir_all(dir).ok()?;
    let handle = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(handle);
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAGERPILOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}
