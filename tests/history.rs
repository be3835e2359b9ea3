//! Alert history: stored state changes survive resolution and `pagerpilot history` shows them.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{Env, AT};
use pagerpilot::domain::alert::fingerprint;
use pagerpilot::domain::{Alert, AlertEvent, AlertState, HistoryState, Labels};
use pagerpilot::store::{Store, SCHEMA_VERSION};
use serde_json::Value;

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(AT)
        .expect("valid time")
        .with_timezone(&Utc)
}

fn alert(name: &str, service: &str) -> Alert {
    let mut labels = Labels::new();
    labels.insert("alertname".into(), name.into());
    labels.insert("service".into(), service.into());
    labels.insert("severity".into(), "critical".into());
    Alert {
        fingerprint: fingerprint(&labels),
        labels,
        annotations: Labels::new(),
        starts_at: at() - Duration::hours(30),
        ends_at: None,
        state: AlertState::Firing,
        generator_url: None,
    }
}

fn seed(env: &Env) -> Alert {
    let db = alert("PaymentsDbPoolSaturated", "payments-db");
    let old = alert("OldDiskAlert", "search");
    let mut events = vec![
        AlertEvent::of(&old, HistoryState::Firing, at() - Duration::days(9)),
        AlertEvent::of(&db, HistoryState::Firing, at() - Duration::hours(30)),
        AlertEvent::of(&db, HistoryState::Silenced, at() - Duration::hours(29)),
        AlertEvent::of(&db, HistoryState::Acked, at() - Duration::hours(28)),
        AlertEvent::of(&db, HistoryState::Resolved, at() - Duration::hours(2)),
    ];
    events[3].note = Some("alice".into());
    events[4].note = Some("runbook payments-db-pool".into());
    let store = Store::open(&env.db()).expect("open store");
    assert_eq!(store.handle().record_alerts(events).expect("record"), 5);
    store.close().expect("close");
    db
}

#[test]
fn history_survives_resolution_and_filters_by_age() {
    let env = Env::new();
    let db_alert = seed(&env);
    let db = env.db();
    let db = db.to_str().expect("utf-8");
    let out = env.ok(&["history", "--db", db, "--at", AT, "--format", "json"]);
    let rows: Value = serde_json::from_str(&out).expect("json");
    let rows = rows.as_array().expect("array");
    let states: Vec<&str> = rows
        .iter()
        .map(|r| r["state"].as_str().expect("state"))
        .collect();
    assert_eq!(
        states,
        ["firing", "silenced", "acked", "resolved"],
        "7 d default"
    );
    assert!(rows
        .iter()
        .all(|r| r["fingerprint"] == db_alert.fingerprint.as_str()));
    assert_eq!(rows[3]["note"], "runbook payments-db-pool");
    let all = env.ok(&["history", "--db", db, "--at", AT, "--since", "10d"]);
    assert!(all.contains("OldDiskAlert"), "{all}");
    assert!(all.contains("5 changes of 2 alerts"), "{all}");
    let recent = env.ok(&["history", "--db", db, "--at", AT, "--since", "3h"]);
    assert!(
        recent.contains("resolved") && !recent.contains("firing  "),
        "{recent}"
    );
    let one = env.ok(&[
        "history",
        "--db",
        db,
        "--at",
        AT,
        "--since",
        "10d",
        "--alert",
        "OldDiskAlert",
    ]);
    assert!(one.contains("1 changes of 1 alerts"), "{one}");
}

#[test]
fn missing_database_is_empty_and_bad_since_is_an_error() {
    let env = Env::new();
    let db = env.path().join("none.db");
    let db = db.to_str().expect("utf-8");
    let out = env.ok(&["history", "--db", db, "--at", AT]);
    assert!(out.contains("no alert state changes recorded"), "{out}");
    assert!(
        !env.path().join("none.db").exists(),
        "reading does not create the file"
    );
    let bad = env.run(&["history", "--db", db, "--since", "7 days"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--since \"7 days\""), "{err}");
}

