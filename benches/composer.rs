//! Typing after a large paste: the cost of one key press (edit + frame) must not grow with the
//! prompt's size. Pastes of 0, 64 KB and 1 MB of 80-column prose lines, and one 1 MB line with
//! no newline; each iteration types one character and draws one 80×24 frame.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchyard::app::state::App;
use switchyard::app::update::{Msg, update};

fn prose(bytes: usize, newlines: bool) -> String {
    let line = "the quick brown fox jumps over the lazy dog while the router weighs prices ok";
    let mut s = String::with_capacity(bytes + 100);
    while s.len() < bytes {
        s.push_str(line);
        s.push(if newlines { '\n' } else { ' ' });
    }
    s.truncate(bytes);
    s
}

fn typing(c: &mut Criterion) {
    let mut g = c.benchmark_group("key_after_paste");
    for (name, bytes, newlines) in [
        ("empty", 0usize, true),
        ("64KB_lines", 64 * 1024, true),
        ("1MB_lines", 1024 * 1024, true),
        ("1MB_one_line", 1024 * 1024, false),
    ] {
        let mut app = App::new(&["bench/a".to_string(), "bench/b".to_string()], "bench");
        if bytes > 0 {
            update(&mut app, Msg::Paste(prose(bytes, newlines)));
        }
        let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
        term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
        let keys = ['a', 'b', 'c', ' '];
        let mut i = 0usize;
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                i += 1;
                let k = KeyEvent::new(KeyCode::Char(keys[i % keys.len()]), KeyModifiers::NONE);
                update(&mut app, Msg::Key(k));
                term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = typing
}
criterion_main!(benches);
