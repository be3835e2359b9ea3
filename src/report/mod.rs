//! Output for the headless front ends and exports: plain functions over analysis results.

pub mod patterns;
pub mod rca;
pub mod runbook_check;
pub mod scan;
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

#[cfg(test)]
mod tests {
    #[test]
    fn ages_are_compact() {
        assert_eq!(super::age(-5), "0s");
        assert_eq!(super::age(59), "59s");
        assert_eq!(super::age(41 * 60 + 3), "41m");
        assert_eq!(super::age(2 * 3600 + 5 * 60), "2h05m");
        assert_eq!(super::age(3 * 86_400 + 4 * 3600), "3d04h");
    }
}
