fn main() {
    let header_line = String::from("Name, Email ,ROLE,  Team");
    let lowered = header_line.to_lowercase();
    let columns: Vec<&str> = lowered.split(',').map(str::trim).collect();
    let records = vec![
        "ana, ana@example.com, admin, core",
        "bo, bo@example.com, viewer, web",
    ];
    for rec in &records {
        let values: Vec<&str> = rec.split(',').map(str::trim).collect();
        for (col, val) in columns.iter().zip(values) {
            print!("{col}={val} ");
        }
        println!();
    }
}
