//! A server as strict as api.openai.com: any request field outside the OpenAI Chat
//! Completions API is a 400. Every `ask` the README shows, pointed at it with `--base-url`,
//! must be answered, and the bodies it recorded hold no OpenRouter-only field.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// The request fields of OpenAI's Chat Completions API.
const OPENAI_FIELDS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "user",
    "metadata",
    "service_tier",
    "modalities",
    "audio",
    "store",
    "reasoning_effort",
    "prediction",
    "web_search_options",
];

/// Starts the strict server; returns its base URL and the chat bodies it received.
fn strict_server() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let (url, bodies, _) = strict_server_listing(LISTING);
    (url, bodies)
}

/// The models the strict server lists.
const LISTING: &str = r#"{"object":"list","data":[{"id":"openai/gpt-4o-mini","object":"model"},{"id":"google/gemini-2.5-pro","object":"model"},{"id":"anthropic/claude-sonnet-4.5","object":"model"}]}"#;

type Listing = Arc<Mutex<String>>;

/// The strict server with a model listing that can be changed while it runs (a different
/// server at the same URL); an empty listing answers 404.
fn strict_server_listing(list: &str) -> (String, Arc<Mutex<Vec<serde_json::Value>>>, Listing) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let listing: Listing = Arc::new(Mutex::new(list.to_string()));
    let (seen, shown) = (bodies.clone(), listing.clone());
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(s) = conn else { continue };
            let (seen, shown) = (seen.clone(), shown.clone());
            std::thread::spawn(move || serve(s, &seen, &shown));
        }
    });
    (format!("http://{addr}/v1"), bodies, listing)
}

