//! One runbook step: its code blocks (command, checks, rollback) and option lines. The format is
//! described in the module documentation of [`super`].

use std::time::Duration;

use super::parse::{count_newlines, MakeError};
use super::render::{scan, TemplateError};
use super::{
    Check, CheckLang, CheckWhen, Risk, RunbookError, RunbookErrorKind, Step, DEFAULT_STEP_TIMEOUT,
    MAX_STEP_TIMEOUT,
};

/// A step while it is being read.
struct Draft {
    step: Step,
    prose: Vec<String>,
    /// Options already given (lower case), to refuse a second one.
    seen: Vec<&'static str>,
    /// After the first command, check, rollback or option: unknown `key:` lines are errors.
    in_options: bool,
}

impl Draft {
    fn new(title: &str, line: usize) -> Draft {
        Draft {
            step: Step {
                title: title.to_string(),
                prose: String::new(),
                command: None,
                rollback: None,
                risk: Risk::Read,
                timeout: DEFAULT_STEP_TIMEOUT,
                interactive: false,
                checks: Vec::new(),
                line,
            },
            prose: Vec::new(),
            seen: Vec::new(),
            in_options: false,
        }
    }

    /// Records option `key`; false if it was already given.
    fn first_time(&mut self, key: &'static str) -> bool {
        self.in_options = true;
        if self.seen.contains(&key) {
            false
        } else {
            self.seen.push(key);
            true
        }
    }
}

/// What a fenced block in a step is.
enum Fence {
    Command,
    Rollback,
    Check(CheckLang, CheckWhen),
    Prose,
}

/// Reads a fence's info string (`sh`, `promql pre`, ...).
fn classify_fence(info: &str) -> Result<Fence, RunbookErrorKind> {
    let mut words = info.split_whitespace();
    let lang = words.next().unwrap_or("").to_ascii_lowercase();
    let rest: Vec<&str> = words.collect();
    let no_more = |fence: Fence| {
        if rest.is_empty() {
            Ok(fence)
        } else {
            Err(RunbookErrorKind::FenceExtraWords(info.to_string()))
        }
    };
    match lang.as_str() {
        "sh" | "bash" | "shell" => no_more(Fence::Command),
        "rollback" => no_more(Fence::Rollback),
        "" | "text" | "txt" | "console" | "output" | "plain" => Ok(Fence::Prose),
        "promql" | "logql" => {
            let (lang, name) = if lang == "promql" {
                (CheckLang::Promql, "promql")
            } else {
                (CheckLang::Logql, "logql")
            };
            let when = match rest.as_slice() {
                [] => CheckWhen::Post,
                [w] if w.eq_ignore_ascii_case("post") => CheckWhen::Post,
                [w] if w.eq_ignore_ascii_case("pre") => CheckWhen::Pre,
                _ => {
                    return Err(RunbookErrorKind::BadCheckWhen {
                        lang: name,
                        word: rest.join(" "),
                    })
                }
            };
            Ok(Fence::Check(lang, when))
        }
        _ => Err(RunbookErrorKind::UnknownFence(info.to_string())),
    }
}

