#[derive(Clone, Copy)]
enum Tier {
    Guest,
    Member,
    Gold,
}

fn discount_rate(tier: Tier, basket_total: f64) -> f64 {
    let base = match tier {
        Tier::Guest => 0.0,
        Tier::Member => 0.05,
        Tier::Gold => 0.12,
    };
    let bulk = if basket_total > 200.0 { 0.03 } else { 0.0 };
    base + bulk
}

fn main() {
    let orders = [(Tier::Guest, 45.0), (Tier::Member, 250.0), (Tier::Gold, 80.5)];
    for (tier, total) in orders {
        let rate = discount_rate(tier, total);
        println!("total {:>7.2} -> pay {:>7.2}", total, total * (1.0 - rate));
    }
}
