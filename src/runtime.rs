//! The one stream runtime, shared by the workbench and `ask`: it owns the HTTP client and the
//! source's router or observer, spawns one task per request (job), cancels jobs by id, reports
//! progress as [`JobEvent`]s, and saves routing health.
//!
//! Which path a request takes is decided here once: a source with Switchyard's router runs
//! `routing::exec::execute`; a source that routes itself (OpenRouter, the fleet's aggregator)
//! streams straight to it and its outcome is recorded by the observer.

use crate::client::{Answer, HttpClient, Timeouts};
use crate::routing::exec::{ExecEvent, explain};
use crate::source::{LocalRouter, Source};
use crate::wire::chunk::StreamEvent;
use crate::wire::request::ChatRequest;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// What a job reports while it runs, in order; `Ended` is always last.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// The router starts an attempt on an endpoint.
    Attempt {
        /// The router's endpoint id.
        endpoint: u32,
        /// Provider display name.
        provider: String,
        /// Model the endpoint serves.
        model: String,
    },
    /// Stream events of one network read, `at` since the job started.
    Stream {
        /// Time since the job started.
        at: Duration,
        /// What arrived.
        events: Vec<StreamEvent>,
    },
    /// What the router did between attempts (failover, retry, restart, continue, notice).
    Routing(ExecEvent),
    /// The routing explanation (plan and attempts), just before `Ended`.
    Why(Vec<String>),
    /// The job ended with this outcome.
    Ended(Box<Answer>),
}

/// Longest a request waits for history to write its prompt.
pub const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Per-job options.
#[derive(Debug, Clone, Default)]
pub struct JobOptions {
    /// Reads are batched to the workbench's frame rate (`Timeouts::for_screen`).
    pub screen: bool,
    /// The router endpoint that answered the conversation's previous turn.
    pub affinity: Option<u32>,
    /// Only EU processing: Switchyard's router keeps EU endpoints; OpenRouter gets its EU host.
    pub eu: bool,
    /// The request with its PDFs as extracted text, for when no endpoint reads files.
    pub text_alternative: Option<std::sync::Arc<ChatRequest>>,
}

/// Runs requests against one source.
pub struct Runtime {
    client: HttpClient,
    endpoint: crate::client::Endpoint,
    router: Option<LocalRouter>,
    observer: Option<LocalRouter>,
    limits: crate::config::LimitsConfig,
    jobs: HashMap<u64, JoinHandle<()>>,
    /// Where a gateway processes in the EU (none: EU requests are refused, not sent).
    eu_base: Option<String>,
    /// Reads back attachments whose bytes only history keeps (none: history is off).
    readback: Option<std::sync::Arc<crate::history::readback::Readback>>,
}

/// The outcome of a job that sent nothing, and why.
fn unsent(why: String) -> Answer {
    Answer {
        text: String::new(),
        served: Default::default(),
        usage: None,
        timings: Default::default(),
        result: Err(crate::client::ChatError::NoRoute(why)),
    }
}

/// A seed for one request's backoff jitter: different for every request, so concurrent
/// requests that fail together do not retry in lockstep.
pub fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.finish()
}

impl Runtime {
    /// A runtime for `source` (its router's client gives up on unreachable endpoints sooner).
    pub fn new(source: &Source) -> Result<Self, String> {
        let client = if source.router.is_some() {
            HttpClient::for_routing()?
        } else {
            HttpClient::new()?
        };
        Ok(Self {
            client,
            endpoint: source.endpoint.clone(),
            router: source.router.clone(),
            observer: source.observer.clone(),
            limits: source.limits.clone(),
            jobs: HashMap::new(),
            eu_base: source.eu_base(),
            readback: None,
        })
    }

    /// Reads attachments sent again from the history at `path` (the workbench, history on).
    pub fn read_back_from(&mut self, path: std::path::PathBuf) {
        self.readback = Some(std::sync::Arc::new(
            crate::history::readback::Readback::new(path),
        ));
    }

