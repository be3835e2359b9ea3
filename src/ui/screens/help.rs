//! The help overlay, generated from the keymap: every binding of every layer with its
//! description; keys that do the same thing share a row.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use super::lines;
use crate::app::keymap::Binding;
use crate::app::{App, Keymap, Layer};
use crate::ui::centered;
use crate::ui::text::{pad, span, width};
use crate::ui::theme::{Role, Theme};

/// One row of the overlay: the keys and what they do.
struct Entry {
    keys: String,
    desc: String,
}

/// Bindings of one layer with the same action and description merged.
fn entries(bindings: &[Binding]) -> Vec<Entry> {
    let mut out: Vec<(crate::app::Action, Entry)> = Vec::new();
    for b in bindings {
        let label = b.key.label();
        match out
            .iter_mut()
            .find(|(a, e)| *a == b.action && e.desc == b.desc)
        {
            Some((_, e)) => {
                e.keys.push(' ');
                e.keys.push_str(&label);
            }
            None => out.push((
                b.action,
                Entry {
                    keys: label,
                    desc: if b.desc.is_empty() {
                        format!("{:?}", b.action)
                    } else {
                        b.desc.clone()
                    },
                },
            )),
        }
    }
    out.into_iter().map(|(_, e)| e).collect()
}

/// The overlay's sections: a title line and one line per entry, for every layer with bindings.
/// Descriptions wrap at `text_w` cells onto indented continuation lines.
fn sections(
    keymap: &Keymap,
    current: Layer,
    theme: &Theme,
    text_w: usize,
) -> Vec<Vec<Line<'static>>> {
    // The current screen's keys first, then the global ones, then the rest.
    let mut order = vec![current];
    order.extend(Layer::ALL.iter().copied().filter(|l| *l != current));
    if let Some(pos) = order.iter().position(|l| *l == Layer::Global) {
        let global = order.remove(pos);
        order.insert(1.min(order.len()), global);
    }
    let all: Vec<(Layer, Vec<Entry>)> = order
        .into_iter()
        .map(|l| (l, entries(keymap.bindings(l))))
        .filter(|(_, e)| !e.is_empty())
        .collect();
    let key_w = all
        .iter()
        .flat_map(|(_, es)| es.iter().map(|e| width(&e.keys)))
        .max()
        .unwrap_or(0)
        .min(14);
    all.into_iter()
        .map(|(layer, es)| {
            let here = if layer == current {
                " (this screen)"
            } else {
                ""
            };
            let mut v = vec![Line::from(vec![
                span(layer.title(), theme.style(Role::Title)),
                span(here, theme.style(Role::Muted)),
            ])];
            let desc_w = text_w.saturating_sub(key_w + 4).max(10);
            for e in es {
                for (i, part) in wrap(&e.desc, desc_w).into_iter().enumerate() {
                    let keys = if i == 0 { e.keys.as_str() } else { "" };
                    v.push(Line::from(vec![
                        span("  ", theme.style(Role::Muted)),
                        span(pad(keys, key_w), theme.style(Role::KeyHint)),
                        span("  ", theme.style(Role::Muted)),
                        span(part, theme.style(Role::Text)),
                    ]));
                }
            }
            v.push(Line::default());
            v
        })
        .collect()
}

/// Greedy word wrap at `w` cells; words longer than a line are cut by `pad`'s caller.
fn wrap(text: &str, w: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in text.split_whitespace() {
        let cur = out.last().map_or(0, |l| width(l));
        if cur > 0 && cur + 1 + width(word) > w {
            out.push(String::new());
        }
        if let Some(l) = out.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(word);
        }
    }
    out
}

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let popup_w = area.width.saturating_sub(2).min(150);
    let two = popup_w >= 90;
    let text_w = if two {
        (popup_w.saturating_sub(2) / 2).saturating_sub(2)
    } else {
        popup_w.saturating_sub(4)
    };
    let secs = sections(&app.keymap, app.layer(), theme, text_w as usize);
    let total: usize = secs.iter().map(Vec::len).sum();
    let mut cols: Vec<Vec<Line<'static>>> = vec![Vec::new()];
    let half = total.div_ceil(2);
    for s in secs {
        let cur = cols.len() - 1;
        if two && cur == 0 && !cols[0].is_empty() && cols[0].len() + s.len() > half {
            cols.push(Vec::new());
        }
        if let Some(c) = cols.last_mut() {
            c.extend(s);
        }
    }
    for c in &mut cols {
        while c.last().is_some_and(|l| l.spans.is_empty()) {
            c.pop();
        }
    }
    let needed = cols.iter().map(Vec::len).max().unwrap_or(0) as u16;
    let popup = centered(area, popup_w, needed.saturating_add(2));
    if popup.width < 4 || popup.height < 3 {
        return;
    }
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(span(
            " Keys (from the keymap) — Esc or ? closes ",
            theme.style(Role::Title),
        ));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let n = cols.len() as u16;
    let col_w = inner.width / n.max(1);
    for (i, mut col) in cols.into_iter().enumerate() {
        let rect = Rect {
            x: inner.x + col_w * i as u16 + 1,
            width: col_w.saturating_sub(2),
            ..inner
        };
        if col.len() > rect.height as usize && rect.height > 0 {
            col.truncate(rect.height as usize - 1);
            col.push(Line::from(span(
                "… (enlarge the terminal to see all keys)",
                theme.style(Role::Muted),
            )));
        }
        lines(frame, rect, col);
    }
}
