struct Document {
    title: String,
    tags: Vec<String>,
}

impl Document {
    fn primary_tag<'a>(&'a self, fallback: &'a str) -> &'a str {
        match self.tags.first() {
            Some(tag) => tag,
            None => fallback,
        }
    }
}

fn main() {
    let docs = vec![
        Document { title: "Q3 roadmap".into(), tags: vec!["planning".into(), "q3".into()] },
        Document { title: "Lunch menu".into(), tags: Vec::new() },
    ];
    let default_label = String::from("untagged");
    for doc in &docs {
        println!("[{}] {}", doc.primary_tag(&default_label), doc.title);
    }
}
