//! `switchyard ask`: stream several models concurrently without the TUI.
//!
//! Plain output prints each answer labelled by model (only the answer when there is one model);
//! a live terminal sees a single model's tokens as they arrive, a pipe only complete answers.
//! `--json` prints one object per event. A failed or cut answer is never printed as complete:
//! its partial text goes to stderr, marked incomplete, and the exit status is 1. With a schema,
//! a complete reply that does not match it is printed, its failing paths go to stderr, and the
//! exit status is 1 too.

use crate::client::{Answer, ChatError};
use crate::routing::exec::ExecEvent;
use crate::runtime::{JobEvent, JobOptions};
use crate::safe_text::neutralise;
use crate::source::Source;
use crate::wire::chunk::StreamEvent;
use crate::wire::request::ChatRequest;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::time::Instant;
use tokio::sync::mpsc;

/// What `ask` needs.
pub struct AskOptions {
    /// Models, one answer each.
    pub models: Vec<String>,
    /// What every request asks for beyond the prompt (fallbacks, routing, sampling, …).
    pub settings: crate::settings::RequestSettings,
    /// The prompt.
    pub prompt: String,
    /// JSON-lines output.
    pub json: bool,
    /// Print request bodies instead of sending.
    pub print_request: bool,
    /// Files or URLs to attach, in order.
    pub attach: Vec<String>,
    /// Caps on attachments (`[attachments]`).
    pub limits: crate::attach::Limits,
}

enum Report {
    Event(usize, u128, Box<StreamEvent>),
    /// A routing event as a JSON object (attempt, failover, restart, …) and, when it is news
    /// for a person, its one-line note.
    Routing(serde_json::Value, Option<String>),
    /// A routing event that throws away the text streamed so far (a mid-stream restart).
    Restarted(serde_json::Value, Option<String>),
    Ended(usize, Box<Answer>),
}

