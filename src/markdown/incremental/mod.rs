//! Markdown to styled terminal lines, with streaming support and code highlighting.
//!
//! A document is split into top-level blocks (see `split`); each block renders on its own and
//! blocks are joined by one blank line. A fence opened in column 0 is rendered line by line by
//! this module (header, then each highlighted code line), everything else by pulldown-cmark.
//! `render` and `StreamingMarkdown` use the same split and the same per-block renderers, so a
//! streamed message ends up exactly like the whole document rendered at once.
//!
//! Streaming cost: committed blocks render once per width; a column-0 fence commits each code
//! line as it completes (highlighted once, with syntect's state carried to the next line); only
//! the uncommitted tail is re-rendered after new input, and code inside it reuses a memo of
//! already highlighted lines.

mod block;
mod highlight;
mod split;
mod theme;
mod wrap;

use highlight::{HlMemo, HlState};
use ratatui::text::Line;
use split::{Current, Event, Splitter};

/// Loads syntax definitions and theme (call from a background thread at startup so the first code block doesn't stall).
pub fn warm_up() {
    highlight::warm_up();
}

/// One fenced code block, in document order (numbered from 1 in the rendered output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// The first word of the fence's info string ("" when none).
    pub lang: String,
    /// The code, lines joined by `\n`, without a final newline.
    pub code: String,
}

/// Fenced code blocks of a document in order (used by "copy code block N").
pub fn code_blocks(src: &str) -> Vec<CodeBlock> {
    let mut out = Vec::new();
    let mut open: Option<(CodeBlock, bool)> = None;
    for ev in split::split_all(src) {
        match ev {
            Event::Block(r) => {
                out.extend(
                    block::fenced_code(&src[r])
                        .into_iter()
                        .map(|(lang, code)| CodeBlock { lang, code }),
                );
            }
            Event::FenceOpen(lang) => {
                open = Some((
                    CodeBlock {
                        lang,
                        code: String::new(),
                    },
                    true,
                ))
            }
            Event::FenceLine(r) => {
                if let Some((b, first)) = &mut open {
                    if !*first {
                        b.code.push('\n');
                    }
                    *first = false;
                    b.code.push_str(&src[r]);
                }
            }
            Event::FenceClose => out.extend(open.take().map(|(b, _)| b)),
        }
    }
    out
}

/// Appends a block's lines, separated from what came before by one blank line.
fn append_block(out: &mut Vec<Line<'static>>, lines: Vec<Line<'static>>) {
    if lines.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push(Line::default());
    }
    out.extend(lines);
}

/// Appends one highlighted code line, hard-wrapped.
fn append_code_line(out: &mut Vec<Line<'static>>, line: &Line<'static>, width: usize) {
    for piece in wrap::wrap_hard(&line.spans, width) {
        out.push(wrap::fit(piece, width));
    }
}

/// The header line of column-0 fence number `n`.
fn fence_header(lang: &str, n: usize, width: usize) -> Line<'static> {
    wrap::fit(block::code_header(lang, n), width)
}

/// Word-wraps plain text (no markdown) to `width` columns in one style, keeping its newlines.
pub fn wrap_text(text: &str, width: u16, style: ratatui::style::Style) -> Vec<Line<'static>> {
    let mut frags = Vec::new();
    for (i, part) in text.split('\n').enumerate() {
        if i > 0 {
            frags.push(wrap::Frag::hard_break());
        }
        frags.push(wrap::Frag::new(wrap::sanitize(part, "    "), style));
    }
    let lines = wrap::wrap_words(&frags, width.max(1) as usize);
    if lines.is_empty() {
        return vec![Line::default()];
    }
    lines
        .into_iter()
        .map(|l| wrap::fit(l, width.max(1) as usize))
        .collect()
}