/// Reads the body from line index `start` (0-based) to the end, recording problems in `errors`.
pub(super) fn parse_steps(
    lines: &[&str],
    start: usize,
    err: MakeError,
    errors: &mut Vec<RunbookError>,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut current: Option<Draft> = None;
    let mut i = start;
    while i < lines.len() {
        let line = lines[i];
        let lineno = i + 1;
        let trimmed = line.trim();
        if let Some(fence) = fence_of(trimmed) {
            let info = trimmed[fence.len()..].trim();
            let Some(close) = lines[i + 1..]
                .iter()
                .position(|l| {
                    let l = l.trim();
                    l.starts_with(fence) && l[fence.len()..].trim().is_empty()
                })
                .map(|p| p + i + 1)
            else {
                // Nothing after this line can be read reliably.
                errors.push(err(lineno, RunbookErrorKind::UnclosedCodeBlock));
                break;
            };
            if let Some(d) = current.as_mut() {
                let body = lines[i + 1..close].join("\n");
                match classify_fence(info) {
                    Ok(Fence::Prose) => d
                        .prose
                        .extend(lines[i..=close].iter().map(|l| l.to_string())),
                    Ok(Fence::Command) => {
                        d.in_options = true;
                        if d.step.command.is_some() {
                            errors.push(err(lineno, RunbookErrorKind::SecondCommand));
                        } else if body.trim().is_empty() {
                            errors.push(err(lineno, RunbookErrorKind::EmptyCommand));
                        } else {
                            check_template(&body, lineno + 1, err, errors);
                            d.step.command = Some(body);
                        }
                    }
                    Ok(Fence::Rollback) => {
                        if !d.first_time("rollback") {
                            errors.push(err(lineno, RunbookErrorKind::SecondRollback));
                        } else if body.trim().is_empty() {
                            errors.push(err(lineno, RunbookErrorKind::EmptyCommand));
                        } else {
                            check_template(&body, lineno + 1, err, errors);
                            d.step.rollback = Some(body);
                        }
                    }
                    Ok(Fence::Check(lang, when)) => {
                        d.in_options = true;
                        if body.trim().is_empty() {
                            errors.push(err(lineno, RunbookErrorKind::EmptyCheck(lang.as_str())));
                        } else {
                            d.step.checks.push(Check {
                                lang,
                                when,
                                query: body.trim().to_string(),
                                line: lineno,
                            });
                        }
                    }
                    Err(kind) => {
                        d.in_options = true;
                        errors.push(err(lineno, kind));
                    }
                }
            } // else: a block in the intro prose
            i = close + 1;
            continue;
        }
        if let Some(rest) = heading2(trimmed) {
            if let Some(d) = current.take() {
                steps.push(finish(d));
            }
            let title = strip_number(rest);
            if title.is_empty() {
                errors.push(err(lineno, RunbookErrorKind::StepWithoutTitle));
            }
            current = Some(Draft::new(title, lineno));
        } else if let Some(d) = current.as_mut() {
            if let Err(kind) = step_line(d, line, trimmed, lineno, err, errors) {
                errors.push(err(lineno, kind));
            }
        }
        i += 1;
    }
    if let Some(d) = current.take() {
        steps.push(finish(d));
    }
    steps
}

/// One line of a step outside code blocks: an option, or prose.
fn step_line(
    d: &mut Draft,
    line: &str,
    trimmed: &str,
    lineno: usize,
    err: MakeError,
    errors: &mut Vec<RunbookError>,
) -> Result<(), RunbookErrorKind> {
    if let Some(value) = key_value(trimmed, "risk") {
        if !d.first_time("risk") {
            return Err(RunbookErrorKind::DuplicateOption("risk".into()));
        }
        d.step.risk = parse_risk(value).ok_or_else(|| unknown_risk(value))?;
    } else if let Some(value) = key_value(trimmed, "rollback") {
        if !d.first_time("rollback") {
            return Err(RunbookErrorKind::SecondRollback);
        }
        let cmd = value.trim_matches('`').trim();
        if cmd.is_empty() {
            return Err(RunbookErrorKind::EmptyCommand);
        }
        check_template(cmd, lineno, err, errors);
        d.step.rollback = Some(cmd.to_string());
    } else if let Some(value) = key_value(trimmed, "timeout") {
        if !d.first_time("timeout") {
            return Err(RunbookErrorKind::DuplicateOption("timeout".into()));
        }
        d.step.timeout = parse_timeout(value)?;
    } else if let Some(value) = key_value(trimmed, "interactive") {
        if !d.first_time("interactive") {
            return Err(RunbookErrorKind::DuplicateOption("interactive".into()));
        }
        d.step.interactive = match value.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(RunbookErrorKind::BadBool(value.to_string())),
        };
    } else if let Some(key) = d.in_options.then(|| option_key(trimmed)).flatten() {
        return Err(RunbookErrorKind::UnknownOption(key.to_string()));
    } else {
        d.prose.push(line.to_string());
    }
    Ok(())
}

