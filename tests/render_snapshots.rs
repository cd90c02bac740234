//! Whole-frame snapshots of the workbench with ratatui's TestBackend: 1, 3 and 8 panes at
//! 80×24 and 160×48, with streamed markdown, a failure, a cancellation and the overlays.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use switchyard::app::state::App;
use switchyard::app::update::{Msg, update};
use switchyard::client::{Answer, ChatError, Timings};
use switchyard::wire::chunk::{ServedBy, StreamEvent, Usage};
use switchyard::wire::error::ApiError;

const MODELS: [&str; 8] = [
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4.5",
    "google/gemini-2.5-pro",
    "google/gemini-2.5-flash",
    "meta-llama/llama-3.3-70b-instruct",
    "deepseek/deepseek-chat-v3.1",
    "qwen/qwen3-coder",
    "meta-llama/llama-3.3-70b-instruct:free",
];

const ANSWER: &str = "## Quicksort\n\nQuicksort picks a **pivot** and partitions the slice:\n\n- smaller items go left\n- larger items go right\n\n```rust\nfn sort(v: &mut [i32]) {\n    v.sort_unstable();\n}\n```\n\n| case | cost |\n|------|------|\n| average | n log n |\n| worst | n² |\n\nThat is all.";

fn key(code: ratatui::crossterm::event::KeyCode) -> Msg {
    Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        code,
        ratatui::crossterm::event::KeyModifiers::NONE,
    ))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        ratatui::crossterm::event::KeyCode::Char(c),
        ratatui::crossterm::event::KeyModifiers::CONTROL,
    ))
}

/// Builds a workbench with `n` panes in assorted states, driven only through `update`.
fn workbench(n: usize) -> App {
    let models: Vec<String> = MODELS[..n].iter().map(|s| s.to_string()).collect();
    let mut app = App::new(&models, "simulated fleet");
    for c in "Explain quicksort".chars() {
        update(&mut app, key(ratatui::crossterm::event::KeyCode::Char(c)));
    }
    let fx = update(&mut app, key(ratatui::crossterm::event::KeyCode::Enter));
    let starts = fx
        .iter()
        .filter(|e| matches!(e, switchyard::app::update::Effect::Start { .. }))
        .count();
    assert_eq!(starts, n, "one request per pane");
    let ids: Vec<(u64, u64)> = app.panes.iter().map(|p| (p.id, p.turns[0].req)).collect();
    for (i, (pane, req)) in ids.into_iter().enumerate() {
        let ev = |event| Msg::Stream {
            pane,
            req,
            at: Duration::from_millis(400 + 100 * i as u64),
            events: vec![event],
        };
        update(
            &mut app,
            ev(StreamEvent::Served(ServedBy {
                id: Some("gen-1".into()),
                provider: Some(format!("Provider{i}")),
                model: Some(MODELS[i].into()),
            })),
        );
        if i % 4 == 3 {
            continue; // still waiting for its first token
        }
        let cut = if i % 4 == 2 {
            ANSWER.len() / 2
        } else {
            ANSWER.len()
        };
        let cut = (0..=cut)
            .rev()
            .find(|c| ANSWER.is_char_boundary(*c))
            .unwrap();
        for piece in ANSWER[..cut].split_inclusive(' ') {
            update(&mut app, ev(StreamEvent::Content(piece.into())));
        }
        if i % 4 == 1 {
            continue; // mid-stream
        }
        let usage = Usage {
            prompt_tokens: 12,
            completion_tokens: 80,
            total_tokens: 92,
            cost: Some(0.000123),
            ..Default::default()
        };
        let result = if i % 4 == 2 {
            Err(ChatError::Api(ApiError {
                status: Some(502),
                message: "Provider returned error".into(),
                provider_name: Some(format!("Provider{i}")),
                ..Default::default()
            }))
        } else {
            Ok("stop".to_string())
        };
        update(
            &mut app,
            Msg::Ended {
                pane,
                req,
                outcome: Box::new(Answer {
                    text: ANSWER[..cut].to_string(),
                    served: ServedBy::default(),
                    usage: Some(usage),
                    timings: Timings {
                        ttft: Some(Duration::from_millis(400 + 100 * i as u64)),
                        total: Duration::from_millis(2400),
                        chunks: 40,
                    },
                    result,
                }),
            },
        );
    }
    app
}

fn alt(c: char) -> Msg {
    Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        ratatui::crossterm::event::KeyCode::Char(c),
        ratatui::crossterm::event::KeyModifiers::ALT,
    ))
}

fn render(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    // The size update works from (a resize message sets it in the workbench).
    app.size = (w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| switchyard::ui::draw(f, app)).unwrap();
    t
}

#[test]
fn one_pane_80x24() {
    insta::assert_snapshot!(render(&mut workbench(1), 80, 24).backend());
}

#[test]
fn one_pane_160x48() {
    insta::assert_snapshot!(render(&mut workbench(1), 160, 48).backend());
}

#[test]
fn three_panes_80x24() {
    insta::assert_snapshot!(render(&mut workbench(3), 80, 24).backend());
}

#[test]
fn three_panes_160x48() {
    insta::assert_snapshot!(render(&mut workbench(3), 160, 48).backend());
}

#[test]
fn eight_panes_80x24() {
    insta::assert_snapshot!(render(&mut workbench(8), 80, 24).backend());
}

#[test]
fn eight_panes_160x48() {
    insta::assert_snapshot!(render(&mut workbench(8), 160, 48).backend());
}

