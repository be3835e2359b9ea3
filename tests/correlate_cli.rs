//! `pagerpilot correlate`: the JSON and table contracts and input handling, through the binary.

mod common;

use std::path::PathBuf;

use common::Env;
use serde_json::{json, Value};

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let p = env.path().join(name);
    std::fs::write(&p, text).expect("write input");
    p
}

/// One alert as Alertmanager's `/api/v2/alerts` returns it (with the fields pagerpilot ignores).
fn am_alert(
    name: &str,
    service: &str,
    severity: &str,
    minute: u32,
    extra: &[(&str, &str)],
) -> Value {
    let mut labels = json!({"alertname": name, "service": service, "severity": severity});
    for (k, v) in extra {
        labels[*k] = json!(v);
    }
    json!({
        "annotations": {"summary": format!("{name} on {service}")},
        "endsAt": "2026-11-25T15:30:00.000Z",
        "fingerprint": format!("{:016x}", u64::from(minute) * 7919 + name.len() as u64),
        "receivers": [{"name": "oncall"}],
        "startsAt": format!("2026-11-25T14:{minute:02}:00.000Z"),
        "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
        "updatedAt": "2026-11-25T14:30:00.000Z",
        "generatorURL": "http://prometheus:9090/graph",
        "labels": labels
    })
}

/// A payments-db cascade (db, checkout-api, web) and an unrelated disk alert on search.
fn alerts() -> Value {
    json!([
        am_alert("CheckoutLatencyHigh", "checkout-api", "warning", 3, &[]),
        am_alert("PaymentsDbPoolSaturated", "payments-db", "critical", 1, &[]),
        am_alert("WebErrorRate", "web", "critical", 5, &[]),
        am_alert(
            "DiskFillingUp",
            "search",
            "warning",
            2,
            &[("instance", "search-1:9100")]
        ),
    ])
}

const TOPOLOGY: &str = r#"
[[topology]]
from = "web"
to = "checkout-api"

[[topology]]
from = "checkout-api"
to = "payments-db"
"#;

fn correlate_json(env: &Env, input: &str, topology: Option<&str>) -> Value {
    let input = write(env, "alerts.json", input);
    let mut args = vec![
        "correlate",
        "--input",
        input.to_str().expect("utf-8"),
        "--format",
        "json",
    ];
    let topo;
    if let Some(t) = topology {
        topo = write(env, "topology.toml", t);
        args.extend(["--topology", topo.to_str().expect("utf-8")]);
    }
    serde_json::from_str(&env.ok(&args)).expect("correlate prints JSON")
}

fn members(incident: &Value) -> Vec<&str> {
    incident["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["alertname"].as_str().expect("alertname"))
        .collect()
}

#[test]
fn json_groups_the_cascade_names_the_db_and_keeps_the_disk_apart() {
    let env = Env::new();
    let out = correlate_json(&env, &alerts().to_string(), Some(TOPOLOGY));
    assert_eq!(out["alerts"], 4);
    assert_eq!(out["active_alerts"], 4);
    assert_eq!(out["incident_count"], 2);
    assert_eq!(out["reduction"], 2.0);
    let incidents = out["incidents"].as_array().expect("incidents");
    let cascade = incidents
        .iter()
        .find(|i| members(i).contains(&"WebErrorRate"))
        .expect("cascade incident");
    let mut names = members(cascade);
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "CheckoutLatencyHigh",
            "PaymentsDbPoolSaturated",
            "WebErrorRate"
        ]
    );
    assert_eq!(cascade["rank"], 1, "three services, critical: ranked first");
    let parts: f64 = cascade["score_parts"]
        .as_object()
        .expect("score parts")
        .values()
        .map(|v| v.as_f64().expect("number"))
        .sum();
    let score = cascade["score"].as_f64().expect("score");
    assert!(
        (parts - score).abs() < 0.01,
        "parts {parts} vs score {score}"
    );
    // Every member carries its fingerprint and a reason.
    for m in cascade["members"].as_array().expect("members") {
        assert_eq!(m["fingerprint"].as_str().map(str::len), Some(16));
        assert!(!m["reason"].as_str().expect("reason").is_empty());
    }
    let checkout = cascade["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["alertname"] == "CheckoutLatencyHigh")
        .expect("checkout member");
    let reason = checkout["reason"].as_str().expect("reason");
    assert!(
        reason.contains("checkout-api calls payments-db"),
        "{reason}"
    );
    assert!(
        reason.contains("2 m after PaymentsDbPoolSaturated"),
        "{reason}"
    );
    // Cause candidates: the db first, with confidence and evidence of both kinds.
    let cands = cascade["candidates"].as_array().expect("candidates");
    assert_eq!(cands[0]["service"], "payments-db");
    assert_eq!(cands[0]["alert"], "PaymentsDbPoolSaturated");
    let conf: Vec<f64> = cands
        .iter()
        .map(|c| c["confidence"].as_f64().expect("conf"))
        .collect();
    assert!(conf.windows(2).all(|w| w[0] >= w[1]), "{conf:?}");
    assert!(conf.iter().sum::<f64>() <= 1.0 + 1e-9);
    let kinds: Vec<&str> = cands[0]["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert!(
        kinds.contains(&"fact") && kinds.contains(&"guess"),
        "{kinds:?}"
    );
    let disk = incidents
        .iter()
        .find(|i| members(i) == ["DiskFillingUp"])
        .expect("disk incident alone");
    assert_eq!(disk["rank"], 2);
}

