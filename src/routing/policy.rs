//! The pure planner: which endpoints a request may use, in what order, and why.
//!
//! Pipeline (OpenRouter semantics, ROUTING.md §1 and §12.2):
//! 1. **Hard filters**, never relaxed, evaluated in [`ExclusionRule`] order (privacy first); an
//!    excluded endpoint is attributed to the first rule it breaks.
//! 2. **Groups**: with `partition: model` (the default) endpoints are grouped by model in
//!    `models` order; with `partition: none` all models form one group. Breaker-open endpoints
//!    (and half-open ones whose probe is taken) go after every group, as a last resort, in
//!    model order.
//! 3. **Tiers** inside a group: affinity first, then *preferred* (healthy, meets every
//!    preference), then *demoted* (healthy but misses a throughput/latency threshold or lacks a
//!    soft capability such as tools), then *degraded* (unstable or rate-limited). Thresholds
//!    and health only reorder; they never exclude.
//! 4. **Order inside a tier**: `provider.order` position first, then the sort criterion, then
//!    price, then slug. Without `sort` and `order`, the first entry of each group's preferred
//!    tier is a random pick weighted by `1/price²` ([`PRICE_FLOOR`] keeps free endpoints
//!    finite), the rest follow by that weight.
//!
//! Definitions:
//! - **Price** ([`effective_price`]): USD per million tokens of this request's expected mix:
//!   `(P·prompt + C·completion)/(P + C) + request·10⁶/(P + C)`, with `P` the estimated prompt
//!   tokens and `C = min(max_output_tokens, 1000)` (1000 when unset). Uniform price ratios
//!   keep their ratio, so $1/$2/$3 endpoints get 73.5/18.4/8.2 % of first picks.
//! - **No data**: a percentile is used only with enough local samples ([`MIN_SAMPLES`]: 3 for
//!   p50, 4 for p75, 10 for p90, 50 for p99), else the endpoint's published prior, else it is
//!   unknown. Unknown values meet every threshold, and sort after known ones under
//!   `sort: throughput|latency`.
//! - **Affinity** keeps a conversation's endpoint first in its group while it is `Healthy` and
//!   passes the hard filters; an explicit `order` overrides it. The caller decides when affinity
//!   expires (e.g. 10 min of inactivity) by passing `None`.
//! - **Half-open** endpoints whose probe is free keep their natural rank with `probe: true`
//!   when some other non-probe, non-last-resort entry exists; the executor must then call
//!   [`HealthTracker::try_probe`](super::HealthTracker::try_probe) and skip the entry if denied.
//! - `sort: exacto` has no client-side quality signal yet and behaves like the default.
//! - `allow_fallbacks: false` keeps only endpoints listed in `order`, or without `order` only
//!   the first-ranked endpoint of each model.

use std::fmt;
use std::time::Duration;

use crate::wire::request::{
    ChatRequest, ContentPart, DataCollection, MessageContent, Partition, ProviderPreferences,
    ProviderSort, ResponseFormat, SortBy, Threshold,
};

use super::Rng;
use super::endpoint::{EndpointId, EndpointMeta, EndpointRegistry, Modalities, ParamSet, Pricing};
use super::health::{EndpointStats, HealthSnapshot, HealthState, Quantiles};

/// Prices below this (USD/M) count as this, so `1/price²` stays finite for free endpoints.
pub const PRICE_FLOOR: f64 = 1e-3;
/// Output tokens assumed when pricing a request (capped by its `max_output_tokens`).
pub const EXPECTED_OUTPUT_TOKENS: u32 = 1000;
/// Local samples needed before p50/p75/p90/p99 is trusted for routing.
pub const MIN_SAMPLES: [u32; 4] = [3, 4, 10, 50];

/// What the planner needs to know about a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFeatures {
    /// Estimated prompt tokens.
    pub prompt_tokens: u32,
    /// Requested output cap.
    pub max_output_tokens: Option<u32>,
    /// Parameters the request uses.
    pub params: ParamSet,
    /// Input modalities the request contains (text is implied).
    pub input: Modalities,
    /// Only endpoints that process in the EU (not a body field: OpenRouter takes it as a host).
    pub eu_only: bool,
}

impl RequestFeatures {
    /// Derives features from a request body; prompt tokens are estimated as characters / 4
    /// plus 4 per message and 1000 per image (deliberately generous for context checks).
    pub fn from_request(req: &ChatRequest) -> Self {
        let mut chars = 0usize;
        let mut extra = 0u64;
        let mut input = Modalities::TEXT;
        for m in &req.messages {
            extra += 4;
            match &m.content {
                MessageContent::Text(t) => chars += t.len(),
                MessageContent::Parts(parts) => {
                    for p in parts {
                        match p {
                            ContentPart::Text { text, .. } => chars += text.len(),
                            ContentPart::ImageUrl { .. } => {
                                input = input.union(Modalities::IMAGE);
                                extra += 1000;
                            }
                            ContentPart::File { .. } => input = input.union(Modalities::FILE),
                            ContentPart::InputAudio { .. } => {
                                input = input.union(Modalities::AUDIO)
                            }
                            ContentPart::Other(v) => {
                                if v.get("type").and_then(|t| t.as_str()) == Some("video_url") {
                                    input = input.union(Modalities::VIDEO);
                                }
                            }
                        }
                    }
                }
            }
            if let Some(calls) = &m.tool_calls {
                chars += serde_json::to_string(calls).map_or(0, |s| s.len());
            }
        }
        let mut params = ParamSet::EMPTY;
        let mut add = |cond: bool, p: ParamSet| {
            if cond {
                params = params.union(p);
            }
        };
        if let Some(tools) = &req.tools {
            chars += serde_json::to_string(tools).map_or(0, |s| s.len());
        }
        add(req.tools.is_some(), ParamSet::TOOLS);
        add(req.tool_choice.is_some(), ParamSet::TOOL_CHOICE);
        add(
            req.parallel_tool_calls.is_some(),
            ParamSet::PARALLEL_TOOL_CALLS,
        );
        match &req.response_format {
            Some(ResponseFormat::JsonSchema { .. }) => add(
                true,
                ParamSet::RESPONSE_FORMAT.union(ParamSet::STRUCTURED_OUTPUTS),
            ),
            Some(ResponseFormat::JsonObject) => add(true, ParamSet::RESPONSE_FORMAT),
            _ => {}
        }
        add(req.reasoning.is_some(), ParamSet::REASONING);
        add(req.temperature.is_some(), ParamSet::TEMPERATURE);
        add(req.top_p.is_some(), ParamSet::TOP_P);
        add(req.top_k.is_some(), ParamSet::TOP_K);
        add(req.frequency_penalty.is_some(), ParamSet::FREQUENCY_PENALTY);
        add(req.presence_penalty.is_some(), ParamSet::PRESENCE_PENALTY);
        add(
            req.repetition_penalty.is_some(),
            ParamSet::REPETITION_PENALTY,
        );
        add(req.min_p.is_some(), ParamSet::MIN_P);
        add(req.top_a.is_some(), ParamSet::TOP_A);
        add(req.seed.is_some(), ParamSet::SEED);
        add(req.logit_bias.is_some(), ParamSet::LOGIT_BIAS);
        add(req.logprobs.is_some(), ParamSet::LOGPROBS);
        add(req.top_logprobs.is_some(), ParamSet::TOP_LOGPROBS);
        add(req.stop.is_some(), ParamSet::STOP);
        let max_output_tokens = req.max_completion_tokens.or(req.max_tokens);
        add(max_output_tokens.is_some(), ParamSet::MAX_TOKENS);
        let tokens = (chars as u64).div_ceil(4) + extra;
        Self {
            prompt_tokens: u32::try_from(tokens).unwrap_or(u32::MAX),
            max_output_tokens,
            params,
            input,
            eu_only: false,
        }
    }
}

