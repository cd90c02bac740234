//! The panels' settings kept between runs (`panels.json` in the state directory): the settings
//! new panes start with, and each model's pane settings. Saved whole on every apply; a damaged
//! file is reported and ignored, never trusted in part.

use crate::settings::RequestSettings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest settings file read back.
const MAX_BYTES: u64 = 1024 * 1024;

/// What is kept.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SavedSettings {
    /// What new panes start with.
    pub defaults: RequestSettings,
    /// Each model's pane settings.
    pub models: BTreeMap<String, RequestSettings>,
}

/// Where the panels' settings live (none without a state directory).
pub fn path() -> Option<PathBuf> {
    crate::health_store::state_dir().map(|d| d.join("panels.json"))
}

/// Reads the saved settings: none yet is `Ok(default)`; damaged is an error in words.
pub fn load(path: &Path) -> Result<SavedSettings, String> {
    let text = match crate::small_file::read(path, MAX_BYTES) {
        Ok(t) => t,
        Err(crate::small_file::ReadError::NotFound) => return Ok(SavedSettings::default()),
        Err(e) => return Err(format!("saved panel settings {}: {e}", path.display())),
    };
    let saved: SavedSettings = serde_json::from_str(&text).map_err(|e| {
        format!(
            "saved panel settings {} are damaged and were ignored: {e}",
            path.display()
        )
    })?;
    // Saved values pass the same checks as flags, or none of them is used.
    for (what, s) in std::iter::once(("defaults", &saved.defaults))
        .chain(saved.models.iter().map(|(m, s)| (m.as_str(), s)))
    {
        if let Err((field, msg)) = s.check() {
            return Err(format!(
                "saved panel settings {} were ignored: {what}: {field} {msg}",
                path.display()
            ));
        }
    }
    Ok(saved)
}

/// Saves the settings whole.
pub fn save(path: &Path, saved: &SavedSettings) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(saved).map_err(|e| e.to_string())?;
    crate::health_store::write_atomic(path, &json)
        .map_err(|e| format!("cannot save panel settings to {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_missing_damaged_and_out_of_range_files() {
        let dir = std::env::temp_dir().join(format!("switchyard-panels-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("panels.json");
        assert_eq!(load(&p), Ok(SavedSettings::default()));
        let mut saved = SavedSettings::default();
        saved.models.insert(
            "m/a".into(),
            RequestSettings {
                temperature: Some(0.3),
                eu: true,
                ..Default::default()
            },
        );
        save(&p, &saved).unwrap();
        assert_eq!(load(&p), Ok(saved));
        std::fs::write(&p, "{not json").unwrap();
        assert!(load(&p).unwrap_err().contains("damaged and were ignored"));
        std::fs::write(&p, r#"{"models":{"m/a":{"temperature":9}}}"#).unwrap();
        assert!(load(&p).unwrap_err().contains("temperature"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
