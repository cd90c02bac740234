//! Property tests of the routing core: determinism, price weighting, hard filters, soft
//! preferences, partitions, windows, percentiles, the breaker, 429 handling, affinity, and
//! allocation-free planning.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use proptest::prelude::*;
use switchyard::routing::health::{HIST_REL_ERROR, RAW_CAP, WINDOW_MS};
use switchyard::routing::policy::PlanRequest;
use switchyard::routing::{
    DataPolicy, EndpointId, EndpointMeta, EndpointRegistry, EndpointStats, HealthConfig,
    HealthSnapshot, HealthState, HealthTracker, Modalities, Outcome, ParamSet, Plan, Planner,
    Quantiles, RequestFeatures, Sample, SplitMix64, Tier, plan,
};
use switchyard::wire::request::{
    DataCollection, MaxPrice, Partition, Percentiles, ProviderPreferences, ProviderSort,
    Quantization, SortBy, SortConfig, Threshold,
};

// ---------------------------------------------------------------- allocation counting

/// Counts allocations per thread so planning can be checked allocation-free.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

// ---------------------------------------------------------------- generators

const NOW: Duration = Duration::from_secs(10_000);
const SLUGS: [&str; 6] = ["alpha", "beta", "gamma/x", "gamma/y", "delta", "eps"];
const MODELS: [&str; 3] = ["m/one", "m/two", "m/three"];
const QUANTS: [Quantization; 4] = [
    Quantization::Fp8,
    Quantization::Bf16,
    Quantization::Int4,
    Quantization::Unknown,
];

fn meta() -> impl Strategy<Value = EndpointMeta> {
    (
        (0..SLUGS.len(), 0..MODELS.len(), 0.0f64..20.0, 0.0f64..40.0),
        (any::<bool>(), any::<bool>(), any::<bool>(), 0..QUANTS.len()),
        (
            1_000u32..200_000,
            prop::option::of(500u32..20_000),
            any::<u32>(),
            0u8..32,
        ),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |((s, m, p, c), (collects, zdr, dist, q), (ctx, mo, sup, modal), free)| {
                let mut e = EndpointMeta::new(SLUGS[s], MODELS[m]);
                e.pricing.prompt = if free { 0.0 } else { p };
                e.pricing.completion = if free { 0.0 } else { c };
                e.data = DataPolicy {
                    collects_data: collects,
                    zdr,
                    distillable: dist,
                };
                e.quantization = QUANTS[q];
                e.context_length = ctx;
                e.max_output = mo;
                e.supported = ParamSet(sup & ParamSet::ALL.0);
                e.input_modalities = Modalities(modal | 1);
                e
            },
        )
}

fn slug_list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            (0..SLUGS.len()).prop_map(|i| SLUGS[i].to_string()),
            Just("gamma".to_string()),
        ],
        0..3,
    )
}

fn threshold() -> impl Strategy<Value = Threshold> {
    prop_oneof![
        (0.0f64..200.0).prop_map(Threshold::Value),
        (
            prop::option::of(0.0f64..200.0),
            prop::option::of(0.0f64..200.0),
            prop::option::of(0.0f64..200.0),
            prop::option::of(0.0f64..200.0),
        )
            .prop_map(|(a, b, c, d)| Threshold::Percentiles(Percentiles {
                p50: a,
                p75: b,
                p90: c,
                p99: d,
            })),
    ]
}

fn sort() -> impl Strategy<Value = Option<ProviderSort>> {
    let by = prop_oneof![
        Just(SortBy::Price),
        Just(SortBy::Throughput),
        Just(SortBy::Latency),
        Just(SortBy::Exacto),
    ];
    prop::option::of(prop_oneof![
        by.clone().prop_map(ProviderSort::By),
        (prop::option::of(by), any::<bool>()).prop_map(|(b, none)| ProviderSort::Config(
            SortConfig {
                by: b,
                partition: Some(if none {
                    Partition::None
                } else {
                    Partition::Model
                }),
            }
        )),
    ])
}

