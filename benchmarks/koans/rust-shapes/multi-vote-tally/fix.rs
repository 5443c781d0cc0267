use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Candidate {
    Okafor,
    Lindqvist,
    Moreau,
}

fn first_preferences(ballots: &[Vec<Candidate>]) -> HashMap<Candidate, u32> {
    let mut counts = HashMap::new();
    for ballot in ballots {
        if let Some(&first) = ballot.first() {
            *counts.entry(first).or_insert(0) += 1;
        }
    }
    counts
}

fn winner(counts: &HashMap<Candidate, u32>) -> Option<Candidate> {
    let total: u32 = counts.values().sum();
    counts.iter().find(|(_, &n)| n * 2 > total).map(|(&c, _)| c)
}

fn main() {
    use Candidate::*;
    let mut ballots = vec![
        vec![Okafor, Moreau],
        vec![Lindqvist, Okafor],
        vec![Okafor],
        vec![],
    ];
    ballots.push(vec![Okafor, Lindqvist, Moreau]);

    let counts = first_preferences(&ballots);
    assert_eq!(counts[&Okafor], 3);
    assert_eq!(counts.get(&Moreau), None);
    assert_eq!(winner(&counts), Some(Okafor));
    println!("{:?}", counts);
}
