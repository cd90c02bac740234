//! Per-endpoint faults over real loopback HTTP: what each kind puts on the wire, schedules on the
//! fleet clock, run-time control, and the aggregator's failover around them.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchyard::client::{ChatError, Endpoint, HttpClient, ServerKind, Timeouts};
use switchyard::fleet::{FaultKind, FaultSpec, FleetHandle, FleetSpec, start};
use switchyard::wire::request::{ChatRequest, Message};

/// Alpha (cheapest, so the aggregator tries it first) and Beta both serve gpt-4o-mini.
const FLEET: &str = r#"
seed = 7
time_scale = 0

[[providers]]
name = "Alpha Cloud"
slug = "alpha"

[[providers.models]]
id = "openai/gpt-4o-mini"
prompt_price = 0.15
completion_price = 0.6
retry_after_secs = 7
#ALPHA_FAULTS

[[providers]]
name = "Beta EU"
slug = "beta"

[[providers.models]]
id = "openai/gpt-4o-mini"
prompt_price = 0.3
completion_price = 1.2
assistant_prefill = true
"#;

const MINI: &str = "openai/gpt-4o-mini";
const PROMPT: &str = "How should I structure retries in a streaming HTTP client?";
/// How long "nothing arrives" is watched for; only ever waited in full when the test passes.
const SILENCE: Duration = Duration::from_millis(300);

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The test fleet with `faults` (TOML) added to Alpha's gpt-4o-mini.
async fn fleet_with(faults: &str) -> FleetHandle {
    fleet_scaled(faults, None).await
}

async fn fleet_scaled(faults: &str, time_scale: Option<f64>) -> FleetHandle {
    let toml = FLEET.replace("#ALPHA_FAULTS", faults);
    let mut spec = FleetSpec::from_toml(&toml, "test fleet").unwrap_or_else(|e| panic!("{e}"));
    if let Some(s) = time_scale {
        spec = spec.with_time_scale(s);
    }
    start(spec, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("fleet starts")
}

fn chat(stream: bool) -> Value {
    json!({ "model": MINI, "stream": stream, "messages": [{ "role": "user", "content": PROMPT }] })
}

fn direct(f: &FleetHandle, slug: &str) -> String {
    format!("{}/chat/completions", f.provider_base_url(slug).unwrap())
}

fn aggregator(f: &FleetHandle) -> String {
    format!("{}/chat/completions", f.base_url())
}

fn control(f: &FleetHandle) -> String {
    format!("http://{}/control/faults", f.addr())
}

async fn try_post(url: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
    client()
        .post(url)
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
}

async fn post(url: &str, body: &Value) -> reqwest::Response {
    try_post(url, body).await.expect("request sent")
}

async fn json_of(resp: reqwest::Response) -> Value {
    serde_json::from_slice(&resp.bytes().await.expect("body")).expect("JSON body")
}

/// Reads the body chunk by chunk until EOF; returns the text and whether it ended cleanly.
async fn read_to_end(mut resp: reqwest::Response) -> (String, bool) {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => body.extend_from_slice(&c),
            Ok(None) => return (String::from_utf8(body).unwrap(), true),
            Err(_) => return (String::from_utf8(body).unwrap(), false),
        }
    }
}

/// The `data:` payloads of an SSE body, in order.
fn data_events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

fn content_events(events: &[String]) -> Vec<Value> {
    events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
        })
        .collect()
}

fn has_finish(events: &[String]) -> bool {
    events.iter().any(|e| {
        serde_json::from_str::<Value>(e).is_ok_and(|v| v["choices"][0]["finish_reason"].is_string())
    })
}

fn text(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// Streams from Beta, which has no faults: the full answer every fault is compared against.
async fn healthy_events(f: &FleetHandle) -> Vec<String> {
    let resp = post(&direct(f, "beta"), &chat(true)).await;
    assert_eq!(resp.status(), 200);
    let (body, clean) = read_to_end(resp).await;
    assert!(clean);
    data_events(&body)
}

async fn idle(f: &FleetHandle) {
    tokio::time::timeout(Duration::from_secs(10), f.wait_idle())
        .await
        .expect("the fleet closes the connection once the client leaves");
}

#[tokio::test]
async fn outage_answers_503_in_the_error_shape() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"outage\"").await;
    let resp = post(&direct(&f, "alpha"), &chat(true)).await;
    assert_eq!(resp.status(), 503);
    let v = json_of(resp).await;
    assert_eq!(v["error"]["code"], 503);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("down"),
        "{v}"
    );
    // Non-streaming requests fail the same way.
    assert_eq!(post(&direct(&f, "alpha"), &chat(false)).await.status(), 503);
    // Other providers are untouched.
    assert_eq!(post(&direct(&f, "beta"), &chat(false)).await.status(), 200);
}

