//! One pane: a header with live stats, then the transcript windowed to the viewport.
//!
//! Cost and memory are bounded by the viewport, not the transcript: answers are counted with
//! `StreamingMarkdown::line_count` and only the lines in view are rendered (`lines_in`), the
//! prompt's lines are cached here, and only the lines in view are copied into the frame.

use crate::app::state::{Pane, Scroll, Turn, TurnState};
use crate::markdown::wrap_text;
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The privacy filters in force on a pane: `[no-train]`, `[zdr]`, `[distill]`.
fn privacy_badge(pane: &Pane) -> String {
    let none = Default::default();
    let p = pane.settings.provider.as_ref().unwrap_or(&none);
    let mut b = Vec::new();
    if p.data_collection == Some(crate::wire::request::DataCollection::Deny) {
        b.push("[no-train]");
    }
    if p.zdr == Some(true) {
        b.push("[zdr]");
    }
    if p.enforce_distillable_text == Some(true) {
        b.push("[distill]");
    }
    if pane.settings.eu {
        b.push("[eu]");
    }
    if matches!(
        pane.settings.response_format,
        Some(crate::wire::request::ResponseFormat::JsonSchema { .. })
    ) {
        b.push("[json]");
    }
    b.join("")
}

/// Draws a pane into `area` (only memo caches are written).
pub fn draw_pane(
    frame: &mut Frame,
    pane: &mut Pane,
    area: Rect,
    focused: bool,
    spinner: u64,
    th: &Theme,
) {
    let border = if focused { th.ui.focus } else { th.ui.border };
    let last = pane.turns.last();
    let (mut state, state_style) = state_label(last, spinner, th);
    if !pane.queued.is_empty() {
        // Prompts sent while it streamed wait their turn, in the order sent.
        state.push_str(&format!(" +{} queued", pane.queued.len()));
    }
    // The state badge always shows whole; a long model id is cut in the middle to make room
    // (its ends, such as `:free`, tell ids apart).
    let room = usize::from(area.width.saturating_sub(2));
    // What privacy filters are in force, always shown (they decide where prompts may go).
    let badge = privacy_badge(pane);
    let badge_w = badge.chars().count() + usize::from(!badge.is_empty());
    let model_room = room.saturating_sub(state.chars().count() + 3 + badge_w);
    let mut spans = vec![
        Span::styled(
            format!(" {} ", super::cut_middle(&pane.model, model_room)),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("{state} "), state_style),
    ];
    if !badge.is_empty() {
        spans.push(Span::styled(format!("{badge} "), th.ui.badge));
    }
    let title = Line::from(spans);
    let block = Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(border)
        .title(title)
        .title_bottom(stats_line(
            last,
            &pane.model,
            &pane.settings.fallbacks,
            area.width.saturating_sub(2),
            th,
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width.max(1);
    let height = inner.height as usize;

    if pane.turns.is_empty() {
        let hint = Paragraph::new(vec![
            Line::raw(""),
            Line::styled("ready", th.ui.dim),
            Line::styled("type a prompt below", th.ui.dim),
        ])
        .alignment(Alignment::Center);
        frame.render_widget(hint, inner);
        return;
    }

    // Per-turn line counts; each is cached, so this is O(turns), not O(lines).
    let mut counts = Vec::with_capacity(pane.turns.len());
    for t in pane.turns.iter_mut() {
        // A theme switch re-renders the answer once; the same theme costs a comparison.
        t.answer.set_styles(&th.md);
        counts.push(turn_line_count(t, width, th));
    }
    let total: usize = counts.iter().sum();
    let max_top = total.saturating_sub(height);
    let top = match pane.scroll {
        Scroll::Follow => max_top,
        Scroll::At(t) => t.min(max_top),
    };

    // Scrolled up, the last row is the "↓ N more" line's own, so it never covers text.
    let scrolled = top < max_top && height > 1;
    let height = if scrolled { height - 1 } else { height };
    let mut visible: Vec<Line<'static>> = Vec::with_capacity(height);
    let mut skip = top;
    for (t, &count) in pane.turns.iter_mut().zip(&counts) {
        if visible.len() >= height {
            break;
        }
        if skip >= count {
            skip -= count;
            continue;
        }
        push_turn_lines(
            t,
            width,
            skip,
            height - visible.len(),
            spinner,
            th,
            &mut visible,
        );
        skip = 0;
    }
    frame.render_widget(Paragraph::new(visible), inner);
    if scrolled {
        let more = format!(" ↓ {} more ", max_top - top + 1);
        let r = Rect {
            x: inner.x + inner.width.saturating_sub(more.chars().count() as u16),
            y: inner.y + inner.height.saturating_sub(1),
            width: (more.chars().count() as u16).min(inner.width),
            height: 1,
        };
        frame.render_widget(Paragraph::new(Span::styled(more, th.ui.chip)), r);
    }
}

/// The prompt's lines at this width, cached on the turn (a pasted prompt can be large).
fn prompt_lines<'t>(t: &'t mut Turn, width: u16, th: &Theme) -> &'t [Line<'static>] {
    let key = (width, th.id);
    if t.prompt_cache.as_ref().is_none_or(|(k, _)| *k != key) {
        t.prompt_cache = Some((key, render_prompt(&t.prompt, &t.attachments, width, th)));
    }
    &t.prompt_cache.as_ref().expect("just filled").1
}

