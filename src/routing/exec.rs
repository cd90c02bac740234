//! Executing one request through the router, for OpenAI-compatible endpoints where we pick the
//! provider ourselves: plan, try endpoints in order, fail over before the first visible token,
//! apply the mid-stream policy after it, and report every attempt's outcome to the actor.
//!
//! The commit point is the first visible token: before it, a failure costs the user nothing but
//! time, so the next endpoint is tried silently (and noted). After it, `restart` re-runs the
//! request on the next endpoint and replaces the partial text; `surface` stops and keeps the
//! partial answer marked incomplete. A truncated answer is never reported as complete.

use super::actor::{PlanQuery, RouterHandle};
use super::{
    EndpointId, EndpointRegistry, Modalities, Outcome, ParamSet, Plan, RequestFeatures, Rng, Sample,
};
use crate::client::{Answer, ChatError, Endpoint, HttpClient, Secret, ServerKind, Timeouts};
use crate::wire::chunk::StreamEvent;
use crate::wire::request::ChatRequest;
use std::time::{Duration, Instant};

/// Sampling parameters go only to an endpoint that lists them (as OpenRouter drops what a
/// provider does not take); an endpoint that lists nothing is sent everything.
pub fn drop_unlisted_sampling(body: &mut ChatRequest, supported: ParamSet) {
    if supported == ParamSet::EMPTY {
        return;
    }
    let lacks = |p: ParamSet| !supported.contains(p);
    macro_rules! drop_if {
        ($($field:ident => $param:expr),* $(,)?) => {
            $(if lacks($param) { body.$field = None; })*
        };
    }
    drop_if!(
        temperature => ParamSet::TEMPERATURE,
        top_p => ParamSet::TOP_P,
        top_k => ParamSet::TOP_K,
        frequency_penalty => ParamSet::FREQUENCY_PENALTY,
        presence_penalty => ParamSet::PRESENCE_PENALTY,
        repetition_penalty => ParamSet::REPETITION_PENALTY,
        min_p => ParamSet::MIN_P,
        top_a => ParamSet::TOP_A,
        seed => ParamSet::SEED,
        reasoning => ParamSet::REASONING,
        max_tokens => ParamSet::MAX_TOKENS,
    );
}

/// What to do when a stream fails after its first visible token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MidStream {
    /// Re-run on the next endpoint and replace the partial text (the user gets one whole answer).
    #[default]
    Restart,
    /// Keep the partial answer and send it as an assistant prefill to the next endpoint that
    /// accepts one, which continues it; with no such endpoint left, restart instead.
    Continue,
    /// Keep the partial answer, marked incomplete, and stop.
    Surface,
}

impl std::str::FromStr for MidStream {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "restart" => Ok(Self::Restart),
            "continue" => Ok(Self::Continue),
            "surface" => Ok(Self::Surface),
            other => Err(format!(
                "unknown mid-stream policy `{other}` (expected restart, continue or surface)"
            )),
        }
    }
}

/// When to try the same endpoint again, and how long to wait first (defaults from the
/// reference client of ROUTING.md §10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts on one endpoint, the first included, when nothing else is left to try.
    pub per_endpoint: u32,
    /// Attempts on one endpoint after a 5xx or a broken connection while other endpoints remain
    /// (one retry: a single 500 is often a blip, a second one is not).
    pub per_endpoint_with_fallback: u32,
    /// Full-jitter backoff: the n-th retry waits uniformly in `[0, min(cap, base·2ⁿ⁻¹)]`.
    pub backoff_base: Duration,
    /// Upper bound of one backoff.
    pub backoff_cap: Duration,
    /// Longest `Retry-After` honoured; a longer one moves on (or gives up).
    pub retry_after_cap: Duration,
    /// Limit for the first token while another endpoint could take over; the last candidate
    /// waits for the full timeouts (a local server may be loading its model).
    pub first_token_failover: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            per_endpoint: 3,
            per_endpoint_with_fallback: 2,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(8),
            retry_after_cap: Duration::from_secs(10),
            first_token_failover: Duration::from_secs(10),
        }
    }
}

/// What to do after an attempt failed before its first visible token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NextStep {
    /// Wait, then try the same endpoint again.
    RetrySame(Duration),
    /// Go to the next endpoint of the plan.
    NextEndpoint,
    /// Nothing else can help (our key, our request, a refusal).
    Stop,
}

impl RetryPolicy {
    /// The full-jitter wait before retry number `n` (1-based), for a uniform draw `u` in [0, 1).
    pub fn backoff(&self, n: u32, u: f64) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << n.saturating_sub(1).min(20));
        exp.min(self.backoff_cap).mul_f64(u.clamp(0.0, 1.0))
    }

    /// Decides the next step after `outcome` on an endpoint already tried `tries` times,
    /// given whether other endpoints remain and how much of the deadline is left.
    pub fn after_failure(
        &self,
        outcome: &Outcome,
        tries: u32,
        others_left: bool,
        time_left: Duration,
        u: f64,
    ) -> NextStep {
        let fits = |w: Duration| w < time_left;
        let limit = if others_left {
            self.per_endpoint_with_fallback
        } else {
            self.per_endpoint
        };
        match outcome {
            Outcome::Auth { .. }
            | Outcome::ContentPolicy
            | Outcome::Cancelled
            | Outcome::Success(_) => NextStep::Stop,
            // The model is unknown here: a fallback model may be known.
            Outcome::BadRequest { status: 404 } => NextStep::NextEndpoint,
            Outcome::BadRequest { status } if *status != 409 => NextStep::Stop,
            // A larger context elsewhere is the only help; a silent route is never re-tried.
            Outcome::ContextLength | Outcome::Timeout => NextStep::NextEndpoint,
            Outcome::RateLimited { retry_after } => {
                if others_left || tries >= self.per_endpoint {
                    return NextStep::NextEndpoint;
                }
                let wait = retry_after.unwrap_or_else(|| self.backoff(tries, u));
                if wait <= self.retry_after_cap && fits(wait) {
                    NextStep::RetrySame(wait)
                } else {
                    NextStep::NextEndpoint
                }
            }
            Outcome::ServerError { .. }
            | Outcome::BadRequest { .. }
            | Outcome::Connect
            | Outcome::Cut
            | Outcome::Malformed => {
                let wait = self.backoff(tries, u);
                if tries < limit && fits(wait) {
                    NextStep::RetrySame(wait)
                } else {
                    NextStep::NextEndpoint
                }
            }
        }
    }
}