/// Renders a complete markdown document into styled lines wrapped to `width` columns.
pub fn render(src: &str, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    let mut out = Vec::new();
    let mut codes = 0;
    let mut fence: Option<Option<HlState>> = None;
    for ev in split::split_all(src) {
        match ev {
            Event::Block(r) => {
                let (lines, n) = block::render_block(&src[r], width, codes + 1, None);
                codes += n;
                append_block(&mut out, lines);
            }
            Event::FenceOpen(lang) => {
                codes += 1;
                append_block(&mut out, vec![fence_header(&lang, codes, width)]);
                fence = Some(highlight::start(&lang));
            }
            Event::FenceLine(r) => {
                let state = fence.as_mut().and_then(Option::as_mut);
                append_code_line(&mut out, &highlight::highlight_line(state, &src[r]), width);
            }
            Event::FenceClose => fence = None,
        }
    }
    out
}

/// A committed piece of the message.
enum Item {
    /// A complete non-fence block.
    Block {
        start: usize,
        end: usize,
        first_code: usize,
    },
    /// A column-0 fence: its highlighted code lines so far; `open` while it may still grow.
    Fence {
        lang: String,
        number: usize,
        lines: Vec<Line<'static>>,
        open: bool,
    },
}

/// Rendered lines at one width: committed items first, then the tail's lines.
#[derive(Default)]
struct View {
    width: usize,
    out: Vec<Line<'static>>,
    committed_len: usize,
    /// Items fully appended to `out`.
    items_done: usize,
    /// For an open fence being appended: whether its header is in, and how many code lines.
    fence_started: bool,
    fence_lines_done: usize,
    /// `out` matches the source (no input since the last render at this width).
    fresh: bool,
}

/// Incremental renderer for a message that arrives in deltas.
#[derive(Default)]
pub struct StreamingMarkdown {
    src: String,
    finished: bool,
    splitter: Splitter,
    events: Vec<Event>,
    items: Vec<Item>,
    /// Fenced code blocks numbered in committed items.
    codes: usize,
    /// Highlighting state of the open column-0 fence.
    fence_state: Option<HlState>,
    view: View,
    /// Highlight memo of the block starting at this offset (the tail, until it commits).
    memo: Option<(usize, HlMemo)>,
}

impl StreamingMarkdown {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a delta.
    pub fn push(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        if self.finished {
            // Rare: more text after the end. The last line was taken as complete, so restart.
            let mut src = std::mem::take(&mut self.src);
            src.push_str(delta);
            *self = Self::new();
            self.push(&src);
            return;
        }
        self.src.push_str(delta);
        self.splitter.advance(&self.src, &mut self.events);
        self.apply_events();
        self.view.fresh = false;
    }

    /// Replaces the whole source (e.g. a retried answer); an extension of the current source
    /// is treated as a push of the new part.
    pub fn replace(&mut self, src: String) {
        if !self.finished && src.starts_with(self.src.as_str()) {
            let rest = &src[self.src.len()..];
            self.push(rest);
            return;
        }
        *self = Self::new();
        self.push(&src);
    }

    /// The markdown received so far.
    pub fn source(&self) -> &str {
        &self.src
    }

