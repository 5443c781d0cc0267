use std::collections::BTreeMap;

#[derive(Default)]
struct Record {
    wins: u32,
    losses: u32,
}

struct League {
    table: BTreeMap<String, Record>,
}

impl League {
    fn player_mut(&mut self, name: &str) -> &mut Record {
        self.table.entry(name.to_string()).or_default()
    }

    fn report(&self) {
        for (name, r) in &self.table {
            println!("{:<6} {}-{}", name, r.wins, r.losses);
        }
    }
}

fn main() {
    let mut league = League { table: BTreeMap::new() };
    let results = [("ana", "ben"), ("cy", "ana"), ("ana", "dee")];

    for (winner, loser) in results {
        let w = league.player_mut(winner);
        let l = league.player_mut(loser);
        w.wins += 1;
        l.losses += 1;
    }

    league.report();
}
