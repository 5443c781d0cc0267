#[derive(Debug)]
struct Item {
    name: String,
    qty: u32,
    price_cents: u64,
}

fn stock_units(items: &[Item]) -> u64 {
    items.iter().map(|i| i.qty).sum()
}

fn stock_value(items: &[Item]) -> u64 {
    items.iter().map(|i| u64::from(i.qty) * i.price_cents).sum()
}

fn main() {
    let items = vec![
        Item { name: "bolt".to_string(), qty: 1200, price_cents: 4 },
        Item { name: "washer".to_string(), qty: 3400, price_cents: 1 },
        Item { name: "bracket".to_string(), qty: 75, price_cents: 129 },
    ];
    for item in &items {
        println!("{:<8} x{}", item.name, item.qty);
    }
    println!("units: {}", stock_units(&items));
    println!("value: ${:.2}", stock_value(&items) as f64 / 100.0);
}
