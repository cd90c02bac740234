//! Attachments read as the workbench reads them: PDFs through the real `switchyard extract-pdf`
//! child, images decoded and downscaled, every bad file a message naming it.

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
    assert!(a.data.starts_with("data:application/pdf;base64,JVBERi0"));
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
    let (_, sent) = attach::decode_data_url(&a.data, 64 << 20).unwrap();
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
