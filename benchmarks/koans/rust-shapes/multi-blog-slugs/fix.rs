use std::num::ParseIntError;

struct Post {
    number: u32,
    title: String,
}

fn parse_header(line: &str) -> Result<Post, ParseIntError> {
    let (num, title) = line.split_once(':').unwrap_or((line, ""));
    let number = num.trim().parse::<u32>()?;
    Ok(Post { number, title: title.trim().to_string() })
}

fn slug(post: &Post) -> String {
    let words: Vec<String> = post
        .title
        .split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    format!("{:03}-{}", post.number, words.join("-"))
}

fn main() {
    let headers = ["7: Why Sourdough Fails", "12: Ten Knots, One Rope!", "x: broken"];
    let mut slugs = Vec::new();
    for h in headers {
        match parse_header(h) {
            Ok(post) => slugs.push(slug(&post)),
            Err(e) => println!("skipping {:?}: {}", h, e),
        }
    }
    assert_eq!(slugs, vec!["007-why-sourdough-fails", "012-ten-knots-one-rope"]);
}
