struct Round {
    player: &'static str,
    points: u32,
    bonus: bool,
}

fn main() {
    let rounds = [
        Round { player: "mia", points: 10, bonus: false },
        Round { player: "sam", points: 15, bonus: true },
        Round { player: "mia", points: 20, bonus: true },
        Round { player: "joe", points: 5, bonus: false },
    ];
    let mut totals: Vec<(&str, u32)> = Vec::new();
    for round in &rounds {
        let earned = if round.bonus { round.points * 2 } else { round.points };
        match totals.iter_mut().find(|(name, _)| *name == round.player) {
            Some((_, score)) => *score += earned,
            None => totals.push((round.player, earned)),
        }
    }
    totals.sort_by(|a, b| b.1.cmp(&a.1));
    for (rank, (name, score)) in totals.iter().enumerate() {
        println!("{}. {} - {} pts", rank + 1, name, score);
    }
}
