//! The server: accept loop, routes, the aggregator's failover, and paced SSE streaming.

use super::catalog;
use super::http::{self, ReadError, Request, Response};
use super::request::{ChatParams, Failure, parse_chat};
use super::rng::{SplitMix64, mix};
use super::route::{self, Candidate};
use super::spec::{Endpoint, FleetSpec, Jitter, Provider};
use super::text;
use serde::Serialize;
use serde_json::{Value, json};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Longest single simulated pause; keeps absurd specs (huge ttft × scale) from hanging forever.
const MAX_PAUSE: Duration = Duration::from_secs(600);
/// Keep-alive comment interval while waiting for the first token, in unscaled milliseconds.
const KEEPALIVE_MS: f64 = 300.0;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) spec: FleetSpec,
    /// Counts requests so each draws a fresh, still reproducible, random stream.
    requests: AtomicU64,
    /// Open connections, observable by tests to prove streams stop when clients leave.
    pub(crate) active: watch::Sender<usize>,
}

impl Shared {
    pub(crate) fn new(spec: FleetSpec) -> Self {
        Self {
            spec,
            requests: AtomicU64::new(0),
            active: watch::Sender::new(0),
        }
    }

    fn request_rng(&self) -> SplitMix64 {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        SplitMix64::new(mix(&[self.spec.seed, n, 0x7131_u64]))
    }

    /// `ms` simulated milliseconds as real time, scaled and capped.
    fn scaled(&self, ms: f64) -> Duration {
        let secs = ms * self.spec.time_scale / 1000.0;
        if secs.is_finite() && secs > 0.0 {
            Duration::try_from_secs_f64(secs)
                .unwrap_or(MAX_PAUSE)
                .min(MAX_PAUSE)
        } else {
            Duration::ZERO
        }
    }

    /// Sleeps `ms` simulated milliseconds, scaled; no await point at all when the scale is 0.
    async fn pause(&self, ms: f64) {
        let d = self.scaled(ms);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }
}

/// Decrements the open-connection count however the connection task ends (even if aborted).
struct ActiveGuard(Arc<Shared>);

impl ActiveGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.active.send_modify(|n| *n += 1);
        Self(shared)
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Accepts connections until the task is aborted; aborting drops the `JoinSet`, which aborts
/// every connection task, so nothing outlives the fleet.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(connection(shared.clone(), stream));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            // Reap finished connections so the set does not grow without bound.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn connection(shared: Arc<Shared>, mut stream: TcpStream) {
    let _guard = ActiveGuard::new(shared.clone());
    match http::read_request(&mut stream).await {
        Ok(req) => {
            // A write error means the client left; there is nobody to tell.
            let _ = dispatch(&shared, &req, &mut stream).await;
        }
        Err(ReadError::Gone) => return,
        Err(ReadError::Reject(status, message)) => {
            let _ = stream
                .write_all(&Failure::new(status, message).response().to_bytes())
                .await;
        }
    }
    http::linger_close(&mut stream).await;
}

async fn send(stream: &mut TcpStream, r: Response) -> io::Result<()> {
    stream.write_all(&r.to_bytes()).await
}

/// The wire dialect of a completion route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// The aggregator at `/api/v1`: `provider` field, keep-alive comments, usage with cost.
    OpenRouter,
    /// A provider's own `/p/{slug}/v1`: plain OpenAI chunks, usage only on request.
    OpenAi,
}

