#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket {
    pub urgency: u8,
    pub number: u32,
    pub title: String,
}

pub fn triage(mut tickets: Vec<Ticket>) -> Vec<Ticket> {
    tickets.sort();
    tickets.reverse();
    tickets
}

fn main() {
    let queue = vec![
        Ticket { urgency: 1, number: 101, title: "typo on pricing page".into() },
        Ticket { urgency: 3, number: 102, title: "checkout down".into() },
        Ticket { urgency: 2, number: 103, title: "slow search".into() },
    ];
    for t in triage(queue) {
        println!("[{}] #{} {}", t.urgency, t.number, t.title);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(urgency: u8, number: u32) -> Ticket {
        Ticket { urgency, number, title: String::new() }
    }

    #[test]
    fn most_urgent_first() {
        let order: Vec<u32> = triage(vec![t(1, 1), t(3, 2), t(2, 3)]).iter().map(|x| x.number).collect();
        assert_eq!(order, vec![2, 3, 1]);
    }
}
