//! Keys to actions. One table serves both dispatch and the help overlay, so they cannot drift.

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
    /// Copy code block n of the last answer.
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
    /// Quit.
    Quit,
}

/// Key help rows: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    ("Enter", "send the prompt"),
    ("Shift+Enter / Ctrl+J / Alt+Enter", "new line in the prompt"),
    ("Tab / Shift+Tab", "focus next / previous pane"),
    ("Ctrl+T", "send to all panes / focused pane only"),
    ("Esc", "cancel the focused stream (closes it)"),
    ("Ctrl+R", "retry the focused pane's last prompt"),
    ("Ctrl+O", "pick the focused pane's model"),
    ("Ctrl+N", "add a pane (model picker)"),
    ("Ctrl+X", "close the focused pane"),
    (
        "Shift/Alt+Up/Down, PgUp/PgDn",
        "scroll the focused pane a line / page",
    ),
    ("Ctrl+Home / Ctrl+End", "top / follow the tail"),
    ("Mouse wheel", "scroll the pane under the pointer"),
    (
        "Ctrl+Y / Alt+1 … Alt+9",
        "copy the last answer / its code block N",
    ),
    ("F2", "mouse capture on/off (text selection)"),
    ("F6", "endpoint health (router's or observed)"),
    ("Ctrl+W", "why: the focused pane's plan and attempts"),
    ("F1", "this help"),
    ("Ctrl+Q / Ctrl+C", "quit"),
];

/// Prompt editing keys (what a key not bound to an action does in the composer).
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

/// Help rows for editing the prompt.
pub const EDIT_HELP: &[(&str, &str)] = &[
    (
        "Ctrl/Alt+←→, Ctrl/Alt+Bksp",
        "prompt: move / delete by word",
    ),
    (
        "Ctrl+A/E, Ctrl+U/K",
        "prompt: line start / end, delete to them",
    ),
    ("Ctrl+Z / Alt+Z", "prompt: undo / redo"),
];

/// What a key does in the composer, when it is not bound to an action.
pub fn edit_for(key: &KeyEvent) -> Option<EditKey> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        KeyCode::Backspace if ctrl || alt => EditKey::DeleteWordBack,
        KeyCode::Char('h') if ctrl => EditKey::Backspace,
        KeyCode::Backspace => EditKey::Backspace,
        KeyCode::Delete if ctrl || alt => EditKey::DeleteWordForward,
        KeyCode::Delete => EditKey::Delete,
        KeyCode::Char('d') if alt => EditKey::DeleteWordForward,
        KeyCode::Char('d') if ctrl => EditKey::Delete,
        KeyCode::Char('u') if ctrl => EditKey::DeleteToStart,
        KeyCode::Char('k') if ctrl => EditKey::DeleteToEnd,
        KeyCode::Char('z') if ctrl => EditKey::Undo,
        KeyCode::Char('z') if alt => EditKey::Redo,
        KeyCode::Char('b') if alt => EditKey::WordLeft,
        KeyCode::Char('f') if alt => EditKey::WordRight,
        KeyCode::Char('a') if ctrl => EditKey::Home,
        KeyCode::Char('e') if ctrl => EditKey::End,
        KeyCode::Char('b') if ctrl => EditKey::Left,
        KeyCode::Char('f') if ctrl => EditKey::Right,
        KeyCode::Left if ctrl || alt => EditKey::WordLeft,
        KeyCode::Right if ctrl || alt => EditKey::WordRight,
        KeyCode::Left => EditKey::Left,
        KeyCode::Right => EditKey::Right,
        KeyCode::Up => EditKey::Up,
        KeyCode::Down => EditKey::Down,
        KeyCode::Home => EditKey::Home,
        KeyCode::End => EditKey::End,
        // Other control and Alt chords are not text.
        KeyCode::Char(_) if ctrl || alt => return None,
        KeyCode::Char(c) => EditKey::Char(c),
        _ => return None,
    })
}

/// The action bound to a key, or `None` when the key is text for the composer.
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    Some(match key.code {
        KeyCode::Enter if shift || alt || ctrl => Action::Newline,
        KeyCode::Enter => Action::Send,
        KeyCode::Char('j') if ctrl => Action::Newline,
        KeyCode::Char('q') if ctrl => Action::Quit,
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('t') if ctrl => Action::ToggleTarget,
        KeyCode::Char('r') if ctrl => Action::Retry,
        KeyCode::Char('o') if ctrl => Action::PickModel,
        KeyCode::Char('n') if ctrl => Action::AddPane,
        KeyCode::Char('x') if ctrl => Action::ClosePane,
        KeyCode::Char('y') if ctrl => Action::CopyAnswer,
        KeyCode::Char('w') if ctrl => Action::Why,
        KeyCode::Char(c @ '1'..='9') if alt => Action::CopyCode(c as usize - '0' as usize),
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Esc => Action::Cancel,
        KeyCode::Up if shift || alt => Action::ScrollUp(1),
        KeyCode::Down if shift || alt => Action::ScrollDown(1),
        KeyCode::PageUp => Action::ScrollPageUp,
        KeyCode::PageDown => Action::ScrollPageDown,
        KeyCode::Home if ctrl => Action::ScrollTop,
        KeyCode::End if ctrl => Action::ScrollBottom,
        KeyCode::F(1) => Action::Help,
        KeyCode::F(2) => Action::ToggleMouse,
        KeyCode::F(6) => Action::Health,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn enter_sends_and_modified_enter_is_newline() {
        assert_eq!(
            action_for(&k(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Send)
        );
        assert_eq!(
            action_for(&k(KeyCode::Enter, KeyModifiers::SHIFT)),
            Some(Action::Newline)
        );
        assert_eq!(
            action_for(&k(KeyCode::Char('j'), KeyModifiers::CONTROL)),
            Some(Action::Newline)
        );
    }

    #[test]
    fn plain_text_goes_to_the_composer() {
        assert_eq!(action_for(&k(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(action_for(&k(KeyCode::Char('1'), KeyModifiers::NONE)), None);
        assert_eq!(action_for(&k(KeyCode::Up, KeyModifiers::NONE)), None);
    }

    #[test]
    fn copy_code_numbers() {
        assert_eq!(
            action_for(&k(KeyCode::Char('3'), KeyModifiers::ALT)),
            Some(Action::CopyCode(3))
        );
    }

    #[test]
    fn every_help_row_names_a_key() {
        assert!(HELP.iter().all(|(k, d)| !k.is_empty() && !d.is_empty()));
        assert!(HELP.iter().any(|(k, _)| k.contains("Ctrl+Q")));
    }
}
