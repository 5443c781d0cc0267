use std::collections::HashMap;
use std::fmt::Write;

const DOC: &str = "# Getting started
Some intro text.

## Install
Run the installer.

## Install
Yes, twice.

### On Linux
apt and friends.

```
# not a heading, this is code
```

## First steps & tips
Enjoy!
";

#[derive(Debug, PartialEq)]
struct Heading {
    level: usize,
    text: String,
    anchor: String,
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut last_dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            last_dash = false;
        } else if !last_dash && !out.is_empty() {
            out.push('-');
            last_dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn parse_heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &line[level..];
    if !rest.starts_with(' ') {
        return None;
    }
    Some((level, rest.trim()))
}

fn headings(doc: &str) -> Vec<Heading> {
    let mut found = Vec::new();
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut in_code = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if let Some((level, text)) = parse_heading(line) {
            let base = slug(text);
            let n = used.entry(base.clone()).or_insert(0);
            let anchor = if *n == 0 { base.clone() } else { format!("{}-{}", base, n) };
            *n += 1;
            found.push(Heading { level, text: text.to_string(), anchor });
        }
    }
    found
}

fn render_toc(items: &[Heading], max_level: usize) -> String {
    let mut out = String::new();
    let top = items.iter().map(|h| h.level).min().unwrap_or(1);
    for h in items.iter().filter(|h| h.level <= max_level) {
        let indent = "  ".repeat(h.level - top);
        writeln!(out, "{}- [{}](#{})", indent, h.text, h.anchor).unwrap();
    }
    out
}

fn main() {
    assert_eq!(slug("First steps & tips"), "first-steps-tips");
    assert_eq!(parse_heading("#nospace"), None);

    let hs = headings(DOC);
    assert_eq!(hs.len(), 5);
    assert_eq!(hs[1].anchor, "install");
    assert_eq!(hs[2].anchor, "install-1");
    assert_eq!(hs[3].level, 3);

    let toc = render_toc(&hs, 2);
    print!("{}", toc);
    assert_eq!(toc.lines().count(), 4);
    assert!(toc.contains("  - [First steps & tips](#first-steps-tips)"));
    assert!(!toc.contains("On Linux"));
}
