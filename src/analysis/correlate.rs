//! Grouping alerts into incidents.
//!
//! Method: the active alerts (firing or suppressed) are sorted by start time and linked by
//! single linkage. Two alerts link when they started within [`LINK_WINDOW_SECS`] of each other
//! and are *related*:
//!
//! * same service;
//! * services at most two hops apart on a call chain in the dependency graph (the configured
//!   edges plus those read from alert labels, see [`inferred_edges`]). When a service's metrics
//!   are watched, its alert links through the graph only if one of its series turned anomalous
//!   around the alert's start: a fault travelling along a dependency degrades the metrics of
//!   the services it reaches, while an unrelated alert (a certificate about to expire, a failed
//!   cron job) on a busy hub such as `auth` does not, and must not tie the hub's callers
//!   together. Where both alerts' services turned anomalous, the onsets (the one nearest each
//!   alert's start) must lie within [`ONSET_ALIGN_SECS`]: a fault reaches a neighbour within
//!   minutes, and two problems on neighbouring services that merely overlap in time do not line
//!   up. The same check applies to two alerts of one service (a service hit twice);
//! * the same value of a specific label ([`SPECIFIC_LABELS`]: instance, pod, node); namespace or
//!   cluster alone are too broad. Active alerts sharing such a label link whatever their start
//!   times: they are one problem on one machine;
//! * co-occurring metric anomalies: both services have a series whose anomaly onset lies within
//!   [`CO_ANOMALY_SECS`] of the other's. This only applies when the topology does not know one of
//!   the two services: where the graph knows both, it is trusted over coincidence.
//!
//! Metrics-backed alerts (their service's series turned anomalous around their start) link over
//! up to [`SLOW_LINK_SECS`] to an earlier one of the same service or of a service they call
//! (unless that service has more than [`SLOW_LINK_MAX_CALLERS`] callers), so a slow burn whose
//! symptoms trickle in over an hour stays one incident. The same service's alerts must share
//! the anomaly onset, a caller's onset must not precede its callee's, and an alert that a fast
//! fault already explains (an aligned link to another service's alert in the window, flapping
//! or not) takes no slow link to a callee: the callee's older problem merely was still open.
//!
//! A flapping alert ([`super::flap`]: at least [`FLAP_MIN_TRANSITIONS`] state changes in the
//! last [`FLAP_WINDOW_SECS`], with hysteresis) never links with others on its own: it joins the one group it is most
//! closely related to, or stays a single-alert incident, so it cannot glue two incidents together.
//!
//! Each group then gets its likely cause ([`super::cause`]), a title, key series and a rank
//! ([`super::rank`]).
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

mod fasthash;
mod topology;

use fasthash::FastMap as HashMap;

pub use topology::{inferred_edges, Topology};

use super::flap::{flap_status, FlapStatus};
use super::{cause, rank, PatternSummary, SeriesAnomaly, Transition};
use crate::domain::incident::incident_id;
use crate::domain::{Alert, CauseCandidate, Edge, Incident, Member, Series, Severity};

/// Two related alerts belong together when their starts are at most this far apart.
pub const LINK_WINDOW_SECS: i64 = 30 * 60;
pub use super::flap::{FLAP_ENTER as FLAP_MIN_TRANSITIONS, FLAP_WINDOW_SECS};
/// Anomaly onsets of two services this close count as co-occurring.
pub const CO_ANOMALY_SECS: i64 = 5 * 60;
/// Labels specific enough to relate two alerts on their own.
pub const SPECIFIC_LABELS: [&str; 3] = ["instance", "pod", "node"];
/// Metrics-backed alerts of one service, or of two directly dependent services, link when
/// they began at most this far apart (a slow burn).
pub const SLOW_LINK_SECS: i64 = 2 * 3600;
/// Services called by more than this many others are not used for slow-burn links.
pub const SLOW_LINK_MAX_CALLERS: usize = 2;
/// A watched service's alert joins others through the topology only when one of the service's
/// series turned anomalous from this long before the alert began ...
pub const CONFIRM_BEFORE_SECS: i64 = 30 * 60;
/// ... to this long after.
pub const CONFIRM_AFTER_SECS: i64 = 10 * 60;
/// Anomaly onsets of two services linked through the topology must be at most this far apart.
pub const ONSET_ALIGN_SECS: i64 = 10 * 60;
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
    /// Flapping state from the alert's recent state changes.
    flap: FlapStatus,
    /// Earliest anomaly onset among the service's series near the alert's start.
    onset: Option<i64>,
    /// Whether the metrics back the alert: its service has no series at all (nothing to go
    /// by), or one of them turned anomalous within [`CONFIRM_BEFORE_SECS`] before to
    /// [`CONFIRM_AFTER_SECS`] after the alert began.
    confirmed: bool,
    /// The service is watched and one of its series did turn anomalous around the start.
    backed: bool,
    /// The alert's non-empty [`SPECIFIC_LABELS`] values, in that order (looked up once).
    specific: [Option<&'a str>; 3],
}

