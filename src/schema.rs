//! Structured output: a JSON schema read from text (errors at their line and column), checked
//! against its meta-schema with no remote `$ref` ever followed, the `name` rules, templates to
//! start from, and replies validated against it. Pure: no terminal, no network, no disk.

use crate::wire::request::ResponseFormat;
use serde_json::Value;
use std::fmt;

/// Largest schema accepted, in bytes (providers take far smaller ones).
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// Longest `name`.
pub const MAX_NAME_CHARS: usize = 64;
/// Failing paths kept per reply.
const MAX_FAILURES: usize = 20;

/// What is wrong with a schema or a reply, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line and column (1-based) in the text, when known.
    pub at: Option<(usize, usize)>,
    /// JSON pointer inside the document (`""` for the whole of it).
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.at, self.path.as_str()) {
            (Some((l, c)), "") => write!(f, "line {l}, column {c}: {}", self.message),
            (Some((l, c)), p) => write!(f, "line {l}, column {c} ({p}): {}", self.message),
            (None, "") => write!(f, "{}", self.message),
            (None, p) => write!(f, "{p}: {}", self.message),
        }
    }
}

/// A schema that parsed, passed its meta-schema and compiled.
pub struct Schema {
    /// The schema document.
    pub value: Value,
    validator: jsonschema::Validator,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("value", &self.value)
            .finish()
    }
}

/// Reads a schema from text: size, JSON syntax, an object at the top.
pub fn parse(text: &str) -> Result<Value, Problem> {
    let whole = |message: String| Problem {
        at: None,
        path: String::new(),
        message,
    };
    if text.len() > MAX_SCHEMA_BYTES {
        return Err(whole(format!(
            "the schema is {} KB; at most {} KB is accepted",
            text.len() / 1024,
            MAX_SCHEMA_BYTES / 1024
        )));
    }
    if text.trim().is_empty() {
        return Err(whole("the schema is empty".into()));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| Problem {
        at: Some((e.line(), e.column().max(1))),
        path: String::new(),
        message: syntax_message(&e),
    })?;
    if !v.is_object() {
        return Err(Problem {
            at: Some((1, 1)),
            path: String::new(),
            message: "a schema must be a JSON object".into(),
        });
    }
    Ok(v)
}

/// serde_json's message without its own trailing "at line L column C".
fn syntax_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Parses and checks `text`: every problem found, each at its line where it can be placed.
pub fn check_text(text: &str) -> Result<Schema, Vec<Problem>> {
    let value = parse(text).map_err(|p| vec![p])?;
    check(value).map_err(|mut ps| {
        let spots = locate(text);
        for p in &mut ps {
            p.at = spots
                .iter()
                .find(|(ptr, _)| *ptr == p.path)
                .map(|(_, at)| *at);
        }
        ps
    })
}

