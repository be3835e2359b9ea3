//! Application state and the pure `update` function: messages in, state changed, effects out.
//! Nothing here awaits, reads the clock or touches the network, the terminal or SQLite.

pub mod grouping;
mod intake;
pub mod keymap;
pub mod msg;
pub mod remediate;
mod run;
mod sensitivity;
pub mod silence;
pub mod stepper;
pub mod update;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::analysis::{Analysis, Transition};
use crate::domain::remediation::StoredEntry;
use crate::domain::runbook::Runbook;
use crate::domain::{Alert, Edge, Incident, LogStream, Series};
use crate::sources::SourceKind;

pub use keymap::{Action, Keymap, Layer};
pub use msg::{Effect, Msg, PollData, RunReport, RunRequest, SilenceAction};
pub use stepper::{RollbackStatus, StepCheck, StepState, StepStatus, Stepper};
pub use update::update;

/// The top-level views that Tab cycles through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Incidents,
    Patterns,
    Log,
}

impl View {
    pub const ALL: [View; 3] = [View::Incidents, View::Patterns, View::Log];

    pub fn title(self) -> &'static str {
        match self {
            View::Incidents => "Incidents",
            View::Patterns => "Log patterns",
            View::Log => "Remediation log",
        }
    }
}

/// What fills the main area: a top-level view, or a drill-down from the incident list.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    List(View),
    Detail {
        incident_id: String,
    },
    Stepper,
    /// The logs pane of one log pattern (by id): its raw lines.
    Logs {
        pattern_id: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    Help,
    /// Typing a filter; the text so far.
    Filter(String),
    /// A yes/no question, or (with `expected`) a name the operator must type.
    Confirm(Confirm),
    /// A line of text for a log entry (skip reason, note).
    Input {
        purpose: InputPurpose,
        text: String,
    },
}

/// What a confirmation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingAction {
    /// Run step `index` for real.
    Run { index: usize },
    /// Run step `index`'s rollback block for real.
    Rollback { index: usize },
    /// Switch write mode on (or off).
    SetWrite { on: bool },
    /// Create or expire the silence in `App::pending_silence`.
    Silence,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirm {
    pub action: PendingAction,
    pub prompt: String,
    /// When set, the operator must type exactly this (a destructive step's target).
    pub expected: Option<String>,
    pub typed: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputPurpose {
    SkipReason {
        index: usize,
    },
    Note {
        index: usize,
    },
    /// Duration and comment of a silence for `App::silence_incident`.
    SilenceComment,
    /// The name of the alert `X` splits out of the open incident.
    SplitAlert,
}

impl InputPurpose {
    pub fn prompt(self) -> &'static str {
        match self {
            InputPurpose::SkipReason { .. } => "Why skip this step? (logged)",
            InputPurpose::Note { .. } => "Note for the log",
            InputPurpose::SplitAlert => {
                "Split which alert out of this incident? Its name (stored as a rule for later alerts)"
            }
            InputPurpose::SilenceComment => {
                "Silence for how long, and why? e.g. `2h pool leak, DBA on it` (default 2h)"
            }
        }
    }
}