/// Limits and policy for one routed request.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Per-attempt timeouts.
    pub timeouts: Timeouts,
    /// Most attempts across all endpoints.
    pub max_attempts: usize,
    /// Overall deadline for the whole request.
    pub deadline: Duration,
    /// Mid-stream policy.
    pub mid_stream: MidStream,
    /// Retries of one endpoint and backoff.
    pub retry: RetryPolicy,
    /// Seed of the backoff jitter.
    pub jitter_seed: u64,
    /// Key sent to endpoints without one of their own in `keys`.
    pub key: Option<Secret>,
    /// Keys by provider slug (each configured server has its own).
    pub keys: std::sync::Arc<std::collections::HashMap<String, Secret>>,
    /// The endpoint that answered the conversation's previous turn.
    pub affinity: Option<EndpointId>,
    /// Concurrency gates per server, shared by every request of one router.
    pub gates: Option<std::sync::Arc<super::gate::Gates>>,
    /// Only endpoints that process in the EU.
    pub eu_only: bool,
    /// The request with its PDFs as their extracted text: used when no endpoint reads files.
    pub text_alternative: Option<std::sync::Arc<ChatRequest>>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            timeouts: Timeouts::default(),
            max_attempts: 6,
            deadline: Duration::from_secs(300),
            mid_stream: MidStream::Restart,
            retry: RetryPolicy::default(),
            jitter_seed: 0x5eed,
            key: None,
            keys: Default::default(),
            affinity: None,
            gates: None,
            eu_only: false,
            text_alternative: None,
        }
    }
}

/// One attempt, for the pane header, the "why" view and `--json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// Endpoint tried.
    pub endpoint: EndpointId,
    /// Its provider display name.
    pub provider: String,
    /// Its model.
    pub model: String,
    /// Whether it had shown a visible token before it ended.
    pub committed: bool,
    /// Time to first token, if any.
    pub ttft: Option<Duration>,
    /// How it ended, as reported to health.
    pub outcome: Outcome,
    /// The error, when it failed.
    pub error: Option<ChatError>,
}

/// Progress of a routed request.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecEvent {
    /// An attempt starts on this endpoint.
    Attempt {
        /// Endpoint.
        endpoint: EndpointId,
        /// Provider display name.
        provider: String,
        /// Model.
        model: String,
    },
    /// The previous attempt failed before its first token; the next endpoint is tried.
    Failover {
        /// Why the previous attempt failed.
        reason: String,
    },
    /// The previous attempt failed after streaming `chars_cut` characters; they are discarded
    /// and the request re-runs on the next endpoint.
    Restart {
        /// Characters received before the cut.
        chars_cut: usize,
        /// Why it failed.
        reason: String,
    },
    /// The previous attempt failed before its first token; the same endpoint is tried again
    /// after `wait` (backoff, or the `Retry-After` it asked for).
    Retry {
        /// Time waited before the next attempt.
        wait: Duration,
        /// Why the previous attempt failed.
        reason: String,
    },
    /// The previous attempt failed after `chars_kept` characters; they stay, and the next
    /// endpoint continues them from an assistant prefill.
    Continue {
        /// Characters kept (everything received so far).
        chars_kept: usize,
        /// Why it failed.
        reason: String,
    },
    /// Something the user should know about the plan (e.g. no endpoint meets a threshold).
    Notice(String),
    /// The request waits for a free slot on a server that takes few streams at once.
    Queued {
        /// Requests ahead of this one.
        ahead: u32,
        /// The server's provider name.
        provider: String,
    },
    /// The plan, explained (the first lines of the "why" view).
    Planned(Vec<String>),
    /// Stream events of the current attempt.
    Events(Vec<StreamEvent>),
}

impl ExecEvent {
    /// The one-line account a person reads (pane notes, `ask`'s stderr); `None` for attempts
    /// and stream events, which show up as themselves.
    pub fn note(&self) -> Option<String> {
        Some(match self {
            Self::Failover { reason } => format!("↪ failed over before the first token: {reason}"),
            Self::Retry { wait, reason } => format!(
                "⟳ retrying the same provider in {:.1}s: {reason}",
                wait.as_secs_f64()
            ),
            Self::Restart { chars_cut, reason } => {
                format!("↻ cut after {chars_cut} chars ({reason}); restarted on the next provider")
            }
            Self::Continue { chars_kept, reason } => format!(
                "↪ cut after {chars_kept} chars ({reason}); the next provider continues the text"
            ),
            Self::Notice(n) => format!("ⓘ {n}"),
            Self::Queued { ahead, provider } => format!(
                "⏳ queued behind {ahead} request{} to {provider}, which takes one stream at a time",
                if *ahead == 1 { "" } else { "s" }
            ),
            Self::Attempt { .. } | Self::Events(_) | Self::Planned(_) => return None,
        })
    }
}

/// Everything a routed request produced.
#[derive(Debug, Clone)]
pub struct Routed {
    /// The last attempt's answer (text, usage, timings, result); a `Truncated` error when no
    /// endpoint could be tried at all.
    pub answer: Answer,
    /// The plan used, or why there was none.
    pub plan: Result<Plan, String>,
    /// Every attempt in order.
    pub attempts: Vec<Attempt>,
}

/// The "why" view of a routed request: the plan with a reason for every endpoint kept or
/// excluded, then every attempt and how it ended, in words (never Rust names). The attempt
/// that answered starts with `✓`, failures with `✗`, so the view can colour them.
pub fn explain(
    registry: &EndpointRegistry,
    plan: &Result<Plan, String>,
    attempts: &[Attempt],
) -> Vec<String> {
    let mut out = explain_plan(registry, plan);
    for (i, a) in attempts.iter().enumerate() {
        out.push(attempt_line(i, a));
    }
    out
}

