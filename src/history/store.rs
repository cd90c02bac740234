//! The history database: SQLite in WAL mode (two workbenches can share it), schema versions in
//! `user_version` with a migration per version, streamed text appended as chunks (so a long
//! answer is never rewritten per batch) and folded into the message when it ends (a long one
//! stays in its chunks: SQLite builds a whole row in memory, so a 1 MB row cost several 1 MB
//! copies), and an FTS5 index of every prompt and finished answer.

use super::{
    Conversation, Finish, Hit, MARK_END, MARK_START, MessageEnd, MessageRecord, PaneRecord,
    Routing, Summary, Totals, TurnRecord,
};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The schema, one entry per version: entry `n` takes a database from version `n` to `n + 1`.
/// Never edit a released entry; add one.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "CREATE TABLE sessions(
        id INTEGER PRIMARY KEY,
        pid INTEGER NOT NULL,
        started INTEGER NOT NULL,
        ended INTEGER
    );
    CREATE TABLE conversations(
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        forked_from TEXT
    );
    CREATE INDEX conversations_updated ON conversations(updated);
    CREATE TABLE panes(
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        slot INTEGER NOT NULL,
        model TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY(conversation_id, slot)
    );
    CREATE TABLE turns(
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        prompt TEXT NOT NULL,
        created INTEGER NOT NULL,
        fts INTEGER,
        UNIQUE(conversation_id, seq)
    );
    CREATE TABLE messages(
        id INTEGER PRIMARY KEY,
        turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
        slot INTEGER NOT NULL,
        session_id INTEGER,
        model_asked TEXT NOT NULL,
        model_served TEXT,
        provider TEXT,
        content TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        finish_reason TEXT,
        error TEXT,
        ttft_ms INTEGER,
        total_ms INTEGER,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cost REAL,
        routing TEXT NOT NULL DEFAULT '{}',
        fts INTEGER
    );
    CREATE INDEX messages_turn ON messages(turn_id);
    CREATE INDEX messages_state ON messages(state);
    CREATE TABLE chunks(
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY(message_id, seq)
    );
    -- One row per prompt and finished answer, in the order written (so the latest come
    -- first without scoring every match); `ref` is a message's id, or minus a turn's id for
    -- its prompt; `fts` in turns and messages points back, for deletes.
    CREATE VIRTUAL TABLE search USING fts5(text, ref UNINDEXED, tokenize = 'unicode61');",
    // Version 2: a prompt's attachments, their bytes unless too large to keep.
    "CREATE TABLE attachments(
        turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
        ord INTEGER NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        origin TEXT NOT NULL,
        size INTEGER NOT NULL,
        hash TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}',
        mime TEXT,
        bytes BLOB,
        url TEXT,
        PRIMARY KEY(turn_id, ord)
    );",
    // Version 3: a long answer is indexed in pieces, rowids `fts` to `fts_last`.
    "ALTER TABLE messages ADD COLUMN fts_last INTEGER;",
];

/// The most text an answer keeps in its own row and one index entry holds: a longer answer
/// stays in its chunks and is indexed in pieces of about this size.
pub const PIECE: usize = 64 << 10;

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a statement waits for another Switchyard's write before giving up.
const BUSY: Duration = Duration::from_secs(5);

/// What the writer says when an answer was cut by Switchyard stopping.
pub const INTERRUPTED: &str = "Switchyard stopped before this answer finished";

/// The open history database. Every write transaction begins IMMEDIATE: with two workbenches
/// on one file, a transaction that read first and then wanted to write would fail at once
/// (SQLite cannot wait there without risking a deadlock); taking the write lock up front lets
/// the busy timeout wait instead.
pub struct Store {
    conn: Connection,
    session: Option<i64>,
}

/// Why the history could not be opened as it is.
#[derive(Debug)]
pub enum OpenError {
    /// Made by a newer Switchyard: never touched.
    Newer {
        /// Its version.
        found: i64,
    },
    /// Not a Switchyard history (another program's SQLite file): never touched.
    Foreign,
    /// Damaged: not readable as a database.
    Corrupt(String),
    /// Anything else (permissions, busy past the timeout, …).
    Other(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Newer { found } => write!(
                f,
                "it was written by a newer Switchyard (schema {found}; this one knows {VERSION}); it was left as it is"
            ),
            OpenError::Foreign => write!(
                f,
                "it is not a Switchyard history (another program's database); it was left as it is"
            ),
            OpenError::Corrupt(e) => write!(f, "it is damaged ({e})"),
            OpenError::Other(e) => write!(f, "{e}"),
        }
    }
}

fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

/// An error while opening: damaged, or anything else.
fn open_error(e: rusqlite::Error) -> OpenError {
    if is_corrupt(&e) {
        OpenError::Corrupt(e.to_string())
    } else {
        OpenError::Other(other(e))
    }
}

fn other(e: rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => "the disk is full (or history reached its size cap)".into(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "another Switchyard held the history too long".into()
        }
        Some(ErrorCode::ReadOnly) => "the history is read-only".into(),
        _ => e.to_string(),
    }
}

