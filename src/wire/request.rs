//! Typed `POST /chat/completions` request body. Unset fields are omitted, never sent as null.
//!
//! Shapes follow the official OpenAPI spec (`components.schemas.ChatRequest`) and the reference
//! in `shared/openrouter-api.md` §1–§6. Where the two disagree, what we *send* follows the spec
//! (e.g. `provider.max_price` values are decimal strings) and what we *accept* is lenient.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A chat completion request body, exactly as OpenRouter documents it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Primary model id (`author/slug`, optionally with a `:variant`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Fallback models tried in order after `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Ask for an SSE stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Deprecated and ignored by OpenRouter (usage is always sent); harmless if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,

    /// Provider routing preferences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderPreferences>,
    /// Output format: text, JSON object, or JSON schema (structured outputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Plugins (file parsing, response healing, context compression, web, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugins: Option<Vec<Plugin>>,
    /// Reasoning-token configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningConfig>,

    /// Sampling temperature, 0–2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling, (0, 1].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling, ≥ 1 (not for OpenAI models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Frequency penalty, −2..2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Presence penalty, −2..2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Repetition penalty, (0, 2].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repetition_penalty: Option<f64>,
    /// Minimum probability relative to the top token, 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_p: Option<f64>,
    /// Top-a sampling, 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_a: Option<f64>,
    /// Seed for deterministic sampling where supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Token id (as a string) → bias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, f64>>,
    /// Return log probabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many top log probabilities per token, 0–20.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// Stop sequences (up to 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Output token cap (deprecated in the spec in favour of `max_completion_tokens`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Output token cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,

    /// Tools the model may call. Send them again on every turn of a tool loop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool must be called.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Allow several tool calls in one turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,

    /// Stable end-user id, used for abuse isolation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Up to 16 string pairs (keys ≤ 64 chars, values ≤ 512).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Sticky routing key (≤ 256 chars) that keeps a session on one provider for cache hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Service tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<ServiceTier>,
    /// Output modalities (`["text","audio"]` for audio output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<Modality>>,
}

/// Fields of the request body that only OpenRouter (and gateways speaking its dialect) read;
/// a strict OpenAI-compatible server rejects them with a 400, a lenient one ignores them.
pub const OPENROUTER_ONLY_FIELDS: [&str; 12] = [
    "models",
    "provider",
    "plugins",
    "transforms",
    "route",
    "usage",
    "reasoning",
    "top_k",
    "top_a",
    "min_p",
    "repetition_penalty",
    "session_id",
];

impl ChatRequest {
    /// The attachments still to be read back from history, each once.
    pub fn unresolved(&self) -> Vec<Stored> {
        let mut out: Vec<Stored> = Vec::new();
        for m in &self.messages {
            let MessageContent::Parts(parts) = &m.content else {
                continue;
            };
            for p in parts {
                let s = match p {
                    ContentPart::ImageUrl { image_url } => image_url.stored.as_ref(),
                    ContentPart::File { file } => file.stored.as_ref(),
                    _ => None,
                };
                if let Some(s) = s
                    && !out.contains(s)
                {
                    out.push(s.clone());
                }
            }
        }
        out
    }

    /// Bytes its attachments add to the body (those still to be read back counted as their
    /// base64 would be).
    pub fn attached_len(&self) -> u64 {
        let mut n = 0;
        for m in &self.messages {
            let MessageContent::Parts(parts) = &m.content else {
                continue;
            };
            for p in parts {
                n += match p {
                    ContentPart::ImageUrl { image_url } => match &image_url.stored {
                        Some(s) => s.bytes.div_ceil(3) * 4,
                        None => image_url.url.len() as u64,
                    },
                    ContentPart::File { file } => match &file.stored {
                        Some(s) => s.bytes.div_ceil(3) * 4,
                        None => file.file_data.as_ref().map_or(0, |d| d.len() as u64),
                    },
                    _ => 0,
                };
            }
        }
        n
    }

