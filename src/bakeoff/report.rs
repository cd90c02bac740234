//! A bake-off's results and the report made of them (pure): one row per case and model, totals
//! per model, and the same figures as Markdown (to read), CSV (to chart) and JSON (to keep, and
//! to read back to re-run).

use super::cases::CaseError;
use serde::{Deserialize, Serialize};

/// Where a row's cost comes from, most exact first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CostFrom {
    /// The gateway's own record of the generation (`GET /generation?id=`).
    Generation,
    /// The `usage.cost` the stream carried.
    Usage,
    /// Usage tokens times the catalog's prices.
    Prices,
    /// Nothing says.
    #[default]
    Unknown,
}

impl CostFrom {
    /// Its name in CSV and Markdown.
    pub fn name(self) -> &'static str {
        match self {
            CostFrom::Generation => "generation",
            CostFrom::Usage => "usage",
            CostFrom::Prices => "prices",
            CostFrom::Unknown => "unknown",
        }
    }
}

/// A judge model's verdict on one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Judgement {
    /// 0–10, when the judge gave one it could be read from.
    pub score: Option<f64>,
    /// The judge's words.
    pub reasoning: String,
    /// Why there is no verdict (the judge failed or answered without a score).
    pub error: Option<String>,
}

/// One model's answer to one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Row {
    /// The case's id.
    pub case: String,
    /// The model asked.
    pub model: String,
    /// The provider that served (as the response names it).
    pub provider: Option<String>,
    /// The model that served (a fallback, a dated version).
    pub served_model: Option<String>,
    /// The generation's id (to look its cost up).
    pub generation_id: Option<String>,
    /// `complete`, `error`, `cancelled`, `skipped` (the free tier's limit), `length`, …
    pub finish: String,
    /// Time to first token.
    pub ttft_ms: Option<u64>,
    /// Time to the end.
    pub total_ms: u64,
    /// Completion tokens per second after the first token.
    pub tokens_per_s: Option<f64>,
    /// Prompt tokens.
    pub prompt_tokens: Option<u64>,
    /// Completion tokens.
    pub completion_tokens: Option<u64>,
    /// Whether the token counts are Switchyard's estimate (no usage came).
    #[serde(default)]
    pub tokens_estimated: bool,
    /// USD.
    pub cost: Option<f64>,
    /// Where `cost` comes from.
    #[serde(default)]
    pub cost_from: CostFrom,
    /// Whether the answer matched the case's schema (none: no schema).
    pub schema_valid: Option<bool>,
    /// Votes for it as the best answer of its case.
    #[serde(default)]
    pub votes: u32,
    /// The judge's verdict.
    pub judge: Option<Judgement>,
    /// Why it failed.
    pub error: Option<String>,
    /// The answer (partial when it failed).
    pub answer: String,
}

impl Row {
    /// Whether the answer came whole.
    pub fn ok(&self) -> bool {
        self.error.is_none() && !self.pending() && self.finish != "skipped"
    }

    /// Still streaming (the workbench's view of a bake-off in progress): neither answered nor
    /// failed yet.
    pub fn pending(&self) -> bool {
        self.finish == "streaming"
    }
}

/// A case as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CaseInfo {
    /// Its id.
    pub id: String,
    /// Its prompt.
    pub prompt: String,
    /// The answer hoped for.
    pub expected: Option<String>,
    /// Its schema.
    pub schema: Option<serde_json::Value>,
    /// Files it attaches.
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// A whole bake-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Report {
    /// When it started (seconds since 1970, UTC).
    pub started: i64,
    /// Wall time from the first request to the last answer.
    pub elapsed_ms: u64,
    /// Where the requests went.
    pub source: String,
    /// The models, in the order asked.
    pub models: Vec<String>,
    /// The judge model, if one graded.
    pub judge: Option<String>,
    /// The cases run.
    pub cases: Vec<CaseInfo>,
    /// Cases that could not be read.
    #[serde(default)]
    pub case_errors: Vec<CaseError>,
    /// One per case and model, in case order.
    pub rows: Vec<Row>,
    /// Why the bake-off stopped before the end (a limit, an interrupt).
    pub partial: Option<String>,
}

