//! Alertmanager silences for an incident: `S` proposes one (matchers, duration, comment), a
//! keystroke approves it, the runtime creates it, and the result is logged; `Z` expires the
//! last silence pagerpilot created for the incident, after the same approval. Both are refused
//! in read-only mode and when no Alertmanager is configured.

use std::time::Duration;

use super::msg::{Effect, SilenceAction};
use super::remediate::{take_request, READ_ONLY};
use super::update::notify;
use super::{Access, App, Confirm, InputPurpose, Overlay, PendingAction};
use crate::domain::remediation::{Decision, EntryKind, Mode, RemediationEntry, StoredEntry};
use crate::domain::Alert;

/// How long a silence lasts when the operator does not say.
pub const DEFAULT_SILENCE: Duration = Duration::from_secs(2 * 3600);
/// The longest silence accepted from the keyboard.
const MAX_SILENCE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Labels never used as matchers: they differ per alert instance or are not identifying.
const SKIP_LABELS: [&str; 2] = ["alertname", "severity"];

/// One label matcher of a proposed silence (`name=value` or `name=~regex`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SilenceMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
}

impl SilenceMatcher {
    pub fn text(&self) -> String {
        let op = if self.is_regex { "=~" } else { "=" };
        format!("{}{op}{:?}", self.name, self.value)
    }
}

/// `S` on an incident: ask for the duration and comment.
pub(super) fn propose(app: &mut App) -> Vec<Effect> {
    if !allowed(app, "create a silence") {
        return Vec::new();
    }
    let Some(id) = app.open_incident().map(|i| i.id.clone()) else {
        return Vec::new();
    };
    app.overlay = Some(Overlay::Input {
        purpose: InputPurpose::SilenceComment,
        text: String::new(),
    });
    app.silence_incident = Some(id);
    Vec::new()
}

/// The comment was typed: show exactly what will be created and ask for `y`.
pub(super) fn confirm_create(app: &mut App, text: &str) -> Vec<Effect> {
    let (duration, comment) = match parse_duration_and_comment(text) {
        Ok(parsed) => parsed,
        Err(e) => {
            notify(app, e, true);
            return Vec::new();
        }
    };
    let Some(incident) = app.silence_incident.clone() else {
        return Vec::new();
    };
    let matchers = matchers_for(&members(app, &incident));
    if matchers.is_empty() {
        notify(
            app,
            format!("{incident} has no active alerts to silence"),
            true,
        );
        return Vec::new();
    }
    let shown: Vec<String> = matchers.iter().map(SilenceMatcher::text).collect();
    app.pending_silence = Some(SilenceAction::Create {
        request: 0,
        matchers,
        duration,
        comment: comment.clone(),
        created_by: app
            .display_name
            .clone()
            .unwrap_or_else(|| app.operator.clone()),
    });
    app.overlay = Some(Overlay::Confirm(Confirm {
        action: PendingAction::Silence,
        prompt: format!(
            "Create an Alertmanager silence for {incident}?\n{{{}}}\nfor {}: {comment}",
            shown.join(", "),
            crate::report::duration_short(duration)
        ),
        expected: None,
        typed: String::new(),
    }));
    Vec::new()
}

/// `Z` on an incident: expire the last silence pagerpilot created for it.
pub(super) fn propose_expire(app: &mut App) -> Vec<Effect> {
    if !allowed(app, "expire a silence") {
        return Vec::new();
    }
    let Some(incident) = app.open_incident().map(|i| i.id.clone()) else {
        return Vec::new();
    };
    let Some(id) = last_silence(&app.log, &incident) else {
        notify(
            app,
            format!("no silence created by pagerpilot for {incident} to expire"),
            true,
        );
        return Vec::new();
    };
    app.silence_incident = Some(incident.clone());
    app.pending_silence = Some(SilenceAction::Expire {
        request: 0,
        id: id.clone(),
    });
    app.overlay = Some(Overlay::Confirm(Confirm {
        action: PendingAction::Silence,
        prompt: format!("Expire silence {id} of {incident} now?"),
        expected: None,
        typed: String::new(),
    }));
    Vec::new()
}

