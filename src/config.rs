//! The user's TOML config: named providers and default panes. Errors name file, line and field.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The config file's contents.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Which `[[providers]]` entry to use when no flag picks a source.
    #[serde(default)]
    pub default_provider: Option<String>,
    /// Models opened as panes at start.
    #[serde(default)]
    pub panes: Vec<String>,
    /// Named servers.
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
    /// How the local router behaves.
    #[serde(default)]
    pub routing: RoutingConfig,
    /// Bounds on every stream, whatever the source.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[request]`: the defaults of the request flags, same names (flags given on the command
    /// line win).
    #[serde(default)]
    pub request: crate::settings::RequestArgs,
    /// `[history]`: whether conversations are kept, and how much.
    #[serde(default)]
    pub history: HistoryConfig,
    /// `[attachments]`: size caps and downscaling.
    #[serde(default)]
    pub attachments: AttachmentsConfig,
    /// `[theme]`: which theme, and how many colours.
    #[serde(default)]
    pub theme: ThemeConfig,
    /// `[keys]`: the key table changed per mode.
    #[serde(default)]
    pub keys: KeysConfig,
    /// `[profiles.NAME]`: groups of settings `--profile NAME` lays over the rest.
    #[serde(default)]
    pub profiles: std::collections::BTreeMap<String, toml::Table>,
    /// Unknown keys that were left out, worded for the user (shown at start).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Keys for one action: one key or sequence, or several.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum KeySpec {
    /// `"ctrl+g"` or `"ctrl+w l"`.
    One(String),
    /// `["tab", "ctrl+w l"]` (empty: the action has no key).
    Many(Vec<String>),
}

impl KeySpec {
    /// The sequences written.
    pub fn all(&self) -> Vec<&str> {
        match self {
            KeySpec::One(s) => vec![s.as_str()],
            KeySpec::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// The `[keys]` table: a preset, then per mode the actions whose keys change.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// `default`, or `vim` (Ctrl+W h/j/k/l/w between panes, q closes, n adds, o zooms).
    pub preset: String,
    /// Everywhere.
    pub any: std::collections::BTreeMap<String, KeySpec>,
    /// The panes and the composer.
    pub workbench: std::collections::BTreeMap<String, KeySpec>,
    /// The model picker.
    pub picker: std::collections::BTreeMap<String, KeySpec>,
    /// The F6 health table.
    pub health: std::collections::BTreeMap<String, KeySpec>,
    /// Help and why.
    pub popup: std::collections::BTreeMap<String, KeySpec>,
    /// The settings panels (F2, F3, F4).
    pub panel: std::collections::BTreeMap<String, KeySpec>,
    /// The history browser (F7).
    pub history: std::collections::BTreeMap<String, KeySpec>,
    /// The attachments panel (F5).
    pub attach: std::collections::BTreeMap<String, KeySpec>,
    /// The catalog browser (F8).
    pub catalog: std::collections::BTreeMap<String, KeySpec>,
    /// The bake-off view (F10).
    pub bakeoff: std::collections::BTreeMap<String, KeySpec>,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            preset: "default".into(),
            any: Default::default(),
            workbench: Default::default(),
            picker: Default::default(),
            health: Default::default(),
            popup: Default::default(),
            panel: Default::default(),
            history: Default::default(),
            attach: Default::default(),
            catalog: Default::default(),
            bakeoff: Default::default(),
        }
    }
}

impl KeysConfig {
    /// Each mode's table by its name.
    pub fn modes(&self) -> [(&'static str, &std::collections::BTreeMap<String, KeySpec>); 10] {
        [
            ("any", &self.any),
            ("workbench", &self.workbench),
            ("picker", &self.picker),
            ("health", &self.health),
            ("popup", &self.popup),
            ("panel", &self.panel),
            ("history", &self.history),
            ("attach", &self.attach),
            ("catalog", &self.catalog),
            ("bakeoff", &self.bakeoff),
        ]
    }
}

/// The `[theme]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThemeConfig {
    /// A theme of `themes/` or of the config directory's `themes/`; `auto` (the default) is
    /// `dark` or `light` by the terminal's background (`--theme` overrides it).
    pub name: String,
    /// `auto` (from `NO_COLOR`, `COLORTERM`, `TERM`), `truecolor`, `256`, `16` or `none`
    /// (`--colors` overrides it).
    pub colors: String,
}

