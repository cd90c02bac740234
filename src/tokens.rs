//! Token estimates for text still arriving (pure): each word is a token (a long one a token
//! per ten characters), each run of one punctuation character another, as BPE tokenizers
//! count English prose and code closely enough for a live figure. `usage` replaces it when an
//! answer ends.

/// Estimated tokens in `text`.
pub fn estimate(text: &str) -> u64 {
    let mut n = 0u64;
    let mut word = 0usize;
    let mut last_punct: Option<char> = None;
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            if word.is_multiple_of(10) {
                n += 1;
            }
            word += 1;
            last_punct = None;
        } else {
            word = 0;
            if c.is_whitespace() {
                last_punct = None;
            } else if last_punct != Some(c) {
                n += 1;
                last_punct = Some(c);
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_punctuation_runs_count_once_each() {
        assert_eq!(estimate(""), 0);
        assert_eq!(estimate("Hi, you!"), 4);
        assert_eq!(estimate("a\n```rust"), 3);
        assert_eq!(estimate("internationalization"), 2);
    }

    #[test]
    fn the_fleet_s_answers_are_estimated_within_ten_percent_of_its_tokens() {
        for seed in 0..20 {
            let text = crate::fleet::text::answer(seed, "m/x", "Explain quicksort");
            let real = crate::fleet::text::tokenize(&text).len() as f64;
            let est = estimate(&text) as f64;
            assert!(
                (est - real).abs() / real < 0.10,
                "seed {seed}: estimated {est}, the fleet sent {real}"
            );
        }
    }

    #[test]
    fn split_across_reads_the_estimate_adds_up() {
        // The fleet sends whole tokens per event, so a read never splits a word.
        let text = crate::fleet::text::answer(3, "m/x", "tell me a story");
        let toks = crate::fleet::text::tokenize(&text);
        let by_reads: u64 = toks.chunks(7).map(|c| estimate(&c.concat())).sum();
        let whole = estimate(&text) as f64;
        assert!(
            (by_reads as f64 - whole).abs() / whole < 0.05,
            "{by_reads} vs {whole}"
        );
    }
}