/// `y` on the silence confirmation.
pub(super) fn approved(app: &mut App) -> Vec<Effect> {
    let Some(mut action) = app.pending_silence.take() else {
        return Vec::new();
    };
    if !allowed(app, "change silences") {
        return Vec::new();
    }
    let request = take_request(app);
    match &mut action {
        SilenceAction::Create { request: r, .. } | SilenceAction::Expire { request: r, .. } => {
            *r = request
        }
    }
    app.silences_in_flight.insert(request, action.clone());
    vec![Effect::Silence(Box::new(action))]
}

/// Alertmanager answered: log what happened (success or failure).
pub(super) fn on_done(app: &mut App, request: u64, result: Result<String, String>) -> Vec<Effect> {
    let Some(action) = app.silences_in_flight.remove(&request) else {
        return Vec::new();
    };
    let incident = app
        .silence_incident
        .clone()
        .unwrap_or_else(|| "-".to_string());
    let (title, command) = match &action {
        SilenceAction::Create {
            matchers,
            duration,
            comment,
            ..
        } => (
            "create silence",
            format!(
                "silence {{{}}} for {}: {comment}",
                matchers
                    .iter()
                    .map(SilenceMatcher::text)
                    .collect::<Vec<_>>()
                    .join(", "),
                crate::report::duration_short(*duration)
            ),
        ),
        SilenceAction::Expire { id, .. } => ("expire silence", format!("expire silence {id}")),
    };
    let mut entry = RemediationEntry::new(
        app.now,
        app.operator.clone(),
        app.host.clone(),
        incident,
        "-",
        0,
        title,
        command,
        Decision::Approved,
    );
    entry.kind = EntryKind::Silence;
    entry.mode = Mode::Real;
    entry.display_name = app.display_name.clone();
    match (&result, &action) {
        (Ok(id), SilenceAction::Create { .. }) => {
            entry.exit_code = Some(0);
            entry.note = Some(format!("{SILENCE_ID_NOTE}{id}"));
        }
        (Ok(_), SilenceAction::Expire { .. }) => {
            entry.exit_code = Some(0);
            entry.note = Some("expired".to_string());
        }
        (Err(e), _) => {
            entry.exit_code = Some(1);
            entry.note = Some(format!("Alertmanager refused: {e}"));
            notify(app, format!("{title} failed: {e}"), true);
        }
    }
    let save = take_request(app);
    vec![Effect::Persist {
        request: save,
        entry: Box::new(entry),
    }]
}

/// The note of a created silence starts with this, then the id.
const SILENCE_ID_NOTE: &str = "silence id ";

/// The id of the last silence created for `incident` and not expired since, from the log.
fn last_silence(log: &[StoredEntry], incident: &str) -> Option<String> {
    let mut live: Vec<String> = Vec::new();
    for row in log
        .iter()
        .filter(|r| r.entry.kind == EntryKind::Silence && r.entry.incident_id == incident)
    {
        let e = &row.entry;
        if e.exit_code != Some(0) {
            continue;
        }
        if let Some(id) = e
            .note
            .as_deref()
            .and_then(|n| n.strip_prefix(SILENCE_ID_NOTE))
        {
            live.push(id.to_string());
        } else if let Some(id) = e.command.strip_prefix("expire silence ") {
            live.retain(|l| l != id);
        }
    }
    live.pop()
}

fn allowed(app: &mut App, what: &str) -> bool {
    if app.access == Access::ReadOnly {
        notify(app, format!("cannot {what}: {READ_ONLY}"), true);
        return false;
    }
    if !app.can_silence {
        notify(
            app,
            format!("cannot {what}: no Alertmanager is configured (the demo has none)"),
            true,
        );
        return false;
    }
    true
}

fn members(app: &App, incident: &str) -> Vec<Alert> {
    let Some(i) = app
        .analysis
        .as_ref()
        .and_then(|a| a.incidents.iter().find(|i| i.id == incident))
    else {
        return Vec::new();
    };
    app.data
        .alerts
        .iter()
        .filter(|a| i.members.iter().any(|m| m.fingerprint == a.fingerprint))
        .cloned()
        .collect()
}

