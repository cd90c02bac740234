//! The markdown renderer, whole and streamed in pieces: never panics, at any width.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchyard::markdown::{StreamingMarkdown, render};

fuzz_target!(|data: &[u8]| {
    let Some((&w, body)) = data.split_first() else {
        return;
    };
    let Ok(src) = std::str::from_utf8(body) else {
        return;
    };
    let width = (w % 120) as u16 + 1;
    let _ = render(src, width);
    let mut m = StreamingMarkdown::new();
    let mut at = 0;
    for (i, _) in src.char_indices().step_by(7) {
        m.push(&src[at..i]);
        at = i;
        let _ = m.line_count(width);
    }
    m.push(&src[at..]);
    m.finish();
    let _ = m.lines(width);
});
