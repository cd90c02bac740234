//! Routing presets saved by name (`presets.json` in the config directory): the routing panel
//! saves them, `--preset NAME` and the panel's preset field use them beside the built-in ones.
//! A damaged file is reported and ignored, never trusted in part.

use crate::wire::request::ProviderPreferences;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// User presets by name.
pub type Presets = BTreeMap<String, ProviderPreferences>;

/// Largest presets file read back.
const MAX_BYTES: u64 = 1024 * 1024;
/// Longest preset name.
const MAX_NAME: usize = 40;

/// Where user presets live (none without a config directory).
pub fn path() -> Option<PathBuf> {
    crate::config::Config::default_path().and_then(|p| p.parent().map(|d| d.join("presets.json")))
}

/// Reads the presets: none yet is empty; damaged is an error in words.
pub fn load(path: &Path) -> Result<Presets, String> {
    let text = match crate::small_file::read(path, MAX_BYTES) {
        Ok(t) => t,
        Err(crate::small_file::ReadError::NotFound) => return Ok(Presets::new()),
        Err(e) => return Err(format!("presets {}: {e}", path.display())),
    };
    let presets: Presets = serde_json::from_str(&text).map_err(|e| {
        format!(
            "presets {} are damaged and were ignored: {e}",
            path.display()
        )
    })?;
    for name in presets.keys() {
        if let Err(e) = check_name(name) {
            return Err(format!(
                "presets {} were ignored: “{name}”: {e}",
                path.display()
            ));
        }
    }
    Ok(presets)
}

/// Saves the presets whole (atomically).
pub fn save(path: &Path, presets: &Presets) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(presets).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    crate::health_store::write_atomic(path, &json)
        .map_err(|e| format!("cannot save presets to {}: {e}", path.display()))
}

/// A preset name's characters and length.
pub fn check_name(name: &str) -> Result<(), String> {
    crate::schema::check_identifier(name, MAX_NAME)
}

/// A name a new preset may take: well formed, not built in, not already saved.
pub fn check_new_name(name: &str, saved: &Presets) -> Result<(), String> {
    check_name(name)?;
    if crate::settings::preset(name).is_some() {
        return Err(format!(
            "“{name}” is a built-in preset; choose another name"
        ));
    }
    if saved.contains_key(name) {
        return Err(format!("a preset named “{name}” already exists"));
    }
    Ok(())
}

/// Every preset name, built-in first.
pub fn names(saved: &Presets) -> Vec<String> {
    crate::settings::PRESETS
        .iter()
        .map(|(n, _)| n.to_string())
        .chain(saved.keys().cloned())
        .collect()
}

/// A preset by name: built-in, then saved.
pub fn find(name: &str, saved: &Presets) -> Option<ProviderPreferences> {
    crate::settings::preset(name).or_else(|| saved.get(name).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::request::{ProviderSort, SortBy};

    #[test]
    fn presets_round_trip_and_names_are_checked() {
        let dir = std::env::temp_dir().join(format!("switchyard-presets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("presets.json");
        assert_eq!(load(&path), Ok(Presets::new()));
        let mut p = Presets::new();
        p.insert(
            "eu-fast".into(),
            ProviderPreferences {
                sort: Some(ProviderSort::By(SortBy::Throughput)),
                zdr: Some(true),
                ..Default::default()
            },
        );
        save(&path, &p).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back, p);
        assert_eq!(find("eu-fast", &back), p.get("eu-fast").cloned());
        assert!(find("cheapest", &back).is_some(), "built-ins are found too");
        assert_eq!(names(&back).last().map(String::as_str), Some("eu-fast"));
        assert!(
            check_new_name("eu-fast", &back)
                .unwrap_err()
                .contains("already exists")
        );
        assert!(
            check_new_name("cheapest", &back)
                .unwrap_err()
                .contains("built-in")
        );
        assert!(check_new_name("a b", &back).is_err());
        assert!(check_new_name("mine", &back).is_ok());
        std::fs::write(&path, "{\"bad name\": {}}").unwrap();
        assert!(load(&path).unwrap_err().contains("ignored"));
        std::fs::write(&path, "not json").unwrap();
        assert!(load(&path).unwrap_err().contains("damaged"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
