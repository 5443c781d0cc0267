#[derive(Clone, Copy, PartialEq)]
enum Theme {
    Light,
    Dark,
}

#[derive(Default)]
struct Settings {
    volume: u8,
    fullscreen: bool,
    theme: Theme,
    nickname: String,
}

fn main() {
    let saved = "volume=70\ntheme=dark\nnickname=pixelfox";
    let mut s = Settings::default();

    for line in saved.lines() {
        match line.split_once('=') {
            Some(("volume", v)) => s.volume = v.parse().unwrap_or(50),
            Some(("fullscreen", v)) => s.fullscreen = v == "true",
            Some(("theme", "dark")) => s.theme = Theme::Dark,
            Some(("nickname", v)) => s.nickname = v.to_string(),
            _ => eprintln!("ignoring {line:?}"),
        }
    }

    let dark = s.theme == Theme::Dark;
    println!("{} vol={} fullscreen={} dark={}", s.nickname, s.volume, s.fullscreen, dark);
}
