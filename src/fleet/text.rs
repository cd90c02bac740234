//! Deterministic answer text: realistic markdown (paragraphs, heading, list, table, code) that
//! exercises the renderer, plus the tokenizer that splits it into stream deltas.

use super::rng::{SplitMix64, fnv1a, mix};

/// The answer `model` gives to `prompt` in a fleet seeded with `seed`.
///
/// Variant suffixes (`:free`, …) are ignored so a free variant answers like its paid twin.
pub fn answer(seed: u64, model: &str, prompt: &str) -> String {
    let base = model.split_once(':').map_or(model, |(b, _)| b);
    let mut r = SplitMix64::new(mix(&[
        seed,
        fnv1a(base.as_bytes()),
        fnv1a(prompt.as_bytes()),
    ]));
    let topic = topic_of(prompt);
    let mut out = String::new();

    let opening = r.pick(OPENINGS).replace("{topic}", &topic);
    out.push_str(&opening);
    out.push(' ');
    out.push_str(r.pick::<&str>(SECOND_SENTENCES));
    out.push_str("\n\n");

    out.push_str(r.pick::<&str>(HEADINGS));
    out.push_str("\n\n");
    let n_bullets = 3 + r.below(3);
    for i in r.sample_indices(BULLETS.len(), n_bullets) {
        out.push_str("- ");
        out.push_str(BULLETS[i]);
        out.push('\n');
    }
    out.push('\n');

    let table = r.pick(TABLES);
    out.push_str(table.intro);
    out.push_str("\n\n");
    out.push_str(&format!("| {} |\n", table.header.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(table.header.len())));
    let n_rows = 2 + r.below(table.rows.len() - 1);
    for i in r.sample_indices(table.rows.len(), n_rows) {
        out.push_str(&format!("| {} |\n", table.rows[i].join(" | ")));
    }
    out.push('\n');

    let (lang, label, snippets) = r.pick(CODE);
    out.push_str(&r.pick(CODE_INTROS).replace("{lang}", label));
    out.push_str("\n\n```");
    out.push_str(lang);
    out.push('\n');
    out.push_str(r.pick(snippets).trim_matches('\n'));
    out.push_str("\n```\n\n");

    out.push_str(r.pick::<&str>(CLOSINGS));
    out
}

/// Like [`answer`], but at least `min_tokens` long: further sections (answers to numbered
/// variants of the prompt) are appended until it is.
pub fn answer_at_least(seed: u64, model: &str, prompt: &str, min_tokens: u64) -> String {
    let mut out = answer(seed, model, prompt);
    let mut part = 2;
    while (tokenize(&out).len() as u64) < min_tokens {
        out.push_str(&format!("\n\n## Part {part}\n\n"));
        out.push_str(&answer(seed, model, &format!("{prompt} #{part}")));
        part += 1;
    }
    out
}

/// Splits text into stream tokens: each is optional leading whitespace followed by a word, or by
/// a run of one punctuation character. Concatenating the tokens gives back `text` exactly.
pub fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut start = 0;
    while let Some(&(_, c)) = chars.peek() {
        // Leading whitespace belongs to the token that follows it.
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let word = |c: char| c.is_alphanumeric() || c == '_' || c == '\'';
        if word(c) {
            while chars.peek().is_some_and(|&(_, c)| word(c)) {
                chars.next();
            }
        } else {
            while chars.peek().is_some_and(|&(_, d)| d == c) {
                chars.next();
            }
        }
        let end = chars.peek().map_or(text.len(), |&(i, _)| i);
        tokens.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        tokens.push(&text[start..]);
    }
    tokens
}

