//! The catalog browser (F8), drawn by its layer: the search line and what it filters, the list
//! (id, price, context), and the highlighted model's details and endpoints — the gateway's
//! published uptime, latency and throughput beside what Switchyard itself has seen.

use super::{centered, cut_middle, fit};
use crate::app::catalog_view::Browser;
use crate::app::layers::Layer;
use crate::app::state::{App, Listing};
use crate::catalog_query::{context_label, price_label, run_indexed};
use crate::safe_text::neutralise;
use crate::theme::Theme;
use crate::wire::catalog::{Model, format_price_per_million};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

/// Draws the browser over the panes.
pub(crate) fn draw(frame: &mut Frame, app: &App, b: &Browser, th: &Theme) {
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(2).min(160),
        screen.height.saturating_sub(2),
    );
    let list = run_indexed(&app.catalog, &app.catalog_index, &b.query, b.sort);
    let keys: Vec<(String, &'static str)> = b
        .commands()
        .into_iter()
        .filter(|(_, w)| !matches!(*w, "select" | "quit"))
        .collect();
    let keys = super::hints(keys, area.width.saturating_sub(4) as usize);
    let title = format!(
        " Models · {} of {} · sorted by {} ",
        list.len(),
        app.catalog.len(),
        b.sort.label()
    );
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(th.ui.accent)
        .title(title)
        .title_bottom(format!(" {keys} "));
    let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let room = inner.width as usize;

    let mut top = vec![Line::from(vec![
        Span::styled("search › ", th.ui.accent),
        Span::raw(fit(&neutralise(&b.input), room.saturating_sub(10))),
        Span::styled("▏", th.ui.accent),
    ])];
    let filters = b.query.describe();
    top.push(if filters.is_empty() {
        Line::styled(
            fit(
                "filters: free img pdf json tools ctx>128k $<1 @author; other words search",
                room,
            ),
            th.ui.dim,
        )
    } else {
        Line::styled(
            fit(&format!("only: {}", filters.join(" · ")), room),
            th.ui.label,
        )
    });
    top.push(Line::styled(fit(&age(app), room), th.ui.dim));
    let body = super::lines_then_rest(frame, top, inner);
    if body.height == 0 {
        return;
    }
    // Side by side when there is room; the list above the details when not.
    let stacked = (body.height * 2 / 5).max(3);
    let (list_area, detail_area) = super::split_two(body, 110, 9, 2, stacked);
    draw_list(frame, &list, b.selected, list_area, th);
    if let Some(m) = list.get(b.selected) {
        draw_details(frame, app, m, detail_area, th);
    } else if app.catalog.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "the model list has not arrived yet",
                th.ui.dim,
            )),
            detail_area,
        );
    } else {
        frame.render_widget(
            Paragraph::new(Line::styled("no model matches", th.ui.dim)),
            detail_area,
        );
    }
}

/// How old the list is: fetched now, or a cache from an earlier run while it refreshes.
fn age(app: &App) -> String {
    match app.catalog_age {
        None => "fetching the model list…".into(),
        Some((at, cached)) => {
            let mins = (app.now_ms - at).max(0) / 60_000;
            let ago = match mins {
                0 => "just now".to_string(),
                m if m < 120 => format!("{m} min ago"),
                m if m < 2 * 1440 => format!("{} h ago", m / 60),
                m => format!("{} days ago", m / 1440),
            };
            if cached {
                format!("kept from a run {ago} (a fresh list replaces it when it arrives)")
            } else {
                format!("fetched {ago}")
            }
        }
    }
}