/// A routing event as one `--json` object.
fn routing_json(model: &str, t_ms: u128, ev: &ExecEvent) -> serde_json::Value {
    match ev {
        ExecEvent::Failover { reason } => json!({
            "type": "failover", "model": model, "reason": reason, "t_ms": t_ms,
        }),
        ExecEvent::Notice(message) => json!({
            "type": "notice", "model": model, "message": message, "t_ms": t_ms,
        }),
        ExecEvent::Queued { ahead, provider } => json!({
            "type": "queued", "model": model, "ahead": ahead, "provider": provider, "t_ms": t_ms,
        }),
        ExecEvent::Retry { wait, reason } => json!({
            "type": "retry", "model": model, "wait_ms": wait.as_millis(),
            "wait_us": wait.as_micros(),
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
        ExecEvent::Attempt { .. } | ExecEvent::Events(_) | ExecEvent::Planned(_) => json!({}),
    }
}

/// Runs `ask`; returns the process exit code.
pub async fn run(opts: AskOptions, source: &Source) -> i32 {
    let mut stdout = std::io::stdout();
    if opts.prompt.trim().is_empty() {
        eprintln!("switchyard: the prompt is empty");
        return 2;
    }
    // Every file is read and checked before any server is contacted.
    let mut files = Vec::new();
    if !opts.attach.is_empty() {
        let client = match crate::client::HttpClient::new() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("switchyard: {e}");
                return 1;
            }
        };
        let mut already = 0;
        for t in &opts.attach {
            let Some(target) = crate::attach::load::parse_target(t) else {
                eprintln!("switchyard: --attach {t:?}: name one file or URL");
                return 2;
            };
            match crate::attach::load::target(&target, opts.limits, already, &client).await {
                Ok(l) => {
                    already += l.attachment.size;
                    files.push(l.attachment);
                }
                Err(e) => {
                    eprintln!("switchyard: --attach: {e}");
                    return 2;
                }
            }
        }
    }
    let requests: Vec<ChatRequest> = opts
        .models
        .iter()
        .map(|m| {
            crate::settings::build(
                m,
                &opts.settings,
                [],
                crate::settings::Prompt::new(&opts.prompt, &files),
            )
        })
        .collect();
    let pdfs: Vec<&crate::attach::Attachment> = files
        .iter()
        .filter(|a| a.kind == crate::attach::Kind::Pdf)
        .collect();
    if opts.print_request {
        // Exactly what goes on the wire: Switchyard's router sends each endpoint a plain
        // OpenAI request for one model; a source that routes itself gets OpenRouter's dialect.
        let kind = if source.router.is_some() {
            crate::client::ServerKind::OpenAi
        } else {
            source.endpoint.kind
        };
        // The request line and headers go to stderr (the key masked), so stdout stays the
        // bodies alone, ready for `jq`.
        match &source.router {
            None => {
                for h in crate::client::HttpClient::shown_headers(&source.endpoint) {
                    eprintln!("{h}");
                }
            }
            Some(r) => {
                eprintln!("POST <each planned endpoint's base URL>/chat/completions");
                if !r.keys.is_empty() || source.endpoint.key.is_some() {
                    eprintln!("Authorization: Bearer ****");
                }
            }
        }
        for r in &requests {
            let body = crate::client::wire_body(kind, r);
            let text = serde_json::to_string_pretty(&body).expect("requests always serialize");
            let _ = writeln!(stdout, "{text}");
        }
        if source.router.is_some() && !opts.settings.fallbacks.is_empty() {
            eprintln!(
                "switchyard: Switchyard's router sends this to the primary model's endpoint; if it fails, the same request goes to {} with `model` changed",
                opts.settings.fallbacks.join(", ")
            );
        }
        return 0;
    }
    let mut rt = match crate::runtime::Runtime::new(source) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 1;
        }
    };
    for w in rt.warnings() {
        eprintln!("switchyard: {}", neutralise(&w));
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Report>();
    let started = Instant::now();
    for (i, req) in requests.into_iter().enumerate() {
        let tx = tx.clone();
        let model = opts.models[i].clone();
        let job = JobOptions {
            eu: opts.settings.eu,
            text_alternative: crate::attach::pdfs_as_text(&req, &pdfs).map(std::sync::Arc::new),
            ..JobOptions::default()
        };
        rt.spawn(i as u64, req, job, move |ev| {
            let report = match ev {
                JobEvent::Stream { at, events } => {
                    for e in events {
                        let _ = tx.send(Report::Event(i, at.as_millis(), Box::new(e)));
                    }
                    return;
                }
                JobEvent::Attempt {
                    provider,
                    model: served,
                    ..
                } => Report::Routing(
                    json!({
                        "type": "attempt", "model": model, "provider": provider,
                        "served_model": served, "t_ms": started.elapsed().as_millis(),
                    }),
                    None,
                ),
                JobEvent::Routing(ev) => {
                    let note = ev.note().map(|n| format!("{model}: {n}"));
                    let v = routing_json(&model, started.elapsed().as_millis(), &ev);
                    if matches!(ev, ExecEvent::Restart { .. }) {
                        Report::Restarted(v, note)
                    } else {
                        Report::Routing(v, note)
                    }
                }
                JobEvent::Why(_) => return,
                JobEvent::Ended(outcome) => Report::Ended(i, outcome),
            };
            let _ = tx.send(report);
        });
    }
    drop(tx);

    // Structured output: every completed reply is checked against the schema.
    let schema = match &opts.settings.response_format {
        Some(crate::wire::request::ResponseFormat::JsonSchema { json_schema }) => {
            match crate::schema::check(json_schema.schema.clone()) {
                Ok(s) => Some(s),
                Err(ps) => {
                    eprintln!("switchyard: the schema is not usable: {}", ps[0]);
                    return 2;
                }
            }
        }
        _ => None,
    };
    let tty = stdout.is_terminal();
    let live = !opts.json && opts.models.len() == 1 && tty;
    let single = opts.models.len() == 1;
    let mut outcomes: Vec<Option<Answer>> = vec![None; opts.models.len()];
    let mut printed = 0;
    let mut failed = false;
    // What a live terminal shows of the answer so far (erased when the router restarts it).
    let mut shown = String::new();
    while let Some(r) = rx.recv().await {
        match r {
            Report::Event(i, t_ms, ev) => {
                let model = &opts.models[i];
                if opts.json {
                    if let Some(line) = event_json(model, t_ms, &ev) {
                        let _ = writeln!(stdout, "{line}");
                    }
                } else if live && let StreamEvent::Content(c) = &*ev {
                    // What is shown is what gets measured when it must be erased.
                    let c = neutralise(c);
                    let _ = write!(stdout, "{c}");
                    let _ = stdout.flush();
                    shown.push_str(&c);
                }
            }
            Report::Restarted(v, note) => {
                if opts.json {
                    let _ = writeln!(stdout, "{v}");
                } else {
                    // The cut text was shown live; the restarted answer replaces it on screen.
                    if live && !shown.is_empty() {
                        let (cols, rows) = ratatui::crossterm::terminal::size().unwrap_or((80, 24));
                        let used = rows_used(&shown, cols);
                        let _ = write!(stdout, "{}", erase_rows(used));
                        let _ = stdout.flush();
                        if used > usize::from(rows) {
                            eprintln!(
                                "switchyard: the start of the cut answer scrolled out of view and stays above; the complete answer follows"
                            );
                        }
                        shown.clear();
                    }
                    if let Some(line) = note {
                        eprintln!("switchyard: {}", neutralise(&line));
                    }
                }
            }
            Report::Routing(v, note) => {
                if opts.json {
                    let _ = writeln!(stdout, "{v}");
                } else if let Some(line) = note {
                    // The answer stays clean on stdout; what the router did goes to stderr.
                    eprintln!("switchyard: {}", neutralise(&line));
                }
            }
            Report::Ended(i, outcome) => {
                let model = &opts.models[i];
                failed |= outcome.result.is_err();
                let verdict = match (&schema, &outcome.result) {
                    (Some(s), Ok(_)) => Some(s.validate(&outcome.text)),
                    _ => None,
                };
                failed |= verdict.as_ref().is_some_and(|v| !v.is_valid());
                if opts.json {
                    let mut v = end_json(model, &outcome, started);
                    if let Some(verdict) = &verdict {
                        v["schema"] = verdict.to_json();
                    }
                    let _ = writeln!(stdout, "{v}");
                } else if let Some(v) = &verdict {
                    report_verdict(model, v);
                }
                outcomes[i] = Some(*outcome);
                // Plain output keeps flag order: print every finished answer at the front.
                while printed < outcomes.len() {
                    let Some(o) = &outcomes[printed] else { break };
                    if !opts.json {
                        print_plain(&mut stdout, &opts.models[printed], o, single, live, tty);
                    }
                    printed += 1;
                }
            }
        }
    }
    let _ = stdout.flush();
    // Health outlives the run, so the next `ask` starts from what this one learned.
    for e in rt.save_health().await {
        eprintln!("switchyard: {e}");
    }
    i32::from(failed)
}

