//! Per-endpoint health: outcome classification, rolling windows, instability, rate limits and a
//! circuit breaker, published as a cheap-to-clone [`HealthSnapshot`].
//!
//! Definitions (all configurable through [`HealthConfig`]):
//! - **Outcome classes** follow ROUTING.md §12.3: connect errors, 5xx and endpoint-setup 4xx
//!   (404/405/410/421/423/424/426/498), timeouts, cut/stalled streams and malformed responses
//!   are *failures*; 429 is tracked separately; 401/402/403 (our key or account), 400/413/422
//!   (our request), context-length and content-policy errors, 451 and cancellations are
//!   *neutral* and never count against the endpoint.
//! - **Windows**: the 30-s window is 31 one-second slots, so an event counts for between 30 and
//!   31 s (an outage at now−29 s counts, at now−31 s it does not). The 5-minute counters are 31
//!   ten-second slots. Latency percentiles use a rolling 5-minute window that is exact while
//!   ≤ 128 samples are in the window.
//! - **Unstable** (see [`UnstableRule`]): in the 30-s window, failures ≥ `min_failures`
//!   (default 1) and, once there are ≥ `ratio_min_attempts` (default 10) successes+failures,
//!   failures / (successes+failures) ≥ `min_ratio` (default 0.2). So for a single user one
//!   failure demotes for 30 s, but a busy endpoint with 1 error in 20 stays stable.
//! - **Breaker**: opens after `open_after_consecutive` (default 5) failures in a row. Open time
//!   is `open_base · 2^(n−1)` (30 s, 60 s, 120 s, …) capped at `open_cap` (5 min), times a
//!   jitter factor uniform in `1 ± open_jitter` (±20 %) from a seeded RNG, and never above the
//!   cap. After that it is half-open: [`HealthTracker::try_probe`] admits exactly one request,
//!   and only if the caller has a fallback for it. A success closes it and resets `n`; a failure
//!   re-opens it with `n + 1`. A probe that reports nothing frees its slot after
//!   `probe_timeout`.
//! - **429**: `RateLimited` until `now + min(Retry-After or 5 s, 60 s)`, extended (never
//!   shortened) by later 429s. 429s never feed the latency percentiles, so a fast-failing
//!   endpoint cannot look fast.

use std::sync::Arc;
use std::time::Duration;

use super::endpoint::EndpointId;
use super::window::{CounterRing, Estimate, Rolling};
use super::{Rng, SplitMix64, ms};

pub use super::window::{Counts, HIST_REL_ERROR, RAW_CAP, WINDOW_MS};

/// Latency/throughput measurements of a successful attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Time to the first content token.
    pub ttft: Option<Duration>,
    /// Output tokens / (last token − first token): decode speed.
    pub decode_tokens_per_sec: Option<f64>,
    /// Request start to last byte.
    pub end_to_end: Option<Duration>,
}

/// How one attempt on an endpoint ended.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Complete answer.
    Success(Sample),
    /// 429, with the `Retry-After` it carried.
    RateLimited {
        /// Parsed `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// 5xx, or a 4xx that means the endpoint is misconfigured or gone.
    ServerError {
        /// HTTP status.
        status: u16,
    },
    /// No response or no first token in time (also 408).
    Timeout,
    /// Refused, reset, DNS or TLS failure.
    Connect,
    /// Stream cut or stalled after it started, or ended without a finish.
    Cut,
    /// Unparseable response.
    Malformed,
    /// 401/402/403: our key or account, not the provider's health.
    Auth {
        /// HTTP status.
        status: u16,
    },
    /// 400/413/422 and other request errors.
    BadRequest {
        /// HTTP status.
        status: u16,
    },
    /// The prompt did not fit the context.
    ContextLength,
    /// Moderation or a legal block (451).
    ContentPolicy,
    /// The user cancelled.
    Cancelled,
}

/// How an [`Outcome`] affects health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeClass {
    /// Counts as a success (closes a half-open breaker).
    Success,
    /// Counts against the endpoint.
    Failure,
    /// Tracked on the separate 429 track.
    RateLimited,
    /// Not the endpoint's fault; ignored by health.
    Neutral,
}

impl Outcome {
    /// The health class (ROUTING.md §12.3's error table).
    pub fn class(&self) -> OutcomeClass {
        match self {
            Self::Success(_) => OutcomeClass::Success,
            Self::ServerError { .. }
            | Self::Timeout
            | Self::Connect
            | Self::Cut
            | Self::Malformed => OutcomeClass::Failure,
            Self::RateLimited { .. } => OutcomeClass::RateLimited,
            Self::Auth { .. }
            | Self::BadRequest { .. }
            | Self::ContextLength
            | Self::ContentPolicy
            | Self::Cancelled => OutcomeClass::Neutral,
        }
    }

