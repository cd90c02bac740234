//! Words: the nearest known word to a misspelt one, for "unknown key `colour`: did you mean
//! `color`?", and counted nouns ("1 case", "3 cases").

/// `1 case`, `3 cases`.
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The candidate closest to `word` (edit distance, case-insensitive), when it is close enough
/// to be a likely typo: at most a third of the word's length, and at least 1.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let limit = (w.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// " (did you mean `x`?)" when a candidate is near, else "".
pub fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance over characters, with adjacent swaps counted once.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_finds_its_word_and_a_stranger_finds_none() {
        let keys = ["default_provider", "panes", "providers", "routing", "theme"];
        assert_eq!(nearest("pane", keys), Some("panes"));
        assert_eq!(nearest("provders", keys), Some("providers"));
        assert_eq!(nearest("Theem", keys), Some("theme"), "a swap and a case");
        assert_eq!(nearest("colour", keys), None);
        assert_eq!(suggestion("routnig", keys), " (did you mean `routing`?)");
        assert_eq!(suggestion("zzz", keys), "");
    }
}
