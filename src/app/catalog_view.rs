//! The catalog browser (F8): every model the source lists, searched and filtered from one line
//! (`catalog_query`), sorted, with the selected model's details and its endpoints (the
//! gateway's listing beside Switchyard's own observed health), and keys to open it in a new
//! pane or put it in the focused one.

use super::keymap::{Action, Context, hints};
use super::layers::{Layer, Reply};
use super::state::{App, Level, Listing, MAX_PANES};
use super::update::Effect;
use crate::catalog_query::{Query, Sort, parse, run_indexed};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;

/// The browser's state.
#[derive(Default)]
pub struct Browser {
    /// The search line.
    pub input: String,
    /// What it asks for (read again on every edit).
    pub query: Query,
    /// The list's order.
    pub sort: Sort,
    /// The highlighted row.
    pub selected: usize,
}

impl Browser {
    /// Opens the browser on the focused pane's model.
    pub fn open(app: &mut App, fx: &mut Vec<Effect>) {
        let mut b = Browser::default();
        // On the model offered in place of a pane's (a free variant that ended), else the
        // focused pane's.
        let on = app
            .offer
            .take()
            .or_else(|| app.focused().map(|p| p.model.clone()));
        if let Some(model) = on {
            b.selected = app.catalog.iter().position(|m| m.id == model).unwrap_or(0);
        }
        if app.catalog.is_empty() {
            app.notify("the model list has not arrived yet", Level::Error);
        }
        b.want_endpoints(app, fx);
        app.layers.push(Box::new(b));
    }

    /// The id of the highlighted model.
    pub fn chosen(&self, app: &App) -> Option<String> {
        run_indexed(&app.catalog, &app.catalog_index, &self.query, self.sort)
            .get(self.selected)
            .map(|m| m.id.clone())
    }

    /// Asks for the highlighted model's endpoints, once, where a gateway lists them.
    fn want_endpoints(&self, app: &mut App, fx: &mut Vec<Effect>) {
        if !app.gateway {
            return;
        }
        if let Some(id) = self.chosen(app)
            && !app.endpoints.contains_key(&id)
        {
            app.endpoints.insert(id.clone(), Listing::Loading);
            fx.push(Effect::FetchEndpoints(id));
        }
    }
}

impl Layer for Browser {
    fn context(&self) -> Context {
        Context::Catalog
    }

    fn key(
        &mut self,
        app: &mut App,
        action: Option<Action>,
        typed: Option<char>,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        let n = run_indexed(&app.catalog, &app.catalog_index, &self.query, self.sort).len();
        match action {
            Some(Action::Close | Action::Interrupt) => return Reply::Close,
            Some(Action::Select(d)) => {
                self.selected = self
                    .selected
                    .saturating_add_signed(d as isize)
                    .min(n.saturating_sub(1));
            }
            Some(Action::Sort) => {
                // The highlighted model stays highlighted in the new order.
                let keep = self.chosen(app);
                self.sort = self.sort.next();
                let list = run_indexed(&app.catalog, &app.catalog_index, &self.query, self.sort);
                self.selected = keep
                    .and_then(|id| list.iter().position(|m| m.id == id))
                    .unwrap_or(0);
            }
            Some(Action::Choose) => {
                let Some(id) = self.chosen(app) else {
                    app.notify("no model matches: nothing to open", Level::Error);
                    return Reply::Keep;
                };
                if app.panes.len() >= MAX_PANES {
                    app.notify(
                        format!(
                            "{MAX_PANES} panes is the most: {} puts {id} in this pane instead",
                            super::keymap::key_in(Context::Catalog, Action::ReplaceModel)
                        ),
                        Level::Error,
                    );
                    return Reply::Keep;
                }
                app.add_pane(id.clone());
                app.focus = app.panes.len() - 1;
                app.notify(format!("added a pane for {id}"), Level::Info);
                return Reply::Close;
            }
            Some(Action::ReplaceModel) => {
                let Some(id) = self.chosen(app) else {
                    app.notify("no model matches: nothing changed", Level::Error);
                    return Reply::Keep;
                };
                if app.panes.is_empty() {
                    app.add_pane(id.clone());
                } else {
                    // A running stream stops, kept as cancelled.
                    super::update::cancel_pane(app, app.focus, fx);
                    if let Some(p) = app.panes.get_mut(app.focus) {
                        p.model = id.clone();
                    }
                }
                app.notify(format!("this pane now uses {id}"), Level::Info);
                return Reply::Close;
            }
            Some(Action::Erase) => {
                self.input.pop();
                self.query = parse(&self.input);
                self.selected = 0;
            }
            _ => {
                if let Some(c) = typed
                    && self.input.len() < 256
                {
                    self.input.push(c);
                    self.query = parse(&self.input);
                    self.selected = 0;
                }
            }
        }
        self.want_endpoints(app, fx);
        Reply::Keep
    }

    fn paste(&mut self, app: &mut App, text: &str, fx: &mut Vec<Effect>) -> Reply {
        let line = text.lines().next().unwrap_or("");
        let room = 256usize.saturating_sub(self.input.len());
        self.input
            .extend(line.chars().take_while(|c| !c.is_control()).take(room));
        self.query = parse(&self.input);
        self.selected = 0;
        self.want_endpoints(app, fx);
        Reply::Keep
    }

    fn draw(&mut self, frame: &mut Frame, app: &App, _area: Rect, th: &Theme) {
        crate::ui::catalog::draw(frame, app, self, th);
    }

    fn commands(&self) -> Vec<(String, &'static str)> {
        hints(self.context())
    }

    super::layers::any_impls!();
}
