//! Grouping, likely cause and ranking on hand-built alerts, anomalies and log patterns.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use pagerpilot::analysis::correlate::{build_incidents, IncidentInput};
use pagerpilot::analysis::{Direction, PatternSummary, SeriesAnomaly, Transition};
use pagerpilot::domain::alert::fingerprint;
use pagerpilot::domain::incident::incident_id;
use pagerpilot::domain::{Alert, AlertState, Edge, EvidenceKind, Incident, Labels, Series};

fn t(min: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T14:00:00Z")
        .expect("valid time")
        .with_timezone(&Utc)
        + Duration::minutes(min)
}

fn alert(name: &str, service: &str, severity: &str, start_min: i64) -> Alert {
    labelled(
        name,
        &[("service", service), ("severity", severity)],
        start_min,
    )
}

fn labelled(name: &str, pairs: &[(&str, &str)], start_min: i64) -> Alert {
    let mut labels = Labels::new();
    labels.insert("alertname".into(), name.into());
    for (k, v) in pairs {
        labels.insert((*k).into(), (*v).into());
    }
    Alert {
        fingerprint: fingerprint(&labels),
        labels,
        annotations: Labels::new(),
        starts_at: t(start_min),
        ends_at: None,
        state: AlertState::Firing,
        generator_url: None,
    }
}

/// A scenario: everything `build_incidents` looks at, owned.
#[derive(Default)]
struct World {
    now_min: i64,
    alerts: Vec<Alert>,
    transitions: Vec<Transition>,
    series: Vec<Series>,
    anomalies: BTreeMap<String, SeriesAnomaly>,
    patterns: Vec<PatternSummary>,
    topology: Vec<Edge>,
}

impl World {
    fn new(now_min: i64) -> Self {
        World {
            now_min,
            ..World::default()
        }
    }

    fn edge(&mut self, from: &str, to: &str) {
        self.topology.push(Edge {
            from: from.into(),
            to: to.into(),
        });
    }

    /// A series of `service` with an anomaly result (`onset_min` = None: not anomalous now).
    fn metric(
        &mut self,
        metric: &str,
        service: &str,
        peak: f64,
        sigma: f64,
        onset_min: Option<i64>,
    ) {
        let id = format!("{metric}{{service=\"{service}\"}}");
        let mut labels = Labels::new();
        labels.insert("__name__".into(), metric.into());
        labels.insert("service".into(), service.into());
        self.series.push(Series {
            id: id.clone(),
            labels,
            timestamps: vec![t(-10).timestamp()],
            values: vec![1.0],
            capacity: None,
            slo: None,
            sensitivity: None,
        });
        self.anomalies.insert(
            id.clone(),
            SeriesAnomaly {
                series_id: id,
                expected: vec![1.0],
                lower: vec![0.0],
                upper: vec![2.0],
                scores: vec![peak],
                onset: onset_min.map(|m| t(m).timestamp()),
                peak_score: peak,
                deviation_sigma: sigma,
                direction: if sigma < 0.0 {
                    Direction::Down
                } else {
                    Direction::Up
                },
                explanation: String::new(),
            },
        );
    }

    fn pattern(&mut self, service: &str, template: &str, is_new: bool, is_surge: bool) {
        self.patterns.push(PatternSummary {
            id: format!("p{}", self.patterns.len()),
            template: template.into(),
            service: Some(service.into()),
            count: 10,
            buckets: vec![0, 10],
            bucket_secs: 60,
            first_seen_ns: 0,
            last_seen_ns: 0,
            is_new,
            is_surge,
            surge_ratio: if is_surge { 10.0 } else { 1.0 },
            change: None,
            examples: Vec::new(),
        });
    }

    fn flap(&mut self, alert: &Alert, times: usize) {
        for i in 0..times {
            let state = if i % 2 == 0 {
                AlertState::Resolved
            } else {
                AlertState::Firing
            };
            self.transitions.push(Transition {
                fingerprint: alert.fingerprint.clone(),
                at: t(self.now_min - 2 - i as i64 * 3),
                state,
            });
        }
    }

