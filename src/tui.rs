//! The interactive runtime: owns the terminal, turns events and task results into messages, runs
//! `update`, carries out effects, and draws at most ~60 times a second.

use crate::app::state::App;
use crate::app::update::{Effect, Msg, update};
use crate::clipboard::Clipboard;
use crate::runtime::{JobEvent, JobOptions, Runtime};
use crate::source::Source;
use crate::ui;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Shortest time between two frames after user input (~60 fps), so typing feels immediate.
const FRAME: Duration = Duration::from_millis(16);
/// Shortest time between frames that only show streamed text (~30 fps): smooth to read, and
/// half the drawing cost while many panes stream.
const STREAM_FRAME: Duration = Duration::from_millis(33);
/// Spinner animation rate while requests run.
const TICK: Duration = Duration::from_millis(100);

/// Whether keyboard enhancement flags were pushed (and so must be popped).
static ENHANCED: AtomicBool = AtomicBool::new(false);

/// How pictures are drawn: a terminal known to answer (kitty, WezTerm, ghostty, iTerm2, foot,
/// Konsole) is asked for its protocol and font size; any other gets half-blocks, which work
/// everywhere, tmux included — asking a terminal that never answers would leave a reader on
/// stdin. `SWITCHYARD_IMAGES=halfblocks` never asks.
fn image_picker() -> ratatui_image::picker::Picker {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let answers = std::env::var_os("KITTY_WINDOW_ID").is_some()
        || var("TERM").contains("kitty")
        || var("TERM").contains("foot")
        || std::env::var_os("KONSOLE_VERSION").is_some()
        || ["WezTerm", "iTerm.app", "ghostty"].contains(&var("TERM_PROGRAM").as_str());
    if var("SWITCHYARD_IMAGES") == "halfblocks" || !answers {
        return ratatui_image::picker::Picker::halfblocks();
    }
    ratatui_image::picker::Picker::from_query_stdio()
        .unwrap_or_else(|_| ratatui_image::picker::Picker::halfblocks())
}

/// Undoes everything `run` turned on. Safe to call twice, and from the panic hook.
fn leave_terminal() {
    let mut out = std::io::stdout();
    if ENHANCED.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
    let _ = execute!(out, DisableMouseCapture, DisableBracketedPaste);
    // When the terminal is gone (tty closed) there is nothing to restore and no one to tell.
    let _ = ratatui::try_restore();
}

