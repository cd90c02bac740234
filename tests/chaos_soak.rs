//! The short chaos soak (the long one is `cargo bench --bench chaos`): seeded faults on every
//! provider, eight requests at a time, and every request ends, no success is cut short, and
//! tasks, descriptors and memory come back.

mod chaos;

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_chaos_soak_ends_every_request_and_cuts_no_success_short() {
    let rounds = 12;
    let mut soak = chaos::Soak::start(11, rounds).await;
    for _ in 0..rounds {
        soak.round(Duration::from_secs(60)).await;
    }
    let r = soak.finish().await;
    eprintln!("{r:?}");
    assert_eq!(r.ended, 8 * rounds as usize);
    assert!(r.retries >= 8, "the faults were felt: {r:?}");
    assert!(
        r.truncated.is_empty(),
        "successes cut short: {:?}",
        r.truncated
    );
    assert!(
        r.answered >= r.ended / 2,
        "the router answers most requests through the faults: {r:?}"
    );
    assert!(r.tasks.1 <= r.tasks.0, "tasks leaked: {r:?}");
    assert!(r.fds.1 <= r.fds.0 + 16, "descriptors leaked: {r:?}");
    assert!(r.rss_mb.1 - r.rss_mb.0 < 40.0, "memory grew: {r:?}");
}
