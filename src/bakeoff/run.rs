//! Running a bake-off headless (`switchyard bakeoff`): every case to every model through the one
//! stream runtime, at most `concurrency` requests at once, shared fairly between the models (so
//! a slow model never holds a fast one back: the run takes the time of its slowest lane), each
//! answer graded by the judge when one is named, and the report written at the end, partial if
//! a limit or Ctrl+C stopped it.

use super::cases::{Case, CaseError, Cases};
use super::report::{CaseInfo, CostFrom, Judgement, Report, Row};
use crate::client::Answer;
use crate::runtime::{JobEvent, JobOptions, Runtime};
use crate::safe_text::neutralise;
use crate::source::Source;
use crate::wire::catalog::Model;
use crate::wire::request::ChatRequest;
use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;
use tokio::sync::mpsc;

/// What `bakeoff` needs.
pub struct BakeoffOptions {
    /// The models compared, in report order.
    pub models: Vec<String>,
    /// What every request asks for beyond the case.
    pub settings: crate::settings::RequestSettings,
    /// The cases (and those that could not be read).
    pub cases: Cases,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// The model that grades each answer.
    pub judge: Option<String>,
    /// Where the report goes (`.md`, `.csv`, `.json`); none: Markdown on standard output.
    pub reports: Vec<PathBuf>,
    /// One JSON object per finished answer and verdict on standard output.
    pub json: bool,
    /// Caps on the cases' attachments.
    pub limits: crate::attach::Limits,
    /// Where the bake-off is kept as a conversation (a case a turn, a model a pane).
    pub history: Option<crate::history::store::Store>,
    /// An earlier (partial) report: its complete answers are kept, only the rest are asked.
    pub resume: Option<Report>,
}

/// The bake-off kept in history as it runs: each case a turn, each model a pane, each answer
/// written when it ends; one still running when the process dies is marked incomplete at the
/// next start, like any other.
struct Kept {
    store: crate::history::store::Store,
    /// The message of each row (case × model), in row order.
    messages: Vec<i64>,
}

impl Kept {
    fn start(
        mut store: crate::history::store::Store,
        cases: &[(Case, crate::attach::Files)],
        models: &[String],
        settings: &crate::settings::RequestSettings,
    ) -> Result<Kept, String> {
        let head = crate::history::writer::Head {
            uid: crate::history::new_uid(),
            title: format!(
                "Bake-off: {} × {}",
                crate::spelling::plural(cases.len(), "case"),
                crate::spelling::plural(models.len(), "model")
            ),
            created_ms: crate::history::now_ms(),
            forked_from: None,
        };
        let panes: Vec<crate::history::PaneRecord> = models
            .iter()
            .enumerate()
            .map(|(i, m)| crate::history::PaneRecord {
                slot: i as u32 + 1,
                model: m.clone(),
                settings: serde_json::to_value(settings).unwrap_or_default(),
            })
            .collect();
        let mut messages = Vec::new();
        for (seq, (c, files)) in cases.iter().enumerate() {
            let files: Vec<crate::history::AttachmentRecord> = files
                .iter()
                .map(|a| crate::history::AttachmentRecord::of(a, 0))
                .collect();
            let ids = store.begin_turn_with(
                &head,
                seq as u32,
                &c.prompt,
                crate::history::now_ms(),
                &panes,
                &files,
            )?;
            messages.extend(ids);
        }
        Ok(Kept { store, messages })
    }

    fn finish(&mut self, row: usize, a: &Answer) {
        use crate::history::Finish;
        let (state, finish_reason, error) = match &a.result {
            Ok(r) => (Finish::Complete, Some(r.clone()), None),
            Err(e) if a.text.is_empty() => (Finish::Error, None, Some(e.to_string())),
            Err(e) => (Finish::Incomplete, None, Some(e.to_string())),
        };
        let ms = |d: std::time::Duration| d.as_millis() as i64;
        let end = crate::history::MessageEnd {
            content: a.text.clone(),
            state: Some(state),
            finish_reason,
            error,
            model_served: a.served.model.clone(),
            provider: a.served.provider.clone(),
            ttft_ms: a.timings.ttft.map(ms),
            total_ms: Some(ms(a.timings.total)),
            prompt_tokens: a.usage.as_ref().map(|u| u.prompt_tokens as i64),
            completion_tokens: a.usage.as_ref().map(|u| u.completion_tokens as i64),
            cost: a.usage.as_ref().and_then(|u| u.cost),
            routing: Default::default(),
        };
        if let Some(&id) = self.messages.get(row)
            && let Err(e) = self.store.finish(id, &end, false)
        {
            eprintln!("switchyard: history: {e}");
        }
    }

