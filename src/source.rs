//! Chooses where requests go: the simulated fleet, OpenRouter, or any OpenAI-compatible server.
//!
//! Precedence: `--sim` (or `--fleet FILE`), then `--base-url`, then `--provider`, then the config's
//! `default_provider`, then OpenRouter's key (`OPENROUTER_API_KEY`, else one kept by `switchyard auth
//! set openrouter`), and finally the simulated fleet, so a fresh
//! machine with no key and no config works offline.

use crate::cli::SourceArgs;
use crate::client::{Endpoint, Secret, ServerKind};
use crate::config::{Config, ProviderKind};
use crate::fleet::{self, FleetHandle, FleetSpec};

/// OpenRouter's API base.
pub const OPENROUTER_BASE: &str = "https://openrouter.ai/api/v1";
/// OpenRouter's host for in-region (EU) processing.
pub const OPENROUTER_EU_BASE: &str = "https://eu.openrouter.ai/api/v1";

/// The EU host for a gateway base URL: OpenRouter's (already EU stays as it is); `None` for a
/// gateway without one.
pub fn eu_host(base: &str) -> Option<String> {
    let b = base.trim_end_matches('/');
    if b == OPENROUTER_EU_BASE {
        return Some(b.to_string());
    }
    (b == OPENROUTER_BASE).then(|| OPENROUTER_EU_BASE.to_string())
}
/// Models opened when nothing else says which.
pub const DEFAULT_MODELS: [&str; 3] = [
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4.5",
    "google/gemini-2.5-pro",
];

/// A resolved source.
pub struct Source {
    /// Where requests go.
    pub endpoint: Endpoint,
    /// Shown in the status bar.
    pub label: String,
    /// Models for the default panes, when the user named none.
    pub default_models: Vec<String>,
    /// The in-process fleet, kept alive as long as the source.
    pub fleet: Option<FleetHandle>,
    /// Switchyard's own router, when requests are routed locally across endpoints.
    pub router: Option<LocalRouter>,
    /// Health observed from a gateway's responses (OpenRouter, or the fleet's aggregator),
    /// which does the routing itself.
    pub observer: Option<LocalRouter>,
    /// The config's `[limits]` on every stream.
    pub limits: crate::config::LimitsConfig,
}

impl Source {
    /// Where EU in-region processing is asked for: OpenRouter's EU host, the fleet
    /// aggregator's; `None` for a gateway with no EU host.
    pub fn eu_base(&self) -> Option<String> {
        match &self.fleet {
            Some(f) if self.router.is_none() && self.endpoint.base_url == f.base_url() => {
                Some(f.eu_base_url())
            }
            _ => eu_host(&self.endpoint.base_url),
        }
    }

    /// The catalog when the source knows it without asking a server: a router over configured
    /// providers lists what they declared. `None`: ask the endpoint's `GET /models`.
    pub fn local_catalog(&self) -> Option<Vec<crate::wire::catalog::Model>> {
        match (&self.router, &self.fleet) {
            (Some(r), None) => Some(r.catalog()),
            _ => None,
        }
    }
}

