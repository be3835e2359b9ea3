//! The braille series chart: values, the expected band, anomalous points, and a capacity
//! forecast with its 95 % band extending to the right. Non-finite values are dropped; long
//! series are reduced to the min and max of each column so spikes survive.

use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use crate::analysis::{CapacityForecast, SeriesAnomaly};
use crate::domain::Series;
use crate::ui::text::{compact, fit_line, hhmm, span};
use crate::ui::theme::{Role, Theme};

/// Score at or above which a point is drawn as anomalous.
pub const ANOMALY_SCORE: f64 = 0.5;

type Points = Vec<(f64, f64)>;

/// Everything one chart draws, already filtered, reduced and bounded.
#[derive(Debug, Default)]
pub struct ChartData {
    pub values: Points,
    pub lower: Points,
    pub upper: Points,
    pub anomalous: Points,
    pub fc_point: Points,
    pub fc_lower: Points,
    pub fc_upper: Points,
    pub capacity: Points,
    pub x: [f64; 2],
    pub y: [f64; 2],
}

/// How much history the chart shows, in seconds.
pub const WINDOW_SECS: i64 = 6 * 3600;

impl ChartData {
    /// `columns` is the plot width in cells; series are reduced to about two points per
    /// braille dot column.
    pub fn build(
        series: &Series,
        anomaly: Option<&SeriesAnomaly>,
        forecast: Option<&CapacityForecast>,
        columns: usize,
    ) -> ChartData {
        let buckets = columns.max(1) * 2;
        let ts = &series.timestamps;
        // The recent past only: a day of history would squeeze the incident into a sliver.
        let from = ts
            .last()
            .map_or(i64::MIN, |t| t.saturating_sub(WINDOW_SECS));
        let pairs = |vals: &[f64]| -> Points {
            ts.iter()
                .zip(vals)
                .filter(|(t, v)| **t >= from && v.is_finite())
                .map(|(t, v)| (*t as f64, *v))
                .collect()
        };
        let mut d = ChartData {
            values: decimate(&pairs(&series.values), buckets),
            ..ChartData::default()
        };
        if let Some(a) = anomaly {
            d.lower = decimate(&pairs(&a.lower), buckets);
            d.upper = decimate(&pairs(&a.upper), buckets);
            d.anomalous = ts
                .iter()
                .zip(&series.values)
                .zip(&a.scores)
                .filter(|((t, v), s)| {
                    **t >= from
                        && v.is_finite()
                        && ((s.is_finite() && **s >= ANOMALY_SCORE)
                            || a.onset.is_some_and(|o| **t >= o))
                })
                .map(|((t, v), _)| (*t as f64, *v))
                .collect();
            d.anomalous = decimate(&d.anomalous, buckets);
        }
        let (hist_min, hist_max) = x_range(&d.values);
        if let Some(f) = forecast {
            // Show at most half the history's span of forecast so the past stays readable.
            let span = match (hist_min, hist_max) {
                (Some(a), Some(b)) => (b - a).max(1.0),
                _ => f64::INFINITY,
            };
            let limit = hist_max.map_or(f64::INFINITY, |m| m + span * 0.5);
            let fpairs = |vals: &[f64]| -> Points {
                f.timestamps
                    .iter()
                    .zip(vals)
                    .map(|(t, v)| (*t as f64, *v))
                    .filter(|(t, v)| v.is_finite() && *t <= limit)
                    .collect()
            };
            d.fc_point = decimate(&fpairs(&f.point), buckets);
            d.fc_lower = decimate(&fpairs(&f.lower95), buckets);
            d.fc_upper = decimate(&fpairs(&f.upper95), buckets);
        }
        let all = [
            &d.values,
            &d.lower,
            &d.upper,
            &d.fc_point,
            &d.fc_lower,
            &d.fc_upper,
        ];
        let xs = all.iter().flat_map(|p| p.iter().map(|(x, _)| *x));
        d.x = bounds(xs, 0.0);
        if let Some(f) = forecast.filter(|f| f.capacity.is_finite() && !d.fc_point.is_empty()) {
            d.capacity = vec![(d.x[0], f.capacity), (d.x[1], f.capacity)];
        }
        let all = [
            &d.values,
            &d.lower,
            &d.upper,
            &d.fc_point,
            &d.fc_lower,
            &d.fc_upper,
            &d.capacity,
        ];
        let ys = all.iter().flat_map(|p| p.iter().map(|(_, y)| *y));
        d.y = bounds(ys, 0.05);
        d
    }
}

fn x_range(p: &[(f64, f64)]) -> (Option<f64>, Option<f64>) {
    (p.first().map(|p| p.0), p.last().map(|p| p.0))
}

/// Min and max of finite values, padded by `pad` of the range; never empty or inverted.
fn bounds(vals: impl Iterator<Item = f64>, pad: f64) -> [f64; 2] {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return [0.0, 1.0];
    }
    let range = hi - lo;
    if !range.is_finite() {
        return [lo, hi];
    }
    let (lo, hi) = if range <= f64::EPSILON * hi.abs().max(1.0) {
        let d = (hi.abs() * 0.1).max(1.0);
        (lo - d, hi + d)
    } else {
        (lo - range * pad, hi + range * pad)
    };
    [lo.max(f64::MIN), hi.min(f64::MAX)]
}

