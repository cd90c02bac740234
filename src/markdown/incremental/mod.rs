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
mod wrap;

use crate::theme::MarkdownStyles;
use highlight::{HlMemo, HlState};
use ratatui::text::Line;
use split::{Current, Event, Splitter};
use std::collections::VecDeque;
use std::sync::Arc;

/// The syntax themes code can be highlighted with, by name.
pub fn syntax_themes() -> Vec<&'static str> {
    highlight::syntax_themes()
}

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
fn fence_header(lang: &str, n: usize, width: usize, md: &MarkdownStyles) -> Line<'static> {
    wrap::fit(block::code_header(lang, n, md), width)
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

/// Renders a complete markdown document into styled lines wrapped to `width` columns, in the
/// default theme.
pub fn render(src: &str, width: u16) -> Vec<Line<'static>> {
    render_with(src, width, &crate::theme::default_markdown())
}

/// Renders a complete markdown document in `md`'s styles.
pub fn render_with(src: &str, width: u16, md: &MarkdownStyles) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    let mut out = Vec::new();
    let mut codes = 0;
    let mut fence: Option<Option<HlState>> = None;
    for ev in split::split_all(src) {
        match ev {
            Event::Block(r) => {
                let (lines, n) = block::render_block(&src[r], width, codes + 1, None, md);
                codes += n;
                append_block(&mut out, lines);
            }
            Event::FenceOpen(lang) => {
                codes += 1;
                append_block(&mut out, vec![fence_header(&lang, codes, width, md)]);
                fence = Some(highlight::start(&lang, md));
            }
            Event::FenceLine(r) => {
                let state = fence.as_mut().and_then(Option::as_mut);
                let line = highlight::highlight_line(state, &src[r], md);
                append_code_line(&mut out, &line, width);
            }
            Event::FenceClose => fence = None,
        }
    }
    out
}

/// Code lines per fence chunk: the unit of counting, caching and re-highlighting of a fence.
const CHUNK: usize = 64;

/// Rendered lines kept per message (and width) for recently viewed pieces; the piece in use
/// is always kept even when it alone is larger.
const CACHE_LINES: usize = 512;

/// A committed piece of the message.
enum Item {
    /// A complete non-fence block.
    Block {
        start: usize,
        end: usize,
        first_code: usize,
    },
    /// A column-0 fence (boxed: items are many and most are blocks).
    Fence(Box<Fence>),
}

/// A column-0 fence. Highlighted lines are not kept (they are the memory problem): the source
/// ranges of its code lines and syntect's state every `CHUNK` lines are, so any chunk
/// re-highlights deterministically from its checkpoint.
struct Fence {
    lang: String,
    number: usize,
    /// Source range of each code line.
    lines: Vec<(u32, u32)>,
    /// Highlighting state before code line `k * CHUNK` for k >= 1 (`None` for plain code).
    checkpoints: Vec<Option<HlState>>,
    /// Lines whose highlighted spans split a display cluster, so they may wrap unlike
    /// their plain text; counting uses these instead (rare: a style change mid-cluster).
    irregular: Vec<(usize, Line<'static>)>,
    /// Highlighted lines of the incomplete last chunk while the fence is open (the
    /// streaming tail shows them without highlighting again).
    pending: Vec<Line<'static>>,
    open: bool,
}

/// A counted piece at one width: a block, or a chunk of a fence (chunk 0 holds the header).
/// Its lines include the blank separator before it.
struct Unit {
    item: u32,
    chunk: u32,
    start: u32,
    len: u32,
}

/// Line counts and a bounded cache of rendered lines at one width.
#[derive(Default)]
struct View {
    width: usize,
    /// Complete pieces, in order, with their line ranges.
    units: Vec<Unit>,
    /// Lines of all `units`.
    counted: usize,
    /// Counting progress: the next item, and for a fence the next chunk.
    next_item: usize,
    next_chunk: usize,
    /// The open fence's incomplete chunk as rendered so far: (item, chunk), code lines done.
    pending_key: Option<(usize, usize)>,
    pending_done: usize,
    pending_out: Vec<Line<'static>>,
    /// Lines of the uncommitted tail (the partial code line, or the unfinished block).
    tail: Vec<Line<'static>>,
    /// `pending_out` and `tail` match the source.
    fresh: bool,
    /// Rendered lines of recently used units (unit index), least recently used first.
    cache: VecDeque<(usize, Vec<Line<'static>>)>,
    cached_lines: usize,
    /// The whole message, built only by `lines`.
    full: Vec<Line<'static>>,
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
    /// Cache budget in lines when not `CACHE_LINES` (tests shrink it to exercise eviction).
    cache_budget: Option<usize>,
    /// The styles every line is rendered in (their identity keys every cached line).
    md: Styles,
}

/// Markdown styles, the default theme's unless set.
#[derive(Clone)]
struct Styles(Arc<MarkdownStyles>);

impl Default for Styles {
    fn default() -> Self {
        Styles(crate::theme::default_markdown())
    }
}

impl StreamingMarkdown {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty message whose rendered-line cache holds about `lines` lines (for tests).
    #[doc(hidden)]
    pub fn with_cache_lines(lines: usize) -> Self {
        Self {
            cache_budget: Some(lines),
            ..Self::default()
        }
    }

