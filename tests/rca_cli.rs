//! `pagerpilot rca`: ranking contract and input handling, through the real binary.

mod common;

use std::path::{Path, PathBuf};

use common::Env;
use serde_json::Value;

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let p = env.path().join(name);
    std::fs::write(&p, text).expect("write csv");
    p
}

/// 40 normal rows with a little wobble; the anomalous rows move `carts_cpu` a lot.
fn files(env: &Env) -> (PathBuf, PathBuf) {
    let header = "time,carts_cpu,carts-db_mem,orders_cpu,orders_lat_99,user_mem\n";
    let mut normal = String::from(header);
    let mut anomalous = String::from(header);
    for i in 0..40 {
        let w = (i % 5) as f64 * 0.1;
        normal.push_str(&format!(
            "{i},{},{},{},{},{}\n",
            1.0 + w,
            500.0 + w,
            20.0 + w,
            0.2 + w / 10.0,
            100.0 + w
        ));
        anomalous.push_str(&format!(
            "{},{},{},{},{},{}\n",
            100 + i,
            9.0 + w,
            500.0 + w,
            20.5 + w,
            0.2 + w / 10.0,
            100.0 + w
        ));
    }
    (
        write(env, "normal.csv", &normal),
        write(env, "anomalous.csv", &anomalous),
    )
}

fn rca(env: &Env, normal: &Path, anomalous: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "rca",
        "--normal",
        normal.to_str().expect("utf-8"),
        "--anomalous",
        anomalous.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn json_ranks_the_service_that_moved_and_says_why() {
    let env = Env::new();
    let (n, a) = files(&env);
    let out = rca(&env, &n, &a, &["--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ranking: Vec<&str> = v["ranking"]
        .as_array()
        .expect("ranking")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(ranking.first(), Some(&"carts"), "{v:#}");
    assert_eq!(
        ranking.len(),
        3,
        "carts-db folds into carts, orders_lat_99 into orders: {v:#}"
    );
    let top = &v["evidence"][0];
    assert_eq!(top["column"], "carts_cpu");
    assert!(
        top["text"].as_str().is_some_and(|t| t.contains("above")),
        "{top}"
    );
}

#[test]
fn table_is_the_default() {
    let env = Env::new();
    let (n, a) = files(&env);
    let out = rca(&env, &n, &a, &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().nth(1).expect("a row");
    assert!(first.starts_with("1") && first.contains("carts"), "{text}");
}

#[test]
fn a_service_pattern_regroups_columns() {
    let env = Env::new();
    let (n, a) = files(&env);
    // Everything up to the first `_`: carts-db becomes its own service.
    let out = rca(
        &env,
        &n,
        &a,
        &["--format", "json", "--service-of", "^([^_]+)_"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["ranking"].as_array().map(Vec::len), Some(4), "{v:#}");
    let bad = rca(&env, &n, &a, &["--service-of", "no-group"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("capture group"));
}

#[test]
fn malformed_input_gets_a_clear_answer() {
    let env = Env::new();
    let (n, _) = files(&env);
    // Non-numeric cells are missing values; a column only in one file is skipped and listed.
    let odd = write(
        &env,
        "odd.csv",
        "time,carts_cpu,extra_cpu\n1,abc,1\n2,50,1\n3,60,2\n",
    );
    let out = rca(&env, &n, &odd, &["--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["ranking"][0], "carts");
    let skipped: Vec<&str> = v["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter_map(|s| s["column"].as_str())
        .collect();
    assert!(
        skipped.contains(&"extra_cpu") && skipped.contains(&"orders_cpu"),
        "{skipped:?}"
    );

    let ragged = write(&env, "ragged.csv", "time,carts_cpu\n1,2\n2,3,4\n");
    let out = rca(&env, &n, &ragged, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ragged.csv") && err.contains("line"), "{err}");

    let disjoint = write(&env, "disjoint.csv", "time,foo_cpu\n1,2\n");
    let out = rca(&env, &n, &disjoint, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("share no metric column"));

    let missing = env.path().join("nope.csv");
    let out = rca(&env, &n, &missing, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.csv"));
}
