//! Model catalog (`GET /models`) and endpoint listing types.
//!
//! Decoding is lenient: every field but `id` may be missing, unknown fields are ignored, prices
//! are accepted as decimal strings or numbers (real endpoint data sends `"request":0`), and a
//! catalog entry that still fails to decode is dropped rather than failing the whole list.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// `GET /models` response: `{"data":[Model…]}` (plus pagination fields we don't need).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    /// The models; entries that do not decode are skipped.
    #[serde(deserialize_with = "skip_undecodable")]
    pub data: Vec<Model>,
    /// Total matching models (newer API versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
}

/// One `GET /models` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Routable id, `author/slug[:variant]`.
    pub id: String,
    /// Dated permanent slug; responses may report this instead of `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_slug: Option<String>,
    /// Hugging Face repo id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hugging_face_id: Option<String>,
    /// Display name, e.g. `Google: Gemini 2.5 Pro`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unix time the model was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Description (markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Context window in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Modalities and tokenizer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Prices in USD per token (per unit for images, requests, searches).
    #[serde(default)]
    pub pricing: Pricing,
    /// Limits of the top provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_provider: Option<TopProvider>,
    /// Per-request token limits (usually null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_request_limits: Option<Value>,
    /// Request parameters some endpoint supports (`tools`, `structured_outputs`, …).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub supported_parameters: Vec<String>,
    /// Default sampling parameters (values may be null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_parameters: Option<Value>,
    /// Reasoning capabilities; absent for non-reasoning models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ModelReasoning>,
    /// Training-data cutoff, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge_cutoff: Option<String>,
    /// Date after which the model may be removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    /// Related API paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<ModelLinks>,
    /// For `~author/family-latest` aliases: the concrete target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<AliasTarget>,
    /// Owner, from OpenAI-style lists (OpenRouter does not send it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

/// Model architecture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// E.g. `text+image->text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    /// `text`, `image`, `file`, `audio`, `video`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub input_modalities: Vec<String>,
    /// `text`, `image`, `embeddings`, `audio`, …
    #[serde(default, deserialize_with = "null_as_default")]
    pub output_modalities: Vec<String>,
    /// Tokenizer family, e.g. `GPT`, `Claude`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
    /// Instruction format, e.g. `chatml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruct_type: Option<String>,
}

/// Limits of the model's top provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopProvider {
    /// Context window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Output cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u64>,
    /// Whether the provider moderates content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_moderated: Option<bool>,
}

/// Reasoning capabilities of a model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelReasoning {
    /// Accepted `reasoning.effort` values, most effort first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_efforts: Option<Vec<String>>,
    /// Effort used when reasoning is enabled without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_effort: Option<String>,
    /// Reasoning on when the request says nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_enabled: Option<bool>,
    /// Reasoning cannot be turned off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory: Option<bool>,
    /// `reasoning.max_tokens` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_max_tokens: Option<bool>,
}

/// Related API paths of a model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelLinks {
    /// Path of the endpoints listing, e.g. `/api/v1/models/a/b/endpoints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// Target of a `~…-latest` alias.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasTarget {
    /// Routable id of the target.
    #[serde(default)]
    pub slug: String,
    /// Its display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A price in USD (per token unless the key says otherwise), decoded from `"0.00000015"` or a
/// number, written back as a decimal string like the API. `-1` marks variable router pricing.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct Price(pub f64);

impl Price {
    /// USD per token (or per unit).
    pub fn per_token(self) -> f64 {
        self.0
    }
    /// USD per million tokens (or units).
    pub fn per_million(self) -> f64 {
        self.0 * 1_000_000.0
    }
    /// Exactly zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0.0
    }
    /// Negative: routers (`openrouter/auto`) report `-1` because the price depends on the model picked.
    pub fn is_variable(self) -> bool {
        self.0 < 0.0
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // f64's Display never uses exponent notation, so this matches the API's decimal strings.
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumberOrString).map(Price)
    }
}

use super::lenient::NumberOrString;
pub(crate) use super::lenient::{lenient_f64, null_as_default};