/// A hard filter that removed an endpoint (declaration order = evaluation order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExclusionRule {
    /// `data_collection: deny` and the endpoint stores or trains on data.
    DataCollection,
    /// `zdr: true` and the endpoint is not zero-data-retention.
    Zdr,
    /// `enforce_distillable_text` and the model forbids distillation.
    Distillable,
    /// Named in `ignore`.
    Ignored,
    /// Not named in `only`.
    NotInOnly,
    /// Quantization not in `quantizations`.
    Quantization,
    /// A price above `max_price`.
    MaxPrice,
    /// `max_price` is set and the endpoint's prices are unknown, so it cannot be checked.
    PriceUnknown,
    /// `require_parameters` and a used parameter is unsupported.
    MissingParameters,
    /// An input modality the endpoint does not accept.
    Modality,
    /// Prompt + max output exceeds the context window.
    ContextLength,
    /// Max output exceeds what the endpoint can produce.
    MaxOutput,
    /// `allow_fallbacks: false` and not named in `order`.
    NotInOrder,
    /// `allow_fallbacks: false` without `order`: not the first choice of its model.
    FallbacksDisabled,
    /// EU processing asked for, and the endpoint's region is not in the EU (or unknown).
    OutsideEu,
}

impl ExclusionRule {
    const COUNT: usize = 15;
    const ALL: [Self; Self::COUNT] = [
        Self::DataCollection,
        Self::Zdr,
        Self::Distillable,
        Self::Ignored,
        Self::NotInOnly,
        Self::Quantization,
        Self::MaxPrice,
        Self::PriceUnknown,
        Self::MissingParameters,
        Self::Modality,
        Self::ContextLength,
        Self::MaxOutput,
        Self::NotInOrder,
        Self::FallbacksDisabled,
        Self::OutsideEu,
    ];

    /// Stable identifier for scripts (`plan --json`).
    pub fn id(self) -> &'static str {
        match self {
            Self::DataCollection => "data_collection",
            Self::Zdr => "zdr",
            Self::Distillable => "distillable",
            Self::Ignored => "ignored",
            Self::NotInOnly => "not_in_only",
            Self::Quantization => "quantization",
            Self::MaxPrice => "max_price",
            Self::PriceUnknown => "price_unknown",
            Self::MissingParameters => "missing_parameters",
            Self::Modality => "modality",
            Self::ContextLength => "context_length",
            Self::MaxOutput => "max_output",
            Self::NotInOrder => "not_in_order",
            Self::FallbacksDisabled => "fallbacks_disabled",
            Self::OutsideEu => "outside_eu",
        }
    }

    /// Short description for errors and the UI.
    pub fn describe(self) -> &'static str {
        match self {
            Self::DataCollection => "data_collection: deny",
            Self::Zdr => "zdr",
            Self::Distillable => "enforce_distillable_text",
            Self::Ignored => "ignore",
            Self::NotInOnly => "only",
            Self::Quantization => "quantizations",
            Self::MaxPrice => "max_price",
            Self::PriceUnknown => "max_price (the price is unknown, so it cannot be checked)",
            Self::MissingParameters => "require_parameters (lacks a parameter the request uses)",
            Self::Modality => "input modality",
            Self::ContextLength => "context length",
            Self::MaxOutput => "max output tokens",
            Self::NotInOrder => "order with allow_fallbacks: false",
            Self::FallbacksDisabled => "allow_fallbacks: false",
            Self::OutsideEu => "EU processing (its region is outside the EU or unknown)",
        }
    }
}

/// Nothing qualified: how many endpoints served the models, and what removed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoute {
    /// Endpoints serving any of the requested models (0: no endpoint knows these models).
    pub considered: usize,
    /// Each rule that removed endpoints, with how many (first failing rule per endpoint).
    pub removed: Vec<(ExclusionRule, u32)>,
}

impl fmt::Display for NoRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.considered == 0 {
            return write!(f, "no known endpoint serves the requested models");
        }
        write!(
            f,
            "no endpoint meets the routing requirements (of {}:",
            self.considered
        )?;
        for (i, (rule, n)) in self.removed.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{} removed {n}", rule.describe())?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for NoRoute {}

/// Which soft preferences an endpoint misses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Demotion {
    /// Misses `preferred_min_throughput`.
    pub throughput: bool,
    /// Misses `preferred_max_latency`.
    pub latency: bool,
    /// Lacks tools / response_format support the request uses (without `require_parameters`).
    pub capability: bool,
}

impl Demotion {
    fn any(self) -> bool {
        self.throughput || self.latency || self.capability
    }
}

/// Where an endpoint sits in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Healthy (or half-open with a free probe) and meets every preference.
    Preferred,
    /// Healthy but misses a soft preference.
    Demoted(Demotion),
    /// Unstable or rate-limited.
    Degraded(HealthState),
    /// Breaker open (or half-open with its probe taken): after every group.
    LastResort(HealthState),
}

impl Tier {
    fn rank(self) -> u8 {
        match self {
            Self::Preferred => 1,
            Self::Demoted(_) => 2,
            Self::Degraded(_) => 3,
            Self::LastResort(_) => 4,
        }
    }
}

/// Why an endpoint has its position inside its tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// The conversation's previous endpoint (prompt cache).
    Affinity,
    /// Named at this position of `provider.order`.
    Ordered {
        /// Index in `order`.
        position: u16,
    },
    /// Drawn first by price-weighted random choice with this probability.
    WeightedPick {
        /// Chance it had of being drawn.
        probability: f32,
    },
    /// Placed by its `1/price²` weight.
    ByWeight {
        /// `1/price²`.
        weight: f32,
    },
    /// Placed by `provider.sort`.
    Sorted {
        /// Criterion.
        by: SortBy,
        /// The value sorted on (price USD/M, p50 tokens/s, p50 TTFT ms); `None` = no data.
        key: Option<f32>,
    },
}

