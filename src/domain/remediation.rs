//! Rows of the remediation log: every decision an operator made on a runbook step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    DryRun,
    Real,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::DryRun => "dry_run",
            Mode::Real => "real",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Skipped,
    Rejected,
    Note,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Skipped => "skipped",
            Decision::Rejected => "rejected",
            Decision::Note => "note",
        }
    }
}

/// What a row records. Runbook steps are most rows; the others keep every consequential action in
/// the same chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A runbook step: approved (dry run or real), skipped, rejected, or a note on it.
    #[default]
    Step,
    /// A step's rollback block.
    Rollback,
    /// The operator unlocked (or locked) write mode.
    Mode,
    /// An Alertmanager silence created or expired.
    Silence,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Step => "step",
            EntryKind::Rollback => "rollback",
            EntryKind::Mode => "mode",
            EntryKind::Silence => "silence",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        Some(match text {
            "step" => EntryKind::Step,
            "rollback" => EntryKind::Rollback,
            "mode" => EntryKind::Mode,
            "silence" => EntryKind::Silence,
            _ => return None,
        })
    }
}

/// A pre- or post-check, or the anomaly score, evaluated around a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRecord {
    /// `pre`, `post`, or `score`.
    pub when: String,
    /// The PromQL / LogQL expression, or the series whose anomaly score was read.
    pub query: String,
    /// What came back: `holds (3 series)`, `does not hold`, `0.93 -> 0.12`, or the error.
    pub result: String,
}

/// What the app asks the store to append. The store adds sequence number and hashes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemediationEntry {
    pub ts: DateTime<Utc>,
    pub operator: String,
    pub host: String,
    pub incident_id: String,
    pub runbook_id: String,
    pub step_index: usize,
    pub step_title: String,
    /// The command exactly as rendered (what would run, or ran).
    pub command: String,
    pub mode: Mode,
    pub decision: Decision,
    pub exit_code: Option<i32>,
    /// Captured output, bounded (with a truncation marker) and redacted before storage.
    pub output: Option<String>,
    pub note: Option<String>,
    #[serde(default)]
    pub kind: EntryKind,
    /// The operator's configured display name (`operator` is the OS user).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Wall time of a real run.
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// Lowercase hex SHA-256 of the whole output, before truncation and redaction.
    #[serde(default)]
    pub output_digest: Option<String>,
    /// Bytes of output the command produced (the stored text may be shorter).
    #[serde(default)]
    pub output_bytes: Option<u64>,
    #[serde(default)]
    pub checks: Vec<CheckRecord>,
}

impl RemediationEntry {
    /// A step decision with no run details yet; callers fill in the rest.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ts: DateTime<Utc>,
        operator: impl Into<String>,
        host: impl Into<String>,
        incident_id: impl Into<String>,
        runbook_id: impl Into<String>,
        step_index: usize,
        step_title: impl Into<String>,
        command: impl Into<String>,
        decision: Decision,
    ) -> RemediationEntry {
        RemediationEntry {
            ts,
            operator: operator.into(),
            host: host.into(),
            incident_id: incident_id.into(),
            runbook_id: runbook_id.into(),
            step_index,
            step_title: step_title.into(),
            command: command.into(),
            mode: Mode::DryRun,
            decision,
            exit_code: None,
            output: None,
            note: None,
            kind: EntryKind::Step,
            display_name: None,
            duration_ms: None,
            output_digest: None,
            output_bytes: None,
            checks: Vec::new(),
        }
    }

    /// `display_name (operator)` when a display name is set, else the OS user.
    pub fn who(&self) -> String {
        match self
            .display_name
            .as_deref()
            .filter(|d| !d.is_empty() && *d != self.operator)
        {
            Some(name) => format!("{name} ({})", self.operator),
            None => self.operator.clone(),
        }
    }
}

/// A row as stored: the entry plus its place in the hash chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEntry {
    pub seq: i64,
    #[serde(flatten)]
    pub entry: RemediationEntry,
    pub prev_hash: String,
    pub hash: String,
}