/// One model's figures over every case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Total {
    /// The model.
    pub model: String,
    /// Answers that came whole.
    pub answered: usize,
    /// Answers that failed.
    pub failed: usize,
    /// Cases not asked (a limit stopped it).
    pub skipped: usize,
    /// The median time to first token.
    pub ttft_p50_ms: Option<u64>,
    /// The mean of each answer's tokens per second.
    pub tokens_per_s: Option<f64>,
    /// Prompt and completion tokens, summed.
    pub tokens: u64,
    /// Known costs, summed.
    pub cost: f64,
    /// Answers whose cost is not known (so `cost` is a floor).
    pub cost_unknown: usize,
    /// Answers that matched their schema, of those that had one.
    pub schema_valid: Option<(usize, usize)>,
    /// Votes, summed.
    pub votes: u32,
    /// The mean judge score over the answers it scored.
    pub judge_mean: Option<f64>,
}

impl Report {
    /// The figures per model, in the order asked.
    pub fn totals(&self) -> Vec<Total> {
        self.models
            .iter()
            .map(|m| {
                let rows: Vec<&Row> = self.rows.iter().filter(|r| &r.model == m).collect();
                let mut ttft: Vec<u64> = rows.iter().filter_map(|r| r.ttft_ms).collect();
                ttft.sort_unstable();
                let tps: Vec<f64> = rows.iter().filter_map(|r| r.tokens_per_s).collect();
                let scores: Vec<f64> = rows
                    .iter()
                    .filter_map(|r| r.judge.as_ref().and_then(|j| j.score))
                    .collect();
                let with_schema: Vec<bool> = rows.iter().filter_map(|r| r.schema_valid).collect();
                let asked: Vec<&&Row> = rows
                    .iter()
                    .filter(|r| r.finish != "skipped" && !r.pending())
                    .collect();
                Total {
                    model: m.clone(),
                    answered: rows.iter().filter(|r| r.ok()).count(),
                    failed: asked.iter().filter(|r| !r.ok()).count(),
                    skipped: rows.iter().filter(|r| r.finish == "skipped").count(),
                    ttft_p50_ms: (!ttft.is_empty()).then(|| ttft[(ttft.len() - 1) / 2]),
                    tokens_per_s: mean(&tps),
                    tokens: rows
                        .iter()
                        .map(|r| r.prompt_tokens.unwrap_or(0) + r.completion_tokens.unwrap_or(0))
                        .sum(),
                    cost: rows.iter().filter_map(|r| r.cost).sum(),
                    cost_unknown: asked.iter().filter(|r| r.cost.is_none()).count(),
                    schema_valid: (!with_schema.is_empty()).then(|| {
                        (
                            with_schema.iter().filter(|v| **v).count(),
                            with_schema.len(),
                        )
                    }),
                    votes: rows.iter().map(|r| r.votes).sum(),
                    judge_mean: mean(&scores),
                }
            })
            .collect()
    }

