//! `switchyard bakeoff`, run as the real binary: on the built-in simulated fleet from a fresh
//! home, as a user would, and on a small fleet file whose judge always fails.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary with no key, no user config, a fresh home and state directory.
fn sy(dir: &Path, args: &[&str]) -> Output {
    sy_in(dir, &common::fresh_state_dir(), args)
}

/// The same with a given state directory (what a restart keeps).
fn sy_in(dir: &Path, state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("home/.config"))
        .env("XDG_DATA_HOME", dir.join("home/.local/share"))
        .env("SWITCHYARD_STATE_DIR", state)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A JSON file the run wrote in `dir`.
fn json_file(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sy-bakeoff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("home")).unwrap();
    d
}

const CASES: &str = r#"{"id":"capital","prompt":"What is the capital of France?","expected":"Paris"}
{"id":"haiku","prompt":"Write a haiku about rivers."}
{"id":"tcp","prompt":"Explain TCP in one paragraph."}
{"id":"sort","prompt":"Write a sort in Rust."}
"What is a monad?"
"#;

#[test]
fn five_cases_on_three_fleet_models_report_exactly_what_the_answers_carried() {
    let dir = workdir("fleet");
    std::fs::write(dir.join("cases.jsonl"), CASES).unwrap();
    let models = [
        "openai/gpt-4o-mini",
        "google/gemini-2.5-flash",
        "anthropic/claude-sonnet-4.5",
    ];
    let mut args = vec!["bakeoff", "--cases", "cases.jsonl", "--json"];
    for m in &models {
        args.extend(["-m", m]);
    }
    args.extend([
        "--report", "out.json", "--report", "out.csv", "--report", "out.md",
    ]);
    let out = sy(&dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    // What each answer's `done` event carried, summed per model.
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(events.len(), 15, "one per case and model");
    let mut by_model: HashMap<String, (usize, f64, u64)> = HashMap::new();
    let mut by_row: HashMap<(String, String), f64> = HashMap::new();
    for e in &events {
        assert_eq!(e["type"], "done", "{e}");
        let model = e["model"].as_str().unwrap().to_string();
        let cost = e["cost"].as_f64().expect("the fleet's usage carries cost");
        let tokens = e["usage"]["prompt_tokens"].as_u64().unwrap()
            + e["usage"]["completion_tokens"].as_u64().unwrap();
        let t = by_model.entry(model.clone()).or_default();
        *t = (t.0 + 1, t.1 + cost, t.2 + tokens);
        by_row.insert((e["case"].as_str().unwrap().to_string(), model), cost);
    }

    let report = json_file(&dir, "out.json");
    assert!(report["partial"].is_null());
    let totals = report["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 3);
    for (t, m) in totals.iter().zip(models) {
        assert_eq!(t["model"], m, "in the order asked");
        let (n, cost, tokens) = by_model[m];
        assert_eq!(t["answered"].as_u64(), Some(n as u64));
        assert!(
            (t["cost"].as_f64().unwrap() - cost).abs() < 1e-12,
            "{m}: {t}"
        );
        assert_eq!(t["tokens"].as_u64(), Some(tokens), "{m}");
    }

    // The CSV: one row per case and model, each cost the one its answer carried.
    let mut csv = csv::Reader::from_path(dir.join("out.csv")).unwrap();
    let head = csv.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 15);
    for r in &rows {
        let key = (r[col("case")].to_string(), r[col("model")].to_string());
        let cost: f64 = r[col("cost_usd")].parse().unwrap();
        assert!((cost - by_row[&key]).abs() < 1e-15, "{key:?}");
        assert_eq!(&r[col("finish")], "complete");
        assert!(r[col("ttft_ms")].parse::<u64>().unwrap() > 0);
        assert!(!r[col("provider")].is_empty());
    }

    let md = std::fs::read_to_string(dir.join("out.md")).unwrap();
    assert!(md.starts_with("# Bake-off: 5 cases × 3 models"), "{md}");
    assert!(md.contains("### capital") && md.contains("Expected: Paris"));
    let _ = std::fs::remove_dir_all(&dir);
}

const FLEET: &str = r#"
seed = 5
[[providers]]
name = "Quick"
slug = "quick"
[[providers.models]]
id = "t/a"
prompt_price = 1
completion_price = 2
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 4000 }
[[providers.models]]
id = "t/b"
prompt_price = 0.5
completion_price = 1
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 4000 }
[[providers.models]]
id = "t/judge"
prompt_price = 1
completion_price = 1
error_rate = 1.0
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 4000 }
"#;

