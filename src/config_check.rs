//! A config file checked whole: a syntax error, then every unknown key (a warning, with the
//! nearest known key), then every other error, each with its line and field. The known keys
//! are those of the embedded defaults (`config_default.toml`, commented keys included), so the
//! file that documents the config is the one that decides what it takes.

use crate::config::{Config, ConfigError};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};

/// The embedded defaults, as `config --print-default` prints them.
pub const DEFAULT_TEXT: &str = include_str!("config_default.toml");

/// Most errors reported for one file (each costs a parse).
const MAX_ERRORS: usize = 32;

/// What checking a file found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// The config, when there is no error.
    pub config: Option<Config>,
    /// Every error.
    pub errors: Vec<ConfigError>,
    /// Unknown keys (left out, so the rest still works).
    pub warnings: Vec<ConfigError>,
    /// The text with the unknown keys blanked out (lines kept).
    pub clean: String,
}

/// The tree of known keys.
#[derive(Debug, Default, Clone)]
struct Known(BTreeMap<String, Known>);

impl Known {
    fn child(&self, key: &str) -> Option<&Known> {
        self.0.get(key)
    }
}

/// The known keys: the default file's, with every commented `# key = …`, `# [table]` and
/// `# [[table]]` line taken as if uncommented.
fn known() -> Known {
    let uncommented: String = DEFAULT_TEXT
        .lines()
        .map(|l| {
            let rest = l.strip_prefix("# ").unwrap_or(l);
            let is_key = rest.starts_with('[')
                || rest.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if l.starts_with("# ") && is_key {
                rest.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let doc = DeTable::parse(&uncommented).expect("the default config's examples parse");
    fn tree(t: &DeTable<'_>) -> Known {
        let mut out = Known::default();
        for (k, v) in t {
            let sub = match v.get_ref() {
                DeValue::Table(t) => tree(t),
                DeValue::Array(items) => {
                    let mut merged = Known::default();
                    for item in items.iter() {
                        if let DeValue::Table(t) = item.get_ref() {
                            merged.0.extend(tree(t).0);
                        }
                    }
                    merged
                }
                _ => Known::default(),
            };
            out.0.insert(k.get_ref().to_string(), sub);
        }
        out
    }
    let mut root = tree(doc.get_ref());
    // Each mode of [keys] takes action names, checked by the key table itself.
    if let Some(keys) = root.0.get_mut("keys") {
        for (mode, _) in crate::config::KeysConfig::default().modes() {
            keys.0
                .entry(mode.to_string())
                .or_default()
                .0
                .insert("*".into(), Known::default());
        }
    }
    // A profile takes any key of the top level but `profiles`.
    let mut profile = root.clone();
    profile.0.remove("profiles");
    root.0.insert(
        "profiles".into(),
        Known(BTreeMap::from([("*".into(), profile)])),
    );
    root
}

/// One key of the file: its dotted name, the span of the key and of its value, and whether it
/// opens a table on a `[header]` line.
struct Entry {
    name: String,
    key: Range<usize>,
    value: Range<usize>,
    depth: usize,
}

fn entries(t: &DeTable<'_>, prefix: &str, depth: usize, out: &mut Vec<Entry>) {
    for (k, v) in t {
        let name = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        out.push(Entry {
            name: name.clone(),
            key: k.span(),
            value: v.span(),
            depth,
        });
        match v.get_ref() {
            DeValue::Table(t) => entries(t, &name, depth + 1, out),
            DeValue::Array(items) => {
                for item in items.iter() {
                    if let DeValue::Table(t) = item.get_ref() {
                        entries(t, &name, depth + 1, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Spaces over `range` (newlines kept), so every other byte keeps its line and offset.
fn blank(text: &mut String, range: Range<usize>) {
    let (start, end) = (range.start.min(text.len()), range.end.min(text.len()));
    if start >= end || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return;
    }
    let replaced: String = text[start..end]
        .chars()
        .map(|c| {
            if c == '\n' {
                "\n".to_string()
            } else {
                " ".repeat(c.len_utf8())
            }
        })
        .collect();
    text.replace_range(start..end, &replaced);
}

/// The byte range of the line holding `offset`.
fn line_range(text: &str, offset: usize) -> Range<usize> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    start..end
}

/// Takes an entry out of `text`: a `key = value` pair, or a `[header]` line and everything
/// under it (`all` are the file's entries).
fn remove(text: &mut String, e: &Entry, all: &[Entry]) {
    let header = line_range(text, e.key.start);
    if text[header.clone()].trim_start().starts_with('[') {
        blank(text, header);
        for child in all
            .iter()
            .filter(|c| c.depth > e.depth && c.name.starts_with(&format!("{}.", e.name)))
        {
            let h = line_range(text, child.key.start);
            if text[h.clone()].trim_start().starts_with('[') {
                blank(text, h);
            } else {
                blank(text, child.key.start..child.value.end);
            }
        }
    } else {
        blank(text, e.key.start..e.value.end);
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Checks config text: every problem, and the config when nothing is an error.
pub fn check(text: &str, path: &Path) -> Checked {
    let mut out = Checked::default();
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => {
            out.errors.push(ConfigError {
                path: path.into(),
                line: e.span().map(|s| line_of(text, s.start)),
                field: None,
                message: e.message().trim().to_string(),
            });
            return out;
        }
    };
    let mut all = Vec::new();
    entries(doc.get_ref(), "", 0, &mut all);
    let known = known();
    let mut work = text.to_string();
    let mut dropped: Vec<String> = Vec::new();
    for e in &all {
        if dropped.iter().any(|d| e.name.starts_with(&format!("{d}."))) {
            continue;
        }
        // Walk the known tree; `*` takes any name (a profile's, an action's).
        let mut node = &known;
        let mut unknown_at = None;
        for part in e.name.split('.') {
            let next = node.child(part).or_else(|| node.child("*"));
            match next {
                Some(n) => node = n,
                None => {
                    unknown_at = Some((part.to_string(), node));
                    break;
                }
            }
        }
        let Some((part, parent)) = unknown_at else {
            continue;
        };
        // Only the entry whose own last part is unknown is reported.
        if e.name.rsplit('.').next() != Some(part.as_str()) {
            continue;
        }
        let keys: Vec<&str> = parent
            .0
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "*")
            .collect();
        out.warnings.push(ConfigError {
            path: path.into(),
            line: Some(line_of(text, e.key.start)),
            field: Some(e.name.clone()),
            message: format!(
                "unknown key `{part}`, left out{}",
                crate::spelling::suggestion(&part, keys.iter().copied())
            ),
        });
        remove(&mut work, e, &all);
        dropped.push(e.name.clone());
    }
    out.warnings.sort_by_key(|w| w.line);
    let cleaned = work.clone();
    // Every error: each one found is taken out and the rest parsed again.
    for _ in 0..MAX_ERRORS {
        let errs = Config::parse_all(&work, path);
        let Err(errs) = errs else {
            out.config = errs.ok();
            break;
        };
        let mut progress = false;
        for err in errs {
            let at = err.offset;
            out.errors.push(err.error);
            // The innermost entry at the error's place is taken out, and the file parsed again.
            if let Some(at) = at
                && let Some(e) = all
                    .iter()
                    .filter(|e| e.key.start <= at && at <= e.value.end.max(e.key.end))
                    .max_by_key(|e| e.depth)
            {
                remove(&mut work, e, &all);
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    out.clean = cleaned;
    out.errors
        .dedup_by(|a, b| a.line == b.line && a.message == b.message);
    if !out.errors.is_empty() {
        out.config = None;
    }
    out
}

/// An error with the byte offset it was found at, when the parser said.
#[derive(Debug, Clone)]
pub struct Located {
    /// The error.
    pub error: ConfigError,
    /// Its byte offset in the text.
    pub offset: Option<usize>,
}

/// Lays `over` on `base`: tables merged key by key, anything else replaced.
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/tmp/c.toml")
    }

    #[test]
    fn the_defaults_parse_and_are_the_built_in_values() {
        let c = check(DEFAULT_TEXT, p());
        assert!(c.errors.is_empty() && c.warnings.is_empty(), "{c:?}");
        assert_eq!(c.config.unwrap(), Config::default());
    }

    #[test]
    fn every_key_the_config_takes_is_known_from_the_defaults_file() {
        // serde names every field of a table when it meets one it does not know: each table's
        // fields must all be in the defaults file (documented), or a user's key would be
        // called unknown.
        let k = known();
        for table in [
            "keys",
            "",
            "routing",
            "limits",
            "request",
            "history",
            "attachments",
            "theme",
            "providers",
            "providers.models",
        ] {
            let doc = match table {
                "" => "zz_probe = 1\n".to_string(),
                "providers" => "[[providers]]\nzz_probe = 1\n".to_string(),
                "providers.models" => "[[providers]]\nname = \"a\"\nkind = \"openai\"\n[[providers.models]]\nzz_probe = 1\n".to_string(),
                t => format!("[{t}]\nzz_probe = 1\n"),
            };
            let e = toml::from_str::<Config>(&doc)
                .unwrap_err()
                .message()
                .to_string();
            let expected = e
                .split("expected")
                .nth(1)
                .unwrap_or_else(|| panic!("{table}: {e}"));
            let mut node = &k;
            for part in table.split('.').filter(|s| !s.is_empty()) {
                node = node
                    .child(part)
                    .unwrap_or_else(|| panic!("{table} not in defaults"));
            }
            for field in expected.split('`').skip(1).step_by(2) {
                assert!(
                    node.child(field).is_some(),
                    "`{table}.{field}` is missing from config_default.toml"
                );
            }
        }
    }

    #[test]
    fn unknown_keys_are_warnings_with_the_nearest_and_the_rest_still_counts() {
        let t = "pane = [\"a\"]\npanes = [\"m/x\"]\n[histroy]\nenabled = false\n[history]\nenabeld = false\n[routing]\nmax_attempts = 2\n";
        let c = check(t, p());
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let w: Vec<(Option<usize>, Option<&str>, &str)> = c
            .warnings
            .iter()
            .map(|w| (w.line, w.field.as_deref(), w.message.as_str()))
            .collect();
        assert_eq!(w.len(), 3, "{w:?}");
        assert_eq!(w[0].0, Some(1));
        assert!(w[0].2.contains("did you mean `panes`"), "{w:?}");
        assert_eq!((w[1].0, w[1].1), (Some(3), Some("histroy")));
        assert!(w[1].2.contains("`history`"));
        assert_eq!((w[2].0, w[2].1), (Some(6), Some("history.enabeld")));
        assert!(w[2].2.contains("`enabled`"));
        let cfg = c.config.unwrap();
        assert_eq!(cfg.panes, ["m/x"]);
        assert!(cfg.history.enabled, "the misspelt table was left out");
        assert_eq!(cfg.routing.max_attempts, Some(2));
    }

    #[test]
    fn every_error_is_named_with_line_and_field() {
        let t = "panes = 3\n[routing]\nmax_attempts = \"six\"\n[theme]\ncolors = \"millions\"\n[history]\nenabled = \"yes\"\n";
        let c = check(t, p());
        let lines: Vec<Option<usize>> = c.errors.iter().map(|e| e.line).collect();
        assert!(c.config.is_none());
        for l in [1, 3, 5, 7] {
            assert!(lines.contains(&Some(l)), "line {l} in {:?}", c.errors);
        }
        let colors = c.errors.iter().find(|e| e.line == Some(5)).unwrap();
        assert_eq!(colors.field.as_deref(), Some("theme.colors"));
        assert!(colors.message.contains("truecolor"), "{colors}");
        let syntax = check("panes = [\"a\"\n", p());
        assert_eq!(syntax.errors.len(), 1);
        assert!(syntax.errors[0].line.is_some());
    }

    #[test]
    fn merge_lays_tables_key_by_key() {
        let mut base: toml::Table = toml::from_str("a = 1\n[t]\nx = 1\ny = 2\n").unwrap();
        let over: toml::Table = toml::from_str("[t]\ny = 3\n").unwrap();
        merge(&mut base, &over);
        assert_eq!(base["t"]["x"].as_integer(), Some(1));
        assert_eq!(base["t"]["y"].as_integer(), Some(3));
        assert_eq!(base["a"].as_integer(), Some(1));
    }
}
