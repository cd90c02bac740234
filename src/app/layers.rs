//! The stack of overlays and panels over the workbench (gitui's components, codex-rs's view
//! stack): each layer takes the keys while it is on top, turning them into changes of the
//! workbench and effects, draws itself, and lists its commands. A new overlay or panel is one
//! more `Layer`, not another arm in `update`.

use super::keymap::{Action, Context, hints};
use super::panels::{Panel, PanelKind};
use super::state::{App, Level, Picker, PickerMode};
use super::update::{Effect, FaultRequest, picker_matches, quit};
use crate::app::form::Outcome;
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::any::Any;

/// What a layer wants after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Stay open.
    Keep,
    /// Close.
    Close,
}

/// Where a layer is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Over the whole screen (popups).
    Over,
    /// In the panel's place: beside the panes when the screen is wide, over them when not.
    Panel,
}

/// One overlay or panel.
pub trait Layer: Any {
    /// The key context its keys are looked up in.
    fn context(&self) -> Context;
    /// Where it is drawn.
    fn placement(&self) -> Placement {
        Placement::Over
    }
    /// Handles a key (its action in `context`, or the character it types).
    fn key(
        &mut self,
        app: &mut App,
        action: Option<Action>,
        typed: Option<char>,
        fx: &mut Vec<Effect>,
    ) -> Reply;
    /// Handles pasted text (ignored unless the layer takes text).
    fn paste(&mut self, _app: &mut App, _text: &str, _fx: &mut Vec<Effect>) -> Reply {
        Reply::Keep
    }
    /// Brings what it shows up to date after new health (panels recompute their preview).
    fn refresh(&mut self, _app: &App) {}
    /// Draws itself into `area` (only view caches are written).
    fn draw(&mut self, frame: &mut Frame, app: &App, area: Rect, th: &Theme);
    /// Its commands, as (keys, word), from the key table.
    fn commands(&self) -> Vec<(String, &'static str)> {
        hints(self.context())
    }
    /// For finding a layer by type.
    fn as_any(&self) -> &dyn Any;
    /// For finding a layer by type, to change it.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

macro_rules! any_impls {
    () => {
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
        fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
            self
        }
    };
}
pub(crate) use any_impls;

/// Gives the top layer a key; it stays where it was unless it closes.
pub fn key_to_top(
    app: &mut App,
    action: Option<Action>,
    typed: Option<char>,
    fx: &mut Vec<Effect>,
) -> bool {
    let Some(mut top) = app.layers.pop() else {
        return false;
    };
    let at = app.layers.len();
    // Ctrl+C in an overlay or panel closes it (Esc's meaning there), never quits.
    let action = match action {
        Some(Action::Interrupt) => Some(Action::Close),
        a => a,
    };
    // Quit is reachable from every layer, whatever the layer does with its keys.
    if action == Some(Action::Quit) {
        quit(app, fx);
        return true;
    }
    let reply = top.key(app, action, typed, fx);
    if reply == Reply::Keep && !app.quitting {
        // A layer it opened goes above it.
        app.layers.insert(at.min(app.layers.len()), top);
    }
    true
}

/// Gives the top layer a paste; `false` when there is no layer.
pub fn paste_to_top(app: &mut App, text: &str, fx: &mut Vec<Effect>) -> bool {
    let Some(mut top) = app.layers.pop() else {
        return false;
    };
    let at = app.layers.len();
    if top.paste(app, text, fx) == Reply::Keep {
        app.layers.insert(at.min(app.layers.len()), top);
    }
    true
}

/// Lets every layer catch up with new health.
pub fn refresh_all(app: &mut App) {
    let mut layers = std::mem::take(&mut app.layers);
    for l in &mut layers {
        l.refresh(app);
    }
    layers.append(&mut app.layers);
    app.layers = layers;
}

/// A popup any key but scrolling closes: key help (F1) or why (Alt+W).
pub enum Popup {
    /// Key help, scrolled to this row (it scrolls when the screen is short).
    Help(usize),
    /// Why the focused pane's last request went where it did.
    Why,
}

