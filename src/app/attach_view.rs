//! The attachments panel (F5): the next prompt's files with what each is and costs, a path typed
//! (Tab completes it) or pasted to add one, the clipboard's image, removing and reordering, and a
//! preview of the selected one. Reading a file is an effect; its result arrives as a message, so
//! the screen never waits on a disk, a URL or a PDF.

use super::keymap::{Action, Context, hints};
use super::layers::{Layer, Reply};
use super::state::{App, Level};
use super::update::Effect;
use crate::attach::load::{Loaded, Target, parse_target};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;

/// The panel's state.
#[derive(Default)]
pub struct AttachPanel {
    /// The path or URL being typed.
    pub input: String,
    /// The highlighted attachment.
    pub selected: usize,
    /// Why the last file was refused (shown until the next one is tried).
    pub error: Option<String>,
    /// What completes `input` (after Tab), at most `MAX_COMPLETIONS`.
    pub completions: Vec<String>,
    /// The preview picture, encoded for the terminal, by content hash.
    pub preview: Option<(String, ratatui_image::protocol::StatefulProtocol)>,
}

/// Completions listed.
pub const MAX_COMPLETIONS: usize = 200;

impl AttachPanel {
    /// Opens the panel.
    pub fn open(app: &mut App) {
        app.layers.push(Box::new(AttachPanel::default()));
    }
}

/// Starts reading `target` for the next prompt (`paste`: the text to put in the composer if it
/// names no file after all).
pub fn begin(app: &mut App, target: Target, paste: Option<String>, fx: &mut Vec<Effect>) {
    app.attach_loading += 1;
    let already = app.attachments.iter().map(|a| a.size).sum();
    fx.push(Effect::Attach {
        target,
        already,
        limits: app.attach_limits,
        paste,
    });
}

/// Whether pasted text is a file or URL to attach rather than words for the prompt: one line
/// that is a path (absolute, `~/`, `file://`, quoted as a drop gives it) or a URL ending in an
/// attachable extension.
pub fn paste_is_target(text: &str) -> Option<Target> {
    let t = text.trim();
    if t.contains('\n') || t.len() > 4096 {
        return None;
    }
    let looks_like_path =
        ['/', '~', '\'', '"'].iter().any(|c| t.starts_with(*c)) || t.starts_with("file://");
    match parse_target(t)? {
        Target::Url(u) => {
            let path = u
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            [".png", ".jpg", ".jpeg", ".webp", ".gif", ".pdf"]
                .iter()
                .any(|e| path.ends_with(e))
                .then_some(Target::Url(u))
        }
        p @ Target::Path(_) if looks_like_path => Some(p),
        Target::Path(_) => None,
    }
}

/// The open attachments panel, if any.
fn panel(app: &mut App) -> Option<&mut AttachPanel> {
    app.layers
        .iter_mut()
        .find_map(|l| l.as_any_mut().downcast_mut::<AttachPanel>())
}

/// What a read attachment does to the workbench (from `Msg::Attached`).
pub fn on_attached(app: &mut App, result: Result<Box<Loaded>, String>) {
    app.attach_loading = app.attach_loading.saturating_sub(1);
    match result {
        Ok(l) => {
            let a = l.attachment;
            let total: u64 = app.attachments.iter().map(|x| x.size).sum();
            if app.attachments.iter().any(|x| x.hash == a.hash) {
                app.notify(format!("{} is attached already", a.name), Level::Info);
                return;
            }
            // Reads run side by side: the message's cap is checked again as each arrives.
            if let Err(e) = app.attach_limits.check(a.size, total) {
                let msg = format!("{}: {e}", a.name);
                if let Some(p) = panel(app) {
                    p.error = Some(msg.clone());
                }
                app.notify(msg, Level::Error);
                return;
            }
            if let Some(t) = l.thumb {
                app.thumbs.insert(a.hash.clone(), t);
            }
            let note = match (a.original_pixels, a.pixels) {
                (Some((ow, oh)), Some((w, h))) => {
                    format!(" (downscaled from {ow}×{oh} to {w}×{h})")
                }
                _ => String::new(),
            };
            app.notify(
                format!(
                    "attached {}{note} · {} lists them",
                    crate::safe_text::neutralise(&a.chip()),
                    super::keymap::key_for(Action::Attachments)
                ),
                Level::Info,
            );
            app.attachments.push(a);
            let n = app.attachments.len();
            if let Some(p) = panel(app) {
                p.error = None;
                p.selected = n - 1;
            }
        }
        Err(e) => {
            let e = crate::safe_text::neutralise(&e).into_owned();
            if let Some(p) = panel(app) {
                p.error = Some(e.clone());
            }
            app.notify(format!("not attached: {e}"), Level::Error);
        }
    }
}

