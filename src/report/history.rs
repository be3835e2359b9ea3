//! `pagerpilot history`: the stored alert state changes (firing, resolved, silenced or
//! inhibited, acked), newest last, from the same database as the remediation log.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};

use crate::cli::{CorrelateFormat, HistoryArgs};
use crate::domain::AlertEvent;
use crate::store::Store;

/// Parses `90m`, `12h`, `7d`, `2w` (a whole number and a unit).
pub fn parse_since(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("--since {text:?}: expected a number and a unit, e.g. 7d or 12h"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "--since {text:?}: unknown unit {unit:?} (use s, m, h, d or w)"
            ))
        }
    };
    n.checked_mul(secs)
        .filter(|s| *s <= 100 * 365 * 86_400)
        .map(Duration::seconds)
        .ok_or_else(|| format!("--since {text:?}: too far back"))
}

/// Reads the history of the database at `db` (an absent file has none; it is not created).
pub fn run(db: &Path, args: &HistoryArgs, now: DateTime<Utc>) -> anyhow::Result<String> {
    let since = now - parse_since(&args.since).map_err(anyhow::Error::msg)?;
    let mut events = if db.exists() {
        let store = Store::open(db)?;
        let events = store
            .handle()
            .alert_history(since)
            .with_context(|| format!("cannot read the alert history in {}", db.display()))?;
        store.close()?;
        events
    } else {
        Vec::new()
    };
    if let Some(want) = &args.alert {
        events.retain(|e| e.fingerprint == *want || e.alertname == *want);
    }
    Ok(match args.format {
        CorrelateFormat::Json => serde_json::to_string_pretty(&events)? + "\n",
        CorrelateFormat::Table => to_table(&events, since, now),
    })
}

/// One line per change, then a summary.
pub fn to_table(events: &[AlertEvent], since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let mut out = format!(
        "{:<20} {:<10} {:<28} {:<20} {:<9} {:<16} NOTE\n",
        "TIME (UTC)", "STATE", "ALERT", "SERVICE", "SEVERITY", "FINGERPRINT"
    );
    for e in events {
        out.push_str(&format!(
            "{:<20} {:<10} {:<28} {:<20} {:<9} {:<16} {}\n",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            e.state.as_str(),
            e.alertname,
            e.service.as_deref().unwrap_or("-"),
            e.severity.as_str(),
            e.fingerprint,
            e.note.as_deref().unwrap_or("")
        ));
    }
    let mut alerts: Vec<&str> = events.iter().map(|e| e.fingerprint.as_str()).collect();
    alerts.sort_unstable();
    alerts.dedup();
    if events.is_empty() {
        out.push_str(&format!(
            "no alert state changes recorded in the last {}\n",
            super::age((now - since).num_seconds())
        ));
    } else {
        out.push_str(&format!(
            "{} changes of {} alerts since {}\n",
            events.len(),
            alerts.len(),
            since.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_units() {
        assert_eq!(parse_since("7d"), Ok(Duration::days(7)));
        assert_eq!(parse_since("90m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_since("2w"), Ok(Duration::weeks(2)));
        assert!(parse_since("7").is_err_and(|e| e.contains("unknown unit")));
        assert!(parse_since("d").is_err_and(|e| e.contains("expected a number")));
        assert!(parse_since("99999999999999d").is_err());
    }
}
