//! Log pattern ids on the store thread's connection: the known templates and the aliases of
//! ids whose template generalised (see `analysis::patterns::ids`), so ids survive restarts.
//!
//! Tables (migration 3): `log_patterns(id, service, template, first_seen_ns, last_seen_ns)`
//! and `log_pattern_aliases(old_id, new_id)`. [`save`] writes the whole registry in one
//! transaction (rows no longer known are deleted: the registry is bounded, so is the table).
//! Templates are masked already; they still go through the redactor.

use std::path::Path;

use rusqlite::{params, Connection, TransactionBehavior};

use super::redact::Redactor;
use super::rows::sql_error as sql;
use super::StoreError;
use crate::analysis::patterns::ids::{KnownPattern, PatternIds};

/// Replaces the stored pattern ids with `ids`.
pub(super) fn save(
    conn: &mut Connection,
    path: &Path,
    redactor: &Redactor,
    ids: &PatternIds,
) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(path, "starting to save log patterns"))?;
    tx.execute("DELETE FROM log_pattern_aliases", [])
        .map_err(sql(path, "clearing log pattern aliases"))?;
    tx.execute("DELETE FROM log_patterns", [])
        .map_err(sql(path, "clearing log patterns"))?;
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO log_patterns (id, service, template, first_seen_ns, last_seen_ns) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(sql(path, "preparing to save log patterns"))?;
        for k in ids.known() {
            insert
                .execute(params![
                    k.id,
                    k.service,
                    redactor.redact(&k.template),
                    k.first_seen_ns,
                    k.last_seen_ns
                ])
                .map_err(sql(path, "saving a log pattern"))?;
        }
        let mut alias = tx
            .prepare("INSERT INTO log_pattern_aliases (old_id, new_id) VALUES (?1, ?2)")
            .map_err(sql(path, "preparing to save log pattern aliases"))?;
        for (old, new) in ids.aliases() {
            alias
                .execute(params![old, new])
                .map_err(sql(path, "saving a log pattern alias"))?;
        }
    }
    tx.commit().map_err(sql(path, "committing log patterns"))
}

/// The stored pattern ids (empty in a new database).
pub(super) fn load(conn: &Connection, path: &Path) -> Result<PatternIds, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT id, service, template, first_seen_ns, last_seen_ns FROM log_patterns \
             ORDER BY id",
        )
        .map_err(sql(path, "reading log patterns"))?;
    let known = stmt
        .query_map([], |r| {
            Ok(KnownPattern {
                id: r.get(0)?,
                service: r.get(1)?,
                template: r.get(2)?,
                first_seen_ns: r.get(3)?,
                last_seen_ns: r.get(4)?,
            })
        })
        .map_err(sql(path, "reading log patterns"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql(path, "reading a log pattern row"))?;
    let mut stmt = conn
        .prepare("SELECT old_id, new_id FROM log_pattern_aliases ORDER BY old_id")
        .map_err(sql(path, "reading log pattern aliases"))?;
    let aliases = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(sql(path, "reading log pattern aliases"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql(path, "reading a log pattern alias row"))?;
    Ok(PatternIds::from_parts(known, aliases))
}

#[cfg(test)]
mod tests {
    use crate::analysis::patterns::ids::PatternIds;
    use crate::analysis::patterns::summarize;
    use crate::domain::{LogEntry, LogStream};
    use crate::store::{Store, SCHEMA_VERSION};

    const NOW: i64 = 1_700_000_000 * 1_000_000_000;

    fn stream(lines: &[&str]) -> LogStream {
        LogStream {
            labels: [("service".to_string(), "api".to_string())].into(),
            entries: lines
                .iter()
                .enumerate()
                .map(|(i, l)| LogEntry {
                    ts_ns: NOW - i as i64 * 1_000_000_000,
                    line: l.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn pattern_ids_survive_a_restart_and_follow_a_generalised_template() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.db");
        // Poll 1: two users; "alice"/"bob" could still be constants.
        let poll1 = summarize(
            &[stream(&["user alice logged in", "user bob logged in"])],
            NOW,
        );
        let alice_id = poll1
            .iter()
            .find(|p| p.template == "user alice logged in")
            .map(|p| p.id.clone())
            .expect("alice pattern");
        {
            let store = Store::open(&path).expect("open");
            let h = store.handle();
            assert!(h.load_pattern_ids().expect("load").known().next().is_none());
            let mut ids = PatternIds::new();
            ids.observe(&poll1, NOW);
            h.save_pattern_ids(ids).expect("save");
            store.close().expect("close");
        }
        // Restart, poll 2: the same lines get the same ids; then many users generalise it.
        let store = Store::open(&path).expect("reopen");
        let h = store.handle();
        let mut ids = h.load_pattern_ids().expect("load");
        assert_eq!(ids.known().count(), 2);
        let poll2 = summarize(&[stream(&["user alice logged in"])], NOW + 60);
        assert_eq!(
            poll2[0].id, alice_id,
            "same template, same id after restart"
        );
        assert!(ids.observe(&poll2, NOW + 60).is_empty());
        let poll3 = summarize(
            &[stream(&[
                "user alice logged in",
                "user bob logged in",
                "user carol logged in",
                "user dave logged in",
                "user erin logged in",
            ])],
            NOW + 120,
        );
        assert_eq!(poll3.len(), 1);
        assert_eq!(poll3[0].template, "user <*> logged in");
        let added = ids.observe(&poll3, NOW + 120);
        assert_eq!(added.len(), 2, "alice and bob both follow: {added:?}");
        h.save_pattern_ids(ids.clone()).expect("save");
        store.close().expect("close");
        let store = Store::open(&path).expect("reopen");
        let loaded = store.handle().load_pattern_ids().expect("load");
        assert_eq!(loaded.resolve(&alice_id), poll3[0].id);
        assert_eq!(loaded, ids);
        let version: i64 = rusqlite::Connection::open(&path)
            .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
    }
}