/// Terminal rows that `text`, printed from the start of a row, occupies at `cols` columns
/// (the row the cursor is on included).
fn rows_used(text: &str, cols: u16) -> usize {
    let cols = usize::from(cols.max(1));
    text.split('\n')
        .map(|line| {
            let w: usize = line
                .chars()
                .map(|c| {
                    if c == '\t' {
                        8
                    } else {
                        unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)
                    }
                })
                .sum();
            w.div_ceil(cols).max(1)
        })
        .sum()
}

/// Moves the cursor to the start of the first of the last `rows` rows and clears from there
/// to the end of the screen.
fn erase_rows(rows: usize) -> String {
    match rows {
        0 | 1 => "\r\x1b[J".to_string(),
        n => format!("\r\x1b[{}A\x1b[J", n - 1),
    }
}

/// Prints one finished answer. A terminal (stdout when `tty`, stderr always) sees server text
/// with control and escape sequences made inert; a pipe gets the answer exactly.
fn print_plain(out: &mut impl Write, model: &str, o: &Answer, single: bool, live: bool, tty: bool) {
    let text = if tty {
        neutralise(&o.text)
    } else {
        std::borrow::Cow::Borrowed(o.text.as_str())
    };
    match &o.result {
        Ok(reason) => {
            if live {
                let _ = writeln!(out);
            } else if single {
                let _ = writeln!(out, "{text}");
            } else {
                let served = o
                    .served
                    .provider
                    .as_deref()
                    .map(|p| format!(" via {}", neutralise(p)))
                    .unwrap_or_default();
                let _ = writeln!(out, "=== {model}{served} ===\n{text}\n");
            }
            if reason != "stop" {
                eprintln!(
                    "switchyard: {model}: finished with reason {:?}",
                    neutralise(reason)
                );
            }
        }
        Err(e) => {
            if live {
                let _ = writeln!(out);
            }
            eprintln!("switchyard: {model}: {}", neutralise(&e.to_string()));
            if !o.text.is_empty() && !live {
                eprintln!(
                    "--- partial answer from {model} (INCOMPLETE) ---\n{}\n--- end of partial answer ---",
                    neutralise(&o.text)
                );
            }
        }
    }
}

/// Says on stderr how a reply failed its schema (a valid one goes unremarked).
fn report_verdict(model: &str, v: &crate::schema::Verdict) {
    use crate::schema::Verdict;
    match v {
        Verdict::Valid => {}
        Verdict::NotJson(p) => {
            eprintln!("switchyard: {model}: the reply does not match the schema: {p}")
        }
        Verdict::Invalid(ps) => {
            eprintln!("switchyard: {model}: the reply does not match the schema:");
            for p in ps {
                let path = if p.path.is_empty() { "(top)" } else { &p.path };
                eprintln!("  {path}: {}", neutralise(&p.message));
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

/// The `done` (or `error`) object that ends one answer in `--json` output.
pub(crate) fn end_json(model: &str, o: &Answer, started: Instant) -> serde_json::Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_used_counts_wrapped_and_ended_lines() {
        assert_eq!(rows_used("hello", 80), 1);
        assert_eq!(rows_used("hello\n", 80), 2);
        assert_eq!(rows_used(&"x".repeat(81), 80), 2);
        assert_eq!(rows_used(&"x".repeat(160), 80), 2);
        assert_eq!(rows_used("a\n\nb", 80), 3);
        assert_eq!(erase_rows(1), "\r\x1b[J");
        assert_eq!(erase_rows(3), "\r\x1b[2A\x1b[J");
    }
}
