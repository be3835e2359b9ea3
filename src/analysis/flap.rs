//! Flap detection with hysteresis, and acknowledgements that last until the alert resolves.
//!
//! Flapping: the state changes of one alert are replayed in time order. At every change (and at
//! `now`) the changes in the trailing [`FLAP_WINDOW_SECS`] are counted. The alert *starts*
//! flapping when the count reaches [`FLAP_ENTER`] and *stops* only when it has fallen to
//! [`FLAP_EXIT`] or below. Between the two thresholds it keeps its previous state, so an alert
//! that flapped does not lose (and regain) its badge with every single change.
//!
//! Acknowledgement: an ack belongs to one alert fingerprint and holds until that alert
//! resolves; when the alert fires again later, it needs a new ack.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::AlertState;

/// How far back state changes are counted.
pub const FLAP_WINDOW_SECS: i64 = 30 * 60;
/// Changes in the window that make an alert flapping.
pub const FLAP_ENTER: usize = 3;
/// At most this many changes in the window end flapping.
pub const FLAP_EXIT: usize = 1;

/// The flapping state of one alert at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlapStatus {
    pub flapping: bool,
    /// State changes in the window ending at `now`.
    pub changes: usize,
    /// When the alert started flapping (unix seconds), while it is.
    pub since: Option<i64>,
}

/// Replays `times` (unix seconds of one alert's state changes, any order) up to `now`.
pub fn flap_status(times: &[i64], now: i64) -> FlapStatus {
    let mut sorted: Vec<i64> = times.iter().copied().filter(|t| *t <= now).collect();
    sorted.sort_unstable();
    let count_at = |c: i64| {
        // Changes in (c - window, c].
        let lo = sorted.partition_point(|t| *t <= c.saturating_sub(FLAP_WINDOW_SECS));
        let hi = sorted.partition_point(|t| *t <= c);
        hi - lo
    };
    let mut state = FlapStatus::default();
    for c in sorted.iter().copied().chain(std::iter::once(now)) {
        let n = count_at(c);
        if !state.flapping && n >= FLAP_ENTER {
            state.flapping = true;
            state.since = Some(c);
        } else if state.flapping && n <= FLAP_EXIT {
            state.flapping = false;
            state.since = None;
        }
    }
    state.changes = count_at(now);
    state
}

/// An engineer's acknowledgement of one alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub fingerprint: String,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// One observed state of an alert, for [`ack_holds`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observed {
    pub at: DateTime<Utc>,
    pub state: AlertState,
}

/// Whether `ack` still holds: no resolution of its alert was observed after it was given.
/// `history` holds the alert's observed states (any order).
pub fn ack_holds(ack: &Ack, history: &[Observed]) -> bool {
    !history
        .iter()
        .any(|o| o.at >= ack.at && o.state == AlertState::Resolved)
}

/// The acks still holding at the end of the stored `history` (any order): per alert, the last
/// ack with no resolution after it. How pagerpilot gets its acks back after a restart.
pub fn acks_from_history(history: &[crate::domain::AlertEvent]) -> Vec<Ack> {
    use crate::domain::HistoryState;
    let mut events: Vec<&crate::domain::AlertEvent> = history
        .iter()
        .filter(|e| matches!(e.state, HistoryState::Acked | HistoryState::Resolved))
        .collect();
    events.sort_by_key(|e| e.at);
    let mut open: std::collections::BTreeMap<&str, Ack> = std::collections::BTreeMap::new();
    for e in events {
        if e.state == HistoryState::Resolved {
            open.remove(e.fingerprint.as_str());
        } else {
            open.insert(
                &e.fingerprint,
                Ack {
                    fingerprint: e.fingerprint.clone(),
                    at: e.at,
                    by: e.note.clone().unwrap_or_else(|| "unknown".into()),
                },
            );
        }
    }
    open.into_values().collect()
}

