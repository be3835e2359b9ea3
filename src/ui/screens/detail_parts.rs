//! The line builders of the detail screen's sections (alerts, cause, runbooks, patterns).

use ratatui::text::Line;

use super::{pattern_badges, ratio, severity_span};
use crate::app::{App, LIST_RUNBOOKS};
use crate::domain::{EvidenceKind, Incident};
use crate::ui::text::{hhmm_dt, pad, percent, span, sparkline, thousands};
use crate::ui::theme::{Role, Theme};

/// One line per member, plus its "why grouped" reason on a second line when `two_lines`.
pub fn alerts(theme: &Theme, inc: &Incident, two_lines: bool) -> Vec<Line<'static>> {
    let muted = theme.style(Role::Muted);
    let mut out = Vec::new();
    for m in &inc.members {
        let mut l = vec![
            severity_span(theme, m.severity),
            span(" ", muted),
            span(m.alertname.clone(), theme.style(Role::Text)),
        ];
        if let Some(s) = &m.service {
            l.push(span(format!(" {s}"), muted));
        }
        l.push(span(format!(" {}", hhmm_dt(m.starts_at)), muted));
        if m.flapping {
            l.push(span(" ", muted));
            l.push(span("FLAPPING", theme.style(Role::BadgeSurge)));
        }
        if two_lines {
            out.push(Line::from(l));
            out.push(Line::from(vec![
                span("  ↳ ", muted),
                span(m.reason.clone(), muted),
            ]));
        } else {
            l.push(span(format!(" — {}", m.reason), muted));
            out.push(Line::from(l));
        }
    }
    if out.is_empty() {
        out.push(Line::from(span("no alerts in this incident", muted)));
    }
    out
}

/// The top candidate with its evidence (facts and guesses marked apart), then the others.
pub fn cause(theme: &Theme, inc: &Incident) -> Vec<Line<'static>> {
    let muted = theme.style(Role::Muted);
    let Some(top) = inc.root_cause() else {
        return vec![Line::from(span(
            "no likely cause: not enough signal yet",
            muted,
        ))];
    };
    let mut first = vec![
        span(top.service.clone(), theme.style(Role::Title)),
        span(
            format!(" {}", percent(top.confidence)),
            theme.style(Role::Text),
        ),
    ];
    if let Some(a) = &top.alert {
        first.push(span(format!(" ({a})"), muted));
    }
    let mut out = vec![Line::from(first)];
    for e in &top.evidence {
        let (tag, role) = match e.kind {
            EvidenceKind::Fact => ("fact ", Role::Fact),
            EvidenceKind::Guess => ("guess", Role::Guess),
        };
        let mark = match e.kind {
            EvidenceKind::Fact => "  ✓ ",
            EvidenceKind::Guess => "  ? ",
        };
        out.push(Line::from(vec![
            span(mark, theme.style(role)),
            span(tag, theme.style(role)),
            span(" ", muted),
            span(e.text.clone(), theme.style(role)),
        ]));
    }
    let others: Vec<String> = inc
        .candidates
        .iter()
        .skip(1)
        .map(|c| format!("{} {}", c.service, percent(c.confidence)))
        .collect();
    if !others.is_empty() {
        out.push(Line::from(vec![
            span("other candidates: ", muted),
            span(others.join(" · "), theme.style(Role::Text)),
        ]));
    }
    out
}

/// Suggested runbooks; the selected one highlighted, link-only entries marked as links. With
/// `two_lines` the reason goes on its own line.
pub fn runbooks(app: &App, theme: &Theme, inc: &Incident, two_lines: bool) -> Vec<Line<'static>> {
    let muted = theme.style(Role::Muted);
    if inc.runbooks.is_empty() {
        return vec![Line::from(span("no runbook matches these alerts", muted))];
    }
    let selected = app.selected(LIST_RUNBOOKS).min(inc.runbooks.len() - 1);
    let mut out = Vec::new();
    for (i, r) in inc.runbooks.iter().enumerate() {
        let is_sel = i == selected;
        let marker = if is_sel { "▶ " } else { "  " };
        let mut l = vec![span(marker, theme.style(Role::KeyHint))];
        match &r.url {
            Some(url) => {
                l.push(span("[link] ", theme.style(Role::Link)));
                l.push(span(url.clone(), theme.style(Role::Link)));
            }
            None => l.push(span(r.title.clone(), theme.style(Role::Text))),
        }
        let reason = span(r.reason.clone(), muted);
        let mut lines = if two_lines {
            vec![
                Line::from(l),
                Line::from(vec![span("    ↳ ", muted), reason]),
            ]
        } else {
            l.push(span(" — ", muted));
            l.push(reason);
            vec![Line::from(l)]
        };
        if is_sel {
            lines = lines
                .into_iter()
                .map(|l| l.style(theme.style(Role::Selected)))
                .collect();
        }
        out.extend(lines);
    }
    out
}

/// Log patterns of the incident's services: new and surging first, then by count.
pub fn patterns(app: &App, theme: &Theme, inc: &Incident) -> Vec<Line<'static>> {
    let muted = theme.style(Role::Muted);
    let mut pats: Vec<&crate::analysis::PatternSummary> = app
        .analysis
        .iter()
        .flat_map(|a| a.patterns.iter())
        .filter(|p| {
            p.service
                .as_deref()
                .is_some_and(|s| inc.services.iter().any(|x| x == s))
        })
        .collect();
    pats.sort_by(|a, b| {
        (b.is_new || b.is_surge)
            .cmp(&(a.is_new || a.is_surge))
            .then(b.count.cmp(&a.count))
    });
    if pats.is_empty() {
        return vec![Line::from(span(
            "no log patterns for these services",
            muted,
        ))];
    }
    pats.iter()
        .take(50)
        .map(|p| {
            let mut l = vec![
                span(
                    pad(&sparkline(&p.buckets, 8), 8),
                    theme.style(Role::ChartSeries),
                ),
                span(
                    format!(" {:>7} ", thousands(p.count)),
                    theme.style(Role::Text),
                ),
            ];
            l.extend(pattern_badges(theme, p));
            if p.is_surge {
                l.push(span(format!("{} ", ratio(p.surge_ratio)), muted));
            }
            l.push(span(p.template.clone(), theme.style(Role::Text)));
            Line::from(l)
        })
        .collect()
}
