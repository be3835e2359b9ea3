//! `pagerpilot runbook check`, run as the real binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::Env;

const GOOD: &str = "+++\ntitle = \"Good\"\nmatch = { service = \"web\" }\n+++\n\
## 1. Look\n```sh\nkubectl -n {{ labels.namespace }} get pods\n```\nrisk: read\n\n\
## 2. Restart\n```sh\nkubectl -n {{ labels.namespace }} rollout restart deploy/web\n```\n\
```promql post\nhttp_5xx_ratio{service=\"web\"} < 0.01\n```\nrisk: change\ntimeout: 2m\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write runbook");
    path
}

fn check(env: &Env, paths: &[&Path]) -> (i32, String, String) {
    let mut args: Vec<&str> = vec!["runbook", "check"];
    args.extend(paths.iter().map(|p| p.to_str().expect("utf-8 temp path")));
    let Output {
        status,
        stdout,
        stderr,
    } = env.run(&args);
    (
        status.code().expect("exited, not killed"),
        String::from_utf8(stdout).expect("utf-8 stdout"),
        String::from_utf8(stderr).expect("utf-8 stderr"),
    )
}

#[test]
fn a_good_directory_passes() {
    let env = Env::new();
    let dir = env.path().join("books");
    write(&dir, "good.md", GOOD);
    write(&dir, "also-good.md", &GOOD.replace("Good", "Also good"));
    write(&dir, "README.txt", "not a runbook, not checked");
    let (code, out, err) = check(&env, &[&dir]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "2 runbooks OK, 0 with problems\n");
}

#[test]
fn the_shipped_samples_pass_without_warnings() {
    let env = Env::new();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/runbooks");
    let (code, out, err) = check(&env, &[&samples]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("warning"), "{out}");
    assert_eq!(out, "4 runbooks OK, 0 with problems\n");
}

#[test]
fn each_broken_file_is_reported_with_its_line() {
    let env = Env::new();
    let dir = env.path().join("books");
    let head = "+++\ntitle = \"T\"\n+++\n## a\n";
    write(&dir, "good.md", GOOD);
    let cases: Vec<(&str, String, usize, &str)> = vec![
        (
            "bad-toml.md",
            "+++\ntitle = \"T\"\nrisk = = 1\n+++\n## a\n".into(),
            3,
            "front matter",
        ),
        (
            "unknown-risk.md",
            format!("{head}```sh\nls\n```\nrisk: yolo\n"),
            8,
            "unknown risk \"yolo\"",
        ),
        (
            "two-sh.md",
            format!("{head}```sh\nls\n```\n```sh\nls -l\n```\n"),
            8,
            "at most one sh block",
        ),
        (
            "unclosed.md",
            format!("{head}```sh\nssh {{{{ labels.instance df -h\n```\n"),
            6,
            "never closed",
        ),
        (
            "quoted.md",
            format!("{head}```sh\nls\n```\nrollback: `echo '{{{{ labels.x }}}}'`\n"),
            8,
            "inside single quotes",
        ),
    ];
    for (name, text, _, _) in &cases {
        write(&dir, name, text);
    }
    let (code, out, err) = check(&env, &[&dir]);
    assert_eq!(code, 1, "{out}{err}");
    for (name, _, line, needle) in &cases {
        let prefix = format!("{}:{line}: ", dir.join(name).display());
        let hit = out.lines().find(|l| l.starts_with(&prefix));
        match hit {
            Some(l) => assert!(l.contains(needle), "{l} should mention {needle:?}"),
            None => panic!("no line starting with {prefix:?} in\n{out}"),
        }
    }
    assert!(out.ends_with("1 runbook OK, 5 with problems\n"), "{out}");

    // A single file can be checked too, with every problem it has.
    let many = write(
        &dir,
        "many.md",
        &format!("{head}risk: nope\n## b\n```sh\nls\n```\ntimout: 5m\n"),
    );
    let (code, out, _) = check(&env, &[&many]);
    assert_eq!(code, 1, "{out}");
    let m = many.display();
    assert!(
        out.contains(&format!("{m}:5: unknown risk \"nope\"")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{m}:10: unknown step option \"timout\"")),
        "{out}"
    );
    assert!(out.ends_with("0 runbooks OK, 1 with problems\n"), "{out}");
}

#[test]
fn a_change_without_a_post_check_is_a_warning_only() {
    let env = Env::new();
    let dir = env.path().join("books");
    let file = write(
        &dir,
        "unchecked.md",
        "+++\ntitle = \"T\"\n+++\n## Restart\n```sh\nrestart\n```\nrisk: change\n",
    );
    let (code, out, err) = check(&env, &[&dir]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "{}:4: warning: step \"Restart\" is change but has no post check",
            file.display()
        )),
        "{out}"
    );
    assert!(out.ends_with("1 runbook OK, 0 with problems\n"), "{out}");
}

#[test]
fn a_missing_directory_exits_2_and_the_rest_is_still_checked() {
    let env = Env::new();
    let dir = env.path().join("books");
    write(&dir, "good.md", GOOD);
    let missing = env.path().join("no-such-dir");
    let (code, out, err) = check(&env, &[&missing, &dir]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!("cannot read {}", missing.display())),
        "{err}"
    );
    assert_eq!(out, "1 runbook OK, 0 with problems\n");
}

#[test]
fn at_least_one_path_is_required() {
    let env = Env::new();
    let out = env.run(&["runbook", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PATH"), "{err}");
}

/// The runbook example in the README is a valid runbook (so the documentation cannot rot).
#[test]
fn the_readme_example_passes() {
    let env = Env::new();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("````markdown\n")
        .map(|i| i + "````markdown\n".len())
        .expect("README has a ````markdown runbook example");
    let len = readme[start..].find("````").expect("example is closed");
    let file = write(env.path(), "readme-example.md", &readme[start..start + len]);
    let (code, out, err) = check(&env, &[&file]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 runbook OK"), "{out}");
    assert!(!out.contains("warning"), "{out}");
}
