// Tracks cars in a parking garage and charges 2.50 per started hour.

mod garage {
    use std::collections::HashMap;

    pub struct Garage {
        capacity: usize,
        parked: HashMap<String, u32>, // plate -> minute of arrival
    }

    impl Garage {
        pub fn new(capacity: usize) -> Self {
            Garage { capacity, parked: HashMap::new() }
        }

        pub fn enter(&mut self, plate: &str, minute: u32) -> bool {
            if self.parked.len() >= self.capacity || self.parked.contains_key(plate) {
                return false;
            }
            self.parked.insert(plate.to_string(), minute);
            true
        }

        /// The fee in cents, or None when the car is not in the garage.
        pub fn leave(&mut self, plate: &str, minute: u32) -> Option<u32> {
            let arrived = self.parked.remove(plate)?;
            let hours = (minute - arrived + 59) / 60;
            Some(hours.max(1) * 250)
        }

        pub fn free_spaces(&self) -> usize {
            self.capacity - self.parked.len()
        }
    }
}

fn main() {
    let mut g = garage::Garage::new(2);
    assert!(g.enter("AB-123", 0));
    assert!(g.enter("XY-987", 30));
    assert!(!g.enter("QQ-555", 40));
    assert_eq!(g.free_spaces(), 0);

    let fee = match g.leave("AB-123", 150) {
        Some(cents) => cents,
        None => panic!
("car should be parked"),
    };
    assert_eq!(fee, 750);
    assert_eq!(g.leave("AB-123", 200), None);
    assert_eq!(g.leave("XY-987", 45), Some(250));
    println!("fee paid: {}.{:02}", fee / 100, fee % 100);
}
