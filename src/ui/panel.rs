//! A settings panel on screen: its fields (the focused one highlighted, each error under its
//! field), then the live preview of the route and the body the settings send.

use crate::app::form::Value;
use crate::app::keymap::{Context, hints};
use crate::app::panels::Panel;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

/// Draws `p` into `area` (over whatever is there).
pub fn draw(frame: &mut Frame, p: &Panel, area: Rect) {
    let scope_key = hints(Context::Panel)
        .into_iter()
        .find(|(_, w)| *w == "scope")
        .map(|(k, _)| k)
        .unwrap_or_default();
    let scope = if p.all {
        format!("every pane · {scope_key} this pane only")
    } else {
        format!(
            "this pane: {} · {scope_key} every pane",
            crate::ui::cut_middle(&p.model, 28)
        )
    };
    let keys: Vec<String> = hints(Context::Panel)
        .into_iter()
        .filter(|(_, w)| *w != "quit" && *w != "scope")
        .map(|(k, w)| format!("{k} {w}"))
        .collect();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(Color::Cyan))
        .title(format!(" {} — {scope} ", p.kind.title()))
        .title_bottom(crate::ui::fit(
            &format!(" {} ", keys.join(" · ")),
            area.width.saturating_sub(2) as usize,
        ));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
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
    for (i, f) in p.form.fields.iter().enumerate() {
        let focused = i == p.form.focus;
        if focused {
            focus_row = rows.len();
        }
        let value = f.shown();
        let value_style = match (&f.value, f.error.is_some()) {
            (_, true) => Style::default().fg(Color::Red),
            (Value::Toggle(true), _) => Style::default().fg(Color::Green),
            _ => Style::default(),
        };
        let mut label = Style::default().fg(Color::Yellow);
        let mut vs = value_style;
        if focused {
            label = label.add_modifier(Modifier::REVERSED);
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
                Style::default().fg(Color::Red),
            ));
        }
    }
    // Fields take at most 60 % of the height; the preview gets the rest.
    let fields_h = (rows.len() as u16).min(inner.height * 3 / 5).max(3);
    let [fields_area, preview_area] =
        Layout::vertical([Constraint::Length(fields_h), Constraint::Min(0)]).areas(inner);
    // Keep the focused field in view.
    let top = focus_row
        .saturating_sub(fields_h as usize / 2)
        .min(rows.len().saturating_sub(fields_h as usize));
    frame.render_widget(Paragraph::new(rows).scroll((top as u16, 0)), fields_area);
    if preview_area.height == 0 {
        return;
    }
    let dim = Style::default().fg(Color::DarkGray);
    let mut lines = vec![Line::styled(
        "─ route now ".to_string() + &"─".repeat(inner.width.saturating_sub(12) as usize),
        dim,
    )];
    for l in &p.preview {
        let style = if l.trim_start().starts_with('✗') {
            Style::default().fg(Color::Red)
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
            lines.push(Line::styled(
                crate::safe_text::neutralise(l),
                Style::default().fg(Color::Gray),
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        preview_area,
    );
}
