//! One key table, `BINDINGS`, of (context, keys) → action. Dispatch (`action_for`), the F1 help
//! (`help_rows`) and the status-bar and panel hints (`hints`) are all read from it, so they
//! cannot drift; key names are generated from the keys themselves.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A user intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the composer's prompt.
    Send,
    /// Insert a newline in the composer.
    Newline,
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Toggle sending to all panes or the focused one.
    ToggleTarget,
    /// Cancel the focused pane's stream.
    Cancel,
    /// Change the focused pane's model.
    PickModel,
    /// Add a pane.
    AddPane,
    /// Close the focused pane.
    ClosePane,
    /// Scroll up n lines.
    ScrollUp(u16),
    /// Scroll down n lines.
    ScrollDown(u16),
    /// Scroll one page up.
    ScrollPageUp,
    /// Scroll one page down.
    ScrollPageDown,
    /// Jump to the start of the transcript.
    ScrollTop,
    /// Follow the tail again.
    ScrollBottom,
    /// Copy the focused pane's last answer.
    CopyAnswer,
    /// Copy code block n of the last answer (n from the digit pressed).
    CopyCode(usize),
    /// Toggle mouse capture.
    ToggleMouse,
    /// Send the last prompt of the focused pane again.
    Retry,
    /// Show the key help.
    Help,
    /// Show endpoint health.
    Health,
    /// Explain the focused pane's last routing decision.
    Why,
    /// Edit the prompt.
    Edit(EditKey),
    /// Open the routing panel (F2).
    RoutingPanel,
    /// Open the privacy panel (F3).
    PrivacyPanel,
    /// Open the structured-output panel (F4).
    StructuredPanel,
    /// Toggle or cycle the focused field of a panel.
    Toggle,
    /// Move the selection in a list by n.
    Select(i8),
    /// Scroll a wide table sideways by n columns.
    Sideways(i8),
    /// Knock the selected endpoint down (simulated fleet only).
    Fault(FaultKey),
    /// Clear injected faults.
    ClearFaults,
    /// Take the selected entry (in a panel: apply, or a new line in a multi-line field).
    Choose,
    /// Apply a panel from any field.
    Apply,
    /// Move to the next (1) or previous (-1) field of a panel, even out of a multi-line one.
    NextField(i8),
    /// Delete the last character of a search.
    Erase,
    /// Close the overlay.
    Close,
    /// Ctrl+C: cancel the focused stream (again: every stream), else clear the draft, else
    /// (again) quit; in an overlay or panel, close it.
    Interrupt,
    /// Quit.
    Quit,
    /// Open the history browser (F7).
    History,
    /// Rename the selected conversation.
    Rename,
    /// Delete the selected conversation (asks first).
    Delete,
    /// Fork the selected conversation at the selected turn.
    Fork,
    /// Start a new, empty conversation.
    NewConversation,
    /// The focused pane fills the width, or goes back.
    Zoom,
    /// The composer shows the prompt before the one it shows (or the last one sent).
    PromptPrev,
    /// The composer shows the next prompt (past the newest: empty again).
    PromptNext,
    /// Suspend to the shell (`fg` comes back).
    Suspend,
    /// Open the attachments panel (F5).
    Attachments,
    /// Complete the typed path.
    Complete,
    /// Move the selected entry up (-1) or down (1) in its list.
    Reorder(i8),
    /// Attach the clipboard's image.
    PasteImage,
    /// Change how OpenRouter reads the attached PDFs (the file-parser engine).
    PdfEngine,
    /// Open the catalog browser (F8).
    Catalog,
    /// Put the chosen model in the focused pane instead of a new one.
    ReplaceModel,
    /// Cycle the list's order.
    Sort,
    /// Open the bake-off view (F9).
    Bakeoff,
    /// Vote the highlighted answer its case's best.
    Vote,
    /// Save the bake-off's report to a file.
    SaveReport,
    /// Run a cases file in the panes.
    RunCases,
    /// Draw with the next theme.
    NextTheme,
}

/// Faults F6 can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKey {
    /// Every request fails with 503.
    Outage,
    /// 429s.
    RateLimit,
    /// 502s.
    Errors,
    /// Streams cut.
    Cut,
}

impl FaultKey {
    /// The fleet's name for the fault.
    pub fn name(self) -> &'static str {
        match self {
            FaultKey::Outage => "outage",
            FaultKey::RateLimit => "rate_limit",
            FaultKey::Errors => "errors",
            FaultKey::Cut => "cut",
        }
    }
}

/// Prompt editing (what a key not bound to an action does in the composer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKey {
    /// Type a character.
    Char(char),
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Delete the word before the cursor.
    DeleteWordBack,
    /// Delete the word after the cursor.
    DeleteWordForward,
    /// Delete to the line's start.
    DeleteToStart,
    /// Delete to the line's end.
    DeleteToEnd,
    /// Cursor one character left.
    Left,
    /// Cursor one character right.
    Right,
    /// Cursor one word left.
    WordLeft,
    /// Cursor one word right.
    WordRight,
    /// Cursor up one row.
    Up,
    /// Cursor down one row.
    Down,
    /// Start of the row (then of the line).
    Home,
    /// End of the line.
    End,
    /// Undo the last edit.
    Undo,
    /// Redo what was undone.
    Redo,
}