#[test]
fn help_overlay_80x24() {
    let mut app = workbench(3);
    update(&mut app, key(ratatui::crossterm::event::KeyCode::F(1)));
    insta::assert_snapshot!(render(&mut app, 80, 24).backend());
    // Taller than the screen, it scrolls to its last rows, and any other key closes it.
    let last = "Ctrl+Q  quit at once";
    assert!(!format!("{}", render(&mut app, 80, 24).backend()).contains(last));
    update(&mut app, key(ratatui::crossterm::event::KeyCode::PageDown));
    let screen = format!("{}", render(&mut app, 80, 24).backend());
    assert!(screen.contains(last), "{screen}");
    assert!(
        screen.contains("more · Esc closes") && screen.contains("╰ ↑ "),
        "{screen}"
    );
    update(&mut app, key(ratatui::crossterm::event::KeyCode::Char('x')));
    assert!(app.layers.is_empty());
}

#[test]
fn health_panel_with_sparklines_160x48() {
    use switchyard::app::state::{EndpointLabel, HealthView};
    use switchyard::routing::{EndpointId, HealthConfig, HealthTracker, Outcome, Sample};
    // A tracker fed a fixed history: one steady endpoint, one slowing down, one broken.
    let mut t = HealthTracker::new(HealthConfig::default());
    for i in 0..40u64 {
        let at = Duration::from_secs(i);
        let ok = |ttft: u64, tps: f64| {
            Outcome::Success(Sample {
                ttft: Some(Duration::from_millis(ttft)),
                decode_tokens_per_sec: Some(tps),
                end_to_end: Some(Duration::from_millis(ttft * 5)),
            })
        };
        t.record(EndpointId(0), at, &ok(300 + (i % 3) * 10, 80.0));
        t.record(EndpointId(1), at, &ok(200 + i * 40, 150.0 - i as f64 * 2.0));
        if i >= 30 {
            t.record(EndpointId(2), at, &Outcome::ServerError { status: 503 });
        } else {
            t.record(EndpointId(2), at, &ok(500, 40.0));
        }
    }
    let label = |slug: &str, provider: &str, price: f64| EndpointLabel {
        slug: slug.into(),
        provider: provider.into(),
        model: "anthropic/claude-sonnet-4.5".into(),
        prompt_price: price,
        completion_price: price * 5.0,
        price_unknown: false,
    };
    let mut app = workbench(1);
    app.health = Some(HealthView {
        labels: vec![
            label("steady", "Steady Cloud", 3.0),
            label("slowing", "Slowing Labs", 2.5),
            label("broken", "Broken AI", 1.0),
        ],
        selected: 1,
        snapshot: t.snapshot(3, Duration::from_secs(40)),
        registry: Default::default(),
        observed: false,
        hscroll: 0,
    });
    update(&mut app, key(ratatui::crossterm::event::KeyCode::F(6)));
    insta::assert_snapshot!(render(&mut app, 160, 48).backend());
}

#[test]
fn health_panel_keeps_the_selected_endpoint_in_view() {
    use switchyard::app::state::{EndpointLabel, HealthView};
    let labels: Vec<EndpointLabel> = (0..30)
        .map(|i| EndpointLabel {
            slug: format!("p{i}"),
            provider: format!("Provider{i:02}"),
            model: "m/x".into(),
            prompt_price: 1.0,
            completion_price: 1.0,
            price_unknown: false,
        })
        .collect();
    let mut app = workbench(1);
    app.health = Some(HealthView {
        labels,
        selected: 25,
        snapshot: switchyard::routing::HealthSnapshot::empty(),
        registry: Default::default(),
        observed: true,
        hscroll: 0,
    });
    update(&mut app, key(ratatui::crossterm::event::KeyCode::F(6)));
    let text = format!("{}", render(&mut app, 160, 24).backend());
    let row = |name: &str| {
        text.lines()
            .any(|l| l.contains(name) && l.contains("no data"))
    };
    assert!(row("Provider25"), "the selected row is shown:\n{text}");
    assert!(!row("Provider00"), "rows above scroll away:\n{text}");
    assert!(text.contains("observed from the gateway"));
}

#[test]
fn narrow_terminal_20_columns_stacks_panes_and_keeps_everything() {
    let mut app = workbench(3);
    let t = render(&mut app, 20, 30);
    let text = format!("{}", t.backend());
    // Titles keep the state badge whole and cut the model id in the middle.
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.contains("open…") && first.contains("✓ done"),
        "pane titles stay visible:\n{text}"
    );
    assert!(
        switchyard::ui::layout::screen(&mut app, ratatui::layout::Rect::new(0, 0, 20, 30))
            .panes
            .iter()
            .all(|r| r.width == 20),
        "panes stack in one column"
    );
    assert!(
        app.panes
            .iter()
            .all(|p| p.turns[0].prompt == "Explain quicksort")
    );
    // Scrolling to the top of the narrow pane shows the prompt.
    app.focus = 0;
    update(&mut app, key(ratatui::crossterm::event::KeyCode::Home));
    app.panes[0].scroll = switchyard::app::state::Scroll::At(0);
    let t = render(&mut app, 20, 30);
    assert!(
        format!("{}", t.backend()).contains("› Explain"),
        "{}",
        t.backend()
    );
}