    /// Rows never asked (a limit, Ctrl+C) are kept as cancelled, not left streaming.
    fn close(&mut self, rows: &[Row]) {
        for (i, r) in rows.iter().enumerate() {
            if r.finish == "skipped"
                && let Some(&id) = self.messages.get(i)
            {
                let end = crate::history::MessageEnd {
                    state: Some(crate::history::Finish::Cancelled),
                    error: Some("not asked: the bake-off stopped first".into()),
                    ..Default::default()
                };
                let _ = self.store.finish(id, &end, false);
            }
        }
    }
}

/// The bake-off `--resume` names: a report's `.json` file, or a bake-off kept in history by
/// its id (or a unique start of it) — what a run killed before it could write its report left.
pub fn earlier(what: &std::path::Path) -> Result<Report, String> {
    if what.exists() {
        let t = crate::small_file::read(what, 64 << 20).map_err(|e| e.to_string())?;
        return Report::from_json(&t);
    }
    let id = what.to_string_lossy();
    let path = crate::history::path().ok_or("no state directory (set SWITCHYARD_STATE_DIR)")?;
    let store = crate::history::store::Store::open_read_only(&path)
        .map_err(|e| format!("no such report file, and history cannot be read: {e}"))?;
    let uid = store
        .resolve(&id)
        .map_err(|e| format!("no such report file, and in history: {e}"))?;
    let c = store
        .load(&uid)?
        .ok_or_else(|| format!("no conversation {uid} in history"))?;
    Ok(super::report::from_history(&c))
}

/// A report's format, from its file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.md`
    Markdown,
    /// `.csv`
    Csv,
    /// `.json`
    Json,
}

/// The format `path` asks for, or why it names none.
pub fn format_of(path: &std::path::Path) -> Result<Format, String> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("md" | "markdown") => Ok(Format::Markdown),
        Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        _ => Err(format!(
            "--report {}: name a file ending in .md, .csv or .json",
            path.display()
        )),
    }
}

/// The report as text in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Markdown => report.to_markdown(),
        Format::Csv => report.to_csv(),
        Format::Json => {
            serde_json::to_string_pretty(&report.to_json()).expect("a report always serializes")
        }
    }
}

/// One request of the run.
#[derive(Debug, Clone, Copy)]
enum Job {
    /// Case `case` to model `model`.
    Answer { case: usize, model: usize },
    /// The judge grades row `row`.
    Judge { row: usize },
}

/// The schema a judge answers in; a model that ignores it may still end with `Score: N`.
fn judge_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "score": {"type": "number", "minimum": 0, "maximum": 10},
            "reasoning": {"type": "string"}
        },
        "required": ["score", "reasoning"],
        "additionalProperties": false
    })
}

/// What the judge is asked about one answer.
pub fn judge_prompt(case: &Case, answer: &str) -> String {
    let against = match &case.expected {
        Some(e) => format!("\n\nThe expected answer:\n<expected>\n{e}\n</expected>"),
        None => String::new(),
    };
    let rubric = if case.expected.is_some() {
        "how well it agrees with the expected answer, then for clarity"
    } else {
        "correctness, completeness and clarity"
    };
    format!(
        "You grade answers. The task:\n<task>\n{}\n</task>{against}\n\nThe answer to grade:\n<answer>\n{answer}\n</answer>\n\nGrade it from 0 to 10 for {rubric}. Reply with JSON: {{\"score\": N, \"reasoning\": \"a few sentences\"}}.",
        case.prompt
    )
}

