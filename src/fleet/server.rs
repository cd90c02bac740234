//! The server: accept loop, routes, the aggregator's failover, and paced SSE streaming.

use super::catalog;
use super::fault::{Before, During, Effects, Fault, FaultSpec};
use super::http::{self, ReadError, Request, Response};
use super::request::{ChatParams, Failure, Format, parse_chat};
use super::rng::{self, SplitMix64, mix};
use super::route::{self, Candidate};
use super::spec::{Endpoint, FleetError, FleetSpec, Jitter, Provider};
use super::{structured, text};
use serde::Serialize;
use serde_json::{Value, json};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Longest single simulated pause; keeps absurd specs (huge ttft × scale) from hanging forever.
const MAX_PAUSE: Duration = Duration::from_secs(600);
/// Keep-alive comment interval while waiting for the first token, in unscaled milliseconds.
const KEEPALIVE_MS: f64 = 300.0;
/// How long the aggregator waits on a hung upstream before failing over, in unscaled milliseconds.
const UPSTREAM_TIMEOUT_MS: f64 = 30_000.0;

/// A fault added at run time, with its window resolved on the fleet clock.
#[derive(Debug, Clone)]
struct Injected {
    id: u64,
    provider: String,
    /// `None` = every model of the provider.
    model: Option<String>,
    fault: Fault,
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) spec: FleetSpec,
    /// Counts requests so each draws a fresh, still reproducible, random stream.
    requests: AtomicU64,
    /// Open connections, observable by tests to prove streams stop when clients leave.
    pub(crate) active: watch::Sender<usize>,
    /// When the fleet started: fault windows are measured from here.
    started: Instant,
    /// Milliseconds added to the fleet clock (tests jump ahead instead of sleeping).
    skew_ms: AtomicU64,
    /// Faults injected at run time.
    injected: Mutex<Vec<Injected>>,
    next_fault: AtomicU64,
    /// Hits so far of faults with a `times` limit, by fault.
    hits: Mutex<std::collections::HashMap<FaultKey, u64>>,
    /// `:free` requests the aggregator took (its free-tier limits).
    free: Mutex<crate::free_tier::Counter>,
    /// The last generations served, for `GET /generation?id=`, and what they all cost.
    ledger: Mutex<Ledger>,
}

/// What the aggregator has served: the latest generations by id (bounded) and the total spent.
#[derive(Default)]
struct Ledger {
    generations: std::collections::VecDeque<(String, Value)>,
    spent: f64,
    spent_today: (i64, f64),
}

/// Generations kept for `GET /generation`.
const LEDGER_MAX: usize = 10_000;

/// Identifies one fault for its hit count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FaultKey {
    /// The n-th fault of a spec endpoint.
    Spec(String, String, usize),
    /// A run-time fault by id.
    Injected(u64),
}

