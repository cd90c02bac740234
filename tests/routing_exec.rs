//! Routed execution against the real simulated fleet over loopback: our router picks among the
//! fleet's per-provider OpenAI-compatible endpoints, fails over before the first token, never
//! violates privacy filters, and reports every attempt to the routing actor.

mod common;

use switchyard::client::HttpClient;
use switchyard::fleet;
use switchyard::routing::actor;
use switchyard::routing::exec::{ExecEvent, ExecOptions, execute};
use switchyard::routing::{HealthConfig, Outcome};
use switchyard::wire::request::{ChatRequest, DataCollection, Message, ProviderPreferences};

const FLEET: &str = r#"
seed = 9
time_scale = 0.0
[[providers]]
name = "Cheap But Down"
slug = "down"
[[providers.models]]
id = "m/chat"
prompt_price = 0.1
completion_price = 0.1
error_rate = 1.0

[[providers]]
name = "Collector"
slug = "collector"
collects_data = true
[[providers.models]]
id = "m/chat"
prompt_price = 0.2
completion_price = 0.2

[[providers]]
name = "Private"
slug = "private"
zdr = true
[[providers.models]]
id = "m/chat"
prompt_price = 5.0
completion_price = 5.0
"#;

/// A fleet from `toml` on loopback, its endpoints as a registry, and a router over them.
async fn routed(
    toml: &str,
    seed: u64,
) -> (
    fleet::FleetHandle,
    switchyard::routing::EndpointRegistry,
    actor::RouterHandle,
) {
    let r = common::routed_fleet(toml, HealthConfig::default(), seed).await;
    (r.fleet, r.registry, r.router)
}

/// Runs `req` through the router; returns the result and every event but the stream's.
async fn exec(
    registry: &switchyard::routing::EndpointRegistry,
    router: &actor::RouterHandle,
    req: &ChatRequest,
    opts: &ExecOptions,
) -> (switchyard::routing::exec::Routed, Vec<ExecEvent>) {
    let mut events = Vec::new();
    let r = execute(
        &HttpClient::new().unwrap(),
        router,
        registry,
        req,
        opts,
        |e| {
            if !matches!(e, ExecEvent::Events(_)) {
                events.push(e)
            }
        },
    )
    .await;
    (r, events)
}

fn request(prefs: Option<ProviderPreferences>) -> ChatRequest {
    ChatRequest {
        model: Some("m/chat".into()),
        messages: vec![Message::user("Explain quicksort")],
        provider: prefs,
        ..Default::default()
    }
}

#[tokio::test]
async fn fails_over_before_the_first_token_and_reports_health() {
    let (_fleet, registry, router) = routed(FLEET, 3).await;
    // Sort by price so the first attempt is deterministic: the cheap endpoint that is down.
    let prefs: ProviderPreferences =
        serde_json::from_value(serde_json::json!({"sort": "price"})).unwrap();
    let (r, events) = exec(
        &registry,
        &router,
        &request(Some(prefs)),
        &ExecOptions::default(),
    )
    .await;
    assert_eq!(r.answer.result, Ok("stop".into()), "{:?}", r.attempts);
    // A 5xx is retried once on the same endpoint (after a jittered backoff), then the next
    // endpoint answers.
    assert_eq!(r.attempts.len(), 3);
    assert!(matches!(r.attempts[0].outcome, Outcome::ServerError { .. }));
    assert!(!r.attempts[0].committed);
    assert_eq!(r.attempts[1].provider, r.attempts[0].provider);
    assert!(events.iter().any(|e| matches!(e, ExecEvent::Retry { .. })));
    assert_eq!(r.attempts[2].provider, "Collector");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ExecEvent::Failover { .. }))
    );
    assert!(!r.answer.text.is_empty());
}