#[test]
fn without_topology_unrelated_services_are_not_merged_but_label_edges_are_used() {
    let env = Env::new();
    let out = correlate_json(&env, &alerts().to_string(), None);
    assert_eq!(
        out["incident_count"], 4,
        "no graph: four services, four incidents"
    );
    // The same alerts, with the dependency stated in labels instead of a file.
    let with_labels = json!([
        am_alert(
            "CheckoutLatencyHigh",
            "checkout-api",
            "warning",
            3,
            &[("peer_service", "payments-db")]
        ),
        am_alert("PaymentsDbPoolSaturated", "payments-db", "critical", 1, &[]),
    ]);
    let out = correlate_json(&env, &with_labels.to_string(), None);
    assert_eq!(out["incident_count"], 1);
    assert_eq!(
        out["incidents"][0]["candidates"][0]["service"],
        "payments-db"
    );
}

#[test]
fn resolved_and_duplicate_alerts_do_not_open_incidents() {
    let env = Env::new();
    let mut list = alerts();
    let arr = list.as_array_mut().expect("array");
    let dup = arr[0].clone();
    arr.push(dup);
    let mut resolved = am_alert("OldThing", "legacy", "critical", 0, &[]);
    resolved["endsAt"] = json!("2026-11-25T14:10:00.000Z");
    resolved["status"]["state"] = json!("resolved");
    arr.push(resolved);
    let out = correlate_json(&env, &list.to_string(), Some(TOPOLOGY));
    assert_eq!(out["alerts"], 6);
    assert_eq!(out["active_alerts"], 4);
    assert_eq!(out["incident_count"], 2);
}

#[test]
fn table_shows_reasons_and_candidates_with_facts_and_guesses() {
    let env = Env::new();
    let input = write(&env, "alerts.json", &alerts().to_string());
    let topo = write(&env, "topology.toml", TOPOLOGY);
    let out = env.ok(&[
        "correlate",
        "--input",
        input.to_str().expect("utf-8"),
        "--topology",
        topo.to_str().expect("utf-8"),
    ]);
    assert!(
        out.starts_with("4 alerts, 4 active, 2 incidents (2.0 alerts per incident)"),
        "{out}"
    );
    assert!(out.contains("1. payments-db"), "{out}");
    assert!(out.contains("fact "), "{out}");
    assert!(out.contains("guess upstream of"), "{out}");
    assert!(out.contains("checkout-api calls payments-db"), "{out}");
}

#[test]
fn empty_array_is_no_incidents() {
    let env = Env::new();
    let out = correlate_json(&env, "[]", None);
    assert_eq!(out["incident_count"], 0);
    assert_eq!(out["incidents"], json!([]));
}

