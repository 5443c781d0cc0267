use std::collections::HashMap;

// Word statistics for a short text: word count, average length,
// the most common word and the longest word.

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

fn average_len(words: &[String]) -> f64 {
    let letters: usize = words.iter().map(|w| w.chars().count()).sum();
    letters / words.len()
}

fn most_common(words: &[String]) -> Option<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for w in words {
        *counts.entry(w).or_insert(0) += 1;
    }
    // highest count wins; on a tie the alphabetically first word
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(w, n)| (w.to_string(), n))
}

fn main() {
    let ws = words("The cat sat on the mat. The mat was flat, and the cat was fat!");
    assert_eq!(ws.len(), 15);
    assert!((average_len(&ws) - 3.0).abs() < 1e-9);
    assert_eq!(most_common(&ws), Some(("the".to_string(), 4)));
    let longest: &String = ws.iter().max_by_key(|w| w.len());
    assert_eq!(longest, "flat");
    println!("{} words, longest {longest}", ws.len());
}
