const TABLE: [(u32, &str); 13] = [
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"),
    (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
    (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
];

pub fn to_roman(mut n: u32) -> String {
    let mut out = String::new();
    for &(value, glyph) in TABLE.iter() {
        while n >= value {
            out.push_str(glyph);
            n -= value;
        }
    }
    out
}

fn digit(c: char) -> Option<u32> {
    match c {
        'I' => Some(1),
        'V' => Some(5),
        'X' => Some(10),
        'L' => Some(50),
        'C' => Some(100),
        'D' => Some(500),
        'M' => Some(1000),
        _ => None,
    }
}

pub fn from_roman(s: &str) -> Option<u32> {
    let values: Vec<u32> = s.chars().map(digit).collect::<Option<_>>()?;
    let mut total = 0;
    for (i, &v) in values.iter().enumerate() {
        match values.get(i + 1) {
            Some(&next) if next > v => total -= v as i64,
            _ => total += v as i64,
        }
    }
    u32::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_numbers() {
        assert_eq!(to_roman(4), "IV");
        assert_eq!(to_roman(14), "XIV");
        assert_eq!(to_roman(1994), "MCMXCIV");
    }

    #[test]
    fn parses_back() {
        assert_eq!(from_roman("MMXXVI"), Some(2026));
        assert_eq!(from_roman("XLII"), Some(42));
        assert_eq!(from_roman("ABC"), None);
    }

    #[test]
    fn round_trip() {
        for n in 1..=3999 {
            assert_eq!(from_roman(&to_roman(n)), Some(n));
        }
    }
}
