//! HTTP client for `POST /chat/completions` streams and `GET /models`, over reqwest on rustls.
//!
//! One call streams one request to one endpoint: it checks the status before parsing SSE (errors
//! before the stream keep their status, body and `Retry-After`), enforces time-to-first-byte and
//! between-chunk stall timeouts, and judges the end strictly (no `[DONE]` or no finish reason is
//! never a success). Cancelling is dropping the future: that closes the connection.

use crate::sse::SseParser;
use crate::wire::catalog::{Model, ModelList};
use crate::wire::chunk::{ServedBy, StreamDecoder, StreamEnd, StreamEvent, Usage};
use crate::wire::error::{ApiError, parse_retry_after};
use crate::wire::request::ChatRequest;
use std::fmt;
use std::sync::Once;
use std::time::{Duration, Instant};

/// An API key that never prints itself: a `secrecy::SecretString` (zeroed when dropped).
#[derive(Clone)]
pub struct Secret(secrecy::SecretString);

impl Secret {
    /// Wraps a key.
    pub fn new(s: impl Into<String>) -> Self {
        Self(secrecy::SecretString::from(s.into()))
    }
    /// The key itself, for the Authorization header only.
    pub fn expose(&self) -> &str {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What kind of server an endpoint is, which decides headers and catalog shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// openrouter.ai (or anything speaking its catalog shape, like the simulated fleet).
    OpenRouter,
    /// A generic OpenAI-compatible server (Ollama, llama.cpp, vLLM, LiteLLM, …).
    OpenAi,
}

/// The body a server of `kind` receives for `req`, streamed: OpenRouter's dialect as it is,
/// or only OpenAI Chat Completions fields (asking for usage, which such servers send only on
/// request). `--print-request` shows exactly this.
pub fn wire_body(kind: ServerKind, req: &ChatRequest) -> ChatRequest {
    let mut body = match kind {
        ServerKind::OpenRouter => req.clone(),
        ServerKind::OpenAi => req.openai_dialect(),
    };
    body.stream = Some(true);
    if kind == ServerKind::OpenAi && body.stream_options.is_none() {
        body.stream_options = Some(crate::wire::request::StreamOptions {
            include_usage: Some(true),
        });
    }
    body
}

/// Where requests go.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL up to and including the API version, e.g. `https://openrouter.ai/api/v1`.
    pub base_url: String,
    /// Bearer key, if the server needs one.
    pub key: Option<Secret>,
    /// Server kind.
    pub kind: ServerKind,
}

impl Endpoint {
    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url.trim_end_matches('/'), path)
    }
}

/// Whether a stream that keeps sending bytes must still be stopped: an answer over its size
/// cap, no progress for too long after the first token, or the whole answer too slow.
fn limits(
    t: &Timeouts,
    out: &Answer,
    started: Instant,
    last_progress: Option<tokio::time::Instant>,
) -> Option<Option<ChatError>> {
    let err = if out.text.len() > t.max_answer_bytes {
        ChatError::Truncated(format!(
            "the answer passed {} MB; the stream was stopped",
            t.max_answer_bytes >> 20
        ))
    } else if last_progress.is_none() && started.elapsed() > t.thinking {
        ChatError::Timeout(format!(
            "no first token within {} (only keep-alives or empty events arrived)",
            secs(t.thinking)
        ))
    } else if last_progress.is_some_and(|p| p.elapsed() > t.no_progress) {
        ChatError::Timeout(format!(
            "no new text for {} (only keep-alives or empty events arrived)",
            secs(t.no_progress)
        ))
    } else if started.elapsed() > t.total {
        ChatError::Timeout(format!("the answer took longer than {}", secs(t.total)))
    } else {
        return None;
    };
    Some(Some(err))
}

/// Bytes without progress after which reads are paced, and the pause between them.
const FLOOD_BYTES: usize = 64 * 1024;
const FLOOD_PAUSE: Duration = Duration::from_millis(50);

/// Most bytes of a whole (non-streamed) answer read.
const WHOLE_BODY_CAP: usize = 16 * 1024 * 1024;

