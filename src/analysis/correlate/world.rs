//! One run's interned view of its input: every service name becomes a small integer id, the
//! dependency graph is kept as sorted id lists, and the series (with their anomaly results) of
//! the services that have alerts are grouped by service id. Built once per run, so grouping,
//! cause analysis and ranking do integer work instead of string lookups.
use std::collections::BTreeMap;

use super::fasthash::FastMap;
use crate::analysis::{PatternSummary, SeriesAnomaly};
use crate::domain::Series;

/// An interned service name (ids follow first appearance, not name order).
pub(crate) type Svc = u32;

/// One series of a service with its anomaly result, if any.
#[derive(Clone, Copy)]
pub(crate) struct Row<'a> {
    pub series: &'a Series,
    pub anomaly: Option<&'a SeriesAnomaly>,
}

pub(crate) struct World<'a> {
    /// Service names by id.
    names: Vec<&'a str>,
    /// Callees and callers of each service, sorted by id, each once.
    out: Adjacency,
    inn: Adjacency,
    /// Series rows of the alerting services: those of `s` are `rows[start[s]..start[s + 1]]`,
    /// in input order.
    start: Vec<u32>,
    rows: Vec<Row<'a>>,
    /// Notable log patterns by service.
    patterns: FastMap<Svc, Vec<&'a PatternSummary>>,
    /// The service of each alert passed to [`World::new`].
    alert_svc: Vec<Option<Svc>>,
}