/// Matchers that select exactly the incident's alert names: `alertname` (one value, or an
/// anchored alternation of the names with regex metacharacters escaped), plus every other
/// label that all members share with the same value.
pub fn matchers_for(alerts: &[Alert]) -> Vec<SilenceMatcher> {
    let Some(first) = alerts.first() else {
        return Vec::new();
    };
    let mut names: Vec<&str> = alerts.iter().map(|a| a.name()).collect();
    names.sort_unstable();
    names.dedup();
    let mut out = vec![if names.len() == 1 {
        SilenceMatcher {
            name: "alertname".into(),
            value: names[0].to_string(),
            is_regex: false,
        }
    } else {
        SilenceMatcher {
            name: "alertname".into(),
            value: names
                .iter()
                .map(|n| regex::escape(n))
                .collect::<Vec<_>>()
                .join("|"),
            is_regex: true,
        }
    }];
    for (name, value) in &first.labels {
        if SKIP_LABELS.contains(&name.as_str()) {
            continue;
        }
        if alerts.iter().all(|a| a.labels.get(name) == Some(value)) {
            out.push(SilenceMatcher {
                name: name.clone(),
                value: value.clone(),
                is_regex: false,
            });
        }
    }
    out
}

/// `"2h investigating the pool"` -> (2 h, "investigating the pool"); without a leading
/// duration the default applies. A comment is required.
pub fn parse_duration_and_comment(text: &str) -> Result<(Duration, String), String> {
    let text = text.trim();
    let (first, rest) = text.split_once(' ').unwrap_or((text, ""));
    let (duration, comment) = match crate::config::parse_duration(first) {
        Ok(d) => (d, rest.trim()),
        Err(_) => (DEFAULT_SILENCE, text),
    };
    if duration > MAX_SILENCE {
        return Err(format!(
            "a silence from pagerpilot lasts at most {}; asked for {first}",
            crate::report::duration_short(MAX_SILENCE)
        ));
    }
    if comment.is_empty() {
        return Err("a silence needs a comment saying why (e.g. `2h pool leak, DBA on it`)".into());
    }
    Ok((duration, comment.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::fingerprint;
    use crate::domain::{AlertState, Labels};

    fn alert(pairs: &[(&str, &str)]) -> Alert {
        let labels: Labels = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Alert {
            fingerprint: fingerprint(&labels),
            labels,
            annotations: Labels::new(),
            starts_at: chrono::Utc::now(),
            ends_at: None,
            state: AlertState::Firing,
            generator_url: None,
        }
    }

    #[test]
    fn matchers_cover_the_names_and_the_shared_labels() {
        let a = alert(&[
            ("alertname", "Db.Down"),
            ("namespace", "shop"),
            ("pod", "db-0"),
        ]);
        let b = alert(&[
            ("alertname", "ApiSlow"),
            ("namespace", "shop"),
            ("pod", "api-1"),
        ]);
        let m = matchers_for(&[a.clone(), b]);
        let texts: Vec<String> = m.iter().map(SilenceMatcher::text).collect();
        assert_eq!(
            texts,
            vec![
                "alertname=~\"ApiSlow|Db\\\\.Down\"".to_string(),
                "namespace=\"shop\"".to_string()
            ]
        );
        let one = matchers_for(&[a]);
        assert_eq!(one[0].text(), "alertname=\"Db.Down\"");
        assert_eq!(one.len(), 3, "all of a single alert's labels: {one:?}");
    }

    #[test]
    fn duration_and_comment() {
        assert_eq!(
            parse_duration_and_comment("30m deploy in progress"),
            Ok((Duration::from_secs(1800), "deploy in progress".into()))
        );
        assert_eq!(
            parse_duration_and_comment("known issue"),
            Ok((DEFAULT_SILENCE, "known issue".into()))
        );
        assert!(parse_duration_and_comment("2h").is_err(), "no comment");
        assert!(parse_duration_and_comment("30d too long").is_err());
    }
}
