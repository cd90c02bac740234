//! One non-fence block of markdown (pulldown-cmark events) to styled, width-wrapped lines.

use super::highlight::{CodeMemo, HlMemo, highlight_block};
use super::wrap::{Frag, clusters, fit, push_span, sanitize, text_width, wrap_hard, wrap_words};
use crate::theme::MarkdownStyles;
use pulldown_cmark::{Alignment, CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// The markdown extensions the renderer understands.
pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The `── lang [n] ──` header of code block `n`.
pub(crate) fn code_header(lang: &str, n: usize, md: &MarkdownStyles) -> Vec<Span<'static>> {
    let lang = sanitize(lang, " ");
    let lang = if lang.is_empty() {
        "code"
    } else {
        lang.as_ref()
    };
    vec![
        Span::styled("── ", md.code_header),
        Span::styled(lang.to_string(), md.code_lang),
        Span::styled(format!(" [{n}] ──"), md.code_header),
    ]
}

/// Fenced code blocks of a block, as (language, code without the final newline).
pub(crate) fn fenced_code(src: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for ev in Parser::new_ext(src, options()) {
        match ev {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                cur = Some((super::split::lang_of(&info), String::new()));
            }
            Event::Text(t) => {
                if let Some((_, code)) = &mut cur {
                    code.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((lang, mut code)) = cur.take() {
                    if code.ends_with('\n') {
                        code.pop();
                    }
                    out.push((lang, code.replace("\r\n", "\n")));
                }
            }
            _ => {}
        }
    }
    out
}

/// Number of fenced code blocks in a block (what its rendering numbers).
pub(crate) fn count_fenced(src: &str) -> usize {
    Parser::new_ext(src, options())
        .filter(|e| matches!(e, Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_)))))
        .count()
}

/// Renders one block at `width`; fenced code blocks are numbered from `first_code`. Returns
/// the lines and how many code blocks were numbered. `memo` keeps code highlighting between
/// renders of a growing block.
pub(crate) fn render_block(
    src: &str,
    width: usize,
    first_code: usize,
    memo: Option<&mut HlMemo>,
    md: &MarkdownStyles,
) -> (Vec<Line<'static>>, usize) {
    let mut r = Renderer::new(width.max(1), first_code, memo, md);
    for ev in Parser::new_ext(src, options()) {
        r.event(ev);
    }
    r.flush_inline(false);
    (r.out, r.next_code - first_code)
}

/// A prefix contributed by a container on each line: a quote bar or a list item's marker.
struct Part {
    first: Vec<Span<'static>>,
    rest: Vec<Span<'static>>,
    width: usize,
    /// The item's marker was shown; later lines get the hanging indent.
    used: bool,
    item: bool,
}

struct List {
    next: Option<u64>,
    items: usize,
}

struct CodeAcc {
    lang: String,
    fenced: bool,
    text: String,
}

struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<Vec<Frag>>>,
    header_rows: usize,
    row: Vec<Vec<Frag>>,
}

struct Renderer<'m> {
    width: usize,
    out: Vec<Line<'static>>,
    parts: Vec<Part>,
    lists: Vec<List>,
    /// A blank line is due before the next line, drawn with the prefixes of this many parts.
    blank: Option<usize>,
    emitted: bool,
    inline: Vec<Frag>,
    base: Style,
    styles: Vec<Style>,
    links: Vec<(String, usize)>,
    images: Vec<usize>,
    code: Option<CodeAcc>,
    html: Option<String>,
    table: Option<Table>,
    next_code: usize,
    code_ordinal: usize,
    memo: Option<&'m mut HlMemo>,
    md: &'m MarkdownStyles,
}

impl<'m> Renderer<'m> {
    fn new(
        width: usize,
        first_code: usize,
        memo: Option<&'m mut HlMemo>,
        md: &'m MarkdownStyles,
    ) -> Self {
        Renderer {
            md,
            width,
            out: Vec::new(),
            parts: Vec::new(),
            lists: Vec::new(),
            blank: None,
            emitted: false,
            inline: Vec::new(),
            base: Style::new(),
            styles: Vec::new(),
            links: Vec::new(),
            images: Vec::new(),
            code: None,
            html: None,
            table: None,
            next_code: first_code,
            code_ordinal: 0,
            memo,
        }
    }

