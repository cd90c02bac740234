//! Panel fields, built once: toggle, choice, number with a unit, a list chosen from candidates,
//! text and multi-line text. A panel is a description of its fields; the same keys work in every
//! panel (↑↓ move, ←→ change a choice or move in a list, Space toggles, typing edits text and
//! numbers; in multi-line text Enter is a new line and ↑↓ leave it at its ends). Pure.

use super::keymap::Action;
use crate::text_edit::TextBuffer;

/// Multi-line text being edited; equal when the text is.
#[derive(Debug, Clone, Default)]
pub struct Editor(pub TextBuffer);

impl PartialEq for Editor {
    fn eq(&self, other: &Self) -> bool {
        self.0.text() == other.0.text()
    }
}

impl Editor {
    /// An editor holding `text`, the cursor at its start.
    pub fn with_text(text: &str) -> Self {
        let mut b = TextBuffer::new();
        b.insert_str(text);
        b.to_start();
        Editor(b)
    }
}

/// A field's value and how it is edited.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// On or off (Space, ←→).
    Toggle(bool),
    /// One of `options` (←→, Space cycles).
    Choice {
        /// What can be chosen.
        options: Vec<String>,
        /// The chosen one.
        at: usize,
    },
    /// A number as typed (empty: not set), with its unit shown after it.
    Number {
        /// The text typed.
        text: String,
        /// Shown after the number.
        unit: &'static str,
    },
    /// Text as typed (empty: not set).
    Text(String),
    /// Entries chosen, in the order chosen, from `candidates` (←→ move, Space adds or removes).
    List {
        /// What can be chosen.
        candidates: Vec<String>,
        /// Chosen, in order.
        chosen: Vec<String>,
        /// The candidate under the cursor.
        at: usize,
    },
    /// Multi-line text (Enter is a new line; paste goes in whole).
    Editor(Box<Editor>),
}

/// One field of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Stable key the panel's reader looks fields up by.
    pub key: &'static str,
    /// What the user reads.
    pub label: &'static str,
    /// Its value.
    pub value: Value,
    /// What is wrong with it, shown under it.
    pub error: Option<String>,
}

impl Field {
    /// A field.
    pub fn new(key: &'static str, label: &'static str, value: Value) -> Self {
        Field {
            key,
            label,
            value,
            error: None,
        }
    }

    /// The value as one line.
    pub fn shown(&self) -> String {
        match &self.value {
            Value::Toggle(on) => if *on { "[x] on" } else { "[ ] off" }.into(),
            Value::Choice { options, at } => format!("‹ {} ›", options[*at]),
            Value::Number { text, unit } if text.is_empty() => format!("— ({unit})"),
            Value::Number { text, unit } => format!("{text} {unit}"),
            Value::Text(t) if t.is_empty() => "—".into(),
            Value::Text(t) => t.clone(),
            Value::Editor(e) => match e.0.line_count() {
                1 if e.0.is_empty() => "—".into(),
                1 => "1 line".into(),
                n => format!("{n} lines"),
            },
            Value::List {
                candidates,
                chosen,
                at,
            } => {
                let picked = if chosen.is_empty() {
                    "none".to_string()
                } else {
                    chosen.join(", ")
                };
                match candidates.get(*at) {
                    Some(c) => {
                        let mark = if chosen.contains(c) { "−" } else { "+" };
                        format!("{picked}   ‹ {mark}{c} ›")
                    }
                    None => format!("{picked}   (no candidates)"),
                }
            }
        }
    }
}

/// Some fields are wrong; each says why in its `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marked;

/// What a key did to a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing changed.
    Nothing,
    /// The focus moved.
    Moved,
    /// A value changed.
    Changed,
    /// Apply and close.
    Apply,
    /// Close without applying.
    Close,
}

/// Fields and the focused one.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// The fields, top to bottom.
    pub fields: Vec<Field>,
    /// The focused field.
    pub focus: usize,
}

/// Longest text typed into one field.
const MAX_FIELD_CHARS: usize = 4000;