/// A 200 whose body is not an event stream: like a cut stream for routing (another endpoint
/// may answer), worded as what arrived.
fn not_a_stream(message: String) -> ChatError {
    ChatError::Api(ApiError {
        message,
        ..Default::default()
    })
}

/// Most bytes one batched read takes before handing them on.
const MAX_BATCH_BYTES: usize = 256 * 1024;

/// A batch at least this big reads on without pausing.
const BUSY_BATCH_BYTES: usize = 16 * 1024;

/// A body chunk that is already buffered, or `None` without waiting for the network. Between
/// polls a yield lets the connection task decode its next buffered frame (chunked or HTTP/2
/// bodies arrive as many small frames).
async fn ready_chunk(
    resp: &mut reqwest::Response,
) -> Option<reqwest::Result<Option<bytes::Bytes>>> {
    use futures_util::FutureExt;
    for _ in 0..2 {
        if let Some(r) = resp.chunk().now_or_never() {
            return Some(r);
        }
        tokio::task::yield_now().await;
    }
    None
}

/// A duration for messages: whole seconds when whole, else milliseconds.
fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// A body that failed mid-read.
fn broken(e: &reqwest::Error) -> ChatError {
    ChatError::Truncated(format!("connection broken: {}", describe_reqwest(e)))
}

/// Timeouts for one streamed request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Until response headers arrive.
    pub headers: Duration,
    /// Longest silence between two reads of the body (keep-alive comments count).
    pub stall: Duration,
    /// After the first visible token, the least time between two reads of the body, so one
    /// read takes every token that arrived meanwhile. A screen that draws ~30 times a second
    /// gains nothing from a wake-up per token; zero reads each token as it arrives.
    pub batch: Duration,
    /// Longest wait for the first visible token, counted from the request (keep-alive comments
    /// don't count). The router sets it only when another endpoint could take over.
    pub first_token: Option<Duration>,
    /// Longest time without progress — new text or reasoning — once the first token arrived;
    /// bytes that carry nothing (keep-alives, empty events) don't count as progress.
    pub no_progress: Duration,
    /// Longest wait for the first text or reasoning however alive the stream is kept: a model
    /// may think silently for minutes while OpenRouter sends keep-alive comments.
    pub thinking: Duration,
    /// Longest time one answer may take, start to finish.
    pub total: Duration,
    /// Largest single event (one `data:` line or several joined).
    pub max_event_bytes: usize,
    /// Largest answer text kept.
    pub max_answer_bytes: usize,
}

impl Timeouts {
    /// Reads batched to the workbench's stream frame rate (~30 per second).
    pub fn for_screen() -> Self {
        Self {
            batch: Duration::from_millis(33),
            ..Self::default()
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            headers: Duration::from_secs(90),
            stall: Duration::from_secs(60),
            batch: Duration::ZERO,
            first_token: None,
            no_progress: Duration::from_secs(120),
            thinking: Duration::from_secs(600),
            total: Duration::from_secs(30 * 60),
            max_event_bytes: 16 * 1024 * 1024,
            max_answer_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why a request did not complete.
#[derive(Debug, Clone, PartialEq)]
// One per request or turn, never in bulk: boxing the error (its JSON metadata keeps key
// order, so it is larger) would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ChatError {
    /// The server could not be reached.
    Connect(String),
    /// The server answered with an error status, or sent an error inside the stream.
    Api(ApiError),
    /// Nothing arrived in time.
    Timeout(String),
    /// The stream stopped early (cut, no finish reason, no `[DONE]`).
    Truncated(String),
    /// The router found no endpoint it may use (the message names the rules that excluded them).
    NoRoute(String),
}

impl fmt::Display for ChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatError::Connect(m) => write!(f, "cannot reach the server: {m}"),
            ChatError::Api(e) => {
                write!(f, "{e}")?;
                if let Some(h) = e.hint() {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
            ChatError::Timeout(m) => write!(f, "timed out: {m}"),
            ChatError::Truncated(m) => write!(f, "incomplete answer: {m}"),
            ChatError::NoRoute(m) => write!(f, "{m}"),
        }
    }
}

/// Timings of one request, measured on the client.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Request sent → first visible token.
    pub ttft: Option<Duration>,
    /// Request sent → end of stream.
    pub total: Duration,
    /// Content events received (a proxy for tokens when usage is missing).
    pub chunks: u64,
}

