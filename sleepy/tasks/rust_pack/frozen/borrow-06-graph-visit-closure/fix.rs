use std::collections::{HashMap, HashSet};

fn main() {
    let edges: HashMap<&str, Vec<&str>> = HashMap::from([
        ("app", vec!["http", "db"]),
        ("http", vec!["tls", "json"]),
        ("db", vec!["json", "pool"]),
        ("tls", vec![]),
        ("json", vec![]),
        ("pool", vec![]),
    ]);

    let mut order: Vec<String> = Vec::new();
    let mut visit = |node: &str, depth: usize| {
        println!("{}{}", "  ".repeat(depth), node);
        order.push(node.to_uppercase());
    };

    let mut seen = HashSet::new();
    let mut stack = vec![("app", 0)];
    while let Some((node, depth)) = stack.pop() {
        if !seen.insert(node) {
            continue;
        }
        visit(node, depth);
        for next in edges[node].iter().rev() {
            stack.push((*next, depth + 1));
        }
    }
    println!("visited {} packages: {}", seen.len(), order.join(" -> "));
}
