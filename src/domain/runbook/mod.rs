//! Runbooks: Markdown files with TOML front matter; each `##` section is a step.
//!
//! ```text
//! +++
//! id = "payments-db-pool"                  # optional, default: the file stem
//! title = "Payments DB connection pool saturated"
//! match = { alertname = "PaymentsDb.*" }   # label -> regex, anchored
//! risk = "change"                          # read | change | destructive (at least the riskiest step)
//! +++
//! ## 1. Check current connections
//! ```sh
//! psql -h {{ labels.instance }} -c 'select 1'
//! ```
//! risk: read
//! rollback: `...`
//! ```

mod parse;
mod render;
mod suggest;

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use parse::parse;
pub use render::{render_command, shell_quote, RenderError};
pub use suggest::suggest;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Read,
    Change,
    Destructive,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Read => "read",
            Risk::Change => "change",
            Risk::Destructive => "destructive",
        }
    }

    /// Destructive steps need the stronger (two-key) confirmation.
    pub fn is_destructive(self) -> bool {
        self == Risk::Destructive
    }
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

impl Runbook {
    /// True if any step is destructive.
    pub fn has_destructive_step(&self) -> bool {
        self.steps.iter().any(|s| s.risk.is_destructive())
    }
}

/// A runbook that could not be loaded: the file, the 1-based line (0 = the whole file) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunbookError {
    pub file: String,
    pub line: usize,
    pub kind: RunbookErrorKind,
}

impl fmt::Display for RunbookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.kind)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.kind)
        }
    }
}

impl std::error::Error for RunbookError {}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunbookErrorKind {
    #[error("missing front matter: a runbook starts with a `+++` line, TOML, then `+++`")]
    MissingFrontMatter,
    #[error("front matter opened with `+++` is never closed")]
    UnclosedFrontMatter,
    #[error("front matter: {0}")]
    Toml(String),
    #[error("bad id {0:?}: use letters, digits, '-', '_' or '.'")]
    BadId(String),
    #[error("title is empty")]
    EmptyTitle,
    #[error("bad regex for label {label:?}: {pattern:?}: {error}")]
    BadRegex {
        label: String,
        pattern: String,
        error: String,
    },
    #[error("step heading `##` has no title")]
    StepWithoutTitle,
    #[error("unknown risk {0:?}: use read, change or destructive")]
    UnknownRisk(String),
    #[error("{0}")]
    Placeholder(RenderError),
    #[error("code block is never closed")]
    UnclosedCodeBlock,
    #[error("a step has at most one sh block; split it into two steps")]
    SecondCommand,
    #[error("empty command")]
    EmptyCommand,
    #[error("no steps: each step starts with a `## ` heading")]
    NoSteps,
    #[error("duplicate runbook id {id:?} (also in {other})")]
    DuplicateId { id: String, other: String },
    #[error("cannot read: {0}")]
    Io(String),
}

/// The sample runbooks shipped in `assets/runbooks/`.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "payments-db-pool.md",
        include_str!("../../../assets/runbooks/payments-db-pool.md"),
    ),
    (
        "checkout-api-latency.md",
        include_str!("../../../assets/runbooks/checkout-api-latency.md"),
    ),
    (
        "node-disk-full.md",
        include_str!("../../../assets/runbooks/node-disk-full.md"),
    ),
    (
        "web-5xx.md",
        include_str!("../../../assets/runbooks/web-5xx.md"),
    ),
];

/// The embedded runbooks. One that does not parse is a bug (a unit test covers it); at run time
/// it is logged and skipped.
pub fn embedded() -> Vec<Runbook> {
    EMBEDDED
        .iter()
        .filter_map(
            |(name, text)| match parse(text, &format!("embedded:{name}")) {
                Ok(rb) => Some(rb),
                Err(e) => {
                    tracing::error!(error = %e, "embedded runbook does not parse");
                    None
                }
            },
        )
        .collect()
}

/// Loads every `*.md` in `dir` (sorted by name). A broken file is reported and the others still
/// load; a missing directory is empty.
pub fn load_dir(dir: &Path) -> (Vec<Runbook>, Vec<RunbookError>) {
    let io_error = |file: &Path, e: std::io::Error| RunbookError {
        file: file.display().to_string(),
        line: 0,
        kind: RunbookErrorKind::Io(e.to_string()),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
        Err(e) => return (Vec::new(), vec![io_error(dir, e)]),
    };
    let mut paths = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                let is_md = path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("md"));
                if is_md && path.is_file() {
                    paths.push(path);
                }
            }
            Err(e) => errors.push(io_error(dir, e)),
        }
    }
    paths.sort();
    let mut runbooks: Vec<Runbook> = Vec::new();
    for path in paths {
        let source = path.display().to_string();
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| io_error(&path, e))
            .and_then(|text| parse(&text, &source));
        match parsed {
            Ok(rb) => match runbooks.iter().find(|r| r.id == rb.id) {
                Some(other) => errors.push(RunbookError {
                    file: source,
                    line: 0,
                    kind: RunbookErrorKind::DuplicateId {
                        id: rb.id,
                        other: other.source.clone(),
                    },
                }),
                None => runbooks.push(rb),
            },
            Err(e) => errors.push(e),
        }
    }
    (runbooks, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_runbook_parses() {
        for (name, text) in EMBEDDED {
            if let Err(e) = parse(text, &format!("embedded:{name}")) {
                panic!("{e}");
            }
        }
        let all = embedded();
        assert_eq!(all.len(), EMBEDDED.len());
        let mut ids: Vec<_> = all.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), EMBEDDED.len(), "ids are unique");
        for rb in &all {
            assert!(!rb.matchers.is_empty(), "{} has matchers", rb.id);
            assert!(rb.steps.iter().any(|s| s.command.is_some()), "{}", rb.id);
        }
    }

    #[test]
    fn embedded_commands_render_with_demo_labels() {
        let labels: crate::domain::Labels = [
            ("alertname", "X"),
            ("severity", "critical"),
            ("service", "svc"),
            ("namespace", "shop"),
            ("instance", "node-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for rb in embedded() {
            for s in &rb.steps {
                for cmd in s.command.iter().chain(s.rollback.iter()) {
                    if let Err(e) = render_command(cmd, &labels) {
                        panic!("{} step {:?}: {e}", rb.id, s.title);
                    }
                }
            }
        }
    }

    #[test]
    fn the_payments_runbook_flags_its_destructive_step() {
        let rb = embedded()
            .into_iter()
            .find(|r| r.id == "payments-db-pool")
            .expect("embedded");
        assert!(rb.has_destructive_step());
        assert_eq!(rb.risk, Risk::Destructive);
    }
}
