//! Parsing and validating the chat request body (OpenRouter's ChatRequest) and OpenRouter-shaped
//! error bodies. Tolerant of fields it does not simulate; strict about the ones it uses.

use super::http::Response;
use super::spec::Quantization;
use serde_json::{Map, Value, json};

/// The `user_id` every simulated error body carries, as real ones do.
pub const USER_ID: &str = "user_sim";

/// An error answered before any byte of a completion: status, message, optional metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// HTTP status (also `error.code`).
    pub status: u16,
    /// `error.message`.
    pub message: String,
    /// `error.metadata`, when there is any.
    pub metadata: Option<Value>,
    /// `Retry-After` seconds, for 429/503.
    pub retry_after: Option<u64>,
}

impl Failure {
    /// A plain error with no metadata.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            metadata: None,
            retry_after: None,
        }
    }

    /// A 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// A 400 with an error type from OpenRouter's vocabulary (`context_length_exceeded`,
    /// `content_policy_violation`, …): `metadata.error_type` in OpenRouter's shape, the string
    /// `code` in OpenAI's.
    pub fn typed(status: u16, error_type: &str, message: impl Into<String>) -> Self {
        Self::new(status, message).with_metadata(json!({ "error_type": error_type }))
    }

    /// Adds `error.metadata`.
    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// OpenRouter's error body: `{"error":{"code","message","metadata"?},"user_id"}`.
    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.status, "message": self.message });
        if let Some(m) = &self.metadata {
            error["metadata"] = m.clone();
        }
        json!({ "error": error, "user_id": USER_ID })
    }

    /// The full HTTP response, with `Retry-After` when set.
    pub fn response(&self) -> Response {
        self.finish(Response::json(self.status, &self.body()))
    }

    /// The error as a provider's own OpenAI-compatible server words it: no `user_id`, an OpenAI
    /// `type`, and `code` kept numeric so OpenRouter-style decoders read it too.
    pub fn openai_response(&self) -> Response {
        let kind = match self.status {
            400 | 413 | 422 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            _ => "server_error",
        };
        // OpenAI names specific errors with a string code; otherwise the status stays numeric
        // so OpenRouter-style decoders read it too.
        let code = self
            .metadata
            .as_ref()
            .and_then(|m| m.get("error_type"))
            .cloned()
            .unwrap_or_else(|| json!(self.status));
        let body = json!({ "error": { "code": code, "message": self.message, "type": kind, "param": null } });
        self.finish(Response::json(self.status, &body))
    }

    fn finish(&self, r: Response) -> Response {
        let mut r = match self.retry_after {
            Some(s) => r.with_header("Retry-After", s.to_string()),
            None => r,
        };
        // A platform 429 names its limit in `metadata.headers`; the response carries them too.
        let headers = self
            .metadata
            .as_ref()
            .and_then(|m| m.get("headers")?.as_object());
        for (k, v) in headers.into_iter().flatten() {
            if let Some(v) = v.as_str() {
                r = r.with_header(k, v);
            }
        }
        r
    }
}

/// What the fleet needs from a chat request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatParams {
    /// Primary model id.
    pub model: String,
    /// Fallback models from `models`, in order (duplicates of `model` removed).
    pub fallbacks: Vec<String>,
    /// `stream: true`.
    pub stream: bool,
    /// The smaller of `max_tokens` and `max_completion_tokens`, if either is set.
    pub max_tokens: Option<u64>,
    /// Estimated prompt tokens: ceil(chars / 4) over all message text.
    pub prompt_tokens: u64,
    /// Text of the last user message (what the answer refers to).
    pub last_user: String,
    /// The final message's text when it is from the assistant: a prefill to continue.
    pub prefill: Option<String>,
    /// `stream_options.include_usage` (used by the OpenAI-style provider routes).
    pub include_usage: bool,
    /// Provider routing preferences.
    pub prefs: Prefs,
    /// What `response_format` asks for.
    pub format: Format,
    /// The request's parameters an endpoint must list under `require_parameters`.
    pub used_params: Vec<&'static str>,
    /// Input modalities the messages use beyond text (`image`, `file`).
    pub inputs: Vec<&'static str>,
    /// What the last user message attached, in order.
    pub attached: Vec<Attached>,
    /// What earlier user messages attached (a conversation sends them again each turn).
    pub earlier: Vec<Attached>,
    /// The answer's opening lines acknowledging each attachment (set by the server).
    pub ack: Option<String>,
}

