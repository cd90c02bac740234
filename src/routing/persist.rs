//! Health that survives between runs, the pure part: what is saved, the bounded log of recent
//! outcomes it is made from, and how it is replayed into a fresh tracker. The actor owns both
//! ends; `crate::health_store` reads and writes the file.
//!
//! Saved: every outcome of the last five minutes (with its age) and each breaker as times
//! *remaining*, so a breaker opened by one `switchyard ask` is still open for the next, and
//! percentiles and the 30-s rule see the same samples they saw before. Endpoints are matched by
//! provider slug and model, never by base URL (the simulated fleet picks a new port each run).

use super::health::{BreakerState, HealthTracker, Outcome, WINDOW_MS};
use super::{EndpointId, EndpointRegistry};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

/// Version written to and required from the file.
pub const FORMAT_VERSION: u32 = 1;

/// The rolling window replayed on start: older outcomes no longer count.
pub const HISTORY: Duration = Duration::from_millis(WINDOW_MS);

/// Most outcomes kept for saving (the oldest go first).
pub const LOG_CAP: usize = 20_000;

/// Everything saved between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedHealth {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// When it was saved, in milliseconds since the Unix epoch.
    pub saved_at_unix_ms: u64,
    /// Endpoints that had anything to remember.
    pub endpoints: Vec<SavedEndpoint>,
    /// Which server wrote it, for a single OpenAI-compatible server (a digest of the models it
    /// listed): another server answering at the same URL later does not inherit its health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// One endpoint's saved health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedEndpoint {
    /// Provider slug.
    pub provider: String,
    /// Provider display name (older files may lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    /// Model id.
    pub model: String,
    /// Breaker and rate limit, times relative to the save.
    pub breaker: BreakerState,
    /// Outcomes of the last window, oldest first.
    pub events: Vec<SavedEvent>,
}

/// One outcome and how long before the save it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedEvent {
    /// Milliseconds before the save.
    pub age_ms: u64,
    /// How the attempt ended.
    pub outcome: Outcome,
}

/// The outcomes of the last [`HISTORY`], oldest first, bounded by [`LOG_CAP`].
#[derive(Debug, Clone, Default)]
pub struct OutcomeLog {
    entries: VecDeque<(Duration, EndpointId, Outcome)>,
}

impl OutcomeLog {
    /// Appends an outcome recorded at `now` and forgets what fell out of the window.
    pub fn push(&mut self, now: Duration, id: EndpointId, outcome: Outcome) {
        while self
            .entries
            .front()
            .is_some_and(|&(t, _, _)| t + HISTORY <= now)
        {
            self.entries.pop_front();
        }
        if self.entries.len() >= LOG_CAP {
            self.entries.pop_front();
        }
        self.entries.push_back((now, id, outcome));
    }

    /// Outcomes held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What to save at `now` (tracker time), stamped `wall_ms` (Unix milliseconds).
    pub fn export(
        &self,
        tracker: &HealthTracker,
        registry: &EndpointRegistry,
        now: Duration,
        wall_ms: u64,
    ) -> SavedHealth {
        // One pass over the log (it can hold 20 000 outcomes; this runs inside the actor).
        let mut by_endpoint = vec![Vec::new(); registry.len()];
        for &(t, id, outcome) in &self.entries {
            if t + HISTORY > now
                && let Some(list) = by_endpoint.get_mut(id.index())
            {
                list.push(SavedEvent {
                    age_ms: now.saturating_sub(t).as_millis() as u64,
                    outcome,
                });
            }
        }
        let mut endpoints = Vec::new();
        for ((id, meta), events) in registry.iter().zip(by_endpoint) {
            let breaker = tracker.breaker(id, now);
            if events.is_empty() && breaker == BreakerState::default() {
                continue;
            }
            endpoints.push(SavedEndpoint {
                provider: meta.provider_slug.clone(),
                provider_name: Some(meta.provider_name.clone()),
                model: meta.model.clone(),
                breaker,
                events,
            });
        }
        SavedHealth {
            server: None,
            version: FORMAT_VERSION,
            saved_at_unix_ms: wall_ms,
            endpoints,
        }
    }
}

/// Longest time to first token or answer believed from a file (longer is damage, not data).
const MAX_SAVED_TIME: Duration = Duration::from_secs(3600);
/// Highest decode speed believed from a file, tokens/s.
const MAX_SAVED_TPS: f64 = 1_000_000.0;

/// A saved outcome with impossible figures dropped: a damaged file must not show a time to
/// first token of 10¹⁹ ms or an infinite speed.
fn sane(o: Outcome) -> Outcome {
    match o {
        Outcome::Success(mut s) => {
            let time = |d: Option<Duration>| d.filter(|d| *d <= MAX_SAVED_TIME);
            s.ttft = time(s.ttft);
            s.end_to_end = time(s.end_to_end);
            s.decode_tokens_per_sec = s
                .decode_tokens_per_sec
                .filter(|v| v.is_finite() && (0.0..=MAX_SAVED_TPS).contains(v));
            Outcome::Success(s)
        }
        Outcome::RateLimited { retry_after } => Outcome::RateLimited {
            retry_after: retry_after.filter(|d| *d <= MAX_SAVED_TIME),
        },
        other => other,
    }
}

