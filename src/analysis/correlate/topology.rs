//! The service dependency graph used for grouping and cause analysis.
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::fasthash::FastMap as HashMap;

use crate::domain::{Alert, Edge};

/// Labels that name a service the alert's service calls (edge `service -> value`).
pub const CALLEE_LABELS: [&str; 5] = [
    "depends_on",
    "peer_service",
    "destination_service_name",
    "destination_service",
    "target_service",
];
/// Labels that name a service calling the alert's service (edge `value -> service`).
pub const CALLER_LABELS: [&str; 3] = ["source_service", "source_workload", "client_service"];

/// Dependency edges read from alert labels (Istio-style `source_workload` /
/// `destination_service_name`, OpenTelemetry's `peer_service`, or an explicit `depends_on`),
/// in first-seen order without duplicates.
pub fn inferred_edges(alerts: &[Alert]) -> Vec<Edge> {
    let mut out: Vec<Edge> = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for alert in alerts {
        let Some(service) = alert.service() else {
            continue;
        };
        let callees = CALLEE_LABELS
            .iter()
            .filter_map(|k| alert.labels.get(*k))
            .map(|v| (service, v.as_str()));
        let callers = CALLER_LABELS
            .iter()
            .filter_map(|k| alert.labels.get(*k))
            .map(|v| (v.as_str(), service));
        for (from, to) in callees.chain(callers) {
            let (from, to) = (from.trim(), to.trim());
            if from.is_empty() || to.is_empty() || from == to {
                continue;
            }
            if seen.insert((from.to_string(), to.to_string())) {
                out.push(Edge {
                    from: from.to_string(),
                    to: to.to_string(),
                });
            }
        }
    }
    out
}

/// The edges [`inferred_edges`] reads from one alert whose service is `service`, borrowed and
/// in no particular order (duplicates possible): one pass over the labels instead of a lookup
/// per label name.
pub(crate) fn inferred_pairs<'a>(
    alert: &'a Alert,
    service: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    alert.labels.iter().filter_map(move |(k, v)| {
        let k = k.as_str();
        let (from, to) = if CALLEE_LABELS.contains(&k) {
            (service, v.as_str())
        } else if CALLER_LABELS.contains(&k) {
            (v.as_str(), service)
        } else {
            return None;
        };
        let (from, to) = (from.trim(), to.trim());
        (!from.is_empty() && !to.is_empty() && from != to).then_some((from, to))
    })
}

/// The service dependency graph: an edge `from -> to` means `from` calls (depends on) `to`.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    out: HashMap<String, BTreeSet<String>>,
    inn: HashMap<String, BTreeSet<String>>,
}

impl Topology {
    /// Builds the graph; self-edges and empty names are ignored.
    pub fn new(edges: &[Edge]) -> Self {
        let mut t = Topology::default();
        for e in edges {
            if e.from == e.to || e.from.is_empty() || e.to.is_empty() {
                continue;
            }
            add(&mut t.out, &e.from, &e.to);
            add(&mut t.inn, &e.to, &e.from);
        }
        t
    }