/// The full reason for an entry's rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankReason {
    /// Tier inside the group.
    pub tier: Tier,
    /// Position inside the tier.
    pub basis: Basis,
    /// Index of the endpoint's model in `models`.
    pub model_index: u16,
    /// Half-open: dispatch only after `HealthTracker::try_probe` admits it.
    pub probe: bool,
    /// Price used for ranking, USD per million tokens of this request's mix.
    pub price: f32,
}

/// One entry of a plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannedEndpoint {
    /// The endpoint.
    pub id: EndpointId,
    /// Why it is here.
    pub rank_reason: RankReason,
}

/// Ordered attempts plus every excluded endpoint with its rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Endpoints to try, first to last.
    pub entries: Vec<PlannedEndpoint>,
    /// Endpoints removed by a hard filter.
    pub excluded: Vec<(EndpointId, ExclusionRule)>,
}

impl Plan {
    /// Ids in order.
    pub fn ids(&self) -> impl Iterator<Item = EndpointId> + '_ {
        self.entries.iter().map(|e| e.id)
    }

    /// The first choice.
    pub fn first(&self) -> Option<EndpointId> {
        self.entries.first().map(|e| e.id)
    }
}

/// The request-side inputs of planning.
#[derive(Debug, Clone, Copy)]
pub struct PlanRequest<'a> {
    /// Request features.
    pub features: &'a RequestFeatures,
    /// `provider` preferences.
    pub prefs: &'a ProviderPreferences,
    /// Primary model then fallbacks (duplicates ignored).
    pub models: &'a [String],
    /// The conversation's previous endpoint, if still within its cache TTL.
    pub affinity: Option<EndpointId>,
}

#[derive(Debug, Clone, Copy)]
struct Cand {
    key: u128,
    id: EndpointId,
    model: u16,
    tier: Tier,
    basis: Basis,
    weight: f64,
    price: f32,
    probe: bool,
}

/// Planner with reusable scratch space: after warm-up, [`Planner::plan_into`] allocates nothing.
#[derive(Debug, Default)]
pub struct Planner {
    cands: Vec<Cand>,
    seen_model: Vec<bool>,
}

/// Effective price in USD per million tokens for this request (see the module docs).
pub fn effective_price(p: &Pricing, f: &RequestFeatures) -> f64 {
    let out = f64::from(
        f.max_output_tokens
            .map_or(EXPECTED_OUTPUT_TOKENS, |m| m.min(EXPECTED_OUTPUT_TOKENS)),
    );
    let inp = f64::from(f.prompt_tokens);
    let tokens = inp + out;
    if tokens == 0.0 {
        return (3.0 * p.prompt + p.completion) / 4.0;
    }
    (inp * p.prompt + out * p.completion + p.request * 1e6) / tokens
}

/// Order-preserving bits of a non-negative float (NaN and unknown sort last).
fn fkey(v: Option<f32>) -> u32 {
    match v {
        Some(x) if x.is_finite() => x.max(0.0).to_bits(),
        Some(x) if x == f32::INFINITY => 0x7F80_0000,
        _ => u32::MAX,
    }
}

/// A percentile for routing: local if trusted, else the prior, else unknown.
fn metric(local: Option<Quantiles>, n: u32, prior: Option<Quantiles>, i: usize) -> Option<f32> {
    match local {
        Some(q) if n >= MIN_SAMPLES[i] => Some(q.get(i)),
        _ => prior.map(|q| q.get(i)),
    }
}

fn tps(s: &EndpointStats, m: &EndpointMeta, i: usize) -> Option<f32> {
    metric(
        s.tokens_per_sec,
        s.tokens_per_sec_n,
        m.prior.and_then(|p| p.tokens_per_sec),
        i,
    )
}

fn ttft(s: &EndpointStats, m: &EndpointMeta, i: usize) -> Option<f32> {
    metric(s.ttft_ms, s.ttft_n, m.prior.and_then(|p| p.ttft_ms), i)
}

/// All given cutoffs hold (unknown values hold). `higher_is_better` for throughput.
fn meets(
    t: &Threshold,
    scale: f64,
    higher_is_better: bool,
    q: impl Fn(usize) -> Option<f32>,
) -> bool {
    let ok = |i: usize, cut: f64| {
        q(i).is_none_or(|x| {
            let x = f64::from(x);
            if higher_is_better {
                x >= cut * scale
            } else {
                x <= cut * scale
            }
        })
    };
    match t {
        Threshold::Value(v) => ok(0, *v),
        Threshold::Percentiles(p) => [p.p50, p.p75, p.p90, p.p99]
            .iter()
            .enumerate()
            .all(|(i, c)| c.is_none_or(|c| ok(i, c))),
    }
}

/// Whether a region names the EU: `eu`, `eu-west-1`, `europe-west4`, or an EU country code.
pub fn is_eu(region: &str) -> bool {
    const COUNTRIES: [&str; 27] = [
        "at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu", "ie", "it",
        "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se",
    ];
    let r = region.trim().to_ascii_lowercase();
    r == "eu"
        || r.starts_with("eu-")
        || r.starts_with("eu_")
        || r.starts_with("europe")
        || COUNTRIES.contains(&r.as_str())
}

fn hard_filter(
    meta: &EndpointMeta,
    f: &RequestFeatures,
    prefs: &ProviderPreferences,
    order_pos: Option<usize>,
) -> Option<ExclusionRule> {
    use ExclusionRule as R;
    if f.eu_only && !meta.region.as_deref().is_some_and(is_eu) {
        return Some(R::OutsideEu);
    }
    if prefs.data_collection == Some(DataCollection::Deny) && meta.data.collects_data {
        return Some(R::DataCollection);
    }
    if prefs.zdr == Some(true) && !meta.data.zdr {
        return Some(R::Zdr);
    }
    if prefs.enforce_distillable_text == Some(true) && !meta.data.distillable {
        return Some(R::Distillable);
    }
    if prefs
        .ignore
        .as_ref()
        .is_some_and(|l| l.iter().any(|s| meta.matches_slug(s)))
    {
        return Some(R::Ignored);
    }
    if prefs
        .only
        .as_ref()
        .is_some_and(|l| !l.iter().any(|s| meta.matches_slug(s)))
    {
        return Some(R::NotInOnly);
    }
    if prefs
        .quantizations
        .as_ref()
        .is_some_and(|q| !q.contains(&meta.quantization))
    {
        return Some(R::Quantization);
    }
    if let Some(mp) = &prefs.max_price
        && meta.pricing.unknown
        && [mp.prompt, mp.completion, mp.request, mp.image]
            .iter()
            .any(Option::is_some)
    {
        return Some(R::PriceUnknown);
    }
    if let Some(mp) = &prefs.max_price {
        // Anything but "less or equal" (including a NaN price or cap) is over the ceiling.
        let over = |price: f64, cap: Option<f64>| {
            cap.is_some_and(|c| {
                !matches!(
                    price.partial_cmp(&c),
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                )
            })
        };
        let images = f.input.contains(Modalities::IMAGE);
        if over(meta.pricing.prompt, mp.prompt)
            || over(meta.pricing.completion, mp.completion)
            || over(meta.pricing.request, mp.request)
            || (images && over(meta.pricing.image, mp.image))
        {
            return Some(R::MaxPrice);
        }
    }
    if prefs.require_parameters == Some(true) && !meta.supported.contains(f.params) {
        return Some(R::MissingParameters);
    }
    if !meta.input_modalities.contains(f.input) {
        return Some(R::Modality);
    }
    let need = u64::from(f.prompt_tokens) + u64::from(f.max_output_tokens.unwrap_or(0));
    if need > u64::from(meta.context_length) {
        return Some(R::ContextLength);
    }
    if let (Some(want), Some(cap)) = (f.max_output_tokens, meta.max_output)
        && want > cap
    {
        return Some(R::MaxOutput);
    }
    if prefs.allow_fallbacks == Some(false)
        && prefs.order.as_ref().is_some_and(|o| !o.is_empty())
        && order_pos.is_none()
    {
        return Some(R::NotInOrder);
    }
    None
}

