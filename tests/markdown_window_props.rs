//! Windowed rendering (`line_count` + `lines_in`, what the UI uses) gives exactly the lines of
//! `render`, whatever the windows, their order, the deltas and resizes, and keeps the number of
//! rendered lines it holds bounded however long the message.

use proptest::prelude::*;
use ratatui::text::Line;
use switchyard::markdown::{StreamingMarkdown, render};

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ,.]{1,60}".prop_map(|s| format!("{s}\n\n")),
        Just("# Heading one\n\n".to_string()),
        Just("- one\n- two **bold**\n  - nested item\n\n".to_string()),
        Just("> quoted *text* that goes on\n> and on\n\n".to_string()),
        Just("| a | b |\n|---|:-:|\n| 1 | 漢字 |\n| long cell value | 🦀 |\n\n".to_string()),
        Just("```\nplain fence\n\nwith blank line\n```\n".to_string()),
        Just("```ts\nconst unterminated = 1;\n".to_string()),
        Just("1. step\n   ```sh\n   echo hi\n   ```\n\n".to_string()),
        // Long fences span several checkpoint chunks; comments carry state across them.
        (
            0usize..200,
            prop::sample::select(vec!["rust", "py", "", "toml"])
        )
            .prop_map(|(n, lang)| {
                let mut s = format!("```{lang}\n");
                for i in 0..n {
                    match i % 7 {
                        0 => s.push_str("/* open comment\n"),
                        3 => s.push_str(
                            "still inside */ let x = \"漢字 👩\u{200d}👩\u{200d}👧 e\u{301}\";\n",
                        ),
                        // Combining marks right after tokens of another scope split a cluster.
                        6 => s.push_str("x\u{301}=1\u{301}+\"\u{301}\"//\u{301}👩\u{200d}(👧)\n"),
                        5 => s.push_str(
                            "\tfn long_line_name_that_wraps(a: i32, b: i32) -> i32 { a + b }\n",
                        ),
                        _ => s.push_str(&format!("let v{i} = {i}; # comment\n")),
                    }
                }
                s.push_str("```\n\n");
                s
            }),
        "\\PC{0,30}".prop_map(|s| s),
    ]
}

fn doc() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..10).prop_map(|v| v.concat())
}

/// Checks every window against `want`, then reassembles the whole from consecutive windows.
fn check_windows(
    s: &mut StreamingMarkdown,
    width: u16,
    want: &[Line<'static>],
    windows: &[(usize, usize)],
) -> Result<(), TestCaseError> {
    let n = s.line_count(width);
    prop_assert_eq!(n, want.len(), "line count at width {}", width);
    for &(skip, take) in windows {
        let skip = skip % (n + 2);
        let take = take % 80;
        let mut got = Vec::new();
        s.lines_in(width, skip, take, &mut got);
        let lo = skip.min(n);
        let hi = (skip + take).min(n);
        prop_assert_eq!(
            &got[..],
            &want[lo..hi],
            "window {}+{} at width {}",
            skip,
            take,
            width
        );
    }
    let mut all = Vec::new();
    let mut at = 0;
    for &(_, take) in windows.iter().cycle().take(10_000) {
        if at >= n {
            break;
        }
        let take = take % 50 + 1;
        s.lines_in(width, at, take, &mut all);
        at += take;
    }
    if at < n {
        s.lines_in(width, at, n - at, &mut all);
    }
    prop_assert_eq!(&all[..], want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn windows_match_render_across_pushes_and_resize(
        d in doc(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        windows in prop::collection::vec((any::<usize>(), any::<usize>()), 1..12),
        w1 in 1u16..100,
        w2 in 1u16..100,
        budget in 0usize..300,
    ) {
        let mut s = StreamingMarkdown::with_cache_lines(budget);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (d.len() + 1)).collect();
        cuts.sort_unstable();
        let mut last = 0;
        for c in cuts {
            let c = (c..=d.len()).find(|i| d.is_char_boundary(*i)).unwrap();
            if c < last {
                continue;
            }
            s.push(&d[last..c]);
            last = c;
            // Mid-stream the reference is the same prefix streamed into a fresh renderer.
            let mut fresh = StreamingMarkdown::new();
            fresh.push(&d[..c]);
            let want = fresh.lines(w1).to_vec();
            check_windows(&mut s, w1, &want, &windows)?;
        }
        s.push(&d[last..]);
        s.finish();
        check_windows(&mut s, w2, &render(&d, w2), &windows)?;
        check_windows(&mut s, w1, &render(&d, w1), &windows)?;
    }
}

/// A long message: prose blocks and big fences, about 100 000 lines at 25 columns.
fn long_message() -> String {
    let mut s = String::new();
    for i in 0..250 {
        s.push_str(&format!(
            "Paragraph {i} explains **why** the partition step matters, with `inline code` and more words to wrap.\n\n"
        ));
        // Mostly plain fences: highlighting is slow in debug builds and counts don't need it.
        s.push_str(if i % 25 == 0 { "```rust\n" } else { "```\n" });
        for l in 0..200 {
            s.push_str(&format!(
                "let x{l} = v.iter().map(|x| x * {l}).sum::<i64>(); // {i}\n"
            ));
        }
        s.push_str("```\n\n");
    }
    s
}

#[test]
fn scrolling_through_a_long_message_keeps_few_lines() {
    let src = long_message();
    let mut s = StreamingMarkdown::new();
    for part in src.as_bytes().chunks(4096) {
        s.push(std::str::from_utf8(part).unwrap());
        let n = s.line_count(25);
        let mut v = Vec::new();
        s.lines_in(25, n.saturating_sub(40), 40, &mut v);
    }
    s.finish();
    let n = s.line_count(25);
    assert!(n > 100_000, "{n} lines");
    let mut held_max = 0;
    let mut top = 0;
    while top < n {
        let mut v = Vec::new();
        s.lines_in(25, top, 40, &mut v);
        assert_eq!(v.len(), 40.min(n - top));
        held_max = held_max.max(s.held_lines());
        top += 997;
    }
    // The budget is 512 lines plus at most one piece over it (a fence chunk here).
    assert!(held_max < 1_000, "held {held_max} rendered lines");
    // A resize drops the old width's lines and still stays bounded.
    let mut v = Vec::new();
    s.lines_in(60, 50_000, 40, &mut v);
    assert!(s.held_lines() < 1_000);
}