impl Store {
    /// Opens (creating or migrating) the database at `path` for reading and writing.
    pub fn open(path: &Path) -> Result<Store, OpenError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| OpenError::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| OpenError::Other(other(e)))?;
        let mut store = Store {
            conn,
            session: None,
        };
        store.setup(true)?;
        Ok(store)
    }

    /// Opens an existing database only to read it (headless listing, search, export).
    pub fn open_read_only(path: &Path) -> Result<Store, OpenError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| OpenError::Other(format!("cannot open {}: {}", path.display(), other(e))))?;
        let mut store = Store {
            conn,
            session: None,
        };
        store.setup(false)?;
        Ok(store)
    }

    /// Opens `path`; a damaged database is moved aside (kept, never overwritten) and a new one
    /// started in its place. Returns the store and what the user should be told.
    pub fn open_or_recover(path: &Path) -> Result<(Store, Option<String>), OpenError> {
        match Store::open(path) {
            Err(OpenError::Corrupt(e)) => {
                let aside = aside_path(path);
                std::fs::rename(path, &aside).map_err(|err| {
                    OpenError::Other(format!(
                        "{} is damaged ({e}) and cannot be moved aside: {err}",
                        path.display()
                    ))
                })?;
                for ext in ["-wal", "-shm"] {
                    let side = with_suffix(path, ext);
                    if side.exists() {
                        let _ = std::fs::rename(&side, with_suffix(&aside, ext));
                    }
                }
                let store = Store::open(path)?;
                Ok((
                    store,
                    Some(format!(
                        "history was damaged ({e}): kept as {}, a new history starts",
                        aside.display()
                    )),
                ))
            }
            other => other.map(|s| (s, None)),
        }
    }

    fn setup(&mut self, write: bool) -> Result<(), OpenError> {
        let c = &self.conn;
        c.busy_timeout(BUSY)
            .map_err(|e| OpenError::Other(other(e)))?;
        // Reading the schema is the first access that reads the file: garbage fails here.
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(open_error)?;
        let tables: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(open_error)?;
        if version == 0 && tables > 0 {
            return Err(OpenError::Foreign);
        }
        if version > VERSION {
            return Err(OpenError::Newer { found: version });
        }
        if !write {
            return if version < VERSION {
                Err(OpenError::Other(format!(
                    "the history is at schema {version}; open the workbench once to upgrade it"
                )))
            } else {
                Ok(())
            };
        }
        let pragma = |k: &str, v: &str| c.pragma_update(None, k, v).map_err(open_error);
        pragma("journal_mode", "WAL")?;
        // WAL + NORMAL survives a killed process (not a power cut) without a sync per batch.
        pragma("synchronous", "NORMAL")?;
        pragma("foreign_keys", "ON")?;
        // A small page cache: history is written in batches and read a page of results at a
        // time, and its memory counts against the workbench's.
        pragma("cache_size", "-256")?;
        for (v, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
                .map_err(|e| OpenError::Other(other(e)))?;
            tx.execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", v as i64 + 1))
                .and_then(|_| tx.commit())
                .map_err(|e| {
                    OpenError::Other(format!("upgrading to schema {}: {}", v + 1, other(e)))
                })?;
        }
        Ok(())
    }

    /// Caps the database's size (beyond it, writes fail as on a full disk).
    pub fn set_max_bytes(&self, bytes: u64) -> Result<(), String> {
        let page: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(other)?;
        let pages = (bytes as i64 / page.max(512)).max(1);
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .map_err(other)
    }

    /// Starts this process's session and marks the answers of sessions that died mid-stream
    /// incomplete (their text kept up to the last batch). Returns how many were recovered.
    pub fn begin_session(&mut self) -> Result<usize, String> {
        let pid = std::process::id() as i64;
        self.conn
            .execute(
                "INSERT INTO sessions(pid, started) VALUES (?1, ?2)",
                params![pid, super::now_ms()],
            )
            .map_err(other)?;
        let me = self.conn.last_insert_rowid();
        self.session = Some(me);
        let open: Vec<(i64, i64)> = {
            let mut st = self
                .conn
                .prepare("SELECT id, pid FROM sessions WHERE ended IS NULL AND id != ?1")
                .map_err(other)?;
            st.query_map([me], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(other)?
                .collect::<Result<_, _>>()
                .map_err(other)?
        };
        for (id, spid) in open {
            if spid == pid || !process_alive(spid) {
                self.conn
                    .execute(
                        "UPDATE sessions SET ended = ?2 WHERE id = ?1",
                        params![id, super::now_ms()],
                    )
                    .map_err(other)?;
            }
        }
        // Streaming answers no live session owns (another workbench's stay as they are).
        self.recover(
            "SELECT id FROM messages WHERE state = 'streaming' AND (session_id IS NULL
               OR session_id NOT IN (SELECT id FROM sessions WHERE ended IS NULL))",
            None,
        )
    }

    /// Folds the streamed chunks of the answers `select` names into their text, marks them
    /// incomplete and indexes them.
    fn recover(&mut self, select: &str, session: Option<i64>) -> Result<usize, String> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        let ids: Vec<i64> = {
            let mut st = tx.prepare(select).map_err(other)?;
            let params: Vec<i64> = session.into_iter().collect();
            st.query_map(rusqlite::params_from_iter(params), |r| r.get(0))
                .map_err(other)?
                .collect::<Result<_, _>>()
                .map_err(other)?
        };
        for id in &ids {
            tx.execute(
                "UPDATE messages SET state = 'incomplete', error = ?2 WHERE id = ?1",
                params![id, INTERRUPTED],
            )
            .map_err(other)?;
            seal(&tx, *id)?;
        }
        if let Some(s) = session {
            tx.execute(
                "UPDATE sessions SET ended = ?2 WHERE id = ?1",
                params![s, super::now_ms()],
            )
            .map_err(other)?;
        }
        tx.commit().map_err(other)?;
        Ok(ids.len())
    }

    /// Ends this process's session (every answer it wrote has ended).
    pub fn end_session(&mut self) -> Result<(), String> {
        if let Some(id) = self.session.take() {
            // What is still streaming now was cut by the quit.
            self.recover(
                "SELECT id FROM messages WHERE session_id = ?1 AND state = 'streaming'",
                Some(id),
            )?;
        }
        Ok(())
    }

    fn conversation_id(&self, uid: &str) -> Result<Option<i64>, String> {
        self.conn
            .query_row("SELECT id FROM conversations WHERE uid = ?1", [uid], |r| {
                r.get(0)
            })
            .optional()
            .map_err(other)
    }

    /// The conversation's row, created on its first turn.
    fn ensure_conversation(
        &self,
        uid: &str,
        title: &str,
        created: i64,
        forked_from: Option<&str>,
    ) -> Result<i64, String> {
        if let Some(id) = self.conversation_id(uid)? {
            return Ok(id);
        }
        self.conn
            .execute(
                "INSERT INTO conversations(uid, title, created, updated, forked_from)
                 VALUES (?1, ?2, ?3, ?3, ?4)",
                params![uid, title, created, forked_from],
            )
            .map_err(other)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Writes a prompt and an empty, streaming answer for each pane it goes to, in one
    /// transaction; returns the answers' ids in the order given.
    pub fn begin_turn(
        &mut self,
        head: &super::writer::Head,
        seq: u32,
        prompt: &str,
        created: i64,
        panes: &[PaneRecord],
    ) -> Result<Vec<i64>, String> {
        self.begin_turn_with(head, seq, prompt, created, panes, &[])
    }

    /// `begin_turn` for a prompt with attachments.
    pub fn begin_turn_with(
        &mut self,
        head: &super::writer::Head,
        seq: u32,
        prompt: &str,
        created: i64,
        panes: &[PaneRecord],
        attachments: &[super::AttachmentRecord],
    ) -> Result<Vec<i64>, String> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(other)?;
        let conv = self.ensure_conversation(
            &head.uid,
            &head.title,
            head.created_ms,
            head.forked_from.as_deref(),
        )?;
        for p in panes {
            tx.execute(
                "INSERT INTO panes(conversation_id, slot, model, settings) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(conversation_id, slot) DO UPDATE SET model = ?3, settings = ?4",
                params![conv, p.slot, p.model, p.settings.to_string()],
            )
            .map_err(other)?;
        }
        tx.execute(
            "INSERT INTO turns(conversation_id, seq, prompt, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(conversation_id, seq) DO UPDATE SET prompt = ?3",
            params![conv, seq, prompt, created],
        )
        .map_err(other)?;
        let turn: i64 = tx
            .query_row(
                "SELECT id FROM turns WHERE conversation_id = ?1 AND seq = ?2",
                params![conv, seq],
                |r| r.get(0),
            )
            .map_err(other)?;
        index_prompt(&tx, turn, prompt)?;
        write_attachments(&tx, turn, attachments)?;
        let mut ids = Vec::with_capacity(panes.len());
        for p in panes {
            tx.execute(
                "INSERT INTO messages(turn_id, slot, session_id, model_asked, state)
                 VALUES (?1, ?2, ?3, ?4, 'streaming')",
                params![turn, p.slot, self.session, p.model],
            )
            .map_err(other)?;
            ids.push(tx.last_insert_rowid());
        }
        tx.execute(
            "UPDATE conversations SET updated = ?2 WHERE id = ?1",
            params![conv, created],
        )
        .map_err(other)?;
        tx.commit().map_err(other)?;
        if attachments
            .iter()
            .any(|a| a.data.as_ref().is_some_and(|d| d.len() > 1 << 20))
        {
            // Its pages filled the cache and will not be read again soon: let them go.
            let _ = self.conn.execute_batch("PRAGMA shrink_memory");
        }
        Ok(ids)
    }

    /// Appends streamed text: `(message, chunk number, text)`, all in one transaction.
    pub fn append(&mut self, chunks: &[(i64, i64, String)]) -> Result<(), String> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO chunks(message_id, seq, text) VALUES (?1, ?2, ?3)",
                )
                .map_err(other)?;
            for (id, seq, text) in chunks {
                st.execute(params![id, seq, text]).map_err(other)?;
            }
        }
        tx.commit().map_err(other)
    }

    /// Forgets an answer's streamed text (a mid-stream restart replaces it).
    pub fn reset(&mut self, message: i64) -> Result<(), String> {
        self.conn
            .execute("DELETE FROM chunks WHERE message_id = ?1", [message])
            .map_err(other)?;
        Ok(())
    }

    /// Ends an answer: its whole text (with `folded`, the chunks appended so far are its
    /// text), how it ended, its figures and routing; indexed.
    pub fn finish(&mut self, message: i64, end: &MessageEnd, folded: bool) -> Result<(), String> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        if !folded {
            // The text as given replaces what streamed: in the row when short, else in chunks.
            tx.execute("DELETE FROM chunks WHERE message_id = ?1", [message])
                .map_err(other)?;
            tx.execute("UPDATE messages SET content = '' WHERE id = ?1", [message])
                .map_err(other)?;
            let mut st = tx
                .prepare_cached("INSERT INTO chunks(message_id, seq, text) VALUES (?1, ?2, ?3)")
                .map_err(other)?;
            for (seq, piece) in pieces(&end.content, PIECE, false).enumerate() {
                st.execute(params![message, seq as i64 + 1, piece])
                    .map_err(other)?;
            }
        }
        tx.execute(
            "UPDATE messages SET state = ?2, finish_reason = ?3, error = ?4,
               model_served = ?5, provider = ?6, ttft_ms = ?7, total_ms = ?8,
               prompt_tokens = ?9, completion_tokens = ?10, cost = ?11, routing = ?12
             WHERE id = ?1",
            params![
                message,
                end.state.unwrap_or(Finish::Incomplete).as_str(),
                end.finish_reason,
                end.error,
                end.model_served,
                end.provider,
                end.ttft_ms,
                end.total_ms,
                end.prompt_tokens,
                end.completion_tokens,
                end.cost,
                serde_json::to_string(&end.routing).unwrap_or_else(|_| "{}".into()),
            ],
        )
        .map_err(other)?;
        seal(&tx, message)?;
        tx.execute(
            "UPDATE conversations SET updated = ?2 WHERE id =
               (SELECT t.conversation_id FROM turns t JOIN messages m ON m.turn_id = t.id WHERE m.id = ?1)",
            params![message, super::now_ms()],
        )
        .map_err(other)?;
        tx.commit().map_err(other)
    }

    /// Conversations, most recently written first.
    pub fn list(&self, limit: usize) -> Result<Vec<Summary>, String> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT c.uid, c.title, c.created, c.updated,
                   (SELECT group_concat(model, char(31)) FROM
                      (SELECT model FROM panes WHERE conversation_id = c.id ORDER BY slot)),
                   (SELECT count(*) FROM turns WHERE conversation_id = c.id)
                 FROM conversations c ORDER BY c.updated DESC, c.id DESC LIMIT ?1",
            )
            .map_err(other)?;
        // Totals are read apart: a scalar subquery gives one column.
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(Summary {
                    uid: r.get(0)?,
                    title: r.get(1)?,
                    created_ms: r.get(2)?,
                    updated_ms: r.get(3)?,
                    models: r
                        .get::<_, Option<String>>(4)?
                        .map(|s| s.split('\u{1f}').map(String::from).collect())
                        .unwrap_or_default(),
                    turns: r.get::<_, i64>(5)? as u32,
                    totals: Totals::default(),
                })
            })
            .map_err(other)?;
        let mut out: Vec<Summary> = rows.collect::<Result<_, _>>().map_err(other)?;
        let mut tot = self
            .conn
            .prepare_cached(
                "SELECT coalesce(sum(coalesce(m.prompt_tokens, 0) + coalesce(m.completion_tokens, 0)), 0),
                        coalesce(sum(m.cost), 0.0)
                   FROM messages m JOIN turns t ON m.turn_id = t.id
                   JOIN conversations c ON t.conversation_id = c.id WHERE c.uid = ?1",
            )
            .map_err(other)?;
        for s in &mut out {
            s.totals = tot
                .query_row([&s.uid], |r| {
                    Ok(Totals {
                        tokens: r.get(0)?,
                        cost: r.get(1)?,
                    })
                })
                .map_err(other)?;
        }
        Ok(out)
    }

    /// Full-text search over every prompt and answer, latest first: reading the index
    /// backwards stops at `limit`, where ranking would score every match (a common word
    /// matches most of a long history).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, String> {
        let Some(q) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT s.ref, snippet(search, 0, '{MARK_START}', '{MARK_END}', '…', 16)
                   FROM search s WHERE search MATCH ?1 ORDER BY s.rowid DESC LIMIT ?2"
            ))
            .map_err(other)?;
        let raw: Vec<(i64, String)> = st
            .query_map(params![q, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(other)?
            .collect::<Result<_, _>>()
            .map_err(other)?;
        let mut out = Vec::with_capacity(raw.len());
        type Found = (String, String, i64, Option<String>);
        let mut seen = std::collections::HashSet::new();
        for (rowid, snippet) in raw {
            // A long answer is indexed in pieces: it is one hit, its latest piece's.
            if !seen.insert(rowid) {
                continue;
            }
            let found: Option<Found> = if rowid < 0 {
                self.conn
                    .query_row(
                        "SELECT c.uid, c.title, t.seq, NULL FROM turns t
                           JOIN conversations c ON t.conversation_id = c.id WHERE t.id = ?1",
                        [-rowid],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .optional()
            } else {
                self.conn
                    .query_row(
                        "SELECT c.uid, c.title, t.seq, m.model_asked FROM messages m
                           JOIN turns t ON m.turn_id = t.id
                           JOIN conversations c ON t.conversation_id = c.id WHERE m.id = ?1",
                        [rowid],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .optional()
            }
            .map_err(other)?;
            if let Some((uid, title, seq, model)) = found {
                out.push(Hit {
                    uid,
                    title,
                    seq: seq.max(0) as u32,
                    model,
                    snippet: snippet.replace(['\n', '\r'], " "),
                });
            }
        }
        Ok(out)
    }

    /// The conversation whose identity is `uid` or starts with it (unique prefixes, as git).
    pub fn resolve(&self, uid: &str) -> Result<String, String> {
        let mut st = self
            .conn
            .prepare_cached("SELECT uid FROM conversations WHERE uid >= ?1 AND uid < ?1 || char(1114111) LIMIT 2")
            .map_err(other)?;
        let found: Vec<String> = st
            .query_map([uid], |r| r.get(0))
            .map_err(other)?
            .collect::<Result<_, _>>()
            .map_err(other)?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!("no conversation `{uid}` in the history")),
            _ => Err(format!(
                "`{uid}` names more than one conversation: give more of it"
            )),
        }
    }

    /// The latest `limit` prompts sent, oldest first (for Up / Ctrl+P in the composer).
    pub fn recent_prompts(&self, limit: usize) -> Result<Vec<String>, String> {
        let mut st = self
            .conn
            .prepare_cached("SELECT prompt FROM turns ORDER BY id DESC LIMIT ?1")
            .map_err(other)?;
        let mut v: Vec<String> = st
            .query_map([limit as i64], |r| r.get(0))
            .map_err(other)?
            .collect::<Result<_, _>>()
            .map_err(other)?;
        v.reverse();
        v.dedup();
        Ok(v)
    }

    /// The most recently written conversation.
    pub fn last(&self) -> Result<Option<String>, String> {
        self.conn
            .query_row(
                "SELECT uid FROM conversations ORDER BY updated DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(other)
    }

    /// A whole conversation (answers still streaming in another process come with their text
    /// so far).
    pub fn load(&self, uid: &str) -> Result<Option<Conversation>, String> {
        let head = self
            .conn
            .query_row(
                "SELECT id, uid, title, created, updated, forked_from FROM conversations WHERE uid = ?1",
                [uid],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        Conversation {
                            uid: r.get(1)?,
                            title: r.get(2)?,
                            created_ms: r.get(3)?,
                            updated_ms: r.get(4)?,
                            forked_from: r.get(5)?,
                            panes: Vec::new(),
                            turns: Vec::new(),
                        },
                    ))
                },
            )
            .optional()
            .map_err(other)?;
        let Some((id, mut conv)) = head else {
            return Ok(None);
        };
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT slot, model, settings FROM panes WHERE conversation_id = ?1 ORDER BY slot",
            )
            .map_err(other)?;
        conv.panes = st
            .query_map([id], |r| {
                let settings: String = r.get(2)?;
                Ok(PaneRecord {
                    slot: r.get::<_, i64>(0)? as u32,
                    model: r.get(1)?,
                    settings: serde_json::from_str(&settings).unwrap_or_default(),
                })
            })
            .map_err(other)?
            .collect::<Result<_, _>>()
            .map_err(other)?;
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, seq, prompt, created FROM turns WHERE conversation_id = ?1 ORDER BY seq",
            )
            .map_err(other)?;
        let turns: Vec<(i64, TurnRecord)> = st
            .query_map([id], |r| {
                Ok((
                    r.get(0)?,
                    TurnRecord {
                        seq: r.get::<_, i64>(1)? as u32,
                        prompt: r.get(2)?,
                        created_ms: r.get(3)?,
                        messages: Vec::new(),
                        attachments: Vec::new(),
                    },
                ))
            })
            .map_err(other)?
            .collect::<Result<_, _>>()
            .map_err(other)?;
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT slot, model_asked, content || coalesce((SELECT group_concat(text, '') FROM
                    (SELECT text FROM chunks WHERE message_id = m.id ORDER BY seq)), ''),
                   state, finish_reason, error, model_served, provider, ttft_ms, total_ms,
                   prompt_tokens, completion_tokens, cost, routing
                 FROM messages m WHERE turn_id = ?1 ORDER BY slot, id",
            )
            .map_err(other)?;
        for (tid, mut turn) in turns {
            turn.attachments = read_attachments(&self.conn, tid)?;
            turn.messages = st
                .query_map([tid], |r| {
                    let routing: String = r.get(13)?;
                    Ok(MessageRecord {
                        slot: r.get::<_, i64>(0)? as u32,
                        model: r.get(1)?,
                        end: MessageEnd {
                            content: r.get(2)?,
                            state: Some(Finish::parse(&r.get::<_, String>(3)?)),
                            finish_reason: r.get(4)?,
                            error: r.get(5)?,
                            model_served: r.get(6)?,
                            provider: r.get(7)?,
                            ttft_ms: r.get(8)?,
                            total_ms: r.get(9)?,
                            prompt_tokens: r.get(10)?,
                            completion_tokens: r.get(11)?,
                            cost: r.get(12)?,
                            routing: serde_json::from_str::<Routing>(&routing).unwrap_or_default(),
                        },
                    })
                })
                .map_err(other)?
                .collect::<Result<_, _>>()
                .map_err(other)?;
            conv.turns.push(turn);
        }
        Ok(Some(conv))
    }

    /// Writes a whole conversation (import, fork); refuses an identity already there.
    pub fn insert(&mut self, conv: &Conversation) -> Result<(), String> {
        if self.conversation_id(&conv.uid)?.is_some() {
            return Err(format!(
                "conversation {} is already in the history",
                conv.uid
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        tx.execute(
            "INSERT INTO conversations(uid, title, created, updated, forked_from) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![conv.uid, conv.title, conv.created_ms, conv.updated_ms, conv.forked_from],
        )
        .map_err(other)?;
        let cid = tx.last_insert_rowid();
        for p in &conv.panes {
            tx.execute(
                "INSERT OR REPLACE INTO panes(conversation_id, slot, model, settings) VALUES (?1, ?2, ?3, ?4)",
                params![cid, p.slot, p.model, p.settings.to_string()],
            )
            .map_err(other)?;
        }
        for t in &conv.turns {
            tx.execute(
                "INSERT INTO turns(conversation_id, seq, prompt, created) VALUES (?1, ?2, ?3, ?4)",
                params![cid, t.seq, t.prompt, t.created_ms],
            )
            .map_err(|e| format!("turn {}: {}", t.seq, other(e)))?;
            let tid = tx.last_insert_rowid();
            index_prompt(&tx, tid, &t.prompt)?;
            write_attachments(&tx, tid, &t.attachments)?;
            for m in &t.messages {
                let e = &m.end;
                // A message still streaming elsewhere is kept as what it is here: incomplete.
                let state = match e.state.unwrap_or(Finish::Incomplete) {
                    Finish::Streaming => Finish::Incomplete,
                    s => s,
                };
                tx.execute(
                    "INSERT INTO messages(turn_id, slot, model_asked, model_served, provider, content,
                       state, finish_reason, error, ttft_ms, total_ms, prompt_tokens,
                       completion_tokens, cost, routing)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                    params![
                        tid,
                        m.slot,
                        m.model,
                        e.model_served,
                        e.provider,
                        e.content,
                        state.as_str(),
                        e.finish_reason,
                        e.error,
                        e.ttft_ms,
                        e.total_ms,
                        e.prompt_tokens,
                        e.completion_tokens,
                        e.cost,
                        serde_json::to_string(&e.routing).unwrap_or_else(|_| "{}".into()),
                    ],
                )
                .map_err(other)?;
                seal(&tx, tx.last_insert_rowid())?;
            }
        }
        tx.commit().map_err(other)
    }

    /// Renames a conversation.
    pub fn rename(&mut self, uid: &str, title: &str) -> Result<(), String> {
        let n = self
            .conn
            .execute(
                "UPDATE conversations SET title = ?2 WHERE uid = ?1",
                params![uid, title],
            )
            .map_err(other)?;
        if n == 0 {
            return Err(format!("no conversation {uid}"));
        }
        Ok(())
    }

    /// Deletes a conversation, its turns, answers and index entries.
    pub fn delete(&mut self, uid: &str) -> Result<(), String> {
        let Some(cid) = self.conversation_id(uid)? else {
            return Err(format!("no conversation {uid}"));
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        tx.execute(
            "DELETE FROM search WHERE rowid IN (SELECT fts FROM turns WHERE conversation_id = ?1)",
            [cid],
        )
        .map_err(other)?;
        let answers: Vec<i64> = {
            let mut st = tx
                .prepare("SELECT m.id FROM messages m JOIN turns t ON m.turn_id = t.id WHERE t.conversation_id = ?1")
                .map_err(other)?;
            st.query_map([cid], |r| r.get(0))
                .map_err(other)?
                .collect::<Result<_, _>>()
                .map_err(other)?
        };
        for m in answers {
            unindex_message(&tx, m)?;
        }
        // Panes, turns, messages and chunks go with it (foreign keys cascade, on for every
        // writing connection).
        tx.execute("DELETE FROM conversations WHERE id = ?1", [cid])
            .map_err(other)?;
        tx.commit().map_err(other)
    }

    /// A new conversation holding `uid`'s turns up to and including `upto`.
    pub fn fork(&mut self, uid: &str, upto: u32) -> Result<Conversation, String> {
        let Some(mut conv) = self.load(uid)? else {
            return Err(format!("no conversation {uid}"));
        };
        conv.turns.retain(|t| t.seq <= upto);
        conv.forked_from = Some(conv.uid.clone());
        conv.uid = super::new_uid();
        conv.title = format!("{} (fork)", conv.title);
        conv.created_ms = super::now_ms();
        conv.updated_ms = conv.created_ms;
        self.insert(&conv)?;
        Ok(conv)
    }
}

/// What an attachment row keeps beside its bytes.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct AttachMeta {
    #[serde(default)]
    pixels: Option<(u32, u32)>,
    #[serde(default)]
    original_pixels: Option<(u32, u32)>,
    #[serde(default)]
    pages: Option<u32>,
    #[serde(default)]
    text: Option<std::sync::Arc<str>>,
    #[serde(default)]
    first_page: Option<std::sync::Arc<str>>,
}

/// Writes a prompt's attachments (replacing any it had): a `data:` URL as its bytes.
fn write_attachments(
    tx: &rusqlite::Transaction<'_>,
    turn: i64,
    list: &[super::AttachmentRecord],
) -> Result<(), String> {
    tx.execute("DELETE FROM attachments WHERE turn_id = ?1", [turn])
        .map_err(other)?;
    for (i, a) in list.iter().enumerate() {
        let meta = AttachMeta {
            pixels: a.pixels,
            original_pixels: a.original_pixels,
            pages: a.pages,
            text: a.text.clone(),
            first_page: a.first_page.clone(),
        };
        let size = a.size as i64;
        let (kind, origin, meta) = (
            serde_json::to_value(a.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string)),
            serde_json::to_string(&a.origin).unwrap_or_default(),
            serde_json::to_string(&meta).unwrap_or_else(|_| "{}".into()),
        );
        let ord = i as i64;
        // The columns every row has, in the statements' order (?1 to ?8).
        let common: [&dyn rusqlite::ToSql; 8] =
            [&turn, &ord, &a.name, &kind, &origin, &size, &a.hash, &meta];
        if a.data.is_none()
            && let Some(key) = &a.stored
        {
            // Sent again after memory let go of it: the bytes are copied from where they are.
            let bytes = key.bytes as i64;
            let copied = tx
                .execute(
                    "INSERT INTO attachments(turn_id, ord, name, kind, origin, size, hash, meta, mime, bytes, url)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, mime, bytes, NULL FROM attachments
                     WHERE hash = ?7 AND length(bytes) = ?9 LIMIT 1",
                    rusqlite::params_from_iter(common.into_iter().chain([&bytes as &dyn rusqlite::ToSql])),
                )
                .map_err(other)?;
            if copied == 1 {
                continue;
            }
        }
        let (mime, bytes, url) = match a.data.as_deref() {
            Some(d) if d.starts_with("data:") => {
                match crate::attach::decode_data_url(d, usize::MAX) {
                    Some((m, b)) => (Some(m), Some(b), None),
                    None => (None, None, Some(d.to_string())),
                }
            }
            Some(d) => (None, None, Some(d.to_string())),
            None => (None, None, None),
        };
        let rest: [&dyn rusqlite::ToSql; 3] = [&mime, &bytes, &url];
        tx.execute(
            "INSERT INTO attachments(turn_id, ord, name, kind, origin, size, hash, meta, mime, bytes, url)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            rusqlite::params_from_iter(common.into_iter().chain(rest)),
        )
        .map_err(other)?;
    }
    Ok(())
}

