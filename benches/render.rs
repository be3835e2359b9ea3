//! Rendering cost of the two heaviest screens, into an off-screen 160x48 buffer:
//! the incident list with 5,000 alerts grouped into 1,000 incidents, and the incident detail
//! whose key series has 4,320 points (3 days at 1 minute) with an anomaly band.
//!
//! Run with `cargo bench --bench render`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use pagerpilot::app::Screen;
use pagerpilot::ui::fixture::big_app;
use pagerpilot::ui::theme::Theme;
use pagerpilot::ui::view;

fn render(c: &mut Criterion) {
    let theme = Theme::default();
    let list = big_app(1_000, 5, 4_320);
    let alerts: usize = list
        .analysis
        .iter()
        .flat_map(|a| a.incidents.iter())
        .map(|i| i.members.len())
        .sum();
    assert_eq!(alerts, 5_000);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test terminal");

    c.bench_function("incident_list_5000_alerts_160x48", |b| {
        b.iter(|| {
            terminal
                .draw(|f| view(black_box(&list), &theme, f))
                .expect("draw");
        })
    });

    let mut detail = list.clone();
    let first = detail.visible_incidents().first().map(|i| i.id.clone());
    detail.screen = Screen::Detail {
        incident_id: first.unwrap_or_default(),
    };
    let points = detail.data.series.iter().map(|s| s.len()).max();
    assert_eq!(points, Some(4_320));
    c.bench_function("incident_detail_4320_points_160x48", |b| {
        b.iter(|| {
            terminal
                .draw(|f| view(black_box(&detail), &theme, f))
                .expect("draw");
        })
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