/// Parameters whose support OpenRouter prefers even without `require_parameters`.
const SOFT_PARAMS: ParamSet = ParamSet(
    ParamSet::TOOLS.0
        | ParamSet::TOOL_CHOICE.0
        | ParamSet::RESPONSE_FORMAT.0
        | ParamSet::STRUCTURED_OUTPUTS.0,
);

impl Planner {
    /// A planner with empty scratch space.
    pub fn new() -> Self {
        Self::default()
    }

    /// Plans into a fresh [`Plan`].
    pub fn plan(
        &mut self,
        req: &PlanRequest<'_>,
        registry: &EndpointRegistry,
        snapshot: &HealthSnapshot,
        rng: &mut impl Rng,
        now: Duration,
    ) -> Result<Plan, NoRoute> {
        let mut out = Plan::default();
        self.plan_into(req, registry, snapshot, rng, now, &mut out)?;
        Ok(out)
    }

    /// Plans into `out` (cleared first), reusing its buffers and the planner's scratch.
    pub fn plan_into(
        &mut self,
        req: &PlanRequest<'_>,
        registry: &EndpointRegistry,
        snapshot: &HealthSnapshot,
        rng: &mut impl Rng,
        now: Duration,
        out: &mut Plan,
    ) -> Result<(), NoRoute> {
        out.entries.clear();
        out.excluded.clear();
        self.cands.clear();
        let prefs = req.prefs;
        let f = req.features;
        let (sort_by, partition) = match prefs.sort {
            None => (None, Partition::Model),
            Some(ProviderSort::By(b)) => (Some(b), Partition::Model),
            Some(ProviderSort::Config(c)) => (c.by, c.partition.unwrap_or(Partition::Model)),
        };
        let sort_by = sort_by.filter(|b| *b != SortBy::Exacto);
        let order: &[String] = prefs.order.as_deref().unwrap_or(&[]);
        let load_balance = sort_by.is_none() && order.is_empty();
        // Without `require_parameters`, missing tools/response_format support only demotes.
        let soft = if prefs.require_parameters == Some(true) {
            ParamSet::EMPTY
        } else {
            ParamSet(f.params.0 & SOFT_PARAMS.0)
        };
        let mut removed = [0u32; ExclusionRule::COUNT];
        let mut considered = 0usize;

        for (mi, model) in req.models.iter().enumerate() {
            if req.models[..mi].contains(model) {
                continue;
            }
            let mi16 = u16::try_from(mi).unwrap_or(u16::MAX);
            for &id in registry.by_model(model) {
                considered += 1;
                let meta = registry.get(id);
                let order_pos = order.iter().position(|s| meta.matches_slug(s));
                if let Some(rule) = hard_filter(meta, f, prefs, order_pos) {
                    removed[rule as usize] += 1;
                    out.excluded.push((id, rule));
                    continue;
                }
                let stats = snapshot.get(id);
                let state = stats.state_at(now);
                let demotion = Demotion {
                    throughput: prefs
                        .preferred_min_throughput
                        .as_ref()
                        .is_some_and(|t| !meets(t, 1.0, true, |i| tps(stats, meta, i))),
                    latency: prefs
                        .preferred_max_latency
                        .as_ref()
                        .is_some_and(|t| !meets(t, 1000.0, false, |i| ttft(stats, meta, i))),
                    capability: !meta.supported.contains(soft),
                };
                let soft_tier = if demotion.any() {
                    Tier::Demoted(demotion)
                } else {
                    Tier::Preferred
                };
                let (tier, probe) = match state {
                    HealthState::Healthy => (soft_tier, false),
                    HealthState::HalfOpen {
                        probe_available: true,
                    } => (soft_tier, true),
                    HealthState::Unstable { .. } | HealthState::RateLimited { .. } => {
                        (Tier::Degraded(state), false)
                    }
                    HealthState::Open { .. } | HealthState::HalfOpen { .. } => {
                        (Tier::LastResort(state), false)
                    }
                };
                let affine =
                    order.is_empty() && req.affinity == Some(id) && state == HealthState::Healthy;
                let price = effective_price(&meta.pricing, f);
                let weight = 1.0 / price.max(PRICE_FLOOR).powi(2);
                let (basis, primary) = match sort_by {
                    _ if affine => (Basis::Affinity, 0),
                    Some(SortBy::Throughput) => {
                        let v = tps(stats, meta, 0);
                        // Descending: invert the bits of known values; unknown stays last.
                        let k = if v.is_some() {
                            !fkey(v) & 0x7FFF_FFFF
                        } else {
                            u32::MAX
                        };
                        (
                            Basis::Sorted {
                                by: SortBy::Throughput,
                                key: v,
                            },
                            k,
                        )
                    }
                    Some(SortBy::Latency) => {
                        let v = ttft(stats, meta, 0);
                        (
                            Basis::Sorted {
                                by: SortBy::Latency,
                                key: v,
                            },
                            fkey(v),
                        )
                    }
                    Some(b) => (
                        Basis::Sorted {
                            by: b,
                            key: Some(price as f32),
                        },
                        fkey(Some(price as f32)),
                    ),
                    None => match order_pos {
                        Some(p) => (
                            Basis::Ordered {
                                position: u16::try_from(p).unwrap_or(u16::MAX),
                            },
                            fkey(Some(price as f32)),
                        ),
                        None => (
                            Basis::ByWeight {
                                weight: weight as f32,
                            },
                            fkey(Some(price as f32)),
                        ),
                    },
                };
                let basis = match (basis, order_pos) {
                    (Basis::Sorted { .. }, Some(p)) if !affine => Basis::Ordered {
                        position: u16::try_from(p).unwrap_or(u16::MAX),
                    },
                    (b, _) => b,
                };
                let last = matches!(tier, Tier::LastResort(_));
                let group: u16 = match (partition, last) {
                    (Partition::Model, false) => mi16 & 0x7FFF,
                    (Partition::None, false) => 0,
                    (_, true) => 0x8000 | (mi16 & 0x7FFF),
                };
                let tier_rank: u8 = if affine { 0 } else { tier.rank() };
                let opos = order_pos.map_or(u16::MAX, |p| u16::try_from(p).unwrap_or(u16::MAX - 1));
                let key = (u128::from(group) << 112)
                    | (u128::from(tier_rank) << 104)
                    | (u128::from(opos) << 88)
                    | (u128::from(primary) << 56)
                    | (u128::from(fkey(Some(price as f32))) << 24)
                    | u128::from(registry.slug_rank(id) & 0x00FF_FFFF);
                self.cands.push(Cand {
                    key,
                    id,
                    model: mi16,
                    tier,
                    basis,
                    weight,
                    price: price as f32,
                    probe,
                });
            }
        }

        // A probe needs something solid behind it; otherwise it is only a last resort.
        let solid = self
            .cands
            .iter()
            .any(|c| !c.probe && !matches!(c.tier, Tier::LastResort(_)));
        if !solid {
            for c in self.cands.iter_mut().filter(|c| c.probe) {
                c.probe = false;
                c.tier = Tier::LastResort(HealthState::HalfOpen {
                    probe_available: true,
                });
                c.key = (c.key & !(u128::from(u16::MAX) << 112 | u128::from(u8::MAX) << 104))
                    | (u128::from(0x8000 | (c.model & 0x7FFF)) << 112)
                    | (4u128 << 104);
            }
        }

        self.cands.sort_unstable_by_key(|c| c.key);

        if load_balance {
            self.weighted_picks(rng);
        }

        let keep_first_only = prefs.allow_fallbacks == Some(false) && order.is_empty();
        self.seen_model.clear();
        self.seen_model.resize(req.models.len(), false);
        out.entries.reserve(self.cands.len());
        for c in &self.cands {
            if keep_first_only {
                let seen = &mut self.seen_model[usize::from(c.model)];
                if *seen {
                    removed[ExclusionRule::FallbacksDisabled as usize] += 1;
                    out.excluded.push((c.id, ExclusionRule::FallbacksDisabled));
                    continue;
                }
                *seen = true;
            }
            out.entries.push(PlannedEndpoint {
                id: c.id,
                rank_reason: RankReason {
                    tier: c.tier,
                    basis: c.basis,
                    model_index: c.model,
                    probe: c.probe,
                    price: c.price,
                },
            });
        }
        if out.entries.is_empty() {
            return Err(NoRoute {
                considered,
                removed: ExclusionRule::ALL
                    .iter()
                    .zip(removed)
                    .filter(|(_, n)| *n > 0)
                    .map(|(r, n)| (*r, n))
                    .collect(),
            });
        }
        Ok(())
    }

