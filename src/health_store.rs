//! Where routing health is kept between runs (the state directory), and reading and writing it.
//! A missing file is a first run; an unreadable or malformed one is reported and ignored, never
//! fatal. Writes go to a temporary file renamed into place, so a crash never leaves half a file.

use crate::routing::persist::{FORMAT_VERSION, SavedHealth};
use std::path::{Path, PathBuf};

/// Environment variable that overrides the state directory.
pub const STATE_DIR_ENV: &str = "SWITCHYARD_STATE_DIR";

/// The state directory: `$SWITCHYARD_STATE_DIR`, else the platform's state (or data) directory.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(STATE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    use etcetera::BaseStrategy;
    let s = etcetera::choose_base_strategy().ok()?;
    Some(
        s.state_dir()
            .unwrap_or_else(|| s.data_dir())
            .join("switchyard"),
    )
}

/// The health file of one source (`key` names it: `fleet`, a config provider set, …). Keys
/// that are not already safe file names get a short hash of the whole key, so two keys never
/// share a file, and long keys are shortened.
pub fn path_for(key: &str) -> Option<PathBuf> {
    file_for("health", key)
}

/// The state directory's `{prefix}-{key}.json`, `key` made a safe file name (a hash added
/// when it had to be changed, so two keys never share a file).
pub fn file_for(prefix: &str, key: &str) -> Option<PathBuf> {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let name = if safe == key {
        safe
    } else {
        // FNV-1a: stable across runs and platforms, unlike the std hasher.
        let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{safe}-{:08x}", h as u32)
    };
    Some(state_dir()?.join(format!("{prefix}-{name}.json")))
}

/// Largest health file read back.
pub const MAX_HEALTH_BYTES: u64 = 32 * 1024 * 1024;

/// Reads saved health; `Ok(None)` when there is none yet.
pub fn load(path: &Path) -> Result<Option<SavedHealth>, String> {
    // 20 000 saved outcomes are a few MB; anything far larger is not ours.
    let text = match crate::small_file::read(path, MAX_HEALTH_BYTES) {
        Ok(t) => t,
        Err(crate::small_file::ReadError::NotFound) => return Ok(None),
        Err(crate::small_file::ReadError::Other(e)) => {
            return Err(format!(
                "cannot use {} ({e}); starting with no history",
                path.display()
            ));
        }
    };
    let saved: SavedHealth = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not valid saved health ({e}); starting with no history",
            path.display()
        )
    })?;
    if saved.version != FORMAT_VERSION {
        return Err(format!(
            "{} has format version {} (expected {FORMAT_VERSION}); starting with no history",
            path.display(),
            saved.version
        ));
    }
    Ok(Some(saved))
}

/// Writes saved health atomically, creating the directory.
pub fn save(path: &Path, saved: &SavedHealth) -> Result<(), String> {
    let json =
        serde_json::to_vec_pretty(saved).map_err(|e| format!("cannot encode health: {e}"))?;
    write_atomic(path, &json)
        .map_err(|e| format!("cannot save routing health to {}: {e}", path.display()))
}

/// Writes `bytes` to `path` whole or not at all (a temporary file renamed over it), creating
/// the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // One temporary file per write: two saves of one process (the minute timer and quitting)
    // may overlap, and the last rename wins whole.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("tmp");
    let tmp = path.with_extension(format!("{ext}.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_missing_and_malformed_files() {
        let dir = std::env::temp_dir().join(format!("switchyard-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("sub").join("health-x.json");
        assert_eq!(load(&p), Ok(None));
        let saved = SavedHealth {
            server: None,
            version: FORMAT_VERSION,
            saved_at_unix_ms: 42,
            endpoints: vec![],
        };
        save(&p, &saved).unwrap();
        assert_eq!(load(&p), Ok(Some(saved.clone())));
        std::fs::write(&p, "{ not json").unwrap();
        let e = load(&p).unwrap_err();
        assert!(
            e.contains("health-x.json") && e.contains("no history"),
            "{e}"
        );
        std::fs::write(&p, r#"{"version":99,"saved_at_unix_ms":0,"endpoints":[]}"#).unwrap();
        assert!(load(&p).unwrap_err().contains("version 99"));
        // Overlapping saves each land whole, and leave no temporary files behind.
        std::thread::scope(|sc| {
            for _ in 0..8 {
                sc.spawn(|| save(&p, &saved).unwrap());
            }
        });
        assert_eq!(load(&p), Ok(Some(saved.clone())));
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn file_names_are_safe_distinct_and_bounded() {
        let name = |k: &str| {
            path_for(k)
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(name("fleet"), "health-fleet.json");
        let odd = name("fleet ../x");
        assert!(
            odd.starts_with("health-fleet____x-") && !odd.contains('/'),
            "{odd}"
        );
        assert_ne!(name("config-a+b"), name("config-a_b"));
        assert_ne!(name("ÄÖ"), name("ÜÖ"));
        assert!(name(&"x".repeat(1000)).len() < 120);
    }
}
