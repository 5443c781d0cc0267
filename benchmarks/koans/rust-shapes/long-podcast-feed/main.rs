use std::collections::BTreeMap;

const FEED: &str = "\
show=Night Owls|title=Pilot|minutes=42|tags=intro,talk
show=Night Owls|title=Moths and Lamps|minutes=57|tags=nature
show=Deep Cuts|title=B-sides of 1979|minutes=64|tags=music,history
bad line without fields
show=Deep Cuts|title=Liner Notes|minutes=abc|tags=music
show=Deep Cuts|title=Vinyl Care|minutes=31|tags=music,howto
";

#[derive(Debug)]
struct Episode<'a> {
    show: &'a str,
    title: &'a str,
    minutes: u32,
    tags: Vec<&'a str>,
}

#[derive(Debug, PartialEq)]
enum FeedError {
    MissingField(&'static str),
    BadMinutes(String),
}

fn field<'a>(parts: &[(&'a str, &'a str)], key: &'static str) -> Result<&'a str, FeedError> {
    parts
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .ok_or(FeedError::MissingField(key))
}

fn parse_line(line: &str) -> Result<Episode<'_>, FeedError> {
    let parts: Vec<(&str, &str)> = line
        .split('|')
        .filter_map(|p| p.split_once('='))
        .collect();
    let show = field(&parts, "show")?;
    let title = field(&parts, "title")?;
    let minutes_raw = field(&parts, "minutes")?;
    let minutes = minutes_raw
        .parse()
        .map_err(|_| FeedError::BadMinutes(minutes_raw.to_string()))?;
    let tags = field(&parts, "tags").map(|t| t.split(',').collect()).unwrap_or_default();
    Ok(Episode { show, title, minutes, tags })
}

fn parse_feed(text: &str) -> (Vec<Episode<'_>>, Vec<FeedError>) {
    let mut episodes = Vec::new();
    let mut errors = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match parse_line(line) {
            Ok(ep) => episodes.push(ep),
            Err(e) => errors.push(e),
        }
    }
    (episodes, errors)
}

fn minutes_per_show<'a>(episodes: &[Episode<'a>]) -> BTreeMap<&'a str, u32> {
    let mut totals = BTreeMap::new();
    for ep in episodes {
        *totals.entry(ep.show).or_insert(0) += ep.minutes;
    }
    totals
}

fn longest_title(episodes: &[Episode], fallback: &str) -> &str {
    episodes
        .iter()
        .max_by_key(|ep| ep.minutes)
        .map(|ep| ep.title)
        .unwrap_or(fallback)
}

fn tagged<'a, 'b>(episodes: &'b [Episode<'a>], tag: &str) -> Vec<&'b Episode<'a>> {
    episodes.iter().filter(|ep| ep.tags.contains(&tag)).collect()
}

fn format_duration(minutes: u32) -> String {
    if minutes >= 60 {
        format!("{}h {:02}m", minutes / 60, minutes % 60)
    } else {
        format!("{}m", minutes)
    }
}

fn main() {
    let (episodes, errors) = parse_feed(FEED);
    assert_eq!(episodes.len(), 4);
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0], FeedError::MissingField("show"));
    assert_eq!(errors[1], FeedError::BadMinutes("abc".to_string()));

    let totals = minutes_per_show(&episodes);
    for (show, mins) in &totals {
        println!("{:<12} {}", show, format_duration(*mins));
    }
    assert_eq!(totals["Night Owls"], 99);
    assert_eq!(format_duration(95), "1h 35m");

    assert_eq!(longest_title(&episodes, "none"), "B-sides of 1979");
    assert_eq!(longest_title(&[], "none"), "none");

    let music = tagged(&episodes, "music");
    assert_eq!(music.len(), 2);
    println!("music episodes: {:?}", music.iter().map(|e| e.title).collect::<Vec<_>>());
}
