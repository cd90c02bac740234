//! The built-in simulated fleet: a real HTTP server on loopback speaking the OpenRouter protocol.
//!
//! A [`FleetSpec`] (TOML; the default is `assets/fleet.toml`) describes fictional providers serving
//! real model ids with prices, speeds and failure rates. [`start`] serves it on a local port:
//!
//! - `GET  /api/v1/models`, `GET /api/v1/models/{author}/{slug}/endpoints`
//! - `/eu/api/v1/…`: the same aggregator as the EU host, routing only to EU providers
//! - `POST /api/v1/chat/completions`: an OpenRouter-like aggregator (provider preferences, model
//!   fallbacks, silent failover before the first byte, SSE with keep-alives and usage)
//! - `POST /p/{slug}/v1/chat/completions`, `GET /p/{slug}/v1/models`: one provider's own
//!   OpenAI-compatible API, whose errors show directly
//! - `GET | POST | DELETE /control/faults`: list, add or clear run-time faults
//!
//! Faults ([`Fault`]) knock an endpoint down on a schedule: outages, 5xx bursts, 429s, latency,
//! stalls, cuts, malformed events, missing `[DONE]`, resets and hangs. They come from the spec
//! (`[[providers.models.faults]]`) or are injected at run time ([`FleetHandle::inject`]). On the
//! aggregator a fault before the first byte fails over to the next candidate; mid-stream faults
//! reach the client.
//!
//! Answers are deterministic markdown for (seed, model, last user message); timing and failures
//! come from a seeded PRNG, and `time_scale = 0` makes everything instant for tests.

mod catalog;
pub mod chaos;
mod fault;
mod http;
mod request;
mod rng;
mod route;
mod server;
mod spec;
mod structured;
pub(crate) mod text;

pub use fault::{Fault, FaultKind, FaultSpec};
pub use spec::{Endpoint, FleetError, FleetSpec, Jitter, ModelMeta, Provider, Quantization};

use server::Shared;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running fleet; dropping it (or calling [`FleetHandle::shutdown`]) stops the server and
/// every open connection.
pub struct FleetHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FleetHandle {
    /// The bound address (with the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The aggregator's EU host, e.g. `http://127.0.0.1:PORT/eu/api/v1`: it routes only to
    /// providers in the EU.
    pub fn eu_base_url(&self) -> String {
        format!("http://{}/eu/api/v1", self.addr)
    }

    /// The aggregator's base URL, e.g. `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// The simulated fleet's endpoints, each at its provider's own OpenAI-compatible base URL, so
    /// our router (not the fleet's aggregator) chooses between them.
    pub fn registry(&self) -> crate::routing::EndpointRegistry {
        use crate::routing::{DataPolicy, EndpointMeta, Modalities, ParamSet};
        let mut metas = Vec::new();
        for p in &self.spec().providers {
            let Some(base) = self.provider_base_url(&p.slug) else {
                continue;
            };
            for e in &p.models {
                let mut m = EndpointMeta::new(p.slug.clone(), e.id.clone())
                    .with_prices(e.prompt_price, e.completion_price);
                m.provider_name = p.name.clone();
                m.base_url = base.clone();
                m.context_length = u32::try_from(e.context_length).unwrap_or(u32::MAX);
                m.max_output = u32::try_from(e.max_completion_tokens).ok();
                m.quantization = p.quantization;
                m.supported = ParamSet::from_names(&e.supported_parameters);
                m.input_modalities = Modalities::from_names(&e.input_modalities);
                m.data = DataPolicy {
                    collects_data: p.collects_data,
                    zdr: p.zdr,
                    distillable: true,
                };
                m.region = Some(p.region.clone());
                m.accepts_prefill = e.assistant_prefill;
                m.canonical = e.canonical_slug.clone();
                metas.push(m);
            }
        }
        crate::routing::EndpointRegistry::from_endpoints(metas)
    }

    /// A provider's own OpenAI-compatible base URL, e.g. `http://127.0.0.1:PORT/p/basalt/v1`.
    pub fn provider_base_url(&self, slug: &str) -> Option<String> {
        self.shared
            .spec
            .provider(slug)
            .map(|p| format!("http://{}/p/{}/v1", self.addr, p.slug))
    }

    /// The spec being served.
    pub fn spec(&self) -> &FleetSpec {
        &self.shared.spec
    }

    /// Connections currently open (requests being read, answered or streamed).
    pub fn active_connections(&self) -> usize {
        *self.shared.active.borrow()
    }

    /// Resolves once no connection is open, e.g. after a client abandoned a stream.
    pub async fn wait_idle(&self) {
        let mut rx = self.shared.active.subscribe();
        // The sender lives in `shared`, which we hold, so this cannot fail.
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Adds a run-time fault, starting now unless `fault.from_s` says otherwise; returns its id.
    /// Errors name the bad field (unknown provider or model, out-of-range value).
    pub fn inject(&self, fault: FaultSpec) -> Result<u64, FleetError> {
        self.shared.inject(fault)
    }

    /// Removes every run-time fault (spec faults stay); returns how many were removed.
    pub fn clear_faults(&self) -> usize {
        self.shared.clear_faults()
    }

    /// Every fault active now (spec and run-time), as `GET /control/faults` shows it.
    pub fn active_faults(&self) -> serde_json::Value {
        self.shared.active_faults()
    }

    /// The fleet clock: time since start (plus any [`FleetHandle::advance_clock`]), which fault
    /// windows (`from_s`, `until_s`) are measured on.
    pub fn clock(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.shared.now_s())
    }

    /// Moves the fleet clock forward, so schedules can be tested without waiting.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.shared.advance_clock(by);
    }

    /// Stops the server now; in-flight streams are cut.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for FleetHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for FleetHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Starts the fleet on `addr` (use port 0 for a free port) inside the current tokio runtime.
pub async fn start(spec: FleetSpec, addr: SocketAddr) -> std::io::Result<FleetHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(spec));
    let task = tokio::spawn(server::accept_loop(listener, shared.clone()));
    Ok(FleetHandle { addr, shared, task })
}