/// The plan part of [`explain`].
pub fn explain_plan(registry: &EndpointRegistry, plan: &Result<Plan, String>) -> Vec<String> {
    use super::policy::{Basis, Tier};
    let name = |id: EndpointId| {
        let m = registry.get(id);
        format!("{} · {}", m.provider_name, m.model)
    };
    let mut out = Vec::new();
    match plan {
        Err(e) => out.push(format!("no plan: {e}")),
        Ok(p) => {
            out.push("candidates, in the order they would be tried:".into());
            for (i, e) in p.entries.iter().enumerate() {
                let r = &e.rank_reason;
                let meta = registry.get(e.id);
                let tier = match r.tier {
                    Tier::Preferred => "preferred".to_string(),
                    Tier::Demoted(d) => {
                        let mut why = Vec::new();
                        if d.throughput {
                            why.push("slower than the minimum throughput");
                        }
                        if d.latency {
                            why.push("slower to start than the maximum latency");
                        }
                        if d.capability {
                            why.push("lacks a feature the request uses");
                        }
                        format!("demoted: {}", why.join(", "))
                    }
                    Tier::Degraded(s) => format!("demoted: {}", s.label()),
                    Tier::LastResort(s) => format!("last resort: breaker {}", s.label()),
                };
                let price = if meta.pricing.unknown {
                    "price unknown".to_string()
                } else {
                    format!("${:.2}/M output", meta.pricing.completion)
                };
                let basis = match r.basis {
                    Basis::Affinity => {
                        "kept for this conversation (it answered the last turn)".to_string()
                    }
                    Basis::Ordered { position } => {
                        format!("position {} in your order", position + 1)
                    }
                    Basis::WeightedPick { probability } if probability >= 0.9995 => {
                        format!("the only candidate of its group ({price})")
                    }
                    Basis::WeightedPick { probability } => format!(
                        "load-balanced: {:.0}% of picks, weighted by its price ({price})",
                        probability * 100.0
                    ),
                    Basis::ByWeight { .. } => format!("next by price weight ({price})"),
                    Basis::Sorted { by, key } => {
                        let by = format!("{by:?}").to_lowercase();
                        match (by.as_str(), key) {
                            (_, None) => format!("sorted by {by} (no data yet)"),
                            ("throughput", Some(k)) => {
                                format!("sorted by throughput ({k:.0} tok/s)")
                            }
                            ("latency", Some(k)) => {
                                format!("sorted by latency ({k:.0} ms to first token)")
                            }
                            (_, Some(k)) => format!("sorted by {by} (${k:.2}/M)"),
                        }
                    }
                };
                let probe = if r.probe {
                    ", one probe after its breaker opened"
                } else {
                    ""
                };
                // Endpoints of a `--fallback` model come after the primary's.
                let primary = &registry.get(p.entries[0].id).model;
                let fallback = if &meta.model != primary {
                    "fallback model, "
                } else {
                    ""
                };
                out.push(format!(
                    "  {}. {} — {fallback}{tier}; {basis}{probe}",
                    i + 1,
                    name(e.id)
                ));
            }
            for (id, rule) in &p.excluded {
                out.push(format!(
                    "  ✗ {} — excluded by {}",
                    name(*id),
                    rule.describe()
                ));
            }
        }
    }
    out
}

fn attempt_line(i: usize, a: &Attempt) -> String {
    let ttft = a
        .ttft
        .map(|d| format!(", first token after {:.2}s", d.as_secs_f64()))
        .unwrap_or_default();
    match &a.error {
        None => format!(
            "✓ attempt {}: {} · {} answered{ttft}",
            i + 1,
            a.provider,
            a.model
        ),
        Some(e) => {
            let after = if a.committed {
                " after its first token"
            } else {
                ""
            };
            format!(
                "✗ attempt {}: {} · {} failed{after}: {}",
                i + 1,
                a.provider,
                a.model,
                describe_failure(&a.provider, &a.outcome, e)
            )
        }
    }
}

/// A failed attempt in words, as a user of OpenRouter reads it: "503 from Comet Compute: …",
/// "429 from Basalt, retry after 8 s". No advice to retry: the router already did what it could.
pub fn describe_failure(provider: &str, outcome: &Outcome, err: &ChatError) -> String {
    let detail = match err {
        ChatError::Api(a) if !a.message.is_empty() => a.message.clone(),
        other => other.to_string(),
    };
    match outcome {
        Outcome::RateLimited {
            retry_after: Some(d),
        } => format!("429 from {provider}, retry after {} s", d.as_secs()),
        Outcome::RateLimited { retry_after: None } => format!("429 from {provider}: {detail}"),
        Outcome::ServerError { status } | Outcome::BadRequest { status } => {
            format!("{status} from {provider}: {detail}")
        }
        Outcome::Auth { status } => {
            format!("{status} from {provider}: the key was refused ({detail})")
        }
        Outcome::Timeout => format!("{provider} was silent: {detail}"),
        Outcome::Connect => format!("cannot reach {provider}: {detail}"),
        Outcome::Cut => format!("the stream from {provider} broke: {detail}"),
        Outcome::Malformed => format!("unreadable answer from {provider}: {detail}"),
        Outcome::ContextLength => format!("the prompt is too long for this model at {provider}"),
        Outcome::ContentPolicy => format!("{provider} refused the prompt: {detail}"),
        Outcome::Cancelled => "cancelled".to_string(),
        Outcome::Success(_) => "answered".to_string(),
    }
}

/// The "why" view while a request runs: the plan, then each attempt so far (the running one
/// last). Kept by the runtime from the events the router sends.
#[derive(Debug, Clone, Default)]
pub struct LiveWhy {
    plan: Vec<String>,
    /// Each attempt so far: `provider · model`, and why it failed once it has.
    attempts: Vec<(String, Option<String>)>,
}

impl LiveWhy {
    /// Takes in one event; `true` when the view changed.
    pub fn on(&mut self, ev: &ExecEvent) -> bool {
        match ev {
            ExecEvent::Planned(lines) => self.plan = lines.clone(),
            ExecEvent::Attempt {
                provider, model, ..
            } => self.attempts.push((format!("{provider} · {model}"), None)),
            ExecEvent::Failover { reason }
            | ExecEvent::Retry { reason, .. }
            | ExecEvent::Restart { reason, .. }
            | ExecEvent::Continue { reason, .. } => match self.attempts.last_mut() {
                Some((_, failed @ None)) => *failed = Some(reason.clone()),
                _ => return false,
            },
            ExecEvent::Notice(_) | ExecEvent::Events(_) | ExecEvent::Queued { .. } => {
                return false;
            }
        }
        true
    }