impl Shared {
    pub(crate) fn new(spec: FleetSpec) -> Self {
        Self {
            spec,
            requests: AtomicU64::new(0),
            active: watch::Sender::new(0),
            started: Instant::now(),
            skew_ms: AtomicU64::new(0),
            injected: Mutex::new(Vec::new()),
            next_fault: AtomicU64::new(1),
            hits: Mutex::new(std::collections::HashMap::new()),
            free: Mutex::new(Default::default()),
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// Wall time in ms, plus the fleet clock's skew (so tests can jump past a minute or a day).
    fn wall_ms(&self) -> i64 {
        crate::free_tier::now_ms() + self.skew_ms.load(Ordering::Relaxed) as i64
    }

    /// Takes one `:free` request, or the 429 OpenRouter answers once a limit is reached.
    fn take_free(&self) -> Result<(), Failure> {
        let now = self.wall_ms();
        let l = crate::free_tier::Limits {
            per_minute: self.spec.free.per_minute,
            per_day: self.spec.free.per_day,
            from_key: true,
        };
        let mut c = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = c.counts(now);
        let (kind, limit, reset) = if counts.day >= l.per_day {
            let tomorrow = (now.div_euclid(86_400_000) + 1) * 86_400_000;
            ("free-models-per-day", l.per_day, tomorrow)
        } else if counts.minute >= l.per_minute {
            let at = c.minute_frees_at(now, l).unwrap_or(now + 60_000);
            ("free-models-per-min", l.per_minute, at)
        } else {
            c.record(now);
            return Ok(());
        };
        let extra = if kind == "free-models-per-day" && self.spec.free.is_free_tier {
            format!(
                ". Add 10 credits to unlock {} free model requests per day",
                crate::free_tier::PER_DAY_PAID
            )
        } else {
            String::new()
        };
        let retry = ((reset - now).max(0) as u64).div_ceil(1000);
        let headers = json!({
            "X-RateLimit-Limit": limit.to_string(),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.to_string(),
        });
        let mut f = Failure::new(429, format!("Rate limit exceeded: {kind}{extra}"))
            .with_metadata(json!({ "headers": headers }));
        f.retry_after = Some(retry);
        Err(f)
    }

    /// `GET /key`: the fleet's key, as OpenRouter describes one.
    fn key_info(&self) -> Value {
        let l = self.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        let day = self.wall_ms().div_euclid(86_400_000);
        let today = if l.spent_today.0 == day {
            l.spent_today.1
        } else {
            0.0
        };
        json!({ "data": {
            "label": "sk-sim-…fleet",
            "limit": null,
            "limit_reset": null,
            "limit_remaining": null,
            "include_byok_in_limit": false,
            "usage": l.spent,
            "usage_daily": today,
            "is_free_tier": self.spec.free.is_free_tier,
            "is_management_key": false,
            "is_provisioning_key": false,
            "expires_at": null,
        }})
    }

    /// A generation served, by id.
    fn generation(&self, id: &str) -> Option<Value> {
        let l = self.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        l.generations
            .iter()
            .rev()
            .find(|(g, _)| g == id)
            .map(|(_, v)| v.clone())
    }

    /// Keeps a served generation for `GET /generation?id=`.
    fn keep_generation(&self, id: &str, record: Value, cost: f64) {
        let mut l = self.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        l.spent += cost;
        let day = self.wall_ms().div_euclid(86_400_000);
        if l.spent_today.0 != day {
            l.spent_today = (day, 0.0);
        }
        l.spent_today.1 += cost;
        if l.generations.len() >= LEDGER_MAX {
            l.generations.pop_front();
        }
        l.generations.push_back((id.to_string(), record));
    }

    /// The request's random stream, and a separate one for fault probabilities (so faults never
    /// shift timing or text draws).
    fn request_rngs(&self) -> (SplitMix64, SplitMix64) {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        (
            SplitMix64::new(mix(&[self.spec.seed, n, 0x7131_u64])),
            SplitMix64::new(mix(&[self.spec.seed, n, 0xFA17_u64])),
        )
    }

    /// The fleet clock: seconds since start, plus any skew.
    pub(crate) fn now_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64() + self.skew_ms.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Moves the fleet clock forward.
    pub(crate) fn advance_clock(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .skew_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                Some(s.saturating_add(ms))
            });
    }

    fn injected(&self) -> std::sync::MutexGuard<'_, Vec<Injected>> {
        // The list is always left consistent, so a panic elsewhere does not poison it for us.
        self.injected.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a run-time fault starting now (or at `fault.from_s`); returns its id.
    pub(crate) fn inject(&self, fs: FaultSpec) -> Result<u64, FleetError> {
        let Some(p) = self.spec.provider(&fs.provider) else {
            return Err(FleetError::runtime(
                "provider",
                format!("no provider with slug `{}` in this fleet", fs.provider),
            ));
        };
        let model = match fs.model {
            None => None,
            Some(m) => match p
                .models
                .iter()
                .find(|e| e.id == m || e.canonical_slug.as_deref() == Some(&m))
            {
                Some(e) => Some(e.id.clone()),
                None => {
                    return Err(FleetError::runtime(
                        "model",
                        format!("provider `{}` does not serve model `{m}`", p.slug),
                    ));
                }
            },
        };
        let mut fault = fs.fault;
        let from = fault.from_s.unwrap_or_else(|| self.now_s());
        fault.from_s = Some(from);
        if let Some(d) = fs.duration_s {
            if !(d.is_finite() && d >= 0.0) {
                return Err(FleetError::runtime(
                    "duration_s",
                    format!("must be a number of seconds ≥ 0, got {d}"),
                ));
            }
            if fault.until_s.is_some() {
                return Err(FleetError::runtime(
                    "duration_s",
                    "give either duration_s or until_s, not both",
                ));
            }
            fault.until_s = Some(from + d);
        }
        fault
            .check()
            .map_err(|(field, msg)| FleetError::runtime(field, msg))?;
        let id = self.next_fault.fetch_add(1, Ordering::Relaxed);
        self.injected().push(Injected {
            id,
            provider: p.slug.clone(),
            model,
            fault,
        });
        Ok(id)
    }