/// A prompt of more lines than this is shown collapsed: its first `PROMPT_HEAD` lines and how
/// many more there are (it is sent and kept whole).
const PROMPT_MAX_LINES: usize = 12;
const PROMPT_HEAD: usize = 6;

fn render_prompt(
    prompt: &str,
    files: &[crate::attach::Attachment],
    width: u16,
    th: &Theme,
) -> Vec<Line<'static>> {
    let style = th.ui.accent.add_modifier(Modifier::BOLD);
    let mut out = Vec::new();
    let lines = prompt.lines().count();
    // Only what is shown is wrapped: a pasted 10 MB prompt costs its first lines.
    let (shown, more) = if lines > PROMPT_MAX_LINES {
        let end = prompt
            .match_indices('\n')
            .nth(PROMPT_HEAD - 1)
            .map_or(prompt.len(), |(i, _)| i);
        (&prompt[..end], lines - PROMPT_HEAD)
    } else {
        (prompt, 0)
    };
    for (i, l) in wrap_text(shown, width.saturating_sub(2).max(1), style)
        .into_iter()
        .enumerate()
    {
        let mark = if i == 0 { "› " } else { "  " };
        let mut spans = vec![Span::styled(mark, style)];
        spans.extend(l.spans);
        out.push(Line::from(spans));
    }
    if more > 0 {
        out.push(Line::styled(
            format!("  … {more} more lines (sent whole)"),
            th.ui.dim,
        ));
    }
    // Each attachment as a chip of its own, wrapped rather than cut.
    for a in files {
        let chip = format!("▪ {}", glue_units(&crate::safe_text::neutralise(&a.chip())));
        for l in wrap_text(&chip, width.saturating_sub(2).max(1), th.ui.chip) {
            let mut spans = vec![Span::raw("  ")];
            // Plain spaces again on screen (and in whatever a terminal copies).
            spans.extend(l.spans.into_iter().map(|mut sp| {
                if sp.content.contains('\u{a0}') {
                    sp.content = sp.content.replace('\u{a0}', " ").into();
                }
                sp
            }));
            out.push(Line::from(spans));
        }
    }
    out.push(Line::raw(""));
    out
}

/// A space after a digit made a no-break space, so a wrapped chip never parts "352" from "KB"
/// or "40" from "pages".
fn glue_units(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = ' ';
    for c in s.chars() {
        out.push(if c == ' ' && prev.is_ascii_digit() {
            '\u{a0}'
        } else {
            c
        });
        prev = c;
    }
    out
}

