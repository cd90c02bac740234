//! The faults of failoverbench (ROUTING.md §10), one test each, end to end: the real simulated
//! fleet on loopback injects the fault, our router plans, the real client streams, and the
//! routing actor keeps health. Every test asserts the answer the user gets and every attempt
//! it took; none waits a fixed time for anything.

mod common;

use std::time::{Duration, Instant};
use switchyard::client::{ChatError, HttpClient, Timeouts};
use switchyard::fleet::{self, FleetSpec};
use switchyard::routing::exec::{ExecEvent, ExecOptions, RetryPolicy, Routed, execute};
use switchyard::routing::{EndpointRegistry, HealthConfig, HealthState, Outcome, actor};
use switchyard::wire::request::{ChatRequest, Message, ProviderPreferences};

/// Primary (cheap, tried first when sorting by price) and Fallback serve `m/chat`; Fallback
/// also serves `m/big`, a model with a larger context. `#FAULTS` is replaced by faults on
/// Primary's `m/chat`.
const FLEET: &str = r#"
seed = 11
[[providers]]
name = "Primary"
slug = "primary"
[[providers.models]]
id = "m/chat"
prompt_price = 0.1
completion_price = 0.1
context_length = 100000
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 20000 }
#FAULTS

[[providers]]
name = "Fallback"
slug = "fallback"
[[providers.models]]
id = "m/chat"
prompt_price = 1.0
completion_price = 1.0
context_length = 100000
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 20000 }
[[providers.models]]
id = "m/big"
prompt_price = 2.0
completion_price = 2.0
context_length = 1000000
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 20000 }
"#;

type Rig = common::RoutedFleet;

async fn rig_with(faults: &str, health: HealthConfig) -> Rig {
    common::routed_fleet(&FLEET.replace("#FAULTS", faults), health, 1).await
}

async fn rig(faults: &str) -> Rig {
    rig_with(faults, HealthConfig::default()).await
}

/// Limits short enough that silent routes are detected quickly, long enough for a busy CI.
fn opts() -> ExecOptions {
    ExecOptions {
        timeouts: Timeouts {
            headers: Duration::from_secs(30),
            stall: Duration::from_secs(2),
            ..Timeouts::default()
        },
        retry: RetryPolicy {
            first_token_failover: Duration::from_secs(2),
            ..RetryPolicy::default()
        },
        ..ExecOptions::default()
    }
}

fn request(prefs: serde_json::Value, model: &str) -> ChatRequest {
    ChatRequest {
        model: Some(model.into()),
        messages: vec![Message::user("Explain quicksort")],
        provider: Some(serde_json::from_value::<ProviderPreferences>(prefs).unwrap()),
        ..Default::default()
    }
}

/// Cheapest first, so Primary is always tried first.
fn by_price() -> ChatRequest {
    request(serde_json::json!({"sort": "price"}), "m/chat")
}

/// Primary alone: nothing to fail over to.
fn primary_only() -> ChatRequest {
    request(serde_json::json!({"only": ["primary"]}), "m/chat")
}

/// Runs one request; returns the result and every non-stream event with when it happened.
async fn run(r: &Rig, req: &ChatRequest, o: &ExecOptions) -> (Routed, Vec<(Instant, ExecEvent)>) {
    let mut events = Vec::new();
    let routed = execute(
        &HttpClient::new().unwrap(),
        &r.router,
        &r.registry,
        req,
        o,
        |e| {
            if !matches!(e, ExecEvent::Events(_)) {
                events.push((Instant::now(), e));
            }
        },
    )
    .await;
    (routed, events)
}

fn providers(r: &Routed) -> Vec<&str> {
    r.attempts.iter().map(|a| a.provider.as_str()).collect()
}

/// A whole answer: complete, non-empty, with usage.
fn assert_whole(r: &Routed) {
    assert_eq!(r.answer.result, Ok("stop".into()), "{:?}", r.attempts);
    assert!(!r.answer.text.is_empty());
    assert!(r.answer.usage.is_some(), "usage is reported");
}

