//! The pure reducer: a message changes state and returns effects for the runtime to carry out.

use super::keymap::{Action, Context, EditKey, key_for, typed_char};
use super::panels::PanelKind;
use super::state::*;
use crate::client::Answer;
use crate::history::writer::Op;
use crate::markdown;
use crate::wire::catalog::{Model, fuzzy_filter};
use crate::wire::chunk::StreamEvent;
use crate::wire::request::ChatRequest;
use ratatui::crossterm::event::{KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use std::time::Duration;

/// Everything that can happen to the workbench.
#[derive(Debug)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// Bracketed paste.
    Paste(String),
    /// A mouse event.
    Mouse(MouseEvent),
    /// The terminal was resized to (columns, rows).
    Resize(u16, u16),
    /// The terminal's background, as it answered OSC 11.
    Background(crate::theme::Background),
    /// A stream event for a request, `at` measured from the request's start.
    Stream {
        /// Pane the request belongs to.
        pane: PaneId,
        /// The request.
        req: ReqId,
        /// Time since the request started.
        at: Duration,
        /// What arrived, in order (one network read's worth).
        events: Vec<StreamEvent>,
    },
    /// A request ended.
    Ended {
        /// Pane the request belongs to.
        pane: PaneId,
        /// The request.
        req: ReqId,
        /// Its outcome.
        outcome: Box<Answer>,
    },
    /// The source's catalog arrived (or failed).
    Catalog(Result<Vec<Model>, String>),
    /// A catalog read from the disk cache, fetched at this time (ms); the live one follows.
    CatalogCached(Vec<Model>, i64),
    /// A model's endpoints listing arrived (or failed).
    Endpoints(String, Result<crate::wire::catalog::ModelEndpoints, String>),
    /// A cases file read for the bake-off view (or why it could not be).
    Cases(Result<crate::bakeoff::cases::Cases, String>),
    /// What `GET /key` said (or why it could not).
    KeyInfo(Result<crate::wire::account::KeyInfo, String>),
    /// Local routing started an attempt on an endpoint.
    Attempt {
        /// Pane.
        pane: PaneId,
        /// Request.
        req: ReqId,
        /// The router's endpoint id (the conversation's next request prefers it).
        endpoint: u32,
        /// Provider display name.
        provider: String,
        /// Model served.
        model: String,
    },
    /// Local routing moved on from a failed attempt.
    Rerouted {
        /// Pane.
        pane: PaneId,
        /// Request.
        req: ReqId,
        /// What happened, for the pane.
        note: String,
        /// The partial text was discarded (mid-stream restart).
        restart: bool,
    },
    /// A new health snapshot.
    Health(Box<HealthView>),
    /// The routing explanation of a request (sent just before it ends).
    Why {
        /// Pane.
        pane: PaneId,
        /// Request.
        req: ReqId,
        /// Lines of the explanation.
        lines: Vec<String>,
    },
    /// A notice from the runtime (e.g. clipboard failure).
    Notice(String, Level),
    /// The history writer answered or reported.
    History(Box<crate::history::writer::Event>),
    /// An attachment was read, or why it was not.
    Attached(Result<Box<crate::attach::load::Loaded>, String>),
    /// A pasted path named no file: the text goes into the prompt after all.
    PasteBack(String),
    /// What completes a path typed in the attachments panel.
    Completions {
        /// The path as typed when Tab was pressed.
        input: String,
        /// Matching paths (directories end with `/`).
        list: Vec<String>,
    },
    /// Time passed while requests run (animates spinners).
    Tick,
    /// Quit (signal).
    Quit,
}

/// Work for the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start streaming `request` for a pane.
    Start {
        /// Pane.
        pane: PaneId,
        /// Request id.
        req: ReqId,
        /// Body.
        request: Box<ChatRequest>,
        /// The body with its PDFs as their extracted text, for a model no endpoint of which
        /// reads files (Switchyard's router uses it only then).
        text_alternative: Option<Box<ChatRequest>>,
        /// The local router's endpoint that answered this conversation's last turn, so it stays
        /// there while healthy (prompt caches keep working).
        affinity: Option<u32>,
        /// Only EU processing.
        eu: bool,
    },
    /// Abort a request (closes its connection).
    Cancel(ReqId),
    /// Put text on the clipboard.
    Copy(String),
    /// Turn mouse capture on or off.
    MouseCapture(bool),
    /// Inject a fault into the simulated fleet (`None` clears run-time faults).
    Fault(Option<FaultRequest>),
    /// Save the user's routing presets (all of them).
    SavePresets(Box<crate::preset_store::Presets>),
    /// Save a schema as `name.json` in the config directory's `schemas/`.
    SaveSchema {
        /// File name without `.json`.
        name: String,
        /// The schema text.
        text: String,
    },
    /// Write to (or ask) the history.
    History(Box<crate::history::writer::Op>),
    /// Read an attachment off the UI task (`paste`: put this text in the prompt instead if the
    /// path names no file).
    Attach {
        /// The path or URL.
        target: crate::attach::load::Target,
        /// Bytes the next prompt already carries.
        already: u64,
        /// The caps.
        limits: crate::attach::Limits,
        /// The pasted text it came from.
        paste: Option<String>,
    },
    /// List the paths that complete what is typed.
    Complete(String),
    /// Read the clipboard's image as an attachment.
    ClipboardImage {
        /// Bytes the next prompt already carries.
        already: u64,
        /// The caps.
        limits: crate::attach::Limits,
    },
    /// Keep the panels' settings for the next run.
    SaveSettings(Box<crate::settings_store::SavedSettings>),
    /// Save the free tier's count (merged with what another process saved).
    SaveFreeTier(Box<crate::free_tier::Counter>),
    /// Ask the gateway for the key's limits and usage (`GET /key`); answered by `Msg::Key`.
    FetchKey,
    /// Ask for a model's endpoints listing; answered by `Msg::Endpoints`.
    FetchEndpoints(String),
    /// Read a bake-off's cases file (off the UI task); answered by `Msg::Cases`.
    LoadCases(std::path::PathBuf),
    /// Write a report to a file (off the UI task; the outcome comes back as a notice).
    WriteReport {
        /// Where.
        path: std::path::PathBuf,
        /// What.
        text: String,
    },
    /// Give the terminal back and stop until `fg` (SIGTSTP), then take it again and redraw.
    Suspend,
    /// Leave.
    Quit,
}

/// A fault the user asked for from the health panel.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRequest {
    /// Provider slug.
    pub slug: String,
    /// Provider display name (for the notice).
    pub provider: String,
    /// Model id.
    pub model: String,
    /// Which fault: `outage`, `rate_limit`, `errors` or `cut`.
    pub kind: &'static str,
}

/// Applies one message.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(app, key, &mut fx),
        Msg::Key(_) => {}
        Msg::Resize(w, h) => app.size = (w, h),
        Msg::Background(bg) => {
            // The terminal said its background: `auto` follows it.
            app.look.background = Some(bg);
            if app.look.auto() {
                app.theme = app.look.theme();
            }
        }
        Msg::Paste(text) => on_paste(app, text, &mut fx),
        Msg::Mouse(m) => on_mouse(app, m),
        Msg::Stream {
            pane,
            req,
            at,
            events,
        } => {
            for event in events {
                on_stream(app, pane, req, at, event, &mut fx)
            }
        }
        Msg::Ended { pane, req, outcome } => on_ended(app, pane, req, *outcome, &mut fx),
        Msg::Catalog(Ok(models)) => {
            app.catalog_index = crate::wire::catalog::SearchIndex::new(&models);
            app.catalog = models;
            app.catalog_age = Some((app.now_ms, false));
        }
        Msg::CatalogCached(models, at) => {
            // The live list wins whenever it came first.
            if app.catalog.is_empty() {
                app.catalog_index = crate::wire::catalog::SearchIndex::new(&models);
                app.catalog = models;
                app.catalog_age = Some((at, true));
            }
        }
        Msg::Endpoints(model, res) => {
            let l = match res {
                Ok(e) => crate::app::state::Listing::Ready(Box::new(e)),
                Err(e) => crate::app::state::Listing::Failed(e),
            };
            app.endpoints.insert(model, l);
        }
        Msg::Catalog(Err(e)) => {
            let kept = if app.catalog.is_empty() {
                ""
            } else {
                "; the list kept from an earlier run stays"
            };
            app.notify(format!("model list unavailable: {e}{kept}"), Level::Error)
        }
        Msg::Cases(Ok(c)) => super::bakeoff_view::run_cases(app, c, &mut fx),
        Msg::Cases(Err(e)) => app.notify(format!("cases not run: {e}"), Level::Error),
        Msg::KeyInfo(k) => {
            if let Some(f) = &mut app.free {
                f.asking = false;
                // Without an answer the stricter assumption stands.
                if let Ok(k) = k {
                    if let Some(tier) = k.is_free_tier {
                        f.limits = crate::free_tier::Limits::for_key(tier);
                    }
                    f.key = Some(k);
                }
            }
        }
        Msg::Notice(m, l) => app.notify(m, l),
        Msg::History(e) => on_history(app, *e),
        Msg::Attached(r) => super::attach_view::on_attached(app, r),
        Msg::PasteBack(text) => {
            app.attach_loading = app.attach_loading.saturating_sub(1);
            app.composer.insert_str(&text);
        }
        Msg::Completions { input, list } => super::attach_view::on_completions(app, input, list),
        Msg::Attempt {
            pane,
            req,
            endpoint,
            provider,
            model,
        } => {
            let on = app.recording == Recording::On;
            if let Some(t) = active_turn(app, pane, req) {
                t.attempts += 1;
                t.endpoint = Some(endpoint);
                t.served.provider = Some(provider.clone());
                t.served.model = Some(model.clone());
                if on {
                    record(
                        &mut fx,
                        Op::Attempt {
                            req,
                            attempt: crate::history::Attempt { provider, model },
                        },
                    );
                }
            }
        }
        Msg::Rerouted {
            pane,
            req,
            note,
            restart,
        } => {
            let on = app.recording == Recording::On;
            if let Some(t) = active_turn(app, pane, req) {
                if restart {
                    // The cut answer is replaced by the next attempt's whole answer.
                    t.answer.replace(String::new());
                    t.ttft = None;
                    t.chunks = 0;
                    t.est_tokens = 0;
                    t.appended = 0;
                    t.state = TurnState::Waiting { keepalives: 0 };
                    if on {
                        record(&mut fx, Op::Restart { req });
                    }
                }
                t.notes
                    .push(crate::safe_text::neutralise(&note).into_owned());
            }
        }
        Msg::Health(h) => {
            // Keep the user's selection across snapshots.
            let (selected, hscroll) = app
                .health
                .as_ref()
                .map_or((0, 0), |v| (v.selected, v.hscroll));
            let mut h = *h;
            h.selected = selected.min(h.labels.len().saturating_sub(1));
            h.hscroll = hscroll;
            app.health = Some(h);
            // The preview follows live health.
            super::layers::refresh_all(app);
        }
        Msg::Why { pane, req, lines } => {
            if let Some(t) = active_turn(app, pane, req) {
                t.why = lines;
            }
        }
        Msg::Tick => app.spinner = app.spinner.wrapping_add(1),
        Msg::Quit => quit(app, &mut fx),
    }
    fx
}

