//! The routing actor: one tokio task owns the endpoint registry and all health. Requests ask it
//! for plans; every attempt reports its outcome back; it publishes health snapshots on a watch
//! channel, coalesced to at most one per [`PUBLISH_EVERY`].
//!
//! Time comes from `tokio::time::Instant`, so tests run it on tokio's paused clock.

use super::endpoint::slug_of;
use super::persist::{self, HISTORY, OutcomeLog, SavedHealth};
use super::{
    EndpointId, EndpointMeta, EndpointRegistry, HealthConfig, HealthSnapshot, HealthTracker,
    NoRoute, Outcome, Plan, PlanRequest, Planner, RequestFeatures, SplitMix64,
};
use crate::wire::request::ProviderPreferences;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// Shortest gap between two published snapshots (at most 4 per second).
pub const PUBLISH_EVERY: Duration = Duration::from_millis(250);

/// What a caller wants planned; owned so it can cross into the actor.
#[derive(Debug, Clone, Default)]
pub struct PlanQuery {
    /// Request features.
    pub features: RequestFeatures,
    /// `provider` preferences.
    pub prefs: ProviderPreferences,
    /// Primary model then fallbacks.
    pub models: Vec<String>,
    /// The conversation's previous endpoint.
    pub affinity: Option<EndpointId>,
}

enum Command {
    Plan(Box<PlanQuery>, oneshot::Sender<Result<Plan, NoRoute>>),
    Report(EndpointId, Outcome),
    Probe(EndpointId, bool, oneshot::Sender<bool>),
    Export(oneshot::Sender<SavedHealth>),
    Observe(String, String, Outcome),
    Register(Vec<EndpointMeta>),
}

/// A cheap, cloneable handle to the routing actor.
#[derive(Clone)]
pub struct RouterHandle {
    tx: mpsc::UnboundedSender<Command>,
    snapshots: watch::Receiver<HealthSnapshot>,
    registry: watch::Receiver<EndpointRegistry>,
}

/// The actor has stopped (its task ended); callers treat this as "no route".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorGone;

impl RouterHandle {
    /// Plans a request against the current health.
    pub async fn plan(&self, q: PlanQuery) -> Result<Result<Plan, NoRoute>, ActorGone> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Plan(Box::new(q), tx))
            .map_err(|_| ActorGone)?;
        rx.await.map_err(|_| ActorGone)
    }

    /// Reports how one attempt on one endpoint went (fire and forget).
    pub fn report(&self, id: EndpointId, outcome: Outcome) {
        let _ = self.tx.send(Command::Report(id, outcome));
    }

    /// Asks to send the single half-open probe to `id`; granted only when a fallback exists.
    pub async fn try_probe(&self, id: EndpointId, has_fallback: bool) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Probe(id, has_fallback, tx)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Health worth saving for the next run (see [`super::persist`]).
    pub async fn export(&self) -> Result<SavedHealth, ActorGone> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Export(tx)).map_err(|_| ActorGone)?;
        rx.await.map_err(|_| ActorGone)
    }

    /// Subscribes to health snapshots.
    pub fn snapshots(&self) -> watch::Receiver<HealthSnapshot> {
        self.snapshots.clone()
    }

    /// Subscribes to the registry, which grows when endpoints are registered or observed.
    pub fn registry(&self) -> watch::Receiver<EndpointRegistry> {
        self.registry.clone()
    }

    /// Records how a request routed by someone else (OpenRouter) went, on the endpoint the
    /// response named; an observer learns endpoints it has not seen.
    pub fn observe(&self, provider: String, model: String, outcome: Outcome) {
        let _ = self.tx.send(Command::Observe(provider, model, outcome));
    }

    /// Adds endpoints, or refreshes the metadata of known ones (same provider and model).
    pub fn register(&self, endpoints: Vec<EndpointMeta>) {
        let _ = self.tx.send(Command::Register(endpoints));
    }
}

/// Starts the actor on the current runtime. It stops when every handle is dropped.
pub fn spawn(registry: EndpointRegistry, cfg: HealthConfig, seed: u64) -> RouterHandle {
    spawn_restored(registry, cfg, seed, None)
}

