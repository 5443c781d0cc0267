use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    WhiteWins,
    BlackWins,
    Draw,
}

struct Game {
    white: &'static str,
    black: &'static str,
    outcome: Outcome,
}

struct Club {
    ratings: HashMap<String, i32>,
    games_played: HashMap<String, u32>,
}

const K_NEW: f64 = 40.0;
const K_ESTABLISHED: f64 = 20.0;

impl Club {
    fn new() -> Self {
        Club { ratings: HashMap::new(), games_played: HashMap::new() }
    }

    fn join(&mut self, name: &str, rating: i32) {
        self.ratings.insert(name.to_string(), rating);
        self.games_played.insert(name.to_string(), 0);
    }

    fn rating(&self, name: &str) -> i32 {
        *self.ratings.get(name).unwrap_or(&1200)
    }

    fn k_factor(&self, name: &str) -> f64 {
        match self.games_played.get(name) {
            Some(&n) if n >= 30 => K_ESTABLISHED,
            _ => K_NEW,
        }
    }

    fn record(&mut self, game: &Game) {
        let (score_white, score_black) = match game.outcome {
            Outcome::WhiteWins => (1.0, 0.0),
            Outcome::BlackWins => (0.0, 1.0),
            Outcome::Draw => (0.5, 0.5),
        };
        let rw = self.rating(game.white);
        let rb = self.rating(game.black);
        let new_white = updated(rw, rb, score_white, self.k_factor(game.white));
        let new_black = updated(rb, rw, score_black, self.k_factor(game.black));
        self.ratings.insert(game.white.to_string(), new_white);
        self.ratings.insert(game.black.to_string(), new_black);
        for name in [game.white, game.black] {
            *self.games_played.entry(name.to_string()).or_insert(0) += 1;
        }
    }

    fn ranking(&self) -> Vec<(String, i32)> {
        let mut rows: Vec<(String, i32)> = self.ratings.iter().map(|(n, r)| (n.clone(), *r)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows
    }
}

fn expected_score(own: i32, other: i32) -> f64 {
    let diff = (other - own) as f64;
    1.0 / (1.0 + 10f64.powf(diff / 400.0))
}

fn updated(own: i32, other: i32, score: f64, k: f64) -> i32 {
    let change = k * (score - expected_score(own, other));
    own + change.round() as i32
}

fn print_table(rows: &[(String, i32)]) {
    println!("{:<4} {:<10} {:>6}", "#", "player", "elo");
    for (i, (name, elo)) in rows.iter().enumerate() {
        println!("{:<4} {:<10} {:>6}", i + 1, name, elo);
    }
}

fn main() {
    let mut club = Club::new();
    club.join("Ines", 1500);
    club.join("Tomasz", 1500);
    club.join("Aiko", 1650);
    club.join("Bram", 1320);

    assert!((expected_score(1500, 1500) - 0.5).abs() < 1e-9);

    let round = [
        Game { white: "Ines", black: "Tomasz", outcome: Outcome::WhiteWins },
        Game { white: "Aiko", black: "Bram", outcome: Outcome::Draw },
        Game { white: "Bram", black: "Ines", outcome: Outcome::BlackWins },
    ];
    for g in &round {
        club.record(g);
    }

    assert_eq!(club.rating("Tomasz"), 1480);
    assert!(club.rating("Ines") > 1520);
    assert!(club.rating("Aiko") < 1650);
    assert_eq!(club.games_played["Ines"], 2);

    let table = club.ranking();
    print_table(&table);
    assert_eq!(table[0].0, "Aiko");
    assert_eq!(table.last().unwrap().0, "Bram");
}