    /// In each group, draws the first preferred entry by `1/price²` and moves it to the front
    /// of that tier; the rest stay in weight order (they are sorted by price already).
    fn weighted_picks(&mut self, rng: &mut impl Rng) {
        let n = self.cands.len();
        let mut i = 0;
        while i < n {
            let head = self.cands[i].key >> 104;
            let is_pref =
                |c: &Cand| matches!(c.tier, Tier::Preferred) && c.basis != Basis::Affinity;
            if !is_pref(&self.cands[i]) {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < n && self.cands[j].key >> 104 == head && is_pref(&self.cands[j]) {
                j += 1;
            }
            let seg = &mut self.cands[i..j];
            let total: f64 = seg.iter().map(|c| c.weight).sum();
            let pick = if seg.len() == 1 {
                0
            } else {
                let mut u = rng.next_f64() * total;
                let mut k = seg.len() - 1;
                for (idx, c) in seg.iter().enumerate() {
                    if u < c.weight {
                        k = idx;
                        break;
                    }
                    u -= c.weight;
                }
                k
            };
            seg[..=pick].rotate_right(1);
            seg[0].basis = Basis::WeightedPick {
                probability: (seg[0].weight / total) as f32,
            };
            i = j;
        }
    }
}

/// Plans one request with a throwaway [`Planner`] (see [`Planner::plan_into`] to reuse
/// buffers). Pure: same inputs and RNG state give the same plan.
#[allow(clippy::too_many_arguments)] // The brief's signature: every input is explicit.
pub fn plan(
    features: &RequestFeatures,
    registry: &EndpointRegistry,
    snapshot: &HealthSnapshot,
    prefs: &ProviderPreferences,
    models: &[String],
    affinity: Option<EndpointId>,
    rng: &mut impl Rng,
    now: Duration,
) -> Result<Plan, NoRoute> {
    Planner::new().plan(
        &PlanRequest {
            features,
            prefs,
            models,
            affinity,
        },
        registry,
        snapshot,
        rng,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_own_id() {
        let ids: std::collections::HashSet<_> = ExclusionRule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), ExclusionRule::COUNT);
    }
    use crate::routing::SplitMix64;
    use crate::routing::endpoint::DataPolicy;
    use crate::routing::health::EndpointStats;
    use crate::wire::request::{
        ChatRequest, MaxPrice, Message, Percentiles, Quantization, SortConfig,
    };

    const T: Duration = Duration::from_secs(1000);

    fn ep(slug: &str, model: &str, price: f64) -> EndpointMeta {
        let mut m = EndpointMeta::new(slug, model).with_prices(price, price);
        m.data = DataPolicy {
            collects_data: false,
            zdr: true,
            distillable: true,
        };
        m.supported = ParamSet::ALL;
        m
    }

    fn models(ms: &[&str]) -> Vec<String> {
        ms.iter().map(|s| s.to_string()).collect()
    }

    struct Fx {
        reg: EndpointRegistry,
        stats: Vec<EndpointStats>,
        prefs: ProviderPreferences,
        features: RequestFeatures,
        models: Vec<String>,
        affinity: Option<EndpointId>,
    }

    impl Fx {
        fn new(eps: Vec<EndpointMeta>) -> Self {
            let n = eps.len();
            let models = {
                let mut ms: Vec<String> = Vec::new();
                for e in &eps {
                    if !ms.contains(&e.model) {
                        ms.push(e.model.clone());
                    }
                }
                ms
            };
            Self {
                reg: EndpointRegistry::from_endpoints(eps),
                stats: vec![EndpointStats::default(); n],
                prefs: ProviderPreferences::default(),
                features: RequestFeatures {
                    prompt_tokens: 1000,
                    ..Default::default()
                },
                models,
                affinity: None,
            }
        }

        fn run(&self, seed: u64) -> Result<Plan, NoRoute> {
            let snap = HealthSnapshot::from_stats(T, self.stats.clone());
            plan(
                &self.features,
                &self.reg,
                &snap,
                &self.prefs,
                &self.models,
                self.affinity,
                &mut SplitMix64::new(seed),
                T,
            )
        }