impl Default for ThemeConfig {
    fn default() -> Self {
        Self {
            name: "auto".into(),
            colors: "auto".into(),
        }
    }
}

/// The `[attachments]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttachmentsConfig {
    /// Largest file attached, in MB (32: Anthropic's request limit).
    pub max_file_mb: f64,
    /// Largest total of one message's files, in MB (50: OpenAI's).
    pub max_message_mb: f64,
    /// Downscale images larger than `downscale_px` on their long side before sending.
    pub downscale: bool,
    /// The long side downscaled images get.
    pub downscale_px: u32,
    /// Files larger than this (MB) are kept in history by path and hash only, not their bytes.
    pub keep_bytes_up_to_mb: f64,
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        let l = crate::attach::Limits::default();
        Self {
            max_file_mb: (l.per_file >> 20) as f64,
            max_message_mb: (l.per_message >> 20) as f64,
            downscale: true,
            downscale_px: l.downscale_to.unwrap_or(2048),
            keep_bytes_up_to_mb: 32.0,
        }
    }
}

impl AttachmentsConfig {
    /// The caps these settings give.
    pub fn limits(&self) -> crate::attach::Limits {
        let mb = |v: f64| (v.max(0.0) * 1_048_576.0) as u64;
        crate::attach::Limits {
            per_file: mb(self.max_file_mb),
            per_message: mb(self.max_message_mb),
            downscale_to: self.downscale.then_some(self.downscale_px.max(64)),
        }
    }
}

/// The `[history]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// Keep conversations (default true; `--no-history` turns it off for one run).
    pub enabled: bool,
    /// Largest the history database may grow, in MB (none by default); beyond it, answers
    /// stay on screen and are not saved, as on a full disk.
    pub max_mb: Option<f64>,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_mb: None,
        }
    }
}

/// The `[limits]` table: bounds on what one stream may send (defaults far above real traffic).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest single event, in MB (default 16).
    #[serde(default)]
    pub max_event_mb: Option<f64>,
    /// Largest answer, in MB (default 64).
    #[serde(default)]
    pub max_answer_mb: Option<f64>,
    /// Seconds without new text after the first token before a stream is stopped (default 120).
    #[serde(default)]
    pub no_progress_timeout_s: Option<f64>,
    /// Longest time for one answer, in seconds (default 1800).
    #[serde(default)]
    pub answer_timeout_s: Option<f64>,
    /// Seconds to wait for the first text or reasoning while only keep-alives arrive
    /// (default 600: a model may think silently for minutes).
    #[serde(default)]
    pub thinking_timeout_s: Option<f64>,
}

impl LimitsConfig {
    /// These limits written into `t` (validated on load).
    pub fn apply(&self, t: &mut crate::client::Timeouts) {
        let mb = |v: f64| (v * 1024.0 * 1024.0) as usize;
        if let Some(v) = self.max_event_mb {
            t.max_event_bytes = mb(v);
        }
        if let Some(v) = self.max_answer_mb {
            t.max_answer_bytes = mb(v);
        }
        if let Some(v) = self.no_progress_timeout_s {
            t.no_progress = std::time::Duration::from_secs_f64(v);
        }
        if let Some(v) = self.answer_timeout_s {
            t.total = std::time::Duration::from_secs_f64(v);
        }
        if let Some(v) = self.thinking_timeout_s {
            t.thinking = std::time::Duration::from_secs_f64(v);
        }
    }
}

