//! Per-pane request settings and the one request builder that turns them, a conversation and a
//! prompt into a `ChatRequest` — used by the workbench, `ask` and (later) the plan preview, so
//! what is previewed is what is sent. Pure: no terminal, no network.

use crate::wire::request::{
    ChatRequest, Effort, Message, ProviderPreferences, ReasoningConfig, ResponseFormat,
};
use clap::Args;

/// What a pane asks for beyond its conversation. Every field is sent only when set.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RequestSettings {
    /// Routing preferences (`provider`), also used by Switchyard's router.
    pub provider: Option<ProviderPreferences>,
    /// Fallback models (`models`) after the primary.
    pub fallbacks: Vec<String>,
    /// A system prompt, sent first.
    pub system: Option<String>,
    /// Sampling temperature, 0–2.
    pub temperature: Option<f64>,
    /// Nucleus sampling, 0–1.
    pub top_p: Option<f64>,
    /// Most tokens in the answer.
    pub max_tokens: Option<u32>,
    /// Reasoning effort (`reasoning.effort`; OpenRouter's field, stripped for plain servers).
    pub reasoning_effort: Option<Effort>,
    /// Structured output (`response_format`).
    pub response_format: Option<ResponseFormat>,
    /// Only EU processing (OpenRouter's EU host; Switchyard's router keeps EU endpoints).
    pub eu: bool,
    /// With a JSON schema on, do not require endpoints to list structured outputs (by default
    /// a schema turns `require_parameters` on, so no endpoint silently ignores it).
    pub no_require_parameters: bool,
    /// Keep this pane's prompts and answers out of the history (with zero-retention routing,
    /// nothing of it is kept anywhere).
    pub unrecorded: bool,
    /// OpenRouter's `file-parser` engine for PDFs (sent only with a PDF attached).
    pub pdf_engine: Option<crate::wire::request::PdfEngine>,
}

impl RequestSettings {
    /// The first setting out of range, as (field, message).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(t) = self.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(("temperature", format!("{t} is outside 0–2")));
        }
        if let Some(p) = self.top_p
            && !(p > 0.0 && p <= 1.0)
        {
            return Err(("top_p", format!("{p} is outside (0, 1]")));
        }
        if self.max_tokens == Some(0) {
            return Err(("max_tokens", "must be at least 1".into()));
        }
        if self.system.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(("system", "is empty".into()));
        }
        if let Some(ResponseFormat::JsonSchema { json_schema: j }) = &self.response_format {
            crate::schema::check_name(&j.name).map_err(|e| ("response_format", e))?;
            if let Err(ps) = crate::schema::check(j.schema.clone()) {
                return Err(("response_format", format!("the schema: {}", ps[0])));
            }
        }
        Ok(())
    }
}

/// Builds the request: the system prompt, each earlier (prompt, answer) exchange, the prompt.
pub fn build<'a>(
    model: &str,
    settings: &RequestSettings,
    history: impl IntoIterator<Item = (Prompt<'a>, &'a str)>,
    prompt: impl Into<Prompt<'a>>,
) -> ChatRequest {
    let prompt = prompt.into();
    let mut messages = Vec::new();
    if let Some(s) = &settings.system {
        messages.push(Message::system(s.clone()));
    }
    let mut pdf = prompt.has_pdf();
    for (p, a) in history {
        if a.is_empty() {
            continue;
        }
        pdf |= p.has_pdf();
        messages.push(p.message());
        messages.push(Message::assistant(a.to_string()));
    }
    messages.push(prompt.message());
    let plugins = settings
        .pdf_engine
        .filter(|_| pdf)
        .map(|e| vec![crate::wire::request::Plugin::file_parser(e)]);
    let mut provider = settings.provider.clone();
    if matches!(
        settings.response_format,
        Some(ResponseFormat::JsonSchema { .. })
    ) && !settings.no_require_parameters
    {
        provider
            .get_or_insert_with(Default::default)
            .require_parameters
            .get_or_insert(true);
    }
    ChatRequest {
        model: Some(model.to_string()),
        models: (!settings.fallbacks.is_empty()).then(|| settings.fallbacks.clone()),
        messages,
        stream: Some(true),
        provider,
        temperature: settings.temperature,
        top_p: settings.top_p,
        max_tokens: settings.max_tokens,
        reasoning: settings.reasoning_effort.map(|e| ReasoningConfig {
            effort: Some(e),
            ..Default::default()
        }),
        response_format: settings.response_format.clone(),
        plugins,
        ..Default::default()
    }
}

