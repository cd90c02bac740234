//! Where everything is on screen, computed from the state by one function that drawing and
//! `update` both call (paging, mouse hit-tests and scroll limits), so drawing never writes state
//! that `update` reads. Only memo caches (wrap and line counts) are filled on the way.

use crate::app::state::{App, Pane};
use ratatui::layout::{Constraint, Layout, Rect};

/// Narrowest a pane column may get before panes stack into rows.
pub(crate) const MIN_PANE_WIDTH: u16 = 28;

/// Width from which a panel opens beside the panes instead of over them.
pub const PANEL_BESIDE: u16 = 140;
/// A panel's width beside the panes.
const PANEL_WIDTH: u16 = 72;

/// The screen's regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// Each pane's cell, in pane order.
    pub panes: Vec<Rect>,
    /// The composer, with its border.
    pub composer: Rect,
    /// The status bar.
    pub status: Rect,
    /// The open panel: beside the panes on a wide screen, over them otherwise.
    pub panel: Option<Rect>,
}

/// The regions of `area` for this state.
pub fn screen(app: &mut App, area: Rect) -> Screen {
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let beside = app.has_panel() && area.width >= PANEL_BESIDE;
    let (left, side) = if beside {
        let [l, r] =
            Layout::horizontal([Constraint::Min(1), Constraint::Length(PANEL_WIDTH)]).areas(body);
        (l, Some(r))
    } else {
        (body, None)
    };
    let cap = 6.min(area.height / 3).max(1);
    let rows = super::composer::wanted_rows(&mut app.composer, left.width.saturating_sub(2), cap);
    let [panes, composer] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(rows + 2)]).areas(left);
    let panel = match side {
        Some(r) => Some(r),
        None if app.has_panel() => Some(panes),
        None => None,
    };
    // Zoomed: the focused pane takes the whole width; the others are not drawn (empty cells).
    let cells = if app.zoom && !app.panes.is_empty() {
        let mut v = vec![Rect::default(); app.panes.len()];
        v[app.focus.min(app.panes.len() - 1)] = panes;
        v
    } else {
        grid(panes, app.panes.len())
    };
    Screen {
        panes: cells,
        composer,
        status,
        panel,
    }
}

/// The text area inside a pane's border.
pub fn inner(cell: Rect) -> Rect {
    cell.inner(ratatui::layout::Margin::new(1, 1))
}

/// Transcript lines of a pane at a width (each turn's count is cached).
pub fn transcript_lines(pane: &mut Pane, width: u16, th: &crate::theme::Theme) -> usize {
    pane.turns
        .iter_mut()
        .map(|t| super::pane::turn_line_count(t, width.max(1), th))
        .sum()
}

/// Splits `area` into `n` cells: side by side while each column fits, then a grid.
pub fn grid(area: Rect, n: usize) -> Vec<Rect> {
    if n == 0 {
        return Vec::new();
    }
    let max_cols = (area.width / MIN_PANE_WIDTH).max(1) as usize;
    let cols = n.min(max_cols);
    let rows = n.div_ceil(cols);
    let row_areas = Layout::vertical(vec![Constraint::Fill(1); rows]).split(area);
    let mut out = Vec::with_capacity(n);
    for (r, row) in row_areas.iter().enumerate() {
        let in_row = (n - r * cols).min(cols);
        let cells = Layout::horizontal(vec![Constraint::Fill(1); in_row]).split(*row);
        out.extend(cells.iter().copied());
    }
    out
}
