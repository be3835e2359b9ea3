//! `pagerpilot detect` and `pagerpilot forecast`, run as the real binary, including bad inputs.

mod common;

use std::path::PathBuf;

use common::Env;

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let path = env.path().join(name);
    std::fs::write(&path, text).expect("write input");
    path
}

/// 3 days of 5-minute points with a daily shape, noise-free, then a spike at row `spike`.
fn daily_csv(spike: Option<usize>) -> (String, usize) {
    let mut s = String::from("timestamp,value\n");
    let n = 3 * 288;
    for i in 0..n {
        let t = 1_396_310_400 + 300 * i as i64;
        let ts = chrono::DateTime::from_timestamp(t, 0)
            .expect("valid time")
            .format("%Y-%m-%d %H:%M:%S");
        let phase = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
        let wobble = ((i * 7919) % 13) as f64 / 13.0;
        let mut v = 50.0 + 20.0 * phase.sin() + wobble;
        if Some(i) == spike {
            v += 80.0;
        }
        s.push_str(&format!("{ts},{v:.3}\n"));
    }
    (s, n)
}

fn stderr_of(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn detect_keeps_rows_in_order_and_flags_the_spike() {
    let env = Env::new();
    let (csv, n) = daily_csv(Some(700));
    let input = write(&env, "s.csv", &csv);
    let out = env.ok(&["detect", "--input", input.to_str().expect("utf-8")]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "timestamp,value,anomaly_score");
    assert_eq!(lines.len(), n + 1);
    let inputs: Vec<&str> = csv.lines().skip(1).collect();
    let mut scores = Vec::new();
    for (i, (o, inp)) in lines[1..].iter().zip(&inputs).enumerate() {
        let (prefix, score) = o.rsplit_once(',').expect("three fields");
        assert_eq!(prefix, *inp, "row {i} echoes its input");
        let s: f64 = score.parse().expect("numeric score");
        assert!((0.0..=1.0).contains(&s));
        scores.push(s);
    }
    let top = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i);
    assert_eq!(top, Some(700));
    let others = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 700)
        .map(|(_, s)| *s)
        .fold(0.0, f64::max);
    assert!(scores[700] > others + 0.2, "{} vs {others}", scores[700]);
}

#[test]
fn detect_scores_are_causal_and_output_file_works() {
    let env = Env::new();
    let (full, _) = daily_csv(Some(700));
    let cut: String = full.lines().take(501).map(|l| format!("{l}\n")).collect();
    let a = write(&env, "full.csv", &full);
    let b = write(&env, "cut.csv", &cut);
    let out = env.path().join("out.csv");
    env.ok(&[
        "detect",
        "--input",
        a.to_str().expect("utf-8"),
        "--output",
        out.to_str().expect("utf-8"),
    ]);
    let full_out = std::fs::read_to_string(&out).expect("output written");
    let cut_out = env.ok(&["detect", "--input", b.to_str().expect("utf-8")]);
    let prefix: Vec<&str> = full_out.lines().take(501).collect();
    assert_eq!(prefix, cut_out.lines().collect::<Vec<_>>());
}

#[test]
fn detect_sensitivity_raises_scores() {
    let env = Env::new();
    let (csv, _) = daily_csv(Some(700));
    let input = write(&env, "s.csv", &csv);
    let p = input.to_str().expect("utf-8");
    let sum = |out: String| -> f64 {
        out.lines()
            .skip(1)
            .filter_map(|l| l.rsplit_once(',').and_then(|(_, s)| s.parse::<f64>().ok()))
            .sum()
    };
    let low = sum(env.ok(&["detect", "--input", p, "--sensitivity", "0.2"]));
    let high = sum(env.ok(&["detect", "--input", p, "--sensitivity", "0.9"]));
    assert!(high > low, "{high} <= {low}");
    let err = stderr_of(&env, &["detect", "--input", p, "--sensitivity", "3"]);
    assert!(
        err.contains("--sensitivity must be between 0 and 1"),
        "{err}"
    );
}

#[test]
fn detect_missing_values_are_kept_and_score_zero() {
    let env = Env::new();
    let input = write(
        &env,
        "m.csv",
        "timestamp,value\n1700000000,1\n1700000060,\n1700000120,NaN\n1700000180,2\n",
    );
    let out = env.ok(&["detect", "--input", input.to_str().expect("utf-8")]);
    assert_eq!(
        out,
        "timestamp,value,anomaly_score\n1700000000,1,0.000000\n1700000060,,0.000000\n\
         1700000120,NaN,0.000000\n1700000180,2,0.000000\n"
    );
}

