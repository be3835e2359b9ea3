//! Labelled incident scenarios generated from a service topology model, and their scoring.
//!
//! Shared by `tests/incidents_scenarios.rs` (floors asserted) and `examples/incidents.rs` (the
//! report for BENCHMARKS.md). Everything is drawn from an in-file seeded RNG (SplitMix64), so a
//! seed always gives the same scenario.
//!
//! The model: 4 or 5 product *domains*, each a call chain `web -> api(s) -> worker(s) -> db`,
//! plus shared services (`auth`, called by every api; `queue`, called by some workers). A fault
//! starts at a root service and propagates to its callers (transitively, each edge with
//! probability 0.75, at most 3 hops), each hop adding one to three minutes. Some services on the
//! path stay silent (no alert, metrics only). Sometimes a symptom pages before the root (a
//! caller's louder alert with a shorter `for:`). Each scenario holds:
//!
//! * two or three cascades at random times in a two-hour window;
//! * two unrelated cascades at once (different domains, starting within five minutes);
//! * a slow burn: a db alert, then its callers' alerts trickling in 20 to 40 minutes apart;
//! * noise: single alerts on random services at random times (each its own incident);
//! * flapping: alerts with several firing/resolved changes in the last half hour, either a
//!   symptom of a cascade or noise on its own.
//!
//! Ground truth: every alert's incident, and every cascade's root service. It is kept
//! observable (2026-12-05 audit): noise lands on services whose metrics are calm around it; no
//! two cascades share a domain; a service reached by two faults shows two anomalies; a cascade
//! rooted in `auth` keeps 40 minutes clear of the concurrent pair and of the other extra
//! cascade (it reaches every domain's API). Without these, alerts were labelled "unrelated"
//! although nothing observable set them apart from the cascade they sat in, and any method,
//! or an engineer, would group them.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use pagerpilot::analysis::{Direction, SeriesAnomaly, Transition};
use pagerpilot::domain::alert::fingerprint;
use pagerpilot::domain::{Alert, AlertState, Edge, Incident, Labels, Series};

/// SplitMix64: small, fast, good enough for test data, and the same on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Web,
    Api,
    Worker,
    Db,
    Shared,
}

/// The service graph: `edges` are `from` calls `to`.
#[derive(Clone, Debug)]
pub struct Model {
    pub services: Vec<(String, Layer, Option<usize>)>,
    pub edges: Vec<Edge>,
}

impl Model {
    pub fn generate(rng: &mut Rng) -> Model {
        const DOMAINS: [&str; 5] = ["shop", "search", "billing", "media", "accounts"];
        let n = rng.range(4, 5) as usize;
        let mut services: Vec<(String, Layer, Option<usize>)> = vec![
            ("auth".into(), Layer::Shared, None),
            ("queue".into(), Layer::Shared, None),
        ];
        let mut edges = Vec::new();
        let mut edge = |from: &str, to: &str| {
            edges.push(Edge {
                from: from.into(),
                to: to.into(),
            })
        };
        for (d, name) in DOMAINS.iter().enumerate().take(n) {
            let web = format!("{name}-web");
            let db = format!("{name}-db");
            services.push((web.clone(), Layer::Web, Some(d)));
            let apis: Vec<String> = (0..rng.range(1, 2))
                .map(|i| format!("{name}-api{}", if i == 0 { "" } else { "-v2" }))
                .collect();
            let workers: Vec<String> = (0..rng.range(1, 2))
                .map(|i| format!("{name}-worker{}", if i == 0 { "" } else { "-batch" }))
                .collect();
            for api in &apis {
                services.push((api.clone(), Layer::Api, Some(d)));
                edge(&web, api);
                edge(api, "auth");
                for w in &workers {
                    edge(api, w);
                }
            }
            for w in &workers {
                services.push((w.clone(), Layer::Worker, Some(d)));
                edge(w, &db);
                if rng.chance(0.3) {
                    edge(w, "queue");
                }
            }
            services.push((db, Layer::Db, Some(d)));
        }
        Model { services, edges }
    }