/// Endpoints and the routing actor that chooses between them.
#[derive(Clone)]
pub struct LocalRouter {
    /// Every endpoint the router may use (an observer's grows in the actor after this: read
    /// `handle.registry()`).
    pub registry: crate::routing::EndpointRegistry,
    /// The actor.
    pub handle: crate::routing::actor::RouterHandle,
    /// Where health is saved between runs (none when there is no state directory).
    pub health_file: Option<std::path::PathBuf>,
    /// What to show once: why saved health could not be used, a model listing that failed.
    pub warnings: Vec<String>,
    /// What to do when a stream fails after its first token.
    pub mid_stream: crate::routing::exec::MidStream,
    /// Keys by provider slug.
    pub keys: std::sync::Arc<std::collections::HashMap<String, Secret>>,
    /// Timeouts, retries and the attempt budget (defaults, or the config's `[routing]` keys).
    pub tuning: Tuning,
    /// Streams at once per server, shared by every request of this router.
    pub gates: std::sync::Arc<crate::routing::gate::Gates>,
    /// For one OpenAI-compatible server: a digest of the models it listed, saved with its
    /// health so a different server at the same URL starts fresh.
    pub server: Option<String>,
    /// For an observer: the gateway whose endpoint listings describe each model.
    pub gateway: Option<Endpoint>,
    /// Models whose listing was already asked for.
    listed: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl LocalRouter {
    /// For an observer of a gateway: fetches `model`'s endpoint listing once, in the
    /// background, and registers its endpoints. Best effort: without a listing, endpoints are
    /// still learned from responses (without prices).
    pub fn learn(&self, client: &crate::client::HttpClient, model: &str) {
        let Some(gateway) = self.gateway.clone() else {
            return;
        };
        let fresh = self
            .listed
            .lock()
            .map(|mut l| l.insert(model.to_string()))
            .unwrap_or(false);
        if !fresh {
            return;
        }
        let (handle, model, client) = (self.handle.clone(), model.to_string(), client.clone());
        tokio::spawn(async move {
            if let Ok(list) = client.list_endpoints(&gateway, &model).await {
                handle.register(
                    list.endpoints
                        .iter()
                        .map(|e| crate::routing::EndpointMeta::from_listing(&model, e))
                        .collect(),
                );
            }
        });
    }

    /// Starts the actor with the health saved for `key` by earlier runs, tuned by the config.
    pub fn start(
        registry: crate::routing::EndpointRegistry,
        seed: u64,
        key: &str,
        routing: &crate::config::RoutingConfig,
    ) -> Self {
        Self::start_for(registry, seed, key, routing, None)
    }

    /// [`Self::start`] for one server identified by `server` (a digest of what it lists):
    /// health saved by a different server at the same URL is ignored, with a message.
    pub fn start_for(
        registry: crate::routing::EndpointRegistry,
        seed: u64,
        key: &str,
        routing: &crate::config::RoutingConfig,
        server: Option<String>,
    ) -> Self {
        let tuning = Tuning::from_config(routing);
        let health = tuning.health;
        let mut other_server = None;
        let mut r = Self::spawn(
            registry,
            crate::health_store::path_for(key),
            |reg, saved| {
                let saved = saved.filter(|s| {
                    let same = match (&s.server, &server) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    };
                    if !same {
                        other_server = Some(());
                    }
                    same
                });
                crate::routing::actor::spawn_restored(reg, health, seed, saved)
            },
        );
        if other_server.is_some() {
            r.warnings.push(format!(
                "the saved routing health{} was written by a different server at this URL (it listed other models); starting with no history",
                r.health_file
                    .as_ref()
                    .map(|p| format!(" in {}", p.display()))
                    .unwrap_or_default()
            ));
        }
        r.server = server;
        r.tuning = tuning;
        r.mid_stream = routing.mid_stream.unwrap_or_default();
        r
    }

    /// Starts an observer (see [`crate::routing::actor::spawn_observer`]) with saved health.
    pub fn observer(registry: crate::routing::EndpointRegistry, key: &str) -> Self {
        Self::observer_at(registry, crate::health_store::path_for(key))
    }

    /// An observer whose health lives in `health_file` (`None`: not kept between runs).
    pub fn observer_at(
        registry: crate::routing::EndpointRegistry,
        health_file: Option<std::path::PathBuf>,
    ) -> Self {
        Self::spawn(registry, health_file, |reg, saved| {
            crate::routing::actor::spawn_observer(
                reg,
                crate::routing::HealthConfig::default(),
                saved,
            )
        })
    }

    fn spawn(
        registry: crate::routing::EndpointRegistry,
        health_file: Option<std::path::PathBuf>,
        actor: impl FnOnce(
            crate::routing::EndpointRegistry,
            Option<crate::routing::persist::SavedHealth>,
        ) -> crate::routing::actor::RouterHandle,
    ) -> Self {
        let (saved, warning) = match health_file.as_deref().map(crate::health_store::load) {
            None | Some(Ok(None)) => (None, None),
            Some(Ok(Some(s))) => (Some(s), None),
            Some(Err(e)) => (None, Some(e)),
        };
        let warnings = warning.into_iter().collect();
        let handle = actor(registry.clone(), saved);
        Self {
            registry,
            handle,
            health_file,
            warnings,
            mid_stream: Default::default(),
            keys: Default::default(),
            tuning: Tuning::default(),
            gates: Default::default(),
            server: None,
            gateway: None,
            listed: Default::default(),
        }
    }