impl Store {
    /// The database file (none for one in memory).
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.conn.path().filter(|p| !p.is_empty()).map(Into::into)
    }

    /// The `data:` URL of an attachment kept under `key`, if history has its bytes.
    pub fn attachment_data(
        &self,
        key: &crate::wire::request::Stored,
    ) -> Result<Option<String>, String> {
        let row: Option<(Option<String>, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT mime, bytes FROM attachments
                 WHERE hash = ?1 AND length(bytes) = ?2 LIMIT 1",
                params![&*key.hash, key.bytes as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(other)?;
        Ok(row.and_then(|(mime, bytes)| {
            let kind = crate::attach::Kind::from_mime(mime.as_deref()?)?;
            Some(crate::attach::data_url(kind, &bytes))
        }))
    }
}

/// A turn's attachments, in order; one that does not decode is an error naming it.
fn read_attachments(
    conn: &rusqlite::Connection,
    turn: i64,
) -> Result<Vec<super::AttachmentRecord>, String> {
    let mut st = conn
        .prepare_cached(
            "SELECT ord, name, kind, origin, size, hash, meta, mime, bytes, url
             FROM attachments WHERE turn_id = ?1 ORDER BY ord",
        )
        .map_err(other)?;
    let rows = st
        .query_map([turn], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<Vec<u8>>>(8)?,
                r.get::<_, Option<String>>(9)?,
            ))
        })
        .map_err(other)?;
    let mut out = Vec::new();
    for row in rows {
        let (ord, name, kind, origin, size, hash, meta, mime, bytes, url) = row.map_err(other)?;
        let bad =
            |what: &str| format!("attachment {ord} of turn {turn}: its {what} does not decode");
        let kind: crate::attach::Kind =
            serde_json::from_value(serde_json::Value::String(kind)).map_err(|_| bad("kind"))?;
        let origin = serde_json::from_str(&origin).map_err(|_| bad("origin"))?;
        let meta: AttachMeta = serde_json::from_str(&meta).map_err(|_| bad("meta"))?;
        let data: Option<std::sync::Arc<str>> = match (mime, bytes, url) {
            (Some(m), Some(b), _) => {
                let k = crate::attach::Kind::from_mime(&m).unwrap_or(kind);
                Some(crate::attach::data_url(k, &b).into())
            }
            (_, _, Some(u)) => Some(u.into()),
            _ => None,
        };
        out.push(super::AttachmentRecord {
            name,
            kind,
            origin,
            size: size.max(0) as u64,
            hash,
            pixels: meta.pixels,
            original_pixels: meta.original_pixels,
            pages: meta.pages,
            text: meta.text,
            first_page: meta.first_page,
            data,
            stored: None,
        });
    }
    Ok(out)
}

