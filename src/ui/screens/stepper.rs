//! The runbook stepper: a dry-run banner, the steps with their logged status, and the current
//! step's prose, exact command (or why it cannot be rendered) and risk.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::{empty_state, lines, scroll_offset, section};
use crate::app::{Access, App, RollbackStatus, StepState, StepStatus, Stepper};
use crate::domain::runbook::Risk;
use crate::ui::text::{clean_multiline, fit, reflow, span, wrapped_rows};
use crate::ui::theme::{Role, Theme};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let Some(st) = app.stepper.as_ref() else {
        let text = vec![Line::from(span(
            "No runbook is open. Esc goes back.",
            theme.style(Role::Muted),
        ))];
        empty_state(frame, theme, area, text);
        return;
    };
    let [banner, head, body, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let text = match app.access {
        Access::DryRun => "DRY RUN — nothing will be executed; approved steps are only logged · W unlocks write mode",
        Access::ReadOnly => "READ-ONLY — nothing runs and no silences; approvals are logged as dry runs",
        Access::Write => "WRITE MODE — approving a step RUNS its command on this machine · W locks",
    };
    let banner_role = if app.access == Access::Write {
        Role::Destructive
    } else {
        Role::Banner
    };
    frame.render_widget(
        Paragraph::new(fit(text, banner.width as usize))
            .style(theme.style(banner_role))
            .alignment(ratatui::layout::Alignment::Center),
        banner,
    );
    lines(frame, head, vec![heading(app, theme, st)]);
    lines(frame, hints, vec![progress(theme, st)]);
    if body.width >= 100 {
        let [left, right] = Layout::horizontal([Constraint::Length(40), Constraint::Min(0)])
            .spacing(1)
            .areas(body);
        steps(theme, frame, left, st, true);
        current(app, theme, frame, right, st);
    } else {
        let list_h = (st.steps.len() as u16 + 1).min(body.height / 3).max(2);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(list_h), Constraint::Min(0)]).areas(body);
        steps(theme, frame, top, st, false);
        current(app, theme, frame, bottom, st);
    }
}

fn heading(app: &App, theme: &Theme, st: &Stepper) -> Line<'static> {
    let muted = theme.style(Role::Muted);
    let title = app
        .open_incident()
        .map(|i| format!(": {}", i.title))
        .unwrap_or_default();
    Line::from(vec![
        span("Runbook ", muted),
        span(st.runbook_title.clone(), theme.style(Role::Title)),
        span(format!(" ({})", st.runbook_id), muted),
        span(" for ", muted),
        span(
            format!("{}{title}", st.incident_id),
            theme.style(Role::Text),
        ),
    ])
}

/// Progress through the runbook (the keys are in the status bar below).
fn progress(theme: &Theme, st: &Stepper) -> Line<'static> {
    if st.done() {
        return Line::from(span("All steps decided and logged.", theme.style(Role::Ok)));
    }
    let count = |f: fn(&StepStatus) -> bool| st.steps.iter().filter(|s| f(&s.status)).count();
    let logged = count(|s| matches!(s, StepStatus::DryRun { .. }));
    let ran = count(|s| matches!(s, StepStatus::Ran { .. }));
    let skipped = count(|s| matches!(s, StepStatus::Skipped { .. }));
    let rejected = count(|s| matches!(s, StepStatus::Rejected { .. }));
    let failed = count(|s| matches!(s, StepStatus::Failed(_)));
    let mut text = format!(
        "{} of {} steps decided: {logged} approved (dry run), {skipped} skipped",
        logged + skipped + ran + rejected,
        st.steps.len()
    );
    if ran > 0 {
        text.push_str(&format!(", {ran} run"));
    }
    if rejected > 0 {
        text.push_str(&format!(", {rejected} rejected"));
    }
    if failed > 0 {
        text.push_str(&format!(", {failed} not logged (store error)"));
    }
    Line::from(span(text, theme.style(Role::Muted)))
}