    /// Classifies an HTTP status received before the stream started.
    pub fn from_status(status: u16, retry_after: Option<Duration>) -> Self {
        match status {
            200..=299 => Self::Success(Sample::default()),
            401..=403 => Self::Auth { status },
            408 => Self::Timeout,
            429 => Self::RateLimited { retry_after },
            451 => Self::ContentPolicy,
            499 => Self::Cancelled,
            404 | 405 | 410 | 421 | 423 | 424 | 426 | 498 | 500..=599 => {
                Self::ServerError { status }
            }
            400..=499 => Self::BadRequest { status },
            _ => Self::Malformed,
        }
    }
}

/// When an endpoint counts as unstable in the 30-s window (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnstableRule {
    /// At least this many failures.
    pub min_failures: u32,
    /// From this many successes+failures on, the ratio must also hold.
    pub ratio_min_attempts: u32,
    /// Failure ratio threshold among successes+failures.
    pub min_ratio: f64,
}

impl Default for UnstableRule {
    fn default() -> Self {
        Self {
            min_failures: 1,
            ratio_min_attempts: 10,
            min_ratio: 0.2,
        }
    }
}

impl UnstableRule {
    /// Whether counts from the 30-s window make an endpoint unstable.
    pub fn holds(&self, c: Counts) -> bool {
        let attempts = c.successes + c.failures;
        c.failures >= self.min_failures.max(1)
            && (attempts < self.ratio_min_attempts
                || f64::from(c.failures) >= self.min_ratio * f64::from(attempts))
    }
}

/// Tunables of health tracking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthConfig {
    /// Definition of "unstable in the last 30 s".
    pub unstable: UnstableRule,
    /// Consecutive failures that open the breaker.
    pub open_after_consecutive: u32,
    /// First open time.
    pub open_base: Duration,
    /// Longest open time.
    pub open_cap: Duration,
    /// Relative jitter of the open time (0.2 = ±20 %).
    pub open_jitter: f64,
    /// Rate-limit time when a 429 has no `Retry-After`.
    pub retry_after_default: Duration,
    /// Longest rate-limit time we honour.
    pub retry_after_cap: Duration,
    /// A half-open probe that never reports frees its slot after this long.
    pub probe_timeout: Duration,
    /// Seed of the jitter RNG.
    pub seed: u64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            unstable: UnstableRule::default(),
            open_after_consecutive: 5,
            open_base: Duration::from_secs(30),
            open_cap: Duration::from_secs(300),
            open_jitter: 0.2,
            retry_after_default: Duration::from_secs(5),
            retry_after_cap: Duration::from_secs(60),
            probe_timeout: Duration::from_secs(60),
            seed: 0x5EED_F00D_5A1E,
        }
    }
}

/// Routing-relevant state of an endpoint at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// No recent trouble.
    Healthy,
    /// Recent failures (30-s rule); demoted until `until` unless more failures arrive.
    Unstable {
        /// When the current window stops satisfying the rule.
        until: Duration,
    },
    /// Honouring a 429.
    RateLimited {
        /// End of the back-off.
        until: Duration,
    },
    /// Breaker open: only a last resort.
    Open {
        /// When it turns half-open.
        until: Duration,
    },
    /// Breaker half-open: one probe may go.
    HalfOpen {
        /// No probe is in flight.
        probe_available: bool,
    },
}

impl HealthState {
    /// Short label for the UI.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unstable { .. } => "unstable",
            Self::RateLimited { .. } => "rate-limited",
            Self::Open { .. } => "open",
            Self::HalfOpen { .. } => "half-open",
        }
    }
}

/// p50/p75/p90/p99 of one metric.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quantiles {
    /// Median.
    pub p50: f32,
    /// 75th percentile.
    pub p75: f32,
    /// 90th percentile.
    pub p90: f32,
    /// 99th percentile.
    pub p99: f32,
}

impl Quantiles {
    /// By index: 0 = p50, 1 = p75, 2 = p90, 3 = p99.
    pub fn get(&self, i: usize) -> f32 {
        [self.p50, self.p75, self.p90, self.p99][i.min(3)]
    }

    fn from_estimate(e: Estimate) -> Self {
        Self {
            p50: e.q[0],
            p75: e.q[1],
            p90: e.q[2],
            p99: e.q[3],
        }
    }
}