    fn prefix_width(&self) -> usize {
        self.parts.iter().map(|p| p.width).sum()
    }

    /// Prefixes are dropped when they would leave no room for text (tiny widths).
    fn keep_prefix(&self) -> bool {
        self.prefix_width() < self.width
    }

    /// Columns left for content after the prefixes.
    fn avail(&self) -> usize {
        if self.keep_prefix() {
            self.width - self.prefix_width()
        } else {
            self.width
        }
    }

    fn emit_blank(&mut self) {
        let Some(depth) = self.blank.take() else {
            return;
        };
        if !self.emitted {
            return;
        }
        let mut spans: Vec<Span<'static>> = Vec::new();
        if self.keep_prefix() {
            for p in &self.parts[..depth.min(self.parts.len())] {
                spans.extend(p.rest.iter().cloned());
            }
        }
        // Trailing indentation only adds invisible width.
        while let Some(last) = spans.last_mut() {
            let trimmed = last.content.trim_end().len();
            if trimmed == 0 {
                spans.pop();
            } else {
                last.content.to_mut().truncate(trimmed);
                break;
            }
        }
        self.out.push(fit(spans, self.width));
    }

    fn emit(&mut self, content: Vec<Span<'static>>) {
        self.emit_blank();
        let mut spans = Vec::new();
        if self.keep_prefix() {
            for p in &mut self.parts {
                if p.used {
                    spans.extend(p.rest.iter().cloned());
                } else {
                    spans.extend(p.first.iter().cloned());
                    p.used = true;
                }
            }
        }
        spans.extend(content);
        self.out.push(fit(spans, self.width));
        self.emitted = true;
    }

    fn style(&self) -> Style {
        self.styles.iter().fold(self.base, |acc, s| acc.patch(*s))
    }

    fn push_text(&mut self, text: &str, style: Style) {
        let text = sanitize(text, " ");
        if !text.is_empty() {
            self.inline.push(Frag::new(text.into_owned(), style));
        }
    }

    /// Emits the pending inline text as a paragraph; `block_end` schedules a blank line after it.
    fn flush_inline(&mut self, block_end: bool) {
        if self.table.is_some() {
            return;
        }
        if !self.inline.is_empty() {
            let frags = std::mem::take(&mut self.inline);
            for line in wrap_words(&frags, self.avail()) {
                self.emit(line);
            }
        }
        if block_end {
            self.blank = Some(self.parts.len());
        }
    }

