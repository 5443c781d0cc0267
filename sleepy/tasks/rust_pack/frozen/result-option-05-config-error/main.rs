use std::num::ParseIntError;

#[derive(Debug)]
enum ConfigError {
    Missing(&'static str),
    BadNumber(ParseIntError),
}

struct Config {
    name: String,
    threads: u32,
}

fn load(text: &str) -> Result<Config, ConfigError> {
    let (mut name, mut threads) = (None, None);
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        match key.trim() {
            "name" => name = Some(value.trim().to_string()),
            "threads" => threads = Some(value.trim().parse::<u32>()?),
            _ => {}
        }
    }
    Ok(Config {
        name: name.ok_or(ConfigError::Missing("name"))?,
        threads: threads.ok_or(ConfigError::Missing("threads"))?,
    })
}

fn main() {
    for text in ["name: indexer\nthreads: 8", "name: mailer", "threads: many"] {
        match load(text) {
            Ok(c) => println!("{} runs {} threads", c.name, c.threads),
            Err(e) => println!("config error: {e:?}"),
        }
    }
}