/// How many recent values a [`Recent`] keeps.
pub const RECENT: usize = 48;

/// The last [`RECENT`] values of a metric (no time window), for sparklines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recent {
    vals: [f32; RECENT],
    len: u8,
    head: u8,
}

impl Recent {
    /// Nothing recorded.
    pub const EMPTY: Recent = Recent {
        vals: [0.0; RECENT],
        len: 0,
        head: 0,
    };

    /// Appends a value, dropping the oldest when full.
    pub fn push(&mut self, v: f32) {
        self.vals[self.head as usize] = v;
        self.head = ((self.head as usize + 1) % RECENT) as u8;
        self.len = (self.len as usize + 1).min(RECENT) as u8;
    }

    /// The values, oldest first.
    pub fn values(&self) -> Vec<f32> {
        let start = (self.head as usize + RECENT - self.len as usize) % RECENT;
        (0..self.len as usize)
            .map(|i| self.vals[(start + i) % RECENT])
            .collect()
    }
}

impl Default for Recent {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Everything the planner and the UI need about one endpoint, as of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointStats {
    /// State when the snapshot was taken (use [`Self::state_at`] for a later `now`).
    pub state: HealthState,
    /// Breaker tripped: open until then, half-open after.
    pub open_until: Option<Duration>,
    /// A probe is in flight; its slot frees at this time.
    pub probe_busy_until: Option<Duration>,
    /// Honouring a 429 until then.
    pub rate_limited_until: Option<Duration>,
    /// Unstable until then (if no new failures arrive).
    pub unstable_until: Option<Duration>,
    /// Times the breaker opened since it last closed (`n`).
    pub opens: u32,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Counts over the 30-s window.
    pub last_30s: Counts,
    /// Counts over the 5-minute window.
    pub last_5m: Counts,
    /// Time to first token, ms, over 5 minutes.
    pub ttft_ms: Option<Quantiles>,
    /// Samples behind `ttft_ms`.
    pub ttft_n: u32,
    /// Decode tokens/s over 5 minutes.
    pub tokens_per_sec: Option<Quantiles>,
    /// Samples behind `tokens_per_sec`.
    pub tokens_per_sec_n: u32,
    /// End-to-end latency, ms, over 5 minutes.
    pub e2e_ms: Option<Quantiles>,
    /// Samples behind `e2e_ms`.
    pub e2e_n: u32,
    /// Most recent failure or 429, for the UI.
    pub last_error: Option<Outcome>,
    /// The last time-to-first-token samples, ms (sparklines).
    pub recent_ttft_ms: Recent,
    /// The last decode-speed samples, tokens/s (sparklines).
    pub recent_tokens_per_sec: Recent,
}

/// Stats of an endpoint nobody has reported on.
pub static NO_DATA: EndpointStats = EndpointStats {
    state: HealthState::Healthy,
    open_until: None,
    probe_busy_until: None,
    rate_limited_until: None,
    unstable_until: None,
    opens: 0,
    consecutive_failures: 0,
    last_30s: Counts {
        successes: 0,
        failures: 0,
        rate_limited: 0,
    },
    last_5m: Counts {
        successes: 0,
        failures: 0,
        rate_limited: 0,
    },
    ttft_ms: None,
    ttft_n: 0,
    tokens_per_sec: None,
    tokens_per_sec_n: 0,
    e2e_ms: None,
    e2e_n: 0,
    last_error: None,
    recent_ttft_ms: Recent::EMPTY,
    recent_tokens_per_sec: Recent::EMPTY,
};

impl Default for EndpointStats {
    fn default() -> Self {
        NO_DATA.clone()
    }
}

fn ratio(num: u32, den: u32) -> Option<f64> {
    (den > 0).then(|| f64::from(num) / f64::from(den))
}

impl EndpointStats {
    /// The state at `now` (≥ snapshot time): time-based states expire without new data.
    pub fn state_at(&self, now: Duration) -> HealthState {
        if let Some(until) = self.open_until {
            return if now < until {
                HealthState::Open { until }
            } else {
                HealthState::HalfOpen {
                    probe_available: self.probe_busy_until.is_none_or(|t| now >= t),
                }
            };
        }
        if let Some(until) = self.rate_limited_until.filter(|&u| now < u) {
            return HealthState::RateLimited { until };
        }
        if let Some(until) = self.unstable_until.filter(|&u| now < u) {
            return HealthState::Unstable { until };
        }
        HealthState::Healthy
    }

