//! The long chaos soak: rounds of eight concurrent requests through seeded faults on every
//! provider (see `tests/chaos/mod.rs`), timed per round by criterion, then the soak's
//! invariants checked over every round run: each request ended, no success was cut short,
//! tasks and descriptors came back, memory stayed flat.

#[path = "../tests/chaos/mod.rs"]
mod chaos;

use criterion::Criterion;
use std::time::{Duration, Instant};

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(60));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Schedule enough fleet time for every round criterion may ask for.
    let mut soak = rt.block_on(chaos::Soak::start(23, 2000));
    c.bench_function("chaos_round_8_requests", |b| {
        b.iter_custom(|n| {
            let t = Instant::now();
            for _ in 0..n {
                rt.block_on(soak.round(Duration::from_secs(60)));
            }
            t.elapsed()
        })
    });
    let r = rt.block_on(soak.finish());
    println!("chaos soak: {r:?}");
    assert!(
        r.truncated.is_empty(),
        "successes cut short: {:?}",
        r.truncated
    );
    assert!(r.tasks.1 <= r.tasks.0, "tasks leaked: {r:?}");
    assert!(r.fds.1 <= r.fds.0 + 16, "descriptors leaked: {r:?}");
    assert!(r.rss_mb.1 - r.rss_mb.0 < 40.0, "memory grew: {r:?}");
    c.final_summary();
}
