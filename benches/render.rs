//! One frame of the workbench with 4 panes whose transcripts hold N lines each. The goal is a
//! frame under 2 ms that stays flat as transcripts grow from 100 to 100 000 lines.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use switchyard::app::state::App;
use switchyard::app::update::{Msg, update};
use switchyard::client::{Answer, Timings};
use switchyard::wire::chunk::ServedBy;

/// One answer of about 100 rendered lines at 40 columns: prose, a list and a code block.
fn answer(i: usize) -> String {
    let mut s = format!("## Part {i}\n\n");
    for p in 0..6 {
        s.push_str(&format!(
            "Paragraph {p} of part {i} explains **why** the partition step matters, with `inline code` and a [link](https://example.com/{i}).\n\n"
        ));
    }
    s.push_str("- first point\n- second point\n- third point\n\n```rust\n");
    for l in 0..12 {
        s.push_str(&format!(
            "let x{l} = v.iter().map(|x| x * {l}).sum::<i64>();\n"
        ));
    }
    s.push_str("```\n\nDone.\n");
    s
}

/// A workbench with 4 panes, each holding about `lines` rendered lines at the bench width.
fn workbench(lines: usize) -> App {
    let models: Vec<String> = (0..4).map(|i| format!("bench/model-{i}")).collect();
    let mut app = App::new(&models, "bench");
    let turns = lines.div_ceil(100).max(1);
    for t in 0..turns {
        for i in 0..4 {
            let pane = app.panes[i].id;
            let req = app.next_req_id();
            app.panes[i].turns.push(switchyard::app::state::Turn::new(
                format!("question {t}"),
                req,
            ));
            let text = answer(t);
            update(
                &mut app,
                Msg::Ended {
                    pane,
                    req,
                    outcome: Box::new(Answer {
                        text,
                        served: ServedBy::default(),
                        usage: None,
                        timings: Timings {
                            ttft: Some(Duration::from_millis(300)),
                            total: Duration::from_secs(2),
                            chunks: 100,
                        },
                        result: Ok("stop".into()),
                    }),
                },
            );
        }
    }
    app
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_4_panes_160x48");
    g.sample_size(30);
    for lines in [100usize, 10_000, 100_000] {
        let mut app = workbench(lines);
        let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
        // The first frame renders every message once; later frames hit the caches.
        term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
        app.size = (160, 48);
        let area = app.area();
        let cell = switchyard::ui::layout::screen(&mut app, area).panes[0];
        let width = switchyard::ui::layout::inner(cell).width;
        let total =
            switchyard::ui::layout::transcript_lines(&mut app.panes[0], width, &app.theme.clone());
        g.bench_with_input(
            BenchmarkId::new("lines_per_pane", format!("{lines}(actual {total})")),
            &lines,
            |b, _| {
                b.iter(|| {
                    term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
                })
            },
        );
    }
    // The same frame with a panel open beside the panes: routing (fields, preview, body), and
    // structured output (the schema editor, highlighted, with the focus in it).
    for (name, kind) in [
        (
            "with_routing_panel",
            switchyard::app::panels::PanelKind::Routing,
        ),
        (
            "with_schema_panel",
            switchyard::app::panels::PanelKind::Structured,
        ),
    ] {
        let mut app = workbench(10_000);
        app.size = (160, 48);
        let model = app.panes[0].model.clone();
        let mut panel = switchyard::app::panels::open(
            kind,
            &Default::default(),
            &["alpha".into(), "beta".into()],
            &model,
            &Default::default(),
        );
        if kind == switchyard::app::panels::PanelKind::Structured {
            panel.form.focus = panel.form.fields.len() - 1;
        }
        switchyard::app::panels::refresh(
            &mut panel,
            &Default::default(),
            None,
            switchyard::client::ServerKind::OpenRouter,
        );
        app.layers.push(Box::new(panel));
        let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
        term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