        fn ids(&self, seed: u64) -> Vec<u32> {
            self.run(seed).unwrap().ids().map(|i| i.0).collect()
        }

        fn unstable(&mut self, i: usize) {
            self.stats[i].unstable_until = Some(T + Duration::from_secs(10));
        }

        fn perf(&mut self, i: usize, ttft_ms: f32, tps: f32, n: u32) {
            let q = |v: f32| Quantiles {
                p50: v,
                p75: v * 1.2,
                p90: v * 1.5,
                p99: v * 2.0,
            };
            self.stats[i].ttft_ms = Some(q(ttft_ms));
            self.stats[i].ttft_n = n;
            // Throughput percentiles fall towards the tail.
            self.stats[i].tokens_per_sec = Some(Quantiles {
                p50: tps,
                p75: tps * 0.8,
                p90: tps * 0.6,
                p99: tps * 0.3,
            });
            self.stats[i].tokens_per_sec_n = n;
        }
    }

    fn first_shares(fx: &Fx, n: u32) -> Vec<f64> {
        let mut counts = vec![0u32; fx.reg.len()];
        let mut planner = Planner::new();
        let snap = HealthSnapshot::from_stats(T, fx.stats.clone());
        let mut rng = SplitMix64::new(99);
        let mut out = Plan::default();
        let req = PlanRequest {
            features: &fx.features,
            prefs: &fx.prefs,
            models: &fx.models,
            affinity: None,
        };
        for _ in 0..n {
            planner
                .plan_into(&req, &fx.reg, &snap, &mut rng, T, &mut out)
                .unwrap();
            counts[out.entries[0].id.index()] += 1;
        }
        counts
            .iter()
            .map(|&c| f64::from(c) / f64::from(n))
            .collect()
    }

    #[test]
    fn default_is_inverse_square_price_weighted() {
        let fx = Fx::new(vec![
            ep("a", "m", 1.0),
            ep("b", "m", 2.0),
            ep("c", "m", 3.0),
        ]);
        let s = first_shares(&fx, 40_000);
        for (got, want) in s.iter().zip([0.7347, 0.1837, 0.0816]) {
            assert!((got - want).abs() < 0.01, "{s:?}");
        }
        let p = fx.run(1).unwrap();
        let first = p.entries[0].rank_reason;
        assert!(matches!(first.basis, Basis::WeightedPick { .. }));
        // The fallbacks follow by weight (cheapest first).
        let rest: Vec<u32> = p.ids().skip(1).map(|i| i.0).collect();
        let mut sorted = rest.clone();
        sorted.sort();
        assert_eq!(rest, sorted);
    }

    #[test]
    fn unstable_goes_last_with_ninety_ten_split() {
        let mut fx = Fx::new(vec![
            ep("a", "m", 1.0),
            ep("b", "m", 2.0),
            ep("c", "m", 3.0),
        ]);
        fx.unstable(1);
        let s = first_shares(&fx, 40_000);
        assert!(
            (s[0] - 0.9).abs() < 0.01 && (s[2] - 0.1).abs() < 0.01 && s[1] == 0.0,
            "{s:?}"
        );
        for seed in 0..50 {
            let p = fx.run(seed).unwrap();
            assert_eq!(p.entries[2].id, EndpointId(1));
            assert!(matches!(
                p.entries[2].rank_reason.tier,
                Tier::Degraded(HealthState::Unstable { .. })
            ));
        }
    }

    #[test]
    fn same_seed_same_plan() {
        let fx = Fx::new(
            (0..20)
                .map(|i| ep(&format!("p{i}"), "m", 1.0 + f64::from(i)))
                .collect(),
        );
        for seed in 0..20 {
            assert_eq!(fx.run(seed), fx.run(seed));
        }
        let distinct: std::collections::HashSet<Vec<u32>> = (0..200).map(|s| fx.ids(s)).collect();
        assert!(
            distinct.len() > 1,
            "the pick must actually be random across seeds"
        );
    }

    #[test]
    fn privacy_and_price_filters_exclude_with_reasons() {
        let mut collects = ep("collector", "m", 1.0);
        collects.data.collects_data = true;
        let mut no_zdr = ep("nozdr", "m", 1.0);
        no_zdr.data.zdr = false;
        let mut fp8 = ep("quant", "m", 1.0);
        fp8.quantization = Quantization::Fp8;
        let mut pricey = ep("pricey", "m", 50.0);
        pricey.quantization = Quantization::Bf16;
        let mut good = ep("good", "m", 1.0);
        good.quantization = Quantization::Bf16;
        let mut fx = Fx::new(vec![collects, no_zdr, fp8, pricey, good]);
        fx.prefs.data_collection = Some(DataCollection::Deny);
        fx.prefs.zdr = Some(true);
        fx.prefs.quantizations = Some(vec![Quantization::Bf16]);
        fx.prefs.max_price = Some(MaxPrice {
            prompt: Some(10.0),
            ..Default::default()
        });
        let p = fx.run(0).unwrap();
        assert_eq!(fx.ids(0), [4]);
        assert_eq!(
            p.excluded,
            [
                (EndpointId(0), ExclusionRule::DataCollection),
                (EndpointId(1), ExclusionRule::Zdr),
                (EndpointId(2), ExclusionRule::Quantization),
                (EndpointId(3), ExclusionRule::MaxPrice),
            ]
        );
        // Every endpoint has a reason: ranked or excluded.
        assert_eq!(p.entries.len() + p.excluded.len(), fx.reg.len());
    }

    #[test]
    fn no_route_lists_rules_and_counts() {
        let mut a = ep("a", "m", 1.0);
        a.data.collects_data = true;
        let mut b = ep("b", "m", 1.0);
        b.data.collects_data = true;
        let mut c = ep("c", "m", 1.0);
        c.context_length = 10;
        let mut fx = Fx::new(vec![a, b, c]);
        fx.prefs.data_collection = Some(DataCollection::Deny);
        let err = fx.run(0).unwrap_err();
        assert_eq!(err.considered, 3);
        assert_eq!(
            err.removed,
            [
                (ExclusionRule::DataCollection, 2),
                (ExclusionRule::ContextLength, 1)
            ]
        );
        assert!(
            err.to_string().contains("data_collection: deny removed 2"),
            "{err}"
        );
        fx.models = models(&["unknown/model"]);
        let err = fx.run(0).unwrap_err();
        assert_eq!(err.considered, 0);
        assert!(err.removed.is_empty());
    }