    /// Rendered lines held right now (cache and tail), which `lines_in` keeps bounded.
    #[doc(hidden)]
    pub fn held_lines(&self) -> usize {
        self.view.cache.iter().map(|(_, l)| l.len()).sum::<usize>()
            + self.view.pending_out.len()
            + self.view.tail.len()
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
            *self = self.emptied();
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
        *self = self.emptied();
        self.push(&src);
    }

    /// An empty message with this one's cache budget and styles.
    fn emptied(&self) -> Self {
        Self {
            cache_budget: self.cache_budget,
            md: self.md.clone(),
            ..Self::new()
        }
    }

    /// Renders in `md`'s styles from now on: a different theme renders the message afresh
    /// (rare: a theme switch), the same one costs a comparison.
    pub fn set_styles(&mut self, md: &Arc<MarkdownStyles>) {
        if self.md.0.id == md.id {
            return;
        }
        let src = std::mem::take(&mut self.src);
        let finished = self.finished;
        *self = Self {
            md: Styles(md.clone()),
            ..self.emptied()
        };
        self.push(&src);
        if finished {
            self.finish();
        }
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
                    self.fence_state = highlight::start(&lang, &self.md.0);
                    self.items.push(Item::Fence(Box::new(Fence {
                        lang,
                        number: self.codes,
                        lines: Vec::new(),
                        checkpoints: Vec::new(),
                        irregular: Vec::new(),
                        pending: Vec::new(),
                        open: true,
                    })));
                }
                Event::FenceLine(r) => {
                    if let Some(Item::Fence(f)) = self.items.last_mut() {
                        let Fence {
                            lines,
                            checkpoints,
                            irregular,
                            pending,
                            ..
                        } = &mut **f;
                        let i = lines.len();
                        // Chunk 0 starts from `highlight::start(lang)`; storing that state for every
                        // small fence would cost more than all its line ranges.
                        if i % CHUNK == 0 && i > 0 {
                            checkpoints.push(self.fence_state.clone());
                        }
                        let line = highlight::highlight_line(
                            self.fence_state.as_mut(),
                            &self.src[r.clone()],
                            &self.md.0,
                        );
                        if !wraps_like_plain(&line) {
                            irregular.push((i, line.clone()));
                        }
                        pending.push(line);
                        lines.push((r.start as u32, r.end as u32));
                        if lines.len() % CHUNK == 0 {
                            // The chunk is complete and counted from now on; it re-highlights
                            // from its checkpoint when viewed.
                            pending.clear();
                        }
                    }
                }
                Event::FenceClose => {
                    self.fence_state = None;
                    if let Some(Item::Fence(f)) = self.items.last_mut() {
                        f.open = false;
                        f.pending = Vec::new();
                    }
                }
            }
        }
    }

    /// All lines at this width. Builds the whole message (tests, `render` parity); the UI uses
    /// `line_count` and `lines_in`, which keep memory bounded.
    pub fn lines(&mut self, width: u16) -> &[Line<'static>] {
        let n = self.line_count(width);
        let mut full = std::mem::take(&mut self.view.full);
        full.clear();
        self.lines_in(width, 0, n, &mut full);
        self.view.full = full;
        &self.view.full
    }

    /// Number of lines at this width. The first call at a width renders each block once to
    /// count it; later calls only count new items and redo the uncommitted tail.
    pub fn line_count(&mut self, width: u16) -> usize {
        self.sync(usize::from(width.max(1)));
        self.view.counted + self.view.pending_out.len() + self.view.tail.len()
    }

    /// Appends lines `[skip, skip + take)` at this width to `out` (clamped to the message).
    /// Renders only the pieces overlapping the range, keeping a bounded cache of them.
    pub fn lines_in(&mut self, width: u16, skip: usize, take: usize, out: &mut Vec<Line<'static>>) {
        let width = usize::from(width.max(1));
        self.sync(width);
        let end = skip.saturating_add(take);
        let mut i = self
            .view
            .units
            .partition_point(|u| (u.start + u.len) as usize <= skip);
        while i < self.view.units.len() && (self.view.units[i].start as usize) < end {
            let u = &self.view.units[i];
            let (start, len) = (u.start as usize, u.len as usize);
            if len > 0 {
                let lines = self.unit_lines(i);
                let lo = skip.max(start) - start;
                let hi = end.min(start + len) - start;
                out.extend_from_slice(&lines[lo..hi]);
            }
            i += 1;
        }
        let mut at = self.view.counted;
        for part in [&self.view.pending_out, &self.view.tail] {
            let (lo, hi) = (skip.max(at), end.min(at + part.len()));
            if lo < hi {
                out.extend_from_slice(&part[lo - at..hi - at]);
            }
            at += part.len();
        }
    }

    /// Rendered lines of unit `i`, from the cache or rendered now (and cached).
    fn unit_lines(&mut self, i: usize) -> &[Line<'static>] {
        let budget = self.cache_budget.unwrap_or(CACHE_LINES);
        let view = &mut self.view;
        if let Some(pos) = view.cache.iter().position(|(u, _)| *u == i) {
            let hit = view.cache.remove(pos).expect("position is in range");
            view.cache.push_back(hit);
        } else {
            let u = &view.units[i];
            let lines = render_unit(
                &self.src,
                &self.items[u.item as usize],
                u.chunk as usize,
                view.width,
                u.start > 0,
                &mut self.memo,
                &self.md.0,
            );
            debug_assert_eq!(
                lines.len(),
                u.len as usize,
                "a re-rendered piece must match its count"
            );
            cache_insert(view, i, lines, budget);
        }
        &self.view.cache.back().expect("just inserted").1
    }

    /// Brings the view up to date at `width`: counts newly complete pieces, redoes the tail.
    fn sync(&mut self, width: usize) {
        if self.view.width != width {
            self.view = View {
                width,
                ..View::default()
            };
        }
        let budget = self.cache_budget.unwrap_or(CACHE_LINES);
        let Self {
            src,
            splitter,
            items,
            codes,
            fence_state,
            view,
            memo,
            md,
            ..
        } = self;
        let md: &MarkdownStyles = &md.0;

        while let Some(item) = items.get(view.next_item) {
            match item {
                Item::Block { .. } => {
                    // Render to count; the fresh lines are likely in view, so cache them.
                    let lines = render_unit(src, item, 0, width, view.counted > 0, memo, md);
                    let len = lines.len();
                    push_unit(view, view.next_item, 0, len);
                    if len > 0 {
                        let idx = view.units.len() - 1;
                        cache_insert(view, idx, lines, budget);
                    }
                    view.next_item += 1;
                }
                Item::Fence(f) => {
                    let Fence {
                        lines,
                        irregular,
                        open,
                        ..
                    } = &**f;
                    let n = lines.len();
                    loop {
                        let c = view.next_chunk;
                        let complete =
                            (c + 1) * CHUNK <= n || (!*open && (c * CHUNK < n || c == 0));
                        if !complete {
                            break;
                        }
                        let mut len = 0;
                        if c == 0 {
                            len += 1 + usize::from(view.counted > 0);
                        }
                        let first = c * CHUNK;
                        for (i, &r) in lines
                            .iter()
                            .enumerate()
                            .take(n.min(first + CHUNK))
                            .skip(first)
                        {
                            len += code_line_count(src, r, i, irregular, width);
                        }
                        push_unit(view, view.next_item, c, len);
                        view.next_chunk += 1;
                    }
                    if *open {
                        break;
                    }
                    view.next_item += 1;
                    view.next_chunk = 0;
                }
            }
        }

        if view.fresh {
            return;
        }
        // The open fence's incomplete chunk, appended to incrementally like the old view.
        match items.last() {
            Some(Item::Fence(f)) if f.open => {
                let Fence {
                    lang,
                    number,
                    lines,
                    pending,
                    ..
                } = &**f;
                let key = (items.len() - 1, lines.len() / CHUNK);
                if view.pending_key != Some(key) {
                    view.pending_key = Some(key);
                    view.pending_done = 0;
                    view.pending_out.clear();
                    if key.1 == 0 {
                        if view.counted > 0 {
                            view.pending_out.push(Line::default());
                        }
                        view.pending_out
                            .push(fence_header(lang, *number, width, md));
                    }
                }
                for l in &pending[view.pending_done..] {
                    append_code_line(&mut view.pending_out, l, width);
                }
                view.pending_done = pending.len();
            }
            _ => {
                view.pending_key = None;
                view.pending_done = 0;
                view.pending_out.clear();
            }
        }

        // The tail: the partial line of an open fence, or the unfinished block.
        view.tail.clear();
        let before = view.counted + view.pending_out.len();
        let tail_block = |lines: Vec<Line<'static>>, tail: &mut Vec<Line<'static>>| {
            if !lines.is_empty() && before > 0 {
                tail.push(Line::default());
            }
            tail.extend(lines);
        };
        match splitter.current() {
            Current::Fence(f) => {
                let partial = &src[splitter.pos()..];
                let partial = partial.strip_suffix('\r').unwrap_or(partial);
                if !partial.is_empty() && !split::may_close(partial, *f) {
                    let mut state = fence_state.clone();
                    append_code_line(
                        &mut view.tail,
                        &highlight::highlight_line(state.as_mut(), partial, md),
                        width,
                    );
                }
            }
            Current::Block(start) => {
                let memo = memo_for(memo, *start);
                let shown = held_back(&src[*start..]);
                let (lines, _) = block::render_block(shown, width, *codes + 1, Some(memo), md);
                tail_block(lines, &mut view.tail);
            }
            Current::None => {
                let shown = held_back(&src[splitter.pos()..]);
                let (lines, _) = block::render_block(shown, width, *codes + 1, None, md);
                tail_block(lines, &mut view.tail);
            }
        }
        view.fresh = true;
    }
}