fn risk_badge(theme: &Theme, risk: Risk) -> Span<'static> {
    match risk {
        Risk::Read => span("read-only", theme.style(Role::Ok)),
        Risk::Change => span("CHANGE", theme.style(Role::Warning)),
        Risk::Destructive => span(" DESTRUCTIVE ", theme.style(Role::Destructive)),
    }
}

fn status_span(theme: &Theme, status: &StepStatus) -> Span<'static> {
    match status {
        StepStatus::Pending => span("pending", theme.style(Role::Muted)),
        StepStatus::Saving { .. } => span("saving…", theme.style(Role::Warning)),
        StepStatus::DryRun { seq } => span(format!("dry run logged #{seq}"), theme.style(Role::Ok)),
        StepStatus::Skipped { seq } => span(format!("skipped #{seq}"), theme.style(Role::Muted)),
        StepStatus::Rejected { seq } => span(format!("rejected #{seq}"), theme.style(Role::Muted)),
        StepStatus::Running { .. } => span("running…", theme.style(Role::Warning)),
        StepStatus::Ran {
            seq,
            ok: true,
            summary,
        } => span(format!("ran #{seq}: {summary}"), theme.style(Role::Ok)),
        StepStatus::Ran {
            seq,
            ok: false,
            summary,
        } => span(format!("ran #{seq}: {summary}"), theme.style(Role::Error)),
        StepStatus::Failed(e) => span(format!("failed: {e}"), theme.style(Role::Error)),
    }
}

fn rollback_span(theme: &Theme, status: &RollbackStatus) -> Span<'static> {
    match status {
        RollbackStatus::Running { .. } => span("rollback running…", theme.style(Role::Warning)),
        RollbackStatus::Saving { .. } => span("rollback saving…", theme.style(Role::Warning)),
        RollbackStatus::Done { seq, summary } if summary.is_empty() => {
            span(format!("rollback logged #{seq}"), theme.style(Role::Ok))
        }
        RollbackStatus::Done { seq, summary } => {
            span(format!("rollback #{seq}: {summary}"), theme.style(Role::Ok))
        }
        RollbackStatus::Failed(e) => {
            span(format!("rollback failed: {e}"), theme.style(Role::Error))
        }
    }
}

/// The step list; with `two_lines` each step's status goes under its title.
fn steps(theme: &Theme, frame: &mut Frame, area: Rect, st: &Stepper, two_lines: bool) {
    let inner = section(frame, theme, area, &format!("Steps ({})", st.steps.len()));
    let per = if two_lines { 2 } else { 1 };
    let h = inner.height as usize / per;
    let offset = scroll_offset(st.current, st.steps.len(), h);
    let mut rows: Vec<Line<'static>> = Vec::new();
    for (i, s) in st.steps.iter().enumerate().skip(offset).take(h.max(1)) {
        let here = i == st.current;
        let mut l = vec![
            span(if here { "▶ " } else { "  " }, theme.style(Role::KeyHint)),
            span(format!("{}. ", i + 1), theme.style(Role::Muted)),
        ];
        if s.risk == Risk::Destructive {
            l.push(span("! ", theme.style(Role::Destructive)));
        }
        l.push(span(format!("{} ", s.title), theme.style(Role::Text)));
        let mut group = if two_lines {
            vec![
                Line::from(l),
                Line::from(vec![
                    span("     ", theme.style(Role::Muted)),
                    status_span(theme, &s.status),
                ]),
            ]
        } else {
            l.push(status_span(theme, &s.status));
            vec![Line::from(l)]
        };
        if here {
            group = group
                .into_iter()
                .map(|l| l.style(theme.style(Role::Selected)))
                .collect();
        }
        rows.extend(group);
    }
    lines(frame, inner, rows);
}

