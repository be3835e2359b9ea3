//! Validation helpers: every failure names the file, the place, the field and the bad value.

use super::ScenarioError;
use crate::domain::Labels;

/// Collects validation failures with the file name attached.
pub(super) struct Check<'a> {
    pub(super) origin: &'a str,
}

impl Check<'_> {
    pub(super) fn fail<T>(
        &self,
        place: &str,
        field: &str,
        value: impl std::fmt::Display,
        problem: &str,
    ) -> Result<T, ScenarioError> {
        Err(ScenarioError::Invalid {
            origin: self.origin.to_string(),
            place: place.to_string(),
            field: field.to_string(),
            value: value.to_string(),
            problem: problem.to_string(),
        })
    }

    pub(super) fn ensure(
        &self,
        ok: bool,
        place: &str,
        field: &str,
        value: impl std::fmt::Display,
        problem: &str,
    ) -> Result<(), ScenarioError> {
        if ok {
            Ok(())
        } else {
            self.fail(place, field, value, problem)
        }
    }

    pub(super) fn labels(
        &self,
        place: &str,
        common: &Labels,
        own: &Labels,
    ) -> Result<Labels, ScenarioError> {
        let mut out = common.clone();
        for (k, v) in own {
            self.ensure(
                is_label_name(k),
                place,
                "labels",
                format!("{k:?}"),
                "label names are [a-zA-Z_][a-zA-Z0-9_]* and may not start with __",
            )?;
            self.ensure(
                !v.is_empty(),
                place,
                &format!("labels.{k}"),
                "\"\"",
                "label values may not be empty",
            )?;
            out.insert(k.clone(), v.clone());
        }
        Ok(out)
    }
}

/// Offsets are bounded (about ten years) so that converting them to seconds cannot overflow.
const MAX_OFFSET_MINS: i64 = 10 * 366 * 24 * 60;

/// Names that would state the answer of the exercise. The analysis must infer the cause from
/// timing, topology, metrics and logs, so a scenario may not carry it as a label or annotation.
const ANSWER_KEYS: [&str; 6] = [
    "root_cause",
    "rootcause",
    "cause",
    "primary",
    "culprit",
    "is_root_cause",
];

impl Check<'_> {
    pub(super) fn minutes(
        &self,
        place: &str,
        field: &str,
        v: Option<i64>,
    ) -> Result<(), ScenarioError> {
        match v {
            Some(m) => self.ensure(
                m.abs() <= MAX_OFFSET_MINS,
                place,
                field,
                m,
                "must be within ten years (in minutes) of the anchor",
            ),
            None => Ok(()),
        }
    }

    pub(super) fn no_answer_keys(
        &self,
        place: &str,
        field: &str,
        map: &Labels,
    ) -> Result<(), ScenarioError> {
        match map
            .keys()
            .find(|k| ANSWER_KEYS.contains(&k.to_ascii_lowercase().as_str()))
        {
            Some(k) => self.fail(
                place,
                &format!("{field}.{k}"),
                format!("{:?}", map[k]),
                "a scenario may not name the cause; the analysis has to infer it",
            ),
            None => Ok(()),
        }
    }
}

pub(super) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

pub(super) fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}