/// Checks a schema document: no remote references, valid against its meta-schema, compiles.
pub fn check(value: Value) -> Result<Schema, Vec<Problem>> {
    let mut problems = Vec::new();
    remote_refs(&value, &mut String::new(), &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    match jsonschema::meta::validator_for(&value) {
        Ok(meta) => {
            for e in meta.iter_errors(&value).take(MAX_FAILURES) {
                let path = e.instance_path().to_string();
                // The meta-schema's own wording for a bad type ("not valid under any of the
                // schemas listed in the 'anyOf' keyword") says nothing a person can act on.
                let message = match e.instance() {
                    v if path.ends_with("/type") && v.is_string() => format!(
                        "{v} is not a JSON type (string, number, integer, boolean, object, array, null)"
                    ),
                    _ => e.to_string(),
                };
                problems.push(Problem {
                    at: None,
                    path,
                    message,
                });
            }
        }
        Err(e) => problems.push(Problem {
            at: None,
            path: "/$schema".into(),
            message: format!("unknown meta-schema: {e}"),
        }),
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    match jsonschema::options().offline().build(&value) {
        Ok(validator) => Ok(Schema { value, validator }),
        Err(e) => Err(vec![Problem {
            at: None,
            path: e.schema_path().to_string(),
            message: e.to_string(),
        }]),
    }
}

/// Every `$ref` / `$dynamicRef` / `$schema` that points outside the document: Switchyard never
/// fetches a URL (or reads a file) because a schema says so.
fn remote_refs(v: &Value, path: &mut String, out: &mut Vec<Problem>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                if let (true, Some(s)) = (matches!(k.as_str(), "$ref" | "$dynamicRef"), x.as_str())
                    && !s.starts_with('#')
                {
                    out.push(Problem {
                        at: None,
                        path: path.clone(),
                        message: format!(
                            "“{s}” points outside this schema; Switchyard never fetches a schema, so only references inside it (“#/…”) work"
                        ),
                    });
                }
                remote_refs(x, path, out);
                path.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                remote_refs(x, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// The `name` rules: `[A-Za-z0-9_-]`, 1–64 characters.
pub fn check_name(name: &str) -> Result<(), String> {
    check_identifier(name, MAX_NAME_CHARS)
}

/// A name of `[A-Za-z0-9_-]`, 1–`max` characters (schema names, schema files, presets).
pub fn check_identifier(name: &str, max: usize) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name is required".into());
    }
    if name.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        Some(c) => Err(format!(
            "“{c}” is not allowed: only letters, digits, _ and -"
        )),
        None => Ok(()),
    }
}

/// The `response_format` these make.
pub fn response_format(name: &str, strict: bool, schema: Value) -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: crate::wire::request::JsonSchemaFormat {
            name: name.to_string(),
            description: None,
            strict: Some(strict),
            schema,
        },
    }
}

/// What a reply is against a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Parses and matches.
    Valid,
    /// Parses and fails these paths.
    Invalid(Vec<Problem>),
    /// Is not JSON at all.
    NotJson(Problem),
}

impl Verdict {
    /// Whether it matched.
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid)
    }

    /// As `ask --json` reports it.
    pub fn to_json(&self) -> Value {
        let list = |ps: &[Problem]| -> Vec<Value> {
            ps.iter()
                .map(|p| serde_json::json!({"path": p.path, "message": p.message}))
                .collect()
        };
        match self {
            Verdict::Valid => serde_json::json!({"valid": true, "errors": []}),
            Verdict::Invalid(ps) => serde_json::json!({"valid": false, "errors": list(ps)}),
            Verdict::NotJson(p) => {
                serde_json::json!({"valid": false, "json": false, "errors": list(std::slice::from_ref(p))})
            }
        }
    }
}

/// The JSON inside a reply: the reply itself, or the body of one code fence around it (some
/// models wrap structured output in ```json … ``` even when asked not to).
pub fn reply_json(reply: &str) -> &str {
    let t = reply.trim();
    if let Some(rest) = t.strip_prefix("```")
        && let Some(body) = rest.strip_suffix("```")
    {
        return body.split_once('\n').map_or("", |(_, b)| b).trim();
    }
    t
}

impl Schema {
    /// Validates a reply's JSON.
    pub fn validate(&self, reply: &str) -> Verdict {
        let text = reply_json(reply);
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return Verdict::NotJson(Problem {
                    at: Some((e.line(), e.column().max(1))),
                    path: String::new(),
                    message: format!("the reply is not JSON: {}", syntax_message(&e)),
                });
            }
        };
        let failures: Vec<Problem> = self
            .validator
            .iter_errors(&v)
            .take(MAX_FAILURES)
            .map(|e| Problem {
                at: None,
                path: e.instance_path().to_string(),
                message: e.to_string(),
            })
            .collect();
        if failures.is_empty() {
            Verdict::Valid
        } else {
            Verdict::Invalid(failures)
        }
    }
}