fn current(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, st: &Stepper) {
    let Some(step) = st.current_step() else {
        let msg = "this runbook has no steps";
        lines(
            frame,
            area,
            vec![Line::from(span(msg, theme.style(Role::Muted)))],
        );
        return;
    };
    let title = format!("Step {} of {}", st.current + 1, st.steps.len());
    let inner = section(frame, theme, area, &title);
    if inner.height == 0 {
        return;
    }
    let muted = theme.style(Role::Muted);
    let mut head = vec![
        Line::from(vec![
            span(step.title.clone(), theme.style(Role::Title)),
            span("  ", muted),
            risk_badge(theme, step.risk),
        ]),
        Line::from(vec![
            span("status: ", muted),
            status_span(theme, &step.status),
        ]),
    ];
    let mut facts = vec![span(
        format!("timeout {}", crate::ui::text::duration_short(step.timeout)),
        muted,
    )];
    if step.interactive {
        facts.push(span(" · interactive (takes over the terminal)", muted));
    }
    match &step.rollback {
        Some(Ok(_)) => facts.push(span(" · u: rollback", muted)),
        Some(Err(e)) => facts.push(span(
            format!(" · rollback unusable: {e}"),
            theme.style(Role::Error),
        )),
        None => {}
    }
    if let Some(r) = &step.rollback_status {
        facts.push(span(" · ", muted));
        facts.push(rollback_span(theme, r));
    }
    head.push(Line::from(facts));
    for check in &step.checks {
        head.push(Line::from(vec![
            span(format!("{} check ({}): ", check.when, check.lang), muted),
            span(clean_multiline(&check.query), theme.style(Role::Command)),
        ]));
    }
    if step.risk == Risk::Destructive {
        head.push(Line::from(span(
            "destructive: check the target in the command below before approving",
            theme.style(Role::Critical),
        )));
    }
    let (cmd_text, cmd_role) = command_text(step);
    let text_w = inner.width.saturating_sub(2) as usize;
    let cmd_rows = (wrapped_rows(&cmd_text, text_w) as u16 + 2).clamp(3, (inner.height / 2).max(3));
    let prose = clean_multiline(&reflow(&step.prose));
    let prose_rows = wrapped_rows(&prose, inner.width as usize) as u16 + 1;
    let [h, p, c, out] = Layout::vertical([
        Constraint::Length(head.len() as u16 + 1),
        Constraint::Max(prose_rows),
        Constraint::Length(cmd_rows),
        Constraint::Min(0),
    ])
    .areas(inner);
    lines(frame, h, head);
    frame.render_widget(
        Paragraph::new(prose)
            .style(theme.style(Role::Text))
            .wrap(Wrap { trim: false }),
        p,
    );
    let label = match step.command {
        Ok(_) => " Command, exactly as it would run ",
        Err(_) => " Command cannot be shown ",
    };
    let border = if step.risk == Risk::Destructive {
        Role::Critical
    } else {
        Role::Border
    };
    let block = Block::bordered()
        .border_style(theme.style(border))
        .title(span(label, theme.style(Role::Title)));
    frame.render_widget(
        Paragraph::new(cmd_text)
            .style(theme.style(cmd_role))
            .wrap(Wrap { trim: false })
            .block(block),
        c,
    );
    if let StepStatus::Ran { seq, .. } = &step.status {
        output_panel(app, theme, frame, out, *seq);
    }
}

/// The captured output of a step that ran (the stored, bounded and redacted copy).
fn output_panel(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, seq: i64) {
    if area.height < 3 {
        return;
    }
    let Some(row) = app.log.iter().find(|r| r.seq == seq) else {
        return;
    };
    let output = clean_multiline(row.entry.output.as_deref().unwrap_or(""));
    let shown: Vec<&str> = output.lines().collect();
    let room = area.height.saturating_sub(2) as usize;
    let tail = shown[shown.len().saturating_sub(room)..].join("\n");
    let title = match row.entry.exit_code {
        Some(code) => format!(
            " Output (exit {code}, last {} lines) ",
            room.min(shown.len())
        ),
        None => " Output ".to_string(),
    };
    frame.render_widget(
        Paragraph::new(tail).style(theme.style(Role::Text)).block(
            Block::bordered()
                .border_style(theme.style(Role::Border))
                .title(span(title, theme.style(Role::Title))),
        ),
        area,
    );
}

fn command_text(step: &StepState) -> (String, Role) {
    match &step.command {
        Ok(cmd) => (clean_multiline(cmd), Role::Command),
        Err(e) => (
            format!("cannot render the command: {}", clean_multiline(e)),
            Role::Error,
        ),
    }
}
