//! A live Alertmanager client behind [`AlertSource`] (`GET /api/v2/alerts`), plus silences:
//! list (`GET /api/v2/silences`), create (`POST /api/v2/silences`) and expire
//! (`DELETE /api/v2/silence/{id}`).
//!
//! Alerts decode through the shared [`WireAlert`] type, so `status.state` maps the same way as
//! everywhere else: `active` → firing, `suppressed` → silenced when
//! `status.silencedBy` names a silence, else inhibited when `status.inhibitedBy` names an alert
//! (else suppressed).

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::http::{HttpClient, HttpConfig};
use super::{AlertSource, SourceError, SourceKind};
use crate::domain::alert::WireAlert;
use crate::domain::Alert;

const KIND: SourceKind = SourceKind::Alertmanager;
pub const ALERTS_PATH: &str = "/api/v2/alerts";
pub const SILENCES_PATH: &str = "/api/v2/silences";
pub const STATUS_PATH: &str = "/api/v2/status";
/// Prefix of the single-silence path; the id is appended after validation.
pub const SILENCE_PATH: &str = "/api/v2/silence/";

/// One silence matcher, as the v2 API encodes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    /// `false` negates the matcher (`!=` or `!~`). Older servers omit it: equal.
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher {
            name: name.into(),
            value: value.into(),
            is_regex: false,
            is_equal: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SilenceState {
    Active,
    Pending,
    Expired,
    /// A state this client does not know, kept verbatim.
    Other(String),
}

impl SilenceState {
    fn parse(text: &str) -> SilenceState {
        match text {
            "active" => SilenceState::Active,
            "pending" => SilenceState::Pending,
            "expired" => SilenceState::Expired,
            other => SilenceState::Other(other.to_owned()),
        }
    }
}

/// One silence as `GET /api/v2/silences` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
    pub state: SilenceState,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSilence {
    id: String,
    #[serde(default)]
    matchers: Vec<Matcher>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    status: Option<WireSilenceStatus>,
}

#[derive(Deserialize)]
struct WireSilenceStatus {
    state: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostableSilence<'a> {
    matchers: &'a [Matcher],
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    created_by: &'a str,
    comment: &'a str,
}

#[derive(Deserialize)]
struct SilenceCreated {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

/// What `GET /api/v2/status` says about the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertmanagerStatus {
    pub version: String,
    /// `ready`, `settling` or `disabled`.
    pub cluster: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStatusInfo {
    version_info: WireVersionInfo,
    #[serde(default)]
    cluster: WireCluster,
}

#[derive(Deserialize)]
struct WireVersionInfo {
    version: String,
}

#[derive(Deserialize, Default)]
struct WireCluster {
    #[serde(default)]
    status: String,
}

pub struct AlertmanagerClient {
    http: HttpClient,
}

impl std::fmt::Debug for AlertmanagerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerClient")
            .field("http", &self.http)
            .finish()
    }
}

