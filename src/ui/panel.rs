//! A settings panel on screen: its fields (the focused one highlighted, each error under its
//! field; multi-line text as a highlighted editor), then the live preview of the route and the
//! body the settings send.

use crate::app::form::Value;
use crate::app::keymap::{Context, hints};
use crate::app::panels::Panel;
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

/// Least rows the route preview keeps below the fields.
const PREVIEW_MIN: u16 = 5;

/// Draws `p` into `area` (over whatever is there; only the editor's view cache is written).
pub fn draw(frame: &mut Frame, p: &mut Panel, area: Rect, th: &Theme) {
    // A panel changes only on a key, a paste or new health (each bumps `rev`); in between its
    // cells are copied from the last drawing rather than laid out again every frame.
    let key = (area, th.id, p.rev);
    if p.drawn.as_ref().is_none_or(|(k, _)| *k != key) {
        let mut buf = Buffer::empty(area);
        paint(&mut buf, p, area, th);
        p.drawn = Some((key, buf));
    }
    let (_, buf) = p.drawn.as_ref().expect("just drawn");
    let out = frame.buffer_mut();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            out[(x, y)] = buf[(x, y)].clone();
        }
    }
}

/// Lays the panel out into `buf`.
fn paint(buf: &mut Buffer, p: &mut Panel, area: Rect, th: &Theme) {
    let editing = p.form.editing_lines();
    let scope_key = hints(Context::Panel)
        .into_iter()
        .find(|(_, w)| *w == "scope")
        .map(|(k, _)| k)
        .unwrap_or_default();
    // The model id gives way (cut in the middle) so the scope key always shows whole.
    let title = p.kind.title();
    let scope = if p.all {
        format!("every pane · {scope_key} this pane only")
    } else {
        let fixed = format!(" {title} — this pane:  · {scope_key} every pane ")
            .chars()
            .count();
        let room = (area.width as usize).saturating_sub(fixed + 2).clamp(8, 28);
        format!(
            "this pane: {} · {scope_key} every pane",
            crate::ui::cut_middle(&p.model, room)
        )
    };
    let keys: Vec<String> = crate::app::layers::Layer::commands(p)
        .into_iter()
        .filter(|(_, w)| *w != "quit" && *w != "scope")
        .map(|(k, w)| format!("{k} {w}"))
        .collect();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(th.ui.accent)
        .title(format!(" {title} — {scope} "))
        .title_bottom(crate::ui::fit(
            &format!(" {} ", keys.join(" · ")),
            area.width.saturating_sub(2) as usize,
        ));
    let inner = block.inner(area);
    Clear.render(area, buf);
    block.render(area, buf);
    if inner.height < 3 || inner.width < 10 {
        return;
    }
    let mut rows: Vec<Line> = Vec::new();
    let mut focus_row = 0;
    let label_w = p
        .form
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0);
    let value_w = (inner.width as usize).saturating_sub(label_w + 3);
    // Rows the other fields take, so an editor gets what is left above the preview.
    let others: usize = p
        .form
        .fields
        .iter()
        .map(|f| match f.value {
            Value::Editor(_) => 1,
            _ => 1 + usize::from(f.error.is_some()),
        })
        .sum();
    let editor_h = (inner.height.saturating_sub(PREVIEW_MIN) as usize)
        .saturating_sub(others + 1)
        .max(3);
    let focus = p.form.focus;
    for (i, f) in p.form.fields.iter_mut().enumerate() {
        let focused = i == focus;
        if focused {
            focus_row = rows.len();
        }
        let mut label = th.ui.label;
        if focused {
            label = label.add_modifier(Modifier::REVERSED);
        }
        if let Value::Editor(e) = &mut f.value {
            let err_line = f.error.as_deref().and_then(error_line);
            let head = match &f.error {
                Some(err) => Span::styled(
                    crate::ui::fit(&format!(" ✗ {err}"), value_w + 1),
                    th.ui.error,
                ),
                None => Span::styled(" ✓ valid JSON schema", th.ui.ok),
            };
            rows.push(Line::from(vec![
                Span::styled(format!(" {:<label_w$} ", f.label), label),
                head,
            ]));
            let gutter = 5;
            let width = (inner.width as usize).saturating_sub(gutter).max(1);
            let view = e.0.view(width, editor_h);
            if focused {
                focus_row = rows.len() + view.cursor.1;
            }
            let mut last_line = usize::MAX;
            for (y, r) in view.rows.iter().enumerate() {
                let num = if r.line == last_line {
                    String::new()
                } else {
                    (r.line + 1).to_string()
                };
                last_line = r.line;
                let mark = err_line == Some(r.line + 1);
                let gstyle = if mark { th.ui.error } else { th.ui.dim };
                let mut spans = vec![Span::styled(
                    format!("{}{num:>3} ", if mark { "✗" } else { " " }),
                    gstyle,
                )];
                let text = &e.0.line(r.line)[r.start..r.end];
                let cursor = (focused && y == view.cursor.1).then_some(view.cursor.0);
                spans.extend(json_row(text, width, cursor, th));
                rows.push(Line::from(spans));
            }
            continue;
        }
        let value = f.shown();
        let value_style = match (&f.value, f.error.is_some()) {
            (_, true) => th.ui.error,
            (Value::Toggle(true), _) => th.ui.ok,
            _ => Style::default(),
        };
        let mut vs = value_style;
        if focused {
            vs = vs.add_modifier(Modifier::BOLD);
        }
        rows.push(Line::from(vec![
            Span::styled(format!(" {:<label_w$} ", f.label), label),
            Span::raw(" "),
            Span::styled(
                crate::ui::fit(&crate::safe_text::neutralise(&value), value_w),
                vs,
            ),
        ]));
        if let Some(e) = &f.error {
            rows.push(Line::styled(
                crate::ui::fit(&format!("   ✗ {e}"), inner.width as usize),
                th.ui.error,
            ));
        }
    }
    // Fields take at most 60 % of the height (with an editor, all but the preview's least);
    // the preview gets the rest.
    let share = if editing
        || p.form
            .fields
            .iter()
            .any(|f| matches!(f.value, Value::Editor(_)))
    {
        inner.height.saturating_sub(PREVIEW_MIN)
    } else {
        inner.height * 3 / 5
    };
    let fields_h = (rows.len() as u16).min(share).max(3);
    let [fields_area, preview_area] =
        Layout::vertical([Constraint::Length(fields_h), Constraint::Min(0)]).areas(inner);
    // Keep the focused field in view.
    let top = focus_row
        .saturating_sub(fields_h as usize / 2)
        .min(rows.len().saturating_sub(fields_h as usize));
    Paragraph::new(rows)
        .scroll((top as u16, 0))
        .render(fields_area, buf);
    if preview_area.height == 0 {
        return;
    }
    let dim = th.ui.dim;
    let mut lines = vec![Line::styled(
        "─ route now ".to_string() + &"─".repeat(inner.width.saturating_sub(12) as usize),
        dim,
    )];
    for l in &p.preview {
        let style = if l.trim_start().starts_with('✗') {
            th.ui.error
        } else {
            Style::default()
        };
        lines.push(Line::styled(crate::safe_text::neutralise(l), style));
    }
    if !p.body.is_empty() {
        lines.push(Line::styled(
            "─ request body ".to_string() + &"─".repeat(inner.width.saturating_sub(15) as usize),
            dim,
        ));
        for l in p.body.lines() {
            lines.push(Line::styled(crate::safe_text::neutralise(l), th.ui.code));
        }
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(preview_area, buf);
}