/// The running turn of `pane` if it belongs to `req`; late messages of other requests get None.
fn active_turn(app: &mut App, pane: PaneId, req: ReqId) -> Option<&mut Turn> {
    app.pane_mut(pane)
        .and_then(|p| p.turns.last_mut())
        .filter(|t| t.req == req && t.state.is_active())
}

/// Hands an op to the history writer.
fn record(fx: &mut Vec<Effect>, op: Op) {
    fx.push(Effect::History(Box::new(op)));
}

pub(crate) fn quit(app: &mut App, fx: &mut Vec<Effect>) {
    // Streams cut by the quit are kept, marked cancelled.
    for i in 0..app.panes.len() {
        cancel_pane(app, i, fx);
    }
    app.quitting = true;
    fx.push(Effect::Quit);
}

fn on_key(app: &mut App, key: KeyEvent, fx: &mut Vec<Effect>) {
    use super::keymap::Resolved;
    // Where the key is pressed: the top overlay or panel, else the workbench.
    let ctx = app
        .layers
        .last()
        .map(|l| l.context())
        .unwrap_or(Context::Workbench);
    let map = super::keymap::active();
    let (action, typed) = match map.resolve(ctx, &app.pending_keys, &key) {
        Resolved::Pending => {
            app.pending_keys.push(key);
            let so_far: Vec<super::keymap::Key> = app
                .pending_keys
                .iter()
                .map(|e| super::keymap::Key {
                    code: e.code,
                    mods: e.modifiers,
                })
                .collect();
            app.notify(
                format!(
                    "{} … (the next key finishes it; another cancels)",
                    super::keymap::seq_name(&so_far)
                ),
                Level::Info,
            );
            return;
        }
        Resolved::Action(a) if !app.pending_keys.is_empty() => {
            app.pending_keys.clear();
            app.notice = None;
            (Some(a), None)
        }
        // A sequence broken off: its keys are dropped and this one counts alone.
        Resolved::Unbound if !app.pending_keys.is_empty() => {
            app.pending_keys.clear();
            app.notice = None;
            (map.action_for(ctx, &key), typed_char(&key))
        }
        Resolved::Action(a) => (Some(a), typed_char(&key)),
        Resolved::Unbound => (None, typed_char(&key)),
    };
    // The top overlay or panel takes the keys while it is open.
    if super::layers::key_to_top(app, action, typed, fx) {
        return;
    }
    if action != Some(Action::Interrupt) {
        app.armed = None;
    }
    let Some(action) = action.or_else(|| typed.map(|c| Action::Edit(EditKey::Char(c)))) else {
        return;
    };
    match action {
        Action::Send => send(app, fx),
        Action::Newline => app.composer.newline(),
        Action::FocusNext if !app.panes.is_empty() => app.focus = (app.focus + 1) % app.panes.len(),
        Action::FocusPrev if !app.panes.is_empty() => {
            app.focus = (app.focus + app.panes.len() - 1) % app.panes.len()
        }
        Action::FocusNext | Action::FocusPrev => {}
        Action::ToggleTarget => {
            app.target = match app.target {
                Target::All => Target::Focused,
                Target::Focused => Target::All,
            }
        }
        Action::Cancel => cancel_focused(app, fx),
        Action::Interrupt => interrupt(app, fx),
        Action::PickModel => open_picker(app, PickerMode::Replace),
        Action::AddPane => {
            if app.panes.len() >= MAX_PANES {
                app.notify(format!("at most {MAX_PANES} panes"), Level::Error);
            } else {
                open_picker(app, PickerMode::Add)
            }
        }
        Action::ClosePane => close_focused(app, fx),
        Action::ScrollUp(n) => scroll_focused(app, -(n as i64)),
        Action::ScrollDown(n) => scroll_focused(app, n as i64),
        Action::ScrollPageUp => {
            let h = page_height(app);
            scroll_focused(app, -(h as i64))
        }
        Action::ScrollPageDown => {
            let h = page_height(app);
            scroll_focused(app, h as i64)
        }
        Action::ScrollTop => {
            if let Some(p) = app.panes.get_mut(app.focus) {
                p.scroll = Scroll::At(0)
            }
        }
        Action::ScrollBottom => {
            if let Some(p) = app.panes.get_mut(app.focus) {
                p.scroll = Scroll::Follow
            }
        }
        Action::CopyAnswer => copy_answer(app, None, fx),
        Action::CopyCode(n) => copy_answer(app, Some(n), fx),
        Action::ToggleMouse => {
            app.mouse_capture = !app.mouse_capture;
            let k = super::keymap::key_for(Action::ToggleMouse);
            app.notify(
                if app.mouse_capture {
                    format!("mouse: wheel scrolls panes ({k} gives selection back to the terminal)")
                } else {
                    format!("mouse: terminal selection enabled ({k} turns wheel scrolling back on)")
                },
                Level::Info,
            );
            fx.push(Effect::MouseCapture(app.mouse_capture));
        }
        Action::NextTheme => {
            let next = app.look.set.next_after(&app.theme.name).clone();
            app.look.asked = next.name.clone();
            app.theme = next.at_depth(app.look.depth);
            let k = super::keymap::key_for(Action::NextTheme);
            app.notify(format!("theme: {} ({k}: next)", next.name), Level::Info);
        }
        Action::Retry => retry_focused(app, fx),
        Action::Help => app.layers.push(Box::new(super::layers::Popup::Help(0))),
        Action::Why => {
            if app
                .focused()
                .and_then(|p| p.turns.last())
                .is_some_and(|t| !t.why.is_empty())
            {
                app.layers.push(Box::new(super::layers::Popup::Why))
            } else {
                app.notify(
                    "nothing to explain yet: routing explanations come with --route-locally",
                    Level::Error,
                )
            }
        }
        Action::Health => {
            if app.health.is_some() {
                app.layers.push(Box::new(super::layers::Health))
            } else {
                app.notify(
                    "no endpoint health here: it comes with the fleet, OpenRouter or --route-locally",
                    Level::Error,
                )
            }
        }
        Action::Edit(EditKey::Up) if walking(app) || app.composer.is_empty() => {
            walk_prompts(app, -1)
        }
        Action::Edit(EditKey::Down) if walking(app) => walk_prompts(app, 1),
        Action::Edit(e) => edit_composer(&mut app.composer, e),
        Action::RoutingPanel => super::layers::open_panel(app, PanelKind::Routing),
        Action::PrivacyPanel => super::layers::open_panel(app, PanelKind::Privacy),
        Action::StructuredPanel => super::layers::open_panel(app, PanelKind::Structured),
        Action::Quit => quit(app, fx),
        Action::History => super::history_view::Browser::open(app, fx),
        Action::Catalog => super::catalog_view::Browser::open(app, fx),
        Action::Bakeoff => super::bakeoff_view::Board::open(app),
        Action::Attachments => super::attach_view::AttachPanel::open(app),
        Action::Zoom => {
            app.zoom = !app.zoom;
            if app.zoom && app.panes.len() > 1 {
                app.notify(
                    format!(
                        "zoomed: {} · Tab moves the zoom · {} gives every pane back",
                        app.focused().map(|p| p.model.as_str()).unwrap_or("-"),
                        key_for(Action::Zoom)
                    ),
                    Level::Info,
                );
            }
        }
        Action::PromptPrev => walk_prompts(app, -1),
        Action::PromptNext => walk_prompts(app, 1),
        Action::Suspend => fx.push(Effect::Suspend),
        Action::NewConversation => {
            if app.panes.iter().any(|p| p.active_turn().is_some()) {
                app.notify(
                    "still streaming: stop the streams (Ctrl+C twice) before a new conversation",
                    Level::Error,
                );
            } else {
                app.new_conversation();
                app.notify(
                    format!(
                        "new conversation · the last one is in history ({})",
                        key_for(Action::History)
                    ),
                    Level::Info,
                );
            }
        }
        // Keys of other contexts.
        Action::Select(_)
        | Action::Sideways(_)
        | Action::Fault(_)
        | Action::ClearFaults
        | Action::Choose
        | Action::Apply
        | Action::NextField(_)
        | Action::Erase
        | Action::Toggle
        | Action::Rename
        | Action::Delete
        | Action::Fork
        | Action::Complete
        | Action::Reorder(_)
        | Action::PasteImage
        | Action::PdfEngine
        | Action::ReplaceModel
        | Action::Sort
        | Action::Vote
        | Action::SaveReport
        | Action::RunCases
        | Action::Close => {}
    }
}

/// Providers that serve the focused pane's models, as the router knows them.
pub(crate) fn providers_of(app: &App) -> Vec<String> {
    let Some(p) = app.focused() else {
        return Vec::new();
    };
    let models: Vec<&str> = std::iter::once(p.model.as_str())
        .chain(p.settings.fallbacks.iter().map(String::as_str))
        .collect();
    let mut out: Vec<String> = Vec::new();
    if let Some(h) = &app.health {
        for l in &h.labels {
            if models.contains(&l.model.as_str()) && !out.contains(&l.slug) {
                out.push(l.slug.clone());
            }
        }
    }
    out
}