fn prefs() -> impl Strategy<Value = ProviderPreferences> {
    (
        (
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
        ),
        (
            prop::option::of(slug_list()),
            prop::option::of(slug_list()),
            prop::option::of(slug_list()),
            prop::option::of(prop::collection::vec(0..QUANTS.len(), 0..3)),
        ),
        (
            prop::option::of((
                prop::option::of(0.0f64..20.0),
                prop::option::of(0.0f64..40.0),
            )),
            sort(),
            prop::option::of(any::<bool>()),
        ),
        (prop::option::of(threshold()), prop::option::of(threshold())),
    )
        .prop_map(
            |((deny, zdr, req, dist), (only, ignore, order, q), (mp, sort, af), (tp, lat))| {
                ProviderPreferences {
                    data_collection: deny.map(|d| {
                        if d {
                            DataCollection::Deny
                        } else {
                            DataCollection::Allow
                        }
                    }),
                    zdr,
                    require_parameters: req,
                    enforce_distillable_text: dist,
                    only,
                    ignore,
                    order,
                    quantizations: q.map(|v| v.into_iter().map(|i| QUANTS[i]).collect()),
                    max_price: mp.map(|(p, c)| MaxPrice {
                        prompt: p,
                        completion: c,
                        ..Default::default()
                    }),
                    sort,
                    allow_fallbacks: af,
                    preferred_min_throughput: tp,
                    preferred_max_latency: lat.map(|t| match t {
                        // Latency cutoffs are seconds.
                        Threshold::Value(v) => Threshold::Value(v / 50.0),
                        t => t,
                    }),
                }
            },
        )
}

fn stats() -> impl Strategy<Value = EndpointStats> {
    let t = |max: u64| {
        prop::option::of(
            (0u64..max).prop_map(|s| NOW + Duration::from_secs(s) - Duration::from_secs(20)),
        )
    };
    (
        (t(60), t(60), t(600), prop::bool::weighted(0.2)),
        prop::option::of((1.0f32..5000.0, 1.0f32..300.0, 0u32..60)),
    )
        .prop_map(|((unstable, rl, open, probe_busy), perf)| {
            let mut s = EndpointStats {
                unstable_until: unstable,
                rate_limited_until: rl,
                open_until: open,
                probe_busy_until: probe_busy.then_some(NOW + Duration::from_secs(5)),
                ..Default::default()
            };
            if let Some((ttft, tps, n)) = perf {
                s.ttft_ms = Some(Quantiles {
                    p50: ttft,
                    p75: ttft * 1.3,
                    p90: ttft * 1.7,
                    p99: ttft * 3.0,
                });
                s.ttft_n = n;
                s.tokens_per_sec = Some(Quantiles {
                    p50: tps,
                    p75: tps * 0.9,
                    p90: tps * 0.7,
                    p99: tps * 0.4,
                });
                s.tokens_per_sec_n = n;
            }
            s.state = s.state_at(NOW);
            s
        })
}

fn features() -> impl Strategy<Value = RequestFeatures> {
    (
        0u32..50_000,
        prop::option::of(1u32..8_000),
        any::<u32>(),
        0u8..4,
    )
        .prop_map(|(p, mo, params, modal)| RequestFeatures {
            prompt_tokens: p,
            max_output_tokens: mo,
            // Few parameters per request, like real traffic.
            params: ParamSet(
                params & params.rotate_left(7) & params.rotate_left(13) & ParamSet::ALL.0,
            ),
            input: Modalities(1 | (modal << 1)),
            eu_only: false,
        })
}

#[derive(Debug, Clone)]
struct World {
    eps: Vec<EndpointMeta>,
    stats: Vec<EndpointStats>,
    prefs: ProviderPreferences,
    features: RequestFeatures,
    models: Vec<String>,
    affinity: Option<u32>,
}

fn world() -> impl Strategy<Value = World> {
    prop::collection::vec((meta(), stats()), 1..24)
        .prop_flat_map(|v| {
            let n = v.len() as u32;
            (
                Just(v),
                prefs(),
                features(),
                prop::collection::vec(0..MODELS.len(), 1..4),
                prop::option::of(0..n),
            )
        })
        .prop_map(|(v, prefs, features, ms, affinity)| {
            let (eps, stats) = v.into_iter().unzip();
            World {
                eps,
                stats,
                prefs,
                features,
                models: ms.into_iter().map(|i| MODELS[i].to_string()).collect(),
                affinity,
            }
        })
}

