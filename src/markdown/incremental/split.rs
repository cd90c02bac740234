//! Splits markdown source into top-level blocks, line by line, as text arrives.
//!
//! A block ends at a blank line followed by a line starting in column 0 (an indented line
//! continues the block: list item paragraphs, indented code), outside any code fence. A fence
//! opened in column 0 is a block of its own, reported line by line so that its highlighting
//! can be committed as it streams; it ends at its closing fence.
//!
//! Decisions only depend on complete lines, so the blocks of a prefix are blocks of every
//! extension of it: that is what lets the streaming renderer commit them. A whole document is
//! split by the same machine, with its last line counted complete at the end.

use std::ops::Range;

/// A code fence: its character and run length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fence {
    ch: u8,
    len: usize,
}

/// Parses a fence opener: indentation (0..=3 spaces), the fence, and its info string.
pub(crate) fn opener(line: &str) -> Option<(usize, Fence, &str)> {
    let indent = line.bytes().take_while(|&b| b == b' ').count();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = *rest.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = rest.bytes().take_while(|&b| b == ch).count();
    if len < 3 {
        return None;
    }
    let info = &rest[len..];
    if ch == b'`' && info.contains('`') {
        return None;
    }
    Some((indent, Fence { ch, len }, info.trim()))
}

/// Whether `line` closes `fence`.
pub(crate) fn closes(line: &str, fence: Fence) -> bool {
    let indent = line.bytes().take_while(|&b| b == b' ').count();
    if indent > 3 {
        return false;
    }
    let rest = &line[indent..];
    let len = rest.bytes().take_while(|&b| b == fence.ch).count();
    len >= fence.len && rest[len..].bytes().all(|b| b == b' ' || b == b'\t')
}

/// Whether a partial line could still become the closer of `fence` (hidden while streaming so
/// the closing backticks don't flash up as code).
pub(crate) fn may_close(partial: &str, fence: Fence) -> bool {
    let t = partial.trim_start_matches(' ');
    partial.len() - t.len() <= 3 && t.bytes().all(|b| b == fence.ch)
}

/// The language of an info string: its first word.
pub(crate) fn lang_of(info: &str) -> String {
    info.split_whitespace().next().unwrap_or("").to_string()
}

fn is_blank(line: &str) -> bool {
    line.bytes().all(|b| b == b' ' || b == b'\t')
}

/// What the splitter reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A complete non-fence block: its source range (without the trailing newline).
    Block(Range<usize>),
    /// A column-0 fence opened, with its language.
    FenceOpen(String),
    /// A line of the open fence's code (range without line ending).
    FenceLine(Range<usize>),
    /// The open fence closed (or the document ended inside it).
    FenceClose,
}

/// The block being built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Current {
    /// Between blocks.
    None,
    /// A non-fence block starting at this offset.
    Block(usize),
    /// Inside a column-0 fence.
    Fence(Fence),
}

/// Line-by-line block splitter over a growing source.
#[derive(Clone, Debug)]
pub(crate) struct Splitter {
    /// Start of the first line not yet processed.
    pos: usize,
    /// No newline exists in `pos..scanned` (so a long line arriving in pieces isn't rescanned).
    scanned: usize,
    cur: Current,
    /// End of the current block's last line.
    end: usize,
    /// A blank line followed the current block's last non-blank line.
    blank: bool,
    /// A fence opened with indentation inside the current block (in a list item, say).
    inner: Option<Fence>,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            pos: 0,
            scanned: 0,
            cur: Current::None,
            end: 0,
            blank: false,
            inner: None,
        }
    }
}

impl Splitter {
    /// Start of the unprocessed (partial) last line.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The block being built.
    pub(crate) fn current(&self) -> &Current {
        &self.cur
    }

    /// Processes every complete line of `src` not seen yet.
    pub(crate) fn advance(&mut self, src: &str, out: &mut Vec<Event>) {
        while let Some(i) = src.as_bytes()[self.scanned..]
            .iter()
            .position(|&b| b == b'\n')
        {
            let nl = self.scanned + i;
            self.line(src, self.pos, nl, out);
            self.pos = nl + 1;
            self.scanned = self.pos;
        }
        self.scanned = src.len();
    }

    /// Processes the last line (complete now that the document ended) and ends the last block.
    pub(crate) fn finish(&mut self, src: &str, out: &mut Vec<Event>) {
        self.advance(src, out);
        if self.pos < src.len() {
            self.line(src, self.pos, src.len(), out);
            self.pos = src.len();
            self.scanned = self.pos;
        }
        match self.cur {
            Current::None => {}
            Current::Block(start) => out.push(Event::Block(start..self.end)),
            Current::Fence(_) => out.push(Event::FenceClose),
        }
        self.cur = Current::None;
        self.inner = None;
        self.blank = false;
    }

