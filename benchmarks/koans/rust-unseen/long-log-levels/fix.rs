use std::collections::HashMap;

// Parses application log lines such as
//   2026-03-01T10:00:05 WARN disk: 91% used
// without copying them, and summarises what happened.

#[derive(Debug, PartialEq)]
struct Entry<'a> {
    timestamp: &'a str,
    level: &'a str,
    source: &'a str,
    message: &'a str,
}


fn parse_line(line: &str) -> Option<Entry> {
    let (timestamp, rest) = line.split_once(' ')?;
    let (level, rest) = rest.split_once(' ')?;
    let (source, message) = rest.split_once(": ")?;
    Some(Entry { timestamp, level, source, message: message.trim() })
}

fn parse_all(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse_line).collect()
}

fn count_by_level(entries: &[Entry]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for e in entries {
        *counts.entry(e.level.to_string()).or_insert(0) += 1;
    }
    counts
}

fn messages_from(entries: &[Entry], source: &str) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.source == source)
        .map(|e| e.message.to_string())
        .collect()
}

fn first_error(entries: &[Entry]) -> Option<usize> {
    entries.iter().position(|e| e.level == "ERROR")
}

fn main() {
    let log = "\
2026-03-01T10:00:00 INFO web: started on port 8080
2026-03-01T10:00:05 WARN disk: 91% used
garbage line
2026-03-01T10:01:12 ERROR db: connection refused
2026-03-01T10:01:13 INFO db: retrying   
2026-03-01T10:01:15 INFO db: connected
";
    let entries = parse_all(log);
    assert_eq!(entries.len(), 5);
    assert_eq!(
        entries[1],
        Entry { timestamp: "2026-03-01T10:00:05", level: "WARN", source: "disk", message: "91% used" }
    );

    let counts = count_by_level(&entries);
    assert_eq!(counts["INFO"], 3);
    assert_eq!(counts["ERROR"], 1);
    assert_eq!(counts.get("DEBUG"), None);

    assert_eq!(messages_from(&entries, "db"), vec!["connection refused", "retrying", "connected"]);
    assert_eq!(first_error(&entries), Some(2));
    println!("{} entries, levels: {:?}", entries.len(), counts);
}
