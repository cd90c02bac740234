//! The dark-terminal palette: every colour and modifier the markdown renderer uses lives here.

use ratatui::style::{Color, Modifier, Style};

/// Name of the syntect default theme used for code blocks.
pub(crate) const SYNTAX_THEME: &str = "base16-ocean.dark";

/// Style of a heading; level 1 is the most prominent.
pub(crate) fn heading(level: usize) -> Style {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    match level {
        1 => bold
            .fg(Color::LightMagenta)
            .add_modifier(Modifier::UNDERLINED),
        2 => bold.fg(Color::LightCyan),
        3 => bold.fg(Color::LightBlue),
        _ => bold.fg(Color::LightGreen),
    }
}

/// `*emphasis*`.
pub(crate) const EMPHASIS: Style = Style::new().add_modifier(Modifier::ITALIC);
/// `**strong**`.
pub(crate) const STRONG: Style = Style::new().add_modifier(Modifier::BOLD);
/// `~~strikethrough~~`.
pub(crate) const STRIKE: Style = Style::new().add_modifier(Modifier::CROSSED_OUT);
/// `` `inline code` ``.
pub(crate) const INLINE_CODE: Style = Style::new().fg(Color::LightYellow);
/// Link text.
pub(crate) const LINK: Style = Style::new()
    .fg(Color::LightBlue)
    .add_modifier(Modifier::UNDERLINED);
/// The ` (url)` shown after link text.
pub(crate) const LINK_URL: Style = Style::new().fg(Color::DarkGray);
/// `[image: alt]` placeholders.
pub(crate) const IMAGE: Style = Style::new().fg(Color::Magenta);
/// The `│ ` bar in front of block quotes.
pub(crate) const QUOTE_BAR: Style = Style::new().fg(Color::DarkGray);
/// Bullets and numbers of list items.
pub(crate) const LIST_MARKER: Style = Style::new().fg(Color::LightBlue);
/// `[x]` of a done task.
pub(crate) const TASK_DONE: Style = Style::new().fg(Color::LightGreen);
/// `[ ]` of an open task.
pub(crate) const TASK_OPEN: Style = Style::new().fg(Color::Gray);
/// Horizontal rules.
pub(crate) const RULE: Style = Style::new().fg(Color::DarkGray);
/// Table borders and separators.
pub(crate) const TABLE_BORDER: Style = Style::new().fg(Color::DarkGray);
/// Table header cells (patched over their inline styles).
pub(crate) const TABLE_HEADER: Style = Style::new().add_modifier(Modifier::BOLD);
/// The `── lang [n] ──` line above a code block.
pub(crate) const CODE_HEADER: Style = Style::new().fg(Color::DarkGray);
/// The language name inside the code header.
pub(crate) const CODE_LANG: Style = Style::new().fg(Color::Cyan);
/// Code without a known language (the syntax theme's foreground).
pub(crate) const CODE_PLAIN: Style = Style::new().fg(Color::Rgb(0xc0, 0xc5, 0xce));
/// Raw HTML, shown as-is but dimmed.
pub(crate) const HTML: Style = Style::new().fg(Color::DarkGray);
