//! A live Prometheus client behind [`MetricsSource`] (`/api/v1/query_range`), plus instant
//! queries, build info and the alerts Prometheus itself evaluates.
//!
//! Prometheus answers query mistakes with HTTP 400/422 and the error envelope
//! `{"status":"error","errorType":"bad_data","error":"…"}`; the shared HTTP layer reports those as
//! [`SourceError::Http`], and this client turns them back into [`SourceError::Query`] with the
//! detail `"<errorType>: <error>"`.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde::Deserialize;
use serde_json::Value;

use super::http::{HttpClient, HttpConfig};
use super::{AlertSource, MetricsSource, SourceError, SourceKind};
use crate::domain::alert::fingerprint;
use crate::domain::series::series_id;
use crate::domain::{Alert, AlertState, Labels, Series};

const KIND: SourceKind = SourceKind::Prometheus;
pub const QUERY_RANGE_PATH: &str = "/api/v1/query_range";
pub const QUERY_PATH: &str = "/api/v1/query";
pub const BUILDINFO_PATH: &str = "/api/v1/status/buildinfo";
pub const ALERTS_PATH: &str = "/api/v1/alerts";
pub const RULES_PATH: &str = "/api/v1/rules";
pub const SERIES_PATH: &str = "/api/v1/series";
pub const LABELS_PATH: &str = "/api/v1/labels";

/// One alerting rule as `/api/v1/rules?type=alert` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertingRule {
    pub group: String,
    pub name: String,
    /// The PromQL expression (`query` in the API).
    pub query: String,
    /// Labels the rule adds to its alerts.
    pub labels: Labels,
    /// The rule's `for:` in seconds.
    pub duration_secs: f64,
}

#[derive(Deserialize)]
struct RawRules {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(Deserialize)]
struct RawGroup {
    #[serde(default)]
    name: String,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
struct RawRule {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    duration: f64,
}

/// One alert as Prometheus's own rule evaluation reports it (`/api/v1/alerts`).
#[derive(Clone, Debug, PartialEq)]
pub struct PrometheusAlert {
    pub labels: Labels,
    pub annotations: Labels,
    /// `pending` or `firing`.
    pub state: String,
    /// When the alert became active; absent or unreadable values give `None`.
    pub active_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct QueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: Value,
}

#[derive(Deserialize)]
struct RawMatrix {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    values: Vec<Value>,
}

#[derive(Deserialize)]
struct RawVector {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct RawAlerts {
    #[serde(default)]
    alerts: Vec<RawAlert>,
}

#[derive(Deserialize)]
struct RawAlert {
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    #[serde(default)]
    state: String,
    #[serde(default, rename = "activeAt")]
    active_at: Option<String>,
}

pub struct PrometheusClient {
    http: HttpClient,
}

impl std::fmt::Debug for PrometheusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusClient")
            .field("http", &self.http)
            .finish()
    }
}

