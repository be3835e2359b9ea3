//! Log streams in Loki's shape: a label set and timestamped lines.

use serde::{Deserialize, Serialize};

use super::Labels;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Unix nanoseconds, as Loki reports them.
    pub ts_ns: i64,
    pub line: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogStream {
    pub labels: Labels,
    pub entries: Vec<LogEntry>,
}

impl LogStream {
    pub fn service(&self) -> Option<&str> {
        const KEYS: [&str; 4] = ["service", "app", "job", "namespace"];
        KEYS.iter()
            .find_map(|k| self.labels.get(*k))
            .map(String::as_str)
    }
}
