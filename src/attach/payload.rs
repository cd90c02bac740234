//! What an attachment sends (pure): its `data:` URL held in memory until history has written
//! it, and from then on only the key history reads it back by. A 20 MB PDF would else stay
//! resident for the whole conversation, since every later turn sends it again.
//!
//! Every clone of an attachment shares one payload, so when history says the bytes are written
//! (`release`) the pane's copy lets go too; a request built before keeps its own reference
//! until it is done. No `Weak` is kept: an `Arc<str>`'s bytes live inside its allocation, which
//! a `Weak` would keep alive.

use crate::wire::request::Stored;
use std::sync::{Arc, Mutex};

/// An attachment's wire data, shared by its clones.
#[derive(Clone)]
pub struct Payload(Arc<Inner>);

struct Inner {
    /// How history finds it again (`data:` URLs only: an `https://` URL is sent as it is).
    key: Option<Stored>,
    /// Bytes the data adds to a request body.
    len: usize,
    slot: Mutex<Slot>,
}

enum Slot {
    /// Nothing to send (history kept the origin only).
    Absent,
    /// In memory for as long as this payload lives.
    Held(Arc<str>),
    /// Written to history: read back by whoever sends it.
    Stored,
}

impl Payload {
    /// Data in memory: a `data:` URL (found again by `hash`) or an `https://` URL.
    pub fn held(data: Arc<str>, hash: &str) -> Self {
        let key = decoded_len(&data).map(|bytes| Stored {
            hash: hash.into(),
            bytes,
        });
        Self(Arc::new(Inner {
            key,
            len: data.len(),
            slot: Mutex::new(Slot::Held(data)),
        }))
    }

    /// Data that history keeps and memory does not (a reopened conversation's): `len` is its
    /// `data:` URL's length.
    pub fn stored(key: Stored, len: usize) -> Self {
        Self(Arc::new(Inner {
            key: Some(key),
            len,
            slot: Mutex::new(Slot::Stored),
        }))
    }

    /// Nothing to send: history kept only where it came from.
    pub fn absent() -> Self {
        Self(Arc::new(Inner {
            key: None,
            len: 0,
            slot: Mutex::new(Slot::Absent),
        }))
    }

    /// The data, when it is in memory.
    pub fn get(&self) -> Option<Arc<str>> {
        match &*self.slot() {
            Slot::Absent => None,
            Slot::Held(d) => Some(d.clone()),
            Slot::Stored => None,
        }
    }

    /// History has written the bytes: memory lets go of them once the requests that hold them
    /// are done. An `https://` URL is kept (it is all there is).
    pub fn release(&self) {
        if self.0.key.is_none() {
            return;
        }
        let mut slot = self.slot();
        if matches!(&*slot, Slot::Held(_)) {
            *slot = Slot::Stored;
        }
    }

    /// The key history reads the data back by (`data:` URLs only).
    pub fn key(&self) -> Option<&Stored> {
        self.0.key.as_ref()
    }

    /// Whether there is nothing to send.
    pub fn is_absent(&self) -> bool {
        matches!(&*self.slot(), Slot::Absent)
    }

    /// Whether history has it and memory does not.
    pub fn is_released(&self) -> bool {
        matches!(&*self.slot(), Slot::Stored)
    }

    /// Bytes the data adds to a request body.
    pub fn len(&self) -> usize {
        self.0.len
    }

    /// Whether it adds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        // A panic elsewhere cannot leave the slot half-written: every write is one assignment.
        self.0.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl PartialEq for Payload {
    /// Two payloads are equal when they send the same bytes, wherever those are kept.
    fn eq(&self, other: &Self) -> bool {
        if Arc::ptr_eq(&self.0, &other.0) {
            return true;
        }
        match (&self.0.key, &other.0.key) {
            (Some(a), Some(b)) => a == b && self.0.len == other.0.len,
            (None, None) => self.get() == other.get(),
            _ => false,
        }
    }
}

impl std::fmt::Debug for Payload {
    /// The size and where it is, never the bytes (tens of MB, and no use in a log).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*self.slot() {
            Slot::Absent => "absent",
            Slot::Held(_) => "held",
            Slot::Stored => "stored",
        };
        write!(f, "Payload({} bytes, {state})", self.0.len)
    }
}

/// Bytes a `data:…;base64,` URL decodes to (None for any other URL).
pub fn decoded_len(url: &str) -> Option<u64> {
    let b64 = url.strip_prefix("data:")?.split_once(";base64,")?.1;
    let pad = b64.bytes().rev().take_while(|&b| b == b'=').count().min(2);
    Some((b64.len() / 4 * 3).saturating_sub(pad) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_payload_keeps_nothing_and_a_request_keeps_its_own() {
        let data: Arc<str> = "data:application/pdf;base64,JVBERg==".into();
        let p = Payload::held(data.clone(), "ab");
        let clone = p.clone();
        let in_flight = p.get().expect("held");
        drop(data);
        p.release();
        assert!(clone.is_released());
        assert_eq!(clone.get(), None, "every clone let go");
        assert_eq!(
            Arc::strong_count(&in_flight),
            1,
            "the request built before release is the last holder"
        );
        let weak = Arc::downgrade(&in_flight);
        drop(in_flight);
        assert_eq!(weak.upgrade(), None, "its end frees the bytes");
        assert_eq!(
            p.key(),
            Some(&Stored {
                hash: "ab".into(),
                bytes: 4
            })
        );
        assert_eq!(p.len(), "data:application/pdf;base64,JVBERg==".len());
    }

    #[test]
    fn urls_are_never_released_and_absent_sends_nothing() {
        let p = Payload::held("https://x/cat.png".into(), "ab");
        p.release();
        assert_eq!(p.get().as_deref(), Some("https://x/cat.png"));
        assert!(p.key().is_none() && !p.is_released());
        let a = Payload::absent();
        assert!(a.is_absent() && a.get().is_none() && a.is_empty());
    }

    #[test]
    fn equal_when_they_send_the_same_bytes() {
        let url = "data:image/png;base64,iVBORw0KGgo=";
        let held = Payload::held(url.into(), "h");
        let stored = Payload::stored(
            Stored {
                hash: "h".into(),
                bytes: 8,
            },
            url.len(),
        );
        assert_eq!(held, stored);
        assert_ne!(held, Payload::held(url.into(), "other"));
        assert_eq!(
            format!("{held:?}"),
            format!("Payload({} bytes, held)", url.len())
        );
    }

    #[test]
    fn decoded_lengths() {
        for bytes in 0..10usize {
            let data = vec![7u8; bytes];
            let url = crate::attach::data_url(crate::attach::Kind::Png, &data);
            assert_eq!(decoded_len(&url), Some(bytes as u64), "{url}");
        }
        assert_eq!(decoded_len("https://x/y.png"), None);
    }
}
