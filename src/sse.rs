//! Server-sent events parser (WHATWG "event stream interpretation"), fed raw bytes in any split.
//!
//! Lines may end in CRLF, LF or CR; a chunk may end anywhere, even inside a UTF-8 character or
//! between the CR and LF of one line break. Only whole lines are decoded, so a split character is
//! never mangled. Comment lines (`: …`) are surfaced separately because OpenRouter uses them as
//! keep-alives, which drive the "waiting" indicator; they are never JSON-parsed.

/// One dispatched event: the joined `data:` lines plus the optional `event:` and `id:` fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// All `data:` lines of the event joined with `\n`.
    pub data: String,
    /// The `id:` field, if any.
    pub id: Option<String>,
}

/// What the parser yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A complete event.
    Event(SseEvent),
    /// A comment line (its text after the colon, leading space removed).
    Comment(String),
}

/// Incremental SSE parser.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// The previous chunk ended in CR, so a leading LF of the next one belongs to that break.
    skip_lf: bool,
    /// Whether the first line has been seen (a leading BOM is dropped there).
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    /// Bytes examined for line breaks so far (tests check that each byte is examined once).
    #[cfg(test)]
    examined: usize,
}

impl SseParser {
    /// A fresh parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes and appends every item they complete to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<SseItem>) {
        if self.skip_lf && !bytes.is_empty() {
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
            self.skip_lf = false;
        }
        // What is left in the buffer holds no line break (every break found was consumed), so
        // the scan resumes at the new bytes: cost stays linear in the bytes of a long line.
        let mut i = self.buf.len();
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        let len = self.buf.len();
        #[cfg(test)]
        {
            self.examined += len - i;
        }
        while i < len {
            let b = self.buf[i];
            if b == b'\n' || b == b'\r' {
                let line_end = i;
                if b == b'\r' {
                    if i + 1 < len {
                        if self.buf[i + 1] == b'\n' {
                            i += 1;
                        }
                    } else {
                        self.skip_lf = true;
                    }
                }
                let line = std::mem::take(&mut self.buf);
                self.process_line(&line[start..line_end], out);
                self.buf = line;
                start = i + 1;
            }
            i += 1;
        }
        self.buf.drain(..start);
    }

    /// Bytes of the event being assembled: its unfinished line and the data lines so far.
    pub fn pending_event_bytes(&self) -> usize {
        self.buf.len() + self.data.len()
    }

    /// Bytes received that do not yet form a complete line (a stream cut mid-line leaves some).
    pub fn pending_bytes(&self) -> usize {
        self.buf.len() + usize::from(self.has_data || self.event.is_some())
    }

    fn process_line(&mut self, mut line: &[u8], out: &mut Vec<SseItem>) {
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = rest;
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let text = String::from_utf8_lossy(line);
        if let Some(comment) = text.strip_prefix(':') {
            out.push(SseItem::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).to_string(),
            ));
            return;
        }
        let (field, value) = match text.find(':') {
            Some(idx) => {
                let v = &text[idx + 1..];
                (&text[..idx], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&text[..], ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            // `retry` and unknown fields are ignored, as the spec says.
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(SseItem::Event(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            // The last event id persists across events, per the spec.
            id: self.id.clone(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
        }
        out
    }

    fn data(s: &str) -> SseItem {
        SseItem::Event(SseEvent {
            event: None,
            data: s.into(),
            id: None,
        })
    }

    #[test]
    fn a_long_line_fed_in_small_reads_is_scanned_once() {
        // A 4 MB `data:` line in 4 KiB reads: rescanning the unfinished line on every read
        // examined ~2 GB; resuming where the scan stopped examines each byte once.
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let line = format!("data: {}\n\n", "x".repeat(4 << 20));
        for chunk in line.as_bytes().chunks(4096) {
            p.feed(chunk, &mut out);
        }
        assert_eq!(out.len(), 1);
        assert!(
            p.examined <= line.len(),
            "examined {} bytes of {}",
            p.examined,
            line.len()
        );
    }

    #[test]
    fn basic_events_and_comments() {
        let items = parse_all(&[b": OPENROUTER PROCESSING\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n"]);
        assert_eq!(
            items,
            vec![
                SseItem::Comment("OPENROUTER PROCESSING".into()),
                data("{\"a\":1}"),
                data("[DONE]")
            ]
        );
    }

    #[test]
    fn multiline_data_is_joined_with_newline() {
        let items = parse_all(&[b"data: one\ndata:two\ndata:  three\n\n"]);
        assert_eq!(items, vec![data("one\ntwo\n three")]);
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        let items = parse_all(&[b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"]);
        assert_eq!(items, vec![data("a"), data("b"), data("c")]);
    }

    #[test]
    fn cr_lf_split_across_chunks_is_one_break() {
        let items = parse_all(&[b"data: a\r", b"\n\r", b"\ndata: b\n\n"]);
        assert_eq!(items, vec![data("a"), data("b")]);
    }

    #[test]
    fn utf8_split_inside_character() {
        let bytes = "data: héllo 🦀\n\n".as_bytes();
        let (a, b) = bytes.split_at(9); // inside "é"
        let (b, c) = b.split_at(b.len() - 4); // inside the crab
        assert_eq!(parse_all(&[a, b, c]), vec![data("héllo 🦀")]);
    }

    #[test]
    fn event_and_id_fields_and_ignored_retry() {
        let items = parse_all(&[b"event: message\nid: 7\nretry: 100\ndata: x\n\ndata: y\n\n"]);
        assert_eq!(
            items,
            vec![
                SseItem::Event(SseEvent {
                    event: Some("message".into()),
                    data: "x".into(),
                    id: Some("7".into())
                }),
                SseItem::Event(SseEvent {
                    event: None,
                    data: "y".into(),
                    id: Some("7".into())
                }),
            ]
        );
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_incomplete_event_is_pending() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.feed(b"event: ping\n\ndata: partial", &mut out);
        assert!(out.is_empty());
        assert!(p.pending_bytes() > 0);
    }

    #[test]
    fn bom_is_stripped() {
        assert_eq!(parse_all(&[b"\xEF\xBB\xBFdata: x\n\n"]), vec![data("x")]);
    }
}