impl Timings {
    /// Decode speed: completion tokens over the time after the first token.
    pub fn tokens_per_sec(&self, completion_tokens: u64) -> Option<f64> {
        let ttft = self.ttft?;
        let decode = self.total.checked_sub(ttft)?.as_secs_f64();
        (decode > 0.0 && completion_tokens > 1).then(|| (completion_tokens - 1) as f64 / decode)
    }
}

/// Everything one request produced; the text survives whatever the ending.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// All visible text received.
    pub text: String,
    /// Who served, per the chunks.
    pub served: ServedBy,
    /// Usage, when sent.
    pub usage: Option<Usage>,
    /// Timings.
    pub timings: Timings,
    /// The finish reason on success, or why it failed.
    pub result: Result<String, ChatError>,
}

/// Shared HTTP client.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
}

static TLS: Once = Once::new();

impl HttpClient {
    /// Builds the client (installs the ring TLS provider once per process).
    pub fn new() -> Result<Self, String> {
        Self::with_connect_timeout(Duration::from_secs(10))
    }

    /// A client for Switchyard's own router: it has other endpoints to go to, so it gives up on
    /// an unreachable one sooner (5 s, the reference client's connect limit in ROUTING.md §10).
    pub fn for_routing() -> Result<Self, String> {
        Self::with_connect_timeout(Duration::from_secs(5))
    }