/// `30s`, `2m`, `1h`: a positive whole number and a unit, at most [`MAX_STEP_TIMEOUT`].
fn parse_timeout(value: &str) -> Result<Duration, RunbookErrorKind> {
    let bad = |reason: &'static str| RunbookErrorKind::BadTimeout {
        value: value.to_string(),
        reason,
    };
    let v = value.trim();
    let digits = v.len() - v.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return Err(bad("it must start with a whole number"));
    }
    let unit = match v[digits..].trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "" => return Err(bad("the unit is missing")),
        _ => return Err(bad("the unit must be s, m or h")),
    };
    let n: u64 = v[..digits]
        .parse()
        .map_err(|_| bad("the number is too large"))?;
    let secs = n
        .checked_mul(unit)
        .ok_or_else(|| bad("the number is too large"))?;
    if secs == 0 {
        return Err(bad("it must be positive"));
    }
    let timeout = Duration::from_secs(secs);
    if timeout > MAX_STEP_TIMEOUT {
        return Err(bad("the longest allowed is 1h"));
    }
    Ok(timeout)
}

/// The key of a line shaped like an option (`word: value`), if it is one.
fn option_key(trimmed: &str) -> Option<&str> {
    let (key, rest) = trimmed.split_once(':')?;
    let mut chars = key.chars();
    let shaped = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    // `https://...` is a link in prose, not an option.
    (shaped && !rest.starts_with("//")).then_some(key)
}

fn finish(mut d: Draft) -> Step {
    let text = d.prose.join("\n");
    d.step.prose = text.trim_matches('\n').trim_end().to_string();
    d.step
}

/// Checks placeholder syntax in a command that starts on file line `first_line`.
fn check_template(cmd: &str, first_line: usize, err: MakeError, errors: &mut Vec<RunbookError>) {
    if let Err(TemplateError { offset, error }) = scan(cmd) {
        errors.push(err(
            first_line + count_newlines(cmd, offset),
            RunbookErrorKind::Placeholder(error),
        ));
    }
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
pub(super) fn parse_risk(value: &str) -> Option<Risk> {
    match value.trim().to_ascii_lowercase().as_str() {
        "read" => Some(Risk::Read),
        "change" => Some(Risk::Change),
        "destructive" => Some(Risk::Destructive),
        _ => None,
    }
}

pub(super) fn unknown_risk(value: &str) -> RunbookErrorKind {
    RunbookErrorKind::UnknownRisk(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        for (text, secs) in [
            ("30s", 30),
            ("2m", 120),
            ("1h", 3600),
            ("3600s", 3600),
            (" 5 m", 300),
        ] {
            assert_eq!(parse_timeout(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for (text, why) in [
            ("0s", "positive"),
            ("2h", "1h"),
            ("61m", "1h"),
            ("30", "unit is missing"),
            ("1.5m", "unit must be"),
            ("5 min", "unit must be"),
            ("-1s", "whole number"),
            ("s", "whole number"),
            ("99999999999999999999s", "too large"),
            ("9999999999999999h", "too large"),
        ] {
            match parse_timeout(text) {
                Err(e @ RunbookErrorKind::BadTimeout { .. }) => {
                    assert!(e.to_string().contains(why), "{text}: {e}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn numbering() {
        assert_eq!(strip_number("1. Check"), "Check");
        assert_eq!(strip_number("12) Check"), "Check");
        assert_eq!(strip_number("1.5 GB free"), "1.5 GB free");
        assert_eq!(strip_number("2."), "");
    }
}