fn status_lines(t: &Turn, width: u16, spinner: u64, th: &Theme) -> Vec<Line<'static>> {
    let (text, style) = match &t.state {
        TurnState::Waiting { keepalives } => {
            let frame = SPINNER[(spinner as usize) % SPINNER.len()];
            let extra = if t.reasoning_chars > 0 {
                format!(" (thinking, {} chars)", t.reasoning_chars)
            } else if *keepalives > 0 {
                format!(" ({keepalives} keep-alives)")
            } else {
                String::new()
            };
            (
                format!("{frame} waiting for the first token{extra}"),
                th.ui.dim,
            )
        }
        TurnState::Streaming => (String::new(), Style::default()),
        TurnState::Done(reason) if reason == "stop" || reason == "tool_calls" => {
            (String::new(), Style::default())
        }
        TurnState::Done(reason) if reason == "length" => (
            "… stopped at the token limit (finish_reason: length)".into(),
            th.ui.warn,
        ),
        TurnState::Done(reason) => (format!("… finished: {reason}"), th.ui.warn),
        TurnState::Cancelled => (
            "⊘ cancelled — the partial answer above is incomplete (Ctrl+R retries)".into(),
            th.ui.warn,
        ),
        TurnState::Failed(e) => {
            let kept = if t.answer.source().is_empty() {
                String::new()
            } else {
                " — the partial answer above is INCOMPLETE".into()
            };
            (
                format!(
                    "✗ {}{kept} (Ctrl+R retries)",
                    crate::safe_text::neutralise(&e.to_string())
                ),
                th.ui.error,
            )
        }
    };
    let mut out = Vec::new();
    if !text.is_empty() {
        out.extend(wrap_text(&text, width, style));
    }
    if t.malformed > 0 {
        out.push(Line::styled(
            format!("⚠ {} malformed stream event(s) skipped", t.malformed),
            th.ui.warn,
        ));
    }
    out.extend(verdict_lines(t, width, th));
    out.push(Line::raw(""));
    out
}

/// A structured reply's check: valid, or each failing path.
fn verdict_lines(t: &Turn, width: u16, th: &Theme) -> Vec<Line<'static>> {
    use crate::schema::Verdict;
    let (ok, bad) = (th.ui.ok, th.ui.error);
    let neutral = |s: &str| crate::safe_text::neutralise(s).into_owned();
    match &t.verdict {
        None => Vec::new(),
        Some(Verdict::Valid) => wrap_text("✓ valid: the reply matches the schema", width, ok),
        Some(Verdict::NotJson(p)) => wrap_text(
            &format!("✗ invalid: {}", neutral(&p.to_string())),
            width,
            bad,
        ),
        Some(Verdict::Invalid(ps)) => {
            let mut out = wrap_text("✗ invalid: the reply does not match the schema", width, bad);
            for p in ps {
                let path = if p.path.is_empty() { "(top)" } else { &p.path };
                out.extend(wrap_text(
                    &format!("  {path}: {}", neutral(&p.message)),
                    width,
                    bad,
                ));
            }
            out
        }
    }
}

/// Routing notes (retries, failovers, restarts), shown between the prompt and the answer
/// they led to.
fn note_lines(t: &Turn, width: u16, th: &Theme) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = t
        .notes
        .iter()
        .filter(|n| !n.is_empty())
        .flat_map(|n| wrap_text(n, width, th.ui.warn))
        .collect();
    if !out.is_empty() {
        out.push(Line::raw(""));
    }
    out
}

pub(super) fn turn_line_count(t: &mut Turn, width: u16, th: &Theme) -> usize {
    // Called for every turn on every frame, so the common case (a finished answer, whose status
    // is one blank line) must not allocate; prompt and answer counts come from their caches.
    let status = match &t.state {
        TurnState::Streaming | TurnState::Done(_) if status_is_blank(t) => 1,
        _ => status_lines(t, width, 0, th).len(),
    };
    let notes = if t.notes.is_empty() {
        0
    } else {
        note_lines(t, width, th).len()
    };
    prompt_lines(t, width, th).len() + notes + t.answer.line_count(width) + status
}

/// Whether a turn's status block is just the separating blank line.
fn status_is_blank(t: &Turn) -> bool {
    t.malformed == 0
        && t.verdict.is_none()
        && match &t.state {
            TurnState::Streaming => true,
            TurnState::Done(r) => r == "stop" || r == "tool_calls",
            _ => false,
        }
}

