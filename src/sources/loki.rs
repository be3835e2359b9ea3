//! A live Grafana Loki client behind [`LogSource`], plus the label/series/buildinfo endpoints and
//! paging past Loki's per-query line limit.
//!
//! Loki treats `end` as exclusive; the [`LogSource`] contract is an inclusive `[start_ns, end_ns]`,
//! so requests send `end_ns + 1`.

use std::collections::{BTreeMap, HashSet};

use futures::future::BoxFuture;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::http::{HttpClient, HttpConfig};
use super::{LogSource, SourceError, SourceKind};
use crate::domain::{Labels, LogEntry, LogStream};

const KIND: SourceKind = SourceKind::Loki;
pub const QUERY_RANGE_PATH: &str = "/loki/api/v1/query_range";
pub const LABELS_PATH: &str = "/loki/api/v1/labels";
pub const SERIES_PATH: &str = "/loki/api/v1/series";
pub const BUILDINFO_PATH: &str = "/loki/api/v1/status/buildinfo";

/// What `/loki/api/v1/status/buildinfo` reports (fields are empty in source builds).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BuildInfo {
    pub version: String,
    pub revision: String,
    pub branch: String,
    pub build_user: String,
    pub build_date: String,
    pub go_version: String,
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    #[serde(default = "Option::default")]
    data: Option<T>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct QueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct RawStream {
    #[serde(default)]
    stream: Labels,
    #[serde(default)]
    values: Vec<Vec<serde_json::Value>>,
}

pub struct LokiClient {
    http: HttpClient,
}

impl std::fmt::Debug for LokiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LokiClient")
            .field("http", &self.http)
            .finish()
    }
}