impl PrometheusClient {
    pub fn new(config: HttpConfig) -> Result<PrometheusClient, SourceError> {
        Ok(PrometheusClient {
            http: HttpClient::new(KIND, config)?,
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Range query over `[start, end]` (unix seconds) at `step` seconds; a `matrix` result.
    pub async fn query_series(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, SourceError> {
        let params = [
            ("query", query.to_owned()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", step.to_string()),
        ];
        let data = self.get_query_data(QUERY_RANGE_PATH, &params).await?;
        match data.result_type.as_str() {
            "matrix" => parse_matrix(data.result),
            other => Err(SourceError::Query {
                kind: KIND,
                detail: format!(
                    "range query {query:?} gave a {other:?} result; a range query needs an \
                     expression that yields series (a matrix)"
                ),
            }),
        }
    }

    /// Instant query at `time` (unix seconds): one `(labels, timestamp, value)` per series of a
    /// `vector` result, or a single entry with empty labels for a `scalar`.
    pub async fn query(
        &self,
        expr: &str,
        time: i64,
    ) -> Result<Vec<(Labels, i64, f64)>, SourceError> {
        let params = [("query", expr.to_owned()), ("time", time.to_string())];
        let data = self.get_query_data(QUERY_PATH, &params).await?;
        match data.result_type.as_str() {
            "vector" => {
                let raw: Vec<RawVector> = serde_json::from_value(data.result)
                    .map_err(|e| bad(QUERY_PATH, format!("invalid vector result: {e}")))?;
                raw.into_iter()
                    .map(|v| {
                        let (ts, value) = parse_point(QUERY_PATH, &v.value)?;
                        Ok((v.metric, ts, value))
                    })
                    .collect()
            }
            "scalar" => {
                let (ts, value) = parse_point(QUERY_PATH, &data.result)?;
                Ok(vec![(Labels::new(), ts, value)])
            }
            other => Err(SourceError::Query {
                kind: KIND,
                detail: format!(
                    "instant query {expr:?} gave a {other:?} result; expected a vector or a scalar"
                ),
            }),
        }
    }

    /// Label sets of the series matching any of `matchers` (series selectors) in `[start, end]`
    /// (unix seconds), as `/api/v1/series` answers.
    pub async fn series(
        &self,
        matchers: &[&str],
        start: i64,
        end: i64,
    ) -> Result<Vec<Labels>, SourceError> {
        if matchers.is_empty() {
            return Err(SourceError::Query {
                kind: KIND,
                detail: "series needs at least one selector, e.g. up{job=\"api\"}".to_owned(),
            });
        }
        let mut params: Vec<(&str, String)> = matchers
            .iter()
            .map(|m| ("match[]", (*m).to_owned()))
            .collect();
        params.push(("start", start.to_string()));
        params.push(("end", end.to_string()));
        let data = self.get_data(SERIES_PATH, &params).await?;
        serde_json::from_value(data)
            .map_err(|e| bad(SERIES_PATH, format!("invalid series list: {e}")))
    }

    /// All label names (`/api/v1/labels`).
    pub async fn labels(&self) -> Result<Vec<String>, SourceError> {
        let data = self.get_data(LABELS_PATH, &[]).await?;
        serde_json::from_value(data)
            .map_err(|e| bad(LABELS_PATH, format!("invalid label names: {e}")))
    }

    /// The values of one label (`/api/v1/label/NAME/values`). The name must be a valid
    /// Prometheus label name, so it cannot change the request path.
    pub async fn label_values(&self, name: &str) -> Result<Vec<String>, SourceError> {
        if !super::is_label_name(name) {
            return Err(SourceError::Query {
                kind: KIND,
                detail: format!("{name:?} is not a valid label name"),
            });
        }
        let path = format!("/api/v1/label/{name}/values");
        let data = self.get_data(&path, &[]).await?;
        serde_json::from_value(data).map_err(|e| bad(&path, format!("invalid label values: {e}")))
    }

    /// The server's version (`/api/v1/status/buildinfo`); empty when it does not say.
    pub async fn build_info(&self) -> Result<String, SourceError> {
        let data = self.get_data(BUILDINFO_PATH, &[]).await?;
        match data.get("version") {
            Some(Value::String(v)) => Ok(v.clone()),
            // Compatible servers (VictoriaMetrics) answer with empty data: not reported.
            None => Ok(String::new()),
            Some(other) => Err(bad(
                BUILDINFO_PATH,
                format!("\"version\" is not a string: {other}"),
            )),
        }
    }

    /// Pending and firing alerts of Prometheus's own alerting rules (`/api/v1/alerts`).
    pub async fn alerts(&self) -> Result<Vec<PrometheusAlert>, SourceError> {
        let data = self.get_data(ALERTS_PATH, &[]).await?;
        let raw: RawAlerts = serde_json::from_value(data)
            .map_err(|e| bad(ALERTS_PATH, format!("invalid alerts: {e}")))?;
        Ok(raw
            .alerts
            .into_iter()
            .map(|a| PrometheusAlert {
                labels: a.labels,
                annotations: a.annotations,
                state: a.state,
                active_at: a
                    .active_at
                    .as_deref()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&Utc)),
            })
            .collect())
    }

    /// The alerting rules of every rule group (`/api/v1/rules?type=alert`); recording rules are
    /// left out.
    pub async fn rules(&self) -> Result<Vec<AlertingRule>, SourceError> {
        let data = self
            .get_data(RULES_PATH, &[("type", "alert".to_owned())])
            .await?;
        let raw: RawRules = serde_json::from_value(data)
            .map_err(|e| bad(RULES_PATH, format!("invalid rules: {e}")))?;
        Ok(raw
            .groups
            .into_iter()
            .flat_map(|g| {
                let group = g.name;
                g.rules
                    .into_iter()
                    .filter(|r| r.kind == "alerting")
                    .map(move |r| AlertingRule {
                        group: group.clone(),
                        name: r.name,
                        query: r.query,
                        labels: r.labels,
                        duration_secs: r.duration,
                    })
            })
            .collect())
    }

    /// Firing and pending alerts in the domain shape (for when no Alertmanager is configured).
    /// Prometheus's pending alerts are not firing yet and are left out.
    pub async fn firing_alerts(&self) -> Result<Vec<Alert>, SourceError> {
        let now = Utc::now();
        Ok(self
            .alerts()
            .await?
            .into_iter()
            .filter(|a| a.state == "firing")
            .map(|a| Alert {
                fingerprint: fingerprint(&a.labels),
                starts_at: a.active_at.unwrap_or(now),
                labels: a.labels,
                annotations: a.annotations,
                ends_at: None,
                state: AlertState::Firing,
                generator_url: None,
            })
            .collect())
    }

    async fn get_query_data(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<QueryData, SourceError> {
        let data = self.get_data(path, params).await?;
        serde_json::from_value(data).map_err(|e| bad(path, format!("invalid query data: {e}")))
    }

    /// GET and unwrap `{"status":"success","data":…}`; error envelopes become query errors.
    async fn get_data(&self, path: &str, params: &[(&str, String)]) -> Result<Value, SourceError> {
        let body = match self.http.get(path, params).await {
            Ok((_, body)) => body,
            Err(err) => return Err(envelope_error(err)),
        };
        let envelope: Envelope =
            serde_json::from_slice(&body).map_err(|e| bad(path, format!("invalid JSON: {e}")))?;
        for warning in &envelope.warnings {
            tracing::warn!(source = "prometheus", path, "{warning}");
        }
        if envelope.status != "success" {
            return Err(query_error(&envelope));
        }
        envelope
            .data
            .ok_or_else(|| bad(path, "response has no \"data\" field".to_owned()))
    }
}

/// Prometheus's own alerts behind [`AlertSource`]: the alert source when only Prometheus is
/// configured.
#[derive(Clone, Debug)]
pub struct PrometheusAlerts(pub std::sync::Arc<PrometheusClient>);

impl AlertSource for PrometheusAlerts {
    fn alerts(&self) -> BoxFuture<'_, Result<Vec<Alert>, SourceError>> {
        self.0.firing_alerts().boxed()
    }
}

impl MetricsSource for PrometheusClient {
    fn query_range<'a>(
        &'a self,
        query: &'a str,
        start: i64,
        end: i64,
        step: i64,
    ) -> BoxFuture<'a, Result<Vec<Series>, SourceError>> {
        self.query_series(query, start, end, step).boxed()
    }
}

fn bad(path: &str, detail: String) -> SourceError {
    SourceError::Decode {
        kind: KIND,
        detail: format!("{path}: {detail}"),
    }
}

fn query_error(envelope: &Envelope) -> SourceError {
    let error_type = envelope.error_type.as_deref().unwrap_or("error");
    let error = envelope.error.as_deref().unwrap_or("no error message");
    SourceError::Query {
        kind: KIND,
        detail: format!("{error_type}: {error}"),
    }
}

/// A non-2xx answer whose body is the Prometheus error envelope becomes a query error; anything
/// else is returned unchanged.
fn envelope_error(err: SourceError) -> SourceError {
    if let SourceError::Http { body, .. } = &err {
        if let Ok(envelope) = serde_json::from_str::<Envelope>(body) {
            if envelope.status == "error" && envelope.error.is_some() {
                return query_error(&envelope);
            }
        }
    }
    err
}

/// A sample value as Prometheus writes it: a decimal string, or `NaN`, `+Inf`, `-Inf`.
pub fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse::<f64>().ok(),
    }
}

