//! Workbench state: panes, their conversations, focus, composer and overlays. No terminal I/O.

use crate::client::ChatError;
use crate::markdown::StreamingMarkdown;
use crate::text_edit::TextBuffer;
use crate::wire::catalog::Model;
use crate::wire::chunk::{ServedBy, Usage};
use crate::wire::request::ChatRequest;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::time::Duration;

/// Stable identity of a pane (indices shift when panes close).
pub type PaneId = u64;
/// Identity of one request; chunks carrying a stale id are dropped.
pub type ReqId = u64;

/// Where the composer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every pane.
    All,
    /// Only the focused pane.
    Focused,
}

/// Where one turn's answer stands.
#[derive(Debug, Clone, PartialEq)]
// One per request or turn, never in bulk: boxing the error (its JSON metadata keeps key
// order, so it is larger) would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum TurnState {
    /// Sent; nothing visible yet (counts keep-alive comments).
    Waiting {
        /// Keep-alive comments seen.
        keepalives: u32,
    },
    /// Tokens are arriving.
    Streaming,
    /// Finished with this reason (`stop`, `length`, …).
    Done(String),
    /// Failed; the partial answer (if any) stays, marked incomplete.
    Failed(ChatError),
    /// Cancelled by the user.
    Cancelled,
}

impl TurnState {
    /// Whether the request is still running.
    pub fn is_active(&self) -> bool {
        matches!(self, TurnState::Waiting { .. } | TurnState::Streaming)
    }
}

/// One prompt and its answer in one pane.
pub struct Turn {
    /// The user's prompt, kept verbatim whatever happens.
    pub prompt: String,
    /// What was attached to the prompt (sent again with it on later turns).
    pub attachments: crate::attach::Files,
    /// The answer, rendered incrementally.
    pub answer: StreamingMarkdown,
    /// Reasoning text received (shown as a count; not part of the answer).
    pub reasoning_chars: usize,
    /// Where it stands.
    pub state: TurnState,
    /// Which model/provider served.
    pub served: ServedBy,
    /// Usage and cost.
    pub usage: Option<Usage>,
    /// Time to first token, as measured by the client.
    pub ttft: Option<Duration>,
    /// Time of the latest content chunk since the request started.
    pub last_at: Option<Duration>,
    /// Content chunks received.
    pub chunks: u64,
    /// Tokens received, estimated from the text (`tokens::estimate`) until `usage` says.
    pub est_tokens: u64,
    /// Bytes of the answer handed to history as it streamed.
    pub appended: usize,
    /// Malformed events skipped.
    pub malformed: u32,
    /// The request this turn belongs to.
    pub req: ReqId,
    /// The prompt's rendered lines, keyed by the width they were wrapped at and the theme.
    pub prompt_cache: Option<((u16, u64), Vec<ratatui::text::Line<'static>>)>,
    /// Routing notes: failovers and restarts, in order.
    pub notes: Vec<String>,
    /// Attempts made so far (local routing).
    pub attempts: u32,
    /// The routing explanation (plan and attempts), once the request ended.
    pub why: Vec<String>,
    /// The local router's endpoint of the latest attempt.
    pub endpoint: Option<u32>,
    /// The JSON schema the request asked to follow (structured output), as sent.
    pub schema: Option<serde_json::Value>,
    /// How the completed reply fared against `schema`.
    pub verdict: Option<crate::schema::Verdict>,
    /// The reply as received when what is shown differs (structured JSON is shown
    /// pretty-printed); history and copies use this.
    pub raw: Option<String>,
    /// A bake-off case: asked on its own, and never sent as context for another turn.
    pub standalone: bool,
}

impl Turn {
    /// A new turn waiting for its first token.
    pub fn new(prompt: String, req: ReqId) -> Self {
        Self {
            prompt,
            attachments: Arc::from([]),
            answer: StreamingMarkdown::new(),
            reasoning_chars: 0,
            state: TurnState::Waiting { keepalives: 0 },
            served: ServedBy::default(),
            usage: None,
            ttft: None,
            last_at: None,
            chunks: 0,
            est_tokens: 0,
            appended: 0,
            malformed: 0,
            req,
            prompt_cache: None,
            notes: Vec::new(),
            attempts: 0,
            why: Vec::new(),
            endpoint: None,
            schema: None,
            verdict: None,
            raw: None,
            standalone: false,
        }
    }

