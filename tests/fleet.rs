//! The simulated fleet over real loopback HTTP: catalog shapes, streaming, routing, failures.

use serde_json::{Value, json};
use std::time::Duration;
use switchyard::fleet::{FleetHandle, FleetSpec, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Two providers: Alpha (US, collects data, fp8) and Beta (EU, zero retention, bf16).
const FLEET: &str = r#"
seed = 42
time_scale = 0

[[providers]]
name = "Alpha Cloud"
slug = "alpha"
collects_data = true
quantization = "fp8"

[[providers.models]]
id = "openai/gpt-4o-mini"
prompt_price = 0.15
completion_price = 0.6
retry_after_secs = 7
#ALPHA_MINI

[[providers.models]]
id = "anthropic/claude-sonnet-4.5"
canonical_slug = "anthropic/claude-4.5-sonnet-20250929"
prompt_price = 3
completion_price = 15

[[providers.models]]
id = "meta-llama/llama-3.3-70b-instruct:free"
prompt_price = 0
completion_price = 0

[[providers]]
name = "Beta EU"
slug = "beta"
region = "eu"
zdr = true
quantization = "bf16"

[[providers.models]]
id = "openai/gpt-4o-mini"
prompt_price = 0.3
completion_price = 1.2
#BETA_MINI
"#;

const MINI: &str = "openai/gpt-4o-mini";
const PROMPT: &str = "How should I structure retries in a streaming HTTP client?";

fn client() -> reqwest::Client {
    // reqwest is built without a bundled TLS provider; install one (a no-op after the first time).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn fleet_from(toml: &str) -> FleetHandle {
    let spec = FleetSpec::from_toml(toml, "test fleet").unwrap_or_else(|e| panic!("{e}"));
    start(spec, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("fleet starts")
}

async fn fleet() -> FleetHandle {
    fleet_from(FLEET).await
}

fn chat(model: &str, stream: bool) -> Value {
    json!({ "model": model, "stream": stream, "messages": [
        { "role": "system", "content": "You are terse." },
        { "role": "user", "content": PROMPT },
    ]})
}

async fn post(url: &str, body: &Value) -> reqwest::Response {
    client()
        .post(url)
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .expect("request sent")
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.expect("request sent")
}

async fn json_of(resp: reqwest::Response) -> Value {
    serde_json::from_slice(&resp.bytes().await.expect("body")).expect("JSON body")
}

async fn text_of(resp: reqwest::Response) -> String {
    String::from_utf8(resp.bytes().await.expect("body").to_vec()).expect("UTF-8 body")
}

/// Splits an SSE body into (comment count before the first data event, data payloads).
fn sse(body: &str) -> (usize, Vec<String>) {
    assert!(
        body.ends_with("\n\n"),
        "stream must end with a complete event: {body:?}"
    );
    let mut comments_before_data = 0;
    let mut data = Vec::new();
    for event in body.split("\n\n").filter(|e| !e.is_empty()) {
        if let Some(c) = event.strip_prefix(':') {
            assert_eq!(c, " OPENROUTER PROCESSING");
            if data.is_empty() {
                comments_before_data += 1;
            }
        } else {
            let payload = event
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {event:?}"));
            assert!(!payload.contains('\n'), "one line per event: {payload:?}");
            data.push(payload.to_string());
        }
    }
    (comments_before_data, data)
}

fn content_of(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

async fn non_stream_content(base: &str, model: &str) -> String {
    let resp = post(&format!("{base}/chat/completions"), &chat(model, false)).await;
    assert_eq!(resp.status(), 200);
    let v = json_of(resp).await;
    v["choices"][0]["message"]["content"]
        .as_str()
        .expect("content")
        .to_string()
}

#[tokio::test]
async fn models_listing_has_openrouter_shape_and_per_token_prices() {
    let f = fleet().await;
    let v = json_of(get(&format!("{}/models", f.base_url())).await).await;
    let data = v["data"].as_array().expect("data array");
    assert_eq!(data.len(), 3);
    let mini = data
        .iter()
        .find(|m| m["id"] == MINI)
        .expect("gpt-4o-mini listed");
    // The cheapest endpoint (Alpha, $0.15/$0.60 per M) sets the listed price.
    assert_eq!(
        mini["pricing"],
        json!({ "prompt": "0.00000015", "completion": "0.0000006" })
    );
    assert_eq!(mini["canonical_slug"], MINI);
    assert_eq!(mini["name"], "OpenAI: GPT 4o Mini");
    assert!(mini["created"].as_u64().is_some() && mini["description"].is_string());
    assert_eq!(mini["architecture"]["output_modalities"], json!(["text"]));
    assert_eq!(mini["architecture"]["input_modalities"], json!(["text"]));
    assert_eq!(mini["architecture"]["modality"], "text->text");
    assert!(mini["architecture"]["instruct_type"].is_null());
    assert_eq!(mini["top_provider"]["is_moderated"], false);
    assert!(mini["per_request_limits"].is_null());
    assert!(
        mini["supported_parameters"]
            .as_array()
            .unwrap()
            .contains(&json!("max_tokens"))
    );
    let sonnet = data
        .iter()
        .find(|m| m["id"] == "anthropic/claude-sonnet-4.5")
        .unwrap();
    assert_eq!(
        sonnet["canonical_slug"],
        "anthropic/claude-4.5-sonnet-20250929"
    );
    assert_eq!(sonnet["pricing"]["completion"], "0.000015");
    let free = data
        .iter()
        .find(|m| m["id"] == "meta-llama/llama-3.3-70b-instruct:free")
        .unwrap();
    assert_eq!(free["pricing"], json!({ "prompt": "0", "completion": "0" }));
}

#[tokio::test]
async fn builtin_fleet_lists_its_models() {
    let f = start(
        FleetSpec::builtin().with_time_scale(0.0),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let v = json_of(get(&format!("{}/models", f.base_url())).await).await;
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for want in [
        MINI,
        "anthropic/claude-sonnet-4.5",
        "google/gemini-2.5-pro",
        "meta-llama/llama-3.3-70b-instruct:free",
        "qwen/qwen3-coder",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    // Every built-in model answers through the aggregator (failover hides the flaky provider).
    for id in ids {
        let resp = post(
            &format!("{}/chat/completions", f.base_url()),
            &chat(id, false),
        )
        .await;
        assert_eq!(resp.status(), 200, "{id}");
    }
}

#[tokio::test]
async fn endpoints_listing_for_a_free_variant_and_404_for_unknown() {
    let f = fleet().await;
    let base = f.base_url();
    for path in [
        "meta-llama/llama-3.3-70b-instruct:free",
        "meta-llama/llama-3.3-70b-instruct%3Afree",
    ] {
        let resp = get(&format!("{base}/models/{path}/endpoints")).await;
        assert_eq!(resp.status(), 200, "{path}");
        let v = json_of(resp).await;
        let d = &v["data"];
        assert_eq!(d["id"], "meta-llama/llama-3.3-70b-instruct:free");
        assert_eq!(d["name"], "Meta: Llama 3.3 70B Instruct (free)");
        let eps = d["endpoints"].as_array().unwrap();
        assert_eq!(eps.len(), 1);
        let e = &eps[0];
        assert_eq!(
            e["name"],
            "Alpha Cloud | meta-llama/llama-3.3-70b-instruct:free"
        );
        assert_eq!(e["provider_name"], "Alpha Cloud");
        assert_eq!(e["tag"], "alpha/fp8");
        assert_eq!(e["quantization"], "fp8");
        assert_eq!(
            e["pricing"],
            json!({ "prompt": "0", "completion": "0", "request": 0 })
        );
        assert_eq!(e["status"], 0);
        assert_eq!(e["uptime_last_30m"], 100.0);
        assert!(e["max_prompt_tokens"].is_null() && e["latency_last_30m"].is_null());
    }
    let two = json_of(get(&format!("{base}/models/openai/gpt-4o-mini/endpoints")).await).await;
    let tags: Vec<&str> = two["data"]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["alpha/fp8", "beta/bf16"]);

    let resp = get(&format!("{base}/models/nobody/nothing/endpoints")).await;
    assert_eq!(resp.status(), 404);
    let v = json_of(resp).await;
    assert_eq!(v["error"]["code"], 404);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nobody/nothing")
    );

    let resp = get(&format!("{base}/no/such/route")).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(json_of(resp).await["error"]["code"], 404);
}

#[tokio::test]
async fn streamed_answer_is_well_formed_and_matches_the_non_streamed_one() {
    let f = fleet().await;
    let base = f.base_url();
    let resp = post(&format!("{base}/chat/completions"), &chat(MINI, true)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let gen_id = resp.headers()["x-generation-id"]
        .to_str()
        .unwrap()
        .to_string();
    let parts: Vec<&str> = gen_id.splitn(3, '-').collect();
    assert_eq!(parts[0], "gen");
    assert!(
        parts[1].parse::<u64>().is_ok()
            && parts[2].len() == 20
            && parts[2].chars().all(|c| c.is_ascii_alphanumeric()),
        "{gen_id}"
    );

    let body = text_of(resp).await;
    let (comments, data) = sse(&body);
    assert!(
        comments >= 1,
        "keep-alive comment expected before the first token"
    );
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).expect("chunk is JSON"))
        .collect();
    assert!(
        chunks.len() > 100,
        "expected a realistic number of tokens, got {}",
        chunks.len()
    );
    for c in &chunks {
        assert_eq!(c["id"], gen_id.as_str());
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["provider"], "Alpha Cloud");
        assert_eq!(c["model"], MINI);
        assert_eq!(c["choices"][0]["delta"]["role"], "assistant");
        assert!(c["created"].as_u64().is_some());
    }
    let with_usage: Vec<usize> = chunks
        .iter()
        .enumerate()
        .filter(|(_, c)| c.get("usage").is_some())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        with_usage,
        vec![chunks.len() - 1],
        "usage exactly once, on the final chunk"
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["native_finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"]["content"], "");
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["choices"][0]["finish_reason"].is_null())
    );

    let usage = &last["usage"];
    let prompt_chars = "You are terse.".chars().count() + PROMPT.chars().count();
    let prompt_tokens = prompt_chars.div_ceil(4) as u64;
    let completion_tokens = (chunks.len() - 1) as u64;
    assert_eq!(usage["prompt_tokens"], prompt_tokens);
    assert_eq!(usage["completion_tokens"], completion_tokens);
    assert_eq!(usage["total_tokens"], prompt_tokens + completion_tokens);
    let cost = prompt_tokens as f64 * 0.15 / 1e6 + completion_tokens as f64 * 0.6 / 1e6;
    assert!(
        (usage["cost"].as_f64().unwrap() - cost).abs() < 1e-12,
        "cost {} vs {cost}",
        usage["cost"]
    );
    assert_eq!(usage["is_byok"], false);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 0);

    let streamed = content_of(&chunks);
    assert!(
        streamed.contains("\n## ") && streamed.contains("```"),
        "markdown answer expected:\n{streamed}"
    );
    assert_eq!(streamed, non_stream_content(&base, MINI).await);
}