impl Form {
    /// A form over `fields`, the first focused.
    pub fn new(fields: Vec<Field>) -> Self {
        Form { fields, focus: 0 }
    }

    /// Handles a key (its action in the panel context, or the character it types).
    pub fn key(&mut self, action: Option<Action>, typed: Option<char>) -> Outcome {
        let n = self.fields.len();
        if n == 0 {
            return Outcome::Nothing;
        }
        if let Value::Editor(e) = &mut self.fields[self.focus].value {
            let b = &mut e.0;
            let moved = match (action, typed) {
                (Some(Action::Choose), _) => {
                    b.newline();
                    return Outcome::Changed;
                }
                (Some(Action::Toggle), _) => {
                    b.insert_char(' ');
                    return Outcome::Changed;
                }
                (None, Some(c)) => {
                    b.insert_char(c);
                    return Outcome::Changed;
                }
                (Some(Action::Erase), _) => {
                    b.backspace();
                    return Outcome::Changed;
                }
                (Some(Action::Sideways(d)), _) => {
                    if d < 0 {
                        b.left()
                    } else {
                        b.right()
                    }
                    true
                }
                // ↑↓ move inside the text and leave it only at its first or last row.
                (Some(Action::Select(d)), _) if d < 0 => b.up(),
                (Some(Action::Select(_)), _) => b.down(),
                _ => false,
            };
            if moved {
                return Outcome::Moved;
            }
        }
        match action {
            Some(Action::Choose | Action::Apply) => return Outcome::Apply,
            Some(Action::Close) => return Outcome::Close,
            Some(Action::Select(d) | Action::NextField(d)) => {
                self.focus = (self.focus as isize + d as isize).rem_euclid(n as isize) as usize;
                return Outcome::Moved;
            }
            _ => {}
        }
        let f = &mut self.fields[self.focus];
        let changed = match (&mut f.value, action, typed) {
            (Value::Toggle(on), Some(Action::Toggle | Action::Sideways(_)), _) => {
                *on = !*on;
                true
            }
            (Value::Choice { options, at }, Some(Action::Sideways(d)), _) => {
                let len = options.len() as isize;
                *at = (*at as isize + d.signum() as isize).rem_euclid(len) as usize;
                true
            }
            (Value::Choice { options, at }, Some(Action::Toggle), _) => {
                *at = (*at + 1) % options.len();
                true
            }
            (Value::List { candidates, at, .. }, Some(Action::Sideways(d)), _) => {
                if candidates.is_empty() {
                    false
                } else {
                    let len = candidates.len() as isize;
                    *at = (*at as isize + d.signum() as isize).rem_euclid(len) as usize;
                    // Moving the cursor changes nothing that is sent.
                    return Outcome::Moved;
                }
            }
            (
                Value::List {
                    candidates,
                    chosen,
                    at,
                },
                Some(Action::Toggle),
                _,
            ) => match candidates.get(*at) {
                Some(c) => {
                    match chosen.iter().position(|x| x == c) {
                        Some(i) => {
                            chosen.remove(i);
                        }
                        None => chosen.push(c.clone()),
                    }
                    true
                }
                None => false,
            },
            (Value::List { chosen, .. }, Some(Action::Erase), _) => chosen.pop().is_some(),
            (Value::Text(t), Some(Action::Toggle), _) => push(t, ' '),
            (Value::Text(t), None, Some(c)) => push(t, c),
            (Value::Number { text, .. }, None, Some(c))
                if c.is_ascii_digit() || c == '.' || c == '-' =>
            {
                push(text, c)
            }
            // Letters in a number are kept so the field can say what is wrong with them.
            (Value::Number { text, .. }, None, Some(c)) => push(text, c),
            (Value::Text(t) | Value::Number { text: t, .. }, Some(Action::Erase), _) => {
                t.pop().is_some()
            }
            _ => false,
        };
        if changed {
            Outcome::Changed
        } else {
            Outcome::Nothing
        }
    }

