//! The real client against the real simulated fleet over loopback: the aggregator (OpenRouter
//! shape), a single provider's OpenAI-compatible endpoint, catalogs, fallbacks, cancellation.

use std::time::Duration;
use switchyard::client::{ChatError, Endpoint, HttpClient, ServerKind, Timeouts};
use switchyard::fleet::{self, FleetSpec};
use switchyard::wire::chunk::StreamEvent;
use switchyard::wire::request::{ChatRequest, Message};

async fn fleet(spec: FleetSpec) -> fleet::FleetHandle {
    fleet::start(spec, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn req(model: &str) -> ChatRequest {
    ChatRequest {
        model: Some(model.into()),
        messages: vec![Message::user("Explain quicksort")],
        ..Default::default()
    }
}

fn ep(base_url: String, kind: ServerKind) -> Endpoint {
    Endpoint {
        base_url,
        key: None,
        kind,
    }
}

#[tokio::test]
async fn aggregator_stream_completes_with_provider_canonical_slug_and_cost() {
    let f = fleet(FleetSpec::builtin().with_time_scale(0.0)).await;
    let client = HttpClient::new().unwrap();
    let mut keepalives = 0;
    let o = client
        .stream_chat(
            &ep(f.base_url(), ServerKind::OpenRouter),
            &req("anthropic/claude-sonnet-4.5"),
            Timeouts::default(),
            |events| {
                keepalives += events
                    .iter()
                    .filter(|e| **e == StreamEvent::KeepAlive)
                    .count();
            },
        )
        .await;
    assert_eq!(o.result, Ok("stop".into()), "{:?}", o.result);
    assert!(
        keepalives >= 1,
        "OpenRouter-style keep-alive comments arrive"
    );
    assert_eq!(
        o.served.model.as_deref(),
        Some("anthropic/claude-4.5-sonnet-20250929")
    );
    let provider = o.served.provider.clone().unwrap();
    let usage = o.usage.clone().unwrap();
    // The cost follows the serving endpoint's prices.
    let spec = f.spec();
    let (_, e) = spec
        .endpoints_for("anthropic/claude-sonnet-4.5")
        .into_iter()
        .find(|(p, _)| p.name == provider)
        .unwrap();
    let expected = usage.prompt_tokens as f64 * e.prompt_price / 1e6
        + usage.completion_tokens as f64 * e.completion_price / 1e6;
    assert!((usage.cost.unwrap() - expected).abs() < 1e-12);
    assert!(o.text.contains("```"));
}

#[tokio::test]
async fn single_provider_openai_endpoint_with_usage_on_request() {
    let f = fleet(FleetSpec::builtin().with_time_scale(0.0)).await;
    let url = f.provider_base_url("comet").unwrap();
    let o = HttpClient::new()
        .unwrap()
        .stream_chat(
            &ep(url, ServerKind::OpenAi),
            &req("openai/gpt-4o-mini"),
            Timeouts::default(),
            |_| {},
        )
        .await;
    assert_eq!(o.result, Ok("stop".into()));
    assert!(
        o.usage.is_some(),
        "the client asks OpenAI-compatible servers for usage"
    );
    assert_eq!(o.served.model.as_deref(), Some("openai/gpt-4o-mini"));
}

#[tokio::test]
async fn catalogs_from_both_shapes() {
    let f = fleet(FleetSpec::builtin().with_time_scale(0.0)).await;
    let client = HttpClient::new().unwrap();
    let all = client
        .list_models(&ep(f.base_url(), ServerKind::OpenRouter))
        .await
        .unwrap();
    for m in switchyard::source::DEFAULT_MODELS {
        assert!(
            all.iter().any(|x| x.id == m),
            "default pane model {m} is in the fleet"
        );
    }
    assert!(all.iter().any(|m| m.is_free()));
    let one = client
        .list_models(&ep(
            f.provider_base_url("basalt").unwrap(),
            ServerKind::OpenAi,
        ))
        .await
        .unwrap();
    assert!(!one.is_empty() && one.len() < all.len());
}

#[tokio::test]
async fn unknown_model_is_a_400_with_the_message() {
    let f = fleet(FleetSpec::builtin().with_time_scale(0.0)).await;
    let o = HttpClient::new()
        .unwrap()
        .stream_chat(
            &ep(f.base_url(), ServerKind::OpenRouter),
            &req("nope/none"),
            Timeouts::default(),
            |_| {},
        )
        .await;
    match o.result {
        Err(ChatError::Api(e)) => {
            assert_eq!(e.status, Some(400));
            assert!(e.message.contains("nope/none"));
        }
        other => panic!("{other:?}"),
    }
}

const FLAKY: &str = r#"
seed = 5
time_scale = 0.0
[[providers]]
name = "Down"
slug = "down"
[[providers.models]]
id = "a/primary"
prompt_price = 1
completion_price = 1
error_rate = 1.0
[[providers]]
name = "Up"
slug = "up"
[[providers.models]]
id = "b/fallback"
prompt_price = 1
completion_price = 1
[[providers.models]]
id = "c/slow"
prompt_price = 1
completion_price = 1
tokens_per_sec = { mean = 20 }
"#;

#[tokio::test]
async fn model_fallback_serves_the_next_model() {
    let f = fleet(FleetSpec::from_toml(FLAKY, "test").unwrap()).await;
    let mut r = req("a/primary");
    r.models = Some(vec!["b/fallback".into()]);
    let o = HttpClient::new()
        .unwrap()
        .stream_chat(
            &ep(f.base_url(), ServerKind::OpenRouter),
            &r,
            Timeouts::default(),
            |_| {},
        )
        .await;
    assert_eq!(o.result, Ok("stop".into()));
    assert_eq!(o.served.model.as_deref(), Some("b/fallback"));
    assert_eq!(o.served.provider.as_deref(), Some("Up"));
}

#[tokio::test]
async fn dropping_the_request_closes_the_connection() {
    let spec = FleetSpec::from_toml(FLAKY, "test")
        .unwrap()
        .with_time_scale(1.0);
    let f = fleet(spec).await;
    let client = HttpClient::new().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let e = ep(f.base_url(), ServerKind::OpenRouter);
    let task = tokio::spawn(async move {
        client
            .stream_chat(&e, &req("c/slow"), Timeouts::default(), |events| {
                for ev in events {
                    let _ = tx.send(ev.clone());
                }
            })
            .await
    });
    // Wait for the first visible token, then cancel.
    while let Some(ev) = rx.recv().await {
        if matches!(ev, StreamEvent::Content(_)) {
            break;
        }
    }
    assert!(f.active_connections() >= 1);
    task.abort();
    tokio::time::timeout(Duration::from_secs(30), f.wait_idle())
        .await
        .expect("the fleet sees the connection close and stops generating");
}

#[tokio::test]
async fn batched_reads_deliver_the_same_answer_in_at_most_one_callback_per_period() {
    // Tokens arrive every few milliseconds; with a 40 ms batch period the client reads at most
    // once per period after the first token, and the text is the same as reading eagerly.
    let f = fleet(FleetSpec::builtin().with_time_scale(0.2)).await;
    let client = HttpClient::new().unwrap();
    let target = ep(f.base_url(), ServerKind::OpenRouter);
    let eager = client
        .stream_chat(
            &target,
            &req("openai/gpt-4o-mini"),
            Timeouts::default(),
            |_| {},
        )
        .await;
    let period = Duration::from_millis(40);
    let batched_timeouts = Timeouts {
        batch: period,
        ..Timeouts::default()
    };
    let mut after_first = 0usize;
    let mut first_at = None;
    let batched = client
        .stream_chat(
            &target,
            &req("openai/gpt-4o-mini"),
            batched_timeouts,
            |evs| {
                if first_at.is_some() {
                    after_first += 1;
                } else if evs.iter().any(|e| matches!(e, StreamEvent::Content(_))) {
                    first_at = Some(std::time::Instant::now());
                }
            },
        )
        .await;
    let streamed_for = first_at.unwrap().elapsed();
    assert_eq!(batched.result, Ok("stop".into()), "{:?}", batched.result);
    assert_eq!(batched.text, eager.text);
    assert!(
        eager.timings.chunks > 40,
        "enough tokens to batch: {}",
        eager.timings.chunks
    );
    let bound = 1 + (streamed_for.as_millis() / period.as_millis()) as usize;
    assert!(
        after_first <= bound,
        "{after_first} reads after the first token in {streamed_for:?} (at most {bound})"
    );
}

#[tokio::test]
async fn endpoints_listing_becomes_router_metadata() {
    let f = fleet(FleetSpec::builtin().with_time_scale(0.0)).await;
    let list = HttpClient::new()
        .unwrap()
        .list_endpoints(
            &ep(f.base_url(), ServerKind::OpenRouter),
            "anthropic/claude-sonnet-4.5",
        )
        .await
        .unwrap();
    assert!(list.endpoints.len() >= 2);
    let metas: Vec<_> = list
        .endpoints
        .iter()
        .map(|e| switchyard::routing::EndpointMeta::from_listing("anthropic/claude-sonnet-4.5", e))
        .collect();
    // Names, slugs and prices agree with the fleet's own definition.
    for m in &metas {
        let p = f
            .spec()
            .providers
            .iter()
            .find(|p| p.name == m.provider_name)
            .unwrap_or_else(|| panic!("{} is a fleet provider", m.provider_name));
        assert!(m.provider_slug.starts_with(&p.slug), "{}", m.provider_slug);
        let e = p
            .models
            .iter()
            .find(|e| e.id == "anthropic/claude-sonnet-4.5")
            .unwrap();
        assert!((m.pricing.prompt - e.prompt_price).abs() < 1e-9);
        assert!((m.pricing.completion - e.completion_price).abs() < 1e-9);
        assert_eq!(u64::from(m.context_length), e.context_length);
    }
}

#[tokio::test]
async fn an_observer_learns_a_models_endpoints_from_the_gateways_listing() {
    let f = fleet(FleetSpec::builtin().with_time_scale(0.0)).await;
    let mut obs = switchyard::source::LocalRouter::observer_at(
        switchyard::routing::EndpointRegistry::new(),
        None,
    );
    obs.gateway = Some(ep(f.base_url(), ServerKind::OpenRouter));
    let mut reg = obs.handle.registry();
    obs.learn(&HttpClient::new().unwrap(), "google/gemini-2.5-pro");
    let learned = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let r = reg.borrow_and_update().clone();
            if !r.is_empty() {
                return r;
            }
            reg.changed().await.unwrap();
        }
    })
    .await
    .expect("the listing arrives");
    let served_by: Vec<&str> = learned
        .iter()
        .map(|(_, m)| m.provider_name.as_str())
        .collect();
    let expected: Vec<&str> = f
        .spec()
        .providers
        .iter()
        .filter(|p| p.models.iter().any(|e| e.id == "google/gemini-2.5-pro"))
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(served_by.len(), expected.len(), "{served_by:?}");
    assert!(learned.iter().all(|(_, m)| m.pricing.prompt > 0.0));
}
