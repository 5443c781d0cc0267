use std::collections::HashMap;

struct Translations {
    entries: HashMap<String, String>,
}

impl Translations {
    fn new(pairs: &[(&str, &str)]) -> Self {
        let entries = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Translations { entries }
    }

    fn lookup(&self, key: &str) -> &str {
        let fallback = format!("??{}??", key);
        self.entries.get(key).map(|s| s.as_str()).unwrap_or(&fallback)
    }
}

fn main() {
    let fr = Translations::new(&[("hello", "bonjour"), ("bye", "au revoir")]);
    for word in ["hello", "thanks", "bye"] {
        println!("{word:>8} => {}", fr.lookup(word));
    }
}
