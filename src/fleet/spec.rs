//! The fleet spec: TOML parsing, validation with line-accurate errors, and the validated types.

use super::fault::{Fault, FaultFields};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The default fleet, compiled in so the binary works without any file.
const BUILTIN_TOML: &str = include_str!("../../assets/fleet.toml");

/// Origin label used in errors about the compiled-in fleet.
const BUILTIN_ORIGIN: &str = "built-in fleet";

/// A parsed and validated fleet: providers, the models they serve, and how they behave.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetSpec {
    /// Seed for answer text and for timing/failure randomness.
    pub seed: u64,
    /// Multiplies every simulated delay; 0 answers instantly.
    pub time_scale: f64,
    /// When set, every request must carry `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// The providers, in file order.
    pub providers: Vec<Provider>,
    /// Optional model-level metadata (names, descriptions) for `/models`.
    pub models: Vec<ModelMeta>,
    /// OpenRouter's limits on `:free` models, enforced by the aggregator.
    pub free: FreeLimits,
}

/// The aggregator's limits on `:free` models (OpenRouter's: 20 a minute; 50 a day for a key
/// that has bought less than $10 of credits, which is what `GET /key` says the fleet's key is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FreeLimits {
    /// Requests a minute.
    pub per_minute: u32,
    /// Requests a UTC day.
    pub per_day: u32,
    /// What `GET /key` says of `is_free_tier` (true: the 50-a-day limit).
    pub is_free_tier: bool,
}

impl Default for FreeLimits {
    fn default() -> Self {
        FreeLimits {
            per_minute: crate::free_tier::PER_MINUTE,
            per_day: crate::free_tier::PER_DAY_FREE,
            is_free_tier: true,
        }
    }
}

/// One simulated upstream provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// Display name, e.g. "Basalt Cloud" (what `provider` in chunks shows).
    pub name: String,
    /// Routing slug, e.g. "basalt" (what `provider.order`/`only` match).
    pub slug: String,
    /// Data region, e.g. "us" or "eu".
    pub region: String,
    /// Whether the provider stores or trains on prompts (`data_collection: "deny"` excludes it).
    pub collects_data: bool,
    /// Whether the provider offers zero data retention.
    pub zdr: bool,
    /// Weight quantization of every endpoint of this provider.
    pub quantization: Quantization,
    /// The endpoints: one per model served.
    pub models: Vec<Endpoint>,
}

/// One model as served by one provider, with prices and behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// OpenRouter model id, e.g. "google/gemini-2.5-pro" (may carry a `:free` variant).
    pub id: String,
    /// Dated canonical slug, e.g. "anthropic/claude-4.5-sonnet-20250929".
    pub canonical_slug: Option<String>,
    /// Context window in tokens.
    pub context_length: u64,
    /// Largest completion this endpoint returns.
    pub max_completion_tokens: u64,
    /// USD per million prompt tokens.
    pub prompt_price: f64,
    /// USD per million completion tokens.
    pub completion_price: f64,
    /// Request parameters this endpoint honours.
    pub supported_parameters: Vec<String>,
    /// Accepted input modalities ("text", "image", …).
    pub input_modalities: Vec<String>,
    /// Time to first token, milliseconds.
    pub ttft_ms: Jitter,
    /// Generation speed, tokens per second.
    pub tokens_per_sec: Jitter,
    /// Probability (0..1) that a request fails with 502/503.
    pub error_rate: f64,
    /// Probability (0..1) that a request is rejected with 429.
    pub rate_limit_rate: f64,
    /// Value of `Retry-After` on 429s, seconds.
    pub retry_after_secs: u64,
    /// Shortest answer in tokens: longer answers repeat the answer's sections (benchmarks, demos).
    pub answer_tokens: Option<u64>,
    /// Continues a final assistant message (prefill) instead of rejecting it with a 400.
    pub assistant_prefill: bool,
    /// Scheduled faults (`[[providers.models.faults]]`), in file order.
    pub faults: Vec<Fault>,
}

/// A mean with a symmetric uniform jitter: samples fall in `mean ± jitter`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter {
    /// Centre value.
    pub mean: f64,
    /// Half-width of the uniform spread.
    pub jitter: f64,
}

/// Model-level metadata shown by `/models`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMeta {
    /// Model id this metadata describes.
    pub id: String,
    /// Display name, e.g. "Google: Gemini 2.5 Pro".
    pub name: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// Unix timestamp of the model's release.
    pub created: Option<u64>,
}

pub use crate::wire::request::Quantization;

/// Why a fleet spec could not be used; Display names the origin, line and field.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetError {
    origin: String,
    line: Option<usize>,
    field: Option<String>,
    message: String,
}