/// A prompt and what is attached to it, as the builder takes them.
#[derive(Debug, Clone, Copy)]
pub struct Prompt<'a> {
    /// What the user typed.
    pub text: &'a str,
    /// Files sent with it, in order.
    pub attachments: &'a [crate::attach::Attachment],
}

impl<'a> Prompt<'a> {
    /// A prompt with attachments.
    pub fn new(text: &'a str, attachments: &'a [crate::attach::Attachment]) -> Self {
        Self { text, attachments }
    }

    fn has_pdf(&self) -> bool {
        self.attachments
            .iter()
            .any(|a| a.kind == crate::attach::Kind::Pdf)
    }

    /// The user message: plain text, or the text first and then each attachment's part.
    fn message(&self) -> Message {
        Message {
            role: crate::wire::request::Role::User,
            content: crate::attach::content(self.text, self.attachments),
            ..Default::default()
        }
    }
}

impl<'a> From<&'a str> for Prompt<'a> {
    fn from(text: &'a str) -> Self {
        Self {
            text,
            attachments: &[],
        }
    }
}

impl<'a> From<&'a String> for Prompt<'a> {
    fn from(text: &'a String) -> Self {
        text.as_str().into()
    }
}

/// Routing presets, by name: (name, what it does).
pub const PRESETS: [(&str, &str); 4] = [
    ("cheapest", "sort by price"),
    ("fastest", "sort by throughput"),
    ("lowest-latency", "sort by latency"),
    (
        "cheap-under-3s",
        "sort by price, demoting endpoints slower than 3 s to first token at p90",
    ),
];

/// The `provider` preferences a preset stands for.
pub fn preset(name: &str) -> Option<ProviderPreferences> {
    use crate::wire::request::{Percentiles, ProviderSort, SortBy, Threshold};
    let sort = |by| Some(ProviderSort::By(by));
    Some(match name {
        "cheapest" => ProviderPreferences {
            sort: sort(SortBy::Price),
            ..Default::default()
        },
        "fastest" => ProviderPreferences {
            sort: sort(SortBy::Throughput),
            ..Default::default()
        },
        "lowest-latency" => ProviderPreferences {
            sort: sort(SortBy::Latency),
            ..Default::default()
        },
        "cheap-under-3s" => ProviderPreferences {
            sort: sort(SortBy::Price),
            preferred_max_latency: Some(Threshold::Percentiles(Percentiles {
                p90: Some(3.0),
                ..Default::default()
            })),
            ..Default::default()
        },
        _ => return None,
    })
}

/// `over` on top of `base`: every field `over` sets wins.
pub fn overlay(base: ProviderPreferences, over: ProviderPreferences) -> ProviderPreferences {
    ProviderPreferences {
        order: over.order.or(base.order),
        allow_fallbacks: over.allow_fallbacks.or(base.allow_fallbacks),
        require_parameters: over.require_parameters.or(base.require_parameters),
        data_collection: over.data_collection.or(base.data_collection),
        zdr: over.zdr.or(base.zdr),
        enforce_distillable_text: over
            .enforce_distillable_text
            .or(base.enforce_distillable_text),
        only: over.only.or(base.only),
        ignore: over.ignore.or(base.ignore),
        quantizations: over.quantizations.or(base.quantizations),
        sort: over.sort.or(base.sort),
        max_price: over.max_price.or(base.max_price),
        preferred_min_throughput: over
            .preferred_min_throughput
            .or(base.preferred_min_throughput),
        preferred_max_latency: over.preferred_max_latency.or(base.preferred_max_latency),
    }
}