#[tokio::test]
async fn privacy_filters_hold_even_when_it_costs_more() {
    let (_fleet, registry, router) = routed(FLEET, 5).await;
    let prefs = ProviderPreferences {
        data_collection: Some(DataCollection::Deny),
        zdr: Some(true),
        ..Default::default()
    };
    for _ in 0..5 {
        let (r, _) = exec(
            &registry,
            &router,
            &request(Some(prefs.clone())),
            &ExecOptions::default(),
        )
        .await;
        assert_eq!(r.answer.result, Ok("stop".into()));
        assert!(
            r.attempts.iter().all(|a| a.provider == "Private"),
            "{:?}",
            r.attempts
        );
        let why = switchyard::routing::exec::explain(&registry, &r.plan, &r.attempts).join("\n");
        assert!(why.contains("Cheap But Down · m/chat — excluded"), "{why}");
        assert!(why.contains("attempt 1: Private"), "{why}");
        let plan = r.plan.unwrap();
        assert_eq!(plan.entries.len(), 1);
        assert_eq!(
            plan.excluded.len(),
            2,
            "both others are excluded with a rule"
        );
    }
}

#[tokio::test]
async fn nothing_qualifies_fails_fast_naming_the_rules() {
    let (_fleet, registry, router) = routed(FLEET, 1).await;
    let prefs: ProviderPreferences =
        serde_json::from_value(serde_json::json!({"only": ["nobody"]})).unwrap();
    let (r, _) = exec(
        &registry,
        &router,
        &request(Some(prefs)),
        &ExecOptions::default(),
    )
    .await;
    assert!(r.attempts.is_empty());
    let msg = r.plan.unwrap_err();
    assert!(msg.contains("no endpoint qualifies"), "{msg}");
    assert!(
        matches!(&r.answer.result, Err(switchyard::client::ChatError::NoRoute(m)) if m.contains("no endpoint qualifies")),
        "{:?}",
        r.answer.result
    );
}

const CUTTING: &str = r#"
seed = 9
time_scale = 0.0
[[providers]]
name = "Cutter"
slug = "cutter"
[[providers.models]]
id = "m/chat"
prompt_price = 0.1
completion_price = 0.1
[[providers.models.faults]]
kind = "cut"
after_tokens = 5

[[providers]]
name = "Whole"
slug = "whole"
[[providers.models]]
id = "m/chat"
prompt_price = 1.0
completion_price = 1.0
"#;

async fn cut_run(
    policy: switchyard::routing::exec::MidStream,
) -> (switchyard::routing::exec::Routed, Vec<ExecEvent>) {
    let (_fleet, registry, router) = routed(CUTTING, 3).await;
    let prefs: ProviderPreferences =
        serde_json::from_value(serde_json::json!({"sort": "price"})).unwrap();
    let opts = ExecOptions {
        mid_stream: policy,
        ..Default::default()
    };
    let (r, events) = exec(&registry, &router, &request(Some(prefs)), &opts).await;
    (r, events)
}

#[tokio::test]
async fn restart_policy_replaces_a_cut_answer_with_a_whole_one() {
    let (r, events) = cut_run(switchyard::routing::exec::MidStream::Restart).await;
    assert_eq!(r.answer.result, Ok("stop".into()));
    assert_eq!(r.attempts.len(), 2);
    assert!(
        r.attempts[0].committed,
        "the first attempt had shown tokens"
    );
    assert_eq!(r.attempts[0].outcome, Outcome::Cut);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ExecEvent::Restart { chars_cut, .. } if *chars_cut > 0))
    );
    assert_eq!(r.attempts[1].provider, "Whole");
}

#[tokio::test]
async fn surface_policy_keeps_the_partial_answer_marked_incomplete() {
    let (r, _) = cut_run(switchyard::routing::exec::MidStream::Surface).await;
    assert_eq!(r.attempts.len(), 1);
    assert!(!r.answer.text.is_empty(), "the partial text is kept");
    assert!(
        matches!(
            r.answer.result,
            Err(switchyard::client::ChatError::Truncated(_))
        ),
        "never a success"
    );
}