#[tokio::test]
async fn non_streamed_response_shape() {
    let f = fleet().await;
    let resp = post(
        &format!("{}/chat/completions", f.base_url()),
        &chat("anthropic/claude-sonnet-4.5", false),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-generation-id"));
    let v = json_of(resp).await;
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["provider"], "Alpha Cloud");
    // Real traffic answers with the dated canonical slug.
    assert_eq!(v["model"], "anthropic/claude-4.5-sonnet-20250929");
    let choice = &v["choices"][0];
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["native_finish_reason"], "stop");
    let u = &v["usage"];
    let expected = u["prompt_tokens"].as_f64().unwrap() * 3.0 / 1e6
        + u["completion_tokens"].as_f64().unwrap() * 15.0 / 1e6;
    assert!((u["cost"].as_f64().unwrap() - expected).abs() < 1e-12);
}

#[tokio::test]
async fn max_tokens_caps_the_answer_with_finish_reason_length() {
    let f = fleet().await;
    let mut body = chat(MINI, true);
    body["max_tokens"] = json!(5);
    let resp = post(&format!("{}/chat/completions", f.base_url()), &body).await;
    let (_, data) = sse(&text_of(resp).await);
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks.len(), 6);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "length");
    assert_eq!(last["usage"]["completion_tokens"], 5);
    let full = non_stream_content(&f.base_url(), MINI).await;
    assert!(full.starts_with(&content_of(&chunks)));
}

