use std::collections::BTreeMap;

fn main() -> Result<(), std::num::ParseIntError> {
    let csv = "widget,4,2.50\ngadget,1,19.99\nwidget,2,2.50\ngizmo,12,0.75";
    let mut totals: BTreeMap<&str, f64> = BTreeMap::new();

    for line in csv.lines() {
        let fields: Vec<&str> = line.split(',').collect();
        let qty = fields[1].parse::<u32>()?;
        let price: f64 = fields[2].parse().unwrap_or(0.0);
        *totals.entry(fields[0]).or_insert(0.0) += qty as f64 * price;
    }

    for (product, sum) in &totals {
        println!("{:<8} {:>8.2}", product, sum);
    }
    println!("order total: {:.2}", totals.values().sum::<f64>());
    Ok(())
}
