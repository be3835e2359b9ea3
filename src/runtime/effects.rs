//! Performs the effects `update` asks for, off the render loop, and reports back as messages.

use std::path::PathBuf;

use tokio::sync::mpsc::UnboundedSender;

use super::execute::{self, Checker};
use crate::analysis::analyze_reading_runbooks_cached;
use crate::analysis::anomaly::ScoreCache;
use std::sync::{Arc, Mutex};

use crate::analysis::patterns::ids::PatternIds;
use crate::analysis::similarity;
use crate::app::{App, Effect, Msg, SilenceAction};
use crate::report::timeline;
use crate::sources::alertmanager::{AlertmanagerClient, Matcher};
use crate::store::StoreHandle;

pub struct EffectRunner {
    pub tx: UnboundedSender<Msg>,
    pub store: StoreHandle,
    pub exports_dir: PathBuf,
    pub checker: Checker,
    /// For silences, when an Alertmanager is configured.
    pub alertmanager: Option<Arc<AlertmanagerClient>>,
    /// Log pattern ids seen so far (and aliases of generalised templates), loaded from the
    /// store on the first analysis and saved back after each one, so they survive restarts.
    pub pattern_ids: Arc<Mutex<Option<PatternIds>>>,
    /// Series scorers kept between analyses, so each analysis scores only new points.
    pub scores: Arc<Mutex<ScoreCache>>,
}

impl EffectRunner {
    /// Appends alert state changes to the alert history on a blocking thread (failures are
    /// logged: the history is a record, not something the screen waits on).
    pub fn record_history(&self, events: Vec<crate::domain::AlertEvent>) {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.record_alerts(events) {
                tracing::error!(error = %e, "alert history write failed");
            }
        });
    }

    /// Starts `effect`; never blocks the caller. `app` is read for exports only.
    pub fn run(&self, effect: Effect, app: &App) {
        let tx = self.tx.clone();
        match effect {
            Effect::Analyze {
                generation,
                snapshot,
            } => {
                let store = self.store.clone();
                let ids = self.pattern_ids.clone();
                let scores = self.scores.clone();
                tokio::task::spawn_blocking(move || {
                    let now = snapshot.now;
                    let now_ns = now.timestamp_nanos_opt().unwrap_or(i64::MAX);
                    // A poisoned lock only means an earlier analysis panicked: start afresh.
                    let mut cache = scores.lock().unwrap_or_else(|poisoned| {
                        let mut guard = poisoned.into_inner();
                        *guard = ScoreCache::new();
                        guard
                    });
                    let analysis = Box::new(analyze_reading_runbooks_cached(*snapshot, &mut cache));
                    drop(cache);
                    let patterns = analysis.patterns.clone();
                    let incidents = analysis.incidents.clone();
                    // Saved before the result is shown, so ids of what is on screen are stored
                    // even if pagerpilot quits right after.
                    remember_patterns(&store, &ids, &patterns, now_ns);
                    let _ = tx.send(Msg::Analyzed {
                        generation,
                        analysis,
                    });
                    if let Some(seen) = seen_before(&store, &incidents, now) {
                        let _ = tx.send(Msg::SeenBefore { generation, seen });
                    }
                });
            }
            Effect::Persist { request, entry } => {
                let store = self.store.clone();
                tokio::task::spawn_blocking(move || {
                    let result = store
                        .append(*entry)
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "remediation log write failed");
                    }
                    let _ = tx.send(Msg::Persisted { request, result });
                });
            }
            Effect::SaveGroupingRule(rule) => {
                let store = self.store.clone();
                let operator = app.operator.clone();
                tokio::task::spawn_blocking(move || {
                    let result = store
                        .add_grouping_rule(rule.clone(), &operator)
                        .map(|()| rule)
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::GroupingRuleSaved(result));
                });
            }
            Effect::LoadAcks => {
                let store = self.store.clone();
                tokio::task::spawn_blocking(move || {
                    // An ack lasts until its alert resolves; look back far enough for a long one.
                    let since = chrono::Utc::now() - chrono::Duration::days(30);
                    let result = store
                        .alert_history(since)
                        .map(|h| crate::analysis::flap::acks_from_history(&h))
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::AcksLoaded(result));
                });
            }
            Effect::LoadGroupingRules => {
                let store = self.store.clone();
                tokio::task::spawn_blocking(move || {
                    let result = store.grouping_rules().map_err(|e| e.to_string());
                    let _ = tx.send(Msg::GroupingRulesLoaded(result));
                });
            }
            Effect::LoadLog => {
                let store = self.store.clone();
                tokio::task::spawn_blocking(move || {
                    let result = store.list(None).map_err(|e| e.to_string());
                    let _ = tx.send(Msg::LogLoaded(result));
                });
            }
            Effect::Export { incident_id } => {
                let (Some(analysis), Some(incident)) = (
                    app.analysis.as_ref(),
                    app.analysis
                        .as_ref()
                        .and_then(|a| a.incidents.iter().find(|i| i.id == incident_id)),
                ) else {
                    let _ = tx.send(Msg::Exported(Err(format!(
                        "incident {incident_id} is no longer active"
                    ))));
                    return;
                };
                let t = timeline::build(
                    incident,
                    &app.data.alerts,
                    &app.data.transitions,
                    analysis,
                    &app.log,
                );
                let dir = self.exports_dir.clone();
                let stamp = app.now.format("%Y%m%dT%H%M%SZ");
                tokio::task::spawn_blocking(move || {
                    let path = dir.join(format!("{incident_id}-{stamp}.md"));
                    let result = std::fs::create_dir_all(&dir)
                        .and_then(|_| std::fs::write(&path, timeline::to_markdown(&t)))
                        .map(|_| path.display().to_string())
                        .map_err(|e| format!("{}: {e}", path.display()));
                    let _ = tx.send(Msg::Exported(result));
                });
            }
            Effect::Execute(run) => {
                // Interactive runs need the terminal: the TUI loop takes those itself.
                let checker = self.checker.clone();
                let request = run.request;
                tokio::spawn(async move {
                    let result = execute::run_captured(*run, checker).await.map(Box::new);
                    let _ = tx.send(Msg::Executed { request, result });
                });
            }
            Effect::Silence(action) => {
                let request = action.request();
                let Some(am) = self.alertmanager.clone() else {
                    let _ = tx.send(Msg::SilenceDone {
                        request,
                        result: Err("no Alertmanager is configured".into()),
                    });
                    return;
                };
                tokio::spawn(async move {
                    let result = match *action {
                        SilenceAction::Create {
                            matchers,
                            duration,
                            comment,
                            created_by,
                            ..
                        } => {
                            let matchers: Vec<Matcher> = matchers
                                .into_iter()
                                .map(|m| Matcher {
                                    name: m.name,
                                    value: m.value,
                                    is_regex: m.is_regex,
                                    is_equal: true,
                                })
                                .collect();
                            am.create_silence(&matchers, duration, &created_by, &comment)
                                .await
                        }
                        SilenceAction::Expire { id, .. } => {
                            am.expire_silence(&id).await.map(|()| id)
                        }
                    };
                    let _ = tx.send(Msg::SilenceDone {
                        request,
                        result: result.map_err(|e| e.to_string()),
                    });
                });
            }
            Effect::Quit => {}
        }
    }
}