fn push_turn_lines(
    t: &mut Turn,
    width: u16,
    mut skip: usize,
    mut room: usize,
    spinner: u64,
    th: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let status = status_lines(t, width, spinner, th);
    let notes = note_lines(t, width, th);
    let prompt = prompt_lines(t, width, th);
    // Prompt, routing notes, then only the answer's lines in view (it renders just those),
    // then status.
    for block in [prompt, &notes[..]] {
        let from = block.len().saturating_sub(skip).min(room);
        out.extend_from_slice(&block[skip.min(block.len())..][..from]);
        skip = skip.saturating_sub(block.len());
        room -= from;
        if room == 0 {
            return;
        }
    }
    let answer_len = t.answer.line_count(width);
    let before = out.len();
    t.answer.lines_in(width, skip, room, out);
    room -= out.len() - before;
    skip = skip.saturating_sub(answer_len);
    let from_status = status.len().saturating_sub(skip).min(room);
    out.extend_from_slice(&status[skip.min(status.len())..][..from_status]);
}

fn state_label(t: Option<&Turn>, spinner: u64, th: &Theme) -> (String, Style) {
    let Some(t) = t else {
        return ("idle".into(), th.ui.dim);
    };
    match &t.state {
        TurnState::Waiting { .. } => (
            format!("{} waiting", SPINNER[(spinner as usize) % SPINNER.len()]),
            th.ui.warn,
        ),
        TurnState::Streaming => (
            format!("{} streaming", SPINNER[(spinner as usize) % SPINNER.len()]),
            th.ui.ok,
        ),
        TurnState::Done(r) if r == "stop" => ("✓ done".into(), th.ui.ok),
        TurnState::Done(r) => (format!("✓ {r}"), th.ui.warn),
        TurnState::Cancelled => ("⊘ cancelled".into(), th.ui.warn),
        TurnState::Failed(_) => ("✗ failed".into(), th.ui.error),
    }
}

/// The fallback model that answered, when it was not the pane's own (responses may name a
/// dated slug of either).
fn answered_by_fallback<'a>(t: &Turn, model: &str, fallbacks: &'a [String]) -> Option<&'a str> {
    let served = t.served.model.as_deref()?;
    if served.starts_with(model) {
        return None;
    }
    fallbacks
        .iter()
        .filter(|f| served.starts_with(f.as_str()))
        .max_by_key(|f| f.len())
        .map(String::as_str)
}

fn stats_line(
    t: Option<&Turn>,
    model: &str,
    fallbacks: &[String],
    width: u16,
    th: &Theme,
) -> Line<'static> {
    let Some(t) = t else {
        return Line::default();
    };
    let dim = th.ui.dim;
    // (priority, text): when the line is too wide the highest numbers go first, whole, so no
    // figure is ever cut in half.
    let mut parts: Vec<(u8, String)> = Vec::new();
    if let Some(f) = answered_by_fallback(t, model, fallbacks) {
        parts.push((0, format!("↪ {f}")));
    }
    // The provider goes before the cost and the tokens, the figures a comparison is about.
    if let Some(p) = &t.served.provider {
        parts.push((3, crate::safe_text::neutralise(p).into_owned()));
    }
    if t.attempts > 1 {
        // The header notes that the answer came after a failover or restart.
        parts.push((4, format!("attempt {}", t.attempts)));
    }
    if let Some(ttft) = t.ttft {
        parts.push((5, format!("ttft {:.2}s", ttft.as_secs_f64())));
    }
    if let Some((tps, est)) = t.tokens_per_sec() {
        let est = if est { "~" } else { "" };
        parts.push((6, format!("{est}{tps:.0} tok/s")));
    }
    match &t.usage {
        Some(u) => {
            let est = if u.estimated { "~" } else { "" };
            parts.push((2, format!("{est}{} tok", u.completion_tokens)));
            if let Some(c) = u.cost {
                parts.push((1, format_cost(c)));
            }
        }
        // Still streaming: an estimate, marked as one.
        None if t.est_tokens > 0 => parts.push((2, format!("~{} tok", t.est_tokens))),
        None => {}
    }
    let text = |parts: &[(u8, String)]| {
        let v: Vec<&str> = parts.iter().map(|(_, s)| s.as_str()).collect();
        format!(" {} ", v.join(" · "))
    };
    // Room for the line inside the border corners.
    let room = usize::from(width.saturating_sub(2));
    while !parts.is_empty() && text(&parts).chars().count() > room {
        let worst = (0..parts.len())
            .max_by_key(|&i| parts[i].0)
            .expect("not empty");
        parts.remove(worst);
    }
    if parts.is_empty() {
        return Line::default();
    }
    Line::styled(text(&parts), dim)
}

pub use crate::wire::catalog::format_cost;
