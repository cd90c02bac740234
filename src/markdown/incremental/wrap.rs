//! Display clusters, word wrapping, hard wrapping and clipping of styled text.
//!
//! Widths follow `unicode-width`, the same measure ratatui's `Line::width` uses, so a line built
//! here never measures wider than the width it was wrapped to.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::borrow::Cow;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Stand-in for a cluster wider than the whole line (a CJK character at width 1).
const TOO_WIDE: &str = "…";

/// A run of inline text in one style; the text `"\n"` marks a hard line break.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Frag {
    pub text: String,
    pub style: Style,
}

impl Frag {
    /// A run of text.
    pub(crate) fn new(text: impl Into<String>, style: Style) -> Self {
        Frag {
            text: text.into(),
            style,
        }
    }

    /// A forced line break.
    pub(crate) fn hard_break() -> Self {
        Frag {
            text: "\n".into(),
            style: Style::new(),
        }
    }

    /// Whether this is a forced line break.
    pub(crate) fn is_break(&self) -> bool {
        self.text == "\n"
    }
}

/// Makes text safe for a cell grid: tabs become `tab`, other control characters are dropped
/// (they have no width and could drive the terminal).
pub(crate) fn sanitize<'a>(s: &'a str, tab: &str) -> Cow<'a, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\t' {
            out.push_str(tab);
        } else if !c.is_control() {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Iterator over display clusters: a character plus the zero-width characters (combining
/// marks, variation selectors, joined emoji) that follow it, with the cluster's width.
pub(crate) struct Clusters<'a> {
    rest: &'a str,
}

/// Splits `s` into display clusters.
pub(crate) fn clusters(s: &str) -> Clusters<'_> {
    Clusters { rest: s }
}

impl<'a> Iterator for Clusters<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.rest.as_bytes();
        let first = *bytes.first()?;
        // ASCII fast path: a printable ASCII char followed by ASCII is a cluster of width 1.
        if first.is_ascii() && bytes.get(1).is_none_or(|b| b.is_ascii()) {
            let (c, rest) = self.rest.split_at(1);
            self.rest = rest;
            let w = if first.is_ascii_control() { 0 } else { 1 };
            return Some((c, w));
        }
        let mut chars = self.rest.char_indices();
        let (_, c0) = chars.next()?;
        let mut end = c0.len_utf8();
        let mut joined = c0 == '\u{200d}';
        for (i, c) in chars {
            if joined || c.width().unwrap_or(0) == 0 {
                end = i + c.len_utf8();
                joined = c == '\u{200d}';
            } else {
                break;
            }
        }
        let (c, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some((c, c.width()))
    }
}

/// Display width of `s` as the sum of its clusters (what the wrappers budget with).
pub(crate) fn text_width(s: &str) -> usize {
    clusters(s).map(|(_, w)| w).sum()
}

/// Accumulates clusters into lines of spans, merging runs of the same style.
struct Sink {
    width: usize,
    lines: Vec<Vec<Span<'static>>>,
    cur: Vec<Span<'static>>,
    cur_w: usize,
}

impl Sink {
    fn new(width: usize) -> Self {
        Sink {
            width: width.max(1),
            lines: Vec::new(),
            cur: Vec::new(),
            cur_w: 0,
        }
    }

    fn push(&mut self, text: &str, w: usize, style: Style) {
        let (text, w) = if w > self.width {
            (TOO_WIDE, 1)
        } else {
            (text, w)
        };
        if self.cur_w + w > self.width && self.cur_w > 0 {
            self.newline();
        }
        push_span(&mut self.cur, text, style);
        self.cur_w += w;
    }

    fn newline(&mut self) {
        self.lines.push(std::mem::take(&mut self.cur));
        self.cur_w = 0;
    }

    fn finish(mut self) -> Vec<Vec<Span<'static>>> {
        if !self.cur.is_empty() {
            self.newline();
        }
        self.lines
    }
}

/// Appends `text` to `spans`, extending the last span when the style matches.
pub(crate) fn push_span(spans: &mut Vec<Span<'static>>, text: &str, style: Style) {
    if text.is_empty() {
        return;
    }
    match spans.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push_str(text),
        _ => spans.push(Span::styled(text.to_string(), style)),
    }
}

/// Word-wraps inline fragments to `width` columns: breaks at spaces, breaks inside a word only
/// when the word alone is wider than a line, drops spaces at the wrap points.
pub(crate) fn wrap_words(frags: &[Frag], width: usize) -> Vec<Vec<Span<'static>>> {
    let mut sink = Sink::new(width);
    let width = sink.width;
    let mut word: Vec<(&str, usize, Style)> = Vec::new();
    let mut word_w = 0;
    let mut spaces: Vec<(&str, Style)> = Vec::new();

    let flush = |sink: &mut Sink,
                 word: &mut Vec<(&str, usize, Style)>,
                 word_w: &mut usize,
                 spaces: &mut Vec<(&str, Style)>| {
        if word.is_empty() {
            return;
        }
        if sink.cur_w > 0 && sink.cur_w + spaces.len() + *word_w <= width {
            for (s, st) in spaces.iter() {
                push_span(&mut sink.cur, s, *st);
            }
            sink.cur_w += spaces.len();
        } else if sink.cur_w > 0 {
            sink.newline();
        }
        for (c, w, st) in word.drain(..) {
            sink.push(c, w, st);
        }
        *word_w = 0;
        spaces.clear();
    };

    for f in frags {
        if f.is_break() {
            flush(&mut sink, &mut word, &mut word_w, &mut spaces);
            spaces.clear();
            sink.newline();
            continue;
        }
        for (c, w) in clusters(&f.text) {
            if c == " " {
                flush(&mut sink, &mut word, &mut word_w, &mut spaces);
                spaces.push((c, f.style));
            } else {
                word.push((c, w, f.style));
                word_w += w;
            }
        }
    }
    flush(&mut sink, &mut word, &mut word_w, &mut spaces);
    sink.finish()
}