    fn end_block(&mut self) {
        self.blank = Some(self.parts.len());
    }

    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => {
                if let Some(c) = &mut self.code {
                    c.text.push_str(&t);
                } else if let Some(h) = &mut self.html {
                    h.push_str(&t);
                } else {
                    self.push_text(&t, self.style());
                }
            }
            Event::Code(t) => self.push_text(&t, self.style().patch(self.md.inline_code)),
            Event::Html(t) => match &mut self.html {
                Some(h) => h.push_str(&t),
                None => self.push_text(&t, self.md.html),
            },
            Event::InlineHtml(t) => {
                let tag = t.trim().to_ascii_lowercase();
                if tag.starts_with("<br") {
                    self.inline.push(Frag::hard_break());
                } else {
                    self.push_text(&t, self.md.html);
                }
            }
            Event::SoftBreak => self.push_text(" ", self.style()),
            Event::HardBreak => self.inline.push(Frag::hard_break()),
            Event::Rule => {
                self.flush_inline(false);
                let rule = "─".repeat(self.avail());
                self.emit(vec![Span::styled(rule, self.md.rule)]);
                self.end_block();
            }
            Event::TaskListMarker(done) => self.task_marker(done),
            Event::FootnoteReference(t) => self.push_text(&format!("[^{t}]"), self.style()),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.push_text(&t, self.style()),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.flush_inline(false),
            Tag::Heading { level, .. } => {
                self.flush_inline(false);
                self.base = self.md.heading(level as usize);
            }
            Tag::BlockQuote(_) => {
                self.flush_inline(false);
                let bar = vec![Span::styled("│ ", self.md.quote_bar)];
                self.parts.push(Part {
                    first: bar.clone(),
                    rest: bar,
                    width: 2,
                    used: true,
                    item: false,
                });
            }
            Tag::CodeBlock(kind) => {
                self.flush_inline(false);
                let (lang, fenced) = match kind {
                    CodeBlockKind::Fenced(info) => (super::split::lang_of(&info), true),
                    CodeBlockKind::Indented => (String::new(), false),
                };
                self.code = Some(CodeAcc {
                    lang,
                    fenced,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => {
                self.flush_inline(false);
                self.html = Some(String::new());
            }
            Tag::List(start) => {
                self.flush_inline(false);
                self.lists.push(List {
                    next: start,
                    items: 0,
                });
            }
            Tag::Item => self.start_item(),
            Tag::Table(aligns) => {
                self.flush_inline(false);
                self.table = Some(Table {
                    aligns,
                    rows: Vec::new(),
                    header_rows: 0,
                    row: Vec::new(),
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.row.clear();
                }
            }
            Tag::TableCell => self.inline.clear(),
            Tag::Emphasis => self.styles.push(self.md.emphasis),
            Tag::Strong => self.styles.push(self.md.strong),
            Tag::Strikethrough => self.styles.push(self.md.strike),
            Tag::Link { dest_url, .. } => {
                self.styles.push(self.md.link);
                self.links.push((dest_url.to_string(), self.inline.len()));
            }
            Tag::Image { .. } => self.images.push(self.inline.len()),
            _ => {}
        }
    }

    fn start_item(&mut self) {
        self.flush_inline(false);
        let depth = self.lists.len().saturating_sub(1);
        let Some(list) = self.lists.last_mut() else {
            return;
        };
        if list.items > 0 {
            // Items of one list sit on consecutive lines.
            self.blank = None;
        }
        list.items += 1;
        let marker = match &mut list.next {
            Some(n) => {
                let m = format!("{n}. ");
                *n = n.saturating_add(1);
                m
            }
            None => ["• ", "◦ ", "▪ "][depth.min(2)].to_string(),
        };
        let width = text_width(&marker);
        self.parts.push(Part {
            first: vec![Span::styled(marker, self.md.list_marker)],
            rest: vec![Span::raw(" ".repeat(width))],
            width,
            used: false,
            item: true,
        });
    }

    fn task_marker(&mut self, done: bool) {
        let ordered = self.lists.last().is_some_and(|l| l.next.is_some());
        let Some(part) = self.parts.last_mut().filter(|p| p.item && !p.used) else {
            return;
        };
        let (mark, style) = if done {
            ("[x] ", self.md.task_done)
        } else {
            ("[ ] ", self.md.task_open)
        };
        // A task replaces its bullet; a numbered task keeps its number.
        if !ordered {
            part.first.clear();
            part.width = 0;
        }
        part.first.push(Span::styled(mark, style));
        part.width += 4;
        part.rest = vec![Span::raw(" ".repeat(part.width))];
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush_inline(true),
            TagEnd::Heading(_) => {
                self.flush_inline(true);
                self.base = Style::new();
            }
            TagEnd::BlockQuote(_) => {
                self.flush_inline(false);
                self.parts.pop();
                self.end_block();
            }
            TagEnd::CodeBlock => self.end_code(),
            TagEnd::HtmlBlock => {
                let html = self.html.take().unwrap_or_default();
                let avail = self.avail();
                for l in html.lines() {
                    let l = sanitize(l, "    ");
                    for piece in wrap_hard(&[Span::styled(l.as_ref(), self.md.html)], avail) {
                        self.emit(piece);
                    }
                }
                self.end_block();
            }
            TagEnd::List(_) => {
                self.flush_inline(false);
                self.lists.pop();
                self.end_block();
            }
            TagEnd::Item => {
                self.flush_inline(false);
                self.parts.pop();
            }
            TagEnd::Table => self.end_table(),
            TagEnd::TableHead => {
                if let Some(t) = &mut self.table {
                    t.rows.push(std::mem::take(&mut t.row));
                    t.header_rows = t.rows.len();
                }
            }
            TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    t.rows.push(std::mem::take(&mut t.row));
                }
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.inline);
                if let Some(t) = &mut self.table {
                    t.row.push(cell);
                }
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some((url, at)) = self.links.pop() {
                    let text: String = self.inline[at.min(self.inline.len())..]
                        .iter()
                        .map(|f| f.text.as_str())
                        .collect();
                    let same = text == url || url.strip_prefix("mailto:") == Some(text.as_str());
                    if !url.is_empty() && !same {
                        self.push_text(&format!(" ({url})"), self.md.link_url);
                    }
                }
            }
            TagEnd::Image => {
                if let Some(at) = self.images.pop() {
                    let at = at.min(self.inline.len());
                    let alt: String = self.inline.drain(at..).map(|f| f.text).collect();
                    self.push_text(&format!("[image: {alt}]"), self.md.image);
                }
            }
            _ => {}
        }
    }

    fn end_code(&mut self) {
        let Some(code) = self.code.take() else { return };
        if code.fenced {
            let n = self.next_code;
            self.next_code += 1;
            self.emit(code_header(&code.lang, n, self.md));
        }
        let ordinal = self.code_ordinal;
        self.code_ordinal += 1;
        let mut scratch = CodeMemo::default();
        let memo = match self.memo.as_deref_mut() {
            Some(m) => m.slot(ordinal),
            None => &mut scratch,
        };
        let lines = highlight_block(&code.lang, &code.text, memo, self.md);
        let avail = self.avail();
        for l in lines {
            for piece in wrap_hard(&l.spans, avail) {
                self.emit(piece);
            }
        }
        self.end_block();
    }

    fn end_table(&mut self) {
        let Some(t) = self.table.take() else { return };
        self.inline.clear();
        let avail = self.avail();
        for line in table_lines(&t, avail, self.md) {
            self.emit(line);
        }
        self.end_block();
    }
}