    /// The answer as received (what history sends back and copies take).
    pub fn text(&self) -> &str {
        self.raw.as_deref().unwrap_or(self.answer.source())
    }

    /// Checks the completed reply against the request's schema and shows valid JSON
    /// pretty-printed and highlighted (the received text is kept in `raw`).
    pub fn check_schema(&mut self) {
        let Some(schema) = self.schema.clone() else {
            return;
        };
        let verdict = match crate::schema::check(schema) {
            Ok(s) => s.validate(self.answer.source()),
            Err(ps) => crate::schema::Verdict::Invalid(ps),
        };
        if !matches!(verdict, crate::schema::Verdict::NotJson(_))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(crate::schema::reply_json(
                self.answer.source(),
            ))
            && let Ok(pretty) = serde_json::to_string_pretty(&v)
        {
            let raw = self.answer.source().to_string();
            self.answer.replace(format!("```json\n{pretty}\n```"));
            self.answer.finish();
            self.raw = Some(raw);
        }
        self.verdict = Some(verdict);
    }

    /// What history keeps of this turn's answer now.
    pub fn record(&self) -> crate::history::MessageEnd {
        self.record_with(self.text().to_string())
    }

    /// `record` with `content` for the text.
    fn record_with(&self, content: String) -> crate::history::MessageEnd {
        use crate::history::Finish;
        let empty = self.text().is_empty();
        let (state, finish_reason, error) = match &self.state {
            TurnState::Waiting { .. } | TurnState::Streaming => (Finish::Streaming, None, None),
            TurnState::Done(r) => (Finish::Complete, Some(r.clone()), None),
            TurnState::Cancelled => (Finish::Cancelled, None, None),
            TurnState::Failed(e) if empty => (Finish::Error, None, Some(e.to_string())),
            TurnState::Failed(e) => (Finish::Incomplete, None, Some(e.to_string())),
        };
        let ms = |d: Duration| d.as_millis() as i64;
        crate::history::MessageEnd {
            content,
            state: Some(state),
            finish_reason,
            error,
            model_served: self.served.model.clone(),
            provider: self.served.provider.clone(),
            ttft_ms: self.ttft.map(ms),
            total_ms: self.last_at.map(ms),
            prompt_tokens: self.usage.as_ref().map(|u| u.prompt_tokens as i64),
            completion_tokens: self.usage.as_ref().map(|u| u.completion_tokens as i64),
            cost: self.usage.as_ref().and_then(|u| u.cost),
            routing: crate::history::Routing {
                attempts: Vec::new(),
                notes: self.notes.clone(),
                why: self.why.clone(),
            },
        }
    }

    /// The history op that ends this turn's answer. When history already has every byte of
    /// it (streamed as it came), the text is not copied again: the writer folds the chunks.
    pub fn finish_op(&self) -> crate::history::writer::Op {
        let folded = self.text().len() == self.appended;
        let end = if folded {
            self.record_with(String::new())
        } else {
            self.record()
        };
        crate::history::writer::Op::Finish {
            req: self.req,
            end: Box::new(end),
            folded,
        }
    }

