//! Reading an attachment: a file (regular files only, capped), a URL (capped in size and time) or
//! clipboard bytes, judged from its content, checked against the caps, images prepared and PDFs
//! read by the isolated child. Blocking work; the workbench runs it on `WORKER` threads.

use super::payload::Payload;
use super::{Attachment, Kind, Limits, Origin, pdf, picture};
use std::path::Path;
use std::sync::Arc;

/// The name of the threads that decode attachments: the terminal's panic hook leaves the screen
/// alone for a panic on one of them (it becomes a message instead).
pub const WORKER: &str = "switchyard-attach";

/// An attachment and its preview.
pub struct Loaded {
    /// What is sent.
    pub attachment: Attachment,
    /// Images: a small picture for the preview.
    pub thumb: Option<Arc<image::DynamicImage>>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("attachment", &self.attachment.chip())
            .finish_non_exhaustive()
    }
}

/// What the user typed or pasted, as a path or a URL: `~/x.png`, `file:///x.pdf`,
/// `'/a b.png'` (quotes and backslash escapes, as a terminal drop gives), `https://…`.
pub fn parse_target(s: &str) -> Option<Target> {
    let s = s.trim();
    if s.is_empty() || s.contains('\n') {
        return None;
    }
    if s.starts_with("https://") || s.starts_with("http://") {
        return Some(Target::Url(s.to_string()));
    }
    let unquoted = if s.len() >= 2
        && ((s.starts_with('\'') && s.ends_with('\'')) || (s.starts_with('"') && s.ends_with('"')))
    {
        s[1..s.len() - 1].to_string()
    } else {
        // A drop escapes spaces and the like with backslashes.
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        out
    };
    let path = if let Some(rest) = unquoted.strip_prefix("file://") {
        percent_decode(rest.strip_prefix("localhost").unwrap_or(rest))
    } else if let Some(rest) = unquoted.strip_prefix("~/") {
        let home = std::env::var_os("HOME")?;
        Path::new(&home).join(rest).to_string_lossy().into_owned()
    } else {
        unquoted
    };
    Some(Target::Path(path))
}

/// A path or a URL to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A local file.
    Path(String),
    /// An `http(s)://` URL.
    Url(String),
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the file at `path` (`already`: bytes the message already carries).
pub fn from_path(path: &Path, limits: &Limits, already: u64) -> Result<Loaded, String> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // The caps are said in their own words before anything is read.
    if let Ok(m) = std::fs::metadata(path)
        && m.is_file()
    {
        limits
            .check(m.len(), already)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    let bytes = crate::small_file::read_bytes(path, limits.per_file).map_err(|e| match e {
        crate::small_file::ReadError::NotFound => format!("{}: no such file", path.display()),
        crate::small_file::ReadError::Other(m) => format!("{}: {m}", path.display()),
    })?;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    from_bytes(
        name,
        Origin::Path(abs.to_string_lossy().into_owned()),
        bytes,
        limits,
        already,
    )
}

/// Checks and prepares bytes already read.
pub fn from_bytes(
    name: String,
    origin: Origin,
    bytes: Vec<u8>,
    limits: &Limits,
    already: u64,
) -> Result<Loaded, String> {
    let fail = |m: String| format!("{name}: {m}");
    let size = bytes.len() as u64;
    limits.check(size, already).map_err(fail)?;
    let Some(kind) = super::detect(&bytes) else {
        return Err(fail(super::refusal(&bytes)));
    };
    let hash = super::sha256(&bytes);
    let url = match &origin {
        Origin::Url(u) if u.starts_with("https://") => Some(u.clone()),
        _ => None,
    };
    if kind == Kind::Pdf {
        let t = pdf::extract(&bytes).map_err(fail)?;
        let data: Arc<str> = url.map_or_else(|| super::data_url(kind, &bytes).into(), Into::into);
        return Ok(Loaded {
            attachment: Attachment {
                name,
                kind,
                origin,
                size,
                pixels: None,
                original_pixels: None,
                pages: Some(t.pages),
                text: Some(t.text.into()),
                first_page: Some(t.first_page.into()),
                payload: Payload::held(data, &hash),
                hash,
            },
            thumb: None,
        });
    }
    // A URL image is sent as the URL, so it is never downscaled.
    let downscale = if url.is_some() {
        None
    } else {
        limits.downscale_to
    };
    let p = picture::prepare(bytes, kind, downscale).map_err(fail)?;
    let name = match (p.kind == kind, name.rsplit_once('.')) {
        (false, Some((stem, _))) => format!(
            "{stem}.{}",
            if p.kind == Kind::Jpeg { "jpg" } else { "png" }
        ),
        _ => name,
    };
    let data: Arc<str> = url.map_or_else(|| super::data_url(p.kind, &p.bytes).into(), Into::into);
    Ok(Loaded {
        attachment: Attachment {
            name,
            kind: p.kind,
            origin,
            size,
            pixels: Some(p.pixels),
            original_pixels: p.original,
            pages: None,
            text: None,
            first_page: None,
            payload: Payload::held(data, &hash),
            hash,
        },
        thumb: Some(Arc::new(p.thumb)),
    })
}