/// Records this analysis's log patterns in the id registry and saves it. Failures are logged:
/// the registry is a record of ids, not something the screen waits on.
fn remember_patterns(
    store: &StoreHandle,
    ids: &Mutex<Option<PatternIds>>,
    patterns: &[crate::analysis::PatternSummary],
    now_ns: i64,
) {
    let Ok(mut guard) = ids.lock() else {
        tracing::error!("pattern id registry lock poisoned; ids not saved");
        return;
    };
    let registry = guard.get_or_insert_with(|| {
        store.load_pattern_ids().unwrap_or_else(|e| {
            tracing::error!(error = %e, "loading log pattern ids; starting empty");
            PatternIds::new()
        })
    });
    for (old, new) in registry.observe(patterns, now_ns) {
        tracing::info!(old = %old, new = %new, "log pattern generalised; id aliased");
    }
    if let Err(e) = store.save_pattern_ids(registry.clone()) {
        tracing::error!(error = %e, "saving log pattern ids");
    }
}

/// "Seen before?" for `incidents` from the stored alert history of the look-back window; `None`
/// (logged) when the history cannot be read.
fn seen_before(
    store: &StoreHandle,
    incidents: &[crate::domain::Incident],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<std::collections::BTreeMap<String, similarity::SeenBefore>> {
    let since = now - chrono::Duration::days(similarity::LOOKBACK_DAYS);
    let history = store
        .alert_history(since)
        .map_err(|e| tracing::error!(error = %e, "reading alert history for seen-before"))
        .ok()?;
    Some(
        incidents
            .iter()
            .map(|i| (i.id.clone(), similarity::seen_before(i, &history, now)))
            .collect(),
    )
}
