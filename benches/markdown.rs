//! Markdown rendering: a whole ~4000-token answer, and the same answer streamed in ~4000
//! deltas with a frame every 8 deltas (what a 60 fps UI sees: `line_count(80)` and the last 40
//! lines through `lines_in`).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use switchyard::markdown::{StreamingMarkdown, render, warm_up};

/// A realistic long answer: prose, lists, a table, quotes and three code blocks (~16 KB).
fn answer() -> String {
    let mut s = String::from("# Building a rate limiter\n\n");
    let prose = "A token bucket refills at a fixed rate and lets short bursts through, which is usually what an API client wants. The **key** idea is to keep the *state* small: the number of tokens and the time of the last refill, updated with `saturating_sub` so nothing overflows. See [the docs](https://docs.rs/tokio) for details.\n\n";
    let code = [
        "```rust\nuse std::time::{Duration, Instant};\n\n/// A token bucket.\npub struct Bucket {\n    tokens: f64,\n    capacity: f64,\n    rate: f64,\n    last: Instant,\n}\n\nimpl Bucket {\n    pub fn new(capacity: f64, rate: f64) -> Self {\n        Self { tokens: capacity, capacity, rate, last: Instant::now() }\n    }\n\n    pub fn try_take(&mut self, n: f64) -> bool {\n        let now = Instant::now();\n        let dt = now.duration_since(self.last).as_secs_f64();\n        self.tokens = (self.tokens + dt * self.rate).min(self.capacity);\n        self.last = now;\n        if self.tokens >= n {\n            self.tokens -= n;\n            true\n        } else {\n            false\n        }\n    }\n}\n```\n\n",
        "```python\nimport time\n\nclass Bucket:\n    def __init__(self, capacity: float, rate: float) -> None:\n        self.tokens = capacity\n        self.capacity = capacity\n        self.rate = rate\n        self.last = time.monotonic()\n\n    def try_take(self, n: float = 1.0) -> bool:\n        now = time.monotonic()\n        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)\n        self.last = now\n        if self.tokens >= n:\n            self.tokens -= n\n            return True\n        return False\n```\n\n",
        "```toml\n[limits]\ncapacity = 20\nrate = 5.0 # tokens per second\n\n[limits.burst]\nenabled = true\nmax = 40\n```\n\n",
    ];
    for section in 0..10 {
        s.push_str(&format!("## Part {section}: design notes\n\n"));
        s.push_str(prose);
        s.push_str(prose);
        s.push_str("- refill lazily on each call\n- cap at capacity\n  - never negative\n- measure with a monotonic clock\n\n");
        s.push_str("> Note: wall clocks jump; monotonic clocks don't.\n\n");
        if section % 3 == 0 && section / 3 < code.len() {
            s.push_str(code[section / 3]);
        }
        s.push_str("| strategy | burst | memory |\n|:--|:-:|--:|\n| token bucket | yes | O(1) |\n| sliding window | no | O(n) |\n| fixed window | partly | O(1) |\n\n");
        s.push_str(prose);
    }
    s
}

/// Cuts `s` into about `n` deltas on char boundaries (token-sized pieces).
fn deltas(s: &str, n: usize) -> Vec<&str> {
    let step = (s.len() / n).max(1);
    let mut out = Vec::with_capacity(n + 1);
    let mut i = 0;
    while i < s.len() {
        let mut j = (i + step).min(s.len());
        while !s.is_char_boundary(j) {
            j += 1;
        }
        out.push(&s[i..j]);
        i = j;
    }
    out
}

fn bench(c: &mut Criterion) {
    warm_up();
    let doc = answer();
    eprintln!(
        "answer: {} bytes, {} deltas",
        doc.len(),
        deltas(&doc, 4000).len()
    );
    c.bench_function("markdown/render_4k_tokens_w80", |b| {
        b.iter(|| render(black_box(&doc), 80))
    });
    let parts = deltas(&doc, 4000);
    c.bench_function("markdown/stream_4k_deltas_lines_every_8", |b| {
        b.iter(|| {
            let mut s = StreamingMarkdown::new();
            let mut view = Vec::with_capacity(40);
            let mut frame = |s: &mut StreamingMarkdown| {
                let n = s.line_count(80);
                view.clear();
                s.lines_in(80, n.saturating_sub(40), 40, &mut view);
                black_box(view.len())
            };
            for (i, d) in parts.iter().enumerate() {
                s.push(d);
                if i % 8 == 7 {
                    frame(&mut s);
                }
            }
            s.finish();
            frame(&mut s)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
