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
use std::collections::{BTreeMap, BTreeSet};

use super::correlate::{
    clock, finite01, gap, IncidentInput, SeriesIndex, Topology, ANOMALY_LOOKBACK_SECS,
};
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
    service: &'a str,
    first_alert: Option<(i64, &'a str)>,
    /// Earliest anomaly onset and the metric it belongs to.
    anomaly_onset: Option<(i64, String)>,
    /// Best series: (value, id, sigma, direction, onset).
    metric: Option<(f64, String, f64, Direction, Option<i64>)>,
    patterns: Vec<&'a PatternSummary>,
}

impl Signals<'_> {
    fn onset(&self) -> Option<i64> {
        let a = self.first_alert.map(|(t, _)| t);
        let b = self.anomaly_onset.as_ref().map(|(t, _)| *t);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Ranks the services of an incident's `members` as likely causes, best first.
pub fn likely_causes(
    members: &[Member],
    input: &IncidentInput<'_>,
    topology: &Topology,
) -> Vec<CauseCandidate> {
    likely_causes_indexed(
        members,
        input,
        topology,
        &SeriesIndex::with_anomalies(input.series, input.anomalies),
    )
}

/// [`likely_causes`] with a series index built once for many incidents.
pub fn likely_causes_indexed<'a>(
    members: &[Member],
    input: &IncidentInput<'a>,
    topology: &Topology,
    index: &SeriesIndex<'a>,
) -> Vec<CauseCandidate> {
    let signals = collect(members, input, index);
    if signals.is_empty() {
        return Vec::new();
    }
    let t0 = signals.iter().filter_map(Signals::onset).min();
    // What each service (transitively) depends on, walked once per service.
    let reach: BTreeMap<&str, BTreeSet<&str>> = signals
        .iter()
        .map(|s| (s.service, topology.reachable(s.service)))
        .collect();
    let depends_on = |a: &str, b: &str| reach.get(a).is_some_and(|r| r.contains(b));
    let mut scored: Vec<(f64, i64, CauseCandidate)> = signals
        .iter()
        .map(|s| {
            let (raw, evidence) = score(s, &signals, t0, &depends_on);
            let cand = CauseCandidate {
                service: s.service.to_string(),
                alert: s.first_alert.map(|(_, n)| n.to_string()),
                confidence: raw,
                evidence,
            };
            (raw, s.onset().unwrap_or(i64::MAX), cand)
        })
        .collect();
    let total: f64 = scored.iter().map(|(r, ..)| *r).sum();
    let best = scored.iter().map(|(r, ..)| *r).fold(0.0, f64::max);
    for (raw, _, c) in &mut scored {
        c.confidence = if total > 0.0 {
            finite01(*raw / total * (0.5 + 0.5 * best))
        } else {
            0.0
        };
    }
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.service.cmp(&b.2.service))
    });
    scored
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(.., c)| c)
        .collect()
}

fn collect<'a>(
    members: &'a [Member],
    input: &IncidentInput<'a>,
    index: &SeriesIndex<'a>,
) -> Vec<Signals<'a>> {
    let start = members.iter().map(|m| m.starts_at.timestamp()).min();
    let Some(start) = start else {
        return Vec::new();
    };
    let from = start.saturating_sub(ANOMALY_LOOKBACK_SECS);
    let now = input.now.timestamp();
    let mut by_service: BTreeMap<&str, Option<(i64, &str)>> = BTreeMap::new();
    for m in members {
        if let Some(s) = m.service.as_deref() {
            let entry = by_service.entry(s).or_insert(None);
            let this = (m.starts_at.timestamp(), m.alertname.as_str());
            if entry.is_none_or(|e| this < e) {
                *entry = Some(this);
            }
        }
    }
    by_service
        .into_iter()
        .map(|(service, first_alert)| {
            let mut anomaly_onset: Option<(i64, String)> = None;
            let mut metric: Option<(f64, String, f64, Direction, Option<i64>)> = None;
            for (series, anomaly) in index.series(input, service) {
                let Some(a) = anomaly else { continue };
                let name = series.metric();
                if let Some(o) = a.onset.filter(|o| *o >= from && *o <= now) {
                    if anomaly_onset
                        .as_ref()
                        .is_none_or(|(t, n)| (o, name) < (*t, n.as_str()))
                    {
                        anomaly_onset = Some((o, name.to_string()));
                    }
                }
                let sigma = if a.deviation_sigma.is_finite() {
                    a.deviation_sigma
                } else {
                    0.0
                };
                let size = finite01(a.peak_score).max(sigma.abs() / (sigma.abs() + SIGMA_HALF));
                let better = metric
                    .as_ref()
                    .is_none_or(|m| size.total_cmp(&m.0).then(m.1.as_str().cmp(name)).is_gt());
                if size > 0.0 && better {
                    metric = Some((size, name.to_string(), sigma, a.direction, a.onset));
                }
            }
            let patterns = input
                .patterns
                .iter()
                .filter(|p| p.service.as_deref() == Some(service) && p.is_notable())
                .collect();
            Signals {
                service,
                first_alert,
                anomaly_onset,
                metric,
                patterns,
            }
        })
        .collect()
}