/// `over` on top of `base`: whatever `over` sets wins (the command line over saved settings).
pub fn overlay_settings(base: RequestSettings, over: RequestSettings) -> RequestSettings {
    RequestSettings {
        provider: match (base.provider, over.provider) {
            (Some(b), Some(o)) => Some(overlay(b, o)),
            (b, o) => o.or(b),
        },
        fallbacks: if over.fallbacks.is_empty() {
            base.fallbacks
        } else {
            over.fallbacks
        },
        system: over.system.or(base.system),
        temperature: over.temperature.or(base.temperature),
        top_p: over.top_p.or(base.top_p),
        max_tokens: over.max_tokens.or(base.max_tokens),
        reasoning_effort: over.reasoning_effort.or(base.reasoning_effort),
        response_format: over.response_format.or(base.response_format),
        eu: over.eu || base.eu,
        no_require_parameters: over.no_require_parameters || base.no_require_parameters,
        unrecorded: over.unrecorded || base.unrecorded,
        pdf_engine: over.pdf_engine.or(base.pdf_engine),
    }
}

/// What is asked, as flags (for the workbench's panes and `ask` alike), and as the config's
/// `[request]` table under the same names.
#[derive(Debug, Clone, Default, PartialEq, Args, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestArgs {
    /// System prompt: the text, or `@FILE` to read it from a file.
    #[arg(long, global = true, value_name = "TEXT|@FILE")]
    pub system: Option<String>,
    /// Sampling temperature (0–2).
    #[arg(long, global = true, value_name = "T")]
    pub temperature: Option<f64>,
    /// Nucleus sampling (0–1).
    #[arg(long = "top-p", global = true, value_name = "P")]
    pub top_p: Option<f64>,
    /// Most tokens in each answer.
    #[arg(long = "max-tokens", global = true, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Reasoning effort: minimal, low, medium, high, xhigh or max.
    #[arg(long = "reasoning-effort", global = true, value_name = "EFFORT",
          value_parser = ["minimal", "low", "medium", "high", "xhigh", "max"])]
    pub reasoning_effort: Option<String>,
    /// Only EU in-region processing: OpenRouter's EU host, or only EU endpoints with
    /// Switchyard's router.
    #[arg(long, global = true)]
    pub eu: bool,
    /// A routing preset: cheapest, fastest, lowest-latency, cheap-under-3s or one saved from
    /// the routing panel (routing flags given beside it win).
    #[arg(long, global = true, value_name = "NAME")]
    pub preset: Option<String>,
    /// Structured output: every answer must follow the JSON schema in FILE (and is checked
    /// against it).
    #[arg(long, global = true, value_name = "FILE")]
    pub schema: Option<std::path::PathBuf>,
    /// The schema's `name` (default: the file's name).
    #[arg(
        long = "schema-name",
        global = true,
        value_name = "NAME",
        requires = "schema"
    )]
    pub schema_name: Option<String>,
    /// With --schema, also use endpoints that do not list structured outputs.
    #[arg(
        long = "no-require-parameters",
        global = true,
        conflicts_with = "require_parameters"
    )]
    pub no_require_parameters: bool,
    /// How OpenRouter reads attached PDFs: native (the model reads the file), cloudflare-ai
    /// (free) or mistral-ocr ($2 per 1 000 pages).
    #[arg(long = "pdf-engine", global = true, value_name = "ENGINE",
          value_parser = ["native", "cloudflare-ai", "mistral-ocr"])]
    #[serde(rename = "pdf_engine")]
    pub pdf_engine: Option<String>,
}

/// The `file-parser` engine a flag or config value names.
pub fn pdf_engine(name: &str) -> Option<crate::wire::request::PdfEngine> {
    use crate::wire::request::PdfEngine;
    Some(match name {
        "native" => PdfEngine::Native,
        "cloudflare-ai" => PdfEngine::CloudflareAi,
        "mistral-ocr" => PdfEngine::MistralOcr,
        _ => return None,
    })
}