/// Column widths that fit `budget`: natural widths when they fit, else the widest columns
/// shrink first (each keeps at least 1).
fn fit_columns(natural: &[usize], budget: usize) -> Vec<usize> {
    let n = natural.len();
    if natural.iter().sum::<usize>() <= budget {
        return natural.to_vec();
    }
    if budget <= n {
        return vec![1; n];
    }
    let sum_at = |cap: usize| natural.iter().map(|&w| w.min(cap)).sum::<usize>();
    let (mut lo, mut hi) = (1, natural.iter().copied().max().unwrap_or(1));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if sum_at(mid) <= budget {
            lo = mid
        } else {
            hi = mid - 1
        }
    }
    let mut widths: Vec<usize> = natural.iter().map(|&w| w.min(lo)).collect();
    let mut left = budget - sum_at(lo);
    for (w, &nat) in widths.iter_mut().zip(natural) {
        if left == 0 {
            break;
        }
        if nat > *w {
            *w += 1;
            left -= 1;
        }
    }
    widths
}

/// One table cell cut or padded to exactly `w` columns.
fn cell_spans(cell: &[Frag], w: usize, align: Alignment, extra: Style) -> Vec<Span<'static>> {
    let natural: usize = cell.iter().map(|f| text_width(&f.text)).sum();
    let mut spans = Vec::new();
    let mut used = 0;
    let limit = if natural > w { w.saturating_sub(1) } else { w };
    'outer: for f in cell {
        let style = f.style.patch(extra);
        let text = if f.is_break() { " " } else { f.text.as_str() };
        for (c, cw) in clusters(text) {
            if used + cw > limit {
                break 'outer;
            }
            push_span(&mut spans, c, style);
            used += cw;
        }
    }
    if natural > w && w > 0 {
        push_span(&mut spans, "…", extra);
        used += 1;
    }
    let pad = w.saturating_sub(used);
    let (left, right) = match align {
        Alignment::Right => (pad, 0),
        Alignment::Center => (pad / 2, pad - pad / 2),
        _ => (0, pad),
    };
    if left > 0 {
        spans.insert(0, Span::raw(" ".repeat(left)));
    }
    if right > 0 {
        spans.push(Span::raw(" ".repeat(right)));
    }
    spans
}