    /// The stream ended; commit the tail.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.splitter.finish(&self.src, &mut self.events);
        self.apply_events();
        self.finished = true;
        self.view.fresh = false;
    }

    fn apply_events(&mut self) {
        for ev in std::mem::take(&mut self.events) {
            match ev {
                Event::Block(r) => {
                    let n = block::count_fenced(&self.src[r.clone()]);
                    self.items.push(Item::Block {
                        start: r.start,
                        end: r.end,
                        first_code: self.codes + 1,
                    });
                    self.codes += n;
                }
                Event::FenceOpen(lang) => {
                    self.codes += 1;
                    self.fence_state = highlight::start(&lang);
                    self.items.push(Item::Fence {
                        lang,
                        number: self.codes,
                        lines: Vec::new(),
                        open: true,
                    });
                }
                Event::FenceLine(r) => {
                    let line = highlight::highlight_line(self.fence_state.as_mut(), &self.src[r]);
                    if let Some(Item::Fence { lines, .. }) = self.items.last_mut() {
                        lines.push(line);
                    }
                }
                Event::FenceClose => {
                    self.fence_state = None;
                    if let Some(Item::Fence { open, .. }) = self.items.last_mut() {
                        *open = false;
                    }
                }
            }
        }
    }

    /// Lines at this width. Cost must grow with the uncommitted tail only, never with the whole message.
    pub fn lines(&mut self, width: u16) -> &[Line<'static>] {
        let width = usize::from(width.max(1));
        if self.view.width != width {
            self.view = View {
                width,
                ..View::default()
            };
        } else if self.view.fresh {
            return &self.view.out;
        }
        let Self {
            src,
            splitter,
            items,
            codes,
            fence_state,
            view,
            memo,
            ..
        } = self;
        view.out.truncate(view.committed_len);

        while let Some(item) = items.get(view.items_done) {
            match item {
                Item::Block {
                    start,
                    end,
                    first_code,
                } => {
                    let memo = memo_for(memo, *start);
                    let (lines, _) =
                        block::render_block(&src[*start..*end], width, *first_code, Some(memo));
                    append_block(&mut view.out, lines);
                    view.items_done += 1;
                }
                Item::Fence {
                    lang,
                    number,
                    lines,
                    open,
                } => {
                    if !view.fence_started {
                        append_block(&mut view.out, vec![fence_header(lang, *number, width)]);
                        view.fence_started = true;
                    }
                    for l in &lines[view.fence_lines_done..] {
                        append_code_line(&mut view.out, l, width);
                    }
                    view.fence_lines_done = lines.len();
                    if *open {
                        break;
                    }
                    view.items_done += 1;
                    view.fence_started = false;
                    view.fence_lines_done = 0;
                }
            }
        }
        view.committed_len = view.out.len();

        // The tail: the partial line of an open fence, or the unfinished block.
        match splitter.current() {
            Current::Fence(f) => {
                let partial = &src[splitter.pos()..];
                let partial = partial.strip_suffix('\r').unwrap_or(partial);
                if !partial.is_empty() && !split::may_close(partial, *f) {
                    let mut state = fence_state.clone();
                    append_code_line(
                        &mut view.out,
                        &highlight::highlight_line(state.as_mut(), partial),
                        width,
                    );
                }
            }
            Current::Block(start) => {
                let memo = memo_for(memo, *start);
                let (lines, _) = block::render_block(&src[*start..], width, *codes + 1, Some(memo));
                append_block(&mut view.out, lines);
            }
            Current::None => {
                let (lines, _) =
                    block::render_block(&src[splitter.pos()..], width, *codes + 1, None);
                append_block(&mut view.out, lines);
            }
        }
        view.fresh = true;
        &view.out
    }
}