    #[test]
    fn only_and_ignore_match_base_slugs() {
        let mut fx = Fx::new(vec![
            ep("deepinfra/turbo", "m", 1.0),
            ep("deepinfra/fp8", "m", 1.0),
            ep("together", "m", 1.0),
        ]);
        fx.prefs.ignore = Some(vec!["deepinfra".into()]);
        assert_eq!(fx.ids(0), [2]);
        fx.prefs.ignore = Some(vec!["deepinfra/fp8".into()]);
        let mut ids = fx.ids(0);
        ids.sort();
        assert_eq!(ids, [0, 2]);
        fx.prefs.ignore = None;
        fx.prefs.only = Some(vec!["deepinfra".into()]);
        let mut ids = fx.ids(0);
        ids.sort();
        assert_eq!(ids, [0, 1]);
        fx.prefs.only = Some(vec![]);
        assert_eq!(
            fx.run(0).unwrap_err().removed,
            [(ExclusionRule::NotInOnly, 3)]
        );
    }

    #[test]
    fn capability_and_context_filters() {
        let mut no_tools = ep("notools", "m", 1.0);
        no_tools.supported = ParamSet::TEMPERATURE;
        let mut small = ep("small", "m", 1.0);
        small.context_length = 4000;
        let mut short = ep("short", "m", 1.0);
        short.max_output = Some(1000);
        let mut vision = ep("vision", "m", 1.0);
        vision.input_modalities = Modalities::TEXT.union(Modalities::IMAGE);
        let mut fx = Fx::new(vec![no_tools, small, short, vision]);
        fx.features = RequestFeatures {
            prompt_tokens: 3000,
            max_output_tokens: Some(2000),
            params: ParamSet::TOOLS,
            input: Modalities::TEXT,
            eu_only: false,
        };
        // Without require_parameters, missing tools only demotes.
        let p = fx.run(0).unwrap();
        assert_eq!(p.ids().last(), Some(EndpointId(0)));
        assert_eq!(
            p.entries.last().unwrap().rank_reason.tier,
            Tier::Demoted(Demotion {
                capability: true,
                ..Default::default()
            })
        );
        fx.prefs.require_parameters = Some(true);
        fx.features.input = Modalities::TEXT.union(Modalities::IMAGE);
        let p = fx.run(0).unwrap();
        assert_eq!(fx.ids(0), [3]);
        assert_eq!(
            p.excluded,
            [
                (EndpointId(0), ExclusionRule::MissingParameters),
                (EndpointId(1), ExclusionRule::Modality),
                (EndpointId(2), ExclusionRule::Modality),
            ]
        );
        fx.features.input = Modalities::TEXT;
        let p = fx.run(0).unwrap();
        assert_eq!(
            p.excluded[1..],
            [
                (EndpointId(1), ExclusionRule::ContextLength),
                (EndpointId(2), ExclusionRule::MaxOutput),
            ]
        );
    }

    #[test]
    fn sorts_are_deterministic_with_slug_tie_breaks() {
        let mut fx = Fx::new(vec![
            ep("c", "m", 2.0),
            ep("b", "m", 1.0),
            ep("a", "m", 2.0),
            ep("d", "m", 3.0),
        ]);
        fx.prefs.sort = Some(ProviderSort::By(SortBy::Price));
        for seed in 0..10 {
            assert_eq!(fx.ids(seed), [1, 2, 0, 3]);
        }
        fx.perf(0, 900.0, 50.0, 20);
        fx.perf(1, 300.0, 80.0, 20);
        fx.perf(2, 500.0, 80.0, 20);
        // Endpoint 3 has no data: last under a performance sort.
        fx.prefs.sort = Some(ProviderSort::By(SortBy::Throughput));
        assert_eq!(
            fx.ids(0),
            [1, 2, 0, 3],
            "tie at 80 tok/s broken by price, then slug"
        );
        fx.prefs.sort = Some(ProviderSort::By(SortBy::Latency));
        assert_eq!(fx.ids(0), [1, 2, 0, 3]);
        let p = fx.run(0).unwrap();
        assert_eq!(
            p.entries[0].rank_reason.basis,
            Basis::Sorted {
                by: SortBy::Latency,
                key: Some(300.0)
            }
        );
        // Too few samples: the data is not trusted, so it counts as unknown.
        fx.perf(0, 100.0, 500.0, 2);
        assert_eq!(fx.ids(0), [1, 2, 0, 3], "unknown: after known, by price");
        // ...unless the endpoint has a published prior.
        let mut reg_eps: Vec<EndpointMeta> = fx.reg.iter().map(|(_, m)| m.clone()).collect();
        reg_eps[0].prior = Some(crate::routing::PerfPrior {
            ttft_ms: Some(Quantiles {
                p50: 100.0,
                ..Default::default()
            }),
            tokens_per_sec: None,
        });
        fx.reg = EndpointRegistry::from_endpoints(reg_eps);
        assert_eq!(fx.ids(0), [0, 1, 2, 3]);
    }

    #[test]
    fn partitions() {
        let mut fx = Fx::new(vec![
            ep("a", "m1", 5.0),
            ep("b", "m1", 6.0),
            ep("c", "m2", 1.0),
            ep("d", "m2", 9.0),
        ]);
        fx.prefs.sort = Some(ProviderSort::By(SortBy::Price));
        assert_eq!(fx.ids(0), [0, 1, 2, 3]);
        fx.prefs.sort = Some(ProviderSort::Config(SortConfig {
            by: Some(SortBy::Price),
            partition: Some(Partition::None),
        }));
        assert_eq!(fx.ids(0), [2, 0, 1, 3]);
        // Fallback model order follows `models`, not the registry.
        fx.prefs.sort = Some(ProviderSort::By(SortBy::Price));
        fx.models = models(&["m2", "m1", "m2"]);
        let p = fx.run(0).unwrap();
        assert_eq!(fx.ids(0), [2, 3, 0, 1]);
        assert_eq!(p.entries[2].rank_reason.model_index, 1);
    }

    #[test]
    fn thresholds_demote_never_exclude() {
        let mut fx = Fx::new(vec![
            ep("a", "m", 1.0),
            ep("b", "m", 2.0),
            ep("c", "m", 3.0),
        ]);
        fx.perf(0, 3000.0, 10.0, 20); // slow
        fx.perf(1, 200.0, 100.0, 20); // fast
        // c: no data → meets.
        fx.prefs.sort = Some(ProviderSort::By(SortBy::Price));
        fx.prefs.preferred_min_throughput = Some(Threshold::Value(50.0));
        assert_eq!(fx.ids(0), [1, 2, 0]);
        fx.prefs.preferred_min_throughput = None;
        fx.prefs.preferred_max_latency = Some(Threshold::Percentiles(Percentiles {
            p50: Some(1.0),
            p90: Some(0.25),
            ..Default::default()
        }));
        // b's p90 is 300 ms > 250 ms: it misses too.
        let p = fx.run(0).unwrap();
        assert_eq!(fx.ids(0), [2, 0, 1]);
        assert_eq!(
            p.entries[1].rank_reason.tier,
            Tier::Demoted(Demotion {
                latency: true,
                ..Default::default()
            })
        );
        // Unsatisfiable thresholds still route everything.
        fx.prefs.preferred_min_throughput = Some(Threshold::Value(1e9));
        fx.perf(2, 3000.0, 10.0, 20);
        assert_eq!(fx.run(0).unwrap().entries.len(), 3);
    }