/// One image or file part of the last user message, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Attached {
    /// `image_url` or `file`.
    pub part: &'static str,
    /// The file's `filename`.
    pub name: Option<String>,
    /// The URL, when it is not a `data:` URL.
    pub url: Option<String>,
    /// A `data:` URL's MIME type and bytes.
    pub data: Option<(String, Vec<u8>)>,
}

/// `response_format`, as the fleet answers it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Format {
    /// Prose.
    #[default]
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON following this schema.
    Schema(Value),
}

/// Request fields that are parameters an endpoint lists in `supported_parameters` (a request
/// using one needs it listed when `require_parameters` is on).
const PARAMS: [&str; 17] = [
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "stop",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "tools",
    "tool_choice",
    "reasoning",
    "max_tokens",
    "response_format",
];

/// Simulated subset of OpenRouter's `provider` object.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefs {
    /// `order`: slugs tried first, in this order.
    pub order: Vec<String>,
    /// `only`: allowlist.
    pub only: Option<Vec<String>>,
    /// `ignore`: denylist.
    pub ignore: Vec<String>,
    /// `allow_fallbacks` (default true).
    pub allow_fallbacks: bool,
    /// `data_collection: "deny"`.
    pub deny_data_collection: bool,
    /// `zdr: true`.
    pub zdr: bool,
    /// `quantizations` allowlist.
    pub quantizations: Option<Vec<Quantization>>,
    /// `max_price.prompt`, USD per million.
    pub max_prompt_price: Option<f64>,
    /// `max_price.completion`, USD per million.
    pub max_completion_price: Option<f64>,
    /// `sort` ("price", "throughput", "latency"), string or `{by}` form.
    pub sort: Option<String>,
    /// `require_parameters`: only endpoints listing every parameter the request uses.
    pub require_parameters: bool,
    /// Sent to the EU host: only providers whose region is the EU (not a body field).
    pub eu_only: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            order: Vec::new(),
            only: None,
            ignore: Vec::new(),
            allow_fallbacks: true,
            deny_data_collection: false,
            zdr: false,
            quantizations: None,
            max_prompt_price: None,
            max_completion_price: None,
            sort: None,
            require_parameters: false,
            eu_only: false,
        }
    }
}

const ROLES: [&str; 5] = ["system", "developer", "user", "assistant", "tool"];

