//! Ranking incidents.
//!
//! An incident's score in 0..1 is the sum of six named parts, each bounded by its weight:
//!
//! * `severity` ([`W_SEVERITY`]): the highest member severity weight (critical 1, warning 0.6,
//!   info 0.2); a flapping member counts half.
//! * `blast radius` ([`W_BLAST`]): 0.65 × `(s-1)/(s+1)` for `s` distinct services plus
//!   0.35 × `(a-1)/(a+3)` for `a` alerts; one alert on one service scores 0.
//! * `anomaly` ([`W_ANOMALY`]): the highest `peak_score` among the key series.
//! * `slo burn` ([`W_SLO`]), only where configured (an error-ratio watch with `slo`): the fastest
//!   error-budget burn among the incident's services that both the last hour and the last 5
//!   minutes agree on, against a fast burn of 14.4× ([`super::slo`]). Incidents without an SLO
//!   simply do not earn this part.
//! * `novelty` ([`W_NOVELTY`]): the share of the services' log patterns that are new or surging.
//! * `recency` ([`W_RECENCY`]): `1 / (1 + age / 3 h)`, so a fresh incident scores 1 and a day-old
//!   one about 0.11.
//!
//! Ties are broken by severity, then the earlier start, then the id, so the order is stable.
use super::correlate::{finite01, IncidentInput};
use super::slo;
use crate::domain::Incident;

/// Weight of the severity part.
pub const W_SEVERITY: f64 = 0.30;
/// Weight of the blast-radius part.
pub const W_BLAST: f64 = 0.20;
/// Weight of the anomaly-strength part.
pub const W_ANOMALY: f64 = 0.20;
/// Weight of the SLO-burn part (present only for incidents with an SLO).
pub const W_SLO: f64 = 0.10;
/// Weight of the log-novelty part.
pub const W_NOVELTY: f64 = 0.10;
/// Weight of the recency part.
pub const W_RECENCY: f64 = 0.10;
/// Age at which the recency part halves.
const RECENCY_HALF_SECS: f64 = 3.0 * 3600.0;

/// The named parts of an incident's score; their sum is the score. The SLO part is read from
/// `incident.slo_burns` (set by [`rank_incidents`]).
pub fn score_parts(incident: &Incident, input: &IncidentInput<'_>) -> Vec<(String, f64)> {
    let anomaly = incident
        .key_series
        .iter()
        .filter_map(|id| input.anomalies.get(id))
        .map(|x| finite01(x.peak_score))
        .fold(0.0, f64::max);
    score_parts_with(incident, input, anomaly)
}

/// [`score_parts`] with the anomaly part's value (the highest peak score among the key
/// series) already known.
fn score_parts_with(
    incident: &Incident,
    input: &IncidentInput<'_>,
    anomaly: f64,
) -> Vec<(String, f64)> {
    let severity = incident
        .members
        .iter()
        .map(|m| m.severity.weight() * if m.flapping { 0.5 } else { 1.0 })
        .fold(0.0, f64::max);

    let s = incident.services.len().max(1) as f64;
    let a = incident.members.len().max(1) as f64;
    let blast = 0.65 * (s - 1.0) / (s + 1.0) + 0.35 * (a - 1.0) / (a + 3.0);

    let (mut total, mut novel) = (0usize, 0usize);
    for p in input.patterns {
        if p.service
            .as_ref()
            .is_some_and(|s| incident.services.contains(s))
        {
            total += 1;
            novel += usize::from(p.is_new || p.is_surge);
        }
    }
    let novelty = if total == 0 {
        0.0
    } else {
        novel as f64 / total as f64
    };

    let age = input
        .now
        .signed_duration_since(incident.started_at)
        .num_seconds()
        .max(0) as f64;
    let recency = 1.0 / (1.0 + age / RECENCY_HALF_SECS);

    let slo_part = incident
        .slo_burns
        .iter()
        .map(slo::score)
        .reduce(f64::max)
        .map(|x| ("slo burn", W_SLO, x));

    [
        Some(("severity", W_SEVERITY, severity)),
        Some(("blast radius", W_BLAST, blast)),
        Some(("anomaly", W_ANOMALY, anomaly)),
        slo_part,
        Some(("novelty", W_NOVELTY, novelty)),
        Some(("recency", W_RECENCY, recency)),
    ]
    .into_iter()
    .flatten()
    .map(|(name, w, x)| (name.to_string(), w * finite01(x)))
    .collect()
}

/// Scores every incident, sorts them most urgent first and sets `rank` 1..n.
pub fn rank_incidents(incidents: &mut [Incident], input: &IncidentInput<'_>) {
    let slo_series = slo::slo_series(input.series);
    for inc in incidents.iter_mut() {
        inc.slo_burns = slo::burns(&slo_series, &inc.services, input.now);
        inc.score_parts = score_parts(inc, input);
        inc.score = inc.score_parts.iter().map(|(_, v)| v).sum();
    }
    incidents.sort_by(urgency);
    number(incidents);
}

/// [`rank_incidents`] with each incident's anomaly part's value already known (`anomaly[i]`
/// for `incidents[i]`, see [`score_parts`]).
pub(crate) fn rank_incidents_with(
    incidents: &mut Vec<Incident>,
    input: &IncidentInput<'_>,
    anomaly: &[f64],
) {
    let slo_series = slo::slo_series(input.series);
    for (inc, &a) in incidents.iter_mut().zip(anomaly) {
        if !slo_series.is_empty() {
            inc.slo_burns = slo::burns(&slo_series, &inc.services, input.now);
        }
        inc.score_parts = score_parts_with(inc, input, a);
        inc.score = inc.score_parts.iter().map(|(_, v)| v).sum();
    }
    // Sorting positions and then moving each incident once is cheaper than moving the large
    // incidents around while sorting; the order is the same (both sorts are stable).
    let mut order: Vec<usize> = (0..incidents.len()).collect();
    order.sort_by(|&a, &b| urgency(&incidents[a], &incidents[b]));
    let mut slots: Vec<Option<Incident>> = incidents.drain(..).map(Some).collect();
    incidents.extend(
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
    );
    number(incidents);
}

