//! Static metadata of (provider, model) endpoints and a Vec-backed registry.

use std::collections::HashMap;

use crate::wire::request::Quantization;

use super::health::Quantiles;

/// Index of an endpoint in its [`EndpointRegistry`]; cheap to copy and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointId(pub u32);

impl EndpointId {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Prices in USD. Token prices are per **million** tokens, like OpenRouter's `max_price`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pricing {
    /// USD per million prompt tokens.
    pub prompt: f64,
    /// USD per million completion tokens.
    pub completion: f64,
    /// USD per million cached prompt tokens read, if the endpoint caches.
    pub cache_read: Option<f64>,
    /// USD per million prompt tokens written to the cache, if charged separately.
    pub cache_write: Option<f64>,
    /// USD per request.
    pub request: f64,
    /// USD per input image.
    pub image: f64,
    /// The prices are not known (a generic server does not publish them): `max_price` cannot
    /// be checked and no cost is computed.
    pub unknown: bool,
}

impl Pricing {
    /// USD for one request of `prompt` and `completion` tokens, `cached` of the prompt read from
    /// the cache (billed at the cache-read price when the endpoint has one).
    pub fn cost(&self, prompt: u64, cached: u64, completion: u64) -> f64 {
        let cached = cached.min(prompt);
        let cache_price = self.cache_read.unwrap_or(self.prompt);
        ((prompt - cached) as f64 * self.prompt
            + cached as f64 * cache_price
            + completion as f64 * self.completion)
            / 1e6
            + self.request
    }
}

/// A routing slug made from a display name: `Google AI Studio` → `google-ai-studio`.
pub fn slug_of(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// What the endpoint does with request data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataPolicy {
    /// Stores or trains on prompts (excluded by `data_collection: deny`).
    pub collects_data: bool,
    /// Zero data retention.
    pub zdr: bool,
    /// The model's author allows text distillation.
    pub distillable: bool,
}

impl Default for DataPolicy {
    /// Unknown policy is assumed to be the least private one, so privacy filters stay safe.
    fn default() -> Self {
        Self {
            collects_data: true,
            zdr: false,
            distillable: false,
        }
    }
}

/// A set of request parameters (OpenRouter's `supported_parameters` names), as a bitset so the
/// `require_parameters` check is one AND.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ParamSet(pub u32);

impl ParamSet {
    /// No parameters.
    pub const EMPTY: Self = Self(0);
    /// `tools`.
    pub const TOOLS: Self = Self(1 << 0);
    /// `tool_choice`.
    pub const TOOL_CHOICE: Self = Self(1 << 1);
    /// `response_format`.
    pub const RESPONSE_FORMAT: Self = Self(1 << 2);
    /// `structured_outputs` (JSON-schema response format).
    pub const STRUCTURED_OUTPUTS: Self = Self(1 << 3);
    /// `reasoning`.
    pub const REASONING: Self = Self(1 << 4);
    /// `max_tokens`.
    pub const MAX_TOKENS: Self = Self(1 << 5);
    /// `temperature`.
    pub const TEMPERATURE: Self = Self(1 << 6);
    /// `top_p`.
    pub const TOP_P: Self = Self(1 << 7);
    /// `top_k`.
    pub const TOP_K: Self = Self(1 << 8);
    /// `stop`.
    pub const STOP: Self = Self(1 << 9);
    /// `frequency_penalty`.
    pub const FREQUENCY_PENALTY: Self = Self(1 << 10);
    /// `presence_penalty`.
    pub const PRESENCE_PENALTY: Self = Self(1 << 11);
    /// `repetition_penalty`.
    pub const REPETITION_PENALTY: Self = Self(1 << 12);
    /// `min_p`.
    pub const MIN_P: Self = Self(1 << 13);
    /// `top_a`.
    pub const TOP_A: Self = Self(1 << 14);
    /// `seed`.
    pub const SEED: Self = Self(1 << 15);
    /// `logit_bias`.
    pub const LOGIT_BIAS: Self = Self(1 << 16);
    /// `logprobs`.
    pub const LOGPROBS: Self = Self(1 << 17);
    /// `top_logprobs`.
    pub const TOP_LOGPROBS: Self = Self(1 << 18);
    /// `parallel_tool_calls`.
    pub const PARALLEL_TOOL_CALLS: Self = Self(1 << 19);
    /// `include_reasoning`.
    pub const INCLUDE_REASONING: Self = Self(1 << 20);
    /// `verbosity`.
    pub const VERBOSITY: Self = Self(1 << 21);
    /// `web_search_options`.
    pub const WEB_SEARCH_OPTIONS: Self = Self(1 << 22);

