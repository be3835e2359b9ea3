//! Grouping alerts into incidents.
//!
//! Method: the active alerts (firing or suppressed) are sorted by start time and linked by
//! single linkage. Two alerts link when they started within [`LINK_WINDOW_SECS`] of each other
//! and are *related*:
//!
//! * same service;
//! * services at most two hops apart in the dependency graph (edges taken as undirected; the
//!   configured edges plus those read from alert labels, see [`inferred_edges`]);
//! * the same value of a specific label ([`SPECIFIC_LABELS`]: instance, pod, node); namespace or
//!   cluster alone are too broad. Active alerts sharing such a label link whatever their start
//!   times: they are one problem on one machine;
//! * co-occurring metric anomalies: both services have a series whose anomaly onset lies within
//!   [`CO_ANOMALY_SECS`] of the other's. This only applies when the topology does not know one of
//!   the two services: where the graph knows both, it is trusted over coincidence.
//!
//! A flapping alert (at least [`FLAP_MIN_TRANSITIONS`] state changes in the last
//! [`FLAP_WINDOW_SECS`]) never links with others on its own: it joins the one group it is most
//! closely related to, or stays a single-alert incident, so it cannot glue two incidents together.
//!
//! Each group then gets its likely cause ([`super::cause`]), a title, key series and a rank
//! ([`super::rank`]).
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

mod topology;

pub use topology::{inferred_edges, Topology};

use super::{cause, rank, PatternSummary, SeriesAnomaly, Transition};
use crate::domain::incident::incident_id;
use crate::domain::{Alert, AlertState, CauseCandidate, Edge, Incident, Member, Series, Severity};

/// Two related alerts belong together when their starts are at most this far apart.
pub const LINK_WINDOW_SECS: i64 = 30 * 60;
/// How far back state changes are counted for flapping.
pub const FLAP_WINDOW_SECS: i64 = 30 * 60;
/// State changes within [`FLAP_WINDOW_SECS`] that make an alert flapping.
pub const FLAP_MIN_TRANSITIONS: usize = 3;
/// Anomaly onsets of two services this close count as co-occurring.
pub const CO_ANOMALY_SECS: i64 = 5 * 60;
/// Labels specific enough to relate two alerts on their own.
pub const SPECIFIC_LABELS: [&str; 3] = ["instance", "pod", "node"];
/// Anomaly onsets this long before an alert (or incident) started still count for it.
pub const ANOMALY_LOOKBACK_SECS: i64 = 60 * 60;
/// At most this many key series per incident.
pub const MAX_KEY_SERIES: usize = 20;

/// Everything grouping, ranking and cause analysis look at.
pub struct IncidentInput<'a> {
    pub now: DateTime<Utc>,
    pub alerts: &'a [Alert],
    pub transitions: &'a [Transition],
    pub series: &'a [Series],
    pub anomalies: &'a BTreeMap<String, SeriesAnomaly>,
    pub patterns: &'a [PatternSummary],
    pub topology: &'a [Edge],
}

/// How two alerts are related, best first.
#[derive(Clone, Debug, PartialEq)]
enum Relation {
    SameService,
    Adjacent,
    SharedLabel(&'static str, String),
    TwoHops(String),
    CoAnomaly,
}

impl Relation {
    fn priority(&self) -> u8 {
        match self {
            Relation::SameService => 0,
            Relation::Adjacent => 1,
            Relation::SharedLabel(..) => 2,
            Relation::TwoHops(_) => 3,
            Relation::CoAnomaly => 4,
        }
    }
}

/// One active alert with what grouping needs to know about it.
struct Node<'a> {
    alert: &'a Alert,
    start: i64,
    service: Option<&'a str>,
    /// State changes in the flapping window.
    changes: usize,
    /// Earliest anomaly onset among the service's series near the alert's start.
    onset: Option<i64>,
}

impl Node<'_> {
    fn flapping(&self) -> bool {
        self.changes >= FLAP_MIN_TRANSITIONS
    }
}

/// Groups active alerts into incidents, ranks them (rank 1 = most urgent) and fills each
/// incident's cause candidates. Runbook suggestions are left empty for the caller.
pub fn build_incidents(input: &IncidentInput<'_>) -> Vec<Incident> {
    let mut edges = input.topology.to_vec();
    for e in inferred_edges(input.alerts) {
        if !edges.contains(&e) {
            edges.push(e);
        }
    }
    let topo = Topology::new(&edges);
    let nodes = active_nodes(input);
    let mut incidents: Vec<Incident> = group(&nodes, &topo)
        .iter()
        .map(|idx| assemble(idx, &nodes, &topo, input))
        .collect();
    dedupe_ids(&mut incidents);
    rank::rank_incidents(&mut incidents, input);
    incidents
}

