use std::collections::HashMap;

struct Track {
    artist: String,
    title: String,
    seconds: u32,
}

fn parse(line: &str) -> Track {
    let parts: Vec<&str> = line.split(" - ").collect();
    let (m, s) = parts[2].split_once(':').unwrap_or(("0", "0"));
    let seconds = m.parse::<u32>().unwrap_or(0) * 60 + s.parse::<u32>().unwrap_or(0);
    Track { artist: parts[0].to_string(), title: parts[1].to_string(), seconds }
}

fn main() {
    let lines = ["Nina Simone - Sinnerman - 10:21", "Can - Vitamin C - 3:32", "Nina Simone - Feeling Good - 2:53"];
    let tracks: Vec<Track> = lines.iter().map(|l| parse(l)).collect();

    let mut per_artist: HashMap<String, u32> = HashMap::new();
    for t in &tracks {
        *per_artist.entry(t.artist.clone()).or_insert(0) += t.seconds;
    }
    assert_eq!(per_artist["Nina Simone"], 794);

    let longest = tracks.iter().max_by_key(|t| t.seconds).unwrap();
    assert_eq!(longest.title, "Sinnerman");
    assert_eq!(longest.title.len(), 9);

    let titles: Vec<String> = tracks.into_iter().map(|t| t.title).collect();
    let total: usize = titles.iter().map(|t| t.len()).sum();
    println!("{} titles, {} characters: {:?}", titles.len(), total, titles);
    assert_eq!(titles.len(), 3);
}
