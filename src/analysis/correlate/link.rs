//! Linking alerts: how two alerts are related, single linkage over the sorted alerts, and the
//! best anchor that explains a member of a group.
use std::collections::BTreeMap;

use super::fasthash::FastMap;
use super::nodes::Node;
use super::world::{Svc, World};
use super::{
    CO_ANOMALY_SECS, LINK_WINDOW_SECS, ONSET_ALIGN_SECS, SLOW_LINK_MAX_CALLERS, SLOW_LINK_SECS,
    SPECIFIC_LABELS,
};

/// How two alerts are related, best first.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Relation<'a> {
    SameService,
    Adjacent,
    SharedLabel(&'static str, &'a str),
    /// Linked through a third service on a call chain (named by [`World::via`]).
    TwoHops,
    CoAnomaly,
}

impl Relation<'_> {
    pub fn priority(&self) -> u8 {
        match self {
            Relation::SameService => 0,
            Relation::Adjacent => 1,
            Relation::SharedLabel(..) => 2,
            Relation::TwoHops => 3,
            Relation::CoAnomaly => 4,
        }
    }
}

/// How the services of the alerts relate: for each service with alerts, the services adjacent
/// to it (`true`) or two hops away on a call chain (`false`), sorted by id.
pub(crate) struct Related<'w, 'a> {
    world: &'w World<'a>,
    near: Vec<Vec<(Svc, bool)>>,
}

impl<'w, 'a> Related<'w, 'a> {
    pub fn new(world: &'w World<'a>, nodes: &[Node<'_>]) -> Self {
        let mut near: Vec<Vec<(Svc, bool)>> = vec![Vec::new(); world.len()];
        let mut done = vec![false; world.len()];
        for s in nodes.iter().filter_map(|n| n.svc) {
            if std::mem::replace(&mut done[s as usize], true) {
                continue;
            }
            let mut rel: Vec<(Svc, bool)> = world
                .callees(s)
                .iter()
                .chain(world.callers(s))
                .map(|&x| (x, true))
                .collect();
            let chains = world
                .callees(s)
                .iter()
                .flat_map(|&c| world.callees(c))
                .chain(world.callers(s).iter().flat_map(|&c| world.callers(c)));
            rel.extend(chains.filter(|&&x| x != s).map(|&x| (x, false)));
            // Adjacent (`true`) wins over a chain to the same service.
            rel.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            rel.dedup_by_key(|x| x.0);
            near[s as usize] = rel;
        }
        Related { world, near }
    }

    /// How two services relate: same, adjacent, on a two-hop chain, or unknown to the graph
    /// (then only co-occurring anomalies can link them: `CoAnomaly` here means "the graph
    /// cannot tell").
    pub fn services(&self, a: Svc, b: Svc) -> Option<Relation<'static>> {
        if a == b {
            return Some(Relation::SameService);
        }
        let near = &self.near[a as usize];
        if let Ok(k) = near.binary_search_by_key(&b, |(id, _)| *id) {
            return Some(if near[k].1 {
                Relation::Adjacent
            } else {
                Relation::TwoHops
            });
        }
        (!(self.world.knows(a) && self.world.knows(b))).then_some(Relation::CoAnomaly)
    }

    fn nodes(&self, a: &Node<'_>, b: &Node<'_>) -> Option<Relation<'static>> {
        self.services(a.svc?, b.svc?)
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
fn node_relation<'r>(
    rel: Option<Relation<'r>>,
    a: &Node<'_>,
    b: &Node<'_>,
) -> Option<Relation<'r>> {
    match rel? {
        Relation::Adjacent | Relation::TwoHops if !(a.confirmed && b.confirmed) => None,
        // A fault reaches a neighbour within minutes: when both services' metrics turned
        // anomalous, their onsets must line up. Two problems on neighbouring services that
        // merely overlap in time (a slow burn's symptom next to an `auth` outage) do not.
        // The same holds for one service: two alerts backed by two separate anomalies of
        // it are two problems.
        Relation::Adjacent | Relation::TwoHops | Relation::SameService if !onsets_align(a, b) => {
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

/// How the alerts `a` and `b` are related, with their evidence checked.
pub(crate) fn relation<'a>(
    a: &Node<'a>,
    b: &Node<'_>,
    related: &Related<'_, '_>,
) -> Option<Relation<'a>> {
    let shared = SPECIFIC_LABELS
        .iter()
        .zip(a.specific.iter().zip(b.specific.iter()))
        .find_map(|(k, (x, y))| {
            let x = (*x)?;
            (Some(x) == *y).then_some((*k, x))
        });
    let by_service = node_relation(related.nodes(a, b), a, b);
    match (by_service, shared) {
        (Some(r), Some(_)) if r.priority() < 2 => Some(r),
        (_, Some((key, value))) => Some(Relation::SharedLabel(key, value)),
        (r, None) => r,
    }
}