/// Completions of what is typed (from `Msg::Completions`): one is taken at once, several fill
/// in their common start and are listed.
pub fn on_completions(app: &mut App, input: String, list: Vec<String>) {
    let Some(p) = panel(app) else {
        return;
    };
    if p.input != input {
        return;
    }
    if list.is_empty() {
        p.error = Some(format!("nothing matches {input}"));
        p.completions.clear();
        return;
    }
    let common = list.iter().skip(1).fold(list[0].clone(), |acc, s| {
        let n = acc
            .char_indices()
            .zip(s.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8());
        acc[..n].to_string()
    });
    if common.len() > p.input.len() {
        p.input = common;
    }
    p.completions = if list.len() == 1 { Vec::new() } else { list };
    p.error = None;
}

impl Layer for AttachPanel {
    fn context(&self) -> Context {
        Context::Attach
    }

    fn key(
        &mut self,
        app: &mut App,
        action: Option<Action>,
        typed: Option<char>,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        match action {
            Some(Action::Close | Action::Interrupt) => return Reply::Close,
            Some(Action::Choose) => {
                let input = std::mem::take(&mut self.input);
                self.completions.clear();
                match parse_target(&input) {
                    Some(t) => {
                        self.error = None;
                        begin(app, t, None, fx);
                    }
                    None if input.trim().is_empty() => {
                        self.error = Some("type a file's path or a URL, then Enter".into())
                    }
                    None => {
                        self.error = Some("name one file or URL".into());
                        self.input = input;
                    }
                }
            }
            Some(Action::Complete) => fx.push(Effect::Complete(self.input.clone())),
            Some(Action::Select(d)) => {
                self.selected = self
                    .selected
                    .saturating_add_signed(d as isize)
                    .min(app.attachments.len().saturating_sub(1));
            }
            Some(Action::Reorder(d)) => {
                let to = self.selected.saturating_add_signed(d as isize);
                if self.selected < app.attachments.len() && to < app.attachments.len() {
                    app.attachments.swap(self.selected, to);
                    self.selected = to;
                }
            }
            Some(Action::Delete) => {
                if self.selected < app.attachments.len() {
                    let a = app.attachments.remove(self.selected);
                    app.forget_unused_thumbs();
                    app.notify(format!("removed {}", a.name), Level::Info);
                    self.selected = self.selected.min(app.attachments.len().saturating_sub(1));
                } else {
                    app.notify("nothing to remove", Level::Error);
                }
            }
            Some(Action::PasteImage) => {
                app.attach_loading += 1;
                fx.push(Effect::ClipboardImage {
                    already: app.attachments.iter().map(|a| a.size).sum(),
                    limits: app.attach_limits,
                });
            }
            Some(Action::PdfEngine) => {
                // Every pane (and new ones) reads the message's PDFs the same way.
                let now = app.focused().and_then(|p| p.settings.pdf_engine);
                let next = crate::attach::next_pdf_engine(now);
                for p in &mut app.panes {
                    p.settings.pdf_engine = next;
                }
                app.defaults.pdf_engine = next;
                fx.push(Effect::SaveSettings(Box::new(
                    super::update::saved_settings(app),
                )));
                let pages = app.attachments.iter().filter_map(|a| a.pages).sum();
                app.notify(
                    format!(
                        "PDF engine for every pane: {}",
                        crate::attach::pdf_engine_terms(next, pages)
                    ),
                    Level::Info,
                );
            }
            Some(Action::Erase) => {
                self.input.pop();
                self.completions.clear();
            }
            _ => {
                if let Some(c) = typed
                    && self.input.len() < 4096
                {
                    self.input.push(c);
                    self.completions.clear();
                }
            }
        }
        Reply::Keep
    }

    fn paste(&mut self, app: &mut App, text: &str, fx: &mut Vec<Effect>) -> Reply {
        // A file dropped on the panel is attached at once; other text is typed.
        match (self.input.is_empty(), parse_target(text)) {
            (true, Some(t)) => begin(app, t, None, fx),
            _ => self.input.push_str(text.lines().next().unwrap_or("")),
        }
        Reply::Keep
    }

    fn draw(&mut self, frame: &mut Frame, app: &App, _area: Rect, th: &Theme) {
        crate::ui::attach::draw(frame, app, self, th);
    }

    fn commands(&self) -> Vec<(String, &'static str)> {
        hints(self.context())
    }

    super::layers::any_impls!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pastes_that_are_files_or_attachable_urls_attach_and_prose_does_not() {
        assert_eq!(
            paste_is_target("/tmp/cat.png"),
            Some(Target::Path("/tmp/cat.png".into()))
        );
        assert_eq!(
            paste_is_target("'/tmp/my cat.png'"),
            Some(Target::Path("/tmp/my cat.png".into()))
        );
        assert!(paste_is_target("https://x.test/report.PDF?dl=1").is_some());
        assert_eq!(
            paste_is_target("https://x.test/article"),
            None,
            "a link in a prompt"
        );
        assert_eq!(paste_is_target("explain this"), None);
        assert_eq!(paste_is_target("/tmp/a\n/tmp/b"), None);
    }
}
