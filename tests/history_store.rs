//! The history database on real files: writes, crash recovery, migrations from every earlier
//! schema (a fixture per version), newer and foreign databases refused, damaged ones kept
//! aside, a size cap that behaves like a full disk, search, export and import.

use switchyard::history::store::{OpenError, Store, VERSION};
use switchyard::history::writer::{Event, Head, Op, Start, Writer};
use switchyard::history::{
    Attempt, Finish, MARK_END, MARK_START, MessageEnd, PaneRecord, Routing, export,
};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "sy-history-{}-{name}-{}",
        std::process::id(),
        switchyard::runtime::fresh_seed()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d.join("history.db")
}

fn head(uid: &str) -> Head {
    Head {
        uid: uid.into(),
        title: "a title".into(),
        created_ms: 1_000,
        forked_from: None,
    }
}

fn pane(slot: u32, model: &str) -> PaneRecord {
    PaneRecord {
        slot,
        model: model.into(),
        settings: serde_json::json!({"temperature": 0.5}),
    }
}

fn done(text: &str) -> MessageEnd {
    MessageEnd {
        content: text.into(),
        state: Some(Finish::Complete),
        finish_reason: Some("stop".into()),
        provider: Some("Acme".into()),
        model_served: Some("m/a".into()),
        ttft_ms: Some(120),
        total_ms: Some(900),
        prompt_tokens: Some(10),
        completion_tokens: Some(20),
        cost: Some(0.000_3),
        routing: Routing {
            attempts: vec![Attempt {
                provider: "Acme".into(),
                model: "m/a".into(),
            }],
            notes: vec!["failed over from Zed".into()],
            why: vec![],
        },
        ..Default::default()
    }
}

#[test]
fn an_answer_cut_by_a_crash_keeps_its_batches_and_is_marked_incomplete() {
    let path = tmp("crash");
    {
        let mut s = Store::open(&path).unwrap();
        s.begin_session().unwrap();
        let ids = s
            .begin_turn(
                &head("c1"),
                0,
                "explain borrowing",
                5,
                &[pane(1, "m/a"), pane(2, "m/b")],
            )
            .unwrap();
        s.append(&[
            (ids[0], 1, "Ownership ".into()),
            (ids[1], 1, "Borrow".into()),
        ])
        .unwrap();
        s.append(&[(ids[1], 2, "ing lends.".into())]).unwrap();
        s.finish(ids[0], &done("Ownership moves values."), false)
            .unwrap();
        // Dropped without ending the session: a kill -9.
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.begin_session().unwrap(), 1);
    let c = s.load("c1").unwrap().unwrap();
    assert_eq!(c.turns.len(), 1);
    assert_eq!(c.turns[0].prompt, "explain borrowing");
    let m = &c.turns[0].messages;
    assert_eq!(m[0].end.content, "Ownership moves values.");
    assert_eq!(m[0].end.state, Some(Finish::Complete));
    assert_eq!(m[0].end.routing.attempts.len(), 1);
    assert_eq!(m[1].end.content, "Borrowing lends.");
    assert_eq!(m[1].end.state, Some(Finish::Incomplete));
    assert!(
        m[1].end
            .error
            .as_deref()
            .unwrap()
            .contains("stopped before")
    );
    // The recovered text is searchable.
    let hits = s.search("lends", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].model.as_deref(), Some("m/b"));
    assert_eq!(s.begin_session().unwrap(), 0, "recovered once");
}

#[test]
fn a_folded_finish_keeps_the_streamed_chunks_as_the_text() {
    let path = tmp("folded");
    let mut s = Store::open(&path).unwrap();
    s.begin_session().unwrap();
    let ids = s
        .begin_turn(&head("c"), 0, "p", 1, &[pane(1, "m")])
        .unwrap();
    s.append(&[(ids[0], 1, "streamed ".into()), (ids[0], 2, "whole".into())])
        .unwrap();
    let end = MessageEnd {
        content: String::new(),
        ..done("")
    };
    s.finish(ids[0], &end, true).unwrap();
    let c = s.load("c").unwrap().unwrap();
    assert_eq!(c.turns[0].messages[0].end.content, "streamed whole");
    assert_eq!(s.search("whole", 5).unwrap().len(), 1);
}

