//! Popups drawn over the panes: key help and the model picker.

use super::centered;
use crate::app::keymap::HELP;
use crate::app::state::{App, Overlay, PickerMode};
use crate::app::update::picker_matches;
use crate::wire::catalog::format_price_per_million;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

/// Draws the open overlay, if any.
pub fn draw(frame: &mut Frame, app: &App) {
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => draw_help(frame),
        Some(Overlay::Picker(p)) => {
            let area = centered(frame.area(), 76, 20);
            let title = match p.mode {
                PickerMode::Replace => " Model for this pane ",
                PickerMode::Add => " Add a pane ",
            };
            let block = popup_block(title);
            let inner = block.inner(area);
            frame.render_widget(Clear, area);
            frame.render_widget(block, area);
            let mut lines = vec![Line::from(vec![
                Span::styled("› ", Style::default().fg(Color::Cyan)),
                Span::raw(p.query.clone()),
                Span::styled("▏", Style::default().fg(Color::Cyan)),
            ])];
            let matches = picker_matches(&app.catalog, &p.query);
            if app.catalog.is_empty() {
                lines.push(Line::styled(
                    "(catalog not loaded — Enter uses the typed id)",
                    Style::default().fg(Color::DarkGray),
                ));
            } else if matches.is_empty() {
                lines.push(Line::styled(
                    "no match — Enter uses the typed id as is",
                    Style::default().fg(Color::DarkGray),
                ));
            }
            let rows = inner.height.saturating_sub(2) as usize;
            let start = p.selected.saturating_sub(rows.saturating_sub(1));
            for (i, m) in matches.iter().enumerate().skip(start).take(rows) {
                let sel = i == p.selected;
                let style = if sel {
                    Style::default().fg(Color::Black).bg(Color::Cyan)
                } else {
                    Style::default()
                };
                let price = format_price_per_million(&m.pricing);
                let ctx = m
                    .context_length
                    .map(|c| format!("{}k ctx", c / 1000))
                    .unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<44}", m.id), style.add_modifier(Modifier::BOLD)),
                    Span::styled(format!(" {price:<16} {ctx}"), style),
                ]));
            }
            frame.render_widget(Paragraph::new(lines), inner);
        }
    }
}

fn popup_block(title: &str) -> Block<'_> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(Color::Cyan))
        .title(title)
        .title_bottom(" Esc closes ")
}

fn draw_help(frame: &mut Frame) {
    let key_w = HELP
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let desc_w = HELP
        .iter()
        .map(|(_, d)| d.chars().count())
        .max()
        .unwrap_or(0);
    let area: Rect = centered(
        frame.area(),
        (key_w + desc_w + 4) as u16,
        HELP.len() as u16 + 2,
    );
    let block = popup_block(" Keys ");
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, d)| {
            Line::from(vec![
                Span::styled(format!("{k:>key_w$}  "), Style::default().fg(Color::Yellow)),
                Span::raw(*d),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
