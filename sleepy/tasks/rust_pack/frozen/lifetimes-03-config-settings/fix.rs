use std::collections::HashMap;

fn main() {
    let raw = ["host = example.org", "port=8080", "# comment", "retries = 3"];
    let mut settings: HashMap<String, String> = HashMap::new();
    for line in raw {
        let cleaned = line.replace(' ', "");
        if cleaned.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = cleaned.split_once('=') {
            settings.insert(key.to_string(), value.to_string());
        }
    }
    let mut keys: Vec<_> = settings.keys().collect();
    keys.sort();
    for k in keys {
        println!("{k} -> {}", settings[k]);
    }
}
