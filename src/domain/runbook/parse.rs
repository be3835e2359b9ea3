//! Parses a Markdown runbook: TOML front matter between `+++` lines, then one step per `##`
//! heading. The step format (command, checks, rollback, options) is described in the module
//! documentation of [`super`].

use std::collections::BTreeMap;

use serde::Deserialize;

use super::step::{parse_risk, parse_steps, unknown_risk};
use super::{Risk, Runbook, RunbookError, RunbookErrorKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Option<toml::Spanned<String>>,
    title: String,
    #[serde(default, rename = "match")]
    matchers: BTreeMap<String, toml::Spanned<String>>,
    risk: Option<toml::Spanned<String>>,
}

/// Builds an error for the file being parsed.
pub(super) type MakeError<'a> = &'a dyn Fn(usize, RunbookErrorKind) -> RunbookError;

/// Parses `text`; `source` names it in errors (`embedded:x.md` or a path). Stops at the first
/// problem (the one on the earliest line).
pub fn parse(text: &str, source: &str) -> Result<Runbook, RunbookError> {
    parse_all_errors(text, source).map_err(|mut errors| errors.swap_remove(0))
}

/// Parses `text` like [`parse`], but reports every problem it can find, sorted by line. The
/// parser carries on after a problem in a step; a front matter that cannot be read or a code
/// block that is never closed ends it. On `Err` the vector is never empty.
pub fn parse_all_errors(text: &str, source: &str) -> Result<Runbook, Vec<RunbookError>> {
    let mut errors = Vec::new();
    let parsed = parse_into(text, source, &mut errors);
    match parsed {
        Some(rb) if errors.is_empty() => Ok(rb),
        _ => {
            errors.sort_by_key(|e| e.line);
            if errors.is_empty() {
                // parse_into returns None only after recording a problem; keep the invariant
                // even if that ever changes.
                errors.push(RunbookError {
                    file: source.to_string(),
                    line: 0,
                    kind: RunbookErrorKind::NoSteps,
                });
            }
            Err(errors)
        }
    }
}

fn parse_into(text: &str, source: &str, errors: &mut Vec<RunbookError>) -> Option<Runbook> {
    let err = |line: usize, kind: RunbookErrorKind| RunbookError {
        file: source.to_string(),
        line,
        kind,
    };
    let lines: Vec<&str> = text.lines().collect();
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
        errors.push(err(1, RunbookErrorKind::MissingFrontMatter));
        return None;
    };
    if lines[first].trim_end() != "+++" {
        errors.push(err(first + 1, RunbookErrorKind::MissingFrontMatter));
        return None;
    }
    let Some(close) = lines[first + 1..]
        .iter()
        .position(|l| l.trim_end() == "+++")
        .map(|p| p + first + 1)
    else {
        errors.push(err(first + 1, RunbookErrorKind::UnclosedFrontMatter));
        return None;
    };
    let toml_text = lines[first + 1..close].join("\n");
    // Line of a byte offset inside the front matter, as a 1-based file line.
    let fm_line = |offset: usize| first + 2 + count_newlines(&toml_text, offset);
    let fm: FrontMatter = match toml::from_str(&toml_text) {
        Ok(fm) => fm,
        Err(e) => {
            let line = e.span().map_or(first + 1, |s| fm_line(s.start));
            errors.push(err(
                line,
                RunbookErrorKind::Toml(e.message().trim().to_string()),
            ));
            return None;
        }
    };

    let id = match &fm.id {
        Some(id) => {
            let value = id.get_ref().trim();
            if !valid_id(value) {
                errors.push(err(
                    fm_line(id.span().start),
                    RunbookErrorKind::BadId(id.get_ref().clone()),
                ));
            }
            value.to_string()
        }
        None => default_id(source),
    };
    if fm.title.trim().is_empty() {
        errors.push(err(first + 2, RunbookErrorKind::EmptyTitle));
    }
    let mut matchers = Vec::with_capacity(fm.matchers.len());
    for (label, pattern) in &fm.matchers {
        if let Err(e) = regex::Regex::new(&format!("^(?:{})$", pattern.get_ref())) {
            errors.push(err(
                fm_line(pattern.span().start),
                RunbookErrorKind::BadRegex {
                    label: label.clone(),
                    pattern: pattern.get_ref().clone(),
                    error: e.to_string(),
                },
            ));
        }
        matchers.push((label.clone(), pattern.get_ref().clone()));
    }
    let declared = fm.risk.as_ref().and_then(|r| {
        let risk = parse_risk(r.get_ref());
        if risk.is_none() {
            errors.push(err(fm_line(r.span().start), unknown_risk(r.get_ref())));
        }
        risk
    });

    let steps = parse_steps(&lines, close + 1, &err, errors);
    if steps.is_empty() {
        errors.push(err(close + 1, RunbookErrorKind::NoSteps));
        return None;
    }
    let steepest = steps.iter().map(|s| s.risk).max().unwrap_or(Risk::Read);
    Some(Runbook {
        id,
        title: fm.title.trim().to_string(),
        source: source.to_string(),
        matchers,
        // Never understate: the overall risk is at least that of the riskiest step.
        risk: declared.map_or(steepest, |d| d.max(steepest)),
        steps,
    })
}