/// Parses a chat request body; the error is a ready-to-send 400.
pub fn parse_chat(body: &[u8]) -> Result<ChatParams, Failure> {
    if body.is_empty() {
        return Err(Failure::bad_request(
            "request body is empty; expected a JSON chat completion request",
        ));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Failure::bad_request(format!("request body is not valid JSON: {e}")))?;
    let Some(obj) = v.as_object() else {
        return Err(Failure::bad_request("request body must be a JSON object"));
    };

    let messages = match obj.get("messages") {
        None | Some(Value::Null) => return Err(Failure::bad_request("`messages` is required")),
        Some(Value::Array(m)) if m.is_empty() => {
            return Err(Failure::bad_request(
                "`messages` must contain at least one message",
            ));
        }
        Some(Value::Array(m)) => m,
        Some(_) => return Err(Failure::bad_request("`messages` must be an array")),
    };
    let mut chars = 0usize;
    let mut last_user = String::new();
    let mut prefill = None;
    let mut inputs: Vec<&'static str> = Vec::new();
    let mut attached = Vec::new();
    let mut earlier = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let Some(m) = m.as_object() else {
            return Err(Failure::bad_request(format!(
                "messages[{i}] must be an object"
            )));
        };
        let role = match m.get("role") {
            Some(Value::String(r)) if ROLES.contains(&r.as_str()) => r.as_str(),
            Some(Value::String(r)) => {
                return Err(Failure::bad_request(format!(
                    "messages[{i}].role `{r}` is not one of {}",
                    ROLES.join(", ")
                )));
            }
            _ => {
                return Err(Failure::bad_request(format!(
                    "messages[{i}].role is required and must be a string"
                )));
            }
        };
        let text = message_text(m, i)?;
        chars += text.chars().count();
        prefill = (role == "assistant" && i + 1 == messages.len()).then(|| text.clone());
        let parts = attached_parts(m, i)?;
        for a in &parts {
            let modality = if a.part == "file" { "file" } else { "image" };
            if !inputs.contains(&modality) {
                inputs.push(modality);
            }
        }
        if role == "user" {
            last_user = text;
            earlier.append(&mut attached);
            attached = parts;
        }
    }

    let model = opt_str(obj, "model", "model")?;
    let models = match obj.get("models") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => str_list(v, "models")?,
    };
    let model = match model.or_else(|| models.first().cloned()) {
        Some(m) if !m.trim().is_empty() => m,
        _ => {
            return Err(Failure::bad_request(
                "`model` is required (an id such as `openai/gpt-4o-mini`)",
            ));
        }
    };
    let mut fallbacks: Vec<String> = Vec::new();
    for m in models {
        if m != model && !fallbacks.contains(&m) {
            fallbacks.push(m);
        }
    }

    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Failure::bad_request("`stream` must be a boolean")),
    };
    let mut max_tokens: Option<u64> = None;
    for key in ["max_tokens", "max_completion_tokens"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => max_tokens = Some(max_tokens.map_or(n, |m| m.min(n))),
                _ => {
                    return Err(Failure::bad_request(format!(
                        "`{key}` must be an integer ≥ 1, got {v}"
                    )));
                }
            },
        }
    }
    let include_usage = obj
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let prefs = match obj.get("provider") {
        None | Some(Value::Null) => Prefs::default(),
        Some(Value::Object(p)) => parse_prefs(p)?,
        Some(_) => return Err(Failure::bad_request("`provider` must be an object")),
    };
    let format = match obj.get("response_format") {
        None | Some(Value::Null) => Format::Text,
        Some(v) => match v.get("type").and_then(Value::as_str) {
            Some("text") => Format::Text,
            Some("json_object") => Format::JsonObject,
            Some("json_schema") => match v.get("json_schema").and_then(|j| j.get("schema")) {
                Some(schema) if schema.is_object() => Format::Schema(schema.clone()),
                _ => {
                    return Err(Failure::bad_request(
                        "`response_format.json_schema.schema` must be an object",
                    ));
                }
            },
            _ => {
                return Err(Failure::bad_request(
                    "`response_format.type` must be text, json_object or json_schema",
                ));
            }
        },
    };
    let mut used_params: Vec<&'static str> = PARAMS
        .iter()
        .copied()
        .filter(|k| !matches!(obj.get(*k), None | Some(Value::Null)))
        .collect();
    if obj.contains_key("max_completion_tokens") && !used_params.contains(&"max_tokens") {
        used_params.push("max_tokens");
    }
    if matches!(format, Format::Schema(_)) {
        used_params.push("structured_outputs");
    }
    Ok(ChatParams {
        model,
        fallbacks,
        stream,
        max_tokens,
        prompt_tokens: chars.div_ceil(4) as u64,
        last_user,
        prefill,
        include_usage,
        prefs,
        format,
        used_params,
        inputs,
        attached,
        earlier,
        ack: None,
    })
}

/// The image and file parts of a message, their `data:` URLs decoded.
fn attached_parts(m: &Map<String, Value>, i: usize) -> Result<Vec<Attached>, Failure> {
    let Some(Value::Array(parts)) = m.get("content") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        let (part, url, name) = match p.get("type").and_then(Value::as_str) {
            Some("image_url") => (
                "image_url",
                p.pointer("/image_url/url").and_then(Value::as_str),
                None,
            ),
            Some("file") => (
                "file",
                p.pointer("/file/file_data").and_then(Value::as_str),
                p.pointer("/file/filename").and_then(Value::as_str),
            ),
            _ => continue,
        };
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            let field = if part == "file" {
                "file.file_data"
            } else {
                "image_url.url"
            };
            return Err(Failure::bad_request(format!(
                "messages[{i}].content[{j}].{field} must be a non-empty string"
            )));
        };
        let data = crate::attach::decode_data_url(url, super::http::MAX_BODY as usize);
        if url.starts_with("data:") && data.is_none() {
            return Err(Failure::bad_request(format!(
                "messages[{i}].content[{j}]: the data URL is not valid base64 (`data:<mime>;base64,…`)"
            )));
        }
        out.push(Attached {
            part,
            name: name.map(str::to_string),
            url: data.is_none().then(|| url.to_string()),
            data,
        });
    }
    Ok(out)
}

