//! `switchyard ask`: stream several models concurrently without the TUI.
//!
//! Plain output prints each answer labelled by model (only the answer when there is one model);
//! a live terminal sees a single model's tokens as they arrive, a pipe only complete answers.
//! `--json` prints one object per event. A failed or cut answer is never printed as complete:
//! its partial text goes to stderr, marked incomplete, and the exit status is 1.

use crate::client::{ChatError, HttpClient, Outcome, Timeouts};
use crate::source::Source;
use crate::wire::chunk::StreamEvent;
use crate::wire::request::{ChatRequest, Message};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::time::Instant;
use tokio::sync::mpsc;

/// What `ask` needs.
pub struct AskOptions {
    /// Models, one answer each.
    pub models: Vec<String>,
    /// Fallback models for every request.
    pub fallbacks: Vec<String>,
    /// The prompt.
    pub prompt: String,
    /// Routing preferences sent as `provider` (and used by the local router).
    pub provider: Option<crate::wire::request::ProviderPreferences>,
    /// JSON-lines output.
    pub json: bool,
    /// Print request bodies instead of sending.
    pub print_request: bool,
}

/// Builds the request for one model.
pub fn build_request(model: &str, fallbacks: &[String], prompt: &str) -> ChatRequest {
    ChatRequest {
        model: Some(model.to_string()),
        models: (!fallbacks.is_empty()).then(|| fallbacks.to_vec()),
        messages: vec![Message::user(prompt.to_string())],
        stream: Some(true),
        ..Default::default()
    }
}

enum Report {
    Event(usize, u128, Box<StreamEvent>),
    /// A routing event as a JSON object (attempt, failover, restart, …) and, when it is news
    /// for a person, its one-line note.
    Routing(serde_json::Value, Option<String>),
    Ended(usize, Box<Outcome>),
}

/// Runs `ask`; returns the process exit code.
pub async fn run(opts: AskOptions, source: &Source) -> i32 {
    let mut stdout = std::io::stdout();
    if opts.prompt.trim().is_empty() {
        eprintln!("switchyard: the prompt is empty");
        return 2;
    }
    let requests: Vec<ChatRequest> = opts
        .models
        .iter()
        .map(|m| {
            let mut r = build_request(m, &opts.fallbacks, &opts.prompt);
            r.provider = opts.provider.clone();
            r
        })
        .collect();
    if opts.print_request {
        for r in &requests {
            let body = serde_json::to_string_pretty(r).expect("requests always serialize");
            let _ = writeln!(stdout, "{body}");
        }
        return 0;
    }
    let made = if source.router.is_some() {
        HttpClient::for_routing()
    } else {
        HttpClient::new()
    };
    let client = match made {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 1;
        }
    };
    for w in source
        .router
        .iter()
        .chain(source.observer.iter())
        .filter_map(|r| r.warning.as_ref())
    {
        eprintln!("switchyard: {w}");
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Report>();
    let started = Instant::now();
    for (i, req) in requests.into_iter().enumerate() {
        if let Some(router) = source.router.clone() {
            let (client, tx) = (client.clone(), tx.clone());
            let model = opts.models[i].clone();
            tokio::spawn(async move {
                let t0 = Instant::now();
                let routed = crate::routing::exec::execute(
                    &client,
                    &router.handle,
                    &router.registry,
                    &req,
                    &router.exec_options(),
                    |ev| {
                        use crate::routing::exec::ExecEvent;
                        let t_ms = t0.elapsed().as_millis();
                        let note = ev.note().map(|n| format!("{model}: {n}"));
                        let v = match ev {
                            ExecEvent::Events(events) => {
                                for e in events {
                                    let _ = tx.send(Report::Event(i, t_ms, Box::new(e)));
                                }
                                return;
                            }
                            ExecEvent::Attempt {
                                provider,
                                model: served,
                                ..
                            } => json!({
                                "type": "attempt", "model": model, "provider": provider,
                                "served_model": served, "t_ms": t_ms,
                            }),
                            ExecEvent::Failover { reason } => json!({
                                "type": "failover", "model": model, "reason": reason, "t_ms": t_ms,
                            }),
                            ExecEvent::Notice(message) => json!({
                                "type": "notice", "model": model, "message": message, "t_ms": t_ms,
                            }),
                            ExecEvent::Retry { wait, reason } => json!({
                                "type": "retry", "model": model, "wait_ms": wait.as_millis(),
                                "reason": reason, "t_ms": t_ms,
                            }),
                            ExecEvent::Continue { chars_kept, reason } => json!({
                                "type": "continue", "model": model, "chars_kept": chars_kept,
                                "reason": reason, "t_ms": t_ms,
                            }),
                            ExecEvent::Restart { chars_cut, reason } => json!({
                                "type": "restart", "model": model, "chars_cut": chars_cut,
                                "reason": reason, "t_ms": t_ms,
                            }),
                        };
                        let _ = tx.send(Report::Routing(v, note));
                    },
                )
                .await;
                let _ = tx.send(Report::Ended(i, Box::new(routed.answer)));
            });
            continue;
        }
        let (client, ep, tx) = (client.clone(), source.endpoint.clone(), tx.clone());
        let observer = source.observer.as_ref().map(|o| {
            if let Some(m) = &req.model {
                o.learn(&client, m);
            }
            o.handle.clone()
        });
        tokio::spawn(async move {
            let t0 = Instant::now();
            let outcome = client
                .stream_chat(&ep, &req, Timeouts::default(), |events| {
                    for ev in events {
                        let _ = tx.send(Report::Event(
                            i,
                            t0.elapsed().as_millis(),
                            Box::new(ev.clone()),
                        ));
                    }
                })
                .await;
            if let Some(o) = &observer
                && let Some((provider, model, result)) =
                    crate::routing::exec::attribute(&req, &outcome)
            {
                o.observe(provider, model, result);
            }
            let _ = tx.send(Report::Ended(i, Box::new(outcome)));
        });
    }
    drop(tx);

    let live = !opts.json && opts.models.len() == 1 && stdout.is_terminal();
    let single = opts.models.len() == 1;
    let mut outcomes: Vec<Option<Outcome>> = vec![None; opts.models.len()];
    let mut printed = 0;
    let mut failed = false;
    while let Some(r) = rx.recv().await {
        match r {
            Report::Event(i, t_ms, ev) => {
                let model = &opts.models[i];
                if opts.json {
                    if let Some(line) = event_json(model, t_ms, &ev) {
                        let _ = writeln!(stdout, "{line}");
                    }
                } else if live && let StreamEvent::Content(c) = &*ev {
                    let _ = write!(stdout, "{c}");
                    let _ = stdout.flush();
                }
            }
            Report::Routing(v, note) => {
                if opts.json {
                    let _ = writeln!(stdout, "{v}");
                } else if let Some(line) = note {
                    // The answer stays clean on stdout; what the router did goes to stderr.
                    eprintln!("switchyard: {line}");
                }
            }
            Report::Ended(i, outcome) => {
                let model = &opts.models[i];
                failed |= outcome.result.is_err();
                if opts.json {
                    let _ = writeln!(stdout, "{}", end_json(model, &outcome, started));
                }
                outcomes[i] = Some(*outcome);
                // Plain output keeps flag order: print every finished answer at the front.
                while printed < outcomes.len() {
                    let Some(o) = &outcomes[printed] else { break };
                    if !opts.json {
                        print_plain(&mut stdout, &opts.models[printed], o, single, live);
                    }
                    printed += 1;
                }
            }
        }
    }
    let _ = stdout.flush();
    // Health outlives the run, so the next `ask` starts from what this one learned.
    for r in source.router.iter().chain(source.observer.iter()) {
        if let Err(e) = r.save().await {
            eprintln!("switchyard: {e}");
        }
    }
    i32::from(failed)
}

