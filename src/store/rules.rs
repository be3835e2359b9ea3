//! Grouping corrections (`analysis::corrections`) as rows of `grouping_rules`: added, never
//! changed, read back in the order they were made.

use std::path::Path;

use chrono::{SecondsFormat, Utc};
use rusqlite::{params, Connection};

use super::rows::sql_error as sql;
use super::StoreError;
use crate::analysis::corrections::{GroupingRule, RuleKind};

/// Stores `rule`, made by `operator`.
pub fn add(
    conn: &Connection,
    path: &Path,
    rule: &GroupingRule,
    operator: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO grouping_rules (ts, kind, a, b, operator) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            rule.kind.as_str(),
            rule.a,
            rule.b,
            operator
        ],
    )
    .map_err(sql(path, "adding a grouping rule"))?;
    Ok(())
}

/// Rules in force, oldest first. A row with an unknown kind is an error naming it (the table's
/// CHECK keeps them out, so it means a damaged file).
pub fn list(conn: &Connection, path: &Path) -> Result<Vec<GroupingRule>, StoreError> {
    let fail = sql(path, "reading grouping rules");
    let mut stmt = conn
        .prepare("SELECT id, kind, a, b FROM grouping_rules WHERE retired IS NULL ORDER BY id")
        .map_err(&fail)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(&fail)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, kind, a, b) = row.map_err(&fail)?;
        let kind = RuleKind::parse(&kind).ok_or_else(|| StoreError::Invalid {
            path: path.to_path_buf(),
            what: format!("grouping rule {id} has unknown kind {kind:?}"),
        })?;
        out.push(GroupingRule { kind, a, b });
    }
    Ok(out)
}