/// The text of a message: a string, or the `text` parts of a content array.
fn message_text(m: &Map<String, Value>, i: usize) -> Result<String, Failure> {
    match m.get("content") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut out = Vec::new();
            for (j, p) in parts.iter().enumerate() {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => match p.get("text").and_then(Value::as_str) {
                        Some(t) => out.push(t.to_string()),
                        None => {
                            return Err(Failure::bad_request(format!(
                                "messages[{i}].content[{j}].text must be a string"
                            )));
                        }
                    },
                    // Images, files and audio are accepted but not simulated.
                    Some(_) => {}
                    None => {
                        return Err(Failure::bad_request(format!(
                            "messages[{i}].content[{j}].type is required"
                        )));
                    }
                }
            }
            Ok(out.join("\n"))
        }
        Some(_) => Err(Failure::bad_request(format!(
            "messages[{i}].content must be a string or an array of content parts"
        ))),
    }
}

fn opt_str(obj: &Map<String, Value>, key: &str, label: &str) -> Result<Option<String>, Failure> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Failure::bad_request(format!("`{label}` must be a string"))),
    }
}

fn str_list(v: &Value, label: &str) -> Result<Vec<String>, Failure> {
    let err = || Failure::bad_request(format!("`{label}` must be an array of strings"));
    v.as_array()
        .ok_or_else(err)?
        .iter()
        .map(|x| x.as_str().map(str::to_string).ok_or_else(err))
        .collect()
}

fn opt_list(p: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, Failure> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => str_list(v, &format!("provider.{key}")).map(Some),
    }
}

fn opt_bool(p: &Map<String, Value>, key: &str) -> Result<Option<bool>, Failure> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Failure::bad_request(format!(
            "`provider.{key}` must be a boolean"
        ))),
    }
}

/// A price limit: a number or a numeric string (both appear in the wild), ≥ 0.
fn price_value(v: &Value, label: &str) -> Result<Option<f64>, Failure> {
    let n = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
        _ => Err(Failure::bad_request(format!(
            "`{label}` must be a non-negative number or numeric string, got {v}"
        ))),
    }
}