impl RequestArgs {
    /// These flags, with `defaults` (the config's) filling what they leave unset.
    pub fn over(&self, defaults: &RequestArgs) -> RequestArgs {
        RequestArgs {
            system: self.system.clone().or_else(|| defaults.system.clone()),
            temperature: self.temperature.or(defaults.temperature),
            top_p: self.top_p.or(defaults.top_p),
            max_tokens: self.max_tokens.or(defaults.max_tokens),
            reasoning_effort: self
                .reasoning_effort
                .clone()
                .or_else(|| defaults.reasoning_effort.clone()),
            eu: self.eu || defaults.eu,
            preset: self.preset.clone().or_else(|| defaults.preset.clone()),
            schema: self.schema.clone().or_else(|| defaults.schema.clone()),
            schema_name: self
                .schema_name
                .clone()
                .or_else(|| defaults.schema_name.clone()),
            no_require_parameters: self.no_require_parameters || defaults.no_require_parameters,
            pdf_engine: self
                .pdf_engine
                .clone()
                .or_else(|| defaults.pdf_engine.clone()),
        }
    }

    /// These flags as settings (with `provider` and `fallbacks` from elsewhere), checked; the
    /// error names the flag.
    pub fn settings(
        &self,
        provider: Option<ProviderPreferences>,
        fallbacks: Vec<String>,
    ) -> Result<RequestSettings, String> {
        self.settings_with(provider, fallbacks, &Default::default())
    }

    /// As `settings`, with the user's saved presets beside the built-in ones.
    pub fn settings_with(
        &self,
        provider: Option<ProviderPreferences>,
        fallbacks: Vec<String>,
        presets: &crate::preset_store::Presets,
    ) -> Result<RequestSettings, String> {
        let system = match self.system.as_deref() {
            Some(s) if s.starts_with('@') => {
                let path = std::path::Path::new(&s[1..]);
                let text = crate::small_file::read(path, 1024 * 1024)
                    .map_err(|e| format!("--system {s}: {e}"))?;
                Some(text)
            }
            Some(s) => Some(s.to_string()),
            None => None,
        };
        let reasoning_effort = self
            .reasoning_effort
            .as_deref()
            .map(|e| serde_json::from_value::<Effort>(serde_json::json!(e)))
            .transpose()
            .map_err(|e| format!("--reasoning-effort: {e}"))?;
        let provider = match self.preset.as_deref() {
            Some(name) => match crate::preset_store::find(name, presets) {
                Some(p) => Some(overlay(p, provider.unwrap_or_default())),
                None => {
                    return Err(format!(
                        "--preset {name}: no preset named `{name}` (there are {})",
                        crate::preset_store::names(presets).join(", ")
                    ));
                }
            },
            None => provider,
        };
        let response_format = match &self.schema {
            Some(path) => Some(schema_file(path, self.schema_name.as_deref())?),
            None => None,
        };
        let s = RequestSettings {
            provider,
            fallbacks,
            system,
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_tokens,
            reasoning_effort,
            response_format,
            eu: self.eu,
            no_require_parameters: self.no_require_parameters,
            unrecorded: false,
            pdf_engine: match self.pdf_engine.as_deref() {
                None => None,
                Some(n) => Some(pdf_engine(n).ok_or_else(|| {
                    format!("pdf_engine `{n}`: use native, cloudflare-ai or mistral-ocr")
                })?),
            },
        };
        s.check().map_err(|(field, msg)| {
            let flag = match field {
                "top_p" => "--top-p",
                "max_tokens" => "--max-tokens",
                "system" => "--system",
                "response_format" => "--schema",
                _ => "--temperature",
            };
            format!("{flag}: {msg}")
        })?;
        Ok(s)
    }
}