fn print_plain(out: &mut impl Write, model: &str, o: &Outcome, single: bool, live: bool) {
    match &o.result {
        Ok(reason) => {
            if live {
                let _ = writeln!(out);
            } else if single {
                let _ = writeln!(out, "{}", o.text);
            } else {
                let served = o
                    .served
                    .provider
                    .as_deref()
                    .map(|p| format!(" via {p}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "=== {model}{served} ===\n{}\n", o.text);
            }
            if reason != "stop" {
                eprintln!("switchyard: {model}: finished with reason {reason:?}");
            }
        }
        Err(e) => {
            if live {
                let _ = writeln!(out);
            }
            eprintln!("switchyard: {model}: {e}");
            if !o.text.is_empty() && !live {
                eprintln!(
                    "--- partial answer from {model} (INCOMPLETE) ---\n{}\n--- end of partial answer ---",
                    o.text
                );
            }
        }
    }
}

fn event_json(model: &str, t_ms: u128, ev: &StreamEvent) -> Option<serde_json::Value> {
    Some(match ev {
        StreamEvent::Content(c) => {
            json!({"type": "delta", "model": model, "text": c, "t_ms": t_ms})
        }
        StreamEvent::Reasoning(r) => {
            json!({"type": "reasoning", "model": model, "text": r, "t_ms": t_ms})
        }
        StreamEvent::Usage(u) => {
            json!({"type": "usage", "model": model, "usage": u, "cost": u.cost, "t_ms": t_ms})
        }
        StreamEvent::Served(s) => {
            json!({"type": "served", "model": model, "served_model": s.model, "provider": s.provider, "id": s.id, "t_ms": t_ms})
        }
        StreamEvent::Malformed(m) => {
            json!({"type": "warning", "model": model, "message": format!("malformed event skipped: {m}"), "t_ms": t_ms})
        }
        _ => return None,
    })
}

fn end_json(model: &str, o: &Outcome, started: Instant) -> serde_json::Value {
    let timings = json!({
        "ttft_ms": o.timings.ttft.map(|d| d.as_millis() as u64),
        "total_ms": o.timings.total.as_millis() as u64,
        "since_start_ms": started.elapsed().as_millis() as u64,
    });
    match &o.result {
        Ok(reason) => json!({
            "type": "done", "model": model,
            "served_model": o.served.model, "provider": o.served.provider, "id": o.served.id,
            "text": o.text, "finish_reason": reason,
            "usage": o.usage, "cost": o.usage.as_ref().and_then(|u| u.cost),
            "timings": timings,
        }),
        Err(e) => {
            let (status, message) = match e {
                ChatError::Api(a) => (a.effective_status(), a.to_string()),
                other => (None, other.to_string()),
            };
            json!({
                "type": "error", "model": model,
                "served_model": o.served.model, "provider": o.served.provider,
                "status": status, "message": message,
                "partial_text": o.text, "complete": false,
                "timings": timings,
            })
        }
    }
}
