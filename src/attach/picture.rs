//! Images: decoded (bounded), downscaled before sending when the user allows it, and a small
//! thumbnail for the preview. CPU work only, run off the UI task by `load`.

use super::Kind;
use image::{DynamicImage, ImageFormat, ImageReader};
use std::io::Cursor;

/// Longest side an image may have to be decoded at all.
pub const MAX_SIDE: u32 = 16_384;
/// Memory a decoder may use.
pub const MAX_DECODE: u64 = 512 << 20;
/// Long side of the preview thumbnail kept in memory.
pub const THUMB_SIDE: u32 = 384;

/// An image ready to send and to preview.
pub struct Prepared {
    /// The bytes to send (the original, or the downscaled re-encoding).
    pub bytes: Vec<u8>,
    /// Their kind.
    pub kind: Kind,
    /// Width and height of what is sent.
    pub pixels: (u32, u32),
    /// The original's size, when it was downscaled.
    pub original: Option<(u32, u32)>,
    /// The preview thumbnail.
    pub thumb: DynamicImage,
}

fn format(kind: Kind) -> Option<ImageFormat> {
    Some(match kind {
        Kind::Png => ImageFormat::Png,
        Kind::Jpeg => ImageFormat::Jpeg,
        Kind::Webp => ImageFormat::WebP,
        Kind::Gif => ImageFormat::Gif,
        Kind::Pdf => return None,
    })
}

/// Decodes `bytes`, bounded by `MAX_SIDE` and `MAX_DECODE`.
pub fn decode(bytes: &[u8], kind: Kind) -> Result<DynamicImage, String> {
    let fmt = format(kind).ok_or("a PDF is not an image")?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), fmt);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| format!("the {} image could not be decoded: {e}", kind.label()))
}

/// Decodes, downscales to `downscale_to` on the long side when it is larger (re-encoded as
/// JPEG for photos, PNG otherwise; a GIF keeps its animation and is never re-encoded), and makes
/// the thumbnail.
pub fn prepare(bytes: Vec<u8>, kind: Kind, downscale_to: Option<u32>) -> Result<Prepared, String> {
    let img = decode(&bytes, kind)?;
    let (w, h) = (img.width(), img.height());
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE);
    let limit = downscale_to.filter(|&m| w.max(h) > m && kind != Kind::Gif);
    let Some(side) = limit else {
        return Ok(Prepared {
            bytes,
            kind,
            pixels: (w, h),
            original: None,
            thumb,
        });
    };
    let small = img.resize(side, side, image::imageops::FilterType::Triangle);
    drop(img);
    let mut out = Cursor::new(Vec::new());
    let out_kind = if kind == Kind::Jpeg || (kind == Kind::Webp && !small.color().has_alpha()) {
        let rgb = DynamicImage::ImageRgb8(small.to_rgb8());
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        rgb.write_with_encoder(enc)
            .map_err(|e| format!("the downscaled image could not be encoded: {e}"))?;
        Kind::Jpeg
    } else {
        small
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|e| format!("the downscaled image could not be encoded: {e}"))?;
        Kind::Png
    };
    let out = out.into_inner();
    // A re-encoding that came out larger than the original is not worth sending.
    if out.len() >= bytes.len() {
        return Ok(Prepared {
            bytes,
            kind,
            pixels: (w, h),
            original: None,
            thumb,
        });
    }
    Ok(Prepared {
        bytes: out,
        kind: out_kind,
        pixels: (small.width(), small.height()),
        original: Some((w, h)),
        thumb,
    })
}

/// Encodes a test or clipboard image as PNG.
pub fn png(img: &DynamicImage) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| format!("cannot encode PNG: {e}"))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        }))
    }

    #[test]
    fn large_photos_are_downscaled_and_small_ones_kept() {
        let mut jpeg = Cursor::new(Vec::new());
        photo(3000, 1500)
            .write_to(&mut jpeg, ImageFormat::Jpeg)
            .unwrap();
        let jpeg = jpeg.into_inner();
        let p = prepare(jpeg.clone(), Kind::Jpeg, Some(1024)).unwrap();
        assert_eq!(p.pixels, (1024, 512));
        assert_eq!(p.original, Some((3000, 1500)));
        assert_eq!(
            super::super::image_size(&p.bytes, p.kind),
            Some((1024, 512))
        );
        assert!(p.thumb.width() <= THUMB_SIDE);
        let kept = prepare(jpeg.clone(), Kind::Jpeg, None).unwrap();
        assert_eq!((kept.pixels, kept.bytes == jpeg), ((3000, 1500), true));
    }

    #[test]
    fn broken_images_are_messages() {
        let png = png(&photo(20, 20)).unwrap();
        let e = prepare(png[..png.len() / 2].to_vec(), Kind::Png, None)
            .err()
            .unwrap();
        assert!(e.contains("could not be decoded"), "{e}");
    }
}