    /// The lines to show.
    pub fn lines(&self) -> Vec<String> {
        let attempts = self
            .attempts
            .iter()
            .enumerate()
            .map(|(i, (who, failed))| match failed {
                None => format!("… attempt {}: {who} running", i + 1),
                Some(reason) => format!("✗ attempt {}: {who}: {reason}", i + 1),
            });
        self.plan.iter().cloned().chain(attempts).collect()
    }
}

/// The result of a request that got a plan: the answer names the provider of its last attempt
/// (generic servers don't say who they are; the router knows), and a cost computed from that
/// endpoint's prices when the server reported none (OpenAI-compatible servers never do).
fn finish(
    registry: &EndpointRegistry,
    req: &ChatRequest,
    mut answer: Answer,
    plan: Plan,
    attempts: Vec<Attempt>,
) -> Routed {
    if let Some(last) = attempts.last() {
        if answer.served.provider.is_none() {
            answer.served.provider = Some(last.provider.clone());
        }
        if answer.usage.is_none() && answer.result.is_ok() {
            // llama.cpp and others ignore `stream_options.include_usage`: count ourselves.
            answer.usage = Some(estimate_usage(req, &answer));
        }
        let pricing = registry.get(last.endpoint).pricing;
        if let Some(u) = answer.usage.as_mut()
            && u.cost.is_none()
            && !pricing.unknown
        {
            let cached = u
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.get("cached_tokens"))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            u.cost = Some(pricing.cost(u.prompt_tokens, cached, u.completion_tokens));
        }
    }
    Routed {
        answer,
        plan: Ok(plan),
        attempts,
    }
}

/// Usage counted on our side for a server that sent none: one completion token per streamed
/// content chunk (servers stream a token per chunk), prompt tokens at ~4 characters each.
fn estimate_usage(req: &ChatRequest, answer: &Answer) -> crate::wire::chunk::Usage {
    let chars: usize = req.messages.iter().map(|m| m.content.text_len()).sum();
    let prompt = (chars as u64).div_ceil(4);
    let completion = answer.timings.chunks;
    crate::wire::chunk::Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        estimated: true,
        ..Default::default()
    }
}

/// How a failed attempt counts for health.
pub fn classify(e: &ChatError) -> Outcome {
    match e {
        ChatError::Connect(_) => Outcome::Connect,
        ChatError::Timeout(_) => Outcome::Timeout,
        ChatError::Truncated(_) => Outcome::Cut,
        // Never the result of an attempt; counted as neutral if it ever were.
        ChatError::NoRoute(_) => Outcome::Cancelled,
        ChatError::Api(a) => {
            match a.error_type.as_deref() {
                Some(
                    "context_length_exceeded" | "max_tokens_exceeded" | "token_limit_exceeded",
                ) => {
                    return Outcome::ContextLength;
                }
                Some("content_policy_violation" | "refusal") => return Outcome::ContentPolicy,
                _ => {}
            }
            // "This server has no such model": another endpoint (a fallback model) may; not
            // the endpoint's ill health, and never worth the same request again.
            // A 404 is that or a wrong path; neither is mended by asking again.
            let unknown_model = a.error_type.as_deref() == Some("model_not_found")
                || a.effective_status() == Some(404)
                || (a.effective_status() == Some(400)
                    && a.message.contains("is not a valid model"));
            if unknown_model {
                return Outcome::BadRequest { status: 404 };
            }
            match a.effective_status() {
                Some(s) => Outcome::from_status(s, a.retry_after),
                // An error chunk without a code, inside a stream that had started.
                None => Outcome::Cut,
            }
        }
    }
}

/// When no endpoint in the plan meets the throughput or latency preference: thresholds only
/// demote, so the request runs anyway, and the user is told why the pick may be slow.
fn threshold_notice(plan: &Plan) -> Option<String> {
    use super::policy::Tier;
    let missed = |f: fn(&super::policy::Demotion) -> bool| {
        !plan.entries.is_empty()
            && plan.entries.iter().all(|e| match &e.rank_reason.tier {
                Tier::Demoted(d) => f(d),
                _ => false,
            })
    };
    let which: Vec<&str> = [
        (missed(|d| d.throughput), "the minimum throughput"),
        (missed(|d| d.latency), "the maximum latency"),
    ]
    .into_iter()
    .filter_map(|(m, name)| m.then_some(name))
    .collect();
    (!which.is_empty()).then(|| {
        format!(
            "no endpoint meets {} preference; running on the best of the rest",
            which.join(" or ")
        )
    })
}

/// A completed answer's measurements, as health records them.
fn success(answer: &Answer) -> Outcome {
    let tokens = answer
        .usage
        .as_ref()
        .map_or(answer.timings.chunks, |u| u.completion_tokens);
    Outcome::Success(Sample {
        ttft: answer.timings.ttft,
        decode_tokens_per_sec: answer.timings.tokens_per_sec(tokens),
        end_to_end: Some(answer.timings.total),
    })
}

/// Which provider an answer routed by OpenRouter (or another gateway) came from, and how it
/// went: `(provider, model, outcome)` for the health observer. `None` when no provider can be
/// blamed (the gateway itself failed, or nothing named one).
pub fn attribute(req: &ChatRequest, answer: &Answer) -> Option<(String, String, Outcome)> {
    let asked = req
        .model
        .clone()
        .or_else(|| req.models.as_ref()?.first().cloned())?;
    // With a fallback list the served model may be another one; the response says which.
    let model = |served: Option<&String>| match (&req.models, served) {
        (Some(list), Some(s)) if !list.is_empty() => {
            // Responses may carry the dated canonical slug; keep the id asked for if it is one.
            let mut asked_all = std::iter::once(&asked).chain(list.iter());
            asked_all
                .clone()
                .find(|m| *m == s)
                // Else the longest id the dated slug extends (`gpt-4o-mini-2024…` is the mini).
                .or_else(|| {
                    asked_all
                        .by_ref()
                        .filter(|m| s.starts_with(m.as_str()))
                        .max_by_key(|m| m.len())
                })
                .cloned()
                .unwrap_or_else(|| s.clone())
        }
        _ => asked.clone(),
    };
    let served = answer.served.provider.clone();
    match &answer.result {
        Ok(_) => Some((
            served?,
            model(answer.served.model.as_ref()),
            success(answer),
        )),
        Err(e) => {
            let named = match e {
                // The legacy error metadata names the upstream that failed.
                ChatError::Api(a) => a.provider_name.clone().or(served),
                // A stream that started and then broke belongs to whoever was streaming.
                ChatError::Truncated(_) | ChatError::Timeout(_) => served,
                ChatError::Connect(_) | ChatError::NoRoute(_) => None,
            }?;
            Some((named, model(answer.served.model.as_ref()), classify(e)))
        }
    }
}

