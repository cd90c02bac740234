//! Terminal input bytes to key, paste and mouse events. Pure: the reader feeds it bytes and, when
//! the terminal has been quiet for a moment, asks it to give up on an unfinished sequence.
//!
//! Ours rather than crossterm's because an unfinished sequence must never hold the keyboard:
//! Alt+[ then `?` left crossterm waiting for a final byte that never came, and every key after
//! it, Ctrl+Q included, was swallowed. Here a byte that cannot continue a sequence ends it (the
//! sequence becomes the keys that were typed), so does a quiet moment, and sequences, pastes and
//! undecodable text all have a size bound. A burst of plain keys far faster than typing (a paste
//! from a terminal without bracketed paste) becomes one paste, so it is one edit and Enter inside
//! it does not send.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

/// Longest escape sequence accepted; longer is not a key and is given back as typed keys.
const MAX_SEQUENCE: usize = 64;
/// Plain keys in one read from which the read is taken for a paste: far past typing speed.
pub const BURST: usize = 16;

/// What the parser produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A terminal event.
    Event(Event),
    /// A paste larger than the limit: its size; the text itself was not kept.
    PasteTooLarge(usize),
    /// An operating system command the terminal sent (the answer to a query such as OSC 11,
    /// the background colour): its text between `ESC ]` and the terminator.
    Osc(String),
}

/// Incremental parser state.
#[derive(Debug)]
pub struct Parser {
    buf: Vec<u8>,
    paste: Option<Vec<u8>>,
    /// Bytes of the current paste, counted past the limit.
    paste_len: usize,
    max_paste: usize,
}

enum Step {
    /// An event, and the bytes it used.
    Done(Option<Event>, usize),
    /// The bytes so far may be the start of a sequence: wait for more (or a quiet moment).
    More,
    /// Bracketed paste begins after these bytes.
    PasteStart(usize),
    /// An OSC sequence's text, and the bytes it used.
    Osc(String, usize),
    /// Not a sequence: the first byte is a key by itself (Alt+ the next when it is ESC).
    Literal,
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<Event> {
    Some(Event::Key(KeyEvent::new(code, modifiers)))
}

/// Modifiers from an xterm modifier parameter (1 + bits: shift 1, alt 2, ctrl 4).
fn mods(p: u16) -> KeyModifiers {
    let b = p.saturating_sub(1);
    let mut m = KeyModifiers::NONE;
    if b & 1 != 0 {
        m |= KeyModifiers::SHIFT;
    }
    if b & 2 != 0 {
        m |= KeyModifiers::ALT;
    }
    if b & 4 != 0 {
        m |= KeyModifiers::CONTROL;
    }
    m
}

/// A single byte that is a key by itself (controls, ASCII), as a terminal in raw mode sends it.
fn byte_key(b: u8) -> Option<Event> {
    let ctrl = KeyModifiers::CONTROL;
    match b {
        b'\r' => key(KeyCode::Enter, KeyModifiers::NONE),
        b'\t' => key(KeyCode::Tab, KeyModifiers::NONE),
        0x7f | 0x08 => key(KeyCode::Backspace, KeyModifiers::NONE),
        0x1b => key(KeyCode::Esc, KeyModifiers::NONE),
        0x00 => key(KeyCode::Char(' '), ctrl),
        0x01..=0x1a => key(KeyCode::Char((b - 1 + b'a') as char), ctrl),
        0x1c..=0x1f => key(KeyCode::Char((b - 0x1c + b'4') as char), ctrl),
        0x20..=0x7e => key(KeyCode::Char(b as char), KeyModifiers::NONE),
        _ => None,
    }
}

/// Length of the UTF-8 character starting with `b` (0: not a start byte).
fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 0,
    }
}

impl Parser {
    /// A parser that keeps pastes up to `max_paste` bytes.
    pub fn new(max_paste: usize) -> Self {
        Parser {
            buf: Vec::new(),
            paste: None,
            paste_len: 0,
            max_paste,
        }
    }

