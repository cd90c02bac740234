//! Attachments read as the workbench reads them: PDFs through the real `switchyard extract-pdf`
//! child, images decoded and downscaled, every bad file a message naming it; and `ask --attach`
//! run as the real binary against a fleet whose endpoints declare what they take.

mod common;

use std::process::{Command, Output};
use std::time::Duration;
use switchyard::attach::{self, Kind, Limits, Origin, fixtures, load, pdf};

fn setup() {
    pdf::set_program(env!("CARGO_BIN_EXE_switchyard"));
}

fn load_bytes(name: &str, bytes: Vec<u8>) -> Result<load::Loaded, String> {
    setup();
    load::from_bytes(name.into(), Origin::Clipboard, bytes, &Limits::default(), 0)
}

#[test]
fn a_multi_page_pdf_gives_its_pages_and_text() {
    let l = load_bytes(
        "report.pdf",
        fixtures::pdf(&[
            "Quarterly report\nRevenue grew",
            "Second page words",
            "Third",
        ]),
    )
    .unwrap();
    let a = &l.attachment;
    assert_eq!((a.kind, a.pages), (Kind::Pdf, Some(3)));
    let text = a.text.as_deref().unwrap();
    assert!(
        text.contains("Quarterly report") && text.contains("Second page words"),
        "{text:?}"
    );
    assert!(a.first_page.as_deref().unwrap().contains("Revenue grew"));
    assert!(!a.first_page.as_deref().unwrap().contains("Second page"));
    assert!(
        a.payload
            .get()
            .unwrap()
            .starts_with("data:application/pdf;base64,JVBERi0")
    );
    assert_eq!(a.hash.len(), 64);
}

#[test]
fn a_pdf_with_no_text_is_attached_with_its_pages() {
    let l = load_bytes("scan.pdf", fixtures::pdf(&["", ""])).unwrap();
    assert_eq!(l.attachment.pages, Some(2));
    assert_eq!(l.attachment.text.as_deref(), Some(""));
}

#[test]
fn broken_and_encrypted_pdfs_are_refused_by_name() {
    let e = load_bytes("cut.pdf", fixtures::truncated_pdf()).unwrap_err();
    assert!(e.starts_with("cut.pdf: ") && e.contains("damaged"), "{e}");
    let e = load_bytes("locked.pdf", fixtures::encrypted_pdf()).unwrap_err();
    assert!(
        e.starts_with("locked.pdf: ") && e.contains("encrypted"),
        "{e}"
    );
}

#[test]
fn a_reader_that_takes_too_long_is_stopped() {
    setup();
    let pages: Vec<String> = (0..200).map(|i| format!("page {i}")).collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    let e = pdf::extract_with(&fixtures::pdf(&pages), Duration::from_millis(1)).unwrap_err();
    assert!(e.contains("was stopped"), "{e}");
}

#[test]
fn images_are_measured_and_large_ones_downscaled() {
    let l = load_bytes("photo.jpg", fixtures::jpeg(4000, 3000)).unwrap();
    let a = &l.attachment;
    assert_eq!(a.kind, Kind::Jpeg);
    assert_eq!(
        (a.pixels, a.original_pixels),
        (Some((2048, 1536)), Some((4000, 3000)))
    );
    let (_, sent) = attach::decode_data_url(&a.payload.get().unwrap(), 64 << 20).unwrap();
    assert_eq!(attach::image_size(&sent, Kind::Jpeg), Some((2048, 1536)));
    assert!(l.thumb.is_some());
    let l = load_bytes("dot.png", fixtures::png(64, 32)).unwrap();
    assert_eq!(
        (l.attachment.kind, l.attachment.pixels),
        (Kind::Png, Some((64, 32)))
    );
    assert_eq!(l.attachment.original_pixels, None);
}