#[test]
fn bad_inputs_name_the_file_and_line() {
    let env = Env::new();
    let cases = [
        ("empty.csv", "", "empty.csv: empty file"),
        (
            "header.csv",
            "timestamp,value\n",
            "header.csv: no data rows",
        ),
        (
            "text.csv",
            "timestamp,value\n2024-01-01 00:00:00,high\n",
            "text.csv:2: value \"high\" is not a number",
        ),
        (
            "ts.csv",
            "timestamp,value\nmonday,1\n",
            "ts.csv:2: \"monday\" is not a timestamp",
        ),
    ];
    for (name, text, want) in cases {
        let p = write(&env, name, text);
        let p = p.to_str().expect("utf-8");
        for cmd in [
            vec!["detect", "--input", p],
            vec!["forecast", "--input", p, "--horizon", "3"],
        ] {
            let err = stderr_of(&env, &cmd);
            assert!(err.contains(want), "{cmd:?}: {err}");
        }
    }
    let err = stderr_of(&env, &["detect", "--input", "/nonexistent/x.csv"]);
    assert!(
        err.contains("cannot read input file /nonexistent/x.csv"),
        "{err}"
    );
}

#[test]
fn repeated_and_decreasing_timestamps_follow_the_policy() {
    let env = Env::new();
    let dup = write(
        &env,
        "dup.csv",
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:00:00,3\n2024-01-01 00:05:00,2\n2024-01-01 00:10:00,2\n",
    );
    let back = write(
        &env,
        "back.csv",
        "timestamp,value\n2024-01-01 00:05:00,1\n2024-01-01 00:00:00,2\n2024-01-01 00:10:00,2\n",
    );
    let (dup, back) = (dup.to_str().expect("utf-8"), back.to_str().expect("utf-8"));
    // detect: scored in file order, one row out per row in, with a warning naming the line.
    for (p, want) in [
        (dup, "dup.csv:3: duplicate timestamp"),
        (
            back,
            "back.csv:3: timestamp \"2024-01-01 00:00:00\" is earlier",
        ),
    ] {
        let out = env.run(&["detect", "--input", p]);
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(want) && stderr.contains("file order"),
            "{stderr}"
        );
        let rows = String::from_utf8_lossy(&out.stdout).lines().count();
        assert_eq!(
            rows,
            std::fs::read_to_string(p).expect("read").lines().count()
        );
    }
    // forecast: duplicates are averaged (warning), going backwards is an error.
    let out = env.run(&["forecast", "--input", dup, "--horizon", "1"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("averaged"));
    let err = stderr_of(&env, &["forecast", "--input", back, "--horizon", "1"]);
    assert!(err.contains("back.csv:3: timestamp"), "{err}");
}

#[test]
fn forecast_csv_continues_the_step_and_season() {
    let env = Env::new();
    let mut csv = String::from("timestamp,value\n");
    for i in 0..24 * 10 {
        csv.push_str(&format!("{},{}\n", 1_700_000_000 + 3_600 * i, 10 + i % 24));
    }
    let input = write(&env, "h.csv", &csv);
    let p = input.to_str().expect("utf-8");
    let out = env.ok(&[
        "forecast",
        "--input",
        p,
        "--horizon",
        "30",
        "--season",
        "24",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "h,timestamp,point,lo,hi");
    assert_eq!(lines.len(), 31);
    let last = 1_700_000_000 + 3_600 * (24 * 10 - 1);
    for (k, line) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0], (k + 1).to_string());
        assert_eq!(f[1], (last + 3_600 * (k as i64 + 1)).to_string());
        let point: f64 = f[2].parse().expect("point");
        let (lo, hi): (f64, f64) = (f[3].parse().expect("lo"), f[4].parse().expect("hi"));
        let want = (10 + (24 * 10 + k) % 24) as f64;
        assert!(
            (point - want).abs() < 1e-6,
            "h={}: {point} vs {want}",
            k + 1
        );
        assert!(lo <= point && point <= hi);
    }
}

#[test]
fn forecast_json_and_timestamp_style() {
    let env = Env::new();
    let (csv, _) = daily_csv(None);
    let input = write(&env, "d.csv", &csv);
    let p = input.to_str().expect("utf-8");
    let out = env.ok(&[
        "forecast",
        "--input",
        p,
        "--horizon",
        "2",
        "--format",
        "json",
        "--level",
        "80",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["step_secs"], 300);
    assert_eq!(v["periods"], serde_json::json!([288]));
    assert_eq!(v["forecast"][0]["timestamp"], "2014-04-04 00:00:00");
    assert_eq!(v["forecast"][1]["h"], 2);
    let err = stderr_of(&env, &["forecast", "--input", p, "--horizon", "0"]);
    assert!(err.contains("--horizon must be between"), "{err}");
    let err = stderr_of(
        &env,
        &["forecast", "--input", p, "--horizon", "2", "--season", "x"],
    );
    assert!(err.contains("--season"), "{err}");
}