/// The unfinished block as shown while it streams: a table row still arriving, and a `**`
/// (or `__`, `` ` ``) still waiting for its close, are held back until their line completes,
/// so raw pipes and asterisks never flash on screen. The finished message shows everything.
pub(crate) fn held_back(block: &str) -> &str {
    let start = block.rfind('\n').map_or(0, |i| i + 1);
    let partial = &block[start..];
    if partial.is_empty() {
        return block;
    }
    if partial.trim_start().starts_with('|') {
        return &block[..start];
    }
    for mark in ["**", "__", "`"] {
        if partial.matches(mark).count() % 2 == 1
            && let Some(i) = partial.rfind(mark)
        {
            return &block[..start + i];
        }
    }
    block
}

/// Records a counted unit after the last one.
fn push_unit(view: &mut View, item: usize, chunk: usize, len: usize) {
    // u32 keeps a unit at 16 bytes (one per block); a message never has 4G lines or blocks.
    view.units.push(Unit {
        item: item as u32,
        chunk: chunk as u32,
        start: view.counted as u32,
        len: len as u32,
    });
    view.counted += len;
}

/// Adds a unit's lines as most recently used, evicting the least recently used beyond the budget.
fn cache_insert(view: &mut View, unit: usize, lines: Vec<Line<'static>>, budget: usize) {
    view.cached_lines += lines.len();
    view.cache.push_back((unit, lines));
    while view.cached_lines > budget && view.cache.len() > 1 {
        let (_, old) = view.cache.pop_front().expect("len > 1");
        view.cached_lines -= old.len();
    }
}