#[tokio::test]
async fn continue_policy_keeps_the_partial_text_and_a_prefill_endpoint_finishes_it() {
    use switchyard::routing::exec::MidStream;
    let (_fleet, registry, router) = routed(common::CONTINUING, 3).await;
    let prefs: ProviderPreferences =
        serde_json::from_value(serde_json::json!({"sort": "price"})).unwrap();
    let run = |policy| {
        let (registry, router, prefs) = (registry.clone(), router.clone(), prefs.clone());
        async move {
            let opts = ExecOptions {
                mid_stream: policy,
                ..Default::default()
            };
            let mut streamed = String::new();
            let mut events = Vec::new();
            let r = execute(
                &HttpClient::new().unwrap(),
                &router,
                &registry,
                &request(Some(prefs)),
                &opts,
                |e| match e {
                    ExecEvent::Events(evs) => {
                        for ev in evs {
                            if let switchyard::wire::chunk::StreamEvent::Content(c) = ev {
                                streamed.push_str(&c);
                            }
                        }
                    }
                    other => events.push(other),
                },
            )
            .await;
            (r, events, streamed)
        }
    };
    let (r, events, streamed) = run(MidStream::Continue).await;
    assert_eq!(r.answer.result, Ok("stop".into()), "{:?}", r.attempts);
    // Strict rejects prefills, so it is skipped: the continuation goes to Prefiller.
    let tried: Vec<_> = r.attempts.iter().map(|a| a.provider.as_str()).collect();
    assert_eq!(tried, ["Cutter", "Prefiller"]);
    let kept = events
        .iter()
        .find_map(|e| match e {
            ExecEvent::Continue { chars_kept, .. } => Some(*chars_kept),
            _ => None,
        })
        .expect("a continue event");
    assert!(kept > 0);
    // What the user saw streamed is exactly the final answer (nothing replaced), and it is the
    // same whole answer the model gives without any fault.
    assert_eq!(streamed, r.answer.text);
    let (whole, _, _) = {
        let (_f, reg2, router2) = routed(
            &common::CONTINUING.replace("after_tokens = 25", "after_tokens = 100000"),
            3,
        )
        .await;
        let r = execute(
            &HttpClient::new().unwrap(),
            &router2,
            &reg2,
            &request(Some(prefs.clone())),
            &ExecOptions::default(),
            |_| {},
        )
        .await;
        (r, (), ())
    };
    assert_eq!(r.answer.text, whole.answer.text);

    // With no prefill endpoint left, `continue` falls back to a clean restart.
    let (_fleet2, registry2, router2) = routed(
        &common::CONTINUING.replace("assistant_prefill = true", ""),
        3,
    )
    .await;
    let opts = ExecOptions {
        mid_stream: MidStream::Continue,
        ..Default::default()
    };
    let (r, evs) = exec(&registry2, &router2, &request(Some(prefs)), &opts).await;
    assert_eq!(r.answer.result, Ok("stop".into()));
    assert!(evs.iter().any(|e| matches!(e, ExecEvent::Restart { .. })));
    assert!(!evs.iter().any(|e| matches!(e, ExecEvent::Continue { .. })));
}