#[test]
fn transcript_scrolls_and_follow_resumes() {
    let mut app = workbench(1);
    render(&mut app, 80, 24);
    let area = app.area();
    let cell = switchyard::ui::layout::screen(&mut app, area).panes[0];
    let inner = switchyard::ui::layout::inner(cell);
    let total = switchyard::ui::layout::transcript_lines(
        &mut app.panes[0],
        inner.width,
        &app.theme.clone(),
    );
    assert!(
        total > inner.height as usize,
        "the answer overflows the pane"
    );
    update(&mut app, key(ratatui::crossterm::event::KeyCode::PageUp));
    let t = render(&mut app, 80, 24);
    let screen = format!("{}", t.backend());
    // The marker has its own row: nothing of the answer shares it.
    let row = screen
        .lines()
        .find(|l| l.contains("↓ ") && l.contains(" more"))
        .expect("a 'more below' marker shows");
    let inside: String = row.chars().skip(2).take_while(|c| *c != '↓').collect();
    assert!(inside.trim().is_empty(), "the marker covers text: {row}");
    update(&mut app, key(ratatui::crossterm::event::KeyCode::PageDown));
    update(&mut app, key(ratatui::crossterm::event::KeyCode::PageDown));
    assert_eq!(app.panes[0].scroll, switchyard::app::state::Scroll::Follow);
}

/// One pane whose answer came after a failover: a real plan from the pure planner over three
/// endpoints, a 503 on the first pick, the answer from the second.
fn failed_over() -> (App, switchyard::routing::EndpointRegistry) {
    use switchyard::routing::exec::{Attempt, ExecEvent, describe_failure, explain};
    use switchyard::routing::{
        EndpointId, EndpointMeta, EndpointRegistry, HealthSnapshot, Outcome, RequestFeatures,
        Sample, SplitMix64,
    };
    let ep = |slug: &str, name: &str, model: &str, price: f64| {
        let mut m = EndpointMeta::new(slug, model).with_prices(price / 4.0, price);
        m.provider_name = name.into();
        m
    };
    let registry = EndpointRegistry::from_endpoints([
        ep(
            "comet",
            "Comet Compute",
            "meta-llama/llama-3.3-70b-instruct",
            0.3,
        ),
        ep("basalt", "Basalt", "meta-llama/llama-3.3-70b-instruct", 0.6),
        ep(
            "fjord",
            "Fjord AI",
            "meta-llama/llama-3.3-70b-instruct",
            0.9,
        ),
        ep(
            "harvest",
            "Harvest",
            "meta-llama/llama-3.3-70b-instruct:free",
            0.0,
        ),
    ]);
    let models = vec!["meta-llama/llama-3.3-70b-instruct".to_string()];
    let plan = switchyard::routing::plan(
        &RequestFeatures::default(),
        &registry,
        &HealthSnapshot::empty(),
        &Default::default(),
        &models,
        None,
        &mut SplitMix64::new(3),
        Duration::from_secs(1),
    )
    .unwrap();
    let first = registry.get(plan.entries[0].id).clone();
    let second = registry.get(plan.entries[1].id).clone();
    let down = ChatError::Api(ApiError {
        status: Some(503),
        message: "down (simulated outage)".into(),
        ..Default::default()
    });
    let failed = Outcome::ServerError { status: 503 };
    let attempts = vec![
        Attempt {
            endpoint: plan.entries[0].id,
            provider: first.provider_name.clone(),
            model: first.model.clone(),
            committed: false,
            ttft: None,
            outcome: failed,
            error: Some(down.clone()),
        },
        Attempt {
            endpoint: plan.entries[1].id,
            provider: second.provider_name.clone(),
            model: second.model.clone(),
            committed: false,
            ttft: Some(Duration::from_millis(420)),
            outcome: Outcome::Success(Sample::default()),
            error: None,
        },
    ];
    let why = explain(&registry, &Ok(plan.clone()), &attempts);
    let mut app = App::new(&models, "127.0.0.1:8080 · routed by Switchyard");
    for c in "Explain quicksort".chars() {
        update(&mut app, key(ratatui::crossterm::event::KeyCode::Char(c)));
    }
    update(&mut app, key(ratatui::crossterm::event::KeyCode::Enter));
    let (pane, req) = (app.panes[0].id, app.panes[0].turns[0].req);
    let attempt = |m: &EndpointMeta, id: EndpointId| Msg::Attempt {
        pane,
        req,
        endpoint: id.0,
        provider: m.provider_name.clone(),
        model: m.model.clone(),
    };
    update(&mut app, attempt(&first, plan.entries[0].id));
    let note = ExecEvent::Failover {
        reason: describe_failure(&first.provider_name, &failed, &down),
    }
    .note()
    .unwrap();
    update(
        &mut app,
        Msg::Rerouted {
            pane,
            req,
            note,
            restart: false,
        },
    );
    update(&mut app, attempt(&second, plan.entries[1].id));
    for piece in ANSWER.split_inclusive(' ') {
        update(
            &mut app,
            Msg::Stream {
                pane,
                req,
                at: Duration::from_millis(500),
                events: vec![StreamEvent::Content(piece.into())],
            },
        );
    }
    update(
        &mut app,
        Msg::Why {
            pane,
            req,
            lines: why,
        },
    );
    update(
        &mut app,
        Msg::Ended {
            pane,
            req,
            outcome: Box::new(Answer {
                text: ANSWER.into(),
                served: ServedBy {
                    id: None,
                    provider: Some(second.provider_name.clone()),
                    model: Some(second.model.clone()),
                },
                usage: None,
                timings: Timings::default(),
                result: Ok("stop".into()),
            }),
        },
    );
    (app, registry)
}