/// The judge's verdict read from its reply: the JSON asked for, else a last `Score: N` line.
pub fn read_verdict(reply: &str) -> Judgement {
    let json = crate::schema::reply_json(reply);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(json)
        && let Some(score) = v.get("score").and_then(serde_json::Value::as_f64)
    {
        let reasoning = v
            .get("reasoning")
            .and_then(|r| r.as_str())
            .unwrap_or_default()
            .to_string();
        return verdict(score, reasoning);
    }
    let score = reply.lines().rev().find_map(|l| {
        let l = l.trim().trim_matches('*').trim();
        let rest = l
            .strip_prefix("Score:")
            .or_else(|| l.strip_prefix("score:"))?;
        let n = rest.trim().split(['/', ' ']).next()?;
        n.parse::<f64>().ok()
    });
    match score {
        Some(s) => verdict(s, reply.trim().to_string()),
        None => Judgement {
            score: None,
            reasoning: reply.trim().to_string(),
            error: Some("the judge gave no score".into()),
        },
    }
}

fn verdict(score: f64, reasoning: String) -> Judgement {
    if !(0.0..=10.0).contains(&score) {
        return Judgement {
            score: None,
            reasoning,
            error: Some(format!("the judge's score {score} is outside 0–10")),
        };
    }
    Judgement {
        score: Some(score),
        reasoning,
        error: None,
    }
}

/// The report row an answer makes.
pub fn row_of(case: &Case, model: &str, a: &Answer, catalog: &[Model]) -> Row {
    let usage = a.usage.as_ref();
    let completion = usage.map(|u| u.completion_tokens);
    let (cost, cost_from) = match usage {
        Some(u) if u.cost.is_some() => (u.cost, CostFrom::Usage),
        Some(u) if !u.estimated => {
            let priced = crate::wire::catalog::find_model(catalog, model)
                .and_then(|m| m.pricing.cost(u.prompt_tokens, u.completion_tokens));
            (
                priced,
                if priced.is_some() {
                    CostFrom::Prices
                } else {
                    CostFrom::Unknown
                },
            )
        }
        _ => (None, CostFrom::Unknown),
    };
    let (finish, error) = match &a.result {
        Ok(reason) if reason == "stop" => ("complete".to_string(), None),
        Ok(reason) => (reason.clone(), None),
        Err(e) => ("error".to_string(), Some(e.to_string())),
    };
    let schema_valid = match (&case.schema, &a.result) {
        (Some(s), Ok(_)) => crate::schema::check(s.clone())
            .ok()
            .map(|s| s.validate(&a.text).is_valid()),
        (Some(_), Err(_)) => Some(false),
        _ => None,
    };
    Row {
        case: case.id.clone(),
        model: model.to_string(),
        provider: a.served.provider.clone(),
        served_model: a.served.model.clone(),
        generation_id: a.served.id.clone(),
        finish,
        ttft_ms: a.timings.ttft.map(|d| d.as_millis() as u64),
        total_ms: a.timings.total.as_millis() as u64,
        tokens_per_s: completion.and_then(|c| a.timings.tokens_per_sec(c)),
        prompt_tokens: usage.map(|u| u.prompt_tokens),
        completion_tokens: completion,
        tokens_estimated: usage.is_some_and(|u| u.estimated),
        cost,
        cost_from,
        schema_valid,
        votes: 0,
        judge: None,
        error,
        answer: a.text.clone(),
    }
}

/// The free tier's state for one run: the counter kept in the state directory and the limits
/// the key says apply.
struct FreeTier {
    counter: crate::free_tier::Counter,
    limits: crate::free_tier::Limits,
    path: Option<PathBuf>,
}

