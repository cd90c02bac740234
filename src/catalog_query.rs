//! The catalog browser's search (pure): one line typed, read as filter words and fuzzy text, and
//! the models that pass, sorted. Filter words: `free`, `img` (image input), `pdf` (file input),
//! `audio`, `json` (structured outputs), `tools`, `ctx>128k`, `$<1` (USD per million prompt
//! tokens at most), `@author`; every other word is searched for in ids and names.

use crate::wire::catalog::{Model, Pricing, SearchIndex};

/// What a search line asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Words searched for in ids and names.
    pub text: String,
    /// Only free models.
    pub free: bool,
    /// Input modalities every model must take (`image`, `file`, `audio`).
    pub inputs: Vec<&'static str>,
    /// Only models with structured outputs.
    pub structured: bool,
    /// Only models with tool calling.
    pub tools: bool,
    /// At least this context, tokens.
    pub min_context: Option<u64>,
    /// At most this prompt price, USD per million tokens.
    pub max_price: Option<f64>,
    /// Only this author (the id's part before `/`).
    pub author: Option<String>,
}

/// How the list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best match first (catalog order with no text).
    #[default]
    Relevance,
    /// Cheapest first (prompt + completion per token); unknown prices last.
    Price,
    /// Longest context first.
    Context,
    /// Newest first.
    Newest,
}

impl Sort {
    /// The next order, for the key that cycles them.
    pub fn next(self) -> Sort {
        match self {
            Sort::Relevance => Sort::Price,
            Sort::Price => Sort::Context,
            Sort::Context => Sort::Newest,
            Sort::Newest => Sort::Relevance,
        }
    }
    /// Its name on screen.
    pub fn label(self) -> &'static str {
        match self {
            Sort::Relevance => "best match",
            Sort::Price => "price",
            Sort::Context => "context",
            Sort::Newest => "newest",
        }
    }
}

/// A size written `128k`, `1m`, `200000` (tokens).
fn size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let (num, mult) = match s.strip_suffix('k') {
        Some(n) => (n, 1_000.0),
        None => match s.strip_suffix('m') {
            Some(n) => (n, 1_000_000.0),
            None => (s.as_str(), 1.0),
        },
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some((v * mult) as u64)
}

/// Reads a search line.
pub fn parse(line: &str) -> Query {
    let mut q = Query::default();
    let mut words = Vec::new();
    for w in line.split_whitespace() {
        let lower = w.to_ascii_lowercase();
        match lower.as_str() {
            "free" => q.free = true,
            "img" | "image" | "vision" => push(&mut q.inputs, "image"),
            "pdf" | "file" | "files" => push(&mut q.inputs, "file"),
            "audio" => push(&mut q.inputs, "audio"),
            "json" | "schema" | "structured" => q.structured = true,
            "tools" | "tool" => q.tools = true,
            _ => {
                if let Some(n) = lower
                    .strip_prefix("ctx>=")
                    .or_else(|| lower.strip_prefix("ctx>"))
                    .and_then(size)
                {
                    q.min_context = Some(n);
                } else if let Some(p) = lower
                    .strip_prefix("$<=")
                    .or_else(|| lower.strip_prefix("$<"))
                    .or_else(|| lower.strip_prefix("<$"))
                    .and_then(|p| p.parse::<f64>().ok())
                    .filter(|p| p.is_finite() && *p >= 0.0)
                {
                    q.max_price = Some(p);
                } else if let Some(a) = lower.strip_prefix('@').filter(|a| !a.is_empty()) {
                    q.author = Some(a.to_string());
                } else {
                    words.push(w);
                }
            }
        }
    }
    q.text = words.join(" ");
    q
}

fn push(v: &mut Vec<&'static str>, m: &'static str) {
    if !v.contains(&m) {
        v.push(m);
    }
}

impl Query {
    /// Whether `m` passes every filter (the text aside).
    pub fn admits(&self, m: &Model) -> bool {
        // Free: nothing per token for a text model (a zero-priced music model bills per clip).
        if self.free && !(m.is_free() || (m.pricing.is_zero() && only_text_out(m))) {
            return false;
        }
        if !self.inputs.is_empty() {
            let takes = m
                .architecture
                .as_ref()
                .map(|a| a.input_modalities.as_slice())
                .unwrap_or_default();
            if !self.inputs.iter().all(|i| takes.iter().any(|t| t == i)) {
                return false;
            }
        }
        if self.structured && !(m.supports("structured_outputs") || m.supports("response_format")) {
            return false;
        }
        if self.tools && !m.supports("tools") {
            return false;
        }
        if let Some(min) = self.min_context
            && m.context_length.is_none_or(|c| c < min)
        {
            return false;
        }
        if let Some(max) = self.max_price {
            match m.pricing.prompt {
                Some(p) if !p.is_variable() && p.per_million() <= max + 1e-12 => {}
                _ => return false,
            }
        }
        if let Some(a) = &self.author
            && !m
                .id
                .split_once('/')
                .is_some_and(|(author, _)| author.eq_ignore_ascii_case(a))
        {
            return false;
        }
        true
    }

