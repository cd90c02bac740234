//! Stream chunks (`chat.completion.chunk`) and the decoder that turns SSE events into
//! [`StreamEvent`]s while surviving every quirk real traffic shows (see the wire reference §3):
//! usage on a chunk that still has choices, an `error` chunk on a 200 stream with
//! `finish_reason: null`, the `provider` field, dated canonical slugs in `model`, reasoning deltas,
//! prices as strings or numbers.

use super::error::{ApiError, ErrorObject};
use crate::sse::{SseEvent, SseItem};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::lenient_cost;

/// Token usage and cost, as sent on the final chunk (or the non-streaming body).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens (native tokenizer).
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Completion tokens (native tokenizer).
    #[serde(default)]
    pub completion_tokens: u64,
    /// Sum of both.
    #[serde(default)]
    pub total_tokens: u64,
    /// Amount charged in USD (credits); may arrive as a string; an impossible figure is `None`.
    #[serde(
        default,
        deserialize_with = "lenient_cost",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost: Option<f64>,
    /// Whether a bring-your-own-key endpoint served it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_byok: Option<bool>,
    /// `{cached_tokens, cache_write_tokens, …}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<Value>,
    /// `{reasoning_tokens, …}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<Value>,
    /// Counted by Switchyard, not the server (which sent no usage): completion tokens are
    /// the streamed content chunks, prompt tokens about four characters each.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

/// The incremental part of a streamed choice.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Delta {
    /// `assistant` on the first delta.
    #[serde(default)]
    pub role: Option<String>,
    /// Visible text.
    #[serde(default)]
    pub content: Option<String>,
    /// Plain-text reasoning.
    #[serde(default, alias = "reasoning_content")]
    pub reasoning: Option<String>,
    /// Typed reasoning blocks, kept verbatim (they must be sent back unmodified).
    #[serde(default)]
    pub reasoning_details: Option<Vec<Value>>,
    /// A refusal message.
    #[serde(default)]
    pub refusal: Option<String>,
    /// Incremental tool calls.
    #[serde(default)]
    pub tool_calls: Option<Vec<Value>>,
}

/// One choice of a chunk.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChunkChoice {
    /// The delta (absent on some final chunks).
    #[serde(default)]
    pub delta: Option<Delta>,
    /// Non-streaming responses carry a whole message instead of a delta.
    #[serde(default)]
    pub message: Option<Delta>,
    /// Normalised finish reason.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// The provider's own finish reason.
    #[serde(default)]
    pub native_finish_reason: Option<String>,
    /// A per-choice error (docs' shape for errors after generation started).
    #[serde(default)]
    pub error: Option<ErrorObject>,
}

/// One `chat.completion.chunk` (also decodes a non-streaming `chat.completion`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamChunk {
    /// `gen-…` id.
    #[serde(default)]
    pub id: Option<String>,
    /// Display name of the serving provider (not in the spec, present in real traffic).
    #[serde(default)]
    pub provider: Option<String>,
    /// The model that served: may be a dated canonical slug.
    #[serde(default)]
    pub model: Option<String>,
    /// Choices (may be empty, or still present on the usage chunk). Only the first is built:
    /// Switchyard asks for one, and a chunk with a million choices must not cost a million.
    #[serde(default, deserialize_with = "first_choice")]
    pub choices: Vec<ChunkChoice>,
    /// Usage, on whichever chunk carries it.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// A top-level mid-stream error.
    #[serde(default)]
    pub error: Option<ErrorObject>,
}

/// The first element of a `choices` array (the rest are skipped without being built); `null`
/// is none.
fn first_choice<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ChunkChoice>, D::Error> {
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Vec<ChunkChoice>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of choices")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let first: Option<ChunkChoice> = seq.next_element()?;
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(first.into_iter().collect())
        }
    }
    d.deserialize_any(First)
}