    #[test]
    fn order_and_allow_fallbacks() {
        let mut fx = Fx::new(vec![
            ep("a", "m", 1.0),
            ep("b", "m", 2.0),
            ep("c/x", "m", 3.0),
            ep("c/y", "m", 0.5),
        ]);
        fx.prefs.order = Some(vec!["c".into(), "b".into()]);
        assert_eq!(fx.ids(0), [3, 2, 1, 0]);
        assert_eq!(
            fx.run(0).unwrap().entries[2].rank_reason.basis,
            Basis::Ordered { position: 1 }
        );
        fx.prefs.allow_fallbacks = Some(false);
        let p = fx.run(0).unwrap();
        assert_eq!(fx.ids(0), [3, 2, 1]);
        assert_eq!(p.excluded, [(EndpointId(0), ExclusionRule::NotInOrder)]);
        // Without order: only the first choice of each model.
        fx.prefs.order = None;
        let p = fx.run(5).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.excluded.len(), 3);
        assert!(
            p.excluded
                .iter()
                .all(|(_, r)| *r == ExclusionRule::FallbacksDisabled)
        );
    }

    #[test]
    fn affinity_sticks_while_healthy() {
        let mut fx = Fx::new(vec![
            ep("a", "m", 1.0),
            ep("b", "m", 2.0),
            ep("c", "m", 3.0),
        ]);
        fx.affinity = Some(EndpointId(2));
        for seed in 0..50 {
            assert_eq!(fx.ids(seed)[0], 2);
        }
        assert_eq!(
            fx.run(0).unwrap().entries[0].rank_reason.basis,
            Basis::Affinity
        );
        fx.unstable(2);
        assert!(
            (0..50).all(|s| fx.ids(s)[2] == 2),
            "unstable: affinity is dropped"
        );
        fx.stats[2] = EndpointStats::default();
        fx.prefs.ignore = Some(vec!["c".into()]);
        assert!(!fx.ids(0).contains(&2), "filters win over affinity");
        fx.prefs.ignore = None;
        fx.prefs.order = Some(vec!["b".into()]);
        assert_eq!(fx.ids(0)[0], 1, "explicit order overrides affinity");
    }

    #[test]
    fn breaker_states_rank_last_and_probe_needs_a_fallback() {
        let mut fx = Fx::new(vec![
            ep("a", "m1", 1.0),
            ep("b", "m1", 2.0),
            ep("c", "m2", 3.0),
        ]);
        fx.prefs.sort = Some(ProviderSort::By(SortBy::Price));
        fx.stats[0].open_until = Some(T + Duration::from_secs(5));
        let p = fx.run(0).unwrap();
        assert_eq!(fx.ids(0), [1, 2, 0], "open goes after every model");
        assert!(matches!(
            p.entries[2].rank_reason.tier,
            Tier::LastResort(HealthState::Open { .. })
        ));
        // Half-open with a free probe keeps its rank, flagged as a probe.
        fx.stats[0].open_until = Some(T);
        let p = fx.run(0).unwrap();
        assert_eq!(fx.ids(0), [0, 1, 2]);
        assert!(p.entries[0].rank_reason.probe);
        // Probe taken: last resort.
        fx.stats[0].probe_busy_until = Some(T + Duration::from_secs(1));
        assert_eq!(fx.ids(0), [1, 2, 0]);
        // Nothing solid to catch a probe: it is only a last resort.
        fx.stats[0].probe_busy_until = None;
        fx.models = models(&["m1"]);
        fx.stats[1].open_until = Some(T + Duration::from_secs(5));
        let p = fx.run(0).unwrap();
        assert!(p.entries.iter().all(|e| !e.rank_reason.probe));
        assert!(
            p.entries
                .iter()
                .all(|e| matches!(e.rank_reason.tier, Tier::LastResort(_)))
        );
    }

    #[test]
    fn rate_limited_is_degraded() {
        let mut fx = Fx::new(vec![ep("a", "m", 1.0), ep("b", "m", 2.0)]);
        fx.stats[0].rate_limited_until = Some(T + Duration::from_secs(3));
        assert!((0..30).all(|s| fx.ids(s) == [1, 0]));
        fx.stats[0].rate_limited_until = Some(T);
        assert!(
            (0..100).any(|s| fx.ids(s) == [0, 1]),
            "expired: back in the draw"
        );
    }

    #[test]
    fn effective_price_blend() {
        let p = Pricing {
            prompt: 1.0,
            completion: 4.0,
            ..Default::default()
        };
        let f = |prompt, max| RequestFeatures {
            prompt_tokens: prompt,
            max_output_tokens: max,
            ..Default::default()
        };
        assert_eq!(effective_price(&p, &f(1000, None)), 2.5);
        assert_eq!(effective_price(&p, &f(3000, Some(1000))), 1.75);
        assert_eq!(effective_price(&p, &f(0, Some(0))), 1.75);
        let with_req = Pricing {
            request: 0.001,
            ..p
        };
        assert_eq!(effective_price(&with_req, &f(1000, None)), 3.0);
    }

    #[test]
    fn features_from_request() {
        let mut req = ChatRequest {
            messages: vec![
                Message::system("x".repeat(400)),
                Message::user_parts([
                    ContentPart::text("look"),
                    ContentPart::image_url("https://x/y.png"),
                ]),
            ],
            temperature: Some(0.5),
            max_tokens: Some(100),
            response_format: Some(ResponseFormat::JsonObject),
            ..Default::default()
        };
        let f = RequestFeatures::from_request(&req);
        assert_eq!(f.prompt_tokens, 101 + 8 + 1000);
        assert_eq!(f.max_output_tokens, Some(100));
        assert_eq!(
            f.params,
            ParamSet::TEMPERATURE
                .union(ParamSet::MAX_TOKENS)
                .union(ParamSet::RESPONSE_FORMAT)
        );
        assert!(f.input.contains(Modalities::IMAGE));
        req.max_completion_tokens = Some(7);
        assert_eq!(
            RequestFeatures::from_request(&req).max_output_tokens,
            Some(7)
        );
    }

    #[test]
    fn exacto_behaves_like_default() {
        let mut fx = Fx::new(vec![
            ep("a", "m", 1.0),
            ep("b", "m", 2.0),
            ep("c", "m", 3.0),
        ]);
        fx.prefs.sort = Some(ProviderSort::By(SortBy::Exacto));
        let lb = Fx::new(vec![
            ep("a", "m", 1.0),
            ep("b", "m", 2.0),
            ep("c", "m", 3.0),
        ]);
        for s in 0..20 {
            assert_eq!(fx.run(s), lb.run(s));
        }
    }
}
