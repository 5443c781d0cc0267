struct Leg {
    from: String,
    to: String,
    km: u32,
}

fn leg(from: &str, to: &str, km: u32) -> Leg {
    Leg { from: from.to_string(), to: to.to_string(), km }
}

fn layovers(legs: &[Leg]) -> Vec<String> {
    legs.windows(2)
        .filter(|w| w[0].to == w[1].from)
        .map(|w| &w[0].to)
        .collect()
}

fn describe(legs: &[Leg], traveller: &str) -> String {
    let total: u32 = legs.iter().map(|l| l.km).sum();
    format!("{}: {} legs, {} km", traveller, legs.len(), total)
}

fn main() {
    let trip = vec![
        leg("OSL", "AMS", 915),
        leg("AMS", "NBO", 6_640),
        leg("NBO", "ZNZ", 650),
    ];
    let stops = layovers(&trip);
    assert_eq!(stops, vec!["AMS".to_string(), "NBO".to_string()]);

    let summary = describe(&trip);
    println!("{}", summary);
    assert_eq!(summary, "Amara: 3 legs, 8205 km");

    let first: &str = &trip[0].from;
    assert_eq!(first, "OSL");
}