/// Model or endpoint pricing. Missing keys are `None` (real data omits most of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    /// Per input token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Price>,
    /// Per output token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Price>,
    /// Per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Price>,
    /// Per input image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Price>,
    /// Per output image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_output: Option<Price>,
    /// Per image token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_token: Option<Price>,
    /// Per audio input token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Price>,
    /// Per audio output token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_output: Option<Price>,
    /// Per cached audio input token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_audio_cache: Option<Price>,
    /// Per cached input token read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cache_read: Option<Price>,
    /// Per cache-write token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cache_write: Option<Price>,
    /// Per 1-hour cache-write token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cache_write_1h: Option<Price>,
    /// Per internal reasoning token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_reasoning: Option<Price>,
    /// Per web search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search: Option<Price>,
    /// Fractional discount (a number).
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount: Option<f64>,
    /// Conditional overrides (long context, time windows); later entries win per key.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub overrides: Vec<PricingOverride>,
}

impl Pricing {
    /// Both prompt and completion are present and zero.
    pub fn is_zero(&self) -> bool {
        matches!((self.prompt, self.completion), (Some(p), Some(c)) if p.is_zero() && c.is_zero())
    }

    /// What `prompt` and `completion` tokens cost at the list prices (and the per-request
    /// price); `None` when either price is missing or variable.
    pub fn cost(&self, prompt: u64, completion: u64) -> Option<f64> {
        let (p, c) = (self.prompt?, self.completion?);
        if p.is_variable() || c.is_variable() {
            return None;
        }
        let request = self.request.map_or(0.0, Price::per_token);
        Some(p.per_token() * prompt as f64 + c.per_token() * completion as f64 + request)
    }
}

/// A conditional pricing override.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PricingOverride {
    /// Applies when the prompt has at least this many tokens.
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_prompt_tokens: Option<f64>,
    /// Daily UTC window start, HHMM (inclusive).
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub utc_start: Option<f64>,
    /// Daily UTC window end, HHMM (exclusive).
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub utc_end: Option<f64>,
    /// Overridden prompt price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Price>,
    /// Overridden completion price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Price>,
    /// Overridden cache-read price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cache_read: Option<Price>,
    /// Overridden cache-write price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cache_write: Option<Price>,
    /// Overridden 1-hour cache-write price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cache_write_1h: Option<Price>,
    /// Overridden audio price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Price>,
    /// Overridden cached-audio price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_audio_cache: Option<Price>,
}

impl Model {
    /// The `:free` variant, which has its own rate limits (20/min, 50 or 1000/day). A zero price
    /// alone is not enough: e.g. Lyria reports 0/0 but bills per clip.
    pub fn is_free(&self) -> bool {
        self.id.ends_with(":free")
    }

    /// Whether a model id reported by the API (e.g. a response's `model`) is this model: its id,
    /// its dated canonical slug, or the canonical slug with this model's `:variant` suffix.
    pub fn matches_id(&self, id: &str) -> bool {
        if self.id == id {
            return true;
        }
        let Some(slug) = self.canonical_slug.as_deref() else {
            return false;
        };
        match id.strip_prefix(slug) {
            Some("") => true,
            Some(rest) if rest.starts_with(':') => self.id.ends_with(rest),
            _ => false,
        }
    }

    /// Whether some endpoint supports the request parameter `param` (e.g. `tools`).
    pub fn supports(&self, param: &str) -> bool {
        self.supported_parameters.iter().any(|p| p == param)
    }
}

/// The model an API-reported id refers to: an exact id match first, then [`Model::matches_id`].
pub fn find_model<'a>(models: &'a [Model], id: &str) -> Option<&'a Model> {
    models
        .iter()
        .find(|m| m.id == id)
        .or_else(|| models.iter().find(|m| m.matches_id(id)))
}

/// `GET /models/{author}/{slug}/endpoints` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointsResponse {
    /// The model and its endpoints.
    pub data: ModelEndpoints,
}

/// A model with its provider endpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelEndpoints {
    /// Model id.
    #[serde(default)]
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unix time added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// One entry per provider endpoint.
    #[serde(default, deserialize_with = "null_as_default")]
    pub endpoints: Vec<PublicEndpoint>,
}