    /// Fills every part read back from history with `data` (its `data:` URL); false when one
    /// has none, and that part is left unresolved.
    pub fn resolve(&mut self, mut data: impl FnMut(&Stored) -> Option<Arc<str>>) -> bool {
        let mut all = true;
        for m in &mut self.messages {
            let MessageContent::Parts(parts) = &mut m.content else {
                continue;
            };
            for p in parts.iter_mut() {
                match p {
                    ContentPart::ImageUrl { image_url } => {
                        if let Some(s) = &image_url.stored {
                            match data(s) {
                                Some(d) => {
                                    image_url.url = d;
                                    image_url.stored = None;
                                }
                                None => all = false,
                            }
                        }
                    }
                    ContentPart::File { file } => {
                        if let Some(s) = &file.stored {
                            match data(s) {
                                Some(d) => {
                                    file.file_data = Some(d);
                                    file.stored = None;
                                }
                                None => all = false,
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        all
    }

    /// The same request in the OpenAI Chat Completions dialect: OpenRouter's routing and
    /// extension fields ([`OPENROUTER_ONLY_FIELDS`]) removed, messages' reasoning blocks too.
    /// What a generic server receives; routing is then Switchyard's job, not the server's.
    pub fn openai_dialect(&self) -> ChatRequest {
        let mut r = self.clone();
        r.models = None;
        r.provider = None;
        r.plugins = None;
        r.reasoning = None;
        r.top_k = None;
        r.top_a = None;
        r.min_p = None;
        r.repetition_penalty = None;
        r.session_id = None;
        for m in &mut r.messages {
            m.reasoning = None;
            m.reasoning_details = None;
        }
        r
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// System prompt.
    System,
    /// Developer prompt.
    Developer,
    /// The user.
    #[default]
    User,
    /// The model.
    Assistant,
    /// A tool result.
    Tool,
}

/// One message of the conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Author role.
    pub role: Role,
    /// Text or content parts. Assistant turns with only tool calls may arrive with `null` or no
    /// content; that decodes as empty text, which we send back as `""` (real traffic does too).
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: MessageContent,
    /// Participant name (prepended as `{name}: ` for non-OpenAI models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For `tool` messages: the id of the call this answers (required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For `assistant` messages: tool calls the model made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// For `assistant` messages: plain-text reasoning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// For `assistant` messages: typed reasoning blocks, kept opaque because they must be sent
    /// back byte-for-byte unmodified (signatures, encrypted data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_details: Option<Vec<Value>>,
}

/// Message content: a plain string or an array of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Content parts (text, images, files, audio).
    Parts(Vec<ContentPart>),
}

impl Default for MessageContent {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl MessageContent {
    /// Characters of text in it (text parts only).
    pub fn text_len(&self) -> usize {
        match self {
            Self::Text(t) => t.chars().count(),
            Self::Parts(parts) => parts
                .iter()
                .map(|p| match p {
                    ContentPart::Text { text, .. } => text.chars().count(),
                    _ => 0,
                })
                .sum(),
        }
    }
}

impl Message {
    /// A message with plain text.
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: MessageContent::Text(text.into()),
            ..Default::default()
        }
    }
    /// A user message with plain text.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, text)
    }
    /// An assistant message with plain text.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, text)
    }
    /// A system message with plain text.
    pub fn system(text: impl Into<String>) -> Self {
        Self::new(Role::System, text)
    }
    /// A developer message with plain text.
    pub fn developer(text: impl Into<String>) -> Self {
        Self::new(Role::Developer, text)
    }
    /// A user message made of content parts (put text before images).
    pub fn user_parts(parts: impl IntoIterator<Item = ContentPart>) -> Self {
        Self {
            role: Role::User,
            content: MessageContent::Parts(parts.into_iter().collect()),
            ..Default::default()
        }
    }
    /// A tool result answering the call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(tool_call_id.into()),
            ..Self::new(Role::Tool, text)
        }
    }
    /// An assistant turn that made tool calls; content is `""` as in real traffic.
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Self {
        Self {
            tool_calls: Some(calls),
            ..Self::new(Role::Assistant, "")
        }
    }
}

