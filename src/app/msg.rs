//! Messages into `update` and the effects it asks the runtime to perform.

use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::silence::SilenceMatcher;
use super::stepper::StepCheck;
use crate::analysis::{Analysis, Snapshot};
use crate::domain::remediation::{CheckRecord, RemediationEntry, StoredEntry};
use crate::domain::{Alert, LogStream, Series};
use crate::sources::{SourceError, SourceKind};

/// What a poller brings back.
#[derive(Clone, Debug)]
pub enum PollData {
    Metrics(Vec<Series>),
    /// Series and, by series id, the name of the watch that returned each.
    WatchedMetrics {
        series: Vec<Series>,
        watch_of: std::collections::BTreeMap<String, String>,
    },
    Alerts(Vec<Alert>),
    Logs(Vec<LogStream>),
}

#[derive(Clone, Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The clock moved (drives ages and the demo's live feel).
    Tick(DateTime<Utc>),
    Resize(u16, u16),
    Polled {
        source: SourceKind,
        generation: u64,
        at: DateTime<Utc>,
        elapsed_ms: u64,
        result: Result<PollData, SourceError>,
    },
    Analyzed {
        generation: u64,
        analysis: Box<Analysis>,
    },
    /// The store answered an append.
    Persisted {
        request: u64,
        result: Result<Box<StoredEntry>, String>,
    },
    /// The store answered a full read of the log.
    LogLoaded(Result<Vec<StoredEntry>, String>),
    /// A timeline export finished (path written, or the error).
    Exported(Result<String, String>),
    /// Alertmanager answered a silence change: the silence id, or the error.
    SilenceDone {
        request: u64,
        result: Result<String, String>,
    },
    /// The store saved a grouping correction (or could not).
    GroupingRuleSaved(Result<crate::analysis::corrections::GroupingRule, String>),
    /// "Seen before?" for the incidents of analysis `generation`, by incident id.
    SeenBefore {
        generation: u64,
        seen: std::collections::BTreeMap<String, crate::analysis::similarity::SeenBefore>,
    },
    /// Acks still holding in the stored alert history, read at start-up.
    AcksLoaded(Result<Vec<crate::analysis::flap::Ack>, String>),
    /// The stored grouping corrections, read at start-up.
    GroupingRulesLoaded(Result<Vec<crate::analysis::corrections::GroupingRule>, String>),
    /// A command asked for with `Effect::Execute` finished (or could not start).
    Executed {
        request: u64,
        result: Result<Box<RunReport>, String>,
    },
}

/// An approved change to Alertmanager's silences.
#[derive(Clone, Debug, PartialEq)]
pub enum SilenceAction {
    Create {
        request: u64,
        matchers: Vec<SilenceMatcher>,
        duration: Duration,
        comment: String,
        created_by: String,
    },
    Expire {
        request: u64,
        id: String,
    },
}

impl SilenceAction {
    pub fn request(&self) -> u64 {
        match self {
            SilenceAction::Create { request, .. } | SilenceAction::Expire { request, .. } => {
                *request
            }
        }
    }
}

/// A command to run for real, approved by the operator.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRequest {
    pub request: u64,
    /// Exactly what the operator saw; run as `sh -c <command>`.
    pub command: String,
    pub timeout: Duration,
    /// Hand the terminal over while it runs.
    pub interactive: bool,
    pub env: Vec<(String, String)>,
    /// Evaluated before (`pre`) and after (`post`) the command, where a source can answer.
    pub checks: Vec<StepCheck>,
}

/// What running a command produced.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub duration_ms: u64,
    /// Bounded, with a truncation marker when cut.
    pub output: String,
    pub output_bytes: u64,
    pub output_digest: String,
    /// e.g. "exit 0 in 1.2 s".
    pub summary: String,
    pub checks: Vec<CheckRecord>,
}

impl RunReport {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }
}

#[derive(Clone, Debug)]
pub enum Effect {
    /// Run the analysis on a blocking thread and answer with `Msg::Analyzed`.
    Analyze {
        generation: u64,
        snapshot: Box<Snapshot>,
    },
    /// Append to the remediation log and answer with `Msg::Persisted`.
    Persist {
        request: u64,
        entry: Box<RemediationEntry>,
    },
    /// Read the whole log and answer with `Msg::LogLoaded`.
    LoadLog,
    /// Create or expire an Alertmanager silence and answer with `Msg::SilenceDone`.
    Silence(Box<SilenceAction>),
    /// Run an approved command and answer with `Msg::Executed`.
    Execute(Box<RunRequest>),
    /// Write the incident's Markdown timeline and answer with `Msg::Exported`.
    Export {
        incident_id: String,
    },
    /// Store a grouping correction and answer with `Msg::GroupingRuleSaved`.
    SaveGroupingRule(crate::analysis::corrections::GroupingRule),
    /// Read the stored grouping corrections and answer with `Msg::GroupingRulesLoaded`.
    LoadGroupingRules,
    /// Read the acks still holding from the alert history and answer with `Msg::AcksLoaded`.
    LoadAcks,
    Quit,
}
