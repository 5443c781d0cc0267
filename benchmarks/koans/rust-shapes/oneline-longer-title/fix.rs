fn longer<'a>(a: &'a str, b: &'a str) -> &'a str { if a.len() >= b.len() { a } else { b } } fn main() { assert_eq!(longer("Dune", "Solaris"), "Solaris"); }