/// One provider endpoint serving a model. Unknown fields (e.g. `supports_tool_choice`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PublicEndpoint {
    /// Real form: `"Provider | model_id"`.
    #[serde(default)]
    pub name: String,
    /// Model permaslug served here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// Model display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// Context window here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Prices here.
    #[serde(default)]
    pub pricing: Pricing,
    /// Provider display name, e.g. `DeepInfra`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    /// Routing slug for `provider.order`/`only`, e.g. `deepinfra/fp8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Quantization, e.g. `fp8` (null when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    /// Output cap here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u64>,
    /// Prompt cap here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_prompt_tokens: Option<u64>,
    /// Parameters this endpoint supports.
    #[serde(default, deserialize_with = "null_as_default")]
    pub supported_parameters: Vec<String>,
    /// 0 is OK; negative values are degraded states (-1, -2, -3, -5, -10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// Uptime % over 5 minutes (null with too little data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_last_5m: Option<f64>,
    /// Uptime % over 30 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_last_30m: Option<f64>,
    /// Uptime % over 1 day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_last_1d: Option<f64>,
    /// Time-to-first-token percentiles (null unless authenticated). Units: the spec text says
    /// ms but its examples look like seconds; check live data before converting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_last_30m: Option<PercentileStats>,
    /// Tokens/second percentiles (null unless authenticated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_last_30m: Option<PercentileStats>,
    /// Prompt caching happens without cache_control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_implicit_caching: Option<bool>,
    /// TTS endpoint accepts inline reference audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_voice_cloning: Option<bool>,
}

impl PublicEndpoint {
    /// Status 0 (or no status reported).
    pub fn is_up(&self) -> bool {
        self.status.is_none_or(|s| s == 0)
    }
}

/// p50/p75/p90/p99 statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PercentileStats {
    /// Median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    /// 75th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p75: Option<f64>,
    /// 90th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    /// 99th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

/// An OpenAI-style model list, `{"object":"list","data":[{"id","owned_by",…}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAiModelList {
    /// Usually `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The models.
    pub data: Vec<OpenAiModel>,
}

/// One entry of an OpenAI-style model list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAiModel {
    /// Model id (any form; local servers need not use `author/slug`).
    pub id: String,
    /// Usually `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Unix time created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

impl OpenAiModelList {
    /// Converts to catalog models (no pricing or context information).
    pub fn into_models(self) -> Vec<Model> {
        self.data
            .into_iter()
            .map(|m| Model {
                id: m.id,
                created: m.created,
                owned_by: m.owned_by,
                ..Default::default()
            })
            .collect()
    }
}

/// Short prompt/completion price per million tokens: `free`, `$0.15/M` (same both ways),
/// `$0.15/$0.60/M` (in/out), `varies` (routers), `-` (unknown).
pub fn format_price_per_million(pricing: &Pricing) -> String {
    let (Some(p), Some(c)) = (pricing.prompt, pricing.completion) else {
        return "-".into();
    };
    if p.is_variable() || c.is_variable() {
        "varies".into()
    } else if p.is_zero() && c.is_zero() {
        "free".into()
    } else if p == c {
        format!("${}/M", usd(p.per_million()))
    } else {
        format!("${}/${}/M", usd(p.per_million()), usd(c.per_million()))
    }
}

/// At least two decimals, up to six, trailing zeros trimmed beyond two ("0.15", "0.075", "15.00").
fn usd(v: f64) -> String {
    let s = format!("{v:.6}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac = frac.trim_end_matches('0');
    format!("{int}.{frac:0<2}")
}

/// A USD cost as people read it, never cut mid-number: `$0`, three significant digits below a
/// cent (`$0.000123`, `$0.00463`, `$0.00048`), else three decimals (`$1.235`).
pub fn format_cost(c: f64) -> String {
    if c == 0.0 || !c.is_finite() {
        "$0".into()
    } else if c.abs() < 0.01 {
        let decimals = ((-c.abs().log10()).floor() as usize + 3).min(10);
        let s = format!("${c:.decimals$}");
        s.trim_end_matches('0').to_string()
    } else {
        format!("${c:.3}")
    }
}

/// Models whose id or name fuzzily matches `query`, best first (case-insensitive).
///
/// Tiers: exact (id, slug after `/`, name, or name after `Author: `) > prefix > contiguous
/// substring > scattered subsequence. Spaces, `-`, `_`, `/` and `:` count as the same separator,
/// so "gemini 2.5 pro" is an exact hit on `google/gemini-2.5-pro`. Ties go to the shorter id,
/// then catalog order. An empty query returns every model.
pub fn fuzzy_filter<'a>(models: &'a [Model], query: &str) -> Vec<&'a Model> {
    SearchIndex::new(models).filter(models, query)
}

/// Each model's searchable forms, normalized once (per catalog, not per keystroke).
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    /// Per model, in catalog order: each form, and its characters without separators.
    forms: Vec<Vec<(String, Vec<char>)>>,
}

