fn main() { let raw = "8080"; let port: u16 = raw.trim().parse()?; assert_eq!(port, 8080); println!("listening on {}", port); }
