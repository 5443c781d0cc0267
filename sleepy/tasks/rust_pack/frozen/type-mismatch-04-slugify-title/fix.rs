/// Lowercases a title and joins its words with dashes: "Hello  World" -> "hello-world".
pub fn slugify(title: &str) -> String {
    title
        .trim()
        .to_lowercase()
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

pub fn permalink(year: u16, month: u8, title: &str) -> String {
    format!("/blog/{}/{:02}/{}", year, month, slugify(title))
}

pub fn unique_slug(title: &str, taken: &[String]) -> String {
    let base = slugify(title);
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{}-{}", base, n);
        n += 1;
    }
    candidate
}