    /// Services that call `s` directly.
    pub fn callers(&self, s: &str) -> Vec<String> {
        self.edges
            .iter()
            .filter(|e| e.to == s)
            .map(|e| e.from.clone())
            .collect()
    }

    pub fn layer(&self, s: &str) -> Layer {
        self.services
            .iter()
            .find(|x| x.0 == s)
            .map_or(Layer::Shared, |x| x.1)
    }

    pub fn domain(&self, s: &str) -> Option<usize> {
        self.services.iter().find(|x| x.0 == s).and_then(|x| x.2)
    }

    fn in_domain(&self, d: usize, layers: &[Layer]) -> Vec<String> {
        self.services
            .iter()
            .filter(|x| x.2 == Some(d) && layers.contains(&x.1))
            .map(|x| x.0.clone())
            .collect()
    }
}

fn alert_names(layer: Layer) -> &'static [&'static str] {
    match layer {
        Layer::Web => &["HighErrorRate", "LatencyP99High", "ApdexLow"],
        Layer::Api => &["Http5xxRate", "LatencyP99High", "UpstreamTimeouts"],
        Layer::Worker => &["JobBacklogGrowing", "ProcessingErrors", "ConsumerLag"],
        Layer::Db => &["ConnectionPoolSaturated", "ReplicationLag", "SlowQueries"],
        Layer::Shared => &[
            "TokenValidationErrors",
            "BrokerUnavailable",
            "LatencyP99High",
        ],
    }
}

const NOISE_NAMES: [&str; 5] = [
    "CertificateExpiresSoon",
    "PodRestarted",
    "CronJobFailed",
    "ConfigReloadFailed",
    "NodeClockSkew",
];

/// What kind of ground-truth incident an alert belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Cascade,
    Concurrent,
    SlowBurn,
    Noise,
    Flapping,
}

/// One generated scenario with its ground truth.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub seed: u64,
    pub now: DateTime<Utc>,
    pub model: Model,
    pub alerts: Vec<Alert>,
    pub transitions: Vec<Transition>,
    pub series: Vec<Series>,
    pub anomalies: BTreeMap<String, SeriesAnomaly>,
    /// fingerprint -> true incident number.
    pub truth: BTreeMap<String, usize>,
    /// true incident number -> (kind, root service for cascades).
    pub incidents: Vec<(Kind, Option<String>)>,
}

const WINDOW_SECS: i64 = 120 * 60;
/// Noise goes on a service with no anomaly onset from this long before the noise ...
const NOISE_CALM_BEFORE: i64 = 60 * 60;
/// ... to this long after it.
const NOISE_CALM_AFTER: i64 = 40 * 60;

struct Builder {
    rng: Rng,
    base: DateTime<Utc>,
    s: Scenario,
    /// (service, start) of the noise drawn so far.
    noise_at: Vec<(String, i64)>,
}

impl Builder {
    fn at(&self, secs: i64) -> DateTime<Utc> {
        self.base + Duration::seconds(secs)
    }

    fn new_incident(&mut self, kind: Kind, root: Option<String>) -> usize {
        self.s.incidents.push((kind, root));
        self.s.incidents.len() - 1
    }

    fn alert(&mut self, incident: usize, name: &str, service: &str, severity: &str, start: i64) {
        let mut labels = Labels::new();
        labels.insert("alertname".into(), name.into());
        labels.insert("service".into(), service.into());
        labels.insert("severity".into(), severity.into());
        labels.insert("namespace".into(), "prod".into());
        // Two alerts with the same labels are one alert in Alertmanager: tell them apart.
        let mut fp = fingerprint(&labels);
        let mut n = 0;
        while self.s.truth.contains_key(&fp) {
            n += 1;
            labels.insert("replica".into(), n.to_string());
            fp = fingerprint(&labels);
        }
        self.s.truth.insert(fp.clone(), incident);
        self.s.alerts.push(Alert {
            fingerprint: fp,
            labels,
            annotations: Labels::new(),
            starts_at: self.at(start),
            ends_at: None,
            state: AlertState::Firing,
            generator_url: None,
        });
    }