impl FreeTier {
    /// Where a gateway routes (its `:free` limits apply): the counter and the key's limits,
    /// with a warning when the run needs more `:free` requests than today has left.
    async fn start(
        source: &Source,
        client: &crate::client::HttpClient,
        opts: &BakeoffOptions,
        cases: usize,
    ) -> Option<FreeTier> {
        let free_models = opts
            .models
            .iter()
            .filter(|m| crate::free_tier::is_free(m))
            .count();
        let judge_free = opts.judge.as_deref().is_some_and(crate::free_tier::is_free);
        if source.router.is_some() || (free_models == 0 && !judge_free) {
            return None;
        }
        let key = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            client.key_info(&source.endpoint),
        )
        .await
        .ok()
        .and_then(Result::ok);
        let limits = match key.and_then(|k| k.is_free_tier) {
            Some(free) => crate::free_tier::Limits::for_key(free),
            None => crate::free_tier::Limits::default(),
        };
        let path = crate::free_tier::path();
        let counter = match path.as_deref().map(crate::free_tier::load) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                eprintln!("switchyard: {e}");
                Default::default()
            }
            None => Default::default(),
        };
        let needed = (cases * (free_models + usize::from(judge_free) * opts.models.len())) as u32;
        let now = crate::free_tier::now_ms();
        if needed > counter.room_today(now, limits) {
            if let Some(w) = counter.warning(now, needed, limits) {
                eprintln!(
                    "switchyard: free tier: {w}; the bake-off stops asking :free models at the limit and reports what it has, marked partial"
                );
            }
        } else if needed > limits.per_minute {
            eprintln!(
                "switchyard: free tier: {needed} :free requests are paced to {} a minute",
                limits.per_minute
            );
        }
        Some(FreeTier {
            counter,
            limits,
            path,
        })
    }

    fn save(&mut self) {
        if let Some(p) = &self.path
            && let Err(e) = crate::free_tier::save(p, &mut self.counter, crate::free_tier::now_ms())
        {
            eprintln!("switchyard: {e}");
        }
    }
}

/// Whether an error is the gateway saying today's free-model requests are used up.
fn is_day_limit(error: &str) -> bool {
    error.contains("free-models-per-day")
}

/// Replaces each answered row's cost with the gateway's record of its generation, where it has
/// one (a record may lag the stream's end by a moment: each is asked up to three times).
async fn exact_costs(
    client: &crate::client::HttpClient,
    ep: &crate::client::Endpoint,
    rows: &mut [Row],
    answered_now: &[bool],
) {
    use futures_util::StreamExt;
    let asks: Vec<(usize, String)> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| r.ok() && answered_now[*i])
        .filter_map(|(i, r)| r.generation_id.clone().map(|g| (i, g)))
        .collect();
    let found: Vec<(usize, Option<f64>)> = futures_util::stream::iter(asks)
        .map(|(i, id)| async move {
            for attempt in 0..3u64 {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(500 * attempt)).await;
                }
                let got = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    client.generation(ep, &id),
                )
                .await;
                if let Ok(Ok(g)) = got {
                    return (i, g.total_cost);
                }
            }
            (i, None)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for (i, cost) in found {
        if let Some(c) = cost {
            rows[i].cost = Some(c);
            rows[i].cost_from = CostFrom::Generation;
        }
    }
}

/// Picks the next job: the lane (model; the judge is a lane of its own) with the fewest
/// requests in flight, ties to the earliest, so every model keeps one going.
fn next_job(
    lanes: &mut [VecDeque<Job>],
    in_flight: &[usize],
    blocked: &[bool],
) -> Option<(usize, Job)> {
    let lane = (0..lanes.len())
        .filter(|&l| !lanes[l].is_empty() && !blocked.get(l).copied().unwrap_or(false))
        .min_by_key(|&l| in_flight[l])?;
    lanes[lane].pop_front().map(|j| (lane, j))
}