/// A short, markdown-safe paraphrase of the prompt for the opening sentence.
fn topic_of(prompt: &str) -> String {
    let cleaned: String = prompt
        .chars()
        .map(|c| {
            if "`*_|#[]<>\\\"".contains(c) || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().take(12).collect();
    let mut topic = words.join(" ");
    let truncated = cleaned.split_whitespace().count() > words.len();
    topic = topic
        .trim_end_matches(|c: char| c.is_whitespace() || ".,;:!?".contains(c))
        .to_string();
    if topic.is_empty() {
        return "your question".to_string();
    }
    if truncated {
        topic.push('…');
    }
    topic
}

const OPENINGS: &[&str] = &[
    "You asked about \"{topic}\". Here is a practical way to think about it, with a worked example you can adapt.",
    "Good question: \"{topic}\" comes up a lot, and the answer depends mostly on **what you optimise for**.",
    "Let's take \"{topic}\" step by step. I'll outline the key ideas first, then show a compact example.",
    "Short answer: it depends on your constraints. For \"{topic}\", the trade-offs below usually decide it.",
    "Regarding \"{topic}\": there is no single right answer, but there is a *sensible default* and a few clear exceptions.",
];

const SECOND_SENTENCES: &[&str] = &[
    "I'll keep it concrete and point out where the common pitfalls are.",
    "Most of the difficulty is in the details, so the summary below focuses on those.",
    "The good news is that a small, boring solution covers the majority of real cases.",
    "If you only read one part, read the table: it captures the decision in a few rows.",
];

const HEADINGS: &[&str] = &[
    "## Key considerations",
    "## How it works",
    "## A practical approach",
    "## Breaking it down",
    "## What matters most",
];

const BULLETS: &[&str] = &[
    "**Start simple.** Measure before optimising; the bottleneck is rarely where you expect.",
    "**Make failure explicit.** Return errors with context instead of logging and carrying on.",
    "**Keep state small.** Fewer moving parts means fewer states to test and reason about.",
    "Prefer `immutable` data at the boundaries and mutate only inside a narrow scope.",
    "**Cache carefully.** A cache is a second source of truth, so decide up front how it expires.",
    "Write the test that would have caught the last bug, then keep it forever.",
    "**Watch the tail latency**, not just the average: p99 is what users remember.",
    "Use *structured logs* with a request id so one request can be followed end to end.",
    "**Budget for retries.** Back off exponentially and cap the total time spent waiting.",
    "Document the one non-obvious decision in a comment right where it is made.",
];

struct Table {
    intro: &'static str,
    header: &'static [&'static str],
    rows: &'static [&'static [&'static str]],
}

const TABLES: &[Table] = &[
    Table {
        intro: "A quick comparison of the usual options:",
        header: &["Option", "Strength", "Weakness"],
        rows: &[
            &["In-memory map", "Fastest reads", "Lost on restart"],
            &["SQLite", "Zero setup, durable", "Single writer"],
            &["Postgres", "Concurrent, mature", "Needs operating"],
            &["Object storage", "Cheap at scale", "High latency"],
        ],
    },
    Table {
        intro: "Rough numbers to keep in mind:",
        header: &["Operation", "Typical latency", "Notes"],
        rows: &[
            &["L1 cache hit", "~1 ns", "Effectively free"],
            &["Main memory", "~100 ns", "Cache misses add up"],
            &["SSD random read", "~100 µs", "Batch when possible"],
            &["Same-region RTT", "~0.5 ms", "Dominates chatty APIs"],
        ],
    },
    Table {
        intro: "How the approaches compare in practice:",
        header: &["Approach", "Complexity", "When to use"],
        rows: &[
            &["Polling", "Low", "Infrequent updates"],
            &["Webhooks", "Medium", "Third-party events"],
            &["Server-sent events", "Medium", "One-way streams"],
            &["WebSockets", "High", "Interactive, two-way"],
        ],
    },
];

const CODE_INTROS: &[&str] = &[
    "Here is a minimal example in {lang}:",
    "A compact {lang} sketch of the idea:",
    "For instance, in {lang}:",
];

type Snippets = &'static [&'static str];

const CODE: &[(&str, &str, Snippets)] = &[
    (
        "rust",
        "Rust",
        &[
            r#"
use std::collections::HashMap;

fn word_counts(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}
"#,
            r#"
use std::time::Duration;

async fn fetch_with_retry(url: &str, attempts: u32) -> Result<String, reqwest::Error> {
    let mut delay = Duration::from_millis(200);
    for _ in 1..attempts {
        match reqwest::get(url).await {
            Ok(resp) => return resp.text().await,
            Err(_) => tokio::time::sleep(delay).await,
        }
        delay *= 2;
    }
    reqwest::get(url).await?.text().await
}
"#,
        ],
    ),
    (
        "python",
        "Python",
        &[
            r#"
from functools import lru_cache

@lru_cache(maxsize=1024)
def fib(n: int) -> int:
    """Return the n-th Fibonacci number."""
    return n if n < 2 else fib(n - 1) + fib(n - 2)

print([fib(i) for i in range(10)])
"#,
            r#"
import time

def retry(fn, attempts=3, delay=0.2):
    for i in range(attempts):
        try:
            return fn()
        except ConnectionError:
            if i == attempts - 1:
                raise
            time.sleep(delay * 2 ** i)
"#,
        ],
    ),
    (
        "typescript",
        "TypeScript",
        &[
            r#"
type Result<T> = { ok: true; value: T } | { ok: false; error: string };

async function getJson<T>(url: string): Promise<Result<T>> {
  const res = await fetch(url);
  if (!res.ok) {
    return { ok: false, error: `HTTP ${res.status}` };
  }
  return { ok: true, value: (await res.json()) as T };
}
"#,
            r#"
function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
"#,
        ],
    ),
    (
        "go",
        "Go",
        &[
            r#"
package main

import "fmt"

func main() {
	counts := map[string]int{}
	for _, w := range []string{"a", "b", "a"} {
		counts[w]++
	}
	fmt.Println(counts)
}
"#,
            r#"
func worker(jobs <-chan int, results chan<- int) {
	for j := range jobs {
		results <- j * j
	}
}
"#,
        ],
    ),
    (
        "sql",
        "SQL",
        &[
            r#"
SELECT customer_id,
       COUNT(*)         AS orders,
       SUM(total_cents) AS revenue_cents
FROM orders
WHERE created_at >= NOW() - INTERVAL '30 days'
GROUP BY customer_id
ORDER BY revenue_cents DESC
LIMIT 10;
"#,
            r#"
CREATE INDEX CONCURRENTLY idx_events_user_time
    ON events (user_id, created_at DESC);

EXPLAIN ANALYZE
SELECT * FROM events WHERE user_id = 42 ORDER BY created_at DESC LIMIT 20;
"#,
        ],
    ),
    (
        "bash",
        "Bash",
        &[
            r#"
#!/usr/bin/env bash
set -euo pipefail

for f in logs/*.log; do
  errors=$(grep -c "ERROR" "$f" || true)
  echo "$f: $errors errors"
done
"#,
            r#"
# Retry a flaky command up to 5 times with backoff.
n=0
until curl -fsS https://example.com/health; do
  n=$((n + 1))
  [ "$n" -ge 5 ] && exit 1
  sleep $((2 ** n))
done
"#,
        ],
    ),
];

const CLOSINGS: &[&str] = &[
    "In short: pick the simplest option that meets your constraints today, and leave yourself a clear path to change it later. If you share more about your setup, I can tailor this further.",
    "That should cover the common cases. The main thing is to keep the design honest about failure and to measure before you optimise. Happy to dig into any of these points in more detail.",
    "To sum up, the trade-offs above matter more than the specific tool. Start with the defaults, add instrumentation, and revisit the choice once you have real numbers.",
    "Hopefully this gives you a solid starting point. Try the example, adjust it to your data, and let me know where it breaks: that is usually where the interesting part begins.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_answers_reach_their_minimum_and_stay_deterministic() {
        let a = answer_at_least(1, "m/x", "explain", 4000);
        assert!(tokenize(&a).len() >= 4000);
        assert_eq!(a, answer_at_least(1, "m/x", "explain", 4000));
        assert!(a.matches("```").count() >= 20, "many code blocks");
        assert_eq!(
            answer_at_least(1, "m/x", "explain", 0),
            answer(1, "m/x", "explain")
        );
    }

    #[test]
    fn tokens_concatenate_to_the_text() {
        for t in [
            "",
            "  ",
            "Hello, world!\n\n## Heading\n| a | b |\n|---|---|\n",
            "naïve café… 東京 ok",
            "x  ",
        ] {
            assert_eq!(tokenize(t).concat(), t);
        }
        assert_eq!(tokenize("Hi, you!"), vec!["Hi", ",", " you", "!"]);
        assert_eq!(tokenize("a\n```rust"), vec!["a", "\n```", "rust"]);
    }

    #[test]
    fn answers_are_deterministic_and_vary_by_model_and_prompt() {
        let a = answer(1, "openai/gpt-4o-mini", "How do I cache?");
        assert_eq!(a, answer(1, "openai/gpt-4o-mini", "How do I cache?"));
        assert_ne!(a, answer(1, "google/gemini-2.5-pro", "How do I cache?"));
        assert_ne!(a, answer(2, "openai/gpt-4o-mini", "How do I cache?"));
        assert_ne!(a, answer(1, "openai/gpt-4o-mini", "How do I shard?"));
        assert_eq!(answer(1, "m/x:free", "p"), answer(1, "m/x", "p"));
    }

    #[test]
    fn answers_have_all_markdown_parts_and_sane_length() {
        for i in 0..300u64 {
            let prompt = format!("question number {i} about `code` and | pipes");
            let a = answer(i, ["a/b", "c/d", "e/f"][i as usize % 3], &prompt);
            let n = tokenize(&a).len();
            assert!((150..=450).contains(&n), "{n} tokens:\n{a}");
            assert!(a.contains("\n## "), "{a}");
            assert!(a.contains("\n- "), "{a}");
            assert!(a.contains("|---|"), "{a}");
            assert_eq!(a.matches("```").count(), 2, "{a}");
            assert!(
                a.contains("question number"),
                "opening refers to the prompt: {a}"
            );
            // Prompt markdown must not leak into the opening line.
            assert!(!a.lines().next().unwrap().contains('`'), "{a}");
        }
    }

    #[test]
    fn every_code_language_is_reachable() {
        let mut langs = std::collections::HashSet::new();
        for i in 0..200u64 {
            let a = answer(i, "a/b", "q");
            let lang = a
                .split("```")
                .nth(1)
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_string();
            langs.insert(lang);
        }
        assert_eq!(langs.len(), CODE.len(), "{langs:?}");
    }

    #[test]
    fn topic_is_clean_and_bounded() {
        assert_eq!(topic_of(""), "your question");
        assert_eq!(topic_of("   \n"), "your question");
        assert_eq!(topic_of("What is `x`?"), "What is x");
        let long = "one two three four five six seven eight nine ten eleven twelve thirteen";
        assert!(topic_of(long).ends_with("twelve…"));
    }
}
