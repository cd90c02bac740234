//! SSE parse + chunk decode throughput on a realistic OpenRouter stream fed in network-sized reads.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use switchyard::sse::SseParser;
use switchyard::wire::chunk::StreamDecoder;

/// ~1 MB of chunks shaped like real traffic, with keep-alives and multi-byte text.
fn stream() -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..5 {
        s.push_str(": OPENROUTER PROCESSING\n\n");
    }
    let words = [
        "Quick",
        "sort",
        " is",
        " a",
        " divide",
        "-and-",
        "conquer",
        " algorithm",
        " — ",
        "漢字",
        " 🦀",
        "\n\n```rust\n",
        "fn",
        " main() {}",
        "\n```\n",
    ];
    let mut i = 0;
    while s.len() < 1_000_000 {
        let c = serde_json::json!({
            "id": "gen-1762064096-m5VxL2xrxOREwashCey6", "provider": "xAI", "model": "x-ai/grok-4",
            "object": "chat.completion.chunk", "created": 1762064097,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": words[i % words.len()]},
                         "finish_reason": null, "native_finish_reason": null, "logprobs": null}]
        });
        s.push_str(&format!("data: {c}\n\n"));
        i += 1;
    }
    s.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\ndata: [DONE]\n\n");
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let bytes = stream();
    let mut g = c.benchmark_group("sse");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("parse_1MB_in_4KiB_reads", |b| {
        b.iter(|| {
            let mut p = SseParser::new();
            let mut items = Vec::new();
            for part in bytes.chunks(4096) {
                p.feed(part, &mut items);
            }
            black_box(items.len())
        })
    });
    g.bench_function("parse_and_decode_1MB_in_4KiB_reads", |b| {
        b.iter(|| {
            let mut p = SseParser::new();
            let mut d = StreamDecoder::new();
            let mut items = Vec::new();
            let mut events = Vec::new();
            let mut n = 0;
            for part in bytes.chunks(4096) {
                p.feed(part, &mut items);
                for it in items.drain(..) {
                    d.decode(it, &mut events);
                }
                n += events.len();
                events.clear();
            }
            black_box(n)
        })
    });
    g.finish();
}

/// One `data:` line of 1, 8 and 64 MB in 16 KiB reads: parsing must stay linear in bytes.
fn single_event(c: &mut Criterion) {
    let mut g = c.benchmark_group("sse_single_event");
    g.sample_size(10);
    for mb in [1usize, 8, 64] {
        let line = format!("data: {}\n\n", "x".repeat(mb << 20)).into_bytes();
        g.throughput(Throughput::Bytes(line.len() as u64));
        g.bench_function(format!("{mb}MB_in_16KiB_reads"), |b| {
            b.iter(|| {
                let mut p = SseParser::new();
                let mut items = Vec::new();
                for part in line.chunks(16 * 1024) {
                    p.feed(part, &mut items);
                }
                black_box(items.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, single_event);
criterion_main!(benches);
