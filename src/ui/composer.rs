//! The prompt editor on screen: the rows of the buffer's view, a block cursor, a placeholder.

use crate::text_edit::{TextBuffer, char_cols};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

const PLACEHOLDER: &str = "Type a prompt — Enter sends, Shift+Enter or Ctrl+J adds a line, F1 help";

/// Rows the composer's text wants at `width` columns, up to `cap`.
pub fn wanted_rows(t: &mut TextBuffer, width: u16, cap: u16) -> u16 {
    t.rows_upto(width.max(1) as usize, cap.max(1) as usize) as u16
}

/// Draws the editor inside `block`; work is proportional to the rows shown.
pub fn draw(frame: &mut Frame, t: &mut TextBuffer, block: Block, area: Rect, th: &Theme) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let cursor = Style::default().add_modifier(Modifier::REVERSED);
    if t.is_empty() {
        let room = inner.width as usize - 1;
        let hint: String = crate::ui::fit(PLACEHOLDER, room);
        let line = Line::from(vec![
            Span::styled(" ", cursor),
            Span::styled(hint, th.ui.dim),
        ]);
        frame.render_widget(Paragraph::new(line), inner);
        return;
    }
    let view = t.view(inner.width as usize, inner.height as usize);
    let width = inner.width as usize;
    let lines: Vec<Line> = view
        .rows
        .iter()
        .enumerate()
        .map(|(y, r)| {
            let text = &t.line(r.line)[r.start..r.end];
            let cur = (y == view.cursor.1).then_some(view.cursor.0);
            row_line(text, width, cur, cursor)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// One screen row: tabs drawn as spaces, cut at the edge, the cursor cell reversed.
fn row_line(text: &str, width: usize, cursor: Option<usize>, style: Style) -> Line<'static> {
    let mut cells = String::with_capacity(text.len());
    let mut col = 0;
    let mut spans = Vec::new();
    let mut cursor_done = cursor.is_none();
    for c in text.chars() {
        let w = char_cols(c);
        if col + w > width {
            break;
        }
        if !cursor_done && cursor == Some(col) {
            spans.push(Span::raw(std::mem::take(&mut cells)));
            let shown = if c == '\t' {
                " ".repeat(w)
            } else {
                c.to_string()
            };
            spans.push(Span::styled(shown, style));
            cursor_done = true;
        } else if c == '\t' {
            cells.push_str(&" ".repeat(w));
        } else {
            cells.push(c);
        }
        col += w;
    }
    spans.push(Span::raw(cells));
    if !cursor_done {
        spans.push(Span::styled(" ", style));
    }
    Line::from(spans)
}