impl SearchIndex {
    /// Indexes `models`.
    pub fn new(models: &[Model]) -> Self {
        let forms = models
            .iter()
            .map(|m| {
                let mut forms = vec![m.id.as_str()];
                if let Some((_, slug)) = m.id.split_once('/') {
                    forms.push(slug);
                }
                if let Some(name) = m.name.as_deref() {
                    forms.push(name);
                    if let Some((_, rest)) = name.split_once(": ") {
                        forms.push(rest);
                    }
                }
                forms
                    .into_iter()
                    .map(|f| {
                        let n = normalize(f);
                        let chars = n.chars().filter(|c| *c != ' ').collect();
                        (n, chars)
                    })
                    .collect()
            })
            .collect();
        SearchIndex { forms }
    }

    /// Whether this index was made from a list of `n` models.
    pub fn covers(&self, n: usize) -> bool {
        self.forms.len() == n
    }

    /// [`fuzzy_filter`] over `models`, which must be the list this index was made from.
    pub fn filter<'a>(&self, models: &'a [Model], query: &str) -> Vec<&'a Model> {
        let q = normalize(query);
        if q.is_empty() {
            return models.iter().collect();
        }
        if !self.covers(models.len()) {
            return SearchIndex::new(models).filter(models, query);
        }
        let qc: Vec<char> = q.chars().filter(|c| *c != ' ').collect();
        let mut hits: Vec<((u8, usize, usize), &Model)> = models
            .iter()
            .zip(&self.forms)
            .filter_map(|(m, forms)| {
                forms
                    .iter()
                    .filter_map(|(s, chars)| score_form(s, chars, &q, &qc))
                    .min()
                    .map(|s| ((s.0, s.1, m.id.len()), m))
            })
            .collect();
        hits.sort_by_key(|(s, _)| *s); // stable: catalog order breaks remaining ties
        hits.into_iter().map(|(_, m)| m).collect()
    }
}