    /// A turn read back from history: finished, never running (request id 0 is never issued).
    pub fn restored(prompt: String, end: &crate::history::MessageEnd) -> Self {
        use crate::history::Finish;
        let mut t = Turn::new(prompt, 0);
        // Stored text is data from disk: shown only once made inert.
        t.answer
            .replace(crate::safe_text::neutralise(&end.content).into_owned());
        t.answer.finish();
        t.state = match end.state.unwrap_or(Finish::Incomplete) {
            Finish::Complete => {
                TurnState::Done(end.finish_reason.clone().unwrap_or_else(|| "stop".into()))
            }
            Finish::Cancelled => TurnState::Cancelled,
            _ => TurnState::Failed(ChatError::Truncated(
                end.error
                    .clone()
                    .unwrap_or_else(|| crate::history::store::INTERRUPTED.into()),
            )),
        };
        t.served = ServedBy {
            model: end.model_served.clone(),
            provider: end.provider.clone(),
            id: None,
        };
        if end.completion_tokens.is_some() || end.cost.is_some() {
            t.usage = Some(Usage {
                prompt_tokens: end.prompt_tokens.unwrap_or(0).max(0) as u64,
                completion_tokens: end.completion_tokens.unwrap_or(0).max(0) as u64,
                total_tokens: (end.prompt_tokens.unwrap_or(0) + end.completion_tokens.unwrap_or(0))
                    .max(0) as u64,
                cost: end.cost,
                ..Default::default()
            });
        }
        let ms = |v: i64| Duration::from_millis(v.max(0) as u64);
        t.ttft = end.ttft_ms.map(ms);
        t.last_at = end.total_ms.map(ms);
        t.notes = end.routing.notes.clone();
        t.why = end.routing.why.clone();
        t.attempts = end.routing.attempts.len() as u32;
        t
    }

    /// Decode speed in tokens/s over the time after the first token: from `usage` when the
    /// answer has ended, else from the tokens received (estimated from the text, never from
    /// the number of reads, which the screen's batching sets). The flag says it is estimated.
    pub fn tokens_per_sec(&self) -> Option<(f64, bool)> {
        let ttft = self.ttft?;
        let decode = self.last_at?.checked_sub(ttft)?.as_secs_f64();
        let (tokens, estimated) = match &self.usage {
            Some(u) if !u.estimated => (u.completion_tokens, false),
            _ => (self.est_tokens, true),
        };
        // The first token's own text arrived at `ttft`, so it is not part of the decode time.
        (decode > 0.05 && tokens > 1).then(|| ((tokens - 1) as f64 / decode, estimated))
    }
}

/// Scroll position of a pane's transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scroll {
    /// Follow the tail.
    #[default]
    Follow,
    /// Fixed with this line at the top.
    At(usize),
}

/// A prompt waiting for its pane's answer to end.
#[derive(Debug, Clone)]
pub struct Queued {
    /// The prompt.
    pub prompt: String,
    /// Its files.
    pub files: crate::attach::Files,
    /// A bake-off case: sent on its own, without the conversation before it.
    pub standalone: bool,
}

/// One model's column.
pub struct Pane {
    /// Stable id.
    pub id: PaneId,
    /// Model asked for.
    pub model: String,
    /// What its requests ask for beyond the conversation (fallbacks, routing, sampling, …).
    pub settings: crate::settings::RequestSettings,
    /// Turns before the settings last changed: a turn before this does not keep its endpoint
    /// for the conversation (new preferences route afresh).
    pub routed_from: usize,
    /// Conversation.
    pub turns: Vec<Turn>,
    /// Scroll position.
    pub scroll: Scroll,
    /// Prompts sent while it streamed, sent in order as each answer ends.
    pub queued: std::collections::VecDeque<Queued>,
}

impl Pane {
    /// A pane for `model`.
    pub fn new(id: PaneId, model: String) -> Self {
        Self {
            id,
            model,
            settings: Default::default(),
            routed_from: 0,
            turns: Vec::new(),
            scroll: Scroll::Follow,
            queued: Default::default(),
        }
    }

    /// The running turn, if any.
    pub fn active_turn(&self) -> Option<&Turn> {
        self.turns.last().filter(|t| t.state.is_active())
    }

    /// The request for a new prompt: the pane's settings, earlier turns with an answer, then
    /// the prompt (the one builder, `settings::build`).
    /// A cut answer (cancelled, failed, interrupted) goes back marked as cut, so the model
    /// never takes it for a whole reply; a turn with no answer at all is left out.
    pub fn build_request(&self, prompt: &str, files: &[crate::attach::Attachment]) -> ChatRequest {
        self.build_request_for(prompt, files, false)
    }