/// Applies the panel to the focused pane or every pane (and new panes), or says which fields
/// stop it.
/// What the panels have set, to keep for the next run.
pub(crate) fn saved_settings(app: &App) -> crate::settings_store::SavedSettings {
    crate::settings_store::SavedSettings {
        defaults: app.defaults.clone(),
        models: app
            .panes
            .iter()
            .map(|p| (p.model.clone(), p.settings.clone()))
            .collect(),
    }
}

fn send(app: &mut App, fx: &mut Vec<Effect>) {
    let prompt = app.composer_text();
    if prompt.trim().is_empty() {
        let msg = match app.attachments.len() {
            0 => "nothing to send: the prompt is empty".to_string(),
            n => format!(
                "type what to ask about the {}, then send",
                crate::spelling::plural(n, "attachment")
            ),
        };
        app.notify(msg, Level::Error);
        return;
    }
    if app.attach_loading > 0 {
        // Never a half-built message: it waits for every file being read.
        app.notify(
            format!(
                "not sent: {} still being read; send again when they are listed",
                crate::spelling::plural(app.attach_loading, "attachment")
            ),
            Level::Error,
        );
        return;
    }
    if app.panes.is_empty() {
        app.notify(
            format!("no panes: {} adds one", key_for(Action::AddPane)),
            Level::Error,
        );
        return;
    }
    let targets: Vec<usize> = match app.target {
        Target::All => (0..app.panes.len()).collect(),
        Target::Focused => vec![app.focus.min(app.panes.len() - 1)],
    };
    // Before a send would pass the free tier's limit, say so once; the same prompt again goes.
    if let Some(f) = &app.free {
        let n = targets
            .iter()
            .filter(|&&i| crate::free_tier::is_free(&app.panes[i].model))
            .count() as u32;
        let warning = (n > 0)
            .then(|| f.counter.warning(app.now_ms, n, f.limits))
            .flatten();
        if let Some(w) = warning
            && app.free_confirm.as_deref() != Some(prompt.as_str())
        {
            app.free_confirm = Some(prompt);
            app.notify(
                format!(
                    "free tier: {w}; {} again sends anyway",
                    key_for(Action::Send)
                ),
                Level::Error,
            );
            return;
        }
    }
    app.free_confirm = None;
    let mut started = Vec::new();
    let mut busy = Vec::new();
    let first = fx.len();
    let files: crate::attach::Files = std::mem::take(&mut app.attachments).into();
    app.forget_unused_thumbs();
    for i in targets {
        if app.panes[i].active_turn().is_some() {
            // Queued, not skipped: it goes when this pane's answer ends.
            app.panes[i].queued.push_back(crate::app::state::Queued {
                prompt: prompt.clone(),
                files: files.clone(),
                standalone: false,
            });
            busy.push(app.panes[i].model.clone());
            continue;
        }
        start_turn(app, i, prompt.clone(), files.clone(), false, fx);
        started.push(i);
    }
    record_turn(app, &prompt, &started, first, fx);
    remember_prompt(app, &prompt);
    // The prompt now lives in each pane's turn or queue, so clearing the composer loses nothing.
    app.composer.clear();
    if !busy.is_empty() {
        app.notify(
            format!(
                "queued for {} (still streaming): sent when it ends",
                busy.join(", ")
            ),
            Level::Info,
        );
    } else {
        app.notice = None;
    }
}

/// Whether the composer shows an earlier prompt, unedited (Up and Down then walk on).
fn walking(app: &App) -> bool {
    app.walk
        .and_then(|i| app.prompts.get(i))
        .is_some_and(|p| *p == app.composer_text())
}

/// Shows the earlier (`-1`) or later (`1`) prompt in the composer; past the newest the
/// composer is empty again. What was typed is replaced as one undoable edit.
fn walk_prompts(app: &mut App, dir: i8) {
    if app.prompts.is_empty() {
        app.notify("no earlier prompt yet", Level::Info);
        return;
    }
    if !walking(app) {
        app.walk = None;
        if dir > 0 {
            return;
        }
    }
    let next = match (app.walk, dir) {
        (None, _) => Some(app.prompts.len() - 1),
        (Some(0), d) if d < 0 => Some(0),
        (Some(i), d) if d < 0 => Some(i - 1),
        (Some(i), _) if i + 1 < app.prompts.len() => Some(i + 1),
        (Some(_), _) => None,
    };
    app.composer.delete_all();
    if let Some(i) = next {
        app.composer.insert_str(&app.prompts[i].clone());
    }
    app.walk = next;
}

/// Keeps a sent prompt for Up / Ctrl+P (not twice in a row).
fn remember_prompt(app: &mut App, prompt: &str) {
    if app.prompts.last().map(String::as_str) != Some(prompt) {
        app.prompts.push(prompt.to_string());
    }
    // Bounded: the oldest go first.
    if app.prompts.len() > MAX_PROMPTS {
        let extra = app.prompts.len() - MAX_PROMPTS;
        app.prompts.drain(..extra);
    }
    app.walk = None;
}

/// Sends pane `i`'s next queued prompt, if it has one and is idle.
pub(crate) fn send_queued(app: &mut App, i: usize, fx: &mut Vec<Effect>) {
    let Some(p) = app.panes.get_mut(i) else {
        return;
    };
    if p.active_turn().is_some() {
        return;
    }
    let Some(q) = p.queued.pop_front() else {
        return;
    };
    let first = fx.len();
    let prompt = q.prompt;
    start_turn(app, i, prompt.clone(), q.files, q.standalone, fx);
    record_turn(app, &prompt, &[i], first, fx);
}

/// Writes a sent prompt to history before its requests leave (the op goes ahead of their
/// `Start`s); panes kept out of history are left out, and a prompt no kept pane got is not
/// written at all.
fn record_turn(app: &mut App, prompt: &str, started: &[usize], first: usize, fx: &mut Vec<Effect>) {
    // Every pane's turn carries the same shared files: the first one's are the prompt's.
    let sent: &[crate::attach::Attachment] = started
        .first()
        .and_then(|&i| app.panes[i].turns.last())
        .map_or(&[], |t| &t.attachments);
    let files: Vec<crate::history::AttachmentRecord> = sent
        .iter()
        .map(|a| crate::history::AttachmentRecord::of(a, app.attach_keep_bytes))
        .collect();
    // What history keeps the bytes of, memory lets go of once they are written.
    let release = sent
        .iter()
        .zip(&files)
        .filter(|(a, r)| a.payload.key().is_some() && (r.data.is_some() || r.stored.is_some()))
        .map(|(a, _)| a.payload.clone())
        .collect();
    let starts: Vec<crate::history::writer::Start> = started
        .iter()
        .map(|&i| &app.panes[i])
        .filter(|p| !p.settings.unrecorded)
        .filter_map(|p| {
            Some(crate::history::writer::Start {
                req: p.turns.last()?.req,
                pane: crate::history::PaneRecord {
                    slot: p.id as u32,
                    model: p.model.clone(),
                    settings: serde_json::to_value(&p.settings).unwrap_or_default(),
                },
            })
        })
        .collect();
    if starts.is_empty() || app.recording != Recording::On {
        return;
    }
    if app.conversation.title.is_empty() {
        app.conversation.title = crate::history::title_of(prompt);
    }
    let op = Op::Turn {
        head: app.conversation.clone(),
        seq: app.next_seq,
        prompt: prompt.to_string(),
        starts,
        attachments: files,
        release,
    };
    app.next_seq += 1;
    fx.insert(first, Effect::History(Box::new(op)));
}

fn start_turn(
    app: &mut App,
    idx: usize,
    prompt: String,
    files: crate::attach::Files,
    standalone: bool,
    fx: &mut Vec<Effect>,
) {
    let req = app.next_req_id();
    let refused = refuses_images(app, idx, &files);
    let pane = &mut app.panes[idx];
    if let Some(why) = refused {
        // Nothing goes to a model that cannot see the images: the pane says so.
        let mut turn = Turn::new(prompt, req);
        turn.attachments = files;
        turn.state = TurnState::Failed(crate::client::ChatError::NoRoute(why));
        turn.answer.finish();
        pane.turns.push(turn);
        pane.scroll = Scroll::Follow;
        if app.recording == Recording::On && !pane.settings.unrecorded {
            let op = pane.turns.last().expect("just pushed").finish_op();
            record(fx, op);
        }
        return;
    }
    let request = pane.build_request_for(&prompt, &files, standalone);
    // PDFs as their extracted text, for a model no endpoint of which reads files.
    let pdfs: Vec<&crate::attach::Attachment> = pane
        .turns
        .iter()
        .flat_map(|t| t.attachments.iter())
        .chain(files.iter())
        .filter(|a| a.kind == crate::attach::Kind::Pdf)
        .collect();
    let text_alternative = crate::attach::pdfs_as_text(&request, &pdfs).map(Box::new);
    let affinity = pane
        .turns
        .last()
        .filter(|t| matches!(t.state, TurnState::Done(_)))
        .filter(|_| pane.turns.len() > pane.routed_from)
        .and_then(|t| t.endpoint);
    let mut turn = Turn::new(prompt, req);
    turn.attachments = files;
    turn.standalone = standalone;
    if let Some(crate::wire::request::ResponseFormat::JsonSchema { json_schema }) =
        &request.response_format
    {
        turn.schema = Some(json_schema.schema.clone());
    }
    pane.turns.push(turn);
    pane.scroll = Scroll::Follow;
    let free = crate::free_tier::is_free(&pane.model);
    fx.push(Effect::Start {
        pane: pane.id,
        req,
        request: Box::new(request),
        text_alternative,
        affinity,
        eu: pane.settings.eu,
    });
    if free && let Some(f) = &mut app.free {
        f.counter.record(app.now_ms);
        fx.push(Effect::SaveFreeTier(Box::new(f.counter.clone())));
    }
}