/// Hard-wraps one line of spans (code) at exactly `width` columns; an empty line stays one
/// empty line.
pub(crate) fn wrap_hard(spans: &[Span<'_>], width: usize) -> Vec<Vec<Span<'static>>> {
    let mut sink = Sink::new(width);
    for s in spans {
        for (c, w) in clusters(&s.content) {
            sink.push(c, w, s.style);
        }
    }
    let lines = sink.finish();
    if lines.is_empty() {
        vec![Vec::new()]
    } else {
        lines
    }
}

/// Builds a line and guarantees it is at most `width` columns wide by `Line::width`, cutting
/// clusters off the end if needed (only narrow widths with wide prefixes get here).
pub(crate) fn fit(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let total: usize = spans.iter().map(|s| s.content.width()).sum();
    if total <= width {
        return Line::from(spans);
    }
    let mut out = Vec::with_capacity(spans.len());
    let mut room = width;
    for s in spans {
        let w = s.content.width();
        if w <= room {
            room -= w;
            out.push(s);
            continue;
        }
        let mut budget = room;
        // Cluster sums can undercount a span's measured width, so shrink until it measures.
        loop {
            let mut used = 0;
            let mut end = 0;
            for (c, cw) in clusters(&s.content) {
                if used + cw > budget {
                    break;
                }
                used += cw;
                end += c.len();
            }
            let cut = &s.content[..end];
            let real = cut.width();
            if real <= room {
                if !cut.is_empty() {
                    out.push(Span::styled(cut.to_string(), s.style));
                }
                break;
            }
            budget = budget.saturating_sub(real - room);
            if budget == 0 {
                break;
            }
        }
        break;
    }
    Line::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Modifier;

    fn texts(lines: &[Vec<Span<'static>>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn clusters_keep_combining_marks_and_measure_wide_chars() {
        let got: Vec<_> = clusters("e\u{301}漢a").collect();
        assert_eq!(got, vec![("e\u{301}", 1), ("漢", 2), ("a", 1)]);
        assert_eq!(
            text_width("👍🏽x"),
            clusters("👍🏽x").map(|c| c.1).sum::<usize>()
        );
    }

    #[test]
    fn sanitize_expands_tabs_and_drops_controls() {
        assert_eq!(sanitize("a\tb\x1b[31mc\r", "  "), "a  b[31mc");
        assert!(matches!(sanitize("plain", " "), Cow::Borrowed(_)));
    }

    #[test]
    fn words_wrap_at_spaces_and_keep_styles() {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let frags = vec![
            Frag::new("hello ", Style::new()),
            Frag::new("bold", bold),
            Frag::new(" world again", Style::new()),
        ];
        let lines = wrap_words(&frags, 10);
        assert_eq!(texts(&lines), vec!["hello bold", "world", "again"]);
        assert_eq!(lines[0][1].style, bold);
    }

    #[test]
    fn long_words_break_hard_and_cjk_counts_double() {
        let lines = wrap_words(&[Frag::new("ab abcdefghij", Style::new())], 4);
        assert_eq!(texts(&lines), vec!["ab", "abcd", "efgh", "ij"]);
        let lines = wrap_words(&[Frag::new("漢字漢字漢", Style::new())], 5);
        assert_eq!(texts(&lines), vec!["漢字", "漢字", "漢"]);
    }

    #[test]
    fn hard_breaks_and_too_wide_clusters() {
        let lines = wrap_words(
            &[
                Frag::new("a", Style::new()),
                Frag::hard_break(),
                Frag::new("b", Style::new()),
            ],
            10,
        );
        assert_eq!(texts(&lines), vec!["a", "b"]);
        let lines = wrap_words(&[Frag::new("漢x", Style::new())], 1);
        assert_eq!(texts(&lines), vec![TOO_WIDE, "x"]);
    }

    #[test]
    fn hard_wrap_splits_code_exactly() {
        let spans = vec![Span::styled(
            "fn main() {}",
            Style::new().add_modifier(ratatui::style::Modifier::BOLD),
        )];
        let lines = wrap_hard(&spans, 5);
        assert_eq!(texts(&lines), vec!["fn ma", "in() ", "{}"]);
        assert_eq!(wrap_hard(&[], 5), vec![Vec::<Span>::new()]);
    }

    #[test]
    fn fit_clips_to_width() {
        let line = fit(vec![Span::raw("│ "), Span::raw("│ "), Span::raw("漢字")], 5);
        assert!(line.width() <= 5);
        assert_eq!(line.to_string(), "│ │ ");
        let line = fit(vec![Span::raw("abc")], 3);
        assert_eq!(line.to_string(), "abc");
    }
}