    fn with_connect_timeout(connect: Duration) -> Result<Self, String> {
        TLS.call_once(|| {
            // Err means another provider was installed first, which is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let inner = reqwest::Client::builder()
            .connect_timeout(connect)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { inner })
    }

    /// The request line and headers a chat request to `ep` carries, as `--print-request`
    /// shows them: the key masked as `Bearer ****`.
    pub fn shown_headers(ep: &Endpoint) -> Vec<String> {
        let mut out = vec![format!("POST {}", ep.url("chat/completions"))];
        if ep.key.is_some() {
            out.push("Authorization: Bearer ****".into());
        }
        if ep.kind == ServerKind::OpenRouter {
            out.push("HTTP-Referer: https://github.com/switchyard-tui/switchyard".into());
            out.push("X-OpenRouter-Title: Switchyard".into());
        }
        out.push("Content-Type: application/json".into());
        out.push("Accept: text/event-stream".into());
        out
    }

    fn request(
        &self,
        method: reqwest::Method,
        ep: &Endpoint,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let mut rb = self.inner.request(method, ep.url(path));
        if let Some(k) = &ep.key {
            rb = rb.bearer_auth(k.expose());
        }
        if ep.kind == ServerKind::OpenRouter {
            rb = rb
                .header(
                    "HTTP-Referer",
                    "https://github.com/switchyard-tui/switchyard",
                )
                .header("X-OpenRouter-Title", "Switchyard");
        }
        rb
    }

    /// Streams one chat request and returns the outcome. `on_events` gets the events decoded from
    /// each network read, adjacent text merged, so a fast stream costs one call per read rather
    /// than one per token.
    pub async fn stream_chat(
        &self,
        ep: &Endpoint,
        req: &ChatRequest,
        timeouts: Timeouts,
        mut on_events: impl FnMut(&[StreamEvent]),
    ) -> Answer {
        let started = Instant::now();
        let body = wire_body(ep.kind, req);
        let mut out = Answer {
            text: String::new(),
            served: ServedBy::default(),
            usage: None,
            timings: Timings::default(),
            result: Err(ChatError::Truncated("not started".into())),
        };
        if !body.unresolved().is_empty() {
            // An attachment not read back would go as an empty URL: nothing is sent instead.
            out.result = Err(ChatError::NoRoute(
                "an attachment's bytes were not read back from history; nothing was sent".into(),
            ));
            return out;
        }
        let bytes = match serde_json::to_vec(&body) {
            Ok(b) => b,
            Err(e) => {
                out.result = Err(ChatError::Connect(format!(
                    "cannot encode the request: {e}"
                )));
                return out;
            }
        };
        // A body carrying attachments is tens of MB: its memory goes back once it is sent.
        let large_body = bytes.len() > 8 << 20;
        let send = self
            .request(reqwest::Method::POST, ep, "chat/completions")
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream")
            .body(bytes)
            .send();
        let headers_within = timeouts
            .first_token
            .map_or(timeouts.headers, |f| f.min(timeouts.headers));
        let mut resp = match tokio::time::timeout(headers_within, send).await {
            Err(_) => {
                out.result = Err(ChatError::Timeout(format!(
                    "no response within {}",
                    secs(headers_within)
                )));
                out.timings.total = started.elapsed();
                return out;
            }
            Ok(Err(e)) => {
                out.result = Err(ChatError::Connect(describe_reqwest(&e)));
                out.timings.total = started.elapsed();
                return out;
            }
            Ok(Ok(r)) => r,
        };
        if large_body {
            crate::attach::load::trim_heap();
        }
        let status = resp.status();
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = read_capped(&mut resp, 64 * 1024, timeouts.stall).await;
            let mut err = ApiError::from_body(status.as_u16(), &body, retry_after);
            // OpenRouter's "No endpoints found …" 404 is a routing answer, not a wrong URL.
            if status.as_u16() == 404 && !err.message.starts_with("No endpoints found") {
                // Wrong path or unknown model: show the URL so the user can tell which.
                err.message = format!(
                    "{} (POST {}: the model is unknown there, or the base URL's path is wrong; OpenAI-compatible servers usually live at …/v1)",
                    err.message,
                    ep.url("chat/completions")
                );
            }
            out.result = Err(ChatError::Api(err));
            out.timings.total = started.elapsed();
            return out;
        }
        // A server that ignores `stream: true` answers one JSON object; an HTML page means the
        // URL is wrong. Both are read whole (capped) and said for what they are.
        let ctype = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !ctype.contains("event-stream") && (ctype.contains("json") || ctype.contains("html")) {
            let body = read_capped(&mut resp, WHOLE_BODY_CAP, timeouts.stall).await;
            out.timings.total = started.elapsed();
            match crate::wire::chunk::whole_completion(&ctype, &body) {
                Ok((events, reason)) => {
                    for ev in &events {
                        match ev {
                            StreamEvent::Content(c) => {
                                out.timings.ttft = Some(out.timings.total);
                                out.timings.chunks += 1;
                                out.text.push_str(c);
                            }
                            StreamEvent::Usage(u) => out.usage = Some(u.clone()),
                            StreamEvent::Served(s) => out.served = s.clone(),
                            _ => {}
                        }
                    }
                    on_events(&events);
                    out.result = Ok(reason);
                }
                Err(m) => out.result = Err(not_a_stream(m)),
            }
            return out;
        }
        let mut parser = SseParser::new();
        let mut decoder = StreamDecoder::new();
        // The first bytes of the body, and whether any SSE line arrived, to tell a broken
        // stream from a body that never was one.
        let mut first_bytes: Vec<u8> = Vec::new();
        let mut saw_sse = false;
        // When the model last produced text or reasoning (keep-alives are not progress).
        let mut last_progress: Option<tokio::time::Instant> = None;
        // Bytes read since then: past a little, a flood of nothing is read at a walking pace.
        let mut idle_bytes = 0usize;
        let mut items = Vec::new();
        let mut events = Vec::new();
        let mut next_read: Option<tokio::time::Instant> = None;
        // Whether the model has produced anything (answer or reasoning text, a finish, usage):
        // the first-token limit is about a silent route, not a model that is thinking.
        let mut progressed = false;
        let cut = loop {
            if let Some(at) = next_read.take() {
                // Unread bytes wait in the socket; the reads below take them all at once.
                tokio::time::sleep_until(at).await;
            }
            let batching = out.timings.ttft.is_some() && !timeouts.batch.is_zero();
            // Some(None): the body ended; Some(Some(e)): it broke.
            let mut stop: Option<Option<ChatError>> = None;
            let mut taken = 0;
            // Before the first token, the first-token limit may come sooner than a stall.
            let first_token_left = match (progressed, timeouts.first_token) {
                (false, Some(limit)) => Some(limit.saturating_sub(started.elapsed())),
                _ => None,
            };
            let wait = first_token_left.map_or(timeouts.stall, |l| l.min(timeouts.stall));
            match tokio::time::timeout(wait, resp.chunk()).await {
                Err(_) => {
                    let msg = match (first_token_left, timeouts.first_token) {
                        (Some(l), Some(limit)) if l <= timeouts.stall => {
                            format!("no first token within {}", secs(limit))
                        }
                        _ => format!("the stream stalled for {}", secs(timeouts.stall)),
                    };
                    stop = Some(Some(ChatError::Timeout(msg)));
                }
                Ok(Err(e)) => stop = Some(Some(broken(&e))),
                Ok(Ok(None)) => stop = Some(None),
                Ok(Ok(Some(chunk))) => {
                    if first_bytes.len() < 256 {
                        let n = (256 - first_bytes.len()).min(chunk.len());
                        first_bytes.extend_from_slice(&chunk[..n]);
                    }
                    parser.feed(&chunk, &mut items);
                    taken = chunk.len();
                    // Whatever else is already buffered joins this batch (bounded, so a
                    // full-speed stream still reaches the screen in pieces).
                    while batching && taken < MAX_BATCH_BYTES {
                        match ready_chunk(&mut resp).await {
                            None => break,
                            Some(Ok(Some(c))) => {
                                taken += c.len();
                                parser.feed(&c, &mut items);
                            }
                            Some(Ok(None)) => {
                                stop = Some(None);
                                break;
                            }
                            Some(Err(e)) => {
                                stop = Some(Some(broken(&e)));
                                break;
                            }
                        }
                    }
                }
            }
            saw_sse |= !items.is_empty();
            if stop.is_none() && parser.pending_event_bytes() > timeouts.max_event_bytes {
                // A `data:` line that never ends must not grow until the process aborts.
                stop = Some(Some(ChatError::Truncated(format!(
                    "one event passed {} MB; the stream was stopped",
                    timeouts.max_event_bytes >> 20
                ))));
            }
            for item in items.drain(..) {
                decoder.decode(item, &mut events);
            }
            progressed |= events.iter().any(|e| {
                !matches!(
                    e,
                    StreamEvent::KeepAlive
                        | StreamEvent::Served(_)
                        | StreamEvent::Malformed(_)
                        | StreamEvent::Done
                )
            });
            for ev in &events {
                match ev {
                    StreamEvent::Content(c) => {
                        if out.timings.ttft.is_none() {
                            out.timings.ttft = Some(started.elapsed());
                        }
                        out.timings.chunks += 1;
                        out.text.push_str(c);
                    }
                    StreamEvent::Usage(u) => out.usage = Some(u.clone()),
                    _ => {}
                }
            }
            if events
                .iter()
                .any(|e| matches!(e, StreamEvent::Content(_) | StreamEvent::Reasoning(_)))
            {
                last_progress = Some(tokio::time::Instant::now());
                idle_bytes = 0;
            } else {
                idle_bytes += taken;
            }
            merge_adjacent_text(&mut events);
            if !events.is_empty() {
                on_events(&events);
            }
            events.clear();
            if stop.is_none() {
                stop = limits(&timeouts, &out, started, last_progress);
            }
            if let Some(stop) = stop {
                break stop;
            }
            // A batch this big means the stream outruns the screen: pausing would only fill the
            // socket and the read buffers, so read straight on.
            if out.timings.ttft.is_some() && !timeouts.batch.is_zero() && taken < BUSY_BATCH_BYTES {
                next_read = Some(tokio::time::Instant::now() + timeouts.batch);
            }
            // Keep-alives arrive every few seconds; 64 KB of nothing is a flood, and the limits
            // above end it: until then, read it at 20 reads a second rather than with a core.
            // Not while one large event is arriving (an image, a long tool call): it is read
            // at full speed up to its cap.
            if idle_bytes > FLOOD_BYTES && parser.pending_event_bytes() < FLOOD_BYTES {
                next_read = Some(tokio::time::Instant::now() + FLOOD_PAUSE);
            }
        };
        out.timings.total = started.elapsed();
        out.served = decoder.served().clone();
        out.result = match (decoder.end(), cut) {
            (StreamEnd::Failed(e), _) => Err(ChatError::Api(e)),
            (_, Some(err)) => Err(err),
            (StreamEnd::Complete { reason }, None) => Ok(reason),
            // Nothing that looks like an event stream arrived at all: say what did.
            (StreamEnd::Truncated(_), None) if !saw_sse && first_bytes.is_empty() => {
                Err(not_a_stream(
                    "the server answered 200 with an empty body, not an event stream".into(),
                ))
            }
            (StreamEnd::Truncated(_), None) if !saw_sse => Err(not_a_stream(
                match crate::wire::chunk::whole_completion(&ctype, &first_bytes) {
                    Err(m) => m,
                    Ok(_) => {
                        "the server answered 200 with a whole JSON answer too large to read".into()
                    }
                },
            )),
            (StreamEnd::Truncated(m), None) => Err(ChatError::Truncated(m)),
        };
        out
    }

