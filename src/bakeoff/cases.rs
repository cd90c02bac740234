//! A bake-off's cases (pure but for reading the files): JSON Lines, one case per line, or a
//! folder of text files, one case per file. A broken case is reported with where it is and the
//! others still run.
//!
//! A JSON line: `{"id": "…", "prompt": "…", "attachments": ["a.png"], "expected": "…",
//! "schema": {…}}`; only `prompt` is required (a bare JSON string is a prompt too). Paths are
//! relative to the cases file. A folder: every `*.txt` / `*.md` file (sorted by name) is a
//! prompt; `NAME.expected` beside it is its expected answer, `NAME.schema.json` its schema.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Largest cases file (or case file in a folder) read.
pub const MAX_FILE: u64 = 8 * 1024 * 1024;
/// Most cases one bake-off runs.
pub const MAX_CASES: usize = 10_000;

/// One case: a prompt and what to judge it by.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Case {
    /// Its name in the report (given, or `line N` / the file's name).
    pub id: String,
    /// The prompt.
    pub prompt: String,
    /// Files to attach, resolved against the cases file's folder.
    pub attachments: Vec<PathBuf>,
    /// The answer hoped for (a judge compares with it).
    pub expected: Option<String>,
    /// A JSON schema the answer must match (asked for as structured output).
    pub schema: Option<serde_json::Value>,
}

/// A case that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseError {
    /// Where it is (`line 3`, `b.txt`).
    pub at: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// What a cases source holds.
#[derive(Debug, Clone, Default)]
pub struct Cases {
    /// Readable cases, in order.
    pub cases: Vec<Case>,
    /// The broken ones.
    pub errors: Vec<CaseError>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    id: Option<String>,
    prompt: String,
    #[serde(default)]
    attachments: Vec<String>,
    expected: Option<String>,
    schema: Option<serde_json::Value>,
}

/// The cases in JSON Lines text; `base` resolves relative attachment paths.
pub fn parse_jsonl(text: &str, base: &Path) -> Cases {
    let mut out = Cases::default();
    for (n, line) in text.lines().enumerate() {
        let at = format!("line {}", n + 1);
        let t = line.trim();
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        if out.cases.len() >= MAX_CASES {
            out.errors.push(CaseError {
                at,
                message: format!("more than {MAX_CASES} cases; the rest are left out"),
            });
            break;
        }
        let parsed = match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::String(prompt)) => Ok(Line {
                id: None,
                prompt,
                attachments: Vec::new(),
                expected: None,
                schema: None,
            }),
            Ok(v) => serde_json::from_value::<Line>(v).map_err(|e| e.to_string()),
            Err(e) => Err(format!("not JSON: {e}")),
        };
        match parsed {
            Ok(l) if l.prompt.trim().is_empty() => out.errors.push(CaseError {
                at,
                message: "the prompt is empty".into(),
            }),
            Ok(l) => out.cases.push(Case {
                id: l.id.filter(|s| !s.trim().is_empty()).unwrap_or(at),
                prompt: l.prompt,
                attachments: l.attachments.iter().map(|a| base.join(a)).collect(),
                expected: l.expected,
                schema: l.schema,
            }),
            Err(message) => out.errors.push(CaseError { at, message }),
        }
    }
    unique_ids(&mut out.cases);
    out
}

/// Two cases with one id get `#2`, `#3`, … so the report's rows stay apart.
fn unique_ids(cases: &mut [Case]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for c in cases {
        let n = seen.entry(c.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            c.id = format!("{} #{n}", c.id);
        }
    }
}

/// The cases at `path`: a JSON Lines file or a folder of text files.
pub fn read(path: &Path) -> Result<Cases, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if meta.is_dir() {
        return read_folder(path);
    }
    let text = crate::small_file::read(path, MAX_FILE).map_err(|e| format!("{shown}: {e}"))?;
    let base = path.parent().unwrap_or(Path::new("."));
    // An earlier report brings its cases back, to run them again on other models.
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let r = super::report::Report::from_json(&text).map_err(|e| format!("{shown}: {e}"))?;
        return Ok(Cases {
            cases: r
                .cases
                .into_iter()
                .map(|c| Case {
                    id: c.id,
                    prompt: c.prompt,
                    attachments: c.attachments.iter().map(PathBuf::from).collect(),
                    expected: c.expected,
                    schema: c.schema,
                })
                .collect(),
            errors: Vec::new(),
        });
    }
    Ok(parse_jsonl(&text, base))
}