#[tokio::test]
async fn s01_429_with_retry_after_is_honoured_when_alone_and_failed_over_otherwise() {
    let r =
        rig("[[providers.models.faults]]\nkind = \"rate_limit\"\nretry_after_secs = 1\ntimes = 1")
            .await;
    let (routed, events) = run(&r, &primary_only(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Primary"]);
    // The gap between the 429 and the next attempt is at least what Retry-After asked.
    let retry_at = events
        .iter()
        .find_map(|(t, e)| matches!(e, ExecEvent::Retry { .. }).then_some(*t))
        .expect("a retry event");
    let next_attempt = events
        .iter()
        .filter(|(_, e)| matches!(e, ExecEvent::Attempt { .. }))
        .nth(1)
        .unwrap()
        .0;
    assert!(next_attempt - retry_at >= Duration::from_millis(950));
    // With a fallback, no waiting: the next endpoint answers.
    let r = rig("[[providers.models.faults]]\nkind = \"rate_limit\"\nretry_after_secs = 1").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Fallback"]);
}

#[tokio::test]
async fn s02_persistent_429_gives_a_bounded_number_of_attempts_then_a_clean_error() {
    let r = rig("[[providers.models.faults]]\nkind = \"rate_limit\"\nretry_after_secs = 0").await;
    let (routed, events) = run(&r, &primary_only(), &opts()).await;
    assert_eq!(
        routed.attempts.len(),
        3,
        "three attempts on a lone endpoint"
    );
    assert!(matches!(
        &routed.answer.result,
        Err(ChatError::Api(e)) if e.status == Some(429)
    ));
    assert_eq!(
        events
            .iter()
            .filter(|(_, e)| matches!(e, ExecEvent::Retry { .. }))
            .count(),
        2
    );
}

#[tokio::test]
async fn s03_a_single_500_is_retried_once_on_the_same_provider() {
    let r = rig("[[providers.models.faults]]\nkind = \"errors\"\nstatus = 500\ntimes = 1").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Primary"]);
    assert_eq!(
        routed.attempts[0].outcome,
        Outcome::ServerError { status: 500 }
    );
}

#[tokio::test]
async fn s04_persistent_503_fails_over_within_budget() {
    let r = rig("[[providers.models.faults]]\nkind = \"outage\"").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Primary", "Fallback"]);
    assert_eq!(routed.answer.served.provider.as_deref(), Some("Fallback"));
}

#[tokio::test]
async fn s05_reset_before_headers_is_retried_or_failed_over() {
    let r = rig("[[providers.models.faults]]\nkind = \"reset\"\ntimes = 1").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(routed.attempts[0].outcome, Outcome::Connect);
    assert_eq!(routed.attempts.len(), 2);
}

#[tokio::test]
async fn s06_no_response_fails_over_and_never_retries_the_silent_route() {
    let r = rig("[[providers.models.faults]]\nkind = \"hang\"").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Fallback"]);
    assert_eq!(routed.attempts[0].outcome, Outcome::Timeout);
    // Alone, the request still ends inside its deadline with a clean timeout.
    let lone = ExecOptions {
        deadline: Duration::from_secs(3),
        ..opts()
    };
    let (routed, _) = run(&r, &primary_only(), &lone).await;
    assert_eq!(routed.attempts.len(), 1);
    assert!(matches!(routed.answer.result, Err(ChatError::Timeout(_))));
}

#[tokio::test]
async fn s07_a_first_token_after_20_s_fails_over_at_the_first_token_limit() {
    let r = rig("[[providers.models.faults]]\nkind = \"latency\"\nextra_ttft_ms = 20000").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Fallback"]);
    assert!(matches!(
        &routed.attempts[0].error,
        Some(ChatError::Timeout(m)) if m.contains("first token")
    ));
}

#[tokio::test]
async fn s08_s14_a_cut_stream_restarts_cleanly_and_is_never_a_truncated_success() {
    // Restart never sends the partial text as a prefill, so a fallback that rejects prefills
    // (S14) gets the same clean request as any other.
    let r = rig("[[providers.models.faults]]\nkind = \"cut\"\nafter_tokens = 40").await;
    let (routed, events) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Fallback"]);
    assert!(routed.attempts[0].committed);
    assert_eq!(routed.attempts[0].outcome, Outcome::Cut);
    assert!(
        events
            .iter()
            .any(|(_, e)| matches!(e, ExecEvent::Restart { chars_cut, .. } if *chars_cut > 0))
    );
    // Alone, the partial answer stays and is reported incomplete.
    let (routed, _) = run(&r, &primary_only(), &opts()).await;
    assert!(!routed.answer.text.is_empty());
    assert!(matches!(routed.answer.result, Err(ChatError::Truncated(_))));
}

#[tokio::test]
async fn s09_a_stall_after_20_tokens_is_detected_within_the_stall_limit() {
    let r = rig("[[providers.models.faults]]\nkind = \"stall\"\nafter_tokens = 20").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Fallback"]);
    assert!(matches!(
        &routed.attempts[0].error,
        Some(ChatError::Timeout(m)) if m.contains("stalled")
    ));
}

#[tokio::test]
async fn s10_one_malformed_event_is_skipped_or_fails_cleanly() {
    let r = rig("[[providers.models.faults]]\nkind = \"malformed\"\nafter_tokens = 5").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    if routed.attempts.len() == 1 {
        // Skipped: the answer is the provider's whole answer.
        let (clean, _) = run(&rig("").await, &by_price(), &opts()).await;
        assert_eq!(routed.answer.text, clean.answer.text);
    }
}

#[tokio::test]
async fn s11_a_missing_done_is_finalised_promptly_and_the_user_still_gets_a_whole_answer() {
    let r = rig("[[providers.models.faults]]\nkind = \"no_done\"").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(routed.attempts[0].outcome, Outcome::Cut);
    assert_eq!(providers(&routed), ["Primary", "Fallback"]);
}

#[tokio::test]
async fn s12_context_length_moves_to_a_larger_model_and_never_repeats_on_the_same_one() {
    // The catalog over-states Primary's context (catalogs go stale), so the planner keeps it
    // and the server's 400 context_length_exceeded must be handled by execution.
    let toml =
        FLEET
            .replace("#FAULTS", "")
            .replacen("context_length = 100000", "context_length = 2", 1);
    let fleet = fleet::start(
        FleetSpec::from_toml(&toml, "t").unwrap(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let stale = fleet
        .registry()
        .iter()
        .map(|(_, m)| {
            let mut m = m.clone();
            m.context_length = 100_000.max(m.context_length);
            m
        })
        .collect::<Vec<_>>();
    let registry = EndpointRegistry::from_endpoints(stale);
    let r = Rig {
        router: actor::spawn(registry.clone(), HealthConfig::default(), 1),
        registry,
        fleet,
    };
    let mut req = by_price();
    req.models = Some(vec!["m/big".into()]);
    let (routed, _) = run(&r, &req, &opts()).await;
    assert_whole(&routed);
    assert_eq!(routed.attempts[0].outcome, Outcome::ContextLength);
    // Fallback's m/chat has the same model id: it is skipped; m/big answers.
    let tried: Vec<_> = routed
        .attempts
        .iter()
        .map(|a| (a.provider.as_str(), a.model.as_str()))
        .collect();
    assert_eq!(tried, [("Primary", "m/chat"), ("Fallback", "m/big")]);
    drop(r.fleet);
}

#[tokio::test]
async fn s13_a_content_policy_refusal_is_propagated_and_never_retried() {
    let r = rig("[[providers.models.faults]]\nkind = \"content_policy\"").await;
    let (routed, events) = run(&r, &by_price(), &opts()).await;
    assert_eq!(providers(&routed), ["Primary"], "no retry, no failover");
    assert_eq!(routed.attempts[0].outcome, Outcome::ContentPolicy);
    assert!(matches!(
        &routed.answer.result,
        Err(ChatError::Api(e)) if e.error_type.as_deref() == Some("content_policy_violation")
    ));
    assert!(
        events
            .iter()
            .all(|(_, e)| matches!(e, ExecEvent::Attempt { .. } | ExecEvent::Planned(_)))
    );
}

#[tokio::test]
async fn s15_an_outage_opens_the_breaker_then_one_probe_brings_the_provider_back() {
    let health = HealthConfig {
        open_after_consecutive: 2,
        // Long enough that the second request surely finds it open on a busy machine; the
        // probe loop below waits it out.
        open_base: Duration::from_secs(3),
        open_jitter: 0.0,
        ..HealthConfig::default()
    };
    let r = rig_with(
        "[[providers.models.faults]]\nkind = \"outage\"\nuntil_s = 60",
        health,
    )
    .await;
    // Two 503s in a row open Primary's breaker; Fallback answers.
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(providers(&routed), ["Primary", "Primary", "Fallback"]);
    // While open, Primary is not tried at all.
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_eq!(providers(&routed), ["Fallback"]);
    // The outage ends (the fleet clock jumps past it); once the breaker is half-open exactly
    // one probe goes to Primary, succeeds, and closes the breaker.
    r.fleet.advance_clock(Duration::from_secs(61));
    let give_up = Instant::now() + Duration::from_secs(30);
    let probe = loop {
        let (routed, _) = run(&r, &by_price(), &opts()).await;
        assert_whole(&routed);
        if routed.attempts[0].provider == "Primary" {
            break routed;
        }
        assert!(Instant::now() < give_up, "the breaker never half-opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(providers(&probe), ["Primary"]);
    // The breaker is closed; with two failures in the last 30 s Primary is merely unstable
    // (ranked after healthy endpoints) until the window forgets them.
    let primary = r
        .registry
        .iter()
        .find(|(_, m)| m.provider_slug == "primary")
        .unwrap()
        .0;
    let mut snaps = r.router.snapshots();
    let state = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let s = snaps.borrow_and_update().get(primary).state;
            if !matches!(s, HealthState::Open { .. } | HealthState::HalfOpen { .. }) {
                return s;
            }
            snaps.changed().await.unwrap();
        }
    })
    .await
    .expect("the published state leaves open/half-open");
    assert!(matches!(
        state,
        HealthState::Unstable { .. } | HealthState::Healthy
    ));
}

#[tokio::test]
async fn s16_a_failed_over_answer_names_the_provider_that_served_it_with_usage_and_cost() {
    let r = rig("[[providers.models.faults]]\nkind = \"outage\"").await;
    let (routed, _) = run(&r, &by_price(), &opts()).await;
    assert_whole(&routed);
    assert_eq!(routed.answer.served.provider.as_deref(), Some("Fallback"));
    assert_eq!(routed.answer.served.model.as_deref(), Some("m/chat"));
    let usage = routed.answer.usage.as_ref().unwrap();
    assert!(usage.completion_tokens > 0);
    assert!(usage.cost.is_some_and(|c| c > 0.0), "{usage:?}");
}
