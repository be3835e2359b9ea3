//! `pagerpilot runbook check DIR...`: validates runbook files and reports every problem.
//!
//! Contract:
//! * Each argument is a directory (every `*.md` directly in it, sorted by name) or a file (checked
//!   whatever its extension). A file named twice is checked once.
//! * Each problem is printed as `file:line: problem` (`file: problem` when it concerns the whole
//!   file); all problems of a file are listed when the parser can carry on past them.
//! * Warnings, which do not fail the check, are printed as `file:line: warning: ...`: a `change`
//!   or `destructive` step without a `post` check (nothing would tell whether it helped), and a
//!   directory without any `*.md`.
//! * Two runbooks with the same id in one directory are a problem for the second one.
//! * The last line is `N runbooks OK, M with problems`.
//! * Exit code ([`CheckReport::exit_code`]): 0 when every runbook is valid (warnings allowed),
//!   1 when any has a problem, 2 when a path cannot be read (the others are still checked).

use std::path::{Path, PathBuf};

use crate::domain::runbook::{self, CheckWhen, Risk, Runbook, RunbookError, RunbookErrorKind};

/// A runbook file to check: its name as shown in messages, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub text: String,
}

/// Something worth fixing that does not make a runbook invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    /// 1-based line; 0 = the whole file or directory.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: warning: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: warning: {}", self.file, self.line, self.message)
        }
    }
}

/// The result for one file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileReport {
    pub file: String,
    /// The runbook's id when it parsed.
    pub id: Option<String>,
    /// Empty when the runbook is valid.
    pub problems: Vec<RunbookError>,
    pub warnings: Vec<Warning>,
}

/// The result of a whole check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckReport {
    pub files: Vec<FileReport>,
    /// Warnings about the arguments themselves (an empty directory).
    pub warnings: Vec<Warning>,
    /// Paths that could not be read, with the reason (`cannot read DIR: ...`).
    pub unreadable: Vec<String>,
}

impl CheckReport {
    pub fn ok_count(&self) -> usize {
        self.files.iter().filter(|f| f.problems.is_empty()).count()
    }

    pub fn problem_count(&self) -> usize {
        self.files.len() - self.ok_count()
    }

    /// 0 all valid, 1 a runbook has a problem, 2 a path could not be read.
    pub fn exit_code(&self) -> u8 {
        if !self.unreadable.is_empty() {
            2
        } else if self.problem_count() > 0 {
            1
        } else {
            0
        }
    }
}

/// Reads the given paths and checks every runbook in them.
pub fn run(paths: &[PathBuf]) -> CheckReport {
    let (inputs, warnings, unreadable) = collect(paths);
    let mut report = check(&inputs);
    report.warnings = warnings;
    report.unreadable = unreadable;
    report
}

/// The files named by `paths`: (inputs, warnings about empty directories, unreadable paths).
pub fn collect(paths: &[PathBuf]) -> (Vec<Input>, Vec<Warning>, Vec<String>) {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut warnings = Vec::new();
    let mut unreadable = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => match markdown_files(path) {
                Ok(found) if found.is_empty() => warnings.push(Warning {
                    file: path.display().to_string(),
                    line: 0,
                    message: "no *.md runbooks in this directory".into(),
                }),
                Ok(found) => files.extend(found),
                Err(e) => unreadable.push(format!("cannot read {}: {e}", path.display())),
            },
            Ok(_) => files.push(path.clone()),
            Err(e) => unreadable.push(format!("cannot read {}: {e}", path.display())),
        }
    }
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut inputs = Vec::new();
    for file in files {
        let key = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        match std::fs::read_to_string(&file) {
            Ok(text) => inputs.push(Input {
                name: file.display().to_string(),
                text,
            }),
            Err(e) => unreadable.push(format!("cannot read {}: {e}", file.display())),
        }
    }
    (inputs, warnings, unreadable)
}

/// Every `*.md` file directly in `dir`, sorted.
fn markdown_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_md = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"));
        if is_md && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Checks runbook texts; pure.
