//! The example inputs the README points at (`assets/examples/`) keep working with the commands
//! it shows.

mod common;

use common::Env;

fn example(name: &str) -> String {
    format!("{}/assets/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn correlate_example_groups_the_cascade_and_names_the_database() {
    let env = Env::new();
    let out = env.ok(&[
        "correlate",
        "--input",
        &example("alerts.json"),
        "--topology",
        &example("topology.toml"),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("correlate JSON");
    let incidents = v["incidents"].as_array().expect("incidents");
    assert_eq!(
        incidents.len(),
        2,
        "the cascade and the unrelated disk: {out}"
    );
    let top = &incidents[0];
    let text = top.to_string();
    assert!(
        text.contains("PaymentsDbPoolSaturated") && text.contains("WebErrorRate"),
        "{text}"
    );
    assert!(!text.contains("DiskFillingUp"), "{text}");
    assert_eq!(top["candidates"][0]["service"], "payments-db", "{text}");
}

#[test]
fn detect_example_scores_the_spike_highest_and_forecast_continues_hourly() {
    let env = Env::new();
    let out = env.ok(&["detect", "--input", &example("cpu.csv")]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 14 * 24, "one score per input row");
    let (best, _) = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r[2].parse::<f64>().expect("score")))
        .fold((0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    assert_eq!(best, 14 * 24 - 10, "the injected spike row scores highest");

    let fc = env.ok(&["forecast", "--input", &example("cpu.csv"), "--horizon", "2"]);
    let lines: Vec<&str> = fc.lines().collect();
    assert_eq!(lines[0], "h,timestamp,point,lo,hi");
    let last_ts: i64 = rows.last().expect("rows")[0].parse().expect("ts");
    let first: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(first[1].parse::<i64>().expect("ts"), last_ts + 3600);
}