impl World {
    fn plan(&self, seed: u64) -> (EndpointRegistry, Result<Plan, switchyard::routing::NoRoute>) {
        let reg = EndpointRegistry::from_endpoints(self.eps.clone());
        let snap = HealthSnapshot::from_stats(NOW, self.stats.clone());
        let p = plan(
            &self.features,
            &reg,
            &snap,
            &self.prefs,
            &self.models,
            self.affinity.map(EndpointId),
            &mut SplitMix64::new(seed),
            NOW,
        );
        (reg, p)
    }
}

/// Independent statement of the hard filters that must hold for every planned endpoint.
fn violates_hard_filters(
    e: &EndpointMeta,
    p: &ProviderPreferences,
    f: &RequestFeatures,
) -> Option<&'static str> {
    let names = |l: &Option<Vec<String>>, e: &EndpointMeta| {
        l.as_ref().map(|l| {
            l.iter().any(|s| {
                s == &e.provider_slug
                    || (!s.contains('/') && e.provider_slug.split('/').next() == Some(s.as_str()))
            })
        })
    };
    if p.data_collection == Some(DataCollection::Deny) && e.data.collects_data {
        return Some("data_collection");
    }
    if p.zdr == Some(true) && !e.data.zdr {
        return Some("zdr");
    }
    if p.enforce_distillable_text == Some(true) && !e.data.distillable {
        return Some("distillable");
    }
    if names(&p.ignore, e) == Some(true) {
        return Some("ignore");
    }
    if names(&p.only, e) == Some(false) {
        return Some("only");
    }
    if p.quantizations
        .as_ref()
        .is_some_and(|q| !q.contains(&e.quantization))
    {
        return Some("quantizations");
    }
    if let Some(mp) = &p.max_price
        && (mp.prompt.is_some_and(|m| e.pricing.prompt > m)
            || mp.completion.is_some_and(|m| e.pricing.completion > m))
    {
        return Some("max_price");
    }
    if p.require_parameters == Some(true) && !e.supported.contains(f.params) {
        return Some("require_parameters");
    }
    if !e.input_modalities.contains(f.input) {
        return Some("modality");
    }
    if u64::from(f.prompt_tokens) + u64::from(f.max_output_tokens.unwrap_or(0))
        > u64::from(e.context_length)
    {
        return Some("context");
    }
    if p.allow_fallbacks == Some(false)
        && p.order.as_ref().is_some_and(|o| !o.is_empty())
        && names(&p.order, e) == Some(false)
    {
        return Some("order");
    }
    None
}

fn healthy_tier(t: Tier) -> bool {
    matches!(t, Tier::Preferred | Tier::Demoted(_))
}

