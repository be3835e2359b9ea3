//! The incident detail: header, grouped alerts, likely cause, key series chart, log patterns
//! and suggested runbooks. Two columns from 110 cells wide; stacked and cut below that.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::Frame;

use super::detail_parts as parts;
use super::{empty_state, lines, section, severity_span};
use crate::app::{Action, App, Layer, Screen};
use crate::domain::Incident;
use crate::ui::text::{age, fit, hhmm_dt, span, width};
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::chart;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let Some(inc) = app.open_incident() else {
        let id = match &app.screen {
            Screen::Detail { incident_id } => incident_id.clone(),
            _ => String::new(),
        };
        let text = vec![
            Line::from(span(
                format!("Incident {} is no longer open.", fit(&id, 40)),
                theme.style(Role::Title),
            )),
            Line::from(span(
                "It resolved or was regrouped by the last analysis. Esc goes back to the list.",
                theme.style(Role::Muted),
            )),
        ];
        empty_state(frame, theme, area, text);
        return;
    };
    let header_h: u16 = match (area.height >= 30, inc.slo_burns.is_empty()) {
        (true, true) => 3,
        (true, false) => 4,
        (false, _) => 2,
    };
    let [head, body] =
        Layout::vertical([Constraint::Length(header_h), Constraint::Min(0)]).areas(area);
    lines(frame, head, header(app, theme, inc));
    if area.width >= 110 {
        wide(app, theme, frame, body, inc);
    } else {
        narrow(app, theme, frame, body, inc);
    }
}

fn header(app: &App, theme: &Theme, inc: &Incident) -> Vec<Line<'static>> {
    let muted = theme.style(Role::Muted);
    let total = app.analysis.as_ref().map_or(0, |a| a.incidents.len());
    let flapping = inc.members.iter().filter(|m| m.flapping).count();
    let mut first = vec![
        severity_span(theme, inc.severity),
        span(" ", muted),
        span(inc.title.clone(), theme.style(Role::Title)),
    ];
    if flapping > 0 {
        first.push(span(
            format!("  {flapping} flapping"),
            theme.style(Role::Warning),
        ));
    }
    if let Some(text) = ack_text(app, inc) {
        first.push(span(format!("  {text}"), theme.style(Role::Muted)));
    }
    if let Some(seen) = app.seen_before.get(&inc.id) {
        use crate::analysis::similarity::Familiarity;
        let (tag, role) = match seen.tag {
            Familiarity::New => ("NEW", Role::Warning),
            Familiarity::Rare => ("RARE", Role::Text),
            Familiarity::Frequent => ("FREQUENT", Role::Text),
        };
        first.push(span(format!("  {tag}"), theme.style(role)));
        first.push(span(format!(" {}", seen.text), theme.style(Role::Muted)));
    }
    let score = if inc.score.is_finite() {
        format!("{:.2}", inc.score)
    } else {
        "?".to_string()
    };
    let second = Line::from(vec![
        span(inc.id.clone(), theme.style(Role::Text)),
        span(format!(" · rank {} of {total}", inc.rank), muted),
        span(" · score ", muted),
        span(score, theme.style(Role::Text)),
        span(
            format!(
                " · started {} ({} ago) · {} alerts · {}",
                hhmm_dt(inc.started_at),
                age(app.now, inc.started_at),
                inc.alert_count(),
                inc.services.join(", ")
            ),
            muted,
        ),
    ]);
    let mut why = vec![span("why ranked: ", muted)];
    let total: f64 = inc
        .score_parts
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .sum();
    for (i, (name, value)) in inc.score_parts.iter().enumerate() {
        if i > 0 {
            why.push(span(" + ", muted));
        }
        let v = if value.is_finite() {
            format!("{value:.2}")
        } else {
            "?".into()
        };
        why.push(span(format!("{name} {v}"), theme.style(Role::Text)));
        // Each component's share of the score.
        if value.is_finite() && total > 0.0 {
            why.push(span(format!(" ({:.0}%)", 100.0 * value / total), muted));
        }
    }
    let mut out = vec![Line::from(first), second, Line::from(why)];
    // The error-budget burns, when the incident's services have an SLO (fastest first).
    if !inc.slo_burns.is_empty() {
        use crate::analysis::slo;
        let mut line = vec![span("error budget: ", muted)];
        for (i, burn) in inc.slo_burns.iter().take(3).enumerate() {
            if i > 0 {
                line.push(span(" · ", muted));
            }
            let role = if slo::agreed(burn) >= slo::FAST_BURN {
                Role::Critical
            } else if slo::agreed(burn) >= 1.0 {
                Role::Warning
            } else {
                Role::Text
            };
            line.push(span(slo::describe(burn), theme.style(role)));
        }
        line.push(span(
            format!(" (fast burn: {}× on both)", slo::FAST_BURN),
            muted,
        ));
        out.push(Line::from(line));
    }
    out
}