/// Where a key is pressed: its bindings are looked up there, then in `Any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere.
    Any,
    /// The panes and the composer.
    Workbench,
    /// The model picker.
    Picker,
    /// The F6 health table.
    Health,
    /// Help and why (any other key closes them).
    Popup,
    /// A settings panel (F2, F3).
    Panel,
    /// The history browser (F7).
    History,
    /// The attachments panel (F5).
    Attach,
    /// The catalog browser (F8).
    Catalog,
    /// The bake-off view (F9).
    Bakeoff,
}

/// One key: a code and exact modifiers (Shift is part of a character, so ignored for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Modifiers held.
    pub mods: KeyModifiers,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const ALT: KeyModifiers = KeyModifiers::ALT;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

const fn k(code: KeyCode) -> Key {
    Key { code, mods: NONE }
}
const fn with(mods: KeyModifiers, code: KeyCode) -> Key {
    Key { code, mods }
}
const fn ctrl(c: char) -> Key {
    with(CTRL, KeyCode::Char(c))
}
const fn alt(c: char) -> Key {
    with(ALT, KeyCode::Char(c))
}

impl Key {
    /// Whether a key event is this key.
    pub fn matches(&self, e: &KeyEvent) -> bool {
        match (self.code, e.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) => {
                a.eq_ignore_ascii_case(&b) && (e.modifiers - SHIFT) == self.mods
            }
            // Terminals differ on whether Shift+Tab carries Shift.
            (KeyCode::BackTab, KeyCode::BackTab) => (e.modifiers - SHIFT) == (self.mods - SHIFT),
            (a, b) => a == b && e.modifiers == self.mods,
        }
    }

    fn code_name(&self) -> String {
        match self.code {
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) if self.mods.is_empty() => c.to_string(),
            KeyCode::Char(c) => c.to_ascii_uppercase().to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Tab".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Backspace => "Bksp".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        }
    }

    fn mods_name(&self) -> String {
        let mut s = String::new();
        for (m, name) in [(CTRL, "Ctrl"), (ALT, "Alt"), (SHIFT, "Shift")] {
            if self.mods.contains(m) {
                s.push_str(name);
                s.push('+');
            }
        }
        s
    }

    /// How the key is written: `Ctrl+Q`, `Shift+Enter`, `F6`.
    pub fn name(&self) -> String {
        format!("{}{}", self.mods_name(), self.code_name())
    }
}