/// Lowercases and folds separators into single spaces.
fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars().flat_map(char::to_lowercase) {
        if matches!(ch, ' ' | '-' | '_' | '/' | ':' | '\t') {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(ch);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Best (tier, tiebreak) of one normalized form; lower is better.
fn score_form(s: &str, s_chars: &[char], q: &str, q_chars: &[char]) -> Option<(u8, usize)> {
    if s == q {
        Some((0, 0))
    } else if s.starts_with(q) {
        Some((1, 0))
    } else if let Some(pos) = s.find(q) {
        Some((2, pos))
    } else {
        // Separators are optional in scattered matches ("gem25pro").
        tightest_subsequence(s_chars, q_chars).map(|span| (3, span))
    }
}

/// Length of the shortest window of `s` containing `q` as a subsequence.
fn tightest_subsequence(s: &[char], q: &[char]) -> Option<usize> {
    let first = *q.first()?;
    let mut best: Option<usize> = None;
    for start in (0..s.len()).filter(|&i| s[i] == first) {
        let mut qi = 1;
        let mut end = start;
        for (i, c) in s.iter().enumerate().skip(start + 1) {
            if qi == q.len() {
                break;
            }
            if *c == q[qi] {
                qi += 1;
                end = i;
            }
        }
        if qi == q.len() {
            let span = end - start + 1;
            best = Some(best.map_or(span, |b| b.min(span)));
        }
    }
    best
}

/// Decodes a model array, dropping entries that fail so one odd model can't empty the picker.
fn skip_undecodable<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Model>, D::Error> {
    let raw = Vec::<Value>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(id: &str, name: &str) -> Model {
        Model {
            id: id.into(),
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn price_parses_strings_and_numbers() {
        let p: Pricing = serde_json::from_value(
            json!({"prompt":"0.00000015","completion":0,"request":"0","discount":0}),
        )
        .unwrap();
        let prompt = p.prompt.unwrap();
        assert!((prompt.per_token() - 1.5e-7).abs() < 1e-18);
        assert!((prompt.per_million() - 0.15).abs() < 1e-9);
        assert_eq!(p.completion, Some(Price(0.0)));
        assert_eq!(p.request, Some(Price(0.0)));
        assert_eq!(p.image, None);
        assert_eq!(p.discount, Some(0.0));
        assert!(serde_json::from_value::<Price>(json!("n/a")).is_err());
        assert_eq!(
            serde_json::to_value(Price(1.5e-7)).unwrap(),
            json!("0.00000015")
        );
    }

    #[test]
    fn price_display() {
        let pr = |p: &str, c: &str| Pricing {
            prompt: Some(serde_json::from_value(json!(p)).unwrap()),
            completion: Some(serde_json::from_value(json!(c)).unwrap()),
            ..Default::default()
        };
        assert_eq!(
            format_price_per_million(&pr("0.00000015", "0.00000015")),
            "$0.15/M"
        );
        assert_eq!(
            format_price_per_million(&pr("0.00000015", "0.0000006")),
            "$0.15/$0.60/M"
        );
        assert_eq!(
            format_price_per_million(&pr("0.000000075", "0.000015")),
            "$0.075/$15.00/M"
        );
        assert_eq!(format_price_per_million(&pr("0", "0")), "free");
        assert_eq!(format_price_per_million(&pr("-1", "-1")), "varies");
        assert_eq!(format_price_per_million(&Pricing::default()), "-");
    }

    #[test]
    fn matches_id_or_canonical_slug() {
        let m = Model {
            id: "anthropic/claude-sonnet-4.5".into(),
            canonical_slug: Some("anthropic/claude-4.5-sonnet-20250929".into()),
            ..Default::default()
        };
        assert!(m.matches_id("anthropic/claude-sonnet-4.5"));
        assert!(m.matches_id("anthropic/claude-4.5-sonnet-20250929"));
        assert!(!m.matches_id("anthropic/claude-4.5-sonnet"));
        assert!(!m.matches_id("anthropic/claude-4.5-sonnet-20250929:free"));
        let free = Model {
            id: "nex-agi/nex-n2.5-pro:free".into(),
            canonical_slug: Some("nex-agi/nex-n2.5-pro-20260907".into()),
            ..Default::default()
        };
        assert!(free.matches_id("nex-agi/nex-n2.5-pro-20260907:free"));
        assert!(free.is_free());
        assert!(!m.is_free());
    }

    #[test]
    fn find_model_prefers_exact_id() {
        let paid = Model {
            id: "g/m".into(),
            canonical_slug: Some("g/m".into()),
            ..Default::default()
        };
        let free = Model {
            id: "g/m:free".into(),
            canonical_slug: Some("g/m".into()),
            ..Default::default()
        };
        let list = [free, paid];
        assert_eq!(find_model(&list, "g/m").unwrap().id, "g/m");
        assert_eq!(find_model(&list, "g/m:free").unwrap().id, "g/m:free");
        assert!(find_model(&list, "x/y").is_none());
    }

    #[test]
    fn fuzzy_tiers() {
        let list = vec![
            model(
                "google/gemini-2.5-pro-preview",
                "Google: Gemini 2.5 Pro Preview",
            ),
            model("acme/gxexmxixnxi", "Acme: Scattered"),
            model("google/gemini-2.5-pro", "Google: Gemini 2.5 Pro"),
            model("other/my-gemini-2.5-pro", "Other: Mine"),
            model("openai/gpt-4o", "OpenAI: GPT-4o"),
        ];
        let ids = |q: &str| {
            fuzzy_filter(&list, q)
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids("Gemini 2.5 Pro"),
            [
                "google/gemini-2.5-pro",
                "google/gemini-2.5-pro-preview",
                "other/my-gemini-2.5-pro"
            ]
        );
        assert_eq!(
            ids("gemini"),
            [
                "google/gemini-2.5-pro",
                "google/gemini-2.5-pro-preview",
                "other/my-gemini-2.5-pro",
                "acme/gxexmxixnxi"
            ]
        );
        assert_eq!(ids("gpt4o"), ["openai/gpt-4o"]);
        assert!(ids("zzz").is_empty());
        assert_eq!(ids("  ").len(), list.len());
    }

    #[test]
    fn model_list_skips_bad_entries_and_tolerates_missing_fields() {
        let l: ModelList = serde_json::from_value(json!({"data":[
            {"id":"a/b"},
            {"id":"c/d","pricing":{"prompt":"bad"}},
            {"name":"no id"},
            {"id":"e/f","pricing":{"prompt":"0","completion":"0"},"supported_parameters":null,"new_field":1}
        ]}))
        .unwrap();
        let ids: Vec<_> = l.data.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["a/b", "e/f"]);
        assert!(l.data[1].pricing.is_zero());
    }

    #[test]
    fn openai_list_converts() {
        let l: OpenAiModelList = serde_json::from_value(json!({"object":"list","data":[
            {"id":"llama3:8b","object":"model","created":1,"owned_by":"library"}]}))
        .unwrap();
        let ms = l.into_models();
        assert_eq!(ms[0].id, "llama3:8b");
        assert_eq!(ms[0].owned_by.as_deref(), Some("library"));
        assert_eq!(format_price_per_million(&ms[0].pricing), "-");
    }
}