/// `--schema FILE` as a strict `response_format`; every problem in the file named with its line.
fn schema_file(path: &std::path::Path, name: Option<&str>) -> Result<ResponseFormat, String> {
    let flag = format!("--schema {}", path.display());
    let text = crate::small_file::read(path, crate::schema::MAX_SCHEMA_BYTES as u64)
        .map_err(|e| format!("{flag}: {e}"))?;
    let checked = crate::schema::check_text(&text).map_err(|ps| {
        let list: Vec<String> = ps.iter().map(|p| format!("  {p}")).collect();
        format!("{flag} is not a usable JSON schema:\n{}", list.join("\n"))
    })?;
    let name = match name {
        Some(n) => n.to_string(),
        None => default_schema_name(path),
    };
    crate::schema::check_name(&name).map_err(|e| format!("--schema-name {name}: {e}"))?;
    Ok(crate::schema::response_format(&name, true, checked.value))
}

/// A schema's name from its file name: the allowed characters of the stem, or `response`.
pub fn default_schema_name(path: &std::path::Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(crate::schema::MAX_NAME_CHARS)
        .collect();
    if name.trim_matches('_').is_empty() {
        "response".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_settings_send_nothing_extra_and_set_ones_are_sent() {
        let plain = build("m/a", &RequestSettings::default(), [], "hi");
        let v = serde_json::to_value(&plain).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"model": "m/a", "messages": [{"role": "user", "content": "hi"}], "stream": true})
        );
        let s = RequestSettings {
            system: Some("be brief".into()),
            temperature: Some(0.2),
            max_tokens: Some(50),
            reasoning_effort: Some(Effort::Low),
            fallbacks: vec!["m/b".into()],
            ..Default::default()
        };
        let v = serde_json::to_value(build(
            "m/a",
            &s,
            [("q1".into(), "a1"), ("q2".into(), "")],
            "q3",
        ))
        .unwrap();
        assert_eq!(
            v["messages"][0],
            serde_json::json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(
            v["messages"].as_array().unwrap().len(),
            4,
            "an exchange without an answer is left out"
        );
        assert_eq!(v["temperature"], 0.2);
        assert_eq!(v["max_tokens"], 50);
        assert_eq!(v["reasoning"], serde_json::json!({"effort": "low"}));
        assert_eq!(v["models"], serde_json::json!(["m/b"]));
    }

    #[test]
    fn a_preset_fills_routing_and_flags_given_beside_it_win() {
        use crate::wire::request::{ProviderSort, SortBy};
        let a = RequestArgs {
            preset: Some("cheap-under-3s".into()),
            ..Default::default()
        };
        let p = a.settings(None, vec![]).unwrap().provider.unwrap();
        assert_eq!(p.sort, Some(ProviderSort::By(SortBy::Price)));
        assert!(p.preferred_max_latency.is_some());
        let flags = ProviderPreferences {
            sort: Some(ProviderSort::By(SortBy::Latency)),
            ..Default::default()
        };
        let p = a.settings(Some(flags), vec![]).unwrap().provider.unwrap();
        assert_eq!(p.sort, Some(ProviderSort::By(SortBy::Latency)));
        assert!(
            p.preferred_max_latency.is_some(),
            "the rest of the preset stays"
        );
        for (name, _) in PRESETS {
            assert!(preset(name).is_some(), "{name}");
        }
    }

    #[test]
    fn out_of_range_settings_name_their_flag() {
        let bad = |a: RequestArgs| a.settings(None, vec![]).unwrap_err();
        assert_eq!(
            bad(RequestArgs {
                temperature: Some(7.0),
                ..Default::default()
            }),
            "--temperature: 7 is outside 0–2"
        );
        assert!(
            bad(RequestArgs {
                top_p: Some(0.0),
                ..Default::default()
            })
            .starts_with("--top-p")
        );
        assert!(
            bad(RequestArgs {
                max_tokens: Some(0),
                ..Default::default()
            })
            .starts_with("--max-tokens")
        );
        assert!(
            bad(RequestArgs {
                system: Some("@/nonexistent/x".into()),
                ..Default::default()
            })
            .starts_with("--system @/nonexistent/x")
        );
    }
}
