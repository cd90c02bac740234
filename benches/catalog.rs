//! The catalog browser's search per keystroke over 500 models: the real 371-model snapshot
//! plus 129 copies under other ids. Each step is what one key costs the UI task: reading the
//! line (`catalog_query::parse`) and filtering and sorting the list over the catalog's search
//! index, made once when the catalog arrives (`catalog_query::run_indexed`);
//! and, separately, the whole F8 frame at 160×48 after a key.

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchyard::app::state::App;
use switchyard::app::update::{Msg, update};
use switchyard::catalog_query::{Sort, parse, run_indexed};
use switchyard::wire::catalog::SearchIndex;
use switchyard::wire::catalog::{Model, ModelList};

fn catalog() -> Vec<Model> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/openrouter-models.json"
    ))
    .expect("the snapshot is in the repository");
    let mut models = serde_json::from_str::<ModelList>(&text).unwrap().data;
    let extra: Vec<Model> = models
        .iter()
        .take(500 - models.len())
        .map(|m| Model {
            id: format!("{}-copy", m.id),
            ..m.clone()
        })
        .collect();
    models.extend(extra);
    assert_eq!(models.len(), 500);
    models
}

fn benches(c: &mut Criterion) {
    let models = catalog();
    // Made once when the catalog arrives, as the workbench does.
    let index = SearchIndex::new(&models);
    // Typed a key at a time: each prefix is one keystroke's work.
    let typed = "gemini img ctx>1m";
    let prefixes: Vec<&str> = (1..=typed.len()).map(|n| &typed[..n]).collect();
    c.bench_function(
        "catalog: one keystroke (parse + filter + best-match order), 500 models",
        |b| {
            let mut i = 0;
            b.iter(|| {
                let q = parse(prefixes[i % prefixes.len()]);
                i += 1;
                std::hint::black_box(run_indexed(&models, &index, &q, Sort::Relevance).len())
            })
        },
    );
    c.bench_function("catalog: one keystroke sorted by price, 500 models", |b| {
        let mut i = 0;
        b.iter(|| {
            let q = parse(prefixes[i % prefixes.len()]);
            i += 1;
            std::hint::black_box(run_indexed(&models, &index, &q, Sort::Price).len())
        })
    });
    c.bench_function(
        "catalog: an empty line (every model listed), 500 models",
        |b| {
            let q = parse("");
            b.iter(|| std::hint::black_box(run_indexed(&models, &index, &q, Sort::Relevance).len()))
        },
    );

    let mut app = App::new(&["google/gemini-2.5-pro".to_string()], "bench");
    update(&mut app, Msg::Catalog(Ok(models.clone())));
    update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::F(8), KeyModifiers::NONE)),
    );
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    c.bench_function("catalog: key + F8 frame at 160x48, 500 models", |b| {
        let mut n = 0;
        b.iter(|| {
            // Type and erase a letter: the list changes every frame.
            let k = if n % 2 == 0 {
                KeyCode::Char('o')
            } else {
                KeyCode::Backspace
            };
            n += 1;
            update(&mut app, Msg::Key(KeyEvent::new(k, KeyModifiers::NONE)));
            term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
        })
    });
}

criterion_group!(catalog_benches, benches);
criterion_main!(catalog_benches);