#[tokio::test]
async fn errors_burst_uses_its_status_default_502() {
    let f = fleet_with(
        "[[providers.models.faults]]\nkind = \"errors\"\nstatus = 500\nfrom_s = 0\nuntil_s = 3600",
    )
    .await;
    let resp = post(&direct(&f, "alpha"), &chat(true)).await;
    assert_eq!(resp.status(), 500);
    assert_eq!(json_of(resp).await["error"]["code"], 500);
    let f = fleet_with("[[providers.models.faults]]\nkind = \"errors\"").await;
    assert_eq!(post(&direct(&f, "alpha"), &chat(true)).await.status(), 502);
}

#[tokio::test]
async fn a_fault_with_times_hits_only_that_many_requests() {
    let f =
        fleet_with("[[providers.models.faults]]\nkind = \"errors\"\nstatus = 500\ntimes = 2").await;
    assert_eq!(post(&direct(&f, "alpha"), &chat(false)).await.status(), 500);
    assert_eq!(post(&direct(&f, "alpha"), &chat(false)).await.status(), 500);
    assert_eq!(post(&direct(&f, "alpha"), &chat(false)).await.status(), 200);
    // Run-time faults count their own hits.
    f.inject(FaultSpec::new("alpha", FaultKind::Outage).times(1))
        .unwrap();
    assert_eq!(post(&direct(&f, "alpha"), &chat(false)).await.status(), 503);
    assert_eq!(post(&direct(&f, "alpha"), &chat(false)).await.status(), 200);
    // Over the control route too.
    let resp = post(
        &control(&f),
        &json!({"provider": "alpha", "kind": "errors", "status": 504, "times": 1}),
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(post(&direct(&f, "alpha"), &chat(false)).await.status(), 504);
    assert_eq!(post(&direct(&f, "alpha"), &chat(false)).await.status(), 200);
    // A fault that did not decide a request (an earlier one did) keeps its hits.
    let f =
        fleet_with("[[providers.models.faults]]\nkind = \"errors\"\nstatus = 500\ntimes = 1").await;
    f.inject(FaultSpec::new("alpha", FaultKind::Outage).times(1))
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            post(&direct(&f, "alpha"), &chat(false))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [500, 503, 200]);
}

#[tokio::test]
async fn rate_limit_sends_429_with_retry_after() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"rate_limit\"\nretry_after_secs = 9")
        .await;
    let resp = post(&direct(&f, "alpha"), &chat(true)).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "9");
    assert_eq!(json_of(resp).await["error"]["code"], 429);
    // Without its own value the fault uses the endpoint's retry_after_secs (7).
    let f = fleet_with("").await;
    f.inject(FaultSpec::new(
        "alpha",
        FaultKind::RateLimit {
            retry_after_secs: None,
        },
    ))
    .unwrap();
    let resp = post(&direct(&f, "alpha"), &chat(false)).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
}

#[tokio::test]
async fn latency_delays_the_first_token() {
    // 100 000 simulated ms at scale 0.001 = at least 100 real ms before the first token.
    let f = fleet_scaled(
        "[[providers.models.faults]]\nkind = \"latency\"\nextra_ttft_ms = 100000",
        Some(0.001),
    )
    .await;
    let started = Instant::now();
    let resp = post(&direct(&f, "alpha"), &chat(true)).await;
    assert_eq!(resp.status(), 200);
    let (body, clean) = read_to_end(resp).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(clean);
    let events = data_events(&body);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    assert!(has_finish(&events));
}

