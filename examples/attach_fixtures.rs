//! Writes sample attachments into a folder, for trying F5 and `ask --attach` by hand:
//! `cargo run --example attach_fixtures -- DIR`.

use switchyard::attach::fixtures;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir).expect("create the folder");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("cat.png", fixtures::png(640, 480)),
        ("photo.jpg", fixtures::jpeg(4000, 3000)),
        (
            "report.pdf",
            fixtures::pdf(&[
                "Quarterly report\nRevenue grew by twelve percent",
                "Costs fell in every region",
                "Outlook: steady",
            ]),
        ),
        ("scan.pdf", fixtures::pdf(&["", ""])),
        ("cut.pdf", fixtures::truncated_pdf()),
        ("locked.pdf", fixtures::encrypted_pdf()),
        ("notes.png", b"a text file with an image's name".to_vec()),
        ("empty.pdf", Vec::new()),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("write a fixture");
        println!("{}", dir.join(name).display());
    }
}
