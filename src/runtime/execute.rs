//! Running an approved runbook step: its pre-checks, the command (captured, or with the
//! terminal handed over), its post-checks; the result goes back to `update` as `Msg::Executed`.

use std::sync::Arc;
use std::time::Duration;

use crate::app::{RunReport, RunRequest, StepCheck};
use crate::domain::remediation::CheckRecord;
use crate::exec::{self, ExecOutcome, ExecRequest};
use crate::sources::loki::LokiClient;
use crate::sources::prometheus::PrometheusClient;

/// How far back a LogQL check looks for a matching line.
const LOGQL_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Evaluates PromQL and LogQL checks against the configured sources, when there are any.
#[derive(Clone, Default)]
pub struct Checker {
    pub prometheus: Option<Arc<PrometheusClient>>,
    pub loki: Option<Arc<LokiClient>>,
    /// Why a check cannot be evaluated when a source is missing (e.g. "the demo has no
    /// Prometheus").
    pub missing_reason: Option<String>,
}

impl Checker {
    /// Evaluates every check of `when` (`pre` or `post`).
    pub async fn evaluate(&self, checks: &[StepCheck], when: &str) -> Vec<CheckRecord> {
        let mut out = Vec::new();
        for check in checks.iter().filter(|c| c.when == when) {
            let result = match check.lang {
                "promql" => self.promql(&check.query).await,
                "logql" => self.logql(&check.query).await,
                other => format!("not evaluated: unknown check language {other:?}"),
            };
            out.push(CheckRecord {
                when: when.to_string(),
                query: check.query.clone(),
                result,
            });
        }
        out
    }

    async fn promql(&self, query: &str) -> String {
        let Some(prom) = &self.prometheus else {
            return self.not_evaluated("Prometheus");
        };
        match prom.query(query, chrono::Utc::now().timestamp()).await {
            Ok(rows) if rows.is_empty() => "does not hold (empty result)".to_string(),
            Ok(rows) => format!("holds ({} series)", rows.len()),
            Err(e) => format!("error: {e}"),
        }
    }

    async fn logql(&self, query: &str) -> String {
        let Some(loki) = &self.loki else {
            return self.not_evaluated("Loki");
        };
        let end = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        let start = end.saturating_sub(LOGQL_WINDOW.as_nanos() as i64);
        match loki.query_logs(query, start, end, 1).await {
            Ok(streams) if streams.iter().all(|s| s.entries.is_empty()) => {
                "does not hold (no line in the last 5 min)".to_string()
            }
            Ok(_) => "holds (lines in the last 5 min)".to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    fn not_evaluated(&self, source: &str) -> String {
        match &self.missing_reason {
            Some(why) => format!("not evaluated: {why}"),
            None => format!("not evaluated: no {source} is configured"),
        }
    }
}

fn exec_request(run: &RunRequest) -> ExecRequest {
    let mut req = ExecRequest::new(run.command.clone(), run.timeout);
    req.env = run.env.clone();
    req
}

fn report(outcome: ExecOutcome, mut checks: Vec<CheckRecord>, post: Vec<CheckRecord>) -> RunReport {
    checks.extend(post);
    RunReport {
        exit_code: outcome.exit_code,
        timed_out: outcome.timed_out,
        duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
        summary: outcome.summary(),
        output: outcome.output,
        output_bytes: outcome.total_bytes,
        output_digest: outcome.output_sha256,
        checks,
    }
}

/// Pre-checks, the captured run, post-checks.
pub async fn run_captured(run: RunRequest, checker: Checker) -> Result<RunReport, String> {
    let pre = checker.evaluate(&run.checks, "pre").await;
    let outcome = exec::run(exec_request(&run))
        .await
        .map_err(|e| e.to_string())?;
    let post = checker.evaluate(&run.checks, "post").await;
    Ok(report(outcome, pre, post))
}

/// Pre-checks, the run with the terminal handed over (the caller has restored the terminal
/// and stopped reading its events), post-checks. The output is not captured.
pub async fn run_interactive(run: RunRequest, checker: Checker) -> Result<RunReport, String> {
    let pre = checker.evaluate(&run.checks, "pre").await;
    let req = exec_request(&run);
    let outcome = tokio::task::spawn_blocking(move || exec::run_interactive(&req))
        .await
        .map_err(|e| format!("the interactive run stopped unexpectedly: {e}"))?
        .map_err(|e| e.to_string())?;
    let post = checker.evaluate(&run.checks, "post").await;
    let mut report = report(outcome, pre, post);
    report.output = "(interactive: the output went to the terminal and was not captured)".into();
    Ok(report)
}