impl FleetError {
    /// Where the spec came from: a file path or "built-in fleet".
    pub fn origin(&self) -> &str {
        &self.origin
    }
    /// 1-based line of the offending value, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
    /// The offending field, e.g. `providers[1].models[0].prompt_price`.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
    /// What is wrong, without origin/line/field.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// An error about a fault injected at run time (no file, no line).
    pub(crate) fn runtime(field: impl Into<String>, message: impl Into<String>) -> Self {
        FleetError {
            origin: "run-time fault".to_string(),
            line: None,
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

impl fmt::Display for FleetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for FleetError {}

impl FleetSpec {
    /// The default fleet from `assets/fleet.toml`.
    pub fn builtin() -> FleetSpec {
        // The asset is validated by a unit test, so this cannot fail in a tested build.
        Self::from_toml(BUILTIN_TOML, BUILTIN_ORIGIN)
            .unwrap_or_else(|e| panic!("the built-in fleet is invalid: {e}"))
    }

    /// Parses and validates a spec; `origin` names the source in errors.
    pub fn from_toml(src: &str, origin: &str) -> Result<FleetSpec, FleetError> {
        let raw: RawFleet = toml::from_str(src).map_err(|e| toml_error(src, origin, &e))?;
        Validator { src, origin }.fleet(raw)
    }

    /// Reads, parses and validates a spec file.
    pub fn load(path: &Path) -> Result<FleetSpec, FleetError> {
        let origin = path.display().to_string();
        let src = crate::small_file::read(path, crate::small_file::MAX_BYTES).map_err(|e| {
            FleetError {
                origin: origin.clone(),
                line: None,
                field: None,
                message: match e {
                    crate::small_file::ReadError::NotFound => {
                        "cannot read the fleet file: it does not exist".into()
                    }
                    crate::small_file::ReadError::Other(m) => {
                        format!("cannot use the fleet file: {m}")
                    }
                },
            }
        })?;
        Self::from_toml(&src, &origin)
    }

    /// Returns the spec with every delay multiplied by `s` (0 = instant; negative or NaN → 0).
    pub fn with_time_scale(mut self, s: f64) -> Self {
        self.time_scale = if s.is_finite() && s > 0.0 { s } else { 0.0 };
        self
    }

    /// The provider with this slug.
    pub fn provider(&self, slug: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.slug == slug)
    }

    /// Every `(provider, endpoint)` serving `model` (matched on id or canonical slug), in file order.
    pub fn endpoints_for<'a>(&'a self, model: &str) -> Vec<(&'a Provider, &'a Endpoint)> {
        self.providers
            .iter()
            .flat_map(|p| p.models.iter().map(move |e| (p, e)))
            .filter(|(_, e)| e.id == model || e.canonical_slug.as_deref() == Some(model))
            .collect()
    }

    /// Distinct model ids served by the fleet, in first-seen order.
    pub fn model_ids(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.providers
            .iter()
            .flat_map(|p| p.models.iter())
            .map(|e| e.id.as_str())
            .filter(|id| seen.insert(*id))
            .collect()
    }

    /// The whole answer `provider`'s endpoint for `model` gives to `prompt` (the last user
    /// message) when nothing goes wrong: what a soak compares a success with.
    pub fn answer(&self, provider: &str, model: &str, prompt: &str) -> Option<String> {
        let (_, e) = self
            .endpoints_for(model)
            .into_iter()
            .find(|(p, _)| p.slug == provider)?;
        Some(super::text::answer_at_least(
            self.seed,
            &e.id,
            prompt,
            e.answer_tokens.unwrap_or(0),
        ))
    }

    /// Metadata for `model`, if the spec has any.
    pub fn meta(&self, model: &str) -> Option<&ModelMeta> {
        self.models.iter().find(|m| m.id == model)
    }
}

// ---------------------------------------------------------------------------------------------
// Raw (as-written) structures. Fields that are validated beyond their type are `Spanned` so the
// error can point at the line.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    #[serde(default)]
    seed: u64,
    time_scale: Option<Spanned<f64>>,
    api_key: Option<Spanned<String>>,
    providers: Option<Spanned<Vec<Spanned<RawProvider>>>>,
    #[serde(default)]
    models: Vec<Spanned<RawMeta>>,
    #[serde(default)]
    free_limits: FreeLimits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: Spanned<String>,
    slug: Spanned<String>,
    region: Option<Spanned<String>>,
    #[serde(default)]
    collects_data: bool,
    #[serde(default)]
    zdr: bool,
    quantization: Option<Spanned<String>>,
    models: Option<Spanned<Vec<Spanned<RawEndpoint>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    id: Spanned<String>,
    canonical_slug: Option<Spanned<String>>,
    context_length: Option<Spanned<u64>>,
    max_completion_tokens: Option<Spanned<u64>>,
    prompt_price: Spanned<f64>,
    completion_price: Spanned<f64>,
    supported_parameters: Option<Vec<String>>,
    input_modalities: Option<Spanned<Vec<String>>>,
    ttft_ms: Option<Spanned<RawJitter>>,
    tokens_per_sec: Option<Spanned<RawJitter>>,
    error_rate: Option<Spanned<f64>>,
    rate_limit_rate: Option<Spanned<f64>>,
    retry_after_secs: Option<u64>,
    answer_tokens: Option<u64>,
    #[serde(default)]
    assistant_prefill: bool,
    #[serde(default)]
    faults: Vec<Spanned<RawFault>>,
}

