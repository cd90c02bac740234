//! Drawing: reads the workbench state and paints a frame. Only memo caches are written back.

pub(crate) mod attach;
pub(crate) mod bakeoff;
pub(crate) mod catalog;
mod composer;
pub(crate) mod history;
pub mod layout;
pub(crate) mod overlay;
mod pane;
pub(crate) mod panel;

use crate::app::state::{App, Level, Target};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

/// Smallest screen the workbench draws on; below it, it says so.
pub const MIN_SIZE: (u16, u16) = (20, 8);

/// Paints the whole workbench.
pub fn draw(frame: &mut Frame, app: &mut App) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        // Nothing is lost meanwhile: streams go on and the next bigger frame shows them.
        let msg = format!(
            "terminal too small: {}×{} (needs {}×{}); Ctrl+Q quits",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        );
        let th = &app.theme;
        frame.render_widget(
            Paragraph::new(msg)
                .style(th.ui.warn)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let layout::Screen {
        panes: rects,
        composer,
        status,
        panel,
    } = layout::screen(app, frame.area());
    let focus = app.focus;
    let spinner = app.spinner;
    // One theme value for the whole frame (a clone: the draws below borrow `app` mutably).
    let th = app.theme.clone();
    for (i, (p, r)) in app.panes.iter_mut().zip(rects).enumerate() {
        if r.area() > 0 {
            pane::draw_pane(frame, p, r, i == focus, spinner, &th);
        }
    }
    draw_composer(frame, app, composer, &th);
    draw_status(frame, app, status, &th);
    // The stack of overlays and panels, bottom first; each draws itself.
    let mut layers = std::mem::take(&mut app.layers);
    for l in &mut layers {
        let area = match l.placement() {
            crate::app::layers::Placement::Panel => panel.unwrap_or(frame.area()),
            crate::app::layers::Placement::Over => frame.area(),
        };
        l.draw(frame, app, area, &th);
    }
    layers.append(&mut app.layers);
    app.layers = layers;
}

pub use layout::grid;

