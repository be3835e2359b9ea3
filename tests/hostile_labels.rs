//! Hostile label values: rendered into real commands and run with `sh -c`. Only the intended
//! command may run: a canary file that an injected command would create must not exist
//! afterwards, a sentinel file that an injected `rm` would delete must still exist, and the
//! output must be exactly the value. Values the operator could misread are refused instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use pagerpilot::domain::runbook::{render_command, RenderError};
use pagerpilot::domain::Labels;

/// A fresh temp dir with a sentinel file and a canary path unique to this test.
struct Sandbox {
    dir: tempfile::TempDir,
    canary: PathBuf,
    sentinel: PathBuf,
}

impl Sandbox {
    fn new(tag: &str) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let unique = format!("{}-{tag}", std::process::id());
        let canary = dir.path().join(format!("pp-canary-{unique}"));
        let sentinel = dir.path().join(format!("pp-sentinel-{unique}"));
        std::fs::write(&sentinel, "keep me").expect("write sentinel");
        assert!(!canary.exists());
        Sandbox {
            dir,
            canary,
            sentinel,
        }
    }

    /// The hostile values, with `<canary>` and `<sentinel>` filled in.
    fn values(&self) -> Vec<String> {
        let c = self.canary.display().to_string();
        let s = self.sentinel.display().to_string();
        vec![
            format!("x; rm -rf {s}"),
            format!("$(touch {c})"),
            format!("`touch {c}`"),
            format!("'; touch {c}; '"),
            format!("a && touch {c}"),
            format!("| touch {c}"),
            format!("${{IFS}}touch${{IFS}}{c}"),
            // Full-width semicolon, look-alike letters and curly quotes: data, not syntax.
            format!("；touch {c}"),
            format!("ｒｍ -rf {s}"),
            format!("\u{2018}; touch {c}; \u{2019}"),
            format!("\"; touch {c}; \""),
            format!("\\; touch {c}"),
        ]
    }

    /// Runs `script` with `sh -c` in the sandbox; returns (success, stdout).
    fn sh(&self, script: &str) -> (bool, String) {
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(self.dir.path())
            .output()
            .expect("sh runs");
        (
            out.status.success(),
            String::from_utf8(out.stdout).expect("utf-8 stdout"),
        )
    }

    fn assert_untouched(&self, what: &str) {
        assert!(!self.canary.exists(), "canary created by {what}");
        assert!(self.sentinel.exists(), "sentinel deleted by {what}");
    }
}

fn instance(value: &str) -> Labels {
    [("instance".to_string(), value.to_string())]
        .into_iter()
        .collect()
}

/// Templates and what a correct run prints for `value`.
const TEMPLATES: &[(&str, &str)] = &[
    ("echo {{ labels.instance }}", "{}\n"),
    // Inside `$(...)`, where the renderer allows a placeholder.
    (
        "v=$(printf '%s' {{ labels.instance }}); printf '%s' \"$v\"",
        "{}",
    ),
];

#[test]
fn hostile_values_are_printed_and_nothing_else_runs() {
    for (t, (template, expected)) in TEMPLATES.iter().enumerate() {
        let sandbox = Sandbox::new(&format!("accepted-{t}"));
        for value in sandbox.values() {
            let cmd = render_command(template, &instance(&value))
                .unwrap_or_else(|e| panic!("{value:?} should render: {e}"));
            let (ok, stdout) = sandbox.sh(&cmd);
            assert!(ok, "{cmd:?} failed");
            assert_eq!(stdout, expected.replace("{}", &value), "{cmd:?}");
            sandbox.assert_untouched(&cmd);
        }
    }
}

#[test]
fn values_that_would_display_misleadingly_are_refused() {
    let sandbox = Sandbox::new("refused");
    let c = sandbox.canary.display().to_string();
    let control = [
        format!("x\ntouch {c}"),
        format!("x\rtouch {c}"),
        format!("x\u{1b}[2Ktouch {c}"),
        format!("x\u{7f}; touch {c}"),
        format!("x\u{0}touch {c}"),
    ];
    for value in &control {
        for (template, _) in TEMPLATES {
            match render_command(template, &instance(value)) {
                Err(RenderError::ControlCharInLabel(name) | RenderError::NulInLabel(name)) => {
                    assert_eq!(name, "instance")
                }
                other => panic!("{value:?} must be refused, got {other:?}"),
            }
        }
    }
    for (value, code) in [
        (format!("txt.\u{202E}hs; touch {c}"), "U+202E"),
        (format!("x\u{200B}; touch {c}"), "U+200B"),
        (format!("\u{2067}x; touch {c}\u{2069}"), "U+2067"),
        (format!("\u{FEFF}x; touch {c}"), "U+FEFF"),
    ] {
        let err =
            render_command("echo {{ labels.instance }}", &instance(&value)).expect_err("refused");
        assert_eq!(
            err,
            RenderError::InvisibleCharInLabel("instance".into(), code.into())
        );
        let msg = err.to_string();
        assert!(msg.contains(code) && msg.contains("\"instance\""), "{msg}");
    }
    sandbox.assert_untouched("a refused value");
}

/// The harness itself can see an injection: splicing the same values in without quoting
/// creates the canary and deletes the sentinel. Without this, the tests above could pass
/// because the canary path were wrong.
#[test]
fn an_unquoted_splice_would_be_caught() {
    let sandbox = Sandbox::new("naive");
    let c = sandbox.canary.display().to_string();
    for value in [
        format!("$(touch {c})"),
        format!("`touch {c}`"),
        format!("x; touch {c}"),
        format!("a && touch {c}"),
        format!("| touch {c}"),
        format!("x\ntouch {c}"),
    ] {
        let naive = "echo {{ labels.instance }}".replace("{{ labels.instance }}", &value);
        sandbox.sh(&naive);
        assert!(sandbox.canary.exists(), "{naive:?} should have run touch");
        std::fs::remove_file(&sandbox.canary).expect("remove canary");
    }
    let s = sandbox.sentinel.display().to_string();
    sandbox.sh(&format!("echo x; rm -rf {s}"));
    assert!(!Path::new(&s).exists(), "the injected rm should have run");
}