    /// A metric of `service` that became anomalous at `onset` by `sigma` robust deviations.
    fn metric(&mut self, service: &str, metric: &str, onset: Option<i64>, sigma: f64) {
        let id = format!("{metric}{{service=\"{service}\"}}");
        if self.s.anomalies.contains_key(&id) {
            return;
        }
        let mut labels = Labels::new();
        labels.insert("__name__".into(), metric.into());
        labels.insert("service".into(), service.into());
        let peak = (sigma.abs() / 8.0).min(1.0);
        self.s.series.push(Series {
            id: id.clone(),
            labels,
            timestamps: vec![self.base.timestamp()],
            values: vec![1.0],
            capacity: None,
            slo: None,
            sensitivity: None,
        });
        self.s.anomalies.insert(
            id.clone(),
            SeriesAnomaly {
                series_id: id,
                expected: vec![1.0],
                lower: vec![0.0],
                upper: vec![2.0],
                scores: vec![peak],
                onset: onset.map(|o| self.base.timestamp() + o),
                peak_score: peak,
                deviation_sigma: sigma,
                direction: Direction::Up,
                explanation: String::new(),
            },
        );
    }

    /// The services a fault at `root` reaches (root first) with their hop count.
    fn spread(&mut self, root: &str, max_hops: usize) -> Vec<(String, usize)> {
        let mut out = vec![(root.to_string(), 0)];
        let mut seen = BTreeSet::from([root.to_string()]);
        let mut frontier = vec![root.to_string()];
        for hop in 1..=max_hops {
            let mut next = Vec::new();
            for s in &frontier {
                for c in self.s.model.callers(s) {
                    if !seen.contains(&c) && self.rng.chance(0.75) {
                        seen.insert(c.clone());
                        out.push((c.clone(), hop));
                        next.push(c);
                    }
                }
            }
            frontier = next;
        }
        out
    }

    /// A cascade from `root` starting at `t0`; `gap` is the delay range per hop in seconds.
    fn cascade(&mut self, kind: Kind, root: &str, t0: i64, gap: (i64, i64)) -> usize {
        let inc = self.new_incident(kind, Some(root.to_string()));
        let reached = self.spread(root, 3);
        let mut hop_start: BTreeMap<usize, i64> = BTreeMap::from([(0, t0)]);
        for (service, hop) in &reached {
            let start = match hop_start.get(hop) {
                Some(s) => *s,
                None => {
                    let prev = hop_start.get(&(hop - 1)).copied().unwrap_or(t0);
                    let s = prev + self.rng.range(gap.0, gap.1);
                    hop_start.insert(*hop, s);
                    s
                }
            };
            let layer = self.s.model.layer(service);
            let is_root = *hop == 0;
            // A direct caller's louder alert (shorter `for:`) may page before the root's: its
            // metrics move right after the root's, and it pages up to two minutes before it.
            let early = *hop == 1 && self.rng.chance(0.15);
            let start = if early {
                t0 - self.rng.range(0, 120)
            } else {
                start
            };
            // The root's metrics move first and most; symptoms follow.
            let onset = if is_root {
                start - self.rng.range(0, 180)
            } else if early {
                t0 - self.rng.range(60, 150)
            } else {
                start - self.rng.range(-30, 60)
            };
            let sigma = if is_root {
                3.0 + 7.0 * self.rng.unit()
            } else {
                2.0 + 5.0 * self.rng.unit()
            };
            // A service a second fault reaches shows a second anomaly (in another of its
            // metrics): its metrics did move again. Keeping only the first onset made the
            // second cascade's alerts there look unbacked, or backed by the other fault.
            let metric = ["latency_p99", "error_rate", "saturation"]
                .into_iter()
                .find(|m| {
                    !self
                        .s
                        .anomalies
                        .contains_key(&format!("{m}{{service=\"{service}\"}}"))
                })
                .unwrap_or("latency_p99");
            self.metric(service, metric, Some(onset), sigma);
            // Some symptoms stay silent (no alert): only their metrics moved.
            if !is_root && self.rng.chance(0.2) {
                continue;
            }
            let n = self.rng.range(1, 2);
            let names = alert_names(layer);
            for k in 0..n {
                let name = names[(k as usize + self.rng.range(0, 2) as usize) % names.len()];
                let at = start + self.rng.range(0, 90);
                let sev = if is_root || self.rng.chance(0.5) {
                    "critical"
                } else {
                    "warning"
                };
                self.alert(inc, name, service, sev, at);
            }
        }
        inc
    }

