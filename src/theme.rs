//! Named styles: the one `Theme` value every draw reads. Colours live here and nowhere in `ui`
//! or `markdown`, so a theme is a new value (later, a file in `themes/`), not an edit of the
//! drawing code. A theme's `id` is part of every rendered-line cache key.

use ratatui::style::{Color, Modifier, Style};
use std::sync::{Arc, LazyLock};

/// Styles of the workbench's chrome, by role.
#[derive(Debug, Clone, PartialEq)]
pub struct UiStyles {
    /// Plain text.
    pub text: Style,
    /// Secondary text: hints, placeholders, separators.
    pub dim: Style,
    /// Titles and borders of the composer, overlays and panels; the prompt marker.
    pub accent: Style,
    /// The focused pane's border and title.
    pub focus: Style,
    /// An unfocused pane's border.
    pub border: Style,
    /// Success: done, healthy, valid, a toggle that is on.
    pub ok: Style,
    /// Attention: waiting, retries, notes, partial answers.
    pub warn: Style,
    /// Failure: errors, invalid fields, open breakers.
    pub error: Style,
    /// Field labels and key names in help.
    pub label: Style,
    /// Privacy and format badges in pane titles.
    pub badge: Style,
    /// The selected row of a list.
    pub selection: Style,
    /// Emphasised chips: the composer's target, the "more below" marker.
    pub chip: Style,
    /// The source's name in the status bar.
    pub source: Style,
    /// Request bodies and other quoted machine text.
    pub code: Style,
    /// JSON keys, strings, numbers and literals in editors.
    pub json_key: Style,
    /// JSON strings.
    pub json_string: Style,
    /// JSON numbers.
    pub json_number: Style,
    /// JSON `true`, `false`, `null`.
    pub json_literal: Style,
}

/// Styles of rendered markdown.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkdownStyles {
    /// Headings, level 1 to 4 (deeper levels use the last).
    pub heading: [Style; 4],
    /// `*emphasis*`.
    pub emphasis: Style,
    /// `**strong**`.
    pub strong: Style,
    /// `~~strikethrough~~`.
    pub strike: Style,
    /// `` `inline code` ``.
    pub inline_code: Style,
    /// Link text.
    pub link: Style,
    /// The ` (url)` after link text.
    pub link_url: Style,
    /// `[image: alt]` placeholders.
    pub image: Style,
    /// The bar in front of block quotes.
    pub quote_bar: Style,
    /// Bullets and numbers of list items.
    pub list_marker: Style,
    /// `[x]` of a done task.
    pub task_done: Style,
    /// `[ ]` of an open task.
    pub task_open: Style,
    /// Horizontal rules.
    pub rule: Style,
    /// Table borders and separators.
    pub table_border: Style,
    /// Table header cells (patched over their inline styles).
    pub table_header: Style,
    /// The `── lang [n] ──` line above a code block.
    pub code_header: Style,
    /// The language name in the code header.
    pub code_lang: Style,
    /// Code without a known language.
    pub code_plain: Style,
    /// Raw HTML, shown as is.
    pub html: Style,
    /// The syntect theme code is highlighted with.
    pub syntax: &'static str,
    /// Identity of these styles (set by `Theme::new`): part of every rendered-line cache key.
    pub id: u64,
}

/// Every named style.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Its name.
    pub name: &'static str,
    /// Identity of all its styles: part of every cache of styled lines.
    pub id: u64,
    /// The chrome.
    pub ui: UiStyles,
    /// Rendered answers.
    pub md: Arc<MarkdownStyles>,
}

impl Theme {
    /// A theme of these styles; the markdown styles get their identity from what they hold.
    pub fn new(name: &'static str, ui: UiStyles, mut md: MarkdownStyles) -> Self {
        md.id = 0;
        md.id = fnv(format!("{md:?}").as_bytes());
        let id = fnv(format!("{ui:?}{}", md.id).as_bytes());
        Theme {
            name,
            id,
            ui,
            md: Arc::new(md),
        }
    }

    /// The built-in dark theme (for dark terminal backgrounds).
    pub fn dark() -> Self {
        let fg = |c| Style::new().fg(c);
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme::new(
            "dark",
            UiStyles {
                text: Style::new(),
                dim: fg(Color::DarkGray),
                accent: fg(Color::Cyan),
                focus: fg(Color::Cyan).add_modifier(Modifier::BOLD),
                border: fg(Color::DarkGray),
                ok: fg(Color::Green),
                warn: fg(Color::Yellow),
                error: fg(Color::Red),
                label: fg(Color::Yellow),
                badge: fg(Color::Green),
                selection: Style::new().fg(Color::Black).bg(Color::Cyan),
                chip: Style::new().fg(Color::Black).bg(Color::Yellow),
                source: fg(Color::Magenta),
                code: fg(Color::Gray),
                json_key: fg(Color::Cyan),
                json_string: fg(Color::Green),
                json_number: fg(Color::Magenta),
                json_literal: fg(Color::Yellow),
            },
            MarkdownStyles {
                heading: [
                    bold.fg(Color::LightMagenta)
                        .add_modifier(Modifier::UNDERLINED),
                    bold.fg(Color::LightCyan),
                    bold.fg(Color::LightBlue),
                    bold.fg(Color::LightGreen),
                ],
                emphasis: Style::new().add_modifier(Modifier::ITALIC),
                strong: bold,
                strike: Style::new().add_modifier(Modifier::CROSSED_OUT),
                inline_code: fg(Color::LightYellow),
                link: fg(Color::LightBlue).add_modifier(Modifier::UNDERLINED),
                link_url: fg(Color::DarkGray),
                image: fg(Color::Magenta),
                quote_bar: fg(Color::DarkGray),
                list_marker: fg(Color::LightBlue),
                task_done: fg(Color::LightGreen),
                task_open: fg(Color::Gray),
                rule: fg(Color::DarkGray),
                table_border: fg(Color::DarkGray),
                table_header: bold,
                code_header: fg(Color::DarkGray),
                code_lang: fg(Color::Cyan),
                // The syntax theme's own foreground, for code of no known language.
                code_plain: fg(Color::Rgb(0xc0, 0xc5, 0xce)),
                html: fg(Color::DarkGray),
                syntax: "base16-ocean.dark",
                id: 0,
            },
        )
    }
}

impl Default for Theme {
    fn default() -> Self {
        DEFAULT.clone()
    }
}

static DEFAULT: LazyLock<Theme> = LazyLock::new(Theme::dark);

/// The default theme's markdown styles, shared.
pub fn default_markdown() -> Arc<MarkdownStyles> {
    DEFAULT.md.clone()
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_markdown_identity_follows_the_styles() {
        let a = Theme::dark();
        assert_eq!(a.md.id, Theme::dark().md.id, "stable");
        let mut md = (*a.md).clone();
        md.inline_code = Style::new().fg(Color::Red);
        let b = Theme::new("other", a.ui.clone(), md);
        assert_ne!(a.md.id, b.md.id);
    }
}
