//! Attachments (pure): what a file is, judged from its bytes and never its name; the facts shown
//! about it (pixels, pages, size, an estimate of its tokens per model); and how it goes on the
//! wire — an `image_url` or `file` part after the text, or, for a PDF no endpoint can read, its
//! locally extracted text. Reading files and URLs is `load`; PDF text comes from `pdf`'s child
//! process; decoding and downscaling images is `picture`.

pub mod fixtures;
pub mod load;
pub mod payload;
pub mod pdf;
pub mod picture;

use crate::wire::request::{ChatRequest, ContentPart, MessageContent, PdfEngine};
use std::sync::Arc;

/// A message's attachments, shared by every pane it went to.
pub type Files = Arc<[Attachment]>;

/// What an attachment is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// WebP image.
    Webp,
    /// GIF image.
    Gif,
    /// PDF document.
    Pdf,
}

impl Kind {
    /// Every kind, in the order they are named to the user.
    pub const ALL: [Kind; 5] = [Kind::Png, Kind::Jpeg, Kind::Webp, Kind::Gif, Kind::Pdf];

    /// The MIME type of a data URL.
    pub const fn mime(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Webp => "image/webp",
            Kind::Gif => "image/gif",
            Kind::Pdf => "application/pdf",
        }
    }

    /// The short name people know it by.
    pub const fn label(self) -> &'static str {
        match self {
            Kind::Png => "PNG",
            Kind::Jpeg => "JPEG",
            Kind::Webp => "WebP",
            Kind::Gif => "GIF",
            Kind::Pdf => "PDF",
        }
    }

    /// An image (sent as `image_url`), not a document (sent as `file`).
    pub const fn is_image(self) -> bool {
        !matches!(self, Kind::Pdf)
    }

    /// The kind a MIME type names.
    pub fn from_mime(mime: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.mime() == mime)
    }
}

/// The kind the bytes are, from their signature (never the file's name).
pub fn detect(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(Kind::Gif)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else if head.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else {
        None
    }
}

/// Why bytes were refused: what they look like instead, worded for a person.
pub fn refusal(head: &[u8]) -> String {
    let what = if head.is_empty() {
        "it is empty (0 bytes)".to_string()
    } else if std::str::from_utf8(&head[..head.len().min(512)]).is_ok() {
        "it is text, not an image or a PDF".to_string()
    } else {
        "its content is not a PNG, JPEG, WebP or GIF image nor a PDF".to_string()
    };
    format!("{what}; attach PNG, JPEG, WebP, GIF or PDF (judged from the content, not the name)")
}

/// An image's width and height read from its header, without decoding it.
pub fn image_size(bytes: &[u8], kind: Kind) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]) as u32);
    let le16 = |i: usize| Some(u16::from_le_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]) as u32);
    let le24 = |i: usize| {
        Some(u32::from_le_bytes([
            *bytes.get(i)?,
            *bytes.get(i + 1)?,
            *bytes.get(i + 2)?,
            0,
        ]))
    };
    let be32 = |i: usize| Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    let size = match kind {
        Kind::Png if bytes.get(12..16) == Some(b"IHDR") => (be32(16)?, be32(20)?),
        Kind::Gif => (le16(6)?, le16(8)?),
        Kind::Webp => match bytes.get(12..16)? {
            b"VP8 " => (le16(26)? & 0x3FFF, le16(28)? & 0x3FFF),
            b"VP8L" => {
                let b = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
                ((b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1)
            }
            b"VP8X" => (le24(24)? + 1, le24(27)? + 1),
            _ => return None,
        },
        Kind::Jpeg => {
            // Walk the markers to the first start-of-frame.
            let mut i = 2;
            loop {
                while *bytes.get(i)? != 0xFF {
                    i += 1;
                }
                while *bytes.get(i)? == 0xFF {
                    i += 1;
                }
                let marker = *bytes.get(i)?;
                i += 1;
                if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
                    continue;
                }
                let len = be16(i)? as usize;
                if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                    break (be16(i + 5)?, be16(i + 3)?);
                }
                i += len;
            }
        }
        _ => return None,
    };
    (size.0 > 0 && size.1 > 0).then_some(size)
}

/// Where an attachment came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A local file (its path as given, made absolute).
    Path(String),
    /// A URL (`https://` images are sent as the URL itself).
    Url(String),
    /// The clipboard.
    Clipboard,
}

