//! Conversation history: every prompt and answer kept in SQLite (`store`), written by one
//! thread fed over a channel so the UI never waits on disk (`writer`), read back where a
//! later request sends an attachment again (`readback`), and carried out to
//! Markdown and JSON and back (`export`). Keys and headers are never part of a record.

pub mod export;
pub mod readback;
pub mod store;
pub mod writer;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How a stored answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// Still arriving (or Switchyard stopped before it ended: recovery marks it incomplete).
    Streaming,
    /// Finished with a finish reason and the end of the stream.
    Complete,
    /// Part of an answer: cut, timed out, or interrupted by a crash.
    Incomplete,
    /// Stopped by the user.
    Cancelled,
    /// Failed before any text.
    Error,
}

impl Finish {
    /// The spelling kept in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Streaming => "streaming",
            Finish::Complete => "complete",
            Finish::Incomplete => "incomplete",
            Finish::Cancelled => "cancelled",
            Finish::Error => "error",
        }
    }

    /// Reads the database's spelling (anything unknown is treated as incomplete).
    pub fn parse(s: &str) -> Finish {
        match s {
            "streaming" => Finish::Streaming,
            "complete" => Finish::Complete,
            "cancelled" => Finish::Cancelled,
            "error" => Finish::Error,
            _ => Finish::Incomplete,
        }
    }
}

/// One pane of a conversation: its slot (stable within the conversation), model and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaneRecord {
    /// The pane's number in its conversation.
    pub slot: u32,
    /// The model the pane asks for.
    pub model: String,
    /// The pane's request settings (`RequestSettings` as JSON; never a key).
    #[serde(default)]
    pub settings: serde_json::Value,
}

/// How one answer ended, with its figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageEnd {
    /// The answer's text as received.
    pub content: String,
    /// How it ended.
    pub state: Option<Finish>,
    /// The finish reason (`stop`, `length`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// The error, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The model that served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_served: Option<String>,
    /// The provider that served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Time to first token, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<i64>,
    /// Whole request, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<i64>,
    /// Prompt tokens (from `usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<i64>,
    /// Completion tokens (from `usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<i64>,
    /// Cost in USD (from `usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The routing attempts, failover notes and explanation.
    #[serde(default)]
    pub routing: Routing,
}

/// What routing did for one answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    /// Each attempt: provider and model, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Failovers and restarts, as the pane showed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The router's explanation (plan and attempts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<String>,
}

/// One routing attempt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Provider display name.
    pub provider: String,
    /// Model served.
    pub model: String,
}

/// One model's answer to one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The pane it belongs to.
    pub slot: u32,
    /// The model asked.
    pub model: String,
    /// How it ended and its figures.
    #[serde(flatten)]
    pub end: MessageEnd,
}

/// One prompt and every pane's answer to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    /// Order in the conversation.
    pub seq: u32,
    /// The prompt, verbatim.
    pub prompt: String,
    /// When it was sent, ms since the Unix epoch.
    pub created_ms: i64,
    /// The answers, one per pane it was sent to.
    pub messages: Vec<MessageRecord>,
    /// What was attached to the prompt, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRecord>,
}

/// An attachment as history keeps it: what it is, its hash, and its bytes unless it was larger
/// than `[attachments] keep_bytes_up_to_mb` (then only where it came from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    /// Name shown and sent.
    pub name: String,
    /// What it is.
    pub kind: crate::attach::Kind,
    /// Where it came from.
    pub origin: crate::attach::Origin,
    /// Bytes of the file as read.
    pub size: u64,
    /// SHA-256 of the file as read.
    pub hash: String,
    /// Width and height as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixels: Option<(u32, u32)>,
    /// The original's size, when downscaled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_pixels: Option<(u32, u32)>,
    /// PDF page count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// PDF text as extracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<std::sync::Arc<str>>,
    /// PDF first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<std::sync::Arc<str>>,
    /// What was sent (a `data:` URL, or an `https://` URL); none when only the origin is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<std::sync::Arc<str>>,
    /// Switchyard's own, never exported: the bytes are already in history under this key (an
    /// attachment sent again whose data memory let go), so the writer copies them from there.
    #[serde(skip)]
    pub stored: Option<crate::wire::request::Stored>,
}

impl AttachmentRecord {
    /// The record of an attachment; its data kept when it is at most `keep_bytes` (or a URL).
    pub fn of(a: &crate::attach::Attachment, keep_bytes: u64) -> Self {
        let keep = a.size <= keep_bytes || a.payload.key().is_none();
        let data = keep.then(|| a.payload.get()).flatten();
        Self {
            name: a.name.clone(),
            kind: a.kind,
            origin: a.origin.clone(),
            size: a.size,
            hash: a.hash.clone(),
            pixels: a.pixels,
            original_pixels: a.original_pixels,
            pages: a.pages,
            text: a.text.clone(),
            first_page: a.first_page.clone(),
            stored: match &data {
                None if keep => a.payload.key().cloned(),
                _ => None,
            },
            data,
        }
    }

