//! The bake-off view (F10): the conversation's prompts as cases and the panes' models as lanes,
//! scored side by side — the same `bakeoff::report::Report` the headless `switchyard bakeoff`
//! writes, made from the panes' turns. A vote key marks each case's best answer; the report is
//! saved as Markdown, CSV or JSON by the file's extension.

use super::keymap::{Action, Context, hints};
use super::layers::{Layer, Reply};
use super::state::{App, Level, TurnState};
use super::update::Effect;
use crate::bakeoff::report::{CaseInfo, CostFrom, Report, Row};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;

/// The view's state.
#[derive(Default)]
pub struct Board {
    /// The highlighted case (turn index), once the user picks one; until then the latest.
    pub case: Option<usize>,
    /// The highlighted model (pane index).
    pub model: usize,
    /// The path being typed to save the report to, while saving.
    pub save_as: Option<String>,
    /// Whether the path typed names a cases file to run (else the report to save).
    pub loading: bool,
}

impl Board {
    /// Opens the view on the latest case.
    pub fn open(app: &mut App) {
        let cases = cases(app);
        if cases == 0 {
            app.notify(
                "no prompt sent yet: send one to every pane, then F10 compares them",
                Level::Error,
            );
        }
        app.layers.push(Box::new(Board {
            case: None,
            model: app.focus,
            save_as: None,
            loading: false,
        }));
    }

    /// The case shown: the one picked, else the latest (it follows new prompts as they start).
    pub fn current(&self, app: &App) -> usize {
        let last = cases(app).saturating_sub(1);
        self.case.map_or(last, |c| c.min(last))
    }
}

/// How many cases (prompts) the panes hold: the most turns any pane has.
fn cases(app: &App) -> usize {
    app.panes.iter().map(|p| p.turns.len()).max().unwrap_or(0)
}

/// The report of the panes' turns as they stand (an unfinished answer is `streaming`), with
/// every prompt and answer, as saved.
pub fn report(app: &App) -> Report {
    report_with(app, true)
}

/// The report's figures without the prompts' and answers' text: what a frame draws, so a
/// frame does not copy the whole transcript (the view takes the shown case's text from its
/// turns).
pub fn scores(app: &App) -> Report {
    report_with(app, false)
}

fn report_with(app: &App, text: bool) -> Report {
    let n = cases(app);
    let case_id = |i: usize| format!("{}", i + 1);
    let cases: Vec<CaseInfo> = (0..n)
        .map(|i| CaseInfo {
            id: case_id(i),
            prompt: app
                .panes
                .iter()
                .find_map(|p| p.turns.get(i).map(|t| t.prompt.clone()))
                .filter(|_| text)
                .unwrap_or_default(),
            attachments: app
                .panes
                .iter()
                .find_map(|p| p.turns.get(i))
                .map(|t| t.attachments.iter().map(|a| a.name.clone()).collect())
                .unwrap_or_default(),
            ..Default::default()
        })
        .collect();
    let mut rows = Vec::new();
    for i in 0..n {
        for p in &app.panes {
            let Some(t) = p.turns.get(i) else {
                rows.push(Row {
                    case: case_id(i),
                    model: p.model.clone(),
                    finish: "skipped".into(),
                    ..Row::default()
                });
                continue;
            };
            let (finish, error) = match &t.state {
                TurnState::Done(r) if r == "stop" => ("complete".to_string(), None),
                TurnState::Done(r) => (r.clone(), None),
                TurnState::Failed(e) => ("error".to_string(), Some(e.to_string())),
                TurnState::Cancelled => {
                    ("cancelled".to_string(), Some("stopped by the user".into()))
                }
                TurnState::Waiting { .. } | TurnState::Streaming => ("streaming".to_string(), None),
            };
            let usage = t.usage.as_ref();
            let estimated = usage.is_none_or(|u| u.estimated);
            let cost = usage.and_then(|u| u.cost);
            rows.push(Row {
                case: case_id(i),
                model: p.model.clone(),
                provider: t.served.provider.clone(),
                served_model: t.served.model.clone(),
                generation_id: t.served.id.clone(),
                finish,
                ttft_ms: t.ttft.map(|d| d.as_millis() as u64),
                total_ms: t.last_at.map_or(0, |d| d.as_millis() as u64),
                tokens_per_s: t.tokens_per_sec().map(|(r, _)| r),
                prompt_tokens: usage.map(|u| u.prompt_tokens),
                completion_tokens: Some(usage.map_or(t.est_tokens, |u| u.completion_tokens)),
                tokens_estimated: estimated,
                cost,
                cost_from: if cost.is_some() {
                    CostFrom::Usage
                } else {
                    CostFrom::Unknown
                },
                schema_valid: t.verdict.as_ref().map(crate::schema::Verdict::is_valid),
                votes: u32::from(app.votes.get(&i) == Some(&p.id)),
                judge: None,
                error,
                answer: if text {
                    t.raw
                        .clone()
                        .unwrap_or_else(|| t.answer.source().to_string())
                } else {
                    String::new()
                },
            });
        }
    }
    Report {
        started: app.conversation.created_ms / 1000,
        elapsed_ms: 0,
        source: app.source_label.clone(),
        models: app.panes.iter().map(|p| p.model.clone()).collect(),
        judge: None,
        cases,
        case_errors: Vec::new(),
        rows,
        partial: app
            .panes
            .iter()
            .any(|p| p.active_turn().is_some())
            .then(|| "answers were still streaming when it was saved".to_string()),
    }
}

