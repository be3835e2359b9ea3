//! One file per screen; shared bits (section frames, scrolling, severity badges) live here.

pub mod detail;
mod detail_parts;
pub mod dialog;
pub mod help;
pub mod incidents;
pub mod log;
pub mod logs;
pub mod patterns;
pub mod stepper;

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::text::{fit_line, span};
use super::theme::{Role, Theme};
use crate::domain::Severity;

/// Draws a section title on a top rule and returns the area below it.
pub(crate) fn section(frame: &mut Frame, theme: &Theme, area: Rect, title: &str) -> Rect {
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.style(Role::Border))
        .title(Line::from(span(
            format!(
                " {} ",
                super::text::fit(title, area.width.saturating_sub(4) as usize)
            ),
            theme.style(Role::Title),
        )));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// First row to show so that `selected` stays visible in `height` rows.
pub(crate) fn scroll_offset(selected: usize, len: usize, height: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    let sel = selected.min(len - 1);
    if sel < height {
        0
    } else {
        (sel + 1 - height).min(len - height)
    }
}

/// Draws lines cut to the width of `area` (no wrapping); extra lines are dropped.
pub(crate) fn lines(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    let w = area.width as usize;
    let cut: Vec<Line<'static>> = lines
        .into_iter()
        .take(area.height as usize)
        .map(|l| fit_line(l, w))
        .collect();
    frame.render_widget(Paragraph::new(cut), area);
}

/// A centered, wrapped message for empty states.
pub(crate) fn empty_state(frame: &mut Frame, theme: &Theme, area: Rect, text: Vec<Line<'static>>) {
    let h = (text.len() as u16).min(area.height);
    let rect = Rect {
        y: area.y + area.height.saturating_sub(h) / 3,
        height: area
            .height
            .saturating_sub(area.height.saturating_sub(h) / 3),
        ..area
    };
    frame.render_widget(
        Paragraph::new(text)
            .style(theme.style(Role::Muted))
            .alignment(ratatui::layout::Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

pub(crate) fn severity_role(s: Severity) -> Role {
    match s {
        Severity::Critical => Role::Critical,
        Severity::Warning => Role::Warning,
        Severity::Info => Role::Info,
    }
}

/// `CRIT` / `WARN` / `INFO` in the severity's colour.
pub(crate) fn severity_span(theme: &Theme, s: Severity) -> Span<'static> {
    let label = match s {
        Severity::Critical => "CRIT",
        Severity::Warning => "WARN",
        Severity::Info => "INFO",
    };
    span(label, theme.style(severity_role(s)))
}

/// `NEW` / `SURGE` / `VANISHED` badges of a log pattern (VANISHED dimmed).
pub(crate) fn pattern_badges(
    theme: &Theme,
    p: &crate::analysis::PatternSummary,
) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    if p.is_new {
        out.push(span("NEW", theme.style(Role::BadgeNew)));
        out.push(Span::raw(" "));
    }
    if p.is_surge {
        out.push(span("SURGE", theme.style(Role::BadgeSurge)));
        out.push(Span::raw(" "));
    }
    if p.is_vanished() {
        out.push(span("VANISHED", theme.style(Role::Muted)));
        out.push(Span::raw(" "));
    }
    out
}

/// `×12.3` surge ratio.
pub(crate) fn ratio(r: f64) -> String {
    if !r.is_finite() {
        "×?".to_string()
    } else if r.abs() >= 100.0 {
        format!("×{}", super::text::compact(r))
    } else {
        format!("×{r:.1}")
    }
}