/// Active alerts, one per fingerprint, sorted by (start, fingerprint).
fn active_nodes<'a>(input: &IncidentInput<'a>) -> Vec<Node<'a>> {
    let mut alerts: Vec<&Alert> = input
        .alerts
        .iter()
        .filter(|a| matches!(a.state, AlertState::Firing | AlertState::Suppressed))
        .collect();
    alerts.sort_by(|a, b| {
        (&a.fingerprint, a.starts_at, &a.labels).cmp(&(&b.fingerprint, b.starts_at, &b.labels))
    });
    alerts.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    alerts.sort_by(|a, b| (a.starts_at, &a.fingerprint).cmp(&(b.starts_at, &b.fingerprint)));
    let now = input.now.timestamp();
    // Anomaly onsets per service, looked up once.
    let mut onsets: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for series in input.series {
        let onset = input.anomalies.get(&series.id).and_then(|a| a.onset);
        if let (Some(svc), Some(o)) = (series.service(), onset) {
            onsets.entry(svc).or_default().push(o);
        }
    }
    alerts
        .into_iter()
        .map(|alert| {
            let start = alert.starts_at.timestamp();
            let service = alert.service();
            let changes = input
                .transitions
                .iter()
                .filter(|t| t.fingerprint == alert.fingerprint)
                .filter(|t| {
                    let at = t.at.timestamp();
                    at <= now && now.saturating_sub(at) <= FLAP_WINDOW_SECS
                })
                .count();
            let from = start.saturating_sub(ANOMALY_LOOKBACK_SECS);
            let to = start.saturating_add(LINK_WINDOW_SECS);
            let onset = service
                .and_then(|s| onsets.get(s))
                .and_then(|v| v.iter().copied().filter(|o| *o >= from && *o <= to).min());
            Node {
                alert,
                start,
                service,
                changes,
                onset,
            }
        })
        .collect()
}

/// The series of `service` with their anomaly result, if any.
pub fn service_series<'a>(
    input: &IncidentInput<'a>,
    service: &str,
) -> Vec<(&'a Series, Option<&'a SeriesAnomaly>)> {
    input
        .series
        .iter()
        .filter(|s| s.service() == Some(service))
        .map(|s| (s, input.anomalies.get(&s.id)))
        .collect()
}

fn relation(a: &Node<'_>, b: &Node<'_>, topo: &Topology) -> Option<Relation> {
    let mut best: Option<Relation> = None;
    let mut offer = |r: Relation| {
        if best.as_ref().is_none_or(|b| r.priority() < b.priority()) {
            best = Some(r);
        }
    };
    if let Some((key, value)) = SPECIFIC_LABELS.iter().find_map(|k| {
        let x = a.alert.labels.get(*k)?;
        (!x.is_empty() && b.alert.labels.get(*k) == Some(x)).then(|| (*k, x.clone()))
    }) {
        offer(Relation::SharedLabel(key, value));
    }
    if let (Some(sa), Some(sb)) = (a.service, b.service) {
        if sa == sb {
            offer(Relation::SameService);
        } else if let Some(via) = topo.within_two_hops(sa, sb) {
            match via {
                None => offer(Relation::Adjacent),
                Some(v) => offer(Relation::TwoHops(v.to_string())),
            }
        } else if !(topo.knows(sa) && topo.knows(sb)) {
            if let (Some(oa), Some(ob)) = (a.onset, b.onset) {
                if oa.abs_diff(ob) <= CO_ANOMALY_SECS.unsigned_abs() {
                    offer(Relation::CoAnomaly);
                }
            }
        }
    }
    best
}

fn close(a: &Node<'_>, b: &Node<'_>) -> bool {
    a.start.abs_diff(b.start) <= LINK_WINDOW_SECS.unsigned_abs()
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    // The lower index (earlier start) stays the root, so roots are deterministic.
    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
    parent[hi] = lo;
}

