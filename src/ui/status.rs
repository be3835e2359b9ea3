//! The two status rows at the bottom: mode, source health and hints; then the notice, the
//! filter prompt, a failing source's error, or the keys of the current screen.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::text::{age, fit, fit_line, hhmm_dt, span, width};
use super::theme::{Role, Theme};
use crate::app::{Access, Action, App, Health, Layer, Overlay, RunMode, SourceStatus};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let w = area.width as usize;
    if area.height == 0 || w == 0 {
        return;
    }
    let row = |i: u16| Rect {
        y: area.y + i,
        height: 1,
        ..area
    };
    frame.render_widget(Paragraph::new(top_line(app, theme, w)), row(0));
    if area.height > 1 {
        let line = second_line(app, theme, w);
        frame.render_widget(Paragraph::new(fit_line(line, w)), row(1));
    }
}

fn top_line(app: &App, theme: &Theme, w: usize) -> Line<'static> {
    let mut left: Vec<Span<'static>> = Vec::new();
    if app.mode == RunMode::Demo {
        let name = app.scenario.as_deref().unwrap_or("scenario");
        left.push(span(
            format!(" DEMO {} ", fit(name, 24)),
            theme.style(Role::Demo),
        ));
        left.push(Span::raw(" "));
    }
    match app.access {
        Access::Write => {
            left.push(span(" WRITE ", theme.style(Role::Destructive)));
            left.push(Span::raw(" "));
        }
        Access::ReadOnly => {
            left.push(span(" READ-ONLY ", theme.style(Role::Banner)));
            left.push(Span::raw(" "));
        }
        Access::DryRun => {}
    }
    let hints = global_hints(app, theme);
    let hw: usize = hints.iter().map(|s| width(&s.content)).sum();
    let room = w.saturating_sub(hw + 1);
    let base: usize = left.iter().map(|s| width(&s.content)).sum();
    let mut sources = source_spans(app, theme, Detail::Full);
    for detail in [Detail::Short, Detail::Minimal] {
        if base + spans_width(&sources) <= room {
            break;
        }
        sources = source_spans(app, theme, detail);
    }
    left.extend(sources);
    if app.analysis_running {
        left.push(span(" · analysing…", theme.style(Role::Muted)));
    }
    let mut line = fit_line(Line::from(left), room);
    let used = spans_width(&line.spans);
    if used + hw <= w {
        line.spans.push(Span::raw(" ".repeat(w - used - hw)));
        line.spans.extend(hints);
    }
    line
}

fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(|s| width(&s.content)).sum()
}

/// How much each source shows: names shorten first, then ages of healthy sources go.
#[derive(Clone, Copy, PartialEq)]
enum Detail {
    Full,
    Short,
    Minimal,
}

fn source_spans(app: &App, theme: &Theme, detail: Detail) -> Vec<Span<'static>> {
    let short = detail != Detail::Full;
    let muted = theme.style(Role::Muted);
    let mut out = Vec::new();
    for (i, s) in app.sources.iter().enumerate() {
        if i > 0 {
            out.push(span(" · ", theme.style(Role::Border)));
        }
        let name = match (short, s.kind.as_str()) {
            (true, "prometheus") => "prom",
            (true, "alertmanager") => "am",
            (_, n) => n,
        };
        let name = match s.via {
            Some(via) if short => format!("alerts({via})"),
            Some(via) => format!("alerts via {via}"),
            None => name.to_string(),
        };
        out.push(span(format!("{name} "), muted));
        out.extend(health_spans(app, theme, s, detail));
    }
    out
}

fn health_spans(app: &App, theme: &Theme, s: &SourceStatus, detail: Detail) -> Vec<Span<'static>> {
    let muted = theme.style(Role::Muted);
    let short = detail != Detail::Full;
    let last = s
        .last_ok
        .filter(|_| detail != Detail::Minimal)
        .map(|t| age(app.now, t));
    match &s.health {
        Health::Pending => vec![span("waiting", muted)],
        Health::NotConfigured if detail == Detail::Minimal => vec![span("-", muted)],
        Health::NotConfigured => vec![span("not configured", muted)],
        Health::Ok => vec![
            span("ok", theme.style(Role::Ok)),
            span(last.map(|a| format!(" {a}")).unwrap_or_default(), muted),
        ],
        Health::Slow => {
            let ms = s
                .last_poll_ms
                .map(|m| format!(" ({:.1}s)", m as f64 / 1000.0));
            vec![
                span("slow", theme.style(Role::Warning)),
                span(last.map(|a| format!(" {a}")).unwrap_or_default(), muted),
                span(if short { None } else { ms }.unwrap_or_default(), muted),
            ]
        }
        Health::Failing { since, .. } | Health::AuthError { since, .. } => {
            let what = if matches!(s.health, Health::AuthError { .. }) {
                "auth error"
            } else {
                "failing"
            };
            let mut v = vec![span(
                format!("{what} {}", age(app.now, *since)),
                theme.style(Role::Critical),
            )];
            match s.last_ok {
                Some(_) if short => v.push(span(" STALE", theme.style(Role::Stale))),
                Some(t) => v.push(span(
                    format!(" STALE since {}", hhmm_dt(t)),
                    theme.style(Role::Stale),
                )),
                None => v.push(span(" no data", muted)),
            }
            v
        }
    }
}