/// Keeps the first, min and max point of each of about `buckets` equal index ranges.
pub fn decimate(points: &[(f64, f64)], buckets: usize) -> Points {
    if points.len() <= buckets.saturating_mul(2) || buckets == 0 {
        return points.to_vec();
    }
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(buckets * 2 + 1);
    for chunk in points.chunks(size) {
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.1 < chunk[lo].1 {
                lo = i;
            }
            if p.1 > chunk[hi].1 {
                hi = i;
            }
        }
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(chunk[a]);
        if b != a {
            out.push(chunk[b]);
        }
    }
    if let (Some(last), Some(end)) = (points.last(), out.last()) {
        if last != end {
            out.push(*last);
        }
    }
    out
}

/// Draws the chart of `series` in `area` with a legend and the explanation lines below it
/// when there is room.
pub fn render(
    frame: &mut Frame,
    theme: &Theme,
    area: Rect,
    series: &Series,
    anomaly: Option<&SeriesAnomaly>,
    forecast: Option<&CapacityForecast>,
) {
    if area.width < 4 || area.height < 2 {
        return;
    }
    let mut info: Vec<Line<'static>> = Vec::new();
    if let Some(a) = anomaly.filter(|a| !a.explanation.is_empty()) {
        let role = if a.onset.is_some() {
            Role::ChartAnomaly
        } else {
            Role::Muted
        };
        info.push(Line::from(span(a.explanation.clone(), theme.style(role))));
    }
    if let Some(f) = forecast.filter(|f| !f.text.is_empty()) {
        info.push(Line::from(vec![
            span("forecast: ", theme.style(Role::Muted)),
            span(f.text.clone(), theme.style(Role::ChartForecast)),
        ]));
    }
    if area.height >= 9 {
        info.push(legend(theme, anomaly.is_some(), forecast.is_some()));
    }
    let keep = if area.height >= 7 { info.len() } else { 0 };
    let info_h = keep.min(area.height as usize / 3) as u16;
    let chart_area = Rect {
        height: area.height - info_h,
        ..area
    };
    let y_label_w = 8usize;
    let data = ChartData::build(
        series,
        anomaly,
        forecast,
        (area.width as usize).saturating_sub(y_label_w + 1),
    );
    frame.render_widget(chart(theme, &data), chart_area);
    if info_h > 0 {
        let w = area.width as usize;
        let text: Vec<Line<'static>> = info
            .into_iter()
            .take(info_h as usize)
            .map(|l| fit_line(l, w))
            .collect();
        let rect = Rect {
            y: area.y + chart_area.height,
            height: info_h,
            ..area
        };
        frame.render_widget(Paragraph::new(text), rect);
    }
}

fn legend(theme: &Theme, band: bool, forecast: bool) -> Line<'static> {
    let muted = theme.style(Role::Muted);
    let mut v: Vec<Span<'static>> = vec![
        span("⣀ ", theme.style(Role::ChartSeries)),
        span("value  ", muted),
    ];
    if band {
        v.push(span("⣀ ", theme.style(Role::ChartBand)));
        v.push(span("expected band  ", muted));
        v.push(span("⣿ ", theme.style(Role::ChartAnomaly)));
        v.push(span("anomalous  ", muted));
    }
    if forecast {
        v.push(span("⣀ ", theme.style(Role::ChartForecast)));
        v.push(span("forecast ±95%  ", muted));
        v.push(span("⣀ ", theme.style(Role::Critical)));
        v.push(span("capacity", muted));
    }
    Line::from(v)
}

fn chart<'a>(theme: &Theme, d: &'a ChartData) -> Chart<'a> {
    let line = |data: &'a Points, role: Role| {
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.style(role))
            .data(data)
    };
    let mut sets = Vec::new();
    for (data, role) in [
        (&d.capacity, Role::Critical),
        (&d.lower, Role::ChartBand),
        (&d.upper, Role::ChartBand),
        (&d.fc_lower, Role::ChartBand),
        (&d.fc_upper, Role::ChartBand),
        (&d.values, Role::ChartSeries),
        (&d.fc_point, Role::ChartForecast),
    ] {
        if !data.is_empty() {
            sets.push(line(data, role));
        }
    }
    if !d.anomalous.is_empty() {
        sets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Scatter)
                .style(theme.style(Role::ChartAnomaly))
                .data(&d.anomalous),
        );
    }
    let axis = theme.style(Role::ChartAxis);
    let mid = |b: [f64; 2]| b[0] + (b[1] - b[0]) / 2.0;
    let x_labels = [d.x[0], mid(d.x), d.x[1]].map(|x| Line::from(hhmm(x as i64)));
    let y_labels = [d.y[0], mid(d.y), d.y[1]].map(|y| Line::from(compact(y)));
    Chart::new(sets)
        .legend_position(None)
        .x_axis(Axis::default().style(axis).bounds(d.x).labels(x_labels))
        .y_axis(Axis::default().style(axis).bounds(d.y).labels(y_labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimate_keeps_extremes_and_ends() {
        let pts: Points = (0..1000)
            .map(|i| (i as f64, if i == 500 { 99.0 } else { 1.0 }))
            .collect();
        let d = decimate(&pts, 10);
        assert!(d.len() <= 21, "{}", d.len());
        assert!(d.contains(&(500.0, 99.0)));
        assert_eq!(d.first(), Some(&(0.0, 1.0)));
        assert_eq!(d.last(), Some(&(999.0, 1.0)));
    }

    #[test]
    fn bounds_never_collapse() {
        assert_eq!(bounds([5.0, 5.0].into_iter(), 0.0), [4.0, 6.0]);
        assert_eq!(bounds([f64::NAN].into_iter(), 0.0), [0.0, 1.0]);
        let b = bounds([f64::MAX, -f64::MAX].into_iter(), 0.05);
        assert!(b[0] < b[1]);
    }
}