// ---------------------------------------------------------------- planner properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Same seed + same inputs ⇒ identical plan (or identical error).
    #[test]
    fn deterministic(w in world(), seed in any::<u64>()) {
        prop_assert_eq!(w.plan(seed).1, w.plan(seed).1);
    }

    /// Hard filters hold for every planned entry, last resort included, and every endpoint of
    /// the requested models gets exactly one reason.
    #[test]
    fn privacy_and_hard_filters_are_absolute(w in world(), seed in any::<u64>()) {
        let (reg, res) = w.plan(seed);
        let served = reg.iter().filter(|(_, m)| w.models.contains(&m.model)).count();
        match res {
            Ok(p) => {
                for e in &p.entries {
                    let v = violates_hard_filters(reg.get(e.id), &w.prefs, &w.features);
                    prop_assert!(v.is_none(), "{:?} violates {:?} ({:?})", e.id, v, e.rank_reason.tier);
                }
                let mut all: Vec<u32> = p.ids().chain(p.excluded.iter().map(|x| x.0)).map(|i| i.0).collect();
                all.sort_unstable();
                let before = all.len();
                all.dedup();
                prop_assert_eq!(before, all.len(), "an endpoint listed twice");
                prop_assert_eq!(all.len(), served);
            }
            Err(e) => {
                prop_assert_eq!(e.considered, served);
                let removed: u32 = e.removed.iter().map(|r| r.1).sum();
                prop_assert_eq!(removed as usize, served);
            }
        }
    }

    /// Thresholds never change which endpoints run, and inside a group every healthy endpoint
    /// missing a preference ranks after every healthy one meeting them all.
    #[test]
    fn thresholds_demote_never_exclude(w in world(), seed in any::<u64>()) {
        let (_, with) = w.plan(seed);
        let mut w2 = w.clone();
        w2.prefs.preferred_max_latency = None;
        w2.prefs.preferred_min_throughput = None;
        let (_, without) = w2.plan(seed);
        match (with, without) {
            (Ok(a), Ok(b)) => {
                let mut x: Vec<_> = a.ids().collect();
                let mut y: Vec<_> = b.ids().collect();
                x.sort();
                y.sort();
                let first_only = w.prefs.allow_fallbacks == Some(false)
                    && w.prefs.order.as_ref().is_none_or(|o| o.is_empty());
                if first_only {
                    // Only the first choice per model runs; thresholds may change which.
                    prop_assert_eq!(x.len(), y.len());
                } else {
                    prop_assert_eq!(x, y);
                }
                let partition_none = matches!(w.prefs.sort, Some(ProviderSort::Config(SortConfig { partition: Some(Partition::None), .. })));
                for (i, e) in a.entries.iter().enumerate() {
                    if !matches!(e.rank_reason.tier, Tier::Demoted(_))
                        || e.rank_reason.basis == switchyard::routing::Basis::Affinity
                    {
                        continue;
                    }
                    for later in &a.entries[i + 1..] {
                        let same_group = partition_none || later.rank_reason.model_index == e.rank_reason.model_index;
                        let affine = matches!(later.rank_reason.basis, switchyard::routing::Basis::Affinity);
                        prop_assert!(
                            !(same_group && !affine && later.rank_reason.tier == Tier::Preferred),
                            "preferred {:?} after demoted {:?}", later.id, e.id
                        );
                    }
                }
            }
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "thresholds changed routability: {:?} vs {:?}", a.is_ok(), b.is_ok()),
        }
    }

    /// partition=model: every non-last-resort entry of model i precedes those of model i+1;
    /// partition=none with sort=price: healthy entries of one tier are in global price order.
    #[test]
    fn partitions(mut w in world(), none in any::<bool>(), seed in any::<u64>()) {
        w.prefs.order = None;
        w.affinity = None;
        w.prefs.sort = Some(ProviderSort::Config(SortConfig {
            by: Some(SortBy::Price),
            partition: Some(if none { Partition::None } else { Partition::Model }),
        }));
        let (_, res) = w.plan(seed);
        let Ok(p) = res else { return Ok(()) };
        let main: Vec<_> = p.entries.iter().filter(|e| !matches!(e.rank_reason.tier, Tier::LastResort(_))).collect();
        if none {
            for pair in main.windows(2) {
                let (a, b) = (pair[0].rank_reason, pair[1].rank_reason);
                if a.tier == b.tier {
                    prop_assert!(a.price <= b.price, "{:?} then {:?}", a, b);
                }
            }
        } else {
            for pair in main.windows(2) {
                prop_assert!(pair[0].rank_reason.model_index <= pair[1].rank_reason.model_index);
            }
        }
        // Last-resort entries always come after everything else.
        let first_last = p.entries.iter().position(|e| matches!(e.rank_reason.tier, Tier::LastResort(_)));
        if let Some(i) = first_last {
            prop_assert!(p.entries[i..].iter().all(|e| matches!(e.rank_reason.tier, Tier::LastResort(_))));
        }
    }

    /// A healthy affinity endpoint that passes the filters leads its model's group.
    #[test]
    fn affinity_leads_while_healthy(mut w in world(), seed in any::<u64>()) {
        w.prefs.order = None;
        w.prefs.allow_fallbacks = None;
        let Some(a) = w.affinity else { return Ok(()) };
        let (_, res) = w.plan(seed);
        let Ok(p) = res else { return Ok(()) };
        let Some(pos) = p.ids().position(|i| i.0 == a) else { return Ok(()) };
        let e = p.entries[pos];
        let healthy = w.stats[a as usize].state_at(NOW) == HealthState::Healthy;
        prop_assert_eq!(healthy, e.rank_reason.basis == switchyard::routing::Basis::Affinity);
        if healthy {
            let partition_none = matches!(w.prefs.sort, Some(ProviderSort::Config(SortConfig { partition: Some(Partition::None), .. })));
            let first_of_group = p.entries.iter().position(|x| partition_none || x.rank_reason.model_index == e.rank_reason.model_index);
            prop_assert_eq!(first_of_group, Some(pos));
        }
    }

    /// Degraded and last-resort entries never precede a healthy one of the same group.
    #[test]
    fn unhealthy_goes_last(w in world(), seed in any::<u64>()) {
        let (_, res) = w.plan(seed);
        let Ok(p) = res else { return Ok(()) };
        let partition_none = matches!(w.prefs.sort, Some(ProviderSort::Config(SortConfig { partition: Some(Partition::None), .. })));
        for (i, e) in p.entries.iter().enumerate() {
            if healthy_tier(e.rank_reason.tier) {
                continue;
            }
            for later in &p.entries[i + 1..] {
                let same = partition_none || later.rank_reason.model_index == e.rank_reason.model_index;
                prop_assert!(!(same && healthy_tier(later.rank_reason.tier)), "{:?} before {:?}", e, later);
            }
        }
    }
}