async fn dispatch(shared: &Shared, req: &Request, stream: &mut TcpStream) -> io::Result<()> {
    let spec = &shared.spec;
    let path = req.path.trim_end_matches('/');
    let method = req.method.as_str();
    let not_allowed = |allowed: &str| {
        Failure::new(
            405,
            format!("method {method} is not allowed on {path}; use {allowed}"),
        )
        .response()
        .with_header("Allow", allowed)
    };
    let auth_failure = check_auth(spec, req);

    if let Some(rest) = path.strip_prefix("/api/v1") {
        if let Some(f) = auth_failure {
            return send(stream, f.response()).await;
        }
        if rest == "/models" {
            return match method {
                "GET" => send(stream, Response::json(200, &catalog::models(spec))).await,
                _ => send(stream, not_allowed("GET")).await,
            };
        }
        if let Some(id) = rest
            .strip_prefix("/models/")
            .and_then(|r| r.strip_suffix("/endpoints"))
        {
            if method != "GET" {
                return send(stream, not_allowed("GET")).await;
            }
            return match catalog::endpoints(spec, id) {
                Some(v) => send(stream, Response::json(200, &v)).await,
                None => {
                    send(
                        stream,
                        Failure::new(404, format!("No model found with id `{id}`")).response(),
                    )
                    .await
                }
            };
        }
        if rest == "/chat/completions" {
            if method != "POST" {
                return send(stream, not_allowed("POST")).await;
            }
            return completions(shared, req, stream, None).await;
        }
    } else if let Some(rest) = path.strip_prefix("/p/") {
        let (slug, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(provider) = spec.provider(slug) else {
            return send(
                stream,
                Failure::new(404, format!("no provider with slug `{slug}` in this fleet"))
                    .openai_response(),
            )
            .await;
        };
        if let Some(f) = auth_failure {
            return send(stream, f.openai_response()).await;
        }
        match tail {
            "v1/models" if method == "GET" => {
                return send(
                    stream,
                    Response::json(200, &catalog::provider_models(spec, provider)),
                )
                .await;
            }
            "v1/models" => return send(stream, not_allowed("GET")).await,
            "v1/chat/completions" if method == "POST" => {
                return completions(shared, req, stream, Some(provider)).await;
            }
            "v1/chat/completions" => return send(stream, not_allowed("POST")).await,
            _ => {}
        }
    }
    send(
        stream,
        Failure::new(404, format!("Not found: {method} {}", req.path)).response(),
    )
    .await
}

fn check_auth(spec: &FleetSpec, req: &Request) -> Option<Failure> {
    let key = spec.api_key.as_deref()?;
    match req.header("authorization") {
        None => Some(Failure::new(401, "No auth credentials found")),
        Some(h) => {
            let given = h
                .strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
                .map(str::trim);
            (given != Some(key)).then(|| Failure::new(401, "Invalid API key: the Authorization header must be `Bearer <the fleet's api_key>`"))
        }
    }
}

/// `POST …/chat/completions`: the aggregator when `direct` is `None`, else one provider's API.
async fn completions(
    shared: &Shared,
    req: &Request,
    stream: &mut TcpStream,
    direct: Option<&Provider>,
) -> io::Result<()> {
    let style = if direct.is_some() {
        Style::OpenAi
    } else {
        Style::OpenRouter
    };
    let reply = |f: Failure| match style {
        Style::OpenRouter => f.response(),
        Style::OpenAi => f.openai_response(),
    };
    let params = match parse_chat(&req.body) {
        Ok(p) => p,
        Err(f) => return send(stream, reply(f)).await,
    };
    let candidates = match direct {
        None => route::plan(&shared.spec, &params),
        Some(p) => direct_candidate(p, &params),
    };
    let candidates = match candidates {
        Ok(c) => c,
        Err(f) => return send(stream, reply(f)).await,
    };
    let mut rng = shared.request_rng();
    let mut last = None;
    for c in candidates {
        match upstream_failure(&mut rng, c, style) {
            Some(f) => {
                // A failed attempt still costs the router some time before it moves on.
                shared
                    .pause(sample(&mut rng, c.endpoint.ttft_ms) * 0.3)
                    .await;
                last = Some(f);
            }
            None => {
                let g = Generation::new(shared, &params, c, style, &mut rng);
                return if params.stream {
                    g.stream(shared, stream).await
                } else {
                    g.respond(shared, stream).await
                };
            }
        }
    }
    let f = last.unwrap_or_else(|| Failure::new(503, "No provider could serve the request"));
    send(stream, reply(f)).await
}

fn direct_candidate<'a>(
    p: &'a Provider,
    params: &ChatParams,
) -> Result<Vec<Candidate<'a>>, Failure> {
    let Some(e) = p
        .models
        .iter()
        .find(|e| e.id == params.model || e.canonical_slug.as_deref() == Some(&params.model))
    else {
        return Err(Failure::new(
            404,
            format!(
                "The model `{}` does not exist or is not served by {}",
                params.model, p.name
            ),
        ));
    };
    if params.prompt_tokens > e.context_length {
        return Err(Failure::bad_request(format!(
            "This model's maximum context length is {} tokens. However, your messages resulted in {} tokens.",
            e.context_length, params.prompt_tokens
        )));
    }
    Ok(vec![Candidate {
        provider: p,
        endpoint: e,
    }])
}