/// The `[routing]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// When a stream fails after its first token: `restart`, `continue` or `surface`
    /// (`--mid-stream` overrides it).
    #[serde(default)]
    pub mid_stream: Option<crate::routing::exec::MidStream>,
    /// Providers (by name, each with `models`) that Switchyard's own router routes across;
    /// when set, this is the source unless a flag picks another.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Seconds to wait for the first token while another endpoint could answer (default 10).
    #[serde(default)]
    pub first_token_timeout_s: Option<f64>,
    /// Longest silence inside a stream, in seconds (default 60).
    #[serde(default)]
    pub stall_timeout_s: Option<f64>,
    /// Seconds to wait for response headers (default 90).
    #[serde(default)]
    pub headers_timeout_s: Option<f64>,
    /// Longest `Retry-After` honoured by waiting, in seconds (default 10).
    #[serde(default)]
    pub retry_after_cap_s: Option<f64>,
    /// First retry's backoff ceiling in milliseconds, doubling per retry (default 500).
    #[serde(default)]
    pub backoff_base_ms: Option<f64>,
    /// Most attempts for one request across all endpoints (default 6).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Seconds a breaker stays open after it trips, doubling while probes fail (default 20).
    #[serde(default)]
    pub breaker_open_s: Option<f64>,
    /// Longest time a breaker stays open, in seconds (default 24: with ±20 % jitter an
    /// endpoint that recovers is tried again within 30 s).
    #[serde(default)]
    pub breaker_open_cap_s: Option<f64>,
}

impl RoutingConfig {
    /// Every timing key with its value, for validation.
    fn timings(&self) -> [(&'static str, Option<f64>); 7] {
        [
            ("first_token_timeout_s", self.first_token_timeout_s),
            ("stall_timeout_s", self.stall_timeout_s),
            ("headers_timeout_s", self.headers_timeout_s),
            ("retry_after_cap_s", self.retry_after_cap_s),
            ("backoff_base_ms", self.backoff_base_ms),
            ("breaker_open_s", self.breaker_open_s),
            ("breaker_open_cap_s", self.breaker_open_cap_s),
        ]
    }
}

/// The protocol family of a configured provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// openrouter.ai or a server with its catalog shape.
    Openrouter,
    /// Any OpenAI-compatible server.
    Openai,
}

/// One named server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Name used by `default_provider` and `--provider`.
    pub name: String,
    /// Protocol family.
    pub kind: ProviderKind,
    /// Base URL including the version path (defaults to OpenRouter's for kind `openrouter`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Environment variable holding the key (keys never live in the file).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Region, for display and the "why" view.
    #[serde(default)]
    pub region: Option<String>,
    /// Whether the provider stores or trains on prompts. Unset counts as yes: privacy filters
    /// (`--data-collection deny`) only pass providers declared not to.
    #[serde(default)]
    pub collects_data: Option<bool>,
    /// Zero data retention (`--zdr` passes only these).
    #[serde(default)]
    pub zdr: bool,
    /// Weight quantization of everything it serves.
    #[serde(default)]
    pub quantization: Option<crate::wire::request::Quantization>,
    /// Models served (kind `openai`): with these, the local router can route across providers.
    #[serde(default)]
    pub models: Vec<ModelConfig>,
    /// Kind `openai` only: the server does its own routing and fallbacks (a LiteLLM proxy), so
    /// Switchyard sends each request to it as it is instead of routing it.
    #[serde(default)]
    pub routes_itself: bool,
    /// Kind `openai` only: the server understands OpenRouter's fields (`models`, `provider`,
    /// `plugins`, …), which are otherwise never sent to it.
    #[serde(default)]
    pub openrouter_fields: bool,
    /// Most streams the router sends to this server at once (unset: no limit); requests beyond
    /// it wait their turn. A server that interrupts a stream when another starts wants 1.
    #[serde(default)]
    pub max_concurrent: Option<u32>,
}

/// One model a configured provider serves, with what the router needs to know about it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Model id as the server knows it.
    pub id: String,
    /// USD per million prompt tokens (0 for your own hardware).
    #[serde(default)]
    pub prompt_price: f64,
    /// USD per million completion tokens.
    #[serde(default)]
    pub completion_price: f64,
    /// Context window in tokens.
    #[serde(default)]
    pub context_length: Option<u32>,
    /// Longest output.
    #[serde(default)]
    pub max_output: Option<u32>,
    /// Request parameters the server honours (`tools`, `response_format`, …).
    #[serde(default)]
    pub supported_parameters: Vec<String>,
    /// Whether it continues a final assistant message (for `mid_stream = "continue"`).
    #[serde(default)]
    pub assistant_prefill: bool,
}

