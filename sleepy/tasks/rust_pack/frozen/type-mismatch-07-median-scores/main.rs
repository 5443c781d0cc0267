fn median(values: &[i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 0 {
        Some((sorted[mid - 1] + sorted[mid]) as f64 / 2.0)
    } else {
        Some(sorted[mid] as f64)
    }
}

fn parse_scores(line: &str) -> Vec<i64> {
    line.split(',').filter_map(|s| s.trim().parse().ok()).collect()
}

fn main() {
    let scores = parse_scores("71, 88, 93, x, 64, 88");
    match median(scores) {
        Some(m) => println!("median of {} scores: {}", scores.len(), m),
        None => println!("no scores"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_and_even_lengths() {
        assert_eq!(median(&[5, 1, 3]), Some(3.0));
        assert_eq!(median(&parse_scores("10,20,30,40")), Some(25.0));
        assert_eq!(median(&[]), None);
    }
}