    /// The request for a prompt; a `standalone` one (a bake-off case) carries no conversation,
    /// and a case is never context for another turn.
    pub fn build_request_for(
        &self,
        prompt: &str,
        files: &[crate::attach::Attachment],
        standalone: bool,
    ) -> ChatRequest {
        let earlier: Vec<&Turn> = if standalone {
            Vec::new()
        } else {
            self.turns.iter().filter(|t| !t.standalone).collect()
        };
        let answers: Vec<std::borrow::Cow<'_, str>> = earlier
            .iter()
            .map(|t| match &t.state {
                TurnState::Done(_) => t.text().into(),
                TurnState::Cancelled if !t.text().is_empty() => {
                    format!("{}\n\n{CUT_BY_USER}", t.text()).into()
                }
                TurnState::Failed(_) if !t.text().is_empty() => {
                    format!("{}\n\n{CUT_SHORT}", t.text()).into()
                }
                _ => "".into(),
            })
            .collect();
        let history = earlier.iter().zip(&answers).map(|(t, a)| {
            (
                crate::settings::Prompt::new(&t.prompt, &t.attachments),
                a.as_ref(),
            )
        });
        crate::settings::build(
            &self.model,
            &self.settings,
            history,
            crate::settings::Prompt::new(prompt, files),
        )
    }
}

/// Why the model picker is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerMode {
    /// Replace the focused pane's model.
    Replace,
    /// Add a pane.
    Add,
}

/// Fuzzy model picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    /// Why it is open.
    pub mode: PickerMode,
    /// Typed query.
    pub query: String,
    /// Highlighted row.
    pub selected: usize,
}

/// One endpoint's fixed labels in the health panel.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointLabel {
    /// Provider slug (for fault injection).
    pub slug: String,
    /// Provider display name.
    pub provider: String,
    /// Model id.
    pub model: String,
    /// USD per million prompt tokens.
    pub prompt_price: f64,
    /// USD per million completion tokens.
    pub completion_price: f64,
    /// The server publishes no prices.
    pub price_unknown: bool,
}

/// What the health panel shows: endpoint labels and the latest snapshot.
#[derive(Debug, Clone)]
pub struct HealthView {
    /// Labels per endpoint id.
    pub labels: Vec<EndpointLabel>,
    /// Highlighted row (the target of fault keys).
    pub selected: usize,
    /// The latest published snapshot.
    pub snapshot: crate::routing::HealthSnapshot,
    /// The endpoints the snapshot describes (what a panel's preview plans over).
    pub registry: crate::routing::EndpointRegistry,
    /// Observed from a gateway's responses (OpenRouter routes), not routed by us.
    pub observed: bool,
    /// Columns scrolled sideways (←/→) when the table is wider than the screen.
    pub hscroll: u16,
}

/// Severity of a status-bar notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Neutral.
    Info,
    /// Something failed.
    Error,
}