impl Layer for Popup {
    fn context(&self) -> Context {
        Context::Popup
    }
    fn key(
        &mut self,
        app: &mut App,
        a: Option<Action>,
        _: Option<char>,
        _: &mut Vec<Effect>,
    ) -> Reply {
        if let Popup::Help(top) = self {
            let rows = super::keymap::help_rows().len() + 1;
            let page = app.size.1.saturating_sub(4).max(1) as isize;
            let d = match a {
                Some(Action::Select(d)) => d as isize,
                Some(Action::ScrollPageUp) => -page,
                Some(Action::ScrollPageDown) => page,
                _ => return Reply::Close,
            };
            *top = top.saturating_add_signed(d).min(rows.saturating_sub(1));
            return Reply::Keep;
        }
        Reply::Close
    }
    fn commands(&self) -> Vec<(String, &'static str)> {
        match self {
            Popup::Help(_) => hints(self.context()),
            // Why does not scroll (it wraps to the screen).
            Popup::Why => hints(self.context())
                .into_iter()
                .filter(|(_, w)| *w != "scroll")
                .collect(),
        }
    }
    fn draw(&mut self, frame: &mut Frame, app: &App, _area: Rect, th: &Theme) {
        match self {
            Popup::Help(top) => crate::ui::overlay::draw_help(frame, *top, th),
            Popup::Why => crate::ui::overlay::draw_why(frame, app, th),
        }
    }
    any_impls!();
}

/// Live endpoint health (F6): select, scroll sideways, inject faults into the fleet.
pub struct Health;

impl Layer for Health {
    fn context(&self) -> Context {
        Context::Health
    }
    fn key(
        &mut self,
        app: &mut App,
        a: Option<Action>,
        _: Option<char>,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        let faults = app.faults;
        let source = app.source_label.clone();
        let Some(h) = &mut app.health else {
            return Reply::Close;
        };
        let kind = match a {
            Some(Action::Select(d)) => {
                h.selected = h
                    .selected
                    .saturating_add_signed(d as isize)
                    .min(h.labels.len().saturating_sub(1));
                return Reply::Keep;
            }
            Some(Action::Sideways(d)) => {
                h.hscroll = h.hscroll.saturating_add_signed(d as i16).min(200);
                return Reply::Keep;
            }
            Some(Action::Fault(_) | Action::ClearFaults) if !faults => {
                // Said before anything is announced: only the simulated fleet takes faults.
                app.notify(
                    format!(
                        "faults can only be injected into the simulated fleet; the source here is {source}"
                    ),
                    Level::Error,
                );
                return Reply::Keep;
            }
            Some(Action::Fault(f)) => f.name(),
            Some(Action::ClearFaults) => {
                fx.push(Effect::Fault(None));
                return Reply::Keep;
            }
            _ => return Reply::Close,
        };
        let Some(l) = h.labels.get(h.selected) else {
            return Reply::Keep;
        };
        // The runtime says whether it took (only then is it announced).
        fx.push(Effect::Fault(Some(FaultRequest {
            slug: l.slug.clone(),
            provider: l.provider.clone(),
            model: l.model.clone(),
            kind,
        })));
        Reply::Keep
    }
    fn draw(&mut self, frame: &mut Frame, app: &App, _area: Rect, th: &Theme) {
        crate::ui::overlay::draw_health(frame, app, th);
    }
    any_impls!();
}

