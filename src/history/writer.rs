//! The one thread that writes history. The UI sends `Op`s and never waits: prompts are written
//! at once (and a request waits for that, so a prompt is on disk before it leaves), streamed
//! text is gathered and appended at most every `BATCH`, and queries are answered through the
//! callback. A failed write (full disk, cap reached) is reported once and the UI goes on; the
//! answers stay on screen.

use super::store::Store;
use super::{Attempt, Conversation, Finish, Hit, MessageEnd, PaneRecord, Summary};
use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest time streamed text waits in memory before it is written.
pub const BATCH: Duration = Duration::from_millis(250);
/// Pending text that is written at once, whatever the time.
const BATCH_BYTES: usize = 256 << 10;

/// What a conversation is, as the first write of it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// Stable identity.
    pub uid: String,
    /// Title.
    pub title: String,
    /// Created, ms since the Unix epoch.
    pub created_ms: i64,
    /// Forked from.
    pub forked_from: Option<String>,
}

/// An answer about to stream: its request and pane.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// The request id (the UI's; later ops name it).
    pub req: u64,
    /// The pane: slot, model and settings.
    pub pane: PaneRecord,
}

/// A change to write or a question to answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A prompt sent to some panes.
    Turn {
        /// The conversation.
        head: Head,
        /// Its order in the conversation.
        seq: u32,
        /// The prompt.
        prompt: String,
        /// One answer per pane it went to.
        starts: Vec<Start>,
        /// What was attached to the prompt.
        attachments: Vec<super::AttachmentRecord>,
        /// The attachments' data, let go from memory once written (`Payload::release`).
        release: Vec<crate::attach::payload::Payload>,
    },
    /// Text received for a request.
    Append {
        /// Request.
        req: u64,
        /// The text as received.
        text: String,
    },
    /// The text so far was discarded (a mid-stream restart on another endpoint).
    Restart {
        /// Request.
        req: u64,
    },
    /// An attempt started.
    Attempt {
        /// Request.
        req: u64,
        /// Who is tried.
        attempt: Attempt,
    },
    /// A request ended.
    Finish {
        /// Request.
        req: u64,
        /// How (its `content` empty when `folded`).
        end: Box<MessageEnd>,
        /// The text is what was appended: the writer folds the chunks instead of a copy.
        folded: bool,
    },
    /// List conversations (empty query) or search them.
    Find {
        /// The words typed.
        query: String,
    },
    /// Read one conversation back.
    Load {
        /// Its identity.
        uid: String,
    },
    /// A new conversation from `uid`'s turns up to `upto`.
    Fork {
        /// The original.
        uid: String,
        /// Last turn kept.
        upto: u32,
    },
    /// Rename a conversation.
    Rename {
        /// Which.
        uid: String,
        /// New title.
        title: String,
    },
    /// Delete a conversation.
    Delete {
        /// Which.
        uid: String,
    },
}

/// An answer to a question, or news.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The conversations (`query` empty) or the hits of a search.
    Found {
        /// The query answered.
        query: String,
        /// Conversations, for an empty query.
        list: Vec<Summary>,
        /// Hits, for words.
        hits: Vec<Hit>,
    },
    /// A conversation read back (opened or forked).
    Loaded(Box<Conversation>),
    /// Done (rename, delete), in words.
    Done(String),
    /// Something failed; said once until writes work again.
    Problem(String),
}

struct Live {
    id: i64,
    chunks: i64,
    attempts: Vec<Attempt>,
}

/// Called on the writer thread once an op is written (or failed).
pub type Ack = Box<dyn FnOnce() + Send>;

/// A handle on the writer thread: send ops; `close` flushes and waits.
pub struct Writer {
    tx: Option<mpsc::Sender<(Op, Option<Ack>)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread over an open store; `report` gets answers and problems.
    pub fn spawn(mut store: Store, report: impl Fn(Event) + Send + 'static) -> Writer {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("history".into())
            .spawn(move || {
                let mut w = Worker {
                    live: HashMap::new(),
                    pending: Vec::new(),
                    pending_bytes: 0,
                    due: None,
                    failing: false,
                    report: Box::new(report),
                };
                match store.begin_session() {
                    Ok(0) => {}
                    Ok(n) => (w.report)(Event::Done(format!(
                        "history: {n} answer(s) cut off last time are kept, marked incomplete"
                    ))),
                    Err(e) => w.problem(e),
                }
                w.run(&mut store, rx);
                w.flush(&mut store);
                if let Err(e) = store.end_session() {
                    w.problem(e);
                }
            })
            .ok();
        Writer {
            tx: Some(tx),
            thread,
        }
    }

    /// Sends an op; `ack` is called once it is written (or failed).
    pub fn send(&self, op: Op, ack: Option<Ack>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((op, ack));
        }
    }

    /// Writes what is pending, ends the session and waits for the thread, at most `wait`.
    pub fn close(mut self, wait: Duration) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + wait;
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

struct Worker {
    live: HashMap<u64, Live>,
    pending: Vec<(i64, i64, String)>,
    pending_bytes: usize,
    due: Option<Instant>,
    failing: bool,
    report: Box<dyn Fn(Event) + Send>,
}

