//! Clipboard: the native clipboard when there is one, else OSC 52 (works over SSH and in tmux).

use std::io::Write;

/// Copies text, returning how it was delivered.
pub struct Clipboard {
    #[cfg(feature = "clipboard")]
    native: Option<arboard::Clipboard>,
    #[cfg(feature = "clipboard")]
    tried: bool,
}

impl Default for Clipboard {
    fn default() -> Self {
        Self::new()
    }
}

impl Clipboard {
    /// Creates the clipboard lazily: a headless machine must not pay for (or crash on) X11.
    pub fn new() -> Self {
        Self {
            #[cfg(feature = "clipboard")]
            native: None,
            #[cfg(feature = "clipboard")]
            tried: false,
        }
    }

    #[cfg(feature = "clipboard")]
    fn has_display(&self) -> bool {
        has_display()
    }

    /// Puts `text` on the clipboard. Returns a description of the route taken.
    pub fn copy(&mut self, text: &str, out: &mut impl Write) -> Result<&'static str, String> {
        #[cfg(feature = "clipboard")]
        {
            if !self.tried && self.has_display() {
                self.tried = true;
                // Kept alive: on X11 the owning process serves the clipboard contents.
                self.native = arboard::Clipboard::new().ok();
            }
            if let Some(cb) = &mut self.native
                && cb.set_text(text.to_string()).is_ok()
            {
                // Also send OSC 52 so a terminal on another machine (SSH) gets it too.
                let _ = osc52(text, out);
                return Ok("clipboard");
            }
        }
        osc52(text, out)
            .map(|_| "OSC 52")
            .map_err(|e| format!("copy failed: {e}"))
    }
}

#[cfg(feature = "clipboard")]
fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
        || cfg!(any(target_os = "macos", target_os = "windows"))
}

/// The clipboard's image as PNG bytes, or why there is none. Blocking (X11 may take its time):
/// call it off the UI task. Reading needs no clipboard kept alive, so it opens its own.
pub fn image_png() -> Result<Vec<u8>, String> {
    #[cfg(feature = "clipboard")]
    {
        if !has_display() {
            return Err("no clipboard to read here (no display: DISPLAY and WAYLAND_DISPLAY are unset; OSC 52 cannot read); save the image and attach its file".into());
        }
        let mut cb = arboard::Clipboard::new().map_err(|e| {
            format!(
                "the system clipboard could not be opened ({e}); save the image and attach its file"
            )
        })?;
        let img = cb
            .get_image()
            .map_err(|e| format!("the clipboard holds no image ({e})"))?;
        let rgba =
            image::RgbaImage::from_raw(img.width as u32, img.height as u32, img.bytes.into_owned())
                .ok_or("the clipboard's image is malformed")?;
        crate::attach::picture::png(&image::DynamicImage::ImageRgba8(rgba))
    }
    #[cfg(not(feature = "clipboard"))]
    Err("this build has no clipboard support (feature `clipboard`); attach the image's file".into())
}

/// Writes the OSC 52 "set clipboard" sequence (wrapped for tmux when inside it).
pub fn osc52(text: &str, out: &mut impl Write) -> std::io::Result<()> {
    let seq = format!("\x1b]52;c;{}\x07", base64(text.as_bytes()));
    if std::env::var_os("TMUX").is_some() {
        // tmux passes the sequence through only inside a DCS wrapper with ESC doubled.
        write!(out, "\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))?;
    } else {
        out.write_all(seq.as_bytes())?;
    }
    out.flush()
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        s.push(T[(n >> 18) as usize & 63] as char);
        s.push(T[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn osc52_sequence() {
        let mut out = Vec::new();
        // SAFETY-free check: only the non-tmux branch is asserted when TMUX is unset.
        if std::env::var_os("TMUX").is_none() {
            osc52("hi", &mut out).unwrap();
            assert_eq!(out, b"\x1b]52;c;aGk=\x07");
        }
    }
}