fn score(
    s: &Signals<'_>,
    all: &[Signals<'_>],
    t0: Option<i64>,
    depends_on: &dyn Fn(&str, &str) -> bool,
) -> (f64, Vec<Evidence>) {
    let mut evidence = Vec::new();
    let mut raw = 0.0;
    let mut add = |kind, text: String, weight: f64, evidence: &mut Vec<Evidence>| {
        raw += weight;
        evidence.push(Evidence { kind, text, weight });
    };

    if let (Some(onset), Some(t0)) = (s.onset(), t0) {
        let lag = onset.saturating_sub(t0).max(0);
        let value = 1.0 / (1.0 + lag as f64 / ONSET_HALF_SECS);
        add(
            EvidenceKind::Fact,
            onset_text(s, all, onset, t0),
            W_ONSET * value,
            &mut evidence,
        );
    }

    let others: Vec<&str> = all
        .iter()
        .map(|o| o.service)
        .filter(|o| *o != s.service)
        .collect();
    if !others.is_empty() {
        let dependents: Vec<&str> = others
            .iter()
            .copied()
            .filter(|o| depends_on(o, s.service))
            .collect();
        let deps: Vec<&str> = others
            .iter()
            .copied()
            .filter(|o| depends_on(s.service, o))
            .collect();
        let mut value = dependents.len() as f64 / others.len() as f64;
        if !deps.is_empty() {
            value *= 0.25;
        }
        if !dependents.is_empty() {
            let text = format!("upstream of {} in the dependency graph", list(&dependents));
            add(EvidenceKind::Guess, text, W_UPSTREAM * value, &mut evidence);
        }
        if !deps.is_empty() {
            let text = format!(
                "depends on {}, also affected: may be a symptom",
                list(&deps)
            );
            evidence.push(Evidence {
                kind: EvidenceKind::Guess,
                text,
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
        let since = onset.map_or(String::new(), |o| format!(" since {}", clock(o)));
        let text = if sigma.abs() >= 0.05 {
            format!(
                "{name} {} {side} normal{since}",
                super::anomaly::sigma_text(*sigma)
            )
        } else {
            format!("{name} anomalous (score {value:.2}){since}")
        };
        add(EvidenceKind::Fact, text, W_METRIC * value, &mut evidence);
    }

    // Log patterns (NEW / SURGE / VANISHED): text and k from patterns::cause_evidence.
    if let Some((text, k)) = super::patterns::cause_evidence(&s.patterns) {
        add(
            EvidenceKind::Fact,
            text,
            W_LOGS * k / (k + 1.0),
            &mut evidence,
        );
    }
    (finite01(raw), evidence)
}

fn onset_text(s: &Signals<'_>, all: &[Signals<'_>], onset: i64, t0: i64) -> String {
    let what = match (s.first_alert, &s.anomaly_onset) {
        (Some((a, _)), Some((m, id))) if *m < a => {
            format!(
                "{id} anomalous from {}, {} before its first alert",
                clock(*m),
                gap(a - m)
            )
        }
        (Some((a, _)), _) => format!("first alert at {}", clock(a)),
        (None, Some((m, id))) => format!("{id} anomalous from {}", clock(*m)),
        (None, None) => String::new(),
    };
    if onset > t0 {
        let first = all
            .iter()
            .filter(|o| o.onset() == Some(t0))
            .map(|o| o.service)
            .next()
            .unwrap_or("?");
        return format!("{what}, {} after {first}", gap(onset - t0));
    }
    let next = all
        .iter()
        .filter(|o| o.service != s.service)
        .filter_map(Signals::onset)
        .min();
    match next {
        Some(n) if n > onset => format!("{what}, {} before any other service", gap(n - onset)),
        Some(_) => format!("{what}, together with another service"),
        None => what,
    }
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