#[tokio::test]
async fn stall_sends_n_tokens_then_silence_with_the_connection_open() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"stall\"\nafter_tokens = 3").await;
    let mut resp = post(&direct(&f, "alpha"), &chat(true)).await;
    assert_eq!(resp.status(), 200);
    let mut body = Vec::new();
    while content_events(&data_events(&String::from_utf8_lossy(&body))).len() < 3 {
        let c = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
            .await
            .expect("the first tokens arrive")
            .expect("no error")
            .expect("no EOF before the stall");
        body.extend_from_slice(&c);
    }
    let events = data_events(&String::from_utf8(body).unwrap());
    assert_eq!(events.len(), 3, "exactly the 3 tokens: {events:?}");
    assert!(
        tokio::time::timeout(SILENCE, resp.chunk()).await.is_err(),
        "nothing may arrive after the stall (not even EOF)"
    );
    assert_eq!(f.active_connections(), 1);
    drop(resp);
    idle(&f).await;
}

#[tokio::test]
async fn cut_closes_after_n_tokens_without_finish_or_done() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"cut\"\nafter_tokens = 3").await;
    let resp = post(&direct(&f, "alpha"), &chat(true)).await;
    assert_eq!(resp.status(), 200);
    let (body, _) = read_to_end(resp).await;
    let events = data_events(&body);
    let healthy = healthy_events(&f).await;
    assert_eq!(content_events(&events).len(), 3, "{events:?}");
    assert_eq!(events.len(), 3, "nothing but the 3 tokens: {events:?}");
    assert!(!has_finish(&events));
    assert!(!events.iter().any(|e| e == "[DONE]"));
    assert!(text(&content_events(&healthy)).starts_with(&text(&content_events(&events))));
}

#[tokio::test]
async fn malformed_sends_one_invalid_event_then_continues() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"malformed\"\nafter_tokens = 2").await;
    let resp = post(&direct(&f, "alpha"), &chat(true)).await;
    let (body, clean) = read_to_end(resp).await;
    assert!(clean);
    let events = data_events(&body);
    let bad: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| *e != "[DONE]" && serde_json::from_str::<Value>(e).is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        bad,
        vec![2],
        "one bad event, right after 2 tokens: {events:?}"
    );
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    assert!(has_finish(&events));
    let healthy = healthy_events(&f).await;
    assert_eq!(
        text(&content_events(&events)),
        text(&content_events(&healthy))
    );
}

#[tokio::test]
async fn no_done_omits_only_the_sentinel() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"no_done\"").await;
    let resp = post(&direct(&f, "alpha"), &chat(true)).await;
    let (body, clean) = read_to_end(resp).await;
    assert!(clean);
    let events = data_events(&body);
    let healthy = healthy_events(&f).await;
    assert!(has_finish(&events));
    assert!(!events.iter().any(|e| e == "[DONE]"), "{events:?}");
    assert_eq!(events.len() + 1, healthy.len());
    assert_eq!(
        text(&content_events(&events)),
        text(&content_events(&healthy))
    );
}

#[tokio::test]
async fn reset_fails_the_request_before_any_response() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"reset\"").await;
    let err = try_post(&direct(&f, "alpha"), &chat(true))
        .await
        .expect_err("a reset connection gives no response");
    assert!(!err.is_status(), "{err:?}");
    // The client sees a real TCP reset (zero linger), not a polite close.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    let mut reset = false;
    while let Some(e) = source {
        reset |= e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionReset);
        source = e.source();
    }
    assert!(reset, "{err:?}");
    idle(&f).await;
}

#[tokio::test]
async fn hang_never_answers() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"hang\"").await;
    let body = chat(true);
    let url = direct(&f, "alpha");
    let pending = try_post(&url, &body);
    assert!(
        tokio::time::timeout(SILENCE, pending).await.is_err(),
        "no response may arrive"
    );
    // The abandoned request's connection is closed by the fleet once the client is gone.
    idle(&f).await;
}

