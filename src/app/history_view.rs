//! The history browser (F7): conversations most recent first with their models and totals, or,
//! as soon as words are typed, full-text hits across every pane's prompts and answers. Opens a
//! conversation back into its panes, forks one at a hit's turn, renames and deletes (asked
//! first). Every query goes to the history thread as an op; answers arrive as messages.

use super::keymap::{Action, Context, hints};
use super::layers::{Layer, Reply};
use super::state::{App, Level, Recording};
use super::update::Effect;
use crate::history::writer::Op;
use crate::history::{Hit, Summary};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::any::Any;

/// The browser's state.
#[derive(Debug, Default)]
pub struct Browser {
    /// The words typed (empty: the list).
    pub query: String,
    /// The query the shown results answer.
    pub answered: Option<String>,
    /// Conversations (empty query).
    pub list: Vec<Summary>,
    /// Hits (words typed).
    pub hits: Vec<Hit>,
    /// Highlighted row.
    pub selected: usize,
    /// A conversation waiting for the delete to be confirmed (Enter deletes, Esc keeps).
    pub confirm: Option<String>,
    /// The new title being typed.
    pub rename: Option<String>,
}

/// One selectable row: its conversation and, for a hit, its turn.
pub struct Row<'a> {
    /// Conversation.
    pub uid: &'a str,
    /// Title.
    pub title: &'a str,
    /// The hit's turn.
    pub seq: Option<u32>,
}

impl Browser {
    /// Opens the browser and asks for the list.
    pub fn open(app: &mut App, fx: &mut Vec<Effect>) {
        if let Recording::Unavailable(why) = &app.recording {
            app.notify(format!("no history: {why}"), Level::Error);
            return;
        }
        if app.recording == Recording::Off {
            app.notify(
                "history is off for this run (--no-history): nothing to browse",
                Level::Error,
            );
            return;
        }
        app.layers.push(Box::new(Browser::default()));
        fx.push(find(""));
    }

    /// Takes an answer, if it is for what is typed now.
    pub fn found(&mut self, query: String, list: Vec<Summary>, hits: Vec<Hit>) {
        if query != self.query {
            return;
        }
        self.answered = Some(query);
        self.list = list;
        self.hits = hits;
        self.selected = self.selected.min(self.len().saturating_sub(1));
    }

    /// Rows shown.
    pub fn len(&self) -> usize {
        if self.query.trim().is_empty() {
            self.list.len()
        } else {
            self.hits.len()
        }
    }

    /// Whether no row is shown.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The highlighted row.
    pub fn current(&self) -> Option<Row<'_>> {
        if self.query.trim().is_empty() {
            self.list.get(self.selected).map(|s| Row {
                uid: &s.uid,
                title: &s.title,
                seq: None,
            })
        } else {
            self.hits.get(self.selected).map(|h| Row {
                uid: &h.uid,
                title: &h.title,
                seq: Some(h.seq),
            })
        }
    }

    fn requery(&mut self, fx: &mut Vec<Effect>) {
        self.selected = 0;
        fx.push(find(&self.query));
    }
}

fn find(q: &str) -> Effect {
    Effect::History(Box::new(Op::Find { query: q.into() }))
}

impl Layer for Browser {
    fn context(&self) -> Context {
        Context::History
    }

    fn key(
        &mut self,
        app: &mut App,
        action: Option<Action>,
        typed: Option<char>,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        // Typing a new title: keys edit it.
        if let Some(title) = &mut self.rename {
            match action {
                Some(Action::Close | Action::Interrupt) => {
                    self.rename = None;
                    app.notify("rename cancelled", Level::Info);
                }
                Some(Action::Erase) => {
                    title.pop();
                }
                Some(Action::Choose) => {
                    let title = title.trim().to_string();
                    self.rename = None;
                    match (title.is_empty(), self.current()) {
                        (true, _) => app.notify("a title cannot be empty", Level::Error),
                        (false, Some(row)) => {
                            if row.uid == app.conversation.uid {
                                app.conversation.title = title.clone();
                            }
                            fx.push(Effect::History(Box::new(Op::Rename {
                                uid: row.uid.to_string(),
                                title,
                            })));
                            fx.push(find(&self.query));
                        }
                        (false, None) => {}
                    }
                }
                _ => {
                    if let Some(c) = typed
                        && title.chars().count() < 200
                    {
                        title.push(c);
                    }
                }
            }
            return Reply::Keep;
        }
        // Deleting: Enter confirms, anything else keeps it.
        if let Some(uid) = self.confirm.take() {
            if action == Some(Action::Choose) {
                if uid == app.conversation.uid {
                    // The conversation on screen goes on as a new one.
                    app.new_conversation();
                }
                fx.push(Effect::History(Box::new(Op::Delete { uid })));
                fx.push(find(&self.query));
            } else {
                app.notify("kept", Level::Info);
            }
            return Reply::Keep;
        }
        match action {
            Some(Action::Close | Action::Interrupt) => return Reply::Close,
            Some(Action::Select(d)) => {
                self.selected = self
                    .selected
                    .saturating_add_signed(d as isize)
                    .min(self.len().saturating_sub(1))
            }
            Some(Action::Erase) => {
                if self.query.pop().is_some() {
                    self.requery(fx);
                }
            }
            Some(Action::Choose) => match self.current() {
                Some(row) => fx.push(Effect::History(Box::new(Op::Load {
                    uid: row.uid.to_string(),
                }))),
                None => app.notify("nothing selected", Level::Error),
            },
            Some(Action::Fork) => match self.current() {
                Some(row) => {
                    let upto = row.seq.unwrap_or(u32::MAX);
                    fx.push(Effect::History(Box::new(Op::Fork {
                        uid: row.uid.to_string(),
                        upto,
                    })))
                }
                None => app.notify("nothing selected to fork", Level::Error),
            },
            Some(Action::Rename) => {
                if let Some(row) = self.current() {
                    self.rename = Some(row.title.to_string());
                }
            }
            Some(Action::Delete) => {
                if let Some(row) = self.current() {
                    app.notify("Enter deletes it · any other key keeps it", Level::Error);
                    self.confirm = Some(row.uid.to_string());
                }
            }
            _ => {
                if let Some(c) = typed {
                    self.query.push(c);
                    self.requery(fx);
                }
            }
        }
        Reply::Keep
    }

    fn paste(&mut self, _app: &mut App, text: &str, fx: &mut Vec<Effect>) -> Reply {
        let line = text.lines().next().unwrap_or("");
        match &mut self.rename {
            Some(t) => t.push_str(line),
            None => {
                self.query.push_str(line);
                self.requery(fx);
            }
        }
        Reply::Keep
    }

    fn draw(&mut self, frame: &mut Frame, app: &App, _area: Rect, th: &Theme) {
        crate::ui::history::draw(frame, app, self, th);
    }

    fn commands(&self) -> Vec<(String, &'static str)> {
        if self.rename.is_some() {
            return vec![("Enter".into(), "save title"), ("Esc".into(), "cancel")];
        }
        hints(self.context())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
