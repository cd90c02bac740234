//! Conversations carried out of the history and back: Markdown to read (each turn a section,
//! one sub-section per model with who served, timings and cost) and JSON to import again
//! losslessly.

use super::{Conversation, Finish};
use serde::{Deserialize, Serialize};

/// The JSON export's `format` value; an import without it is not ours.
pub const FORMAT: &str = "switchyard-history";
/// Largest import file read.
pub const MAX_IMPORT_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    conversations: Vec<Conversation>,
}

/// Conversations as one JSON document.
pub fn to_json(convs: &[Conversation]) -> String {
    let f = File {
        format: FORMAT.into(),
        version: 1,
        conversations: convs.to_vec(),
    };
    serde_json::to_string_pretty(&f).unwrap_or_default()
}

/// Reads an export back; anything else is refused with what it is.
pub fn from_json(text: &str) -> Result<Vec<Conversation>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        _ => {
            return Err(format!(
                "not a Switchyard history export (no \"format\": \"{FORMAT}\")"
            ));
        }
    }
    if let Some(n) = v.get("version").and_then(|n| n.as_u64())
        && n > 1
    {
        return Err(format!(
            "export version {n} is newer than this Switchyard reads (1)"
        ));
    }
    let f: File = serde_json::from_value(v).map_err(|e| format!("a field is wrong: {e}"))?;
    Ok(f.conversations)
}

fn secs(ms: i64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

/// A cost as people read it (the one format everywhere).
pub use crate::wire::catalog::format_cost as cost;

/// One conversation as Markdown.
pub fn to_markdown(c: &Conversation) -> String {
    let mut out = String::new();
    let t = c.totals();
    let models: Vec<&str> = c.panes.iter().map(|p| p.model.as_str()).collect();
    out.push_str(&format!("# {}\n\n", c.title));
    out.push_str(&format!(
        "*{} · {} · {} tokens · {}*\n",
        super::date(c.created_ms),
        models.join(", "),
        t.tokens,
        cost(t.cost)
    ));
    if let Some(f) = &c.forked_from {
        out.push_str(&format!("\n*forked from {f}*\n"));
    }
    for turn in &c.turns {
        out.push_str(&format!(
            "\n## {}. {}\n\n",
            turn.seq + 1,
            super::title_of(&turn.prompt)
        ));
        for line in turn.prompt.lines() {
            out.push_str(&format!("> {line}\n"));
        }
        if !turn.attachments.is_empty() {
            out.push('\n');
            for a in &turn.attachments {
                out.push_str(&format!(
                    "- attached: {} (sha256 {})\n",
                    a.attachment().chip(),
                    &a.hash[..a.hash.len().min(12)]
                ));
            }
        }
        for m in &turn.messages {
            let e = &m.end;
            out.push_str(&format!("\n### {}\n\n", m.model));
            let mut facts = Vec::new();
            match (&e.provider, &e.model_served) {
                (Some(p), Some(s)) if *s != m.model => facts.push(format!("{p} ({s})")),
                (Some(p), _) => facts.push(p.clone()),
                (None, Some(s)) if *s != m.model => facts.push(s.clone()),
                _ => {}
            }
            if let Some(t) = e.ttft_ms {
                facts.push(format!("first token {}", secs(t)));
            }
            if let Some(t) = e.total_ms {
                facts.push(format!("total {}", secs(t)));
            }
            if let Some(n) = e.completion_tokens {
                facts.push(format!(
                    "{} + {n} tokens",
                    e.prompt_tokens.unwrap_or_default()
                ));
            }
            if let Some(c) = e.cost {
                facts.push(cost(c));
            }
            let state = e.state.unwrap_or(Finish::Incomplete);
            facts.push(match (&e.error, state) {
                (Some(err), _) => format!("{}: {err}", state.as_str()),
                (None, Finish::Complete) => {
                    format!(
                        "complete ({})",
                        e.finish_reason.as_deref().unwrap_or("stop")
                    )
                }
                (None, s) => s.as_str().to_string(),
            });
            out.push_str(&format!("*{}*\n\n", facts.join(" · ")));
            out.push_str(e.content.trim_end());
            out.push('\n');
            for n in &e.routing.notes {
                out.push_str(&format!("\n> routing: {n}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_never_cut() {
        assert_eq!(cost(0.0), "$0");
        assert_eq!(cost(0.000_123), "$0.000123");
        assert_eq!(cost(0.004_631), "$0.00463");
        assert_eq!(cost(0.000_48), "$0.00048");
        assert_eq!(cost(1.23456), "$1.235");
    }

    #[test]
    fn foreign_json_is_refused_by_name() {
        assert!(from_json("[1,2]").unwrap_err().contains("not a Switchyard"));
        assert!(from_json("{oops").unwrap_err().starts_with("not JSON"));
        let newer = format!(r#"{{"format":"{FORMAT}","version":9,"conversations":[]}}"#);
        assert!(from_json(&newer).unwrap_err().contains("newer"));
    }
}