/// Renders one unit: a block, or chunk `chunk` of a fence re-highlighted from its checkpoint.
/// `after` says whether lines precede it (then a non-empty unit starts with a blank line).
fn render_unit(
    src: &str,
    item: &Item,
    chunk: usize,
    width: usize,
    after: bool,
    memo: &mut Option<(usize, HlMemo)>,
    md: &MarkdownStyles,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match item {
        Item::Block {
            start,
            end,
            first_code,
        } => {
            // Only the tail's memo helps here; don't displace it for an old block.
            let memo = memo.as_mut().filter(|(s, _)| s == start).map(|(_, m)| m);
            let (lines, _) = block::render_block(&src[*start..*end], width, *first_code, memo, md);
            if !lines.is_empty() && after {
                out.push(Line::default());
            }
            out.extend(lines);
        }
        Item::Fence(f) => {
            let Fence {
                lang,
                number,
                lines,
                checkpoints,
                ..
            } = &**f;
            if chunk == 0 {
                if after {
                    out.push(Line::default());
                }
                out.push(fence_header(lang, *number, width, md));
            }
            let mut state = match chunk {
                0 => highlight::start(lang, md),
                c => checkpoints.get(c - 1).cloned().flatten(),
            };
            let to = ((chunk + 1) * CHUNK).min(lines.len());
            for &(a, b) in lines.get(chunk * CHUNK..to).unwrap_or(&[]) {
                let l = highlight::highlight_line(state.as_mut(), &src[a as usize..b as usize], md);
                append_code_line(&mut out, &l, width);
            }
        }
    }
    out
}

