//! `switchyard history list|search|show|export|import|rm`, and opening the history for the
//! workbench (`open_for_workbench`: damaged, newer, locked or absent databases become a
//! message and a run without history, never a refusal to start).

use crate::cli::HistoryCommand;
use crate::config::HistoryConfig;
use crate::history::store::Store;
use crate::history::{Conversation, MARK_END, MARK_START, date, export};
use std::io::{IsTerminal, Write};

/// The history for the workbench, how it stands, and what to tell the user.
pub fn open_for_workbench(
    cfg: &HistoryConfig,
    no_history: bool,
) -> (Option<Store>, crate::app::state::Recording, Option<String>) {
    use crate::app::state::Recording;
    if no_history || !cfg.enabled {
        return (None, Recording::Off, None);
    }
    let Some(path) = crate::history::path() else {
        let why = "no state directory (set SWITCHYARD_STATE_DIR)".to_string();
        return (
            None,
            Recording::Unavailable(why.clone()),
            Some(format!("history is off: {why}")),
        );
    };
    match Store::open_or_recover(&path) {
        Ok((store, note)) => {
            if let Some(mb) = cfg.max_mb
                && let Err(e) = store.set_max_bytes((mb.max(0.0) * 1e6) as u64)
            {
                return (
                    Some(store),
                    Recording::On,
                    Some(format!("history: max_mb not applied: {e}")),
                );
            }
            (Some(store), Recording::On, note)
        }
        Err(e) => {
            let why = format!("{}: {e}", path.display());
            (
                None,
                Recording::Unavailable(why.clone()),
                Some(format!("history is off for this run: {why}")),
            )
        }
    }
}

fn open_read() -> Result<Store, String> {
    let path = crate::history::path().ok_or("no state directory (set SWITCHYARD_STATE_DIR)")?;
    if !path.exists() {
        return Err(format!(
            "no history yet at {} (conversations are kept from the first prompt sent)",
            path.display()
        ));
    }
    Store::open_read_only(&path).map_err(|e| format!("{}: {e}", path.display()))
}

fn open_write() -> Result<Store, String> {
    let path = crate::history::path().ok_or("no state directory (set SWITCHYARD_STATE_DIR)")?;
    Store::open(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs one `history` command; returns the exit status.
pub fn run(cmd: HistoryCommand) -> i32 {
    match run_inner(cmd) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("switchyard: {e}");
            2
        }
    }
}

/// Server and file text, made inert when it goes to a terminal; byte-exact when piped.
fn shown(s: &str, tty: bool) -> String {
    if tty {
        crate::safe_text::neutralise(s).into_owned()
    } else {
        s.to_string()
    }
}

