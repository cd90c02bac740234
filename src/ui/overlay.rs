//! Popups drawn over the panes: key help, the model picker, endpoint health and why (each
//! drawn by its layer, `app::layers`).

use super::{centered, cut_middle};
use crate::app::keymap::{Context, help_rows, hints};
use crate::app::state::{App, Picker, PickerMode};
use crate::app::update::picker_matches;
use crate::theme::Theme;
use crate::wire::catalog::format_price_per_million;
use ratatui::Frame;
use ratatui::layout::Margin;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

/// The model picker (Ctrl+O, Alt+N).
pub(crate) fn draw_picker(frame: &mut Frame, app: &App, p: &Picker, th: &Theme) {
    let area = centered(frame.area(), 76, 20);
    let title = match p.mode {
        PickerMode::Replace => " Model for this pane ",
        PickerMode::Add => " Add a pane ",
    };
    let block = popup_block(title, th);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let mut lines = vec![Line::from(vec![
        Span::styled("› ", th.ui.accent),
        Span::raw(p.query.clone()),
        Span::styled("▏", th.ui.accent),
    ])];
    let matches = picker_matches(&app.catalog, &p.query);
    if app.catalog.is_empty() {
        lines.push(Line::styled(
            "(catalog not loaded — Enter uses the typed id)",
            th.ui.dim,
        ));
    } else if matches.is_empty() {
        lines.push(Line::styled(
            "no model matches — Enter changes nothing",
            th.ui.dim,
        ));
    }
    let rows = inner.height.saturating_sub(2) as usize;
    let start = p.selected.saturating_sub(rows.saturating_sub(1));
    for (i, m) in matches.iter().enumerate().skip(start).take(rows) {
        let sel = i == p.selected;
        let style = if sel {
            th.ui.selection
        } else {
            Style::default()
        };
        let price = format_price_per_million(&m.pricing);
        let ctx = m
            .context_length
            .map(|c| format!("{}k ctx", c / 1000))
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<44}", crate::safe_text::neutralise(&m.id)),
                style.add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!(" {price:<16} {ctx}"), style),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

pub(crate) fn popup_block<'a>(title: &'a str, th: &Theme) -> Block<'a> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(th.ui.accent)
        .title(title)
        .title_bottom(" Esc closes ")
}