/// The name of the keys of one or more bindings, compact: within a binding, modifier sets over
/// the same keys are joined (`Shift/Alt+↑`); keys with the same modifiers share them
/// (`Ctrl+A/E`); a run of consecutive characters is ranged (`Alt+1…9`).
pub fn keys_name(bindings: &[&[Key]]) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for keys in bindings {
        let mut own: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        for key in keys.iter() {
            let (m, c) = (key.mods_name(), key.code_name());
            match own.iter_mut().find(|(ms, _)| ms[0] == m) {
                Some((_, codes)) => codes.push(c),
                None => own.push((vec![m], vec![c])),
            }
        }
        let mut merged: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        for (m, codes) in own {
            match merged
                .iter_mut()
                .find(|(ms, c)| *c == codes && !m[0].is_empty() && !ms[0].is_empty())
            {
                Some((ms, _)) => ms.extend(m),
                None => merged.push((m, codes)),
            }
        }
        for (mods, codes) in merged {
            let mods: Vec<&str> = mods.iter().map(|m| m.trim_end_matches('+')).collect();
            let label = match mods.join("/") {
                m if m.is_empty() => String::new(),
                m => format!("{m}+"),
            };
            match groups.iter_mut().find(|(l, _)| *l == label) {
                Some((_, c)) => c.extend(codes),
                None => groups.push((label, codes)),
            }
        }
    }
    let consecutive = |codes: &[String]| {
        codes.len() > 3
            && codes.windows(2).all(|w| {
                let (a, b) = (w[0].chars().next(), w[1].chars().next());
                w[0].chars().count() == 1
                    && w[1].chars().count() == 1
                    && matches!((a, b), (Some(a), Some(b)) if b as u32 == a as u32 + 1)
            })
    };
    groups
        .into_iter()
        .map(|(prefix, codes)| {
            let codes = if consecutive(&codes) {
                format!("{}…{}", codes[0], codes[codes.len() - 1])
            } else {
                codes.join("/")
            };
            format!("{prefix}{codes}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a binding shows in the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Help {
    /// Not listed (a key everyone expects: arrows, Backspace).
    Hidden,
    /// Its own row.
    Row(&'static str),
    /// Its keys join the row above.
    Joins,
}

/// One line of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Where it applies.
    pub ctx: Context,
    /// Any of these keys.
    pub keys: &'static [Key],
    /// What they do.
    pub action: Action,
    /// Its help row.
    pub help: Help,
    /// Its word in the status bar or panel footer, if it has one.
    pub hint: Option<&'static str>,
    /// How many of its keys the hint names (an arrow pair reads better whole).
    pub hint_keys: usize,
}

const fn bind(ctx: Context, keys: &'static [Key], action: Action, help: Help) -> Binding {
    Binding {
        ctx,
        keys,
        action,
        help,
        hint: None,
        hint_keys: 1,
    }
}

/// `hinted`, the hint naming both keys of a pair (`↑/↓ select`).
const fn hinted_pair(b: Binding, hint: &'static str) -> Binding {
    Binding {
        hint_keys: 2,
        ..hinted(b, hint)
    }
}

const fn hinted(b: Binding, hint: &'static str) -> Binding {
    Binding {
        hint: Some(hint),
        ..b
    }
}

use Context::{
    Any, Attach as AttachCtx, Bakeoff as BakeoffCtx, Catalog as CatalogCtx, Health as HealthCtx,
    History as HistoryCtx, Panel, Picker, Popup, Workbench as Wb,
};
use Help::{Hidden, Joins, Row};

const DIGITS: &[Key] = &[
    alt('1'),
    alt('2'),
    alt('3'),
    alt('4'),
    alt('5'),
    alt('6'),
    alt('7'),
    alt('8'),
    alt('9'),
];

/// Every key binding. Order is the help's order and the hints' priority.
pub const BINDINGS: &[Binding] = &[
    bind(
        Wb,
        &[k(KeyCode::Enter)],
        Action::Send,
        Row("send the prompt"),
    ),
    bind(
        Wb,
        &[
            with(SHIFT, KeyCode::Enter),
            with(ALT, KeyCode::Enter),
            ctrl('j'),
            with(CTRL, KeyCode::Enter),
        ],
        Action::Newline,
        Row("new line in the prompt"),
    ),
    bind(
        Wb,
        &[k(KeyCode::Tab)],
        Action::FocusNext,
        Row("focus next / previous pane"),
    ),
    bind(
        Wb,
        &[with(SHIFT, KeyCode::BackTab)],
        Action::FocusPrev,
        Joins,
    ),
    hinted(
        bind(
            Wb,
            &[ctrl('t')],
            Action::ToggleTarget,
            Row("send to all panes / focused pane only"),
        ),
        "target",
    ),
    hinted(
        bind(
            Wb,
            &[k(KeyCode::Esc)],
            Action::Cancel,
            Row("cancel the focused stream (closes it)"),
        ),
        "cancel",
    ),
    bind(
        Wb,
        &[ctrl('r')],
        Action::Retry,
        Row("retry the focused pane's last prompt"),
    ),
    hinted(
        bind(
            Wb,
            &[ctrl('o')],
            Action::PickModel,
            Row("pick the focused pane's model"),
        ),
        "model",
    ),
    bind(
        Wb,
        &[alt('n')],
        Action::AddPane,
        Row("add a pane / close the focused pane"),
    ),
    bind(Wb, &[ctrl('x')], Action::ClosePane, Joins),
    bind(
        Wb,
        &[ctrl('g')],
        Action::Zoom,
        Row("zoom the focused pane / back"),
    ),
    bind(
        Wb,
        &[ctrl('p')],
        Action::PromptPrev,
        Row("earlier / later prompts (or ↑/↓)"),
    ),
    bind(Wb, &[ctrl('n')], Action::PromptNext, Joins),
    bind(
        Wb,
        &[ctrl('z')],
        Action::Suspend,
        Row("suspend to the shell (fg comes back)"),
    ),
    bind(
        Wb,
        &[with(SHIFT, KeyCode::Up), with(ALT, KeyCode::Up)],
        Action::ScrollUp(1),
        Row("scroll the focused pane a line / a page"),
    ),
    bind(
        Wb,
        &[with(SHIFT, KeyCode::Down), with(ALT, KeyCode::Down)],
        Action::ScrollDown(1),
        Joins,
    ),
    bind(Wb, &[k(KeyCode::PageUp)], Action::ScrollPageUp, Joins),
    bind(Wb, &[k(KeyCode::PageDown)], Action::ScrollPageDown, Joins),
    bind(
        Wb,
        &[with(CTRL, KeyCode::Home)],
        Action::ScrollTop,
        Row("top / follow the tail"),
    ),
    bind(Wb, &[with(CTRL, KeyCode::End)], Action::ScrollBottom, Joins),
    bind(
        Wb,
        &[ctrl('y')],
        Action::CopyAnswer,
        Row("copy the last answer / its code block N"),
    ),
    bind(Wb, DIGITS, Action::CopyCode(0), Joins),
    bind(
        Wb,
        &[k(KeyCode::F(9))],
        Action::ToggleMouse,
        Row("mouse capture on/off (text selection)"),
    ),
    bind(
        Wb,
        &[k(KeyCode::F(6))],
        Action::Health,
        Row("endpoint health (router's or observed)"),
    ),
    bind(
        Wb,
        &[alt('w')],
        Action::Why,
        Row("why: the focused pane's plan and attempts"),
    ),
    hinted(
        bind(Wb, &[k(KeyCode::F(1))], Action::Help, Row("this help")),
        "help",
    ),
    hinted(
        bind(
            Wb,
            &[k(KeyCode::F(2))],
            Action::RoutingPanel,
            Row("panels: routing, privacy, structured output"),
        ),
        "routing",
    ),
    bind(Wb, &[k(KeyCode::F(3))], Action::PrivacyPanel, Joins),
    bind(Wb, &[k(KeyCode::F(4))], Action::StructuredPanel, Joins),
    hinted(
        bind(
            Wb,
            &[k(KeyCode::F(5))],
            Action::Attachments,
            Row("attachments: images and PDFs to send"),
        ),
        "attach",
    ),
    hinted(
        bind(
            Wb,
            &[k(KeyCode::F(7))],
            Action::History,
            Row("history: search, reopen, fork, rename"),
        ),
        "history",
    ),
    hinted(
        bind(
            Wb,
            &[k(KeyCode::F(8))],
            Action::Catalog,
            Row("catalog: every model, filters, prices, endpoints"),
        ),
        "models",
    ),
    hinted(
        bind(
            Wb,
            &[k(KeyCode::F(10))],
            Action::Bakeoff,
            Row("bake-off: the panes' answers scored, votes, report"),
        ),
        "bake-off",
    ),
    bind(
        Wb,
        &[k(KeyCode::F(12))],
        Action::NextTheme,
        Row("next theme (themes/ and the config dir's)"),
    ),
    bind(
        Wb,
        &[ctrl('l')],
        Action::NewConversation,
        Row("new conversation (this one stays in F7)"),
    ),
    // Prompt editing.
    bind(
        Wb,
        &[with(CTRL, KeyCode::Left), alt('b')],
        Action::Edit(EditKey::WordLeft),
        Row("prompt: move / delete by word"),
    ),
    bind(
        Wb,
        &[with(CTRL, KeyCode::Right), alt('f')],
        Action::Edit(EditKey::WordRight),
        Joins,
    ),
    // Two bindings, so the help groups them as `Ctrl+…/Bksp/W, Alt+…/Bksp`.
    bind(
        Wb,
        &[with(CTRL, KeyCode::Backspace), ctrl('w')],
        Action::Edit(EditKey::DeleteWordBack),
        Joins,
    ),
    bind(
        Wb,
        &[with(ALT, KeyCode::Backspace)],
        Action::Edit(EditKey::DeleteWordBack),
        Joins,
    ),
    bind(
        Wb,
        &[alt('d')],
        Action::Edit(EditKey::DeleteWordForward),
        Joins,
    ),
    bind(
        Wb,
        &[k(KeyCode::Home), ctrl('a')],
        Action::Edit(EditKey::Home),
        Row("prompt: line start / end, delete to them"),
    ),
    bind(
        Wb,
        &[k(KeyCode::End), ctrl('e')],
        Action::Edit(EditKey::End),
        Joins,
    ),
    bind(
        Wb,
        &[ctrl('u')],
        Action::Edit(EditKey::DeleteToStart),
        Joins,
    ),
    bind(Wb, &[ctrl('k')], Action::Edit(EditKey::DeleteToEnd), Joins),
    // Ctrl+_ (also sent for Ctrl+/ and Ctrl+7): Ctrl+Z suspends, as in every shell.
    bind(
        Wb,
        &[ctrl('_'), ctrl('7'), ctrl('/'), alt('u')],
        Action::Edit(EditKey::Undo),
        Row("prompt: undo / redo"),
    ),
    bind(Wb, &[alt('z')], Action::Edit(EditKey::Redo), Joins),
    bind(
        Wb,
        &[k(KeyCode::Backspace), ctrl('h')],
        Action::Edit(EditKey::Backspace),
        Hidden,
    ),
    bind(
        Wb,
        &[k(KeyCode::Delete), ctrl('d')],
        Action::Edit(EditKey::Delete),
        Hidden,
    ),
    bind(
        Wb,
        &[k(KeyCode::Left), ctrl('b')],
        Action::Edit(EditKey::Left),
        Hidden,
    ),
    bind(
        Wb,
        &[k(KeyCode::Right), ctrl('f')],
        Action::Edit(EditKey::Right),
        Hidden,
    ),
    bind(Wb, &[k(KeyCode::Up)], Action::Edit(EditKey::Up), Hidden),
    bind(Wb, &[k(KeyCode::Down)], Action::Edit(EditKey::Down), Hidden),
    // The F6 table.
    hinted_pair(
        bind(
            HealthCtx,
            &[k(KeyCode::Up), k(KeyCode::Down)],
            Action::Select(0),
            Hidden,
        ),
        "select",
    ),
    hinted_pair(
        bind(
            HealthCtx,
            &[k(KeyCode::Left), k(KeyCode::Right)],
            Action::Sideways(0),
            Hidden,
        ),
        "scroll",
    ),
    hinted(
        bind(
            HealthCtx,
            &[k(KeyCode::Char('o'))],
            Action::Fault(FaultKey::Outage),
            Hidden,
        ),
        "outage",
    ),
    hinted(
        bind(
            HealthCtx,
            &[k(KeyCode::Char('r'))],
            Action::Fault(FaultKey::RateLimit),
            Hidden,
        ),
        "429s",
    ),
    hinted(
        bind(
            HealthCtx,
            &[k(KeyCode::Char('e'))],
            Action::Fault(FaultKey::Errors),
            Hidden,
        ),
        "502s",
    ),
    hinted(
        bind(
            HealthCtx,
            &[k(KeyCode::Char('x'))],
            Action::Fault(FaultKey::Cut),
            Hidden,
        ),
        "cut",
    ),
    hinted(
        bind(
            HealthCtx,
            &[k(KeyCode::Char('c'))],
            Action::ClearFaults,
            Hidden,
        ),
        "clear",
    ),
    // The model picker.
    hinted_pair(
        bind(
            Picker,
            &[k(KeyCode::Up), k(KeyCode::Down)],
            Action::Select(0),
            Hidden,
        ),
        "select",
    ),
    hinted(
        bind(Picker, &[k(KeyCode::Enter)], Action::Choose, Hidden),
        "choose",
    ),
    bind(Picker, &[k(KeyCode::Backspace)], Action::Erase, Hidden),
    hinted(
        bind(Picker, &[k(KeyCode::Esc)], Action::Close, Hidden),
        "close",
    ),
    hinted_pair(
        bind(
            Popup,
            &[k(KeyCode::Up), k(KeyCode::Down)],
            Action::Select(0),
            Hidden,
        ),
        "scroll",
    ),
    bind(Popup, &[k(KeyCode::PageUp)], Action::ScrollPageUp, Hidden),
    bind(
        Popup,
        &[k(KeyCode::PageDown)],
        Action::ScrollPageDown,
        Hidden,
    ),
    hinted(
        bind(Popup, &[k(KeyCode::Esc)], Action::Close, Hidden),
        "closes",
    ),
    // The history browser.
    hinted_pair(
        bind(
            HistoryCtx,
            &[k(KeyCode::Up), k(KeyCode::Down)],
            Action::Select(0),
            Hidden,
        ),
        "select",
    ),
    hinted(
        bind(HistoryCtx, &[k(KeyCode::Enter)], Action::Choose, Hidden),
        "open",
    ),
    hinted(bind(HistoryCtx, &[ctrl('f')], Action::Fork, Hidden), "fork"),
    hinted(
        bind(HistoryCtx, &[ctrl('r')], Action::Rename, Hidden),
        "rename",
    ),
    hinted(
        bind(HistoryCtx, &[ctrl('d')], Action::Delete, Hidden),
        "delete",
    ),
    bind(HistoryCtx, &[k(KeyCode::Backspace)], Action::Erase, Hidden),
    hinted(
        bind(HistoryCtx, &[k(KeyCode::Esc)], Action::Close, Hidden),
        "close",
    ),
    // The attachments panel.
    hinted(
        bind(AttachCtx, &[k(KeyCode::Enter)], Action::Choose, Hidden),
        "attach path",
    ),
    hinted(
        bind(AttachCtx, &[k(KeyCode::Tab)], Action::Complete, Hidden),
        "complete",
    ),
    hinted_pair(
        bind(
            AttachCtx,
            &[k(KeyCode::Up), k(KeyCode::Down)],
            Action::Select(0),
            Hidden,
        ),
        "select",
    ),
    hinted_pair(
        bind(
            AttachCtx,
            &[with(ALT, KeyCode::Up), with(ALT, KeyCode::Down)],
            Action::Reorder(0),
            Hidden,
        ),
        "move",
    ),
    hinted(
        bind(
            AttachCtx,
            &[k(KeyCode::Delete), ctrl('d')],
            Action::Delete,
            Hidden,
        ),
        "remove",
    ),
    hinted(
        bind(AttachCtx, &[ctrl('v')], Action::PasteImage, Hidden),
        "clipboard image",
    ),
    hinted(
        bind(AttachCtx, &[ctrl('e')], Action::PdfEngine, Hidden),
        "PDF engine",
    ),
    bind(AttachCtx, &[k(KeyCode::Backspace)], Action::Erase, Hidden),
    hinted(
        bind(AttachCtx, &[k(KeyCode::Esc)], Action::Close, Hidden),
        "close",
    ),
    // The bake-off view.
    hinted(
        bind(BakeoffCtx, &[k(KeyCode::Enter)], Action::Vote, Hidden),
        "vote best",
    ),
    hinted(
        bind(BakeoffCtx, &[ctrl('s')], Action::SaveReport, Hidden),
        "save report",
    ),
    hinted(
        bind(BakeoffCtx, &[ctrl('o')], Action::RunCases, Hidden),
        "run cases",
    ),
    hinted_pair(
        bind(
            BakeoffCtx,
            &[k(KeyCode::Up), k(KeyCode::Down)],
            Action::Select(0),
            Hidden,
        ),
        "case",
    ),
    hinted_pair(
        bind(
            BakeoffCtx,
            &[k(KeyCode::Left), k(KeyCode::Right)],
            Action::Sideways(0),
            Hidden,
        ),
        "model",
    ),
    bind(BakeoffCtx, &[k(KeyCode::Backspace)], Action::Erase, Hidden),
    hinted(
        bind(BakeoffCtx, &[k(KeyCode::Esc)], Action::Close, Hidden),
        "close",
    ),
    // The catalog browser.
    hinted(
        bind(CatalogCtx, &[k(KeyCode::Enter)], Action::Choose, Hidden),
        "new pane",
    ),
    hinted(
        bind(CatalogCtx, &[ctrl('r')], Action::ReplaceModel, Hidden),
        "use here",
    ),
    hinted(bind(CatalogCtx, &[ctrl('s')], Action::Sort, Hidden), "sort"),
    hinted_pair(
        bind(
            CatalogCtx,
            &[k(KeyCode::Up), k(KeyCode::Down)],
            Action::Select(0),
            Hidden,
        ),
        "select",
    ),
    bind(
        CatalogCtx,
        &[k(KeyCode::PageUp)],
        Action::Select(-10),
        Hidden,
    ),
    bind(
        CatalogCtx,
        &[k(KeyCode::PageDown)],
        Action::Select(10),
        Hidden,
    ),
    bind(CatalogCtx, &[k(KeyCode::Backspace)], Action::Erase, Hidden),
    hinted(
        bind(CatalogCtx, &[k(KeyCode::Esc)], Action::Close, Hidden),
        "close",
    ),
    // Settings panels.
    hinted_pair(
        bind(
            Panel,
            &[k(KeyCode::Up), k(KeyCode::Down)],
            Action::Select(0),
            Hidden,
        ),
        "field",
    ),
    bind(Panel, &[k(KeyCode::Tab)], Action::NextField(1), Hidden),
    bind(
        Panel,
        &[with(SHIFT, KeyCode::BackTab)],
        Action::NextField(-1),
        Hidden,
    ),
    hinted_pair(
        bind(
            Panel,
            &[k(KeyCode::Left), k(KeyCode::Right)],
            Action::Sideways(0),
            Hidden,
        ),
        "change",
    ),
    hinted(
        bind(Panel, &[k(KeyCode::Char(' '))], Action::Toggle, Hidden),
        "toggle",
    ),
    bind(Panel, &[k(KeyCode::Backspace)], Action::Erase, Hidden),
    hinted(
        bind(Panel, &[ctrl('t')], Action::ToggleTarget, Hidden),
        "scope",
    ),
    hinted(
        bind(Panel, &[k(KeyCode::Enter)], Action::Choose, Hidden),
        "apply",
    ),
    // Applies from a multi-line field too, where Enter is a new line.
    bind(Panel, &[ctrl('s')], Action::Apply, Hidden),
    hinted(
        bind(Panel, &[k(KeyCode::Esc)], Action::Close, Hidden),
        "cancel",
    ),
    // Everywhere.
    bind(
        Any,
        &[ctrl('c')],
        Action::Interrupt,
        Row("stop stream (2×: all), clear prompt, quit"),
    ),
    hinted(
        bind(Any, &[ctrl('q')], Action::Quit, Row("quit at once")),
        "quit",
    ),
];

/// The parameter an action takes from the key that pressed it: the digit of `CopyCode`, the
/// arrow's direction of `Select(0)` and its kin.
fn refine(action: Action, code: KeyCode) -> Action {
    match (action, code) {
        (Action::CopyCode(_), KeyCode::Char(c)) if c.is_ascii_digit() => {
            Action::CopyCode(c as usize - '0' as usize)
        }
        // `0` stands for "the direction of the arrow pressed".
        (Action::Select(0), KeyCode::Up) => Action::Select(-1),
        (Action::Select(0), KeyCode::Down) => Action::Select(1),
        (Action::Reorder(0), KeyCode::Up) => Action::Reorder(-1),
        (Action::Reorder(0), KeyCode::Down) => Action::Reorder(1),
        (Action::Sideways(0), KeyCode::Left) => Action::Sideways(-8),
        (Action::Sideways(0), KeyCode::Right) => Action::Sideways(8),
        (a, _) => a,
    }
}

/// One line of the active key table: a `Binding` whose keys may be sequences (`Ctrl+W l`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// Where it applies.
    pub ctx: Context,
    /// Any of these key sequences (most are one key long).
    pub keys: Vec<Vec<Key>>,
    /// What they do.
    pub action: Action,
    /// Its help row.
    pub help: Help,
    /// Its word in the status bar or panel footer.
    pub hint: Option<&'static str>,
    /// How many of its keys the hint names.
    pub hint_keys: usize,
}

/// What a key does, given the keys pressed before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// An action.
    Action(Action),
    /// The start of a longer sequence: wait for the next key.
    Pending,
    /// Nothing bound (text, or a key the layer reads itself).
    Unbound,
}

