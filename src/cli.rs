//! Every flag and subcommand, in one place.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "pagerpilot",
    version,
    about = "A terminal on-call copilot: ranked incidents, likely causes, anomalies, log patterns and runbooks",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub tui: TuiArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Use the embedded demo scenario (the default while no sources are configured).
    #[arg(long, global = true)]
    pub demo: bool,
    /// SQLite remediation log [default: $XDG_DATA_HOME/pagerpilot/pagerpilot.db].
    #[arg(long, global = true, value_name = "PATH", env = "PAGERPILOT_DB")]
    pub db: Option<PathBuf>,
    /// Where pagerpilot writes its own log [default: $XDG_STATE_HOME/pagerpilot/pagerpilot.log].
    #[arg(long, global = true, value_name = "PATH", env = "PAGERPILOT_LOG_FILE")]
    pub log_file: Option<PathBuf>,
    /// Fix the clock at this instant (RFC 3339); useful for reproducible demo output.
    #[arg(long, global = true, value_name = "RFC3339", hide = true)]
    pub at: Option<String>,
    /// Config file; it must exist [default: $XDG_CONFIG_HOME/pagerpilot/config.toml, if present].
    #[arg(long, global = true, value_name = "FILE", env = "PAGERPILOT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Context of the config file to use [default: its current_context, or its only context].
    #[arg(long, global = true, value_name = "NAME", env = "PAGERPILOT_CONTEXT")]
    pub context: Option<String>,
    /// Prometheus base URL; overrides the context's, or is enough on its own without a file.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "PAGERPILOT_PROMETHEUS_URL"
    )]
    pub prometheus: Option<String>,
    /// Alertmanager base URL; overrides the context's, or is enough on its own without a file.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "PAGERPILOT_ALERTMANAGER_URL"
    )]
    pub alertmanager: Option<String>,
    /// Loki base URL; overrides the context's, or is enough on its own without a file.
    #[arg(long, global = true, value_name = "URL", env = "PAGERPILOT_LOKI_URL")]
    pub loki: Option<String>,
    /// Read-only: runbook steps are shown, never run, whatever the config file says.
    #[arg(
        long,
        global = true,
        env = "PAGERPILOT_READONLY",
        value_parser = BoolishValueParser::new()
    )]
    pub readonly: bool,
}

impl Common {
    /// What the config flags (and their environment variables) ask of
    /// [`crate::config::resolve()`]. Empty values count as not given.
    pub fn overrides(&self) -> Overrides {
        let text = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Overrides {
            config: self.config.clone().filter(|p| !p.as_os_str().is_empty()),
            context: text(&self.context),
            prometheus: text(&self.prometheus),
            alertmanager: text(&self.alertmanager),
            loki: text(&self.loki),
            readonly: self.readonly,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One poll -> analyse -> rank cycle, printed.
    Scan(ScanArgs),
    /// Export an incident's timeline (alerts, anomalies, log patterns, approvals, notes).
    Export(ExportArgs),
    /// Show the remediation log, or verify its hash chain.
    Log(LogArgs),
    /// List the built-in themes.
    Themes,
    /// Mine log templates from a file (one message per line); prints each line's pattern.
    Patterns(PatternsArgs),
    /// Rank services by how far their metrics moved from a normal period (CSV in, ranking out).
    Rca(RcaArgs),
    /// Group alerts (Alertmanager /api/v2/alerts JSON) into ranked incidents with likely causes;
    /// with `--db`, stored merge/split corrections and "seen before?" apply.
    Correlate(CorrelateArgs),
    /// Show stored alert state changes (firing, resolved, silenced, inhibited, acknowledged).
    History(HistoryArgs),
    /// Check every configured source: reachable, credentials accepted, version, one sample
    /// query, timings. Exit code 1 when any source fails.
    Doctor,
    /// Score every row of a `timestamp,value` CSV for anomalies (causal); prints
    /// `timestamp,value,anomaly_score` rows in input order.
    Detect(DetectArgs),
    /// Forecast a `timestamp,value` CSV: `h,timestamp,point,lo,hi` rows (or JSON).
    Forecast(ForecastArgs),
    /// Work with runbook files.
    Runbook {
        #[command(subcommand)]
        command: RunbookCommand,
    },
    /// The demo scenario as data for a real server (used by scripts/demo-stack).
    #[command(hide = true)]
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
}

// --- demo-stack helpers (live mode) ---
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Print the scenario's history as OpenMetrics (seconds timestamps, `# EOF` last), for
    /// `promtool tsdb create-blocks-from openmetrics`.
    Openmetrics(DemoOpenMetricsArgs),
    /// Serve the scenario's current values at http://LISTEN/metrics until stopped.
    ServeMetrics(DemoServeArgs),
}

#[derive(Debug, Args)]
pub struct DemoOpenMetricsArgs {
    /// The scenario's minute 0 (RFC 3339) [default: now, on the minute].
    #[arg(long, value_name = "RFC3339")]
    pub anchor: Option<String>,
    /// Hours of history before the anchor [default: all the scenario has].
    #[arg(long, value_name = "HOURS")]
    pub hours: Option<u32>,
}

#[derive(Debug, Args)]
pub struct DemoServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9101")]
    pub listen: String,
    /// The scenario's minute 0 (RFC 3339); use the one the history was made with.
    #[arg(long, value_name = "RFC3339")]
    pub anchor: Option<String>,
}
// --- end demo-stack helpers ---