#[test]
fn failed_over_answer_with_its_note_above_it_120x40() {
    let (mut app, _) = failed_over();
    let text = format!("{}", render(&mut app, 120, 40).backend());
    let row = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap();
    assert!(row("↪ failed over") < row("Quicksort picks"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn why_view_of_a_failed_over_answer_120x40() {
    let (mut app, _) = failed_over();
    update(&mut app, alt('w'));
    let text = format!("{}", render(&mut app, 120, 40).backend());
    assert!(text.contains("503 from"), "{text}");
    assert!(text.contains("✓ attempt 2"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn why_view_of_a_failed_over_answer_160x48() {
    let (mut app, _) = failed_over();
    update(&mut app, alt('w'));
    insta::assert_snapshot!(render(&mut app, 160, 48).backend());
}

/// F6 after the failover: the failed endpoint with its 503, the one that answered, one never
/// tried and a `:free` twin whose id differs only in its suffix.
fn health_after_failover(app: &mut App, registry: &switchyard::routing::EndpointRegistry) {
    use switchyard::app::state::{EndpointLabel, HealthView};
    use switchyard::routing::{EndpointId, HealthConfig, HealthTracker, Outcome, Sample};
    let mut t = HealthTracker::new(HealthConfig::default());
    let at = Duration::from_secs(10);
    let why = app.panes[0].turns[0].why.join("\n");
    for (id, m) in registry.iter() {
        if why.contains(&format!("✗ attempt 1: {}", m.provider_name)) {
            t.record(id, at, &Outcome::ServerError { status: 503 });
        } else if why.contains(&format!("✓ attempt 2: {}", m.provider_name)) {
            t.record(
                id,
                at,
                &Outcome::Success(Sample {
                    ttft: Some(Duration::from_millis(420)),
                    decode_tokens_per_sec: Some(95.0),
                    end_to_end: Some(Duration::from_secs(3)),
                }),
            );
        }
    }
    let _ = EndpointId(0);
    app.health = Some(HealthView {
        labels: registry
            .iter()
            .map(|(_, m)| EndpointLabel {
                slug: m.provider_slug.clone(),
                provider: m.provider_name.clone(),
                model: m.model.clone(),
                prompt_price: m.pricing.prompt,
                completion_price: m.pricing.completion,
                price_unknown: false,
            })
            .collect(),
        selected: 0,
        snapshot: t.snapshot(registry.len(), Duration::from_secs(11)),
        registry: registry.clone(),
        observed: false,
        hscroll: 0,
    });
    update(app, key(ratatui::crossterm::event::KeyCode::F(6)));
}

#[test]
fn health_after_a_failover_120x40() {
    let (mut app, registry) = failed_over();
    health_after_failover(&mut app, &registry);
    let text = format!("{}", render(&mut app, 120, 40).backend());
    assert!(text.contains("no data"), "{text}");
    assert!(text.contains(":free"), "the suffix survives: {text}");
    assert!(
        !text.contains("breaker"),
        "the last column is out of view: {text}"
    );
    insta::assert_snapshot!(text);
    // → scrolls the table sideways to its last column.
    for _ in 0..4 {
        update(&mut app, key(ratatui::crossterm::event::KeyCode::Right));
    }
    let text = format!("{}", render(&mut app, 120, 40).backend());
    assert!(text.contains("breaker"), "{text}");
}

#[test]
fn health_after_a_failover_160x48() {
    let (mut app, registry) = failed_over();
    health_after_failover(&mut app, &registry);
    insta::assert_snapshot!(render(&mut app, 160, 48).backend());
}

#[test]
fn routing_panel_previews_the_route_over_the_panes_at_80x24_and_beside_them_at_160x48() {
    use ratatui::crossterm::event::KeyCode;
    let (mut app, registry) = failed_over();
    health_after_failover(&mut app, &registry);
    update(&mut app, key(KeyCode::Esc));
    update(&mut app, key(KeyCode::F(2)));
    // ↓↓ past the fallbacks to sort; ← from the default wraps to latency.
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Left));
    let narrow = format!("{}", render(&mut app, 80, 24).backend());
    assert!(narrow.contains("Routing — this pane"), "{narrow}");
    assert!(narrow.contains("Enter apply · Esc cancel"), "{narrow}");
    assert!(narrow.contains("‹ latency ›"), "{narrow}");
    insta::assert_snapshot!("routing_panel_80x24", narrow);
    let wide = format!("{}", render(&mut app, 160, 48).backend());
    assert!(
        wide.contains("sorted by latency"),
        "the preview follows the field: {wide}"
    );
    assert!(
        wide.contains("─ request body ─") && wide.contains("\"model\": \"meta-llama"),
        "the body is shown: {wide}"
    );
    let body = &app.layer::<switchyard::app::panels::Panel>().unwrap().body;
    assert!(body.contains("\"sort\": \"latency\""), "{body}");
    insta::assert_snapshot!("routing_panel_160x48", wide);
    // A bad value is marked at its field and nothing is applied.
    let temp = app
        .layer::<switchyard::app::panels::Panel>()
        .unwrap()
        .form
        .fields
        .iter()
        .position(|f| f.key == "temperature")
        .unwrap();
    let at = app
        .layer::<switchyard::app::panels::Panel>()
        .unwrap()
        .form
        .focus;
    for _ in at..temp {
        update(&mut app, key(KeyCode::Down));
    }
    update(&mut app, key(KeyCode::Char('7')));
    update(&mut app, key(KeyCode::Enter));
    let text = format!("{}", render(&mut app, 160, 48).backend());
    assert!(text.contains("✗ 7 is outside 0–2"), "{text}");
    assert!(
        app.layer::<switchyard::app::panels::Panel>().is_some(),
        "the panel stays open"
    );
    assert_eq!(app.panes[0].settings.provider, None, "nothing applied");
    update(&mut app, key(KeyCode::Backspace));
    update(&mut app, key(KeyCode::Enter));
    assert!(app.layer::<switchyard::app::panels::Panel>().is_none());
    let sort = app.panes[0].settings.provider.as_ref().and_then(|p| p.sort);
    assert_eq!(
        sort,
        Some(switchyard::wire::request::ProviderSort::By(
            switchyard::wire::request::SortBy::Latency
        ))
    );
}

#[test]
fn privacy_panel_80x24() {
    use ratatui::crossterm::event::KeyCode;
    let (mut app, registry) = failed_over();
    health_after_failover(&mut app, &registry);
    update(&mut app, key(KeyCode::Esc));
    update(&mut app, key(KeyCode::F(3)));
    update(&mut app, key(KeyCode::Char(' ')));
    let text = format!("{}", render(&mut app, 80, 24).backend());
    assert!(text.contains("[x] on"), "{text}");
    insta::assert_snapshot!("privacy_panel_80x24", text);
    let wide = format!("{}", render(&mut app, 160, 48).backend());
    assert!(
        wide.contains("Privacy — this pane") && wide.contains("[x] on"),
        "{wide}"
    );
    insta::assert_snapshot!("privacy_panel_160x48", wide);
}

#[test]
fn structured_output_panel_at_80x24_and_160x48_with_an_error_at_its_line() {
    use ratatui::crossterm::event::KeyCode;
    let (mut app, registry) = failed_over();
    health_after_failover(&mut app, &registry);
    update(&mut app, key(KeyCode::Esc));
    update(&mut app, key(KeyCode::F(4)));
    update(&mut app, key(KeyCode::Char(' ')));
    let wide = format!("{}", render(&mut app, 160, 48).backend());
    assert!(wide.contains("Structured output — this pane"), "{wide}");
    assert!(wide.contains("✓ valid JSON schema"), "{wide}");
    assert!(
        wide.contains("\"response_format\": {"),
        "the body is shown: {wide}"
    );
    insta::assert_snapshot!("structured_panel_160x48", wide);
    // Into the schema, down two lines, a stray character: the error is at its line.
    for _ in 0..6 {
        update(&mut app, key(KeyCode::Tab));
    }
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Char('x')));
    let narrow = format!("{}", render(&mut app, 80, 24).backend());
    assert!(narrow.contains("✗ line 3, column 1"), "{narrow}");
    assert!(
        narrow.contains("✗  3 x"),
        "the gutter marks the line: {narrow}"
    );
    assert!(narrow.contains("Enter new line"), "{narrow}");
    insta::assert_snapshot!("structured_panel_80x24", narrow);
    update(&mut app, key(KeyCode::Enter));
    assert!(
        app.layer::<switchyard::app::panels::Panel>().is_some(),
        "Enter is a new line in the schema, not apply"
    );
}

#[test]
fn a_theme_is_one_value_every_draw_reads() {
    use ratatui::style::{Color, Style};
    let (mut app, _registry) = failed_over();
    let before = render(&mut app, 120, 40);
    let dark = switchyard::theme::Theme::dark();
    let mut ui = dark.ui.clone();
    ui.focus = Style::new().fg(Color::Red);
    let mut md = (*dark.md).clone();
    md.heading1 = Style::new().fg(Color::Blue);
    md.heading2 = md.heading1;
    md.heading3 = md.heading1;
    md.heading4 = md.heading1;
    app.theme = switchyard::theme::Theme::new("test", ui, md);
    let after = render(&mut app, 120, 40);
    let (b, a) = (before.backend().buffer(), after.backend().buffer());
    // The focused pane's corner takes the theme's focus style.
    assert_eq!(a[(0, 0)].fg, Color::Red);
    assert_ne!(b[(0, 0)].fg, Color::Red);
    // The answer's heading ("Quicksort", cached before the switch) is drawn in the new style.
    let row = (0..40)
        .find(|&y| {
            (1..20)
                .map(|x| a[(x, y)].symbol().to_string())
                .collect::<String>()
                .starts_with("Quicksort ")
        })
        .expect("the heading is on screen");
    assert_eq!(a[(1, row)].fg, Color::Blue);
    assert_ne!(b[(1, row)].fg, Color::Blue);
}

#[test]
fn a_panel_redraws_after_every_key_though_its_drawing_is_reused_between_frames() {
    use ratatui::crossterm::event::KeyCode;
    let (mut app, _registry) = failed_over();
    update(&mut app, key(KeyCode::F(3)));
    let before = format!("{}", render(&mut app, 160, 48).backend());
    assert!(
        before.contains("deny data collection   [ ] off"),
        "{before}"
    );
    assert_eq!(before, format!("{}", render(&mut app, 160, 48).backend()));
    update(&mut app, key(KeyCode::Char(' ')));
    let after = format!("{}", render(&mut app, 160, 48).backend());
    assert!(
        after.contains("deny data collection   [x] on"),
        "the key shows at once: {after}"
    );
}

/// The history browser (F7) with conversations, then with search hits, as the history thread
/// answers them.
#[test]
fn history_browser_list_and_hits_80x24() {
    use switchyard::app::history_view::Browser;
    use switchyard::history::{Hit, MARK_END, MARK_START, Summary, Totals};
    let mut app = workbench(3);
    app.layers.push(Box::new(Browser::default()));
    let list = vec![
        Summary {
            uid: "a".into(),
            title: "Explain quicksort".into(),
            created_ms: 1_796_151_845_000,
            updated_ms: 1_796_151_845_000,
            models: MODELS[..3].iter().map(|m| m.to_string()).collect(),
            turns: 3,
            totals: Totals {
                tokens: 2_412,
                cost: 0.004_821,
            },
        },
        Summary {
            uid: "b".into(),
            title: "A very long title that goes on and on about sorting networks and their depth"
                .into(),
            created_ms: 1_796_065_445_000,
            updated_ms: 1_796_065_445_000,
            models: vec!["openai/gpt-4o-mini".into()],
            turns: 1,
            totals: Totals::default(),
        },
    ];
    app.layer_mut::<Browser>()
        .unwrap()
        .found(String::new(), list, vec![]);
    insta::assert_snapshot!("history_list_80x24", render(&mut app, 80, 24).backend());
    for c in "pivot".chars() {
        update(&mut app, key(ratatui::crossterm::event::KeyCode::Char(c)));
    }
    let hits = vec![
        Hit {
            uid: "a".into(),
            title: "Explain quicksort".into(),
            seq: 1,
            model: Some(MODELS[1].into()),
            snippet: format!("…choose a {MARK_START}pivot{MARK_END}, then partition around it…"),
        },
        Hit {
            uid: "a".into(),
            title: "Explain quicksort".into(),
            seq: 0,
            model: None,
            snippet: format!("how is the {MARK_START}pivot{MARK_END} chosen?"),
        },
    ];
    app.layer_mut::<Browser>()
        .unwrap()
        .found("pivot".into(), vec![], hits);
    let screen = render(&mut app, 80, 24);
    // The matched word is marked in the accent.
    let buf = screen.backend().buffer();
    let marked = (0..24).any(|y| {
        (0..76).any(|x| {
            let w: String = (x..x + 5)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            w == "pivot"
                && buf[(x, y)]
                    .modifier
                    .contains(ratatui::style::Modifier::BOLD)
        })
    });
    assert!(marked, "the hit is highlighted");
    insta::assert_snapshot!("history_hits_80x24", screen.backend());
}

#[test]
fn a_terminal_too_small_says_so_and_a_bigger_one_draws_again() {
    let mut app = workbench(3);
    let small = format!("{}", render(&mut app, 19, 6).backend());
    assert!(small.contains("terminal too"), "{small}");
    assert!(small.contains("19×6"), "{small}");
    let big = format!("{}", render(&mut app, 80, 24).backend());
    assert!(big.contains("Prompt → all panes"), "{big}");
}

/// The composer with a prompt longer than its width: soft-wrapped, growing to its cap, then
/// scrolling with the cursor in view.
#[test]
fn composer_with_a_wrapped_prompt_80x24() {
    let mut app = workbench(2);
    let prompt = "Compare quicksort, mergesort and heapsort for a list of ten million \
                  64-bit integers that is almost sorted, and say which one you would ship \
                  in a standard library and why, with the worst cases spelled out";
    for c in prompt.chars() {
        update(&mut app, key(ratatui::crossterm::event::KeyCode::Char(c)));
    }
    let screen = render(&mut app, 80, 24);
    let text = format!("{}", screen.backend());
    // Every word is on screen, none cut at the border.
    for w in ["million", "standard", "spelled out"] {
        assert!(text.contains(w), "{w}: {text}");
    }
    insta::assert_snapshot!(screen.backend());
}

/// Two attachments read the way the workbench reads them, handed to `update` as the loader's
/// messages: a gradient PNG and a two-page PDF.
fn with_attachments(app: &mut App) {
    use switchyard::attach::{Limits, Origin, fixtures, load};
    switchyard::attach::pdf::set_program(env!("CARGO_BIN_EXE_switchyard"));
    for (name, bytes) in [
        ("gradient.png", fixtures::png(96, 64)),
        (
            "quarterly-report.pdf",
            fixtures::pdf(&[
                "Quarterly report\nRevenue grew twelve percent",
                "Costs fell",
            ]),
        ),
    ] {
        let l = load::from_bytes(name.into(), Origin::Clipboard, bytes, &Limits::default(), 0);
        update(app, Msg::Attached(l.map(Box::new)));
    }
}

#[test]
fn attachments_panel_with_a_half_block_preview_80x24_and_160x48() {
    let mut app = App::new(
        &MODELS[..2]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        "simulated fleet",
    );
    with_attachments(&mut app);
    assert_eq!(app.attachments.len(), 2);
    update(&mut app, key(ratatui::crossterm::event::KeyCode::F(5)));
    // The image is selected and previewed.
    update(&mut app, key(ratatui::crossterm::event::KeyCode::Up));
    insta::assert_snapshot!(
        "attachments_image_80x24",
        render(&mut app, 80, 24).backend()
    );
    insta::assert_snapshot!(
        "attachments_image_160x48",
        render(&mut app, 160, 48).backend()
    );
    // The PDF's first page.
    update(&mut app, key(ratatui::crossterm::event::KeyCode::Down));
    insta::assert_snapshot!("attachments_pdf_80x24", render(&mut app, 80, 24).backend());
    // A refused file is said in the panel, whole.
    let bad = switchyard::attach::load::from_bytes(
        "notes.png".into(),
        switchyard::attach::Origin::Clipboard,
        b"just words".to_vec(),
        &Default::default(),
        0,
    );
    update(&mut app, Msg::Attached(bad.map(Box::new)));
    insta::assert_snapshot!(
        "attachments_refused_80x24",
        render(&mut app, 80, 24).backend()
    );
}

#[test]
fn a_sent_prompt_shows_its_attachments_as_chips_120x30() {
    let mut app = App::new(
        &MODELS[..2]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        "simulated fleet",
    );
    with_attachments(&mut app);
    for c in "What do these show?".chars() {
        update(&mut app, key(ratatui::crossterm::event::KeyCode::Char(c)));
    }
    let fx = update(&mut app, key(ratatui::crossterm::event::KeyCode::Enter));
    assert!(app.attachments.is_empty(), "they went with the prompt");
    let starts: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            switchyard::app::update::Effect::Start { request, .. } => Some(request),
            _ => None,
        })
        .collect();
    assert_eq!(starts.len(), 2);
    let body = serde_json::to_value(starts[0].as_ref()).unwrap();
    let parts = body["messages"][0]["content"].as_array().unwrap();
    assert_eq!(
        parts
            .iter()
            .map(|p| p["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["text", "image_url", "file"]
    );
    insta::assert_snapshot!(
        "attachment_chips_120x30",
        render(&mut app, 120, 30).backend()
    );
    // Narrow panes wrap a chip between its parts, never between a number and its unit.
    insta::assert_snapshot!("attachment_chips_60x16", render(&mut app, 60, 16).backend());
}

#[test]
fn catalog_browser_with_filters_details_and_endpoints_80x24_and_160x48() {
    use ratatui::crossterm::event::KeyCode;
    let mut app = App::new(
        &[
            "google/gemini-2.5-pro".to_string(),
            "openai/gpt-4o-mini".to_string(),
        ],
        "OpenRouter",
    );
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/openrouter-models.json"
    ))
    .unwrap();
    update(
        &mut app,
        Msg::Catalog(Ok(serde_json::from_str::<
            switchyard::wire::catalog::ModelList,
        >(&text)
        .unwrap()
        .data)),
    );
    app.now_ms = 1_796_200_000_000;
    app.catalog_age = Some((app.now_ms - 3 * 60_000, false));
    app.gateway = true;
    let fx = update(&mut app, key(KeyCode::F(8)));
    assert!(
        fx.iter()
            .any(|e| matches!(e, switchyard::app::update::Effect::FetchEndpoints(m) if m == "google/gemini-2.5-pro")),
        "the focused pane's model is highlighted and its endpoints asked for"
    );
    for c in "gemini img ctx>1m".chars() {
        update(&mut app, key(KeyCode::Char(c)));
    }
    let listing = r#"{"data":{"id":"google/gemini-2.5-pro","endpoints":[
      {"name":"Google | google/gemini-2.5-pro","provider_name":"Google Vertex","context_length":1048576,
       "pricing":{"prompt":"0.00000125","completion":"0.00001"},"quantization":null,"status":0,
       "uptime_last_30m":99.2,"latency_last_30m":{"p50":1.84},"throughput_last_30m":{"p50":88.1}},
      {"name":"Google AI Studio | google/gemini-2.5-pro","provider_name":"Google AI Studio","context_length":1048576,
       "pricing":{"prompt":"0.00000125","completion":"0.00001"},"status":-2,"uptime_last_30m":71.5}]}}"#;
    let e: switchyard::wire::catalog::EndpointsResponse = serde_json::from_str(listing).unwrap();
    update(
        &mut app,
        Msg::Endpoints("google/gemini-2.5-pro".into(), Ok(e.data)),
    );
    insta::assert_snapshot!("catalog_80x24", render(&mut app, 80, 24).backend());
    insta::assert_snapshot!("catalog_160x48", render(&mut app, 160, 48).backend());
    // Sorted by price, then the choice replaces the focused pane's model.
    update(&mut app, ctrl('s'));
    insta::assert_snapshot!("catalog_by_price_80x24", render(&mut app, 80, 24).backend());
}