impl AlertmanagerClient {
    pub fn new(config: HttpConfig) -> Result<AlertmanagerClient, SourceError> {
        Ok(AlertmanagerClient {
            http: HttpClient::new(KIND, config)?,
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Every alert the server holds: active, silenced and inhibited.
    pub async fn fetch_alerts(&self) -> Result<Vec<Alert>, SourceError> {
        let params = [
            ("active", "true".to_owned()),
            ("silenced", "true".to_owned()),
            ("inhibited", "true".to_owned()),
        ];
        let (_, body) = self.http.get(ALERTS_PATH, &params).await?;
        let wire: Vec<WireAlert> = decode(ALERTS_PATH, &body)?;
        let now = Utc::now();
        Ok(wire.into_iter().map(|a| a.into_alert(now)).collect())
    }

    /// The server's version and cluster status (`GET /api/v2/status`).
    pub async fn status(&self) -> Result<AlertmanagerStatus, SourceError> {
        let (_, body) = self.http.get(STATUS_PATH, &[]).await?;
        let wire: WireStatusInfo = decode(STATUS_PATH, &body)?;
        Ok(AlertmanagerStatus {
            version: wire.version_info.version,
            cluster: wire.cluster.status,
        })
    }

    /// Every silence the server knows (active, pending and expired).
    pub async fn silences(&self) -> Result<Vec<Silence>, SourceError> {
        let (_, body) = self.http.get(SILENCES_PATH, &[]).await?;
        let wire: Vec<WireSilence> = decode(SILENCES_PATH, &body)?;
        Ok(wire
            .into_iter()
            .map(|s| Silence {
                id: s.id,
                matchers: s.matchers,
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                created_by: s.created_by,
                comment: s.comment,
                state: SilenceState::parse(s.status.as_ref().map_or("", |st| st.state.as_str())),
            })
            .collect())
    }

    /// Creates a silence from now for `duration`; returns the id the server gave it.
    pub async fn create_silence(
        &self,
        matchers: &[Matcher],
        duration: Duration,
        created_by: &str,
        comment: &str,
    ) -> Result<String, SourceError> {
        if matchers.is_empty() || matchers.iter().any(|m| m.name.is_empty()) {
            return Err(invalid(
                "a silence needs at least one matcher, each with a name",
            ));
        }
        if duration.is_zero() {
            return Err(invalid("a silence needs a duration longer than zero"));
        }
        let span = chrono::Duration::from_std(duration)
            .map_err(|_| invalid("the silence duration is too long"))?;
        let starts_at = Utc::now();
        let ends_at = starts_at
            .checked_add_signed(span)
            .ok_or_else(|| invalid("the silence duration is too long"))?;
        let body = PostableSilence {
            matchers,
            starts_at,
            ends_at,
            created_by,
            comment,
        };
        let (_, answer) = self.http.post_json(SILENCES_PATH, &body).await?;
        let created: SilenceCreated = decode(SILENCES_PATH, &answer)?;
        if !is_silence_id(&created.silence_id) {
            return Err(SourceError::Decode {
                kind: KIND,
                detail: format!(
                    "{SILENCES_PATH}: silence id {:?} is not a UUID",
                    created.silence_id
                ),
            });
        }
        Ok(created.silence_id)
    }

    /// Expires a silence now. Ids that are not UUIDs are refused before any request is sent.
    pub async fn expire_silence(&self, id: &str) -> Result<(), SourceError> {
        if !is_silence_id(id) {
            return Err(invalid(&format!(
                "silence id {:?} is not a UUID (8-4-4-4-12 hex digits)",
                id.chars().take(64).collect::<String>()
            )));
        }
        let path = format!("{SILENCE_PATH}{id}");
        self.http.delete(&path).await?;
        Ok(())
    }
}

impl AlertSource for AlertmanagerClient {
    fn alerts(&self) -> BoxFuture<'_, Result<Vec<Alert>, SourceError>> {
        self.fetch_alerts().boxed()
    }
}

/// `8-4-4-4-12` hex digits, the shape Alertmanager gives silence ids. Only such ids are put
/// into a request path.
pub fn is_silence_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn invalid(detail: &str) -> SourceError {
    SourceError::Query {
        kind: KIND,
        detail: detail.to_owned(),
    }
}

fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|e| SourceError::Decode {
        kind: KIND,
        detail: format!("{path}: invalid JSON: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_ids() {
        assert!(is_silence_id("0b1d6c5e-4a43-4b6e-9f2a-3c1d2e4f5a6b"));
        assert!(is_silence_id("0B1D6C5E-4A43-4B6E-9F2A-3C1D2E4F5A6B"));
        assert!(!is_silence_id(""));
        assert!(!is_silence_id("../../api/v2/status"));
        assert!(!is_silence_id("0b1d6c5e-4a43-4b6e-9f2a-3c1d2e4f5a6"));
        assert!(!is_silence_id("0b1d6c5e-4a43-4b6e-9f2a-3c1d2e4f5a6/"));
        assert!(!is_silence_id("0b1d6c5e04a43-4b6e-9f2a-3c1d2e4f5a6b"));
    }

    #[test]
    fn decodes_a_silence_list() {
        let json = r#"[{"id":"0b1d6c5e-4a43-4b6e-9f2a-3c1d2e4f5a6b",
            "status":{"state":"expired"},"updatedAt":"2024-01-01T00:00:00Z",
            "matchers":[{"name":"service","value":"web","isRegex":false}],
            "startsAt":"2024-01-01T00:00:00Z","endsAt":"2024-01-01T01:00:00Z",
            "createdBy":"me","comment":"deploy"}]"#;
        let wire: Vec<WireSilence> = decode(SILENCES_PATH, json.as_bytes()).unwrap();
        assert_eq!(wire[0].matchers, vec![Matcher::equal("service", "web")]);
        assert_eq!(wire[0].status.as_ref().unwrap().state, "expired");
        assert!(matches!(
            decode::<Vec<WireSilence>>(SILENCES_PATH, b"{"),
            Err(SourceError::Decode { .. })
        ));
    }

    #[test]
    fn postable_silence_shape() {
        let matchers = [Matcher::equal("alertname", "X")];
        let t = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let body = PostableSilence {
            matchers: &matchers,
            starts_at: t,
            ends_at: t,
            created_by: "me",
            comment: "c",
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["matchers"][0]["isRegex"], false);
        assert_eq!(v["matchers"][0]["isEqual"], true);
        assert_eq!(v["createdBy"], "me");
        assert!(v["startsAt"].is_string() && v["endsAt"].is_string());
    }
}