fn global_hints(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for (action, label) in [(Action::Help, "help"), (Action::Quit, "quit")] {
        if let Some(key) = app.keymap.key_for(Layer::Global, action) {
            out.push(span(format!("  {key}"), theme.style(Role::KeyHint)));
            out.push(span(format!(" {label}"), theme.style(Role::Muted)));
        }
    }
    out.push(Span::raw(" "));
    out
}

fn second_line(app: &App, theme: &Theme, w: usize) -> Line<'static> {
    if let Some(Overlay::Filter(text)) = &app.overlay {
        // Keep the end of a long filter visible: the cursor is there.
        let room = w.saturating_sub(3);
        let chars: Vec<char> = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut start = chars.len();
        let mut used = 0;
        while start > 0 {
            let cw = unicode_width::UnicodeWidthChar::width(chars[start - 1]).unwrap_or(0);
            if used + cw > room {
                break;
            }
            used += cw;
            start -= 1;
        }
        let shown: String = chars[start..].iter().collect();
        return Line::from(vec![
            span("/", theme.style(Role::KeyHint)),
            span(shown, theme.style(Role::Text)),
            span("█", theme.style(Role::KeyHint)),
        ]);
    }
    let hints = layer_hints(app, theme);
    let message = if let Some(n) = &app.notice {
        let role = if n.is_error { Role::Error } else { Role::Info };
        Line::from(vec![
            span(format!("{} ", hhmm_dt(n.at)), theme.style(Role::Muted)),
            span(n.text.clone(), theme.style(role)),
        ])
    } else if let Some((kind, error)) = app
        .sources
        .iter()
        .find_map(|s| s.error().map(|e| (s.kind, e.to_string())))
    {
        Line::from(vec![
            span(format!("{kind}: "), theme.style(Role::Muted)),
            span(error.clone(), theme.style(Role::Error)),
        ])
    } else {
        return hints;
    };
    // The message first; the keys of this screen on the right when they fit.
    let (mw, hw) = (spans_width(&message.spans), spans_width(&hints.spans));
    let mut line = message;
    if mw + 2 + hw <= w {
        line.spans.push(Span::raw(" ".repeat(w - mw - hw)));
        line.spans.extend(hints.spans);
    }
    line
}

/// The most useful keys of the current screen, read from the keymap.
fn layer_hints(app: &App, theme: &Theme) -> Line<'static> {
    let layer = app.layer();
    let wanted: &[(Action, &str)] = match layer {
        Layer::Incidents => &[
            (Action::Down, "down"),
            (Action::Up, "up"),
            (Action::Open, "open"),
            (Action::Filter, "filter"),
            (Action::NextView, "next view"),
        ],
        Layer::Detail => &[
            (Action::Open, "open runbook"),
            (Action::Down, "next runbook"),
            (Action::NextSeries, "next chart"),
            (Action::PrevSeries, "prev chart"),
            (Action::Export, "export"),
            (Action::Back, "back"),
        ],
        Layer::Stepper => &[
            (Action::Approve, "approve"),
            (Action::Skip, "skip"),
            (Action::Down, "next step"),
            (Action::Back, "back"),
        ],
        Layer::Patterns | Layer::Log | Layer::Global => &[
            (Action::Down, "down"),
            (Action::Up, "up"),
            (Action::Filter, "filter"),
            (Action::NextView, "next view"),
        ],
    };
    let mut spans = Vec::new();
    for (action, label) in wanted {
        if let Some(key) = app.keymap.key_for(layer, *action) {
            if !spans.is_empty() {
                spans.push(span("  ", theme.style(Role::Muted)));
            }
            spans.push(span(key, theme.style(Role::KeyHint)));
            spans.push(span(format!(" {label}"), theme.style(Role::Muted)));
        }
    }
    Line::from(spans)
}
