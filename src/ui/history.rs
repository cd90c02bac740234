//! The history browser (F7), drawn by its layer: the search line, then two lines per
//! conversation (title; date, prompts, tokens, cost, models) or per hit (title, turn, model;
//! the passage with the matched words marked).

use super::{centered, fit};
use crate::app::history_view::Browser;
use crate::app::state::App;
use crate::history::{MARK_END, MARK_START, date, export::cost};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// Draws the browser over the panes.
pub(crate) fn draw(frame: &mut Frame, _app: &App, b: &Browser, th: &Theme) {
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(4).min(110),
        screen.height.saturating_sub(2),
    );
    let block = super::overlay::popup_block(" History ", th);
    let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let room = inner.width as usize;
    let mut lines = vec![match &b.rename {
        Some(t) => Line::from(vec![
            Span::styled("new title › ", th.ui.accent),
            Span::raw(fit(
                &crate::safe_text::neutralise(t),
                room.saturating_sub(13),
            )),
            Span::styled("▏", th.ui.accent),
        ]),
        None => Line::from(vec![
            Span::styled("search › ", th.ui.accent),
            Span::raw(fit(&b.query, room.saturating_sub(10))),
            Span::styled("▏", th.ui.accent),
        ]),
    }];
    let searching = !b.query.trim().is_empty();
    let waiting = b.answered.as_deref() != Some(b.query.as_str());
    if b.is_empty() {
        lines.push(Line::styled(
            match (waiting, searching) {
                (true, _) => "reading the history…",
                (false, true) => "no prompt or answer has these words",
                (false, false) => "no conversations yet: what you send is kept here",
            },
            th.ui.dim,
        ));
    } else {
        lines.push(Line::styled(
            if searching {
                format!("{} hit(s), best first", b.len())
            } else {
                format!("{} conversation(s), latest first", b.len())
            },
            th.ui.dim,
        ));
    }
    let rows = (inner.height as usize).saturating_sub(lines.len()) / 2;
    let start = b.selected.saturating_sub(rows.saturating_sub(1));
    for i in start..(start + rows).min(b.len()) {
        let sel = i == b.selected;
        let base = if sel {
            th.ui.selection
        } else {
            Style::default()
        };
        let dim = if sel { th.ui.selection } else { th.ui.dim };
        let (head, detail) = if searching {
            let h = &b.hits[i];
            let whose = match &h.model {
                Some(m) => format!(" · turn {} · {}", h.seq + 1, m),
                None => format!(" · turn {} · prompt", h.seq + 1),
            };
            let title_room = room.saturating_sub(whose.chars().count()).max(10);
            let head = Line::from(vec![
                Span::styled(
                    fit(&crate::safe_text::neutralise(&h.title), title_room),
                    base.add_modifier(Modifier::BOLD),
                ),
                Span::styled(fit(&crate::safe_text::neutralise(&whose), room), dim),
            ]);
            (head, snippet(&h.snippet, room, dim, th))
        } else {
            let s = &b.list[i];
            let facts = format!(
                "{} · {} prompt{} · {} tok · {}",
                date(s.created_ms),
                s.turns,
                if s.turns == 1 { "" } else { "s" },
                s.totals.tokens,
                cost(s.totals.cost)
            );
            let models = s.models.join(", ");
            let detail = Line::from(vec![
                Span::styled(format!("  {facts}"), dim),
                Span::styled(
                    fit(
                        &format!(" · {}", crate::safe_text::neutralise(&models)),
                        room.saturating_sub(facts.chars().count() + 2),
                    ),
                    dim,
                ),
            ]);
            let head = Line::styled(
                fit(&crate::safe_text::neutralise(&s.title), room),
                base.add_modifier(Modifier::BOLD),
            );
            (head, detail)
        };
        lines.push(head);
        lines.push(detail);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A hit's passage in one line: the matched words in the accent, the rest dim.
fn snippet(s: &str, room: usize, dim: Style, th: &Theme) -> Line<'static> {
    let mut spans = vec![Span::styled("  ", dim)];
    let mut used = 2;
    let mut marked = false;
    for part in s.split_inclusive([MARK_START, MARK_END]) {
        let (text, next) = match part.chars().last() {
            Some(MARK_START) => (&part[..part.len() - MARK_START.len_utf8()], true),
            Some(MARK_END) => (&part[..part.len() - MARK_END.len_utf8()], false),
            _ => (part, marked),
        };
        let text = crate::safe_text::neutralise(text);
        let left = room.saturating_sub(used);
        if left == 0 {
            break;
        }
        let shown = fit(&text, left);
        used += unicode_width::UnicodeWidthStr::width(shown.as_str());
        let style = if marked {
            th.ui.accent.add_modifier(Modifier::BOLD)
        } else {
            dim
        };
        spans.push(Span::styled(shown, style));
        marked = next;
    }
    Line::from(spans)
}