    /// Applies the command line's `--mid-stream` (it wins over the config; clap checked its
    /// spelling) and returns the default panes: the config's, else the first three models.
    fn apply_flags(&mut self, args: &SourceArgs, cfg: &Config) -> Vec<String> {
        if let Some(p) = &args.mid_stream {
            self.mid_stream = p.parse().unwrap_or_default();
        }
        if cfg.panes.is_empty() {
            self.catalog().into_iter().take(3).map(|m| m.id).collect()
        } else {
            cfg.panes.clone()
        }
    }

    /// The models the router can serve, as a catalog (id, context, prices), in registry order.
    pub fn catalog(&self) -> Vec<crate::wire::catalog::Model> {
        let mut seen = std::collections::HashSet::new();
        self.registry
            .iter()
            .filter(|(_, m)| seen.insert(m.model.clone()))
            .filter_map(|(_, m)| {
                // What the server did not publish stays unknown: no price is "free", no
                // context length is 4 294 967 295.
                let mut v = serde_json::json!({
                    "id": m.model,
                    "name": format!("{} (via {})", m.model, m.provider_name),
                });
                if m.context_length != u32::MAX {
                    v["context_length"] = m.context_length.into();
                }
                if !m.pricing.unknown {
                    v["pricing"] = serde_json::json!({
                        "prompt": format!("{}", m.pricing.prompt / 1e6),
                        "completion": format!("{}", m.pricing.completion / 1e6),
                    });
                }
                serde_json::from_value(v).ok()
            })
            .collect()
    }

    /// Execution options for one request: this router's tuning, mid-stream policy and keys.
    pub fn exec_options(&self) -> crate::routing::exec::ExecOptions {
        crate::routing::exec::ExecOptions {
            mid_stream: self.mid_stream,
            keys: self.keys.clone(),
            timeouts: self.tuning.timeouts,
            retry: self.tuning.retry,
            max_attempts: self.tuning.max_attempts,
            gates: Some(self.gates.clone()),
            ..Default::default()
        }
    }

    /// Saves the current health for the next run.
    pub async fn save(&self) -> Result<(), String> {
        let Some(path) = &self.health_file else {
            return Ok(());
        };
        let mut saved = self
            .handle
            .export()
            .await
            .map_err(|_| "the routing actor has stopped".to_string())?;
        saved.server = self.server.clone();
        // Encoding and writing up to a few MB is disk work: off the async workers.
        let path = path.clone();
        tokio::task::spawn_blocking(move || crate::health_store::save(&path, &saved))
            .await
            .map_err(|e| format!("saving routing health failed: {e}"))?
    }
}

/// How the router times, retries and trips breakers: ROUTING.md §10's reference defaults,
/// each overridable in the config's `[routing]` table.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Per-attempt timeouts.
    pub timeouts: crate::client::Timeouts,
    /// Retries and backoff.
    pub retry: crate::routing::exec::RetryPolicy,
    /// Attempt budget of one request.
    pub max_attempts: usize,
    /// Breakers and windows.
    pub health: crate::routing::HealthConfig,
}

impl Default for Tuning {
    fn default() -> Self {
        Self::from_config(&crate::config::RoutingConfig::default())
    }
}