/// Which model and provider answered, as the chunks report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServedBy {
    /// Generation id.
    pub id: Option<String>,
    /// Provider display name.
    pub provider: Option<String>,
    /// Served model (possibly a canonical slug).
    pub model: Option<String>,
}

/// A decoded stream event.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A keep-alive comment arrived (drives the "waiting" indicator).
    KeepAlive,
    /// The serving model/provider became known or changed.
    Served(ServedBy),
    /// Visible answer text.
    Content(String),
    /// Reasoning text.
    Reasoning(String),
    /// Usage and cost.
    Usage(Usage),
    /// A finish reason arrived.
    Finish {
        /// Normalised reason (`stop`, `length`, `tool_calls`, `content_filter`, `error`).
        reason: String,
        /// The provider's raw reason.
        native: Option<String>,
    },
    /// An error chunk arrived inside a 200 stream.
    Error(ApiError),
    /// An event that is not a valid chunk (skipped; the stream goes on).
    Malformed(String),
    /// The `[DONE]` sentinel.
    Done,
}

/// A whole answer that arrived as one JSON `chat.completion` object where a stream was asked for
/// (servers that ignore `stream: true`): the events a stream would have carried, and its finish
/// reason. `Err` says in words what arrived instead, with its first bytes shown safely.
pub fn whole_completion(
    content_type: &str,
    body: &[u8],
) -> Result<(Vec<StreamEvent>, String), String> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        provider: Option<String>,
        #[serde(default)]
        choices: Vec<Choice>,
        #[serde(default)]
        usage: Option<Usage>,
        #[serde(default)]
        error: Option<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Choice {
        #[serde(default)]
        message: Option<Msg>,
        #[serde(default)]
        finish_reason: Option<String>,
    }
    #[derive(Deserialize)]
    struct Msg {
        #[serde(default)]
        content: Option<String>,
        #[serde(default)]
        reasoning: Option<String>,
    }
    let shown = || {
        let head: String = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        crate::safe_text::neutralise(head.trim()).into_owned()
    };
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err("the server answered 200 with an empty body, not an event stream".into());
    }
    let looks_html = content_type.contains("html")
        || trimmed.starts_with(b"<!")
        || trimmed.starts_with(b"<html")
        || trimmed.starts_with(b"<HTML");
    if looks_html {
        return Err(format!(
            "the server answered 200 with an HTML page, not an event stream (is the base URL right?): {}",
            shown()
        ));
    }
    let parsed: Body = serde_json::from_slice(trimmed).map_err(|_| {
        format!(
            "the server answered 200 with {}, not an event stream: {}",
            if content_type.is_empty() {
                "something unreadable"
            } else {
                content_type
            },
            shown()
        )
    })?;
    if let Some(e) = parsed.error {
        let msg = e["message"]
            .as_str()
            .map_or_else(|| e.to_string(), str::to_string);
        return Err(format!(
            "the server answered 200 with an error: {}",
            crate::safe_text::neutralise(&msg)
        ));
    }
    let Some(choice) = parsed.choices.into_iter().next() else {
        return Err(format!(
            "the server answered 200 with JSON that holds no answer: {}",
            shown()
        ));
    };
    let mut events = Vec::new();
    events.push(StreamEvent::Served(ServedBy {
        id: parsed.id,
        provider: parsed.provider,
        model: parsed.model,
    }));
    if let Some(m) = choice.message {
        if let Some(r) = m.reasoning.filter(|r| !r.is_empty()) {
            events.push(StreamEvent::Reasoning(r));
        }
        if let Some(c) = m.content.filter(|c| !c.is_empty()) {
            events.push(StreamEvent::Content(c));
        }
    }
    if let Some(u) = parsed.usage {
        events.push(StreamEvent::Usage(u));
    }
    let reason = choice.finish_reason.unwrap_or_else(|| "stop".into());
    Ok((events, reason))
}