/// One attachment, read and checked, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// The name shown and sent as `filename`.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Where it came from.
    pub origin: Origin,
    /// Bytes of the file as read.
    pub size: u64,
    /// SHA-256 of the file as read, in hex.
    pub hash: String,
    /// Images: width and height as sent (after any downscale).
    pub pixels: Option<(u32, u32)>,
    /// Images: the original's width and height, when it was downscaled.
    pub original_pixels: Option<(u32, u32)>,
    /// PDFs: page count.
    pub pages: Option<u32>,
    /// PDFs: the extracted text (the preview's first page, and what a model that cannot read
    /// files gets), bounded by `pdf::MAX_TEXT`.
    pub text: Option<Arc<str>>,
    /// PDFs: the first page's text.
    pub first_page: Option<Arc<str>>,
    /// What goes on the wire: a `data:` URL (in memory only while needed once history has it),
    /// or an `https://` URL sent as it is.
    pub payload: payload::Payload,
}

impl Attachment {
    /// Bytes this attachment adds to a request body.
    pub fn sent_bytes(&self) -> usize {
        self.payload.len()
    }

    /// A short line for chips and lists: `cat.png · PNG 640×480 · 12 KB`.
    pub fn chip(&self) -> String {
        let mut s = format!("{} · {}", self.name, self.kind.label());

        if let Some((w, h)) = self.pixels {
            s.push_str(&format!(" {w}×{h}"));
        }
        if let Some(p) = self.pages {
            s.push_str(&format!(" {p} page{}", if p == 1 { "" } else { "s" }));
        }
        s.push_str(&format!(" · {}", human_bytes(self.size)));
        if self.payload.is_absent() {
            s.push_str(" (kept by path only: not sent again)");
        }
        s
    }

    /// The `image_url` or `file` part this attachment becomes; one whose bytes are only in
    /// history carries the key the runtime reads them back by before the request leaves.
    pub fn part(&self) -> ContentPart {
        match (self.payload.get(), self.payload.key()) {
            (None, Some(key)) if self.kind.is_image() => ContentPart::stored_image(key.clone()),
            (None, Some(key)) => ContentPart::stored_pdf(self.name.clone(), key.clone()),
            (data, _) => {
                let data = data.unwrap_or_else(|| "".into());
                if self.kind.is_image() {
                    ContentPart::image_url(data)
                } else {
                    ContentPart::pdf(self.name.clone(), data)
                }
            }
        }
    }

    /// A PDF as text, for a model no endpoint of which reads files (extracted locally).
    pub fn as_text(&self) -> String {
        let text = self.text.as_deref().unwrap_or("");
        let pages = self.pages.unwrap_or(0);
        format!(
            "[Attached PDF \"{}\", {pages} page{}; its text, extracted by Switchyard:]\n{}\n[End of \"{}\"]",
            self.name,
            if pages == 1 { "" } else { "s" },
            text.trim(),
            self.name
        )
    }

    /// Estimated prompt tokens for `model` (providers count images differently).
    pub fn estimated_tokens(&self, model: &str) -> u64 {
        match (self.kind, self.pixels) {
            (Kind::Pdf, _) => {
                let text = self.text.as_deref().map_or(0, crate::tokens::estimate);
                // Native readers also see each page as an image.
                let per_page = if model.starts_with("anthropic/") || model.starts_with("google/") {
                    258
                } else {
                    0
                };
                text + per_page * u64::from(self.pages.unwrap_or(0))
            }
            (_, Some((w, h))) => image_tokens(model, w, h),
            (_, None) => 1000,
        }
    }
}

/// Image tokens as the model's vendor documents them (OpenAI's 512-px tiles otherwise).
pub fn image_tokens(model: &str, w: u32, h: u32) -> u64 {
    let (w, h) = (u64::from(w), u64::from(h));
    if model.starts_with("anthropic/") {
        // Anthropic: (w·h)/750, after fitting in 1568 px on the long side.
        let scale = (1568.0 / w.max(h) as f64).min(1.0);
        let (w, h) = ((w as f64 * scale) as u64, (h as f64 * scale) as u64);
        (w * h).div_ceil(750).max(1)
    } else if model.starts_with("google/") {
        // Gemini: 258 per 768-px tile, one tile when both sides are at most 384.
        if w <= 384 && h <= 384 {
            258
        } else {
            258 * w.div_ceil(768) * h.div_ceil(768)
        }
    } else {
        // OpenAI high detail: fit in 2048, shortest side to 768, 170 per 512 tile + 85.
        let fit = (2048.0 / w.max(h) as f64).min(1.0);
        let (w, h) = (w as f64 * fit, h as f64 * fit);
        let short = (768.0 / w.min(h)).min(1.0);
        let (w, h) = ((w * short) as u64, (h * short) as u64);
        85 + 170 * w.div_ceil(512) * h.div_ceil(512)
    }
}