#[test]
fn a_reader_sees_the_text_so_far_and_ending_the_session_marks_it_incomplete() {
    let path = tmp("live");
    let mut a = Store::open(&path).unwrap();
    a.begin_session().unwrap();
    let ids = a
        .begin_turn(&head("c1"), 0, "p", 5, &[pane(1, "m/a")])
        .unwrap();
    a.append(&[(ids[0], 1, "so far".into())]).unwrap();
    // Another reader (`switchyard history show` while the workbench streams) sees the text
    // so far.
    let b = Store::open_read_only(&path).unwrap();
    let c = b.load("c1").unwrap().unwrap();
    assert_eq!(c.turns[0].messages[0].end.content, "so far");
    assert_eq!(c.turns[0].messages[0].end.state, Some(Finish::Streaming));
    a.end_session().unwrap();
    let c = b.load("c1").unwrap().unwrap();
    assert_eq!(c.turns[0].messages[0].end.state, Some(Finish::Incomplete));
}

#[test]
fn every_earlier_schema_version_opens_and_reads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/history");
    let mut seen = 0;
    for v in 1..=VERSION {
        let sql = std::fs::read_to_string(dir.join(format!("v{v}.sql")))
            .unwrap_or_else(|e| panic!("a fixture for schema {v} is kept: {e}"));
        let path = tmp(&format!("v{v}"));
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(&sql)
            .unwrap();
        let mut s = Store::open(&path).unwrap();
        // The fixture's session ended with an answer still streaming: it is recovered.
        assert_eq!(s.begin_session().unwrap(), 1);
        let c = s.load("19ad9a3b000-0000beef").unwrap().unwrap();
        assert_eq!(c.title, "Compare two sorts");
        assert_eq!(c.panes.len(), 2);
        assert_eq!(c.panes[0].settings["temperature"], 0.2);
        let m = &c.turns[0].messages;
        assert_eq!(
            m[0].end.content,
            "Quicksort partitions in place; mergesort is stable."
        );
        assert_eq!(
            m[1].end.content,
            "Mergesort needs extra memory for merging."
        );
        assert_eq!(m[1].end.state, Some(Finish::Incomplete));
        assert_eq!(s.search("stable", 5).unwrap().len(), 1);
        if v >= 2 {
            // Attachments: one with its bytes, one kept by path only.
            let a = &c.turns[0].attachments;
            assert_eq!(a.len(), 2);
            assert_eq!((a[0].name.as_str(), a[0].pixels), ("dot.png", Some((1, 1))));
            assert!(
                a[0].data
                    .as_deref()
                    .unwrap()
                    .starts_with("data:image/png;base64,iVBORw0KGgo")
            );
            assert_eq!((a[1].pages, a[1].data.as_deref()), (Some(300), None));
        }
        // And the upgraded database takes new turns.
        s.begin_turn(
            &Head {
                uid: c.uid.clone(),
                ..head("x")
            },
            1,
            "next",
            9,
            &[pane(1, "fleet/alpha")],
        )
        .unwrap();
        let v: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        seen += 1;
    }
    assert_eq!(seen, VERSION);
}

