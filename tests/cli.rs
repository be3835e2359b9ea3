//! The headless front ends, run as the real binary: `scan`, `export`, `log`, `themes`.

mod common;

use common::{Env, AT};
use serde_json::Value;

fn scan_json(env: &Env, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["scan", "--demo", "--format", "json", "--at", AT];
    args.extend_from_slice(extra);
    let out = env.ok(&args);
    let v: Value = serde_json::from_str(&out).expect("scan prints JSON");
    v.as_array().expect("a JSON list of incidents").clone()
}

fn incident_with<'a>(incidents: &'a [Value], alertname: &str) -> &'a Value {
    incidents
        .iter()
        .find(|i| {
            i["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["name"] == alertname))
        })
        .unwrap_or_else(|| panic!("no incident holds {alertname}: {incidents:#?}"))
}

fn names(incident: &Value) -> Vec<String> {
    incident["alerts"]
        .as_array()
        .expect("alerts list")
        .iter()
        .map(|a| a["name"].as_str().expect("alert name").to_string())
        .collect()
}

fn id_of_cascade(env: &Env) -> String {
    let incidents = scan_json(env, &[]);
    incident_with(&incidents, "CheckoutApiHighLatency")["id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[test]
fn scan_json_lists_the_log_patterns_that_changed_on_an_incidents_services() {
    let env = Env::new();
    let incidents = scan_json(&env, &[]);
    let cascade = incident_with(&incidents, "CheckoutApiHighLatency");
    let patterns = cascade["log_patterns"]
        .as_array()
        .expect("log_patterns list");
    let find = |change: &str, needle: &str| {
        patterns.iter().find(|p| {
            p["change"] == change && p["template"].as_str().is_some_and(|t| t.contains(needle))
        })
    };
    let fatal = find("new", "remaining connection slots").expect("the new FATAL pattern");
    assert_eq!(fatal["service"], "payments-db");
    assert!(fatal["count"].as_u64().is_some_and(|n| n > 0), "{fatal}");
    let retries = find("surge", "retrying payment provider call").expect("the retry surge");
    assert_eq!(retries["service"], "checkout-api");
    assert!(
        retries["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("surging log pattern on checkout-api")),
        "{retries}"
    );
    // Oldest change first, each dated in RFC 3339.
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = patterns
        .iter()
        .map(|p| {
            chrono::DateTime::parse_from_rfc3339(p["at"].as_str().expect("at")).expect("RFC 3339")
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // An incident on services without changed patterns lists none.
    let lag = incident_with(&incidents, "SearchReplicaLag");
    assert_eq!(lag["log_patterns"].as_array().map(Vec::len), Some(0));
}

#[test]
fn scan_json_has_the_documented_shape() {
    let env = Env::new();
    let incidents = scan_json(&env, &[]);
    assert!(!incidents.is_empty(), "the demo has incidents");
    for (n, i) in incidents.iter().enumerate() {
        assert!(
            i["id"].as_str().is_some_and(|s| s.starts_with("INC-")),
            "{i}"
        );
        assert!(i["title"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(i["severity"].is_string());
        let score = i["score"].as_f64().expect("score");
        assert!((0.0..=1.0).contains(&score), "score {score}");
        if n > 0 {
            let prev = incidents[n - 1]["score"].as_f64().expect("score");
            assert!(prev >= score, "incidents are ranked by score");
        }
        for a in i["alerts"].as_array().expect("alerts") {
            assert!(a["fingerprint"].as_str().is_some_and(|f| f.len() == 16));
            assert!(a["name"].is_string());
        }
        assert!(i["runbooks"].is_array());
        let parts = i["score_parts"].as_object().expect("score_parts");
        let sum: f64 = parts.values().filter_map(Value::as_f64).sum();
        assert!(
            (sum - score).abs() < 0.01,
            "parts {parts:?} sum to the score {score}"
        );
    }
}

#[test]
fn the_demo_cascade_ranks_with_the_error_budget_burn_of_its_slo_services() {
    let env = Env::new();
    let incidents = scan_json(&env, &[]);
    let cascade = incident_with(&incidents, "CheckoutApiHighLatency");
    let burns = cascade["slo_burns"].as_array().expect("slo_burns");
    let services: Vec<&str> = burns.iter().filter_map(|b| b["service"].as_str()).collect();
    assert!(
        services.contains(&"checkout-api") && services.contains(&"web"),
        "{burns:?}"
    );
    for b in burns {
        assert_eq!(b["objective"].as_f64(), Some(0.995));
        // The demo's error ratios rise from about 0.3 % to several % during the cascade.
        assert!(b["burn_5m"].as_f64().is_some_and(|x| x > 5.0), "{b}");
    }
    let part = cascade["score_parts"]["slo burn"]
        .as_f64()
        .expect("slo burn part");
    assert!(
        part > 0.0 && part <= pagerpilot::analysis::rank::W_SLO + 1e-9,
        "{part}"
    );
    // Incidents of services without an SLO do not get the part.
    let disk = incident_with(&incidents, "NodeDiskFillingUp");
    assert!(disk["slo_burns"].as_array().is_some_and(Vec::is_empty));
    assert!(disk["score_parts"].get("slo burn").is_none(), "{disk}");
}

#[test]
fn the_cascade_is_one_incident_with_the_database_as_likely_cause() {
    let env = Env::new();
    let incidents = scan_json(&env, &[]);
    let cascade = incident_with(&incidents, "CheckoutApiHighLatency");
    let members = names(cascade);
    for expected in [
        "PaymentsDbPoolSaturated",
        "CheckoutApiErrorRate",
        "WebHigh5xxRate",
    ] {
        assert!(
            members.iter().any(|m| m == expected),
            "{expected} in {members:?}"
        );
    }
    assert!(
        !members
            .iter()
            .any(|m| m.starts_with("NodeDisk") || m == "SearchReplicaLag"),
        "unrelated alerts stay out: {members:?}"
    );
    let cause = &cascade["root_cause"];
    assert_eq!(cause["service"], "payments-db", "{cause:#}");
    let confidence = cause["confidence"].as_f64().expect("confidence");
    assert!(confidence > 0.3 && confidence <= 1.0, "{confidence}");
    assert!(
        cause["evidence"].as_array().is_some_and(|e| !e.is_empty()),
        "the cause says why"
    );
    let runbooks = cascade["runbooks"].as_array().expect("runbooks");
    assert_eq!(
        runbooks.first().map(|r| r["id"].clone()),
        Some(Value::from("payments-db-pool")),
        "the cause's runbook comes first: {runbooks:#?}"
    );
    let disk = incident_with(&incidents, "NodeDiskFillingUp");
    assert_ne!(disk["id"], cascade["id"], "the disk is its own incident");
}

#[test]
fn a_different_scenario_gives_a_different_answer() {
    let env = Env::new();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/scenario-b.toml"
    );
    let incidents = scan_json(&env, &["--scenario", file]);
    assert!(!incidents.is_empty());
    let causes: Vec<&str> = incidents
        .iter()
        .filter_map(|i| i["root_cause"]["service"].as_str())
        .collect();
    assert!(causes.contains(&"cache"), "{causes:?}");
    assert!(!causes.contains(&"payments-db"), "{causes:?}");
}

#[test]
fn scan_table_lists_ranked_incidents() {
    let env = Env::new();
    let out = env.ok(&["scan", "--demo", "--format", "table", "--at", AT]);
    let mut lines = out.lines();
    let header = lines.next().expect("header");
    assert!(
        header.contains("RANK") && header.contains("LIKELY CAUSE"),
        "{header}"
    );
    let first = lines.next().expect("a row");
    assert!(first.trim_start().starts_with('1'), "{first}");
    assert!(out.contains("INC-"), "{out}");
}

#[test]
fn export_writes_a_postmortem_draft_and_json_with_original_times() {
    let env = Env::new();
    let id = id_of_cascade(&env);
    let md = env.ok(&[
        "export",
        "--demo",
        "--incident",
        &id,
        "--format",
        "md",
        "--at",
        AT,
    ]);
    assert!(md.starts_with('#'), "{md}");
    assert!(md.contains(&id));
    assert!(md.contains("PaymentsDbPoolSaturated"));
    assert!(md.contains("Timeline"), "{md}");
    // The database alert started 52 minutes before the fixed clock.
    assert!(md.contains("13:08"), "original timestamps: {md}");

    let json = env.ok(&[
        "export",
        "--demo",
        "--incident",
        &id,
        "--format",
        "json",
        "--at",
        AT,
    ]);
    let v: Value = serde_json::from_str(&json).expect("export JSON");
    assert_eq!(v["incident"]["id"], Value::from(id.clone()));
    let events = v["events"].as_array().expect("events");
    assert!(events.iter().any(|e| e["kind"] == "alert_firing"));
    let times: Vec<chrono::DateTime<chrono::Utc>> = events
        .iter()
        .map(|e| {
            let at = e["at"].as_str().expect("event time");
            chrono::DateTime::parse_from_rfc3339(at)
                .expect("RFC 3339 event time")
                .to_utc()
        })
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "events in time order");

    let out = env.path().join("pm.md");
    let out_s = out.to_str().expect("utf-8 path");
    env.ok(&[
        "export",
        "--demo",
        "--incident",
        &id,
        "--output",
        out_s,
        "--at",
        AT,
    ]);
    let written = std::fs::read_to_string(&out).expect("export file");
    assert_eq!(written, md);
}

#[test]
fn export_includes_the_decisions_recorded_for_the_incident() {
    use chrono::{TimeZone, Utc};
    use pagerpilot::domain::remediation::{Decision, Mode, RemediationEntry};

    let env = Env::new();
    let id = id_of_cascade(&env);
    let db = env.db();
    let store = pagerpilot::store::Store::open(&db).expect("open store");
    for (step, decision) in [
        (0usize, Decision::Approved),
        (1, Decision::Skipped),
        (2, Decision::Approved),
    ] {
        let mut e = RemediationEntry::new(
            Utc.with_ymd_and_hms(2026, 11, 25, 13, 55, step as u32)
                .single()
                .expect("valid time"),
            "alice",
            "laptop",
            id.clone(),
            "payments-db-pool",
            step,
            format!("step {step}"),
            format!("echo step-{step}"),
            decision,
        );
        if step == 2 {
            // A real run that failed, with its output and a post-check.
            e.mode = Mode::Real;
            e.exit_code = Some(1);
            e.duration_ms = Some(1500);
            e.output = Some("ERROR: <permission denied>\n".into());
            e.output_digest = Some("ab".repeat(32));
            e.output_bytes = Some(27);
            e.note = Some("exit 1 in 1.5 s".into());
            e.display_name = Some("Alice (SRE)".into());
            e.checks = vec![pagerpilot::domain::remediation::CheckRecord {
                when: "post".into(),
                query: "up == 1".into(),
                result: "does not hold (empty result)".into(),
            }];
        }
        if step == 1 {
            e.note = Some("DBA already on it".into());
        }
        store.handle().append(e).expect("append");
    }
    store.close().expect("close");
    let db_s = db.to_str().expect("utf-8 path");
    let md = env.ok(&[
        "export",
        "--demo",
        "--incident",
        &id,
        "--db",
        db_s,
        "--at",
        AT,
    ]);
    assert!(
        md.contains("echo step-0") && md.contains("approved"),
        "{md}"
    );
    assert!(md.contains("skipped") && md.contains("13:55:01"), "{md}");
    assert!(md.contains("DBA already on it"), "the skip reason: {md}");
    assert!(
        md.contains("ran step 3")
            && md.contains("exit 1 in 1.5 s")
            && md.contains("Alice (SRE) (alice)"),
        "the real run with its outcome and operator: {md}"
    );
    assert!(md.contains("post check `up == 1`: does not hold"), "{md}");
    assert!(
        md.contains("ERROR: <permission denied>"),
        "output quoted: {md}"
    );
    assert!(
        md.contains("- [ ] Step 3 \"step 2\" of runbook payments-db-pool failed (exit 1 in 1.5 s)"),
        "{md}"
    );
    assert!(
        md.contains("- [ ] Step 2 \"step 1\" of runbook payments-db-pool was skipped"),
        "{md}"
    );
    let html = env.ok(&[
        "export",
        "--demo",
        "--incident",
        &id,
        "--db",
        db_s,
        "--at",
        AT,
        "--format",
        "html",
    ]);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("ERROR: &lt;permission denied&gt;"),
        "escaped output: {html}"
    );
    assert!(!html.contains("<permission"), "nothing unescaped: {html}");
    let listed = env.ok(&["log", "--db", db_s, "--incident", &id]);
    assert_eq!(listed.lines().count(), 4, "header and three rows: {listed}");
    assert!(listed.contains("exit 1 1.5s"), "{listed}");
}

#[test]
fn export_of_an_unknown_incident_names_it_and_lists_the_active_ones() {
    let env = Env::new();
    let out = env.run(&["export", "--demo", "--incident", "INC-nope", "--at", AT]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("INC-nope") && err.contains("INC-"), "{err}");
}

/// Someone edits a decision with the sqlite3 command-line tool (after dropping the trigger that
/// refuses UPDATE): `log --verify` names the row and exits 2.
#[test]
fn a_row_changed_with_the_sqlite3_cli_is_found_by_verify() {
    use pagerpilot::domain::remediation::{Decision, RemediationEntry};
    let env = Env::new();
    let db = env.db();
    let store = pagerpilot::store::Store::open(&db).expect("open store");
    for step in 0..3 {
        let e = RemediationEntry::new(
            chrono::Utc::now(),
            "alice",
            "laptop",
            "INC-1",
            "rb",
            step,
            "t",
            "echo hi",
            Decision::Approved,
        );
        store.handle().append(e).expect("append");
    }
    store.close().expect("close");
    let db_s = db.to_str().expect("utf-8 path");
    assert!(env
        .ok(&["log", "--verify", "--db", db_s])
        .starts_with("chain OK (3 rows;"));

    let refused = std::process::Command::new("sqlite3")
        .args([
            db_s,
            "UPDATE remediation_log SET decision = 'skipped' WHERE seq = 2;",
        ])
        .output()
        .expect("the sqlite3 CLI must be installed (./scripts/test installs it)");
    assert!(!refused.status.success(), "the trigger refuses UPDATE");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("append-only"));

    let edited = std::process::Command::new("sqlite3")
        .args([
            db_s,
            "DROP TRIGGER remediation_log_no_update; \
             UPDATE remediation_log SET decision = 'skipped' WHERE seq = 2;",
        ])
        .output()
        .expect("sqlite3");
    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    let out = env.run(&["log", "--verify", "--db", db_s]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("TAMPERED") && err.contains("#2") && err.contains("hash mismatch"),
        "{err}"
    );
}

#[test]
fn an_empty_log_verifies_and_lists_nothing() {
    let env = Env::new();
    let db = env.db();
    let db_s = db.to_str().expect("utf-8 path");
    let out = env.ok(&["log", "--db", db_s]);
    assert!(out.contains("no remediation decisions"), "{out}");
    let out = env.ok(&["log", "--verify", "--db", db_s]);
    assert!(out.starts_with("chain OK (0 rows)"), "{out}");
}

#[test]
fn bad_arguments_are_refused_with_a_clear_message() {
    let env = Env::new();
    let out = env.run(&["scan", "--format", "yaml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("yaml"));

    let out = env.run(&["scan", "--demo", "--at", "yesterday"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--at") && err.contains("yesterday"), "{err}");

    let bad = env.path().join("bad.toml");
    std::fs::write(&bad, "name = 3\n").expect("write");
    let out = env.run(&[
        "scan",
        "--scenario",
        bad.to_str().expect("utf-8"),
        "--at",
        AT,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
}

#[test]
fn themes_lists_the_builtin_ones() {
    let env = Env::new();
    let out = env.ok(&["themes"]);
    for t in ["dark", "light", "high-contrast"] {
        assert!(out.lines().any(|l| l == t), "{t} in {out}");
    }
}

#[test]
fn local_runbooks_are_suggested_and_a_broken_one_is_reported_not_fatal() {
    let env = Env::new();
    let dir = env
        .path()
        .join("config")
        .join("pagerpilot")
        .join("runbooks");
    std::fs::create_dir_all(&dir).expect("runbooks dir");
    std::fs::write(
        dir.join("search-lag.md"),
        "+++\ntitle = \"Search replica lag\"\nmatch = { alertname = \"SearchReplica.*\" }\n+++\n\
         Check the replica.\n\n## 1. Show lag\n\n```sh\ncurl -s localhost:9200/_cat/recovery\n```\n",
    )
    .expect("write runbook");
    std::fs::write(dir.join("broken.md"), "no front matter here\n").expect("write broken");
    let out = env.run(&["scan", "--demo", "--format", "json", "--at", AT]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.md"), "the broken file is named: {err}");
    let incidents: Vec<Value> = serde_json::from_slice::<Value>(&out.stdout)
        .expect("scan JSON")
        .as_array()
        .expect("list")
        .clone();
    let search = incident_with(&incidents, "SearchReplicaLag");
    let ids: Vec<&str> = search["runbooks"]
        .as_array()
        .expect("runbooks")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(ids.contains(&"search-lag"), "{ids:?}");
}

/// Secrets in commands, outputs and notes are redacted before they are stored, so no export
/// format can contain them.
#[test]
fn exports_contain_no_secrets() {
    use pagerpilot::domain::remediation::{Decision, Mode, RemediationEntry};
    use pagerpilot::store::redact::Redactor;
    let env = Env::new();
    let id = id_of_cascade(&env);
    let db = env.db();
    let configured = "tok-3f9a-configured-secret";
    let redactor = Redactor::new([configured.to_string()], vec![]);
    let store = pagerpilot::store::Store::open_with(&db, redactor).expect("open store");
    let mut e = RemediationEntry::new(
        chrono::Utc::now(),
        "alice",
        "laptop",
        id.clone(),
        "payments-db-pool",
        0,
        "Call the API",
        format!("curl -H 'Authorization: Bearer abc.def' https://api/?token={configured}"),
        Decision::Approved,
    );
    e.mode = Mode::Real;
    e.exit_code = Some(0);
    e.duration_ms = Some(10);
    e.output = Some(format!("PGPASSWORD=hunter2 ok\n{configured}\n"));
    e.note = Some("used password=hunter2".into());
    store.handle().append(e).expect("append");
    store.close().expect("close");
    let db_s = db.to_str().expect("utf-8 path");
    for format in ["md", "json", "html"] {
        let out = env.ok(&[
            "export",
            "--demo",
            "--incident",
            &id,
            "--db",
            db_s,
            "--at",
            AT,
            "--format",
            format,
        ]);
        assert!(out.contains("REDACTED"), "{format}: {out}");
        for secret in ["hunter2", "abc.def", configured] {
            assert!(!out.contains(secret), "{format} leaks {secret}: {out}");
        }
    }
}

#[test]
fn the_configured_sensitivity_reaches_the_analysis_of_scan() {
    let env = Env::new();
    let default = scan_json(&env, &[]);
    let dir = env.path().join("config").join("pagerpilot");
    std::fs::create_dir_all(&dir).expect("config dir");
    // 0.5 written out is the default: the same answer.
    std::fs::write(dir.join("config.toml"), "sensitivity = 0.5\n").expect("write config");
    assert_eq!(scan_json(&env, &[]), default);
    // The keenest setting counts far more points as anomalous, which moves onsets and grouping.
    std::fs::write(dir.join("config.toml"), "sensitivity = 1.0\n").expect("write config");
    let keen = scan_json(&env, &[]);
    assert_ne!(keen, default, "sensitivity 1.0 changed nothing");
}
