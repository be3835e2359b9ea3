//! Grouping corrections: `m` (merge) and `X` (split) in the TUI become stored rules that the
//! analysis applies to later alerts; `scan` and `export` apply the rules stored in the database.

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use pagerpilot::analysis::corrections::{GroupingRule, RuleKind};
use pagerpilot::analysis::correlate::{build_incidents_with_rules, IncidentInput};
use pagerpilot::analysis::Analysis;
use pagerpilot::app::{update, App, Effect, Keymap, Msg, RunMode, Screen};
use pagerpilot::domain::alert::fingerprint;
use pagerpilot::domain::{Alert, AlertState, Incident, Labels};
use pagerpilot::store::Store;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 14, 0, 0)
        .single()
        .expect("valid date")
}

fn alert(name: &str, service: &str, start_min: i64) -> Alert {
    let mut labels = Labels::new();
    labels.insert("alertname".into(), name.into());
    labels.insert("service".into(), service.into());
    labels.insert("severity".into(), "critical".into());
    Alert {
        fingerprint: fingerprint(&labels),
        labels,
        annotations: Labels::new(),
        starts_at: t0() + chrono::Duration::minutes(start_min),
        ends_at: None,
        state: AlertState::Firing,
        generator_url: None,
    }
}

fn rule(kind: RuleKind, a: &str, b: &str) -> GroupingRule {
    GroupingRule {
        kind,
        a: a.into(),
        b: b.into(),
    }
}

fn incidents(alerts: &[Alert], rules: &[GroupingRule]) -> Vec<Incident> {
    let anomalies = BTreeMap::new();
    build_incidents_with_rules(
        &IncidentInput {
            now: t0() + chrono::Duration::minutes(30),
            alerts,
            transitions: &[],
            series: &[],
            anomalies: &anomalies,
            patterns: &[],
            topology: &[],
        },
        rules,
    )
}

fn names(i: &Incident) -> Vec<&str> {
    i.members.iter().map(|m| m.alertname.as_str()).collect()
}

#[test]
fn a_merge_rule_joins_unrelated_incidents_and_says_why() {
    let alerts = [alert("DbDown", "db", 0), alert("DiskFull", "search", 1)];
    assert_eq!(incidents(&alerts, &[]).len(), 2, "unrelated without a rule");

    let merged = incidents(
        &alerts,
        &[rule(RuleKind::Merge, "DiskFull@search", "DbDown@db")],
    );
    assert_eq!(merged.len(), 1, "{merged:#?}");
    assert_eq!(names(&merged[0]), ["DbDown", "DiskFull"]);
    let disk = &merged[0].members[1];
    assert!(
        disk.reason
            .starts_with("merged by your rule: merge DiskFull@search with DbDown@db"),
        "{}",
        disk.reason
    );
    assert!(merged[0].services.iter().any(|s| s == "search"));
    let db = &merged[0].members[0];
    assert!(
        !db.reason.contains("merged"),
        "the opener did not move: {}",
        db.reason
    );
}