    /// The report as JSON (the rows, the totals and everything needed to run it again).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("a report always serializes");
        v["totals"] = serde_json::to_value(self.totals()).expect("totals always serialize");
        v
    }

    /// A report read back from [`Report::to_json`]'s text.
    pub fn from_json(text: &str) -> Result<Report, String> {
        serde_json::from_str(text).map_err(|e| format!("not a bake-off report: {e}"))
    }

    /// The rows as CSV, one line per case and model, a header first.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(CSV_HEADER);
        for r in &self.rows {
            let num = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
            let _ = w.write_record([
                r.case.clone(),
                r.model.clone(),
                r.provider.clone().unwrap_or_default(),
                r.served_model.clone().unwrap_or_default(),
                r.finish.clone(),
                num(r.ttft_ms),
                r.total_ms.to_string(),
                r.tokens_per_s
                    .map(|x| format!("{x:.1}"))
                    .unwrap_or_default(),
                num(r.prompt_tokens),
                num(r.completion_tokens),
                r.cost.map(|c| format!("{c}")).unwrap_or_default(),
                r.cost_from.name().to_string(),
                r.schema_valid.map(|v| v.to_string()).unwrap_or_default(),
                r.votes.to_string(),
                r.judge
                    .as_ref()
                    .and_then(|j| j.score)
                    .map(|s| format!("{s}"))
                    .unwrap_or_default(),
                r.judge
                    .as_ref()
                    .map(|j| j.error.clone().unwrap_or_else(|| j.reasoning.clone()))
                    .unwrap_or_default(),
                r.error.clone().unwrap_or_default(),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The report as Markdown: the totals, then each case's table and answers.
    pub fn to_markdown(&self) -> String {
        use crate::wire::catalog::format_cost;
        let mut s = String::new();
        let title = format!(
            "# Bake-off: {} × {}\n\n",
            crate::spelling::plural(self.cases.len(), "case"),
            crate::spelling::plural(self.models.len(), "model")
        );
        s.push_str(&title);
        s.push_str(&format!(
            "Run {} on {}, {:.1} s.",
            date(self.started),
            md_cell(&self.source),
            self.elapsed_ms as f64 / 1000.0
        ));
        if let Some(j) = &self.judge {
            s.push_str(&format!(" Judged by {}.", md_cell(j)));
        }
        s.push('\n');
        if let Some(p) = &self.partial {
            s.push_str(&format!("\n**Partial:** {}\n", md_cell(p)));
        }
        s.push_str("\n## Totals\n\n");
        s.push_str(
            "| Model | Answered | Failed | TTFT p50 | tok/s | Tokens | Cost | Schema ✓ | Votes | Judge |\n",
        );
        s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for t in self.totals() {
            let failed = if t.skipped > 0 {
                format!("{} (+{} not asked)", t.failed, t.skipped)
            } else {
                t.failed.to_string()
            };
            let cost = match t.cost_unknown {
                0 => format_cost(t.cost),
                n => format!("≥ {} ({n} unknown)", format_cost(t.cost)),
            };
            s.push_str(&format!(
                "| {} | {} | {failed} | {} | {} | {} | {cost} | {} | {} | {} |\n",
                md_cell(&t.model),
                t.answered,
                ms(t.ttft_p50_ms),
                t.tokens_per_s.map_or("–".into(), |x| format!("{x:.0}")),
                t.tokens,
                t.schema_valid
                    .map_or("–".into(), |(v, n)| format!("{v}/{n}")),
                t.votes,
                t.judge_mean.map_or("–".into(), |x| format!("{x:.1}")),
            ));
        }
        if !self.case_errors.is_empty() {
            s.push_str("\n## Cases not run\n\n");
            for e in &self.case_errors {
                s.push_str(&format!("- {}: {}\n", md_cell(&e.at), md_cell(&e.message)));
            }
        }
        s.push_str("\n## Cases\n");
        for c in &self.cases {
            s.push_str(&format!("\n### {}\n\n", md_cell(&c.id)));
            for l in c.prompt.lines().take(8) {
                s.push_str(&format!("> {l}\n"));
            }
            if c.prompt.lines().count() > 8 {
                s.push_str(&format!(
                    "> … {} more lines\n",
                    c.prompt.lines().count() - 8
                ));
            }
            if let Some(e) = &c.expected {
                s.push_str(&format!("\nExpected: {}\n", md_cell(e)));
            }
            s.push_str(
                "\n| Model | Provider | TTFT | tok/s | Tokens | Cost | Schema | Votes | Judge | Result |\n",
            );
            s.push_str("|---|---|---:|---:|---:|---:|---|---:|---:|---|\n");
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.case == c.id).collect();
            for r in &rows {
                let tokens = match (r.prompt_tokens, r.completion_tokens) {
                    (None, None) => "–".to_string(),
                    (p, c) => format!(
                        "{}{} + {}",
                        if r.tokens_estimated { "≈" } else { "" },
                        p.unwrap_or(0),
                        c.unwrap_or(0)
                    ),
                };
                let result = match &r.error {
                    Some(e) => format!("{}: {}", r.finish, md_cell(e)),
                    None => r.finish.clone(),
                };
                s.push_str(&format!(
                    "| {} | {} | {} | {} | {tokens} | {} | {} | {} | {} | {result} |\n",
                    md_cell(&r.model),
                    md_cell(r.provider.as_deref().unwrap_or("–")),
                    ms(r.ttft_ms),
                    r.tokens_per_s.map_or("–".into(), |x| format!("{x:.0}")),
                    r.cost.map_or("–".into(), format_cost),
                    r.schema_valid.map_or("–", |v| if v { "✓" } else { "✗" }),
                    r.votes,
                    r.judge.as_ref().map_or("–".into(), |j| j
                        .score
                        .map_or_else(|| "failed".into(), |x| format!("{x:.1}"))),
                ));
            }
            for r in rows.iter().filter(|r| r.finish != "skipped") {
                s.push_str(&format!("\n#### {}\n\n", md_cell(&r.model)));
                if r.answer.is_empty() {
                    s.push_str("*(no answer)*\n");
                } else {
                    let fence = if r.answer.contains("```") {
                        "````"
                    } else {
                        "```"
                    };
                    s.push_str(&format!("{fence}text\n{}\n{fence}\n", r.answer.trim_end()));
                }
                if let Some(j) = &r.judge {
                    let why = j.error.as_deref().unwrap_or(&j.reasoning);
                    s.push_str(&format!("\nJudge: {}\n", md_cell(why)));
                }
            }
        }
        s
    }
}

/// A bake-off kept in history (a case a turn, a model a pane) as a report, to resume it: the
/// prompts become cases (`1`, `2`, …; expected answers and schemas are not kept there), each
/// complete answer a complete row, every other one a row to ask again.
pub fn from_history(c: &crate::history::Conversation) -> Report {
    let mut panes = c.panes.clone();
    panes.sort_by_key(|p| p.slot);
    let models: Vec<String> = panes.iter().map(|p| p.model.clone()).collect();
    let mut rows = Vec::new();
    let mut cases = Vec::new();
    for t in &c.turns {
        let id = format!("{}", t.seq + 1);
        // Files come back by their paths, read again when the case is asked.
        cases.push(CaseInfo {
            id: id.clone(),
            prompt: t.prompt.clone(),
            attachments: t
                .attachments
                .iter()
                .filter_map(|a| match &a.origin {
                    crate::attach::Origin::Path(p) => Some(p.clone()),
                    _ => None,
                })
                .collect(),
            ..Default::default()
        });
        for p in &panes {
            let m = t.messages.iter().find(|m| m.slot == p.slot);
            let row = match m {
                Some(m) if m.end.state == Some(crate::history::Finish::Complete) => {
                    let e = &m.end;
                    let ms = |v: i64| std::time::Duration::from_millis(v.max(0) as u64);
                    let timings = crate::client::Timings {
                        ttft: e.ttft_ms.map(ms),
                        total: ms(e.total_ms.unwrap_or(0)),
                        chunks: 0,
                    };
                    Row {
                        case: id.clone(),
                        model: p.model.clone(),
                        provider: e.provider.clone(),
                        served_model: e.model_served.clone(),
                        finish: "complete".into(),
                        ttft_ms: e.ttft_ms.map(|v| v as u64),
                        total_ms: e.total_ms.unwrap_or(0) as u64,
                        tokens_per_s: e
                            .completion_tokens
                            .and_then(|n| timings.tokens_per_sec(n.max(0) as u64)),
                        prompt_tokens: e.prompt_tokens.map(|v| v as u64),
                        completion_tokens: e.completion_tokens.map(|v| v as u64),
                        cost: e.cost,
                        cost_from: if e.cost.is_some() {
                            CostFrom::Usage
                        } else {
                            CostFrom::Unknown
                        },
                        answer: e.content.clone(),
                        ..Row::default()
                    }
                }
                _ => Row {
                    case: id.clone(),
                    model: p.model.clone(),
                    finish: "skipped".into(),
                    ..Row::default()
                },
            };
            rows.push(row);
        }
    }
    Report {
        started: c.created_ms / 1000,
        source: String::new(),
        models,
        cases,
        rows,
        ..Default::default()
    }
}

/// The CSV's columns.
pub const CSV_HEADER: [&str; 17] = [
    "case",
    "model",
    "provider",
    "served_model",
    "finish",
    "ttft_ms",
    "total_ms",
    "tokens_per_s",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "cost_from",
    "schema_valid",
    "votes",
    "judge_score",
    "judge_reasoning",
    "error",
];

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

fn ms(v: Option<u64>) -> String {
    v.map_or("–".into(), |x| format!("{x} ms"))
}

/// Text made safe for one Markdown table cell: one line, no pipes breaking the table.
fn md_cell(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    one.replace('|', "\\|")
}

/// `2026-12-02 01:30 UTC`.
fn date(secs: i64) -> String {
    format!("{} UTC", crate::history::date(secs * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let row = |case: &str, model: &str, cost: Option<f64>, ttft: u64| Row {
            case: case.into(),
            model: model.into(),
            provider: Some("Fleet | A".into()),
            finish: "complete".into(),
            ttft_ms: Some(ttft),
            total_ms: ttft + 500,
            tokens_per_s: Some(40.0),
            prompt_tokens: Some(10),
            completion_tokens: Some(20),
            cost,
            cost_from: if cost.is_some() {
                CostFrom::Usage
            } else {
                CostFrom::Unknown
            },
            answer: "Paris, \"of course\" | yes,\nit is".into(),
            ..Row::default()
        };
        let mut failed = row("b", "m/two", None, 0);
        failed.error = Some("429: rate-limited, upstream".into());
        failed.finish = "error".into();
        failed.ttft_ms = None;
        failed.tokens_per_s = None;
        Report {
            started: 1_764_639_000,
            elapsed_ms: 1500,
            source: "simulated fleet".into(),
            models: vec!["m/one".into(), "m/two".into()],
            cases: vec![
                CaseInfo {
                    id: "a".into(),
                    prompt: "Capital?".into(),
                    ..Default::default()
                },
                CaseInfo {
                    id: "b".into(),
                    prompt: "Why?".into(),
                    ..Default::default()
                },
            ],
            case_errors: vec![CaseError {
                at: "line 3".into(),
                message: "not JSON".into(),
            }],
            rows: vec![
                row("a", "m/one", Some(0.001), 100),
                row("a", "m/two", Some(0.002), 300),
                row("b", "m/one", Some(0.0005), 200),
                failed,
            ],
            ..Default::default()
        }
    }

    #[test]
    fn totals_sum_each_models_rows_and_count_what_is_unknown() {
        let t = sample().totals();
        assert_eq!(t[0].answered, 2);
        assert!((t[0].cost - 0.0015).abs() < 1e-12);
        assert_eq!(t[0].ttft_p50_ms, Some(100));
        assert_eq!(t[0].tokens, 60);
        assert_eq!((t[1].answered, t[1].failed, t[1].cost_unknown), (1, 1, 1));
        assert_eq!(t[1].ttft_p50_ms, Some(300));
    }

    #[test]
    fn csv_and_json_read_back_to_the_same_figures() {
        let r = sample();
        let csv = r.to_csv();
        let mut rd = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(rd.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
        let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
        assert_eq!(recs.len(), 4);
        assert_eq!(&recs[0][10], "0.001");
        assert_eq!(
            &recs[3][16], "429: rate-limited, upstream",
            "a comma stays in its cell"
        );
        let back = Report::from_json(&r.to_json().to_string()).unwrap();
        assert_eq!(back, r);
        assert!(Report::from_json("{}").is_err());
    }

    #[test]
    fn markdown_keeps_tables_whole_and_says_what_failed() {
        let md = sample().to_markdown();
        assert!(md.starts_with("# Bake-off: 2 cases × 2 models"));
        assert!(
            md.contains("| m/two | 1 | 1 | 300 ms | 40 | 60 | ≥ $0.002 (1 unknown) |"),
            "{md}"
        );
        assert!(md.contains("- line 3: not JSON"));
        assert!(md.contains("error: 429: rate-limited, upstream"));
        // A pipe in an answer's text is inside a fence, not a table.
        assert!(md.contains("```text\nParis, \"of course\" | yes,\nit is\n```"));
        assert!(md.contains("2025-12-02 01:30 UTC"), "{md}");
    }
}