/// Rolls the endpoint's simulated 429 / 5xx before the first byte.
fn upstream_failure(rng: &mut SplitMix64, c: Candidate<'_>, style: Style) -> Option<Failure> {
    let (p, e) = (c.provider, c.endpoint);
    // Draw both every time so one rate does not shift the other's random stream.
    let (r429, r5xx, which) = (rng.next_f64(), rng.next_f64(), rng.next_f64());
    let (status, raw, retry_after) = if r429 < e.rate_limit_rate {
        let raw = format!(
            "{} is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits.",
            e.id
        );
        (429, raw, Some(e.retry_after_secs))
    } else if r5xx < e.error_rate {
        if which < 0.5 {
            (502, "upstream connect error or disconnect/reset before headers. reset reason: connection termination".to_string(), None)
        } else {
            (
                503,
                "The model is overloaded. Please try again later.".to_string(),
                None,
            )
        }
    } else {
        return None;
    };
    let f = match style {
        Style::OpenRouter => Failure::new(status, "Provider returned error")
            .with_metadata(json!({ "provider_name": p.name, "raw": raw })),
        Style::OpenAi => Failure::new(status, raw),
    };
    Some(Failure { retry_after, ..f })
}

/// `mean ± jitter`, never negative.
fn sample(rng: &mut SplitMix64, j: Jitter) -> f64 {
    (j.mean + j.jitter * rng.signed_unit()).max(0.0)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn random_id(rng: &mut SplitMix64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| *rng.pick(ALPHABET) as char).collect()
}

/// One successful completion, fully decided before the first byte is written.
struct Generation<'a> {
    style: Style,
    id: String,
    created: u64,
    provider: &'a Provider,
    endpoint: &'a Endpoint,
    /// What the `model` field reports.
    model_label: String,
    tokens: Vec<String>,
    finish_reason: &'static str,
    prompt_tokens: u64,
    include_usage: bool,
    ttft_ms: f64,
    gaps_ms: Vec<f64>,
}

impl<'a> Generation<'a> {
    fn new(
        shared: &Shared,
        params: &ChatParams,
        c: Candidate<'a>,
        style: Style,
        rng: &mut SplitMix64,
    ) -> Self {
        let e = c.endpoint;
        let answer = text::answer_at_least(
            shared.spec.seed,
            &e.id,
            &params.last_user,
            e.answer_tokens.unwrap_or(0),
        );
        let all: Vec<&str> = text::tokenize(&answer);
        let cap = params
            .max_tokens
            .unwrap_or(u64::MAX)
            .min(e.max_completion_tokens);
        let n = all.len().min(usize::try_from(cap).unwrap_or(usize::MAX));
        let finish_reason = if n < all.len() { "length" } else { "stop" };
        let ttft_ms = sample(rng, e.ttft_ms);
        let tps = sample(rng, e.tokens_per_sec).max(0.1);
        let gaps_ms = (0..n)
            .map(|_| (1000.0 / tps) * (1.0 + 0.3 * rng.signed_unit()))
            .collect();
        let (id, model_label) = match style {
            // Real traffic reports the dated canonical slug when the model has one.
            Style::OpenRouter => (
                format!("gen-{}-{}", unix_now(), random_id(rng, 20)),
                e.canonical_slug.clone().unwrap_or_else(|| e.id.clone()),
            ),
            Style::OpenAi => (format!("chatcmpl-{}", random_id(rng, 24)), e.id.clone()),
        };
        Self {
            style,
            id,
            created: unix_now(),
            provider: c.provider,
            endpoint: e,
            model_label,
            tokens: all[..n].iter().map(|s| s.to_string()).collect(),
            finish_reason,
            prompt_tokens: params.prompt_tokens,
            include_usage: params.include_usage,
            ttft_ms,
            gaps_ms,
        }
    }