/// One part of a multi-part message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// `{"type":"text","text":…}`.
    Text {
        /// The text.
        text: String,
        /// Anthropic-style prompt-cache breakpoint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// `{"type":"image_url","image_url":{url, detail?}}`.
    ImageUrl {
        /// The image reference.
        image_url: ImageUrl,
    },
    /// `{"type":"file","file":{filename?, file_data? | file_id?}}`.
    File {
        /// The file reference.
        file: FileRef,
    },
    /// `{"type":"input_audio","input_audio":{data, format}}`.
    InputAudio {
        /// The audio data.
        input_audio: InputAudio,
    },
    /// Any other part type (e.g. `video_url`), passed through untouched.
    #[serde(untagged)]
    Other(Value),
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text {
            text: text.into(),
            cache_control: None,
        }
    }
    /// An image by URL (https or `data:` URL).
    pub fn image_url(url: impl Into<Arc<str>>) -> Self {
        Self::ImageUrl {
            image_url: ImageUrl {
                url: url.into(),
                detail: None,
                stored: None,
            },
        }
    }
    /// An image whose bytes history keeps, read back just before the request leaves.
    pub fn stored_image(stored: Stored) -> Self {
        Self::ImageUrl {
            image_url: ImageUrl {
                url: "".into(),
                detail: None,
                stored: Some(stored),
            },
        }
    }
    /// A PDF whose bytes history keeps, read back just before the request leaves.
    pub fn stored_pdf(filename: impl Into<String>, stored: Stored) -> Self {
        Self::File {
            file: FileRef {
                filename: Some(filename.into()),
                file_data: None,
                file_id: None,
                stored: Some(stored),
            },
        }
    }
    /// An inline image: builds `data:<mime>;base64,<bytes_b64>`.
    pub fn image_data_url(mime: &str, bytes_b64: &str) -> Self {
        Self::image_url(format!("data:{mime};base64,{bytes_b64}"))
    }
    /// A PDF (or other file) by URL or `data:application/pdf;base64,…` URL.
    pub fn pdf(filename: impl Into<String>, data_url: impl Into<Arc<str>>) -> Self {
        Self::File {
            file: FileRef {
                filename: Some(filename.into()),
                file_data: Some(data_url.into()),
                file_id: None,
                stored: None,
            },
        }
    }
    /// Base64 audio input (URLs are not accepted) in a format such as `wav` or `mp3`.
    pub fn audio(data_b64: impl Into<String>, format: impl Into<String>) -> Self {
        Self::InputAudio {
            input_audio: InputAudio {
                data: data_b64.into(),
                format: format.into(),
            },
        }
    }
}

/// An image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// `https://…` or `data:image/png;base64,…` (shared: a large image is not copied per pane).
    pub url: Arc<str>,
    /// Resolution hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<ImageDetail>,
    /// Switchyard's own, never on the wire: `url` is still to be read back from history.
    #[serde(skip)]
    pub stored: Option<Stored>,
}

/// An attachment whose bytes history keeps and memory does not: the key it is read back by
/// just before its request leaves (a request still holding one is never sent).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stored {
    /// SHA-256 of the file as read, in hex.
    pub hash: Arc<str>,
    /// Length of the bytes sent (after any downscale), which the hash alone does not fix.
    pub bytes: u64,
}

/// Image resolution hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageDetail {
    /// Provider decides.
    Auto,
    /// Low resolution.
    Low,
    /// High resolution.
    High,
    /// Original resolution (OpenRouter extension; downgraded to `high` where unsupported).
    Original,
}

/// A file reference: inline data / URL, or an uploaded file id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// File name, e.g. `doc.pdf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// `https://…` or `data:<mime>;base64,…` (shared: a large file is not copied per pane).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<Arc<str>>,
    /// Id of an uploaded file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// Switchyard's own, never on the wire: `file_data` is still to be read back from history.
    #[serde(skip)]
    pub stored: Option<Stored>,
}

/// Base64 audio input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputAudio {
    /// Base64 audio bytes.
    pub data: String,
    /// Container/codec: wav, mp3, aiff, aac, ogg, flac, m4a, pcm16, pcm24 (a string in the spec,
    /// and support varies by provider, so not an enum).
    pub format: String,
}

/// Anthropic-style cache breakpoint on a text part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheControl {
    /// Always `ephemeral`.
    #[serde(rename = "type")]
    pub kind: CacheKind,
    /// Cache lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<CacheTtl>,
}

impl CacheControl {
    /// `{"type":"ephemeral"}`.
    pub fn ephemeral() -> Self {
        Self::default()
    }
}

/// The only cache-control type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheKind {
    /// `ephemeral`.
    #[default]
    Ephemeral,
}

/// Cache lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheTtl {
    /// Five minutes.
    #[serde(rename = "5m")]
    FiveMinutes,
    /// One hour.
    #[serde(rename = "1h")]
    OneHour,
}

/// The `"function"` type tag of tools and tool calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionType {
    /// `function`.
    #[default]
    Function,
}

/// A tool call made by the assistant (sent back on the assistant message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Call id, echoed in the tool message's `tool_call_id`.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default)]
    pub kind: FunctionType,
    /// Name and JSON-string arguments.
    pub function: FunctionCall,
}

impl ToolCall {
    /// A function call with JSON-string arguments.
    pub fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            kind: FunctionType::Function,
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
        }
    }
}

/// The function part of a tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments as a JSON string.
    pub arguments: String,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Tool {
    /// An OpenAI-style function tool.
    Function(FunctionTool),
    /// A server tool (`{"type":"openrouter:web_search",…}` etc.), passed through untouched.
    Server(Value),
}

