//! Grouping and likely-cause quality on generated, labelled incident scenarios (the generator is
//! `tests/incidents_gen/mod.rs`): pairwise grouping F1, cause top-1 and the alert-to-incident
//! reduction, per kind of seed range and overall.
//!
//! `cargo run --release --example incidents [-- FIRST_SEED COUNT]` (default: 1 200)

#[path = "../tests/incidents_gen/mod.rs"]
mod incidents_gen;

use std::process::ExitCode;

use incidents_gen::{evaluate, false_pairs, generate, Score};
use pagerpilot::analysis::correlate::{build_incidents, IncidentInput};

fn main() -> ExitCode {
    if let Some(seed) = std::env::var("INCIDENTS_EXPLAIN")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        explain(seed);
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parse = |i: usize, default: u64| -> Result<u64, String> {
        match args.get(i) {
            None => Ok(default),
            Some(a) => a.parse().map_err(|_| format!("not a whole number: {a:?}")),
        }
    };
    let (first, count) = match (parse(0, 1), parse(1, 200)) {
        (Ok(f), Ok(c)) => (f, c),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}\nusage: incidents [FIRST_SEED COUNT]");
            return ExitCode::from(2);
        }
    };
    let chunk = (count / 4).max(1);
    let mut total = Score::default();
    let mut worst: Vec<(f64, u64)> = Vec::new();
    let mut fp_kinds: std::collections::BTreeMap<String, u64> = Default::default();
    println!(
        "{:<16} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9}",
        "seeds", "scenarios", "alerts", "prec", "recall", "F1", "top-1", "alerts/inc"
    );
    let mut start = first;
    while start < first + count {
        let end = (start + chunk).min(first + count);
        let mut part = Score::default();
        for seed in start..end {
            let s = generate(seed);
            let produced = build_incidents(&IncidentInput {
                now: s.now,
                alerts: &s.alerts,
                transitions: &s.transitions,
                series: &s.series,
                anomalies: &s.anomalies,
                patterns: &[],
                topology: &s.model.edges,
            });
            let score = evaluate(&s, &produced);
            worst.push((score.f1(), seed));
            for (k, v) in false_pairs(&s, &produced) {
                *fp_kinds.entry(k).or_default() += v;
            }
            part.add(&score);
        }
        row(&format!("{start}..{end}"), end - start, &part);
        total.add(&part);
        start = end;
    }
    row("all", count, &total);
    println!(
        "true incidents {} -> produced {} (ground truth {:.2} alerts per incident)",
        total.true_incidents,
        total.incidents,
        total.alerts as f64 / total.true_incidents.max(1) as f64
    );
    worst.sort_by(|a, b| a.0.total_cmp(&b.0));
    let w: Vec<String> = worst
        .iter()
        .take(5)
        .map(|(f, s)| format!("seed {s} F1 {f:.3}"))
        .collect();
    println!("worst scenarios: {}", w.join(", "));
    let mut kinds: Vec<(u64, String)> = fp_kinds.into_iter().map(|(k, v)| (v, k)).collect();
    kinds.sort_by(|a, b| b.cmp(a));
    let kinds: Vec<String> = kinds.iter().map(|(v, k)| format!("{k} {v}")).collect();
    println!("false pairs by kind: {}", kinds.join(", "));
    ExitCode::SUCCESS
}

fn row(label: &str, n: u64, s: &Score) {
    println!(
        "{:<16} {:>9} {:>7} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>9.2}",
        label,
        n,
        s.alerts,
        s.precision(),
        s.recall(),
        s.f1(),
        s.top1(),
        s.reduction()
    );
}

/// `INCIDENTS_EXPLAIN=SEED`: prints one scenario's truth and groups (debugging aid).
#[allow(dead_code)]
fn explain(seed: u64) {
    let s = generate(seed);
    for e in &s.model.edges {
        print!("{}->{} ", e.from, e.to);
    }
    println!();
    let produced = build_incidents(&IncidentInput {
        now: s.now,
        alerts: &s.alerts,
        transitions: &s.transitions,
        series: &s.series,
        anomalies: &s.anomalies,
        patterns: &[],
        topology: &s.model.edges,
    });
    for (n, (kind, root)) in s.incidents.iter().enumerate() {
        println!("truth #{n} {kind:?} root {root:?}");
        for a in &s.alerts {
            if s.truth.get(&a.fingerprint) == Some(&n) {
                println!(
                    "    {} {} {}",
                    a.starts_at.format("%H:%M:%S"),
                    a.name(),
                    a.service().unwrap_or("-")
                );
            }
        }
    }
    for inc in &produced {
        println!(
            "produced {} cause {:?}",
            inc.id,
            inc.candidates.first().map(|c| &c.service)
        );
        for m in &inc.members {
            println!(
                "    #{} {} {} {:?}: {}",
                s.truth[&m.fingerprint],
                m.alertname,
                m.service.as_deref().unwrap_or("-"),
                m.starts_at.format("%H:%M:%S").to_string(),
                m.reason
            );
        }
    }
}
