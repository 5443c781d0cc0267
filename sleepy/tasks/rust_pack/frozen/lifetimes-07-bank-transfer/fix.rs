#[derive(Debug)]
struct Account {
    owner: String,
    balance_cents: i64,
}

fn transfer(from: &mut Account, to: &mut Account, amount: i64) -> Result<(), String> {
    if from.balance_cents < amount {
        return Err(format!("{} has insufficient funds", from.owner));
    }
    from.balance_cents -= amount;
    to.balance_cents += amount;
    Ok(())
}

fn main() {
    let mut accounts = vec![
        Account { owner: "alice".into(), balance_cents: 10_000 },
        Account { owner: "bob".into(), balance_cents: 2_500 },
    ];
    let (head, tail) = accounts.split_at_mut(1);
    let payer = &mut head[0];
    let payee = &mut tail[0];
    match transfer(payer, payee, 4_000) {
        Ok(()) => println!("transfer done"),
        Err(e) => println!("failed: {e}"),
    }
    for a in &accounts {
        println!("{:<6} {:>8.2}", a.owner, a.balance_cents as f64 / 100.0);
    }
}