#[tokio::test]
async fn answers_are_deterministic_per_seed_and_differ_by_model() {
    let a = fleet().await;
    let b = fleet().await;
    let text_a = non_stream_content(&a.base_url(), MINI).await;
    assert_eq!(
        text_a,
        non_stream_content(&b.base_url(), MINI).await,
        "same seed, same answer"
    );
    let other_seed = fleet_from(&FLEET.replace("seed = 42", "seed = 43")).await;
    assert_ne!(
        text_a,
        non_stream_content(&other_seed.base_url(), MINI).await
    );
    assert_ne!(
        text_a,
        non_stream_content(&a.base_url(), "anthropic/claude-sonnet-4.5").await
    );
}

#[tokio::test]
async fn rate_limited_provider_answers_429_with_retry_after() {
    let f = fleet_from(&FLEET.replace("#ALPHA_MINI", "rate_limit_rate = 1")).await;
    // The provider's own API shows the 429 directly.
    let direct = format!("{}/chat/completions", f.provider_base_url("alpha").unwrap());
    let resp = post(&direct, &chat(MINI, true)).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let v = json_of(resp).await;
    assert_eq!(v["error"]["code"], 429);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rate-limited")
    );

    // Through the aggregator, restricted to that provider, the upstream 429 comes back as is.
    let mut body = chat(MINI, true);
    body["provider"] = json!({ "only": ["alpha"] });
    let resp = post(&format!("{}/chat/completions", f.base_url()), &body).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let v = json_of(resp).await;
    assert_eq!(v["error"]["message"], "Provider returned error");
    assert_eq!(v["error"]["metadata"]["provider_name"], "Alpha Cloud");
    assert!(v["error"]["metadata"]["raw"].is_string());
    assert_eq!(v["user_id"], "user_sim");
}

