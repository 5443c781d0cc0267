mod books {
    pub struct Ledger {
        pub title: String,
        entries: Vec<i64>,
    }

    impl Ledger {
        pub fn new(title: &str) -> Self {
            Ledger { title: title.to_string(), entries: Vec::new() }
        }

        pub fn post(&mut self, amount: i64) {
            self.entries.push(amount);
        }

        pub fn close(self) -> i64 {
            self.entries.into_iter().sum()
        }
    }
}

use books::Ledger;

fn main() {
    let mut ledger = Ledger::new("March petty cash");
    for amount in [200, -35, -12, -48, 60] {
        ledger.post(amount);
    }

    let heading = &ledger.title;
    let balance = ledger.close();
    println!("{}: closed at {}", heading, balance);
}