    /// The attachment back (one kept by origin only has no data: shown, not sent again). Its
    /// `data:` URL stays in history, read back when a request sends it.
    pub fn attachment(&self) -> crate::attach::Attachment {
        use crate::attach::payload::{Payload, decoded_len};
        let payload = match &self.data {
            Some(d) => match decoded_len(d) {
                Some(bytes) => Payload::stored(
                    crate::wire::request::Stored {
                        hash: self.hash.as_str().into(),
                        bytes,
                    },
                    d.len(),
                ),
                None => Payload::held(d.clone(), &self.hash),
            },
            None => Payload::absent(),
        };
        crate::attach::Attachment {
            name: self.name.clone(),
            kind: self.kind,
            origin: self.origin.clone(),
            size: self.size,
            hash: self.hash.clone(),
            pixels: self.pixels,
            original_pixels: self.original_pixels,
            pages: self.pages,
            text: self.text.clone(),
            first_page: self.first_page.clone(),
            payload,
        }
    }
}

/// A whole conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Stable identity (kept by export and import).
    pub uid: String,
    /// Title (the first prompt's first line, until renamed).
    pub title: String,
    /// Created, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last written, ms since the Unix epoch.
    pub updated_ms: i64,
    /// The conversation it was forked from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<String>,
    /// Its panes.
    pub panes: Vec<PaneRecord>,
    /// Its turns, in order.
    pub turns: Vec<TurnRecord>,
}

impl Conversation {
    /// Tokens and cost of every answer.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for m in self.turns.iter().flat_map(|t| &t.messages) {
            t.add(&m.end);
        }
        t
    }
}

/// Tokens and cost added up.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Prompt plus completion tokens.
    pub tokens: i64,
    /// USD.
    pub cost: f64,
}

impl Totals {
    /// Adds one answer's figures.
    pub fn add(&mut self, m: &MessageEnd) {
        self.tokens += m.prompt_tokens.unwrap_or(0) + m.completion_tokens.unwrap_or(0);
        self.cost += m.cost.unwrap_or(0.0);
    }

    /// Adds an answer's `usage` as it ended.
    pub fn add_usage(&mut self, u: &crate::wire::chunk::Usage) {
        self.tokens += (u.prompt_tokens + u.completion_tokens) as i64;
        self.cost += u.cost.unwrap_or(0.0);
    }
}

/// A line of the history list.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Stable identity.
    pub uid: String,
    /// Title.
    pub title: String,
    /// Created, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last written.
    pub updated_ms: i64,
    /// The panes' models, in slot order.
    pub models: Vec<String>,
    /// Prompts sent.
    pub turns: u32,
    /// Tokens and cost.
    pub totals: Totals,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The conversation.
    pub uid: String,
    /// Its title.
    pub title: String,
    /// The turn the hit is in.
    pub seq: u32,
    /// The model whose answer matched (None: the prompt matched).
    pub model: Option<String>,
    /// The matching passage; the matched words are between `MARK_START` and `MARK_END`.
    pub snippet: String,
}

/// Opens a highlighted word in a hit's snippet (a private-use character no text carries).
pub const MARK_START: char = '\u{E000}';
/// Closes a highlighted word.
pub const MARK_END: char = '\u{E001}';

/// The history database's path: `history.db` in the state directory.
pub fn path() -> Option<PathBuf> {
    Some(crate::health_store::state_dir()?.join("history.db"))
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A fresh conversation identity: time-ordered, unique across processes.
pub fn new_uid() -> String {
    format!(
        "{:011x}-{:08x}",
        now_ms(),
        crate::runtime::fresh_seed() as u32
    )
}

/// A title from a prompt: its first non-empty line, at most 60 characters.
pub fn title_of(prompt: &str) -> String {
    let line = prompt
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("untitled");
    let mut t: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        t.push('…');
    }
    t
}

/// A date as people read it in a list: `2026-12-01 19:04` (UTC).
pub fn date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_calendar_dates() {
        assert_eq!(date(0), "1970-01-01 00:00");
        // 2026-12-01 19:04:05 UTC
        assert_eq!(date(1_796_151_845_000), "2026-12-01 19:04");
        assert_eq!(date(951_782_400_000), "2000-02-29 00:00");
    }

    #[test]
    fn titles_are_the_first_line_bounded() {
        assert_eq!(title_of("\n  hello there \nmore"), "hello there");
        assert_eq!(title_of(""), "untitled");
        let long = "x".repeat(100);
        assert_eq!(title_of(&long).chars().count(), 61);
    }

    #[test]
    fn uids_differ() {
        assert_ne!(new_uid(), new_uid());
    }
}