    const NAMES: [(&'static str, ParamSet); 23] = [
        ("tools", Self::TOOLS),
        ("tool_choice", Self::TOOL_CHOICE),
        ("response_format", Self::RESPONSE_FORMAT),
        ("structured_outputs", Self::STRUCTURED_OUTPUTS),
        ("reasoning", Self::REASONING),
        ("max_tokens", Self::MAX_TOKENS),
        ("temperature", Self::TEMPERATURE),
        ("top_p", Self::TOP_P),
        ("top_k", Self::TOP_K),
        ("stop", Self::STOP),
        ("frequency_penalty", Self::FREQUENCY_PENALTY),
        ("presence_penalty", Self::PRESENCE_PENALTY),
        ("repetition_penalty", Self::REPETITION_PENALTY),
        ("min_p", Self::MIN_P),
        ("top_a", Self::TOP_A),
        ("seed", Self::SEED),
        ("logit_bias", Self::LOGIT_BIAS),
        ("logprobs", Self::LOGPROBS),
        ("top_logprobs", Self::TOP_LOGPROBS),
        ("parallel_tool_calls", Self::PARALLEL_TOOL_CALLS),
        ("include_reasoning", Self::INCLUDE_REASONING),
        ("verbosity", Self::VERBOSITY),
        ("web_search_options", Self::WEB_SEARCH_OPTIONS),
    ];

    /// Every parameter this type knows.
    pub const ALL: Self = Self((1 << 23) - 1);

    /// Parses `supported_parameters` names; unknown names are ignored (they cannot be required).
    pub fn from_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        let mut set = Self::EMPTY;
        for n in names {
            if let Some((_, p)) = Self::NAMES.iter().find(|(k, _)| *k == n.as_ref()) {
                set = set.union(*p);
            }
        }
        set
    }

    /// Names of the parameters in the set, in a fixed order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .iter()
            .filter(move |(_, p)| self.contains(*p))
            .map(|(n, _)| *n)
    }

    /// Both sets together.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Every parameter of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Parameters in `self` and not in `other`.
    pub const fn minus(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// No parameters.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Input modalities as a bitset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Modalities(pub u8);

impl Modalities {
    /// Text.
    pub const TEXT: Self = Self(1);
    /// Images.
    pub const IMAGE: Self = Self(2);
    /// Files (PDF).
    pub const FILE: Self = Self(4);
    /// Audio.
    pub const AUDIO: Self = Self(8);
    /// Video.
    pub const VIDEO: Self = Self(16);

    /// Every modality: what an endpoint whose listing says nothing is assumed to take (the
    /// server decides, and says so if it cannot).
    pub const ALL: Self = Self(31);

    /// The set a listing's names give (`text`, `image`, `file`, `audio`, `video`); text always.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        names.iter().fold(Self::TEXT, |acc, x| {
            acc.union(match x.as_ref() {
                "image" => Self::IMAGE,
                "file" => Self::FILE,
                "audio" => Self::AUDIO,
                "video" => Self::VIDEO,
                _ => Self::TEXT,
            })
        })
    }

    /// Both sets together.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Every modality of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl Default for Modalities {
    /// Text only.
    fn default() -> Self {
        Self::TEXT
    }
}