impl Tool {
    /// A function tool with a JSON Schema for its parameters.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Self::Function(FunctionTool {
            kind: FunctionType::Function,
            function: FunctionDef {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
            },
            cache_control: None,
        })
    }
}

/// `{"type":"function","function":{…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: FunctionType,
    /// The function definition.
    pub function: FunctionDef,
    /// Anthropic-style cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

/// A function definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDef {
    /// Name (`[A-Za-z0-9_-]`, ≤ 64 chars).
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice`: a mode string or a named function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `"none" | "auto" | "required"`.
    Mode(ToolChoiceMode),
    /// `{"type":"function","function":{"name":…}}`.
    Named(NamedToolChoice),
}

impl ToolChoice {
    /// Force a call of the function `name`.
    pub fn function(name: impl Into<String>) -> Self {
        Self::Named(NamedToolChoice {
            kind: FunctionType::Function,
            function: ToolName { name: name.into() },
        })
    }
}

/// Tool-choice modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolChoiceMode {
    /// Never call tools.
    None,
    /// Model decides.
    Auto,
    /// Must call some tool.
    Required,
}

/// A forced function choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedToolChoice {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: FunctionType,
    /// The function to call.
    pub function: ToolName,
}

/// A function name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolName {
    /// Function name.
    pub name: String,
}

/// `stop`: one sequence or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// A single stop sequence.
    One(String),
    /// Up to 4 stop sequences.
    Many(Vec<String>),
}

/// `stream_options` (deprecated: OpenRouter always sends usage).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Ask for usage on the last chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
}

/// Service tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceTier {
    /// `auto`.
    Auto,
    /// `default`.
    Default,
    /// `fast`.
    Fast,
    /// `flex`.
    Flex,
    /// `priority`.
    Priority,
    /// `scale`.
    Scale,
}

/// An output modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// Text.
    Text,
    /// Images.
    Image,
    /// Audio (needs `stream: true`).
    Audio,
}

/// The `provider` routing preferences (spec: `ProviderPreferences`, `additionalProperties: false`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderPreferences {
    /// Provider slugs to try in this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Vec<String>>,
    /// `false`: only the listed/primary providers; return their error if they fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_fallbacks: Option<bool>,
    /// Only providers supporting every parameter of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_parameters: Option<bool>,
    /// `deny` excludes providers that store or train on data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_collection: Option<DataCollection>,
    /// Only zero-data-retention endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zdr: Option<bool>,
    /// Only models whose author allows text distillation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_distillable_text: Option<bool>,
    /// Provider allowlist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<String>>,
    /// Provider denylist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<String>>,
    /// Acceptable quantizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantizations: Option<Vec<Quantization>>,
    /// Sort providers (turns off load balancing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<ProviderSort>,
    /// Hard price ceiling; requests fail if nothing qualifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<MaxPrice>,
    /// Preferred minimum throughput in tokens/s (soft: misses only go last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_min_throughput: Option<Threshold>,
    /// Preferred maximum latency (time to first token) in seconds (soft).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_max_latency: Option<Threshold>,
}

/// Data-collection policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataCollection {
    /// Allow providers that store or train on data.
    Allow,
    /// Exclude them.
    Deny,
}

/// Quantization levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantization {
    /// `int4`.
    Int4,
    /// `int8`.
    Int8,
    /// `fp4`.
    Fp4,
    /// `mxfp4`.
    Mxfp4,
    /// `nvfp4`.
    Nvfp4,
    /// `fp6`.
    Fp6,
    /// `fp8`.
    Fp8,
    /// `mxfp8`.
    Mxfp8,
    /// `fp16`.
    Fp16,
    /// `bf16`.
    Bf16,
    /// `fp32`.
    Fp32,
    /// `unknown`.
    Unknown,
}

impl Quantization {
    /// Every level, in OpenRouter's documented order.
    pub const ALL: [Quantization; 12] = [
        Self::Int4,
        Self::Int8,
        Self::Fp4,
        Self::Mxfp4,
        Self::Nvfp4,
        Self::Fp6,
        Self::Fp8,
        Self::Mxfp8,
        Self::Fp16,
        Self::Bf16,
        Self::Fp32,
        Self::Unknown,
    ];

    /// The wire spelling, e.g. "fp8".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Int4 => "int4",
            Self::Int8 => "int8",
            Self::Fp4 => "fp4",
            Self::Mxfp4 => "mxfp4",
            Self::Nvfp4 => "nvfp4",
            Self::Fp6 => "fp6",
            Self::Fp8 => "fp8",
            Self::Mxfp8 => "mxfp8",
            Self::Fp16 => "fp16",
            Self::Bf16 => "bf16",
            Self::Fp32 => "fp32",
            Self::Unknown => "unknown",
        }
    }

    /// Parses the wire spelling (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|q| q.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for Quantization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `provider.sort`: a bare criterion or `{by, partition}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProviderSort {
    /// `"price"` etc.
    By(SortBy),
    /// `{"by":…, "partition":…}`.
    Config(SortConfig),
}