#[test]
fn a_newer_or_foreign_database_is_refused_and_left_as_it_is() {
    let path = tmp("newer");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE future(x); PRAGMA user_version = 99;")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    match Store::open(&path) {
        Err(e @ OpenError::Newer { found: 99 }) => {
            assert!(e.to_string().contains("newer Switchyard"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let path = tmp("foreign");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE photos(x);")
        .unwrap();
    assert!(matches!(Store::open(&path), Err(OpenError::Foreign)));
}

#[test]
fn a_damaged_database_is_kept_aside_and_a_new_one_starts() {
    let path = tmp("damaged");
    let junk = b"this is not a database, just bytes that a crash left behind".repeat(200);
    std::fs::write(&path, &junk).unwrap();
    let (mut s, note) = Store::open_or_recover(&path).unwrap();
    let note = note.unwrap();
    assert!(
        note.contains("damaged") && note.contains("kept as"),
        "{note}"
    );
    let aside: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read(aside[0].path()).unwrap(),
        junk,
        "never overwritten"
    );
    s.begin_session().unwrap();
    s.begin_turn(&head("c"), 0, "works", 1, &[pane(1, "m")])
        .unwrap();
}

#[test]
fn a_full_history_fails_writes_with_a_message_and_the_writer_goes_on() {
    let path = tmp("full");
    let s = Store::open(&path).unwrap();
    s.set_max_bytes(64 * 1024).unwrap();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let ev = events.clone();
    let w = Writer::spawn(s, move |e| ev.lock().unwrap().push(e));
    let (ack_tx, ack_rx) = std::sync::mpsc::channel();
    w.send(
        Op::Turn {
            head: head("c"),
            seq: 0,
            prompt: "p".into(),
            starts: vec![Start {
                req: 7,
                pane: pane(1, "m"),
            }],
            attachments: Vec::new(),
            release: Vec::new(),
        },
        Some(Box::new(move || ack_tx.send(()).unwrap())),
    );
    ack_rx.recv().unwrap();
    for i in 0..200 {
        w.send(
            Op::Append {
                req: 7,
                text: format!("{i:04}").repeat(500),
            },
            None,
        );
    }
    w.send(
        Op::Finish {
            req: 7,
            end: Box::new(done("x".repeat(2_000_000).as_str())),
            folded: false,
        },
        None,
    );
    w.close(std::time::Duration::from_secs(30));
    let events = events.lock().unwrap();
    let problems: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Problem(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(problems.len(), 1, "said once: {problems:?}");
    assert!(problems[0].contains("disk is full"), "{}", problems[0]);
}

#[test]
fn the_writer_gathers_each_answers_chunks_into_one_row_per_batch() {
    let path = tmp("gather");
    let w = Writer::spawn(Store::open(&path).unwrap(), |_| {});
    let (ack_tx, ack_rx) = std::sync::mpsc::channel();
    w.send(
        Op::Turn {
            head: head("c"),
            seq: 0,
            prompt: "p".into(),
            starts: vec![
                Start {
                    req: 1,
                    pane: pane(1, "m/a"),
                },
                Start {
                    req: 2,
                    pane: pane(2, "m/b"),
                },
            ],
            attachments: Vec::new(),
            release: Vec::new(),
        },
        Some(Box::new(move || ack_tx.send(()).unwrap())),
    );
    ack_rx.recv().unwrap();
    let (mut a, mut b) = (String::new(), String::new());
    for i in 0..1_000 {
        let (ta, tb) = (format!("a{i} "), format!("b{i} "));
        a.push_str(&ta);
        b.push_str(&tb);
        w.send(Op::Append { req: 1, text: ta }, None);
        w.send(Op::Append { req: 2, text: tb }, None);
    }
    // The batches reach the disk within `BATCH`; a reader counts their rows while pane 2
    // still streams (an answer's end folds its rows into the message).
    let db = rusqlite::Connection::open(&path).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let rows = loop {
        let (rows, len): (i64, i64) = db
            .query_row(
                "SELECT count(*), coalesce(sum(length(text)), 0) FROM chunks",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if len as usize == a.len() + b.len() {
            break rows;
        }
        assert!(std::time::Instant::now() < deadline, "{len} bytes written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // 2 000 chunks sent within a few batches: a row per chunk would make each flush
    // thousands of inserts.
    assert!((2..100).contains(&rows), "{rows} rows");
    let end = MessageEnd {
        content: String::new(),
        ..done("")
    };
    w.send(
        Op::Finish {
            req: 1,
            end: Box::new(end),
            folded: true,
        },
        None,
    );
    // Pane 2 is still streaming when the workbench quits.
    w.close(std::time::Duration::from_secs(30));
    let s = Store::open(&path).unwrap();
    let c = s.load("c").unwrap().unwrap();
    let m = &c.turns[0].messages;
    assert_eq!(m[0].end.content, a);
    assert_eq!(m[0].end.state, Some(Finish::Complete));
    assert_eq!(m[1].end.content, b, "every chunk kept, in order");
    assert_eq!(m[1].end.state, Some(Finish::Incomplete));
}

#[test]
fn a_long_answer_stays_in_its_chunks_is_indexed_in_pieces_and_deletes_whole() {
    use switchyard::history::store::PIECE;
    let path = tmp("long");
    let mut s = Store::open(&path).unwrap();
    s.begin_session().unwrap();
    let ids = s
        .begin_turn(
            &head("c"),
            0,
            "write a lot",
            1,
            &[pane(1, "m/a"), pane(2, "m/b"), pane(3, "m/c")],
        )
        .unwrap();
    // ~5 pieces of prose, streamed in uneven chunks, with a rare word only at the very end.
    let long: String = (0..80_000)
        .map(|i| format!("w{} ", i % 97))
        .collect::<String>()
        + "zebra";
    assert!(long.len() > 4 * PIECE);
    let mut at = 0;
    let mut seq = 0;
    while at < long.len() {
        let end = (at + 7_777).min(long.len());
        seq += 1;
        s.append(&[
            (ids[0], seq, long[at..end].to_string()),
            (ids[2], seq, long[at..end].to_string()),
        ])
        .unwrap();
        at = end;
    }
    let folded = MessageEnd {
        content: String::new(),
        ..done("")
    };
    s.finish(ids[0], &folded, true).unwrap();
    // Given whole (a reply shown reformatted), longer than a piece.
    s.finish(ids[1], &done(&long), false).unwrap();
    drop(s);
    // The third is cut by a crash and recovered on the next start.
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.begin_session().unwrap(), 1);
    let c = s.load("c").unwrap().unwrap();
    for m in &c.turns[0].messages {
        assert_eq!(m.end.content.len(), long.len());
        assert!(m.end.content == long, "the text comes back exactly");
    }
    let db = rusqlite::Connection::open(&path).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE length(content) > 0"),
        0,
        "no row holds a long text"
    );
    let entries = count("SELECT count(*) FROM search WHERE ref > 0");
    assert!(entries >= 3 * 5, "{entries} index entries");
    // One hit per answer however many pieces match, and a word at the end is found.
    let hits = s.search("w5", 50).unwrap();
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert_eq!(s.search("zebra", 50).unwrap().len(), 3);
    // Every piece of every answer goes with the conversation.
    s.delete("c").unwrap();
    assert_eq!(count("SELECT count(*) FROM search"), 0);
    assert_eq!(count("SELECT count(*) FROM chunks"), 0);
}

#[test]
fn search_highlights_hits_in_prompts_and_answers_and_delete_removes_them() {
    let path = tmp("search");
    let mut s = Store::open(&path).unwrap();
    s.begin_session().unwrap();
    let ids = s
        .begin_turn(&head("c1"), 0, "What is a monad?", 5, &[pane(1, "m/a")])
        .unwrap();
    s.finish(
        ids[0],
        &done("A monad is a monoid in the category of endofunctors."),
        false,
    )
    .unwrap();
    let ids = s
        .begin_turn(&head("c2"), 0, "Explain tokio", 6, &[pane(1, "m/b")])
        .unwrap();
    s.finish(ids[0], &done("Tokio is an async runtime."), false)
        .unwrap();
    let hits = s.search("monad", 10).unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().all(|h| h.uid == "c1"));
    assert!(hits.iter().any(|h| h.model.is_none()), "the prompt matched");
    assert!(
        hits.iter()
            .all(|h| h.snippet.contains(&format!("{MARK_START}monad{MARK_END}"))),
        "{hits:?}"
    );
    // Prefix search as the user types, and operators taken as words.
    assert_eq!(s.search("endofunc", 10).unwrap().len(), 1);
    assert!(s.search("\"AND OR NOT (", 10).is_ok());
    let list = s.list(10).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].uid, "c2", "most recent first");
    assert_eq!(list[1].totals.tokens, 30);
    assert!((list[1].totals.cost - 0.000_3).abs() < 1e-12);
    s.delete("c1").unwrap();
    assert!(s.search("monad", 10).unwrap().is_empty());
    // Its turns, answers and panes went with it; the other conversation's stay.
    let db = rusqlite::Connection::open(&path).unwrap();
    for (table, left) in [("turns", 1), ("messages", 1), ("panes", 1), ("chunks", 0)] {
        let n: i64 = db
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, left, "{table}");
    }
    assert_eq!(s.list(10).unwrap().len(), 1);
    assert!(s.load("c1").unwrap().is_none());
}

