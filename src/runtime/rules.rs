//! History for firing alerts: the expression of each firing alert's rule (from Prometheus's
//! `/api/v1/rules`) becomes a watch over the last hours, tied to the alert's labels, so charts
//! and models have history even for series nobody put on the watchlist.

use std::sync::Arc;

use crate::domain::alert::fingerprint;
use crate::sources::prometheus::{AlertingRule, PrometheusAlert, PrometheusClient};
use crate::sources::{SourceError, Watch};

/// Default history fetched for a rule expression.
pub const DEFAULT_RULE_HISTORY_SECS: i64 = 6 * 3600;
/// Default step of a rule expression's range query.
pub const DEFAULT_RULE_STEP_SECS: i64 = 60;
/// Name prefix of the watches made here.
pub const RULE_WATCH_PREFIX: &str = "rule:";

/// Where rule expressions come from, and how far back they are charted.
#[derive(Clone, Debug)]
pub struct RuleHistory {
    pub client: Arc<PrometheusClient>,
    pub step_secs: i64,
}

impl RuleHistory {
    pub fn new(client: Arc<PrometheusClient>) -> RuleHistory {
        RuleHistory {
            client,
            step_secs: DEFAULT_RULE_STEP_SECS,
        }
    }

    /// One watch per firing alert whose rule is known.
    pub async fn watches(&self) -> Result<Vec<Watch>, SourceError> {
        let alerts = self.client.alerts().await?;
        if !alerts.iter().any(|a| a.state == "firing") {
            return Ok(Vec::new());
        }
        let rules = self.client.rules().await?;
        Ok(rule_watches(&alerts, &rules, self.step_secs))
    }
}

/// Watches for the firing alerts of `alerts` whose rule is in `rules` (matched by name and by
/// the rule's own labels, which every alert of it carries).
pub fn rule_watches(alerts: &[PrometheusAlert], rules: &[AlertingRule], step: i64) -> Vec<Watch> {
    let mut out: Vec<Watch> = Vec::new();
    for alert in alerts.iter().filter(|a| a.state == "firing") {
        let Some(name) = alert.labels.get("alertname") else {
            continue;
        };
        let rule = rules.iter().find(|r| {
            &r.name == name
                && r.labels
                    .iter()
                    .all(|(k, v)| alert.labels.get(k).is_some_and(|a| a == v))
        });
        let Some(rule) = rule else {
            continue;
        };
        let watch_name = format!("{RULE_WATCH_PREFIX}{name}:{}", fingerprint(&alert.labels));
        if out.iter().any(|w| w.name == watch_name) {
            continue;
        }
        out.push(Watch {
            name: watch_name,
            query: chart_expr(&rule.query).to_string(),
            step: step.max(1),
            capacity: None,
            slo: None,
            service_label: None,
            alert_labels: Some(alert.labels.clone()),
        });
    }
    out
}

/// The part of an alerting expression worth charting: for `lhs > threshold` (any comparison at
/// the top level) the left side, which has values at every step; otherwise the whole
/// expression. A left side that is a plain number gives the right side instead.
pub fn chart_expr(expr: &str) -> &str {
    let expr = expr.trim();
    let Some((at, len)) = top_level_comparison(expr) else {
        return expr;
    };
    let left = expr[..at].trim();
    let right = expr[at + len..].trim();
    let right = right.strip_prefix("bool ").map_or(right, str::trim);
    if left.parse::<f64>().is_ok() {
        right
    } else {
        left
    }
}

/// The byte offset and length of the first comparison operator outside brackets and strings,
/// or `None` when there is none or the expression also has set operators at the top level
/// (`and`, `or`, `unless`), whose result is not a simple threshold.
fn top_level_comparison(expr: &str) -> Option<(usize, usize)> {
    let bytes = expr.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut found: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' | b'\'' | b'`' => quote = Some(b),
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            _ if depth == 0 => {
                let rest = &expr[i..];
                let word_start = i == 0 || !is_ident(bytes[i - 1]);
                for word in ["and", "or", "unless"] {
                    if word_start
                        && rest.starts_with(word)
                        && rest
                            .as_bytes()
                            .get(word.len())
                            .is_none_or(|c| !is_ident(*c))
                    {
                        return None;
                    }
                }
                if found.is_none() {
                    for op in ["==", "!=", ">=", "<=", ">", "<"] {
                        if rest.starts_with(op) {
                            found = Some((i, op.len()));
                            i += op.len();
                            break;
                        }
                    }
                    if found.is_some_and(|(at, _)| at < i) {
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Labels;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn chart_expr_takes_the_measured_side() {
        assert_eq!(chart_expr("demo_latency > 0.5"), "demo_latency");
        assert_eq!(
            chart_expr(r#"rate(x{a!="b",c=~"d>e"}[5m]) >= bool 3"#),
            r#"rate(x{a!="b",c=~"d>e"}[5m])"#
        );
        assert_eq!(chart_expr("0.9 < disk_used"), "disk_used");
        assert_eq!(chart_expr("up == 0"), "up");
        assert_eq!(chart_expr("absent(up)"), "absent(up)");
        assert_eq!(chart_expr("a > 1 and b > 2"), "a > 1 and b > 2");
        assert_eq!(chart_expr("sum by (order) (x) > 1"), "sum by (order) (x)");
    }

    #[test]
    fn firing_alerts_get_their_rule_expression() {
        let rule = AlertingRule {
            group: "g".into(),
            name: "High".into(),
            query: "latency > 1".into(),
            labels: labels(&[("severity", "critical")]),
            duration_secs: 0.0,
        };
        let alert = |state: &str, instance: &str| PrometheusAlert {
            labels: labels(&[
                ("alertname", "High"),
                ("instance", instance),
                ("severity", "critical"),
            ]),
            annotations: Labels::new(),
            state: state.into(),
            active_at: None,
        };
        let alerts = [
            alert("firing", "a"),
            alert("pending", "b"),
            alert("firing", "c"),
        ];
        let watches = rule_watches(&alerts, std::slice::from_ref(&rule), 60);
        assert_eq!(watches.len(), 2, "{watches:?}");
        assert_eq!(watches[0].query, "latency");
        assert!(watches[0].name.starts_with("rule:High:"));
        assert_eq!(
            watches[0]
                .alert_labels
                .as_ref()
                .map(|l| l["instance"].as_str()),
            Some("a")
        );
        let other = AlertingRule {
            labels: labels(&[("severity", "warning")]),
            ..rule
        };
        assert!(rule_watches(&alerts, &[other], 60).is_empty());
    }
}