#[tokio::test]
async fn outage_window_follows_the_fleet_clock() {
    let f = fleet_with("").await;
    let now = f.clock().as_secs_f64();
    let resp = post(
        &control(&f),
        &json!({ "provider": "alpha", "model": MINI, "kind": "outage",
                 "from_s": now + 100.0, "duration_s": 10 }),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let added = json_of(resp).await;
    assert!(added["id"].is_u64(), "{added}");
    let url = direct(&f, "alpha");
    assert_eq!(
        post(&url, &chat(false)).await.status(),
        200,
        "not started yet"
    );
    f.advance_clock(Duration::from_secs(100));
    assert_eq!(
        post(&url, &chat(false)).await.status(),
        503,
        "inside the window"
    );
    let listed = json_of(client().get(control(&f)).send().await.unwrap()).await;
    assert_eq!(listed["faults"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["faults"][0]["kind"], "outage");
    f.advance_clock(Duration::from_secs(10));
    assert_eq!(post(&url, &chat(false)).await.status(), 200, "window over");
    let listed = json_of(client().get(control(&f)).send().await.unwrap()).await;
    assert_eq!(listed["faults"], json!([]));

    // A fault starting now with a duration is active at once.
    let resp = post(
        &control(&f),
        &json!({ "provider": "alpha", "kind": "outage", "duration_s": 5 }),
    )
    .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(post(&url, &chat(false)).await.status(), 503);
    f.advance_clock(Duration::from_secs(5));
    assert_eq!(post(&url, &chat(false)).await.status(), 200);
}

#[tokio::test]
async fn control_route_adds_lists_clears_and_names_bad_fields() {
    let f = fleet_with("").await;
    let url = control(&f);
    let resp = post(&url, &json!({ "provider": "alpha", "kind": "cut" })).await;
    assert_eq!(resp.status(), 400);
    let msg = json_of(resp).await["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("after_tokens"), "{msg}");
    let resp = post(&url, &json!({ "provider": "nope", "kind": "outage" })).await;
    assert_eq!(resp.status(), 404);
    let resp = post(
        &url,
        &json!({ "provider": "alpha", "model": "x/y", "kind": "outage" }),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let resp = post(
        &url,
        &json!({ "provider": "alpha", "kind": "outage", "probability": 2 }),
    )
    .await;
    assert!(
        json_of(resp).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("probability")
    );

    assert_eq!(
        post(&url, &json!({ "provider": "alpha", "kind": "no_done" }))
            .await
            .status(),
        201
    );
    f.inject(FaultSpec::new("beta", FaultKind::Reset).model(MINI))
        .unwrap();
    let listed = json_of(client().get(&url).send().await.unwrap()).await;
    let kinds: Vec<&str> = listed["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["no_done", "reset"]);
    let cleared = json_of(client().delete(&url).send().await.unwrap()).await;
    assert_eq!(cleared["cleared"], 2);
    assert_eq!(f.clear_faults(), 0);
    let listed = json_of(client().get(&url).send().await.unwrap()).await;
    assert_eq!(listed["faults"], json!([]));
    assert_eq!(post(&direct(&f, "beta"), &chat(false)).await.status(), 200);
}

#[tokio::test]
async fn probability_is_seeded_and_reproducible() {
    async fn statuses() -> Vec<u16> {
        let f =
            fleet_with("[[providers.models.faults]]\nkind = \"outage\"\nprobability = 0.5").await;
        let mut out = Vec::new();
        for _ in 0..16 {
            out.push(
                post(&direct(&f, "alpha"), &chat(false))
                    .await
                    .status()
                    .as_u16(),
            );
        }
        out
    }
    let a = statuses().await;
    assert!(a.contains(&200) && a.contains(&503), "{a:?}");
    assert_eq!(a, statuses().await);
}

#[tokio::test]
async fn aggregator_fails_over_past_pre_first_byte_faults() {
    let f = fleet_with("").await;
    let kinds = [
        FaultKind::Outage,
        FaultKind::Errors { status: 503 },
        FaultKind::RateLimit {
            retry_after_secs: None,
        },
        FaultKind::Reset,
        FaultKind::Hang,
    ];
    for kind in kinds {
        f.clear_faults();
        f.inject(FaultSpec::new("alpha", kind)).unwrap();
        let resp = post(&aggregator(&f), &chat(true)).await;
        assert_eq!(resp.status(), 200, "{kind:?}");
        let (body, clean) = read_to_end(resp).await;
        assert!(clean);
        let events = data_events(&body);
        let chunks = content_events(&events);
        assert!(!chunks.is_empty());
        assert!(
            chunks.iter().all(|c| c["provider"] == "Beta EU"),
            "{kind:?}"
        );
        assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    }
    // With every candidate down, the last failure shows.
    f.clear_faults();
    f.inject(FaultSpec::new("alpha", FaultKind::Outage))
        .unwrap();
    f.inject(FaultSpec::new("beta", FaultKind::Outage)).unwrap();
    let resp = post(&aggregator(&f), &chat(true)).await;
    assert_eq!(resp.status(), 503);
    let v = json_of(resp).await;
    assert_eq!(v["error"]["metadata"]["provider_name"], "Beta EU", "{v}");
}

#[tokio::test]
async fn aggregator_does_not_fail_over_mid_stream() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"cut\"\nafter_tokens = 3").await;
    let resp = post(&aggregator(&f), &chat(true)).await;
    assert_eq!(resp.status(), 200);
    let (body, _) = read_to_end(resp).await;
    let events = data_events(&body);
    let chunks = content_events(&events);
    assert_eq!(chunks.len(), 3, "{events:?}");
    assert!(chunks.iter().all(|c| c["provider"] == "Alpha Cloud"));
    assert!(!has_finish(&events));
    assert!(!events.iter().any(|e| e == "[DONE]"));
}

#[tokio::test]
async fn project_client_reports_a_cut_as_truncated_and_keeps_the_text() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"cut\"\nafter_tokens = 4").await;
    let healthy = text(&content_events(&healthy_events(&f).await));
    let http = HttpClient::new().unwrap();
    let ep = Endpoint {
        base_url: f.base_url(),
        key: None,
        kind: ServerKind::OpenRouter,
    };
    let req = ChatRequest {
        model: Some(MINI.into()),
        messages: vec![Message::user(PROMPT)],
        ..Default::default()
    };
    let out = http
        .stream_chat(&ep, &req, Timeouts::default(), |_| {})
        .await;
    assert!(
        matches!(out.result, Err(ChatError::Truncated(_))),
        "{:?}",
        out.result
    );
    assert!(!out.text.is_empty());
    assert!(
        healthy.starts_with(&out.text),
        "{:?} vs {healthy:?}",
        out.text
    );
    assert_eq!(out.timings.chunks, 4);
}

#[tokio::test]
async fn non_streamed_requests_are_cut_or_corrupted_too() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"cut\"\nafter_tokens = 1").await;
    let resp = post(&direct(&f, "alpha"), &chat(false)).await;
    assert_eq!(resp.status(), 200);
    let (_, clean) = read_to_end(resp).await;
    assert!(!clean, "a body shorter than its Content-Length is an error");
    let f = fleet_with("[[providers.models.faults]]\nkind = \"malformed\"\nafter_tokens = 1").await;
    let resp = post(&direct(&f, "alpha"), &chat(false)).await;
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("the body is complete");
    assert!(serde_json::from_slice::<Value>(&body).is_err());
}