fn wide(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, inc: &Incident) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
            .spacing(1)
            .areas(area);
    let alerts = parts::alerts(theme, inc, true);
    let runbooks = parts::runbooks(app, theme, inc, true);
    let cause = parts::cause(theme, inc);
    let h = split(
        left.height,
        &[
            (alerts.len() as u16 + 1, 3, left.height * 2 / 5),
            (cause.len() as u16 + 1, 3, u16::MAX),
            (runbooks.len() as u16 + 1, 3, u16::MAX),
        ],
    );
    let [a, c, r] = column(left, &h);
    draw(
        frame,
        theme,
        a,
        &format!("Alerts ({})", inc.alert_count()),
        alerts,
    );
    draw(frame, theme, c, "Likely cause", cause);
    draw(frame, theme, r, "Suggested runbooks", runbooks);

    let pats = parts::patterns(app, theme, inc);
    let pats_h = (pats.len() as u16 + 1).min(right.height * 2 / 5);
    let chart_h = right.height.saturating_sub(pats_h).max(8).min(right.height);
    let [ch, pa] = column(right, &[chart_h, right.height - chart_h]);
    chart_section(app, theme, frame, ch, inc);
    draw(frame, theme, pa, "Log patterns", pats);
}

fn narrow(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, inc: &Incident) {
    let chart_h = (area.height * 9 / 20).max(7).min(area.height);
    let [ch, rest] = column(area, &[chart_h, area.height - chart_h]);
    chart_section(app, theme, frame, ch, inc);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .spacing(1)
            .areas(rest);
    let alerts = parts::alerts(theme, inc, false);
    let cause = parts::cause(theme, inc);
    let h = split(
        left.height,
        &[
            (alerts.len() as u16 + 1, 2, left.height / 2),
            (cause.len() as u16 + 1, 2, u16::MAX),
        ],
    );
    let [a, c] = column(left, &h);
    draw(
        frame,
        theme,
        a,
        &format!("Alerts ({})", inc.alert_count()),
        alerts,
    );
    draw(frame, theme, c, "Likely cause", cause);
    let runbooks = parts::runbooks(app, theme, inc, false);
    let pats = parts::patterns(app, theme, inc);
    let h = split(
        right.height,
        &[
            (runbooks.len() as u16 + 1, 2, right.height / 2),
            (pats.len() as u16 + 1, 2, u16::MAX),
        ],
    );
    let [r, p] = column(right, &h);
    draw(frame, theme, r, "Suggested runbooks", runbooks);
    draw(frame, theme, p, "Log patterns", pats);
}

/// Heights for stacked sections: each gets `min` first, then up to `min(want, cap)` in order;
/// what is left goes to the last one.
fn split(total: u16, wants: &[(u16, u16, u16)]) -> Vec<u16> {
    let mut left = total;
    let mut out: Vec<u16> = wants
        .iter()
        .map(|(want, min, _)| {
            let h = (*min).min(*want).min(left);
            left -= h;
            h
        })
        .collect();
    for (i, (want, _, cap)) in wants.iter().enumerate() {
        let target = (*want).min(*cap).max(out[i]);
        let extra = (target - out[i]).min(left);
        out[i] += extra;
        left -= extra;
    }
    if let Some(last) = out.last_mut() {
        *last += left;
    }
    out
}