/// One `[[providers.models.faults]]` table; every field is spanned so errors point at it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    kind: Spanned<String>,
    status: Option<Spanned<u16>>,
    retry_after_secs: Option<Spanned<u64>>,
    extra_ttft_ms: Option<Spanned<f64>>,
    after_tokens: Option<Spanned<u64>>,
    from_s: Option<Spanned<f64>>,
    until_s: Option<Spanned<f64>>,
    probability: Option<Spanned<f64>>,
    times: Option<Spanned<u64>>,
}

impl RawFault {
    fn fields(&self) -> FaultFields {
        fn val<T: Copy>(s: &Option<Spanned<T>>) -> Option<T> {
            s.as_ref().map(|s| *s.get_ref())
        }
        FaultFields {
            kind: Some(self.kind.get_ref().clone()),
            status: val(&self.status),
            retry_after_secs: val(&self.retry_after_secs),
            extra_ttft_ms: val(&self.extra_ttft_ms),
            after_tokens: val(&self.after_tokens),
            from_s: val(&self.from_s),
            until_s: val(&self.until_s),
            probability: val(&self.probability),
            times: val(&self.times),
        }
    }

    /// Where `field` is written, if it is.
    fn span_of(&self, field: &str) -> Option<Range<usize>> {
        fn sp<T>(s: &Option<Spanned<T>>) -> Option<Range<usize>> {
            s.as_ref().map(|s| s.span())
        }
        match field {
            "kind" => Some(self.kind.span()),
            "status" => sp(&self.status),
            "retry_after_secs" => sp(&self.retry_after_secs),
            "extra_ttft_ms" => sp(&self.extra_ttft_ms),
            "after_tokens" => sp(&self.after_tokens),
            "from_s" => sp(&self.from_s),
            "until_s" => sp(&self.until_s),
            "probability" => sp(&self.probability),
            "times" => sp(&self.times),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJitter {
    mean: f64,
    #[serde(default)]
    jitter: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    id: Spanned<String>,
    name: Option<String>,
    description: Option<String>,
    created: Option<u64>,
}

/// Defaults for optional endpoint fields, chosen to look like a mid-range provider.
const DEFAULT_CONTEXT: u64 = 131_072;
const DEFAULT_MAX_COMPLETION: u64 = 16_384;
const DEFAULT_TTFT: Jitter = Jitter {
    mean: 600.0,
    jitter: 150.0,
};
const DEFAULT_TPS: Jitter = Jitter {
    mean: 80.0,
    jitter: 15.0,
};
const DEFAULT_RETRY_AFTER: u64 = 5;
const DEFAULT_PARAMS: [&str; 5] = ["max_tokens", "temperature", "top_p", "stop", "seed"];
const MODALITIES: [&str; 5] = ["text", "image", "file", "audio", "video"];

struct Validator<'s> {
    src: &'s str,
    origin: &'s str,
}

impl Validator<'_> {
    fn err(
        &self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> FleetError {
        FleetError {
            origin: self.origin.to_string(),
            line: span.map(|s| line_of(self.src, s.start)),
            field: Some(field.into()),
            message: msg.into(),
        }
    }

    fn fleet(&self, raw: RawFleet) -> Result<FleetSpec, FleetError> {
        let time_scale = match raw.time_scale {
            None => 1.0,
            Some(t) => {
                let v = *t.get_ref();
                // Past 1000 a simulated second is a quarter of an hour: a typo, not a fleet.
                if !v.is_finite() || !(0.0..=1000.0).contains(&v) {
                    return Err(self.err(
                        Some(t.span()),
                        "time_scale",
                        format!("must be a number from 0 to 1000, got {v}"),
                    ));
                }
                v
            }
        };
        let api_key = match raw.api_key {
            None => None,
            Some(k) => {
                let v = k.get_ref();
                if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(self.err(
                        Some(k.span()),
                        "api_key",
                        "must be non-empty and contain no spaces or control characters",
                    ));
                }
                Some(v.clone())
            }
        };
        let (providers_span, raw_providers) = match raw.providers {
            None => (None, Vec::new()),
            Some(p) => {
                let span = p.span();
                (Some(span), p.into_inner())
            }
        };
        if raw_providers.is_empty() {
            return Err(self.err(
                providers_span,
                "providers",
                "the fleet needs at least one [[providers]] entry",
            ));
        }
        let mut providers = Vec::with_capacity(raw_providers.len());
        let mut slugs: HashMap<String, usize> = HashMap::new();
        for (i, rp) in raw_providers.into_iter().enumerate() {
            let p = self.provider(i, rp, &mut slugs)?;
            providers.push(p);
        }
        self.check_canonical_consistency(&providers)?;
        let served: HashSet<&str> = providers
            .iter()
            .flat_map(|p| p.models.iter().map(|e| e.id.as_str()))
            .collect();
        let mut models = Vec::new();
        let mut meta_ids = HashSet::new();
        for (i, m) in raw.models.into_iter().enumerate() {
            let m = m.into_inner();
            let field = format!("models[{i}].id");
            let id = m.id.get_ref();
            if !served.contains(id.as_str()) {
                return Err(self.err(
                    Some(m.id.span()),
                    field,
                    format!("model `{id}` has metadata but no provider serves it"),
                ));
            }
            if !meta_ids.insert(id.clone()) {
                return Err(self.err(
                    Some(m.id.span()),
                    field,
                    format!("duplicate metadata for model `{id}`"),
                ));
            }
            models.push(ModelMeta {
                id: id.clone(),
                name: m.name,
                description: m.description,
                created: m.created,
            });
        }
        Ok(FleetSpec {
            seed: raw.seed,
            time_scale,
            api_key,
            providers,
            models,
            free: raw.free_limits,
        })
    }

    fn provider(
        &self,
        i: usize,
        rp: Spanned<RawProvider>,
        slugs: &mut HashMap<String, usize>,
    ) -> Result<Provider, FleetError> {
        let p_span = rp.span();
        let rp = rp.into_inner();
        let at = |f: &str| format!("providers[{i}].{f}");
        let name = rp.name.get_ref().trim();
        if name.is_empty() {
            return Err(self.err(Some(rp.name.span()), at("name"), "must not be empty"));
        }
        let slug = rp.slug.get_ref();
        if slug.is_empty()
            || !slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        {
            return Err(self.err(
                Some(rp.slug.span()),
                at("slug"),
                format!(
                    "`{slug}` is not a valid slug (use lowercase letters, digits, '-', '_' or '.')"
                ),
            ));
        }
        if let Some(first) = slugs.insert(slug.clone(), i) {
            return Err(self.err(
                Some(rp.slug.span()),
                at("slug"),
                format!("duplicate slug `{slug}` (also used by providers[{first}])"),
            ));
        }
        let region = match rp.region {
            None => "us".to_string(),
            Some(r) if r.get_ref().trim().is_empty() => {
                return Err(self.err(Some(r.span()), at("region"), "must not be empty"));
            }
            Some(r) => r.into_inner().trim().to_string(),
        };
        let quantization = match rp.quantization {
            None => Quantization::Unknown,
            Some(q) => Quantization::parse(q.get_ref()).ok_or_else(|| {
                let all: Vec<&str> = Quantization::ALL.iter().map(|q| q.as_str()).collect();
                self.err(
                    Some(q.span()),
                    at("quantization"),
                    format!(
                        "unknown quantization `{}` (expected one of {})",
                        q.get_ref(),
                        all.join(", ")
                    ),
                )
            })?,
        };
        let (models_span, raw_models) = match rp.models {
            None => (p_span, Vec::new()),
            Some(m) => {
                let span = m.span();
                (span, m.into_inner())
            }
        };
        if raw_models.is_empty() {
            return Err(self.err(
                Some(models_span),
                at("models"),
                format!("provider `{slug}` serves no models; add [[providers.models]] entries"),
            ));
        }
        let mut ids = HashSet::new();
        let mut endpoints = Vec::with_capacity(raw_models.len());
        for (j, re) in raw_models.into_iter().enumerate() {
            let id = re.get_ref().id.clone();
            if !ids.insert(id.get_ref().clone()) {
                let msg = format!("provider `{slug}` lists model `{}` twice", id.get_ref());
                return Err(self.err(
                    Some(id.span()),
                    format!("providers[{i}].models[{j}].id"),
                    msg,
                ));
            }
            endpoints.push(self.endpoint(&format!("providers[{i}].models[{j}]"), re)?);
        }
        Ok(Provider {
            name: name.to_string(),
            slug: slug.clone(),
            region,
            collects_data: rp.collects_data,
            zdr: rp.zdr,
            quantization,
            models: endpoints,
        })
    }

    fn endpoint(&self, path: &str, re: Spanned<RawEndpoint>) -> Result<Endpoint, FleetError> {
        let e_span = re.span();
        let re = re.into_inner();
        let at = |f: &str| format!("{path}.{f}");
        let id = re.id.get_ref();
        if let Err(why) = check_model_id(id) {
            return Err(self.err(Some(re.id.span()), at("id"), why));
        }
        let canonical_slug = match re.canonical_slug {
            None => None,
            Some(c) => {
                if let Err(why) = check_model_id(c.get_ref()) {
                    return Err(self.err(Some(c.span()), at("canonical_slug"), why));
                }
                Some(c.into_inner())
            }
        };
        let positive = |v: Option<Spanned<u64>>,
                        f: &str,
                        default: u64|
         -> Result<(u64, Option<Range<usize>>), FleetError> {
            match v {
                None => Ok((default, None)),
                Some(s) if *s.get_ref() == 0 => {
                    Err(self.err(Some(s.span()), at(f), "must be at least 1"))
                }
                Some(s) => Ok((*s.get_ref(), Some(s.span()))),
            }
        };
        let (context_length, _) = positive(re.context_length, "context_length", DEFAULT_CONTEXT)?;
        let (max_completion_tokens, mct_span) = positive(
            re.max_completion_tokens,
            "max_completion_tokens",
            DEFAULT_MAX_COMPLETION.min(context_length),
        )?;
        if max_completion_tokens > context_length {
            return Err(self.err(
                mct_span.or(Some(e_span.clone())),
                at("max_completion_tokens"),
                format!("{max_completion_tokens} exceeds context_length {context_length}"),
            ));
        }
        let price = |s: &Spanned<f64>, f: &str| -> Result<f64, FleetError> {
            let v = *s.get_ref();
            if !v.is_finite() || v < 0.0 {
                return Err(self.err(
                    Some(s.span()),
                    at(f),
                    format!("price must be ≥ 0 USD per million tokens, got {v}"),
                ));
            }
            Ok(v)
        };
        let prompt_price = price(&re.prompt_price, "prompt_price")?;
        let completion_price = price(&re.completion_price, "completion_price")?;
        let rate = |s: Option<Spanned<f64>>, f: &str| -> Result<f64, FleetError> {
            match s {
                None => Ok(0.0),
                Some(s) => {
                    let v = *s.get_ref();
                    if !(0.0..=1.0).contains(&v) {
                        return Err(self.err(
                            Some(s.span()),
                            at(f),
                            format!("must be between 0 and 1, got {v}"),
                        ));
                    }
                    Ok(v)
                }
            }
        };
        let error_rate = rate(re.error_rate, "error_rate")?;
        let rate_limit_rate = rate(re.rate_limit_rate, "rate_limit_rate")?;
        let input_modalities = match re.input_modalities {
            None => vec!["text".to_string()],
            Some(m) => {
                let list = m.get_ref();
                if list.is_empty() {
                    return Err(self.err(
                        Some(m.span()),
                        at("input_modalities"),
                        "must list at least one modality",
                    ));
                }
                if let Some(bad) = list.iter().find(|x| !MODALITIES.contains(&x.as_str())) {
                    return Err(self.err(
                        Some(m.span()),
                        at("input_modalities"),
                        format!(
                            "unknown modality `{bad}` (expected one of {})",
                            MODALITIES.join(", ")
                        ),
                    ));
                }
                m.into_inner()
            }
        };
        // Bounds keep every sampled delay sane: no zero speed, no hour-long first token.
        let jitter = |s: Option<Spanned<RawJitter>>,
                      f: &str,
                      default: Jitter,
                      range: (f64, f64)|
         -> Result<Jitter, FleetError> {
            let Some(s) = s else { return Ok(default) };
            let span = s.span();
            let RawJitter { mean, jitter } = s.into_inner();
            let (lo, hi) = range;
            if !(mean.is_finite() && mean >= lo && mean <= hi) {
                return Err(self.err(
                    Some(span),
                    at(&format!("{f}.mean")),
                    format!("must be between {lo} and {hi}, got {mean}"),
                ));
            }
            if !(jitter.is_finite() && jitter >= 0.0 && jitter <= hi) {
                return Err(self.err(
                    Some(span),
                    at(&format!("{f}.jitter")),
                    format!("must be between 0 and {hi}, got {jitter}"),
                ));
            }
            Ok(Jitter { mean, jitter })
        };
        let mut faults = Vec::with_capacity(re.faults.len());
        for (k, rf) in re.faults.iter().enumerate() {
            let fault = rf.get_ref().fields().build().map_err(|(field, msg)| {
                // A missing field points at the fault's `kind` line, the table's first key.
                let span = rf
                    .get_ref()
                    .span_of(field)
                    .unwrap_or_else(|| rf.get_ref().kind.span());
                self.err(Some(span), at(&format!("faults[{k}].{field}")), msg)
            })?;
            faults.push(fault);
        }
        let ttft_ms = jitter(re.ttft_ms, "ttft_ms", DEFAULT_TTFT, (0.0, 600_000.0))?;
        let tokens_per_sec = jitter(
            re.tokens_per_sec,
            "tokens_per_sec",
            DEFAULT_TPS,
            (0.1, 100_000.0),
        )?;
        Ok(Endpoint {
            id: id.clone(),
            canonical_slug,
            context_length,
            max_completion_tokens,
            prompt_price,
            completion_price,
            supported_parameters: re
                .supported_parameters
                .unwrap_or_else(|| DEFAULT_PARAMS.iter().map(|s| s.to_string()).collect()),
            input_modalities,
            ttft_ms,
            tokens_per_sec,
            error_rate,
            rate_limit_rate,
            retry_after_secs: re.retry_after_secs.unwrap_or(DEFAULT_RETRY_AFTER),
            answer_tokens: re.answer_tokens,
            assistant_prefill: re.assistant_prefill,
            faults,
        })
    }

    /// Two providers serving the same id must agree on its canonical slug, or `/models` is ambiguous.
    fn check_canonical_consistency(&self, providers: &[Provider]) -> Result<(), FleetError> {
        let mut seen: HashMap<&str, (&Option<String>, &str)> = HashMap::new();
        for (i, p) in providers.iter().enumerate() {
            for (j, e) in p.models.iter().enumerate() {
                match seen.get(e.id.as_str()) {
                    Some((c, other)) if *c != &e.canonical_slug => {
                        return Err(self.err(
                            None,
                            format!("providers[{i}].models[{j}].canonical_slug"),
                            format!("model `{}` has canonical_slug {:?} here but {:?} at provider `{other}`", e.id, e.canonical_slug, c),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(&e.id, (&e.canonical_slug, &p.slug));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A model id must be `author/slug` with an optional `:variant`, and nothing URL-hostile.
fn check_model_id(id: &str) -> Result<(), String> {
    let base = id.split_once(':').map_or(id, |(b, _)| b);
    let ok_chars = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c));
    let parts: Vec<&str> = base.split('/').collect();
    if !ok_chars || parts.len() != 2 || parts.iter().any(|p| p.is_empty()) || id.ends_with(':') {
        return Err(format!(
            "`{id}` is not a model id of the form `author/slug` (optionally `:variant`)"
        ));
    }
    Ok(())
}

/// 1-based line number of byte offset `pos`.
fn line_of(src: &str, pos: usize) -> usize {
    let pos = pos.min(src.len());
    src.as_bytes()[..pos]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Turns a toml/serde error into a `FleetError`, naming the field from the message or the line.
fn toml_error(src: &str, origin: &str, e: &toml::de::Error) -> FleetError {
    let message = e.message().trim().to_string();
    let line = e.span().map(|s| line_of(src, s.start));
    let field = backticked_after(&message, "unknown field ")
        .or_else(|| backticked_after(&message, "missing field "))
        .or_else(|| line.and_then(|l| key_on_line(src, l)));
    FleetError {
        origin: origin.to_string(),
        line,
        field,
        message,
    }
}

fn backticked_after(msg: &str, prefix: &str) -> Option<String> {
    let rest = &msg[msg.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('`')?;
    Some(rest[..rest.find('`')?].to_string())
}

/// The key assigned on a line (`key = …`) or the table header (`[a.b]`), if any.
fn key_on_line(src: &str, line: usize) -> Option<String> {
    let text = src.lines().nth(line.checked_sub(1)?)?.trim();
    if let Some(h) = text.strip_prefix('[') {
        let h = h.trim_start_matches('[');
        return Some(h[..h.find(']')?].trim().to_string());
    }
    let (k, _) = text.split_once('=')?;
    let k = k.trim().trim_matches('"');
    (!k.is_empty() && !k.starts_with('#')).then(|| k.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
seed = 1
time_scale = 0

[[providers]]
name = "Alpha"
slug = "alpha"
quantization = "fp8"

[[providers.models]]
id = "openai/gpt-4o-mini"
prompt_price = 0.15
completion_price = 0.6
"#;

    fn err_of(src: &str) -> FleetError {
        FleetSpec::from_toml(src, "test.toml").expect_err("spec should be rejected")
    }

    #[test]
    fn builtin_fleet_is_valid_and_has_five_distinct_providers() {
        let spec =
            FleetSpec::from_toml(BUILTIN_TOML, BUILTIN_ORIGIN).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.providers.len(), 5);
        assert!(spec.model_ids().len() >= 8, "{:?}", spec.model_ids());
        assert!(spec.providers.iter().any(|p| p.region == "eu" && p.zdr));
        assert!(
            spec.providers
                .iter()
                .any(|p| p.collects_data && p.quantization == Quantization::Fp8)
        );
        for p in &spec.providers {
            for e in &p.models {
                assert!(
                    e.error_rate <= 0.03 && e.rate_limit_rate <= 0.03,
                    "{} {} too flaky",
                    p.slug,
                    e.id
                );
                assert!(
                    (300.0..=1500.0).contains(&e.ttft_ms.mean),
                    "{} {} ttft",
                    p.slug,
                    e.id
                );
                assert!(
                    (40.0..=200.0).contains(&e.tokens_per_sec.mean),
                    "{} {} speed",
                    p.slug,
                    e.id
                );
            }
        }
        for id in spec.model_ids() {
            let n = spec.endpoints_for(id).len();
            assert!((1..=4).contains(&n), "{id} served by {n}");
            assert!(
                spec.meta(id).and_then(|m| m.name.as_ref()).is_some(),
                "{id} has no name"
            );
        }
        assert_eq!(FleetSpec::builtin(), spec);
    }

    #[test]
    fn minimal_spec_gets_defaults() {
        let spec = FleetSpec::from_toml(MINIMAL, "t").unwrap();
        let p = &spec.providers[0];
        assert_eq!(p.region, "us");
        assert_eq!(p.quantization, Quantization::Fp8);
        let e = &p.models[0];
        assert_eq!(e.input_modalities, vec!["text"]);
        assert_eq!(e.context_length, DEFAULT_CONTEXT);
        assert_eq!(e.error_rate, 0.0);
        assert_eq!(spec.time_scale, 0.0);
        assert!(spec.api_key.is_none());
    }

    #[test]
    fn unknown_field_names_field_and_line() {
        let src = MINIMAL.replace(
            "completion_price = 0.6",
            "completion_price = 0.6\ncolour = \"red\"",
        );
        let e = err_of(&src);
        assert_eq!(e.field(), Some("colour"));
        assert_eq!(e.line(), Some(14));
        let shown = e.to_string();
        assert!(
            shown.starts_with("test.toml, line 14, field `colour`"),
            "{shown}"
        );
    }

    #[test]
    fn negative_price_is_rejected_with_line() {
        let e = err_of(&MINIMAL.replace("prompt_price = 0.15", "prompt_price = -1"));
        assert_eq!(e.field(), Some("providers[0].models[0].prompt_price"));
        assert_eq!(e.line(), Some(12));
        assert!(e.message().contains("≥ 0"), "{e}");
    }

    #[test]
    fn rates_outside_unit_interval_are_rejected() {
        let e = err_of(&MINIMAL.replace(
            "completion_price = 0.6",
            "completion_price = 0.6\nerror_rate = 1.5",
        ));
        assert_eq!(e.field(), Some("providers[0].models[0].error_rate"));
        assert_eq!(e.line(), Some(14));
        let e = err_of(&MINIMAL.replace(
            "completion_price = 0.6",
            "completion_price = 0.6\nrate_limit_rate = -0.1",
        ));
        assert_eq!(e.field(), Some("providers[0].models[0].rate_limit_rate"));
    }

    #[test]
    fn unknown_quantization_is_rejected() {
        let e = err_of(&MINIMAL.replace("\"fp8\"", "\"fp9\""));
        assert_eq!(e.field(), Some("providers[0].quantization"));
        assert_eq!(e.line(), Some(8));
        assert!(
            e.message().contains("fp9") && e.message().contains("bf16"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_slugs_are_rejected() {
        let second = "\n[[providers]]\nname = \"Beta\"\nslug = \"alpha\"\n[[providers.models]]\nid = \"a/b\"\nprompt_price = 1\ncompletion_price = 1\n";
        let e = err_of(&format!("{MINIMAL}{second}"));
        assert_eq!(e.field(), Some("providers[1].slug"));
        assert_eq!(e.line(), Some(17));
        assert!(e.message().contains("duplicate slug `alpha`"), "{e}");
    }

    #[test]
    fn empty_provider_list_is_rejected() {
        let e = err_of("seed = 3\n");
        assert_eq!(e.field(), Some("providers"));
        assert!(e.message().contains("at least one"), "{e}");
        let e = err_of("seed = 3\nproviders = []\n");
        assert_eq!(e.line(), Some(2));
    }

    #[test]
    fn syntax_and_type_errors_name_line_and_field() {
        let e = err_of(&MINIMAL.replace("prompt_price = 0.15", "prompt_price = \"cheap\""));
        assert_eq!(e.line(), Some(12));
        assert_eq!(e.field(), Some("prompt_price"));
        let e = err_of("seed = \n");
        assert_eq!(e.line(), Some(1));
        let e = err_of(&MINIMAL.replace("slug = \"alpha\"\n", ""));
        assert_eq!(e.field(), Some("slug"));
    }

    #[test]
    fn other_semantic_checks() {
        let bad_id = err_of(&MINIMAL.replace("openai/gpt-4o-mini", "gpt 4o"));
        assert_eq!(bad_id.field(), Some("providers[0].models[0].id"));
        let bad_slug = err_of(&MINIMAL.replace("slug = \"alpha\"", "slug = \"Alpha Cloud\""));
        assert_eq!(bad_slug.field(), Some("providers[0].slug"));
        let bad_ts = err_of(&MINIMAL.replace("time_scale = 0", "time_scale = -2"));
        assert_eq!(bad_ts.field(), Some("time_scale"));
        let bad_tps = err_of(&MINIMAL.replace(
            "completion_price = 0.6",
            "completion_price = 0.6\ntokens_per_sec = { mean = 0 }",
        ));
        assert_eq!(
            bad_tps.field(),
            Some("providers[0].models[0].tokens_per_sec.mean")
        );
        let slow_ttft = err_of(&MINIMAL.replace(
            "completion_price = 0.6",
            "completion_price = 0.6\nttft_ms = { mean = 1e9 }",
        ));
        assert_eq!(
            slow_ttft.field(),
            Some("providers[0].models[0].ttft_ms.mean")
        );
        assert_eq!(slow_ttft.line(), Some(14));
        let no_models = err_of("[[providers]]\nname = \"A\"\nslug = \"a\"\n");
        assert_eq!(no_models.field(), Some("providers[0].models"));
        let orphan_meta = err_of(&format!("{MINIMAL}\n[[models]]\nid = \"x/y\"\n"));
        assert_eq!(orphan_meta.field(), Some("models[0].id"));
        let modality = err_of(&MINIMAL.replace(
            "completion_price = 0.6",
            "completion_price = 0.6\ninput_modalities = [\"smell\"]",
        ));
        assert!(modality.message().contains("smell"), "{modality}");
    }

    #[test]
    fn faults_parse_and_bad_ones_name_line_and_field() {
        use crate::fleet::fault::FaultKind;
        let add = |f: &str| {
            MINIMAL.replace(
                "completion_price = 0.6",
                &format!("completion_price = 0.6\n\n[[providers.models.faults]]\n{f}"),
            )
        };
        let spec = FleetSpec::from_toml(
            &add("kind = \"cut\"\nafter_tokens = 5\nfrom_s = 10\nuntil_s = 20\nprobability = 0.5\ntimes = 2"),
            "t",
        )
        .unwrap();
        let f = spec.providers[0].models[0].faults[0];
        assert_eq!(f.kind, FaultKind::Cut { after_tokens: 5 });
        assert_eq!(
            (f.from_s, f.until_s, f.probability, f.times),
            (Some(10.0), Some(20.0), 0.5, Some(2))
        );
        // Lines: the fault table starts at line 15 with `kind` on line 16.
        let e = err_of(&add("kind = \"meltdown\""));
        assert_eq!(e.field(), Some("providers[0].models[0].faults[0].kind"));
        assert_eq!(e.line(), Some(16));
        assert!(
            e.message().contains("meltdown") && e.message().contains("stall"),
            "{e}"
        );
        let e = err_of(&add("kind = \"stall\""));
        assert_eq!(
            e.field(),
            Some("providers[0].models[0].faults[0].after_tokens")
        );
        assert_eq!(e.line(), Some(16));
        let e = err_of(&add("kind = \"outage\"\nfrom_s = -3"));
        assert_eq!(e.field(), Some("providers[0].models[0].faults[0].from_s"));
        assert_eq!(e.line(), Some(17));
        let e = err_of(&add("kind = \"outage\"\nfrom_s = 30\nuntil_s = 10"));
        assert_eq!(e.field(), Some("providers[0].models[0].faults[0].until_s"));
        assert_eq!(e.line(), Some(18));
        let e = err_of(&add("kind = \"outage\"\nprobability = 1.5"));
        assert_eq!(
            e.field(),
            Some("providers[0].models[0].faults[0].probability")
        );
        let e = err_of(&add("kind = \"outage\"\nafter_tokens = 3"));
        assert_eq!(
            e.field(),
            Some("providers[0].models[0].faults[0].after_tokens")
        );
        let e = err_of(&add("kind = \"outage\"\ncolour = 1"));
        assert_eq!(e.field(), Some("colour"));
        assert_eq!(e.line(), Some(17));
    }

    #[test]
    fn load_reports_missing_file_with_path() {
        let e = FleetSpec::load(Path::new("/nonexistent/fleet.toml")).unwrap_err();
        assert_eq!(e.origin(), "/nonexistent/fleet.toml");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    #[test]
    fn with_time_scale_sanitises() {
        let s = FleetSpec::from_toml(MINIMAL, "t").unwrap();
        assert_eq!(s.clone().with_time_scale(2.5).time_scale, 2.5);
        assert_eq!(s.clone().with_time_scale(f64::NAN).time_scale, 0.0);
        assert_eq!(s.with_time_scale(-1.0).time_scale, 0.0);
    }
}
