//! Runbooks: Markdown files with TOML front matter; each `##` section is a step.
//!
//! ````text
//! +++
//! id = "payments-db-pool"                  # optional, default: the file stem
//! title = "Payments DB connection pool saturated"
//! match = { alertname = "PaymentsDb.*" }   # label -> regex, anchored
//! risk = "change"                          # read | change | destructive
//! +++
//! Intro prose (not a step).
//!
//! ## 1. Terminate idle sessions
//! Prose: what the step does and what to look at.
//! ```sh
//! psql -h {{ labels.instance }} -c 'select pg_terminate_backend(...)'
//! ```
//! ```promql pre
//! db_connection_pool_in_use_ratio{service="payments-db"} > 0.9
//! ```
//! ```promql post
//! db_connection_pool_in_use_ratio{service="payments-db"} < 0.8
//! ```
//! ```rollback
//! kubectl -n {{ labels.namespace }} rollout undo deployment/payments-api
//! ```
//! risk: destructive
//! timeout: 2m
//! interactive: false
//! ````
//!
//! A step is everything from its `##` heading to the next one. Its parts:
//!
//! * **Prose**: free text. Code blocks with no language or `text`/`txt`/`console`/`output`/`plain`
//!   are shown as prose (examples of output, not run).
//! * **Command**: at most one ```` ```sh ```` block (`bash` and `shell` are accepted spellings).
//!   A step without one is prose only. `{{ labels.NAME }}` placeholders become the alert's label
//!   value as one single-quoted shell word (see [`render_command`]).
//! * **Checks**: any number of ```` ```promql ```` and ```` ```logql ```` blocks. The info string may
//!   add `pre` or `post` (```` ```promql pre ````); bare means `post`. A check *holds* when its
//!   query returns a non-empty result (PromQL comparisons filter, so write the condition into
//!   the query). `pre` = should hold before the step: the condition the step is there to fix.
//!   `post` = should hold after it: "did it help?". Queries are used verbatim; placeholders are
//!   not substituted in them.
//! * **Rollback**: at most one, either an inline ``rollback: `cmd` `` line or a
//!   ```` ```rollback ```` block. It is a shell command templated exactly like the main one.
//! * **Options**, one per line, keys case-insensitive:
//!   `risk: read|change|destructive` (default `read`);
//!   `timeout: 30s|2m|1h` (a positive whole number of seconds, minutes or hours, at most 1h;
//!   default [`DEFAULT_STEP_TIMEOUT`]): how long the command may run before it is stopped;
//!   `interactive: true|false` (default `false`): the command needs the terminal (a shell, a
//!   `psql` prompt) instead of having its output captured.
//!
//! Once a step has had a command, check, rollback or option, a following `word: ...` line that is
//! not a known option is an error (a typo such as `timout: 5m` must not pass silently); other
//! lines stay prose. Any other code block language in a step is an error too.
//!
//! Risk: a step without a `risk:` line is `read`. The front matter `risk` may only raise the
//! runbook's overall risk: the runbook's risk is the higher of the declared one and that of its
//! riskiest step, so it is never understated.
//!
//! Every problem is reported as a [`RunbookError`] naming the file and the 1-based line;
//! [`parse`] stops at the first, [`parse_all_errors`] collects all it can.

mod parse;
mod render;
mod step;
mod suggest;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use parse::{parse, parse_all_errors};
pub use render::{render_command, shell_quote, RenderError};
pub use suggest::{runbooks_from_urls, suggest};

/// How long a step's command may run when the step has no `timeout:` line.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest `timeout:` a step may ask for.
pub const MAX_STEP_TIMEOUT: Duration = Duration::from_secs(3600);

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
    /// The `rollback:` line or `rollback` block, still with placeholders.
    pub rollback: Option<String>,
    pub risk: Risk,
    /// How long the command may run; serialized as whole seconds in `timeout_secs`.
    #[serde(
        rename = "timeout_secs",
        with = "duration_secs",
        default = "default_timeout"
    )]
    pub timeout: Duration,
    /// The command needs the terminal (an interactive shell or prompt).
    #[serde(default)]
    pub interactive: bool,
    /// `promql`/`logql` blocks, in file order.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// 1-based line of the `##` heading in the source file.
    pub line: usize,
}

impl Step {
    /// The step's checks that should hold at `when`.
    pub fn checks_at(&self, when: CheckWhen) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(move |c| c.when == when)
    }
}

fn default_timeout() -> Duration {
    DEFAULT_STEP_TIMEOUT
}

/// `Duration` as whole seconds.
mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

/// A query that tells whether a step is needed (`pre`) or worked (`post`). It holds when the
/// query returns a non-empty result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub lang: CheckLang,
    pub when: CheckWhen,
    /// The query text, verbatim (no placeholders are substituted).
    pub query: String,
    /// 1-based line of the opening fence.
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckLang {
    /// Prometheus: an instant query; holds when the result vector is not empty.
    Promql,
    /// Loki: a log or metric query; holds when it returns at least one stream or sample.
    Logql,
}

impl CheckLang {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckLang::Promql => "promql",
            CheckLang::Logql => "logql",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckWhen {
    /// Should hold before the step runs: the condition the step fixes.
    Pre,
    /// Should hold after the step: it helped.
    Post,
}

impl CheckWhen {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckWhen::Pre => "pre",
            CheckWhen::Post => "post",
        }
    }
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
    #[error("a step has at most one rollback (a `rollback:` line or a rollback block)")]
    SecondRollback,
    #[error("empty command")]
    EmptyCommand,
    #[error("empty {0} check")]
    EmptyCheck(&'static str),
    #[error(
        "unknown code block {0:?} in a step: use sh (the command), promql or logql \
         (checks, optionally `pre` or `post`), rollback, or text (shown as prose)"
    )]
    UnknownFence(String),
    #[error("{lang} check {word:?}: only `pre` or `post` may follow the language")]
    BadCheckWhen { lang: &'static str, word: String },
    #[error("code block {0:?}: nothing may follow the language")]
    FenceExtraWords(String),
    #[error("unknown step option {0:?}: use risk, timeout, interactive or rollback")]
    UnknownOption(String),
    #[error("step option {0:?} is given twice")]
    DuplicateOption(String),
    #[error("bad timeout {value:?}: {reason}; write e.g. 30s, 2m or 1h")]
    BadTimeout { value: String, reason: &'static str },
    #[error("interactive: {0:?} is neither true nor false")]
    BadBool(String),
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
