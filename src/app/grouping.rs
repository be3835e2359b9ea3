//! Grouping corrections from the keyboard: `m` merges two incidents (mark one, then press `m` on
//! the other), `X` splits an alert out of the open incident. Each is stored as a rule
//! (`analysis::corrections`) that also applies to later firings of the same alerts.

use super::update::{notify, request_analysis};
use super::{App, Effect, InputPurpose, Overlay, Screen, View};
use crate::analysis::corrections::{alert_key, GroupingRule, RuleKind};
use crate::domain::Incident;

/// The key of the alert that opened `incident`, if it is still among the active alerts.
fn opener_key(app: &App, incident: &Incident) -> Option<String> {
    let fp = &incident.members.first()?.fingerprint;
    app.data
        .alerts
        .iter()
        .find(|a| &a.fingerprint == fp)
        .map(alert_key)
}

/// `m` in the incident list.
pub(super) fn merge(app: &mut App) -> Vec<Effect> {
    if !matches!(app.screen, Screen::List(View::Incidents)) {
        return Vec::new();
    }
    let Some(selected) = app.selected_incident().cloned() else {
        return Vec::new();
    };
    let marked = app.merge_mark.take().and_then(|id| {
        app.analysis
            .as_ref()
            .and_then(|a| a.incidents.iter().find(|i| i.id == id).cloned())
    });
    let Some(marked) = marked.filter(|m| m.id != selected.id) else {
        notify(
            app,
            format!(
                "{} marked: select another incident and press m to merge them (Esc clears)",
                selected.id
            ),
            false,
        );
        app.merge_mark = Some(selected.id);
        return Vec::new();
    };
    let (Some(a), Some(b)) = (opener_key(app, &selected), opener_key(app, &marked)) else {
        notify(
            app,
            "those alerts are no longer active; nothing merged".into(),
            true,
        );
        return Vec::new();
    };
    vec![Effect::SaveGroupingRule(GroupingRule {
        kind: RuleKind::Merge,
        a,
        b,
    })]
}

/// `X` in the incident detail: ask which alert to split out.
pub(super) fn propose_split(app: &mut App) -> Vec<Effect> {
    match app.open_incident() {
        Some(i) if i.members.len() > 1 => {
            app.overlay = Some(Overlay::Input {
                purpose: InputPurpose::SplitAlert,
                text: String::new(),
            });
        }
        Some(_) => notify(
            app,
            "a one-alert incident has nothing to split".into(),
            true,
        ),
        None => {}
    }
    Vec::new()
}

/// The alert name for `X` was typed.
pub(super) fn submit_split(app: &mut App, text: &str) -> Vec<Effect> {
    let Some(incident) = app.open_incident().cloned() else {
        return Vec::new();
    };
    let Some(opener) = opener_key(app, &incident) else {
        notify(
            app,
            "the incident's first alert is no longer active".into(),
            true,
        );
        return Vec::new();
    };
    let wanted = text.trim();
    let member = incident.members.iter().skip(1).find_map(|m| {
        let alert = app
            .data
            .alerts
            .iter()
            .find(|a| a.fingerprint == m.fingerprint)?;
        let key = alert_key(alert);
        (alert.name().eq_ignore_ascii_case(wanted) || key.eq_ignore_ascii_case(wanted))
            .then_some(key)
    });
    match member {
        Some(key) if key == opener => {
            notify(
                app,
                format!("{wanted} is the same alert as the one that opened the incident"),
                true,
            );
            Vec::new()
        }
        Some(key) => vec![Effect::SaveGroupingRule(GroupingRule {
            kind: RuleKind::Split,
            a: key,
            b: opener,
        })],
        None => {
            notify(
                app,
                format!("no alert named {wanted:?} in this incident (other than the first)"),
                true,
            );
            Vec::new()
        }
    }
}

/// The store answered `Effect::SaveGroupingRule`.
pub(super) fn on_saved(app: &mut App, result: Result<GroupingRule, String>) -> Vec<Effect> {
    match result {
        Ok(rule) => {
            notify(
                app,
                format!("rule stored: {}; regrouping", rule.describe()),
                false,
            );
            app.grouping_rules.push(rule);
            request_analysis(app, true)
        }
        Err(e) => {
            notify(app, format!("grouping rule not stored: {e}"), true);
            Vec::new()
        }
    }
}

/// The stored rules were read at start-up.
pub(super) fn on_loaded(app: &mut App, result: Result<Vec<GroupingRule>, String>) -> Vec<Effect> {
    match result {
        Ok(rules) if rules.is_empty() => Vec::new(),
        Ok(rules) => {
            app.grouping_rules = rules;
            request_analysis(app, true)
        }
        Err(e) => {
            notify(app, format!("grouping rules not loaded: {e}"), true);
            Vec::new()
        }
    }
}