#[tokio::test]
async fn aggregator_fails_over_silently_and_returns_the_last_error_when_all_fail() {
    let f = fleet_from(&FLEET.replace("#ALPHA_MINI", "error_rate = 1")).await;
    let url = format!("{}/chat/completions", f.base_url());
    // Alpha is cheapest, so it is tried first and fails; Beta serves.
    let resp = post(&url, &chat(MINI, true)).await;
    assert_eq!(resp.status(), 200);
    let (_, data) = sse(&text_of(resp).await);
    let first: Value = serde_json::from_str(&data[0]).unwrap();
    assert_eq!(first["provider"], "Beta EU");
    let last: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
    let u = &last["usage"];
    let expected = u["prompt_tokens"].as_f64().unwrap() * 0.3 / 1e6
        + u["completion_tokens"].as_f64().unwrap() * 1.2 / 1e6;
    assert!(
        (u["cost"].as_f64().unwrap() - expected).abs() < 1e-12,
        "billed at the serving provider's price"
    );

    let both = fleet_from(
        &FLEET
            .replace("#ALPHA_MINI", "error_rate = 1")
            .replace("#BETA_MINI", "error_rate = 1"),
    )
    .await;
    let resp = post(
        &format!("{}/chat/completions", both.base_url()),
        &chat(MINI, true),
    )
    .await;
    let status = resp.status().as_u16();
    assert!(status == 502 || status == 503, "got {status}");
    let v = json_of(resp).await;
    assert_eq!(v["error"]["code"], status);
    assert_eq!(
        v["error"]["metadata"]["provider_name"], "Beta EU",
        "the last attempt's error is returned"
    );

    // Model fallbacks: the primary's endpoints all fail, so the fallback model serves.
    let mut body = chat(MINI, false);
    body["models"] = json!(["anthropic/claude-sonnet-4.5"]);
    let v = json_of(post(&format!("{}/chat/completions", both.base_url()), &body).await).await;
    assert_eq!(v["model"], "anthropic/claude-4.5-sonnet-20250929");
}

