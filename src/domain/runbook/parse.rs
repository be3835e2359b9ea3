//! Parses a Markdown runbook: TOML front matter between `+++` lines, then one step per `##`
//! heading. A step's first `sh` (or `bash`/`shell`) code block is its command; `risk:` and
//! `rollback:` lines set its risk and rollback command; everything else is prose.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::render::{scan, TemplateError};
use super::{Risk, Runbook, RunbookError, RunbookErrorKind, Step};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Option<toml::Spanned<String>>,
    title: String,
    #[serde(default, rename = "match")]
    matchers: BTreeMap<String, toml::Spanned<String>>,
    risk: Option<toml::Spanned<String>>,
}

type MakeError<'a> = &'a dyn Fn(usize, RunbookErrorKind) -> RunbookError;

/// Parses `text`; `source` names it in errors (`embedded:x.md` or a path).
pub fn parse(text: &str, source: &str) -> Result<Runbook, RunbookError> {
    let err = |line: usize, kind: RunbookErrorKind| RunbookError {
        file: source.to_string(),
        line,
        kind,
    };
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .ok_or_else(|| err(1, RunbookErrorKind::MissingFrontMatter))?;
    if lines[first].trim_end() != "+++" {
        return Err(err(first + 1, RunbookErrorKind::MissingFrontMatter));
    }
    let close = lines[first + 1..]
        .iter()
        .position(|l| l.trim_end() == "+++")
        .map(|p| p + first + 1)
        .ok_or_else(|| err(first + 1, RunbookErrorKind::UnclosedFrontMatter))?;
    let toml_text = lines[first + 1..close].join("\n");
    // Line of a byte offset inside the front matter, as a 1-based file line.
    let fm_line = |offset: usize| first + 2 + count_newlines(&toml_text, offset);
    let fm: FrontMatter = toml::from_str(&toml_text).map_err(|e| {
        let line = e.span().map_or(first + 1, |s| fm_line(s.start));
        err(line, RunbookErrorKind::Toml(e.message().trim().to_string()))
    })?;

    let id = match &fm.id {
        Some(id) => {
            let value = id.get_ref().trim();
            if !valid_id(value) {
                return Err(err(
                    fm_line(id.span().start),
                    RunbookErrorKind::BadId(id.get_ref().clone()),
                ));
            }
            value.to_string()
        }
        None => default_id(source),
    };
    if fm.title.trim().is_empty() {
        return Err(err(first + 2, RunbookErrorKind::EmptyTitle));
    }
    let mut matchers = Vec::with_capacity(fm.matchers.len());
    for (label, pattern) in &fm.matchers {
        if let Err(e) = regex::Regex::new(&format!("^(?:{})$", pattern.get_ref())) {
            return Err(err(
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
    let declared = match &fm.risk {
        Some(r) => Some(
            parse_risk(r.get_ref())
                .ok_or_else(|| err(fm_line(r.span().start), unknown_risk(r.get_ref())))?,
        ),
        None => None,
    };

    let steps = parse_steps(&lines, close + 1, &err)?;
    if steps.is_empty() {
        return Err(err(close + 1, RunbookErrorKind::NoSteps));
    }
    let steepest = steps.iter().map(|s| s.risk).max().unwrap_or(Risk::Read);
    Ok(Runbook {
        id,
        title: fm.title.trim().to_string(),
        source: source.to_string(),
        matchers,
        // Never understate: the overall risk is at least that of the riskiest step.
        risk: declared.map_or(steepest, |d| d.max(steepest)),
        steps,
    })
}

/// A step while it is being read.
struct Draft {
    step: Step,
    prose: Vec<String>,
}

/// Reads the body from line index `start` (0-based) to the end.
fn parse_steps(lines: &[&str], start: usize, err: MakeError) -> Result<Vec<Step>, RunbookError> {
    let mut steps = Vec::new();
    let mut current: Option<Draft> = None;
    let mut i = start;
    while i < lines.len() {
        let line = lines[i];
        let lineno = i + 1;
        let trimmed = line.trim();
        if let Some(fence) = fence_of(trimmed) {
            let info = trimmed[fence.len()..].trim().to_ascii_lowercase();
            let close = lines[i + 1..]
                .iter()
                .position(|l| {
                    let l = l.trim();
                    l.starts_with(fence) && l[fence.len()..].trim().is_empty()
                })
                .map(|p| p + i + 1)
                .ok_or_else(|| err(lineno, RunbookErrorKind::UnclosedCodeBlock))?;
            let is_command = matches!(info.as_str(), "sh" | "bash" | "shell");
            match current.as_mut() {
                Some(d) if is_command => {
                    if d.step.command.is_some() {
                        return Err(err(lineno, RunbookErrorKind::SecondCommand));
                    }
                    let body = lines[i + 1..close].join("\n");
                    if body.trim().is_empty() {
                        return Err(err(lineno, RunbookErrorKind::EmptyCommand));
                    }
                    check_template(&body, lineno + 1, err)?;
                    d.step.command = Some(body);
                }
                Some(d) => d
                    .prose
                    .extend(lines[i..=close].iter().map(|l| l.to_string())),
                None => {} // intro prose
            }
            i = close + 1;
            continue;
        }
        if let Some(rest) = heading2(trimmed) {
            if let Some(d) = current.take() {
                steps.push(finish(d));
            }
            let title = strip_number(rest);
            if title.is_empty() {
                return Err(err(lineno, RunbookErrorKind::StepWithoutTitle));
            }
            current = Some(Draft {
                step: Step {
                    title: title.to_string(),
                    prose: String::new(),
                    command: None,
                    rollback: None,
                    risk: Risk::Read,
                    line: lineno,
                },
                prose: Vec::new(),
            });
        } else if let Some(d) = current.as_mut() {
            if let Some(value) = key_value(trimmed, "risk") {
                d.step.risk = parse_risk(value).ok_or_else(|| err(lineno, unknown_risk(value)))?;
            } else if let Some(value) = key_value(trimmed, "rollback") {
                let cmd = value.trim_matches('`').trim();
                if cmd.is_empty() {
                    return Err(err(lineno, RunbookErrorKind::EmptyCommand));
                }
                check_template(cmd, lineno, err)?;
                d.step.rollback = Some(cmd.to_string());
            } else {
                d.prose.push(line.to_string());
            }
        }
        i += 1;
    }
    if let Some(d) = current.take() {
        steps.push(finish(d));
    }
    Ok(steps)
}

fn finish(mut d: Draft) -> Step {
    let text = d.prose.join("\n");
    d.step.prose = text.trim_matches('\n').trim_end().to_string();
    d.step
}

/// Checks placeholder syntax in a command that starts on file line `first_line`.
fn check_template(cmd: &str, first_line: usize, err: MakeError) -> Result<(), RunbookError> {
    scan(cmd)
        .map(|_| ())
        .map_err(|TemplateError { offset, error }| {
            err(
                first_line + count_newlines(cmd, offset),
                RunbookErrorKind::Placeholder(error),
            )
        })
}

fn count_newlines(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

fn fence_of(trimmed: &str) -> Option<&'static str> {
    if trimmed.starts_with("```") {
        Some("```")
    } else if trimmed.starts_with("~~~") {
        Some("~~~")
    } else {
        None
    }
}

/// The text of a `##` heading (exactly level 2).
fn heading2(trimmed: &str) -> Option<&str> {
    let rest = trimmed.strip_prefix("##")?;
    if rest.starts_with('#') {
        return None;
    }
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        Some(rest.trim())
    } else {
        None
    }
}

/// `1. Check x` or `2) Check x` -> `Check x`.
fn strip_number(title: &str) -> &str {
    let digits = title.len() - title.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 {
        let rest = &title[digits..];
        if let Some(r) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(')')) {
            if r.is_empty() || r.starts_with(char::is_whitespace) {
                return r.trim();
            }
        }
    }
    title.trim()
}

/// `risk: read` -> `read` (key matched case-insensitively at the start of the line).
fn key_value<'a>(trimmed: &'a str, key: &str) -> Option<&'a str> {
    let head = trimmed.get(..key.len())?;
    if !head.eq_ignore_ascii_case(key) {
        return None;
    }
    trimmed[key.len()..].strip_prefix(':').map(str::trim)
}

fn parse_risk(value: &str) -> Option<Risk> {
    match value.trim().to_ascii_lowercase().as_str() {
        "read" => Some(Risk::Read),
        "change" => Some(Risk::Change),
        "destructive" => Some(Risk::Destructive),
        _ => None,
    }
}

fn unknown_risk(value: &str) -> RunbookErrorKind {
    RunbookErrorKind::UnknownRisk(value.to_string())
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

    #[test]
    fn numbering_and_ids() {
        assert_eq!(strip_number("1. Check"), "Check");
        assert_eq!(strip_number("12) Check"), "Check");
        assert_eq!(strip_number("1.5 GB free"), "1.5 GB free");
        assert_eq!(strip_number("2."), "");
        assert_eq!(default_id("embedded:node-disk-full.md"), "node-disk-full");
        assert_eq!(default_id("/a/b/x.md"), "x");
    }
}
