use std::collections::BTreeMap;

fn index_words<'a>(index: &mut BTreeMap<&'a str, usize>, text: &'a str) {
    let words = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty());
    for word in words {
        *index.entry(word).or_insert(0) += 1;
    }
}

fn main() {
    let chapters = vec![
        String::from("It was the best of times, it was the worst of times."),
        String::from("It was the age of wisdom; it was the age of foolishness."),
    ];
    let mut index = BTreeMap::new();
    for chapter in &chapters {
        index_words(&mut index, chapter);
    }
    let mut common: Vec<_> = index.into_iter().filter(|&(_, n)| n > 2).collect();
    common.sort_by(|a, b| b.1.cmp(&a.1));
    println!("{:?}", common);
}
