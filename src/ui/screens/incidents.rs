//! The incident list: ranked incidents with severity, size, age and likely cause.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::{detail_parts, empty_state, lines, scroll_offset, section, severity_span};
use crate::app::{App, Health, LIST_INCIDENTS};
use crate::domain::Incident;
use crate::ui::text::{age, fit, hhmm_dt, percent, span};
use crate::ui::theme::{Role, Theme};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let incidents = app.visible_incidents();
    let header = Rect { height: 1, ..area };
    frame.render_widget(summary(app, theme, incidents.len()), header);
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    if incidents.is_empty() {
        empty_state(frame, theme, body, empty_text(app, theme));
        return;
    }
    // Spare rows below the table preview the selected incident.
    let table_h = (incidents.len() as u16 + 1).min(body.height);
    let spare = body.height - table_h;
    if spare < 8 {
        table(app, theme, frame, body, &incidents);
        return;
    }
    let table_area = Rect {
        height: table_h,
        ..body
    };
    table(app, theme, frame, table_area, &incidents);
    let selected = app.selected(LIST_INCIDENTS).min(incidents.len() - 1);
    if let Some(inc) = incidents.get(selected) {
        let preview = Rect {
            y: body.y + table_h + 1,
            height: spare - 1,
            ..body
        };
        let inner = section(
            frame,
            theme,
            preview,
            &format!("{} — {}", inc.id, inc.title),
        );
        let mut rows = vec![Line::from(span("Likely cause", theme.style(Role::Header)))];
        rows.extend(detail_parts::cause(theme, inc));
        rows.push(Line::default());
        rows.push(Line::from(span(
            format!("Alerts ({})", inc.alert_count()),
            theme.style(Role::Header),
        )));
        rows.extend(detail_parts::alerts(theme, inc, false));
        lines(frame, inner, rows);
    }
}

fn summary(app: &App, theme: &Theme, shown: usize) -> Line<'static> {
    let muted = theme.style(Role::Muted);
    let total = app.analysis.as_ref().map_or(0, |a| a.incidents.len());
    let firing = app.data.alerts.iter().filter(|a| a.is_active()).count();
    if app.analysis.is_none() {
        return Line::from(span(" no analysis yet", muted));
    }
    let mut text = if shown == total {
        format!(" {total} incidents from {firing} active alerts")
    } else {
        format!(" {shown} of {total} incidents match the filter")
    };
    if let Some(a) = &app.analysis {
        text.push_str(&format!(
            " · analysed {} ({} ago)",
            hhmm_dt(a.generated_at),
            age(app.now, a.generated_at)
        ));
    }
    Line::from(span(text, muted))
}

fn empty_text(app: &App, theme: &Theme) -> Vec<Line<'static>> {
    let title = theme.style(Role::Title);
    let muted = theme.style(Role::Muted);
    let filter = app.filter(LIST_INCIDENTS);
    if app.analysis.is_none() {
        let waiting = app
            .sources
            .iter()
            .filter(|s| s.health == Health::Pending)
            .map(|s| s.kind.as_str())
            .collect::<Vec<_>>();
        let head = if app.analysis_running {
            "Analysing the first poll…"
        } else {
            "Waiting for the first poll…"
        };
        let mut v = vec![Line::from(span(head, title)), Line::default()];
        if !waiting.is_empty() {
            v.push(Line::from(span(
                format!("still waiting for: {}", waiting.join(", ")),
                muted,
            )));
        }
        v.push(Line::from(span(
            "Incidents appear here as soon as alerts are grouped and ranked.",
            muted,
        )));
        return v;
    }
    if !filter.is_empty() {
        return vec![
            Line::from(span(
                format!("No incidents match \"{}\".", fit(filter, 40)),
                title,
            )),
            Line::from(span("Esc clears the filter.", muted)),
        ];
    }
    let alerts = app.data.alerts.len();
    let mut v = vec![
        Line::from(span(
            "No incidents: nothing is firing.",
            theme.style(Role::Ok),
        )),
        Line::default(),
    ];
    if alerts > 0 {
        v.push(Line::from(span(
            format!("{alerts} alerts seen, all resolved or silenced."),
            muted,
        )));
    }
    v.push(Line::from(span(
        "Sources keep polling; new incidents appear here.",
        muted,
    )));
    v
}

fn table(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, incidents: &[&Incident]) {
    let wide = area.width >= 100;
    let cause_w: u16 = if area.width >= 120 { 30 } else { 22 };
    let id_w: u16 = if wide { 10 } else { 0 };
    let fixed = 3 + 4 + 6 + 6 + cause_w + id_w;
    let cols = if wide { 6 } else { 5 };
    let title_w = area.width.saturating_sub(fixed + cols).max(8);
    let mut widths = vec![Constraint::Length(3), Constraint::Length(4)];
    let mut head = vec!["#", "Sev"];
    if wide {
        widths.push(Constraint::Length(id_w));
        head.push("Id");
    }
    widths.extend([
        Constraint::Length(title_w),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(cause_w),
    ]);
    head.extend(["Incident", "Alerts", "Age", "Likely cause"]);

    let rows_h = area.height.saturating_sub(1) as usize;
    let selected = app.selected(LIST_INCIDENTS).min(incidents.len() - 1);
    let offset = scroll_offset(selected, incidents.len(), rows_h);
    let muted = theme.style(Role::Muted);
    let rows: Vec<Row> = incidents
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_h)
        .map(|(i, inc)| {
            let mut cells = vec![
                Cell::from(span(inc.rank.to_string(), muted)),
                Cell::from(severity_span(theme, inc.severity)),
            ];
            if wide {
                cells.push(Cell::from(span(fit(&inc.id, id_w as usize), muted)));
            }
            let flap = inc.members.iter().any(|m| m.flapping);
            let mut title = format!("{}{}", inc.title, if flap { " ~flapping" } else { "" });
            if let Some(ack) = super::detail::ack_text(app, inc) {
                title = format!("[{ack}] {title}");
            }
            cells.push(Cell::from(span(
                fit(&title, title_w as usize),
                theme.style(Role::Text),
            )));
            cells.push(Cell::from(span(
                format!("{:>5}", inc.alert_count()),
                theme.style(Role::Text),
            )));
            cells.push(Cell::from(span(age(app.now, inc.started_at), muted)));
            cells.push(Cell::from(cause(theme, inc, cause_w as usize)));
            let row = Row::new(cells);
            if i == selected {
                row.style(theme.style(Role::Selected))
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(head).style(theme.style(Role::Header));
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, area);
}

/// `payments-db 72%`, cut to `w` cells.
fn cause(theme: &Theme, inc: &Incident, w: usize) -> Line<'static> {
    match inc.root_cause() {
        Some(c) => {
            let pct = percent(c.confidence);
            let name_w = w.saturating_sub(pct.len() + 1);
            Line::from(vec![
                span(fit(&c.service, name_w), theme.style(Role::Text)),
                span(format!(" {pct}"), theme.style(Role::Muted)),
            ])
        }
        None => Line::from(span("—", theme.style(Role::Muted))),
    }
}
