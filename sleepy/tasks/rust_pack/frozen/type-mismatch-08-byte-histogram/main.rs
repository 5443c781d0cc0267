fn histogram(data: &[u8]) -> [usize; 256] {
    let mut counts = [0usize; 256];
    for b in data.iter() {
        counts[b as usize] += 1;
    }
    counts
}

fn main() {
    let text = "the quick brown fox jumps over the lazy dog";
    let counts = histogram(text.as_bytes());
    let mut top: Vec<(u8, usize)> = (0u16..256)
        .map(|b| (b as u8, counts[b as usize]))
        .filter(|&(b, n)| n > 0 && b != b' ')
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (byte, n) in top.iter().take(5) {
        println!("{:?}: {}", *byte as char, n);
    }
}