impl Node<'_> {
    fn flapping(&self) -> bool {
        self.flap.flapping
    }
}

/// Groups active alerts into incidents, ranks them (rank 1 = most urgent) and fills each
/// incident's cause candidates. Runbook suggestions are left empty for the caller.
pub fn build_incidents(input: &IncidentInput<'_>) -> Vec<Incident> {
    build_incidents_with_rules(input, &[])
}

/// [`build_incidents`], then the engineer's grouping corrections `rules` (oldest first; see
/// `analysis::corrections`) applied to the groups before incidents are assembled, so causes and
/// ranks are computed on the corrected groups. Every alert a rule moved says so in its reason.
pub fn build_incidents_with_rules(
    input: &IncidentInput<'_>,
    rules: &[super::corrections::GroupingRule],
) -> Vec<Incident> {
    let mut edges = input.topology.to_vec();
    for e in inferred_edges(input.alerts) {
        if !edges.contains(&e) {
            edges.push(e);
        }
    }
    let topo = Topology::new(&edges);
    let index = SeriesIndex::with_anomalies(input.series, input.anomalies);
    let nodes = active_nodes(input, &index);
    let groups = group(&nodes, &topo);
    let (groups, notes) = if rules.is_empty() {
        (groups, BTreeMap::new())
    } else {
        let keys: Vec<String> = nodes
            .iter()
            .map(|n| super::corrections::alert_key(n.alert))
            .collect();
        super::corrections::apply(groups, &keys, rules)
    };
    let mut incidents: Vec<Incident> = groups
        .iter()
        .map(|idx| assemble(idx, &nodes, &topo, input, &index))
        .collect();
    for (i, note) in notes {
        let fp = &nodes[i].alert.fingerprint;
        if let Some(m) = incidents
            .iter_mut()
            .flat_map(|inc| inc.members.iter_mut())
            .find(|m| &m.fingerprint == fp)
        {
            m.reason = format!("{note}; {}", m.reason);
        }
    }
    dedupe_ids(&mut incidents);
    rank::rank_incidents(&mut incidents, input);
    incidents
}

/// Active alerts, one per fingerprint, sorted by (start, fingerprint).
fn active_nodes<'a>(input: &IncidentInput<'a>, index: &SeriesIndex<'a>) -> Vec<Node<'a>> {
    let mut alerts: Vec<&Alert> = input
        .alerts
        .iter()
        .filter(|a| a.state.is_active())
        .collect();
    alerts.sort_by(|a, b| {
        (&a.fingerprint, a.starts_at, &a.labels).cmp(&(&b.fingerprint, b.starts_at, &b.labels))
    });
    alerts.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    alerts.sort_by(|a, b| (a.starts_at, &a.fingerprint).cmp(&(b.starts_at, &b.fingerprint)));
    let now = input.now.timestamp();
    // Anomaly onsets per service, looked up once.
    let onsets: HashMap<&str, Vec<i64>> = index
        .by_service
        .iter()
        .map(|(svc, rows)| {
            let v: Vec<i64> = rows
                .iter()
                .filter_map(|(_, a)| a.and_then(|a| a.onset))
                .collect();
            (*svc, v)
        })
        .collect();
    let watched = |svc: &str| index.by_service.contains_key(svc);
    let mut changes: HashMap<&str, Vec<i64>> = HashMap::default();
    for t in input.transitions {
        changes
            .entry(t.fingerprint.as_str())
            .or_default()
            .push(t.at.timestamp());
    }
    alerts
        .into_iter()
        .map(|alert| {
            let start = alert.starts_at.timestamp();
            let service = alert.service();
            let flap = changes
                .get(alert.fingerprint.as_str())
                .map(|times| flap_status(times, now))
                .unwrap_or_default();
            let from = start.saturating_sub(ANOMALY_LOOKBACK_SECS);
            let to = start.saturating_add(LINK_WINDOW_SECS);
            // The onset nearest the alert's start: a service hit twice has two.
            let onset = service.and_then(|s| onsets.get(s)).and_then(|v| {
                v.iter()
                    .copied()
                    .filter(|o| *o >= from && *o <= to)
                    .min_by_key(|o| (o.abs_diff(start), *o))
            });
            let backed = service.and_then(|s| onsets.get(s)).is_some_and(|v| {
                v.iter().any(|o| {
                    *o >= start.saturating_sub(CONFIRM_BEFORE_SECS)
                        && *o <= start.saturating_add(CONFIRM_AFTER_SECS)
                })
            });
            let confirmed = backed || service.is_none_or(|s| !watched(s));
            let specific = SPECIFIC_LABELS.map(|k| {
                alert
                    .labels
                    .get(k)
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
            });
            Node {
                specific,
                alert,
                start,
                service,
                flap,
                onset,
                confirmed,
                backed,
            }
        })
        .collect()
}

