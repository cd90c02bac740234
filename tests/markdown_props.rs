//! Streaming markdown renders exactly like the finished document, however the deltas are cut,
//! and no line is ever wider than the width asked for (at every step, not only at the end).

use proptest::prelude::*;
use ratatui::text::Line;
use switchyard::markdown::{StreamingMarkdown, code_blocks, render};

/// Realistic pieces of an LLM answer, including constructs that span blank lines.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ,.]{1,80}".prop_map(|s| format!("{s}\n\n")),
        "[a-z]{1,12}( [a-z]{1,12}){0,12}".prop_map(|s| format!("{s}\nsoft *line* **two** `x`\n")),
        Just("# Heading *one*\n\n".to_string()),
        Just("### Third level\n".to_string()),
        Just(
            "- one\n- two **bold**\n  - nested item that is long enough to wrap somewhere\n\n"
                .to_string()
        ),
        Just("1. first\n2. second with a [link](https://example.com/a/long/path)\n\n".to_string()),
        Just(
            "1. step\n\n   ```sh\n   cargo build\n\n   cargo test\n   ```\n\n2. next\n".to_string()
        ),
        Just("- [x] done\n- [ ] todo\n".to_string()),
        Just("> quoted *text* that goes on\n> and on\n>\n> > nested\n\n".to_string()),
        Just("| a | b |\n|---|:-:|\n| 1 | 漢字 |\n| long cell value here | 🦀 |\n\n".to_string()),
        Just("```rust\nfn main() {\n    println!(\"hi\");\n\n    /* open\n}\n```\n".to_string()),
        Just("```\nplain fence\n\nwith blank line\n```\n\n".to_string()),
        Just("~~~python\nprint('x')  # c\n~~~\n".to_string()),
        Just("```ts\nconst unterminated = 1;\n".to_string()),
        Just("````md\n```inner```\n````\n".to_string()),
        Just("    indented code\n\n    more\n\n".to_string()),
        Just("---\n\n".to_string()),
        Just("![alt text](img.png) and <https://auto.link>\n\n".to_string()),
        Just("中文文本，带有一些宽字符。😀👩‍👩‍👧 emoji e\u{301}\n\n".to_string()),
        Just("<div>\nhtml\n</div>\n\n".to_string()),
        Just("\n".to_string()),
        Just("   \n".to_string()),
        "\\PC{0,30}",
    ]
}

fn doc() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..10).prop_map(|v| v.concat())
}

/// Cut points (in bytes, moved to char boundaries) splitting `src` into deltas.
fn cuts(src: &str, raw: &[usize]) -> Vec<usize> {
    let mut c: Vec<usize> = raw
        .iter()
        .map(|&r| {
            let mut i = if src.is_empty() {
                0
            } else {
                r % (src.len() + 1)
            };
            while !src.is_char_boundary(i) {
                i += 1;
            }
            i
        })
        .collect();
    c.push(src.len());
    c.sort_unstable();
    c.dedup();
    c
}

fn assert_fits(lines: &[Line], width: u16) -> Result<(), TestCaseError> {
    let w = usize::from(width.max(1));
    for l in lines {
        prop_assert!(
            l.width() <= w,
            "line {:?} is {} wide at width {}",
            l.to_string(),
            l.width(),
            width
        );
    }
    Ok(())
}

fn stream_matches(src: &str, raw_cuts: &[usize], widths: &[u16]) -> Result<(), TestCaseError> {
    let mut s = StreamingMarkdown::new();
    let mut at = 0;
    for (k, end) in cuts(src, raw_cuts).into_iter().enumerate() {
        s.push(&src[at..end]);
        at = end;
        // Alternate widths mid-stream too, as a resizing pane would.
        let w = widths[k % widths.len()];
        assert_fits(s.lines(w), w)?;
    }
    prop_assert_eq!(s.source(), src);
    s.finish();
    for &w in widths {
        let want = render(src, w);
        assert_fits(&want, w)?;
        prop_assert_eq!(s.lines(w), &want[..], "width {}", w);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn streaming_equals_render(src in doc(), raw in prop::collection::vec(any::<usize>(), 0..40)) {
        stream_matches(&src, &raw, &[80, 1, 23, 0, 7])?;
    }

    #[test]
    fn char_by_char_streaming_equals_render(src in doc()) {
        let raw: Vec<usize> = src.char_indices().map(|(i, _)| i).collect();
        stream_matches(&src, &raw, &[40, 12])?;
    }

    #[test]
    fn arbitrary_text_never_panics_or_overflows(src in any::<String>(), raw in prop::collection::vec(any::<usize>(), 0..10), w in 0u16..120) {
        stream_matches(&src, &raw, &[w, 3])?;
        let _ = code_blocks(&src);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), w in 0u16..50) {
        let src = String::from_utf8_lossy(&bytes);
        assert_fits(&render(&src, w), w)?;
        let _ = code_blocks(&src);
    }

    #[test]
    fn code_block_numbers_match_code_blocks(src in doc()) {
        let n = code_blocks(&src).len();
        let text: Vec<String> = render(&src, 200).iter().map(|l| l.to_string()).collect();
        let headers = text.iter().filter(|l| l.trim_start().starts_with("── ") && l.ends_with("] ──")).count();
        prop_assert_eq!(headers, n, "{:#?}", text);
        if n > 0 {
            let last = format!("[{n}] ──");
            prop_assert!(text.iter().any(|l| l.ends_with(&last)));
        }
    }
}

#[test]
fn retried_answer_replaces_the_stream() {
    let mut s = StreamingMarkdown::new();
    s.push("# first try\n\n```rust\nfn a");
    let _ = s.lines(40);
    s.replace("second *answer*".to_string());
    s.finish();
    assert_eq!(s.lines(40), &render("second *answer*", 40)[..]);
}
