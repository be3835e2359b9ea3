//! "Seen before?": how often an incident's shape appeared in the stored alert history.
//!
//! The history's firing events are cut into *episodes*: events of the look-back window sorted by
//! time, a new episode starting after a quiet gap of more than [`EPISODE_GAP_SECS`]. An episode's
//! signature is its set of `alertname@service` keys. A past episode matches the incident when the
//! Jaccard similarity of the two signatures is at least [`MATCH_JACCARD`]. Episodes that began at or
//! after the incident's start are the incident itself and are not counted.
//!
//! Tag: `New` with no match, `Rare` with one or two, `Frequent` with three or more. The last
//! matching episode's resolution note naming a runbook (as the runtime writes it, `runbook ID`) is
//! reported as what resolved it.
use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{AlertEvent, HistoryState, Incident};

/// How far back the history is searched.
pub const LOOKBACK_DAYS: i64 = 30;
/// A quiet gap longer than this starts a new episode.
pub const EPISODE_GAP_SECS: i64 = 30 * 60;
/// Minimum Jaccard similarity of signatures for a match.
pub const MATCH_JACCARD: f64 = 0.5;
/// Matches from which an incident is frequent.
pub const FREQUENT_FROM: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Familiarity {
    New,
    Rare,
    Frequent,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeenBefore {
    pub tag: Familiarity,
    /// Matching past episodes in the look-back window.
    pub times: usize,
    pub last_seen: Option<DateTime<Utc>>,
    /// e.g. `runbook payments-db-pool`.
    pub last_resolved_by: Option<String>,
    /// "seen 3 times in 30 days; last resolved by runbook payments-db-pool".
    pub text: String,
}

fn key(alertname: &str, service: Option<&str>) -> String {
    format!("{alertname}@{}", service.unwrap_or("-"))
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Compares `incident` with the episodes of `history` before it.
pub fn seen_before(incident: &Incident, history: &[AlertEvent], now: DateTime<Utc>) -> SeenBefore {
    let signature: BTreeSet<String> = incident
        .members
        .iter()
        .map(|m| key(&m.alertname, m.service.as_deref()))
        .collect();
    let from = now - Duration::days(LOOKBACK_DAYS);
    let mut events: Vec<&AlertEvent> = history
        .iter()
        .filter(|e| e.at >= from && e.at < incident.started_at)
        .collect();
    events.sort_by_key(|e| e.at);
    // (start, signature, last runbook note) per episode.
    let mut episodes: Vec<(DateTime<Utc>, BTreeSet<String>, Option<String>)> = Vec::new();
    let mut last_at: Option<DateTime<Utc>> = None;
    for e in events {
        let new_episode = last_at.is_none_or(|l| (e.at - l).num_seconds() > EPISODE_GAP_SECS);
        let resolved_note = (e.state == HistoryState::Resolved)
            .then(|| e.note.clone())
            .flatten()
            .filter(|n| n.starts_with("runbook "));
        match (e.state, new_episode, episodes.last_mut()) {
            (HistoryState::Firing, true, _) | (HistoryState::Firing, _, None) => {
                episodes.push((
                    e.at,
                    BTreeSet::from([key(&e.alertname, e.service.as_deref())]),
                    None,
                ));
                last_at = Some(e.at);
            }
            (HistoryState::Firing, false, Some(ep)) => {
                ep.1.insert(key(&e.alertname, e.service.as_deref()));
                last_at = Some(e.at);
            }
            // Resolutions come later than the episode's last firing; they belong to the
            // episode that holds the alert.
            (_, _, Some(ep))
                if resolved_note.is_some()
                    && ep.1.contains(&key(&e.alertname, e.service.as_deref())) =>
            {
                ep.2 = resolved_note;
            }
            _ => {}
        }
    }
    let matches: Vec<&(DateTime<Utc>, BTreeSet<String>, Option<String>)> = episodes
        .iter()
        .filter(|(_, sig, _)| jaccard(sig, &signature) >= MATCH_JACCARD)
        .collect();
    let times = matches.len();
    let last = matches.last();
    let last_resolved_by = matches.iter().rev().find_map(|m| m.2.clone());
    let tag = match times {
        0 => Familiarity::New,
        n if n < FREQUENT_FROM => Familiarity::Rare,
        _ => Familiarity::Frequent,
    };
    let mut text = match times {
        0 => format!("not seen in {LOOKBACK_DAYS} days"),
        1 => format!("seen once in {LOOKBACK_DAYS} days"),
        n => format!("seen {n} times in {LOOKBACK_DAYS} days"),
    };
    if let Some(by) = &last_resolved_by {
        text.push_str(&format!("; last resolved by {by}"));
    }
    SeenBefore {
        tag,
        times,
        last_seen: last.map(|m| m.0),
        last_resolved_by,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Labels, Member, Severity};

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).expect("valid time")
    }

    fn ev(name: &str, svc: &str, state: HistoryState, at: DateTime<Utc>) -> AlertEvent {
        AlertEvent {
            at,
            fingerprint: format!("{name}{svc}"),
            alertname: name.into(),
            service: Some(svc.into()),
            severity: Severity::Critical,
            state,
            starts_at: at,
            labels: Labels::new(),
            note: None,
        }
    }

    fn incident(names: &[(&str, &str)], start: DateTime<Utc>) -> Incident {
        Incident {
            id: "INC-x".into(),
            title: String::new(),
            severity: Severity::Critical,
            score: 0.0,
            rank: 1,
            started_at: start,
            members: names
                .iter()
                .map(|(n, s)| Member {
                    fingerprint: format!("{n}{s}"),
                    alertname: (*n).into(),
                    service: Some((*s).into()),
                    severity: Severity::Critical,
                    starts_at: start,
                    reason: String::new(),
                    flapping: false,
                })
                .collect(),
            services: Vec::new(),
            candidates: Vec::new(),
            score_parts: Vec::new(),
            slo_burns: Vec::new(),
            key_series: Vec::new(),
            runbooks: Vec::new(),
        }
    }

    #[test]
    fn counts_similar_past_episodes_and_names_the_last_runbook() {
        let now = t(24 * 20);
        let inc = incident(&[("PoolSaturated", "db"), ("Latency", "api")], now);
        let mut h = Vec::new();
        for day in [2, 9, 15] {
            let at = t(24 * day);
            h.push(ev("PoolSaturated", "db", HistoryState::Firing, at));
            h.push(ev(
                "Latency",
                "api",
                HistoryState::Firing,
                at + Duration::minutes(3),
            ));
            let mut r = ev(
                "PoolSaturated",
                "db",
                HistoryState::Resolved,
                at + Duration::hours(2),
            );
            r.note = Some(format!("runbook pool-day{day}"));
            h.push(r);
        }
        // Unrelated episode, and one older than 30 days.
        h.push(ev("DiskFull", "search", HistoryState::Firing, t(24 * 12)));
        h.push(ev(
            "PoolSaturated",
            "db",
            HistoryState::Firing,
            now - Duration::days(40),
        ));
        let s = seen_before(&inc, &h, now);
        assert_eq!(s.times, 3);
        assert_eq!(s.tag, Familiarity::Frequent);
        assert_eq!(s.last_resolved_by.as_deref(), Some("runbook pool-day15"));
        assert_eq!(
            s.text,
            "seen 3 times in 30 days; last resolved by runbook pool-day15"
        );
        assert_eq!(s.last_seen, Some(t(24 * 15)));
    }

    #[test]
    fn new_and_rare() {
        let now = t(100);
        let inc = incident(&[("A", "x"), ("B", "y"), ("C", "z")], now);
        assert_eq!(seen_before(&inc, &[], now).tag, Familiarity::New);
        // One of three keys: Jaccard 1/3 < 0.5, no match.
        let h = vec![ev("A", "x", HistoryState::Firing, t(10))];
        assert_eq!(seen_before(&inc, &h, now).tag, Familiarity::New);
        // Two of three: 2/3, a match.
        let h = vec![
            ev("A", "x", HistoryState::Firing, t(10)),
            ev("B", "y", HistoryState::Firing, t(10) + Duration::minutes(5)),
        ];
        let s = seen_before(&inc, &h, now);
        assert_eq!((s.tag, s.times), (Familiarity::Rare, 1));
        assert_eq!(s.text, "seen once in 30 days");
        // The incident's own current firing is not "before".
        let h = vec![ev("A", "x", HistoryState::Firing, now)];
        assert_eq!(seen_before(&inc, &h, now).times, 0);
    }
}
