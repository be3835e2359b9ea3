//! Turning a group of alerts into an incident: members with the reason each one belongs,
//! likely cause, title and key series.
use std::cmp::Ordering;
use std::fmt::Write;

use super::link::{best_anchor, Related, Relation};
use super::nodes::Node;
use super::world::{Svc, World};
use super::{finite01, Gap, IncidentInput, FLAP_WINDOW_SECS, MAX_KEY_SERIES};
use crate::analysis::cause::{self, MemberRef, Scratch};
use crate::domain::incident::incident_id;
use crate::domain::{CauseCandidate, Incident, Member, Severity};

/// What assembling needs besides the group: the run's interned input and reusable buffers.
pub(crate) struct Ctx<'w, 'a> {
    pub nodes: &'w [Node<'a>],
    pub world: &'w World<'a>,
    pub related: &'w Related<'w, 'a>,
    pub input: &'w IncidentInput<'a>,
}

/// The incident of the group `idx` (node indices, ascending) and its anomaly strength (the
/// highest peak score among its key series, for ranking).
pub(crate) fn assemble(idx: &[usize], cx: &Ctx<'_, '_>, scratch: &mut Scratch) -> (Incident, f64) {
    let nodes = cx.nodes;
    let members: Vec<Member> = idx
        .iter()
        .map(|&i| {
            let n = &nodes[i];
            Member {
                fingerprint: n.alert.fingerprint.clone(),
                alertname: n.name.to_string(),
                service: n.service.map(str::to_string),
                severity: n.alert.severity(),
                starts_at: n.alert.starts_at,
                reason: reason(i, idx, cx),
                flapping: n.flapping(),
            }
        })
        .collect();
    let mut svcs: Vec<Svc> = Vec::with_capacity(idx.len());
    for &i in idx {
        if let Some(s) = nodes[i].svc {
            if !svcs.contains(&s) {
                svcs.push(s);
            }
        }
    }
    let services: Vec<String> = svcs.iter().map(|&s| cx.world.name(s).to_string()).collect();
    let refs: Vec<MemberRef<'_>> = idx
        .iter()
        .map(|&i| MemberRef {
            svc: nodes[i].svc,
            start: nodes[i].start,
            alertname: nodes[i].name,
        })
        .collect();
    let (candidates, cause_svc) = cause::likely_causes_in(&refs, cx.input, cx.world, scratch);
    let (key_series, anomaly) = key_series(&svcs, cause_svc, cx.world);
    let opener = idx.first().map(|&i| nodes[i].alert);
    let incident = Incident {
        id: incident_id(opener.map_or("", |a| a.fingerprint.as_str())),
        title: title(&members, candidates.first()),
        severity: members
            .iter()
            .map(|m| m.severity)
            .max()
            .unwrap_or(Severity::Warning),
        score: 0.0,
        rank: 0,
        started_at: opener.map_or(cx.input.now, |a| a.starts_at),
        members,
        services,
        candidates,
        score_parts: Vec::new(),
        slo_burns: Vec::new(),
        key_series,
        runbooks: Vec::new(),
    };
    (incident, anomaly)
}

fn reason(m: usize, group: &[usize], cx: &Ctx<'_, '_>) -> String {
    let nodes = cx.nodes;
    let node = &nodes[m];
    let first = group.first().copied() == Some(m);
    let mut text = if first {
        "opened the incident (first alert)".to_string()
    } else {
        let pool = group
            .iter()
            .copied()
            .filter(|&k| !node.flapping() || !nodes[k].flapping());
        match best_anchor(m, pool, nodes, cx.related) {
            Some((rel, k)) => describe(node, &nodes[k], &rel, cx.world),
            None => "grouped with the incident".to_string(),
        }
    };
    if node.flapping() {
        let _ = write!(
            text,
            "; flapping ({} state changes in {})",
            node.flap.changes,
            Gap(FLAP_WINDOW_SECS)
        );
    }
    text
}