impl Layer for Board {
    fn context(&self) -> Context {
        Context::Bakeoff
    }

    fn key(
        &mut self,
        app: &mut App,
        action: Option<Action>,
        typed: Option<char>,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        if let Some(path) = &mut self.save_as {
            match action {
                Some(Action::Close | Action::Interrupt) => self.save_as = None,
                Some(Action::Erase) => {
                    path.pop();
                }
                Some(Action::Choose | Action::Vote) if self.loading => {
                    let path = std::path::PathBuf::from(path.trim());
                    fx.push(Effect::LoadCases(path));
                    self.save_as = None;
                }
                Some(Action::Choose | Action::Vote) => {
                    let path = std::path::PathBuf::from(path.trim());
                    match crate::bakeoff::run::format_of(&path) {
                        Ok(f) => {
                            let text = crate::bakeoff::run::render(&report(app), f);
                            fx.push(Effect::WriteReport { path, text });
                            self.save_as = None;
                        }
                        Err(e) => app.notify(e.trim_start_matches("--report "), Level::Error),
                    }
                }
                _ => {
                    if let Some(c) = typed
                        && path.len() < 4096
                    {
                        path.push(c);
                    }
                }
            }
            return Reply::Keep;
        }
        let n = cases(app);
        match action {
            Some(Action::Close | Action::Interrupt) => return Reply::Close,
            Some(Action::Select(d)) => {
                let now = self.current(app);
                self.case = Some(
                    now.saturating_add_signed(d as isize)
                        .min(n.saturating_sub(1)),
                );
            }
            Some(Action::Sideways(d)) => {
                self.model = self
                    .model
                    .saturating_add_signed(d.signum() as isize)
                    .min(app.panes.len().saturating_sub(1));
            }
            Some(Action::Vote) => {
                let case = self.current(app);
                let Some(p) = app.panes.get(self.model) else {
                    return Reply::Keep;
                };
                if p.turns.get(case).is_none() {
                    app.notify(
                        format!("{} has no answer to case {}", p.model, case + 1),
                        Level::Error,
                    );
                    return Reply::Keep;
                }
                let (id, model) = (p.id, p.model.clone());
                // One best answer per case: a second vote moves it; voting again takes it back.
                if app.votes.get(&case) == Some(&id) {
                    app.votes.remove(&case);
                    app.notify(format!("vote taken back from {model}"), Level::Info);
                } else {
                    app.votes.insert(case, id);
                    app.notify(
                        format!("case {}: {model} voted best", case + 1),
                        Level::Info,
                    );
                }
            }
            Some(Action::SaveReport) => {
                self.save_as = Some("bakeoff.md".into());
                self.loading = false;
            }
            Some(Action::RunCases) => {
                self.save_as = Some(String::new());
                self.loading = true;
            }
            _ => {}
        }
        Reply::Keep
    }

    fn draw(&mut self, frame: &mut Frame, app: &App, _area: Rect, th: &Theme) {
        crate::ui::bakeoff::draw(frame, app, self, th);
    }

    fn commands(&self) -> Vec<(String, &'static str)> {
        hints(self.context())
    }

    super::layers::any_impls!();
}

/// Sends a cases file's cases to every pane, each on its own (no conversation before it):
/// an idle pane starts the first at once, and each pane answers the rest in order, so the
/// panes run side by side, one case at a time each.
pub fn run_cases(app: &mut App, cases: crate::bakeoff::cases::Cases, fx: &mut Vec<Effect>) {
    let n = cases.cases.len();
    let broken = cases.errors.len();
    let mut skipped_files = 0;
    for c in cases.cases {
        skipped_files += usize::from(!c.attachments.is_empty());
        for i in 0..app.panes.len() {
            app.panes[i].queued.push_back(super::state::Queued {
                prompt: c.prompt.clone(),
                files: std::sync::Arc::from([]),
                standalone: true,
            });
            super::update::send_queued(app, i, fx);
        }
    }
    let mut msg = format!(
        "{n} case(s) sent to {} model(s), each pane in turn",
        app.panes.len()
    );
    if broken > 0 {
        let first = &cases.errors[0];
        msg.push_str(&format!(
            "; {broken} not run ({}: {})",
            first.at, first.message
        ));
    }
    if skipped_files > 0 {
        msg.push_str(&format!(
            "; {skipped_files} case(s) name files, sent without them (the headless `switchyard bakeoff` attaches them)"
        ));
    }
    app.notify(
        msg,
        if broken > 0 {
            Level::Error
        } else {
            Level::Info
        },
    );
}