async fn served_by(f: &FleetHandle, model: &str, provider: Value) -> (u16, Value) {
    let mut body = chat(model, false);
    body["provider"] = provider;
    let resp = post(&format!("{}/chat/completions", f.base_url()), &body).await;
    let status = resp.status().as_u16();
    (status, json_of(resp).await)
}

#[tokio::test]
async fn provider_preferences_filter_endpoints() {
    let f = fleet().await;
    let (s, v) = served_by(&f, MINI, json!({})).await;
    assert_eq!(
        (s, v["provider"].as_str()),
        (200, Some("Alpha Cloud")),
        "cheapest first by default"
    );
    let (s, v) = served_by(&f, MINI, json!({ "only": ["beta"] })).await;
    assert_eq!((s, v["provider"].as_str()), (200, Some("Beta EU")));
    let (s, v) = served_by(&f, MINI, json!({ "data_collection": "deny" })).await;
    assert_eq!((s, v["provider"].as_str()), (200, Some("Beta EU")));
    let (s, v) = served_by(&f, MINI, json!({ "zdr": true })).await;
    assert_eq!((s, v["provider"].as_str()), (200, Some("Beta EU")));
    let (s, v) = served_by(&f, MINI, json!({ "ignore": ["alpha"] })).await;
    assert_eq!((s, v["provider"].as_str()), (200, Some("Beta EU")));
    let (s, v) = served_by(&f, MINI, json!({ "order": ["beta", "alpha"] })).await;
    assert_eq!((s, v["provider"].as_str()), (200, Some("Beta EU")));
    let (s, v) = served_by(&f, MINI, json!({ "max_price": { "prompt": "0.2" } })).await;
    assert_eq!((s, v["provider"].as_str()), (200, Some("Alpha Cloud")));
}

#[tokio::test]
async fn everything_filtered_is_a_404_naming_the_cause() {
    let f = fleet().await;
    let (s, v) = served_by(&f, "anthropic/claude-sonnet-4.5", json!({ "zdr": true })).await;
    assert_eq!(s, 404);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("provider.zdr excluded Alpha Cloud"), "{msg}");
    assert_eq!(
        v["error"]["metadata"]["excluded_by"],
        json!(["data_policy:zdr"])
    );
    assert_eq!(
        v["error"]["metadata"]["requested_models"],
        json!(["anthropic/claude-sonnet-4.5"])
    );

    let (s, v) = served_by(
        &f,
        MINI,
        json!({ "data_collection": "deny", "only": ["alpha"] }),
    )
    .await;
    assert_eq!(s, 404);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("provider.only excluded Beta EU")
            && msg.contains("provider.data_collection excluded Alpha Cloud"),
        "{msg}"
    );

    let (s, v) = served_by(&f, "nope/not-a-model", json!({})).await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"]["message"],
        "nope/not-a-model is not a valid model ID"
    );
}

