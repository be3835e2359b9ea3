//! Loading scenario files: errors name the file and the field; scenario B is its own story.

use pagerpilot::demo::{Scenario, ScenarioError};

use super::{active, anchor, demo};

const MINIMAL: &str = r#"
name = "tiny"
seed = 1
history_hours = 2
step_secs = 60

[[series]]
metric = "up"
labels = { service = "a" }
base = 1.0

[[alerts]]
labels = { alertname = "A", severity = "warning", service = "a" }
start_min = -5
"#;

fn load_err(text: &str) -> String {
    match Scenario::from_toml(text, "my-scenario.toml") {
        Err(e @ (ScenarioError::Parse { .. } | ScenarioError::Invalid { .. })) => e.to_string(),
        Ok(_) => panic!("should fail:\n{text}"),
    }
}

#[test]
fn bad_scenarios_fail_with_the_origin_and_the_field() {
    assert!(Scenario::from_toml(MINIMAL, "my-scenario.toml").is_ok());
    let unknown = MINIMAL.replace("start_min = -5", "start_min = -5\nroot_cause = true");
    let msg = load_err(&unknown);
    assert!(
        msg.contains("my-scenario.toml") && msg.contains("root_cause"),
        "{msg}"
    );
    let smuggled = MINIMAL.replace(
        r#"service = "a" }"#,
        r#"service = "a", root_cause = "yes" }"#,
    );
    let msg = load_err(&smuggled);
    assert!(
        msg.contains("my-scenario.toml") && msg.contains("root_cause"),
        "{msg}"
    );
    for (from, to, field) in [
        ("history_hours = 2", "history_hours = -3", "history_hours"),
        ("step_secs = 60", "step_secs = \"sixty\"", "step_secs"),
        ("base = 1.0", "base = 1.0\nnoise = 4.0", "noise"),
        (
            r#"severity = "warning""#,
            r#"severity = "urgent""#,
            "severity",
        ),
        (
            "base = 1.0",
            "base = 1.0\neffects = [{ kind = \"wobble\", start_min = 0 }]",
            "kind",
        ),
        ("start_min = -5", "start_min = -5\nend_min = -10", "end_min"),
        (r#"metric = "up""#, r#"metric = "up-time""#, "metric"),
        ("start_min = -5", "start_min = -99999999999", "start_min"),
    ] {
        let msg = load_err(&MINIMAL.replace(from, to));
        assert!(
            msg.contains("my-scenario.toml") && msg.contains(field),
            "{field}: {msg}"
        );
    }
}

#[test]
fn scenario_b_is_a_different_story() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/scenario-b.toml"
    );
    let b = Scenario::from_path(std::path::Path::new(path)).expect("valid fixture");
    assert_ne!(b.name(), demo().name());
    assert!(b
        .topology()
        .iter()
        .any(|e| e.from == "api" && e.to == "cache"));
    let alerts = b.alerts_at(anchor(), anchor());
    let first_related = alerts
        .iter()
        .filter(|a| a.service() != Some("mailer"))
        .min_by_key(|a| a.starts_at)
        .expect("alerts");
    assert_eq!(first_related.name(), "CacheHighLatency");
    assert!(active(&alerts, "ApiHighLatency") && active(&alerts, "MailerQueueBacklog"));
    let t0 = anchor().timestamp();
    let day = b.series_at(anchor(), t0 - 24 * 3600, t0, 60);
    assert!(day.len() >= 8 && day.iter().all(|s| s.len() == 24 * 60 + 1));
    let missing = Scenario::from_path(std::path::Path::new("/nonexistent/scenario.toml"));
    assert!(missing.is_err_and(|e| e.to_string().contains("/nonexistent/scenario.toml")));
}