    /// The HTTP client (for catalog requests).
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// The router or observer whose health this runtime keeps, and whether it only observes.
    pub fn tracked(&self) -> Option<(&LocalRouter, bool)> {
        match (&self.router, &self.observer) {
            (Some(r), _) => Some((r, false)),
            (None, Some(o)) => Some((o, true)),
            _ => None,
        }
    }

    /// Warnings to show once (saved health that could not be used, a missing model listing).
    pub fn warnings(&self) -> Vec<String> {
        self.router
            .iter()
            .chain(self.observer.iter())
            .flat_map(|r| r.warnings.iter().cloned())
            .collect()
    }

    /// Lets an observer learn `model`'s endpoints before its first answer.
    pub fn learn(&self, model: &str) {
        if let Some(o) = &self.observer {
            o.learn(&self.client, model);
        }
    }

    /// Starts job `id`. `on_event` sees its progress and, last, `JobEvent::Ended`.
    pub fn spawn(
        &mut self,
        id: u64,
        request: ChatRequest,
        opts: JobOptions,
        on_event: impl FnMut(JobEvent) + Send + 'static,
    ) {
        self.spawn_after(None, id, request, opts, on_event)
    }

    /// Starts job `id` once `ready` fires (history has written its prompt), at most
    /// `READY_WAIT` later: a slow disk delays a request, never stops it.
    pub fn spawn_after(
        &mut self,
        ready: Option<tokio::sync::watch::Receiver<bool>>,
        id: u64,
        request: ChatRequest,
        opts: JobOptions,
        mut on_event: impl FnMut(JobEvent) + Send + 'static,
    ) {
        let client = self.client.clone();
        let limits = self.limits.clone();
        let readback = self.readback.clone();
        let (model, models) = (request.model.clone(), request.models.clone());
        let prune = self.readback.clone();
        // A body carrying attachments is tens of MB: its memory goes back when the job ends.
        let trim = request.attached_len() > 8 << 20;
        let text_alternative = opts.text_alternative.clone();
        // The request as it leaves: history has its prompt, and what it sends again is read
        // back (an error ends the job with nothing sent).
        let wait = async move {
            // A writer gone before saying (closed channel) ends the wait at once.
            if let Some(mut r) = ready {
                let _ = tokio::time::timeout(READY_WAIT, r.wait_for(|written| *written)).await;
            }
            let mut request = request;
            let mut alt = text_alternative.map(|a| (*a).clone());
            for r in std::iter::once(&mut request).chain(alt.as_mut()) {
                if r.unresolved().is_empty() {
                    continue;
                }
                match &readback {
                    Some(rb) => rb.resolve(r).await?,
                    None => {
                        return Err(
                            "an attachment's bytes are only in history, which this run does not read; nothing was sent".to_string(),
                        );
                    }
                }
            }
            Ok((request, alt.map(std::sync::Arc::new)))
        };
        let handle = if let Some(router) = self.router.clone() {
            tokio::spawn(crate::history::readback::pruning(prune, trim, async move {
                let (request, text_alternative) = match wait.await {
                    Ok(r) => r,
                    Err(why) => return on_event(JobEvent::Ended(Box::new(unsent(why)))),
                };
                let started = Instant::now();
                let mut exec = crate::routing::exec::ExecOptions {
                    affinity: opts.affinity.map(crate::routing::EndpointId),
                    eu_only: opts.eu,
                    text_alternative,
                    jitter_seed: fresh_seed(),
                    ..router.exec_options()
                };
                if opts.screen {
                    exec.timeouts.batch = Timeouts::for_screen().batch;
                }
                limits.apply(&mut exec.timeouts);
                // The actor's registry may have grown (models registered after start).
                let registry = router.handle.registry().borrow().clone();
                let mut live = crate::routing::exec::LiveWhy::default();
                let routed = crate::routing::exec::execute(
                    &client,
                    &router.handle,
                    &registry,
                    &request,
                    &exec,
                    |ev| {
                        // Ctrl+W while the request runs shows the plan and the attempts so far.
                        if live.on(&ev) {
                            on_event(JobEvent::Why(live.lines()));
                        }
                        if matches!(ev, ExecEvent::Planned(_)) {
                            return;
                        }
                        on_event(match ev {
                            ExecEvent::Attempt {
                                endpoint,
                                provider,
                                model,
                            } => JobEvent::Attempt {
                                endpoint: endpoint.0,
                                provider,
                                model,
                            },
                            ExecEvent::Events(events) => JobEvent::Stream {
                                at: started.elapsed(),
                                events,
                            },
                            other => JobEvent::Routing(other),
                        })
                    },
                )
                .await;
                let registry = router.handle.registry().borrow().clone();
                on_event(JobEvent::Why(explain(
                    &registry,
                    &routed.plan,
                    &routed.attempts,
                )));
                on_event(JobEvent::Ended(Box::new(routed.answer)));
            }))
        } else {
            let mut ep = self.endpoint.clone();
            // OpenRouter processes in the EU behind its EU host (an API call, not a body field).
            let mut eu_unmet = false;
            if opts.eu {
                match &self.eu_base {
                    Some(eu) => ep.base_url = eu.clone(),
                    None => eu_unmet = true,
                }
            }
            if let Some(m) = &model {
                self.learn(m);
            }
            let observer = self.observer.as_ref().map(|o| o.handle.clone());
            let dropped = (ep.kind == crate::client::ServerKind::OpenAi)
                .then_some(models)
                .flatten()
                .filter(|m| !m.is_empty());
            tokio::spawn(crate::history::readback::pruning(prune, trim, async move {
                let (request, _) = match wait.await {
                    Ok(r) => r,
                    Err(why) => return on_event(JobEvent::Ended(Box::new(unsent(why)))),
                };
                if eu_unmet {
                    // Nothing is sent where EU processing cannot be honoured.
                    on_event(JobEvent::Ended(Box::new(unsent(
                        "EU processing was asked for, but this gateway has no EU host (only OpenRouter's is known); nothing was sent".into(),
                    ))));
                    return;
                }
                if let Some(models) = dropped {
                    // Honest about what the wire can't carry: OpenRouter's `models` field.
                    on_event(JobEvent::Routing(ExecEvent::Notice(format!(
                        "fallbacks {} not sent: this server routes itself and does not read OpenRouter's `models` (set openrouter_fields = true if it does)",
                        models.join(", ")
                    ))));
                }
                let started = Instant::now();
                let mut timeouts = if opts.screen {
                    Timeouts::for_screen()
                } else {
                    Timeouts::default()
                };
                limits.apply(&mut timeouts);
                let outcome = client
                    .stream_chat(&ep, &request, timeouts, |events| {
                        on_event(JobEvent::Stream {
                            at: started.elapsed(),
                            events: events.to_vec(),
                        })
                    })
                    .await;
                if let Some(o) = &observer
                    && let Some((provider, model, result)) =
                        crate::routing::exec::attribute(&request, &outcome)
                {
                    o.observe(provider, model, result);
                }
                on_event(JobEvent::Ended(Box::new(outcome)));
            }))
        };
        self.jobs.retain(|_, h| !h.is_finished());
        self.jobs.insert(id, handle);
    }

    /// Stops job `id`: dropping its response closes the connection, so the server stops too.
    pub fn cancel(&mut self, id: u64) {
        if let Some(h) = self.jobs.remove(&id) {
            h.abort();
        }
    }

    /// Whether any job is still running.
    pub fn busy(&mut self) -> bool {
        self.jobs.retain(|_, h| !h.is_finished());
        !self.jobs.is_empty()
    }

    /// Stops every job.
    pub fn cancel_all(&mut self) {
        for (_, h) in self.jobs.drain() {
            h.abort();
        }
    }

    /// Saves routing health for the next run; the errors, worded for a person.
    pub async fn save_health(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for r in self.router.iter().chain(self.observer.iter()) {
            if let Err(e) = r.save().await {
                errors.push(e);
            }
        }
        errors
    }
}