#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// Validate runbooks: prints `file:line: problem` for each problem and a summary; exit code
    /// 0 when all are valid (warnings allowed), 1 when any has a problem, 2 when a path cannot
    /// be read.
    Check(RunbookCheckArgs),
}

#[derive(Debug, Args)]
pub struct RunbookCheckArgs {
    /// Directories (every `*.md` directly in them) or runbook files.
    #[arg(required = true, num_args = 1.., value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Colour theme: dark, light, high-contrast, or a file name in $XDG_CONFIG_HOME/pagerpilot/themes.
    #[arg(
        long,
        value_name = "NAME",
        env = "PAGERPILOT_THEME",
        default_value = "dark"
    )]
    pub theme: String,
    /// Display name logged next to the OS user in the remediation log [default: the config's
    /// `operator`, else none].
    #[arg(long, value_name = "NAME", env = "PAGERPILOT_OPERATOR")]
    pub operator: Option<String>,
    /// Start in write mode: approving a runbook step runs its command (logged). Without it,
    /// approvals are dry runs until write mode is unlocked with `W`.
    #[arg(long, env = "PAGERPILOT_WRITE")]
    pub write: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Json,
    Table,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: ScanFormat,
    /// Use a demo scenario file instead of the embedded one.
    #[arg(long, value_name = "FILE", hide = true)]
    pub scenario: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Md,
    Json,
    /// A self-contained HTML page.
    Html,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Incident id as shown by `scan` or the TUI, e.g. INC-3f9a1c.
    #[arg(long, value_name = "ID")]
    pub incident: String,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ExportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only rows of this incident.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: LogFormat,
    /// Recompute the hash chain; exit non-zero at the first bad row.
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PatternsFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct PatternsArgs {
    /// Log file, one message per line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// `csv`: `line,pattern_id,template` rows; `json`: lines and patterns with counts.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: PatternsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RcaFormat {
    Json,
    Table,
}

#[derive(Debug, Args)]
pub struct RcaArgs {
    /// CSV of the normal period: `time,<service>_<metric>,...`.
    #[arg(long, value_name = "FILE")]
    pub normal: PathBuf,
    /// CSV of the anomalous period, same columns.
    #[arg(long, value_name = "FILE")]
    pub anomalous: PathBuf,
    /// Regex whose first capture group names a column's service [default: the name up to its
    /// last `_`, after dropping a numeric suffix; `-db` folds into its service].
    #[arg(long, value_name = "REGEX")]
    pub service_of: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RcaFormat,
}

// --- incidents: correlate and history ---

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CorrelateFormat {
    Json,
    Table,
}

#[derive(Debug, Args)]
pub struct CorrelateArgs {
    /// JSON array of alerts in Alertmanager's `/api/v2/alerts` shape (`-` for standard input).
    #[arg(long, value_name = "ALERTS.json")]
    pub input: PathBuf,
    /// TOML with `[[topology]]` tables of `from` and `to` (`from` depends on `to`).
    #[arg(long, value_name = "FILE.toml")]
    pub topology: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: CorrelateFormat,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How far back: `90m`, `12h`, `7d`, `2w`.
    #[arg(long, value_name = "AGE", default_value = "7d")]
    pub since: String,
    /// Only changes of alerts with this fingerprint or alertname.
    #[arg(long, value_name = "NAME")]
    pub alert: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: CorrelateFormat,
}

// --- detect / forecast (offline analysis) ---

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// CSV with a header and `timestamp,value` rows (YYYY-MM-DD HH:MM:SS, RFC 3339 or unix seconds).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Write the scores here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// 0..1; higher raises every score (0.5 leaves them as the detector computed them).
    #[arg(long, value_name = "X", default_value_t = 0.5)]
    pub sensitivity: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ForecastFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// CSV with a header and `timestamp,value` rows.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Steps to forecast (at the series' median step).
    #[arg(long, value_name = "N")]
    pub horizon: usize,
    /// Interval level in percent (50..99.9).
    #[arg(long, value_name = "PCT", default_value_t = 95.0)]
    pub level: f64,
    /// Seasonal periods in steps: `auto` (detected; day and week snap to the step), or `N[,N]`.
    #[arg(long, value_name = "auto|N[,N]", default_value = "auto")]
    pub season: String,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ForecastFormat,
}
