//! Messages into `update` and the effects it asks the runtime to perform.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::analysis::{Analysis, Snapshot};
use crate::domain::remediation::{RemediationEntry, StoredEntry};
use crate::domain::{Alert, LogStream, Series};
use crate::sources::{SourceError, SourceKind};

/// What a poller brings back.
#[derive(Clone, Debug)]
pub enum PollData {
    Metrics(Vec<Series>),
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
    /// Write the incident's Markdown timeline and answer with `Msg::Exported`.
    Export {
        incident_id: String,
    },
    Quit,
}