impl Tuning {
    /// The defaults with the config's keys applied (validated on load).
    pub fn from_config(c: &crate::config::RoutingConfig) -> Self {
        use std::time::Duration;
        let secs = |v: Option<f64>, d: f64| Duration::from_secs_f64(v.unwrap_or(d));
        let mut timeouts = crate::client::Timeouts::default();
        timeouts.stall = secs(c.stall_timeout_s, timeouts.stall.as_secs_f64());
        timeouts.headers = secs(c.headers_timeout_s, timeouts.headers.as_secs_f64());
        let mut retry = crate::routing::exec::RetryPolicy::default();
        retry.first_token_failover = secs(
            c.first_token_timeout_s,
            retry.first_token_failover.as_secs_f64(),
        );
        retry.retry_after_cap = secs(c.retry_after_cap_s, retry.retry_after_cap.as_secs_f64());
        if let Some(ms) = c.backoff_base_ms {
            retry.backoff_base = Duration::from_secs_f64(ms / 1000.0);
        }
        let mut health = crate::routing::HealthConfig {
            // With ±20 % jitter an endpoint that recovers is back within 30 s.
            open_base: Duration::from_secs(20),
            open_cap: Duration::from_secs(24),
            ..Default::default()
        };
        health.open_base = secs(c.breaker_open_s, health.open_base.as_secs_f64());
        health.open_cap =
            secs(c.breaker_open_cap_s, health.open_cap.as_secs_f64()).max(health.open_base);
        Self {
            timeouts,
            retry,
            max_attempts: c.max_attempts.map_or(6, |n| n as usize),
            health,
        }
    }
}

/// Loads the config named by the flags (or the default one, which may be absent).
pub fn load_config(args: &SourceArgs) -> Result<Config, String> {
    let profile = args.profile.as_deref();
    match &args.config {
        Some(p) => Config::load_profile(p, true, profile).map_err(|e| e.to_string()),
        None => match Config::default_path() {
            Some(p) => Config::load_profile(&p, false, profile).map_err(|e| e.to_string()),
            None if profile.is_some() => {
                Err("--profile: there is no config file to take a profile from".into())
            }
            None => Ok(Config::default()),
        },
    }
}

/// The directory of the config file in use (`--config`'s, else the default's): where
/// `themes/` and `schemas/` of the user's live.
pub fn config_dir(args: &SourceArgs) -> Option<std::path::PathBuf> {
    match &args.config {
        Some(p) => p.parent().map(|d| {
            if d.as_os_str().is_empty() {
                std::path::PathBuf::from(".")
            } else {
                d.to_path_buf()
            }
        }),
        None => Config::default_path().and_then(|p| p.parent().map(|d| d.to_path_buf())),
    }
}

/// The name OpenRouter's key is kept under (`switchyard auth set openrouter`).
pub const OPENROUTER_PROVIDER: &str = "openrouter";

/// The key of a configured provider: its `api_key_env` when that is set, else the one kept
/// for its name (keyring, then key file). A variable named but unset with nothing kept is an
/// error that says both ways to give one.
fn provider_key(name: &str, var: Option<&str>) -> Result<Option<Secret>, String> {
    let store = crate::key_store::KeyStore::open();
    let mut notes = Vec::new();
    match store.find(name, var, &mut notes)? {
        Some(found) => Ok(Some(found.key)),
        None => match var {
            Some(v) => Err(format!(
                "{}; nor is a key kept for `{name}` (`switchyard auth set {name}` keeps one){}",
                key_from_env(v)
                    .err()
                    .unwrap_or_else(|| format!("environment variable {v} is not set")),
                notes.first().map(|n| format!(" ({n})")).unwrap_or_default()
            )),
            None => Ok(None),
        },
    }
}

fn key_from_env(var: &str) -> Result<Option<Secret>, String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => {
            crate::key_store::redact::register(v.trim());
            Ok(Some(Secret::new(v.trim())))
        }
        Ok(_) => Err(format!("environment variable {var} is empty")),
        Err(std::env::VarError::NotPresent) => {
            Err(format!("environment variable {var} is not set"))
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("environment variable {var} is not valid UTF-8"))
        }
    }
}