    /// An unrelated alert on a random service at a random time.
    ///
    /// Ground truth must be observable: noise is drawn (up to 20 tries, else dropped) on a
    /// service whose metrics are calm around it (no anomaly onset from [`NOISE_CALM_BEFORE`]
    /// before to [`NOISE_CALM_AFTER`] after it) and away from other noise on that service. Noise
    /// on a service a cascade was hitting in the same minutes (same service, metrics moving
    /// because of the cascade) cannot be told apart from the cascade by any method, and an
    /// on-call engineer would group it: labelling it "unrelated" only measured luck. Noise
    /// next to a cascade (a neighbouring service, the same minutes) stays: its own service's
    /// calm metrics are what tells it apart.
    fn noise(&mut self, kind: Kind) -> Option<usize> {
        let services: Vec<String> = self.s.model.services.iter().map(|s| s.0.clone()).collect();
        for _ in 0..20 {
            let service = self.rng.pick(&services).clone();
            let at = self.rng.range(0, WINDOW_SECS - 60);
            let abs = self.base.timestamp() + at;
            let moving = self.s.anomalies.values().any(|a| {
                a.series_id.ends_with(&format!("{{service=\"{service}\"}}"))
                    && a.onset.is_some_and(|o| {
                        o >= abs - NOISE_CALM_BEFORE && o <= abs + NOISE_CALM_AFTER
                    })
            });
            let crowded = self
                .noise_at
                .iter()
                .any(|(s, t)| *s == service && (t - at).abs() < 3600);
            if moving || crowded {
                continue;
            }
            self.noise_at.push((service.clone(), at));
            let inc = self.new_incident(kind, None);
            let name = *self.rng.pick(&NOISE_NAMES);
            let sev = if self.rng.chance(0.5) {
                "info"
            } else {
                "warning"
            };
            self.alert(inc, name, &service, sev, at);
            return Some(inc);
        }
        None
    }

    /// Several firing/resolved changes of `fingerprint` in the last half hour.
    fn flap(&mut self, fingerprint: &str) {
        let changes = self.rng.range(4, 7);
        for i in 0..changes {
            let state = if i % 2 == 0 {
                AlertState::Firing
            } else {
                AlertState::Resolved
            };
            let at = WINDOW_SECS - 60 - i * self.rng.range(120, 240);
            self.s.transitions.push(Transition {
                fingerprint: fingerprint.to_string(),
                at: self.at(at),
                state,
            });
        }
    }
}

