//! Reads attachments back from history for the requests that send them again: a conversation
//! keeps a 20 MB PDF's bytes on disk, not in memory, between its turns (`attach::payload`).
//! Runs in the request's task, never the UI's; the panes of one prompt share one read.

use crate::wire::request::{ChatRequest, Stored};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};

/// Where history is, and what of it is in memory now.
pub struct Readback {
    path: PathBuf,
    /// Held weakly: the data lives as long as a request needs it, and the next pane reuses it.
    cache: tokio::sync::Mutex<HashMap<Stored, Weak<str>>>,
}

impl Readback {
    /// Reads from the history database at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            cache: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Fills every part of `req` whose bytes are only in history; an error names what could
    /// not be read (the request must then not be sent).
    pub async fn resolve(&self, req: &mut ChatRequest) -> Result<(), String> {
        let keys = req.unresolved();
        if keys.is_empty() {
            return Ok(());
        }
        // One reader at a time: eight panes sending the same PDF read it once, not eight times.
        let mut cache = self.cache.lock().await;
        cache.retain(|_, w| w.strong_count() > 0);
        let mut found: HashMap<Stored, Arc<str>> = HashMap::new();
        for key in keys {
            if let Some(d) = cache.get(&key).and_then(Weak::upgrade) {
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
            cache.insert(key.clone(), Arc::downgrade(&data));
            found.insert(key, data);
        }
        drop(cache);
        let all = req.resolve(|k| found.get(k).cloned());
        debug_assert!(all, "every key was found above");
        Ok(())
    }
}