/// Single linkage over the sorted nodes; returns groups of node indices, each ascending,
/// ordered by their first member.
fn group(nodes: &[Node<'_>], topo: &Topology) -> Vec<Vec<usize>> {
    let n = nodes.len();
    let mut parent: Vec<usize> = (0..n).collect();
    for i in 0..n {
        if nodes[i].flapping() {
            continue;
        }
        for j in i + 1..n {
            if nodes[j].start.saturating_sub(nodes[i].start) > LINK_WINDOW_SECS {
                break;
            }
            if !nodes[j].flapping() && relation(&nodes[i], &nodes[j], topo).is_some() {
                union(&mut parent, i, j);
            }
        }
    }
    // Alerts that name the same instance, pod or node and are all still active are one problem
    // on that machine, however far apart they began (a disk filling for hours, then its
    // forecast alert).
    let mut by_label: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, node) in nodes.iter().enumerate().filter(|(_, x)| !x.flapping()) {
        for key in SPECIFIC_LABELS {
            if let Some(value) = node.alert.labels.get(key).filter(|v| !v.is_empty()) {
                match by_label.get(&(key, value.as_str())) {
                    Some(&first) => union(&mut parent, first, i),
                    None => {
                        by_label.insert((key, value.as_str()), i);
                    }
                }
            }
        }
    }
    for f in (0..n).filter(|&f| nodes[f].flapping()) {
        if let Some((_, k)) = best_anchor(f, (0..n).filter(|&k| !nodes[k].flapping()), nodes, topo)
        {
            union(&mut parent, f, k);
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_by_key(|g| g.first().copied());
    out
}

/// The member `m` is best explained by: earlier (or simultaneous) ones first, then the
/// strongest relation, then the smallest gap.
fn best_anchor(
    m: usize,
    candidates: impl Iterator<Item = usize>,
    nodes: &[Node<'_>],
    topo: &Topology,
) -> Option<(Relation, usize)> {
    candidates
        .filter(|&k| k != m && close(&nodes[m], &nodes[k]))
        .filter_map(|k| relation(&nodes[m], &nodes[k], topo).map(|r| (r, k)))
        .min_by_key(|(r, k)| {
            let later = nodes[*k].start > nodes[m].start;
            (
                later,
                r.priority(),
                nodes[m].start.abs_diff(nodes[*k].start),
                *k,
            )
        })
}

fn reason(m: usize, group: &[usize], nodes: &[Node<'_>], topo: &Topology) -> String {
    let node = &nodes[m];
    let first = group.first().copied() == Some(m);
    let mut text = if first {
        "opened the incident (first alert)".to_string()
    } else {
        let pool = group
            .iter()
            .copied()
            .filter(|&k| !node.flapping() || !nodes[k].flapping());
        match best_anchor(m, pool, nodes, topo) {
            Some((rel, k)) => describe(node, &nodes[k], &rel, topo),
            None => "grouped with the incident".to_string(),
        }
    };
    if node.flapping() {
        text.push_str(&format!(
            "; flapping ({} state changes in {})",
            node.changes,
            gap(FLAP_WINDOW_SECS)
        ));
    }
    text
}

fn describe(m: &Node<'_>, k: &Node<'_>, rel: &Relation, topo: &Topology) -> String {
    let sm = m.service.unwrap_or("?");
    let sk = k.service.unwrap_or("?");
    let link = match rel {
        Relation::SameService => format!("same service {sm} as {}", k.alert.name()),
        Relation::Adjacent if topo.calls(sm, sk) => format!("{sm} calls {sk}"),
        Relation::Adjacent => format!("{sk} calls {sm}"),
        Relation::SharedLabel(key, value) => format!("same {key} {value} as {}", k.alert.name()),
        Relation::TwoHops(via) => format!("{sm} and {sk} are linked through {via}"),
        Relation::CoAnomaly => format!("metrics of {sm} and {sk} turned anomalous together"),
    };
    // The anchor's name is already in the link text for these two.
    let other = match rel {
        Relation::SameService | Relation::SharedLabel(..) => "it",
        _ => k.alert.name(),
    };
    let dt = m.start.saturating_sub(k.start);
    let when = match dt {
        0 => format!("began together with {other}"),
        d if d > 0 => format!("began {} after {other}", gap(d)),
        d => format!("began {} before {other}", gap(d)),
    };
    format!("{link}; {when}")
}

fn assemble(
    idx: &[usize],
    nodes: &[Node<'_>],
    topo: &Topology,
    input: &IncidentInput<'_>,
) -> Incident {
    let members: Vec<Member> = idx
        .iter()
        .map(|&i| {
            let n = &nodes[i];
            Member {
                fingerprint: n.alert.fingerprint.clone(),
                alertname: n.alert.name().to_string(),
                service: n.service.map(str::to_string),
                severity: n.alert.severity(),
                starts_at: n.alert.starts_at,
                reason: reason(i, idx, nodes, topo),
                flapping: n.flapping(),
            }
        })
        .collect();
    let mut services: Vec<String> = Vec::new();
    for m in &members {
        if let Some(s) = &m.service {
            if !services.contains(s) {
                services.push(s.clone());
            }
        }
    }
    let candidates = cause::likely_causes(&members, input, topo);
    let cause_service = candidates.first().map(|c| c.service.as_str());
    let key_series = key_series(&services, cause_service, input);
    let opener = idx.first().map(|&i| nodes[i].alert);
    Incident {
        id: incident_id(opener.map_or("", |a| a.fingerprint.as_str())),
        title: title(&members, candidates.first()),
        severity: members
            .iter()
            .map(|m| m.severity)
            .max()
            .unwrap_or(Severity::Warning),
        score: 0.0,
        rank: 0,
        started_at: opener.map_or(input.now, |a| a.starts_at),
        members,
        services,
        candidates,
        score_parts: Vec::new(),
        key_series,
        runbooks: Vec::new(),
    }
}

fn title(members: &[Member], top: Option<&CauseCandidate>) -> String {
    let head = match top {
        Some(c) => format!(
            "{}: {}",
            c.service,
            c.alert.as_deref().unwrap_or("anomalous")
        ),
        None => members
            .first()
            .map_or_else(|| "incident".to_string(), |m| m.alertname.clone()),
    };
    let lead = top
        .and_then(|c| {
            members
                .iter()
                .position(|m| m.service.as_deref() == Some(c.service.as_str()))
        })
        .unwrap_or(0);
    let others: Vec<&Member> = members
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != lead)
        .map(|(_, m)| m)
        .collect();
    if others.is_empty() {
        return head;
    }
    let svcs: BTreeSet<&str> = others.iter().filter_map(|m| m.service.as_deref()).collect();
    let alerts = plural(others.len(), "alert");
    let lead_service = members.get(lead).and_then(|m| m.service.as_deref());
    let only_lead = svcs.len() == 1 && svcs.iter().next().copied() == lead_service;
    match svcs.len() {
        0 => format!("{head} (+{alerts})"),
        _ if only_lead => format!("{head} (+{alerts})"),
        n => format!("{head} (+{alerts} on {})", plural(n, "service")),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Series of the incident's services, most anomalous first; the cause's series first among equals.
fn key_series(services: &[String], cause: Option<&str>, input: &IncidentInput<'_>) -> Vec<String> {
    // (anomalous series of the likely cause, peak score, onset, id): the cause's earliest
    // anomalous series first, then the rest by how anomalous they are.
    let mut rows: Vec<(bool, f64, i64, &str)> = input
        .series
        .iter()
        .filter_map(|s| {
            let svc = s.service()?;
            services.iter().any(|x| x == svc).then(|| {
                let a = input.anomalies.get(&s.id);
                let peak = a.map_or(0.0, |a| finite01(a.peak_score));
                let onset = a.and_then(|a| a.onset).unwrap_or(i64::MAX);
                let cause_anomalous = Some(svc) == cause && onset != i64::MAX;
                (cause_anomalous, peak, onset, s.id.as_str())
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| if a.0 { a.2.cmp(&b.2) } else { Ordering::Equal })
            .then(b.1.total_cmp(&a.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(b.3))
    });
    let mut out: Vec<String> = Vec::new();
    for (_, _, _, id) in rows {
        if !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    }
    out.truncate(MAX_KEY_SERIES);
    out
}

/// Two incidents whose openers share the first fingerprint digits get a suffix, in order.
fn dedupe_ids(incidents: &mut [Incident]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for inc in incidents.iter_mut() {
        let n = seen.entry(inc.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            inc.id = format!("{}-{}", inc.id, n);
        }
    }
}

/// Clamps to 0..1; NaN and infinities count as 0.
pub(crate) fn finite01(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// "14:03" (UTC) for unix seconds.
pub(crate) fn clock(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0).map_or_else(|| "?".into(), |d| d.format("%H:%M").to_string())
}

/// A gap in seconds as "<1 m", "12 m" or "2 h 5 m".
pub(crate) fn gap(secs: i64) -> String {
    let secs = secs.unsigned_abs();
    match secs / 60 {
        0 => "<1 m".to_string(),
        m if m < 60 => format!("{m} m"),
        m => format!("{} h {} m", m / 60, m % 60),
    }
}
