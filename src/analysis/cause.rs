//! Likely cause within an incident.
//!
//! Every service of the incident gets a raw score in 0..1, a weighted sum of four signals:
//!
//! | signal   | weight | value in 0..1 |
//! |----------|--------|---------------|
//! | onset    | [`W_ONSET`] 0.35 | `1 / (1 + lag / 5 min)`, lag = its first signal (alert start or anomaly onset) minus the incident's first |
//! | upstream | [`W_UPSTREAM`] 0.30 | share of the other affected services that (transitively) depend on it; ×0.25 if it itself depends on an affected service |
//! | metrics  | [`W_METRIC`] 0.20 | max over its series of `max(peak_score, s / (s + 3))`, s = abs(deviation_sigma) |
//! | logs     | [`W_LOGS`] 0.15 | `k / (k + 1)`, k = new patterns + ½ × (surging + stopped) patterns, from `patterns::cause_evidence` |
//!
//! Onset order and the dependency direction together decide most cases: a caller's alert may fire
//! a few minutes before the callee's (shorter `for:`, louder symptom), and the upstream term
//! outweighs a lead of a few minutes, but not a lead of a quarter of an hour or more.
//!
//! Confidence = `raw / Σ raw × (0.5 + 0.5 × best raw)`: each candidate's share of the evidence,
//! discounted when even the best candidate's evidence is thin. Candidates sum to at most 1; the
//! top [`MAX_CANDIDATES`] are kept.
use super::correlate::world::{Svc, World};
use std::cmp::Ordering;
use std::fmt::Write;

use super::correlate::{finite01, Clock, Gap, IncidentInput, Topology, ANOMALY_LOOKBACK_SECS};
use super::{Direction, PatternSummary};
use crate::domain::{CauseCandidate, Evidence, EvidenceKind, Member};

/// Weight of onset order.
pub const W_ONSET: f64 = 0.35;
/// Weight of being upstream of the other affected services.
pub const W_UPSTREAM: f64 = 0.30;
/// Weight of the size of the metric change.
pub const W_METRIC: f64 = 0.20;
/// Weight of new or surging log patterns.
pub const W_LOGS: f64 = 0.15;
/// Candidates kept per incident.
pub const MAX_CANDIDATES: usize = 5;
/// Lag after the incident's first signal at which the onset value halves.
const ONSET_HALF_SECS: f64 = 300.0;
/// |σ| at which the sigma part of the metric value reaches one half.
const SIGMA_HALF: f64 = 3.0;

