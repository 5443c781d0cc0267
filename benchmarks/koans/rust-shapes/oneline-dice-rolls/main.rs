fn main() { let rolls = Vec::new(); for r in [4, 2, 6, 1] { rolls.push(r); } let total: i32 = rolls.iter().sum(); assert_eq!(total, 13); println!("rolled {:?} = {}", rolls, total); }
