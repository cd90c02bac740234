//! The attachments panel (F5), drawn by its layer: the path being typed, the reason the last file
//! was refused, completions, the list (name, type, pixels or pages, size, estimated tokens for
//! the focused pane's model), what the next prompt sends against the cap, each pane's estimate
//! for the selected file, and its preview: the picture in the terminal's best protocol
//! (half-blocks anywhere), or a PDF's first page.

use super::{centered, compact, fit};
use crate::app::attach_view::AttachPanel;
use crate::app::layers::Layer;
use crate::app::state::App;
use crate::attach::{Attachment, human_bytes};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

/// Draws the panel over the panes.
pub(crate) fn draw(frame: &mut Frame, app: &App, p: &mut AttachPanel, th: &Theme) {
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(4).min(120),
        screen.height.saturating_sub(2).min(30),
    );
    // Its own keys in its border, whole: those that do not fit are left out (F1 lists all).
    let keys: Vec<(String, &'static str)> = p
        .commands()
        .into_iter()
        .filter(|(_, w)| !matches!(*w, "select" | "quit"))
        .collect();
    let keys = super::hints(keys, area.width.saturating_sub(4) as usize);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(th.ui.accent)
        .title(" Attachments for the next prompt ")
        .title_bottom(format!(" {keys} "));
    let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let room = inner.width as usize;

    let mut top = vec![Line::from(vec![
        Span::styled("path or URL › ", th.ui.accent),
        Span::raw(fit(
            &crate::safe_text::neutralise(&p.input),
            room.saturating_sub(16),
        )),
        Span::styled("▏", th.ui.accent),
    ])];
    match (&p.error, app.attach_loading) {
        // A refusal is read whole: wrapped, at most three lines.
        (Some(e), _) => {
            let style = th.ui.error.add_modifier(Modifier::BOLD);
            let lines = crate::markdown::wrap_text(e, room.max(1) as u16, style);
            top.extend(lines.into_iter().take(3));
        }
        (None, n) if n > 0 => top.push(Line::styled(format!("reading {n} file(s)…"), th.ui.warn)),
        (None, _) => top.push(Line::styled(
            fit(
                "type a path (Tab completes), drop a file, or paste an image or PDF URL",
                room,
            ),
            th.ui.dim,
        )),
    }
    for c in p.completions.iter().take(4) {
        top.push(Line::styled(
            fit(&format!("  {}", crate::safe_text::neutralise(c)), room),
            th.ui.dim,
        ));
    }
    if p.completions.len() > 4 {
        top.push(Line::styled(
            format!("  … {} more", p.completions.len() - 4),
            th.ui.dim,
        ));
    }
    let sent: usize = app.attachments.iter().map(Attachment::sent_bytes).sum();
    let carried: u64 = app.attachments.iter().map(|a| a.size).sum();
    top.push(Line::styled(
        fit(
            &format!(
                "{} attached · {} of files (cap {}) · {} on the wire",
                app.attachments.len(),
                human_bytes(carried),
                human_bytes(app.attach_limits.per_message),
                human_bytes(sent as u64)
            ),
            room,
        ),
        th.ui.label,
    ));
    // How OpenRouter reads the PDFs: only its aggregator (and the fleet's) parse files.
    let pages: Option<u32> = app
        .attachments
        .iter()
        .filter(|a| !a.kind.is_image())
        .map(|a| a.pages.unwrap_or(1))
        .reduce(|a, b| a + b);
    if let Some(pages) = pages {
        let engine = app.focused().and_then(|p| p.settings.pdf_engine);
        let key = crate::app::keymap::key_in(
            crate::app::keymap::Context::Attach,
            crate::app::keymap::Action::PdfEngine,
        );
        // The price stays whole; the key's reminder goes first (the border names it too).
        let terms = crate::attach::pdf_engine_terms(engine, pages);
        let with_key = format!("{terms} · {key} changes");
        let room = room.saturating_sub(11);
        let text = if with_key.chars().count() <= room {
            with_key
        } else {
            fit(&terms, room)
        };
        top.push(Line::from(vec![
            Span::styled("PDF engine ", th.ui.label),
            Span::styled(text, th.ui.dim),
        ]));
    }
    let body = super::lines_then_rest(frame, top, inner);
    if body.height == 0 {
        return;
    }
    // The list beside the preview when there is room, above it when not: the list and each
    // pane's estimate first; the preview takes what is left.
    let want = app.attachments.len().max(1) + 2 + app.panes.len();
    let stacked = (want as u16).min(body.height * 2 / 3).max(1);
    let (list_area, preview_area) = super::split_two(body, 80, 11, 1, stacked);
    draw_list(frame, app, p, list_area, th);
    if let Some(a) = app.attachments.get(p.selected) {
        draw_preview(frame, app, p, a, preview_area, th);
    }
}