/// Runs the workbench until the user quits or a signal arrives.
pub async fn run(
    mut app: App,
    source: Source,
    store: Option<crate::history::store::Store>,
) -> Result<(), String> {
    let mut rt = Runtime::new(&source)?;
    let mut terminal = ratatui::try_init().map_err(|e| format!("cannot open the terminal: {e}"))?;
    if let Ok(size) = terminal.size() {
        app.size = (size.width, size.height);
    }
    // ratatui's hook restores raw mode and the screen; ours also turns off mouse, paste and keys.
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // An attachment decoder's panic is caught and shown as a message: the screen stays.
        if std::thread::current().name() == Some(crate::attach::load::WORKER) {
            return;
        }
        leave_terminal();
        prev(info);
    }));
    let mut out = std::io::stdout();
    let enhanced = ratatui::crossterm::terminal::supports_keyboard_enhancement().unwrap_or(false);
    let _ = execute!(out, EnableBracketedPaste, EnableMouseCapture);
    if enhanced {
        ENHANCED.store(true, Ordering::SeqCst);
        let _ = execute!(
            out,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        );
    }
    // Before the input thread reads the terminal: only one that says it draws pictures is asked.
    app.image_picker = image_picker();
    // `auto` asks the terminal its background (OSC 11); the answer, if one comes, reaches the
    // input thread like a key and switches to the light theme when it is light. A terminal that
    // does not answer leaves the theme as it is: nothing waits for it.
    if app.look.auto() && app.look.background.is_none() {
        use std::io::Write;
        let _ = out.write_all(b"\x1b]11;?\x1b\\");
        let _ = out.flush();
    }
    // Syntax definitions take a moment to load; do it before the first code block needs them.
    std::thread::spawn(crate::markdown::warm_up);

    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    spawn_input(tx.clone());
    spawn_signals(tx.clone());
    app.gateway = source.router.is_none();
    if let Some(models) = source.local_catalog() {
        let _ = tx.send(Msg::Catalog(Ok(models)));
    } else {
        // The list kept from the last run shows at once; the fresh one replaces it and is kept.
        let (client, ep, tx) = (rt.client().clone(), source.endpoint.clone(), tx.clone());
        let cache = crate::catalog_store::path(&source.label);
        tokio::spawn(async move {
            if let Some(p) = cache.clone() {
                match tokio::task::spawn_blocking(move || crate::catalog_store::load(&p)).await {
                    Ok(Ok(Some(c))) => {
                        let _ = tx.send(Msg::CatalogCached(c.models, c.fetched_ms));
                    }
                    Ok(Err(e)) => {
                        let _ = tx.send(Msg::Notice(e, crate::app::state::Level::Error));
                    }
                    _ => {}
                }
            }
            let res = client.list_models(&ep).await.map_err(|e| e.to_string());
            if let (Ok(models), Some(p)) = (&res, cache) {
                let models = models.clone();
                let now = crate::free_tier::now_ms();
                // A failed save is only a slower next start: not worth a message.
                let _ = tokio::task::spawn_blocking(move || {
                    crate::catalog_store::save(&p, &models, now)
                })
                .await;
            }
            let _ = tx.send(Msg::Catalog(res));
        });
    }
    // Where a gateway routes, its free-tier limits apply: the day's count so far, then the key's.
    if source.router.is_none() {
        let counter = match crate::free_tier::path().map(|p| crate::free_tier::load(&p)) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                let _ = tx.send(Msg::Notice(e, crate::app::state::Level::Error));
                Default::default()
            }
            None => Default::default(),
        };
        app.free = Some(crate::app::state::FreeState {
            counter,
            asking: true,
            ..Default::default()
        });
        fetch_key(&rt, &source, &tx);
    }
    // The panes' models, so F6 lists their providers before the first answer.
    for p in &app.panes {
        rt.learn(&p.model);
    }
    if let Some((router, observed)) = rt.tracked() {
        spawn_health(router.clone(), observed, tx.clone());
        spawn_health_saver(router.clone(), tx.clone());
    }
    for w in rt.warnings() {
        let _ = tx.send(Msg::Notice(w, crate::app::state::Level::Error));
    }
    if let Some(path) = store.as_ref().and_then(|s| s.path()) {
        // What a later turn sends again comes back from history, not from memory.
        rt.read_back_from(path);
    }
    let mut history = History {
        writer: store.map(|store| {
            let tx = tx.clone();
            crate::history::writer::Writer::spawn(store, move |e| {
                let _ = tx.send(Msg::History(Box::new(e)));
            })
        }),
        ready: Default::default(),
    };
    let mut clipboard = Clipboard::new();
    let mut dirty = true;
    // Whether the pending frame answers user input (drawn sooner than stream-only frames).
    let mut input_dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let result = 'main: loop {
        let busy = rt.busy();
        tokio::select! {
            // While a frame is pending, messages wait in the channel: the task is not woken per
            // token, and the draw picks them all up at once. Input waits at most one frame.
            msg = rx.recv(), if !dirty => {
                let Some(msg) = msg else { break Ok(()) };
                input_dirty |= is_input(&msg);
                let mut fx = step(&mut app, msg);
                // A burst costs one frame: take in what queued up, a slice at a time with each
                // slice's effects carried out, until the queue is empty or the frame is due.
                loop {
                    let more = take_queued(&mut app, &mut rx, &mut fx, &mut input_dirty);
                    let stop = fx.iter().any(|e| matches!(e, Effect::Suspend));
                    for e in fx.drain(..) {
                        run_effect(e, &mut rt, &source, &tx, &mut clipboard, &mut history);
                    }
                    if stop {
                        if let Err(e) = suspend(&mut terminal, enhanced, app.mouse_capture) {
                            break 'main Err(format!("cannot take the terminal back after Ctrl+Z: {e}"));
                        }
                        app.size = ratatui::crossterm::terminal::size().unwrap_or(app.size);
                        break;
                    }
                    let due = last_draw + if input_dirty { FRAME } else { STREAM_FRAME };
                    if !more || app.quitting || Instant::now() >= due {
                        break;
                    }
                }
                dirty = true;
            }
            _ = tokio::time::sleep_until(last_draw + if input_dirty { FRAME } else { STREAM_FRAME }), if dirty => {
                // Take in what queued up while the frame was pending (one slice), then draw.
                let mut fx = Vec::new();
                take_queued(&mut app, &mut rx, &mut fx, &mut input_dirty);
                let stop = fx.iter().any(|e| matches!(e, Effect::Suspend));
                for e in fx {
                    run_effect(e, &mut rt, &source, &tx, &mut clipboard, &mut history);
                }
                if stop {
                    if let Err(e) = suspend(&mut terminal, enhanced, app.mouse_capture) {
                        break Err(format!("cannot take the terminal back after Ctrl+Z: {e}"));
                    }
                    app.size = ratatui::crossterm::terminal::size().unwrap_or(app.size);
                }
                if app.quitting {
                    break Ok(());
                }
                let _ = execute!(out, BeginSynchronizedUpdate);
                let drawn = terminal.draw(|f| ui::draw(f, &mut app));
                let _ = execute!(out, EndSynchronizedUpdate);
                if let Err(e) = drawn {
                    break Err(format!("drawing failed: {e}"));
                }
                last_draw = Instant::now();
                dirty = false;
                input_dirty = false;
            }
            _ = ticker.tick(), if busy => {
                step(&mut app, Msg::Tick);
                dirty = true;
            }
        }
        if app.quitting {
            break Ok(());
        }
    };
    rt.cancel_all();
    leave_terminal();
    // What the quit cut is written, marked cancelled, before the process goes.
    if let Some(w) = history.writer.take() {
        w.close(Duration::from_secs(5));
    }
    // Health outlives the session, so the next run starts from what this one learned.
    for e in rt.save_health().await {
        eprintln!("switchyard: {e}");
    }
    result
}