/// `[<unix seconds as a number>, "<value>"]` → (whole seconds, value).
fn parse_point(path: &str, point: &Value) -> Result<(i64, f64), SourceError> {
    let ts = point
        .get(0)
        .and_then(Value::as_f64)
        .filter(|t| t.is_finite())
        .ok_or_else(|| bad(path, format!("sample {point} has no numeric timestamp")))?;
    let value = point
        .get(1)
        .and_then(Value::as_str)
        .and_then(parse_value)
        .ok_or_else(|| bad(path, format!("sample {point} has no readable value")))?;
    // Step-aligned timestamps are whole seconds; sub-second ones are rounded.
    Ok((ts.round() as i64, value))
}

/// Parses a `matrix` result: `[{"metric":{labels},"values":[[ts,"v"],…]},…]`.
fn parse_matrix(result: Value) -> Result<Vec<Series>, SourceError> {
    let raw: Vec<RawMatrix> = serde_json::from_value(result)
        .map_err(|e| bad(QUERY_RANGE_PATH, format!("invalid matrix result: {e}")))?;
    let mut out = Vec::with_capacity(raw.len());
    for series in raw {
        let mut timestamps = Vec::with_capacity(series.values.len());
        let mut values = Vec::with_capacity(series.values.len());
        for point in &series.values {
            let (ts, value) = parse_point(QUERY_RANGE_PATH, point)?;
            timestamps.push(ts);
            values.push(value);
        }
        out.push(Series {
            id: series_id(&series.metric),
            labels: series.metric,
            timestamps,
            values,
            capacity: None,
            slo: None,
            sensitivity: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_matrix_with_special_values() {
        let v = json!([{
            "metric": {"__name__": "m", "b": "2", "a": "x\"y"},
            "values": [[60, "1.5"], [120, "NaN"], [180, "+Inf"], [240, "-Inf"]]
        }]);
        let s = parse_matrix(v).unwrap();
        assert_eq!(s[0].id, r#"m{a="x\"y",b="2"}"#);
        assert_eq!(s[0].timestamps, vec![60, 120, 180, 240]);
        assert_eq!(s[0].values[0], 1.5);
        assert!(s[0].values[1].is_nan());
        assert_eq!(s[0].values[2], f64::INFINITY);
        assert_eq!(s[0].values[3], f64::NEG_INFINITY);
    }

    #[test]
    fn parses_rules_and_keeps_alerting_ones() {
        let v = json!({"groups": [{"name": "g", "rules": [
            {"type": "alerting", "name": "High", "query": "x > 1", "duration": 5,
             "labels": {"severity": "critical"}, "alerts": [], "health": "ok"},
            {"type": "recording", "name": "r", "query": "sum(x)"}
        ]}]});
        let raw: RawRules = serde_json::from_value(v).unwrap();
        assert_eq!(raw.groups[0].rules.len(), 2);
        assert_eq!(raw.groups[0].rules[0].kind, "alerting");
        assert_eq!(raw.groups[0].rules[0].duration, 5.0);
    }

    #[test]
    fn bad_sample_is_a_decode_error() {
        let v = json!([{"metric": {}, "values": [[60, "abc"]]}]);
        assert!(matches!(parse_matrix(v), Err(SourceError::Decode { .. })));
    }

    #[test]
    fn http_error_with_envelope_becomes_query_error() {
        let err = SourceError::Http {
            kind: KIND,
            status: 400,
            body: r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#.to_owned(),
        };
        assert_eq!(
            envelope_error(err),
            SourceError::Query {
                kind: KIND,
                detail: "bad_data: parse error".to_owned()
            }
        );
        let plain = SourceError::Http {
            kind: KIND,
            status: 502,
            body: "bad gateway".to_owned(),
        };
        assert_eq!(envelope_error(plain.clone()), plain);
    }
}
