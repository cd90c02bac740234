//! Text from a server made safe for a terminal: control characters and escape sequences are
//! neutralised (shown as visible symbols, never interpreted), so an answer cannot set the
//! window title, write the clipboard (OSC 52), clear the screen or hide the cursor. Newline and
//! tab stay. Pure: no terminal types.

use std::borrow::Cow;

/// `s` with every control character other than `\n` and `\t` replaced by its visible Unicode
/// control picture (`ESC` → `␛`, `BEL` → `␇`, DEL → `␡`; C1 controls such as the 8-bit CSI →
/// `�`). A `\r` before `\n` is dropped (CRLF line ends), a lone one shown as `␍`. The printable
/// rest of an escape sequence stays, now inert, so nothing received is hidden.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c);
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\u{7f}' => out.push('\u{2421}'),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'))
            }
            c if unsafe_char(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_of_sequence_is_shown_not_obeyed() {
        let cases = [
            "\x1b]0;pwned title\x07",   // window title (OSC 0, BEL)
            "\x1b]52;c;aGVsbG8=\x1b\\", // clipboard write (OSC 52, ST)
            "\x1b[2J\x1b[H",            // clear screen, home
            "\x1b[?25l",                // hide the cursor
            "\u{9b}31m",                // 8-bit CSI
            "\u{9d}0;title\u{9c}",      // 8-bit OSC and ST
            "\x1bPq#0;2;0;0;0\x1b\\",   // DCS (sixel)
            "a\rb",                     // carriage return overwriting a line
            "\x08\x08\x7f",             // backspaces and DEL
        ];
        for c in cases {
            let n = neutralise(c);
            assert!(
                !n.chars()
                    .any(|ch| ch.is_control() || ('\u{80}'..='\u{9f}').contains(&ch)),
                "{c:?} → {n:?}"
            );
        }
        assert_eq!(neutralise("\x1b[2J"), "␛[2J");
        assert_eq!(neutralise("a\r\nb"), "a\nb");
        assert_eq!(neutralise("a\rb"), "a␍b");
    }

    #[test]
    fn ordinary_text_is_untouched_and_not_copied() {
        let s = "Quicksort:\n\tpick a pivot — then «partition» 🚀";
        assert!(matches!(neutralise(s), Cow::Borrowed(_)));
        assert_eq!(neutralise(s), s);
    }
}