/// The whole workbench.
pub struct App {
    /// Panes, left to right.
    pub panes: Vec<Pane>,
    /// Index of the focused pane.
    pub focus: usize,
    /// Composer target.
    pub target: Target,
    /// The prompt editor.
    pub composer: TextBuffer,
    /// The terminal's size (columns, rows), from the last resize.
    pub size: (u16, u16),
    /// Open popup.
    pub layers: Vec<Box<dyn super::layers::Layer>>,
    /// Last notice.
    pub notice: Option<(String, Level)>,
    /// Whether the app captures the mouse (wheel scrolling) or leaves it to the terminal.
    pub mouse_capture: bool,
    /// Models the source offers.
    pub catalog: Vec<Model>,
    /// Short description of the source (e.g. "simulated fleet").
    pub source_label: String,
    /// Set when the user asked to quit.
    pub quitting: bool,
    /// Animation frame counter, advanced by ticks while requests run.
    pub spinner: u64,
    /// Endpoint health, when requests are routed locally.
    pub health: Option<HealthView>,
    /// Settings a new pane starts with (the command line's).
    pub defaults: crate::settings::RequestSettings,
    /// The dialect requests are sent in (what a panel's body preview shows).
    pub server_kind: crate::client::ServerKind,
    /// Whether F6 can inject faults (only into the simulated fleet).
    pub faults: bool,
    /// What the user saved from the panels: schemas and routing presets.
    pub library: Library,
    /// The named styles every draw uses.
    pub theme: crate::theme::Theme,
    /// The themes there are and how the one drawn is chosen (F12 moves to the next).
    pub look: crate::theme::Look,
    /// The keys of a sequence begun (`Ctrl+W` of `Ctrl+W l`), waiting for the next.
    pub pending_keys: Vec<ratatui::crossterm::event::KeyEvent>,
    /// What a second Ctrl+C in a row does (said in the status bar by the first).
    pub armed: Option<Armed>,
    /// The conversation on screen, as history knows it.
    pub conversation: crate::history::writer::Head,
    /// The next prompt's number in the conversation.
    pub next_seq: u32,
    /// Whether history is kept (the status bar says when it is not).
    pub recording: Recording,
    /// The focused pane fills the width (the others keep streaming, unseen).
    pub zoom: bool,
    /// Tokens and cost of the answers this run received (kept as they end, so the status bar
    /// never sums the transcript; spent stays spent when a turn is retried or a pane closed).
    pub run: crate::history::Totals,
    /// Earlier prompts, oldest first (this run's and the history's), for Up / Ctrl+P.
    pub prompts: Vec<String>,
    /// The earlier prompt the composer shows while walking them.
    pub walk: Option<usize>,
    /// What the next message carries, in order (the F5 panel lists them).
    pub attachments: Vec<crate::attach::Attachment>,
    /// Attachments still being read (a message is not sent until they are in).
    pub attach_loading: usize,
    /// Preview pictures of images, by content hash.
    pub thumbs: std::collections::HashMap<String, Arc<image::DynamicImage>>,
    /// Caps and downscaling of attachments (`[attachments]`).
    pub attach_limits: crate::attach::Limits,
    /// Attachments larger than this are kept in history by origin only, not their bytes.
    pub attach_keep_bytes: u64,
    /// How pictures are drawn in this terminal (half-blocks unless it says it can do better).
    pub image_picker: ratatui_image::picker::Picker,
    /// The free tier's count and limits, where a gateway routes (its `:free` limits apply).
    pub free: Option<FreeState>,
    /// The prompt a free-tier warning held back: sending it again sends it anyway.
    pub free_confirm: Option<String>,
    /// Wall time in ms, set before each message (so `update` stays a function of its input).
    pub now_ms: i64,
    /// A model offered in place of a pane's (a free variant that ended names its paid slug):
    /// F8 opens on it.
    pub offer: Option<String>,
    /// The bake-off's votes: each case (turn index) and the pane voted its best answer.
    pub votes: std::collections::HashMap<usize, PaneId>,
    /// The catalog's search index, made when the catalog arrives (not per keystroke).
    pub catalog_index: crate::wire::catalog::SearchIndex,
    /// A gateway routes (OpenRouter, the fleet's aggregator): it lists each model's endpoints.
    pub gateway: bool,
    /// When the catalog was fetched (ms), and whether it is the disk cache of an earlier run.
    pub catalog_age: Option<(i64, bool)>,
    /// Each model's endpoints listing, as the catalog browser asked for it.
    pub endpoints: std::collections::HashMap<String, Listing>,
    next_pane: PaneId,
    next_req: ReqId,
}

/// A model's endpoints listing (`GET /models/{id}/endpoints`).
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    /// Asked for.
    Loading,
    /// What the gateway listed.
    Ready(Box<crate::wire::catalog::ModelEndpoints>),
    /// Why there is none.
    Failed(String),
}

/// The free tier as the workbench sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FreeState {
    /// `:free` requests sent (by every Switchyard on this machine, as of the last load).
    pub counter: crate::free_tier::Counter,
    /// The limits that apply (the key's, once `GET /key` has answered).
    pub limits: crate::free_tier::Limits,
    /// What `GET /key` said last.
    pub key: Option<crate::wire::account::KeyInfo>,
    /// A `GET /key` is on its way.
    pub asking: bool,
}