fn serve(mut s: std::net::TcpStream, seen: &Mutex<Vec<serde_json::Value>>, listing: &Listing) {
    let Some((line, body)) = common::read_request(&s) else {
        return;
    };
    let reply = common::reply;
    if line.starts_with("GET /v1/models") {
        let list = listing.lock().unwrap().clone();
        if list.is_empty() {
            return reply(&mut s, "404 Not Found", "text/plain", "no such route");
        }
        return reply(&mut s, "200 OK", "application/json", &list);
    }
    if !line.starts_with("POST /v1/chat/completions") {
        return reply(&mut s, "404 Not Found", "application/json", "{}");
    }
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    seen.lock().unwrap().push(v.clone());
    if let Some(bad) = v
        .as_object()
        .and_then(|o| o.keys().find(|k| !OPENAI_FIELDS.contains(&k.as_str())))
    {
        let e = format!(
            r#"{{"error":{{"message":"Unrecognized request argument supplied: {bad}","type":"invalid_request_error","param":null,"code":null}}}}"#
        );
        return reply(&mut s, "400 Bad Request", "application/json", &e);
    }
    let model = v["model"].as_str().unwrap_or("?").to_string();
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let sse = format!(
        "{}{}{}data: [DONE]\n\n",
        chunk(
            r#"{"role":"assistant","content":"Quicksort picks a pivot"}"#,
            "null"
        ),
        chunk(r#"{"content":" and partitions."}"#, "null"),
        chunk("{}", "\"stop\""),
    );
    reply(&mut s, "200 OK", "text/event-stream", &sse);
}

fn sy(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", common::fresh_state_dir())
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
        .args(["--base-url", url])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_readme_ask_is_answered_by_a_server_that_rejects_unknown_fields() {
    let (url, bodies) = strict_server();
    let asks: [&[&str]; 5] = [
        &[
            "ask",
            "-m",
            "openai/gpt-4o-mini",
            "-m",
            "google/gemini-2.5-pro",
            "Explain quicksort",
        ],
        &[
            "ask",
            "--json",
            "-m",
            "anthropic/claude-sonnet-4.5",
            "--fallback",
            "openai/gpt-4o-mini",
            "Hi",
        ],
        &[
            "ask",
            "-m",
            "openai/gpt-4o-mini",
            "--sort",
            "price",
            "--data-collection",
            "allow",
            "Hi",
        ],
        &[
            "ask",
            "-m",
            "openai/gpt-4o-mini",
            "--only",
            &url_host(&url),
            "--max-latency",
            "p90=3",
            "Hi",
        ],
        &[
            "ask",
            "-m",
            "openai/gpt-4o-mini",
            "--sort",
            "throughput",
            "--partition",
            "none",
            "--no-fallbacks",
            "Hi",
        ],
    ];
    for args in asks {
        let out = sy(&url, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("Quicksort picks a pivot"),
            "{args:?}: {stdout}"
        );
    }
    let bodies = bodies.lock().unwrap();
    assert!(bodies.len() >= 6, "{bodies:?}");
    for b in bodies.iter() {
        for k in b.as_object().unwrap().keys() {
            assert!(OPENAI_FIELDS.contains(&k.as_str()), "sent {k}: {b}");
        }
    }
}

#[test]
fn print_request_shows_the_body_the_server_gets() {
    let (url, bodies) = strict_server();
    let out = sy(
        &url,
        &[
            "ask",
            "--print-request",
            "-m",
            "openai/gpt-4o-mini",
            "--fallback",
            "google/gemini-2.5-pro",
            "--sort",
            "price",
            "Hi",
        ],
    );
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in ["models", "provider"] {
        assert!(printed.get(f).is_none(), "{printed}");
    }
    assert_eq!(printed["stream_options"]["include_usage"], true);
    // And the real request is exactly that body.
    let sent = sy(
        &url,
        &[
            "ask",
            "-m",
            "openai/gpt-4o-mini",
            "--fallback",
            "google/gemini-2.5-pro",
            "--sort",
            "price",
            "Hi",
        ],
    );
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert_eq!(bodies.lock().unwrap().last().unwrap(), &printed);
}

#[test]
fn a_server_without_usage_still_gets_tokens_counted() {
    let (url, _) = strict_server();
    let out = sy(&url, &["ask", "--json", "-m", "openai/gpt-4o-mini", "Hi"]);
    assert!(out.status.success());
    let done = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["type"] == "done")
        .unwrap();
    assert_eq!(done["usage"]["completion_tokens"], 2, "{done}");
    assert_eq!(done["usage"]["estimated"], true, "{done}");
    // The server publishes no prices: no cost is invented.
    assert!(done["cost"].is_null(), "{done}");
}

#[test]
fn a_price_cap_on_a_server_without_prices_says_it_cannot_be_checked() {
    let (url, _) = strict_server();
    let out = sy(
        &url,
        &[
            "ask",
            "-m",
            "openai/gpt-4o-mini",
            "--max-price",
            "prompt=1",
            "Hi",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("price is unknown") && err.contains("cannot be checked"),
        "{err}"
    );
}

#[test]
fn unknown_privacy_never_passes_a_data_collection_deny() {
    let (url, _) = strict_server();
    for flags in [&["--data-collection", "deny"][..], &["--zdr"][..]] {
        let mut args = vec!["ask", "-m", "openai/gpt-4o-mini"];
        args.extend_from_slice(flags);
        args.push("Hi");
        let out = sy(&url, &args);
        assert!(!out.status.success(), "{flags:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no endpoint qualifies"), "{flags:?}: {err}");
    }
}

/// The provider name Switchyard gives a bare `--base-url`: its host and port.
fn url_host(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string()
}

#[test]
fn a_server_without_a_model_listing_is_still_routed_and_told_once() {
    let (url, _, _) = strict_server_listing("");
    let out = sy(&url, &["ask", "-m", "openai/gpt-4o-mini", "Hi"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(err.matches("cannot list the models").count(), 1, "{err}");
    assert!(err.contains("routing to the models named"), "{err}");
}

#[test]
fn health_saved_by_a_different_server_at_the_same_url_is_ignored_with_a_message() {
    let (url, _, listing) = strict_server_listing(LISTING);
    let state = common::fresh_state_dir();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .env_remove("OPENROUTER_API_KEY")
            .env("XDG_CONFIG_HOME", common::fresh_state_dir())
            .env("SWITCHYARD_STATE_DIR", &state)
            .args(["--base-url", &url, "ask", "-m", "openai/gpt-4o-mini", "Hi"])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success());
    assert!(!String::from_utf8_lossy(&first.stderr).contains("different server"));
    // The same server again: its health is its own.
    let again = run();
    assert!(!String::from_utf8_lossy(&again.stderr).contains("different server"));
    // Another server now answers at this URL (it lists other models).
    *listing.lock().unwrap() =
        r#"{"object":"list","data":[{"id":"openai/gpt-4o-mini","object":"model"},{"id":"local/other","object":"model"}]}"#.into();
    let other = run();
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(other.status.success(), "{err}");
    assert!(
        err.contains("written by a different server at this URL"),
        "{err}"
    );
}

#[test]
fn a_server_that_routes_itself_gets_each_request_as_is_and_only_openai_fields() {
    let (url, bodies) = strict_server();
    let home = common::config_home(&format!(
        "[[providers]]\nname = \"lite\"\nkind = \"openai\"\nbase_url = \"{url}\"\nroutes_itself = true\n"
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", &home)
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
        .args(["--provider", "lite", "ask", "-m", "openai/gpt-4o-mini"])
        .args([
            "--fallback",
            "google/gemini-2.5-pro",
            "--sort",
            "price",
            "Hi",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("fallbacks google/gemini-2.5-pro not sent"),
        "{err}"
    );
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 1, "no model listing, no routing: one request");
    assert_eq!(bodies[0]["model"], "openai/gpt-4o-mini");
}

/// A server that sends one word and then keep-alives and empty events for a long while.
fn stalling_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { continue };
            std::thread::spawn(move || {
                let Some((line, _)) = common::read_request(&s) else {
                    return;
                };
                if line.starts_with("GET") {
                    return common::reply(&mut s, "404 Not Found", "text/plain", "none");
                }
                use std::io::Write;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Hi\"}}}}]}}\n\n"
                );
                for _ in 0..600 {
                    if s.write_all(b": keep-alive\n\ndata: {}\n\n").is_err() {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            });
        }
    });
    format!("http://{addr}/v1")
}

#[test]
fn the_limits_table_bounds_a_stream_that_only_sends_keep_alives() {
    let url = stalling_server();
    let home = common::config_home("[limits]\nno_progress_timeout_s = 1\n");
    let t = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", &home)
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
        .args(["--base-url", &url, "ask", "-m", "x/y", "hi"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no new text for 1s"), "{err}");
    // The 30-s stream was stopped long before its end.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(25),
        "{:?}",
        t.elapsed()
    );
    // A bad value is refused with its line.
    let bad = common::config_home("[limits]\nmax_answer_mb = -1\n");
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", &bad)
        .args(["--base-url", &url, "ask", "-m", "x/y", "hi"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("line 2") && err.contains("max_answer_mb"),
        "{err}"
    );
}

#[test]
fn models_of_a_server_without_prices_are_not_called_free() {
    let (url, _) = strict_server();
    let out = sy(&url, &["models"]);
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("openai/gpt-4o-mini"), "{s}");
    assert!(!s.contains("free") && !s.contains("4294967295"), "{s}");
    let free = sy(&url, &["models", "--free"]);
    assert!(
        !String::from_utf8_lossy(&free.stdout).contains("openai/"),
        "unknown is not free"
    );
}