    /// Removes every run-time fault; returns how many there were.
    pub(crate) fn clear_faults(&self) -> usize {
        std::mem::take(&mut *self.injected()).len()
    }

    /// Every fault active now, spec and run-time, as JSON.
    pub(crate) fn active_faults(&self) -> Value {
        let now = self.now_s();
        let mut out = Vec::new();
        for p in &self.spec.providers {
            for e in &p.models {
                for f in e.faults.iter().filter(|f| f.active_at(now)) {
                    let mut v = f.to_json();
                    v["source"] = json!("spec");
                    v["provider"] = json!(p.slug);
                    v["model"] = json!(e.id);
                    out.push(v);
                }
            }
        }
        let mut injected = self.injected();
        // Expired run-time faults can never fire again.
        injected.retain(|i| i.fault.until_s.is_none_or(|u| u > now));
        for i in injected.iter().filter(|i| i.fault.active_at(now)) {
            let mut v = i.fault.to_json();
            v["source"] = json!("runtime");
            v["id"] = json!(i.id);
            v["provider"] = json!(i.provider);
            v["model"] = json!(i.model);
            out.push(v);
        }
        json!({ "now_s": now, "faults": out })
    }

    /// What the faults active now do to one request on this endpoint.
    fn effects(&self, p: &Provider, e: &Endpoint, rng: &mut SplitMix64) -> Effects {
        let now = self.now_s();
        let mut fired: Vec<(FaultKey, Fault)> = e
            .faults
            .iter()
            .enumerate()
            .filter(|(_, f)| f.active_at(now))
            .map(|(i, f)| (FaultKey::Spec(p.slug.clone(), e.id.clone(), i), *f))
            .collect();
        fired.extend(
            self.injected()
                .iter()
                .filter(|i| i.provider == p.slug && i.model.as_ref().is_none_or(|m| *m == e.id))
                .filter(|i| i.fault.active_at(now))
                .map(|i| (FaultKey::Injected(i.id), i.fault)),
        );
        let mut fx = Effects::default();
        for (key, f) in fired {
            // Certain faults draw nothing, so adding one never shifts another's random stream.
            if f.probability < 1.0 && rng.next_f64() >= f.probability {
                continue;
            }
            // A fault that fails the request before the first byte takes effect only if no
            // earlier one did; only a fault that takes effect uses up its `times`.
            if f.kind.fails_before() && fx.before.is_some() {
                continue;
            }
            if let Some(limit) = f.times {
                let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
                let n = hits.entry(key).or_insert(0);
                if *n >= limit {
                    continue;
                }
                *n += 1;
            }
            fx.add(f.kind, e.retry_after_secs, &e.id);
        }
        fx
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
            if let Err(e) = dispatch(&shared, &req, &mut stream).await
                && is_abort(&e)
            {
                // Dropped without a polite close: with zero linger the client sees a reset.
                return;
            }
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

/// Marks an error that must end the connection at once, without the polite close.
#[derive(Debug)]
struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection aborted by a fault")
    }
}

impl std::error::Error for Abort {}

fn is_abort(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<Abort>())
}

/// The `reset` fault: zero linger, then drop, so the kernel sends RST instead of FIN.
fn reset(stream: &TcpStream) -> io::Error {
    let _ = stream.set_zero_linger();
    io::Error::other(Abort)
}