/// Whether this run keeps history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recording {
    /// Every pane not set otherwise is kept.
    On,
    /// The user said `--no-history` (or `[history] enabled = false`).
    Off,
    /// The history could not be opened; why.
    Unavailable(String),
}

/// What a second Ctrl+C does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Armed {
    /// Cancel every running stream.
    CancelAll,
    /// Quit.
    Quit,
}

/// What the user saved from the panels, offered back by them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Library {
    /// JSON schemas (the config directory's `schemas/`), for the structured-output panel.
    pub schemas: Vec<crate::schema_store::SchemaFile>,
    /// Routing presets by name (`presets.json`), for the routing panel.
    pub presets: crate::preset_store::Presets,
}

fn fresh_conversation() -> crate::history::writer::Head {
    crate::history::writer::Head {
        uid: crate::history::new_uid(),
        title: String::new(),
        created_ms: crate::history::now_ms(),
        forked_from: None,
    }
}

/// What follows a partial answer the user stopped, when it is sent back as history.
pub const CUT_BY_USER: &str = "[this answer was cut off: the user stopped it]";
/// What follows a partial answer that failed, when it is sent back as history.
pub const CUT_SHORT: &str = "[this answer was cut off before it finished]";

/// Largest paste the composer accepts; larger text belongs in an attachment.
pub const MAX_PASTE_BYTES: usize = 2 * 1024 * 1024;
/// Earlier prompts kept for Up / Ctrl+P.
pub const MAX_PROMPTS: usize = 1000;
/// Most panes on screen.
pub const MAX_PANES: usize = 8;

impl App {
    /// The input modalities the model list gives `model` (None: not listed, or it says none).
    pub fn catalog_inputs(&self, model: &str) -> Option<&[String]> {
        let a = self
            .catalog
            .iter()
            .find(|m| m.id == model)?
            .architecture
            .as_ref()?;
        (!a.input_modalities.is_empty()).then_some(a.input_modalities.as_slice())
    }

    /// A workbench with one pane per model.
    pub fn new(models: &[String], source_label: impl Into<String>) -> Self {
        let mut app = Self {
            panes: Vec::new(),
            focus: 0,
            target: Target::All,
            composer: TextBuffer::new(),
            size: (80, 24),
            layers: Vec::new(),
            notice: None,
            mouse_capture: true,
            catalog: Vec::new(),
            source_label: source_label.into(),
            quitting: false,
            spinner: 0,
            health: None,
            defaults: Default::default(),
            server_kind: crate::client::ServerKind::OpenRouter,
            faults: false,
            library: Library::default(),
            theme: crate::theme::Theme::default(),
            look: crate::theme::Look::default(),
            pending_keys: Vec::new(),
            armed: None,
            conversation: fresh_conversation(),
            next_seq: 0,
            recording: Recording::On,
            zoom: false,
            run: Default::default(),
            prompts: Vec::new(),
            walk: None,
            attachments: Vec::new(),
            attach_loading: 0,
            thumbs: Default::default(),
            attach_limits: Default::default(),
            image_picker: ratatui_image::picker::Picker::halfblocks(),
            attach_keep_bytes: 32 << 20,
            free: None,
            free_confirm: None,
            now_ms: 0,
            offer: None,
            votes: Default::default(),
            catalog_index: Default::default(),
            gateway: false,
            catalog_age: None,
            endpoints: Default::default(),
            next_pane: 1,
            next_req: 1,
        };
        for m in models.iter().take(MAX_PANES) {
            app.add_pane(m.clone());
        }
        app
    }

    /// Whether a settings panel is open (it takes the panel's place on screen).
    pub fn has_panel(&self) -> bool {
        self.layers
            .iter()
            .any(|l| l.placement() == super::layers::Placement::Panel)
    }