#[test]
fn wrong_files_are_refused_with_what_they_are() {
    let dir = tempdir();
    let fake = dir.join("cat.png");
    std::fs::write(&fake, "I am a text file, whatever my name says").unwrap();
    let empty = dir.join("empty.pdf");
    std::fs::write(&empty, "").unwrap();
    let l = Limits::default();
    let e = load::from_path(&fake, &l, 0).unwrap_err();
    assert!(e.starts_with("cat.png: it is text"), "{e}");
    let e = load::from_path(&empty, &l, 0).unwrap_err();
    assert!(e.contains("empty (0 bytes)"), "{e}");
    let e = load::from_path(&dir, &l, 0).unwrap_err();
    assert!(e.contains("directory"), "{e}");
    let e = load::from_path(&dir.join("none.png"), &l, 0).unwrap_err();
    assert!(e.contains("no such file"), "{e}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.join("locked.png");
        std::fs::write(&locked, fixtures::png(4, 4)).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads anything; the refusal is checked only where permissions hold.
        if std::fs::read(&locked).is_err() {
            let e = load::from_path(&locked, &l, 0).unwrap_err();
            assert!(e.contains("cannot read"), "{e}");
        }
    }
    let big = dir.join("big.png");
    std::fs::write(&big, fixtures::png(300, 300)).unwrap();
    let tight = Limits {
        per_file: 1000,
        ..l
    };
    let e = load::from_path(&big, &tight, 0).unwrap_err();
    assert!(
        e.starts_with("big.png: ") && e.contains("max_file_mb"),
        "{e}"
    );
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "switchyard-attach-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `test/vision`: Eye reads images and files, Glass (cheaper) only images. `test/plain`: text
/// only.
const FLEET: &str = r#"
seed = 5
[[providers]]
name = "Eye"
slug = "eye"
[[providers.models]]
id = "test/vision"
prompt_price = 2
completion_price = 4
input_modalities = ["text", "image", "file"]
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 5000 }
[[providers]]
name = "Glass"
slug = "glass"
[[providers.models]]
id = "test/vision"
prompt_price = 0.1
completion_price = 0.2
input_modalities = ["text", "image"]
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 5000 }
[[providers]]
name = "Plain"
slug = "plain"
[[providers.models]]
id = "test/plain"
prompt_price = 0.1
completion_price = 0.2
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 5000 }
"#;

fn fixtures_dir() -> std::path::PathBuf {
    let d = tempdir();
    std::fs::write(d.join("cat.png"), fixtures::png(640, 480)).unwrap();
    std::fs::write(
        d.join("report.pdf"),
        fixtures::pdf(&["Quarterly report\nRevenue grew", "Costs fell"]),
    )
    .unwrap();
    std::fs::write(d.join("notes.png"), "plain words, not a picture").unwrap();
    std::fs::write(d.join("fleet.toml"), FLEET).unwrap();
    d
}

/// The binary with no key, no user config and a fresh state directory, run in `dir`.
fn sy_cmd(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    c.env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", dir.join("noconfig"))
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
        .current_dir(dir);
    c
}

/// `sy_cmd` against the test fleet.
fn sy(dir: &std::path::Path, args: &[&str]) -> Output {
    sy_cmd(dir)
        .arg("--fleet")
        .arg(dir.join("fleet.toml"))
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn ask_attach_sends_both_and_the_fleet_acknowledges_them() {
    let d = fixtures_dir();
    let o = sy(
        &d,
        &[
            "ask",
            "-m",
            "test/vision",
            "--attach",
            "cat.png",
            "--attach",
            "report.pdf",
            "what is this?",
        ],
    );
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("Received 2 attachments"), "{stdout}");
    assert!(stdout.contains("image (PNG): 640×480"), "{stdout}");
    assert!(
        stdout.contains("PDF `report.pdf`: 2 pages")
            && stdout.contains("Quarterly report Revenue grew"),
        "{stdout}"
    );
    // Glass is cheaper but reads no files: the aggregator skips it for a PDF.
    assert!(stdout.contains("Files read natively by Eye"), "{stdout}");
}

