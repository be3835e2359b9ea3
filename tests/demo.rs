//! The embedded demo scenario and its replay through the source traits.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures::executor::block_on;
use pagerpilot::demo::Scenario;
use pagerpilot::domain::alert::fingerprint;
use pagerpilot::domain::{Alert, AlertState, LogEntry, LogStream, Series};
use pagerpilot::sources::replay::Replay;
use pagerpilot::sources::{AlertSource, FixedClock, LogSource, MetricsSource, SourceError};

#[path = "demo/files.rs"]
mod files;

const MIN: i64 = 60;
const NS: i64 = 1_000_000_000;

fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 14, 30, 0)
        .single()
        .expect("valid date")
}

fn demo() -> Scenario {
    Scenario::embedded().expect("embedded scenario is valid")
}

fn at(mins: i64) -> DateTime<Utc> {
    anchor() + TimeDelta::minutes(mins)
}

fn ns(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().expect("in range")
}

fn replay_at(scenario: &Scenario, now: DateTime<Utc>) -> Replay {
    Replay::new(
        Arc::new(scenario.clone()),
        anchor(),
        Arc::new(FixedClock(now)),
    )
}

fn find<'a>(series: &'a [Series], id: &str) -> &'a Series {
    series
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no series {id}"))
}

fn active(alerts: &[Alert], name: &str) -> bool {
    alerts
        .iter()
        .any(|a| a.name() == name && a.state == AlertState::Firing)
}

fn lines_with<'a>(streams: &'a [LogStream], needle: &str) -> Vec<&'a LogEntry> {
    streams
        .iter()
        .flat_map(|s| &s.entries)
        .filter(|e| e.line.contains(needle))
        .collect()
}

fn count(streams: &[LogStream]) -> usize {
    streams.iter().map(|s| s.entries.len()).sum()
}

#[test]
fn generation_is_deterministic_and_independent_of_the_window() {
    let (a, b) = (demo(), demo());
    let t0 = anchor().timestamp();
    let one = a.series_at(anchor(), t0 - 6 * 3600, t0, 60);
    assert_eq!(one, b.series_at(anchor(), t0 - 6 * 3600, t0, 60));
    // A shorter, differently placed window returns the same values at the same instants.
    let other = a.series_at(anchor(), t0 - 2 * 3600 + 17, t0 + 600, 60);
    let mut compared = 0;
    for s in &other {
        let full = find(&one, &s.id);
        for (t, v) in s.timestamps.iter().zip(&s.values) {
            if let Some(i) = full.timestamps.iter().position(|x| x == t) {
                assert_eq!(full.values[i].to_bits(), v.to_bits(), "{} at {t}", s.id);
                compared += 1;
            }
        }
    }
    assert!(compared > 20 * 100);
    assert_eq!(a.alerts_at(anchor(), at(-5)), b.alerts_at(anchor(), at(-5)));
    assert_eq!(
        a.logs_at(anchor(), ns(at(-30)), ns(anchor())),
        b.logs_at(anchor(), ns(at(-30)), ns(anchor()))
    );
    // Log lines do not depend on the window either.
    let wide = a.logs_at(anchor(), ns(at(-30)), ns(anchor()));
    let narrow = a.logs_at(anchor(), ns(at(-20)) + 123, ns(at(-10)));
    for s in &narrow {
        let w = wide
            .iter()
            .find(|x| x.labels == s.labels)
            .expect("same stream");
        for e in &s.entries {
            assert!(w.entries.contains(e), "{e:?}");
        }
    }
}

#[test]
fn at_least_twenty_series_with_72h_of_minute_history() {
    let s = demo();
    assert!(s.history_secs() >= 24 * 3600);
    assert_eq!(s.history_secs(), 72 * 3600);
    assert_eq!(s.step_secs(), 60);
    let t0 = anchor().timestamp();
    let all = s.series_at(anchor(), t0 - s.history_secs(), t0, 60);
    assert!(all.len() >= 20, "{} series", all.len());
    for series in &all {
        assert_eq!(series.len(), 72 * 60 + 1, "{}", series.id);
        assert!(series.timestamps.windows(2).all(|w| w[1] - w[0] == 60));
        assert!(series.values.iter().all(|v| v.is_finite()), "{}", series.id);
    }
    // Nothing exists before the history starts.
    let before = s.series_at(anchor(), t0 - 80 * 3600, t0 - 73 * 3600, 60);
    assert!(before.iter().all(Series::is_empty));
}

#[test]
fn daily_seasonality_shows_in_request_rates() {
    let s = demo();
    let t0 = anchor().timestamp();
    let all = s.series_at(anchor(), t0 - 48 * 3600, t0 - 24 * 3600, 60);
    let rps = find(
        &all,
        r#"http_requests_per_second{namespace="shop",service="web"}"#,
    );
    let max = rps.values.iter().cloned().fold(f64::MIN, f64::max);
    let min = rps.values.iter().cloned().fold(f64::MAX, f64::min);
    assert!(max > 1.8 * min, "daily swing {min}..{max}");
}