/// A message's content: the text first, then each attachment's part (`pdfs_as_text` swaps the
/// PDFs for their text when no endpoint reads files).
pub fn content(text: &str, attachments: &[Attachment]) -> MessageContent {
    if attachments.is_empty() {
        return MessageContent::Text(text.to_string());
    }
    let mut parts = vec![ContentPart::text(text)];
    // One history kept by origin only has nothing to send again.
    parts.extend(
        attachments
            .iter()
            .filter(|a| !a.payload.is_absent())
            .map(Attachment::part),
    );
    MessageContent::Parts(parts)
}

/// `req` with every PDF part of `pdfs` replaced by its extracted text (None when it has none):
/// what goes to a model no endpoint of which reads files.
pub fn pdfs_as_text(req: &ChatRequest, pdfs: &[&Attachment]) -> Option<ChatRequest> {
    if pdfs.is_empty() {
        return None;
    }
    let mut out = req.clone();
    let mut changed = false;
    for m in &mut out.messages {
        let MessageContent::Parts(parts) = &mut m.content else {
            continue;
        };
        for p in parts.iter_mut() {
            let ContentPart::File { file } = p else {
                continue;
            };
            // The same shared bytes the builder put there (never a copy to compare), or the
            // same key when they are still to be read back.
            let found = pdfs.iter().find(|a| match (&file.file_data, &file.stored) {
                (_, Some(key)) => a.payload.key() == Some(key),
                (Some(data), None) => a.payload.get().is_some_and(|d| Arc::ptr_eq(&d, data)),
                (None, None) => false,
            });
            if let Some(a) = found {
                *p = ContentPart::text(a.as_text());
                changed = true;
            }
        }
    }
    changed.then_some(out)
}

/// Caps on what is attached (`[attachments]` in the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest file read.
    pub per_file: u64,
    /// Largest total of one message's files.
    pub per_message: u64,
    /// Images larger than this on their long side are downscaled before sending (None: never).
    pub downscale_to: Option<u32>,
}

impl Default for Limits {
    /// Sized to what providers take: Anthropic's 32 MB request, OpenAI's 50 MB of files.
    fn default() -> Self {
        Self {
            per_file: 32 << 20,
            per_message: 50 << 20,
            downscale_to: Some(2048),
        }
    }
}

impl Limits {
    /// Refuses a file that would pass a cap, saying which.
    pub fn check(&self, size: u64, already: u64) -> Result<(), String> {
        if size > self.per_file {
            return Err(format!(
                "it is {}; one file may be at most {} ([attachments] max_file_mb)",
                human_bytes(size),
                human_bytes(self.per_file)
            ));
        }
        if already + size > self.per_message {
            return Err(format!(
                "with it the message would carry {}; at most {} ([attachments] max_message_mb)",
                human_bytes(already + size),
                human_bytes(self.per_message)
            ));
        }
        Ok(())
    }
}

/// OpenRouter's file-parser engines in the order a key steps through them (`None`: OpenRouter
/// chooses, native where the model reads PDFs, else mistral-ocr).
pub const PDF_ENGINES: [Option<PdfEngine>; 4] = [
    None,
    Some(PdfEngine::Native),
    Some(PdfEngine::CloudflareAi),
    Some(PdfEngine::MistralOcr),
];

/// mistral-ocr's price per page ($2 per 1,000 pages, ../shared/openrouter-api.md §6).
pub const MISTRAL_OCR_PER_PAGE: f64 = 0.002;

/// The engine after `e` in [`PDF_ENGINES`].
pub fn next_pdf_engine(e: Option<PdfEngine>) -> Option<PdfEngine> {
    let i = PDF_ENGINES.iter().position(|x| *x == e).unwrap_or(0);
    PDF_ENGINES[(i + 1) % PDF_ENGINES.len()]
}

