// Builds price rules as closures and applies them to a basket (prices in cents).

fn percent_off(percent: u32) -> impl Fn(u32) -> u32 {
    |price| price - price * percent / 100
}

fn flat_off(amount: u32) -> Box<dyn Fn(u32) -> u32> {
    Box::new(move |price: u32| price.saturating_sub(amount))
}

fn main() {
    let summer_sale = percent_off(25);
    let coupon = flat_off(500);

    let basket = [2000u32, 1200, 400];
    let after_sale: Vec<u32> = basket.iter().map(|&p| summer_sale(p)).collect();
    assert_eq!(after_sale, vec![1500, 900, 300]);

    let total: u32 = after_sale.iter().sum();
    assert_eq!(coupon(total), 2200);
    assert_eq!(coupon(300), 0);
    println!("to pay: {}", coupon(total));
}
