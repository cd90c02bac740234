//! Routing core: planning at 50 and 500 endpoints (5 models), recording one outcome, taking a
//! snapshot, exporting a full outcome log for saving, and a routing panel's preview.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use switchyard::routing::persist::{LOG_CAP, OutcomeLog};
use switchyard::routing::policy::PlanRequest;
use switchyard::routing::{
    EndpointId, EndpointMeta, EndpointRegistry, HealthConfig, HealthSnapshot, HealthTracker,
    Outcome, ParamSet, Plan, Planner, RequestFeatures, Sample, SplitMix64,
};
use switchyard::wire::request::{
    DataCollection, ProviderPreferences, ProviderSort, SortBy, Threshold,
};

const NOW: Duration = Duration::from_secs(10_000);

/// `n` endpoints over 5 models with a few samples each and some recent failures.
fn world(n: usize) -> (EndpointRegistry, HealthSnapshot, HealthTracker) {
    let eps: Vec<EndpointMeta> = (0..n)
        .map(|i| {
            let mut e = EndpointMeta::new(format!("prov{}/{}", i % 37, i), format!("m/{}", i % 5))
                .with_prices(0.5 + (i % 13) as f64, 1.0 + (i % 7) as f64);
            e.data.collects_data = i % 5 == 0;
            e.data.zdr = i % 3 != 0;
            e.supported = ParamSet::ALL;
            e
        })
        .collect();
    let mut h = HealthTracker::new(HealthConfig::default());
    for i in 0..n {
        let id = EndpointId(i as u32);
        for k in 0..8u64 {
            h.record(id, NOW - Duration::from_secs(100 - k), &ok(i as u64 + k));
        }
        if i % 11 == 0 {
            h.record(id, NOW - Duration::from_secs(5), &Outcome::Connect);
        }
    }
    let snap = h.snapshot(n, NOW);
    (EndpointRegistry::from_endpoints(eps), snap, h)
}

fn ok(k: u64) -> Outcome {
    Outcome::Success(Sample {
        ttft: Some(Duration::from_millis(200 + (k * 37) % 900)),
        decode_tokens_per_sec: Some(20.0 + (k % 150) as f64),
        end_to_end: Some(Duration::from_millis(2_000 + (k * 53) % 3000)),
    })
}

fn bench(c: &mut Criterion) {
    let models: Vec<String> = (0..5).map(|i| format!("m/{i}")).collect();
    let features = RequestFeatures {
        prompt_tokens: 3000,
        max_output_tokens: Some(1000),
        params: ParamSet::TOOLS,
        ..Default::default()
    };
    let default_prefs = ProviderPreferences::default();
    let sorted_prefs = ProviderPreferences {
        sort: Some(ProviderSort::By(SortBy::Throughput)),
        data_collection: Some(DataCollection::Deny),
        preferred_max_latency: Some(Threshold::Value(0.6)),
        ..Default::default()
    };
    let mut g = c.benchmark_group("routing_plan");
    for n in [50usize, 500] {
        let (reg, snap, _) = world(n);
        for (name, prefs) in [("default", &default_prefs), ("sorted", &sorted_prefs)] {
            let req = PlanRequest {
                features: &features,
                prefs,
                models: &models,
                affinity: None,
            };
            let mut planner = Planner::new();
            let mut out = Plan::default();
            let mut rng = SplitMix64::new(7);
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    planner
                        .plan_into(black_box(&req), &reg, &snap, &mut rng, NOW, &mut out)
                        .unwrap();
                    black_box(out.entries.len())
                })
            });
        }
    }
    g.finish();

    let (_, _, mut tracker) = world(500);
    let mut t = NOW;
    let mut k = 0u64;
    // What a routing panel recomputes on every change: a routing panel's settings built into a
    // request, planned over 500 endpoints, worded, and the body serialised.
    {
        let (reg, snap, _) = world(500);
        let settings = switchyard::settings::RequestSettings {
            provider: Some(ProviderPreferences {
                data_collection: Some(DataCollection::Deny),
                preferred_max_latency: Some(Threshold::Value(3.0)),
                ..Default::default()
            }),
            fallbacks: vec!["m/1".into()],
            temperature: Some(0.3),
            ..Default::default()
        };
        c.bench_function("preview_500", |b| {
            b.iter(|| {
                let req = switchyard::settings::build("m/0", &settings, [], "Explain quicksort");
                let p = switchyard::preview::preview(&reg, &snap, &req, false, false, 7);
                let lines = switchyard::preview::lines(&reg, &p);
                let body = serde_json::to_string_pretty(&req).unwrap();
                black_box((lines, body))
            })
        });
    }
    c.bench_function("routing_record_outcome", |b| {
        b.iter(|| {
            k += 1;
            t += Duration::from_millis(7);
            tracker.record(EndpointId((k % 500) as u32), t, black_box(&ok(k)));
        })
    });
    c.bench_function("routing_snapshot_500", |b| {
        b.iter(|| black_box(tracker.snapshot(500, t)))
    });

    // Saving health: a full outcome log (the cap) over 500 endpoints, exported in the actor.
    let (registry, _, tracker) = world(500);
    let mut log = OutcomeLog::default();
    for k in 0..LOG_CAP as u64 {
        log.push(
            NOW + Duration::from_millis(k * 10),
            EndpointId((k % 500) as u32),
            ok(k),
        );
    }
    let at = NOW + Duration::from_millis(LOG_CAP as u64 * 10);
    c.bench_function("routing_export_500x20000", |b| {
        b.iter(|| black_box(log.export(&tracker, &registry, at, 0).endpoints.len()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
