//! Unicode-width-correct word wrapping of plain text.

use unicode_width::UnicodeWidthChar;

/// Wraps `text` to lines of at most `width` display columns, breaking at spaces when it can and
/// inside words when it must. Existing newlines are kept; tabs become four spaces.
pub fn wrap_plain(text: &str, width: u16) -> Vec<String> {
    let width = width.max(1) as usize;
    let mut out = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.trim_end_matches('\r').replace('\t', "    ");
        let mut line = String::new();
        let mut line_w = 0;
        // Position in `line` just after the last space, with the width up to there.
        let mut last_space: Option<(usize, usize)> = None;
        for ch in raw.chars() {
            let cw = ch.width().unwrap_or(0);
            if line_w + cw > width && line_w > 0 {
                match last_space {
                    Some((byte, w)) if ch != ' ' && byte < line.len() => {
                        let rest = line.split_off(byte);
                        out.push(line.trim_end().to_string());
                        line = rest;
                        line_w -= w;
                    }
                    _ => {
                        out.push(line.trim_end().to_string());
                        line = String::new();
                        line_w = 0;
                    }
                }
                last_space = None;
                if ch == ' ' && line.is_empty() {
                    continue;
                }
            }
            line.push(ch);
            line_w += cw;
            if ch == ' ' {
                last_space = Some((line.len(), line_w));
            }
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap_plain("hello big world", 9), vec!["hello big", "world"]);
        assert_eq!(wrap_plain("a\nb", 10), vec!["a", "b"]);
    }

    #[test]
    fn breaks_long_words_and_wide_chars() {
        let l = wrap_plain("abcdefghij", 4);
        assert_eq!(l, vec!["abcd", "efgh", "ij"]);
        let l = wrap_plain("漢字漢字漢", 4);
        assert!(l.iter().all(|s| s.width() <= 4), "{l:?}");
        assert_eq!(l.concat(), "漢字漢字漢");
    }

    #[test]
    fn never_exceeds_width() {
        let text =
            "The quick brown 🦀 fox jumps over the lazy dog, again and again; 漢字 mixed in.";
        for w in 1..30 {
            for l in wrap_plain(text, w) {
                // A character wider than the whole width can only stand alone.
                assert!(
                    l.width() <= w as usize || l.chars().count() == 1,
                    "{w}: {l:?}"
                );
            }
        }
    }
}
