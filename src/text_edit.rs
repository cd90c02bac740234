//! The prompt editor's text: lines, a cursor, edits with undo, and soft wrapping for a width.
//!
//! Pure (no terminal types). An edit costs time in the edited line only, a paste is one edit,
//! and layout is computed for the lines on screen (a long line is re-wrapped from the edited
//! row until its rows line up with the old ones again), so a key costs the same after a 1 MB
//! paste as in an empty prompt.

use std::collections::VecDeque;
use unicode_width::UnicodeWidthChar;

/// Columns a tab takes on screen (the text keeps the tab).
const TAB_WIDTH: usize = 4;
/// Undo records kept, and the bytes of text they may hold between them.
const UNDO_RECORDS: usize = 1000;
const UNDO_BYTES: usize = 8 * 1024 * 1024;

/// A place in the text: a line and a byte offset on a character boundary within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Line index.
    pub line: usize,
    /// Byte offset within the line.
    pub col: usize,
}

impl Pos {
    fn new(line: usize, col: usize) -> Self {
        Pos { line, col }
    }
}

#[derive(Debug, Clone)]
struct Line {
    text: String,
    /// Byte offsets where each screen row starts at the buffer's wrap width (first is 0);
    /// `None` until a frame needs it.
    rows: Option<Vec<usize>>,
}

impl Line {
    fn new(text: String) -> Self {
        Line { text, rows: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Insert,
    Delete,
}

/// One undoable change: `text` was inserted at, or deleted from, `at`.
#[derive(Debug, Clone)]
struct Edit {
    kind: Kind,
    at: Pos,
    text: String,
    /// Typing and backspacing extend the last record instead of adding one per key.
    open: bool,
}

/// One screen row of the view: the line and the byte range of it shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Line index.
    pub line: usize,
    /// First byte shown.
    pub start: usize,
    /// One past the last byte shown.
    pub end: usize,
}

/// What a frame shows: the rows from the top of the view, and the cursor's cell in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// Rows, top first; at most the height asked for.
    pub rows: Vec<Row>,
    /// The cursor's (column, row) in the view.
    pub cursor: (usize, usize),
}

/// Editable multi-line text with a cursor, undo and soft wrap.
#[derive(Debug, Clone)]
pub struct TextBuffer {
    lines: Vec<Line>,
    cursor: Pos,
    /// Screen column kept while moving up and down through shorter lines.
    want_col: Option<usize>,
    undo: VecDeque<Edit>,
    redo: Vec<Edit>,
    undo_bytes: usize,
    /// Wrap width the cached rows were made for (0: none yet).
    width: usize,
    /// First line and row of the view.
    top: (usize, usize),
    bytes: usize,
}

impl Default for TextBuffer {
    fn default() -> Self {
        TextBuffer {
            lines: vec![Line::new(String::new())],
            cursor: Pos::default(),
            want_col: None,
            undo: VecDeque::new(),
            redo: Vec::new(),
            undo_bytes: 0,
            width: 0,
            top: (0, 0),
            bytes: 0,
        }
    }
}

/// Display width of a character in the editor (tabs take a fixed width).
pub fn char_cols(c: char) -> usize {
    if c == '\t' {
        TAB_WIDTH
    } else {
        c.width().unwrap_or(0)
    }
}