    /// Lists the models of a source (OpenRouter shape, or an OpenAI-style list).
    pub async fn list_models(&self, ep: &Endpoint) -> Result<Vec<Model>, ChatError> {
        // `ModelList` needs only `id` per entry, so it also reads OpenAI-style lists.
        self.get_json::<ModelList>(ep, "models", "the model list")
            .await
            .map(|l| l.data)
    }

    /// The key's limit, usage and tier (OpenRouter's `GET /key`).
    pub async fn key_info(
        &self,
        ep: &Endpoint,
    ) -> Result<crate::wire::account::KeyInfo, ChatError> {
        self.get_json::<crate::wire::account::KeyResponse>(ep, "key", "the key's details")
            .await
            .map(|r| r.data)
    }

    /// What one answer cost, as the gateway recorded it (OpenRouter's `GET /generation?id=`).
    pub async fn generation(
        &self,
        ep: &Endpoint,
        id: &str,
    ) -> Result<crate::wire::account::Generation, ChatError> {
        let path = format!("generation?id={}", percent_encode(id));
        self.get_json::<crate::wire::account::GenerationResponse>(ep, &path, "the generation")
            .await
            .map(|r| r.data)
    }

    /// The providers serving `model` (OpenRouter's `GET /models/{id}/endpoints`).
    pub async fn list_endpoints(
        &self,
        ep: &Endpoint,
        model: &str,
    ) -> Result<crate::wire::catalog::ModelEndpoints, ChatError> {
        let path = format!("models/{model}/endpoints");
        self.get_json::<crate::wire::catalog::EndpointsResponse>(ep, &path, "the endpoint list")
            .await
            .map(|r| r.data)
    }

