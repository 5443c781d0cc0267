#[derive(Debug)]
struct Item {
    name: String,
    qty: u32,
    unit_price: f64,
}

fn inventory_value(items: &[Item]) -> f64 {
    items.iter().map(|i| i.qty as f64 * i.unit_price).sum()
}

fn main() {
    let stock = vec![
        Item { name: "bolt".to_string(), qty: 120, unit_price: 0.15 },
        Item { name: "nut".to_string(), qty: 300, unit_price: 0.05 },
        Item { name: "washer".to_string(), qty: 80, unit_price: 0.02 },
        Item { name: "hinge".to_string(), qty: 12, unit_price: 2.40 },
    ];

    let total = inventory_value(&stock);
    println!("inventory worth ${:.2}", total);

    for item in &stock {
        if item.qty < 100 {
            println!("reorder {} (only {} left)", item.name, item.qty);
        }
    }
}