// ---------------------------------------------------------------- price weighting

fn stable_three(unstable_b: bool) -> (EndpointRegistry, HealthSnapshot) {
    let eps: Vec<EndpointMeta> = [("a", 1.0), ("b", 2.0), ("c", 3.0)]
        .iter()
        .map(|(s, p)| EndpointMeta::new(*s, "m/one").with_prices(*p, *p))
        .collect();
    let mut stats = vec![EndpointStats::default(); 3];
    if unstable_b {
        stats[1].unstable_until = Some(NOW + Duration::from_secs(20));
    }
    (
        EndpointRegistry::from_endpoints(eps),
        HealthSnapshot::from_stats(NOW, stats),
    )
}

fn shares(unstable_b: bool, n: u32) -> [f64; 3] {
    let (reg, snap) = stable_three(unstable_b);
    let features = RequestFeatures {
        prompt_tokens: 2000,
        ..Default::default()
    };
    let prefs = ProviderPreferences::default();
    let models = vec!["m/one".to_string()];
    let req = PlanRequest {
        features: &features,
        prefs: &prefs,
        models: &models,
        affinity: None,
    };
    let mut planner = Planner::new();
    let mut out = Plan::default();
    let mut counts = [0u32; 3];
    for seed in 0..u64::from(n) {
        planner
            .plan_into(&req, &reg, &snap, &mut SplitMix64::new(seed), NOW, &mut out)
            .unwrap();
        counts[out.entries[0].id.index()] += 1;
        if unstable_b {
            assert_eq!(
                out.entries[2].id,
                EndpointId(1),
                "unstable endpoint must be last"
            );
        }
    }
    counts.map(|c| f64::from(c) / f64::from(n))
}

#[test]
fn first_pick_shares_match_inverse_square_price() {
    let s = shares(false, 100_000);
    for (got, want) in s.iter().zip([73.47, 18.37, 8.16]) {
        assert!((got * 100.0 - want).abs() <= 0.5, "{s:?}");
    }
    // Chi-square against 1 : 1/4 : 1/9 (2 d.o.f., p > 0.01 ⇔ χ² < 9.21).
    let w = [1.0, 0.25, 1.0 / 9.0];
    let tot: f64 = w.iter().sum();
    let chi: f64 = s
        .iter()
        .zip(w)
        .map(|(o, w)| {
            let e = w / tot * 100_000.0;
            (o * 100_000.0 - e).powi(2) / e
        })
        .sum();
    assert!(chi < 9.21, "chi² = {chi}");
}

#[test]
fn unstable_middle_gives_ninety_ten() {
    let s = shares(true, 100_000);
    assert!(
        (s[0] * 100.0 - 90.0).abs() <= 0.5 && (s[2] * 100.0 - 10.0).abs() <= 0.5 && s[1] == 0.0,
        "{s:?}"
    );
}

// ---------------------------------------------------------------- health properties

const A: EndpointId = EndpointId(0);

fn ok_tps(tps: f64) -> Outcome {
    Outcome::Success(Sample {
        decode_tokens_per_sec: Some(tps),
        ..Default::default()
    })
}