/// Sends `prompt` to every pane and ends each answer: pane `i` answers with its first token
/// after `ttft[i]` ms and costs `cost[i]`; a `None` cost is a failure.
fn answer_all(app: &mut App, prompt: &str, ttft: &[u64], cost: &[Option<f64>]) {
    use ratatui::crossterm::event::KeyCode;
    for c in prompt.chars() {
        update(app, key(KeyCode::Char(c)));
    }
    let fx = update(app, key(KeyCode::Enter));
    let starts: Vec<(u64, u64)> = fx
        .iter()
        .filter_map(|e| match e {
            switchyard::app::update::Effect::Start { pane, req, .. } => Some((*pane, *req)),
            _ => None,
        })
        .collect();
    for (i, (pane, req)) in starts.into_iter().enumerate() {
        let at = Duration::from_millis(ttft[i]);
        let text = format!("Answer {i} to {prompt}: a short reply.");
        update(
            app,
            Msg::Stream {
                pane,
                req,
                at,
                events: vec![
                    StreamEvent::Served(ServedBy {
                        id: Some(format!("gen-{i}")),
                        provider: Some(format!("Provider{i}")),
                        model: None,
                    }),
                    StreamEvent::Content(text.clone()),
                ],
            },
        );
        update(
            app,
            Msg::Stream {
                pane,
                req,
                at: at + Duration::from_millis(900),
                events: vec![StreamEvent::Content(" More words follow here.".into())],
            },
        );
        let result = match cost[i] {
            Some(_) => Ok("stop".to_string()),
            None => Err(ChatError::Api(ApiError {
                status: Some(429),
                message: "Rate limit exceeded: free-models-per-min".into(),
                ..Default::default()
            })),
        };
        update(
            app,
            Msg::Ended {
                pane,
                req,
                outcome: Box::new(Answer {
                    text: format!("{text} More words follow here."),
                    served: ServedBy::default(),
                    usage: cost[i].map(|c| Usage {
                        prompt_tokens: 20,
                        completion_tokens: 60,
                        total_tokens: 80,
                        cost: Some(c),
                        ..Default::default()
                    }),
                    timings: Timings {
                        ttft: Some(at),
                        total: at + Duration::from_millis(900),
                        chunks: 2,
                    },
                    result,
                }),
            },
        );
    }
}