    fn run(&self) -> Vec<Incident> {
        build_incidents(&IncidentInput {
            now: t(self.now_min),
            alerts: &self.alerts,
            transitions: &self.transitions,
            series: &self.series,
            anomalies: &self.anomalies,
            patterns: &self.patterns,
            topology: &self.topology,
        })
    }
}

fn names(i: &Incident) -> Vec<&str> {
    i.members.iter().map(|m| m.alertname.as_str()).collect()
}

/// web -> api -> db, with alerts starting at the given minutes.
fn cascade(db: i64, api: i64, web: i64) -> World {
    let mut w = World::new(30);
    w.edge("web", "api");
    w.edge("api", "db");
    w.alerts
        .push(alert("DbPoolSaturated", "db", "critical", db));
    w.alerts
        .push(alert("ApiHighLatency", "api", "critical", api));
    w.alerts.push(alert("ApiErrors", "api", "warning", api + 1));
    w.alerts.push(alert("WebErrors", "web", "critical", web));
    w
}

#[test]
fn cascade_is_one_incident_with_the_db_as_cause() {
    let mut w = cascade(0, 3, 6);
    w.metric("db_pool_usage", "db", 0.9, 6.2, Some(-1));
    w.metric("api_latency_p99", "api", 0.8, 4.0, Some(2));
    w.metric("web_requests", "web", 0.2, 0.5, Some(5));
    w.pattern("db", "connection pool exhausted after <*> ms", true, false);
    // Web's metrics are watched: while they are calm, WebErrors is not tied to the cascade
    // through the graph (a calm service is not where the fault travelled).
    let mut calm = World::new(30);
    calm.topology = w.topology.clone();
    calm.alerts = w.alerts.clone();
    calm.metric("db_pool_usage", "db", 0.9, 6.2, Some(-1));
    calm.metric("api_latency_p99", "api", 0.8, 4.0, Some(2));
    calm.metric("web_requests", "web", 0.2, 0.5, None);
    let split = calm.run();
    assert_eq!(split.len(), 2, "{split:#?}");
    assert!(split.iter().any(|i| names(i) == ["WebErrors"]));
    let incidents = w.run();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let inc = &incidents[0];
    assert_eq!(inc.members.len(), 4);
    assert_eq!(inc.services, vec!["db", "api", "web"]);
    assert_eq!(inc.started_at, t(0));
    assert_eq!(inc.severity, pagerpilot::domain::Severity::Critical);
    assert_eq!(inc.id, incident_id(&w.alerts[0].fingerprint));
    assert_eq!(inc.title, "db: DbPoolSaturated (+3 alerts on 2 services)");
    assert_eq!(inc.members[0].reason, "opened the incident (first alert)");
    assert_eq!(
        inc.members[1].reason,
        "api calls db; began 3 m after DbPoolSaturated"
    );
    assert_eq!(
        inc.members[2].reason,
        "same service api as ApiHighLatency; began 1 m after it"
    );
    assert_eq!(
        inc.members[3].reason,
        "web calls api; began 2 m after ApiErrors"
    );
    assert_eq!(inc.key_series[0], "db_pool_usage{service=\"db\"}");
    assert_eq!(inc.key_series.len(), 3);

    let top = &inc.candidates[0];
    assert_eq!(top.service, "db");
    assert_eq!(top.alert.as_deref(), Some("DbPoolSaturated"));
    assert!(top.confidence > 0.4 && top.confidence > inc.candidates[1].confidence);
    let sum: f64 = inc.candidates.iter().map(|c| c.confidence).sum();
    assert!(sum <= 1.0 + 1e-9 && sum > 0.5, "sum {sum}");
    let texts: Vec<(EvidenceKind, &str)> = top
        .evidence
        .iter()
        .map(|e| (e.kind, e.text.as_str()))
        .collect();
    assert!(texts.contains(&(
        EvidenceKind::Fact,
        "db_pool_usage anomalous from 13:59, 1 m before its first alert, 3 m before any other service"
    )), "{texts:?}");
    assert!(texts.contains(&(
        EvidenceKind::Guess,
        "upstream of api and web in the dependency graph"
    )));
    assert!(texts.contains(&(
        EvidenceKind::Fact,
        "db_pool_usage 6.2σ above normal since 13:59"
    )));
    assert!(texts.contains(&(
        EvidenceKind::Fact,
        "1 new log pattern, e.g. 'connection pool exhausted after <*> ms'"
    )));
    for c in &inc.candidates {
        let total: f64 = c.evidence.iter().map(|e| e.weight).sum();
        assert!(total > 0.0 && total <= 1.0, "{c:?}");
    }
    let api = inc
        .candidates
        .iter()
        .find(|c| c.service == "api")
        .expect("api candidate");
    assert!(api
        .evidence
        .iter()
        .any(|e| e.text == "depends on db, also affected: may be a symptom"));
}

