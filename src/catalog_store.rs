//! The source's model list kept on disk between runs, with the time it was fetched, so the
//! catalog browser opens at once (and offline) while a fresh list is fetched in the background.

use crate::wire::catalog::Model;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Largest cache read back (a real catalog is about 1 MB).
pub const MAX_BYTES: u64 = 32 * 1024 * 1024;

/// What is kept.
#[derive(Debug, Serialize, Deserialize)]
pub struct Cached {
    /// When it was fetched, ms since 1970.
    pub fetched_ms: i64,
    /// The list.
    pub models: Vec<Model>,
}

/// Where `source`'s list is kept (by the source's label).
pub fn path(source: &str) -> Option<PathBuf> {
    crate::health_store::file_for("catalog", source)
}

/// The kept list; `Ok(None)` when there is none yet, `Err` when it is damaged (then ignored).
pub fn load(path: &Path) -> Result<Option<Cached>, String> {
    match crate::small_file::read(path, MAX_BYTES) {
        Ok(t) => serde_json::from_str(&t).map(Some).map_err(|e| {
            format!(
                "the cached model list {} is damaged ({e}); fetching anew",
                path.display()
            )
        }),
        Err(crate::small_file::ReadError::NotFound) => Ok(None),
        Err(e) => Err(format!("the cached model list {}: {e}", path.display())),
    }
}

/// Keeps `models` as fetched at `fetched_ms`.
pub fn save(path: &Path, models: &[Model], fetched_ms: i64) -> Result<(), String> {
    let c = CachedRef { fetched_ms, models };
    let bytes = serde_json::to_vec(&c).expect("a catalog always serializes");
    crate::health_store::write_atomic(path, &bytes)
        .map_err(|e| format!("cannot keep the model list in {}: {e}", path.display()))
}

#[derive(Serialize)]
struct CachedRef<'a> {
    fetched_ms: i64,
    models: &'a [Model],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_list_comes_back_with_its_time_and_a_damaged_one_is_said() {
        let dir = std::env::temp_dir().join(format!("sy-catalog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("catalog-x.json");
        assert!(load(&p).unwrap().is_none());
        let m = Model {
            id: "a/b".into(),
            context_length: Some(8192),
            ..Default::default()
        };
        save(&p, std::slice::from_ref(&m), 42).unwrap();
        let c = load(&p).unwrap().unwrap();
        assert_eq!((c.fetched_ms, c.models), (42, vec![m]));
        std::fs::write(&p, "{").unwrap();
        assert!(load(&p).unwrap_err().contains("damaged"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