/// Starts the actor with health saved by an earlier run (outcomes of the last window replayed,
/// breakers put back with the time they have left).
pub fn spawn_restored(
    registry: EndpointRegistry,
    cfg: HealthConfig,
    seed: u64,
    saved: Option<SavedHealth>,
) -> RouterHandle {
    start(registry, cfg, seed, saved, false)
}

/// Starts an actor that only observes: requests are routed elsewhere (OpenRouter), and their
/// outcomes are recorded on the endpoint each response names, learning unknown ones. Saved
/// health brings back the endpoints it names.
pub fn spawn_observer(
    registry: EndpointRegistry,
    cfg: HealthConfig,
    saved: Option<SavedHealth>,
) -> RouterHandle {
    start(registry, cfg, 0, saved, true)
}

fn start(
    registry: EndpointRegistry,
    cfg: HealthConfig,
    seed: u64,
    saved: Option<SavedHealth>,
    learn: bool,
) -> RouterHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let (snap_tx, snap_rx) = watch::channel(HealthSnapshot::empty());
    let (reg_tx, reg_rx) = watch::channel(registry.clone());
    let channels = Channels {
        rx,
        snap_tx,
        reg_tx,
    };
    tokio::spawn(run(registry, cfg, seed, saved, learn, channels));
    RouterHandle {
        tx,
        snapshots: snap_rx,
        registry: reg_rx,
    }
}

struct Channels {
    rx: mpsc::UnboundedReceiver<Command>,
    snap_tx: watch::Sender<HealthSnapshot>,
    reg_tx: watch::Sender<EndpointRegistry>,
}