#[test]
fn two_unrelated_cascades_at_the_same_time_stay_apart() {
    let mut w = cascade(0, 3, 6);
    w.edge("worker", "queue");
    w.alerts.push(alert("QueueBacklog", "queue", "warning", 1));
    w.alerts.push(alert("WorkerLag", "worker", "warning", 4));
    // Both components turn anomalous together: the topology knows all of them, so no glue.
    w.metric("db_pool_usage", "db", 0.9, 6.0, Some(0));
    w.metric("queue_depth", "queue", 0.9, 5.0, Some(0));
    let incidents = w.run();
    assert_eq!(incidents.len(), 2, "{incidents:#?}");
    let mut groups: Vec<Vec<&str>> = incidents.iter().map(names).collect();
    groups.sort();
    assert_eq!(
        groups[0],
        vec![
            "DbPoolSaturated",
            "ApiHighLatency",
            "ApiErrors",
            "WebErrors"
        ]
    );
    assert_eq!(groups[1], vec!["QueueBacklog", "WorkerLag"]);
}

/// The web alert fires first and web's metrics change most, but web calls api calls db.
/// The method weighs onset 0.35 against upstream 0.30: a lead of a few minutes does not
/// outweigh the dependency direction (a caller's symptom often pages first), so db stays the
/// top candidate with web second; a lead of 25 minutes does, and web comes first.
#[test]
fn web_first_cascade_short_lead_keeps_db_long_lead_picks_web() {
    let build = |db: i64, api: i64| {
        let mut w = cascade(db, api, 0);
        w.metric("web_errors", "web", 0.95, 9.0, Some(0));
        w.metric("api_latency_p99", "api", 0.5, 3.0, Some(api));
        w.metric("db_pool_usage", "db", 0.7, 4.0, Some(db));
        w
    };
    let short = build(4, 2).run();
    assert_eq!(short.len(), 1);
    let order: Vec<&str> = short[0]
        .candidates
        .iter()
        .map(|c| c.service.as_str())
        .collect();
    assert_eq!(order, vec!["db", "web", "api"]);
    let web = &short[0].candidates[1];
    assert!(web.evidence.iter().any(|e| e.kind == EvidenceKind::Fact
        && e.text == "first alert at 14:00, 2 m before any other service"));
    assert!(
        short[0].candidates[0].confidence - web.confidence < 0.15,
        "a close call"
    );

    // Web's metrics moved 23 minutes before the api's: more than ONSET_ALIGN_SECS apart, so
    // not one fault travelling along web -> api. Web is its own incident; api and db (onsets
    // two minutes apart) are one, with the db as its cause.
    let long = build(25, 23).run();
    assert_eq!(long.len(), 2, "{long:#?}");
    let web = long
        .iter()
        .find(|i| names(i) == ["WebErrors"])
        .expect("web alone");
    assert_eq!(web.candidates[0].service, "web");
    let rest = long
        .iter()
        .find(|i| !names(i).contains(&"WebErrors"))
        .expect("api and db");
    assert_eq!(rest.candidates[0].service, "db");
}