fn parse_prefs(p: &Map<String, Value>) -> Result<Prefs, Failure> {
    let mut prefs = Prefs {
        order: opt_list(p, "order")?.unwrap_or_default(),
        only: opt_list(p, "only")?,
        ignore: opt_list(p, "ignore")?.unwrap_or_default(),
        allow_fallbacks: opt_bool(p, "allow_fallbacks")?.unwrap_or(true),
        zdr: opt_bool(p, "zdr")?.unwrap_or(false),
        require_parameters: opt_bool(p, "require_parameters")?.unwrap_or(false),
        ..Prefs::default()
    };
    prefs.deny_data_collection = match p.get("data_collection") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "deny" => true,
        Some(Value::String(s)) if s == "allow" => false,
        Some(v) => {
            return Err(Failure::bad_request(format!(
                "`provider.data_collection` must be \"allow\" or \"deny\", got {v}"
            )));
        }
    };
    if let Some(qs) = opt_list(p, "quantizations")? {
        let mut parsed = Vec::new();
        for q in qs {
            match Quantization::parse(&q) {
                Some(x) => parsed.push(x),
                None => {
                    let all: Vec<&str> = Quantization::ALL.iter().map(|q| q.as_str()).collect();
                    return Err(Failure::bad_request(format!(
                        "`provider.quantizations` has unknown value `{q}` (expected one of {})",
                        all.join(", ")
                    )));
                }
            }
        }
        prefs.quantizations = Some(parsed);
    }
    match p.get("max_price") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            if let Some(v) = m.get("prompt") {
                prefs.max_prompt_price = price_value(v, "provider.max_price.prompt")?;
            }
            if let Some(v) = m.get("completion") {
                prefs.max_completion_price = price_value(v, "provider.max_price.completion")?;
            }
        }
        Some(_) => {
            return Err(Failure::bad_request(
                "`provider.max_price` must be an object",
            ));
        }
    }
    let sort = match p.get("sort") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("by").and_then(Value::as_str).map(str::to_string),
        Some(_) => {
            return Err(Failure::bad_request(
                "`provider.sort` must be a string or an object with `by`",
            ));
        }
    };
    if let Some(s) = &sort
        && !["price", "throughput", "latency"].contains(&s.as_str())
    {
        return Err(Failure::bad_request(format!(
            "`provider.sort` `{s}` is not one of price, throughput, latency"
        )));
    }
    prefs.sort = sort;
    Ok(prefs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<ChatParams, Failure> {
        parse_chat(&serde_json::to_vec(&v).unwrap())
    }

    fn msg(v: Value) -> String {
        parse(v).unwrap_err().message
    }

    #[test]
    fn parses_a_full_request() {
        let p = parse(json!({
            "model": "a/b", "models": ["a/b", "c/d", "c/d"], "stream": true, "max_tokens": 50, "max_completion_tokens": 20,
            "messages": [
                {"role": "system", "content": "abcd"},
                {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "image_url", "image_url": {"url": "x"}}]},
                {"role": "assistant", "content": null},
            ],
            "provider": {"only": ["x"], "data_collection": "deny", "zdr": true, "quantizations": ["FP8"],
                         "max_price": {"prompt": "1.5", "completion": 2}, "allow_fallbacks": false, "sort": {"by": "latency"}},
            "stream_options": {"include_usage": true},
        }))
        .unwrap();
        assert_eq!(p.model, "a/b");
        assert_eq!(p.fallbacks, vec!["c/d"]);
        assert!(p.stream && p.include_usage);
        assert_eq!(p.max_tokens, Some(20));
        assert_eq!(p.prompt_tokens, 3); // 9 chars → ceil(9/4)
        assert_eq!(p.last_user, "hello");
        assert_eq!(p.prefs.only.as_deref(), Some(&["x".to_string()][..]));
        assert!(p.prefs.deny_data_collection && p.prefs.zdr && !p.prefs.allow_fallbacks);
        assert_eq!(p.prefs.quantizations, Some(vec![Quantization::Fp8]));
        assert_eq!(p.prefs.max_prompt_price, Some(1.5));
        assert_eq!(p.prefs.max_completion_price, Some(2.0));
        assert_eq!(p.prefs.sort.as_deref(), Some("latency"));
    }

    #[test]
    fn rejects_bad_requests_with_clear_messages() {
        assert!(
            parse_chat(b"{not json")
                .unwrap_err()
                .message
                .contains("not valid JSON")
        );
        assert!(parse_chat(b"").unwrap_err().message.contains("empty"));
        assert!(msg(json!([1])).contains("JSON object"));
        assert!(msg(json!({"model": "a/b"})).contains("`messages` is required"));
        assert!(msg(json!({"model": "a/b", "messages": []})).contains("at least one"));
        assert!(
            msg(json!({"model": "a/b", "messages": [{"role": "robot", "content": "x"}]}))
                .contains("robot")
        );
        assert!(
            msg(json!({"model": "a/b", "messages": [{"content": "x"}]}))
                .contains("role is required")
        );
        assert!(
            msg(json!({"model": "a/b", "messages": [{"role": "user", "content": 5}]}))
                .contains("content must be")
        );
        assert!(
            msg(json!({"messages": [{"role": "user", "content": "x"}]}))
                .contains("`model` is required")
        );
        assert!(
            msg(json!({"model": 3, "messages": [{"role": "user", "content": "x"}]}))
                .contains("`model` must be a string")
        );
        assert!(msg(json!({"model": "a/b", "stream": "yes", "messages": [{"role": "user", "content": "x"}]})).contains("`stream`"));
        assert!(msg(json!({"model": "a/b", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]})).contains("max_tokens"));
        let p = |prov: Value| {
            msg(
                json!({"model": "a/b", "messages": [{"role": "user", "content": "x"}], "provider": prov}),
            )
        };
        assert!(p(json!({"only": "x"})).contains("provider.only"));
        assert!(p(json!({"data_collection": "maybe"})).contains("data_collection"));
        assert!(p(json!({"quantizations": ["fp9"]})).contains("fp9"));
        assert!(p(json!({"max_price": {"prompt": -1}})).contains("max_price.prompt"));
        assert!(p(json!({"sort": "vibes"})).contains("vibes"));
        assert!(p(json!({"zdr": "yes"})).contains("provider.zdr"));
    }

    #[test]
    fn failure_body_shape() {
        let f = Failure::new(429, "Provider returned error")
            .with_metadata(json!({"provider_name": "X", "raw": "slow down"}));
        let b = f.body();
        assert_eq!(b["error"]["code"], 429);
        assert_eq!(b["error"]["metadata"]["raw"], "slow down");
        assert_eq!(b["user_id"], USER_ID);
        let r = Failure {
            retry_after: Some(7),
            ..f
        }
        .response();
        assert!(
            r.headers
                .contains(&("Retry-After".to_string(), "7".to_string()))
        );
    }
}