/// Rendered lines of code line `i` at `width`, counted from its plain text unless irregular.
fn code_line_count(
    src: &str,
    (a, b): (u32, u32),
    i: usize,
    irregular: &[(usize, Line<'static>)],
    width: usize,
) -> usize {
    if let Ok(k) = irregular.binary_search_by_key(&i, |(j, _)| *j) {
        return wrap::wrap_hard(&irregular[k].1.spans, width).len();
    }
    let text = wrap::sanitize(&src[a as usize..b as usize], highlight::CODE_TAB);
    wrap::wrap_hard(&[ratatui::text::Span::raw(text)], width).len()
}

/// Whether a highlighted line wraps exactly like its text as one span: true unless a style
/// change falls inside a display cluster (wrapping measures clusters per span).
fn wraps_like_plain(line: &Line<'static>) -> bool {
    if line.spans.iter().all(|s| s.content.is_ascii()) {
        return true;
    }
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let split = line
        .spans
        .iter()
        .flat_map(|s| wrap::clusters(&s.content).map(|(c, w)| (c.len(), w)));
    let whole = wrap::clusters(&text).map(|(c, w)| (c.len(), w));
    split.eq(whole)
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

    #[test]
    fn a_new_theme_renders_the_message_afresh_and_the_same_theme_changes_nothing() {
        use ratatui::style::{Color, Style};
        let mut m = StreamingMarkdown::new();
        m.push("say `hi` now\n\n```rust\nlet x = 1;\n```\n");
        m.finish();
        let code_fg = |m: &mut StreamingMarkdown| {
            let mut out = Vec::new();
            m.lines_in(40, 0, 10, &mut out);
            out[0]
                .spans
                .iter()
                .find(|s| s.content == "hi")
                .and_then(|s| s.style.fg)
        };
        let dark = crate::theme::Theme::dark();
        assert_eq!(code_fg(&mut m), dark.md.inline_code.fg);
        m.set_styles(&dark.md);
        assert_eq!(
            code_fg(&mut m),
            dark.md.inline_code.fg,
            "same theme: nothing to redo"
        );
        let mut md = (*dark.md).clone();
        md.inline_code = Style::new().fg(Color::Red);
        md.syntax = "InspiredGitHub".into();
        let other = crate::theme::Theme::new("other", dark.ui.clone(), md);
        m.set_styles(&other.md);
        assert_eq!(
            code_fg(&mut m),
            Some(Color::Red),
            "cached lines are not reused"
        );
        assert_eq!(m.source(), "say `hi` now\n\n```rust\nlet x = 1;\n```\n");
        let mut fresh = StreamingMarkdown::new();
        fresh.set_styles(&other.md);
        fresh.push(m.source());
        fresh.finish();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        m.lines_in(40, 0, 20, &mut a);
        fresh.lines_in(40, 0, 20, &mut b);
        assert_eq!(a, b, "as if it had streamed in the new theme");
    }

    #[test]
    fn no_colour_is_written_in_ui_or_markdown_only_in_the_theme() {
        // The invariant the themes rest on: drawing code names roles, never colours.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        for dir in ["ui", "markdown", "markdown/incremental"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = e.unwrap().path();
                if path.extension().is_none_or(|x| x != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Tests may name colours; the code above them may not.
                let code = &text[..text.find("#[cfg(test)]").unwrap_or(text.len())];
                for (n, line) in code.lines().enumerate() {
                    let before_comment = line.split("//").next().unwrap_or("");
                    // syntect's own colours pass through as RGB.
                    if before_comment.contains("Color::")
                        && !before_comment.contains("Color::Rgb(c.r")
                    {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "colour literals outside the theme:\n{}",
            found.join("\n")
        );
    }
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
        // The committed code line is kept rendered; only the partial line is redone.
        assert_eq!(s.view.pending_done, 1);
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
    fn irregular_code_lines_are_detected_and_counted_right() {
        let line = "x\u{301}=1\u{301}+\"\u{301}\"//\u{301}👩\u{200d}(👧)";
        let mut st = highlight::start("rust", &crate::theme::default_markdown());
        let hl = highlight::highlight_line(st.as_mut(), line, &crate::theme::default_markdown());
        assert!(!wraps_like_plain(&hl), "{hl:?}");
        let src = format!("```rust\n{line}\n{line}\n```\n");
        for w in 1..12 {
            let mut s = StreamingMarkdown::new();
            s.push(&src);
            s.finish();
            assert_eq!(s.line_count(w), render(&src, w).len(), "width {w}");
        }
    }

    #[test]
    fn eviction_keeps_the_cache_within_budget() {
        let mut src = String::new();
        for i in 0..3000 {
            src.push_str(&format!(
                "Paragraph {i} with enough words to wrap a bit.\n\n"
            ));
        }
        let mut s = StreamingMarkdown::new();
        s.push(&src);
        s.finish();
        let n = s.line_count(20);
        assert!(n > 10_000);
        let mut v = Vec::new();
        for top in (0..n).step_by(97) {
            v.clear();
            s.lines_in(20, top, 30, &mut v);
            assert!(s.held_lines() <= CACHE_LINES + 10, "{}", s.held_lines());
        }
        let want = render(&src, 20);
        v.clear();
        s.lines_in(20, 5_000, 100, &mut v);
        assert_eq!(v, want[5_000..5_100]);
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