    /// failures / (successes + failures) over 30 s.
    pub fn error_rate_30s(&self) -> Option<f64> {
        let c = self.last_30s;
        ratio(c.failures, c.successes + c.failures)
    }

    /// failures / (successes + failures) over 5 minutes.
    pub fn error_rate_5m(&self) -> Option<f64> {
        let c = self.last_5m;
        ratio(c.failures, c.successes + c.failures)
    }

    /// 429s / all attempts over 30 s.
    pub fn rate_limited_rate_30s(&self) -> Option<f64> {
        let c = self.last_30s;
        ratio(c.rate_limited, c.successes + c.failures + c.rate_limited)
    }

    /// 429s / all attempts over 5 minutes.
    pub fn rate_limited_rate_5m(&self) -> Option<f64> {
        let c = self.last_5m;
        ratio(c.rate_limited, c.successes + c.failures + c.rate_limited)
    }
}

/// Immutable per-endpoint stats; cloning is one `Arc` increment.
#[derive(Debug, Clone)]
pub struct HealthSnapshot {
    taken_at: Duration,
    stats: Arc<[EndpointStats]>,
}

impl Default for HealthSnapshot {
    fn default() -> Self {
        Self::empty()
    }
}

impl HealthSnapshot {
    /// A snapshot where every endpoint has no data (healthy, no stats).
    pub fn empty() -> Self {
        Self {
            taken_at: Duration::ZERO,
            stats: Arc::from(Vec::new()),
        }
    }

    /// A snapshot from explicit stats, indexed by [`EndpointId`] (tests, priors, replays).
    pub fn from_stats(taken_at: Duration, stats: Vec<EndpointStats>) -> Self {
        Self {
            taken_at,
            stats: stats.into(),
        }
    }

    /// When it was taken.
    pub fn taken_at(&self) -> Duration {
        self.taken_at
    }

    /// Stats of `id`; endpoints newer than the snapshot get [`NO_DATA`].
    pub fn get(&self, id: EndpointId) -> &EndpointStats {
        self.stats.get(id.index()).unwrap_or(&NO_DATA)
    }

    /// All stats, indexed by id.
    pub fn all(&self) -> &[EndpointStats] {
        &self.stats
    }
}

#[derive(Debug, Clone)]
struct EndpointHealth {
    w30: CounterRing<31>,
    w5m: CounterRing<31>,
    ttft: Rolling,
    tps: Rolling,
    e2e: Rolling,
    consecutive_failures: u32,
    opens: u32,
    open_until: Option<Duration>,
    probe_since: Option<Duration>,
    rate_limited_until: Option<Duration>,
    last_error: Option<Outcome>,
    recent_ttft: Recent,
    recent_tps: Recent,
}

impl EndpointHealth {
    fn new() -> Self {
        Self {
            w30: CounterRing::new(1_000),
            w5m: CounterRing::new(10_000),
            ttft: Rolling::default(),
            tps: Rolling::default(),
            e2e: Rolling::default(),
            consecutive_failures: 0,
            opens: 0,
            open_until: None,
            probe_since: None,
            rate_limited_until: None,
            last_error: None,
            recent_ttft: Recent::EMPTY,
            recent_tps: Recent::EMPTY,
        }
    }

    /// The earliest time the 30-s window stops satisfying `rule`, if it does now.
    fn unstable_until(&self, rule: &UnstableRule, now: Duration) -> Option<Duration> {
        let slot = self.w30.slot_ms();
        let e_now = ms(now) / slot;
        if !rule.holds(self.w30.sum_at_epoch(e_now)) {
            return None;
        }
        let k = (1..=31)
            .find(|k| !rule.holds(self.w30.sum_at_epoch(e_now + k)))
            .unwrap_or(31);
        Some(Duration::from_millis((e_now + k) * slot))
    }
}

/// An endpoint's breaker and rate-limit state, relative to some `now`, as saved between runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BreakerState {
    /// Times the breaker has opened in a row (drives the doubling).
    pub opens: u32,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Time until the open breaker turns half-open (zero: half-open now); `None`: closed.
    pub open_for: Option<Duration>,
    /// Time left honouring a 429.
    pub rate_limited_for: Option<Duration>,
    /// The last failure.
    pub last_error: Option<Outcome>,
}

/// Owns the health of every endpoint; the routing actor is its only writer.
#[derive(Debug, Clone)]
pub struct HealthTracker {
    cfg: HealthConfig,
    eps: Vec<EndpointHealth>,
    rng: SplitMix64,
}