/// Runs `job` on a `WORKER` thread, a panic there becoming an error (blocking: call it from a
/// blocking task or thread).
pub fn isolated<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    std::thread::Builder::new()
        .name(WORKER.into())
        .spawn(job)
        .map_err(|e| format!("cannot start a worker: {e}"))?
        .join()
        .unwrap_or_else(|_| {
            Err("reading it failed inside its decoder; it is probably damaged".into())
        })
}

/// Gives freed memory back to the system: decoding a photo or encoding a large body leaves tens
/// of MB that glibc would otherwise keep (a no-op elsewhere).
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages; it is safe from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How long a URL may take to arrive.
pub const URL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads what the user named (a path or a URL), off the calling task: a file and its decoding
/// on a `WORKER` thread, a URL through `client` (capped in size and time).
pub async fn target(
    what: &Target,
    limits: Limits,
    already: u64,
    client: &crate::client::HttpClient,
) -> Result<Loaded, String> {
    let r = match what {
        Target::Path(p) => {
            let path = std::path::PathBuf::from(p);
            tokio::task::spawn_blocking(move || {
                isolated(move || from_path(&path, &limits, already))
            })
            .await
            .unwrap_or_else(|_| Err("reading it failed".into()))
        }
        Target::Url(u) => {
            let name = url_name(u, "attachment");
            let (_, bytes) = client
                .get_bytes(u, limits.per_file as usize, URL_TIMEOUT)
                .await
                .map_err(|e| format!("{u}: {e}"))?;
            let origin = Origin::Url(u.clone());
            tokio::task::spawn_blocking(move || {
                isolated(move || from_bytes(name, origin, bytes, &limits, already))
            })
            .await
            .unwrap_or_else(|_| Err("reading it failed".into()))
        }
    };
    // The decoder's buffers (48 MB for a 12-megapixel photo) are free now.
    trim_heap();
    r
}

/// Paths that complete `input` (a partial path; `~/` is the home folder), sorted, directories
/// ending in `/`, hidden ones only when asked for with a leading dot; at most `max`.
pub fn complete(input: &str, max: usize) -> Vec<String> {
    let (shown_dir, prefix) = match input.rfind('/') {
        Some(i) => (&input[..=i], &input[i + 1..]),
        None => ("", input),
    };
    let real_dir = match shown_dir.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME") {
            Some(h) => Path::new(&h).join(rest),
            None => return Vec::new(),
        },
        None if shown_dir.is_empty() => Path::new(".").to_path_buf(),
        None => Path::new(shown_dir).to_path_buf(),
    };
    let Ok(entries) = std::fs::read_dir(&real_dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .take(10_000)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let dir = e.file_type().is_ok_and(|t| t.is_dir());
            Some(format!("{shown_dir}{name}{}", if dir { "/" } else { "" }))
        })
        .collect();
    out.sort();
    out.truncate(max);
    out
}

/// The file name a URL gives (its last path segment), or `what`.
pub fn url_name(url: &str, what: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let seg = path.rsplit('/').next().unwrap_or("");
    if seg.is_empty() || path.ends_with("//") || !path.contains("://") {
        what.to_string()
    } else {
        percent_decode(seg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_as_a_terminal_gives_them() {
        assert_eq!(
            parse_target("/tmp/a.png"),
            Some(Target::Path("/tmp/a.png".into()))
        );
        assert_eq!(
            parse_target("'/tmp/a b.png' "),
            Some(Target::Path("/tmp/a b.png".into()))
        );
        assert_eq!(
            parse_target("/tmp/a\\ b.png"),
            Some(Target::Path("/tmp/a b.png".into()))
        );
        assert_eq!(
            parse_target("file:///tmp/a%20b.pdf"),
            Some(Target::Path("/tmp/a b.pdf".into()))
        );
        assert_eq!(
            parse_target("https://x.test/cat.png"),
            Some(Target::Url("https://x.test/cat.png".into()))
        );
        assert_eq!(parse_target("two\nlines"), None);
        assert_eq!(
            url_name("https://x.test/a/cat%20one.png?s=1", "image"),
            "cat one.png"
        );
        assert_eq!(url_name("https://x.test/", "image"), "image");
    }

    #[test]
    fn refusals_name_the_file_and_why() {
        let l = Limits::default();
        let e = from_bytes(
            "cat.png".into(),
            Origin::Clipboard,
            b"just text".to_vec(),
            &l,
            0,
        )
        .unwrap_err();
        assert!(e.starts_with("cat.png: it is text"), "{e}");
        let e = from_bytes("empty.pdf".into(), Origin::Clipboard, Vec::new(), &l, 0).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = from_path(Path::new("/no/such.png"), &l, 0).unwrap_err();
        assert!(e.contains("no such file"), "{e}");
        let small = Limits { per_file: 4, ..l };
        let e = from_bytes("big.png".into(), Origin::Clipboard, vec![0; 5], &small, 0).unwrap_err();
        assert!(e.contains("max_file_mb"), "{e}");
    }

    #[test]
    fn a_panic_in_a_worker_is_an_error() {
        let r: Result<(), String> = isolated(|| panic!("decoder bug"));
        assert!(r.unwrap_err().contains("damaged"));
    }
}