/// Replays `saved` into a fresh `tracker` and `log` at tracker time `now` (which must be at
/// least [`HISTORY`] so past outcomes have a place), `wall_now_ms` being the wall clock now.
/// Returns how many endpoints were restored; unknown endpoints are skipped, or added to the
/// registry when `learn` (an observer learns endpoints from what it saw).
pub fn restore(
    saved: &SavedHealth,
    registry: &mut EndpointRegistry,
    learn: bool,
    tracker: &mut HealthTracker,
    log: &mut OutcomeLog,
    now: Duration,
    wall_now_ms: u64,
) -> usize {
    // A clock that went backwards counts as no time passed.
    let since_save = Duration::from_millis(wall_now_ms.saturating_sub(saved.saved_at_unix_ms));
    let mut matched = Vec::new();
    let mut events = Vec::new();
    for ep in &saved.endpoints {
        let id = match registry.find(&ep.provider, &ep.model) {
            Some(id) => id,
            None if learn => {
                let mut m = super::EndpointMeta::new(ep.provider.clone(), ep.model.clone());
                m.provider_name = ep
                    .provider_name
                    .clone()
                    .unwrap_or_else(|| ep.provider.clone());
                registry.push(m)
            }
            None => continue,
        };
        for ev in &ep.events {
            let age = Duration::from_millis(ev.age_ms).saturating_add(since_save);
            if age < HISTORY && age <= now {
                events.push((now - age, id, sane(ev.outcome)));
            }
        }
        matched.push((id, ep.breaker));
    }
    // In time order, so the breaker and the windows see what they saw.
    events.sort_by_key(|&(t, _, _)| t);
    for (t, id, outcome) in events {
        tracker.record(id, t, &outcome);
        log.push(t, id, outcome);
    }
    for (id, b) in &matched {
        let b = BreakerState {
            open_for: b.open_for.map(|d| d.saturating_sub(since_save)),
            rate_limited_for: b
                .rate_limited_for
                .and_then(|d| d.checked_sub(since_save))
                .filter(|d| !d.is_zero()),
            ..*b
        };
        tracker.restore_breaker(*id, now, &b);
    }
    matched.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{EndpointMeta, HealthConfig, HealthState, Sample};

    fn registry() -> EndpointRegistry {
        EndpointRegistry::from_endpoints([
            EndpointMeta::new("a", "m/x").with_prices(1.0, 1.0),
            EndpointMeta::new("b", "m/x").with_prices(2.0, 2.0),
        ])
    }

    fn ok(ms: u64) -> Outcome {
        Outcome::Success(Sample {
            ttft: Some(Duration::from_millis(ms)),
            decode_tokens_per_sec: Some(50.0),
            end_to_end: Some(Duration::from_millis(ms * 10)),
        })
    }

    #[test]
    fn an_open_breaker_and_recent_samples_survive_a_save_and_a_restart() {
        let reg = registry();
        let cfg = HealthConfig::default();
        let mut t = HealthTracker::new(cfg);
        let mut log = OutcomeLog::default();
        let base = HISTORY + Duration::from_secs(1);
        for i in 0..10u64 {
            let now = base + Duration::from_secs(i);
            t.record(EndpointId(1), now, &ok(200 + i * 10));
            log.push(now, EndpointId(1), ok(200 + i * 10));
        }
        for i in 0..5u64 {
            let now = base + Duration::from_secs(10 + i);
            let o = Outcome::ServerError { status: 503 };
            t.record(EndpointId(0), now, &o);
            log.push(now, EndpointId(0), o);
        }
        let save_at = base + Duration::from_secs(15);
        assert!(matches!(
            t.state(EndpointId(0), save_at),
            HealthState::Open { .. }
        ));
        let saved = log.export(&t, &reg, save_at, 1_000_000);
        // Through JSON, as on disk.
        let json = serde_json::to_string(&saved).unwrap();
        let saved: SavedHealth = serde_json::from_str(&json).unwrap();

        // A new process, 2 s later on the wall clock, with its own time origin.
        let mut t2 = HealthTracker::new(cfg);
        let mut log2 = OutcomeLog::default();
        let now2 = HISTORY + Duration::from_millis(500);
        assert_eq!(
            restore(
                &saved,
                &mut reg.clone(),
                false,
                &mut t2,
                &mut log2,
                now2,
                1_002_000
            ),
            2
        );
        let before = t.breaker(EndpointId(0), save_at);
        let after = t2.breaker(EndpointId(0), now2);
        assert_eq!(after.opens, before.opens);
        assert_eq!(
            after.open_for,
            before.open_for.map(|d| d - Duration::from_secs(2))
        );
        assert!(matches!(
            t2.state(EndpointId(0), now2),
            HealthState::Open { .. }
        ));
        let (s1, s2) = (
            t.stats(EndpointId(1), save_at),
            t2.stats(EndpointId(1), now2),
        );
        assert_eq!(s2.ttft_n, 10);
        assert_eq!(s2.ttft_ms, s1.ttft_ms);
        assert_eq!(log2.len(), 15);
    }

    #[test]
    fn outcomes_older_than_the_window_are_not_replayed_and_unknown_endpoints_are_skipped() {
        let reg = registry();
        let saved = SavedHealth {
            server: None,
            version: FORMAT_VERSION,
            saved_at_unix_ms: 0,
            endpoints: vec![
                SavedEndpoint {
                    provider: "a".into(),
                    provider_name: None,
                    model: "m/x".into(),
                    breaker: BreakerState::default(),
                    events: vec![
                        SavedEvent {
                            age_ms: 10_000,
                            outcome: ok(100),
                        },
                        SavedEvent {
                            age_ms: 1_000,
                            outcome: ok(100),
                        },
                    ],
                },
                SavedEndpoint {
                    provider: "gone".into(),
                    provider_name: None,
                    model: "m/x".into(),
                    breaker: BreakerState::default(),
                    events: vec![],
                },
            ],
        };
        let mut t = HealthTracker::new(HealthConfig::default());
        let mut log = OutcomeLog::default();
        // Restored 295 s after the save: only the younger outcome is inside the window.
        let n = restore(
            &saved,
            &mut reg.clone(),
            false,
            &mut t,
            &mut log,
            HISTORY,
            295_000,
        );
        assert_eq!(n, 1);
        assert_eq!(t.stats(EndpointId(0), HISTORY).ttft_n, 1);
        // An observer learns the endpoint it had seen before.
        let mut learned = reg.clone();
        let mut t = HealthTracker::new(HealthConfig::default());
        let n = restore(
            &saved,
            &mut learned,
            true,
            &mut t,
            &mut OutcomeLog::default(),
            HISTORY,
            295_000,
        );
        assert_eq!(n, 2);
        assert_eq!(learned.len(), 3);
        assert!(learned.find("gone", "m/x").is_some());
    }

    #[test]
    fn impossible_saved_figures_are_dropped_not_shown() {
        let mut saved = SavedHealth {
            server: None,
            version: FORMAT_VERSION,
            saved_at_unix_ms: 0,
            endpoints: vec![SavedEndpoint {
                provider: "a".into(),
                provider_name: None,
                model: "m/x".into(),
                breaker: BreakerState::default(),
                events: vec![SavedEvent {
                    age_ms: 1_000,
                    outcome: Outcome::Success(Sample {
                        ttft: Some(Duration::from_millis(u64::MAX)),
                        decode_tokens_per_sec: Some(f64::INFINITY),
                        end_to_end: Some(Duration::from_secs(u64::MAX / 2)),
                    }),
                }],
            }],
        };
        let mut t = HealthTracker::new(HealthConfig::default());
        restore(
            &saved,
            &mut registry(),
            false,
            &mut t,
            &mut OutcomeLog::default(),
            HISTORY,
            1_000,
        );
        let st = t.stats(EndpointId(0), HISTORY);
        assert_eq!(st.ttft_n, 0, "no time to first token believed");
        assert_eq!(st.tokens_per_sec_n, 0);
        assert_eq!(st.last_5m.successes, 1, "the success itself still counts");
        // A sane sample passes untouched.
        saved.endpoints[0].events[0].outcome = ok(250);
        let mut t = HealthTracker::new(HealthConfig::default());
        restore(
            &saved,
            &mut registry(),
            false,
            &mut t,
            &mut OutcomeLog::default(),
            HISTORY,
            1_000,
        );
        assert_eq!(t.stats(EndpointId(0), HISTORY).ttft_n, 1);
    }

    #[test]
    fn absurd_saved_times_are_capped_not_fatal() {
        let reg = registry();
        let saved = SavedHealth {
            server: None,
            version: FORMAT_VERSION,
            saved_at_unix_ms: 0,
            endpoints: vec![SavedEndpoint {
                provider: "a".into(),
                provider_name: None,
                model: "m/x".into(),
                breaker: BreakerState {
                    opens: 3,
                    open_for: Some(Duration::MAX),
                    rate_limited_for: Some(Duration::MAX),
                    ..BreakerState::default()
                },
                events: vec![SavedEvent {
                    age_ms: u64::MAX,
                    outcome: ok(1),
                }],
            }],
        };
        let cfg = HealthConfig::default();
        let mut t = HealthTracker::new(cfg);
        restore(
            &saved,
            &mut reg.clone(),
            false,
            &mut t,
            &mut OutcomeLog::default(),
            HISTORY,
            0,
        );
        let b = t.breaker(EndpointId(0), HISTORY);
        assert_eq!(b.open_for, Some(cfg.open_cap));
        assert_eq!(b.rate_limited_for, Some(cfg.retry_after_cap));
    }

    #[test]
    fn the_log_is_bounded_by_time_and_count() {
        let mut log = OutcomeLog::default();
        for i in 0..(LOG_CAP as u64 + 10) {
            log.push(Duration::from_millis(i), EndpointId(0), ok(1));
        }
        assert_eq!(log.len(), LOG_CAP);
        log.push(HISTORY + Duration::from_secs(60), EndpointId(0), ok(1));
        assert_eq!(log.len(), 1);
    }
}