/// Most urgent first: by score, then severity, then the earlier start, then the id.
fn urgency(a: &Incident, b: &Incident) -> std::cmp::Ordering {
    b.score
        .total_cmp(&a.score)
        .then(b.severity.cmp(&a.severity))
        .then(a.started_at.cmp(&b.started_at))
        .then(a.id.cmp(&b.id))
}

/// Sets `rank` 1..n in order.
fn number(incidents: &mut [Incident]) {
    for (i, inc) in incidents.iter_mut().enumerate() {
        inc.rank = i + 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::domain::{Member, Severity};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid time")
    }

    fn incident(
        id: &str,
        sev: Severity,
        services: &[&str],
        age_min: i64,
        flapping: bool,
    ) -> Incident {
        let started_at = now() - Duration::minutes(age_min);
        Incident {
            id: id.into(),
            title: id.into(),
            severity: sev,
            score: 0.0,
            rank: 0,
            started_at,
            members: services
                .iter()
                .map(|s| Member {
                    fingerprint: format!("{id}{s}"),
                    alertname: "A".into(),
                    service: Some((*s).into()),
                    severity: sev,
                    starts_at: started_at,
                    reason: String::new(),
                    flapping,
                })
                .collect(),
            services: services.iter().map(|s| (*s).to_string()).collect(),
            candidates: Vec::new(),
            score_parts: Vec::new(),
            slo_burns: Vec::new(),
            key_series: Vec::new(),
            runbooks: Vec::new(),
        }
    }

    fn rank(incidents: &mut [Incident]) {
        let anomalies = BTreeMap::new();
        rank_incidents(
            incidents,
            &IncidentInput {
                now: now(),
                alerts: &[],
                transitions: &[],
                series: &[],
                anomalies: &anomalies,
                patterns: &[],
                topology: &[],
            },
        );
    }

    fn part(i: &Incident, name: &str) -> f64 {
        i.score_parts
            .iter()
            .find(|(n, _)| n == name)
            .map_or(f64::NAN, |(_, v)| *v)
    }

    #[test]
    fn parts_follow_the_documented_formulas() {
        let mut v = vec![
            incident("old", Severity::Critical, &["a"], 24 * 60, false),
            incident("wide", Severity::Critical, &["a", "b", "c"], 0, false),
            incident("flap", Severity::Critical, &["a"], 0, true),
        ];
        rank(&mut v);
        let ids: Vec<&str> = v.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, vec!["wide", "old", "flap"]);
        assert_eq!(v.iter().map(|i| i.rank).collect::<Vec<_>>(), vec![1, 2, 3]);
        let wide = &v[0];
        assert!(
            (part(wide, "blast radius") - W_BLAST * (0.65 * 0.5 + 0.35 * 2.0 / 6.0)).abs() < 1e-12
        );
        assert!((part(wide, "recency") - W_RECENCY).abs() < 1e-12);
        assert!((part(&v[1], "recency") - W_RECENCY / 9.0).abs() < 1e-9);
        assert!((part(&v[2], "severity") - W_SEVERITY * 0.5).abs() < 1e-12);
        for i in &v {
            let sum: f64 = i.score_parts.iter().map(|(_, x)| x).sum();
            assert!((sum - i.score).abs() < 1e-12);
        }
    }

    #[test]
    fn slo_burn_is_a_part_only_where_an_slo_is_configured() {
        // "api" burns 2 % errors against a 99.9 % objective (20×, above a fast burn of 14.4).
        let end = now().timestamp();
        let mut labels = crate::domain::Labels::new();
        labels.insert("service".into(), "api".into());
        let errors = crate::domain::Series {
            id: "errors{service=\"api\"}".into(),
            labels,
            timestamps: (0..60).map(|i| end - 60 * (59 - i)).collect(),
            values: vec![0.02; 60],
            capacity: None,
            slo: Some(0.999),
            sensitivity: None,
        };
        let mut v = vec![
            incident("with", Severity::Warning, &["api"], 0, false),
            incident("without", Severity::Warning, &["db"], 0, false),
        ];
        let anomalies = BTreeMap::new();
        let series = [errors];
        rank_incidents(
            &mut v,
            &IncidentInput {
                now: now(),
                alerts: &[],
                transitions: &[],
                series: &series,
                anomalies: &anomalies,
                patterns: &[],
                topology: &[],
            },
        );
        assert_eq!(v[0].id, "with");
        assert!((part(&v[0], "slo burn") - W_SLO).abs() < 1e-12);
        assert_eq!(v[0].slo_burns.len(), 1);
        assert!((v[0].slo_burns[0].long - 20.0).abs() < 1e-9);
        assert!((v[0].score - v[1].score - W_SLO).abs() < 1e-12);
        assert!(v[1].slo_burns.is_empty());
        assert!(v[1].score_parts.iter().all(|(n, _)| n != "slo burn"));
    }

    #[test]
    fn ties_break_on_severity_then_start_then_id() {
        let mut v = vec![
            incident("b", Severity::Warning, &["x"], 0, false),
            incident("a", Severity::Warning, &["y"], 0, false),
        ];
        rank(&mut v);
        assert_eq!(v[0].id, "a");
        assert_eq!(v[0].score, v[1].score);
    }
}
