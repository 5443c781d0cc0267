fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

fn main() {
    let best = (1..=30u64)
        .map(|start| (start, collatz_steps(start)))
        .max_by_key(|&(_, steps)| steps)
        .unwrap();
    println!("longest chain under 30 starts at {} ({} steps)", best.0, best.1);
}

#[cfg(test)]
mod tests {
    use super::collatz_steps;

    #[test]
    fn one_is_already_done() {
        assert_eq!(collatz_steps(1), 0);
    }

    #[test]
    fn known_chains() {
        assert_eq!(collatz_steps(6), 8);
        assert_eq!(collatz_steps(27), 111);
    }
}