#[test]
fn a_split_rule_keeps_an_alert_apart_and_a_later_merge_undoes_it() {
    let alerts = [alert("DbDown", "db", 0), alert("DbSlow", "db", 1)];
    assert_eq!(incidents(&alerts, &[]).len(), 1, "same service groups");

    let split = rule(RuleKind::Split, "DbSlow@db", "DbDown@db");
    let out = incidents(&alerts, std::slice::from_ref(&split));
    assert_eq!(out.len(), 2, "{out:#?}");
    let alone = out
        .iter()
        .find(|i| names(i) == ["DbSlow"])
        .expect("DbSlow on its own");
    assert!(alone.members[0]
        .reason
        .starts_with("split out by your rule"));

    let undo = rule(RuleKind::Merge, "DbSlow@db", "DbDown@db");
    assert_eq!(incidents(&alerts, &[split, undo]).len(), 1);
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn app_with(alerts: Vec<Alert>) -> App {
    let mut app = App::new(RunMode::Demo, Keymap::embedded(), t0());
    let found = incidents(&alerts, &[]);
    app.data.alerts = alerts;
    app.analysis = Some(Analysis {
        generated_at: t0(),
        incidents: found,
        ..Analysis::default()
    });
    app
}

fn saved_rule(effects: &[Effect]) -> Option<GroupingRule> {
    effects.iter().find_map(|e| match e {
        Effect::SaveGroupingRule(r) => Some(r.clone()),
        _ => None,
    })
}

#[test]
fn m_marks_then_merges_and_the_stored_rule_regroups() {
    let mut app = app_with(vec![
        alert("DbDown", "db", 0),
        alert("DiskFull", "search", 1),
    ]);
    assert!(
        saved_rule(&update(&mut app, key('m'))).is_none(),
        "first m marks"
    );
    assert!(app.merge_mark.is_some());
    update(&mut app, key('j'));
    let r = saved_rule(&update(&mut app, key('m'))).expect("second m proposes the rule");
    assert_eq!(r.kind, RuleKind::Merge);
    let mut pair = [r.a.as_str(), r.b.as_str()];
    pair.sort_unstable();
    assert_eq!(pair, ["DbDown@db", "DiskFull@search"]);

    // Only once the store answers does the rule take effect, with an analysis that carries it.
    app.now = t0() + chrono::Duration::minutes(5);
    let effects = update(&mut app, Msg::GroupingRuleSaved(Ok(r.clone())));
    assert_eq!(app.grouping_rules, vec![r.clone()]);
    let snapshot = effects
        .iter()
        .find_map(|e| match e {
            Effect::Analyze { snapshot, .. } => Some(snapshot),
            _ => None,
        })
        .expect("regroup now");
    assert_eq!(snapshot.grouping_rules, vec![r]);
}

#[test]
fn esc_clears_the_merge_mark_and_a_failed_save_changes_nothing() {
    let mut app = app_with(vec![
        alert("DbDown", "db", 0),
        alert("DiskFull", "search", 1),
    ]);
    update(&mut app, key('m'));
    update(&mut app, code(KeyCode::Esc));
    assert!(app.merge_mark.is_none());
    let effects = update(&mut app, Msg::GroupingRuleSaved(Err("disk full".into())));
    assert!(effects.is_empty());
    assert!(app.grouping_rules.is_empty());
    let notice = app.notice.as_ref().expect("an error notice");
    assert!(notice.text.contains("disk full"), "{}", notice.text);
}

#[test]
fn x_asks_for_an_alert_name_and_proposes_a_split() {
    let mut app = app_with(vec![alert("DbDown", "db", 0), alert("DbSlow", "db", 1)]);
    update(&mut app, code(KeyCode::Enter));
    assert!(matches!(app.screen, Screen::Detail { .. }));
    update(&mut app, key('X'));
    for c in "nosuch".chars() {
        update(&mut app, key(c));
    }
    let effects = update(&mut app, code(KeyCode::Enter));
    assert!(
        saved_rule(&effects).is_none(),
        "an unknown name proposes nothing"
    );
    assert!(app
        .notice
        .as_ref()
        .is_some_and(|n| n.text.contains("nosuch")));

    update(&mut app, key('X'));
    for c in "dbslow".chars() {
        update(&mut app, key(c));
    }
    let r = saved_rule(&update(&mut app, code(KeyCode::Enter))).expect("split proposed");
    assert_eq!(r, rule(RuleKind::Split, "DbSlow@db", "DbDown@db"));
}

#[test]
fn rules_are_stored_in_order_and_scan_applies_them() {
    let env = common::Env::new();
    let db = env.db();
    let before: serde_json::Value = serde_json::from_str(&env.ok(&[
        "scan",
        "--demo",
        "--format",
        "json",
        "--db",
        db.to_str().expect("utf-8"),
    ]))
    .expect("scan JSON");
    let list = before.as_array().expect("incidents");
    assert!(list.len() >= 2, "the demo has several incidents: {before}");
    let opener = |i: &serde_json::Value| {
        let m = &i["alerts"][0];
        format!(
            "{}@{}",
            m["name"].as_str().expect("alert name"),
            m["service"].as_str().unwrap_or("-")
        )
    };
    let (a, b) = (opener(&list[0]), opener(&list[1]));

    let store = Store::open(&db).expect("open");
    let h = store.handle();
    h.add_grouping_rule(rule(RuleKind::Merge, &a, &b), "alice")
        .expect("add");
    h.add_grouping_rule(rule(RuleKind::Split, "X@x", &a), "alice")
        .expect("add");
    assert_eq!(
        h.grouping_rules().expect("list"),
        vec![
            rule(RuleKind::Merge, &a, &b),
            rule(RuleKind::Split, "X@x", &a)
        ]
    );
    store.close().expect("close");

    let after: serde_json::Value = serde_json::from_str(&env.ok(&[
        "scan",
        "--demo",
        "--format",
        "json",
        "--db",
        db.to_str().expect("utf-8"),
    ]))
    .expect("scan JSON");
    let after_list = after.as_array().expect("incidents");
    assert_eq!(after_list.len(), list.len() - 1, "{after}");
    assert!(after.to_string().contains("merged by your rule"), "{after}");
}