/// Whether trying another endpoint could help after this outcome.
fn worth_another_endpoint(o: &Outcome) -> bool {
    !matches!(
        o,
        Outcome::Auth { .. }
            | Outcome::BadRequest { .. }
            | Outcome::ContentPolicy
            | Outcome::Cancelled
    )
}

/// One attempt of `req` on an endpoint with `remaining` of the deadline left: streams it,
/// reports the outcome to the actor, and returns the answer (with any prefill in front of what
/// this endpoint added), the outcome, and whether the user had already seen text.
#[allow(clippy::too_many_arguments)] // the attempt's whole context; a struct would only rename it
async fn attempt_on(
    client: &HttpClient,
    router: &RouterHandle,
    (id, meta): (EndpointId, &super::EndpointMeta),
    req: &ChatRequest,
    prefill: Option<&str>,
    opts: &ExecOptions,
    remaining: Duration,
    others_left: bool,
    on_event: &mut impl FnMut(ExecEvent),
) -> (Answer, Outcome, bool, bool) {
    on_event(ExecEvent::Attempt {
        endpoint: id,
        provider: meta.provider_name.clone(),
        model: meta.model.clone(),
    });
    let ep = Endpoint {
        base_url: meta.base_url.clone(),
        key: opts
            .keys
            .get(&meta.provider_slug)
            .or(opts.key.as_ref())
            .cloned(),
        kind: ServerKind::OpenAi,
    };
    // A generic server gets one model and no OpenRouter routing fields.
    let mut body = req.clone();
    body.model = Some(meta.model.clone());
    body.models = None;
    body.provider = None;
    drop_unlisted_sampling(&mut body, meta.supported);
    if let Some(p) = prefill {
        body.messages
            .push(crate::wire::request::Message::assistant(p.to_string()));
    }
    // A server that takes few streams at once: wait for a slot rather than interrupt one.
    let slot = match &opts.gates {
        Some(g) => Some(
            g.acquire(&meta.base_url, meta.max_concurrent, |ahead| {
                on_event(ExecEvent::Queued {
                    ahead,
                    provider: meta.provider_name.clone(),
                })
            })
            .await,
        ),
        None => None,
    };
    let mut t = opts.timeouts;
    if others_left {
        // A slow first token only costs time while someone else can answer instead.
        let limit = opts.retry.first_token_failover;
        t.first_token = Some(t.first_token.map_or(limit, |f| f.min(limit)));
    }
    // When the overall deadline is nearer than every limit, a timeout is ours, not the
    // endpoint's: it is not held against its health.
    let nearest = t.headers.min(t.stall).min(t.first_token.unwrap_or(t.stall));
    let clipped = remaining < nearest;
    t.headers = t.headers.min(remaining);
    t.stall = t.stall.min(remaining);
    let mut answer = client
        .stream_chat(&ep, &body, t, |evs| {
            on_event(ExecEvent::Events(evs.to_vec()))
        })
        .await;
    let committed = !answer.text.is_empty() || prefill.is_some();
    if let Some(p) = prefill {
        // The answer is what was shown before plus what this endpoint added.
        answer.text.insert_str(0, p);
    }
    let outcome = match &answer.result {
        Ok(_) => success(&answer),
        Err(e) => classify(e),
    };
    // Cut while another of our streams started on the same server: it serves one at a time.
    let interrupted = outcome == Outcome::Cut
        && match (&opts.gates, &slot) {
            (Some(g), Some(s)) => g.overlapped(s),
            _ => false,
        };
    drop(slot);
    if interrupted
        && let Some(g) = &opts.gates
        && g.learn_single(&meta.base_url)
    {
        on_event(ExecEvent::Notice(format!(
            "{} cut a stream when another request started: it serves one stream at a time, so Switchyard now sends it one request at a time",
            meta.provider_name
        )));
    }
    router.report(
        id,
        if clipped && outcome == Outcome::Timeout {
            Outcome::Cancelled
        } else {
            outcome
        },
    );
    (answer, outcome, committed, interrupted)
}

