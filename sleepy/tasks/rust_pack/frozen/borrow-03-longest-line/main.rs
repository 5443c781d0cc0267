fn main() {
    let poem = "The fog comes\non little cat feet.\nIt sits looking\nover harbor and city\non silent haunches\nand then moves on.";

    let mut lines: Vec<String> = poem.lines().map(String::from).collect();

    let longest = lines
        .iter()
        .max_by_key(|l| l.chars().count())
        .unwrap();

    lines.push(format!("-- {} lines --", lines.len()));

    let words: usize = lines.iter().map(|l| l.split_whitespace().count()).sum();
    println!("longest line: {:?}", longest);
    println!("{} words including the footer", words);
    for l in &lines {
        println!("  {}", l);
    }
}
