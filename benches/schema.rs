//! Structured output: checking a complete 100 KB reply against a typical extraction schema (a
//! list of records with strings, a bounded number, an enum and a list of tags), as
//! `Schema::validate` does when a stream ends; and compiling the schema, as every check does.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "records": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "name": { "type": "string", "minLength": 1 },
          "email": { "type": "string" },
          "score": { "type": "number", "minimum": 0, "maximum": 1 },
          "kind": { "type": "string", "enum": ["person", "company", "other"] },
          "tags": { "type": "array", "items": { "type": "string" } }
        },
        "required": ["name", "email", "score", "kind", "tags"],
        "additionalProperties": false
      }
    }
  },
  "required": ["records"],
  "additionalProperties": false
}"#;

/// A valid reply of about `bytes` bytes.
fn reply(bytes: usize) -> String {
    let mut records = Vec::new();
    let mut len = 0;
    let mut i = 0u64;
    const KINDS: [&str; 3] = ["person", "company", "other"];
    while len < bytes {
        let kind = KINDS[(i % 3) as usize];
        let r = serde_json::json!({
            "name": format!("Person number {i}"),
            "email": format!("person{i}@example.com"),
            "score": (i % 100) as f64 / 100.0,
            "kind": kind,
            "tags": ["alpha", "beta", "gamma"],
        });
        len += r.to_string().len() + 1;
        records.push(r);
        i += 1;
    }
    serde_json::json!({ "records": records }).to_string()
}

fn validate(c: &mut Criterion) {
    let schema = switchyard::schema::check_text(SCHEMA).unwrap();
    let text = reply(100 * 1024);
    assert!(schema.validate(&text).is_valid());
    c.bench_function("validate_100KB_reply", |b| {
        b.iter(|| black_box(schema.validate(black_box(&text))))
    });
    c.bench_function("compile_schema", |b| {
        b.iter(|| black_box(switchyard::schema::check_text(black_box(SCHEMA)).is_ok()))
    });
}

criterion_group!(benches, validate);
criterion_main!(benches);