/// Indexes a prompt (replacing its earlier entry).
fn index_prompt(tx: &rusqlite::Transaction<'_>, turn: i64, text: &str) -> Result<(), String> {
    tx.execute(
        "DELETE FROM search WHERE rowid = (SELECT fts FROM turns WHERE id = ?1)",
        [turn],
    )
    .map_err(other)?;
    tx.execute(
        "INSERT INTO search(text, ref) VALUES (?1, ?2)",
        params![text, -turn],
    )
    .map_err(other)?;
    tx.execute(
        "UPDATE turns SET fts = ?2 WHERE id = ?1",
        params![turn, tx.last_insert_rowid()],
    )
    .map_err(other)?;
    Ok(())
}

/// An answer's stored text and its streamed chunks after it, in order.
fn for_each_part(
    tx: &rusqlite::Transaction<'_>,
    message: i64,
    mut f: impl FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    let head: String = tx
        .query_row(
            "SELECT content FROM messages WHERE id = ?1",
            [message],
            |r| r.get(0),
        )
        .map_err(other)?;
    f(&head)?;
    let mut st = tx
        .prepare_cached("SELECT text FROM chunks WHERE message_id = ?1 ORDER BY seq")
        .map_err(other)?;
    let mut rows = st.query([message]).map_err(other)?;
    while let Some(r) = rows.next().map_err(other)? {
        f(r.get_ref(0)
            .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
            .map_err(other)?)?;
    }
    Ok(())
}