/// Waits, silent, until the client closes the connection (the `hang` and `stall` faults).
async fn wait_gone(stream: &mut TcpStream) -> io::Error {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return io::Error::other(Abort),
            Ok(_) => {}
        }
    }
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

    if path == "/control/faults" {
        if let Some(f) = auth_failure {
            return send(stream, f.response()).await;
        }
        return control(shared, req, stream).await;
    }
    // The EU host (OpenRouter's `eu.openrouter.ai`): the same aggregator, routing only to
    // providers in the EU.
    let (eu, path) = match path.strip_prefix("/eu") {
        Some(rest) if rest.starts_with("/api/v1") => (true, rest),
        _ => (false, path),
    };
    // OpenAI-compatible servers usually live at `/v1`: the aggregator answers there too.
    let api = path
        .strip_prefix("/api/v1")
        .or_else(|| path.strip_prefix("/v1"))
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    if let Some(rest) = api {
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
        if rest == "/key" {
            return match method {
                "GET" => send(stream, Response::json(200, &shared.key_info())).await,
                _ => send(stream, not_allowed("GET")).await,
            };
        }
        if rest == "/generation" {
            if method != "GET" {
                return send(stream, not_allowed("GET")).await;
            }
            let id = req.query("id").unwrap_or_default();
            return match shared.generation(&id) {
                Some(v) => send(stream, Response::json(200, &json!({ "data": v }))).await,
                None => {
                    let f = Failure::new(404, format!("Generation {id} not found"));
                    send(stream, f.response()).await
                }
            };
        }
        if rest == "/chat/completions" {
            if method != "POST" {
                return send(stream, not_allowed("POST")).await;
            }
            return completions(shared, req, stream, None, eu).await;
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
                return completions(shared, req, stream, Some(provider), false).await;
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

/// `/control/faults`: `POST` adds a run-time fault, `DELETE` clears them, `GET` lists active ones.
async fn control(shared: &Shared, req: &Request, stream: &mut TcpStream) -> io::Result<()> {
    let r = match req.method.as_str() {
        "GET" => Response::json(200, &shared.active_faults()),
        "DELETE" => Response::json(200, &json!({ "cleared": shared.clear_faults() })),
        "POST" => {
            let added = FaultSpec::from_json(&req.body)
                .map_err(|(field, msg)| FleetError::runtime(field, msg))
                .and_then(|fs| shared.inject(fs));
            match added {
                Ok(id) => {
                    let listed = shared.active_faults();
                    let fault = listed["faults"]
                        .as_array()
                        .and_then(|a| a.iter().find(|f| f["id"] == json!(id)).cloned());
                    Response::json(
                        201,
                        &json!({ "id": id, "fault": fault, "now_s": listed["now_s"] }),
                    )
                }
                Err(e) => {
                    let status =
                        if e.field() == Some("provider") && e.message().contains("no provider") {
                            404
                        } else {
                            400
                        };
                    let field = e.field().unwrap_or("body");
                    Failure::new(status, format!("field `{field}`: {}", e.message())).response()
                }
            }
        }
        m => Failure::new(
            405,
            format!("method {m} is not allowed on /control/faults; use GET, POST or DELETE"),
        )
        .response()
        .with_header("Allow", "GET, POST, DELETE"),
    };
    send(stream, r).await
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
    eu: bool,
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
    let mut params = match parse_chat(&req.body) {
        Ok(p) => p,
        Err(f) => return send(stream, reply(f)).await,
    };
    params.prefs.eu_only = eu;
    // The platform's own limit on free models, before any provider is asked.
    if direct.is_none()
        && crate::free_tier::is_free(&params.model)
        && let Err(f) = shared.take_free()
    {
        return send(stream, reply(f)).await;
    }
    if !params.attached.is_empty() || !params.earlier.is_empty() {
        let now = acknowledge("", std::mem::take(&mut params.attached)).await;
        let earlier = acknowledge(
            " again, from earlier turns",
            std::mem::take(&mut params.earlier),
        )
        .await;
        params.ack = Some(
            now.into_iter()
                .chain(earlier)
                .collect::<Vec<_>>()
                .join("\n\n"),
        );
    }
    let candidates = match direct {
        None => route::plan(&shared.spec, &params),
        Some(p) => direct_candidate(p, &params),
    };
    let candidates = match candidates {
        Ok(c) => c,
        Err(f) => return send(stream, reply(f)).await,
    };
    let (mut rng, mut fault_rng) = shared.request_rngs();
    let mut last = None;
    for c in candidates {
        let rolled = upstream_failure(&mut rng, c, style);
        let fx = shared.effects(c.provider, c.endpoint, &mut fault_rng);
        let failure = match fx.before {
            None => rolled,
            Some(Before::Fail {
                status,
                raw,
                retry_after,
            }) => Some(provider_failure(c.provider, style, status, raw, retry_after)),
            // Moderation refuses the prompt itself: no other provider is tried.
            Some(Before::Refuse) => {
                let f = Failure::typed(
                    400,
                    "content_policy_violation",
                    format!(
                        "{} flagged the input for violating its content policy (simulated)",
                        c.provider.name
                    ),
                );
                return send(stream, reply(f)).await;
            }
            // A provider's own API shows its faults as they are.
            Some(Before::Reset) if direct.is_some() => return Err(reset(stream)),
            Some(Before::Hang) if direct.is_some() => return Err(wait_gone(stream).await),
            // The aggregator sees them as upstream failures and fails over.
            Some(Before::Reset) => Some(provider_failure(
                c.provider,
                style,
                502,
                "upstream connect error or disconnect/reset before headers. reset reason: connection reset".into(),
                None,
            )),
            Some(Before::Hang) => {
                shared.pause(UPSTREAM_TIMEOUT_MS).await;
                Some(provider_failure(
                    c.provider,
                    style,
                    524,
                    "upstream request timeout: the provider accepted the request but never answered".into(),
                    None,
                ))
            }
        };
        match failure {
            Some(f) => {
                // A failed attempt still costs the router some time before it moves on.
                shared
                    .pause(sample(&mut rng, c.endpoint.ttft_ms) * 0.3)
                    .await;
                last = Some(f);
            }
            None => {
                let g = Generation::new(shared, &params, c, style, &mut rng, fx.during);
                let sent = if params.stream {
                    g.stream(shared, stream).await
                } else {
                    g.respond(shared, stream).await
                };
                if style == Style::OpenRouter {
                    let (record, cost) = g.record(sent.is_err());
                    shared.keep_generation(&g.id, record, cost);
                }
                return sent;
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
        return Err(Failure::typed(
            400,
            "context_length_exceeded",
            format!(
                "This model's maximum context length is {} tokens. However, your messages resulted in {} tokens.",
                e.context_length, params.prompt_tokens
            ),
        ));
    }
    if params.prefill.is_some() && !e.assistant_prefill {
        return Err(Failure::bad_request(format!(
            "{} does not support assistant prefill: the last message must be from the user",
            p.name
        )));
    }
    // A provider's own API refuses what its model cannot take, as real ones do.
    if let Some(m) = params
        .inputs
        .iter()
        .find(|m| !e.input_modalities.iter().any(|x| x == *m))
    {
        return Err(Failure::bad_request(format!(
            "{} on {} does not support {m} input",
            e.id, p.name
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
    Some(provider_failure(p, style, status, raw, retry_after))
}

/// An upstream error as the route words it: OpenRouter wraps it, a provider's API shows it raw.
fn provider_failure(
    p: &Provider,
    style: Style,
    status: u16,
    raw: String,
    retry_after: Option<u64>,
) -> Failure {
    let f = match style {
        Style::OpenRouter => Failure::new(status, "Provider returned error")
            .with_metadata(json!({ "provider_name": p.name, "raw": raw })),
        Style::OpenAi => Failure::new(status, raw),
    };
    Failure { retry_after, ..f }
}

/// The answer's opening: one line per attachment of the last user message, with what the fleet
/// found in it (type, size, pixels; a PDF's pages and first words, read by the isolated reader).
/// `again` follows the count ("again, from earlier turns" for earlier messages' attachments).
async fn acknowledge(again: &str, attached: Vec<super::request::Attached>) -> Option<String> {
    use crate::attach::{self, Kind};
    if attached.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    for (n, a) in attached.into_iter().enumerate() {
        let name = a
            .name
            .clone()
            .unwrap_or_else(|| format!("attachment {}", n + 1));
        let line = match (a.data, a.url) {
            (_, Some(url)) => format!("- {} by URL: {url} (not fetched by the fleet)", a.part),
            (Some((mime, bytes)), None) => {
                let size = attach::human_bytes(bytes.len() as u64);
                match attach::detect(&bytes) {
                    Some(Kind::Pdf) => {
                        let read =
                            tokio::task::spawn_blocking(move || attach::pdf::extract(&bytes))
                                .await
                                .unwrap_or_else(|_| Err("the reader failed".into()));
                        match read {
                            Ok(t) => {
                                let words: Vec<&str> = t.text.split_whitespace().take(8).collect();
                                format!(
                                    "- PDF `{name}`: {} page{}, {size}, begins \"{}\"",
                                    t.pages,
                                    if t.pages == 1 { "" } else { "s" },
                                    words.join(" ")
                                )
                            }
                            Err(e) => format!("- PDF `{name}`: {size}, unreadable: {e}"),
                        }
                    }
                    Some(k) => {
                        let px = attach::image_size(&bytes, k)
                            .map_or_else(|| "size unknown".into(), |(w, h)| format!("{w}×{h}"));
                        format!("- image ({}): {px}, {size}", k.label())
                    }
                    None => format!("- {} ({mime}): {size}, not an image or PDF", a.part),
                }
            }
            (None, None) => format!("- {} with no data", a.part),
        };
        lines.push(line);
    }
    Some(format!(
        "Received {}{again}:\n{}",
        crate::spelling::plural(lines.len(), "attachment"),
        lines.join("\n")
    ))
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

/// The JSON a structured-output request gets from an endpoint that lists `response_format` or
/// `structured_outputs` (one that lists neither ignores the field and answers in prose, as real
/// providers do); schema-breaking under the `break_schema` fault.
fn structured_answer(seed: u64, params: &ChatParams, e: &Endpoint, broken: bool) -> Option<String> {
    let lists = |p: &str| e.supported_parameters.iter().any(|s| s == p);
    if !(lists("response_format") || lists("structured_outputs")) {
        return None;
    }
    let any_object = json!({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]});
    let schema = match &params.format {
        Format::Text => return None,
        Format::JsonObject => &any_object,
        Format::Schema(s) => s,
    };
    let seed = rng::mix(&[
        seed,
        rng::fnv1a(e.id.as_bytes()),
        rng::fnv1a(params.last_user.as_bytes()),
    ]);
    let v = if broken {
        structured::broken(schema, seed)
    } else {
        structured::generate(schema, seed)
    };
    Some(serde_json::to_string_pretty(&v).unwrap_or_default())
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
    /// Faults that act while answering.
    faults: During,
}

impl<'a> Generation<'a> {
    fn new(
        shared: &Shared,
        params: &ChatParams,
        c: Candidate<'a>,
        style: Style,
        rng: &mut SplitMix64,
        faults: During,
    ) -> Self {
        let e = c.endpoint;
        let answer = structured_answer(shared.spec.seed, params, e, faults.break_schema)
            .unwrap_or_else(|| {
                let body = text::answer_at_least(
                    shared.spec.seed,
                    &e.id,
                    &params.last_user,
                    e.answer_tokens.unwrap_or(0),
                );
                match &params.ack {
                    None => body,
                    Some(ack) => {
                        let how = if !params.inputs.contains(&"file") {
                            String::new()
                        } else if e.input_modalities.iter().any(|m| m == "file") {
                            format!("\n\nFiles read natively by {}.", c.provider.name)
                        } else {
                            format!(
                                "\n\n{} reads no files: the fleet's file-parser gave it the PDF's text.",
                                c.provider.name
                            )
                        };
                        format!("{ack}{how}\n\n{body}")
                    }
                }
            });
        let mut all: Vec<&str> = text::tokenize(&answer);
        if let Some(prefix) = &params.prefill {
            // Continue after the longest run of whole tokens the prefill already holds.
            let mut len = 0;
            let kept = all
                .iter()
                .take_while(|t| {
                    let ok = prefix[len..].starts_with(*t);
                    if ok {
                        len += t.len();
                    }
                    ok
                })
                .count();
            all.drain(..kept);
        }
        let cap = params
            .max_tokens
            .unwrap_or(u64::MAX)
            .min(e.max_completion_tokens);
        let n = all.len().min(usize::try_from(cap).unwrap_or(usize::MAX));
        let finish_reason = if n < all.len() { "length" } else { "stop" };
        let ttft_ms = sample(rng, e.ttft_ms) + faults.extra_ttft_ms;
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
            faults,
        }
    }

    /// What `GET /generation?id=` says of it, and its cost.
    fn record(&self, cancelled: bool) -> (Value, f64) {
        let u = self.usage();
        let cost = u.cost.unwrap_or(0.0);
        let v = json!({
            "id": self.id,
            "model": self.model_label,
            "provider_name": self.provider.name,
            "created_at": self.created,
            "total_cost": cost,
            "usage": cost,
            "is_byok": false,
            "tokens_prompt": u.prompt_tokens,
            "tokens_completion": u.completion_tokens,
            "native_tokens_prompt": u.prompt_tokens,
            "native_tokens_completion": u.completion_tokens,
            "latency": self.ttft_ms.round() as u64,
            "generation_time": self.gaps_ms.iter().sum::<f64>().round() as u64,
            "finish_reason": self.finish_reason,
            "streamed": true,
            "cancelled": cancelled,
        });
        (v, cost)
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
        let f = self.faults;
        if f.malformed_after.is_some() {
            // The body is framed correctly but is not JSON.
            r.body.truncate(r.body.len() / 2);
        }
        if f.cut_after.is_none() && f.stall_after.is_none() {
            return send(stream, r).await;
        }
        // Half the body, then the connection closes (cut) or goes silent (stall).
        let bytes = r.to_bytes();
        let partial = bytes.len() - r.body.len() / 2;
        stream.write_all(&bytes[..partial]).await?;
        if f.cut_after.is_some() {
            return Err(io::Error::other("fault: response cut"));
        }
        Err(wait_gone(stream).await)
    }

    /// Streaming: head, keep-alives until the first token, paced token chunks, final chunk, `[DONE]`.
    async fn stream(&self, shared: &Shared, stream: &mut TcpStream) -> io::Result<()> {
        let mut sink = SseSink {
            stream,
            faults: self.faults,
            tokens: 0,
            malformed_sent: false,
        };
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
            sink.emit(Wire::Token(self.token_chunk(i))).await?;
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
    /// A `data: {json}` event carrying one content token (already serialised).
    Token(String),
    /// Any other `data: {json}` event (already serialised).
    Data(String),
    /// The `data: [DONE]` sentinel.
    Done,
}

/// Everything a stream writes passes through `emit`, one wire unit at a time, and this is where
/// the mid-stream faults act: once `after_tokens` content tokens are out, the next data event is
/// preceded by a malformed one, or replaced by a cut or a stall; `no_done` drops `[DONE]`.
struct SseSink<'s> {
    stream: &'s mut TcpStream,
    faults: During,
    /// Content tokens sent so far.
    tokens: u64,
    malformed_sent: bool,
}

/// The invalid event the `malformed` fault sends: the start of a chunk, cut off mid-string.
const MALFORMED_EVENT: &[u8] =
    b"data: {\"id\":\"gen-broken\",\"choices\":[{\"delta\":{\"content\":\"unterminated\n\n";

impl SseSink<'_> {
    async fn emit(&mut self, unit: Wire) -> io::Result<()> {
        if matches!(unit, Wire::Token(_) | Wire::Data(_) | Wire::Done) {
            let f = self.faults;
            let reached = |after: Option<u64>| after.is_some_and(|a| self.tokens >= a);
            if reached(f.malformed_after) && !self.malformed_sent {
                self.malformed_sent = true;
                self.stream.write_all(MALFORMED_EVENT).await?;
            }
            if reached(f.cut_after) {
                // The polite close that follows sends FIN: a clean EOF, mid-answer.
                return Err(io::Error::other("fault: stream cut"));
            }
            if reached(f.stall_after) {
                return Err(wait_gone(self.stream).await);
            }
            if f.no_done && matches!(unit, Wire::Done) {
                return Ok(());
            }
        }
        if matches!(unit, Wire::Token(_)) {
            self.tokens += 1;
        }
        let bytes = match unit {
            Wire::Head(h) => h,
            Wire::Comment(c) => format!(": {c}\n\n").into_bytes(),
            Wire::Token(v) | Wire::Data(v) => format!("data: {v}\n\n").into_bytes(),
            Wire::Done => b"data: [DONE]\n\n".to_vec(),
        };
        // A failed write means the client disconnected: the error ends generation.
        self.stream.write_all(&bytes).await
    }
}