pub(super) fn count_newlines(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The file stem of `source` (`embedded:payments-db-pool.md` -> `payments-db-pool`).
fn default_id(source: &str) -> String {
    let name = source.rsplit(['/', '\\', ':']).next().unwrap_or(source);
    name.strip_suffix(".md")
        .or_else(|| name.strip_suffix(".MD"))
        .unwrap_or(name)
        .to_string()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::runbook::{CheckLang, CheckWhen, DEFAULT_STEP_TIMEOUT};
    use std::time::Duration;

    const GOOD: &str = "+++\ntitle = \"T\"\nmatch = { service = \"web\" }\n+++\nIntro.\n\
## 1. First\nSome prose.\n```sh\necho {{ labels.service }}\n```\nrisk: change\n\
rollback: `echo undo`\n\n## Second\n```text\nnot a command\n```\n";

    #[test]
    fn steps_commands_risk_and_rollback() {
        let rb = parse(GOOD, "dir/web.md").expect("valid runbook");
        assert_eq!(rb.id, "web");
        assert_eq!(rb.risk, Risk::Change);
        assert_eq!(rb.matchers, vec![("service".into(), "web".into())]);
        assert_eq!(rb.steps.len(), 2);
        let s = &rb.steps[0];
        assert_eq!((s.title.as_str(), s.line), ("First", 6));
        assert_eq!(s.prose, "Some prose.");
        assert_eq!(s.command.as_deref(), Some("echo {{ labels.service }}"));
        assert_eq!(s.rollback.as_deref(), Some("echo undo"));
        assert_eq!(s.risk, Risk::Change);
        let s = &rb.steps[1];
        assert_eq!(s.command, None);
        assert_eq!(s.risk, Risk::Read);
        assert_eq!(s.prose, "```text\nnot a command\n```");
    }

    const OPTIONS: &str = "+++\ntitle = \"T\"\nrisk = \"read\"\n+++\n\
## 1. Restart\nProse. See https://example.com/x for more.\n```sh\nrestart {{ labels.service }}\n```\n\
```promql pre\nup{job=\"x\"} == 0\n```\n```promql\nup{job=\"x\"} == 1\n```\n\
```logql post\n{app=\"x\"} |= \"ready\"\n```\n```rollback\nundo {{ labels.service }}\n```\n\
risk: change\ntimeout: 2m\nInteractive: TRUE\n\n## 2. Look\n```bash\nls\n```\n";

    #[test]
    fn checks_rollback_block_and_options() {
        let rb = parse(OPTIONS, "x.md").expect("valid runbook");
        let s = &rb.steps[0];
        assert_eq!(s.prose, "Prose. See https://example.com/x for more.");
        assert_eq!(s.command.as_deref(), Some("restart {{ labels.service }}"));
        assert_eq!(s.rollback.as_deref(), Some("undo {{ labels.service }}"));
        assert_eq!(s.risk, Risk::Change);
        assert_eq!(s.timeout, Duration::from_secs(120));
        assert!(s.interactive);
        let checks: Vec<_> = s
            .checks
            .iter()
            .map(|c| (c.lang, c.when, c.query.as_str(), c.line))
            .collect();
        assert_eq!(
            checks,
            [
                (CheckLang::Promql, CheckWhen::Pre, "up{job=\"x\"} == 0", 10),
                (CheckLang::Promql, CheckWhen::Post, "up{job=\"x\"} == 1", 13),
                (
                    CheckLang::Logql,
                    CheckWhen::Post,
                    "{app=\"x\"} |= \"ready\"",
                    16
                ),
            ]
        );
        assert_eq!(s.checks_at(CheckWhen::Pre).count(), 1);
        let s = &rb.steps[1];
        assert_eq!(s.timeout, DEFAULT_STEP_TIMEOUT);
        assert!(!s.interactive && s.checks.is_empty() && s.rollback.is_none());
        assert_eq!(s.command.as_deref(), Some("ls"));
    }

    #[test]
    fn step_serde_keeps_timeout_as_seconds() {
        let rb = parse(OPTIONS, "x.md").expect("valid runbook");
        let json = serde_json::to_value(&rb).expect("serializes");
        assert_eq!(json["steps"][0]["timeout_secs"], 120);
        assert_eq!(json["steps"][0]["checks"][0]["when"], "pre");
        assert_eq!(json["steps"][0]["checks"][2]["lang"], "logql");
        let back: Runbook = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, rb);
    }

    #[test]
    fn step_problems_each_name_their_line() {
        let head = "+++\ntitle = \"T\"\n+++\n## a\n";
        for (body, line, needle) in [
            (
                "```sh\nls\n```\ntimout: 5m\n",
                8,
                "unknown step option \"timout\"",
            ),
            (
                "```sh\nls\n```\n```sh\nls\n```\n",
                8,
                "at most one sh block",
            ),
            (
                "```python\nprint()\n```\n",
                5,
                "unknown code block \"python\"",
            ),
            ("```sh -x\nls\n```\n", 5, "nothing may follow"),
            ("```promql later\nup\n```\n", 5, "only `pre` or `post`"),
            ("```logql\n\n```\n", 5, "empty logql check"),
            ("timeout: 0s\n", 5, "must be positive"),
            ("timeout: 2h\n", 5, "longest allowed is 1h"),
            ("interactive: yes\n", 5, "neither true nor false"),
            ("risk: read\nrisk: change\n", 6, "given twice"),
            (
                "rollback: `a`\n```rollback\nb\n```\n",
                6,
                "at most one rollback",
            ),
            (
                "```rollback\necho \"{{ labels.x }}\"\n```\n",
                6,
                "inside double quotes",
            ),
        ] {
            let text = format!("{head}{body}");
            let e = parse(&text, "b.md").expect_err(&text);
            assert_eq!(e.line, line, "{e}\n{text}");
            assert!(e.to_string().contains(needle), "{e} should say {needle:?}");
        }
    }

    #[test]
    fn prose_lines_that_look_like_options_stay_prose_before_the_command() {
        let text = "+++\ntitle = \"T\"\n+++\n## a\nNote: look first.\n```sh\nls\n```\n";
        let rb = parse(text, "b.md").expect("valid");
        assert_eq!(rb.steps[0].prose, "Note: look first.");
    }

    #[test]
    fn all_errors_are_collected_in_line_order() {
        let text = "+++\ntitle = \"T\"\nrisk = \"huge\"\n+++\n## a\nrisk: nope\n\
## b\n```sh\necho {{ labels.x\n```\n```sh\nls\n```\n```yaml\na: 1\n```\n";
        let errors = parse_all_errors(text, "b.md").expect_err("broken");
        let got: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(got, [3, 6, 9, 11, 14], "{errors:?}");
        assert_eq!(parse(text, "b.md").expect_err("broken").line, 3);
        // An unclosed block ends the scan, but what came before is still reported.
        let text = "+++\ntitle = \"T\"\n+++\n## a\nrisk: nope\n```sh\nls\n";
        let errors = parse_all_errors(text, "b.md").expect_err("broken");
        let got: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(got, [5, 6], "{errors:?}");
    }

    #[test]
    fn default_ids() {
        assert_eq!(default_id("embedded:node-disk-full.md"), "node-disk-full");
        assert_eq!(default_id("/a/b/x.md"), "x");
    }
}