/// The age of a holding ack at `now` in seconds (never negative), or `None` when it expired.
pub fn ack_age(ack: &Ack, history: &[Observed], now: DateTime<Utc>) -> Option<i64> {
    ack_holds(ack, history).then(|| (now - ack.at).num_seconds().max(0))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const M: i64 = 60;

    #[test]
    fn enters_at_the_threshold_and_leaves_only_below_the_exit() {
        assert!(
            !flap_status(&[0, 5 * M], 6 * M).flapping,
            "two changes: steady"
        );
        let s = flap_status(&[0, 5 * M, 10 * M], 11 * M);
        assert!(s.flapping);
        assert_eq!((s.changes, s.since), (3, Some(10 * M)));
        // 35 m later two of the three changes have left the window, plus one new change: two in
        // the window. A plain threshold would say steady; hysteresis keeps the badge.
        let s = flap_status(&[0, 5 * M, 10 * M, 36 * M], 37 * M);
        assert_eq!(s.changes, 2);
        assert!(s.flapping, "between the thresholds the state is kept");
        // Once no more than one change is left in the window it is steady again.
        let s = flap_status(&[0, 5 * M, 10 * M, 36 * M], 60 * M);
        assert_eq!(s.changes, 1);
        assert!(!s.flapping);
        assert_eq!(s.since, None);
        // A steady alert with two changes does not become flapping (no hysteresis from nowhere).
        assert!(!flap_status(&[40 * M, 45 * M], 46 * M).flapping);
    }

    #[test]
    fn order_and_future_changes_do_not_matter() {
        let a = flap_status(&[10 * M, 0, 5 * M], 11 * M);
        let b = flap_status(&[0, 5 * M, 10 * M, 99 * M], 11 * M);
        assert_eq!(a, b);
        assert_eq!(flap_status(&[], 0), FlapStatus::default());
    }

    #[test]
    fn ack_lasts_until_the_alert_resolves() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("valid time");
        let ack = Ack {
            fingerprint: "f".into(),
            at: t0,
            by: "ana".into(),
        };
        let firing = |m| Observed {
            at: t0 + Duration::minutes(m),
            state: AlertState::Firing,
        };
        let resolved = |m| Observed {
            at: t0 + Duration::minutes(m),
            state: AlertState::Resolved,
        };
        // Still firing, or re-polled as firing: the ack holds and ages.
        let h = [resolved(-10), firing(-5), firing(3)];
        assert!(ack_holds(&ack, &h));
        assert_eq!(ack_age(&ack, &h, t0 + Duration::minutes(42)), Some(42 * 60));
        // Resolved after the ack: it is over, and a re-fire needs a new ack.
        let h = [firing(-5), resolved(20), firing(30)];
        assert!(!ack_holds(&ack, &h));
        assert_eq!(ack_age(&ack, &h, t0 + Duration::minutes(42)), None);
        // An ack given just now cannot have a negative age.
        assert_eq!(ack_age(&ack, &[], t0 - Duration::minutes(1)), Some(0));
    }

    #[test]
    fn acks_come_back_from_history_unless_resolved_after() {
        use crate::domain::{Alert, AlertEvent, HistoryState, Labels};
        let t = |m: i64| DateTime::from_timestamp(1_764_000_000 + m * M, 0).expect("time");
        let alert = |name: &str| {
            let mut labels = Labels::new();
            labels.insert("alertname".into(), name.into());
            Alert {
                fingerprint: crate::domain::alert::fingerprint(&labels),
                labels,
                annotations: Labels::new(),
                starts_at: t(0),
                ends_at: None,
                state: AlertState::Firing,
                generator_url: None,
            }
        };
        let (a, b) = (alert("A"), alert("B"));
        let mut ack_a = AlertEvent::of(&a, HistoryState::Acked, t(5));
        ack_a.note = Some("alice".into());
        let mut re_ack_b = AlertEvent::of(&b, HistoryState::Acked, t(30));
        re_ack_b.note = Some("bob".into());
        let history = vec![
            re_ack_b,
            AlertEvent::of(&b, HistoryState::Resolved, t(20)),
            AlertEvent::of(&b, HistoryState::Acked, t(10)),
            ack_a,
            AlertEvent::of(&a, HistoryState::Firing, t(0)),
        ];
        let acks = acks_from_history(&history);
        let mut got: Vec<(&str, DateTime<Utc>, &str)> = acks
            .iter()
            .map(|k| (k.fingerprint.as_str(), k.at, k.by.as_str()))
            .collect();
        got.sort();
        let mut want = vec![
            (a.fingerprint.as_str(), t(5), "alice"),
            (b.fingerprint.as_str(), t(30), "bob"),
        ];
        want.sort();
        assert_eq!(got, want);

        let resolved = vec![
            AlertEvent::of(&a, HistoryState::Acked, t(5)),
            AlertEvent::of(&a, HistoryState::Resolved, t(6)),
        ];
        assert!(acks_from_history(&resolved).is_empty());
    }
}
