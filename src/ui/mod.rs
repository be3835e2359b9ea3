//! Rendering: `view(&App, &Theme, &mut Frame)` borrows state and draws it. No I/O, no clock
//! reads (ages use `app.now`), no panics on any state: every index is checked, every string is
//! cut by display width.

#[doc(hidden)]
pub mod fixture;
pub mod screens;
pub mod status;
pub mod text;
pub mod theme;
pub mod widgets;

use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::app::{App, Overlay, Screen, View, LIST_INCIDENTS, LIST_LOG, LIST_PATTERNS};
use text::{fit, span, width};
use theme::{Role, Theme};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole screen for the current state.
pub fn view(app: &App, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(theme, frame, area);
        return;
    }
    let [tabs, main, status_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(area);
    tab_bar(app, theme, frame, tabs);
    match &app.screen {
        Screen::List(View::Incidents) => screens::incidents::render(app, theme, frame, main),
        Screen::List(View::Patterns) => screens::patterns::render(app, theme, frame, main),
        Screen::List(View::Log) => screens::log::render(app, theme, frame, main),
        Screen::Detail { .. } => screens::detail::render(app, theme, frame, main),
        Screen::Stepper => screens::stepper::render(app, theme, frame, main),
        Screen::Logs { .. } => screens::logs::render(app, theme, frame, main),
    }
    status::render(app, theme, frame, status_area);
    match &app.overlay {
        Some(Overlay::Help) => screens::help::render(app, theme, frame, main),
        Some(Overlay::Confirm(_) | Overlay::Input { .. }) => {
            screens::dialog::render(app, theme, frame, main)
        }
        _ => {}
    }
}

/// A centered message instead of a broken layout.
fn too_small(theme: &Theme, frame: &mut Frame, area: Rect) {
    frame.render_widget(Clear, area);
    let msg = format!(
        "terminal too small: need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{}",
        area.width, area.height
    );
    let lines = (width(&msg) as u16).div_ceil(area.width.max(1)).max(1);
    let top = area.height.saturating_sub(lines) / 2;
    let rect = Rect {
        y: area.y + top,
        height: area.height.saturating_sub(top).min(lines),
        ..area
    };
    frame.render_widget(
        Paragraph::new(msg)
            .style(theme.style(Role::Warning))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

/// The selection/filter key of the list a screen shows.
pub(crate) fn list_key(screen: &Screen) -> Option<&'static str> {
    match screen {
        Screen::List(View::Incidents) => Some(LIST_INCIDENTS),
        Screen::List(View::Patterns) => Some(LIST_PATTERNS),
        Screen::List(View::Log) => Some(LIST_LOG),
        Screen::Logs { .. } => Some(crate::app::LIST_LOGLINES),
        _ => None,
    }
}

/// `pagerpilot │ Incidents │ Log patterns │ Remediation log` with the current view highlighted,
/// a breadcrumb for drill-downs and the applied filter on the right.
fn tab_bar(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let muted = theme.style(Role::Muted);
    let mut spans = vec![span(" pagerpilot ", theme.style(Role::Title))];
    for v in View::ALL {
        spans.push(span("│", theme.style(Role::Border)));
        let role = if v == app.view {
            Role::TabActive
        } else {
            Role::Text
        };
        spans.push(span(format!(" {} ", v.title()), theme.style(role)));
    }
    spans.push(span("│", theme.style(Role::Border)));
    let crumb = match &app.screen {
        Screen::Detail { incident_id } => Some(format!(" › {incident_id}")),
        Screen::Stepper => app
            .stepper
            .as_ref()
            .map(|s| format!(" › {} › {}", s.incident_id, s.runbook_id)),
        Screen::Logs { pattern_id } => Some(format!(" › {pattern_id}")),
        Screen::List(_) => None,
    };
    if let Some(c) = crumb {
        spans.push(span(c, theme.style(Role::Title)));
    }
    let used: usize = spans.iter().map(|s| width(&s.content)).sum();
    let filter = list_key(&app.screen)
        .map(|k| app.filter(k))
        .filter(|f| !f.is_empty() && !matches!(app.overlay, Some(Overlay::Filter(_))));
    let mut right: Vec<Span> = Vec::new();
    if let Some(f) = filter {
        let room = (area.width as usize).saturating_sub(used + 24).max(4);
        right.push(span("filter: ", muted));
        right.push(span(fit(f, room), theme.style(Role::KeyHint)));
        right.push(span("  ", muted));
    }
    right.push(span(format!("{} UTC ", text::hhmm_dt(app.now)), muted));
    let rw: usize = right.iter().map(|s| width(&s.content)).sum();
    let gap = (area.width as usize).saturating_sub(used + rw);
    if gap > 0 {
        spans.push(Span::raw(" ".repeat(gap)));
        spans.extend(right);
    }
    let line = text::fit_line(Line::from(spans), area.width as usize);
    frame.render_widget(Paragraph::new(line), area);
}

/// A rectangle of at most `w`x`h` centered in `area`.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
