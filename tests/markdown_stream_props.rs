//! Streaming markdown renders exactly like the finished document, however the deltas are split,
//! and no rendered line is ever wider than the pane.

use proptest::prelude::*;
use ratatui::text::Line;
use switchyard::markdown::{StreamingMarkdown, render};

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ,.]{1,60}".prop_map(|s| format!("{s}\n\n")),
        Just("# Heading one\n\n".to_string()),
        Just("## Sub *heading* `code`\n\n".to_string()),
        Just("- one\n- two **bold**\n  - nested item\n\n".to_string()),
        Just("1. first\n2. second with a [link](https://example.com)\n\n".to_string()),
        Just("> quoted *text* that goes on\n> and on\n\n".to_string()),
        Just("| a | b |\n|---|:-:|\n| 1 | 漢字 |\n| long cell value | 🦀 |\n\n".to_string()),
        Just("```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n\n".to_string()),
        Just("```\nplain fence\n\nwith blank line\n```\n".to_string()),
        Just("~~~python\nprint('x')\n~~~\n\n".to_string()),
        Just("```ts\nconst unterminated = 1;\n".to_string()),
        Just("text right after\nsoft break\n\n".to_string()),
        Just("---\n\n".to_string()),
        Just("- [x] done\n- [ ] todo\n\n".to_string()),
        "\\PC{0,30}".prop_map(|s| s),
    ]
}

fn doc() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..12).prop_map(|v| v.concat())
}

fn stream(
    doc: &str,
    cuts: &[usize],
    width: u16,
    mid: &mut Vec<Vec<Line<'static>>>,
) -> Vec<Line<'static>> {
    let mut s = StreamingMarkdown::new();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (doc.len() + 1)).collect();
    cuts.sort_unstable();
    let mut last = 0;
    for c in cuts {
        let c = (c..=doc.len()).find(|i| doc.is_char_boundary(*i)).unwrap();
        if c < last {
            continue;
        }
        s.push(&doc[last..c]);
        last = c;
        mid.push(s.lines(width).to_vec());
    }
    s.push(&doc[last..]);
    s.finish();
    s.lines(width).to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_split_renders_like_the_whole(d in doc(), cuts in prop::collection::vec(any::<usize>(), 0..25), width in 8u16..120) {
        let mut mid = Vec::new();
        let streamed = stream(&d, &cuts, width, &mut mid);
        prop_assert_eq!(streamed, render(&d, width));
        for lines in mid {
            for l in lines {
                prop_assert!(l.width() <= width as usize, "line wider than {}: {:?}", width, l);
            }
        }
    }

    #[test]
    fn resizing_mid_stream_matches_too(d in doc(), w1 in 8u16..100, w2 in 8u16..100) {
        let mut s = StreamingMarkdown::new();
        let half = (d.len() / 2..=d.len()).find(|i| d.is_char_boundary(*i)).unwrap();
        s.push(&d[..half]);
        let _ = s.lines(w1);
        s.push(&d[half..]);
        let _ = s.lines(w2);
        s.finish();
        prop_assert_eq!(s.lines(w1).to_vec(), render(&d, w1));
    }

    #[test]
    fn arbitrary_text_never_panics(d in "\\PC{0,400}", width in 1u16..60) {
        let lines = render(&d, width);
        for l in lines {
            prop_assert!(l.width() <= (width as usize).max(2));
        }
    }
}