fn draw_composer(frame: &mut Frame, app: &mut App, area: Rect, th: &Theme) {
    let target = match app.target {
        Target::All => format!(" Prompt → all panes ({}) ", app.panes.len()),
        Target::Focused => format!(
            " Prompt → {} only ",
            app.focused().map(|p| p.model.as_str()).unwrap_or("-")
        ),
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(th.ui.accent)
        .title(target);
    composer::draw(frame, &mut app.composer, block, area, th);
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect, th: &Theme) {
    let dim = th.ui.dim;
    let target = match app.target {
        Target::All => "→ all",
        Target::Focused => "→ focused",
    };
    let mut left = vec![
        Span::styled(format!(" {} ", app.source_label), th.ui.selection),
        Span::styled(format!(" {target} "), th.ui.chip),
        Span::raw(" "),
    ];
    if !app.mouse_capture {
        left.push(Span::styled("select-mode ", th.ui.source));
    }
    match &app.recording {
        crate::app::state::Recording::On => {}
        crate::app::state::Recording::Off => left.push(Span::styled("no history ", th.ui.warn)),
        crate::app::state::Recording::Unavailable(_) => {
            left.push(Span::styled("history unavailable ", th.ui.error))
        }
    }
    // What the next prompt carries.
    if !app.attachments.is_empty() || app.attach_loading > 0 {
        let reading = if app.attach_loading > 0 {
            format!(" +{} reading", app.attach_loading)
        } else {
            String::new()
        };
        left.push(Span::styled(
            format!(" {} attached{reading} ", app.attachments.len()),
            th.ui.chip,
        ));
        left.push(Span::raw(" "));
    }
    // The free tier, while it matters: a pane on a `:free` model, or requests already counted.
    if let Some(f) = &app.free {
        let c = f.counter.counts(app.now_ms);
        let on_free = app
            .panes
            .iter()
            .any(|p| crate::free_tier::is_free(&p.model));
        if on_free || c.day > 0 {
            let room = f.counter.room(app.now_ms, f.limits);
            let style = match room {
                0 => th.ui.error,
                r if r * 5 <= f.limits.per_minute => th.ui.warn,
                _ => th.ui.chip,
            };
            let day_left = f.counter.room_today(app.now_ms, f.limits);
            left.push(Span::styled(
                format!(
                    " free {}/{} min · {}/{} day ",
                    c.minute,
                    f.limits.per_minute,
                    f.limits.per_day - day_left.min(f.limits.per_day),
                    f.limits.per_day
                ),
                style,
            ));
            left.push(Span::raw(" "));
        }
    }
    // What this run has cost so far, beside the source.
    let run = app.run;
    if run.tokens > 0 {
        left.push(Span::styled(
            format!(
                " {} tok · {} ",
                compact(run.tokens),
                crate::wire::catalog::format_cost(run.cost)
            ),
            th.ui.chip,
        ));
        left.push(Span::raw(" "));
    }
    let used: usize = left.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(used);
    match &app.notice {
        Some((m, level)) => {
            let style = match level {
                Level::Error => th.ui.error.add_modifier(Modifier::BOLD),
                Level::Info => th.ui.ok,
            };
            let text = crate::safe_text::neutralise(m);
            // A notice too long for what the chips leave takes their room when that lets it be
            // read whole (they come back when it goes); only the source stays. Otherwise it
            // ends in an ellipsis beside them.
            let wide = unicode_width::UnicodeWidthStr::width(text.as_ref());
            let source = left[0].width() + 1;
            let room = if wide > room && wide <= (area.width as usize).saturating_sub(source) {
                left.truncate(1);
                left.push(Span::raw(" "));
                (area.width as usize).saturating_sub(source)
            } else {
                room
            };
            left.push(Span::styled(fit(&text, room), style));
        }
        None => {
            // The keys that act now: the top layer's commands, else the workbench's.
            let all = match app.layers.last() {
                Some(l) => l.commands(),
                None => crate::app::keymap::hints(crate::app::keymap::Context::Workbench),
            };
            left.push(Span::styled(hints(all, room), dim))
        }
    }
    frame.render_widget(Paragraph::new(Line::from(left)), area);
}

/// Key hints (from the key table) that fit in `room` columns, whole: help first and quit
/// last stay, the middle ones go first.
pub(crate) fn hints(mut all: Vec<(String, &'static str)>, room: usize) -> String {
    if let Some(i) = all.iter().position(|(_, w)| *w == "help") {
        let help = all.remove(i);
        all.insert(0, help);
    }
    let mut h: Vec<String> = all.into_iter().map(|(k, w)| format!("{k} {w}")).collect();
    let width = |h: &[String]| {
        h.iter().map(|s| s.chars().count()).sum::<usize>() + 3 * h.len().saturating_sub(1)
    };
    while width(&h) > room && h.len() > 2 {
        h.remove(h.len() - 2);
    }
    if width(&h) > room {
        return String::new();
    }
    h.join(" · ")
}

/// Draws `lines` at the top of `inner` and returns what is left below them.
pub(crate) fn lines_then_rest(frame: &mut Frame, lines: Vec<Line>, inner: Rect) -> Rect {
    let h = (lines.len() as u16).min(inner.height);
    frame.render_widget(Paragraph::new(lines), Rect { height: h, ..inner });
    Rect {
        y: inner.y + h,
        height: inner.height.saturating_sub(h),
        ..inner
    }
}

/// `area` split in two: side by side (the left `left_20ths`/20 of it, a `gap` between) when it
/// is at least `wide_at` columns, else stacked with `stacked_top` rows on top.
pub(crate) fn split_two(
    area: Rect,
    wide_at: u16,
    left_20ths: u16,
    gap: u16,
    stacked_top: u16,
) -> (Rect, Rect) {
    if area.width >= wide_at {
        let lw = area.width * left_20ths / 20;
        (
            Rect { width: lw, ..area },
            Rect {
                x: area.x + lw + gap,
                width: area.width.saturating_sub(lw + gap),
                ..area
            },
        )
    } else {
        let th = stacked_top.min(area.height);
        (
            Rect { height: th, ..area },
            Rect {
                y: area.y + th,
                height: area.height - th,
                ..area
            },
        )
    }
}

/// A count as people read it: `950`, `12.3k`, `4.1M`.
pub(crate) fn compact(n: i64) -> String {
    match n {
        n if n < 1_000 => n.to_string(),
        n if n < 1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        n => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// `s` in at most `room` columns, ending in `…` when cut.
pub(crate) fn fit(s: &str, room: usize) -> String {
    if unicode_width::UnicodeWidthStr::width(s) <= room {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > room {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// `s` in at most `n` characters, cut in the middle (`openai/gpt…mini:free`), so the ends
/// that tell ids apart survive.
pub fn cut_middle(s: &str, n: usize) -> String {
    let len = s.chars().count();
    if len <= n {
        return s.to_string();
    }
    if n < 3 {
        return s.chars().take(n).collect();
    }
    let tail = (n - 1) / 2;
    let head = n - 1 - tail;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(len - tail));
    out
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_and_notices_fit_whole_or_with_an_ellipsis() {
        let wb = || crate::app::keymap::hints(crate::app::keymap::Context::Workbench);
        assert_eq!(
            hints(wb(), 200),
            "F1 help · Ctrl+T target · Esc cancel · Ctrl+O model · F2 routing · F5 attach · F7 history · F8 models · F10 bake-off · Ctrl+Q quit"
        );
        assert_eq!(hints(wb(), 40), "F1 help · Ctrl+T target · Ctrl+Q quit");
        assert_eq!(hints(wb(), 5), "");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }

    #[test]
    fn grid_goes_side_by_side_then_wraps() {
        let area = Rect::new(0, 0, 160, 40);
        let r = grid(area, 3);
        assert_eq!(r.len(), 3);
        assert!(r.iter().all(|c| c.y == 0 && c.height == 40));
        let r = grid(Rect::new(0, 0, 80, 40), 8);
        assert_eq!(r.len(), 8);
        assert!(r.iter().all(|c| c.width >= layout::MIN_PANE_WIDTH - 2));
        let r = grid(Rect::new(0, 0, 20, 10), 2);
        assert_eq!(r[0].x, r[1].x);
        assert!(r[1].y > r[0].y);
    }
}
