//! `switchyard history …` as a user runs it, from a fresh home: list, search, show, export to
//! Markdown and JSON, delete, import the JSON back (the conversation comes back the same),
//! and files that are not ours refused with a message.

use std::process::{Command, Output};
use switchyard::history::store::Store;
use switchyard::history::writer::Head;
use switchyard::history::{Finish, MessageEnd, PaneRecord};

struct Home(std::path::PathBuf);

impl Home {
    fn new(tag: &str) -> Home {
        let p = std::env::temp_dir().join(format!("sy-hcli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Home(p)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(args)
            .current_dir(&self.0)
            .env("HOME", &self.0)
            .env("XDG_CONFIG_HOME", self.0.join("config"))
            .env("XDG_STATE_HOME", self.0.join("state"))
            .env("SWITCHYARD_STATE_DIR", self.0.join("state"))
            .env_remove("OPENROUTER_API_KEY")
            .output()
            .unwrap()
    }

    /// A conversation of two prompts to two models, written the way the workbench writes.
    fn seed(&self) {
        let mut s = Store::open(&self.0.join("state/history.db")).unwrap();
        s.begin_session().unwrap();
        let head = Head {
            uid: "0190abc-00000001".into(),
            title: "Sorting algorithms".into(),
            created_ms: 1_796_151_845_000,
            forked_from: None,
        };
        for (seq, prompt) in ["Compare quicksort and heapsort", "Which is stable?"]
            .iter()
            .enumerate()
        {
            let panes = [
                PaneRecord {
                    slot: 1,
                    model: "fleet/alpha".into(),
                    settings: serde_json::json!({}),
                },
                PaneRecord {
                    slot: 2,
                    model: "fleet/beta:free".into(),
                    settings: serde_json::json!({}),
                },
            ];
            let ids = s
                .begin_turn(&head, seq as u32, prompt, 1_796_151_845_000, &panes)
                .unwrap();
            for (i, id) in ids.into_iter().enumerate() {
                s.finish(
                    id,
                    &MessageEnd {
                        content: format!("Answer {seq}/{i}: heapsort is not stable."),
                        state: Some(Finish::Complete),
                        finish_reason: Some("stop".into()),
                        provider: Some("Acme".into()),
                        ttft_ms: Some(250),
                        total_ms: Some(1_500),
                        prompt_tokens: Some(10),
                        completion_tokens: Some(30),
                        cost: Some(0.000_12),
                        ..Default::default()
                    },
                    false,
                )
                .unwrap();
            }
        }
        s.end_session().unwrap();
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_fresh_home_says_there_is_no_history_yet() {
    let h = Home::new("fresh");
    let o = h.run(&["history", "list"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("no history yet"), "{err}");
}

#[test]
fn list_search_show_export_rm_import_round_trip() {
    let h = Home::new("trip");
    h.seed();
    let (out, _) = text(&h.run(&["history", "list"]));
    assert!(out.contains("Sorting algorithms"), "{out}");
    assert!(out.contains("2 prompt(s) · 160 tok · $0.00048"), "{out}");
    assert!(out.contains("fleet/alpha, fleet/beta:free"), "{out}");

    let (out, _) = text(&h.run(&["history", "list", "--json"]));
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["prompts"], 2);

    let (out, _) = text(&h.run(&["history", "search", "stable"]));
    assert!(
        out.contains("**stable**"),
        "piped: marks as Markdown bold: {out}"
    );
    assert!(out.contains("turn 2 · prompt"), "{out}");
    let o = h.run(&["history", "search", "zebra"]);
    assert!(text(&o).1.contains("no prompt or answer has these words"));

    let (md, _) = text(&h.run(&["history", "show", "0190"]));
    assert!(md.starts_with("# Sorting algorithms"), "{md}");
    assert!(md.contains("## 2. Which is stable?"), "{md}");
    assert!(md.contains("### fleet/beta:free"), "{md}");
    assert!(
        md.contains(
            "Acme · first token 0.25 s · total 1.50 s · 10 + 30 tokens · $0.00012 · complete (stop)"
        ),
        "{md}"
    );

    let file = h.0.join("out.json");
    let o = h.run(&["history", "export", "-o", file.to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    let md_file = h.0.join("out.md");
    h.run(&["history", "export", "-o", md_file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&md_file).unwrap(), md);

    let o = h.run(&["history", "rm", "0190abc"]);
    assert!(
        text(&o).1.contains("deleted “Sorting algorithms”"),
        "{:?}",
        text(&o)
    );
    assert!(h.run(&["history", "list"]).stdout.is_empty());

    let o = h.run(&["history", "import", file.to_str().unwrap()]);
    assert!(
        text(&o).1.contains("imported 1 conversation(s)"),
        "{:?}",
        text(&o)
    );
    let (again, _) = text(&h.run(&["history", "show"]));
    assert_eq!(again, md, "the same conversation, byte for byte");
    // Twice: skipped by id, not doubled.
    let o = h.run(&["history", "import", file.to_str().unwrap()]);
    assert!(
        text(&o).1.contains("skipped: 0190abc-00000001"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn an_import_file_that_is_not_ours_is_refused_and_changes_nothing() {
    let h = Home::new("foreign");
    h.seed();
    let f = h.0.join("notes.json");
    std::fs::write(&f, r#"{"conversations": [{"title": "x"}]}"#).unwrap();
    let o = h.run(&["history", "import", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("not a Switchyard history export"),
        "{:?}",
        text(&o)
    );
    std::fs::write(&f, "\u{0}\u{1}binary").unwrap();
    let o = h.run(&["history", "import", f.to_str().unwrap()]);
    assert!(text(&o).1.contains("not JSON"), "{:?}", text(&o));
    let (out, _) = text(&h.run(&["history", "list", "--json"]));
    assert_eq!(out.lines().count(), 1);
}