/// Published performance of an endpoint (e.g. OpenRouter's 30-minute stats), used when we have
/// too few samples of our own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PerfPrior {
    /// Time to first token, milliseconds.
    pub ttft_ms: Option<Quantiles>,
    /// Decode throughput, tokens per second.
    pub tokens_per_sec: Option<Quantiles>,
}

/// Static metadata of one (provider, model) endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointMeta {
    /// Provider slug as used in `order`/`only`/`ignore`, e.g. `deepinfra` or `deepinfra/turbo`.
    pub provider_slug: String,
    /// Human-readable provider name, e.g. `DeepInfra` (also accepted in `only`/`ignore`).
    pub provider_name: String,
    /// Model id, `author/slug`.
    pub model: String,
    /// API base URL.
    pub base_url: String,
    /// Prices.
    pub pricing: Pricing,
    /// Context window in tokens (prompt + output).
    pub context_length: u32,
    /// Largest output the endpoint will produce, if limited.
    pub max_output: Option<u32>,
    /// Weight quantization.
    pub quantization: Quantization,
    /// Request parameters the endpoint honours.
    pub supported: ParamSet,
    /// Input modalities it accepts.
    pub input_modalities: Modalities,
    /// Data handling.
    pub data: DataPolicy,
    /// Region, if known (e.g. `us-east5`).
    pub region: Option<String>,
    /// A service-tier endpoint (`openai/priority`): not matched by a bare base slug.
    pub service_tier: bool,
    /// Continues a final assistant message (prefill); the `continue` mid-stream policy only
    /// sends partial answers to such endpoints.
    pub accepts_prefill: bool,
    /// Published stats used as priors while local samples are few.
    pub prior: Option<PerfPrior>,
    /// Most streams at once on this endpoint's server (`None`: no limit); more wait their turn.
    pub max_concurrent: Option<u32>,
    /// The model's dated canonical slug, which responses may name instead of `model`.
    pub canonical: Option<String>,
}

impl EndpointMeta {
    /// An endpoint with conservative defaults: free, 128k context, text only, no parameters
    /// declared, unknown quantization, and the least private data policy.
    pub fn new(provider_slug: impl Into<String>, model: impl Into<String>) -> Self {
        let provider_slug = provider_slug.into();
        Self {
            provider_name: provider_slug.clone(),
            provider_slug,
            model: model.into(),
            base_url: String::new(),
            pricing: Pricing::default(),
            context_length: 128_000,
            max_output: None,
            quantization: Quantization::Unknown,
            supported: ParamSet::EMPTY,
            input_modalities: Modalities::TEXT,
            data: DataPolicy::default(),
            region: None,
            service_tier: false,
            accepts_prefill: false,
            prior: None,
            max_concurrent: None,
            canonical: None,
        }
    }

    /// An endpoint as OpenRouter's endpoints listing describes it (`GET /models/{id}/endpoints`).
    /// Its data policy is not in the listing, so it stays the least private one.
    pub fn from_listing(model: &str, e: &crate::wire::catalog::PublicEndpoint) -> Self {
        let name = e
            .provider_name
            .clone()
            .unwrap_or_else(|| e.name.split(" | ").next().unwrap_or(&e.name).to_string());
        let slug = e.tag.clone().unwrap_or_else(|| slug_of(&name));
        let mut m = Self::new(slug, model);
        m.provider_name = name;
        m.pricing.prompt = e.pricing.prompt.map_or(0.0, |p| p.per_million());
        m.pricing.completion = e.pricing.completion.map_or(0.0, |p| p.per_million());
        if let Some(c) = e.context_length {
            m.context_length = u32::try_from(c).unwrap_or(u32::MAX);
        }
        m.max_output = e.max_completion_tokens.and_then(|v| u32::try_from(v).ok());
        if let Some(q) = e
            .quantization
            .as_deref()
            .and_then(crate::wire::request::Quantization::parse)
        {
            m.quantization = q;
        }
        m.supported = ParamSet::from_names(&e.supported_parameters);
        m
    }