fn describe(m: &Node<'_>, k: &Node<'_>, rel: &Relation<'_>, world: &World<'_>) -> String {
    let sm = m.service.unwrap_or("?");
    let sk = k.service.unwrap_or("?");
    let calls = |a: Option<Svc>, b: Option<Svc>| a.zip(b).is_some_and(|(a, b)| world.calls(a, b));
    let mut text = String::with_capacity(96);
    let _ = match rel {
        Relation::SameService => write!(text, "same service {sm} as {}", k.name),
        Relation::Adjacent if calls(m.svc, k.svc) => write!(text, "{sm} calls {sk}"),
        Relation::Adjacent => write!(text, "{sk} calls {sm}"),
        Relation::SharedLabel(key, value) => {
            write!(text, "same {key} {value} as {}", k.name)
        }
        Relation::TwoHops => {
            let via = m.svc.zip(k.svc).and_then(|(a, b)| world.via(a, b));
            let via = via.map_or("?", |v| world.name(v));
            write!(text, "{sm} and {sk} are linked through {via}")
        }
        Relation::CoAnomaly => write!(text, "metrics of {sm} and {sk} turned anomalous together"),
    };
    // The anchor's name is already in the link text for these two.
    let other = match rel {
        Relation::SameService | Relation::SharedLabel(..) => "it",
        _ => k.name,
    };
    let _ = match m.start.saturating_sub(k.start) {
        0 => write!(text, "; began together with {other}"),
        d if d > 0 => write!(text, "; began {} after {other}", Gap(d)),
        d => write!(text, "; began {} before {other}", Gap(d)),
    };
    text
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
    let others = members
        .len()
        .saturating_sub(usize::from(lead < members.len()));
    if others == 0 {
        return head;
    }
    // The distinct services of the other members (a handful: a list beats a set).
    let mut svcs: Vec<&str> = Vec::new();
    for (_, m) in members.iter().enumerate().filter(|(i, _)| *i != lead) {
        if let Some(s) = m.service.as_deref() {
            if !svcs.contains(&s) {
                svcs.push(s);
            }
        }
    }
    let alerts = plural(others, "alert");
    let lead_service = members.get(lead).and_then(|m| m.service.as_deref());
    let only_lead = svcs.len() == 1 && svcs.first().copied() == lead_service;
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

/// Series of the incident's services, most anomalous first; the cause's series first among
/// equals. Also the highest peak score among them (the ranking's anomaly part).
fn key_series(services: &[Svc], cause: Option<Svc>, world: &World<'_>) -> (Vec<String>, f64) {
    // (anomalous series of the likely cause, peak score, onset, id): the cause's earliest
    // anomalous series first, then the rest by how anomalous they are.
    let mut rows: Vec<(bool, f64, i64, &str)> = Vec::new();
    for &svc in services {
        rows.extend(world.rows(svc).iter().map(|r| {
            let a = r.anomaly;
            let peak = a.map_or(0.0, |a| finite01(a.peak_score));
            let onset = a.and_then(|a| a.onset).unwrap_or(i64::MAX);
            let cause_anomalous = Some(svc) == cause && onset != i64::MAX;
            (cause_anomalous, peak, onset, r.series.id.as_str())
        }));
    }
    rows.sort_unstable_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| if a.0 { a.2.cmp(&b.2) } else { Ordering::Equal })
            .then(b.1.total_cmp(&a.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(b.3))
    });
    // Each id once. Rows with one id share their anomaly result, so two of them differ at
    // most in the cause flag: with the same flag they are neighbours after sorting, otherwise
    // the flagged one came first.
    let mut out: Vec<&str> = Vec::with_capacity(rows.len().min(MAX_KEY_SERIES));
    let mut flagged = 0;
    let mut anomaly = 0.0f64;
    for (cause_anomalous, peak, _, id) in rows {
        if out.len() == MAX_KEY_SERIES {
            break;
        }
        let dup = out.last() == Some(&id) || out[..flagged].contains(&id);
        if !dup {
            out.push(id);
            anomaly = anomaly.max(peak);
            if cause_anomalous {
                flagged = out.len();
            }
        }
    }
    (out.into_iter().map(str::to_string).collect(), anomaly)
}
