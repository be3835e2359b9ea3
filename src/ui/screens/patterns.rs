//! Log patterns: mined templates with service, count, new/surge badges and the surge ratio.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::{empty_state, lines, pattern_badges, ratio, scroll_offset, section};
use crate::analysis::PatternSummary;
use crate::app::{App, LIST_PATTERNS};
use crate::ui::text::{fit, pad, span, sparkline, thousands};
use crate::ui::theme::{Role, Theme};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let pats = app.visible_patterns();
    if pats.is_empty() {
        empty_state(frame, theme, area, empty_text(app, theme));
        return;
    }
    let selected = app.selected(LIST_PATTERNS).min(pats.len() - 1);
    let examples_h = if area.height >= 16 { 5 } else { 0 };
    let [list, ex] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(examples_h)]).areas(area);
    table(theme, frame, list, &pats, selected);
    if let Some(p) = pats.get(selected).filter(|_| examples_h > 0) {
        let inner = section(frame, theme, ex, "Example lines");
        let rows: Vec<Line<'static>> = if p.examples.is_empty() {
            vec![Line::from(span(
                "no examples kept",
                theme.style(Role::Muted),
            ))]
        } else {
            p.examples
                .iter()
                .map(|e| Line::from(span(e.clone(), theme.style(Role::Text))))
                .collect()
        };
        lines(frame, inner, rows);
    }
}

fn empty_text(app: &App, theme: &Theme) -> Vec<Line<'static>> {
    let muted = theme.style(Role::Muted);
    let filter = app.filter(LIST_PATTERNS);
    let head = if app.analysis.is_none() {
        "Waiting for the first analysis…".to_string()
    } else if !filter.is_empty() {
        format!("No log patterns match \"{}\".", fit(filter, 40))
    } else {
        "No log patterns yet.".to_string()
    };
    vec![
        Line::from(span(head, theme.style(Role::Title))),
        Line::from(span(
            "Patterns are mined from the log lines of the services that have alerts.",
            muted,
        )),
    ]
}

fn table(theme: &Theme, frame: &mut Frame, area: Rect, pats: &[&PatternSummary], sel: usize) {
    let service_w: u16 = if area.width >= 110 { 18 } else { 14 };
    let fixed = 8 + 8 + 12 + 7 + service_w + 5;
    let template_w = area.width.saturating_sub(fixed).max(10);
    let widths = [
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Length(service_w),
        Constraint::Length(template_w),
    ];
    let rows_h = area.height.saturating_sub(1) as usize;
    let offset = scroll_offset(sel, pats.len(), rows_h);
    let muted = theme.style(Role::Muted);
    let rows: Vec<Row> = pats
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_h)
        .map(|(i, p)| {
            // A vanished pattern: dimmed, with its last line's time instead of a ratio.
            let (ratio_text, text_role) = if p.is_vanished() {
                (
                    format!("{:>7}", format!("@{}", clock_hm(p.last_seen_ns))),
                    Role::Muted,
                )
            } else if p.is_new || p.is_surge {
                (ratio(p.surge_ratio), Role::Text)
            } else {
                (String::new(), Role::Text)
            };
            let row = Row::new(vec![
                Cell::from(span(
                    pad(&sparkline(&p.buckets, 8), 8),
                    theme.style(Role::ChartSeries),
                )),
                Cell::from(span(
                    format!("{:>8}", thousands(p.count)),
                    theme.style(text_role),
                )),
                Cell::from(Line::from(pattern_badges(theme, p))),
                Cell::from(span(ratio_text, muted)),
                Cell::from(span(
                    fit(p.service.as_deref().unwrap_or("—"), service_w as usize),
                    muted,
                )),
                Cell::from(span(
                    fit(&p.template, template_w as usize),
                    theme.style(text_role),
                )),
            ]);
            if i == sel {
                row.style(theme.style(Role::Selected))
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(["Trend", "   Count", "", "Ratio", "Service", "Template"])
        .style(theme.style(Role::Header));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

/// `HH:MM` (UTC) of a nanosecond timestamp.
fn clock_hm(ts_ns: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(ts_ns.div_euclid(1_000_000_000), 0)
        .map_or_else(|| "--:--".to_string(), |t| t.format("%H:%M").to_string())
}