    /// Pasted text: whole into multi-line text, without its line breaks into a text field, and
    /// ignored elsewhere.
    pub fn paste(&mut self, text: &str) -> Outcome {
        let Some(f) = self.fields.get_mut(self.focus) else {
            return Outcome::Nothing;
        };
        match &mut f.value {
            Value::Editor(e) => {
                e.0.insert_str(&crate::text_edit::clean(text));
                Outcome::Changed
            }
            Value::Text(t) | Value::Number { text: t, .. } => {
                let mut any = false;
                for c in text.chars() {
                    any |= push(t, if c == '\n' { ' ' } else { c });
                }
                if any {
                    Outcome::Changed
                } else {
                    Outcome::Nothing
                }
            }
            _ => Outcome::Nothing,
        }
    }

    /// A multi-line field's text.
    pub fn editor_text(&self, key: &str) -> String {
        match self.get(key).map(|f| &f.value) {
            Some(Value::Editor(e)) => e.0.text(),
            _ => String::new(),
        }
    }

    /// Whether the focused field is multi-line text.
    pub fn editing_lines(&self) -> bool {
        matches!(
            self.fields.get(self.focus).map(|f| &f.value),
            Some(Value::Editor(_))
        )
    }

    /// The field with this key.
    pub fn get(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Clears every error.
    pub fn clear_errors(&mut self) {
        for f in &mut self.fields {
            f.error = None;
        }
    }

    /// Marks a field wrong.
    pub fn set_error(&mut self, key: &str, msg: impl Into<String>) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.key == key) {
            f.error = Some(msg.into());
        }
    }

    /// Whether any field is marked wrong.
    pub fn has_errors(&self) -> bool {
        self.fields.iter().any(|f| f.error.is_some())
    }

    /// A toggle's state.
    pub fn toggle(&self, key: &str) -> bool {
        matches!(self.get(key).map(|f| &f.value), Some(Value::Toggle(true)))
    }

    /// A choice's chosen option.
    pub fn choice(&self, key: &str) -> &str {
        match self.get(key).map(|f| &f.value) {
            Some(Value::Choice { options, at }) => &options[*at],
            _ => "",
        }
    }

    /// A list's chosen entries.
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.get(key).map(|f| &f.value) {
            Some(Value::List { chosen, .. }) => chosen.clone(),
            _ => Vec::new(),
        }
    }

    /// A text field's text, trimmed (`None` when empty).
    pub fn text(&self, key: &str) -> Option<String> {
        match self.get(key).map(|f| &f.value) {
            Some(Value::Text(t)) if !t.trim().is_empty() => Some(t.clone()),
            _ => None,
        }
    }

    /// A number field read back: `Ok(None)` when empty, an error in words when it is not a
    /// number or is outside `min..=max`; the error is also marked on the field.
    pub fn number(&mut self, key: &str, min: f64, max: f64) -> Result<Option<f64>, Marked> {
        let text = match self.get(key).map(|f| &f.value) {
            Some(Value::Number { text, .. }) => text.trim().to_string(),
            _ => return Ok(None),
        };
        if text.is_empty() {
            return Ok(None);
        }
        let err = match text.parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => return Ok(Some(v)),
            Ok(v) => format!("{v} is outside {min}–{max}"),
            Err(_) => format!("“{text}” is not a number"),
        };
        self.set_error(key, err);
        Err(Marked)
    }
}