#[tokio::test]
async fn a_conversation_stays_on_its_endpoint_while_it_is_healthy() {
    // Three equally priced healthy providers: without affinity the weighted pick moves around.
    let fleet = r#"
seed = 9
time_scale = 0.0
[[providers]]
name = "A"
slug = "a"
[[providers.models]]
id = "m/chat"
prompt_price = 1.0
completion_price = 1.0
[[providers]]
name = "B"
slug = "b"
[[providers.models]]
id = "m/chat"
prompt_price = 1.0
completion_price = 1.0
[[providers]]
name = "C"
slug = "c"
[[providers.models]]
id = "m/chat"
prompt_price = 1.0
completion_price = 1.0
"#;
    let (_fleet, registry, router) = routed(fleet, 11).await;
    let client = HttpClient::new().unwrap();
    let first = |opts: ExecOptions| {
        let (client, registry, router) = (client.clone(), registry.clone(), router.clone());
        async move {
            execute(&client, &router, &registry, &request(None), &opts, |_| {})
                .await
                .attempts[0]
                .endpoint
        }
    };
    let mut free = std::collections::HashSet::new();
    for _ in 0..30 {
        free.insert(first(ExecOptions::default()).await);
    }
    assert!(free.len() > 1, "the weighted pick varies");
    let pinned = registry.find("b", "m/chat").unwrap();
    for _ in 0..30 {
        let opts = ExecOptions {
            affinity: Some(pinned),
            ..Default::default()
        };
        assert_eq!(first(opts).await, pinned);
    }
}

#[tokio::test]
async fn with_a_key_per_provider_one_refused_key_moves_on_to_the_next_provider() {
    let toml = format!("api_key = \"sk-right\"\n{FLEET}").replace("error_rate = 1.0", "");
    let (_fleet, registry, router) = routed(&toml, 3).await;
    let prefs: ProviderPreferences =
        serde_json::from_value(serde_json::json!({"sort": "price"})).unwrap();
    let keys: std::collections::HashMap<String, switchyard::client::Secret> = [
        ("down", "sk-wrong"),
        ("collector", "sk-right"),
        ("private", "sk-right"),
    ]
    .into_iter()
    .map(|(p, k)| (p.to_string(), switchyard::client::Secret::new(k)))
    .collect();
    let opts = ExecOptions {
        keys: std::sync::Arc::new(keys),
        ..Default::default()
    };
    let (r, _) = exec(&registry, &router, &request(Some(prefs)), &opts).await;
    assert_eq!(r.answer.result, Ok("stop".into()), "{:?}", r.attempts);
    let tried: Vec<_> = r.attempts.iter().map(|a| a.provider.as_str()).collect();
    assert_eq!(
        tried,
        ["Cheap But Down", "Collector"],
        "no retry of a refused key"
    );
    assert_eq!(r.attempts[0].outcome, Outcome::Auth { status: 401 });
}

#[tokio::test]
async fn a_threshold_no_endpoint_meets_demotes_runs_and_says_so() {
    let fleet = "seed = 9\ntime_scale = 0.0\n[[providers]]\nname = \"Only\"\nslug = \"only\"\n[[providers.models]]\nid = \"m/chat\"\nprompt_price = 1.0\ncompletion_price = 1.0\n";
    let (_fleet, registry, router) = routed(fleet, 3).await;
    let client = HttpClient::new().unwrap();
    let run = |prefs: Option<ProviderPreferences>| {
        let (client, registry, router) = (client.clone(), registry.clone(), router.clone());
        async move {
            let mut notices = Vec::new();
            let r = execute(
                &client,
                &router,
                &registry,
                &request(prefs),
                &ExecOptions::default(),
                |e| {
                    if let ExecEvent::Notice(n) = e {
                        notices.push(n)
                    }
                },
            )
            .await;
            (r, notices)
        }
    };
    // Three answers give the endpoint enough time-to-first-token samples for a p50.
    for _ in 0..3 {
        let (r, notices) = run(None).await;
        assert_eq!(r.answer.result, Ok("stop".into()));
        assert!(notices.is_empty());
    }
    // Nobody answers within a microsecond: demoted, not excluded, and said.
    let prefs: ProviderPreferences =
        serde_json::from_value(serde_json::json!({"preferred_max_latency": 0.000001})).unwrap();
    let (r, notices) = run(Some(prefs)).await;
    assert_eq!(
        r.answer.result,
        Ok("stop".into()),
        "thresholds never exclude"
    );
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("maximum latency"), "{}", notices[0]);
}