/// How a stream ended, judged only from what arrived.
#[derive(Debug, Clone, PartialEq)]
// One per request or turn, never in bulk: boxing the error (its JSON metadata keeps key
// order, so it is larger) would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum StreamEnd {
    /// Finish reason and `[DONE]` both arrived, without an error.
    Complete {
        /// The finish reason.
        reason: String,
    },
    /// An error chunk arrived.
    Failed(ApiError),
    /// The stream stopped early: no finish reason, or no `[DONE]`.
    Truncated(String),
}

/// Turns SSE items into [`StreamEvent`]s and tracks what a complete stream needs.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    served: ServedBy,
    finish: Option<String>,
    done: bool,
    error: Option<ApiError>,
    /// Reasoning details are accumulated here in order (sent back verbatim on the next turn).
    pub reasoning_details: Vec<Value>,
}

impl StreamDecoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE item, appending the resulting events to `out`.
    pub fn decode(&mut self, item: SseItem, out: &mut Vec<StreamEvent>) {
        match item {
            SseItem::Comment(_) => out.push(StreamEvent::KeepAlive),
            SseItem::Event(ev) => self.decode_event(ev, out),
        }
    }

    fn decode_event(&mut self, ev: SseEvent, out: &mut Vec<StreamEvent>) {
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.done = true;
            out.push(StreamEvent::Done);
            return;
        }
        if data.is_empty() {
            return;
        }
        let chunk: StreamChunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                let shown = super::error::truncate_chars(data, 80);
                out.push(StreamEvent::Malformed(format!("{e}: {shown}")));
                return;
            }
        };
        self.decode_chunk(chunk, out);
    }

    /// Decodes one parsed chunk.
    pub fn decode_chunk(&mut self, chunk: StreamChunk, out: &mut Vec<StreamEvent>) {
        let served = ServedBy {
            id: chunk.id.or_else(|| self.served.id.clone()),
            provider: chunk.provider.or_else(|| self.served.provider.clone()),
            model: chunk.model.or_else(|| self.served.model.clone()),
        };
        if served != self.served {
            self.served = served.clone();
            out.push(StreamEvent::Served(served));
        }
        let mut finish = None;
        for choice in chunk.choices {
            if let Some(delta) = choice.delta.or(choice.message) {
                if let Some(r) = delta.reasoning.filter(|r| !r.is_empty()) {
                    out.push(StreamEvent::Reasoning(r));
                }
                if let Some(details) = delta.reasoning_details {
                    self.reasoning_details.extend(details);
                }
                if let Some(c) = delta.content.filter(|c| !c.is_empty()) {
                    out.push(StreamEvent::Content(c));
                }
                if let Some(r) = delta.refusal.filter(|r| !r.is_empty()) {
                    out.push(StreamEvent::Content(r));
                }
            }
            if let Some(err) = choice.error {
                self.fail(err.into_api_error(None), out);
            }
            if let Some(reason) = choice.finish_reason {
                finish = Some((reason, choice.native_finish_reason));
            }
        }
        // Usage may ride on a chunk that still has choices: take it wherever it is.
        if let Some(u) = chunk.usage {
            out.push(StreamEvent::Usage(u));
        }
        // An error can arrive with finish_reason null; check every chunk regardless.
        if let Some(err) = chunk.error {
            self.fail(err.into_api_error(None), out);
        }
        if let Some((reason, native)) = finish {
            if reason == "error" && self.error.is_none() {
                self.fail(
                    ErrorObject::default()
                        .into_api_error(None)
                        .with_message("the provider ended the stream with finish_reason \"error\""),
                    out,
                );
            }
            self.finish = Some(reason.clone());
            out.push(StreamEvent::Finish { reason, native });
        }
    }

    fn fail(&mut self, err: ApiError, out: &mut Vec<StreamEvent>) {
        if self.error.is_none() {
            self.error = Some(err.clone());
        }
        out.push(StreamEvent::Error(err));
    }

    /// Who served, as far as the chunks said.
    pub fn served(&self) -> &ServedBy {
        &self.served
    }

    /// Judges the stream after the connection ended.
    pub fn end(&self) -> StreamEnd {
        if let Some(e) = &self.error {
            return StreamEnd::Failed(e.clone());
        }
        match (&self.finish, self.done) {
            (Some(reason), true) => StreamEnd::Complete {
                reason: reason.clone(),
            },
            (None, true) => {
                StreamEnd::Truncated("the stream sent [DONE] without a finish reason".into())
            }
            (Some(_), false) => StreamEnd::Truncated("the stream ended without [DONE]".into()),
            (None, false) => {
                StreamEnd::Truncated("the stream was cut before the answer finished".into())
            }
        }
    }
}

