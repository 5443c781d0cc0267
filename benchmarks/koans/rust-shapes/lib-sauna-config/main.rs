//! Parsing for a sauna controller's settings file.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub target_celsius: i64,
    pub session_minutes: i64,
    pub values: BTreeMap<String, i64>,
}

pub fn parse_line(line: &str) -> Result<Option<(String, i64)>, String> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return Ok(None);
    }
    let (key, value) = line
        .split_once('=')
        .ok_or_else(|| format!("expected key = value, got {:?}", line))?;
    let number = value.trim().parse::<i64>()?;
    Ok(Some((key.trim().to_lowercase(), number)))
}

pub fn parse(text: &str) -> Result<Settings, String> {
    let mut values = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if let Some((k, v)) = parse_line(line).map_err(|e| format!("line {}: {}", n + 1, e))? {
            values.insert(k, v);
        }
    }
    let target_celsius = *values.get("target").unwrap_or(&80);
    let session_minutes = *values.get("minutes").unwrap_or(&15);
    if !(40..=110).contains(&target_celsius) {
        return Err(format!("target {} C is out of range", target_celsius));
    }
    Ok(Settings { target_celsius, session_minutes, values })
}