/// An engine's name and what it costs for `pages` pages, as the panel shows it.
pub fn pdf_engine_terms(e: Option<PdfEngine>, pages: u32) -> String {
    let ocr = crate::wire::catalog::format_cost(MISTRAL_OCR_PER_PAGE * f64::from(pages));
    let pages = match pages {
        1 => "1 page".to_string(),
        n => format!("{n} pages"),
    };
    match e {
        None => format!("auto: native, else mistral-ocr at {ocr} for {pages}"),
        Some(PdfEngine::Native) => "native: the model reads it, as input tokens".into(),
        Some(PdfEngine::CloudflareAi | PdfEngine::PdfText) => {
            "cloudflare-ai: made markdown, free".into()
        }
        Some(PdfEngine::MistralOcr) => format!("mistral-ocr: {ocr} for {pages} ($2 per 1,000)"),
    }
}

/// Bytes as people read them: `812 B`, `12 KB`, `3.4 MB`.
pub fn human_bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < K * K {
        format!("{:.0} KB", f / K)
    } else if f < K * K * 10.0 {
        format!("{:.1} MB", f / K / K)
    } else {
        format!("{:.0} MB", f / K / K)
    }
}

/// The bytes and MIME type of a `data:<mime>;base64,…` URL (None when it is not one), reading
/// at most `max` decoded bytes.
pub fn decode_data_url(url: &str, max: usize) -> Option<(String, Vec<u8>)> {
    use base64::Engine;
    let rest = url.strip_prefix("data:")?;
    let (head, b64) = rest.split_once(',')?;
    let mime = head.strip_suffix(";base64")?;
    if b64.len() / 4 * 3 > max.saturating_add(3) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    Some((mime.to_string(), bytes))
}

/// `data:<mime>;base64,<bytes>`.
pub fn data_url(kind: Kind, bytes: &[u8]) -> String {
    use base64::Engine;
    // Sized once: a 20 MB file's URL is not grown by doubling (twice its size at the peak).
    let mut s = String::with_capacity(kind.mime().len() + 13 + bytes.len().div_ceil(3) * 4);
    s.push_str("data:");
    s.push_str(kind.mime());
    s.push_str(";base64,");
    base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut s);
    s
}