#[tokio::test]
async fn api_key_is_enforced() {
    let f =
        fleet_from(&FLEET.replace("time_scale = 0", "time_scale = 0\napi_key = \"sk-test\"")).await;
    let url = format!("{}/chat/completions", f.base_url());
    let body = serde_json::to_vec(&chat(MINI, false)).unwrap();
    let send = |auth: Option<&'static str>| {
        let mut rb = client().post(&url).body(body.clone());
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        rb.send()
    };
    let resp = send(Some("Bearer wrong")).await.unwrap();
    assert_eq!(resp.status(), 401);
    let v = json_of(resp).await;
    assert_eq!(v["error"]["code"], 401);
    assert_eq!(v["user_id"], "user_sim");
    let resp = send(None).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        json_of(resp).await["error"]["message"],
        "No auth credentials found"
    );
    assert_eq!(send(Some("Bearer sk-test")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn malformed_requests_get_400_in_the_error_shape() {
    let f = fleet().await;
    let url = format!("{}/chat/completions", f.base_url());
    let resp = client().post(&url).body("{not json").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let v = json_of(resp).await;
    assert_eq!(v["error"]["code"], 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    assert_eq!(v["user_id"], "user_sim");

    for (body, needle) in [
        (json!({ "model": MINI }), "`messages` is required"),
        (
            json!({ "model": MINI, "messages": [] }),
            "at least one message",
        ),
        (
            json!({ "model": MINI, "messages": [{ "role": "user", "content": "hi" }], "provider": { "sort": 1 } }),
            "provider.sort",
        ),
    ] {
        let resp = post(&url, &body).await;
        assert_eq!(resp.status(), 400, "{body}");
        let msg = json_of(resp).await["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(msg.contains(needle), "{msg}");
    }
    let resp = get(&url).await;
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn oversized_body_is_413_over_a_raw_socket() {
    let f = fleet().await;
    let mut s = tokio::net::TcpStream::connect(f.addr()).await.unwrap();
    let head = format!(
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{{",
        96 * 1024 * 1024 + 1
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\"code\":413") && text.contains("96 MiB"),
        "{text}"
    );
}

#[tokio::test]
async fn client_disconnect_mid_stream_stops_generation() {
    // Real pacing here (20 tok/s, so a full answer takes 7–23 s): the stream must still be
    // running when the client leaves, and the server must notice within the wait below.
    let slow = FLEET.replace("time_scale = 0", "time_scale = 1").replace(
        "#ALPHA_MINI",
        "ttft_ms = { mean = 0 }\ntokens_per_sec = { mean = 20 }",
    );
    let f = fleet_from(&slow).await;
    let mut resp = post(
        &format!("{}/chat/completions", f.base_url()),
        &chat(MINI, true),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let first = resp
        .chunk()
        .await
        .unwrap()
        .expect("first bytes of the stream");
    assert!(!first.is_empty());
    assert_eq!(f.active_connections(), 1);
    drop(resp);
    tokio::time::timeout(Duration::from_secs(5), f.wait_idle())
        .await
        .expect("the abandoned stream stops long before it would have finished");

    // The server keeps serving.
    let mut body = chat(MINI, false);
    body["max_tokens"] = json!(3);
    let resp = post(&format!("{}/chat/completions", f.base_url()), &body).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn per_provider_openai_compatible_routes() {
    let f = fleet().await;
    let base = f.provider_base_url("beta").expect("beta exists");
    assert!(f.provider_base_url("nobody").is_none());
    assert_eq!(base, format!("http://{}/p/beta/v1", f.addr()));

    let v = json_of(get(&format!("{base}/models")).await).await;
    assert_eq!(v["object"], "list");
    assert_eq!(
        v["data"],
        json!([{ "id": MINI, "object": "model", "created": v["data"][0]["created"], "owned_by": "beta" }])
    );

    let v = json_of(post(&format!("{base}/chat/completions"), &chat(MINI, false)).await).await;
    assert_eq!(v["object"], "chat.completion");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(
        v.get("provider").is_none(),
        "a provider's own API has no `provider` field"
    );
    assert_eq!(v["model"], MINI);
    let text = v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();

    let mut body = chat(MINI, true);
    body["stream_options"] = json!({ "include_usage": true });
    let resp = post(&format!("{base}/chat/completions"), &body).await;
    assert_eq!(resp.status(), 200);
    assert!(!resp.headers().contains_key("x-generation-id"));
    let (comments, data) = sse(&text_of(resp).await);
    assert_eq!(
        comments, 0,
        "OpenAI-style servers send no keep-alive comments"
    );
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(
        content_of(&chunks),
        text,
        "same seed/model/prompt → same text on every route"
    );
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert!(usage_chunk["usage"]["completion_tokens"].as_u64().unwrap() > 100);
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );

    let resp = post(
        &format!("{base}/chat/completions"),
        &chat("anthropic/claude-sonnet-4.5", false),
    )
    .await;
    assert_eq!(resp.status(), 404, "beta does not serve sonnet");
    let resp = post(
        &format!("http://{}/p/nobody/v1/chat/completions", f.addr()),
        &chat(MINI, false),
    )
    .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let f = fleet().await;
    let addr = f.addr();
    assert_eq!(get(&format!("{}/models", f.base_url())).await.status(), 200);
    f.shutdown();
    // The accept task is aborted asynchronously; wait (bounded) until connecting fails.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(closed.is_ok(), "port still accepting after shutdown");
}

#[tokio::test]
async fn free_models_are_held_to_the_free_tier_limits_per_minute_and_per_day() {
    let spec =
        format!("{FLEET}\n[free_limits]\nper_minute = 3\nper_day = 5\nis_free_tier = true\n");
    let f = fleet_from(&spec).await;
    let url = format!("{}/chat/completions", f.base_url());
    let free = "meta-llama/llama-3.3-70b-instruct:free";
    // Start ten minutes into the next UTC day, so no step below crosses midnight by chance.
    let now = switchyard::free_tier::now_ms();
    let to = (now.div_euclid(86_400_000) + 1) * 86_400_000 + 600_000 - now;
    f.advance_clock(Duration::from_millis(to as u64));
    for _ in 0..3 {
        assert_eq!(post(&url, &chat(free, false)).await.status(), 200);
    }
    let resp = post(&url, &chat(free, false)).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    assert!(resp.headers().contains_key("retry-after"));
    let v = json_of(resp).await;
    assert_eq!(
        v["error"]["message"],
        "Rate limit exceeded: free-models-per-min"
    );
    // Paid models are not limited.
    assert_eq!(post(&url, &chat(MINI, false)).await.status(), 200);
    // A minute on, two more fit before the day's 5 are used.
    f.advance_clock(Duration::from_secs(61));
    for _ in 0..2 {
        assert_eq!(post(&url, &chat(free, false)).await.status(), 200);
    }
    let v = json_of(post(&url, &chat(free, false)).await).await;
    assert_eq!(
        v["error"]["message"],
        "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day"
    );
    // The next UTC day starts afresh.
    f.advance_clock(Duration::from_secs(86_400));
    assert_eq!(post(&url, &chat(free, false)).await.status(), 200);

    let key = json_of(get(&format!("{}/key", f.base_url())).await).await;
    assert_eq!(key["data"]["is_free_tier"], true);
    assert!(key["data"]["usage"].as_f64().unwrap() > 0.0, "{key}");
}

#[tokio::test]
async fn a_generation_can_be_looked_up_by_its_id_with_the_cost_its_usage_said() {
    let f = fleet().await;
    let v = json_of(
        post(
            &format!("{}/chat/completions", f.base_url()),
            &chat(MINI, false),
        )
        .await,
    )
    .await;
    let id = v["id"].as_str().unwrap();
    let g = json_of(get(&format!("{}/generation?id={id}", f.base_url())).await).await;
    assert_eq!(g["data"]["id"], id);
    assert_eq!(g["data"]["total_cost"], v["usage"]["cost"]);
    assert_eq!(
        g["data"]["tokens_completion"],
        v["usage"]["completion_tokens"]
    );
    assert_eq!(g["data"]["cancelled"], false);
    let missing = get(&format!("{}/generation?id=gen-nope", f.base_url())).await;
    assert_eq!(missing.status(), 404);
}