/// Object form of `provider.sort`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortConfig {
    /// Sort criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<SortBy>,
    /// Group by model first (default) or sort all models' endpoints together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Partition>,
}

/// Provider sort criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    /// Cheapest first.
    Price,
    /// Fastest tokens/s first.
    Throughput,
    /// Lowest time-to-first-token first.
    Latency,
    /// Quality-first (tool-calling success signals).
    Exacto,
}

/// How endpoints of several models are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Partition {
    /// Group by model; the primary model's endpoints come first (default).
    Model,
    /// Sort all endpoints of all models together.
    None,
}

/// A routing threshold: a bare number (applies to p50) or per-percentile cutoffs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Threshold {
    /// Applies to p50.
    Value(f64),
    /// `{p50?, p75?, p90?, p99?}`; all given cutoffs must be met.
    Percentiles(Percentiles),
}

/// Percentile cutoffs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
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

/// `provider.max_price` in USD. Sent as decimal strings (the spec types them as strings); read
/// from strings or numbers (older spec and the docs' prose use numbers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MaxPrice {
    /// USD per million prompt tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_string"
    )]
    pub prompt: Option<f64>,
    /// USD per million completion tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_string"
    )]
    pub completion: Option<f64>,
    /// USD per request.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_string"
    )]
    pub request: Option<f64>,
    /// USD per image.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_string"
    )]
    pub image: Option<f64>,
    /// USD per audio unit.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_string"
    )]
    pub audio: Option<f64>,
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Plain text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// Structured output following a JSON Schema.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat,
    },
}

impl ResponseFormat {
    /// A strict JSON-schema format.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        Self::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: name.into(),
                description: None,
                strict: Some(true),
                schema,
            },
        }
    }
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// `[A-Za-z0-9_-]`, ≤ 64 chars.
    pub name: String,
    /// What the schema is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// The JSON Schema object.
    pub schema: Value,
}

/// A plugin entry of `plugins`, discriminated by `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "id", rename_all = "kebab-case")]
pub enum Plugin {
    /// PDF/file parsing.
    FileParser {
        /// `false` switches off an account default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enabled: Option<bool>,
        /// PDF options.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pdf: Option<PdfOptions>,
    },
    /// Repairs broken JSON in non-streaming structured outputs.
    ResponseHealing {
        /// `false` switches off an account default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enabled: Option<bool>,
    },
    /// Middle-out prompt compression.
    ContextCompression {
        /// `false` switches off an account default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enabled: Option<bool>,
        /// Compression engine.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        engine: Option<CompressionEngine>,
    },
    /// Any other plugin (`web`, `moderation`, `auto-router`, …), passed through untouched.
    #[serde(untagged)]
    Other(Value),
}

impl Plugin {
    /// The `file-parser` plugin with a PDF engine.
    pub fn file_parser(engine: PdfEngine) -> Self {
        Self::FileParser {
            enabled: None,
            pdf: Some(PdfOptions {
                engine: Some(engine),
            }),
        }
    }
    /// A plugin with only an id, e.g. `Plugin::id("web")`.
    pub fn id(id: &str) -> Self {
        Self::Other(serde_json::json!({ "id": id }))
    }
}

/// PDF parsing options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdfOptions {
    /// Engine; unset means native if available, else `mistral-ocr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<PdfEngine>,
}

/// PDF parser engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PdfEngine {
    /// OCR, billed per page.
    MistralOcr,
    /// Free markdown conversion.
    CloudflareAi,
    /// The model reads the file natively (input tokens).
    Native,
    /// Deprecated; redirected to `cloudflare-ai`.
    PdfText,
}

/// Context-compression engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompressionEngine {
    /// Drop from the middle of the prompt.
    MiddleOut,
}

/// `reasoning` request options. The spec lists only `effort` and `summary`; `max_tokens`,
/// `exclude` and `enabled` come from the reasoning-tokens docs (the spec allows extra keys).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasoningConfig {
    /// Effort level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    /// Reasoning token budget (alternative to `effort`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Reason but leave the reasoning out of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<bool>,
    /// `true` means medium effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Reasoning summary verbosity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ReasoningSummary>,
}