fn push(t: &mut String, c: char) -> bool {
    if t.chars().count() >= MAX_FIELD_CHARS || c.is_control() {
        return false;
    }
    t.push(c);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Form {
        Form::new(vec![
            Field::new("t", "toggle", Value::Toggle(false)),
            Field::new(
                "c",
                "choice",
                Value::Choice {
                    options: vec!["a".into(), "b".into(), "c".into()],
                    at: 0,
                },
            ),
            Field::new(
                "n",
                "number",
                Value::Number {
                    text: String::new(),
                    unit: "s",
                },
            ),
            Field::new(
                "l",
                "list",
                Value::List {
                    candidates: vec!["x".into(), "y".into()],
                    chosen: vec![],
                    at: 0,
                },
            ),
            Field::new("s", "text", Value::Text(String::new())),
        ])
    }

    #[test]
    fn the_same_keys_edit_every_kind_of_field() {
        let mut f = form();
        assert_eq!(f.key(Some(Action::Toggle), None), Outcome::Changed);
        assert!(f.toggle("t"));
        f.key(Some(Action::Select(1)), None);
        f.key(Some(Action::Sideways(-1)), None);
        assert_eq!(f.choice("c"), "c", "← wraps around");
        f.key(Some(Action::Select(1)), None);
        for c in "2.5".chars() {
            f.key(None, Some(c));
        }
        assert_eq!(f.number("n", 0.0, 10.0), Ok(Some(2.5)));
        f.key(Some(Action::Select(1)), None);
        f.key(Some(Action::Sideways(1)), None);
        f.key(Some(Action::Toggle), None);
        f.key(Some(Action::Sideways(1)), None);
        f.key(Some(Action::Toggle), None);
        assert_eq!(f.list("l"), ["y", "x"], "in the order chosen");
        f.key(Some(Action::Select(1)), None);
        for c in "hi there".chars() {
            let a = (c == ' ').then_some(Action::Toggle);
            f.key(a, if c == ' ' { None } else { Some(c) });
        }
        assert_eq!(f.text("s").as_deref(), Some("hi there"));
        assert_eq!(f.key(Some(Action::Select(1)), None), Outcome::Moved);
        assert_eq!(f.focus, 0, "↓ past the last field wraps to the first");
        assert_eq!(f.key(Some(Action::Choose), None), Outcome::Apply);
        assert_eq!(f.key(Some(Action::Close), None), Outcome::Close);
    }

    #[test]
    fn a_bad_number_is_marked_at_its_field() {
        let mut f = form();
        f.focus = 2;
        for c in "1x".chars() {
            f.key(None, Some(c));
        }
        assert_eq!(f.number("n", 0.0, 10.0), Err(Marked));
        assert_eq!(
            f.get("n").unwrap().error.as_deref(),
            Some("“1x” is not a number")
        );
        f.clear_errors();
        f.key(Some(Action::Erase), None);
        f.key(Some(Action::Erase), None);
        f.key(None, Some('-'));
        f.key(None, Some('1'));
        assert_eq!(f.number("n", 0.0, 10.0), Err(Marked));
        assert_eq!(
            f.get("n").unwrap().error.as_deref(),
            Some("-1 is outside 0–10")
        );
    }

    #[test]
    fn multi_line_text_takes_enter_and_paste_and_arrows_leave_it_at_its_ends() {
        let mut f = Form::new(vec![
            Field::new("a", "a", Value::Toggle(false)),
            Field::new("e", "e", Value::Editor(Box::new(Editor::with_text("{\n}")))),
            Field::new("b", "b", Value::Toggle(false)),
        ]);
        f.key(Some(Action::Select(1)), None);
        assert!(f.editing_lines());
        assert_eq!(
            f.key(Some(Action::Choose), None),
            Outcome::Changed,
            "Enter is a new line"
        );
        assert_eq!(f.paste("\"x\": 1\r\n"), Outcome::Changed);
        assert_eq!(f.editor_text("e"), "\n\"x\": 1\n{\n}");
        assert_eq!(
            f.key(Some(Action::Apply), None),
            Outcome::Apply,
            "Ctrl+S applies"
        );
        // ↓ moves inside the text until its last line, then to the next field.
        assert_eq!(f.key(Some(Action::Select(1)), None), Outcome::Moved);
        assert_eq!(f.focus, 1, "from the third line to the last");
        f.key(Some(Action::Select(1)), None);
        assert_eq!(f.focus, 2, "past the last line");
        f.key(Some(Action::NextField(-1)), None);
        assert_eq!(f.focus, 1);
        f.key(Some(Action::NextField(-1)), None);
        assert_eq!(f.focus, 0, "Shift+Tab leaves from anywhere in the text");
    }
}
