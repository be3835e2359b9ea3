//! The set of sources one run polls, and how to build it (the demo today; live clients later).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::app::RunMode;
use crate::demo::Scenario;
use crate::domain::runbook::{self, Runbook};
use crate::domain::Edge;
use crate::sources::replay::Replay;
use crate::sources::{AlertSource, Clock, LogSource, MetricsSource, Watch};

/// Everything the pollers need, behind the source traits.
#[derive(Clone)]
pub struct Sources {
    pub mode: RunMode,
    /// Shown with the DEMO marker.
    pub scenario_name: Option<String>,
    pub metrics: Arc<dyn MetricsSource>,
    pub alerts: Arc<dyn AlertSource>,
    pub logs: Arc<dyn LogSource>,
    pub watches: Vec<Watch>,
    /// LogQL stream selectors polled for log patterns.
    pub log_selectors: Vec<String>,
    pub topology: Vec<Edge>,
    pub runbooks: Vec<Runbook>,
    /// How much metric history to keep.
    pub history_secs: i64,
    /// How much log history to fetch each poll.
    pub log_window_secs: i64,
    pub log_limit: usize,
}

/// The demo: a replay of `scenario` anchored at `anchor`, moving with `clock`.
pub fn demo(scenario: Scenario, anchor: DateTime<Utc>, clock: Arc<dyn Clock>) -> Sources {
    let scenario = Arc::new(scenario);
    let replay = Arc::new(Replay::new(scenario.clone(), anchor, clock));
    let watches = scenario.watches();
    let mut services: Vec<String> = scenario
        .topology()
        .iter()
        .flat_map(|e| [e.from.clone(), e.to.clone()])
        .collect();
    services.extend(watches.iter().filter_map(|w| service_in_selector(&w.query)));
    services.sort();
    services.dedup();
    Sources {
        mode: RunMode::Demo,
        scenario_name: Some(scenario.name().to_string()),
        metrics: replay.clone(),
        alerts: replay.clone(),
        logs: replay,
        log_selectors: services
            .iter()
            .map(|s| format!("{{service=\"{s}\"}}"))
            .collect(),
        watches,
        topology: scenario.topology(),
        runbooks: runbook::embedded(),
        history_secs: scenario.history_secs(),
        log_window_secs: 2 * 3600,
        log_limit: 5_000,
    }
}

/// The value of `service="..."` in a selector, if any.
fn service_in_selector(query: &str) -> Option<String> {
    let rest = &query[query.find("service=\"")? + "service=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_is_read_from_a_selector() {
        assert_eq!(
            service_in_selector(r#"http_requests{namespace="shop",service="web"}"#),
            Some("web".to_string())
        );
        assert_eq!(service_in_selector("up"), None);
        assert_eq!(service_in_selector(r#"x{service="unterminated}"#), None);
    }
}
