//! Grouping corrections made by the engineer, kept as rules and applied to later alerts.
//!
//! A rule names two *alert keys* (`alertname@service`, see [`alert_key`]), so it applies to every
//! later firing of those alerts, not only to the incident where it was made:
//!
//! * **merge** `a` `b`: an incident holding an alert with key `a` and one holding an alert with
//!   key `b` become one incident;
//! * **split** `a` `b`: alerts with key `a` are never grouped with an alert with key `b`; in an
//!   incident holding both, the `a` alerts move to an incident of their own.
//!
//! Rules apply in the order they were made, so a later rule overrides an earlier one (a split after
//! a merge of the same pair separates them again). Every alert a rule moved carries a note saying
//! which rule moved it, shown as its "why grouped" reason.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::Alert;

/// What a correction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Merge,
    Split,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Merge => "merge",
            RuleKind::Split => "split",
        }
    }

    pub fn parse(s: &str) -> Option<RuleKind> {
        match s {
            "merge" => Some(RuleKind::Merge),
            "split" => Some(RuleKind::Split),
            _ => None,
        }
    }
}

/// One stored correction (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupingRule {
    pub kind: RuleKind,
    pub a: String,
    pub b: String,
}

impl GroupingRule {
    pub fn describe(&self) -> String {
        match self.kind {
            RuleKind::Merge => format!("merge {} with {}", self.a, self.b),
            RuleKind::Split => format!("keep {} apart from {}", self.a, self.b),
        }
    }
}

/// `alertname@service` (`-` for an alert without a service label).
pub fn alert_key(alert: &Alert) -> String {
    format!("{}@{}", alert.name(), alert.service().unwrap_or("-"))
}

/// Applies `rules` in order to `groups` (indices into `keys`, each group in the order it was
/// built). Returns the new groups, each sorted by index (alerts are indexed in start order, so the
/// first stays the opener), and a note for every alert a rule moved.
pub fn apply(
    mut groups: Vec<Vec<usize>>,
    keys: &[String],
    rules: &[GroupingRule],
) -> (Vec<Vec<usize>>, BTreeMap<usize, String>) {
    let mut notes = BTreeMap::new();
    let has = |g: &[usize], key: &str| g.iter().any(|&i| keys.get(i).is_some_and(|k| k == key));
    for rule in rules {
        if rule.a == rule.b {
            continue;
        }
        match rule.kind {
            RuleKind::Merge => {
                let pair = |groups: &[Vec<usize>]| {
                    let ga = groups.iter().position(|g| has(g, &rule.a))?;
                    let gb = groups
                        .iter()
                        .enumerate()
                        .position(|(i, g)| i != ga && has(g, &rule.b))?;
                    Some((ga.min(gb), ga.max(gb)))
                };
                while let Some((keep, gone)) = pair(&groups) {
                    let moved = groups.remove(gone);
                    // The group that began later is the one that joins: its alerts carry the note.
                    let joining = if moved.first() > groups[keep].first() {
                        &moved
                    } else {
                        &groups[keep]
                    };
                    let why = format!("merged by your rule: {}", rule.describe());
                    for &i in joining {
                        notes.insert(i, why.clone());
                    }
                    groups[keep].extend(moved);
                    groups[keep].sort_unstable();
                }
            }
            RuleKind::Split => {
                let mut out = Vec::with_capacity(groups.len());
                for g in groups {
                    if has(&g, &rule.a) && has(&g, &rule.b) {
                        let (moved, stay): (Vec<usize>, Vec<usize>) = g
                            .into_iter()
                            .partition(|&i| keys.get(i).is_some_and(|k| *k == rule.a));
                        for &i in &moved {
                            notes.insert(i, format!("split out by your rule: {}", rule.describe()));
                        }
                        out.push(stay);
                        out.push(moved);
                    } else {
                        out.push(g);
                    }
                }
                groups = out;
            }
        }
    }
    groups.retain(|g| !g.is_empty());
    groups.sort_by_key(|g| g.first().copied());
    (groups, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        ["Db@db", "Api@api", "Web@web", "Disk@search", "Api@api"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn rule(kind: RuleKind, a: &str, b: &str) -> GroupingRule {
        GroupingRule {
            kind,
            a: a.into(),
            b: b.into(),
        }
    }

    #[test]
    fn no_rules_change_nothing() {
        let groups = vec![vec![0, 1, 2], vec![3]];
        let (out, notes) = apply(groups.clone(), &keys(), &[]);
        assert_eq!(out, groups);
        assert!(notes.is_empty());
    }

    #[test]
    fn merge_joins_the_two_incidents_and_notes_the_moved_alerts() {
        let groups = vec![vec![0, 1, 2], vec![3]];
        let (out, notes) = apply(
            groups,
            &keys(),
            &[rule(RuleKind::Merge, "Disk@search", "Db@db")],
        );
        assert_eq!(out, vec![vec![0, 1, 2, 3]]);
        assert!(
            notes[&3].contains("merge Disk@search with Db@db"),
            "{notes:?}"
        );
    }

    #[test]
    fn merge_of_keys_not_firing_changes_nothing() {
        let groups = vec![vec![0, 1, 2], vec![3]];
        let (out, notes) = apply(
            groups.clone(),
            &keys(),
            &[rule(RuleKind::Merge, "X@x", "Db@db")],
        );
        assert_eq!(out, groups);
        assert!(notes.is_empty());
    }

    #[test]
    fn split_moves_every_alert_of_the_key_out_together() {
        let groups = vec![vec![0, 1, 2, 4], vec![3]];
        let (out, notes) = apply(
            groups,
            &keys(),
            &[rule(RuleKind::Split, "Api@api", "Db@db")],
        );
        assert_eq!(out, vec![vec![0, 2], vec![1, 4], vec![3]]);
        assert!(notes[&1].starts_with("split out by your rule"), "{notes:?}");
        assert!(!notes.contains_key(&0));
    }

    #[test]
    fn a_later_rule_overrides_an_earlier_one() {
        let groups = vec![vec![0, 1, 2], vec![3]];
        let rules = [
            rule(RuleKind::Merge, "Disk@search", "Db@db"),
            rule(RuleKind::Split, "Disk@search", "Db@db"),
        ];
        let (out, _) = apply(groups, &keys(), &rules);
        assert_eq!(out, vec![vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn a_rule_naming_one_key_twice_is_ignored() {
        let groups = vec![vec![0, 1, 2], vec![3]];
        let (out, _) = apply(
            groups.clone(),
            &keys(),
            &[rule(RuleKind::Split, "Db@db", "Db@db")],
        );
        assert_eq!(out, groups);
    }
}