/// Milliseconds since the Unix epoch on the wall clock (saved health is stamped with it).
fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn run(
    mut registry: EndpointRegistry,
    cfg: HealthConfig,
    seed: u64,
    saved: Option<SavedHealth>,
    learn: bool,
    channels: Channels,
) {
    let Channels {
        mut rx,
        snap_tx,
        reg_tx,
    } = channels;
    // Tracker time starts one window in, so replayed outcomes from before this run have a place.
    let origin = HISTORY + Duration::from_secs(1);
    let start = Instant::now();
    let clock = move || origin + start.elapsed();
    let mut health = HealthTracker::new(cfg);
    let mut log = OutcomeLog::default();
    if let Some(saved) = &saved {
        let before = registry.len();
        persist::restore(
            saved,
            &mut registry,
            learn,
            &mut health,
            &mut log,
            origin,
            wall_ms(),
        );
        if registry.len() != before {
            let _ = reg_tx.send(registry.clone());
        }
    }
    let mut planner = Planner::new();
    let mut rng = SplitMix64::new(seed);
    let mut n = registry.len();
    let mut snapshot = health.snapshot(n, origin);
    let _ = snap_tx.send(snapshot.clone());
    let mut last_publish = start;
    let mut dirty = false;
    loop {
        let publish_at = last_publish + PUBLISH_EVERY;
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { break };
                let now = clock();
                match cmd {
                    Command::Plan(q, reply) => {
                        // Plans read fresh stats, not the (coalesced) published snapshot.
                        if dirty {
                            snapshot = health.snapshot(n, now);
                        }
                        let req = PlanRequest {
                            features: &q.features,
                            prefs: &q.prefs,
                            models: &q.models,
                            affinity: q.affinity,
                        };
                        let _ = reply.send(planner.plan(&req, &registry, &snapshot, &mut rng, now));
                    }
                    Command::Report(id, outcome) => {
                        health.record(id, now, &outcome);
                        log.push(now, id, outcome);
                        dirty = true;
                    }
                    Command::Export(reply) => {
                        let _ = reply.send(log.export(&health, &registry, now, wall_ms()));
                    }
                    Command::Observe(provider, model, outcome) => {
                        let id = match registry.find_served(&provider, &model) {
                            Some(id) => Some(id),
                            None if learn => {
                                let mut m = EndpointMeta::new(slug_of(&provider), model);
                                m.provider_name = provider;
                                let id = registry.push(m);
                                n = registry.len();
                                let _ = reg_tx.send(registry.clone());
                                Some(id)
                            }
                            None => None,
                        };
                        if let Some(id) = id {
                            health.record(id, now, &outcome);
                            log.push(now, id, outcome);
                            dirty = true;
                        }
                    }
                    Command::Register(metas) => {
                        for m in metas {
                            registry.upsert(m);
                        }
                        n = registry.len();
                        let _ = reg_tx.send(registry.clone());
                        dirty = true;
                    }
                    Command::Probe(id, has_fallback, reply) => {
                        let _ = reply.send(health.try_probe(id, now, has_fallback));
                        dirty = true;
                    }
                }
            }
            _ = tokio::time::sleep_until(publish_at), if dirty => {
                snapshot = health.snapshot(n, clock());
                let _ = snap_tx.send(snapshot.clone());
                last_publish = Instant::now();
                dirty = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{EndpointMeta, HealthState};

    fn registry() -> EndpointRegistry {
        let mk = |slug: &str, price: f64| {
            let mut m = EndpointMeta::new(slug, "m/x");
            m.pricing.prompt = price;
            m.pricing.completion = price;
            m
        };
        EndpointRegistry::from_endpoints([mk("a", 1.0), mk("b", 2.0)])
    }

    fn query() -> PlanQuery {
        PlanQuery {
            models: vec!["m/x".into()],
            ..Default::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn snapshots_are_coalesced_to_four_per_second() {
        let h = spawn(registry(), HealthConfig::default(), 1);
        let mut rx = h.snapshots();
        rx.borrow_and_update();
        let mut published = 0;
        for _ in 0..200 {
            h.report(EndpointId(0), Outcome::ServerError { status: 502 });
            tokio::time::sleep(Duration::from_millis(10)).await;
            if rx.has_changed().unwrap() {
                rx.borrow_and_update();
                published += 1;
            }
        }
        // 2 s of reports every 10 ms: at most one snapshot per 250 ms (plus the first).
        assert!((4..=9).contains(&published), "published {published}");
    }

    #[tokio::test(start_paused = true)]
    async fn failures_reported_move_an_endpoint_last_and_open_the_breaker() {
        let h = spawn(registry(), HealthConfig::default(), 7);
        for _ in 0..6 {
            h.report(EndpointId(0), Outcome::ServerError { status: 503 });
        }
        let plan = h.plan(query()).await.unwrap().unwrap();
        assert_eq!(
            plan.first(),
            Some(EndpointId(1)),
            "the failing cheap endpoint goes last"
        );
        tokio::time::sleep(PUBLISH_EVERY * 2).await;
        let snap = h.snapshots().borrow().clone();
        let now = snap.taken_at();
        assert!(matches!(
            snap.get(EndpointId(0)).state_at(now),
            HealthState::Open { .. }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_naming_the_dated_slug_is_recorded_on_the_listed_model() {
        let mut m = EndpointMeta::new("fjord", "anthropic/claude-sonnet-4.5");
        m.provider_name = "Fjord AI".into();
        m.canonical = Some("anthropic/claude-4.5-sonnet-20250929".into());
        let h = spawn_observer(
            EndpointRegistry::from_endpoints([m]),
            HealthConfig::default(),
            None,
        );
        h.observe(
            "Fjord AI".into(),
            "anthropic/claude-4.5-sonnet-20250929".into(),
            Outcome::ServerError { status: 502 },
        );
        let _ = h.export().await.unwrap();
        // No phantom endpoint with the dated slug and $0 prices.
        assert_eq!(h.registry().borrow().len(), 1);
        tokio::time::sleep(PUBLISH_EVERY * 2).await;
        let snap = h.snapshots().borrow().clone();
        assert_eq!(snap.get(EndpointId(0)).last_5m.failures, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_plan_is_reproducible_for_the_same_seed_and_events() {
        let mut firsts = Vec::new();
        for _ in 0..2 {
            let h = spawn(registry(), HealthConfig::default(), 42);
            let mut v = Vec::new();
            for _ in 0..50 {
                v.push(h.plan(query()).await.unwrap().unwrap().first());
            }
            firsts.push(v);
        }
        assert_eq!(firsts[0], firsts[1]);
        assert!(
            firsts[0].contains(&Some(EndpointId(1))),
            "the weighted pick varies"
        );
    }
}