fn read_folder(dir: &Path) -> Result<Cases, String> {
    let shown = dir.display();
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{shown}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("txt" | "md" | "prompt")
            )
        })
        .collect();
    names.sort();
    let mut out = Cases::default();
    for p in names.into_iter().take(MAX_CASES) {
        let name = p
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let stem = p
            .file_stem()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let side = |ext: &str| dir.join(format!("{stem}.{ext}"));
        let read_side = |ext: &str| match crate::small_file::read(&side(ext), MAX_FILE) {
            Ok(t) => Ok(Some(t)),
            Err(crate::small_file::ReadError::NotFound) => Ok(None),
            Err(e) => Err(format!("{stem}.{ext}: {e}")),
        };
        let case = crate::small_file::read(&p, MAX_FILE)
            .map_err(|e| e.to_string())
            .and_then(|prompt| {
                if prompt.trim().is_empty() {
                    return Err("the prompt is empty".into());
                }
                let expected = read_side("expected")?.map(|t| t.trim_end().to_string());
                let schema = match read_side("schema.json")? {
                    Some(t) => Some(
                        serde_json::from_str(&t)
                            .map_err(|e| format!("{stem}.schema.json is not JSON: {e}"))?,
                    ),
                    None => None,
                };
                Ok(Case {
                    id: stem.clone(),
                    prompt,
                    attachments: Vec::new(),
                    expected,
                    schema,
                })
            });
        match case {
            Ok(c) => out.cases.push(c),
            Err(message) => out.errors.push(CaseError { at: name, message }),
        }
    }
    if out.cases.is_empty() && out.errors.is_empty() {
        return Err(format!(
            "{shown}: no .txt, .md or .prompt files to use as cases"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_line_is_reported_where_it_is_and_the_rest_are_kept() {
        let text = r#"{"id":"capital","prompt":"Capital of France?","expected":"Paris"}
"Just a prompt"
{"prompt": "unterminated
{"id":"img","prompt":"Describe it","attachments":["cat.png"]}
{"prompt":"   "}
{"prompt":"x","colour":"red"}

{"id":"capital","prompt":"Again"}
"#;
        let c = parse_jsonl(text, Path::new("/cases"));
        let ids: Vec<_> = c.cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["capital", "line 2", "img", "capital #2"]);
        assert_eq!(c.cases[0].expected.as_deref(), Some("Paris"));
        assert_eq!(c.cases[2].attachments, [PathBuf::from("/cases/cat.png")]);
        let at: Vec<_> = c.errors.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(at, ["line 3", "line 5", "line 6"]);
        assert!(c.errors[0].message.starts_with("not JSON"));
        assert!(
            c.errors[2].message.contains("colour"),
            "{}",
            c.errors[2].message
        );
    }

    #[test]
    fn a_folder_gives_one_case_per_text_file_with_its_expected_answer_and_schema() {
        let dir = std::env::temp_dir().join(format!("sy-cases-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("b.txt"), "Second").unwrap();
        std::fs::write(dir.join("a.md"), "First").unwrap();
        std::fs::write(dir.join("a.expected"), "One\n").unwrap();
        std::fs::write(dir.join("b.schema.json"), r#"{"type":"object"}"#).unwrap();
        std::fs::write(dir.join("c.txt"), "").unwrap();
        std::fs::write(dir.join("notes.csv"), "ignored").unwrap();
        let c = read(&dir).unwrap();
        let ids: Vec<_> = c.cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(c.cases[0].expected.as_deref(), Some("One"));
        assert_eq!(
            c.cases[1].schema,
            Some(serde_json::json!({"type":"object"}))
        );
        assert_eq!(
            c.errors,
            [CaseError {
                at: "c.txt".into(),
                message: "the prompt is empty".into()
            }]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
