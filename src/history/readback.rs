//! Reads attachments back from history for the requests that send them again: a conversation
//! keeps a 20 MB PDF's bytes on disk, not in memory, between its turns (`attach::payload`).
//! Runs in the request's task, never the UI's; the panes of one prompt share one read.

use crate::wire::request::{ChatRequest, Stored};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where history is, and what of it is in memory now.
pub struct Readback {
    path: PathBuf,
    /// One reader at a time: eight panes sending the same PDF read it once, not eight times.
    reading: tokio::sync::Mutex<()>,
    /// What requests read back and still hold. Held strongly and pruned (`prune`) when a job
    /// ends: a `Weak<str>` would keep the whole allocation alive, since an `Arc<str>`'s bytes
    /// live inside it.
    cache: Mutex<HashMap<Stored, Arc<str>>>,
}

impl Readback {
    /// Reads from the history database at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            reading: tokio::sync::Mutex::new(()),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Lets go of what no request holds any more (called as each job ends).
    pub fn prune(&self) {
        self.cached().retain(|_, d| Arc::strong_count(d) > 1);
    }

    /// How many read-back attachments are in memory.
    pub fn in_memory(&self) -> usize {
        self.cached().len()
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, HashMap<Stored, Arc<str>>> {
        // Every change is one insert or retain: a panic elsewhere leaves the map whole.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fills every part of `req` whose bytes are only in history; an error names what could
    /// not be read (the request must then not be sent).
    pub async fn resolve(&self, req: &mut ChatRequest) -> Result<(), String> {
        let keys = req.unresolved();
        if keys.is_empty() {
            return Ok(());
        }
        let _one_reader = self.reading.lock().await;
        self.prune();
        let mut found: HashMap<Stored, Arc<str>> = HashMap::new();
        for key in keys {
            if let Some(d) = self.cached().get(&key).cloned() {
                found.insert(key, d);
                continue;
            }
            let path = self.path.clone();
            let k = key.clone();
            let read = tokio::task::spawn_blocking(move || {
                let store =
                    super::store::Store::open_read_only(&path).map_err(|e| e.to_string())?;
                store.attachment_data(&k)
            })
            .await
            .map_err(|e| format!("reading it back stopped: {e}"))?;
            let data: Arc<str> = match read {
                Ok(Some(d)) => d.into(),
                Ok(None) => {
                    return Err(format!(
                        "an attachment sent earlier in this conversation is no longer in history (sha256 {}…); nothing was sent: attach it again",
                        &key.hash[..key.hash.len().min(12)]
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "an attachment sent earlier in this conversation could not be read back from history ({e}); nothing was sent"
                    ));
                }
            };
            self.cached().insert(key.clone(), data.clone());
            found.insert(key, data);
        }
        let all = req.resolve(|k| found.get(k).cloned());
        debug_assert!(all, "every key was found above");
        Ok(())
    }
}

/// Runs a job, then lets `rb` drop what the job read back, also when the job is aborted
/// (Ctrl+C): the job's request is dropped before the prune. With `trim` (a request of tens of
/// MB) the freed memory then goes back to the system.
pub async fn pruning(
    rb: Option<Arc<Readback>>,
    trim: bool,
    job: impl std::future::Future<Output = ()>,
) {
    struct Prune(Option<Arc<Readback>>, bool);
    impl Drop for Prune {
        fn drop(&mut self) {
            if let Some(rb) = &self.0 {
                rb.prune();
            }
            if self.1 {
                crate::attach::load::trim_heap();
            }
        }
    }
    // Declared before the job is awaited, so dropped after it.
    let _prune = Prune(rb, trim);
    job.await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_one(data: &Arc<str>) -> Arc<Readback> {
        let rb = Arc::new(Readback::new(PathBuf::from("/nonexistent")));
        let key = Stored {
            hash: "h".into(),
            bytes: 1,
        };
        rb.cached().insert(key, data.clone());
        rb
    }

    #[tokio::test]
    async fn a_job_that_ends_or_is_aborted_leaves_nothing_in_memory() {
        let data: Arc<str> = "data:application/pdf;base64,eA==".into();
        let rb = with_one(&data);
        let held = data.clone();
        drop(data);
        let done = tokio::spawn(pruning(Some(rb.clone()), false, async move {
            assert_eq!(held.len(), 32);
        }));
        done.await.unwrap();
        assert_eq!(rb.in_memory(), 0, "ended: pruned after its request went");

        let data: Arc<str> = "data:application/pdf;base64,eA==".into();
        let rb = with_one(&data);
        let held = data.clone();
        drop(data);
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let stuck = tokio::spawn(pruning(Some(rb.clone()), false, async move {
            let _request = held;
            let _ = started_tx.send(());
            std::future::pending::<()>().await
        }));
        started.await.unwrap();
        assert_eq!(rb.in_memory(), 1, "in use while the job runs");
        stuck.abort();
        assert!(stuck.await.unwrap_err().is_cancelled());
        assert_eq!(rb.in_memory(), 0, "aborted: pruned after its request went");
    }

    #[test]
    fn prune_keeps_what_a_request_still_holds() {
        let data: Arc<str> = "data:x;base64,eA==".into();
        let rb = with_one(&data);
        rb.prune();
        assert_eq!(rb.in_memory(), 1);
        drop(data);
        rb.prune();
        assert_eq!(rb.in_memory(), 0);
    }
}
