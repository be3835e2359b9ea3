//! Runbooks: parsing and its errors, loading a directory, suggestions, and command rendering
//! that cannot be turned into shell injection.

use std::process::Command;

use chrono::Utc;
use pagerpilot::domain::runbook::{self, Risk, Runbook, RunbookErrorKind};
use pagerpilot::domain::{Alert, AlertState, Labels};
use proptest::prelude::*;

const GOOD: &str = r#"+++
id = "payments-db-pool"
title = "Payments DB connection pool saturated"
match = { alertname = "PaymentsDb.*", service = "payments-db" }
risk = "change"
+++
Intro prose.

## 1. Check current connections
Prose.
```sh
psql -h {{ labels.instance }} -c 'select count(*) from pg_stat_activity'
```
risk: read

## 2. Terminate idle sessions
```sh
psql -h {{ labels.instance }} -c "select pg_terminate_backend(pid) from pg_stat_activity"
```
risk: destructive
rollback: `echo cannot be undone`
"#;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn alert(pairs: &[(&str, &str)], runbook_url: Option<&str>) -> Alert {
    let labels = labels(pairs);
    let mut annotations = Labels::new();
    if let Some(url) = runbook_url {
        annotations.insert("runbook_url".into(), url.into());
    }
    Alert {
        fingerprint: pagerpilot::domain::alert::fingerprint(&labels),
        labels,
        annotations,
        starts_at: Utc::now(),
        ends_at: None,
        state: AlertState::Firing,
        generator_url: None,
    }
}

#[test]
fn parses_the_documented_format() {
    let rb = runbook::parse(GOOD, "local/pool.md").expect("parses");
    assert_eq!(rb.id, "payments-db-pool");
    assert_eq!(rb.title, "Payments DB connection pool saturated");
    assert_eq!(rb.source, "local/pool.md");
    assert_eq!(
        rb.matchers,
        vec![
            ("alertname".to_string(), "PaymentsDb.*".to_string()),
            ("service".to_string(), "payments-db".to_string()),
        ]
    );
    // Declared "change", but a destructive step raises the overall risk.
    assert_eq!(rb.risk, Risk::Destructive);
    assert_eq!(rb.steps.len(), 2);
    let s = &rb.steps[0];
    assert_eq!(s.title, "Check current connections");
    assert_eq!(s.line, 9);
    assert_eq!(s.prose, "Prose.");
    assert_eq!(s.risk, Risk::Read);
    assert_eq!(
        s.command.as_deref(),
        Some("psql -h {{ labels.instance }} -c 'select count(*) from pg_stat_activity'")
    );
    let s = &rb.steps[1];
    assert!(s.risk.is_destructive());
    assert_eq!(s.rollback.as_deref(), Some("echo cannot be undone"));
    assert!(rb.has_destructive_step());
}

#[test]
fn each_error_names_the_source_and_line() {
    let head = "+++\ntitle = \"T\"\n+++\n";
    let cases: Vec<(String, usize, &str)> = vec![
        ("# no front matter\n".into(), 1, "missing front matter"),
        ("+++\ntitle = \"T\"\n## 1. x\n".into(), 1, "never closed"),
        (
            "+++\ntitle = \"T\"\nrisk = = 1\n+++\n## a\n".into(),
            3,
            "front matter",
        ),
        ("+++\nname = \"x\"\n+++\n## a\n".into(), 2, "front matter"),
        (
            "+++\ntitle = \"T\"\nmatch = { service = \"(\" }\n+++\n## a\n".into(),
            3,
            "bad regex for label \"service\"",
        ),
        (format!("{head}## 1. ok\n\n##\n"), 6, "no title"),
        (format!("{head}## 1.\n"), 4, "no title"),
        (
            format!("{head}## a\nrisk: yolo\n"),
            5,
            "unknown risk \"yolo\"",
        ),
        (
            "+++\ntitle = \"T\"\nrisk = \"huge\"\n+++\n## a\n".into(),
            3,
            "unknown risk \"huge\"",
        ),
        (
            format!("{head}## a\n```sh\necho ok\necho {{{{ env.HOME }}}}\n```\n"),
            7,
            "unknown placeholder",
        ),
        (
            format!("{head}## a\nrollback: `echo {{{{ labels.x`\n"),
            5,
            "never closed",
        ),
        (
            format!("{head}## a\n```sh\necho \"{{{{ labels.x }}}}\"\n```\n"),
            6,
            "inside double quotes",
        ),
        (
            format!("{head}## a\n```sh\necho\n"),
            5,
            "code block is never closed",
        ),
        (format!("{head}intro only\n"), 3, "no steps"),
    ];
    for (text, line, needle) in cases {
        let err = runbook::parse(&text, "books/bad.md").expect_err(&text);
        let msg = err.to_string();
        assert_eq!(err.file, "books/bad.md", "{msg}");
        assert_eq!(err.line, line, "{msg}\n---\n{text}");
        assert!(msg.starts_with(&format!("books/bad.md:{line}: ")), "{msg}");
        assert!(msg.contains(needle), "{msg} should mention {needle:?}");
    }
}