fn exact(mut v: Vec<f32>) -> [f32; 4] {
    v.sort_by(f32::total_cmp);
    let n = v.len();
    [0.5, 0.75, 0.9, 0.99].map(|q: f64| v[((q * n as f64).ceil() as usize).clamp(1, n) - 1])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// One failure at t0 counts while now < t0 + 30 s (at least) and not from t0 + 31 s.
    #[test]
    fn thirty_second_window(t0_ms in 0u64..10_000_000, d_ms in 0u64..120_000) {
        let mut h = HealthTracker::new(HealthConfig::default());
        let t0 = Duration::from_millis(t0_ms);
        h.record(A, t0, &Outcome::Connect);
        let state = h.state(A, t0 + Duration::from_millis(d_ms));
        if d_ms < 30_000 {
            prop_assert!(matches!(state, HealthState::Unstable { .. }), "d={d_ms} {state:?}");
        } else if d_ms >= 31_000 {
            prop_assert_eq!(state, HealthState::Healthy);
        }
    }

    /// While the window holds ≤ RAW_CAP samples, percentiles equal exact nearest-rank over
    /// the live samples, with exact 5-minute expiry.
    #[test]
    fn percentiles_exact_when_few(
        samples in prop::collection::vec((0u64..600_000, 1u32..10_000), 1..RAW_CAP),
        now_off in 0u64..700_000,
    ) {
        let mut samples = samples;
        samples.sort_by_key(|s| s.0);
        let mut h = HealthTracker::new(HealthConfig::default());
        for &(t, v) in &samples {
            h.record(A, Duration::from_millis(t), &ok_tps(f64::from(v)));
        }
        let last = samples.last().unwrap().0;
        let now = last + now_off;
        let live: Vec<f32> = samples.iter().filter(|(t, _)| t + WINDOW_MS > now).map(|s| s.1 as f32).collect();
        let st = h.stats(A, Duration::from_millis(now));
        prop_assert_eq!(st.tokens_per_sec_n as usize, live.len());
        if live.is_empty() {
            prop_assert_eq!(st.tokens_per_sec, None);
        } else {
            let q = st.tokens_per_sec.unwrap();
            prop_assert_eq!([q.p50, q.p75, q.p90, q.p99], exact(live));
        }
    }

    /// Past RAW_CAP samples in the window, every percentile stays within the bucket error.
    #[test]
    fn percentiles_bounded_error_when_many(
        values in prop::collection::vec(1u32..100_000, RAW_CAP..2_000),
    ) {
        let mut h = HealthTracker::new(HealthConfig::default());
        for (i, &v) in values.iter().enumerate() {
            h.record(A, Duration::from_millis(i as u64 * 50), &ok_tps(f64::from(v)));
        }
        let now = Duration::from_millis(values.len() as u64 * 50);
        let st = h.stats(A, now);
        prop_assert_eq!(st.tokens_per_sec_n as usize, values.len());
        let q = st.tokens_per_sec.unwrap();
        let ex = exact(values.iter().map(|&v| v as f32).collect());
        for (est, ex) in [q.p50, q.p75, q.p90, q.p99].iter().zip(ex) {
            prop_assert!(f64::from(((est - ex) / ex).abs()) <= HIST_REL_ERROR + 1e-6, "{est} vs {ex}");
        }
    }

    /// 429s, whatever their timing, leave the latency/throughput stats exactly as the
    /// successes alone make them.
    #[test]
    fn rate_limits_never_improve_latency(
        events in prop::collection::vec((any::<bool>(), 1u64..5_000), 1..80),
    ) {
        let mut mixed = HealthTracker::new(HealthConfig::default());
        let mut clean = HealthTracker::new(HealthConfig::default());
        for (i, &(is_429, ms)) in events.iter().enumerate() {
            let now = Duration::from_secs(i as u64);
            if is_429 {
                // A 429 arrives fast: if it were a latency sample it would look great.
                mixed.record(A, now, &Outcome::RateLimited { retry_after: None });
            } else {
                let o = Outcome::Success(Sample {
                    ttft: Some(Duration::from_millis(ms)),
                    decode_tokens_per_sec: Some(50.0),
                    end_to_end: Some(Duration::from_millis(ms * 4)),
                });
                mixed.record(A, now, &o);
                clean.record(A, now, &o);
            }
        }
        let now = Duration::from_secs(events.len() as u64);
        let (a, b) = (mixed.stats(A, now), clean.stats(A, now));
        prop_assert_eq!((a.ttft_ms, a.ttft_n, a.e2e_ms), (b.ttft_ms, b.ttft_n, b.e2e_ms));
        prop_assert_eq!(a.tokens_per_sec, b.tokens_per_sec);
    }

    /// Open time doubles per re-open within jitter, never exceeds the cap, and half-open
    /// admits exactly one probe (only with a fallback) however many callers ask.
    #[test]
    fn breaker_doubling_cap_and_single_probe(
        base_s in 1u64..60, cap_mult in 1u64..20, jitter in 0.0f64..0.5, seed in any::<u64>(),
        callers in 1usize..10, cycles in 1u32..10,
    ) {
        let cfg = HealthConfig {
            open_base: Duration::from_secs(base_s),
            open_cap: Duration::from_secs(base_s * cap_mult),
            open_jitter: jitter,
            seed,
            ..HealthConfig::default()
        };
        let mut h = HealthTracker::new(cfg);
        let mut now = Duration::from_secs(1);
        for _ in 0..cfg.open_after_consecutive {
            h.record(A, now, &Outcome::ServerError { status: 502 });
        }
        for n in 1..=cycles {
            let HealthState::Open { until } = h.state(A, now) else {
                return Err(TestCaseError::fail(format!("not open at n={n}")));
            };
            let d = (until - now).as_secs_f64();
            let nominal = (base_s as f64 * 2f64.powi(n as i32 - 1)).min(cfg.open_cap.as_secs_f64());
            prop_assert!(d >= nominal * (1.0 - jitter) - 1e-6, "n={n} d={d} nominal={nominal}");
            prop_assert!(d <= (nominal * (1.0 + jitter)).min(cfg.open_cap.as_secs_f64()) + 1e-6);
            now = until;
            prop_assert!(!h.try_probe(A, now, false));
            let admitted = (0..callers).filter(|_| h.try_probe(A, now, true)).count();
            prop_assert_eq!(admitted, 1);
            h.record(A, now, &Outcome::Timeout);
        }
    }
}