    /// The open layer of type `T` (a panel, the picker, …), topmost first.
    pub fn layer<T: super::layers::Layer>(&self) -> Option<&T> {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.as_any().downcast_ref())
    }

    /// The open layer of type `T`, to change it.
    pub fn layer_mut<T: super::layers::Layer>(&mut self) -> Option<&mut T> {
        self.layers
            .iter_mut()
            .rev()
            .find_map(|l| l.as_any_mut().downcast_mut())
    }

    /// Appends a pane; returns its id.
    pub fn add_pane(&mut self, model: String) -> PaneId {
        let id = self.next_pane;
        self.next_pane += 1;
        let mut pane = Pane::new(id, model);
        pane.settings = self.defaults.clone();
        self.panes.push(pane);
        id
    }

    /// A fresh request id.
    pub fn next_req_id(&mut self) -> ReqId {
        let id = self.next_req;
        self.next_req += 1;
        id
    }

    /// The pane with this id.
    pub fn pane_mut(&mut self, id: PaneId) -> Option<&mut Pane> {
        self.panes.iter_mut().find(|p| p.id == id)
    }

    /// The focused pane.
    pub fn focused(&self) -> Option<&Pane> {
        self.panes.get(self.focus)
    }

    /// The whole screen.
    pub fn area(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }

    /// The composer's text.
    pub fn composer_text(&self) -> String {
        self.composer.text()
    }

    /// Replaces the panes with a conversation read back from history, to continue it.
    /// Settings that do not read back (an older or edited record) become the defaults, said
    /// in the returned warning.
    pub fn open_conversation(&mut self, conv: &crate::history::Conversation) -> Option<String> {
        let mut warning = None;
        let mut panes: Vec<Pane> = Vec::new();
        for rec in conv.panes.iter().take(MAX_PANES) {
            let mut pane = Pane::new(PaneId::from(rec.slot), rec.model.clone());
            pane.settings = match serde_json::from_value::<crate::settings::RequestSettings>(
                rec.settings.clone(),
            ) {
                Ok(s) if s.check().is_ok() => s,
                _ => {
                    warning = Some(format!(
                        "{}: the saved settings did not read back; the defaults are used",
                        rec.model
                    ));
                    self.defaults.clone()
                }
            };
            panes.push(pane);
        }
        for turn in &conv.turns {
            let files: crate::attach::Files = turn
                .attachments
                .iter()
                .map(crate::history::AttachmentRecord::attachment)
                .collect();
            for m in &turn.messages {
                if let Some(p) = panes.iter_mut().find(|p| p.id == PaneId::from(m.slot)) {
                    let mut t = Turn::restored(turn.prompt.clone(), &m.end);
                    t.attachments = files.clone();
                    p.turns.push(t);
                }
            }
        }
        for p in &mut panes {
            p.routed_from = p.turns.len();
        }
        if panes.is_empty() {
            return Some("that conversation has no panes to open".into());
        }
        self.next_pane = panes.iter().map(|p| p.id).max().unwrap_or(0) + 1;
        self.panes = panes;
        self.focus = 0;
        self.next_seq = conv.turns.iter().map(|t| t.seq + 1).max().unwrap_or(0);
        self.conversation = crate::history::writer::Head {
            uid: conv.uid.clone(),
            title: conv.title.clone(),
            created_ms: conv.created_ms,
            forked_from: conv.forked_from.clone(),
        };
        warning
    }

    /// Starts a new, empty conversation in the same panes.
    pub fn new_conversation(&mut self) {
        for p in &mut self.panes {
            p.turns.clear();
            p.routed_from = 0;
            p.scroll = Scroll::Follow;
        }
        self.conversation = fresh_conversation();
        self.next_seq = 0;
    }

    /// Drops preview pictures no attachment of the next prompt needs (sent or removed ones):
    /// only the composer's attachments are previewed.
    pub fn forget_unused_thumbs(&mut self) {
        let attachments = &self.attachments;
        self.thumbs
            .retain(|hash, _| attachments.iter().any(|a| &a.hash == hash));
    }

    /// Posts a notice to the status bar.
    pub fn notify(&mut self, msg: impl Into<String>, level: Level) {
        self.notice = Some((msg.into(), level));
    }
}
