//! `pagerpilot history`: stored alert state changes.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::cli::HistoryArgs;

/// Placeholder until the history store lands.
pub fn run(_db: &Path, _args: &HistoryArgs, _now: DateTime<Utc>) -> anyhow::Result<String> {
    anyhow::bail!("history is not available yet")
}