impl Layer for Picker {
    fn context(&self) -> Context {
        Context::Picker
    }
    fn key(
        &mut self,
        app: &mut App,
        a: Option<Action>,
        typed: Option<char>,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        let p = self;
        match a {
            Some(Action::Close) => return Reply::Close,
            Some(Action::Select(d)) => p.selected = p.selected.saturating_add_signed(d as isize),
            Some(Action::Erase) => {
                p.query.pop();
                p.selected = 0;
            }
            Some(Action::Choose) => {
                let matches = picker_matches(&app.catalog, &p.query);
                let chosen = match matches.get(p.selected.min(matches.len().saturating_sub(1))) {
                    Some(m) => m.id.clone(),
                    // Without a catalog the typed id is the only way to name a model.
                    None if !p.query.trim().is_empty() && app.catalog.is_empty() => {
                        p.query.trim().to_string()
                    }
                    None if !p.query.trim().is_empty() => {
                        app.notify(
                            format!(
                                "no model matches “{}”: nothing changed (Esc closes)",
                                p.query.trim()
                            ),
                            Level::Error,
                        );
                        return Reply::Keep;
                    }
                    None => {
                        app.notify("type a model id or pick one from the list", Level::Error);
                        return Reply::Keep;
                    }
                };
                choose_model(app, p.mode, chosen, fx);
                return Reply::Close;
            }
            _ => {
                if let Some(c) = typed {
                    p.query.push(c);
                    p.selected = 0;
                }
            }
        }
        let n = picker_matches(&app.catalog, &p.query).len();
        p.selected = p.selected.min(n.saturating_sub(1));
        Reply::Keep
    }
    fn paste(&mut self, _app: &mut App, text: &str, _fx: &mut Vec<Effect>) -> Reply {
        self.query.push_str(text.lines().next().unwrap_or(""));
        self.selected = 0;
        Reply::Keep
    }
    fn draw(&mut self, frame: &mut Frame, app: &App, _area: Rect, th: &Theme) {
        crate::ui::overlay::draw_picker(frame, app, self, th);
    }
    any_impls!();
}

/// The picker's choice: a new pane, or the focused pane's model (its running stream stops).
fn choose_model(app: &mut App, mode: PickerMode, chosen: String, fx: &mut Vec<Effect>) {
    match mode {
        PickerMode::Add => {
            app.add_pane(chosen.clone());
            app.focus = app.panes.len() - 1;
            app.notify(format!("added a pane for {chosen}"), Level::Info);
        }
        PickerMode::Replace => {
            // A running stream stops, kept as cancelled.
            super::update::cancel_pane(app, app.focus, fx);
            if let Some(pane) = app.panes.get_mut(app.focus) {
                pane.model = chosen.clone();
                app.notify(format!("pane now uses {chosen}"), Level::Info);
            }
        }
    }
}