pub fn check(inputs: &[Input]) -> CheckReport {
    let mut files: Vec<FileReport> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let mut report = match runbook::parse_all_errors(&input.text, &input.name) {
            Ok(rb) => FileReport {
                file: input.name.clone(),
                id: Some(rb.id.clone()),
                problems: Vec::new(),
                warnings: lint(&rb),
            },
            Err(problems) => FileReport {
                file: input.name.clone(),
                id: None,
                problems,
                warnings: Vec::new(),
            },
        };
        if let Some(id) = &report.id {
            let dir = parent_of(&input.name);
            let other = files
                .iter()
                .find(|f| f.id.as_ref() == Some(id) && parent_of(&f.file) == dir);
            if let Some(other) = other {
                report.problems.push(RunbookError {
                    file: input.name.clone(),
                    line: 0,
                    kind: RunbookErrorKind::DuplicateId {
                        id: id.clone(),
                        other: other.file.clone(),
                    },
                });
            }
        }
        files.push(report);
    }
    CheckReport {
        files,
        ..CheckReport::default()
    }
}

fn parent_of(name: &str) -> Option<&Path> {
    Path::new(name).parent()
}

/// Warnings for a valid runbook: steps that change something without a `post` check.
pub fn lint(rb: &Runbook) -> Vec<Warning> {
    rb.steps
        .iter()
        .filter(|s| s.risk >= Risk::Change && s.checks_at(CheckWhen::Post).next().is_none())
        .map(|s| Warning {
            file: rb.source.clone(),
            line: s.line,
            message: format!(
                "step {:?} is {} but has no post check; add a ```promql post block that \
                 tells whether it helped",
                s.title,
                s.risk.as_str()
            ),
        })
        .collect()
}

/// The report as printed on standard output: problems and warnings, then the summary line.
/// Unreadable paths are not in it (they go to standard error).
pub fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    for w in &report.warnings {
        out.push_str(&format!("{w}\n"));
    }
    for f in &report.files {
        for p in &f.problems {
            out.push_str(&format!("{p}\n"));
        }
        for w in &f.warnings {
            out.push_str(&format!("{w}\n"));
        }
    }
    let ok = report.ok_count();
    out.push_str(&format!(
        "{ok} {} OK, {} with problems\n",
        if ok == 1 { "runbook" } else { "runbooks" },
        report.problem_count()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, text: &str) -> Input {
        Input {
            name: name.into(),
            text: text.into(),
        }
    }

    const GOOD: &str = "+++\ntitle = \"G\"\n+++\n## Look\n```sh\nls\n```\n";

    #[test]
    fn problems_warnings_and_summary() {
        let change = "+++\ntitle = \"C\"\n+++\n## Restart\n```sh\nrestart\n```\nrisk: change\n\n\
## Fix\n```sh\nfix\n```\n```promql pre\nup == 0\n```\nrisk: destructive\n\n\
## Checked\n```sh\nfix\n```\n```promql post\nup == 1\n```\nrisk: change\n";
        let broken =
            "+++\ntitle = \"B\"\n+++\n## a\nrisk: maybe\n## b\n```sh\nls\n```\n```sh\nls\n```\n";
        let report = check(&[
            input("d/good.md", GOOD),
            input("d/change.md", change),
            input("d/broken.md", broken),
        ]);
        assert_eq!((report.ok_count(), report.problem_count()), (2, 1));
        assert_eq!(report.exit_code(), 1);
        let text = render(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[0].starts_with("d/change.md:4: warning: step \"Restart\" is change"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("d/change.md:10: warning: step \"Fix\" is destructive"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("d/broken.md:5: unknown risk"),
            "{text}"
        );
        assert!(lines[3].starts_with("d/broken.md:10: a step has at most one sh"));
        assert_eq!(lines[4], "2 runbooks OK, 1 with problems");
    }

    #[test]
    fn only_warnings_exit_zero_and_duplicates_in_one_dir_fail() {
        let report = check(&[input("a/x.md", GOOD)]);
        assert_eq!(report.exit_code(), 0);
        assert_eq!(render(&report), "1 runbook OK, 0 with problems\n");

        let same_id = "+++\nid = \"x\"\ntitle = \"G\"\n+++\n## Look\n";
        let report = check(&[
            input("a/x.md", GOOD),
            input("b/y.md", same_id),
            input("a/y.md", same_id),
        ]);
        assert_eq!(report.exit_code(), 1);
        assert_eq!(
            render(&report),
            "a/y.md: duplicate runbook id \"x\" (also in a/x.md)\n\
             2 runbooks OK, 1 with problems\n"
        );
    }

    #[test]
    fn unreadable_paths_exit_two() {
        let report = CheckReport {
            unreadable: vec!["cannot read nope: missing".into()],
            ..CheckReport::default()
        };
        assert_eq!(report.exit_code(), 2);
    }
}