/// Resolves the source; starts the simulated fleet in-process when that is the answer.
/// `named` are the models asked for on the command line (panes and fallbacks): a router over a
/// server whose listing lacks them still routes to them.
pub async fn resolve(args: &SourceArgs, cfg: &Config, named: &[String]) -> Result<Source, String> {
    let mut src = pick(args, cfg, named).await?;
    src.limits = cfg.limits.clone();
    // `--route-locally` is about the simulated fleet; other sources are routed as they are.
    if args.route_locally && src.fleet.is_none() {
        return Err(if src.router.is_some() {
            format!(
                "--route-locally routes the simulated fleet's providers (with --sim or --fleet FILE); {} is already routed by Switchyard's router, so leave the flag out",
                src.label
            )
        } else if src.label == "OpenRouter" {
            "--route-locally routes the simulated fleet's providers with Switchyard's own router, so it needs --sim (or --fleet FILE); an OpenRouter key is set, and OpenRouter routes its requests itself".into()
        } else {
            format!(
                "--route-locally routes the simulated fleet's providers (with --sim or --fleet FILE); the source here is {}, which routes itself",
                src.label
            )
        });
    }
    // Routing flags that this source cannot honour are an error, not silently ignored.
    if src.router.is_none() {
        if args.route_locally {
            return Err(format!(
                "--route-locally routes across the simulated fleet's providers (with --sim or --fleet); the source here is {}, which routes itself",
                src.label
            ));
        }
        if args.mid_stream.is_some() {
            return Err(format!(
                "--mid-stream applies to Switchyard's own router (--route-locally or [routing] providers); {} routes by itself",
                src.label
            ));
        }
    }
    Ok(src)
}

async fn pick(args: &SourceArgs, cfg: &Config, named: &[String]) -> Result<Source, String> {
    if args.sim || args.fleet.is_some() {
        return start_fleet(args, cfg).await;
    }
    if let Some(url) = &args.base_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "--base-url {url:?} is not an http:// or https:// URL"
            ));
        }
        let key = match &args.api_key_env {
            Some(var) => key_from_env(var)?,
            None => None,
        };
        let server = Server {
            name: host_of(url),
            base_url: url.trim_end_matches('/').to_string(),
            key,
            config: None,
        };
        return server_source(args, cfg, server, named).await;
    }
    if args.provider.is_none() && !cfg.routing.providers.is_empty() {
        return config_router(args, cfg);
    }
    let chosen = args.provider.as_ref().or(cfg.default_provider.as_ref());
    if let Some(name) = chosen {
        let p = cfg
            .provider(name)
            .ok_or_else(|| format!("no provider named `{name}` in the config"))?;
        let key = provider_key(&p.name, p.api_key_env.as_deref())?;
        let (kind, base) = match p.kind {
            ProviderKind::Openrouter => (
                ServerKind::OpenRouter,
                p.base_url.clone().unwrap_or_else(|| OPENROUTER_BASE.into()),
            ),
            ProviderKind::Openai => (ServerKind::OpenAi, p.base_url.clone().unwrap_or_default()),
        };
        if p.kind == ProviderKind::Openai && !p.routes_itself {
            let server = Server {
                name: p.name.clone(),
                base_url: base.trim_end_matches('/').to_string(),
                key,
                config: Some(p.clone()),
            };
            return server_source(args, cfg, server, named).await;
        }
        // A server that routes itself gets OpenRouter's fields only when it says it reads them.
        let kind = if p.openrouter_fields {
            ServerKind::OpenRouter
        } else {
            kind
        };
        let mut defaults = cfg.panes.clone();
        if defaults.is_empty() && kind == ServerKind::OpenRouter {
            defaults = DEFAULT_MODELS.iter().map(|s| s.to_string()).collect();
        }
        let endpoint = Endpoint {
            base_url: base.trim_end_matches('/').to_string(),
            key,
            kind,
        };
        let observer = (p.kind == ProviderKind::Openrouter)
            .then(|| gateway_observer(&endpoint, &format!("gateway-{name}")));
        return Ok(Source {
            limits: Default::default(),
            endpoint,
            label: name.clone(),
            default_models: defaults,
            fleet: None,
            router: None,
            observer,
        });
    }
    let openrouter_key = crate::key_store::KeyStore::open()
        .find(
            OPENROUTER_PROVIDER,
            Some("OPENROUTER_API_KEY"),
            &mut Vec::new(),
        )?
        .map(|f| f.key);
    if let Some(key) = openrouter_key {
        let defaults = if cfg.panes.is_empty() {
            DEFAULT_MODELS.iter().map(|s| s.to_string()).collect()
        } else {
            cfg.panes.clone()
        };
        let endpoint = Endpoint {
            base_url: OPENROUTER_BASE.into(),
            key: Some(key),
            kind: ServerKind::OpenRouter,
        };
        return Ok(Source {
            limits: Default::default(),
            observer: Some(gateway_observer(&endpoint, "openrouter")),
            endpoint,
            label: "OpenRouter".into(),
            default_models: defaults,
            fleet: None,
            router: None,
        });
    }
    start_fleet(args, cfg).await
}