/// A settings panel (F2 routing, F3 privacy, F4 structured output).
impl Layer for Panel {
    fn context(&self) -> Context {
        Context::Panel
    }
    fn placement(&self) -> Placement {
        Placement::Panel
    }
    fn key(
        &mut self,
        app: &mut App,
        a: Option<Action>,
        typed: Option<char>,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        self.rev += 1;
        if a == Some(Action::ToggleTarget) {
            self.all = !self.all;
            return Reply::Keep;
        }
        let outcome = self.form.key(a, typed);
        panel_outcome(self, app, outcome, fx)
    }
    fn paste(&mut self, app: &mut App, text: &str, fx: &mut Vec<Effect>) -> Reply {
        self.rev += 1;
        let outcome = self.form.paste(text);
        panel_outcome(self, app, outcome, fx)
    }
    fn refresh(&mut self, app: &App) {
        self.rev += 1;
        refresh_panel(self, app);
    }
    fn commands(&self) -> Vec<(String, &'static str)> {
        let editing = self.form.editing_lines();
        let mut v: Vec<(String, &'static str)> = hints(Context::Panel)
            .into_iter()
            .filter(|(_, w)| !(editing && matches!(*w, "toggle" | "apply" | "change" | "field")))
            .collect();
        if editing {
            // In multi-line text Enter is a new line; say what applies instead.
            use super::keymap::key_in;
            v.insert(
                0,
                (key_in(Context::Panel, Action::NextField(1)), "next field"),
            );
            v.insert(1, ("Enter".into(), "new line"));
            v.insert(2, (key_in(Context::Panel, Action::Apply), "apply"));
        }
        v
    }
    fn draw(&mut self, frame: &mut Frame, _app: &App, area: Rect, th: &Theme) {
        crate::ui::panel::draw(frame, self, area, th);
    }
    any_impls!();
}

/// Opens `kind` on the focused pane's settings.
pub fn open_panel(app: &mut App, kind: PanelKind) {
    let Some(p) = app.focused() else { return };
    let providers = super::update::providers_of(app);
    let mut panel = super::panels::open(kind, &p.settings, &providers, &p.model, &app.library);
    panel.known_models = app.catalog.iter().map(|m| m.id.clone()).collect();
    refresh_panel(&mut panel, app);
    app.layers.push(Box::new(panel));
}

/// Recomputes a panel's preview and body from its fields and the latest health.
fn refresh_panel(panel: &mut Panel, app: &App) {
    let base = app
        .focused()
        .map(|p| p.settings.clone())
        .unwrap_or_default();
    let router = app
        .health
        .as_ref()
        .map(|h| (&h.registry, &h.snapshot, h.observed));
    super::panels::refresh(panel, &base, router, app.server_kind);
}

/// What a key or a paste did to a panel.
fn panel_outcome(
    panel: &mut Panel,
    app: &mut App,
    outcome: Outcome,
    fx: &mut Vec<Effect>,
) -> Reply {
    let base = app
        .panes
        .get(app.focus)
        .map(|p| p.settings.clone())
        .unwrap_or_default();
    match outcome {
        Outcome::Changed => {
            match panel.form.fields.get(panel.form.focus).map(|f| f.key) {
                Some("start") => super::panels::apply_start(panel, &app.library.schemas),
                Some("preset") => super::panels::apply_preset(panel, &base),
                _ => {}
            }
            refresh_panel(panel, app);
            Reply::Keep
        }
        Outcome::Close => {
            app.notify("panel closed; nothing changed", Level::Info);
            Reply::Close
        }
        Outcome::Apply => {
            let save_as = panel
                .form
                .text("save_as")
                .map(|name| (name, panel.form.editor_text("schema")));
            // A new preset is what the routing fields say, whatever pane they are applied to.
            let save_preset = panel.form.text("save_preset").and_then(|name| {
                let s = super::panels::read(panel, &base).ok()?;
                Some((name, s.provider.unwrap_or_default()))
            });
            if !apply_panel(panel, app) {
                return Reply::Keep;
            }
            if let Some((name, prefs)) = save_preset {
                app.library.presets.insert(name.clone(), prefs);
                fx.push(Effect::SavePresets(Box::new(app.library.presets.clone())));
                app.notify(
                    format!("routing applied; preset “{name}” saved"),
                    Level::Info,
                );
            }
            fx.push(Effect::SaveSettings(Box::new(
                super::update::saved_settings(app),
            )));
            if let Some((name, text)) = save_as {
                // Listed at once; the write happens off the UI and reports a failure.
                let schemas = &mut app.library.schemas;
                schemas.retain(|f| f.name != name);
                schemas.push(crate::schema_store::SchemaFile {
                    name: name.clone(),
                    text: text.clone(),
                });
                schemas.sort_by(|a, b| a.name.cmp(&b.name));
                fx.push(Effect::SaveSchema { name, text });
            }
            Reply::Close
        }
        Outcome::Moved | Outcome::Nothing => Reply::Keep,
    }
}

/// Applies the panel to the focused pane or every pane (and new panes); `false`, saying which
/// fields stop it, when a field is wrong.
fn apply_panel(panel: &mut Panel, app: &mut App) -> bool {
    let focus = app.focus;
    let base = app
        .panes
        .get(focus)
        .map(|p| p.settings.clone())
        .unwrap_or_default();
    if super::panels::read(panel, &base).is_err() {
        app.notify("not applied: fix the fields marked ✗", Level::Error);
        return false;
    }
    let title = panel.kind.title().to_lowercase();
    if panel.all {
        for p in &mut app.panes {
            if let Ok(s) = super::panels::read(panel, &p.settings) {
                if s != p.settings {
                    p.routed_from = p.turns.len();
                }
                p.settings = s;
            }
        }
        if let Ok(s) = super::panels::read(panel, &app.defaults) {
            app.defaults = s;
        }
        app.notify(
            format!("{title} settings applied to every pane"),
            Level::Info,
        );
    } else if let Some(p) = app.panes.get_mut(focus) {
        if let Ok(s) = super::panels::read(panel, &p.settings) {
            if s != p.settings {
                p.routed_from = p.turns.len();
            }
            p.settings = s;
        }
        let model = p.model.clone();
        app.notify(format!("{title} settings applied to {model}"), Level::Info);
    }
    true
}