/// Templates to start from: (name, the `name` sent, the schema text).
pub const TEMPLATES: [(&str, &str, &str); 3] = [
    (
        "sentiment",
        "sentiment",
        r#"{
  "type": "object",
  "properties": {
    "sentiment": {
      "type": "string",
      "enum": ["positive", "negative", "neutral"],
      "description": "The overall sentiment of the text"
    },
    "confidence": {
      "type": "number",
      "minimum": 0,
      "maximum": 1,
      "description": "How sure the model is, from 0 to 1"
    }
  },
  "required": ["sentiment", "confidence"],
  "additionalProperties": false
}"#,
    ),
    (
        "extraction",
        "contact",
        r#"{
  "type": "object",
  "properties": {
    "name": { "type": "string" },
    "email": { "type": "string" },
    "company": { "type": "string" },
    "topics": { "type": "array", "items": { "type": "string" } }
  },
  "required": ["name", "email", "company", "topics"],
  "additionalProperties": false
}"#,
    ),
    (
        "classification",
        "classification",
        r#"{
  "type": "object",
  "properties": {
    "label": { "type": "string", "enum": ["bug", "feature", "question", "other"] },
    "reason": { "type": "string" }
  },
  "required": ["label", "reason"],
  "additionalProperties": false
}"#,
    ),
];

/// Where each value of a JSON text starts, by JSON pointer: schema errors carry pointers, the
/// editor wants lines. Best effort over text that already parsed.
pub fn locate(text: &str) -> Vec<(String, (usize, usize))> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
        line: 1,
        col: 1,
        out: Vec::new(),
    };
    s.value(&mut String::new(), 0);
    s.out
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    line: usize,
    col: usize,
    out: Vec<(String, (usize, usize))>,
}