#[test]
fn bakeoff_view_with_totals_votes_and_the_cost_latency_chart_80x24_and_160x48() {
    use ratatui::crossterm::event::KeyCode;
    let models = [
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4.5",
        "meta-llama/llama-3.3-70b-instruct:free",
    ];
    let mut app = App::new(&models.map(String::from), "simulated fleet");
    answer_all(
        &mut app,
        "Capital of France?",
        &[350, 900, 1400],
        &[Some(0.0002), Some(0.004), Some(0.0)],
    );
    answer_all(
        &mut app,
        "Explain TCP",
        &[330, 850, 1500],
        &[Some(0.0003), Some(0.005), None],
    );
    update(&mut app, key(KeyCode::F(10)));
    // Case 2 is highlighted; vote the second model best.
    update(&mut app, key(KeyCode::Right));
    update(&mut app, key(KeyCode::Enter));
    let r = switchyard::app::bakeoff_view::report(&app);
    let t = r.totals();
    assert_eq!(t[1].votes, 1, "{:?} {:?}", app.notice, app.votes);
    assert_eq!((t[2].answered, t[2].failed), (1, 1));
    assert!((t[1].cost - 0.009).abs() < 1e-12);
    insta::assert_snapshot!("bakeoff_80x24", render(&mut app, 80, 24).backend());
    insta::assert_snapshot!("bakeoff_160x48", render(&mut app, 160, 48).backend());
}