#[test]
fn switchyards_router_skips_endpoints_that_cannot_take_the_file() {
    let d = fixtures_dir();
    for _ in 0..3 {
        let o = sy(
            &d,
            &[
                "--route-locally",
                "ask",
                "--json",
                "-m",
                "test/vision",
                "--attach",
                "report.pdf",
                "sum up",
            ],
        );
        let (stdout, stderr) = out(&o);
        assert!(o.status.success(), "{stderr}");
        let attempts: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains(r#""type":"attempt""#))
            .collect();
        assert!(
            !attempts.is_empty() && attempts.iter().all(|l| l.contains(r#""provider":"Eye""#)),
            "{stdout}"
        );
    }
    // An image alone may go to the cheaper Glass, which sees images.
    let o = sy(
        &d,
        &[
            "--route-locally",
            "ask",
            "--json",
            "--sort",
            "price",
            "-m",
            "test/vision",
            "--attach",
            "cat.png",
            "look",
        ],
    );
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains(r#""provider":"Glass""#), "{stdout}");
}

#[test]
fn a_pdf_for_a_text_only_model_goes_as_locally_extracted_text_with_a_note() {
    let d = fixtures_dir();
    let o = sy(
        &d,
        &[
            "--route-locally",
            "ask",
            "--json",
            "-m",
            "test/plain",
            "--attach",
            "report.pdf",
            "sum up",
        ],
    );
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.contains("extracted here by Switchyard, was sent instead"),
        "{stdout}"
    );
    // The answer above is itself the wire check: Plain's own API refuses a file part with a 400,
    // so it completed only because the PDF went as text. `--print-request` shows the request
    // as built, before the router swaps the PDF for its text.
    let o = sy(
        &d,
        &[
            "--route-locally",
            "ask",
            "--print-request",
            "-m",
            "test/plain",
            "--attach",
            "report.pdf",
            "sum up",
        ],
    );
    let (stdout, _) = out(&o);
    assert!(
        stdout.contains(r#""type": "file""#),
        "print-request shows the request as built: {stdout}"
    );
}

#[test]
fn an_image_for_a_model_that_sees_none_is_not_sent_and_says_why() {
    let d = fixtures_dir();
    let o = sy(
        &d,
        &[
            "--route-locally",
            "ask",
            "-m",
            "test/plain",
            "--attach",
            "cat.png",
            "look",
        ],
    );
    let (_, stderr) = out(&o);
    assert!(!o.status.success());
    assert!(stderr.contains("input modality"), "{stderr}");
    // Through the aggregator: OpenRouter's words.
    let o = sy(
        &d,
        &["ask", "-m", "test/plain", "--attach", "cat.png", "look"],
    );
    let (_, stderr) = out(&o);
    assert!(!o.status.success());
    assert!(
        stderr.contains("No endpoints found that support image input"),
        "{stderr}"
    );
}

#[test]
fn bad_attachments_stop_ask_before_anything_is_sent() {
    let d = fixtures_dir();
    for (file, says) in [
        ("notes.png", "notes.png: it is text"),
        ("missing.pdf", "no such file"),
    ] {
        let o = sy(&d, &["ask", "-m", "test/vision", "--attach", file, "hi"]);
        let (stdout, stderr) = out(&o);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(stdout.is_empty(), "nothing answered: {stdout}");
    }
}

#[test]
fn a_url_is_fetched_checked_and_a_failing_one_is_a_message() {
    use std::net::TcpListener;
    let d = fixtures_dir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let png = fixtures::png(50, 40);
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let mut s = s;
            let Some((line, _)) = common::read_request(&s) else {
                continue;
            };
            use std::io::Write;
            if line.contains("/cat.png") {
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    png.len()
                );
                let _ = s.write_all(&png);
            } else {
                common::reply(&mut s, "404 Not Found", "text/plain", "gone");
            }
        }
    });
    let ok = format!("http://127.0.0.1:{port}/cat.png");
    let o = sy(&d, &["ask", "-m", "test/vision", "--attach", &ok, "look"]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    // An http (not https) URL goes inline: the provider may not reach it.
    assert!(stdout.contains("image (PNG): 50×40"), "{stdout}");
    let bad = format!("http://127.0.0.1:{port}/gone.png");
    let o = sy(&d, &["ask", "-m", "test/vision", "--attach", &bad, "look"]);
    let (_, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr.contains("gone.png") && stderr.contains("404"),
        "{stderr}"
    );
}

#[test]
fn a_conversation_with_attachments_is_exported_imported_and_reopened_with_them() {
    use switchyard::history::store::Store;
    use switchyard::history::writer::Head;
    use switchyard::history::{AttachmentRecord, MessageEnd, PaneRecord, export};
    setup();
    let png = load_bytes("cat.png", fixtures::png(64, 48))
        .unwrap()
        .attachment;
    let pdf = load_bytes("report.pdf", fixtures::pdf(&["Quarterly report"]))
        .unwrap()
        .attachment;
    let dir = tempdir();
    let mut a = Store::open(&dir.join("a.db")).unwrap();
    let head = Head {
        uid: "c-attach".into(),
        title: "with files".into(),
        created_ms: 1,
        forked_from: None,
    };
    let pane = PaneRecord {
        slot: 1,
        model: "test/vision".into(),
        settings: serde_json::json!({}),
    };
    // The PDF is above the kept size: only where it came from is kept.
    let records = vec![
        AttachmentRecord::of(&png, 1 << 20),
        AttachmentRecord::of(&pdf, 10),
    ];
    let ids = a
        .begin_turn_with(
            &head,
            0,
            "what are these?",
            2,
            std::slice::from_ref(&pane),
            &records,
        )
        .unwrap();
    let end = MessageEnd {
        content: "a cat and a report".into(),
        state: Some(switchyard::history::Finish::Complete),
        ..Default::default()
    };
    a.finish(ids[0], &end, false).unwrap();
    let conv = a.load("c-attach").unwrap().unwrap();
    assert_eq!(conv.turns[0].attachments, records);
    assert!(records[1].data.is_none() && records[0].data.is_some());
    // Export, import into another history: the same, byte for byte.
    let json = export::to_json(std::slice::from_ref(&conv));
    let back = export::from_json(&json).unwrap();
    assert_eq!(back[0], conv);
    let mut b = Store::open(&dir.join("b.db")).unwrap();
    b.insert(&back[0]).unwrap();
    let again = b.load("c-attach").unwrap().unwrap();
    assert_eq!(again.turns[0].attachments, records);
    let md = export::to_markdown(&again);
    assert!(md.contains("- attached: cat.png · PNG 64×48"), "{md}");
    assert!(
        md.contains("report.pdf · PDF 1 page") && md.contains("kept by path only"),
        "{md}"
    );
    // Reopened in the workbench: the chips are back and the image goes again with the next
    // prompt (the PDF, kept by path only, does not).
    let mut app = switchyard::app::state::App::new(&["test/vision".into()], "t");
    assert_eq!(app.open_conversation(&again), None);
    let t = &app.panes[0].turns[0];
    assert_eq!(t.attachments.len(), 2);
    assert_eq!(t.attachments[0].payload, png.payload);
    // Reopened, the image's bytes stay in history until a request sends them again.
    assert!(t.attachments[0].payload.is_released());
    assert_eq!(t.attachments[0].payload.get(), None);
    let mut req = app.panes[0].build_request("and now?", &[]);
    let keys = req.unresolved();
    assert_eq!(keys.len(), 1, "the image is read back; the PDF is not sent");
    let sent = b
        .attachment_data(&keys[0])
        .unwrap()
        .expect("history has it");
    assert_eq!(Some(sent.as_str()), png.payload.get().as_deref());
    assert!(req.resolve(|_| Some(sent.as_str().into())));
    let v = serde_json::to_value(&req).unwrap();
    let first = v["messages"][0]["content"].as_array().unwrap();
    assert_eq!(
        first
            .iter()
            .map(|p| p["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["text", "image_url"]
    );
    // Sent again in a later turn, its record has no bytes: history copies the ones it has.
    let later = vec![AttachmentRecord::of(&t.attachments[0], 1 << 20)];
    assert!(later[0].data.is_none());
    b.begin_turn_with(&head, 1, "and now?", 3, &[pane], &later)
        .unwrap();
    let reloaded = b.load("c-attach").unwrap().unwrap();
    assert_eq!(reloaded.turns.len(), 2);
    assert_eq!(
        reloaded.turns[1].attachments[0].data, records[0].data,
        "the later turn keeps the image's bytes too"
    );
}

#[test]
fn a_plain_openai_server_whose_listing_names_no_inputs_still_gets_the_image() {
    use std::io::Write;
    use std::net::TcpListener;
    let d = fixtures_dir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let mut s = s;
            let Some((line, body)) = common::read_request(&s) else {
                continue;
            };
            if line.starts_with("GET") {
                common::reply(
                    &mut s,
                    "200 OK",
                    "application/json",
                    r#"{"object":"list","data":[{"id":"local/llava"}]}"#,
                );
                continue;
            }
            let saw = String::from_utf8_lossy(&body).contains(r#""type":"image_url""#);
            let text = if saw { "got the image" } else { "no image" };
            let sse = format!(
                "data: {{\"id\":\"1\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\ndata: {{\"id\":\"1\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n"
            );
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sse}",
                sse.len()
            );
        }
    });
    let o = sy_cmd(&d)
        .args([
            "--base-url",
            &format!("http://127.0.0.1:{port}/v1"),
            "ask",
            "-m",
            "local/llava",
            "--attach",
            "cat.png",
            "look",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "got the image", "{stderr}");
}
