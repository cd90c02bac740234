//! JSON schemas kept as files in the `schemas/` folder of the config directory: listed (bounded)
//! at start for the structured-output panel, and saved from it by name.

use std::path::{Path, PathBuf};

/// Most schema files listed.
const MAX_FILES: usize = 100;

/// One schema file: its name without `.json`, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// File name without `.json`.
    pub name: String,
    /// The file's text (not yet checked).
    pub text: String,
}

/// The `schemas/` folder beside the config file.
pub fn dir() -> Option<PathBuf> {
    crate::config::Config::default_path().and_then(|p| p.parent().map(|d| d.join("schemas")))
}

/// The `*.json` files of `dir`, by name, each at most the schema size cap; what could not be
/// read is a warning, never an error (no folder yet is no schemas).
pub fn load_all(dir: &Path) -> (Vec<SchemaFile>, Vec<String>) {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (files, warnings);
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    if paths.len() > MAX_FILES {
        warnings.push(format!(
            "{}: {} schema files; only the first {MAX_FILES} are listed",
            dir.display(),
            paths.len()
        ));
        paths.truncate(MAX_FILES);
    }
    for p in paths {
        let name = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        match crate::small_file::read(&p, crate::schema::MAX_SCHEMA_BYTES as u64) {
            Ok(text) => files.push(SchemaFile { name, text }),
            Err(e) => warnings.push(format!("schema {}: {e}", p.display())),
        }
    }
    (files, warnings)
}

/// Saves `text` as `dir/name.json` (atomically); returns the path.
pub fn save(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    // The API's `name` characters, so a file's name is also a valid schema name.
    crate::schema::check_name(name)?;
    let path = dir.join(format!("{name}.json"));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    crate::health_store::write_atomic(&path, text.as_bytes())
        .map_err(|e| format!("cannot save the schema to {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_schemas_are_listed_back_by_name_and_bad_names_refused() {
        let dir = std::env::temp_dir().join(format!("switchyard-schemas-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(load_all(&dir), (vec![], vec![]), "no folder: no schemas");
        save(&dir, "b-one", "{}").unwrap();
        save(&dir, "a_two", "{\"type\": \"object\"}").unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        std::fs::write(dir.join("huge.json"), "x".repeat(300 * 1024)).unwrap();
        let (files, warnings) = load_all(&dir);
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a_two", "b-one"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("huge.json"), "{warnings:?}");
        assert!(save(&dir, "../escape", "{}").is_err());
        assert!(save(&dir, "", "{}").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