    fn end_block(&mut self, out: &mut Vec<Event>) {
        if let Current::Block(start) = self.cur {
            out.push(Event::Block(start..self.end));
        }
        self.cur = Current::None;
        self.inner = None;
        self.blank = false;
    }

    fn line(&mut self, src: &str, start: usize, end: usize, out: &mut Vec<Event>) {
        let raw = &src[start..end];
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Current::Fence(f) = self.cur {
            if closes(line, f) {
                out.push(Event::FenceClose);
                self.cur = Current::None;
            } else {
                out.push(Event::FenceLine(start..start + line.len()));
            }
            return;
        }
        if let Some(f) = self.inner {
            // Inside an indented fence everything, blank lines included, belongs to the block.
            self.end = end;
            if closes(line, f) {
                self.inner = None;
            }
            return;
        }
        if is_blank(line) {
            self.blank = !matches!(self.cur, Current::None);
            return;
        }
        let fence = opener(line);
        if let Some((0, f, info)) = fence {
            self.end_block(out);
            out.push(Event::FenceOpen(lang_of(info)));
            self.cur = Current::Fence(f);
            return;
        }
        if self.blank && !line.starts_with([' ', '\t']) {
            self.end_block(out);
        }
        self.blank = false;
        if self.cur == Current::None {
            self.cur = Current::Block(start);
        }
        self.end = end;
        if let Some((_, f, _)) = fence {
            self.inner = Some(f);
        }
    }
}

/// Splits a whole document.
pub(crate) fn split_all(src: &str) -> Vec<Event> {
    let mut out = Vec::new();
    Splitter::default().finish(src, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(src: &str) -> Vec<String> {
        split_all(src)
            .into_iter()
            .map(|e| match e {
                Event::Block(r) => format!("B:{}", &src[r]),
                Event::FenceOpen(l) => format!("F:{l}"),
                Event::FenceLine(r) => format!("L:{}", &src[r]),
                Event::FenceClose => "C".into(),
            })
            .collect()
    }

    #[test]
    fn blank_line_then_column_zero_splits() {
        assert_eq!(blocks("a\nb\n\n\nc\n"), vec!["B:a\nb", "B:c"]);
        // Indented continuation (list item paragraph) stays in the block.
        assert_eq!(blocks("- a\n\n  more\n- b"), vec!["B:- a\n\n  more\n- b"]);
    }

    #[test]
    fn column_zero_fences_are_their_own_blocks() {
        assert_eq!(
            blocks("text\n```rust title\nfn a() {}\n\nx\n```\nafter"),
            vec![
                "B:text",
                "F:rust",
                "L:fn a() {}",
                "L:",
                "L:x",
                "C",
                "B:after"
            ]
        );
        // Unterminated, CRLF, tilde fences, longer closers.
        assert_eq!(
            blocks("~~~~\r\na\r\n~~~\r\n~~~~~\r\n"),
            vec!["F:", "L:a", "L:~~~", "C"]
        );
        assert_eq!(blocks("```py\nx"), vec!["F:py", "L:x", "C"]);
    }

    #[test]
    fn indented_fences_stay_inside_their_block() {
        let src = "1. step\n   ```sh\n   a\n\nb\n   ```\n\nnext";
        assert_eq!(
            blocks(src),
            vec!["B:1. step\n   ```sh\n   a\n\nb\n   ```", "B:next"]
        );
    }

    #[test]
    fn openers_follow_commonmark() {
        assert!(opener("```rust").is_some());
        assert!(opener("   ~~~").is_some());
        assert!(opener("    ```").is_none());
        assert!(opener("``` a`b").is_none());
        assert!(opener("``").is_none());
        let f = opener("````").unwrap().1;
        assert!(!closes("```", f));
        assert!(closes("  ````` ", f));
        assert!(!closes("```` x", f));
        assert!(may_close("  ``", f) && !may_close("`a", f));
    }

    #[test]
    fn streaming_prefixes_agree_with_the_whole() {
        let src = "# T\n\npara\n\n```rs\nfn x\n\n```\n- a\n\n  b\n\ntail";
        let whole = split_all(src);
        for cut in 0..=src.len() {
            let mut s = Splitter::default();
            let mut ev = Vec::new();
            s.advance(&src[..cut], &mut ev);
            s.advance(src, &mut ev);
            s.finish(src, &mut ev);
            assert_eq!(ev, whole, "cut at {cut}");
        }
    }
}