/// The key table in force: the built-in `BINDINGS` with the config's changes laid over them
/// (`app::remap`). Dispatch, help and hints all read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    /// Every line, in table order.
    pub bound: Vec<Bound>,
}

impl Keymap {
    /// The built-in table.
    pub fn builtin() -> Self {
        Keymap {
            bound: BINDINGS
                .iter()
                .map(|b| Bound {
                    ctx: b.ctx,
                    keys: b.keys.iter().map(|k| vec![*k]).collect(),
                    action: b.action,
                    help: b.help,
                    hint: b.hint,
                    hint_keys: b.hint_keys,
                })
                .collect(),
        }
    }

    fn in_ctx(&self, ctx: Context) -> impl Iterator<Item = &Bound> {
        self.bound.iter().filter(move |b| b.ctx == ctx).chain(
            self.bound
                .iter()
                .filter(move |b| b.ctx == Any && ctx != Any),
        )
    }

    /// What `key` does in `ctx` after `pending` (the keys of an unfinished sequence).
    pub fn resolve(&self, ctx: Context, pending: &[KeyEvent], key: &KeyEvent) -> Resolved {
        let n = pending.len();
        let mut prefix = false;
        for b in self.in_ctx(ctx) {
            for seq in &b.keys {
                if seq.len() <= n
                    || !seq.iter().zip(pending).all(|(k, e)| k.matches(e))
                    || !seq[n].matches(key)
                {
                    continue;
                }
                if seq.len() == n + 1 {
                    return Resolved::Action(refine(b.action, key.code));
                }
                prefix = true;
            }
        }
        if prefix {
            Resolved::Pending
        } else {
            Resolved::Unbound
        }
    }