/// Messages that come from the user (or the terminal) rather than from streams.
fn is_input(m: &Msg) -> bool {
    matches!(
        m,
        Msg::Key(_) | Msg::Paste(_) | Msg::Mouse(_) | Msg::Resize(..) | Msg::Notice(..)
    )
}

/// Longest stretch of queued messages taken in before their effects are carried out.
const SLICE: Duration = Duration::from_millis(4);

/// Takes in queued messages for at most `SLICE`; says whether more may be waiting. Under a
/// burst the queue refills as fast as it drains: an unbounded drain held every effect (history's
/// copy of each chunk, 6 MB of 8 MB streamed) and the next frame until the burst ended.
fn take_queued(
    app: &mut App,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    fx: &mut Vec<Effect>,
    input_dirty: &mut bool,
) -> bool {
    // CPU time, not the runtime's clock (which a paused test clock would stop).
    let end = std::time::Instant::now() + SLICE;
    let mut taken = 0u32;
    while let Ok(m) = rx.try_recv() {
        *input_dirty |= is_input(&m);
        fx.extend(step(app, m));
        taken += 1;
        if taken.is_multiple_of(32) && std::time::Instant::now() >= end {
            return true;
        }
    }
    false
}

/// The history writer and the prompts it has yet to confirm, per request.
/// One message through `update`, with the wall clock read first (update itself reads none).
fn step(app: &mut App, msg: Msg) -> Vec<Effect> {
    app.now_ms = crate::free_tier::now_ms();
    update(app, msg)
}

