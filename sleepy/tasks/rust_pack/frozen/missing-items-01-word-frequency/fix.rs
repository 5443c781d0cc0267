use std::collections::HashMap;

fn word_counts(text: &str) -> Vec<(String, usize)> {
    let mut freq = HashMap::new();
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c: char| !c.is_alphabetic()).to_lowercase();
        if !word.is_empty() {
            *freq.entry(word).or_insert(0) += 1;
        }
    }
    let mut pairs: Vec<(String, usize)> = freq.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    pairs
}

fn main() {
    let text = "One fish, two fish. Red fish, blue fish!";
    for (word, count) in word_counts(text) {
        println!("{word:<6}{count}");
    }
}
