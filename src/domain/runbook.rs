//! Runbooks: Markdown files with front matter; each `##` section is a step.
//! (Parser, matcher and templating are filled in by the runbook work; see the contract below.)

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Read,
    Change,
    Destructive,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub title: String,
    pub prose: String,
    /// The `sh` block, still with `{{ labels.x }}` placeholders.
    pub command: Option<String>,
    pub rollback: Option<String>,
    pub risk: Risk,
    /// 1-based line of the `##` heading in the source file.
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Runbook {
    /// File stem, e.g. `payments-db-pool`.
    pub id: String,
    pub title: String,
    /// Where it came from (`embedded:payments-db-pool.md` or a file path).
    pub source: String,
    /// `alertname` / label name -> regex (anchored when matched).
    pub matchers: Vec<(String, String)>,
    pub risk: Risk,
    pub steps: Vec<Step>,
}

/// Suggests runbooks for an incident's alerts: `runbook_url` annotations first, then local
/// runbooks whose `match` fits, ranked, each with its reason.
pub fn suggest(
    _alerts: &[&super::Alert],
    _runbooks: &[Runbook],
) -> Vec<super::RunbookSuggestion> {
    Vec::new()
}
