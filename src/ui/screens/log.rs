//! The remediation log: every decision the store confirmed, with where it lives.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::{empty_state, lines, scroll_offset};
use crate::app::{App, LIST_LOG};
use crate::domain::remediation::{Decision, StoredEntry};
use crate::ui::text::{fit, span};
use crate::ui::theme::{Role, Theme};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let rows = app.visible_log();
    let muted = theme.style(Role::Muted);
    let db = if app.db_path.is_empty() {
        "(not opened)"
    } else {
        app.db_path.as_str()
    };
    let count = if rows.len() == app.log.len() {
        format!(" · {} rows", app.log.len())
    } else {
        format!(
            " · {} of {} rows match the filter",
            rows.len(),
            app.log.len()
        )
    };
    let head = Line::from(vec![
        span(" append-only log: ", muted),
        span(db.to_string(), theme.style(Role::Text)),
        span(count, muted),
    ]);
    lines(frame, Rect { height: 1, ..area }, vec![head]);
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    if rows.is_empty() {
        let text = if app.log.is_empty() {
            "No remediation steps logged yet. Approve or skip a runbook step to add one."
        } else {
            "No log rows match the filter. Esc clears it."
        };
        empty_state(frame, theme, body, vec![Line::from(span(text, muted))]);
        return;
    }
    table(app, theme, frame, body, &rows);
}

fn table(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, rows: &[&StoredEntry]) {
    let wide = area.width >= 110;
    let step_w: u16 = if wide { 26 } else { 16 };
    let op_w: u16 = if wide { 10 } else { 8 };
    let fixed = 5 + 14 + op_w + 10 + step_w + 8 + 7 + 7;
    let cmd_w = area.width.saturating_sub(fixed).max(8);
    let widths = [
        Constraint::Length(5),
        Constraint::Length(14),
        Constraint::Length(op_w),
        Constraint::Length(10),
        Constraint::Length(step_w),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(cmd_w),
    ];
    let rows_h = area.height.saturating_sub(1) as usize;
    let sel = app.selected(LIST_LOG).min(rows.len() - 1);
    let offset = scroll_offset(sel, rows.len(), rows_h);
    let muted = theme.style(Role::Muted);
    let text = theme.style(Role::Text);
    let table_rows: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_h)
        .map(|(i, r)| {
            let e = &r.entry;
            let decision_role = match e.decision {
                Decision::Approved => Role::Ok,
                Decision::Skipped | Decision::Note => Role::Muted,
                Decision::Rejected => Role::Warning,
            };
            let step = format!("{}. {}", e.step_index.saturating_add(1), e.step_title);
            let row = Row::new(vec![
                Cell::from(span(format!("{:>5}", r.seq), muted)),
                Cell::from(span(e.ts.format("%m-%d %H:%M:%S").to_string(), muted)),
                Cell::from(span(fit(&e.operator, op_w as usize), text)),
                Cell::from(span(fit(&e.incident_id, 10), text)),
                Cell::from(span(fit(&step, step_w as usize), text)),
                Cell::from(span(e.decision.as_str(), theme.style(decision_role))),
                Cell::from(span(e.mode.as_str(), muted)),
                Cell::from(span(
                    fit(&e.command, cmd_w as usize),
                    theme.style(Role::Command),
                )),
            ]);
            if i == sel {
                row.style(theme.style(Role::Selected))
            } else {
                row
            }
        })
        .collect();
    let header = Row::new([
        "  Seq",
        "Time (UTC)",
        "Operator",
        "Incident",
        "Step",
        "Decision",
        "Mode",
        "Command",
    ])
    .style(theme.style(Role::Header));
    frame.render_widget(
        Table::new(table_rows, widths)
            .header(header)
            .column_spacing(1),
        area,
    );
}