/// Key help (F1), from row `top` when it is taller than the screen.
pub(crate) fn draw_help(frame: &mut Frame, top: usize, th: &Theme) {
    let mut all = help_rows();
    // The mouse is not a key, but belongs with the keys that scroll.
    if let Some(i) = all.iter().position(|(_, d)| d.starts_with("top / follow")) {
        all.insert(
            i + 1,
            ("Mouse wheel".into(), "scroll the pane under the pointer"),
        );
    }
    let rows = || all.iter();
    let key_w = rows().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let desc_w = rows().map(|(_, d)| d.chars().count()).max().unwrap_or(0);
    // Descriptions wrap (indented under their first line) when the screen is narrow: never cut.
    // One column of margin inside each border, so no text touches it.
    let width = ((key_w + desc_w + 6) as u16).min(frame.area().width);
    let room = (width as usize).saturating_sub(key_w + 6).max(8) as u16;
    let mut lines: Vec<Line> = Vec::new();
    for (k, d) in rows() {
        let wrapped = crate::markdown::wrap_text(d, room, Style::default());
        for (i, l) in wrapped.into_iter().enumerate() {
            let key = if i == 0 { k.as_str() } else { "" };
            let mut spans = vec![Span::styled(format!(" {key:>key_w$}  "), th.ui.label)];
            spans.extend(l.spans);
            lines.push(Line::from(spans));
        }
    }
    let area: Rect = centered(frame.area(), width, lines.len() as u16 + 2);
    let room = area.height.saturating_sub(2) as usize;
    let top = top.min(lines.len().saturating_sub(room));
    let below = lines.len().saturating_sub(top + room);
    // Taller than the screen: it scrolls, and the border says what is above and below.
    let title_bottom = match (top, below) {
        (0, 0) => " Esc closes ".to_string(),
        (0, b) => format!(" ↓ {b} more · ↑/↓ scroll · Esc closes "),
        (t, 0) => format!(" ↑ {t} more · Esc closes "),
        (t, b) => format!(" ↑ {t} · ↓ {b} more · Esc closes "),
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(th.ui.accent)
        .title(" Keys ")
        .title_bottom(title_bottom);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let shown: Vec<Line> = lines.into_iter().skip(top).take(room).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

fn ms(q: Option<crate::routing::Quantiles>, i: usize) -> String {
    q.map(|q| format!("{:.0}", q.get(i)))
        .unwrap_or_else(|| "-".into())
}

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// The live endpoint table (F6): state, latency and throughput percentiles, error and 429
/// rates over 30 s and 5 min, sample counts, price and breaker timer.
pub(crate) fn draw_health(frame: &mut Frame, app: &App, th: &Theme) {
    let Some(h) = &app.health else { return };
    let area = frame.area().inner(Margin::new(1, 1));
    let title = if h.observed {
        " Endpoint health (observed from the gateway's responses; it routes) — ttft in ms, tok/s at p50 "
    } else {
        " Endpoint health (local router) — ttft in ms, tok/s at p50 "
    };
    let inner = popup_block(title, th).inner(area);
    let now = h.snapshot.taken_at();
    let head = th.ui.label.add_modifier(Modifier::BOLD);
    // Provider and model take what the numeric columns leave (cut in the middle, so ids that
    // differ only in a suffix such as `:free` stay apart); past their minimum the table
    // scrolls sideways (←/→).
    let longest = |f: fn(&crate::app::state::EndpointLabel) -> &str| {
        h.labels
            .iter()
            .map(|l| f(l).chars().count())
            .max()
            .unwrap_or(0)
    };
    let spare = (inner.width as usize).saturating_sub(FIXED_W + 2);
    let want_p = longest(|l| &l.provider).clamp(8, 20);
    let want_m = longest(|l| &l.model).clamp(5, 36);
    // Names stay readable (at least 16 and 24 columns) before the table scrolls.
    let (pw, mw) = if want_p + want_m <= spare {
        (want_p, want_m)
    } else {
        let pw = want_p.min((spare / 3).max(16));
        (pw, want_m.min(spare.saturating_sub(pw).max(24)))
    };
    let row = |cells: [&str; 15]| {
        format!(
            "{:<pw$} {:<mw$} {:<12} {:>6} {:>6} {:<SPARK_W$} {:>6} {:<SPARK_W$} {:>6} {:>6} {:>6} {:>6} {:>5} {:>11} {:>7}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            cells[7],
            cells[8],
            cells[9],
            cells[10],
            cells[11],
            cells[12],
            cells[13],
            cells[14],
        )
    };
    let mut lines = vec![Line::styled(
        row([
            "provider",
            "model",
            "state",
            "ttft50",
            "ttft90",
            "ttft ~",
            "tok/s",
            "tok/s ~",
            "err30s",
            "err5m",
            "429-30",
            "429-5m",
            "n",
            "$/M in/out",
            "breaker",
        ]),
        head,
    )];
    // Rows that fit under the header and above the detail lines; the selection stays in view.
    let rows = (inner.height as usize)
        .saturating_sub(1 + DETAIL_LINES)
        .max(1);
    let first = h.selected.saturating_sub(rows - 1);
    for (i, l) in h.labels.iter().enumerate().skip(first).take(rows) {
        let st = h.snapshot.get(crate::routing::EndpointId(i as u32));
        let state = st.state_at(now);
        let c = st.last_5m;
        // Every outcome in the window: successes, errors and 429s.
        let n = c.successes + c.failures + c.rate_limited;
        let untried = n == 0 && st.opens == 0 && st.consecutive_failures == 0;
        let (label, state_style) = match state {
            crate::routing::HealthState::Healthy if untried => ("no data", th.ui.dim),
            crate::routing::HealthState::Healthy => ("healthy", th.ui.ok),
            crate::routing::HealthState::Unstable { .. }
            | crate::routing::HealthState::RateLimited { .. } => (state.label(), th.ui.warn),
            _ => (state.label(), th.ui.error),
        };
        let breaker = st
            .open_until
            .and_then(|u| u.checked_sub(now))
            .map(|d| format!("{:.0}s", d.as_secs_f64()))
            .unwrap_or_else(|| "-".into());
        let price = if l.price_unknown {
            "?".to_string()
        } else {
            format!("{:.2}/{:.2}", l.prompt_price, l.completion_price)
        };
        let text = row([
            &cut_middle(&crate::safe_text::neutralise(&l.provider), pw),
            &cut_middle(&crate::safe_text::neutralise(&l.model), mw),
            label,
            &ms(st.ttft_ms, 0),
            &ms(st.ttft_ms, 2),
            &spark(&st.recent_ttft_ms.values(), SPARK_W),
            &ms(st.tokens_per_sec, 0),
            &spark(&st.recent_tokens_per_sec.values(), SPARK_W),
            &pct(st.error_rate_30s()),
            &pct(st.error_rate_5m()),
            &pct(st.rate_limited_rate_30s()),
            &pct(st.rate_limited_rate_5m()),
            &n.to_string(),
            &price,
            &breaker,
        ]);
        let mut style = state_style;
        if i == h.selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        lines.push(Line::styled(text, style));
    }
    let table_w = pw + mw + FIXED_W;
    // The selected endpoint's recent samples, larger.
    if let Some(l) = h.labels.get(h.selected) {
        let st = h
            .snapshot
            .get(crate::routing::EndpointId(h.selected as u32));
        // Label (20), spark, range (up to ~24 columns).
        let width = inner.width.saturating_sub(46) as usize;
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "{} · {} — last {} samples",
                l.provider,
                l.model,
                crate::routing::health::RECENT
            ),
            head,
        ));
        for (name, vals, unit) in [
            ("time to first token", st.recent_ttft_ms.values(), "ms"),
            ("decode speed", st.recent_tokens_per_sec.values(), "tok/s"),
        ] {
            let range = match (
                vals.iter().copied().reduce(f32::min),
                vals.iter().copied().reduce(f32::max),
            ) {
                (Some(lo), Some(hi)) => format!("{lo:.0}–{hi:.0} {unit}"),
                _ => "no samples yet".to_string(),
            };
            lines.push(Line::raw(format!(
                "{name:<20} {:<w$} {range}",
                spark(&vals, width),
                w = width.min(crate::routing::health::RECENT)
            )));
        }
    }
    let max_scroll = table_w.saturating_sub(inner.width as usize) as u16;
    let x = h.hscroll.min(max_scroll);
    // The keys (from the key table), with where the sideways scroll stands when the table is
    // wider than the screen; fault keys only where faults can be injected.
    let mut parts = Vec::new();
    for (key, word) in hints(Context::Health) {
        match word {
            "scroll" if max_scroll == 0 => {}
            "scroll" => parts.push(format!("{key} scroll ({x}/{max_scroll})")),
            "outage" | "429s" | "502s" | "cut" if !app.faults => {}
            "outage" | "429s" | "502s" | "cut" => parts.push(format!("{key} {word} (60 s)")),
            "clear" if !app.faults => {}
            "quit" => {}
            _ => parts.push(format!("{key} {word}")),
        }
    }
    parts.push("other keys close".into());
    let keys = format!(" {} ", parts.join(" · "));
    let block = popup_block(title, th).title_bottom(keys);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines).scroll((0, x)), inner);
}