impl ApiError {
    /// Replaces the message (used for synthesised errors).
    pub fn with_message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_first_choice_is_built() {
        let many: String = (0..10_000)
            .map(|i| format!("{{\"index\":{i},\"delta\":{{\"content\":\"c{i}\"}}}}"))
            .collect::<Vec<_>>()
            .join(",");
        let c: StreamChunk = serde_json::from_str(&format!("{{\"choices\":[{many}]}}")).unwrap();
        assert_eq!(c.choices.len(), 1);
        let c: StreamChunk = serde_json::from_str("{\"choices\":null}").unwrap();
        assert!(c.choices.is_empty());
    }

    #[test]
    fn impossible_costs_are_unknown() {
        for bad in ["-1e308", "\"NaN\"", "1e300", "-0.5"] {
            let u: Usage =
                serde_json::from_str(&format!("{{\"completion_tokens\":3,\"cost\":{bad}}}"))
                    .unwrap();
            assert_eq!(u.cost, None, "{bad}");
            assert_eq!(u.completion_tokens, 3);
        }
        let u: Usage = serde_json::from_str("{\"cost\":\"0.00012\"}").unwrap();
        assert_eq!(u.cost, Some(0.00012));
    }

    use super::*;
    use crate::sse::SseParser;

    fn run(raw: &str) -> (Vec<StreamEvent>, StreamEnd) {
        let mut p = SseParser::new();
        let mut items = Vec::new();
        p.feed(raw.as_bytes(), &mut items);
        let mut d = StreamDecoder::new();
        let mut out = Vec::new();
        for i in items {
            d.decode(i, &mut out);
        }
        let end = d.end();
        (out, end)
    }

