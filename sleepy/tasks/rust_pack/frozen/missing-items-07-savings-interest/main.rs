mod bank {
    pub struct Account {
        pub owner: String,
        balance_cents: i64,
    }

    impl Account {
        pub fn open(owner: &str) -> Account {
            Account { owner: owner.to_string(), balance_cents: 0 }
        }

        pub fn deposit(&mut self, cents: i64) {
            self.balance_cents += cents;
        }

        pub fn balance(&self) -> i64 {
            self.balance_cents
        }
    }

    fn apply_interest(account: &mut Account, basis_points: i64) {
        account.balance_cents += account.balance_cents * basis_points / 10_000;
    }
}

fn main() {
    let mut savings = bank::Account::open("dana");
    savings.deposit(50_000);
    for year in 1..=3 {
        bank::apply_interest(&mut savings, 125);
        println!("year {year}: {} has {:.2}", savings.owner, savings.balance() as f64 / 100.0);
    }
}