#[test]
fn load_dir_reports_a_broken_file_and_loads_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("good.md"),
        GOOD.replace("payments-db-pool", "good"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("plain.md"),
        "+++\ntitle = \"Plain\"\n+++\n## Look\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("broken.md"),
        "+++\ntitle = \"B\"\n+++\n## a\nrisk: maybe\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a runbook").expect("write");
    let (books, errors) = runbook::load_dir(dir.path());
    let ids: Vec<_> = books.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["good", "plain"]);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].file.ends_with("broken.md"), "{}", errors[0]);
    assert_eq!(errors[0].line, 5);
    assert_eq!(
        errors[0].kind,
        RunbookErrorKind::UnknownRisk("maybe".into())
    );

    let (books, errors) = runbook::load_dir(&dir.path().join("missing"));
    assert!(books.is_empty() && errors.is_empty());
}

#[test]
fn suggestions_put_runbook_urls_first_then_matchers() {
    let books = runbook::embedded();
    let db = alert(
        &[
            ("alertname", "PaymentsDbPoolSaturated"),
            ("service", "payments-db"),
            ("severity", "critical"),
        ],
        Some("https://wiki.example.com/runbooks/payments-db"),
    );
    let web = alert(
        &[
            ("alertname", "Web5xx"),
            ("service", "web"),
            ("severity", "warning"),
        ],
        Some("checkout-api-latency.md"),
    );
    let checkout = alert(
        &[
            ("alertname", "CheckoutLatency"),
            ("service", "checkout-api"),
            ("severity", "warning"),
        ],
        None,
    );
    let got = runbook::suggest(&[&web, &checkout, &db], &books);
    let ids: Vec<_> = got.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "https://wiki.example.com/runbooks/payments-db",
            "checkout-api-latency",
            "payments-db-pool",
            "web-5xx",
        ]
    );
    assert_eq!(
        got[0].url.as_deref(),
        Some("https://wiki.example.com/runbooks/payments-db")
    );
    assert_eq!(got[0].reason, "runbook_url of PaymentsDbPoolSaturated");
    assert_eq!(got[1].reason, "runbook_url of Web5xx");
    assert_eq!(got[1].url, None);
    // The reason names the labels that matched, with the alert's values.
    assert_eq!(
        got[2].reason,
        "matches alertname=PaymentsDbPoolSaturated, service=payments-db"
    );
    assert_eq!(got[3].reason, "matches service=web");

    let disk = alert(
        &[("alertname", "NodeDiskFull"), ("instance", "node-1")],
        None,
    );
    let got = runbook::suggest(&[&disk], &books);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, "node-disk-full");
}

/// `books` plus the runbooks read from the files `a`'s runbook_url names, as the runtime does.
fn with_url_runbooks(a: &Alert, books: &[Runbook]) -> Vec<Runbook> {
    let mut all = books.to_vec();
    all.extend(runbook::runbooks_from_urls(&[a], books));
    all
}

