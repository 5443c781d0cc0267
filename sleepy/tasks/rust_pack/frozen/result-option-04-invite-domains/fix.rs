use std::collections::HashMap;

fn main() {
    let book: HashMap<&str, String> = [
        ("ann", "ann@corp.example"),
        ("raj", "raj@mail.example"),
        ("zoe", "zoe@corp.example"),
        ("li", "li@uni.example"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();

    let invited = ["ann", "raj", "zoe"];
    let mut per_domain: HashMap<&str, usize> = HashMap::new();
    for who in invited {
        let address = book.get(who).expect("invited guests are in the book");
        let domain = address.rsplit('@').next().unwrap_or("");
        *per_domain.entry(domain).or_insert(0) += 1;
    }

    let mut rows: Vec<_> = per_domain.into_iter().collect();
    rows.sort();
    for (domain, n) in rows {
        println!("{domain}: {n}");
    }
}