    fn text(events: &[StreamEvent]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Content(c) => Some(c.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn usage_on_chunk_that_still_has_choices_2025_shape() {
        let raw = concat!(
            ": OPENROUTER PROCESSING\n\n",
            r#"data: {"id":"gen-1","provider":"xAI","model":"x-ai/grok-4","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}"#,
            "\n\n",
            r#"data: {"id":"gen-1","provider":"xAI","model":"x-ai/grok-4","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop","native_finish_reason":"completed"}]}"#,
            "\n\n",
            r#"data: {"id":"gen-1","provider":"xAI","model":"x-ai/grok-4","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6,"cost":"0.0000123"}}"#,
            "\n\ndata: [DONE]\n\n"
        );
        let (ev, end) = run(raw);
        assert_eq!(ev[0], StreamEvent::KeepAlive);
        assert_eq!(text(&ev), "Hi");
        let usage = ev.iter().find_map(|e| match e {
            StreamEvent::Usage(u) => Some(u.clone()),
            _ => None,
        });
        assert_eq!(usage.unwrap().cost, Some(0.0000123));
        assert_eq!(
            end,
            StreamEnd::Complete {
                reason: "stop".into()
            }
        );
    }

    #[test]
    fn usage_on_the_finish_chunk_2026_shape() {
        let raw = concat!(
            r#"data: {"id":"gen-2","provider":"OpenAI","model":"openai/gpt-4o","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop","native_finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4,"cost":0.5}}"#,
            "\n\ndata: [DONE]\n\n"
        );
        let (ev, end) = run(raw);
        assert!(
            ev.iter()
                .any(|e| matches!(e, StreamEvent::Usage(u) if u.cost == Some(0.5)))
        );
        assert_eq!(
            end,
            StreamEnd::Complete {
                reason: "stop".into()
            }
        );
    }

    #[test]
    fn error_chunk_on_200_stream_with_null_finish_and_usage() {
        let raw = concat!(
            r#"data: {"id":"gen-3","provider":"Google","model":"google/gemini-2.5-pro","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]}"#,
            "\n\n",
            r#"data: {"id":"gen-3","error":{"code":400,"message":"Token limit reached"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":null}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}"#,
            "\n\ndata: [DONE]\n\n"
        );
        let (ev, end) = run(raw);
        assert_eq!(text(&ev), "partial");
        match end {
            StreamEnd::Failed(e) => {
                assert_eq!(e.code, Some(400));
                assert_eq!(e.message, "Token limit reached");
                assert_eq!(e.metadata, None);
            }
            other => panic!("expected failure, got {other:?}"),
        }
    }

    #[test]
    fn docs_error_shape_finish_reason_error() {
        let raw = concat!(
            r#"data: {"id":"g","choices":[{"index":0,"delta":{"content":""},"finish_reason":"error","error":{"code":502,"message":"Provider disconnected","metadata":{"error_type":"provider_unavailable"}}}]}"#,
            "\n\ndata: [DONE]\n\n"
        );
        let (_, end) = run(raw);
        assert!(
            matches!(end, StreamEnd::Failed(e) if e.error_type.as_deref() == Some("provider_unavailable"))
        );
    }

    #[test]
    fn canonical_slug_and_provider_are_reported_once() {
        let chunk = r#"{"id":"gen-4","provider":"Amazon Bedrock","model":"anthropic/claude-4.5-sonnet-20250929","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}"#;
        let raw = format!("data: {chunk}\n\ndata: {chunk}\n\n");
        let (ev, end) = run(&raw);
        let served: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Served(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(served.len(), 1);
        assert_eq!(served[0].provider.as_deref(), Some("Amazon Bedrock"));
        assert_eq!(
            served[0].model.as_deref(),
            Some("anthropic/claude-4.5-sonnet-20250929")
        );
        assert!(matches!(end, StreamEnd::Truncated(_)));
    }

    #[test]
    fn reasoning_and_reasoning_details() {
        let raw = concat!(
            r#"data: {"choices":[{"index":0,"delta":{"content":"","reasoning":"think","reasoning_details":[{"type":"reasoning.text","text":"think","format":null,"index":0}]},"finish_reason":null}]}"#,
            "\n\n"
        );
        let mut p = SseParser::new();
        let mut items = Vec::new();
        p.feed(raw.as_bytes(), &mut items);
        let mut d = StreamDecoder::new();
        let mut out = Vec::new();
        for i in items {
            d.decode(i, &mut out);
        }
        assert_eq!(out, vec![StreamEvent::Reasoning("think".into())]);
        assert_eq!(d.reasoning_details.len(), 1);
    }

    #[test]
    fn malformed_event_is_reported_and_stream_continues() {
        let raw = concat!(
            "data: {not json\n\n",
            r#"data: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#,
            "\n\ndata: [DONE]\n\n"
        );
        let (ev, end) = run(raw);
        assert!(matches!(&ev[0], StreamEvent::Malformed(m) if m.contains("{not json")));
        assert_eq!(text(&ev), "x");
        assert_eq!(
            end,
            StreamEnd::Complete {
                reason: "stop".into()
            }
        );
    }

    #[test]
    fn missing_done_or_finish_is_never_success() {
        let finish_no_done = r#"data: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}

"#;
        assert!(matches!(run(finish_no_done).1, StreamEnd::Truncated(_)));
        let done_no_finish =
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n";
        assert!(matches!(run(done_no_finish).1, StreamEnd::Truncated(_)));
        assert!(matches!(run("").1, StreamEnd::Truncated(_)));
    }
}
