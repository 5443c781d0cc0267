#[derive(Debug)]
struct Entry<'a> {
    level: &'a str,
    message: &'a str,
}

fn parse_line(line: &str) -> Result<Entry<'_>, String> {
    let (level, message) = line.split_once(": ")?;
    if !["INFO", "WARN", "ERROR"].contains(&level) {
        return Err(format!("unknown level {level:?}"));
    }
    Ok(Entry { level, message })
}

fn main() {
    let log = "INFO: boot ok\nWARN: disk 91% full\nnonsense line\nERROR: db timeout\nTRACE: tick";
    let (mut warnings, mut errors) = (0, 0);
    for line in log.lines() {
        match parse_line(line) {
            Ok(Entry { level: "WARN", .. }) => warnings += 1,
            Ok(Entry { level: "ERROR", message }) => {
                errors += 1;
                println!("error: {message}");
            }
            Ok(_) => {}
            Err(e) => println!("skipped: {e}"),
        }
    }
    println!("{warnings} warnings, {errors} errors");
}
