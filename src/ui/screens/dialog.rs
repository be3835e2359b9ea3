//! Confirmation and text-input dialogs over the current screen: "unlock write mode?",
//! "type the target's name to run this destructive step", a skip reason, a note.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::app::{App, Overlay};
use crate::ui::centered;
use crate::ui::text::{clean_multiline, span, wrapped_rows};
use crate::ui::theme::{Role, Theme};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (title, body, input, hint, danger) = match &app.overlay {
        Some(Overlay::Confirm(c)) => match &c.expected {
            Some(expected) => (
                " Confirm a destructive step ",
                c.prompt.clone(),
                Some(c.typed.clone()),
                format!("Type {expected} and press Enter · Esc cancels (logged as rejected)"),
                true,
            ),
            None => (
                " Confirm ",
                c.prompt.clone(),
                None,
                "y: yes · n or Esc: no".to_string(),
                false,
            ),
        },
        Some(Overlay::Input { purpose, text }) => (
            " Remediation log ",
            purpose.prompt().to_string(),
            Some(text.clone()),
            "Enter saves · Esc cancels".to_string(),
            false,
        ),
        _ => return,
    };
    let w = area.width.saturating_sub(4).clamp(20, 90);
    let text_w = w.saturating_sub(2) as usize;
    let body = clean_multiline(&body);
    let rows = wrapped_rows(&body, text_w) as u16 + u16::from(input.is_some()) * 2 + 2;
    let rect = centered(area, w, rows + 2);
    frame.render_widget(Clear, rect);
    let border = if danger { Role::Critical } else { Role::Border };
    let block = Block::bordered()
        .border_style(theme.style(border))
        .title(span(title, theme.style(Role::Title)));
    let mut lines: Vec<Line<'static>> = body
        .lines()
        .map(|l| Line::from(span(l.to_string(), theme.style(Role::Text))))
        .collect();
    if let Some(typed) = input {
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            span("> ", theme.style(Role::KeyHint)),
            span(clean_multiline(&typed), theme.style(Role::Command)),
            span("█", theme.style(Role::KeyHint)),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(span(hint, theme.style(Role::Muted))));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
}