/// Text as the editor keeps it: line ends are `\n`, and other control characters (which could
/// drive the terminal when drawn) are dropped. Tabs stay.
pub fn clean(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

/// Where the screen row starting at byte `start` of `text` ends (the next row's start), for
/// greedy word wrap at `width` columns, breaking inside a word only when it alone is too wide.
/// Depends only on `start` and the text after it, which is what lets re-wrapping stop early.
fn row_end(text: &str, start: usize, width: usize) -> usize {
    row_scan(text, start, width).0
}

/// `row_end`, and how far the scan looked: the byte of the character that decided the break
/// (it may lie past the break, when a word moved down whole), or the text's end.
fn row_scan(text: &str, start: usize, width: usize) -> (usize, usize) {
    let width = width.max(1);
    let mut cols = 0;
    let mut brk = None;
    let mut after_space = false;
    for (i, c) in text[start..].char_indices() {
        let i = start + i;
        if c == ' ' {
            // Spaces may hang past the edge; the row breaks after them.
            after_space = true;
            cols += 1;
            continue;
        }
        if after_space {
            brk = Some(i);
            after_space = false;
        }
        let w = char_cols(c);
        if cols + w > width {
            let end = match brk {
                Some(b) if b > start => b,
                _ if i > start => i,
                _ => i + c.len_utf8(),
            };
            return (end, i);
        }
        cols += w;
    }
    (text.len(), text.len())
}

/// Row starts of a whole line.
fn wrap(text: &str, width: usize) -> Vec<usize> {
    let mut rows = vec![0];
    let mut s = 0;
    loop {
        let e = row_end(text, s, width);
        if e >= text.len() {
            return rows;
        }
        rows.push(e);
        s = e;
    }
}

/// Row starts after `old_len` bytes at `at` became `new_len` bytes: re-wraps from the row before
/// the edit until a row starts where an old one did (shifted), then reuses the rest.
fn rewrap(
    text: &str,
    old: &[usize],
    at: usize,
    old_len: usize,
    new_len: usize,
    width: usize,
) -> Vec<usize> {
    // Rows before the edit stay while the scan that ended the row before them stopped short of
    // the edit (a word that moved down whole was looked at past the break).
    let mut from = old.partition_point(|&s| s <= at).saturating_sub(1);
    while from > 0 && (old[from] >= text.len() || row_scan(text, old[from - 1], width).1 >= at) {
        from -= 1;
    }
    let mut rows = old[..=from].to_vec();
    let mut s = old[from];
    let delta = new_len as isize - old_len as isize;
    loop {
        let e = row_end(text, s, width);
        if e >= text.len() {
            return rows;
        }
        if e >= at + new_len {
            let was = (e as isize - delta) as usize;
            if let Ok(j) = old.binary_search(&was)
                && j > from
            {
                rows.extend(old[j..].iter().map(|&o| (o as isize + delta) as usize));
                return rows;
            }
        }
        rows.push(e);
        s = e;
    }
}

/// Screen columns of `text[..]`.
fn cols_of(text: &str) -> usize {
    text.chars().map(char_cols).sum()
}

/// Byte offset in `text` at screen column `col` (or its end).
fn offset_at_col(text: &str, col: usize) -> usize {
    let mut c = 0;
    for (i, ch) in text.char_indices() {
        let w = char_cols(ch);
        if c + w > col {
            return i;
        }
        c += w;
    }
    text.len()
}

fn prev_boundary(text: &str, col: usize) -> usize {
    text[..col].char_indices().next_back().map_or(0, |(i, _)| i)
}

fn next_boundary(text: &str, col: usize) -> usize {
    text[col..]
        .chars()
        .next()
        .map_or(text.len(), |c| col + c.len_utf8())
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl TextBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The whole text, lines joined with `\n`.
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(self.bytes + self.lines.len());
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            s.push_str(&l.text);
        }
        s
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.lines.len() == 1 && self.lines[0].text.is_empty()
    }

    /// Bytes of text (line ends not counted).
    pub fn len(&self) -> usize {
        self.bytes
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Line `i`'s text.
    pub fn line(&self, i: usize) -> &str {
        &self.lines[i].text
    }

    /// The cursor.
    pub fn cursor(&self) -> Pos {
        self.cursor
    }

    /// Empties the buffer, forgetting undo.
    pub fn clear(&mut self) {
        *self = TextBuffer {
            width: self.width,
            ..TextBuffer::default()
        };
    }

    // ---- edits -------------------------------------------------------------------------

    /// Types one character (a newline starts a new line).
    pub fn insert_char(&mut self, c: char) {
        if c != '\n' && c != '\t' && c.is_control() {
            return;
        }
        let mut b = [0u8; 4];
        self.insert_clean(c.encode_utf8(&mut b), c != '\n');
    }

    /// Inserts text (a paste) as one edit; control characters other than newline and tab are
    /// dropped and CR line ends become `\n`.
    pub fn insert_str(&mut self, text: &str) {
        let text = clean(text);
        if !text.is_empty() {
            self.insert_clean(&text, false);
        }
    }

    /// Starts a new line at the cursor.
    pub fn newline(&mut self) {
        self.insert_clean("\n", false);
    }

    fn insert_clean(&mut self, text: &str, typing: bool) {
        let at = self.cursor;
        let end = self.raw_insert(at, text);
        self.cursor = end;
        self.want_col = None;
        self.record(Edit {
            kind: Kind::Insert,
            at,
            text: text.to_string(),
            open: typing,
        });
    }

    /// Deletes the character before the cursor (joining lines at a line start).
    pub fn backspace(&mut self) {
        let c = self.cursor;
        let start = if c.col > 0 {
            Pos::new(c.line, prev_boundary(&self.lines[c.line].text, c.col))
        } else if c.line > 0 {
            Pos::new(c.line - 1, self.lines[c.line - 1].text.len())
        } else {
            return;
        };
        self.delete_range(start, c, true);
    }

    /// Deletes the character under the cursor (joining lines at a line end).
    pub fn delete(&mut self) {
        let c = self.cursor;
        let text = &self.lines[c.line].text;
        let end = if c.col < text.len() {
            Pos::new(c.line, next_boundary(text, c.col))
        } else if c.line + 1 < self.lines.len() {
            Pos::new(c.line + 1, 0)
        } else {
            return;
        };
        self.delete_range(c, end, false);
    }

    /// Deletes the word before the cursor.
    pub fn delete_word_back(&mut self) {
        let c = self.cursor;
        let start = self.word_left_of(c);
        if start < c {
            self.delete_range(start, c, false);
        }
    }

    /// Deletes the word after the cursor.
    pub fn delete_word_forward(&mut self) {
        let c = self.cursor;
        let end = self.word_right_of(c);
        if end > c {
            self.delete_range(c, end, false);
        }
    }

    /// Deletes from the line's start to the cursor.
    pub fn delete_to_line_start(&mut self) {
        let c = self.cursor;
        if c.col > 0 {
            self.delete_range(Pos::new(c.line, 0), c, false);
        }
    }

    /// Deletes from the cursor to the line's end (or the line end itself when already there).
    pub fn delete_to_line_end(&mut self) {
        let c = self.cursor;
        let len = self.lines[c.line].text.len();
        if c.col < len {
            self.delete_range(c, Pos::new(c.line, len), false);
        } else {
            self.delete();
        }
    }

    /// Deletes all the text as one edit (undo brings it back).
    pub fn delete_all(&mut self) {
        let last = self.lines.len() - 1;
        let end = Pos::new(last, self.lines[last].text.len());
        if end != Pos::new(0, 0) {
            self.delete_range(Pos::new(0, 0), end, false);
        }
    }

    fn delete_range(&mut self, start: Pos, end: Pos, backspacing: bool) {
        let text = self.raw_delete(start, end);
        self.cursor = start;
        self.want_col = None;
        self.record(Edit {
            kind: Kind::Delete,
            at: start,
            text,
            open: backspacing,
        });
    }

    /// Undoes the last edit; false when there is none.
    pub fn undo(&mut self) -> bool {
        let Some(e) = self.undo.pop_back() else {
            return false;
        };
        self.undo_bytes -= e.text.len();
        self.cursor = match e.kind {
            Kind::Insert => {
                let end = end_of(e.at, &e.text);
                self.raw_delete(e.at, end);
                e.at
            }
            Kind::Delete => {
                self.raw_insert(e.at, &e.text);
                end_of(e.at, &e.text)
            }
        };
        self.want_col = None;
        self.redo.push(Edit { open: false, ..e });
        true
    }

    /// Redoes the last undone edit; false when there is none.
    pub fn redo(&mut self) -> bool {
        let Some(e) = self.redo.pop() else {
            return false;
        };
        self.cursor = match e.kind {
            Kind::Insert => self.raw_insert(e.at, &e.text),
            Kind::Delete => {
                self.raw_delete(e.at, end_of(e.at, &e.text));
                e.at
            }
        };
        self.want_col = None;
        self.undo_bytes += e.text.len();
        self.undo.push_back(e);
        true
    }

    fn record(&mut self, e: Edit) {
        self.redo.clear();
        if let Some(last) = self.undo.back_mut()
            && last.open
            && e.open
            && last.kind == e.kind
        {
            match e.kind {
                // Typing continues the word it extends; a space after a word starts a new one.
                Kind::Insert
                    if end_of(last.at, &last.text) == e.at
                        && (e.text != " " || last.text.ends_with(' ')) =>
                {
                    last.text.push_str(&e.text);
                    self.undo_bytes += e.text.len();
                    return;
                }
                Kind::Delete if end_of(e.at, &e.text) == last.at => {
                    last.text.insert_str(0, &e.text);
                    last.at = e.at;
                    self.undo_bytes += e.text.len();
                    return;
                }
                _ => {}
            }
        }
        self.undo_bytes += e.text.len();
        self.undo.push_back(e);
        while self.undo.len() > UNDO_RECORDS
            || (self.undo_bytes > UNDO_BYTES && self.undo.len() > 1)
        {
            if let Some(old) = self.undo.pop_front() {
                self.undo_bytes -= old.text.len();
            }
        }
    }

    /// Inserts clean text at `at`; returns the position after it.
    fn raw_insert(&mut self, at: Pos, text: &str) -> Pos {
        self.bytes += text.len() - text.matches('\n').count();
        let width = self.width;
        let line = &mut self.lines[at.line];
        if !text.contains('\n') {
            line.text.insert_str(at.col, text);
            if let Some(rows) = &line.rows {
                line.rows = Some(rewrap(&line.text, rows, at.col, 0, text.len(), width));
            }
            return Pos::new(at.line, at.col + text.len());
        }
        let tail = line.text.split_off(at.col);
        let mut pieces = text.split('\n');
        line.text.push_str(pieces.next().unwrap_or(""));
        line.rows = None;
        let mut new: Vec<Line> = pieces.map(|p| Line::new(p.to_string())).collect();
        let count = new.len();
        let last = new.last_mut().expect("text holds a newline");
        let end = Pos::new(at.line + count, last.text.len());
        last.text.push_str(&tail);
        self.lines.splice(at.line + 1..at.line + 1, new);
        end
    }

    /// Deletes `start..end`; returns the removed text.
    fn raw_delete(&mut self, start: Pos, end: Pos) -> String {
        let width = self.width;
        if start.line == end.line {
            let line = &mut self.lines[start.line];
            let removed: String = line.text.drain(start.col..end.col).collect();
            if let Some(rows) = &line.rows {
                line.rows = Some(rewrap(&line.text, rows, start.col, removed.len(), 0, width));
            }
            self.bytes -= removed.len();
            return removed;
        }
        let mut removed = self.lines[start.line].text.split_off(start.col);
        let tail = self.lines[end.line].text.split_off(end.col);
        for l in self.lines.drain(start.line + 1..=end.line) {
            removed.push('\n');
            removed.push_str(&l.text);
        }
        let first = &mut self.lines[start.line];
        first.text.push_str(&tail);
        first.rows = None;
        self.bytes -= removed.len() - removed.matches('\n').count();
        removed
    }

    // ---- moves -------------------------------------------------------------------------

    /// Moves one character left (to the previous line's end at a line start).
    pub fn left(&mut self) {
        let c = self.cursor;
        self.cursor = if c.col > 0 {
            Pos::new(c.line, prev_boundary(&self.lines[c.line].text, c.col))
        } else if c.line > 0 {
            Pos::new(c.line - 1, self.lines[c.line - 1].text.len())
        } else {
            c
        };
        self.want_col = None;
    }

    /// Moves one character right.
    pub fn right(&mut self) {
        let c = self.cursor;
        let text = &self.lines[c.line].text;
        self.cursor = if c.col < text.len() {
            Pos::new(c.line, next_boundary(text, c.col))
        } else if c.line + 1 < self.lines.len() {
            Pos::new(c.line + 1, 0)
        } else {
            c
        };
        self.want_col = None;
    }

    /// Moves to the start of the previous word.
    pub fn word_left(&mut self) {
        self.cursor = self.word_left_of(self.cursor);
        self.want_col = None;
    }

    /// Moves past the end of the next word.
    pub fn word_right(&mut self) {
        self.cursor = self.word_right_of(self.cursor);
        self.want_col = None;
    }

    fn word_left_of(&self, c: Pos) -> Pos {
        if c.col == 0 {
            return if c.line > 0 {
                Pos::new(c.line - 1, self.lines[c.line - 1].text.len())
            } else {
                c
            };
        }
        let text = &self.lines[c.line].text[..c.col];
        let mut chars = text.char_indices().rev().peekable();
        while chars.next_if(|&(_, ch)| !is_word(ch)).is_some() {}
        let mut col = chars.peek().map_or(0, |&(i, ch)| i + ch.len_utf8());
        while let Some((i, _)) = chars.next_if(|&(_, ch)| is_word(ch)) {
            col = i;
        }
        Pos::new(c.line, col)
    }

    fn word_right_of(&self, c: Pos) -> Pos {
        let text = &self.lines[c.line].text;
        if c.col >= text.len() {
            return if c.line + 1 < self.lines.len() {
                Pos::new(c.line + 1, 0)
            } else {
                c
            };
        }
        let rest = &text[c.col..];
        let mut chars = rest.char_indices().peekable();
        while chars.next_if(|&(_, ch)| !is_word(ch)).is_some() {}
        while chars.next_if(|&(_, ch)| is_word(ch)).is_some() {}
        Pos::new(c.line, c.col + chars.peek().map_or(rest.len(), |&(i, _)| i))
    }

    /// Moves to the start of the screen row (then of the line).
    pub fn home(&mut self) {
        let c = self.cursor;
        let (_, start, _) = self.row_of(c);
        self.cursor = Pos::new(c.line, if c.col > start { start } else { 0 });
        self.want_col = None;
    }

    /// Moves to the end of the line.
    pub fn end(&mut self) {
        let l = self.cursor.line;
        self.cursor = Pos::new(l, self.lines[l].text.len());
        self.want_col = None;
    }

    /// Moves to the very start of the text.
    pub fn to_start(&mut self) {
        self.cursor = Pos::default();
        self.want_col = None;
    }

    /// Moves to the very end of the text.
    pub fn to_end(&mut self) {
        let l = self.lines.len() - 1;
        self.cursor = Pos::new(l, self.lines[l].text.len());
        self.want_col = None;
    }

    /// Moves up one screen row, keeping the column; false when already on the first row.
    pub fn up(&mut self) -> bool {
        let c = self.cursor;
        let (r, start, _) = self.row_of(c);
        let want = *self
            .want_col
            .get_or_insert_with(|| cols_of(&self.lines[c.line].text[start..c.col]));
        let (line, row) = if r > 0 {
            (c.line, r - 1)
        } else if c.line > 0 {
            (c.line - 1, self.rows(c.line - 1).len() - 1)
        } else {
            return false;
        };
        self.cursor = self.at_col(line, row, want);
        true
    }

    /// Moves down one screen row, keeping the column; false when already on the last row.
    pub fn down(&mut self) -> bool {
        let c = self.cursor;
        let (r, start, _) = self.row_of(c);
        let want = *self
            .want_col
            .get_or_insert_with(|| cols_of(&self.lines[c.line].text[start..c.col]));
        let (line, row) = if r + 1 < self.rows(c.line).len() {
            (c.line, r + 1)
        } else if c.line + 1 < self.lines.len() {
            (c.line + 1, 0)
        } else {
            return false;
        };
        self.cursor = self.at_col(line, row, want);
        true
    }

    /// The position at screen column `col` of row `row` of `line` (a row that wraps ends before
    /// its break, so the cursor stays on it).
    fn at_col(&mut self, line: usize, row: usize, col: usize) -> Pos {
        let rows = self.rows(line);
        let start = rows[row];
        let last = row + 1 == rows.len();
        let end = if last {
            self.lines[line].text.len()
        } else {
            rows[row + 1]
        };
        let text = &self.lines[line].text[start..end];
        let mut off = start + offset_at_col(text, col);
        if !last && off >= end {
            off = start + prev_boundary(text, text.len());
        }
        Pos::new(line, off)
    }

    // ---- layout ------------------------------------------------------------------------

    /// Sets the wrap width; rows made for another width are dropped.
    pub fn set_width(&mut self, width: usize) {
        let width = width.max(1);
        if width != self.width {
            self.width = width;
            for l in &mut self.lines {
                l.rows = None;
            }
        }
    }

    /// Row starts of `line` at the current width (logical lines when no width is set yet).
    fn rows(&mut self, line: usize) -> &[usize] {
        let width = self.width;
        let l = &mut self.lines[line];
        if width == 0 {
            return std::slice::from_ref(&0);
        }
        l.rows.get_or_insert_with(|| wrap(&l.text, width))
    }

    /// Screen row of `p` within its line, and that row's byte range.
    fn row_of(&mut self, p: Pos) -> (usize, usize, usize) {
        let len = self.lines[p.line].text.len();
        let rows = self.rows(p.line);
        let r = rows.partition_point(|&s| s <= p.col).saturating_sub(1);
        let end = rows.get(r + 1).copied().unwrap_or(len);
        (r, rows[r], end)
    }

    /// Screen rows the text takes at `width`, counted up to `cap` (only the lines needed for that
    /// are wrapped).
    pub fn rows_upto(&mut self, width: usize, cap: usize) -> usize {
        self.set_width(width);
        let mut n = 0;
        for i in 0..self.lines.len() {
            n += self.rows(i).len();
            if n >= cap {
                return cap;
            }
        }
        n
    }

    /// The rows a `width` × `height` view shows, scrolled so the cursor is on screen. Work is
    /// proportional to the height, not to the text.
    pub fn view(&mut self, width: usize, height: usize) -> View {
        self.set_width(width);
        let height = height.max(1);
        let c = self.cursor;
        let (cr, cstart, _) = self.row_of(c);
        let ccol = cols_of(&self.lines[c.line].text[cstart..c.col]);
        // Keep the top valid after edits removed lines or rows.
        let mut top = self.top;
        top.0 = top.0.min(self.lines.len() - 1);
        top.1 = top.1.min(self.rows(top.0).len() - 1);
        if (c.line, cr) < top {
            top = (c.line, cr);
        } else if self.distance(top, (c.line, cr), height) >= height {
            top = self.back(c.line, cr, height - 1);
        }
        // No blank rows under the text while there is text above the view.
        let below = self.distance(top, (usize::MAX, 0), height);
        if below < height {
            let end_line = self.lines.len() - 1;
            let end_row = self.rows(end_line).len() - 1;
            top = self.back(end_line, end_row, height - 1);
        }
        self.top = top;
        let mut rows = Vec::with_capacity(height);
        let (mut line, mut row) = top;
        let mut cursor = (ccol.min(width.saturating_sub(1)), 0);
        while rows.len() < height && line < self.lines.len() {
            let len = self.lines[line].text.len();
            let starts = self.rows(line);
            let start = starts[row];
            let end = starts.get(row + 1).copied().unwrap_or(len);
            let last_row = row + 1 == starts.len();
            if line == c.line && row == cr {
                cursor.1 = rows.len();
            }
            rows.push(Row { line, start, end });
            if last_row {
                line += 1;
                row = 0;
            } else {
                row += 1;
            }
        }
        View { rows, cursor }
    }

    /// Rows from `a` down to `b` (exclusive), counting no further than `cap`.
    fn distance(&mut self, a: (usize, usize), b: (usize, usize), cap: usize) -> usize {
        let (mut line, mut row) = a;
        let mut n = 0;
        while (line, row) < b && line < self.lines.len() && n < cap {
            n += 1;
            if row + 1 < self.rows(line).len() {
                row += 1;
            } else {
                line += 1;
                row = 0;
            }
        }
        n
    }

    /// The row `n` rows above (`line`, `row`), or the first row.
    fn back(&mut self, mut line: usize, mut row: usize, n: usize) -> (usize, usize) {
        for _ in 0..n {
            if row > 0 {
                row -= 1;
            } else if line > 0 {
                line -= 1;
                row = self.rows(line).len() - 1;
            } else {
                break;
            }
        }
        (line, row)
    }
}

