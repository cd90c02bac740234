//! Properties of routed execution under random faults, against the real fleet over loopback:
//! no request is lost while some endpoint can answer, and nothing truncated is ever a success.

use proptest::prelude::*;
use std::time::Duration;
use switchyard::client::{HttpClient, Timeouts};
use switchyard::fleet::{self, FleetSpec};
use switchyard::routing::exec::{ExecOptions, MidStream, RetryPolicy, execute};
use switchyard::routing::{HealthConfig, actor};
use switchyard::wire::request::{ChatRequest, Message};

/// A fault for one provider, as fleet TOML (empty: healthy).
fn fault() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        1 => Just("kind = \"outage\"".to_string()),
        1 => (500u16..505).prop_map(|s| format!("kind = \"errors\"\nstatus = {s}")),
        1 => Just("kind = \"reset\"".to_string()),
        1 => (0u64..60).prop_map(|n| format!("kind = \"cut\"\nafter_tokens = {n}")),
        1 => Just("kind = \"no_done\"".to_string()),
        1 => (0u64..60).prop_map(|n| format!("kind = \"malformed\"\nafter_tokens = {n}")),
        1 => Just("kind = \"rate_limit\"\nretry_after_secs = 0".to_string()),
        1 => (1u64..3).prop_map(|t| format!("kind = \"errors\"\nstatus = 503\ntimes = {t}")),
    ]
}

fn fleet_toml(faults: &[String]) -> String {
    let mut t = String::from("seed = 5\ntime_scale = 0.0\n");
    for (i, f) in faults.iter().enumerate() {
        t.push_str(&format!(
            "[[providers]]\nname = \"P{i}\"\nslug = \"p{i}\"\n[[providers.models]]\nid = \"m/chat\"\nprompt_price = {}\ncompletion_price = 1.0\n",
            1.0 + i as f64
        ));
        if !f.is_empty() {
            t.push_str(&format!("[[providers.models.faults]]\n{f}\n"));
        }
    }
    t
}

/// Whether a provider with this fault answers on its first attempt (malformed events are
/// skipped). The router promises every candidate an attempt within the budget, so one such
/// provider is enough; one that recovers after a few 503s may or may not be reached again.
fn can_answer(f: &str) -> bool {
    f.is_empty() || f.contains("malformed")
}

fn request() -> ChatRequest {
    ChatRequest {
        model: Some("m/chat".into()),
        messages: vec![Message::user("Explain quicksort")],
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn no_request_lost_and_never_a_truncated_success(
        faults in proptest::collection::vec(fault(), 1..5),
        seed in any::<u64>(),
        surface in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let spec = FleetSpec::from_toml(&fleet_toml(&faults), "prop").unwrap();
            let f = fleet::start(spec, "127.0.0.1:0".parse().unwrap()).await.unwrap();
            let registry = f.registry();
            let router = actor::spawn(registry.clone(), HealthConfig::default(), seed);
            let opts = ExecOptions {
                timeouts: Timeouts { stall: Duration::from_secs(5), ..Timeouts::default() },
                retry: RetryPolicy {
                    backoff_base: Duration::from_millis(5),
                    backoff_cap: Duration::from_millis(20),
                    ..RetryPolicy::default()
                },
                mid_stream: if surface { MidStream::Surface } else { MidStream::Restart },
                jitter_seed: seed,
                ..ExecOptions::default()
            };
            let client = HttpClient::new().unwrap();
            let r = execute(&client, &router, &registry, &request(), &opts, |_| {}).await;
            // The whole answer, from a fleet with no faults at all.
            let clean_spec = FleetSpec::from_toml(&fleet_toml(&[String::new()]), "clean").unwrap();
            let clean = fleet::start(clean_spec, "127.0.0.1:0".parse().unwrap()).await.unwrap();
            let creg = clean.registry();
            let crouter = actor::spawn(creg.clone(), HealthConfig::default(), 1);
            let whole = execute(&client, &crouter, &creg, &request(), &ExecOptions::default(), |_| {}).await;
            prop_assert_eq!(&whole.answer.result, &Ok("stop".to_string()));

            prop_assert!(r.attempts.len() <= opts.max_attempts);
            if r.answer.result.is_ok() {
                // Never a truncated success.
                prop_assert_eq!(&r.answer.text, &whole.answer.text);
            }
            // Before any token was shown, nothing is lost while someone can answer (with
            // `surface`, a stream cut after its first token is allowed to stop there).
            let cut_after_commit = r.attempts.iter().any(|a| a.committed && a.error.is_some());
            if faults.iter().any(|f| can_answer(f)) && !(surface && cut_after_commit) {
                prop_assert!(
                    r.answer.result.is_ok(),
                    "faults {:?}: {:?}", faults, r.attempts.iter().map(|a| (&a.provider, a.outcome)).collect::<Vec<_>>()
                );
            }
            Ok(())
        })?;
    }
}