/// The line number a problem's text starts with ("line 3, column 5: …").
fn error_line(err: &str) -> Option<usize> {
    err.strip_prefix("line ")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// One row of JSON, highlighted (keys, strings, numbers, literals), cut at `width`, with the
/// cursor cell reversed. Server text never reaches here: this is the user's own schema, still
/// neutralised of control characters by the editor.
fn json_row(text: &str, width: usize, cursor: Option<usize>, th: &Theme) -> Vec<Span<'static>> {
    let (key, string, number, literal) = (
        th.ui.json_key,
        th.ui.json_string,
        th.ui.json_number,
        th.ui.json_literal,
    );
    let chars: Vec<char> = text.chars().collect();
    let mut styles = vec![Style::default(); chars.len()];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            let is_key = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&':');
            styles[start..i].fill(if is_key { key } else { string });
        } else if c == '-' || c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "+-.".contains(chars[i]))
            {
                i += 1;
            }
            styles[start..i].fill(number);
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            styles[start..i].fill(literal);
        } else {
            i += 1;
        }
    }
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut col = 0;
    let mut cursor_done = cursor.is_none();
    for (c, st) in chars.iter().zip(styles) {
        let w = crate::text_edit::char_cols(*c);
        if col + w > width {
            break;
        }
        let st = if cursor == Some(col) {
            cursor_done = true;
            st.add_modifier(Modifier::REVERSED)
        } else {
            st
        };
        let shown = if *c == '\t' {
            " ".repeat(w)
        } else {
            c.to_string()
        };
        match spans.last_mut() {
            Some(last) if last.style == st => last.content.to_mut().push_str(&shown),
            _ => spans.push(Span::styled(shown, st)),
        }
        col += w;
    }
    if !cursor_done {
        spans.push(Span::styled(
            " ",
            Style::default().add_modifier(Modifier::REVERSED),
        ));
    }
    spans
}