#[tokio::test]
async fn an_assistant_prefill_is_continued_where_accepted_and_refused_elsewhere() {
    let f = fleet_with("").await;
    let whole = text(&content_events(&data_events(
        &read_to_end(post(&direct(&f, "beta"), &chat(true)).await)
            .await
            .0,
    )));
    let cut = whole
        .char_indices()
        .nth(whole.len() / 3)
        .map_or(0, |(i, _)| i);
    // Whole tokens only: back up to the last space before the cut.
    let cut = whole[..cut].rfind(' ').unwrap_or(0);
    let prefix = &whole[..cut];
    let mut body = chat(true);
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "assistant", "content": prefix}));
    let (rest, _) = read_to_end(post(&direct(&f, "beta"), &body).await).await;
    let rest = text(&content_events(&data_events(&rest)));
    assert_eq!(
        format!("{prefix}{rest}"),
        whole,
        "the continuation completes the answer"
    );
    let refused = post(&direct(&f, "alpha"), &body).await;
    assert_eq!(refused.status(), 400);
    assert!(json_of(refused).await.to_string().contains("prefill"));
    // The aggregator only routes a prefill to endpoints that accept one.
    let (agg, _) = read_to_end(post(&aggregator(&f), &body).await).await;
    assert!(agg.contains("\"provider\":\"Beta EU\""), "{agg}");
}

#[tokio::test]
async fn content_policy_refuses_with_its_error_type_and_the_aggregator_does_not_fail_over() {
    let f = fleet_with("[[providers.models.faults]]\nkind = \"content_policy\"").await;
    let resp = post(&direct(&f, "alpha"), &chat(true)).await;
    assert_eq!(resp.status(), 400);
    let v = json_of(resp).await;
    assert_eq!(v["error"]["code"], "content_policy_violation", "{v}");
    // OpenRouter's shape names it in metadata, and Beta is not tried.
    let resp = post(&aggregator(&f), &chat(true)).await;
    assert_eq!(resp.status(), 400);
    let v = json_of(resp).await;
    assert_eq!(
        v["error"]["metadata"]["error_type"], "content_policy_violation",
        "{v}"
    );
}