/// Why pane `idx`'s model cannot be sent these images, when the catalog says it reads none
/// (with no catalog entry the route decides, and says so if it cannot).
fn refuses_images(app: &App, idx: usize, files: &[crate::attach::Attachment]) -> Option<String> {
    if !files.iter().any(|a| a.kind.is_image()) {
        return None;
    }
    let model = &app.panes[idx].model;
    let inputs = app.catalog_inputs(model)?;
    (!inputs.iter().any(|m| m == "image")).then(|| {
        format!(
            "nothing sent: {model} takes no images (its model list says {}); remove the image in {} or ask a vision model",
            inputs.join(", "),
            key_for(Action::Attachments)
        )
    })
}

/// Ctrl+C, as chat users expect: stop the focused stream (a second one stops them all); with
/// nothing streaming, clear the draft (undo brings it back); on an idle, empty screen, a
/// second one quits. The first always says in the status bar what the next will do.
fn interrupt(app: &mut App, fx: &mut Vec<Effect>) {
    let active = app
        .panes
        .iter()
        .filter(|p| p.active_turn().is_some())
        .count();
    let focused_active = app.focused().is_some_and(|p| p.active_turn().is_some());
    let armed = app.armed.take();
    if armed == Some(Armed::CancelAll) && active > 0 {
        for i in 0..app.panes.len() {
            cancel_pane(app, i, fx);
        }
        app.notify(format!("stopped {active} stream(s)"), Level::Info);
    } else if focused_active {
        cancel_focused(app, fx);
        let model = app.focused().map(|p| p.model.clone()).unwrap_or_default();
        let others = active - 1;
        if others > 0 {
            app.armed = Some(Armed::CancelAll);
            app.notify(
                // What the next key does comes first: a narrow status bar cuts the end.
                format!("Ctrl+C again stops the other {others} · stopped {model}"),
                Level::Info,
            );
        } else {
            app.notify(format!("stopped {model}"), Level::Info);
        }
    } else if active > 0 {
        app.armed = Some(Armed::CancelAll);
        app.notify(
            format!("Ctrl+C again stops the {active} running · this pane is idle"),
            Level::Info,
        );
    } else if !app.composer.is_empty() {
        app.composer.delete_all();
        app.notify(
            format!(
                "prompt cleared · {} brings it back",
                key_for(Action::Edit(EditKey::Undo))
            ),
            Level::Info,
        );
    } else if armed == Some(Armed::Quit) {
        quit(app, fx);
    } else {
        app.armed = Some(Armed::Quit);
        app.notify(
            format!(
                "Ctrl+C again quits · {} quits at once",
                key_for(Action::Quit)
            ),
            Level::Info,
        );
    }
}

pub(crate) fn cancel_pane(app: &mut App, i: usize, fx: &mut Vec<Effect>) {
    // Stopping a pane stops what waits behind it too; those prompts come back to the composer
    // (one undoable edit) rather than being lost.
    if let Some(p) = app.panes.get_mut(i)
        && !p.queued.is_empty()
    {
        let (waiting, files): (Vec<String>, Vec<crate::attach::Files>) =
            p.queued.drain(..).map(|q| (q.prompt, q.files)).unzip();
        if app.attachments.is_empty()
            && let Some(f) = files.into_iter().find(|f| !f.is_empty())
        {
            app.attachments = f.to_vec();
        }
        let sep = if app.composer.is_empty() { "" } else { "\n\n" };
        app.composer
            .insert_str(&format!("{sep}{}", waiting.join("\n\n")));
    }
    let on = app.recording == Recording::On;
    let Some(turn) = app.panes.get_mut(i).and_then(|p| p.turns.last_mut()) else {
        return;
    };
    if turn.state.is_active() {
        turn.state = TurnState::Cancelled;
        turn.answer.finish();
        fx.push(Effect::Cancel(turn.req));
        if on {
            record(fx, turn.finish_op());
        }
    }
}

fn cancel_focused(app: &mut App, fx: &mut Vec<Effect>) {
    cancel_pane(app, app.focus, fx);
}

fn close_focused(app: &mut App, fx: &mut Vec<Effect>) {
    if app.panes.len() <= 1 {
        app.notify("the last pane cannot be closed", Level::Error);
        return;
    }
    cancel_pane(app, app.focus, fx);
    app.panes.remove(app.focus);
    app.focus = app.focus.min(app.panes.len() - 1);
}

fn retry_focused(app: &mut App, fx: &mut Vec<Effect>) {
    let idx = app.focus;
    let Some(pane) = app.panes.get_mut(idx) else {
        return;
    };
    if pane.active_turn().is_some() {
        app.notify("still streaming (Esc cancels first)", Level::Error);
        return;
    }
    let Some(last) = pane.turns.pop() else {
        app.notify("nothing to retry in this pane", Level::Error);
        return;
    };
    let prompt = last.prompt.clone();
    let files = last.attachments.clone();
    let standalone = last.standalone;
    if matches!(last.state, TurnState::Done(_)) {
        // A finished answer stays; retry sends the same prompt again as a new turn.
        pane.turns.push(last);
    }
    // History keeps the failed attempt as it was; the retry is a turn of its own.
    let first = fx.len();
    start_turn(app, idx, prompt.clone(), files, standalone, fx);
    record_turn(app, &prompt, &[idx], first, fx);
}

/// A page of the focused pane: its text height, less one line kept for context.
fn page_height(app: &mut App) -> usize {
    let area = app.area();
    let cells = crate::ui::layout::screen(app, area).panes;
    cells.get(app.focus).map_or(10, |c| {
        (crate::ui::layout::inner(*c).height as usize).max(2) - 1
    })
}

fn scroll_focused(app: &mut App, delta: i64) {
    scroll_pane(app, app.focus, delta)
}

/// Moves pane `i`'s view within its transcript as laid out now; reaching the bottom resumes
/// following the tail.
pub fn scroll_pane(app: &mut App, i: usize, delta: i64) {
    let area = app.area();
    let Some(cell) = crate::ui::layout::screen(app, area).panes.get(i).copied() else {
        return;
    };
    let inner = crate::ui::layout::inner(cell);
    let p = &mut app.panes[i];
    let total = crate::ui::layout::transcript_lines(p, inner.width, &app.theme);
    let max_top = total.saturating_sub(inner.height as usize);
    let top = match p.scroll {
        Scroll::Follow => max_top,
        Scroll::At(t) => t.min(max_top),
    } as i64;
    let new_top = (top + delta).clamp(0, max_top as i64) as usize;
    p.scroll = if new_top >= max_top {
        Scroll::Follow
    } else {
        Scroll::At(new_top)
    };
}

fn copy_answer(app: &mut App, code: Option<usize>, fx: &mut Vec<Effect>) {
    let Some(turn) = app
        .focused()
        .and_then(|p| p.turns.iter().rev().find(|t| !t.text().is_empty()))
    else {
        app.notify("no answer to copy in this pane", Level::Error);
        return;
    };
    let src = match code {
        // Code blocks as shown (a structured reply's JSON block is the pretty-printed one).
        Some(_) => turn.answer.source().to_string(),
        None => turn.text().to_string(),
    };
    match code {
        None => {
            app.notify(
                format!("copied the answer ({} chars)", src.chars().count()),
                Level::Info,
            );
            fx.push(Effect::Copy(src));
        }
        Some(n) => {
            let blocks = markdown::code_blocks(&src);
            match blocks.into_iter().nth(n.saturating_sub(1)) {
                Some(b) => {
                    app.notify(
                        format!(
                            "copied code block {n} ({})",
                            if b.lang.is_empty() { "text" } else { &b.lang }
                        ),
                        Level::Info,
                    );
                    fx.push(Effect::Copy(b.code));
                }
                None => app.notify(
                    format!("the last answer has no code block {n}"),
                    Level::Error,
                ),
            }
        }
    }
}

/// What the status bar says about a paste over the composer's limit.
pub fn paste_refused(bytes: usize) -> String {
    format!(
        "paste refused: {:.1} MB is over the composer's {} MB limit (nothing was changed)",
        bytes as f64 / 1e6,
        MAX_PASTE_BYTES / (1024 * 1024)
    )
}

fn on_paste(app: &mut App, text: String, fx: &mut Vec<Effect>) {
    if text.len() > MAX_PASTE_BYTES {
        app.notify(paste_refused(text.len()), Level::Error);
        return;
    }
    // An open overlay or panel takes the paste (the picker its first line, a panel's field).
    if super::layers::paste_to_top(app, &text, fx) {
        return;
    }
    // A dropped or pasted file (or an image or PDF URL) is attached, not typed.
    if let Some(target) = super::attach_view::paste_is_target(&text) {
        super::attach_view::begin(app, target, Some(text), fx);
        return;
    }
    // One edit, however long; CR line ends (terminals send them in pastes) become newlines.
    app.composer.insert_str(&text);
}

fn edit_composer(t: &mut crate::text_edit::TextBuffer, e: EditKey) {
    match e {
        EditKey::Char(c) => t.insert_char(c),
        EditKey::Backspace => t.backspace(),
        EditKey::Delete => t.delete(),
        EditKey::DeleteWordBack => t.delete_word_back(),
        EditKey::DeleteWordForward => t.delete_word_forward(),
        EditKey::DeleteToStart => t.delete_to_line_start(),
        EditKey::DeleteToEnd => t.delete_to_line_end(),
        EditKey::Left => t.left(),
        EditKey::Right => t.right(),
        EditKey::WordLeft => t.word_left(),
        EditKey::WordRight => t.word_right(),
        EditKey::Up => {
            t.up();
        }
        EditKey::Down => {
            t.down();
        }
        EditKey::Home => t.home(),
        EditKey::End => t.end(),
        EditKey::Undo => {
            t.undo();
        }
        EditKey::Redo => {
            t.redo();
        }
    }
}

fn on_mouse(app: &mut App, m: MouseEvent) {
    let delta = match m.kind {
        MouseEventKind::ScrollUp => -3,
        MouseEventKind::ScrollDown => 3,
        MouseEventKind::Down(_) => {
            if let Some(i) = pane_at(app, m.column, m.row) {
                app.focus = i;
            }
            return;
        }
        _ => return,
    };
    if let Some(i) = pane_at(app, m.column, m.row) {
        scroll_pane(app, i, delta);
    }
}