/// Splits `area` into rows of the given heights (cut at the bottom of `area`).
fn column<const N: usize>(area: Rect, heights: &[u16]) -> [Rect; N] {
    let mut y = area.y;
    let bottom = area.y.saturating_add(area.height);
    std::array::from_fn(|i| {
        let h = heights
            .get(i)
            .copied()
            .unwrap_or(0)
            .min(bottom.saturating_sub(y));
        let r = Rect {
            y,
            height: h,
            ..area
        };
        y += h;
        r
    })
}

fn draw(frame: &mut Frame, theme: &Theme, area: Rect, title: &str, body: Vec<Line<'static>>) {
    if area.height == 0 {
        return;
    }
    let inner = section(frame, theme, area, title);
    let more = body.len().saturating_sub(inner.height as usize);
    if more > 0 && inner.height > 0 {
        let mut shown: Vec<Line<'static>> =
            body.into_iter().take(inner.height as usize - 1).collect();
        shown.push(Line::from(span(
            format!("… {} more", more + 1),
            theme.style(Role::Muted),
        )));
        lines(frame, inner, shown);
    } else {
        lines(frame, inner, body);
    }
}

fn chart_section(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, inc: &Incident) {
    if area.height == 0 {
        return;
    }
    let n = inc.key_series.len();
    let Some(id) = inc
        .key_series
        .get(app.chart_series.checked_rem(n).unwrap_or(0))
    else {
        let inner = section(frame, theme, area, "Key series");
        let msg = "no key series for this incident's services";
        lines(
            frame,
            inner,
            vec![Line::from(span(msg, theme.style(Role::Muted)))],
        );
        return;
    };
    let keys = [Action::PrevSeries, Action::NextSeries]
        .map(|a| app.keymap.key_for(Layer::Detail, a).unwrap_or_default());
    let title = format!(
        "Key series {}/{n} ({}/{} to switch): {}",
        app.chart_series % n.max(1) + 1,
        keys[0],
        keys[1],
        id
    );
    let mut inner = section(frame, theme, area, &title);
    if let Some(p) = app.sensitivity_preview().filter(|p| &p.series_id == id) {
        let w = inner.width as usize;
        let mut rows: Vec<String> = sensitivity_lines(&p)
            .iter()
            .flat_map(|part| wrap_words(part, w))
            .collect();
        // Leave the chart at least five rows; cut what does not fit, marking the cut.
        let room = (inner.height as usize).saturating_sub(5).max(1);
        if rows.len() > room {
            rows.truncate(room);
            if let Some(last) = rows.last_mut() {
                *last = fit(&format!("{last} …"), w);
            }
        }
        let h = rows.len() as u16;
        if inner.height > h {
            inner.height -= h;
            let area = Rect {
                y: inner.y + inner.height,
                height: h,
                ..inner
            };
            let body = rows
                .into_iter()
                .map(|r| Line::from(span(fit(&r, w), theme.style(Role::Warning))))
                .collect();
            lines(frame, area, body);
        }
    }
    let Some(series) = app.data.series.iter().find(|s| &s.id == id) else {
        let msg = format!("no data for {id} in the last poll");
        lines(
            frame,
            inner,
            vec![Line::from(span(msg, theme.style(Role::Muted)))],
        );
        return;
    };
    let analysis = app.analysis.as_ref();
    let anomaly = analysis.and_then(|a| a.anomalies.get(id));
    let forecast = analysis.and_then(|a| a.forecasts.get(id));
    // A sensitivity applied in this session moves which points are drawn as anomalous.
    let s = app.sensitivity_for(id);
    let rescored = anomaly
        .filter(|_| s != crate::analysis::anomaly::DEFAULT_SENSITIVITY)
        .map(|a| {
            let mut a = a.clone();
            for x in &mut a.scores {
                *x = crate::analysis::anomaly::apply_sensitivity(*x, s);
            }
            a
        });
    chart::render(
        frame,
        theme,
        inner,
        series,
        rescored.as_ref().or(anomaly),
        forecast,
    );
}

