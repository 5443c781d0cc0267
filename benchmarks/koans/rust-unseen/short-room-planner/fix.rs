// Adds up the floor area of a flat's rooms to order flooring.

mod rooms {
    pub struct Room {
        pub name: String,
        width_m: f64,
        length_m: f64,
    }

    impl Room {
        pub fn new(name: &str, width_m: f64, length_m: f64) -> Room {
            Room { name: name.to_string(), width_m, length_m }
        }

        pub fn area(&self)
 -> f64 {
            self.width_m * self.length_m
        }
    }
}

use rooms::Room;

fn main() {
    let flat = vec![
        Room::new("kitchen", 3.0, 4.0),
        Room::new("hall", 1.5, 6.0),
        Room::new("study", 2.5, 3.0),
    ];
    let total: f64 = flat.iter().map(|r| r.area()).sum();
    // order 10% extra for cutting waste, in whole square metres
    let to_order = (total * 1.1).ceil() as u32;
    assert_eq!(total, 28.5);
    assert_eq!(to_order, 32);
    for room in &flat {
        println!("{}: {:.1} m2", room.name, room.area());
    }
}
