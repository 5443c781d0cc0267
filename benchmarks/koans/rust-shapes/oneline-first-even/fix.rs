fn first_even(xs: &[i32]) -> Option<i32> { xs.iter().copied().find(|x| x % 2 == 0) } fn main() { let n: Option<i32> = first_even(&[3, 7, 8, 5, 10]); assert_eq!(n, Some(8)); }