/// Asks the gateway for the key's limits and usage; the answer comes back as `Msg::KeyInfo`.
fn fetch_key(rt: &Runtime, source: &Source, tx: &mpsc::UnboundedSender<Msg>) {
    let (client, ep, tx) = (rt.client().clone(), source.endpoint.clone(), tx.clone());
    tokio::spawn(async move {
        let got = tokio::time::timeout(Duration::from_secs(15), client.key_info(&ep)).await;
        let res = match got {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("GET /key did not answer in 15 s".into()),
        };
        let _ = tx.send(Msg::KeyInfo(res));
    });
}

struct History {
    writer: Option<crate::history::writer::Writer>,
    ready: std::collections::HashMap<u64, tokio::sync::watch::Receiver<bool>>,
}

fn run_effect(
    e: Effect,
    rt: &mut Runtime,
    source: &Source,
    tx: &mpsc::UnboundedSender<Msg>,
    clipboard: &mut Clipboard,
    history: &mut History,
) {
    match e {
        Effect::History(op) => {
            let Some(w) = &history.writer else { return };
            if let crate::history::writer::Op::Turn { starts, .. } = &*op {
                // One signal for the whole turn: every pane's request waits for the prompt.
                let (written, ready) = tokio::sync::watch::channel(false);
                for s in starts {
                    history.ready.insert(s.req, ready.clone());
                }
                w.send(
                    *op,
                    Some(Box::new(move || {
                        written.send_replace(true);
                    })),
                );
            } else {
                w.send(*op, None);
            }
        }
        Effect::Start {
            pane,
            req,
            request,
            text_alternative,
            affinity,
            eu,
        } => {
            let tx = tx.clone();
            let opts = JobOptions {
                screen: true,
                affinity,
                eu,
                text_alternative: text_alternative.map(|r| std::sync::Arc::new(*r)),
            };
            let ready = history.ready.remove(&req);
            rt.spawn_after(ready, req, *request, opts, move |ev| {
                let msg = match ev {
                    JobEvent::Attempt {
                        endpoint,
                        provider,
                        model,
                    } => Msg::Attempt {
                        pane,
                        req,
                        endpoint,
                        provider,
                        model,
                    },
                    JobEvent::Stream { at, events } => Msg::Stream {
                        pane,
                        req,
                        at,
                        events,
                    },
                    JobEvent::Routing(ev) => Msg::Rerouted {
                        pane,
                        req,
                        // A restart replaces the partial text; the rest keep it.
                        restart: matches!(ev, crate::routing::exec::ExecEvent::Restart { .. }),
                        note: ev.note().unwrap_or_default(),
                    },
                    JobEvent::Why(lines) => Msg::Why { pane, req, lines },
                    JobEvent::Ended(outcome) => Msg::Ended { pane, req, outcome },
                };
                let _ = tx.send(msg);
            });
        }
        Effect::Cancel(req) => rt.cancel(req),
        Effect::Attach {
            target,
            already,
            limits,
            paste,
        } => {
            let tx = tx.clone();
            let client = rt.client().clone();
            tokio::spawn(async move {
                // A pasted path that names no file was words for the prompt after all.
                if let (Some(text), crate::attach::load::Target::Path(p)) = (&paste, &target)
                    && !std::path::Path::new(p).exists()
                {
                    let _ = tx.send(Msg::PasteBack(text.clone()));
                    return;
                }
                let r = crate::attach::load::target(&target, limits, already, &client).await;
                let _ = tx.send(Msg::Attached(r.map(Box::new)));
            });
        }
        Effect::Complete(input) => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let list =
                    crate::attach::load::complete(&input, crate::app::attach_view::MAX_COMPLETIONS);
                let _ = tx.send(Msg::Completions { input, list });
            });
        }
        Effect::ClipboardImage { already, limits } => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let r = crate::clipboard::image_png().and_then(|bytes| {
                    crate::attach::load::isolated(move || {
                        crate::attach::load::from_bytes(
                            "clipboard.png".into(),
                            crate::attach::Origin::Clipboard,
                            bytes,
                            &limits,
                            already,
                        )
                    })
                });
                let _ = tx.send(Msg::Attached(r.map(Box::new)));
            });
        }
        Effect::Copy(text) => {
            let mut out = std::io::stdout();
            if let Err(err) = clipboard.copy(&text, &mut out) {
                let _ = tx.send(Msg::Notice(err, crate::app::state::Level::Error));
            }
            let _ = out.flush();
        }
        Effect::MouseCapture(on) => {
            let mut out = std::io::stdout();
            let _ = if on {
                execute!(out, EnableMouseCapture)
            } else {
                execute!(out, DisableMouseCapture)
            };
        }
        Effect::SavePresets(presets) => {
            if let Some(path) = crate::preset_store::path() {
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = crate::preset_store::save(&path, &presets) {
                        let _ = tx.send(Msg::Notice(e, crate::app::state::Level::Error));
                    }
                });
            }
        }
        Effect::SaveSchema { name, text } => {
            let Some(dir) = crate::schema_store::dir() else {
                let _ = tx.send(Msg::Notice(
                    "no config directory to save schemas in".into(),
                    crate::app::state::Level::Error,
                ));
                return;
            };
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let (msg, level) = match crate::schema_store::save(&dir, &name, &text) {
                    Ok(p) => (
                        format!("schema saved to {}", p.display()),
                        crate::app::state::Level::Info,
                    ),
                    Err(e) => (e, crate::app::state::Level::Error),
                };
                let _ = tx.send(Msg::Notice(msg, level));
            });
        }
        Effect::SaveFreeTier(mut counter) => {
            if let Some(path) = crate::free_tier::path() {
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    let now = crate::free_tier::now_ms();
                    if let Err(e) = crate::free_tier::save(&path, &mut counter, now) {
                        let _ = tx.send(Msg::Notice(e, crate::app::state::Level::Error));
                    }
                });
            }
        }
        Effect::FetchKey => fetch_key(rt, source, tx),
        Effect::LoadCases(path) => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Msg::Cases(crate::bakeoff::cases::read(&path)));
            });
        }
        Effect::WriteReport { path, text } => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let (msg, level) = match std::fs::write(&path, text) {
                    Ok(()) => (
                        format!("report saved to {}", path.display()),
                        crate::app::state::Level::Info,
                    ),
                    Err(e) => (
                        format!("the report could not be saved to {}: {e}", path.display()),
                        crate::app::state::Level::Error,
                    ),
                };
                let _ = tx.send(Msg::Notice(msg, level));
            });
        }
        Effect::FetchEndpoints(model) => {
            let (client, ep, tx) = (rt.client().clone(), source.endpoint.clone(), tx.clone());
            tokio::spawn(async move {
                let got = tokio::time::timeout(
                    Duration::from_secs(20),
                    client.list_endpoints(&ep, &model),
                )
                .await;
                let res = match got {
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(_) => Err("the listing did not arrive in 20 s".into()),
                };
                let _ = tx.send(Msg::Endpoints(model, res));
            });
        }
        Effect::SaveSettings(saved) => {
            if let Some(path) = crate::settings_store::path() {
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = crate::settings_store::save(&path, &saved) {
                        let _ = tx.send(Msg::Notice(e, crate::app::state::Level::Error));
                    }
                });
            }
        }
        Effect::Fault(req) => {
            use crate::fleet::{FaultKind, FaultSpec};
            let Some(fleet) = &source.fleet else {
                let _ = tx.send(Msg::Notice(
                    "faults can only be injected into the simulated fleet".into(),
                    crate::app::state::Level::Error,
                ));
                return;
            };
            let Some(r) = req else {
                let n = fleet.clear_faults();
                let _ = tx.send(Msg::Notice(
                    format!("cleared {n} injected fault(s)"),
                    crate::app::state::Level::Info,
                ));
                return;
            };
            let shown = format!(
                "injected {} on {} · {} for 60 s",
                r.kind, r.provider, r.model
            );
            let kind = match r.kind {
                "outage" => FaultKind::Outage,
                "rate_limit" => FaultKind::RateLimit {
                    retry_after_secs: Some(10),
                },
                "errors" => FaultKind::Errors { status: 502 },
                _ => FaultKind::Cut { after_tokens: 20 },
            };
            let spec = FaultSpec::new(r.slug, kind).model(r.model).for_secs(60.0);
            let _ = tx.send(match fleet.inject(spec) {
                Ok(_) => Msg::Notice(shown, crate::app::state::Level::Info),
                Err(e) => Msg::Notice(
                    format!("fault not injected: {e}"),
                    crate::app::state::Level::Error,
                ),
            });
        }
        // Carried out by the loop, which owns the terminal (`suspend`).
        Effect::Suspend | Effect::Quit => {}
    }
}