/// The highlight memo for the block starting at `start`, replacing a memo of another block.
fn memo_for(memo: &mut Option<(usize, HlMemo)>, start: usize) -> &mut HlMemo {
    if memo.as_ref().is_none_or(|(s, _)| *s != start) {
        *memo = Some((start, HlMemo::default()));
    }
    &mut memo.get_or_insert_with(|| (start, HlMemo::default())).1
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrap_text_keeps_newlines_and_width() {
        let st = ratatui::style::Style::default();
        let l = super::wrap_text("hello big world\n\nx\ttab", 9, st);
        let t: Vec<String> = l.iter().map(|l| l.to_string()).collect();
        assert_eq!(t, vec!["hello big", "world", "", "x    tab"]);
        for w in 1..20 {
            for line in super::wrap_text("漢字 and 🦀 with longwordsthatbreak", w, st) {
                assert!(line.width() <= w as usize);
            }
        }
    }

    use super::*;
    use ratatui::style::Modifier;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    const DOC: &str = "# Title\n\nSome *text* with a [link](https://e.com).\n\n- a\n- b\n  continued\n\n```rust\nfn main() {\n    // hi\n\n    let s = \"x\";\n}\n```\n> quote\n\n| a | b |\n|---|---|\n| 1 | 漢字 |\n\n1. step\n   ```sh\n   echo hi\n   ```\n\n~~~\nunterminated\n";

    #[test]
    fn renders_every_construct() {
        let l = render(DOC, 40);
        let t = text(&l);
        assert_eq!(t[0], "Title");
        assert!(l[0].spans[0].style.add_modifier.contains(Modifier::BOLD));
        assert!(t.contains(&"── rust [1] ──".to_string()), "{t:#?}");
        assert!(t.contains(&"   ── sh [2] ──".to_string()), "{t:#?}");
        assert!(t.contains(&"── code [3] ──".to_string()), "{t:#?}");
        assert!(t.contains(&"Some text with a link (https://e.com).".to_string()));
        assert!(t.contains(&"│ quote".to_string()));
        assert!(t.contains(&"    // hi".to_string()));
        assert!(l.iter().all(|x| x.width() <= 40));
        // The blank line inside the fence is code, not a block break.
        let i = t.iter().position(|x| x == "    // hi").unwrap();
        assert_eq!(t[i + 1], "");
        assert_eq!(t[i + 2], "    let s = \"x\";");
    }

    #[test]
    fn code_blocks_match_rendered_numbers() {
        let blocks = code_blocks(DOC);
        let langs: Vec<_> = blocks.iter().map(|b| b.lang.as_str()).collect();
        assert_eq!(langs, vec!["rust", "sh", ""]);
        assert_eq!(
            blocks[0].code,
            "fn main() {\n    // hi\n\n    let s = \"x\";\n}"
        );
        assert_eq!(blocks[1].code, "echo hi");
        assert_eq!(blocks[2].code, "unterminated");
    }

    #[test]
    fn streaming_equals_render_for_every_split_point() {
        for w in [1u16, 7, 40, 80] {
            let whole = render(DOC, w);
            for step in [1, 3, 17] {
                let mut s = StreamingMarkdown::new();
                let mut i = 0;
                while i < DOC.len() {
                    let mut j = (i + step).min(DOC.len());
                    while !DOC.is_char_boundary(j) {
                        j += 1;
                    }
                    s.push(&DOC[i..j]);
                    let lines = s.lines(w);
                    assert!(lines.iter().all(|l| l.width() <= usize::from(w.max(1))));
                    i = j;
                }
                s.finish();
                assert_eq!(s.lines(w), &whole[..], "width {w} step {step}");
            }
        }
    }

    #[test]
    fn width_changes_and_replace_rerender() {
        let mut s = StreamingMarkdown::new();
        s.push(&DOC[..120]);
        let _ = s.lines(30);
        let _ = s.lines(50);
        s.replace(DOC.to_string());
        s.finish();
        assert_eq!(s.lines(30), &render(DOC, 30)[..]);
        s.replace("other".into());
        s.finish();
        assert_eq!(text(s.lines(30)), vec!["other"]);
        assert_eq!(s.source(), "other");
    }

    #[test]
    fn committed_fence_lines_are_not_rehighlighted() {
        let mut s = StreamingMarkdown::new();
        s.push("```rust\nlet a = 1;\nlet b");
        let before = s.lines(80).to_vec();
        assert_eq!(text(&before), vec!["── rust [1] ──", "let a = 1;", "let b"]);
        // The committed part of the view is kept; only the partial line is redone.
        assert_eq!(s.view.committed_len, 2);
        s.push(" = 2;\n``");
        assert_eq!(
            text(s.lines(80)),
            vec!["── rust [1] ──", "let a = 1;", "let b = 2;"]
        );
        s.push("`\nafter");
        s.finish();
        assert_eq!(
            text(s.lines(80)),
            vec!["── rust [1] ──", "let a = 1;", "let b = 2;", "", "after"]
        );
    }

    #[test]
    fn no_panic_on_odd_input_and_tiny_widths() {
        let odd = [
            "",
            "\n\n\n",
            "```",
            "> > > > > - - - 1. x",
            "|a|\n|-|\n|漢|",
            "\u{0}\u{1b}[31m\t\r\n",
            "[x]: y\n\n[x]",
            "- [ ]",
            "👩\u{200d}👩\u{200d}👧 e\u{301}",
        ];
        for src in odd {
            for w in [0u16, 1, 2, 3] {
                let l = render(src, w);
                assert!(
                    l.iter().all(|x| x.width() <= usize::from(w.max(1))),
                    "{src:?} at {w}"
                );
            }
        }
    }
}