    /// Whether bytes are held waiting for the rest of a sequence, a character or a paste.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty() || self.paste.is_some()
    }

    /// Whether a bracketed paste is under way (the reader waits longer for it).
    pub fn in_paste(&self) -> bool {
        self.paste.is_some()
    }

    /// Parses `bytes`, appending finished events to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Input>) {
        self.buf.extend_from_slice(bytes);
        self.run(out, false);
    }

    /// The terminal went quiet with a sequence unfinished: it was typed, not sent by the
    /// terminal, so its bytes become keys (a lone ESC is the Esc key; an unended paste gives
    /// back what was typed after its opening).
    pub fn flush(&mut self, out: &mut Vec<Input>) {
        if let Some(p) = self.paste.take() {
            let mut replay = b"\x1b[200~".to_vec();
            replay.extend_from_slice(&p);
            replay.extend_from_slice(&self.buf);
            self.buf = replay;
            self.paste_len = 0;
        }
        self.run(out, true);
    }

    fn run(&mut self, out: &mut Vec<Input>, quiet: bool) {
        let mut at = 0;
        // In a replayed paste opening, the opening itself must not start a paste again.
        let mut literal_once = quiet && self.buf.starts_with(b"\x1b[200~");
        while at < self.buf.len() {
            if self.paste.is_some() {
                let (n, wait) = self.take_paste(at, out);
                at += n;
                if wait {
                    break;
                }
                continue;
            }
            let rest = &self.buf[at..];
            let step = if literal_once {
                literal_once = false;
                Step::Literal
            } else {
                parse(rest)
            };
            match step {
                Step::Done(ev, n) => {
                    out.extend(ev.map(Input::Event));
                    at += n;
                }
                Step::Osc(text, n) => {
                    out.push(Input::Osc(text));
                    at += n;
                }
                // While flushing, an opening met again is typed text too: a flush never leaves
                // a paste open.
                Step::PasteStart(_) if quiet => {
                    let (ev, n) = alt(&rest[1..]);
                    out.extend(ev.map(Input::Event));
                    at += n + 1;
                }
                Step::PasteStart(n) => {
                    self.paste = Some(Vec::new());
                    self.paste_len = 0;
                    at += n;
                }
                Step::More if !quiet => break,
                Step::More | Step::Literal => {
                    // The first byte stands alone: ESC followed by something that is not a
                    // sequence is Alt+ that thing; anything else is its own key.
                    let n = if rest[0] == 0x1b && rest.len() > 1 && rest[1] != 0x1b {
                        let (ev, n) = alt(&rest[1..]);
                        out.extend(ev.map(Input::Event));
                        n + 1
                    } else if rest[0] >= 0x80 {
                        // A character cut short or undecodable bytes: shown as U+FFFD.
                        let n = utf8_len(rest[0]).clamp(1, rest.len());
                        out.push(Input::Event(Event::Key(KeyEvent::new(
                            KeyCode::Char(char::REPLACEMENT_CHARACTER),
                            KeyModifiers::NONE,
                        ))));
                        n
                    } else {
                        out.extend(byte_key(rest[0]).map(Input::Event));
                        1
                    };
                    at += n;
                }
            }
        }
        self.buf.drain(..at);
    }

    /// Consumes paste bytes from `self.buf[at..]`: how many, and whether to wait for more.
    fn take_paste(&mut self, at: usize, out: &mut Vec<Input>) -> (usize, bool) {
        const END: &[u8] = b"\x1b[201~";
        let rest = &self.buf[at..];
        let found = find(rest, END);
        // Without the end marker, keep back what could be its start for the next read.
        let body = found.unwrap_or_else(|| {
            let hold = (1..END.len())
                .rev()
                .find(|&n| rest.ends_with(&END[..n]))
                .unwrap_or(0);
            rest.len() - hold
        });
        let p = self.paste.as_mut().expect("in a paste");
        let room = self.max_paste.saturating_sub(p.len());
        p.extend_from_slice(&rest[..body.min(room)]);
        self.paste_len += body;
        let Some(i) = found else {
            return (body, true);
        };
        let text = self.paste.take().unwrap_or_default();
        if self.paste_len > self.max_paste {
            out.push(Input::PasteTooLarge(self.paste_len));
        } else {
            out.push(Input::Event(Event::Paste(
                String::from_utf8_lossy(&text).into_owned(),
            )));
        }
        self.paste_len = 0;
        (i + END.len(), false)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Alt + the key the bytes start with.
fn alt(rest: &[u8]) -> (Option<Event>, usize) {
    let b = rest[0];
    if b >= 0x80 {
        let n = utf8_len(b);
        if n > 1
            && rest.len() >= n
            && let Ok(s) = std::str::from_utf8(&rest[..n])
            && let Some(c) = s.chars().next()
        {
            return (key(KeyCode::Char(c), KeyModifiers::ALT), n);
        }
        return (None, 1);
    }
    let ev = byte_key(b).map(|e| match e {
        Event::Key(mut k) => {
            k.modifiers |= KeyModifiers::ALT;
            Event::Key(k)
        }
        e => e,
    });
    (ev, 1)
}

/// One step over the start of `b` (non-empty).
fn parse(b: &[u8]) -> Step {
    match b[0] {
        0x1b => parse_escape(b),
        0x80.. => {
            let n = utf8_len(b[0]);
            if n == 0 {
                return Step::Literal;
            }
            if b.len() < n {
                // Wait, unless a byte already shows this is not UTF-8.
                return if b[1..].iter().all(|&c| (0x80..0xc0).contains(&c)) {
                    Step::More
                } else {
                    Step::Literal
                };
            }
            match std::str::from_utf8(&b[..n]) {
                Ok(s) => Step::Done(
                    s.chars()
                        .next()
                        .and_then(|c| key(KeyCode::Char(c), KeyModifiers::NONE)),
                    n,
                ),
                Err(_) => Step::Literal,
            }
        }
        c => Step::Done(byte_key(c), 1),
    }
}

fn parse_escape(b: &[u8]) -> Step {
    if b.len() == 1 {
        return Step::More;
    }
    match b[1] {
        b'[' => parse_csi(b),
        b']' => parse_osc(b),
        b'O' => {
            if b.len() == 2 {
                return Step::More;
            }
            let code = match b[2] {
                b'P' => KeyCode::F(1),
                b'Q' => KeyCode::F(2),
                b'R' => KeyCode::F(3),
                b'S' => KeyCode::F(4),
                b'A' => KeyCode::Up,
                b'B' => KeyCode::Down,
                b'C' => KeyCode::Right,
                b'D' => KeyCode::Left,
                b'H' => KeyCode::Home,
                b'F' => KeyCode::End,
                b'M' => KeyCode::Enter,
                _ => return Step::Literal,
            };
            Step::Done(key(code, KeyModifiers::NONE), 3)
        }
        // ESC ESC: the first is Esc; the second starts afresh.
        0x1b => Step::Done(key(KeyCode::Esc, KeyModifiers::NONE), 1),
        _ => Step::Literal,
    }
}

/// Longest OSC answer taken (a colour report is about 25 bytes).
const MAX_OSC: usize = 1024;

/// `ESC ] text (BEL | ESC \)`: a terminal's answer. Unterminated, it waits for more (or a
/// quiet moment, when its bytes were typed keys: Alt+] and what followed).
fn parse_osc(b: &[u8]) -> Step {
    let body = &b[2..];
    let end = body.iter().enumerate().find_map(|(i, &c)| match c {
        0x07 => Some((i, 1)),
        0x1b if body.get(i + 1) == Some(&b'\\') => Some((i, 2)),
        _ => None,
    });
    match end {
        Some((i, t)) => Step::Osc(String::from_utf8_lossy(&body[..i]).into_owned(), 2 + i + t),
        None if b.len() < MAX_OSC => Step::More,
        None => Step::Literal,
    }
}

fn parse_csi(b: &[u8]) -> Step {
    // ESC [ M b x y: the legacy mouse report, three raw bytes.
    if b.get(2) == Some(&b'M') {
        if b.len() < 6 {
            return Step::More;
        }
        let (cb, x, y) = (
            b[3].wrapping_sub(32),
            b[4].wrapping_sub(33),
            b[5].wrapping_sub(33),
        );
        return Step::Done(mouse(cb as u16, x as u16, y as u16, false), 6);
    }
    // Parameters 0x30–0x3F, intermediates 0x20–0x2F, then one final byte 0x40–0x7E.
    let mut i = 2;
    while i < b.len() {
        match b[i] {
            0x20..=0x3f => i += 1,
            0x40..=0x7e => return Step::Done(csi_event(&b[2..i], b[i]), i + 1).or_paste(b, i),
            _ => return Step::Literal,
        }
        if i > MAX_SEQUENCE {
            return Step::Literal;
        }
    }
    Step::More
}

impl Step {
    fn or_paste(self, b: &[u8], i: usize) -> Step {
        if &b[2..=i] == b"200~" {
            Step::PasteStart(i + 1)
        } else {
            self
        }
    }
}

fn params(p: &[u8]) -> Vec<u16> {
    std::str::from_utf8(p)
        .unwrap_or("")
        .split(';')
        .map(|s| {
            s.split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        })
        .collect()
}

fn csi_event(p: &[u8], fin: u8) -> Option<Event> {
    if p.first() == Some(&b'<') {
        let v = params(&p[1..]);
        if v.len() == 3 && matches!(fin, b'M' | b'm') {
            return mouse(
                v[0],
                v[1].saturating_sub(1),
                v[2].saturating_sub(1),
                fin == b'm',
            );
        }
        return None;
    }
    if p.first().is_some_and(|c| matches!(c, b'?' | b'>' | b'=')) {
        // Replies to queries (device attributes, keyboard flags): not keys.
        return None;
    }
    let v = params(p);
    let m = v.get(1).copied().map(mods).unwrap_or(KeyModifiers::NONE);
    let code = match fin {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P' => KeyCode::F(1),
        b'Q' => KeyCode::F(2),
        b'R' => KeyCode::F(3),
        b'S' => KeyCode::F(4),
        b'Z' => return key(KeyCode::BackTab, KeyModifiers::SHIFT),
        b'I' if p.is_empty() => return Some(Event::FocusGained),
        b'O' if p.is_empty() => return Some(Event::FocusLost),
        b'~' => match v.first().copied().unwrap_or(0) {
            1 | 7 => KeyCode::Home,
            2 => KeyCode::Insert,
            3 => KeyCode::Delete,
            4 | 8 => KeyCode::End,
            5 => KeyCode::PageUp,
            6 => KeyCode::PageDown,
            n @ 11..=15 => KeyCode::F((n - 10) as u8),
            n @ 17..=21 => KeyCode::F((n - 11) as u8),
            n @ 23..=26 => KeyCode::F((n - 12) as u8),
            n @ 28..=29 => KeyCode::F((n - 15) as u8),
            n @ 31..=34 => KeyCode::F((n - 17) as u8),
            _ => return None,
        },
        b'u' => return kitty_key(p, &v, m),
        _ => return None,
    };
    key(code, m)
}

/// The kitty keyboard protocol's `CSI code ; mods[:event] u`.
fn kitty_key(p: &[u8], v: &[u16], m: KeyModifiers) -> Option<Event> {
    // Event type 3 is a release: not a key press.
    let event = std::str::from_utf8(p)
        .ok()
        .and_then(|s| s.split(';').nth(1))
        .and_then(|s| s.split(':').nth(1))
        .and_then(|s| s.parse::<u8>().ok());
    if event == Some(3) {
        return None;
    }
    let code = match v.first().copied().unwrap_or(0) {
        13 => KeyCode::Enter,
        9 => KeyCode::Tab,
        27 => KeyCode::Esc,
        127 | 8 => KeyCode::Backspace,
        n => KeyCode::Char(char::from_u32(n as u32).filter(|c| !c.is_control())?),
    };
    let code = match code {
        KeyCode::Tab if m.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
        c => c,
    };
    Some(Event::Key(KeyEvent::new_with_kind(
        code,
        m,
        KeyEventKind::Press,
    )))
}

/// An SGR or legacy mouse report.
fn mouse(cb: u16, x: u16, y: u16, release: bool) -> Option<Event> {
    let mut modifiers = KeyModifiers::NONE;
    if cb & 4 != 0 {
        modifiers |= KeyModifiers::SHIFT;
    }
    if cb & 8 != 0 {
        modifiers |= KeyModifiers::ALT;
    }
    if cb & 16 != 0 {
        modifiers |= KeyModifiers::CONTROL;
    }
    let button = match cb & 3 {
        0 => MouseButton::Left,
        1 => MouseButton::Middle,
        _ => MouseButton::Right,
    };
    let kind = if cb & 64 != 0 {
        match cb & 3 {
            0 => MouseEventKind::ScrollUp,
            1 => MouseEventKind::ScrollDown,
            2 => MouseEventKind::ScrollLeft,
            _ => MouseEventKind::ScrollRight,
        }
    } else if cb & 32 != 0 {
        if cb & 3 == 3 {
            MouseEventKind::Moved
        } else {
            MouseEventKind::Drag(button)
        }
    } else if release || cb & 3 == 3 {
        MouseEventKind::Up(button)
    } else {
        MouseEventKind::Down(button)
    };
    Some(Event::Mouse(MouseEvent {
        kind,
        column: x,
        row: y,
        modifiers,
    }))
}

/// Whether a key is plain text a paste is made of.
fn paste_text(e: &Input) -> Option<char> {
    let Input::Event(Event::Key(k)) = e else {
        return None;
    };
    if k.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    match k.code {
        KeyCode::Char(c) => Some(c),
        KeyCode::Enter => Some('\n'),
        KeyCode::Tab => Some('\t'),
        _ => None,
    }
}

/// Runs of at least `BURST` plain keys from one read become one paste, Enter inside it a
/// newline. An Enter that ends such a run is held back (the `bool` returned): the reader gives it
/// as a key when the terminal stays quiet for a moment (`tmux send-keys 'text' Enter`, scripts),
/// and passes `held` to the next call when more bytes come at once, which continues the paste.
pub fn coalesce(events: Vec<Input>, held: bool) -> (Vec<Input>, bool) {
    let enter = || {
        Input::Event(Event::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )))
    };
    if events.len() < BURST && !held {
        return (events, false);
    }
    let mut out = Vec::with_capacity(events.len());
    let mut run: Vec<char> = Vec::new();
    let mut keys: Vec<Input> = Vec::new();
    // A held Enter continues into this read's first run, however short.
    let mut burst = held;
    if held {
        run.push('\n');
    }
    let flush = |run: &mut Vec<char>, keys: &mut Vec<Input>, burst: bool, out: &mut Vec<Input>| {
        if burst || run.len() >= BURST {
            out.push(Input::Event(Event::Paste(run.iter().collect())));
        } else {
            out.append(keys);
        }
        run.clear();
        keys.clear();
    };
    for e in events {
        if let Some(c) = paste_text(&e) {
            run.push(c);
            keys.push(e);
        } else {
            if held && burst && run.len() == 1 {
                // Nothing followed the held Enter but this: it was a key after all.
                run.clear();
                out.push(enter());
            } else {
                flush(&mut run, &mut keys, burst, &mut out);
            }
            burst = false;
            out.push(e);
        }
    }
    let is_burst = burst || run.len() >= BURST;
    let hold = is_burst && run.last() == Some(&'\n');
    if hold {
        run.pop();
        keys.pop();
    }
    if !run.is_empty() {
        flush(&mut run, &mut keys, burst || hold, &mut out);
    }
    (out, hold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(bytes: &[u8]) -> Vec<Input> {
        let mut p = Parser::new(1 << 20);
        let mut out = Vec::new();
        p.feed(bytes, &mut out);
        out
    }

    fn k(code: KeyCode, m: KeyModifiers) -> Input {
        Input::Event(Event::Key(KeyEvent::new(code, m)))
    }

    const N: KeyModifiers = KeyModifiers::NONE;

    #[test]
    fn a_terminals_osc_answer_is_one_input_in_any_split_and_a_typed_alt_bracket_stays_keys() {
        let reply = b"\x1b]11;rgb:1e1e/1e1e/2e2e\x1b\\a";
        let want = vec![
            Input::Osc("11;rgb:1e1e/1e1e/2e2e".into()),
            k(KeyCode::Char('a'), N),
        ];
        assert_eq!(keys(reply), want);
        assert_eq!(
            keys(b"\x1b]11;rgb:ff/ff/ff\x07")[0],
            Input::Osc("11;rgb:ff/ff/ff".into())
        );
        for cut in 1..reply.len() {
            let mut p = Parser::new(1 << 20);
            let mut out = Vec::new();
            p.feed(&reply[..cut], &mut out);
            p.feed(&reply[cut..], &mut out);
            assert_eq!(out, want, "split at {cut}");
        }
        // Alt+] then `x`, typed: the terminal goes quiet with no terminator.
        let mut p = Parser::new(1 << 20);
        let mut out = Vec::new();
        p.feed(b"\x1b]x", &mut out);
        assert!(out.is_empty() && p.pending());
        p.flush(&mut out);
        assert_eq!(
            out,
            [
                k(KeyCode::Char(']'), KeyModifiers::ALT),
                k(KeyCode::Char('x'), N)
            ]
        );
    }

    #[test]
    fn plain_keys_controls_and_utf8() {
        assert_eq!(
            keys("a\r\t\x7f\x11é".as_bytes()),
            [
                k(KeyCode::Char('a'), N),
                k(KeyCode::Enter, N),
                k(KeyCode::Tab, N),
                k(KeyCode::Backspace, N),
                k(KeyCode::Char('q'), KeyModifiers::CONTROL),
                k(KeyCode::Char('é'), N),
            ]
        );
    }

    #[test]
    fn arrows_function_keys_and_modifiers() {
        assert_eq!(
            keys(b"\x1b[A\x1b[1;5C\x1bOP\x1b[17~\x1b[3;2~\x1b[Z"),
            [
                k(KeyCode::Up, N),
                k(KeyCode::Right, KeyModifiers::CONTROL),
                k(KeyCode::F(1), N),
                k(KeyCode::F(6), N),
                k(KeyCode::Delete, KeyModifiers::SHIFT),
                k(KeyCode::BackTab, KeyModifiers::SHIFT),
            ]
        );
    }

    #[test]
    fn kitty_keys_and_releases() {
        assert_eq!(
            keys(b"\x1b[13;2u\x1b[97;5u\x1b[97;5:3u"),
            [
                k(KeyCode::Enter, KeyModifiers::SHIFT),
                k(KeyCode::Char('a'), KeyModifiers::CONTROL),
            ]
        );
    }

    #[test]
    fn sgr_mouse_wheel_and_clicks() {
        let out = keys(b"\x1b[<64;10;5M\x1b[<0;3;4M\x1b[<0;3;4m");
        let kinds: Vec<_> = out
            .iter()
            .map(|e| match e {
                Input::Event(Event::Mouse(m)) => (m.kind, m.column, m.row),
                e => panic!("{e:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (MouseEventKind::ScrollUp, 9, 4),
                (MouseEventKind::Down(MouseButton::Left), 2, 3),
                (MouseEventKind::Up(MouseButton::Left), 2, 3),
            ]
        );
    }

    #[test]
    fn alt_keys_and_a_lone_escape_after_a_quiet_moment() {
        let mut p = Parser::new(100);
        let mut out = Vec::new();
        p.feed(b"\x1bx\x1b", &mut out);
        assert_eq!(out, [k(KeyCode::Char('x'), KeyModifiers::ALT)]);
        assert!(p.pending());
        p.flush(&mut out);
        assert_eq!(out[1], k(KeyCode::Esc, N));
        assert!(!p.pending());
    }

    #[test]
    fn an_unfinished_sequence_never_swallows_ctrl_q() {
        // Alt+[ then ? then Ctrl+Q: crossterm waited for a final byte forever.
        assert_eq!(
            keys(b"\x1b[?\x11"),
            [
                k(KeyCode::Char('['), KeyModifiers::ALT),
                k(KeyCode::Char('?'), N),
                k(KeyCode::Char('q'), KeyModifiers::CONTROL),
            ]
        );
        // Alt+[ then ?, then quiet: the keys as typed.
        let mut p = Parser::new(100);
        let mut out = Vec::new();
        p.feed(b"\x1b[?", &mut out);
        assert!(out.is_empty() && p.pending());
        p.flush(&mut out);
        assert_eq!(
            out,
            [
                k(KeyCode::Char('['), KeyModifiers::ALT),
                k(KeyCode::Char('?'), N)
            ]
        );
    }

    #[test]
    fn a_typed_paste_opening_gives_its_keys_back_after_a_quiet_moment() {
        // Alt+[ 2 0 0 ~ then Ctrl+Q: looks like a paste opening, but no paste follows.
        let mut p = Parser::new(100);
        let mut out = Vec::new();
        p.feed(b"\x1b[200~", &mut out);
        p.feed(b"\x11", &mut out);
        assert!(out.is_empty() && p.in_paste());
        p.flush(&mut out);
        assert_eq!(out.first(), Some(&k(KeyCode::Char('['), KeyModifiers::ALT)));
        assert_eq!(
            out.last(),
            Some(&k(KeyCode::Char('q'), KeyModifiers::CONTROL))
        );
        assert!(!p.pending());
    }

    #[test]
    fn a_flush_never_leaves_a_paste_open_even_with_an_opening_inside() {
        // Found by the fuzzer: a paste whose body holds a second opening, then quiet.
        let mut p = Parser::new(100);
        let mut out = Vec::new();
        p.feed(b"\x1b[200~paste\r\x1b[200~more\x1b[?\x11", &mut out);
        assert!(p.pending());
        p.flush(&mut out);
        assert!(!p.pending());
        assert_eq!(
            out.last(),
            Some(&k(KeyCode::Char('q'), KeyModifiers::CONTROL))
        );
    }

    #[test]
    fn bracketed_paste_across_reads_including_a_split_end_marker() {
        let mut p = Parser::new(1000);
        let mut out = Vec::new();
        p.feed(b"x\x1b[200~hello\r", &mut out);
        p.feed(b"world\x1b[2", &mut out);
        assert_eq!(out, [k(KeyCode::Char('x'), N)]);
        p.feed(b"01~y", &mut out);
        assert_eq!(
            out[1..],
            [
                Input::Event(Event::Paste("hello\rworld".into())),
                k(KeyCode::Char('y'), N)
            ]
        );
    }

    #[test]
    fn a_paste_over_the_limit_keeps_only_its_size() {
        let mut p = Parser::new(10);
        let mut out = Vec::new();
        p.feed(b"\x1b[200~", &mut out);
        for _ in 0..100 {
            p.feed(&[b'a'; 1000], &mut out);
        }
        assert!(
            p.paste.as_ref().unwrap().len() <= 10,
            "memory stays bounded"
        );
        p.feed(b"\x1b[201~", &mut out);
        assert_eq!(out, [Input::PasteTooLarge(100_000)]);
    }

    #[test]
    fn a_long_garbage_sequence_is_given_back_as_keys() {
        let mut seq = b"\x1b[".to_vec();
        seq.extend_from_slice(&[b'1'; 200]);
        let out = keys(&seq);
        assert_eq!(out[0], k(KeyCode::Char('['), KeyModifiers::ALT));
        assert_eq!(out.len(), 201);
    }

    #[test]
    fn a_burst_of_plain_keys_is_one_paste_and_enter_in_it_does_not_send() {
        let (out, held) = coalesce(keys(b"line one\rline two\rthree\x11"), false);
        assert_eq!(
            out,
            [
                Input::Event(Event::Paste("line one\nline two\nthree".into())),
                k(KeyCode::Char('q'), KeyModifiers::CONTROL)
            ]
        );
        assert!(!held);
        // Typing speed: a few keys per read stay keys.
        assert_eq!(coalesce(keys(b"hi\r"), false), (keys(b"hi\r"), false));
    }

    #[test]
    fn the_enter_that_ends_a_burst_waits_to_see_whether_the_paste_goes_on() {
        let (out, held) = coalesce(keys(b"a scripted prompt\r"), false);
        assert_eq!(
            out,
            [Input::Event(Event::Paste("a scripted prompt".into()))]
        );
        assert!(
            held,
            "the reader gives Enter as a key if nothing follows at once"
        );
        // More came at once: the Enter was a newline in the paste, even before a short piece.
        let (out, held) = coalesce(keys(b"end"), true);
        assert_eq!(out, [Input::Event(Event::Paste("\nend".into()))]);
        assert!(!held);
        // A key that is not text came at once: the Enter was a key before it.
        let (out, _) = coalesce(keys(b"\x11"), true);
        assert_eq!(
            out,
            [
                k(KeyCode::Enter, N),
                k(KeyCode::Char('q'), KeyModifiers::CONTROL)
            ]
        );
    }

    proptest! {
        /// Any bytes, cut into reads anywhere: no panic, nothing left held after a quiet moment,
        /// and plain text arrives whole.
        #[test]
        fn any_bytes_in_any_reads(bytes in prop::collection::vec(any::<u8>(), 0..300),
                                  cuts in prop::collection::vec(0usize..300, 0..8)) {
            let mut p = Parser::new(64);
            let mut out = Vec::new();
            let mut last = 0;
            let mut cuts = cuts;
            cuts.sort();
            for c in cuts.into_iter().chain([bytes.len()]) {
                let c = c.min(bytes.len()).max(last);
                p.feed(&bytes[last..c], &mut out);
                last = c;
            }
            p.flush(&mut out);
            prop_assert!(!p.pending());
        }

        #[test]
        fn text_split_anywhere_gives_the_same_keys(s in "[a-zé世 ]{0,40}", cut in 0usize..80) {
            let b = s.as_bytes();
            let cut = cut.min(b.len());
            let mut p = Parser::new(64);
            let mut out = Vec::new();
            p.feed(&b[..cut], &mut out);
            p.feed(&b[cut..], &mut out);
            prop_assert_eq!(out, keys(b));
        }
    }
}