#[test]
fn flapping_alert_does_not_glue_two_incidents() {
    // a - x - y - b: a and b are three hops apart; x is next to a and two hops from b.
    let build = |flapping: bool| {
        let mut w = World::new(40);
        w.edge("a", "x");
        w.edge("x", "y");
        w.edge("y", "b");
        w.alerts.push(alert("AlertA", "a", "critical", 0));
        w.alerts.push(alert("AlertB", "b", "critical", 5));
        let f = alert("FlappyX", "x", "warning", 10);
        if flapping {
            w.flap(&f, 4);
        }
        w.alerts.push(f);
        w.run()
    };
    assert_eq!(
        build(false).len(),
        1,
        "control: a steady x alert links both"
    );
    let incidents = build(true);
    assert_eq!(incidents.len(), 2, "{incidents:#?}");
    let with_a = incidents
        .iter()
        .find(|i| names(i).contains(&"AlertA"))
        .expect("a");
    assert_eq!(names(with_a), vec!["AlertA", "FlappyX"]);
    let f = &with_a.members[1];
    assert!(f.flapping);
    assert_eq!(
        f.reason,
        "a calls x; began 10 m after AlertA; flapping (4 state changes in 30 m)"
    );
}

#[test]
fn flapping_alerts_never_open_a_group_together() {
    let mut w = World::new(30);
    let a = alert("FlapOne", "svc", "warning", 0);
    let b = alert("FlapTwo", "svc", "warning", 1);
    w.flap(&a, 3);
    w.flap(&b, 5);
    w.alerts.extend([a, b]);
    let incidents = w.run();
    assert_eq!(incidents.len(), 2);
    assert!(incidents
        .iter()
        .all(|i| i.members.len() == 1 && i.members[0].flapping));
    // Old transitions do not count: outside the 30 m window the alert is steady.
    let mut w = World::new(200);
    let a = alert("FlapOne", "svc", "warning", 0);
    w.flap(&a, 5);
    w.now_min = 300;
    w.alerts.extend([a, alert("Other", "svc", "warning", 1)]);
    assert_eq!(w.run().len(), 1);
}

#[test]
fn resolved_alerts_are_ignored_and_resolved_only_incidents_disappear() {
    let mut w = cascade(0, 3, 6);
    for a in &mut w.alerts {
        a.state = AlertState::Resolved;
    }
    assert!(w.run().is_empty());
    w.alerts[1].state = AlertState::Suppressed;
    let incidents = w.run();
    assert_eq!(incidents.len(), 1);
    assert_eq!(names(&incidents[0]), vec!["ApiHighLatency"]);
}

#[test]
fn flapping_warning_ranks_below_critical_cascade_and_parts_sum_to_score() {
    let mut w = cascade(0, 3, 6);
    w.metric("db_pool_usage", "db", 0.9, 6.0, Some(0));
    let lone = alert("DiskAlmostFull", "batch", "warning", 20);
    w.flap(&lone, 3);
    w.alerts.insert(0, lone);
    let incidents = w.run();
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[0].members.len(), 4);
    assert_eq!(names(&incidents[1]), vec!["DiskAlmostFull"]);
    for (i, inc) in incidents.iter().enumerate() {
        assert_eq!(inc.rank, i + 1);
        let sum: f64 = inc.score_parts.iter().map(|(_, v)| v).sum();
        assert!((sum - inc.score).abs() < 1e-12);
        assert!(inc.score > 0.0 && inc.score <= 1.0);
        let parts: Vec<&str> = inc.score_parts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            parts,
            vec!["severity", "blast radius", "anomaly", "novelty", "recency"]
        );
    }
    assert!(incidents[0].score > incidents[1].score + 0.3);
}

#[test]
fn output_does_not_depend_on_input_order() {
    let mut w = cascade(0, 3, 6);
    w.edge("worker", "queue");
    w.alerts.push(alert("QueueBacklog", "queue", "warning", 1));
    w.alerts.push(alert("WorkerLag", "worker", "critical", 1));
    w.alerts.push(alert("Same", "web", "warning", 6));
    w.metric("db_pool_usage", "db", 0.9, 6.0, Some(0));
    w.metric("queue_depth", "queue", 0.9, 5.0, Some(0));
    let baseline = w.run();
    assert_eq!(baseline.len(), 2);
    let n = w.alerts.len();
    let mut seed: u64 = 7;
    for round in 0..20 {
        // A small deterministic shuffle (Fisher-Yates over an LCG).
        for i in (1..n).rev() {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            w.alerts.swap(i, (seed >> 33) as usize % (i + 1));
        }
        w.topology.reverse();
        w.series.reverse();
        assert_eq!(w.run(), baseline, "round {round}");
    }
}