/// The position after `text` inserted at `at`.
fn end_of(at: Pos, text: &str) -> Pos {
    match text.rfind('\n') {
        Some(i) => Pos::new(at.line + text.matches('\n').count(), text.len() - i - 1),
        None => Pos::new(at.line, at.col + text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn buf(text: &str) -> TextBuffer {
        let mut b = TextBuffer::new();
        b.insert_str(text);
        b
    }

    fn shown(b: &mut TextBuffer, w: usize, h: usize) -> Vec<String> {
        let v = b.view(w, h);
        v.rows
            .iter()
            .map(|r| b.line(r.line)[r.start..r.end].to_string())
            .collect()
    }

    #[test]
    fn typing_and_newlines_build_the_text() {
        let mut b = TextBuffer::new();
        for c in "ab".chars() {
            b.insert_char(c);
        }
        b.newline();
        b.insert_char('c');
        assert_eq!(b.text(), "ab\nc");
        assert_eq!(b.cursor(), Pos::new(1, 1));
        assert_eq!(b.len(), 3);
    }

    #[test]
    fn a_paste_keeps_tabs_turns_cr_into_newlines_and_drops_escape_sequences() {
        let b = buf("a\tb\r\nc\rd\x1b]52;c;aGk=\x07e\x1b[2J");
        assert_eq!(b.text(), "a\tb\nc\nd]52;c;aGk=e[2J");
    }

    #[test]
    fn a_paste_is_one_undo_step_and_typing_groups_by_word() {
        let mut b = TextBuffer::new();
        b.insert_str("one\ntwo\nthree");
        for c in " four five".chars() {
            b.insert_char(c);
        }
        assert!(b.undo());
        assert_eq!(b.text(), "one\ntwo\nthree four");
        assert!(b.undo());
        assert_eq!(b.text(), "one\ntwo\nthree");
        assert!(b.undo());
        assert_eq!(b.text(), "");
        assert!(!b.undo());
        assert!(b.redo());
        assert_eq!(b.text(), "one\ntwo\nthree");
        assert_eq!(b.cursor(), Pos::new(2, 5));
    }

    #[test]
    fn backspace_joins_lines_and_is_undone_as_one_run() {
        let mut b = buf("ab\ncd");
        for _ in 0..3 {
            b.backspace();
        }
        assert_eq!(b.text(), "ab");
        assert!(b.undo());
        assert_eq!(b.text(), "ab\ncd");
        assert_eq!(b.cursor(), Pos::new(1, 2));
    }

    #[test]
    fn word_moves_and_deletes_stop_at_word_edges() {
        let mut b = buf("let x_1 = foo(bar);");
        b.word_left();
        assert_eq!(b.cursor().col, "let x_1 = foo(".len());
        b.word_left();
        assert_eq!(b.cursor().col, "let x_1 = ".len());
        b.delete_word_back();
        assert_eq!(b.text(), "let foo(bar);");
        b.to_start();
        b.word_right();
        assert_eq!(b.cursor().col, 3);
        b.delete_word_forward();
        assert_eq!(b.text(), "let(bar);");
        b.delete_to_line_end();
        assert_eq!(b.text(), "let");
        b.delete_to_line_start();
        assert_eq!(b.text(), "");
    }

    #[test]
    fn multibyte_text_moves_by_character() {
        let mut b = buf("héllo 世界");
        b.left();
        assert_eq!(b.cursor().col, "héllo 世".len());
        b.backspace();
        assert_eq!(b.text(), "héllo 界");
        b.home();
        b.right();
        b.right();
        b.delete();
        assert_eq!(b.text(), "hélo 界");
    }

    #[test]
    fn words_wrap_at_spaces_and_long_words_break() {
        let mut b = buf("the quick brown fox jumps");
        assert_eq!(shown(&mut b, 10, 5), ["the quick ", "brown fox ", "jumps"]);
        let mut b = buf("abcdefghijklmnop");
        assert_eq!(shown(&mut b, 6, 5), ["abcdef", "ghijkl", "mnop"]);
        let mut b = buf("世界世界世");
        assert_eq!(shown(&mut b, 4, 5), ["世界", "世界", "世"]);
    }

    #[test]
    fn the_view_follows_the_cursor_and_leaves_no_blank_rows_under_text() {
        let mut b = buf("1\n2\n3\n4\n5\n6");
        let v = b.view(10, 3);
        assert_eq!(v.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(v.cursor, (1, 2));
        b.to_start();
        let v = b.view(10, 3);
        assert_eq!(v.rows[0].line, 0);
        assert_eq!(v.cursor, (0, 0));
        // Deleting everything below pulls the view back up.
        b.to_end();
        b.view(10, 3);
        for _ in 0..6 {
            b.backspace();
        }
        let v = b.view(10, 3);
        assert_eq!(v.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn up_and_down_move_by_screen_rows_and_keep_the_column() {
        let mut b = buf("abcdefghij\nxy\n0123456789");
        b.view(5, 10);
        b.to_start();
        b.right();
        b.right();
        b.right();
        assert!(b.down());
        assert_eq!(b.cursor(), Pos::new(0, 8));
        assert!(b.down());
        assert_eq!(b.cursor(), Pos::new(1, 2), "short line: its end");
        assert!(b.down());
        assert_eq!(b.cursor(), Pos::new(2, 3), "the wanted column comes back");
        assert!(b.up());
        assert!(b.up());
        assert_eq!(b.cursor(), Pos::new(0, 8));
        b.to_start();
        assert!(!b.up());
    }

    #[test]
    fn a_huge_line_is_rewrapped_only_near_the_edit() {
        let mut b = buf(&"word ".repeat(200_000));
        b.view(80, 6);
        b.to_start();
        b.insert_char('x');
        b.to_end();
        b.insert_char('y');
        let after = b.lines[0].rows.clone().unwrap();
        assert_eq!(after, wrap(&b.lines[0].text, 80));
    }

    fn edits() -> impl Strategy<Value = Vec<(u8, String)>> {
        prop::collection::vec((0u8..12, "[a-c \\n界]{0,6}"), 0..60)
    }

    proptest! {
        /// Whatever the edits, rows kept up to date incrementally equal a fresh wrap, the cursor
        /// stays on a character boundary, and undoing everything gives back the empty text.
        #[test]
        fn incremental_rows_match_a_fresh_wrap(ops in edits(), width in 1usize..12) {
            let mut b = TextBuffer::new();
            let mut texts = vec![b.text()];
            for (op, s) in ops {
                match op {
                    0 => b.insert_str(&s),
                    1 => s.chars().for_each(|c| b.insert_char(c)),
                    2 => b.backspace(),
                    3 => b.delete(),
                    4 => b.left(),
                    5 => b.right(),
                    6 => { b.up(); }
                    7 => { b.down(); }
                    8 => b.delete_word_back(),
                    9 => b.word_left(),
                    10 => b.home(),
                    _ => { b.undo(); }
                }
                let v = b.view(width, 4);
                prop_assert!(v.rows.iter().any(|r| r.line == b.cursor().line));
                let c = b.cursor();
                prop_assert!(b.line(c.line).is_char_boundary(c.col));
                for l in &b.lines {
                    if let Some(rows) = &l.rows {
                        prop_assert_eq!(rows, &wrap(&l.text, width));
                    }
                }
                texts.push(b.text());
            }
            let _ = texts;
            while b.undo() {}
            prop_assert_eq!(b.text(), "");
            prop_assert_eq!(b.len(), 0);
        }
    }
}
