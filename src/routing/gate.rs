//! Per-server concurrency gates: at most `limit` streams at once to one server; more wait in
//! line. A limit comes from the config (`max_concurrent`) or is learned when a server cuts a
//! running stream the moment another one starts (llama-cpp-python's default), so retries queue
//! instead of interrupting each other in turn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Server {
    /// Streams running now.
    active: u32,
    /// Requests waiting for a slot.
    waiting: u32,
    /// Most streams at once (`None`: no limit).
    limit: Option<u32>,
    /// Streams started so far (to tell whether another began during one).
    started: u64,
    /// The limit was learned from an interruption, not configured.
    learned: bool,
}

/// The gates of every server one router sends to.
#[derive(Debug, Default)]
pub struct Gates {
    servers: Mutex<HashMap<String, Server>>,
    freed: Notify,
}

/// A slot on a server; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    gates: Arc<Gates>,
    server: String,
    /// `started` when this slot was taken.
    started_at: u64,
    /// Other streams already running on the server when it was taken.
    others_at_start: u32,
}

impl Drop for Slot {
    fn drop(&mut self) {
        {
            let mut s = self.gates.lock();
            if let Some(srv) = s.get_mut(&self.server) {
                srv.active = srv.active.saturating_sub(1);
            }
        }
        self.gates.freed.notify_waiters();
    }
}

impl Gates {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Server>> {
        self.servers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a slot on `server` (configured limit `limit`); `on_queued` is told how many
    /// requests are ahead when it has to wait.
    pub async fn acquire(
        self: &Arc<Self>,
        server: &str,
        limit: Option<u32>,
        mut on_queued: impl FnMut(u32),
    ) -> Slot {
        let mut queued = false;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the check, so a slot freed in between is not missed.
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                let srv = s.entry(server.to_string()).or_default();
                if srv.limit.is_none() {
                    srv.limit = limit;
                }
                if srv.limit.is_none_or(|l| srv.active < l) {
                    let others_at_start = srv.active;
                    srv.active += 1;
                    srv.started += 1;
                    if queued {
                        srv.waiting = srv.waiting.saturating_sub(1);
                    }
                    return Slot {
                        gates: self.clone(),
                        server: server.to_string(),
                        started_at: srv.started,
                        others_at_start,
                    };
                }
                if !queued {
                    queued = true;
                    let ahead = srv.active + srv.waiting;
                    srv.waiting += 1;
                    drop(s);
                    on_queued(ahead);
                }
            }
            freed.await;
        }
    }

    /// Whether another stream ran on the slot's server while it was held (already running
    /// when it was taken, or started since: either request may have reached the server first).
    pub fn overlapped(&self, slot: &Slot) -> bool {
        slot.others_at_start > 0
            || self
                .lock()
                .get(&slot.server)
                .is_some_and(|s| s.started > slot.started_at)
    }

    /// Limits `server` to one stream at a time (it interrupts one when another starts);
    /// `true` when this is news.
    pub fn learn_single(&self, server: &str) -> bool {
        let mut s = self.lock();
        let srv = s.entry(server.to_string()).or_default();
        if srv.limit == Some(1) {
            return false;
        }
        srv.limit = Some(1);
        srv.learned = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_limit_of_one_queues_the_second_request_until_the_first_ends() {
        let g = Arc::new(Gates::default());
        let first = g.acquire("s", Some(1), |_| panic!("no wait")).await;
        let g2 = g.clone();
        let waiter = tokio::spawn(async move {
            let mut told = None;
            let slot = g2.acquire("s", Some(1), |n| told = Some(n)).await;
            (told, slot.started_at)
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "the second waits");
        assert!(!g.overlapped(&first));
        drop(first);
        let (told, _) = waiter.await.unwrap();
        assert_eq!(told, Some(1), "queued behind one request");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_limit_nobody_waits_and_overlap_is_seen() {
        let g = Arc::new(Gates::default());
        let a = g.acquire("s", None, |_| panic!("no wait")).await;
        let b = g.acquire("s", None, |_| panic!("no wait")).await;
        // Either may have reached the server first: both saw the other.
        assert!(g.overlapped(&a) && g.overlapped(&b));
        assert!(g.learn_single("s"));
        assert!(!g.learn_single("s"));
    }
}
