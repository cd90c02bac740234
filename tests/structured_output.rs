//! Structured output through the real binary against the simulated fleet: a schema file, the
//! router skipping endpoints that do not list structured outputs, every reply validated, the
//! `break_schema` fault seen as an invalid reply with its path, and bad schemas refused before
//! anything is sent.

mod common;

use std::process::{Command, Output};

/// One model served by an endpoint that lists structured outputs, one that lists nothing (and
/// is far cheaper, so it would win without `require_parameters`), and one that breaks schemas.
const FLEET: &str = r#"
seed = 5
[[providers]]
name = "Strict"
slug = "strict"
[[providers.models]]
id = "m/json"
prompt_price = 2
completion_price = 2
ttft_ms = { mean = 2 }
tokens_per_sec = { mean = 5000 }
supported_parameters = ["max_tokens", "temperature", "response_format", "structured_outputs"]

[[providers]]
name = "Loose"
slug = "loose"
[[providers.models]]
id = "m/json"
prompt_price = 0.01
completion_price = 0.01
ttft_ms = { mean = 2 }
tokens_per_sec = { mean = 5000 }
supported_parameters = ["max_tokens", "temperature"]

[[providers]]
name = "Breaker"
slug = "breaker"
[[providers.models]]
id = "m/broken"
prompt_price = 1
completion_price = 1
ttft_ms = { mean = 2 }
tokens_per_sec = { mean = 5000 }
supported_parameters = ["max_tokens", "response_format", "structured_outputs"]
[[providers.models.faults]]
kind = "break_schema"
"#;

const SENTIMENT: &str = r#"{
  "type": "object",
  "properties": {
    "sentiment": { "type": "string", "enum": ["positive", "negative", "neutral"] },
    "confidence": { "type": "number", "minimum": 0, "maximum": 1 }
  },
  "required": ["sentiment", "confidence"],
  "additionalProperties": false
}"#;

fn file(name: &str, body: &str) -> std::path::PathBuf {
    let dir = common::fresh_state_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn sy(args: &[&str]) -> Output {
    let fleet = file("fleet.toml", FLEET);
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", common::fresh_state_dir())
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
        .arg("--fleet")
        .arg(&fleet)
        .args(args)
        .output()
        .unwrap()
}

fn done(out: &Output) -> serde_json::Value {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "done")
        .unwrap_or_else(|| panic!("no done event: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_schema_routes_to_endpoints_that_list_it_and_the_reply_is_valid() {
    let schema = file("sentiment.json", SENTIMENT);
    let s = schema.to_str().unwrap();
    for local in [false, true] {
        let mut args = vec!["ask", "--json", "--schema", s, "-m", "m/json", "I love it"];
        if local {
            args.insert(1, "--route-locally");
        }
        let out = sy(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let d = done(&out);
        assert_eq!(d["provider"], "Strict", "local={local}: {d}");
        assert_eq!(d["schema"]["valid"], true, "{d}");
        let v: serde_json::Value = serde_json::from_str(d["text"].as_str().unwrap()).unwrap();
        assert!(["positive", "negative", "neutral"].contains(&v["sentiment"].as_str().unwrap()));
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["sentiment", "confidence"], "in the schema's order");
    }
}

#[test]
fn without_require_parameters_a_prose_reply_is_reported_as_not_json() {
    let schema = file("sentiment.json", SENTIMENT);
    let out = sy(&[
        "ask",
        "--route-locally",
        "--json",
        "--no-require-parameters",
        "--only",
        "loose",
        "--schema",
        schema.to_str().unwrap(),
        "-m",
        "m/json",
        "I love it",
    ]);
    assert_eq!(out.status.code(), Some(1), "an invalid reply is a failure");
    let d = done(&out);
    assert_eq!(d["provider"], "Loose");
    assert_eq!(d["schema"]["valid"], false);
    assert_eq!(d["schema"]["json"], false, "{d}");
}

#[test]
fn the_break_schema_fault_yields_a_reply_marked_invalid_with_its_path() {
    let schema = file("sentiment.json", SENTIMENT);
    let s = schema.to_str().unwrap();
    let out = sy(&[
        "ask",
        "--json",
        "--schema",
        s,
        "-m",
        "m/broken",
        "I love it",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let d = done(&out);
    assert_eq!(d["schema"]["valid"], false, "{d}");
    assert_eq!(d["schema"]["errors"][0]["path"], "/sentiment", "{d}");
    // Plain output prints the reply and names the failing path on stderr.
    let out = sy(&["ask", "--schema", s, "-m", "m/broken", "I love it"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not match the schema"), "{err}");
    assert!(
        err.contains("/sentiment: 42 is not of type \"string\""),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"sentiment\": 42"));
}

#[test]
fn bad_schemas_are_refused_with_their_line_and_nothing_is_sent() {
    // A server that would see any request: nothing may reach it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let big = format!("{{\"description\": \"{}\"}}", "x".repeat(5 * 1024 * 1024));
    let cases = [
        (
            "{\n  \"type\": \"object\",\n  \"properties\": {,}\n}",
            "line 3, column 18",
        ),
        (
            "{\"type\": \"object\",\n \"properties\": {\"a\": {\"type\": \"strin\"}}}",
            "line 2, column 31 (/properties/a/type)",
        ),
        (
            "{\"properties\": {\"a\": {\"$ref\": \"https://example.com/s.json\"}}}",
            "never fetches",
        ),
        ("[1, 2]", "must be a JSON object"),
        (big.as_str(), "at most"),
    ];
    for (body, want) in cases {
        let schema = file("s.json", body);
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .env_remove("OPENROUTER_API_KEY")
            .env("XDG_CONFIG_HOME", common::fresh_state_dir())
            .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
            .args([
                "ask",
                "--base-url",
                &url,
                "--schema",
                schema.to_str().unwrap(),
                "-m",
                "x",
                "hi",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{want}: {err}");
        assert!(err.contains(want), "want {want:?} in: {err}");
        assert!(err.len() < 2000, "the message stays short: {err}");
    }
    let schema = file("s.json", SENTIMENT);
    let out = sy(&[
        "ask",
        "--schema",
        schema.to_str().unwrap(),
        "--schema-name",
        "has space",
        "-m",
        "m/json",
        "hi",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--schema-name has space"));
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "no request went out"
    );
}