/// One OpenAI-compatible server that Switchyard routes for.
struct Server {
    /// Provider name and slug (the config's name, or the URL's host and port).
    name: String,
    /// Base URL, without a trailing slash.
    base_url: String,
    /// Its key.
    key: Option<Secret>,
    /// What the config says of it.
    config: Option<crate::config::ProviderConfig>,
}

/// `host:port` of a URL, the provider name of a bare `--base-url`.
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            Some(match u.port() {
                Some(p) => format!("{}:{p}", u.host_str()?),
                None => u.host_str()?.to_string(),
            })
        })
        .unwrap_or_else(|| url.to_string())
}

/// How long starting up waits for a server's model listing.
const LISTING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Switchyard's router over one OpenAI-compatible server: one endpoint per model, from its
/// `GET /models`, the config's `[[providers.models]]` and every model named on the command line
/// (a listing that fails is said once; the named models are routed to anyway). Fallbacks,
/// retries, breakers and routing preferences are then ours, and the server gets plain OpenAI
/// requests.
async fn server_source(
    args: &SourceArgs,
    cfg: &Config,
    server: Server,
    named: &[String],
) -> Result<Source, String> {
    let endpoint = Endpoint {
        base_url: server.base_url.clone(),
        key: server.key.clone(),
        kind: ServerKind::OpenAi,
    };
    let client = crate::client::HttpClient::for_routing()?;
    let listing = match tokio::time::timeout(LISTING_WAIT, client.list_models(&endpoint)).await {
        Ok(Ok(models)) => Ok(models),
        Ok(Err(e)) => Err(listing_failure(&endpoint, &e)),
        Err(_) => Err(format!(
            "{}/models did not answer within {}s",
            server.base_url,
            LISTING_WAIT.as_secs()
        )),
    };
    let (listed, mut warnings) = match listing {
        Ok(m) => (m, Vec::new()),
        Err(why) => (
            Vec::new(),
            vec![format!(
                "cannot list the models of {}: {why}; routing to the models named with -m and --fallback anyway",
                server.name
            )],
        ),
    };
    let registry = server_registry(&server, &listed, named);
    if registry.is_empty() {
        return Err(format!(
            "{} lists no models and none was named: pass -m MODEL",
            server.name
        ));
    }
    // What the server lists tells one server from another at the same URL.
    let digest = (!listed.is_empty()).then(|| {
        let mut ids: Vec<&str> = listed.iter().map(|m| m.id.as_str()).collect();
        ids.sort_unstable();
        let h = ids
            .iter()
            .flat_map(|i| i.bytes().chain([0]))
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        format!("{h:016x}")
    });
    let mut router = LocalRouter::start_for(
        registry,
        crate::runtime::fresh_seed(),
        &format!("server-{}", server.base_url),
        &cfg.routing,
        digest,
    );
    warnings.append(&mut router.warnings);
    router.warnings = warnings;
    if let Some(k) = server.key.clone() {
        router.keys = std::sync::Arc::new([(server.name.clone(), k)].into_iter().collect());
    }
    let default_models = router.apply_flags(args, cfg);
    Ok(Source {
        limits: Default::default(),
        endpoint,
        label: format!("{} · routed by Switchyard", server.name),
        default_models,
        fleet: None,
        router: Some(router),
        observer: None,
    })
}

/// A failed model listing in words: a 404 most likely means the base URL's path is wrong.
fn listing_failure(ep: &Endpoint, e: &crate::client::ChatError) -> String {
    use crate::client::ChatError;
    match e {
        ChatError::Api(a) if a.effective_status() == Some(404) => format!(
            "GET {}/models answered 404: the base URL's path is probably wrong (OpenAI-compatible servers usually live at …/v1)",
            ep.base_url
        ),
        other => other.to_string(),
    }
}