/// Width of every column but provider and model, with the spaces between columns.
const FIXED_W: usize = 12 + 6 + 6 + SPARK_W + 6 + SPARK_W + 6 + 6 + 6 + 6 + 5 + 11 + 7 + 14;

/// Lines under the endpoint table: a blank, a title and two sparklines.
const DETAIL_LINES: usize = 4;

/// Width of the per-row trend columns (latency and throughput).
const SPARK_W: usize = 8;

/// The last `width` values as a one-line sparkline (eight levels from the minimum to the
/// maximum shown); a flat series sits mid-height, and no values is an empty string.
fn spark(values: &[f32], width: usize) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let vals = &values[values.len().saturating_sub(width)..];
    let (Some(lo), Some(hi)) = (
        vals.iter().copied().reduce(f32::min),
        vals.iter().copied().reduce(f32::max),
    ) else {
        return String::new();
    };
    vals.iter()
        .map(|&v| {
            if hi - lo <= f32::EPSILON {
                LEVELS[3]
            } else {
                let i = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                LEVELS[i.min(7)]
            }
        })
        .collect()
}

/// The focused pane's last plan and attempts (Ctrl+W).
pub(crate) fn draw_why(frame: &mut Frame, app: &App, th: &Theme) {
    let Some(t) = app.focused().and_then(|p| p.turns.last()) else {
        return;
    };
    let area = frame.area().inner(Margin::new(1, 1));
    let block = popup_block(" Why: routing of the last request ", th);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let lines: Vec<Line> = t
        .why
        .iter()
        .map(|l| {
            // The attempt that answered stands apart from the failures and the running one.
            let style = if l.starts_with('✓') {
                th.ui.ok
            } else if l.trim_start().starts_with('✗') {
                th.ui.error
            } else if l.starts_with('…') {
                th.ui.warn
            } else {
                Style::default()
            };
            Line::styled(crate::safe_text::neutralise(l).into_owned(), style)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
        inner,
    );
}

#[cfg(test)]
mod tests {
    use super::spark;
    use crate::ui::cut_middle;

    #[test]
    fn ids_are_cut_in_the_middle_so_suffixes_stay_apart() {
        let a = cut_middle("meta-llama/llama-3.3-70b-instruct:free", 20);
        let b = cut_middle("meta-llama/llama-3.3-70b-instruct", 20);
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
        assert!(a.ends_with(":free") && a.starts_with("meta-llama"), "{a}");
        assert_eq!(cut_middle("short", 20), "short");
    }

    #[test]
    fn sparklines_scale_from_min_to_max_and_keep_the_latest() {
        assert_eq!(spark(&[], 10), "");
        assert_eq!(spark(&[1.0, 8.0], 10), "▁█");
        assert_eq!(spark(&[5.0, 5.0, 5.0], 10), "▄▄▄");
        // Only the last `width` values, so the newest sample is always on the right.
        assert_eq!(spark(&[100.0, 0.0, 7.0, 14.0], 3), "▁▅█");
        assert_eq!(spark(&[0.0; 60], 48).chars().count(), 48);
    }
}
