//! Generated attachment files for tests and benchmarks: PDFs written object by object (pages of
//! text, none, encrypted, cut short) and images encoded by `image`. Nothing here is read from disk.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::io::Cursor;

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}

/// A PDF with one page per entry, each page showing its lines of text (an empty entry: a page
/// with no text). `extra` is one more object, referred to from the trailer under that key.
fn pdf_with(pages: &[&str], extra: Option<(&str, String)>) -> Vec<u8> {
    pdf_with_raw(pages, extra.map(|(k, o)| (k, o.into_bytes())))
}

fn pdf_with_raw(pages: &[&str], extra: Option<(&str, Vec<u8>)>) -> Vec<u8> {
    let n = pages.len();
    // Objects: 1 catalog, 2 pages, 3 font, then a page and its content per page.
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            (0..n)
                .map(|i| format!("{} 0 R", 4 + 2 * i))
                .collect::<Vec<_>>()
                .join(" ")
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    for (i, text) in pages.iter().enumerate() {
        let mut content = String::new();
        if !text.is_empty() {
            content.push_str("BT /F1 12 Tf 72 720 Td 14 TL\n");
            for line in text.lines() {
                content.push_str(&format!("({}) Tj T*\n", escape(line)));
            }
            content.push_str("ET");
        }
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ).into_bytes());
        objects.push(
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len() + 1
            )
            .into_bytes(),
        );
    }
    let mut trailer_extra = String::new();
    if let Some((key, obj)) = extra {
        objects.push(obj);
        trailer_extra = format!(" /{key} {} 0 R", objects.len());
    }
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).bytes());
        out.extend_from_slice(o);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R{trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    out
}

/// A PDF of the given pages of text.
pub fn pdf(pages: &[&str]) -> Vec<u8> {
    pdf_with(pages, None)
}

/// A PDF of the given pages that also carries `payload` bytes of image-like data in a stream
/// of its own (a scan's weight without its decoding cost): a large PDF for benchmarks.
pub fn heavy_pdf(pages: &[&str], payload: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(payload);
    let mut x: u32 = 0x9E37_79B9;
    while data.len() < payload {
        // xorshift: incompressible, like a real scan's bytes.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(payload);
    let mut obj = format!("<< /Length {} >>\nstream\n", payload).into_bytes();
    obj.extend_from_slice(&data);
    obj.extend_from_slice(b"\nendstream");
    pdf_with_raw(pages, Some(("PieceInfo", obj)))
}

/// A PDF that says it is encrypted with a password nobody knows.
pub fn encrypted_pdf() -> Vec<u8> {
    let o = "<".to_string() + &"7A".repeat(32) + ">";
    let u = "<".to_string() + &"3C".repeat(32) + ">";
    let id = "<".to_string() + &"11".repeat(16) + ">";
    let mut p = pdf_with(
        &["secret"],
        Some((
            "Encrypt",
            format!("<< /Filter /Standard /V 1 /R 2 /O {o} /U {u} /P -4 >>"),
        )),
    );
    // The file identifier the standard handler needs, in the trailer.
    let at = p.windows(5).rposition(|w| w == b"/Root").expect("trailer");
    let ins = format!("/ID [{id} {id}] ");
    p.splice(at..at, ins.bytes());
    p
}

/// A valid PDF cut to its first half.
pub fn truncated_pdf() -> Vec<u8> {
    let mut p = pdf(&["one", "two", "three"]);
    p.truncate(p.len() / 2);
    p
}

/// A `w`×`h` gradient picture.
pub fn picture(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 128])
    }))
}

/// A `w`×`h` PNG.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    encode(&picture(w, h), ImageFormat::Png)
}

/// A `w`×`h` JPEG.
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encode(&picture(w, h), ImageFormat::Jpeg)
}

fn encode(img: &DynamicImage, f: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, f).expect("encoding into memory");
    out.into_inner()
}