// ---------------------------------------------------------------- allocation-free planning

fn big_world(n: usize) -> (EndpointRegistry, HealthSnapshot) {
    let models = 5;
    let eps: Vec<EndpointMeta> = (0..n)
        .map(|i| {
            let mut e =
                EndpointMeta::new(format!("prov{}/{}", i % 37, i), format!("m/{}", i % models))
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
            h.record(
                id,
                NOW - Duration::from_secs(100 - k),
                &Outcome::Success(Sample {
                    ttft: Some(Duration::from_millis(200 + (i as u64 * 37 + k * 11) % 900)),
                    decode_tokens_per_sec: Some(20.0 + ((i * 13) % 150) as f64),
                    end_to_end: None,
                }),
            );
        }
        if i % 11 == 0 {
            h.record(id, NOW - Duration::from_secs(5), &Outcome::Connect);
        }
    }
    let snap = h.snapshot(n, NOW);
    (EndpointRegistry::from_endpoints(eps), snap)
}

#[test]
fn planning_is_allocation_free_after_warmup() {
    let (reg, snap) = big_world(500);
    let models: Vec<String> = (0..5).map(|i| format!("m/{i}")).collect();
    let features = RequestFeatures {
        prompt_tokens: 3000,
        max_output_tokens: Some(1000),
        params: ParamSet::TOOLS,
        input: Modalities::TEXT,
        eu_only: false,
    };
    let variants = [
        ProviderPreferences::default(),
        ProviderPreferences {
            sort: Some(ProviderSort::By(SortBy::Throughput)),
            data_collection: Some(DataCollection::Deny),
            preferred_max_latency: Some(Threshold::Value(0.6)),
            ..Default::default()
        },
        ProviderPreferences {
            order: Some(vec!["prov3".into(), "prov7".into()]),
            ignore: Some(vec!["prov1".into()]),
            ..Default::default()
        },
    ];
    let mut planner = Planner::new();
    let mut out = Plan::default();
    let mut rng = SplitMix64::new(1);
    for prefs in &variants {
        let req = PlanRequest {
            features: &features,
            prefs,
            models: &models,
            affinity: Some(EndpointId(42)),
        };
        // Warm-up sizes every buffer.
        planner
            .plan_into(&req, &reg, &snap, &mut rng, NOW, &mut out)
            .unwrap();
        let before = allocs();
        for _ in 0..50 {
            planner
                .plan_into(&req, &reg, &snap, &mut rng, NOW, &mut out)
                .unwrap();
        }
        assert_eq!(allocs() - before, 0, "plan_into allocated with {prefs:?}");
        assert!(!out.entries.is_empty());
    }
}