/// Generates the scenario of `seed`.
pub fn generate(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed);
    let model = Model::generate(&mut rng);
    let base = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(DateTime::UNIX_EPOCH);
    let mut b = Builder {
        rng,
        base,
        noise_at: Vec::new(),
        s: Scenario {
            seed,
            now: base + Duration::seconds(WINDOW_SECS),
            model,
            alerts: Vec::new(),
            transitions: Vec::new(),
            series: Vec::new(),
            anomalies: BTreeMap::new(),
            truth: BTreeMap::new(),
            incidents: Vec::new(),
        },
    };
    let domains: Vec<usize> = {
        let mut d: Vec<usize> = b.s.model.services.iter().filter_map(|s| s.2).collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    let roots_of = |b: &Builder, d: usize| -> Vec<String> {
        b.s.model
            .in_domain(d, &[Layer::Db, Layer::Worker, Layer::Api])
    };

    // Every cascade gets a domain of its own while there are free ones: two faults in one
    // domain within the same two hours would be one incident to any engineer.
    // When none is free, the extra cascade is left out (it used to reuse a domain: two
    // cascades in one domain at overlapping times share services and minutes, so their
    // labels could not be told apart by anything observable).
    let mut free = domains.clone();
    let mut take = |b: &mut Builder| -> Option<usize> {
        if free.is_empty() {
            return None;
        }
        let k = b.rng.range(0, free.len() as i64 - 1) as usize;
        Some(free.remove(k))
    };

    // Two unrelated cascades at once, in two different domains.
    let (da, db_) = (take(&mut b).unwrap_or(0), take(&mut b).unwrap_or(1));
    let t0 = b.rng.range(10 * 60, 80 * 60);
    let ra = b.rng.pick(&roots_of(&b, da)).clone();
    let rb = b.rng.pick(&roots_of(&b, db_)).clone();
    b.cascade(Kind::Concurrent, &ra, t0, (60, 180));
    let t1 = t0 + b.rng.range(0, 300);
    b.cascade(Kind::Concurrent, &rb, t1, (60, 180));

    // A slow burn: a db degrades, its callers page 20 to 40 minutes apart.
    let d = take(&mut b).unwrap_or(2);
    let db = b.s.model.in_domain(d, &[Layer::Db]);
    if let Some(root) = db.first().cloned() {
        let t = b.rng.range(0, 10 * 60);
        b.cascade(Kind::SlowBurn, &root, t, (20 * 60, 40 * 60));
    }

    // One or two more cascades at other times, possibly in a shared service.
    let mut auth_at: Option<i64> = None;
    for k in 0..b.rng.range(1, 2) {
        let root = if k == 0 && b.rng.chance(0.2) {
            "auth".to_string()
        } else {
            let Some(d) = take(&mut b) else { continue };
            b.rng.pick(&roots_of(&b, d)).clone()
        };
        let mut t = b.rng.range(0, WINDOW_SECS - 20 * 60);
        // A shared service's fault reaches every domain: keep it clear of the concurrent pair,
        // or it would truly be part of their incident.
        if root == "auth" && (t - t0).abs() < 40 * 60 {
            t = (t0 + 45 * 60).min(WINDOW_SECS - 10 * 60);
        }
        // Likewise a cascade after an `auth` one: `auth` reaches this domain's API, so the two
        // at the same minutes would hit the same API at once (one incident to anybody).
        if let Some(a) = auth_at {
            if (t - a).abs() < 40 * 60 {
                t = if a >= 45 * 60 {
                    a - 45 * 60
                } else {
                    a + 45 * 60
                };
            }
        }
        if root == "auth" {
            auth_at = Some(t);
        }
        b.cascade(Kind::Cascade, &root, t, (60, 180));
    }

    // Noise.
    for _ in 0..b.rng.range(3, 6) {
        b.noise(Kind::Noise);
    }

    // Flapping: a symptom of a cascade, or noise on its own.
    for _ in 0..b.rng.range(1, 2) {
        let cascade_alerts: Vec<String> =
            b.s.truth
                .iter()
                .filter(|(_, i)| b.s.incidents[**i].1.is_some())
                .map(|(f, _)| f.clone())
                .collect();
        let fp = if b.rng.chance(0.5) && !cascade_alerts.is_empty() {
            Some(b.rng.pick(&cascade_alerts).clone())
        } else {
            b.noise(Kind::Flapping).and_then(|inc| {
                b.s.truth
                    .iter()
                    .find(|(_, i)| **i == inc)
                    .map(|(f, _)| f.clone())
            })
        };
        if let Some(fp) = fp {
            b.flap(&fp);
        }
    }

    // Quiet series of services nobody touched, so the metric signal is not a giveaway.
    let services: Vec<String> = b.s.model.services.iter().map(|s| s.0.clone()).collect();
    for s in services {
        let (lat, cpu) = (b.rng.unit() * 2.0, b.rng.unit() * 2.5);
        b.metric(&s, "latency_p99", None, lat);
        b.metric(&s, "cpu_usage", None, cpu);
    }
    b.s
}

