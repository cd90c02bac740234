//! Structured-output answers: JSON generated from the request's schema, deterministic for a
//! seed, and the schema-breaking variant the `break_schema` fault sends.

use super::rng::SplitMix64;
use serde_json::{Map, Value, json};

/// Deepest nesting followed; below it a value is `null`.
const MAX_DEPTH: usize = 12;
/// Most array items generated.
const MAX_ITEMS: u64 = 5;

const WORDS: [&str; 12] = [
    "amber", "basalt", "cedar", "delta", "ember", "fjord", "granite", "harbor", "iris", "juniper",
    "kestrel", "lumen",
];

/// A value that matches `schema` (as far as the keywords it knows go: type, enum, const,
/// properties and required, items, min/max, anyOf/oneOf/allOf, local `$ref`).
pub fn generate(schema: &Value, seed: u64) -> Value {
    let mut rng = SplitMix64::new(seed);
    value(schema, schema, &mut rng, 0, "")
}

/// A value that breaks `schema`: the generated value with its first property given a value of
/// the wrong type (or, for a schema that is not an object, a wrong type at the top).
pub fn broken(schema: &Value, seed: u64) -> Value {
    let mut v = generate(schema, seed);
    let root = resolve(schema, schema);
    let first = root
        .get("required")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            root.get("properties")
                .and_then(Value::as_object)
                .and_then(|p| p.keys().next().cloned())
        });
    match (v.as_object_mut(), first) {
        (Some(obj), Some(key)) => {
            let sub = root
                .get("properties")
                .and_then(|p| p.get(&key))
                .map(|s| resolve(schema, s));
            obj.insert(key, wrong_type(sub));
            v
        }
        _ => wrong_type(Some(root)),
    }
}

/// A value of a type the schema does not allow.
fn wrong_type(schema: Option<&Value>) -> Value {
    let ty = schema
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("object");
    match ty {
        "string" => json!(42),
        "number" | "integer" => json!("high"),
        "boolean" => json!("yes"),
        "array" => json!({"not": "a list"}),
        _ => json!("not an object"),
    }
}

/// Follows a local `$ref` (`#/…`), once per level.
fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    let mut s = s;
    for _ in 0..8 {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match root.pointer(&r[1..]) {
                Some(t) => s = t,
                None => return s,
            },
            _ => return s,
        }
    }
    s
}

fn value(root: &Value, s: &Value, rng: &mut SplitMix64, depth: usize, key: &str) -> Value {
    let s = resolve(root, s);
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.is_empty()
    {
        return e[(rng.next_u64() % e.len() as u64) as usize].clone();
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(k).and_then(Value::as_array)
            && let Some(first) = alts.first()
        {
            return value(root, first, rng, depth + 1, key);
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        // Merge object parts; otherwise the first part decides.
        let mut merged = Map::new();
        for part in all {
            match value(root, part, rng, depth + 1, key) {
                Value::Object(m) => merged.extend(m),
                other if merged.is_empty() => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.get("properties").is_some() => "object",
        _ if s.get("items").is_some() => "array",
        _ => "string",
    };
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    match ty {
        "object" => {
            let mut m = Map::new();
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, sub) in props {
                    m.insert(k.clone(), value(root, sub, rng, depth + 1, k));
                }
            }
            Value::Object(m)
        }
        "array" => {
            let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(1);
            let max = s
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(min.max(3))
                .max(min);
            let n = (min + rng.next_u64() % (max - min + 1)).min(MAX_ITEMS.max(min));
            let item = s.get("items").cloned().unwrap_or(json!({}));
            Value::Array(
                (0..n)
                    .map(|_| value(root, &item, rng, depth + 1, key))
                    .collect(),
            )
        }
        "number" => {
            let lo = num("minimum").unwrap_or(0.0);
            let hi = num("maximum").unwrap_or(lo + 100.0).max(lo);
            let x = lo + rng.next_f64() * (hi - lo);
            json!((x * 100.0).round() / 100.0)
        }
        "integer" => {
            let lo = num("minimum").unwrap_or(0.0).ceil() as i64;
            let hi = (num("maximum").unwrap_or(lo as f64 + 100.0).floor() as i64).max(lo);
            json!(lo + (rng.next_u64() % ((hi - lo) as u64 + 1)) as i64)
        }
        "boolean" => json!(rng.next_u64().is_multiple_of(2)),
        "null" => Value::Null,
        _ => {
            let w = WORDS[(rng.next_u64() % WORDS.len() as u64) as usize];
            let text = match s.get("format").and_then(Value::as_str) {
                Some("email") => format!("{w}@example.com"),
                Some("date") => "2026-12-01".into(),
                Some("date-time") => "2026-12-01T12:00:00Z".into(),
                Some("uri") => format!("https://example.com/{w}"),
                _ if key.is_empty() => w.to_string(),
                _ => format!("{w} {}", key.replace('_', " ")),
            };
            let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = s
                .get("maxLength")
                .and_then(Value::as_u64)
                .map_or(usize::MAX, |m| m as usize);
            let mut t = text;
            while t.chars().count() < min {
                t.push('x');
            }
            Value::String(t.chars().take(max).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{TEMPLATES, Verdict, check_text};

    #[test]
    fn generated_answers_match_every_template_and_broken_ones_do_not() {
        for (t, _, text) in TEMPLATES {
            let s = check_text(text).unwrap();
            for seed in 0..50 {
                let v = generate(&s.value, seed);
                assert_eq!(
                    s.validate(&v.to_string()),
                    Verdict::Valid,
                    "{t} {seed}: {v}"
                );
                let b = broken(&s.value, seed);
                assert!(!s.validate(&b.to_string()).is_valid(), "{t} {seed}: {b}");
            }
            assert_eq!(
                generate(&s.value, 7),
                generate(&s.value, 7),
                "deterministic"
            );
        }
    }

    #[test]
    fn the_broken_sentiment_answer_fails_at_confidence_or_sentiment() {
        let s = check_text(TEMPLATES[0].2).unwrap();
        let b = broken(&s.value, 1);
        match s.validate(&b.to_string()) {
            Verdict::Invalid(ps) => assert_eq!(ps[0].path, "/sentiment", "{b}"),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn local_refs_nesting_and_ranges_are_followed() {
        let text = r##"{"$defs": {"n": {"type": "integer", "minimum": 3, "maximum": 5}},
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/n"},
                           "b": {"type": "array", "items": {"type": "boolean"}, "minItems": 2},
                           "c": {"type": ["string", "null"], "minLength": 20}}}"##;
        let s = check_text(text).unwrap();
        for seed in 0..30 {
            let v = generate(&s.value, seed);
            assert_eq!(s.validate(&v.to_string()), Verdict::Valid, "{v}");
        }
    }
}