#[test]
fn history_table_is_append_only_and_versioned() {
    let env = Env::new();
    seed(&env);
    let conn = rusqlite::Connection::open(env.db()).expect("open");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let err = conn
        .execute("UPDATE alert_history SET state = 'firing'", [])
        .expect_err("append-only");
    assert!(err.to_string().contains("append-only"), "{err}");
    let bad = conn.execute(
        "INSERT INTO alert_history (ts, fingerprint, alertname, severity, state, starts_at, labels) \
         VALUES ('x', 'f', 'a', 'warning', 'exploded', 'x', '{}')",
        [],
    );
    assert!(bad.is_err(), "unknown states are refused");
}

#[test]
fn repeated_states_are_not_stored_twice_but_acks_are() {
    let env = Env::new();
    let a = alert("X", "svc");
    let store = Store::open(&env.db()).expect("open");
    let h = store.handle();
    let t = at() - Duration::hours(1);
    let firing = AlertEvent::of(&a, HistoryState::Firing, t);
    assert_eq!(h.record_alerts(vec![firing.clone()]).expect("first"), 1);
    // A restart sees the same firing alert again: nothing new.
    assert_eq!(h.record_alerts(vec![firing.clone()]).expect("again"), 0);
    let ack = AlertEvent::of(&a, HistoryState::Acked, t + Duration::minutes(1));
    assert_eq!(h.record_alerts(vec![ack.clone(), ack]).expect("acks"), 2);
    let resolved = AlertEvent::of(&a, HistoryState::Resolved, t + Duration::minutes(2));
    assert_eq!(h.record_alerts(vec![resolved, firing]).expect("flap"), 2);
    let rows = h.alert_history(t - Duration::minutes(1)).expect("read");
    assert_eq!(rows.len(), 5);
    store.close().expect("close");
}

/// `A` acks the open incident's alerts (stored through the outbox); the ack ends when an alert
/// resolves and its age shows in the header text.
#[test]
fn ack_key_lasts_until_the_alert_resolves() {
    use pagerpilot::app::msg::{Msg, PollData};
    use pagerpilot::app::update::on_action;
    use pagerpilot::app::{Action, Screen};
    use pagerpilot::sources::SourceKind;
    use pagerpilot::ui::fixture::sample_app;
    use pagerpilot::ui::screens::detail::ack_text;

    let mut app = sample_app();
    let inc = app
        .analysis
        .as_ref()
        .and_then(|a| a.incidents.first().cloned())
        .expect("fixture incident");
    app.screen = Screen::Detail {
        incident_id: inc.id.clone(),
    };
    app.data.history_outbox.clear();
    on_action(&mut app, Action::Ack);
    assert_eq!(app.acks.len(), inc.members.len());
    assert_eq!(app.data.history_outbox.len(), inc.members.len());
    assert!(app
        .data
        .history_outbox
        .iter()
        .all(|e| e.state == HistoryState::Acked && e.note.as_deref() == Some("alice")));
    // Acking again adds nothing.
    on_action(&mut app, Action::Ack);
    assert_eq!(app.data.history_outbox.len(), inc.members.len());
    app.now += Duration::minutes(12);
    assert_eq!(ack_text(&app, &inc).as_deref(), Some("ACK 12 m (alice)"));
    // The first alert resolves (disappears from the poll): its ack ends, the others hold.
    let gone = inc.members[0].fingerprint.clone();
    let remaining: Vec<Alert> = app
        .data
        .alerts
        .iter()
        .filter(|a| a.fingerprint != gone)
        .cloned()
        .collect();
    let now = app.now;
    pagerpilot::app::update(
        &mut app,
        Msg::Polled {
            source: SourceKind::Alertmanager,
            generation: 99,
            at: now,
            elapsed_ms: 1,
            result: Ok(PollData::Alerts(remaining)),
        },
    );
    assert!(!app.acks.contains_key(&gone));
    assert_eq!(app.acks.len(), inc.members.len() - 1);
    assert!(app
        .data
        .history_outbox
        .iter()
        .any(|e| e.fingerprint == gone && e.state == HistoryState::Resolved));
    let text = ack_text(&app, &inc).expect("partly acked");
    assert!(
        text.starts_with(&format!(
            "ACK {}/{}",
            inc.members.len() - 1,
            inc.members.len()
        )),
        "{text}"
    );
}