type Inbox = mpsc::Receiver<(Op, Option<Ack>)>;

impl Worker {
    fn run(&mut self, store: &mut Store, rx: Inbox) {
        loop {
            let msg = match self.due {
                Some(due) => match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(m) => Some(m),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                },
                None => match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return,
                },
            };
            if let Some((op, ack)) = msg {
                self.apply(store, op);
                if let Some(a) = ack {
                    a();
                }
            }
            if self.pending_bytes >= BATCH_BYTES || self.due.is_some_and(|d| Instant::now() >= d) {
                self.flush(store);
            }
        }
    }

    fn problem(&mut self, e: String) {
        if !self.failing {
            self.failing = true;
            // The answers stay on screen whatever failed: only the disk copy is missing.
            let what = format!("history not saved: {e}; answers stay on screen");
            (self.report)(Event::Problem(what));
        }
    }

    fn ok<T>(&mut self, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => {
                self.failing = false;
                Some(v)
            }
            Err(e) => {
                self.problem(e);
                None
            }
        }
    }

    fn flush(&mut self, store: &mut Store) {
        self.due = None;
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let r = store.append(&batch);
        self.ok(r);
    }

    fn apply(&mut self, store: &mut Store, op: Op) {
        match op {
            Op::Turn {
                head,
                seq,
                prompt,
                starts,
                attachments,
                release,
            } => {
                let panes: Vec<PaneRecord> = starts.iter().map(|s| s.pane.clone()).collect();
                let r = store.begin_turn_with(
                    &head,
                    seq,
                    &prompt,
                    super::now_ms(),
                    &panes,
                    &attachments,
                );
                if let Some(ids) = self.ok(r) {
                    // On disk now: a later turn reads them back rather than memory keeping them.
                    for p in &release {
                        p.release();
                    }
                    drop(attachments);
                    for (s, id) in starts.iter().zip(ids) {
                        self.live.insert(
                            s.req,
                            Live {
                                id,
                                chunks: 0,
                                attempts: Vec::new(),
                            },
                        );
                    }
                }
            }
            Op::Append { req, text } => {
                if let Some(l) = self.live.get_mut(&req) {
                    self.pending_bytes += text.len();
                    // One row per answer per batch: a row per streamed chunk made each flush
                    // thousands of inserts, and the writer fell behind eight fast streams while
                    // their text waited in the channel, a second copy of the panes'.
                    match self.pending.iter_mut().find(|(m, _, _)| *m == l.id) {
                        Some((_, _, t)) => t.push_str(&text),
                        None => {
                            l.chunks += 1;
                            self.pending.push((l.id, l.chunks, text));
                        }
                    }
                    self.due.get_or_insert_with(|| Instant::now() + BATCH);
                }
            }
            Op::Restart { req } => {
                if let Some(id) = self.live.get(&req).map(|l| l.id) {
                    self.pending.retain(|(m, _, _)| *m != id);
                    let r = store.reset(id);
                    self.ok(r);
                }
            }
            Op::Attempt { req, attempt } => {
                if let Some(l) = self.live.get_mut(&req) {
                    l.attempts.push(attempt);
                }
            }
            Op::Finish {
                req,
                mut end,
                folded,
            } => {
                let Some(l) = self.live.remove(&req) else {
                    return;
                };
                self.flush(store);
                if end.routing.attempts.is_empty() {
                    end.routing.attempts = l.attempts;
                }
                if end.state.is_none() {
                    end.state = Some(Finish::Incomplete);
                }
                let r = store.finish(l.id, &end, folded);
                self.ok(r);
            }
            Op::Find { query } => {
                let r = if query.trim().is_empty() {
                    store.list(500).map(|list| (list, Vec::new()))
                } else {
                    store.search(&query, 200).map(|hits| (Vec::new(), hits))
                };
                match r {
                    Ok((list, hits)) => (self.report)(Event::Found { query, list, hits }),
                    Err(e) => (self.report)(Event::Problem(format!("history: {e}"))),
                }
            }
            Op::Load { uid } => match store.load(&uid) {
                Ok(Some(c)) => (self.report)(Event::Loaded(Box::new(c))),
                Ok(None) => (self.report)(Event::Problem(format!(
                    "history: conversation {uid} is gone"
                ))),
                Err(e) => (self.report)(Event::Problem(format!("history: {e}"))),
            },
            Op::Fork { uid, upto } => match store.fork(&uid, upto) {
                Ok(c) => (self.report)(Event::Loaded(Box::new(c))),
                Err(e) => (self.report)(Event::Problem(format!("history: {e}"))),
            },
            Op::Rename { uid, title } => match store.rename(&uid, &title) {
                Ok(()) => (self.report)(Event::Done(format!("renamed to “{title}”"))),
                Err(e) => (self.report)(Event::Problem(format!("history: {e}"))),
            },
            Op::Delete { uid } => match store.delete(&uid) {
                Ok(()) => (self.report)(Event::Done("conversation deleted".into())),
                Err(e) => (self.report)(Event::Problem(format!("history: {e}"))),
            },
        }
    }
}
