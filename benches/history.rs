//! History at scale: a database of 100 000 answers (10 000 conversations × 5 prompts × 2
//! panes, answers of about 600 characters of varied prose), built once in a temporary
//! directory. Measured: full-text searches (two common words, two rare ones; the latest 200
//! hits with snippets), the F7 list
//! (latest 500 conversations with their models and totals), and what `switchyard -c` does
//! before its first frame: open the database, find and read the last conversation, rebuild
//! its panes, and draw one 160×48 frame.

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use switchyard::history::store::Store;
use switchyard::history::writer::Head;
use switchyard::history::{Finish, MessageEnd, PaneRecord};

const CONVERSATIONS: usize = 10_000;
const TURNS: usize = 5;
const PANES: usize = 2;

const SYLLABLES: &[&str] = &[
    "ka", "ren", "to", "mi", "sal", "vor", "de", "lin", "qua", "bes", "tor", "ny", "gal", "pe",
    "ros", "um", "fi", "dra", "sko", "wen",
];

/// Deterministic prose of about `len` characters: words of 1–3 syllables (8 000 distinct
/// words), with `the` and `answer` common, as real text has a few very common words.
fn prose(seed: u64, len: usize) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        match (x >> 40) % 10 {
            0 | 1 => s.push_str("the"),
            2 => s.push_str("answer"),
            _ => {
                for i in 0..1 + (x >> 30) % 3 {
                    s.push_str(SYLLABLES[((x >> (8 + 5 * i)) % 20) as usize]);
                }
            }
        }
        s.push(if (x >> 20).is_multiple_of(11) {
            '.'
        } else {
            ' '
        });
    }
    s
}

fn build(path: &Path) {
    let mut s = Store::open(path).unwrap();
    s.begin_session().unwrap();
    let mut n = 0u64;
    for c in 0..CONVERSATIONS {
        let head = Head {
            uid: format!("{c:08}"),
            title: format!("conversation {c}"),
            created_ms: 1_700_000_000_000 + c as i64 * 1000,
            forked_from: None,
        };
        let panes: Vec<PaneRecord> = (0..PANES)
            .map(|p| PaneRecord {
                slot: p as u32 + 1,
                model: format!("bench/model-{p}"),
                settings: serde_json::json!({}),
            })
            .collect();
        for t in 0..TURNS {
            n += 1;
            let ids = s
                .begin_turn(&head, t as u32, &prose(n, 80), head.created_ms, &panes)
                .unwrap();
            for id in ids {
                n += 1;
                s.finish(
                    id,
                    &MessageEnd {
                        content: prose(n, 600),
                        state: Some(Finish::Complete),
                        completion_tokens: Some(150),
                        prompt_tokens: Some(20),
                        cost: Some(0.0001),
                        ..Default::default()
                    },
                    false,
                )
                .unwrap();
            }
        }
    }
    s.end_session().unwrap();
}

fn database() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sy-bench-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.db");
    let t = std::time::Instant::now();
    build(&path);
    eprintln!(
        "built {} answers in {:.1} s ({:.0} MB)",
        CONVERSATIONS * TURNS * PANES,
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / 1e6
    );
    path
}

fn bench(c: &mut Criterion) {
    let path = database();
    let store = Store::open_read_only(&path).unwrap();
    let mut g = c.benchmark_group("history_100k_messages");
    g.sample_size(20);
    // Two words most answers have: the worst case for a search.
    g.bench_function("search_common_words", |b| {
        b.iter(|| {
            let hits = store.search(black_box("the answer"), 200).unwrap();
            assert_eq!(hits.len(), 200);
            hits
        })
    });
    // A rare word (in about one answer in three hundred) beside a common one.
    g.bench_function("search_rare_word", |b| {
        b.iter(|| {
            let hits = store.search(black_box("answer kamisal"), 200).unwrap();
            assert!(!hits.is_empty());
            hits
        })
    });
    g.bench_function("list_latest_500", |b| {
        b.iter(|| store.list(black_box(500)).unwrap())
    });
    g.bench_function("continue_last_to_first_frame", |b| {
        b.iter(|| {
            let store = Store::open(&path).unwrap();
            let uid = store.last().unwrap().unwrap();
            let conv = store.load(&uid).unwrap().unwrap();
            let mut app = switchyard::app::state::App::new(&[], "bench");
            assert!(app.open_conversation(&conv).is_none());
            let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
            term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
            term
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

criterion_group!(benches, bench);
criterion_main!(benches);
