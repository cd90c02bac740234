//! The history browser (F7), drawn by its layer: the search line, then two lines per
//! conversation (title; date, prompts, tokens, cost, models) or per hit (title, turn, model;
//! the passage with the matched words marked).

use super::{centered, fit};
use crate::app::history_view::Browser;
use crate::app::layers::Layer;
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
    // The browser's own keys, in its border: the status bar may not have room for them all.
    let keys: Vec<String> = b
        .commands()
        .into_iter()
        .filter(|(_, w)| *w != "select" && *w != "quit")
        .map(|(k, w)| format!("{k} {w}"))
        .collect();
    let block = ratatui::widgets::Block::bordered()
        .border_type(ratatui::widgets::BorderType::Rounded)
        .border_style(th.ui.accent)
        .title(" History ")
        .title_bottom(fit(
            &format!(" {} ", keys.join(" · ")),
            area.width.saturating_sub(2) as usize,
        ));
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
    if let Some(row) = b.confirm.as_ref().and(b.current()) {
        lines.push(Line::styled(
            {
                // The question stays whole; a long title gives way.
                let ask = "? Enter deletes · other keys keep it";
                let title = fit(
                    &crate::safe_text::neutralise(row.title),
                    room.saturating_sub(ask.chars().count() + 9),
                );
                format!("delete “{title}”{ask}")
            },
            th.ui.error.add_modifier(Modifier::BOLD),
        ));
    } else if b.is_empty() {
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
                format!("{} hit(s), latest first", b.len())
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
            let left = room.saturating_sub(facts.chars().count() + 2);
            let detail = Line::from(vec![
                Span::styled(format!("  {facts}"), dim),
                Span::styled(models_in(&s.models, left), dim),
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

/// ` · a, b, c` in `room` columns: whole, else the first model and how many more.
fn models_in(models: &[String], room: usize) -> String {
    let all = format!(" · {}", crate::safe_text::neutralise(&models.join(", ")));
    if all.chars().count() <= room || models.len() < 2 {
        return fit(&all, room);
    }
    let more = format!(" +{}", models.len() - 1);
    let first = crate::safe_text::neutralise(&models[0]).into_owned();
    let head = room.saturating_sub(more.chars().count() + 3);
    format!(" · {}{more}", super::cut_middle(&first, head))
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