    /// The action one key has in `ctx` (then anywhere), or `None`.
    pub fn action_for(&self, ctx: Context, key: &KeyEvent) -> Option<Action> {
        match self.resolve(ctx, &[], key) {
            Resolved::Action(a) => Some(a),
            _ => None,
        }
    }

    /// The name of the first key bound to `action` in `ctx`, or in the workbench or anywhere.
    fn first_key(&self, ctx: Option<Context>, action: Action) -> String {
        self.bound
            .iter()
            .filter(|b| b.action == action)
            .filter(|b| match ctx {
                Some(c) => b.ctx == c,
                None => matches!(b.ctx, Wb | Any),
            })
            .find_map(|b| b.keys.first())
            .map(|seq| seq_name(seq))
            .unwrap_or_default()
    }
}

/// How a sequence is written: `Ctrl+W l`.
pub fn seq_name(seq: &[Key]) -> String {
    seq.iter()
        .map(|k| keys_name(&[std::slice::from_ref(k)]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The name of some bindings' keys: single keys compactly (`keys_name`), then sequences.
fn bound_name(keys: &[&Vec<Vec<Key>>], first: Option<usize>) -> String {
    let mut singles: Vec<Vec<Key>> = Vec::new();
    let mut seqs: Vec<String> = Vec::new();
    for k in keys {
        let take = first.unwrap_or(k.len()).min(k.len());
        let mut own = Vec::new();
        for seq in &k[..take] {
            if seq.len() == 1 {
                own.push(seq[0]);
            } else {
                seqs.push(seq_name(seq));
            }
        }
        singles.push(own);
    }
    let refs: Vec<&[Key]> = singles
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_slice())
        .collect();
    let mut name = keys_name(&refs);
    for s in seqs {
        if !name.is_empty() {
            name.push_str(", ");
        }
        name.push_str(&s);
    }
    name
}

static ACTIVE: std::sync::RwLock<Option<std::sync::Arc<Keymap>>> = std::sync::RwLock::new(None);

/// The key table in force (the built-in one until `set_active`).
pub fn active() -> std::sync::Arc<Keymap> {
    if let Some(k) = ACTIVE.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
        return k.clone();
    }
    static BUILTIN: std::sync::LazyLock<std::sync::Arc<Keymap>> =
        std::sync::LazyLock::new(|| std::sync::Arc::new(Keymap::builtin()));
    BUILTIN.clone()
}

/// Puts a key table in force (at start, from the config).
pub fn set_active(k: Keymap) {
    *ACTIVE.write().unwrap_or_else(|p| p.into_inner()) = Some(std::sync::Arc::new(k));
}

/// The action `key` has in `ctx` (then anywhere), or `None` (text for the composer or the
/// picker's search; any other key closes a popup).
pub fn action_for(ctx: Context, key: &KeyEvent) -> Option<Action> {
    active().action_for(ctx, key)
}

/// The name of the first key bound to `action` in the workbench (for messages that name it).
pub fn key_for(action: Action) -> String {
    active().first_key(None, action)
}

/// The name of the first key bound to `action` in `ctx`.
pub fn key_in(ctx: Context, action: Action) -> String {
    active().first_key(Some(ctx), action)
}

/// What a key not in the table types into the composer or a search: a plain character.
pub fn typed_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if (key.modifiers - SHIFT).is_empty() => Some(c),
        _ => None,
    }
}