/// A table laid out in `avail` columns with box-drawing separators.
fn table_lines(t: &Table, avail: usize, md: &MarkdownStyles) -> Vec<Vec<Span<'static>>> {
    let ncols = t
        .rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(t.aligns.len());
    if ncols == 0 {
        return Vec::new();
    }
    let mut natural = vec![1; ncols];
    for row in &t.rows {
        for (i, cell) in row.iter().enumerate() {
            let w: usize = cell
                .iter()
                .map(|f| if f.is_break() { 1 } else { text_width(&f.text) })
                .sum();
            natural[i] = natural[i].max(w);
        }
    }
    // Narrow panes get one-column separators before cells shrink to nothing.
    let wide_sep = avail >= ncols + 3 * (ncols - 1);
    let (sep, cross) = if wide_sep {
        (" │ ", "─┼─")
    } else {
        ("│", "┼")
    };
    let sep_w = if wide_sep { 3 } else { 1 };
    let widths = fit_columns(&natural, avail.saturating_sub(sep_w * (ncols - 1)));
    let empty = Vec::new();
    let mut out = Vec::new();
    for (r, row) in t.rows.iter().enumerate() {
        let header = r < t.header_rows;
        let mut spans = Vec::new();
        for (c, &w) in widths.iter().enumerate() {
            if c > 0 {
                spans.push(Span::styled(sep, md.table_border));
            }
            let align = t.aligns.get(c).copied().unwrap_or(Alignment::None);
            let extra = if header {
                md.table_header
            } else {
                Style::new()
            };
            spans.extend(cell_spans(row.get(c).unwrap_or(&empty), w, align, extra));
        }
        out.push(spans);
        if header && r + 1 == t.header_rows {
            let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
            out.push(vec![Span::styled(rule.join(cross), md.table_border)]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Modifier;

    fn md() -> std::sync::Arc<MarkdownStyles> {
        crate::theme::default_markdown()
    }

    fn render(src: &str, width: usize) -> Vec<Line<'static>> {
        render_block(src, width, 1, None, &md()).0
    }

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    fn span<'a>(lines: &'a [Line<'static>], needle: &str) -> &'a Span<'static> {
        lines
            .iter()
            .flat_map(|l| l.spans.iter())
            .find(|s| s.content.contains(needle))
            .unwrap_or_else(|| panic!("no span with {needle:?}"))
    }

    #[test]
    fn headings_are_bold_without_marks() {
        let l = render("## Sub *title*", 40);
        assert_eq!(text(&l), vec!["Sub title"]);
        assert!(l[0].spans[0].style.add_modifier.contains(Modifier::BOLD));
        assert_ne!(md().heading1.fg, md().heading2.fg);
    }

    #[test]
    fn paragraphs_join_soft_breaks_and_style_inlines() {
        let l = render("a *em* **st**\n~~del~~ `code` end", 80);
        assert_eq!(text(&l), vec!["a em st del code end"]);
        assert!(span(&l, "em").style.add_modifier.contains(Modifier::ITALIC));
        assert!(span(&l, "st").style.add_modifier.contains(Modifier::BOLD));
        assert!(
            span(&l, "del")
                .style
                .add_modifier
                .contains(Modifier::CROSSED_OUT)
        );
        assert_eq!(span(&l, "code").style.fg, md().inline_code.fg);
    }

    #[test]
    fn links_show_their_url_unless_it_is_the_text() {
        let l = render("see [docs](https://x.io) and <https://y.io>", 80);
        assert_eq!(text(&l), vec!["see docs (https://x.io) and https://y.io"]);
        assert!(
            span(&l, "docs")
                .style
                .add_modifier
                .contains(Modifier::UNDERLINED)
        );
        assert_eq!(span(&l, "(https://x.io)").style, md().link_url);
        assert_eq!(text(&render("![a cat](c.png)", 80)), vec!["[image: a cat]"]);
    }

    #[test]
    fn quotes_get_bars_and_nest() {
        let l = render("> one\n>\n> > two", 40);
        assert_eq!(text(&l), vec!["│ one", "│", "│ │ two"]);
        assert_eq!(l[0].spans[0].style, md().quote_bar);
    }

    #[test]
    fn lists_have_markers_and_hanging_indent() {
        let l = render("- alpha beta gamma\n  - nested\n- b", 12);
        assert_eq!(
            text(&l),
            vec!["• alpha beta", "  gamma", "  ◦ nested", "• b"]
        );
        let l = render("3. x\n4. y", 20);
        assert_eq!(text(&l), vec!["3. x", "4. y"]);
        let l = render("- [x] done\n- [ ] open task here", 12);
        assert_eq!(
            text(&l),
            vec!["[x] done", "[ ] open", "    task", "    here"]
        );
    }

    #[test]
    fn blocks_are_separated_by_blank_lines() {
        let l = render("para\n- a\n- b\n\nafter\n***", 20);
        assert_eq!(
            text(&l),
            vec![
                "para",
                "",
                "• a",
                "• b",
                "",
                "after",
                "",
                "─".repeat(20).as_str()
            ]
        );
    }

    #[test]
    fn tables_align_and_fit() {
        let src = "| name | n |\n|:-----|--:|\n| apple | 1 |\n| kiwi | 22 |";
        let l = render(src, 40);
        assert_eq!(
            text(&l),
            vec!["name  │  n", "──────┼───", "apple │  1", "kiwi  │ 22"]
        );
        assert!(span(&l, "name").style.add_modifier.contains(Modifier::BOLD));
        let wide = "| a | b |\n|---|---|\n| a very long cell indeed | 漢字漢字漢字漢字 |";
        for w in 1..30 {
            let l = render(wide, w);
            assert!(
                l.iter().all(|x| x.width() <= w),
                "width {w}: {:?}",
                text(&l)
            );
        }
        assert!(text(&render(wide, 20)).iter().any(|t| t.contains('…')));
    }

    #[test]
    fn code_in_lists_is_numbered_and_highlighted() {
        let (l, n) = render_block(
            "1. step\n   ```rust\n   let x = 1;\n   ```",
            40,
            3,
            None,
            &md(),
        );
        assert_eq!(n, 1);
        assert_eq!(
            text(&l),
            vec!["1. step", "   ── rust [3] ──", "   let x = 1;"]
        );
        assert!(l[2].spans.len() > 2, "highlighted: {:?}", l[2]);
        assert_eq!(
            count_fenced("```a\nx\n```\n\n    indented\n\n~~~\ny\n~~~"),
            2
        );
        assert_eq!(
            fenced_code("- ```py\n  x\n  ```"),
            vec![("py".to_string(), "x".to_string())]
        );
    }

    #[test]
    fn html_is_dim_and_br_breaks() {
        let l = render("a<br>b", 20);
        assert_eq!(text(&l), vec!["a", "b"]);
        let l = render("<div>\nhi\n</div>", 20);
        assert_eq!(text(&l), vec!["<div>", "hi", "</div>"]);
        assert_eq!(l[0].spans[0].style, md().html);
    }

    #[test]
    fn fit_columns_shrinks_widest_first() {
        assert_eq!(fit_columns(&[3, 10, 2], 20), vec![3, 10, 2]);
        assert_eq!(fit_columns(&[3, 10, 2], 9), vec![3, 4, 2]);
        assert_eq!(fit_columns(&[3, 10, 2], 2), vec![1, 1, 1]);
    }
}
