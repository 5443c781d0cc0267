fn longer_name<'a>(first: &'a str, second: &'a str) -> &'a str {
    if second.chars().count() > first.chars().count() {
        second
    } else {
        first
    }
}

fn main() {
    let roster = vec!["Ada", "Grace", "Barbara", "Linus", "Margaret"];
    let mut best = roster[0];
    for name in &roster[1..] {
        best = longer_name(best, name);
    }
    println!("longest name on the roster: {best}");
}
