fn print_table<V>(title: &str, rows: &[(&str, V)]) {
    println!("== {} ==", title);
    for (label, value) in rows {
        println!("{:<12}{:>10}", label, value);
    }
    println!("{} rows\n", rows.len());
}

fn main() {
    let sales = [("January", 1200), ("February", 950), ("March", 1430)];
    print_table("Sales", &sales);

    let latency = [("eu-west", 23.4), ("us-east", 88.1), ("ap-south", 141.9)];
    print_table("Latency ms", &latency);
}