/// Runs the bake-off; returns the exit code (0 done, 1 partial, 2 bad input).
pub async fn run(mut opts: BakeoffOptions, source: &Source) -> i32 {
    let formats = match opts
        .reports
        .iter()
        .map(|p| format_of(p))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 2;
        }
    };
    if opts.models.is_empty() {
        eprintln!("switchyard: bakeoff: name the models to compare with -m (once each)");
        return 2;
    }
    let mut case_errors: Vec<CaseError> = opts.cases.errors.clone();
    for e in &case_errors {
        eprintln!("switchyard: case {}: {}", e.at, e.message);
    }
    let client = match crate::client::HttpClient::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 1;
        }
    };
    // The catalog names the models there are and prices answers that carry no cost.
    let catalog = match source.local_catalog() {
        Some(c) => c,
        None => tokio::time::timeout(
            std::time::Duration::from_secs(15),
            client.list_models(&source.endpoint),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default(),
    };
    if !catalog.is_empty() {
        for m in opts.models.iter().chain(&opts.judge) {
            if crate::wire::catalog::find_model(&catalog, m).is_none() {
                let near: Vec<&str> = crate::wire::catalog::fuzzy_filter(&catalog, m)
                    .into_iter()
                    .take(3)
                    .map(|x| x.id.as_str())
                    .collect();
                let hint = if near.is_empty() {
                    "`switchyard models` lists them".to_string()
                } else {
                    format!("did you mean {}?", near.join(", "))
                };
                eprintln!(
                    "switchyard: bakeoff: `{m}` is not in the catalog of {}; {hint}",
                    source.label
                );
                return 2;
            }
        }
    }
    // Each case's files are read and checked before anything is sent; a case whose file cannot
    // be attached is reported and left out.
    let mut cases: Vec<(Case, crate::attach::Files)> = Vec::new();
    'cases: for c in std::mem::take(&mut opts.cases.cases) {
        let mut files = Vec::new();
        let mut already = 0;
        for p in &c.attachments {
            let target = crate::attach::load::Target::Path(p.display().to_string());
            match crate::attach::load::target(&target, opts.limits, already, &client).await {
                Ok(l) => {
                    already += l.attachment.size;
                    files.push(l.attachment);
                }
                Err(e) => {
                    let e = CaseError {
                        at: c.id.clone(),
                        message: e,
                    };
                    eprintln!("switchyard: case {}: {}", e.at, e.message);
                    case_errors.push(e);
                    continue 'cases;
                }
            }
        }
        if let Some(s) = &c.schema
            && let Err(ps) = crate::schema::check(s.clone())
        {
            let e = CaseError {
                at: c.id.clone(),
                message: format!("its schema: {}", ps[0]),
            };
            eprintln!("switchyard: case {}: {}", e.at, e.message);
            case_errors.push(e);
            continue;
        }
        cases.push((c, files.into()));
    }
    if cases.is_empty() {
        eprintln!("switchyard: bakeoff: no case to run");
        return 2;
    }
    let mut rt = match Runtime::new(source) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 1;
        }
    };
    for w in rt.warnings() {
        eprintln!("switchyard: {}", neutralise(&w));
    }

    let models = opts.models.clone();
    let n_models = models.len();
    let mut lanes: Vec<VecDeque<Job>> = vec![VecDeque::new(); n_models + 1];
    let judge_lane = n_models;
    let mut in_flight = vec![0usize; n_models + 1];
    let concurrency = opts.concurrency.max(1);
    // Every (case, model) has a row from the start: one not asked stays `skipped`.
    let mut rows: Vec<Row> = cases
        .iter()
        .flat_map(|(c, _)| {
            models.iter().map(|m| Row {
                case: c.id.clone(),
                model: m.clone(),
                finish: "skipped".into(),
                ..Row::default()
            })
        })
        .collect();
    // Resuming: an answer the earlier report has whole is kept, not asked again.
    if let Some(earlier) = &opts.resume {
        for row in rows.iter_mut() {
            if let Some(done) = earlier
                .rows
                .iter()
                .find(|r| r.case == row.case && r.model == row.model && r.ok())
            {
                *row = done.clone();
            }
        }
    }
    for case in 0..cases.len() {
        for (model, lane) in lanes.iter_mut().take(n_models).enumerate() {
            if rows[case * n_models + model].finish == "skipped" {
                lane.push_back(Job::Answer { case, model });
            }
        }
    }
    let asking = lanes.iter().map(VecDeque::len).sum::<usize>();
    let mut answered_now = vec![false; rows.len()];
    let total_jobs = asking * if opts.judge.is_some() { 2 } else { 1 };
    if opts.resume.is_some() {
        eprintln!(
            "switchyard: resuming: {} answers kept from the earlier run, {asking} to ask",
            rows.len() - asking
        );
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Box<Answer>)>();
    let started_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let started = Instant::now();
    let mut running: std::collections::HashMap<u64, (usize, Job)> = Default::default();
    let mut next_id = 0u64;
    let mut done = 0usize;
    let mut failed = 0usize;
    let mut partial: Option<String> = None;
    let progress = std::io::stderr().is_terminal();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

    // The free tier: where a gateway routes, `:free` models are paced to the minute's limit and
    // stop at the day's, so the other models' answers still come.
    let lane_free: Vec<bool> = models
        .iter()
        .chain(&opts.judge)
        .map(|m| crate::free_tier::is_free(m))
        .chain(std::iter::repeat(false))
        .take(n_models + 1)
        .collect();
    let mut free = FreeTier::start(source, &client, &opts, cases.len()).await;
    let mut kept = match opts
        .history
        .take()
        .map(|s| Kept::start(s, &cases, &models, &opts.settings))
    {
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => {
            eprintln!("switchyard: history: {e}; the bake-off is not kept");
            None
        }
        None => None,
    };

    loop {
        while running.len() < concurrency {
            let now = crate::free_tier::now_ms();
            let blocked: Vec<bool> = lane_free
                .iter()
                .map(|&f| {
                    f && free
                        .as_ref()
                        .is_some_and(|t| t.counter.room(now, t.limits) == 0)
                })
                .collect();
            if let Some(t) = &free
                && t.counter.room_today(now, t.limits) == 0
            {
                // The day's limit: the free lanes' remaining jobs stay `skipped`.
                let mut left = 0;
                for (l, lane) in lanes.iter_mut().enumerate() {
                    if lane_free[l] && !lane.is_empty() {
                        left += lane.len();
                        lane.clear();
                    }
                }
                if left > 0 {
                    let why = format!(
                        "stopped at the free tier's limit of {} :free requests a day; {left} requests to :free models not sent",
                        t.limits.per_day
                    );
                    eprintln!("switchyard: {why}");
                    partial = Some(why);
                }
            }
            let Some((lane, job)) = next_job(&mut lanes, &in_flight, &blocked) else {
                break;
            };
            if lane_free[lane]
                && let Some(t) = &mut free
            {
                t.counter.record(now);
            }
            let request = match job {
                Job::Answer { case, model } => {
                    let (c, files) = &cases[case];
                    let mut settings = opts.settings.clone();
                    if let Some(s) = &c.schema {
                        settings.response_format =
                            Some(crate::schema::response_format("answer", true, s.clone()));
                    }
                    crate::settings::build(
                        &models[model],
                        &settings,
                        [],
                        crate::settings::Prompt::new(&c.prompt, files),
                    )
                }
                Job::Judge { row } => {
                    let case = &cases[row / n_models].0;
                    let mut settings = crate::settings::RequestSettings {
                        response_format: Some(crate::schema::response_format(
                            "verdict",
                            true,
                            judge_schema(),
                        )),
                        // A judge that cannot hold to the schema may still answer in words.
                        no_require_parameters: true,
                        ..Default::default()
                    };
                    settings.provider = opts.settings.provider.clone();
                    crate::settings::build(
                        opts.judge.as_deref().unwrap_or_default(),
                        &settings,
                        [],
                        judge_prompt(case, &rows[row].answer).as_str(),
                    )
                }
            };
            let text_alternative = match job {
                Job::Answer { case, .. } => {
                    let pdfs: Vec<&crate::attach::Attachment> = cases[case]
                        .1
                        .iter()
                        .filter(|a| a.kind == crate::attach::Kind::Pdf)
                        .collect();
                    crate::attach::pdfs_as_text(&request, &pdfs).map(std::sync::Arc::new)
                }
                Job::Judge { .. } => None,
            };
            spawn(
                &mut rt,
                next_id,
                request,
                text_alternative,
                opts.settings.eu,
                &tx,
            );
            running.insert(next_id, (lane, job));
            in_flight[lane] += 1;
            next_id += 1;
        }
        // A free lane waiting for the minute to pass wakes the loop when it has.
        let wake = free.as_ref().and_then(|t| {
            let now = crate::free_tier::now_ms();
            let waiting = lanes
                .iter()
                .enumerate()
                .any(|(l, q)| lane_free[l] && !q.is_empty());
            waiting
                .then(|| t.counter.minute_frees_at(now, t.limits))
                .flatten()
                .map(|at| std::time::Duration::from_millis((at - now).max(1) as u64))
        });
        if running.is_empty() && wake.is_none() {
            break;
        }
        let (lane, job, answer) = tokio::select! {
            _ = tokio::time::sleep(wake.unwrap_or(std::time::Duration::from_secs(3600))), if wake.is_some() => continue,
            got = rx.recv() => match got {
                Some((id, a)) => match running.remove(&id) {
                    Some((lane, job)) => (lane, job, a),
                    None => continue,
                },
                None => break,
            },
            _ = &mut ctrl_c => {
                partial = Some("interrupted (Ctrl+C); the answers in flight were cancelled".into());
                rt.cancel_all();
                running.clear();
                break;
            }
        };
        in_flight[lane] = in_flight[lane].saturating_sub(1);
        done += 1;
        if opts.json {
            let line = match job {
                Job::Answer { case, model } => {
                    let mut v = crate::ask::end_json(&models[model], &answer, started);
                    v["case"] = cases[case].0.id.clone().into();
                    v
                }
                Job::Judge { row } => serde_json::json!({
                    "type": "judge", "case": rows[row].case, "model": rows[row].model,
                    "judge": opts.judge, "text": answer.text,
                    "cost": answer.usage.as_ref().and_then(|u| u.cost),
                    "error": answer.result.as_ref().err().map(|e| e.to_string()),
                }),
            };
            println!("{line}");
        }
        match job {
            Job::Answer { case, model } => {
                let row = case * n_models + model;
                rows[row] = row_of(&cases[case].0, &models[model], &answer, &catalog);
                answered_now[row] = true;
                if let Some(k) = &mut kept {
                    k.finish(row, &answer);
                }
                if let Some(t) = &mut free
                    && rows[row].error.as_deref().is_some_and(is_day_limit)
                {
                    t.counter.mark_exhausted(crate::free_tier::now_ms());
                }
                if !rows[row].ok() {
                    failed += 1;
                }
                if opts.judge.is_some() {
                    if rows[row].ok() {
                        lanes[judge_lane].push_back(Job::Judge { row });
                    } else {
                        done += 1; // nothing to judge
                    }
                }
            }
            Job::Judge { row } => {
                rows[row].judge = Some(match &answer.result {
                    Ok(_) => read_verdict(&answer.text),
                    Err(e) => Judgement {
                        score: None,
                        reasoning: String::new(),
                        error: Some(format!("the judge failed: {e}")),
                    },
                });
            }
        }
        if progress {
            let width = 30;
            let filled = (done * width).checked_div(total_jobs).unwrap_or(width);
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[K[{}{}] {done}/{total_jobs} · {failed} failed · {:.1} s",
                "#".repeat(filled),
                "-".repeat(width - filled),
                started.elapsed().as_secs_f64()
            );
        }
    }
    if progress {
        let _ = writeln!(std::io::stderr());
    }
    if let Some(t) = &mut free {
        t.save();
    }
    if let Some(k) = &mut kept {
        k.close(&rows);
    }
    // A gateway's own record of each generation is the exact cost: asked for this run's
    // answers (an earlier run's, kept by a resume, already have theirs).
    if source.router.is_none() {
        exact_costs(&client, &source.endpoint, &mut rows, &answered_now).await;
    }
    let report = Report {
        started: started_at,
        elapsed_ms: started.elapsed().as_millis() as u64,
        source: source.label.clone(),
        models,
        judge: opts.judge.clone(),
        cases: cases
            .iter()
            .map(|(c, _)| CaseInfo {
                id: c.id.clone(),
                prompt: c.prompt.clone(),
                expected: c.expected.clone(),
                schema: c.schema.clone(),
                attachments: c
                    .attachments
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
            })
            .collect(),
        case_errors,
        rows,
        partial,
    };
    let answers = report.rows.iter().filter(|r| r.finish != "skipped").count();
    let partial_note = if report.partial.is_some() {
        ", partial"
    } else {
        ""
    };
    let mut code = i32::from(report.partial.is_some());
    for (path, format) in opts.reports.iter().zip(formats) {
        let text = render(&report, format);
        if let Err(e) = std::fs::write(path, &text) {
            eprintln!(
                "switchyard: cannot write the report to {}: {e}",
                path.display()
            );
            // The figures are not lost: they go to standard output instead.
            println!("{text}");
            code = 1;
        } else {
            eprintln!(
                "switchyard: report written to {} ({answers} answers, {failed} failed{partial_note})",
                path.display(),
            );
        }
    }
    if opts.reports.is_empty() && !opts.json {
        print!("{}", render(&report, Format::Markdown));
    }
    for e in rt.save_health().await {
        eprintln!("switchyard: {e}");
    }
    code
}