#[test]
fn export_then_import_is_lossless_and_fork_keeps_turns_up_to_one() {
    let path = tmp("export");
    let mut s = Store::open(&path).unwrap();
    s.begin_session().unwrap();
    for seq in 0..3 {
        let ids = s
            .begin_turn(
                &head("c1"),
                seq,
                &format!("prompt {seq}\nwith a second line"),
                10 + seq as i64,
                &[pane(1, "m/a"), pane(2, "m/b:free")],
            )
            .unwrap();
        s.finish(
            ids[0],
            &done(&format!("answer {seq} with **markdown**")),
            false,
        )
        .unwrap();
        let cancelled = MessageEnd {
            content: "partial".into(),
            state: Some(Finish::Cancelled),
            ..Default::default()
        };
        s.finish(ids[1], &cancelled, false).unwrap();
    }
    let original = s.load("c1").unwrap().unwrap();
    let json = export::to_json(std::slice::from_ref(&original));
    let md = export::to_markdown(&original);
    assert!(md.contains("## 2. prompt 1"), "{md}");
    assert!(md.contains("### m/b:free"), "{md}");
    assert!(md.contains("first token 0.12 s"), "{md}");
    assert!(md.contains("$0.0003"), "{md}");
    assert!(md.contains("cancelled"), "{md}");

    let other = tmp("import");
    let mut t = Store::open(&other).unwrap();
    for c in export::from_json(&json).unwrap() {
        t.insert(&c).unwrap();
    }
    assert_eq!(t.load("c1").unwrap().unwrap(), original);
    // Importing twice is refused by name, not duplicated.
    let again = export::from_json(&json).unwrap();
    assert!(t.insert(&again[0]).unwrap_err().contains("already"));
    assert_eq!(t.search("markdown", 10).unwrap().len(), 3);

    let fork = s.fork("c1", 1).unwrap();
    assert_eq!(fork.turns.len(), 2);
    assert_eq!(fork.forked_from.as_deref(), Some("c1"));
    assert_eq!(s.load(&fork.uid).unwrap().unwrap().turns.len(), 2);
    assert_eq!(s.resolve(&fork.uid[..8]).unwrap(), fork.uid);
}

#[test]
fn two_workbenches_share_one_database_without_losing_a_write() {
    let path = tmp("shared");
    Store::open(&path).unwrap();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = Store::open(&path).unwrap();
                s.begin_session().unwrap();
                for seq in 0..50 {
                    let ids = s
                        .begin_turn(&head(&format!("w{w}")), seq, "p", 1, &[pane(1, "m")])
                        .unwrap();
                    s.append(&[(ids[0], 1, format!("text {w}/{seq}"))]).unwrap();
                    s.finish(ids[0], &done(""), true).unwrap();
                }
                s.end_session().unwrap();
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let s = Store::open_read_only(&path).unwrap();
    for w in 0..2 {
        let c = s.load(&format!("w{w}")).unwrap().unwrap();
        assert_eq!(c.turns.len(), 50);
        assert_eq!(c.turns[49].messages[0].end.content, format!("text {w}/49"));
    }
}
