//! `pagerpilot patterns`, run as the real binary.

mod common;

use std::path::{Path, PathBuf};

use common::Env;
use serde_json::Value;

fn write(env: &Env, name: &str, bytes: &[u8]) -> PathBuf {
    let path = env.path().join(name);
    std::fs::write(&path, bytes).expect("write input");
    path
}

fn patterns(env: &Env, input: &Path, format: &str) -> String {
    let input = input.to_str().expect("utf-8 temp path");
    env.ok(&["patterns", "--input", input, "--format", format])
}

/// CSV rows as (line, pattern_id, template); the templates here hold no quotes or commas.
fn rows(csv: &str) -> Vec<(String, String, String)> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.splitn(3, ',');
            let mut next = || f.next().unwrap_or("").to_string();
            (next(), next(), next())
        })
        .collect()
}

#[test]
fn csv_has_a_header_and_one_row_per_line() {
    let env = Env::new();
    // Five user names: a variable (a word with only a few values would stay a constant).
    let input = write(
        &env,
        "app.log",
        b"user alice logged in\nuser bob logged in\nuser carol logged in\nuser dave logged in\n\
          user erin logged in\ndisk full on /dev/sda1\n",
    );
    let out = patterns(&env, &input, "csv");
    assert!(out.starts_with("line,pattern_id,template\n"), "{out}");
    let rows = rows(&out);
    assert_eq!(rows.len(), 6, "{out}");
    assert_eq!(rows[0].0, "1");
    assert_eq!(rows[5].0, "6");
    // The first line carries the final, generalised template.
    assert_eq!(rows[0].2, "user <*> logged in");
    assert!(rows[..5].iter().all(|r| r.1 == rows[0].1), "{out}");
    assert!(rows[0].1.starts_with('P') && rows[0].1.len() == 9, "{out}");
    assert_ne!(rows[5].1, rows[0].1);
}

#[test]
fn lines_differing_in_numbers_share_a_pattern() {
    let env = Env::new();
    let input = write(
        &env,
        "n.log",
        b"request took 12ms status 200\nrequest took 340ms status 503\n",
    );
    let rows = rows(&patterns(&env, &input, "csv"));
    assert_eq!(rows[0].1, rows[1].1);
    assert_eq!(rows[0].2, "request took <*> status <*>");
}

#[test]
fn empty_lines_keep_their_number_with_empty_fields() {
    let env = Env::new();
    let input = write(&env, "e.log", b"first line\n\n   \nlast line\n");
    let out = patterns(&env, &input, "csv");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[2], "2,,");
    assert_eq!(lines[3], "3,,");
    assert!(lines[4].starts_with("4,P"), "{out}");
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let env = Env::new();
    let input = write(
        &env,
        "bad.log",
        b"caf\xe9 opened\xff\xfe now\nok line\n\xc3\x28 again\n",
    );
    let out = env.run(&["patterns", "--input", input.to_str().expect("utf-8 path")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    let rows = rows(&text);
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0].2.contains('\u{fffd}'), "{text}");
    assert!(rows[0].1.starts_with('P'));
    assert_eq!(rows[1].2, "ok line");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 line(s)") && err.contains("bad.log") && err.contains("U+FFFD"),
        "{err}"
    );
    // Valid input: no note.
    let good = write(&env, "good.log", b"fine\n");
    let out = env.run(&["patterns", "--input", good.to_str().expect("utf-8 path")]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("UTF-8"));
}

#[test]
fn whitespace_only_lines_and_crlf_are_empty_rows() {
    let env = Env::new();
    let input = write(&env, "ws.log", b"a b c\r\n   \r\n\t\nd e f\r\n");
    let out = patterns(&env, &input, "csv");
    let rows = rows(&out);
    assert_eq!(rows.len(), 4, "{out}");
    assert_eq!((rows[1].1.as_str(), rows[1].2.as_str()), ("", ""));
    assert_eq!((rows[2].1.as_str(), rows[2].2.as_str()), ("", ""));
    assert_eq!(rows[0].2, "a b c", "no stray \\r");
    assert_eq!(rows[3].0, "4");
}

#[test]
fn a_one_megabyte_line_works() {
    let env = Env::new();
    let mut big = Vec::new();
    while big.len() < 1 << 20 {
        big.extend_from_slice(b"word value=42 ");
    }
    big.extend_from_slice(b"\nnothing_but_one_token");
    big.extend(std::iter::repeat_n(b'x', 1 << 20));
    big.extend_from_slice(b"\nshort line\n");
    let input = write(&env, "big.log", &big);
    let out = patterns(&env, &input, "csv");
    let rows = rows(&out);
    assert_eq!(rows.len(), 3);
    assert!(rows[0].2.len() < 4096, "the template is capped");
    assert!(rows[0].2.ends_with("<*>"), "{}", rows[0].2);
    assert!(rows[1].1.starts_with('P') && rows[1].2.len() < 100);
    assert_eq!(rows[2].2, "short line");
}

#[test]
fn json_lists_lines_and_patterns() {
    let env = Env::new();
    let input = write(
        &env,
        "j.log",
        b"user 1001 logged in\n\nuser 1002 logged in\ncache \"warm\", size 3\n",
    );
    let v: Value = serde_json::from_str(&patterns(&env, &input, "json")).expect("JSON output");
    let lines = v["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[1]["pattern_id"], Value::Null);
    assert_eq!(lines[0]["pattern_id"], lines[2]["pattern_id"]);
    let patterns = v["patterns"].as_array().expect("patterns");
    assert_eq!(patterns.len(), 2);
    assert_eq!(patterns[0]["count"], 2);
    assert_eq!(patterns[0]["template"], "user <*> logged in");
    assert_eq!(patterns[0]["pattern_id"], lines[0]["pattern_id"]);
    assert_eq!(patterns[1]["count"], 1);
}

#[test]
fn csv_quotes_templates_with_quotes_and_commas() {
    let env = Env::new();
    let input = write(&env, "q.log", b"cache \"warm\", ready\n");
    let out = patterns(&env, &input, "csv");
    let row = out.lines().nth(1).expect("a row");
    assert!(row.ends_with(",\"cache \"\"warm\"\", ready\""), "{out}");
}

#[test]
fn stdin_is_read_with_a_dash() {
    use std::io::Write;
    use std::process::Stdio;
    let env = Env::new();
    let mut child = env
        .command()
        .args(["patterns", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a b c\na b d\n")
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(rows(&text).len(), 2, "{text}");
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let env = Env::new();
    let missing = env.path().join("no-such-file.log");
    let out = env.run(&["patterns", "--input", missing.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-file.log"), "{err}");
    assert!(out.stdout.is_empty());
}