#[test]
fn empty_input_gives_no_incidents() {
    assert!(World::new(0).run().is_empty());
}

#[test]
fn specific_labels_link_but_namespace_does_not() {
    let mut w = World::new(10);
    w.alerts.push(labelled(
        "NodeDown",
        &[("node", "n1"), ("namespace", "prod")],
        0,
    ));
    w.alerts.push(labelled(
        "PodEvicted",
        &[("node", "n1"), ("namespace", "prod")],
        2,
    ));
    w.alerts
        .push(labelled("Unrelated", &[("namespace", "prod")], 1));
    let incidents = w.run();
    assert_eq!(incidents.len(), 2);
    let grouped = incidents
        .iter()
        .find(|i| i.members.len() == 2)
        .expect("pair");
    assert_eq!(
        grouped.members[1].reason,
        "same node n1 as NodeDown; began 2 m after it"
    );
    assert!(
        grouped.candidates.is_empty(),
        "no service label, no candidate"
    );
    assert_eq!(grouped.title, "NodeDown (+1 alert)");
}

#[test]
fn co_occurring_anomalies_link_a_service_the_topology_does_not_know() {
    let build = |onset: i64| {
        let mut w = cascade(0, 3, 6);
        w.alerts.push(alert("BatchSlow", "batch", "warning", 8));
        w.metric("db_pool_usage", "db", 0.9, 6.0, Some(-1));
        w.metric("batch_duration", "batch", 0.8, 3.0, Some(onset));
        w.run()
    };
    let together = build(1);
    assert_eq!(together.len(), 1);
    let m = together[0]
        .members
        .iter()
        .find(|m| m.alertname == "BatchSlow")
        .expect("member");
    assert_eq!(
        m.reason,
        "metrics of batch and db turned anomalous together; began 8 m after DbPoolSaturated"
    );
    assert_eq!(build(20).len(), 2, "onsets 21 m apart are not co-occurring");
}

#[test]
fn far_apart_in_time_are_separate_incidents() {
    let mut w = World::new(200);
    w.alerts.push(alert("First", "svc", "warning", 0));
    w.alerts.push(alert("Second", "svc", "warning", 31));
    assert_eq!(w.run().len(), 2);
    // Single linkage: a middle alert bridges the gap.
    w.alerts.push(alert("Middle", "svc", "warning", 20));
    assert_eq!(w.run().len(), 1);
}

#[test]
fn active_alerts_on_one_instance_group_however_far_apart_they_began() {
    let mut w = World::new(300);
    let on = |name: &str, instance: &str, start: i64| {
        labelled(
            name,
            &[
                ("service", "node"),
                ("instance", instance),
                ("severity", "warning"),
            ],
            start,
        )
    };
    w.alerts.push(on("DiskFilling", "node-1", 0));
    w.alerts.push(on("DiskFullSoon", "node-1", 200));
    w.alerts.push(on("DiskFilling", "node-2", 100));
    let incidents = w.run();
    assert_eq!(incidents.len(), 2, "{incidents:#?}");
    let node1 = incidents
        .iter()
        .find(|i| i.members.len() == 2)
        .expect("the two node-1 alerts are one incident");
    assert!(node1
        .members
        .iter()
        .all(|m| m.alertname.starts_with("Disk")));
    assert!(
        node1.title.ends_with("(+1 alert)"),
        "one service: no service count in the title: {}",
        node1.title
    );
}