/// What was measured for one service.
struct Signals<'a> {
    svc: Svc,
    service: &'a str,
    first_alert: Option<(i64, &'a str)>,
    /// Earliest anomaly onset and the metric it belongs to.
    anomaly_onset: Option<(i64, &'a str)>,
    /// Best series: (value, id, sigma, direction, onset).
    metric: Option<(f64, &'a str, f64, Direction, Option<i64>)>,
    patterns: &'a [&'a PatternSummary],
}

impl Signals<'_> {
    fn onset(&self) -> Option<i64> {
        let a = self.first_alert.map(|(t, _)| t);
        let b = self.anomaly_onset.map(|(t, _)| t);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A member as cause analysis sees it.
pub(crate) struct MemberRef<'a> {
    pub svc: Option<Svc>,
    pub start: i64,
    pub alertname: &'a str,
}

/// Buffers reused from one incident to the next.
#[derive(Default)]
pub(crate) struct Scratch {
    /// `seen[s] == stamp`: service `s` reached in the current walk.
    seen: Vec<u32>,
    stamp: u32,
    stack: Vec<Svc>,
    /// The dependency matrix of the current incident's services.
    deps: Vec<bool>,
}

impl Scratch {
    /// Marks every service `from` transitively calls (not `from` itself unless on a cycle).
    fn walk(&mut self, world: &World<'_>, from: Svc) {
        if self.seen.len() < world.len() {
            self.seen.resize(world.len(), 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.fill(0);
            self.stamp = 1;
        }
        self.stack.clear();
        self.stack.extend_from_slice(world.callees(from));
        while let Some(node) = self.stack.pop() {
            let seen = &mut self.seen[node as usize];
            if *seen != self.stamp {
                *seen = self.stamp;
                self.stack.extend_from_slice(world.callees(node));
            }
        }
    }

    fn reached(&self, s: Svc) -> bool {
        self.seen[s as usize] == self.stamp
    }
}

/// Ranks the services of an incident's `members` as likely causes, best first.
pub fn likely_causes(
    members: &[Member],
    input: &IncidentInput<'_>,
    topology: &Topology,
) -> Vec<CauseCandidate> {
    let services: Vec<Option<&str>> = members.iter().map(|m| m.service.as_deref()).collect();
    let world = World::new(
        topology.edges(),
        &services,
        input.series,
        input.anomalies,
        input.patterns,
    );
    let refs: Vec<MemberRef<'_>> = members
        .iter()
        .enumerate()
        .map(|(i, m)| MemberRef {
            svc: world.alert_svc(i),
            start: m.starts_at.timestamp(),
            alertname: m.alertname.as_str(),
        })
        .collect();
    likely_causes_in(&refs, input, &world, &mut Scratch::default()).0
}

/// [`likely_causes`] on interned members; also returns the top candidate's service.
pub(crate) fn likely_causes_in<'a>(
    members: &[MemberRef<'a>],
    input: &IncidentInput<'a>,
    world: &World<'a>,
    scratch: &mut Scratch,
) -> (Vec<CauseCandidate>, Option<Svc>) {
    let signals = collect(members, input, world);
    if signals.is_empty() {
        return (Vec::new(), None);
    }
    let n = signals.len();
    let t0 = signals.iter().filter_map(Signals::onset).min();
    // deps[i * n + j]: service i (transitively) depends on service j; walked once per service.
    let mut deps = std::mem::take(&mut scratch.deps);
    deps.clear();
    deps.resize(n * n, false);
    for (i, s) in signals.iter().enumerate() {
        scratch.walk(world, s.svc);
        for (j, o) in signals.iter().enumerate() {
            deps[i * n + j] = scratch.reached(o.svc);
        }
    }
    let mut scored: Vec<(f64, i64, usize)> = (0..n)
        .map(|i| {
            let raw = score(i, &signals, t0, &deps);
            (raw, signals[i].onset().unwrap_or(i64::MAX), i)
        })
        .collect();
    let total: f64 = scored.iter().map(|(r, ..)| *r).sum();
    let best = scored.iter().map(|(r, ..)| *r).fold(0.0, f64::max);
    // Services are in name order, so the index breaks ties by name.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let top = signals[scored[0].2].svc;
    let candidates = scored
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(raw, _, i)| {
            let s = &signals[i];
            CauseCandidate {
                service: s.service.to_string(),
                alert: s.first_alert.map(|(_, n)| n.to_string()),
                confidence: if total > 0.0 {
                    finite01(raw / total * (0.5 + 0.5 * best))
                } else {
                    0.0
                },
                evidence: evidence(i, &signals, t0, &deps),
            }
        })
        .collect();
    scratch.deps = deps;
    (candidates, Some(top))
}

fn collect<'w, 'a: 'w>(
    members: &[MemberRef<'a>],
    input: &IncidentInput<'a>,
    world: &'w World<'a>,
) -> Vec<Signals<'w>> {
    let Some(start) = members.iter().map(|m| m.start).min() else {
        return Vec::new();
    };
    let from = start.saturating_sub(ANOMALY_LOOKBACK_SECS);
    let now = input.now.timestamp();
    // (service, first alert), in service name order.
    let mut by_service: Vec<(Svc, (i64, &'a str))> = members
        .iter()
        .filter_map(|m| Some((m.svc?, (m.start, m.alertname))))
        .collect();
    by_service.sort_unstable_by(|a, b| world.name(a.0).cmp(world.name(b.0)).then(a.1.cmp(&b.1)));
    by_service.dedup_by_key(|(s, _)| *s);
    by_service
        .into_iter()
        .map(|(svc, first_alert)| {
            let mut anomaly_onset: Option<(i64, &'w str)> = None;
            let mut metric: Option<(f64, &'w str, f64, Direction, Option<i64>)> = None;
            for row in world.rows(svc) {
                let Some(a) = row.anomaly else { continue };
                // The metric name is looked up only when it decides or is kept.
                let mut name: Option<&'w str> = None;
                let mut name_of = || *name.get_or_insert_with(|| row.series.metric());
                if let Some(o) = a.onset.filter(|o| *o >= from && *o <= now) {
                    let earlier = match anomaly_onset {
                        None => true,
                        Some((t, n)) => o < t || (o == t && name_of() < n),
                    };
                    if earlier {
                        anomaly_onset = Some((o, name_of()));
                    }
                }
                let sigma = if a.deviation_sigma.is_finite() {
                    a.deviation_sigma
                } else {
                    0.0
                };
                let size = finite01(a.peak_score).max(sigma.abs() / (sigma.abs() + SIGMA_HALF));
                let better = size > 0.0
                    && match metric {
                        None => true,
                        Some(m) => match size.total_cmp(&m.0) {
                            Ordering::Greater => true,
                            Ordering::Less => false,
                            Ordering::Equal => m.1 > name_of(),
                        },
                    };
                if better {
                    metric = Some((size, name_of(), sigma, a.direction, a.onset));
                }
            }
            Signals {
                svc,
                service: world.name(svc),
                first_alert: Some(first_alert),
                anomaly_onset,
                metric,
                patterns: world.patterns(svc),
            }
        })
        .collect()
}

/// The onset part's value, the upstream part's (with how many services depend on `i` and
/// how many it depends on), and the log part's `k`.
fn upstream(i: usize, all: &[Signals<'_>], deps: &[bool]) -> Option<(f64, usize, usize)> {
    let n = all.len();
    let others = n - 1;
    if others == 0 {
        return None;
    }
    let dependents = (0..n).filter(|&j| j != i && deps[j * n + i]).count();
    let depends = (0..n).filter(|&j| j != i && deps[i * n + j]).count();
    let mut value = dependents as f64 / others as f64;
    if depends > 0 {
        value *= 0.25;
    }
    Some((value, dependents, depends))
}

fn onset_value(s: &Signals<'_>, t0: Option<i64>) -> Option<(i64, i64, f64)> {
    let (onset, t0) = (s.onset()?, t0?);
    let lag = onset.saturating_sub(t0).max(0);
    Some((onset, t0, 1.0 / (1.0 + lag as f64 / ONSET_HALF_SECS)))
}

/// The raw score of `all[i]` in 0..1 (the sum of its evidence weights, in evidence order).
fn score(i: usize, all: &[Signals<'_>], t0: Option<i64>, deps: &[bool]) -> f64 {
    let s = &all[i];
    let mut raw = 0.0;
    if let Some((.., value)) = onset_value(s, t0) {
        raw += W_ONSET * value;
    }
    if let Some((value, dependents, _)) = upstream(i, all, deps) {
        if dependents > 0 {
            raw += W_UPSTREAM * value;
        }
    }
    if let Some((value, ..)) = &s.metric {
        raw += W_METRIC * value;
    }
    if !s.patterns.is_empty() {
        if let Some((_, k)) = super::patterns::cause_evidence(s.patterns) {
            raw += W_LOGS * k / (k + 1.0);
        }
    }
    finite01(raw)
}

/// The evidence behind `all[i]`'s score, with its texts (built only for candidates shown).
fn evidence(i: usize, all: &[Signals<'_>], t0: Option<i64>, deps: &[bool]) -> Vec<Evidence> {
    let s = &all[i];
    let n = all.len();
    let mut evidence = Vec::with_capacity(4);
    if let Some((onset, t0, value)) = onset_value(s, t0) {
        evidence.push(Evidence {
            kind: EvidenceKind::Fact,
            text: onset_text(s, all, onset, t0),
            weight: W_ONSET * value,
        });
    }
    if let Some((value, dependents, depends)) = upstream(i, all, deps) {
        if dependents > 0 {
            let list_of = names(all, i, |j| deps[j * n + i]);
            evidence.push(Evidence {
                kind: EvidenceKind::Guess,
                text: format!("upstream of {} in the dependency graph", list(&list_of)),
                weight: W_UPSTREAM * value,
            });
        }
        if depends > 0 {
            let list_of = names(all, i, |j| deps[i * n + j]);
            evidence.push(Evidence {
                kind: EvidenceKind::Guess,
                text: format!(
                    "depends on {}, also affected: may be a symptom",
                    list(&list_of)
                ),
                weight: 0.0,
            });
        }
    }
    if let Some((value, name, sigma, direction, onset)) = &s.metric {
        let side = match direction {
            Direction::Down => "below",
            Direction::Up => "above",
            Direction::None if *sigma < 0.0 => "below",
            Direction::None => "above",
        };
        let mut text = String::with_capacity(96);
        let _ = if sigma.abs() >= 0.05 {
            write!(
                text,
                "{name} {} {side} normal",
                super::anomaly::sigma_text(*sigma)
            )
        } else {
            write!(text, "{name} anomalous (score {value:.2})")
        };
        if let Some(o) = onset {
            let _ = write!(text, " since {}", Clock(*o));
        }
        evidence.push(Evidence {
            kind: EvidenceKind::Fact,
            text,
            weight: W_METRIC * value,
        });
    }
    // Log patterns (NEW / SURGE / VANISHED): text and k from patterns::cause_evidence.
    if let Some((text, k)) = super::patterns::cause_evidence(s.patterns) {
        evidence.push(Evidence {
            kind: EvidenceKind::Fact,
            text,
            weight: W_LOGS * k / (k + 1.0),
        });
    }
    evidence
}

/// The services other than `all[i]` that `pick` selects, in order.
fn names<'s>(all: &[Signals<'s>], i: usize, pick: impl Fn(usize) -> bool) -> Vec<&'s str> {
    (0..all.len())
        .filter(|&j| j != i && pick(j))
        .map(|j| all[j].service)
        .collect()
}

fn onset_text(s: &Signals<'_>, all: &[Signals<'_>], onset: i64, t0: i64) -> String {
    let mut text = String::with_capacity(96);
    let _ = match (s.first_alert, s.anomaly_onset) {
        (Some((a, _)), Some((m, id))) if m < a => write!(
            text,
            "{id} anomalous from {}, {} before its first alert",
            Clock(m),
            Gap(a - m)
        ),
        (Some((a, _)), _) => write!(text, "first alert at {}", Clock(a)),
        (None, Some((m, id))) => write!(text, "{id} anomalous from {}", Clock(m)),
        (None, None) => Ok(()),
    };
    if onset > t0 {
        let first = all
            .iter()
            .filter(|o| o.onset() == Some(t0))
            .map(|o| o.service)
            .next()
            .unwrap_or("?");
        let _ = write!(text, ", {} after {first}", Gap(onset - t0));
        return text;
    }
    let next = all
        .iter()
        .filter(|o| o.svc != s.svc)
        .filter_map(Signals::onset)
        .min();
    let _ = match next {
        Some(n) if n > onset => write!(text, ", {} before any other service", Gap(n - onset)),
        Some(_) => write!(text, ", together with another service"),
        None => Ok(()),
    };
    text
}

fn list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [a] => (*a).to_string(),
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        [a, b, rest @ ..] => format!("{} services ({a}, {b}, ...)", rest.len() + 2),
    }
}

pub(crate) fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{} ...", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::DateTime;

    use super::*;
    use crate::domain::Severity;

    fn member(name: &str, service: &str, at: i64) -> Member {
        Member {
            fingerprint: name.into(),
            alertname: name.into(),
            service: Some(service.into()),
            severity: Severity::Warning,
            starts_at: DateTime::from_timestamp(at, 0).expect("valid time"),
            reason: String::new(),
            flapping: false,
        }
    }

    fn causes(members: &[Member]) -> Vec<CauseCandidate> {
        let anomalies = BTreeMap::new();
        let input = IncidentInput {
            now: DateTime::from_timestamp(10_000, 0).expect("valid time"),
            alerts: &[],
            transitions: &[],
            series: &[],
            anomalies: &anomalies,
            patterns: &[],
            topology: &[],
        };
        likely_causes(members, &input, &Topology::default())
    }

    #[test]
    fn thin_evidence_gives_modest_confidence() {
        let c = causes(&[member("A", "svc", 0), member("B", "svc", 60)]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].alert.as_deref(), Some("A"));
        // Onset only: raw 0.35, share 1, discount 0.5 + 0.5 * 0.35.
        assert!(
            (c[0].confidence - 0.675).abs() < 1e-12,
            "{}",
            c[0].confidence
        );
        assert_eq!(c[0].evidence.len(), 1);
        assert_eq!(c[0].evidence[0].text, "first alert at 00:00");
    }

    #[test]
    fn earlier_onset_wins_without_other_signals() {
        let c = causes(&[member("Late", "b", 600), member("Early", "a", 0)]);
        assert_eq!(c[0].service, "a");
        assert_eq!(
            c[0].evidence[0].text,
            "first alert at 00:00, 10 m before any other service"
        );
        assert_eq!(c[1].evidence[0].text, "first alert at 00:10, 10 m after a");
        assert!(c.iter().map(|x| x.confidence).sum::<f64>() <= 1.0);
        assert!(causes(&[]).is_empty());
    }
}