impl HealthTracker {
    /// A tracker with no data.
    pub fn new(cfg: HealthConfig) -> Self {
        Self {
            rng: SplitMix64::new(cfg.seed),
            cfg,
            eps: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HealthConfig {
        &self.cfg
    }

    fn slot(&mut self, id: EndpointId) -> &mut EndpointHealth {
        let i = id.index();
        if i >= self.eps.len() {
            self.eps.resize_with(i + 1, EndpointHealth::new);
        }
        &mut self.eps[i]
    }

    /// Records the outcome of one attempt that ended at `now`.
    pub fn record(&mut self, id: EndpointId, now: Duration, outcome: &Outcome) {
        let cfg = self.cfg;
        let t = ms(now);
        // Draw only when a failure could trip the breaker, so the jitter sequence depends on
        // failures alone.
        let jitter_u = if outcome.class() == OutcomeClass::Failure {
            self.rng.next_f64()
        } else {
            0.5
        };
        let h = self.slot(id);
        // Any report from the endpoint frees the probe slot, whatever the attempt was.
        h.probe_since = None;
        match outcome.class() {
            OutcomeClass::Success => {
                h.w30.record(t, |c| c.successes += 1);
                h.w5m.record(t, |c| c.successes += 1);
                h.consecutive_failures = 0;
                // A success closes a half-open breaker; while still open it is an old request.
                if h.open_until.is_some_and(|u| now >= u) {
                    h.open_until = None;
                    h.opens = 0;
                }
                if let Outcome::Success(s) = outcome {
                    if let Some(d) = s.ttft {
                        let v = (d.as_secs_f64() * 1000.0) as f32;
                        h.ttft.record(t, v);
                        h.recent_ttft.push(v);
                    }
                    if let Some(v) = s.decode_tokens_per_sec
                        && v.is_finite()
                    {
                        h.tps.record(t, v as f32);
                        h.recent_tps.push(v as f32);
                    }
                    if let Some(d) = s.end_to_end {
                        h.e2e.record(t, (d.as_secs_f64() * 1000.0) as f32);
                    }
                }
            }
            OutcomeClass::Failure => {
                h.w30.record(t, |c| c.failures += 1);
                h.w5m.record(t, |c| c.failures += 1);
                h.consecutive_failures = h.consecutive_failures.saturating_add(1);
                h.last_error = Some(*outcome);
                let trip = match h.open_until {
                    Some(u) => now >= u, // a failure while half-open re-opens
                    None => h.consecutive_failures >= cfg.open_after_consecutive.max(1),
                };
                if trip {
                    h.opens = h.opens.saturating_add(1);
                    h.open_until = Some(now + open_time(&cfg, h.opens, jitter_u));
                }
            }
            OutcomeClass::RateLimited => {
                h.w30.record(t, |c| c.rate_limited += 1);
                h.w5m.record(t, |c| c.rate_limited += 1);
                h.last_error = Some(*outcome);
                let ra = match outcome {
                    Outcome::RateLimited {
                        retry_after: Some(d),
                    } => *d,
                    _ => cfg.retry_after_default,
                };
                let until = now + ra.min(cfg.retry_after_cap);
                h.rate_limited_until = Some(h.rate_limited_until.map_or(until, |u| u.max(until)));
            }
            OutcomeClass::Neutral => {}
        }
    }

    /// Admits the single half-open probe: true only if `id` is half-open, no probe is in
    /// flight, and the caller has a fallback to catch a failure. The caller must then
    /// [`record`](Self::record) the probe's outcome.
    pub fn try_probe(&mut self, id: EndpointId, now: Duration, has_fallback: bool) -> bool {
        if !has_fallback {
            return false;
        }
        let timeout = self.cfg.probe_timeout;
        let h = self.slot(id);
        let half_open = h.open_until.is_some_and(|u| now >= u);
        let free = h.probe_since.is_none_or(|s| now >= s + timeout);
        if half_open && free {
            h.probe_since = Some(now);
            true
        } else {
            false
        }
    }

    /// The breaker and rate-limit state of one endpoint, with times relative to `now`.
    pub fn breaker(&self, id: EndpointId, now: Duration) -> BreakerState {
        let Some(h) = self.eps.get(id.index()) else {
            return BreakerState::default();
        };
        BreakerState {
            opens: h.opens,
            consecutive_failures: h.consecutive_failures,
            open_for: h.open_until.map(|u| u.saturating_sub(now)),
            rate_limited_for: h.rate_limited_until.filter(|&u| u > now).map(|u| u - now),
            last_error: h.last_error,
        }
    }

    /// Puts back a breaker saved by [`breaker`](Self::breaker) (times relative to `now`).
    pub fn restore_breaker(&mut self, id: EndpointId, now: Duration, b: &BreakerState) {
        // Saved times come from a file: never longer than this config allows.
        let (open_cap, ra_cap) = (self.cfg.open_cap, self.cfg.retry_after_cap);
        let h = self.slot(id);
        h.opens = b.opens;
        h.consecutive_failures = b.consecutive_failures;
        h.open_until = b.open_for.map(|d| now + d.min(open_cap));
        h.rate_limited_until = b.rate_limited_for.map(|d| now + d.min(ra_cap));
        h.last_error = b.last_error;
        h.probe_since = None;
    }

    /// Current stats of one endpoint.
    pub fn stats(&self, id: EndpointId, now: Duration) -> EndpointStats {
        let Some(h) = self.eps.get(id.index()) else {
            return EndpointStats::default();
        };
        let t = ms(now);
        let (ttft, ttft_n) = split(h.ttft.estimate(t));
        let (tps, tps_n) = split(h.tps.estimate(t));
        let (e2e, e2e_n) = split(h.e2e.estimate(t));
        let mut s = EndpointStats {
            state: HealthState::Healthy,
            open_until: h.open_until,
            probe_busy_until: h.probe_since.map(|p| p + self.cfg.probe_timeout),
            rate_limited_until: h.rate_limited_until.filter(|&u| now < u),
            unstable_until: h.unstable_until(&self.cfg.unstable, now),
            opens: h.opens,
            consecutive_failures: h.consecutive_failures,
            last_30s: h.w30.sum(t),
            last_5m: h.w5m.sum(t),
            ttft_ms: ttft,
            ttft_n,
            tokens_per_sec: tps,
            tokens_per_sec_n: tps_n,
            e2e_ms: e2e,
            e2e_n,
            last_error: h.last_error,
            recent_ttft_ms: h.recent_ttft,
            recent_tokens_per_sec: h.recent_tps,
        };
        s.state = s.state_at(now);
        s
    }

    /// State of one endpoint at `now`.
    pub fn state(&self, id: EndpointId, now: Duration) -> HealthState {
        self.stats(id, now).state
    }

    /// Stats of the first `n` endpoints (the registry's size) for the planner and the UI.
    pub fn snapshot(&self, n: usize, now: Duration) -> HealthSnapshot {
        let stats: Vec<EndpointStats> = (0..n)
            .map(|i| self.stats(EndpointId(i as u32), now))
            .collect();
        HealthSnapshot::from_stats(now, stats)
    }
}

fn split(e: Option<Estimate>) -> (Option<Quantiles>, u32) {
    e.map_or((None, 0), |e| (Some(Quantiles::from_estimate(e)), e.n))
}

/// `base · 2^(n−1)` capped, times a jitter factor in `1 ± jitter`, never above the cap.
fn open_time(cfg: &HealthConfig, n: u32, u: f64) -> Duration {
    let exp = n.saturating_sub(1).min(30);
    let nominal = cfg.open_base.saturating_mul(1 << exp).min(cfg.open_cap);
    let j = cfg.open_jitter.clamp(0.0, 1.0);
    nominal.mul_f64(1.0 + j * (2.0 * u - 1.0)).min(cfg.open_cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keeps_the_last_values_oldest_first() {
        let mut r = Recent::EMPTY;
        assert!(r.values().is_empty());
        for i in 0..(RECENT as u32 + 5) {
            r.push(i as f32);
        }
        let v = r.values();
        assert_eq!(v.len(), RECENT);
        assert_eq!(v[0], 5.0);
        assert_eq!(*v.last().unwrap(), (RECENT + 4) as f32);
    }

    const A: EndpointId = EndpointId(0);

    fn s(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    fn ok(ttft_ms: u64) -> Outcome {
        Outcome::Success(Sample {
            ttft: Some(Duration::from_millis(ttft_ms)),
            decode_tokens_per_sec: Some(100.0),
            end_to_end: Some(Duration::from_millis(ttft_ms * 3)),
        })
    }

    #[test]
    fn status_classification_follows_the_error_table() {
        use OutcomeClass::*;
        let c = |st| Outcome::from_status(st, None).class();
        for st in [500, 502, 503, 504, 404, 410, 421, 498] {
            assert_eq!(c(st), Failure, "{st}");
        }
        assert_eq!(c(408), Failure);
        for st in [400, 401, 402, 403, 413, 422, 451, 499] {
            assert_eq!(c(st), Neutral, "{st}");
        }
        assert_eq!(c(429), RateLimited);
        assert_eq!(c(200), Success);
        assert_eq!(Outcome::ContextLength.class(), Neutral);
        assert_eq!(Outcome::ContentPolicy.class(), Neutral);
        assert_eq!(Outcome::Cut.class(), Failure);
    }

    #[test]
    fn neutral_outcomes_do_not_hurt() {
        let mut h = HealthTracker::new(HealthConfig::default());
        for st in [401, 402, 403, 400, 422] {
            for _ in 0..10 {
                h.record(A, s(1.0), &Outcome::from_status(st, None));
            }
        }
        h.record(A, s(1.0), &Outcome::ContextLength);
        let st = h.stats(A, s(2.0));
        assert_eq!(st.state, HealthState::Healthy);
        assert_eq!(st.last_30s, Counts::default());
        assert_eq!(st.consecutive_failures, 0);
    }

    #[test]
    fn thirty_second_window_boundaries() {
        let mut h = HealthTracker::new(HealthConfig::default());
        let t = 100.0;
        h.record(A, s(t), &Outcome::Connect);
        assert!(matches!(h.state(A, s(t)), HealthState::Unstable { .. }));
        // 29 s later it still counts; 31 s later it does not.
        assert!(matches!(
            h.state(A, s(t + 29.0)),
            HealthState::Unstable { .. }
        ));
        assert!(matches!(
            h.state(A, s(t + 29.999)),
            HealthState::Unstable { .. }
        ));
        assert_eq!(h.state(A, s(t + 31.0)), HealthState::Healthy);
        // The snapshot's `until` agrees with the tracker's own evaluation.
        let snap = h.stats(A, s(t + 1.0));
        let until = snap.unstable_until.unwrap();
        assert!(until >= s(t + 30.0) && until <= s(t + 31.0), "{until:?}");
        assert!(matches!(
            snap.state_at(until - s(0.001)),
            HealthState::Unstable { .. }
        ));
        assert_eq!(snap.state_at(until), HealthState::Healthy);
    }

    #[test]
    fn unstable_rule_uses_ratio_when_busy() {
        let rule = UnstableRule::default();
        let c = |s, f| Counts {
            successes: s,
            failures: f,
            rate_limited: 0,
        };
        assert!(!rule.holds(c(5, 0)));
        assert!(rule.holds(c(0, 1)));
        assert!(rule.holds(c(8, 1)), "few attempts: one failure is enough");
        assert!(!rule.holds(c(19, 1)), "busy and 5 % errors: stable");
        assert!(rule.holds(c(16, 4)), "20 % errors: unstable");
        // 429s are not failures.
        assert!(!rule.holds(Counts {
            rate_limited: 9,
            ..c(0, 0)
        }));
    }

    #[test]
    fn breaker_opens_doubles_caps_and_probes_once() {
        let cfg = HealthConfig::default();
        let mut h = HealthTracker::new(cfg);
        let mut now = s(10.0);
        for _ in 0..4 {
            h.record(A, now, &Outcome::ServerError { status: 503 });
        }
        assert!(matches!(h.state(A, now), HealthState::Unstable { .. }));
        h.record(A, now, &Outcome::ServerError { status: 503 });
        let mut expected = 30.0f64;
        for n in 1..=6 {
            let HealthState::Open { until } = h.state(A, now) else {
                panic!("not open at n={n}");
            };
            let d = (until - now).as_secs_f64();
            let nominal = expected.min(300.0);
            assert!(
                d >= nominal * 0.8 - 1e-6 && d <= (nominal * 1.2).min(300.0) + 1e-6,
                "n={n} d={d}"
            );
            assert_eq!(h.stats(A, now).opens, n);
            assert!(!h.try_probe(A, now, true), "no probe while open");
            now = until;
            assert_eq!(
                h.state(A, now),
                HealthState::HalfOpen {
                    probe_available: true
                }
            );
            assert!(!h.try_probe(A, now, false), "no probe without a fallback");
            assert!(h.try_probe(A, now, true));
            assert!(!h.try_probe(A, now, true), "exactly one probe");
            assert_eq!(
                h.state(A, now),
                HealthState::HalfOpen {
                    probe_available: false
                }
            );
            h.record(A, now, &Outcome::Timeout); // probe fails → re-open, doubled
            expected *= 2.0;
        }
        // Now a successful probe closes and resets.
        let HealthState::Open { until } = h.state(A, now) else {
            panic!()
        };
        now = until;
        assert!(h.try_probe(A, now, true));
        h.record(A, now, &ok(100));
        let st = h.stats(A, now);
        assert_eq!(st.opens, 0);
        assert_eq!(st.open_until, None);
        assert_eq!(
            st.state,
            HealthState::Healthy,
            "the last failure left the 30-s window long ago"
        );
    }

    #[test]
    fn stuck_probe_frees_after_timeout() {
        let cfg = HealthConfig::default();
        let mut h = HealthTracker::new(cfg);
        for _ in 0..5 {
            h.record(A, s(0.0), &Outcome::Connect);
        }
        let HealthState::Open { until } = h.state(A, s(0.0)) else {
            panic!()
        };
        assert!(h.try_probe(A, until, true));
        assert!(!h.try_probe(A, until + cfg.probe_timeout - s(0.001), true));
        assert!(h.try_probe(A, until + cfg.probe_timeout, true));
    }

    #[test]
    fn open_time_jitter_is_bounded_and_seeded() {
        let cfg = HealthConfig::default();
        for (n, nominal) in [(1, 30.0), (2, 60.0), (4, 240.0), (5, 300.0), (40, 300.0)] {
            assert_eq!(open_time(&cfg, n, 0.5).as_secs_f64(), nominal);
            let lo = open_time(&cfg, n, 0.0).as_secs_f64();
            let hi = open_time(&cfg, n, 0.999_999).as_secs_f64();
            assert!((lo - nominal * 0.8).abs() < 1e-3, "{n} {lo}");
            assert!(hi <= 300.0 && hi >= nominal.min(250.0), "{n} {hi}");
        }
        let run = |seed| {
            let mut h = HealthTracker::new(HealthConfig { seed, ..cfg });
            for _ in 0..5 {
                h.record(A, s(0.0), &Outcome::Connect);
            }
            h.stats(A, s(0.0)).open_until
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn rate_limits_extend_and_never_feed_latency() {
        let mut h = HealthTracker::new(HealthConfig::default());
        h.record(A, s(0.0), &ok(2000));
        h.record(A, s(0.0), &ok(2000));
        let before = h.stats(A, s(1.0));
        for _ in 0..50 {
            h.record(
                A,
                s(1.0),
                &Outcome::RateLimited {
                    retry_after: Some(s(20.0)),
                },
            );
        }
        h.record(
            A,
            s(2.0),
            &Outcome::RateLimited {
                retry_after: Some(s(1.0)),
            },
        );
        let after = h.stats(A, s(2.0));
        assert_eq!(before.ttft_ms, after.ttft_ms);
        assert_eq!(after.ttft_n, 2);
        assert_eq!(
            after.state,
            HealthState::RateLimited { until: s(21.0) },
            "a shorter 429 never shortens"
        );
        assert_eq!(after.consecutive_failures, 0);
        assert!(after.rate_limited_rate_30s().unwrap() > 0.9);
        // Retry-After is capped.
        h.record(
            A,
            s(3.0),
            &Outcome::RateLimited {
                retry_after: Some(s(3600.0)),
            },
        );
        assert_eq!(h.stats(A, s(3.0)).rate_limited_until, Some(s(63.0)));
        assert_eq!(h.state(A, s(63.0)), HealthState::Healthy);
    }

    #[test]
    fn stats_track_rates_and_percentiles() {
        let mut h = HealthTracker::new(HealthConfig::default());
        for i in 0..10 {
            h.record(A, s(i as f64), &ok(100 * (i + 1)));
        }
        h.record(A, s(10.0), &Outcome::Cut);
        let st = h.stats(A, s(10.0));
        assert_eq!(st.ttft_n, 10);
        assert_eq!(st.ttft_ms.unwrap().p50, 500.0);
        assert_eq!(st.ttft_ms.unwrap().p90, 900.0);
        assert_eq!(st.e2e_ms.unwrap().p99, 3000.0);
        assert_eq!(st.tokens_per_sec.unwrap().p50, 100.0);
        assert!((st.error_rate_30s().unwrap() - 1.0 / 11.0).abs() < 1e-9);
        assert_eq!(st.last_error, Some(Outcome::Cut));
        // Five minutes later only the failure's 5-min counter has gone too.
        let later = h.stats(A, s(10.0 + 320.0));
        assert_eq!(later.ttft_ms, None);
        assert_eq!(later.error_rate_5m(), None);
        let snap = h.snapshot(3, s(10.0));
        assert_eq!(snap.all().len(), 3);
        assert_eq!(snap.get(EndpointId(2)), &NO_DATA);
        assert_eq!(snap.get(EndpointId(99)), &NO_DATA);
        assert_eq!(snap.get(A).ttft_n, 10);
    }
}