/// A config file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The field at fault, when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config error in {}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ", line {l}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The default config path: `$XDG_CONFIG_HOME/switchyard/config.toml` (or the platform's).
    pub fn default_path() -> Option<PathBuf> {
        use etcetera::BaseStrategy;
        etcetera::choose_base_strategy()
            .ok()
            .map(|s| s.config_dir().join("switchyard").join("config.toml"))
    }

    /// Loads a config file; a missing file at the default path is the defaults.
    pub fn load(path: &Path, must_exist: bool) -> Result<Config, ConfigError> {
        Self::load_profile(path, must_exist, None)
    }

    /// Loads a config file with `profile` laid over it.
    pub fn load_profile(
        path: &Path,
        must_exist: bool,
        profile: Option<&str>,
    ) -> Result<Config, ConfigError> {
        use crate::small_file::ReadError;
        let text = match crate::small_file::read(path, crate::small_file::MAX_BYTES) {
            Ok(t) => t,
            Err(ReadError::NotFound) if !must_exist => String::new(),
            Err(e) => {
                return Err(ConfigError {
                    path: path.into(),
                    line: None,
                    field: None,
                    message: match e {
                        ReadError::NotFound => "cannot read the file: it does not exist".into(),
                        ReadError::Other(m) => m,
                    },
                });
            }
        };
        Self::effective(&text, path, profile)
    }

    /// Parses and validates config text: the first error, or the config with its unknown keys
    /// left out and named in `warnings` (`config_check::check` has every error).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Self::effective(text, path, None)
    }

    /// The config a run uses: the embedded defaults, this file laid over them, and then the
    /// file's `[profiles.NAME]` when one is asked for. The first error, if any.
    pub fn effective(
        text: &str,
        path: &Path,
        profile: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let checked = crate::config_check::check(text, path);
        if let Some(e) = checked.errors.into_iter().next() {
            return Err(e);
        }
        let Some(mut cfg) = checked.config else {
            return Err(ConfigError {
                path: path.into(),
                line: None,
                field: None,
                message: "the file could not be read as a config".into(),
            });
        };
        let warnings: Vec<String> = checked
            .warnings
            .iter()
            .map(|w| {
                let file = w.path.file_name().map_or_else(
                    || w.path.display().to_string(),
                    |f| f.to_string_lossy().into_owned(),
                );
                let line = w.line.map(|l| format!(" line {l}")).unwrap_or_default();
                format!("{file}{line}: {}", w.message)
            })
            .collect();
        let mut base: toml::Table = toml::from_str(crate::config_check::DEFAULT_TEXT)
            .expect("the embedded defaults parse (tested)");
        let mut user: toml::Table = toml::from_str(&checked.clean).unwrap_or_default();
        let profiles = user.remove("profiles");
        crate::config_check::merge(&mut base, &user);
        if let Some(name) = profile {
            let table = profiles
                .as_ref()
                .and_then(|p| p.get(name))
                .and_then(|t| t.as_table());
            let Some(table) = table else {
                let names: Vec<&str> = cfg.profiles.keys().map(String::as_str).collect();
                return Err(ConfigError {
                    path: path.into(),
                    line: None,
                    field: Some("profiles".into()),
                    message: format!(
                        "no profile named `{name}`{}; {}",
                        crate::spelling::suggestion(name, names.iter().copied()),
                        if names.is_empty() {
                            "the file has no [profiles.NAME] tables".to_string()
                        } else {
                            format!("there are {}", names.join(", "))
                        }
                    ),
                });
            };
            crate::config_check::merge(&mut base, table);
        }
        let in_profile = |m: String| match profile {
            Some(n) => format!("with profile `{n}`: {m}"),
            None => m,
        };
        let merged: Config =
            toml::Value::Table(base)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError {
                    path: path.into(),
                    line: None,
                    field: None,
                    message: in_profile(e.message().trim().to_string()),
                })?;
        if let Some(e) = merged.validate(text, path).into_iter().next() {
            return Err(ConfigError {
                message: in_profile(e.message),
                ..e
            });
        }
        cfg = Config {
            profiles: cfg.profiles,
            warnings,
            ..merged
        };
        Ok(cfg)
    }

    /// Parses config text as it is (no defaults laid under it): the config, or every error
    /// found — a type error stops the parse, so there is at most one of those.
    pub fn parse_all(text: &str, path: &Path) -> Result<Config, Vec<crate::config_check::Located>> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, field) = match e.span() {
                Some(span) => locate(text, span.start),
                None => (None, None),
            };
            vec![crate::config_check::Located {
                offset: e.span().map(|s| s.start),
                error: ConfigError {
                    path: path.into(),
                    line,
                    field,
                    message: e.message().trim().to_string(),
                },
            }]
        })?;
        let errs = cfg.validate(text, path);
        if errs.is_empty() {
            return Ok(cfg);
        }
        Err(errs
            .into_iter()
            .map(|error| crate::config_check::Located {
                // The first character of the error's line: where its entry starts.
                offset: error.line.and_then(|l| {
                    let start: usize = text.lines().take(l - 1).map(|x| x.len() + 1).sum();
                    let line = text.lines().nth(l - 1)?;
                    Some(start + (line.len() - line.trim_start().len()))
                }),
                error,
            })
            .collect())
    }

    /// Every semantic error of a parsed file (each pointing into `text`).
    fn validate(&self, text: &str, path: &Path) -> Vec<ConfigError> {
        let mut errs = Vec::new();
        let err = |field: &str, needle: &str, message: String| ConfigError {
            path: path.into(),
            line: text.lines().position(|l| l.contains(needle)).map(|i| i + 1),
            field: Some(field.into()),
            message,
        };
        let mut seen = std::collections::HashSet::new();
        for p in &self.providers {
            if p.name.trim().is_empty() {
                errs.push(err(
                    "name",
                    "name",
                    "a provider needs a non-empty name".into(),
                ));
            }
            if !seen.insert(p.name.as_str()) {
                errs.push(err(
                    "name",
                    &p.name,
                    format!("provider `{}` is declared twice", p.name),
                ));
            }
            if p.kind == ProviderKind::Openai && p.base_url.is_none() {
                errs.push(err(
                    "base_url",
                    &p.name,
                    format!("provider `{}` of kind `openai` needs a base_url", p.name),
                ));
            }
            for m in &p.models {
                if m.id.trim().is_empty() {
                    errs.push(at(
                        line_after(text, 0, |l| {
                            is_key(l, "id")
                                && l.split_once('=').is_some_and(|(_, v)| {
                                    v.trim().trim_matches('"').trim().is_empty()
                                })
                        })
                        .map(|i| i + 1),
                        err(
                            "id",
                            "id",
                            format!("a model of provider `{}` has an empty id", p.name),
                        ),
                    ));
                }
                for (field, v) in [
                    ("prompt_price", m.prompt_price),
                    ("completion_price", m.completion_price),
                ] {
                    if !(v.is_finite() && v >= 0.0) {
                        // The line of this field after this model's `id = "…"`.
                        let from = line_after(text, 0, |l| {
                            is_key(l, "id") && l.contains(&format!("\"{}\"", m.id))
                        })
                        .unwrap_or(0);
                        let line = text
                            .lines()
                            .enumerate()
                            .skip(from)
                            .find(|(_, l)| l.trim_start().starts_with(field))
                            .map(|(i, _)| i + 1);
                        errs.push(ConfigError {
                            line,
                            ..err(
                                field,
                                field,
                                format!(
                                    "{field} of `{}` at `{}` must be a price ≥ 0 (USD per million tokens), got {v}",
                                    m.id, p.name
                                ),
                            )
                        });
                    }
                }
            }
            // The line of `key` inside this provider's table.
            let in_provider = |key: &str| {
                let from = line_after(text, 0, |l| {
                    is_key(l, "name") && l.contains(&format!("\"{}\"", p.name))
                })
                .unwrap_or(0);
                line_after(text, from, |l| is_key(l, key)).map(|i| i + 1)
            };
            if p.kind == ProviderKind::Openrouter {
                for (key, on) in [
                    ("routes_itself", p.routes_itself),
                    ("openrouter_fields", p.openrouter_fields),
                ] {
                    if on {
                        errs.push(at(
                            in_provider(key),
                            err(
                                key,
                                key,
                                format!(
                                    "provider `{}` is of kind `openrouter`, which always routes itself and speaks OpenRouter's fields; `{key}` is only for kind `openai`",
                                    p.name
                                ),
                            ),
                        ));
                    }
                }
            }
            if p.max_concurrent == Some(0) {
                errs.push(at(
                    in_provider("max_concurrent"),
                    err(
                        "max_concurrent",
                        "max_concurrent",
                        format!(
                            "max_concurrent of `{}` must be at least 1 (leave it out for no limit)",
                            p.name
                        ),
                    ),
                ));
            }
            if let Some(url) = &p.base_url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                errs.push(err(
                    "base_url",
                    url,
                    format!("`{url}` is not an http:// or https:// URL"),
                ));
            }
        }
        if let Some(d) = &self.default_provider
            && !self.providers.iter().any(|p| &p.name == d)
        {
            errs.push(err(
                "default_provider",
                "default_provider",
                format!("no [[providers]] entry is named `{d}`"),
            ));
        }
        // Errors about `[routing] providers` point into that table.
        let routing_line = |name: &str| {
            let from = line_after(text, 0, |l| l.trim() == "[routing]").unwrap_or(0);
            line_after(text, from, |l| l.contains(&format!("\"{name}\""))).map(|i| i + 1)
        };
        for name in &self.routing.providers {
            match self.provider(name) {
                None => {
                    errs.push(at(
                        routing_line(name),
                        err(
                            "routing.providers",
                            name,
                            format!(
                                "[routing] providers names `{name}`, but no [[providers]] entry has that name"
                            ),
                        ),
                    ));
                }
                Some(p) if p.kind != ProviderKind::Openai || p.models.is_empty() => {
                    errs.push(at(
                        routing_line(name),
                        err(
                            "routing.providers",
                            name,
                            format!(
                                "provider `{name}` can't be routed locally: it needs kind = \"openai\" and at least one [[providers.models]] entry"
                            ),
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        // Numeric keys of a table: positive, finite, at most `max`; errors point into the table.
        let positive = |errs: &mut Vec<ConfigError>,
                        table: &str,
                        keys: &[(&'static str, Option<f64>)],
                        max: f64| {
            for &(key, v) in keys {
                if let Some(v) = v
                    && !(v.is_finite() && v > 0.0 && v <= max)
                {
                    let from = line_after(text, 0, |l| l.trim() == table).unwrap_or(0);
                    errs.push(at(
                        line_after(text, from, |l| is_key(l, key)).map(|i| i + 1),
                        err(
                            key,
                            key,
                            format!("{key} must be a positive number, got {v}"),
                        ),
                    ));
                }
            }
        };
        positive(
            &mut errs,
            "[routing]",
            &self.routing.timings(),
            86_400_000.0,
        );
        positive(
            &mut errs,
            "[limits]",
            &[
                ("max_event_mb", self.limits.max_event_mb),
                ("max_answer_mb", self.limits.max_answer_mb),
                ("no_progress_timeout_s", self.limits.no_progress_timeout_s),
                ("answer_timeout_s", self.limits.answer_timeout_s),
                ("thinking_timeout_s", self.limits.thinking_timeout_s),
            ],
            1_000_000.0,
        );
        if self.routing.max_attempts == Some(0) {
            errs.push(err(
                "max_attempts",
                "max_attempts",
                "max_attempts must be at least 1".into(),
            ));
        }
        // The same checks as the flags, worded for the file.
        if let Err(e) = self.request.settings(None, Vec::new()) {
            let key = e
                .split(':')
                .next()
                .unwrap_or("")
                .trim_start_matches("--")
                .replace('-', "_");
            let key = key.split_whitespace().next().unwrap_or("").to_string();
            errs.push(err(
                &key,
                &key,
                format!(
                    "[request] {key}: {}",
                    e.split_once(": ").map_or(e.as_str(), |x| x.1)
                ),
            ));
        }
        let saved = crate::preset_store::path()
            .and_then(|p| crate::preset_store::load(&p).ok())
            .unwrap_or_default();
        if let Some(p) = &self.request.preset
            && crate::preset_store::find(p, &saved).is_none()
        {
            let names = crate::preset_store::names(&saved);
            errs.push(err(
                "preset",
                "preset",
                format!(
                    "[request] preset: no preset named `{p}` (there are {})",
                    names.join(", ")
                ),
            ));
        }
        if let Some(e) = &self.request.reasoning_effort
            && serde_json::from_value::<crate::wire::request::Effort>(serde_json::json!(e)).is_err()
        {
            errs.push(err(
                "reasoning_effort",
                "reasoning_effort",
                format!(
                    "[request] reasoning_effort: `{e}` is not one of minimal, low, medium, high, xhigh, max"
                ),
            ));
        }
        if let Err(e) = crate::theme::ColorDepth::parse(&self.theme.colors) {
            let from = line_after(text, 0, |l| l.trim() == "[theme]").unwrap_or(0);
            errs.push(at(
                line_after(text, from, |l| is_key(l, "colors")).map(|i| i + 1),
                err("theme.colors", "colors", e),
            ));
        }
        if let Some(bad) = self.panes.iter().find(|m| m.trim().is_empty()) {
            errs.push(err("panes", "panes", format!("empty model id {bad:?}")));
        }
        errs
    }

    /// The provider with this name.
    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.name == name)
    }
}

/// The error, pointing at `line` when it is known.
fn at(line: Option<usize>, e: ConfigError) -> ConfigError {
    ConfigError {
        line: line.or(e.line),
        ..e
    }
}

/// The 0-based index of the first line at or after `from` that satisfies `pred`.
fn line_after(text: &str, from: usize, pred: impl Fn(&str) -> bool) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| pred(l))
        .map(|(i, _)| i)
}

/// Whether a TOML line assigns `key` (`key = …`, not `keys = …`).
fn is_key(line: &str, key: &str) -> bool {
    line.split_once('=')
        .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
}

/// Line number and key name at a byte offset of TOML text.
fn locate(text: &str, offset: usize) -> (Option<usize>, Option<String>) {
    let offset = offset.min(text.len());
    let line_no = text[..offset].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    let field = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    (Some(line_no), field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<Config, ConfigError> {
        Config::parse(t, Path::new("/tmp/c.toml"))
    }

    #[test]
    fn routing_errors_point_at_the_right_line() {
        let base = "panes = [\"m/x\"]\n[[providers]]\nname = \"a\"\nkind = \"openai\"\nbase_url = \"http://h/v1\"\n[[providers.models]]\nid = \"m/y\"\nprompt_price = 1\n[[providers.models]]\nid = \"m/x\"\nprompt_price = -1\n";
        // The bad price is the second model's (line 11), not the first price line.
        let e = parse(base).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(11), Some("prompt_price")),
            "{e}"
        );
        let empty = base.replace("id = \"m/y\"", "id = \"\"");
        assert_eq!(parse(&empty).unwrap_err().line, Some(7));
        let unknown = "[[providers]]\nname = \"a\"\nkind = \"openai\"\nbase_url = \"http://h/v1\"\n[routing]\nproviders = [\"b\"]\n";
        assert_eq!(parse(unknown).unwrap_err().line, Some(6));
    }

    #[test]
    fn routes_itself_on_an_openrouter_provider_is_a_contradiction() {
        let t = "[[providers]]\nname = \"or\"\nkind = \"openrouter\"\nroutes_itself = true\n";
        let e = parse(t).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(4), Some("routes_itself")),
            "{e}"
        );
        assert!(e.message.contains("kind `openai`"), "{e}");
        let ok = "[[providers]]\nname = \"lite\"\nkind = \"openai\"\nbase_url = \"http://h/v1\"\nroutes_itself = true\nmax_concurrent = 1\n";
        let c = parse(ok).unwrap();
        assert!(c.providers[0].routes_itself);
        assert_eq!(c.providers[0].max_concurrent, Some(1));
        let zero = ok.replace("max_concurrent = 1", "max_concurrent = 0");
        let e = parse(&zero).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(6), Some("max_concurrent")),
            "{e}"
        );
    }

    #[test]
    fn routing_table_takes_a_mid_stream_policy() {
        use crate::routing::exec::MidStream;
        let c = parse("[routing]\nmid_stream = \"continue\"\n").unwrap();
        assert_eq!(c.routing.mid_stream, Some(MidStream::Continue));
        let e = parse("[routing]\nmid_stream = \"resume\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("restart"), "{}", e.message);
    }

    #[test]
    fn valid_config() {
        let c = parse(
            r#"
default_provider = "local"
panes = ["llama3.2", "qwen2.5"]

[[providers]]
name = "local"
kind = "openai"
base_url = "http://127.0.0.1:11434/v1"

[[providers]]
name = "or"
kind = "openrouter"
api_key_env = "OPENROUTER_API_KEY"
"#,
        )
        .unwrap();
        assert_eq!(c.providers.len(), 2);
        assert_eq!(c.provider("local").unwrap().kind, ProviderKind::Openai);
    }

    #[test]
    fn bad_enum_names_line_and_field() {
        let e = parse("[[providers]]\nname = \"x\"\nkind = \"ollama\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("kind"));
        let shown = e.to_string();
        assert!(
            shown.contains("/tmp/c.toml") && shown.contains("line 3"),
            "{shown}"
        );
    }

    #[test]
    fn an_unknown_field_is_a_warning_with_its_line_and_the_rest_is_used() {
        let c = parse("panes = [\"m/x\"]\ncolour = \"red\"\n").unwrap();
        assert_eq!(c.panes, ["m/x"]);
        assert_eq!(c.warnings.len(), 1);
        assert!(
            c.warnings[0].contains("line 2") && c.warnings[0].contains("colour"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn a_profile_is_laid_over_the_file_and_an_unknown_one_is_named() {
        let t = "panes = [\"a/b\"]\n[history]\nenabled = true\n[profiles.work]\npanes = [\"c/d\"]\n[profiles.work.history]\nenabled = false\n";
        let base = parse(t).unwrap();
        assert_eq!(
            (base.panes.as_slice(), base.history.enabled),
            (&["a/b".to_string()][..], true)
        );
        let work = Config::effective(t, Path::new("/tmp/c.toml"), Some("work")).unwrap();
        assert_eq!(
            (work.panes.as_slice(), work.history.enabled),
            (&["c/d".to_string()][..], false)
        );
        assert_eq!(
            work.attachments,
            AttachmentsConfig::default(),
            "the defaults under it"
        );
        let e = Config::effective(t, Path::new("/tmp/c.toml"), Some("wrok")).unwrap_err();
        assert!(e.message.contains("did you mean `work`"), "{e}");
        let bad = "[profiles.x.routing]\nmax_attempts = 0\n";
        let e = Config::effective(bad, Path::new("/tmp/c.toml"), Some("x")).unwrap_err();
        assert!(
            e.message.contains("with profile `x`") && e.message.contains("max_attempts"),
            "{e}"
        );
    }

    #[test]
    fn syntax_error_has_line() {
        let e = parse("panes = [\"a\"\n\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn semantic_errors() {
        let e = parse("[[providers]]\nname = \"l\"\nkind = \"openai\"\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("base_url"));
        let e = parse("default_provider = \"nope\"\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("default_provider"));
        assert_eq!(e.line, Some(1));
        let e = parse("[[providers]]\nname = \"l\"\nkind = \"openai\"\nbase_url = \"ftp://x\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4));
    }

    #[test]
    fn missing_default_file_is_empty_but_explicit_must_exist() {
        let p = Path::new("/nonexistent/switchyard/config.toml");
        assert_eq!(Config::load(p, false).unwrap(), Config::default());
        assert!(
            Config::load(p, true)
                .unwrap_err()
                .to_string()
                .contains("cannot read")
        );
    }
}