fn draw_list(frame: &mut Frame, app: &App, p: &AttachPanel, area: Rect, th: &Theme) {
    let room = area.width as usize;
    let model = app.focused().map(|x| x.model.as_str()).unwrap_or("");
    let mut lines = Vec::new();
    if app.attachments.is_empty() {
        lines.push(Line::styled("nothing attached yet", th.ui.dim));
    }
    for (i, a) in app.attachments.iter().enumerate() {
        let sel = i == p.selected;
        let what = match (a.pixels, a.pages) {
            (Some((w, h)), _) => format!("{} {w}×{h}", a.kind.label()),
            (_, Some(1)) => format!("{} 1 page", a.kind.label()),
            (_, Some(n)) => format!("{} {n} pages", a.kind.label()),
            _ => a.kind.label().to_string(),
        };
        // The facts keep their place; a long name gives way.
        let facts = format!(
            "  {what}  {}  ≈{} tok",
            human_bytes(a.size),
            compact(a.estimated_tokens(model) as i64)
        );
        let mark = if sel { "▸ " } else { "  " };
        let name_room = room.saturating_sub(facts.chars().count() + 2 + 3);
        let name = fit(&crate::safe_text::neutralise(&a.name), name_room.max(4));
        let style = if sel { th.ui.selection } else { th.ui.text };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark}{}. ", i + 1), style),
            Span::styled(name, style.add_modifier(Modifier::BOLD)),
            Span::styled(fit(&facts, room), th.ui.dim),
        ]));
    }
    if let Some(a) = app.attachments.get(p.selected) {
        lines.push(Line::raw(""));
        lines.push(Line::styled("per pane:", th.ui.label));
        // The estimate stays whole; a long model id is cut in its middle.
        for pane in &app.panes {
            let what = pane_estimate(app, &pane.model, a);
            let id_room = room.saturating_sub(what.chars().count() + 4).clamp(8, 32);
            lines.push(Line::styled(
                fit(
                    &format!("  {}  {what}", super::cut_middle(&pane.model, id_room)),
                    room,
                ),
                th.ui.dim,
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// `≈ 765 tok · $0.0001 · model` for one pane's model (the price from the catalog, when known).
fn pane_estimate(app: &App, model: &str, a: &Attachment) -> String {
    let inputs = app.catalog_inputs(model);
    let takes = |m: &str| inputs.is_none_or(|i| i.iter().any(|x| x == m));
    if a.kind.is_image() && !takes("image") {
        return "takes no images: nothing is sent to it".into();
    }
    let local = !a.kind.is_image() && !takes("file");
    let tokens = if local {
        a.text.as_deref().map_or(0, crate::tokens::estimate)
    } else {
        a.estimated_tokens(model)
    };
    let price = app
        .catalog
        .iter()
        .find(|m| m.id == model)
        .and_then(|m| m.pricing.prompt);
    let cost = price.map_or_else(
        || "price unknown".to_string(),
        |p| crate::wire::catalog::format_cost(p.per_token() * tokens as f64),
    );
    let how = if local { " as its text" } else { "" };
    format!("≈ {} tok{how} · {cost}", compact(tokens as i64))
}

fn draw_preview(
    frame: &mut Frame,
    app: &App,
    p: &mut AttachPanel,
    a: &Attachment,
    area: Rect,
    th: &Theme,
) {
    if area.height < 2 || area.width < 4 {
        return;
    }
    let block = Block::bordered()
        .border_type(BorderType::Plain)
        .border_style(th.ui.border)
        .title(format!(
            " {} ",
            fit(
                &crate::safe_text::neutralise(&a.chip()),
                area.width as usize - 4
            )
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(thumb) = app.thumbs.get(&a.hash) {
        if p.preview.as_ref().is_none_or(|(h, _)| *h != a.hash) {
            let proto = app.image_picker.new_resize_protocol((**thumb).clone());
            p.preview = Some((a.hash.clone(), proto));
        }
        if let Some((_, proto)) = &mut p.preview {
            frame.render_stateful_widget(ratatui_image::StatefulImage::default(), inner, proto);
        }
        return;
    }
    let text = a.first_page.as_deref().unwrap_or("");
    let lines: Vec<Line> = if a.kind.is_image() {
        // Its picture went with the prompt it was sent with (a queued prompt given back).
        vec![Line::styled(
            "no preview: the picture was let go when the prompt it belongs to was sent",
            th.ui.dim,
        )]
    } else if text.trim().is_empty() {
        vec![Line::styled(
            "no text on the first page (a scan?): a model that reads files natively still sees it",
            th.ui.dim,
        )]
    } else {
        crate::safe_text::neutralise(text)
            .lines()
            .take(inner.height as usize * 2)
            .map(|l| Line::raw(l.to_string()))
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