#[test]
fn a_runbook_url_naming_a_file_on_disk_is_read_from_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("on-disk.md");
    std::fs::write(
        &path,
        "+++\nid = \"disk-book\"\ntitle = \"From disk\"\n+++\n## Look\n```sh\nls\n```\n",
    )
    .expect("write");
    let broken = dir.path().join("broken.md");
    std::fs::write(&broken, "+++\ntitle = \"B\"\n+++\n## a\nrisk: maybe\n").expect("write");
    let abs = path.to_str().expect("utf-8 temp path").to_string();
    let books = runbook::embedded();

    for url in [
        format!("file://{abs}"),
        format!("file://{abs}#step-1"),
        abs.clone(),
    ] {
        let a = alert(&[("alertname", "Disk")], Some(&url));
        // `suggest` reads nothing: without the file's runbook passed in, no suggestion.
        assert!(runbook::suggest(&[&a], &books).is_empty(), "{url}");
        let with_files = with_url_runbooks(&a, &books);
        let got = runbook::suggest(&[&a], &with_files);
        assert_eq!(got.len(), 1, "{url}: {got:?}");
        assert_eq!(got[0].id, "disk-book", "{url}");
        assert_eq!(got[0].title, "From disk");
        assert_eq!(got[0].url, None);
        assert!(
            got[0].reason.starts_with("runbook_url of Disk"),
            "{}",
            got[0].reason
        );
        assert!(got[0].reason.contains(&abs), "{}", got[0].reason);
        let loaded = runbook::runbooks_from_urls(&[&a], &books);
        assert_eq!(loaded.len(), 1, "{url}");
        assert_eq!(loaded[0].steps[0].command.as_deref(), Some("ls"));
        // Already loaded: not read again.
        assert!(runbook::runbooks_from_urls(&[&a], &loaded).is_empty());
    }

    // Broken, missing, not Markdown, or on another host: skipped, no panic.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "+++\ntitle = \"N\"\n+++\n## a\n").expect("write");
    for url in [
        format!("file://{}", broken.display()),
        format!("file://{}", dir.path().join("missing.md").display()),
        notes.display().to_string(),
        format!("file://otherhost{abs}"),
        dir.path().display().to_string(),
    ] {
        let a = alert(&[("alertname", "Disk")], Some(&url));
        assert!(
            runbook::runbooks_from_urls(&[&a], &books).is_empty(),
            "{url}"
        );
        assert!(
            runbook::suggest(&[&a], &with_url_runbooks(&a, &books)).is_empty(),
            "{url}"
        );
    }

    // A loaded runbook with the file's stem wins over the file.
    let shadow = dir.path().join("web-5xx.md");
    std::fs::write(&shadow, "+++\ntitle = \"Shadow\"\n+++\n## a\n").expect("write");
    let a = alert(&[("alertname", "X")], Some(&shadow.display().to_string()));
    let got = runbook::suggest(&[&a], &with_url_runbooks(&a, &books));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "Web front end returning 5xx");
}

#[test]
fn a_relative_runbook_url_is_read_relative_to_the_working_directory() {
    // `cargo test` runs in the crate root, where the samples live.
    let url = "assets/runbooks/web-5xx.md";
    assert!(
        std::path::Path::new(url).is_file(),
        "run from the crate root"
    );
    let a = alert(&[("alertname", "X")], Some(url));
    let got = runbook::suggest(&[&a], &with_url_runbooks(&a, &[]));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].id, "web-5xx");
    assert_eq!(
        got[0].reason,
        "runbook_url of X (read from assets/runbooks/web-5xx.md)"
    );
}

