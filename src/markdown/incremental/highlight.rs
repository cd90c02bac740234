//! Syntax highlighting of code lines with syntect, resumable line by line.
//!
//! The syntax set and the syntax themes load once (`LazyLock`); `warm_up` forces that early. Highlighting
//! keeps syntect's parse and highlight state between lines, so a growing code block only pays
//! for its new lines.

use super::wrap::sanitize;
use crate::theme::MarkdownStyles;
use ratatui::style::{Color, Modifier, Style};
// `Color::Rgb` below only carries the syntax theme's own colours through.
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
/// syntect's bundled themes, each with its highlighter, by name; they live as long as the
/// program (a theme switch picks another, it never frees one).
static HIGHLIGHTERS: LazyLock<Vec<(String, Highlighter<'static>)>> = LazyLock::new(|| {
    let set: &'static ThemeSet = Box::leak(Box::new(ThemeSet::load_defaults()));
    set.themes
        .iter()
        .map(|(name, t): (&String, &'static Theme)| (name.clone(), Highlighter::new(t)))
        .collect()
});
static FALLBACK: LazyLock<Highlighter<'static>> =
    LazyLock::new(|| Highlighter::new(Box::leak(Box::default())));

/// The highlighter of the syntax theme `name` (an unknown name gets an uncoloured one).
fn highlighter(name: &str) -> &'static Highlighter<'static> {
    HIGHLIGHTERS
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, h)| h)
        .unwrap_or(&FALLBACK)
}

/// The names of the syntax themes code can be highlighted with.
pub fn syntax_themes() -> Vec<&'static str> {
    HIGHLIGHTERS.iter().map(|(n, _)| n.as_str()).collect()
}

/// Forces loading the syntax set and themes.
pub(crate) fn warm_up() {
    LazyLock::force(&SYNTAXES);
    LazyLock::force(&HIGHLIGHTERS);
}

/// Resumable highlighting state of one code block.
#[derive(Clone)]
pub(crate) struct HlState {
    parse: ParseState,
    highlight: HighlightState,
    hl: &'static Highlighter<'static>,
}

impl std::fmt::Debug for HlState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlState").finish_non_exhaustive()
    }
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

/// Starts highlighting a block in `lang` with `md`'s syntax theme; `None` when the language is
/// unknown (plain code).
pub(crate) fn start(lang: &str, md: &MarkdownStyles) -> Option<HlState> {
    let syntax = find_syntax(lang)?;
    let hl = highlighter(&md.syntax);
    Some(HlState {
        parse: ParseState::new(syntax),
        highlight: HighlightState::new(hl, ScopeStack::new()),
        hl,
    })
}

fn to_style(s: syntect::highlighting::Style, depth: crate::theme::ColorDepth) -> Style {
    let c = s.foreground;
    let mut style = Style::new();
    if let Some(c) = depth.color(Color::Rgb(c.r, c.g, c.b)) {
        style = style.fg(c);
    }
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

fn plain(line: &str, md: &MarkdownStyles) -> Line<'static> {
    let text = sanitize(line, CODE_TAB);
    if text.is_empty() {
        Line::default()
    } else {
        Line::from(Span::styled(text.into_owned(), md.code_plain))
    }
}

