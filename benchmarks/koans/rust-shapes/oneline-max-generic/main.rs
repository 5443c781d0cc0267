fn largest<T>(xs: &[T]) -> &T { let mut best = &xs[0]; for x in xs { if x > best { best = x; } } best } fn main() { assert_eq!(*largest(&[4, 9, 2]), 9); assert_eq!(*largest(&['q', 'z', 'a']), 'z'); }
