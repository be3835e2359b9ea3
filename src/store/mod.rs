//! The SQLite store: the append-only, hash-chained remediation log.
//!
//! One dedicated thread owns the `rusqlite::Connection`; [`StoreHandle`]s send it typed requests
//! over a channel and block on the reply (callers use `spawn_blocking`). [`Store::close`] stops
//! the thread and joins it.

pub mod chain;
mod history;
mod patterns;
pub mod redact;
mod rows;
mod rules;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::analysis::corrections::GroupingRule;
use crate::analysis::patterns::ids::PatternIds;
use crate::domain::remediation::{RemediationEntry, StoredEntry};
use crate::domain::AlertEvent;
use redact::Redactor;

pub use chain::GENESIS_HASH;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

/// What `verify` found: how many rows it read and the first one that breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub rows: usize,
    /// Sequence number of the first bad row and what is wrong with it.
    pub first_bad: Option<(i64, String)>,
    /// Hash of the last row: write it down elsewhere to detect a rewrite of the whole chain.
    pub head: Option<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.first_bad.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the directory for the remediation log {}: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the remediation log {}: {source}", .path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{} is not a SQLite database; is this the right file for the remediation log?", .path.display())]
    NotADatabase { path: PathBuf },
    #[error("{} is a SQLite database but not a pagerpilot remediation log ({detail}); choose another file", .path.display())]
    Foreign { path: PathBuf, detail: String },
    #[error("{} was written by a newer pagerpilot (schema version {found}; this build knows up to {known})", .path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{}: journal_mode is {mode:?}, expected \"wal\"", .path.display())]
    NoWal { path: PathBuf, mode: String },
    #[error("remediation log {}: {what}: {source}", .path.display())]
    Sqlite {
        path: PathBuf,
        what: String,
        source: rusqlite::Error,
    },
    #[error("remediation log {}: row seq {seq} cannot be read: {what}", .path.display())]
    Corrupt {
        path: PathBuf,
        seq: i64,
        what: String,
    },
    #[error("remediation log {}: {what}", .path.display())]
    Invalid { path: PathBuf, what: String },
    #[error("cannot start the store thread for {}: {source}", .path.display())]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the store thread for {} has stopped", .path.display())]
    Closed { path: PathBuf },
    #[error("the store thread for {} panicked", .path.display())]
    Panicked { path: PathBuf },
}

type Reply<T> = mpsc::Sender<Result<T, StoreError>>;

enum Request {
    Append(Box<RemediationEntry>, Reply<StoredEntry>),
    AppendBatch(Vec<RemediationEntry>, Reply<Vec<StoredEntry>>),
    List(Option<String>, Reply<Vec<StoredEntry>>),
    Verify(Reply<VerifyReport>),
    RecordAlerts(Vec<AlertEvent>, Reply<usize>),
    AlertHistory(chrono::DateTime<chrono::Utc>, Reply<Vec<AlertEvent>>),
    // Log pattern ids (store::patterns).
    SavePatternIds(Box<PatternIds>, Reply<()>),
    LoadPatternIds(Reply<PatternIds>),
    // Grouping corrections (store::rules).
    AddRule(GroupingRule, String, Reply<()>),
    Rules(Reply<Vec<GroupingRule>>),
    Shutdown,
}

/// Owns the store thread. Dropping it without `close` also stops and joins the thread.
pub struct Store {
    handle: StoreHandle,
    thread: Option<JoinHandle<Result<(), StoreError>>>,
}

/// A cheap, cloneable, `Send + Sync` way to talk to the store thread. Calls block.
#[derive(Clone)]
pub struct StoreHandle {
    tx: mpsc::Sender<Request>,
    path: PathBuf,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreHandle")
            .field("path", &self.path)
            .finish()
    }
}

impl Store {
    /// Opens (or creates) the log at `path`: parent directories, WAL, busy timeout, migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, Redactor::default())
    }

    /// Like [`Store::open`], redacting the configured secrets and patterns too.
    pub fn open_with(path: &Path, redactor: Redactor) -> Result<Store, StoreError> {
        let conn = schema::open(path)?;
        let (tx, rx) = mpsc::channel();
        let owned = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("pagerpilot-store".into())
            .spawn(move || serve(conn, rx, owned, redactor))
            .map_err(|source| StoreError::Spawn {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Store {
            handle: StoreHandle {
                tx,
                path: path.to_path_buf(),
            },
            thread: Some(thread),
        })
    }

    pub fn handle(&self) -> StoreHandle {
        self.handle.clone()
    }

    pub fn path(&self) -> &Path {
        &self.handle.path
    }

    /// Stops the thread after the requests already queued, closes the connection, joins.
    /// Handles still around afterwards get [`StoreError::Closed`].
    pub fn close(mut self) -> Result<(), StoreError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), StoreError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        // If the thread is already gone, the send fails and join reports why.
        let _ = self.handle.tx.send(Request::Shutdown);
        match thread.join() {
            Ok(result) => result,
            Err(_) => Err(StoreError::Panicked {
                path: self.handle.path.clone(),
            }),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "closing the store");
        }
    }
}