/// The proposal's two parts: "sensitivity 0.6 (now 0.5): would have fired 4 times over the
/// last 72 h (now 2)" and what Enter and Esc do.
pub fn sensitivity_lines(p: &crate::app::SensitivityPreview) -> [String; 2] {
    let times = |n: usize| {
        if n == 1 {
            "once".to_string()
        } else {
            format!("{n} times")
        }
    };
    let hours = p.span_secs.max(0) as f64 / 3600.0;
    let span = if hours >= 2.0 {
        format!("{hours:.0} h")
    } else {
        format!("{:.0} min", hours * 60.0)
    };
    [
        format!(
            "sensitivity {:.1} (now {:.1}): would have fired {} over the last {span} (now {})",
            p.proposed,
            p.current,
            times(p.fires_proposed),
            p.fires_current
        ),
        "Enter applies it for this session (set it in the config to keep it) · Esc cancels"
            .to_string(),
    ]
}

/// Greedy word wrap to `cols` cells (a word longer than a row gets a row of its own).
fn wrap_words(text: &str, cols: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        if !row.is_empty() && width(&row) + 1 + width(word) > cols {
            out.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(word);
    }
    if !row.is_empty() {
        out.push(row);
    }
    out
}

/// "ACK 12 m (alice)" when all alerts of the incident are acknowledged, "ACK 2/5" when some are;
/// the age is that of the oldest ack.
pub fn ack_text(app: &App, inc: &Incident) -> Option<String> {
    let acks: Vec<&crate::analysis::flap::Ack> = inc
        .members
        .iter()
        .filter_map(|m| app.acks.get(&m.fingerprint))
        .collect();
    let oldest = acks.iter().min_by_key(|a| a.at)?;
    let age = crate::analysis::correlate::gap((app.now - oldest.at).num_seconds().max(0));
    Some(if acks.len() == inc.members.len() {
        format!("ACK {age} ({})", oldest.by)
    } else {
        format!("ACK {}/{} {age}", acks.len(), inc.members.len())
    })
}

#[cfg(test)]
mod tests {
    use super::{sensitivity_lines, split, wrap_words};

    #[test]
    fn words_wrap_to_the_width() {
        assert_eq!(wrap_words("ab cd ef", 5), vec!["ab cd", "ef"]);
        assert_eq!(wrap_words("abcdefg h", 3), vec!["abcdefg", "h"]);
        assert!(wrap_words("", 3).is_empty());
    }

    #[test]
    fn sensitivity_line_reads_well() {
        let p = crate::app::SensitivityPreview {
            series_id: "s".into(),
            proposed: 0.6,
            current: 0.5,
            fires_proposed: 4,
            fires_current: 1,
            span_secs: 72 * 3600,
        };
        assert_eq!(
            sensitivity_lines(&p)[0],
            "sensitivity 0.6 (now 0.5): would have fired 4 times over the last 72 h (now 1)"
        );
        let p = crate::app::SensitivityPreview {
            fires_proposed: 1,
            span_secs: 1800,
            ..p
        };
        assert!(sensitivity_lines(&p)[0].contains("fired once over the last 30 min"));
    }

    #[test]
    fn split_fits_total() {
        assert_eq!(split(10, &[(4, 2, 99), (20, 2, 99)]), vec![4, 6]);
        assert_eq!(split(3, &[(4, 2, 99), (20, 2, 99)]), vec![2, 1]);
        assert_eq!(split(0, &[(4, 2, 99), (20, 2, 99)]), vec![0, 0]);
        assert_eq!(split(30, &[(4, 2, 99), (5, 2, 99)]), vec![4, 26]);
    }
}