/// Ctrl+Z: gives the terminal back as it was, stops until the shell's `fg` (SIGTSTP; where
/// nothing can resume it — no job control — the kernel ignores it and this returns at once),
/// then takes the terminal again and redraws everything.
fn suspend(
    terminal: &mut ratatui::DefaultTerminal,
    enhanced: bool,
    mouse: bool,
) -> std::io::Result<()> {
    leave_terminal();
    #[cfg(unix)]
    // SAFETY: raising a signal with its default action on our own process.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    ratatui::crossterm::terminal::enable_raw_mode()?;
    let mut out = std::io::stdout();
    execute!(
        out,
        ratatui::crossterm::terminal::EnterAlternateScreen,
        EnableBracketedPaste
    )?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    if enhanced {
        ENHANCED.store(true, Ordering::SeqCst);
        execute!(
            out,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )?;
    }
    // The screen was the shell's meanwhile (and may have changed size): draw every cell
    // again. `resize` clears without asking the terminal where its cursor is, an answer the
    // input thread would take.
    let (w, h) = ratatui::crossterm::terminal::size()?;
    terminal.resize(ratatui::layout::Rect::new(0, 0, w, h))
}

/// Forwards the router's health snapshots (already coalesced to ≤ 4/s) to the UI.
fn spawn_health(
    router: crate::source::LocalRouter,
    observed: bool,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let labels_of =
        |r: &crate::routing::EndpointRegistry| -> Vec<crate::app::state::EndpointLabel> {
            r.iter()
                .map(|(_, m)| crate::app::state::EndpointLabel {
                    slug: m.provider_slug.clone(),
                    provider: m.provider_name.clone(),
                    model: m.model.clone(),
                    prompt_price: m.pricing.prompt,
                    completion_price: m.pricing.completion,
                    price_unknown: m.pricing.unknown,
                })
                .collect()
        };
    let mut snaps = router.handle.snapshots();
    // The registry grows when an observer learns endpoints from responses.
    let mut registry = router.handle.registry();
    tokio::spawn(async move {
        let mut known = registry.borrow_and_update().clone();
        let mut labels = labels_of(&known);
        loop {
            let snapshot = snaps.borrow_and_update().clone();
            let view = crate::app::state::HealthView {
                labels: labels.clone(),
                selected: 0,
                snapshot,
                registry: known.clone(),
                observed,
                hscroll: 0,
            };
            if tx.send(Msg::Health(Box::new(view))).is_err() {
                break;
            }
            tokio::select! {
                r = snaps.changed() => if r.is_err() { break },
                r = registry.changed() => {
                    if r.is_err() { break }
                    known = registry.borrow_and_update().clone();
                    labels = labels_of(&known);
                }
            }
        }
    });
}

