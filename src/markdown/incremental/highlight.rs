//! Syntax highlighting of code lines with syntect, resumable line by line.
//!
//! The syntax set and theme load once (`LazyLock`); `warm_up` forces that early. Highlighting
//! keeps syntect's parse and highlight state between lines, so a growing code block only pays
//! for its new lines.

use super::theme;
use super::wrap::sanitize;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::sync::LazyLock;
use syntect::highlighting::{
    FontStyle, HighlightIterator, HighlightState, Highlighter, Theme, ThemeSet,
};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};

/// Lines longer than this are shown plain: regex-based highlighting of minified code can take
/// seconds, and a skipped line leaves the state as it was (the same in every render).
const MAX_HIGHLIGHT_LINE: usize = 2_000;

/// Tabs in code become this many spaces (a tab has no display width of its own).
pub(crate) const CODE_TAB: &str = "    ";

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);
static THEME: LazyLock<Theme> = LazyLock::new(|| {
    ThemeSet::load_defaults()
        .themes
        .remove(theme::SYNTAX_THEME)
        .unwrap_or_default()
});
static HIGHLIGHTER: LazyLock<Highlighter<'static>> = LazyLock::new(|| Highlighter::new(&THEME));

/// Forces loading the syntax set and theme.
pub(crate) fn warm_up() {
    LazyLock::force(&SYNTAXES);
    LazyLock::force(&HIGHLIGHTER);
}

/// Resumable highlighting state of one code block.
#[derive(Clone, Debug)]
pub(crate) struct HlState {
    parse: ParseState,
    highlight: HighlightState,
}

/// Maps a fence's language token to a syntax, accepting common aliases.
fn find_syntax(lang: &str) -> Option<&'static SyntaxReference> {
    // "rust,ignore", "{.python}", "python title=x" all name the first token.
    let token = lang.trim().trim_start_matches(['{', '.']);
    let token = token.split([',', '{', '}', ' ', '\t']).next().unwrap_or("");
    let token = token.to_ascii_lowercase();
    let token = match token.as_str() {
        "" | "text" | "txt" | "plain" | "plaintext" | "none" => return None,
        "sh" | "shell" | "zsh" | "console" | "shellscript" | "shell-session" => "bash",
        "golang" => "go",
        "c++" | "cxx" | "hpp" => "cpp",
        "py3" | "python3" => "py",
        "jsonc" | "json5" => "json",
        "ps1" | "pwsh" => "powershell",
        "dockerfile" => "Dockerfile",
        other => other,
    };
    let ss = &*SYNTAXES;
    ss.find_syntax_by_token(token)
}

/// Starts highlighting a block in `lang`; `None` when the language is unknown (plain code).
pub(crate) fn start(lang: &str) -> Option<HlState> {
    let syntax = find_syntax(lang)?;
    Some(HlState {
        parse: ParseState::new(syntax),
        highlight: HighlightState::new(&HIGHLIGHTER, ScopeStack::new()),
    })
}

fn to_style(s: syntect::highlighting::Style) -> Style {
    let c = s.foreground;
    let mut style = Style::new().fg(Color::Rgb(c.r, c.g, c.b));
    if s.font_style.contains(FontStyle::BOLD) {
        style = style.add_modifier(Modifier::BOLD);
    }
    if s.font_style.contains(FontStyle::ITALIC) {
        style = style.add_modifier(Modifier::ITALIC);
    }
    if s.font_style.contains(FontStyle::UNDERLINE) {
        style = style.add_modifier(Modifier::UNDERLINED);
    }
    style
}

fn plain(line: &str) -> Line<'static> {
    let text = sanitize(line, CODE_TAB);
    if text.is_empty() {
        Line::default()
    } else {
        Line::from(Span::styled(text.into_owned(), theme::CODE_PLAIN))
    }
}

/// Highlights one code line (without its newline), advancing `state`; plain when `state` is
/// `None`, the line is very long, or syntect fails.
pub(crate) fn highlight_line(state: Option<&mut HlState>, line: &str) -> Line<'static> {
    let Some(state) = state else {
        return plain(line);
    };
    if line.len() > MAX_HIGHLIGHT_LINE {
        return plain(line);
    }
    // The "newlines" syntax set expects each line to end with its newline.
    let text = format!("{line}\n");
    let Ok(ops) = state.parse.parse_line(&text, &SYNTAXES) else {
        return plain(line);
    };
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (style, piece) in HighlightIterator::new(&mut state.highlight, &ops, &text, &HIGHLIGHTER) {
        let piece = sanitize(piece, CODE_TAB);
        super::wrap::push_span(&mut spans, &piece, to_style(style));
    }
    Line::from(spans)
}