    fn usage(&self) -> UsageOut {
        let completion = self.tokens.len() as u64;
        let openrouter = self.style == Style::OpenRouter;
        let cost = self.prompt_tokens as f64 * self.endpoint.prompt_price / 1e6
            + completion as f64 * self.endpoint.completion_price / 1e6;
        UsageOut {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: completion,
            total_tokens: self.prompt_tokens + completion,
            cost: openrouter.then_some(cost),
            is_byok: openrouter.then_some(false),
            prompt_tokens_details: openrouter.then(|| json!({ "cached_tokens": 0 })),
            completion_tokens_details: openrouter.then(|| json!({ "reasoning_tokens": 0 })),
        }
    }

    /// The common envelope of every chunk and of the full response, in real traffic's key order.
    fn envelope<'s>(&'s self, object: &'static str, choices: Vec<ChoiceOut<'s>>) -> ChunkOut<'s> {
        ChunkOut {
            id: &self.id,
            provider: (self.style == Style::OpenRouter).then_some(self.provider.name.as_str()),
            model: &self.model_label,
            object,
            created: self.created,
            choices,
            usage: None,
        }
    }

    fn choice<'s>(&self, delta: DeltaOut<'s>, finish: Option<&'static str>) -> ChoiceOut<'s> {
        ChoiceOut {
            index: 0,
            delta: Some(delta),
            message: None,
            finish_reason: finish,
            // OpenRouter always sends the key (null until the end); OpenAI never does.
            native_finish_reason: (self.style == Style::OpenRouter).then_some(finish),
            logprobs: (),
        }
    }

    fn token_chunk(&self, i: usize) -> String {
        // Real OpenRouter chunks repeat the role on every delta; OpenAI sends it once.
        let role = (self.style == Style::OpenRouter || i == 0).then_some("assistant");
        let delta = DeltaOut {
            role,
            content: Some(&self.tokens[i]),
        };
        to_json(&self.envelope(CHUNK, vec![self.choice(delta, None)]))
    }

    /// Final chunk(s): OpenRouter puts usage on the finishing chunk (2026 traffic); OpenAI sends
    /// a separate `choices: []` usage chunk, and only when `stream_options.include_usage` is set.
    fn final_chunks(&self) -> Vec<String> {
        let finish = Some(self.finish_reason);
        match self.style {
            Style::OpenRouter => {
                let delta = DeltaOut {
                    role: Some("assistant"),
                    content: Some(""),
                };
                let mut last = self.envelope(CHUNK, vec![self.choice(delta, finish)]);
                last.usage = Some(self.usage());
                vec![to_json(&last)]
            }
            Style::OpenAi => {
                let delta = DeltaOut {
                    role: None,
                    content: None,
                };
                let mut out = vec![to_json(
                    &self.envelope(CHUNK, vec![self.choice(delta, finish)]),
                )];
                if self.include_usage {
                    let mut u = self.envelope(CHUNK, vec![]);
                    u.usage = Some(self.usage());
                    out.push(to_json(&u));
                }
                out
            }
        }
    }

    /// Non-streaming: wait as long as the stream would have taken, then send one JSON body.
    async fn respond(&self, shared: &Shared, stream: &mut TcpStream) -> io::Result<()> {
        shared
            .pause(self.ttft_ms + self.gaps_ms.iter().sum::<f64>())
            .await;
        let content = self.tokens.concat();
        let mut message = json!({ "role": "assistant", "content": content, "refusal": null });
        if self.style == Style::OpenRouter {
            message["reasoning"] = Value::Null;
        }
        let choice = ChoiceOut {
            index: 0,
            delta: None,
            message: Some(message),
            finish_reason: Some(self.finish_reason),
            native_finish_reason: (self.style == Style::OpenRouter)
                .then_some(Some(self.finish_reason)),
            logprobs: (),
        };
        let mut v = self.envelope("chat.completion", vec![choice]);
        v.usage = Some(self.usage());
        let mut r = Response {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: to_json(&v).into_bytes(),
        };
        if self.style == Style::OpenRouter {
            r = r.with_header("X-Generation-Id", self.id.clone());
        }
        send(stream, r).await
    }

    /// Streaming: head, keep-alives until the first token, paced token chunks, final chunk, `[DONE]`.
    async fn stream(&self, shared: &Shared, stream: &mut TcpStream) -> io::Result<()> {
        let mut sink = SseSink { stream };
        let extra = match self.style {
            Style::OpenRouter => vec![("X-Generation-Id", self.id.clone())],
            Style::OpenAi => vec![],
        };
        sink.emit(Wire::Head(http::sse_head(&extra))).await?;
        if self.style == Style::OpenRouter {
            // At least one keep-alive, then one per interval until the first token is due.
            sink.emit(Wire::Comment("OPENROUTER PROCESSING")).await?;
            let mut waited = 0.0;
            // At time scale 0 the wait is instant, so one keep-alive is all a client would see.
            while shared.spec.time_scale > 0.0 && self.ttft_ms - waited > KEEPALIVE_MS {
                shared.pause(KEEPALIVE_MS).await;
                waited += KEEPALIVE_MS;
                sink.emit(Wire::Comment("OPENROUTER PROCESSING")).await?;
            }
            shared.pause(self.ttft_ms - waited).await;
        } else {
            shared.pause(self.ttft_ms).await;
        }
        // Tokens follow an absolute schedule, so timer granularity never slows the stream below
        // its configured speed: a late token is sent at once and the next one catches up.
        let mut due = tokio::time::Instant::now();
        for i in 0..self.tokens.len() {
            if i > 0 {
                due += shared.scaled(self.gaps_ms[i]);
                if due > tokio::time::Instant::now() {
                    tokio::time::sleep_until(due).await;
                }
            }
            sink.emit(Wire::Data(self.token_chunk(i))).await?;
        }
        for c in self.final_chunks() {
            sink.emit(Wire::Data(c)).await?;
        }
        sink.emit(Wire::Done).await
    }
}