fn fails(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn malformed_input_is_a_clear_error_naming_file_and_problem() {
    let env = Env::new();
    let cases: &[(&str, &str)] = &[
        ("{not json", "not valid JSON"),
        (
            "{\"status\":\"success\"}",
            "expected a JSON array of alerts",
        ),
        (
            "[{\"labels\":{\"alertname\":\"X\"}}]",
            "alert #0 (X): missing field `startsAt`",
        ),
        ("[{\"labels\":{},\"startsAt\":\"yesterday\"}]", "alert #0"),
        (
            "[{\"labels\":{\"a\":1},\"startsAt\":\"2026-11-25T14:00:00Z\"}]",
            "invalid type",
        ),
        ("[42]", "alert #0: expected an object, found a number"),
    ];
    for (text, problem) in cases {
        let p = write(&env, "bad.json", text);
        let err = fails(&env, &["correlate", "--input", p.to_str().expect("utf-8")]);
        assert!(err.contains("bad.json"), "{text}: {err}");
        assert!(err.contains(problem), "{text}: {err}");
    }
    let missing = env.path().join("nope.json");
    let err = fails(
        &env,
        &["correlate", "--input", missing.to_str().expect("utf-8")],
    );
    assert!(
        err.contains("cannot read") && err.contains("nope.json"),
        "{err}"
    );
    let good = write(&env, "good.json", "[]");
    let topo = write(
        &env,
        "topo.toml",
        "[[topology]]\nfrom = \"a\"\nsideways = 1\n",
    );
    let err = fails(
        &env,
        &[
            "correlate",
            "--input",
            good.to_str().expect("utf-8"),
            "--topology",
            topo.to_str().expect("utf-8"),
        ],
    );
    assert!(err.contains("topo.toml"), "{err}");
}

#[test]
fn seen_before_comes_from_the_alert_history_database() {
    use chrono::{DateTime, Duration, Utc};
    use pagerpilot::domain::{AlertEvent, HistoryState, Labels, Severity};
    let env = Env::new();
    let t0 = DateTime::parse_from_rfc3339("2026-11-25T14:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let event = |name: &str, svc: &str, state, at: DateTime<Utc>| AlertEvent {
        at,
        fingerprint: format!("{name}-{svc}"),
        alertname: name.into(),
        service: Some(svc.into()),
        severity: Severity::Critical,
        state,
        starts_at: at,
        labels: Labels::new(),
        note: None,
    };
    let mut events = Vec::new();
    for days in [3, 10] {
        let at = t0 - Duration::days(days);
        events.push(event(
            "PaymentsDbPoolSaturated",
            "payments-db",
            HistoryState::Firing,
            at,
        ));
        events.push(event(
            "WebErrorRate",
            "web",
            HistoryState::Firing,
            at + Duration::minutes(4),
        ));
        let mut r = event(
            "PaymentsDbPoolSaturated",
            "payments-db",
            HistoryState::Resolved,
            at + Duration::hours(1),
        );
        r.note = Some("runbook payments-db-pool".into());
        events.push(r);
        events.push(event(
            "WebErrorRate",
            "web",
            HistoryState::Resolved,
            at + Duration::hours(1),
        ));
    }
    let db = env.db();
    let store = pagerpilot::store::Store::open(&db).expect("open");
    store.handle().record_alerts(events).expect("record");
    store.close().expect("close");
    let input = write(&env, "alerts.json", &alerts().to_string());
    let topo = write(&env, "topology.toml", TOPOLOGY);
    let out = env.ok(&[
        "correlate",
        "--input",
        input.to_str().expect("utf-8"),
        "--topology",
        topo.to_str().expect("utf-8"),
        "--db",
        db.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).expect("json");
    let cascade = &v["incidents"][0];
    assert_eq!(cascade["seen_before"]["tag"], "Rare", "{cascade:#}");
    assert_eq!(cascade["seen_before"]["times"], 2);
    assert_eq!(
        cascade["seen_before"]["text"],
        "seen 2 times in 30 days; last resolved by runbook payments-db-pool"
    );
    assert_eq!(v["incidents"][1]["seen_before"]["tag"], "New");
    // Without a database the field is null and nothing is created.
    let fresh = Env::new();
    let out = correlate_json(&fresh, &alerts().to_string(), None);
    assert!(out["incidents"][0]["seen_before"].is_null());
    assert!(!fresh.db().exists());
}

#[test]
fn stored_merge_and_split_rules_from_db_regroup_the_alerts() {
    use pagerpilot::analysis::corrections::{GroupingRule, RuleKind};
    let env = Env::new();
    let db = env.db();
    let store = pagerpilot::store::Store::open(&db).expect("open");
    let h = store.handle();
    let rule = |kind, a: &str, b: &str| GroupingRule {
        kind,
        a: a.into(),
        b: b.into(),
    };
    // Join the unrelated disk alert to the cascade, and take the web alert out of it.
    h.add_grouping_rule(
        rule(
            RuleKind::Merge,
            "DiskFillingUp@search",
            "PaymentsDbPoolSaturated@payments-db",
        ),
        "alice",
    )
    .expect("add merge");
    h.add_grouping_rule(
        rule(
            RuleKind::Split,
            "WebErrorRate@web",
            "PaymentsDbPoolSaturated@payments-db",
        ),
        "alice",
    )
    .expect("add split");
    store.close().expect("close");
    let input = write(&env, "alerts.json", &alerts().to_string());
    let topo = write(&env, "topology.toml", TOPOLOGY);
    let out = env.ok(&[
        "correlate",
        "--input",
        input.to_str().expect("utf-8"),
        "--topology",
        topo.to_str().expect("utf-8"),
        "--db",
        db.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).expect("json");
    let incidents = v["incidents"].as_array().expect("incidents");
    let mut groups: Vec<Vec<&str>> = incidents
        .iter()
        .map(|i| {
            let mut m = members(i);
            m.sort_unstable();
            m
        })
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        vec![
            vec![
                "CheckoutLatencyHigh",
                "DiskFillingUp",
                "PaymentsDbPoolSaturated"
            ],
            vec!["WebErrorRate"],
        ],
        "{v:#}"
    );
    let reason_of = |name: &str| -> String {
        incidents
            .iter()
            .flat_map(|i| i["members"].as_array().expect("members"))
            .find(|m| m["alertname"] == name)
            .and_then(|m| m["reason"].as_str())
            .expect("member reason")
            .to_string()
    };
    assert!(
        reason_of("DiskFillingUp").contains("merged by your rule"),
        "{}",
        reason_of("DiskFillingUp")
    );
    assert!(
        reason_of("WebErrorRate").contains("split out by your rule"),
        "{}",
        reason_of("WebErrorRate")
    );
    // Without the database the same input keeps its usual grouping.
    let plain = correlate_json(&Env::new(), &alerts().to_string(), Some(TOPOLOGY));
    assert_eq!(plain["incident_count"], 2);
}
