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
    pub output: Option<String>,
    pub note: Option<String>,
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