#[test]
fn each_watch_selects_exactly_its_series() {
    let s = demo();
    let replay = replay_at(&s, anchor());
    let t0 = anchor().timestamp();
    for w in s.watches() {
        assert_eq!(w.step, 60);
        let got = block_on(MetricsSource::query_range(
            &replay,
            &w.query,
            t0 - 3600,
            t0,
            w.step,
        ))
        .unwrap_or_else(|e| panic!("{}: {e}", w.query));
        let ids: Vec<&String> = got.iter().map(|s| &s.id).collect();
        assert_eq!(ids, [&w.query], "{} matched {ids:?}", w.query);
        assert_eq!(got[0].id, w.name);
        assert_eq!(got[0].len(), 61);
    }
    let disk: Vec<_> = s
        .watches()
        .into_iter()
        .filter(|w| w.capacity.is_some())
        .collect();
    assert_eq!(disk.len(), 1);
    assert!(disk[0].query.starts_with("node_filesystem_used_percent{"));
    assert_eq!(disk[0].capacity, Some(100.0));
}

#[test]
fn broader_selectors_match_several_series() {
    let replay = replay_at(&demo(), anchor());
    let t0 = anchor().timestamp();
    let q = |query: &str| {
        block_on(MetricsSource::query_range(&replay, query, t0 - 600, t0, 60)).expect(query)
    };
    assert_eq!(q("http_requests_per_second").len(), 3);
    assert_eq!(q(r#"{service="payments-db"}"#).len(), 5);
    assert_eq!(
        q(r#"http_latency_p99_seconds{service=~"web|search"}"#).len(),
        2
    );
    assert_eq!(q(r#"container_cpu_usage_ratio{service!="web"}"#).len(), 2);
    assert!(q(r#"http_requests_per_second{service="nope"}"#).is_empty());
}

#[test]
fn disk_fills_up_towards_capacity() {
    let s = demo();
    let t0 = anchor().timestamp();
    let all = s.series_at(anchor(), t0 - 4 * 3600, t0, 60);
    let disk = all
        .iter()
        .find(|x| x.metric() == "node_filesystem_used_percent")
        .expect("disk series");
    assert_eq!(disk.capacity, Some(100.0));
    let last3h = &disk.values[disk.len() - 180..];
    let hourly: Vec<f64> = last3h
        .chunks(60)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    assert!(hourly.windows(2).all(|w| w[1] > w[0] + 3.0), "{hourly:?}");
    let now = *disk.values.last().expect("points");
    assert!((65.0..85.0).contains(&now), "{now}");
    let slope_per_h = (last3h[last3h.len() - 1] - last3h[0]) / 3.0;
    let hours_to_full = (100.0 - now) / slope_per_h;
    assert!((3.0..7.0).contains(&hours_to_full), "{hours_to_full} h");
    // Before its fill started it was flat around 60 %.
    let early = &disk.values[..30];
    assert!(early.iter().all(|v| (58.0..62.0).contains(v)), "{early:?}");
}

#[test]
fn alerts_have_alertmanager_fields_and_stable_fingerprints() {
    let s = demo();
    let alerts = s.alerts_at(anchor(), anchor());
    for name in [
        "PaymentsDbPoolSaturated",
        "PaymentsDbSlowQueries",
        "CheckoutApiHighLatency",
        "CheckoutApiErrorRate",
        "CheckoutApiPodRestarts",
        "WebHigh5xxRate",
        "WebSLOBurnRate",
        "NodeDiskFillingUp",
        "NodeDiskWillFillIn6h",
    ] {
        assert!(active(&alerts, name), "{name} should fire at minute 0");
    }
    for a in &alerts {
        for key in ["alertname", "severity", "service", "namespace"] {
            assert!(a.labels.contains_key(key), "{} lacks label {key}", a.name());
        }
        for key in ["summary", "description", "runbook_url"] {
            let value = a.annotations.get(key);
            assert!(
                value.is_some_and(|v| !v.is_empty()),
                "{} lacks {key}",
                a.name()
            );
        }
        assert_eq!(a.fingerprint, fingerprint(&a.labels));
        assert!(a.starts_at <= anchor());
        assert!(a.ends_at.is_none());
        for word in ["root_cause", "cause", "primary"] {
            assert!(!a.labels.contains_key(word) && !a.annotations.contains_key(word));
        }
    }
    let get = |name: &str| alerts.iter().find(|a| a.name() == name).expect(name);
    let pool = get("PaymentsDbPoolSaturated");
    assert_eq!(pool.starts_at, at(-52));
    assert_eq!(pool.labels["severity"], "critical");
    assert_eq!(pool.runbook_url(), Some("runbooks/payments-db-pool.md"));
    let latency = get("CheckoutApiHighLatency");
    assert_eq!(
        latency.runbook_url(),
        Some("runbooks/checkout-api-latency.md")
    );
    assert_eq!(latency.starts_at, at(-40));
    let disk = get("NodeDiskFillingUp");
    assert_eq!(disk.runbook_url(), Some("runbooks/node-disk-full.md"));
    assert_eq!(disk.service(), Some("node-1"));
    assert_eq!(
        disk.labels.get("instance").map(String::as_str),
        Some("node-1")
    );
    assert_eq!(disk.starts_at, at(-120));
    // Fingerprints do not move with time.
    let later = s.alerts_at(anchor(), at(30));
    let again = later.iter().find(|a| a.name() == "PaymentsDbPoolSaturated");
    assert_eq!(again.map(|a| &a.fingerprint), Some(&pool.fingerprint));
    // Before the incident only the disk (and maybe the flapping search alert) fires.
    let before = s.alerts_at(anchor(), at(-60));
    let quiet = ["NodeDiskFillingUp", "SearchReplicaLag"];
    assert!(
        before.iter().all(|a| quiet.contains(&a.name())),
        "{before:?}"
    );
}

#[test]
fn search_replica_lag_flaps() {
    let s = demo();
    let states: Vec<bool> = (-120..120)
        .map(|m| active(&s.alerts_at(anchor(), at(m)), "SearchReplicaLag"))
        .collect();
    assert!(states.iter().any(|x| *x) && states.iter().any(|x| !x));
    let flips = states.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(flips >= 10, "{flips} flips in 4 h");
    let firing: Vec<Alert> = (-130..-110)
        .flat_map(|m| s.alerts_at(anchor(), at(m)))
        .filter(|a| a.name() == "SearchReplicaLag")
        .collect();
    let lag = firing.first().expect("fires at some minute around -120");
    let url = "https://wiki.example.com/runbooks/search-replica-lag";
    assert_eq!(lag.runbook_url(), Some(url));
    assert!(firing.iter().all(|a| a.fingerprint == lag.fingerprint));
    // Each firing spell has its own start.
    assert!(firing.iter().any(|a| a.starts_at != lag.starts_at));
    assert!(!active(
        &s.alerts_at(anchor(), at(-300)),
        "SearchReplicaLag"
    ));
}

#[test]
fn new_error_messages_appear_only_after_the_incident_starts() {
    let s = demo();
    let logs = s.logs_at(anchor(), ns(at(-180)), ns(anchor()));
    for (needle, onset) in [
        ("remaining connection slots are reserved", -55),
        ("upstream timeout calling payments-db after", -42),
        ("deploy checkout-api version v2.14.0", -45),
        ("HTTP/1.1\" 502", -38),
    ] {
        let hits = lines_with(&logs, needle);
        assert!(!hits.is_empty(), "{needle} never logged");
        assert!(
            hits.iter().all(|e| e.ts_ns >= ns(at(onset))),
            "{needle} before minute {onset}"
        );
    }
    assert_eq!(
        lines_with(&logs, "deploy checkout-api version v2.14.0").len(),
        1
    );
    // Each service has a stream, and entries come newest first.
    for service in ["web", "checkout-api", "payments-db", "search", "node-1"] {
        let has = logs
            .iter()
            .any(|l| l.labels.get("service").map(String::as_str) == Some(service));
        assert!(has, "{service}");
    }
    for l in &logs {
        assert!(l.entries.windows(2).all(|w| w[0].ts_ns >= w[1].ts_ns));
        assert!(l
            .entries
            .iter()
            .all(|e| e.ts_ns >= ns(at(-180)) && e.ts_ns <= ns(anchor())));
    }
    // Normal traffic has variable parts: almost every line differs.
    let web: Vec<_> = logs
        .iter()
        .filter(|l| l.labels["service"] == "web")
        .flat_map(|l| &l.entries)
        .collect();
    let distinct: std::collections::BTreeSet<_> = web.iter().map(|e| &e.line).collect();
    assert!(distinct.len() > web.len() * 9 / 10);
    // Modest volume: a two-hour window stays small.
    let total = count(&s.logs_at(anchor(), ns(at(-120)), ns(anchor())));
    assert!((1_000..5_000).contains(&total), "{total} lines in 2 h");
}

#[test]
fn replay_never_returns_the_future() {
    let s = demo();
    let replay = replay_at(&s, at(10));
    let t0 = anchor().timestamp();
    let q = r#"db_connection_pool_in_use_ratio{namespace="shop",service="payments-db"}"#;
    let range = |r: &Replay, start, end| {
        block_on(MetricsSource::query_range(r, q, start, end, 60)).expect("valid")
    };
    let got = range(&replay, t0 - 3600, t0 + 7200);
    assert_eq!(got[0].last_timestamp(), Some(t0 + 600));
    assert_eq!(
        got[0].capacity, None,
        "capacities come from the watch, not from the source"
    );
    // Moving forward keeps the earlier points unchanged and adds new ones.
    let more = range(&replay_at(&s, at(20)), t0 - 3600, t0 + 7200);
    assert_eq!(more[0].last_timestamp(), Some(t0 + 1200));
    assert_eq!(&more[0].values[..got[0].len()], &got[0].values[..]);
    // Pool saturation: near 1 now, well below it an hour earlier.
    let v_now = *more[0].values.last().expect("points");
    assert!(v_now > 0.9, "{v_now}");
    assert!(more[0].values[0] < 0.75, "{}", more[0].values[0]);
    // Entirely in the future: nothing.
    assert!(range(&replay, t0 + 3600, t0 + 7200).is_empty());
    let logs = block_on(LogSource::query_range(
        &replay,
        r#"{service="web"}"#,
        ns(at(-5)),
        ns(at(60)),
        1000,
    ))
    .expect("valid");
    assert!(count(&logs) > 0);
    assert!(logs
        .iter()
        .flat_map(|l| &l.entries)
        .all(|e| e.ts_ns <= ns(at(10))));
    let alerts = block_on(replay.alerts()).expect("alerts");
    assert!(alerts.iter().all(|a| a.starts_at <= at(10)));
    assert!(active(&alerts, "PaymentsDbPoolSaturated"));
    let early = block_on(replay_at(&s, at(-50)).alerts()).expect("alerts");
    assert!(active(&early, "PaymentsDbPoolSaturated") && !active(&early, "WebHigh5xxRate"));
}

#[test]
fn log_queries_filter_limit_and_order() {
    let replay = replay_at(&demo(), anchor());
    let (start, end) = (ns(at(-120)), ns(anchor()));
    assert_eq!(end - start, 120 * MIN * NS);
    let q = |query: &str, limit| {
        block_on(LogSource::query_range(&replay, query, start, end, limit)).expect(query)
    };
    let all = q(r#"{service="checkout-api"}"#, 5_000);
    assert_eq!(all.len(), 2, "info and error streams");
    let timeouts = q(r#"{service="checkout-api"} |= "upstream timeout""#, 5_000);
    let n = count(&timeouts);
    assert!(n > 50, "{n}");
    assert!(timeouts
        .iter()
        .flat_map(|s| &s.entries)
        .all(|e| e.line.contains("upstream timeout")));
    let others = q(r#"{service="checkout-api"} != "upstream timeout""#, 5_000);
    assert_eq!(count(&others) + n, count(&all));
    let regex = q(
        r#"{service="web", level="error"} |~ "HTTP/1.1\" 50[0-9]""#,
        5_000,
    );
    assert!(count(&regex) > 0);
    // The limit keeps the newest lines over all streams.
    let newest = q(r#"{service="checkout-api"}"#, 10);
    let mut kept: Vec<i64> = newest
        .iter()
        .flat_map(|s| &s.entries)
        .map(|e| e.ts_ns)
        .collect();
    let mut every: Vec<i64> = all
        .iter()
        .flat_map(|s| &s.entries)
        .map(|e| e.ts_ns)
        .collect();
    every.sort_unstable_by(|a, b| b.cmp(a));
    kept.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(kept, every[..10]);
    assert!(q(r#"{service="nope"}"#, 100).is_empty());
}

#[test]
fn bad_queries_are_query_errors_naming_the_query() {
    let replay = replay_at(&demo(), anchor());
    let t0 = anchor().timestamp();
    let bad = [
        "rate(http_requests_per_second[5m])",
        "sum(x)",
        r#"x{service="web""#,
        r#"x{a=~"("}"#,
        "",
    ];
    for q in bad {
        match block_on(MetricsSource::query_range(&replay, q, t0 - 60, t0, 60)) {
            Err(SourceError::Query { detail, .. }) => {
                assert!(detail.contains(&format!("{q:?}")), "{detail}")
            }
            other => panic!("{q}: {other:?}"),
        }
    }
    assert!(matches!(
        block_on(MetricsSource::query_range(
            &replay,
            "x",
            t0 - 86_400 * 30,
            t0,
            1
        )),
        Err(SourceError::Query { .. })
    ));
    for q in [
        r#"{service="web"} | json"#,
        "web",
        r#"{service="web"} |= unquoted"#,
        r#"{x=""}"#,
    ] {
        match block_on(LogSource::query_range(&replay, q, 0, ns(anchor()), 10)) {
            Err(SourceError::Query { detail, .. }) => {
                assert!(detail.contains(&format!("{q:?}")), "{detail}")
            }
            other => panic!("{q}: {other:?}"),
        }
    }
}