/// Pairwise and cause scores of one or many scenarios (sums, so they add up across seeds).
#[derive(Clone, Copy, Debug, Default)]
pub struct Score {
    pub true_pos: u64,
    pub false_pos: u64,
    pub false_neg: u64,
    pub cause_hits: u64,
    pub cause_total: u64,
    pub alerts: u64,
    pub incidents: u64,
    pub true_incidents: u64,
}

impl Score {
    pub fn add(&mut self, o: &Score) {
        self.true_pos += o.true_pos;
        self.false_pos += o.false_pos;
        self.false_neg += o.false_neg;
        self.cause_hits += o.cause_hits;
        self.cause_total += o.cause_total;
        self.alerts += o.alerts;
        self.incidents += o.incidents;
        self.true_incidents += o.true_incidents;
    }

    pub fn precision(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_pos)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_neg)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    pub fn top1(&self) -> f64 {
        ratio(self.cause_hits, self.cause_total)
    }

    /// Alerts per produced incident.
    pub fn reduction(&self) -> f64 {
        ratio(self.alerts, self.incidents)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores `produced` against the scenario's truth.
///
/// Grouping: over all pairs of alerts, a pair is positive when both are in one incident.
/// Cause: for every true cascade, the produced incident holding most of its alerts must name
/// the root service first.
pub fn evaluate(s: &Scenario, produced: &[Incident]) -> Score {
    let mut got: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, inc) in produced.iter().enumerate() {
        for m in &inc.members {
            got.insert(m.fingerprint.as_str(), i);
        }
    }
    let fps: Vec<&str> = s.truth.keys().map(String::as_str).collect();
    let mut score = Score {
        alerts: fps.len() as u64,
        incidents: produced.len() as u64,
        true_incidents: s.incidents.len() as u64,
        ..Score::default()
    };
    for (i, a) in fps.iter().enumerate() {
        for b in &fps[i + 1..] {
            let truth = s.truth.get(*a) == s.truth.get(*b);
            let pred = matches!((got.get(a), got.get(b)), (Some(x), Some(y)) if x == y);
            match (truth, pred) {
                (true, true) => score.true_pos += 1,
                (false, true) => score.false_pos += 1,
                (true, false) => score.false_neg += 1,
                (false, false) => {}
            }
        }
    }
    for (n, (_, root)) in s.incidents.iter().enumerate() {
        let Some(root) = root else { continue };
        let mut votes: BTreeMap<usize, usize> = BTreeMap::new();
        for (fp, t) in &s.truth {
            if *t == n {
                if let Some(i) = got.get(fp.as_str()) {
                    *votes.entry(*i).or_default() += 1;
                }
            }
        }
        let Some((&best, _)) = votes
            .iter()
            .max_by_key(|(i, c)| (**c, std::cmp::Reverse(**i)))
        else {
            continue;
        };
        score.cause_total += 1;
        let top = produced[best]
            .candidates
            .first()
            .map(|c| c.service.as_str());
        if top == Some(root.as_str()) {
            score.cause_hits += 1;
        }
    }
    score
}

/// False pairs (grouped together, truly apart) by the kinds of the two true incidents, and
/// how many of them involve an alert on the same service (a debugging aid for the report).
pub fn false_pairs(s: &Scenario, produced: &[Incident]) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for inc in produced {
        for (i, a) in inc.members.iter().enumerate() {
            for b in &inc.members[i + 1..] {
                let (Some(&ta), Some(&tb)) =
                    (s.truth.get(&a.fingerprint), s.truth.get(&b.fingerprint))
                else {
                    continue;
                };
                if ta == tb {
                    continue;
                }
                let (ka, kb) = (s.incidents[ta].0, s.incidents[tb].0);
                let (x, y) = if format!("{ka:?}") <= format!("{kb:?}") {
                    (ka, kb)
                } else {
                    (kb, ka)
                };
                let same = if a.service == b.service {
                    "same-svc"
                } else {
                    "other-svc"
                };
                *out.entry(format!("{x:?}+{y:?} {same}")).or_default() += 1;
            }
        }
    }
    out
}