impl StoreHandle {
    /// Appends one entry (secrets redacted) and returns the stored row once it is committed.
    pub fn append(&self, entry: RemediationEntry) -> Result<StoredEntry, StoreError> {
        self.call(|reply| Request::Append(Box::new(entry), reply))
    }

    /// Appends several entries in order in one transaction: all are stored, or none.
    pub fn append_batch(
        &self,
        entries: Vec<RemediationEntry>,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        self.call(|reply| Request::AppendBatch(entries, reply))
    }

    /// All rows, or one incident's rows, oldest first.
    pub fn list(&self, incident_id: Option<&str>) -> Result<Vec<StoredEntry>, StoreError> {
        let incident = incident_id.map(str::to_string);
        self.call(|reply| Request::List(incident, reply))
    }

    /// Recomputes the hash chain and reports the first row that does not fit.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.call(Request::Verify)
    }

    /// Appends alert state changes (and acks) to the alert history in one transaction.
    pub fn record_alerts(&self, events: Vec<AlertEvent>) -> Result<usize, StoreError> {
        self.call(|reply| Request::RecordAlerts(events, reply))
    }

    /// Alert history at or after `since`, oldest first.
    pub fn alert_history(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<AlertEvent>, StoreError> {
        self.call(|reply| Request::AlertHistory(since, reply))
    }

    /// Replaces the stored log pattern ids (known templates and aliases) with `ids`.
    pub fn save_pattern_ids(&self, ids: PatternIds) -> Result<(), StoreError> {
        self.call(|reply| Request::SavePatternIds(Box::new(ids), reply))
    }

    /// Stores a grouping correction made by `operator`.
    pub fn add_grouping_rule(&self, rule: GroupingRule, operator: &str) -> Result<(), StoreError> {
        let operator = operator.to_string();
        self.call(|reply| Request::AddRule(rule, operator, reply))
    }

    /// Grouping corrections in force, oldest first.
    pub fn grouping_rules(&self) -> Result<Vec<GroupingRule>, StoreError> {
        self.call(Request::Rules)
    }

    /// The stored log pattern ids (empty in a new database).
    pub fn load_pattern_ids(&self) -> Result<PatternIds, StoreError> {
        self.call(Request::LoadPatternIds)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, StoreError> {
        let (reply, answer) = mpsc::channel();
        let closed = || StoreError::Closed {
            path: self.path.clone(),
        };
        self.tx.send(make(reply)).map_err(|_| closed())?;
        answer.recv().map_err(|_| closed())?
    }
}

/// The store thread: answers requests until `Shutdown` (or every sender is gone).
fn serve(
    mut conn: Connection,
    rx: mpsc::Receiver<Request>,
    path: PathBuf,
    redactor: Redactor,
) -> Result<(), StoreError> {
    while let Ok(request) = rx.recv() {
        // A caller that gave up waiting has dropped its receiver; nothing to do about that here.
        match request {
            Request::Append(entry, reply) => {
                let _ = reply.send(rows::append(&mut conn, &path, &redactor, *entry));
            }
            Request::AppendBatch(entries, reply) => {
                let _ = reply.send(rows::append_batch(&mut conn, &path, &redactor, entries));
            }
            Request::List(incident, reply) => {
                let _ = reply.send(rows::list(&conn, &path, incident.as_deref()));
            }
            Request::Verify(reply) => {
                let _ = reply.send(rows::verify(&conn, &path));
            }
            Request::RecordAlerts(events, reply) => {
                let _ = reply.send(history::record(&mut conn, &path, &redactor, &events));
            }
            Request::AlertHistory(since, reply) => {
                let _ = reply.send(history::since(&conn, &path, since));
            }
            Request::SavePatternIds(ids, reply) => {
                let _ = reply.send(patterns::save(&mut conn, &path, &redactor, &ids));
            }
            Request::LoadPatternIds(reply) => {
                let _ = reply.send(patterns::load(&conn, &path));
            }
            Request::AddRule(rule, operator, reply) => {
                let _ = reply.send(rules::add(&conn, &path, &rule, &operator));
            }
            Request::Rules(reply) => {
                let _ = reply.send(rules::list(&conn, &path));
            }
            Request::Shutdown => break,
        }
    }
    conn.close().map_err(|(_, source)| StoreError::Sqlite {
        path,
        what: "closing the connection".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<StoreHandle>();
    }

    #[test]
    fn a_closed_store_answers_closed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("a/b/log.db")).expect("open");
        let handle = store.handle();
        assert_eq!(handle.list(None).expect("list").len(), 0);
        store.close().expect("close");
        assert!(matches!(handle.verify(), Err(StoreError::Closed { .. })));
    }
}