#[test]
fn many_services_keep_five_candidates_and_odd_numbers_do_not_panic() {
    let mut w = World::new(60);
    for i in 0..8 {
        let svc = format!("s{i}");
        w.alerts.push(alert(&format!("A{i}"), &svc, "warning", i));
        w.metric("m", &svc, f64::NAN, f64::INFINITY, Some(0));
        if let Some(a) = w.anomalies.get_mut(&format!("m{{service=\"{svc}\"}}")) {
            // Absurd onsets on the last service; the others turned anomalous with their alert.
            a.onset = Some(match i {
                7 => i64::MIN,
                _ => t(i).timestamp(),
            });
            a.deviation_sigma = f64::NAN;
        }
        if i > 0 {
            w.edge(&format!("s{}", i - 1), &svc);
        }
    }
    w.alerts.push(alert("Future", "s0", "critical", 10_000_000));
    let incidents = w.run();
    let big = incidents
        .iter()
        .max_by_key(|i| i.members.len())
        .expect("chain");
    assert_eq!(
        big.members.len(),
        7,
        "s7's onset is not near its alert: left out"
    );
    assert_eq!(big.candidates.len(), 5);
    let sum: f64 = big.candidates.iter().map(|c| c.confidence).sum();
    assert!(sum.is_finite() && sum <= 1.0 + 1e-9);
    assert!(incidents
        .iter()
        .all(|i| i.score.is_finite() && (0.0..=1.0).contains(&i.score)));
}

mod incidents_gen;

/// Generated, labelled scenarios (see `tests/incidents_gen/mod.rs`): pairwise grouping F1 and
/// likely-cause top-1 over three disjoint seed ranges, each held to the floors. The floors sit
/// just below what the method reaches today on these ranges (F1 0.953-0.984, top-1 0.947-0.960;
/// BENCHMARKS.md), so a regression fails.
#[test]
fn generated_scenarios_meet_the_quality_floors_on_every_seed_range() {
    const F1_FLOOR: f64 = 0.94;
    const TOP1_FLOOR: f64 = 0.93;
    let mut all = incidents_gen::Score::default();
    for range in [1..31u64, 1001..1031, 50_001..50_031] {
        let mut part = incidents_gen::Score::default();
        for seed in range.clone() {
            let s = incidents_gen::generate(seed);
            let produced = build_incidents(&IncidentInput {
                now: s.now,
                alerts: &s.alerts,
                transitions: &s.transitions,
                series: &s.series,
                anomalies: &s.anomalies,
                patterns: &[],
                topology: &s.model.edges,
            });
            // Every active alert lands in exactly one incident.
            let members: usize = produced.iter().map(|i| i.members.len()).sum();
            assert_eq!(members, s.alerts.len(), "seed {seed}");
            part.add(&incidents_gen::evaluate(&s, &produced));
        }
        println!(
            "seeds {range:?}: F1 {:.3} (P {:.3} R {:.3}), cause top-1 {:.3}, {:.2} alerts per incident",
            part.f1(),
            part.precision(),
            part.recall(),
            part.top1(),
            part.reduction()
        );
        assert!(
            part.f1() >= F1_FLOOR,
            "seeds {range:?}: F1 {:.3}",
            part.f1()
        );
        assert!(
            part.top1() >= TOP1_FLOOR,
            "seeds {range:?}: top-1 {:.3}",
            part.top1()
        );
        all.add(&part);
    }
    assert!(all.reduction() > 2.0, "reduction {:.2}", all.reduction());
}

#[test]
fn generator_is_reproducible_and_seeds_differ() {
    let a = incidents_gen::generate(7);
    let b = incidents_gen::generate(7);
    let c = incidents_gen::generate(8);
    assert_eq!(a.alerts, b.alerts);
    assert_eq!(a.truth, b.truth);
    assert_ne!(a.alerts, c.alerts);
    // Each scenario holds every kind it promises.
    use incidents_gen::Kind;
    for kind in [Kind::Concurrent, Kind::SlowBurn, Kind::Noise, Kind::Cascade] {
        assert!(a.incidents.iter().any(|(k, _)| *k == kind), "{kind:?}");
    }
    assert!(!a.transitions.is_empty(), "some alert flaps");
}
