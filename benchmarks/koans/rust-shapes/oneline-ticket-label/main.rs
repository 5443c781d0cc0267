struct Ticket { id: u32, label: String } fn main() { let t = Ticket { id: 17, label: "urgent" }; assert_eq!(t.label.len() as u32 + t.id, 23); }