    /// Sets prompt and completion prices (USD per million tokens).
    pub fn with_prices(mut self, prompt: f64, completion: f64) -> Self {
        self.pricing.prompt = prompt;
        self.pricing.completion = completion;
        self
    }

    /// The slug before any `/variant` suffix (`deepinfra/turbo` → `deepinfra`).
    pub fn base_slug(&self) -> &str {
        self.provider_slug
            .split_once('/')
            .map_or(self.provider_slug.as_str(), |(b, _)| b)
    }

    /// Whether a slug from `order`/`only`/`ignore` names this endpoint: an exact slug or
    /// display name, or a base slug naming all its non-service-tier variants (ASCII
    /// case-insensitive, since the API accepts display names too).
    pub fn matches_slug(&self, slug: &str) -> bool {
        if slug.eq_ignore_ascii_case(&self.provider_slug)
            || slug.eq_ignore_ascii_case(&self.provider_name)
        {
            return true;
        }
        !self.service_tier && !slug.contains('/') && slug.eq_ignore_ascii_case(self.base_slug())
    }
}

/// All known endpoints, indexed by [`EndpointId`], with lookups by model.
#[derive(Debug, Clone, Default)]
pub struct EndpointRegistry {
    endpoints: Vec<EndpointMeta>,
    by_model: HashMap<String, Vec<EndpointId>>,
    /// Rank of each endpoint by (slug, model, id): a precomputed deterministic tie-break.
    slug_rank: Vec<u32>,
}