fn run_inner(cmd: HistoryCommand) -> Result<(), String> {
    let tty = std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    let w = |out: &mut std::io::StdoutLock, s: &str| {
        // A closed pipe (`| head`) ends the listing quietly.
        let _ = out.write_all(s.as_bytes());
    };
    match cmd {
        HistoryCommand::List { json, limit } => {
            let store = open_read()?;
            for s in store.list(limit)? {
                if json {
                    let v = serde_json::json!({
                        "id": s.uid, "title": s.title, "created_ms": s.created_ms,
                        "updated_ms": s.updated_ms, "models": s.models, "prompts": s.turns,
                        "tokens": s.totals.tokens, "cost": s.totals.cost,
                    });
                    w(&mut out, &format!("{v}\n"));
                } else {
                    w(
                        &mut out,
                        &format!(
                            "{}  {}  {}\n    {} prompt(s) · {} tok · {} · {}\n",
                            s.uid,
                            date(s.created_ms),
                            shown(&s.title, tty),
                            s.turns,
                            s.totals.tokens,
                            export::cost(s.totals.cost),
                            shown(&s.models.join(", "), tty)
                        ),
                    );
                }
            }
        }
        HistoryCommand::Search { json, words } => {
            let store = open_read()?;
            let hits = store.search(&words.join(" "), 100)?;
            if hits.is_empty() && !json {
                eprintln!("switchyard: no prompt or answer has these words");
            }
            for h in hits {
                if json {
                    let v = serde_json::json!({
                        "id": h.uid, "title": h.title, "turn": h.seq + 1, "model": h.model,
                        "snippet": h.snippet.replace([MARK_START, MARK_END], ""),
                    });
                    w(&mut out, &format!("{v}\n"));
                } else {
                    let (on, off) = if tty {
                        ("\x1b[1m", "\x1b[0m")
                    } else {
                        ("**", "**")
                    };
                    let snippet = shown(&h.snippet, tty)
                        .replace(MARK_START, on)
                        .replace(MARK_END, off);
                    w(
                        &mut out,
                        &format!(
                            "{} · turn {} · {} · {}\n    {}\n",
                            h.uid,
                            h.seq + 1,
                            h.model.as_deref().unwrap_or("prompt"),
                            shown(&h.title, tty),
                            snippet
                        ),
                    );
                }
            }
        }
        HistoryCommand::Show { id } => {
            let store = open_read()?;
            let uid = match id {
                Some(id) => store.resolve(&id)?,
                None => store
                    .last()?
                    .ok_or("the history has no conversations yet")?,
            };
            let c = store.load(&uid)?.ok_or("that conversation is gone")?;
            w(&mut out, &shown(&export::to_markdown(&c), tty));
        }
        HistoryCommand::Export {
            ids,
            format,
            output,
        } => {
            let store = open_read()?;
            let uids: Vec<String> = if ids.is_empty() {
                store
                    .list(usize::MAX >> 1)?
                    .into_iter()
                    .map(|s| s.uid)
                    .collect()
            } else {
                ids.iter()
                    .map(|i| store.resolve(i))
                    .collect::<Result<_, _>>()?
            };
            let convs: Vec<Conversation> = uids
                .iter()
                .filter_map(|u| store.load(u).transpose())
                .collect::<Result<_, _>>()?;
            let md = match format.as_deref() {
                Some("md") => true,
                Some(_) => false,
                None => output
                    .as_ref()
                    .and_then(|p| p.extension())
                    .is_some_and(|e| e == "md"),
            };
            let text = if md {
                convs
                    .iter()
                    .map(export::to_markdown)
                    .collect::<Vec<_>>()
                    .join("\n---\n\n")
            } else {
                export::to_json(&convs)
            };
            match output {
                Some(p) => {
                    std::fs::write(&p, text)
                        .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
                    eprintln!(
                        "switchyard: {} conversation(s) written to {}",
                        convs.len(),
                        p.display()
                    );
                }
                None => w(&mut out, &shown(&text, tty && md)),
            }
        }
        HistoryCommand::Import { file } => {
            let text = crate::small_file::read(&file, export::MAX_IMPORT_BYTES)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let convs = export::from_json(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let mut store = open_write()?;
            let (mut added, mut skipped) = (0, Vec::new());
            for c in &convs {
                match store.insert(c) {
                    Ok(()) => added += 1,
                    Err(e) if e.contains("already") => skipped.push(c.uid.clone()),
                    Err(e) => return Err(format!("{}: {e}", c.uid)),
                }
            }
            eprintln!("switchyard: imported {added} conversation(s)");
            if !skipped.is_empty() {
                eprintln!(
                    "switchyard: already in the history, skipped: {}",
                    skipped.join(", ")
                );
            }
        }
        HistoryCommand::Rm { id } => {
            let mut store = open_write()?;
            let uid = store.resolve(&id)?;
            let title = store.load(&uid)?.map(|c| c.title).unwrap_or_default();
            store.delete(&uid)?;
            eprintln!("switchyard: deleted “{}” ({uid})", shown(&title, true));
        }
    }
    let _ = out.flush();
    Ok(())
}