const CHUNK: &str = "chat.completion.chunk";

/// Serialises a response object; these types cannot fail to serialise, but never panic anyway.
fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| {
        json!({ "error": { "code": 500, "message": e.to_string() } }).to_string()
    })
}

/// A chunk or a full completion, with fields in the order real traffic shows them.
#[derive(Serialize)]
struct ChunkOut<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    model: &'a str,
    object: &'static str,
    created: u64,
    choices: Vec<ChoiceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageOut>,
}

#[derive(Serialize)]
struct ChoiceOut<'a> {
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<DeltaOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Value>,
    finish_reason: Option<&'static str>,
    /// `Some(None)` serialises as `null`; `None` leaves the key out.
    #[serde(skip_serializing_if = "Option::is_none")]
    native_finish_reason: Option<Option<&'static str>>,
    /// Always `null`.
    logprobs: (),
}

#[derive(Serialize)]
struct DeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
}

#[derive(Serialize)]
struct UsageOut {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_byok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens_details: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens_details: Option<Value>,
}

/// One unit written to an SSE response.
enum Wire {
    /// Status line and headers.
    Head(Vec<u8>),
    /// A `: comment` keep-alive line.
    Comment(&'static str),
    /// A `data: {json}` event (already serialised).
    Data(String),
    /// The `data: [DONE]` sentinel.
    Done,
}

/// Everything a stream writes passes through `emit`, one wire unit at a time. This is the seam
/// for per-endpoint faults (reset before headers, cut after N tokens, malformed event, missing
/// `[DONE]`): a fault hook inspects each unit and may drop, corrupt or cut here.
struct SseSink<'s> {
    stream: &'s mut TcpStream,
}

impl SseSink<'_> {
    async fn emit(&mut self, unit: Wire) -> io::Result<()> {
        let bytes = match unit {
            Wire::Head(h) => h,
            Wire::Comment(c) => format!(": {c}\n\n").into_bytes(),
            Wire::Data(v) => format!("data: {v}\n\n").into_bytes(),
            Wire::Done => b"data: [DONE]\n\n".to_vec(),
        };
        // A failed write means the client disconnected: the error ends generation.
        self.stream.write_all(&bytes).await
    }
}
