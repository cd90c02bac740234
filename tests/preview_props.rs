//! The preview is what happens: for random prices, health and routing preferences, the
//! endpoint the routing panel's preview (and `switchyard plan`) puts first is the one the routing
//! actor then plans first, given the same health and seed. Paused clock, seeded, no sleeps.

use proptest::prelude::*;
use std::time::Duration;
use switchyard::routing::actor::{self, PlanQuery};
use switchyard::routing::{
    EndpointMeta, EndpointRegistry, HealthConfig, Outcome, RequestFeatures, Sample,
};
use switchyard::settings::RequestSettings;
use switchyard::wire::request::{
    DataCollection, Percentiles, ProviderPreferences, ProviderSort, SortBy, Threshold,
};

#[derive(Debug, Clone)]
struct Ep {
    price: f64,
    collects: bool,
    ok: bool,
    ttft_ms: u64,
    tps: f64,
}

fn ep() -> impl Strategy<Value = Ep> {
    (
        0.1f64..10.0,
        any::<bool>(),
        prop::bool::weighted(0.8),
        100u64..4000,
        10.0f64..400.0,
    )
        .prop_map(|(price, collects, ok, ttft_ms, tps)| Ep {
            price,
            collects,
            ok,
            ttft_ms,
            tps,
        })
}

fn prefs() -> impl Strategy<Value = ProviderPreferences> {
    (0u8..4, any::<bool>(), prop::option::of(0.5f64..4.0)).prop_map(|(by, deny, p90)| {
        ProviderPreferences {
            sort: match by {
                0 => None,
                1 => Some(ProviderSort::By(SortBy::Price)),
                2 => Some(ProviderSort::By(SortBy::Throughput)),
                _ => Some(ProviderSort::By(SortBy::Latency)),
            },
            data_collection: deny.then_some(DataCollection::Deny),
            preferred_max_latency: p90.map(|v| {
                Threshold::Percentiles(Percentiles {
                    p90: Some(v),
                    ..Default::default()
                })
            }),
            ..Default::default()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn the_previewed_first_choice_is_the_routers_first_choice(
        eps in prop::collection::vec(ep(), 1..6),
        prefs in prefs(),
        seed in any::<u64>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let (previewed, planned) = rt.block_on(async {
            let mut reg = EndpointRegistry::new();
            for (i, e) in eps.iter().enumerate() {
                let mut m = EndpointMeta::new(format!("p{i}"), "m/x")
                    .with_prices(e.price / 4.0, e.price);
                m.provider_name = format!("P{i}");
                m.data.collects_data = e.collects;
                reg.push(m);
            }
            let h = actor::spawn(reg.clone(), HealthConfig::default(), seed);
            for (i, e) in eps.iter().enumerate() {
                let id = switchyard::routing::EndpointId(i as u32);
                let outcome = if e.ok {
                    Outcome::Success(Sample {
                        ttft: Some(Duration::from_millis(e.ttft_ms)),
                        decode_tokens_per_sec: Some(e.tps),
                        end_to_end: Some(Duration::from_secs(2)),
                    })
                } else {
                    Outcome::ServerError { status: 503 }
                };
                for _ in 0..3 {
                    h.report(id, outcome);
                }
            }
            // Let the actor publish a snapshot with every report in it.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let snapshot = h.snapshots().borrow().clone();
            let settings = RequestSettings { provider: Some(prefs.clone()), ..Default::default() };
            let req = switchyard::settings::build("m/x", &settings, [], "Explain quicksort");
            let p = switchyard::preview::preview(&reg, &snapshot, &req, false, false, seed);
            let planned = h
                .plan(PlanQuery {
                    features: RequestFeatures::from_request(&req),
                    prefs: prefs.clone(),
                    models: vec!["m/x".into()],
                    affinity: None,
                })
                .await
                .unwrap();
            (
                p.plan.map(|p| p.first()).map_err(|e| e.to_string()),
                planned.map(|p| p.first()).map_err(|e| e.to_string()),
            )
        });
        prop_assert_eq!(previewed, planned);
    }
}
