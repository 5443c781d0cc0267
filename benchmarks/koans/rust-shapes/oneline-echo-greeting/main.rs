fn main() { let greeting = String::from("hello there"); let loud = greeting; assert_eq!(loud.to_uppercase(), "HELLO THERE"); println!("{} / {}", greeting, loud.to_uppercase()); }
