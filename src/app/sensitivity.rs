//! `+`/`-`/Enter in the incident detail: propose, preview and apply an anomaly sensitivity.

use super::keymap::Action;
use super::msg::Effect;
use super::update::{notify, request_analysis};
use super::App;

/// `+`/`-` in the detail: moves the proposal for the charted series by 0.1 (from the
/// sensitivity in effect), within 0..1.
pub(super) fn propose_sensitivity(app: &mut App, action: Action) {
    let Some(id) = app.charted_series().map(str::to_owned) else {
        return;
    };
    let from = match &app.sensitivity_proposal {
        Some(p) if p.series_id == id => p.value,
        _ => app.sensitivity_for(&id),
    };
    let step = if action == Action::MoreSensitive {
        0.1
    } else {
        -0.1
    };
    // Tenths, so repeated steps do not drift (0.30000000000000004).
    let value = (((from + step) * 10.0).round() / 10.0).clamp(0.0, 1.0);
    app.sensitivity_proposal = Some(crate::app::SensitivityProposal {
        series_id: id,
        value,
    });
}

/// Enter on a proposal: the new sensitivity holds for this session.
pub(super) fn apply_sensitivity(app: &mut App) -> Vec<Effect> {
    if let Some(p) = app.sensitivity_proposal.take() {
        let text = format!(
            "sensitivity {:.1} for {} applied for this session; set it in the config to keep it",
            p.value, p.series_id
        );
        app.sensitivity.insert(p.series_id, p.value);
        notify(app, text, false);
        // What counts as anomalous changed: analyse again now.
        return request_analysis(app, true);
    }
    Vec::new()
}