    /// The filters in words, for the browser's header (empty: none).
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.free {
            out.push("free".into());
        }
        for i in &self.inputs {
            out.push(format!("takes {i}"));
        }
        if self.structured {
            out.push("structured outputs".into());
        }
        if self.tools {
            out.push("tools".into());
        }
        if let Some(c) = self.min_context {
            out.push(format!("context ≥ {}", context_label(c)));
        }
        if let Some(p) = self.max_price {
            out.push(format!("≤ ${p}/M in"));
        }
        if let Some(a) = &self.author {
            out.push(format!("by {a}"));
        }
        out
    }
}

fn only_text_out(m: &Model) -> bool {
    m.architecture
        .as_ref()
        .is_none_or(|a| a.output_modalities.iter().all(|o| o == "text"))
}

/// The models `q` admits, in `sort` order (indexing `models` first: a browser keeps its index).
pub fn run<'a>(models: &'a [Model], q: &Query, sort: Sort) -> Vec<&'a Model> {
    run_indexed(models, &SearchIndex::new(models), q, sort)
}

/// [`run`] with the catalog's index made once, as the browser does per keystroke.
pub fn run_indexed<'a>(
    models: &'a [Model],
    index: &SearchIndex,
    q: &Query,
    sort: Sort,
) -> Vec<&'a Model> {
    let mut hits: Vec<&Model> = index
        .filter(models, &q.text)
        .into_iter()
        .filter(|m| q.admits(m))
        .collect();
    // Stable sorts: equal keys keep the match order.
    match sort {
        Sort::Relevance => {}
        Sort::Price => hits.sort_by(|a, b| {
            let key = |m: &Model| total_price(&m.pricing).unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        }),
        Sort::Context => hits.sort_by_key(|m| std::cmp::Reverse(m.context_length.unwrap_or(0))),
        Sort::Newest => hits.sort_by_key(|m| std::cmp::Reverse(m.created.unwrap_or(i64::MIN))),
    }
    hits
}

/// Prompt plus completion price per token, when both are known and fixed.
fn total_price(p: &Pricing) -> Option<f64> {
    let (a, b) = (p.prompt?, p.completion?);
    (!a.is_variable() && !b.is_variable()).then(|| a.per_token() + b.per_token())
}

/// Prices as people read them: `$0.15/M in · $0.60/M out`, `free`, `varies`, `price unknown`.
pub fn price_label(p: &Pricing) -> String {
    match (p.prompt, p.completion) {
        (Some(a), Some(b)) if a.is_variable() || b.is_variable() => "varies by route".into(),
        (Some(a), Some(b)) if a.is_zero() && b.is_zero() => "free".into(),
        (Some(a), Some(b)) => format!(
            "${}/M in · ${}/M out",
            per_million(a.per_million()),
            per_million(b.per_million())
        ),
        _ => "price unknown".into(),
    }
}

/// `0.15`, `3`, `0.075`, `15`: no trailing zeros beyond two decimals.
fn per_million(v: f64) -> String {
    let s = format!("{v:.4}");
    let t = s.trim_end_matches('0').trim_end_matches('.');
    match t.split_once('.') {
        Some((_, f)) if f.len() == 1 => format!("{t}0"),
        _ => t.to_string(),
    }
}

/// A context length as people read it: `8k`, `128k`, `1M`, `1.05M`.
pub fn context_label(n: u64) -> String {
    if n >= 1_000_000 {
        let m = n as f64 / 1e6;
        let s = format!("{m:.2}");
        format!("{}M", s.trim_end_matches('0').trim_end_matches('.'))
    } else if n >= 1_000 {
        format!("{}k", (n as f64 / 1e3).round() as u64)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_words_are_read_and_the_rest_is_text() {
        let q = parse("gemini free img ctx>128k $<0.5 @google json tools pro");
        assert_eq!(q.text, "gemini pro");
        assert!(q.free && q.structured && q.tools);
        assert_eq!(q.inputs, ["image"]);
        assert_eq!(q.min_context, Some(128_000));
        assert_eq!(q.max_price, Some(0.5));
        assert_eq!(q.author.as_deref(), Some("google"));
        assert_eq!(parse("ctx>1m").min_context, Some(1_000_000));
        assert_eq!(
            parse("ctx>lots").text,
            "ctx>lots",
            "not a filter: searched for"
        );
    }

    #[test]
    fn labels_read_like_prices_and_sizes() {
        assert_eq!(context_label(131_072), "131k");
        assert_eq!(context_label(1_048_576), "1.05M");
        assert_eq!(context_label(1_000_000), "1M");
        assert_eq!(context_label(8_192), "8k");
        let p: Pricing =
            serde_json::from_str(r#"{"prompt":"0.00000015","completion":"0.0000006"}"#).unwrap();
        assert_eq!(price_label(&p), "$0.15/M in · $0.60/M out");
        let p: Pricing =
            serde_json::from_str(r#"{"prompt":"0.000003","completion":"0.000015"}"#).unwrap();
        assert_eq!(price_label(&p), "$3/M in · $15/M out");
        let p: Pricing = serde_json::from_str(r#"{"prompt":"0","completion":"0"}"#).unwrap();
        assert_eq!(price_label(&p), "free");
        assert_eq!(price_label(&Pricing::default()), "price unknown");
    }
}