fn pane_at(app: &mut App, x: u16, y: u16) -> Option<usize> {
    let area = app.area();
    crate::ui::layout::screen(app, area)
        .panes
        .iter()
        .position(|a| x >= a.x && x < a.x + a.width && y >= a.y && y < a.y + a.height)
}

fn on_stream(
    app: &mut App,
    pane: PaneId,
    req: ReqId,
    at: Duration,
    event: StreamEvent,
    fx: &mut Vec<Effect>,
) {
    let on = app.recording == Recording::On;
    let Some(turn) = active_turn(app, pane, req) else {
        // A late chunk of a cancelled or replaced request lands nowhere.
        return;
    };
    match event {
        StreamEvent::KeepAlive => {
            if let TurnState::Waiting { keepalives } = &mut turn.state {
                *keepalives += 1;
            }
        }
        StreamEvent::Served(s) => merge_served(&mut turn.served, s),
        StreamEvent::Content(c) => {
            if turn.ttft.is_none() {
                turn.ttft = Some(at);
            }
            turn.last_at = Some(at);
            turn.chunks += 1;
            turn.est_tokens += crate::tokens::estimate(&c);
            turn.state = TurnState::Streaming;
            // Shown on a terminal: control and escape sequences are made inert.
            let text = crate::safe_text::neutralise(&c);
            turn.answer.push(&text);
            if on {
                turn.appended += text.len();
                record(
                    fx,
                    Op::Append {
                        req,
                        text: text.into_owned(),
                    },
                );
            }
        }
        StreamEvent::Reasoning(r) => turn.reasoning_chars += r.chars().count(),
        StreamEvent::Usage(u) => turn.usage = Some(u),
        StreamEvent::Malformed(_) => turn.malformed += 1,
        StreamEvent::Finish { .. } | StreamEvent::Error(_) | StreamEvent::Done => {}
    }
}

/// Takes what the stream says about who served, keeping what it leaves out: a generic server
/// names no provider, and the local router set it when the attempt started.
fn merge_served(into: &mut crate::wire::chunk::ServedBy, from: crate::wire::chunk::ServedBy) {
    if from.provider.is_some() {
        into.provider = from.provider;
    }
    if from.model.is_some() {
        into.model = from.model;
    }
    if from.id.is_some() {
        into.id = from.id;
    }
}

fn on_ended(app: &mut App, pane: PaneId, req: ReqId, outcome: Answer, fx: &mut Vec<Effect>) {
    // A free promotion that ended names the paid model: offered in F8, one key away.
    if let Err(crate::client::ChatError::Api(e)) = &outcome.result
        && let Some(model) = app
            .panes
            .iter()
            .find(|p| p.id == pane)
            .map(|p| p.model.clone())
        && let Some(paid) = e.free_variant_ended(&model)
    {
        let price = crate::wire::catalog::find_model(&app.catalog, &paid)
            .map(|m| format!(" ({})", crate::catalog_query::price_label(&m.pricing)))
            .unwrap_or_default();
        app.notify(
            format!(
                "the free variant of {model} has ended: {} opens the catalog on {paid}{price}; {} there uses it in this pane",
                key_for(Action::Catalog),
                super::keymap::key_in(super::keymap::Context::Catalog, Action::ReplaceModel)
            ),
            Level::Error,
        );
        app.offer = Some(paid);
    }
    if let Some(f) = &mut app.free {
        // The gateway's word that today's free requests are used up beats our count.
        if let Err(e) = &outcome.result
            && e.to_string().contains("free-models-per-day")
        {
            f.counter.mark_exhausted(app.now_ms);
            fx.push(Effect::SaveFreeTier(Box::new(f.counter.clone())));
        }
        // The key's usage (and tier) after each answer.
        if !f.asking {
            f.asking = true;
            fx.push(Effect::FetchKey);
        }
    }
    let on = app.recording == Recording::On;
    let Some(turn) = active_turn(app, pane, req) else {
        return;
    };
    // The outcome's text is authoritative: it holds every token, even ones whose events were
    // coalesced away.
    let text = crate::safe_text::neutralise(&outcome.text);
    if text.len() > turn.answer.source().len() {
        turn.answer.replace(text.into_owned());
    }
    turn.answer.finish();
    if outcome.usage.is_some() {
        turn.usage = outcome.usage;
    }
    let spent = turn.usage.clone();
    merge_served(&mut turn.served, outcome.served);
    if turn.ttft.is_none() {
        turn.ttft = outcome.timings.ttft;
    }
    if outcome.timings.ttft.is_some() {
        turn.last_at = Some(outcome.timings.total);
    }
    turn.state = match outcome.result {
        Ok(reason) => {
            turn.check_schema();
            TurnState::Done(reason)
        }
        Err(e) => TurnState::Failed(e),
    };
    if on {
        record(fx, turn.finish_op());
    }
    if let Some(u) = &spent {
        app.run.add_usage(u);
    }
    if let Some(i) = app.panes.iter().position(|p| p.id == pane) {
        send_queued(app, i, fx);
    }
}

fn on_history(app: &mut App, e: crate::history::writer::Event) {
    use crate::history::writer::Event;
    match e {
        Event::Problem(m) => app.notify(m, Level::Error),
        Event::Done(m) => app.notify(m, Level::Info),
        Event::Found { query, list, hits } => {
            if let Some(b) = app.layer_mut::<super::history_view::Browser>() {
                b.found(query, list, hits);
            }
        }
        Event::Loaded(conv) => {
            if app.panes.iter().any(|p| p.active_turn().is_some()) {
                app.notify(
                    "still streaming: stop the streams (Ctrl+C twice) before opening another conversation",
                    Level::Error,
                );
                return;
            }
            app.layers.retain(|l| {
                l.as_any()
                    .downcast_ref::<super::history_view::Browser>()
                    .is_none()
            });
            let title = conv.title.clone();
            match app.open_conversation(&conv) {
                Some(w) => app.notify(w, Level::Error),
                None => app.notify(
                    format!("opened “{title}”: the next prompt continues it"),
                    Level::Info,
                ),
            }
        }
    }
}

/// Opens the model picker; to replace a pane's model it opens on that model.
fn open_picker(app: &mut App, mode: PickerMode) {
    let selected = match (mode, app.focused()) {
        (PickerMode::Replace, Some(p)) => picker_matches(&app.catalog, "")
            .iter()
            .position(|m| m.id == p.model)
            .unwrap_or(0),
        _ => 0,
    };
    app.layers.push(Box::new(Picker {
        mode,
        query: String::new(),
        selected,
    }));
}