/// Runs `req` through the router. `on_event` sees attempts, failovers and stream events.
pub async fn execute(
    client: &HttpClient,
    router: &RouterHandle,
    registry: &EndpointRegistry,
    req: &ChatRequest,
    opts: &ExecOptions,
    mut on_event: impl FnMut(ExecEvent),
) -> Routed {
    let started = Instant::now();
    let mut models: Vec<String> = req.model.iter().cloned().collect();
    models.extend(req.models.iter().flatten().cloned());
    let query_for = |req: &ChatRequest| PlanQuery {
        features: RequestFeatures {
            eu_only: opts.eu_only,
            ..RequestFeatures::from_request(req)
        },
        prefs: req.provider.clone().unwrap_or_default(),
        models: models.clone(),
        affinity: opts.affinity,
    };
    let empty = |msg: String| Answer {
        text: String::new(),
        served: Default::default(),
        usage: None,
        timings: Default::default(),
        result: Err(ChatError::NoRoute(msg)),
    };
    let mut planned = router.plan(query_for(req)).await;
    // No endpoint reads files: the PDFs go as the text Switchyard extracted, if that routes.
    let mut req = req;
    if let (Ok(Err(_)), Some(alt)) = (&planned, opts.text_alternative.as_deref())
        && RequestFeatures::from_request(req)
            .input
            .contains(Modalities::FILE)
        && let Ok(Ok(p)) = router.plan(query_for(alt)).await
    {
        planned = Ok(Ok(p));
        req = alt;
        on_event(ExecEvent::Notice(format!(
            "no endpoint of {} reads PDFs: their text, extracted here by Switchyard, was sent instead",
            models.join(", ")
        )));
    }
    let plan = match planned {
        Ok(Ok(p)) => p,
        Ok(Err(no)) => {
            let msg = format!("no endpoint qualifies: {no}");
            return Routed {
                answer: empty(msg.clone()),
                plan: Err(msg),
                attempts: Vec::new(),
            };
        }
        Err(_) => {
            let msg = "the routing actor has stopped".to_string();
            return Routed {
                answer: empty(msg.clone()),
                plan: Err(msg),
                attempts: Vec::new(),
            };
        }
    };
    // Ids come from the actor's registry, which may have grown since the caller's copy.
    let latest;
    let registry = if plan.entries.iter().any(|e| e.id.index() >= registry.len())
        || plan
            .excluded
            .iter()
            .any(|(id, _)| id.index() >= registry.len())
    {
        latest = router.registry().borrow().clone();
        &latest
    } else {
        registry
    };
    on_event(ExecEvent::Planned(explain_plan(
        registry,
        &Ok(plan.clone()),
    )));
    if let Some(n) = threshold_notice(&plan) {
        on_event(ExecEvent::Notice(n));
    }
    let ids: Vec<(EndpointId, bool)> = plan
        .entries
        .iter()
        .map(|e| (e.id, e.rank_reason.probe))
        .collect();
    // Endpoints with an open breaker are tried once as a last resort, never retried.
    let last_resort: Vec<bool> = plan
        .entries
        .iter()
        .map(|e| matches!(e.rank_reason.tier, super::policy::Tier::LastResort(_)))
        .collect();
    let mut attempts = Vec::new();
    let mut last =
        empty("no endpoint could be tried (attempt limit, deadline or probe slots)".into());
    let mut skip_model: Option<String> = None;
    // A stream cut by our own concurrent request is run again once on the same endpoint.
    let mut interrupt_retried = false;
    // Text already shown that the next attempt continues (the `continue` policy).
    let mut prefill: Option<String> = None;
    let mut rng = super::SplitMix64::new(opts.jitter_seed);
    // Endpoints whose failure might pass (5xx, 429, a broken connection) get one more round
    // once every endpoint has been tried, attempts and deadline permitting. Silent routes and
    // context errors don't; a lone endpoint has its own retries instead.
    let mut again = vec![false; ids.len()];
    // The longest Retry-After among them: the next round waits at least that.
    let mut again_wait = Duration::ZERO;
    let rounds = if ids.len() > 1 { 2 } else { 1 };
    'rounds: for round in 0..rounds {
        if round > 0 {
            if !again.iter().any(|&a| a) {
                break;
            }
            let wait = opts.retry.backoff(1, rng.next_f64()).max(again_wait);
            if wait > opts.retry.retry_after_cap
                || wait >= opts.deadline.saturating_sub(started.elapsed())
            {
                break;
            }
            on_event(ExecEvent::Retry {
                wait,
                reason: "every endpoint failed; one more round over those that may recover".into(),
            });
            tokio::time::sleep(wait).await;
        }
        'endpoints: for (i, &(id, probe)) in ids.iter().enumerate() {
            let meta = registry.get(id);
            // Whether endpoint `j` would be tried in round `r`: the second round only takes
            // those marked `again`; a model skipped for its context and, while continuing, an
            // endpoint that refuses prefills never are.
            let eligible = |j: usize, r: usize| {
                let m = registry.get(ids[j].0);
                (r == 0 || (again[j] && !ids[j].1))
                    && skip_model.as_deref() != Some(m.model.as_str())
                    && (prefill.is_none() || m.accepts_prefill)
            };
            if !eligible(i, round) {
                continue;
            }
            if round > 0 {
                // Health may have changed during the first round: a breaker opened since.
                let snap = router.snapshots().borrow().clone();
                if matches!(
                    snap.get(id).state_at(snap.taken_at()),
                    super::HealthState::Open { .. }
                ) {
                    continue;
                }
            }
            // Is there anyone after this endpoint who would really be tried, in this round or
            // the next?
            let others_left = (i + 1..ids.len()).any(|j| eligible(j, round))
                || (round == 0 && rounds > 1 && (0..i).any(|j| eligible(j, 1)));
            if attempts.len() >= opts.max_attempts || started.elapsed() >= opts.deadline {
                break 'rounds;
            }
            // A half-open endpoint gets exactly one probe, and only with a fallback behind it.
            if probe && !router.try_probe(id, others_left).await {
                continue;
            }
            let mut tries = 0u32;
            loop {
                if attempts.len() >= opts.max_attempts || started.elapsed() >= opts.deadline {
                    break 'rounds;
                }
                tries += 1;
                let (answer, outcome, committed, interrupted) = attempt_on(
                    client,
                    router,
                    (id, meta),
                    req,
                    prefill.as_deref(),
                    opts,
                    opts.deadline.saturating_sub(started.elapsed()),
                    others_left,
                    &mut on_event,
                )
                .await;
                attempts.push(Attempt {
                    endpoint: id,
                    provider: meta.provider_name.clone(),
                    model: meta.model.clone(),
                    committed,
                    ttft: answer.timings.ttft,
                    outcome,
                    error: answer.result.clone().err(),
                });
                let Err(err) = &answer.result else {
                    return finish(registry, req, answer, plan, attempts);
                };
                let reason = describe_failure(&meta.provider_name, &outcome, err);
                if outcome == Outcome::ContextLength {
                    // Never repeat on the same model: only a model with a larger context can help.
                    skip_model = Some(meta.model.clone());
                }
                if committed && interrupted && !interrupt_retried {
                    // Our own other request broke it: run it again on the same server, queued
                    // behind that one (never a ping-pong: the server is now one at a time).
                    interrupt_retried = true;
                    on_event(ExecEvent::Restart {
                        chars_cut: answer.text.chars().count(),
                        reason: format!(
                            "{} interrupted it to serve another request",
                            meta.provider_name
                        ),
                    });
                    prefill = None;
                    last = answer;
                    continue;
                }
                if committed {
                    let more = others_left && worth_another_endpoint(&outcome);
                    if opts.mid_stream == MidStream::Surface || !more {
                        return finish(registry, req, answer, plan, attempts);
                    }
                    let can_continue = opts.mid_stream == MidStream::Continue
                        && ids[i + 1..].iter().any(|&(j, _)| {
                            let m = registry.get(j);
                            m.accepts_prefill && skip_model.as_deref() != Some(m.model.as_str())
                        });
                    if can_continue {
                        on_event(ExecEvent::Continue {
                            chars_kept: answer.text.chars().count(),
                            reason,
                        });
                        prefill = Some(answer.text.clone());
                    } else {
                        on_event(ExecEvent::Restart {
                            chars_cut: answer.text.chars().count(),
                            reason,
                        });
                        prefill = None;
                    }
                    last = answer;
                    continue 'endpoints;
                }
                let time_left = opts.deadline.saturating_sub(started.elapsed());
                // A retry never takes the place of an endpoint not yet tried.
                let spare = opts.max_attempts.saturating_sub(attempts.len()) > ids.len() - i - 1;
                let step = match opts.retry.after_failure(
                    &outcome,
                    tries,
                    others_left,
                    time_left,
                    rng.next_f64(),
                ) {
                    // The single probe failed: the breaker re-opens; don't knock again.
                    NextStep::RetrySame(_) if probe || !spare || last_resort[i] => {
                        NextStep::NextEndpoint
                    }
                    // With a key per provider, one provider refusing ours says nothing of the
                    // others'.
                    NextStep::Stop
                        if matches!(outcome, Outcome::Auth { .. })
                            && opts.keys.contains_key(&meta.provider_slug) =>
                    {
                        NextStep::NextEndpoint
                    }
                    step => step,
                };
                match step {
                    NextStep::Stop => return finish(registry, req, answer, plan, attempts),
                    NextStep::NextEndpoint if !others_left => {
                        return finish(registry, req, answer, plan, attempts);
                    }
                    NextStep::NextEndpoint => {
                        again[i] = round == 0
                            && !probe
                            && !last_resort[i]
                            && matches!(
                                outcome,
                                Outcome::ServerError { .. }
                                    | Outcome::RateLimited { .. }
                                    | Outcome::Connect
                                    | Outcome::Cut
                                    | Outcome::Malformed
                            );
                        if let Outcome::RateLimited {
                            retry_after: Some(ra),
                        } = outcome
                        {
                            again_wait = again_wait.max(ra);
                        }
                        on_event(ExecEvent::Failover { reason });
                        last = answer;
                        continue 'endpoints;
                    }
                    NextStep::RetrySame(wait) => {
                        on_event(ExecEvent::Retry { wait, reason });
                        last = answer;
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
    }
    finish(registry, req, last, plan, attempts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::error::ApiError;

    #[test]
    fn sampling_goes_only_to_endpoints_that_list_it() {
        let req = ChatRequest {
            temperature: Some(0.3),
            top_p: Some(0.9),
            max_tokens: Some(50),
            seed: Some(7),
            ..Default::default()
        };
        let mut b = req.clone();
        drop_unlisted_sampling(&mut b, ParamSet::from_names(["max_tokens", "temperature"]));
        assert_eq!(
            (b.temperature, b.top_p, b.max_tokens, b.seed),
            (Some(0.3), None, Some(50), None)
        );
        let mut b = req.clone();
        drop_unlisted_sampling(&mut b, ParamSet::EMPTY);
        assert_eq!(b, req, "an endpoint that lists nothing gets everything");
    }

    #[test]
    fn classification_follows_the_error_table() {
        let api = |status: Option<u16>, t: Option<&str>| {
            ChatError::Api(ApiError {
                status,
                error_type: t.map(str::to_string),
                ..Default::default()
            })
        };
        assert_eq!(classify(&ChatError::Connect("x".into())), Outcome::Connect);
        assert_eq!(classify(&ChatError::Truncated("x".into())), Outcome::Cut);
        assert_eq!(
            classify(&api(Some(401), None)),
            Outcome::Auth { status: 401 }
        );
        assert_eq!(
            classify(&api(Some(400), Some("context_length_exceeded"))),
            Outcome::ContextLength
        );
        assert_eq!(
            classify(&api(Some(403), Some("content_policy_violation"))),
            Outcome::ContentPolicy
        );
        assert!(matches!(
            classify(&api(Some(429), None)),
            Outcome::RateLimited { .. }
        ));
        assert_eq!(
            classify(&api(Some(502), None)),
            Outcome::ServerError { status: 502 }
        );
        assert!(!worth_another_endpoint(&Outcome::Auth { status: 401 }));
        assert!(worth_another_endpoint(&Outcome::ServerError {
            status: 503
        }));
    }

    #[test]
    fn outcomes_are_attributed_to_the_provider_the_response_names() {
        use crate::wire::chunk::ServedBy;
        let req = ChatRequest {
            model: Some("anthropic/claude-sonnet-4.5".into()),
            ..Default::default()
        };
        let mut a = Answer {
            text: "hi".into(),
            served: ServedBy {
                id: None,
                provider: Some("Fjord AI".into()),
                model: Some("anthropic/claude-4.5-sonnet-20250929".into()),
            },
            usage: None,
            timings: Default::default(),
            result: Ok("stop".into()),
        };
        let (p, m, o) = attribute(&req, &a).unwrap();
        assert_eq!(
            (p.as_str(), m.as_str()),
            ("Fjord AI", "anthropic/claude-sonnet-4.5")
        );
        assert!(matches!(o, Outcome::Success(_)));
        // A cut stream counts against the provider that was streaming.
        a.result = Err(ChatError::Truncated("cut".into()));
        assert_eq!(attribute(&req, &a).unwrap().2, Outcome::Cut);
        // The gateway being unreachable is nobody's provider health.
        a.served = Default::default();
        a.result = Err(ChatError::Connect("refused".into()));
        assert_eq!(attribute(&req, &a), None);
        // A pre-stream error names its upstream in the legacy metadata.
        a.result = Err(ChatError::Api(crate::wire::error::ApiError {
            status: Some(429),
            provider_name: Some("Google".into()),
            ..Default::default()
        }));
        let (p, _, o) = attribute(&req, &a).unwrap();
        assert_eq!(p, "Google");
        assert!(matches!(o, Outcome::RateLimited { .. }));
        // With a fallback list, the model that served is the one recorded.
        let req = ChatRequest {
            model: Some("a/one".into()),
            models: Some(vec!["b/two".into()]),
            ..Default::default()
        };
        a.served = ServedBy {
            id: None,
            provider: Some("P".into()),
            model: Some("b/two-2025".into()),
        };
        a.result = Ok("stop".into());
        assert_eq!(attribute(&req, &a).unwrap().1, "b/two");
    }

    #[test]
    fn the_why_view_speaks_in_words_and_marks_the_answer() {
        let api = |status: u16, msg: &str| {
            Some(ChatError::Api(ApiError {
                status: Some(status),
                message: msg.into(),
                ..Default::default()
            }))
        };
        let attempt = |outcome, error| Attempt {
            endpoint: EndpointId(0),
            provider: "Comet Compute".into(),
            model: "m/x".into(),
            committed: false,
            ttft: Some(Duration::from_millis(310)),
            outcome,
            error,
        };
        let attempts = [
            attempt(
                Outcome::ServerError { status: 503 },
                api(503, "down (simulated outage)"),
            ),
            attempt(
                Outcome::RateLimited {
                    retry_after: Some(Duration::from_secs(8)),
                },
                api(429, "slow down"),
            ),
            attempt(Outcome::Success(Sample::default()), None),
        ];
        let lines = explain(&EndpointRegistry::new(), &Err("none".into()), &attempts);
        let all = lines.join("\n");
        assert!(
            all.contains("503 from Comet Compute: down (simulated outage)"),
            "{all}"
        );
        assert!(
            all.contains("429 from Comet Compute, retry after 8 s"),
            "{all}"
        );
        assert!(
            lines[3].starts_with("✓ attempt 3") && lines[3].contains("answered"),
            "{all}"
        );
        assert!(
            lines[1].starts_with("✗") && lines[2].starts_with("✗"),
            "{all}"
        );
        for rust in ["ServerError", "RateLimited", "Some(", "status:"] {
            assert!(!all.contains(rust), "{rust} in {all}");
        }
        // No advice to retry after the router already failed over.
        assert!(!all.contains("pick another model"), "{all}");
    }

    #[test]
    fn the_live_why_view_follows_the_attempts() {
        let mut w = LiveWhy::default();
        assert!(w.on(&ExecEvent::Planned(vec!["candidates".into()])));
        assert!(w.on(&ExecEvent::Attempt {
            endpoint: EndpointId(0),
            provider: "A".into(),
            model: "m".into(),
        }));
        assert_eq!(w.lines()[1], "… attempt 1: A · m running");
        assert!(w.on(&ExecEvent::Failover {
            reason: "503 from A: down".into()
        }));
        assert_eq!(w.lines()[1], "✗ attempt 1: A · m: 503 from A: down");
        assert!(!w.on(&ExecEvent::Events(vec![])));
    }

    #[test]
    fn full_jitter_backoff_stays_under_the_doubling_cap() {
        let p = RetryPolicy::default();
        let mut rng = crate::routing::SplitMix64::new(7);
        for n in 1..=10u32 {
            let ceiling = (p.backoff_base * 2u32.pow(n - 1)).min(p.backoff_cap);
            assert_eq!(p.backoff(n, 0.0), Duration::ZERO);
            assert!(p.backoff(n, 0.999_999) <= ceiling);
            for _ in 0..100 {
                assert!(p.backoff(n, rng.next_f64()) <= ceiling);
            }
        }
        assert_eq!(p.backoff(1, 0.5), Duration::from_millis(250));
        assert_eq!(p.backoff(30, 1.0), p.backoff_cap);
    }

    #[test]
    fn next_step_after_each_kind_of_failure() {
        let p = RetryPolicy::default();
        let long = Duration::from_secs(60);
        let step = |o: Outcome, tries, others| p.after_failure(&o, tries, others, long, 0.5);
        let s502 = Outcome::ServerError { status: 502 };
        // A 5xx: one retry on the same endpoint while others remain, three attempts when alone.
        assert!(matches!(step(s502, 1, true), NextStep::RetrySame(_)));
        assert_eq!(step(s502, 2, true), NextStep::NextEndpoint);
        assert!(matches!(step(s502, 2, false), NextStep::RetrySame(_)));
        assert_eq!(step(s502, 3, false), NextStep::NextEndpoint);
        // A silent route is never re-tried.
        assert_eq!(step(Outcome::Timeout, 1, false), NextStep::NextEndpoint);
        // 429: move on when someone else can answer; else wait what it asked, within the cap.
        let ra = |s| Outcome::RateLimited {
            retry_after: Some(Duration::from_secs(s)),
        };
        assert_eq!(step(ra(2), 1, true), NextStep::NextEndpoint);
        assert_eq!(
            step(ra(2), 1, false),
            NextStep::RetrySame(Duration::from_secs(2))
        );
        assert_eq!(step(ra(11), 1, false), NextStep::NextEndpoint);
        let bare = Outcome::RateLimited { retry_after: None };
        assert_eq!(step(bare, 1, false), NextStep::RetrySame(p.backoff(1, 0.5)));
        // Our key, our request, a refusal: nothing else helps.
        assert_eq!(step(Outcome::Auth { status: 401 }, 1, true), NextStep::Stop);
        assert_eq!(step(Outcome::ContentPolicy, 1, true), NextStep::Stop);
        assert_eq!(
            step(Outcome::BadRequest { status: 422 }, 1, true),
            NextStep::Stop
        );
        assert_eq!(
            step(Outcome::ContextLength, 1, true),
            NextStep::NextEndpoint
        );
        // A wait that would overrun the deadline is not taken.
        assert_eq!(
            p.after_failure(&ra(2), 1, false, Duration::from_secs(1), 0.5),
            NextStep::NextEndpoint
        );
    }
}
