//! Parses a Markdown runbook: TOML front matter between `+++` lines, then one step per `##`
//! heading. The step format (command, checks, rollback, options) is described in the module
//! documentation of [`super`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::render::{scan, TemplateError};
use super::{
    Check, CheckLang, CheckWhen, Risk, Runbook, RunbookError, RunbookErrorKind, Step,
    DEFAULT_STEP_TIMEOUT, MAX_STEP_TIMEOUT,
};

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
type MakeError<'a> = &'a dyn Fn(usize, RunbookErrorKind) -> RunbookError;

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
fn parse_steps(
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
    use crate::domain::runbook::Runbook;

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
    fn numbering_and_ids() {
        assert_eq!(strip_number("1. Check"), "Check");
        assert_eq!(strip_number("12) Check"), "Check");
        assert_eq!(strip_number("1.5 GB free"), "1.5 GB free");
        assert_eq!(strip_number("2."), "");
        assert_eq!(default_id("embedded:node-disk-full.md"), "node-disk-full");
        assert_eq!(default_id("/a/b/x.md"), "x");
    }
}