/// The endpoints of one server: what its listing says (prices and context when it gives
/// them), what the config declares, and the named models; unknown prices stay unknown.
fn server_registry(
    server: &Server,
    listed: &[crate::wire::catalog::Model],
    named: &[String],
) -> crate::routing::EndpointRegistry {
    use crate::routing::{DataPolicy, EndpointMeta, ParamSet};
    let slug = server.name.clone();
    let cfg = server.config.as_ref();
    let base = |id: &str| {
        let mut e = EndpointMeta::new(slug.clone(), id.to_string());
        e.provider_name = server.name.clone();
        e.base_url = server.base_url.clone();
        // Unknown context or inputs: never a reason to exclude the endpoint.
        e.context_length = u32::MAX;
        e.input_modalities = crate::routing::Modalities::ALL;
        e.pricing.unknown = true;
        e.data = DataPolicy {
            // Unknown means "may collect", so `data_collection: deny` and `zdr` stay safe.
            collects_data: cfg.and_then(|p| p.collects_data).unwrap_or(true),
            zdr: cfg.is_some_and(|p| p.zdr),
            ..DataPolicy::default()
        };
        e.region = cfg.and_then(|p| p.region.clone());
        if let Some(q) = cfg.and_then(|p| p.quantization) {
            e.quantization = q;
        }
        e.max_concurrent = cfg.and_then(|p| p.max_concurrent);
        e
    };
    let mut metas: Vec<EndpointMeta> = Vec::new();
    for m in listed {
        let mut e = base(&m.id);
        if let Some(c) = m.context_length {
            e.context_length = u32::try_from(c).unwrap_or(u32::MAX);
        }
        if let (Some(p), Some(c)) = (m.pricing.prompt, m.pricing.completion) {
            e.pricing.prompt = p.per_million();
            e.pricing.completion = c.per_million();
            e.pricing.unknown = false;
        }
        e.supported = ParamSet::from_names(&m.supported_parameters);
        if let Some(a) = m
            .architecture
            .as_ref()
            .filter(|a| !a.input_modalities.is_empty())
        {
            e.input_modalities = crate::routing::Modalities::from_names(&a.input_modalities);
        }
        metas.push(e);
    }
    for m in cfg.map(|p| p.models.as_slice()).unwrap_or_default() {
        let mut e = base(&m.id);
        e.pricing.prompt = m.prompt_price;
        e.pricing.completion = m.completion_price;
        e.pricing.unknown = false;
        if let Some(c) = m.context_length {
            e.context_length = c;
        }
        e.max_output = m.max_output;
        e.supported = ParamSet::from_names(&m.supported_parameters);
        e.accepts_prefill = m.assistant_prefill;
        // What the config declares wins over what the listing says.
        metas.retain(|x| x.model != e.model);
        metas.push(e);
    }
    for id in named {
        if !metas.iter().any(|x| &x.model == id) {
            metas.push(base(id));
        }
    }
    crate::routing::EndpointRegistry::from_endpoints(metas)
}

