struct LineItem {
    desc: String,
    qty: u32,
    unit_price: f64,
}

fn render(lines: &[LineItem], tax_rate: f64) -> String {
    let mut out = String::new();
    let mut subtotal = 0.0;
    for l in lines {
        let amount = l.qty as f64 * l.unit_price;
        subtotal += amount;
        writeln!(out, "{:<14}{:>3} x {:>7.2} = {:>8.2}", l.desc, l.qty, l.unit_price, amount).unwrap();
    }
    out.push_str(&format!("{:>26} {:>8.2}\n", "total incl. tax:", subtotal * (1.0 + tax_rate)));
    out
}

fn main() {
    let lines = vec![
        LineItem { desc: "Paper A4".into(), qty: 5, unit_price: 4.99 },
        LineItem { desc: "Stapler".into(), qty: 1, unit_price: 12.50 },
        LineItem { desc: "Pens (box)".into(), qty: 3, unit_price: 6.25 },
    ];
    print!("{}", render(&lines, 0.2));
}
