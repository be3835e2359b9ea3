//! The alert history: every observed state change of an alert (and every ack), kept apart from
//! the hash-chained remediation log. Rows are appended, never changed.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::redact::Redactor;
use super::rows::sql_error as sql;
use super::StoreError;
use crate::domain::{AlertEvent, HistoryState, Labels, Severity};

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Appends `events` in one transaction (label values and notes redacted). A state change equal
/// to the alert's last stored state (other than an ack) is skipped, so restarting pagerpilot does
/// not record every firing alert again. Returns how many rows were written.
pub fn record(
    conn: &mut Connection,
    path: &Path,
    redactor: &Redactor,
    events: &[AlertEvent],
) -> Result<usize, StoreError> {
    let fail = sql(path, "recording alert history");
    let tx = conn.transaction().map_err(&fail)?;
    let mut written = 0;
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO alert_history (ts, fingerprint, alertname, service, severity, state, \
                 starts_at, labels, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(&fail)?;
        let mut last = tx
            .prepare_cached(
                "SELECT state FROM alert_history WHERE fingerprint = ?1 AND state != 'acked' \
                 ORDER BY ts DESC, id DESC LIMIT 1",
            )
            .map_err(&fail)?;
        for e in events {
            if e.state != HistoryState::Acked {
                let prev: Option<String> = last
                    .query_row(params![e.fingerprint], |r| r.get(0))
                    .optional()
                    .map_err(&fail)?;
                if prev.as_deref() == Some(e.state.as_str()) {
                    continue;
                }
            }
            written += 1;
            let labels: Labels = e
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), redactor.redact(v)))
                .collect();
            let labels = serde_json::to_string(&labels).map_err(|err| StoreError::Invalid {
                path: path.to_path_buf(),
                what: format!("alert labels cannot be encoded: {err}"),
            })?;
            stmt.execute(params![
                ts(e.at),
                e.fingerprint,
                redactor.redact(&e.alertname),
                e.service.as_deref().map(|s| redactor.redact(s)),
                e.severity.as_str(),
                e.state.as_str(),
                ts(e.starts_at),
                labels,
                e.note.as_deref().map(|n| redactor.redact(n)),
            ])
            .map_err(&fail)?;
        }
    }
    tx.commit().map_err(&fail)?;
    Ok(written)
}

/// Events at or after `since`, oldest first.
pub fn since(
    conn: &Connection,
    path: &Path,
    since: DateTime<Utc>,
) -> Result<Vec<AlertEvent>, StoreError> {
    let fail = sql(path, "reading alert history");
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, ts, fingerprint, alertname, service, severity, state, starts_at, labels, \
             note FROM alert_history WHERE ts >= ?1 ORDER BY ts, id",
        )
        .map_err(&fail)?;
    let rows = stmt
        .query_map(params![ts(since)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, Option<String>>(9)?,
            ))
        })
        .map_err(&fail)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, fingerprint, alertname, service, severity, state, starts_at, labels, note) =
            row.map_err(&fail)?;
        let bad = |what: String| StoreError::Invalid {
            path: path.to_path_buf(),
            what: format!("alert_history row {id}: {what}"),
        };
        let time = |t: &str| {
            DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| bad(format!("bad time {t:?}: {e}")))
        };
        out.push(AlertEvent {
            at: time(&at)?,
            fingerprint,
            alertname,
            service,
            severity: Severity::from_label(Some(&severity)),
            state: HistoryState::parse(&state)
                .ok_or_else(|| bad(format!("bad state {state:?}")))?,
            starts_at: time(&starts_at)?,
            labels: serde_json::from_str(&labels).map_err(|e| bad(format!("bad labels: {e}")))?,
            note,
        });
    }
    Ok(out)
}