/// Ends an answer's text: a short one is folded into its row (the chunks go), a long one stays
/// in its chunks; then it is indexed.
fn seal(tx: &rusqlite::Transaction<'_>, message: i64) -> Result<(), String> {
    let (head, chunks, n): (i64, i64, i64) = tx
        .query_row(
            "SELECT length(CAST(content AS BLOB)), (SELECT coalesce(sum(length(CAST(text AS BLOB))), 0)
               FROM chunks WHERE message_id = ?1), (SELECT count(*) FROM chunks WHERE message_id = ?1)
               FROM messages WHERE id = ?1",
            [message],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(other)?;
    if n > 0 && (head + chunks) as usize <= PIECE {
        let mut text = String::with_capacity((head + chunks) as usize);
        for_each_part(tx, message, |p| {
            text.push_str(p);
            Ok(())
        })?;
        tx.execute(
            "UPDATE messages SET content = ?2 WHERE id = ?1",
            params![message, text],
        )
        .map_err(other)?;
        tx.execute("DELETE FROM chunks WHERE message_id = ?1", [message])
            .map_err(other)?;
    }
    index_message(tx, message)
}

/// Removes an answer's index entries, every piece of it.
fn unindex_message(tx: &rusqlite::Transaction<'_>, message: i64) -> Result<(), String> {
    // The range read first and bound as numbers: FTS5 scans its whole table for a rowid
    // range given as subqueries.
    let range: Option<(Option<i64>, Option<i64>)> = tx
        .query_row(
            "SELECT fts, coalesce(fts_last, fts) FROM messages WHERE id = ?1",
            [message],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(other)?;
    if let Some((Some(first), Some(last))) = range {
        tx.prepare_cached("DELETE FROM search WHERE rowid >= ?1 AND rowid <= ?2")
            .and_then(|mut st| st.execute([first, last]))
            .map_err(other)?;
    }
    Ok(())
}

/// Indexes an answer's text (replacing its earlier entries) in pieces of about `PIECE`, cut
/// between words, their rowids consecutive (one writer inside one transaction).
fn index_message(tx: &rusqlite::Transaction<'_>, message: i64) -> Result<(), String> {
    unindex_message(tx, message)?;
    let mut st = tx
        .prepare_cached("INSERT INTO search(text, ref) VALUES (?1, ?2)")
        .map_err(other)?;
    let mut ids: Option<(i64, i64)> = None;
    let mut piece = String::new();
    for_each_part(tx, message, |part| {
        piece.push_str(part);
        while piece.len() >= PIECE {
            let cut = piece_end(&piece, PIECE, true);
            insert_piece(&mut st, tx, message, &piece[..cut], &mut ids)?;
            piece.drain(..cut);
        }
        Ok(())
    })?;
    // An empty answer has its (empty) entry too, as every finished answer does.
    if !piece.is_empty() || ids.is_none() {
        insert_piece(&mut st, tx, message, &piece, &mut ids)?;
    }
    drop(st);
    let (first, last) = ids.unwrap_or_default();
    tx.execute(
        "UPDATE messages SET fts = ?2, fts_last = ?3 WHERE id = ?1",
        params![message, first, (last != first).then_some(last)],
    )
    .map_err(other)?;
    Ok(())
}

/// Adds one index entry of `message`, widening `ids` (its first and last rowids).
fn insert_piece(
    st: &mut rusqlite::CachedStatement<'_>,
    tx: &rusqlite::Transaction<'_>,
    message: i64,
    text: &str,
    ids: &mut Option<(i64, i64)>,
) -> Result<(), String> {
    st.execute(params![text, message]).map_err(other)?;
    let id = tx.last_insert_rowid();
    *ids = Some((ids.map_or(id, |(first, _)| first), id));
    Ok(())
}

/// Where the first piece of `text` of at most `max` bytes ends: at a character boundary, and
/// with `words` after the last whitespace in its second half (a word is never split across
/// two index entries).
fn piece_end(text: &str, max: usize, words: bool) -> usize {
    if text.len() <= max {
        return text.len();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if words
        && let Some(ws) = text[..cut].rfind(char::is_whitespace)
        && ws >= max / 2
    {
        // After the whitespace, so it stays with the first piece.
        cut = ws + text[ws..].chars().next().map_or(1, char::len_utf8);
    }
    if cut == 0 {
        // A character longer than `max`: it goes whole.
        cut = text.chars().next().map_or(0, char::len_utf8);
    }
    cut
}

/// `text` in pieces of at most `max` bytes (see `piece_end`).
fn pieces(text: &str, max: usize, words: bool) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = piece_end(rest, max, words);
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head)
    })
}