/// Saves routing health every minute, so a crash or a killed terminal loses at most a minute
/// of what the session learned (quitting saves too).
fn spawn_health_saver(router: crate::source::LocalRouter, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            if tx.is_closed() {
                break;
            }
            if let Err(e) = router.save().await {
                let _ = tx.send(Msg::Notice(e, crate::app::state::Level::Error));
            }
        }
    });
}

/// Reads the terminal on its own thread: blocking reads never hold up the runtime, and a quiet
/// moment after an unfinished sequence (100 ms; 1 s inside a paste) hands it over as keys.
fn spawn_input(tx: mpsc::UnboundedSender<Msg>) {
    let spawned = std::thread::Builder::new()
        .name("terminal input".into())
        .spawn(move || read_input(&tx));
    if spawned.is_err() {
        // Without input there is no way to quit but a signal; say so rather than hang silently.
        eprintln!("switchyard: cannot start the input reader");
    }
}

#[cfg(unix)]
fn read_input(tx: &mpsc::UnboundedSender<Msg>) {
    use crate::app::state::{Level, MAX_PASTE_BYTES};
    use crate::term_input::{Input, Parser, coalesce};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use std::os::fd::AsRawFd;
    // The terminal crossterm put in raw mode: stdin when it is one, else /dev/tty.
    // SAFETY: isatty only inspects the descriptor.
    let tty = (unsafe { libc::isatty(0) } != 1)
        .then(|| std::fs::File::open("/dev/tty").ok())
        .flatten();
    let fd = tty.as_ref().map_or(0, |f| f.as_raw_fd());
    let mut parser = Parser::new(MAX_PASTE_BYTES);
    let mut buf = vec![0u8; 64 * 1024];
    // The Enter that ended a burst of keys, until we know whether the burst goes on.
    let mut held = false;
    loop {
        let wait = if held {
            15
        } else if parser.in_paste() {
            1000
        } else if parser.pending() {
            100
        } else {
            -1
        };
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, wait) };
        let mut out = Vec::new();
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            let _ = tx.send(Msg::Quit);
            return;
        }
        if ready == 0 && held {
            held = false;
            let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
            if tx.send(Msg::Key(enter)).is_err() {
                return;
            }
            continue;
        }
        if ready == 0 {
            parser.flush(&mut out);
        } else {
            // SAFETY: reads at most buf.len() bytes into buf.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = std::io::Error::last_os_error().kind();
                if matches!(
                    e,
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
                ) {
                    continue;
                }
            }
            if n <= 0 {
                // The terminal is gone: quit (and save) quietly.
                let _ = tx.send(Msg::Quit);
                return;
            }
            parser.feed(&buf[..n as usize], &mut out);
        }
        let (events, hold) = coalesce(out, held);
        held = hold;
        for input in events {
            let msg = match input {
                Input::Event(Event::Key(k)) => Msg::Key(k),
                Input::Event(Event::Paste(p)) => Msg::Paste(p),
                Input::Event(Event::Mouse(m)) => Msg::Mouse(m),
                Input::Event(_) => continue,
                Input::PasteTooLarge(n) => {
                    Msg::Notice(crate::app::update::paste_refused(n), Level::Error)
                }
                Input::Osc(text) => match text
                    .strip_prefix("11;")
                    .and_then(crate::theme::file::background_of_reply)
                {
                    Some(bg) => Msg::Background(bg),
                    None => continue,
                },
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    }
}

#[cfg(not(unix))]
fn read_input(tx: &mpsc::UnboundedSender<Msg>) {
    let _ = tx.send(Msg::Notice(
        "terminal input is only read on Unix-like systems".into(),
        crate::app::state::Level::Error,
    ));
}

fn spawn_signals(tx: mpsc::UnboundedSender<Msg>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        // Every catchable signal that ends a program quits the same way: terminal restored,
        // health saved.
        if let Ok(mut winch) = signal(SignalKind::window_change()) {
            let tx = tx.clone();
            tokio::spawn(async move {
                while winch.recv().await.is_some() {
                    let (w, h) = ratatui::crossterm::terminal::size().unwrap_or((80, 24));
                    if tx.send(Msg::Resize(w, h)).is_err() {
                        break;
                    }
                }
            });
        }
        let (Ok(mut term), Ok(mut hup), Ok(mut int), Ok(mut quit)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::quit()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
            _ = quit.recv() => {}
        }
        let _ = tx.send(Msg::Quit);
    });
}