    /// Every edge `(from, to)`.
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.out
            .iter()
            .flat_map(|(f, to)| to.iter().map(move |t| (f.as_str(), t.as_str())))
    }

    /// Whether the service appears in any edge.
    pub fn knows(&self, service: &str) -> bool {
        self.out.contains_key(service) || self.inn.contains_key(service)
    }

    /// Services with a direct edge to or from `service`.
    ///
    /// In name order, each once.
    pub fn neighbours<'a>(&'a self, service: &str) -> impl Iterator<Item = &'a str> + 'a {
        let mut all: Vec<&'a str> = self.callees(service).chain(self.callers(service)).collect();
        all.sort_unstable();
        all.dedup();
        all.into_iter()
    }

    /// Services `service` calls directly.
    pub fn callees<'a>(&'a self, service: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.out
            .get(service)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Services that call `service` directly.
    pub fn callers<'a>(&'a self, service: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.inn
            .get(service)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// How many services call `service` directly.
    pub fn caller_count(&self, service: &str) -> usize {
        self.inn.get(service).map_or(0, BTreeSet::len)
    }

    /// Whether there is a direct edge `caller -> callee`.
    pub fn calls(&self, caller: &str, callee: &str) -> bool {
        self.out.get(caller).is_some_and(|s| s.contains(callee))
    }

    /// How `a` and `b` are linked within two hops: `Some(None)` when adjacent (either
    /// direction), `Some(Some(via))` through a service on a call chain `a -> via -> b` or
    /// `b -> via -> a` (the first by name), `None` otherwise.
    ///
    /// Two services that merely share a callee (two APIs calling `auth`) or a caller are *not*
    /// linked: a fault travels along call chains, and hubs would otherwise tie every part of a
    /// large system together.
    pub fn within_two_hops(&self, a: &str, b: &str) -> Option<Option<&str>> {
        if !self.knows(a) {
            return None;
        }
        if self.calls(a, b) || self.calls(b, a) {
            return Some(None);
        }
        let chain = |x: &str, y: &str| -> Option<&str> {
            let out = self.out.get(x)?;
            let inn = self.inn.get(y)?;
            out.intersection(inn).next().map(String::as_str)
        };
        match (chain(a, b), chain(b, a)) {
            (Some(v), Some(w)) => Some(Some(v.min(w))),
            (Some(v), None) | (None, Some(v)) => Some(Some(v)),
            (None, None) => None,
        }
    }

    /// Shortest undirected path from `a` to `b` (both included) of at most `max_hops` edges.
    pub fn path(&self, a: &str, b: &str, max_hops: usize) -> Option<Vec<String>> {
        let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([(a, 0usize)]);
        let mut seen = BTreeSet::from([a]);
        while let Some((node, depth)) = queue.pop_front() {
            if node == b {
                let mut path = vec![b.to_string()];
                let mut cur = b;
                while let Some(p) = prev.get(cur) {
                    path.push((*p).to_string());
                    cur = p;
                }
                path.reverse();
                return Some(path);
            }
            if depth >= max_hops {
                continue;
            }
            for next in self.neighbours(node) {
                if seen.insert(next) {
                    prev.insert(next, node);
                    queue.push_back((next, depth + 1));
                }
            }
        }
        None
    }

    /// Whether `a` depends on `b`, directly or through other services.
    /// Every service `a` transitively calls (not `a` itself unless on a cycle).
    pub fn reachable<'a>(&'a self, a: &str) -> BTreeSet<&'a str> {
        let mut seen: BTreeSet<&'a str> = BTreeSet::new();
        let mut stack: Vec<&'a str> = self.callees(a).collect();
        while let Some(node) = stack.pop() {
            if seen.insert(node) {
                stack.extend(self.callees(node));
            }
        }
        seen
    }

    pub fn depends_on(&self, a: &str, b: &str) -> bool {
        let mut seen = BTreeSet::from([a]);
        let mut stack = vec![a];
        while let Some(node) = stack.pop() {
            for next in self.out.get(node).into_iter().flatten() {
                if next == b {
                    return true;
                }
                if seen.insert(next.as_str()) {
                    stack.push(next.as_str());
                }
            }
        }
        false
    }
}

/// Adds `to` to the set of `from` (cloning `from` only when it is new).
fn add(map: &mut HashMap<String, BTreeSet<String>>, from: &str, to: &str) {
    match map.get_mut(from) {
        Some(set) => {
            if !set.contains(to) {
                set.insert(to.to_string());
            }
        }
        None => {
            map.insert(from.to_string(), BTreeSet::from([to.to_string()]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(pairs: &[(&str, &str)]) -> Vec<Edge> {
        pairs
            .iter()
            .map(|(f, t)| Edge {
                from: (*f).to_string(),
                to: (*t).to_string(),
            })
            .collect()
    }

    #[test]
    fn paths_are_undirected_and_bounded() {
        let t = Topology::new(&edges(&[("web", "api"), ("api", "db"), ("db", "disk")]));
        assert_eq!(
            t.path("db", "web", 2),
            Some(vec!["db".to_string(), "api".to_string(), "web".to_string()])
        );
        assert_eq!(t.path("web", "disk", 2), None);
        assert_eq!(t.path("web", "disk", 3).map(|p| p.len()), Some(4));
        assert_eq!(t.path("web", "nowhere", 2), None);
        assert_eq!(t.within_two_hops("db", "web"), Some(Some("api")));
        assert_eq!(t.within_two_hops("api", "web"), Some(None));
        assert_eq!(t.within_two_hops("web", "disk"), None);
        // Siblings sharing a callee, or callees sharing a caller, are not linked.
        let hub = Topology::new(&edges(&[
            ("a", "auth"),
            ("b", "auth"),
            ("a", "x"),
            ("a", "y"),
        ]));
        assert_eq!(hub.within_two_hops("a", "b"), None);
        assert_eq!(hub.within_two_hops("x", "y"), None);
        assert!(t.calls("web", "api"));
        assert!(!t.calls("api", "web"));
    }

    #[test]
    fn depends_on_is_directed_transitive_and_survives_cycles() {
        let t = Topology::new(&edges(&[
            ("web", "api"),
            ("api", "db"),
            ("db", "api"),
            ("x", "x"),
        ]));
        assert!(t.depends_on("web", "db"));
        assert!(!t.depends_on("db", "web"));
        assert!(t.depends_on("db", "api"));
        assert!(!t.knows("x"), "self-edges are ignored");
        assert!(!t.depends_on("db", "nowhere"));
    }
}
