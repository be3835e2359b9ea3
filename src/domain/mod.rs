//! Plain data types shared by every layer. No I/O here.

pub mod alert;
pub mod incident;
pub mod logs;
pub mod remediation;
pub mod runbook;
pub mod series;

pub use alert::{Alert, AlertEvent, AlertState, HistoryState, Labels, Severity};
pub use incident::{
    CauseCandidate, Edge, Evidence, EvidenceKind, Incident, Member, RunbookSuggestion, SloBurn,
};
pub use logs::{LogEntry, LogStream};
pub use series::Series;