fn spawn(
    rt: &mut Runtime,
    id: u64,
    request: ChatRequest,
    text_alternative: Option<std::sync::Arc<ChatRequest>>,
    eu: bool,
    tx: &mpsc::UnboundedSender<(u64, Box<Answer>)>,
) {
    let tx = tx.clone();
    let opts = JobOptions {
        eu,
        text_alternative,
        ..JobOptions::default()
    };
    rt.spawn(id, request, opts, move |ev| {
        if let JobEvent::Ended(a) = ev {
            let _ = tx.send((id, a));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_read_from_json_or_a_last_score_line_and_never_made_up() {
        let j = read_verdict(r#"{"score": 7.5, "reasoning": "close"}"#);
        assert_eq!((j.score, j.reasoning.as_str()), (Some(7.5), "close"));
        let j = read_verdict("```json\n{\"score\": 3, \"reasoning\": \"off\"}\n```");
        assert_eq!(j.score, Some(3.0));
        let j = read_verdict("It is mostly right.\n**Score: 8/10**");
        assert_eq!(j.score, Some(8.0));
        let j = read_verdict("I like it.");
        assert_eq!(j.score, None);
        assert!(j.error.is_some());
        let j = read_verdict(r#"{"score": 42, "reasoning": "?"}"#);
        assert_eq!(j.score, None, "outside 0–10 is not a score");
    }

    #[test]
    fn lanes_share_the_slots_so_every_model_keeps_one_request_going() {
        let mut lanes: Vec<VecDeque<Job>> = (0..3)
            .map(|m| (0..5).map(|case| Job::Answer { case, model: m }).collect())
            .collect();
        let mut in_flight = vec![0; 3];
        let mut picked = Vec::new();
        let open = [false; 3];
        for _ in 0..3 {
            let (l, _) = next_job(&mut lanes, &in_flight, &open).unwrap();
            in_flight[l] += 1;
            picked.push(l);
        }
        assert_eq!(picked, [0, 1, 2]);
        // Lane 1 finishes first: its next case goes next, not lane 0's second.
        in_flight[1] -= 1;
        assert_eq!(next_job(&mut lanes, &in_flight, &open).unwrap().0, 1);
        // A lane the free tier holds back is passed over while others have work.
        in_flight[1] += 1;
        in_flight[0] -= 1;
        assert_eq!(
            next_job(&mut lanes, &in_flight, &[true, false, false])
                .unwrap()
                .0,
            1
        );
    }

    #[test]
    fn formats_come_from_the_extension() {
        assert_eq!(format_of("r.MD".as_ref()), Ok(Format::Markdown));
        assert_eq!(format_of("r.csv".as_ref()), Ok(Format::Csv));
        assert!(format_of("r.txt".as_ref()).is_err());
    }
}
