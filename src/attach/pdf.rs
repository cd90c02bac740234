//! Local PDF text, isolated. PDF libraries panic by design or hang on hostile files, so the work
//! runs in a child process of our own binary (`switchyard extract-pdf`, hidden), fed the bytes on
//! standard input, with a time limit and an address-space cap; a crash, a hang or a refusal there
//! is a message here, never a frozen or torn-down screen.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Text kept of one PDF (what a model that cannot read files gets, and the preview).
pub const MAX_TEXT: usize = 1 << 20;
/// Longest a child may take before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// The child's address-space cap.
pub const MEMORY_CAP: u64 = 1 << 30;
/// Largest PDF the child reads from its input.
pub const MAX_INPUT: usize = 64 << 20;
/// Marks the child's answer line, so anything a library prints cannot be taken for it.
const MARK: &str = "\u{1e}switchyard-pdf ";

/// What the child found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PdfText {
    /// Page count.
    pub pages: u32,
    /// The text of every page (bounded by `MAX_TEXT`).
    pub text: String,
    /// The first page's text.
    pub first_page: String,
    /// `text` was cut at `MAX_TEXT`.
    pub truncated: bool,
}

#[derive(Serialize, Deserialize)]
enum Answer {
    Ok(PdfText),
    Refused(String),
}

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Names the binary that has the `extract-pdf` command (tests give the built `switchyard`; by
/// default it is this process's own executable).
pub fn set_program(path: impl Into<PathBuf>) {
    let _ = PROGRAM.set(path.into());
}

fn program() -> Result<PathBuf, String> {
    match PROGRAM.get() {
        Some(p) => Ok(p.clone()),
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find Switchyard's own program to read the PDF: {e}")),
    }
}

/// Extracts a PDF's text in a child process (blocking: call it off the UI task).
pub fn extract(bytes: &[u8]) -> Result<PdfText, String> {
    extract_with(bytes, TIMEOUT)
}

/// `extract` with a given time limit.
pub fn extract_with(bytes: &[u8], timeout: Duration) -> Result<PdfText, String> {
    let mut child = Command::new(program()?)
        .arg("extract-pdf")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_remove("OPENROUTER_API_KEY")
        .spawn()
        .map_err(|e| format!("cannot start the PDF reader: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let deadline = Instant::now() + timeout;
    // Scoped threads feed and drain the pipes from the caller's bytes (a 20 MB PDF is not copied).
    let (status, out) = std::thread::scope(|scope| {
        scope.spawn(move || {
            // A child that dies early closes the pipe; that is judged by its exit below.
            let _ = stdin.write_all(bytes);
        });
        let reader = scope.spawn(move || {
            let mut out = Vec::new();
            let _ = (&mut stdout)
                .take((MAX_TEXT * 4 + 64 * 1024) as u64)
                .read_to_end(&mut out);
            out
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Ok(Some(s)),
                Ok(None) if Instant::now() >= deadline => {
                    // Killing it closes both pipes, so the threads above end too.
                    let _ = child.kill();
                    let _ = child.wait();
                    break Ok(None);
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!("the PDF reader failed: {e}"));
                }
            }
        };
        (status, reader.join().unwrap_or_default())
    });
    let status = status?;
    let Some(status) = status else {
        return Err(format!(
            "reading the PDF took over {} s and was stopped; it may be hostile or very large",
            timeout.as_secs()
        ));
    };
    let text = String::from_utf8_lossy(&out);
    let answer = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(MARK))
        .and_then(|l| serde_json::from_str::<Answer>(l).ok());
    match answer {
        Some(Answer::Ok(t)) => Ok(t),
        Some(Answer::Refused(m)) => Err(m),
        None if status.success() => Err("the PDF reader gave no answer".into()),
        None => Err(
            "the PDF could not be read (its parser crashed on it): it is probably damaged".into(),
        ),
    }
}

/// The body of `switchyard extract-pdf`: PDF bytes on standard input, one answer line out.
/// Returns the exit code.
pub fn run_child() -> i32 {
    cap_resources();
    // A panic is this process's answer, not a report for the user's terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let mut input = Vec::new();
    let read = std::io::stdin()
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut input);
    let answer = match read {
        Err(e) => Answer::Refused(format!("cannot read the PDF: {e}")),
        Ok(_) if input.len() > MAX_INPUT => {
            Answer::Refused(format!("it is over {} MB", MAX_INPUT >> 20))
        }
        Ok(_) => match std::panic::catch_unwind(|| read_pdf(&input)) {
            Ok(Ok(t)) => Answer::Ok(t),
            Ok(Err(m)) => Answer::Refused(m),
            Err(_) => Answer::Refused(
                "the PDF could not be read (its parser gave up on it): it is probably damaged"
                    .into(),
            ),
        },
    };
    let line = serde_json::to_string(&answer).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let ok = writeln!(out, "\n{MARK}{line}")
        .and_then(|_| out.flush())
        .is_ok();
    if ok { 0 } else { 1 }
}

fn read_pdf(bytes: &[u8]) -> Result<PdfText, String> {
    let mut doc = lopdf::Document::load_mem(bytes)
        .map_err(|e| format!("it is not a readable PDF (damaged or cut short): {e}"))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err("it is encrypted and needs a password; save a copy without one".into());
    }
    let pages = doc.get_pages().len() as u32;
    let by_page = pdf_extract::extract_text_from_mem_by_pages(bytes)
        .map_err(|e| format!("its text could not be read: {e}"))?;
    let first_page = by_page.first().map(|p| clean(p)).unwrap_or_default();
    let mut text = String::new();
    let mut truncated = false;
    for p in &by_page {
        let p = clean(p);
        if p.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        if text.len() + p.len() > MAX_TEXT {
            let room = MAX_TEXT.saturating_sub(text.len());
            let cut = (0..=room)
                .rev()
                .find(|&i| p.is_char_boundary(i))
                .unwrap_or(0);
            text.push_str(&p[..cut]);
            truncated = true;
            break;
        }
        text.push_str(&p);
    }
    Ok(PdfText {
        pages,
        text,
        first_page,
        truncated,
    })
}

/// Page text without the blank runs PDF layout leaves.
fn clean(s: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in s.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line.trim_start());
    }
    out
}

#[cfg(unix)]
fn cap_resources() {
    let set = |res, v: u64| {
        let lim = libc::rlimit {
            rlim_cur: v as libc::rlim_t,
            rlim_max: v as libc::rlim_t,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        unsafe { libc::setrlimit(res, &lim) };
    };
    set(libc::RLIMIT_AS, MEMORY_CAP);
    set(libc::RLIMIT_CPU, TIMEOUT.as_secs() + 5);
    set(libc::RLIMIT_CORE, 0);
}

#[cfg(not(unix))]
fn cap_resources() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_text_loses_layout_blank_runs() {
        assert_eq!(
            clean("  Title  \n\n\n\nbody one\nbody two\n\n"),
            "Title\n\nbody one\nbody two"
        );
        assert_eq!(clean("\n \n"), "");
    }
}
