//! `switchyard ask` and `switchyard models`, run as the real binary against the simulated fleet
//! (a fast fleet file) and against a scripted server that cuts its stream.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Output};

const FLEET: &str = r#"
seed = 11
[[providers]]
name = "Hare"
slug = "hare"
[[providers.models]]
id = "test/fast-a"
prompt_price = 0.5
completion_price = 1.5
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 5000 }
[[providers.models]]
id = "test/fast-b"
prompt_price = 0.2
completion_price = 0.4
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 5000 }
[[providers.models]]
id = "test/fast-b:free"
prompt_price = 0
completion_price = 0
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 5000 }
"#;

/// A fleet file of its own per call: tests run in parallel, and a file rewritten while another
/// process reads it would be read half-written.
fn fleet_file() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let p = std::env::temp_dir().join(format!(
        "switchyard-ask-fleet-{}-{n}.toml",
        std::process::id()
    ));
    std::fs::write(&p, FLEET).unwrap();
    p
}

/// The binary with no key, no user config and a fresh state directory of its own.
fn sy_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    c.env_remove("OPENROUTER_API_KEY")
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("switchyard-ask-noconfig"),
        )
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir());
    c
}

fn sy(args: &[&str]) -> Output {
    let fleet = fleet_file();
    sy_cmd()
        .arg("--fleet")
        .arg(&fleet)
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `ask --json` output, one event per line.
fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    text(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The providers of the `attempt` events, in order.
fn attempts_of(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|v| v["type"] == "attempt")
        .map(|v| v["provider"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn single_model_prints_only_the_answer() {
    let out = sy(&["ask", "-m", "test/fast-a", "Explain", "quicksort"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(!s.contains("==="), "no label for a single model: {s}");
    assert!(
        s.contains("```"),
        "the fleet answers in markdown with code: {s}"
    );
    assert!(s.len() > 200);
}

#[test]
fn several_models_are_labelled_in_flag_order() {
    let out = sy(&["ask", "-m", "test/fast-b", "-m", "test/fast-a", "hello"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let b = s.find("=== test/fast-b").expect("label b");
    let a = s.find("=== test/fast-a").expect("label a");
    assert!(b < a, "flag order kept:\n{s}");
    assert!(s.contains("via Hare"));
}

#[test]
fn json_events_reassemble_the_answer_and_carry_cost() {
    let out = sy(&["ask", "--json", "-m", "test/fast-a", "hello"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut deltas = String::new();
    let mut done = None;
    let mut kinds = std::collections::BTreeSet::new();
    for line in text(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
        let kind = v["type"].as_str().unwrap().to_string();
        assert_eq!(v["model"], "test/fast-a");
        if kind == "delta" {
            deltas.push_str(v["text"].as_str().unwrap());
        }
        if kind == "done" {
            done = Some(v.clone());
        }
        kinds.insert(kind);
    }
    for k in ["delta", "usage", "done", "served"] {
        assert!(kinds.contains(k), "missing {k}: {kinds:?}");
    }
    let done = done.unwrap();
    assert_eq!(done["text"].as_str().unwrap(), deltas);
    assert_eq!(done["provider"], "Hare");
    assert_eq!(done["finish_reason"], "stop");
    assert!(done["cost"].as_f64().unwrap() > 0.0);
    assert!(done["usage"]["completion_tokens"].as_u64().unwrap() > 10);
}

#[test]
fn one_failing_model_makes_the_exit_status_nonzero() {
    let out = sy(&[
        "ask",
        "--json",
        "-m",
        "test/fast-a",
        "-m",
        "nope/missing",
        "hello",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "error")
        .expect("an error event");
    assert_eq!(err["model"], "nope/missing");
    assert_eq!(err["status"], 400);
    assert_eq!(err["complete"], false);
}

#[test]
fn print_request_shows_the_exact_body_without_sending() {
    let out = sy(&[
        "ask",
        "--print-request",
        "-m",
        "a/b",
        "--fallback",
        "c/d",
        "hi",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "a/b");
    assert_eq!(v["models"], serde_json::json!(["c/d"]));
    assert_eq!(v["stream"], true);
    assert_eq!(v["messages"][0]["content"], "hi");
    assert!(
        !text(&out.stdout).contains("null"),
        "unset fields are omitted"
    );
}

#[test]
fn empty_prompt_is_refused() {
    let out = sy(&["ask", "-m", "test/fast-a", "  "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("prompt is empty"));
}

#[test]
fn models_lists_the_fleet_catalog() {
    let out = sy(&["models"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("test/fast-a") && s.contains("test/fast-b:free"));
    let out = sy(&["models", "--free"]);
    let s = text(&out.stdout);
    assert!(
        s.contains("test/fast-b:free") && !s.contains("test/fast-a"),
        "{s}"
    );
    let out = sy(&["models", "--json", "fast a"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["id"], "test/fast-a");
}

/// A server that answers one request with the start of a stream and then hangs up.
fn cutting_server() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        // Model listings get a 404; the first chat request gets the cut stream.
        let mut s = loop {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 65536];
            let n = s.read(&mut buf).unwrap_or(0);
            if buf[..n].starts_with(b"GET") {
                let _ = write!(
                    s,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                continue;
            }
            break s;
        };
        let chunk = |c: &str| {
            format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{c}\"}},\"finish_reason\":null}}]}}\n\n"
            )
        };
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n{}{}",
            chunk("The first half"),
            chunk(" of an answer")
        );
    });
    format!("http://{addr}/v1")
}

#[test]
fn a_cut_stream_is_never_printed_as_complete() {
    let url = cutting_server();
    let out = sy_cmd()
        .args(["--base-url", &url, "ask", "-m", "x/y", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "",
        "nothing on stdout for an incomplete answer"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("INCOMPLETE") && err.contains("The first half of an answer"),
        "{err}"
    );
}

#[test]
fn routed_ask_reports_attempts_and_failover_in_json() {
    let p = std::env::temp_dir().join(format!("switchyard-ask-flaky-{}.toml", std::process::id()));
    std::fs::write(&p, common::DOWN_AND_UP_FLEET).unwrap();
    let out = sy_cmd()
        .arg("--fleet")
        .arg(&p)
        .args(["--route-locally", "ask", "--json", "-m", "m/chat", "hi"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&p);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events = json_lines(&out.stdout);
    let attempts = attempts_of(&events);
    // The far cheaper endpoint is picked first almost always (weight 1/price²); either way the
    // answer comes from the healthy one.
    assert_eq!(
        attempts.last().map(String::as_str),
        Some("Uptown"),
        "{attempts:?}"
    );
    if attempts.len() > 1 {
        assert!(events.iter().any(|v| v["type"] == "failover"));
    }
    let done = events.iter().find(|v| v["type"] == "done").unwrap();
    assert_eq!(done["provider"], "Uptown");
}

#[test]
fn routing_flags_reach_the_wire_and_the_local_router() {
    let out = sy(&[
        "ask",
        "--print-request",
        "-m",
        "a/b",
        "--sort",
        "price",
        "--max-latency",
        "p90=3",
        "--max-price",
        "prompt=1,completion=2",
        "--data-collection",
        "deny",
        "--zdr",
        "hi",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["provider"],
        serde_json::json!({
            "sort": "price",
            "preferred_max_latency": {"p90": 3.0},
            "max_price": {"prompt": "1", "completion": "2"},
            "data_collection": "deny",
            "zdr": true
        })
    );
    let bad = sy(&["ask", "--max-latency", "p95=3", "-m", "a/b", "hi"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("p95"));

    let p = std::env::temp_dir().join(format!("switchyard-ask-only-{}.toml", std::process::id()));
    std::fs::write(&p, common::DOWN_AND_UP_FLEET).unwrap();
    let out = sy_cmd()
        .arg("--fleet")
        .arg(&p)
        .args([
            "--route-locally",
            "--only",
            "up",
            "ask",
            "--json",
            "-m",
            "m/chat",
            "hi",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&p);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let attempts = attempts_of(&json_lines(&out.stdout));
    assert_eq!(
        attempts,
        vec!["Uptown".to_string()],
        "--only is a hard filter"
    );
}

/// `ask` through the local router with `--sort price` (Downtown, always failing, first) and a
/// given state directory; returns the providers attempted in order.
fn routed_attempts(state: &std::path::Path, fleet: &std::path::Path) -> Vec<String> {
    let out = sy_cmd()
        .arg("--fleet")
        .arg(fleet)
        .args([
            "--route-locally",
            "--sort",
            "price",
            "ask",
            "--json",
            "-m",
            "m/chat",
            "hi",
        ])
        .env("SWITCHYARD_STATE_DIR", state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    attempts_of(&json_lines(&out.stdout))
}

#[test]
fn health_learned_by_one_ask_steers_the_next() {
    let fleet = std::env::temp_dir().join(format!(
        "switchyard-ask-persist-{}.toml",
        std::process::id()
    ));
    std::fs::write(&fleet, common::DOWN_AND_UP_FLEET).unwrap();
    let state = common::fresh_state_dir();
    // Downtown is tried twice (one retry) before Uptown answers.
    assert_eq!(
        routed_attempts(&state, &fleet),
        ["Downtown", "Downtown", "Uptown"]
    );
    let file = state.join(format!(
        "health-fleet-switchyard-ask-persist-{}.json",
        std::process::id()
    ));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("health saved")).unwrap();
    let down = saved["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["provider"] == "down")
        .expect("Downtown's health is saved");
    assert_eq!(down["breaker"]["consecutive_failures"], 2);
    assert_eq!(down["events"].as_array().unwrap().len(), 2);
    // The next process starts from that: two failures in the last 30 s make Downtown unstable,
    // ranked after the healthy endpoint even though it is cheaper.
    assert_eq!(routed_attempts(&state, &fleet), ["Uptown"]);
    // A fresh state directory knows nothing and tries the cheapest first again.
    assert_eq!(
        routed_attempts(&common::fresh_state_dir(), &fleet)[0],
        "Downtown"
    );
    // A damaged file is reported and ignored: the run still answers.
    let file = std::fs::read_dir(&state)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&file, "{ damaged").unwrap();
    let out = sy_cmd()
        .arg("--fleet")
        .arg(&fleet)
        .args(["--route-locally", "ask", "-m", "m/chat", "hi"])
        .env("SWITCHYARD_STATE_DIR", &state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not valid saved health"));
    let _ = std::fs::remove_file(&fleet);
    let _ = std::fs::remove_dir_all(&state);
}

/// Runs `ask` with a config whose `[routing] providers` are two servers of a fleet running in
/// this test process (one always failing), the key read from the environment.
#[test]
fn config_providers_are_routed_locally_with_their_own_keys() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let spec = switchyard::fleet::FleetSpec::from_toml(
        &format!("api_key = \"sk-sim-test\"\n{}", common::DOWN_AND_UP_FLEET),
        "test fleet",
    )
    .unwrap();
    let fleet = rt
        .block_on(switchyard::fleet::start(
            spec,
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let config = format!(
        r#"
panes = ["m/chat"]
[routing]
providers = ["basement", "cloud"]

[[providers]]
name = "basement"
kind = "openai"
base_url = "{down}"
api_key_env = "SY_TEST_KEY"
collects_data = false
[[providers.models]]
id = "m/chat"
prompt_price = 0.01
completion_price = 0.01

[[providers]]
name = "cloud"
kind = "openai"
base_url = "{up}"
api_key_env = "SY_TEST_KEY"
collects_data = false
[[providers.models]]
id = "m/chat"
prompt_price = 0.3
completion_price = 0.3
context_length = 64000
"#,
        down = fleet.provider_base_url("down").unwrap(),
        up = fleet.provider_base_url("up").unwrap(),
    );
    let path = std::env::temp_dir().join(format!("switchyard-ask-cfg-{}.toml", std::process::id()));
    std::fs::write(&path, config).unwrap();
    let run = |args: &[&str], key: Option<&str>| {
        let mut c = sy_cmd();
        c.arg("--config")
            .arg(&path)
            .args(args)
            .env_remove("OPENROUTER_API_KEY");
        match key {
            Some(k) => c.env("SY_TEST_KEY", k),
            None => c.env_remove("SY_TEST_KEY"),
        };
        c.output().unwrap()
    };
    let out = run(
        &[
            "--sort",
            "price",
            "--data-collection",
            "deny",
            "ask",
            "--json",
            "-m",
            "m/chat",
            "hi",
        ],
        Some("sk-sim-test"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events = json_lines(&out.stdout);
    let attempts = attempts_of(&events);
    assert_eq!(attempts, ["basement", "basement", "cloud"]);
    let done = events.iter().find(|v| v["type"] == "done").unwrap();
    assert_eq!(done["provider"], "cloud");
    // The catalog is what the config declares.
    let out = run(&["models"], Some("sk-sim-test"));
    assert!(
        text(&out.stdout).contains("m/chat"),
        "{}",
        text(&out.stdout)
    );
    // A wrong key is the account's problem, reported as such, not provider health.
    let out = run(&["ask", "-m", "m/chat", "hi"], Some("sk-wrong"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));
    // A missing key variable is named.
    let out = run(&["ask", "-m", "m/chat", "hi"], None);
    assert!(
        text(&out.stderr).contains("SY_TEST_KEY"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_file(&path);
    drop(fleet);
}

#[test]
fn bad_routing_config_names_the_line_and_the_rule() {
    let write = |name: &str, body: &str| {
        let p = std::env::temp_dir().join(format!(
            "switchyard-badroute-{name}-{}.toml",
            std::process::id()
        ));
        std::fs::write(&p, body).unwrap();
        p
    };
    let negative = write(
        "neg",
        "[[providers]]\nname = \"a\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\n[[providers.models]]\nid = \"m/x\"\nprompt_price = 1\ncompletion_price = -2\n",
    );
    let unknown = write("unknown", "[routing]\nproviders = [\"ghost\"]\n");
    for (path, line, words) in [
        (&negative, "line 8", "completion_price"),
        (&unknown, "line 2", "ghost"),
    ] {
        let out = sy_cmd()
            .arg("--config")
            .arg(path)
            .args(["ask", "-m", "m/x", "hi"])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(line) && err.contains(words), "{err}");
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn the_gateways_routing_is_observed_and_saved_per_provider_that_answered() {
    // Without --route-locally the fleet's aggregator routes (like OpenRouter): it fails over
    // from Downtown silently, and the answer names Uptown, which the observer records.
    let fleet = std::env::temp_dir().join(format!(
        "switchyard-ask-observe-{}.toml",
        std::process::id()
    ));
    std::fs::write(&fleet, common::DOWN_AND_UP_FLEET).unwrap();
    let state = common::fresh_state_dir();
    let out = sy_cmd()
        .arg("--fleet")
        .arg(&fleet)
        .args(["ask", "-m", "m/chat", "hi"])
        .env("SWITCHYARD_STATE_DIR", &state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = state.join(format!(
        "health-fleet-switchyard-ask-observe-{}-observed.json",
        std::process::id()
    ));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("observed health saved"))
            .unwrap();
    let eps = saved["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 1, "{saved}");
    assert_eq!(eps[0]["provider"], "up");
    assert_eq!(eps[0]["events"][0]["outcome"]["kind"], "success");
    let _ = std::fs::remove_file(&fleet);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn an_openrouter_shaped_gateway_from_the_config_is_observed_too() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let spec = switchyard::fleet::FleetSpec::from_toml(common::DOWN_AND_UP_FLEET, "t").unwrap();
    let fleet = rt
        .block_on(switchyard::fleet::start(
            spec,
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let cfg = std::env::temp_dir().join(format!("switchyard-ask-gw-{}.toml", std::process::id()));
    std::fs::write(
        &cfg,
        format!(
            "[[providers]]\nname = \"gw\"\nkind = \"openrouter\"\nbase_url = \"{}\"\n",
            fleet.base_url()
        ),
    )
    .unwrap();
    let state = common::fresh_state_dir();
    let out = sy_cmd()
        .arg("--config")
        .arg(&cfg)
        .args(["--provider", "gw", "ask", "-m", "m/chat", "hi"])
        .env("SWITCHYARD_STATE_DIR", &state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("health-gateway-gw.json")).expect("saved"),
    )
    .unwrap();
    let answered: Vec<&serde_json::Value> = saved["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["events"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(answered.len(), 1, "{saved}");
    assert_eq!(answered[0]["provider_name"], "Uptown");
    let _ = std::fs::remove_file(&cfg);
    let _ = std::fs::remove_dir_all(&state);
    drop(fleet);
}

#[test]
fn a_breaker_opened_by_one_ask_is_still_open_for_the_next() {
    let fleet = std::env::temp_dir().join(format!(
        "switchyard-ask-breaker-{}.toml",
        std::process::id()
    ));
    std::fs::write(&fleet, common::DOWN_AND_UP_FLEET).unwrap();
    let state = common::fresh_state_dir();
    let file = state.join(format!(
        "health-fleet-switchyard-ask-breaker-{}.json",
        std::process::id()
    ));
    // Only the failing provider: each ask makes three attempts (a lone endpoint's retries).
    let ask = || {
        sy_cmd()
            .arg("--fleet")
            .arg(&fleet)
            .args([
                "--route-locally",
                "--only",
                "down",
                "ask",
                "-m",
                "m/chat",
                "hi",
            ])
            .env("SWITCHYARD_STATE_DIR", &state)
            .output()
            .unwrap()
    };
    let breaker = || -> serde_json::Value {
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        saved["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["provider"] == "down")
            .unwrap()["breaker"]
            .clone()
    };
    assert_eq!(ask().status.code(), Some(1));
    assert_eq!(breaker()["consecutive_failures"], 3);
    assert!(
        breaker()["open_for"].is_null(),
        "three failures: still closed"
    );
    // The second process starts from three failures in a row; two more open the breaker.
    assert_eq!(ask().status.code(), Some(1));
    let b = breaker();
    assert_eq!(b["consecutive_failures"], 6, "{b}");
    assert_eq!(b["opens"], 1, "{b}");
    assert!(!b["open_for"].is_null(), "open, with time left: {b}");
    // The third process restores it open, so the endpoint is only a last resort: one attempt,
    // no retries (a fresh start would make three, and show a closed breaker).
    assert_eq!(ask().status.code(), Some(1));
    let b = breaker();
    assert_eq!(b["consecutive_failures"], 7, "{b}");
    assert_eq!(b["opens"], 1, "{b}");
    assert!(!b["open_for"].is_null(), "{b}");
    let _ = std::fs::remove_file(&fleet);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn routing_flags_the_source_cannot_honour_are_refused() {
    let fleet = fleet_file();
    let fleet = fleet.to_str().unwrap();
    for (flags, named) in [
        // The fleet's aggregator routes itself.
        (
            vec!["--fleet", fleet, "--mid-stream", "continue"],
            "--mid-stream",
        ),
        // A plain server is routed by Switchyard already; the flag is for the fleet.
        (
            vec!["--base-url", "http://127.0.0.1:9/v1", "--route-locally"],
            "--route-locally",
        ),
    ] {
        let out = sy_cmd()
            .args(&flags)
            .args(["ask", "-m", "m/x", "hi"])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(named), "{err}");
    }
    // With a key set, --route-locally says it is about the fleet.
    let out = sy_cmd()
        .env("OPENROUTER_API_KEY", "sk-or-test")
        .args(["--route-locally", "ask", "-m", "m/x", "hi"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("simulated fleet") && err.contains("--sim"),
        "{err}"
    );
}

#[test]
fn plain_ask_keeps_stdout_to_the_answer_and_tells_stderr_what_the_router_did() {
    let fleet =
        std::env::temp_dir().join(format!("switchyard-ask-notes-{}.toml", std::process::id()));
    std::fs::write(&fleet, common::DOWN_AND_UP_FLEET).unwrap();
    let out = sy_cmd()
        .arg("--fleet")
        .arg(&fleet)
        .args([
            "--route-locally",
            "--sort",
            "price",
            "ask",
            "-m",
            "m/chat",
            "hi",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&fleet);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("m/chat: ⟳ retrying the same provider in"),
        "{err}"
    );
    assert!(
        err.contains("m/chat: ↪ failed over before the first token"),
        "{err}"
    );
    let answer = text(&out.stdout);
    assert!(!answer.contains("switchyard:") && !answer.trim().is_empty());
}

#[test]
fn a_fleet_files_api_key_reaches_every_provider_when_routed_locally() {
    let fleet =
        std::env::temp_dir().join(format!("switchyard-ask-keyed-{}.toml", std::process::id()));
    std::fs::write(&fleet, format!("api_key = \"sk-sim-key\"\n{FLEET}")).unwrap();
    let out = sy_cmd()
        .arg("--fleet")
        .arg(&fleet)
        .args(["--route-locally", "ask", "-m", "test/fast-a", "hi"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    // Before: no key went to the provider routes and every request got a 401.
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("401"), "{err}");
    let _ = std::fs::remove_file(&fleet);
}

#[test]
fn files_that_are_not_files_are_refused_at_once() {
    let dir = common::fresh_state_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo.toml");
    let fifo_made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b'#'; 2 * 1024 * 1024]).unwrap();
    let huge_scale = dir.join("scale.toml");
    std::fs::write(&huge_scale, format!("time_scale = 1e300\n{FLEET}")).unwrap();
    let mut cases: Vec<(&str, std::path::PathBuf, &str)> = vec![
        ("--config", "/dev/zero".into(), "not a regular file"),
        ("--fleet", "/dev/zero".into(), "not a regular file"),
        ("--config", big.clone(), "at most"),
        ("--fleet", big.clone(), "at most"),
        ("--fleet", huge_scale, "from 0 to 1000"),
    ];
    if fifo_made {
        cases.push(("--config", fifo.clone(), "not a regular file"));
        cases.push(("--fleet", fifo, "not a regular file"));
    }
    for (flag, path, says) in cases {
        // A FIFO with no writer would hang a plain read: the call must come back by itself.
        let out = sy_cmd()
            .arg(flag)
            .arg(&path)
            .args(["ask", "-m", "test/fast-a", "hi"])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {path:?}: {err}");
        assert!(err.contains(says), "{flag} {path:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn request_flags_reach_the_body_and_bad_values_are_refused() {
    let dir = common::fresh_state_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let sys = dir.join("system.txt");
    std::fs::write(&sys, "You answer in one line.").unwrap();
    let out = sy(&[
        "ask",
        "--print-request",
        "-m",
        "a/b",
        "--system",
        &format!("@{}", sys.display()),
        "--temperature",
        "0.3",
        "--top-p",
        "0.9",
        "--max-tokens",
        "40",
        "--reasoning-effort",
        "low",
        "hi",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["messages"][0],
        serde_json::json!({"role": "system", "content": "You answer in one line."})
    );
    assert_eq!(v["messages"][1]["content"], "hi");
    assert_eq!(v["temperature"], 0.3);
    assert_eq!(v["top_p"], 0.9);
    assert_eq!(v["max_tokens"], 40);
    assert_eq!(v["reasoning"], serde_json::json!({"effort": "low"}));
    for (flag, value, says) in [
        ("--temperature", "7", "--temperature: 7 is outside 0–2"),
        ("--top-p", "1.5", "--top-p: 1.5 is outside (0, 1]"),
        ("--max-tokens", "0", "--max-tokens: must be at least 1"),
        (
            "--system",
            "@/no/such/file",
            "--system @/no/such/file: no such file",
        ),
    ] {
        let out = sy(&["ask", "--print-request", "-m", "a/b", flag, value, "hi"]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(
            text(&out.stderr).contains(says),
            "{flag}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{flag}: nothing is sent or printed");
    }
}

#[test]
fn plan_shows_the_route_and_the_body_and_sends_nothing() {
    let plan = |args: &[&str]| {
        let out = sy_cmd().args(args).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
        (out.status.code(), v)
    };
    // The built-in fleet, routed by Switchyard: two providers share a price-weighted draw.
    let (code, v) = plan(&[
        "--route-locally",
        "plan",
        "--json",
        "-m",
        "openai/gpt-4o-mini",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(v["forecast"], false);
    let shares = v["shares"]
        .as_array()
        .expect("shares of a load-balanced draw");
    let sum: f64 = shares.iter().map(|s| s["share"].as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 0.01, "{v}");
    assert_eq!(v["request"]["model"], "openai/gpt-4o-mini");
    // `--only` is a hard filter: the other provider is excluded, with its rule.
    let (_, v) = plan(&[
        "--route-locally",
        "--only",
        "comet",
        "plan",
        "--json",
        "-m",
        "openai/gpt-4o-mini",
    ]);
    assert_eq!(v["chosen"]["slug"], "comet", "{v}");
    assert_eq!(v["excluded"][0]["slug"], "quarry", "{v}");
    assert!(
        v["excluded"][0]["why"].as_str().unwrap().contains("only"),
        "{v}"
    );
    assert_eq!(
        v["request"]["provider"]["only"],
        serde_json::json!(["comet"])
    );
    // EU processing: only the fleet's EU provider qualifies; the rest say why.
    let (_, v) = plan(&[
        "--route-locally",
        "--eu",
        "plan",
        "--json",
        "-m",
        "meta-llama/llama-3.3-70b-instruct",
    ]);
    assert_eq!(v["chosen"]["slug"], "fjord", "{v}");
    assert!(
        v["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["rule"] == "outside_eu"),
        "{v}"
    );
    assert!(v["request"].get("eu").is_none(), "not a body field: {v}");
    // Where the gateway routes, the plan is a forecast.
    let (_, v) = plan(&["plan", "--json", "-m", "openai/gpt-4o-mini"]);
    assert_eq!(v["forecast"], true, "{v}");
    // No route: said, exit 1.
    let out = sy_cmd()
        .args(["--route-locally", "plan", "-m", "nope/none"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("no plan"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn eu_processing_goes_to_the_fleet_aggregators_eu_host_which_routes_only_to_eu_providers() {
    let fleet = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fleet.toml");
    let run = |model: &str| {
        sy_cmd()
            .arg("--fleet")
            .arg(&fleet)
            .args(["ask", "--json", "--eu", "-m", model, "hi"])
            .output()
            .unwrap()
    };
    let out = run("anthropic/claude-sonnet-4.5");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let done = json_lines(&out.stdout)
        .into_iter()
        .find(|v| v["type"] == "done")
        .unwrap();
    assert_eq!(
        done["provider"], "Fjord AI",
        "the fleet's EU provider: {done}"
    );
    // A model no EU provider serves: the EU host says which rule emptied the set.
    let out = run("openai/gpt-4o-mini");
    assert_eq!(out.status.code(), Some(1));
    let err = json_lines(&out.stdout)
        .into_iter()
        .find(|v| v["type"] == "error")
        .unwrap();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("EU in-region processing"),
        "{err}"
    );
}

#[test]
fn eu_processing_where_the_gateway_has_no_eu_host_sends_nothing_and_says_so() {
    // A gateway that routes itself, with no EU host known: it may list models, never be sent a
    // prompt.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { return };
            let mut buf = [0u8; 4096];
            let n = c.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            seen2.lock().unwrap().push(head);
            let body = r#"{"object":"list","data":[{"id":"openai/gpt-4o-mini","object":"model"}]}"#;
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let home = common::config_home(&format!(
        "[[providers]]\nname = \"lite\"\nkind = \"openai\"\nbase_url = \"{url}\"\nroutes_itself = true\n"
    ));
    let out = sy_cmd()
        .env("XDG_CONFIG_HOME", &home)
        .args([
            "--provider",
            "lite",
            "ask",
            "--eu",
            "-m",
            "openai/gpt-4o-mini",
            "hi",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no EU host") && text(&out.stderr).contains("nothing was sent"),
        "{}",
        text(&out.stderr)
    );
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().all(|h| !h.starts_with("POST")),
        "no prompt was sent: {seen:?}"
    );
}

#[test]
fn the_config_request_table_sets_defaults_that_flags_override_and_bad_values_are_located() {
    let home = common::config_home(
        "[request]\nsystem = \"be brief\"\ntemperature = 0.2\npreset = \"cheapest\"\n",
    );
    let print = |extra: &[&str]| {
        let out = sy_cmd()
            .env("XDG_CONFIG_HOME", &home)
            .args(["ask", "--print-request", "-m", "a/b"])
            .args(extra)
            .arg("hi")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = print(&[]);
    assert_eq!(v["messages"][0]["content"], "be brief");
    assert_eq!(v["temperature"], 0.2);
    assert_eq!(v["provider"]["sort"], "price");
    let v = print(&["--temperature", "0.5", "--preset", "fastest"]);
    assert_eq!(v["temperature"], 0.5, "the flag wins");
    assert_eq!(v["provider"]["sort"], "throughput");
    for (toml, says) in [
        (
            "[request]\ntemperature = 7\n",
            "[request] temperature: 7 is outside 0–2",
        ),
        (
            "[request]\npreset = \"fastst\"\n",
            "no preset named `fastst`",
        ),
    ] {
        let home = common::config_home(toml);
        let out = sy_cmd()
            .env("XDG_CONFIG_HOME", &home)
            .args(["ask", "--print-request", "-m", "a/b", "hi"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{toml}");
        let err = text(&out.stderr);
        assert!(
            err.contains(says) && err.contains("config.toml"),
            "{toml}: {err}"
        );
    }
    // An unknown key is left out with a warning naming its line and the nearest key.
    let home = common::config_home("[request]\ntemprature = 0.3\n");
    let out = sy_cmd()
        .env("XDG_CONFIG_HOME", &home)
        .args(["ask", "--print-request", "-m", "a/b", "hi"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning")
            && err.contains("line 2")
            && err.contains("did you mean `temperature`"),
        "{err}"
    );
}

#[test]
fn only_naming_a_provider_that_serves_none_of_the_models_is_refused_before_anything_is_sent() {
    let out = sy_cmd()
        .args([
            "--route-locally",
            "--only",
            "nowhere",
            "ask",
            "-m",
            "openai/gpt-4o-mini",
            "hi",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--only: `nowhere` serves none of openai/gpt-4o-mini")
            && err.contains("comet, quarry"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_preset_saved_from_the_routing_panel_is_a_preset_for_ask_too() {
    let home = common::fresh_state_dir();
    std::fs::create_dir_all(home.join("switchyard")).unwrap();
    std::fs::write(
        home.join("switchyard/presets.json"),
        r#"{"private-fast": {"sort": "throughput", "zdr": true}}"#,
    )
    .unwrap();
    let run = |preset: &str| {
        sy_cmd()
            .env("XDG_CONFIG_HOME", &home)
            .args([
                "ask",
                "--print-request",
                "--preset",
                preset,
                "-m",
                "test/fast-a",
                "hi",
            ])
            .output()
            .unwrap()
    };
    let out = run("private-fast");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["provider"]["sort"], "throughput");
    assert_eq!(body["provider"]["zdr"], true);
    let out = run("nope");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--preset nope: no preset named `nope`") && err.contains("private-fast"),
        "{err}"
    );
}
