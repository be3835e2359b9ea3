//! The logs pane of one log pattern: its template, badges (NEW / SURGE / VANISHED), count,
//! per-minute sparkline and the dated change on top, then its raw lines (from the loaded log streams of its service) with the parts the
//! template's `<*>`s stand for highlighted. `/` filters the lines; with follow on, the newest
//! lines stay in view (the poller keeps bringing new ones), with follow off the cursor scrolls.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::{empty_state, lines, pattern_badges, ratio, scroll_offset, section};
use crate::analysis::patterns::change::ChangeKind;
use crate::analysis::patterns::surge_text;
use crate::app::{App, LIST_LOGLINES};
use crate::ui::text::{fit, span, sparkline, thousands};
use crate::ui::theme::{Role, Theme};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let muted = theme.style(Role::Muted);
    let Some(p) = app.open_pattern() else {
        let text = vec![
            Line::from(span(
                "This pattern is no longer in the analysis.",
                theme.style(Role::Title),
            )),
            Line::from(span("Esc goes back to the pattern list.", muted)),
        ];
        empty_state(frame, theme, area, text);
        return;
    };
    let [head, body] = Layout::vertical([Constraint::Length(4), Constraint::Min(0)]).areas(area);
    let inner = section(frame, theme, head, "Log pattern");
    let mut first: Vec<Span<'static>> = pattern_badges(theme, p);
    first.push(span(p.template.clone(), theme.style(Role::Text)));
    let spark_cells = (inner.width as usize / 3).clamp(8, 60);
    let mut second = vec![
        span(p.service.clone().unwrap_or_else(|| "-".into()), muted),
        span(" · ", muted),
        span(
            format!("{} lines", thousands(p.count)),
            theme.style(Role::Text),
        ),
        span(" · ", muted),
        span(
            sparkline(&p.buckets, spark_cells),
            theme.style(Role::ChartSeries),
        ),
        span(format!(" last {} min", spark_cells), muted),
    ];
    if p.is_surge {
        second.push(span(
            format!(" · {}", ratio(p.surge_ratio)),
            theme.style(Role::BadgeSurge),
        ));
    }
    // What patterns::change found, dated (on the third line, which has room).
    let mut change_text = None;
    if let Some(c) = &p.change {
        let text = match c.kind {
            ChangeKind::New => format!(" · new since {}", clock(c.at_ns)),
            ChangeKind::Surge => format!(
                " · surging since {}: {}",
                clock(c.at_ns),
                surge_text(c, p.bucket_secs)
            ),
            ChangeKind::Vanished => format!(
                " · stopped: last line {}, was about {:.1} per {}",
                clock(c.at_ns),
                c.expected,
                interval(p.bucket_secs).trim_start_matches("a ")
            ),
        };
        change_text = Some(span(text, muted));
    }
    let follow = if app.follow {
        span("follow on (f)", theme.style(Role::Ok))
    } else {
        span("follow off (f)", muted)
    };
    let mut third = vec![span(format!("{} · ", p.id), muted), follow];
    third.extend(change_text);
    lines(
        frame,
        inner,
        vec![Line::from(first), Line::from(second), Line::from(third)],
    );

    let raw = app.pattern_lines();
    let title = format!("Raw lines ({})", thousands(raw.len() as u64));
    let inner = section(frame, theme, body, &title);
    if raw.is_empty() {
        let filter = app.filter(LIST_LOGLINES);
        let text = if filter.is_empty() {
            "No raw lines of this pattern in the loaded logs.".to_string()
        } else {
            format!("No raw lines match \"{}\".", fit(filter, 40))
        };
        lines(frame, inner, vec![Line::from(span(text, muted))]);
        return;
    }
    let height = inner.height as usize;
    let selected = app.selected(LIST_LOGLINES).min(raw.len() - 1);
    let (offset, cursor) = if app.follow {
        (raw.len().saturating_sub(height), None)
    } else {
        (scroll_offset(selected, raw.len(), height), Some(selected))
    };
    let rows: Vec<Line<'static>> = raw
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, (ts, line, spans))| {
            let mut out = vec![span(format!("{} ", clock(*ts)), muted)];
            let text_role = if cursor == Some(i) {
                Role::Selected
            } else {
                Role::Text
            };
            let mut at = 0;
            for &(a, b) in spans {
                if a > at {
                    out.push(span(line[at..a].to_string(), theme.style(text_role)));
                }
                if b > a {
                    out.push(span(line[a..b].to_string(), theme.style(Role::Guess)));
                }
                at = b.max(at);
            }
            if at < line.len() {
                out.push(span(line[at..].to_string(), theme.style(text_role)));
            }
            Line::from(out)
        })
        .collect();
    lines(frame, inner, rows);
}

/// `HH:MM:SS` (UTC) of a nanosecond timestamp.
fn clock(ts_ns: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts_ns.div_euclid(1_000_000_000), 0).map_or_else(
        || "--:--:--".to_string(),
        |t| t.format("%H:%M:%S").to_string(),
    )
}

/// "a minute", or "300 s".
fn interval(secs: i64) -> String {
    if secs == 60 {
        "a minute".to_string()
    } else {
        format!("{secs} s")
    }
}