/// The models the picker shows for its query.
pub fn picker_matches<'a>(catalog: &'a [Model], query: &str) -> Vec<&'a Model> {
    fuzzy_filter(catalog, query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ChatError, Timings};
    use crate::wire::chunk::ServedBy;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn ctrl(c: char) -> Msg {
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    fn typed(app: &mut App, s: &str) {
        for c in s.chars() {
            update(app, key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn the_pdf_engine_chosen_in_f5_reaches_every_panes_request_with_the_pdf() {
        use crate::wire::request::{PdfEngine, Plugin};
        let mut app = app3();
        app.attachments.push(crate::attach::Attachment {
            name: "r.pdf".into(),
            kind: crate::attach::Kind::Pdf,
            origin: crate::attach::Origin::Path("/r.pdf".into()),
            size: 10,
            hash: crate::attach::sha256(b"x"),
            pixels: None,
            original_pixels: None,
            pages: Some(3),
            text: Some("Quarterly figures".into()),
            first_page: None,
            payload: crate::attach::payload::Payload::held(
                "data:application/pdf;base64,eA==".into(),
                "h",
            ),
        });
        update(&mut app, key(KeyCode::F(5)));
        let fx = update(&mut app, ctrl('e'));
        assert!(
            fx.iter().any(|e| matches!(e, Effect::SaveSettings(_))),
            "kept for next time"
        );
        assert!(
            app.notice
                .as_ref()
                .is_some_and(|(s, _)| s.contains("native"))
        );
        update(&mut app, ctrl('e'));
        update(&mut app, key(KeyCode::Esc));
        typed(&mut app, "sum it up");
        let fx = update(&mut app, key(KeyCode::Enter));
        let engines: Vec<_> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Start { request, .. } => Some(request.plugins.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(engines.len(), 3);
        for p in engines {
            assert_eq!(p, Some(vec![Plugin::file_parser(PdfEngine::CloudflareAi)]));
        }
    }

    #[test]
    fn a_broadcast_past_the_free_tier_warns_once_and_the_same_prompt_again_sends() {
        let mut app = App::new(
            &["m/a:free".into(), "m/b:free".into(), "m/c".into()],
            "test",
        );
        app.now_ms = 1_796_200_000_000;
        let mut free = crate::app::state::FreeState::default();
        for i in 0..49 {
            free.counter.record(app.now_ms - 3_600_000 + i * 61_000);
        }
        app.free = Some(free);
        typed(&mut app, "hello");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert!(started(&fx).is_empty(), "held back");
        let (msg, _) = app.notice.clone().unwrap();
        assert!(
            msg.contains("this takes 2 :free requests; 1 left today of 50"),
            "{msg}"
        );
        assert_eq!(app.composer_text(), "hello", "the prompt is kept");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert_eq!(started(&fx).len(), 3, "sent anyway");
        let saves = fx
            .iter()
            .filter(|e| matches!(e, Effect::SaveFreeTier(_)))
            .count();
        assert_eq!(saves, 2, "one per :free request");
        let f = app.free.as_ref().unwrap();
        assert_eq!(f.counter.counts(app.now_ms).day, 51);
    }

    #[test]
    fn the_keys_tier_sets_the_day_limit_and_a_per_day_refusal_stops_the_count() {
        let mut app = App::new(&["m/a:free".into()], "test");
        app.now_ms = 1_796_200_000_000;
        app.free = Some(Default::default());
        update(
            &mut app,
            Msg::KeyInfo(Ok(crate::wire::account::KeyInfo {
                is_free_tier: Some(false),
                ..Default::default()
            })),
        );
        let f = app.free.as_ref().unwrap();
        assert_eq!(f.limits.per_day, crate::free_tier::PER_DAY_PAID);
        typed(&mut app, "hi");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        let refusal = Answer {
            text: String::new(),
            served: Default::default(),
            usage: None,
            timings: Timings::default(),
            result: Err(ChatError::Api(crate::wire::error::ApiError {
                status: Some(429),
                message: "Rate limit exceeded: free-models-per-day".into(),
                ..Default::default()
            })),
        };
        let fx = update(
            &mut app,
            Msg::Ended {
                pane,
                req,
                outcome: Box::new(refusal),
            },
        );
        assert!(
            fx.iter().any(|e| matches!(e, Effect::FetchKey)),
            "usage asked again"
        );
        let f = app.free.as_ref().unwrap();
        assert_eq!(f.counter.room_today(app.now_ms, f.limits), 0);
    }

    #[test]
    fn the_catalog_browser_opens_a_model_in_a_new_pane_or_the_focused_one() {
        let mut app = app3();
        let model = |id: &str, free: bool| Model {
            id: id.into(),
            pricing: serde_json::from_value(if free {
                serde_json::json!({"prompt": "0", "completion": "0"})
            } else {
                serde_json::json!({"prompt": "0.000001", "completion": "0.000002"})
            })
            .unwrap(),
            ..Default::default()
        };
        update(
            &mut app,
            Msg::Catalog(Ok(vec![model("x/paid", false), model("x/chat:free", true)])),
        );
        update(&mut app, key(KeyCode::F(8)));
        typed(&mut app, "free");
        update(&mut app, key(KeyCode::Enter));
        assert_eq!(app.panes.len(), 4);
        assert_eq!(app.panes[3].model, "x/chat:free");
        assert_eq!(app.focus, 3);
        assert!(app.layers.is_empty(), "closed");
        // Ctrl+R puts the choice in the focused pane instead.
        update(&mut app, key(KeyCode::F(8)));
        typed(&mut app, "paid");
        update(&mut app, ctrl('r'));
        assert_eq!(app.panes.len(), 4);
        assert_eq!(app.panes[3].model, "x/paid");
        // Nothing matches: nothing changes, and it says so.
        update(&mut app, key(KeyCode::F(8)));
        typed(&mut app, "zzz");
        update(&mut app, key(KeyCode::Enter));
        assert_eq!(app.panes.len(), 4);
        assert!(app.notice.as_ref().unwrap().0.contains("no model matches"));
    }

    #[test]
    fn a_free_variant_that_ended_offers_its_paid_model_one_key_away_in_f8() {
        let mut app = App::new(&["m/x:free".into(), "m/y".into()], "test");
        let model = |id: &str| Model {
            id: id.into(),
            ..Default::default()
        };
        update(
            &mut app,
            Msg::Catalog(Ok(vec![model("m/y"), model("m/x:free"), model("m/x")])),
        );
        typed(&mut app, "hi");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        let ended = Answer {
            text: String::new(),
            served: Default::default(),
            usage: None,
            timings: Timings::default(),
            result: Err(ChatError::Api(crate::wire::error::ApiError {
                status: Some(404),
                message: "The free promotion for this model has ended".into(),
                availability: Some(serde_json::json!({
                    "code": "free_variant_ended", "fallback_models": ["m/x"]
                })),
                ..Default::default()
            })),
        };
        update(
            &mut app,
            Msg::Ended {
                pane,
                req,
                outcome: Box::new(ended),
            },
        );
        let (msg, _) = app.notice.clone().unwrap();
        assert!(
            msg.contains("the free variant of m/x:free has ended"),
            "{msg}"
        );
        assert!(msg.contains("F8 opens the catalog on m/x"), "{msg}");
        app.focus = 0;
        update(&mut app, key(KeyCode::F(8)));
        update(&mut app, ctrl('r'));
        assert_eq!(app.panes[0].model, "m/x");
    }

    #[test]
    fn a_cases_file_run_in_f10_sends_each_case_on_its_own_pane_by_pane() {
        let mut app = app3();
        // An earlier exchange in every pane: a case must not carry it.
        typed(&mut app, "earlier chat");
        let fx = update(&mut app, key(KeyCode::Enter));
        for (pane, req) in started(&fx) {
            update(&mut app, content(pane, req, "earlier answer"));
            update(
                &mut app,
                ended(pane, req, "earlier answer", Ok("stop".into())),
            );
        }
        update(&mut app, key(KeyCode::F(10)));
        update(&mut app, ctrl('o'));
        typed(&mut app, "cases.jsonl");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::LoadCases(p) if p.as_os_str() == "cases.jsonl"))
        );
        let cases = crate::bakeoff::cases::parse_jsonl(
            "\"one\"\n\"two\"\n{oops\n",
            std::path::Path::new("."),
        );
        let fx = update(&mut app, Msg::Cases(Ok(cases)));
        let starts: Vec<&ChatRequest> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Start { request, .. } => Some(&**request),
                _ => None,
            })
            .collect();
        assert_eq!(starts.len(), 3, "the first case to every pane at once");
        for r in starts {
            assert_eq!(
                r.messages.len(),
                1,
                "no earlier conversation: {:?}",
                r.messages
            );
        }
        assert!(
            app.panes.iter().all(|p| p.queued.len() == 1),
            "the second case waits"
        );
        let (msg, _) = app.notice.clone().unwrap();
        assert!(
            msg.contains("2 case(s) sent to 3 model(s)") && msg.contains("1 not run (line 3"),
            "{msg}"
        );
    }

    fn app3() -> App {
        App::new(&["a/1".into(), "b/2".into(), "c/3".into()], "test")
    }

    fn started(fx: &[Effect]) -> Vec<(PaneId, ReqId)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Start { pane, req, .. } => Some((*pane, *req)),
                _ => None,
            })
            .collect()
    }

    fn content(pane: PaneId, req: ReqId, s: &str) -> Msg {
        Msg::Stream {
            pane,
            req,
            at: Duration::from_millis(100),
            events: vec![StreamEvent::Content(s.into())],
        }
    }

    fn ended(pane: PaneId, req: ReqId, text: &str, result: Result<String, ChatError>) -> Msg {
        Msg::Ended {
            pane,
            req,
            outcome: Box::new(Answer {
                text: text.into(),
                served: ServedBy::default(),
                usage: None,
                timings: Timings::default(),
                result,
            }),
        }
    }

    /// The effects other than history writes.
    fn work(fx: Vec<Effect>) -> Vec<Effect> {
        fx.into_iter()
            .filter(|e| !matches!(e, Effect::History(_)))
            .collect()
    }

    fn history_ops(fx: &[Effect]) -> Vec<&Op> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::History(op) => Some(&**op),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_prompt_is_recorded_before_its_requests_leave_and_every_token_follows() {
        let mut app = app3();
        app.panes[2].settings.unrecorded = true;
        typed(&mut app, "hello\nworld");
        let fx = update(&mut app, key(KeyCode::Enter));
        // The turn goes first, naming the requests of the kept panes only.
        let Effect::History(op) = &fx[0] else {
            panic!("{:?}", fx[0])
        };
        let Op::Turn {
            head,
            seq,
            prompt,
            starts,
            ..
        } = &**op
        else {
            panic!("{op:?}")
        };
        assert_eq!((*seq, prompt.as_str()), (0, "hello\nworld"));
        assert_eq!(head.title, "hello");
        let (pane, req) = started(&fx)[0];
        assert_eq!(
            starts.iter().map(|s| s.pane.slot).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(starts[0].req, req);
        assert_eq!(started(&fx).len(), 3, "the unrecorded pane is still asked");
        // Text as shown (escape sequences made inert) is appended as it arrives.
        let fx = update(&mut app, content(pane, req, "par\x1b[2J"));
        assert!(
            matches!(history_ops(&fx)[..], [Op::Append { req: r, text }] if *r == req && text == "par␛[2J")
        );
        // The end carries the whole text and how it ended.
        let fx = update(
            &mut app,
            ended(pane, req, "partial answer", Ok("stop".into())),
        );
        let [Op::Finish { end, folded, .. }] = history_ops(&fx)[..] else {
            panic!("{fx:?}")
        };
        // The final text is longer than what streamed, so it is sent whole.
        assert!(!folded);
        assert_eq!(end.content, "partial answer");
        assert_eq!(end.state, Some(crate::history::Finish::Complete));
        // The next prompt is the conversation's second.
        typed(&mut app, "again");
        let fx = update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL)),
        );
        assert!(fx.is_empty());
        let fx = update(&mut app, key(KeyCode::Enter));
        assert!(matches!(history_ops(&fx)[..], [Op::Turn { seq: 1, .. }]));
        // With history off, nothing is recorded.
        let mut off = app3();
        off.recording = Recording::Off;
        typed(&mut off, "x");
        let fx = update(&mut off, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        let mut all = fx;
        all.extend(update(
            &mut off,
            Msg::Attempt {
                pane,
                req,
                endpoint: 1,
                provider: "P".into(),
                model: "a/1".into(),
            },
        ));
        all.extend(update(&mut off, content(pane, req, "x")));
        all.extend(update(&mut off, ended(pane, req, "x", Ok("stop".into()))));
        assert!(history_ops(&all).is_empty());
    }

    #[test]
    fn a_cancelled_or_quit_stream_is_recorded_cancelled_with_its_text() {
        let mut app = app3();
        typed(&mut app, "q");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        update(&mut app, content(pane, req, "so far"));
        let fx = update(&mut app, key(KeyCode::Esc));
        let [
            Op::Finish {
                req: r,
                end,
                folded,
            },
        ] = history_ops(&fx)[..]
        else {
            panic!("{fx:?}")
        };
        // Every byte already streamed to history: not copied again.
        assert!(*folded && end.content.is_empty());
        assert_eq!(*r, req);
        assert_eq!(end.state, Some(crate::history::Finish::Cancelled));
        let fx = update(&mut app, ctrl('q'));
        assert_eq!(history_ops(&fx).len(), 2, "the two others, cut by the quit");
    }

    fn cancels(fx: &[Effect]) -> usize {
        fx.iter().filter(|e| matches!(e, Effect::Cancel(_))).count()
    }

    #[test]
    fn ctrl_c_stops_the_focused_stream_then_all_then_clears_the_draft_then_quits_twice() {
        let mut app = app3();
        typed(&mut app, "hello");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert_eq!(started(&fx).len(), 3);
        // First: only the focused pane stops, and the status bar says what a second does.
        let fx = update(&mut app, ctrl('c'));
        assert_eq!(cancels(&fx), 1);
        assert_eq!(app.panes[0].turns[0].state, TurnState::Cancelled);
        assert!(app.panes[1].active_turn().is_some());
        let (m, _) = app.notice.clone().unwrap();
        assert!(
            m.starts_with("Ctrl+C again stops the other 2 · stopped a/1"),
            "{m}"
        );
        // Second, right after: the rest stop.
        let fx = update(&mut app, ctrl('c'));
        assert_eq!(cancels(&fx), 2);
        assert!(app.panes.iter().all(|p| p.active_turn().is_none()));
        // Nothing streams: a draft is cleared, and undo brings it back.
        typed(&mut app, "draft");
        let fx = update(&mut app, ctrl('c'));
        assert!(fx.is_empty() && app.composer_text().is_empty());
        update(&mut app, ctrl('7')); // Ctrl+_ as terminals send it: undo
        assert_eq!(app.composer_text(), "draft");
        update(&mut app, ctrl('u'));
        // Idle and empty: the first says, the second quits.
        let fx = update(&mut app, ctrl('c'));
        assert!(!app.quitting && fx.is_empty());
        assert!(app.notice.clone().unwrap().0.contains("Ctrl+C again quits"));
        // Another key in between disarms it.
        update(&mut app, key(KeyCode::Left));
        update(&mut app, ctrl('c'));
        assert!(!app.quitting, "a key in between starts over");
        let fx = update(&mut app, ctrl('c'));
        assert!(app.quitting && fx.contains(&Effect::Quit));
    }

    #[test]
    fn ctrl_c_in_an_overlay_or_panel_closes_it_and_ctrl_q_quits_at_once() {
        let mut app = app3();
        update(&mut app, key(KeyCode::F(1)));
        update(&mut app, ctrl('c'));
        assert!(app.layers.is_empty() && !app.quitting);
        update(&mut app, key(KeyCode::F(2)));
        update(&mut app, ctrl('c'));
        assert!(app.layers.is_empty() && !app.quitting);
        // Ctrl+W deletes a word now; the why view is on Alt+W.
        typed(&mut app, "one two");
        update(&mut app, ctrl('w'));
        assert_eq!(app.composer_text(), "one ");
        let fx = update(&mut app, ctrl('q'));
        assert!(app.quitting && fx.contains(&Effect::Quit));
    }

    #[test]
    fn fault_keys_outside_the_fleet_are_refused_before_anything_is_announced() {
        use crate::app::state::{EndpointLabel, HealthView};
        let mut app = app3();
        app.health = Some(HealthView {
            labels: vec![EndpointLabel {
                slug: "a".into(),
                provider: "A".into(),
                model: "m/x".into(),
                prompt_price: 0.0,
                completion_price: 0.0,
                price_unknown: true,
            }],
            selected: 0,
            snapshot: crate::routing::HealthSnapshot::empty(),
            registry: Default::default(),
            observed: false,
            hscroll: 0,
        });
        app.layers.push(Box::new(crate::app::layers::Health));
        let fx = update(&mut app, key(KeyCode::Char('o')));
        assert!(fx.is_empty(), "{fx:?}");
        let (msg, level) = app.notice.clone().unwrap();
        assert_eq!(level, Level::Error);
        assert!(
            msg.contains("only be injected into the simulated fleet"),
            "{msg}"
        );
        // With the fleet, the fault goes to the runtime, which announces it once it took.
        app.faults = true;
        app.notice = None;
        let fx = update(&mut app, key(KeyCode::Char('o')));
        assert!(matches!(&fx[..], [Effect::Fault(Some(_))]), "{fx:?}");
        assert!(app.notice.is_none());
    }

    #[test]
    fn enter_sends_to_every_pane_and_clears_the_composer() {
        let mut app = app3();
        typed(&mut app, "hi");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert_eq!(started(&fx).len(), 3);
        assert!(app.composer_text().is_empty());
        assert!(app.panes.iter().all(|p| p.turns[0].prompt == "hi"));
        match &work(fx)[0] {
            Effect::Start { request, .. } => {
                assert_eq!(request.model.as_deref(), Some("a/1"));
                assert_eq!(request.messages.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn focused_target_sends_to_one_pane() {
        let mut app = app3();
        update(&mut app, key(KeyCode::Tab));
        update(&mut app, ctrl('t'));
        typed(&mut app, "x");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert_eq!(started(&fx), vec![(app.panes[1].id, 1)]);
        assert!(app.panes[0].turns.is_empty() && app.panes[2].turns.is_empty());
    }

    #[test]
    fn empty_prompt_is_refused_with_a_notice() {
        let mut app = app3();
        typed(&mut app, "   ");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert!(fx.is_empty());
        assert_eq!(
            app.composer_text(),
            "   ",
            "the composer keeps what was typed"
        );
        assert!(matches!(&app.notice, Some((m, Level::Error)) if m.contains("empty")));
    }

    #[test]
    fn cancel_closes_the_request_and_late_chunks_land_nowhere() {
        let mut app = app3();
        typed(&mut app, "q");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        update(&mut app, content(pane, req, "par"));
        let fx = work(update(&mut app, key(KeyCode::Esc)));
        assert_eq!(fx, vec![Effect::Cancel(req)]);
        update(&mut app, content(pane, req, "tial"));
        update(
            &mut app,
            ended(pane, req, "partial answer", Ok("stop".into())),
        );
        let t = &app.panes[0].turns[0];
        assert_eq!(t.answer.source(), "par");
        assert_eq!(t.state, TurnState::Cancelled);
    }

    #[test]
    fn failure_keeps_prompt_and_partial_text_and_retry_resends() {
        let mut app = app3();
        typed(&mut app, "q");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        update(&mut app, content(pane, req, "some "));
        update(
            &mut app,
            ended(
                pane,
                req,
                "some tokens",
                Err(ChatError::Truncated("cut".into())),
            ),
        );
        let t = &app.panes[0].turns[0];
        assert_eq!(t.prompt, "q");
        assert_eq!(
            t.answer.source(),
            "some tokens",
            "the outcome's full text wins"
        );
        assert!(matches!(t.state, TurnState::Failed(_)));
        let fx = update(&mut app, ctrl('r'));
        assert_eq!(started(&fx).len(), 1);
        assert_eq!(app.panes[0].turns.len(), 1, "the failed turn is replaced");
        assert_eq!(app.panes[0].turns[0].prompt, "q");
    }

    #[test]
    fn up_on_an_empty_prompt_and_ctrl_p_n_walk_earlier_prompts() {
        let mut app = App::new(&["a/1".into()], "t");
        app.prompts = vec!["from history".into()];
        for p in ["one", "two"] {
            typed(&mut app, p);
            let fx = update(&mut app, key(KeyCode::Enter));
            let (pane, req) = started(&fx)[0];
            update(&mut app, ended(pane, req, "x", Ok("stop".into())));
        }
        update(&mut app, key(KeyCode::Up));
        assert_eq!(app.composer_text(), "two");
        update(&mut app, key(KeyCode::Up));
        assert_eq!(app.composer_text(), "one");
        update(&mut app, ctrl('p'));
        assert_eq!(app.composer_text(), "from history");
        update(&mut app, ctrl('p'));
        assert_eq!(app.composer_text(), "from history", "the oldest stays");
        update(&mut app, key(KeyCode::Down));
        update(&mut app, ctrl('n'));
        assert_eq!(app.composer_text(), "two");
        update(&mut app, key(KeyCode::Down));
        assert_eq!(app.composer_text(), "", "past the newest: empty again");
        // Edited, the recalled prompt is the user's: Up moves the cursor, Enter resends it.
        update(&mut app, key(KeyCode::Up));
        typed(&mut app, " again");
        update(&mut app, key(KeyCode::Up));
        assert_eq!(app.composer_text(), "two again");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert_eq!(started(&fx).len(), 1);
        assert_eq!(app.prompts.last().unwrap(), "two again");
    }

    #[test]
    fn the_picker_opens_on_the_pane_s_model_and_enter_with_no_match_changes_nothing() {
        let mut app = app3();
        app.catalog = ["a/1", "b/2", "c/3", "d/4"]
            .iter()
            .map(|id| Model {
                id: id.to_string(),
                ..Default::default()
            })
            .collect();
        app.focus = 2;
        update(&mut app, ctrl('o'));
        let p = app.layer::<Picker>().unwrap();
        let shown = picker_matches(&app.catalog, &p.query);
        assert_eq!(shown[p.selected].id, "c/3");
        typed(&mut app, "zzzz");
        update(&mut app, key(KeyCode::Enter));
        assert_eq!(app.panes[2].model, "c/3");
        assert!(
            app.layer::<Picker>().is_some(),
            "still open to fix the query"
        );
        assert!(app.notice.as_ref().unwrap().0.contains("nothing changed"));
    }

    #[test]
    fn ctrl_q_quits_from_every_layer() {
        for open in [
            key(KeyCode::F(1)),
            ctrl('o'),
            key(KeyCode::F(2)),
            key(KeyCode::F(4)),
            key(KeyCode::F(7)),
        ] {
            let mut app = app3();
            update(&mut app, open);
            assert!(!app.layers.is_empty());
            let fx = update(&mut app, ctrl('q'));
            assert!(app.quitting && fx.contains(&Effect::Quit));
        }
    }

    #[test]
    fn zoom_gives_the_focused_pane_the_whole_width_and_back() {
        let mut app = app3();
        app.size = (120, 30);
        app.focus = 1;
        update(&mut app, ctrl('g'));
        let area = app.area();
        let cells = crate::ui::layout::screen(&mut app, area).panes;
        assert_eq!(cells[1].width, 120);
        assert_eq!((cells[0].area(), cells[2].area()), (0, 0));
        update(&mut app, ctrl('g'));
        let cells = crate::ui::layout::screen(&mut app, area).panes;
        assert!(cells.iter().all(|c| c.width > 0 && c.width < 120));
    }

    #[test]
    fn a_prompt_for_a_busy_pane_is_queued_shown_and_sent_when_it_ends() {
        let mut app = app3();
        typed(&mut app, "one");
        let fx = update(&mut app, key(KeyCode::Enter));
        let reqs = started(&fx);
        // Pane 1 ends; the others still stream.
        update(
            &mut app,
            ended(reqs[0].0, reqs[0].1, "a", Ok("stop".into())),
        );
        typed(&mut app, "two");
        let fx = update(&mut app, key(KeyCode::Enter));
        assert_eq!(started(&fx).len(), 1, "only the idle pane starts now");
        assert!(app.composer_text().is_empty());
        assert_eq!(
            app.panes[1]
                .queued
                .iter()
                .map(|q| q.prompt.as_str())
                .collect::<Vec<_>>(),
            ["two"]
        );
        assert!(
            app.notice
                .as_ref()
                .unwrap()
                .0
                .starts_with("queued for b/2, c/3")
        );
        // Pane 2's answer ends: its queued prompt goes, as a turn of its own in history.
        let fx = update(
            &mut app,
            ended(reqs[1].0, reqs[1].1, "b", Ok("stop".into())),
        );
        assert_eq!(started(&fx).len(), 1);
        assert!(matches!(
            history_ops(&fx)[..],
            [Op::Finish { .. }, Op::Turn { .. }]
        ));
        assert_eq!(app.panes[1].turns.last().unwrap().prompt, "two");
        assert!(app.panes[1].queued.is_empty());
        // Stopping pane 3 gives its queued prompt back to the composer.
        app.focus = 2;
        update(&mut app, key(KeyCode::Esc));
        assert!(app.panes[2].queued.is_empty());
        assert_eq!(app.composer_text(), "two");
    }

    #[test]
    fn live_tokens_per_second_follows_the_tokens_not_the_batched_reads() {
        // A fleet answer at 200 tokens/s, read as the workbench reads it: one batch per 33 ms.
        let text = crate::fleet::text::answer(5, "m/x", "Explain quicksort");
        let tokens = crate::fleet::text::tokenize(&text);
        let (tps, ttft, batch) = (200.0, 0.4, 0.033);
        let mut app = App::new(&["a/1".into()], "t");
        typed(&mut app, "q");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        let mut i = 0;
        let mut now = ttft;
        while i < tokens.len() {
            // Every token sent by `now` arrives in this read.
            let upto = (((now - ttft) * tps) as usize + 1).min(tokens.len());
            let piece = tokens[i..upto].concat();
            i = upto;
            update(
                &mut app,
                Msg::Stream {
                    pane,
                    req,
                    at: Duration::from_secs_f64(now),
                    events: vec![StreamEvent::Content(piece)],
                },
            );
            now += batch;
        }
        let t = app.panes[0].turns.last().unwrap();
        let (live, estimated) = t.tokens_per_sec().unwrap();
        assert!(estimated);
        assert!(
            (live - tps).abs() / tps < 0.10,
            "{live:.0} tok/s live for a {tps} tok/s stream ({} reads)",
            t.chunks
        );
        // Counting reads would have said about 30.
        assert!((t.chunks as f64) < tokens.len() as f64 / 4.0);
    }

    #[test]
    fn a_cut_answer_goes_back_marked_as_cut_and_an_unanswered_prompt_not_at_all() {
        let mut app = App::new(&["a/1".into()], "t");
        typed(&mut app, "first");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        update(&mut app, content(pane, req, "half an ans"));
        update(&mut app, key(KeyCode::Esc));
        typed(&mut app, "second");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        update(
            &mut app,
            ended(pane, req, "", Err(ChatError::Connect("x".into()))),
        );
        typed(&mut app, "third");
        let fx = work(update(&mut app, key(KeyCode::Enter)));
        let Effect::Start { request, .. } = &fx[0] else {
            panic!()
        };
        let texts: Vec<String> = request
            .messages
            .iter()
            .map(|m| {
                serde_json::to_value(&m.content)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                "first".to_string(),
                format!("half an ans\n\n{CUT_BY_USER}"),
                "third".to_string()
            ]
        );
    }

    #[test]
    fn history_goes_into_the_next_request() {
        let mut app = App::new(&["a/1".into()], "t");
        typed(&mut app, "first");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        update(&mut app, ended(pane, req, "answer one", Ok("stop".into())));
        typed(&mut app, "second");
        let fx = work(update(&mut app, key(KeyCode::Enter)));
        let Effect::Start { request, .. } = &fx[0] else {
            panic!()
        };
        let roles: Vec<_> = request.messages.iter().map(|m| m.role).collect();
        use crate::wire::request::Role::*;
        assert_eq!(roles, vec![User, Assistant, User]);
    }

    #[test]
    fn huge_paste_is_refused_and_normal_paste_normalises_newlines() {
        let mut app = app3();
        update(&mut app, Msg::Paste("x".repeat(MAX_PASTE_BYTES + 1)));
        assert!(app.composer_text().is_empty());
        assert!(matches!(&app.notice, Some((m, Level::Error)) if m.contains("paste refused")));
        update(&mut app, Msg::Paste("a\r\nb\rc".into()));
        assert_eq!(app.composer_text(), "a\nb\nc");
    }

    #[test]
    fn picker_replaces_and_adds_and_close_removes() {
        let mut app = app3();
        update(&mut app, ctrl('o'));
        for c in "z/new".chars() {
            update(&mut app, key(KeyCode::Char(c)));
        }
        update(&mut app, key(KeyCode::Enter));
        assert_eq!(
            app.panes[0].model, "z/new",
            "with no catalog the typed id is used"
        );
        update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::ALT)),
        );
        for c in "y/added".chars() {
            update(&mut app, key(KeyCode::Char(c)));
        }
        update(&mut app, key(KeyCode::Enter));
        assert_eq!(app.panes.len(), 4);
        assert_eq!(app.focus, 3);
        update(&mut app, ctrl('x'));
        assert_eq!(app.panes.len(), 3);
        assert!(app.focus < 3);
    }

    #[test]
    fn copy_code_block_and_answer() {
        let mut app = App::new(&["a/1".into()], "t");
        typed(&mut app, "q");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        update(
            &mut app,
            ended(
                pane,
                req,
                "text\n\n```py\nprint(1)\n```\n",
                Ok("stop".into()),
            ),
        );
        let fx = update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT)),
        );
        assert_eq!(fx, vec![Effect::Copy("print(1)".into())]);
        let fx = update(&mut app, ctrl('y'));
        assert!(matches!(&fx[0], Effect::Copy(s) if s.starts_with("text")));
        let fx = update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::ALT)),
        );
        assert!(fx.is_empty());
    }

    #[test]
    fn the_next_turn_prefers_the_endpoint_that_answered_the_last_one() {
        let mut app = App::new(&["a/1".into()], "t");
        typed(&mut app, "q");
        let fx = work(update(&mut app, key(KeyCode::Enter)));
        assert!(matches!(&fx[0], Effect::Start { affinity: None, .. }));
        let (pane, req) = started(&fx)[0];
        for endpoint in [4, 7] {
            update(
                &mut app,
                Msg::Attempt {
                    pane,
                    req,
                    endpoint,
                    provider: "P".into(),
                    model: "a/1".into(),
                },
            );
        }
        update(&mut app, ended(pane, req, "answer", Ok("stop".into())));
        typed(&mut app, "again");
        let fx = work(update(&mut app, key(KeyCode::Enter)));
        assert!(
            matches!(
                &fx[0],
                Effect::Start {
                    affinity: Some(7),
                    ..
                }
            ),
            "the last attempt's endpoint: {fx:?}"
        );
        // A failed turn gives no affinity.
        let (pane, req) = started(&fx)[0];
        update(
            &mut app,
            ended(pane, req, "", Err(ChatError::Connect("x".into()))),
        );
        typed(&mut app, "third");
        let fx = work(update(&mut app, key(KeyCode::Enter)));
        assert!(matches!(&fx[0], Effect::Start { affinity: None, .. }));
    }

    #[test]
    fn restart_replaces_partial_text_and_keeps_a_note() {
        let mut app = App::new(&["a/1".into()], "t");
        typed(&mut app, "q");
        let fx = update(&mut app, key(KeyCode::Enter));
        let (pane, req) = started(&fx)[0];
        update(
            &mut app,
            Msg::Attempt {
                pane,
                req,
                endpoint: 1,
                provider: "P1".into(),
                model: "a/1".into(),
            },
        );
        update(&mut app, content(pane, req, "cut sho"));
        update(
            &mut app,
            Msg::Rerouted {
                pane,
                req,
                note: "restarted".into(),
                restart: true,
            },
        );
        update(
            &mut app,
            Msg::Attempt {
                pane,
                req,
                endpoint: 2,
                provider: "P2".into(),
                model: "a/1".into(),
            },
        );
        update(&mut app, content(pane, req, "whole"));
        let t = &app.panes[0].turns[0];
        assert_eq!(t.answer.source(), "whole");
        assert_eq!(t.notes, vec!["restarted".to_string()]);
        assert_eq!(t.attempts, 2);
        assert_eq!(t.served.provider.as_deref(), Some("P2"));
        // A late reroute for another request changes nothing.
        update(
            &mut app,
            Msg::Rerouted {
                pane,
                req: req + 99,
                note: "x".into(),
                restart: true,
            },
        );
        assert_eq!(app.panes[0].turns[0].answer.source(), "whole");
    }

    #[test]
    fn quit_cancels_running_requests() {
        let mut app = app3();
        typed(&mut app, "q");
        update(&mut app, key(KeyCode::Enter));
        let fx = update(&mut app, ctrl('q'));
        assert_eq!(
            fx.iter().filter(|e| matches!(e, Effect::Cancel(_))).count(),
            3
        );
        assert!(fx.contains(&Effect::Quit));
        assert!(app.quitting);
    }
}
