//! Output for the headless front ends and exports: plain functions over analysis results.

pub mod correlate;
pub mod detect;
pub mod forecast_cli;
pub mod history;
pub mod patterns;
pub mod rca;
pub mod runbook_check;
pub mod scan;
pub mod series_csv;
pub mod timeline;

/// "41m", "2h05m", "3d04h": a compact age.
pub fn age(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, (secs % 86_400) / 3600, (secs % 3600) / 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{secs}s")
    }
}

/// A duration as "45s", "2m", "1h 30m".
pub fn duration_short(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..=119 => format!("{secs}s"),
        120..=3599 if secs.is_multiple_of(60) => format!("{}m", secs / 60),
        120..=3599 => format!("{}m {}s", secs / 60, secs % 60),
        _ if secs.is_multiple_of(3600) => format!("{}h", secs / 3600),
        _ => format!("{}h {}m", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_are_short() {
        use std::time::Duration;
        let d = |s| super::duration_short(Duration::from_secs(s));
        assert_eq!(
            [d(45), d(120), d(150), d(3600), d(5400), d(7 * 86_400)],
            ["45s", "2m", "2m 30s", "1h", "1h 30m", "168h"]
        );
    }

    #[test]
    fn ages_are_compact() {
        assert_eq!(super::age(-5), "0s");
        assert_eq!(super::age(59), "59s");
        assert_eq!(super::age(41 * 60 + 3), "41m");
        assert_eq!(super::age(2 * 3600 + 5 * 60), "2h05m");
        assert_eq!(super::age(3 * 86_400 + 4 * 3600), "3d04h");
    }
}
