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
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};

mod assemble;
mod fasthash;
mod link;
mod nodes;
mod topology;
pub(crate) mod world;

use fasthash::FastMap as HashMap;

pub use topology::{inferred_edges, Topology};

use super::{rank, PatternSummary, SeriesAnomaly, Transition};
use crate::domain::{Alert, Edge, Incident, Series};

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
    // The graph: configured edges plus those read from alert labels (duplicates collapse).
    let services: Vec<Option<&str>> = input.alerts.iter().map(Alert::service).collect();
    let inferred = input
        .alerts
        .iter()
        .zip(&services)
        .filter_map(|(a, s)| Some(topology::inferred_pairs(a, (*s)?)))
        .flatten();
    let edges = input
        .topology
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .chain(inferred);
    let world = world::World::new(
        edges,
        &services,
        input.series,
        input.anomalies,
        input.patterns,
    );
    let nodes = nodes::active_nodes(input, &world, &services);
    let related = link::Related::new(&world, &nodes);
    let groups = link::group(&nodes, &world, &related);
    let (groups, notes) = if rules.is_empty() {
        (groups, BTreeMap::new())
    } else {
        let keys: Vec<String> = nodes
            .iter()
            .map(|n| super::corrections::alert_key(n.alert))
            .collect();
        super::corrections::apply(groups, &keys, rules)
    };
    let cx = assemble::Ctx {
        nodes: &nodes,
        world: &world,
        related: &related,
        input,
    };
    let mut scratch = super::cause::Scratch::default();
    let mut incidents: Vec<Incident> = Vec::with_capacity(groups.len());
    let mut anomaly: Vec<f64> = Vec::with_capacity(groups.len());
    for idx in &groups {
        let (incident, a) = assemble::assemble(idx, &cx, &mut scratch);
        incidents.push(incident);
        anomaly.push(a);
    }
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
    rank::rank_incidents_with(&mut incidents, input, &anomaly);
    incidents
}

/// The series of `service` (in input order) with their anomaly result, if any.
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

/// Two incidents whose openers share the first fingerprint digits get a suffix, in order.
fn dedupe_ids(incidents: &mut [Incident]) {
    let mut seen: HashMap<&str, usize> = HashMap::default();
    seen.reserve(incidents.len());
    let mut renamed: Vec<(usize, usize)> = Vec::new();
    for (i, inc) in incidents.iter().enumerate() {
        let n = seen.entry(inc.id.as_str()).or_insert(0);
        *n += 1;
        if *n > 1 {
            renamed.push((i, *n));
        }
    }
    for (i, n) in renamed {
        let inc = &mut incidents[i];
        inc.id = format!("{}-{}", inc.id, n);
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
    Clock(secs).to_string()
}

/// [`clock`] as a `Display` value, to write into a text without an extra string.
pub(crate) struct Clock(pub i64);

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same as chrono's "%H:%M", without parsing a format string each time.
        if DateTime::from_timestamp(self.0, 0).is_none() {
            return f.write_str("?");
        }
        let day = self.0.rem_euclid(86_400);
        write!(f, "{:02}:{:02}", day / 3600, day % 3600 / 60)
    }
}

/// A gap in seconds as "<1 m", "12 m" or "2 h 5 m".
pub fn gap(secs: i64) -> String {
    Gap(secs).to_string()
}

/// [`gap`] as a `Display` value, to write into a text without an extra string.
pub(crate) struct Gap(pub i64);

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.unsigned_abs() / 60 {
            0 => f.write_str("<1 m"),
            m if m < 60 => write!(f, "{m} m"),
            m => write!(f, "{} h {} m", m / 60, m % 60),
        }
    }
}