    /// GETs any URL's body (an attachment by URL): at most `cap` bytes and `limit` in all; the
    /// `Content-Type` comes back beside it.
    pub async fn get_bytes(
        &self,
        url: &str,
        cap: usize,
        limit: Duration,
    ) -> Result<(Option<String>, Vec<u8>), String> {
        let fetch = async {
            let mut resp = self
                .inner
                .get(url)
                .send()
                .await
                .map_err(|e| describe_reqwest(&e))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(format!("the server answered {status}"));
            }
            if resp.content_length().is_some_and(|n| n > cap as u64) {
                return Err(format!(
                    "it is {} bytes; at most {cap} are read",
                    resp.content_length().unwrap_or(0)
                ));
            }
            let ctype = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let mut body = Vec::new();
            while let Some(c) = resp.chunk().await.map_err(|e| describe_reqwest(&e))? {
                if body.len() + c.len() > cap {
                    return Err(format!("it is over {cap} bytes"));
                }
                body.extend_from_slice(&c);
            }
            Ok((ctype, body))
        };
        tokio::time::timeout(limit, fetch)
            .await
            .map_err(|_| format!("it did not arrive within {} s", limit.as_secs()))?
    }

    /// GETs `path` and decodes the JSON body; `what` names it in errors.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        ep: &Endpoint,
        path: &str,
        what: &str,
    ) -> Result<T, ChatError> {
        let fut = self.request(reqwest::Method::GET, ep, path).send();
        let mut resp = tokio::time::timeout(Duration::from_secs(30), fut)
            .await
            .map_err(|_| ChatError::Timeout(format!("{what} did not arrive within 30s")))?
            .map_err(|e| ChatError::Connect(describe_reqwest(&e)))?;
        let status = resp.status();
        let body = read_capped(&mut resp, 32 * 1024 * 1024, Duration::from_secs(30)).await;
        if !status.is_success() {
            return Err(ChatError::Api(ApiError::from_body(
                status.as_u16(),
                &body,
                None,
            )));
        }
        serde_json::from_slice::<T>(&body).map_err(|e| {
            ChatError::Api(ApiError {
                message: format!("{what} is not valid JSON: {e}"),
                ..Default::default()
            })
        })
    }
}