impl Scanner<'_> {
    fn bump(&mut self) {
        if let Some(&c) = self.b.get(self.i) {
            self.i += 1;
            if c == b'\n' {
                self.line += 1;
                self.col = 1;
            } else if c & 0xC0 != 0x80 {
                self.col += 1;
            }
        }
    }

    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn string(&mut self) -> String {
        let start = self.i;
        self.bump();
        while let Some(&c) = self.b.get(self.i) {
            self.bump();
            match c {
                b'\\' => self.bump(),
                b'"' => break,
                _ => {}
            }
        }
        serde_json::from_slice(&self.b[start..self.i]).unwrap_or_default()
    }

    fn value(&mut self, path: &mut String, depth: usize) {
        self.ws();
        self.out.push((path.clone(), (self.line, self.col)));
        if depth > 128 {
            return;
        }
        match self.b.get(self.i) {
            Some(b'{') => {
                self.bump();
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b'"') => {
                            let key = self.string();
                            self.ws();
                            self.bump(); // ':'
                            let len = path.len();
                            path.push('/');
                            path.push_str(&key.replace('~', "~0").replace('/', "~1"));
                            self.value(path, depth + 1);
                            path.truncate(len);
                        }
                        Some(b',') => self.bump(),
                        Some(b'}') => {
                            self.bump();
                            return;
                        }
                        _ => return,
                    }
                }
            }
            Some(b'[') => {
                self.bump();
                let mut n = 0;
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.bump(),
                        Some(b']') => {
                            self.bump();
                            return;
                        }
                        None => return,
                        Some(_) => {
                            let len = path.len();
                            path.push_str(&format!("/{n}"));
                            self.value(path, depth + 1);
                            path.truncate(len);
                            n += 1;
                        }
                    }
                }
            }
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while let Some(&c) = self.b.get(self.i) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.bump();
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sentiment() -> Schema {
        check_text(TEMPLATES[0].2).unwrap()
    }

    #[test]
    fn every_template_is_a_valid_schema_with_a_valid_name() {
        for (t, name, text) in TEMPLATES {
            check_text(text).unwrap_or_else(|e| panic!("{t}: {e:?}"));
            check_name(name).unwrap();
        }
    }

    #[test]
    fn a_syntax_error_is_placed_at_its_line_and_column() {
        let e = check_text("{\n  \"type\": \"object\",\n  \"properties\": {,}\n}").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].at, Some((3, 18)), "{}", e[0]);
        assert!(
            e[0].to_string().starts_with("line 3, column 18: "),
            "{}",
            e[0]
        );
        assert!(check_text("[1]").unwrap_err()[0].message.contains("object"));
        assert!(check_text("  ").unwrap_err()[0].message.contains("empty"));
    }

    #[test]
    fn a_meta_schema_error_is_placed_at_the_line_of_its_value() {
        let text = "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"a\": { \"type\": \"strin\" }\n  }\n}";
        let e = check_text(text).unwrap_err();
        assert!(!e.is_empty());
        let p = e
            .iter()
            .find(|p| p.path == "/properties/a/type")
            .unwrap_or_else(|| panic!("{e:?}"));
        assert_eq!(p.at, Some((4, 20)), "{p}");
        assert!(p.message.contains("not a JSON type"), "{p}");
    }

    #[test]
    fn a_remote_ref_is_refused_and_nothing_is_fetched() {
        let e = check(
            json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}}),
        )
        .unwrap_err();
        assert_eq!(e[0].path, "/properties/a/$ref");
        assert!(e[0].message.contains("never fetches"), "{}", e[0]);
        let e = check(json!({"$ref": "file:///etc/passwd"})).unwrap_err();
        assert!(e[0].message.contains("outside this schema"));
        // A reference inside the document is fine.
        check(json!({"$defs": {"n": {"type": "number"}}, "type": "object",
                     "properties": {"x": {"$ref": "#/$defs/n"}}}))
        .unwrap();
    }

    #[test]
    fn a_huge_schema_is_refused_before_parsing() {
        let big = format!("{{\"description\": \"{}\"}}", "x".repeat(5 * 1024 * 1024));
        let e = check_text(&big).unwrap_err();
        assert!(e[0].message.contains("at most 256 KB"), "{}", e[0]);
    }

    #[test]
    fn names_follow_the_api_rules() {
        assert!(check_name("my_schema-2").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("has space").unwrap_err().contains("“ ”"));
        assert!(check_name(&"a".repeat(65)).is_err());
        assert!(check_name(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn replies_are_valid_invalid_with_paths_or_not_json() {
        let s = sentiment();
        assert_eq!(
            s.validate(r#"{"sentiment": "positive", "confidence": 0.9}"#),
            Verdict::Valid
        );
        assert_eq!(
            s.validate("```json\n{\"sentiment\": \"neutral\", \"confidence\": 0}\n```"),
            Verdict::Valid,
            "one fence around the JSON is accepted"
        );
        match s.validate(r#"{"sentiment": "positive", "confidence": "high"}"#) {
            Verdict::Invalid(ps) => {
                assert_eq!(ps.len(), 1);
                assert_eq!(ps[0].path, "/confidence");
                assert!(ps[0].message.contains("number"), "{}", ps[0]);
            }
            v => panic!("{v:?}"),
        }
        match s.validate(r#"{"sentiment": "meh"}"#) {
            Verdict::Invalid(ps) => {
                let paths: Vec<&str> = ps.iter().map(|p| p.path.as_str()).collect();
                assert!(paths.contains(&"/sentiment"), "{ps:?}");
                assert!(
                    paths.contains(&""),
                    "the missing field is at the top: {ps:?}"
                );
            }
            v => panic!("{v:?}"),
        }
        assert!(matches!(
            s.validate("The sentiment is positive."),
            Verdict::NotJson(_)
        ));
        let j = s.validate(r#"{"sentiment": 1, "confidence": 1}"#).to_json();
        assert_eq!(j["valid"], false);
        assert_eq!(j["errors"][0]["path"], "/sentiment");
    }

    #[test]
    fn locate_finds_nested_values() {
        let spots = locate("{\"a\": [1, {\"b\": true}],\n \"c~/\": null}");
        let at = |p: &str| spots.iter().find(|(x, _)| x == p).map(|(_, a)| *a);
        assert_eq!(at(""), Some((1, 1)));
        assert_eq!(at("/a/1/b"), Some((1, 17)));
        assert_eq!(at("/c~0~1"), Some((2, 9)));
    }
}
