#[derive(Debug, Clone, Copy, PartialEq)]
enum Fare {
    Adult,
    Child,
    Bicycle,
    Car,
}

fn price(fare: Fare) -> u32 {
    match fare {
        Fare::Adult => 1_250,
        Fare::Child => 600,
        Fare::Bicycle => 300,
        Fare::Car => 4_800,
    }
}

fn deck_units(fare: Fare) -> u32 {
    match fare {
        Fare::Car => 10,
        Fare::Bicycle => 2,
        _ => 1,
    }
}

fn main() {
    let capacity = 40;
    let requests = [Fare::Car, Fare::Adult, Fare::Adult, Fare::Child, Fare::Car, Fare::Bicycle, Fare::Car, Fare::Car];

    let mut used = 0;
    let mut takings = 0;
    let mut refused = Vec::new();
    for fare in requests {
        if used + deck_units(fare) > capacity {
            refused.push(fare);
            continue;
        }
        used += deck_units(fare);
        takings += price(fare);
    }

    println!("deck {}/{} used, takings {} cents, refused {:?}", used, capacity, takings, refused);
    assert_eq!(used, 35);
    assert_eq!(takings, 17_800);
    assert_eq!(refused, vec![Fare::Car]);
}