impl LokiClient {
    pub fn new(config: HttpConfig) -> Result<LokiClient, SourceError> {
        Ok(LokiClient {
            http: HttpClient::new(KIND, config)?,
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// One `query_range` page: newest first (`direction=backward`), at most `limit` lines over
    /// all streams, within the inclusive `[start_ns, end_ns]`.
    pub async fn query_logs(
        &self,
        query: &str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> Result<Vec<LogStream>, SourceError> {
        // Like the replay: an empty window or a zero limit asks for nothing.
        if limit == 0 || end_ns < start_ns {
            return Ok(Vec::new());
        }
        let params = [
            ("query", query.to_owned()),
            ("start", start_ns.to_string()),
            ("end", end_ns.saturating_add(1).to_string()),
            ("limit", limit.to_string()),
            ("direction", "backward".to_owned()),
        ];
        let data: QueryData = self.get_data(QUERY_RANGE_PATH, &params).await?;
        match data.result_type.as_str() {
            "streams" => parse_streams(data.result),
            other => Err(SourceError::Query {
                kind: KIND,
                detail: format!(
                    "query {query:?} is a metric query (Loki answered resultType {other:?}); \
                     the log view needs a log query: a stream selector such as \
                     {{app=\"checkout-api\"}}, optionally with line filters like |= \"error\""
                ),
            }),
        }
    }

    /// Pages backwards through `[start_ns, end_ns]` until a page comes back short (fewer than
    /// `page_limit` lines) or `max_lines` lines were collected. Each next page ends at the oldest
    /// timestamp seen (inclusive), so lines sharing that timestamp are not lost; the repeated
    /// boundary lines are dropped. Returns streams in first-seen order, entries newest first.
    pub async fn query_range_all(
        &self,
        query: &str,
        start_ns: i64,
        end_ns: i64,
        page_limit: usize,
        max_lines: usize,
    ) -> Result<Vec<LogStream>, SourceError> {
        let mut order: Vec<Labels> = Vec::new();
        let mut by_labels: BTreeMap<Labels, Vec<LogEntry>> = BTreeMap::new();
        let mut seen: HashSet<(usize, i64, String)> = HashSet::new();
        let mut total = 0usize;
        let mut end = end_ns;
        if page_limit == 0 || max_lines == 0 {
            return Ok(Vec::new());
        }
        while end >= start_ns && total < max_lines {
            let page = self.query_logs(query, start_ns, end, page_limit).await?;
            let returned: usize = page.iter().map(|s| s.entries.len()).sum();
            let mut fresh: Vec<(usize, LogEntry)> = Vec::new();
            let mut oldest = i64::MAX;
            for stream in page {
                let idx = match order.iter().position(|l| *l == stream.labels) {
                    Some(i) => i,
                    None => {
                        order.push(stream.labels.clone());
                        order.len() - 1
                    }
                };
                for entry in stream.entries {
                    oldest = oldest.min(entry.ts_ns);
                    if seen.insert((idx, entry.ts_ns, entry.line.clone())) {
                        fresh.push((idx, entry));
                    }
                }
            }
            // Keep the newest lines when the page overshoots `max_lines`.
            fresh.sort_by_key(|e| std::cmp::Reverse(e.1.ts_ns));
            fresh.truncate(max_lines - total);
            let progressed = !fresh.is_empty();
            total += fresh.len();
            for (idx, entry) in fresh {
                if let Some(labels) = order.get(idx) {
                    by_labels.entry(labels.clone()).or_default().push(entry);
                }
            }
            // A short page is the last one; a page of nothing but repeats cannot move on.
            if returned < page_limit || !progressed || oldest == i64::MAX {
                break;
            }
            end = oldest;
        }
        let mut out = Vec::new();
        for labels in order {
            if let Some(mut entries) = by_labels.remove(&labels) {
                entries.sort_by_key(|e| std::cmp::Reverse(e.ts_ns));
                out.push(LogStream { labels, entries });
            }
        }
        Ok(out)
    }

    /// All label names Loki knows (its default time range: recent hours).
    pub async fn labels(&self) -> Result<Vec<String>, SourceError> {
        self.get_data(LABELS_PATH, &[]).await
    }

    /// The values of one label. The name must be a valid Loki label name.
    pub async fn label_values(&self, name: &str) -> Result<Vec<String>, SourceError> {
        if !super::is_label_name(name) {
            return Err(SourceError::Query {
                kind: KIND,
                detail: format!("{name:?} is not a valid label name"),
            });
        }
        self.get_data(&format!("/loki/api/v1/label/{name}/values"), &[])
            .await
    }

    /// Label sets of the streams matching any of `matchers` (stream selectors).
    pub async fn series(&self, matchers: &[&str]) -> Result<Vec<Labels>, SourceError> {
        if matchers.is_empty() {
            return Err(SourceError::Query {
                kind: KIND,
                detail: "series needs at least one stream selector, e.g. {app=\"x\"}".to_owned(),
            });
        }
        let params: Vec<(&str, String)> = matchers
            .iter()
            .map(|m| ("match[]", (*m).to_owned()))
            .collect();
        self.get_data(SERIES_PATH, &params).await
    }

    /// Version information (not wrapped in the usual `status`/`data` envelope).
    pub async fn build_info(&self) -> Result<BuildInfo, SourceError> {
        let (_, body) = self.http.get(BUILDINFO_PATH, &[]).await?;
        decode(BUILDINFO_PATH, &body)
    }

    /// GET and unwrap `{"status":"success","data":…}`.
    async fn get_data<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, SourceError> {
        let (_, body) = self.http.get(path, params).await?;
        let envelope: Envelope<T> = decode(path, &body)?;
        if envelope.status != "success" {
            return Err(SourceError::Query {
                kind: KIND,
                detail: format!(
                    "{path}: status {:?}: {}",
                    envelope.status,
                    envelope
                        .error
                        .unwrap_or_else(|| "no error message".to_owned())
                ),
            });
        }
        envelope.data.ok_or_else(|| SourceError::Decode {
            kind: KIND,
            detail: format!("{path}: response has no \"data\" field"),
        })
    }
}

impl LogSource for LokiClient {
    fn query_range<'a>(
        &'a self,
        query: &'a str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<LogStream>, SourceError>> {
        self.query_logs(query, start_ns, end_ns, limit).boxed()
    }
}

fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|e| SourceError::Decode {
        kind: KIND,
        detail: format!("{path}: invalid JSON: {e}"),
    })
}

/// Parses a `streams` result: `[{"stream":{labels},"values":[["<ns>","<line>"],…]},…]`.
fn parse_streams(result: serde_json::Value) -> Result<Vec<LogStream>, SourceError> {
    let bad = |detail: String| SourceError::Decode {
        kind: KIND,
        detail: format!("{QUERY_RANGE_PATH}: {detail}"),
    };
    let raw: Vec<RawStream> =
        serde_json::from_value(result).map_err(|e| bad(format!("invalid streams result: {e}")))?;
    let mut out = Vec::with_capacity(raw.len());
    for stream in raw {
        let mut entries = Vec::with_capacity(stream.values.len());
        for value in stream.values {
            let ts_ns = match value.first() {
                Some(serde_json::Value::String(s)) => s.parse::<i64>().ok(),
                Some(serde_json::Value::Number(n)) => n.as_i64(),
                _ => None,
            }
            .ok_or_else(|| {
                bad(format!(
                    "timestamp {} in stream {:?} is not an integer number of nanoseconds",
                    value
                        .first()
                        .map_or("(missing)".to_owned(), |v| v.to_string()),
                    stream.stream
                ))
            })?;
            let line = match value.get(1) {
                Some(serde_json::Value::String(s)) => s.clone(),
                other => {
                    return Err(bad(format!(
                        "line at timestamp {ts_ns} is not a string: {}",
                        other.map_or("(missing)".to_owned(), |v| v.to_string())
                    )))
                }
            };
            entries.push(LogEntry { ts_ns, line });
        }
        out.push(LogStream {
            labels: stream.stream,
            entries,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_timestamp_names_the_value() {
        let v = serde_json::json!([{"stream": {"a": "b"}, "values": [["12x", "line"]]}]);
        let err = parse_streams(v).unwrap_err().to_string();
        assert!(err.contains("\"12x\""), "{err}");
    }

    #[test]
    fn parses_ns_exactly() {
        let v = serde_json::json!([{"stream": {}, "values": [["1795573829849099935", "l"]]}]);
        let streams = parse_streams(v).unwrap();
        assert_eq!(streams[0].entries[0].ts_ns, 1_795_573_829_849_099_935);
    }
}