impl<'a> World<'a> {
    /// Interns the services of `edges` (self-edges and empty names are ignored, as in
    /// [`super::Topology::new`]) and the services of the alerts (`alerting`, one entry per
    /// alert, see [`World::alert_svc`]), and indexes the series
    /// of the alerting services (the only ones grouping and cause analysis look at).
    pub fn new(
        edges: impl Iterator<Item = (&'a str, &'a str)>,
        alerting: &[Option<&'a str>],
        series: &'a [Series],
        anomalies: &'a BTreeMap<String, SeriesAnomaly>,
        patterns: &'a [PatternSummary],
    ) -> Self {
        let mut ids: FastMap<&'a str, Svc> = FastMap::default();
        let mut names: Vec<&'a str> = Vec::new();
        let mut intern = |s: &'a str| -> Svc {
            *ids.entry(s).or_insert_with(|| {
                names.push(s);
                (names.len() - 1) as Svc
            })
        };
        let edge_ids: Vec<(Svc, Svc)> = edges
            .filter(|(f, t)| f != t && !f.is_empty() && !t.is_empty())
            .map(|(f, t)| (intern(f), intern(t)))
            .collect();
        let alert_svc: Vec<Option<Svc>> = alerting.iter().map(|s| s.map(&mut intern)).collect();
        let n = names.len();
        // Each edge once, as (from, to) and as (to, from), sorted: the lists of a service are
        // then consecutive and sorted.
        let mut pairs: Vec<(Svc, Svc)> = edge_ids;
        pairs.sort_unstable();
        pairs.dedup();
        let out = Adjacency::new(n, &pairs);
        for p in pairs.iter_mut() {
            *p = (p.1, p.0);
        }
        pairs.sort_unstable();
        let inn = Adjacency::new(n, &pairs);
        let mut has_alert = vec![false; n];
        for s in alert_svc.iter().flatten() {
            has_alert[*s as usize] = true;
        }
        // Series by alerting service (a counting sort keeps input order within a service).
        let series_svc: Vec<Svc> = series
            .iter()
            .map(|s| {
                s.service()
                    .and_then(|name| ids.get(name).copied())
                    .filter(|&id| has_alert[id as usize])
                    .unwrap_or(Svc::MAX)
            })
            .collect();
        let mut start = vec![0u32; n + 1];
        for &s in series_svc.iter().filter(|&&s| s != Svc::MAX) {
            start[s as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill: Vec<u32> = start[..n].to_vec();
        let mut slots: Vec<Option<Row<'a>>> = vec![None; start[n] as usize];
        for (s, &svc) in series.iter().zip(&series_svc) {
            if svc != Svc::MAX {
                let at = &mut fill[svc as usize];
                slots[*at as usize] = Some(Row {
                    series: s,
                    anomaly: anomalies.get(&s.id),
                });
                *at += 1;
            }
        }
        let rows: Vec<Row<'a>> = slots.into_iter().flatten().collect();
        let mut by_service: FastMap<Svc, Vec<&'a PatternSummary>> = FastMap::default();
        for p in patterns.iter().filter(|p| p.is_notable()) {
            if let Some(&id) = p.service.as_deref().and_then(|s| ids.get(s)) {
                by_service.entry(id).or_default().push(p);
            }
        }
        World {
            names,
            out,
            inn,
            start,
            rows,
            patterns: by_service,
            alert_svc,
        }
    }

    /// The service of alert `i` (in the order given to [`World::new`]).
    pub fn alert_svc(&self, i: usize) -> Option<Svc> {
        self.alert_svc[i]
    }

    pub fn name(&self, id: Svc) -> &'a str {
        self.names[id as usize]
    }

    /// How many services were interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the service appears in any edge.
    pub fn knows(&self, s: Svc) -> bool {
        !self.out.of(s).is_empty() || !self.inn.of(s).is_empty()
    }

    /// Services `s` calls directly, in id order.
    pub fn callees(&self, s: Svc) -> &[Svc] {
        self.out.of(s)
    }

    /// Services calling `s` directly, in id order.
    pub fn callers(&self, s: Svc) -> &[Svc] {
        self.inn.of(s)
    }

    /// Whether there is a direct edge `caller -> callee`.
    pub fn calls(&self, caller: Svc, callee: Svc) -> bool {
        self.out.of(caller).binary_search(&callee).is_ok()
    }

    /// The first service (by name) on a call chain `a -> via -> b` or `b -> via -> a`, as
    /// [`super::Topology::within_two_hops`] names it.
    pub fn via(&self, a: Svc, b: Svc) -> Option<Svc> {
        let chain = |x: Svc, y: Svc| {
            let inn = self.inn.of(y);
            self.out
                .of(x)
                .iter()
                .copied()
                .filter(|v| inn.binary_search(v).is_ok())
        };
        chain(a, b).chain(chain(b, a)).min_by_key(|&v| self.name(v))
    }

    /// The series of `s` with their anomaly results, in input order (only for services with
    /// alerts).
    pub fn rows(&self, s: Svc) -> &[Row<'a>] {
        let (lo, hi) = (self.start[s as usize], self.start[s as usize + 1]);
        &self.rows[lo as usize..hi as usize]
    }

    /// Whether any series belongs to `s` (a service with alerts).
    pub fn watched(&self, s: Svc) -> bool {
        !self.rows(s).is_empty()
    }

    /// The notable log patterns of `s`.
    pub fn patterns(&self, s: Svc) -> &[&'a PatternSummary] {
        self.patterns.get(&s).map_or(&[], Vec::as_slice)
    }
}

/// One direction of the graph in compressed form: the neighbours of `s` are
/// `list[start[s]..start[s + 1]]`.
struct Adjacency {
    start: Vec<u32>,
    list: Vec<Svc>,
}

impl Adjacency {
    /// From pairs `(s, neighbour)` sorted and without duplicates, for services `0..n`.
    fn new(n: usize, pairs: &[(Svc, Svc)]) -> Self {
        let mut start = vec![0u32; n + 1];
        for &(s, _) in pairs {
            start[s as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        Adjacency {
            start,
            list: pairs.iter().map(|&(_, x)| x).collect(),
        }
    }

    fn of(&self, s: Svc) -> &[Svc] {
        let (lo, hi) = (self.start[s as usize], self.start[s as usize + 1]);
        &self.list[lo as usize..hi as usize]
    }
}