fn draw_list(frame: &mut Frame, list: &[&Model], selected: usize, area: Rect, th: &Theme) {
    let rows = area.height as usize;
    let room = area.width as usize;
    let start = selected.saturating_sub(rows.saturating_sub(1) / 2);
    let start = start.min(list.len().saturating_sub(rows));
    let mut lines = Vec::new();
    for (i, m) in list.iter().enumerate().skip(start).take(rows) {
        let sel = i == selected;
        // The facts keep their place; a long id is cut in its middle (a `:free` survives).
        let price = format_price_per_million(&m.pricing);
        let ctx = m.context_length.map(context_label).unwrap_or_default();
        let facts = format!(" {price:>14} {ctx:>6}");
        let id_room = room.saturating_sub(facts.chars().count() + 2).max(8);
        let id = cut_middle(&neutralise(&m.id), id_room);
        let pad = id_room.saturating_sub(unicode_width::UnicodeWidthStr::width(id.as_str()));
        let style = if sel { th.ui.selection } else { th.ui.text };
        lines.push(Line::from(vec![
            Span::styled(if sel { "▸ " } else { "  " }, style),
            Span::styled(
                format!("{id}{}", " ".repeat(pad)),
                style.add_modifier(Modifier::BOLD),
            ),
            Span::styled(facts, if sel { style } else { th.ui.dim }),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_details(frame: &mut Frame, app: &App, m: &Model, area: Rect, th: &Theme) {
    let room = area.width as usize;
    let mut lines = Vec::new();
    let name = m.name.as_deref().unwrap_or(&m.id);
    lines.push(Line::styled(
        fit(&neutralise(name), room),
        th.ui.text.add_modifier(Modifier::BOLD),
    ));
    lines.push(Line::styled(fit(&neutralise(&m.id), room), th.ui.dim));
    lines.push(Line::styled(
        fit(&price_label(&m.pricing), room),
        th.ui.accent,
    ));
    let mut facts = Vec::new();
    if let Some(c) = m.context_length {
        facts.push(format!("context {}", context_label(c)));
    }
    if let Some(out) = m
        .top_provider
        .as_ref()
        .and_then(|t| t.max_completion_tokens)
    {
        facts.push(format!("up to {} out", context_label(out)));
    }
    if let Some(t) = m.created {
        facts.push(format!("added {}", &crate::history::date(t * 1000)[..10]));
    }
    lines.push(Line::styled(fit(&facts.join(" · "), room), th.ui.text));
    let mut can = Vec::new();
    if let Some(a) = &m.architecture
        && !a.input_modalities.is_empty()
    {
        can.push(format!("takes {}", a.input_modalities.join(", ")));
    }
    if m.supports("structured_outputs") {
        can.push("structured outputs".into());
    }
    if m.supports("tools") {
        can.push("tools".into());
    }
    if m.supports("reasoning") {
        can.push("reasoning".into());
    }
    if crate::free_tier::is_free(&m.id) {
        can.push("free tier: 20/min, 50 or 1000/day".into());
    }
    if !can.is_empty() {
        // Wrapped, never cut: each capability is read whole.
        let wrapped = crate::markdown::wrap_text(&can.join(" · "), room.max(1) as u16, th.ui.text);
        lines.extend(wrapped);
    }
    lines.push(Line::raw(""));
    lines.extend(endpoint_lines(app, m, room, th));
    // The description last: what routes (the endpoints) comes before what reads well.
    if let Some(d) = m.description.as_deref() {
        lines.push(Line::raw(""));
        let wrapped = crate::markdown::wrap_text(&neutralise(d), room.max(1) as u16, th.ui.dim);
        lines.extend(wrapped.into_iter().take(4));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// A latency figure in ms. ⚠ The spec says ms but its examples look like seconds
/// (../shared/openrouter-api.md §7): a value under 30 is taken for seconds.
fn latency_ms(v: f64) -> f64 {
    if v < 30.0 { v * 1000.0 } else { v }
}

/// The endpoints: the gateway's listing with Switchyard's own observations beside it, or, where
/// Switchyard routes, the router's endpoints and what it has seen of them.
fn endpoint_lines(app: &App, m: &Model, room: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let seen = |provider: &str| -> String {
        let Some(h) = &app.health else {
            return "–".into();
        };
        h.labels
            .iter()
            .enumerate()
            .find(|(_, l)| l.model == m.id && l.provider.eq_ignore_ascii_case(provider))
            .map(|(i, _)| {
                let st = h.snapshot.get(crate::routing::EndpointId(i as u32));
                match (&st.ttft_ms, &st.tokens_per_sec) {
                    (None, None) => "–".to_string(),
                    (t, r) => format!(
                        "{}ms {}/s",
                        t.as_ref().map_or("–".into(), |q| format!("{:.0}", q.p50)),
                        r.as_ref().map_or("–".into(), |q| format!("{:.0}", q.p50)),
                    ),
                }
            })
            .unwrap_or_else(|| "–".into())
    };
    let header = |s: &str| Line::styled(fit(s, room), th.ui.label);
    if !app.gateway {
        out.push(header(
            "Endpoints (Switchyard's router) · seen here: p50 ttft, tok/s",
        ));
        let Some(h) = &app.health else {
            out.push(Line::styled("no endpoints known yet", th.ui.dim));
            return out;
        };
        let mut any = false;
        for l in h.labels.iter().filter(|l| l.model == m.id) {
            any = true;
            let price = if l.price_unknown {
                "price unknown".to_string()
            } else {
                format!("${:.2}/${:.2}/M", l.prompt_price, l.completion_price)
            };
            let row = format!(
                "{:<18} {price:>16}  {}",
                cut_middle(&l.provider, 18),
                seen(&l.provider)
            );
            out.push(Line::styled(fit(&neutralise(&row), room), th.ui.text));
        }
        if !any {
            out.push(Line::styled(
                "no endpoint of this source serves it",
                th.ui.dim,
            ));
        }
        return out;
    }
    match app.endpoints.get(&m.id) {
        None | Some(Listing::Loading) => {
            out.push(header("Endpoints"));
            out.push(Line::styled("asking for its endpoints…", th.ui.dim));
        }
        Some(Listing::Failed(e)) => {
            out.push(header("Endpoints"));
            out.push(Line::styled(
                fit(&format!("not listed: {}", neutralise(e)), room),
                th.ui.error,
            ));
        }
        Some(Listing::Ready(list)) => {
            // Columns that fit: the quantization goes first on a narrow screen.
            let wide = room >= 96;
            let quant = |q: &str| {
                if wide {
                    format!(" {q:<7}")
                } else {
                    String::new()
                }
            };
            out.push(header(&format!(
                "{:<16}{} {:>5} {:>11} {:>6} {:>6} {:>5}  seen here",
                format!("Endpoints ({})", list.endpoints.len()),
                quant("quant"),
                "ctx",
                "$/M in/out",
                "up 30m",
                "ttft",
                "tok/s"
            )));
            for e in &list.endpoints {
                let provider = e.provider_name.clone().unwrap_or_else(|| e.name.clone());
                let price = match (e.pricing.prompt, e.pricing.completion) {
                    (Some(p), Some(c)) if p.is_zero() && c.is_zero() => "free".to_string(),
                    (Some(p), Some(c)) => format!("{:.2}/{:.2}", p.per_million(), c.per_million()),
                    _ => "?".into(),
                };
                let pct = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1}%"));
                let p50 = |s: Option<&crate::wire::catalog::PercentileStats>| s.and_then(|s| s.p50);
                let row = format!(
                    "{:<16}{} {:>5} {:>11} {:>6} {:>6} {:>5}  {}",
                    cut_middle(&provider, 16),
                    quant(e.quantization.as_deref().unwrap_or("–")),
                    e.context_length.map(context_label).unwrap_or_default(),
                    price,
                    pct(e.uptime_last_30m),
                    p50(e.latency_last_30m.as_ref())
                        .map_or("–".into(), |v| format!("{:.0}ms", latency_ms(v))),
                    p50(e.throughput_last_30m.as_ref()).map_or("–".into(), |v| format!("{v:.0}")),
                    seen(&provider),
                );
                let style = if e.is_up() { th.ui.text } else { th.ui.warn };
                out.push(Line::styled(fit(&neutralise(&row), room), style));
            }
            if list.endpoints.is_empty() {
                out.push(Line::styled(
                    "the gateway lists no endpoint for it",
                    th.ui.dim,
                ));
            }
        }
    }
    out
}