impl EndpointRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a registry from metadata; ids follow the vector order.
    pub fn from_endpoints(endpoints: impl IntoIterator<Item = EndpointMeta>) -> Self {
        let mut r = Self::new();
        for e in endpoints {
            r.insert(e);
        }
        r.rerank();
        r
    }

    /// Replaces the metadata of the endpoint with this provider slug and model (or one learned
    /// under the same provider name), or adds it; returns its id.
    pub fn upsert(&mut self, meta: EndpointMeta) -> EndpointId {
        // Same slug; or, for an endpoint only learned from a response (its slug made from the
        // name), the same provider name. Two listed variants of one provider (`x/fp8`,
        // `x/bf16`) stay two endpoints.
        let existing = self.by_model(&meta.model).iter().copied().find(|&id| {
            let e = self.get(id);
            e.provider_slug == meta.provider_slug
                || (e.provider_name == meta.provider_name
                    && e.provider_slug == slug_of(&e.provider_name))
        });
        match existing {
            Some(id) => {
                self.endpoints[id.index()] = meta;
                self.rerank();
                id
            }
            None => self.push(meta),
        }
    }

    /// The endpoint a response names: by provider display name or slug (ASCII
    /// case-insensitive) and model.
    pub fn find_served(&self, provider: &str, model: &str) -> Option<EndpointId> {
        let by = |e: &EndpointMeta| {
            e.provider_name.eq_ignore_ascii_case(provider)
                || e.provider_slug.eq_ignore_ascii_case(provider)
        };
        self.by_model(model)
            .iter()
            .copied()
            .find(|&id| by(self.get(id)))
            // Responses may name the dated canonical slug: it is the listed model, not a new one.
            .or_else(|| {
                self.iter()
                    .find(|(_, e)| e.canonical.as_deref() == Some(model) && by(e))
                    .map(|(id, _)| id)
            })
    }

    /// Adds an endpoint and returns its id.
    pub fn push(&mut self, meta: EndpointMeta) -> EndpointId {
        let id = self.insert(meta);
        self.rerank();
        id
    }

    fn insert(&mut self, meta: EndpointMeta) -> EndpointId {
        let id = EndpointId(u32::try_from(self.endpoints.len()).expect("< 2^32 endpoints"));
        self.by_model
            .entry(meta.model.clone())
            .or_default()
            .push(id);
        self.endpoints.push(meta);
        id
    }

    fn rerank(&mut self) {
        let mut order: Vec<usize> = (0..self.endpoints.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.endpoints[a], &self.endpoints[b]);
            (&x.provider_slug, &x.model, a).cmp(&(&y.provider_slug, &y.model, b))
        });
        self.slug_rank = vec![0; order.len()];
        for (rank, i) in order.into_iter().enumerate() {
            self.slug_rank[i] = rank as u32;
        }
    }

    /// Number of endpoints.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// No endpoints.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// Metadata of `id`. Panics on an id from another registry.
    pub fn get(&self, id: EndpointId) -> &EndpointMeta {
        &self.endpoints[id.index()]
    }

    /// All endpoints with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (EndpointId, &EndpointMeta)> {
        self.endpoints
            .iter()
            .enumerate()
            .map(|(i, m)| (EndpointId(i as u32), m))
    }

    /// Endpoints serving `model`, in insertion order.
    pub fn by_model(&self, model: &str) -> &[EndpointId] {
        self.by_model.get(model).map_or(&[], Vec::as_slice)
    }

    /// The endpoint with exactly this provider slug and model.
    pub fn find(&self, provider_slug: &str, model: &str) -> Option<EndpointId> {
        self.by_model(model)
            .iter()
            .copied()
            .find(|&id| self.get(id).provider_slug == provider_slug)
    }

    /// Deterministic tie-break rank (by slug, then model, then id).
    pub fn slug_rank(&self, id: EndpointId) -> u32 {
        self.slug_rank[id.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_names_round_trip_and_ignore_unknown() {
        let p = ParamSet::from_names(["tools", "seed", "not_a_param"]);
        assert_eq!(p, ParamSet::TOOLS.union(ParamSet::SEED));
        assert_eq!(p.names().collect::<Vec<_>>(), ["tools", "seed"]);
        assert!(ParamSet::ALL.contains(p));
        assert!(!p.contains(ParamSet::TOOL_CHOICE));
        assert_eq!(p.minus(ParamSet::TOOLS), ParamSet::SEED);
        assert_eq!(ParamSet::from_names(ParamSet::ALL.names()), ParamSet::ALL);
    }

    #[test]
    fn slug_matching_follows_openrouter() {
        let mut turbo = EndpointMeta::new("deepinfra/turbo", "m");
        turbo.provider_name = "DeepInfra".into();
        assert!(turbo.matches_slug("deepinfra"));
        assert!(turbo.matches_slug("deepinfra/turbo"));
        assert!(turbo.matches_slug("DeepInfra"));
        assert!(!turbo.matches_slug("deepinfra/fp8"));
        assert!(!turbo.matches_slug("deep"));
        let mut prio = EndpointMeta::new("openai/priority", "m");
        prio.service_tier = true;
        assert!(
            !prio.matches_slug("openai"),
            "base slug must not match a service tier"
        );
        assert!(prio.matches_slug("openai/priority"));
    }

    #[test]
    fn registry_lookups_and_ranks() {
        let r = EndpointRegistry::from_endpoints([
            EndpointMeta::new("zeta", "a/m"),
            EndpointMeta::new("alpha", "a/m"),
            EndpointMeta::new("beta", "b/m"),
        ]);
        assert_eq!(r.len(), 3);
        assert_eq!(r.by_model("a/m"), &[EndpointId(0), EndpointId(1)]);
        assert!(r.by_model("nope").is_empty());
        assert_eq!(r.find("beta", "b/m"), Some(EndpointId(2)));
        assert_eq!(r.find("beta", "a/m"), None);
        assert_eq!(r.slug_rank(EndpointId(1)), 0);
        assert_eq!(r.slug_rank(EndpointId(2)), 1);
        assert_eq!(r.slug_rank(EndpointId(0)), 2);
        let mut r2 = r.clone();
        let id = r2.push(EndpointMeta::new("aaa", "b/m"));
        assert_eq!(id, EndpointId(3));
        assert_eq!(r2.slug_rank(id), 0);
    }

    #[test]
    fn default_policy_is_least_private() {
        let d = DataPolicy::default();
        assert!(d.collects_data && !d.zdr && !d.distillable);
    }
}