/// Reasoning effort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    /// ~95 % of `max_tokens`.
    Max,
    /// ~95 %.
    Xhigh,
    /// ~80 %.
    High,
    /// ~50 %.
    Medium,
    /// ~20 %.
    Low,
    /// ~10 %.
    Minimal,
    /// No reasoning.
    None,
}

/// Reasoning summary verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningSummary {
    /// Provider decides.
    Auto,
    /// Short.
    Concise,
    /// Long.
    Detailed,
}

use super::lenient::null_as_default;

/// `Option<f64>` written as a decimal string, read from a string or a number.
mod decimal_string {
    use serde::de::Deserializer;
    use serde::{Serializer, ser};

    /// Writes a finite price as a plain decimal string; refuses NaN and infinities.
    #[allow(clippy::ref_option)] // serde's `with` hands us `&Option<T>`.
    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            // f64's Display never uses exponent notation, so this is a plain decimal.
            Some(x) if x.is_finite() => s.serialize_str(&x.to_string()),
            Some(x) => Err(ser::Error::custom(format!(
                "price {x} is not a finite number"
            ))),
            None => s.serialize_none(),
        }
    }

    /// Reads a number, a decimal string, or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        super::super::lenient::lenient_f64(d)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_openai_dialect_drops_every_openrouter_field() {
        let r: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "a/b", "models": ["c/d"], "provider": {"sort": "price"},
            "plugins": [{"id": "web"}], "reasoning": {"effort": "high"},
            "top_k": 4, "top_a": 0.1, "min_p": 0.1, "repetition_penalty": 1.1,
            "session_id": "s", "temperature": 0.5, "max_tokens": 9, "stream": true,
            "messages": [{"role": "assistant", "content": "x", "reasoning": "r",
                          "reasoning_details": [{"type": "reasoning.text"}]}],
        }))
        .unwrap();
        let v = serde_json::to_value(r.openai_dialect()).unwrap();
        for f in OPENROUTER_ONLY_FIELDS {
            assert!(v.get(f).is_none(), "{f} still sent: {v}");
        }
        assert!(v["messages"][0].get("reasoning").is_none());
        assert!(v["messages"][0].get("reasoning_details").is_none());
        assert_eq!(v["temperature"], 0.5);
        assert_eq!(v["max_tokens"], 9);
        assert_eq!(v["model"], "a/b");
        assert_eq!(v["messages"][0]["content"], "x");
    }

    use super::*;
    use serde_json::json;

    fn to_json(r: &ChatRequest) -> Value {
        serde_json::to_value(r).unwrap()
    }

    #[test]
    fn unset_fields_are_omitted() {
        let r = ChatRequest {
            model: Some("openai/gpt-4o".into()),
            messages: vec![Message::system("be brief"), Message::user("hi")],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"model":"openai/gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}"#
        );
        let empty = ProviderPreferences::default();
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
    }

    #[test]
    fn lead_shaped_request_serializes_exactly() {
        let r = ChatRequest {
            model: Some("a/b".into()),
            models: Some(vec!["c/d".into()]),
            messages: vec![
                Message::user("q"),
                Message::assistant("a"),
                Message::user("q2"),
            ],
            stream: Some(true),
            ..Default::default()
        };
        assert_eq!(
            to_json(&r),
            json!({"model":"a/b","models":["c/d"],"stream":true,"messages":[
                {"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"user","content":"q2"}]})
        );
    }

    #[test]
    fn content_parts_serialize_as_spec() {
        let m = Message::user_parts([
            ContentPart::text("describe"),
            ContentPart::image_data_url("image/png", "AAAA"),
            ContentPart::pdf("doc.pdf", "data:application/pdf;base64,JVBE"),
            ContentPart::audio("UklG", "wav"),
        ]);
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"role":"user","content":[
                {"type":"text","text":"describe"},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
                {"type":"file","file":{"filename":"doc.pdf","file_data":"data:application/pdf;base64,JVBE"}},
                {"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}}]})
        );
    }

    #[test]
    fn unknown_content_part_passes_through() {
        let v = json!({"type":"video_url","video_url":{"url":"https://x/v.mp4"}});
        let p: ContentPart = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(p, ContentPart::Other(v.clone()));
        assert_eq!(serde_json::to_value(&p).unwrap(), v);
    }

    #[test]
    fn tool_loop_messages() {
        let call = ToolCall::function("call_1", "get_weather", r#"{"city":"Oslo"}"#);
        let a = Message::assistant_tool_calls(vec![call]);
        let t = Message::tool("call_1", "12C");
        assert_eq!(
            serde_json::to_value([&a, &t]).unwrap(),
            json!([
                {"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function",
                  "function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
                {"role":"tool","content":"12C","tool_call_id":"call_1"}])
        );
    }

    #[test]
    fn assistant_null_content_decodes_as_empty_text() {
        let m: Message =
            serde_json::from_value(json!({"role":"assistant","content":null})).unwrap();
        assert_eq!(m.content, MessageContent::Text(String::new()));
        let m: Message = serde_json::from_value(json!({"role":"assistant"})).unwrap();
        assert_eq!(m.content, MessageContent::Text(String::new()));
    }

    #[test]
    fn reasoning_details_round_trip_unmodified() {
        let details = json!([{"type":"reasoning.encrypted","data":"enc==","id":"r1","format":"anthropic-claude-v1","index":0,"x-new":[1,{"a":null}]}]);
        let v = json!({"role":"assistant","content":"ok","reasoning":"thought","reasoning_details":details});
        let m: Message = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&m).unwrap(), v);
    }

    #[test]
    fn sort_string_and_object_forms() {
        let s: ProviderSort = serde_json::from_value(json!("throughput")).unwrap();
        assert_eq!(s, ProviderSort::By(SortBy::Throughput));
        let o: ProviderSort =
            serde_json::from_value(json!({"by":"price","partition":"none"})).unwrap();
        assert_eq!(
            o,
            ProviderSort::Config(SortConfig {
                by: Some(SortBy::Price),
                partition: Some(Partition::None)
            })
        );
        assert_eq!(serde_json::to_value(s).unwrap(), json!("throughput"));
        assert_eq!(
            serde_json::to_value(o).unwrap(),
            json!({"by":"price","partition":"none"})
        );
        assert!(serde_json::from_value::<ProviderSort>(json!("fastest")).is_err());
    }

    #[test]
    fn threshold_number_and_object_forms() {
        let n: Threshold = serde_json::from_value(json!(2)).unwrap();
        assert_eq!(n, Threshold::Value(2.0));
        let o: Threshold = serde_json::from_value(json!({"p90": 1.5, "p50": 0.5})).unwrap();
        assert_eq!(
            o,
            Threshold::Percentiles(Percentiles {
                p50: Some(0.5),
                p90: Some(1.5),
                ..Default::default()
            })
        );
        assert_eq!(serde_json::to_value(n).unwrap(), json!(2.0));
        assert_eq!(
            serde_json::to_value(o).unwrap(),
            json!({"p50":0.5,"p90":1.5})
        );
    }

    #[test]
    fn max_price_reads_numbers_and_strings_and_writes_strings() {
        let a: MaxPrice = serde_json::from_value(
            json!({"prompt":1,"completion":2.5,"request":"0.01","image":null}),
        )
        .unwrap();
        assert_eq!(
            a,
            MaxPrice {
                prompt: Some(1.0),
                completion: Some(2.5),
                request: Some(0.01),
                image: None,
                audio: None
            }
        );
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            json!({"prompt":"1","completion":"2.5","request":"0.01"})
        );
        let tiny = MaxPrice {
            audio: Some(0.0000001),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(tiny).unwrap(),
            json!({"audio":"0.0000001"})
        );
        assert!(serde_json::from_value::<MaxPrice>(json!({"prompt":"cheap"})).is_err());
        assert!(
            serde_json::to_value(MaxPrice {
                prompt: Some(f64::NAN),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn enums_use_spec_spellings() {
        let p = ProviderPreferences {
            data_collection: Some(DataCollection::Deny),
            quantizations: Some(vec![
                Quantization::Mxfp4,
                Quantization::Bf16,
                Quantization::Unknown,
            ]),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"data_collection":"deny","quantizations":["mxfp4","bf16","unknown"]})
        );
        assert_eq!(
            serde_json::to_value(PdfEngine::MistralOcr).unwrap(),
            json!("mistral-ocr")
        );
        assert_eq!(
            serde_json::to_value(PdfEngine::CloudflareAi).unwrap(),
            json!("cloudflare-ai")
        );
        assert_eq!(serde_json::to_value(Effort::Xhigh).unwrap(), json!("xhigh"));
        assert_eq!(
            serde_json::to_value(ImageDetail::Original).unwrap(),
            json!("original")
        );
        assert_eq!(
            serde_json::to_value(CacheTtl::OneHour).unwrap(),
            json!("1h")
        );
        assert_eq!(
            serde_json::to_value(ServiceTier::Flex).unwrap(),
            json!("flex")
        );
    }

    #[test]
    fn plugins_typed_and_passthrough() {
        let ps = vec![
            Plugin::file_parser(PdfEngine::CloudflareAi),
            Plugin::ResponseHealing { enabled: None },
            Plugin::ContextCompression {
                enabled: Some(true),
                engine: Some(CompressionEngine::MiddleOut),
            },
            Plugin::id("web"),
        ];
        let v = json!([
            {"id":"file-parser","pdf":{"engine":"cloudflare-ai"}},
            {"id":"response-healing"},
            {"id":"context-compression","enabled":true,"engine":"middle-out"},
            {"id":"web"}]);
        assert_eq!(serde_json::to_value(&ps).unwrap(), v);
        assert_eq!(serde_json::from_value::<Vec<Plugin>>(v).unwrap(), ps);
        let web = json!({"id":"web","max_results":3,"engine":"exa"});
        assert_eq!(
            serde_json::from_value::<Plugin>(web.clone()).unwrap(),
            Plugin::Other(web)
        );
    }

    #[test]
    fn response_format_variants() {
        assert_eq!(
            serde_json::to_value(ResponseFormat::Text).unwrap(),
            json!({"type":"text"})
        );
        assert_eq!(
            serde_json::to_value(ResponseFormat::JsonObject).unwrap(),
            json!({"type":"json_object"})
        );
        let f = ResponseFormat::json_schema("weather", json!({"type":"object"}));
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"type":"json_schema","json_schema":{"name":"weather","strict":true,"schema":{"type":"object"}}})
        );
    }

    #[test]
    fn tools_and_choices() {
        let t = Tool::function("f", "does f", json!({"type":"object"}));
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"type":"function","function":{"name":"f","description":"does f","parameters":{"type":"object"}}})
        );
        let server = json!({"type":"openrouter:web_search","parameters":{"max_results":2}});
        assert_eq!(
            serde_json::from_value::<Tool>(server.clone()).unwrap(),
            Tool::Server(server)
        );
        assert_eq!(
            serde_json::to_value(ToolChoice::Mode(ToolChoiceMode::Required)).unwrap(),
            json!("required")
        );
        assert_eq!(
            serde_json::to_value(ToolChoice::function("f")).unwrap(),
            json!({"type":"function","function":{"name":"f"}})
        );
        assert_eq!(
            serde_json::to_value(Stop::One("x".into())).unwrap(),
            json!("x")
        );
        assert_eq!(
            serde_json::to_value(Stop::Many(vec!["x".into(), "y".into()])).unwrap(),
            json!(["x", "y"])
        );
    }

    #[test]
    fn full_request_round_trips() {
        let r = ChatRequest {
            model: Some("anthropic/claude-sonnet-4.5".into()),
            models: Some(vec!["openai/gpt-4o".into()]),
            messages: vec![
                Message::developer("d"),
                Message {
                    name: Some("ann".into()),
                    ..Message::user("u")
                },
                Message::user_parts([
                    ContentPart::Text {
                        text: "t".into(),
                        cache_control: Some(CacheControl::ephemeral()),
                    },
                    ContentPart::image_url("https://x/y.png"),
                ]),
            ],
            stream: Some(false),
            provider: Some(ProviderPreferences {
                order: Some(vec!["anthropic".into()]),
                sort: Some(ProviderSort::Config(SortConfig {
                    by: Some(SortBy::Latency),
                    partition: None,
                })),
                max_price: Some(MaxPrice {
                    prompt: Some(3.0),
                    ..Default::default()
                }),
                preferred_max_latency: Some(Threshold::Value(1.5)),
                ..Default::default()
            }),
            reasoning: Some(ReasoningConfig {
                effort: Some(Effort::None),
                ..Default::default()
            }),
            temperature: Some(0.7),
            seed: Some(-3),
            logit_bias: Some(BTreeMap::from([("42".into(), -100.0)])),
            stop: Some(Stop::Many(vec!["\n\n".into()])),
            metadata: Some(BTreeMap::from([("k".into(), "v".into())])),
            service_tier: Some(ServiceTier::Default),
            modalities: Some(vec![Modality::Text]),
            ..Default::default()
        };
        let back: ChatRequest = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn decoding_tolerates_nulls_and_unknown_fields() {
        let r: ChatRequest = serde_json::from_value(json!({
            "messages":[{"role":"user","content":"x"}],
            "temperature":null, "route":"fallback", "provider":{"sort":null}
        }))
        .unwrap();
        assert_eq!(r.temperature, None);
        assert_eq!(r.provider, Some(ProviderPreferences::default()));
        // We never emit `route` (deprecated) even if it was present on input.
        assert!(!serde_json::to_string(&r).unwrap().contains("route"));
    }
}