#[test]
fn a_broken_case_and_a_failing_judge_are_reported_and_the_rest_completes() {
    let dir = workdir("judge");
    std::fs::write(dir.join("fleet.toml"), FLEET).unwrap();
    std::fs::write(
        dir.join("cases.jsonl"),
        "{\"id\":\"one\",\"prompt\":\"First\"}\n{\"prompt\": oops\n\"Third\"\n",
    )
    .unwrap();
    let state = common::fresh_state_dir();
    let out = sy_in(
        &dir,
        &state,
        &[
            "--fleet",
            "fleet.toml",
            "bakeoff",
            "--cases",
            "cases.jsonl",
            "-m",
            "t/a",
            "-m",
            "t/b",
            "--judge",
            "t/judge",
            "--report",
            "r.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("case line 2: not JSON"), "{stderr}");
    let r = json_file(&dir, "r.json");
    assert_eq!(r["case_errors"][0]["at"], "line 2");
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "2 cases × 2 models");
    for row in rows {
        assert_eq!(row["finish"], "complete", "{row}");
        let j = &row["judge"];
        assert!(j["score"].is_null());
        assert!(
            j["error"].as_str().unwrap().starts_with("the judge failed"),
            "{j}"
        );
    }

    // The bake-off is kept in history: a case a turn, a model a pane, every answer complete.
    let out = sy_in(&dir, &state, &["history", "list", "--json"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("Bake-off: 2 cases × 2 models"), "{list}");
    let out = sy_in(&dir, &state, &["history", "show"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("First") && shown.contains("Third"),
        "{shown}"
    );
    assert_eq!(shown.matches("t/a").count(), shown.matches("t/b").count());
    // A model the source does not have is refused before anything is sent.
    let out = sy(
        &dir,
        &[
            "--fleet",
            "fleet.toml",
            "bakeoff",
            "-m",
            "t/a",
            "-m",
            "t/zz",
            "hello",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`t/zz` is not in the catalog"), "{stderr}");
    // An earlier report's cases run again on another model.
    let out = sy(
        &dir,
        &[
            "--fleet",
            "fleet.toml",
            "bakeoff",
            "--cases",
            "r.json",
            "-m",
            "t/b",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("# Bake-off: 2 cases × 1 model"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bakeoff_past_the_free_tier_warns_stops_at_the_limit_and_the_count_survives_a_restart() {
    let dir = workdir("free");
    let fleet = format!(
        "{}\n[[providers.models]]\nid = \"t/b:free\"\nprompt_price = 0\ncompletion_price = 0\nttft_ms = {{ mean = 5 }}\ntokens_per_sec = {{ mean = 4000 }}\n[free_limits]\nper_minute = 100\nper_day = 3\n",
        FLEET
    );
    std::fs::write(dir.join("fleet.toml"), fleet).unwrap();
    std::fs::write(
        dir.join("cases.jsonl"),
        "\"one\"\n\"two\"\n\"three\"\n\"four\"\n\"five\"\n",
    )
    .unwrap();
    let state = common::fresh_state_dir();
    let args = [
        "--fleet",
        "fleet.toml",
        "bakeoff",
        "--cases",
        "cases.jsonl",
        "-m",
        "t/a",
        "-m",
        "t/b:free",
        "--report",
        "r.json",
    ];
    let out = sy_in(&dir, &state, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "partial: {stderr}");
    // The key says "free tier" (50 a day); the fleet's own day limit is 3, and its 429 stops
    // the free lane: the server's word beats our count.
    assert!(
        stderr.contains("stopped at the free tier's limit"),
        "{stderr}"
    );
    let r = json_file(&dir, "r.json");
    assert!(
        r["partial"].as_str().unwrap().contains("free tier's limit"),
        "{}",
        r["partial"]
    );
    let finish = |m: &str| -> Vec<String> {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["model"] == m)
            .map(|row| row["finish"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        finish("t/a"),
        ["complete"; 5],
        "the paid model answers every case"
    );
    let free = finish("t/b:free");
    assert_eq!(
        free.iter().filter(|f| *f == "complete").count(),
        3,
        "{free:?}"
    );
    let refused = free.iter().filter(|f| *f == "error").count();
    assert!(
        (1..=2).contains(&refused),
        "the 429s in flight when it stopped: {free:?}"
    );
    assert_eq!(
        free.iter().filter(|f| *f == "skipped").count(),
        2 - refused,
        "{free:?}"
    );

    let first = r.clone();
    std::fs::copy(dir.join("r.json"), dir.join("first.json")).unwrap();

    // After a restart the day's count is still there: no :free request is sent at all.
    let out = sy_in(&dir, &state, &args);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("free tier: this takes 5 :free requests; 0 left today of 50"),
        "warned before it starts: {stderr}"
    );
    let r = json_file(&dir, "r.json");
    let skipped = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["model"] == "t/b:free" && row["finish"] == "skipped")
        .count();
    assert_eq!(skipped, 5);

    // Resumed from the first run's report on another day (a fresh state directory, a fresh
    // fleet): the complete answers are kept as they were and only the rest are asked.
    let out = sy(
        &dir,
        &[
            "--fleet",
            "fleet.toml",
            "bakeoff",
            "--resume",
            "first.json",
            "--report",
            "whole.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("resuming: 8 answers kept from the earlier run, 2 to ask"),
        "{stderr}"
    );
    let whole = json_file(&dir, "whole.json");
    let rows = whole["rows"].as_array().unwrap();
    assert!(
        rows.iter().all(|row| row["finish"] == "complete"),
        "{whole}"
    );
    for (a, b) in first["rows"].as_array().unwrap().iter().zip(rows) {
        if a["finish"] == "complete" {
            assert_eq!(a, b, "a kept answer is the earlier one");
        }
    }

    // Resumed from history by its id, as after a kill before any report was written: a new
    // day (the counter file gone) lets the :free model answer what it did not.
    let out = sy_in(&dir, &state, &["history", "list", "--json"]);
    let list = String::from_utf8_lossy(&out.stdout);
    // Latest first: the first bake-off is the last of them.
    let id = list
        .lines()
        .rev()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| {
            v["title"]
                .as_str()
                .unwrap()
                .starts_with("Bake-off: 5 cases")
        })
        .expect("the first bake-off is in history")["id"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::remove_file(state.join("free-tier.json")).unwrap();
    let out = sy_in(
        &dir,
        &state,
        &[
            "--fleet",
            "fleet.toml",
            "bakeoff",
            "--resume",
            &id,
            "--report",
            "again.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("resuming: 8 answers kept from the earlier run, 2 to ask"),
        "{stderr}"
    );
    let again = json_file(&dir, "again.json");
    let rows = again["rows"].as_array().unwrap();
    assert!(
        rows.iter().all(|row| row["finish"] == "complete"),
        "{again}"
    );
    assert_eq!(rows.len(), 10);
    let _ = std::fs::remove_dir_all(&dir);
}
