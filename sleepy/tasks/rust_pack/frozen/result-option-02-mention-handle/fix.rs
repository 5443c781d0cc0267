struct User {
    id: u32,
    handle: String,
}

fn mention(users: &[User], id: u32) -> Option<String> {
    let user = users.iter().find(|u| u.id == id)?;
    Some(format!("@{}", user.handle))
}

fn main() {
    let users = vec![
        User { id: 7, handle: "marta".into() },
        User { id: 12, handle: "oleg".into() },
    ];
    let message = "ping #7 and #12 about #99";

    let rendered: Vec<String> = message
        .split_whitespace()
        .map(|word| match word.strip_prefix('#').and_then(|n| n.parse().ok()) {
            Some(id) => mention(&users, id).unwrap_or_else(|| "@unknown".to_string()),
            None => word.to_string(),
        })
        .collect();
    println!("{}", rendered.join(" "));
}