/// The user's words as an FTS5 query: each word quoted (so no word is taken as an operator),
/// all required, the last one a prefix (search as you type).
pub fn fts_query(q: &str) -> Option<String> {
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    let mut q = words.join(" ");
    if q.is_empty() {
        return None;
    }
    q.push('*');
    Some(q)
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A name beside `path` that no file has: `history.db.damaged-<ms>`.
fn aside_path(path: &Path) -> PathBuf {
    let mut n = super::now_ms();
    loop {
        let p = with_suffix(path, &format!(".damaged-{n}"));
        if !p.exists() {
            return p;
        }
        n += 1;
    }
}

#[cfg(unix)]
fn process_alive(pid: i64) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; EPERM means it does, as another
    // user's.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a way to ask, every other session is taken as alive: its answers are never touched.
#[cfg(not(unix))]
fn process_alive(_pid: i64) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::{piece_end, pieces};
    use proptest::prelude::*;

    #[test]
    fn a_piece_ends_after_a_word_and_never_inside_a_character() {
        assert_eq!(piece_end("short", 64, true), 5);
        // The last whitespace before the limit, kept with the first piece.
        assert_eq!(piece_end("alpha beta gamma", 12, true), 11);
        // Without a space in its second half, at the limit, on a character boundary.
        assert_eq!(piece_end("ééééé", 5, true), 4);
        assert_eq!(piece_end("a bcdefghijklmnop", 10, true), 10);
    }

    proptest! {
        #[test]
        fn pieces_rebuild_the_text_and_stay_within_the_limit(
            text in "[a-zé€ \n]{0,400}",
            max in 4usize..40,
            words: bool,
        ) {
            let parts: Vec<&str> = pieces(&text, max, words).collect();
            prop_assert_eq!(parts.concat(), text.clone());
            for p in &parts {
                prop_assert!(!p.is_empty() && p.len() <= max, "{:?}", p);
            }
        }
    }
}
