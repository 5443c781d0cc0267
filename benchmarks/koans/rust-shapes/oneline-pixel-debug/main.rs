struct Pixel { x: i32, y: i32 } fn main() { let p = Pixel { x: 3, y: -4 }; println!("cursor at {:?}", p); assert_eq!(p.x.abs() + p.y.abs(), 7); }