/// The screen's text, then where each style is (one letter per cell; `.` is the terminal's
/// own colours), then what each letter is: a theme's snapshot shows its colours, not only its
/// words.
fn styled(t: &Terminal<TestBackend>) -> String {
    use std::fmt::Write;
    let buf = t.backend().buffer();
    let area = buf.area;
    let mut legend: Vec<ratatui::style::Style> = Vec::new();
    let letters: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
    let mut text = String::new();
    let mut map = String::new();
    for y in 0..area.height {
        for x in 0..area.width {
            let cell = &buf[(x, y)];
            text.push_str(cell.symbol());
            let st = cell.style();
            let plain = st.fg.is_none_or(|c| c == ratatui::style::Color::Reset)
                && st.bg.is_none_or(|c| c == ratatui::style::Color::Reset)
                && st.add_modifier.is_empty();
            if plain {
                map.push('.');
                continue;
            }
            let i = legend.iter().position(|s| *s == st).unwrap_or_else(|| {
                legend.push(st);
                legend.len() - 1
            });
            map.push(*letters.get(i).unwrap_or(&'?'));
        }
        text.push('\n');
        map.push('\n');
    }
    let mut out = format!("{text}\n{map}\n");
    for (i, st) in legend.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}: fg {:?} bg {:?} {:?}",
            letters.get(i).unwrap_or(&'?'),
            st.fg.unwrap_or(ratatui::style::Color::Reset),
            st.bg.unwrap_or(ratatui::style::Color::Reset),
            st.add_modifier
        );
    }
    out
}

/// Three panes streaming markdown, in a theme at a colour depth.
fn themed(name: &str, depth: switchyard::theme::ColorDepth) -> String {
    let mut app = workbench(3);
    let set = switchyard::theme::ThemeSet::builtin();
    app.theme = set.get(name).expect("a shipped theme").at_depth(depth);
    styled(&render(&mut app, 80, 24))
}

#[test]
fn each_shipped_theme_and_sixteen_colours_80x24() {
    use switchyard::theme::ColorDepth;
    insta::assert_snapshot!("theme_dark", themed("dark", ColorDepth::TrueColor));
    insta::assert_snapshot!("theme_light", themed("light", ColorDepth::TrueColor));
    insta::assert_snapshot!(
        "theme_high_contrast",
        themed("high-contrast", ColorDepth::TrueColor)
    );
    insta::assert_snapshot!("theme_terminal", themed("terminal", ColorDepth::TrueColor));
    insta::assert_snapshot!(
        "theme_dark_at_16_colours",
        themed("dark", ColorDepth::Ansi16)
    );
    let none = themed("dark", ColorDepth::None);
    assert!(
        !none.contains("fg Rgb") && !none.contains("fg Indexed") && !none.contains("bg Rgb"),
        "{none}"
    );
}
