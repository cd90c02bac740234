//! The bake-off view (F10), drawn by its layer: per model the totals (answers, failures, p50 time
//! to first token, tokens/s, tokens, cost, votes), a chart of cost against latency with one
//! point per model, and the highlighted case's answers side by side.

use super::{centered, cut_middle, fit};
use crate::app::bakeoff_view::{Board, scores};
use crate::app::layers::Layer;
use crate::app::state::App;
use crate::safe_text::neutralise;
use crate::theme::Theme;
use crate::wire::catalog::format_cost;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, BorderType, Chart, Clear, Dataset, GraphType};

/// Draws the view over the panes.
pub(crate) fn draw(frame: &mut Frame, app: &App, b: &Board, th: &Theme) {
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(2).min(160),
        screen.height.saturating_sub(2),
    );
    // Figures only: the shown case's text is read from its turns, not copied per frame.
    let r = scores(app);
    let keys: Vec<(String, &'static str)> = b
        .commands()
        .into_iter()
        .filter(|(_, w)| !matches!(*w, "quit"))
        .collect();
    let keys = super::hints(keys, area.width.saturating_sub(4) as usize);
    let title = format!(
        " Bake-off · {} prompt{} × {} model{} ",
        r.cases.len(),
        if r.cases.len() == 1 { "" } else { "s" },
        r.models.len(),
        if r.models.len() == 1 { "" } else { "s" }
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
    let totals = r.totals();
    let id_w = 26.min(room.saturating_sub(50)).max(10);
    // Each model's colour: its row here is its point on the chart.
    let colour = |i: usize| [th.ui.accent, th.ui.ok, th.ui.warn, th.ui.error, th.ui.label][i % 5];

    let mut lines = Vec::new();
    if let Some(path) = &b.save_as {
        let (label, help) = if b.loading {
            (
                "cases file › ",
                "JSON Lines, a folder of .txt/.md, or a report's .json — Enter runs, Esc cancels",
            )
        } else {
            (
                "save as › ",
                ".md, .csv or .json — Enter saves, Esc cancels",
            )
        };
        lines.push(Line::from(vec![
            Span::styled(label, th.ui.accent),
            Span::raw(fit(&neutralise(path), room.saturating_sub(12))),
            Span::styled("▏", th.ui.accent),
        ]));
        lines.push(Line::styled(fit(help, room), th.ui.dim));
    }
    lines.push(Line::styled(
        fit(
            &format!(
                "{:<id_w$} {:>3} {:>4} {:>8} {:>5} {:>7} {:>9} {:>5}",
                "model", "ok", "fail", "ttft p50", "tok/s", "tokens", "cost", "votes"
            ),
            room,
        ),
        th.ui.label,
    ));
    for (i, t) in totals.iter().enumerate() {
        let cost = match t.cost_unknown {
            0 => format_cost(t.cost),
            _ => format!("≥{}", format_cost(t.cost)),
        };
        let name = cut_middle(&neutralise(&t.model), id_w);
        let pad =
            " ".repeat(id_w.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str())));
        let row = format!(
            " {:>3} {:>4} {:>8} {:>5} {:>7} {:>9} {:>5}",
            t.answered,
            t.failed,
            t.ttft_p50_ms.map_or("–".into(), |v| format!("{v} ms")),
            t.tokens_per_s.map_or("–".into(), |v| format!("{v:.0}")),
            t.tokens,
            cost,
            t.votes,
        );
        let style = if i == b.model {
            th.ui.selection
        } else {
            th.ui.text
        };
        let name_style = if i == b.model { style } else { colour(i) };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{name}{pad}"),
                name_style.add_modifier(Modifier::BOLD),
            ),
            Span::styled(fit(&row, room.saturating_sub(id_w)), style),
        ]));
    }
    lines.push(Line::raw(""));
    // The highlighted case: its prompt and each model's answer.
    let shown = b.current(app);
    if let Some(c) = r.cases.get(shown) {
        let turn = |pane: usize| app.panes.get(pane).and_then(|p| p.turns.get(shown));
        let prompt = (0..app.panes.len())
            .find_map(turn)
            .map_or("", |t| t.prompt.as_str());
        let first = prompt.lines().next().unwrap_or("");
        lines.push(Line::from(vec![
            Span::styled(
                format!("case {} of {} › ", shown + 1, r.cases.len()),
                th.ui.accent,
            ),
            Span::styled(
                fit(&neutralise(first), room.saturating_sub(20)),
                th.ui.text.add_modifier(Modifier::BOLD),
            ),
        ]));
        for (i, row) in r.rows.iter().filter(|x| x.case == c.id).enumerate() {
            let star = if row.votes > 0 { "★" } else { " " };
            let result = row.finish.clone();
            let facts = format!(
                "{star} {:<id_w$} {:>8} {:>6} {:>10}  {}",
                cut_middle(&neutralise(&row.model), id_w),
                row.ttft_ms.map_or("–".into(), |v| format!("{v} ms")),
                row.tokens_per_s.map_or("–".into(), |v| format!("{v:.0}")),
                row.cost.map_or("–".into(), format_cost),
                neutralise(&result),
            );
            let style = if i == b.model {
                th.ui.selection
            } else {
                th.ui.text
            };
            lines.push(Line::styled(fit(&facts, room), style));
            // Under it, why it failed (read whole, wrapped) or the start of what it said.
            match &row.error {
                Some(e) => {
                    let wrapped = crate::markdown::wrap_text(
                        &neutralise(e),
                        room.saturating_sub(4).max(1) as u16,
                        th.ui.error,
                    );
                    for l in wrapped.into_iter().take(2) {
                        let mut spans = vec![Span::raw("    ")];
                        spans.extend(l.spans);
                        lines.push(Line::from(spans));
                    }
                }
                None => {
                    // Only the start is read: a line's worth.
                    let text = turn(i).map_or("", |t| t.text());
                    let mut end = text.len().min(room * 4);
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    let said: String = text[..end].split_whitespace().collect::<Vec<_>>().join(" ");
                    lines.push(Line::styled(
                        fit(&format!("    {}", neutralise(&said)), room),
                        th.ui.dim,
                    ));
                }
            }
        }
    }
    // The chart takes what is left below, when there is room for one worth reading.
    let chart = super::lines_then_rest(frame, lines, inner);
    if chart.height >= 6 && chart.width >= 40 {
        draw_chart(frame, &totals, chart, th);
    }
}

