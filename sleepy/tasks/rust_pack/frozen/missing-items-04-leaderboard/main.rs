#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub score: u32,
    pub time_ms: u64,
}

pub fn rank(a: &Entry, b: &Entry) -> Ordering {
    b.score.cmp(&a.score).then(a.time_ms.cmp(&b.time_ms))
}

pub fn leaderboard(mut entries: Vec<Entry>) -> Vec<String> {
    entries.sort_by(rank);
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{}. {} ({})", i + 1, e.name, e.score))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, score: u32, time_ms: u64) -> Entry {
        Entry { name: name.to_string(), score, time_ms }
    }

    #[test]
    fn ties_go_to_the_faster_player() {
        let board = leaderboard(vec![entry("ann", 80, 9000), entry("bo", 95, 12000), entry("cy", 80, 7000)]);
        assert_eq!(board, vec!["1. bo (95)", "2. cy (80)", "3. ann (80)"]);
    }
}