/// Switchyard's own router across the config's `[routing] providers` (validated on load: each is
/// an OpenAI-compatible server that lists its models).
fn config_router(args: &SourceArgs, cfg: &Config) -> Result<Source, String> {
    use crate::routing::{DataPolicy, EndpointMeta, ParamSet};
    let mut metas = Vec::new();
    let mut keys = std::collections::HashMap::new();
    for name in &cfg.routing.providers {
        let p = cfg
            .provider(name)
            .ok_or_else(|| format!("no provider named `{name}` in the config"))?;
        if let Some(k) = provider_key(&p.name, p.api_key_env.as_deref())
            .map_err(|e| format!("provider `{name}`: {e}"))?
        {
            keys.insert(p.name.clone(), k);
        }
        let base = p.base_url.clone().unwrap_or_default();
        for m in &p.models {
            let mut e = EndpointMeta::new(p.name.clone(), m.id.clone())
                .with_prices(m.prompt_price, m.completion_price);
            e.provider_name = p.name.clone();
            e.base_url = base.trim_end_matches('/').to_string();
            if let Some(c) = m.context_length {
                e.context_length = c;
            }
            e.max_output = m.max_output;
            if let Some(q) = p.quantization {
                e.quantization = q;
            }
            e.supported = ParamSet::from_names(&m.supported_parameters);
            e.data = DataPolicy {
                // Unknown means "may collect", so `data_collection: deny` stays safe.
                collects_data: p.collects_data.unwrap_or(true),
                zdr: p.zdr,
                ..DataPolicy::default()
            };
            e.region = p.region.clone();
            e.accepts_prefill = m.assistant_prefill;
            e.max_concurrent = p.max_concurrent;
            metas.push(e);
        }
    }
    let registry = crate::routing::EndpointRegistry::from_endpoints(metas);
    let names = cfg.routing.providers.join(", ");
    let mut router = LocalRouter::start(
        registry,
        crate::runtime::fresh_seed(),
        &format!("config-{}", cfg.routing.providers.join("+")),
        &cfg.routing,
    );
    router.keys = std::sync::Arc::new(keys);
    let default_models = router.apply_flags(args, cfg);
    let first = cfg
        .provider(&cfg.routing.providers[0])
        .and_then(|p| p.base_url.clone())
        .unwrap_or_default();
    Ok(Source {
        limits: Default::default(),
        // Not used for chat (the router picks each endpoint); kept for display.
        endpoint: Endpoint {
            base_url: first.trim_end_matches('/').to_string(),
            key: None,
            kind: ServerKind::OpenAi,
        },
        label: format!("local router · {names}"),
        default_models,
        fleet: None,
        router: Some(router),
        observer: None,
    })
}

async fn start_fleet(args: &SourceArgs, cfg: &Config) -> Result<Source, String> {
    let spec = match &args.fleet {
        Some(p) => FleetSpec::load(p).map_err(|e| e.to_string())?,
        None => FleetSpec::builtin(),
    };
    let handle = fleet::start(spec, "127.0.0.1:0".parse().expect("valid address"))
        .await
        .map_err(|e| format!("cannot start the simulated fleet: {e}"))?;
    // Health is kept per fleet: the built-in one, or a fleet file by its name.
    let key = match &args.fleet {
        None => "fleet".to_string(),
        Some(p) => format!(
            "fleet-{}",
            p.file_stem()
                .map_or("custom".into(), |s| s.to_string_lossy())
        ),
    };
    let router = args.route_locally.then(|| {
        let mut r = LocalRouter::start(handle.registry(), handle.spec().seed, &key, &cfg.routing);
        r.apply_flags(args, cfg);
        // A fleet file's `api_key` guards every provider route too.
        if let Some(k) = handle.spec().api_key.clone() {
            r.keys = std::sync::Arc::new(
                handle
                    .spec()
                    .providers
                    .iter()
                    .map(|p| (p.slug.clone(), Secret::new(k.clone())))
                    .collect(),
            );
        }
        r
    });
    Ok(Source {
        limits: Default::default(),
        endpoint: Endpoint {
            base_url: handle.base_url(),
            key: handle.spec().api_key.clone().map(Secret::new),
            kind: ServerKind::OpenRouter,
        },
        label: if router.is_some() {
            "simulated fleet · local router".into()
        } else {
            "simulated fleet".into()
        },
        default_models: DEFAULT_MODELS.iter().map(|s| s.to_string()).collect(),
        observer: router
            .is_none()
            .then(|| LocalRouter::observer(handle.registry(), &format!("{key}-observed"))),
        fleet: Some(handle),
        router,
    })
}

/// An observer of a gateway's routing (OpenRouter): it learns each model's endpoints from the
/// endpoints listing in the background, and every response's provider as answers arrive.
fn gateway_observer(endpoint: &Endpoint, key: &str) -> LocalRouter {
    let mut obs = LocalRouter::observer(crate::routing::EndpointRegistry::new(), key);
    obs.gateway = Some(endpoint.clone());
    obs
}