/// Highlights one code line (without its newline), advancing `state`; plain when `state` is
/// `None`, the line is very long, or syntect fails.
pub(crate) fn highlight_line(
    state: Option<&mut HlState>,
    line: &str,
    md: &MarkdownStyles,
) -> Line<'static> {
    let Some(state) = state else {
        return plain(line, md);
    };
    if line.len() > MAX_HIGHLIGHT_LINE {
        return plain(line, md);
    }
    // The "newlines" syntax set expects each line to end with its newline.
    let text = format!("{line}\n");
    let Ok(ops) = state.parse.parse_line(&text, &SYNTAXES) else {
        return plain(line, md);
    };
    let mut spans: Vec<Span<'static>> = Vec::new();
    let hl = state.hl;
    for (style, piece) in HighlightIterator::new(&mut state.highlight, &ops, &text, hl) {
        let piece = sanitize(piece, CODE_TAB);
        super::wrap::push_span(&mut spans, &piece, to_style(style, md.depth));
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
    /// The styles' identity the lines were highlighted with.
    styles: u64,
    lines: Vec<(String, Line<'static>)>,
    state: Option<HlState>,
}

impl CodeMemo {
    fn reset(&mut self, lang: &str, md: &MarkdownStyles) {
        self.lang = Some(lang.to_string());
        self.styles = md.id;
        self.lines.clear();
        self.state = start(lang, md);
    }
}

/// Highlighted lines of a whole code block's text (lines end with `\n`; a last line without
/// one is still being written), reusing and extending `memo`.
pub(crate) fn highlight_block(
    lang: &str,
    code: &str,
    memo: &mut CodeMemo,
    md: &MarkdownStyles,
) -> Vec<Line<'static>> {
    let mut parts: Vec<&str> = code.split('\n').collect();
    let partial = parts.pop().filter(|p| !p.is_empty());
    let parts: Vec<&str> = parts
        .into_iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let valid = memo.lang.as_deref() == Some(lang)
        && memo.styles == md.id
        && memo.lines.len() <= parts.len()
        && memo.lines.iter().zip(&parts).all(|((a, _), b)| a == b);
    if !valid {
        memo.reset(lang, md);
    }
    for l in &parts[memo.lines.len()..] {
        let hl = highlight_line(memo.state.as_mut(), l, md);
        memo.lines.push((l.to_string(), hl));
    }
    let mut out: Vec<Line<'static>> = memo.lines.iter().map(|(_, l)| l.clone()).collect();
    if let Some(p) = partial {
        let mut state = memo.state.clone();
        out.push(highlight_line(
            state.as_mut(),
            p.strip_suffix('\r').unwrap_or(p),
            md,
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

    fn md() -> std::sync::Arc<MarkdownStyles> {
        crate::theme::default_markdown()
    }

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn known_languages_get_several_colours() {
        for lang in ["rust", "py", "typescript", "toml", "sh", "json"] {
            let mut st = start(lang, &md());
            assert!(st.is_some(), "{lang} should be known");
            let line = highlight_line(st.as_mut(), "let x = \"s\"; // c 42", &md());
            assert_eq!(text(&line), "let x = \"s\"; // c 42");
            let colours: std::collections::HashSet<_> =
                line.spans.iter().map(|s| s.style.fg).collect();
            assert!(colours.len() > 1, "{lang}: {line:?}");
            assert!(line.spans.iter().all(|s| s.style.bg.is_none()));
        }
    }

    #[test]
    fn unknown_language_is_plain() {
        assert!(start("no-such-lang", &md()).is_none());
        assert!(start("", &md()).is_none());
        let line = highlight_line(None, "a\tb", &md());
        assert_eq!(line.spans, vec![Span::styled("a    b", md().code_plain)]);
    }

    #[test]
    fn state_carries_across_lines() {
        // The second line is inside a block comment opened on the first.
        let mut st = start("rust", &md());
        let _ = highlight_line(st.as_mut(), "/* open", &md());
        let inside = highlight_line(st.as_mut(), "let x = 1;", &md());
        let mut fresh = start("rust", &md());
        let outside = highlight_line(fresh.as_mut(), "let x = 1;", &md());
        assert_ne!(inside, outside);
    }

    #[test]
    fn memo_matches_fresh_highlighting_as_the_block_grows() {
        let code = "fn main() {\n    /* a\n    b */ let s = \"x\";\n}\n";
        let mut memo = CodeMemo::default();
        for end in 0..=code.len() {
            let got = highlight_block("rust", &code[..end], &mut memo, &md());
            let want = highlight_block("rust", &code[..end], &mut CodeMemo::default(), &md());
            assert_eq!(got, want, "prefix {end}");
        }
        // A different text resets the memo instead of reusing stale lines.
        let other = highlight_block("rust", "let a = 1;\n", &mut memo, &md());
        assert_eq!(
            other,
            highlight_block("rust", "let a = 1;\n", &mut CodeMemo::default(), &md())
        );
    }
}
