use std::collections::HashMap;

// Reads key=value settings; a key that is not set falls back to its default.

fn parse_settings(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Timeout in seconds; 30 when not set.
fn timeout_secs(settings: &HashMap<String, String>) -> u32 {
    settings
        .get("timeout")
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Number of retries; 3 when not set.
fn retries(settings: &HashMap<String, String>) -> u32 {
    settings.get("retries").and_then(|v| v.parse().ok()).unwrap_or(3)
}

fn main() {
    let custom = parse_settings("timeout = 90\nretries=5\n");
    assert_eq!(timeout_secs(&custom), 90);
    assert_eq!(retries(&custom), 5);

    let defaults = parse_settings("# nothing configured yet\n");
    assert_eq!(timeout_secs(&defaults), 30);
    assert_eq!(retries(&defaults), 3);
    println!("settings ok");
}
