//! Attaching a 20 MB PDF and a 4000×3000 photo. Off the UI task: reading each as the workbench's
//! loader does (the PDF through the `extract-pdf` child of the release binary; the photo decoded,
//! downscaled to 2048 px and thumbnailed). On the UI task, where the goal is no frame over 50 ms:
//! taking both in (`Msg::Attached`), the first 160×48 frame of F5 with the photo's preview (the
//! half-block picture made from the thumbnail), a later frame, and the send that builds eight
//! panes' requests with both files.

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;
use switchyard::app::state::App;
use switchyard::app::update::{Msg, update};
use switchyard::attach::{Limits, Origin, fixtures, load};

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn pdf_bytes() -> Vec<u8> {
    let pages: Vec<String> = (0..40)
        .map(|i| format!("Page {i}: quarterly figures, regions and outlook"))
        .collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    fixtures::heavy_pdf(&pages, 20 << 20)
}

fn read(name: &str, bytes: Vec<u8>) -> load::Loaded {
    load::from_bytes(name.into(), Origin::Clipboard, bytes, &Limits::default(), 0)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn benches(c: &mut Criterion) {
    let exe = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/switchyard");
    assert!(
        exe.exists(),
        "build the release binary first: cargo build --release"
    );
    switchyard::attach::pdf::set_program(exe);
    let pdf = pdf_bytes();
    let photo = fixtures::jpeg(4000, 3000);
    eprintln!(
        "inputs: PDF {} bytes, JPEG 4000×3000 {} bytes",
        pdf.len(),
        photo.len()
    );
    let mut g = c.benchmark_group("attach_off_ui");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("read_20MB_pdf_in_child", |b| {
        b.iter(|| read("report.pdf", pdf.clone()))
    });
    g.bench_function("read_4000x3000_photo", |b| {
        b.iter(|| read("photo.jpg", photo.clone()))
    });
    g.finish();

    let pdf_l = read("report.pdf", pdf.clone());
    let photo_l = read("photo.jpg", photo.clone());
    let models: Vec<String> = (0..8).map(|i| format!("bench/model-{i}")).collect();
    let fresh = || {
        let mut app = App::new(&models, "bench");
        update(&mut app, key(KeyCode::F(5)));
        app
    };
    let attached = |app: &mut App| {
        for l in [&pdf_l, &photo_l] {
            let l = load::Loaded {
                attachment: l.attachment.clone(),
                thumb: l.thumb.clone(),
            };
            update(app, Msg::Attached(Ok(Box::new(l))));
        }
    };
    let mut g = c.benchmark_group("attach_ui");
    g.sample_size(30);
    g.bench_function("take_both_in", |b| {
        b.iter_batched(
            fresh,
            |mut app| attached(&mut app),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("first_frame_with_photo_preview_160x48", |b| {
        b.iter_batched(
            || {
                let mut app = fresh();
                attached(&mut app);
                (app, Terminal::new(TestBackend::new(160, 48)).unwrap())
            },
            |(mut app, mut term)| {
                term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
            },
            criterion::BatchSize::SmallInput,
        )
    });
    let mut app = fresh();
    attached(&mut app);
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
    g.bench_function("later_frame_160x48", |b| {
        b.iter(|| {
            term.draw(|f| switchyard::ui::draw(f, &mut app)).unwrap();
        })
    });
    g.bench_function("send_to_8_panes", |b| {
        b.iter_batched(
            || {
                let mut app = fresh();
                attached(&mut app);
                update(&mut app, key(KeyCode::Esc));
                for ch in "summarise both".chars() {
                    update(&mut app, key(KeyCode::Char(ch)));
                }
                app
            },
            |mut app| update(&mut app, key(KeyCode::Enter)),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(attach, benches);
criterion_main!(attach);