/// `s` safe inside a URL's query: every byte but letters, digits and `-_.~` as `%XX`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Merges runs of `Content` events into one, in place.
fn merge_adjacent_text(events: &mut Vec<StreamEvent>) {
    let mut out: Vec<StreamEvent> = Vec::with_capacity(events.len());
    for ev in events.drain(..) {
        match (out.last_mut(), ev) {
            (Some(StreamEvent::Content(prev)), StreamEvent::Content(next)) => prev.push_str(&next),
            (_, ev) => out.push(ev),
        }
    }
    *events = out;
}

async fn read_capped(resp: &mut reqwest::Response, cap: usize, stall: Duration) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < cap {
        match tokio::time::timeout(stall, resp.chunk()).await {
            Ok(Ok(Some(c))) => body.extend_from_slice(&c),
            _ => break,
        }
    }
    body.truncate(cap);
    body
}

/// A one-line description of a transport error, with its root cause.
fn describe_reqwest(e: &reqwest::Error) -> String {
    use std::error::Error;
    // The everyday case in words, not an error chain: the server is not running.
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            let at = e.url().map_or_else(
                || "the server's address".to_string(),
                |u| {
                    format!(
                        "{}:{}",
                        u.host_str().unwrap_or("?"),
                        u.port_or_known_default().unwrap_or(0)
                    )
                },
            );
            return format!("nothing is listening on {at} (connection refused)");
        }
        cause = c.source();
    }
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_msg = s.to_string();
        if !msg.contains(&s_msg) {
            msg.push_str(": ");
            msg.push_str(&s_msg);
        }
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_text_is_merged_and_order_kept() {
        let mut v = vec![
            StreamEvent::KeepAlive,
            StreamEvent::Content("a".into()),
            StreamEvent::Content("b".into()),
            StreamEvent::Done,
            StreamEvent::Content("c".into()),
        ];
        merge_adjacent_text(&mut v);
        assert_eq!(
            v,
            vec![
                StreamEvent::KeepAlive,
                StreamEvent::Content("ab".into()),
                StreamEvent::Done,
                StreamEvent::Content("c".into()),
            ]
        );
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("sk-or-v1-abcdef");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let ep = Endpoint {
            base_url: "http://x".into(),
            key: Some(s),
            kind: ServerKind::OpenAi,
        };
        assert!(!format!("{ep:?}").contains("abcdef"));
    }

    #[test]
    fn tokens_per_sec_uses_decode_time_only() {
        let t = Timings {
            ttft: Some(Duration::from_secs(1)),
            total: Duration::from_secs(3),
            chunks: 0,
        };
        assert_eq!(t.tokens_per_sec(101), Some(50.0));
        assert_eq!(t.tokens_per_sec(1), None);
        assert_eq!(Timings::default().tokens_per_sec(10), None);
    }
}