/// What approving a step does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// `--readonly` or the config: nothing runs, no silences; dry runs are still logged.
    ReadOnly,
    /// The default: approving a step logs what would run.
    DryRun,
    /// `--write`, or unlocked in the TUI (logged): approving a step runs it.
    Write,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// The embedded demo scenario.
    Demo,
    Live,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Health {
    /// Not polled yet.
    Pending,
    /// No such source in the configuration: never polled.
    NotConfigured,
    Ok,
    /// Answered, but slower than the slow threshold.
    Slow,
    Failing {
        since: DateTime<Utc>,
        error: String,
    },
    /// The server refused the credentials (HTTP 401/403): retrying will not help.
    AuthError {
        since: DateTime<Utc>,
        error: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourceStatus {
    pub kind: SourceKind,
    pub health: Health,
    pub last_ok: Option<DateTime<Utc>>,
    pub last_poll_ms: Option<u64>,
    /// Highest generation applied; older replies are dropped.
    pub generation: u64,
    /// Another server answers for this slot (alerts from Prometheus when no Alertmanager).
    pub via: Option<SourceKind>,
}

impl SourceStatus {
    pub fn new(kind: SourceKind) -> Self {
        SourceStatus {
            kind,
            health: Health::Pending,
            last_ok: None,
            last_poll_ms: None,
            generation: 0,
            via: None,
        }
    }

    /// The data shown for this source is older than its last attempt.
    pub fn is_stale(&self) -> bool {
        matches!(
            self.health,
            Health::Failing { .. } | Health::AuthError { .. }
        )
    }

    /// The error of a failing source.
    pub fn error(&self) -> Option<&str> {
        match &self.health {
            Health::Failing { error, .. } | Health::AuthError { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The latest good data from every source.
#[derive(Clone, Debug, Default)]
pub struct Data {
    pub alerts: Vec<Alert>,
    pub series: Vec<Series>,
    pub logs: Vec<LogStream>,
    /// Alert state changes seen across polls (bounded).
    pub transitions: Vec<Transition>,
    /// State changes not yet handed to the alert history store; the runtime drains it.
    pub history_outbox: Vec<crate::domain::AlertEvent>,
    /// Series id -> name of the watch that returned it (live metrics).
    pub series_watch: BTreeMap<String, String>,
}

/// A one-line message in the status bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
    pub at: DateTime<Utc>,
}

/// Everything the screen shows. One task owns it; views borrow it.
#[derive(Clone, Debug)]
pub struct App {
    pub now: DateTime<Utc>,
    pub mode: RunMode,
    /// Name of the demo scenario (shown with the DEMO marker).
    pub scenario: Option<String>,
    pub screen: Screen,
    /// The view to return to from a drill-down.
    pub view: View,
    pub overlay: Option<Overlay>,
    pub sources: Vec<SourceStatus>,
    pub data: Data,
    pub topology: Vec<Edge>,
    pub runbooks: Vec<Runbook>,
    pub analysis: Option<Analysis>,
    /// Generation of the newest analysis asked for; results of older ones are dropped.
    pub analysis_generation: u64,
    pub analysis_running: bool,
    /// New data arrived while an analysis was running: run again when it finishes.
    pub analysis_dirty: bool,
    /// The pending re-run was asked for by an alert change: it starts as soon as it can.
    pub analysis_urgent: bool,
    /// When the last analysis started (`app.now`), to space out runs on routine data.
    pub last_analysis_at: Option<DateTime<Utc>>,
    /// Applied filters per view (case-insensitive substring).
    pub filters: BTreeMap<&'static str, String>,
    /// Selected row per list (incidents, patterns, log) and in the detail's runbook list.
    pub selected: BTreeMap<&'static str, usize>,
    /// Index into the open incident's key series for the chart.
    pub chart_series: usize,
    pub stepper: Option<Stepper>,
    /// The remediation log as stored (only rows the store confirmed).
    pub log: Vec<StoredEntry>,
    pub notice: Option<Notice>,
    pub keymap: Keymap,
    pub operator: String,
    /// Grouping corrections in force (`m`, `X`), oldest first; sent with every analysis.
    pub grouping_rules: Vec<crate::analysis::corrections::GroupingRule>,
    /// The incident `m` marked for a merge.
    pub merge_mark: Option<String>,
    /// "Seen before?" per incident id, from the stored alert history (after each analysis).
    pub seen_before: BTreeMap<String, crate::analysis::similarity::SeenBefore>,
    /// Acknowledged alerts by fingerprint; an ack ends when its alert resolves.
    pub acks: BTreeMap<String, crate::analysis::flap::Ack>,
    /// The configured display name, logged next to the OS user.
    pub display_name: Option<String>,
    pub host: String,
    pub db_path: String,
    pub access: Access,
    /// A write-mode change waiting for its log entry (request, the new access).
    pub pending_access: Option<(u64, Access)>,
    /// An Alertmanager is configured: silences can be created.
    pub can_silence: bool,
    /// The incident a silence is being proposed for.
    pub silence_incident: Option<String>,
    /// The silence change waiting for the operator's `y`.
    pub pending_silence: Option<SilenceAction>,
    /// Silence changes sent to Alertmanager, by request.
    pub silences_in_flight: BTreeMap<u64, SilenceAction>,
    /// Real runs from approval to logged outcome, by the run's request.
    pub runs: BTreeMap<u64, remediate::RunContext>,
    /// The operator was told that quitting now kills running commands.
    pub quit_warned: bool,
    /// Logs pane: keep the newest lines in view.
    pub follow: bool,
    /// Anomaly sensitivity of series without their own (the config's `sensitivity`).
    pub sensitivity_default: f64,
    /// The config's per-watch sensitivities, by watch name.
    pub watch_sensitivity: BTreeMap<String, f64>,
    /// Sensitivities applied in this session, by series id.
    pub sensitivity: BTreeMap<String, f64>,
    /// A sensitivity proposed with `+`/`-` in the detail, waiting for Enter or Esc.
    pub sensitivity_proposal: Option<SensitivityProposal>,
    pub next_request: u64,
    pub should_quit: bool,
}

impl App {
    pub fn new(mode: RunMode, keymap: Keymap, now: DateTime<Utc>) -> App {
        App {
            now,
            mode,
            scenario: None,
            screen: Screen::List(View::Incidents),
            view: View::Incidents,
            overlay: None,
            sources: SourceKind::ALL
                .iter()
                .map(|k| SourceStatus::new(*k))
                .collect(),
            data: Data::default(),
            acks: BTreeMap::new(),
            topology: Vec::new(),
            runbooks: Vec::new(),
            analysis: None,
            analysis_generation: 0,
            analysis_running: false,
            analysis_dirty: false,
            analysis_urgent: false,
            last_analysis_at: None,
            filters: BTreeMap::new(),
            selected: BTreeMap::new(),
            chart_series: 0,
            stepper: None,
            log: Vec::new(),
            notice: None,
            keymap,
            follow: true,
            sensitivity_default: crate::analysis::anomaly::DEFAULT_SENSITIVITY,
            watch_sensitivity: BTreeMap::new(),
            sensitivity: BTreeMap::new(),
            sensitivity_proposal: None,
            operator: String::from("operator"),
            grouping_rules: Vec::new(),
            merge_mark: None,
            seen_before: BTreeMap::new(),
            display_name: None,
            host: String::from("localhost"),
            db_path: String::new(),
            access: Access::DryRun,
            pending_access: None,
            can_silence: false,
            silence_incident: None,
            pending_silence: None,
            silences_in_flight: BTreeMap::new(),
            runs: BTreeMap::new(),
            quit_warned: false,
            next_request: 1,
            should_quit: false,
        }
    }

    /// The keymap layer for the current screen.
    pub fn layer(&self) -> Layer {
        match &self.screen {
            Screen::List(View::Incidents) => Layer::Incidents,
            Screen::List(View::Patterns) => Layer::Patterns,
            Screen::List(View::Log) => Layer::Log,
            Screen::Detail { .. } => Layer::Detail,
            Screen::Stepper => Layer::Stepper,
            Screen::Logs { .. } => Layer::Patterns,
        }
    }

    /// Marks a source that has no poller (not configured), or one whose slot another server
    /// answers for (`via`).
    pub fn configure_source(
        &mut self,
        kind: SourceKind,
        configured: bool,
        via: Option<SourceKind>,
    ) {
        if let Some(s) = self.sources.iter_mut().find(|s| s.kind == kind) {
            if !configured {
                s.health = Health::NotConfigured;
            }
            s.via = via.filter(|v| *v != kind);
        }
    }

    pub fn source(&self, kind: SourceKind) -> Option<&SourceStatus> {
        self.sources.iter().find(|s| s.kind == kind)
    }

    pub fn filter(&self, key: &'static str) -> &str {
        self.filters.get(key).map(String::as_str).unwrap_or("")
    }

    pub fn selected(&self, key: &'static str) -> usize {
        self.selected.get(key).copied().unwrap_or(0)
    }

    /// Incidents after the filter, in rank order.
    pub fn visible_incidents(&self) -> Vec<&Incident> {
        let filter = self.filter(LIST_INCIDENTS).to_lowercase();
        self.analysis
            .iter()
            .flat_map(|a| a.incidents.iter())
            .filter(|i| filter.is_empty() || incident_text(i).contains(&filter))
            .collect()
    }

    /// Log patterns after the filter.
    pub fn visible_patterns(&self) -> Vec<&crate::analysis::PatternSummary> {
        let filter = self.filter(LIST_PATTERNS).to_lowercase();
        self.analysis
            .iter()
            .flat_map(|a| a.patterns.iter())
            .filter(|p| {
                filter.is_empty()
                    || p.template.to_lowercase().contains(&filter)
                    || p.service
                        .as_deref()
                        .is_some_and(|s| s.to_lowercase().contains(&filter))
            })
            .collect()
    }

    /// The pattern whose logs pane is open, if it still exists (ids follow generalisation
    /// only through the store's registry; a pattern gone from the analysis closes the pane).
    pub fn open_pattern(&self) -> Option<&crate::analysis::PatternSummary> {
        let Screen::Logs { pattern_id } = &self.screen else {
            return None;
        };
        self.analysis
            .as_ref()?
            .patterns
            .iter()
            .find(|p| &p.id == pattern_id)
    }

    /// Raw lines of the open pattern (its service's streams, lines that fit the template),
    /// oldest first, after the logs pane's filter: (timestamp ns, line with single spaces,
    /// byte ranges of the variable parts).
    pub fn pattern_lines(&self) -> Vec<RawLine> {
        let Some(p) = self.open_pattern() else {
            return Vec::new();
        };
        let filter = self.filter(LIST_LOGLINES).to_lowercase();
        let mut out: Vec<RawLine> = self
            .data
            .logs
            .iter()
            .filter(|s| s.service() == p.service.as_deref())
            .flat_map(|s| s.entries.iter())
            .filter(|e| filter.is_empty() || e.line.to_lowercase().contains(&filter))
            .filter_map(|e| {
                crate::analysis::patterns::ids::variable_spans(&p.template, &e.line)
                    .map(|(l, spans)| (e.ts_ns, l, spans))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        out
    }

    /// Remediation log rows after the filter, newest last.
    pub fn visible_log(&self) -> Vec<&StoredEntry> {
        let filter = self.filter(LIST_LOG).to_lowercase();
        self.log
            .iter()
            .filter(|r| {
                filter.is_empty()
                    || format!(
                        "{} {} {} {}",
                        r.entry.incident_id,
                        r.entry.runbook_id,
                        r.entry.step_title,
                        r.entry.command
                    )
                    .to_lowercase()
                    .contains(&filter)
            })
            .collect()
    }

    /// The incident whose detail is open, if it still exists.
    pub fn open_incident(&self) -> Option<&Incident> {
        let id = match &self.screen {
            Screen::Detail { incident_id } => incident_id.as_str(),
            Screen::Stepper => self.stepper.as_ref()?.incident_id.as_str(),
            Screen::List(_) | Screen::Logs { .. } => return None,
        };
        self.analysis
            .as_ref()?
            .incidents
            .iter()
            .find(|i| i.id == id)
    }

    /// The incident under the cursor in the list.
    pub fn selected_incident(&self) -> Option<&Incident> {
        self.visible_incidents()
            .get(self.selected(LIST_INCIDENTS))
            .copied()
    }
}

/// A proposed sensitivity for one series.
#[derive(Clone, Debug, PartialEq)]
pub struct SensitivityProposal {
    pub series_id: String,
    pub value: f64,
}

/// What a proposed sensitivity would have done over the loaded history of its series.
#[derive(Clone, Debug, PartialEq)]
pub struct SensitivityPreview {
    pub series_id: String,
    pub proposed: f64,
    pub current: f64,
    /// Fire events at the proposed and at the current sensitivity.
    pub fires_proposed: usize,
    pub fires_current: usize,
    /// Seconds from the first to the last loaded point.
    pub span_secs: i64,
}

impl App {
    /// The sensitivity in effect for a series: applied in this session, else its watch's
    /// from the config, else the global default.
    pub fn sensitivity_for(&self, series_id: &str) -> f64 {
        self.sensitivity
            .get(series_id)
            .or_else(|| {
                let watch = self.data.series_watch.get(series_id)?;
                self.watch_sensitivity.get(watch)
            })
            .copied()
            .unwrap_or(self.sensitivity_default)
    }

    /// The id of the series charted in the open incident's detail.
    pub fn charted_series(&self) -> Option<&str> {
        if !matches!(self.screen, Screen::Detail { .. }) {
            return None;
        }
        let keys = &self.open_incident()?.key_series;
        let i = self.chart_series.checked_rem(keys.len())?;
        keys.get(i).map(String::as_str)
    }

    /// The backtest of the pending proposal, when it is for the charted series and that
    /// series has scores.
    pub fn sensitivity_preview(&self) -> Option<SensitivityPreview> {
        let p = self.sensitivity_proposal.as_ref()?;
        if self.charted_series() != Some(p.series_id.as_str()) {
            return None;
        }
        let scores = &self.analysis.as_ref()?.anomalies.get(&p.series_id)?.scores;
        let span_secs = self
            .data
            .series
            .iter()
            .find(|s| s.id == p.series_id)
            .and_then(|s| Some(s.timestamps.last()? - s.timestamps.first()?))
            .unwrap_or(0);
        let current = self.sensitivity_for(&p.series_id);
        Some(SensitivityPreview {
            series_id: p.series_id.clone(),
            proposed: p.value,
            current,
            fires_proposed: crate::analysis::anomaly::backtest(scores, p.value),
            fires_current: crate::analysis::anomaly::backtest(scores, current),
            span_secs,
        })
    }
}

/// Keys of `App::filters` and `App::selected`.
pub const LIST_INCIDENTS: &str = "incidents";
pub const LIST_PATTERNS: &str = "patterns";
pub const LIST_LOG: &str = "log";
pub const LIST_RUNBOOKS: &str = "runbooks";
/// Raw lines in the logs pane.
pub const LIST_LOGLINES: &str = "loglines";

/// A raw line of a log pattern: timestamp (ns), the line with single spaces, and the byte
/// ranges of its variable parts.
pub type RawLine = (i64, String, Vec<(usize, usize)>);

fn incident_text(i: &Incident) -> String {
    let mut text = format!("{} {} {}", i.id, i.title, i.services.join(" "));
    for m in &i.members {
        text.push(' ');
        text.push_str(&m.alertname);
    }
    text.to_lowercase()
}