/// Whether `a` and `b`, related by `rel`, are close enough in time to be linked.
fn close(a: &Node<'_>, b: &Node<'_>, rel: &Relation<'_>) -> bool {
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

/// Single linkage over the sorted nodes; returns groups of node indices, each ascending,
/// ordered by their first member.
pub(crate) fn group(
    nodes: &[Node<'_>],
    world: &World<'_>,
    related: &Related<'_, '_>,
) -> Vec<Vec<usize>> {
    let n = nodes.len();
    let mut parent: Vec<usize> = (0..n).collect();
    // Alerts linked to another service's alert within the window: a fast fault explains them.
    let mut explained = vec![false; n];
    // A flapping alert links nothing here, but it still explains its neighbours: an alert
    // whose onset lines up with a flapping upstream alert's is that fault's symptom.
    let mut link = |i: usize, j: usize, si: Svc, sj: Svc| {
        if node_relation(related.services(si, sj), &nodes[i], &nodes[j]).is_some() {
            if si != sj {
                explained[i] = true;
                explained[j] = true;
            }
            if !nodes[i].flapping() && !nodes[j].flapping() {
                union(&mut parent, i, j);
            }
        }
    };
    // Only pairs whose services can relate are looked at: the same service, a neighbour or a
    // service two hops away (each service's alerts, in start order), and alerts of services
    // the graph does not know (then only co-occurring anomalies can link them).
    // The nodes of service `s` are `by_svc[first[s]..first[s + 1]]`, ascending.
    let mut first = vec![0usize; world.len() + 1];
    let mut unknown: Vec<usize> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        if let Some(s) = node.svc {
            first[s as usize + 1] += 1;
            if !world.knows(s) {
                unknown.push(i);
            }
        }
    }
    for s in 0..world.len() {
        first[s + 1] += first[s];
    }
    let mut by_svc = vec![0usize; first[world.len()]];
    let mut fill = first.clone();
    for (i, node) in nodes.iter().enumerate() {
        if let Some(s) = node.svc {
            by_svc[fill[s as usize]] = i;
            fill[s as usize] += 1;
        }
    }
    let of_service = |s: Svc| &by_svc[first[s as usize]..first[s as usize + 1]];
    let starts: Vec<i64> = nodes.iter().map(|x| x.start).collect();
    // The nodes of `list` (ascending) after `i` that started within the window of it.
    let window = |list: &[usize], i: usize| -> std::ops::Range<usize> {
        let lo = list.partition_point(|&k| k <= i);
        let end = starts[i].saturating_add(LINK_WINDOW_SECS);
        let hi = lo + list[lo..].partition_point(|&k| starts[k] <= end);
        lo..hi
    };
    for i in 0..n {
        let Some(si) = nodes[i].svc else { continue };
        if !world.knows(si) {
            // Every service may relate to it.
            for j in i + 1..n {
                if starts[j].saturating_sub(starts[i]) > LINK_WINDOW_SECS {
                    break;
                }
                if let Some(sj) = nodes[j].svc {
                    link(i, j, si, sj);
                }
            }
            continue;
        }
        let near = related.near[si as usize].iter().map(|(s, _)| *s);
        for s in std::iter::once(si).chain(near) {
            let list = of_service(s);
            for &j in &list[window(list, i)] {
                link(i, j, si, s);
            }
        }
        for &j in &unknown[window(&unknown, i)] {
            if let Some(sj) = nodes[j].svc {
                link(i, j, si, sj);
            }
        }
    }
    // Slow burns: a metrics-backed alert links to the latest earlier metrics-backed alert of
    // its own service and of each service it calls directly, up to SLOW_LINK_SECS apart (a
    // fault travels to callers, slowly). Shared services with many callers are left out: over
    // two hours, one of their callers having an unrelated problem is too likely.
    let mut latest: FastMap<Svc, usize> = FastMap::default();
    for j in 0..n {
        let node = &nodes[j];
        let (Some(s), true, false) = (node.svc, node.backed, node.flapping()) else {
            continue;
        };
        let callees = world
            .callees(s)
            .iter()
            .copied()
            .filter(|&c| world.callers(c).len() <= SLOW_LINK_MAX_CALLERS);
        for other in std::iter::once(s).chain(callees) {
            if let Some(&i) = latest.get(&other) {
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
        for (key, value) in SPECIFIC_LABELS.iter().zip(node.specific) {
            if let Some(value) = value {
                match by_label.get(&(*key, value)) {
                    Some(&first) => union(&mut parent, first, i),
                    None => {
                        by_label.insert((*key, value), i);
                    }
                }
            }
        }
    }
    // Flapping alerts join their best anchor among the steady alerts close enough in time
    // (nodes are sorted by start) or sharing a specific label.
    for f in (0..n).filter(|&f| nodes[f].flapping()) {
        let lo = starts.partition_point(|s| *s < nodes[f].start.saturating_sub(SLOW_LINK_SECS));
        let hi = starts.partition_point(|s| *s <= nodes[f].start.saturating_add(SLOW_LINK_SECS));
        let mut pool: Vec<usize> = (lo..hi).collect();
        for (key, value) in SPECIFIC_LABELS.iter().zip(nodes[f].specific) {
            if let Some(value) = value {
                pool.extend(by_label.get(&(*key, value)).copied());
            }
        }
        pool.retain(|&k| !nodes[k].flapping());
        pool.retain(|&k| {
            k < lo
                || k >= hi
                || match (nodes[f].svc, nodes[k].svc) {
                    (Some(a), Some(b)) => related.services(a, b).is_some(),
                    _ => true,
                }
        });
        pool.sort_unstable();
        pool.dedup();
        if let Some((_, k)) = best_anchor(f, pool.into_iter(), nodes, related) {
            union(&mut parent, f, k);
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot: Vec<usize> = vec![usize::MAX; n];
    for i in 0..n {
        let root = find(&mut parent, i);
        // Roots are the lowest index of their group, so a group's slot is made at its root.
        if slot[root] == usize::MAX {
            slot[root] = groups.len();
            groups.push(Vec::new());
        }
        groups[slot[root]].push(i);
    }
    groups
}

/// The member `m` is best explained by: earlier (or simultaneous) ones first, then the
/// strongest relation, then the smallest gap.
pub(crate) fn best_anchor<'a>(
    m: usize,
    candidates: impl Iterator<Item = usize>,
    nodes: &[Node<'a>],
    related: &Related<'_, '_>,
) -> Option<(Relation<'a>, usize)> {
    candidates
        .filter(|&k| k != m)
        .filter_map(|k| relation(&nodes[m], &nodes[k], related).map(|r| (r, k)))
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