#[test]
fn a_matcher_reason_names_the_most_severe_matching_alert() {
    let books = runbook::embedded();
    let warn = alert(
        &[
            ("alertname", "PaymentsDbSlowQueries"),
            ("service", "payments-db"),
            ("severity", "warning"),
        ],
        None,
    );
    let crit = alert(
        &[
            ("alertname", "PaymentsDbPoolSaturated"),
            ("service", "payments-db"),
            ("severity", "critical"),
        ],
        None,
    );
    let got = runbook::suggest(&[&warn, &crit], &books);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].reason,
        "matches alertname=PaymentsDbPoolSaturated, service=payments-db"
    );
    let evil = alert(&[("service", "web\u{1b}[2J")], None);
    let got = runbook::suggest(
        &[&evil],
        &[runbook::parse(
            "+++\ntitle = \"W\"\nmatch = { service = \"web.*\" }\n+++\n## a\n",
            "w.md",
        )
        .expect("parses")],
    );
    assert_eq!(got[0].reason, "matches service=web\\u{1b}[2J");
}

#[test]
fn render_quotes_and_refuses_missing_labels() {
    let l = labels(&[("namespace", "shop"), ("service", "checkout-api")]);
    assert_eq!(
        runbook::render_command(
            "kubectl -n {{ labels.namespace }} rollout undo deployment/{{labels.service}}",
            &l
        ),
        Ok("kubectl -n 'shop' rollout undo deployment/'checkout-api'".to_string())
    );
    let err = runbook::render_command("ssh {{ labels.instance }} df -h", &l).expect_err("missing");
    assert!(err.to_string().contains("\"instance\""), "{err}");
    let err = runbook::render_command("echo {{ .Values.x }}", &l).expect_err("unknown");
    assert!(err.to_string().contains("unknown placeholder"), "{err}");
}

/// Runs `script` with `sh -c` and returns its stdout.
fn sh(script: &str) -> Vec<u8> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "sh failed on {script:?}: {out:?}");
    out.stdout
}

fn nasty_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("; rm -rf /".to_string()),
        Just("$(touch /tmp/pwned)".to_string()),
        Just("`id`".to_string()),
        Just("'".to_string()),
        Just("'\\''".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("$HOME".to_string()),
        Just("${IFS}".to_string()),
        Just("*".to_string()),
        Just(" -n ".to_string()),
        Just("%s%n".to_string()),
        Just("{{ labels.x }}".to_string()),
        Just("；ｒｍ".to_string()),
        Just("\u{2018}q\u{2019}".to_string()),
        // Anything but control and invisible characters (those are refused, see below).
        "[^\u{0}-\u{1f}\u{7f}-\u{9f}\u{200b}-\u{200f}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{feff}]{0,8}",
    ];
    prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the label value, the shell sees exactly one word with exactly that value:
    /// `printf '%s' {{ labels.x }}` prints the value byte for byte. (`printf '%s'` rather than
    /// `echo`, which would interpret backslashes and `-n` itself.)
    #[test]
    fn rendered_values_reach_the_shell_verbatim(value in nasty_value()) {
        let l = labels(&[("x", &value)]);
        let cmd = runbook::render_command("printf '%s' {{ labels.x }}", &l)
            .expect("renders");
        prop_assert_eq!(sh(&cmd), value.as_bytes().to_vec());

        let cmd = runbook::render_command("printf '<%s>' {{ labels.x }} {{ labels.x }}", &l)
            .expect("renders");
        prop_assert_eq!(sh(&cmd), format!("<{value}><{value}>").into_bytes());
    }

    /// A control character anywhere in a value refuses the whole command.
    #[test]
    fn values_with_control_characters_are_refused(
        before in nasty_value(),
        c in prop_oneof![Just('\n'), Just('\r'), Just('\u{1b}'), Just('\u{7f}'), Just('\t'), Just('\u{9b}')],
        after in nasty_value(),
    ) {
        let value = format!("{before}{c}{after}");
        let l = labels(&[("x", &value)]);
        prop_assert_eq!(
            runbook::render_command("printf '%s' {{ labels.x }}", &l),
            Err(runbook::RenderError::ControlCharInLabel("x".into()))
        );
    }
}

#[test]
fn echo_of_a_plain_nasty_value_prints_it() {
    let value = "a; rm -rf / $(id) `id` 'q' \"d\"";
    let cmd =
        runbook::render_command("echo {{ labels.x }}", &labels(&[("x", value)])).expect("renders");
    assert_eq!(sh(&cmd), format!("{value}\n").into_bytes());
}