/// Highlighted lines of one code block kept across re-renders of a growing block.
///
/// Holds the highlighted complete lines and the state after the last of them, so that when
/// the block is rendered again with more lines, only the new ones are highlighted.
#[derive(Debug, Default)]
pub(crate) struct CodeMemo {
    lang: Option<String>,
    lines: Vec<(String, Line<'static>)>,
    state: Option<HlState>,
}

impl CodeMemo {
    fn reset(&mut self, lang: &str) {
        self.lang = Some(lang.to_string());
        self.lines.clear();
        self.state = start(lang);
    }
}

/// Highlighted lines of a whole code block's text (lines end with `\n`; a last line without
/// one is still being written), reusing and extending `memo`.
pub(crate) fn highlight_block(lang: &str, code: &str, memo: &mut CodeMemo) -> Vec<Line<'static>> {
    let mut parts: Vec<&str> = code.split('\n').collect();
    let partial = parts.pop().filter(|p| !p.is_empty());
    let parts: Vec<&str> = parts
        .into_iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let valid = memo.lang.as_deref() == Some(lang)
        && memo.lines.len() <= parts.len()
        && memo.lines.iter().zip(&parts).all(|((a, _), b)| a == b);
    if !valid {
        memo.reset(lang);
    }
    for l in &parts[memo.lines.len()..] {
        let hl = highlight_line(memo.state.as_mut(), l);
        memo.lines.push((l.to_string(), hl));
    }
    let mut out: Vec<Line<'static>> = memo.lines.iter().map(|(_, l)| l.clone()).collect();
    if let Some(p) = partial {
        let mut state = memo.state.clone();
        out.push(highlight_line(
            state.as_mut(),
            p.strip_suffix('\r').unwrap_or(p),
        ));
    }
    out
}

/// Per-block memos of the code blocks inside one markdown block, by their order in it.
#[derive(Debug, Default)]
pub(crate) struct HlMemo {
    blocks: Vec<CodeMemo>,
}

impl HlMemo {
    /// The memo of the `i`-th code block.
    pub(crate) fn slot(&mut self, i: usize) -> &mut CodeMemo {
        if self.blocks.len() <= i {
            self.blocks.resize_with(i + 1, CodeMemo::default);
        }
        &mut self.blocks[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn known_languages_get_several_colours() {
        for lang in ["rust", "py", "typescript", "toml", "sh", "json"] {
            let mut st = start(lang);
            assert!(st.is_some(), "{lang} should be known");
            let line = highlight_line(st.as_mut(), "let x = \"s\"; // c 42");
            assert_eq!(text(&line), "let x = \"s\"; // c 42");
            let colours: std::collections::HashSet<_> =
                line.spans.iter().map(|s| s.style.fg).collect();
            assert!(colours.len() > 1, "{lang}: {line:?}");
            assert!(line.spans.iter().all(|s| s.style.bg.is_none()));
        }
    }

    #[test]
    fn unknown_language_is_plain() {
        assert!(start("no-such-lang").is_none());
        assert!(start("").is_none());
        let line = highlight_line(None, "a\tb");
        assert_eq!(line.spans, vec![Span::styled("a    b", theme::CODE_PLAIN)]);
    }

    #[test]
    fn state_carries_across_lines() {
        // The second line is inside a block comment opened on the first.
        let mut st = start("rust");
        let _ = highlight_line(st.as_mut(), "/* open");
        let inside = highlight_line(st.as_mut(), "let x = 1;");
        let mut fresh = start("rust");
        let outside = highlight_line(fresh.as_mut(), "let x = 1;");
        assert_ne!(inside, outside);
    }

    #[test]
    fn memo_matches_fresh_highlighting_as_the_block_grows() {
        let code = "fn main() {\n    /* a\n    b */ let s = \"x\";\n}\n";
        let mut memo = CodeMemo::default();
        for end in 0..=code.len() {
            let got = highlight_block("rust", &code[..end], &mut memo);
            let want = highlight_block("rust", &code[..end], &mut CodeMemo::default());
            assert_eq!(got, want, "prefix {end}");
        }
        // A different text resets the memo instead of reusing stale lines.
        let other = highlight_block("rust", "let a = 1;\n", &mut memo);
        assert_eq!(
            other,
            highlight_block("rust", "let a = 1;\n", &mut CodeMemo::default())
        );
    }
}
