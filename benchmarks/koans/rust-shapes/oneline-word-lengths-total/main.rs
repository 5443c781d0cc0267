fn main() { let words = ["ox", "yak", "gnu", "emu"]; let total: u32 = words.iter().map(|w| w.len()).sum(); assert_eq!(total, 11); }