/// The F1 help: (keys, what they do) for the workbench and everywhere, in table order.
pub fn help_rows() -> Vec<(String, &'static str)> {
    let map = active();
    let mut rows: Vec<(Vec<&Vec<Vec<Key>>>, &'static str)> = Vec::new();
    for b in map.bound.iter().filter(|b| matches!(b.ctx, Wb | Any)) {
        match b.help {
            Hidden => {}
            Row(text) => rows.push((vec![&b.keys], text)),
            Joins => {
                if let Some((keys, _)) = rows.last_mut() {
                    keys.push(&b.keys);
                }
            }
        }
    }
    rows.into_iter()
        .filter(|(k, _)| k.iter().any(|k| !k.is_empty()))
        .map(|(k, t)| (bound_name(&k, None), t))
        .collect()
}

/// The hints of a context and of `Any`: (keys, word), in table order.
pub fn hints(ctx: Context) -> Vec<(String, &'static str)> {
    let map = active();
    map.bound
        .iter()
        .filter(|b| b.ctx == ctx || b.ctx == Any)
        .filter(|b| !b.keys.is_empty())
        .filter_map(|b| {
            b.hint
                .map(|h| (bound_name(&[&b.keys], Some(b.hint_keys)), h))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn enter_sends_and_modified_enter_is_newline() {
        assert_eq!(
            action_for(Wb, &ev(KeyCode::Enter, NONE)),
            Some(Action::Send)
        );
        for m in [SHIFT, ALT, CTRL] {
            assert_eq!(
                action_for(Wb, &ev(KeyCode::Enter, m)),
                Some(Action::Newline)
            );
        }
        assert_eq!(
            action_for(Wb, &ev(KeyCode::Char('j'), CTRL)),
            Some(Action::Newline)
        );
    }

    #[test]
    fn plain_text_is_not_an_action_and_types() {
        for c in ['q', '1', 'Q'] {
            let e = ev(KeyCode::Char(c), if c == 'Q' { SHIFT } else { NONE });
            assert_eq!(action_for(Wb, &e), None);
            assert_eq!(typed_char(&e), Some(c));
        }
        assert_eq!(typed_char(&ev(KeyCode::Char('q'), CTRL)), None);
    }

    #[test]
    fn copy_code_numbers_and_arrows_carry_their_direction() {
        assert_eq!(
            action_for(Wb, &ev(KeyCode::Char('3'), ALT)),
            Some(Action::CopyCode(3))
        );
        assert_eq!(
            action_for(HealthCtx, &ev(KeyCode::Up, NONE)),
            Some(Action::Select(-1))
        );
        assert_eq!(
            action_for(HealthCtx, &ev(KeyCode::Right, NONE)),
            Some(Action::Sideways(8))
        );
    }

    #[test]
    fn quit_works_in_every_context_and_keys_mean_one_thing_per_context() {
        for ctx in [Wb, Picker, HealthCtx, Popup, Panel] {
            assert_eq!(
                action_for(ctx, &ev(KeyCode::Char('q'), CTRL)),
                Some(Action::Quit)
            );
            assert_eq!(
                action_for(ctx, &ev(KeyCode::Char('c'), CTRL)),
                Some(Action::Interrupt)
            );
            let mut seen: Vec<Key> = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.ctx == ctx || b.ctx == Any) {
                for key in b.keys {
                    assert!(!seen.contains(key), "{} bound twice in {ctx:?}", key.name());
                    seen.push(*key);
                }
            }
        }
    }

    #[test]
    fn the_help_is_generated_from_the_keys_compactly() {
        let rows = help_rows();
        let find = |t: &str| rows.iter().find(|(_, d)| *d == t).map(|(k, _)| k.clone());
        assert_eq!(find("quit at once").as_deref(), Some("Ctrl+Q"));
        assert_eq!(
            find("focus next / previous pane").as_deref(),
            Some("Tab, Shift+Tab")
        );
        assert_eq!(
            find("scroll the focused pane a line / a page").as_deref(),
            Some("Shift/Alt+↑/↓, PgUp/PgDn")
        );
        assert_eq!(
            find("copy the last answer / its code block N").as_deref(),
            Some("Ctrl+Y, Alt+1…9")
        );
        // Every workbench action with a help row is reachable by its keys.
        for b in BINDINGS.iter().filter(|b| b.ctx == Wb) {
            for key in b.keys {
                let e = ev(key.code, key.mods);
                assert!(action_for(Wb, &e).is_some(), "{} dispatches", key.name());
            }
        }
    }

    #[test]
    fn hints_name_their_keys() {
        let h = hints(Wb);
        assert_eq!(h.first(), Some(&("Ctrl+T".to_string(), "target")));
        assert!(h.contains(&("Ctrl+Q".to_string(), "quit")));
        assert!(hints(HealthCtx).contains(&("↑/↓".to_string(), "select")));
        assert!(hints(Panel).contains(&("←/→".to_string(), "change")));
    }
}