/// Cost (total, USD) against latency (p50 time to first token), one point per model.
fn draw_chart(frame: &mut Frame, totals: &[crate::bakeoff::report::Total], area: Rect, th: &Theme) {
    let points: Vec<Vec<(f64, f64)>> = totals
        .iter()
        .map(|t| match t.ttft_p50_ms {
            Some(ms) => vec![(ms as f64, t.cost)],
            None => Vec::new(),
        })
        .collect();
    let max_x = points
        .iter()
        .flatten()
        .map(|p| p.0)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let top_cost = points.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    let max_y = top_cost.max(1e-9) * 1.15;
    let top_label = if top_cost > 0.0 {
        format_cost(max_y)
    } else {
        "all $0".to_string()
    };
    let names: Vec<String> = totals
        .iter()
        .map(|t| cut_middle(&neutralise(&t.model), 28))
        .collect();
    let datasets: Vec<Dataset> = points
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (p, name))| {
            // The same colours as the table's model names.
            let style = [th.ui.accent, th.ui.ok, th.ui.warn, th.ui.error, th.ui.label][i % 5];
            Dataset::default()
                .name(name.clone())
                .marker(Marker::Block)
                .graph_type(GraphType::Scatter)
                .style(style)
                .data(p)
        })
        .collect();
    let chart = Chart::new(datasets)
        .block(
            Block::bordered()
                .border_type(BorderType::Plain)
                .border_style(th.ui.border)
                .title(" cost ↑ against ttft p50 → · a point per model, in its colour "),
        )
        .x_axis(
            Axis::default()
                .style(th.ui.dim)
                .bounds([0.0, max_x])
                .labels(["0".to_string(), format!("{:.0} ms", max_x)]),
        )
        .y_axis(
            Axis::default()
                .style(th.ui.dim)
                .bounds([0.0, max_y])
                .labels(["$0".to_string(), top_label]),
        )
        .legend_position(Some(ratatui::widgets::LegendPosition::TopRight))
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Percentage(60),
            ratatui::layout::Constraint::Percentage(60),
        ));
    frame.render_widget(chart, area);
}
