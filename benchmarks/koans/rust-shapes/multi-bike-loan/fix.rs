fn rate_for(months: u32) -> Option<f64> {
    match months {
        6 => Some(0.0),
        12 => Some(0.049),
        24 => Some(0.069),
        _ => None,
    }
}

fn monthly_payment(price: f64, months: u32, yearly_rate: f64) -> f64 {
    let total = price * (1.0 + yearly_rate * months as f64 / 12.0);
    (total / months as f64 * 100.0).round() / 100.0
}

fn main() {
    let price = 1_450.0;
    let months: u32 = 12;
    let rate = rate_for(months).unwrap_or(0.1);
    let pay = monthly_payment(price, months, rate);
    println!("{} months at {:.1}%: {:.2} per month", months, rate * 100.0, pay);
    assert_eq!(pay, 126.75);

    assert_eq!(rate_for(18), None);
    let plan: Vec<f64> = [6, 24]
        .iter()
        .filter_map(|&m| rate_for(m).map(|r| monthly_payment(price, m, r)))
        .collect();
    assert_eq!(plan, vec![241.67, 68.75]);
}