/// The series of `service` with their anomaly result, if any.
pub fn service_series<'a>(
    input: &IncidentInput<'a>,
    service: &str,
) -> Vec<(&'a Series, Option<&'a SeriesAnomaly>)> {
    SeriesIndex::with_anomalies(input.series, input.anomalies)
        .series(input, service)
        .collect()
}

/// Series positions by service, built once per run so per-incident lookups do not scan every
/// series.
///
/// Each series' anomaly result is looked up once, when the index is built.
pub struct SeriesIndex<'a> {
    by_service: HashMap<&'a str, Vec<(&'a Series, Option<&'a SeriesAnomaly>)>>,
}

impl<'a> SeriesIndex<'a> {
    /// An index without anomaly results (every series' anomaly is looked up in `series`).
    pub fn new(series: &'a [Series]) -> Self {
        Self::build(series, None)
    }

    /// An index holding each series' anomaly result from `anomalies`.
    pub fn with_anomalies(
        series: &'a [Series],
        anomalies: &'a BTreeMap<String, SeriesAnomaly>,
    ) -> Self {
        Self::build(series, Some(anomalies))
    }

    fn build(series: &'a [Series], anomalies: Option<&'a BTreeMap<String, SeriesAnomaly>>) -> Self {
        let mut by_service: HashMap<&'a str, Vec<(&'a Series, Option<&'a SeriesAnomaly>)>> =
            HashMap::default();
        for s in series {
            if let Some(svc) = s.service() {
                let a = anomalies.and_then(|m| m.get(&s.id));
                by_service.entry(svc).or_default().push((s, a));
            }
        }
        SeriesIndex { by_service }
    }

    /// The series of `service` (in input order) with their anomaly result, if any.
    pub fn series<'s>(
        &'s self,
        input: &'s IncidentInput<'a>,
        service: &str,
    ) -> impl Iterator<Item = (&'a Series, Option<&'a SeriesAnomaly>)> + 's {
        self.by_service
            .get(service)
            .into_iter()
            .flatten()
            .map(|&(s, a)| (s, a.or_else(|| input.anomalies.get(&s.id))))
    }
}

/// How the services of `a` and `b` relate, before the alerts' own evidence is checked:
/// `CoAnomaly` here means "the graph cannot tell", to be checked on the two alerts' onsets.
fn service_relation(a: &Node<'_>, b: &Node<'_>, topo: &Topology) -> Option<Relation> {
    let (sa, sb) = (a.service?, b.service?);
    if sa == sb {
        Some(Relation::SameService)
    } else if let Some(via) = topo.within_two_hops(sa, sb) {
        Some(match via {
            None => Relation::Adjacent,
            Some(v) => Relation::TwoHops(v.to_string()),
        })
    } else if !(topo.knows(sa) && topo.knows(sb)) {
        Some(Relation::CoAnomaly)
    } else {
        None
    }
}

/// Whether the two alerts' anomaly onsets (where both have one) are close enough to be one
/// fault's.
fn onsets_align(a: &Node<'_>, b: &Node<'_>) -> bool {
    match (a.onset, b.onset) {
        (Some(oa), Some(ob)) => oa.abs_diff(ob) <= ONSET_ALIGN_SECS.unsigned_abs(),
        _ => true,
    }
}

/// The service relation, kept when the two alerts' evidence allows it.
fn node_relation(rel: Option<Relation>, a: &Node<'_>, b: &Node<'_>) -> Option<Relation> {
    match rel? {
        Relation::Adjacent | Relation::TwoHops(_) if !(a.confirmed && b.confirmed) => None,
        // A fault reaches a neighbour within minutes: when both services' metrics turned
        // anomalous, their onsets must line up. Two problems on neighbouring services that
        // merely overlap in time (a slow burn's symptom next to an `auth` outage) do not.
        // The same holds for one service: two alerts backed by two separate anomalies of
        // it are two problems.
        Relation::Adjacent | Relation::TwoHops(_) | Relation::SameService
            if !onsets_align(a, b) =>
        {
            None
        }
        Relation::CoAnomaly => match (a.onset, b.onset) {
            (Some(oa), Some(ob)) if oa.abs_diff(ob) <= CO_ANOMALY_SECS.unsigned_abs() => {
                Some(Relation::CoAnomaly)
            }
            _ => None,
        },
        r => Some(r),
    }
}