/// SHA-256 in hex.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pdf_engine_key_steps_through_every_engine_and_back_to_auto() {
        let mut e = None;
        let mut seen = Vec::new();
        for _ in 0..PDF_ENGINES.len() {
            e = next_pdf_engine(e);
            seen.push(e);
        }
        assert_eq!(seen.last(), Some(&None), "back to auto");
        assert_eq!(seen.len(), 4);
        assert!(pdf_engine_terms(Some(PdfEngine::MistralOcr), 12).contains("$0.024 for 12 pages"));
        assert!(pdf_engine_terms(Some(PdfEngine::CloudflareAi), 3).contains("free"));
        assert!(pdf_engine_terms(None, 1).contains("$0.002 for 1 page"));
    }

    #[test]
    fn kinds_come_from_content_not_names() {
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n...."), Some(Kind::Png));
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Kind::Jpeg));
        assert_eq!(detect(b"GIF89a.."), Some(Kind::Gif));
        assert_eq!(detect(b"RIFF\x10\0\0\0WEBPVP8 "), Some(Kind::Webp));
        assert_eq!(detect(b"%PDF-1.7\n"), Some(Kind::Pdf));
        assert_eq!(detect(b"hello, this is a text file named cat.png"), None);
        assert_eq!(detect(b""), None);
        assert!(refusal(b"").contains("empty"));
        assert!(refusal(b"plain words").contains("text"));
        assert!(refusal(&[0, 159, 146, 150]).contains("not a PNG"));
    }

    #[test]
    fn image_sizes_are_read_from_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(640u32.to_be_bytes());
        png.extend(480u32.to_be_bytes());
        assert_eq!(image_size(&png, Kind::Png), Some((640, 480)));
        let gif = b"GIF89a\x20\x03\x58\x02";
        assert_eq!(image_size(gif, Kind::Gif), Some((800, 600)));
        // JPEG: SOI, an APP0 segment, then SOF0 with height 300, width 400.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01,
            0x2C, 0x01, 0x90, 0x03,
        ];
        assert_eq!(image_size(&jpeg, Kind::Jpeg), Some((400, 300)));
        assert_eq!(
            image_size(&jpeg[..9], Kind::Jpeg),
            None,
            "truncated: no size"
        );
        assert_eq!(image_size(b"\x89PNG", Kind::Png), None);
    }

    #[test]
    fn tokens_follow_each_vendor() {
        assert_eq!(image_tokens("openai/gpt-4o", 512, 512), 85 + 170);
        assert_eq!(image_tokens("openai/gpt-4o", 4000, 3000), 85 + 170 * 2 * 2);
        assert_eq!(image_tokens("google/gemini-2.5-pro", 300, 300), 258);
        assert_eq!(image_tokens("anthropic/claude", 1000, 750), 1000);
    }

    #[test]
    fn caps_say_which_one_is_passed() {
        let l = Limits {
            per_file: 100,
            per_message: 150,
            downscale_to: None,
        };
        assert!(l.check(100, 0).is_ok());
        assert!(l.check(101, 0).unwrap_err().contains("max_file_mb"));
        assert!(l.check(80, 80).unwrap_err().contains("max_message_mb"));
    }

    #[test]
    fn data_urls_round_trip_and_are_bounded() {
        let url = data_url(Kind::Png, b"\x89PNG bytes");
        assert!(url.starts_with("data:image/png;base64,"));
        assert_eq!(
            decode_data_url(&url, 100),
            Some(("image/png".into(), b"\x89PNG bytes".to_vec()))
        );
        assert_eq!(decode_data_url(&url, 2), None, "over the cap: not decoded");
        assert_eq!(decode_data_url("https://x/y.png", 100), None);
        assert_eq!(human_bytes(812), "812 B");
        assert_eq!(human_bytes(12 * 1024 + 100), "12 KB");
        assert_eq!(human_bytes(3_565_158), "3.4 MB");
    }

    #[test]
    fn content_puts_text_first_and_pdfs_become_text_when_swapped() {
        let a = Attachment {
            name: "r.pdf".into(),
            kind: Kind::Pdf,
            origin: Origin::Path("/r.pdf".into()),
            size: 10,
            hash: sha256(b"x"),
            pixels: None,
            original_pixels: None,
            pages: Some(2),
            text: Some("Quarterly figures".into()),
            first_page: None,
            payload: payload::Payload::held("data:application/pdf;base64,eA==".into(), "h"),
        };
        {
            let MessageContent::Parts(p) = content("sum it up", std::slice::from_ref(&a)) else {
                panic!()
            };
            assert_eq!(p[0], ContentPart::text("sum it up"));
            assert!(
                matches!(&p[1], ContentPart::File { file } if file.filename.as_deref() == Some("r.pdf"))
            );
        }
        let req = ChatRequest {
            messages: vec![crate::wire::request::Message {
                content: content("sum it up", std::slice::from_ref(&a)),
                ..Default::default()
            }],
            ..Default::default()
        };
        let swapped = pdfs_as_text(&req, &[&a]).expect("it has a PDF");
        let MessageContent::Parts(p) = &swapped.messages[0].content else {
            panic!()
        };
        assert!(
            matches!(&p[1], ContentPart::Text { text, .. } if text.contains("2 pages") && text.contains("Quarterly figures"))
        );
        assert_eq!(content("plain", &[]), MessageContent::Text("plain".into()));

        // Once history has the bytes and nobody holds them, the part carries only their key:
        // the runtime reads them back, and the text swap still finds the PDF.
        // Requests hold the data they were built with; once they are gone, so is the data.
        assert!(req.unresolved().is_empty(), "built while held: inline");
        let built_before = serde_json::to_value(&req).unwrap();
        drop(req);
        a.payload.release();
        let req = ChatRequest {
            messages: vec![crate::wire::request::Message {
                content: content("again", std::slice::from_ref(&a)),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(req.unresolved(), vec![a.payload.key().unwrap().clone()]);
        let swapped = pdfs_as_text(&req, &[&a]).expect("found by its key");
        assert!(
            swapped.unresolved().is_empty(),
            "the text needs nothing read back"
        );
        let mut resolved = req.clone();
        assert!(
            !resolved.clone().resolve(|_| None),
            "nothing to fill it with"
        );
        assert!(resolved.resolve(|_| Some("data:application/pdf;base64,eA==".into())));
        assert!(resolved.unresolved().is_empty());
        assert_eq!(
            serde_json::to_value(&resolved).unwrap(),
            built_before
                .to_string()
                .replace("sum it up", "again")
                .parse::<serde_json::Value>()
                .unwrap(),
            "read back, it is what would have gone inline"
        );
    }
}