fn relation(a: &Node<'_>, b: &Node<'_>, topo: &Topology) -> Option<Relation> {
    let shared = SPECIFIC_LABELS
        .iter()
        .zip(a.specific.iter().zip(b.specific.iter()))
        .find_map(|(k, (x, y))| {
            let x = (*x)?;
            (Some(x) == *y).then(|| (*k, x.to_string()))
        });
    let by_service = node_relation(service_relation(a, b, topo), a, b);
    match (by_service, shared) {
        (Some(r), Some(_)) if r.priority() < 2 => Some(r),
        (_, Some((key, value))) => Some(Relation::SharedLabel(key, value)),
        (r, None) => r,
    }
}

/// Whether `a` and `b`, related by `rel`, are close enough in time to be linked.
fn close(a: &Node<'_>, b: &Node<'_>, rel: &Relation) -> bool {
    let gap = a.start.abs_diff(b.start);
    gap <= LINK_WINDOW_SECS.unsigned_abs()
        || (gap <= SLOW_LINK_SECS.unsigned_abs()
            && a.backed
            && b.backed
            && matches!(rel, Relation::SameService))
        || matches!(rel, Relation::SharedLabel(..))
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

/// For each interned service, the interned services adjacent to it (`true`) or two hops away
/// on a call chain (`false`), sorted by id.
fn related_services(ids: &HashMap<&str, u32>, topo: &Topology) -> Vec<Vec<(u32, bool)>> {
    let mut out = vec![Vec::new(); ids.len()];
    for (name, &id) in ids {
        let mut rel: BTreeMap<u32, bool> = BTreeMap::new();
        for n in topo.neighbours(name) {
            if let Some(&x) = ids.get(n) {
                rel.insert(x, true);
            }
        }
        let chains = topo
            .callees(name)
            .flat_map(|c| topo.callees(c))
            .chain(topo.callers(name).flat_map(|c| topo.callers(c)));
        for n in chains {
            if let Some(&x) = ids.get(n) {
                if x != id {
                    rel.entry(x).or_insert(false);
                }
            }
        }
        out[id as usize] = rel.into_iter().collect();
    }
    out
}

/// Single linkage over the sorted nodes; returns groups of node indices, each ascending,
/// ordered by their first member.
///
/// Services are interned and the relation of each pair of services is computed once, so the
/// pairwise pass is integer work.
fn group(nodes: &[Node<'_>], topo: &Topology) -> Vec<Vec<usize>> {
    let n = nodes.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let mut ids: HashMap<&str, u32> = HashMap::default();
    let svc: Vec<Option<u32>> = nodes
        .iter()
        .map(|x| {
            x.service.map(|s| {
                let next = ids.len() as u32;
                *ids.entry(s).or_insert(next)
            })
        })
        .collect();
    let related = related_services(&ids, topo);
    let known: Vec<bool> = {
        let mut k = vec![false; ids.len()];
        for (name, &id) in &ids {
            k[id as usize] = topo.knows(name);
        }
        k
    };
    // How two services relate: same, adjacent, on a two-hop chain, or unknown to the graph
    // (then only co-occurring anomalies can link them).
    let svc_rel = |a: u32, b: u32| -> Option<Relation> {
        if a == b {
            return Some(Relation::SameService);
        }
        if let Ok(k) = related[a as usize].binary_search_by_key(&b, |(id, _)| *id) {
            return Some(if related[a as usize][k].1 {
                Relation::Adjacent
            } else {
                Relation::TwoHops(String::new())
            });
        }
        (!(known[a as usize] && known[b as usize])).then_some(Relation::CoAnomaly)
    };
    // Alerts linked to another service's alert within the window: a fast fault explains them.
    let mut explained = vec![false; n];
    // A flapping alert links nothing here, but it still explains its neighbours: an alert
    // whose onset lines up with a flapping upstream alert's is that fault's symptom.
    for i in 0..n {
        let Some(si) = svc[i] else { continue };
        for j in i + 1..n {
            if nodes[j].start.saturating_sub(nodes[i].start) > LINK_WINDOW_SECS {
                break;
            }
            let Some(sj) = svc[j] else { continue };
            if node_relation(svc_rel(si, sj), &nodes[i], &nodes[j]).is_some() {
                if si != sj {
                    explained[i] = true;
                    explained[j] = true;
                }
                if !nodes[i].flapping() && !nodes[j].flapping() {
                    union(&mut parent, i, j);
                }
            }
        }
    }
    // Slow burns: a metrics-backed alert links to the latest earlier metrics-backed alert of
    // its own service and of each service it calls directly, up to SLOW_LINK_SECS apart (a
    // fault travels to callers, slowly). Shared services with many callers are left out: over
    // two hours, one of their callers having an unrelated problem is too likely.
    let mut latest: HashMap<&str, usize> = HashMap::default();
    for j in 0..n {
        let node = &nodes[j];
        let (Some(s), true, false) = (node.service, node.backed, node.flapping()) else {
            continue;
        };
        let callees = topo
            .callees(s)
            .filter(|c| topo.caller_count(c) <= SLOW_LINK_MAX_CALLERS);
        for other in std::iter::once(s).chain(callees) {
            if let Some(&i) = latest.get(other) {
                // One service: the same anomaly behind both; a callee: its anomaly came first.
                let fits = match (nodes[i].onset, node.onset) {
                    (Some(oi), Some(oj)) if other == s => {
                        oi.abs_diff(oj) <= ONSET_ALIGN_SECS.unsigned_abs()
                    }
                    (Some(oi), Some(oj)) => oj >= oi.saturating_sub(ONSET_ALIGN_SECS),
                    _ => true,
                };
                // An alert a fast fault already explains (linked to another service's alert
                // with aligned onsets) is not also a slow symptom of an older problem of a
                // service it calls: that older problem merely happened to be still open.
                let fits = fits && (other == s || !explained[j]);
                if fits && node.start.saturating_sub(nodes[i].start) <= SLOW_LINK_SECS {
                    union(&mut parent, i, j);
                }
            }
        }
        latest.insert(s, j);
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
    // Flapping alerts join their best anchor among the steady alerts close enough in time
    // (nodes are sorted by start) or sharing a specific label.
    let starts: Vec<i64> = nodes.iter().map(|x| x.start).collect();
    for f in (0..n).filter(|&f| nodes[f].flapping()) {
        let lo = starts.partition_point(|s| *s < nodes[f].start.saturating_sub(SLOW_LINK_SECS));
        let hi = starts.partition_point(|s| *s <= nodes[f].start.saturating_add(SLOW_LINK_SECS));
        let mut pool: Vec<usize> = (lo..hi).collect();
        for key in SPECIFIC_LABELS {
            if let Some(value) = nodes[f].alert.labels.get(key).filter(|v| !v.is_empty()) {
                pool.extend(by_label.get(&(key, value.as_str())).copied());
            }
        }
        pool.retain(|&k| !nodes[k].flapping());
        pool.retain(|&k| {
            k < lo
                || k >= hi
                || match (svc[f], svc[k]) {
                    (Some(a), Some(b)) => svc_rel(a, b).is_some(),
                    _ => true,
                }
        });
        pool.sort_unstable();
        pool.dedup();
        if let Some((_, k)) = best_anchor(f, pool.into_iter(), nodes, topo) {
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
        .filter(|&k| k != m)
        .filter_map(|k| relation(&nodes[m], &nodes[k], topo).map(|r| (r, k)))
        .filter(|(r, k)| close(&nodes[m], &nodes[*k], r))
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
            node.flap.changes,
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

fn assemble<'a>(
    idx: &[usize],
    nodes: &[Node<'_>],
    topo: &Topology,
    input: &IncidentInput<'a>,
    index: &SeriesIndex<'a>,
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
    let candidates = cause::likely_causes_indexed(&members, input, topo, index);
    let cause_service = candidates.first().map(|c| c.service.as_str());
    let key_series = key_series(&services, cause_service, input, index);
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
        slo_burns: Vec::new(),
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
fn key_series<'a>(
    services: &[String],
    cause: Option<&str>,
    input: &IncidentInput<'a>,
    index: &SeriesIndex<'a>,
) -> Vec<String> {
    // (anomalous series of the likely cause, peak score, onset, id): the cause's earliest
    // anomalous series first, then the rest by how anomalous they are.
    let mut rows: Vec<(bool, f64, i64, &str)> = services
        .iter()
        .flat_map(|svc| index.series(input, svc))
        .filter_map(|(s, a)| {
            let svc = s.service()?;
            Some({
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
pub fn gap(secs: i64) -> String {
    let secs = secs.unsigned_abs();
    match secs / 60 {
        0 => "<1 m".to_string(),
        m if m < 60 => format!("{m} m"),
        m => format!("{} h {} m", m / 60, m % 60),
    }
}
